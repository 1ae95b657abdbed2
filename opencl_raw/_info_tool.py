"""``python -m opencl_raw info``: every info param of every platform and device, in three forms.

Collection (:func:`collect`) asks each platform for every param of the table's
``Platform`` group and each device for every param of its ``Device`` group
(:mod:`opencl_raw._info_table`). For each device it also builds a one-line
kernel (:data:`PROBE_SOURCE`) and asks for every param of the
``KernelWorkGroup`` group, as clinfo does for its "(kernel)" values. A failing
query does not stop anything: the row keeps the error (its CL name, e.g.
``CL_INVALID_VALUE``) and the next param is asked.

Rendering:

- :func:`render_human`: aligned ``label  value`` lines, flags by name, byte
  sizes with binary units (``4096 (4KiB)``), booleans ``Yes``/``No``;
- :func:`render_raw`: one line per param, ``[<platform>/<device>]  CL_NAME  value``
  in the notation of ``clinfo --raw`` (``CL_TRUE``, ``CL_FP_DENORM | CL_FP_INF_NAN``,
  space-separated lists, ``name:0x400000`` for versioned names, hex vendor ids
  and versions). ``<platform>`` is the platform's ICD suffix
  (CL_PLATFORM_ICD_SUFFIX_KHR), as in clinfo, or ``P<index>`` when it has none
  or shares it with another platform; ``<device>`` is the device index, ``*``
  for platform params. An error shows as ``<error: CL_INVALID_VALUE>``;
- :func:`render_json`: a list of platforms ``{"index", "prefix", "params",
  "errors", "warnings", "devices": [{"index", "params", "errors", "warnings"}]}``;
  values as JSON types, flags as lists of CL names, enum values as CL names,
  versions as ``"major.minor.patch"``.

A driver that returns fewer bytes than the param's integer type has (PoCL 3.1
does for CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES, NVIDIA 580 for
CL_PROGRAM_BUILD_GLOBAL_VARIABLE_TOTAL_SIZE) gets its value read from the bytes
it gave, as :func:`opencl_raw._info.query` reads it, with a warning (stderr in
the raw form, a note in the human form, ``"warnings"`` in JSON): what a C
program reading into a zeroed variable sees. Any other size mismatch is an
error on its row: ``unexpected size (...)``.
"""
from __future__ import annotations

import ctypes
import enum
import json
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, TextIO, Tuple, Union

from . import _info, checked, raw
from ._info_table import FUNCTION_OF_GROUP, INFO
from .errors import CLError, FunctionUnavailableError

#: OpenCL C source of the kernel built on each device for the KernelWorkGroup values
PROBE_SOURCE = """\
__kernel void opencl_raw_probe(__global float *data, const float factor)
{
    data[get_global_id(0)] *= factor;
}
"""
PROBE_KERNEL = "opencl_raw_probe"

#: groups shown for each platform and each device (KernelWorkGroup: of the probe kernel)
PLATFORM_GROUPS = ("Platform",)
DEVICE_GROUPS = ("Device",)

#: integer params shown in hex (clinfo does for the vendor id: vendor and device ids are PCI ids)
HEX_PARAMS = frozenset({"CL_DEVICE_VENDOR_ID", "CL_DEVICE_PCIE_ID_AMD", "CL_DEVICE_ID_INTEL"})

#: integer params that are byte counts (the human form adds KiB/MiB/GiB); besides
#: these, every cl_ulong param named *_SIZE is one
BYTE_SIZE_PARAMS = frozenset({
    "CL_DEVICE_MAX_PARAMETER_SIZE", "CL_DEVICE_MAX_GLOBAL_VARIABLE_SIZE",
    "CL_DEVICE_GLOBAL_VARIABLE_PREFERRED_TOTAL_SIZE", "CL_DEVICE_PRINTF_BUFFER_SIZE",
    "CL_DEVICE_QUEUE_ON_DEVICE_PREFERRED_SIZE", "CL_DEVICE_QUEUE_ON_DEVICE_MAX_SIZE",
    "CL_DEVICE_PIPE_MAX_PACKET_SIZE", "CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE",
})

