"""Programs and kernels: creation, building, arguments, info, and the command-queue methods that run kernels."""
from __future__ import annotations

import ctypes
import operator
import struct
import sys

from . import _callbacks, _gate, _pins, checked, raw
from ._handle import RELEASES, SIZE_T, Handle, bare, encode, handle_array, shared
from .errors import (CLError, FunctionUnavailableError, InvalidDevice, InvalidOperation, InvalidProgram, KernelArgInfoNotAvailable,
                     ReleasedHandleError)
from .event import Event, enqueued, wait_list
from .memory import MemObject
from .platform import Device

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple, Union


def _rekey_logs(exc: CLError) -> None:
    """Turn a CLError's build_logs keys (device handle values) into Device objects."""
    if exc.build_logs:
        exc.build_logs = {Device.from_handle(k, retain=False) if isinstance(k, int) else k: v
                          for k, v in exc.build_logs.items()}


# --------------------------------------------------------------------------- #
# Callbacks given to the driver (one trampoline each, user_data is a _callbacks key)
# --------------------------------------------------------------------------- #

def _notify_args(program, user_data):
    value = program.value if isinstance(program, ctypes.c_void_p) else program
    return user_data, (Program.from_handle(value, retain=True) if value else None,)


_build_notify = _callbacks.trampoline(raw.clBuildProgram_pfn_notify, _notify_args)
_compile_notify = _callbacks.trampoline(raw.clCompileProgram_pfn_notify, _notify_args)
_link_notify = _callbacks.trampoline(raw.clLinkProgram_pfn_notify, _notify_args)
_release_notify = _callbacks.trampoline(raw.clSetProgramReleaseCallback_pfn_notify,
                                        lambda program, user_data: (user_data, ()))
# The argument block of a native kernel starts with its _callbacks key (see enqueue_native_kernel).
_native_kernel = _callbacks.trampoline(
    raw.clEnqueueNativeKernel_user_func,
    lambda address: (ctypes.c_uint64.from_address(address).value, (address,)) if address else (None, ()))


def _notify(callback: Optional[Callable], trampoline, program: Optional["Program"] = None
            ) -> Tuple[Optional[int], Any]:
    """(user_data key or None, C callback or None) for an optional Python callback.

    ``program`` (build, compile) is kept alive by the registration until the driver calls
    back, so its ``cl_program`` is not released while a build runs in the background, even if
    the caller drops every reference: the callback then gets a valid program.
    """
    if callback is None:
        return None, None
    if program is not None and callable(callback):    # (register refuses a non-callable)
        callback = _HoldingProgram(callback, program)
    return _callbacks.register(callback, once=True), trampoline


class _HoldingProgram:
    """A build/compile callback that holds its Program until the driver calls it (see _notify)."""

    __slots__ = ("function", "program")

    def __init__(self, function: Callable, program: "Program"):
        self.function, self.program = function, program

    def __call__(self, built) -> None:
        self.function(built)

    def __repr__(self) -> str:
        return repr(self.function)


def _call_with_notify(function: Callable, key: Optional[int], *args):
    """Call a checked build/compile/link function; the callback entry is dropped if the call fails
    (it has then either run already, as on PoCL, or will never run)."""
    try:
        return function(*args)
    except BaseException:
        if key is not None:
            _callbacks.forget(key)
        raise


def _check_devices_of(program: "Program", array, n: int, function: str) -> None:
    """Refuse, before the driver, devices that are not the program's (drivers may read a device
    of another platform as their own and crash): InvalidDevice, as the driver would answer."""
    if not n:
        return
    count = raw.cl_uint()
    checked.clGetProgramInfo(program.handle, raw.CL_PROGRAM_NUM_DEVICES, ctypes.sizeof(count), ctypes.byref(count),
                             None)
    own = (raw.cl_device_id * count.value)()
    checked.clGetProgramInfo(program.handle, raw.CL_PROGRAM_DEVICES, ctypes.sizeof(own), own, None)
    known = {d.value for d in own}
    for i in range(n):
        if array[i].value not in known:
            raise InvalidDevice(None, function, f"devices[{i}] ({_gate._device_name(array[i].value)!r}) is not a "
                                                "device of the program's context; refused before the driver")


def _build_int(program_value: int, device_value: int, param: int, ctype, unanswered: int) -> int:
    """An integer clGetProgramBuildInfo answer for one device (CL_PROGRAM_BUILD_STATUS,
    CL_PROGRAM_BINARY_TYPE), or ``unanswered`` where the driver gives none."""
    value = ctype()
    if raw.clGetProgramBuildInfo(program_value, device_value, param, ctypes.sizeof(value), ctypes.byref(value), None):
        return unanswered
    return value.value


