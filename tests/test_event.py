"""Events (opencl_raw/event.py): wait (with time-outs), wait_for_events, status, command type, profiling,
user events, event callbacks, markers and barriers (and their OpenCL 1.1 path), out-of-order queues,
and the device/host timers."""
from __future__ import annotations

import gc
import sys
import threading
import time

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import checked, errors, raw

from conftest import OCLGRIND_FLUSH_BLOCKS

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
        cl.CommandType.MAP_BUFFER: lambda: tuple(queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ))[1],
    }
    for kind, make in kinds.items():
        e = make()
        e.wait()
        assert e.command_type is kind
        e.release()
    event.release()


@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
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
    gate.release()                                           # waits on the failed user event itself: below
    write.release()


@pytest.mark.deviation("NVIDIA CUDA", "clWaitForEvents on a user event set to a negative status returns "
                       "CL_SUCCESS (the specification: CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST when the "
                       "execution status of any event in event_list is negative) (NVIDIA 580)")
def test_wait_on_a_failed_user_event_raises(context):
    # clWaitForEvents: "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST if the execution status of any of
    # the events in event_list is a negative integer value" -- a failed user event included.
    gate = context.create_user_event()
    gate.set_status(-1234)
    assert gate.command_execution_status == -1234
    with pytest.raises(errors.ExecStatusErrorForEventsInWaitList) as caught:
        cl.wait_for_events([gate])                           # untimed
    assert caught.value.function == "clWaitForEvents"
    with pytest.raises(errors.ExecStatusErrorForEventsInWaitList):
        gate.wait(timeout=5)                                 # timed: the same call once the status is final
    gate.release()


@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
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


@pytest.mark.not_on_oclgrind("Oclgrind 21.10 waits for events of two contexts (no CL_INVALID_CONTEXT)")
@pytest.mark.deviation("NVIDIA CUDA", "clWaitForEvents waits for events of two contexts and returns CL_SUCCESS "
                       "(the specification: CL_INVALID_CONTEXT if the events do not belong to the same context) "
                       "(NVIDIA 580)")
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


def test_profiling_times_are_ordered_nanoseconds(queue, context, problem_size):
    program = context.create_program_with_source(SPIN_SOURCE).build()
    kernel = program.create_kernel("spin")
    data = np.ones(4096, dtype=np.float32)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=data)
    kernel.set_args(buffer, np.int32(problem_size(20000, 50)))        # 50 on a simulator
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
    kernel.set_arg(1, np.int32(problem_size(200000, 500)))
    longer = queue.enqueue_nd_range_kernel(kernel, data.size)
    longer.wait()
    assert longer.duration_ns > event.duration_ns
    expected = np.float32(1.0)
    assert np.allclose(queue.enqueue_read_buffer(buffer).view(np.float32), expected)
    for obj in (event, longer, kernel, program, buffer):
        obj.release()


@pytest.mark.not_on_oclgrind("Oclgrind 21.10 gives profiling times on a queue without CL_QUEUE_PROFILING_ENABLE")
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



# --------------------------------------------------------------------------- #
# user events
# --------------------------------------------------------------------------- #

POCL = "Portable Computing Language"

ADD_SCALE_SOURCE = """
__kernel void add(__global float *x, const float v) { x[get_global_id(0)] += v; }
__kernel void scale(__global float *x, const float v) { x[get_global_id(0)] *= v; }
"""


def _is_pocl(device) -> bool:
    return POCL in device.platform.name


@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
def test_create_user_event(context, queue, buffer):
    gate = context.create_user_event()
    assert type(gate) is cl.UserEvent and isinstance(gate, cl.Event)
    assert gate.command_type is cl.CommandType.USER
    assert gate.command_execution_status is cl.CommandExecutionStatus.SUBMITTED
    assert gate.context == context and gate.command_queue is None
    assert gate.reference_count == 1
    data = np.arange(16, dtype=np.float32)
    write = queue.enqueue_write_buffer(buffer, data, blocking=False, wait_for=[gate])
    queue.flush()
    assert write.command_execution_status > cl.CommandExecutionStatus.COMPLETE   # held back by the gate
    gate.set_status(raw.CL_COMPLETE)
    write.wait(timeout=10)
    assert gate.command_execution_status is cl.CommandExecutionStatus.COMPLETE
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.float32)[:16], data)
    # (The status can be set once: test_user_event_status_can_be_set_once.)
    # Only user events take a status.
    with pytest.raises(errors.InvalidEvent):
        write.set_user_event_status(raw.CL_COMPLETE)
    for obj in (write, gate):
        obj.release()


