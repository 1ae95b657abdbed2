"""Callbacks from the driver (opencl_raw/_callbacks.py and its users): the context notify callback,
context destructor callbacks, event callbacks and the SVM free callback.

The rules tested: the Python callable lives exactly as long as the driver may call it (weakref +
gc before and after), it may run on a driver thread (thread idents recorded), an exception inside
it goes to sys.unraisablehook (a custom hook records it), and nothing is lost or crashes.
"""
from __future__ import annotations

import ctypes
import gc
import sys
import threading
import time
import weakref

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import _callbacks, errors, raw
from opencl_raw import context as context_module

POCL = "Portable Computing Language"


class Recorder:
    """A callable that records its arguments and the calling thread (weakref-able)."""

    def __init__(self, fail: bool = False):
        self.calls = []
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, *args):
        with self.lock:
            self.calls.append((args, threading.get_ident()))
        if self.fail:
            raise ValueError(f"raised inside a callback with {args!r}")


@pytest.fixture
def unraisable(monkeypatch):
    """The unraisable exceptions reported while the test runs (sys.unraisablehook replaced)."""
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    return seen


def _collected(ref: weakref.ref) -> bool:
    gc.collect()
    return ref() is None


def _wait_until(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _notify_key(before: set) -> int:
    (key,) = context_module._notify_keys - before
    return key


def _call_trampoline_from_c(trampoline, cfunctype, *args):
    """Call a module-level trampoline through its C function pointer (as a driver would)."""
    address = ctypes.cast(trampoline, ctypes.c_void_p).value
    cfunctype(address)(*args)


# --------------------------------------------------------------------------- #
# context notify callback
# --------------------------------------------------------------------------- #

def test_pocl_never_calls_the_context_notify_callback(device):
    if POCL not in device.platform.name:
        pytest.skip("PoCL's behaviour")
    record = Recorder()
    context = cl.create_context([device], callback=record)
    queue = context.create_command_queue_with_properties(device)
    for provoke, error in ((lambda: context.create_buffer(raw.CL_MEM_READ_WRITE, 0), errors.InvalidBufferSize),
                           (lambda: context.create_buffer(raw.CL_MEM_READ_WRITE, 1 << 50), errors.InvalidBufferSize),
                           (lambda: context.create_program_with_source("__kernel void k( {").build(),
                            errors.BuildProgramFailure)):
        with pytest.raises(error):
            provoke()
    program = context.create_program_with_source("__kernel void k(__global int *x) { x[0] = 1; }").build()
    kernel = program.create_kernel("k")
    with pytest.raises(errors.InvalidKernelArgs):
        queue.enqueue_nd_range_kernel(kernel, 1)                # no argument set
    queue.finish()
    time.sleep(0.1)
    assert record.calls == []                                   # PoCL 3.1 ignores pfn_notify altogether
    for obj in (kernel, program, queue, context):
        obj.release()


def test_context_notify_reaches_python_through_the_c_trampoline(device):
    # PoCL never calls it (above), so the C entry point is called as a driver would, from a non-Python
    # thread of the process... here a threading.Thread, which is a real OS thread.
    record = Recorder()
    before = set(context_module._notify_keys)
    context = cl.create_context([device], callback=record)
    key = _notify_key(before)
    private = (ctypes.c_ubyte * 5)(1, 2, 0, 4, 255)
    thread = threading.Thread(target=_call_trampoline_from_c, args=(
        context_module._on_notify, raw.clCreateContext_pfn_notify, "bad thing: é".encode(),
        ctypes.addressof(private), 5, key))
    thread.start()
    thread.join(10)
    _call_trampoline_from_c(context_module._on_notify, raw.clCreateContext_pfn_notify, b"again", None, 0, key)
    # Oclgrind 21.10's argument order: user_data where private_info belongs, NULL as user_data.
    _call_trampoline_from_c(context_module._on_notify, raw.clCreateContext_pfn_notify, b"swapped", key, 0, None)
    assert [args for args, _ in record.calls] == [("bad thing: é", b"\x01\x02\x00\x04\xff"), ("again", b""),
                                                  ("swapped", b"")]
    threads = [ident for _, ident in record.calls]
    assert threads[0] == thread.ident != threading.get_ident() and threads[1] == threading.get_ident()
    # A key nobody registered is ignored (no call, no error).
    _call_trampoline_from_c(context_module._on_notify, raw.clCreateContext_pfn_notify, b"x", None, 0, 987654321)
    assert len(record.calls) == 3
    context.release()


def test_context_notify_exception_goes_to_unraisablehook(device, unraisable):
    record = Recorder(fail=True)
    before = set(context_module._notify_keys)
    context = cl.create_context([device], callback=record)
    key = _notify_key(before)
    _call_trampoline_from_c(context_module._on_notify, raw.clCreateContext_pfn_notify, b"first", None, 0, key)
    _call_trampoline_from_c(context_module._on_notify, raw.clCreateContext_pfn_notify, b"second", None, 0, key)
    assert len(record.calls) == 2                               # not one-shot: still registered after raising
    assert [type(u.exc_value) for u in unraisable] == [ValueError, ValueError]
    assert "first" in str(unraisable[0].exc_value) and "ctypes callback" in unraisable[0].err_msg
    if sys.version_info >= (3, 11):
        assert getattr(unraisable[0].exc_value, "__notes__", None) == [f"raised in the OpenCL callback {record!r}"]
    context.release()


def test_context_notify_callable_lives_until_the_context_is_destroyed(device):
    if device.version_tuple < (3, 0):
        pytest.skip("clSetContextDestructorCallback needs OpenCL 3.0")
    baseline = _callbacks.pending()
    record = Recorder()
    ref = weakref.ref(record)
    before = set(context_module._notify_keys)
    context = cl.create_context([device], callback=record)
    key = _notify_key(before)
    del record
    assert not _collected(ref)                                  # the driver may call it
    queue = context.create_command_queue_with_properties(device)    # holds a context reference
    context.release()
    assert not _collected(ref) and key in context_module._notify_keys   # the cl_context still exists
    queue.release()                                             # the last reference: destroyed now
    assert _collected(ref)
    assert key not in context_module._notify_keys and _callbacks.pending() == baseline


def test_context_from_type_notify_callable_is_released(device):
    if device.version_tuple < (3, 0):
        pytest.skip("clSetContextDestructorCallback needs OpenCL 3.0")
    baseline = _callbacks.pending()
    record = Recorder()
    ref = weakref.ref(record)
    kind = raw.CL_DEVICE_TYPE_CPU if device.type & raw.CL_DEVICE_TYPE_CPU else int(device.type)
    context = cl.create_context_from_type(kind, {raw.CL_CONTEXT_PLATFORM: device.platform}, callback=record)
    del record
    assert not _collected(ref) and _callbacks.pending() == baseline + 2   # notify + its forgetting destructor
    context.release()
    assert _collected(ref) and _callbacks.pending() == baseline


def test_refused_contexts_keep_no_callable(device):
    baseline = _callbacks.pending()
    record = Recorder()
    ref = weakref.ref(record)
    with pytest.raises(errors.CLError):                         # which error: the next test
        cl.create_context([device], {0x7F7F: 1}, callback=record)
    with pytest.raises(ValueError):
        cl.Context([], callback=record)
    with pytest.raises(TypeError, match="callable"):
        cl.create_context([device], callback="not callable")
    del record
    assert _collected(ref) and _callbacks.pending() == baseline


@pytest.mark.deviation("NVIDIA CUDA", "clCreateContext answers CL_INVALID_VALUE for an unknown property name "
                       "(the specification since OpenCL 1.1: CL_INVALID_PROPERTY; CL_INVALID_VALUE was OpenCL "
                       "1.0's code) (NVIDIA 580)")
def test_unknown_context_property_is_invalid_property(device):
    # clCreateContext: "CL_INVALID_PROPERTY if context property name in properties is not a supported
    # property name". (Not run on Oclgrind, which accepts unknown properties: see test_context.py.)
    with pytest.raises(errors.InvalidProperty) as caught:
        cl.create_context([device], {0x7F7F: 1}, callback=Recorder())
    assert caught.value.function == "clCreateContext"


def test_context_notify_on_oclgrind(run_oclgrind):
    # Oclgrind reports each failed API call of a context through its notify callback: a real driver call.
    result = run_oclgrind("""
import gc, json, threading, weakref
import opencl_raw as cl
from opencl_raw import _callbacks, errors, raw
device = cl.select_device()
calls = []
class Record:
    def __call__(self, errinfo, private_info):
        calls.append([errinfo, private_info.hex(), threading.get_ident() == threading.main_thread().ident])
record = Record()
ref = weakref.ref(record)
baseline = _callbacks.pending()
context = cl.create_context([device], callback=record)
del record
queue = context.create_command_queue_with_properties(device)
kernel = context.create_program_with_source("__kernel void k(__global int *x) { x[0] = 1; }").build().create_kernel("k")
for provoke in (lambda: context.create_buffer(raw.CL_MEM_READ_WRITE, 0),
                lambda: queue.enqueue_nd_range_kernel(kernel, 1)):      # no argument set
    try:
        provoke()
    except errors.CLError as exc:
        calls.append(["raised", exc.name, None])
try:
    context.set_destructor_callback(print)
    gate = "returned"
except errors.FunctionUnavailableError as exc:
    gate = str(exc)
pending = _callbacks.pending() - baseline
queue.release()
kernel.release()
context.release()
gc.collect()
print(json.dumps({"calls": calls, "gate": gate, "pending": pending,
                  "pending_after_release": _callbacks.pending() - baseline, "alive_after_release": ref() is not None}))
""")
    calls = result["calls"]
    assert [c[0] for c in calls[1::2]] == ["raised", "raised"]
    assert calls[1][1] == "CL_INVALID_BUFFER_SIZE" and calls[3][1] == "CL_INVALID_KERNEL_ARGS"
    notes = calls[0::2]
    assert len(notes) == 2                                      # called once per error: not one-shot
    for errinfo, private_hex, on_main in notes:
        assert "Oclgrind - OpenCL runtime error detected" in errinfo
        assert private_hex == "" and on_main is True            # synchronously, inside the failing call
    assert "clCreateBuffer" in notes[0][0] and "CL_INVALID_BUFFER_SIZE" in notes[0][0]
    assert "clEnqueueNDRangeKernel" in notes[1][0] and "Not all kernel arguments set" in notes[1][0]
    # No clSetContextDestructorCallback before 3.0: the version gate says so, and the notify
    # callable stays registered for the process lifetime (as documented).
    assert "clSetContextDestructorCallback" in result["gate"] and "OpenCL 3.0" in result["gate"]
    assert result["pending"] == 1 and result["pending_after_release"] == 1 and result["alive_after_release"]


# --------------------------------------------------------------------------- #
# context destructor callbacks (OpenCL 3.0)
# --------------------------------------------------------------------------- #

def test_context_destructor_callbacks_run_in_reverse_order(device, unraisable):
    if device.version_tuple < (3, 0):
        pytest.skip("clSetContextDestructorCallback needs OpenCL 3.0")
    baseline = _callbacks.pending()
    order = []
    context = cl.create_context([device])
    value = context._value
    recorders = [Recorder() for _ in range(3)]
    refs = [weakref.ref(r) for r in recorders]
    failing = Recorder(fail=True)
    for i, recorder in enumerate(recorders):
        context.set_destructor_callback(lambda v, i=i, r=recorder: (order.append(i), r(v)))
        if i == 1:
            context.set_destructor_callback(failing)            # an exception in the middle stops nothing
    assert _callbacks.pending() == baseline + 4
    queue = context.create_command_queue_with_properties(device)
    context.release()
    assert order == []                                         # the queue still holds the context
    queue.release()
    pocl = POCL in device.platform.name
    if not pocl:
        # The specification leaves the thread (and the moment) to the driver: "This callback function
        # may be called asynchronously by the OpenCL implementation" (NVIDIA 580: another thread).
        assert _wait_until(lambda: len(order) == 3)
    assert order == [2, 1, 0]                                  # reverse order of registration
    for recorder in recorders + [failing]:
        assert [args for args, _ in recorder.calls] == [(value,)]       # once, with the cl_context
        if pocl:
            assert recorder.calls[0][1] == threading.get_ident()       # PoCL: in clReleaseContext's thread
    assert len(unraisable) == 1 and isinstance(unraisable[0].exc_value, ValueError)
    del recorders, failing
    assert all(_collected(ref) for ref in refs)                # one-shot: dropped once called
    assert _callbacks.pending() == baseline


def test_set_destructor_callback_refusals(device):
    context = cl.create_context([device])
    baseline = _callbacks.pending()
    with pytest.raises(TypeError, match="callable"):
        context.set_destructor_callback(None)
    assert _callbacks.pending() == baseline
    context.release()
    with pytest.raises(errors.ReleasedHandleError):
        context.set_destructor_callback(print)
    assert _callbacks.pending() == baseline


# --------------------------------------------------------------------------- #
# event callbacks
# --------------------------------------------------------------------------- #

def test_event_callback_callable_lives_until_called(context, unraisable):
    baseline = _callbacks.pending()
    gate = context.create_user_event()
    record, failing = Recorder(), Recorder(fail=True)
    refs = [weakref.ref(record), weakref.ref(failing)]
    gate.set_callback(record)
    gate.set_callback(failing)
    del record, failing
    assert not any(_collected(ref) for ref in refs)
    assert _callbacks.pending() == baseline + 2
    thread = threading.Thread(target=gate.set_status, args=(raw.CL_COMPLETE,))
    thread.start()
    thread.join(10)
    assert _wait_until(lambda: _callbacks.pending() == baseline)
    assert len(unraisable) == 1 and isinstance(unraisable[0].exc_value, ValueError)
    unraisable.clear()                                          # the report holds the failing callable
    assert all(_collected(ref) for ref in refs)
    gate.release()


def test_event_callback_threads_on_a_kernel(context, queue, device):
    program = context.create_program_with_source(
        "__kernel void k(__global float *x) { x[get_global_id(0)] = sqrt((float)get_global_id(0)); }").build()
    kernel = program.create_kernel("k")
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 4 * 4096)
    kernel.set_arg(0, buffer)
    record = Recorder()
    gate = context.create_user_event()                          # the callback is set before the kernel can run
    event = queue.enqueue_nd_range_kernel(kernel, 4096, wait_for=[gate])
    event.set_callback(record, raw.CL_COMPLETE)
    gate.set_status(raw.CL_COMPLETE)
    event.wait(timeout=30)
    assert _wait_until(lambda: record.calls)
    ((args, ident),) = record.calls
    assert args[0] == event and args[1] == raw.CL_COMPLETE
    if POCL in device.platform.name:
        assert ident != threading.get_ident()                  # PoCL completes kernels on a worker thread
    np.testing.assert_allclose(queue.enqueue_read_buffer(buffer).view(np.float32),
                               np.sqrt(np.arange(4096, dtype=np.float32)), rtol=1e-6)
    for obj in (gate, event, buffer, kernel, program):
        obj.release()