class Program(Handle):
    """An OpenCL program (``cl_program``), made by ``Context.create_program_with_source``,
    ``create_program_with_binary``, ``create_program_with_il``,
    ``create_program_with_built_in_kernels`` or ``link_program``.

    Info: ``get_info(param)`` (clGetProgramInfo), attributes such as ``.source``,
    ``.binaries`` (list of bytes), ``.kernel_names``, ``.devices``; per device,
    :meth:`get_build_info`.
    """

    __slots__ = ()
    _ctype = raw.cl_program
    _retain_name, _release_name = "clRetainProgram", "clReleaseProgram"
    _info_group, _info_function = "Program", "clGetProgramInfo"
    _attr_prefixes = ("CL_PROGRAM_",)

    def build(self, options: str = "", devices: Optional[Sequence[Device]] = None,
              callback: Optional[Callable[["Program"], Any]] = None) -> "Program":
        """Compile and link for ``devices`` (default: all of the program's) (clBuildProgram).

        ``options``: build options (str), e.g. ``"-cl-std=CL1.2 -DN=4 -cl-kernel-arg-info"``.
        ``callback(program)``: called by the driver when the build is done (successful or
        not), possibly on a driver thread; with a callback the driver may return at once and
        build in the background, so wait for the callback before using the program (PoCL
        builds synchronously and calls it before returning). An exception in the callback
        goes to ``sys.unraisablehook``. Returns self.
        Raises TypeError for a bad options/devices/callback type; CLError:
        BuildProgramFailure carries ``.build_logs`` (Device -> log) and shows them in
        ``str()``, InvalidBuildOptions for bad options, InvalidOperation while a build is
        in progress, InvalidDevice (before the driver) for a device not of the program.
        When the call raises, the callback has run already or never will.
        """
        n, array = handle_array(devices or (), Device, "devices")
        _check_devices_of(self, array, n, "clBuildProgram")
        text = encode(options, "options")
        key, notify = _notify(callback, _build_notify, self)
        try:
            _call_with_notify(checked.clBuildProgram, key, self.handle, n, array, text, notify, key)
        except CLError as exc:
            _rekey_logs(exc)
            raise
        return self

    def compile(self, options: str = "", devices: Optional[Sequence[Device]] = None,
                headers: Optional[Mapping[str, "Program"]] = None,
                callback: Optional[Callable[["Program"], Any]] = None) -> "Program":
        """Compile without linking (clCompileProgram, OpenCL 1.2). Returns self.

        ``headers`` maps include names (as written in ``#include "name.h"``) to programs
        made from the header sources with ``create_program_with_source``; the compiler
        reads them instead of files. ``callback(program)`` as in :meth:`build`.
        Link with ``Context.link_program``.
        Raises TypeError for bad types; CLError: CompileProgramFailure carries
        ``.build_logs`` (Device -> log), InvalidCompilerOptions for bad options,
        InvalidDevice (before the driver) for a device not of the program;
        FunctionUnavailableError on a device older than 1.2 (the version gate).
        """
        n, array = handle_array(devices or (), Device, "devices")
        _check_devices_of(self, array, n, "clCompileProgram")
        headers = dict(headers or {})
        nh, header_array = handle_array(headers.values(), Program, "headers")
        names = (ctypes.c_char_p * nh)(*[encode(k, "header name") for k in headers]) if nh else None
        text = encode(options, "options")
        key, notify = _notify(callback, _compile_notify, self)
        try:
            _call_with_notify(checked.clCompileProgram, key, self.handle, n, array, text, nh, header_array, names,
                              notify, key)
        except CLError as exc:
            _rekey_logs(exc)
            raise
        return self

    def get_build_info(self, device: Device, param) -> Any:
        """Typed build info for one device (clGetProgramBuildInfo), e.g. CL_PROGRAM_BUILD_LOG (str),
        CL_PROGRAM_BUILD_STATUS (BuildStatus), CL_PROGRAM_BINARY_TYPE (ProgramBinaryType).
        Raises TypeError for a non-Device, CLError (InvalidDevice, InvalidValue)."""
        from . import _info
        if not isinstance(device, Device):
            raise TypeError(f"device must be a Device, got {type(device).__name__}")
        return _info.query("ProgramBuild", checked.clGetProgramBuildInfo, (self.handle, device.handle), param)

    def create_kernel(self, name: str) -> "Kernel":
        """The kernel function ``name`` of this built program (clCreateKernel).

        Raises TypeError for a non-str name; CLError: InvalidKernelName if there is no
        such kernel, InvalidProgramExecutable if the program is not built.
        """
        handle = checked.clCreateKernel(self.handle, encode(name, "kernel name"))
        return Kernel.from_handle(handle, retain=False)

    def create_kernels_in_program(self) -> List["Kernel"]:
        """One kernel object per kernel function of the program (clCreateKernelsInProgram).

        Raises CLError: InvalidProgramExecutable if the program is not built.
        """
        n = raw.cl_uint()
        checked.clCreateKernelsInProgram(self.handle, 0, None, ctypes.byref(n))
        handles = (raw.cl_kernel * n.value)()
        checked.clCreateKernelsInProgram(self.handle, n.value, handles, None)
        return [Kernel.from_handle(h, retain=False) for h in handles]

    def set_specialization_constant(self, spec_id: int, value: Any) -> None:
        """Set SPIR-V specialization constant ``spec_id`` before building
        (clSetProgramSpecializationConstant, OpenCL 2.2).

        ``value``: a numpy scalar or ctypes value of the constant's width
        (``numpy.int32(7)``, ``raw.cl_float(0.5)``), ``bytes``, or a Python bool (a boolean
        constant, 1 byte); a bare int or float raises TypeError (its width is unknown).
        Only programs made from IL (``create_program_with_il``) have specialization
        constants: for any other program the binding raises InvalidProgram itself,
        before the driver (PoCL 3.1 aborts the process on an unbuilt source program).
        Raises TypeError/ValueError for a bad spec_id or value; CLError from the driver
        (InvalidSpecId, InvalidValue for a wrong size); FunctionUnavailableError on a
        device older than 2.2 (the version gate).
        """
        if not isinstance(spec_id, int) or isinstance(spec_id, bool):
            raise TypeError(f"spec_id must be an int, got {type(spec_id).__name__}")
        if not 0 <= spec_id <= 0xFFFFFFFF:
            raise ValueError(f"spec_id must be a cl_uint, got {spec_id}")
        if isinstance(value, bool):
            data = bytes([int(value)])
        else:
            data = _sized_bytes(value, "specialization constant value")
        size = ctypes.c_size_t()
        status = raw.clGetProgramInfo(self.handle, raw.CL_PROGRAM_IL, 0, None, ctypes.byref(size))
        if status or not size.value:
            raise InvalidProgram(None, "clSetProgramSpecializationConstant",
                                 "the program was not created from IL (CL_PROGRAM_IL is empty); "
                                 "refused before the driver")
        checked.clSetProgramSpecializationConstant(self.handle, spec_id, len(data), data)

    def set_release_callback(self, callback: Callable[[], Any]) -> None:
        """Have ``callback()`` called when the program is destroyed, after its global
        destructors ran (clSetProgramReleaseCallback, OpenCL 2.2, deprecated by 3.0).

        The callback takes no argument (the program is gone) and may run on a driver
        thread; an exception in it goes to ``sys.unraisablehook``.
        Raises TypeError for a non-callable; CLError: InvalidOperation where the driver
        does not support it (PoCL 3.1, Oclgrind with the gate off; the 3.0 specification
        allows that); FunctionUnavailableError on a device older than 2.2 (the version gate).
        """
        key = _callbacks.register(callback, once=True)
        _call_with_notify(checked.clSetProgramReleaseCallback, key, self.handle, _release_notify, key)


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
_C_MEM_SIZE = shared(ctypes.c_size_t, _MEM_SIZE)   # set_arg's size of a memory object, for the bare call


def _sized_bytes(value: Any, what: str) -> bytes:
    """The bytes of a value with a known width: numpy scalar, ctypes instance or non-empty bytes."""
    if isinstance(value, _CTYPES_DATA):
        return ctypes.string_at(ctypes.addressof(value), ctypes.sizeof(value))
    if isinstance(value, (bytes, bytearray)):
        if not value:
            raise ValueError(f"{what}: empty bytes")
        return bytes(value)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        return value.tobytes()
    if isinstance(value, (bool, int, float)):
        raise TypeError(f"{what}: a Python {type(value).__name__} has no OpenCL width; give one, "
                        f"e.g. numpy.int32({value!r}) or opencl_raw.raw.cl_float({value!r})")
    raise TypeError(f"{what}: unsupported type {type(value).__name__} (use a numpy scalar, a ctypes value or bytes)")


def kernel_arg(value: Any, index: int):
    """(size in bytes, value pointer) for clSetKernelArg from a Python kernel argument.

    Accepted: memory objects, samplers (a ``cl_sampler`` for a ``sampler_t`` parameter),
    None (a NULL cl_mem), LocalMemory, numpy scalars,
    ctypes instances (``cl_int(3)``, ``cl_float4(...)``) and ``bytes``. A bare int,
    float or bool raises TypeError: its width is unknown (``Kernel.set_arg`` converts
    them when the kernel's argument types are known).
    """
    if isinstance(value, MemObject):
        return _MEM_SIZE, ctypes.byref(value.handle)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        data = value.tobytes()
        return len(data), data
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
    if isinstance(value, Handle) and value._ctype is raw.cl_sampler:
        return ctypes.sizeof(raw.cl_sampler), ctypes.byref(value.handle)
    if isinstance(value, (bool, int, float)):
        example = "numpy.float32({0!r}) or opencl_raw.raw.cl_double({0!r})" if isinstance(value, float) else \
            "numpy.int32({0!r}), numpy.uint64({0!r}) or opencl_raw.raw.cl_int({0!r})"
        raise TypeError(f"kernel argument {index}: a Python {type(value).__name__} has no OpenCL width; "
                        f"give one, e.g. {example.format(value)} (or build with -cl-kernel-arg-info so that "
                        "set_arg knows the argument's type)")
    raise TypeError(f"kernel argument {index}: unsupported type {type(value).__name__} (use a memory object, "
                    "None, LocalMemory, a numpy scalar, a ctypes value or bytes)")


_NOT_SET = object()
_MEM, _NUMPY, _OTHER = "memory object", "numpy scalar", "other"
_ARG_KINDS: dict = {}  # class of a set_arg value -> _MEM, _NUMPY or _OTHER


def _arg_kind(cls: type) -> str:
    """set_arg's path for values of class ``cls`` (cached in _ARG_KINDS): numpy scalars other
    than np.void, which is mutable (a structured scalar can be a view into its array)."""
    np = sys.modules.get("numpy")
    kind = _MEM if issubclass(cls, MemObject) else \
        _NUMPY if np is not None and issubclass(cls, np.generic) and not issubclass(cls, np.void) else _OTHER
    if len(_ARG_KINDS) < 256:
        _ARG_KINDS[cls] = kind
    return kind