@pytest.mark.deviation("NVIDIA CUDA", "a second clSetUserEventStatus on a user event returns CL_SUCCESS (the "
                       "specification: CL_INVALID_OPERATION if the execution_status was already changed by a "
                       "previous call) (NVIDIA 580)")
def test_user_event_status_can_be_set_once(context):
    # clSetUserEventStatus: "CL_INVALID_OPERATION if the execution_status for event has already been
    # changed by a previous call to clSetUserEventStatus".
    gate = context.create_user_event()
    gate.set_status(raw.CL_COMPLETE)
    # The naming rule's name (set_user_event_status) is the same call as set_status.
    with pytest.raises(errors.InvalidOperation) as caught:
        gate.set_user_event_status(raw.CL_COMPLETE)
    assert caught.value.function == "clSetUserEventStatus"
    assert gate.command_execution_status is cl.CommandExecutionStatus.COMPLETE
    gate.release()


def test_user_event_status_validation(context):
    gate = context.create_user_event()
    for bad, kind in ((1, ValueError), (raw.CL_SUBMITTED, ValueError), (True, TypeError), ("0", TypeError),
                      (0.0, TypeError)):
        with pytest.raises(kind):
            gate.set_status(bad)
    assert gate.command_execution_status is cl.CommandExecutionStatus.SUBMITTED      # nothing reached the driver
    gate.set_status(-1234)                                  # a negative status of the caller's choice
    assert gate.command_execution_status == -1234           # (waits on it: test_wait_on_a_failed_user_event_raises)
    gate.release()
    with pytest.raises(errors.ReleasedHandleError):
        gate.set_status(raw.CL_COMPLETE)


# --------------------------------------------------------------------------- #
# waits with a time-out
# --------------------------------------------------------------------------- #

@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
def test_wait_times_out_on_a_user_event_never_completed(context, queue, buffer):
    gate = context.create_user_event()
    write = queue.enqueue_write_buffer(buffer, np.ones(16, dtype=np.float32), blocking=False, wait_for=[gate])
    outcome = {}

    def waiter():
        start = time.monotonic()
        try:
            write.wait(timeout=0.2)
            outcome["result"] = "returned"
        except BaseException as exc:  # noqa: BLE001 - recorded for the main thread
            outcome["result"] = exc
        outcome["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=waiter)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "a timed wait on a never-completed user event hung"
    assert isinstance(outcome["result"], TimeoutError), outcome
    assert "0.2" in str(outcome["result"])
    assert 0.19 <= outcome["elapsed"] < 5
    for event in (gate, write):                                # both still pending
        with pytest.raises(TimeoutError):
            event.wait(timeout=0)
    with pytest.raises(TimeoutError):
        cl.wait_for_events([gate, write], timeout=0.05)
    # Completing the gate lets the same waits return.
    gate.set_status(raw.CL_COMPLETE)
    write.wait(timeout=10)
    cl.wait_for_events([gate, write], timeout=10)
    write.wait(timeout=0)                                      # already complete: no waiting
    assert write.command_execution_status is cl.CommandExecutionStatus.COMPLETE
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.float32)[:16], np.ones(16))
    for event in (gate, write):
        event.release()


def test_timed_wait_reports_failures_like_wait(context, queue, buffer):
    gate = context.create_user_event()
    write = queue.enqueue_write_buffer(buffer, np.zeros(16, dtype=np.float32), blocking=False, wait_for=[gate])
    gate.set_status(-7)
    with pytest.raises(errors.ExecStatusErrorForEventsInWaitList):
        write.wait(timeout=10)
    with pytest.raises(errors.ExecStatusErrorForEventsInWaitList):
        cl.wait_for_events([write], timeout=10)
    for event in (gate, write):
        event.release()


