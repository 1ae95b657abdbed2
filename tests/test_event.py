"""Events (opencl_raw/event.py): wait, wait_for_events, status, command type, profiling."""
from __future__ import annotations

import time

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import checked, errors, raw

PROFILING = ("CL_PROFILING_COMMAND_QUEUED", "CL_PROFILING_COMMAND_SUBMIT", "CL_PROFILING_COMMAND_START",
             "CL_PROFILING_COMMAND_END")

SPIN_SOURCE = """
__kernel void spin(__global float *x, const int rounds)
{
    float v = x[get_global_id(0)];
    for (int i = 0; i < rounds; ++i)
        v = v * 0.999f + 0.001f;
    x[get_global_id(0)] = v;
}
"""


def _user_event(context) -> cl.Event:
    return cl.Event.from_handle(checked.clCreateUserEvent(context), retain=False)


@pytest.fixture
def buffer(context):
    b = context.create_buffer(raw.CL_MEM_READ_WRITE, 4096)
    yield b
    b.release()


def test_event_info_is_typed(queue, context, buffer):
    event = queue.enqueue_write_buffer(buffer, np.ones(1024, dtype=np.float32), blocking=False)
    event.wait()
    assert event.command_type is cl.CommandType.WRITE_BUFFER
    assert isinstance(event.command_type, cl.CommandType)
    assert event.get_info(raw.CL_EVENT_COMMAND_TYPE) == raw.CL_COMMAND_WRITE_BUFFER
    status = event.command_execution_status
    assert status is cl.CommandExecutionStatus.COMPLETE and status == raw.CL_COMPLETE == 0
    assert event.command_queue == queue and isinstance(event.command_queue, cl.CommandQueue)
    assert event.context == context
    assert event.reference_count >= 1
    kinds = {
        cl.CommandType.READ_BUFFER: lambda: queue.enqueue_read_buffer(buffer, np.zeros(8, dtype=np.uint8)),
        cl.CommandType.MAP_BUFFER: lambda: queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ)[1],
    }
    for kind, make in kinds.items():
        e = make()
        e.wait()
        assert e.command_type is kind
        e.release()
    event.release()


def test_user_event_status_and_wait(queue, context, buffer):
    gate = _user_event(context)
    assert gate.command_type is cl.CommandType.USER
    assert gate.command_execution_status is cl.CommandExecutionStatus.SUBMITTED   # user events start submitted
    assert gate.command_queue is None                                               # NULL queue -> None
    data = np.arange(1024, dtype=np.float32)
    write = queue.enqueue_write_buffer(buffer, data, blocking=False, wait_for=[gate])
    queue.flush()
    time.sleep(0.05)
    assert write.command_execution_status in (cl.CommandExecutionStatus.QUEUED, cl.CommandExecutionStatus.SUBMITTED)
    checked.clSetUserEventStatus(gate, raw.CL_COMPLETE)
    write.wait()
    assert write.command_execution_status is cl.CommandExecutionStatus.COMPLETE
    assert gate.command_execution_status is cl.CommandExecutionStatus.COMPLETE
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.float32), data)
    gate.release()
    write.release()


def test_failed_dependency_is_reported_by_wait(queue, context, buffer):
    gate = _user_event(context)
    write = queue.enqueue_write_buffer(buffer, np.zeros(16, dtype=np.float32), blocking=False, wait_for=[gate])
    checked.clSetUserEventStatus(gate, -5)                   # a negative status: the command failed
    with pytest.raises(errors.ExecStatusErrorForEventsInWaitList) as caught:
        write.wait()
    assert caught.value.function == "clWaitForEvents"
    assert gate.command_execution_status == -5               # an error code is kept as a plain int
    assert write.command_execution_status < 0
    with pytest.raises(errors.ExecStatusErrorForEventsInWaitList):
        cl.wait_for_events([gate])
    gate.release()
    write.release()


