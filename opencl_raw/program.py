"""Programs and kernels: creation, building, arguments, info, and the command-queue methods that run kernels."""
from __future__ import annotations

import ctypes
import sys
from typing import Any, List, Mapping, Optional, Sequence, Union

from . import _gate, checked, raw
from ._handle import Handle, encode, handle_array
from .errors import CLError
from .event import Event, wait_list
from .memory import MemObject
from .platform import Device


def _rekey_logs(exc: CLError) -> None:
    """Turn a CLError's build_logs keys (device handle values) into Device objects."""
    if exc.build_logs:
        exc.build_logs = {Device.from_handle(k, retain=False) if isinstance(k, int) else k: v
                          for k, v in exc.build_logs.items()}


class Program(Handle):
    """An OpenCL program (``cl_program``), made by ``Context.create_program_with_source``,
    ``create_program_with_binary``, ``create_program_with_il`` or ``link_program``.

    Info: ``get_info(param)`` (clGetProgramInfo), attributes such as ``.source``,
    ``.binaries`` (list of bytes), ``.kernel_names``, ``.devices``; per device,
    :meth:`get_build_info`.
    """

    __slots__ = ()
    _ctype = raw.cl_program
    _retain_name, _release_name = "clRetainProgram", "clReleaseProgram"
    _info_group, _info_function = "Program", "clGetProgramInfo"
    _attr_prefixes = ("CL_PROGRAM_",)

    def build(self, options: str = "", devices: Optional[Sequence[Device]] = None) -> "Program":
        """Compile and link for ``devices`` (default: all of the program's) (clBuildProgram).

        ``options``: build options, e.g. ``"-cl-std=CL1.2 -DN=4"``. Returns self.
        Raises CLError; BuildProgramFailure carries ``.build_logs`` (Device -> log)
        and shows them in ``str()``; InvalidBuildOptions for bad options.
        """
        n, array = handle_array(devices or (), Device, "devices")
        try:
            checked.clBuildProgram(self.handle, n, array, encode(options, "options"), None, None)
        except CLError as exc:
            _rekey_logs(exc)
            raise
        return self

    def compile(self, options: str = "", devices: Optional[Sequence[Device]] = None,
                headers: Optional[Mapping[str, "Program"]] = None) -> "Program":
        """Compile without linking (clCompileProgram, OpenCL 1.2). Returns self.

        ``headers`` maps include names (as written in ``#include "name"``) to programs
        made from the header sources. Link with ``Context.link_program``.
        Raises CLError; CompileProgramFailure carries ``.build_logs`` (Device -> log).
        """
        n, array = handle_array(devices or (), Device, "devices")
        headers = dict(headers or {})
        nh, header_array = handle_array(headers.values(), Program, "headers")
        names = (ctypes.c_char_p * nh)(*[encode(k, "header name") for k in headers]) if nh else None
        _gate.require("clCompileProgram", devices or self.get_info(raw.CL_PROGRAM_DEVICES))
        try:
            checked.clCompileProgram(self.handle, n, array, encode(options, "options"), nh, header_array, names,
                                     None, None)
        except CLError as exc:
            _rekey_logs(exc)
            raise
        return self

    def get_build_info(self, device: Device, param) -> Any:
        """Typed build info for one device (clGetProgramBuildInfo), e.g. CL_PROGRAM_BUILD_LOG (str),
        CL_PROGRAM_BUILD_STATUS (BuildStatus). Raises CLError (InvalidDevice, InvalidValue)."""
        from . import _info
        if not isinstance(device, Device):
            raise TypeError(f"device must be a Device, got {type(device).__name__}")
        return _info.query("ProgramBuild", checked.clGetProgramBuildInfo, (self.handle, device.handle), param)

    def create_kernel(self, name: str) -> "Kernel":
        """The kernel function ``name`` of this built program (clCreateKernel).

        Raises CLError: InvalidKernelName if there is no such kernel,
        InvalidProgramExecutable if the program is not built.
        """
        handle = checked.clCreateKernel(self.handle, encode(name, "kernel name"))
        return Kernel.from_handle(handle, retain=False)

    def create_kernels_in_program(self) -> List["Kernel"]:
        """One kernel object per kernel function of the program (clCreateKernelsInProgram)."""
        n = raw.cl_uint()
        checked.clCreateKernelsInProgram(self.handle, 0, None, ctypes.byref(n))
        handles = (raw.cl_kernel * n.value)()
        checked.clCreateKernelsInProgram(self.handle, n.value, handles, None)
        return [Kernel.from_handle(h, retain=False) for h in handles]


