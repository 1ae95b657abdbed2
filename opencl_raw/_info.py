"""The one info decoder: typed values for every clGet*Info query.

The table of params and their C types is :mod:`opencl_raw._info_table`; this
module turns a C type into a decoder (a "kind") and runs the query with the C
idiom: ask the size first, then the value. A param the table does not know is
still queried and returned as ``bytes``.

Answers shorter than the C type (a driver quirk): when a driver returns 1, 2 or 4
bytes for a param whose C type is a wider integer (an integer, bitfield or enum
type, e.g. NVIDIA 580's 4 bytes for the ``size_t``
CL_PROGRAM_BUILD_GLOBAL_VARIABLE_TOTAL_SIZE, PoCL 3.1's 4 bytes for the
``cl_bitfield`` CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES), the value is read as an
integer of that width in the host's byte order, zero-extended for unsigned C
types (for those, what a C program reading into a zeroed variable of a
little-endian host sees) and sign-extended for signed ones, and an
:class:`~opencl_raw.errors.OpenCLRawWarning` names the param and both sizes,
once per param and process. Any other size
mismatch (a handle, a string or struct where a number is declared, a longer
answer) raises ValueError naming the param and both sizes.
"""
from __future__ import annotations

import _thread
import ctypes
import os
import sys
import warnings

from . import raw
from .errors import CLError, OpenCLRawWarning
from ._info_table import FUNCTION_OF_GROUP, INFO

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Sequence, Tuple


# cl_* handle type name -> handle class; the handle classes register themselves.
CLASS_BY_HANDLE_TYPE: Dict[str, Any] = {}


def pairs_from_array(values: Sequence[int]) -> Tuple[Tuple[int, int], ...]:
    """(name, value) pairs from a zero-terminated property list (as returned by get_info)."""
    out = []
    for i in range(0, len(values) - 1, 2):
        if values[i] == 0:
            break
        out.append((int(values[i]), int(values[i + 1])))
    return tuple(out)


# --------------------------------------------------------------------------- #
# Flag and enum types for typed values
# --------------------------------------------------------------------------- #

def _members(strip: str, *names: str) -> Dict[str, int]:
    return {name[len(strip):]: getattr(raw, name) for name in names}


def _prefixed(prefix: str, exclude: Sequence[str] = ()) -> Dict[str, int]:
    return {name[len(prefix):]: value for name, value in vars(raw).items()
            if name.startswith(prefix) and name not in exclude and isinstance(value, int)
            and raw.CONSTANT_HEADERS.get(name) == "cl.h"}


