#!/usr/bin/env python3
"""Performance harness of opencl_raw (issue 7): ours against C, pyopencl and clpeak.

Run from the repository root::

    python3 tools/bench.py                       # platform 0, device 0; full run (2-4 minutes)
    python3 tools/bench.py --quick --json out.json
    python3 tools/bench.py --platform nvidia --device 0 --clpeak /tmp/clpeak/usr/bin/clpeak

The device is chosen as ``opencl_raw.select_device`` does: ``--platform`` /
``--device`` (an index or a case-insensitive name substring), else
OPENCL_RAW_PLATFORM / OPENCL_RAW_DEVICE, else platform 0, device 0. Each operation
is the median over repeated batches after a warm-up batch; the layers of one
operation (bare ctypes, raw, checked, handle) take their batches in turn, so that
their ratios survive a machine whose load drifts. A target between two sides
measured in turn in one process is judged on the median of their per-round ratios
(a slow spell then falls on both sides of each ratio); the ratio of the medians is
printed next to it.

1. call overhead of a scalar ``clGetDeviceInfo(CL_DEVICE_MAX_COMPUTE_UNITS)``:
   bare ctypes (a CDLL of our own with argtypes set), ``raw``, ``checked``, the
   handle layer's ``get_info`` and attribute; C;
2. kernel launches (two buffers and one int set, NDRange 64, local size NULL):
   throughput with unchanged and with changing arguments (N launches, one
   clFinish), latency (clFinish after each launch, wall clock) and the event-profiled
   latency (QUEUED to END, as later clpeak versions take it); handle layer, raw layer (the four raw
   calls, no event), bare ctypes; C; pyopencl's idiomatic call
   ``kernel(queue, (64,), None, a, b, np.int32(k))`` and its fast path, the faster
   of the two documented alternatives (``Kernel.set_scalar_arg_dtypes`` then
   ``kernel(queue, ...)``, and ``Kernel.set_args`` + ``enqueue_nd_range_kernel``;
   the notes say which and both times). The scalar values come from prebuilt lists
   (numpy ``int32`` for the handle layer and pyopencl, ``cl_int`` for raw and bare).
3. small transfers: a blocking 4-byte write, then a blocking 4-byte read;
4. bandwidth (GB/s = 1e9 bytes/s) of 256 MiB through a CL_MEM_READ_WRITE |
   CL_MEM_ALLOC_HOST_PTR buffer (clpeak's flags): blocking and non-blocking write
   and read, map + memcpy + unmap; and the ``clpeak_*`` rows: clpeak 1.1's own
   method, buffer flags, size (half the largest allocation in floats, at most 2**27
   floats on a CPU and 2**29 elsewhere, in whole work-groups of at most 256) and
   64-byte-aligned host array, next to the numbers clpeak prints;
5. churn: create + release a 4 KiB buffer; create, set (CL_COMPLETE) and release a
   user event;
6. fresh processes: ``import opencl_raw`` (perf_counter around the import in the
   child) and its peak RSS, ``import opencl_raw`` plus the handle classes, the time
   from spawn to a first kernel result read back (program binary cache warm: one
   untimed run first) and its peak RSS (the child's own VmHWM); the same for
   pyopencl and for C, whose processes run in turn. Bytecode: both sides import from bytecode cached on the
   warm-up run (a private PYTHONPYCACHEPREFIX), also where PYTHONDONTWRITEBYTECODE
   is set; ``--no-bytecode-cache`` measures the environment as it is.

The peers are optional, and a missing one gives null: the C program
(tools/bench_c.c, compiled with ``gcc -O2 -I headers ... -lOpenCL`` into a temp
dir, or ``--c-binary``), pyopencl (when ``importlib.metadata`` finds the
``pyopencl`` distribution in the interpreter given by ``--pyopencl-python``,
default this one; a ``pyopencl`` folder without the distribution, as the
pocl-binary-distribution wheel makes, does not count) and clpeak (``--clpeak``,
$CLPEAK or ``clpeak`` on PATH; skipped by ``--quick`` unless
``--with-clpeak-in-quick``). Each side runs in a child process of its own. The C
program and clpeak get the directory of the ICD loader ours loaded first on
LD_LIBRARY_PATH, the C program and pyopencl (whose wheel brings its own loader)
find the platform by its exact name, and clpeak's numbers count only when its
output names the same platform and device: ICD loaders may list platforms in
different orders.

Output: a table (operation, unit, ours, C, pyopencl, pyopencl_fast, clpeak, and
ours/peer for each), notes, and the targets of issue 7 with the measured ratio
and PASS / MISS (N/A where a peer is missing); ``--json PATH`` writes the same
(``operations``: name, unit, ours, c, pyopencl, pyopencl_fast, clpeak, the ratios,
layer, description; ``targets``; ``meta``). Exit status 0 unless the harness itself
fails: a MISS is a finding, not an error.

Running it on the NVIDIA H200 machine (libOpenCL.so.1 and libnvidia-opencl.so.1,
Python 3.12 with numpy, gcc; no network). Here, once, in the repository root::

    echo /.bench_h200/ >> .git/info/exclude && mkdir -p .bench_h200/whl
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .bench_h200/whl \
        pyopencl pytools platformdirs siphash24 typing_extensions
    cp .deb/clpeak_1.1.2-1_amd64.deb .bench_h200/   # or: apt-get download clpeak

then a device run with ``carry: [".bench_h200"]`` and the command::

    python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site \
        .bench_h200/whl/*.whl && export PYTHONPATH=/tmp/site
    dpkg -x .bench_h200/clpeak_1.1.2-1_amd64.deb /tmp/clpeak
    mkdir -p /tmp/vendors && cp /etc/OpenCL/vendors/*.icd /tmp/vendors/ 2>/dev/null
    [ -e /tmp/vendors/nvidia.icd ] || echo libnvidia-opencl.so.1 > /tmp/vendors/nvidia.icd
    export OCL_ICD_VENDORS=/tmp/vendors/ PYTHONUNBUFFERED=1
    python3 tools/bench.py --platform nvidia --clpeak /tmp/clpeak/usr/bin/clpeak \
        --json $OUT/h200.json 2>&1 | tee $OUT/h200.txt

The image registers only PoCL in /etc/OpenCL/vendors; the ``.icd`` folder makes
every loader there (the CUDA toolkit's libOpenCL.so.1, which ``dlopen`` finds
first, the system's ocl-icd, and the one inside pyopencl's wheel) see the NVIDIA
driver too. The trailing ``/`` matters: CUDA 13's loader joins the folder and the
file names without a separator, and reads nothing from ``/tmp/vendors``. A full run takes about 2 minutes there; ``--platform portable`` measures
PoCL on that machine's 16 cores.
"""
from __future__ import annotations

import argparse
import ctypes
import itertools
import json
import os
import platform as _platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
C_SOURCE = os.path.join(REPO, "tools", "bench_c.c")
HEADERS = os.path.join(REPO, "headers")

KERNEL_SOURCE = """\
__kernel void add(__global const int *a, __global int *b, int c)
{
    size_t i = get_global_id(0);
    b[i] = a[i] + c;
}
"""
GLOBAL_SIZE = 64
POOL = 16            # buffer pairs and ints cycled by the changing-argument launches
MIB = 1 << 20

#: batch sizes and repeat counts, shared by the Python workers and the C program
COUNTS = {
    "full": dict(call_batch=2000, call_repeats=15, launch_batch=1000, launch_repeats=11,
                 latency_batch=100, latency_repeats=11, transfer_batch=200, transfer_repeats=11,
                 churn_batch=500, churn_repeats=11, bw_bytes=256 * MIB, bw_repeats=11, bw_nonblocking_batch=4,
                 clpeak_iters=20, clpeak_latency_iters=20000, fresh_runs=7),
    "quick": dict(call_batch=50, call_repeats=3, launch_batch=20, launch_repeats=3,
                  latency_batch=5, latency_repeats=3, transfer_batch=10, transfer_repeats=3,
                  churn_batch=20, churn_repeats=3, bw_bytes=4 * MIB, bw_repeats=3, bw_nonblocking_batch=2,
                  clpeak_iters=3, clpeak_latency_iters=20, fresh_runs=2),
}

BW_KINDS = ("write_blocking", "read_blocking", "write_nonblocking", "read_nonblocking")


# =========================================================================== #
# Timing helpers (used by the workers)
# =========================================================================== #

def median_of_batches(run_batch: Callable[[int], float], batch: int, repeats: int, scale: float = 1e6) -> float:
    """Median over ``repeats`` batches of the per-operation time, after one warm-up batch.

    ``run_batch(n)`` runs n operations and returns the elapsed seconds. Returns
    microseconds by default (``scale``).
    """
    run_batch(batch)
    return statistics.median(run_batch(batch) / batch * scale for _ in range(repeats))


_GROUPS = itertools.count()


