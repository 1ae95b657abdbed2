"""Regression cases (issue 6, section 9): one test per class of failure seen in bindings like
this one, each stating the value or the error it expects. Several re-assert behaviour
tested elsewhere as well (the docstrings say where): this file is the list to read.
"""
from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys
import textwrap
import threading
import time
import weakref

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import _callbacks, _pins, checked, errors, raw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SOURCE = """
__kernel void vec3(__global float *out, float3 v, int n) {
    out[0] = v.x; out[1] = v.y; out[2] = v.z; out[3] = n;
}
__kernel void ids(__global ulong *out) { out[get_global_id(0) - get_global_offset(0)] = get_global_id(0); }
"""


@pytest.fixture
def program(context):
    program = context.create_program_with_source(SOURCE).build()
    yield program
    program.release()


def _wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


def test_host_array_collected_during_a_non_blocking_transfer(context, queue):
    """Use after free of host memory: the only reference to the source of a non-blocking write
    is dropped while the write waits for a user event. Expected: the binding's pin keeps the
    array alive (weak reference still set) until the command completes, the buffer then
    holds exactly the array's values, and the pin and the array go away afterwards."""
    gate = context.create_user_event()
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 4096)
    pins_before = _pins.count()
    host = np.arange(1024, dtype=np.float32)
    alive = weakref.ref(host)
    write = queue.enqueue_write_buffer(buffer, host, blocking=False, wait_for=[gate])
    del host
    gc.collect()
    assert alive() is not None and _pins.count() == pins_before + 1       # pinned, not freed
    np.ones(1 << 20, np.float32)                                           # churn the allocator
    gate.set_status(raw.CL_COMPLETE)
    write.wait(timeout=30)
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.float32),
                                  np.arange(1024, dtype=np.float32))
    assert _wait_until(lambda: _pins.count() == pins_before)
    gc.collect()
    assert alive() is None
    for obj in (write, buffer, gate):
        obj.release()


def test_callback_collected_before_it_fires(context, queue):
    """A callback whose only reference is the one given to set_callback (a lambda the caller
    drops) must still run: the binding keeps it until the driver calls it. Expected: it runs
    once with CL_COMPLETE, then the registry is back to its size and the function is freed."""
    gate = context.create_user_event()
    marker = queue.enqueue_marker_with_wait_list([gate])
    pending_before = _callbacks.pending()
    ran = []

    def make():
        def callback(event, status):
            ran.append(status)
        return callback

    callback = make()
    alive = weakref.ref(callback)
    marker.set_callback(callback)
    del callback
    gc.collect()
    assert alive() is not None and _callbacks.pending() == pending_before + 1
    gate.set_status(raw.CL_COMPLETE)
    marker.wait(timeout=30)
    assert _wait_until(lambda: ran == [raw.CL_COMPLETE])
    assert _callbacks.pending() == pending_before
    gc.collect()
    assert alive() is None
    for obj in (marker, gate):
        obj.release()


def _run(code: str, cl_target, timeout: float = 60, env=None) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
                       OPENCL_RAW_PLATFORM=cl_target.platform_name, OPENCL_RAW_DEVICE=cl_target.device_name)
    environment.update(env or {})
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environment, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the program hung (more than {timeout} s): {exc.stderr!r}")


def test_release_order_at_exit(cl_target):
    """Crash at exit from the order in which wrappers die: module globals are cleared in no
    particular order, so a context may be "released" before its buffers and kernels, and
    Handle.__del__ may run while the binding's own modules are half torn down. Expected: exit
    status 0 and an empty stderr (Handle.__del__ does nothing once the interpreter
    finalizes; the process's end frees the driver's objects). More cases: test_exit.py."""
    done = _run("""
        import numpy as np
        import opencl_raw as cl
        from opencl_raw import raw
        device = cl.select_device()
        context = cl.create_context([device])
        queue = context.create_command_queue_with_properties(device)
        buffers = [context.create_buffer(raw.CL_MEM_READ_WRITE, 64) for _ in range(8)]
        kernel = context.create_program_with_source("__kernel void k(__global int *a) { a[0] = 1; }").build() \\
            .create_kernel("k")
        kernel.set_arg(0, buffers[0])
        queue.enqueue_nd_range_kernel(kernel, 1)
        objects = {"a_context": context, "b_queue": queue, "c_kernel": kernel, "d_buffers": buffers}
        context.release()            # the driver's objects live on by their implicit references
        print("done")
    """, cl_target)
    assert done.returncode == 0 and done.stderr == "" and done.stdout.strip() == "done", done


