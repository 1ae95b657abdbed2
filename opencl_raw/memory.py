"""Memory objects: creation, info, and the command-queue methods that read, write and map them."""
from __future__ import annotations

import ctypes
from typing import Any, Optional, Sequence, Tuple

from . import _host, _pins, checked, raw
from ._handle import Handle
from .event import Event, pin_until_complete, wait_list


class MemObject(Handle):
    """Base of memory objects (``cl_mem``): Buffer now; Image and Pipe later.

    ``MemObject.from_handle(h)`` returns the subclass matching CL_MEM_TYPE.
    Info: ``get_info(param)`` (clGetMemObjectInfo) and attributes such as
    ``.size`` (bytes), ``.flags``, ``.type``, ``.context``.
    """

    __slots__ = ("_size",)
    _ctype = raw.cl_mem
    _retain_name, _release_name = "clRetainMemObject", "clReleaseMemObject"
    _info_group, _info_function = "MemObject", "clGetMemObjectInfo"
    _attr_prefixes = ("CL_MEM_",)

    @classmethod
    def from_handle(cls, handle, retain: bool = True) -> "MemObject":
        """Wrap a ``cl_mem``; the class comes from its CL_MEM_TYPE (Buffer for buffers)."""
        if cls is MemObject:
            kind = raw.cl_mem_object_type()
            checked.clGetMemObjectInfo(handle, raw.CL_MEM_TYPE, ctypes.sizeof(kind), ctypes.byref(kind), None)
            cls = Buffer if kind.value == raw.CL_MEM_OBJECT_BUFFER else MemObject
        self = super(MemObject, cls).from_handle(handle, retain)
        self._size = None
        return self

    @property
    def size(self) -> int:
        """CL_MEM_SIZE in bytes (cached). Raises ReleasedHandleError after release()."""
        self.handle  # a released object answers nothing, not even cached values
        if self._size is None:
            self._size = self.get_info(raw.CL_MEM_SIZE)
        return self._size

    @property
    def nbytes(self) -> int:
        """Same as :attr:`size`: the memory object's size in bytes."""
        return self.size


class Buffer(MemObject):
    """A buffer memory object.

    ``Buffer(context, flags, size=None, host_buffer=None)`` is
    ``context.create_buffer(flags, size, host_buffer)``.
    """

    __slots__ = ()

    def __init__(self, context, flags: int = raw.CL_MEM_READ_WRITE, size: Optional[int] = None,
                 host_buffer: Any = None):
        self._handle = None
        create_buffer(context, flags, size, host_buffer, into=self)


def create_buffer(context, flags: int, size: Optional[int] = None, host_buffer: Any = None,
                  into: Optional[Buffer] = None) -> Buffer:
    """Create a buffer of ``size`` bytes (clCreateBuffer).

    ``size`` defaults to ``host_buffer``'s nbytes. ``host_buffer`` (any buffer-protocol
    object) needs CL_MEM_COPY_HOST_PTR (copied at creation) or CL_MEM_USE_HOST_PTR
    (kept alive until the cl_mem is destroyed, which uses its memory; it must be writable and
    C-contiguous). Raises ValueError when size exceeds the host object, when
    host_buffer and the flags disagree, or for a negative size; TypeError for a
    bad type; CLError from the driver (InvalidBufferSize, InvalidValue,
    MemObjectAllocationFailure, ...).
    """
    if not isinstance(flags, int):
        raise TypeError(f"flags must be an int (CL_MEM_* bits), got {type(flags).__name__}")
    host_flags = flags & (raw.CL_MEM_USE_HOST_PTR | raw.CL_MEM_COPY_HOST_PTR)
    keep, address = None, None
    if host_buffer is not None:
        if not host_flags:
            raise ValueError("host_buffer needs CL_MEM_COPY_HOST_PTR or CL_MEM_USE_HOST_PTR in flags")
        if flags & raw.CL_MEM_USE_HOST_PTR:
            keep, address, nbytes = _host.destination(host_buffer, "host_buffer")
        else:
            keep, address, nbytes = _host.source(host_buffer, "host_buffer")
        if size is None:
            size = nbytes
        elif size > nbytes:
            raise ValueError(f"size {size} exceeds host_buffer's {nbytes} bytes")
    elif host_flags:
        raise ValueError("CL_MEM_COPY_HOST_PTR / CL_MEM_USE_HOST_PTR need a host_buffer")
    if size is None:
        raise TypeError("create_buffer needs a size (bytes) or a host_buffer")
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError(f"size must be an int (bytes), got {type(size).__name__}")
    if size < 0:
        raise ValueError(f"size must not be negative, got {size}")
    handle = checked.clCreateBuffer(context.handle, flags, size, address)
    buffer = into if into is not None else Buffer.__new__(Buffer)
    buffer._adopt(handle, retain=False)
    buffer._size = size
    if flags & raw.CL_MEM_USE_HOST_PTR:
        _pins.until_destroyed(handle, keep)  # the cl_mem, not this wrapper, decides how long
    return buffer



