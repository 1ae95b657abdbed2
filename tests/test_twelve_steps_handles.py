"""The twelve steps of an OpenCL host program, written with the handle layer.

One-to-one with ``test_twelve_steps_raw.py`` and ``test_twelve_steps_checked.py``:
each step is a method (or module function) of ``opencl_raw`` named after the C
function it wraps (see ``opencl_raw.naming.METHODS``), marked ``# Step N:``.
Objects own their handles; step 12 releases them and checks, through the
``CL_*_REFERENCE_COUNT`` queries, that nothing was left behind.
"""
from __future__ import annotations

import gc
import time

import numpy as np
import pytest

import opencl_raw as cl
from conftest import POCL_PLATFORM_NAME
from opencl_raw import errors, raw
from opencl_raw.event import pinned_count
from twelve_steps_common import ROUNDS, Witness, inputs, settled
from twelve_steps_common import expected as _expected

KERNEL_SOURCE = """
__kernel void axpb(__global const float *a, __global const float *b,
                   __global float *c, const float k, const int n)
{
    const int i = (int)get_global_id(0);
    if (i < n)
        c[i] = a[i] * k + b[i];
}

__kernel void fill(__global float *c, const float value)
{
    c[get_global_id(0)] = value;
}
"""

BAD_IDENTIFIER = "undeclared_handle_steps_identifier"
BAD_SOURCE = "__kernel void broken(__global float *c) { c[0] = %s; }\n" % BAD_IDENTIFIER

N = 4099                      # not a multiple of any usual work-group size
LOCAL = 64
GLOBAL = (N + LOCAL - 1) // LOCAL * LOCAL
NBYTES = N * 4

def _inputs(seed: int):
    return inputs(N, 2000 + seed)


def _settled(read, wanted):
    return settled(read, wanted, timeout=10.0)


def _release_watched(obj) -> None:
    """``obj.release()``, checked through a raw witness reference: the handle lost exactly one
    reference, whatever the driver counts of its children's holds."""
    witness = Witness(obj)
    before = witness.count()
    obj.release()
    assert witness.count() == before - 1
    witness.release()


def _wait_for_unpins(baseline: int, timeout: float = 10.0) -> None:
    """Completion callbacks run on a driver thread: give them a moment to drop their pins."""
    deadline = time.monotonic() + timeout
    while pinned_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pinned_count() == baseline