#: units of other integer params in the human form
UNITS = {
    "CL_DEVICE_MAX_CLOCK_FREQUENCY": "MHz",
    "CL_DEVICE_PROFILING_TIMER_RESOLUTION": "ns",
    "CL_PLATFORM_HOST_TIMER_RESOLUTION": "ns",
    "CL_DEVICE_ADDRESS_BITS": "bits",
    "CL_DEVICE_MEM_BASE_ADDR_ALIGN": "bits",
    "CL_DEVICE_MIN_DATA_TYPE_ALIGN_SIZE": "bytes",
    "CL_DEVICE_PREFERRED_PLATFORM_ATOMIC_ALIGNMENT": "bytes",
    "CL_DEVICE_PREFERRED_GLOBAL_ATOMIC_ALIGNMENT": "bytes",
    "CL_DEVICE_PREFERRED_LOCAL_ATOMIC_ALIGNMENT": "bytes",
    "CL_DEVICE_IMAGE2D_MAX_WIDTH": "pixels", "CL_DEVICE_IMAGE2D_MAX_HEIGHT": "pixels",
    "CL_DEVICE_IMAGE3D_MAX_WIDTH": "pixels", "CL_DEVICE_IMAGE3D_MAX_HEIGHT": "pixels",
    "CL_DEVICE_IMAGE3D_MAX_DEPTH": "pixels", "CL_DEVICE_IMAGE_MAX_BUFFER_SIZE": "pixels",
    "CL_DEVICE_IMAGE_PITCH_ALIGNMENT": "pixels", "CL_DEVICE_IMAGE_BASE_ADDRESS_ALIGNMENT": "pixels",
    "CL_DEVICE_IMAGE_MAX_ARRAY_SIZE": "images",
}

#: Names of values of C types (or of single params) that carry no enum in _info:
#: C type or param -> ("bits" or "enum", prefix, suffix) of the header constants
#: that name them. Constants that are params themselves are not names of values.
NAMED_VALUES: Dict[str, Tuple[str, str, str]] = {
    "cl_device_command_buffer_capabilities_khr": ("bits", "CL_COMMAND_BUFFER_CAPABILITY_", "_KHR"),
    "cl_mutable_dispatch_fields_khr": ("bits", "CL_MUTABLE_DISPATCH_", "_KHR"),
    "cl_device_integer_dot_product_capabilities_khr": ("bits", "CL_DEVICE_INTEGER_DOT_PRODUCT_INPUT_", "_KHR"),
    "cl_device_unified_shared_memory_capabilities_intel": ("bits", "CL_UNIFIED_SHARED_MEMORY_", "_INTEL"),
    "cl_device_feature_capabilities_intel": ("bits", "CL_DEVICE_FEATURE_FLAG_", "_INTEL"),
    "cl_device_svm_capabilities_arm": ("bits", "CL_DEVICE_SVM_", "_ARM"),
    "cl_device_scheduling_controls_capabilities_arm": ("bits", "CL_DEVICE_SCHEDULING_", "_ARM"),
    "cl_device_controlled_termination_capabilities_arm": ("bits", "CL_DEVICE_CONTROLLED_TERMINATION_", "_ARM"),
    "cl_device_partition_property_ext": ("enum", "CL_DEVICE_PARTITION_", "_EXT"),
    "CL_DEVICE_AFFINITY_DOMAINS_EXT": ("enum", "CL_AFFINITY_DOMAIN_", "_EXT"),
    "cl_external_memory_handle_type_khr": ("enum", "CL_EXTERNAL_MEMORY_HANDLE_", "_KHR"),
    "cl_external_semaphore_handle_type_khr": ("enum", "CL_SEMAPHORE_HANDLE_", "_KHR"),
    "cl_semaphore_type_khr": ("enum", "CL_SEMAPHORE_TYPE_", "_KHR"),
}

#: cl_device_partition_property values; 0 is what a device that cannot be
#: partitioned returns, which clinfo calls CL_NONE
PARTITION_PROPERTY_NAMES = {0: "CL_NONE", **{
    getattr(raw, n): n for n in ("CL_DEVICE_PARTITION_EQUALLY", "CL_DEVICE_PARTITION_BY_COUNTS",
                                 "CL_DEVICE_PARTITION_BY_AFFINITY_DOMAIN")}}

#: C types of packed versions (shown in hex, like clinfo, and as major.minor.patch)
VERSION_TYPES = frozenset({"cl_version", "cl_version_khr"})

#: the human form's value column: at least LABEL_WIDTH, at most LABEL_WIDTH_MAX (longer labels push
#: their value to the right, as in clinfo)
LABEL_WIDTH, LABEL_WIDTH_MAX = 48, 56


# --------------------------------------------------------------------------- #
# CL names of enum and flag values
# --------------------------------------------------------------------------- #

_RAW_NAMES_BY_VALUE: Dict[int, List[str]] = {}
_CL_NAMES: Dict[type, Dict[int, str]] = {}