#: immutable argument types whose objects set_arg may recognise by identity (see _unchanging)
_UNCHANGING = frozenset({bool, int, float, bytes})


def _unchanging(source: Any, key: Any) -> bool:
    """Whether ``source``, an object given to set_arg that is neither a memory object nor a
    numpy scalar (those have their own paths), cannot change unseen, so that set_arg may
    recognise it by identity next time: a sampler (its release is checked), None, bytes, or
    a Python number or tuple of them (converted the same way every time). Mutable values
    (ctypes instances, lists, LocalMemory, np.void) are compared by value every time."""
    return source is key or source is None or source.__class__ in _UNCHANGING or \
        (source.__class__ is tuple and all(v.__class__ in _UNCHANGING for v in source))


def _arg_key(value: Any, pointer: Any) -> Any:
    """What identifies an argument value for set_arg's unchanged check (see _same_arg)."""
    if isinstance(value, Handle):
        # The wrapper object itself, held: the kernel keeps the memory objects and samplers
        # set as its arguments alive, so one the caller drops is not freed while the kernel
        # may still use it (the driver keeps only the bare handle). A handle value alone
        # would not do either: a released cl_mem's address is soon given to a new one.
        return value
    if isinstance(pointer, bytes):
        return pointer
    if value is None:
        return None
    if isinstance(value, LocalMemory):
        return ("local", value.nbytes)
    return bytes(value)  # a ctypes value: its bytes now (it may change later)


# OpenCL C scalar type name -> struct format (the C type's width; integers are range checked)
_SCALAR_FORMATS = {
    "char": "b", "signed char": "b", "uchar": "B", "unsigned char": "B",
    "short": "h", "signed short": "h", "ushort": "H", "unsigned short": "H",
    "int": "i", "signed int": "i", "uint": "I", "unsigned int": "I", "unsigned": "I",
    "long": "q", "signed long": "q", "ulong": "Q", "unsigned long": "Q",
    "half": "e", "float": "f", "double": "d",
}
# types whose width is the device's CL_DEVICE_ADDRESS_BITS: name -> signed
_ADDRESS_TYPES = {"size_t": False, "uintptr_t": False, "ptrdiff_t": True, "intptr_t": True}


def _vector(type_name: str) -> Optional[Tuple[str, int]]:
    """(scalar type name, width) of an OpenCL C vector type name such as ``'float4'``, else None."""
    for width in ("16", "2", "3", "4", "8"):
        base = type_name[:-len(width)]
        if type_name.endswith(width) and base.isascii() and base.isalpha() and base.islower():
            return base, int(width)
    return None


def _scalar_format(type_name: str, address_bits: Optional[int]) -> Optional[str]:
    if type_name in _SCALAR_FORMATS:
        return _SCALAR_FORMATS[type_name]
    if type_name in _ADDRESS_TYPES and address_bits in (32, 64):
        code = "i" if address_bits == 32 else "q"
        return code if _ADDRESS_TYPES[type_name] else code.upper()
    return None


def _pack_scalar(fmt: str, value: Any, type_name: str, index: int) -> bytes:
    if fmt in "efd":
        if not isinstance(value, (int, float)):
            raise TypeError(f"kernel argument {index} ({type_name}): expected a number, got {type(value).__name__}")
    elif isinstance(value, float):
        raise TypeError(f"kernel argument {index} ({type_name}): a Python float would be truncated; "
                        f"give an int or a numpy value")
    elif not isinstance(value, int):
        raise TypeError(f"kernel argument {index} ({type_name}): expected an int, got {type(value).__name__}")
    else:
        bits = struct.calcsize(fmt) * 8
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if fmt.islower() else (0, (1 << bits) - 1)
        if not low <= value <= high:
            raise ValueError(f"kernel argument {index} ({type_name}): {value} is outside [{low}, {high}]")
    try:
        return struct.pack("=" + fmt, value)
    except (OverflowError, struct.error) as exc:
        raise ValueError(f"kernel argument {index} ({type_name}): {value!r} does not fit: {exc}") from None


def _python_arg(type_name: str, value: Any, address_bits: Optional[int], index: int) -> Optional[bytes]:
    """The bytes of a Python number (or a tuple/list for a vector type) for an argument of
    OpenCL C type ``type_name``; None when the type takes no Python number."""
    fmt = _scalar_format(type_name, address_bits)
    if fmt is not None:
        if isinstance(value, (tuple, list)):
            return None
        return _pack_scalar(fmt, value, type_name, index)
    vector = _vector(type_name)
    if vector and vector[0] in _SCALAR_FORMATS and isinstance(value, (tuple, list)):
        fmt, width = _SCALAR_FORMATS[vector[0]], vector[1]
        if len(value) != width:
            raise ValueError(f"kernel argument {index} ({type_name}): needs {width} values, got {len(value)}")
        data = b"".join(_pack_scalar(fmt, v, type_name, index) for v in value)
        if width == 3:  # a 3-vector occupies a 4-vector
            data += bytes(struct.calcsize(fmt))
        return data
    return None


_NOT_QUERIED = object()


