"""opencl_raw.checked: same functions as raw, errors raised, errcode_ret dropped, build logs,
exercised with real calls on PoCL."""
from __future__ import annotations

import ctypes
import inspect
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from opencl_raw import checked, errors, raw  # noqa: E402
from opencl_raw.errors import CLError, LibraryNotFoundError  # noqa: E402

POCL_NAME = b"Portable Computing Language"
BAD_SOURCE = "__kernel void k(__global int *a) { a[0] = undefined_symbol_xyz; }\n"
GOOD_SOURCE = "__kernel void k(__global int *a) { a[get_global_id(0)] *= 2; }\n"


def pocl():
    """(platform, device) of PoCL, found with raw calls; skips when PoCL is absent."""
    try:
        n = raw.cl_uint()
        if raw.clGetPlatformIDs(0, None, ctypes.byref(n)) != 0 or not n.value:
            pytest.skip("no OpenCL platform")
    except LibraryNotFoundError:
        pytest.skip("no OpenCL library")
    platforms = (raw.cl_platform_id * n.value)()
    assert raw.clGetPlatformIDs(n.value, platforms, None) == 0
    for platform in platforms:
        size = ctypes.c_size_t()
        assert raw.clGetPlatformInfo(platform, raw.CL_PLATFORM_NAME, 0, None, ctypes.byref(size)) == 0
        name = ctypes.create_string_buffer(size.value)
        assert raw.clGetPlatformInfo(platform, raw.CL_PLATFORM_NAME, size, name, None) == 0
        if POCL_NAME in name.value:
            device = raw.cl_device_id()
            if raw.clGetDeviceIDs(platform, raw.CL_DEVICE_TYPE_ALL, 1, ctypes.byref(device), None) == 0:
                return platform, device
    pytest.skip("PoCL is not installed")


@pytest.fixture
def context():
    platform, device = pocl()
    ctx = checked.clCreateContext(None, 1, ctypes.byref(device), None, None)
    yield platform, device, ctx
    checked.clReleaseContext(ctx)


def has_errcode(proto) -> bool:
    return bool(proto.params) and proto.params[-1][0] == "errcode_ret" and proto.params[-1][2] == "cl_int *"


def program_from_source(ctx, source: str):
    text = ctypes.c_char_p(source.encode())
    return checked.clCreateProgramWithSource(ctx, 1, ctypes.byref(text), None)


def reference_count(program) -> int:
    n = raw.cl_uint()
    checked.clGetProgramInfo(program, raw.CL_PROGRAM_REFERENCE_COUNT, ctypes.sizeof(n), ctypes.byref(n), None)
    return n.value


# --------------------------------------------------------------------------- #
# Same surface as raw
# --------------------------------------------------------------------------- #

def test_every_function_has_a_checked_twin_with_the_same_arguments():
    assert set(raw.FUNCTIONS) <= set(checked.__all__)
    dropped = 0
    for name, proto in raw.FUNCTIONS.items():
        fn = getattr(checked, name)
        assert callable(fn) and fn.__name__ == name
        params = list(inspect.signature(fn).parameters.values())
        expected = list(proto.param_names)
        if has_errcode(proto):
            expected = expected[:-1]
            dropped += 1
        assert [p.name for p in params] == expected, name
        assert all(p.kind is inspect.Parameter.POSITIONAL_ONLY for p in params), name
        assert name in (fn.__doc__ or ""), name
    # clCreateBuffer, clCreateContext, clCreateKernel, ... drop errcode_ret.
    assert dropped >= 40
    assert list(inspect.signature(checked.clCreateBuffer).parameters) == ["context", "flags", "size", "host_ptr"]


def test_raw_functions_have_the_same_argument_types():
    pocl()
    for name in ("clGetPlatformIDs", "clCreateBuffer", "clBuildProgram", "clEnqueueNDRangeKernel"):
        assert tuple(raw.function(name).argtypes) == raw.FUNCTIONS[name].argtypes


# --------------------------------------------------------------------------- #
# Errors raised with the function name
# --------------------------------------------------------------------------- #

def test_create_buffer_of_size_zero_raises_invalid_buffer_size(context):
    _, _, ctx = context
    with pytest.raises(errors.InvalidBufferSize) as info:
        checked.clCreateBuffer(ctx, raw.CL_MEM_READ_WRITE, 0, None)
    exc = info.value
    assert isinstance(exc, CLError)
    assert (exc.code, exc.name, exc.function) == (-61, "CL_INVALID_BUFFER_SIZE", "clCreateBuffer")
    assert "clCreateBuffer" in str(exc)