def test_cl_float3_takes_16_bytes(queue, program, context, run_oclgrind):
    """Argument size of 3-vectors: a float3 occupies 16 bytes (the size of a float4).
    Expected: raw.cl_float3 is 16 bytes and its three values arrive; 12 bytes are refused by a
    driver that follows the specification with CL_INVALID_ARG_SIZE (Oclgrind: InvalidArgSize),
    while PoCL 3.1 accepts them, and then the three values arrive intact."""
    assert raw.sizeof(raw.cl_float3) == 16
    kernel = program.create_kernel("vec3")
    out = context.create_buffer(raw.CL_MEM_READ_WRITE, 16)
    kernel.set_arg(0, out)
    kernel.set_arg(2, np.int32(9))
    kernel.set_arg(1, raw.cl_float3(1, 2, 3))
    queue.enqueue_nd_range_kernel(kernel, 1).wait()
    assert queue.enqueue_read_buffer(out).view(np.float32).tolist() == [1, 2, 3, 9]
    try:
        kernel.set_arg(1, np.array([4, 5, 6], np.float32).tobytes())
    except errors.InvalidArgSize:
        pass
    else:
        queue.enqueue_nd_range_kernel(kernel, 1).wait()
        assert queue.enqueue_read_buffer(out).view(np.float32).tolist() == [4, 5, 6, 9]
    kernel.release()
    out.release()
    result = run_oclgrind(f"""
import json
import numpy as np
import opencl_raw as cl
from opencl_raw import errors, raw
device = cl.select_device()
context = cl.create_context([device])
kernel = context.create_program_with_source('''{SOURCE}''').build().create_kernel("vec3")
try:
    kernel.set_arg(1, bytes(12))
    print(json.dumps("accepted"))
except errors.CLError as exc:
    print(json.dumps(exc.name))
""")
    assert result == "CL_INVALID_ARG_SIZE"


@pytest.mark.deviation("NVIDIA CUDA", "a global offset of 2**32 + 7 reaches the kernel as 7: get_global_id "
                       "is 7 + i (the specification: global_work_offset is size_t, get_global_id returns "
                       "size_t, 2**32 + 7 + i) (NVIDIA 580)")
def test_global_offset_above_2_to_the_32(queue, program, context, device):
    """Truncation of size_t work sizes: an offset of 2**32 + 7 with a global size of 8.
    Expected: get_global_id is 2**32 + 7 + i (not 7 + i). See also test_validation.py."""
    if device.get_info(raw.CL_DEVICE_ADDRESS_BITS) != 64:
        pytest.skip("a 32-bit device")
    kernel = program.create_kernel("ids")
    out = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    kernel.set_arg(0, out)
    queue.enqueue_nd_range_kernel(kernel, 8, None, 2 ** 32 + 7).wait()
    assert queue.enqueue_read_buffer(out).view(np.uint64).tolist() == [2 ** 32 + 7 + i for i in range(8)]
    kernel.release()
    out.release()


def test_kernel_argument_of_the_wrong_width(program):
    """Argument width: an int parameter given 8 bytes (numpy.int64). Expected: the driver's
    CL_INVALID_ARG_SIZE, raised as errors.InvalidArgSize naming the argument and the kernel."""
    kernel = program.create_kernel("vec3")
    with pytest.raises(errors.InvalidArgSize, match=r"argument 2 \(8 bytes\) of kernel 'vec3'"):
        kernel.set_arg(2, np.int64(3))
    kernel.release()


def test_zero_size_buffer(context):
    """A zero-size allocation. Expected: the driver's CL_INVALID_BUFFER_SIZE
    (errors.InvalidBufferSize, code -61), not a buffer of some other size."""
    with pytest.raises(errors.InvalidBufferSize) as info:
        context.create_buffer(raw.CL_MEM_READ_WRITE, 0)
    assert info.value.code == -61 and info.value.name == "CL_INVALID_BUFFER_SIZE"


def test_user_event_never_completed_while_another_thread_waits(context, queue):
    """A hang on a user event: one thread waits with a timeout on a command held back by a user
    event nobody completes yet; another waits without one. Expected: the timed wait raises
    TimeoutError after its 0.3 s; the untimed one returns once this thread completes the
    event (Event.wait(timeout=) exists for this; without a timeout a wait on an event that is
    never completed blocks for ever, as in C)."""
    gate = context.create_user_event()
    marker = queue.enqueue_marker_with_wait_list([gate])
    results = {}

    def timed():
        start = time.monotonic()
        try:
            marker.wait(timeout=0.3)
            results["timed"] = "returned"
        except TimeoutError:
            results["timed"] = time.monotonic() - start

    def untimed():
        marker.wait()
        results["untimed"] = "returned"

    threads = [threading.Thread(target=timed, daemon=True), threading.Thread(target=untimed, daemon=True)]
    for thread in threads:
        thread.start()
    threads[0].join(30)
    assert isinstance(results.get("timed"), float) and 0.3 <= results["timed"] < 10, results
    assert "untimed" not in results
    gate.set_status(raw.CL_COMPLETE)
    threads[1].join(30)
    assert results.get("untimed") == "returned"
    for obj in (marker, gate):
        obj.release()


