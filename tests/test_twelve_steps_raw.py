"""The twelve steps of an OpenCL host program, written against ``opencl_raw.raw``.

Every call is the C call: out-parameters through ``byref`` or ctypes arrays,
``cl_int errcode_ret`` for creators, and every status asserted against
``CL_SUCCESS``.  The kernel computes ``c[i] = a[i] * k + b[i]`` on float32 and the
results are checked against numpy.  The same flow through the checked layer is
in ``test_twelve_steps_checked.py``.
"""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

from conftest import raw_build_log, raw_build_program, raw_device_name, raw_is_pocl, raw_platform_name
from twelve_steps_common import BAD_IDENTIFIER, BAD_SOURCE, KERNEL_SOURCE, ROUNDS, inputs, mapped_floats
from twelve_steps_common import expected as _expected, settled as _settled
from opencl_raw import raw

CL_SUCCESS = raw.CL_SUCCESS

N = 5003                      # not a multiple of any usual work-group size
NBYTES = N * ctypes.sizeof(raw.cl_float)


def _inputs(seed: int):
    return inputs(N, 0 + seed)


def _mapped_floats(address: int):
    return mapped_floats(address, N)



def _ref_count(get_info, handle, param) -> int:
    count = raw.cl_uint()
    assert get_info(handle, param, ctypes.sizeof(count), raw.byref(count), None) == CL_SUCCESS
    return count.value


