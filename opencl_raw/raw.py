"""The OpenCL C API through ctypes, with C semantics.

Every type, constant, struct, callback type and function of the Khronos headers
(``cl.h``, ``cl_ext.h``, ``cl_gl.h``, ``cl_egl.h``) under its exact C name.
Functions are resolved lazily from the OpenCL library on first use, with
``argtypes`` and ``restype`` set from the headers; status codes are returned,
not raised, and out-parameters are passed with ``ctypes.byref`` as in C::

    from opencl_raw import raw
    n = raw.cl_uint()
    assert raw.clGetPlatformIDs(0, None, raw.byref(n)) == raw.CL_SUCCESS

Two backends (``OPENCL_RAW_BACKEND``; :func:`backend` reports the one in use):

- ``loader``: the system ICD loader, ``OPENCL_RAW_LIBRARY`` (a path) if set, else
  the platform's standard names (``libOpenCL.so.1``, ``libOpenCL.so``,
  ``OpenCL.dll``, the macOS framework);
- ``icd``: built-in dispatch (:mod:`opencl_raw._icd`): the drivers are found as
  ocl-icd finds them (``OCL_ICD_VENDORS``, ``/etc/OpenCL/vendors`` ...), or named by
  ``OPENCL_RAW_ICDS`` or :func:`load_icd`, and each call goes through the dispatch
  table of its first handle.

Unset, the loader is used when one loads (or ``OPENCL_RAW_LIBRARY`` is set), else the
built-in dispatch.  ``import`` never loads anything; the first call does, and raises
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

import _thread
import collections
import ctypes
import os
import sys
from ctypes import POINTER, byref, cast, pointer, sizeof  # noqa: F401  (re-exported for C-style use)

from ._generated import *  # noqa: F401,F403
from ._generated import CALLBACK_TYPES, ERROR_CODES, FUNCTIONS, _Handle, _Proto  # noqa: F401
from .errors import FunctionUnavailableError, LibraryNotFoundError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, List, Optional, Tuple


INSTALL_HINT = (
    "Install an ICD loader and at least one OpenCL driver, e.g. on Debian/Ubuntu: "
    "apt-get install ocl-icd-libopencl1 pocl-opencl-icd; "
    "or point OPENCL_RAW_LIBRARY at an OpenCL library file."
)

_lock = _thread.allocate_lock()
_library: Optional[ctypes.CDLL] = None
_library_error: Optional[LibraryNotFoundError] = None
BACKENDS = ("loader", "icd")
_backend_lock = _thread.allocate_lock()
_backend: Optional[str] = None
_backend_auto = False        # chosen by default (not by OPENCL_RAW_BACKEND or load_icd)


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
    """The system OpenCL library, the ICD loader of the ``loader`` backend (loaded on first use).

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
        backend_name()  # no library at all: LibraryNotFoundError, as documented, not FunctionUnavailableError
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
        which = backend_name()
    except LibraryNotFoundError as exc:
        return UnavailableFunction(proto, str(exc))
    if which == "icd":
        from . import _icd
        return _icd.resolve(name, UnavailableFunction)
    lib = library()
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


# --------------------------------------------------------------------------- #
# Backends
# --------------------------------------------------------------------------- #

def _choose_backend() -> Tuple[str, bool]:
    wanted = os.environ.get("OPENCL_RAW_BACKEND", "").strip().lower()
    if wanted in BACKENDS:
        return wanted, False
    if wanted:
        raise ValueError(f"OPENCL_RAW_BACKEND={wanted!r}: expected one of {', '.join(BACKENDS)} (or unset)")
    if os.environ.get("OPENCL_RAW_LIBRARY"):
        return "loader", False
    try:
        library()
        return "loader", True
    except LibraryNotFoundError:
        return "icd", True


