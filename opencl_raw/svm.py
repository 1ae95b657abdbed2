"""Shared virtual memory (OpenCL 2.0): allocations, the command-queue SVM commands, and kernel SVM arguments.

- ``Context.svm_alloc(flags, size, alignment=0)`` (clSVMAlloc) returns an owning
  :class:`SVMAllocation`: ``free()`` (clSVMFree) is idempotent, ``with`` frees on exit,
  and garbage collection frees it too. It holds its own reference to the context, so
  the context is alive whenever it frees.
- CommandQueue: ``enqueue_svm_map`` / ``enqueue_svm_unmap``, ``enqueue_svm_memcpy``,
  ``enqueue_svm_mem_fill``, ``enqueue_svm_migrate_mem`` (2.1) and ``enqueue_svm_free``
  (with its free callback through :mod:`opencl_raw._callbacks`).
- Kernel: ``set_arg_svm_pointer`` and ``set_exec_info`` (implemented here, methods of Kernel).

SVM is not reference counted by the driver: memory that a command or kernel still uses
must not be freed. Non-blocking SVM commands of this module keep their allocations
(and host objects) alive until they complete; for kernels, keep the allocations alive
yourself until the kernel's event completes, or free them with ``enqueue_svm_free``.
"""
from __future__ import annotations

import ctypes
import sys
import warnings

from . import _callbacks, _host, checked, raw
from .errors import OpenCLRawWarning, ReleasedHandleError
from .event import Event, enqueued, pin_until_complete, wait_list

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple, Union


