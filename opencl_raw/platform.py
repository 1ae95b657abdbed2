"""Platforms and devices: clGetPlatformIDs, clGetPlatformInfo, clGetDeviceIDs, clGetDeviceInfo."""
from __future__ import annotations

import ctypes
import os

from . import checked, raw
from . import _gate
from ._handle import Handle
from .errors import CLError, FunctionUnavailableError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Sequence, Tuple, Union


class Platform(Handle):
    """An OpenCL platform (``cl_platform_id``). Platforms are not reference counted.

    Info: ``get_info(param)`` (clGetPlatformInfo) and attributes such as
    ``.name``, ``.vendor``, ``.version``, ``.extensions``.
    """

    __slots__ = ()
    _ctype = raw.cl_platform_id
    _info_group, _info_function = "Platform", "clGetPlatformInfo"
    _attr_prefixes = ("CL_PLATFORM_",)

    def get_device_ids(self, device_type: int = raw.CL_DEVICE_TYPE_ALL) -> List["Device"]:
        """The platform's root devices of ``device_type`` (a CL_DEVICE_TYPE_* bitfield), in driver order.

        Wraps clGetDeviceIDs. Returns [] when the platform has none of that type
        (CL_DEVICE_NOT_FOUND). Raises CLError (InvalidDeviceType, InvalidPlatform).
        """
        n = raw.cl_uint()
        try:
            checked.clGetDeviceIDs(self.handle, device_type, 0, None, ctypes.byref(n))
        except CLError as exc:
            if exc.code == raw.CL_DEVICE_NOT_FOUND:
                return []
            raise
        ids = (raw.cl_device_id * n.value)()
        checked.clGetDeviceIDs(self.handle, device_type, n.value, ids, None)
        return [Device.from_handle(h, retain=False) for h in ids]

    def get_devices(self, device_type: int = raw.CL_DEVICE_TYPE_ALL) -> List["Device"]:
        """Alias of :meth:`get_device_ids` (the pyopencl spelling)."""
        return self.get_device_ids(device_type)

    def unload_compiler(self) -> None:
        """Hint that the platform's compiler may be unloaded (clUnloadPlatformCompiler, OpenCL 1.2).

        Raises FunctionUnavailableError on a platform older than 1.2 (the version gate).
        """
        if _gate.enabled() and self.version_tuple < (1, 2):
            raise FunctionUnavailableError("clUnloadPlatformCompiler", "OpenCL 1.2",
                                           f"the platform reports {self.get_info(raw.CL_PLATFORM_VERSION)!r}")
        checked.clUnloadPlatformCompiler(self.handle)

    def get_extension_function(self, name: str, checked: bool = True):
        """The typed function of extension function ``name`` on this platform
        (clGetExtensionFunctionAddressForPlatform, OpenCL 1.2).

        ``name``: a C name from ``cl_ext.h``, ``cl_gl.h`` or ``cl_egl.h``, e.g.
        ``'clCreateCommandBufferKHR'``. ``checked=True`` returns the
        :mod:`opencl_raw.checked` variant (raises CLError, drops ``errcode_ret``),
        ``checked=False`` the :mod:`opencl_raw.raw` one (C semantics); both take ctypes
        arguments as in C. The extension is available when the platform or any of its
        devices lists it (CL_PLATFORM_EXTENSIONS, CL_DEVICE_EXTENSIONS); the result is
        cached per platform.
        Raises TypeError for a non-str name; KeyError for a name not in the headers;
        ValueError for a core function (use opencl_raw.checked); FunctionUnavailableError
        naming the extension when nothing lists it (checked before the driver is asked;
        the version gate's opt-out skips this check) or when the platform returns NULL.
        """
        from . import checked as checked_layer
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        proto = raw.FUNCTIONS.get(name)
        if proto is None:
            raise KeyError(f"{name!r} is not a function of the OpenCL headers")
        if proto.extension is None:
            raise ValueError(f"{name} is a core function ({proto.requirement}): call opencl_raw.checked.{name}")
        self.handle  # raises ReleasedHandleError after release()
        _gate.require_platform(name, self)
        _gate.require_platform("clGetExtensionFunctionAddressForPlatform", self)
        key = (self._value, name, bool(checked))
        function = _extension_functions.get(key)
        if function is None:
            layer = checked_layer if checked else raw
            function = _extension_functions[key] = layer.get_extension_function(self.handle, name)
        return function

    @property
    def version_tuple(self) -> Tuple[int, int]:
        """(major, minor) from CL_PLATFORM_VERSION, e.g. (3, 0) (cached)."""
        self.handle  # raises ReleasedHandleError after release()
        return _gate.platform_version(self)


