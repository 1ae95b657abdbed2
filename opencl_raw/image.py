"""Images: creation, formats, info, and the command-queue methods that read, write, copy, fill and map them.

Units follow the C API: ``origin`` and ``region`` are in **pixels** as ``(x, y, z)``
(for a 1D image array ``y`` is the array index, for a 2D image array ``z`` is), while
row and slice pitches, buffer offsets and sizes are in **bytes**. Shapes are given in
OpenCL order, width first: ``(width,)``, ``(width, height)``, ``(width, height, depth)``,
``(width, array_size)``, ``(width, height, array_size)``. numpy arrays of image data
use the reverse, C order with the channels last: ``(height, width, channels)`` for a 2D
RGBA image (the channel axis is left out for one-channel and packed formats).
Everything is checked against the image and the host object before the driver is called.
"""
from __future__ import annotations

import collections
import ctypes

from . import _gate, _host, _info, _pins, checked, raw
from ._handle import properties_array
from .errors import InvalidImageSize
from .event import Event, pin_until_complete, wait_list
from .memory import (SIZE_MAX, Buffer, MemObject, MemoryMapping, _count, _flags, _grouped_info, _index, _new_event,
                     _read_only_map, _size_t3, _triple, check_alloc_size)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List, Optional, Sequence, Tuple

    from ._handle import Properties


IMAGE1D = raw.CL_MEM_OBJECT_IMAGE1D
IMAGE1D_BUFFER = raw.CL_MEM_OBJECT_IMAGE1D_BUFFER
IMAGE1D_ARRAY = raw.CL_MEM_OBJECT_IMAGE1D_ARRAY
IMAGE2D = raw.CL_MEM_OBJECT_IMAGE2D
IMAGE2D_ARRAY = raw.CL_MEM_OBJECT_IMAGE2D_ARRAY
IMAGE3D = raw.CL_MEM_OBJECT_IMAGE3D

#: image type -> how many values its shape has
_DIMENSIONS = {IMAGE1D: 1, IMAGE1D_BUFFER: 1, IMAGE1D_ARRAY: 2, IMAGE2D: 2, IMAGE2D_ARRAY: 3, IMAGE3D: 3}
#: image types whose host data have a slice pitch
_SLICED = (IMAGE1D_ARRAY, IMAGE2D_ARRAY, IMAGE3D)

# channel order -> number of channels (orders with padding channels are left out: their size comes from the driver)
_CHANNELS = {
    raw.CL_R: 1, raw.CL_A: 1, raw.CL_INTENSITY: 1, raw.CL_LUMINANCE: 1, raw.CL_DEPTH: 1,
    raw.CL_RG: 2, raw.CL_RA: 2, raw.CL_RGB: 3, raw.CL_sRGB: 3,
    raw.CL_RGBA: 4, raw.CL_BGRA: 4, raw.CL_ARGB: 4, raw.CL_ABGR: 4, raw.CL_sRGBA: 4, raw.CL_sBGRA: 4,
}
# channel type -> (numpy type of one channel, or of the whole pixel for packed types; packed pixel bytes or None)
_STORAGE = {
    raw.CL_SNORM_INT8: ("i1", None), raw.CL_SNORM_INT16: ("i2", None),
    raw.CL_UNORM_INT8: ("u1", None), raw.CL_UNORM_INT16: ("u2", None),
    raw.CL_UNORM_SHORT_565: ("u2", 2), raw.CL_UNORM_SHORT_555: ("u2", 2),
    raw.CL_UNORM_INT_101010: ("u4", 4), raw.CL_UNORM_INT_101010_2: ("u4", 4),
    raw.CL_SIGNED_INT8: ("i1", None), raw.CL_SIGNED_INT16: ("i2", None), raw.CL_SIGNED_INT32: ("i4", None),
    raw.CL_UNSIGNED_INT8: ("u1", None), raw.CL_UNSIGNED_INT16: ("u2", None), raw.CL_UNSIGNED_INT32: ("u4", None),
    raw.CL_HALF_FLOAT: ("f2", None), raw.CL_FLOAT: ("f4", None),
}
_SIGNED = (raw.CL_SIGNED_INT8, raw.CL_SIGNED_INT16, raw.CL_SIGNED_INT32)
_UNSIGNED = (raw.CL_UNSIGNED_INT8, raw.CL_UNSIGNED_INT16, raw.CL_UNSIGNED_INT32)


def _enum(cls, value: int):
    try:
        return cls(value)
    except ValueError:
        return value


class ImageFormat(collections.namedtuple("ImageFormat", "channel_order channel_type")):
    """An image format (``cl_image_format``): ``(channel_order, channel_type)``,
    ChannelOrder / ChannelType members where the values are known."""

    __slots__ = ()

    @property
    def channels(self) -> Optional[int]:
        """Number of channels of the order (None for orders with padding channels)."""
        return _CHANNELS.get(self.channel_order)

    @property
    def packed(self) -> bool:
        """True for channel types that pack a whole pixel into one integer (565, 555, 101010)."""
        return _STORAGE.get(self.channel_type, (None, None))[1] is not None

    @property
    def element_size(self) -> Optional[int]:
        """Bytes per pixel (None where this binding cannot tell; the image's CL_IMAGE_ELEMENT_SIZE can)."""
        storage = _STORAGE.get(self.channel_type)
        if storage is None:
            return None
        if storage[1] is not None:
            return storage[1]
        channels = self.channels
        return None if channels is None else channels * int(storage[0][1])

    @property
    def dtype(self):
        """The numpy dtype of one channel (of a whole pixel for packed types), or None if unknown."""
        storage = _STORAGE.get(self.channel_type)
        if storage is None:
            return None
        import numpy as np
        return np.dtype(storage[0])

    def as_c(self) -> raw.cl_image_format:
        """The ``cl_image_format`` struct."""
        return raw.cl_image_format(int(self.channel_order), int(self.channel_type))


