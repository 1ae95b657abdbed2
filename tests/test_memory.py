"""Memory objects (opencl_raw/memory.py): create_buffer and its host-memory rules, buffer info."""
from __future__ import annotations

import ctypes
import gc
import time
import weakref

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import checked, errors, raw


def _settled(read, expected, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.01)
        value = read()
    return value


def _read(queue, buffer, dtype):
    return queue.enqueue_read_buffer(buffer).view(dtype)


def test_create_buffer_plain(context, implicit_refs):
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 4096)
    assert isinstance(buffer, cl.Buffer) and isinstance(buffer, cl.MemObject)
    assert buffer.size == buffer.nbytes == buffer.get_info(raw.CL_MEM_SIZE) == 4096
    assert buffer.flags == raw.CL_MEM_READ_WRITE and isinstance(buffer.flags, cl.MemFlags)
    assert buffer.type == cl.MemObjectType.BUFFER and isinstance(buffer.type, cl.MemObjectType)
    assert buffer.context == context
    assert buffer.host_ptr == 0 and buffer.offset == 0 and buffer.map_count == 0
    assert buffer.associated_memobject is None
    assert buffer.reference_count == 1
    buffer.release()
    default = context.create_buffer(size=8)                 # flags default to CL_MEM_READ_WRITE
    assert default.flags == raw.CL_MEM_READ_WRITE
    default.release()
    constructed = cl.Buffer(context, raw.CL_MEM_READ_ONLY, 24)
    assert constructed.size == 24 and constructed.flags == raw.CL_MEM_READ_ONLY
    assert constructed.reference_count == 1
    assert context.reference_count == 1 + implicit_refs.buffer_on_context    # the buffer's hold, if counted
    constructed.release()


def test_mem_object_type_has_only_types():
    # CL_MEM_OBJECT_ALLOCATION_FAILURE (-4) is an error code that shares the prefix.
    assert all(member.value > 0 for member in cl.MemObjectType)
    assert cl.MemObjectType(raw.CL_MEM_OBJECT_BUFFER).name == "BUFFER"


def test_copy_host_ptr(context, queue):
    host = np.arange(100, dtype=np.int16)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=host)
    assert buffer.size == host.nbytes == 200                # size defaults to the host object's nbytes
    host[:] = -1                                            # the buffer holds a copy
    np.testing.assert_array_equal(_read(queue, buffer, np.int16), np.arange(100))
    buffer.release()
    # bytes are a fine source (read-only is fine for a copy), and a smaller size takes the first bytes.
    smaller = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, 4, b"abcdefgh")
    assert smaller.size == 4 and bytes(queue.enqueue_read_buffer(smaller)) == b"abcd"
    smaller.release()
    # a non-contiguous source is copied first
    strided = np.arange(20, dtype=np.float64)[::4]
    copied = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=strided)
    assert copied.size == 40
    np.testing.assert_array_equal(_read(queue, copied, np.float64), [0, 4, 8, 12, 16])
    copied.release()


def test_use_host_ptr(context, queue):
    host = np.arange(64, dtype=np.float32)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_USE_HOST_PTR, host_buffer=host)
    assert buffer.size == host.nbytes
    assert buffer.flags & raw.CL_MEM_USE_HOST_PTR
    assert buffer.host_ptr == host.ctypes.data              # CL_MEM_HOST_PTR: the very memory given
    np.testing.assert_array_equal(_read(queue, buffer, np.float32), np.arange(64))
    queue.enqueue_write_buffer(buffer, np.full(64, 2.5, dtype=np.float32))
    mapped, _ = queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ, dtype=np.float32)
    assert (mapped == 2.5).all()
    queue.enqueue_unmap_mem_object(buffer, mapped).wait()
    assert (host == 2.5).all()                              # synchronised back into the host array by the map
    # The buffer keeps its host memory alive while it lives.
    alive = weakref.ref(host)
    del host, mapped
    gc.collect()
    assert alive() is not None
    buffer.release()
    del buffer
    gc.collect()
    assert _settled(lambda: alive() is None, True)          # given back once the buffer is gone


def test_use_host_ptr_memory_lives_as_long_as_the_cl_mem(context):
    host = np.arange(1 << 12, dtype=np.float32)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_USE_HOST_PTR, host_buffer=host)
    other = cl.Buffer.from_handle(buffer.handle)            # a second owner of the same cl_mem
    alive = weakref.ref(host)
    del host, buffer
    gc.collect()
    try:
        assert alive() is not None                          # the cl_mem still exists and uses that memory
    finally:
        other.release()


def test_use_host_ptr_needs_writable_contiguous_memory(context):
    frozen = np.zeros(16, dtype=np.uint8)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_USE_HOST_PTR, host_buffer=frozen)
    with pytest.raises(ValueError, match="read-only"):
        context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_USE_HOST_PTR, host_buffer=b"bytes")
    with pytest.raises(ValueError, match="contiguous"):
        context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_USE_HOST_PTR,
                              host_buffer=np.zeros(32, dtype=np.uint8)[::2])
    assert context.reference_count == 1


