"""The one table of info params -> Python types, and the one info decoder.

``INFO[group][param] = kind``. Groups are named after the C query functions
(``'Platform'`` for clGetPlatformInfo, ``'ProgramBuild'`` for
clGetProgramBuildInfo, ...). A kind says how to decode the bytes the driver
returns; the rows are facts from the OpenCL 3.0 specification's info tables.
A param the table does not know is still queried and returned as ``bytes``.
"""
from __future__ import annotations

import ctypes
import enum
from typing import Any, Callable, Dict, Optional, Sequence

from . import raw
from ._handle import CLASS_BY_HANDLE_TYPE, pairs_from_array


# --------------------------------------------------------------------------- #
# Flag and enum types for typed values
# --------------------------------------------------------------------------- #

def _members(*names: str) -> Dict[str, int]:
    return {name[3:]: getattr(raw, name) for name in names}


def _prefixed(prefix: str, exclude: Sequence[str] = ()) -> Dict[str, int]:
    return {name[len(prefix):]: value for name, value in vars(raw).items()
            if name.startswith(prefix) and name not in exclude and isinstance(value, int)
            and raw.CONSTANT_HEADERS.get(name) == "cl.h"}


DeviceType = enum.IntFlag("DeviceType", _members(
    "CL_DEVICE_TYPE_DEFAULT", "CL_DEVICE_TYPE_CPU", "CL_DEVICE_TYPE_GPU", "CL_DEVICE_TYPE_ACCELERATOR",
    "CL_DEVICE_TYPE_CUSTOM"), module=__name__)
DeviceType.__doc__ = "cl_device_type bits (CL_DEVICE_TYPE_*)."
FPConfig = enum.IntFlag("FPConfig", _prefixed("CL_FP_"), module=__name__)
FPConfig.__doc__ = "cl_device_fp_config bits (CL_FP_*)."
ExecCapabilities = enum.IntFlag("ExecCapabilities", _prefixed("CL_EXEC_"), module=__name__)
ExecCapabilities.__doc__ = "cl_device_exec_capabilities bits (CL_EXEC_*)."
CommandQueueProperties = enum.IntFlag("CommandQueueProperties", _members(
    "CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE", "CL_QUEUE_PROFILING_ENABLE", "CL_QUEUE_ON_DEVICE",
    "CL_QUEUE_ON_DEVICE_DEFAULT"), module=__name__)
CommandQueueProperties.__doc__ = "cl_command_queue_properties bits."
MemFlags = enum.IntFlag("MemFlags", _members(
    "CL_MEM_READ_WRITE", "CL_MEM_WRITE_ONLY", "CL_MEM_READ_ONLY", "CL_MEM_USE_HOST_PTR",
    "CL_MEM_ALLOC_HOST_PTR", "CL_MEM_COPY_HOST_PTR", "CL_MEM_HOST_WRITE_ONLY", "CL_MEM_HOST_READ_ONLY",
    "CL_MEM_HOST_NO_ACCESS", "CL_MEM_SVM_FINE_GRAIN_BUFFER", "CL_MEM_SVM_ATOMICS",
    "CL_MEM_KERNEL_READ_AND_WRITE"), module=__name__)
MemFlags.__doc__ = "cl_mem_flags bits."
SVMCapabilities = enum.IntFlag("SVMCapabilities", _prefixed("CL_DEVICE_SVM_", exclude=("CL_DEVICE_SVM_CAPABILITIES",)),
                               module=__name__)
SVMCapabilities.__doc__ = "cl_device_svm_capabilities bits."
AffinityDomain = enum.IntFlag("AffinityDomain", _prefixed("CL_DEVICE_AFFINITY_DOMAIN_"), module=__name__)
AffinityDomain.__doc__ = "cl_device_affinity_domain bits."
AtomicCapabilities = enum.IntFlag("AtomicCapabilities", _members(
    "CL_DEVICE_ATOMIC_ORDER_RELAXED", "CL_DEVICE_ATOMIC_ORDER_ACQ_REL", "CL_DEVICE_ATOMIC_ORDER_SEQ_CST",
    "CL_DEVICE_ATOMIC_SCOPE_WORK_ITEM", "CL_DEVICE_ATOMIC_SCOPE_WORK_GROUP", "CL_DEVICE_ATOMIC_SCOPE_DEVICE",
    "CL_DEVICE_ATOMIC_SCOPE_ALL_DEVICES"), module=__name__)