def _raw_names_by_value() -> Dict[int, List[str]]:
    if not _RAW_NAMES_BY_VALUE:
        for name, value in vars(raw).items():
            if name.startswith("CL_") and isinstance(value, int) and not isinstance(value, bool):
                _RAW_NAMES_BY_VALUE.setdefault(value, []).append(name)
    return _RAW_NAMES_BY_VALUE


def cl_names(enum_cls: type) -> Dict[int, str]:
    """value -> CL name of each member of one of _info's enum classes.

    The members are named without their CL prefix (``DeviceType.CPU``); the CL
    name is the shortest header constant with the member's value that is
    ``CL_<member>`` or ends in ``_<member>`` (``CL_DEVICE_TYPE_CPU``).
    """
    names = _CL_NAMES.get(enum_cls)
    if names is None:
        by_value = _raw_names_by_value()
        names = {}
        for member_name, member in enum_cls.__members__.items():
            candidates = [n for n in by_value.get(int(member), ())
                          if n == "CL_" + member_name or n.endswith("_" + member_name)]
            if candidates:
                names.setdefault(int(member), min(candidates, key=lambda n: (len(n), n)))
        _CL_NAMES[enum_cls] = names
    return names


_NAMED: Dict[str, Dict[int, str]] = {}


def named_values(c_type: str, param: str = "") -> Tuple[Optional[str], Dict[int, str]]:
    """("bits" or "enum" or None, value -> CL name) for values of ``c_type`` (or of ``param``)
    that have no enum class in _info."""
    if c_type == "cl_device_partition_property":
        return "enum", PARTITION_PROPERTY_NAMES
    key = param if param in NAMED_VALUES else c_type
    spec = NAMED_VALUES.get(key)
    if spec is None:
        return None, {}
    kind, prefix, suffix = spec
    if key not in _NAMED:
        params = {n for rows in INFO.values() for n in rows}
        names: Dict[int, str] = {}
        for name, value in sorted(vars(raw).items()):
            if not (name.startswith(prefix) and name.endswith(suffix) and isinstance(value, int)) \
                    or name in params or value < 0 or (kind == "bits" and (value == 0 or value & (value - 1))):
                continue
            names.setdefault(value, name)
        _NAMED[key] = names
    return kind, _NAMED[key]


def flag_names(value: int, bits: Dict[int, str]) -> List[str]:
    """CL names of the set bits of ``value``, lowest bit first; unknown bits as one hex number."""
    names, rest = [], int(value)
    for bit in sorted(b for b in bits if b > 0 and b & (b - 1) == 0):
        if rest & bit:
            names.append(bits[bit])
            rest &= ~bit
    if rest:
        names.append(hex(rest))
    return names


# --------------------------------------------------------------------------- #
# Collection
# --------------------------------------------------------------------------- #

@dataclass
class Row:
    """One param of one platform or device: its value, or the error that came instead."""
    group: str
    name: str
    value: Any = None
    #: what failed instead, e.g. 'CL_INVALID_VALUE' or a message; None on success
    error: Optional[str] = None
    #: the CL error code when the error came from OpenCL
    code: Optional[int] = None
    #: a note about a value that was read despite a driver quirk
    warning: Optional[str] = None

    @property
    def c_type(self) -> str:
        return INFO[self.group][self.name]

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class DeviceReport:
    index: int
    name: str
    rows: List[Row] = field(default_factory=list)


@dataclass
class PlatformReport:
    index: int
    #: clinfo's symbolic platform name: the ICD suffix, or P<index>
    prefix: str
    name: str
    rows: List[Row] = field(default_factory=list)
    devices: List[DeviceReport] = field(default_factory=list)
    #: why the devices could not be listed, if they could not
    devices_error: Optional[str] = None


def _error_text(exc: BaseException) -> Tuple[str, Optional[int]]:
    if isinstance(exc, CLError):
        return exc.name, exc.code
    if isinstance(exc, FunctionUnavailableError):
        return f"{exc.function} is unavailable ({exc.requirement})", None
    return str(exc), None


def query_row(group: str, args: tuple, name: str, function=None) -> Row:
    """One param of ``group`` asked with ``function`` (default: the group's checked clGet*Info)
    and ``args`` (the handles before ``param_name``).

    Never raises for a driver's answer: an error becomes the row's ``error`` (a CL name, or a
    text with the details in parentheses), and an answer shorter than the param's integer
    type, read as :func:`opencl_raw._info.query` reads it, keeps its note in ``warning``.
    """
    function = function or getattr(checked, FUNCTION_OF_GROUP[group])
    try:
        value, note = _info.query_with_note(group, function, args, name)
        return Row(group, name, value, warning=note)
    except ValueError as exc:  # the returned size disagrees with the param's type
        detail = str(exc)
        if detail.startswith(name + ": "):
            detail = detail[len(name) + 2:]
        return Row(group, name, error=f"unexpected size ({detail})")
    except (CLError, FunctionUnavailableError) as exc:
        text, code = _error_text(exc)
        return Row(group, name, error=text, code=code)
    except Exception as exc:  # a value this binding cannot decode must not end the listing
        return Row(group, name, error=f"{type(exc).__name__}: {exc}")


