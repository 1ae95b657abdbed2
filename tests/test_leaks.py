"""Leaks (issue 6, section 6): creating and releasing objects, and enqueueing with the returned
events dropped, must not grow the process, the driver's reference counts or the
binding's registries.

Each object type runs in a subprocess of its own (a clean heap, and one type's driver
caches do not hide another's growth): ``N`` create/release cycles (10,000; programs 500,
each built), with the resident set size measured after cycle N/10 (everything warmed up)
and after cycle N. Bounds, all stated here:

- RSS growth from N/10 to N: less than :data:`RSS_BOUND` (4 MiB; a leak of 400 bytes per
  cycle over 9,000 cycles crosses it, and the growth measured on PoCL 3.1 is 0 to 8 KiB);
- CL_CONTEXT_REFERENCE_COUNT of the long-lived context, CL_PROGRAM_REFERENCE_COUNT of the
  long-lived program and CL_MEM_REFERENCE_COUNT of the long-lived buffer: back to their
  values before the loop (after ``finish()`` and a garbage collection);
- the binding's registries (host-object pins, registered callbacks): back to their sizes
  before the loop.

Each worker has :data:`WORKER_SECONDS` (contexts: :data:`SLOW_WORKER_SECONDS`) and the
test that much plus :data:`TIMEOUT_MARGIN` as its pytest timeout; a worker that runs out of
time is reported with its last progress line (cycles done, seconds).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RSS_BOUND = 4 * 1024 * 1024
N = 10_000
N_PROGRAMS = 500
#: seconds a kind's worker may run (its subprocess timeout); the test's pytest timeout is
#: :data:`TIMEOUT_MARGIN` more, so the subprocess timeout, with its report, comes first
WORKER_SECONDS = 110
#: kinds that need longer: NVIDIA's clCreateContext takes milliseconds (NVIDIA 580 on an H200 did
#: not finish 10,000 contexts within 40 s); the count stays what the issue asks for
SLOW_WORKER_SECONDS = {"context": 1200, "context_with_callback": 1200}
TIMEOUT_MARGIN = 10

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS is read from /proc/self/statm")

WORKER = """
import gc, json, os, sys, time
import numpy as np
import opencl_raw as cl
from opencl_raw import raw, _callbacks, _pins

kind, n = sys.argv[1], int(sys.argv[2])
device = cl.select_device()
context = cl.create_context([device])
queue = context.create_command_queue_with_properties(device)
SOURCE = "__kernel void k(__global int *a, int v) { a[get_global_id(0)] = v; }"
program = context.create_program_with_source(SOURCE).build()
parent = context.create_buffer(raw.CL_MEM_READ_WRITE, 1 << 16)
kernel = program.create_kernel("k")
kernel.set_args(parent, np.int32(1))
host = np.zeros(1024, np.float32)
images = device.get_info(raw.CL_DEVICE_IMAGE_SUPPORT)


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def user_event(i):
    event = context.create_user_event()
    event.set_status(raw.CL_COMPLETE)
    event.release()


def mapping(i):
    with queue.enqueue_map_buffer(parent, size=256, dtype=np.float32) as m:
        m.array[0] = i


OPS = {
    "context": lambda i: cl.create_context([device]).release(),
    "context_with_callback": lambda i: cl.create_context([device], callback=lambda text, data: None).release(),
    "queue": lambda i: context.create_command_queue_with_properties(device).release(),
    "buffer": lambda i: context.create_buffer(raw.CL_MEM_READ_WRITE, 4096).release(),
    "buffer_collected": lambda i: context.create_buffer(raw.CL_MEM_READ_WRITE, 4096),   # dropped: __del__
    "use_host_ptr_buffer": lambda i: context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_USE_HOST_PTR,
                                                           host_buffer=host).release(),
    "sub_buffer": lambda i: parent.create_sub_buffer(0, 0, 64).release(),
    "image": lambda i: context.create_image(raw.CL_MEM_READ_WRITE, (raw.CL_RGBA, raw.CL_UNSIGNED_INT8),
                                            (16, 16)).release(),
    "sampler": lambda i: context.create_sampler().release(),
    "user_event": user_event,
    "kernel": lambda i: program.create_kernel("k").release(),
    "program": lambda i: context.create_program_with_source(SOURCE).build().release(),
    "svm": lambda i: context.svm_alloc(raw.CL_MEM_READ_WRITE, 4096).free(),
    "launch_events_dropped": lambda i: queue.enqueue_nd_range_kernel(kernel, 64),
    "nonblocking_write_events_dropped": lambda i: queue.enqueue_write_buffer(parent, host, blocking=False),
    "event_callback": lambda i: queue.enqueue_marker_with_wait_list().set_callback(lambda e, s: None),
    "map_unmap": mapping,
}
if kind == "image" and not images:
    print(json.dumps({"skip": "the device has no image support"}))
    sys.exit(0)