def test_size_and_flag_rules(context):
    host = np.zeros(10, dtype=np.int32)                     # 40 bytes
    with pytest.raises(ValueError, match="exceeds"):
        context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, 41, host)
    with pytest.raises(ValueError, match="COPY_HOST_PTR"):
        context.create_buffer(raw.CL_MEM_READ_WRITE, host_buffer=host)    # host object without a host flag
    with pytest.raises(ValueError, match="host_buffer"):
        context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, 40)
    with pytest.raises(ValueError, match="host_buffer"):
        context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_USE_HOST_PTR, 40)
    with pytest.raises(ValueError, match="negative"):
        context.create_buffer(raw.CL_MEM_READ_WRITE, -1)
    with pytest.raises(TypeError, match="size"):
        context.create_buffer(raw.CL_MEM_READ_WRITE)
    with pytest.raises(TypeError, match="size"):
        context.create_buffer(raw.CL_MEM_READ_WRITE, 4.0)
    with pytest.raises(TypeError, match="flags"):
        context.create_buffer("CL_MEM_READ_WRITE", 4)
    with pytest.raises(TypeError, match="buffer protocol"):
        context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=[1, 2, 3])
    assert context.reference_count == 1                     # none of these created anything


def test_zero_size_is_the_drivers_invalid_buffer_size(context):
    with pytest.raises(errors.InvalidBufferSize) as caught:
        context.create_buffer(raw.CL_MEM_READ_WRITE, 0)
    assert caught.value.code == raw.CL_INVALID_BUFFER_SIZE
    assert caught.value.function == "clCreateBuffer"
    assert "CL_INVALID_BUFFER_SIZE" in str(caught.value)


def test_conflicting_flags_are_the_drivers_invalid_value(context, device):
    if "Portable Computing Language" not in device.platform.name:
        pytest.skip("PoCL checks the flags; other drivers may not")
    with pytest.raises(errors.InvalidValue):
        context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_WRITE_ONLY, 16)


def test_mem_object_from_handle_gives_buffer(context, queue):
    handle = checked.clCreateBuffer(context, raw.CL_MEM_READ_WRITE, 256, None)
    buffer = cl.MemObject.from_handle(handle, retain=False)
    assert type(buffer) is cl.Buffer
    assert buffer.size == 256 and buffer.reference_count == 1
    queue.enqueue_write_buffer(buffer, np.arange(64, dtype=np.int32))
    np.testing.assert_array_equal(_read(queue, buffer, np.int32), np.arange(64))
    again = cl.MemObject.from_handle(buffer.handle.value)
    assert type(again) is cl.Buffer and again == buffer and buffer.reference_count == 2
    again.release()
    direct = cl.Buffer.from_handle(buffer.handle)
    assert direct == buffer
    direct.release()
    assert buffer.reference_count == 1
    buffer.release()


def test_sub_buffer_wrapped_as_buffer(context, device, queue, implicit_refs):
    align = device.mem_base_addr_align // 8                 # bits -> bytes
    data = np.arange(4 * align, dtype=np.uint8)             # 0..255 repeated: align may exceed 255 (512 on NVIDIA)
    parent = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=data)
    region = raw.cl_buffer_region(align, 2 * align)
    handle = checked.clCreateSubBuffer(parent, raw.CL_MEM_READ_WRITE, raw.CL_BUFFER_CREATE_TYPE_REGION,
                                       ctypes.byref(region))
    sub = cl.MemObject.from_handle(handle, retain=False)
    assert type(sub) is cl.Buffer
    assert sub.size == 2 * align and sub.offset == align
    owner = sub.associated_memobject
    assert type(owner) is cl.Buffer and owner == parent
    owner.release()
    np.testing.assert_array_equal(queue.enqueue_read_buffer(sub), data[align:3 * align])
    assert sub.reference_count == 1                         # adopted, not retained again
    # ours, and the sub-buffer's hold on its parent where the driver counts it (PoCL does, NVIDIA not)
    assert parent.reference_count == 1 + implicit_refs.sub_buffer_on_buffer
    sub.release()
    assert parent.reference_count == 1
    parent.release()


def test_cached_size_is_not_served_after_release(context):
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 32)
    assert buffer.size == 32
    buffer.release()
    with pytest.raises(cl.ReleasedHandleError):
        buffer.size
    with pytest.raises(cl.ReleasedHandleError):
        buffer.nbytes


# --------------------------------------------------------------------------- #
# issue 5: sub-buffers, buffers with properties, fill, copy, rects, migration,
# destructor callbacks, mappings
# --------------------------------------------------------------------------- #

RW = raw.CL_MEM_READ_WRITE
COPY = raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR


@pytest.fixture
def refuse_driver(monkeypatch):
    """Call it to make the buffer commands fail the test if they reach the driver."""
    def refuse(*args):
        raise AssertionError("the call reached the driver")

    def install():
        for name in ("clCreateSubBuffer", "clCreateBufferWithProperties", "clEnqueueFillBuffer",
                     "clEnqueueCopyBuffer", "clEnqueueReadBufferRect", "clEnqueueWriteBufferRect",
                     "clEnqueueCopyBufferRect", "clEnqueueMigrateMemObjects", "clEnqueueMapBuffer",
                     "clEnqueueUnmapMemObject", "clCreatePipe"):
            monkeypatch.setattr(checked, name, refuse)
    return install