def test_wait_timeout_validation(context):
    gate = context.create_user_event()
    for bad, kind in ((-1, ValueError), (float("nan"), ValueError), ("1", TypeError), (True, TypeError),
                      ([1], TypeError)):
        with pytest.raises(kind):
            gate.wait(timeout=bad)
        with pytest.raises(kind):
            cl.wait_for_events([gate], timeout=bad)
    cl.wait_for_events([], timeout=0)                          # nothing to wait for
    gate.set_status(raw.CL_COMPLETE)
    gate.wait(timeout=0)
    gate.release()


@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
def test_timed_wait_leaves_no_callback_behind_once_done(context, queue, buffer):
    from opencl_raw import _callbacks
    # Earlier tests' callbacks may still be on their way on driver threads: count from a quiet
    # moment (once, the count fell while this test ran, and its check failed)
    queue.finish()
    before = _callbacks.pending()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now, before = before, _callbacks.pending()
        if now == before:
            break
    gate = context.create_user_event()
    write = queue.enqueue_write_buffer(buffer, np.zeros(16, dtype=np.float32), blocking=False, wait_for=[gate])
    try:     # the gate is set whatever happens: a command left behind it would hang the queue's teardown
        with pytest.raises(TimeoutError):
            write.wait(timeout=0.05)
        assert _callbacks.pending() >= before + 1             # the driver may still call the completion callback
    finally:
        gate.set_status(raw.CL_COMPLETE)
    write.wait(timeout=10)
    deadline = time.monotonic() + 5
    while _callbacks.pending() > before and time.monotonic() < deadline:
        time.sleep(0.01)                                     # the callback may be on its way on a driver thread
    assert _callbacks.pending() == before
    for event in (gate, write):
        event.release()


# --------------------------------------------------------------------------- #
# event callbacks
# --------------------------------------------------------------------------- #

@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
def test_event_callbacks_for_each_status(context, queue, buffer, device):
    main = threading.get_ident()
    gate = context.create_user_event()
    write = queue.enqueue_write_buffer(buffer, np.zeros(1024, dtype=np.float32), blocking=False, wait_for=[gate])
    calls = []
    lock = threading.Lock()

    def record(event, status):
        with lock:
            calls.append((event, status, threading.get_ident()))

    for kind in (raw.CL_SUBMITTED, raw.CL_RUNNING, raw.CL_COMPLETE):
        write.set_callback(record, kind)
    write.set_callback(record)                                # default: CL_COMPLETE
    queue.flush()
    time.sleep(0.05)
    with lock:
        assert all(status != raw.CL_COMPLETE for _, status, _ in calls)   # nothing completes before the gate
    gate.set_status(raw.CL_COMPLETE)
    write.wait(timeout=10)
    deadline = time.monotonic() + 5
    while len(calls) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    statuses = sorted(status for _, status, _ in calls)
    assert statuses == [raw.CL_COMPLETE, raw.CL_COMPLETE, raw.CL_RUNNING, raw.CL_SUBMITTED]
    for event, status, _ in calls:
        assert type(event) is cl.Event and event == write and event is not write   # a new, retained wrapper
        assert type(status) is int
    assert write.reference_count >= 1
    if _is_pocl(device):
        # PoCL: SUBMITTED on the flushing (main) thread, RUNNING and COMPLETE on a driver thread.
        threads = {status: ident for _, status, ident in calls}
        assert threads[raw.CL_SUBMITTED] == main
        assert threads[raw.CL_RUNNING] != main and threads[raw.CL_COMPLETE] != main
    calls.clear()
    for event in (gate, write):
        event.release()


