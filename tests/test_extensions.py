"""Extension functions per platform (Platform.get_extension_function) and the extension gate,
tested for real with cl_khr_command_buffer on PoCL: record an NDRange, finalize, enqueue twice."""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import _gate, _info, errors, raw
from opencl_raw.errors import FunctionUnavailableError

ACCUMULATE = """
__kernel void accumulate(__global const float *a, __global float *out)
{
    const size_t i = get_global_id(0);
    out[i] += a[i];
}
"""
N = 256
COMMAND_BUFFER_FUNCTIONS = ("clCreateCommandBufferKHR", "clCommandNDRangeKernelKHR", "clFinalizeCommandBufferKHR",
                            "clEnqueueCommandBufferKHR", "clReleaseCommandBufferKHR", "clRetainCommandBufferKHR",
                            "clGetCommandBufferInfoKHR")


@pytest.fixture
def platform(device):
    return device.platform


def _needs_command_buffer(device):
    if "cl_khr_command_buffer" not in device.extensions.split():
        pytest.skip(f"{device.name!r} does not list cl_khr_command_buffer")


# --------------------------------------------------------------------------- #
# get_extension_function
# --------------------------------------------------------------------------- #

def test_extension_listed_on_the_device_only_is_available(platform, device):
    _needs_command_buffer(device)
    # PoCL lists cl_khr_command_buffer in CL_DEVICE_EXTENSIONS, not in CL_PLATFORM_EXTENSIONS
    assert "cl_khr_command_buffer" in _gate.platform_extensions(platform)
    assert set(device.extensions.split()) <= _gate.platform_extensions(platform)
    assert set(platform.extensions.split()) <= _gate.platform_extensions(platform)
    create = platform.get_extension_function("clCreateCommandBufferKHR")
    assert callable(create) and create.__name__ == "clCreateCommandBufferKHR"
    assert "cl_khr_command_buffer" in create.__doc__
    assert platform.get_extension_function("clCreateCommandBufferKHR") is create        # cached per platform
    raw_create = platform.get_extension_function("clCreateCommandBufferKHR", checked=False)
    assert raw_create is not create and raw_create.argtypes == raw.FUNCTIONS["clCreateCommandBufferKHR"].argtypes


def test_checked_raises_and_raw_returns_the_status(platform, device):
    _needs_command_buffer(device)
    finalize = platform.get_extension_function("clFinalizeCommandBufferKHR")
    with pytest.raises(errors.InvalidCommandBufferKhr) as caught:
        finalize(None)                                       # a NULL command buffer
    assert caught.value.function == "clFinalizeCommandBufferKHR"
    raw_finalize = platform.get_extension_function("clFinalizeCommandBufferKHR", checked=False)
    assert raw_finalize(None) == raw.CL_INVALID_COMMAND_BUFFER_KHR
    # the checked create drops errcode_ret: a NULL queue list is the driver's CL_INVALID_VALUE
    with pytest.raises(errors.InvalidValue):
        platform.get_extension_function("clCreateCommandBufferKHR")(0, None, None)


def test_unlisted_extension_fails_before_the_driver_is_asked(platform, monkeypatch):
    asked = []
    real = raw.function("clGetExtensionFunctionAddressForPlatform")
    monkeypatch.setattr(raw, "clGetExtensionFunctionAddressForPlatform",
                        lambda *args: asked.append(args) or real(*args))
    assert "cl_khr_suggested_local_work_size" not in _gate.platform_extensions(platform)
    with pytest.raises(FunctionUnavailableError) as caught:
        platform.get_extension_function("clGetKernelSuggestedLocalWorkSizeKHR")
    error = caught.value
    assert error.function == "clGetKernelSuggestedLocalWorkSizeKHR"
    assert error.requirement == "cl_khr_suggested_local_work_size"
    assert "cl_khr_suggested_local_work_size" in str(error) and platform.name in str(error)
    assert asked == []
    # The gate's opt-out lets the call reach the driver, whose NULL answer is reported
    with cl.version_gate(False):
        with pytest.raises(FunctionUnavailableError, match="returned NULL"):
            platform.get_extension_function("clGetKernelSuggestedLocalWorkSizeKHR", checked=False)
    assert len(asked) == 1 and asked[0][1] == b"clGetKernelSuggestedLocalWorkSizeKHR"


