"""Command queues (opencl_raw/queue.py): creation (and the OpenCL 1.2 fallback),
transfers with their host-side validation, mapping, NDRange kernels, flush and finish."""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import time
import weakref
from pathlib import Path

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import checked, errors, raw
from opencl_raw.event import pinned_count

from conftest import OCLGRIND_FLUSH_BLOCKS

OCLGRIND = "/usr/lib/oclgrind/liboclgrind-rt-icd.so"
REPO = Path(__file__).resolve().parent.parent

IDS_SOURCE = """
__kernel void ids(__global int *out, const int width)
{
    out[get_global_id(1) * width + get_global_id(0)] = (int)(get_global_id(0) * 1000 + get_global_id(1));
}
__kernel void twice(__global float *x) { x[get_global_id(0)] *= 2.0f; }
"""


def _settled(read, expected, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.01)
        value = read()
    return value


@pytest.fixture
def program(context):
    p = context.create_program_with_source(IDS_SOURCE).build()
    yield p
    p.release()


@pytest.fixture
def buffer(context):
    b = context.create_buffer(raw.CL_MEM_READ_WRITE, 1024)
    yield b
    b.release()


@pytest.fixture
def gate(context):
    """A user event (raw clCreateUserEvent) holding commands back until it is set complete."""
    event = cl.Event.from_handle(checked.clCreateUserEvent(context), retain=False)
    yield event
    if event.command_execution_status != raw.CL_COMPLETE:
        checked.clSetUserEventStatus(event, raw.CL_COMPLETE)
    event.release()


def _fill(queue, buffer, value: int):
    queue.enqueue_write_buffer(buffer, np.full(buffer.size, value, dtype=np.uint8))


# --------------------------------------------------------------------------- #
# creation and info
# --------------------------------------------------------------------------- #

def test_queue_info(queue, context, device):
    assert isinstance(queue, cl.CommandQueue)
    assert queue.context == context and queue.device == device
    assert queue.properties == raw.CL_QUEUE_PROFILING_ENABLE
    assert isinstance(queue.properties, cl.CommandQueueProperties)
    assert queue.reference_count == 1
    if device.version_tuple >= (2, 0):      # CL_QUEUE_PROPERTIES_ARRAY is OpenCL 3.0; PoCL 3.1 has it
        assert queue.properties_array == ((raw.CL_QUEUE_PROPERTIES, raw.CL_QUEUE_PROFILING_ENABLE),)


def test_queue_constructor(context, device):
    queue = cl.CommandQueue(context, device, raw.CL_QUEUE_PROFILING_ENABLE)
    assert queue.properties == raw.CL_QUEUE_PROFILING_ENABLE
    queue.release()
    queue = cl.CommandQueue(context)
    assert queue.device == device and queue.properties == 0
    queue.release()
    with pytest.raises(TypeError, match="Device"):
        cl.CommandQueue(context, device.platform)


def test_out_of_order_queue_if_supported(context, device):
    if not device.queue_on_host_properties & raw.CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE:
        pytest.skip("no out-of-order queues on this device")
    flags = raw.CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE | raw.CL_QUEUE_PROFILING_ENABLE
    queue = context.create_command_queue_with_properties(device, flags)
    assert queue.properties == flags
    queue.release()


def test_invalid_queue_property_is_the_drivers_error(context, device):
    if device.version_tuple < (2, 0):
        pytest.skip("OpenCL 2.0 queue properties")
    with pytest.raises((errors.InvalidValue, errors.InvalidQueueProperties, errors.InvalidProperty)):
        context.create_command_queue_with_properties(device, {raw.CL_QUEUE_PROPERTIES: 1 << 40})


