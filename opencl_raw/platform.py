"""Platforms and devices: clGetPlatformIDs, clGetPlatformInfo, clGetDeviceIDs, clGetDeviceInfo."""
from __future__ import annotations

import ctypes
import os
from typing import List, Tuple, Union

from . import checked, raw
from . import _gate
from ._handle import Handle
from .errors import CLError, FunctionUnavailableError


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


__all__ = ["Platform", "Device", "get_platform_ids", "get_platforms", "select_device"]

