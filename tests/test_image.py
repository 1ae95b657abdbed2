"""Images (opencl_raw/image.py): formats, creation of the six image types, info, read / write /
copy / fill / map round trips against numpy, image <-> buffer copies, a sampling kernel, and the
validation that happens before the driver is called."""
from __future__ import annotations

import gc
import math
import time
import weakref

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import _gate, checked, errors, raw
from opencl_raw.image import ImageFormat

POCL = "Portable Computing Language"

T1D, T1DB, T1DA = raw.CL_MEM_OBJECT_IMAGE1D, raw.CL_MEM_OBJECT_IMAGE1D_BUFFER, raw.CL_MEM_OBJECT_IMAGE1D_ARRAY
T2D, T2DA, T3D = raw.CL_MEM_OBJECT_IMAGE2D, raw.CL_MEM_OBJECT_IMAGE2D_ARRAY, raw.CL_MEM_OBJECT_IMAGE3D
RW = raw.CL_MEM_READ_WRITE
COPY = raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR

R_FLOAT = (raw.CL_R, raw.CL_FLOAT)
RGBA_UNORM8 = (raw.CL_RGBA, raw.CL_UNORM_INT8)
RGBA_UINT32 = (raw.CL_RGBA, raw.CL_UNSIGNED_INT32)
RGBA_HALF = (raw.CL_RGBA, raw.CL_HALF_FLOAT)
BGRA_UNORM8 = (raw.CL_BGRA, raw.CL_UNORM_INT8)
RGBA_SINT16 = (raw.CL_RGBA, raw.CL_SIGNED_INT16)

# (image type, OpenCL shape width first, numpy shape of the pixels without the channel axis)
SIX_TYPES = [
    (T1D, (7,), (7,)),
    (T1DB, (7,), (7,)),
    (T1DA, (7, 3), (3, 7)),
    (T2D, (7, 5), (5, 7)),
    (T2DA, (7, 5, 3), (3, 5, 7)),
    (T3D, (7, 5, 3), (3, 5, 7)),
]
FORMATS = [R_FLOAT, RGBA_UNORM8, RGBA_UINT32, RGBA_HALF, BGRA_UNORM8, RGBA_SINT16]
# format -> (numpy dtype of a channel, channels, element size in bytes)
LAYOUT = {R_FLOAT: (np.float32, 1, 4), RGBA_UNORM8: (np.uint8, 4, 4), RGBA_UINT32: (np.uint32, 4, 16),
          RGBA_HALF: (np.float16, 4, 8), BGRA_UNORM8: (np.uint8, 4, 4), RGBA_SINT16: (np.int16, 4, 8)}


def _random(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.random(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def _host_shape(fmt, pixels):
    _, channels, _ = LAYOUT[fmt]
    return pixels + ((channels,) if channels > 1 else ())


def _settled(read, expected, timeout=10.0):
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.01)
        value = read()
    return value


IMAGE_COMMANDS = ("clCreateImage", "clCreateImage2D", "clCreateImage3D", "clEnqueueReadImage",
                  "clEnqueueWriteImage", "clEnqueueCopyImage", "clEnqueueFillImage", "clEnqueueCopyImageToBuffer",
                  "clEnqueueCopyBufferToImage", "clEnqueueMapImage")


@pytest.fixture
def refuse_driver(monkeypatch):
    """Call it to make any image function reaching the driver fail the test: validation must come first."""
    def refuse(*args):
        raise AssertionError("the call reached the driver")

    def install():
        for name in IMAGE_COMMANDS:
            monkeypatch.setattr(checked, name, refuse)
    return install


# --------------------------------------------------------------------------- #
# formats
# --------------------------------------------------------------------------- #

def test_supported_image_formats(context, device):
    formats = context.get_supported_image_formats(RW, T2D)
    assert formats and all(isinstance(f, ImageFormat) for f in formats)
    assert all(isinstance(f.channel_order, cl.ChannelOrder) and isinstance(f.channel_type, cl.ChannelType)
               for f in formats)
    # the minimum list of OpenCL 1.2 and later: RGBA with UNORM_INT8 and FLOAT, R with FLOAT, ...
    for required in (RGBA_UNORM8, (raw.CL_RGBA, raw.CL_FLOAT), R_FLOAT, RGBA_UINT32, RGBA_HALF, RGBA_SINT16):
        assert required in formats
    assert len(set(formats)) == len(formats)
    assert formats == context.get_supported_image_formats()   # defaults: CL_MEM_READ_WRITE, 2D
    for image_type in (T1D, T1DB, T1DA, T2DA, T3D):
        assert RGBA_UNORM8 in context.get_supported_image_formats(raw.CL_MEM_READ_ONLY, image_type)
    with pytest.raises(errors.InvalidValue):
        context.get_supported_image_formats(RW, raw.CL_MEM_OBJECT_BUFFER)
    with pytest.raises(TypeError):
        context.get_supported_image_formats(RW, "2d")
    fmt = ImageFormat(cl.ChannelOrder.RGBA, cl.ChannelType.UNORM_SHORT_565)
    assert fmt.packed and fmt.element_size == 2 and fmt.dtype == np.uint16
    assert ImageFormat(cl.ChannelOrder.RGBA, cl.ChannelType.HALF_FLOAT).element_size == 8


# --------------------------------------------------------------------------- #
# the six image types: create, info, write, read
# --------------------------------------------------------------------------- #

def _make(context, image_type, shape, fmt, flags=RW, host_buffer=None):
    """(image, backing buffer or None) of ``image_type``."""
    backing = None
    if image_type == T1DB:
        backing = context.create_buffer(RW, shape[0] * LAYOUT[fmt][2])
        return context.create_image(flags, fmt, shape, buffer=backing), backing
    return context.create_image(flags, fmt, shape, image_type, host_buffer=host_buffer), backing


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f"{cl.ChannelOrder(f[0]).name}-{cl.ChannelType(f[1]).name}")
@pytest.mark.parametrize("image_type, shape, pixels", SIX_TYPES, ids=["1d", "1d_buffer", "1d_array", "2d",
                                                                      "2d_array", "3d"])
