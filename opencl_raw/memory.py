"""Memory objects: buffers, sub-buffers and pipes, their info, and the command-queue
methods that fill, copy, read, write, map and migrate buffers.

Units follow the C API: buffer sizes, offsets, origins, regions and pitches are in
bytes (a rect region is ``(bytes, rows, slices)``). Every enqueue method takes
``wait_for=`` (a sequence of Events) and returns an Event; where C has a blocking flag
the keyword is ``blocking=True``. Non-blocking commands keep their host objects alive
until the command completes. Sizes and ranges are checked against the host object
and the memory object before the driver is called (ValueError / TypeError).
"""
from __future__ import annotations

import ctypes
import operator
import weakref

from . import _callbacks, _host, _info, _pins, checked, raw
from ._handle import SIZE_T, Handle, bare, handle_array, properties_array, shared
from .errors import (CLError, InvalidBufferSize, InvalidMemObject, InvalidValue, MemCopyOverlap,
                     MisalignedSubBufferOffset)
from .event import Event, _execution_status, enqueued, pin_until_complete, wait_list

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator, Optional, Sequence, Tuple

    from ._handle import Properties


# --------------------------------------------------------------------------- #
# Argument helpers shared with image.py
# --------------------------------------------------------------------------- #


def _index(value: Any, what: str) -> int:
    """An int (numpy integers accepted, bool refused); TypeError naming ``what`` otherwise."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an int, got bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an int, got {type(value).__name__}") from None


def _count(value: Any, what: str) -> int:
    """A size_t: a non-negative int that fits (ctypes would wrap a larger one); TypeError /
    ValueError naming ``what``."""
    value = _index(value, what)
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value}")
    if value > SIZE_MAX:
        raise ValueError(f"{what} {value} does not fit a size_t")
    return value


def _triple(values: Any, what: str, fill: int) -> Tuple[int, int, int]:
    """Three non-negative ints from an int or a sequence of 1 to 3 ints, padded with ``fill``."""
    if isinstance(values, (int,)) and not isinstance(values, bool):
        values = (values,)
    try:
        items = tuple(values)
    except TypeError:
        raise TypeError(f"{what} must be a sequence of 1 to 3 ints, got {type(values).__name__}") from None
    if not 1 <= len(items) <= 3:
        raise ValueError(f"{what} must have 1 to 3 values, got {len(items)}")
    out = tuple(_index(v, f"{what} values") for v in items)
    if any(v < 0 for v in out):
        raise ValueError(f"{what} {out} must not be negative")
    if any(v > SIZE_MAX for v in out):
        raise ValueError(f"{what} {out}: every value must fit a size_t")
    return out + (fill,) * (3 - len(out))  # type: ignore[return-value]


def _size_t3(values: Sequence[int]):
    return (ctypes.c_size_t * 3)(*values)


SIZE_MAX = (1 << (8 * ctypes.sizeof(ctypes.c_size_t))) - 1
_BITFIELD_MAX = (1 << 64) - 1
_HOST_POINTER_FLAGS = raw.CL_MEM_USE_HOST_PTR | raw.CL_MEM_COPY_HOST_PTR | raw.CL_MEM_ALLOC_HOST_PTR


def _flags(value: Any, what: str = "flags") -> int:
    """A cl_bitfield (CL_MEM_* / CL_MAP_* bits): an int from 0 to 2**64-1 (ctypes would wrap others)."""
    value = _index(value, what)
    if not 0 <= value <= _BITFIELD_MAX:
        raise ValueError(f"{what} {value:#x} is not a 64-bit set of bits")
    return value


def _read_only_map(flags: int) -> bool:
    """Whether a mapping with these CL_MAP_* flags must not be written (no CL_MAP_WRITE bit)."""
    return not flags & (raw.CL_MAP_WRITE | raw.CL_MAP_WRITE_INVALIDATE_REGION)


def _context_of(context: Any, what: str = "context"):
    """``context`` if it is a Context object; TypeError naming ``what`` otherwise."""
    if not isinstance(context, Handle) or context._ctype is not raw.cl_context:
        raise TypeError(f"{what} must be a Context, got {type(context).__name__}")
    return context


def _max_alloc(context) -> int:
    """The largest CL_DEVICE_MAX_MEM_ALLOC_SIZE among the context's devices (read once per object)."""
    limit = getattr(context, "_max_alloc", None)
    if limit is None:
        limit = max(d.get_info(raw.CL_DEVICE_MAX_MEM_ALLOC_SIZE) for d in context.get_info(raw.CL_CONTEXT_DEVICES))
        context._max_alloc = limit
    return limit


def check_alloc_size(context, nbytes: int, error: type, function: str) -> None:
    """Raise ``error`` (a CLError class, e.g. InvalidBufferSize) before the driver when ``nbytes``
    exceeds CL_DEVICE_MAX_MEM_ALLOC_SIZE of every device of ``context`` (the specification's rule
    for clCreateBuffer); the message names the limit."""
    limit = _max_alloc(context)
    if nbytes > limit:
        raise error(None, function, f"{nbytes} bytes exceed CL_DEVICE_MAX_MEM_ALLOC_SIZE ({limit} bytes, the "
                                    f"largest of the context's devices); refused before the driver")


def _new_event(event: raw.cl_event, queue) -> Event:
    """The Event of a command just enqueued on ``queue`` (see event.enqueued)."""
    return enqueued(queue, event)


# --------------------------------------------------------------------------- #
# Memory objects
# --------------------------------------------------------------------------- #

def _destructor_args(memobj, user_data):
    value = memobj.value if isinstance(memobj, ctypes.c_void_p) else memobj
    return user_data, (value or 0,)


# one C trampoline for every destructor callback; user_data is the _callbacks key
_DESTRUCTOR_TRAMPOLINE = _callbacks.trampoline(raw.clSetMemObjectDestructorCallback_pfn_notify, _destructor_args)

_MEM_OBJECT_PARAMS = range(0x1100, 0x1110)      # CL_MEM_TYPE ... CL_MEM_PROPERTIES and room after


def _grouped_info(memobj: "MemObject", group: str, function_name: str, param) -> Any:
    """get_info of an image or pipe: CL_MEM_* params through clGetMemObjectInfo, the others
    through the group's own function (clGetImageInfo, clGetPipeInfo)."""
    value = _info.param_value(param)
    if value in _info.NAMES["MemObject"] or value in _MEM_OBJECT_PARAMS:
        return _info.query("MemObject", checked.clGetMemObjectInfo, (memobj.handle,), value)
    return _info.query(group, getattr(checked, function_name), (memobj.handle,), value)