def image_format(value: Any) -> ImageFormat:
    """An ImageFormat from an ImageFormat, a ``(channel_order, channel_type)`` pair of ints or a
    ``raw.cl_image_format``. Raises TypeError / ValueError for anything else."""
    if isinstance(value, raw.cl_image_format):
        value = (value.image_channel_order, value.image_channel_data_type)
    try:
        order, kind = value
    except (TypeError, ValueError):
        raise TypeError(f"format must be (channel_order, channel_type) or a cl_image_format, got {value!r}") from None
    return ImageFormat(_enum(_info.ChannelOrder, _index(order, "channel_order")),
                       _enum(_info.ChannelType, _index(kind, "channel_type")))


class _Geometry(collections.namedtuple("_Geometry", "image_type width height depth array_size element_size format")):
    """An image's type, size (pixels; depth and array size 1 where they do not apply), element size
    (bytes) and ImageFormat."""

    __slots__ = ()

    @property
    def extent(self) -> Tuple[int, int, int]:
        """Pixels along (x, y, z) as origin and region count them."""
        t = self.image_type
        if t in (IMAGE1D, IMAGE1D_BUFFER):
            return (self.width, 1, 1)
        if t == IMAGE1D_ARRAY:
            return (self.width, self.array_size, 1)
        if t == IMAGE2D:
            return (self.width, self.height, 1)
        if t == IMAGE2D_ARRAY:
            return (self.width, self.height, self.array_size)
        return (self.width, self.height, self.depth)

    def rows_slices(self, region: Sequence[int]) -> Tuple[int, int]:
        """(rows, slices) of host data for ``region``: the 1D array's images are slices."""
        t = self.image_type
        if t in (IMAGE1D, IMAGE1D_BUFFER):
            return 1, 1
        if t == IMAGE1D_ARRAY:
            return 1, region[1]
        if t == IMAGE2D:
            return region[1], 1
        return region[1], region[2]

    def numpy_shape(self, region: Sequence[int]) -> Tuple[int, ...]:
        t = self.image_type
        if t in (IMAGE1D, IMAGE1D_BUFFER):
            dims: Tuple[int, ...] = (region[0],)
        elif t in (IMAGE1D_ARRAY, IMAGE2D):
            dims = (region[1], region[0])
        else:
            dims = (region[2], region[1], region[0])
        return dims + self.channel_axis

    @property
    def channel_axis(self) -> Tuple[int, ...]:
        fmt = self.format
        if fmt.dtype is None or fmt.channels is None:
            return (self.element_size,)             # unknown format: the pixel's bytes
        if fmt.packed or fmt.channels == 1:
            return ()
        return (fmt.channels,)

    @property
    def dtype(self):
        import numpy as np
        fmt = self.format
        return fmt.dtype if fmt.dtype is not None and fmt.channels is not None else np.dtype(np.uint8)


def _geometry(image: "Image") -> _Geometry:
    if not isinstance(image, Image):
        raise TypeError(f"expected an Image, got {type(image).__name__}")
    image.handle
    geometry = getattr(image, "_geometry", None)
    if geometry is None:
        info = image.get_info
        fmt = info(raw.CL_IMAGE_FORMAT)
        geometry = _Geometry(int(info(raw.CL_MEM_TYPE)), info(raw.CL_IMAGE_WIDTH), info(raw.CL_IMAGE_HEIGHT),
                             info(raw.CL_IMAGE_DEPTH), info(raw.CL_IMAGE_ARRAY_SIZE),
                             info(raw.CL_IMAGE_ELEMENT_SIZE), image_format(fmt))
        image._geometry = geometry
    return geometry


class Image(MemObject):
    """An image memory object (1D, 1D buffer, 1D array, 2D, 2D array or 3D), from
    :meth:`Context.create_image`.

    Info: ``get_info(param)`` answers CL_IMAGE_* params through clGetImageInfo and
    CL_MEM_* params through clGetMemObjectInfo; attributes ``.width``, ``.height``,
    ``.depth``, ``.array_size`` (pixels / images; 0 where the type has no such axis),
    ``.element_size``, ``.row_pitch``, ``.slice_pitch`` (bytes), ``.buffer``,
    ``.num_mip_levels``, ``.num_samples``, plus ``.type``, ``.flags``, ``.size`` ... of
    the memory object. ``.format`` is an :class:`ImageFormat`; ``.shape`` and ``.dtype``
    describe a numpy array holding the whole image.
    """

    __slots__ = ("_geometry", "_buffer")    # _buffer: the Buffer behind a 1D buffer image (or 2D from a buffer)
    _info_group, _info_function = "Image", "clGetImageInfo"
    _attr_groups = ("Image", "MemObject")
    _attr_prefixes = ("CL_IMAGE_", "CL_MEM_")

    def get_info(self, param) -> Any:
        """Typed value of one info param: CL_IMAGE_* through clGetImageInfo, CL_MEM_* through
        clGetMemObjectInfo. Raises CLError (InvalidValue for an unknown param),
        ReleasedHandleError after release()."""
        return _grouped_info(self, "Image", "clGetImageInfo", param)

    @property
    def format(self) -> ImageFormat:
        """CL_IMAGE_FORMAT as an :class:`ImageFormat` (channel_order, channel_type)."""
        return _geometry(self).format

    @property
    def shape(self) -> Tuple[int, ...]:
        """The numpy shape of the whole image: C order, channels last (e.g. (height, width, 4))."""
        geometry = _geometry(self)
        return geometry.numpy_shape(geometry.extent)

    @property
    def dtype(self):
        """The numpy dtype of one channel (uint8 bytes for formats this binding does not know)."""
        return _geometry(self).dtype