class Kernel(Handle):
    """An OpenCL kernel (``cl_kernel``), from ``Program.create_kernel``.

    Arguments: :meth:`set_arg`, :meth:`set_args`. Info: ``get_info(param)``
    (clGetKernelInfo), attributes such as ``.function_name`` and ``.num_args``;
    per device, :meth:`get_work_group_info` and :meth:`get_sub_group_info`; per
    argument, :meth:`get_arg_info` and :attr:`arg_types`. Setting arguments of one
    kernel from several threads at once is not safe (the OpenCL rule); use a kernel
    per thread, e.g. from :meth:`clone`.
    """

    # _arg_values: index -> the value last sent with clSetKernelArg, set_arg's cache (see there);
    # _arg_sources: index -> the object given for it, where that object cannot change
    # (_unchanging); _arg_held: index -> the memory object or sampler the driver has as that
    # argument, held until the index gets another value (a forgotten cache and a refused set
    # leave it: the driver still has the handle); _args_seen: _handle.RELEASES[0] when no held
    # object was released (see _check_arg_handles); _pointer_args: the indexes of pointer
    # arguments, or None until read (see _pointer_indexes)
    __slots__ = ("_arg_types_cache", "_arg_values", "_arg_sources", "_arg_held", "_args_seen", "_pointer_args")
    _ctype = raw.cl_kernel
    _copy_hint = "; Kernel.clone() makes a new cl_kernel with the same arguments"
    _retain_name, _release_name = "clRetainKernel", "clReleaseKernel"
    _info_group, _info_function = "Kernel", "clGetKernelInfo"
    _attr_prefixes = ("CL_KERNEL_",)

    def _adopt(self, handle, retain: bool, owned: bool = True) -> None:
        Handle._adopt(self, handle, retain, owned)
        self._arg_values, self._arg_sources, self._arg_held, self._pointer_args = {}, {}, {}, None

    def set_arg(self, index: int, value: Any) -> None:
        """Set argument ``index`` (clSetKernelArg); see :func:`kernel_arg` for accepted values.

        A plain Python int or float (or a tuple for a vector type such as ``float4``) is
        converted to the argument's C type when the kernel's argument types are known,
        i.e. its program was built with ``-cl-kernel-arg-info`` (CL_KERNEL_ARG_TYPE_NAME):
        ``int`` -> int32, ``uint`` -> uint32, ``long`` -> int64, ``float`` -> float32,
        ``double`` -> float64, ``size_t`` -> the device's CL_DEVICE_ADDRESS_BITS, and so on.
        The types are read once per kernel object.
        The kernel object holds the memory objects and samplers set as its arguments until
        those indexes get other values (through this object), so a buffer the caller drops is
        not freed while the kernel may still use it; releasing one explicitly makes the next
        enqueue_nd_range_kernel raise. The unchanged check sees only this object's calls:
        after setting arguments of the same cl_kernel another way (raw, checked, another
        wrapper from ``Kernel.from_handle``) call :meth:`forget_arg_values`.
        Where the argument types are known, a pointer argument takes only a memory object,
        None (NULL) or LocalMemory (``__local``): a number there raises TypeError (without
        argument info the driver decides; PoCL and Oclgrind crash on one).
        Raises TypeError for values without a known width (or a float for an integer
        type), ValueError for an int outside the C type's range; CLError from the driver
        (InvalidArgIndex, InvalidArgSize for a wrong width, InvalidArgValue, InvalidMemObject).
        A non-int ``index`` raises TypeError, one outside a cl_uint ValueError.
        """
        # OpenCL keeps argument values between enqueues, so an argument set again to the same
        # value is not sent. The shortest path: the very object set last time, when it cannot
        # have changed (_arg_sources holds only such objects) and is not released.
        try:
            if self._arg_sources[index] is value and index.__class__ is int and self._handle is not None and \
                    getattr(value, "_handle", self) is not None:
                return
        except (TypeError, KeyError):          # an unhashable index; a new one
            pass
        handle, values, sources, held = self._handle, self._arg_values, self._arg_sources, self._arg_held
        if type(index) is not int or not 0 <= index <= 0xFFFFFFFF:
            index = _arg_index(index)
        if handle is None:
            handle = self.handle               # raises ReleasedHandleError
        kind = _ARG_KINDS.get(value.__class__) or _arg_kind(value.__class__)
        fn = raw.clSetKernelArg
        try:
            set_kernel_arg = fn._bare
        except AttributeError:
            set_kernel_arg = bare(fn)
        c_index = index if index < 0x80000000 else ctypes.c_uint(index)   # (bare: a Python int goes as a C int)
        if kind is _MEM:                       # what kernel_arg and _arg_key do, inline
            mem = value._handle                # (the same object as last time returned above)
            if mem is None:
                mem = value.handle             # raises ReleasedHandleError
            status = set_kernel_arg(handle, c_index, _C_MEM_SIZE, ctypes.byref(mem))
            if status:
                self._refused(index, _MEM_SIZE, status)
            values[index] = sources[index] = held[index] = value
            return
        if kind is _NUMPY:
            key = memoryview(value).tobytes() or value.tobytes()   # (in half tobytes' time; an empty
            #                                                        np.str_ / np.bytes_ has NUL bytes there)
            if values.get(index) != key:
                if index in self._pointer_indexes():
                    self._check_pointer_arg(index, value)
                size = SIZE_T.get(len(key)) or shared(ctypes.c_size_t, len(key))
                status = set_kernel_arg(handle, c_index, size, key)
                if status:
                    self._refused(index, len(key), status)
                values[index] = key
                held.pop(index, None)
            sources[index] = value
            return
        source = value
        if isinstance(value, (bool, int, float, tuple, list)):
            converted = self._convert_python_arg(index, value)
            if converted is not None:
                value = converted
        size, pointer = kernel_arg(value, index)
        key = _arg_key(value, pointer)
        if not _same_arg(values.get(index, _NOT_SET), key):
            self._check_pointer_arg(index, value)
            status = set_kernel_arg(handle, c_index, shared(ctypes.c_size_t, size), pointer)
            if status:
                self._refused(index, size, status)
            values[index] = key
            if isinstance(source, Handle):     # a sampler
                held[index] = source
            else:
                held.pop(index, None)
        if _unchanging(source, key):
            sources[index] = source
        else:
            sources.pop(index, None)

    def _check_pointer_arg(self, index: int, value: Any) -> None:
        """TypeError where argument ``index`` is known to be a pointer (its CL_KERNEL_ARG_TYPE_NAME
        ends in ``*``) and ``value`` is the bytes of a number: a driver reads them as a cl_mem
        (PoCL and Oclgrind crash). Allowed there: None (NULL), LocalMemory (a ``__local`` pointer)
        and ctypes pointers (a raw ``cl_mem``). Unknown types (no argument info) are not checked."""
        if index in self._pointer_indexes() and value is not None and \
                not isinstance(value, (LocalMemory, ctypes.c_void_p)):
            raise TypeError(f"kernel argument {index} is a pointer ({self._arg_types_and_bits()[0][index]}): give "
                            f"a memory object, None for NULL or LocalMemory for a __local pointer, not "
                            f"{type(value).__name__}")

    def _pointer_indexes(self) -> frozenset:
        """The indexes of the kernel's pointer arguments, read once (empty without argument info)."""
        pointers = self._pointer_args
        if pointers is None:
            known = self._arg_types_and_bits()
            pointers = self._pointer_args = frozenset(
                i for i, name in enumerate(known[0]) if name.endswith("*")) if known else frozenset()
        return pointers

    def _refused(self, index: int, size: int, status: int) -> None:
        """Raise the CLError of a refused clSetKernelArg. The driver keeps the index's old value,
        so set_arg must send the next one: the index is dropped from the cache."""
        self._arg_values.pop(index, None)
        self._arg_sources.pop(index, None)
        raise CLError(status, "clSetKernelArg", f"argument {index} ({size} bytes) of kernel "
                                                f"{self.get_info(raw.CL_KERNEL_FUNCTION_NAME)!r}")

    def forget_arg_values(self) -> None:
        """Make the next :meth:`set_arg` of every index call clSetKernelArg again.

        ``set_arg`` skips the driver call when an argument gets the value it already has
        (OpenCL keeps argument values between enqueues). Call this after setting
        arguments of the same kernel through :mod:`opencl_raw.raw` or
        :mod:`opencl_raw.checked`, or through another wrapper of the same ``cl_kernel``,
        which this object cannot see. The memory objects set through this object stay held
        (the driver may still have them) until their indexes are set again.
        """
        self._arg_values, self._arg_sources = {}, {}

    def _forget_arg(self, index: int) -> None:
        """Make the next :meth:`set_arg` of ``index`` call clSetKernelArg; the index was set another
        way through this object (an SVM pointer), so the driver no longer has its held object."""
        for record in (self._arg_values, self._arg_sources, self._arg_held):
            record.pop(index, None)

    def set_args(self, *values: Any) -> None:
        """Set arguments 0, 1, ... from ``values`` in order (clSetKernelArg each); see :meth:`set_arg`."""
        for index, value in enumerate(values):
            self.set_arg(index, value)

    def _convert_python_arg(self, index: int, value: Any) -> Optional[bytes]:
        known = self._arg_types_and_bits()
        if known is None or not isinstance(index, int) or not 0 <= index < len(known[0]):
            return None
        types, bits = known
        return _python_arg(types[index], value, bits, index)

    def _arg_types_and_bits(self):
        """(type names, address bits or None), or None when the driver has no argument info. Cached."""
        cached = getattr(self, "_arg_types_cache", _NOT_QUERIED)
        if cached is _NOT_QUERIED:
            try:
                types = tuple(self.get_arg_info(i, raw.CL_KERNEL_ARG_TYPE_NAME).strip()
                              for i in range(self.get_info(raw.CL_KERNEL_NUM_ARGS)))
                program = self.get_info(raw.CL_KERNEL_PROGRAM)
                bits = {d.get_info(raw.CL_DEVICE_ADDRESS_BITS) for d in program.get_info(raw.CL_PROGRAM_DEVICES)}
                cached = (types, bits.pop() if len(bits) == 1 else None)
            except (KernelArgInfoNotAvailable, FunctionUnavailableError):
                cached = None
            self._arg_types_cache = cached
        return cached

    @property
    def arg_types(self) -> Optional[Tuple[str, ...]]:
        """CL_KERNEL_ARG_TYPE_NAME of every argument, e.g. ``('float*', 'int', 'float4')``,
        or None when the program was not built with ``-cl-kernel-arg-info`` (cached per
        kernel object; clGetKernelArgInfo, OpenCL 1.2)."""
        known = self._arg_types_and_bits()
        return None if known is None else known[0]

    def get_arg_info(self, index: int, param) -> Any:
        """Typed info of argument ``index`` (clGetKernelArgInfo, OpenCL 1.2).

        ``param``: CL_KERNEL_ARG_TYPE_NAME (str, e.g. ``'float4'``, ``'int*'``),
        CL_KERNEL_ARG_NAME (str), CL_KERNEL_ARG_ADDRESS_QUALIFIER
        (KernelArgAddressQualifier), CL_KERNEL_ARG_ACCESS_QUALIFIER
        (KernelArgAccessQualifier), CL_KERNEL_ARG_TYPE_QUALIFIER (KernelArgTypeQualifier flags).
        Raises TypeError/ValueError for a non-int or negative index; CLError:
        KernelArgInfoNotAvailable unless the program was built with ``-cl-kernel-arg-info``,
        InvalidArgIndex, InvalidValue for another param; FunctionUnavailableError on a
        device older than 1.2 (the version gate).
        """
        from . import _info
        index = _arg_index(index)
        try:
            return _info.query("KernelArg", checked.clGetKernelArgInfo, (self.handle, index), param)
        except KernelArgInfoNotAvailable as exc:
            exc.detail = "build the program with the option -cl-kernel-arg-info"
            raise

    def get_work_group_info(self, device: Device, param) -> Any:
        """Typed work-group info for ``device`` (clGetKernelWorkGroupInfo), e.g.
        CL_KERNEL_WORK_GROUP_SIZE (int, work-items), CL_KERNEL_LOCAL_MEM_SIZE (bytes),
        CL_KERNEL_COMPILE_WORK_GROUP_SIZE (tuple of 3 ints).
        Raises TypeError for a non-Device, CLError (InvalidDevice, InvalidValue)."""
        from . import _info
        if not isinstance(device, Device):
            raise TypeError(f"device must be a Device, got {type(device).__name__}")
        return _info.query("KernelWorkGroup", checked.clGetKernelWorkGroupInfo, (self.handle, device.handle), param)

    def get_sub_group_info(self, device: Device, param, input_value=None) -> Any:
        """Typed sub-group info for ``device`` (clGetKernelSubGroupInfo, OpenCL 2.1).

        ``param`` and ``input_value``:

        - CL_KERNEL_MAX_SUB_GROUP_SIZE_FOR_NDRANGE, CL_KERNEL_SUB_GROUP_COUNT_FOR_NDRANGE:
          ``input_value`` is the local work size (int or 1 to 3 ints, work-items); returns an int;
        - CL_KERNEL_LOCAL_SIZE_FOR_SUB_GROUP_COUNT: ``input_value`` is a sub-group count
          (int); returns the local size as a tuple of ints (all zeros if none fits);
        - CL_KERNEL_MAX_NUM_SUB_GROUPS, CL_KERNEL_COMPILE_NUM_SUB_GROUPS: no input; returns an int.

        Raises TypeError for a non-Device or a bad input type, ValueError for a missing or
        superfluous input; CLError: InvalidOperation where the device has no sub-groups
        (PoCL 3.1 on CPUs, CL_DEVICE_MAX_NUM_SUB_GROUPS 0), InvalidValue;
        FunctionUnavailableError on a device older than 2.1 (the version gate).
        """
        from . import _info
        if not isinstance(device, Device):
            raise TypeError(f"device must be a Device, got {type(device).__name__}")
        value = _info.param_value(param)
        name = _info.NAMES["KernelSubGroup"].get(value, hex(value))
        wants = {raw.CL_KERNEL_MAX_SUB_GROUP_SIZE_FOR_NDRANGE: "local size",
                 raw.CL_KERNEL_SUB_GROUP_COUNT_FOR_NDRANGE: "local size",
                 raw.CL_KERNEL_LOCAL_SIZE_FOR_SUB_GROUP_COUNT: "count"}.get(value)
        if wants == "local size":
            if input_value is None:
                raise ValueError(f"{name} needs input_value: the local work size (1 to 3 ints)")
            data = _work_sizes(input_value, "input_value")
        elif wants == "count":
            if not isinstance(input_value, int) or isinstance(input_value, bool):
                raise TypeError(f"{name} needs input_value: a sub-group count (int), got {input_value!r}")
            if input_value < 0:
                raise ValueError(f"input_value must not be negative, got {input_value}")
            data = ctypes.c_size_t(input_value)
        else:
            if input_value is not None:
                raise ValueError(f"{name} takes no input_value")
            data = None
        size = ctypes.sizeof(data) if data is not None else 0
        pointer = ctypes.byref(data) if data is not None else None

        def query(kernel, dev, param_name, value_size, param_value, size_ret):
            checked.clGetKernelSubGroupInfo(kernel, dev, param_name, size, pointer, value_size, param_value, size_ret)

        return _info.query("KernelSubGroup", query, (self.handle, device.handle), value)

    def clone(self) -> "Kernel":
        """A copy of this kernel with the arguments set so far (clCloneKernel, OpenCL 2.1).

        Setting arguments of the copy does not change this kernel, so each thread can
        have its own. Raises CLError (InvalidKernel, OutOfResources);
        FunctionUnavailableError on a device older than 2.1 (the version gate).
        """
        handle = checked.clCloneKernel(self.handle)
        copy = Kernel.from_handle(handle, retain=False)
        cached = getattr(self, "_arg_types_cache", _NOT_QUERIED)
        if cached is not _NOT_QUERIED:
            copy._arg_types_cache = cached
        # the copy has the same argument values: it holds the same objects, and knows what it has
        copy._arg_values, copy._arg_sources, copy._arg_held = (
            dict(self._arg_values), dict(self._arg_sources), dict(self._arg_held))
        return copy

    def set_arg_svm_pointer(self, index: int, svm_or_pointer: Any) -> None:
        """Set argument ``index`` (a global/constant pointer) to SVM memory (clSetKernelArgSVMPointer, OpenCL 2.0).

        ``svm_or_pointer``: an :class:`~opencl_raw.svm.SVMAllocation` (its start), an int
        address inside one (e.g. ``svm.pointer + 16``), or None (NULL). Keep the allocation
        alive (not freed) until the kernels using it complete.
        Raises TypeError for other types or a non-int index, ValueError for an index outside
        a cl_uint or an address outside a pointer, ReleasedHandleError for a freed allocation,
        FunctionUnavailableError before OpenCL 2.0 (the version gate), CLError
        (InvalidArgIndex, InvalidArgValue).
        """
        from .svm import set_arg_svm_pointer
        set_arg_svm_pointer(self, _arg_index(index), svm_or_pointer)

    def set_exec_info(self, param: int, value: Any) -> None:
        """Pass extra information for the kernel's next enqueues (clSetKernelExecInfo, OpenCL 2.0).

        ``param``: CL_KERNEL_EXEC_INFO_SVM_PTRS with ``value`` a sequence of SVMAllocations or
        int addresses that the kernel reaches indirectly (not through its arguments);
        CL_KERNEL_EXEC_INFO_SVM_FINE_GRAIN_SYSTEM with a bool; other params take bytes or a
        ctypes value (passed with its size in bytes).
        Raises TypeError for other values, FunctionUnavailableError before OpenCL 2.0,
        CLError (InvalidValue for an unknown param, InvalidOperation if unsupported).
        """
        from .svm import set_exec_info
        set_exec_info(self, param, value)