def query_rows(groups: Sequence[str], args: tuple) -> List[Row]:
    return [query_row(group, args, name) for group in groups for name in INFO[group]]


def probe_kernel_rows(device) -> List[Row]:
    """The KernelWorkGroup params of :data:`PROBE_SOURCE` built for ``device``.

    If the context, the build or the kernel fails, every row carries that error.
    """
    from .context import Context
    owned: List[Any] = []
    try:
        try:
            context = Context([device])
            owned.append(context)
            program = context.create_program_with_source(PROBE_SOURCE)
            owned.append(program)
            program.build("", [device])
            kernel = program.create_kernel(PROBE_KERNEL)
            owned.append(kernel)
        except (CLError, FunctionUnavailableError) as exc:
            text, code = _error_text(exc)
            where = f" from {exc.function}" if isinstance(exc, CLError) and exc.function else ""
            text = f"{text}{where} (building the probe kernel)"
            return [Row("KernelWorkGroup", name, error=text, code=code) for name in INFO["KernelWorkGroup"]]
        return query_rows(("KernelWorkGroup",), (kernel.handle, device.handle))
    finally:
        for obj in reversed(owned):
            try:
                obj.release()
            except (CLError, FunctionUnavailableError):
                pass


def _symbolic_names(platforms) -> List[str]:
    """clinfo's name of each platform: the ICD suffix if it has one no other platform has, else P<index>."""
    suffixes = []
    for platform in platforms:
        try:
            suffixes.append(platform.get_info(raw.CL_PLATFORM_ICD_SUFFIX_KHR).strip())
        except (CLError, ValueError):
            suffixes.append("")
    return [s if s and suffixes.count(s) == 1 else f"P{i}" for i, s in enumerate(suffixes)]


def _name_of(handle, param: int) -> str:
    try:
        return handle.get_info(param)
    except (CLError, ValueError) as exc:
        return f"<{_error_text(exc)[0]}>"


def _selected(items: list, key: Union[int, str, None], what: str, name_of) -> List[Tuple[int, Any]]:
    """(index, item) of the items ``key`` picks (all for None), by the rule of select_device."""
    from .platform import _select
    if key is None:
        return list(enumerate(items))
    chosen = _select(items, key, what, name_of)
    return [(i, item) for i, item in enumerate(items) if item is chosen]


def collect(platform: Union[int, str, None] = None, device: Union[int, str, None] = None,
            kernels: bool = True) -> List[PlatformReport]:
    """Every param of the selected platforms and devices.

    ``platform``/``device``: an index or a case-insensitive name substring (the
    first match, as in :func:`opencl_raw.platform.select_device`); None: all.
    A ``device`` key without ``platform`` applies to every platform, and
    platforms with no such device are left out. ``kernels=False`` skips the
    probe kernel. Raises LookupError when nothing matches, CLError when the
    platforms cannot be listed.
    """
    from .platform import get_platform_ids
    platforms = get_platform_ids()
    if not platforms:
        if platform is not None or device is not None:
            raise LookupError("no OpenCL platform found")
        return []
    prefixes = _symbolic_names(platforms)
    reports = []
    for p_index, plat in _selected(platforms, platform, "platform",
                                   lambda p: _name_of(p, raw.CL_PLATFORM_NAME)):
        report = PlatformReport(p_index, prefixes[p_index], _name_of(plat, raw.CL_PLATFORM_NAME))
        try:
            devices = plat.get_device_ids()
        except (CLError, FunctionUnavailableError) as exc:
            devices, report.devices_error = [], _error_text(exc)[0]
        try:
            chosen = _selected(devices, device, "device", lambda d: _name_of(d, raw.CL_DEVICE_NAME))
        except LookupError:
            if platform is not None:
                raise
            continue  # --device alone: this platform has no such device
        report.rows = query_rows(PLATFORM_GROUPS, (plat.handle,))
        for d_index, dev in chosen:
            rows = query_rows(DEVICE_GROUPS, (dev.handle,))
            if kernels:
                rows += probe_kernel_rows(dev)
            report.devices.append(DeviceReport(d_index, _name_of(dev, raw.CL_DEVICE_NAME), rows))
        reports.append(report)
    if not reports:
        raise LookupError(f"no device matches {device!r} on any platform")
    return reports