def test_read_larger_than_the_buffer(context, queue, monkeypatch):
    """Out-of-bounds transfer: reading 128 bytes from a 64-byte buffer (or 64 bytes at offset 8).
    Expected: ValueError naming the sizes, before the driver is called (clEnqueueReadBuffer
    is never reached)."""
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    called = []
    monkeypatch.setattr(checked, "clEnqueueReadBuffer", lambda *args: called.append(args))
    with pytest.raises(ValueError, match="128 bytes at offset 0 exceed the 64 bytes"):
        queue.enqueue_read_buffer(buffer, np.empty(32, np.float32))
    with pytest.raises(ValueError, match="64 bytes at offset 8 exceed the 64 bytes"):
        queue.enqueue_read_buffer(buffer, np.empty(16, np.float32), offset=8)
    assert called == []
    buffer.release()


# --------------------------------------------------------------------------- #
# objects returned by queries, destructors
# --------------------------------------------------------------------------- #

def test_event_command_queue_after_the_queue_was_released(context, device, monkeypatch):
    """The colleague's crash: ``event.command_queue`` after the queue was released asked the
    driver for CL_EVENT_COMMAND_QUEUE, which may name a queue the driver already deleted
    (Oclgrind 21.10 does; the process died). Expected: the event returns its parent, the
    CommandQueue object, while it is unreleased, and ReleasedHandleError afterwards, without
    asking the driver about the event in either case; ``event.context`` comes from the queue
    or from the Context object the queue was made with."""
    queue = context.create_command_queue_with_properties(device)
    event = queue.enqueue_marker_with_wait_list()
    event.wait()
    asked = []
    original = checked.clGetEventInfo

    def spy(handle, param, *rest):
        asked.append(param)
        return original(handle, param, *rest)

    monkeypatch.setattr(checked, "clGetEventInfo", spy)
    assert event.command_queue is queue
    queue.release()
    with pytest.raises(errors.ReleasedHandleError, match="CommandQueue of .* was released"):
        event.command_queue
    with pytest.raises(errors.ReleasedHandleError):
        event.get_info(raw.CL_EVENT_COMMAND_QUEUE)
    ctx = event.context
    assert ctx == context
    ctx.release()
    assert raw.CL_EVENT_COMMAND_QUEUE not in asked and raw.CL_EVENT_CONTEXT not in asked
    assert event.command_type == cl.CommandType.MARKER         # the event itself still answers
    event.release()


def test_queried_objects_after_their_parents_were_released_on_oclgrind(run_oclgrind):
    """The same crash and its relatives on Oclgrind 21.10, which deletes a released queue or
    context under its events and samplers. Expected: a ReleasedHandleError where the parent is
    gone (an event's queue; an event's context once its queue and context were released; a
    user event's context), a working answer where the binding holds a reference (a
    sampler's context), and no crash. The objects the specification keeps alive by implicit
    references (a sub-buffer's parent: CL_MEM_ASSOCIATED_MEMOBJECT; a kernel's program:
    CL_KERNEL_PROGRAM; a memory object's context: CL_MEM_CONTEXT; a queue's context) answer."""
    result = run_oclgrind("""
import json
import opencl_raw as cl
from opencl_raw import errors, raw
device = cl.select_device()
out = {}
def attempt(name, function):
    try:
        value = function()
        out[name] = value.reference_count if value is not None else None
    except errors.ReleasedHandleError:
        out[name] = "released"
context = cl.create_context([device])
queue = context.create_command_queue_with_properties(device)
event = queue.enqueue_marker_with_wait_list()
event.wait()
queue.release()
attempt("event.command_queue", lambda: event.command_queue)
gate = context.create_user_event()
sampler = context.create_sampler()
parent = context.create_buffer(raw.CL_MEM_READ_WRITE, 1024)
sub = parent.create_sub_buffer(0, 0, 64)
program = context.create_program_with_source("__kernel void k(__global int *a) { a[0] = 1; }").build()
kernel = program.create_kernel("k")
other = context.create_command_queue_with_properties(device)
parent.release(); program.release(); context.release()
attempt("event.context", lambda: event.context)
attempt("user_event.context", lambda: gate.context)
attempt("sampler.context", lambda: sampler.context)
attempt("sub.associated_memobject", lambda: sub.associated_memobject)
attempt("kernel.program", lambda: kernel.program)
attempt("sub.context", lambda: sub.context)
attempt("queue.context", lambda: other.context)
gate.set_status(raw.CL_COMPLETE)
print(json.dumps(out))
""")
    assert result["event.command_queue"] == "released"
    assert result["event.context"] == "released"
    assert result["user_event.context"] == "released"
    for name in ("sampler.context", "sub.associated_memobject", "kernel.program", "sub.context", "queue.context"):
        assert isinstance(result[name], int) and result[name] >= 1, (name, result)


