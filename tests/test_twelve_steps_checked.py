"""The twelve steps of an OpenCL host program, written against ``opencl_raw.checked``.

The same C calls with the same positional arguments as ``test_twelve_steps_raw.py``
(ctypes out-parameters, arrays), but no status handling: a failure raises the
``CLError`` subclass for its code, and creators return the object (no
``errcode_ret``).  Types and constants come from ``opencl_raw.raw``.
"""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

from conftest import raw_build_program, raw_device_name, raw_is_pocl, raw_platform_name
from twelve_steps_common import BAD_IDENTIFIER, BAD_SOURCE, KERNEL_SOURCE, ROUNDS, inputs, mapped_floats
from twelve_steps_common import expected as _expected, settled as _settled
from opencl_raw import checked, errors, raw

N = 4099                      # not a multiple of any usual work-group size
NBYTES = N * ctypes.sizeof(raw.cl_float)


def _inputs(seed: int):
    return inputs(N, 1000 + seed)


def _mapped_floats(address: int):
    return mapped_floats(address, N)



def _ref_count(get_info, handle, param) -> int:
    count = raw.cl_uint()
    get_info(handle, param, ctypes.sizeof(count), raw.byref(count), None)
    return count.value


@pytest.mark.parametrize("program_from", ["source", "binary"])
def test_twelve_steps_checked(raw_platform, raw_device, program_from):
    # Step 1: enumerate ALL platforms and ALL their devices (count, then fill), select one.
    num_platforms = raw.cl_uint()
    checked.clGetPlatformIDs(0, None, raw.byref(num_platforms))
    assert num_platforms.value >= 1
    platforms = (raw.cl_platform_id * num_platforms.value)()
    checked.clGetPlatformIDs(num_platforms.value, platforms, None)
    candidates = []
    for platform_id in platforms:
        num_devices = raw.cl_uint()
        try:
            checked.clGetDeviceIDs(platform_id, raw.CL_DEVICE_TYPE_ALL, 0, None, raw.byref(num_devices))
        except errors.DeviceNotFound:
            continue
        devices = (raw.cl_device_id * num_devices.value)()
        checked.clGetDeviceIDs(platform_id, raw.CL_DEVICE_TYPE_ALL, num_devices.value, devices, None)
        for device_id in devices:
            owner = raw.cl_platform_id()
            checked.clGetDeviceInfo(device_id, raw.CL_DEVICE_PLATFORM, ctypes.sizeof(owner), raw.byref(owner), None)
            assert owner.value == platform_id.value
            candidates.append((platform_id, device_id, raw_platform_name(platform_id), raw_device_name(device_id)))
    # The conftest fixture chose by name (env override or PoCL); it must be one of those enumerated.
    chosen = [c for c in candidates if c[1].value == raw_device.value]
    assert len(chosen) == 1, [c[2:] for c in candidates]
    platform, device = chosen[0][0], chosen[0][1]
    assert platform.value == raw_platform.value

    # Step 2: create a context and a command queue (with profiling).
    context_properties = (raw.cl_context_properties * 3)(raw.CL_CONTEXT_PLATFORM, platform.value, 0)
    context = checked.clCreateContext(context_properties, 1, raw.byref(device), None, None)
    assert isinstance(context, raw.cl_context) and context
    queue_properties = (raw.cl_queue_properties * 3)(raw.CL_QUEUE_PROPERTIES, raw.CL_QUEUE_PROFILING_ENABLE, 0)
    queue = checked.clCreateCommandQueueWithProperties(context, device, queue_properties)
    assert isinstance(queue, raw.cl_command_queue) and queue
    queue_flags = raw.cl_command_queue_properties()
    checked.clGetCommandQueueInfo(queue, raw.CL_QUEUE_PROPERTIES, ctypes.sizeof(queue_flags),
                                  raw.byref(queue_flags), None)
    assert queue_flags.value & raw.CL_QUEUE_PROFILING_ENABLE

    # Step 3: load the program, from OpenCL C source or from a device binary.
    if program_from == "source":
        strings = (ctypes.c_char_p * 1)(KERNEL_SOURCE)
        lengths = (ctypes.c_size_t * 1)(len(KERNEL_SOURCE))
        program = checked.clCreateProgramWithSource(context, 1, strings, lengths)
    else:
        built = raw_build_program(context, device, KERNEL_SOURCE)
        num_program_devices = raw.cl_uint()
        checked.clGetProgramInfo(built, raw.CL_PROGRAM_NUM_DEVICES, ctypes.sizeof(num_program_devices),
                                 raw.byref(num_program_devices), None)
        assert num_program_devices.value == 1
        binary_sizes = (ctypes.c_size_t * num_program_devices.value)()
        checked.clGetProgramInfo(built, raw.CL_PROGRAM_BINARY_SIZES, ctypes.sizeof(binary_sizes), binary_sizes, None)
        assert binary_sizes[0] > 0
        storage = [(ctypes.c_ubyte * size)() for size in binary_sizes]
        binaries = (ctypes.POINTER(ctypes.c_ubyte) * num_program_devices.value)(
            *[ctypes.cast(block, ctypes.POINTER(ctypes.c_ubyte)) for block in storage])
        checked.clGetProgramInfo(built, raw.CL_PROGRAM_BINARIES, ctypes.sizeof(binaries), binaries, None)
        assert any(bytes(storage[0]))
        checked.clReleaseProgram(built)
        binary_status = (raw.cl_int * 1)(-1)
        program = checked.clCreateProgramWithBinary(context, 1, raw.byref(device), binary_sizes, binaries,
                                                    binary_status)
        assert binary_status[0] == raw.CL_SUCCESS     # per-device status is still an out-parameter
    assert isinstance(program, raw.cl_program) and program

    # Step 4: compile and link (source), or build the loaded executable binary.
    if program_from == "source":
        checked.clCompileProgram(program, 1, raw.byref(device), b"-cl-std=CL1.2", 0, None, None, None, None)
        input_programs = (raw.cl_program * 1)(program)
        linked = checked.clLinkProgram(context, 1, raw.byref(device), None, 1, input_programs, None, None)
        checked.clReleaseProgram(program)     # the compiled object is no longer needed
        program = linked
    else:
        checked.clBuildProgram(program, 1, raw.byref(device), None, None, None)
    binary_type = raw.cl_program_binary_type()
    checked.clGetProgramBuildInfo(program, device, raw.CL_PROGRAM_BINARY_TYPE, ctypes.sizeof(binary_type),
                                  raw.byref(binary_type), None)
    assert binary_type.value == raw.CL_PROGRAM_BINARY_TYPE_EXECUTABLE

    # Step 5: create the kernel.
    kernel = checked.clCreateKernel(program, b"axpb")
    assert isinstance(kernel, raw.cl_kernel) and kernel

    # Step 6: create the buffers (inputs read-only, output write-only for the kernel).
    buffer_a = checked.clCreateBuffer(context, raw.CL_MEM_READ_ONLY, NBYTES, None)
    buffer_b = checked.clCreateBuffer(context, raw.CL_MEM_READ_ONLY, NBYTES, None)
    buffer_c = checked.clCreateBuffer(context, raw.CL_MEM_WRITE_ONLY, NBYTES, None)

    events = []   # every event returned to us, released in step 12
    # Step 11: repeat steps 7-10 with a different scalar (and transfer method) each round.
    for round_index, (write_method, read_method, k) in enumerate(ROUNDS):
        host_a, host_b = _inputs(round_index)

        # Step 7: set the kernel arguments (cl_mem by reference, then a cl_float scalar).
        checked.clSetKernelArg(kernel, 0, ctypes.sizeof(raw.cl_mem), raw.byref(buffer_a))
        checked.clSetKernelArg(kernel, 1, ctypes.sizeof(raw.cl_mem), raw.byref(buffer_b))
        checked.clSetKernelArg(kernel, 2, ctypes.sizeof(raw.cl_mem), raw.byref(buffer_c))
        scalar = raw.cl_float(k)
        checked.clSetKernelArg(kernel, 3, ctypes.sizeof(scalar), raw.byref(scalar))

        # Step 8: write the input buffers.
        if write_method == "blocking":
            checked.clEnqueueWriteBuffer(queue, buffer_a, raw.CL_TRUE, 0, NBYTES, host_a.ctypes.data, 0, None, None)
            checked.clEnqueueWriteBuffer(queue, buffer_b, raw.CL_TRUE, 0, NBYTES, host_b.ctypes.data, 0, None, None)
        elif write_method == "events":
            write_events = (raw.cl_event * 2)()
            checked.clEnqueueWriteBuffer(queue, buffer_a, raw.CL_FALSE, 0, NBYTES, host_a.ctypes.data,
                                         0, None, raw.byref(write_events[0]))
            checked.clEnqueueWriteBuffer(queue, buffer_b, raw.CL_FALSE, 0, NBYTES, host_b.ctypes.data,
                                         0, None, raw.byref(write_events[1]))
            checked.clWaitForEvents(2, write_events)
            events.extend(write_events)
        else:  # map, write through the mapped pointer, unmap
            mapped_a = checked.clEnqueueMapBuffer(queue, buffer_a, raw.CL_TRUE, raw.CL_MAP_WRITE_INVALIDATE_REGION,
                                                  0, NBYTES, 0, None, None)
            assert mapped_a
            ctypes.memmove(mapped_a, host_a.ctypes.data, NBYTES)
            mapped_b = checked.clEnqueueMapBuffer(queue, buffer_b, raw.CL_TRUE, raw.CL_MAP_WRITE_INVALIDATE_REGION,
                                                  0, NBYTES, 0, None, None)
            assert mapped_b
            _mapped_floats(mapped_b)[:] = host_b
            unmap_events = (raw.cl_event * 2)()
            checked.clEnqueueUnmapMemObject(queue, buffer_a, mapped_a, 0, None, raw.byref(unmap_events[0]))
            checked.clEnqueueUnmapMemObject(queue, buffer_b, mapped_b, 0, None, raw.byref(unmap_events[1]))
            checked.clWaitForEvents(2, unmap_events)
            events.extend(unmap_events)

        # Step 9: run the kernel over the NDRange (global size, NULL local size), wait, profile.
        global_size = (ctypes.c_size_t * 1)(N)
        kernel_event = raw.cl_event()
        checked.clEnqueueNDRangeKernel(queue, kernel, 1, None, global_size, None, 0, None, raw.byref(kernel_event))
        events.append(kernel_event)
        checked.clWaitForEvents(1, raw.byref(kernel_event))
        execution_status = raw.cl_int()
        checked.clGetEventInfo(kernel_event, raw.CL_EVENT_COMMAND_EXECUTION_STATUS, ctypes.sizeof(execution_status),
                               raw.byref(execution_status), None)
        assert execution_status.value == raw.CL_COMPLETE
        start, end = raw.cl_ulong(), raw.cl_ulong()
        checked.clGetEventProfilingInfo(kernel_event, raw.CL_PROFILING_COMMAND_START, ctypes.sizeof(start),
                                        raw.byref(start), None)
        checked.clGetEventProfilingInfo(kernel_event, raw.CL_PROFILING_COMMAND_END, ctypes.sizeof(end),
                                        raw.byref(end), None)
        assert start.value > 0
        assert end.value >= start.value          # nanoseconds

        # Step 10: read the output buffer.
        host_c = np.full(N, np.nan, dtype=np.float32)
        if read_method == "blocking":
            checked.clEnqueueReadBuffer(queue, buffer_c, raw.CL_TRUE, 0, NBYTES, host_c.ctypes.data, 0, None, None)
        elif read_method == "events":
            read_event = raw.cl_event()
            checked.clEnqueueReadBuffer(queue, buffer_c, raw.CL_FALSE, 0, NBYTES, host_c.ctypes.data,
                                        0, None, raw.byref(read_event))
            events.append(read_event)
            checked.clWaitForEvents(1, raw.byref(read_event))
        else:  # map for reading, copy out through the pointer, unmap
            mapped_c = checked.clEnqueueMapBuffer(queue, buffer_c, raw.CL_TRUE, raw.CL_MAP_READ, 0, NBYTES,
                                                  0, None, None)
            assert mapped_c
            ctypes.memmove(host_c.ctypes.data, mapped_c, NBYTES)
            unmap_event = raw.cl_event()
            checked.clEnqueueUnmapMemObject(queue, buffer_c, mapped_c, 0, None, raw.byref(unmap_event))
            events.append(unmap_event)
            checked.clWaitForEvents(1, raw.byref(unmap_event))

        np.testing.assert_allclose(host_c, _expected(host_a, host_b, k), rtol=1e-6, atol=1e-5,
                                   err_msg=f"round {round_index}: write={write_method} read={read_method} k={k}")

    # Step 12: release everything.
    checked.clFinish(queue)
    for event in events:
        checked.clReleaseEvent(event)
    checked.clReleaseKernel(kernel)
    checked.clReleaseProgram(program)
    for buffer in (buffer_a, buffer_b, buffer_c):
        checked.clReleaseMemObject(buffer)
    checked.clReleaseCommandQueue(queue)
    checked.clReleaseContext(context)