#: enum.IntFlag / enum.IntEnum types of typed values: name -> (base's name in enum, members thunk,
#: docstring);
#: each class is made on first use (module __getattr__), since making all 37 and scanning the
#: constants for their members took a fifth of the handle layer's import time
_ENUMS: Dict[str, Tuple[str, Callable[[], Dict[str, int]], str]] = {
    "DeviceType": ("IntFlag", lambda: _members("CL_DEVICE_TYPE_",
        "CL_DEVICE_TYPE_DEFAULT", "CL_DEVICE_TYPE_CPU", "CL_DEVICE_TYPE_GPU", "CL_DEVICE_TYPE_ACCELERATOR",
        "CL_DEVICE_TYPE_CUSTOM"),
        'cl_device_type bits (CL_DEVICE_TYPE_*).'),
    "FPConfig": ("IntFlag", lambda: _prefixed("CL_FP_"),
        'cl_device_fp_config bits (CL_FP_*).'),
    "ExecCapabilities": ("IntFlag", lambda: _prefixed("CL_EXEC_"),
        'cl_device_exec_capabilities bits (CL_EXEC_*).'),
    "CommandQueueProperties": ("IntFlag", lambda: _members("CL_QUEUE_",
        "CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE", "CL_QUEUE_PROFILING_ENABLE", "CL_QUEUE_ON_DEVICE",
        "CL_QUEUE_ON_DEVICE_DEFAULT"),
        'cl_command_queue_properties bits.'),
    "MemFlags": ("IntFlag", lambda: _members("CL_MEM_",
        "CL_MEM_READ_WRITE", "CL_MEM_WRITE_ONLY", "CL_MEM_READ_ONLY", "CL_MEM_USE_HOST_PTR",
        "CL_MEM_ALLOC_HOST_PTR", "CL_MEM_COPY_HOST_PTR", "CL_MEM_HOST_WRITE_ONLY", "CL_MEM_HOST_READ_ONLY",
        "CL_MEM_HOST_NO_ACCESS", "CL_MEM_SVM_FINE_GRAIN_BUFFER", "CL_MEM_SVM_ATOMICS",
        "CL_MEM_KERNEL_READ_AND_WRITE"),
        'cl_mem_flags bits.'),
    "SVMCapabilities": ("IntFlag", lambda: _prefixed("CL_DEVICE_SVM_", exclude=("CL_DEVICE_SVM_CAPABILITIES",)),
        'cl_device_svm_capabilities bits.'),
    "AffinityDomain": ("IntFlag", lambda: _prefixed("CL_DEVICE_AFFINITY_DOMAIN_"),
        'cl_device_affinity_domain bits.'),
    "AtomicCapabilities": ("IntFlag", lambda: _members("CL_DEVICE_",
        "CL_DEVICE_ATOMIC_ORDER_RELAXED", "CL_DEVICE_ATOMIC_ORDER_ACQ_REL", "CL_DEVICE_ATOMIC_ORDER_SEQ_CST",
        "CL_DEVICE_ATOMIC_SCOPE_WORK_ITEM", "CL_DEVICE_ATOMIC_SCOPE_WORK_GROUP", "CL_DEVICE_ATOMIC_SCOPE_DEVICE",
        "CL_DEVICE_ATOMIC_SCOPE_ALL_DEVICES"),
        'cl_device_atomic_capabilities bits.'),
    "EnqueueCapabilities": ("IntFlag", lambda: _members("CL_DEVICE_", "CL_DEVICE_QUEUE_SUPPORTED",
        "CL_DEVICE_QUEUE_REPLACEABLE_DEFAULT"),
        'cl_device_device_enqueue_capabilities bits.'),
    "LocalMemType": ("IntEnum", lambda: _members("CL_", "CL_NONE", "CL_LOCAL", "CL_GLOBAL"),
        'cl_device_local_mem_type.'),
    "MemCacheType": ("IntEnum", lambda: _members("CL_", "CL_NONE", "CL_READ_ONLY_CACHE", "CL_READ_WRITE_CACHE"),
        'cl_device_mem_cache_type.'),
    "MemObjectType": ("IntEnum", lambda: _prefixed("CL_MEM_OBJECT_", exclude=(
        "CL_MEM_OBJECT_ALLOCATION_FAILURE",)),
        'cl_mem_object_type (CL_MEM_OBJECT_*).'),
    "BuildStatus": ("IntEnum", lambda: _members("CL_BUILD_", "CL_BUILD_SUCCESS", "CL_BUILD_NONE", "CL_BUILD_ERROR",
        "CL_BUILD_IN_PROGRESS"),
        'cl_build_status.'),
    "ProgramBinaryType": ("IntEnum", lambda: _prefixed("CL_PROGRAM_BINARY_TYPE_"),
        'cl_program_binary_type.'),
    "CommandType": ("IntEnum", lambda: _prefixed("CL_COMMAND_", exclude=(
        "CL_COMMAND_QUEUE_PROPERTIES",)),
        'cl_command_type (CL_COMMAND_*).'),
    "CommandExecutionStatus": ("IntEnum", lambda: _members("CL_",
        "CL_COMPLETE", "CL_RUNNING", "CL_SUBMITTED", "CL_QUEUED"),
        'Execution status of a command (CL_QUEUED ... CL_COMPLETE; negative: an error code).'),
    "ChannelOrder": ("IntEnum", lambda: {n[3:]: v for n, v in vars(raw).items() if isinstance(v, int) and
        0x10B0 <= v <= 0x10C3 and raw.CONSTANT_HEADERS.get(n) == "cl.h" and n != "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR"},
        'cl_channel_order.'),
    "ChannelType": ("IntEnum", lambda: {n[3:]: v for n, v in vars(raw).items() if isinstance(v, int) and
        0x10D0 <= v <= 0x10E0 and raw.CONSTANT_HEADERS.get(n) == "cl.h"},
        'cl_channel_type.'),
    "AddressingMode": ("IntEnum", lambda: _prefixed("CL_ADDRESS_"),
        'cl_addressing_mode (CL_ADDRESS_*).'),
    "FilterMode": ("IntEnum", lambda: _prefixed("CL_FILTER_"),
        'cl_filter_mode (CL_FILTER_*).'),
    "KernelArgAddressQualifier": ("IntEnum", lambda: _prefixed(
        "CL_KERNEL_ARG_ADDRESS_", exclude=("CL_KERNEL_ARG_ADDRESS_QUALIFIER",)),
        'cl_kernel_arg_address_qualifier.'),
    "KernelArgAccessQualifier": ("IntEnum", lambda: _prefixed(
        "CL_KERNEL_ARG_ACCESS_", exclude=("CL_KERNEL_ARG_ACCESS_QUALIFIER",)),
        'cl_kernel_arg_access_qualifier.'),
    "KernelArgTypeQualifier": ("IntFlag", lambda: _prefixed(
        "CL_KERNEL_ARG_TYPE_", exclude=("CL_KERNEL_ARG_TYPE_NAME", "CL_KERNEL_ARG_TYPE_QUALIFIER",
                                        "CL_KERNEL_ARG_TYPE_NONE")),
        'cl_kernel_arg_type_qualifier bits.'),
    # -- extension flag and enum types (cl_ext.h) --
    "CommandBufferCapabilities": ("IntFlag", lambda: _members("CL_COMMAND_BUFFER_CAPABILITY_",
        "CL_COMMAND_BUFFER_CAPABILITY_KERNEL_PRINTF_KHR", "CL_COMMAND_BUFFER_CAPABILITY_DEVICE_SIDE_ENQUEUE_KHR",
        "CL_COMMAND_BUFFER_CAPABILITY_SIMULTANEOUS_USE_KHR", "CL_COMMAND_BUFFER_CAPABILITY_OUT_OF_ORDER_KHR"),
        'cl_device_command_buffer_capabilities_khr bits (cl_khr_command_buffer).'),
    "CommandBufferState": ("IntEnum", lambda: _members("CL_COMMAND_BUFFER_STATE_",
        "CL_COMMAND_BUFFER_STATE_RECORDING_KHR", "CL_COMMAND_BUFFER_STATE_EXECUTABLE_KHR",
        "CL_COMMAND_BUFFER_STATE_PENDING_KHR", "CL_COMMAND_BUFFER_STATE_INVALID_KHR"),
        'cl_command_buffer_state_khr (cl_khr_command_buffer).'),
    "MutableDispatchFields": ("IntFlag", lambda: _members("CL_MUTABLE_DISPATCH_",
        "CL_MUTABLE_DISPATCH_GLOBAL_OFFSET_KHR", "CL_MUTABLE_DISPATCH_GLOBAL_SIZE_KHR",
        "CL_MUTABLE_DISPATCH_LOCAL_SIZE_KHR", "CL_MUTABLE_DISPATCH_ARGUMENTS_KHR", "CL_MUTABLE_DISPATCH_EXEC_INFO_KHR"),
        'cl_mutable_dispatch_fields_khr bits (cl_khr_command_buffer_mutable_dispatch).'),
    "IntegerDotProductCapabilities": ("IntFlag", lambda: _members(
        "CL_DEVICE_INTEGER_DOT_PRODUCT_", "CL_DEVICE_INTEGER_DOT_PRODUCT_INPUT_4x8BIT_PACKED_KHR",
        "CL_DEVICE_INTEGER_DOT_PRODUCT_INPUT_4x8BIT_KHR"),
        'cl_device_integer_dot_product_capabilities_khr bits.'),
    "SemaphoreType": ("IntEnum", lambda: _members("CL_SEMAPHORE_TYPE_", "CL_SEMAPHORE_TYPE_BINARY_KHR"),
        'cl_semaphore_type_khr (cl_khr_semaphore).'),
    "ExternalMemoryHandleType": ("IntEnum", lambda: _members("CL_EXTERNAL_MEMORY_HANDLE_",
        "CL_EXTERNAL_MEMORY_HANDLE_OPAQUE_FD_KHR", "CL_EXTERNAL_MEMORY_HANDLE_OPAQUE_WIN32_KHR",
        "CL_EXTERNAL_MEMORY_HANDLE_OPAQUE_WIN32_KMT_KHR", "CL_EXTERNAL_MEMORY_HANDLE_D3D11_TEXTURE_KHR",
        "CL_EXTERNAL_MEMORY_HANDLE_D3D11_TEXTURE_KMT_KHR", "CL_EXTERNAL_MEMORY_HANDLE_D3D12_HEAP_KHR",
        "CL_EXTERNAL_MEMORY_HANDLE_D3D12_RESOURCE_KHR", "CL_EXTERNAL_MEMORY_HANDLE_DMA_BUF_KHR"),
        'cl_external_memory_handle_type_khr (cl_khr_external_memory_*).'),
    "ExternalSemaphoreHandleType": ("IntEnum", lambda: _members("CL_SEMAPHORE_HANDLE_",
        "CL_SEMAPHORE_HANDLE_OPAQUE_FD_KHR", "CL_SEMAPHORE_HANDLE_OPAQUE_WIN32_KHR",
        "CL_SEMAPHORE_HANDLE_OPAQUE_WIN32_KMT_KHR", "CL_SEMAPHORE_HANDLE_SYNC_FD_KHR",
        "CL_SEMAPHORE_HANDLE_D3D12_FENCE_KHR"),
        'cl_external_semaphore_handle_type_khr (cl_khr_external_semaphore_*).'),
    "USMCapabilities": ("IntFlag", lambda: _members("CL_UNIFIED_SHARED_MEMORY_",
        "CL_UNIFIED_SHARED_MEMORY_ACCESS_INTEL", "CL_UNIFIED_SHARED_MEMORY_ATOMIC_ACCESS_INTEL",
        "CL_UNIFIED_SHARED_MEMORY_CONCURRENT_ACCESS_INTEL", "CL_UNIFIED_SHARED_MEMORY_CONCURRENT_ATOMIC_ACCESS_INTEL"),
        'cl_device_unified_shared_memory_capabilities_intel bits (cl_intel_unified_shared_memory).'),
    "USMType": ("IntEnum", lambda: _members("CL_MEM_TYPE_", "CL_MEM_TYPE_UNKNOWN_INTEL", "CL_MEM_TYPE_HOST_INTEL",
        "CL_MEM_TYPE_DEVICE_INTEL", "CL_MEM_TYPE_SHARED_INTEL"),
        'cl_unified_shared_memory_type_intel (cl_intel_unified_shared_memory).'),
    "MemAllocFlagsINTEL": ("IntFlag", lambda: _members("CL_MEM_ALLOC_",
        "CL_MEM_ALLOC_WRITE_COMBINED_INTEL", "CL_MEM_ALLOC_INITIAL_PLACEMENT_DEVICE_INTEL",
        "CL_MEM_ALLOC_INITIAL_PLACEMENT_HOST_INTEL"),
        'cl_mem_alloc_flags_intel bits (cl_intel_unified_shared_memory).'),
    "FeatureCapabilitiesINTEL": ("IntFlag", lambda: _members("CL_DEVICE_FEATURE_FLAG_",
        "CL_DEVICE_FEATURE_FLAG_DP4A_INTEL", "CL_DEVICE_FEATURE_FLAG_DPAS_INTEL"),
        'cl_device_feature_capabilities_intel bits (cl_intel_device_attribute_query).'),
    "SchedulingControlsARM": ("IntFlag", lambda: _members("CL_DEVICE_SCHEDULING_",
        "CL_DEVICE_SCHEDULING_KERNEL_BATCHING_ARM", "CL_DEVICE_SCHEDULING_WORKGROUP_BATCH_SIZE_ARM",
        "CL_DEVICE_SCHEDULING_WORKGROUP_BATCH_SIZE_MODIFIER_ARM", "CL_DEVICE_SCHEDULING_DEFERRED_FLUSH_ARM",
        "CL_DEVICE_SCHEDULING_REGISTER_ALLOCATION_ARM", "CL_DEVICE_SCHEDULING_WARP_THROTTLING_ARM",
        "CL_DEVICE_SCHEDULING_COMPUTE_UNIT_BATCH_QUEUE_SIZE_ARM"),
        'cl_device_scheduling_controls_capabilities_arm bits (cl_arm_scheduling_controls).'),
    "ControlledTerminationARM": ("IntFlag", lambda: _members("CL_DEVICE_CONTROLLED_TERMINATION_",
        "CL_DEVICE_CONTROLLED_TERMINATION_SUCCESS_ARM", "CL_DEVICE_CONTROLLED_TERMINATION_FAILURE_ARM",
        "CL_DEVICE_CONTROLLED_TERMINATION_QUERY_ARM"),
        'cl_device_controlled_termination_capabilities_arm bits (cl_arm_controlled_kernel_termination).'),
    "TerminationReasonARM": ("IntEnum", lambda: _members("CL_COMMAND_TERMINATION_",
        "CL_COMMAND_TERMINATION_COMPLETION_ARM", "CL_COMMAND_TERMINATION_CONTROLLED_SUCCESS_ARM",
        "CL_COMMAND_TERMINATION_CONTROLLED_FAILURE_ARM", "CL_COMMAND_TERMINATION_ERROR_ARM"),
        'cl_command_termination_reason_arm (cl_arm_controlled_kernel_termination).'),
}
_enum_lock = _thread.allocate_lock()