def test_a_failing_release_in_a_destructor_is_a_warning(context, monkeypatch):
    """A failure inside a destructor must neither crash nor vanish: the driver refusing the
    release of a collected Buffer (simulated: clReleaseMemObject answers CL_INVALID_MEM_OBJECT)
    becomes an OpenCLRawWarning naming the object and the error; an explicit release() raises
    the CLError itself. The same for an SVM allocation's free."""
    def refuse(handle):
        return raw.CL_INVALID_MEM_OBJECT            # (the reference stays: given back below)

    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    value = buffer._value
    monkeypatch.setattr(raw, "clReleaseMemObject", refuse)
    with pytest.warns(errors.OpenCLRawWarning, match="releasing Buffer failed: .*CL_INVALID_MEM_OBJECT"):
        del buffer
        gc.collect()
    explicit = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    with pytest.raises(errors.InvalidMemObject):
        explicit.release()
    monkeypatch.undo()
    assert raw.clReleaseMemObject(value) == raw.CL_SUCCESS              # the references the fakes kept
    assert raw.clReleaseMemObject(explicit._value) == raw.CL_SUCCESS
    assert issubclass(errors.OpenCLRawWarning, RuntimeWarning)
    if min(d.version_tuple for d in context.devices) >= (2, 0):
        svm = context.svm_alloc(raw.CL_MEM_READ_WRITE, 64)
        pointer = svm.pointer

        def refuse_free(context_handle, pointer):
            raise errors.InvalidValue(None, "clSVMFree")

        monkeypatch.setattr(checked, "clSVMFree", refuse_free)
        with pytest.warns(errors.OpenCLRawWarning, match="freeing SVMAllocation failed"):
            del svm
            gc.collect()
        monkeypatch.undo()
        raw.clSVMFree(context.handle, pointer)


def test_set_arg_after_a_buffer_address_is_reused(context, queue, monkeypatch):
    """Stale kernel argument: set_arg skips clSetKernelArg when an argument gets the value it
    already has; keyed on the handle value alone, a new buffer at a released buffer's address
    (PoCL reuses it at once) looked unchanged, and a driver that resolves the cl_mem at
    clSetKernelArg time would then write into freed memory. Expected: the same wrapper set
    twice is sent once; a new wrapper is always sent, even at the same address, and the
    kernel writes into it."""
    program = context.create_program_with_source(
        "__kernel void put(__global int *a, int v) { a[get_global_id(0)] = v; }").build()
    kernel = program.create_kernel("put")
    sent = []
    original = raw.clSetKernelArg                           # what set_arg calls (counting driver calls)
    monkeypatch.setattr(raw, "clSetKernelArg", lambda *args: sent.append(args[1]) or original(*args))
    first = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    kept = [first]                                           # alive, but released below
    kernel.set_args(first, np.int32(1))
    kernel.set_args(first, np.int32(1))
    assert sent == [0, 1]                                    # unchanged values are not sent again
    address = first._value
    first.release()
    second = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    kernel.set_args(second, np.int32(2))
    assert sent == [0, 1, 0, 1], (sent, second._value == address)
    queue.enqueue_nd_range_kernel(kernel, 16).wait()
    assert (queue.enqueue_read_buffer(second).view(np.int32) == 2).all()
    for obj in (kernel, program, second):
        obj.release()
    assert kept[0].released


def test_a_dropped_argument_buffer_stays_alive_while_the_kernel_holds_it(context, queue):
    """A buffer set as a kernel argument and then dropped by the caller: the kernel holds it,
    so it is not freed, its address is not given to a new buffer and the launch writes into
    it, not into the new one (before: the kernel held it weakly, and a new 'victim' buffer
    was overwritten on PoCL and Oclgrind, or PoCL aborted). Expected: victim keeps its 0s."""
    import gc
    import weakref
    program = context.create_program_with_source(
        "__kernel void put(__global int *a, int v) { a[get_global_id(0)] = v; }").build()
    kernel = program.create_kernel("put")
    kernel.set_args(context.create_buffer(raw.CL_MEM_READ_WRITE, 64), np.int32(777))
    held = weakref.ref(kernel._arg_held[0])
    gc.collect()
    assert held() is not None and not held().released
    victim = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR,
                                   host_buffer=np.zeros(16, np.int32))
    queue.enqueue_nd_range_kernel(kernel, 16).wait()
    assert (queue.enqueue_read_buffer(victim).view(np.int32) == 0).all()
    assert (queue.enqueue_read_buffer(held()).view(np.int32) == 777).all()
    kernel.set_arg(0, victim)                                 # replaced: the kernel lets the first go
    gc.collect()
    assert held() is None
    for obj in (kernel, program, victim):
        obj.release()


