"""The version gate: a handle method whose C function needs a newer OpenCL than the
devices involved report raises before the driver is reached.

Legacy ICD dispatch tables can crash on entries an old driver never filled, so the
handle layer checks ``CL_DEVICE_VERSION`` (the lowest of the devices involved) against
the version that introduced the function (from the headers). Drivers that implement
more than they advertise (Oclgrind reports 1.2 but runs some 2.0 entry points) can
opt out: ``OPENCL_RAW_VERSION_GATE=0`` for the process, or ``with version_gate(False):``
around the calls.
"""
from __future__ import annotations

import contextlib
import contextvars
import ctypes
import os
from typing import Dict, Iterable, Iterator, Optional, Tuple

from . import raw
from .errors import FunctionUnavailableError

_override: contextvars.ContextVar[Optional[bool]] = contextvars.ContextVar("opencl_raw_version_gate", default=None)
# device or platform handle value -> (major, minor); these handles live as long as the driver
_versions: Dict[Tuple[str, int], Tuple[int, int]] = {}


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


def _parse(text: str) -> Tuple[int, int]:
    for word in text.split():
        major, dot, minor = word.partition(".")
        if dot and major.isdigit():
            digits = "".join(ch for ch in minor if ch.isdigit())
            if digits and minor.startswith(digits):
                return int(major), int(digits)
    return (0, 0)


def _version(kind: str, handle_value: int) -> Tuple[int, int]:
    key = (kind, handle_value)
    found = _versions.get(key)
    if found is None:
        function, param = ((raw.clGetDeviceInfo, raw.CL_DEVICE_VERSION) if kind == "device"
                           else (raw.clGetPlatformInfo, raw.CL_PLATFORM_VERSION))
        size = ctypes.c_size_t()
        if function(handle_value, param, 0, None, ctypes.byref(size)):
            return (0, 0)
        text = ctypes.create_string_buffer(size.value + 1)
        if function(handle_value, param, size.value, text, None):
            return (0, 0)
        found = _versions[key] = _parse(text.value.decode("ascii", "replace"))
    return found


def device_version(device) -> Tuple[int, int]:
    """(major, minor) of a Device's CL_DEVICE_VERSION (cached per device)."""
    return _version("device", device._value)


def platform_version(platform) -> Tuple[int, int]:
    """(major, minor) of a Platform's CL_PLATFORM_VERSION (cached per platform)."""
    return _version("platform", platform._value)


def require(c_name: str, devices: Iterable) -> None:
    """Raise FunctionUnavailableError if ``c_name`` needs a newer OpenCL than any of ``devices``.

    ``devices``: the Device objects involved (e.g. a context's devices). Functions of
    OpenCL 1.0 and extension functions pass at once; so does everything when the gate is off.
    """
    needed = raw.FUNCTIONS[c_name].version
    if needed is None or needed <= (1, 0) or not enabled():
        return
    for device in devices:
        have = device_version(device)
        if have < needed:
            name = device.get_info(raw.CL_DEVICE_NAME)
            raise FunctionUnavailableError(
                c_name, f"OpenCL {needed[0]}.{needed[1]}",
                f"device {name!r} reports OpenCL {have[0]}.{have[1]}; "
                "set OPENCL_RAW_VERSION_GATE=0 or use version_gate(False) if the driver implements it anyway")


__all__ = ["enabled", "version_gate", "require", "device_version", "platform_version"]