def enum_class(name: str) -> type:
    """The enum class ``name`` of _ENUMS (e.g. ``'DeviceType'``), made on first use; also
    reached as this module's attribute. Raises KeyError for another name."""
    cls = globals().get(name)
    if cls is None:
        base, members, doc = _ENUMS[name]
        import enum                    # (2 ms: only once a value needs its class)
        with _enum_lock:               # one class per name, also when threads race
            cls = globals().get(name)
            if cls is None:
                cls = getattr(enum, base)(name, members(), module=__name__)
                cls.__doc__ = doc
                globals()[name] = cls
    return cls


def __getattr__(name: str) -> type:
    if name in _ENUMS:
        return enum_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_ENUMS))


def _converter(name: str) -> Callable[[int], Any]:
    """The decoder of values of enum ``name``: an IntFlag of any bits; an IntEnum member, or the
    int itself for a value the enum does not know. The class is made on the first value."""
    flag = _ENUMS[name][0] == "IntFlag"

    def convert(value: int):
        cls = globals().get(name) or enum_class(name)
        if flag:
            return cls(value)
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
NAME_VERSIONS = NameVersion()

#: C types whose values become enum.IntFlag / enum.IntEnum members
ENUM_OF_C_TYPE = {
    "cl_device_type": "DeviceType", "cl_device_fp_config": "FPConfig",
    "cl_device_exec_capabilities": "ExecCapabilities", "cl_command_queue_properties": "CommandQueueProperties",
    "cl_mem_flags": "MemFlags", "cl_device_svm_capabilities": "SVMCapabilities",
    "cl_device_affinity_domain": "AffinityDomain", "cl_device_atomic_capabilities": "AtomicCapabilities",
    "cl_device_device_enqueue_capabilities": "EnqueueCapabilities",
    "cl_device_local_mem_type": "LocalMemType", "cl_device_mem_cache_type": "MemCacheType",
    "cl_mem_object_type": "MemObjectType", "cl_build_status": "BuildStatus",
    "cl_program_binary_type": "ProgramBinaryType", "cl_command_type": "CommandType",
    "cl_channel_order": "ChannelOrder", "cl_channel_type": "ChannelType", "cl_addressing_mode": "AddressingMode",
    "cl_filter_mode": "FilterMode", "cl_kernel_arg_address_qualifier": "KernelArgAddressQualifier",
    "cl_kernel_arg_access_qualifier": "KernelArgAccessQualifier",
    "cl_kernel_arg_type_qualifier": "KernelArgTypeQualifier",
    "cl_device_command_buffer_capabilities_khr": "CommandBufferCapabilities",
    "cl_command_buffer_state_khr": "CommandBufferState", "cl_mutable_dispatch_fields_khr": "MutableDispatchFields",
    "cl_device_integer_dot_product_capabilities_khr": "IntegerDotProductCapabilities",
    "cl_semaphore_type_khr": "SemaphoreType", "cl_external_memory_handle_type_khr": "ExternalMemoryHandleType",
    "cl_external_semaphore_handle_type_khr": "ExternalSemaphoreHandleType",
    "cl_device_unified_shared_memory_capabilities_intel": "USMCapabilities",
    "cl_unified_shared_memory_type_intel": "USMType", "cl_mem_alloc_flags_intel": "MemAllocFlagsINTEL",
    "cl_device_feature_capabilities_intel": "FeatureCapabilitiesINTEL",
    "cl_device_svm_capabilities_arm": "SVMCapabilities",  # the same bits as cl_device_svm_capabilities
    "cl_device_scheduling_controls_capabilities_arm": "SchedulingControlsARM",
    "cl_device_controlled_termination_capabilities_arm": "ControlledTerminationARM",
    "cl_command_termination_reason_arm": "TerminationReasonARM",
}
#: params whose plain C type (cl_int) carries an enumeration
ENUM_OF_PARAM = {"CL_EVENT_COMMAND_EXECUTION_STATUS": "CommandExecutionStatus"}


