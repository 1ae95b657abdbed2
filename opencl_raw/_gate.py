"""The version and extension gate: a handle method whose C function needs a newer OpenCL,
or an extension, that the devices involved do not report raises before the driver is reached.

Legacy ICD dispatch tables can crash on entries an old driver never filled, so the
handle layer checks ``CL_DEVICE_VERSION`` (the lowest of the devices involved) against
the version that introduced the function, and ``CL_DEVICE_EXTENSIONS`` /
``CL_PLATFORM_EXTENSIONS`` for extension functions.

The data comes from the tables, not from each method: :data:`opencl_raw.naming.METHODS`
says which C function a method wraps, :data:`opencl_raw.raw.FUNCTIONS` which OpenCL
version or extension introduced it. :func:`install` wraps every such method of the
handle classes (``functools.wraps`` keeps its name and docstring) so that it calls
:func:`check` first. The devices involved are the method's ``device`` or ``devices``
argument when given, else the object's own: a Device itself, a CommandQueue's device,
the devices of a Context, Program or Kernel (its program's), and the context's devices
for memory objects, events and samplers. Platform methods go by ``CL_PLATFORM_VERSION``.
Methods listed in :data:`SELF_GATED` do their own checking, e.g. to fall back to
older functions on older devices.

Drivers that implement more than they advertise (Oclgrind reports 1.2 but runs some
2.x entry points) can opt out: ``OPENCL_RAW_VERSION_GATE=0`` for the process, or
``with version_gate(False):`` around the calls. The opt-out covers the extension checks too.
"""
from __future__ import annotations

import contextlib
import contextvars
import ctypes
import functools
import os
import types

from . import raw
from .errors import FunctionUnavailableError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple


_override: contextvars.ContextVar[Optional[bool]] = contextvars.ContextVar("opencl_raw_version_gate", default=None)
# (kind, device or platform handle value) -> (major, minor); these handles live as long as the driver
_versions: Dict[Tuple[str, int], Tuple[int, int]] = {}
# (kind, handle value) -> extension names
_extensions: Dict[Tuple[str, int], frozenset] = {}

#: (class, method) rows of naming.METHODS whose method checks its own requirement, and how
SELF_GATED: Dict[Tuple[str, str], str] = {
    ("Context", "create_command_queue_with_properties"):
        "uses clCreateCommandQueue on devices older than 2.0 and refuses 2.0-only properties with ValueError",
    ("CommandQueue", "enqueue_marker_with_wait_list"):
        "uses clEnqueueWaitForEvents and clEnqueueMarker on devices older than 1.2",
    ("CommandQueue", "enqueue_barrier_with_wait_list"):
        "uses clEnqueueWaitForEvents or clEnqueueBarrier, then clEnqueueMarker, on devices older than 1.2",
    ("Context", "create_image"):
        "uses clCreateImage2D / clCreateImage3D on devices older than 1.2",
    ("Device", "release"):
        "root devices are not reference counted (release() does nothing); only sub-devices, which need 1.2, "
        "call clReleaseDevice",
}

_HINT = "set OPENCL_RAW_VERSION_GATE=0 or use version_gate(False) if the driver implements it anyway"


def enabled() -> bool:
    """Whether the gate is on: ``version_gate()`` if inside one, else ``OPENCL_RAW_VERSION_GATE`` != ``0``."""
    value = _override.get()
    if value is not None:
        return value
    return os.environ.get("OPENCL_RAW_VERSION_GATE", "1").strip() != "0"


@contextlib.contextmanager
def version_gate(on: bool) -> Iterator[None]:
    """Turn the version gate on or off for the calls inside the ``with`` block (this thread/task)."""
    token = _override.set(bool(on))
    try:
        yield
    finally:
        _override.reset(token)


# --------------------------------------------------------------------------- #
# Driver facts (raw queries, cached per handle)
# --------------------------------------------------------------------------- #

def _parse(text: str) -> Tuple[int, int]:
    for word in text.split():
        major, dot, minor = word.partition(".")
        if dot and major.isdigit():
            digits = "".join(ch for ch in minor if ch.isdigit())
            if digits and minor.startswith(digits):
                return int(major), int(digits)
    return (0, 0)


def _string(kind: str, handle_value: int, param: int) -> Optional[str]:
    function = raw.clGetDeviceInfo if kind == "device" else raw.clGetPlatformInfo
    size = ctypes.c_size_t()
    if function(handle_value, param, 0, None, ctypes.byref(size)):
        return None
    text = ctypes.create_string_buffer(size.value + 1)
    if function(handle_value, param, size.value, text, None):
        return None
    return text.value.decode("utf-8", "replace")


