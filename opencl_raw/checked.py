"""The OpenCL C API with errors raised instead of returned.

For every function of :mod:`opencl_raw.raw` there is a function here with the
same name and the same positional arguments, with two differences:

- a ``cl_int`` status other than ``CL_SUCCESS`` raises :class:`~opencl_raw.errors.CLError`
  (the subclass for the code, with ``.code``, ``.name`` and ``.function``); on
  success the function returns None;
- a trailing ``cl_int *errcode_ret`` parameter is dropped: the function returns
  the created object and raises if the error code is not ``CL_SUCCESS``.

``clBuildProgram``, ``clCompileProgram`` and ``clLinkProgram`` failures carry
``.build_logs`` (device handle value -> log text), also shown by ``str()``.
``clSVMAlloc`` returning NULL raises MemoryError.  A wrong Python argument type
raises TypeError naming the parameter; a released handle object raises
ReleasedHandleError.  Nothing else is added to a call.

Other functions (``void`` or pointer results without an error code) behave as
in :mod:`opencl_raw.raw`.  Extension functions: :func:`get_extension_function`.
"""
from __future__ import annotations

import ctypes

from . import raw
from ._icd import _INVALID_HANDLE
from .errors import CLError, FunctionUnavailableError, ReleasedHandleError
from .raw import FUNCTIONS, _Proto

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Dict, List


__all__ = sorted(FUNCTIONS) + ["get_extension_function"]

_BUILD_FUNCTIONS = {"clBuildProgram", "clCompileProgram", "clLinkProgram"}
_BUILD_LOG_CODES = {raw.CL_BUILD_PROGRAM_FAILURE, raw.CL_COMPILE_PROGRAM_FAILURE, raw.CL_LINK_PROGRAM_FAILURE}


def _type_error(proto: _Proto, exc: ctypes.ArgumentError, args: tuple = ()) -> Exception:
    # A released handle object fails ctypes' conversion; report that as ReleasedHandleError.
    for arg in args:
        try:
            getattr(arg, "_as_parameter_", None)
        except ReleasedHandleError as released:
            return ReleasedHandleError(f"{proto.name}: {released}")
    # ctypes says "argument 3: TypeError: wrong type"; name the parameter instead.
    text = str(exc)
    try:
        index = int(text.split(":")[0].split()[1]) - 1
        name, _, c_type = proto.params[index]
        return TypeError(f"{proto.name}: parameter {name!r} ({c_type}): {text.split(':', 1)[1].strip()}")
    except (IndexError, ValueError):
        return TypeError(f"{proto.name}: {text}")


def build_logs(program, devices=None) -> Dict[int, str]:
    """Build logs of ``program``: ``{device handle value: log}`` (``clGetProgramBuildInfo``).

    ``devices`` defaults to all devices of the program.  Never raises: a log that
    cannot be read is left out.
    """
    try:
        if devices is None:
            n = raw.cl_uint()
            if raw.clGetProgramInfo(program, raw.CL_PROGRAM_NUM_DEVICES, ctypes.sizeof(n), ctypes.byref(n), None):
                return {}
            devices = (raw.cl_device_id * n.value)()
            if raw.clGetProgramInfo(program, raw.CL_PROGRAM_DEVICES, ctypes.sizeof(devices), devices, None):
                return {}
        logs = {}
        for device in devices:
            size = ctypes.c_size_t()
            if raw.clGetProgramBuildInfo(program, device, raw.CL_PROGRAM_BUILD_LOG, 0, None, ctypes.byref(size)):
                continue
            text = ctypes.create_string_buffer(size.value + 1)
            if raw.clGetProgramBuildInfo(program, device, raw.CL_PROGRAM_BUILD_LOG, size.value, text, None):
                continue
            value = device.value if isinstance(device, ctypes.c_void_p) else int(device)
            logs[value] = text.value.decode("utf-8", "replace")
        return logs
    except (FunctionUnavailableError, ctypes.ArgumentError, TypeError):
        return {}


def _build_error(name: str, code: int, args) -> CLError:
    program = args[0]
    devices = None
    if name != "clLinkProgram" and args[1] and args[2] and hasattr(args[2], "__getitem__"):  # byref(): all devices
        devices = [args[2][i] for i in range(args[1])]
    return CLError(code, name, build_logs=build_logs(program, devices))


# ctypes' c_void_p, and so the handle types, take str and bytes as pointers to their text: a
# driver would then read text as an object. The checked layer refuses them (TypeError).
_TEXT = (str, bytes)


def _handle_guard(proto: _Proto):
    """(first_type, others, guard) for ``proto``'s handle parameters.

    ``first_type``: the handle type of the first parameter, or None; a call whose first
    argument is a non-NULL instance of exactly that type skips ``guard`` for it (the fast
    path). ``others``: the indexes of the other handle parameters, whose arguments are
    checked for text on every call. ``guard(args)`` raises TypeError naming a handle parameter
    given a str or bytes, and CLError with the code ICD loaders return (CL_INVALID_<TYPE>) for
    a NULL first handle other than a platform (a NULL platform means the default one).
    """
    positions = tuple(i for i, param in enumerate(proto.params)
                      if isinstance(param[1], type) and issubclass(param[1], raw._Handle))
    first_type = proto.params[0][1] if positions[:1] == (0,) else None
    null_code = 0 if first_type in (None, raw.cl_platform_id) else _INVALID_HANDLE.get(first_type.__name__, 0)

    def guard(args: tuple) -> None:
        for i in positions:
            if i < len(args) and args[i].__class__ in _TEXT:
                name, _, c_type = proto.params[i]
                raise TypeError(f"{proto.name}: parameter {name!r} ({c_type}) must be a handle, "
                                f"got {type(args[i]).__name__}")
        if null_code and args:
            first = args[0]
            if first is None or (isinstance(first, ctypes.c_void_p) and not first.value) or \
                    (type(first) is int and first == 0):
                raise CLError(null_code, proto.name)

    return first_type, positions[1:] if first_type is not None else positions, guard