class Struct(Kind):
    """One struct (e.g. cl_image_format): returned as a ctypes struct copy."""

    def __init__(self, ctype):
        self.ctype, self.size, self.c_type = ctype, ctypes.sizeof(ctype), ctype.__name__

    def decode(self, buf, nbytes):
        return self.ctype.from_buffer_copy(buf)


def _ctype_of(name: str):
    if name in ("size_t",):
        return ctypes.c_size_t
    if name == "void *":
        return ctypes.c_void_p
    if name in ("unsigned char", "char"):
        return ctypes.c_ubyte
    return getattr(raw, name)


def kind_of(c_type: str, param: str = "") -> Kind:
    """The decoder for a C type written as in :mod:`opencl_raw._info_table`.

    Raises KeyError/AttributeError for a C type this binding does not know.
    """
    if c_type == "char[]":
        return STR
    if c_type == "unsigned char *[]":
        return Binaries()
    if c_type in ("cl_name_version[]", "cl_name_version_khr[]"):  # one layout (cl_khr_extended_versioning)
        return NAME_VERSIONS
    if c_type.endswith("[] properties"):
        return Properties(_ctype_of(c_type[:-len("[] properties")]), c_type=c_type[:-len("[] properties")])
    if c_type.endswith("]"):
        element, _, count = c_type[:-1].partition("[")
        if element in ("cl_uchar", "unsigned char"):
            kind = Kind()
            kind.c_type = c_type
            if count:
                kind.size = int(count)
            return kind
        if element in CLASS_BY_HANDLE_TYPE or isinstance(getattr(raw, element, None), type) and \
                issubclass(getattr(raw, element), raw._Handle):
            return HandleArray(element)
        name = ENUM_OF_C_TYPE.get(element)
        return Array(_ctype_of(element), _converter(name) if name else None, c_type=element)
    ctype = _ctype_of(c_type)
    if isinstance(ctype, type) and issubclass(ctype, raw._Handle):
        return Handle(c_type)
    if isinstance(ctype, type) and issubclass(ctype, (ctypes.Structure, ctypes.Union)):
        return Struct(ctype)
    if c_type == "cl_bool":
        return Scalar(ctype, bool, c_type=c_type)
    if c_type == "void *":
        return Scalar(ctype, lambda v: v or 0, c_type=c_type)
    name = ENUM_OF_PARAM.get(param) or ENUM_OF_C_TYPE.get(c_type)
    if name is not None:
        return Scalar(ctype, _converter(name), c_type=c_type)
    return Scalar(ctype, c_type=c_type)


