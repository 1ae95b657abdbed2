"""The lifetime base class Handle (opencl_raw/_handle.py), through every handle class.

Reference counts are read back with the CL_*_REFERENCE_COUNT queries, so each
test sees exactly how many references the driver holds.
"""
from __future__ import annotations

import copy
import ctypes
import gc
import pickle
import time

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import checked, raw
from opencl_raw._handle import Handle
from twelve_steps_common import Witness

SOURCE = """
__kernel void scale(__global float *x, const float k) { x[get_global_id(0)] *= k; }
__kernel void add(__global float *x, const float v) { x[get_global_id(0)] += v; }
"""
N = 256


def _settled(read, expected, timeout: float = 10.0):
    """``read()`` once it equals ``expected``, or its last value after ``timeout`` seconds.

    Drivers may drop their own references (a released queue's last event, say) on a
    thread of their own, a moment after the call that made them unnecessary.
    """
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.01)
        value = read()
    return value


def _count(get_info, handle, param) -> int:
    """A reference count read with the raw C call, independent of the handle layer."""
    n = raw.cl_uint()
    assert get_info(handle, param, ctypes.sizeof(n), ctypes.byref(n), None) == raw.CL_SUCCESS
    return n.value


@pytest.fixture
def program(context):
    p = context.create_program_with_source(SOURCE).build()
    yield p
    p.release()


def _steady(read, timeout: float = 5.0) -> int:
    """``read()`` once two reads 20 ms apart agree (drivers drop the references their threads
    hold on a finished command a moment later: PoCL goes from 4 to 2), or after ``timeout`` s."""
    deadline, last = time.monotonic() + timeout, read()
    while time.monotonic() < deadline:
        time.sleep(0.02)
        now = read()
        if now == last:
            return now
        last = now
    return last


@pytest.fixture
def objects(context, queue, program):
    """One object of every reference-counted class, with its raw reference-count query."""
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, N * 4)
    kernel = program.create_kernel("scale")
    event = queue.enqueue_write_buffer(buffer, np.zeros(N, np.float32))
    queue.finish()
    _steady(lambda: event.reference_count)         # the driver lets go of its finished command
    made = {
        "context": (context, raw.clGetContextInfo, raw.CL_CONTEXT_REFERENCE_COUNT),
        "queue": (queue, raw.clGetCommandQueueInfo, raw.CL_QUEUE_REFERENCE_COUNT),
        "buffer": (buffer, raw.clGetMemObjectInfo, raw.CL_MEM_REFERENCE_COUNT),
        "program": (program, raw.clGetProgramInfo, raw.CL_PROGRAM_REFERENCE_COUNT),
        "kernel": (kernel, raw.clGetKernelInfo, raw.CL_KERNEL_REFERENCE_COUNT),
        "event": (event, raw.clGetEventInfo, raw.CL_EVENT_REFERENCE_COUNT),
    }
    yield made
    queue.finish()
    for obj in (buffer, kernel, event):
        obj.release()


KINDS = ["context", "queue", "buffer", "program", "kernel", "event"]


# --------------------------------------------------------------------------- #
# release(), with, after release
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("kind", KINDS)
def test_from_handle_retain_counts_are_exact(objects, kind):
    obj, get_info, param = objects[kind]
    cls = type(obj)
    before = _count(get_info, obj.handle, param)
    assert obj.reference_count == before            # the attribute reads the same count

    # retain=True takes a new reference; release() gives exactly that one back.
    extra = cls.from_handle(obj.handle)
    assert _count(get_info, obj.handle, param) == before + 1
    assert extra == obj and hash(extra) == hash(obj) and extra is not obj
    extra.release()
    assert _count(get_info, obj.handle, param) == before
    extra.release()                                 # idempotent: nothing more is given back
    assert _count(get_info, obj.handle, param) == before

    # retain=False takes over a reference the caller owned; from an int address too.
    retain = getattr(checked, cls._retain_name)
    retain(obj.handle)
    assert _count(get_info, obj.handle, param) == before + 1
    adopted = cls.from_handle(obj.handle.value, retain=False)
    assert _count(get_info, obj.handle, param) == before + 1
    assert adopted.handle.value == obj.handle.value
    adopted.release()
    assert _count(get_info, obj.handle, param) == before
    assert not obj.released and obj.reference_count == before