_ACCESS = raw.CL_MEM_READ_WRITE | raw.CL_MEM_WRITE_ONLY | raw.CL_MEM_READ_ONLY
_SVM_FLAGS = _ACCESS | raw.CL_MEM_SVM_FINE_GRAIN_BUFFER | raw.CL_MEM_SVM_ATOMICS
_MAP_FLAGS = raw.CL_MAP_READ | raw.CL_MAP_WRITE | raw.CL_MAP_WRITE_INVALIDATE_REGION
_MIGRATE_FLAGS = raw.CL_MIGRATE_MEM_OBJECT_HOST | raw.CL_MIGRATE_MEM_OBJECT_CONTENT_UNDEFINED
#: clSVMAlloc returns NULL for an alignment above the largest data type (long16 / double16)
_MAX_ALIGNMENT = 128
# Bound now: at interpreter shutdown the module's globals (sys among them) may already be None.
_is_finalizing = sys.is_finalizing


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class SVMAllocation:
    """An owning SVM allocation of ``size`` bytes at ``pointer`` in a context (clSVMAlloc / clSVMFree).

    Made by ``Context.svm_alloc(flags, size, alignment=0)``; ``SVMAllocation(context, flags,
    size, alignment=0)`` is the same. Attributes: ``.pointer`` (int address), ``.size``
    (bytes), ``.flags`` (MemFlags), ``.context`` (the Context; the allocation holds its own
    reference), ``.fine_grained``, ``.freed``. ``_as_parameter_`` is the pointer, so the
    object can be passed to :mod:`opencl_raw.raw` / :mod:`opencl_raw.checked` SVM functions.

    Host access: a fine-grained allocation (CL_MEM_SVM_FINE_GRAIN_BUFFER) is usable from
    the host directly through :meth:`view` (a numpy array; ``memoryview(svm.view())`` for a
    memoryview); a coarse-grained one only while mapped with ``CommandQueue.enqueue_svm_map``.

    Freeing: :meth:`free` (idempotent), the end of a ``with`` block, garbage collection, or
    ``CommandQueue.enqueue_svm_free`` (which marks it freed). A view or mapped array keeps
    the object alive, so garbage collection never frees memory that an array still shows;
    an explicit free() does, and the array must not be used after it.
    """

    __slots__ = ("_pointer", "_size", "_flags", "_context", "__weakref__")

    def __init__(self, context, flags: int = raw.CL_MEM_READ_WRITE, size: Optional[int] = None,
                 alignment: int = 0):
        self._pointer = None
        _allocate(context, flags, size, alignment, into=self)

    # -- state ---------------------------------------------------------------
    @property
    def pointer(self) -> int:
        """The SVM address (int). Raises ReleasedHandleError once freed."""
        if self._pointer is None:
            raise ReleasedHandleError("SVMAllocation was freed")
        return self._pointer

    @property
    def _as_parameter_(self) -> ctypes.c_void_p:
        return ctypes.c_void_p(self.pointer)

    @property
    def size(self) -> int:
        """The allocation's size in bytes (as asked of clSVMAlloc)."""
        return self._size

    nbytes = size

    @property
    def flags(self):
        """The cl_svm_mem_flags it was allocated with (MemFlags)."""
        from ._info import MemFlags
        return MemFlags(self._flags)

    @property
    def fine_grained(self) -> bool:
        """True for CL_MEM_SVM_FINE_GRAIN_BUFFER allocations (host access without mapping)."""
        return bool(self._flags & raw.CL_MEM_SVM_FINE_GRAIN_BUFFER)

    @property
    def context(self):
        """The Context the memory belongs to (a wrapper holding one reference)."""
        return self._context

    @property
    def freed(self) -> bool:
        """True once freed (free(), ``with``, Context.svm_free or enqueue_svm_free)."""
        return self._pointer is None

    # -- freeing -------------------------------------------------------------
    def free(self) -> None:
        """Free the memory now (clSVMFree) and drop the context reference. Idempotent.

        clSVMFree does not wait for commands: free only memory no enqueued command or
        running kernel uses (else use ``CommandQueue.enqueue_svm_free``).
        """
        pointer = self._pointer
        if pointer is None:
            return
        self._pointer = None
        context, self._context = self._context, None
        try:
            checked.clSVMFree(context.handle, pointer)
        finally:
            context.release()

    def _mark_freed(self) -> Tuple[Any, int]:
        """Hand the (context, pointer) over to someone else who frees it (enqueue_svm_free)."""
        pointer, context = self._pointer, self._context
        self._pointer, self._context = None, None
        return context, pointer

    def __enter__(self) -> "SVMAllocation":
        self.pointer  # raises if already freed
        return self

    def __exit__(self, *exc_info) -> None:
        self.free()

    def __del__(self):
        if getattr(self, "_pointer", None) is None or _is_finalizing is None or _is_finalizing():
            return
        context = self._context
        if context is None or context.released:   # never reached: the allocation owns a reference
            return
        try:
            self.free()
        except Exception as exc:  # a destructor must never raise
            warnings.warn(f"freeing SVMAllocation failed: {exc}", OpenCLRawWarning, stacklevel=2)

    def __reduce__(self):
        raise TypeError("SVMAllocation cannot be pickled: its memory is only valid in this process")

    def __repr__(self) -> str:
        if self._pointer is None:
            return f"<SVMAllocation {self._size} bytes freed>"
        grain = "fine" if self.fine_grained else "coarse"
        return f"<SVMAllocation {self._size} bytes at {self._pointer:#x} ({grain}-grained)>"

    # -- host access ---------------------------------------------------------
    def view(self, dtype: Any = "uint8", shape: Any = None):
        """A numpy array of ``dtype`` (and ``shape``, default 1-D) over all ``size`` bytes.

        Only for fine-grained allocations, which the host may read and write directly
        (synchronise with the device by events, or with atomics where CL_MEM_SVM_ATOMICS).
        The array keeps this object alive. Raises ValueError for a coarse-grained
        allocation (map it: ``CommandQueue.enqueue_svm_map`` returns such an array) or a size
        ``dtype`` does not divide; ReleasedHandleError once freed.
        """
        if not self.fine_grained:
            raise ValueError("a coarse-grained SVM allocation is host-accessible only while mapped: "
                             "use CommandQueue.enqueue_svm_map, which returns the array")
        return _array(self, self.pointer, self._size, dtype, shape, "view")