class _PerGroup(dict):
    """group -> {param value: ...}, each group's dict made on first use from its INFO rows (by
    ``make(name, c_type)``). A group INFO does not have raises KeyError."""

    def __init__(self, make: Callable[[str, str], Any]):
        super().__init__()
        self._make = make

    def __missing__(self, group: str) -> Dict[int, Any]:
        rows = self[group] = {getattr(raw, name): self._make(name, c_type) for name, c_type in INFO[group].items()}
        return rows


#: param value -> kind, per group
_BY_VALUE: Dict[str, Dict[int, Kind]] = _PerGroup(lambda name, c_type: kind_of(c_type, name))
#: param value -> CL name, per group
NAMES: Dict[str, Dict[int, str]] = _PerGroup(lambda name, c_type: name)


def param_value(param) -> int:
    """The numeric value of a param given as an int or a CL name string."""
    if isinstance(param, str):
        value = getattr(raw, param, None)
        if not isinstance(value, int):
            raise ValueError(f"unknown OpenCL constant {param!r}")
        return value
    if isinstance(param, int) and not isinstance(param, bool):
        if not 0 <= param <= 0xFFFFFFFF:     # a cl_uint: ctypes would wrap it into another param
            raise ValueError(f"param {param:#x} is not a cl_uint info param")
        return int(param)
    raise TypeError(f"param must be an int or a CL_* name, got {type(param).__name__}")