def test_six_types_round_trip_and_info(context, queue, image_type, shape, pixels, fmt):
    dtype, channels, element = LAYOUT[fmt]
    image, backing = _make(context, image_type, shape, fmt)
    assert type(image) is cl.Image and isinstance(image, cl.MemObject)
    assert image.type == image_type and isinstance(image.type, cl.MemObjectType)
    assert image.format == fmt and image.element_size == element
    assert image.shape == _host_shape(fmt, pixels) and image.dtype == dtype
    width = shape[0]
    height = shape[1] if image_type in (T2D, T2DA, T3D) else 0
    depth = shape[2] if image_type == T3D else 0
    array_size = {T1DA: shape[-1], T2DA: shape[-1]}.get(image_type, 0)
    assert (image.width, image.height, image.depth, image.array_size) == (width, height, depth, array_size)
    if image_type != T1DB:                               # the 1D buffer image: its own test below
        assert image.row_pitch == width * element
    expected_slice = {T1DA: width * element, T2DA: width * element * height, T3D: width * element * height}
    assert image.slice_pitch == expected_slice.get(image_type, 0)
    assert image.size >= int(np.prod(pixels)) * element
    assert image.num_mip_levels == 0 and image.num_samples == 0
    if backing is not None:
        assert image.buffer == backing
    else:
        assert image.buffer is None

    data = _random(_host_shape(fmt, pixels), dtype, seed=image_type)
    queue.enqueue_write_image(image, data)
    back = queue.enqueue_read_image(image)
    assert back.shape == data.shape and back.dtype == data.dtype
    np.testing.assert_array_equal(back, data)
    if backing is not None:                              # the 1D buffer image is the buffer's bytes
        np.testing.assert_array_equal(queue.enqueue_read_buffer(backing).view(dtype).reshape(data.shape), data)
    again = cl.MemObject.from_handle(image.handle)       # wrapping picks Image from CL_MEM_TYPE
    assert type(again) is cl.Image and again == image and again.shape == image.shape
    again.release()
    image.release()
    if backing is not None:
        backing.release()


@pytest.mark.deviation("NVIDIA CUDA", "CL_IMAGE_ROW_PITCH of a 1D image buffer is 0 (the specification: the "
                       "image_row_pitch given, else CL_IMAGE_WIDTH x CL_IMAGE_ELEMENT_SIZE) (NVIDIA 580)")
def test_one_d_buffer_image_row_pitch(context):
    # clGetImageInfo, CL_IMAGE_ROW_PITCH: no exception for CL_MEM_OBJECT_IMAGE1D_BUFFER (unlike
    # CL_IMAGE_SLICE_PITCH, which is 0 for 1D, 1D buffer and 2D images)
    image, backing = _make(context, T1DB, (7,), R_FLOAT)
    assert (image.row_pitch, image.slice_pitch) == (7 * 4, 0)
    image.release()
    backing.release()


def test_copy_host_ptr_and_use_host_ptr(context, queue):
    data = _random((4, 6, 4), np.uint8, seed=3)
    copied = context.create_image(COPY, RGBA_UNORM8, (6, 4), host_buffer=data)
    data_before = data.copy()
    data[:] = 0                                          # the image holds a copy
    np.testing.assert_array_equal(queue.enqueue_read_image(copied), data_before)
    host = _random((3, 4, 5), np.float32, seed=4)
    used = context.create_image(raw.CL_MEM_READ_WRITE | raw.CL_MEM_USE_HOST_PTR, R_FLOAT, (5, 4, 3),
                                host_buffer=host)
    assert used.host_ptr == host.ctypes.data
    np.testing.assert_array_equal(queue.enqueue_read_image(used), host)
    alive = weakref.ref(host)
    del host
    gc.collect()
    assert alive() is not None                           # kept while the cl_mem uses it
    used.release()
    assert _settled(lambda: alive() is None, True)
    # pitched host data: rows 32 bytes apart (6 pixels x 4 bytes = 24 used)
    padded = np.zeros((4, 8, 4), dtype=np.uint8)
    padded[:, :6] = data_before
    pitched = context.create_image(COPY, RGBA_UNORM8, (6, 4), host_buffer=padded, row_pitch=32)
    np.testing.assert_array_equal(queue.enqueue_read_image(pitched), data_before)
    for obj in (copied, pitched):
        obj.release()


def test_create_from_image_desc(context, queue):
    desc = raw.cl_image_desc(image_type=T2DA, image_width=4, image_height=3, image_array_size=2)
    image = context.create_image(RW, R_FLOAT, desc)
    assert (image.type, image.width, image.height, image.array_size) == (T2DA, 4, 3, 2)
    data = _random((2, 3, 4), np.float32)
    queue.enqueue_write_image(image, data)
    np.testing.assert_array_equal(queue.enqueue_read_image(image), data)
    image.release()