OCLGRIND_SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    import opencl_raw as cl
    from opencl_raw import checked, raw

    calls = []
    for name in ("clCreateCommandQueue", "clCreateCommandQueueWithProperties"):
        original = getattr(checked, name)
        def counting(*args, _original=original, _name=name):
            calls.append(_name)
            return _original(*args)
        setattr(checked, name, counting)

    result = {}
    device = cl.select_device("Oclgrind")
    result["version"] = device.version_tuple
    context = cl.create_context([device])
    queue = context.create_command_queue_with_properties(device, {raw.CL_QUEUE_PROPERTIES:
                                                                  raw.CL_QUEUE_PROFILING_ENABLE})
    result["calls"] = list(calls)
    result["properties"] = int(queue.properties)
    plain = context.create_command_queue_with_properties(device)
    result["plain_properties"] = int(plain.properties)
    plain.release()
    try:
        context.create_command_queue_with_properties(device, {raw.CL_QUEUE_SIZE: 1024})
        result["queue_size"] = "no error"
    except ValueError as exc:
        result["queue_size"] = str(exc)
    program = context.create_program_with_source(
        "__kernel void twice(__global float *x) { x[get_global_id(0)] *= 2.0f; }").build()
    kernel = program.create_kernel("twice")
    data = np.arange(16, dtype=np.float32)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, data.nbytes)
    queue.enqueue_write_buffer(buffer, data, blocking=False).wait()
    kernel.set_arg(0, buffer)
    event = queue.enqueue_nd_range_kernel(kernel, 16)
    event.wait()
    result["duration_ok"] = event.get_profiling_info(raw.CL_PROFILING_COMMAND_END) >= \\
        event.get_profiling_info(raw.CL_PROFILING_COMMAND_START)
    result["out"] = queue.enqueue_read_buffer(buffer).view(np.float32).tolist()
    for obj in (event, kernel, program, buffer, queue):
        obj.release()
    result["context_count"] = context.reference_count
    print("RESULT " + json.dumps(result))
