"""Shared virtual memory (opencl_raw/svm.py): allocations, the SVM queue commands, kernel SVM arguments.

PoCL reports coarse-grained and fine-grained buffer SVM with atomics; kernels read and write SVM
memory and the results are checked against numpy.
"""
from __future__ import annotations

import gc
import time

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import errors, raw
from opencl_raw.event import pinned_count
from twelve_steps_common import settled

POCL = "Portable Computing Language"
RW = raw.CL_MEM_READ_WRITE
FINE = raw.CL_MEM_READ_WRITE | raw.CL_MEM_SVM_FINE_GRAIN_BUFFER

SOURCE = """
__kernel void axpy(__global float *y, __global const float *x, const float a)
{
    size_t i = get_global_id(0);
    y[i] = a * x[i] + y[i];
}

__kernel void through_table(__global const ulong *table, const float factor)
{
    __global float *data = (__global float *)table[0];     /* reached indirectly: CL_KERNEL_EXEC_INFO_SVM_PTRS */
    data[get_global_id(0)] *= factor;
}

__kernel void count(__global int *counter)
{
    atomic_inc(counter);
}
"""


@pytest.fixture
def svm_device(device):
    if device.version_tuple < (2, 0) or not device.svm_capabilities & raw.CL_DEVICE_SVM_COARSE_GRAIN_BUFFER:
        pytest.skip("the device has no SVM")
    return device


@pytest.fixture
def program(context, svm_device):
    p = context.create_program_with_source(SOURCE).build()
    yield p
    p.release()


def _driver_references(context) -> int:
    """How many context references the driver itself takes per SVM allocation (PoCL 3.1: one)."""
    before = context.reference_count
    pointer = raw.clSVMAlloc(context, RW, 64, 0)
    assert pointer
    during = context.reference_count
    raw.clSVMFree(context, pointer)
    assert context.reference_count == before
    return during - before


def _needs(device, capability):
    if not device.svm_capabilities & capability:
        pytest.skip(f"the device lacks {capability!r}")


def test_pocl_svm_capabilities(svm_device):
    if POCL not in svm_device.platform.name:
        pytest.skip("PoCL's answer")
    caps = svm_device.svm_capabilities
    assert caps == (raw.CL_DEVICE_SVM_COARSE_GRAIN_BUFFER | raw.CL_DEVICE_SVM_FINE_GRAIN_BUFFER
                    | raw.CL_DEVICE_SVM_ATOMICS)
    assert not caps & raw.CL_DEVICE_SVM_FINE_GRAIN_SYSTEM


# --------------------------------------------------------------------------- #
# allocations
# --------------------------------------------------------------------------- #

def test_svm_alloc_owns_its_memory(context, svm_device):
    base = context.reference_count
    extra = _driver_references(context)
    if POCL in svm_device.platform.name:
        assert extra == 1                                       # PoCL's clSVMAlloc retains the context
    svm = context.svm_alloc(RW, 1000)
    assert isinstance(svm, cl.SVMAllocation)
    assert type(svm.pointer) is int and svm.pointer and svm.size == svm.nbytes == 1000
    assert svm.flags == RW and isinstance(svm.flags, cl.MemFlags) and not svm.fine_grained
    assert svm.context == context and not svm.freed
    assert context.reference_count == base + extra + 1          # the allocation holds its own reference
    assert f"{svm.pointer:#x}" in repr(svm) and "coarse" in repr(svm)
    assert svm._as_parameter_.value == svm.pointer
    svm.free()
    svm.free()                                                  # idempotent
    assert svm.freed and "freed" in repr(svm)
    assert context.reference_count == base
    with pytest.raises(errors.ReleasedHandleError):
        svm.pointer
    with pytest.raises(errors.ReleasedHandleError):
        with svm:
            pass
    # with-statement, the constructor, garbage collection (coarse grain: every SVM device has it)
    with cl.SVMAllocation(context, RW, 64) as other:
        assert not other.fine_grained and context.reference_count == base + extra + 1
    assert other.freed and context.reference_count == base
    dropped = context.svm_alloc(RW, 64)
    assert context.reference_count == base + extra + 1
    del dropped
    gc.collect()
    assert context.reference_count == base                      # collected: clSVMFree, reference given back
    with pytest.raises(TypeError):
        import pickle
        pickle.dumps(context.svm_alloc(RW, 8))


