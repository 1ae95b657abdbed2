"""opencl_raw.raw: library loading, lazy functions, extension functions and C semantics,
exercised against the installed ICD loader and PoCL."""
from __future__ import annotations

import ctypes
import json
import os
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from opencl_raw import raw  # noqa: E402
from opencl_raw.errors import FunctionUnavailableError, LibraryNotFoundError  # noqa: E402

POCL_NAME = "Portable Computing Language"


def run_python(code: str, **env_extra) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("OPENCL_RAW_LIBRARY", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60, env=env, cwd=str(ROOT))


def run_json(code: str, **env_extra):
    proc = run_python(code, **env_extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def info_bytes(getter, handle, param) -> bytes:
    size = ctypes.c_size_t()
    assert getter(handle, param, 0, None, ctypes.byref(size)) == raw.CL_SUCCESS
    buf = ctypes.create_string_buffer(size.value)
    assert getter(handle, param, size, buf, None) == raw.CL_SUCCESS
    return buf.raw.rstrip(b"\0")


def pocl():
    """(platform, device) of PoCL, through raw calls only; skips when PoCL is absent."""
    try:
        n = raw.cl_uint()
        if raw.clGetPlatformIDs(0, None, ctypes.byref(n)) != raw.CL_SUCCESS or not n.value:
            pytest.skip("no OpenCL platform")
    except LibraryNotFoundError:
        pytest.skip("no OpenCL library")
    platforms = (raw.cl_platform_id * n.value)()
    assert raw.clGetPlatformIDs(n.value, platforms, None) == raw.CL_SUCCESS
    for platform in platforms:
        if POCL_NAME.encode() in info_bytes(raw.clGetPlatformInfo, platform, raw.CL_PLATFORM_NAME):
            device = raw.cl_device_id()
            if raw.clGetDeviceIDs(platform, raw.CL_DEVICE_TYPE_ALL, 1, ctypes.byref(device), None) == 0:
                return platform, device
    pytest.skip("PoCL is not installed")


@pytest.fixture
def context():
    platform, device = pocl()
    err = raw.cl_int()
    ctx = raw.clCreateContext(None, 1, ctypes.byref(device), None, None, ctypes.byref(err))
    assert err.value == raw.CL_SUCCESS and ctx
    yield platform, device, ctx
    assert raw.clReleaseContext(ctx) == raw.CL_SUCCESS


@pytest.fixture
def queue(context):
    platform, device, ctx = context
    err = raw.cl_int()
    q = raw.clCreateCommandQueueWithProperties(ctx, device, None, ctypes.byref(err))
    assert err.value == raw.CL_SUCCESS and q
    yield platform, device, ctx, q
    assert raw.clReleaseCommandQueue(q) == raw.CL_SUCCESS


# --------------------------------------------------------------------------- #
# Imports and library loading
# --------------------------------------------------------------------------- #

def test_raw_and_checked_import_only_the_standard_library():
    result = run_json("""
        import json, sys
        before = set(sys.modules)
        import opencl_raw.raw, opencl_raw.checked
        new = sorted(set(sys.modules) - before)
        maps = open("/proc/self/maps").read()
        print(json.dumps({"new": new, "stdlib": sorted(sys.stdlib_module_names),
                          "loaded": opencl_raw.raw._library is not None, "mapped": "libOpenCL" in maps}))
    """)
    stdlib = set(result["stdlib"])
    foreign = [m for m in result["new"] if m.split(".")[0] not in stdlib and m.split(".")[0] != "opencl_raw"]
    assert not foreign, foreign
    assert "numpy" not in result["new"]
    assert "opencl_raw.raw" in result["new"] and "opencl_raw.checked" in result["new"]
    # Importing never loads the OpenCL library.
    assert result["loaded"] is False and result["mapped"] is False


def test_missing_library_raises_on_first_call_only():
    result = run_json("""
        import json
        import opencl_raw
        from opencl_raw import raw, checked
        from opencl_raw.errors import LibraryNotFoundError
        out = {"candidates": raw.library_candidates()}
        fn = raw.clGetPlatformIDs          # attribute access does not load anything
        n = raw.cl_uint()
        for label, call in (("raw", lambda: raw.clGetPlatformIDs(0, None, raw.byref(n))),
                            ("again", lambda: raw.clGetPlatformIDs(0, None, raw.byref(n))),
                            ("checked", lambda: checked.clGetPlatformIDs(0, None, raw.byref(n))),
                            ("library_path", raw.library_path)):
            try:
                call()
                out[label] = None
            except Exception as exc:
                out[label] = [type(exc).__name__, isinstance(exc, LibraryNotFoundError),
                              isinstance(exc, OSError), str(exc)]
        # Repeated failures do not pile up traceback frames on a shared exception.
        import traceback
        depths = []
        for _ in range(3):
            try:
                raw.clGetPlatformIDs(0, None, raw.byref(n))
            except LibraryNotFoundError as exc:
                depths.append(len(traceback.extract_tb(exc.__traceback__)))
        out["depths"] = depths
        print(json.dumps(out))
    """, OPENCL_RAW_LIBRARY="/nonexistent/libOpenCL.so", OPENCL_RAW_BACKEND="loader")
    assert result["candidates"] == ["/nonexistent/libOpenCL.so"]
    for label in ("raw", "again", "checked", "library_path"):
        assert result[label] is not None, f"{label}: no exception"
        name, is_lnf, is_oserror, message = result[label]
        assert is_lnf and is_oserror, f"{label}: raised {name}, not LibraryNotFoundError: {message}"
        assert "/nonexistent/libOpenCL.so" in message
        assert "ocl-icd-libopencl1" in message and "pocl-opencl-icd" in message
    assert len(result["depths"]) == 3 and len(set(result["depths"])) == 1, result["depths"]


def test_library_path_is_a_file_and_opencl_raw_library_accepts_it():
    pocl()
    path = raw.library_path()
    assert os.path.isabs(path) and os.path.isfile(path)
    assert "OpenCL" in os.path.basename(path)
    result = run_json("""
        import json
        from opencl_raw import raw
        n = raw.cl_uint()
        status = raw.clGetPlatformIDs(0, None, raw.byref(n))
        print(json.dumps([raw.library_candidates(), status, n.value, raw.library_path()]))
    """, OPENCL_RAW_LIBRARY=path)
    candidates, status, count, loaded = result
    assert candidates == [path]
    assert status == raw.CL_SUCCESS and count >= 1
    assert loaded == os.path.realpath(path)


def test_library_is_loaded_once():
    pocl()
    assert raw.library() is raw.library()
    assert raw.clGetPlatformIDs is raw.clGetPlatformIDs   # resolved once and cached


# --------------------------------------------------------------------------- #
# Unavailable and extension functions
# --------------------------------------------------------------------------- #

def test_unexported_function_is_falsy_and_raises_at_call_time():
    pocl()
    try:
        getattr(raw.library(), "clCreateCommandBufferKHR")
        pytest.skip("this loader exports clCreateCommandBufferKHR")
    except AttributeError:
        pass
    fn = raw.clCreateCommandBufferKHR          # no exception here
    assert not fn and bool(fn) is False
    assert raw.clGetPlatformIDs                # an exported function is truthy
    assert "clCreateCommandBufferKHR" in dir(raw)
    with pytest.raises(FunctionUnavailableError) as info:
        fn(0, None, None, None)
    assert info.value.function == "clCreateCommandBufferKHR"
    assert info.value.requirement == "cl_khr_command_buffer"
    assert "clCreateCommandBufferKHR" in str(info.value) and "cl_khr_command_buffer" in str(info.value)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        raw.clNoSuchFunction
    with pytest.raises(KeyError):
        raw.resolve("clNoSuchFunction")


def test_get_extension_function_command_buffer_on_pocl(queue):
    platform, device, ctx, q = queue
    extensions = info_bytes(raw.clGetDeviceInfo, device, raw.CL_DEVICE_EXTENSIONS).split()
    if b"cl_khr_command_buffer" not in extensions:
        pytest.skip("PoCL here does not list cl_khr_command_buffer")
    create = raw.get_extension_function(platform, "clCreateCommandBufferKHR")
    get_info = raw.get_extension_function(platform, "clGetCommandBufferInfoKHR")
    release = raw.get_extension_function(platform, "clReleaseCommandBufferKHR")
    assert create.argtypes == raw.FUNCTIONS["clCreateCommandBufferKHR"].argtypes
    assert create.restype is raw.cl_command_buffer_khr
    err = raw.cl_int()
    cb = create(1, ctypes.byref(q), None, ctypes.byref(err))
    assert err.value == raw.CL_SUCCESS
    assert isinstance(cb, raw.cl_command_buffer_khr) and cb
    try:
        nq = raw.cl_uint()
        assert get_info(cb, raw.CL_COMMAND_BUFFER_NUM_QUEUES_KHR, ctypes.sizeof(nq), ctypes.byref(nq), None) == 0
        assert nq.value == 1
        state = raw.cl_command_buffer_state_khr()
        assert get_info(cb, raw.CL_COMMAND_BUFFER_STATE_KHR, ctypes.sizeof(state), ctypes.byref(state), None) == 0
        assert state.value == raw.CL_COMMAND_BUFFER_STATE_RECORDING_KHR
    finally:
        assert release(cb) == raw.CL_SUCCESS


def test_get_extension_function_unknown_to_the_platform(context):
    platform, _, _ = context
    # In the headers, but PoCL does not provide it.
    assert not raw.clGetExtensionFunctionAddressForPlatform(platform, b"clGetDeviceImageInfoQCOM")
    with pytest.raises(FunctionUnavailableError) as info:
        raw.get_extension_function(platform, "clGetDeviceImageInfoQCOM")
    assert info.value.function == "clGetDeviceImageInfoQCOM"
    assert "cl_qcom_ext_host_ptr" in str(info.value)
    # Not a function of the headers at all: no prototype to type it with.
    with pytest.raises(KeyError):
        raw.get_extension_function(platform, "clNoSuchFunctionKHR")


# --------------------------------------------------------------------------- #
# C semantics
# --------------------------------------------------------------------------- #

def test_get_platform_ids_with_byref_out_parameters():
    platform, _ = pocl()
    n = raw.cl_uint()
    status = raw.clGetPlatformIDs(0, None, ctypes.byref(n))
    assert type(status) is int and status == raw.CL_SUCCESS and n.value >= 1
    platforms = (raw.cl_platform_id * n.value)()
    assert raw.clGetPlatformIDs(n.value, platforms, None) == raw.CL_SUCCESS
    assert all(isinstance(p, raw.cl_platform_id) and p.value for p in platforms)
    assert platform.value in [p.value for p in platforms]
    # Too small a request is an error code, returned.
    assert raw.clGetPlatformIDs(0, platforms, None) == raw.CL_INVALID_VALUE


def test_status_codes_are_returned_not_raised():
    platform, device = pocl()
    assert raw.clGetPlatformInfo(platform, 0xFFFF, 0, None, None) == raw.CL_INVALID_VALUE == -30
    assert raw.clGetDeviceInfo(device, 0xFFFF, 0, None, None) == -30
    err = raw.cl_int(12345)
    ctx = raw.clCreateContext(None, 0, None, None, None, ctypes.byref(err))   # no devices
    assert not ctx and err.value == raw.CL_INVALID_VALUE


def test_platform_name_is_pocl():
    platform, device = pocl()
    assert POCL_NAME.encode() in info_bytes(raw.clGetPlatformInfo, platform, raw.CL_PLATFORM_NAME)
    kind = raw.cl_device_type()
    assert raw.clGetDeviceInfo(device, raw.CL_DEVICE_TYPE, ctypes.sizeof(kind), ctypes.byref(kind), None) == 0
    assert kind.value & raw.CL_DEVICE_TYPE_CPU


def test_handle_types_are_distinct_pointer_sized_classes():
    names = ["cl_platform_id", "cl_device_id", "cl_context", "cl_command_queue", "cl_mem", "cl_program",
             "cl_kernel", "cl_event", "cl_sampler", "cl_command_buffer_khr", "cl_semaphore_khr"]
    classes = [getattr(raw, n) for n in names]
    assert len(set(classes)) == len(classes)
    for name, cls in zip(names, classes):
        assert cls.__name__ == name
        assert issubclass(cls, ctypes.c_void_p)
        assert ctypes.sizeof(cls) == ctypes.sizeof(ctypes.c_void_p)
        assert repr(cls()) == f"{name}(NULL)" and not cls()
    assert not issubclass(raw.cl_device_id, raw.cl_platform_id)


def test_handles_of_the_wrong_type_are_rejected():
    platform, device = pocl()
    with pytest.raises(ctypes.ArgumentError):
        raw.clGetPlatformInfo(device, raw.CL_PLATFORM_NAME, 0, None, None)
    with pytest.raises(ctypes.ArgumentError):
        raw.clGetDeviceInfo(platform, raw.CL_DEVICE_NAME, 0, None, None)
    with pytest.raises(ctypes.ArgumentError):
        raw.clGetPlatformInfo(platform, "name", 0, None, None)


def test_functions_carry_the_header_prototype():
    fn = raw.clGetDeviceInfo
    proto = raw.FUNCTIONS["clGetDeviceInfo"]
    assert fn.argtypes == proto.argtypes and fn.restype is raw.cl_int
    assert raw.clCreateBuffer.restype is raw.cl_mem
    assert raw.clCreateContext.argtypes[3] is raw.clCreateContext_pfn_notify


def test_vector_round_trip():
    v = raw.cl_float4(1, 2, 3, 4)
    assert list(v) == [1.0, 2.0, 3.0, 4.0] and len(v) == 4
    assert v == raw.cl_float4(1, 2, 3, 4) and v != raw.cl_float4(1, 2, 3, 5)
    assert ctypes.string_at(ctypes.addressof(v), 16) == struct.pack("4f", 1, 2, 3, 4)
    back = raw.cl_float4.from_buffer_copy(struct.pack("4f", 5, 6, 7, 8))
    assert list(back) == [5, 6, 7, 8]
    assert list(raw.cl_float4(9)) == [9, 0, 0, 0]
    with pytest.raises(ValueError):
        raw.cl_float4(1, 2, 3, 4, 5)
    i3 = raw.cl_int3(-1, 2, -3)
    assert list(i3) == [-1, 2, -3, 0] and ctypes.sizeof(i3) == 16


def test_vector_round_trip_through_a_buffer(queue):
    """A cl_float4 fill pattern written by PoCL reads back element for element."""
    _, _, ctx, q = queue
    err = raw.cl_int()
    buf = raw.clCreateBuffer(ctx, raw.CL_MEM_READ_WRITE, 64, None, ctypes.byref(err))
    assert err.value == 0
    try:
        pattern = raw.cl_float4(1.5, -2.0, 3.25, 4e10)
        assert raw.clEnqueueFillBuffer(q, buf, ctypes.byref(pattern), ctypes.sizeof(pattern), 0, 64,
                                       0, None, None) == 0
        out = (raw.cl_float4 * 4)()
        assert raw.clEnqueueReadBuffer(q, buf, raw.CL_TRUE, 0, 64, out, 0, None, None) == 0
        assert [list(x) for x in out] == [[1.5, -2.0, 3.25, struct.unpack("f", struct.pack("f", 4e10))[0]]] * 4
    finally:
        assert raw.clReleaseMemObject(buf) == 0


def test_callback_parameters_accept_none_and_python_functions(context):
    _, device, ctx = context
    # None is a NULL function pointer.
    err = raw.cl_int()
    ctx2 = raw.clCreateContext(None, 1, ctypes.byref(device), None, None, ctypes.byref(err))
    assert err.value == 0 and ctx2
    assert raw.clReleaseContext(ctx2) == 0
    assert raw.clCreateContext_pfn_notify.from_param(None) is None
    # A Python function is called back with C-typed arguments.
    calls = []

    def on_event(event, status, user_data):
        calls.append((event, status, user_data))

    callback = raw.clSetEventCallback_pfn_notify(on_event)
    event = raw.clCreateUserEvent(ctx, ctypes.byref(err))
    assert err.value == 0
    try:
        assert raw.clSetEventCallback(event, raw.CL_COMPLETE, callback, ctypes.c_void_p(0x5A)) == 0
        assert raw.clSetUserEventStatus(event, raw.CL_COMPLETE) == 0
        assert raw.clWaitForEvents(1, ctypes.byref(event)) == 0
        for _ in range(200):
            if calls:
                break
            time.sleep(0.01)
        assert len(calls) == 1
        got_event, status, user_data = calls[0]
        assert isinstance(got_event, raw.cl_event) and got_event.value == event.value
        assert status == raw.CL_COMPLETE and user_data == 0x5A
    finally:
        assert raw.clReleaseEvent(event) == 0


def test_vector_and_struct_sizes():
    sizes = {
        "cl_char2": 2, "cl_float2": 8, "cl_float3": 16, "cl_float4": 16, "cl_double16": 128,
        "cl_int3": 16, "cl_half8": 16, "cl_ulong16": 128,
        "cl_image_format": 8, "cl_image_desc": 72, "cl_buffer_region": 16, "cl_name_version": 68,
        "cl_device_pci_bus_info_khr": 16, "cl_device_topology_amd": 24,
    }
    for name, size in sizes.items():
        assert ctypes.sizeof(getattr(raw, name)) == size, name
    assert raw.cl_float3 is raw.cl_float4
    assert raw.cl_float4._align_ == 16 and raw.cl_double16._align_ == 128
    assert raw.cl_image_desc.buffer.offset == raw.cl_image_desc.mem_object.offset == 64
    topo = raw.cl_device_topology_amd()
    topo.pcie.bus = 3
    assert raw.cl_device_topology_amd.pcie.offset == 0 and topo.raw.data[4] & 0xFF00 == 0x0300