def interleaved_medians(runs: Dict[str, Callable[[int], float]], batch: int, repeats: int,
                        scale: float = 1e6, rounds: Optional[Dict[str, Any]] = None) -> Dict[str, float]:
    """:func:`median_of_batches` for several variants of one operation, their batches taken in
    turn (a, b, c, a, b, c, ...) so that a slow drift of the machine hits all alike and their
    ratios stay fair. One warm-up batch each.

    ``rounds``: where to store each variant's per-batch values as ``[group, values]``, the
    values of one group taken round by round, so that two variants' ratio can be taken per
    round (:func:`paired_ratio`): a slow spell of the machine then falls on both sides of
    each ratio, where it can tip the median of one side only."""
    for run in runs.values():
        run(batch)
    samples: Dict[str, List[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            samples[name].append(run(batch) / batch * scale)
    if rounds is not None:
        group = f"{os.getpid()}.{next(_GROUPS)}"
        rounds.update({name: [group, values] for name, values in samples.items()})
    return {name: statistics.median(values) for name, values in samples.items()}


def paired_ratio(numerator: Optional[List[Any]], denominator: Optional[List[Any]]) -> Optional[float]:
    """The median of the per-round ratios of two ``[group, values]`` records of the same
    interleaved group (see :func:`interleaved_medians`), or None where they are not paired."""
    if not numerator or not denominator or numerator[0] != denominator[0] or \
            len(numerator[1]) != len(denominator[1]) or not numerator[1]:
        return None
    return statistics.median(a / b for a, b in zip(numerator[1], denominator[1]))


# clpeak 1.1's kernel-latency setting (as facts): local size = CL_DEVICE_MAX_WORK_ITEM_SIZES[0]
# capped at 256, global size = that x CL_DEVICE_MAX_COMPUTE_UNITS work-items, a kernel of two
# float buffers whose work-items read 16 floats each, two launches first, then the mean of
# CL_PROFILING_COMMAND_QUEUED to _START over 20,000 launches, clFinish after each. (Debian's
# clpeak 1.1.2 binary reads 0x1280 and 0x1282 there, QUEUED and START; later clpeak versions
# take _END, the launch_latency_event row's measure.) This kernel is ours, of that shape.
LATENCY_KERNEL_SOURCE = """\
__kernel void fetch16(__global const float *in, __global float *out)
{
    size_t gid = get_global_id(0), n = get_global_size(0);
    float sum = 0.0f;
    for (int i = 0; i < 16; i++)
        sum += in[gid + i * n];
    out[gid] = sum;
}
"""


def aligned_empty(np, nbytes: int, alignment: int = 64):
    """A uint8 array of ``nbytes`` whose data starts on an ``alignment`` boundary (clpeak's host memory)."""
    raw_array = np.empty(nbytes + alignment, dtype=np.uint8)
    offset = (-raw_array.ctypes.data) % alignment
    return raw_array[offset:offset + nbytes]


def median_bandwidth(run_batch: Callable[[int], float], nbytes: int, batch: int, repeats: int) -> float:
    """GB/s (1e9 bytes per second): median over ``repeats`` batches of ``batch`` transfers, after a warm-up."""
    run_batch(batch)
    return statistics.median(nbytes * batch / run_batch(batch) / 1e9 for _ in range(repeats))


def clpeak_bandwidth(run: Callable[[], None], finish: Callable[[], None], nbytes: int, iters: int) -> float:
    """clpeak's transfer method: one warm-up, then ``iters`` transfers and one finish timed together."""
    run()
    finish()
    t0 = time.perf_counter()
    for _ in range(iters):
        run()
    finish()
    return nbytes * iters / (time.perf_counter() - t0) / 1e9


def clpeak_memcpy(map_: Callable[[], Any], copy: Callable[[Any], None], unmap: Callable[[Any], None],
                  finish: Callable[[], None], nbytes: int, iters: int) -> float:
    """clpeak's memcpy rows: map (blocking), time only the copy, unmap; GB/s over ``iters``."""
    total = 0.0
    for _ in range(iters):
        mapped = map_()
        finish()
        t0 = time.perf_counter()
        copy(mapped)
        total += time.perf_counter() - t0
        unmap(mapped)
        finish()
    return nbytes * iters / total / 1e9


def clpeak_transfer_bytes(max_alloc: int, max_work_item_size0: int, is_cpu: bool) -> int:
    """The buffer size clpeak 1.1 uses for --transfer-bandwidth on a device.

    Half the largest allocation in floats, capped at 2**27 floats on CPUs and 2**29
    elsewhere, rounded down to a multiple of the work-group size it uses
    (CL_DEVICE_MAX_WORK_ITEM_SIZES[0], at most 256).
    """
    items = max_alloc // 4 // 2
    cap = 1 << 27 if is_cpu else 1 << 29
    group = max(1, min(max_work_item_size0, 256))
    return (min(items, cap) // group) * group * 4


# =========================================================================== #
# Worker: ours (bare ctypes, raw, checked, handle layer)
# =========================================================================== #

def _bare_library():
    """Our own hand-written ctypes declarations of the few functions measured (the floor)."""
    lib = ctypes.CDLL(os.environ.get("OPENCL_RAW_LIBRARY") or "libOpenCL.so.1")
    vp, u32, i32, size, u64 = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int32, ctypes.c_size_t, ctypes.c_uint64
    p_i32 = ctypes.POINTER(i32)

    def declare(name, restype, *argtypes):
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = argtypes, restype
        return fn

    class Bare:
        clGetDeviceInfo = declare("clGetDeviceInfo", i32, vp, u32, size, vp, vp)
        clSetKernelArg = declare("clSetKernelArg", i32, vp, u32, size, vp)
        clEnqueueNDRangeKernel = declare("clEnqueueNDRangeKernel", i32, vp, vp, u32, vp, vp, vp, u32, vp, vp)
        clFinish = declare("clFinish", i32, vp)
        clEnqueueWriteBuffer = declare("clEnqueueWriteBuffer", i32, vp, vp, u32, size, size, vp, u32, vp, vp)
        clEnqueueReadBuffer = declare("clEnqueueReadBuffer", i32, vp, vp, u32, size, size, vp, u32, vp, vp)
        clCreateBuffer = declare("clCreateBuffer", vp, vp, u64, size, vp, p_i32)
        clReleaseMemObject = declare("clReleaseMemObject", i32, vp)
        clCreateUserEvent = declare("clCreateUserEvent", vp, vp, p_i32)
        clSetUserEventStatus = declare("clSetUserEventStatus", i32, vp, i32)
        clReleaseEvent = declare("clReleaseEvent", i32, vp)

    return Bare


def handle_setup(np, cl, raw, device):
    """The handle layer's launch and transfer objects on ``device``: (context, queue, kernel,
    triples, small), ``triples`` the POOL (a, b, value) argument sets of the launch rows (numpy
    int32 values) and ``small`` the 4-byte buffer of the small transfers."""
    context = cl.create_context([device])
    queue = context.create_command_queue_with_properties(device)
    kernel = context.create_program_with_source(KERNEL_SOURCE).build().create_kernel("add")
    zeros = np.zeros(GLOBAL_SIZE, dtype=np.int32)
    flags_in = raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR
    triples = [(context.create_buffer(flags_in, host_buffer=zeros),
                context.create_buffer(raw.CL_MEM_READ_WRITE, zeros.nbytes), np.int32(i + 1)) for i in range(POOL)]
    return context, queue, kernel, triples, context.create_buffer(raw.CL_MEM_READ_WRITE, 4)


def handle_launches(kernel, queue, triples, changing: bool, finish_each: bool) -> Callable[[int], float]:
    """The handle layer's launch loop of the launch rows: run(n) -> seconds for n launches."""
    perf = time.perf_counter

    def run(n):
        seq = itertools.islice(itertools.cycle(triples), n) if changing else itertools.repeat(triples[0], n)
        t0 = perf()
        for a, b, v in seq:
            kernel.set_arg(0, a)
            kernel.set_arg(1, b)
            kernel.set_arg(2, v)
            queue.enqueue_nd_range_kernel(kernel, (GLOBAL_SIZE,), event=False)   # as raw: no event
            if finish_each:
                queue.finish()
        queue.finish()
        return perf() - t0
    return run


def handle_transfers(queue, small, host_w, host_r) -> Callable[[int], float]:
    """The handle layer's small-transfer loop: run(n) -> seconds for n write + read pairs."""
    perf = time.perf_counter

    def run(n):
        t0 = perf()
        for _ in range(n):
            queue.enqueue_write_buffer(small, host_w, event=False)   # as raw: no event
            queue.enqueue_read_buffer(small, host_r, event=False)
        return perf() - t0
    return run


def worker_ours(platform_index: int, device_index: int, counts: Dict[str, int], clpeak_bytes: int) -> Dict[str, Any]:
    sys.path.insert(0, REPO)
    import numpy as np

    import opencl_raw as cl
    from opencl_raw import checked, raw

    byref, sizeof = ctypes.byref, ctypes.sizeof
    out: Dict[str, Any] = {"notes": {}, "rounds": {}}
    rounds = out["rounds"]
    device = cl.get_platform_ids()[platform_index].get_device_ids()[device_index]
    context, queue, kernel, triples, small = handle_setup(np, cl, raw, device)
    prof_queue = context.create_command_queue_with_properties(device, raw.CL_QUEUE_PROFILING_ENABLE)
    pool_b = [b for _, b, _ in triples]
    bare = _bare_library()
    mem_size = sizeof(raw.cl_mem)
    cb, cr = counts["call_batch"], counts["call_repeats"]
    lb, lr = counts["launch_batch"], counts["launch_repeats"]
    tb, tr = counts["latency_batch"], counts["latency_repeats"]
    xb, xr = counts["transfer_batch"], counts["transfer_repeats"]
    hb, hr = counts["churn_batch"], counts["churn_repeats"]
    perf = time.perf_counter

    # -- 1. call overhead ----------------------------------------------------------
    param = raw.CL_DEVICE_MAX_COMPUTE_UNITS
    dev_h = device.handle
    dev_v = ctypes.c_void_p(device.handle.value)
    units = raw.cl_uint()

    def info_bare(n):
        f, t0 = bare.clGetDeviceInfo, perf()
        for _ in range(n):
            f(dev_v, param, 4, byref(units), None)
        return perf() - t0

    def info_raw(n):
        t0 = perf()
        for _ in range(n):
            raw.clGetDeviceInfo(dev_h, param, 4, byref(units), None)
        return perf() - t0

    def info_checked(n):
        t0 = perf()
        for _ in range(n):
            checked.clGetDeviceInfo(dev_h, param, 4, byref(units), None)
        return perf() - t0

    def info_handle(n):
        t0 = perf()
        for _ in range(n):
            device.get_info(param)
        return perf() - t0

    def info_attribute(n):
        t0 = perf()
        for _ in range(n):
            device.max_compute_units
        return perf() - t0

    assert device.get_info(param) == device.max_compute_units > 0
    out.update(interleaved_medians({
        "device_info[bare_ctypes]": info_bare, "device_info[raw]": info_raw, "device_info[checked]": info_checked,
        "device_info": info_handle, "device_info[attribute]": info_attribute}, cb, cr, rounds=rounds))

    # -- 2. launches -----------------------------------------------------------------
    a0, b0, v0 = triples[0]
    q_h, k_h = queue.handle, kernel.handle
    raw_triples = [(a.handle, b.handle, raw.cl_int(int(v))) for a, b, v in triples]
    q_v, k_v = ctypes.c_void_p(q_h.value), ctypes.c_void_p(k_h.value)
    bare_triples = [(ctypes.c_void_p(a.handle.value), ctypes.c_void_p(b.handle.value), ctypes.c_int32(int(v)))
                    for a, b, v in triples]
    gsize = (ctypes.c_size_t * 1)(GLOBAL_SIZE)

    def raw_launches(changing: bool, finish_each: bool):
        def run(n):
            seq = (itertools.islice(itertools.cycle(raw_triples), n) if changing
                   else itertools.repeat(raw_triples[0], n))
            t0 = perf()
            for a, b, v in seq:
                raw.clSetKernelArg(k_h, 0, mem_size, byref(a))
                raw.clSetKernelArg(k_h, 1, mem_size, byref(b))
                raw.clSetKernelArg(k_h, 2, 4, byref(v))
                raw.clEnqueueNDRangeKernel(q_h, k_h, 1, None, gsize, None, 0, None, None)
                if finish_each:
                    raw.clFinish(q_h)
            raw.clFinish(q_h)
            return perf() - t0
        return run

    def bare_launches(changing: bool, finish_each: bool):
        set_arg, enqueue, finish = bare.clSetKernelArg, bare.clEnqueueNDRangeKernel, bare.clFinish

        def run(n):
            seq = (itertools.islice(itertools.cycle(bare_triples), n) if changing
                   else itertools.repeat(bare_triples[0], n))
            t0 = perf()
            for a, b, v in seq:
                set_arg(k_v, 0, 8, byref(a))
                set_arg(k_v, 1, 8, byref(b))
                set_arg(k_v, 2, 4, byref(v))
                enqueue(q_v, k_v, 1, None, gsize, None, 0, None, None)
                if finish_each:
                    finish(q_v)
            finish(q_v)
            return perf() - t0
        return run

    for name, changing, finish_each, batch, repeats in (
            ("launch_unchanged", False, False, lb, lr), ("launch_changing", True, False, lb, lr),
            ("launch_latency_wall", False, True, tb, tr)):
        out.update(interleaved_medians({
            f"{name}[bare_ctypes]": bare_launches(changing, finish_each),
            f"{name}[raw]": raw_launches(changing, finish_each),
            name: handle_launches(kernel, queue, triples, changing, finish_each)}, batch, repeats, rounds=rounds))
    check = np.empty(GLOBAL_SIZE, dtype=np.int32)
    queue.enqueue_read_buffer(pool_b[POOL - 1], check)
    assert (check == POOL).all(), check

    def event_latency(n):
        # the issue's event-profiled latency (later clpeak versions' measure): QUEUED to END of each
        # launch, clFinish after each; returns total seconds
        total = 0
        for _ in range(n):
            kernel.set_arg(0, a0)
            kernel.set_arg(1, b0)
            kernel.set_arg(2, v0)
            event = prof_queue.enqueue_nd_range_kernel(kernel, (GLOBAL_SIZE,))
            prof_queue.finish()
            total += (event.get_profiling_info(raw.CL_PROFILING_COMMAND_END)
                      - event.get_profiling_info(raw.CL_PROFILING_COMMAND_QUEUED))
        return total * 1e-9

    out["launch_latency_event"] = median_of_batches(event_latency, tb, tr)

    # -- 3. small transfers -----------------------------------------------------------
    host_w, host_r = np.array([42], dtype=np.int32), np.zeros(1, dtype=np.int32)
    small_h, small_v = small.handle, ctypes.c_void_p(small.handle.value)
    w_ptr, r_ptr = host_w.ctypes.data, host_r.ctypes.data

    def transfers_raw(n):
        t0 = perf()
        for _ in range(n):
            raw.clEnqueueWriteBuffer(q_h, small_h, raw.CL_TRUE, 0, 4, w_ptr, 0, None, None)
            raw.clEnqueueReadBuffer(q_h, small_h, raw.CL_TRUE, 0, 4, r_ptr, 0, None, None)
        return perf() - t0

    def transfers_bare(n):
        write, read, t0 = bare.clEnqueueWriteBuffer, bare.clEnqueueReadBuffer, perf()
        for _ in range(n):
            write(q_v, small_v, 1, 0, 4, w_ptr, 0, None, None)
            read(q_v, small_v, 1, 0, 4, r_ptr, 0, None, None)
        return perf() - t0

    out.update(interleaved_medians({
        "small_transfer_pair[bare_ctypes]": transfers_bare, "small_transfer_pair[raw]": transfers_raw,
        "small_transfer_pair": handle_transfers(queue, small, host_w, host_r)}, xb, xr, rounds=rounds))
    assert host_r[0] == 42
    small.release()

    # -- 5. churn ----------------------------------------------------------------------
    ctx_h, ctx_v = context.handle, ctypes.c_void_p(context.handle.value)
    rw = raw.CL_MEM_READ_WRITE

    def buffers_handle(n):
        t0 = perf()
        for _ in range(n):
            context.create_buffer(rw, 4096).release()
        return perf() - t0

    def buffers_raw(n):
        err = raw.cl_int()
        t0 = perf()
        for _ in range(n):
            mem = raw.clCreateBuffer(ctx_h, rw, 4096, None, byref(err))
            raw.clReleaseMemObject(mem)
        return perf() - t0

    def buffers_bare(n):
        create, release, err = bare.clCreateBuffer, bare.clReleaseMemObject, ctypes.c_int32()
        t0 = perf()
        for _ in range(n):
            release(create(ctx_v, rw, 4096, None, byref(err)))
        return perf() - t0

    out.update(interleaved_medians({
        "buffer_churn[bare_ctypes]": buffers_bare, "buffer_churn[raw]": buffers_raw, "buffer_churn": buffers_handle},
        hb, hr, rounds=rounds))

    complete = raw.CL_COMPLETE
    # The handle layer's user events (naming rule: Context.create_user_event, Event.set_user_event_status)
    # are measured once they exist; until then the checked layer stands in, and the row says so.
    create_user_event, set_name = getattr(context, "create_user_event", None), None
    if create_user_event is not None:
        probe = create_user_event()
        set_name = next((name for name in ("set_user_event_status", "set_status") if hasattr(probe, name)), None)
        if set_name is not None:
            getattr(probe, set_name)(complete)
        probe.release()
    if set_name is not None:
        def events_top(n):
            t0 = perf()
            for _ in range(n):
                event = create_user_event()
                getattr(event, set_name)(complete)
                event.release()
            return perf() - t0
        out["notes"]["user_event_churn"] = f"handle layer: Context.create_user_event, Event.{set_name}, release"
        out["user_event_churn.layer"] = "handle"
    else:
        def events_top(n):
            t0 = perf()
            for _ in range(n):
                event = checked.clCreateUserEvent(ctx_h)
                checked.clSetUserEventStatus(event, complete)
                checked.clReleaseEvent(event)
            return perf() - t0
        out["notes"]["user_event_churn"] = ("checked layer: the handle layer has no Context.create_user_event yet")
        out["user_event_churn.layer"] = "checked"

    def events_raw(n):
        err = raw.cl_int()
        t0 = perf()
        for _ in range(n):
            event = raw.clCreateUserEvent(ctx_h, byref(err))
            raw.clSetUserEventStatus(event, complete)
            raw.clReleaseEvent(event)
        return perf() - t0

    def events_bare(n):
        create, set_status, release = bare.clCreateUserEvent, bare.clSetUserEventStatus, bare.clReleaseEvent
        err, t0 = ctypes.c_int32(), perf()
        for _ in range(n):
            event = create(ctx_v, byref(err))
            set_status(event, complete)
            release(event)
        return perf() - t0

    out.update(interleaved_medians({
        "user_event_churn[bare_ctypes]": events_bare, "user_event_churn[raw]": events_raw,
        "user_event_churn": events_top}, hb, hr, rounds=rounds))

    # -- 4. bandwidth (last: the big allocations) ----------------------------------------
    bw_flags = raw.CL_MEM_READ_WRITE | raw.CL_MEM_ALLOC_HOST_PTR
    out.update(_bandwidth_ours(np, raw, context, queue, bw_flags, counts["bw_bytes"], counts))
    if clpeak_bytes:
        out.update(_clpeak_method_ours(np, raw, context, queue, bw_flags, clpeak_bytes, counts["clpeak_iters"]))
        out["clpeak_kernel_latency"] = _clpeak_latency_ours(raw, device, context, prof_queue,
                                                            counts["clpeak_latency_iters"])
    return out


def worker_ours_icd(platform_name: str, device_name: str, counts: Dict[str, int]) -> Dict[str, Any]:
    """The raw clGetDeviceInfo call on the icd backend (built-in dispatch, no libOpenCL in the
    call path), on the device of that name, for comparison with the loader worker's."""
    os.environ["OPENCL_RAW_BACKEND"] = "icd"
    sys.path.insert(0, REPO)
    import opencl_raw as cl
    from opencl_raw import _icd, raw

    device = next(d for p in cl.get_platform_ids() if p.name == platform_name
                  for d in p.get_device_ids() if d.name == device_name)
    dev_h, param, units, byref = device.handle, raw.CL_DEVICE_MAX_COMPUTE_UNITS, raw.cl_uint(), ctypes.byref
    perf = time.perf_counter

    def timed(f):
        def run(n):
            t0 = perf()
            for _ in range(n):
                f(dev_h, param, 4, byref(units), None)
            return perf() - t0
        return run

    runs = {"device_info[raw_icd]": timed(raw.clGetDeviceInfo)}
    try:   # the same call through the system loader, in this process: what raw.clGetDeviceInfo is there
        loader = ctypes.CDLL(os.environ.get("OPENCL_RAW_LIBRARY") or "libOpenCL.so.1")
        runs["device_info[raw_loader_beside_icd]"] = timed(raw.function_type(raw.FUNCTIONS["clGetDeviceInfo"])(
            ("clGetDeviceInfo", loader)))
    except (OSError, AttributeError):
        pass
    for f in runs.values():
        units.value = 0
        f(1)
        assert units.value > 0
    rounds: Dict[str, Any] = {}
    out = interleaved_medians(runs, counts["call_batch"], 3 * counts["call_repeats"],   # two C paths: more repeats
                              rounds=rounds)
    out["rounds"] = rounds
    driver = _icd.direct_driver()
    out["notes"] = {"device_info[raw_icd]": (f"the entry point of the only driver, {driver.file}" if driver else
                                             f"through the dispatch table ({len(_icd.drivers())} drivers loaded)")}
    return out


def _bandwidth_ours(np, raw, context, queue, flags, nbytes, counts):
    out = {}
    buffer = context.create_buffer(flags, nbytes)
    host = np.empty(nbytes, dtype=np.uint8)
    host.fill(1)
    repeats, nb_batch = counts["bw_repeats"], counts["bw_nonblocking_batch"]
    perf = time.perf_counter

    def transfers(write: bool, blocking: bool):
        def run(n):
            t0 = perf()
            for _ in range(n):
                if write:
                    queue.enqueue_write_buffer(buffer, host, blocking=blocking)
                else:
                    queue.enqueue_read_buffer(buffer, host, blocking=blocking)
            queue.finish()
            return perf() - t0
        return run

    def mapped(read: bool):
        def run(n):
            t0 = perf()
            for _ in range(n):
                array, _event = queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ if read else raw.CL_MAP_WRITE)
                if read:
                    np.copyto(host, array)
                else:
                    np.copyto(array, host)
                queue.enqueue_unmap_mem_object(buffer, array)
                del array
            queue.finish()
            return perf() - t0
        return run

    out["bw_write_blocking"] = median_bandwidth(transfers(True, True), nbytes, 1, repeats)
    out["bw_read_blocking"] = median_bandwidth(transfers(False, True), nbytes, 1, repeats)
    out["bw_write_nonblocking"] = median_bandwidth(transfers(True, False), nbytes, nb_batch, repeats)
    out["bw_read_nonblocking"] = median_bandwidth(transfers(False, False), nbytes, nb_batch, repeats)
    out["bw_map_read_memcpy"] = median_bandwidth(mapped(True), nbytes, 1, repeats)
    out["bw_map_write_memcpy"] = median_bandwidth(mapped(False), nbytes, 1, repeats)
    buffer.release()
    return out


def _clpeak_latency_ours(raw, device, context, queue, iters: int) -> float:
    """Kernel launch latency by clpeak's method and sizes (see LATENCY_KERNEL_SOURCE), through the
    handle layer, on a profiling ``queue``: mean microseconds from QUEUED to START."""
    groups = device.get_info(raw.CL_DEVICE_MAX_COMPUTE_UNITS)
    group_size = min(device.get_info(raw.CL_DEVICE_MAX_WORK_ITEM_SIZES)[0], 256)
    items = groups * group_size
    program = context.create_program_with_source(LATENCY_KERNEL_SOURCE).build()
    kernel = program.create_kernel("fetch16")
    source = context.create_buffer(raw.CL_MEM_READ_ONLY, items * 16 * 4)
    result = context.create_buffer(raw.CL_MEM_WRITE_ONLY, items * 16 * 4)
    kernel.set_args(source, result)
    for _ in range(2):                                           # clpeak's two dummy launches
        queue.enqueue_nd_range_kernel(kernel, (items,), (group_size,), event=False)
    queue.finish()
    total = 0
    for _ in range(iters):
        event = queue.enqueue_nd_range_kernel(kernel, (items,), (group_size,))
        queue.finish()
        total += (event.get_profiling_info(raw.CL_PROFILING_COMMAND_START)
                  - event.get_profiling_info(raw.CL_PROFILING_COMMAND_QUEUED))
        event.release()
    for obj in (source, result, kernel, program):
        obj.release()
    return total / iters * 1e-3


def _clpeak_method_ours(np, raw, context, queue, flags, nbytes, iters):
    out = {}
    buffer = context.create_buffer(flags, nbytes)
    host = aligned_empty(np, nbytes, 64)  # clpeak: aligned_alloc(64, bytes), zeroed
    host.fill(0)
    for kind in BW_KINDS:
        write, blocking = kind.startswith("write"), kind.endswith("_blocking")
        if write:
            def run():
                queue.enqueue_write_buffer(buffer, host, blocking=blocking)
        else:
            def run():
                queue.enqueue_read_buffer(buffer, host, blocking=blocking)
        out[f"clpeak_{kind}"] = clpeak_bandwidth(run, queue.finish, nbytes, iters)
    for read in (True, False):
        def map_():
            array, _event = queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ if read else raw.CL_MAP_WRITE)
            return array

        def copy(array):
            np.copyto(host, array) if read else np.copyto(array, host)

        def unmap(array):
            queue.enqueue_unmap_mem_object(buffer, array)
        key = "clpeak_memcpy_from_mapped" if read else "clpeak_memcpy_to_mapped"
        out[key] = clpeak_memcpy(map_, copy, unmap, queue.finish, nbytes, iters)
    buffer.release()
    return out


# =========================================================================== #
# Worker: pyopencl
# =========================================================================== #

def pyopencl_version() -> Optional[str]:
    """The installed pyopencl distribution's version, or None.

    Goes by the distribution metadata: a ``pyopencl`` folder alone (the
    pocl-binary-distribution wheel makes one) is not pyopencl.
    """
    import importlib.metadata
    try:
        return importlib.metadata.distribution("pyopencl").version
    except importlib.metadata.PackageNotFoundError:
        return None


def _pyopencl_device(cl, platform_index: int, device_index: int, platform_name: Optional[str],
                     device_name: Optional[str]):
    """The device by platform name (pyopencl's wheel brings its own ICD loader, whose platform
    order may differ from ours), else by index; the device name must match when given."""
    platforms = cl.get_platforms()
    named = [p for p in platforms if p.name == platform_name] if platform_name else []
    if platform_name and not named:
        raise LookupError(f"pyopencl sees no platform named {platform_name!r}: {[p.name for p in platforms]}")
    device = (named[0] if named else platforms[platform_index]).get_devices()[device_index]
    if device_name and device.name != device_name:
        raise LookupError(f"pyopencl's device #{device_index} is {device.name!r}, not {device_name!r}")
    return device


def _handle_beside_pyopencl(platform_index: int, device_index: int, platform_name: Optional[str],
                            device_name: Optional[str], notes: Dict[str, str]):
    """handle_setup of ours on the same device, in the pyopencl worker's process, for the
    ``[beside_pyopencl]`` rows; None (with a note) where opencl_raw cannot run there."""
    sys.path.insert(0, REPO)
    try:
        import numpy as np

        import opencl_raw as cl
        from opencl_raw import raw
        platforms = cl.get_platform_ids()
        named = [p for p in platforms if p.name == platform_name] if platform_name else []
        platform = named[0] if named else platforms[platform_index]
        devices = platform.get_device_ids()
        device = next((d for d in devices if d.name == device_name), None) if device_name else None
        return handle_setup(np, cl, raw, device or devices[device_index])
    except Exception as exc:          # (a peer's process: its own loader and drivers)
        for op in ("launch_unchanged", "launch_changing", "small_transfer_pair"):
            notes[f"{op}[beside_pyopencl]"] = f"ours could not run in the pyopencl process: {exc!r}"
        return None


def worker_pyopencl(platform_index: int, device_index: int, counts: Dict[str, int],
                    platform_name: Optional[str] = None, device_name: Optional[str] = None) -> Dict[str, Any]:
    version = pyopencl_version()
    if version is None:
        return {"available": False}
    import warnings

    import numpy as np
    import pyopencl as cl

    warnings.simplefilter("ignore")  # e.g. pyopencl's CompilerWarning for an empty build log
    out: Dict[str, Any] = {"available": True, "version": version, "notes": {}, "rounds": {}}
    rounds = out["rounds"]
    device = _pyopencl_device(cl, platform_index, device_index, platform_name, device_name)
    context = cl.Context([device])
    queue = cl.CommandQueue(context, device)
    prof_queue = cl.CommandQueue(context, device, properties=cl.command_queue_properties.PROFILING_ENABLE)
    program = cl.Program(context, KERNEL_SOURCE).build()
    kernel = program.add                                 # idiomatic: one kernel object, called with numpy scalars
    fast = cl.Kernel(program, "add")                     # fast path candidate 1: scalar dtypes declared
    fast.set_scalar_arg_dtypes([None, None, np.int32])
    mf = cl.mem_flags
    zeros = np.zeros(GLOBAL_SIZE, dtype=np.int32)
    pool_a = [cl.Buffer(context, mf.READ_WRITE | mf.COPY_HOST_PTR, hostbuf=zeros) for _ in range(POOL)]
    pool_b = [cl.Buffer(context, mf.READ_WRITE, zeros.nbytes) for _ in range(POOL)]
    pool_v = [np.int32(i + 1) for i in range(POOL)]
    triples = list(zip(pool_a, pool_b, pool_v))
    a0, b0, v0 = triples[0]
    beside = _handle_beside_pyopencl(platform_index, device_index, platform_name, device_name, out["notes"])
    if beside:
        _, ours_queue, ours_kernel, ours_triples, ours_small = beside
    perf = time.perf_counter
    cb, cr = counts["call_batch"], counts["call_repeats"]
    lb, lr = counts["launch_batch"], counts["launch_repeats"]
    tb, tr = counts["latency_batch"], counts["latency_repeats"]
    xb, xr = counts["transfer_batch"], counts["transfer_repeats"]
    hb, hr = counts["churn_batch"], counts["churn_repeats"]

    # -- 1. call overhead --------------------------------------------------------------
    param = cl.device_info.MAX_COMPUTE_UNITS

    def info_get(n):
        t0 = perf()
        for _ in range(n):
            device.get_info(param)
        return perf() - t0

    def info_attribute(n):
        t0 = perf()
        for _ in range(n):
            device.max_compute_units
        return perf() - t0

    out.update(interleaved_medians({"device_info": info_get, "device_info[attribute]": info_attribute}, cb, cr,
                                   rounds=rounds))

    # -- 2. launches ---------------------------------------------------------------------
    def calls(knl, changing: bool, finish_each: bool):
        def run(n):
            seq = itertools.islice(itertools.cycle(triples), n) if changing else itertools.repeat(triples[0], n)
            t0 = perf()
            for a, b, v in seq:
                knl(queue, (GLOBAL_SIZE,), None, a, b, v)
                if finish_each:
                    queue.finish()
            queue.finish()
            return perf() - t0
        return run

    def set_args_enqueue(changing: bool, finish_each: bool):
        enqueue = cl.enqueue_nd_range_kernel

        def run(n):
            seq = itertools.islice(itertools.cycle(triples), n) if changing else itertools.repeat(triples[0], n)
            t0 = perf()
            for a, b, v in seq:
                kernel.set_args(a, b, v)
                enqueue(queue, kernel, (GLOBAL_SIZE,), None)
                if finish_each:
                    queue.finish()
            queue.finish()
            return perf() - t0
        return run

    def enqueue_floor(kernel, queue):
        # the least a Python loop can pay per unchanged launch: clEnqueueNDRangeKernel alone, through
        # a ctypes function without argtypes, on ours' queue and kernel (arguments set by its loop)
        from opencl_raw import raw as ours_raw
        from opencl_raw._handle import bare
        enqueue, finish = bare(ours_raw.clEnqueueNDRangeKernel), bare(ours_raw.clFinish)
        q_h, k_h, gsize = queue.handle, kernel.handle, (ctypes.c_size_t * 1)(GLOBAL_SIZE)

        def run(n):
            t0 = perf()
            for _ in range(n):
                enqueue(q_h, k_h, 1, None, gsize, None, 0, None, None)
            finish(q_h)
            return perf() - t0
        return run

    for name, changing, finish_each, batch, repeats in (
            ("launch_unchanged", False, False, lb, lr), ("launch_changing", True, False, lb, lr),
            ("launch_latency_wall", False, True, tb, tr)):
        runs = {"idiomatic": calls(kernel, changing, finish_each),
                "Kernel.set_scalar_arg_dtypes + kernel(queue, ...)": calls(fast, changing, finish_each),
                "Kernel.set_args + enqueue_nd_range_kernel": set_args_enqueue(changing, finish_each)}
        if beside and not finish_each:
            runs["ours"] = handle_launches(ours_kernel, ours_queue, ours_triples, changing, finish_each)
            if not changing:
                runs["floor"] = enqueue_floor(ours_kernel, ours_queue)
        taken: Dict[str, Any] = {}
        measured = interleaved_medians(runs, batch, repeats, rounds=taken)
        if "floor" in measured:
            out[f"{name}.floor"], rounds[f"{name}.floor"] = measured.pop("floor"), taken["floor"]
        if "ours" in measured:
            out[f"{name}.ours"], rounds[f"{name}.ours"] = measured.pop("ours"), taken["ours"]
        out[name], rounds[name] = measured.pop("idiomatic"), taken["idiomatic"]
        candidates = measured
        best = min(candidates, key=candidates.get)
        out[f"{name}.fast"], rounds[f"{name}.fast"] = candidates[best], taken[best]
        out["notes"][name] = "fast path: " + best + "; " + ", ".join(
            f"{k}: {v:.3g} us" for k, v in candidates.items())
    check = np.empty(GLOBAL_SIZE, dtype=np.int32)
    cl.enqueue_copy(queue, check, pool_b[POOL - 1])
    assert (check == POOL).all(), check

    def event_latency(n):
        total = 0
        for _ in range(n):
            event = kernel(prof_queue, (GLOBAL_SIZE,), None, a0, b0, v0)
            prof_queue.finish()
            total += event.profile.end - event.profile.queued
        return total * 1e-9

    out["launch_latency_event"] = median_of_batches(event_latency, tb, tr)

    # -- 3. small transfers ------------------------------------------------------------------
    small = cl.Buffer(context, mf.READ_WRITE, 4)
    host_w, host_r = np.array([42], dtype=np.int32), np.zeros(1, dtype=np.int32)

    def transfers(n):
        t0 = perf()
        for _ in range(n):
            cl.enqueue_copy(queue, small, host_w, is_blocking=True)
            cl.enqueue_copy(queue, host_r, small, is_blocking=True)
        return perf() - t0

    runs = {"pyopencl": transfers}
    if beside:
        runs["ours"] = handle_transfers(ours_queue, ours_small, host_w, host_r)
    taken = {}
    measured = interleaved_medians(runs, xb, xr, rounds=taken)
    out["small_transfer_pair"], rounds["small_transfer_pair"] = measured["pyopencl"], taken["pyopencl"]
    if "ours" in measured:
        out["small_transfer_pair.ours"], rounds["small_transfer_pair.ours"] = measured["ours"], taken["ours"]
    assert host_r[0] == 42
    small.release()

    # -- 5. churn -------------------------------------------------------------------------------
    def buffers(n):
        t0 = perf()
        for _ in range(n):
            cl.Buffer(context, mf.READ_WRITE, 4096).release()
        return perf() - t0

    complete = cl.command_execution_status.COMPLETE

    def events(n):
        t0 = perf()
        for _ in range(n):
            event = cl.UserEvent(context)
            event.set_status(complete)
            del event
        return perf() - t0

    out["buffer_churn"] = median_of_batches(buffers, hb, hr)
    out["user_event_churn"] = median_of_batches(events, hb, hr)

    # -- 4. bandwidth ----------------------------------------------------------------------------
    nbytes = counts["bw_bytes"]
    buffer = cl.Buffer(context, mf.READ_WRITE | mf.ALLOC_HOST_PTR, nbytes)
    host = np.empty(nbytes, dtype=np.uint8)
    host.fill(1)

    def copies(write: bool, blocking: bool):
        def run(n):
            t0 = perf()
            for _ in range(n):
                if write:
                    cl.enqueue_copy(queue, buffer, host, is_blocking=blocking)
                else:
                    cl.enqueue_copy(queue, host, buffer, is_blocking=blocking)
            queue.finish()
            return perf() - t0
        return run

    def mapped(read: bool):
        flags = cl.map_flags.READ if read else cl.map_flags.WRITE

        def run(n):
            t0 = perf()
            for _ in range(n):
                array, _ = cl.enqueue_map_buffer(queue, buffer, flags, 0, (nbytes,), np.uint8)
                if read:
                    np.copyto(host, array)
                else:
                    np.copyto(array, host)
                array.base.release(queue)
                del array
            queue.finish()
            return perf() - t0
        return run

    repeats, nb_batch = counts["bw_repeats"], counts["bw_nonblocking_batch"]
    out["bw_write_blocking"] = median_bandwidth(copies(True, True), nbytes, 1, repeats)
    out["bw_read_blocking"] = median_bandwidth(copies(False, True), nbytes, 1, repeats)
    out["bw_write_nonblocking"] = median_bandwidth(copies(True, False), nbytes, nb_batch, repeats)
    out["bw_read_nonblocking"] = median_bandwidth(copies(False, False), nbytes, nb_batch, repeats)
    out["bw_map_read_memcpy"] = median_bandwidth(mapped(True), nbytes, 1, repeats)
    out["bw_map_write_memcpy"] = median_bandwidth(mapped(False), nbytes, 1, repeats)
    buffer.release()
    return out


# =========================================================================== #
# Fresh processes
# =========================================================================== #

#: appended to every child script: its own peak RSS. The kernel's VmHWM of this process image,
#: because getrusage's ru_maxrss also counts the parent's peak copied in by fork/exec on Linux.
PEAK_RSS = """
def _peak_rss_kib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.stdout.write("peak_rss_kib %d\\n" % _peak_rss_kib())
"""

# ours needs no numpy: host memory is any buffer-protocol object (array.array here), and a
# kernel's scalar argument a ctypes value; FIRST_RESULT_OURS_NUMPY is the same flow with numpy
FIRST_RESULT_OURS = """\
import array, sys
import opencl_raw as cl
from opencl_raw import raw
device = cl.get_platform_ids()[{p}].get_device_ids()[{d}]
context = cl.create_context([device])
queue = context.create_command_queue_with_properties(device)
kernel = context.create_program_with_source({src!r}).build().create_kernel("add")
a = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, host_buffer=array.array("i", range({n})))
b = context.create_buffer(raw.CL_MEM_READ_WRITE, {n} * 4)
kernel.set_args(a, b, raw.cl_int(5))
queue.enqueue_nd_range_kernel(kernel, ({n},))
out = array.array("i", bytes({n} * 4))
queue.enqueue_read_buffer(b, out)
assert out == array.array("i", range(5, {n} + 5)), out
assert "numpy" not in sys.modules
sys.stdout.write("ok\\n")
sys.stdout.flush()
""" + PEAK_RSS

FIRST_RESULT_OURS_NUMPY = """\
import sys
import numpy as np
import opencl_raw as cl
from opencl_raw import raw
device = cl.get_platform_ids()[{p}].get_device_ids()[{d}]
context = cl.create_context([device])
queue = context.create_command_queue_with_properties(device)
kernel = context.create_program_with_source({src!r}).build().create_kernel("add")
a = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, host_buffer=np.arange({n}, dtype=np.int32))
b = context.create_buffer(raw.CL_MEM_READ_WRITE, {n} * 4)
kernel.set_args(a, b, np.int32(5))
queue.enqueue_nd_range_kernel(kernel, ({n},))
out = np.empty({n}, dtype=np.int32)
queue.enqueue_read_buffer(b, out)
assert (out == np.arange({n}) + 5).all(), out
sys.stdout.write("ok\\n")
sys.stdout.flush()
""" + PEAK_RSS

FIRST_RESULT_PYOPENCL = """\
import sys
import numpy as np
import pyopencl as cl
device = [p for p in cl.get_platforms() if p.name == {platform_name!r}][0].get_devices()[{d}]
context = cl.Context([device])
queue = cl.CommandQueue(context, device)
kernel = cl.Program(context, {src!r}).build().add
mf = cl.mem_flags
a = cl.Buffer(context, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=np.arange({n}, dtype=np.int32))
b = cl.Buffer(context, mf.READ_WRITE, {n} * 4)
kernel(queue, ({n},), None, a, b, np.int32(5))
out = np.empty({n}, dtype=np.int32)
cl.enqueue_copy(queue, out, b)
assert (out == np.arange({n}) + 5).all(), out
sys.stdout.write("ok\\n")
sys.stdout.flush()
""" + PEAK_RSS

# A fresh interpreter and nothing else: what each side's first-result time includes before any
# work (a site-packages .pth file can add tens of ms: run the bench from a venv, as pyopencl's is)
INTERPRETER_START = 'import sys; sys.stdout.write("ok\\n"); sys.stdout.flush()'

IMPORT_TIMER = """\
import sys, time
t0 = time.perf_counter()
import {module}
{extra}
sys.stdout.write("%r\\n" % (time.perf_counter() - t0))
sys.stdout.flush()
""" + PEAK_RSS


#: where the fresh Python processes keep their bytecode (set by main): see child_env
PYCACHE_PREFIX: Optional[str] = None


def child_env() -> Dict[str, str]:
    """The environment of the Python children: this repository first on PYTHONPATH.

    With :data:`PYCACHE_PREFIX` set, bytecode is written and read there (PYTHONPYCACHEPREFIX)
    and PYTHONDONTWRITEBYTECODE is dropped: both sides then import from bytecode compiled on
    the warm-up run, as an installed package does, instead of compiling ours' sources (the
    5,900-line ``_generated.py`` among them) in every process while pyopencl reads the bytecode
    pip wrote at install time.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONWARNINGS", "ignore")
    if PYCACHE_PREFIX:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = PYCACHE_PREFIX
    return env


def run_child(argv: List[str], timeout: float, env: Optional[Dict[str, str]] = None) -> Tuple[float, str, float]:
    """Run ``argv``; return (seconds from spawn to its first output line, that line, peak RSS in MiB).

    The peak RSS is what the child reports on a ``peak_rss_kib N`` line (its own VmHWM);
    without one, ``os.wait4``'s ru_maxrss, which on Linux may include this process's
    peak (fork and exec carry it over). Raises RuntimeError when the child fails.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or child_env(), cwd=REPO)
    try:
        line = proc.stdout.readline().decode(errors="replace").strip()
        elapsed = time.perf_counter() - t0
        rest = proc.stdout.read().decode(errors="replace")
        err = proc.stderr.read().decode(errors="replace")
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"{argv[0]} timed out")
            time.sleep(0.005)
    finally:
        proc.stdout.close()
        proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or not line:
        raise RuntimeError(f"{' '.join(argv[:3])}... exited {proc.returncode}: {(err or rest).strip()[-800:]}")
    peak_kib = usage.ru_maxrss
    for extra in rest.splitlines():
        if extra.startswith("peak_rss_kib "):
            peak_kib = int(extra.split()[1])
    return elapsed, line, peak_kib / 1024.0