@pytest.mark.parametrize("program_from", ["source", "binary"])
def test_twelve_steps_handles(device, program_from):
    pins_before = pinned_count()

    # Step 1: clGetPlatformIDs -> get_platform_ids(); clGetDeviceIDs -> Platform.get_device_ids(); select one.
    platforms = cl.get_platform_ids()
    assert platforms and all(isinstance(p, cl.Platform) for p in platforms)
    candidates = []
    for platform in platforms:
        for candidate in platform.get_device_ids():
            assert isinstance(candidate, cl.Device)
            assert candidate.platform == platform          # CL_DEVICE_PLATFORM, a Platform object
            candidates.append((platform, candidate))
    # The conftest fixture chose by name (env override or PoCL); it is one of those enumerated.
    chosen = [(p, d) for p, d in candidates if d == device]
    assert len(chosen) == 1, [(p.name, d.name) for p, d in candidates]
    platform, device = chosen[0]
    pocl = POCL_PLATFORM_NAME in platform.name
    if pocl:
        assert device.type & cl.DeviceType.CPU

    # Step 2: clCreateContext -> create_context(); clCreateCommandQueueWithProperties ->
    # Context.create_command_queue_with_properties() (with profiling).
    context = cl.create_context([device], {raw.CL_CONTEXT_PLATFORM: platform})
    assert isinstance(context, cl.Context)
    assert context.devices == (device,)
    assert context.properties == ((raw.CL_CONTEXT_PLATFORM, platform.handle.value),)
    queue = context.create_command_queue_with_properties(
        device, {raw.CL_QUEUE_PROPERTIES: raw.CL_QUEUE_PROFILING_ENABLE})
    assert isinstance(queue, cl.CommandQueue)
    assert queue.properties == cl.CommandQueueProperties.PROFILING_ENABLE
    assert queue.device == device and queue.context == context

    # Step 3: clCreateProgramWithSource -> Context.create_program_with_source(), or
    # clCreateProgramWithBinary -> Context.create_program_with_binary() with the binaries of a built program.
    if program_from == "source":
        program = context.create_program_with_source(KERNEL_SOURCE)
        assert program.source == KERNEL_SOURCE
    else:
        built = context.create_program_with_source(KERNEL_SOURCE).build()
        binaries = built.get_info(raw.CL_PROGRAM_BINARIES)
        assert built.binaries == binaries                   # attribute access, same query
        assert len(binaries) == 1 and isinstance(binaries[0], bytes)
        assert len(binaries[0]) == built.binary_sizes[0] > 0
        built.release()
        program = context.create_program_with_binary([device], binaries)
    assert isinstance(program, cl.Program)
    assert program.context == context and program.devices == (device,)

    # Step 4: clCompileProgram -> Program.compile() and clLinkProgram -> Context.link_program()
    # (source), or clBuildProgram -> Program.build() (binary).
    if program_from == "source":
        assert program.compile("-cl-std=CL1.2") is program
        assert program.get_build_info(device, raw.CL_PROGRAM_BINARY_TYPE) == raw.CL_PROGRAM_BINARY_TYPE_COMPILED_OBJECT
        linked = context.link_program([program])
        program.release()                                  # the compiled object is no longer needed
        program = linked
    else:
        assert program.build() is program
        if pocl:                                            # others may serialise a rebuilt binary differently
            assert program.binaries == binaries             # the round trip kept the bytes
    assert program.get_build_info(device, raw.CL_PROGRAM_BUILD_STATUS) == cl.BuildStatus.SUCCESS
    assert program.get_build_info(device, raw.CL_PROGRAM_BINARY_TYPE) == raw.CL_PROGRAM_BINARY_TYPE_EXECUTABLE
    assert sorted(program.kernel_names.split(";")) == ["axpb", "fill"]

    # Step 5: clCreateKernel -> Program.create_kernel().
    kernel = program.create_kernel("axpb")
    assert isinstance(kernel, cl.Kernel)
    assert kernel.function_name == "axpb" and kernel.num_args == 5

    # Step 6: clCreateBuffer -> Context.create_buffer() (inputs read-only, output write-only for the kernel;
    # the output starts as NaN so that an element the kernel skipped is noticed).
    buffer_a = context.create_buffer(raw.CL_MEM_READ_ONLY, NBYTES)
    buffer_b = context.create_buffer(raw.CL_MEM_READ_ONLY, NBYTES)
    buffer_c = context.create_buffer(raw.CL_MEM_WRITE_ONLY | raw.CL_MEM_COPY_HOST_PTR,
                                     host_buffer=np.full(N, np.nan, dtype=np.float32))
    for buffer in (buffer_a, buffer_b, buffer_c):
        assert isinstance(buffer, cl.Buffer) and buffer.size == NBYTES == buffer.get_info(raw.CL_MEM_SIZE)

    events = []   # every event returned to us, released in step 12
    # Step 11: repeat steps 7-10 with a different scalar (and transfer method) each round.
    for round_index, (write_method, read_method, k) in enumerate(ROUNDS):
        host_a, host_b = _inputs(round_index)

        # Step 7: clSetKernelArg -> Kernel.set_arg() one by one, or Kernel.set_args() all at once.
        if round_index % 2:
            kernel.set_args(buffer_a, buffer_b, buffer_c, np.float32(k), np.int32(N))
        else:
            kernel.set_arg(0, buffer_a)
            kernel.set_arg(1, buffer_b)
            kernel.set_arg(2, buffer_c)
            kernel.set_arg(3, np.float32(k))
            kernel.set_arg(4, np.int32(N))

        # Step 8: clEnqueueWriteBuffer -> CommandQueue.enqueue_write_buffer() (blocking, or
        # non-blocking and waited on), or clEnqueueMapBuffer / clEnqueueUnmapMemObject.
        if write_method == "blocking":
            events.append(queue.enqueue_write_buffer(buffer_a, host_a))
            events.append(queue.enqueue_write_buffer(buffer_b, host_b, blocking=True))
            assert all(e.command_execution_status == cl.CommandExecutionStatus.COMPLETE for e in events[-2:])
        elif write_method == "events":
            write_a = queue.enqueue_write_buffer(buffer_a, host_a, blocking=False)
            write_b = queue.enqueue_write_buffer(buffer_b, host_b, blocking=False)
            cl.wait_for_events([write_a, write_b])
            events += [write_a, write_b]
        else:
            mapped_a, map_event_a = queue.enqueue_map_buffer(buffer_a, raw.CL_MAP_WRITE_INVALIDATE_REGION,
                                                             dtype=np.float32)
            mapped_b, map_event_b = queue.enqueue_map_buffer(buffer_b, raw.CL_MAP_WRITE_INVALIDATE_REGION,
                                                             size=NBYTES, blocking=False, dtype=np.float32)
            map_event_b.wait()
            assert mapped_a.shape == mapped_b.shape == (N,)
            mapped_a[:] = host_a
            mapped_b[:] = host_b
            if pocl:                                        # CL_MEM_MAP_COUNT is a debugging aid, not kept by all
                assert buffer_a.map_count == 1
            unmap_a = queue.enqueue_unmap_mem_object(buffer_a, mapped_a)
            unmap_b = queue.enqueue_unmap_mem_object(buffer_b, mapped_b)
            del mapped_a, mapped_b                          # unmapped: the arrays must not be used again
            cl.wait_for_events([unmap_a, unmap_b])
            if pocl:                                        # PoCL lowers it a moment after the unmap completes
                assert settled(lambda: buffer_a.map_count, 0) == 0
            events += [map_event_a, map_event_b, unmap_a, unmap_b]

        # Step 9: clEnqueueNDRangeKernel -> CommandQueue.enqueue_nd_range_kernel(); wait; profile.
        kernel_event = queue.enqueue_nd_range_kernel(kernel, GLOBAL, LOCAL)
        events.append(kernel_event)
        kernel_event.wait()
        assert kernel_event.command_execution_status == cl.CommandExecutionStatus.COMPLETE
        assert kernel_event.command_type == cl.CommandType.NDRANGE_KERNEL
        start = kernel_event.get_profiling_info(raw.CL_PROFILING_COMMAND_START)
        end = kernel_event.get_profiling_info(raw.CL_PROFILING_COMMAND_END)
        assert isinstance(start, int) and start > 0
        assert end >= start                                 # nanoseconds
        assert kernel_event.duration_ns == end - start

        # Step 10: clEnqueueReadBuffer -> CommandQueue.enqueue_read_buffer(), or map for reading and unmap.
        host_c = np.full(N, np.nan, dtype=np.float32)
        if read_method == "blocking":
            events.append(queue.enqueue_read_buffer(buffer_c, host_c))
        elif read_method == "events":
            read_event = queue.enqueue_read_buffer(buffer_c, host_c, blocking=False, wait_for=[kernel_event])
            read_event.wait()
            events.append(read_event)
        else:
            mapped_c, map_event_c = queue.enqueue_map_buffer(buffer_c, raw.CL_MAP_READ, dtype=np.float32)
            host_c[:] = mapped_c
            unmap_c = queue.enqueue_unmap_mem_object(buffer_c, mapped_c)
            del mapped_c
            unmap_c.wait()
            events += [map_event_c, unmap_c]

        np.testing.assert_allclose(host_c, _expected(host_a, host_b, k), rtol=1e-6, atol=1e-5,
                                   err_msg=f"round {round_index}: write={write_method} read={read_method} k={k}")

    # Step 12: clRelease* -> release(), checking through reference counts that nothing is left behind.
    queue.finish()
    _wait_for_unpins(pins_before)
    for event in reversed(events):
        # The driver may hold events too (wait lists, the queue's last command): the count is at least ours.
        # A leaked event would hold its queue, and the queue the context: the last check below sees it.
        assert event.reference_count >= 1
        event.release()
    assert kernel.reference_count == 1
    kernel.release()
    assert program.reference_count == 1
    program.release()
    for buffer in (buffer_a, buffer_b, buffer_c):
        assert buffer.reference_count == 1
        buffer.release()
    queue.release()
    # PoCL may free the queue on its own thread, once its last command's event is done with.
    assert _settled(lambda: context.reference_count, 1) == 1   # only our own reference is left
    context.release()
    for obj in [context, queue, program, kernel, buffer_a, buffer_b, buffer_c] + events:
        assert obj.released
        with pytest.raises(cl.ReleasedHandleError):
            obj.reference_count