def test_fine_grained_svm_alloc_owns_its_memory(context, svm_device):
    _needs(svm_device, raw.CL_DEVICE_SVM_FINE_GRAIN_BUFFER)
    base = context.reference_count
    extra = _driver_references(context)
    with cl.SVMAllocation(context, FINE, 64) as other:
        assert other.fine_grained and other.flags == FINE and "fine" in repr(other)
        assert context.reference_count == base + extra + 1
        other.view(np.int32)[:] = np.arange(16)                 # the host reaches it without a map
        assert other.view(np.int32).sum() == 120
    assert other.freed and context.reference_count == base


@pytest.mark.parametrize("grain", ["coarse", "fine"])
def test_svm_alloc_keeps_the_context_alive(device, svm_device, grain, implicit_refs):
    # Coarse-grained buffer SVM is what every OpenCL 2.x device with SVM has (NVIDIA 580: only that);
    # fine-grained is optional (PoCL 3.1 has it).
    if grain == "fine":
        _needs(svm_device, raw.CL_DEVICE_SVM_FINE_GRAIN_BUFFER)
    context = cl.create_context([device])
    extra = _driver_references(context)
    destroyed = []
    context.set_destructor_callback(destroyed.append)
    svm = context.svm_alloc(FINE if grain == "fine" else RW, 64)
    value = context._value
    context.release()                                           # the caller's reference
    assert destroyed == []
    if grain == "fine":
        svm.view(np.int32)[:] = 7                               # memory still valid
        assert list(svm.view(np.int32)) == [7] * 16
    else:                                                       # through a queue on the allocation's context
        queue = svm.context.create_command_queue_with_properties(device)
        fill = queue.enqueue_svm_mem_fill(svm, np.int32(7))
        fill.wait(timeout=30)
        mapped, mapping = queue.enqueue_svm_map(svm, raw.CL_MAP_READ, dtype=np.int32)
        assert list(mapped) == [7] * 16
        del mapped
        unmap = queue.enqueue_svm_unmap(svm)
        unmap.wait(timeout=30)
        for obj in (fill, mapping, unmap, queue):               # each holds a context reference
            obj.release()
    assert destroyed == []
    # PoCL drops the references of finished commands a moment later
    assert settled(lambda: svm.context.reference_count, 1 + extra) == 1 + extra
    svm.free()                                                  # clSVMFree, then the last reference
    if grain == "fine" or implicit_refs.queue_on_context:
        assert settled(lambda: list(destroyed), [value]) == [value]
    else:
        # A driver whose counts leave out the holds of a queue and its commands (NVIDIA 580) also
        # decides when it lets go of them: there the context outlived this test's 5 s wait. It
        # must still not be destroyed twice, nor as another context.
        assert settled(lambda: list(destroyed), [value]) in ([], [value])


def test_context_svm_free(context, svm_device):
    svm = context.svm_alloc(RW, 64)
    context.svm_free(svm)
    assert svm.freed
    context.svm_free(svm)                                       # a freed one: nothing to do
    pointer = raw.clSVMAlloc(context, RW, 64, 0)                # memory from the raw layer
    assert pointer
    context.svm_free(pointer)
    with pytest.raises(TypeError):
        context.svm_free("pointer")
    other = cl.create_context(context.devices)
    theirs = other.svm_alloc(RW, 64)
    with pytest.raises(ValueError, match="another context"):
        context.svm_free(theirs)
    theirs.free()
    other.release()


@pytest.mark.parametrize("args, error", [
    ((RW, 0), ValueError),
    ((RW, -8), ValueError),
    ((RW, 8.0), TypeError),
    ((RW, None), TypeError),
    (("RW", 8), TypeError),
    ((RW | raw.CL_MEM_COPY_HOST_PTR, 8), ValueError),           # not a clSVMAlloc flag
    ((raw.CL_MEM_READ_ONLY | raw.CL_MEM_WRITE_ONLY, 8), ValueError),
    ((RW | raw.CL_MEM_SVM_ATOMICS, 8), ValueError),            # atomics need fine grain
    ((RW, 8, 3), ValueError),                                   # not a power of two
    ((RW, 8, 256), ValueError),                                 # above the largest data type
    ((RW, 8, -1), ValueError),
    ((RW, 1 << 62), ValueError),                                # above CL_DEVICE_MAX_MEM_ALLOC_SIZE
])
def test_svm_alloc_refusals(context, svm_device, args, error):
    base = context.reference_count
    with pytest.raises(error):
        context.svm_alloc(*args)
    assert context.reference_count == base                      # nothing allocated


