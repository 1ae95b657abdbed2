"""Programs and kernels (opencl_raw/program.py): build, compile, build and work-group info, kernel arguments."""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import errors, raw
from opencl_raw._info import ProgramBinaryType
from opencl_raw.program import kernel_arg

SOURCE = """
__kernel void scalars(__global float *out, const int i, const float f, const float4 v, const float3 w,
                      const float2 b, const uint u, const long l)
{
    out[0] = (float)i;  out[1] = f;
    out[2] = v.x;  out[3] = v.y;  out[4] = v.z;  out[5] = v.w;
    out[6] = w.x;  out[7] = w.y;  out[8] = w.z;
    out[9] = b.x;  out[10] = b.y;
    out[11] = (float)u;  out[12] = (float)l;
}

__kernel void maybe(__global float *out, __global const float *opt)
{
    out[0] = opt ? opt[0] : -1.0f;
}

/* Reverses each work-group's slice through a __local scratch array. */
__kernel void reverse_groups(__global const float *in, __global float *out, __local float *scratch)
{
    const size_t lid = get_local_id(0), size = get_local_size(0);
    scratch[lid] = in[get_global_id(0)];
    barrier(CLK_LOCAL_MEM_FENCE);
    out[get_global_id(0)] = scratch[size - 1 - lid];
}

__kernel __attribute__((reqd_work_group_size(4, 2, 1))) void fixed(__global int *out)
{
    out[get_global_id(1) * get_global_size(0) + get_global_id(0)] = SCALE * (int)get_local_id(0);
}
"""
OPTIONS = "-DSCALE=3 -cl-std=CL1.2"
N_OUT = 16


@pytest.fixture(scope="module")
def built(device):
    """(context, program) built once for the module."""
    context = cl.create_context([device])
    program = context.create_program_with_source(SOURCE).build(OPTIONS)
    yield context, program
    program.release()
    context.release()


@pytest.fixture
def env(built, device):
    """(context, queue, program, output buffer of N_OUT floats)."""
    context, program = built
    queue = context.create_command_queue_with_properties(device)
    out = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR,
                                host_buffer=np.full(N_OUT, np.nan, dtype=np.float32))
    yield context, queue, program, out
    queue.finish()
    out.release()
    queue.release()


def _run_scalars(queue, program, out, *args):
    kernel = program.create_kernel("scalars")
    kernel.set_args(out, *args)
    queue.enqueue_nd_range_kernel(kernel, 1).wait()
    kernel.release()
    return queue.enqueue_read_buffer(out).view(np.float32)


GOOD_ARGS = dict(i=np.int32(-3), f=np.float32(1.5), v=raw.cl_float4(1, 2, 3, 4), w=raw.cl_float3(7, 8, 9),
                 b=np.array([5.5, 6.5], dtype=np.float32).tobytes(), u=np.uint32(11), l=np.int64(-5))


# --------------------------------------------------------------------------- #
# kernel arguments
# --------------------------------------------------------------------------- #

def test_numpy_ctypes_and_bytes_arguments(env):
    _, queue, program, out = env
    got = _run_scalars(queue, program, out, *GOOD_ARGS.values())
    np.testing.assert_array_equal(got[:13], [-3, 1.5, 1, 2, 3, 4, 7, 8, 9, 5.5, 6.5, 11, -5])
    # ctypes scalars instead of numpy ones
    got = _run_scalars(queue, program, out, raw.cl_int(3), raw.cl_float(-0.25), raw.cl_float4(-1, -2, -3, -4),
                       raw.cl_float3(0.5, 0.25, 0.125), raw.cl_float2(9, 10), raw.cl_uint(4000000000),
                       raw.cl_long(-(2 ** 40)))
    np.testing.assert_array_equal(got[:13], np.array([3, -0.25, -1, -2, -3, -4, 0.5, 0.25, 0.125, 9, 10,
                                                      4000000000, -(2 ** 40)], dtype=np.float32))