def test_create_sub_buffer(context, device, queue, implicit_refs):
    bits = device.mem_base_addr_align                        # CL_DEVICE_MEM_BASE_ADDR_ALIGN is in bits
    assert bits == device.get_info(raw.CL_DEVICE_MEM_BASE_ADDR_ALIGN) and bits % 8 == 0
    align = bits // 8
    data = np.arange(4 * align, dtype=np.uint8)
    parent = context.create_buffer(COPY, host_buffer=data)
    sub = parent.create_sub_buffer(RW, align, 2 * align)
    assert type(sub) is cl.Buffer and sub.size == 2 * align and sub.offset == align
    owner = sub.associated_memobject
    assert owner == parent
    owner.release()
    assert sub.reference_count == 1
    # ours, and the sub-buffer's hold on its parent where the driver counts it (PoCL does, NVIDIA not)
    assert parent.reference_count == 1 + implicit_refs.sub_buffer_on_buffer
    np.testing.assert_array_equal(queue.enqueue_read_buffer(sub), data[align:3 * align])
    queue.enqueue_write_buffer(sub, np.full(2 * align, 7, np.uint8))        # the same memory as the parent's
    expected = data.copy()
    expected[align:3 * align] = 7
    np.testing.assert_array_equal(queue.enqueue_read_buffer(parent), expected)
    inherited = parent.create_sub_buffer(0, 0, align)                       # flags 0 inherit the parent's
    assert inherited.flags == parent.flags
    # misaligned origins are MisalignedSubBufferOffset, refused before the driver (Oclgrind 21.10 and
    # NVIDIA 580 do not check): half the alignment in bytes, and the "alignment" read as bytes although
    # the param counts bits
    for origin in (align // 2, 1):
        with pytest.raises(errors.MisalignedSubBufferOffset) as caught:
            parent.create_sub_buffer(RW, origin, 16)
        assert caught.value.code == raw.CL_MISALIGNED_SUB_BUFFER_OFFSET and caught.value.function == "clCreateSubBuffer"
    if bits < 4 * align:
        with pytest.raises(errors.MisalignedSubBufferOffset):
            parent.create_sub_buffer(RW, bits, 16)                          # bits taken for bytes: misaligned
    with pytest.raises(errors.InvalidBufferSize):
        parent.create_sub_buffer(RW, 0, 0)
    with pytest.raises(errors.InvalidMemObject):
        sub.create_sub_buffer(RW, 0, 16)                                    # no sub-buffers of sub-buffers
    with pytest.raises(errors.InvalidValue):
        parent.create_sub_buffer(raw.CL_MEM_USE_HOST_PTR, 0, 16)
    for obj in (sub, inherited):
        obj.release()
    assert parent.reference_count == 1
    parent.release()


def test_create_sub_buffer_validation(context, refuse_driver):
    parent = context.create_buffer(RW, 256)
    refuse_driver()
    with pytest.raises(ValueError, match="exceed"):
        parent.create_sub_buffer(RW, 128, 256)
    with pytest.raises(ValueError, match="negative"):
        parent.create_sub_buffer(RW, -128, 16)
    with pytest.raises(TypeError, match="int"):
        parent.create_sub_buffer(RW, 0, 16.0)
    with pytest.raises(TypeError, match="int"):
        parent.create_sub_buffer(RW, True, 16)
    assert parent.reference_count == 1
    parent.release()


def test_create_buffer_with_properties(context, queue, refuse_driver):
    data = np.arange(32, dtype=np.float32)
    buffer = context.create_buffer_with_properties(None, COPY, host_buffer=data)
    assert buffer.size == 128 and buffer.properties == ()
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.float32), data)
    empty = context.create_buffer_with_properties({}, RW, 64)
    assert empty.size == 64 and empty.flags == RW
    with pytest.raises(errors.InvalidProperty) as caught:
        context.create_buffer_with_properties({0x1234: 1}, RW, 64)
    assert caught.value.function == "clCreateBufferWithProperties"
    host = np.zeros(16, dtype=np.uint8)
    used = context.create_buffer_with_properties([], RW | raw.CL_MEM_USE_HOST_PTR, host_buffer=host)
    assert used.host_ptr == host.ctypes.data
    refuse_driver()
    with pytest.raises(ValueError, match="exceeds"):
        context.create_buffer_with_properties(None, COPY, 17, host)
    with pytest.raises(ValueError, match="host_buffer"):
        context.create_buffer_with_properties(None, COPY, 16)
    with pytest.raises(TypeError, match="properties"):
        context.create_buffer_with_properties([1, 2], RW, 16)
    for obj in (buffer, empty, used):
        obj.release()


def test_fill_buffer(context, queue):
    buffer = context.create_buffer(RW, 256)
    event = queue.enqueue_fill_buffer(buffer, np.float32(1.5))
    assert event.command_type == cl.CommandType.FILL_BUFFER
    np.testing.assert_array_equal(_read(queue, buffer, np.float32), np.full(64, 1.5, np.float32))
    queue.enqueue_fill_buffer(buffer, np.array([1, 2, 3, 4], dtype=np.int32), offset=32, size=64).wait()
    out = _read(queue, buffer, np.int32)
    np.testing.assert_array_equal(out[8:24], np.tile([1, 2, 3, 4], 4))
    assert (out[:8].view(np.float32) == 1.5).all() and (out[24:].view(np.float32) == 1.5).all()
    queue.enqueue_fill_buffer(buffer, b"\xab", offset=255)                 # one byte at the end
    assert queue.enqueue_read_buffer(buffer)[255] == 0xAB
    big = np.arange(32, dtype=np.float32)                                   # the largest pattern: 128 bytes
    queue.enqueue_fill_buffer(buffer, big)
    np.testing.assert_array_equal(_read(queue, buffer, np.float32), np.tile(big, 2))
    buffer.release()