def test_event_callback_wrapper_outlives_the_callers_event(context):
    kept = []
    gate = context.create_user_event()
    gate.set_callback(lambda event, status: kept.append(event))
    gate.set_status(raw.CL_COMPLETE)                            # PoCL calls back on this thread, at once
    deadline = time.monotonic() + 5
    while not kept and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.release()
    (event,) = kept
    assert type(event) is cl.UserEvent and not event.released    # same class as the event it was set on
    assert event.command_execution_status is cl.CommandExecutionStatus.COMPLETE
    assert event.reference_count == 1                           # the callback's wrapper holds the last reference
    event.release()


@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
def test_event_callback_gets_a_valid_event_after_every_reference_was_dropped(context, queue, buffer, monkeypatch):
    # The command's event object is released before its callback runs (the gate holds the command).
    # The driver still calls back ("all enqueued callbacks shall be called before the event object is
    # destroyed") but may refuse clRetainEvent on an event whose every reference was given back:
    # NVIDIA 580 answers CL_INVALID_EVENT. That driver is simulated here, on any driver: the binding
    # must pass a valid event without retaining it inside the callback (set_callback took a reference).
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    gate = context.create_user_event()
    write = queue.enqueue_write_buffer(buffer, np.ones(16, dtype=np.float32), blocking=False, wait_for=[gate])
    value = write._value
    got = []
    write.set_callback(lambda event, status: got.append((event, status, event.command_type)))
    retain = checked.clRetainEvent

    def refusing_retain(handle, *args):
        if (handle.value if hasattr(handle, "value") else handle) == value:
            raise errors.CLError(raw.CL_INVALID_EVENT, "clRetainEvent")
        return retain(handle, *args)

    monkeypatch.setattr(checked, "clRetainEvent", refusing_retain)
    write.release()
    del write
    gc.collect()
    gate.set_status(raw.CL_COMPLETE)
    queue.finish()
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    assert unraisable == []                                     # nothing raised inside the callback
    ((event, status, command_type),) = got
    assert status == raw.CL_COMPLETE and command_type is cl.CommandType.WRITE_BUFFER
    assert type(event) is cl.Event and event._value == value and not event.released
    assert event.command_execution_status is cl.CommandExecutionStatus.COMPLETE   # still valid after the callback
    assert event.command_queue == queue                         # the parent link came along
    event.release()                                             # the reference set_callback took: no error
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.float32)[:16], np.ones(16))
    gate.release()


def test_refused_event_callback_keeps_no_reference(context, monkeypatch):
    from opencl_raw import _callbacks
    gate = context.create_user_event()
    count, pending = gate.reference_count, _callbacks.pending()

    def refused(*args):
        raise errors.CLError(raw.CL_INVALID_VALUE, "clSetEventCallback")

    monkeypatch.setattr(checked, "clSetEventCallback", refused)
    with pytest.raises(errors.InvalidValue):
        gate.set_callback(lambda event, status: None)
    assert gate.reference_count == count                        # set_callback's clRetainEvent was given back
    assert _callbacks.pending() == pending
    monkeypatch.undo()
    gate.set_callback(lambda event, status: None)               # accepted: one more reference, until called
    assert gate.reference_count == count + 1
    gate.set_status(raw.CL_COMPLETE)
    deadline = time.monotonic() + 5                             # the callback may run on a driver thread
    while (_callbacks.pending() > pending or gate.reference_count > count) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _callbacks.pending() == pending and gate.reference_count == count   # its wrapper was released
    gate.release()


def test_refused_retain_gives_back_nothing(context, monkeypatch):
    # A wrapper whose clRetainEvent was refused (an event the driver considers gone) owns no
    # reference: collecting it must not call clReleaseEvent (that would free someone else's).
    gate = context.create_user_event()
    count = gate.reference_count

    def refused(*args):
        raise errors.CLError(raw.CL_INVALID_EVENT, "clRetainEvent")

    monkeypatch.setattr(checked, "clRetainEvent", refused)
    with pytest.raises(errors.InvalidEvent):
        cl.Event.from_handle(gate.handle, retain=True)
    gc.collect()
    monkeypatch.undo()
    assert gate.reference_count == count
    gate.set_status(raw.CL_COMPLETE)
    gate.release()