def fresh_process(argv: List[str], runs: int, timeout: float = 120, warm: bool = True,
                  inner_time: bool = False, env: Optional[Dict[str, str]] = None) -> Tuple[float, float]:
    """(median seconds, median peak RSS MiB) over ``runs`` fresh processes, after one untimed warm run.

    ``inner_time``: the child prints its own elapsed seconds (import timing); else the
    time from spawn to the child's first output line counts.
    """
    if warm:
        run_child(argv, timeout, env)
    times, rss = [], []
    for _ in range(runs):
        elapsed, line, peak = run_child(argv, timeout, env)
        times.append(float(line) if inner_time else elapsed)
        rss.append(peak)
    return statistics.median(times), statistics.median(rss)


def fresh_interleaved(sides: Dict[str, Tuple[List[str], Optional[Dict[str, str]]]], runs: int,
                      timeout: float = 120) -> Dict[str, Any]:
    """{side: (median seconds, median peak RSS MiB, [group, seconds of each round]) or the
    exception it raised} over ``runs`` rounds of fresh processes, one per side (``argv``,
    ``env``) in turn, after an untimed warm run each: a drift of the machine (the first-result
    times of both Python sides moved by a third between runs here) then hits every side alike,
    and their ratios stay fair (:func:`paired_ratio` takes them round by round)."""
    results: Dict[str, Any] = {}
    live = {}
    for side, (argv, env) in sides.items():
        try:
            run_child(argv, timeout, env)
            live[side] = ([], [])
        except (RuntimeError, OSError, ValueError) as exc:
            results[side] = exc
    for _ in range(runs):
        for side, (times, rss) in list(live.items()):
            argv, env = sides[side]
            try:
                elapsed, _, peak = run_child(argv, timeout, env)
            except (RuntimeError, OSError, ValueError) as exc:
                results[side] = exc
                del live[side]
                continue
            times.append(elapsed)
            rss.append(peak)
    group = f"{os.getpid()}.{next(_GROUPS)}"
    for side, (times, rss) in live.items():
        results[side] = (statistics.median(times), statistics.median(rss), [group, times])
    return results