@pytest.mark.parametrize("program_from", ["source", "binary"])
def test_twelve_steps_raw(raw_platform, raw_device, program_from):
    # Step 1: enumerate ALL platforms and ALL their devices (count, then fill), select one.
    num_platforms = raw.cl_uint()
    assert raw.clGetPlatformIDs(0, None, raw.byref(num_platforms)) == CL_SUCCESS
    assert num_platforms.value >= 1
    platforms = (raw.cl_platform_id * num_platforms.value)()
    assert raw.clGetPlatformIDs(num_platforms.value, platforms, None) == CL_SUCCESS
    candidates = []
    for platform_id in platforms:
        num_devices = raw.cl_uint()
        status = raw.clGetDeviceIDs(platform_id, raw.CL_DEVICE_TYPE_ALL, 0, None, raw.byref(num_devices))
        if status == raw.CL_DEVICE_NOT_FOUND:
            continue
        assert status == CL_SUCCESS
        devices = (raw.cl_device_id * num_devices.value)()
        assert raw.clGetDeviceIDs(platform_id, raw.CL_DEVICE_TYPE_ALL, num_devices.value, devices,
                                  None) == CL_SUCCESS
        for device_id in devices:
            owner = raw.cl_platform_id()
            assert raw.clGetDeviceInfo(device_id, raw.CL_DEVICE_PLATFORM, ctypes.sizeof(owner),
                                       raw.byref(owner), None) == CL_SUCCESS
            assert owner.value == platform_id.value
            candidates.append((platform_id, device_id, raw_platform_name(platform_id), raw_device_name(device_id)))
    # The conftest fixture chose by name (env override or PoCL); it must be one of those enumerated.
    chosen = [c for c in candidates if c[1].value == raw_device.value]
    assert len(chosen) == 1, [c[2:] for c in candidates]
    platform, device = chosen[0][0], chosen[0][1]
    assert platform.value == raw_platform.value

    # Step 2: create a context and a command queue (with profiling).
    err = raw.cl_int()
    context_properties = (raw.cl_context_properties * 3)(raw.CL_CONTEXT_PLATFORM, platform.value, 0)
    context = raw.clCreateContext(context_properties, 1, raw.byref(device), None, None, raw.byref(err))
    assert err.value == CL_SUCCESS
    assert context
    queue_properties = (raw.cl_queue_properties * 3)(raw.CL_QUEUE_PROPERTIES, raw.CL_QUEUE_PROFILING_ENABLE, 0)
    queue = raw.clCreateCommandQueueWithProperties(context, device, queue_properties, raw.byref(err))
    assert err.value == CL_SUCCESS
    assert queue
    queue_flags = raw.cl_command_queue_properties()
    assert raw.clGetCommandQueueInfo(queue, raw.CL_QUEUE_PROPERTIES, ctypes.sizeof(queue_flags),
                                     raw.byref(queue_flags), None) == CL_SUCCESS
    assert queue_flags.value & raw.CL_QUEUE_PROFILING_ENABLE

    # Step 3: load the program, from OpenCL C source or from a device binary.
    if program_from == "source":
        strings = (ctypes.c_char_p * 1)(KERNEL_SOURCE)
        lengths = (ctypes.c_size_t * 1)(len(KERNEL_SOURCE))
        program = raw.clCreateProgramWithSource(context, 1, strings, lengths, raw.byref(err))
        assert err.value == CL_SUCCESS
    else:
        built = raw_build_program(context, device, KERNEL_SOURCE)
        num_program_devices = raw.cl_uint()
        assert raw.clGetProgramInfo(built, raw.CL_PROGRAM_NUM_DEVICES, ctypes.sizeof(num_program_devices),
                                    raw.byref(num_program_devices), None) == CL_SUCCESS
        assert num_program_devices.value == 1
        binary_sizes = (ctypes.c_size_t * num_program_devices.value)()
        assert raw.clGetProgramInfo(built, raw.CL_PROGRAM_BINARY_SIZES, ctypes.sizeof(binary_sizes),
                                    binary_sizes, None) == CL_SUCCESS
        assert binary_sizes[0] > 0
        storage = [(ctypes.c_ubyte * size)() for size in binary_sizes]
        binaries = (ctypes.POINTER(ctypes.c_ubyte) * num_program_devices.value)(
            *[ctypes.cast(block, ctypes.POINTER(ctypes.c_ubyte)) for block in storage])
        assert raw.clGetProgramInfo(built, raw.CL_PROGRAM_BINARIES, ctypes.sizeof(binaries),
                                    binaries, None) == CL_SUCCESS
        assert any(bytes(storage[0]))
        assert raw.clReleaseProgram(built) == CL_SUCCESS
        binary_status = (raw.cl_int * 1)(-1)
        program = raw.clCreateProgramWithBinary(context, 1, raw.byref(device), binary_sizes, binaries,
                                                binary_status, raw.byref(err))
        assert err.value == CL_SUCCESS
        assert binary_status[0] == CL_SUCCESS
    assert program

    # Step 4: compile and link (source), or build the loaded executable binary.
    if program_from == "source":
        assert raw.clCompileProgram(program, 1, raw.byref(device), b"-cl-std=CL1.2", 0, None, None,
                                    None, None) == CL_SUCCESS
        binary_type = raw.cl_program_binary_type()
        assert raw.clGetProgramBuildInfo(program, device, raw.CL_PROGRAM_BINARY_TYPE, ctypes.sizeof(binary_type),
                                         raw.byref(binary_type), None) == CL_SUCCESS
        assert binary_type.value == raw.CL_PROGRAM_BINARY_TYPE_COMPILED_OBJECT
        input_programs = (raw.cl_program * 1)(program)
        linked = raw.clLinkProgram(context, 1, raw.byref(device), None, 1, input_programs, None, None,
                                   raw.byref(err))
        assert err.value == CL_SUCCESS
        assert linked
        assert raw.clReleaseProgram(program) == CL_SUCCESS   # the compiled object is no longer needed
        program = linked
    else:
        assert raw.clBuildProgram(program, 1, raw.byref(device), None, None, None) == CL_SUCCESS
    build_status = raw.cl_build_status()
    assert raw.clGetProgramBuildInfo(program, device, raw.CL_PROGRAM_BUILD_STATUS, ctypes.sizeof(build_status),
                                     raw.byref(build_status), None) == CL_SUCCESS
    assert build_status.value == raw.CL_BUILD_SUCCESS
    binary_type = raw.cl_program_binary_type()
    assert raw.clGetProgramBuildInfo(program, device, raw.CL_PROGRAM_BINARY_TYPE, ctypes.sizeof(binary_type),
                                     raw.byref(binary_type), None) == CL_SUCCESS
    assert binary_type.value == raw.CL_PROGRAM_BINARY_TYPE_EXECUTABLE

    # Step 5: create the kernel.
    kernel = raw.clCreateKernel(program, b"axpb", raw.byref(err))
    assert err.value == CL_SUCCESS
    num_args = raw.cl_uint()
    assert raw.clGetKernelInfo(kernel, raw.CL_KERNEL_NUM_ARGS, ctypes.sizeof(num_args), raw.byref(num_args),
                               None) == CL_SUCCESS
    assert num_args.value == 4

    # Step 6: create the buffers (inputs read-only, output write-only for the kernel).
    buffer_a = raw.clCreateBuffer(context, raw.CL_MEM_READ_ONLY, NBYTES, None, raw.byref(err))
    assert err.value == CL_SUCCESS
    buffer_b = raw.clCreateBuffer(context, raw.CL_MEM_READ_ONLY, NBYTES, None, raw.byref(err))
    assert err.value == CL_SUCCESS
    buffer_c = raw.clCreateBuffer(context, raw.CL_MEM_WRITE_ONLY, NBYTES, None, raw.byref(err))
    assert err.value == CL_SUCCESS

    events = []   # every event returned to us, released in step 12
    # Step 11: repeat steps 7-10 with a different scalar (and transfer method) each round.
    for round_index, (write_method, read_method, k) in enumerate(ROUNDS):
        host_a, host_b = _inputs(round_index)

        # Step 7: set the kernel arguments (cl_mem by reference, then a cl_float scalar).
        assert raw.clSetKernelArg(kernel, 0, ctypes.sizeof(raw.cl_mem), raw.byref(buffer_a)) == CL_SUCCESS
        assert raw.clSetKernelArg(kernel, 1, ctypes.sizeof(raw.cl_mem), raw.byref(buffer_b)) == CL_SUCCESS
        assert raw.clSetKernelArg(kernel, 2, ctypes.sizeof(raw.cl_mem), raw.byref(buffer_c)) == CL_SUCCESS
        scalar = raw.cl_float(k)
        assert raw.clSetKernelArg(kernel, 3, ctypes.sizeof(scalar), raw.byref(scalar)) == CL_SUCCESS

        # Step 8: write the input buffers.
        if write_method == "blocking":
            assert raw.clEnqueueWriteBuffer(queue, buffer_a, raw.CL_TRUE, 0, NBYTES, host_a.ctypes.data,
                                            0, None, None) == CL_SUCCESS
            assert raw.clEnqueueWriteBuffer(queue, buffer_b, raw.CL_TRUE, 0, NBYTES, host_b.ctypes.data,
                                            0, None, None) == CL_SUCCESS
        elif write_method == "events":
            write_events = (raw.cl_event * 2)()
            assert raw.clEnqueueWriteBuffer(queue, buffer_a, raw.CL_FALSE, 0, NBYTES, host_a.ctypes.data,
                                            0, None, raw.byref(write_events[0])) == CL_SUCCESS
            assert raw.clEnqueueWriteBuffer(queue, buffer_b, raw.CL_FALSE, 0, NBYTES, host_b.ctypes.data,
                                            0, None, raw.byref(write_events[1])) == CL_SUCCESS
            assert raw.clWaitForEvents(2, write_events) == CL_SUCCESS
            events.extend(write_events)
        else:  # map, write through the mapped pointer, unmap
            mapped_a = raw.clEnqueueMapBuffer(queue, buffer_a, raw.CL_TRUE, raw.CL_MAP_WRITE_INVALIDATE_REGION,
                                              0, NBYTES, 0, None, None, raw.byref(err))
            assert err.value == CL_SUCCESS
            assert mapped_a
            ctypes.memmove(mapped_a, host_a.ctypes.data, NBYTES)
            mapped_b = raw.clEnqueueMapBuffer(queue, buffer_b, raw.CL_TRUE, raw.CL_MAP_WRITE_INVALIDATE_REGION,
                                              0, NBYTES, 0, None, None, raw.byref(err))
            assert err.value == CL_SUCCESS
            assert mapped_b
            _mapped_floats(mapped_b)[:] = host_b
            unmap_events = (raw.cl_event * 2)()
            assert raw.clEnqueueUnmapMemObject(queue, buffer_a, mapped_a, 0, None,
                                               raw.byref(unmap_events[0])) == CL_SUCCESS
            assert raw.clEnqueueUnmapMemObject(queue, buffer_b, mapped_b, 0, None,
                                               raw.byref(unmap_events[1])) == CL_SUCCESS
            assert raw.clWaitForEvents(2, unmap_events) == CL_SUCCESS
            events.extend(unmap_events)

        # Step 9: run the kernel over the NDRange (global size, NULL local size), wait, profile.
        global_size = (ctypes.c_size_t * 1)(N)
        kernel_event = raw.cl_event()
        assert raw.clEnqueueNDRangeKernel(queue, kernel, 1, None, global_size, None, 0, None,
                                          raw.byref(kernel_event)) == CL_SUCCESS
        events.append(kernel_event)
        assert raw.clWaitForEvents(1, raw.byref(kernel_event)) == CL_SUCCESS
        execution_status = raw.cl_int()
        assert raw.clGetEventInfo(kernel_event, raw.CL_EVENT_COMMAND_EXECUTION_STATUS,
                                  ctypes.sizeof(execution_status), raw.byref(execution_status), None) == CL_SUCCESS
        assert execution_status.value == raw.CL_COMPLETE
        start, end = raw.cl_ulong(), raw.cl_ulong()
        assert raw.clGetEventProfilingInfo(kernel_event, raw.CL_PROFILING_COMMAND_START, ctypes.sizeof(start),
                                           raw.byref(start), None) == CL_SUCCESS
        assert raw.clGetEventProfilingInfo(kernel_event, raw.CL_PROFILING_COMMAND_END, ctypes.sizeof(end),
                                           raw.byref(end), None) == CL_SUCCESS
        assert start.value > 0
        assert end.value >= start.value          # nanoseconds

        # Step 10: read the output buffer.
        host_c = np.full(N, np.nan, dtype=np.float32)
        if read_method == "blocking":
            assert raw.clEnqueueReadBuffer(queue, buffer_c, raw.CL_TRUE, 0, NBYTES, host_c.ctypes.data,
                                           0, None, None) == CL_SUCCESS
        elif read_method == "events":
            read_event = raw.cl_event()
            assert raw.clEnqueueReadBuffer(queue, buffer_c, raw.CL_FALSE, 0, NBYTES, host_c.ctypes.data,
                                           0, None, raw.byref(read_event)) == CL_SUCCESS
            events.append(read_event)
            assert raw.clWaitForEvents(1, raw.byref(read_event)) == CL_SUCCESS
        else:  # map for reading, copy out through the pointer, unmap
            mapped_c = raw.clEnqueueMapBuffer(queue, buffer_c, raw.CL_TRUE, raw.CL_MAP_READ, 0, NBYTES,
                                              0, None, None, raw.byref(err))
            assert err.value == CL_SUCCESS
            assert mapped_c
            host_c[:] = _mapped_floats(mapped_c)
            unmap_event = raw.cl_event()
            assert raw.clEnqueueUnmapMemObject(queue, buffer_c, mapped_c, 0, None,
                                               raw.byref(unmap_event)) == CL_SUCCESS
            events.append(unmap_event)
            assert raw.clWaitForEvents(1, raw.byref(unmap_event)) == CL_SUCCESS

        np.testing.assert_allclose(host_c, _expected(host_a, host_b, k), rtol=1e-6, atol=1e-5,
                                   err_msg=f"round {round_index}: write={write_method} read={read_method} k={k}")

    # Step 12: release everything.
    assert raw.clFinish(queue) == CL_SUCCESS
    for event in events:
        assert raw.clReleaseEvent(event) == CL_SUCCESS
    assert raw.clReleaseKernel(kernel) == CL_SUCCESS
    assert raw.clReleaseProgram(program) == CL_SUCCESS
    for buffer in (buffer_a, buffer_b, buffer_c):
        assert raw.clReleaseMemObject(buffer) == CL_SUCCESS
    assert raw.clReleaseCommandQueue(queue) == CL_SUCCESS
    assert raw.clReleaseContext(context) == CL_SUCCESS