def test_blocking_transfers_without_an_event(context, queue):
    """event=False: a blocking write and read ask the driver for no event and return None; the
    bytes still move. A non-blocking one needs its event (it pins the host memory): ValueError,
    and nothing is written."""
    buffer = context.create_buffer(RW, 16)
    queue.enqueue_write_buffer(buffer, np.zeros(4, dtype=np.int32))
    assert queue.enqueue_write_buffer(buffer, np.arange(4, dtype=np.int32), event=False) is None
    out = np.zeros(4, dtype=np.int32)
    assert queue.enqueue_read_buffer(buffer, out, offset=0, event=False) is None
    np.testing.assert_array_equal(out, np.arange(4))
    with pytest.raises(ValueError, match="event=False needs blocking=True"):
        queue.enqueue_write_buffer(buffer, np.full(4, 7, dtype=np.int32), blocking=False, event=False)
    with pytest.raises(ValueError, match="event=False needs blocking=True"):
        queue.enqueue_read_buffer(buffer, out, blocking=False, event=False)
    queue.finish()
    np.testing.assert_array_equal(_read(queue, buffer, np.int32), np.arange(4))
    buffer.release()


def test_transfer_offsets_take_numpy_integers(context, queue):
    """Offsets are byte counts: numpy integers work like ints (they come out of index arithmetic
    on arrays); bools, floats, text and negative values are refused before the driver."""
    buffer = context.create_buffer(RW, 16)
    queue.enqueue_write_buffer(buffer, np.zeros(4, dtype=np.int32))
    queue.enqueue_write_buffer(buffer, np.array([5, 6], dtype=np.int32), offset=np.int64(8))
    out = np.zeros(2, dtype=np.int32)
    queue.enqueue_read_buffer(buffer, out, offset=np.uint32(8))
    assert out.tolist() == [5, 6]
    assert queue.enqueue_read_buffer(buffer, offset=np.int16(12)).view(np.int32).tolist() == [6]
    for bad, error in ((True, TypeError), (8.0, TypeError), ("8", TypeError), (np.int64(-4), ValueError)):
        with pytest.raises(error, match="offset"):
            queue.enqueue_write_buffer(buffer, np.zeros(2, dtype=np.int32), offset=bad)
        with pytest.raises(error, match="offset"):
            queue.enqueue_read_buffer(buffer, offset=bad)
    assert _read(queue, buffer, np.int32).tolist() == [0, 0, 5, 6]
    buffer.release()


def test_fill_buffer_validation(context, queue, refuse_driver):
    buffer = context.create_buffer(RW, 256)
    refuse_driver()
    with pytest.raises(ValueError, match="3 bytes"):
        queue.enqueue_fill_buffer(buffer, b"abc")
    with pytest.raises(ValueError, match="256 bytes"):
        queue.enqueue_fill_buffer(buffer, np.zeros(64, np.float32))
    with pytest.raises(ValueError, match="multiples"):
        queue.enqueue_fill_buffer(buffer, np.int32(1), offset=2, size=8)
    with pytest.raises(ValueError, match="multiples"):
        queue.enqueue_fill_buffer(buffer, np.int32(1), offset=4, size=6)
    with pytest.raises(ValueError, match="exceed"):
        queue.enqueue_fill_buffer(buffer, np.int32(1), offset=128, size=132)
    with pytest.raises(TypeError, match="buffer protocol"):
        queue.enqueue_fill_buffer(buffer, 1.5)
    with pytest.raises(TypeError, match="memory object"):
        queue.enqueue_fill_buffer("buffer", np.int32(1))
    buffer.release()


def test_fill_buffer_offset_multiple_passes(context, queue):
    buffer = context.create_buffer(RW, 256)
    queue.enqueue_fill_buffer(buffer, np.int32(0))
    queue.enqueue_fill_buffer(buffer, np.int32(9), offset=4)                 # 252 bytes: a multiple of 4
    out = _read(queue, buffer, np.int32)
    assert out[0] == 0 and (out[1:] == 9).all()
    buffer.release()


def test_copy_buffer(context, queue, refuse_driver):
    data = np.arange(64, dtype=np.int32)
    src = context.create_buffer(COPY, host_buffer=data)
    dst = context.create_buffer(COPY, host_buffer=np.zeros(64, np.int32))
    event = queue.enqueue_copy_buffer(src, dst, 16, 64, 32)
    assert event.command_type == cl.CommandType.COPY_BUFFER
    expected = np.zeros(64, np.int32)
    expected[16:24] = data[4:12]
    np.testing.assert_array_equal(_read(queue, dst, np.int32), expected)
    queue.enqueue_copy_buffer(src, dst)                                      # everything
    np.testing.assert_array_equal(_read(queue, dst, np.int32), data)
    queue.enqueue_copy_buffer(src, src, 0, 128, 64)                          # same buffer, no overlap
    np.testing.assert_array_equal(_read(queue, src, np.int32)[32:48], data[:16])
    with pytest.raises(errors.MemCopyOverlap):
        queue.enqueue_copy_buffer(src, src, 0, 8, 64)
    small = context.create_buffer(RW, 16)
    refuse_driver()
    with pytest.raises(ValueError, match="dst"):
        queue.enqueue_copy_buffer(src, small)                                # 256 bytes into 16
    with pytest.raises(ValueError, match="src"):
        queue.enqueue_copy_buffer(small, src, 8, 0, 16)
    with pytest.raises(ValueError, match="exceed"):
        queue.enqueue_copy_buffer(src, dst, src_offset=300)
    with pytest.raises(TypeError, match="memory object"):
        queue.enqueue_copy_buffer(src, data)
    for obj in (src, dst, small):
        obj.release()