#: ctypes ``_type_`` codes of the C integer types (signed: lower case)
_INTEGER_CODES = frozenset("bBhHiIlLqQ")
#: widths a shorter answer may have to be read as an integer (bytes)
SHORT_WIDTHS = (1, 2, 4)
#: (group, param value) of every param whose short answer was reported already (one warning each)
_short_warned: set = set()


def _short_integer(kind: Kind, buf: ctypes.Array, nbytes: int) -> Tuple[bool, Any]:
    """(True, value) when a fixed-size answer of ``nbytes`` bytes, fewer than ``kind`` has, can be
    read as an integer of that width (see the module docstring); else (False, None)."""
    code = getattr(getattr(kind, "ctype", None), "_type_", None)
    if not isinstance(kind, Scalar) or code not in _INTEGER_CODES or nbytes not in SHORT_WIDTHS \
            or nbytes >= kind.size:
        return False, None
    number = int.from_bytes(buf.raw[:nbytes], sys.byteorder, signed=code.islower())
    return True, kind.convert(number) if kind.convert else number


def query_with_note(group: str, function: Callable, args: tuple, param) -> Tuple[Any, Optional[str]]:
    """Like :func:`query`, without warning: ``(value, note)``, where ``note`` is None, or the text
    of the warning :func:`query` would give for an answer shorter than the param's C type.

    Args and exceptions as :func:`query`.
    """
    if param.__class__ is int:
        kind = _BY_VALUE[group].get(param)
        if kind.__class__ is Scalar:
            # The short path of a scalar (a table hit: a valid cl_uint param): the value read
            # straight into its ctypes object; any answer but the full size goes the long way.
            out, size = kind.ctype(), ctypes.c_size_t()
            try:
                function(*args, param, kind.size, ctypes.byref(out), ctypes.byref(size))
            except CLError as exc:
                if exc.code != raw.CL_INVALID_VALUE:
                    raise
            else:
                if size.value == kind.size:
                    return (kind.convert(out.value) if kind.convert else out.value), None
    value = param_value(param)
    kind = _BY_VALUE[group].get(value, BYTES)
    if isinstance(kind, Binaries):
        return _program_binaries(function, args), None
    size = ctypes.c_size_t()
    if kind.size is not None:
        # A fixed-size value takes one call; the returned size is still checked.
        buf = ctypes.create_string_buffer(kind.size)
        try:
            function(*args, value, kind.size, buf, ctypes.byref(size))
        except CLError as exc:
            if exc.code != raw.CL_INVALID_VALUE:
                raise
            function(*args, value, 0, None, ctypes.byref(size))  # the driver wants more room: say how much
        if size.value == kind.size:
            return kind.decode(buf, kind.size), None
        name = NAMES[group].get(value, hex(value))
        mismatch = f"{name}: the driver returned {size.value} bytes, but {kind.c_type} has {kind.size}"
        readable, number = _short_integer(kind, buf, size.value)
        if readable:
            return number, f"{mismatch}; read as a {size.value}-byte integer"
        raise ValueError(mismatch)
    function(*args, value, 0, None, ctypes.byref(size))
    nbytes = size.value
    buf = ctypes.create_string_buffer(max(nbytes, 1))
    if nbytes:
        function(*args, value, nbytes, buf, None)
    return kind.decode(buf, nbytes), None