def test_step3_program_with_il_is_refused(raw_platform, raw_device):
    il_version_size = ctypes.c_size_t()
    checked.clGetDeviceInfo(raw_device, raw.CL_DEVICE_IL_VERSION, 0, None, raw.byref(il_version_size))
    il_version = ctypes.create_string_buffer(il_version_size.value + 1)
    checked.clGetDeviceInfo(raw_device, raw.CL_DEVICE_IL_VERSION, il_version_size.value, il_version, None)
    if il_version.value:
        pytest.skip(f"device accepts IL ({il_version.value!r}); this test is about a device without IL")
    context = checked.clCreateContext(None, 1, raw.byref(raw_device), None, None)
    # A SPIR-V module header: magic, version 1.0, generator, bound, schema.
    spirv = (ctypes.c_uint32 * 5)(0x07230203, 0x00010000, 0, 1, 0)
    expected = errors.InvalidValue if raw_is_pocl(raw_platform) else (errors.InvalidValue, errors.InvalidOperation)
    with pytest.raises(expected) as caught:
        checked.clCreateProgramWithIL(context, spirv, ctypes.sizeof(spirv))
    assert caught.value.function == "clCreateProgramWithIL"
    if raw_is_pocl(raw_platform):     # PoCL 3.1 answers CL_INVALID_VALUE
        assert type(caught.value) is errors.InvalidValue
        assert (caught.value.code, caught.value.name) == (-30, "CL_INVALID_VALUE")
        assert str(caught.value) == "clCreateProgramWithIL: CL_INVALID_VALUE (-30)"
    # Plain bytes as IL fail the same way, and the context is still fine afterwards.
    with pytest.raises(errors.CLError):
        checked.clCreateProgramWithIL(context, b"\x03\x02\x23\x07" + bytes(16), 20)
    assert _ref_count(checked.clGetContextInfo, context, raw.CL_CONTEXT_REFERENCE_COUNT) == 1
    checked.clReleaseContext(context)