def test_a_released_argument_buffer_is_refused_at_launch(context, queue):
    """A buffer released after it was set as an argument would reach the driver as a freed
    cl_mem. Expected: ReleasedHandleError naming the argument, before the driver; after the
    argument is set again the launch works."""
    program = context.create_program_with_source(
        "__kernel void put(__global int *a, int v) { a[get_global_id(0)] = v; }").build()
    kernel = program.create_kernel("put")
    gone = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    kernel.set_args(gone, np.int32(5))
    gone.release()
    with pytest.raises(errors.ReleasedHandleError, match="argument 0 of kernel 'put'"):
        queue.enqueue_nd_range_kernel(kernel, 16)
    fresh = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    kernel.set_arg(0, fresh)
    queue.enqueue_nd_range_kernel(kernel, 16, event=False)
    assert (queue.enqueue_read_buffer(fresh).view(np.int32) == 5).all()
    for obj in (kernel, program, fresh):
        obj.release()


PUT = "__kernel void put(__global int *a, int v) { a[get_global_id(0)] = v; }"


def _dropped_argument(context):
    """A kernel whose argument 0 is a buffer the caller no longer holds (a weak reference to it)."""
    kernel = context.create_program_with_source(PUT).build().create_kernel("put")
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    kernel.set_args(buffer, np.int32(5))
    held = weakref.ref(buffer)
    del buffer
    gc.collect()
    assert held() is not None
    return kernel, held


def test_forgotten_argument_values_keep_their_buffers(context, queue):
    """forget_arg_values() (after setting arguments through raw) dropped the buffers the kernel
    held, so the next launch used a freed cl_mem and PoCL aborted. Expected: the buffer stays
    held until its index is set again through the object, and the launch writes 9 into it."""
    kernel, held = _dropped_argument(context)
    value = raw.cl_int(9)
    assert raw.clSetKernelArg(kernel.handle, 1, 4, raw.byref(value)) == raw.CL_SUCCESS
    kernel.forget_arg_values()
    gc.collect()
    assert held() is not None and not held().released
    queue.enqueue_nd_range_kernel(kernel, 16).wait()
    assert (queue.enqueue_read_buffer(held()).view(np.int32) == 9).all()


def test_a_refused_argument_keeps_the_buffer_the_driver_has(context, queue):
    """A set_arg the driver refused dropped the buffer held at that index, though the driver keeps
    it as the argument: the next launch used a freed cl_mem (PoCL aborted). Expected: InvalidArgSize,
    the buffer still held, the launch writes 5 into it; the same value set again is sent."""
    kernel, held = _dropped_argument(context)
    with pytest.raises(errors.InvalidArgSize):
        kernel.set_arg(0, b"\0" * 3)
    gc.collect()
    assert held() is not None
    queue.enqueue_nd_range_kernel(kernel, 16).wait()
    assert (queue.enqueue_read_buffer(held()).view(np.int32) == 5).all()


def test_a_cloned_kernel_holds_the_arguments_it_copied(context, queue, device):
    """Kernel.clone() copies the argument values (clCloneKernel) but held none of the buffers:
    dropping the original kernel freed them under the clone (PoCL aborted), and a released one
    reached the driver. Expected: the clone holds them, and refuses a released one at launch."""
    if device.version_tuple < (2, 1):
        pytest.skip(f"clCloneKernel needs OpenCL 2.1; the device reports {device.version_tuple}")
    kernel, held = _dropped_argument(context)
    clone = kernel.clone()
    kernel.release()
    del kernel
    gc.collect()
    assert held() is not None
    queue.enqueue_nd_range_kernel(clone, 16).wait()
    assert (queue.enqueue_read_buffer(held()).view(np.int32) == 5).all()
    held().release()
    with pytest.raises(errors.ReleasedHandleError, match="argument 0"):
        queue.enqueue_nd_range_kernel(clone, 16)


def test_wait_lists_from_generators_keep_their_events(queue, context):
    """wait_for given as a generator: the events it made were collected, and released, before the
    driver read the wait list (PoCL aborted). Expected: every launch runs and writes its value."""
    kernel = context.create_program_with_source(PUT).build().create_kernel("put")
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    for value in range(20):
        kernel.set_args(buffer, np.int32(value))
        queue.enqueue_nd_range_kernel(kernel, 16, wait_for=(queue.enqueue_marker_with_wait_list()
                                                            for _ in range(2))).wait()
        assert (queue.enqueue_read_buffer(buffer).view(np.int32) == value).all()


def test_a_structured_numpy_scalar_is_sent_again_after_it_changed(context, queue):
    """A numpy structured scalar (np.void) is mutable, often a view into its array; set_arg took it
    for an unchanging numpy scalar and skipped it when set again. Expected: each change reaches
    the kernel."""
    program = context.create_program_with_source(
        "typedef struct { int a; int b; } pair;\n"
        "__kernel void pairk(__global int *out, pair p) { out[0] = p.a; out[1] = p.b; }").build()
    kernel = program.create_kernel("pairk")
    out = context.create_buffer(raw.CL_MEM_READ_WRITE, 8)
    array = np.zeros(1, dtype=[("a", "i4"), ("b", "i4")])
    pair = array[0]
    for a, b in ((1, 2), (10, 20)):
        pair["a"], pair["b"] = a, b
        kernel.set_args(out, pair)
        queue.enqueue_nd_range_kernel(kernel, 1).wait()
        assert list(queue.enqueue_read_buffer(out).view(np.int32)) == [a, b]
    array["a"][0] = 77                                          # through the array: the same memory
    kernel.set_arg(1, pair)
    queue.enqueue_nd_range_kernel(kernel, 1).wait()
    assert list(queue.enqueue_read_buffer(out).view(np.int32)) == [77, 20]