AtomicCapabilities.__doc__ = "cl_device_atomic_capabilities bits."
EnqueueCapabilities = enum.IntFlag("EnqueueCapabilities", _members("CL_DEVICE_QUEUE_SUPPORTED",
                                   "CL_DEVICE_QUEUE_REPLACEABLE_DEFAULT"), module=__name__)
EnqueueCapabilities.__doc__ = "cl_device_device_enqueue_capabilities bits."
LocalMemType = enum.IntEnum("LocalMemType", _members("CL_NONE", "CL_LOCAL", "CL_GLOBAL"), module=__name__)
LocalMemType.__doc__ = "cl_device_local_mem_type."
MemCacheType = enum.IntEnum("MemCacheType", _members("CL_NONE", "CL_READ_ONLY_CACHE", "CL_READ_WRITE_CACHE"),
                            module=__name__)
MemCacheType.__doc__ = "cl_device_mem_cache_type."
MemObjectType = enum.IntEnum("MemObjectType", _prefixed("CL_MEM_OBJECT_", exclude=(
    "CL_MEM_OBJECT_ALLOCATION_FAILURE",)), module=__name__)   # -4 is an error code, not a type
MemObjectType.__doc__ = "cl_mem_object_type (CL_MEM_OBJECT_*)."
BuildStatus = enum.IntEnum("BuildStatus", _members("CL_BUILD_SUCCESS", "CL_BUILD_NONE", "CL_BUILD_ERROR",
                                                    "CL_BUILD_IN_PROGRESS"), module=__name__)
BuildStatus.__doc__ = "cl_build_status."
ProgramBinaryType = enum.IntEnum("ProgramBinaryType", _prefixed("CL_PROGRAM_BINARY_TYPE_"), module=__name__)
ProgramBinaryType.__doc__ = "cl_program_binary_type."
CommandType = enum.IntEnum("CommandType", _prefixed("CL_COMMAND_", exclude=(
    "CL_COMMAND_QUEUE_PROPERTIES",)), module=__name__)
CommandType.__doc__ = "cl_command_type (CL_COMMAND_*)."
CommandExecutionStatus = enum.IntEnum("CommandExecutionStatus", _members(
    "CL_COMPLETE", "CL_RUNNING", "CL_SUBMITTED", "CL_QUEUED"), module=__name__)
CommandExecutionStatus.__doc__ = "Execution status of a command (CL_QUEUED ... CL_COMPLETE; negative: an error code)."
ChannelOrder = enum.IntEnum("ChannelOrder", {n[3:]: v for n, v in vars(raw).items() if isinstance(v, int) and
                            0x10B0 <= v <= 0x10C3 and raw.CONSTANT_HEADERS.get(n) == "cl.h"
                            and n not in ("CL_INVALID_IMAGE_FORMAT_DESCRIPTOR",)}, module=__name__)
ChannelOrder.__doc__ = "cl_channel_order."


def _enum_value(cls: Callable[[int], Any]) -> Callable[[int], Any]:
    def convert(value: int):
        try:
            return cls(value)
        except ValueError:  # a value the enum doesn't know is kept as an int
            return value
    return convert


# --------------------------------------------------------------------------- #
# Kinds: how to decode the bytes of one param
# --------------------------------------------------------------------------- #

class Kind:
    """How one param's value is decoded. ``size`` is the fixed byte size, or None for variable."""
    size: Optional[int] = None
    c_type = "bytes"

    def decode(self, buf: ctypes.Array, nbytes: int) -> Any:
        return buf.raw[:nbytes]