def _arg_index(index: Any) -> int:
    """A kernel argument index as a cl_uint: TypeError / ValueError naming ``index`` (ctypes would
    wrap 2**32 + 1 to 1 and set another argument)."""
    if isinstance(index, bool):
        raise TypeError("index must be an int, got bool")
    try:
        index = operator.index(index)
    except TypeError:
        raise TypeError(f"index must be an int, got {type(index).__name__}") from None
    if index < 0:
        raise ValueError(f"index must not be negative, got {index}")
    if index > 0xFFFFFFFF:
        raise ValueError(f"index must be a cl_uint (at most 2**32-1), got {index}")
    return index


def _same_arg(stored: Any, key: Any) -> bool:
    """Whether set_arg may skip clSetKernelArg: the argument holds the same value. A handle
    argument must be the very wrapper object set before, unreleased (set_arg has checked
    ``.handle``), so its cl_mem is the one the driver has."""
    if isinstance(key, Handle):
        return stored is key
    return not isinstance(stored, Handle) and stored == key


class _ContextPrograms:
    """Context methods that create programs."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _gate.install()  # the Context and every handle class defined by now (see _gate)

    def create_program_with_source(self, source: Union[str, bytes, Sequence[Union[str, bytes]]]):
        """A program from OpenCL C source (clCreateProgramWithSource).

        ``source``: one string or a sequence of strings (str as UTF-8, or bytes), joined by the driver.
        Raises TypeError for other types, CLError from the driver.
        """
        try:
            strings = [source] if isinstance(source, (str, bytes)) else list(source)
        except TypeError:
            raise TypeError(f"source must be str, bytes or a sequence of them, got {type(source).__name__}") from None
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
        FunctionUnavailableError on a device older than 2.1 (the version gate).
        """
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

    def create_program_with_built_in_kernels(self, devices: Sequence[Device], kernel_names: Union[str, Sequence[str]]):
        """A program of the devices' built-in kernels (clCreateProgramWithBuiltInKernels, OpenCL 1.2).

        ``kernel_names``: names from CL_DEVICE_BUILT_IN_KERNELS, as a sequence of str or
        one ``';'``-separated str. ``devices``: Devices of this context that have them.
        Raises ValueError for no devices or an empty name; TypeError for bad types; CLError:
        InvalidValue for a name a device does not list (the detail lists what each
        device has); FunctionUnavailableError on a device older than 1.2 (the version gate).
        """
        n, device_array = handle_array(devices, Device, "devices")
        if not n:
            raise ValueError("create_program_with_built_in_kernels needs at least one device")
        names = kernel_names.split(";") if isinstance(kernel_names, str) else list(kernel_names)
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"kernel_names must hold str, got {type(name).__name__}")
            if not name.strip() or ";" in name:
                raise ValueError(f"kernel_names must be non-empty names without ';', got {name!r}")
        try:
            handle = checked.clCreateProgramWithBuiltInKernels(self.handle, n, device_array,
                                                               ";".join(name.strip() for name in names).encode())
        except CLError as exc:
            exc.detail = "built-in kernels: " + ", ".join(
                f"{d.get_info(raw.CL_DEVICE_NAME)!r}: {d.get_info(raw.CL_DEVICE_BUILT_IN_KERNELS)!r}" for d in devices)
            raise
        return Program.from_handle(handle, retain=False)

    def link_program(self, programs: Sequence[Program], options: str = "", devices: Optional[Sequence[Device]] = None,
                     callback: Optional[Callable[[Program], Any]] = None) -> Program:
        """Link compiled programs and libraries into an executable or a library (clLinkProgram, OpenCL 1.2).

        ``programs``: Programs compiled with :meth:`Program.compile` or libraries made by
        linking with ``options="-create-library"``. ``options``: linker options (str).
        ``devices`` defaults to all the context's devices. ``callback(program)`` as in
        :meth:`Program.build`, with the new program.
        Raises ValueError for no programs; TypeError for bad types; CLError:
        LinkProgramFailure carries ``.build_logs`` (Device -> log), InvalidOperation for
        inputs that are not compiled objects or libraries; a program whose compile failed
        (build status CL_BUILD_ERROR) or is still in progress, or a built executable
        (CL_PROGRAM_BINARY_TYPE_EXECUTABLE), is refused with InvalidOperation before the
        driver (PoCL 3.1 aborts the process linking the first, NVIDIA 580 the second);
        FunctionUnavailableError on a device older than 1.2 (the version gate).
        """
        n, program_array = handle_array(programs, Program, "programs")
        nd, device_array = handle_array(devices or (), Device, "devices")
        if not n:
            raise ValueError("link_program needs at least one program")
        text = encode(options, "options")
        device_values = [d._value for d in devices] if devices else [d._value for d in self.devices]
        for i, program in enumerate(programs):
            for value in device_values:
                status = _build_int(program._value, value, raw.CL_PROGRAM_BUILD_STATUS, raw.cl_build_status,
                                    raw.CL_BUILD_NONE)
                if status in (raw.CL_BUILD_ERROR, raw.CL_BUILD_IN_PROGRESS):
                    what = "failed to compile" if status == raw.CL_BUILD_ERROR else "is still being compiled"
                elif _build_int(program._value, value, raw.CL_PROGRAM_BINARY_TYPE, raw.cl_program_binary_type,
                                raw.CL_PROGRAM_BINARY_TYPE_NONE) == raw.CL_PROGRAM_BINARY_TYPE_EXECUTABLE:
                    what = "is an executable (CL_PROGRAM_BINARY_TYPE_EXECUTABLE), not a compiled object or library,"
                else:
                    continue
                raise InvalidOperation(None, "clLinkProgram", f"programs[{i}] {what} for device "
                                       f"{_gate._device_name(value)!r}; refused before the driver")
        key, notify = _notify(callback, _link_notify)
        try:
            handle = _call_with_notify(checked.clLinkProgram, key, self.handle, nd, device_array, text,
                                       n, program_array, notify, key)
        except CLError as exc:
            _rekey_logs(exc)
            raise
        return Program.from_handle(handle, retain=False)