@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
def test_event_callback_on_a_reached_status(context, queue, buffer):
    done = queue.enqueue_write_buffer(buffer, np.zeros(16, dtype=np.float32))
    got = []
    done.set_callback(lambda event, status: got.append(status))
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    assert got == [raw.CL_COMPLETE]                             # already complete: called anyway
    done.release()


@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
@pytest.mark.deviation("NVIDIA CUDA", "the CL_COMPLETE callbacks of a failed user event and of the command "
                       "waiting on it get CL_COMPLETE (0) (the specification: the error code that terminated the "
                       "command is passed instead) (NVIDIA 580)")
def test_event_callbacks_of_failed_commands_get_the_error(context, queue, buffer):
    # clSetEventCallback: "If the callback is called as the result of the command associated with
    # event being abnormally terminated, an appropriate error code for the error that caused the
    # termination will be passed to event_command_status instead."
    gate = context.create_user_event()
    failed = []
    write = queue.enqueue_write_buffer(buffer, np.zeros(16, dtype=np.float32), blocking=False, wait_for=[gate])
    gate.set_callback(lambda event, status: failed.append(("gate", status)))
    write.set_callback(lambda event, status: failed.append(("write", status)))
    def fail_soon():
        time.sleep(0.1)
        gate.set_status(-9)

    failer = threading.Thread(target=fail_soon)
    failer.start()
    start = time.monotonic()
    with pytest.raises(errors.ExecStatusErrorForEventsInWaitList):
        write.wait(timeout=20)                                  # a failure during a timed wait ends it
    assert time.monotonic() - start < 5
    failer.join(10)
    assert gate.command_execution_status == -9 and write.command_execution_status < 0
    time.sleep(0.2)
    if _is_pocl(context.devices[0]):
        # PoCL 3.1 calls no CL_COMPLETE callback of a failed command (the specification says it
        # should, with the error status): the timed wait above relies on polling, not on them.
        assert failed == []
    else:
        assert ("gate", -9) in failed
        assert [status for who, status in failed if who == "write"][0] < 0
    for event in (gate, write):
        event.release()


def test_event_callback_validation(context):
    from opencl_raw import _callbacks
    gate = context.create_user_event()
    before = _callbacks.pending()
    with pytest.raises(TypeError, match="callable"):
        gate.set_callback("not callable")
    for kind in (raw.CL_QUEUED, 5, -1):
        with pytest.raises(ValueError, match="CL_SUBMITTED"):
            gate.set_callback(lambda e, s: None, kind)
    assert _callbacks.pending() == before                       # nothing registered by refusals
    gate.set_status(raw.CL_COMPLETE)
    gate.release()
    with pytest.raises(errors.ReleasedHandleError):
        gate.set_callback(lambda e, s: None)
    assert _callbacks.pending() == before


# --------------------------------------------------------------------------- #
# markers and barriers
# --------------------------------------------------------------------------- #

def _gated_writes(context, queue, buffer):
    gate = context.create_user_event()
    first = queue.enqueue_write_buffer(buffer, np.full(16, 1, dtype=np.float32), blocking=False, wait_for=[gate])
    return gate, first


@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
def test_marker_with_wait_list(context, queue, buffer):
    # Nothing here may block while the gate is open: a failed check with the gate never set would
    # leave `first` waiting for ever, and the queue fixture's finish() with it (NVIDIA 580 was killed
    # that way, with no traceback). So only status reads and timed waits (which never call
    # clWaitForEvents before the status says the command is done) run until the gate is set, in
    # a finally.
    gate, first = _gated_writes(context, queue, buffer)
    try:
        marker = queue.enqueue_marker_with_wait_list([gate])
        everything = queue.enqueue_marker_with_wait_list()      # waits for all earlier commands
        queue.flush()
        time.sleep(0.05)
        held = [e.command_execution_status for e in (first, marker, everything)]
        assert all(status > cl.CommandExecutionStatus.COMPLETE for status in held), held   # all behind the gate
        with pytest.raises(TimeoutError):
            marker.wait(timeout=0.05)
        with pytest.raises(TimeoutError):
            everything.wait(timeout=0.05)
    finally:
        gate.set_status(raw.CL_COMPLETE)
    cl.wait_for_events([marker, everything], timeout=10)
    assert first.command_execution_status is cl.CommandExecutionStatus.COMPLETE
    with pytest.raises(TypeError, match="Event"):
        queue.enqueue_marker_with_wait_list(["event"])
    for event in (gate, first, marker, everything):
        event.release()