class Scalar(Kind):
    def __init__(self, ctype, convert: Optional[Callable[[int], Any]] = None, c_type: str = ""):
        self.ctype, self.convert, self.size = ctype, convert, ctypes.sizeof(ctype)
        self.c_type = c_type or ctype.__name__

    def decode(self, buf, nbytes):
        value = self.ctype.from_buffer(buf).value
        return self.convert(value) if self.convert else value


class Array(Kind):
    def __init__(self, ctype, convert: Optional[Callable[[int], Any]] = None, c_type: str = ""):
        self.ctype, self.convert = ctype, convert
        self.c_type = (c_type or ctype.__name__) + "[]"

    def decode(self, buf, nbytes):
        n = nbytes // ctypes.sizeof(self.ctype)
        values = (self.ctype * n).from_buffer(buf)
        return tuple(self.convert(v) if self.convert else v for v in values)


class String(Kind):
    c_type = "char[]"

    def decode(self, buf, nbytes):
        return buf.raw[:nbytes].split(b"\0", 1)[0].decode("utf-8", "replace")


class Handle(Kind):
    def __init__(self, handle_type: str):
        self.handle_type = handle_type
        self.size = ctypes.sizeof(ctypes.c_void_p)
        self.c_type = handle_type

    def decode(self, buf, nbytes):
        value = ctypes.c_void_p.from_buffer(buf).value
        if not value:
            return None
        return CLASS_BY_HANDLE_TYPE[self.handle_type].from_handle(value, retain=True)


class HandleArray(Handle):
    def __init__(self, handle_type: str):
        super().__init__(handle_type)
        self.size = None
        self.c_type = handle_type + "[]"

    def decode(self, buf, nbytes):
        n = nbytes // ctypes.sizeof(ctypes.c_void_p)
        cls = CLASS_BY_HANDLE_TYPE[self.handle_type]
        return tuple(cls.from_handle(v, retain=True) for v in (ctypes.c_void_p * n).from_buffer(buf) if v)


class Properties(Array):
    """A zero-terminated property list: tuple of (name, value) pairs."""

    def decode(self, buf, nbytes):
        return pairs_from_array(super().decode(buf, nbytes) + (0,))


class NameVersion(Kind):
    c_type = "cl_name_version[]"

    def decode(self, buf, nbytes):
        n = nbytes // ctypes.sizeof(raw.cl_name_version)
        return tuple(NameVersionTuple(nv.name.decode("utf-8", "replace"), nv.version)
                     for nv in (raw.cl_name_version * n).from_buffer(buf))


class NameVersionTuple(tuple):
    """(name, version) of a ``cl_name_version``; ``version`` is packed (see :func:`split_version`)."""

    __slots__ = ()

    def __new__(cls, name: str, version: int):
        return super().__new__(cls, (name, version))

    name = property(lambda self: self[0], doc="The name, e.g. 'cl_khr_fp64'.")
    version = property(lambda self: self[1], doc="The packed cl_version.")

    def __repr__(self):
        return f"NameVersion({self[0]!r}, {'.'.join(map(str, split_version(self[1])))})"


def split_version(version: int):
    """(major, minor, patch) of a packed ``cl_version`` (CL_VERSION_MAJOR/MINOR/PATCH)."""
    return raw.CL_VERSION_MAJOR(version), raw.CL_VERSION_MINOR(version), raw.CL_VERSION_PATCH(version)


class Binaries(Kind):
    """CL_PROGRAM_BINARIES: a list of bytes, one per device (queried specially)."""
    c_type = "unsigned char *[]"


STR = String()
BYTES = Kind()
UINT = Scalar(raw.cl_uint)
INT = Scalar(raw.cl_int)
ULONG = Scalar(raw.cl_ulong)
SIZE = Scalar(ctypes.c_size_t, c_type="size_t")
BOOL = Scalar(raw.cl_bool, bool, c_type="cl_bool")
PTR = Scalar(ctypes.c_void_p, lambda v: v or 0, c_type="void *")
VERSION = Scalar(raw.cl_version, c_type="cl_version")
SIZES = Array(ctypes.c_size_t, c_type="size_t")
NAME_VERSIONS = NameVersion()


