"""Interpreter exit (issue 6, section 4): objects still alive when the process ends must not
crash it, hang it or print anything.

Each case is a separate Python program run in a subprocess (timeout 60 s) on this test's
device; it must exit with status 0, print its last stdout line ``done`` (or what the case
says), and leave stderr empty: nothing is allowed there, not a warning, not a traceback,
not a line from the driver. What the binding does at exit is :mod:`opencl_raw._exit`.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OCLGRIND_ICD = "/usr/lib/oclgrind/liboclgrind-rt-icd.so"

PRELUDE = """
import gc, sys, threading, time
import numpy as np
import opencl_raw as cl
from opencl_raw import raw, checked
device = cl.select_device()
context = cl.create_context([device])
queue = context.create_command_queue_with_properties(device)
SPIN = '''
__kernel void spin(__global float *out, int n) {
    float x = get_global_id(0);
    for (int i = 0; i < n; i++) x = x * 1.0000001f + 0.5f;
    out[get_global_id(0)] = x;
}
__kernel void fill(__global int *out, int v) { out[get_global_id(0)] = v; }
'''
program = context.create_program_with_source(SPIN).build()
"""


def run_script(body: str, target=None, env=None, timeout: float = 60, prelude: str = PRELUDE,
               oclgrind_vendors=None) -> subprocess.CompletedProcess:
    """Run ``prelude + body`` in a fresh interpreter on ``target`` (a conftest Target: its
    platform and device names go to OPENCL_RAW_PLATFORM / OPENCL_RAW_DEVICE)."""
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    environment.pop("OPENCL_RAW_EXIT_TIMEOUT", None)
    if target is not None:
        environment["OPENCL_RAW_PLATFORM"] = target.platform_name
        environment["OPENCL_RAW_DEVICE"] = target.device_name
    if oclgrind_vendors is not None:
        environment.update(OCL_ICD_VENDORS=str(oclgrind_vendors), OPENCL_RAW_PLATFORM="Oclgrind")
        environment.pop("OPENCL_RAW_DEVICE", None)
    environment.update(env or {})
    code = textwrap.dedent(prelude) + "\n" + textwrap.dedent(body)
    try:
        return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the program did not exit within {timeout} s (a hang); stdout {exc.stdout!r}, "
                    f"stderr {exc.stderr!r}")


def assert_clean_exit(done: subprocess.CompletedProcess, last_line: str = "done") -> list:
    """Exit status 0, an empty stderr, ``last_line`` last on stdout; returns the stdout lines."""
    assert done.returncode == 0, f"exit status {done.returncode} (a negative one is a signal); " \
                                 f"stderr:\n{done.stderr}\nstdout:\n{done.stdout}"
    assert done.stderr == "", f"stderr must stay empty at exit, got:\n{done.stderr}"
    lines = done.stdout.strip().splitlines()
    assert lines and lines[-1] == last_line, done.stdout
    return lines


@pytest.fixture
def target(cl_target):
    """This test's device (tests here need no live objects in the pytest process)."""
    return cl_target


@pytest.fixture(scope="module")
def oclgrind_vendors(tmp_path_factory):
    if not os.path.exists(OCLGRIND_ICD):
        pytest.skip(f"Oclgrind is not installed ({OCLGRIND_ICD})")
    folder = tmp_path_factory.mktemp("oclgrind_vendors")
    (folder / "oclgrind.icd").write_text(OCLGRIND_ICD + "\n")
    return folder


# --------------------------------------------------------------------------- #
# objects alive at exit
# --------------------------------------------------------------------------- #

EVERY_OBJECT = """
buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 4096)
sub = buffer.create_sub_buffer(0, 0, 64)
host = np.arange(1024, dtype=np.float32)
use_host = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_USE_HOST_PTR, host_buffer=host)
kernel = program.create_kernel("fill")
kernel.set_args(buffer, np.int32(7))
queue.enqueue_nd_range_kernel(kernel, 64).wait()
done_event = context.create_user_event()
done_event.set_status(raw.CL_COMPLETE)
if device.get_info(raw.CL_DEVICE_IMAGE_SUPPORT):
    image = context.create_image(raw.CL_MEM_READ_WRITE, (raw.CL_RGBA, raw.CL_UNSIGNED_INT8), (8, 8))
    sampler = context.create_sampler()
if device.version_tuple >= (2, 0):
    svm = context.svm_alloc(raw.CL_MEM_READ_WRITE, 256)
mapping = queue.enqueue_map_buffer(buffer, size=64)           # mapped at exit
second = context.create_command_queue_with_properties(device)
"""


def test_objects_in_module_globals_at_exit(target):
    """Every kind of handle object alive in module globals at exit (nothing released), a
    mapping still mapped, a USE_HOST_PTR buffer still pinning its host array: exit status 0,
    nothing on stderr."""
    assert_clean_exit(run_script(EVERY_OBJECT + "print('done')", target))