# --------------------------------------------------------------------------- #
# Validation helpers
# --------------------------------------------------------------------------- #

def _image_region(geometry: _Geometry, origin: Any, region: Any, what: str):
    """(origin, region) as pixel triples checked against the image's extent."""
    origin = _triple(origin, f"{what} origin", 0)
    extent = geometry.extent
    if region is None:
        region = tuple(max(e - o, 0) for e, o in zip(extent, origin))
    else:
        region = _triple(region, f"{what} region", 1)
    if 0 in region:
        raise ValueError(f"{what}: region {region} must not contain 0 (origin {origin}, image extent {extent})")
    for axis, o, r, e in zip("xyz", origin, region, extent):
        if o + r > e:
            raise ValueError(f"{what}: origin {origin} + region {region} passes the image's extent {extent} "
                             f"(pixels) along {axis}")
    return origin, region


def _host_pitches(geometry: _Geometry, region, row_pitch: Any, slice_pitch: Any, what: str):
    """(row_pitch, slice_pitch, host bytes needed) of host data for ``region``; pitches in bytes, 0 = packed."""
    row_pitch = _count(row_pitch, f"{what} row_pitch")
    slice_pitch = _count(slice_pitch, f"{what} slice_pitch")
    row_bytes = region[0] * geometry.element_size
    if row_pitch == 0:
        row_pitch = row_bytes
    elif row_pitch < row_bytes:
        raise ValueError(f"{what}: row_pitch {row_pitch} is less than the {row_bytes} bytes of a row "
                         f"({region[0]} pixels x {geometry.element_size} bytes)")
    rows, slices = geometry.rows_slices(region)
    if geometry.image_type not in _SLICED:
        if slice_pitch:
            raise ValueError(f"{what}: slice_pitch must be 0 for a 1D or 2D image, got {slice_pitch}")
        return row_pitch, 0, (rows - 1) * row_pitch + row_bytes
    if slice_pitch == 0:
        slice_pitch = row_pitch * rows
    elif slice_pitch < row_pitch * rows:
        raise ValueError(f"{what}: slice_pitch {slice_pitch} is less than row_pitch x rows = {row_pitch * rows}")
    if geometry.image_type == IMAGE1D_ARRAY:
        # The images of a 1D array are slice_pitch bytes apart (the specification); PoCL 3.1 and
        # Oclgrind step by row_pitch instead. A row pitch equal to the slice pitch is right for both.
        row_pitch = slice_pitch
    return row_pitch, slice_pitch, (slices - 1) * slice_pitch + (rows - 1) * row_pitch + row_bytes


def _check_host(nbytes: int, needed: int, what: str) -> None:
    if needed > nbytes:
        raise ValueError(f"{what}: the region needs {needed} bytes of host memory, the host object has {nbytes}")


def _fill_color(fmt: ImageFormat, color: Any):
    """The fill color as C expects it: float4, int4 or uint4 by channel type (a float for CL_DEPTH)."""
    import numbers                # (here: its import is a millisecond of every process's start)
    try:
        values = tuple(color)
    except TypeError:
        values = (color,)
    if fmt.channel_order == raw.CL_DEPTH:
        if len(values) != 1 or not isinstance(values[0], numbers.Real) or isinstance(values[0], bool):
            raise ValueError(f"a CL_DEPTH image is filled with one float depth value, got {color!r}")
        return ctypes.c_float(float(values[0]))
    if len(values) != 4:
        raise ValueError(f"the fill color needs 4 values (R, G, B, A), got {len(values)}: {color!r}")
    if fmt.channel_type in _SIGNED or fmt.channel_type in _UNSIGNED:
        low, high, ctype = ((-2 ** 31, 2 ** 31 - 1, ctypes.c_int32) if fmt.channel_type in _SIGNED
                            else (0, 2 ** 32 - 1, ctypes.c_uint32))
        ints = []
        for v in values:
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"an integer image ({fmt.channel_type!r}) is filled with ints, got {v!r}")
            if not low <= int(v) <= high:
                raise ValueError(f"fill value {v} is outside {low}..{high} for {fmt.channel_type!r}")
            ints.append(int(v))
        return (ctype * 4)(*ints)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"a normalized or float image ({fmt.channel_type!r}) is filled with floats, got {v!r}")
    return (ctypes.c_float * 4)(*[float(v) for v in values])


# --------------------------------------------------------------------------- #
# CommandQueue methods
# --------------------------------------------------------------------------- #

