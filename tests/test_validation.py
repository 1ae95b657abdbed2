"""Validation before the driver (issue 6, section 2): whatever a user passes from Python gets a
correct result or a clear exception (TypeError or ValueError naming the parameter or the
limit, or a CLError with its CL name), never a value silently changed on its way to C.

- work sizes of ``enqueue_nd_range_kernel`` against the device's limits (read once per
  queue: no driver query per launch afterwards), offsets past 2**32;
- allocation sizes against CL_DEVICE_MAX_MEM_ALLOC_SIZE (buffers, images, SVM);
- wrong Python types in the handle and checked layers (TypeError naming the parameter;
  the raw layer keeps C semantics: ``ctypes.ArgumentError``), and ints that ctypes would
  wrap modulo 2**32 or 2**64 into another valid value;
- every host destination path refuses read-only and non-contiguous objects, and mappings
  made only for reading give read-only arrays.
"""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import checked, errors, raw

SOURCE = """
__kernel void ids(__global ulong *out) {
    out[get_global_id(0) - get_global_offset(0)] = get_global_id(0);
}
__kernel void fill(__global int *out, int v) { out[get_global_id(0)] = v; }
"""


@pytest.fixture
def program(context):
    program = context.create_program_with_source(SOURCE).build()
    yield program
    program.release()


@pytest.fixture
def ids(program, context):
    kernel = program.create_kernel("ids")
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 8 * 4096)
    kernel.set_arg(0, buffer)
    yield kernel, buffer
    kernel.release()
    buffer.release()


def _uniform_only(device) -> bool:
    """Whether the binding can be sure the device has no non-uniform work-groups."""
    version = device.version_tuple
    if version < (2, 0):
        return True
    return version >= (3, 0) and not device.get_info(raw.CL_DEVICE_NON_UNIFORM_WORK_GROUP_SUPPORT)


# --------------------------------------------------------------------------- #
# work sizes
# --------------------------------------------------------------------------- #

def test_local_size_that_does_not_divide_the_global_size(queue, device, ids):
    """On a device without non-uniform work-groups a local size that does not divide the global
    size is refused with ValueError saying why (PoCL 3.1: CL_DEVICE_NON_UNIFORM_WORK_GROUP_SUPPORT
    false; Oclgrind: OpenCL 1.2); where non-uniform work-groups may exist, the binding lets
    the driver decide (it depends on the program's -cl-std too): a result or a CLError."""
    kernel, _ = ids
    if _uniform_only(device):
        with pytest.raises(ValueError, match=r"does not divide global_size \(10,\) in dimension 0.*"
                                             r"(NON_UNIFORM_WORK_GROUP_SUPPORT is false|OpenCL 1\.)"):
            queue.enqueue_nd_range_kernel(kernel, 10, 3)
        with pytest.raises(ValueError, match="dimension 1"):
            queue.enqueue_nd_range_kernel(kernel, (8, 10), (4, 4))
    else:
        try:
            queue.enqueue_nd_range_kernel(kernel, 10, 3).wait()
        except errors.InvalidWorkGroupSize:
            pass
    queue.enqueue_nd_range_kernel(kernel, 12, 3).wait()               # 3 divides 12: runs


def test_work_group_limits_name_the_limit(queue, device, ids):
    """CL_DEVICE_MAX_WORK_ITEM_SIZES (per dimension) and CL_DEVICE_MAX_WORK_GROUP_SIZE (the
    product of the local sizes) are checked before the driver; the messages name them. A
    local size of 0 is refused too (the driver's CL_INVALID_WORK_GROUP_SIZE)."""
    kernel, _ = ids
    max_items = device.get_info(raw.CL_DEVICE_MAX_WORK_ITEM_SIZES)
    max_group = device.get_info(raw.CL_DEVICE_MAX_WORK_GROUP_SIZE)
    too_wide = max_items[0] + 1
    with pytest.raises(ValueError, match=rf"CL_DEVICE_MAX_WORK_ITEM_SIZES\[0\] = {max_items[0]}"):
        queue.enqueue_nd_range_kernel(kernel, too_wide, too_wide)
    if max_items[1] >= 2 and max_items[0] >= max_group:
        local = (max_group, 2)
        with pytest.raises(ValueError, match=rf"{2 * max_group} work-items.*CL_DEVICE_MAX_WORK_GROUP_SIZE = "
                                             rf"{max_group}"):
            queue.enqueue_nd_range_kernel(kernel, local, local)
    with pytest.raises(ValueError, match="positive"):
        queue.enqueue_nd_range_kernel(kernel, 16, 0)