def test_objects_in_reference_cycles_at_exit(target):
    """The same objects held only by reference cycles, with the collector off, so that the
    cycles are still there when the interpreter finalizes (Handle.__del__ then runs while
    modules are torn down, and must do nothing)."""
    body = EVERY_OBJECT + """
class Holder:
    pass
gc.disable()
for name in ["buffer", "sub", "use_host", "kernel", "done_event", "mapping", "second", "queue", "program",
             "context"]:
    holder = Holder()
    holder.me = holder
    holder.obj = globals().pop(name)
holder = None
print('done')
"""
    assert_clean_exit(run_script(body, target))


def test_release_order_at_exit_and_before(target):
    """Objects released in the "wrong" order (the context first, then the queue, the buffer, the
    kernel, the program; the OpenCL objects live on by their implicit references), and
    wrappers collected in arbitrary order at exit: no crash."""
    body = """
buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 256)
kernel = program.create_kernel("fill")
kernel.set_args(buffer, np.int32(3))
event = queue.enqueue_nd_range_kernel(kernel, 64)
context.release()
queue.release()
event.wait()
assert buffer.context.reference_count >= 1          # still valid: the buffer holds its context
buffer.release(); kernel.release(); program.release()
keep = [cl.create_context([device]) for _ in range(3)]
keep += [keep[0].create_buffer(raw.CL_MEM_READ_WRITE, 64), keep[1].create_command_queue_with_properties(device)]
keep.reverse()
print('done')
"""
    assert_clean_exit(run_script(body, target))


# --------------------------------------------------------------------------- #
# pending commands at exit
# --------------------------------------------------------------------------- #

def test_pending_commands_behind_a_user_event_never_completed(target):
    """Non-blocking commands held back by user events that are never completed (one alive, one
    released without a status: the OpenCL specification says its waiters wait for ever): the
    process still exits, at once, and the commands are terminated, not left running into
    freed host memory. A handler registered before the import runs after the binding's
    (atexit is last in, first out) and reports what it left."""
    body = """
def after_binding():
    print(f"read status {int(read.command_execution_status)} marker status "
          f"{int(marker.command_execution_status)}", flush=True)
    print("done", flush=True)
buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 4096)
gate = context.create_user_event()
host = np.zeros(1024, np.float32)
read = queue.enqueue_read_buffer(buffer, host, blocking=False, wait_for=[gate])
del host                                         # only the binding's pin holds the array now
queue.flush()
other = context.create_command_queue_with_properties(device)
abandoned = context.create_user_event()
marker = other.enqueue_marker_with_wait_list([abandoned])
abandoned.release()                              # released without a status
from opencl_raw import _pins
assert _pins.count() == 1
"""
    # the body's exit handler must run after the binding's: register it before the import
    prelude = "import atexit\natexit.register(lambda: globals()['after_binding']())\n" + PRELUDE
    start = time.monotonic()
    done = run_script(body, target, prelude=prelude)
    elapsed = time.monotonic() - start
    lines = assert_clean_exit(done)
    status = lines[-2].split()
    assert int(status[2]) < 0 and int(status[5]) < 0, lines     # terminated (failed), not pending
    assert elapsed < 30, f"the exit took {elapsed:.1f} s"


@pytest.mark.parametrize("spin", [2000, 20000, 200000])
def test_kernels_still_running_at_exit(target, spin):
    """A kernel still running (and a non-blocking read and a completion callback behind it) when
    the script ends. PoCL compiles a kernel for its work-group size at the first enqueue,
    in a driver thread, and the process crashes (SIGSEGV or SIGABRT) about every other time
    when it exits meanwhile: measured 11 of 20 runs without the binding's exit wait, 0 of 20
    with it (a C program returning from main after clFlush crashes too). So the kernel
    source is new on each run (PoCL's kernel cache would skip the compile). The binding
    waits for the live queues' commands at exit (OPENCL_RAW_EXIT_TIMEOUT). Three runs per
    size; each must exit cleanly."""
    body = f"""
import random
fresh = SPIN.replace("+ 0.5f", "+ %d.5f" % random.randrange(10 ** 9))   # not in PoCL's kernel cache
kernel = context.create_program_with_source(fresh).build().create_kernel("spin")
buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 4 * 4096)
kernel.set_args(buffer, np.int32({spin}))
host = np.zeros(4096, np.float32)
queue.enqueue_nd_range_kernel(kernel, 4096)
read = queue.enqueue_read_buffer(buffer, host, blocking=False)
read.set_callback(lambda event, status: None)
queue.flush()
print('done')
"""
    for _ in range(3):
        assert_clean_exit(run_script(body, target))