class _QueueImages:
    """CommandQueue methods on images."""

    def enqueue_read_image(self, image: Image, host: Any = None, origin: Sequence[int] = (0, 0, 0),
                           region: Optional[Sequence[int]] = None, row_pitch: int = 0, slice_pitch: int = 0,
                           blocking: bool = True, wait_for: Sequence[Event] = ()):
        """Read a region of ``image`` into ``host`` (clEnqueueReadImage). Returns the Event.

        ``origin`` / ``region``: pixels ``(x, y, z)``; region defaults to the rest of the
        image from origin. ``row_pitch`` / ``slice_pitch``: bytes between host rows / slices
        (0: tightly packed; slice_pitch must be 0 for 1D and 2D images; the images of a 1D
        image array are slice_pitch bytes apart, and the driver is given that value as the
        row pitch too, since PoCL 3.1 and Oclgrind step 1D array images by row pitch; NVIDIA 580
        answered CL_INVALID_VALUE for a 3D read with slice_pitch 80 and row_pitch 32, though the
        specification does not ask for a multiple: a multiple is the portable choice). ``host`` must be
        writable and C-contiguous and hold the addressed bytes; with ``host=None`` (blocking
        only, pitches 0) a new numpy array of the region (C order, channels last, dtype of
        the channel type) is returned instead of the Event. Non-blocking reads keep ``host``
        alive until the command completes. Raises ValueError for a region outside the image
        or host object, bad pitches; TypeError for bad types; CLError (InvalidValue,
        InvalidMemObject, InvalidOperation for a CL_MEM_HOST_WRITE_ONLY image,
        ImageFormatNotSupported, ...).
        """
        geometry = _geometry(image)
        origin, region = _image_region(geometry, origin, region, "enqueue_read_image")
        if host is None:
            if not blocking:
                raise ValueError("enqueue_read_image with host=None must be blocking; pass a host array instead")
            if row_pitch or slice_pitch:
                raise ValueError("enqueue_read_image with host=None reads tightly packed rows: leave the pitches 0")
            import numpy as np
            out = np.empty(geometry.numpy_shape(region), dtype=geometry.dtype)
            self.enqueue_read_image(image, out, origin, region, 0, 0, True, wait_for).release()
            return out
        keep, address, nbytes = _host.destination(host, "host")
        row_pitch, slice_pitch, needed = _host_pitches(geometry, region, row_pitch, slice_pitch, "enqueue_read_image")
        _check_host(nbytes, needed, "enqueue_read_image")
        return self._image_transfer("clEnqueueReadImage", image, blocking, origin, region, row_pitch, slice_pitch,
                                    keep, address, wait_for)

    def enqueue_write_image(self, image: Image, host: Any, origin: Sequence[int] = (0, 0, 0),
                            region: Optional[Sequence[int]] = None, row_pitch: int = 0, slice_pitch: int = 0,
                            blocking: bool = True, wait_for: Sequence[Event] = ()) -> Event:
        """Write ``host`` into a region of ``image`` (clEnqueueWriteImage).

        Units as :meth:`enqueue_read_image`: origin/region in pixels, pitches in bytes
        (0: tightly packed). ``host``: any buffer-protocol object holding the addressed bytes
        (non-contiguous arrays are copied first); non-blocking writes keep it alive until the
        command completes. Raises ValueError, TypeError, CLError (InvalidValue,
        InvalidOperation for a CL_MEM_HOST_READ_ONLY image, ...) as enqueue_read_image.
        """
        geometry = _geometry(image)
        origin, region = _image_region(geometry, origin, region, "enqueue_write_image")
        keep, address, nbytes = _host.source(host, "host")
        row_pitch, slice_pitch, needed = _host_pitches(geometry, region, row_pitch, slice_pitch,
                                                       "enqueue_write_image")
        _check_host(nbytes, needed, "enqueue_write_image")
        return self._image_transfer("clEnqueueWriteImage", image, blocking, origin, region, row_pitch, slice_pitch,
                                    keep, address, wait_for)

    def _image_transfer(self, c_name, image, blocking, origin, region, row_pitch, slice_pitch, keep, address,
                        wait_for) -> Event:
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        getattr(checked, c_name)(self.handle, image.handle, bool(blocking), _size_t3(origin), _size_t3(region),
                                 row_pitch, slice_pitch, address, n, events, ctypes.byref(event))
        result = _new_event(event, self)
        if not blocking:
            pin_until_complete(result, keep)
        return result

    def enqueue_copy_image(self, src: Image, dst: Image, src_origin: Sequence[int] = (0, 0, 0),
                           dst_origin: Sequence[int] = (0, 0, 0), region: Optional[Sequence[int]] = None,
                           wait_for: Sequence[Event] = ()) -> Event:
        """Copy a region of pixels from ``src`` to ``dst`` (clEnqueueCopyImage).

        Origins and region in pixels ``(x, y, z)``; region defaults to the rest of ``src``
        from ``src_origin``. The formats must be the same. Raises ValueError for a region
        outside either image, TypeError for non-images, CLError (ImageFormatMismatch,
        MemCopyOverlap for overlapping regions of one image, InvalidValue, ...).
        """
        src_geometry, dst_geometry = _geometry(src), _geometry(dst)
        src_origin, region = _image_region(src_geometry, src_origin, region, "enqueue_copy_image (src)")
        dst_origin, region = _image_region(dst_geometry, dst_origin, region, "enqueue_copy_image (dst)")
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueCopyImage(self.handle, src.handle, dst.handle, _size_t3(src_origin), _size_t3(dst_origin),
                                   _size_t3(region), n, events, ctypes.byref(event))
        return _new_event(event, self)

    def enqueue_fill_image(self, image: Image, color: Sequence[Any], origin: Sequence[int] = (0, 0, 0),
                           region: Optional[Sequence[int]] = None, wait_for: Sequence[Event] = ()) -> Event:
        """Fill a region of ``image`` with one color (clEnqueueFillImage, 1.2).

        ``color``: 4 values (R, G, B, A before the channel order is applied): floats for
        normalized, half and float channel types (passed as float4), ints for
        CL_SIGNED_INT* (int4) and CL_UNSIGNED_INT* (uint4); one float for CL_DEPTH images.
        Origin/region in pixels. Raises ValueError for a wrong number of values, an int out
        of range or a region outside the image; TypeError for a float in an integer image
        or the reverse; FunctionUnavailableError on devices older than 1.2; CLError
        (InvalidValue, InvalidMemObject, ...).
        """
        geometry = _geometry(image)
        origin, region = _image_region(geometry, origin, region, "enqueue_fill_image")
        fill = _fill_color(geometry.format, color)
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueFillImage(self.handle, image.handle, ctypes.byref(fill), _size_t3(origin),
                                   _size_t3(region), n, events, ctypes.byref(event))
        return _new_event(event, self)

    def enqueue_copy_image_to_buffer(self, src: Image, dst: Buffer, src_origin: Sequence[int] = (0, 0, 0),
                                     region: Optional[Sequence[int]] = None, dst_offset: int = 0,
                                     wait_for: Sequence[Event] = ()) -> Event:
        """Copy a region of ``src`` (pixels) into ``dst`` at byte ``dst_offset``, tightly packed
        (clEnqueueCopyImageToBuffer).

        The buffer receives region[0] x region[1] x region[2] x element_size bytes, x
        fastest. Raises ValueError for a region outside the image or bytes past the buffer's
        end, TypeError for wrong object types, CLError (InvalidValue, InvalidMemObject,
        MisalignedSubBufferOffset, ...).
        """
        geometry = _geometry(src)
        if not isinstance(dst, Buffer):
            raise TypeError(f"dst must be a Buffer, got {type(dst).__name__}")
        src_origin, region = _image_region(geometry, src_origin, region, "enqueue_copy_image_to_buffer")
        nbytes = region[0] * region[1] * region[2] * geometry.element_size
        _host.check_range(_count(dst_offset, "dst_offset"), nbytes, dst.size, "enqueue_copy_image_to_buffer (dst)")
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueCopyImageToBuffer(self.handle, src.handle, dst.handle, _size_t3(src_origin),
                                           _size_t3(region), dst_offset, n, events, ctypes.byref(event))
        return _new_event(event, self)

    def enqueue_copy_buffer_to_image(self, src: Buffer, dst: Image, src_offset: int = 0,
                                     dst_origin: Sequence[int] = (0, 0, 0), region: Optional[Sequence[int]] = None,
                                     wait_for: Sequence[Event] = ()) -> Event:
        """Copy tightly packed pixels from ``src`` at byte ``src_offset`` into a region of ``dst``
        (clEnqueueCopyBufferToImage).

        Reads region[0] x region[1] x region[2] x element_size bytes, x fastest. Raises
        ValueError for a region outside the image or bytes past the buffer's end, TypeError
        for wrong object types, CLError (InvalidValue, InvalidMemObject, ...).
        """
        geometry = _geometry(dst)
        if not isinstance(src, Buffer):
            raise TypeError(f"src must be a Buffer, got {type(src).__name__}")
        dst_origin, region = _image_region(geometry, dst_origin, region, "enqueue_copy_buffer_to_image")
        nbytes = region[0] * region[1] * region[2] * geometry.element_size
        _host.check_range(_count(src_offset, "src_offset"), nbytes, src.size, "enqueue_copy_buffer_to_image (src)")
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueCopyBufferToImage(self.handle, src.handle, dst.handle, src_offset, _size_t3(dst_origin),
                                           _size_t3(region), n, events, ctypes.byref(event))
        return _new_event(event, self)

    def enqueue_map_image(self, image: Image, flags: int = raw.CL_MAP_READ | raw.CL_MAP_WRITE,
                          origin: Sequence[int] = (0, 0, 0), region: Optional[Sequence[int]] = None,
                          blocking: bool = True, wait_for: Sequence[Event] = ()) -> MemoryMapping:
        """Map a region of ``image`` into host memory (clEnqueueMapImage).

        ``flags``: CL_MAP_READ, CL_MAP_WRITE or CL_MAP_WRITE_INVALIDATE_REGION bits;
        origin/region in pixels (region defaults to the rest of the image). Returns a
        :class:`~opencl_raw.memory.MemoryMapping` whose ``.row_pitch`` and ``.slice_pitch``
        (bytes) are the driver's, and whose ``.array`` is a strided numpy view of the region
        (C order, channels last; valid once ``.event`` completes for ``blocking=False``).
        Unmap with ``mapping.unmap()``, a ``with`` block or ``enqueue_unmap_mem_object``.
        Raises ValueError for a region outside the image, TypeError for a non-image,
        CLError (MapFailure, InvalidValue, InvalidOperation, ...).
        """
        geometry = _geometry(image)
        origin, region = _image_region(geometry, origin, region, "enqueue_map_image")
        flags = _flags(flags)
        row_pitch, slice_pitch = ctypes.c_size_t(), ctypes.c_size_t()
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        pointer = checked.clEnqueueMapImage(self.handle, image.handle, bool(blocking), flags, _size_t3(origin),
                                            _size_t3(region), ctypes.byref(row_pitch), ctypes.byref(slice_pitch),
                                            n, events, ctypes.byref(event))
        rp, sp = row_pitch.value, slice_pitch.value
        rows, slices = geometry.rows_slices(region)
        nbytes = (slices - 1) * (sp or rp) + (rows - 1) * rp + region[0] * geometry.element_size
        mapping = MemoryMapping(self, image, pointer or 0, nbytes, _new_event(event, self), rp, sp)
        dtype = geometry.dtype
        t = geometry.image_type
        if t in (IMAGE1D, IMAGE1D_BUFFER):
            strides: Tuple[int, ...] = (geometry.element_size,)
        elif t == IMAGE1D_ARRAY:
            strides = (sp or rp, geometry.element_size)
        elif t == IMAGE2D:
            strides = (rp, geometry.element_size)
        else:
            strides = (sp, rp, geometry.element_size)
        strides += (dtype.itemsize,) * len(geometry.channel_axis)
        shape = geometry.numpy_shape(region)
        if not pointer:
            mapping._attach(None, dtype, shape)
        else:
            mapping._attach({"shape": shape, "strides": strides, "typestr": dtype.str, "descr": dtype.descr,
                             "data": (pointer, _read_only_map(flags)), "version": 3}, dtype, None)
        return mapping