""")


@pytest.mark.skipif(not os.path.exists(OCLGRIND), reason="Oclgrind is not installed")
def test_queue_on_opencl_1_2_uses_clCreateCommandQueue(tmp_path):
    # The ICD loader reads OCL_ICD_VENDORS once per process: Oclgrind runs in a child process.
    (tmp_path / "oclgrind.icd").write_text(OCLGRIND + "\n")
    (tmp_path / "pocl.icd").write_text("libpocl.so.2\n")
    env = dict(os.environ, OCL_ICD_VENDORS=str(tmp_path), PYTHONPATH=str(REPO))
    env.pop("OPENCL_RAW_PLATFORM", None)
    env.pop("OPENCL_RAW_DEVICE", None)
    done = subprocess.run([sys.executable, "-c", OCLGRIND_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=100, cwd=str(tmp_path))
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    result = json.loads(lines[-1][len("RESULT "):])
    assert tuple(result["version"]) == (1, 2)
    assert result["calls"] == ["clCreateCommandQueue"]
    assert result["properties"] == raw.CL_QUEUE_PROFILING_ENABLE
    assert result["plain_properties"] == 0
    assert "needs OpenCL 2.0" in result["queue_size"] and "Oclgrind" in result["queue_size"]
    assert result["duration_ok"] is True
    assert result["out"] == [2.0 * i for i in range(16)]
    assert result["context_count"] == 1


# --------------------------------------------------------------------------- #
# write / read: validation before the driver
# --------------------------------------------------------------------------- #

@pytest.fixture
def no_driver(monkeypatch):
    """Make any transfer reaching the driver fail the test: validation must come first."""
    def refuse(*args):
        raise AssertionError("the call reached the driver")
    for name in ("clEnqueueReadBuffer", "clEnqueueWriteBuffer", "clEnqueueMapBuffer"):
        monkeypatch.setattr(checked, name, refuse)
    return monkeypatch


def test_read_or_write_past_the_end_is_refused_before_the_driver(queue, buffer, no_driver):
    too_big = np.zeros(buffer.size + 1, dtype=np.uint8)
    with pytest.raises(ValueError, match="exceed"):
        queue.enqueue_read_buffer(buffer, too_big)
    with pytest.raises(ValueError, match="exceed"):
        queue.enqueue_write_buffer(buffer, too_big)
    fits = np.zeros(16, dtype=np.uint8)
    with pytest.raises(ValueError, match="exceed"):
        queue.enqueue_read_buffer(buffer, fits, offset=buffer.size - 15)
    with pytest.raises(ValueError, match="exceed"):
        queue.enqueue_write_buffer(buffer, fits, offset=buffer.size)
    with pytest.raises(ValueError, match="negative"):
        queue.enqueue_read_buffer(buffer, fits, offset=-1)
    with pytest.raises(ValueError, match="negative"):
        queue.enqueue_write_buffer(buffer, fits, offset=-16)
    with pytest.raises(TypeError, match="offset"):
        queue.enqueue_read_buffer(buffer, fits, offset=1.0)
    with pytest.raises(TypeError, match="offset"):
        queue.enqueue_write_buffer(buffer, fits, offset=True)
    with pytest.raises(ValueError):
        queue.enqueue_read_buffer(buffer, None, offset=buffer.size + 1)
    with pytest.raises(ValueError, match="exceed"):
        queue.enqueue_map_buffer(buffer, offset=8, size=buffer.size)


def test_read_into_read_only_or_non_contiguous_is_refused(queue, buffer, no_driver):
    with pytest.raises(ValueError, match="read-only"):
        queue.enqueue_read_buffer(buffer, bytes(16))
    frozen = np.zeros(16, dtype=np.uint8)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        queue.enqueue_read_buffer(buffer, frozen)
    with pytest.raises(ValueError, match="contiguous"):
        queue.enqueue_read_buffer(buffer, np.zeros(32, dtype=np.uint8)[::2])
    with pytest.raises(ValueError, match="contiguous"):
        queue.enqueue_read_buffer(buffer, np.zeros((4, 4), dtype=np.float32, order="F"))
    with pytest.raises(TypeError, match="buffer protocol"):
        queue.enqueue_read_buffer(buffer, [0] * 16)
    with pytest.raises(TypeError, match="buffer protocol"):
        queue.enqueue_write_buffer(buffer, "text")
    with pytest.raises(TypeError, match="memory object"):
        queue.enqueue_read_buffer(np.zeros(4), np.zeros(4))


def test_non_contiguous_source_is_copied(queue, buffer):
    base = np.arange(64, dtype=np.int32)
    strided = base[::2]                                 # 32 ints, every other one
    assert not strided.flags.c_contiguous
    queue.enqueue_write_buffer(buffer, strided)
    out = np.zeros(32, dtype=np.int32)
    queue.enqueue_read_buffer(buffer, out)
    np.testing.assert_array_equal(out, np.arange(0, 64, 2))
    fortran = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4))
    queue.enqueue_write_buffer(buffer, fortran, offset=200)
    back = np.zeros((3, 4), dtype=np.float64)
    queue.enqueue_read_buffer(buffer, back, offset=200)
    np.testing.assert_array_equal(back, fortran)        # C order, the same values


def test_offsets_touch_only_their_bytes(queue, buffer):
    _fill(queue, buffer, 0xAA)
    patch = np.arange(1, 11, dtype=np.uint8)
    queue.enqueue_write_buffer(buffer, patch, offset=37)
    whole = queue.enqueue_read_buffer(buffer)
    expected = np.full(buffer.size, 0xAA, dtype=np.uint8)
    expected[37:47] = patch
    np.testing.assert_array_equal(whole, expected)
    part = np.zeros(12, dtype=np.uint8)
    queue.enqueue_read_buffer(buffer, part, offset=36)
    np.testing.assert_array_equal(part, expected[36:48])
    # at the very end
    queue.enqueue_write_buffer(buffer, np.array([7, 8], dtype=np.uint8), offset=buffer.size - 2)
    assert queue.enqueue_read_buffer(buffer, offset=buffer.size - 3).tolist() == [0xAA, 7, 8]


def test_read_with_host_none_returns_uint8(queue, buffer):
    data = np.arange(buffer.size // 4, dtype=np.float32)
    queue.enqueue_write_buffer(buffer, data)
    whole = queue.enqueue_read_buffer(buffer)
    assert isinstance(whole, np.ndarray) and whole.dtype == np.uint8 and whole.shape == (buffer.size,)
    np.testing.assert_array_equal(whole.view(np.float32), data)
    tail = queue.enqueue_read_buffer(buffer, offset=1000)
    assert tail.dtype == np.uint8 and tail.shape == (24,)
    np.testing.assert_array_equal(tail, whole[1000:])
    # Nothing left to read at the very end: the bytes from there to the end are none
    end = queue.enqueue_read_buffer(buffer, offset=buffer.size)
    assert end.dtype == np.uint8 and end.shape == (0,)
    # OpenCL has no zero-byte transfers (CL_INVALID_VALUE): refused before the driver, clearly
    for empty in (b"", bytearray(), np.zeros(0, np.float32)):
        with pytest.raises(ValueError, match="0 bytes"):
            queue.enqueue_write_buffer(buffer, empty)
    for empty in (bytearray(), np.zeros(0, np.float32)):
        with pytest.raises(ValueError, match="0 bytes"):
            queue.enqueue_read_buffer(buffer, empty)
    with pytest.raises(ValueError, match="blocking"):
        queue.enqueue_read_buffer(buffer, None, blocking=False)


def test_other_host_objects(queue, buffer):
    queue.enqueue_write_buffer(buffer, b"hello, device")
    queue.enqueue_write_buffer(buffer, bytearray(b"HE"))
    queue.enqueue_write_buffer(buffer, memoryview(b"!!"), offset=5)
    out = bytearray(13)
    queue.enqueue_read_buffer(buffer, out)
    assert bytes(out) == b"HEllo!!device"
    view = memoryview(bytearray(4))
    queue.enqueue_read_buffer(buffer, view, offset=9)
    assert bytes(view) == b"vice"


def test_blocking_and_non_blocking_events(queue, buffer):
    data = np.random.default_rng(5).integers(0, 255, buffer.size, dtype=np.uint8)
    write = queue.enqueue_write_buffer(buffer, data, blocking=False)
    assert isinstance(write, cl.Event)
    out = np.zeros_like(data)
    read = queue.enqueue_read_buffer(buffer, out, blocking=False, wait_for=[write])
    read.wait()
    np.testing.assert_array_equal(out, data)
    assert write.command_type == cl.CommandType.WRITE_BUFFER
    assert read.command_type == cl.CommandType.READ_BUFFER
    blocking = queue.enqueue_read_buffer(buffer, out)
    assert blocking.command_execution_status == cl.CommandExecutionStatus.COMPLETE
    for e in (write, read, blocking):
        e.release()


class _Recorder(np.ndarray):
    """A numpy array that notes its contents when it is destroyed."""
    destroyed: list = []

    def __del__(self):
        _Recorder.destroyed.append(np.array(self, copy=True))


def test_non_blocking_write_keeps_the_dropped_source_alive(queue, buffer, gate):
    _Recorder.destroyed = []
    pins = pinned_count()
    expected = np.random.default_rng(11).integers(-2**31, 2**31 - 1, buffer.size // 4, dtype=np.int32)
    source = expected.copy().view(_Recorder)
    alive = weakref.ref(source)
    event = queue.enqueue_write_buffer(buffer, source, blocking=False, wait_for=[gate])
    del source
    gc.collect()
    # Reuse freed memory of the same size with other bytes: a freed source would now hold these.
    junk = [np.full(buffer.size // 4, -1, dtype=np.int32) for _ in range(50)]
    assert alive() is not None and _Recorder.destroyed == []      # still pinned by the pending command
    assert event.command_execution_status != raw.CL_COMPLETE
    assert pinned_count() == pins + 1
    checked.clSetUserEventStatus(gate, raw.CL_COMPLETE)
    event.wait()
    out = np.zeros_like(expected)
    queue.enqueue_read_buffer(buffer, out)
    np.testing.assert_array_equal(out, expected)
    # Once the command completed, the pin goes and the array with it.
    assert _settled(pinned_count, pins) == pins
    gc.collect()
    assert alive() is None
    assert len(_Recorder.destroyed) == 1
    np.testing.assert_array_equal(_Recorder.destroyed[0], expected)
    del junk
    event.release()


def test_non_blocking_read_keeps_the_dropped_destination_alive(queue, buffer, gate):
    _Recorder.destroyed = []
    pins = pinned_count()
    expected = np.random.default_rng(12).standard_normal(buffer.size // 8)
    queue.enqueue_write_buffer(buffer, expected)
    destination = np.zeros_like(expected).view(_Recorder)
    event = queue.enqueue_read_buffer(buffer, destination, blocking=False, wait_for=[gate])
    del destination
    gc.collect()
    junk = [np.full(expected.shape, np.nan) for _ in range(50)]
    assert _Recorder.destroyed == []                              # pinned while the read is pending
    checked.clSetUserEventStatus(gate, raw.CL_COMPLETE)
    event.wait()
    assert _settled(pinned_count, pins) == pins
    gc.collect()
    # The array was destroyed only after the driver wrote into it: it held the data.
    assert len(_Recorder.destroyed) == 1
    np.testing.assert_array_equal(_Recorder.destroyed[0], expected)
    del junk
    event.release()


# --------------------------------------------------------------------------- #
# map / unmap
# --------------------------------------------------------------------------- #

def test_map_offsets_dtypes_shapes(queue, buffer):
    data = np.arange(buffer.size // 4, dtype=np.int32)
    queue.enqueue_write_buffer(buffer, data)
    mapped, event = queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ | raw.CL_MAP_WRITE, offset=16, size=32,
                                             dtype=np.int32, shape=(2, 4))
    assert isinstance(event, cl.Event) and event.command_type == cl.CommandType.MAP_BUFFER
    assert mapped.shape == (2, 4) and mapped.dtype == np.int32
    np.testing.assert_array_equal(mapped, data[4:12].reshape(2, 4))
    mapped[1, :] = -1
    pocl = "Portable Computing Language" in queue.device.platform.name
    if pocl:                                            # CL_MEM_MAP_COUNT is a debugging aid, not kept by all
        assert buffer.map_count == 1
    queue.enqueue_unmap_mem_object(buffer, mapped).wait()
    if pocl:
        assert buffer.map_count == 0
    expected = data.copy()
    expected[8:12] = -1
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.int32), expected)
    # default: uint8 over the rest of the buffer from the offset
    rest, _ = queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ, offset=1000)
    assert rest.dtype == np.uint8 and rest.shape == (24,)
    np.testing.assert_array_equal(rest, expected.view(np.uint8)[1000:])
    queue.enqueue_unmap_mem_object(buffer, rest.__array_interface__["data"][0]).wait()   # the address works too
    event.release()


def test_map_validation(queue, buffer, no_driver):
    with pytest.raises(ValueError, match="whole number"):
        queue.enqueue_map_buffer(buffer, size=10, dtype=np.float32)
    with pytest.raises(ValueError, match="exceed"):
        queue.enqueue_map_buffer(buffer, offset=buffer.size + 4)
    with pytest.raises(ValueError, match="negative"):
        queue.enqueue_map_buffer(buffer, offset=-4, size=4)
    with pytest.raises(TypeError, match="memory object"):
        queue.enqueue_map_buffer("buffer")


@pytest.mark.not_on_oclgrind("Oclgrind 21.10 unmaps a pointer it never mapped (no CL_INVALID_VALUE)")
def test_unmap_errors(queue, buffer):
    with pytest.raises(TypeError, match="mapped"):
        queue.enqueue_unmap_mem_object(buffer, [1, 2, 3])
    with pytest.raises(errors.InvalidValue):
        queue.enqueue_unmap_mem_object(buffer, np.zeros(4))          # not a region mapped from the buffer


# --------------------------------------------------------------------------- #
# NDRange
# --------------------------------------------------------------------------- #

def test_nd_range_two_dimensions_with_offset(queue, context, program):
    width = 8
    out = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR,
                                host_buffer=np.full((width, width), -7, dtype=np.int32))
    kernel = program.create_kernel("ids")
    kernel.set_args(out, np.int32(width))
    event = queue.enqueue_nd_range_kernel(kernel, (4, 2), (2, 2), global_offset=(3, 5))
    event.wait()
    assert event.command_type == cl.CommandType.NDRANGE_KERNEL
    grid = queue.enqueue_read_buffer(out).view(np.int32).reshape(width, width)
    expected = np.full((width, width), -7, dtype=np.int32)
    for x in range(3, 7):
        for y in range(5, 7):
            expected[y, x] = x * 1000 + y
    np.testing.assert_array_equal(grid, expected)
    # an int global size, local size None
    queue.enqueue_nd_range_kernel(kernel, width).wait()
    grid = queue.enqueue_read_buffer(out).view(np.int32).reshape(width, width)
    np.testing.assert_array_equal(grid[0], np.arange(width) * 1000)
    for obj in (event, kernel, out):
        obj.release()


def test_nd_range_validation(queue, program, context):
    kernel = program.create_kernel("twice")
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    with pytest.raises(errors.InvalidKernelArgs):
        queue.enqueue_nd_range_kernel(kernel, 16)           # argument 0 not set yet
    kernel.set_arg(0, buffer)
    with pytest.raises(ValueError, match="1 to 3"):
        queue.enqueue_nd_range_kernel(kernel, (1, 1, 1, 1))
    with pytest.raises(ValueError, match="1 to 3"):
        queue.enqueue_nd_range_kernel(kernel, ())
    with pytest.raises(ValueError, match="dimensions"):
        queue.enqueue_nd_range_kernel(kernel, (4, 4), (2,))
    with pytest.raises(ValueError, match="dimensions"):
        queue.enqueue_nd_range_kernel(kernel, 16, None, (1, 1))
    with pytest.raises(ValueError, match="negative"):
        queue.enqueue_nd_range_kernel(kernel, -16)
    with pytest.raises(TypeError):
        queue.enqueue_nd_range_kernel(kernel, 16.0)
    with pytest.raises(TypeError, match="ints"):
        queue.enqueue_nd_range_kernel(kernel, (16.0,))
    with pytest.raises(TypeError, match="ints"):
        queue.enqueue_nd_range_kernel(kernel, (True,))
    with pytest.raises(TypeError, match="Kernel"):
        queue.enqueue_nd_range_kernel(program, 16)
    device = queue.device
    if device.version_tuple < (2, 0) or (device.version_tuple >= (3, 0) and
                                         not device.get_info(raw.CL_DEVICE_NON_UNIFORM_WORK_GROUP_SUPPORT)):
        # refused before the driver (which would say InvalidWorkGroupSize), naming why
        with pytest.raises(ValueError, match="does not divide .* non-uniform work-groups"):
            queue.enqueue_nd_range_kernel(kernel, 10, 3)   # 3 does not divide 10
    kernel.release()
    buffer.release()


@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
def test_flush_and_finish(queue, context, program, gate):
    data = np.arange(256, dtype=np.float32)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=data)
    kernel = program.create_kernel("twice")
    kernel.set_arg(0, buffer)
    events = [queue.enqueue_nd_range_kernel(kernel, 256, wait_for=[gate])]
    events += [queue.enqueue_nd_range_kernel(kernel, 256) for _ in range(3)]
    queue.flush()
    time.sleep(0.05)
    assert all(e.command_execution_status != raw.CL_COMPLETE for e in events)   # held back by the gate
    checked.clSetUserEventStatus(gate, raw.CL_COMPLETE)
    queue.finish()
    assert all(e.command_execution_status == raw.CL_COMPLETE for e in events)
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.float32), data * 16)
    for obj in events + [kernel, buffer]:
        obj.release()
