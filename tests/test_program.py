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
    if kernel.arg_types is not None:
        kernel.release()
        pytest.skip("the driver reports argument types without -cl-kernel-arg-info: bare numbers are converted")
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
    # a float where a buffer goes: TypeError where the argument types are known (Oclgrind, or a
    # build with -cl-kernel-arg-info; see test_regressions), else the driver's error
    with pytest.raises((errors.InvalidArgSize, errors.InvalidMemObject, TypeError)):
        kernel.set_arg(0, np.float32(1))
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
        # NVIDIA 580 answers this size_t with 4 bytes: read as a 4-byte integer, with an OpenCLRawWarning
        # (see KNOWN_SIZE_QUIRKS in test_info.py, which checks the warning)
        total = program.get_build_info(device, raw.CL_PROGRAM_BUILD_GLOBAL_VARIABLE_TOTAL_SIZE)
        assert type(total) is int and total >= 0
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


@pytest.mark.not_on_oclgrind("Oclgrind 21.10 returns garbage bytes for CL_KERNEL_ATTRIBUTES")
def test_kernel_info_and_work_group_info(built, device, env):
    context, program = built
    _, queue, _, _ = env
    kernel = program.create_kernel("fixed")
    assert kernel.function_name == "fixed" and kernel.num_args == 1
    assert kernel.program == program and kernel.context == context
    # OpenCL 3.0, clGetKernelInfo, CL_KERNEL_ATTRIBUTES: the attributes "as they were declared inside
    # __attribute__((...))"; the spacing inside is the implementation's (PoCL 3.1 keeps the source's and
    # wraps each in __attribute__((...)), NVIDIA 580 drops the spaces: 'reqd_work_group_size(4,2,1)'), and
    # the conformance test compares with every space removed, as here.
    assert "reqd_work_group_size(4,2,1)" in "".join(kernel.attributes.split())
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


@pytest.mark.not_on_oclgrind("Oclgrind 21.10 answers CL_INVALID_KERNEL_NAME for a program not built "
                             "(CL_INVALID_PROGRAM_EXECUTABLE expected)")
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


@pytest.mark.not_on_oclgrind("Oclgrind 21.10 answers CL_BUILD_PROGRAM_FAILURE for unknown options "
                             "(CL_INVALID_BUILD_OPTIONS expected)")
@pytest.mark.deviation("NVIDIA CUDA", "clBuildProgram with an unknown option answers CL_BUILD_PROGRAM_FAILURE, "
                                      "log 'Don't understand command line argument' (the spec: "
                                      "CL_INVALID_BUILD_OPTIONS for invalid build options) (NVIDIA 580)")
def test_unknown_build_option_is_invalid_build_options(context):
    program = context.create_program_with_source(SOURCE)
    with pytest.raises(errors.InvalidBuildOptions):
        program.build("-no-such-build-option")
    program.release()


@pytest.mark.not_on_oclgrind("Oclgrind 21.10's clCompileProgram answers CL_BUILD_PROGRAM_FAILURE for unknown "
                             "options (CL_INVALID_COMPILER_OPTIONS expected)")
@pytest.mark.deviation("NVIDIA CUDA", "clCompileProgram answers CL_COMPILE_PROGRAM_FAILURE for an unknown option "
                       "(the specification: CL_INVALID_COMPILER_OPTIONS) (NVIDIA 580)")
def test_unknown_compiler_option_is_invalid_compiler_options(context):
    program = context.create_program_with_source(SOURCE)
    with pytest.raises(errors.InvalidCompilerOptions):
        program.compile("-no-such-compiler-option")
    program.release()


def test_build_and_compile_options_errors(context, device):
    program = context.create_program_with_source(SOURCE)
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


# --------------------------------------------------------------------------- #
# compile with embedded headers, link several programs, libraries
# --------------------------------------------------------------------------- #

HEADER = """
#define OFFSET 1000
int scale(int x);
"""
USES_HEADER = """
#include "ops/scale.h"
__kernel void apply(__global int *out) { out[get_global_id(0)] = scale((int)get_global_id(0)) + OFFSET; }
"""
DEFINES_SCALE = "int scale(int x) { return 7 * x - 3; }"
N_LINK = 32


def _run_apply(context, queue, program):
    out = context.create_buffer(raw.CL_MEM_READ_WRITE, N_LINK * 4)
    kernel = program.create_kernel("apply")
    kernel.set_arg(0, out)
    queue.enqueue_nd_range_kernel(kernel, N_LINK).wait()
    result = queue.enqueue_read_buffer(out).view(np.int32).copy()
    kernel.release()
    out.release()
    return result


EXPECTED_APPLY = 7 * np.arange(N_LINK, dtype=np.int32) - 3 + 1000