def test_bad_info_param_raises_invalid_value():
    _, device = pocl()
    with pytest.raises(errors.InvalidValue) as info:
        checked.clGetDeviceInfo(device, 0xFFFF, 0, None, None)
    assert info.value.function == "clGetDeviceInfo" and info.value.code == -30
    # The raw function returns the same code.
    assert raw.clGetDeviceInfo(device, 0xFFFF, 0, None, None) == -30


def test_status_functions_return_none_on_success():
    _, device = pocl()
    size = ctypes.c_size_t()
    assert checked.clGetDeviceInfo(device, raw.CL_DEVICE_NAME, 0, None, ctypes.byref(size)) is None
    assert size.value > 1


def test_errcode_functions_return_the_object(context):
    _, device, ctx = context
    assert isinstance(ctx, raw.cl_context) and ctx
    buf = checked.clCreateBuffer(ctx, raw.CL_MEM_READ_WRITE, 256, None)
    try:
        assert isinstance(buf, raw.cl_mem) and buf
        size = ctypes.c_size_t()
        checked.clGetMemObjectInfo(buf, raw.CL_MEM_SIZE, ctypes.sizeof(size), ctypes.byref(size), None)
        assert size.value == 256
    finally:
        checked.clReleaseMemObject(buf)
    queue = checked.clCreateCommandQueueWithProperties(ctx, device, None)
    assert isinstance(queue, raw.cl_command_queue) and queue
    checked.clReleaseCommandQueue(queue)


def test_a_whole_kernel_run_through_the_checked_layer(context):
    _, device, ctx = context
    queue = checked.clCreateCommandQueueWithProperties(ctx, device, None)
    program = program_from_source(ctx, GOOD_SOURCE)
    checked.clBuildProgram(program, 1, ctypes.byref(device), None, None, None)
    kernel = checked.clCreateKernel(program, b"k")
    data = (ctypes.c_int * 8)(*range(8))
    buf = checked.clCreateBuffer(ctx, raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, ctypes.sizeof(data), data)
    try:
        checked.clSetKernelArg(kernel, 0, ctypes.sizeof(buf), ctypes.byref(buf))
        size = (ctypes.c_size_t * 1)(8)
        checked.clEnqueueNDRangeKernel(queue, kernel, 1, None, size, None, 0, None, None)
        out = (ctypes.c_int * 8)()
        checked.clEnqueueReadBuffer(queue, buf, raw.CL_TRUE, 0, ctypes.sizeof(out), out, 0, None, None)
        assert list(out) == [2 * i for i in range(8)]
        with pytest.raises(errors.InvalidKernelName) as info:
            checked.clCreateKernel(program, b"no_such_kernel")
        assert info.value.function == "clCreateKernel"
    finally:
        checked.clReleaseMemObject(buf)
        checked.clReleaseKernel(kernel)
        checked.clReleaseProgram(program)
        checked.clReleaseCommandQueue(queue)


# --------------------------------------------------------------------------- #
# Build, compile and link failures carry the logs
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("devices", ["all", "array", "byref"])
def test_failing_build_carries_the_compiler_log(context, devices):
    _, device, ctx = context
    program = program_from_source(ctx, BAD_SOURCE)
    args = {"all": (0, None), "array": (1, (raw.cl_device_id * 1)(device)), "byref": (1, ctypes.byref(device))}
    try:
        with pytest.raises(errors.BuildProgramFailure) as info:
            checked.clBuildProgram(program, *args[devices], None, None, None)
        exc = info.value
        assert exc.function == "clBuildProgram" and exc.code == raw.CL_BUILD_PROGRAM_FAILURE
        assert list(exc.build_logs) == [device.value]
        log = exc.build_logs[device.value]
        assert "undefined_symbol_xyz" in log and "error" in log
        assert "undefined_symbol_xyz" in str(exc)
    finally:
        checked.clReleaseProgram(program)


def test_failing_compile_carries_the_compiler_log(context):
    _, device, ctx = context
    program = program_from_source(ctx, BAD_SOURCE)
    try:
        with pytest.raises(errors.CompileProgramFailure) as info:
            checked.clCompileProgram(program, 1, ctypes.byref(device), None, 0, None, None, None, None)
        exc = info.value
        assert exc.function == "clCompileProgram" and exc.code == raw.CL_COMPILE_PROGRAM_FAILURE
        assert "undefined_symbol_xyz" in exc.build_logs[device.value]
        assert "undefined_symbol_xyz" in str(exc)
    finally:
        checked.clReleaseProgram(program)


