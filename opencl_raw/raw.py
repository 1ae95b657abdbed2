"""The OpenCL C API through ctypes, with C semantics.

Every type, constant, struct, callback type and function of the Khronos headers
(``cl.h``, ``cl_ext.h``, ``cl_gl.h``, ``cl_egl.h``) under its exact C name.
Functions are resolved lazily from the OpenCL library on first use, with
``argtypes`` and ``restype`` set from the headers; status codes are returned,
not raised, and out-parameters are passed with ``ctypes.byref`` as in C::

    from opencl_raw import raw
    n = raw.cl_uint()
    assert raw.clGetPlatformIDs(0, None, raw.byref(n)) == raw.CL_SUCCESS

Library search: ``OPENCL_RAW_LIBRARY`` (a path) if set, else the platform's
standard names (``libOpenCL.so.1``, ``libOpenCL.so``, ``OpenCL.dll``, the
macOS framework). ``import`` never loads it; the first call does, and raises
:class:`~opencl_raw.errors.LibraryNotFoundError` (listing what was tried) if
nothing loads.

A function the library does not export is still an attribute; calling it
raises :class:`~opencl_raw.errors.FunctionUnavailableError` naming the function
and the OpenCL version or extension that introduced it, and its ``bool()`` is
False.  Extension functions are per platform: :func:`get_extension_function`.

Wrong Python argument types raise ``ctypes.ArgumentError``; a bad handle value
is the caller's responsibility, exactly as in C.  This module needs only the
standard library.
"""
from __future__ import annotations

import ctypes
import os
import sys
import threading
from ctypes import POINTER, byref, cast, pointer, sizeof  # noqa: F401  (re-exported for C-style use)
from typing import Callable, List, Optional

from ._generated import *  # noqa: F401,F403
from ._generated import CALLBACK_TYPES, ERROR_CODES, FUNCTIONS, _Handle, _Proto  # noqa: F401
from .errors import FunctionUnavailableError, LibraryNotFoundError

INSTALL_HINT = (
    "Install an ICD loader and at least one OpenCL driver, e.g. on Debian/Ubuntu: "
    "apt-get install ocl-icd-libopencl1 pocl-opencl-icd; "
    "or point OPENCL_RAW_LIBRARY at an OpenCL library file."
)

_lock = threading.Lock()
_library: Optional[ctypes.CDLL] = None
_library_error: Optional[LibraryNotFoundError] = None


def library_candidates() -> List[str]:
    """The library names or paths tried, in order (``OPENCL_RAW_LIBRARY`` alone when set)."""
    explicit = os.environ.get("OPENCL_RAW_LIBRARY")
    if explicit:
        return [explicit]
    if sys.platform == "win32":
        return ["OpenCL.dll"]
    if sys.platform == "darwin":
        return ["/System/Library/Frameworks/OpenCL.framework/OpenCL", "libOpenCL.dylib"]
    return ["libOpenCL.so.1", "libOpenCL.so"]


def library() -> ctypes.CDLL:
    """The loaded OpenCL library (loaded on first use).

    Raises:
        LibraryNotFoundError: nothing in :func:`library_candidates` could be loaded.
    """
    global _library, _library_error
    if _library is not None:
        return _library
    with _lock:
        if _library is None:
            if _library_error is not None:
                # A fresh exception each time: re-raising one instance piles up traceback frames.
                raise LibraryNotFoundError(*_library_error.args)
            tried = []
            for name in library_candidates():
                try:
                    _library = ctypes.CDLL(name)
                    break
                except OSError as exc:
                    tried.append(f"{name} ({exc})")
            else:
                _library_error = LibraryNotFoundError(
                    "no OpenCL library could be loaded; tried: " + "; ".join(tried) + ". " + INSTALL_HINT)
                raise LibraryNotFoundError(*_library_error.args)
    return _library


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def library_path() -> str:
    """The file name of the loaded OpenCL library, e.g. ``'/lib/x86_64-linux-gnu/libOpenCL.so.1'``.

    Loads the library if needed (raises LibraryNotFoundError like :func:`library`).
    Where the platform cannot tell the file (no ``dladdr``), the name it was loaded by.
    """
    lib = library()
    if sys.platform != "win32":
        try:
            dladdr = ctypes.CDLL(None).dladdr
            dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
            info = _DlInfo()
            address = ctypes.cast(lib.clGetPlatformIDs, ctypes.c_void_p).value
            if dladdr(address, ctypes.byref(info)) and info.dli_fname:
                return os.path.realpath(os.fsdecode(info.dli_fname))
        except (AttributeError, OSError):
            pass
    return lib._name


class UnavailableFunction:
    """Stands in for a function the library lacks: falsy, and raises FunctionUnavailableError when called."""

    __slots__ = ("proto", "reason")

    def __init__(self, proto: _Proto, reason: str):
        self.proto = proto
        self.reason = reason

    def __bool__(self) -> bool:
        return False

    def __call__(self, *args):
        library()  # no library at all: LibraryNotFoundError, as documented, not FunctionUnavailableError
        raise FunctionUnavailableError(self.proto.name, self.proto.requirement, self.reason)

    def __repr__(self) -> str:
        return f"<unavailable OpenCL function {self.proto.name}: {self.reason}>"


def function_type(proto: _Proto):
    """The ctypes CFUNCTYPE of a prototype from :data:`FUNCTIONS`."""
    return ctypes.CFUNCTYPE(proto.restype, *proto.argtypes)


def resolve(name: str) -> Callable:
    """The ctypes function for C function ``name``, or an :class:`UnavailableFunction`.

    Raises KeyError if ``name`` is not a function of the headers.  Never raises for a
    missing library or symbol: the returned stand-in raises when called.
    """
    proto = FUNCTIONS[name]
    try:
        lib = library()
    except LibraryNotFoundError as exc:
        return UnavailableFunction(proto, str(exc))
    try:
        fn = function_type(proto)((name, lib))
    except AttributeError:
        hint = " (extension functions come from get_extension_function(platform, name))" if proto.extension else ""
        return UnavailableFunction(proto, f"{library_path()} does not export it{hint}")
    fn.__name__ = name
    return fn


def function(name: str) -> Callable:
    """``raw.<name>``: the resolved function (cached in this module), or its unavailable stand-in."""
    fn = globals().get(name)
    return fn if fn is not None else __getattr__(name)


def __getattr__(name: str):
    if name in FUNCTIONS:
        fn = resolve(name)
        globals()[name] = fn
        return fn
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(FUNCTIONS))


def get_extension_function(platform, name: str) -> Callable:
    """A typed ctypes function for extension function ``name`` on ``platform``.

    Uses ``clGetExtensionFunctionAddressForPlatform`` (OpenCL 1.2).  ``platform`` is a
    ``cl_platform_id`` (or any object with ``_as_parameter_``); ``name`` a C name from
    ``cl_ext.h``, ``cl_gl.h`` or ``cl_egl.h``, e.g. ``'clCreateCommandBufferKHR'``.

    Raises:
        KeyError: ``name`` is not a function of the headers.
        FunctionUnavailableError: the platform returns NULL for it.
    """
    proto = FUNCTIONS[name]
    address = function("clGetExtensionFunctionAddressForPlatform")(platform, name.encode())
    if not address:
        raise FunctionUnavailableError(name, proto.requirement, "the platform returned NULL for it")
    fn = function_type(proto)(address)
    fn.__name__ = name
    return fn