def test_compile_with_embedded_header_and_link_two_programs(context, queue, device):
    header = context.create_program_with_source(HEADER)
    main = context.create_program_with_source(USES_HEADER)
    assert main.compile(headers={"ops/scale.h": header}) is main
    assert main.get_build_info(device, raw.CL_PROGRAM_BINARY_TYPE) is ProgramBinaryType.COMPILED_OBJECT
    helper = context.create_program_with_source(DEFINES_SCALE).compile()
    executable = context.link_program([main, helper])
    assert executable.get_build_info(device, raw.CL_PROGRAM_BINARY_TYPE) is ProgramBinaryType.EXECUTABLE
    assert executable.kernel_names == "apply"
    np.testing.assert_array_equal(_run_apply(context, queue, executable), EXPECTED_APPLY)
    for p in (header, main, helper, executable):
        p.release()


@pytest.mark.not_on_oclgrind("Oclgrind 21.10's clCompileProgram ignores the input headers")
def test_the_header_is_really_included(context):
    # Without the embedded header the include cannot be found: the headers mapping is what supplies it.
    main = context.create_program_with_source(USES_HEADER)
    with pytest.raises(errors.CompileProgramFailure) as caught:
        main.compile()
    assert "ops/scale.h" in "".join(caught.value.build_logs.values())
    # A header under another name does not satisfy the include either.
    wrong = context.create_program_with_source(HEADER)
    with pytest.raises(errors.CompileProgramFailure):
        context.create_program_with_source(USES_HEADER).compile(headers={"other.h": wrong})
    with pytest.raises(TypeError, match="headers"):
        main.compile(headers={"ops/scale.h": HEADER})
    with pytest.raises(TypeError, match="header name"):
        main.compile(headers={3: wrong})


def test_library_linked_into_an_executable(context, queue, device):
    helper = context.create_program_with_source(DEFINES_SCALE).compile()
    library = context.link_program([helper], "-create-library")
    assert library.get_build_info(device, raw.CL_PROGRAM_BINARY_TYPE) is ProgramBinaryType.LIBRARY
    # clCreateKernel on a library: both CL_INVALID_PROGRAM_EXECUTABLE ("no successfully built executable
    # for program": a library is none; NVIDIA 580) and CL_INVALID_KERNEL_NAME ("apply" is not in it;
    # PoCL 3.1) describe it, and the spec does not order its errors: either is right.
    with pytest.raises((errors.InvalidKernelName, errors.InvalidProgramExecutable)):
        library.create_kernel("apply")
    main = context.create_program_with_source(USES_HEADER).compile(
        headers={"ops/scale.h": context.create_program_with_source(HEADER)})
    executable = context.link_program([main, library], devices=[device])
    np.testing.assert_array_equal(_run_apply(context, queue, executable), EXPECTED_APPLY)
    for p in (helper, library, main, executable):
        p.release()


def test_link_argument_errors(context):
    main = context.create_program_with_source(USES_HEADER)
    with pytest.raises(ValueError, match="at least one"):
        context.link_program([])
    with pytest.raises(TypeError, match="Program"):
        context.link_program([main, "helper"])
    main.release()


#: Each link error runs in a child process: one of them aborted the whole test run on NVIDIA 580
#: (exit status 134, SIGABRT, no traceback), so a driver crash now fails one case, with its name.
LINK_ERROR_PRELUDE = f"""
import json
import opencl_raw as cl
from opencl_raw import errors
device = cl.select_device()          # OPENCL_RAW_PLATFORM / OPENCL_RAW_DEVICE: the test's device
context = cl.create_context([device])
main = context.create_program_with_source({USES_HEADER!r}).compile(
    headers={{"ops/scale.h": context.create_program_with_source({HEADER!r})}})


def report(call):
    try:
        call()
    except errors.CLError as exc:
        print(json.dumps({{"error": type(exc).__name__, "function": exc.function,
                          "logs_of_other_devices": [repr(d) for d in exc.build_logs if d != device]}}))
    else:
        print(json.dumps({{"error": None}}))
"""
#: case -> (code ending in a report(...) of the call, the CLError subclass the spec gives)
LINK_ERROR_CASES = {
    # scale() is declared by the header and defined nowhere
    "undefined_function": ("report(lambda: context.link_program([main]))", "LinkProgramFailure"),
    # a built executable is no link input: OpenCL 3.0, clLinkProgram, CL_INVALID_OPERATION if the rules
    # for input_programs (compiled binaries or libraries) are not followed (refused before the driver:
    # NVIDIA 580 aborts the process)
    "executable_as_input": (
        "built = context.create_program_with_source("
        "'int scale(int x) { return x; }\\n__kernel void k(__global int *o) { o[0] = 1; }').build()\n"
        "report(lambda: context.link_program([built]))", "InvalidOperation"),
    "unknown_linker_option": ("report(lambda: context.link_program([main], '-no-such-linker-option'))",
                              "InvalidLinkerOptions"),
}


@pytest.mark.not_on_oclgrind("Oclgrind 21.10 links a call to a function defined nowhere (no CL_LINK_PROGRAM_FAILURE)")
@pytest.mark.parametrize("case", [
    pytest.param(case, marks=[pytest.mark.deviation(
        "NVIDIA CUDA", "clLinkProgram answers CL_LINK_PROGRAM_FAILURE for an unknown option (the specification: "
        "CL_INVALID_LINKER_OPTIONS) (NVIDIA 580)")] if case == "unknown_linker_option" else [])
    for case in sorted(LINK_ERROR_CASES)])