def _raw_context(device):
    err = raw.cl_int()
    context = raw.clCreateContext(None, 1, raw.byref(device), None, None, raw.byref(err))
    assert err.value == CL_SUCCESS
    return context


def test_step3_program_with_il_is_refused(raw_platform, raw_device):
    # The device reports no IL support, so clCreateProgramWithIL must give the driver's error.
    il_version_size = ctypes.c_size_t()
    assert raw.clGetDeviceInfo(raw_device, raw.CL_DEVICE_IL_VERSION, 0, None,
                               raw.byref(il_version_size)) == CL_SUCCESS
    il_version = ctypes.create_string_buffer(il_version_size.value + 1)
    assert raw.clGetDeviceInfo(raw_device, raw.CL_DEVICE_IL_VERSION, il_version_size.value, il_version,
                               None) == CL_SUCCESS
    if il_version.value:
        pytest.skip(f"device accepts IL ({il_version.value!r}); this test is about a device without IL")
    context = _raw_context(raw_device)
    # A SPIR-V module header: magic, version 1.0, generator, bound, schema.
    spirv = (ctypes.c_uint32 * 5)(0x07230203, 0x00010000, 0, 1, 0)
    err = raw.cl_int(CL_SUCCESS)
    program = raw.clCreateProgramWithIL(context, spirv, ctypes.sizeof(spirv), raw.byref(err))
    assert not program
    if raw_is_pocl(raw_platform):
        assert err.value == raw.CL_INVALID_VALUE          # what PoCL 3.1 returns
    else:
        assert err.value in (raw.CL_INVALID_VALUE, raw.CL_INVALID_OPERATION)
    # Plain bytes go through too (as const void *), and the context is still usable.
    program = raw.clCreateProgramWithIL(context, b"\x03\x02\x23\x07" + bytes(16), 20, raw.byref(err))
    assert not program
    assert err.value != CL_SUCCESS
    assert _ref_count(raw.clGetContextInfo, context, raw.CL_CONTEXT_REFERENCE_COUNT) == 1
    assert raw.clReleaseContext(context) == CL_SUCCESS