def _array(owner: SVMAllocation, address: int, nbytes: int, dtype: Any, shape: Any, what: str):
    import numpy as np
    dtype = np.dtype(dtype)
    if nbytes % dtype.itemsize:
        raise ValueError(f"{what}: {nbytes} bytes is not a whole number of {dtype} items")
    if nbytes == 0:
        array = np.empty(0, dtype=dtype)
    else:
        memory = (ctypes.c_char * nbytes).from_address(address)
        memory.owner = owner              # the array's base keeps the allocation alive
        array = np.frombuffer(memory, dtype=dtype)
    return array.reshape(shape) if shape is not None else array


def _devices_of(context) -> Sequence:
    return context.get_info(raw.CL_CONTEXT_DEVICES)


def _allocate(context, flags: int, size: Optional[int], alignment: int, into: Optional[SVMAllocation] = None):
    from ._info import SVMCapabilities
    from .context import Context
    if not isinstance(context, Context):
        raise TypeError(f"context must be a Context, got {type(context).__name__}")
    if not _is_int(flags):
        raise TypeError(f"flags must be an int (CL_MEM_* bits), got {type(flags).__name__}")
    if flags & ~_SVM_FLAGS:
        raise ValueError(f"flags {flags:#x} has bits clSVMAlloc does not take: {flags & ~_SVM_FLAGS:#x}; "
                         "use CL_MEM_READ_WRITE / WRITE_ONLY / READ_ONLY, CL_MEM_SVM_FINE_GRAIN_BUFFER, "
                         "CL_MEM_SVM_ATOMICS")
    if bin(flags & _ACCESS).count("1") > 1:
        raise ValueError("flags may hold only one of CL_MEM_READ_WRITE, CL_MEM_WRITE_ONLY, CL_MEM_READ_ONLY")
    if flags & raw.CL_MEM_SVM_ATOMICS and not flags & raw.CL_MEM_SVM_FINE_GRAIN_BUFFER:
        raise ValueError("CL_MEM_SVM_ATOMICS needs CL_MEM_SVM_FINE_GRAIN_BUFFER")
    if size is None:
        raise TypeError("svm_alloc needs a size in bytes")
    if not _is_int(size):
        raise TypeError(f"size must be an int (bytes), got {type(size).__name__}")
    if size <= 0:
        raise ValueError(f"size must be positive (bytes), got {size}")
    if not _is_int(alignment):
        raise TypeError(f"alignment must be an int (bytes), got {type(alignment).__name__}")
    if alignment < 0 or alignment & (alignment - 1) or alignment > _MAX_ALIGNMENT:
        raise ValueError(f"alignment must be 0 (the default) or a power of two up to {_MAX_ALIGNMENT} "
                         f"(bytes, the largest OpenCL data type), got {alignment}")
    devices = _devices_of(context)
    need = SVMCapabilities.COARSE_GRAIN_BUFFER
    if flags & raw.CL_MEM_SVM_FINE_GRAIN_BUFFER:
        need = SVMCapabilities.FINE_GRAIN_BUFFER
    if flags & raw.CL_MEM_SVM_ATOMICS:
        need |= SVMCapabilities.ATOMICS
    for device in devices:
        have = device.get_info(raw.CL_DEVICE_SVM_CAPABILITIES)
        if need & ~have:
            raise ValueError(f"device {device.get_info(raw.CL_DEVICE_NAME)!r} reports CL_DEVICE_SVM_CAPABILITIES "
                             f"{have!r}, without {need & ~have!r}")
        limit = device.get_info(raw.CL_DEVICE_MAX_MEM_ALLOC_SIZE)
        if size > limit:
            raise ValueError(f"size {size} exceeds CL_DEVICE_MAX_MEM_ALLOC_SIZE ({limit} bytes) of "
                             f"{device.get_info(raw.CL_DEVICE_NAME)!r}")
    pointer = checked.clSVMAlloc(context.handle, flags, size, alignment)
    svm = into if into is not None else SVMAllocation.__new__(SVMAllocation)
    svm._size, svm._flags = size, flags
    svm._context = Context.from_handle(context.handle, retain=True)
    svm._pointer = pointer
    return svm