@pytest.mark.deviation("NVIDIA CUDA", "a global offset of 2**32 + 5 reaches the kernel as 5: get_global_id "
                       "is 5 + i (the specification: global_work_offset is size_t, get_global_id returns "
                       "size_t, 2**32 + 5 + i) (NVIDIA 580)")
def test_global_offset_above_2_to_the_32(queue, device, ids):
    """Sizes are size_t: an offset of 2**32 + 5 reaches the kernel unchanged (get_global_id is
    2**32 + 5 + i; a 32-bit conversion anywhere would give 5 + i)."""
    if device.get_info(raw.CL_DEVICE_ADDRESS_BITS) != 64:
        pytest.skip("a 32-bit device has no offsets above 2**32")
    kernel, buffer = ids
    offset = 2 ** 32 + 5
    queue.enqueue_nd_range_kernel(kernel, 16, None, offset).wait()
    got = queue.enqueue_read_buffer(buffer).view(np.uint64)[:16]
    np.testing.assert_array_equal(got, offset + np.arange(16, dtype=np.uint64))


def test_offsets_past_size_t_are_refused(queue, device, ids):
    """An offset plus size past the device's size_t, or any size past the host's size_t, is
    refused (ctypes would wrap it)."""
    if device.get_info(raw.CL_DEVICE_ADDRESS_BITS) != 64:
        pytest.skip("the values below are for a 64-bit device")
    kernel, _ = ids
    with pytest.raises(ValueError, match="CL_DEVICE_ADDRESS_BITS"):
        queue.enqueue_nd_range_kernel(kernel, 16, None, 2 ** 64 - 8)
    with pytest.raises(ValueError, match="size_t"):
        queue.enqueue_nd_range_kernel(kernel, 2 ** 64 + 16)
    with pytest.raises(ValueError, match="size_t"):
        queue.enqueue_nd_range_kernel(kernel, 16, None, 2 ** 64)


def test_launch_limits_are_read_once_per_queue(queue, ids, monkeypatch):
    """The device limits behind those checks are read on the first launch with a local size or
    an offset, then kept by the queue: later launches ask the driver nothing but
    clEnqueueNDRangeKernel (the launch benchmark measures this path)."""
    kernel, _ = ids
    queue.enqueue_nd_range_kernel(kernel, 64, 8, 0).wait()
    calls = []
    for name in ("clGetDeviceInfo", "clGetCommandQueueInfo", "clGetKernelInfo", "clGetContextInfo"):
        original = getattr(checked, name)
        monkeypatch.setattr(checked, name, lambda *args, _name=name, _original=original:
                            calls.append(_name) or _original(*args))
    for _ in range(100):
        queue.enqueue_nd_range_kernel(kernel, 64, 8, 0, event=False)
        queue.enqueue_nd_range_kernel(kernel, (64,), (16,))
    queue.finish()
    assert calls == []


def test_each_launch_runs_the_sizes_it_was_given(queue, ids):
    """The queue keeps the shape of its last launch for the very same size objects: launches
    that give the same objects, equal ones, other sizes, lists and offsets, in turn, each run
    their own NDRange (the ids kernel writes global ids from index 0)."""
    kernel, buffer = ids
    same = (8,)
    launches = [(same, None), (same, None), (same, None), ((16,), 4), (same, None), ([8], 2), (same, None),
                (24, 1000), (same, None), (24, 1000), ((8,), None), (same, None), (same, 3)]
    for global_size, offset in launches:
        queue.enqueue_fill_buffer(buffer, np.uint64(0))
        queue.enqueue_nd_range_kernel(kernel, global_size, None, offset, event=False)
        got = queue.enqueue_read_buffer(buffer).view(np.uint64)[:32]
        n = global_size if isinstance(global_size, int) else global_size[0]
        expected = np.zeros(32, dtype=np.uint64)
        expected[:n] = (offset or 0) + np.arange(n, dtype=np.uint64)
        np.testing.assert_array_equal(got, expected, err_msg=f"{global_size!r}, offset {offset}")