def backend_name() -> str:
    """The backend of the raw functions, ``'loader'`` or ``'icd'``, chosen on first use.

    ``OPENCL_RAW_BACKEND`` if set; else the system loader when it loads (or
    ``OPENCL_RAW_LIBRARY`` is set), else built-in dispatch.

    Raises:
        LibraryNotFoundError: the loader backend's library does not load; none of the
            drivers named by ``OPENCL_RAW_ICDS`` loads; or (backend not set) neither a
            loader nor a driver is found.  Otherwise an ``icd`` backend without drivers
            finds no platform (``CL_PLATFORM_NOT_FOUND_KHR``), as a loader would.
        ValueError: ``OPENCL_RAW_BACKEND`` names no backend.
    """
    global _backend, _backend_auto
    if _backend is None:
        with _backend_lock:
            if _backend is None:
                _backend, _backend_auto = _choose_backend()
    if _backend == "loader":
        library()
    elif _backend_auto or os.environ.get("OPENCL_RAW_ICDS", "").strip():
        from . import _icd
        if not _icd.discover():
            if not _backend_auto:  # the drivers named by OPENCL_RAW_ICDS
                raise LibraryNotFoundError(_icd.not_found_message())
            try:
                library()
                loader = "the ICD loader did not load"
            except LibraryNotFoundError as exc:
                loader = str(exc).split(". " + INSTALL_HINT)[0]
            raise LibraryNotFoundError(f"{loader}; {_icd.not_found_message()}. {INSTALL_HINT}")
    return _backend


class PlatformOrigin(collections.namedtuple("PlatformOrigin", "handle name library source")):
    """A platform and the driver library it comes from (see :func:`backend`): ``handle`` (int,
    the cl_platform_id value), ``name`` (CL_PLATFORM_NAME), ``library`` (the driver's file) and
    ``source`` (where the driver was named: an .icd file, a variable, load_icd; or 'loader')."""
    __slots__ = ()


class Backend(collections.namedtuple("Backend", "name library platforms skipped")):
    """What :func:`backend` reports: ``name`` ('loader' or 'icd'), ``library`` (the loader's
    file on the loader backend, else None), ``platforms`` (PlatformOrigin tuples in
    clGetPlatformIDs order) and ``skipped`` (icd backend: (driver, why it was not used) pairs)."""
    __slots__ = ()


def backend() -> Backend:
    """The backend in use and, for each platform, the driver library it came from.

    Loads the library or drivers if needed (raises LibraryNotFoundError like :func:`backend_name`).
    """
    from . import _icd
    which = backend_name()
    n = cl_uint()
    handles: List[int] = []
    if function("clGetPlatformIDs")(0, None, byref(n)) == CL_SUCCESS and n.value:
        array = (cl_platform_id * n.value)()
        if function("clGetPlatformIDs")(n.value, array, None) == CL_SUCCESS:
            handles = [p.value for p in array if p.value]
    sources = {p.handle: p for p in _icd.platform_sources()} if which == "icd" else {}
    platforms = []
    for handle in handles:
        size = ctypes.c_size_t()
        name = ""
        get_info = function("clGetPlatformInfo")
        if get_info(handle, CL_PLATFORM_NAME, 0, None, byref(size)) == CL_SUCCESS:
            text = ctypes.create_string_buffer(size.value + 1)
            if get_info(handle, CL_PLATFORM_NAME, size.value, text, None) == CL_SUCCESS:
                name = text.value.decode("utf-8", "replace")
        if handle in sources:
            library_file, source = sources[handle].library, sources[handle].source
        else:
            library_file, source = _icd.table_library(handle) or "?", "loader"
        platforms.append(PlatformOrigin(handle, name, library_file, source))
    return Backend(which, library_path() if which == "loader" else None, tuple(platforms),
                   tuple(_icd.skipped()) if which == "icd" else ())


def load_icd(path) -> List[cl_platform_id]:
    """Load an OpenCL driver for the built-in (``icd``) backend and return its platforms.

    ``path``: a driver library (``libpocl.so.2``, a path), an ``.icd`` file, or a folder of
    ``.icd`` files.  Its platforms follow those already found (``clGetPlatformIDs`` lists
    them).  Before any other call, this chooses the ``icd`` backend.

    Raises:
        LibraryNotFoundError: ``path`` is not a usable driver (the message says why).
        RuntimeError: the raw functions already go through the system loader
            (``OPENCL_RAW_BACKEND=loader`` or a call made before).
    """
    global _backend, _backend_auto
    with _backend_lock:
        if _backend is None:
            wanted = os.environ.get("OPENCL_RAW_BACKEND", "").strip().lower()
            if wanted in ("", "icd"):
                _backend, _backend_auto = "icd", False
        if _backend != "icd":
            raise RuntimeError(f"load_icd({os.fspath(path)!r}): the raw functions use the system ICD loader; "
                               "set OPENCL_RAW_BACKEND=icd, or call load_icd before any other OpenCL call")
    from . import _icd
    return [cl_platform_id(h) for h in _icd.load_icd(path)]