# --------------------------------------------------------------------------- #
# Context methods
# --------------------------------------------------------------------------- #

def _image_spec(flags, format, shape, image_type, host_buffer, row_pitch, slice_pitch, buffer):
    """Validate create_image's arguments: (cl_image_format, cl_image_desc, keep-alive, host address, fields)."""
    flags = _flags(flags)
    fmt = image_format(format)
    desc_in = shape if isinstance(shape, raw.cl_image_desc) else None
    if desc_in is not None:
        if image_type is not None or row_pitch or slice_pitch or buffer is not None:
            raise ValueError("with a cl_image_desc, give image_type, pitches and buffer inside it")
        image_type = desc_in.image_type
        dims = (desc_in.image_width,)
        if image_type == IMAGE1D_ARRAY:
            dims = (desc_in.image_width, desc_in.image_array_size)
        elif image_type == IMAGE2D:
            dims = (desc_in.image_width, desc_in.image_height)
        elif image_type == IMAGE2D_ARRAY:
            dims = (desc_in.image_width, desc_in.image_height, desc_in.image_array_size)
        elif image_type == IMAGE3D:
            dims = (desc_in.image_width, desc_in.image_height, desc_in.image_depth)
        row_pitch, slice_pitch = desc_in.image_row_pitch, desc_in.image_slice_pitch
        if desc_in.buffer:
            buffer = MemObject.from_handle(desc_in.buffer, retain=True)
    else:
        if isinstance(shape, int) and not isinstance(shape, bool):
            shape = (shape,)
        try:
            dims = tuple(_index(v, "shape values") for v in shape)
        except TypeError:
            if isinstance(shape, (list, tuple)):
                raise
            raise TypeError(f"shape must be (width[, height[, depth or array size]]) or a cl_image_desc, "
                            f"got {type(shape).__name__}") from None
        if image_type is None:
            inferred = {1: IMAGE1D_BUFFER if buffer is not None else IMAGE1D, 2: IMAGE2D, 3: IMAGE3D}
            if len(dims) not in inferred:
                raise ValueError(f"shape {dims} must have 1 to 3 values (width first)")
            image_type = inferred[len(dims)]
    image_type = _index(image_type, "image_type")
    if image_type not in _DIMENSIONS:
        raise ValueError(f"image_type {image_type:#x} is not an image type (CL_MEM_OBJECT_IMAGE*)")
    kind = _enum(_info.MemObjectType, image_type)
    if len(dims) != _DIMENSIONS[image_type]:
        raise ValueError(f"a {kind!r} image has a shape of {_DIMENSIONS[image_type]} values "
                         f"(width first), got {dims}")
    if any(v < 1 for v in dims):
        raise ValueError(f"shape {dims} must be positive (pixels)")
    if any(v > SIZE_MAX for v in dims):
        raise ValueError(f"shape {dims}: every extent must fit a size_t (at most 2**{SIZE_MAX.bit_length()}-1)")
    width = dims[0]
    height = dims[1] if image_type in (IMAGE2D, IMAGE2D_ARRAY, IMAGE3D) else 0
    depth = dims[2] if image_type == IMAGE3D else 0
    array_size = dims[1] if image_type == IMAGE1D_ARRAY else dims[2] if image_type == IMAGE2D_ARRAY else 0
    row_pitch = _count(row_pitch, "row_pitch")
    slice_pitch = _count(slice_pitch, "slice_pitch")
    element = fmt.element_size
    host_flags = flags & (raw.CL_MEM_USE_HOST_PTR | raw.CL_MEM_COPY_HOST_PTR | raw.CL_MEM_ALLOC_HOST_PTR)
    keep, address = None, None
    if buffer is not None:
        if not isinstance(buffer, Buffer):
            raise TypeError(f"buffer must be a Buffer, got {type(buffer).__name__}")
        if image_type not in (IMAGE1D_BUFFER, IMAGE2D):
            raise ValueError(f"a buffer can back a 1D buffer image or a 2D image, not a {kind!r} image")
        if host_buffer is not None or host_flags:
            raise ValueError("an image created from a buffer takes no host_buffer and no *_HOST_PTR flags")
        if slice_pitch:
            raise ValueError("an image created from a buffer has no slice_pitch")
        if element is not None:
            rp = row_pitch or width * element
            needed = width * element if image_type == IMAGE1D_BUFFER else rp * max(height, 1)
            if row_pitch and row_pitch < width * element:
                raise ValueError(f"row_pitch {row_pitch} is less than width x element size = {width * element}")
            if needed > buffer.size:
                raise ValueError(f"the image needs {needed} bytes, the buffer has {buffer.size}")
    elif image_type == IMAGE1D_BUFFER:
        raise ValueError("a CL_MEM_OBJECT_IMAGE1D_BUFFER image needs buffer=")
    if host_buffer is not None:
        use_copy = flags & (raw.CL_MEM_USE_HOST_PTR | raw.CL_MEM_COPY_HOST_PTR)
        if not use_copy:
            raise ValueError("host_buffer needs CL_MEM_COPY_HOST_PTR or CL_MEM_USE_HOST_PTR in flags")
        if flags & raw.CL_MEM_USE_HOST_PTR:
            keep, address, nbytes = _host.destination(host_buffer, "host_buffer")
        else:
            keep, address, nbytes = _host.source(host_buffer, "host_buffer")
        if element is not None:
            row_bytes = width * element
            rp = row_pitch or row_bytes
            if rp < row_bytes or rp % element:
                raise ValueError(f"row_pitch {row_pitch} must be 0 or a multiple of the element size {element} "
                                 f"of at least width x element size = {row_bytes}")
            if image_type in _SLICED:
                rows = 1 if image_type == IMAGE1D_ARRAY else height
                slices = array_size if image_type != IMAGE3D else depth
                sp = slice_pitch or rp * rows
                if sp < rp * rows or sp % rp:
                    raise ValueError(f"slice_pitch {slice_pitch} must be 0 or a multiple of the row pitch {rp} "
                                     f"of at least {rp * rows}")
                needed = sp * slices
                if image_type == IMAGE1D_ARRAY and slice_pitch:
                    row_pitch = slice_pitch       # see _host_pitches: PoCL steps 1D array images by row pitch
            else:
                if slice_pitch:
                    raise ValueError(f"slice_pitch must be 0 for a {kind!r} image, got {slice_pitch}")
                needed = rp * max(height, 1)
            if needed > nbytes:
                raise ValueError(f"the image needs {needed} bytes of host_buffer, it has {nbytes}")
    elif flags & (raw.CL_MEM_USE_HOST_PTR | raw.CL_MEM_COPY_HOST_PTR):
        raise ValueError("CL_MEM_COPY_HOST_PTR / CL_MEM_USE_HOST_PTR need a host_buffer")
    elif buffer is None and (row_pitch or slice_pitch):
        raise ValueError("row_pitch and slice_pitch describe host_buffer (or a buffer's rows): "
                         "without one they must be 0")
    if desc_in is not None:
        desc = raw.cl_image_desc.from_buffer_copy(desc_in)
    else:
        desc = raw.cl_image_desc(image_type=image_type, image_width=width, image_height=height, image_depth=depth,
                                 image_array_size=array_size, image_row_pitch=row_pitch,
                                 image_slice_pitch=slice_pitch, num_mip_levels=0, num_samples=0)
        if buffer is not None:
            desc.buffer = buffer.handle
    fields = (image_type, width, height, depth, row_pitch, slice_pitch, buffer)
    if element is not None and buffer is None:
        # the pixels the driver allocates; PoCL answers CL_INVALID_BUFFER_SIZE past the limit
        nbytes = width * max(height, 1) * max(depth, 1) * max(array_size, 1) * element
        fields += (nbytes,)
    else:
        fields += (None,)
    return flags, fmt.as_c(), desc, keep, address, fields