def test_link_errors(cl_target, case):
    import json
    import os
    import signal
    import subprocess
    import sys
    code, expected = LINK_ERROR_CASES[case]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
               OPENCL_RAW_PLATFORM=cl_target.platform_name, OPENCL_RAW_DEVICE=cl_target.device_name)
    try:
        done = subprocess.run([sys.executable, "-c", LINK_ERROR_PRELUDE + code], capture_output=True, text=True,
                              timeout=90, env=env)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{case}: the link ran past 90 s (a hang in the driver?); output so far: {exc.stdout!r}")
    if done.returncode < 0:
        pytest.fail(f"{case}: the driver killed the process ({signal.Signals(-done.returncode).name}); "
                    f"stderr:\n{done.stderr[-3000:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["error"] == expected, result
    assert result["function"] == "clLinkProgram"
    # PoCL 3.1 returns no program on a failed link, so there may be no log to read back
    assert result["logs_of_other_devices"] == []


LINK_FAILED_COMPILE = """
import opencl_raw as cl
from opencl_raw import checked, errors, raw
device = cl.select_device("Portable")
context = cl.create_context([device])
program = context.create_program_with_source("__kernel void k(__global int *o) { o[0] = undefined_name; }")
try:
    program.compile()
except errors.CompileProgramFailure:
    pass
assert program.get_build_info(device, raw.CL_PROGRAM_BUILD_STATUS) == cl.BuildStatus.ERROR
try:
    context.link_program([program])
except errors.InvalidOperation as exc:
    print("refused:", exc)
"""


def test_linking_a_failed_compile_is_refused_before_the_driver():
    # PoCL 3.1 aborts the process (an assertion in pocl_driver_link_program) when asked to link a
    # program whose compile failed; the binding refuses it first. A subprocess keeps a regression
    # from taking the test session down.
    import subprocess
    import sys
    import os
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", LINK_FAILED_COMPILE], capture_output=True, text=True,
                            timeout=60, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused: clLinkProgram: CL_INVALID_OPERATION (-59): programs[0] failed to compile" in result.stdout


# --------------------------------------------------------------------------- #
# build, compile and link notify callbacks
# --------------------------------------------------------------------------- #

def test_build_callback_gets_the_program(context, device):
    from opencl_raw import _callbacks
    before = _callbacks.pending()
    seen = []
    program = context.create_program_with_source("__kernel void k(__global int *o) { o[0] = 5; }")
    result = program.build("-DX=1", callback=lambda p: seen.append(
        (p, p.get_build_info(device, raw.CL_PROGRAM_BUILD_STATUS))))
    assert result is program
    # With a callback the driver may build in the background; wait for the callback.
    import time
    deadline = time.monotonic() + 30
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(seen) == 1
    called_with, status = seen[0]
    assert isinstance(called_with, cl.Program) and called_with == program and called_with is not program
    assert status is cl.BuildStatus.SUCCESS
    assert _callbacks.pending() == before
    program.release()


def test_failed_build_with_callback_still_raises_and_calls_back(context):
    from opencl_raw import _callbacks
    before = _callbacks.pending()
    seen = []
    program = context.create_program_with_source("__kernel void k(__global int *o) { o[0] = undefined_name; }")
    with pytest.raises(errors.BuildProgramFailure) as caught:
        program.build(callback=seen.append)
    assert "undefined_name" in str(caught.value)
    assert seen == [program]                   # PoCL calls back before clBuildProgram returns
    assert _callbacks.pending() == before
    with pytest.raises(TypeError, match="callable"):
        program.build(callback="not callable")
    program.release()


def test_compile_and_link_callbacks(context, queue):
    calls = []
    helper = context.create_program_with_source(DEFINES_SCALE).compile(callback=lambda p: calls.append(("compile", p)))
    main = context.create_program_with_source(USES_HEADER).compile(
        headers={"ops/scale.h": context.create_program_with_source(HEADER)})
    executable = context.link_program([main, helper], callback=lambda p: calls.append(("link", p)))
    assert calls == [("compile", helper), ("link", executable)]
    np.testing.assert_array_equal(_run_apply(context, queue, executable), EXPECTED_APPLY)


def test_an_exception_in_a_build_callback_goes_to_unraisablehook(context, monkeypatch):
    import sys
    caught = []
    monkeypatch.setattr(sys, "unraisablehook", caught.append)

    def broken(program):
        raise RuntimeError("callback failed")

    program = context.create_program_with_source("__kernel void k(__global int *o) { o[0] = 1; }").build(
        callback=broken)
    assert len(caught) == 1 and isinstance(caught[0].exc_value, RuntimeError)
    assert "callback failed" in str(caught[0].exc_value) and "ctypes callback" in caught[0].err_msg
    if sys.version_info >= (3, 11):
        assert caught[0].exc_value.__notes__ == [f"raised in the OpenCL callback {broken!r}"]
    assert program.kernel_names == "k"             # the build itself succeeded
    program.release()


# --------------------------------------------------------------------------- #
# specialization constants, release callbacks, built-in kernels
# --------------------------------------------------------------------------- #

def test_specialization_constant_on_a_program_without_il(context, device):
    # PoCL takes no IL (CL_DEVICE_IL_VERSION is empty): every program is a source program, and the
    # binding refuses before the driver (PoCL 3.1 aborts on an unbuilt source program, and returns
    # CL_INVALID_PROGRAM on a built one).
    if device.get_info(raw.CL_DEVICE_IL_VERSION).strip():
        pytest.skip("the device takes IL; this tests the path without it")
    for build in (False, True):
        program = context.create_program_with_source("__kernel void k(__global int *o) { o[0] = 1; }")
        if build:
            program.build()
        with pytest.raises(errors.InvalidProgram) as caught:
            program.set_specialization_constant(1, np.int32(7))
        assert caught.value.function == "clSetProgramSpecializationConstant"
        assert caught.value.code == raw.CL_INVALID_PROGRAM and "CL_PROGRAM_IL" in str(caught.value)
        with pytest.raises(errors.InvalidProgram):
            program.set_specialization_constant(0, True)          # a boolean constant
        program.release()
    # The driver's own answer for the built program: OpenCL 3.0, clSetProgramSpecializationConstant lists
    # CL_INVALID_PROGRAM ("not a valid program object created from an intermediate language"; PoCL 3.1)
    # and CL_INVALID_OPERATION ("no devices associated with program support intermediate language
    # programs"; NVIDIA 580). Both hold here (no IL), and the spec does not order them: either is right.
    built = context.create_program_with_source("__kernel void k(__global int *o) { o[0] = 1; }").build()
    value = ctypes.c_int32(7)
    assert raw.clSetProgramSpecializationConstant(built, 1, 4, ctypes.byref(value)) in (
        raw.CL_INVALID_PROGRAM, raw.CL_INVALID_OPERATION)
    built.release()


def test_specialization_constant_validates_first(context):
    program = context.create_program_with_source("__kernel void k(__global int *o) { o[0] = 1; }")
    with pytest.raises(TypeError, match="width"):
        program.set_specialization_constant(1, 7)
    with pytest.raises(TypeError, match="width"):
        program.set_specialization_constant(1, 0.5)
    with pytest.raises(TypeError, match="spec_id"):
        program.set_specialization_constant("1", np.int32(7))
    with pytest.raises(ValueError, match="spec_id"):
        program.set_specialization_constant(-1, np.int32(7))
    with pytest.raises(ValueError, match="empty"):
        program.set_specialization_constant(1, b"")
    with pytest.raises(TypeError, match="unsupported"):
        program.set_specialization_constant(1, [7])
    program.release()


def test_program_release_callback(context, device):
    from opencl_raw import _callbacks
    before = _callbacks.pending()
    program = context.create_program_with_source("__kernel void k(__global int *o) { o[0] = 1; }")
    released = []
    try:
        program.set_release_callback(lambda: released.append(True))
    except errors.InvalidOperation as exc:
        # PoCL 3.1 does not support it (deprecated by OpenCL 3.0, which allows CL_INVALID_OPERATION)
        assert exc.function == "clSetProgramReleaseCallback"
        assert _callbacks.pending() == before               # the entry was dropped again
        program.release()
        assert released == []
    else:
        program.release()
        import time
        deadline = time.monotonic() + 10
        while not released and time.monotonic() < deadline:
            time.sleep(0.01)
        assert released == [True]
    with pytest.raises(TypeError, match="callable"):
        context.create_program_with_source("__kernel void k() {}").set_release_callback(None)


def test_program_with_built_in_kernels(context, device):
    names = [n for n in device.get_info(raw.CL_DEVICE_BUILT_IN_KERNELS).split(";") if n]
    with pytest.raises(errors.InvalidValue) as caught:
        context.create_program_with_built_in_kernels([device], "no.such.kernel")
    assert "built-in kernels" in str(caught.value)
    with pytest.raises(ValueError, match="non-empty"):
        context.create_program_with_built_in_kernels([device], "")
    with pytest.raises(ValueError, match="non-empty"):
        context.create_program_with_built_in_kernels([device], ["a", "b;c"])
    with pytest.raises(ValueError, match="at least one device"):
        context.create_program_with_built_in_kernels([], "a")
    with pytest.raises(TypeError, match="str"):
        context.create_program_with_built_in_kernels([device], [1])
    if not names:
        pytest.skip("the device lists no built-in kernels")
    program = context.create_program_with_built_in_kernels([device], names[:1])
    assert isinstance(program, cl.Program)
    assert program.num_devices == 1 and program.devices == (device,)
    assert program.context == context
    program.release()


# --------------------------------------------------------------------------- #
# kernel: clone, argument info, Python numbers, sub-groups
# --------------------------------------------------------------------------- #

TYPED = """
typedef struct { int a; float b; } pair;
__kernel void typed(__global float *out, const int i, const uint u, const long l, const ulong ul,
                    const float f, const double d, const char c, const uchar uc, const short s,
                    const float4 v, const int3 w, __local volatile int *scratch, __constant float *k,
                    const pair p, __global const int *restrict r)
{
    out[0] = (float)i;  out[1] = (float)u;  out[2] = (float)l;  out[3] = (float)ul;
    out[4] = f;  out[5] = (float)d;  out[6] = (float)c;  out[7] = (float)uc;  out[8] = (float)s;
    out[9] = v.x;  out[10] = v.y;  out[11] = v.z;  out[12] = v.w;
    out[13] = (float)w.x;  out[14] = (float)w.y;  out[15] = (float)w.z;
    out[16] = (float)p.a;  out[17] = p.b;
}
"""
TYPE_NAMES = ("float*", "int", "uint", "long", "ulong", "float", "double", "char", "uchar", "short",
              "float4", "int3", "int*", "float*", "pair", "int*")


@pytest.fixture(scope="module")
def typed_program(device):
    context = cl.create_context([device])
    program = context.create_program_with_source(TYPED).build("-cl-kernel-arg-info")
    yield context, program
    program.release()
    context.release()


def test_arg_info_typed(typed_program):
    from opencl_raw._info import KernelArgAccessQualifier, KernelArgAddressQualifier, KernelArgTypeQualifier
    _, program = typed_program
    kernel = program.create_kernel("typed")
    assert kernel.arg_types == TYPE_NAMES
    assert kernel.get_arg_info(1, raw.CL_KERNEL_ARG_NAME) == "i"
    assert kernel.get_arg_info(0, "CL_KERNEL_ARG_TYPE_NAME") == "float*"
    assert kernel.get_arg_info(0, raw.CL_KERNEL_ARG_ADDRESS_QUALIFIER) is KernelArgAddressQualifier.GLOBAL
    assert kernel.get_arg_info(12, raw.CL_KERNEL_ARG_ADDRESS_QUALIFIER) is KernelArgAddressQualifier.LOCAL
    assert kernel.get_arg_info(13, raw.CL_KERNEL_ARG_ADDRESS_QUALIFIER) is KernelArgAddressQualifier.CONSTANT
    assert kernel.get_arg_info(1, raw.CL_KERNEL_ARG_ADDRESS_QUALIFIER) is KernelArgAddressQualifier.PRIVATE
    assert kernel.get_arg_info(1, raw.CL_KERNEL_ARG_ACCESS_QUALIFIER) is KernelArgAccessQualifier.NONE
    assert kernel.get_arg_info(12, raw.CL_KERNEL_ARG_TYPE_QUALIFIER) == KernelArgTypeQualifier.VOLATILE
    assert kernel.get_arg_info(15, raw.CL_KERNEL_ARG_TYPE_QUALIFIER) == \
        KernelArgTypeQualifier.CONST | KernelArgTypeQualifier.RESTRICT
    assert kernel.get_arg_info(1, raw.CL_KERNEL_ARG_TYPE_QUALIFIER) == 0
    with pytest.raises(errors.InvalidValue):
        kernel.get_arg_info(0, raw.CL_KERNEL_WORK_GROUP_SIZE)
    with pytest.raises(ValueError, match="negative"):
        kernel.get_arg_info(-1, raw.CL_KERNEL_ARG_NAME)
    with pytest.raises(TypeError, match="int"):
        kernel.get_arg_info("0", raw.CL_KERNEL_ARG_NAME)
    kernel.release()


@pytest.mark.deviation("NVIDIA CUDA", "clGetKernelArgInfo with arg_index = the number of arguments answers "
                                      "CL_INVALID_VALUE (the spec: CL_INVALID_ARG_INDEX if arg_index is not a "
                                      "valid argument index) (NVIDIA 580)")
def test_arg_info_index_out_of_range_is_invalid_arg_index(typed_program):
    _, program = typed_program                            # built with -cl-kernel-arg-info
    kernel = program.create_kernel("typed")
    assert kernel.get_arg_info(len(TYPE_NAMES) - 1, raw.CL_KERNEL_ARG_NAME) == "r"
    with pytest.raises(errors.InvalidArgIndex):
        kernel.get_arg_info(len(TYPE_NAMES), raw.CL_KERNEL_ARG_NAME)
    kernel.release()


@pytest.mark.not_on_oclgrind("Oclgrind 21.10 gives kernel argument info without -cl-kernel-arg-info")
def test_arg_info_needs_the_build_option(built):
    _, program = built                                   # built without -cl-kernel-arg-info
    kernel = program.create_kernel("scalars")
    with pytest.raises(errors.KernelArgInfoNotAvailable) as caught:
        kernel.get_arg_info(0, raw.CL_KERNEL_ARG_TYPE_NAME)
    assert "-cl-kernel-arg-info" in str(caught.value)
    assert kernel.arg_types is None
    kernel.release()


def test_python_numbers_follow_the_argument_types(typed_program, device):
    context, program = typed_program
    queue = context.create_command_queue_with_properties(device)
    out = context.create_buffer(raw.CL_MEM_READ_WRITE, 32 * 4)
    constant = context.create_buffer(raw.CL_MEM_READ_ONLY, 16)
    kernel = program.create_kernel("typed")
    pair = np.array([(-9, 0.75)], dtype=[("a", np.int32), ("b", np.float32)])[0]
    kernel.set_args(out, -7, 4000000000, -(2 ** 40), 2 ** 63 + 2 ** 40, 1.5, 2.25, -100, 200, -30000,
                    (1.0, -2.0, 3.5, 8), [5, -6, 7], cl.LocalMemory(64), constant, pair.tobytes(), None)
    queue.enqueue_nd_range_kernel(kernel, 1).wait()
    got = queue.enqueue_read_buffer(out).view(np.float32)[:18]
    expected = np.array([-7, 4000000000, -(2 ** 40), 2 ** 63 + 2 ** 40, 1.5, 2.25, -100, 200, -30000,
                         1.0, -2.0, 3.5, 8, 5, -6, 7, -9, 0.75], dtype=np.float32)
    np.testing.assert_array_equal(got, expected)
    # numpy and ctypes values keep their own width, as before
    kernel.set_arg(1, np.int32(3))
    with pytest.raises(errors.InvalidArgSize):
        kernel.set_arg(1, np.int64(3))
    with pytest.raises(errors.InvalidArgSize):
        kernel.set_arg(5, np.float64(1.0))               # a numpy double stays a double
    for obj in (kernel, out, constant, queue):
        obj.release()


@pytest.mark.parametrize("index, value, error, match", [
    (1, 2 ** 31, ValueError, "outside"),                 # int
    (2, -1, ValueError, "outside"),                      # uint
    (7, 128, ValueError, "outside"),                     # char
    (1, 2.5, TypeError, "truncated"),                    # a float for an int
    (5, 1e300, ValueError, "fit"),                       # float overflow
    (10, (1.0, 2.0, 3.0), ValueError, "needs 4"),        # float4 from 3 values
    (10, (1.0, 2.0, 3.0, "x"), TypeError, "number"),
    (0, 5, TypeError, "width"),                          # a pointer argument takes no number
    (14, 5, TypeError, "width"),                         # a struct neither
    (1, (1, 2), TypeError, "unsupported"),               # a tuple for a scalar
])
def test_python_number_validation(typed_program, index, value, error, match):
    _, program = typed_program
    kernel = program.create_kernel("typed")
    with pytest.raises(error, match=match):
        kernel.set_arg(index, value)
    kernel.release()


def test_argument_types_are_read_once_per_kernel(typed_program, monkeypatch):
    from opencl_raw import checked
    _, program = typed_program
    kernel = program.create_kernel("typed")
    calls = []
    original = checked.clGetKernelArgInfo
    monkeypatch.setattr(checked, "clGetKernelArgInfo", lambda *a: calls.append(a[1]) or original(*a))
    kernel.set_arg(1, 3)
    first = len(calls)
    assert first >= len(TYPE_NAMES)                      # one type-name query per argument (size, then value)
    for value in range(5):
        kernel.set_arg(1, value)
        kernel.set_arg(5, float(value))
    assert len(calls) == first
    clone = kernel.clone()
    clone.set_arg(1, 4)                                  # the clone inherits the cache
    assert len(calls) == first
    for k in (kernel, clone):
        k.release()


def test_size_t_follows_the_address_bits(device):
    from opencl_raw.program import _python_arg
    bits = device.get_info(raw.CL_DEVICE_ADDRESS_BITS)
    data = _python_arg("size_t", 2 ** 32 + 5 if bits == 64 else 5, bits, 0)
    assert len(data) == bits // 8
    assert int.from_bytes(data, "little") == (2 ** 32 + 5 if bits == 64 else 5)
    assert _python_arg("size_t", 1, None, 0) is None     # unknown width: no conversion
    assert _python_arg("uint", 3, 64, 0) == np.uint32(3).tobytes()
    assert _python_arg("half", 0.5, 64, 0) == np.float16(0.5).tobytes()
    assert _python_arg("float3", (1, 2, 3), 64, 0) == np.array([1, 2, 3, 0], np.float32).tobytes()
    assert _python_arg("float*", 1, 64, 0) is None
    with pytest.raises(ValueError, match="outside"):
        _python_arg("ptrdiff_t", 2 ** 63, 64, 0)


def test_clone_keeps_arguments_and_is_independent(env):
    context, queue, program, out = env
    kernel = program.create_kernel("maybe")
    source = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR,
                                   host_buffer=np.array([12.5], dtype=np.float32))
    other_out = context.create_buffer(raw.CL_MEM_READ_WRITE, 4)
    kernel.set_args(out, source)
    clone = kernel.clone()
    assert isinstance(clone, cl.Kernel) and clone != kernel
    assert clone.function_name == "maybe" and clone.program == program
    kernel.set_args(other_out, None)                     # changes the original only
    queue.enqueue_nd_range_kernel(clone, 1).wait()
    queue.enqueue_nd_range_kernel(kernel, 1).wait()
    assert queue.enqueue_read_buffer(out).view(np.float32)[0] == 12.5
    assert queue.enqueue_read_buffer(other_out).view(np.float32)[0] == -1.0
    for obj in (kernel, clone, source, other_out):
        obj.release()