def test_oclgrind_refuses_non_uniform_work_groups_as_opencl_1_2(run_oclgrind):
    """On Oclgrind (OpenCL 1.2, where work-groups are always uniform) the refusal names the version."""
    result = run_oclgrind("""
import json
import opencl_raw as cl
from opencl_raw import raw
device = cl.select_device()
context = cl.create_context([device])
queue = context.create_command_queue_with_properties(device)
kernel = context.create_program_with_source("__kernel void k(__global int *a) { a[0] = 1; }").build().create_kernel("k")
kernel.set_arg(0, context.create_buffer(raw.CL_MEM_READ_WRITE, 64))
try:
    queue.enqueue_nd_range_kernel(kernel, 10, 3)
    print(json.dumps("no error"))
except ValueError as exc:
    print(json.dumps(str(exc)))
""")
    assert "does not divide" in result and "OpenCL 1.2" in result, result


# --------------------------------------------------------------------------- #
# allocation sizes
# --------------------------------------------------------------------------- #

def test_allocations_above_max_mem_alloc_size(context, device):
    """A buffer, an image or an SVM allocation above CL_DEVICE_MAX_MEM_ALLOC_SIZE is refused
    before the driver, naming the limit: InvalidBufferSize for buffers (the code the
    specification gives clCreateBuffer for it), InvalidImageSize for images, ValueError for
    SVM (clSVMAlloc would return NULL). Sizes past 2**64 are refused the same way instead of
    wrapping (2**64 + 5 would have made a 5-byte buffer)."""
    limit = device.get_info(raw.CL_DEVICE_MAX_MEM_ALLOC_SIZE)
    for size in (limit + 1, 2 ** 64 + 5):
        with pytest.raises(errors.InvalidBufferSize, match=f"CL_DEVICE_MAX_MEM_ALLOC_SIZE \\({limit} bytes"):
            context.create_buffer(raw.CL_MEM_READ_WRITE, size)
    if device.version_tuple >= (3, 0):
        with pytest.raises(errors.InvalidBufferSize, match="CL_DEVICE_MAX_MEM_ALLOC_SIZE"):
            context.create_buffer_with_properties(None, raw.CL_MEM_READ_WRITE, limit + 1)
    if device.get_info(raw.CL_DEVICE_IMAGE_SUPPORT):
        side = device.get_info(raw.CL_DEVICE_IMAGE3D_MAX_WIDTH)
        if side ** 3 * 16 > limit:
            with pytest.raises(errors.InvalidImageSize, match="CL_DEVICE_MAX_MEM_ALLOC_SIZE"):
                context.create_image(raw.CL_MEM_READ_WRITE, (raw.CL_RGBA, raw.CL_FLOAT), (side, side, side))
        with pytest.raises(ValueError, match="size_t"):
            context.create_image(raw.CL_MEM_READ_WRITE, (raw.CL_RGBA, raw.CL_FLOAT), (2 ** 64 + 4, 4))
    if device.version_tuple >= (2, 0):
        with pytest.raises(ValueError, match="CL_DEVICE_MAX_MEM_ALLOC_SIZE"):
            context.svm_alloc(raw.CL_MEM_READ_WRITE, limit + 1)


# --------------------------------------------------------------------------- #
# wrong types and wrapped ints
# --------------------------------------------------------------------------- #