_SIZE_ARRAYS: dict = {}  # work-size tuple -> its size_t array (read-only to the driver, so shared)


_SIZE_MAX = (1 << (8 * ctypes.sizeof(ctypes.c_size_t))) - 1


def _work_sizes(values, name: str, dims: Optional[int] = None):
    if values is None:
        return None
    kind = type(values)
    if kind is tuple or kind is list:
        key = tuple(values)
    elif hasattr(values, "__index__") and not hasattr(values, "__len__") and not isinstance(values, bool):
        key = (values,)                                                    # int, numpy integers
    else:
        raise TypeError(f"{name} must be an int, or a tuple or list of 1 to 3 ints (work-items), got "
                        f"{kind.__name__}" + (" (give tuple(...) of it)" if hasattr(values, "__len__") else ""))
    try:
        array = _SIZE_ARRAYS.get(key)
    except TypeError:
        raise TypeError(f"{name} must hold ints (work-items), got an unhashable item") from None
    if array is not None and all(type(v) is int for v in key):
        if dims is not None and len(array) != dims:
            raise ValueError(f"{name} has {len(array)} dimensions but global_size has {dims}")
        return array
    if not 1 <= len(key) <= 3:
        raise ValueError(f"{name} must have 1 to 3 dimensions, got {len(key)}")
    if dims is not None and len(key) != dims:
        raise ValueError(f"{name} has {len(key)} dimensions but global_size has {dims}")
    for v in key:
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise TypeError(f"{name} must hold ints (work-items), got {type(v).__name__}")
    values = key = tuple(operator.index(v) for v in key)     # numpy integers as ints
    for v in values:
        if v < 0:
            raise ValueError(f"{name} must not be negative: {values}")
        if v > _SIZE_MAX:
            raise ValueError(f"{name} {values}: {v} does not fit a size_t (at most 2**{_SIZE_MAX.bit_length()}-1)")
    array = (ctypes.c_size_t * len(values))(*values)
    if len(_SIZE_ARRAYS) < 4096:
        _SIZE_ARRAYS[key] = array
    return array