@pytest.mark.parametrize("kind", KINDS)
def test_release_is_idempotent_and_then_every_use_raises(objects, kind):
    obj, get_info, param = objects[kind]
    copy_ = type(obj).from_handle(obj.handle)
    before = obj.reference_count
    assert not copy_.released
    copy_.release()
    copy_.release()
    copy_.release()
    assert copy_.released
    assert obj.reference_count == before - 1
    assert "released" in repr(copy_)
    info_param = {"context": raw.CL_CONTEXT_NUM_DEVICES, "queue": raw.CL_QUEUE_PROPERTIES,
                  "buffer": raw.CL_MEM_SIZE, "program": raw.CL_PROGRAM_NUM_DEVICES,
                  "kernel": raw.CL_KERNEL_NUM_ARGS, "event": raw.CL_EVENT_COMMAND_TYPE}[kind]
    with pytest.raises(cl.ReleasedHandleError):
        copy_.handle
    with pytest.raises(cl.ReleasedHandleError):
        copy_.get_info(info_param)
    with pytest.raises(cl.ReleasedHandleError):
        copy_.reference_count                       # attribute access goes through get_info
    with pytest.raises(cl.ReleasedHandleError):
        with copy_:
            pass
    # Passed to the checked layer (through _as_parameter_): the same error, not a driver call.
    out = raw.cl_uint()
    with pytest.raises(cl.ReleasedHandleError):
        getattr(checked, type(obj)._info_function)(copy_, param, ctypes.sizeof(out), ctypes.byref(out), None)
    # ReleasedHandleError is a ValueError, and the original object is unaffected.
    assert issubclass(cl.ReleasedHandleError, ValueError)
    assert obj.reference_count == before - 1


def test_methods_of_released_objects_raise(device, context, queue, program):
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, N * 4)
    kernel = program.create_kernel("scale")
    event = queue.enqueue_write_buffer(buffer, np.ones(N, np.float32))
    for obj in (buffer, kernel, event):
        obj.release()
    with pytest.raises(cl.ReleasedHandleError):
        buffer.size
    with pytest.raises(cl.ReleasedHandleError):
        queue.enqueue_read_buffer(buffer)
    with pytest.raises(cl.ReleasedHandleError):
        queue.enqueue_write_buffer(buffer, np.ones(N, np.float32))
    with pytest.raises(cl.ReleasedHandleError):
        kernel.set_arg(1, np.float32(2))
    live = program.create_kernel("scale")
    with pytest.raises(cl.ReleasedHandleError):
        live.set_arg(0, buffer)                     # a released buffer as a kernel argument
    with pytest.raises(cl.ReleasedHandleError):
        queue.enqueue_nd_range_kernel(kernel, N)
    with pytest.raises(cl.ReleasedHandleError):
        event.wait()
    with pytest.raises(cl.ReleasedHandleError):
        cl.wait_for_events([event])
    with pytest.raises(cl.ReleasedHandleError):
        queue.enqueue_write_buffer(context.create_buffer(size=4), np.ones(1, np.float32), wait_for=[event])
    live.release()

    other = cl.create_context([device])
    other.release()
    with pytest.raises(cl.ReleasedHandleError):
        other.create_buffer(raw.CL_MEM_READ_WRITE, 16)
    with pytest.raises(cl.ReleasedHandleError):
        other.create_program_with_source(SOURCE)
    with pytest.raises(cl.ReleasedHandleError):
        other.create_command_queue_with_properties(device)
    with pytest.raises(cl.ReleasedHandleError):
        other.devices


def test_with_releases(device, implicit_refs):
    # A child's hold on the context shows in its count where the driver counts it (PoCL does, NVIDIA
    # not); a raw witness reference shows that leaving the block gave the binding's reference back.
    with cl.create_context([device]) as context:
        assert isinstance(context, cl.Context) and not context.released
        with context.create_buffer(raw.CL_MEM_READ_WRITE, 64) as buffer:
            assert context.reference_count == 1 + implicit_refs.buffer_on_context
            assert buffer.size == 64
            witness = Witness(buffer)
        assert buffer.released and witness.count() == 1
        witness.release()
        assert context.reference_count == 1
        with context.create_program_with_source(SOURCE) as program:
            assert context.reference_count == 1 + implicit_refs.program_on_context
            witness = Witness(program)
        assert program.released and witness.count() == 1
        witness.release()
        assert context.reference_count == 1
        witness = Witness(context)
    assert context.released and witness.count() == 1
    witness.release()


def test_with_releases_on_exception(context, implicit_refs):
    before = context.reference_count
    with pytest.raises(RuntimeError, match="boom"):
        with context.create_buffer(raw.CL_MEM_READ_WRITE, 64) as buffer:
            assert context.reference_count == before + implicit_refs.buffer_on_context
            witness = Witness(buffer)
            raise RuntimeError("boom")
    assert buffer.released and witness.count() == 1     # only the witness's reference is left
    witness.release()
    assert context.reference_count == before