@pytest.mark.parametrize("function", ["clCompileProgram", "clBuildProgram"])
def test_step4_failed_build_has_log(raw_platform, raw_device, function):
    context = _raw_context(raw_device)
    err = raw.cl_int()
    strings = (ctypes.c_char_p * 1)(BAD_SOURCE)
    program = raw.clCreateProgramWithSource(context, 1, strings, None, raw.byref(err))  # NUL-terminated
    assert err.value == CL_SUCCESS
    if function == "clCompileProgram":
        status = raw.clCompileProgram(program, 1, raw.byref(raw_device), None, 0, None, None, None, None)
        if raw_is_pocl(raw_platform):
            assert status == raw.CL_COMPILE_PROGRAM_FAILURE
        else:   # Oclgrind, for one, says CL_BUILD_PROGRAM_FAILURE
            assert status in (raw.CL_COMPILE_PROGRAM_FAILURE, raw.CL_BUILD_PROGRAM_FAILURE)
    else:
        status = raw.clBuildProgram(program, 1, raw.byref(raw_device), None, None, None)
        assert status == raw.CL_BUILD_PROGRAM_FAILURE
    build_status = raw.cl_build_status()
    assert raw.clGetProgramBuildInfo(program, raw_device, raw.CL_PROGRAM_BUILD_STATUS, ctypes.sizeof(build_status),
                                     raw.byref(build_status), None) == CL_SUCCESS
    assert build_status.value == raw.CL_BUILD_ERROR
    # Read CL_PROGRAM_BUILD_LOG ourselves: size first, then the text.
    log_size = ctypes.c_size_t()
    assert raw.clGetProgramBuildInfo(program, raw_device, raw.CL_PROGRAM_BUILD_LOG, 0, None,
                                     raw.byref(log_size)) == CL_SUCCESS
    assert log_size.value > 1
    log = ctypes.create_string_buffer(log_size.value)
    assert raw.clGetProgramBuildInfo(program, raw_device, raw.CL_PROGRAM_BUILD_LOG, log_size.value, log,
                                     None) == CL_SUCCESS
    text = log.value.decode()
    assert BAD_IDENTIFIER in text
    assert "undeclared identifier" in text or "error" in text.lower()
    assert text == raw_build_log(program, raw_device)
    # No kernel can come out of it.
    kernel = raw.clCreateKernel(program, b"broken", raw.byref(err))
    assert not kernel
    if raw_is_pocl(raw_platform):
        assert err.value == raw.CL_INVALID_PROGRAM_EXECUTABLE
    else:   # Oclgrind, for one, says CL_INVALID_KERNEL_NAME
        assert err.value in (raw.CL_INVALID_PROGRAM_EXECUTABLE, raw.CL_INVALID_KERNEL_NAME)
    assert raw.clReleaseProgram(program) == CL_SUCCESS
    assert raw.clReleaseContext(context) == CL_SUCCESS