@pytest.mark.parametrize("function, device_list", [
    ("clCompileProgram", "array"),
    ("clCompileProgram", "byref"),
    ("clBuildProgram", "array"),
    ("clBuildProgram", "byref"),
    ("clBuildProgram", "NULL"),
])
def test_step4_failed_build_raises_with_log(raw_platform, raw_device, function, device_list):
    context = checked.clCreateContext(None, 1, raw.byref(raw_device), None, None)
    program = checked.clCreateProgramWithSource(context, 1, (ctypes.c_char_p * 1)(BAD_SOURCE), None)
    num_devices, devices = {
        "array": (1, (raw.cl_device_id * 1)(raw_device)),
        "byref": (1, raw.byref(raw_device)),
        "NULL": (0, None),
    }[device_list]
    if function == "clCompileProgram":
        expected = errors.CompileProgramFailure
        if not raw_is_pocl(raw_platform):    # Oclgrind, for one, says CL_BUILD_PROGRAM_FAILURE
            expected = (errors.CompileProgramFailure, errors.BuildProgramFailure)
        with pytest.raises(expected) as caught:
            checked.clCompileProgram(program, num_devices, devices, None, 0, None, None, None, None)
    else:
        with pytest.raises(errors.BuildProgramFailure) as caught:
            checked.clBuildProgram(program, num_devices, devices, None, None, None)
    error = caught.value
    assert error.function == function
    assert list(error.build_logs) == [raw_device.value]
    log = error.build_logs[raw_device.value]
    assert BAD_IDENTIFIER in log
    assert BAD_IDENTIFIER in str(error)
    assert log.rstrip() in str(error)
    assert str(error).startswith(f"{function}: {error.name} ({error.code})")
    if raw_is_pocl(raw_platform):
        assert "use of undeclared identifier" in log
    # A failed build leaves no executable behind.
    with pytest.raises((errors.InvalidProgramExecutable, errors.InvalidKernelName)):
        checked.clCreateKernel(program, b"broken")
    checked.clReleaseProgram(program)
    checked.clReleaseContext(context)