class LocalMemory:
    """A ``__local`` kernel argument of ``nbytes`` bytes (clSetKernelArg with a NULL value)."""

    __slots__ = ("nbytes",)

    def __init__(self, nbytes: int):
        if not isinstance(nbytes, int) or isinstance(nbytes, bool) or nbytes <= 0:
            raise ValueError(f"LocalMemory needs a positive int number of bytes, got {nbytes!r}")
        self.nbytes = nbytes

    def __repr__(self) -> str:
        return f"LocalMemory({self.nbytes})"


_CTYPES_DATA = (ctypes._SimpleCData, ctypes.Structure, ctypes.Union, ctypes.Array)
_MEM_SIZE = ctypes.sizeof(raw.cl_mem)


def kernel_arg(value: Any, index: int):
    """(size in bytes, value pointer) for clSetKernelArg from a Python kernel argument.

    Accepted: memory objects, None (a NULL cl_mem), LocalMemory, numpy scalars,
    ctypes instances (``cl_int(3)``, ``cl_float4(...)``) and ``bytes``. A bare int,
    float or bool raises TypeError: its width is unknown.
    """
    if isinstance(value, MemObject):
        return _MEM_SIZE, ctypes.byref(value.handle)
    if value is None:
        return _MEM_SIZE, None
    if isinstance(value, LocalMemory):
        return value.nbytes, None
    if isinstance(value, _CTYPES_DATA):
        return ctypes.sizeof(value), ctypes.byref(value)
    if isinstance(value, bytes):
        if not value:
            raise ValueError(f"kernel argument {index}: empty bytes")
        return len(value), value
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        data = value.tobytes()
        return len(data), data
    if isinstance(value, (bool, int, float)):
        example = "numpy.float32({0!r}) or opencl_raw.raw.cl_double({0!r})" if isinstance(value, float) else \
            "numpy.int32({0!r}), numpy.uint64({0!r}) or opencl_raw.raw.cl_int({0!r})"
        raise TypeError(f"kernel argument {index}: a Python {type(value).__name__} has no OpenCL width; "
                        f"give one, e.g. {example.format(value)}")
    raise TypeError(f"kernel argument {index}: unsupported type {type(value).__name__} (use a memory object, "
                    "None, LocalMemory, a numpy scalar, a ctypes value or bytes)")


class Kernel(Handle):
    """An OpenCL kernel (``cl_kernel``), from ``Program.create_kernel``.

    Arguments: :meth:`set_arg`, :meth:`set_args`. Info: ``get_info(param)``
    (clGetKernelInfo), attributes such as ``.function_name`` and ``.num_args``;
    per device, :meth:`get_work_group_info`. Setting arguments of one kernel from
    several threads at once is not safe (the OpenCL rule); use a kernel per thread.
    """

    __slots__ = ()
    _ctype = raw.cl_kernel
    _retain_name, _release_name = "clRetainKernel", "clReleaseKernel"
    _info_group, _info_function = "Kernel", "clGetKernelInfo"
    _attr_prefixes = ("CL_KERNEL_",)

    def set_arg(self, index: int, value: Any) -> None:
        """Set argument ``index`` (clSetKernelArg); see :func:`kernel_arg` for accepted values.

        Raises TypeError for values without a known width, CLError from the driver
        (InvalidArgIndex, InvalidArgSize for a wrong width, InvalidArgValue, InvalidMemObject).
        """
        size, pointer = kernel_arg(value, index)
        try:
            checked.clSetKernelArg(self.handle, index, size, pointer)
        except CLError as exc:
            exc.detail = f"argument {index} ({size} bytes) of kernel {self.get_info(raw.CL_KERNEL_FUNCTION_NAME)!r}"
            raise

    def set_args(self, *values: Any) -> None:
        """Set arguments 0, 1, ... from ``values`` in order (clSetKernelArg each)."""
        for index, value in enumerate(values):
            self.set_arg(index, value)

    def get_work_group_info(self, device: Device, param) -> Any:
        """Typed work-group info for ``device`` (clGetKernelWorkGroupInfo), e.g.
        CL_KERNEL_WORK_GROUP_SIZE (int, work-items), CL_KERNEL_LOCAL_MEM_SIZE (bytes)."""
        from . import _info
        if not isinstance(device, Device):
            raise TypeError(f"device must be a Device, got {type(device).__name__}")
        return _info.query("KernelWorkGroup", checked.clGetKernelWorkGroupInfo, (self.handle, device.handle), param)



