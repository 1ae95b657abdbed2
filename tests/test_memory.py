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


def test_create_buffer_plain(context):
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
    assert context.reference_count == 2
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


def test_sub_buffer_wrapped_as_buffer(context, device, queue):
    align = device.mem_base_addr_align // 8                 # bits -> bytes
    parent = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR,
                                   host_buffer=np.arange(4 * align, dtype=np.uint8))
    region = raw.cl_buffer_region(align, 2 * align)
    handle = checked.clCreateSubBuffer(parent, raw.CL_MEM_READ_WRITE, raw.CL_BUFFER_CREATE_TYPE_REGION,
                                       ctypes.byref(region))
    sub = cl.MemObject.from_handle(handle, retain=False)
    assert type(sub) is cl.Buffer
    assert sub.size == 2 * align and sub.offset == align
    owner = sub.associated_memobject
    assert type(owner) is cl.Buffer and owner == parent
    owner.release()
    np.testing.assert_array_equal(queue.enqueue_read_buffer(sub), np.arange(align, 3 * align, dtype=np.uint8))
    assert parent.reference_count == 2                      # the sub-buffer holds its parent
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
