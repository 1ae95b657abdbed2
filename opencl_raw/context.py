"""Contexts: clCreateContext, clCreateContextFromType, clGetContextInfo, and what a context creates."""
from __future__ import annotations

import ctypes

from typing import Any, Optional, Sequence, Union

from . import checked, raw
from ._handle import Handle, Properties, encode, handle_array, properties_array
from .errors import CLError
from .platform import Device


class Context(Handle):
    """An OpenCL context (``cl_context``).

    ``Context(devices, properties=None)`` is :func:`create_context`.
    Info: ``get_info(param)`` (clGetContextInfo) and attributes such as
    ``.devices``, ``.num_devices``, ``.reference_count``.
    """

    __slots__ = ()
    _ctype = raw.cl_context
    _retain_name, _release_name = "clRetainContext", "clReleaseContext"
    _info_group, _info_function = "Context", "clGetContextInfo"
    _attr_prefixes = ("CL_CONTEXT_",)

    def __init__(self, devices: Sequence[Device], properties: Properties = None):
        self._handle = None
        self._adopt(_create_context_handle(devices, properties), retain=False)

    def create_command_queue_with_properties(self, device: Optional[Device] = None,
                                             properties: Union[Properties, int] = None):
        """A command queue on ``device`` (clCreateCommandQueueWithProperties, OpenCL 2.0).

        ``device`` defaults to the context's first device. ``properties``: a mapping
        or (name, value) pairs of cl_queue_properties, or an int taken as the
        CL_QUEUE_PROPERTIES bits (e.g. CL_QUEUE_PROFILING_ENABLE). On a device older
        than OpenCL 2.0 this uses clCreateCommandQueue with the CL_QUEUE_PROPERTIES
        bits, and raises ValueError for other properties (they need 2.0).
        Raises CLError (InvalidDevice, InvalidQueueProperties, InvalidValue, ...).
        """
        from .queue import CommandQueue
        return CommandQueue(self, device, properties)

    def create_buffer(self, flags: int = raw.CL_MEM_READ_WRITE, size: Optional[int] = None,
                      host_buffer: Any = None):
        """A buffer of ``size`` bytes (clCreateBuffer); see :func:`opencl_raw.memory.create_buffer`."""
        from .memory import create_buffer
        return create_buffer(self, flags, size, host_buffer)

    def create_program_with_source(self, source: Union[str, bytes, Sequence[Union[str, bytes]]]):
        """A program from OpenCL C source (clCreateProgramWithSource).

        ``source``: one string or a sequence of strings (str as UTF-8, or bytes), joined by the driver.
        Raises TypeError for other types, CLError from the driver.
        """
        from .program import Program
        strings = [source] if isinstance(source, (str, bytes)) else list(source)
        encoded = [encode(s, "source") for s in strings]
        array = (ctypes.c_char_p * len(encoded))(*encoded)
        lengths = (ctypes.c_size_t * len(encoded))(*[len(s) for s in encoded])
        handle = checked.clCreateProgramWithSource(self.handle, len(encoded), array, lengths)
        return Program.from_handle(handle, retain=False)

    def create_program_with_binary(self, devices: Sequence[Device], binaries: Sequence[bytes]):
        """A program from device binaries (clCreateProgramWithBinary), one per device.

        ``binaries`` are ``bytes`` as returned by ``program.get_info(CL_PROGRAM_BINARIES)``.
        Raises ValueError when the counts differ, TypeError for non-bytes, CLError
        (InvalidBinary with the failing device's status in the message, InvalidDevice, ...).
        """
        from .program import Program
        n, device_array = handle_array(devices, Device, "devices")
        binaries = list(binaries)
        if n != len(binaries) or n == 0:
            raise ValueError(f"need one binary per device: {n} devices, {len(binaries)} binaries")
        for b in binaries:
            if not isinstance(b, (bytes, bytearray)):
                raise TypeError(f"binaries must be bytes, got {type(b).__name__}")
        lengths = (ctypes.c_size_t * n)(*[len(b) for b in binaries])
        buffers = [(ctypes.c_ubyte * len(b)).from_buffer_copy(b) for b in binaries]
        pointers = (ctypes.POINTER(ctypes.c_ubyte) * n)(*[ctypes.cast(b, ctypes.POINTER(ctypes.c_ubyte)) for b in buffers])
        status = (raw.cl_int * n)()
        try:
            handle = checked.clCreateProgramWithBinary(self.handle, n, device_array, lengths, pointers, status)
        except CLError as exc:
            exc.detail = "binary status per device: " + ", ".join(
                f"{d.get_info(raw.CL_DEVICE_NAME)!r}: {CLError(s).name if s else 'CL_SUCCESS'}"
                for d, s in zip(devices, status))
            raise
        return Program.from_handle(handle, retain=False)

    def create_program_with_il(self, il: bytes):
        """A program from intermediate language such as SPIR-V (clCreateProgramWithIL, OpenCL 2.1).

        Raises TypeError for non-bytes; CLError from the driver. When no device of the
        context reports an IL (CL_DEVICE_IL_VERSION empty, e.g. PoCL without SPIR-V),
        the driver's error (PoCL: InvalidValue) says so in its detail.
        """
        from .program import Program
        if not isinstance(il, (bytes, bytearray, memoryview)):
            raise TypeError(f"il must be bytes, got {type(il).__name__}")
        data = bytes(il)
        try:
            handle = checked.clCreateProgramWithIL(self.handle, data, len(data))
        except CLError as exc:
            if not any(d.get_info(raw.CL_DEVICE_IL_VERSION).strip() for d in self.devices):
                exc.detail = "no device of this context accepts IL: CL_DEVICE_IL_VERSION is empty"
            raise
        return Program.from_handle(handle, retain=False)

    def link_program(self, programs: Sequence, options: str = "", devices: Optional[Sequence[Device]] = None):
        """Link compiled programs into an executable (clLinkProgram, OpenCL 1.2).

        ``options``: linker options (str). ``devices`` defaults to all the context's devices.
        Raises CLError; LinkProgramFailure carries ``.build_logs`` (Device -> log).
        """
        from .program import Program, _rekey_logs
        n, program_array = handle_array(programs, Program, "programs")
        nd, device_array = handle_array(devices or (), Device, "devices")
        try:
            handle = checked.clLinkProgram(self.handle, nd, device_array, encode(options, "options"),
                                           n, program_array, None, None)
        except CLError as exc:
            _rekey_logs(exc)
            raise
        return Program.from_handle(handle, retain=False)