def test_sub_group_info(built, device):
    _, program = built
    kernel = program.create_kernel("reverse_groups")
    if device.max_num_sub_groups == 0:
        # PoCL 3.1 on CPUs has no sub-groups: the driver answers CL_INVALID_OPERATION to every param
        for param, value in ((raw.CL_KERNEL_MAX_SUB_GROUP_SIZE_FOR_NDRANGE, (8,)),
                             (raw.CL_KERNEL_SUB_GROUP_COUNT_FOR_NDRANGE, 8),
                             (raw.CL_KERNEL_LOCAL_SIZE_FOR_SUB_GROUP_COUNT, 1),
                             (raw.CL_KERNEL_MAX_NUM_SUB_GROUPS, None),
                             (raw.CL_KERNEL_COMPILE_NUM_SUB_GROUPS, None)):
            with pytest.raises(errors.InvalidOperation) as caught:
                kernel.get_sub_group_info(device, param, value)
            assert caught.value.function == "clGetKernelSubGroupInfo"
    else:
        size = kernel.get_sub_group_info(device, raw.CL_KERNEL_MAX_SUB_GROUP_SIZE_FOR_NDRANGE, (8,))
        count = kernel.get_sub_group_info(device, raw.CL_KERNEL_SUB_GROUP_COUNT_FOR_NDRANGE, 8)
        assert type(size) is int and 1 <= size <= 8 and count == -(-8 // size)
        assert kernel.get_sub_group_info(device, raw.CL_KERNEL_MAX_NUM_SUB_GROUPS) >= 1
    with pytest.raises(ValueError, match="needs input_value"):
        kernel.get_sub_group_info(device, raw.CL_KERNEL_SUB_GROUP_COUNT_FOR_NDRANGE)
    with pytest.raises(TypeError, match="sub-group count"):
        kernel.get_sub_group_info(device, raw.CL_KERNEL_LOCAL_SIZE_FOR_SUB_GROUP_COUNT, (1,))
    with pytest.raises(ValueError, match="takes no input_value"):
        kernel.get_sub_group_info(device, raw.CL_KERNEL_MAX_NUM_SUB_GROUPS, 4)
    with pytest.raises(ValueError, match="dimensions"):
        kernel.get_sub_group_info(device, raw.CL_KERNEL_SUB_GROUP_COUNT_FOR_NDRANGE, (1, 1, 1, 1))
    with pytest.raises(TypeError, match="Device"):
        kernel.get_sub_group_info("device", raw.CL_KERNEL_MAX_NUM_SUB_GROUPS)
    kernel.release()


# --------------------------------------------------------------------------- #
# native kernels
# --------------------------------------------------------------------------- #

def test_native_kernel_runs_a_python_callable(context, queue, device):
    from opencl_raw import _callbacks
    if not device.get_info(raw.CL_DEVICE_EXECUTION_CAPABILITIES) & raw.CL_EXEC_NATIVE_KERNEL:
        pytest.skip("the device has no CL_EXEC_NATIVE_KERNEL")
    before = _callbacks.pending()
    data = np.arange(64, dtype=np.float32)
    a = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=data)
    b = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=np.zeros(16, np.int32))
    seen = {}

    def saxpy(args, x, y):
        factor, offset = np.frombuffer(args, dtype=np.float32)
        seen["args"] = bytes(args)
        seen["sizes"] = (len(x), len(y))
        values = np.frombuffer(x, dtype=np.float32)
        values *= factor
        values += offset
        np.frombuffer(y, dtype=np.int32)[:] = np.arange(16) * 3

    args = np.array([2.5, -1.0], dtype=np.float32)
    event = queue.enqueue_native_kernel(saxpy, args, [a, b])
    del saxpy                                            # kept alive by the binding until it ran
    import gc
    gc.collect()
    event.wait()
    assert event.command_type == raw.CL_COMMAND_NATIVE_KERNEL
    assert seen["args"] == args.tobytes() and seen["sizes"] == (data.nbytes, 64)
    np.testing.assert_array_equal(queue.enqueue_read_buffer(a).view(np.float32), data * 2.5 - 1.0)
    np.testing.assert_array_equal(queue.enqueue_read_buffer(b).view(np.int32), np.arange(16) * 3)
    assert _callbacks.pending() == before                # the callable's entry is dropped once it ran
    # no args and no memory objects: the callable gets b""
    calls = []
    queue.enqueue_native_kernel(lambda args: calls.append(args)).wait()
    assert calls == [b""]
    for obj in (a, b, event):
        obj.release()