def flags(ctype, cls):
    return Scalar(ctype, cls, c_type=ctype.__name__)


def enum_of(ctype, cls):
    return Scalar(ctype, _enum_value(cls), c_type=ctype.__name__)


# --------------------------------------------------------------------------- #
# The table
# --------------------------------------------------------------------------- #

INFO: Dict[str, Dict[str, Kind]] = {
    "Platform": {
        "CL_PLATFORM_PROFILE": STR, "CL_PLATFORM_VERSION": STR, "CL_PLATFORM_NAME": STR,
        "CL_PLATFORM_VENDOR": STR, "CL_PLATFORM_EXTENSIONS": STR,
        "CL_PLATFORM_HOST_TIMER_RESOLUTION": ULONG,
        "CL_PLATFORM_NUMERIC_VERSION": VERSION, "CL_PLATFORM_EXTENSIONS_WITH_VERSION": NAME_VERSIONS,
        "CL_PLATFORM_ICD_SUFFIX_KHR": STR,
    },
    "Device": {
        "CL_DEVICE_TYPE": flags(raw.cl_device_type, DeviceType),
        "CL_DEVICE_VENDOR_ID": UINT, "CL_DEVICE_MAX_COMPUTE_UNITS": UINT,
        "CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS": UINT, "CL_DEVICE_MAX_WORK_GROUP_SIZE": SIZE,
        "CL_DEVICE_MAX_WORK_ITEM_SIZES": SIZES,
        "CL_DEVICE_PREFERRED_VECTOR_WIDTH_CHAR": UINT, "CL_DEVICE_PREFERRED_VECTOR_WIDTH_SHORT": UINT,
        "CL_DEVICE_PREFERRED_VECTOR_WIDTH_INT": UINT, "CL_DEVICE_PREFERRED_VECTOR_WIDTH_LONG": UINT,
        "CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT": UINT, "CL_DEVICE_PREFERRED_VECTOR_WIDTH_DOUBLE": UINT,
        "CL_DEVICE_PREFERRED_VECTOR_WIDTH_HALF": UINT,
        "CL_DEVICE_NATIVE_VECTOR_WIDTH_CHAR": UINT, "CL_DEVICE_NATIVE_VECTOR_WIDTH_SHORT": UINT,
        "CL_DEVICE_NATIVE_VECTOR_WIDTH_INT": UINT, "CL_DEVICE_NATIVE_VECTOR_WIDTH_LONG": UINT,
        "CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT": UINT, "CL_DEVICE_NATIVE_VECTOR_WIDTH_DOUBLE": UINT,
        "CL_DEVICE_NATIVE_VECTOR_WIDTH_HALF": UINT,
        "CL_DEVICE_MAX_CLOCK_FREQUENCY": UINT, "CL_DEVICE_ADDRESS_BITS": UINT,
        "CL_DEVICE_MAX_MEM_ALLOC_SIZE": ULONG, "CL_DEVICE_IMAGE_SUPPORT": BOOL,
        "CL_DEVICE_MAX_READ_IMAGE_ARGS": UINT, "CL_DEVICE_MAX_WRITE_IMAGE_ARGS": UINT,
        "CL_DEVICE_MAX_READ_WRITE_IMAGE_ARGS": UINT, "CL_DEVICE_IL_VERSION": STR,
        "CL_DEVICE_ILS_WITH_VERSION": NAME_VERSIONS,
        "CL_DEVICE_IMAGE2D_MAX_WIDTH": SIZE, "CL_DEVICE_IMAGE2D_MAX_HEIGHT": SIZE,
        "CL_DEVICE_IMAGE3D_MAX_WIDTH": SIZE, "CL_DEVICE_IMAGE3D_MAX_HEIGHT": SIZE,
        "CL_DEVICE_IMAGE3D_MAX_DEPTH": SIZE, "CL_DEVICE_IMAGE_MAX_BUFFER_SIZE": SIZE,
        "CL_DEVICE_IMAGE_MAX_ARRAY_SIZE": SIZE, "CL_DEVICE_MAX_SAMPLERS": UINT,
        "CL_DEVICE_IMAGE_PITCH_ALIGNMENT": UINT, "CL_DEVICE_IMAGE_BASE_ADDRESS_ALIGNMENT": UINT,
        "CL_DEVICE_MAX_PIPE_ARGS": UINT, "CL_DEVICE_PIPE_MAX_ACTIVE_RESERVATIONS": UINT,
        "CL_DEVICE_PIPE_MAX_PACKET_SIZE": UINT, "CL_DEVICE_MAX_PARAMETER_SIZE": SIZE,
        "CL_DEVICE_MEM_BASE_ADDR_ALIGN": UINT, "CL_DEVICE_MIN_DATA_TYPE_ALIGN_SIZE": UINT,
        "CL_DEVICE_SINGLE_FP_CONFIG": flags(raw.cl_device_fp_config, FPConfig),
        "CL_DEVICE_DOUBLE_FP_CONFIG": flags(raw.cl_device_fp_config, FPConfig),
        "CL_DEVICE_HALF_FP_CONFIG": flags(raw.cl_device_fp_config, FPConfig),
        "CL_DEVICE_GLOBAL_MEM_CACHE_TYPE": enum_of(raw.cl_device_mem_cache_type, MemCacheType),
        "CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE": UINT, "CL_DEVICE_GLOBAL_MEM_CACHE_SIZE": ULONG,
        "CL_DEVICE_GLOBAL_MEM_SIZE": ULONG, "CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE": ULONG,
        "CL_DEVICE_MAX_CONSTANT_ARGS": UINT, "CL_DEVICE_MAX_GLOBAL_VARIABLE_SIZE": SIZE,
        "CL_DEVICE_GLOBAL_VARIABLE_PREFERRED_TOTAL_SIZE": SIZE,
        "CL_DEVICE_LOCAL_MEM_TYPE": enum_of(raw.cl_device_local_mem_type, LocalMemType),
        "CL_DEVICE_LOCAL_MEM_SIZE": ULONG, "CL_DEVICE_ERROR_CORRECTION_SUPPORT": BOOL,
        "CL_DEVICE_HOST_UNIFIED_MEMORY": BOOL,
        "CL_DEVICE_PROFILING_TIMER_RESOLUTION": SIZE, "CL_DEVICE_ENDIAN_LITTLE": BOOL,
        "CL_DEVICE_AVAILABLE": BOOL, "CL_DEVICE_COMPILER_AVAILABLE": BOOL,
        "CL_DEVICE_LINKER_AVAILABLE": BOOL,
        "CL_DEVICE_EXECUTION_CAPABILITIES": flags(raw.cl_device_exec_capabilities, ExecCapabilities),
        "CL_DEVICE_QUEUE_PROPERTIES": flags(raw.cl_command_queue_properties, CommandQueueProperties),
        "CL_DEVICE_QUEUE_ON_HOST_PROPERTIES": flags(raw.cl_command_queue_properties, CommandQueueProperties),
        "CL_DEVICE_QUEUE_ON_DEVICE_PROPERTIES": flags(raw.cl_command_queue_properties, CommandQueueProperties),
        "CL_DEVICE_QUEUE_ON_DEVICE_PREFERRED_SIZE": UINT, "CL_DEVICE_QUEUE_ON_DEVICE_MAX_SIZE": UINT,
        "CL_DEVICE_MAX_ON_DEVICE_QUEUES": UINT, "CL_DEVICE_MAX_ON_DEVICE_EVENTS": UINT,
        "CL_DEVICE_BUILT_IN_KERNELS": STR,
        "CL_DEVICE_BUILT_IN_KERNELS_WITH_VERSION": NAME_VERSIONS,
        "CL_DEVICE_PLATFORM": Handle("cl_platform_id"),
        "CL_DEVICE_NAME": STR, "CL_DEVICE_VENDOR": STR, "CL_DRIVER_VERSION": STR,
        "CL_DEVICE_PROFILE": STR, "CL_DEVICE_VERSION": STR, "CL_DEVICE_NUMERIC_VERSION": VERSION,
        "CL_DEVICE_OPENCL_C_VERSION": STR, "CL_DEVICE_OPENCL_C_ALL_VERSIONS": NAME_VERSIONS,
        "CL_DEVICE_OPENCL_C_FEATURES": NAME_VERSIONS,
        "CL_DEVICE_EXTENSIONS": STR, "CL_DEVICE_EXTENSIONS_WITH_VERSION": NAME_VERSIONS,
        "CL_DEVICE_PRINTF_BUFFER_SIZE": SIZE, "CL_DEVICE_PREFERRED_INTEROP_USER_SYNC": BOOL,
        "CL_DEVICE_PARENT_DEVICE": Handle("cl_device_id"),
        "CL_DEVICE_PARTITION_MAX_SUB_DEVICES": UINT,
        "CL_DEVICE_PARTITION_PROPERTIES": Array(raw.cl_device_partition_property),
        "CL_DEVICE_PARTITION_AFFINITY_DOMAIN": flags(raw.cl_device_affinity_domain, AffinityDomain),
        "CL_DEVICE_PARTITION_TYPE": Properties(raw.cl_device_partition_property),
        "CL_DEVICE_REFERENCE_COUNT": UINT,
        "CL_DEVICE_SVM_CAPABILITIES": flags(raw.cl_device_svm_capabilities, SVMCapabilities),
        "CL_DEVICE_PREFERRED_PLATFORM_ATOMIC_ALIGNMENT": UINT,
        "CL_DEVICE_PREFERRED_GLOBAL_ATOMIC_ALIGNMENT": UINT,
        "CL_DEVICE_PREFERRED_LOCAL_ATOMIC_ALIGNMENT": UINT,
        "CL_DEVICE_MAX_NUM_SUB_GROUPS": UINT, "CL_DEVICE_SUB_GROUP_INDEPENDENT_FORWARD_PROGRESS": BOOL,
        "CL_DEVICE_ATOMIC_MEMORY_CAPABILITIES": flags(raw.cl_device_atomic_capabilities, AtomicCapabilities),
        "CL_DEVICE_ATOMIC_FENCE_CAPABILITIES": flags(raw.cl_device_atomic_capabilities, AtomicCapabilities),
        "CL_DEVICE_NON_UNIFORM_WORK_GROUP_SUPPORT": BOOL,
        "CL_DEVICE_WORK_GROUP_COLLECTIVE_FUNCTIONS_SUPPORT": BOOL,
        "CL_DEVICE_GENERIC_ADDRESS_SPACE_SUPPORT": BOOL,
        "CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES": flags(raw.cl_device_device_enqueue_capabilities,
                                                       EnqueueCapabilities),
        "CL_DEVICE_PIPE_SUPPORT": BOOL,
        "CL_DEVICE_PREFERRED_WORK_GROUP_SIZE_MULTIPLE": SIZE,
        "CL_DEVICE_LATEST_CONFORMANCE_VERSION_PASSED": STR,
    },
    "Context": {
        "CL_CONTEXT_REFERENCE_COUNT": UINT, "CL_CONTEXT_NUM_DEVICES": UINT,
        "CL_CONTEXT_DEVICES": HandleArray("cl_device_id"),
        "CL_CONTEXT_PROPERTIES": Properties(raw.cl_context_properties),
    },
    "CommandQueue": {
        "CL_QUEUE_CONTEXT": Handle("cl_context"), "CL_QUEUE_DEVICE": Handle("cl_device_id"),
        "CL_QUEUE_REFERENCE_COUNT": UINT,
        "CL_QUEUE_PROPERTIES": flags(raw.cl_command_queue_properties, CommandQueueProperties),
        "CL_QUEUE_PROPERTIES_ARRAY": Properties(raw.cl_queue_properties),
        "CL_QUEUE_SIZE": UINT, "CL_QUEUE_DEVICE_DEFAULT": Handle("cl_command_queue"),
    },
    "MemObject": {
        "CL_MEM_TYPE": enum_of(raw.cl_mem_object_type, MemObjectType),
        "CL_MEM_FLAGS": flags(raw.cl_mem_flags, MemFlags), "CL_MEM_SIZE": SIZE,
        "CL_MEM_HOST_PTR": PTR, "CL_MEM_MAP_COUNT": UINT, "CL_MEM_REFERENCE_COUNT": UINT,
        "CL_MEM_CONTEXT": Handle("cl_context"), "CL_MEM_ASSOCIATED_MEMOBJECT": Handle("cl_mem"),
        "CL_MEM_OFFSET": SIZE, "CL_MEM_USES_SVM_POINTER": BOOL,
        "CL_MEM_PROPERTIES": Properties(raw.cl_mem_properties),
    },
    "Program": {
        "CL_PROGRAM_REFERENCE_COUNT": UINT, "CL_PROGRAM_CONTEXT": Handle("cl_context"),
        "CL_PROGRAM_NUM_DEVICES": UINT, "CL_PROGRAM_DEVICES": HandleArray("cl_device_id"),
        "CL_PROGRAM_SOURCE": STR, "CL_PROGRAM_IL": BYTES, "CL_PROGRAM_BINARY_SIZES": SIZES,
        "CL_PROGRAM_BINARIES": Binaries(), "CL_PROGRAM_NUM_KERNELS": SIZE,
        "CL_PROGRAM_KERNEL_NAMES": STR, "CL_PROGRAM_SCOPE_GLOBAL_CTORS_PRESENT": BOOL,
        "CL_PROGRAM_SCOPE_GLOBAL_DTORS_PRESENT": BOOL,
    },
    "ProgramBuild": {
        "CL_PROGRAM_BUILD_STATUS": enum_of(raw.cl_build_status, BuildStatus),
        "CL_PROGRAM_BUILD_OPTIONS": STR, "CL_PROGRAM_BUILD_LOG": STR,
        "CL_PROGRAM_BINARY_TYPE": enum_of(raw.cl_program_binary_type, ProgramBinaryType),
        "CL_PROGRAM_BUILD_GLOBAL_VARIABLE_TOTAL_SIZE": SIZE,
    },
    "Kernel": {
        "CL_KERNEL_FUNCTION_NAME": STR, "CL_KERNEL_NUM_ARGS": UINT, "CL_KERNEL_REFERENCE_COUNT": UINT,
        "CL_KERNEL_CONTEXT": Handle("cl_context"), "CL_KERNEL_PROGRAM": Handle("cl_program"),
        "CL_KERNEL_ATTRIBUTES": STR,
    },
    "KernelWorkGroup": {
        "CL_KERNEL_GLOBAL_WORK_SIZE": SIZES, "CL_KERNEL_WORK_GROUP_SIZE": SIZE,
        "CL_KERNEL_COMPILE_WORK_GROUP_SIZE": SIZES, "CL_KERNEL_LOCAL_MEM_SIZE": ULONG,
        "CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE": SIZE, "CL_KERNEL_PRIVATE_MEM_SIZE": ULONG,
    },
    "Event": {
        "CL_EVENT_COMMAND_QUEUE": Handle("cl_command_queue"), "CL_EVENT_CONTEXT": Handle("cl_context"),
        "CL_EVENT_COMMAND_TYPE": enum_of(raw.cl_command_type, CommandType),
        "CL_EVENT_COMMAND_EXECUTION_STATUS": enum_of(raw.cl_int, CommandExecutionStatus),
        "CL_EVENT_REFERENCE_COUNT": UINT,
    },
    "EventProfiling": {
        "CL_PROFILING_COMMAND_QUEUED": ULONG, "CL_PROFILING_COMMAND_SUBMIT": ULONG,
        "CL_PROFILING_COMMAND_START": ULONG, "CL_PROFILING_COMMAND_END": ULONG,
        "CL_PROFILING_COMMAND_COMPLETE": ULONG,
    },
}

