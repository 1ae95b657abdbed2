"""Programs and kernels: clBuildProgram, clCompileProgram, clCreateKernel, clSetKernelArg, and their info."""
from __future__ import annotations

import ctypes
import sys
from typing import Any, List, Mapping, Optional, Sequence

from . import checked, raw
from ._handle import Handle, encode, handle_array
from .errors import CLError
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


__all__ = ["Program", "Kernel", "LocalMemory", "kernel_arg"]