def test_native_kernel_exception_goes_to_unraisablehook(queue, device, monkeypatch):
    import sys
    if not device.get_info(raw.CL_DEVICE_EXECUTION_CAPABILITIES) & raw.CL_EXEC_NATIVE_KERNEL:
        pytest.skip("the device has no CL_EXEC_NATIVE_KERNEL")
    caught = []
    monkeypatch.setattr(sys, "unraisablehook", caught.append)

    def broken(args):
        raise ZeroDivisionError("inside the native kernel")

    event = queue.enqueue_native_kernel(broken, b"\x01\x02")
    event.wait()
    assert event.command_execution_status == cl.CommandExecutionStatus.COMPLETE
    assert len(caught) == 1 and isinstance(caught[0].exc_value, ZeroDivisionError)


def test_native_kernel_validation(queue, context, monkeypatch):
    from opencl_raw import program as program_module
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 16)
    with pytest.raises(TypeError, match="callable"):
        queue.enqueue_native_kernel("print")
    with pytest.raises(TypeError, match="buffer protocol"):
        queue.enqueue_native_kernel(print, args_bytes=3)
    with pytest.raises(TypeError, match="memory objects"):
        queue.enqueue_native_kernel(print, mem_objects=[np.zeros(4)])
    monkeypatch.setattr(program_module, "_runs_native_kernels", lambda device: False)
    with pytest.raises(cl.FunctionUnavailableError) as caught:
        queue.enqueue_native_kernel(print, b"", [buffer])
    assert "CL_EXEC_NATIVE_KERNEL" in str(caught.value) and caught.value.function == "clEnqueueNativeKernel"
    buffer.release()