def test_float4_reaches_the_kernel_whole(env):
    _, queue, program, out = env
    args = dict(GOOD_ARGS, v=raw.cl_float4(10.5, -20.25, 30.125, -40.0625))
    got = _run_scalars(queue, program, out, *args.values())
    np.testing.assert_array_equal(got[2:6], [10.5, -20.25, 30.125, -40.0625])


def test_float3_is_passed_as_16_bytes(env):
    assert ctypes.sizeof(raw.cl_float3) == 16
    size, _ = kernel_arg(raw.cl_float3(1, 2, 3), 4)
    assert size == 16                                       # a float3 argument occupies a float4
    _, queue, program, out = env
    args = dict(GOOD_ARGS, w=raw.cl_float3(-7.5, 8.25, -9.125))
    got = _run_scalars(queue, program, out, *args.values())
    np.testing.assert_array_equal(got[6:9], [-7.5, 8.25, -9.125])
    # neighbours untouched by a wrong width: the arguments after it arrived intact
    np.testing.assert_array_equal(got[9:13], [5.5, 6.5, 11, -5])


@pytest.mark.parametrize("value, hint", [(3, "numpy.int32"), (2.5, "numpy.float32"), (True, "numpy.int32")])
def test_bare_python_numbers_are_refused(built, value, hint):
    _, program = built
    kernel = program.create_kernel("scalars")
    with pytest.raises(TypeError) as caught:
        kernel.set_arg(1, value)
    assert hint in str(caught.value) and "width" in str(caught.value)
    with pytest.raises(TypeError, match="width"):
        kernel.set_args(None, value)
    kernel.release()


def test_unsupported_argument_types(built):
    _, program = built
    kernel = program.create_kernel("scalars")
    for value in ([1, 2], "text", object(), np.zeros(4)):
        with pytest.raises(TypeError, match="unsupported type"):
            kernel.set_arg(1, value)
    with pytest.raises(ValueError, match="empty"):
        kernel.set_arg(1, b"")
    kernel.release()


def test_wrong_width_is_the_drivers_invalid_arg_size(built, env):
    _, program = built
    _, _, _, out = env
    kernel = program.create_kernel("scalars")
    with pytest.raises(errors.InvalidArgSize) as caught:
        kernel.set_arg(1, np.int64(3))                      # an int argument given 8 bytes
    assert caught.value.function == "clSetKernelArg"
    assert "argument 1 (8 bytes)" in str(caught.value) and "'scalars'" in str(caught.value)
    with pytest.raises(errors.InvalidArgSize):
        kernel.set_arg(2, np.float64(1.0))                  # a float argument given a double
    with pytest.raises(errors.InvalidArgSize):
        kernel.set_arg(1, out)                              # a buffer where an int goes
    with pytest.raises((errors.InvalidArgSize, errors.InvalidMemObject)):
        kernel.set_arg(0, np.float32(1))                    # a float where a buffer goes
    with pytest.raises(errors.InvalidArgIndex):
        kernel.set_arg(8, np.int32(0))
    kernel.release()


def test_none_is_a_null_buffer(env):
    context, queue, program, out = env
    kernel = program.create_kernel("maybe")
    kernel.set_args(out, None)
    queue.enqueue_nd_range_kernel(kernel, 1).wait()
    assert queue.enqueue_read_buffer(out).view(np.float32)[0] == -1.0
    source = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR,
                                   host_buffer=np.array([42.5], dtype=np.float32))
    kernel.set_arg(1, source)
    queue.enqueue_nd_range_kernel(kernel, 1).wait()
    assert queue.enqueue_read_buffer(out).view(np.float32)[0] == 42.5
    kernel.release()
    source.release()