def test_from_handle_refuses_null():
    for cls in (cl.Context, cl.CommandQueue, cl.Buffer, cl.Program, cl.Kernel, cl.Event, cl.Platform, cl.Device):
        for null in (0, None, cls._ctype()):
            with pytest.raises(ValueError, match="NULL"):
                cls.from_handle(null)


def test_from_handle_accepts_raw_values_of_every_form(context):
    before = context.reference_count
    h = context.handle
    forms = [h, h.value, raw.cl_context(h.value), ctypes.c_void_p(h.value)]
    wrappers = [cl.Context.from_handle(form) for form in forms]
    assert context.reference_count == before + len(forms)
    assert all(w == context for w in wrappers)
    assert len({context, *wrappers}) == 1           # one hash bucket: the same handle value
    for w in wrappers:
        w.release()
    assert context.reference_count == before


# --------------------------------------------------------------------------- #
# equality, hashing, pickling
# --------------------------------------------------------------------------- #

def test_equality_and_hash_by_handle_value(device, context):
    a = context.create_buffer(raw.CL_MEM_READ_WRITE, 16)
    b = context.create_buffer(raw.CL_MEM_READ_WRITE, 16)
    a2 = cl.Buffer.from_handle(a.handle)
    assert a == a2 and not (a != a2)
    assert a != b
    assert hash(a) == hash(a2)
    assert {a: 1}[a2] == 1
    assert len({a, a2, b}) == 2
    # Different classes are never equal, even over one address.
    assert a != a.handle and a != a.handle.value
    assert context != a
    # The equality survives release (it is by value, not by liveness).
    a2.release()
    assert a == a2
    for obj in (a, b):
        obj.release()


def test_equal_devices_and_platforms_from_separate_queries(device):
    again = [d for p in cl.get_platform_ids() for d in p.get_device_ids() if d == device]
    assert len(again) == 1
    assert hash(again[0]) == hash(device)
    assert again[0].platform == device.platform
    assert again[0].platform is not device.platform


@pytest.mark.parametrize("kind", KINDS)
def test_pickling_is_refused(objects, kind):
    obj = objects[kind][0]
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(obj)
    with pytest.raises(TypeError):
        copy.copy(obj)
    assert not obj.released


def test_pickling_platform_and_device_is_refused(device):
    for obj in (device, device.platform):
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(obj)


# --------------------------------------------------------------------------- #
# objects returned by queries
# --------------------------------------------------------------------------- #

def test_queried_objects_are_retained_wrappers(device, context, queue, program):
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, N * 4)
    kernel = program.create_kernel("scale")
    event = queue.enqueue_write_buffer(buffer, np.arange(N, dtype=np.float32))
    queries = [
        (queue, "context", context), (queue, "device", device),
        (buffer, "context", context), (program, "context", context),
        (kernel, "program", program), (kernel, "context", context),
        (event, "context", context),
    ]
    for owner, attribute, original in queries:
        before = original.reference_count
        got = getattr(owner, attribute)
        assert type(got) is type(original)
        assert got == original and hash(got) == hash(original)
        assert got is not original
        if isinstance(original, cl.Device):
            assert original.reference_count == before == 1   # root devices are not counted
        else:
            assert original.reference_count == before + 1    # the wrapper holds its own reference
        got.release()
        assert original.reference_count == before
        assert not original.released
    # An event returned by an enqueue method answers CL_EVENT_COMMAND_QUEUE with its parent, the
    # CommandQueue object itself, without asking the driver (which may have deleted a released queue).
    before = queue.reference_count
    assert event.command_queue is queue and event.get_info(raw.CL_EVENT_COMMAND_QUEUE) is queue
    assert queue.reference_count == before
    # Tuples of devices, and the device's platform.
    devices = context.devices
    assert devices == (device,) and program.devices == (device,)
    assert device.platform in cl.get_platform_ids()

    # The originals still work after the queried wrappers were released.
    kernel.set_args(buffer, np.float32(3))
    queue.enqueue_nd_range_kernel(kernel, N).wait()
    out = queue.enqueue_read_buffer(buffer).view(np.float32)
    np.testing.assert_array_equal(out, np.arange(N, dtype=np.float32) * 3)
    for obj in (event, kernel, buffer):
        obj.release()