def test_buffer_rects_match_numpy(context, queue):
    volume = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)       # slices, rows, 6 floats a row
    buffer = context.create_buffer(COPY, host_buffer=volume)
    # read x 1..3 (floats), rows 2..3, slices 1..2: byte region (12, 2, 2) at byte origin (4, 2, 1)
    host = np.zeros((2, 2, 3), np.float32)
    event = queue.enqueue_read_buffer_rect(buffer, host, (4, 2, 1), (0, 0, 0), (12, 2, 2), 24, 120)
    assert event.command_type == cl.CommandType.READ_BUFFER_RECT
    np.testing.assert_array_equal(host, volume[1:3, 2:4, 1:4])
    # the same into a pitched host block at host origin (8 bytes, row 1, slice 0)
    pitched = np.full((2, 4, 8), -1, np.float32)                             # rows of 32 bytes, slices of 128
    queue.enqueue_read_buffer_rect(buffer, pitched, (4, 2, 1), (8, 1, 0), (12, 2, 2), 24, 120, 32, 128)
    np.testing.assert_array_equal(pitched[:, 1:3, 2:5], volume[1:3, 2:4, 1:4])
    untouched = pitched.copy()
    untouched[:, 1:3, 2:5] = -1
    assert (untouched == -1).all()
    # write a 2D patch (region's third value padded with 1) and check with numpy
    patch = -np.arange(6, dtype=np.float32).reshape(2, 3)
    queue.enqueue_write_buffer_rect(buffer, patch, (12, 3, 2), (0, 0), (12, 2), 24, 120)
    expected = volume.copy()
    expected[2, 3:5, 3:6] = patch
    np.testing.assert_array_equal(_read(queue, buffer, np.float32).reshape(4, 5, 6), expected)
    # copy a rect between buffers of different pitches
    dst = context.create_buffer(COPY, host_buffer=np.zeros((3, 8), np.float32))
    queue.enqueue_copy_buffer_rect(buffer, dst, (0, 1, 2), (8, 1, 0), (16, 2, 1), 24, 120, 32, 96).wait()
    out = _read(queue, dst, np.float32).reshape(3, 8)
    np.testing.assert_array_equal(out[1:3, 2:6], expected[2, 1:3, 0:4])
    assert not out[0].any() and not out[:, :2].any() and not out[:, 6:].any()
    # overlapping rects of one buffer: refused by the binding (Oclgrind 21.10 and NVIDIA 580 do not)
    with pytest.raises(errors.MemCopyOverlap, match="checked by this binding") as caught:
        queue.enqueue_copy_buffer_rect(buffer, buffer, (0, 0, 0), (4, 0, 0), (16, 2, 1), 24, 120, 24, 120)
    assert caught.value.function == "clEnqueueCopyBufferRect"
    np.testing.assert_array_equal(_read(queue, buffer, np.float32).reshape(4, 5, 6), expected)
    buffer.release()
    dst.release()


def test_copy_overlap_is_checked_before_the_driver(context, queue, device, monkeypatch):
    """CL_MEM_COPY_OVERLAP where the specification asks for it (one buffer, or two sub-buffers of
    one buffer, and ranges or rects sharing a byte) comes from the binding, with nothing sent to
    the driver; copies that only come close go through."""
    data = np.arange(64, dtype=np.uint8)
    buffer = context.create_buffer(COPY, host_buffer=data)
    align = device.mem_base_addr_align // 8                                 # bytes
    parent_bytes = (np.arange(4 * align) % 251).astype(np.uint8)
    parent = context.create_buffer(COPY, host_buffer=parent_bytes)
    low = parent.create_sub_buffer(0, 0, 2 * align)                         # bytes 0 .. 2*align
    high = parent.create_sub_buffer(0, align, 2 * align)                    # bytes align .. 3*align
    again = cl.Buffer.from_handle(buffer.handle)                            # another wrapper of the same cl_mem
    # go through: adjacent ranges, sub-buffers' ranges apart, interleaved rows that share no byte
    queue.enqueue_copy_buffer(buffer, buffer, 0, 8, 8).wait()
    queue.enqueue_copy_buffer(low, high, 0, align, 16).wait()              # parent bytes 0.. into 2*align..
    queue.enqueue_copy_buffer_rect(buffer, again, (0, 0), (4, 0), (4, 4), 8, 0, 8, 0).wait()
    expected = data.copy()
    expected[8:16] = data[0:8]
    for row in range(4):
        expected[row * 8 + 4:row * 8 + 8] = expected[row * 8:row * 8 + 4]
    np.testing.assert_array_equal(_read(queue, buffer, np.uint8), expected)
    parent_bytes[2 * align:2 * align + 16] = parent_bytes[:16]
    np.testing.assert_array_equal(_read(queue, parent, np.uint8), parent_bytes)
    monkeypatch.setattr(checked, "clEnqueueCopyBuffer", lambda *a: pytest.fail("reached the driver"))
    monkeypatch.setattr(checked, "clEnqueueCopyBufferRect", lambda *a: pytest.fail("reached the driver"))
    cases = [
        lambda: queue.enqueue_copy_buffer(buffer, buffer, 0, 0, 1),          # a range onto itself
        lambda: queue.enqueue_copy_buffer(buffer, again, 8, 4, 8),           # two wrappers, one cl_mem
        lambda: queue.enqueue_copy_buffer(low, high, align + 8, 0, 16),      # sub-buffers: parent byte align+8
        lambda: queue.enqueue_copy_buffer_rect(buffer, buffer, (0, 0), (3, 0), (4, 4), 8, 0, 8, 0),
        lambda: queue.enqueue_copy_buffer_rect(buffer, buffer, (0, 0, 0), (0, 0, 1), (4, 2, 2), 8, 16, 4, 8),
        lambda: queue.enqueue_copy_buffer_rect(low, high, (align, 0), (0, 0), (8, 2), 16, 0, 16, 0),
    ]
    for case in cases:
        with pytest.raises(errors.MemCopyOverlap, match="checked by this binding before the driver"):
            case()
    for obj in (again, buffer, low, high, parent):
        obj.release()