def measure_fresh(python_ours: str, python_pyopencl: Optional[str], c_binary: Optional[str],
                  info: Dict[str, Any], runs: int, notes: Dict[str, str]) -> Dict[str, Dict[str, Optional[float]]]:
    p, d = info["platform_index"], info["device_index"]
    fmt = dict(p=p, d=d, src=KERNEL_SOURCE, n=GLOBAL_SIZE, platform_name=info["platform"])
    res: Dict[str, Dict[str, Optional[float]]] = {k: {} for k in (
        "import_time", "import_peak_rss", "import_handle_layer_time", "first_result_time", "first_result_peak_rss",
        "first_result_time[numpy]", "interpreter_start_time")}

    def record(peer: str, what: str, fn):
        try:
            seconds, rss = fn()
        except (RuntimeError, OSError, ValueError) as exc:
            notes[f"{what}.{peer}"] = str(exc)
            return
        if what == "import":
            res["import_time"][peer], res["import_peak_rss"][peer] = seconds * 1e3, rss
        elif what == "import_handle_layer":
            res["import_handle_layer_time"][peer] = seconds * 1e3
        elif what == "first_numpy":
            res["first_result_time[numpy]"][peer] = seconds * 1e3
        else:
            res["interpreter_start_time"][peer] = seconds * 1e3

    def timer(module, extra=""):
        return IMPORT_TIMER.format(module=module, extra=extra)

    record("ours", "import", lambda: fresh_process([python_ours, "-c", timer("opencl_raw")], runs, inner_time=True))
    record("ours", "import_handle_layer", lambda: fresh_process(
        [python_ours, "-c", timer("opencl_raw", "opencl_raw.CommandQueue, opencl_raw.Context, opencl_raw.raw.CL_SUCCESS")],
        runs, inner_time=True))
    record("ours", "start", lambda: fresh_process([python_ours, "-c", INTERPRETER_START], runs))
    record("ours", "first_numpy", lambda: fresh_process([python_ours, "-c", FIRST_RESULT_OURS_NUMPY.format(**fmt)],
                                                        runs))
    if python_pyopencl:
        record("pyopencl", "import", lambda: fresh_process([python_pyopencl, "-c", timer("pyopencl")], runs,
                                                           inner_time=True))
        res["import_handle_layer_time"]["pyopencl"] = res["import_time"].get("pyopencl")
        record("pyopencl", "start", lambda: fresh_process([python_pyopencl, "-c", INTERPRETER_START], runs))
    # the first results of the three sides, in turn
    sides = {"ours": ([python_ours, "-c", FIRST_RESULT_OURS.format(**fmt)], None)}
    if python_pyopencl:
        sides["pyopencl"] = ([python_pyopencl, "-c", FIRST_RESULT_PYOPENCL.format(**fmt)], None)
    if c_binary:
        sides["c"] = ([c_binary, "first", str(p), str(d), f"platform_name={info['platform']}",
                       f"device_name={info['device']}"], peer_env(info.get("library_path")))
    first = res["first_result_time"]
    first["rounds"] = {}
    for side, outcome in fresh_interleaved(sides, runs).items():
        if isinstance(outcome, Exception):
            notes[f"first.{side}"] = str(outcome)
        else:
            first[side], res["first_result_peak_rss"][side] = outcome[0] * 1e3, outcome[1]
            first["rounds"][side] = [outcome[2][0], [t * 1e3 for t in outcome[2][1]]]
    return res