@pytest.mark.deviation("NVIDIA CUDA", "markers and barriers report CL_EVENT_COMMAND_TYPE 0x4003, a value the "
                       "specification does not define (it says CL_COMMAND_MARKER / CL_COMMAND_BARRIER) (NVIDIA 580)")
def test_marker_and_barrier_command_types(queue):
    gate = queue.context.create_user_event()
    events = {"marker": queue.enqueue_marker_with_wait_list(),
              "marker_with_wait_list": queue.enqueue_marker_with_wait_list([gate]),
              "barrier": queue.enqueue_barrier_with_wait_list(),
              "barrier_with_wait_list": queue.enqueue_barrier_with_wait_list([gate])}
    gate.set_status(raw.CL_COMPLETE)
    cl.wait_for_events(list(events.values()), timeout=10)
    types = {name: event.get_info(raw.CL_EVENT_COMMAND_TYPE) for name, event in events.items()}
    assert types == {"marker": raw.CL_COMMAND_MARKER, "marker_with_wait_list": raw.CL_COMMAND_MARKER,
                     "barrier": raw.CL_COMMAND_BARRIER, "barrier_with_wait_list": raw.CL_COMMAND_BARRIER}, types
    assert events["marker"].command_type is cl.CommandType.MARKER
    for event in (gate, *events.values()):
        event.release()


@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
def test_barrier_orders_later_commands(context, queue, buffer):
    out_of_order = context.create_command_queue_with_properties(
        queue.device, raw.CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)
    gate = context.create_user_event()
    barrier = out_of_order.enqueue_barrier_with_wait_list([gate])
    later = out_of_order.enqueue_write_buffer(buffer, np.full(16, 2, dtype=np.float32), blocking=False)
    out_of_order.flush()
    time.sleep(0.05)
    assert later.command_execution_status > cl.CommandExecutionStatus.COMPLETE   # held by the barrier
    gate.set_status(raw.CL_COMPLETE)
    later.wait(timeout=10)
    assert barrier.command_execution_status is cl.CommandExecutionStatus.COMPLETE
    plain = out_of_order.enqueue_barrier_with_wait_list()
    plain.wait(timeout=10)
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.float32)[:16], np.full(16, 2))
    for obj in (gate, barrier, later, plain, out_of_order):
        obj.release()


@pytest.fixture
def as_opencl_1_1(device):
    """The device reports OpenCL 1.1 to the handle layer (its cached version), for the 1.1 paths."""
    from opencl_raw import _gate
    key = ("device", device._value)
    device.version_tuple                                        # fill the cache
    saved = _gate._versions[key]
    _gate._versions[key] = (1, 1)
    yield
    _gate._versions[key] = saved


@pytest.mark.not_on_oclgrind(OCLGRIND_FLUSH_BLOCKS)
def test_marker_and_barrier_1_1_path_without_wait_list(context, queue, buffer, as_opencl_1_1):
    # With an empty wait list the 1.1 path is clEnqueueMarker / clEnqueueBarrier + clEnqueueMarker,
    # which PoCL implements. (With events it needs clEnqueueWaitForEvents: see the next tests.)
    assert queue.device.version_tuple == (1, 1)
    gate, first = _gated_writes(context, queue, buffer)
    marker = queue.enqueue_marker_with_wait_list()
    barrier = queue.enqueue_barrier_with_wait_list()
    assert [e.command_type for e in (marker, barrier)] == [cl.CommandType.MARKER] * 2
    later = queue.enqueue_write_buffer(buffer, np.full(16, 3, dtype=np.float32), blocking=False)
    with pytest.raises(TimeoutError):
        cl.wait_for_events([marker, barrier, later], timeout=0.05)   # all behind the gated write
    gate.set_status(raw.CL_COMPLETE)
    cl.wait_for_events([marker, barrier, later], timeout=10)
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.float32)[:16], np.full(16, 3))
    for event in (gate, first, marker, barrier, later):
        event.release()