def _check_svm(svm: Any, what: str) -> SVMAllocation:
    if not isinstance(svm, SVMAllocation):
        raise TypeError(f"{what} must be an SVMAllocation, got {type(svm).__name__}")
    svm.pointer  # raises ReleasedHandleError once freed
    return svm


def _same_context(queue, svm: SVMAllocation, what: str) -> None:
    if svm.context._value != queue.get_info(raw.CL_QUEUE_CONTEXT)._value:
        raise ValueError(f"{what} belongs to another context than the queue")


def _range(svm: SVMAllocation, offset: int, size: Optional[int], what: str) -> int:
    """Validated size (bytes) of the region at ``offset`` (default: to the end)."""
    if size is None:
        _host.check_range(offset, 0, svm.size, what)
        return svm.size - offset
    if not _is_int(size):
        raise TypeError(f"{what}: size must be an int (bytes), got {type(size).__name__}")
    _host.check_range(offset, size, svm.size, what)
    return size


def _queue_devices(queue) -> List:
    return [queue.get_info(raw.CL_QUEUE_DEVICE)]


def _pattern_bytes(pattern: Any) -> bytes:
    if isinstance(pattern, (bool, int, float)):
        raise TypeError(f"pattern: a Python {type(pattern).__name__} has no OpenCL width; give e.g. "
                        "numpy.float32(1.5), numpy.int32(7), a ctypes value or bytes")
    try:
        data = memoryview(pattern).tobytes()
    except TypeError:
        raise TypeError(f"pattern must be bytes, a numpy scalar or array, or a ctypes value, "
                        f"got {type(pattern).__name__}") from None
    return data