_FAST_SOURCE = "kernel void axpy(global float *y, global const float *x, float a) " \
               "{ size_t i = get_global_id(0); y[i] += a * x[i]; }"


def test_set_arg_sends_only_changed_values_and_results_stay_right(context, queue, monkeypatch):
    """Issue 7 fast path: OpenCL keeps argument values, so an unchanged one is not sent again."""
    kernel = context.create_program_with_source(_FAST_SOURCE).build().create_kernel("axpy")
    n = 64
    x = np.arange(n, dtype=np.float32)
    y_buf = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=np.zeros(n, np.float32))
    x_buf = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, host_buffer=x)
    sent = []
    real = raw.clSetKernelArg                              # what set_arg calls (counting driver calls)
    monkeypatch.setattr(raw, "clSetKernelArg", lambda *a: (sent.append(a[1]), real(*a))[1])
    a = raw.cl_float(2.0)
    kernel.set_args(y_buf, x_buf, a)
    assert sent == [0, 1, 2]
    kernel.set_args(y_buf, x_buf, a)                       # nothing changed: no driver call
    assert sent == [0, 1, 2]
    assert queue.enqueue_nd_range_kernel(kernel, n, event=False) is None
    a.value = 3.0                                          # the same ctypes object, a new value: sent
    kernel.set_args(y_buf, x_buf, a)
    assert sent == [0, 1, 2, 2]
    queue.enqueue_nd_range_kernel(kernel, (n,)).wait()
    kernel.set_arg(2, np.float32(3.0))                     # the same bytes in another form: not sent
    assert sent == [0, 1, 2, 2]
    kernel.forget_arg_values()
    kernel.set_arg(2, np.float32(3.0))
    assert sent == [0, 1, 2, 2, 2]
    out = np.empty(n, np.float32)
    queue.enqueue_read_buffer(y_buf, out)
    np.testing.assert_allclose(out, 5 * x)