def test_get_extension_function_validates_the_name(platform):
    with pytest.raises(KeyError, match="clNoSuchFunctionKHR"):
        platform.get_extension_function("clNoSuchFunctionKHR")
    with pytest.raises(ValueError, match="core function"):
        platform.get_extension_function("clCreateBuffer")
    with pytest.raises(TypeError, match="str"):
        platform.get_extension_function(b"clCreateCommandBufferKHR")


def test_extension_gate_on_devices(device):
    _needs_command_buffer(device)
    _gate.require("clCreateCommandBufferKHR", [device])           # listed: passes
    with pytest.raises(FunctionUnavailableError) as caught:
        _gate.require("clGetKernelSuggestedLocalWorkSizeKHR", [device])
    assert caught.value.requirement == "cl_khr_suggested_local_work_size"
    assert device.name in str(caught.value)
    with cl.version_gate(False):
        _gate.require("clGetKernelSuggestedLocalWorkSizeKHR", [device])


def test_suggested_local_work_size_method_is_gated_on_its_extension(context, queue):
    # PoCL 3.1 neither lists cl_khr_suggested_local_work_size nor returns its address.
    kernel = context.create_program_with_source(ACCUMULATE).build().create_kernel("accumulate")
    assert _gate.gate_of(cl.CommandQueue, "get_kernel_suggested_local_work_size_khr") == \
        "clGetKernelSuggestedLocalWorkSizeKHR"
    if "cl_khr_suggested_local_work_size" in _gate.extensions("device", queue.device._value):
        local = queue.get_kernel_suggested_local_work_size_khr(kernel, (N,))
        assert len(local) == 1 and N % local[0] == 0
        return
    with pytest.raises(FunctionUnavailableError) as caught:
        queue.get_kernel_suggested_local_work_size_khr(kernel, N)
    assert caught.value.requirement == "cl_khr_suggested_local_work_size"
    with cl.version_gate(False):
        with pytest.raises(FunctionUnavailableError, match="returned NULL"):
            queue.get_kernel_suggested_local_work_size_khr(kernel, N)
        with pytest.raises(TypeError, match="Kernel"):
            queue.get_kernel_suggested_local_work_size_khr("accumulate", N)
        with pytest.raises(ValueError, match="dimensions"):
            queue.get_kernel_suggested_local_work_size_khr(kernel, (N, 1), global_offset=(0,))


# --------------------------------------------------------------------------- #
# cl_khr_command_buffer for real
# --------------------------------------------------------------------------- #

@pytest.fixture
def command_buffer_env(context, queue, device):
    _needs_command_buffer(device)
    functions = {name: device.platform.get_extension_function(name) for name in COMMAND_BUFFER_FUNCTIONS}
    program = context.create_program_with_source(ACCUMULATE).build()
    kernel = program.create_kernel("accumulate")
    a = np.random.default_rng(5).standard_normal(N).astype(np.float32)
    a_buf = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, host_buffer=a)
    out = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR,
                                host_buffer=np.zeros(N, dtype=np.float32))
    kernel.set_args(a_buf, out)
    yield functions, kernel, a, out
    for obj in (kernel, program, a_buf, out):
        obj.release()


def _state(functions, command_buffer):
    return _info.query("CommandBufferKHR", functions["clGetCommandBufferInfoKHR"], (command_buffer,),
                       raw.CL_COMMAND_BUFFER_STATE_KHR)