def test_queried_wrapper_outlives_its_source(device, implicit_refs):
    context = cl.create_context([device])
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    same = buffer.context
    held = implicit_refs.buffer_on_context          # the buffer's hold, where the driver counts it
    assert same.reference_count == 2 + held         # the original's and ours (from the query)
    context.release()
    assert same.reference_count == 1 + held         # ours
    buffer.release()
    assert same.reference_count == 1
    assert same.devices == (device,)
    same.release()


# --------------------------------------------------------------------------- #
# garbage collection
# --------------------------------------------------------------------------- #

def test_garbage_collection_releases(context, queue, program, implicit_refs):
    # Parents count their children's holds where the driver counts them (PoCL does, NVIDIA not);
    # a raw witness reference shows on every driver that collecting gave the binding's reference back.
    refs = implicit_refs
    before = context.reference_count
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    assert context.reference_count == before + refs.buffer_on_context
    witness = Witness(buffer)
    del buffer
    gc.collect()
    assert witness.count() == 1
    witness.release()
    assert context.reference_count == before

    kernel = program.create_kernel("add")
    assert program.reference_count == 1 + refs.kernel_on_program
    witness = Witness(kernel)
    del kernel
    gc.collect()
    assert witness.count() == 1
    witness.release()
    assert program.reference_count == 1

    # A queried wrapper nobody keeps is released as soon as it is dropped.
    for _ in range(10):
        assert queue.context == context
    gc.collect()
    assert context.reference_count == before

    # An object in a reference cycle is released by the cycle collector.
    holder = {"buffer": context.create_buffer(raw.CL_MEM_READ_WRITE, 64)}
    holder["self"] = holder
    assert context.reference_count == before + refs.buffer_on_context
    witness = Witness(holder["buffer"])
    del holder
    gc.collect()
    assert witness.count() == 1
    witness.release()
    assert context.reference_count == before


def test_del_after_release_does_nothing(context):
    before = context.reference_count
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    buffer.release()
    assert context.reference_count == before
    del buffer
    gc.collect()
    assert context.reference_count == before
    assert context.num_devices == 1


# --------------------------------------------------------------------------- #
# release order
# --------------------------------------------------------------------------- #

def test_context_released_before_its_buffers_and_queue(device):
    context = cl.create_context([device])
    queue = context.create_command_queue_with_properties(device)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, N * 4)
    program = context.create_program_with_source(SOURCE).build()
    context.release()
    # Everything made from the context keeps working: the driver keeps the context alive.
    data = np.linspace(-1, 1, N).astype(np.float32)
    queue.enqueue_write_buffer(buffer, data)
    kernel = program.create_kernel("add")
    kernel.set_args(buffer, np.float32(0.5))
    queue.enqueue_nd_range_kernel(kernel, N).wait()
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.float32), data + np.float32(0.5))
    extra = context_of = buffer.context
    assert context_of.devices == (device,)
    second = context_of.create_buffer(raw.CL_MEM_READ_WRITE, 8)
    assert second.size == 8
    for obj in (second, kernel, program, buffer, queue):
        obj.release()
    # PoCL may free the queue on its own thread, once its last command's event is done with.
    assert _settled(lambda: extra.reference_count, 1) == 1   # only the queried wrapper is left
    extra.release()


def test_program_released_before_its_kernels(context, queue, implicit_refs):
    program = context.create_program_with_source(SOURCE).build()
    kernels = program.create_kernels_in_program()
    program.release()
    by_name = {k.function_name: k for k in kernels}
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR,
                                   host_buffer=np.full(N, 2, np.float32))
    by_name["scale"].set_args(buffer, np.float32(5))
    queue.enqueue_nd_range_kernel(by_name["scale"], N)
    by_name["add"].set_args(buffer, np.float32(-1))
    queue.enqueue_nd_range_kernel(by_name["add"], N).wait()
    assert (queue.enqueue_read_buffer(buffer).view(np.float32) == 9).all()
    owner = by_name["add"].program
    assert owner.reference_count == 1 + len(kernels) * implicit_refs.kernel_on_program   # ours (+ the kernels')
    assert sorted(owner.kernel_names.split(";")) == ["add", "scale"]
    for k in kernels:
        k.release()
    assert owner.reference_count == 1
    owner.release()
    buffer.release()


def test_queue_released_before_its_events(context, device):
    queue = context.create_command_queue_with_properties(device)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    event = queue.enqueue_write_buffer(buffer, np.arange(16, dtype=np.float32), blocking=False)
    queue.release()
    # The pending command still completes, and the event still answers for itself.  (Its
    # CL_EVENT_COMMAND_QUEUE may now name a deleted queue: the specification lets a driver delete
    # a released queue once its commands are done, so it is not queried here.)
    event.wait()
    assert event.command_execution_status == cl.CommandExecutionStatus.COMPLETE
    assert event.command_type == cl.CommandType.WRITE_BUFFER
    assert event.context == context
    other = context.create_command_queue_with_properties(device)
    out = other.enqueue_read_buffer(buffer).view(np.float32)
    np.testing.assert_array_equal(out, np.arange(16, dtype=np.float32))
    for obj in (other, event, buffer):
        obj.release()