@pytest.mark.parametrize("group", [1, 4, 8])
def test_local_memory_argument(env, group):
    context, queue, program, _ = env
    n = 64
    data = np.arange(n, dtype=np.float32)
    src = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, host_buffer=data)
    dst = context.create_buffer(raw.CL_MEM_WRITE_ONLY, data.nbytes)
    kernel = program.create_kernel("reverse_groups")
    kernel.set_args(src, dst, cl.LocalMemory(group * 4))
    queue.enqueue_nd_range_kernel(kernel, n, group).wait()
    expected = data.reshape(-1, group)[:, ::-1].ravel()
    np.testing.assert_array_equal(queue.enqueue_read_buffer(dst).view(np.float32), expected)
    for obj in (kernel, src, dst):
        obj.release()


def test_local_memory_validation():
    assert cl.LocalMemory(16).nbytes == 16
    assert repr(cl.LocalMemory(16)) == "LocalMemory(16)"
    for bad in (0, -4, True, 4.0, "16"):
        with pytest.raises(ValueError, match="positive"):
            cl.LocalMemory(bad)


def test_kernel_arg_sizes():
    assert kernel_arg(np.int8(1), 0)[0] == 1
    assert kernel_arg(np.float64(1), 0)[0] == 8
    assert kernel_arg(raw.cl_short(1), 0)[0] == 2
    assert kernel_arg(raw.cl_double4(1, 2, 3, 4), 0)[0] == 32
    assert kernel_arg(None, 0) == (ctypes.sizeof(raw.cl_mem), None)
    assert kernel_arg(cl.LocalMemory(100), 0) == (100, None)
    size, data = kernel_arg(np.int32(0x01020304), 0)
    assert size == 4 and data == np.int32(0x01020304).tobytes()


# --------------------------------------------------------------------------- #
# build / compile and their info
# --------------------------------------------------------------------------- #

def test_build_info_typed(built, device):
    _, program = built
    status = program.get_build_info(device, raw.CL_PROGRAM_BUILD_STATUS)
    assert status is cl.BuildStatus.SUCCESS
    options = program.get_build_info(device, "CL_PROGRAM_BUILD_OPTIONS")
    assert isinstance(options, str) and "-DSCALE=3" in options
    log = program.get_build_info(device, raw.CL_PROGRAM_BUILD_LOG)
    assert isinstance(log, str)
    binary_type = program.get_build_info(device, raw.CL_PROGRAM_BINARY_TYPE)
    assert binary_type is ProgramBinaryType.EXECUTABLE
    if device.version_tuple >= (2, 0):
        assert type(program.get_build_info(device, raw.CL_PROGRAM_BUILD_GLOBAL_VARIABLE_TOTAL_SIZE)) is int
    with pytest.raises(TypeError, match="Device"):
        program.get_build_info(device.platform, raw.CL_PROGRAM_BUILD_STATUS)
    with pytest.raises(errors.InvalidValue):
        program.get_build_info(device, raw.CL_DEVICE_NAME)


def test_program_info_typed(built, device):
    context, program = built
    assert program.context == context
    assert program.num_devices == 1 and program.devices == (device,)
    assert program.source == SOURCE
    assert program.num_kernels == 4 and type(program.num_kernels) is int
    assert sorted(program.kernel_names.split(";")) == ["fixed", "maybe", "reverse_groups", "scalars"]
    sizes = program.binary_sizes
    assert isinstance(sizes, tuple) and len(sizes) == 1 and sizes[0] > 0
    binaries = program.binaries
    assert isinstance(binaries, list) and [len(b) for b in binaries] == list(sizes)
    assert program.reference_count == 1


