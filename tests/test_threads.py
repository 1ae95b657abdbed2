"""Threads (issue 6, section 5): driver calls release the GIL, and the binding is safe to use
from several threads at once under the OpenCL rule: every object may be shared between
threads, except that one kernel object's arguments must not be set from two threads at a
time (clSetKernelArg; give each thread its own kernel, e.g. ``Kernel.clone()``).

Every test bounds its threads with a join timeout and fails (instead of hanging) when a
thread is still alive after it; the GIL test runs in a subprocess, because a binding that
kept the GIL during a blocking call would freeze the test process itself.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import _callbacks, _pins, raw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JOIN_TIMEOUT = 90          # seconds per group of threads

SOURCE = """
__kernel void axpb(__global const float *x, __global float *y, float a, float b) {
    size_t i = get_global_id(0);
    y[i] = a * x[i] + b;
}
__kernel void add_int(__global int *data, int value) {
    data[get_global_id(0)] += value;
}
"""


@pytest.fixture
def program(context):
    program = context.create_program_with_source(SOURCE).build()
    yield program
    program.release()


def run_threads(target, count: int, *args) -> None:
    """Run ``target(index, *args)`` in ``count`` threads; re-raise the first exception; fail if a
    thread is still running after JOIN_TIMEOUT seconds (a deadlock)."""
    errors = []

    def body(index):
        try:
            target(index, *args)
        except BaseException as exc:          # reported below, in the test's thread
            errors.append((index, exc))

    threads = [threading.Thread(target=body, args=(i,), daemon=True, name=f"worker-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in threads if t.is_alive()]
    assert not alive, f"threads {alive} still running after {JOIN_TIMEOUT} s: a deadlock"
    if errors:
        index, exc = errors[0]
        raise AssertionError(f"thread {index} failed: {exc!r}") from exc


# --------------------------------------------------------------------------- #
# the GIL
# --------------------------------------------------------------------------- #

GIL_PROGRAM = """
import json, threading, time
import opencl_raw as cl
from opencl_raw import raw
device = cl.select_device()
context = cl.create_context([device])
gate = context.create_user_event()
entered, returned = threading.Event(), threading.Event()
def waiter():
    entered.set()
    gate.wait()                     # clWaitForEvents on a user event: blocks in the driver
    returned.set()
thread = threading.Thread(target=waiter, daemon=True)
thread.start()
entered.wait(10)
time.sleep(0.2)                     # the waiter is inside clWaitForEvents now
count, start = 0, time.perf_counter()
while time.perf_counter() - start < 0.5:
    count += 1                      # Python code on this thread, while the other one waits
blocked_meanwhile = not returned.is_set()
gate.set_status(raw.CL_COMPLETE)    # ...and this thread completes the event
thread.join(10)
print(json.dumps({"count": count, "blocked_meanwhile": blocked_meanwhile, "returned": returned.is_set()}))
"""


def test_driver_calls_release_the_gil(cl_target):
    """One thread blocks in clWaitForEvents (Event.wait without a timeout) on a user event while
    the main thread runs Python code for 0.5 s and then sets the event: the waiter was
    blocked all along and returns after the status is set. A binding holding the GIL during
    the call would freeze the main thread: the subprocess would time out."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
               OPENCL_RAW_PLATFORM=cl_target.platform_name, OPENCL_RAW_DEVICE=cl_target.device_name)
    try:
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(GIL_PROGRAM)], env=env, capture_output=True,
                              text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the main thread could not run while another waited in clWaitForEvents: the GIL was held")
    assert done.returncode == 0, done.stderr
    import json
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["blocked_meanwhile"] and result["returned"], result
    assert result["count"] > 10_000, result        # the main thread ran while the other was in the driver


# --------------------------------------------------------------------------- #
# stress
# --------------------------------------------------------------------------- #

N = 4096
ROUNDS = 40


def test_eight_threads_each_with_its_own_queue(context, device, program):
    """Eight threads, each with its own queue on one shared context and its own kernel object
    from one shared program, run ROUNDS kernels each (write, launch, read back) and check
    every result."""
    def work(index):
        queue = context.create_command_queue_with_properties(device)
        kernel = program.create_kernel("axpb")
        x = np.arange(N, dtype=np.float32) + index
        bx = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, host_buffer=x)
        by = context.create_buffer(raw.CL_MEM_WRITE_ONLY, x.nbytes)
        out = np.empty_like(x)
        for r in range(ROUNDS):
            kernel.set_args(bx, by, np.float32(index + 1), np.float32(r))
            queue.enqueue_nd_range_kernel(kernel, N)
            queue.enqueue_read_buffer(by, out)
            np.testing.assert_array_equal(out, (index + 1) * x + r)
        for obj in (kernel, bx, by, queue):
            obj.release()

    run_threads(work, 8)