class _QueueSVM:
    """CommandQueue methods on shared virtual memory."""

    def enqueue_svm_memcpy(self, dst: Any, src: Any, size: Optional[int] = None, blocking: bool = True,
                           dst_offset: int = 0, src_offset: int = 0, wait_for: Sequence[Event] = ()) -> Event:
        """Copy ``size`` bytes from ``src`` to ``dst`` (clEnqueueSVMMemcpy, OpenCL 2.0).

        ``dst`` / ``src``: an SVMAllocation or a host buffer object (numpy array, bytearray,
        bytes for ``src``; the destination must be writable and C-contiguous), each with a
        byte offset. ``size`` (bytes) defaults to what ``src`` holds from ``src_offset``.
        A non-blocking copy keeps its host objects and allocations alive until it completes.
        Returns the Event (CL_COMMAND_SVM_MEMCPY).
        Raises ValueError when the bytes do not fit either side or an allocation belongs to
        another context, TypeError for other types, ReleasedHandleError for a freed
        allocation, FunctionUnavailableError before OpenCL 2.0 (the version gate), CLError
        (MemCopyOverlap for overlapping regions, InvalidValue, InvalidCommandQueue, ...).
        """
        sides = []
        for obj, offset, what, writable in ((dst, dst_offset, "dst", True), (src, src_offset, "src", False)):
            if isinstance(obj, SVMAllocation):
                _check_svm(obj, what)
                _same_context(self, obj, what)
                _host.check_range(offset, 0, obj.size, f"enqueue_svm_memcpy {what}")
                sides.append((obj, obj.pointer + offset, obj.size - offset))
            else:
                keep, address, nbytes = (_host.destination if writable else _host.source)(obj, what)
                _host.check_range(offset, 0, nbytes, f"enqueue_svm_memcpy {what}")
                sides.append((keep, address + offset, nbytes - offset))
        (dst_keep, dst_address, dst_room), (src_keep, src_address, src_room) = sides
        if size is None:
            size = src_room
        if not _is_int(size):
            raise TypeError(f"size must be an int (bytes), got {type(size).__name__}")
        if size < 0:
            raise ValueError(f"size must not be negative, got {size}")
        if size > src_room or size > dst_room:
            raise ValueError(f"enqueue_svm_memcpy: {size} bytes exceed src ({src_room} bytes from src_offset) "
                             f"or dst ({dst_room} bytes from dst_offset)")
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueSVMMemcpy(self.handle, bool(blocking), dst_address, src_address, size, n, events,
                                   ctypes.byref(event))
        result = enqueued(self, event)
        if not blocking:
            pin_until_complete(result, dst_keep, src_keep)
        return result

    def enqueue_svm_mem_fill(self, svm: SVMAllocation, pattern: Any, size: Optional[int] = None, offset: int = 0,
                             wait_for: Sequence[Event] = ()) -> Event:
        """Fill ``size`` bytes of ``svm`` from byte ``offset`` with ``pattern`` repeated
        (clEnqueueSVMMemFill, OpenCL 2.0). Non-blocking: wait on the returned Event.

        ``pattern``: bytes, a numpy scalar or array, or a ctypes value, of 1, 2, 4, ..., 128
        bytes (copied at once). ``size`` (bytes) defaults to the rest of the allocation and must be
        a multiple of the pattern's size; the address ``svm.pointer + offset`` must be aligned
        to it. The allocation is kept alive until the fill completes.
        Returns the Event (CL_COMMAND_SVM_MEMFILL).
        Raises TypeError / ValueError for the cases above and for a range outside the
        allocation, ReleasedHandleError for a freed allocation, FunctionUnavailableError
        before OpenCL 2.0, CLError (InvalidValue, InvalidCommandQueue, ...).
        """
        _check_svm(svm, "svm")
        _same_context(self, svm, "svm")
        data = _pattern_bytes(pattern)
        width = len(data)
        if width == 0 or width > 128 or width & (width - 1):
            raise ValueError(f"pattern must be 1, 2, 4, 8, 16, 32, 64 or 128 bytes, got {width}")
        size = _range(svm, offset, size, "enqueue_svm_mem_fill")
        if size % width:
            raise ValueError(f"size {size} is not a multiple of the pattern's {width} bytes")
        if (svm.pointer + offset) % width:
            raise ValueError(f"svm.pointer + offset ({svm.pointer + offset:#x}) is not aligned to the "
                             f"pattern's {width} bytes")
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueSVMMemFill(self.handle, svm.pointer + offset, data, width, size, n, events,
                                    ctypes.byref(event))
        result = enqueued(self, event)
        pin_until_complete(result, svm)
        return result

    def enqueue_svm_map(self, svm: SVMAllocation, flags: int = raw.CL_MAP_READ | raw.CL_MAP_WRITE,
                        size: Optional[int] = None, offset: int = 0, blocking: bool = True,
                        wait_for: Sequence[Event] = (), dtype: Any = "uint8", shape: Any = None):
        """Map ``size`` bytes of ``svm`` from byte ``offset`` for host access (clEnqueueSVMMap, OpenCL 2.0).

        ``flags``: CL_MAP_READ and/or CL_MAP_WRITE, or CL_MAP_WRITE_INVALIDATE_REGION alone.
        ``size`` (bytes) defaults to the rest of the allocation. Returns ``(array, event)``:
        a numpy array of ``dtype`` (and ``shape``, default 1-D) over the mapped bytes, valid
        once the event completes (at once when ``blocking``) and until
        :meth:`enqueue_svm_unmap`; it keeps the allocation alive.
        Raises ValueError for other flags, a range outside the allocation or a size ``dtype``
        does not divide; TypeError; ReleasedHandleError; FunctionUnavailableError before
        OpenCL 2.0; CLError (InvalidValue, InvalidCommandQueue, ...).
        """
        _check_svm(svm, "svm")
        _same_context(self, svm, "svm")
        if not _is_int(flags) or flags & ~_MAP_FLAGS or not flags:
            raise ValueError(f"flags must be CL_MAP_READ / CL_MAP_WRITE bits or CL_MAP_WRITE_INVALIDATE_REGION, "
                             f"got {flags!r}")
        if flags & raw.CL_MAP_WRITE_INVALIDATE_REGION and flags & (raw.CL_MAP_READ | raw.CL_MAP_WRITE):
            raise ValueError("CL_MAP_WRITE_INVALIDATE_REGION cannot be combined with CL_MAP_READ or CL_MAP_WRITE")
        size = _range(svm, offset, size, "enqueue_svm_map")
        import numpy as np
        if size % np.dtype(dtype).itemsize:
            raise ValueError(f"enqueue_svm_map: {size} bytes is not a whole number of {np.dtype(dtype)} items")
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueSVMMap(self.handle, bool(blocking), flags, svm.pointer + offset, size, n, events,
                                ctypes.byref(event))
        result = enqueued(self, event)
        array = _array(svm, svm.pointer + offset, size, dtype, shape, "enqueue_svm_map")
        if not flags & (raw.CL_MAP_WRITE | raw.CL_MAP_WRITE_INVALIDATE_REGION):
            array.flags.writeable = False    # writes to a region mapped for reading may be lost at unmap
        return array, result

    def enqueue_svm_unmap(self, svm: Any, wait_for: Sequence[Event] = ()) -> Event:
        """End host access to a region mapped by :meth:`enqueue_svm_map` (clEnqueueSVMUnmap, OpenCL 2.0).

        ``svm``: the SVMAllocation (its region mapped at offset 0), the array that
        enqueue_svm_map returned, or the mapped address (int). Returns the Event
        (CL_COMMAND_SVM_UNMAP); the device sees the host's writes once it completes.
        Raises TypeError for other objects, ReleasedHandleError for a freed allocation,
        FunctionUnavailableError before OpenCL 2.0, CLError (InvalidValue, ...).
        """
        if isinstance(svm, SVMAllocation):
            _same_context(self, _check_svm(svm, "svm"), "svm")
            address = svm.pointer
        elif _is_int(svm):
            address = svm
        else:
            interface = getattr(svm, "__array_interface__", None)
            if interface is None:
                raise TypeError("svm must be an SVMAllocation, the array enqueue_svm_map returned or an address, "
                                f"got {type(svm).__name__}")
            address = interface["data"][0]
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueSVMUnmap(self.handle, address, n, events, ctypes.byref(event))
        return enqueued(self, event)

    def enqueue_svm_migrate_mem(self, svms: Union[SVMAllocation, Iterable[SVMAllocation]], flags: int = 0,
                                wait_for: Sequence[Event] = ()) -> Event:
        """Migrate whole SVM allocations to this queue's device, or to the host with
        CL_MIGRATE_MEM_OBJECT_HOST (clEnqueueSVMMigrateMem, OpenCL 2.1).

        ``svms``: one SVMAllocation or several. ``flags``: 0, CL_MIGRATE_MEM_OBJECT_HOST and/or
        CL_MIGRATE_MEM_OBJECT_CONTENT_UNDEFINED. Returns the Event (CL_COMMAND_SVM_MIGRATE_MEM).
        Raises ValueError for no allocations, other flags or another context; TypeError;
        ReleasedHandleError; FunctionUnavailableError before OpenCL 2.1; CLError (InvalidValue, ...).
        """
        items = [svms] if isinstance(svms, SVMAllocation) else list(svms)
        if not items:
            raise ValueError("enqueue_svm_migrate_mem needs at least one SVMAllocation")
        for svm in items:
            _same_context(self, _check_svm(svm, "svms"), "svms")
        if not _is_int(flags) or flags & ~_MIGRATE_FLAGS:
            raise ValueError(f"flags must be CL_MIGRATE_MEM_OBJECT_HOST / _CONTENT_UNDEFINED bits, got {flags!r}")
        pointers = (ctypes.c_void_p * len(items))(*[svm.pointer for svm in items])
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueSVMMigrateMem(self.handle, len(items), pointers, None, flags, n, events,
                                       ctypes.byref(event))
        result = enqueued(self, event)
        pin_until_complete(result, items)
        return result

    def enqueue_svm_free(self, svms: Union[SVMAllocation, Iterable[SVMAllocation]],
                         callback: Optional[Callable[[Any, List[int]], Any]] = None,
                         wait_for: Sequence[Event] = ()) -> Event:
        """Free SVM allocations once the commands before it are done (clEnqueueSVMFree, OpenCL 2.0).

        ``svms``: one SVMAllocation or several, of this queue's context; they are marked
        freed at once (``.freed``; their ``free()`` then does nothing). Without ``callback``
        the driver frees them. With ``callback``, the driver calls it instead when the command
        runs, as ``callback(queue, pointers)``: ``queue`` a retained CommandQueue wrapper,
        ``pointers`` the list of int addresses; the memory is freed with clSVMFree right after
        it returns (or raises: the exception goes to ``sys.unraisablehook``). It may run on a
        driver thread and is kept alive until then.
        Returns the Event (CL_COMMAND_SVM_FREE).
        Raises ValueError for no allocations, repeated ones or another context, TypeError,
        ReleasedHandleError for an already freed allocation, FunctionUnavailableError before
        OpenCL 2.0, CLError (InvalidValue, InvalidCommandQueue, ...).
        """
        items = [svms] if isinstance(svms, SVMAllocation) else list(svms)
        if not items:
            raise ValueError("enqueue_svm_free needs at least one SVMAllocation")
        for svm in items:
            _same_context(self, _check_svm(svm, "svms"), "svms")
        if len({id(svm) for svm in items}) != len(items):
            raise ValueError("enqueue_svm_free: an allocation is listed twice")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        pointers = (ctypes.c_void_p * len(items))(*[svm.pointer for svm in items])
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        key, trampoline = None, None
        if callback is not None:
            # The queue holds the context until the command has run, so its raw handle is valid then.
            key = _callbacks.register(_then_free(callback, items[0].context._value), once=True)
            trampoline = _on_svm_free
        try:
            checked.clEnqueueSVMFree(self.handle, len(items), pointers, trampoline, key, n, events,
                                     ctypes.byref(event))
        except BaseException:
            if key is not None:
                _callbacks.forget(key)
            raise
        for svm in items:
            context, _ = svm._mark_freed()
            context.release()             # the queue holds the context until the command has run
        return enqueued(self, event)