# --------------------------------------------------------------------------- #
# SVM free callback
# --------------------------------------------------------------------------- #

def test_svm_free_callback(context, queue, device, unraisable):
    if not device.svm_capabilities & raw.CL_DEVICE_SVM_COARSE_GRAIN_BUFFER:
        pytest.skip("no SVM")
    baseline = _callbacks.pending()
    allocations = [context.svm_alloc(raw.CL_MEM_READ_WRITE, 256) for _ in range(3)]
    pointers = [a.pointer for a in allocations]
    record = Recorder()
    ref, calls = weakref.ref(record), record.calls
    gate = context.create_user_event()
    event = queue.enqueue_svm_free(allocations[:2], callback=record, wait_for=[gate])
    del record
    assert all(a.freed for a in allocations[:2]) and not allocations[2].freed
    assert not _collected(ref) and _callbacks.pending() == baseline + 1
    gate.set_status(raw.CL_COMPLETE)
    event.wait(timeout=10)
    assert _wait_until(lambda: calls)
    ((args, ident),) = calls
    assert args[0] == queue and isinstance(args[0], cl.CommandQueue) and args[1] == pointers[:2]
    if POCL in device.platform.name:
        assert ident != threading.get_ident()                  # on a PoCL worker thread
    del args
    calls.clear()
    assert _wait_until(lambda: _callbacks.pending() == baseline) and _collected(ref)
    # An exception inside goes to the hook; the memory is freed anyway (clSVMFree after the callback).
    failing = Recorder(fail=True)
    queue.enqueue_svm_free(allocations[2], callback=failing).wait(timeout=10)
    assert _wait_until(lambda: unraisable)
    assert isinstance(unraisable[0].exc_value, ValueError) and failing.calls[0][0][1] == [pointers[2]]
    gate.release()
    event.release()


def test_an_exception_in_a_callback_reaches_the_default_unraisablehook(tmp_path):
    """With Python's own sys.unraisablehook (no test hook), an exception raised in a callback
    is printed with its traceback and the process goes on (regression: a hand-made hook
    argument was refused by the default hook, which then printed only a TypeError)."""
    import os
    import subprocess
    script = (
        "import ctypes\n"
        "from opencl_raw import _callbacks\n"
        "c_callback = _callbacks.trampoline(ctypes.CFUNCTYPE(None, ctypes.c_void_p), lambda key: (key, ()))\n"
        "def broken():\n"
        "    raise ValueError('boom in a callback')\n"
        "c_callback(_callbacks.register(broken))\n"
        "print('still running')\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=root))
    assert done.returncode == 0 and done.stdout == "still running\n"
    assert "ValueError: boom in a callback" in done.stderr and "TypeError" not in done.stderr