@pytest.mark.parametrize("dst_offset", [
    pytest.param(0, id="onto_itself", marks=pytest.mark.deviation(
        "NVIDIA CUDA", "clEnqueueCopyBuffer of a range onto itself (one buffer, src_offset == dst_offset) succeeds "
        "(the specification: CL_MEM_COPY_OVERLAP) (NVIDIA 580)")),
    pytest.param(8, id="overlapping")])
def test_driver_reports_overlapping_ranges(context, queue, dst_offset):
    # the driver's own answer, through the checked layer (the handle layer checks it first)
    buffer = context.create_buffer(RW, 64)
    with pytest.raises(errors.MemCopyOverlap):
        checked.clEnqueueCopyBuffer(queue, buffer, buffer, 0, dst_offset, 16, 0, None, None)
    queue.finish()
    buffer.release()


@pytest.mark.deviation("NVIDIA CUDA", "clEnqueueCopyBufferRect of overlapping rects of one buffer succeeds (the "
                       "specification: CL_MEM_COPY_OVERLAP) (NVIDIA 580)")
@pytest.mark.deviation("Oclgrind", "clEnqueueCopyBufferRect of overlapping rects of one buffer succeeds (the "
                       "specification: CL_MEM_COPY_OVERLAP) (Oclgrind 21.10)")
def test_driver_reports_overlapping_rects(context, queue):
    buffer = context.create_buffer(RW, 480)
    size3 = ctypes.c_size_t * 3
    origin, other, region = size3(0, 0, 0), size3(4, 0, 0), size3(16, 2, 1)
    with pytest.raises(errors.MemCopyOverlap):
        checked.clEnqueueCopyBufferRect(queue, buffer, buffer, origin, other, region, 24, 120, 24, 120, 0, None, None)
    queue.finish()
    buffer.release()


def test_buffer_rect_validation(context, queue, refuse_driver):
    buffer = context.create_buffer(RW, 480)                                  # 4 slices x 5 rows x 24 bytes
    other = context.create_buffer(RW, 96)
    refuse_driver()
    host = np.zeros(48, np.float32)
    with pytest.raises(ValueError, match=r"buffer\).*past the 480"):
        queue.enqueue_read_buffer_rect(buffer, host, (0, 0, 3), (0, 0, 0), (24, 5, 2), 24, 120)
    with pytest.raises(ValueError, match=r"host\).*past the 192"):
        queue.enqueue_read_buffer_rect(buffer, host, (0, 0, 0), (4, 0, 0), (24, 4, 2), 24, 120)
    with pytest.raises(ValueError, match="row pitch 8 is less"):
        queue.enqueue_write_buffer_rect(buffer, host, (0, 0, 0), (0, 0, 0), (12, 2, 1), 8)
    with pytest.raises(ValueError, match="multiple of the row pitch"):
        queue.enqueue_write_buffer_rect(buffer, host, (0, 0, 0), (0, 0, 0), (12, 2, 2), 24, 60)
    with pytest.raises(ValueError, match="must not contain 0"):
        queue.enqueue_read_buffer_rect(buffer, host, (0, 0, 0), (0, 0, 0), (12, 0, 1))
    with pytest.raises(ValueError, match="1 to 3"):
        queue.enqueue_read_buffer_rect(buffer, host, (0, 0, 0, 0), (0, 0, 0), (12, 1, 1))
    with pytest.raises(ValueError, match="read-only"):
        queue.enqueue_read_buffer_rect(buffer, bytes(192), 0, 0, (12, 1, 1))
    with pytest.raises(ValueError, match=r"dst\).*past the 96"):
        queue.enqueue_copy_buffer_rect(buffer, other, 0, 0, (24, 5, 1))
    with pytest.raises(TypeError, match="int"):
        queue.enqueue_copy_buffer_rect(buffer, other, (0.0, 0), 0, (24, 1, 1))
    buffer.release()
    other.release()


def test_non_blocking_rect_write_pins_the_host_object(context, queue):
    gate = cl.Event.from_handle(checked.clCreateUserEvent(context), retain=False)
    buffer = context.create_buffer(RW, 64)
    host = np.arange(16, dtype=np.float32)
    alive = weakref.ref(host)
    event = queue.enqueue_write_buffer_rect(buffer, host, 0, 0, (64, 1, 1), blocking=False, wait_for=[gate])
    del host
    gc.collect()
    assert alive() is not None
    checked.clSetUserEventStatus(gate, raw.CL_COMPLETE)
    event.wait()
    assert _settled(lambda: alive() is None, True)
    np.testing.assert_array_equal(_read(queue, buffer, np.float32), np.arange(16))
    for obj in (event, gate, buffer):
        obj.release()