def _then_free(callback: Callable, context_value: int) -> Callable:
    def run(queue, pointers):
        try:
            callback(queue, pointers)
        finally:
            for pointer in pointers:
                checked.clSVMFree(context_value, pointer)
    return run


def _svm_free_args(queue_handle, count, pointers, user_data):
    from .queue import CommandQueue
    value = queue_handle.value if isinstance(queue_handle, ctypes.c_void_p) else queue_handle
    return user_data, (CommandQueue.from_handle(value, retain=True), [pointers[i] or 0 for i in range(count)])


# The driver's entry point for SVM free callbacks; it lives as long as the module (the process).
_on_svm_free = _callbacks.trampoline(raw.clEnqueueSVMFree_pfn_free_func, _svm_free_args)


class _ContextSVM:
    """Context methods that allocate shared virtual memory."""

    def svm_alloc(self, flags: int, size: int, alignment: int = 0) -> SVMAllocation:
        """Allocate ``size`` bytes of shared virtual memory (clSVMAlloc, OpenCL 2.0).

        ``flags``: one of CL_MEM_READ_WRITE / CL_MEM_WRITE_ONLY / CL_MEM_READ_ONLY, plus
        CL_MEM_SVM_FINE_GRAIN_BUFFER for memory the host uses directly and CL_MEM_SVM_ATOMICS
        (with fine grain) for atomics shared with the device. ``alignment``: 0 for the
        default, or a power of two up to 128 bytes. Returns an owning :class:`SVMAllocation`.
        Raises TypeError for non-ints; ValueError for other flag bits, a size <= 0 or above
        CL_DEVICE_MAX_MEM_ALLOC_SIZE, a bad alignment, or a grain / atomics the devices'
        CL_DEVICE_SVM_CAPABILITIES lack; FunctionUnavailableError before OpenCL 2.0 (the
        version gate); MemoryError when the driver returns NULL; ReleasedHandleError.
        """
        return _allocate(self, flags, size, alignment)

    def svm_free(self, svm: Union[SVMAllocation, int]) -> None:
        """Free SVM memory now (clSVMFree, OpenCL 2.0); see :meth:`SVMAllocation.free`.

        ``svm``: an SVMAllocation of this context (freeing a freed one does nothing), or a
        raw address (int) from ``raw.clSVMAlloc`` on this context. clSVMFree does not wait
        for commands using the memory.
        Raises ValueError for an allocation of another context, TypeError for other types,
        FunctionUnavailableError before OpenCL 2.0.
        """
        if isinstance(svm, SVMAllocation):
            if svm.freed:
                return
            if svm.context._value != self.handle.value:
                raise ValueError("svm belongs to another context")
            svm.free()
        elif _is_int(svm):
            checked.clSVMFree(self.handle, svm)
        else:
            raise TypeError(f"svm must be an SVMAllocation or an address, got {type(svm).__name__}")