def test_step5_create_kernels_in_program(raw_device, implicit_refs):
    context = checked.clCreateContext(None, 1, raw.byref(raw_device), None, None)
    program = raw_build_program(context, raw_device, KERNEL_SOURCE)
    # Step 5, the other way: every kernel of the program (count, then fill).
    num_kernels = raw.cl_uint()
    checked.clCreateKernelsInProgram(program, 0, None, raw.byref(num_kernels))
    assert num_kernels.value == 2
    kernels = (raw.cl_kernel * num_kernels.value)()
    checked.clCreateKernelsInProgram(program, num_kernels.value, kernels, None)
    names = {}
    for kernel in kernels:
        size = ctypes.c_size_t()
        checked.clGetKernelInfo(kernel, raw.CL_KERNEL_FUNCTION_NAME, 0, None, raw.byref(size))
        name = ctypes.create_string_buffer(size.value)
        checked.clGetKernelInfo(kernel, raw.CL_KERNEL_FUNCTION_NAME, size.value, name, None)
        names[name.value.decode()] = kernel
    assert sorted(names) == ["axpb", "fill"]
    # Ours, plus each kernel's hold on its program where the driver counts it (PoCL does, NVIDIA not).
    assert _ref_count(checked.clGetProgramInfo, program, raw.CL_PROGRAM_REFERENCE_COUNT) == \
        1 + 2 * implicit_refs.kernel_on_program
    # Asking for fewer kernels than the program has is the driver's CL_INVALID_VALUE.
    with pytest.raises(errors.InvalidValue):
        checked.clCreateKernelsInProgram(program, 1, (raw.cl_kernel * 1)(), None)

    # Run "fill" from that list, to show the kernels are usable.
    queue = checked.clCreateCommandQueueWithProperties(context, raw_device, None)
    buffer = checked.clCreateBuffer(context, raw.CL_MEM_WRITE_ONLY, NBYTES, None)
    value = raw.cl_float(12.5)
    checked.clSetKernelArg(names["fill"], 0, ctypes.sizeof(raw.cl_mem), raw.byref(buffer))
    checked.clSetKernelArg(names["fill"], 1, ctypes.sizeof(value), raw.byref(value))
    global_size = ctypes.c_size_t(N)
    checked.clEnqueueNDRangeKernel(queue, names["fill"], 1, None, raw.byref(global_size), None, 0, None, None)
    out = np.zeros(N, dtype=np.float32)
    checked.clEnqueueReadBuffer(queue, buffer, raw.CL_TRUE, 0, NBYTES, out.ctypes.data, 0, None, None)
    assert (out == np.float32(12.5)).all()

    checked.clFinish(queue)
    for kernel in kernels:
        checked.clReleaseKernel(kernel)
    # (PoCL's finished command holds "fill", hence the program, a moment after clFinish: see settled)
    assert _settled(lambda: _ref_count(checked.clGetProgramInfo, program, raw.CL_PROGRAM_REFERENCE_COUNT), 1) == 1
    checked.clReleaseMemObject(buffer)
    checked.clReleaseCommandQueue(queue)
    checked.clReleaseProgram(program)
    checked.clReleaseContext(context)