# --------------------------------------------------------------------------- #
# Values in the three notations
# --------------------------------------------------------------------------- #

def _c_hex(value: int) -> str:
    """C's ``%#x``: ``0x400000``, but ``0`` for zero."""
    return f"{value:#x}" if value else "0"


def _version_text(version: int) -> str:
    return ".".join(map(str, _info.split_version(version)))


def _base_type(c_type: str) -> str:
    """``cl_uint`` of ``cl_uint[]``, ``cl_uchar[16]`` or ``cl_queue_properties[] properties``."""
    return c_type.split("[", 1)[0].strip()


def _is_name_version(value) -> bool:
    return isinstance(value, _info.NameVersionTuple)


def _names_for(value, c_type: str, param: str) -> Tuple[Optional[str], Dict[int, str]]:
    """("bits"/"enum"/None, value -> CL name) for one value of ``c_type``."""
    if isinstance(value, enum.IntFlag):
        return "bits", cl_names(type(value))
    if isinstance(value, enum.Enum):
        return "enum", cl_names(type(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return named_values(_base_type(c_type), param)
    return None, {}


def kind_of_row(row: Row) -> str:
    """How a successful row's value is shown: 'str', 'bool', 'version', 'name_versions',
    'properties', 'list', 'flags', 'enum', 'int', 'float', 'bytes', 'struct' or 'handle'."""
    value, c_type = row.value, row.c_type
    if isinstance(value, str):
        return "str"
    if isinstance(value, bool) or c_type == "cl_bool":
        return "bool"
    if c_type in VERSION_TYPES and isinstance(value, int):
        return "version"
    if c_type.endswith("[] properties"):
        return "properties"
    if isinstance(value, (tuple, list)):
        if value and all(_is_name_version(v) for v in value) or c_type.startswith("cl_name_version"):
            return "name_versions"
        return "list"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, (ctypes.Structure, ctypes.Union)):
        return "struct"
    names_kind, _ = _names_for(value, c_type, row.name)
    if names_kind == "bits":
        return "flags"
    if names_kind == "enum" and isinstance(value, enum.Enum):
        return "enum"
    if names_kind == "enum" and named_values(_base_type(c_type), row.name)[1].get(int(value)):
        return "enum"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "handle"


def _value_name(value, c_type: str, param: str) -> Optional[str]:
    """The CL name of one enum-like value, or None."""
    kind, names = _names_for(value, c_type, param)
    return names.get(int(value)) if kind == "enum" else None


def _handle_text(value) -> str:
    if value is None:
        return "NULL"
    address = getattr(value, "_value", None)
    return _c_hex(address) if isinstance(address, int) else str(value)


def _plain(value) -> Any:
    """A ctypes value (struct, union, array) as plain Python data."""
    if isinstance(value, (ctypes.Structure, ctypes.Union)):
        return {name: _plain(getattr(value, name)) for name, *_ in value._fields_}
    if isinstance(value, ctypes.Array):
        if issubclass(value._type_, (ctypes.c_char, ctypes.c_ubyte, ctypes.c_byte)):
            data = bytes(value)
            return data.split(b"\0", 1)[0].decode("utf-8", "replace") \
                if issubclass(value._type_, ctypes.c_char) else data.hex()
        return [_plain(v) for v in value]
    if isinstance(value, ctypes._SimpleCData):
        return value.value
    return value


def _struct_text(data: Any) -> str:
    if isinstance(data, dict):
        return " ".join(f"{k}={_struct_text(v)}" for k, v in data.items())
    if isinstance(data, list):
        return "[" + " ".join(_struct_text(v) for v in data) + "]"
    return str(data)


def raw_value(row: Row) -> str:
    """The value of ``row`` in the notation of ``clinfo --raw``."""
    if not row.ok:
        return f"<error: {row.error}>"
    value, c_type, kind = row.value, row.c_type, kind_of_row(row)
    if kind == "str":
        return value
    if kind == "bool":
        return "CL_TRUE" if value else "CL_FALSE"
    if kind == "version":
        return _c_hex(value)
    if kind == "name_versions":
        return " ".join(f"{nv.name}:{_c_hex(nv.version)}" for nv in value)
    if kind == "properties":
        return " | ".join(f"{_value_name(k, c_type, row.name) or _c_hex(k)} {_scalar_raw(v, row.name)}"
                          for k, v in value)
    if kind == "list":
        names = [_value_name(v, c_type, row.name) if isinstance(v, int) else None for v in value]
        if value and all(names):
            return " | ".join(names)          # named values: clinfo's separator
        return " ".join(_scalar_raw(v, row.name) for v in value)
    if kind == "flags":
        return " | ".join(flag_names(value, _names_for(value, c_type, row.name)[1]))
    if kind == "enum":
        return _value_name(value, c_type, row.name) or str(int(value))
    return _scalar_raw(value, row.name)


def _uuid_text(data: bytes) -> str:
    h = data.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _luid_text(data: bytes) -> str:
    h = data.hex()
    return f"{h[:4]}-{h[4:]}"


def _pci_bus_text(info) -> str:
    return f"PCI-E, {info.pci_domain:04x}:{info.pci_bus:02x}:{info.pci_device:02x}.{info.pci_function}"


#: params printed in a notation of their own (clinfo's): UUIDs 8-4-4-4-12, LUIDs 4-12, PCI addresses
SPECIAL_RAW = {
    "CL_DEVICE_UUID_KHR": _uuid_text, "CL_DRIVER_UUID_KHR": _uuid_text, "CL_DEVICE_LUID_KHR": _luid_text,
    "CL_DEVICE_PCI_BUS_INFO_KHR": _pci_bus_text,
}


def _scalar_raw(value, param: str) -> str:
    special = SPECIAL_RAW.get(param)
    if special is not None:
        return special(value)
    if isinstance(value, bool):
        return "CL_TRUE" if value else "CL_FALSE"
    if isinstance(value, int):
        return _c_hex(int(value)) if param in HEX_PARAMS else str(int(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (ctypes.Structure, ctypes.Union)):
        return _struct_text(_plain(value))
    return _handle_text(value)


def binary_size(nbytes: int) -> str:
    """``'4096 (4KiB)'``, ``'23129018368 (21.54GiB)'``; a plain number below 1 KiB."""
    nbytes = int(nbytes)
    units = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    if nbytes < 1024:
        return str(nbytes)
    scaled, unit = nbytes / 1024, units[0]
    for next_unit in units[1:]:
        if scaled < 1024:
            break
        scaled, unit = scaled / 1024, next_unit
    text = f"{scaled:.2f}".rstrip("0").rstrip(".")
    return f"{nbytes} ({text}{unit})"


def _is_byte_size(row: Row) -> bool:
    return row.name in BYTE_SIZE_PARAMS or (row.c_type == "cl_ulong" and "_SIZE" in row.name)


_PREFIXES = ("CL_PLATFORM_", "CL_DEVICE_", "CL_KERNEL_", "CL_")


def _short(cl_name: str) -> str:
    for prefix in _PREFIXES:
        if cl_name.startswith(prefix):
            return cl_name[len(prefix):]
    return cl_name


def _human_name(cl_name: str, value=None) -> str:
    """A flag or enum value for people: the _info enum member's name (``CPU``), else the CL
    name without the prefix its kind of values share (``EQUALLY``, ``KERNEL_PRINTF_KHR``)."""
    if isinstance(value, enum.Enum):
        for member_name, member in type(value).__members__.items():
            if int(member) == int(value):
                return member_name
    for _kind, prefix, suffix in sorted(NAMED_VALUES.values(), key=lambda spec: -len(spec[1])):
        if cl_name.startswith(prefix) and cl_name.endswith(suffix):
            return cl_name[len(prefix):len(cl_name) - len(suffix)]
    if cl_name.startswith("CL_DEVICE_PARTITION_"):
        return cl_name[len("CL_DEVICE_PARTITION_"):]
    return _short(cl_name)


def human_value(row: Row) -> str:
    """The value of ``row`` for people: names without their CL prefix, Yes/No, units."""
    if not row.ok:
        return f"error: {row.error}"
    text = _human(row)
    if row.warning:
        text += f"  [{row.warning}]"
    return text


def _human(row: Row) -> str:
    value, c_type, kind = row.value, row.c_type, kind_of_row(row)
    if kind == "str":
        return value.strip() or "(none)"
    if kind == "bool":
        return "Yes" if value else "No"
    if kind == "version":
        return f"{_version_text(value)} ({_c_hex(value)})"
    if kind == "name_versions":
        if not value:
            return "(none)"
        width = max(len(nv.name) for nv in value)
        return "\n".join(f"{nv.name:<{width}}  {_version_text(nv.version)}" for nv in value)
    if kind == "properties":
        return ", ".join(f"{_human_name(_value_name(k, c_type, row.name) or _c_hex(k), k)}="
                         f"{_scalar_raw(v, row.name)}" for k, v in value) or "(none)"
    if kind == "list":
        names = [_value_name(v, c_type, row.name) if isinstance(v, int) else None for v in value]
        if value and all(names):
            return ", ".join(_human_name(n, v) for n, v in zip(names, value) if n != "CL_NONE") or "(none)"
        if c_type == "size_t[]":    # work sizes, one per dimension
            return " x ".join(str(v) for v in value) or "(none)"
        return " ".join(_scalar_raw(v, row.name) for v in value) or "(none)"
    if kind == "flags":
        names = _names_for(value, c_type, row.name)[1]
        by_name = {n: v for v, n in names.items()}
        cls = type(value) if isinstance(value, enum.IntFlag) else None
        return ", ".join(_human_name(n, cls(by_name[n]) if cls and n in by_name else None)
                         for n in flag_names(value, names)) or "(none)"
    if kind == "enum":
        name = _value_name(value, c_type, row.name)
        return _human_name(name, value) if name else str(int(value))
    if kind == "int":
        if row.name in HEX_PARAMS:
            return _c_hex(value)
        if _is_byte_size(row):
            return binary_size(value)
        unit = UNITS.get(row.name)
        return f"{value} {unit}" if unit else str(value)
    if kind == "bytes":
        return value.hex() or "(none)"
    return _scalar_raw(value, row.name)


def json_value(row: Row) -> Any:
    """The value of a successful ``row`` as a JSON-ready Python value: flags as lists of CL
    names, enum values as CL names, versions as ``"major.minor.patch"``."""
    value, c_type, kind = row.value, row.c_type, kind_of_row(row)
    if kind == "version":
        return _version_text(value)
    if kind == "name_versions":
        return [{"name": nv.name, "version": _version_text(nv.version)} for nv in value]
    if kind == "properties":
        return [[_value_name(k, c_type, row.name) or int(k), _json_scalar(v)] for k, v in value]
    if kind == "list":
        # a lone CL_NONE (0) says "no partition types": an empty list
        items = [v for v in value if not (isinstance(v, int) and _value_name(v, c_type, row.name) == "CL_NONE")]
        return [(_value_name(v, c_type, row.name) if isinstance(v, int) else None) or _json_scalar(v)
                for v in items]
    if kind == "flags":
        return flag_names(value, _names_for(value, c_type, row.name)[1])
    if kind == "enum":
        return _value_name(value, c_type, row.name) or int(value)
    return _json_scalar(value)


def _json_scalar(value) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (ctypes.Structure, ctypes.Union, ctypes.Array, ctypes._SimpleCData)):
        return _plain(value)
    return _handle_text(value)


# --------------------------------------------------------------------------- #
# The three forms
# --------------------------------------------------------------------------- #

def raw_lines(reports: Iterable[PlatformReport]) -> Iterable[Tuple[str, str, str]]:
    """(prefix, CL name, value) of every row, ``[POCL/*]`` for platform rows, ``[POCL/0]`` for device rows."""
    for report in reports:
        for row in report.rows:
            yield f"[{report.prefix}/*]", row.name, raw_value(row)
        if report.devices_error:
            yield f"[{report.prefix}/*]", "#DEVICES", f"<error: {report.devices_error}>"
        for dev in report.devices:
            for row in dev.rows:
                yield f"[{report.prefix}/{dev.index}]", row.name, raw_value(row)


def render_raw(reports: List[PlatformReport], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
    """One line per param: ``[<platform>/<device>]  CL_NAME  value`` (clinfo --raw); warnings to ``err``."""
    width = max([len(f"[{r.prefix}/{max([d.index for d in r.devices] or [0])}]") for r in reports] or [0])
    for prefix, name, value in raw_lines(reports):
        print(f"{prefix:<{width}}  {name:<{LABEL_WIDTH - 2}}  {value}", file=out)
    for report in reports:
        for where, rows in [(f"[{report.prefix}/*]", report.rows)] + \
                [(f"[{report.prefix}/{d.index}]", d.rows) for d in report.devices]:
            for row in rows:
                if row.warning:
                    print(f"warning: {where} {row.name}: {row.warning}", file=err)


_WORDS = {"OPENCL": "OpenCL", "IL": "IL", "ILS": "ILs", "SVM": "SVM", "ICD": "ICD", "FP": "FP", "ID": "ID",
          "IMAGE2D": "image2D", "IMAGE3D": "image3D", "C": "C", "SPIR": "SPIR", "CXX": "C++", "UUID": "UUID",
          "LUID": "LUID", "PCI": "PCI", "PCIE": "PCIe", "SIMD": "SIMD", "GFXIP": "GFXIP", "ME": "ME",
          "AVC": "AVC", "EUS": "EUs", "YUV": "YUV", "IP": "IP", "GPU": "GPU", "CPU": "CPU", "USM": "USM"}
#: last words of extension params: shown in parentheses
_VENDOR_SUFFIXES = {"KHR", "EXT", "NV", "AMD", "INTEL", "ARM", "QCOM", "IMG", "APPLE", "POCL"}


def label(row: Row) -> str:
    """``'Max compute units'`` for CL_DEVICE_MAX_COMPUTE_UNITS, ``'Spill mem size (kernel, INTEL)'``
    for CL_KERNEL_SPILL_MEM_SIZE_INTEL: words of the name after its group prefix."""
    words = _short(row.name).split("_")
    notes = []
    if len(words) > 1 and words[-1] in _VENDOR_SUFFIXES:
        notes.append(words.pop())
    out = [_WORDS.get(w, w.lower()) for w in words]
    if out and out[0][:1].islower():
        out[0] = out[0][:1].upper() + out[0][1:]
    if row.group == "KernelWorkGroup":
        notes.insert(0, "kernel")
    return " ".join(out) + (f" ({', '.join(notes)})" if notes else "")


def _human_line(indent: str, name: str, value: str, width: int, out: TextIO) -> None:
    lines = value.split("\n")
    print(f"{indent}{name:<{width - len(indent)}}  {lines[0]}".rstrip(), file=out)
    for more in lines[1:]:
        print(f"{'':<{width}}  {more}", file=out)


def render_human(reports: List[PlatformReport], out: TextIO = sys.stdout) -> None:
    """Aligned ``label  value`` lines per platform and device, like ``clinfo``; the value
    column is the same for every line whose label fits (see :data:`LABEL_WIDTH_MAX`)."""
    width = max([LABEL_WIDTH] + [2 + len(label(row)) for r in reports for row in r.rows] +
                [4 + len(label(row)) for r in reports for d in r.devices for row in d.rows])
    width = min(width, LABEL_WIDTH_MAX)

    def line(indent: str, name: str, value: str) -> None:
        _human_line(indent, name, value, width, out)

    line("", "Number of platforms", str(len(reports)))
    for report in reports:
        print(file=out)
        line("", f"Platform #{report.index} [{report.prefix}]", report.name)
        for row in report.rows:
            line("  ", label(row), human_value(row))
        if report.devices_error:
            line("  ", "Number of devices", f"error: {report.devices_error}")
            continue
        line("  ", "Number of devices", str(len(report.devices)))
        for dev in report.devices:
            print(file=out)
            line("  ", f"Device #{dev.index}", dev.name)
            for row in dev.rows:
                line("    ", label(row), human_value(row))


def _json_rows(rows: List[Row]) -> Dict[str, Any]:
    return {
        "params": {row.name: json_value(row) for row in rows if row.ok},
        "errors": {row.name: row.error for row in rows if not row.ok},
        "warnings": {row.name: row.warning for row in rows if row.warning},
    }


def json_document(reports: List[PlatformReport]) -> List[Dict[str, Any]]:
    """The JSON form as Python lists and dicts."""
    doc = []
    for report in reports:
        item: Dict[str, Any] = {"index": report.index, "prefix": report.prefix, "name": report.name}
        item.update(_json_rows(report.rows))
        if report.devices_error:
            item["devices_error"] = report.devices_error
        item["devices"] = [dict({"index": d.index, "name": d.name}, **_json_rows(d.rows)) for d in report.devices]
        doc.append(item)
    return doc


def render_json(reports: List[PlatformReport], out: TextIO = sys.stdout) -> None:
    json.dump(json_document(reports), out, indent=2)
    print(file=out)


def run_info(platform: Optional[str] = None, device: Optional[str] = None, form: str = "human",
             out: TextIO = sys.stdout) -> int:
    """Collect and print; ``form`` is 'human', 'raw' or 'json'. Returns 0.

    Raises LookupError when ``platform``/``device`` match nothing, CLError when
    the platforms cannot be listed.
    """
    reports = collect(platform, device)
    if not reports:
        print("no OpenCL platform found", file=sys.stderr)
    if form == "raw":
        render_raw(reports, out)
    elif form == "json":
        render_json(reports, out)
    else:
        render_human(reports, out)
    return 0


__all__ = ["Row", "DeviceReport", "PlatformReport", "collect", "query_row", "probe_kernel_rows",
           "raw_value", "human_value", "json_value", "binary_size", "cl_names", "flag_names", "named_values",
           "kind_of_row", "label",
           "render_raw", "render_human", "render_json", "json_document", "raw_lines", "run_info",
           "PROBE_SOURCE", "PROBE_KERNEL"]