def test_step5_create_kernels_in_program(raw_device, implicit_refs):
    context = _raw_context(raw_device)
    program = raw_build_program(context, raw_device, KERNEL_SOURCE)
    # Step 5, the other way: every kernel of the program (count, then fill).
    num_kernels = raw.cl_uint()
    assert raw.clCreateKernelsInProgram(program, 0, None, raw.byref(num_kernels)) == CL_SUCCESS
    assert num_kernels.value == 2
    kernels = (raw.cl_kernel * num_kernels.value)()
    assert raw.clCreateKernelsInProgram(program, num_kernels.value, kernels, None) == CL_SUCCESS
    assert all(kernels)
    names = {}
    for kernel in kernels:
        size = ctypes.c_size_t()
        assert raw.clGetKernelInfo(kernel, raw.CL_KERNEL_FUNCTION_NAME, 0, None, raw.byref(size)) == CL_SUCCESS
        name = ctypes.create_string_buffer(size.value)
        assert raw.clGetKernelInfo(kernel, raw.CL_KERNEL_FUNCTION_NAME, size.value, name, None) == CL_SUCCESS
        names[name.value.decode()] = kernel
    assert sorted(names) == ["axpb", "fill"]
    # Ours, plus each kernel's hold on its program where the driver counts it (PoCL does, NVIDIA not).
    assert _ref_count(raw.clGetProgramInfo, program, raw.CL_PROGRAM_REFERENCE_COUNT) == \
        1 + 2 * implicit_refs.kernel_on_program

    # Run "fill" from that list, to show the kernels are usable.
    err = raw.cl_int()
    queue = raw.clCreateCommandQueueWithProperties(context, raw_device, None, raw.byref(err))
    assert err.value == CL_SUCCESS
    buffer = raw.clCreateBuffer(context, raw.CL_MEM_WRITE_ONLY, NBYTES, None, raw.byref(err))
    assert err.value == CL_SUCCESS
    value = raw.cl_float(-7.5)
    assert raw.clSetKernelArg(names["fill"], 0, ctypes.sizeof(raw.cl_mem), raw.byref(buffer)) == CL_SUCCESS
    assert raw.clSetKernelArg(names["fill"], 1, ctypes.sizeof(value), raw.byref(value)) == CL_SUCCESS
    global_size = ctypes.c_size_t(N)
    assert raw.clEnqueueNDRangeKernel(queue, names["fill"], 1, None, raw.byref(global_size), None,
                                      0, None, None) == CL_SUCCESS
    out = np.zeros(N, dtype=np.float32)
    assert raw.clEnqueueReadBuffer(queue, buffer, raw.CL_TRUE, 0, NBYTES, out.ctypes.data, 0, None, None) == CL_SUCCESS
    assert (out == np.float32(-7.5)).all()

    assert raw.clFinish(queue) == CL_SUCCESS
    for kernel in kernels:
        assert raw.clReleaseKernel(kernel) == CL_SUCCESS
    assert _ref_count(raw.clGetProgramInfo, program, raw.CL_PROGRAM_REFERENCE_COUNT) == 1
    assert raw.clReleaseMemObject(buffer) == CL_SUCCESS
    assert raw.clReleaseCommandQueue(queue) == CL_SUCCESS
    assert raw.clReleaseProgram(program) == CL_SUCCESS
    assert raw.clReleaseContext(context) == CL_SUCCESS