def test_threads_sharing_one_queue(context, device, program):
    """Eight threads enqueue on one shared in-order queue, each with its own kernel object and
    buffers, non-blocking writes and reads with events; each waits on its own events and
    checks its results."""
    queue = context.create_command_queue_with_properties(device)

    def work(index):
        kernel = program.create_kernel("axpb")
        x = np.full(N, index, dtype=np.float32)
        bx = context.create_buffer(raw.CL_MEM_READ_WRITE, x.nbytes)
        by = context.create_buffer(raw.CL_MEM_READ_WRITE, x.nbytes)
        for r in range(ROUNDS):
            out = np.empty_like(x)
            write = queue.enqueue_write_buffer(bx, x, blocking=False)
            kernel.set_args(bx, by, np.float32(2), np.float32(r))
            run = queue.enqueue_nd_range_kernel(kernel, N, wait_for=[write])
            read = queue.enqueue_read_buffer(by, out, blocking=False, wait_for=[run])
            read.wait(timeout=60)
            np.testing.assert_array_equal(out, 2 * x + r)
        for obj in (kernel, bx, by):
            obj.release()

    run_threads(work, 8)
    queue.finish()
    queue.release()


def test_threads_setting_arguments_on_their_own_kernels(context, device, program, queue):
    """Eight threads set arguments on their own kernel objects of one kernel function, as fast as
    they can, and launch them on one shared queue into their own buffer: every buffer ends
    up holding exactly the sum of what its thread added (a lost or crossed argument would
    show)."""
    def work(index):
        kernel = program.create_kernel("add_int")
        data = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR,
                                     host_buffer=np.zeros(64, np.int32))
        total = 0
        for r in range(200):
            value = index * 1000 + r
            kernel.set_arg(0, data)
            kernel.set_arg(1, np.int32(value))
            queue.enqueue_nd_range_kernel(kernel, 64, event=False)
            total += value
        out = queue.enqueue_read_buffer(data).view(np.int32)
        assert (out == total).all(), (index, out[:4], total)
        kernel.release()
        data.release()

    run_threads(work, 8)


def test_binding_state_is_thread_safe(context, device, program):
    """The binding's own shared state under eight threads: host-object pins (non-blocking
    transfers), registered callbacks (event callbacks that fire on driver threads), the
    version gate and info caches (each thread queries new objects) and the exit registry
    (queues created and released). Afterwards the pin and callback registries are back to
    their sizes before, and every callback ran exactly once, with a valid event although the
    write's event object was dropped right after set_callback (NVIDIA 580 refuses clRetainEvent
    on such an event: a binding retaining inside the callback failed there, and the wrappers of
    refused retains, released later, crashed the process)."""
    pins_before, callbacks_before = _pins.count(), _callbacks.pending()
    calls = []
    lock = threading.Lock()

    def on_complete(event, status):
        command_type = event.command_type                  # clGetEventInfo: the event is valid
        with lock:
            calls.append((status, command_type))

    def work(index):
        queue = context.create_command_queue_with_properties(device)
        buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 4096)
        for r in range(50):
            host = np.full(1024, r, dtype=np.float32)
            write = queue.enqueue_write_buffer(buffer, host, blocking=False)
            del host                                      # the pin keeps it until the write completes
            write.set_callback(on_complete)
            out = np.empty(1024, np.float32)
            queue.enqueue_read_buffer(buffer, out, blocking=False).wait(timeout=60)
            assert (out == r).all()
            assert buffer.context.reference_count >= 1 and queue.device.name
        queue.finish()
        queue.release()
        buffer.release()

    run_threads(work, 8)
    deadline = time.monotonic() + 30
    while (len(calls) < 8 * 50 or _pins.count() != pins_before) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(calls) == 8 * 50 and set(calls) == {(raw.CL_COMPLETE, cl.CommandType.WRITE_BUFFER)}
    assert _pins.count() == pins_before
    assert _callbacks.pending() == callbacks_before


def test_user_event_set_by_another_thread_releases_waiters(context, device, program):
    """Four threads wait (untimed, in clWaitForEvents) on commands held back by one user event;
    another thread completes it: all four return, with their results."""
    queue = context.create_command_queue_with_properties(device)
    gate = context.create_user_event()
    buffers = [context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR,
                                     host_buffer=np.zeros(16, np.int32)) for _ in range(4)]
    kernels = [program.create_kernel("add_int") for _ in range(4)]
    events = []
    for i, (kernel, buffer) in enumerate(zip(kernels, buffers)):
        kernel.set_args(buffer, np.int32(i + 1))
        events.append(queue.enqueue_nd_range_kernel(kernel, 16, wait_for=[gate]))
    queue.flush()

    def wait(index):
        if index == 4:
            time.sleep(0.2)
            gate.set_status(raw.CL_COMPLETE)
        else:
            events[index].wait()

    run_threads(wait, 5)
    for i, buffer in enumerate(buffers):
        assert (queue.enqueue_read_buffer(buffer).view(np.int32) == i + 1).all()
    queue.finish()
    for obj in kernels + buffers + [gate, queue]:
        obj.release()