#: param value -> kind, per group
_BY_VALUE: Dict[str, Dict[int, Kind]] = {
    group: {getattr(raw, name): kind for name, kind in rows.items()} for group, rows in INFO.items()}
#: param value -> CL name, per group
NAMES: Dict[str, Dict[int, str]] = {
    group: {getattr(raw, name): name for name in rows} for group, rows in INFO.items()}


def param_value(param) -> int:
    """The numeric value of a param given as an int or a CL name string."""
    if isinstance(param, str):
        value = getattr(raw, param, None)
        if not isinstance(value, int):
            raise ValueError(f"unknown OpenCL constant {param!r}")
        return value
    if isinstance(param, int):
        return int(param)
    raise TypeError(f"param must be an int or a CL_* name, got {type(param).__name__}")


def query(group: str, function: Callable, args: tuple, param) -> Any:
    """Query one info param with the C idiom (size first, then value) and decode it.

    ``function`` is a checked ``clGet*Info``; ``args`` its arguments before
    ``param_name``. A param the table doesn't know returns ``bytes``. A size that
    disagrees with the declared type raises ValueError naming the param and both sizes.
    Raises CLError from the driver (e.g. InvalidValue for an unsupported param).
    """
    value = param_value(param)
    kind = _BY_VALUE[group].get(value, BYTES)
    if isinstance(kind, Binaries):
        return _program_binaries(function, args)
    size = ctypes.c_size_t()
    function(*args, value, 0, None, ctypes.byref(size))
    nbytes = size.value
    if kind.size is not None and nbytes != kind.size:
        name = NAMES[group].get(value, hex(value))
        raise ValueError(f"{name}: the driver returned {nbytes} bytes, but {kind.c_type} has {kind.size}")
    buf = ctypes.create_string_buffer(max(nbytes, 1))
    if nbytes:
        function(*args, value, nbytes, buf, None)
    return kind.decode(buf, nbytes)


