"""Exceptions of opencl_raw.

- :class:`CLError` is raised for a failed OpenCL call. It carries ``.code``
  (an int), ``.name`` (``'CL_INVALID_VALUE'``) and ``.function``
  (``'clCreateBuffer'``). There is one subclass per error code of ``cl.h`` and
  ``cl_ext.h``, named in CamelCase from the CL name (``InvalidValue``,
  ``BuildProgramFailure``, ``InvalidCommandBufferKhr``), so ``except`` can be
  precise. ``CLError(code)`` and ``CLError.from_code(code)`` build the right
  subclass; unknown and vendor codes give a plain ``CLError`` showing the number.
- :class:`LibraryNotFoundError`: no OpenCL library could be loaded.
- :class:`FunctionUnavailableError`: the loaded library or driver lacks a function.
- :class:`ReleasedHandleError`: a handle object was used after ``release()``.
- :class:`OpenCLRawWarning`: the category of warnings this package issues
  (for example a failure inside a destructor).

This module needs only the standard library and the generated tables.
"""
from __future__ import annotations


from ._generated import ERROR_CODES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Mapping, Optional, Type


__all__ = [
    "CLError", "LibraryNotFoundError", "FunctionUnavailableError", "ReleasedHandleError",
    "OpenCLRawWarning", "error_name",
]


def error_name(code: int) -> str:
    """The CL name of an error code, e.g. ``error_name(-30) == 'CL_INVALID_VALUE'``.

    ``0`` is ``'CL_SUCCESS'``; an unknown or vendor code gives ``'CL_UNKNOWN_ERROR(-9999)'``.
    Never raises for an int.
    """
    if code == 0:
        return "CL_SUCCESS"
    names = ERROR_CODES.get(code)
    return names[0] if names else f"CL_UNKNOWN_ERROR({code})"


def _camel(cl_name: str) -> str:
    return "".join(word.capitalize() for word in cl_name[3:].split("_"))


class CLError(Exception):
    """An OpenCL call returned an error code.

    Attributes:
        code: the ``cl_int`` error code (negative).
        name: its CL name, e.g. ``'CL_INVALID_VALUE'``.
        function: the C function that failed, e.g. ``'clCreateBuffer'``, or None.
        detail: extra text from the binding, or None.
        build_logs: for build, compile and link failures, a mapping from
            device to build log (``str``); empty otherwise.

    ``CLError(code, function)`` returns an instance of the subclass for ``code``.
    """

    code: int = 0
    _by_code: Dict[int, Type["CLError"]] = {}

    def __new__(cls, code: Optional[int] = None, function: Optional[str] = None, detail: Optional[str] = None,
                build_logs: Optional[Mapping] = None):
        if cls is CLError:
            cls = CLError._by_code.get(code, CLError)
        return super().__new__(cls)

    def __init__(self, code: Optional[int] = None, function: Optional[str] = None, detail: Optional[str] = None,
                 build_logs: Optional[Mapping] = None):
        # A subclass made without a code (InvalidValue()) keeps its own code.
        self.code = type(self).code if code is None else int(code)
        super().__init__(self.code, function, detail)
        self.name = error_name(self.code)
        self.function = function
        self.detail = detail
        self.build_logs = dict(build_logs or {})

    @classmethod
    def from_code(cls, code: int, function: Optional[str] = None, detail: Optional[str] = None,
                  build_logs: Optional[Mapping] = None) -> "CLError":
        """An exception instance of the subclass for ``code`` (CLError for unknown codes)."""
        return CLError(code, function, detail, build_logs)

    @staticmethod
    def class_for(code: int) -> Type["CLError"]:
        """The exception class for ``code``: e.g. ``InvalidValue`` for -30, CLError if unknown."""
        return CLError._by_code.get(code, CLError)

    def __reduce__(self):
        return (CLError, (self.code, self.function, self.detail, self.build_logs))

    def __str__(self) -> str:
        text = f"{self.function + ': ' if self.function else ''}{self.name} ({self.code})"
        if self.detail:
            text += f": {self.detail}"
        for device, log in self.build_logs.items():
            text += f"\n--- build log for device {device} ---\n{log.rstrip()}"
        return text


def _make_error_classes() -> Dict[str, Type[CLError]]:
    classes = {}
    for code, names in ERROR_CODES.items():
        cls = type(_camel(names[0]), (CLError,), {
            "__doc__": f"{names[0]} ({code}).",
            "__module__": __name__,
            "code": code,
        })
        CLError._by_code[code] = cls
        for name in names:
            classes[_camel(name)] = cls
    return classes


_ERROR_CLASSES = _make_error_classes()
globals().update(_ERROR_CLASSES)
__all__ += sorted(_ERROR_CLASSES)


class LibraryNotFoundError(OSError):
    """No OpenCL library could be loaded; the message lists what was tried and how to install one."""


class FunctionUnavailableError(RuntimeError):
    """The loaded OpenCL library or driver does not provide a function.

    Attributes: ``function`` (the C name) and ``requirement`` (``'OpenCL 2.0'`` or an extension name).
    """

    def __init__(self, function: str, requirement: str, reason: str):
        super().__init__(f"{function} is unavailable ({reason}); it needs {requirement}")
        self.function = function
        self.requirement = requirement
        self.reason = reason

    def __reduce__(self):
        return (type(self), (self.function, self.requirement, self.reason))


class ReleasedHandleError(ValueError):
    """An OpenCL handle object was used after it was released."""


class OpenCLRawWarning(RuntimeWarning):
    """Warnings from opencl_raw, e.g. an error while releasing a handle in a destructor."""