def _handle_layer_cases(context, device, queue, program, buffer, kernel, event):
    host = np.zeros(16, np.float32)
    return [
        # (call, exception, text the message must contain)
        (lambda: context.create_buffer("rw", 16), TypeError, "flags"),
        (lambda: context.create_buffer(raw.CL_MEM_READ_WRITE, "16"), TypeError, "size"),
        (lambda: cl.Buffer("context", raw.CL_MEM_READ_WRITE, 16), TypeError, "context"),
        (lambda: context.create_buffer(2 ** 64 + raw.CL_MEM_READ_WRITE, 16), ValueError, "flags"),
        (lambda: buffer.create_sub_buffer("0", 0, 16), TypeError, "flags"),
        (lambda: buffer.create_sub_buffer(0, 2 ** 64, 16), ValueError, "origin"),
        (lambda: queue.enqueue_write_buffer("buffer", host), TypeError, "buffer"),
        (lambda: queue.enqueue_write_buffer(buffer, 5), TypeError, "host"),
        (lambda: queue.enqueue_read_buffer(buffer, host, offset="0"), TypeError, "offset"),
        (lambda: queue.enqueue_read_buffer(buffer, host, wait_for=5), TypeError, "wait_for"),
        (lambda: queue.enqueue_read_buffer(buffer, host, wait_for=[buffer]), TypeError, "wait_for"),
        (lambda: queue.enqueue_copy_buffer(buffer, "dst"), TypeError, "dst"),
        (lambda: queue.enqueue_fill_buffer(buffer, 1.5), TypeError, "pattern"),
        (lambda: queue.enqueue_map_buffer(buffer, flags="read"), TypeError, "flags"),
        (lambda: queue.enqueue_map_buffer(buffer, flags=2 ** 64 + raw.CL_MAP_READ), ValueError, "flags"),
        (lambda: queue.enqueue_nd_range_kernel("kernel", 16), TypeError, "kernel"),
        (lambda: queue.enqueue_nd_range_kernel(kernel, 16.0), TypeError, "global_size"),
        (lambda: queue.enqueue_nd_range_kernel(kernel, 16, "4"), TypeError, "local_size"),
        (lambda: queue.enqueue_nd_range_kernel(kernel, 16, None, [0.5]), TypeError, "global_offset"),
        (lambda: kernel.set_arg("0", buffer), TypeError, "index"),
        (lambda: kernel.set_arg(2 ** 32 + 1, buffer), ValueError, "index"),   # would set argument 1
        (lambda: kernel.set_arg(1, 1.5), TypeError, "kernel argument 1"),
        (lambda: kernel.set_arg(1, object()), TypeError, "kernel argument 1"),
        (lambda: device.get_info(1.5), TypeError, "param"),
        (lambda: device.get_info(2 ** 32 + raw.CL_DEVICE_NAME), ValueError, "param"),  # would ask CL_DEVICE_NAME
        (lambda: context.create_program_with_source(5), TypeError, "source"),
        (lambda: program.build(5), TypeError, "options"),
        (lambda: program.create_kernel(5), TypeError, "kernel name"),
        (lambda: cl.wait_for_events([1]), TypeError, "events"),
        (lambda: event.wait(timeout="1"), TypeError, "timeout"),
        (lambda: event.set_callback("not callable"), TypeError, "callback"),
        (lambda: context.create_command_queue_with_properties("device"), TypeError, "device"),
        (lambda: context.create_command_queue_with_properties(device, {raw.CL_QUEUE_PROPERTIES: 2 ** 64}),
         ValueError, "does not fit"),
        (lambda: cl.create_context(["device"]), TypeError, "devices"),
        (lambda: context.create_sampler("yes"), TypeError, "normalized_coords"),
        (lambda: cl.Sampler("context"), TypeError, "context"),
    ]


def test_wrong_types_in_the_handle_layer_name_the_parameter(context, device, queue, program):
    """Each call of the table gets a TypeError (wrong type) or ValueError (an int ctypes would
    wrap into another valid value) whose message names the parameter; nothing reaches the
    driver with a changed value."""
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    kernel = program.create_kernel("fill")
    event = queue.enqueue_marker_with_wait_list()
    failures = []
    for i, (call, exception, text) in enumerate(_handle_layer_cases(context, device, queue, program, buffer,
                                                                     kernel, event)):
        try:
            call()
        except exception as exc:
            if text not in str(exc):
                failures.append(f"case {i}: {exception.__name__} without {text!r}: {exc}")
        except Exception as exc:                      # another type: not what the rule says
            failures.append(f"case {i}: {type(exc).__name__} instead of {exception.__name__}: {exc}")
        else:
            failures.append(f"case {i}: no exception (expected {exception.__name__} naming {text!r})")
    assert not failures, "\n".join(failures)
    queue.finish()
    for obj in (event, kernel, buffer):
        obj.release()


def test_user_event_status_types(context):
    """clSetUserEventStatus takes a cl_int: a str is a TypeError, a positive status or one below
    -2**31 (ctypes would wrap it to a positive one) a ValueError."""
    gate = context.create_user_event()
    with pytest.raises(TypeError, match="execution_status"):
        gate.set_status("0")
    with pytest.raises(ValueError, match="execution_status"):
        gate.set_status(-2 ** 31 - 1)
    with pytest.raises(ValueError, match="execution_status"):
        gate.set_status(1)
    gate.set_status(raw.CL_COMPLETE)
    gate.release()