@pytest.mark.not_on_oclgrind("Oclgrind 21.10 accepts invalid migration flags (no CL_INVALID_VALUE)")
def test_migrate_mem_objects(context, queue, refuse_driver):
    data = np.arange(16, dtype=np.int32)
    a = context.create_buffer(COPY, host_buffer=data)
    b = context.create_buffer(COPY, host_buffer=data[::-1].copy())
    event = queue.enqueue_migrate_mem_objects([a, b], raw.CL_MIGRATE_MEM_OBJECT_HOST)
    assert event.command_type == cl.CommandType.MIGRATE_MEM_OBJECTS
    queue.enqueue_migrate_mem_objects(a).wait()                              # one object, to the device
    np.testing.assert_array_equal(_read(queue, a, np.int32), data)
    queue.enqueue_migrate_mem_objects([b], raw.CL_MIGRATE_MEM_OBJECT_CONTENT_UNDEFINED).wait()
    with pytest.raises(errors.InvalidValue):
        queue.enqueue_migrate_mem_objects([a], 0x100)                        # not a migration flag
    refuse_driver()
    with pytest.raises(ValueError, match="at least one"):
        queue.enqueue_migrate_mem_objects([])
    with pytest.raises(TypeError, match="MemObject"):
        queue.enqueue_migrate_mem_objects([a, data])
    for obj in (a, b, event):
        obj.release()


def test_destructor_callbacks_run_in_reverse_order(context):
    from opencl_raw import _callbacks
    pending = _callbacks.pending()
    buffer = context.create_buffer(RW, 64)
    value = buffer.handle.value
    calls = []
    for name in ("first", "second", "third"):
        buffer.set_destructor_callback(lambda handle_value, name=name: calls.append((name, handle_value)))
    assert _callbacks.pending() == pending + 3
    sub = buffer.create_sub_buffer(RW, 0, 32)                                # holds the parent's cl_mem
    buffer.release()
    assert calls == []                                                       # not destroyed yet
    sub.release()
    assert _settled(lambda: len(calls), 3) == 3
    assert calls == [("third", value), ("second", value), ("first", value)]  # the spec: reverse order
    assert _callbacks.pending() == pending                                   # entries dropped after running


def test_destructor_callback_exception_goes_to_unraisablehook(context, monkeypatch):
    seen = []
    monkeypatch.setattr("sys.unraisablehook", lambda info: seen.append(info.exc_value))
    buffer = context.create_buffer(RW, 16)
    buffer.set_destructor_callback(lambda value: 1 / 0)
    buffer.release()
    assert _settled(lambda: len(seen), 1) == 1 and isinstance(seen[0], ZeroDivisionError)
    other = context.create_buffer(RW, 16)
    with pytest.raises(TypeError, match="callable"):
        other.set_destructor_callback("not callable")
    other.release()
    with pytest.raises(cl.ReleasedHandleError):
        other.set_destructor_callback(print)


def test_use_host_ptr_memory_outlives_user_destructor_callbacks(context):
    # _pins registers its destructor callback at creation, so it runs after the user's
    host = np.arange(8, dtype=np.float64)
    buffer = context.create_buffer(RW | raw.CL_MEM_USE_HOST_PTR, host_buffer=host)
    alive = weakref.ref(host)
    del host
    seen = []
    buffer.set_destructor_callback(lambda value: seen.append(alive() is not None))
    buffer.release()
    assert _settled(lambda: seen, [True]) == [True]
    gc.collect()
    assert _settled(lambda: alive() is None, True)


@pytest.mark.not_on_oclgrind("Oclgrind 21.10 reports CL_MEM_MAP_COUNT 0 while a buffer is mapped")
def test_mapping_object(context, queue):
    data = np.arange(64, dtype=np.float32)
    buffer = context.create_buffer(COPY, host_buffer=data)
    with queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ | raw.CL_MAP_WRITE, 16, 64, dtype=np.float32,
                                  shape=(4, 4)) as mapping:
        assert isinstance(mapping, cl.MemoryMapping) and not mapping.unmapped
        assert mapping.event.command_type == cl.CommandType.MAP_BUFFER
        assert mapping.nbytes == 64 and mapping.memobj == buffer and mapping.row_pitch == 0
        np.testing.assert_array_equal(mapping.array, data[4:20].reshape(4, 4))
        np.testing.assert_array_equal(np.asarray(mapping), data[4:20].reshape(4, 4))
        mapping.array[0] = -1
        assert buffer.map_count == 1
    assert mapping.unmapped and isinstance(mapping.unmap_event, cl.Event)
    assert mapping.unmap_event.command_type == cl.CommandType.UNMAP_MEM_OBJECT
    with pytest.raises(ValueError, match="unmapped"):
        mapping.array
    with pytest.raises(ValueError, match="already unmapped"):
        mapping.unmap()
    with pytest.raises(ValueError, match="already unmapped"):
        queue.enqueue_unmap_mem_object(buffer, mapping)
    mapping.unmap_event.wait()
    assert buffer.map_count == 0
    expected = data.copy()
    expected[4:8] = -1
    np.testing.assert_array_equal(_read(queue, buffer, np.float32), expected)
    # explicit unmap(), tuple unpacking, unmapping through the array or the mapping
    second = queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ, dtype=np.float32, shape=(-1, 8))
    array, event = second
    assert array.shape == (8, 8) and event is second.event
    second.unmap().wait()
    third = queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ)
    queue.enqueue_unmap_mem_object(buffer, third.array[10:]).wait()          # a view: its base leads back
    assert third.unmapped
    fourth = queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ)
    other = context.create_buffer(RW, 16)
    with pytest.raises(ValueError, match="another memory object"):
        queue.enqueue_unmap_mem_object(other, fourth)
    with pytest.raises(ValueError, match="another memory object"):
        queue.enqueue_unmap_mem_object(other, fourth.array)
    assert not fourth.unmapped
    queue.enqueue_unmap_mem_object(buffer, fourth).wait()
    assert fourth.unmapped and buffer.map_count == 0
    for obj in (buffer, other, event):
        obj.release()