def test_step12_release_leaves_nothing_behind(raw_platform, raw_device, implicit_refs):
    pocl = raw_is_pocl(raw_platform)

    def context_count():
        return _ref_count(checked.clGetContextInfo, context, raw.CL_CONTEXT_REFERENCE_COUNT)

    context = checked.clCreateContext(None, 1, raw.byref(raw_device), None, None)
    assert context_count() == 1
    queue_properties = (raw.cl_queue_properties * 3)(raw.CL_QUEUE_PROPERTIES, raw.CL_QUEUE_PROFILING_ENABLE, 0)
    queue = checked.clCreateCommandQueueWithProperties(context, raw_device, queue_properties)
    assert _ref_count(checked.clGetCommandQueueInfo, queue, raw.CL_QUEUE_REFERENCE_COUNT) == 1
    buffers = [checked.clCreateBuffer(context, flags, NBYTES, None)
               for flags in (raw.CL_MEM_READ_ONLY, raw.CL_MEM_READ_ONLY, raw.CL_MEM_WRITE_ONLY)]
    strings = (ctypes.c_char_p * 1)(KERNEL_SOURCE)
    program = checked.clCreateProgramWithSource(context, 1, strings, None)
    checked.clBuildProgram(program, 0, None, None, None, None)
    # The queue, each buffer and the program hold the context; PoCL counts those holds, NVIDIA does not.
    refs = implicit_refs
    held = refs.queue_on_context + 3 * refs.buffer_on_context + refs.program_on_context
    assert context_count() == 1 + held
    assert _ref_count(checked.clGetProgramInfo, program, raw.CL_PROGRAM_REFERENCE_COUNT) == 1
    kernel = checked.clCreateKernel(program, b"axpb")
    assert _ref_count(checked.clGetProgramInfo, program, raw.CL_PROGRAM_REFERENCE_COUNT) == \
        1 + refs.kernel_on_program
    assert context_count() == 1 + held

    # Run it once so that commands and events have come and gone.
    host_a, host_b = _inputs(99)
    for index, buffer in enumerate(buffers):
        checked.clSetKernelArg(kernel, index, ctypes.sizeof(raw.cl_mem), raw.byref(buffer))
    k = raw.cl_float(-2.0)
    checked.clSetKernelArg(kernel, 3, ctypes.sizeof(k), raw.byref(k))
    events = (raw.cl_event * 4)()
    checked.clEnqueueWriteBuffer(queue, buffers[0], raw.CL_FALSE, 0, NBYTES, host_a.ctypes.data, 0, None,
                                 raw.byref(events[0]))
    checked.clEnqueueWriteBuffer(queue, buffers[1], raw.CL_FALSE, 0, NBYTES, host_b.ctypes.data, 0, None,
                                 raw.byref(events[1]))
    checked.clEnqueueNDRangeKernel(queue, kernel, 1, None, (ctypes.c_size_t * 1)(N), None, 2, events,
                                   raw.byref(events[2]))
    host_c = np.empty(N, dtype=np.float32)
    checked.clEnqueueReadBuffer(queue, buffers[2], raw.CL_FALSE, 0, NBYTES, host_c.ctypes.data, 1,
                                raw.byref(events[2]), raw.byref(events[3]))
    checked.clWaitForEvents(4, events)
    checked.clFinish(queue)
    np.testing.assert_allclose(host_c, _expected(host_a, host_b, -2.0), rtol=1e-6, atol=1e-5)

    # Step 12: release everything, checking the reference counts on the way.
    def queue_count():
        return _ref_count(checked.clGetCommandQueueInfo, queue, raw.CL_QUEUE_REFERENCE_COUNT)

    if pocl:
        assert queue_count() == 1 + len(events)    # each event holds its queue in PoCL
    for event in events:
        checked.clReleaseEvent(event)
    assert context_count() == 1 + held      # events do not hold the context
    assert _ref_count(checked.clGetKernelInfo, kernel, raw.CL_KERNEL_REFERENCE_COUNT) == 1
    checked.clReleaseKernel(kernel)
    assert _ref_count(checked.clGetProgramInfo, program, raw.CL_PROGRAM_REFERENCE_COUNT) == 1
    checked.clReleaseProgram(program)
    assert context_count() == 1 + held - refs.program_on_context
    for released, buffer in enumerate(buffers, start=1):
        assert _ref_count(checked.clGetMemObjectInfo, buffer, raw.CL_MEM_REFERENCE_COUNT) == 1
        checked.clReleaseMemObject(buffer)
        assert context_count() == 1 + held - refs.program_on_context - released * refs.buffer_on_context
    # Our events are gone; once PoCL has let go of its own, only our reference is left.
    assert _settled(queue_count, 1) == 1
    checked.clReleaseCommandQueue(queue)
    # Queue, buffers and program gone: only our own reference is left.
    assert context_count() == 1
    checked.clReleaseContext(context)