class _QueueMemory:
    """CommandQueue methods that move data between host memory and memory objects."""

    def enqueue_write_buffer(self, buffer: Buffer, host: Any, blocking: bool = True, offset: int = 0,
                             wait_for: Sequence[Event] = ()) -> Event:
        """Write all of ``host`` (``host.nbytes`` bytes) into ``buffer`` at byte ``offset``
        (clEnqueueWriteBuffer).

        ``host``: any buffer-protocol object; a non-contiguous array is copied first.
        Non-blocking writes keep ``host`` alive until the command completes.
        Raises ValueError if the bytes do not fit the buffer, TypeError for bad types,
        CLError from the driver.
        """
        keep, address, nbytes = _host.source(host, "host")
        _host.check_range(offset, nbytes, _size_of(buffer, "buffer"), "enqueue_write_buffer")
        return self._transfer(checked.clEnqueueWriteBuffer, buffer, blocking, offset, keep, address, nbytes, wait_for)

    def enqueue_read_buffer(self, buffer: Buffer, host: Any = None, blocking: bool = True, offset: int = 0,
                            wait_for: Sequence[Event] = ()):
        """Read ``host.nbytes`` bytes of ``buffer`` at byte ``offset`` into ``host``
        (clEnqueueReadBuffer). Returns the Event.

        ``host`` must be writable and C-contiguous (numpy array, bytearray, ...).
        With ``host=None`` a new uint8 numpy array of the bytes from ``offset`` to the
        end is read (blocking) and returned instead of the Event; view it with
        ``.view(dtype)``. Non-blocking reads keep ``host`` alive until the command completes.
        Raises ValueError for a read past the buffer's end, a read-only or
        non-contiguous destination, or ``host=None`` with ``blocking=False``;
        TypeError for bad types; CLError from the driver.
        """
        size = _size_of(buffer, "buffer")
        if host is None:
            if not blocking:
                raise ValueError("enqueue_read_buffer with host=None must be blocking; pass a host array instead")
            import numpy as np
            _host.check_range(offset, 0, size, "enqueue_read_buffer")
            out = np.empty(size - offset, dtype=np.uint8)
            self.enqueue_read_buffer(buffer, out, True, offset, wait_for).release()
            return out
        keep, address, nbytes = _host.destination(host, "host")
        _host.check_range(offset, nbytes, size, "enqueue_read_buffer")
        return self._transfer(checked.clEnqueueReadBuffer, buffer, blocking, offset, keep, address, nbytes, wait_for)

    def _transfer(self, c_function, buffer, blocking, offset, keep, address, nbytes, wait_for) -> Event:
        # clEnqueueReadBuffer and clEnqueueWriteBuffer share one signature; a non-blocking
        # command pins its host object until it completes.
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        c_function(self.handle, buffer.handle, bool(blocking), offset, nbytes, address, n, events, ctypes.byref(event))
        result = Event.from_handle(event, retain=False)
        if not blocking:
            pin_until_complete(result, keep)
        return result

    def enqueue_map_buffer(self, buffer: Buffer, flags: int = raw.CL_MAP_READ | raw.CL_MAP_WRITE, offset: int = 0,
                           size: Optional[int] = None, blocking: bool = True, wait_for: Sequence[Event] = (),
                           dtype: Any = "uint8", shape: Any = None) -> Tuple[Any, Event]:
        """Map ``size`` bytes of ``buffer`` at ``offset`` into host memory (clEnqueueMapBuffer).

        ``flags``: CL_MAP_READ, CL_MAP_WRITE or CL_MAP_WRITE_INVALIDATE_REGION bits.
        ``size`` defaults to the rest of the buffer. Returns ``(array, event)``: a numpy
        array of ``dtype`` (and ``shape``, default 1-D) over the mapped bytes; with
        ``blocking=False`` it is valid once the event completes. Give it back with
        :meth:`enqueue_unmap_mem_object`; the array must not be used after that.
        Raises ValueError for a range outside the buffer or a size that ``dtype`` does
        not divide, CLError from the driver (MapFailure, InvalidValue, ...).
        """
        import numpy as np
        total = _size_of(buffer, "buffer")
        if size is None:
            _host.check_range(offset, 0, total, "enqueue_map_buffer")
            size = total - offset
        _host.check_range(offset, size, total, "enqueue_map_buffer")
        dtype = np.dtype(dtype)
        if size % dtype.itemsize:
            raise ValueError(f"enqueue_map_buffer: {size} bytes is not a whole number of {dtype} items")
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        pointer = checked.clEnqueueMapBuffer(self.handle, buffer.handle, bool(blocking), flags, offset, size,
                                             n, events, ctypes.byref(event))
        result = Event.from_handle(event, retain=False)
        if size == 0:
            array = np.empty(0, dtype=dtype)
        else:
            array = np.frombuffer((ctypes.c_char * size).from_address(pointer), dtype=dtype)
        if shape is not None:
            array = array.reshape(shape)
        return array, result

    def enqueue_unmap_mem_object(self, memobj: MemObject, mapped: Any, wait_for: Sequence[Event] = ()) -> Event:
        """Unmap a region mapped by :meth:`enqueue_map_buffer` (clEnqueueUnmapMemObject).

        ``mapped``: the array that enqueue_map_buffer returned (or its int address).
        Raises TypeError for other objects, CLError (InvalidValue for a pointer that
        was not mapped from ``memobj``).
        """
        if isinstance(mapped, int):
            address = mapped
        else:
            interface = getattr(mapped, "__array_interface__", None)
            if interface is None:
                raise TypeError(f"mapped must be the mapped array or its address, got {type(mapped).__name__}")
            address = interface["data"][0]
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueUnmapMemObject(self.handle, memobj.handle, address, n, events, ctypes.byref(event))
        return Event.from_handle(event, retain=False)


def _size_of(memobj: MemObject, what: str) -> int:
    if not isinstance(memobj, MemObject):
        raise TypeError(f"{what} must be a memory object (Buffer), got {type(memobj).__name__}")
    return memobj.size


class _ContextMemory:
    """Context methods that create memory objects."""

    def create_buffer(self, flags: int = raw.CL_MEM_READ_WRITE, size: Optional[int] = None,
                      host_buffer: Any = None):
        """A buffer of ``size`` bytes (clCreateBuffer); see :func:`opencl_raw.memory.create_buffer`."""
        return create_buffer(self, flags, size, host_buffer)


__all__ = ["MemObject", "Buffer", "create_buffer"]