def test_exit_wait_is_bounded_by_the_timeout(target):
    """A command held back by a user event made through the checked layer (the binding does not
    track it, as in C) keeps the exit's marker pending: the wait ends after
    OPENCL_RAW_EXIT_TIMEOUT seconds and the process exits cleanly."""
    body = """
gate = checked.clCreateUserEvent(context.handle)
event = raw.cl_event()
checked.clEnqueueMarkerWithWaitList(queue.handle, 1, raw.byref(gate), raw.byref(event))
queue.flush()
print('done')
"""
    start = time.monotonic()
    done = run_script(body, target, env={"OPENCL_RAW_EXIT_TIMEOUT": "1"})
    elapsed = time.monotonic() - start
    assert_clean_exit(done)
    assert 1 <= elapsed < 30, f"the exit took {elapsed:.1f} s"


# --------------------------------------------------------------------------- #
# callbacks and mappings at exit
# --------------------------------------------------------------------------- #

def test_registered_callbacks_at_exit(target):
    """Callbacks registered and not yet called at exit: a context notify callback, a memory
    destructor callback on a live buffer, a context destructor callback (OpenCL 3.0), event
    callbacks on a user event that never completes and on a command behind it. The binding
    fails the user event at exit; drivers that call back for failures (Oclgrind) run the
    callbacks then, while the interpreter still runs; none may crash the exit."""
    body = """
notify_context = cl.create_context([device], callback=lambda text, data: None)
buffer = notify_context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
buffer.set_destructor_callback(lambda value: print("destroyed", flush=True))
if device.version_tuple >= (3, 0):
    notify_context.set_destructor_callback(lambda value: print("context destroyed", flush=True))
gate = context.create_user_event()
gate.set_callback(lambda event, status: None)
marker = queue.enqueue_marker_with_wait_list([gate])
marker.set_callback(lambda event, status: None, raw.CL_COMPLETE)
from opencl_raw import _callbacks
assert _callbacks.pending() >= 3
print('done')
"""
    assert_clean_exit(run_script(body, target))


def test_mapped_memory_at_exit(target):
    """Mappings never unmapped: a buffer mapping, its views (which keep the cl_mem alive), a
    non-blocking map, and an SVM map on OpenCL 2.0 devices."""
    body = """
buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 4096)
mapping = queue.enqueue_map_buffer(buffer, dtype=np.float32)
view = mapping.array[10:20]
view[:] = 1
late = queue.enqueue_map_buffer(context.create_buffer(raw.CL_MEM_READ_WRITE, 256), blocking=False)
buffer.release()
if device.version_tuple >= (2, 0):
    svm = context.svm_alloc(raw.CL_MEM_READ_WRITE, 256)
    svm_array, _ = queue.enqueue_svm_map(svm)
print('done')
"""
    assert_clean_exit(run_script(body, target))


def test_threads_still_using_opencl_at_exit(target):
    """A daemon thread still enqueueing and waiting when the main thread ends: exit status 0,
    nothing on stderr (the thread is stopped by the interpreter, the driver is not torn down
    under a running command)."""
    body = """
buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 4096)
kernel = program.create_kernel("fill")
kernel.set_args(buffer, np.int32(1))
started = threading.Event()
def work():
    own = context.create_command_queue_with_properties(device)
    while True:
        own.enqueue_nd_range_kernel(kernel, 64)
        started.set()
        own.finish()
threading.Thread(target=work, daemon=True).start()
started.wait(30)
print('done')
"""
    assert_clean_exit(run_script(body, target))


# --------------------------------------------------------------------------- #
# Oclgrind (OpenCL 1.2, the colleague's crash)
# --------------------------------------------------------------------------- #

OCLGRIND_PRELUDE = PRELUDE.replace("__kernel void spin", "__kernel void unused").replace("i < n", "i < 0")


def test_exit_on_oclgrind(oclgrind_vendors):
    """On Oclgrind: objects alive in globals and cycles, a command held back by a user event
    never completed (Oclgrind runs commands inside clFlush and would block there), a
    callback pending: a clean exit, and the callback runs at exit with the binding's
    EXIT_STATUS (Oclgrind calls back for failed events)."""
    body = """
from opencl_raw import _exit
buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 256)
gate = context.create_user_event()
host = np.zeros(64, np.float32)
read = queue.enqueue_read_buffer(buffer, host, blocking=False, wait_for=[gate])
def on_gate(event, status):
    print("gate", status, flush=True)
    if status == _exit.EXIT_STATUS:
        print("done", flush=True)
gate.set_callback(on_gate)
class Holder:
    pass
holder = Holder(); holder.me = holder; holder.objects = [buffer, cl.create_context([device])]
del holder
print("script end", flush=True)
"""
    done = run_script(body, oclgrind_vendors=oclgrind_vendors, prelude=OCLGRIND_PRELUDE, timeout=120)
    lines = assert_clean_exit(done)
    assert "script end" in lines and f"gate {-59}" in lines, lines