# =========================================================================== #
# Peers: C program, clpeak, worker processes
# =========================================================================== #

def build_c(out_dir: str, notes: Dict[str, str]) -> Optional[str]:
    """Compile tools/bench_c.c with gcc -O2 against the repository's headers; None (and a note) on failure."""
    gcc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if not gcc:
        notes["c"] = "no gcc/cc on PATH"
        return None
    binary = os.path.join(out_dir, "bench_c")
    errors = []
    for lib in ("-lOpenCL", "-l:libOpenCL.so.1"):
        cmd = [gcc, "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-I", HEADERS, "-o", binary, C_SOURCE, lib]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode == 0:
            return binary
        errors.append(proc.stderr.strip()[-400:])
    notes["c"] = "gcc failed: " + " | ".join(errors)
    return None


def run_c(binary: str, info: Dict[str, Any], counts: Dict[str, int], clpeak_bytes: int,
          timeout: float) -> Dict[str, Any]:
    keys = ("call_batch", "call_repeats", "launch_batch", "launch_repeats", "latency_batch", "latency_repeats",
            "transfer_batch", "transfer_repeats", "churn_batch", "churn_repeats", "bw_bytes", "bw_repeats",
            "bw_nonblocking_batch", "clpeak_iters")
    argv = ([binary, "run", str(info["platform_index"]), str(info["device_index"])]
            + [f"{k}={counts[k]}" for k in keys]
            + [f"clpeak_bytes={clpeak_bytes}", f"platform_name={info['platform']}", f"device_name={info['device']}"])
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=peer_env(info.get("library_path")))
    if proc.returncode != 0:
        raise RuntimeError(f"bench_c exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout)


def run_worker(python: str, kind: str, info: Dict[str, Any], mode: str, clpeak_bytes: int, timeout: float,
               bandwidth_mib: Optional[int] = None, env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    argv = [python, os.path.abspath(__file__), "--worker", kind, "--platform", str(info["platform_index"]),
            "--device", str(info["device_index"]), "--platform-name", info["platform"],
            "--device-name", info["device"], "--clpeak-bytes", str(clpeak_bytes)]
    argv += (["--quick"] if mode == "quick" else []) + (["--bandwidth-mib", str(bandwidth_mib)] if bandwidth_mib else [])
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env={**child_env(), **(env or {})},
                          cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} worker exited {proc.returncode}: {proc.stderr.strip()[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


CLPEAK_TRANSFER_LABELS = {
    "enqueueWriteBuffer": "clpeak_write_blocking",
    "enqueueReadBuffer": "clpeak_read_blocking",
    "enqueueWriteBuffer non-blocking": "clpeak_write_nonblocking",
    "enqueueReadBuffer non-blocking": "clpeak_read_nonblocking",
    "memcpy from mapped ptr": "clpeak_memcpy_from_mapped",
    "memcpy to mapped ptr": "clpeak_memcpy_to_mapped",
}


def parse_clpeak(text: str) -> Dict[str, float]:
    """The numbers of ``clpeak --transfer-bandwidth`` / ``--kernel-latency`` output, by our row names."""
    found: Dict[str, float] = {}
    for line in text.splitlines():
        label, sep, value = line.partition(":")
        if not sep:
            continue
        label = label.strip()
        match = re.match(r"\s*([0-9.]+(?:[eE][-+]?[0-9]+)?)", value)
        if not match:
            continue
        if label in CLPEAK_TRANSFER_LABELS:
            found[CLPEAK_TRANSFER_LABELS[label]] = float(match.group(1))
        elif label == "Kernel launch latency":
            found["clpeak_kernel_latency"] = float(match.group(1))
    return found


def run_clpeak(clpeak: str, info: Dict[str, Any], timeout: float, notes: Dict[str, str]) -> Dict[str, float]:
    """clpeak's transfer bandwidth and kernel latency on the device, through ours' ICD loader.

    Its output must name the same platform and device, else its numbers are left out.
    """
    results: Dict[str, float] = {}
    p, d = info["platform_index"], info["device_index"]
    for test in ("--transfer-bandwidth", "--kernel-latency"):
        try:
            proc = subprocess.run([clpeak, "-p", str(p), "-d", str(d), test], capture_output=True, text=True,
                                  timeout=timeout, env=peer_env(info.get("library_path")))
        except (OSError, subprocess.TimeoutExpired) as exc:
            notes[f"clpeak {test}"] = str(exc)
            continue
        named = re.findall(r"^\s*(Platform|Device): (.*?)\s*$", proc.stdout, re.M)
        if ("Platform", info["platform"].strip()) not in named or ("Device", info["device"].strip()) not in named:
            notes[f"clpeak {test}"] = f"ran on another device ({named}); its numbers are left out"
            continue
        parsed = parse_clpeak(proc.stdout)
        if proc.returncode != 0 or not parsed:
            notes[f"clpeak {test}"] = f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-400:]}"
        results.update(parsed)
    return results


# =========================================================================== #
# Device resolution and report
# =========================================================================== #

def resolve_device(platform_key, device_key) -> Dict[str, Any]:
    """Platform and device indices (and names, and the facts clpeak's sizes need) for the given keys.

    Keys are indices or case-insensitive name substrings, falling back to
    OPENCL_RAW_PLATFORM / OPENCL_RAW_DEVICE, then 0 (``opencl_raw.select_device``).
    """
    sys.path.insert(0, REPO)
    import opencl_raw as cl
    from opencl_raw import raw

    device = cl.select_device(platform_key, device_key)
    platforms = cl.get_platform_ids()
    for pi, platform in enumerate(platforms):
        devices = platform.get_device_ids()
        if device in devices:
            di = devices.index(device)
            break
    else:  # pragma: no cover - select_device returned a device of no platform
        raise LookupError("the selected device is on no platform")
    return {
        "platform_index": pi, "device_index": di,
        "platform": platform.get_info(raw.CL_PLATFORM_NAME), "device": device.get_info(raw.CL_DEVICE_NAME),
        "device_version": device.get_info(raw.CL_DEVICE_VERSION),
        "driver_version": device.get_info(raw.CL_DRIVER_VERSION),
        "max_mem_alloc_size": device.get_info(raw.CL_DEVICE_MAX_MEM_ALLOC_SIZE),
        "max_work_item_size0": device.get_info(raw.CL_DEVICE_MAX_WORK_ITEM_SIZES)[0],
        "is_cpu": bool(device.get_info(raw.CL_DEVICE_TYPE) & raw.CL_DEVICE_TYPE_CPU),
        "library_path": _library_path(raw),
        "driver_library": _driver_library(raw, pi),
    }


def _driver_library(raw, platform_index: int) -> Optional[str]:
    """The driver file of platform ``platform_index`` (an absolute path), or None where unknown."""
    try:
        library = raw.backend().platforms[platform_index].library
    except (AttributeError, IndexError):
        return None
    return library if library and os.path.isabs(library) else None


def _library_path(raw) -> Optional[str]:
    try:
        path = raw.library_path()
    except Exception:  # noqa: BLE001 - a backend without a loader file: the peers use their own
        return None
    return path if path and os.path.isabs(path) else None


def peer_env(library_path: Optional[str]) -> Dict[str, str]:
    """The environment of the C program and clpeak: the ICD loader ours loaded comes first on
    LD_LIBRARY_PATH, so that all see the same platforms in the same order through the same loader."""
    env = dict(os.environ)
    if library_path:
        folder = os.path.dirname(library_path)
        env["LD_LIBRARY_PATH"] = folder + (os.pathsep + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return env


#: rows: name, unit, which is better, layer, peers that apply, description
ROWS: List[Tuple[str, str, str, str, Tuple[str, ...], str]] = []


def _row(name, unit, better, layer, peers, what):
    ROWS.append((name, unit, better, layer, peers, what))


_ALL = ("c", "pyopencl", "pyopencl_fast", "clpeak")
for _layer in ("bare_ctypes", "raw", "checked"):
    _row(f"device_info[{_layer}]", "us", "lower", _layer, ("c",),
         f"clGetDeviceInfo(CL_DEVICE_MAX_COMPUTE_UNITS) through {_layer}")
_row("device_info[raw_icd]", "us", "lower", "raw", ("c",),
     "clGetDeviceInfo through raw on the icd backend (built-in dispatch, no libOpenCL)")
_row("device_info[raw_loader_beside_icd]", "us", "lower", "raw", ("c",),
     "the same call through libOpenCL, interleaved with the icd one in its process")
_row("device_info", "us", "lower", "handle", ("c", "pyopencl"), "device.get_info(CL_DEVICE_MAX_COMPUTE_UNITS)")
_row("device_info[attribute]", "us", "lower", "handle", ("c", "pyopencl"), "device.max_compute_units")
for _op, _what in (("launch_unchanged", "3 set_arg + NDRange 64, same arguments; N launches, one finish"),
                   ("launch_changing", "3 set_arg + NDRange 64, other buffers and int each launch; one finish"),
                   ("launch_latency_wall", "3 set_arg + NDRange 64 + finish, wall clock per launch")):
    for _layer in ("bare_ctypes", "raw"):
        _row(f"{_op}[{_layer}]", "us", "lower", _layer, ("c",), _what)
    _row(_op, "us", "lower", "handle", ("c", "pyopencl", "pyopencl_fast"), _what)
for _op in ("launch_unchanged", "launch_changing", "small_transfer_pair"):
    _row(f"{_op}[beside_pyopencl]", "us", "lower", "handle", ("pyopencl", "pyopencl_fast"),
         "the handle layer's loop of the row above in pyopencl's process, in turn with pyopencl's loops "
         "(the same interpreter, driver threads and moment): the pyopencl targets' measure")
_row("launch_unchanged[floor_beside_pyopencl]", "us", "lower", "bare_ctypes", ("pyopencl", "pyopencl_fast"),
     "clEnqueueNDRangeKernel alone through a ctypes function without argtypes (no set_arg, no checks), "
     "in turn with the loops of launch_unchanged[beside_pyopencl]: the least a Python loop pays per "
     "unchanged launch, the floor of the pyopencl launch targets")
_row("launch_latency_event", "us", "lower", "handle", ("c", "pyopencl"),
     "event profiling QUEUED->END per launch of the 64-work-item kernel (later clpeak versions' measure)")
_row("clpeak_kernel_latency", "us", "lower", "handle", ("clpeak",),
     "clpeak's kernel latency method and sizes (max work-group size x compute units work-items, "
     "16 floats read each): mean QUEUED->START per launch, as clpeak 1.1.2 measures it")
for _layer in ("bare_ctypes", "raw"):
    _row(f"small_transfer_pair[{_layer}]", "us", "lower", _layer, ("c",), "blocking write 4 B + blocking read 4 B")
_row("small_transfer_pair", "us", "lower", "handle", ("c", "pyopencl"), "blocking write 4 B + blocking read 4 B")
for _op, _what in (("bw_write_blocking", "blocking write"), ("bw_read_blocking", "blocking read"),
                   ("bw_write_nonblocking", "non-blocking writes, one finish"),
                   ("bw_read_nonblocking", "non-blocking reads, one finish"),
                   ("bw_map_read_memcpy", "map (read) + memcpy out + unmap"),
                   ("bw_map_write_memcpy", "map (write) + memcpy in + unmap")):
    _row(_op, "GB/s", "higher", "handle", ("c", "pyopencl"), _what + " of the bandwidth size")
for _op in ("write_blocking", "read_blocking", "write_nonblocking", "read_nonblocking",
            "memcpy_from_mapped", "memcpy_to_mapped"):
    _row(f"clpeak_{_op}", "GB/s", "higher", "handle", ("c", "clpeak"),
         "clpeak's method, flags and size: " + _op.replace("_", " "))
for _layer in ("bare_ctypes", "raw"):
    _row(f"buffer_churn[{_layer}]", "us", "lower", _layer, ("c",), "create + release a 4 KiB buffer")
_row("buffer_churn", "us", "lower", "handle", ("c", "pyopencl"), "create + release a 4 KiB buffer")
for _layer in ("bare_ctypes", "raw"):
    _row(f"user_event_churn[{_layer}]", "us", "lower", _layer, ("c",), "create, set CL_COMPLETE, release a user event")
_row("user_event_churn", "us", "lower", "handle", ("c", "pyopencl"), "create, set CL_COMPLETE, release a user event")
_row("import_time", "ms", "lower", "handle", ("pyopencl",), "import opencl_raw (perf_counter in a fresh process)")
_row("import_handle_layer_time", "ms", "lower", "handle", ("pyopencl",),
     "import opencl_raw + load the handle classes (pyopencl: import pyopencl)")
_row("import_peak_rss", "MiB", "lower", "handle", ("pyopencl",), "peak RSS of the import process")
_row("first_result_time", "ms", "lower", "handle", ("c", "pyopencl"),
     "fresh process: spawn to first kernel result read back (binary cache warm); ours with array.array host "
     "memory and no numpy, pyopencl with numpy (which it imports itself)")
_row("first_result_time[numpy]", "ms", "lower", "handle", (),
     "the same flow of ours with numpy arrays (numpy imported)")
_row("first_result_peak_rss", "MiB", "lower", "handle", ("c", "pyopencl"), "peak RSS of the first-result process")
_row("interpreter_start_time", "ms", "lower", "handle", ("pyopencl",),
     "a fresh interpreter to its first output line (python -c), ours' and pyopencl's: included in the "
     "first-result rows")
OPERATIONS = [r[0] for r in ROWS]
PEERS = ("c", "pyopencl", "pyopencl_fast", "clpeak")

#: targets of issue 7: (description, numerator op, numerator column, denominator op, denominator column, op, bound)
TARGETS = [
    ("raw call <= 1.2x bare ctypes", "device_info[raw]", "ours", "device_info[bare_ctypes]", "ours", "<=", 1.2),
    ("checked call <= 1.5x bare ctypes", "device_info[checked]", "ours", "device_info[bare_ctypes]", "ours", "<=", 1.5),
    ("raw call, icd backend <= 1.1x raw call through the loader (issue 8)", "device_info[raw_icd]", "ours",
     "device_info[raw_loader_beside_icd]", "ours", "<=", 1.1),
    ("launch, unchanged args (handle) <= 0.25x pyopencl idiomatic", "launch_unchanged[beside_pyopencl]", "ours",
     "launch_unchanged[beside_pyopencl]", "pyopencl", "<=", 0.25),
    ("launch, unchanged args (handle) <= 1.0x pyopencl fast path", "launch_unchanged[beside_pyopencl]", "ours",
     "launch_unchanged[beside_pyopencl]", "pyopencl_fast", "<=", 1.0),
    ("launch, unchanged args (handle) <= 3x C", "launch_unchanged", "ours", "launch_unchanged", "c", "<=", 3.0),
    ("launch, changing args (handle) <= 1.3x the four raw calls", "launch_changing", "ours",
     "launch_changing[raw]", "ours", "<=", 1.3),
] + [
    (f"bandwidth {k.replace('_', ' ')} >= 0.95x C", f"bw_{k}", "ours", f"bw_{k}", "c", ">=", 0.95) for k in BW_KINDS
] + [
    (f"bandwidth {k.replace('_', ' ')} >= 0.95x clpeak (its size and flags)", f"clpeak_{k}", "ours",
     f"clpeak_{k}", "clpeak", ">=", 0.95) for k in BW_KINDS
] + [
    ("small-transfer latency <= 1.1x pyopencl", "small_transfer_pair[beside_pyopencl]", "ours",
     "small_transfer_pair[beside_pyopencl]", "pyopencl", "<=", 1.1),
    ("kernel launch latency <= 1.2x clpeak (its method and sizes; the H200 target)", "clpeak_kernel_latency",
     "ours", "clpeak_kernel_latency", "clpeak", "<=", 1.2),
    ("buffer create+release (handle) <= 2x bare ctypes floor", "buffer_churn", "ours", "buffer_churn[bare_ctypes]",
     "ours", "<=", 2.0),
    ("import <= 0.2x import pyopencl", "import_time", "ours", "import_time", "pyopencl", "<=", 0.2),
    ("fresh process to first result <= 0.5x pyopencl", "first_result_time", "ours", "first_result_time", "pyopencl",
     "<=", 0.5),
]


def build_rows(ours: Dict[str, Any], c: Dict[str, Any], pyo: Dict[str, Any], clpeak: Dict[str, float],
               fresh: Dict[str, Dict[str, Optional[float]]]) -> List[Dict[str, Any]]:
    rows = []
    for name, unit, better, layer, peers, what in ROWS:
        # where each column's value comes from: (a side's results, its key there)
        if name.endswith("beside_pyopencl]"):
            base = name.split("[")[0]
            mine = f"{base}.floor" if "[floor_" in name else f"{base}.ours"
            sources = {"ours": (pyo, mine), "pyopencl": (pyo, base), "pyopencl_fast": (pyo, f"{base}.fast")}
        elif name in fresh:
            sources = {key: (fresh[name], key) for key in ("ours", "c", "pyopencl")}
        else:
            sources = {"ours": (ours, name), "c": (c, name.split("[")[0]), "pyopencl": (pyo, name),
                       "pyopencl_fast": (pyo, f"{name}.fast"), "clpeak": (clpeak, name)}
        if name == "user_event_churn":
            layer = ours.get("user_event_churn.layer", layer)
        row: Dict[str, Any] = {"name": name, "unit": unit}
        row_rounds = {}
        for key in ("ours",) + PEERS:
            side, side_key = sources.get(key, ({}, key))
            value = side.get(side_key) if key == "ours" or key in peers else None
            row[key] = float(value) if isinstance(value, (int, float)) and value > 0 else None
            if row[key] is not None and side.get("rounds", {}).get(side_key):
                row_rounds[key] = side["rounds"][side_key]
        row.update(better=better, layer=layer, description=what)
        for peer in PEERS:
            row[f"ours/{peer}"] = (row["ours"] / row[peer]) if row["ours"] and row[peer] else None
        note = ours.get("notes", {}).get(name) or pyo.get("notes", {}).get(name)
        if note:
            row["note"] = note
        if row_rounds:
            row["rounds"] = row_rounds   # [group, per-round values] of the columns taken in turn
        rows.append(row)
    return rows


def evaluate_targets(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Each target's status. The ratio judged is the median of the per-round ratios where both
    sides were measured in turn in one process (the same interleaved group: see
    :func:`paired_ratio`), else the ratio of the two medians; both are reported."""
    by_name = {r["name"]: r for r in rows}
    out = []
    for text, num_op, num_col, den_op, den_col, op, bound in TARGETS:
        num, den = by_name[num_op][num_col], by_name[den_op][den_col]
        of_medians = num / den if num and den else None
        paired = paired_ratio(by_name[num_op].get("rounds", {}).get(num_col),
                              by_name[den_op].get("rounds", {}).get(den_col)) if of_medians else None
        ratio = paired if paired is not None else of_medians
        status = "N/A" if ratio is None else (
            "PASS" if (ratio <= bound if op == "<=" else ratio >= bound) else "MISS")
        out.append({"target": text, "ratio": ratio, "bound": bound, "op": op, "status": status,
                    "method": "paired" if paired is not None else "medians", "ratio_of_medians": of_medians,
                    "numerator": f"{num_op}.{num_col}", "denominator": f"{den_op}.{den_col}"})
    return out


def _fmt(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def format_table(rows: List[Dict[str, Any]]) -> str:
    header = ["operation", "unit", "ours", "C", "pyopencl", "pyopencl_fast", "clpeak",
              "ours/C", "ours/pyopencl", "ours/pyo_fast", "ours/clpeak"]
    lines = [[r["name"], r["unit"], _fmt(r["ours"])] + [_fmt(r[p]) for p in PEERS]
             + [_fmt(r[f"ours/{p}"]) for p in PEERS] for r in rows]
    widths = [max(len(str(x[i])) for x in [header] + lines) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    out.append("  ".join("-" * w for w in widths))
    for line in lines:
        out.append("  ".join(str(x).ljust(w) if i < 2 else str(x).rjust(w) for i, (x, w) in enumerate(zip(line, widths))))
    return "\n".join(out)


def format_targets(targets: List[Dict[str, Any]]) -> str:
    width = max(len(t["target"]) for t in targets)
    lines = []
    for t in targets:
        ratio = "-" if t["ratio"] is None else f"{t['ratio']:.3f}"
        how = (f"per-round ratio; of medians {t['ratio_of_medians']:.3f}" if t["method"] == "paired"
               else "ratio of medians")
        lines.append(f"  {t['status']:<4}  {t['target']:<{width}}  measured {ratio:>7}  "
                     f"({t['numerator']} / {t['denominator']}: {how})")
    passed = sum(t["status"] == "PASS" for t in targets)
    missed = sum(t["status"] == "MISS" for t in targets)
    lines.append(f"  {passed} pass, {missed} miss, {len(targets) - passed - missed} not measured")
    return "\n".join(lines)


# =========================================================================== #
# Main
# =========================================================================== #

def _load_average() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", help="platform index or name substring (default OPENCL_RAW_PLATFORM, else 0)")
    parser.add_argument("--device", help="device index or name substring (default OPENCL_RAW_DEVICE, else 0)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny repeat counts, 4 MiB bandwidth, no clpeak: a smoke run of every operation")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--pyopencl-python", metavar="PYTHON", default=sys.executable,
                        help="interpreter with pyopencl installed (default: this one); '' to skip pyopencl")
    parser.add_argument("--clpeak", metavar="PATH", default=os.environ.get("CLPEAK") or shutil.which("clpeak") or "",
                        help="clpeak binary (default: $CLPEAK or clpeak on PATH); '' to skip")
    parser.add_argument("--with-clpeak-in-quick", action="store_true", help="run clpeak in --quick mode too")
    parser.add_argument("--no-c", action="store_true", help="skip the C peer")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="fresh processes as the environment says (e.g. PYTHONDONTWRITEBYTECODE=1 compiles ours' "
                             "sources in every process); default: both sides import from bytecode cached on a warm-up run")
    parser.add_argument("--c-binary", metavar="PATH", help="a prebuilt tools/bench_c.c binary instead of gcc")
    parser.add_argument("--bandwidth-mib", type=int, help="bandwidth size in MiB (default 256; 4 with --quick)")
    parser.add_argument("--clpeak-bytes", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=("ours", "ours_icd", "pyopencl"), help=argparse.SUPPRESS)
    parser.add_argument("--platform-name", help=argparse.SUPPRESS)
    parser.add_argument("--device-name", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def counts_for(args) -> Dict[str, int]:
    counts = dict(COUNTS["quick" if args.quick else "full"])
    if args.bandwidth_mib:
        counts["bw_bytes"] = args.bandwidth_mib * MIB
    return counts


def worker_main(args) -> int:
    counts = counts_for(args)
    p, d = int(args.platform), int(args.device)
    if args.worker == "ours":
        result = worker_ours(p, d, counts, args.clpeak_bytes)
    elif args.worker == "ours_icd":
        result = worker_ours_icd(args.platform_name, args.device_name, counts)
    else:
        result = worker_pyopencl(p, d, counts, args.platform_name, args.device_name)
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main(args)
    started = time.perf_counter()
    mode = "quick" if args.quick else "full"
    counts = counts_for(args)
    notes: Dict[str, str] = {}
    info = resolve_device(args.platform, args.device)
    p, d = info["platform_index"], info["device_index"]
    print(f"device: platform #{p} {info['platform']!r}, device #{d} {info['device']!r} "
          f"({info['device_version']}, driver {info['driver_version']}); mode {mode}", flush=True)
    load_before = _load_average()
    if load_before is not None and load_before > 0.5 * (os.cpu_count() or 1):
        print(f"warning: load average {load_before:.1f} on {os.cpu_count()} CPUs: other processes compete "
              "with the measurements", flush=True)

    clpeak_path = args.clpeak if (args.clpeak and (not args.quick or args.with_clpeak_in_quick)) else ""
    if args.clpeak and not clpeak_path:
        notes["clpeak"] = "skipped in --quick mode (--with-clpeak-in-quick runs it)"
    elif not args.clpeak:
        notes["clpeak"] = "not found (install clpeak or pass --clpeak PATH)"
    if clpeak_path and not os.access(clpeak_path, os.X_OK):
        notes["clpeak"] = f"{clpeak_path} is not executable"
        clpeak_path = ""
    clpeak_bytes = clpeak_transfer_bytes(info["max_mem_alloc_size"], info["max_work_item_size0"], info["is_cpu"])
    if args.quick:
        if clpeak_path:
            counts["clpeak_iters"] = 3   # clpeak's size, to compare with it, but few iterations
        else:
            clpeak_bytes = counts["bw_bytes"]  # the method still runs, at the quick size

    timeout = 600
    global PYCACHE_PREFIX
    with tempfile.TemporaryDirectory(prefix="opencl_raw_bench_") as tmp:
        if not args.no_bytecode_cache:
            PYCACHE_PREFIX = os.path.join(tmp, "pycache")
        c_binary = None
        if not args.no_c:
            c_binary = args.c_binary or build_c(tmp, notes)
        c_results: Dict[str, Any] = {}
        if c_binary:
            print("running the C peer ...", flush=True)
            try:
                c_results = run_c(c_binary, info, counts, clpeak_bytes, timeout)
            except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
                notes["c"] = str(exc)
                c_binary = None

        print("running ours ...", flush=True)
        ours = run_worker(sys.executable, "ours", info, mode, clpeak_bytes, timeout, args.bandwidth_mib)
        try:   # the icd backend with the selected platform's driver alone: its direct entry points
            only = {"OPENCL_RAW_ICDS": info["driver_library"]} if info.get("driver_library") else None
            icd = run_worker(sys.executable, "ours_icd", info, mode, 0, timeout, env=only)
            ours.setdefault("notes", {}).update(icd.pop("notes", {}))
            ours.setdefault("rounds", {}).update(icd.pop("rounds", {}))
            ours.update(icd)
        except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
            notes["device_info[raw_icd]"] = f"the icd backend worker failed: {exc}"

        pyo: Dict[str, Any] = {}
        python_pyopencl = None
        if args.pyopencl_python:
            print("running pyopencl ...", flush=True)
            try:
                pyo = run_worker(args.pyopencl_python, "pyopencl", info, mode, 0, timeout, args.bandwidth_mib)
            except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
                notes["pyopencl"] = str(exc)
            if pyo.get("available"):
                python_pyopencl = args.pyopencl_python
            elif "pyopencl" not in notes:
                notes["pyopencl"] = f"no pyopencl distribution in {args.pyopencl_python}"
            if not pyo.get("available"):
                pyo = {}
        else:
            notes["pyopencl"] = "skipped (--pyopencl-python '')"

        clpeak: Dict[str, float] = {}
        if clpeak_path:
            print("running clpeak ...", flush=True)
            clpeak = run_clpeak(clpeak_path, info, timeout, notes)

        print("fresh processes ...", flush=True)
        fresh = measure_fresh(sys.executable, python_pyopencl, c_binary, info, counts["fresh_runs"], notes)

    rows = build_rows(ours, c_results, pyo, clpeak, fresh)
    targets = evaluate_targets(rows)
    print()
    print(format_table(rows))
    print()
    print("ratios are ours/peer: for us, ms and MiB lower is better for ours; for GB/s higher is better.")
    for row in rows:
        if row.get("note"):
            print(f"note {row['name']}: {row['note']}")
    for key, text in notes.items():
        print(f"note {key}: {text}")
    print()
    print("targets (issue 7):")
    print(format_targets(targets))
    floor = next(r for r in rows if r["name"] == "launch_unchanged[floor_beside_pyopencl]")
    if floor["ours/pyopencl"] and floor["ours/pyopencl_fast"]:
        print(f"  floor of the two pyopencl launch targets: clEnqueueNDRangeKernel alone through bare ctypes is "
              f"{floor['ours/pyopencl']:.3f}x pyopencl idiomatic and {floor['ours/pyopencl_fast']:.3f}x its fast path")
    elapsed = time.perf_counter() - started
    load_after = _load_average()
    print(f"\nfinished in {elapsed:.0f} s; load average {load_before} before, {load_after} after "
          f"({os.cpu_count()} CPUs)")
    if args.json:
        document = {
            "meta": {
                "mode": mode, "seconds": elapsed, **info, "cpus": os.cpu_count(),
                "load_average": [load_before, load_after], "counts": counts, "clpeak_bytes": clpeak_bytes,
                "python": sys.version.split()[0], "machine": _platform.machine(),
                "pyopencl": pyo.get("version"), "pyopencl_python": python_pyopencl,
                "bytecode_cache": not args.no_bytecode_cache,
                "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
                "clpeak": clpeak_path or None, "c": bool(c_binary), "notes": notes,
                "peers": {"c": bool(c_results), "pyopencl": bool(pyo), "pyopencl_fast": bool(pyo),
                          "clpeak": bool(clpeak)},
            },
            "operations": rows,
            "targets": targets,
        }
        with open(args.json, "w") as f:
            json.dump(document, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