def test_step3_program_with_il_is_refused(device, context):
    if device.il_version.strip():
        pytest.skip(f"device accepts IL ({device.il_version!r}); this test is about a device without IL")
    # A SPIR-V module header: magic, version 1.0, generator, bound, schema.
    spirv = np.array([0x07230203, 0x00010000, 0, 1, 0], dtype=np.uint32).tobytes()
    pocl = POCL_PLATFORM_NAME in device.platform.name
    expected = errors.InvalidValue if pocl else (errors.InvalidValue, errors.InvalidOperation)
    if device.version_tuple < (2, 1):
        # Before OpenCL 2.1 there is no clCreateProgramWithIL to call: the binding says so instead.
        with pytest.raises((cl.FunctionUnavailableError, errors.CLError)):
            context.create_program_with_il(np.zeros(5, dtype=np.uint32).tobytes())
        return
    # Step 3: clCreateProgramWithIL -> Context.create_program_with_il(): the driver's error, explained.
    with pytest.raises(expected) as caught:
        context.create_program_with_il(spirv)
    error = caught.value
    assert error.function == "clCreateProgramWithIL"
    assert "CL_DEVICE_IL_VERSION" in str(error)
    if pocl:
        assert (type(error), error.code, error.name) == (errors.InvalidValue, -30, "CL_INVALID_VALUE")
        assert str(error).startswith("clCreateProgramWithIL: CL_INVALID_VALUE (-30): ")
    with pytest.raises(TypeError):
        context.create_program_with_il("not bytes")
    # Nothing was created, and the context still works.
    assert context.reference_count == 1
    program = context.create_program_with_source(KERNEL_SOURCE).build()
    assert program.num_kernels == 2
    program.release()