def test_step12_release_leaves_nothing_behind(raw_platform, raw_device, implicit_refs):
    pocl = raw_is_pocl(raw_platform)

    def context_count():
        return _ref_count(raw.clGetContextInfo, context, raw.CL_CONTEXT_REFERENCE_COUNT)

    err = raw.cl_int()
    context = _raw_context(raw_device)
    assert context_count() == 1
    queue_properties = (raw.cl_queue_properties * 3)(raw.CL_QUEUE_PROPERTIES, raw.CL_QUEUE_PROFILING_ENABLE, 0)
    queue = raw.clCreateCommandQueueWithProperties(context, raw_device, queue_properties, raw.byref(err))
    assert err.value == CL_SUCCESS
    assert _ref_count(raw.clGetCommandQueueInfo, queue, raw.CL_QUEUE_REFERENCE_COUNT) == 1
    buffers = []
    for flags in (raw.CL_MEM_READ_ONLY, raw.CL_MEM_READ_ONLY, raw.CL_MEM_WRITE_ONLY):
        buffers.append(raw.clCreateBuffer(context, flags, NBYTES, None, raw.byref(err)))
        assert err.value == CL_SUCCESS
    program = raw_build_program(context, raw_device, KERNEL_SOURCE)
    # The queue, each buffer and the program hold the context; PoCL counts those holds, NVIDIA does not.
    refs = implicit_refs
    held = refs.queue_on_context + 3 * refs.buffer_on_context + refs.program_on_context
    assert context_count() == 1 + held
    assert _ref_count(raw.clGetProgramInfo, program, raw.CL_PROGRAM_REFERENCE_COUNT) == 1
    kernel = raw.clCreateKernel(program, b"axpb", raw.byref(err))
    assert err.value == CL_SUCCESS
    # A kernel holds its program (counted where the driver counts holds), not the context.
    assert _ref_count(raw.clGetProgramInfo, program, raw.CL_PROGRAM_REFERENCE_COUNT) == 1 + refs.kernel_on_program
    assert context_count() == 1 + held

    # Run it once so that commands and events have come and gone.
    host_a, host_b = _inputs(99)
    for index, buffer in enumerate(buffers):
        assert raw.clSetKernelArg(kernel, index, ctypes.sizeof(raw.cl_mem), raw.byref(buffer)) == CL_SUCCESS
    k = raw.cl_float(1.5)
    assert raw.clSetKernelArg(kernel, 3, ctypes.sizeof(k), raw.byref(k)) == CL_SUCCESS
    events = (raw.cl_event * 4)()
    assert raw.clEnqueueWriteBuffer(queue, buffers[0], raw.CL_FALSE, 0, NBYTES, host_a.ctypes.data, 0, None,
                                    raw.byref(events[0])) == CL_SUCCESS
    assert raw.clEnqueueWriteBuffer(queue, buffers[1], raw.CL_FALSE, 0, NBYTES, host_b.ctypes.data, 0, None,
                                    raw.byref(events[1])) == CL_SUCCESS
    global_size = (ctypes.c_size_t * 1)(N)
    assert raw.clEnqueueNDRangeKernel(queue, kernel, 1, None, global_size, None, 2, events,
                                      raw.byref(events[2])) == CL_SUCCESS
    host_c = np.empty(N, dtype=np.float32)
    assert raw.clEnqueueReadBuffer(queue, buffers[2], raw.CL_FALSE, 0, NBYTES, host_c.ctypes.data, 1,
                                   raw.byref(events[2]), raw.byref(events[3])) == CL_SUCCESS
    assert raw.clWaitForEvents(4, events) == CL_SUCCESS
    assert raw.clFinish(queue) == CL_SUCCESS
    np.testing.assert_allclose(host_c, _expected(host_a, host_b, 1.5), rtol=1e-6, atol=1e-5)

    # Step 12: release everything, checking the reference counts on the way.
    def queue_count():
        return _ref_count(raw.clGetCommandQueueInfo, queue, raw.CL_QUEUE_REFERENCE_COUNT)

    if pocl:
        assert queue_count() == 1 + len(events)    # each event holds its queue in PoCL
    for event in events:
        assert _ref_count(raw.clGetEventInfo, event, raw.CL_EVENT_REFERENCE_COUNT) >= 1
        assert raw.clReleaseEvent(event) == CL_SUCCESS
    assert context_count() == 1 + held      # events do not hold the context
    assert _ref_count(raw.clGetKernelInfo, kernel, raw.CL_KERNEL_REFERENCE_COUNT) == 1
    assert raw.clReleaseKernel(kernel) == CL_SUCCESS
    assert _ref_count(raw.clGetProgramInfo, program, raw.CL_PROGRAM_REFERENCE_COUNT) == 1
    assert raw.clReleaseProgram(program) == CL_SUCCESS
    assert context_count() == 1 + held - refs.program_on_context
    for released, buffer in enumerate(buffers, start=1):
        assert _ref_count(raw.clGetMemObjectInfo, buffer, raw.CL_MEM_REFERENCE_COUNT) == 1
        assert raw.clReleaseMemObject(buffer) == CL_SUCCESS
        assert context_count() == 1 + held - refs.program_on_context - released * refs.buffer_on_context
    # Our events are gone; once PoCL has let go of its own, only our reference is left.
    assert _settled(queue_count, 1) == 1
    assert raw.clReleaseCommandQueue(queue) == CL_SUCCESS
    # Queue, buffers and program gone: only our own reference is left.
    assert context_count() == 1
    assert raw.clReleaseContext(context) == CL_SUCCESS