class Device(Handle):
    """An OpenCL device (``cl_device_id``).

    Root devices are not reference counted; sub-devices hold one reference,
    given back by release(). Info: ``get_info(param)`` (clGetDeviceInfo) and
    attributes such as ``.name``, ``.max_compute_units``, ``.max_work_item_sizes``.
    """

    __slots__ = ()
    _ctype = raw.cl_device_id
    _retain_name, _release_name = "clRetainDevice", "clReleaseDevice"
    _info_group, _info_function = "Device", "clGetDeviceInfo"
    _attr_prefixes = ("CL_DEVICE_",)

    @classmethod
    def from_handle(cls, handle, retain: bool = True) -> "Device":
        """Wrap a ``cl_device_id``. Only sub-devices are retained and released (OpenCL 1.2)."""
        self = cls.__new__(cls)
        self._handle = None
        self._adopt(handle, retain=False, owned=False)
        if _is_sub_device(self._handle):
            self._owned = True
            if retain:
                checked.clRetainDevice(self._handle)
        return self

    @property
    def version_tuple(self) -> Tuple[int, int]:
        """(major, minor) from CL_DEVICE_VERSION, e.g. (1, 2) (cached)."""
        self.handle  # raises ReleasedHandleError after release()
        return _gate.device_version(self)

    def create_sub_devices(self, properties: Sequence[int]) -> List["Device"]:
        """Partition this device into sub-devices (clCreateSubDevices, OpenCL 1.2).

        ``properties``: a flat list, the C property list without its terminators
        (both are added): ``[CL_DEVICE_PARTITION_EQUALLY, n]`` (as many sub-devices of ``n``
        compute units each as fit), ``[CL_DEVICE_PARTITION_BY_COUNTS, c1, c2, ...]`` (one
        sub-device per count of compute units; CL_DEVICE_PARTITION_BY_COUNTS_LIST_END is
        added) or ``[CL_DEVICE_PARTITION_BY_AFFINITY_DOMAIN, domain]`` (a
        CL_DEVICE_AFFINITY_DOMAIN_* bit). A complete C list (with its terminators) is accepted too.
        Supported schemes: CL_DEVICE_PARTITION_PROPERTIES and CL_DEVICE_PARTITION_AFFINITY_DOMAIN.
        Returns the sub-devices as Device objects, each owning one reference (release()
        gives it back); their CL_DEVICE_PARENT_DEVICE is this device.
        Raises TypeError for non-int items, ValueError for an unknown scheme or counts <= 0,
        FunctionUnavailableError before OpenCL 1.2 (the version gate), CLError
        (InvalidValue for an unsupported scheme, DevicePartitionFailed,
        InvalidDevicePartitionCount when the counts exceed the compute units).
        """
        flat = _partition_list(properties)
        array = (raw.cl_device_partition_property * len(flat))(*flat)
        n = raw.cl_uint()
        checked.clCreateSubDevices(self.handle, array, 0, None, ctypes.byref(n))
        ids = (raw.cl_device_id * n.value)()
        checked.clCreateSubDevices(self.handle, array, n.value, ids, None)
        return [Device.from_handle(h, retain=False) for h in ids]

    def get_host_timer(self) -> int:
        """The host clock now, in nanoseconds, as the device's timer base sees it (clGetHostTimer, OpenCL 2.1).

        Comparable with the host value of :meth:`get_device_and_host_timer`.
        Raises FunctionUnavailableError before OpenCL 2.1 (the version gate, e.g. Oclgrind),
        CLError: InvalidOperation where the platform has no host timer
        (CL_PLATFORM_HOST_TIMER_RESOLUTION 0, e.g. PoCL 3.1), InvalidDevice.
        """
        host = raw.cl_ulong()
        checked.clGetHostTimer(self.handle, ctypes.byref(host))
        return host.value

    def get_device_and_host_timer(self) -> Tuple[int, int]:
        """(device timestamp, host timestamp) in nanoseconds, taken together
        (clGetDeviceAndHostTimer, OpenCL 2.1).

        The device value is on the clock of the profiling times (Event.get_profiling_info).
        Raises FunctionUnavailableError before OpenCL 2.1 (the version gate),
        CLError: InvalidOperation where the platform has no host timer (e.g. PoCL 3.1),
        InvalidDevice.
        """
        device, host = raw.cl_ulong(), raw.cl_ulong()
        checked.clGetDeviceAndHostTimer(self.handle, ctypes.byref(device), ctypes.byref(host))
        return device.value, host.value