def test_wait_for_events(queue, context, buffer):
    cl.wait_for_events([])                                   # nothing to wait for: returns at once
    cl.wait_for_events(())
    gate = _user_event(context)
    events = [queue.enqueue_write_buffer(buffer, np.full(16, i, dtype=np.float32), blocking=False, offset=64 * i,
                                         wait_for=[gate]) for i in range(8)]
    queue.flush()
    assert all(e.command_execution_status != cl.CommandExecutionStatus.COMPLETE for e in events)
    checked.clSetUserEventStatus(gate, raw.CL_COMPLETE)
    cl.wait_for_events(events)
    cl.wait_for_events(e for e in events)                     # any iterable
    assert all(e.command_execution_status is cl.CommandExecutionStatus.COMPLETE for e in events)
    got = queue.enqueue_read_buffer(buffer).view(np.float32)[:8 * 16].reshape(8, 16)
    np.testing.assert_array_equal(got, np.repeat(np.arange(8, dtype=np.float32)[:, None], 16, axis=1))
    with pytest.raises(TypeError, match="Event"):
        cl.wait_for_events([events[0], "event"])
    for e in events + [gate]:
        e.release()


def test_wait_for_events_of_two_contexts_is_invalid_context(device, queue, buffer):
    other = cl.create_context([device])
    other_queue = other.create_command_queue_with_properties(device)
    other_buffer = other.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    mine = queue.enqueue_write_buffer(buffer, np.zeros(16, dtype=np.float32))
    theirs = other_queue.enqueue_write_buffer(other_buffer, np.zeros(16, dtype=np.float32))
    with pytest.raises(errors.InvalidContext):
        cl.wait_for_events([mine, theirs])
    for obj in (mine, theirs, other_buffer, other_queue, other):
        obj.release()


def test_profiling_times_are_ordered_nanoseconds(queue, context):
    program = context.create_program_with_source(SPIN_SOURCE).build()
    kernel = program.create_kernel("spin")
    data = np.ones(4096, dtype=np.float32)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=data)
    kernel.set_args(buffer, np.int32(20000))
    host_start = time.perf_counter_ns()
    event = queue.enqueue_nd_range_kernel(kernel, data.size)
    event.wait()
    host_elapsed = time.perf_counter_ns() - host_start
    stamps = [event.get_profiling_info(name) for name in PROFILING]
    assert all(type(s) is int and s > 0 for s in stamps)
    assert stamps == sorted(stamps)                           # queued <= submit <= start <= end
    queued, _, start, end = stamps
    assert event.get_profiling_info(raw.CL_PROFILING_COMMAND_END) == end
    assert event.duration_ns == end - start > 0               # 80 million multiply-adds take some time
    assert end - queued <= host_elapsed + 1_000_000           # nanoseconds: within the host's measurement
    if queue.device.version_tuple >= (2, 0):
        assert event.get_profiling_info(raw.CL_PROFILING_COMMAND_COMPLETE) >= end
    # A longer run takes longer.
    kernel.set_arg(1, np.int32(200000))
    longer = queue.enqueue_nd_range_kernel(kernel, data.size)
    longer.wait()
    assert longer.duration_ns > event.duration_ns
    expected = np.float32(1.0)
    assert np.allclose(queue.enqueue_read_buffer(buffer).view(np.float32), expected)
    for obj in (event, longer, kernel, program, buffer):
        obj.release()


def test_profiling_not_available(context, device, queue, buffer):
    plain = context.create_command_queue_with_properties(device)          # no CL_QUEUE_PROFILING_ENABLE
    event = plain.enqueue_write_buffer(buffer, np.zeros(16, dtype=np.float32))
    with pytest.raises(errors.ProfilingInfoNotAvailable) as caught:
        event.get_profiling_info(raw.CL_PROFILING_COMMAND_START)
    assert caught.value.function == "clGetEventProfilingInfo"
    with pytest.raises(errors.ProfilingInfoNotAvailable):
        event.duration_ns
    gate = _user_event(context)
    with pytest.raises(errors.ProfilingInfoNotAvailable):
        gate.get_profiling_info(raw.CL_PROFILING_COMMAND_QUEUED)            # user events have no profile
    profiled = queue.enqueue_write_buffer(buffer, np.zeros(16, dtype=np.float32))
    with pytest.raises(errors.InvalidValue):
        profiled.get_profiling_info(raw.CL_EVENT_COMMAND_TYPE)             # not a profiling param
    checked.clSetUserEventStatus(gate, raw.CL_COMPLETE)
    for obj in (gate, event, profiled, plain):
        obj.release()


def test_wait_for_rejects_non_events(queue, buffer):
    with pytest.raises(TypeError, match="Event"):
        queue.enqueue_write_buffer(buffer, np.zeros(4, dtype=np.float32), wait_for=[object()])
    with pytest.raises(TypeError, match="Event"):
        queue.enqueue_write_buffer(buffer, np.zeros(4, dtype=np.float32), wait_for=[raw.cl_event()])
