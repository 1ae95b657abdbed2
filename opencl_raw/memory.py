"""Memory objects: clCreateBuffer, clGetMemObjectInfo, clRetainMemObject, clReleaseMemObject."""
from __future__ import annotations

import ctypes
from typing import Any, Optional

from . import _host, _pins, checked, raw
from ._handle import Handle


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


__all__ = ["MemObject", "Buffer", "create_buffer"]