def _partition_list(properties: Sequence[int]) -> List[int]:
    """The zero-terminated clCreateSubDevices property list for a flat list (see create_sub_devices)."""
    try:
        items = list(properties)
    except TypeError:
        raise TypeError(f"properties must be a list such as [CL_DEVICE_PARTITION_EQUALLY, 1], "
                        f"got {type(properties).__name__}") from None
    if len(items) == 2 and isinstance(items[1], (list, tuple)):
        items = [items[0], *items[1]]                    # [BY_COUNTS, [c1, c2]]
    for item in items:
        if not isinstance(item, int) or isinstance(item, bool):
            raise TypeError(f"partition properties must be ints, got {item!r}")
    if not items:
        raise ValueError("properties is empty; e.g. [CL_DEVICE_PARTITION_EQUALLY, 1]")
    kind, rest = items[0], items[1:]
    if kind == raw.CL_DEVICE_PARTITION_BY_COUNTS:
        if rest[-2:] == [raw.CL_DEVICE_PARTITION_BY_COUNTS_LIST_END, 0]:
            rest = rest[:-2]
        elif rest[-1:] == [raw.CL_DEVICE_PARTITION_BY_COUNTS_LIST_END]:
            rest = rest[:-1]
        if not rest or any(count <= 0 for count in rest):
            raise ValueError(f"CL_DEVICE_PARTITION_BY_COUNTS needs one or more counts > 0, got {rest}")
        return [kind, *rest, raw.CL_DEVICE_PARTITION_BY_COUNTS_LIST_END, 0]
    if kind in (raw.CL_DEVICE_PARTITION_EQUALLY, raw.CL_DEVICE_PARTITION_BY_AFFINITY_DOMAIN):
        if len(rest) == 2 and rest[1] == 0:
            rest = rest[:1]
        if len(rest) != 1 or rest[0] <= 0:
            what = "compute units per sub-device" if kind == raw.CL_DEVICE_PARTITION_EQUALLY else \
                "a CL_DEVICE_AFFINITY_DOMAIN_* value"
            raise ValueError(f"partition {kind:#x} takes one value > 0 ({what}), got {rest}")
        return [kind, rest[0], 0]
    raise ValueError(f"unknown partition scheme {kind:#x}: use CL_DEVICE_PARTITION_EQUALLY, "
                     "CL_DEVICE_PARTITION_BY_COUNTS or CL_DEVICE_PARTITION_BY_AFFINITY_DOMAIN")


def _is_sub_device(handle) -> bool:
    parent = raw.cl_device_id()
    status = raw.clGetDeviceInfo(handle, raw.CL_DEVICE_PARENT_DEVICE, ctypes.sizeof(parent),
                                 ctypes.byref(parent), None)
    return status == raw.CL_SUCCESS and bool(parent.value)


def get_platform_ids() -> List[Platform]:
    """All platforms, in the loader's order (clGetPlatformIDs).

    Returns [] when there are none (CL_PLATFORM_NOT_FOUND_KHR from the ICD loader).
    Raises LibraryNotFoundError without an OpenCL library, CLError otherwise.
    """
    n = raw.cl_uint()
    try:
        checked.clGetPlatformIDs(0, None, ctypes.byref(n))
    except CLError as exc:
        if exc.code == raw.CL_PLATFORM_NOT_FOUND_KHR:
            return []
        raise
    ids = (raw.cl_platform_id * n.value)()
    checked.clGetPlatformIDs(n.value, ids, None)
    return [Platform.from_handle(h, retain=False) for h in ids]


def get_platforms() -> List[Platform]:
    """Alias of :func:`get_platform_ids` (the pyopencl spelling)."""
    return get_platform_ids()


def _select(items, key: Union[int, str, None], what: str, name_of):
    if key is None or key == "":
        key = 0
    if isinstance(key, str) and key.strip().lstrip("-").isdigit():
        key = int(key)
    if isinstance(key, int):
        if not -len(items) <= key < len(items):
            raise LookupError(f"no {what} #{key}: there are {len(items)}")
        return items[key]
    matches = [item for item in items if key.lower() in name_of(item).lower()]
    if not matches:
        names = ", ".join(repr(name_of(i)) for i in items) or "none"
        raise LookupError(f"no {what} name contains {key!r}; available: {names}")
    return matches[0]


def select_device(platform: Union[int, str, None] = None, device: Union[int, str, None] = None) -> Device:
    """Pick a device by platform and device index or name substring (case-insensitive).

    ``None`` falls back to the environment variables ``OPENCL_RAW_PLATFORM`` and
    ``OPENCL_RAW_DEVICE``, then to index 0: the default device is platform 0,
    device 0, in the loader's order.
    Raises LookupError when nothing matches (the message lists what exists).
    """
    if platform is None:
        platform = os.environ.get("OPENCL_RAW_PLATFORM")
    if device is None:
        device = os.environ.get("OPENCL_RAW_DEVICE")
    platforms = get_platform_ids()
    if not platforms:
        raise LookupError("no OpenCL platform found; install a driver, e.g. apt-get install pocl-opencl-icd")
    chosen = _select(platforms, platform, "platform", lambda p: p.get_info(raw.CL_PLATFORM_NAME))
    devices = chosen.get_device_ids()
    return _select(devices, device, "device", lambda d: d.get_info(raw.CL_DEVICE_NAME))


_extension_functions: dict = {}  # (platform handle value, name, checked) -> typed function
_gate.install(Platform, Device)  # the version gate on the methods that naming.METHODS lists

__all__ = ["Platform", "Device", "get_platform_ids", "get_platforms", "select_device"]