def test_pocl_exits_in_clEnqueueWaitForEvents(device, tmp_path):
    # Why the 1.1 path with a wait list is tested on Oclgrind only: PoCL 3.1 (an OpenCL 3.0 driver,
    # which never takes that path) ends the whole process in the deprecated clEnqueueWaitForEvents.
    if not _is_pocl(device):
        pytest.skip("PoCL's behaviour")
    import subprocess
    import os
    code = """
import ctypes
import opencl_raw as cl
from opencl_raw import raw
device = cl.select_device()
context = cl.create_context([device])
queue = context.create_command_queue_with_properties(device)
gate = context.create_user_event()
print("calling", flush=True)
raw.clEnqueueWaitForEvents(queue, 1, (raw.cl_event * 1)(gate.handle))
print("returned", flush=True)
"""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root, OPENCL_RAW_PLATFORM=device.platform.name)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["calling"]
    assert done.returncode == 2
    assert "clEnqueueWaitForEvents call is unimplemented" in done.stderr


def test_marker_and_barrier_on_oclgrind(run_oclgrind):
    # Oclgrind (OpenCL 1.2) implements both the 1.2 functions and the deprecated 1.1 ones
    # (clEnqueueWaitForEvents included), so the 1.1 path with a wait list runs there.
    # Oclgrind runs commands only inside clFlush / clFinish / waits, so statuses are read unflushed.
    result = run_oclgrind("""
import json, numpy as np
import opencl_raw as cl
from opencl_raw import raw, _gate
device = cl.select_device()
context = cl.create_context([device])
queue = context.create_command_queue_with_properties(device)
buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
out = {"version": list(device.version_tuple), "name": device.name, "runs": []}
for value, version in ((5.0, None), (7.0, (1, 1))):      # its own 1.2 functions, then the 1.1 path
    if version:
        _gate._versions[("device", device._value)] = version
    gate = context.create_user_event()
    marker = queue.enqueue_marker_with_wait_list([gate])
    barrier = queue.enqueue_barrier_with_wait_list([gate])
    plain = queue.enqueue_barrier_with_wait_list()
    write = queue.enqueue_write_buffer(buffer, np.full(16, value, dtype=np.float32), blocking=False)
    before = [int(e.command_execution_status) for e in (marker, barrier, plain, write)]
    gate.set_status(raw.CL_COMPLETE)
    cl.wait_for_events([marker, barrier, plain, write], timeout=20)
    after = [int(e.command_execution_status) for e in (marker, barrier, plain, write)]
    data = queue.enqueue_read_buffer(buffer).view(np.float32)[:16].tolist()
    out["runs"].append([[int(e.command_type) for e in (marker, barrier, plain)], before, after, data])
print(json.dumps(out))
""")
    assert result["name"] == "Oclgrind Simulator" and result["version"] == [1, 2]
    (types_12, before_12, after_12, data_12), (types_11, before_11, after_11, data_11) = result["runs"]
    assert types_12 == [raw.CL_COMMAND_MARKER, raw.CL_COMMAND_BARRIER, raw.CL_COMMAND_BARRIER]
    assert types_11 == [raw.CL_COMMAND_MARKER] * 3             # clEnqueueMarker gives the events there
    for before, after in ((before_12, after_12), (before_11, after_11)):
        assert all(status == raw.CL_QUEUED for status in before)
        assert after == [raw.CL_COMPLETE] * 4
    assert data_12 == [5.0] * 16 and data_11 == [7.0] * 16


# --------------------------------------------------------------------------- #
# out-of-order queues
# --------------------------------------------------------------------------- #