def _returning_checked(proto: _Proto, fn=None, errcode: bool = False) -> Callable:
    """The checked wrapper of a function that returns a cl_int status, or (``errcode``) one
    that reports it through its last parameter, ``errcode_ret``, which the wrapper supplies."""
    name = proto.name
    build = name in _BUILD_FUNCTIONS and name != "clLinkProgram"
    link = name == "clLinkProgram"
    cl_int, byref = raw.cl_int, ctypes.byref
    first_type, others, guard = _handle_guard(proto)

    def fail(status: int, result, args: tuple):
        if link and result:
            # A failed link still returns a program holding the log; report it and let it go.
            logs = build_logs(result)
            raw.clReleaseProgram(result)
            raise CLError(status, name, build_logs=logs)
        if build and status in _BUILD_LOG_CODES:
            raise _build_error(name, status, args)
        raise CLError(status, name)

    if not errcode and first_type is not None and not others:
        # The most common shape (a status, one handle parameter first: clGetDeviceInfo,
        # clFinish, clReleaseEvent, ...) gets a wrapper with nothing else to look at.
        def call(*args):
            nonlocal fn
            if fn is None:
                fn = raw.function(name)
            if args:                                  # the fast path: a non-NULL handle of that type
                first = args[0]
                if first.__class__ is not first_type or not first:
                    guard(args)
            try:
                status = fn(*args)
            except ctypes.ArgumentError as exc:
                raise _type_error(proto, exc, args) from None
            if status:
                fail(status, None, args)

        return call

    def call(*args):
        nonlocal fn
        if fn is None:
            fn = raw.function(name)
        if first_type is not None and args:          # the fast path: a non-NULL handle of that type
            first = args[0]
            if first.__class__ is not first_type or not first:
                guard(args)
        for i in others:
            if i < len(args) and args[i].__class__ in _TEXT:
                guard(args)
        try:
            if errcode:
                err = cl_int()
                result = fn(*args, byref(err))
                status = err.value
            else:
                result = status = fn(*args)
        except ctypes.ArgumentError as exc:
            raise _type_error(proto, exc, args) from None
        if status:
            fail(status, result, args)
        return result if errcode else None

    return call


def _svm_alloc_checked(proto: _Proto, fn=None) -> Callable:
    first_type, others, guard = _handle_guard(proto)

    def call(*args):
        nonlocal fn
        if fn is None:
            fn = raw.function(proto.name)
        guard(args)
        try:
            result = fn(*args)
        except ctypes.ArgumentError as exc:
            raise _type_error(proto, exc, args) from None
        if not result:
            raise MemoryError(f"clSVMAlloc returned NULL (size {args[2] if len(args) > 2 else '?'} bytes)")
        return result

    return call


def _plain(proto: _Proto, fn=None) -> Callable:
    first_type, others, guard = _handle_guard(proto)

    def call(*args):
        nonlocal fn
        if fn is None:
            fn = raw.function(proto.name)
        guard(args)
        try:
            return fn(*args)
        except ctypes.ArgumentError as exc:
            raise _type_error(proto, exc, args) from None

    return call


def _make(proto: _Proto, fn=None) -> Callable:
    """The checked wrapper of ``proto``; ``fn`` is the raw function, resolved on first call if None."""
    params = proto.params
    if params and params[-1][0] == "errcode_ret" and params[-1][2] == "cl_int *":
        call, params, returns = _returning_checked(proto, fn, errcode=True), params[:-1], f"the created {proto.c_return}"
    elif proto.c_return == "cl_int":
        call, returns = _returning_checked(proto, fn), "None"
    elif proto.name == "clSVMAlloc":
        call, returns = _svm_alloc_checked(proto, fn), "the SVM pointer (int); MemoryError on NULL"
    else:
        call, returns = _plain(proto, fn), f"the {proto.c_return} result, as in C"
    call.__name__ = call.__qualname__ = proto.name
    call.__module__ = __name__
    # inspect.signature reads a Python function's __text_signature__: the C parameters, positional
    # only (an inspect.Signature would import inspect, 4 ms, on the first checked call of a process)
    call.__text_signature__ = f"({', '.join(p[0] for p in params)}{', /' if params else ''})"
    call.__doc__ = (
        f"{proto.c_prototype()}\n\n"
        f"Requires {proto.requirement}. Arguments as in C (ctypes values, byref() for out-parameters)"
        f"{', without errcode_ret' if params is not proto.params else ''}. Returns {returns}.\n"
        f"Raises CLError (the subclass for the code, e.g. InvalidValue) on failure, TypeError for a"
        f" wrong argument type, FunctionUnavailableError if the library lacks {proto.name}."
    )
    return call


def __getattr__(name: str) -> Callable:
    """The checked wrapper of C function ``name``, made on first use and kept as a module
    attribute (making all 200 of them at import took a fifth of the handle layer's import time).
    Raises AttributeError for a name that is no OpenCL function."""
    proto = FUNCTIONS.get(name)
    if proto is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    wrapper = globals()[name] = _make(proto)
    return wrapper


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(FUNCTIONS))


def get_extension_function(platform, name: str) -> Callable:
    """Checked variant of :func:`opencl_raw.raw.get_extension_function`.

    Returns a callable with the checked conventions above (status raised,
    ``errcode_ret`` dropped).  Raises KeyError for an unknown name and
    FunctionUnavailableError when the platform returns NULL for it.
    """
    return _make(FUNCTIONS[name], raw.get_extension_function(platform, name))