if kind == "svm" and device.version_tuple < (2, 0):
    print(json.dumps({"skip": "SVM needs OpenCL 2.0"}))
    sys.exit(0)
op = OPS[kind]


def state(callbacks=None):
    queue.finish()
    gc.collect()
    deadline = time.monotonic() + 10          # callbacks of the last commands may still be on their way
    while (_pins.count() or (callbacks is not None and _callbacks.pending() > callbacks)) \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    gc.collect()
    return {"context": context.reference_count, "program": program.reference_count,
            "buffer": parent.reference_count, "pins": _pins.count(), "callbacks": _callbacks.pending()}


before = state()
start = time.perf_counter()
for i in range(n // 10):
    op(i)
state(before["callbacks"])
rss_first = rss()
print(json.dumps({"progress": n // 10, "seconds": round(time.perf_counter() - start, 2)}), flush=True)
for i in range(n // 10, n):
    op(i)
    if i % 1000 == 999:
        queue.finish()
        print(json.dumps({"progress": i + 1, "seconds": round(time.perf_counter() - start, 2)}), flush=True)
after = state(before["callbacks"])
rss_last = rss()
print(json.dumps({"n": n, "seconds": round(time.perf_counter() - start, 2), "rss_first": rss_first,
                  "rss_last": rss_last, "before": before, "after": after}))
"""

KINDS = ["context", "context_with_callback", "queue", "buffer", "buffer_collected", "use_host_ptr_buffer",
         "sub_buffer", "image", "sampler", "user_event", "kernel", "svm", "launch_events_dropped",
         "nonblocking_write_events_dropped", "event_callback", "map_unmap", "program"]


def _worker_seconds(kind: str) -> int:
    return SLOW_WORKER_SECONDS.get(kind, WORKER_SECONDS)


@pytest.mark.not_on_oclgrind("leak checks: thousands of create/release cycles")
@pytest.mark.parametrize("kind", [pytest.param(kind, marks=pytest.mark.timeout(_worker_seconds(kind) + TIMEOUT_MARGIN))
                                  for kind in KINDS])
def test_create_release_cycles_do_not_leak(cl_target, kind):
    """``kind`` created and released (or enqueued, events dropped) N times (N_PROGRAMS for
    programs): RSS growth from N/10 to N below RSS_BOUND, the long-lived objects' reference
    counts and the pin and callback registries back where they started."""
    n = N_PROGRAMS if kind == "program" else N
    seconds = _worker_seconds(kind)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
               OPENCL_RAW_PLATFORM=cl_target.platform_name, OPENCL_RAW_DEVICE=cl_target.device_name)
    try:
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(WORKER), kind, str(n)], env=env,
                              capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        progress = out.strip().splitlines()[-1:] or ["no cycle block finished"]
        pytest.fail(f"{kind}: {n} cycles did not finish within {seconds} s; last progress: {progress[0]}")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if "skip" in result:
        pytest.skip(result["skip"])
    growth = result["rss_last"] - result["rss_first"]
    assert growth < RSS_BOUND, f"{kind}: RSS grew by {growth} bytes from cycle {n // 10} to {n}: {result}"
    assert result["after"] == result["before"], f"{kind}: reference counts or registries changed: {result}"