def test_views_keep_the_memory_alive_after_unmap_and_release(context, queue):
    data = np.arange(256, dtype=np.int32)
    buffer = context.create_buffer(COPY, host_buffer=data)
    witness = cl.Buffer.from_handle(buffer.handle)                           # to read the reference count
    before = witness.reference_count
    mapping = queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ, dtype=np.int32)
    view = mapping.array
    assert witness.reference_count >= before + 1                             # the mapping's own reference
    mapping.unmap().wait()
    mapping.event.release()                                                  # PoCL's events hold their cl_mem
    mapping.unmap_event.release()
    buffer.release()
    del mapping
    gc.collect()
    assert _settled(lambda: witness.reference_count, 2) == 2                 # witness + the view's reference
    # the specification leaves the contents undefined after unmap; with PoCL's CPU device the view
    # is the buffer's own memory, still allocated: reading it does not crash
    if "Portable Computing Language" in queue.device.platform.name:
        np.testing.assert_array_equal(view, data)
    del view
    gc.collect()
    assert _settled(lambda: witness.reference_count, 1) == 1
    witness.release()


def test_map_buffer_shape_validation(context, queue, refuse_driver):
    buffer = context.create_buffer(RW, 64)
    refuse_driver()
    with pytest.raises(ValueError, match="does not hold"):
        queue.enqueue_map_buffer(buffer, dtype=np.float32, shape=(4, 5))
    with pytest.raises(ValueError, match="one -1"):
        queue.enqueue_map_buffer(buffer, dtype=np.float32, shape=(-1, -1))
    with pytest.raises(ValueError, match="does not divide"):
        queue.enqueue_map_buffer(buffer, dtype=np.float32, shape=(-1, 3))
    with pytest.raises(TypeError, match="MemoryMapping"):
        queue.enqueue_unmap_mem_object(buffer, "pointer")
    buffer.release()


NO_NUMPY_FLOW = r"""
import array, json, sys
import opencl_raw as cl
from opencl_raw import raw
device = cl.select_device()
context = cl.create_context([device])
queue = context.create_command_queue_with_properties(device)
out = {}
data = array.array("i", range(16))
buffer = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=data)
back = bytearray(64)
queue.enqueue_read_buffer(buffer, back)
out["copy_host_ptr"] = list(array.array("i", bytes(back)))
queue.enqueue_write_buffer(buffer, bytes(range(64)))                    # bytes: read in place
queue.enqueue_read_buffer(buffer, back)
out["bytes"] = list(back)
strided = memoryview(array.array("i", range(32)))[::2]                # not contiguous: copied
queue.enqueue_write_buffer(buffer, strided)
view = memoryview(bytearray(64)).cast("i")
queue.enqueue_read_buffer(buffer, view)
out["strided"] = list(view)
for name, host in (("read_only", b"\0" * 64), ("not_contiguous", memoryview(bytearray(128))[::2])):
    try:
        queue.enqueue_read_buffer(buffer, host)
        out[name] = "accepted"
    except ValueError as exc:
        out[name] = str(exc)
gate = context.create_user_event()                                     # a non-blocking read into a bytearray
late = bytearray(64)
event = queue.enqueue_read_buffer(buffer, late, blocking=False, wait_for=[gate])
try:
    late.extend(b"x")                                                  # pinned: it cannot move meanwhile
    out["resize"] = "allowed"
except BufferError:
    out["resize"] = "refused"
gate.set_status(raw.CL_COMPLETE)
event.wait(timeout=30)
out["late"] = list(array.array("i", bytes(late)))
out["numpy"] = "numpy" in sys.modules
print(json.dumps(out))
"""


def test_host_objects_without_numpy(cl_target):
    """Host memory through memoryview and ctypes: a program that uses array.array, bytes and
    bytearray gets the right data, the same refusals as with numpy arrays, pinned host
    objects, and never imports numpy (issue 7: numpy only when first needed)."""
    import json
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
               OPENCL_RAW_PLATFORM=cl_target.platform_name, OPENCL_RAW_DEVICE=cl_target.device_name)
    done = subprocess.run([sys.executable, "-c", NO_NUMPY_FLOW], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["copy_host_ptr"] == list(range(16))
    assert out["bytes"] == list(range(64))
    assert out["strided"] == list(range(0, 32, 2))
    assert "read-only" in out["read_only"] and "C-contiguous" in out["not_contiguous"]
    assert out["resize"] == "refused"
    assert out["late"] == list(range(0, 32, 2))
    assert out["numpy"] is False