def _record(functions, queue, kernel, properties=None):
    queues = (raw.cl_command_queue * 1)(queue.handle)
    command_buffer = functions["clCreateCommandBufferKHR"](1, queues, properties)
    assert command_buffer
    global_size = (ctypes.c_size_t * 1)(N)
    sync_point = raw.cl_sync_point_khr()
    functions["clCommandNDRangeKernelKHR"](command_buffer, None, None, kernel.handle, 1, None, global_size, None,
                                           0, None, ctypes.byref(sync_point), None)
    return command_buffer


def test_command_buffer_records_once_and_runs_twice(command_buffer_env, queue):
    functions, kernel, a, out = command_buffer_env
    command_buffer = _record(functions, queue, kernel)
    assert _state(functions, command_buffer) == _info.CommandBufferState.RECORDING_KHR
    with pytest.raises(errors.InvalidOperation):                 # not finalized yet
        functions["clEnqueueCommandBufferKHR"](0, None, command_buffer, 0, None, None)
    functions["clFinalizeCommandBufferKHR"](command_buffer)
    assert _state(functions, command_buffer) == _info.CommandBufferState.EXECUTABLE_KHR
    # (CL_COMMAND_BUFFER_QUEUES_KHR is not read: PoCL 3.1 returns the address of its queue list
    # instead of the cl_command_queue handles, which must not be retained)
    assert _info.query("CommandBufferKHR", functions["clGetCommandBufferInfoKHR"], (command_buffer,),
                       raw.CL_COMMAND_BUFFER_NUM_QUEUES_KHR) == 1
    with pytest.raises(errors.InvalidOperation):                 # finalized: no more recording
        _record_more = (ctypes.c_size_t * 1)(N)
        functions["clCommandNDRangeKernelKHR"](command_buffer, None, None, kernel.handle, 1, None, _record_more,
                                               None, 0, None, None, None)
    for times in (1, 2):
        event = raw.cl_event()
        functions["clEnqueueCommandBufferKHR"](0, None, command_buffer, 0, None, ctypes.byref(event))
        event = cl.Event.from_handle(event, retain=False)
        event.wait()                                             # no simultaneous use: wait before the next
        assert event.command_type == raw.CL_COMMAND_COMMAND_BUFFER_KHR
        np.testing.assert_allclose(queue.enqueue_read_buffer(out).view(np.float32), times * a, rtol=1e-6)
        event.release()
    functions["clRetainCommandBufferKHR"](command_buffer)
    assert _info.query("CommandBufferKHR", functions["clGetCommandBufferInfoKHR"], (command_buffer,),
                       raw.CL_COMMAND_BUFFER_REFERENCE_COUNT_KHR) == 2
    functions["clReleaseCommandBufferKHR"](command_buffer)
    functions["clReleaseCommandBufferKHR"](command_buffer)


def test_command_buffer_simultaneous_use(command_buffer_env, queue, device):
    functions, kernel, a, out = command_buffer_env
    capabilities = device.get_info(raw.CL_DEVICE_COMMAND_BUFFER_CAPABILITIES_KHR)
    if not capabilities & raw.CL_COMMAND_BUFFER_CAPABILITY_SIMULTANEOUS_USE_KHR:
        pytest.skip("no CL_COMMAND_BUFFER_CAPABILITY_SIMULTANEOUS_USE_KHR")
    properties = (raw.cl_command_buffer_properties_khr * 3)(
        raw.CL_COMMAND_BUFFER_FLAGS_KHR, raw.CL_COMMAND_BUFFER_SIMULTANEOUS_USE_KHR, 0)
    command_buffer = _record(functions, queue, kernel, properties)
    functions["clFinalizeCommandBufferKHR"](command_buffer)
    # asked for simultaneous use: two enqueues back to back (an in-order queue still runs them in turn)
    for _ in range(2):
        functions["clEnqueueCommandBufferKHR"](1, (raw.cl_command_queue * 1)(queue.handle), command_buffer,
                                               0, None, None)
    queue.finish()
    np.testing.assert_allclose(queue.enqueue_read_buffer(out).view(np.float32), 2 * a, rtol=1e-6)
    functions["clReleaseCommandBufferKHR"](command_buffer)