def test_argument_indexes_and_work_sizes_of_the_wrong_kind(context, queue, device):
    """Inputs that ctypes or tuple() turned into other values: an SVM argument index past a cl_uint
    (2**32 set argument 0), an address past a pointer, a float or bool index of an argument set
    before (the unchanged check came first), bytes or a dict as a work size (b"@" launched 64
    work-items). Expected: TypeError or ValueError naming the parameter; numpy integers work."""
    kernel = context.create_program_with_source(PUT).build().create_kernel("put")
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    value = np.int32(3)
    kernel.set_args(buffer, value)
    for index in (1.0, True):
        with pytest.raises(TypeError, match="index"):
            kernel.set_arg(index, value)
    if device.version_tuple >= (2, 0) and device.svm_capabilities:
        with pytest.raises(ValueError, match="cl_uint"):
            kernel.set_arg_svm_pointer(2 ** 32, None)
        with pytest.raises(ValueError, match="address"):
            kernel.set_arg_svm_pointer(0, 2 ** 64)
    for size in (b"@", {64: 1}, "64", 64.0):
        with pytest.raises(TypeError, match="global_size"):
            queue.enqueue_nd_range_kernel(kernel, size)
    queue.enqueue_nd_range_kernel(kernel, (np.int64(16),), np.uint32(4)).wait()
    assert (queue.enqueue_read_buffer(buffer).view(np.int32)[:16] == 3).all()


def test_copying_a_handle_object_says_what_to_do(context):
    """copy.copy of a handle object fell back to pickling and said "cannot be pickled".
    Expected: TypeError saying it cannot be copied, naming from_handle (and clone() for kernels)."""
    import copy
    kernel = context.create_program_with_source(PUT).build().create_kernel("put")
    with pytest.raises(TypeError, match=r"cannot be copied.*from_handle.*clone\(\)"):
        copy.copy(kernel)
    with pytest.raises(TypeError, match="cannot be copied"):
        copy.deepcopy(context)


def test_an_array_of_python_objects_is_no_host_memory(context, queue):
    """Reading into a numpy array of dtype object wrote device bytes over its PyObject pointers
    (a segfault at the next repr); writing one sent pointer values. Expected: TypeError, for
    object fields of a structured dtype and memoryviews of such arrays too."""
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    for host in (np.empty(8, dtype=object), np.zeros(2, dtype=[("a", "i4"), ("b", "O")]),
                 memoryview(np.empty(8, dtype=object))):
        for transfer in (queue.enqueue_read_buffer, queue.enqueue_write_buffer):
            with pytest.raises(TypeError, match="Python objects"):
                transfer(buffer, host)
    with pytest.raises(TypeError, match="Python objects"):
        context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, host_buffer=np.empty(8, dtype=object))


def test_an_image_is_no_buffer_of_a_buffer_command(context, queue, device):
    """PoCL and Oclgrind read and wrote an image through clEnqueueReadBuffer/WriteBuffer
    (the specification: CL_INVALID_MEM_OBJECT). Expected: TypeError naming the parameter."""
    if not device.image_support:
        pytest.skip("the device has no images")
    image = context.create_image(raw.CL_MEM_READ_WRITE, (raw.CL_RGBA, raw.CL_UNSIGNED_INT8), (4, 4))
    host = np.zeros(64, dtype=np.uint8)
    for call in (lambda: queue.enqueue_write_buffer(image, host), lambda: queue.enqueue_read_buffer(image, host),
                 lambda: queue.enqueue_fill_buffer(image, np.uint8(1))):
        with pytest.raises(TypeError, match="buffer memory object"):
            call()


def test_a_number_for_a_pointer_argument(context):
    """An 8-byte number given for a pointer argument crashed PoCL and Oclgrind in clSetKernelArg
    (they read it as a cl_mem). Expected, where the argument types are known: TypeError; None,
    LocalMemory and scalars for scalar arguments still go through."""
    source = "__kernel void k(__global int *o, __local int *l, long v) { l[0] = (int)v; o[0] = l[0]; }"
    kernel = context.create_program_with_source(source).build("-cl-kernel-arg-info").create_kernel("k")
    for value in (np.uint64(0x1234), b"12345678", raw.cl_ulong(5)):
        with pytest.raises(TypeError, match=r"argument 0 is a pointer \(int\*\)"):
            kernel.set_arg(0, value)
        with pytest.raises(TypeError, match="argument 1 is a pointer"):
            kernel.set_arg(1, value)
    kernel.set_arg(0, None)
    kernel.set_arg(1, cl.LocalMemory(16))
    kernel.set_arg(2, np.int64(7))