# --------------------------------------------------------------------------- #
# devices: root devices are not counted, sub-devices are
# --------------------------------------------------------------------------- #

def test_root_device_release_is_a_no_op(device):
    root = cl.Device.from_handle(device.handle)
    assert root.reference_count == 1
    root.release()
    assert root.released and not device.released
    assert device.reference_count == 1
    assert device.name


def test_sub_device_reference_counts(device):
    if device.partition_max_sub_devices < 2 or raw.CL_DEVICE_PARTITION_EQUALLY not in device.partition_properties:
        pytest.skip("the device cannot be partitioned equally")
    props = (raw.cl_device_partition_property * 3)(raw.CL_DEVICE_PARTITION_EQUALLY, 1, 0)
    n = raw.cl_uint()
    checked.clCreateSubDevices(device, props, 0, None, ctypes.byref(n))
    ids = (raw.cl_device_id * n.value)()
    checked.clCreateSubDevices(device, props, n.value, ids, None)
    subs = [cl.Device.from_handle(h, retain=False) for h in ids]
    assert all(s.reference_count == 1 for s in subs)
    sub = subs[0]
    assert sub.parent_device == device
    assert sub.partition_type == ((raw.CL_DEVICE_PARTITION_EQUALLY, 1),)
    extra = cl.Device.from_handle(sub.handle)
    assert sub.reference_count == 2
    extra.release()
    extra.release()
    assert sub.reference_count == 1
    # A context and a queue on a sub-device work like on any device.
    with cl.create_context([sub]) as ctx:
        assert sub.reference_count >= 1
        q = ctx.create_command_queue_with_properties(sub)
        buf = ctx.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=np.arange(4.0))
        assert (q.enqueue_read_buffer(buf).view(np.float64) == np.arange(4.0)).all()
        buf.release()
        q.release()
    assert _settled(lambda: sub.reference_count, 1) == 1
    for s in subs:
        s.release()


def test_handle_is_the_base_of_every_class():
    for cls in (cl.Platform, cl.Device, cl.Context, cl.CommandQueue, cl.MemObject, cl.Buffer, cl.Program,
                cl.Kernel, cl.Event):
        assert issubclass(cls, Handle)
    assert cl.Platform._release_name is None        # platforms are not reference counted


FIRST_KERNEL = """
import sys
before = set(sys.modules)
import array
import opencl_raw as cl
from opencl_raw import raw
device = cl.select_device()
context = cl.create_context([device])
queue = context.create_command_queue_with_properties(device)
kernel = context.create_program_with_source(
    "__kernel void add(__global const int *a, __global int *b, int v)"
    " { size_t i = get_global_id(0); b[i] = a[i] + v; }").build().create_kernel("add")
a = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, host_buffer=array.array("i", range(8)))
b = context.create_buffer(raw.CL_MEM_READ_WRITE, 32)
kernel.set_args(a, b, raw.cl_int(5))
queue.enqueue_nd_range_kernel(kernel, (8,))
out = array.array("i", bytes(32))
queue.enqueue_read_buffer(b, out)
new = sorted(set(sys.modules) - before)
import json
print(json.dumps({"out": list(out), "new": new}))
"""


def test_a_first_kernel_result_imports_only_what_it_needs(cl_target):
    """A process that runs one kernel and reads its result imports none of the modules the
    binding keeps off that path for its start-up time (issue 7): numpy (no numpy host memory
    used), enum (made with the first enum value), threading (locks from _thread), typing, re and
    inspect. Counted against what the interpreter had imported before."""
    import json
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
               OPENCL_RAW_PLATFORM=cl_target.platform_name, OPENCL_RAW_DEVICE=cl_target.device_name)
    # -S: no site module, whose .pth files may import some of them first (pyenv's certifi does)
    done = subprocess.run([sys.executable, "-S", "-c", FIRST_KERNEL], capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["out"] == list(range(5, 13))
    assert "opencl_raw.raw" in result["new"]          # (the check sees the binding's imports)
    kept_off = {"numpy", "enum", "threading", "typing", "re", "inspect"}
    assert kept_off.isdisjoint(result["new"]), sorted(kept_off & set(result["new"]))