@pytest.mark.parametrize("method", ["compile", "build"])
def test_step4_failed_build_raises_with_logs(device, context, method):
    program = context.create_program_with_source(BAD_SOURCE)
    pocl = POCL_PLATFORM_NAME in device.platform.name
    if method == "compile":
        expected = errors.CompileProgramFailure if pocl else (errors.CompileProgramFailure,
                                                              errors.BuildProgramFailure)
    else:
        expected = errors.BuildProgramFailure
    # Step 4: clCompileProgram / clBuildProgram failing: the exception carries the logs per Device.
    with pytest.raises(expected) as caught:
        getattr(program, method)()
    error = caught.value
    assert error.function == {"compile": "clCompileProgram", "build": "clBuildProgram"}[method]
    assert list(error.build_logs) == [device]
    key = next(iter(error.build_logs))
    assert isinstance(key, cl.Device)
    log = error.build_logs[device]
    assert BAD_IDENTIFIER in log
    assert log == program.get_build_info(device, raw.CL_PROGRAM_BUILD_LOG)
    assert log.rstrip() in str(error)
    if pocl:
        assert "use of undeclared identifier" in str(error)
    assert program.get_build_info(device, raw.CL_PROGRAM_BUILD_STATUS) == cl.BuildStatus.ERROR
    with pytest.raises((errors.InvalidProgramExecutable, errors.InvalidKernelName)):
        program.create_kernel("broken")
    program.release()
    assert context.reference_count == 1


def test_step5_create_kernels_in_program(device, context, queue, implicit_refs):
    program = context.create_program_with_source(KERNEL_SOURCE).build()
    # Step 5, the other way: clCreateKernelsInProgram -> Program.create_kernels_in_program().
    kernels = program.create_kernels_in_program()
    assert all(isinstance(k, cl.Kernel) for k in kernels)
    by_name = {k.function_name: k for k in kernels}
    assert sorted(by_name) == ["axpb", "fill"]
    assert all(k.reference_count == 1 for k in kernels)    # adopted, not retained again
    # Ours, plus each kernel's hold on its program where the driver counts it (PoCL does, NVIDIA not).
    assert program.reference_count == 1 + 2 * implicit_refs.kernel_on_program
    assert all(k.program == program for k in kernels)

    buffer = context.create_buffer(raw.CL_MEM_WRITE_ONLY, NBYTES)
    by_name["fill"].set_args(buffer, np.float32(12.5))
    queue.enqueue_nd_range_kernel(by_name["fill"], N).wait()
    out = queue.enqueue_read_buffer(buffer).view(np.float32)
    assert out.shape == (N,) and (out == np.float32(12.5)).all()

    for k in kernels:
        k.release()
    assert program.reference_count == 1
    buffer.release()
    program.release()
    assert context.reference_count == 1 + implicit_refs.queue_on_context    # ours (and the fixture queue's)