def test_failing_link_raises_link_program_failure(context):
    """PoCL returns NULL for a failed link (no program, so no log): the error alone."""
    _, device, ctx = context
    program = program_from_source(ctx, "int helper_xyz(int); __kernel void k(__global int *a) "
                                       "{ a[0] = helper_xyz(a[0]); }\n")
    try:
        checked.clCompileProgram(program, 1, ctypes.byref(device), None, 0, None, None, None, None)
        inputs = (raw.cl_program * 1)(program)
        with pytest.raises(CLError) as info:
            checked.clLinkProgram(ctx, 1, ctypes.byref(device), None, 1, inputs, None, None)
        exc = info.value
        assert exc.function == "clLinkProgram"
        assert isinstance(exc, (errors.LinkProgramFailure, errors.InvalidOperation)), exc
    finally:
        checked.clReleaseProgram(program)


def test_link_failure_that_returns_a_program_reports_its_log_and_releases_it(context):
    """PoCL cannot show this case (it returns NULL), so the raw clLinkProgram is replaced by a
    stand-in that fails the way other drivers do: CL_LINK_PROGRAM_FAILURE plus a program.
    The program and its log are real (a failed PoCL build)."""
    _, _, ctx = context
    program = program_from_source(ctx, BAD_SOURCE)
    try:
        with pytest.raises(errors.BuildProgramFailure):
            checked.clBuildProgram(program, 0, None, None, None, None)
        checked.clRetainProgram(program)
        before = reference_count(program)

        def failing_link(*args):
            args[-1]._obj.value = raw.CL_LINK_PROGRAM_FAILURE   # errcode_ret
            return program

        link = checked._make(raw.FUNCTIONS["clLinkProgram"], failing_link)
        with pytest.raises(errors.LinkProgramFailure) as info:
            link(ctx, 0, None, None, 1, (raw.cl_program * 1)(program), None, None)
        logs = info.value.build_logs
        assert info.value.function == "clLinkProgram"
        assert len(logs) == 1 and "undefined_symbol_xyz" in next(iter(logs.values()))
        assert reference_count(program) == before - 1   # the failed link's program was released
    finally:
        checked.clReleaseProgram(program)


# --------------------------------------------------------------------------- #
# Wrong Python types
# --------------------------------------------------------------------------- #

def test_wrong_python_type_raises_type_error_naming_the_parameter(context):
    _, device, ctx = context
    with pytest.raises(TypeError) as info:
        checked.clGetDeviceInfo(device, "name", 0, None, None)
    assert "'param_name'" in str(info.value) and "clGetDeviceInfo" in str(info.value)
    assert not isinstance(info.value, ctypes.ArgumentError)
    with pytest.raises(TypeError) as info:
        checked.clCreateBuffer(ctx, raw.CL_MEM_READ_WRITE, "big", None)
    assert "'size'" in str(info.value) and "clCreateBuffer" in str(info.value)
    with pytest.raises(TypeError) as info:
        checked.clGetPlatformInfo(device, raw.CL_PLATFORM_NAME, 0, None, None)   # a device is not a platform
    assert "'platform'" in str(info.value)


def test_text_given_for_a_handle_is_refused_before_the_driver(context):
    """ctypes takes str and bytes for a c_void_p (the handle types' base) as a pointer to the
    text, which a driver would read as an object (segfaults seen on PoCL and Oclgrind). The
    checked layer refuses them, naming the parameter, wherever the handle parameter is (a
    call that reached the driver would crash this process rather than raise)."""
    value = raw.cl_uint()
    cases = [(checked.clGetDeviceInfo, ("device", raw.CL_DEVICE_NAME, 4, ctypes.byref(value), None), "'device'"),
             (checked.clCreateKernel, (b"program", b"k"), "'program'"),
             (checked.clEnqueueNDRangeKernel, (None, "kernel", 1, None, None, None, 0, None, None), "'kernel'"),
             (checked.clSVMAlloc, ("context", 0, 64, 0), "'context'")]
    for function, args, parameter in cases:
        with pytest.raises(TypeError, match=f"{parameter} .* must be a handle, got (str|bytes)"):
            function(*args)


def test_wrong_argument_count_is_a_type_error(context):
    _, device, _ = context
    with pytest.raises(TypeError):
        checked.clGetDeviceInfo(device, raw.CL_DEVICE_NAME, 0, None)


def test_checked_get_extension_function(context):
    platform, _, ctx = context
    fn = checked.get_extension_function(platform, "clCreateCommandBufferKHR")
    assert list(inspect.signature(fn).parameters) == ["num_queues", "queues", "properties"]
    with pytest.raises(CLError) as info:
        fn(0, None, None)     # no queues
    assert info.value.function == "clCreateCommandBufferKHR" and info.value.code == raw.CL_INVALID_VALUE