def query(group: str, function: Callable, args: tuple, param) -> Any:
    """Query one info param and decode it: one call for a fixed-size value, else the C idiom
    (size first, then value).

    ``function`` is a checked ``clGet*Info``; ``args`` its arguments before
    ``param_name``; ``param`` an int or a CL name. A param the table doesn't know returns
    ``bytes``. An answer of 1, 2 or 4 bytes for a wider integer C type is read as an integer
    of that width, with an OpenCLRawWarning naming the param and both sizes (once per param
    and process); any other size that disagrees with the declared type raises ValueError
    naming the param and both sizes. Raises CLError from the driver (e.g. InvalidValue for
    an unsupported param).
    """
    result, note = query_with_note(group, function, args, param)
    if note is not None:
        key = (group, param_value(param))
        if key not in _short_warned:
            _short_warned.add(key)
            warnings.warn(note, OpenCLRawWarning, stacklevel=_stacklevel_outside_package())
    return result


def _stacklevel_outside_package() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` in the caller that names the first frame outside
    the opencl_raw package (the user's call of ``get_info`` or of an info attribute)."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(2), 2
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == package:
        frame, level = frame.f_back, level + 1
    return level


def _program_binaries(function: Callable, args: tuple):
    sizes = query("Program", function, args, raw.CL_PROGRAM_BINARY_SIZES)
    buffers = [ctypes.create_string_buffer(max(n, 1)) for n in sizes]
    pointers = (ctypes.c_char_p * len(sizes))(*[ctypes.addressof(b) for b in buffers])
    function(*args, raw.CL_PROGRAM_BINARIES, ctypes.sizeof(pointers), pointers, None)
    return [b.raw[:n] for b, n in zip(buffers, sizes)]


class InfoAttribute:
    """A read-only attribute that queries one info param: ``device.max_compute_units``."""

    __slots__ = ("param", "doc")

    def __init__(self, group: str, param: str):
        self.param = getattr(raw, param)
        since = raw.CONSTANT_SINCE.get(param, "")
        self.doc = (f"{param}: {INFO[group][param]} ({FUNCTION_OF_GROUP[group]}"
                        f"{', ' + since if since else ''}). Raises CLError, ReleasedHandleError.")

    @property
    def __doc__(self):  # help() and IDEs read the docstring of the descriptor
        return self.doc

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        return obj.get_info(self.param)

    def __set__(self, obj, value):
        raise AttributeError("info attributes are read-only")


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


__all__ = ["INFO", "InfoAttribute", "kind_of", "query", "query_with_note", "pairs_from_array", "CLASS_BY_HANDLE_TYPE",
           "param_value", "split_version", "attribute_names", "NameVersionTuple", "enum_class", *_ENUMS]