def test_step12_release_leaves_nothing_behind(device, implicit_refs):
    context = cl.create_context([device])
    assert context.reference_count == 1
    queue = context.create_command_queue_with_properties(device, raw.CL_QUEUE_PROFILING_ENABLE)
    assert queue.reference_count == 1
    buffers = [context.create_buffer(flags, NBYTES)
               for flags in (raw.CL_MEM_READ_ONLY, raw.CL_MEM_READ_ONLY, raw.CL_MEM_WRITE_ONLY)]
    program = context.create_program_with_source(KERNEL_SOURCE).build()
    # The queue, each buffer and the program hold the context; PoCL counts those holds, NVIDIA does not.
    refs = implicit_refs
    held = refs.queue_on_context + 3 * refs.buffer_on_context + refs.program_on_context
    assert context.reference_count == 1 + held
    kernel = program.create_kernel("axpb")
    assert kernel.reference_count == 1
    assert program.reference_count == 1 + refs.kernel_on_program

    # Run it once so that commands and events have come and gone.
    host_a, host_b = _inputs(99)
    kernel.set_args(*buffers, np.float32(-2.0), np.int32(N))
    write_a = queue.enqueue_write_buffer(buffers[0], host_a, blocking=False)
    write_b = queue.enqueue_write_buffer(buffers[1], host_b, blocking=False)
    run = queue.enqueue_nd_range_kernel(kernel, N, wait_for=[write_a, write_b])
    host_c = np.empty(N, dtype=np.float32)
    read = queue.enqueue_read_buffer(buffers[2], host_c, blocking=False, wait_for=[run])
    cl.wait_for_events([write_a, write_b, run, read])
    queue.finish()
    np.testing.assert_allclose(host_c, _expected(host_a, host_b, -2.0), rtol=1e-6, atol=1e-5)

    # Step 12: release everything, checking the reference counts on the way.
    for event in (read, run, write_b, write_a):
        assert event.reference_count >= 1       # PoCL also holds events in wait lists and as the last command
        event.release()
    assert context.reference_count == 1 + held
    assert kernel.reference_count == 1
    _release_watched(kernel)
    assert program.reference_count == 1
    _release_watched(program)
    assert context.reference_count == 1 + held - refs.program_on_context
    for released, buffer in enumerate(buffers, start=1):
        assert buffer.reference_count == 1
        _release_watched(buffer)
        assert context.reference_count == 1 + held - refs.program_on_context - released * refs.buffer_on_context
    queue.release()
    assert _settled(lambda: context.reference_count, 1) == 1
    context.release()
    context.release()                                       # idempotent


def test_step12_garbage_collection_releases_too(device, implicit_refs):
    """Dropping the last Python reference releases as well: each object's count comes back to the
    witness's 1, and the context's to 1."""
    context = cl.create_context([device])
    queue = context.create_command_queue_with_properties(device)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, NBYTES)
    program = context.create_program_with_source(KERNEL_SOURCE).build()
    kernel = program.create_kernel("fill")
    kernel.set_args(buffer, np.float32(1.5))
    event = queue.enqueue_nd_range_kernel(kernel, N)
    event.wait()
    refs = implicit_refs       # the driver's own holds on the context, where it counts them (PoCL, not NVIDIA)
    assert context.reference_count == 1 + refs.queue_on_context + refs.buffer_on_context + refs.program_on_context
    # Raw references of the test's own let it read each count once the wrappers are collected.
    witnesses = {"kernel": Witness(kernel), "program": Witness(program), "buffer": Witness(buffer),
                 "queue": Witness(queue)}
    counts = [w.count() for w in witnesses.values()]     # ours and the witness's (PoCL: the event holds its queue)
    assert counts[:3] == [2, 2 + refs.kernel_on_program, 2] and counts[3] >= 2
    del queue, buffer, program, kernel, event
    gc.collect()
    for name, witness in witnesses.items():      # children first: then nothing of ours holds the rest
        assert _settled(witness.count, 1) == 1, f"the collected {name} kept a reference"
        witness.release()
    assert _settled(lambda: context.reference_count, 1) == 1