class MemObject(Handle):
    """Base of memory objects (``cl_mem``): :class:`Buffer`, :class:`~opencl_raw.image.Image`, :class:`Pipe`.

    ``MemObject.from_handle(h)`` returns the subclass matching CL_MEM_TYPE.
    Info: ``get_info(param)`` (clGetMemObjectInfo) and attributes such as
    ``.size`` (bytes), ``.flags``, ``.type``, ``.context``.
    """

    __slots__ = ("_size", "_base")
    _ctype = raw.cl_mem
    _retain_name, _release_name = "clRetainMemObject", "clReleaseMemObject"
    _info_group, _info_function = "MemObject", "clGetMemObjectInfo"
    _attr_prefixes = ("CL_MEM_",)

    @classmethod
    def from_handle(cls, handle, retain: bool = True) -> "MemObject":
        """Wrap a ``cl_mem``; called on MemObject, the class comes from its CL_MEM_TYPE:
        Buffer for buffers, Image for the six image types, Pipe for pipes."""
        if cls is MemObject:
            kind = raw.cl_mem_object_type()
            checked.clGetMemObjectInfo(handle, raw.CL_MEM_TYPE, ctypes.sizeof(kind), ctypes.byref(kind), None)
            cls = _class_of_type(kind.value)
        self = super(MemObject, cls).from_handle(handle, retain)
        self._size = None
        return self

    @property
    def size(self) -> int:
        """CL_MEM_SIZE in bytes (cached). Raises ReleasedHandleError after release()."""
        self.handle  # a released object answers nothing, not even cached values
        if getattr(self, "_size", None) is None:
            self._size = self.get_info(raw.CL_MEM_SIZE)
        return self._size

    @property
    def nbytes(self) -> int:
        """Same as :attr:`size`: the memory object's size in bytes."""
        return self.size

    def set_destructor_callback(self, callback: Callable[[int], Any]) -> None:
        """Call ``callback(handle_value)`` when the ``cl_mem`` is destroyed (clSetMemObjectDestructorCallback, 1.1).

        ``handle_value`` is the int address of the ``cl_mem`` being destroyed: it only
        identifies the object, which must not be used any more (no wrapper is passed).
        The OpenCL specification calls several callbacks in the reverse order of their
        registration. The callback may run on a driver thread, or inside the
        ``release()`` that drops the last reference; an exception it raises goes to
        ``sys.unraisablehook``. Raises TypeError if ``callback`` is not callable,
        FunctionUnavailableError on an OpenCL 1.0 device (version gate), CLError
        (InvalidMemObject, InvalidValue, OutOfHostMemory).
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        _callbacks.hand_over(callback, checked.clSetMemObjectDestructorCallback, self.handle, _DESTRUCTOR_TRAMPOLINE)

    def create_sub_buffer(self, flags: int, origin: int, size: int) -> "Buffer":
        """A sub-buffer of ``size`` bytes at byte ``origin`` of this buffer
        (clCreateSubBuffer with CL_BUFFER_CREATE_TYPE_REGION, 1.1).

        ``flags``: CL_MEM_* access bits (0 inherits the parent's); the host-pointer flags
        are not allowed. ``origin`` (bytes) must be a multiple of the
        CL_DEVICE_MEM_BASE_ADDR_ALIGN of at least one device of the buffer's context; that
        param is in **bits** (``device.mem_base_addr_align // 8`` bytes). Otherwise
        MisalignedSubBufferOffset is raised before the driver (NVIDIA 580 accepts any
        origin). The sub-buffer keeps its parent's ``cl_mem`` alive.
        Raises TypeError for a non-buffer or non-int arguments, ValueError for a negative
        origin/size or a region past the parent's end, CLError: MisalignedSubBufferOffset;
        InvalidBufferSize for size 0, InvalidMemObject for a sub-buffer parent and
        InvalidValue for host-pointer flags (all three before the driver: Oclgrind 21.10
        answers otherwise); from the driver InvalidValue for other bad flags,
        MemObjectAllocationFailure.
        """
        if not isinstance(self, Buffer):
            raise TypeError(f"create_sub_buffer needs a Buffer, not {type(self).__name__}")
        flags = _flags(flags)
        origin = _count(origin, "origin")
        size = _count(size, "size")
        _host.check_range(origin, size, self.size, "create_sub_buffer")
        if not size:
            raise InvalidBufferSize(None, "clCreateSubBuffer", "a sub-buffer of 0 bytes; refused before the driver")
        host_flags = flags & _HOST_POINTER_FLAGS
        if host_flags:
            raise InvalidValue(None, "clCreateSubBuffer", f"flags {flags:#x} hold host-pointer flags "
                               f"({host_flags:#x}), which a sub-buffer inherits; refused before the driver")
        if self.get_info(raw.CL_MEM_ASSOCIATED_MEMOBJECT) is not None:
            raise InvalidMemObject(None, "clCreateSubBuffer", "this buffer is a sub-buffer, and sub-buffers have "
                                   "no sub-buffers; refused before the driver")
        if origin:
            aligns = {d.get_info(raw.CL_DEVICE_MEM_BASE_ADDR_ALIGN) // 8
                      for d in self.get_info(raw.CL_MEM_CONTEXT).get_info(raw.CL_CONTEXT_DEVICES)}
            if not any(align and origin % align == 0 for align in aligns):
                raise MisalignedSubBufferOffset(
                    None, "clCreateSubBuffer", f"origin {origin} is not a multiple of the "
                    f"CL_DEVICE_MEM_BASE_ADDR_ALIGN of any device of the context ({', '.join(str(a) for a in sorted(aligns))} bytes); "
                    "refused before the driver")
        region = raw.cl_buffer_region(origin, size)
        handle = checked.clCreateSubBuffer(self.handle, flags, raw.CL_BUFFER_CREATE_TYPE_REGION,
                                           ctypes.byref(region))
        sub = Buffer.__new__(Buffer)
        sub._adopt(handle, retain=False)
        sub._size = size
        return sub

    def get_image_info(self, param) -> Any:
        """Typed value of one image info param (clGetImageInfo), e.g. CL_IMAGE_WIDTH.

        ``image.get_info`` answers these too. Raises TypeError if this is not an Image,
        CLError (InvalidValue for an unknown param, InvalidMemObject).
        """
        if type(self)._info_group != "Image":
            raise TypeError(f"get_image_info needs an Image, not {type(self).__name__}")
        return _info.query("Image", checked.clGetImageInfo, (self.handle,), param)

    def get_pipe_info(self, param) -> Any:
        """Typed value of one pipe info param (clGetPipeInfo, 2.0), e.g. CL_PIPE_PACKET_SIZE.

        ``pipe.get_info`` answers these too. Raises TypeError if this is not a Pipe,
        CLError (InvalidValue, InvalidMemObject).
        """
        if type(self)._info_group != "Pipe":
            raise TypeError(f"get_pipe_info needs a Pipe, not {type(self).__name__}")
        return _info.query("Pipe", checked.clGetPipeInfo, (self.handle,), param)


class Buffer(MemObject):
    """A buffer memory object.

    ``Buffer(context, flags, size=None, host_buffer=None)`` is
    ``context.create_buffer(flags, size, host_buffer)``. Sub-buffers:
    :meth:`create_sub_buffer`.
    """

    __slots__ = ()

    def __init__(self, context, flags: int = raw.CL_MEM_READ_WRITE, size: Optional[int] = None,
                 host_buffer: Any = None):
        self._handle = None
        create_buffer(context, flags, size, host_buffer, into=self)


class Pipe(MemObject):
    """A pipe memory object (OpenCL 2.0), from :meth:`Context.create_pipe`.

    Info: ``get_info(param)`` answers CL_PIPE_* params through clGetPipeInfo and
    CL_MEM_* params through clGetMemObjectInfo; attributes ``.packet_size`` (bytes),
    ``.max_packets``, ``.properties`` (CL_PIPE_PROPERTIES), and the memory-object ones.
    """

    __slots__ = ()
    _info_group, _info_function = "Pipe", "clGetPipeInfo"
    _attr_groups = ("Pipe", "MemObject")
    _attr_prefixes = ("CL_PIPE_", "CL_MEM_")
    properties = _info.InfoAttribute("Pipe", "CL_PIPE_PROPERTIES")

    def get_info(self, param) -> Any:
        """Typed value of one info param: CL_PIPE_* through clGetPipeInfo, CL_MEM_* through
        clGetMemObjectInfo. Raises CLError (InvalidValue for an unknown param),
        ReleasedHandleError after release()."""
        return _grouped_info(self, "Pipe", "clGetPipeInfo", param)


def _class_of_type(mem_type: int):
    if mem_type == raw.CL_MEM_OBJECT_BUFFER:
        return Buffer
    if mem_type == raw.CL_MEM_OBJECT_PIPE:
        return Pipe
    if mem_type in (raw.CL_MEM_OBJECT_IMAGE1D, raw.CL_MEM_OBJECT_IMAGE1D_BUFFER, raw.CL_MEM_OBJECT_IMAGE1D_ARRAY,
                    raw.CL_MEM_OBJECT_IMAGE2D, raw.CL_MEM_OBJECT_IMAGE2D_ARRAY, raw.CL_MEM_OBJECT_IMAGE3D):
        from .image import Image
        return Image
    return MemObject


def _host_pointer(flags: int, size: Optional[int], host_buffer: Any):
    """(keep, address, size) after the host-pointer rules of create_buffer."""
    if not isinstance(flags, int) or isinstance(flags, bool):
        raise TypeError(f"flags must be an int (CL_MEM_* bits), got {type(flags).__name__}")
    _flags(flags)
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
        elif isinstance(size, int) and size > nbytes:
            raise ValueError(f"size {size} exceeds host_buffer's {nbytes} bytes")
    elif host_flags:
        raise ValueError("CL_MEM_COPY_HOST_PTR / CL_MEM_USE_HOST_PTR need a host_buffer")
    if size is None:
        raise TypeError("create_buffer needs a size (bytes) or a host_buffer")
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError(f"size must be an int (bytes), got {type(size).__name__}")
    if size < 0:
        raise ValueError(f"size must not be negative, got {size}")
    return keep, address, size


def create_buffer(context, flags: int, size: Optional[int] = None, host_buffer: Any = None,
                  into: Optional[Buffer] = None) -> Buffer:
    """Create a buffer of ``size`` bytes (clCreateBuffer).

    ``size`` defaults to ``host_buffer``'s nbytes. ``host_buffer`` (any buffer-protocol
    object) needs CL_MEM_COPY_HOST_PTR (copied at creation) or CL_MEM_USE_HOST_PTR
    (kept alive until the cl_mem is destroyed, which uses its memory; it must be writable and
    C-contiguous). Raises ValueError when size exceeds the host object, when
    host_buffer and the flags disagree, or for a negative size; TypeError for a
    bad type (naming the parameter); InvalidBufferSize before the driver when size
    exceeds CL_DEVICE_MAX_MEM_ALLOC_SIZE of every device of the context (the message
    names the limit); CLError from the driver (InvalidBufferSize for size 0,
    InvalidValue, MemObjectAllocationFailure, ...).
    """
    _context_of(context)
    keep, address, size = _host_pointer(flags, size, host_buffer)
    check_alloc_size(context, size, InvalidBufferSize, "clCreateBuffer")
    handle = checked.clCreateBuffer(context.handle, flags, size, address)
    return _adopt_buffer(handle, flags, size, keep, into)


def _adopt_buffer(handle, flags, size, keep, into=None) -> Buffer:
    buffer = into if into is not None else Buffer.__new__(Buffer)
    buffer._adopt(handle, retain=False)
    buffer._size = size
    if flags & raw.CL_MEM_USE_HOST_PTR:
        _pins.until_destroyed(handle, keep)  # the cl_mem, not this wrapper, decides how long
    return buffer


# --------------------------------------------------------------------------- #
# Mappings
# --------------------------------------------------------------------------- #

class _MappedRegion:
    """The base object of every numpy view of one mapping.

    It hands the mapped bytes to numpy (``__array_interface__``) and holds its own
    reference to the ``cl_mem``: the memory a view points into cannot be freed while any
    view of it exists, even after unmap and ``release()`` of the user's object.
    """

    def __init__(self, memobj: MemObject, interface: dict, mapping: "MemoryMapping"):
        self.__array_interface__ = interface
        self.memobj = memobj            # the mapping's own reference (see MemoryMapping.__init__)
        self.mapping = weakref.ref(mapping)


def _mapping_of(array: Any) -> Optional["MemoryMapping"]:
    """The MemoryMapping whose view ``array`` is (following ``.base``), or None."""
    seen = 0
    while array is not None and seen < 64:
        if isinstance(array, _MappedRegion):
            return array.mapping()
        array = getattr(array, "base", None)
        seen += 1
    return None


class MemoryMapping:
    """A region of a buffer or image mapped into host memory, from ``enqueue_map_buffer`` or
    ``enqueue_map_image``.

    - ``.array``: a numpy view of the mapped memory (valid once ``.event`` completes for a
      non-blocking map). After :meth:`unmap` reading ``.array`` raises ValueError.
    - ``.event``: the map command's Event; ``.unmap_event``: the unmap command's Event
      (None while mapped).
    - ``.address`` (int), ``.nbytes`` (bytes spanned), ``.row_pitch`` / ``.slice_pitch``
      (bytes; images only, 0 for buffers), ``.memobj`` (the mapping's own reference to
      the memory object), ``.queue``.
    - ``with queue.enqueue_map_buffer(...) as m:`` unmaps on exit (without waiting).
    - ``array, event = mapping`` still works (the mapping iterates as ``(array, event)``),
      and ``enqueue_unmap_mem_object(memobj, array)`` marks the mapping unmapped.

    Views taken from ``.array`` before unmap keep the ``cl_mem`` alive, so reading them
    later does not touch freed memory; what they show after unmap is undefined by the
    OpenCL specification (on PoCL's CPU device it is the buffer's own memory). A mapping
    that is never unmapped stays mapped: dropping the object does not enqueue an unmap.
    """

    __slots__ = ("queue", "memobj", "address", "nbytes", "event", "row_pitch", "slice_pitch",
                 "unmap_event", "_array", "__weakref__")

    def __init__(self, queue, memobj: MemObject, address: int, nbytes: int, event: Event,
                 row_pitch: int = 0, slice_pitch: int = 0):
        # its own reference to the cl_mem: unmapping works, and views stay backed, even after
        # the caller releases its object
        self.memobj = type(memobj).from_handle(memobj.handle, retain=True)
        self.queue, self.address, self.nbytes = queue, address, nbytes
        self.event, self.row_pitch, self.slice_pitch = event, row_pitch, slice_pitch
        self.unmap_event: Optional[Event] = None
        self._array = None

    def _attach(self, interface: Optional[dict], dtype: Any, shape: Any) -> None:
        import numpy as np
        if interface is None:
            self._array = np.empty(shape if shape is not None else 0, dtype=dtype)
        else:
            self._array = np.asarray(_MappedRegion(self.memobj, interface, self))

    @property
    def unmapped(self) -> bool:
        """True once the mapping was unmapped (by :meth:`unmap`, the ``with`` block or
        ``enqueue_unmap_mem_object``)."""
        return self.unmap_event is not None

    @property
    def array(self):
        """The numpy view of the mapped memory. Raises ValueError after unmap."""
        if self.unmap_event is not None:
            raise ValueError("the mapping was unmapped: its memory must not be used any more; map it again")
        return self._array

    def __array__(self, dtype=None, copy=None):
        array = self.array
        return array if dtype is None else array.astype(dtype)

    def unmap(self, wait_for: Sequence[Event] = ()) -> Event:
        """Enqueue the unmap (clEnqueueUnmapMemObject) and return its Event.

        Raises ValueError if already unmapped, CLError from the driver (InvalidValue,
        InvalidMemObject, InvalidEventWaitList).
        """
        if self.unmap_event is not None:
            raise ValueError("the mapping was already unmapped")
        return _unmap(self.queue, self.memobj, self.address, wait_for, self)

    def __enter__(self) -> "MemoryMapping":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.unmap_event is None:
            self.unmap()

    def __iter__(self) -> Iterator[Any]:
        yield self.array
        yield self.event

    def __repr__(self) -> str:
        state = "unmapped" if self.unmapped else "mapped"
        return f"<MemoryMapping {state} {self.nbytes} bytes at {self.address:#x} of {self.memobj!r}>"


def _unmap(queue, memobj: MemObject, address: int, wait_for, mapping: Optional[MemoryMapping]) -> Event:
    n, events = wait_list(wait_for)
    event = raw.cl_event()
    checked.clEnqueueUnmapMemObject(queue.handle, memobj.handle, address, n, events, ctypes.byref(event))
    result = _new_event(event, queue)
    if mapping is not None:
        mapping.unmap_event = result
        mapping._array = None
    return result


# --------------------------------------------------------------------------- #
# Rect geometry (bytes, rows, slices)
# --------------------------------------------------------------------------- #

def _rect(origin, region, row_pitch, slice_pitch, what: str) -> Tuple[int, int, int, int]:
    """(row_pitch, slice_pitch, first byte, end byte) addressed by a rect of
    ``region = (bytes, rows, slices)`` at ``origin``; pitches 0 mean tightly packed."""
    row_pitch = _count(row_pitch, f"{what} row pitch")
    slice_pitch = _count(slice_pitch, f"{what} slice pitch")
    if 0 in region:
        raise ValueError(f"{what}: region {region} must not contain 0")
    if row_pitch == 0:
        row_pitch = region[0]
    elif row_pitch < region[0]:
        raise ValueError(f"{what}: row pitch {row_pitch} is less than the region's {region[0]} bytes per row")
    if slice_pitch == 0:
        slice_pitch = row_pitch * region[1]
    elif slice_pitch < row_pitch * region[1] or slice_pitch % row_pitch:
        raise ValueError(f"{what}: slice pitch {slice_pitch} must be a multiple of the row pitch {row_pitch} "
                         f"and at least row pitch x rows = {row_pitch * region[1]}")
    first = origin[2] * slice_pitch + origin[1] * row_pitch + origin[0]
    end = (origin[2] + region[2] - 1) * slice_pitch + (origin[1] + region[1] - 1) * row_pitch + origin[0] + region[0]
    return row_pitch, slice_pitch, first, end


def _check_rect_end(end: int, limit: int, what: str) -> None:
    if end > limit:
        raise ValueError(f"{what}: the rect addresses bytes up to {end}, past the {limit} bytes available")


# --------------------------------------------------------------------------- #
# Copy overlap within one buffer (CL_MEM_COPY_OVERLAP, checked before the driver)
# --------------------------------------------------------------------------- #

def _parent_and_offset(memobj: MemObject) -> Tuple[int, int]:
    """(address of the parent ``cl_mem``, CL_MEM_OFFSET in bytes) of a sub-buffer; (0, 0) for a
    memory object that is no sub-buffer. Read once per object (a sub-buffer keeps its parent)."""
    base = getattr(memobj, "_base", None)
    if base is None:
        parent, offset = raw.cl_mem(), ctypes.c_size_t()
        try:
            checked.clGetMemObjectInfo(memobj.handle, raw.CL_MEM_ASSOCIATED_MEMOBJECT, ctypes.sizeof(parent),
                                       ctypes.byref(parent), None)
            if parent.value:
                checked.clGetMemObjectInfo(memobj.handle, raw.CL_MEM_OFFSET, ctypes.sizeof(offset),
                                           ctypes.byref(offset), None)
        except CLError:                  # an OpenCL 1.0 driver: no sub-buffers
            parent = raw.cl_mem()
        base = (parent.value or 0, offset.value if parent.value else 0)
        memobj._base = base
    return base


def _copy_bases(src: MemObject, dst: MemObject) -> Optional[Tuple[int, int]]:
    """The byte offsets of ``src`` and ``dst`` in the memory they share, when a copy between them
    can overlap in the specification's sense (CL_MEM_COPY_OVERLAP): one buffer or sub-buffer
    (``(0, 0)``), or two sub-buffers of one buffer (their CL_MEM_OFFSETs); None otherwise (and
    for objects other than buffers, which the driver refuses)."""
    if not (isinstance(src, Buffer) and isinstance(dst, Buffer)):
        return None
    if src._value == dst._value:
        return 0, 0
    src_parent, src_offset = _parent_and_offset(src)
    dst_parent, dst_offset = _parent_and_offset(dst)
    if src_parent and src_parent == dst_parent:
        return src_offset, dst_offset
    return None


def _row_starts(first: int, rows: int, slices: int, row_pitch: int, slice_pitch: int, low: int, high: int):
    """The first bytes of a rect's rows, ascending, from the last row that starts before ``low``
    to the last that starts before ``high``."""
    z = max(0, (low - first) // slice_pitch - 1)
    for z in range(z, slices):
        for y in range(rows):
            start = first + z * slice_pitch + y * row_pitch
            if start >= high:
                return
            yield start


def _rects_overlap(a: int, b: int, region: Tuple[int, int, int], a_pitches: Tuple[int, int],
                   b_pitches: Tuple[int, int]) -> bool:
    """Whether two rects of ``region = (bytes, rows, slices)`` share a byte: one whose first byte
    is ``a`` with ``a_pitches = (row pitch, slice pitch)``, the other at ``b`` with ``b_pitches``.
    Each rect's rows are disjoint and ascending (row pitch >= bytes, slice pitch >= row pitch x
    rows, as :func:`_rect` checks), so the rows are compared, not the spans."""
    width, rows, slices = region
    (a_row, a_slice), (b_row, b_slice) = a_pitches, b_pitches
    a_end = a + (slices - 1) * a_slice + (rows - 1) * a_row + width
    b_end = b + (slices - 1) * b_slice + (rows - 1) * b_row + width
    if a_end <= b or b_end <= a:
        return False
    if a_pitches == b_pitches:
        # rows (z, y) of one and (z', y') of the other meet iff |a - b + dz*slice + dy*row| < width
        # for dz = z - z' in (-slices, slices), dy = y - y' in (-rows, rows); a row pitch >= width and
        # a slice pitch >= the rows' extent leave two candidates for each (tried with a margin of one)
        d = a - b
        center_z = -d // a_slice
        for dz in range(max(center_z - 1, 1 - slices), min(center_z + 2, slices - 1) + 1):
            e = d + dz * a_slice
            center_y = -e // a_row
            for dy in range(max(center_y - 1, 1 - rows), min(center_y + 2, rows - 1) + 1):
                if abs(e + dy * a_row) < width:
                    return True
        return False
    # different pitches: walk both ascending row lists within the common span
    low, high = max(a, b), min(a_end, b_end)
    rows_a = _row_starts(a, rows, slices, a_row, a_slice, low - width, high)
    rows_b = _row_starts(b, rows, slices, b_row, b_slice, low - width, high)
    x, y = next(rows_a, None), next(rows_b, None)
    while x is not None and y is not None:
        if x + width <= y:
            x = next(rows_a, None)
        elif y + width <= x:
            y = next(rows_b, None)
        else:
            return True
    return False


def _overlap_error(function: str, what: str) -> MemCopyOverlap:
    return MemCopyOverlap(None, function, f"{what}; checked by this binding before the driver (the specification's "
                                          f"CL_MEM_COPY_OVERLAP; some drivers do not report it)")


# --------------------------------------------------------------------------- #
# CommandQueue methods
# --------------------------------------------------------------------------- #

class _QueueMemory:
    """CommandQueue methods that move data between host memory and memory objects."""

    def enqueue_write_buffer(self, buffer: Buffer, host: Any, blocking: bool = True, offset: int = 0,
                             wait_for: Sequence[Event] = (), event: bool = True) -> Optional[Event]:
        """Write all of ``host`` (``host.nbytes`` bytes) into ``buffer`` at byte ``offset``
        (clEnqueueWriteBuffer). Returns the Event.

        ``host``: any buffer-protocol object; a non-contiguous array is copied first.
        ``offset``: bytes, an int or a numpy integer.
        Non-blocking writes keep ``host`` alive until the command completes.
        ``event=False`` (blocking only) asks the driver for no event and returns None.
        Raises ValueError if the bytes do not fit the buffer or there are none (OpenCL has
        no empty transfers), or for ``event=False`` with ``blocking=False``; TypeError for
        bad types (``buffer`` not a Buffer, an Image included; host memory of Python
        objects or ctypes pointers); CLError from the driver, and
        ExecStatusErrorForEventsInWaitList for a blocking write whose ``wait_for`` event
        failed also where the driver returns CL_SUCCESS (Oclgrind 21.10).
        """
        return self._transfer("clEnqueueWriteBuffer", "enqueue_write_buffer", _host.source, buffer, host, blocking,
                              offset, wait_for, event)

    def enqueue_read_buffer(self, buffer: Buffer, host: Any = None, blocking: bool = True, offset: int = 0,
                            wait_for: Sequence[Event] = (), event: bool = True):
        """Read ``host.nbytes`` bytes of ``buffer`` at byte ``offset`` into ``host``
        (clEnqueueReadBuffer). Returns the Event.

        ``host`` must be writable and C-contiguous (numpy array, bytearray, ...).
        ``offset``: bytes, an int or a numpy integer.
        With ``host=None`` a new uint8 numpy array of the bytes from ``offset`` to the
        end is read (blocking) and returned instead of the Event (empty, with no command,
        when ``offset`` is the buffer's size); view it with ``.view(dtype)``. Non-blocking
        reads keep ``host`` alive until the command completes.
        ``event=False`` (blocking only) asks the driver for no event and returns None.
        Raises ValueError for a read past the buffer's end, a 0-byte, read-only or
        non-contiguous destination, ``host=None`` or ``event=False`` with ``blocking=False``;
        TypeError for bad types (``buffer`` not a Buffer, an Image included; host memory of
        Python objects or ctypes pointers); CLError from the driver, and
        ExecStatusErrorForEventsInWaitList for a blocking read whose ``wait_for`` event failed
        also where the driver returns CL_SUCCESS (Oclgrind 21.10).
        """
        if host is None:
            if not blocking:
                raise ValueError("enqueue_read_buffer with host=None must be blocking; pass a host array instead")
            import numpy as np
            size = _size_of(buffer, "buffer")
            offset = _count(offset, "enqueue_read_buffer offset")
            _host.check_range(offset, 0, size, "enqueue_read_buffer")
            out = np.empty(size - offset, dtype=np.uint8)
            if out.size:                  # (at the very end: nothing to read, and no command)
                self.enqueue_read_buffer(buffer, out, True, offset, wait_for, event=False)
            return out
        return self._transfer("clEnqueueReadBuffer", "enqueue_read_buffer", _host.destination, buffer, host, blocking,
                              offset, wait_for, event)

    def _transfer(self, c_name, method, host_memory, buffer, host, blocking, offset, wait_for,
                  event) -> Optional[Event]:
        # clEnqueueReadBuffer and clEnqueueWriteBuffer share one signature;
        # ``host_memory`` is _host.source or _host.destination. A non-blocking command pins its
        # host object until it completes (through its event). The per-call path is kept short
        # (issue 7): a plain numpy array read once, the buffer's cached size, the bare entry
        # point with shared ctypes values.
        plain = _host._plain_array(host)
        keep, address, nbytes = plain if plain is not None else host_memory(host, "host")
        try:
            size = buffer._size if buffer.__class__ is Buffer else None
        except AttributeError:            # not read yet
            size = None
        if size is None or buffer._handle is None:
            size = _size_of(buffer, "buffer")   # TypeError, ReleasedHandleError
        if offset.__class__ is not int or offset < 0 or offset + nbytes > size:
            if offset.__class__ is not int:
                offset = _count(offset, f"{method} offset")   # a numpy integer, say; TypeError for others
            _host.check_range(offset, nbytes, size, method)
        if not nbytes:
            raise ValueError(f"{c_name}: the host object has 0 bytes, and OpenCL has no empty "
                             "transfers (the driver would answer CL_INVALID_VALUE)")
        n, events = wait_list(wait_for) if wait_for else (0, None)
        queue_handle = self._handle
        if queue_handle is None:
            queue_handle = self.handle    # raises ReleasedHandleError
        if not event and not blocking:
            raise ValueError(f"{method}: event=False needs blocking=True (the event of a "
                             "non-blocking transfer keeps its host memory alive until it completes)")
        # (a blocking command with a wait list gets its event in any case: see _failed_wait)
        handle = raw.cl_event() if event or (blocking and n) else None
        fn = getattr(raw, c_name)
        try:
            enqueue = fn._bare
        except AttributeError:
            enqueue = bare(fn)
        c_offset, c_nbytes = SIZE_T.get(offset), SIZE_T.get(nbytes)
        status = enqueue(queue_handle, buffer._handle, 1 if blocking else 0,
                         shared(ctypes.c_size_t, offset) if c_offset is None else c_offset,
                         shared(ctypes.c_size_t, nbytes) if c_nbytes is None else c_nbytes,
                         ctypes.c_void_p(address), n, events, None if handle is None else ctypes.byref(handle))
        if status:
            raise CLError(status, c_name)
        if handle is not None and blocking and n:
            _failed_wait(handle, c_name, release=not event)
        if not event:
            return None
        result = enqueued(self, handle)
        if not blocking:
            pin_until_complete(result, keep)
        return result

    def enqueue_fill_buffer(self, buffer: Buffer, pattern: Any, offset: int = 0, size: Optional[int] = None,
                            wait_for: Sequence[Event] = ()) -> Event:
        """Fill ``size`` bytes of ``buffer`` from byte ``offset`` with repeats of ``pattern``
        (clEnqueueFillBuffer, 1.2).

        ``pattern``: a buffer-protocol object or numpy scalar of 1, 2, 4, ..., 128 bytes
        (e.g. ``np.float32(1.5)``, ``np.arange(4, dtype=np.int32)``); the driver copies it
        at enqueue time. ``size`` defaults to the rest of the buffer; ``offset`` and ``size``
        must be multiples of the pattern's size. Raises ValueError for a bad pattern size,
        a misaligned or out-of-range offset/size; TypeError for bad types;
        FunctionUnavailableError on a device older than 1.2; CLError (InvalidValue,
        InvalidMemObject, MemObjectAllocationFailure, ...).
        """
        total = _size_of(buffer, "buffer")
        import numpy as np
        keep, address, pattern_size = _host.source(np.asarray(pattern) if isinstance(pattern, np.generic)
                                                   else pattern, "pattern")
        if pattern_size not in (1, 2, 4, 8, 16, 32, 64, 128):
            raise ValueError(f"enqueue_fill_buffer: the pattern has {pattern_size} bytes; "
                             "it must have 1, 2, 4, 8, 16, 32, 64 or 128")
        offset = _count(offset, "offset")
        if size is None:
            _host.check_range(offset, 0, total, "enqueue_fill_buffer")
            size = total - offset
        size = _count(size, "size")
        _host.check_range(offset, size, total, "enqueue_fill_buffer")
        if offset % pattern_size or size % pattern_size:
            raise ValueError(f"enqueue_fill_buffer: offset {offset} and size {size} must be multiples of the "
                             f"pattern's {pattern_size} bytes")
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueFillBuffer(self.handle, buffer.handle, address, pattern_size, offset, size, n, events,
                                    ctypes.byref(event))
        return _new_event(event, self)

    def enqueue_copy_buffer(self, src: Buffer, dst: Buffer, src_offset: int = 0, dst_offset: int = 0,
                            size: Optional[int] = None, wait_for: Sequence[Event] = ()) -> Event:
        """Copy ``size`` bytes from ``src`` at byte ``src_offset`` to ``dst`` at byte ``dst_offset``
        (clEnqueueCopyBuffer).

        ``size`` defaults to the rest of ``src`` from ``src_offset``. Where the specification
        asks for CL_MEM_COPY_OVERLAP (``src`` and ``dst`` the same buffer or sub-buffer, or two
        sub-buffers of one buffer, and the byte ranges overlap), this binding raises
        MemCopyOverlap itself before the driver is called (its detail says so): NVIDIA's
        driver 580 copied a range onto itself without the error, and the bytes of an
        overlapping copy are undefined. A sub-buffer and its own parent are left to the
        driver. Raises ValueError for a range outside either buffer, TypeError for bad types,
        CLError (MemCopyOverlap, InvalidValue, InvalidMemObject, ...).
        """
        src_total = _size_of(src, "src")
        dst_total = _size_of(dst, "dst")
        src_offset = _count(src_offset, "src_offset")
        dst_offset = _count(dst_offset, "dst_offset")
        if size is None:
            _host.check_range(src_offset, 0, src_total, "enqueue_copy_buffer (src)")
            size = src_total - src_offset
        size = _count(size, "size")
        _host.check_range(src_offset, size, src_total, "enqueue_copy_buffer (src)")
        _host.check_range(dst_offset, size, dst_total, "enqueue_copy_buffer (dst)")
        bases = _copy_bases(src, dst) if size else None
        if bases is not None:
            a, b = bases[0] + src_offset, bases[1] + dst_offset
            if a < b + size and b < a + size:
                raise _overlap_error("clEnqueueCopyBuffer", f"enqueue_copy_buffer: {size} bytes at byte {src_offset} "
                                     f"and at byte {dst_offset} overlap" + (" (sub-buffers of one buffer)"
                                                                            if src._value != dst._value else ""))
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueCopyBuffer(self.handle, src.handle, dst.handle, src_offset, dst_offset, size, n, events,
                                    ctypes.byref(event))
        return _new_event(event, self)

    def enqueue_read_buffer_rect(self, buffer: Buffer, host: Any, buffer_origin: Sequence[int],
                                 host_origin: Sequence[int], region: Sequence[int], buffer_row_pitch: int = 0,
                                 buffer_slice_pitch: int = 0, host_row_pitch: int = 0, host_slice_pitch: int = 0,
                                 blocking: bool = True, wait_for: Sequence[Event] = ()) -> Event:
        """Read a 2D or 3D rect of ``buffer`` into ``host`` (clEnqueueReadBufferRect, 1.1).

        All in bytes as C counts: ``region = (bytes per row, rows, slices)``, origins
        ``(byte, row, slice)``; 1 or 2 values are padded (origins with 0, region with 1).
        Pitches of 0 mean tightly packed (row pitch = region[0], slice pitch = row pitch x
        rows). The byte at (x, y, z) of a side is at ``z*slice_pitch + y*row_pitch + x``.
        ``host`` must be writable and C-contiguous; non-blocking reads keep it alive until
        the command completes. Raises ValueError when the addressed range passes the end of
        the buffer or of ``host``, for a 0 in region or pitches too small / not multiples;
        TypeError for bad types; FunctionUnavailableError on 1.0 devices; CLError
        (InvalidValue, InvalidMemObject, MemObjectAllocationFailure, ...).
        """
        keep, address, nbytes = _host.destination(host, "host")
        return self._buffer_rect("clEnqueueReadBufferRect", "enqueue_read_buffer_rect", buffer, keep, address,
                                 nbytes, buffer_origin, host_origin, region, buffer_row_pitch, buffer_slice_pitch,
                                 host_row_pitch, host_slice_pitch, blocking, wait_for)

    def enqueue_write_buffer_rect(self, buffer: Buffer, host: Any, buffer_origin: Sequence[int],
                                  host_origin: Sequence[int], region: Sequence[int], buffer_row_pitch: int = 0,
                                  buffer_slice_pitch: int = 0, host_row_pitch: int = 0, host_slice_pitch: int = 0,
                                  blocking: bool = True, wait_for: Sequence[Event] = ()) -> Event:
        """Write a 2D or 3D rect of ``host`` into ``buffer`` (clEnqueueWriteBufferRect, 1.1).

        Units and rules as :meth:`enqueue_read_buffer_rect` (all bytes; pitches 0 = packed).
        ``host``: any buffer-protocol object (non-contiguous arrays are copied first);
        non-blocking writes keep it alive until the command completes. Raises ValueError,
        TypeError, FunctionUnavailableError, CLError as enqueue_read_buffer_rect.
        """
        keep, address, nbytes = _host.source(host, "host")
        return self._buffer_rect("clEnqueueWriteBufferRect", "enqueue_write_buffer_rect", buffer, keep,
                                 address, nbytes, buffer_origin, host_origin, region, buffer_row_pitch,
                                 buffer_slice_pitch, host_row_pitch, host_slice_pitch, blocking, wait_for)

    def _buffer_rect(self, c_name, what, buffer, keep, address, nbytes, buffer_origin, host_origin, region,
                     buffer_row_pitch, buffer_slice_pitch, host_row_pitch, host_slice_pitch, blocking,
                     wait_for) -> Event:
        total = _size_of(buffer, "buffer")
        region = _triple(region, f"{what} region", 1)
        buffer_origin = _triple(buffer_origin, f"{what} buffer_origin", 0)
        host_origin = _triple(host_origin, f"{what} host_origin", 0)
        b_row, b_slice, _, b_end = _rect(buffer_origin, region, buffer_row_pitch, buffer_slice_pitch,
                                         f"{what} (buffer)")
        h_row, h_slice, _, h_end = _rect(host_origin, region, host_row_pitch, host_slice_pitch, f"{what} (host)")
        _check_rect_end(b_end, total, f"{what} (buffer)")
        _check_rect_end(h_end, nbytes, f"{what} (host)")
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        getattr(checked, c_name)(self.handle, buffer.handle, bool(blocking), _size_t3(buffer_origin),
                                 _size_t3(host_origin), _size_t3(region), b_row, b_slice, h_row, h_slice, address,
                                 n, events, ctypes.byref(event))
        result = _new_event(event, self)
        if not blocking:
            pin_until_complete(result, keep)
        return result

    def enqueue_copy_buffer_rect(self, src: Buffer, dst: Buffer, src_origin: Sequence[int],
                                 dst_origin: Sequence[int], region: Sequence[int], src_row_pitch: int = 0,
                                 src_slice_pitch: int = 0, dst_row_pitch: int = 0, dst_slice_pitch: int = 0,
                                 wait_for: Sequence[Event] = ()) -> Event:
        """Copy a 2D or 3D rect from ``src`` to ``dst`` (clEnqueueCopyBufferRect, 1.1).

        Units and rules as :meth:`enqueue_read_buffer_rect` (all bytes; pitches 0 = packed).
        Where the specification asks for CL_MEM_COPY_OVERLAP (``src`` and ``dst`` the same
        buffer or sub-buffer, or two sub-buffers of one buffer, and the two rects share a
        byte: their rows are compared, so rects that interleave without touching pass), this
        binding raises MemCopyOverlap itself before the driver is called (its detail says
        so): Oclgrind 21.10 and NVIDIA's driver 580 do not report it. Raises ValueError when
        the addressed range passes either buffer's end or for bad pitches, TypeError for bad
        types, FunctionUnavailableError on 1.0 devices, CLError (MemCopyOverlap,
        InvalidValue, ...).
        """
        src_total = _size_of(src, "src")
        dst_total = _size_of(dst, "dst")
        what = "enqueue_copy_buffer_rect"
        region = _triple(region, f"{what} region", 1)
        src_origin = _triple(src_origin, f"{what} src_origin", 0)
        dst_origin = _triple(dst_origin, f"{what} dst_origin", 0)
        s_row, s_slice, s_first, s_end = _rect(src_origin, region, src_row_pitch, src_slice_pitch, f"{what} (src)")
        d_row, d_slice, d_first, d_end = _rect(dst_origin, region, dst_row_pitch, dst_slice_pitch, f"{what} (dst)")
        _check_rect_end(s_end, src_total, f"{what} (src)")
        _check_rect_end(d_end, dst_total, f"{what} (dst)")
        bases = _copy_bases(src, dst)
        if bases is not None and _rects_overlap(bases[0] + s_first, bases[1] + d_first, region, (s_row, s_slice),
                                                (d_row, d_slice)):
            raise _overlap_error("clEnqueueCopyBufferRect", f"{what}: the rects at {src_origin} and {dst_origin} "
                                 f"(region {region}) overlap" + (" (sub-buffers of one buffer)"
                                                                 if src._value != dst._value else ""))
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueCopyBufferRect(self.handle, src.handle, dst.handle, _size_t3(src_origin),
                                        _size_t3(dst_origin), _size_t3(region), s_row, s_slice, d_row, d_slice,
                                        n, events, ctypes.byref(event))
        return _new_event(event, self)

    def enqueue_migrate_mem_objects(self, mem_objects: Sequence[MemObject], flags: int = 0,
                                    wait_for: Sequence[Event] = ()) -> Event:
        """Move memory objects to this queue's device, or to the host
        (clEnqueueMigrateMemObjects, 1.2).

        ``flags``: 0, CL_MIGRATE_MEM_OBJECT_HOST and/or CL_MIGRATE_MEM_OBJECT_CONTENT_UNDEFINED.
        Raises ValueError for an empty list, TypeError for non-MemObject items or bad
        flags, FunctionUnavailableError on devices older than 1.2, CLError (InvalidValue
        for unknown flag bits, InvalidMemObject, InvalidContext, ...).
        """
        if isinstance(mem_objects, MemObject):
            mem_objects = [mem_objects]
        n_mem, array = handle_array(mem_objects, MemObject, "mem_objects")
        if not n_mem:
            raise ValueError("enqueue_migrate_mem_objects needs at least one memory object")
        flags = _flags(flags)
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueMigrateMemObjects(self.handle, n_mem, array, flags, n, events, ctypes.byref(event))
        return _new_event(event, self)

    def enqueue_map_buffer(self, buffer: Buffer, flags: int = raw.CL_MAP_READ | raw.CL_MAP_WRITE, offset: int = 0,
                           size: Optional[int] = None, blocking: bool = True, wait_for: Sequence[Event] = (),
                           dtype: Any = "uint8", shape: Any = None) -> MemoryMapping:
        """Map ``size`` bytes of ``buffer`` at byte ``offset`` into host memory (clEnqueueMapBuffer).

        ``flags``: CL_MAP_READ, CL_MAP_WRITE or CL_MAP_WRITE_INVALIDATE_REGION bits.
        ``size`` defaults to the rest of the buffer. Returns a :class:`MemoryMapping`:
        ``.array`` is a numpy array of ``dtype`` (and ``shape``, default 1-D) over the
        mapped bytes (read-only when ``flags`` has no write bit: writes to such a mapping
        may be lost at unmap, so numpy refuses them), ``.event`` the map's Event (with ``blocking=False`` the array is
        valid once it completes). Unmap with ``mapping.unmap()``, a ``with`` block, or
        :meth:`enqueue_unmap_mem_object`; ``array, event = mapping`` unpacks as before.
        Raises ValueError for a range outside the buffer or a size that ``dtype`` does
        not divide, TypeError for a non-memory object, CLError from the driver
        (MapFailure, InvalidValue, InvalidOperation for host-access flags, ...).
        """
        import numpy as np
        total = _size_of(buffer, "buffer")
        flags = _flags(flags)
        if size is None:
            _host.check_range(offset, 0, total, "enqueue_map_buffer")
            size = total - offset
        _host.check_range(offset, size, total, "enqueue_map_buffer")
        dtype = np.dtype(dtype)
        if size % dtype.itemsize:
            raise ValueError(f"enqueue_map_buffer: {size} bytes is not a whole number of {dtype} items")
        if shape is not None:
            shape = _resolve_shape(shape, size // dtype.itemsize, "enqueue_map_buffer")
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        pointer = checked.clEnqueueMapBuffer(self.handle, buffer.handle, bool(blocking), flags, offset, size,
                                             n, events, ctypes.byref(event))
        mapping = MemoryMapping(self, buffer, pointer or 0, size, _new_event(event, self))
        if size == 0 or not pointer:
            mapping._attach(None, dtype, shape)
        else:
            items = size // dtype.itemsize
            mapping._attach({"shape": (items,), "typestr": dtype.str, "descr": dtype.descr,
                             "data": (pointer, _read_only_map(flags)), "version": 3}, dtype, None)
            if shape is not None:
                mapping._array = mapping._array.reshape(shape)
        return mapping

    def enqueue_unmap_mem_object(self, memobj: MemObject, mapped: Any, wait_for: Sequence[Event] = ()) -> Event:
        """Unmap a region mapped by :meth:`enqueue_map_buffer` or ``enqueue_map_image``
        (clEnqueueUnmapMemObject).

        ``mapped``: the :class:`MemoryMapping`, its array (or any view of it: the mapping's
        own address is used), or the int address. The mapping (when it can be found) is
        marked unmapped: its ``.array`` raises afterwards. Raises TypeError for other objects, ValueError for a mapping
        already unmapped or of another memory object, CLError (InvalidValue for a pointer
        that was not mapped from ``memobj``).
        """
        if not isinstance(memobj, MemObject):
            raise TypeError(f"memobj must be a memory object (Buffer or Image), got {type(memobj).__name__}")
        memobj.handle                     # raises ReleasedHandleError
        mapping: Optional[MemoryMapping] = None
        if isinstance(mapped, MemoryMapping):
            mapping = mapped
            if mapping.memobj.handle.value != memobj.handle.value:
                raise ValueError("the mapping belongs to another memory object")
            if mapping.unmapped:
                raise ValueError("the mapping was already unmapped")
            address = mapping.address
        elif isinstance(mapped, int) and not isinstance(mapped, bool):
            address = mapped
        else:
            interface = getattr(mapped, "__array_interface__", None)
            if interface is None:
                raise TypeError(f"mapped must be the MemoryMapping, its array or its address, "
                                f"got {type(mapped).__name__}")
            address = interface["data"][0]
            found = _mapping_of(mapped)
            if found is not None:                   # a view of a mapping's array: unmap that mapping
                if found.unmapped:
                    raise ValueError("the mapping of this array was already unmapped")
                if found.memobj.handle.value != memobj.handle.value:
                    raise ValueError("the array is mapped from another memory object")
                mapping, address = found, found.address
        return _unmap(self, memobj, address, wait_for, mapping)


def _resolve_shape(shape: Any, items: int, what: str) -> Tuple[int, ...]:
    """``shape`` (an int or ints, at most one -1) checked against ``items`` elements, -1 resolved."""
    dims = [_index(extent, f"{what} shape") for extent in (shape if isinstance(shape, (tuple, list)) else (shape,))]
    unknown = [i for i, extent in enumerate(dims) if extent == -1]
    if len(unknown) > 1 or any(extent < -1 for extent in dims):
        raise ValueError(f"{what}: shape {tuple(dims)} may hold one -1 and no other negative extent")
    known = 1
    for extent in dims:
        known *= extent if extent != -1 else 1
    if unknown and known and items % known == 0:
        dims[unknown[0]] = items // known
    elif unknown:
        raise ValueError(f"{what}: shape {tuple(dims)} does not divide the {items} items mapped")
    count = 1
    for extent in dims:
        count *= extent
    if count != items:
        raise ValueError(f"{what}: shape {tuple(dims)} does not hold the {items} items mapped")
    return tuple(dims)


def _failed_wait(handle, c_name: str, release: bool) -> None:
    """After a blocking command with a wait list returned CL_SUCCESS: raise
    ExecStatusErrorForEventsInWaitList when its event says it failed, as the specification
    has the call itself do (Oclgrind 21.10 returns CL_SUCCESS and moves no bytes). Releases
    ``handle`` where ``release`` (an event only asked for this look) or where it raises."""
    status = _execution_status(handle)
    if release or status < 0:
        checked.clReleaseEvent(handle)
    if status < 0:
        raise CLError(raw.CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, c_name,
                      f"the driver returned CL_SUCCESS, but the command's event has status {status}: "
                      "an event of wait_for failed, and no bytes moved")


def _size_of(memobj: MemObject, what: str) -> int:
    """The size in bytes of the Buffer (or sub-buffer) ``memobj`` of a buffer command: TypeError for
    anything else, an image included (PoCL and Oclgrind read and write an image as a buffer)."""
    if not isinstance(memobj, Buffer):
        raise TypeError(f"{what} must be a buffer memory object (Buffer), got {type(memobj).__name__}")
    return memobj.size


# --------------------------------------------------------------------------- #
# Context methods
# --------------------------------------------------------------------------- #

class _ContextMemory:
    """Context methods that create memory objects."""

    def create_buffer(self, flags: int = raw.CL_MEM_READ_WRITE, size: Optional[int] = None,
                      host_buffer: Any = None):
        """A buffer of ``size`` bytes (clCreateBuffer); see :func:`opencl_raw.memory.create_buffer`."""
        # The short path (issue 7: buffer churn) for the plain case, with the same checks:
        # int flags without host-pointer bits and an int size within the context's limit.
        if host_buffer is None and flags.__class__ is int and size.__class__ is int:
            handle = self._handle
            try:
                fits = 0 < size <= self._max_alloc    # AttributeError until the first create_buffer reads it
            except AttributeError:
                fits = False
            if fits and 0 <= flags <= _BITFIELD_MAX and not flags & _HOST_POINTER_FLAGS and handle is not None:
                # errcode_ret NULL: a NULL cl_mem is the failure, and the slow path below, which asks
                # again with errcode_ret, reports its code
                mem = bare(raw.clCreateBuffer)(handle, shared(ctypes.c_uint64, flags), shared(ctypes.c_size_t, size),
                                               None, None)
                value = mem.value
                if value:
                    buffer = Buffer.__new__(Buffer)
                    buffer._handle, buffer._value, buffer._owned, buffer._size = mem, value, True, size
                    return buffer
        return create_buffer(self, flags, size, host_buffer)

    def create_buffer_with_properties(self, properties: Properties = None, flags: int = raw.CL_MEM_READ_WRITE,
                                      size: Optional[int] = None, host_buffer: Any = None) -> Buffer:
        """A buffer of ``size`` bytes with cl_mem_properties (clCreateBufferWithProperties, 3.0).

        ``properties``: None, a mapping or (name, value) pairs (OpenCL 3.0 core defines
        none; extensions do); the terminating 0 is added. ``flags``, ``size`` and
        ``host_buffer`` as :func:`create_buffer` (size in bytes). Raises ValueError /
        TypeError as create_buffer, FunctionUnavailableError on devices older than 3.0,
        CLError (InvalidProperty, InvalidBufferSize, InvalidValue, InvalidHostPtr, ...).
        """
        keep, address, size = _host_pointer(flags, size, host_buffer)
        props = properties_array(properties, raw.cl_mem_properties)
        check_alloc_size(self, size, InvalidBufferSize, "clCreateBufferWithProperties")
        handle = checked.clCreateBufferWithProperties(self.handle, props, flags, size, address)
        return _adopt_buffer(handle, flags, size, keep)

    def create_pipe(self, flags: int, packet_size: int, max_packets: int, properties: Properties = None) -> Pipe:
        """A pipe of ``max_packets`` packets of ``packet_size`` bytes (clCreatePipe, 2.0).

        ``flags``: 0, CL_MEM_READ_WRITE and/or CL_MEM_HOST_NO_ACCESS. ``properties`` must be
        None in OpenCL 2.0 to 3.0. Raises TypeError for non-ints, ValueError for sizes
        below 1 or above 2**32-1, FunctionUnavailableError on devices older than 2.0 (the
        version gate), CLError (InvalidOperation when no device of the context supports
        pipes, e.g. PoCL 3.1; InvalidPipeSize, InvalidValue, ...).
        """
        flags = _flags(flags)
        packet_size = _index(packet_size, "packet_size")
        max_packets = _index(max_packets, "max_packets")
        for name, value in (("packet_size", packet_size), ("max_packets", max_packets)):
            if not 1 <= value <= 0xFFFFFFFF:
                raise ValueError(f"create_pipe: {name} must be 1 to 2**32-1, got {value}")
        props = properties_array(properties, raw.cl_pipe_properties)
        handle = checked.clCreatePipe(self.handle, flags, packet_size, max_packets, props)
        return Pipe.from_handle(handle, retain=False)


__all__ = ["MemObject", "Buffer", "Pipe", "MemoryMapping", "create_buffer"]