def _check_image_bytes(context, nbytes: Optional[int], function: str) -> None:
    """InvalidImageSize before the driver for an image larger than CL_DEVICE_MAX_MEM_ALLOC_SIZE."""
    if nbytes is not None:
        check_alloc_size(context, nbytes, InvalidImageSize, function)


def _adopt_image(handle, flags: int, keep, buffer: Optional[Buffer] = None) -> Image:
    image = Image.from_handle(handle, retain=False)
    if flags & raw.CL_MEM_USE_HOST_PTR:
        _pins.until_destroyed(handle, keep)
    # The image uses the buffer's storage, and a driver may hold no reference to the buffer
    # (NVIDIA's counts show none): the Image object holds the Buffer object.
    image._buffer = buffer
    return image


class _ContextImages:
    """Context methods that create images and list image formats."""

    def get_supported_image_formats(self, flags: int = raw.CL_MEM_READ_WRITE,
                                    image_type: int = raw.CL_MEM_OBJECT_IMAGE2D) -> List[ImageFormat]:
        """The image formats the context supports for ``flags`` and ``image_type``
        (clGetSupportedImageFormats, count first, then the list).

        Returns a list of :class:`ImageFormat` ``(channel_order, channel_type)`` with
        ChannelOrder / ChannelType members; empty where images are not supported.
        Raises TypeError for non-ints, CLError (InvalidValue for a bad flags or type).
        """
        flags = _flags(flags)
        image_type = _index(image_type, "image_type")
        if not 0 <= image_type <= 0xFFFFFFFF:
            raise ValueError(f"image_type {image_type:#x} is not a cl_mem_object_type")
        count = raw.cl_uint()
        checked.clGetSupportedImageFormats(self.handle, flags, image_type, 0, None, ctypes.byref(count))
        if not count.value:
            return []
        formats = (raw.cl_image_format * count.value)()
        checked.clGetSupportedImageFormats(self.handle, flags, image_type, count.value, formats, None)
        return [image_format(f) for f in formats]

    def create_image(self, flags: int, format: Any, shape: Any, image_type: Optional[int] = None,
                     host_buffer: Any = None, row_pitch: int = 0, slice_pitch: int = 0,
                     buffer: Optional[Buffer] = None) -> Image:
        """An image (clCreateImage, 1.2; clCreateImage2D / clCreateImage3D on older devices).

        ``format``: ``(channel_order, channel_type)``, an :class:`ImageFormat` or a
        ``raw.cl_image_format``. ``shape``: pixels in OpenCL order, width first:
        ``(width,)`` 1D or 1D buffer, ``(width, height)`` 2D, ``(width, height, depth)`` 3D,
        ``(width, array_size)`` 1D array, ``(width, height, array_size)`` 2D array; or a
        whole ``raw.cl_image_desc``. ``image_type`` (CL_MEM_OBJECT_IMAGE*) is inferred from
        the shape's length (1D, 2D, 3D; 1D buffer when ``buffer`` is given) and needed for
        arrays. ``host_buffer`` (with CL_MEM_COPY_HOST_PTR or CL_MEM_USE_HOST_PTR; kept alive
        while the image exists for USE_HOST_PTR) holds rows ``row_pitch`` bytes apart and
        slices ``slice_pitch`` bytes apart (0: tightly packed). ``buffer``: the Buffer
        behind a 1D buffer image (or a 2D image from a buffer).
        On devices older than OpenCL 1.2 2D and 3D images use the deprecated
        clCreateImage2D / clCreateImage3D; other types raise FunctionUnavailableError there.
        Raises ValueError for a shape that does not fit the type, non-positive extents, bad
        pitches, a host_buffer or buffer too small or disagreeing with the flags; TypeError
        for bad types; CLError (ImageFormatNotSupported, InvalidImageFormatDescriptor,
        InvalidImageDescriptor, InvalidImageSize, InvalidHostPtr, InvalidValue,
        InvalidOperation when no device supports images, MemObjectAllocationFailure);
        InvalidImageSize before the driver when the pixels (width x height x depth or
        array size x element size, bytes) exceed CL_DEVICE_MAX_MEM_ALLOC_SIZE of every device
        of the context (the message names the limit).
        """
        flags, fmt, desc, keep, address, fields = _image_spec(flags, format, shape, image_type, host_buffer,
                                                              row_pitch, slice_pitch, buffer)
        kind, width, height, depth, row_pitch, slice_pitch, buffer, nbytes = fields
        _check_image_bytes(self, nbytes, "clCreateImage")
        devices = self.get_info(raw.CL_CONTEXT_DEVICES)
        if any(_gate.device_version(d) < (1, 2) for d in devices):
            if kind == IMAGE2D and buffer is None:
                handle = checked.clCreateImage2D(self.handle, flags, ctypes.byref(fmt), width, height, row_pitch,
                                                 address)
                return _adopt_image(handle, flags, keep)
            if kind == IMAGE3D:
                handle = checked.clCreateImage3D(self.handle, flags, ctypes.byref(fmt), width, height, depth,
                                                 row_pitch, slice_pitch, address)
                return _adopt_image(handle, flags, keep)
            _gate.require("clCreateImage", devices)
        handle = checked.clCreateImage(self.handle, flags, ctypes.byref(fmt), ctypes.byref(desc), address)
        return _adopt_image(handle, flags, keep, buffer)

    def create_image_with_properties(self, properties: Properties, flags: int, format: Any, shape: Any,
                                     image_type: Optional[int] = None, host_buffer: Any = None, row_pitch: int = 0,
                                     slice_pitch: int = 0, buffer: Optional[Buffer] = None) -> Image:
        """An image with cl_mem_properties (clCreateImageWithProperties, 3.0).

        ``properties``: None, a mapping or (name, value) pairs (3.0 core defines none);
        the other arguments as :meth:`create_image`. Raises as create_image, and
        FunctionUnavailableError on devices older than 3.0, CLError InvalidProperty.
        """
        flags, fmt, desc, keep, address, fields = _image_spec(flags, format, shape, image_type, host_buffer,
                                                              row_pitch, slice_pitch, buffer)
        props = properties_array(properties, raw.cl_mem_properties)
        _check_image_bytes(self, fields[-1], "clCreateImageWithProperties")
        handle = checked.clCreateImageWithProperties(self.handle, props, flags, ctypes.byref(fmt),
                                                     ctypes.byref(desc), address)
        return _adopt_image(handle, flags, keep, fields[6])






__all__ = ["Image", "ImageFormat", "image_format"]