def _version(kind: str, handle_value: int) -> Tuple[int, int]:
    key = (kind, handle_value)
    found = _versions.get(key)
    if found is None:
        text = _string(kind, handle_value, raw.CL_DEVICE_VERSION if kind == "device" else raw.CL_PLATFORM_VERSION)
        if text is None:
            return (0, 0)
        found = _versions[key] = _parse(text)
    return found


def _handle_values(function, handle_value: int, param: int) -> List[int]:
    """A cl_*[] info value (e.g. CL_CONTEXT_DEVICES) as handle values; [] if the query fails."""
    size = ctypes.c_size_t()
    if function(handle_value, param, 0, None, ctypes.byref(size)) or not size.value:
        return []
    values = (ctypes.c_void_p * (size.value // ctypes.sizeof(ctypes.c_void_p)))()
    if function(handle_value, param, size.value, values, None):
        return []
    return [v for v in values if v]


def _handle_value(function, handle_value: int, param: int) -> Optional[int]:
    value = ctypes.c_void_p()
    if function(handle_value, param, ctypes.sizeof(value), ctypes.byref(value), None):
        return None
    return value.value


def _platform_of(device_value: int) -> Optional[int]:
    return _handle_value(raw.clGetDeviceInfo, device_value, raw.CL_DEVICE_PLATFORM)


def extensions(kind: str, handle_value: int) -> frozenset:
    """The extension names a device (``kind='device'``) or platform lists (cached).

    A device's set includes its platform's CL_PLATFORM_EXTENSIONS: an extension of the
    platform is available on all its devices.
    """
    key = (kind, handle_value)
    found = _extensions.get(key)
    if found is None:
        if kind == "device":
            own = set((_string("device", handle_value, raw.CL_DEVICE_EXTENSIONS) or "").split())
            platform = _platform_of(handle_value)
            if platform:
                own |= extensions("platform", platform)
        else:
            own = set((_string("platform", handle_value, raw.CL_PLATFORM_EXTENSIONS) or "").split())
        found = _extensions[key] = frozenset(own)
    return found


def platform_extensions(platform) -> frozenset:
    """Extensions available on a Platform: its own CL_PLATFORM_EXTENSIONS plus every
    extension any of its devices lists in CL_DEVICE_EXTENSIONS (PoCL lists
    cl_khr_command_buffer on the device only)."""
    names = set(extensions("platform", platform._value))
    for device in _handle_values_of_platform(platform._value):
        names |= extensions("device", device)
    return frozenset(names)


def _handle_values_of_platform(platform_value: int) -> List[int]:
    n = raw.cl_uint()
    if raw.clGetDeviceIDs(platform_value, raw.CL_DEVICE_TYPE_ALL, 0, None, ctypes.byref(n)) or not n.value:
        return []
    ids = (raw.cl_device_id * n.value)()
    if raw.clGetDeviceIDs(platform_value, raw.CL_DEVICE_TYPE_ALL, n.value, ids, None):
        return []
    return [v.value for v in ids if v.value]


def device_version(device) -> Tuple[int, int]:
    """(major, minor) of a Device's CL_DEVICE_VERSION (cached per device)."""
    return _version("device", device._value)


def platform_version(platform) -> Tuple[int, int]:
    """(major, minor) of a Platform's CL_PLATFORM_VERSION (cached per platform)."""
    return _version("platform", platform._value)


def _device_name(device_value: int) -> str:
    return _string("device", device_value, raw.CL_DEVICE_NAME) or hex(device_value)


# --------------------------------------------------------------------------- #
# The checks
# --------------------------------------------------------------------------- #

_NEEDS: Dict[str, Optional[str]] = {}   # c_name -> needs(c_name), filled on first use


def needs(c_name: str) -> Optional[str]:
    """What ``c_name`` needs beyond OpenCL 1.0: ``'OpenCL 2.1'``, an extension name, or None."""
    try:
        return _NEEDS[c_name]
    except KeyError:
        pass
    proto = raw.FUNCTIONS[c_name]
    if proto.extension is not None:
        need = proto.extension
    elif proto.version is not None and proto.version > (1, 0):
        need = proto.requirement
    else:
        need = None
    _NEEDS[c_name] = need
    return need


def _unless_opted_out(gate_check: Callable, *args) -> None:
    """``gate_check(*args)``, whose exception stands unless the gate is off: the opt-outs are read
    only where the gate would refuse, so that a gated call on a device new enough reads no
    environment variable. With the gate off nothing it raised counts (a FunctionUnavailableError,
    or a driver's error from the gate's own queries), as if it had not run."""
    try:
        gate_check(*args)
    except Exception:
        if enabled():
            raise


def _require_values(c_name: str, device_values: Iterable[int]) -> None:
    _unless_opted_out(_require, c_name, device_values)


def _require(c_name: str, device_values: Iterable[int]) -> None:
    """:func:`_require_values`, whether or not the gate is on: raises where it would refuse."""
    proto = raw.FUNCTIONS[c_name]
    if proto.extension is not None:
        for value in device_values:
            if proto.extension not in extensions("device", value):
                raise FunctionUnavailableError(
                    c_name, proto.extension,
                    f"device {_device_name(value)!r} does not list {proto.extension} in CL_DEVICE_EXTENSIONS "
                    f"and its platform not in CL_PLATFORM_EXTENSIONS; {_HINT}")
        return
    needed = proto.version
    if needed is None or needed <= (1, 0):
        return
    for value in device_values:
        have = _version("device", value)
        if have < needed:
            raise FunctionUnavailableError(
                c_name, f"OpenCL {needed[0]}.{needed[1]}",
                f"device {_device_name(value)!r} reports OpenCL {have[0]}.{have[1]}; {_HINT}")


def require(c_name: str, devices: Iterable) -> None:
    """Raise FunctionUnavailableError if ``c_name`` needs a newer OpenCL, or an extension,
    that one of ``devices`` (Device objects) lacks.

    OpenCL 1.0 functions pass at once; so does everything when the gate is off.
    """
    _require_values(c_name, [device._value for device in devices])


def require_platform(c_name: str, platform) -> None:
    """Raise FunctionUnavailableError if ``c_name`` needs a newer OpenCL than the Platform's
    CL_PLATFORM_VERSION, or an extension neither the platform nor any of its devices lists;
    nothing when the gate is off."""
    _unless_opted_out(_require_platform, c_name, platform)


def _require_platform(c_name: str, platform) -> None:
    """:func:`require_platform`, whether or not the gate is on: raises where it would refuse."""
    proto = raw.FUNCTIONS[c_name]
    if proto.extension is not None:
        if proto.extension not in platform_extensions(platform):
            name = _string("platform", platform._value, raw.CL_PLATFORM_NAME)
            raise FunctionUnavailableError(
                c_name, proto.extension,
                f"neither platform {name!r} nor any of its devices lists {proto.extension} "
                f"(CL_PLATFORM_EXTENSIONS, CL_DEVICE_EXTENSIONS); {_HINT}")
        return
    needed = proto.version
    if needed is None or needed <= (1, 0):
        return
    have = platform_version(platform)
    if have < needed:
        name = _string("platform", platform._value, raw.CL_PLATFORM_NAME)
        raise FunctionUnavailableError(c_name, f"OpenCL {needed[0]}.{needed[1]}",
                                       f"platform {name!r} reports OpenCL {have[0]}.{have[1]}; {_HINT}")


def _context_devices(context_value: Optional[int]) -> List[int]:
    if not context_value:
        return []
    return _handle_values(raw.clGetContextInfo, context_value, raw.CL_CONTEXT_DEVICES)


def devices_of(obj) -> List[int]:
    """Handle values of the devices a handle object involves (see the module docstring)."""
    obj.handle  # a released object raises ReleasedHandleError
    value, kind = obj._value, obj._ctype.__name__
    if kind == "cl_device_id":
        return [value]
    if kind == "cl_context":
        return _context_devices(value)
    if kind == "cl_command_queue":
        device = _handle_value(raw.clGetCommandQueueInfo, value, raw.CL_QUEUE_DEVICE)
        return [device] if device else []
    if kind == "cl_program":
        return _handle_values(raw.clGetProgramInfo, value, raw.CL_PROGRAM_DEVICES)
    if kind == "cl_kernel":
        program = _handle_value(raw.clGetKernelInfo, value, raw.CL_KERNEL_PROGRAM)
        return _handle_values(raw.clGetProgramInfo, program, raw.CL_PROGRAM_DEVICES) if program else []
    if kind == "cl_mem":
        return _context_devices(_handle_value(raw.clGetMemObjectInfo, value, raw.CL_MEM_CONTEXT))
    if kind == "cl_event":
        # An event's queue or context may be deleted already (see Event): go by its parent links.
        parent = getattr(obj, "_queue", None) or getattr(obj, "_context", None)
        if parent is not None:
            known = getattr(parent, "_gate_devices", None)
            return list(known) if known is not None else devices_of(parent)
        return _context_devices(_handle_value(raw.clGetEventInfo, value, raw.CL_EVENT_CONTEXT))
    if kind == "cl_sampler":
        return _context_devices(_handle_value(raw.clGetSamplerInfo, value, raw.CL_SAMPLER_CONTEXT))
    return []


def _explicit_devices(value) -> Optional[List[int]]:
    """Device handle values from a method's ``device``/``devices`` argument, or None."""
    if value is None:
        return None
    from .platform import Device
    if isinstance(value, Device):
        return [value._value]
    try:
        items = list(value)
    except TypeError:
        return None
    if items and all(isinstance(item, Device) for item in items):
        return [item._value for item in items]
    return None


def check(obj, c_name: str, devices=None) -> None:
    """The gate for a method of handle object ``obj`` wrapping ``c_name``.

    ``devices``: the call's ``device``/``devices`` argument (Device or Devices), if any;
    else the object's devices (:func:`devices_of`); a Platform goes by its own version.
    Raises FunctionUnavailableError naming the version or extension; ReleasedHandleError
    for a released object.
    """
    _unless_opted_out(_check, obj, c_name, devices)


def _check(obj, c_name: str, devices=None) -> None:
    """:func:`check`, whether or not the gate is on: raises where it would refuse."""
    if needs(c_name) is None:
        return
    obj.handle  # a released object raises ReleasedHandleError
    if obj._ctype.__name__ == "cl_platform_id":
        _require_platform(c_name, obj)
        return
    values = _explicit_devices(devices)
    if not values:
        # An object's devices never change: ask the driver for them once per object.
        values = getattr(obj, "_gate_devices", None)
        if values is None:
            values = obj._gate_devices = tuple(devices_of(obj))
    _require(c_name, values)


# --------------------------------------------------------------------------- #
# Installing the gate on the handle classes, from naming.METHODS
# --------------------------------------------------------------------------- #

def gated_rows() -> Dict[Tuple[str, str], str]:
    """(class, method) -> C name for every naming.METHODS row that needs more than OpenCL 1.0
    (or an extension), less the :data:`SELF_GATED` ones."""
    from .naming import METHODS
    return {(cls, method): c_name for c_name, (cls, method) in METHODS.items()
            if cls != "module" and needs(c_name) is not None and (cls, method) not in SELF_GATED}


def _wrap(function: Callable, c_name: str) -> Callable:
    # The call's ``device``/``devices`` argument, by keyword or by position, read from the
    # function's code (inspect's signature binding cost microseconds per call, and its import
    # a sixth of the handle layer's)
    code = function.__code__
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    parameter = next((p for p in ("device", "devices") if p in names), None)
    position = names.index(parameter) if parameter is not None and names.index(parameter) < code.co_argcount \
        else None                                     # counting self as 0

    @functools.wraps(function)
    def gated(self, *args, **kwargs):
        explicit = None
        if parameter is not None:
            explicit = kwargs.get(parameter)
            if explicit is None and position is not None and len(args) >= position:
                explicit = args[position - 1]
        _unless_opted_out(_check, self, c_name, explicit)
        return function(self, *args, **kwargs)

    gated.__gated__ = c_name
    gated.__gate_wrapper__ = True
    return gated


def is_self_gated(cls: type, method: str) -> bool:
    """Whether ``cls.method`` (or the class that defines the row) is listed in :data:`SELF_GATED`."""
    return any((klass.__name__, method) in SELF_GATED for klass in cls.__mro__)


def _all_handle_classes() -> List[type]:
    from ._handle import Handle
    found, todo = [], list(Handle.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.append(cls)
            todo.extend(cls.__subclasses__())
    return found


def install(*classes: type) -> None:
    """Wrap the gated methods (:func:`gated_rows`) of ``classes`` (default: every handle class
    defined so far) so that they call :func:`check` first. Idempotent.

    A row names a class; it is wrapped on that class and on any subclass that overrides it.
    """
    rows = gated_rows()
    for cls in classes or _all_handle_classes():
        names = {klass.__name__ for klass in cls.__mro__}
        for (cls_name, method), c_name in rows.items():
            if cls_name not in names:
                continue
            if cls.__name__ != cls_name and method not in cls.__dict__:
                continue
            function = getattr(cls, method, None)
            if not isinstance(function, types.FunctionType) or getattr(function, "__gated__", None) == c_name:
                continue
            setattr(cls, method, _wrap(function, c_name))


def gate_of(cls: type, method: str) -> Optional[str]:
    """The C name whose requirement ``cls.method`` checks, or None if it is not gated."""
    return getattr(getattr(cls, method, None), "__gated__", None)


__all__ = ["enabled", "version_gate", "require", "require_platform", "check", "needs", "install",
           "gated_rows", "gate_of", "is_self_gated", "devices_of", "device_version", "platform_version", "extensions",
           "platform_extensions", "SELF_GATED"]