def test_checked_wrappers_show_their_c_parameters_without_a_stand_in(queue):
    """The checked wrappers showed their parameters through a do-nothing __wrapped__ function,
    which inspect.unwrap returned (a call through it did nothing). Expected: the wrapper itself
    answers inspect.signature with or without following wrappers, and unwraps to itself."""
    import inspect
    for follow in (True, False):
        assert str(inspect.signature(checked.clFinish, follow_wrapped=follow)) == "(command_queue, /)"
    assert inspect.getfullargspec(checked.clCreateBuffer).args == ["context", "flags", "size", "host_ptr"]
    assert inspect.unwrap(checked.clFinish) is checked.clFinish
    assert checked.clFinish(queue.handle) is None


def test_lazy_enum_classes_are_listed_and_sizes_are_named(context, queue):
    """dir() of the info module missed the enum classes made on first use; a launch with global
    size None said "NoneType has no len()" and one with a numpy array of sizes "unhashable".
    Expected: dir() lists them; TypeError naming global_size and what to give."""
    code = "import opencl_raw._info as i; assert 'DeviceType' in dir(i) and 'CommandType' in dir(i)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)
    kernel = context.create_program_with_source(PUT).build().create_kernel("put")
    with pytest.raises(TypeError, match="global_size must be an int.*got None"):
        queue.enqueue_nd_range_kernel(kernel, None)
    with pytest.raises(TypeError, match=r"global_size .*ndarray \(give tuple"):
        queue.enqueue_nd_range_kernel(kernel, np.array([8, 8]))


# --------------------------------------------------------------------------- #
# session 5 review (a new user's attack on this session's changes)
# --------------------------------------------------------------------------- #

def test_a_blocking_transfer_after_a_failed_wait_list_event_raises(run_oclgrind):
    """Oclgrind 21.10 returns CL_SUCCESS for a blocking transfer whose wait list holds a failed
    event, and moves no bytes; with event=False nothing showed it, and host=None returned
    np.empty garbage. The specification: CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST."""
    result = run_oclgrind("""
import json, os
os.environ["OPENCL_RAW_EXIT_TIMEOUT"] = "0"   # (the exit would wait for the failed command)
import numpy as np
import opencl_raw as cl
from opencl_raw import raw, errors
device = cl.select_device()
context = cl.create_context([device])
queue = context.create_command_queue_with_properties(device)
buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
queue.enqueue_write_buffer(buffer, np.full(16, 7, dtype=np.int32))
failed = context.create_user_event()
failed.set_user_event_status(-5)
out = {}
for name, call in (("event=False", lambda: queue.enqueue_read_buffer(buffer, np.zeros(16, np.int32), wait_for=[failed],
                                                                     event=False)),
                   ("event", lambda: queue.enqueue_read_buffer(buffer, np.zeros(16, np.int32), wait_for=[failed])),
                   ("host=None", lambda: queue.enqueue_read_buffer(buffer, None, wait_for=[failed])),
                   ("write", lambda: queue.enqueue_write_buffer(buffer, np.zeros(16, np.int32), wait_for=[failed],
                                                                event=False))):
    try:
        call()
        out[name] = "returned"
    except errors.ExecStatusErrorForEventsInWaitList as exc:
        out[name] = exc.name
fine = context.create_user_event()
fine.set_user_event_status(raw.CL_COMPLETE)
host = np.zeros(16, np.int32)
out["ok"] = queue.enqueue_read_buffer(buffer, host, wait_for=[fine], event=False) is None and host.tolist() == [7] * 16
print(json.dumps(out))
""")
    code = "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST"
    assert result == {"event=False": code, "event": code, "host=None": code, "write": code, "ok": True}, result


def test_a_first_timed_wait_on_another_thread_leaves_the_main_thread_named(cl_target):
    """A timed Event.wait imported threading lazily; where that import ran first on another
    thread (a driver callback, a _thread thread) in an interpreter that had not imported it
    (a venv, python -S), threading.main_thread() named that thread for good."""
    import json
    import os
    import subprocess
    import sys
    code = """
import _thread, sys, time
import opencl_raw as cl
from opencl_raw import raw
context = cl.create_context([cl.select_device()])
user = context.create_user_event()
done = _thread.allocate_lock()
done.acquire()
def waiter():
    try:
        user.wait(timeout=0.05)
    except TimeoutError:
        pass
    done.release()
_thread.start_new_thread(waiter, ())
done.acquire()
user.set_user_event_status(raw.CL_COMPLETE)
first = "threading" in sys.modules
import json, threading
print(json.dumps([first, threading.main_thread() is threading.current_thread()]))
"""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
               OPENCL_RAW_PLATFORM=cl_target.platform_name, OPENCL_RAW_DEVICE=cl_target.device_name)
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [False, True]