def _program_binaries(function: Callable, args: tuple):
    sizes = query("Program", function, args, raw.CL_PROGRAM_BINARY_SIZES)
    buffers = [ctypes.create_string_buffer(max(n, 1)) for n in sizes]
    pointers = (ctypes.c_char_p * len(sizes))(*[ctypes.addressof(b) for b in buffers])
    function(*args, raw.CL_PROGRAM_BINARIES, ctypes.sizeof(pointers), pointers, None)
    return [b.raw[:n] for b, n in zip(buffers, sizes)]


def attribute_names(group_prefixes: Sequence[str], groups: Sequence[str]) -> Dict[str, str]:
    """attribute name -> CL param name for the given groups (``device.max_compute_units``)."""
    names: Dict[str, str] = {}
    for group in groups:
        for param in INFO[group]:
            body = param[3:]
            for prefix in group_prefixes:
                if param.startswith(prefix):
                    body = param[len(prefix):]
                    break
            names.setdefault(body.lower(), param)
    return names


__all__ = ["INFO", "query", "param_value", "split_version", "attribute_names", "NameVersionTuple",
           "DeviceType", "FPConfig", "ExecCapabilities", "CommandQueueProperties", "MemFlags",
           "SVMCapabilities", "AffinityDomain", "AtomicCapabilities", "EnqueueCapabilities",
           "LocalMemType", "MemCacheType", "MemObjectType", "BuildStatus", "ProgramBinaryType",
           "CommandType", "CommandExecutionStatus", "ChannelOrder"]