class _ContextPrograms:
    """Context methods that create programs."""

    def create_program_with_source(self, source: Union[str, bytes, Sequence[Union[str, bytes]]]):
        """A program from OpenCL C source (clCreateProgramWithSource).

        ``source``: one string or a sequence of strings (str as UTF-8, or bytes), joined by the driver.
        Raises TypeError for other types, CLError from the driver.
        """
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
        if not isinstance(il, (bytes, bytearray, memoryview)):
            raise TypeError(f"il must be bytes, got {type(il).__name__}")
        data = bytes(il)
        _gate.require("clCreateProgramWithIL", self.get_info(raw.CL_CONTEXT_DEVICES))
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
        n, program_array = handle_array(programs, Program, "programs")
        nd, device_array = handle_array(devices or (), Device, "devices")
        _gate.require("clLinkProgram", devices or self.get_info(raw.CL_CONTEXT_DEVICES))
        try:
            handle = checked.clLinkProgram(self.handle, nd, device_array, encode(options, "options"),
                                           n, program_array, None, None)
        except CLError as exc:
            _rekey_logs(exc)
            raise
        return Program.from_handle(handle, retain=False)


def _work_sizes(values, name: str, dims: Optional[int] = None):
    if values is None:
        return None
    if isinstance(values, int):
        values = (values,)
    values = tuple(values)
    if not 1 <= len(values) <= 3:
        raise ValueError(f"{name} must have 1 to 3 dimensions, got {len(values)}")
    if dims is not None and len(values) != dims:
        raise ValueError(f"{name} has {len(values)} dimensions but global_size has {dims}")
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"{name} must hold ints (work-items), got {type(v).__name__}")
        if v < 0:
            raise ValueError(f"{name} must not be negative: {values}")
    return (ctypes.c_size_t * len(values))(*values)


class _QueueKernels:
    """CommandQueue methods that run kernels."""

    def enqueue_nd_range_kernel(self, kernel: Kernel, global_size, local_size=None, global_offset=None,
                                wait_for: Sequence[Event] = ()) -> Event:
        """Run ``kernel`` over an NDRange (clEnqueueNDRangeKernel).

        ``global_size``: work-items per dimension (int or 1 to 3 ints);
        ``local_size``: work-group size per dimension, or None to let the driver choose;
        ``global_offset``: per-dimension offset of the global IDs, or None for zeros.
        Raises TypeError/ValueError for malformed sizes, CLError from the driver
        (InvalidWorkGroupSize, InvalidWorkItemSize, InvalidKernelArgs, ...).
        """
        if not isinstance(kernel, Kernel):
            raise TypeError(f"kernel must be a Kernel, got {type(kernel).__name__}")
        gsize = _work_sizes(global_size, "global_size")
        dims = len(gsize)
        lsize = _work_sizes(local_size, "local_size", dims)
        offset = _work_sizes(global_offset, "global_offset", dims)
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueNDRangeKernel(self.handle, kernel.handle, dims, offset, gsize, lsize, n, events,
                                       ctypes.byref(event))
        return Event.from_handle(event, retain=False)


__all__ = ["Program", "Kernel", "LocalMemory", "kernel_arg"]