def test_empty_numpy_text_scalars_keep_their_bytes(context):
    """set_arg read numpy scalars through memoryview, which gives b'' for an empty np.str_ or
    np.bytes_ where tobytes() gives NUL bytes (4 and 1): they again set those bytes, as before."""
    kernel = context.create_program_with_source(
        "__kernel void k(__global int *out, int a, char b) { out[0] = a + b; }").build().create_kernel("k")
    kernel.set_arg(1, np.str_(""))       # 4 NUL bytes: an int
    kernel.set_arg(2, np.bytes_(b""))    # 1 NUL byte: a char
    assert kernel._arg_values[1] == bytes(4) and kernel._arg_values[2] == bytes(1)


def test_ctypes_pointers_are_no_host_memory(context, queue):
    """Reading into a ctypes c_char_p, c_wchar_p, pointer or a struct holding one wrote device
    bytes over the address, which .value / .contents then followed (a segfault). Expected:
    TypeError. Formats that only look alike pass: a complex memoryview ('Zd'), a c_void_p (an
    int to Python), struct fields named with O or z."""
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    queue.enqueue_write_buffer(buffer, np.full(64, 0x41, dtype=np.uint8))

    class WithPointer(ctypes.Structure):
        _fields_ = [("text", ctypes.c_char_p), ("n", ctypes.c_int)]

    class Named(ctypes.Structure):
        _fields_ = [("Offset", ctypes.c_int), ("z", ctypes.c_int)]

    for host in (ctypes.c_char_p(b"abcdefgh"), ctypes.c_wchar_p("abcdefgh"), ctypes.pointer(ctypes.c_int(1)),
                 WithPointer(), (ctypes.c_char_p * 2)()):
        for transfer in (queue.enqueue_read_buffer, queue.enqueue_write_buffer):
            with pytest.raises(TypeError, match="pointers"):
                transfer(buffer, host)
    named = Named()
    queue.enqueue_read_buffer(buffer, named)
    assert named.Offset == named.z == 0x41414141
    complex_view = memoryview(np.zeros(2, dtype=np.complex128))
    queue.enqueue_read_buffer(buffer, complex_view.cast("B").cast("B"))
    queue.enqueue_write_buffer(buffer, memoryview(np.ones(2, dtype=np.complex128)))
    assert queue.enqueue_read_buffer(buffer)[:32].view(np.complex128).tolist() == [1, 1]
    address = ctypes.c_void_p()
    queue.enqueue_read_buffer(buffer, address)
    assert address.value is not None


def test_writable_datetime_arrays_are_host_memory(context, queue):
    """numpy exports no buffer of datetime64 / timedelta64 arrays, so ctypes could not take the
    address of a writable one: an error that named neither the parameter nor the cause.
    Expected: read and written like any array (their bytes are int64)."""
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 32)
    stamps = np.array(["2026-01-01", "2026-11-30", "1970-01-01", "2000-02-29"], dtype="datetime64[D]")
    queue.enqueue_write_buffer(buffer, stamps)
    back = np.zeros(4, dtype="datetime64[D]")
    queue.enqueue_read_buffer(buffer, back)
    np.testing.assert_array_equal(back, stamps)
    spans = np.zeros(4, dtype="timedelta64[s]")
    queue.enqueue_read_buffer(buffer, spans)
    np.testing.assert_array_equal(spans.view(np.int64), stamps.view(np.int64))


def test_finish_lets_go_of_the_host_memory_of_failed_commands(context, device):
    """PoCL 3.1 calls no CL_COMPLETE callback for a command that failed (its wait list held a
    failed event): the host object of a non-blocking write stayed pinned for the life of the
    process. Expected: the queue's finish() lets go of the pins of its commands enqueued before
    it, and of no other queue's."""
    first = context.create_command_queue_with_properties(device)
    second = context.create_command_queue_with_properties(device)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    base = _pins.count()
    failing, waiting = context.create_user_event(), context.create_user_event()
    failed = first.enqueue_write_buffer(buffer, np.zeros(16, np.int32), blocking=False, wait_for=[failing])
    pending = second.enqueue_write_buffer(buffer, np.ones(16, np.int32), blocking=False, wait_for=[waiting])
    assert _pins.count() == base + 2
    failing.set_user_event_status(-5)
    try:
        first.finish()
    except errors.CLError:     # NVIDIA 580: clFinish answers -5 here; it calls back for the failed command
        pass
    assert failed.command_execution_status < 0
    assert _wait_until(lambda: _pins.count() == base + 1)   # the second queue's command still holds its array
    waiting.set_user_event_status(raw.CL_COMPLETE)
    second.finish()
    assert pending.command_execution_status == raw.CL_COMPLETE
    assert _wait_until(lambda: _pins.count() == base)
    assert second.enqueue_read_buffer(buffer).view(np.int32).tolist() == [1] * 16
    for obj in (failed, pending, failing, waiting, buffer, first, second):
        obj.release()