def test_out_of_order_queue_ordered_by_events(context, device):
    if not device.queue_on_host_properties & raw.CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE:
        pytest.skip("the device has no out-of-order queues")
    queue = context.create_command_queue_with_properties(
        device, raw.CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE | raw.CL_QUEUE_PROFILING_ENABLE)
    assert queue.properties & raw.CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE
    program = context.create_program_with_source(ADD_SCALE_SOURCE).build()
    add, scale = program.create_kernel("add"), program.create_kernel("scale")
    rng = np.random.default_rng(5)
    for round_ in range(5):
        data = rng.standard_normal(4096).astype(np.float32)
        buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, data.nbytes)
        gate = context.create_user_event()                      # nothing starts before everything is queued
        write = queue.enqueue_write_buffer(buffer, data, blocking=False, wait_for=[gate])
        add.set_args(buffer, np.float32(1.0))
        first = queue.enqueue_nd_range_kernel(add, data.size, wait_for=[write])
        scale.set_args(buffer, np.float32(2.0))
        second = queue.enqueue_nd_range_kernel(scale, data.size, wait_for=[first])
        add.set_args(buffer, np.float32(-3.0))
        third = queue.enqueue_nd_range_kernel(add, data.size, wait_for=[second])
        out = np.empty_like(data)
        read = queue.enqueue_read_buffer(buffer, out, blocking=False, wait_for=[third])
        gate.set_status(raw.CL_COMPLETE)
        read.wait(timeout=30)
        np.testing.assert_allclose(out, (data + 1) * 2 - 3, rtol=1e-6)
        starts = [e.get_profiling_info(raw.CL_PROFILING_COMMAND_START) for e in (first, second, third)]
        ends = [e.get_profiling_info(raw.CL_PROFILING_COMMAND_END) for e in (first, second, third)]
        assert ends[0] <= starts[1] and ends[1] <= starts[2]   # each waited for the one before
        for obj in (gate, write, first, second, third, read, buffer):
            obj.release()
    for obj in (add, scale, program, queue):
        obj.release()


# --------------------------------------------------------------------------- #
# device and host timers (OpenCL 2.1)
# --------------------------------------------------------------------------- #

def test_host_timers_on_pocl(device):
    if not _is_pocl(device):
        pytest.skip("the expected error is PoCL's")
    assert device.platform.host_timer_resolution == 0          # PoCL 3.1 has no host timer ...
    with pytest.raises(errors.InvalidOperation) as caught:     # ... and says CL_INVALID_OPERATION
        device.get_host_timer()
    assert caught.value.function == "clGetHostTimer"
    with pytest.raises(errors.InvalidOperation) as caught:
        device.get_device_and_host_timer()
    assert caught.value.function == "clGetDeviceAndHostTimer"


def test_host_timers_where_supported(device):
    if device.version_tuple < (2, 1) or not device.platform.host_timer_resolution:
        pytest.skip("no host timer on this platform (CL_PLATFORM_HOST_TIMER_RESOLUTION 0)")
    first = device.get_host_timer()
    device_ns, host_ns = device.get_device_and_host_timer()
    second = device.get_host_timer()
    assert type(first) is int and first <= host_ns <= second   # nanoseconds on one clock
    assert device_ns > 0


def test_host_timers_are_gated_on_oclgrind(run_oclgrind):
    result = run_oclgrind("""
import json
import opencl_raw as cl
from opencl_raw.errors import FunctionUnavailableError
device = cl.select_device()
out = {}
for name in ("get_host_timer", "get_device_and_host_timer"):
    try:
        getattr(device, name)()
        out[name] = "returned"
    except FunctionUnavailableError as exc:
        out[name] = [exc.__class__.__name__, str(exc)]
print(json.dumps(out))
""")
    for name, c_name in (("get_host_timer", "clGetHostTimer"), ("get_device_and_host_timer", "clGetDeviceAndHostTimer")):
        kind, text = result[name]
        assert kind == "FunctionUnavailableError"
        assert c_name in text and "OpenCL 2.1" in text and "1.2" in text