def test_work_size_arrays_are_cached_but_still_checked(queue, context):
    kernel = context.create_program_with_source(_FAST_SOURCE).build().create_kernel("axpy")
    buf = context.create_buffer(raw.CL_MEM_READ_WRITE, 16 * 4)
    kernel.set_args(buf, buf, np.float32(0))
    queue.enqueue_nd_range_kernel(kernel, (16,), event=False)
    queue.enqueue_nd_range_kernel(kernel, (16,), event=False)   # from the cache
    with pytest.raises(TypeError, match="ints"):
        queue.enqueue_nd_range_kernel(kernel, (True,))           # equal to (1,) but not an int
    with pytest.raises(ValueError, match="dimensions"):
        queue.enqueue_nd_range_kernel(kernel, (16,), local_size=(4, 4))
    queue.finish()


def test_a_background_build_keeps_its_program_alive_until_the_callback(context, monkeypatch):
    """A driver that builds in the background calls back after clBuildProgram returned; the
    caller may have dropped the program by then. The registration holds it, so the callback
    gets a valid program; it is let go once the callback ran. (The driver is simulated: PoCL
    and Oclgrind call back before clBuildProgram returns.)"""
    import gc
    import weakref
    from opencl_raw import program as program_module
    pending = []

    def later(handle, n, devices, options, notify, key):      # records the callback instead of building
        pending.append((handle.value, notify, key))
        return raw.CL_SUCCESS

    monkeypatch.setattr(program_module.checked, "clBuildProgram", later)
    got = []
    program = context.create_program_with_source("__kernel void k(__global int *o) { o[0] = 1; }")
    program.build(callback=lambda built: got.append(built.get_info(raw.CL_PROGRAM_SOURCE)))
    alive = weakref.ref(program)
    del program
    gc.collect()
    assert alive() is not None                                 # held by the registration
    (value, notify, key), = pending
    notify(value, key)                                         # the driver calls back, from C
    assert got == ["__kernel void k(__global int *o) { o[0] = 1; }"]
    gc.collect()
    assert alive() is None                                     # let go after the callback