def _create_context_handle(devices: Sequence[Device], properties: Properties):
    if isinstance(devices, Device):
        devices = [devices]
    n, array = handle_array(devices, Device, "devices")
    if not n:
        raise ValueError("create_context needs at least one device")
    props = properties_array(properties, raw.cl_context_properties)
    return checked.clCreateContext(props, n, array, None, None)


def create_context(devices: Sequence[Device], properties: Properties = None) -> Context:
    """A context for ``devices`` (clCreateContext).

    ``properties``: a mapping or (name, value) pairs of cl_context_properties, e.g.
    ``{CL_CONTEXT_PLATFORM: platform}``; the terminating 0 is added.
    Raises ValueError for no devices, TypeError for non-Device items, CLError
    (InvalidDevice, InvalidProperty, DeviceNotAvailable, ...).
    """
    return Context(devices, properties)


def create_context_from_type(device_type: int = raw.CL_DEVICE_TYPE_DEFAULT,
                             properties: Properties = None) -> Context:
    """A context for all devices of ``device_type`` (clCreateContextFromType).

    Raises CLError (DeviceNotFound, InvalidPlatform, ...).
    """
    props = properties_array(properties, raw.cl_context_properties)
    handle = checked.clCreateContextFromType(props, device_type, None, None)
    return Context.from_handle(handle, retain=False)


__all__ = ["Context", "create_context", "create_context_from_type"]