def test_kernel_info_and_work_group_info(built, device, env):
    context, program = built
    _, queue, _, _ = env
    kernel = program.create_kernel("fixed")
    assert kernel.function_name == "fixed" and kernel.num_args == 1
    assert kernel.program == program and kernel.context == context
    assert "reqd_work_group_size(4, 2, 1" in kernel.attributes
    assert kernel.get_work_group_info(device, raw.CL_KERNEL_COMPILE_WORK_GROUP_SIZE) == (4, 2, 1)
    size = kernel.get_work_group_info(device, "CL_KERNEL_WORK_GROUP_SIZE")
    assert type(size) is int and 8 <= size <= device.max_work_group_size
    multiple = kernel.get_work_group_info(device, raw.CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE)
    assert type(multiple) is int and multiple >= 1
    for param in (raw.CL_KERNEL_LOCAL_MEM_SIZE, raw.CL_KERNEL_PRIVATE_MEM_SIZE):
        value = kernel.get_work_group_info(device, param)
        assert type(value) is int and value >= 0
    with pytest.raises(TypeError, match="Device"):
        kernel.get_work_group_info("device", raw.CL_KERNEL_WORK_GROUP_SIZE)
    # The required work-group size is enforced by the driver, and the -D option reached the kernel.
    out = context.create_buffer(raw.CL_MEM_READ_WRITE, 8 * 4 * 4)
    kernel.set_arg(0, out)
    with pytest.raises(errors.InvalidWorkGroupSize):
        queue.enqueue_nd_range_kernel(kernel, (8, 4), (2, 2))
    queue.enqueue_nd_range_kernel(kernel, (8, 4), (4, 2)).wait()
    grid = queue.enqueue_read_buffer(out).view(np.int32)[:32].reshape(4, 8)
    np.testing.assert_array_equal(grid, np.tile(3 * (np.arange(8) % 4), (4, 1)))
    kernel.release()
    out.release()


def test_kernel_local_mem_size_counts_local_arguments(built, device):
    _, program = built
    kernel = program.create_kernel("reverse_groups")
    kernel.set_arg(2, cl.LocalMemory(4096))
    assert kernel.get_work_group_info(device, raw.CL_KERNEL_LOCAL_MEM_SIZE) >= 4096
    kernel.release()


def test_create_kernel_errors(built, context):
    _, program = built
    with pytest.raises(errors.InvalidKernelName):
        program.create_kernel("no_such_kernel")
    unbuilt = context.create_program_with_source(SOURCE)
    with pytest.raises(errors.InvalidProgramExecutable):
        unbuilt.create_kernel("scalars")
    with pytest.raises(errors.InvalidProgramExecutable):
        unbuilt.create_kernels_in_program()
    with pytest.raises(TypeError, match="kernel name"):
        program.create_kernel(42)
    unbuilt.release()


def test_build_and_compile_options_errors(context, device):
    program = context.create_program_with_source(SOURCE)
    with pytest.raises(errors.InvalidBuildOptions):
        program.build("-no-such-build-option")
    with pytest.raises(errors.InvalidCompilerOptions):
        program.compile("-no-such-compiler-option")
    with pytest.raises(TypeError, match="options"):
        program.build(42)
    with pytest.raises(TypeError, match="Device"):
        program.build("", devices=["device"])
    # Explicit devices, and build() returns the program itself.
    assert program.build("-DSCALE=1", devices=[device]) is program
    assert program.get_build_info(device, raw.CL_PROGRAM_BUILD_STATUS) == cl.BuildStatus.SUCCESS
    program.release()


def test_failed_build_log_is_keyed_by_device_and_shown(context, device):
    program = context.create_program_with_source("__kernel void k(__global int *x) { x[0] = missing_name; }")
    with pytest.raises(errors.BuildProgramFailure) as caught:
        program.build()
    error = caught.value
    assert list(error.build_logs) == [device]
    assert all(isinstance(key, cl.Device) for key in error.build_logs)
    assert "missing_name" in error.build_logs[device]
    assert "missing_name" in str(error) and repr(device) in str(error)
    assert program.get_build_info(device, raw.CL_PROGRAM_BUILD_STATUS) == cl.BuildStatus.ERROR
    assert "missing_name" in program.get_build_info(device, raw.CL_PROGRAM_BUILD_LOG)
    program.release()