def _check_arg_handles(kernel: Kernel) -> None:
    """Raise ReleasedHandleError for the first released memory object or sampler among a kernel's
    arguments. Once none is, the kernel notes ``RELEASES[0]``: until another handle object is
    released, none of its arguments can be (set_arg refuses released ones)."""
    releases = RELEASES[0]
    for index, value in kernel._arg_held.items():
        if isinstance(value, Handle) and value._handle is None:
            raise ReleasedHandleError(f"argument {index} of kernel {kernel.function_name!r} is a released "
                                      f"{type(value).__name__}; set the argument again")
    kernel._args_seen = releases


class _LaunchLimits:
    """The device limits enqueue_nd_range_kernel checks, read once per CommandQueue object."""

    __slots__ = ("uniform_only", "why_uniform", "max_group", "max_items", "size_max", "device", "shapes")

    def __init__(self, device: Device):
        # (global_size, local_size, global_offset) as given, ints only -> (dims, offset, global, local)
        # size_t arrays of a launch that passed the checks (see _launch_shape)
        self.shapes: dict = {}
        version = device.version_tuple
        self.device = device.get_info(raw.CL_DEVICE_NAME)
        # Non-uniform work-groups (a local size that does not divide the global size) are refused
        # only where that is sure: before OpenCL 2.0, and on a 3.0 device that says it has none.
        # On 2.x, and 3.0 devices that have them, they also depend on the program's -cl-std
        # (OpenCL C 1.x programs have none): the driver decides (CL_INVALID_WORK_GROUP_SIZE).
        self.uniform_only, self.why_uniform = False, ""
        if version < (2, 0):
            self.uniform_only = True
            self.why_uniform = f"it reports OpenCL {version[0]}.{version[1]} (non-uniform work-groups need 2.0)"
        elif version >= (3, 0):
            try:
                supported = device.get_info(raw.CL_DEVICE_NON_UNIFORM_WORK_GROUP_SUPPORT)
            except CLError:
                supported = True          # unsure: let the driver decide
            if not supported:
                self.uniform_only = True
                self.why_uniform = "its CL_DEVICE_NON_UNIFORM_WORK_GROUP_SUPPORT is false"
        self.max_group = device.get_info(raw.CL_DEVICE_MAX_WORK_GROUP_SIZE)
        self.max_items = tuple(device.get_info(raw.CL_DEVICE_MAX_WORK_ITEM_SIZES))
        bits = device.get_info(raw.CL_DEVICE_ADDRESS_BITS)
        self.size_max = (1 << bits) - 1 if bits in (32, 64) else _SIZE_MAX


def _launch_limits(queue) -> _LaunchLimits:
    limits = getattr(queue, "_launch_limits", None)
    if limits is None:
        limits = queue._launch_limits = _LaunchLimits(queue._known_device())
    return limits


def _check_launch(limits: _LaunchLimits, gsize, lsize, offset) -> None:
    """Refuse, before the driver, a launch the device's limits rule out (ValueError naming the limit)."""
    dims = len(gsize)
    if lsize is not None:
        total = 1
        for i in range(dims):
            local = lsize[i]
            if local == 0:
                raise ValueError(f"local_size {tuple(lsize)} must hold positive values (or be None)")
            if i < len(limits.max_items) and local > limits.max_items[i]:
                raise ValueError(f"local_size {tuple(lsize)}: {local} work-items in dimension {i} exceed "
                                 f"CL_DEVICE_MAX_WORK_ITEM_SIZES[{i}] = {limits.max_items[i]} of device "
                                 f"{limits.device!r}")
            if limits.uniform_only and gsize[i] % local:
                raise ValueError(f"local_size {tuple(lsize)} does not divide global_size {tuple(gsize)} in dimension "
                                 f"{i}, and device {limits.device!r} has no non-uniform work-groups: "
                                 f"{limits.why_uniform}; give a local size that divides the global size, or None")
            total *= local
        if total > limits.max_group:
            raise ValueError(f"local_size {tuple(lsize)} makes work-groups of {total} work-items, more than "
                             f"CL_DEVICE_MAX_WORK_GROUP_SIZE = {limits.max_group} of device {limits.device!r}")
    if offset is not None:
        for i in range(dims):
            if gsize[i] + offset[i] > limits.size_max:
                raise ValueError(f"global_offset {tuple(offset)} + global_size {tuple(gsize)} exceed the device's "
                                 f"size_t ({limits.size_max.bit_length()} bits, CL_DEVICE_ADDRESS_BITS) in "
                                 f"dimension {i}")


def _exact(sizes) -> bool:
    """Whether ``sizes`` is None, an int or a tuple of ints: the forms whose launch shapes are
    cached (a lookup with 64.0 or True finds the entry of 64 or 1, so a hit is checked too)."""
    if sizes.__class__ is tuple:
        for v in sizes:
            if v.__class__ is not int:
                return False
        return True
    return sizes is None or sizes.__class__ is int


def _launch_shape(queue, global_size, local_size, global_offset):
    """(dims, offset, global, local size_t arrays or None) of a launch, validated against the
    device's limits (read once per CommandQueue object) and cached per queue when the sizes
    are ints or tuples of ints (see _exact)."""
    gsize = _work_sizes(global_size, "global_size")
    if gsize is None:
        raise TypeError("global_size must be an int, or a tuple or list of 1 to 3 ints (work-items), got None")
    dims = len(gsize)
    lsize = _work_sizes(local_size, "local_size", dims)
    offset = _work_sizes(global_offset, "global_offset", dims)
    if lsize is not None or offset is not None:
        limits = _launch_limits(queue)
        _check_launch(limits, gsize, lsize, offset)
    shape = (dims, offset, gsize, lsize)
    if _exact(global_size) and _exact(local_size) and _exact(global_offset):
        shapes = _launch_limits(queue).shapes
        if len(shapes) < 1024:
            shapes[(global_size, local_size, global_offset)] = shape
    return shape


def _runs_native_kernels(device: Device) -> bool:
    """Whether CL_DEVICE_EXECUTION_CAPABILITIES has CL_EXEC_NATIVE_KERNEL."""
    return bool(device.get_info(raw.CL_DEVICE_EXECUTION_CAPABILITIES) & raw.CL_EXEC_NATIVE_KERNEL)