def test_svm_alloc_alignment(context, svm_device):
    for alignment in (0, 1, 16, 64, 128):
        with context.svm_alloc(RW, 100, alignment) as svm:
            assert svm.pointer % max(alignment, 1) == 0


def test_svm_capability_is_checked(context, svm_device):
    if svm_device.svm_capabilities & raw.CL_DEVICE_SVM_FINE_GRAIN_BUFFER:
        pytest.skip("the device has fine-grained SVM")
    with pytest.raises(ValueError, match="FINE_GRAIN_BUFFER"):
        context.svm_alloc(FINE, 64)


# --------------------------------------------------------------------------- #
# kernels on fine- and coarse-grained SVM
# --------------------------------------------------------------------------- #

def test_fine_grained_svm_kernel(context, queue, program, svm_device):
    _needs(svm_device, raw.CL_DEVICE_SVM_FINE_GRAIN_BUFFER)
    n = 4096
    rng = np.random.default_rng(1)
    x_data, y_data = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    x, y = context.svm_alloc(FINE, 4 * n), context.svm_alloc(FINE, 4 * n)
    x.view(np.float32)[:] = x_data                              # the host writes directly
    y.view(np.float32, (2, n // 2))[:] = y_data.reshape(2, n // 2)
    assert memoryview(y.view()).nbytes == 4 * n
    kernel = program.create_kernel("axpy")
    kernel.set_arg_svm_pointer(0, y)
    kernel.set_arg_svm_pointer(1, x)
    kernel.set_arg(2, np.float32(3.0))
    queue.enqueue_nd_range_kernel(kernel, n).wait(timeout=30)
    np.testing.assert_allclose(y.view(np.float32), 3 * x_data + y_data, rtol=1e-5, atol=1e-6)   # read directly
    # A pointer into the allocation: the second half only.
    kernel.set_arg_svm_pointer(0, y.pointer + 2 * n)
    kernel.set_arg_svm_pointer(1, x.pointer + 2 * n)
    queue.enqueue_nd_range_kernel(kernel, n // 2).wait(timeout=30)
    expected = 3 * x_data + y_data
    expected[n // 2:] += 3 * x_data[n // 2:]
    np.testing.assert_allclose(y.view(np.float32), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="whole number"):
        context.svm_alloc(FINE, 6).view(np.float32)
    kernel.release()
    x.free()
    y.free()


def test_a_view_keeps_the_allocation_alive(context, svm_device):
    _needs(svm_device, raw.CL_DEVICE_SVM_FINE_GRAIN_BUFFER)
    base = context.reference_count
    extra = _driver_references(context)
    svm = context.svm_alloc(FINE, 64)
    view = svm.view(np.int32)
    del svm
    gc.collect()
    assert context.reference_count == base + extra + 1          # not freed: the view's base holds it
    view[:] = np.arange(16)
    assert view.sum() == 120
    del view
    gc.collect()
    assert context.reference_count == base


def test_coarse_grained_svm_kernel_through_map(context, queue, program, svm_device):
    n = 2048
    x_data = np.linspace(-1, 1, n, dtype=np.float32)
    x, y = context.svm_alloc(RW, 4 * n), context.svm_alloc(RW, 4 * n)
    with pytest.raises(ValueError, match="enqueue_svm_map"):
        x.view()
    for svm, data in ((x, x_data), (y, np.ones(n, dtype=np.float32))):
        mapped, event = queue.enqueue_svm_map(svm, raw.CL_MAP_WRITE_INVALIDATE_REGION, dtype=np.float32)
        assert event.command_type is cl.CommandType.SVM_MAP and mapped.shape == (n,)
        mapped[:] = data
        unmap = queue.enqueue_svm_unmap(mapped)                 # the mapped array names the region
        assert unmap.command_type is cl.CommandType.SVM_UNMAP
        unmap.wait(timeout=10)
    kernel = program.create_kernel("axpy")
    kernel.set_arg_svm_pointer(0, y)
    kernel.set_arg_svm_pointer(1, x)
    kernel.set_arg(2, np.float32(-2.0))
    done = queue.enqueue_nd_range_kernel(kernel, n)
    mapped, event = queue.enqueue_svm_map(y, raw.CL_MAP_READ, blocking=False, wait_for=[done], dtype=np.float32,
                                          shape=(2, n // 2))
    event.wait(timeout=30)
    np.testing.assert_allclose(mapped.ravel(), -2 * x_data + 1, rtol=1e-5, atol=1e-6)
    queue.enqueue_svm_unmap(y).wait(timeout=10)
    # a part of it, at an offset
    part, _ = queue.enqueue_svm_map(y, raw.CL_MAP_READ, size=16, offset=4 * (n - 4), dtype=np.float32)
    np.testing.assert_allclose(part, -2 * x_data[-4:] + 1, rtol=1e-5, atol=1e-6)
    queue.enqueue_svm_unmap(part).wait(timeout=10)
    for flags in (0, raw.CL_MAP_READ | raw.CL_MAP_WRITE_INVALIDATE_REGION, 1 << 10):
        with pytest.raises(ValueError, match="CL_MAP_WRITE_INVALIDATE_REGION"):
            queue.enqueue_svm_map(y, flags)
    with pytest.raises(ValueError):
        queue.enqueue_svm_map(y, raw.CL_MAP_READ, size=8, offset=4 * n)
    with pytest.raises(TypeError):
        queue.enqueue_svm_unmap("array")
    kernel.release()
    x.free()
    y.free()


def test_svm_atomics(context, queue, program, svm_device):
    _needs(svm_device, raw.CL_DEVICE_SVM_ATOMICS)
    counter = context.svm_alloc(FINE | raw.CL_MEM_SVM_ATOMICS, 4)
    counter.view(np.int32)[0] = 5
    kernel = program.create_kernel("count")
    kernel.set_arg_svm_pointer(0, counter)
    queue.enqueue_nd_range_kernel(kernel, 10000).wait(timeout=30)
    assert counter.view(np.int32)[0] == 10005
    kernel.release()
    counter.free()


def test_set_exec_info_for_indirect_svm_pointers(context, queue, program, svm_device):
    _needs(svm_device, raw.CL_DEVICE_SVM_FINE_GRAIN_BUFFER)
    n = 256
    data = context.svm_alloc(FINE, 4 * n)
    table = context.svm_alloc(FINE, 8)
    values = np.arange(n, dtype=np.float32)
    data.view(np.float32)[:] = values
    table.view(np.uint64)[0] = data.pointer
    kernel = program.create_kernel("through_table")
    kernel.set_arg_svm_pointer(0, table)
    kernel.set_arg(1, np.float32(0.5))
    kernel.set_exec_info(raw.CL_KERNEL_EXEC_INFO_SVM_PTRS, [data])
    kernel.set_exec_info(raw.CL_KERNEL_EXEC_INFO_SVM_PTRS, data)      # one allocation alone
    kernel.set_exec_info(raw.CL_KERNEL_EXEC_INFO_SVM_FINE_GRAIN_SYSTEM, False)
    queue.enqueue_nd_range_kernel(kernel, n).wait(timeout=30)
    np.testing.assert_array_equal(data.view(np.float32), values * 0.5)
    with pytest.raises(TypeError):
        kernel.set_exec_info(raw.CL_KERNEL_EXEC_INFO_SVM_PTRS, ["address"])
    with pytest.raises(TypeError):
        kernel.set_exec_info(raw.CL_KERNEL_EXEC_INFO_SVM_FINE_GRAIN_SYSTEM, "no")
    with pytest.raises(TypeError):
        kernel.set_exec_info("CL_KERNEL_EXEC_INFO_SVM_PTRS", [data])
    with pytest.raises(TypeError):
        kernel.set_exec_info(0x7777, 1.5)
    kernel.release()
    data.free()
    table.free()


def test_set_arg_svm_pointer_refusals(context, program, svm_device):
    kernel = program.create_kernel("axpy")
    svm = context.svm_alloc(RW, 64)
    buffer = context.create_buffer(RW, 64)
    for bad in (buffer, "0x1000", 1.0):
        with pytest.raises(TypeError):
            kernel.set_arg_svm_pointer(0, bad)
    with pytest.raises(ValueError):
        kernel.set_arg_svm_pointer(0, -16)
    with pytest.raises(ValueError, match="negative"):                   # as Kernel.set_arg: a cl_uint index
        kernel.set_arg_svm_pointer(-1, svm)
    with pytest.raises(TypeError, match="index"):
        kernel.set_arg_svm_pointer(0.0, svm)
    with pytest.raises(errors.InvalidArgIndex) as caught:
        kernel.set_arg_svm_pointer(7, svm)
    assert caught.value.function == "clSetKernelArgSVMPointer"
    kernel.set_arg_svm_pointer(0, None)                         # NULL is a value
    svm.free()
    with pytest.raises(errors.ReleasedHandleError):
        kernel.set_arg_svm_pointer(0, svm)
    for obj in (buffer, kernel):
        obj.release()


# --------------------------------------------------------------------------- #
# copies, fills, migration, frees
# --------------------------------------------------------------------------- #

def test_svm_memcpy(context, queue, svm_device):
    n = 1024
    data = np.arange(n, dtype=np.float32)
    a, b = context.svm_alloc(RW, 4 * n), context.svm_alloc(RW, 4 * n)
    queue.enqueue_svm_mem_fill(b, np.float32(0))                # (SVM memory starts undefined)
    event = queue.enqueue_svm_memcpy(a, data)                   # host -> SVM, all of data
    assert event.command_type is cl.CommandType.SVM_MEMCPY
    queue.enqueue_svm_memcpy(b, a, size=4 * 100, dst_offset=4 * 10, src_offset=4 * 500)   # SVM -> SVM, a part
    queue.enqueue_svm_memcpy(b, a, size=4 * 10)
    out = np.zeros(n, dtype=np.float32)
    queue.finish()
    # the fill's pattern is pinned until its completion callback, which a driver may run a moment after
    # the command completed (NVIDIA 580 did, once)
    pins = settled(pinned_count, 0)
    gate = context.create_user_event()
    late = queue.enqueue_svm_memcpy(out, b, blocking=False, wait_for=[gate])    # SVM -> host, non-blocking
    assert pinned_count() == pins + 1                           # out and b kept until it completes
    gate.set_status(raw.CL_COMPLETE)
    late.wait(timeout=10)
    deadline = time.monotonic() + 5
    while pinned_count() > pins and time.monotonic() < deadline:
        time.sleep(0.01)                                        # the pin goes in the completion callback
    assert pinned_count() == pins
    gate.release()
    expected = np.zeros(n, dtype=np.float32)
    expected[:10] = data[:10]
    expected[10:110] = data[500:600]
    np.testing.assert_array_equal(out, expected)
    small = bytearray(8)
    queue.enqueue_svm_memcpy(small, a, size=8, src_offset=4 * 2)
    assert np.frombuffer(bytes(small), dtype=np.float32).tolist() == [2.0, 3.0]
    # refusals before the driver
    with pytest.raises(ValueError, match="exceed"):
        queue.enqueue_svm_memcpy(a, np.zeros(n + 1, dtype=np.float32))
    with pytest.raises(ValueError, match="exceed"):
        queue.enqueue_svm_memcpy(out, a, size=4 * n, src_offset=4)
    with pytest.raises(ValueError):
        queue.enqueue_svm_memcpy(a, b, dst_offset=4 * n + 4)
    with pytest.raises(ValueError, match="read-only"):
        queue.enqueue_svm_memcpy(bytes(16), a, size=16)
    with pytest.raises(TypeError):
        queue.enqueue_svm_memcpy(a, "data")
    with pytest.raises(TypeError):
        queue.enqueue_svm_memcpy(a, b, size=4.0)
    # the driver: overlapping regions of one allocation
    with pytest.raises(errors.MemCopyOverlap) as caught:
        queue.enqueue_svm_memcpy(a, a, size=64, dst_offset=0, src_offset=16)
    assert caught.value.function == "clEnqueueSVMMemcpy"
    queue.finish()
    a.free()
    with pytest.raises(errors.ReleasedHandleError):
        queue.enqueue_svm_memcpy(a, b)
    b.free()


def test_svm_mem_fill(context, queue, svm_device):
    n = 256
    svm = context.svm_alloc(RW, 4 * n)
    event = queue.enqueue_svm_mem_fill(svm, np.float32(2.5))
    assert event.command_type is cl.CommandType.SVM_MEMFILL
    queue.enqueue_svm_mem_fill(svm, np.array([1, 2, 3, 4], dtype=np.float32), size=32, offset=64)   # 16-byte pattern
    queue.enqueue_svm_mem_fill(svm, b"\x00\x00\x80\xbf", size=8, offset=4 * (n - 2))               # -1.0f
    out = np.empty(n, dtype=np.float32)
    queue.enqueue_svm_memcpy(out, svm, wait_for=[event])
    expected = np.full(n, 2.5, dtype=np.float32)
    expected[16:24] = [1, 2, 3, 4, 1, 2, 3, 4]
    expected[-2:] = -1.0
    np.testing.assert_array_equal(out, expected)
    for pattern, error in ((b"abc", ValueError), (bytes(256), ValueError), (b"", ValueError), (7, TypeError),
                           (2.5, TypeError), ("ab", TypeError)):
        with pytest.raises(error):
            queue.enqueue_svm_mem_fill(svm, pattern)
    with pytest.raises(ValueError, match="multiple"):
        queue.enqueue_svm_mem_fill(svm, np.float32(1), size=6)
    with pytest.raises(ValueError, match="aligned"):
        queue.enqueue_svm_mem_fill(svm, np.float32(1), size=8, offset=2)
    with pytest.raises(ValueError):
        queue.enqueue_svm_mem_fill(svm, np.float32(1), size=8, offset=4 * n)
    svm.free()


def test_svm_migrate_mem(context, queue, svm_device):
    if svm_device.version_tuple < (2, 1):
        pytest.skip("clEnqueueSVMMigrateMem needs OpenCL 2.1")
    a, b = context.svm_alloc(RW, 64), context.svm_alloc(RW, 128)
    queue.enqueue_svm_mem_fill(a, np.int32(9))
    event = queue.enqueue_svm_migrate_mem([a, b])
    assert event.command_type is cl.CommandType.SVM_MIGRATE_MEM
    back = queue.enqueue_svm_migrate_mem(a, raw.CL_MIGRATE_MEM_OBJECT_HOST)
    back.wait(timeout=10)
    out = np.zeros(16, dtype=np.int32)
    queue.enqueue_svm_memcpy(out, a)
    assert out.tolist() == [9] * 16                             # contents survive migration
    with pytest.raises(ValueError, match="at least one"):
        queue.enqueue_svm_migrate_mem([])
    with pytest.raises(ValueError, match="flags"):
        queue.enqueue_svm_migrate_mem(a, raw.CL_MAP_READ << 8)
    with pytest.raises(TypeError):
        queue.enqueue_svm_migrate_mem(["a"])
    a.free()
    b.free()


def test_enqueue_svm_free(context, queue, svm_device):
    base = context.reference_count
    allocations = [context.svm_alloc(RW, 64) for _ in range(3)]
    gate = context.create_user_event()
    event = queue.enqueue_svm_free(allocations, wait_for=[gate])   # the driver frees them
    assert event.command_type is cl.CommandType.SVM_FREE
    assert all(a.freed for a in allocations)
    allocations[0].free()                                       # marked freed: nothing to do
    gate.set_status(raw.CL_COMPLETE)
    event.wait(timeout=10)
    gate.release()
    event.release()
    assert context.reference_count == base
    svm = context.svm_alloc(RW, 64)
    with pytest.raises(ValueError, match="twice"):
        queue.enqueue_svm_free([svm, svm])
    with pytest.raises(ValueError, match="at least one"):
        queue.enqueue_svm_free([])
    with pytest.raises(TypeError, match="callable"):
        queue.enqueue_svm_free(svm, callback="free")
    with pytest.raises(errors.ReleasedHandleError):
        queue.enqueue_svm_free(allocations[1])
    assert not svm.freed                                        # refusals leave it alone
    queue.enqueue_svm_free(svm).wait(timeout=10)


def test_svm_of_another_context_is_refused(context, queue, device, svm_device):
    other = cl.create_context([device])
    theirs = other.svm_alloc(RW, 64)
    mine = context.svm_alloc(RW, 64)
    for call in (lambda: queue.enqueue_svm_memcpy(mine, theirs), lambda: queue.enqueue_svm_mem_fill(theirs, b"x"),
                 lambda: queue.enqueue_svm_map(theirs), lambda: queue.enqueue_svm_unmap(theirs),
                 lambda: queue.enqueue_svm_free(theirs)):
        with pytest.raises(ValueError, match="another context"):
            call()
    if device.version_tuple >= (2, 1):
        with pytest.raises(ValueError, match="another context"):
            queue.enqueue_svm_migrate_mem([mine, theirs])
    assert not theirs.freed
    theirs.free()
    mine.free()
    other.release()


def test_svm_is_gated_on_oclgrind(run_oclgrind):
    result = run_oclgrind("""
import json
import opencl_raw as cl
from opencl_raw import raw
from opencl_raw.errors import FunctionUnavailableError
device = cl.select_device()
context = cl.create_context([device])
base = context.reference_count
try:
    context.svm_alloc(raw.CL_MEM_READ_WRITE, 64)
    out = "returned"
except FunctionUnavailableError as exc:
    out = str(exc)
print(json.dumps({"error": out, "refcount_unchanged": context.reference_count == base}))
""")
    assert "clSVMAlloc" in result["error"] and "OpenCL 2.0" in result["error"] and "1.2" in result["error"]
    assert result["refcount_unchanged"]