# -- Kernel methods (Kernel.set_arg_svm_pointer and Kernel.set_exec_info call these) ---------------

_ADDRESS_MAX = (1 << (8 * ctypes.sizeof(ctypes.c_void_p))) - 1


def _address(value: Any, what: str) -> int:
    if isinstance(value, SVMAllocation):
        return value.pointer
    if value is None:
        return 0
    if _is_int(value):
        if not 0 <= value <= _ADDRESS_MAX:
            raise ValueError(f"{what}: an address is from 0 to 2**{_ADDRESS_MAX.bit_length()}-1, got {value}")
        return value
    raise TypeError(f"{what} must be an SVMAllocation, an address inside one (int) or None, "
                    f"got {type(value).__name__}")


def set_arg_svm_pointer(kernel, index: int, svm_or_pointer: Any) -> None:
    """clSetKernelArgSVMPointer(kernel, index, address); see ``Kernel.set_arg_svm_pointer``
    (which checks ``index``)."""
    address = _address(svm_or_pointer, "svm_or_pointer")
    checked.clSetKernelArgSVMPointer(kernel.handle, index, address)
    kernel._forget_arg(index)  # set_arg's record of this index no longer holds


def set_exec_info(kernel, param: int, value: Any) -> None:
    """clSetKernelExecInfo(kernel, param, size, value); see ``Kernel.set_exec_info``."""
    if not _is_int(param):
        raise TypeError(f"param must be a CL_KERNEL_EXEC_INFO_* int, got {type(param).__name__}")
    if param == raw.CL_KERNEL_EXEC_INFO_SVM_PTRS:
        items = [value] if isinstance(value, SVMAllocation) else list(value)
        addresses = [_address(item, "CL_KERNEL_EXEC_INFO_SVM_PTRS items") for item in items]
        data: Any = (ctypes.c_void_p * len(addresses))(*addresses)
    elif param == raw.CL_KERNEL_EXEC_INFO_SVM_FINE_GRAIN_SYSTEM:
        if not isinstance(value, (bool, int)):
            raise TypeError(f"CL_KERNEL_EXEC_INFO_SVM_FINE_GRAIN_SYSTEM takes a bool, got {type(value).__name__}")
        data = raw.cl_bool(bool(value))
    elif isinstance(value, (bytes, bytearray)):
        data = (ctypes.c_char * len(value)).from_buffer_copy(value)
    elif isinstance(value, (ctypes._SimpleCData, ctypes.Structure, ctypes.Array)):
        data = value
    else:
        raise TypeError(f"param {param:#x}: value must be bytes or a ctypes value, got {type(value).__name__}")
    size = ctypes.sizeof(data)
    checked.clSetKernelExecInfo(kernel.handle, param, size, ctypes.byref(data) if size else None)


__all__ = ["SVMAllocation", "set_arg_svm_pointer", "set_exec_info"]