def test_create_image_with_properties(context, queue):
    image = context.create_image_with_properties(None, COPY, RGBA_UINT32, (3, 2),
                                                 host_buffer=np.arange(24, dtype=np.uint32))
    assert image.properties == ()
    np.testing.assert_array_equal(queue.enqueue_read_image(image), np.arange(24, dtype=np.uint32).reshape(2, 3, 4))
    image.release()
    empty = context.create_image_with_properties({}, RW, R_FLOAT, (8,))
    assert empty.type == T1D
    empty.release()
    with pytest.raises(errors.InvalidProperty):
        context.create_image_with_properties({0x1234: 1}, RW, R_FLOAT, (8,))


# --------------------------------------------------------------------------- #
# regions and pitches
# --------------------------------------------------------------------------- #

def test_read_and_write_regions_with_pitches(context, queue):
    data = _random((4, 5, 6), np.float32, seed=5)         # 3D R/FLOAT: depth 4, height 5, width 6
    image = context.create_image(RW, R_FLOAT, (6, 5, 4), T3D)
    queue.enqueue_write_image(image, data)
    # region x 1..3, y 2..3, z 1..2 into host rows of 32 bytes and slices of 96 bytes
    host = np.full(96 * 2 // 4, np.nan, dtype=np.float32)
    event = queue.enqueue_read_image(image, host, origin=(1, 2, 1), region=(3, 2, 2), row_pitch=32, slice_pitch=96)
    assert isinstance(event, cl.Event) and event.command_type == cl.CommandType.READ_IMAGE
    view = np.lib.stride_tricks.as_strided(host, shape=(2, 2, 3), strides=(96, 32, 4))
    np.testing.assert_array_equal(view, data[1:3, 2:4, 1:4])
    assert np.isnan(host.reshape(2, 24)[:, 3:8]).all() and np.isnan(host.reshape(2, 24)[:, 11:]).all()
    # a packed read of the same region with host=None
    np.testing.assert_array_equal(queue.enqueue_read_image(image, origin=(1, 2, 1), region=(3, 2, 2)),
                                  data[1:3, 2:4, 1:4])
    # origin only: the region defaults to the rest of the image
    np.testing.assert_array_equal(queue.enqueue_read_image(image, origin=(4, 3, 2)), data[2:, 3:, 4:])
    # write a pitched region back
    patch = np.zeros(40 // 4 * 3, dtype=np.float32)
    patch_view = np.lib.stride_tricks.as_strided(patch, shape=(3, 2), strides=(40 // 1, 4))
    patch_view[:] = [[-1, -2], [-3, -4], [-5, -6]]
    queue.enqueue_write_image(image, patch, origin=(4, 0, 3), region=(2, 3, 1), row_pitch=40)
    expected = data.copy()
    expected[3, 0:3, 4:6] = [[-1, -2], [-3, -4], [-5, -6]]
    np.testing.assert_array_equal(queue.enqueue_read_image(image), expected)
    image.release()


@pytest.mark.deviation("NVIDIA CUDA", "clEnqueueReadImage of a 3D image region (3, 2, 2) with row_pitch 32 and "
                       "slice_pitch 80 fails with CL_INVALID_VALUE (the specification asks only row_pitch >= 3 x 4 "
                       "bytes and slice_pitch >= row_pitch x 2 rows; it does not ask for a multiple) (NVIDIA 580)")
def test_read_image_slice_pitch_not_a_multiple_of_the_row_pitch(context, queue):
    data = _random((4, 5, 6), np.float32, seed=5)
    image = context.create_image(COPY, R_FLOAT, (6, 5, 4), T3D, host_buffer=data)
    host = np.full(80 * 2 // 4, np.nan, dtype=np.float32)
    queue.enqueue_read_image(image, host, origin=(1, 2, 1), region=(3, 2, 2), row_pitch=32, slice_pitch=80)
    view = np.lib.stride_tricks.as_strided(host, shape=(2, 2, 3), strides=(80, 32, 4))
    np.testing.assert_array_equal(view, data[1:3, 2:4, 1:4])
    image.release()


def test_one_d_array_region_counts_images_in_y(context, queue):
    data = _random((5, 8, 4), np.uint8, seed=6)         # 5 images of 8 RGBA pixels
    image = context.create_image(COPY, RGBA_UNORM8, (8, 5), T1DA, host_buffer=data)
    np.testing.assert_array_equal(queue.enqueue_read_image(image, origin=(2, 1), region=(3, 3)), data[1:4, 2:5])
    host = np.zeros(3 * 64, dtype=np.uint8)              # each image 64 bytes apart in host memory
    queue.enqueue_read_image(image, host, origin=(2, 1), region=(3, 3), slice_pitch=64)
    np.testing.assert_array_equal(host.reshape(3, 64)[:, :12].reshape(3, 3, 4), data[1:4, 2:5])
    assert not host.reshape(3, 64)[:, 12:].any()
    # writing with a slice pitch, and creating from host data whose images are 64 bytes apart
    padded = np.zeros((5, 64), dtype=np.uint8)
    padded[:, :32] = data.reshape(5, 32)
    queue.enqueue_write_image(image, np.zeros((5, 64), np.uint8), slice_pitch=64)
    assert not queue.enqueue_read_image(image).any()
    queue.enqueue_write_image(image, padded, slice_pitch=64)
    np.testing.assert_array_equal(queue.enqueue_read_image(image), data)
    created = context.create_image(COPY, RGBA_UNORM8, (8, 5), T1DA, host_buffer=padded, slice_pitch=64)
    np.testing.assert_array_equal(queue.enqueue_read_image(created), data)
    image.release()
    created.release()


def test_non_blocking_write_pins_the_host_object(context, queue):
    gate = cl.Event.from_handle(checked.clCreateUserEvent(context), retain=False)
    image = context.create_image(RW, R_FLOAT, (16, 16))
    host = np.arange(256, dtype=np.float32).reshape(16, 16)
    alive = weakref.ref(host)
    event = queue.enqueue_write_image(image, host, blocking=False, wait_for=[gate])
    del host
    gc.collect()
    assert alive() is not None                           # the driver has not read it yet
    checked.clSetUserEventStatus(gate, raw.CL_COMPLETE)
    event.wait()
    assert _settled(lambda: alive() is None, True)
    np.testing.assert_array_equal(queue.enqueue_read_image(image), np.arange(256, dtype=np.float32).reshape(16, 16))
    for obj in (event, gate, image):
        obj.release()


# --------------------------------------------------------------------------- #
# copy, fill, buffers
# --------------------------------------------------------------------------- #

def test_copy_image_regions_and_types(context, queue):
    data = _random((4, 5, 4), np.uint8, seed=7)
    src = context.create_image(COPY, RGBA_UNORM8, (5, 4), host_buffer=data)
    dst = context.create_image(COPY, RGBA_UNORM8, (5, 4), host_buffer=np.zeros_like(data))
    event = queue.enqueue_copy_image(src, dst, (1, 1), (0, 2), (3, 2))
    assert event.command_type == cl.CommandType.COPY_IMAGE
    expected = np.zeros_like(data)
    expected[2:4, 0:3] = data[1:3, 1:4]
    np.testing.assert_array_equal(queue.enqueue_read_image(dst), expected)
    # a 2D image into slice 1 of a 3D image
    volume = context.create_image(COPY, RGBA_UNORM8, (5, 4, 3), T3D, host_buffer=np.zeros((3, 4, 5, 4), np.uint8))
    queue.enqueue_copy_image(src, volume, dst_origin=(0, 0, 1))
    out = queue.enqueue_read_image(volume)
    np.testing.assert_array_equal(out[1], data)
    assert not out[0].any() and not out[2].any()
    # whole-image copy with default arguments
    queue.enqueue_copy_image(src, dst)
    np.testing.assert_array_equal(queue.enqueue_read_image(dst), data)
    for obj in (src, dst, volume):
        obj.release()


def test_copy_image_driver_errors(context, queue):
    rgba = context.create_image(RW, RGBA_UNORM8, (4, 4))
    red = context.create_image(RW, R_FLOAT, (4, 4))
    with pytest.raises(errors.ImageFormatMismatch) as caught:
        queue.enqueue_copy_image(rgba, red)
    assert caught.value.function == "clEnqueueCopyImage"
    with pytest.raises(errors.MemCopyOverlap):
        queue.enqueue_copy_image(rgba, rgba, (0, 0), (1, 0), (3, 3))
    rgba.release()
    red.release()


def test_fill_image(context, queue):
    image = context.create_image(COPY, RGBA_UNORM8, (6, 4), host_buffer=np.zeros((4, 6, 4), np.uint8))
    event = queue.enqueue_fill_image(image, (0.0, 0.2, 1.0, 0.6), origin=(1, 1), region=(3, 2))
    assert event.command_type == cl.CommandType.FILL_IMAGE
    expected = np.zeros((4, 6, 4), np.uint8)
    expected[1:3, 1:4] = [0, 51, 255, 153]               # normalized floats x 255
    np.testing.assert_array_equal(queue.enqueue_read_image(image), expected)
    # BGRA stores the same color with B and R swapped
    bgra = context.create_image(RW, BGRA_UNORM8, (2, 2))
    queue.enqueue_fill_image(bgra, (1.0, 0.2, 0.0, 0.6))
    np.testing.assert_array_equal(queue.enqueue_read_image(bgra), np.tile([0, 51, 255, 153], (2, 2, 1)))
    uints = context.create_image(RW, RGBA_UINT32, (3, 3))
    queue.enqueue_fill_image(uints, (1, 2 ** 32 - 1, 0, 7))
    np.testing.assert_array_equal(queue.enqueue_read_image(uints), np.tile(np.array([1, 2 ** 32 - 1, 0, 7],
                                                                                    np.uint32), (3, 3, 1)))
    ints = context.create_image(RW, RGBA_SINT16, (2, 1))
    queue.enqueue_fill_image(ints, (-5, 4, -32768, 32767))
    np.testing.assert_array_equal(queue.enqueue_read_image(ints), [[[-5, 4, -32768, 32767]] * 2])
    floats = context.create_image(RW, R_FLOAT, (5, 2, 2), T3D)
    queue.enqueue_fill_image(floats, (2.5, 0, 0, 0), origin=(0, 0, 1), region=(5, 2, 1))
    out = queue.enqueue_read_image(floats)
    assert (out[1] == 2.5).all()
    for obj in (image, bgra, uints, ints, floats):
        obj.release()


def test_fill_image_validation(context, queue, refuse_driver):
    u32 = context.create_image(RW, RGBA_UINT32, (3, 3))
    f32 = context.create_image(RW, R_FLOAT, (3, 3))
    refuse_driver()
    with pytest.raises(TypeError, match="ints"):
        queue.enqueue_fill_image(u32, (1.5, 0, 0, 0))
    with pytest.raises(ValueError, match="outside"):
        queue.enqueue_fill_image(u32, (-1, 0, 0, 0))
    with pytest.raises(ValueError, match="4 values"):
        queue.enqueue_fill_image(f32, (1.0, 0.0, 0.0))
    with pytest.raises(TypeError, match="floats"):
        queue.enqueue_fill_image(f32, ("1", 0, 0, 0))
    with pytest.raises(ValueError, match="extent"):
        queue.enqueue_fill_image(f32, (1.0, 0, 0, 0), origin=(2, 2), region=(2, 1))
    u32.release()
    f32.release()


def test_copies_between_images_and_buffers(context, queue):
    data = _random((4, 6), np.float32, seed=8)
    image = context.create_image(COPY, R_FLOAT, (6, 4), host_buffer=data)
    buffer = context.create_buffer(RW, 64)
    queue.enqueue_copy_image_to_buffer(image, buffer, (1, 1), (4, 2), dst_offset=8).wait()
    out = queue.enqueue_read_buffer(buffer).view(np.float32)
    np.testing.assert_array_equal(out[2:10].reshape(2, 4), data[1:3, 1:5])   # x fastest, tightly packed
    # and back into another place of the image
    event = queue.enqueue_copy_buffer_to_image(buffer, image, 8, (2, 2), (4, 2))
    assert event.command_type == cl.CommandType.COPY_BUFFER_TO_IMAGE
    expected = data.copy()
    expected[2:4, 2:6] = data[1:3, 1:5]
    np.testing.assert_array_equal(queue.enqueue_read_image(image), expected)
    # a 3D RGBA image through a buffer and back
    volume_data = _random((2, 3, 4, 4), np.uint32, seed=9)
    volume = context.create_image(COPY, RGBA_UINT32, (4, 3, 2), T3D, host_buffer=volume_data)
    whole = context.create_buffer(RW, volume_data.nbytes)
    queue.enqueue_copy_image_to_buffer(volume, whole)
    np.testing.assert_array_equal(queue.enqueue_read_buffer(whole).view(np.uint32).reshape(volume_data.shape),
                                  volume_data)
    # validation before the driver
    with pytest.raises(ValueError, match="exceed"):
        queue.enqueue_copy_image_to_buffer(image, buffer, dst_offset=8)     # 96 bytes at 8 > 64
    with pytest.raises(ValueError, match="exceed"):
        queue.enqueue_copy_buffer_to_image(buffer, image, 40, (0, 0), (4, 2))
    with pytest.raises(TypeError, match="Buffer"):
        queue.enqueue_copy_image_to_buffer(image, volume)
    with pytest.raises(TypeError, match="Image"):
        queue.enqueue_copy_buffer_to_image(buffer, buffer)
    for obj in (image, buffer, volume, whole):
        obj.release()


def test_one_d_buffer_image_shares_the_buffer(context, queue, implicit_refs):
    buffer = context.create_buffer(RW, 10 * 16)
    image = context.create_image(RW, RGBA_UINT32, (10,), buffer=buffer)
    assert image.type == T1DB
    values = np.arange(40, dtype=np.uint32)
    queue.enqueue_write_buffer(buffer, values)
    np.testing.assert_array_equal(queue.enqueue_read_image(image), values.reshape(10, 4))
    # ours, and the image's hold on its buffer where the driver counts it (PoCL does, NVIDIA not)
    assert image.reference_count == 1
    assert buffer.reference_count == 1 + implicit_refs.image_on_buffer
    image.release()
    assert buffer.reference_count == 1                   # the binding took no reference of its own
    buffer.release()


def test_one_d_buffer_image_keeps_its_buffer_object_alive(context, queue):
    """The image uses its buffer's storage, and a driver may hold no reference to the buffer
    (NVIDIA's counts show none): dropping the Buffer must not free it while the image lives.
    Expected: the Image object holds the Buffer object; both go together."""
    import gc
    import weakref
    buffer = context.create_buffer(RW, 10 * 16)
    queue.enqueue_write_buffer(buffer, np.arange(40, dtype=np.uint32))
    image = context.create_image(RW, RGBA_UINT32, (10,), buffer=buffer)
    held = weakref.ref(buffer)
    del buffer
    gc.collect()
    assert held() is not None and not held().released
    np.testing.assert_array_equal(queue.enqueue_read_image(image), np.arange(40, dtype=np.uint32).reshape(10, 4))
    del image
    gc.collect()
    assert held() is None


# --------------------------------------------------------------------------- #
# map
# --------------------------------------------------------------------------- #

def test_map_image(context, queue):
    data = _random((3, 5, 4), np.uint8, seed=10)
    image = context.create_image(COPY, RGBA_UNORM8, (5, 3), host_buffer=data)
    with queue.enqueue_map_image(image, raw.CL_MAP_READ | raw.CL_MAP_WRITE, (1, 1), (3, 2)) as mapping:
        assert isinstance(mapping, cl.MemoryMapping)
        assert mapping.event.command_type == cl.CommandType.MAP_IMAGE
        # clEnqueueMapImage returns "the scan-line pitch in bytes for the mapped region": at least
        # its 3 pixels x 4 bytes. PoCL maps the image in place (the image's 5 x 4 bytes), NVIDIA
        # 580 a packed copy of the region (12 bytes); both are what the specification allows.
        assert mapping.row_pitch >= 3 * 4 and mapping.slice_pitch == 0
        view = mapping.array
        assert view.shape == (2, 3, 4) and view.dtype == np.uint8
        assert view.strides == (mapping.row_pitch, 4, 1)
        np.testing.assert_array_equal(view, data[1:3, 1:4])
        view[:] = 7
    assert mapping.unmapped and mapping.unmap_event is not None
    with pytest.raises(ValueError, match="unmapped"):
        mapping.array
    mapping.unmap_event.wait()
    expected = data.copy()
    expected[1:3, 1:4] = 7
    np.testing.assert_array_equal(queue.enqueue_read_image(image), expected)
    # 3D: the slice pitch strides the first axis; tuple unpacking still works
    volume_data = _random((3, 2, 4), np.float32, seed=11)
    volume = context.create_image(COPY, R_FLOAT, (4, 2, 3), T3D, host_buffer=volume_data)
    mapped = queue.enqueue_map_image(volume, raw.CL_MAP_READ, origin=(0, 0, 1))
    array, event = mapped
    assert array.shape == (2, 2, 4) and array.strides == (mapped.slice_pitch, mapped.row_pitch, 4)
    np.testing.assert_array_equal(array, volume_data[1:])
    queue.enqueue_unmap_mem_object(volume, array).wait()    # through the array: the mapping knows
    assert mapped.unmapped
    for obj in (image, volume, event):
        obj.release()


def test_map_image_validation(context, queue, refuse_driver):
    image = context.create_image(RW, R_FLOAT, (4, 4))
    refuse_driver()
    with pytest.raises(ValueError, match="extent"):
        queue.enqueue_map_image(image, origin=(0, 0, 1))
    with pytest.raises(ValueError, match="extent"):
        queue.enqueue_map_image(image, region=(5, 1))
    with pytest.raises(TypeError, match="Image"):
        queue.enqueue_map_image(context.create_buffer(RW, 16))
    image.release()


# --------------------------------------------------------------------------- #
# validation before the driver
# --------------------------------------------------------------------------- #

def test_create_image_validation(context, refuse_driver):
    refuse_driver()
    host16 = np.zeros(16, dtype=np.uint8)
    cases = [
        (ValueError, "positive", dict(shape=(0, 4))),
        (ValueError, "1 to 3", dict(shape=(1, 2, 3, 4))),
        (ValueError, "3 values", dict(shape=(4, 4), image_type=T2DA)),
        (ValueError, "2 values", dict(shape=(4,), image_type=T1DA)),
        (ValueError, "not an image type", dict(shape=(4,), image_type=raw.CL_MEM_OBJECT_BUFFER)),
        (ValueError, "without one", dict(shape=(4, 4), row_pitch=64)),
        (ValueError, "needs 64 bytes", dict(flags=COPY, shape=(4, 4), host_buffer=host16)),
        (ValueError, "multiple of the element size", dict(flags=COPY, shape=(2, 2), row_pitch=10,
                                                          host_buffer=np.zeros(64, np.uint8))),
        (ValueError, "at least", dict(flags=COPY, shape=(4, 2), row_pitch=12, host_buffer=np.zeros(64, np.uint8))),
        (ValueError, "slice_pitch must be 0", dict(flags=COPY, shape=(2, 2), slice_pitch=16,
                                                   host_buffer=np.zeros(64, np.uint8))),
        (ValueError, "multiple of the row pitch", dict(flags=COPY, shape=(2, 2, 2), slice_pitch=20,
                                                       host_buffer=np.zeros(64, np.uint8))),
        (ValueError, "needs buffer=", dict(shape=(4,), image_type=T1DB)),
        (ValueError, "COPY_HOST_PTR", dict(shape=(2, 2), host_buffer=host16)),
        (ValueError, "need a host_buffer", dict(flags=COPY, shape=(2, 2))),
        (TypeError, "format", dict(format="RGBA")),
        (TypeError, "shape", dict(shape=4.0)),
        (TypeError, "int", dict(shape=(4, 2.5))),
    ]
    for exc, match, kwargs in cases:
        arguments = dict(flags=RW, format=RGBA_UNORM8, shape=(4, 4))
        arguments.update(kwargs)
        with pytest.raises(exc, match=match):
            context.create_image(**arguments)
    small = context.create_buffer(RW, 16)                # clCreateBuffer is not refused
    with pytest.raises(ValueError, match="the buffer has 16"):
        context.create_image(RW, RGBA_UNORM8, (5,), buffer=small)
    with pytest.raises(ValueError, match="no host_buffer"):
        context.create_image(COPY, RGBA_UNORM8, (4,), buffer=small, host_buffer=host16)
    with pytest.raises(ValueError, match="1D buffer image or a 2D"):
        context.create_image(RW, RGBA_UNORM8, (2, 2, 1), T3D, buffer=small)
    with pytest.raises(TypeError, match="Buffer"):
        context.create_image(RW, RGBA_UNORM8, (4,), T1DB, buffer=host16)
    small.release()
    assert context.reference_count == 1                  # nothing was created


def test_enqueue_validation(context, queue, refuse_driver):
    image2d = context.create_image(RW, R_FLOAT, (4, 3))
    image1d = context.create_image(RW, R_FLOAT, (8,))
    array2d = context.create_image(RW, R_FLOAT, (4, 3, 2), T2DA)
    refuse_driver()
    host = np.zeros(12, dtype=np.float32)
    with pytest.raises(ValueError, match="along x"):
        queue.enqueue_read_image(image2d, host, origin=(1, 0), region=(4, 1))
    with pytest.raises(ValueError, match="along y"):
        queue.enqueue_read_image(image1d, np.zeros(16, np.float32), region=(8, 2))
    with pytest.raises(ValueError, match="along z"):
        queue.enqueue_write_image(array2d, np.zeros(64, np.float32), origin=(0, 0, 1), region=(4, 3, 2))
    with pytest.raises(ValueError, match="must not contain 0"):
        queue.enqueue_read_image(image2d, host, region=(0, 1))
    with pytest.raises(ValueError, match="needs 48 bytes"):
        queue.enqueue_read_image(image2d, np.zeros(11, np.float32))
    with pytest.raises(ValueError, match="needs 56 bytes"):          # 2 rows of 20 bytes + one of 16
        queue.enqueue_write_image(image2d, np.zeros(12, np.float32), row_pitch=20)
    with pytest.raises(ValueError, match="row_pitch 8 is less"):
        queue.enqueue_read_image(image2d, host, row_pitch=8)
    with pytest.raises(ValueError, match="slice_pitch must be 0"):
        queue.enqueue_read_image(image2d, host, slice_pitch=48)
    with pytest.raises(ValueError, match="slice_pitch 40 is less"):
        queue.enqueue_read_image(array2d, np.zeros(24, np.float32), slice_pitch=40)
    with pytest.raises(ValueError, match="blocking"):
        queue.enqueue_read_image(image2d, blocking=False)
    with pytest.raises(ValueError, match="read-only"):
        queue.enqueue_read_image(image2d, b"\0" * 48)
    with pytest.raises(TypeError, match="Image"):
        queue.enqueue_read_image(context.create_buffer(RW, 48), host)
    with pytest.raises(ValueError, match="negative"):
        queue.enqueue_read_image(image2d, host, origin=(-1, 0))
    with pytest.raises(TypeError, match="int"):
        queue.enqueue_read_image(image2d, host, origin=(0.5, 0))
    with pytest.raises(ValueError, match="extent"):
        queue.enqueue_copy_image(image2d, array2d, dst_origin=(1, 0, 0))
    for obj in (image2d, image1d, array2d):
        obj.release()


def test_pocl_reports_unsupported_images_as_invalid_operation(context, device):
    if POCL not in device.platform.name:
        pytest.skip("records PoCL's error codes")
    # The specification names ImageFormatNotSupported / InvalidImageSize; PoCL 3.1 returns
    # CL_INVALID_OPERATION ("no devices in context that support this image type + size").
    with pytest.raises(errors.InvalidOperation) as caught:
        context.create_image(RW, (raw.CL_RGB, raw.CL_UNORM_INT8), (4, 4))
    assert caught.value.function == "clCreateImage"
    with pytest.raises(errors.InvalidOperation):
        context.create_image(RW, R_FLOAT, (device.image2d_max_width + 1, 1))


# --------------------------------------------------------------------------- #
# info dispatch
# --------------------------------------------------------------------------- #

def test_image_info_goes_to_the_right_function(context, monkeypatch):
    image = context.create_image(RW, RGBA_UNORM8, (4, 2))
    buffer = context.create_buffer(RW, 8)
    calls = []
    for name in ("clGetImageInfo", "clGetMemObjectInfo"):
        real = getattr(checked, name)
        monkeypatch.setattr(checked, name, lambda *a, _real=real, _name=name: (calls.append((_name, a[1])),
                                                                               _real(*a))[1])
    assert image.get_info(raw.CL_IMAGE_WIDTH) == 4
    assert image.get_info("CL_MEM_SIZE") == image.size
    assert image.flags == RW and image.context == context
    names = {name for name, _ in calls}
    assert ("clGetImageInfo", raw.CL_IMAGE_WIDTH) in calls and ("clGetMemObjectInfo", raw.CL_MEM_SIZE) in calls
    assert ("clGetImageInfo", raw.CL_MEM_SIZE) not in calls and names == {"clGetImageInfo", "clGetMemObjectInfo"}
    assert image.get_image_info(raw.CL_IMAGE_ELEMENT_SIZE) == 4
    fmt = image.get_info(raw.CL_IMAGE_FORMAT)                 # the raw struct through get_info
    assert (fmt.image_channel_order, fmt.image_channel_data_type) == RGBA_UNORM8
    with pytest.raises(TypeError, match="Image"):
        buffer.get_image_info(raw.CL_IMAGE_WIDTH)
    with pytest.raises(errors.InvalidValue):
        image.get_info(raw.CL_PIPE_PACKET_SIZE)
    assert "clGetImageInfo" in cl.Image.get_info.__doc__ and "clGetMemObjectInfo" in cl.Image.get_info.__doc__
    image.release()
    buffer.release()


# --------------------------------------------------------------------------- #
# a kernel that samples an image
# --------------------------------------------------------------------------- #

SAMPLE_SOURCE = """
__kernel void sample(__read_only image2d_t img, sampler_t s, __global const float2 *coords, __global float4 *out) {
    int i = get_global_id(0);
    out[i] = read_imagef(img, s, coords[i]);
}
"""


def _clamped(data, j, i):
    h, w = data.shape[:2]
    return data[min(max(j, 0), h - 1), min(max(i, 0), w - 1)]


def sample_reference(data, coords, linear):
    """read_imagef with unnormalized coordinates and CLAMP_TO_EDGE, in numpy (the spec's formulas)."""
    out = []
    for u, v in coords.astype(np.float64):
        if not linear:
            out.append(_clamped(data, math.floor(v), math.floor(u)))
            continue
        x, y = u - 0.5, v - 0.5
        i0, j0 = math.floor(x), math.floor(y)
        a, b = x - i0, y - j0
        out.append((1 - a) * (1 - b) * _clamped(data, j0, i0) + a * (1 - b) * _clamped(data, j0, i0 + 1)
                   + (1 - a) * b * _clamped(data, j0 + 1, i0) + a * b * _clamped(data, j0 + 1, i0 + 1))
    return np.array(out)


@pytest.mark.parametrize("filter_mode", [raw.CL_FILTER_NEAREST, raw.CL_FILTER_LINEAR], ids=["nearest", "linear"])
def test_sampling_kernel_matches_numpy(context, queue, filter_mode):
    height, width = 5, 7
    data = _random((height, width), np.float32, seed=12)
    image = context.create_image(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, R_FLOAT, (width, height),
                                 host_buffer=data)
    rng = np.random.default_rng(13)
    coords = np.concatenate([rng.uniform(-2, 9, size=(40, 2)),                      # inside and past the edges
                             [[0.5, 0.5], [6.5, 4.5], [3.0, 2.0], [-5, -5], [100, 100]]]).astype(np.float32)
    sampler = context.create_sampler(False, raw.CL_ADDRESS_CLAMP_TO_EDGE, filter_mode)
    program = context.create_program_with_source(SAMPLE_SOURCE).build()
    kernel = program.create_kernel("sample")
    coord_buffer = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, host_buffer=coords)
    out = context.create_buffer(RW, 16 * len(coords))
    kernel.set_args(image, sampler, coord_buffer, out)       # the sampler is a kernel argument
    queue.enqueue_nd_range_kernel(kernel, len(coords)).wait()
    result = queue.enqueue_read_buffer(out).view(np.float32).reshape(-1, 4)
    expected = sample_reference(data, coords, filter_mode == raw.CL_FILTER_LINEAR)
    if filter_mode == raw.CL_FILTER_NEAREST:
        np.testing.assert_array_equal(result[:, 0], expected)
    else:
        np.testing.assert_allclose(result[:, 0], expected, atol=2e-3)
        assert not np.array_equal(result[:, 0], sample_reference(data, coords, False))
    np.testing.assert_array_equal(result[:, 1:], np.tile([0, 0, 1], (len(coords), 1)))  # R -> (r, 0, 0, 1)
    for obj in (kernel, program, sampler, coord_buffer, out, image):
        obj.release()


def test_sampling_normalized_repeat_rgba(context, queue):
    height, width = 4, 8
    data = _random((height, width, 4), np.uint8, seed=14)
    image = context.create_image(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, RGBA_UNORM8, (width, height),
                                 host_buffer=data)
    coords = np.array([[0.1, 0.1], [1.3, 0.6], [-0.2, 2.9], [0.99, 0.01]], dtype=np.float32)
    sampler = context.create_sampler(True, raw.CL_ADDRESS_REPEAT, raw.CL_FILTER_NEAREST)
    program = context.create_program_with_source(SAMPLE_SOURCE).build()
    kernel = program.create_kernel("sample")
    coord_buffer = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, host_buffer=coords)
    out = context.create_buffer(RW, 16 * len(coords))
    kernel.set_args(image, sampler, coord_buffer, out)
    queue.enqueue_nd_range_kernel(kernel, len(coords)).wait()
    result = queue.enqueue_read_buffer(out).view(np.float32).reshape(-1, 4)
    expected = []
    for s, t in coords.astype(np.float64):                   # the spec's REPEAT + NEAREST formula
        i = int(math.floor((s - math.floor(s)) * width)) % width
        j = int(math.floor((t - math.floor(t)) * height)) % height
        expected.append(data[j, i] / 255.0)
    np.testing.assert_allclose(result, np.array(expected), atol=1e-6)
    for obj in (kernel, program, sampler, coord_buffer, out, image):
        obj.release()


# --------------------------------------------------------------------------- #
# the fallback below OpenCL 1.2
# --------------------------------------------------------------------------- #

def test_fallback_to_create_image_2d_and_3d_below_1_2(context, queue, device, monkeypatch):
    # Oclgrind (the only other driver here) reports OpenCL 1.2, so the fallback is exercised by
    # making the version gate believe PoCL is 1.1: PoCL still exports the deprecated functions.
    monkeypatch.setitem(_gate._versions, ("device", device._value), (1, 1))
    calls = []
    for name in ("clCreateImage", "clCreateImage2D", "clCreateImage3D"):
        real = getattr(checked, name)
        monkeypatch.setattr(checked, name, lambda *a, _real=real, _name=name: (calls.append(_name), _real(*a))[1])
    data = _random((3, 5, 4), np.uint8, seed=15)
    flat = context.create_image(COPY, RGBA_UNORM8, (5, 3), host_buffer=data)
    volume_data = _random((2, 3, 4), np.float32, seed=16)
    volume = context.create_image(COPY, R_FLOAT, (4, 3, 2), T3D, host_buffer=volume_data)
    assert calls == ["clCreateImage2D", "clCreateImage3D"]
    assert flat.type == T2D and volume.type == T3D
    np.testing.assert_array_equal(queue.enqueue_read_image(flat), data)
    np.testing.assert_array_equal(queue.enqueue_read_image(volume), volume_data)
    with pytest.raises(cl.FunctionUnavailableError, match="OpenCL 1.2"):
        context.create_image(RW, R_FLOAT, (4, 2), T1DA)
    assert calls == ["clCreateImage2D", "clCreateImage3D"]
    monkeypatch.undo()
    plain = context.create_image(RW, R_FLOAT, (4, 4))     # back to 3.0: clCreateImage
    assert plain.type == T2D
    for obj in (flat, volume, plain):
        obj.release()