class _QueueKernels:
    """CommandQueue methods that run kernels."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _gate.install()  # the CommandQueue and every handle class defined by now (see _gate)

    def enqueue_nd_range_kernel(self, kernel: Kernel, global_size, local_size=None, global_offset=None,
                                wait_for: Sequence[Event] = (), event: bool = True) -> Optional[Event]:
        """Run ``kernel`` over an NDRange (clEnqueueNDRangeKernel).

        ``global_size``: work-items per dimension (an int, or a tuple or list of 1 to 3 ints;
        numpy integers too); ``local_size``: work-group size per dimension, or None to let
        the driver choose; ``global_offset``: per-dimension offset of the global IDs, or None
        for zeros;
        ``event=False`` asks the driver for no event and returns None (cheaper in tight loops).
        Sizes are size_t: offsets past 2**32 work on 64-bit devices.
        Refused before the driver with ValueError naming the limit: a local size with a 0,
        one above CL_DEVICE_MAX_WORK_ITEM_SIZES in a dimension, or whose product exceeds
        CL_DEVICE_MAX_WORK_GROUP_SIZE; a local size that does not divide the global size on
        a device without non-uniform work-groups (OpenCL before 2.0, or 3.0 with
        CL_DEVICE_NON_UNIFORM_WORK_GROUP_SUPPORT false; elsewhere it also depends on the
        program's -cl-std, and the driver decides); offset + size past the device's size_t.
        The device limits are read once per CommandQueue object.
        The kernel holds the memory objects set as its arguments (Kernel.set_arg); one that
        was released since raises ReleasedHandleError here, before the driver.
        Raises TypeError/ValueError for malformed sizes, CLError from the driver
        (InvalidWorkGroupSize, e.g. for a size the kernel's CL_KERNEL_WORK_GROUP_SIZE or
        reqd_work_group_size rules out; InvalidWorkItemSize, InvalidKernelArgs, ...).
        """
        # The per-launch path is kept short (issue 7): the sizes' arrays come from a per-queue
        # cache once validated, and the call goes to the raw function, with the checked
        # layer's error handling.
        if kernel.__class__ is not Kernel and not isinstance(kernel, Kernel):
            raise TypeError(f"kernel must be a Kernel, got {type(kernel).__name__}")
        try:
            dims, offset, gsize, lsize = self._launch_limits.shapes[(global_size, local_size, global_offset)]
            if global_size.__class__ is not int:          # (a 64.0 finds the entry of 64: see _exact)
                if global_size.__class__ is not tuple:
                    raise KeyError
                for size in global_size:
                    if size.__class__ is not int:
                        raise KeyError
            if (local_size is not None and not _exact(local_size)) or \
                    (global_offset is not None and not _exact(global_offset)):
                raise KeyError
        except (AttributeError, KeyError, TypeError):      # limits not read yet; new sizes; lists
            dims, offset, gsize, lsize = _launch_shape(self, global_size, local_size, global_offset)
        queue_handle, kernel_handle = self._handle, kernel._handle
        if queue_handle is None or kernel_handle is None:
            raise ReleasedHandleError(f"{'CommandQueue' if queue_handle is None else 'Kernel'} was released")
        if getattr(kernel, "_args_seen", None) != RELEASES[0]:   # a handle was released since the last look
            _check_arg_handles(kernel)
        n, events = wait_list(wait_for) if wait_for else (0, None)
        fn = raw.clEnqueueNDRangeKernel
        try:
            enqueue = fn._bare
        except AttributeError:
            enqueue = bare(fn)
        if not event:
            status = enqueue(queue_handle, kernel_handle, dims, offset, gsize, lsize, n, events, None)
            if status:
                raise CLError(status, "clEnqueueNDRangeKernel")
            return None
        handle = raw.cl_event()
        status = enqueue(queue_handle, kernel_handle, dims, offset, gsize, lsize, n, events, ctypes.byref(handle))
        if status:
            raise CLError(status, "clEnqueueNDRangeKernel")
        return enqueued(self, handle)

    def enqueue_native_kernel(self, function: Callable[..., Any], args_bytes: Any = None,
                              mem_objects: Sequence[MemObject] = (), wait_for: Sequence[Event] = ()) -> Event:
        """Have the device run the Python callable ``function`` (clEnqueueNativeKernel).

        The device calls ``function(args, *views)`` once, on a driver thread: ``args`` is
        a ``bytes`` copy of ``args_bytes`` (any buffer-protocol object; ``b""`` for None)
        and each view is a writable ``memoryview`` (format ``'B'``) over the device memory
        of the corresponding entry of ``mem_objects``, valid only during the call (read or
        write it with ``numpy.frombuffer(view, dtype)``). ``function`` is kept alive until
        it has run; an exception in it goes to ``sys.unraisablehook`` (the command still
        completes). Needs CL_EXEC_NATIVE_KERNEL in the device's
        CL_DEVICE_EXECUTION_CAPABILITIES (PoCL and Oclgrind have it).
        Raises TypeError for a non-callable, non-buffer args or non-MemObject items;
        FunctionUnavailableError (before the driver) for a device without native kernels;
        CLError from the driver (InvalidOperation, InvalidMemObject, ...).
        """
        if not callable(function):
            raise TypeError(f"function must be callable, got {type(function).__name__}")
        if args_bytes is None:
            payload = b""
        else:
            try:
                payload = memoryview(args_bytes).tobytes()
            except TypeError:
                raise TypeError(f"args_bytes must support the buffer protocol, got {type(args_bytes).__name__}") \
                    from None
        mem_objects = list(mem_objects)
        for obj in mem_objects:
            if not isinstance(obj, MemObject):
                raise TypeError(f"mem_objects must hold memory objects, got {type(obj).__name__}")
        device = self.get_info(raw.CL_QUEUE_DEVICE)
        if not _runs_native_kernels(device):
            raise FunctionUnavailableError(
                "clEnqueueNativeKernel", "CL_EXEC_NATIVE_KERNEL",
                f"device {device.get_info(raw.CL_DEVICE_NAME)!r} does not list CL_EXEC_NATIVE_KERNEL in "
                "CL_DEVICE_EXECUTION_CAPABILITIES")
        sizes = [obj.size for obj in mem_objects]
        n_mem, length = len(mem_objects), len(payload)
        slot = ctypes.sizeof(ctypes.c_void_p)

        def run(address: int) -> None:
            pointers = (ctypes.c_void_p * n_mem).from_address(address + 8) if n_mem else ()
            views = [memoryview((ctypes.c_char * size).from_address(pointer)).cast("B")
                     for pointer, size in zip(pointers, sizes)]
            function(ctypes.string_at(address + 8 + slot * n_mem, length), *views)

        # The block: [callbacks key: uint64][one pointer slot per memory object][args_bytes]
        key = _callbacks.register(run, once=True)
        block = ctypes.create_string_buffer(8 + slot * n_mem + length)
        ctypes.c_uint64.from_buffer(block).value = key
        for i, obj in enumerate(mem_objects):
            ctypes.c_void_p.from_buffer(block, 8 + slot * i).value = obj._value
        ctypes.memmove(ctypes.addressof(block) + 8 + slot * n_mem, payload, length)
        mem_list = (raw.cl_mem * n_mem)(*[obj.handle for obj in mem_objects]) if n_mem else None
        locations = (ctypes.c_void_p * n_mem)(*[ctypes.addressof(block) + 8 + slot * i for i in range(n_mem)]) \
            if n_mem else None
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        try:
            checked.clEnqueueNativeKernel(self.handle, _native_kernel, block, ctypes.sizeof(block), n_mem, mem_list,
                                          locations, n, events, ctypes.byref(event))
        except BaseException:
            _callbacks.forget(key)
            raise
        result = enqueued(self, event)
        _pins.until_complete(result.handle, block, mem_list, locations, queue=self._value)
        return result

    def get_kernel_suggested_local_work_size_khr(self, kernel: Kernel, global_size, global_offset=None
                                                 ) -> Tuple[int, ...]:
        """The local work size the driver suggests for running ``kernel`` over ``global_size`` on
        this queue (clGetKernelSuggestedLocalWorkSizeKHR, extension cl_khr_suggested_local_work_size).

        ``global_size``: int or 1 to 3 ints (work-items); ``global_offset``: None or as many
        ints. Returns a tuple of ints, one per dimension. The function is fetched per platform
        (:meth:`Platform.get_extension_function`).
        Raises TypeError/ValueError for malformed sizes; FunctionUnavailableError naming
        cl_khr_suggested_local_work_size when neither the device nor its platform lists
        it (PoCL 3.1, Oclgrind), or, with the gate off, when the platform returns no
        address for it; CLError from the driver (InvalidKernel, InvalidGlobalWorkSize, ...).
        """
        if not isinstance(kernel, Kernel):
            raise TypeError(f"kernel must be a Kernel, got {type(kernel).__name__}")
        gsize = _work_sizes(global_size, "global_size")
        dims = len(gsize)
        offset = _work_sizes(global_offset, "global_offset", dims)
        platform = self.get_info(raw.CL_QUEUE_DEVICE).get_info(raw.CL_DEVICE_PLATFORM)
        function = platform.get_extension_function("clGetKernelSuggestedLocalWorkSizeKHR")
        out = (ctypes.c_size_t * dims)()
        function(self.handle, kernel.handle, dims, offset, gsize, out)
        return tuple(out)


_gate.install(Program, Kernel)

__all__ = ["Program", "Kernel", "LocalMemory", "kernel_arg"]