def test_wrong_types_in_the_checked_layer_name_the_parameter(context, device):
    """The checked layer turns ctypes' "argument 2: wrong type" into a TypeError naming the C
    parameter and its type."""
    with pytest.raises(TypeError, match=r"clCreateBuffer: parameter 'flags' \(cl_mem_flags\)"):
        checked.clCreateBuffer(context.handle, "rw", 16, None)
    with pytest.raises(TypeError, match=r"clGetDeviceInfo: parameter 'param_name'"):
        checked.clGetDeviceInfo(device.handle, "CL_DEVICE_NAME", 0, None, None)
    with pytest.raises(TypeError, match=r"clReleaseMemObject: parameter 'memobj'"):
        checked.clReleaseMemObject(1.5)


def test_the_raw_layer_keeps_c_semantics(context):
    """The raw layer adds nothing: a wrong type is ctypes.ArgumentError (its docstring says so)."""
    err = raw.cl_int()
    with pytest.raises(ctypes.ArgumentError):
        raw.clCreateBuffer(context.handle, "rw", 16, None, raw.byref(err))
    assert "ctypes.ArgumentError" in raw.__doc__


# --------------------------------------------------------------------------- #
# host destinations
# --------------------------------------------------------------------------- #

def _bad_destinations():
    data = np.zeros(64, np.float32)
    read_only = data.copy()
    read_only.flags.writeable = False
    return [(bytes(256), "read-only"), (read_only, "read-only"), (np.zeros(128, np.float32)[::2], "C-contiguous")]


def test_every_destination_path_refuses_read_only_and_strided_hosts(context, device, queue):
    """Reads, rect reads, image reads, SVM copies and USE_HOST_PTR buffers write into the host
    object: a read-only one (bytes, a non-writable array) or a non-contiguous one (a copy
    would silently drop the data) is refused with ValueError before the driver."""
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 256)
    paths = [
        lambda host: queue.enqueue_read_buffer(buffer, host),
        lambda host: queue.enqueue_read_buffer_rect(buffer, host, (0, 0, 0), (0, 0, 0), (16, 4, 1)),
        lambda host: context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_USE_HOST_PTR, host_buffer=host),
    ]
    if device.get_info(raw.CL_DEVICE_IMAGE_SUPPORT):
        image = context.create_image(raw.CL_MEM_READ_WRITE, (raw.CL_R, raw.CL_FLOAT), (8, 8))
        paths.append(lambda host: queue.enqueue_read_image(image, host, region=(4, 4, 1)))
    if device.version_tuple >= (2, 0):
        svm = context.svm_alloc(raw.CL_MEM_READ_WRITE, 256)
        paths.append(lambda host: queue.enqueue_svm_memcpy(host, svm, 64))
    for path in paths:
        for host, text in _bad_destinations():
            with pytest.raises(ValueError, match=text):
                path(host)
    queue.finish()
    buffer.release()


def test_mappings_for_reading_are_read_only_arrays(context, device, queue):
    """A mapping without CL_MAP_WRITE may drop host writes at unmap: its array is read-only
    (numpy raises ValueError on a write) for buffers, images and SVM; with CL_MAP_WRITE the
    writes arrive."""
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    with queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ, dtype=np.int32) as mapping:
        with pytest.raises(ValueError, match="read-only"):
            mapping.array[0] = 1
    with queue.enqueue_map_buffer(buffer, raw.CL_MAP_WRITE, dtype=np.int32) as mapping:
        mapping.array[:] = 7
    assert (queue.enqueue_read_buffer(buffer).view(np.int32) == 7).all()
    if device.get_info(raw.CL_DEVICE_IMAGE_SUPPORT):
        image = context.create_image(raw.CL_MEM_READ_WRITE, (raw.CL_R, raw.CL_FLOAT), (8, 8))
        with queue.enqueue_map_image(image, raw.CL_MAP_READ) as mapping:
            with pytest.raises(ValueError, match="read-only"):
                mapping.array[0, 0] = 1
        image.release()
    if device.version_tuple >= (2, 0):
        svm = context.svm_alloc(raw.CL_MEM_READ_WRITE, 64)
        array, _ = queue.enqueue_svm_map(svm, raw.CL_MAP_READ)
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1
        queue.enqueue_svm_unmap(array).wait()
        svm.free()
    queue.finish()
    buffer.release()
