"""Pipes (opencl_raw/memory.py): Context.create_pipe, the Pipe class and its info dispatch.

Neither PoCL 3.1 nor Oclgrind supports pipes: on PoCL the driver's error is recorded, on
Oclgrind (OpenCL 1.2) the version gate's. The Pipe class's wiring (info through
clGetPipeInfo / clGetMemObjectInfo, MemObject.from_handle) is tested without a real pipe.
"""
from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap

import pytest

import opencl_raw as cl
from opencl_raw import _info, checked, errors, raw

OCLGRIND = "/usr/lib/oclgrind/liboclgrind-rt-icd.so"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POCL = "Portable Computing Language"


def test_pocl_has_no_pipes_and_says_invalid_operation(context, device):
    if POCL not in device.platform.name:
        pytest.skip("records PoCL's behaviour")
    assert device.version_tuple >= (2, 0)                      # the gate lets the call through (3.0) ...
    assert device.pipe_support is False                         # ... and the device says it has no pipes
    with pytest.raises(errors.InvalidOperation) as caught:
        context.create_pipe(raw.CL_MEM_READ_WRITE, 16, 64)
    assert caught.value.code == raw.CL_INVALID_OPERATION == -59
    assert caught.value.function == "clCreatePipe"
    with pytest.raises(errors.InvalidOperation):
        context.create_pipe(0, 4, 1, properties={})
    assert context.reference_count == 1


def test_pipe_on_a_device_that_supports_pipes(context, device):
    if not device.get_info(raw.CL_DEVICE_PIPE_SUPPORT):
        pytest.skip("the selected device has no pipe support (PoCL 3.1 has none)")
    pipe = context.create_pipe(raw.CL_MEM_READ_WRITE, 16, 64)
    assert type(pipe) is cl.Pipe
    assert (pipe.packet_size, pipe.max_packets, pipe.properties) == (16, 64, ())
    assert pipe.type == cl.MemObjectType.PIPE and pipe.size >= 16 * 64
    pipe.release()


def test_create_pipe_validation(context, monkeypatch):
    monkeypatch.setattr(checked, "clCreatePipe", lambda *a: (_ for _ in ()).throw(AssertionError("reached the driver")))
    with pytest.raises(ValueError, match="packet_size"):
        context.create_pipe(0, 0, 16)
    with pytest.raises(ValueError, match="max_packets"):
        context.create_pipe(0, 4, 2 ** 32)
    with pytest.raises(TypeError, match="packet_size"):
        context.create_pipe(0, 4.0, 16)
    with pytest.raises(TypeError, match="flags"):
        context.create_pipe("rw", 4, 16)
    with pytest.raises(TypeError, match="properties"):
        context.create_pipe(0, 4, 16, properties=[1])


def test_pipe_class_attributes():
    # CL_PIPE_PROPERTIES wins over CL_MEM_PROPERTIES for .properties; the rest of MemObject stays
    assert cl.Pipe.properties.param == raw.CL_PIPE_PROPERTIES
    assert cl.MemObject.properties.param == raw.CL_MEM_PROPERTIES
    assert cl.Pipe.packet_size.param == raw.CL_PIPE_PACKET_SIZE and "clGetPipeInfo" in cl.Pipe.packet_size.__doc__
    assert cl.Pipe.max_packets.param == raw.CL_PIPE_MAX_PACKETS
    assert cl.Pipe.flags is cl.MemObject.flags and cl.Pipe.size is cl.MemObject.size
    assert "clGetPipeInfo" in cl.Pipe.get_info.__doc__ and "clGetMemObjectInfo" in cl.Pipe.get_info.__doc__
    assert issubclass(cl.Pipe, cl.MemObject)


def test_pipe_info_dispatch_and_from_handle(context, monkeypatch):
    # Without a real pipe: a buffer's cl_mem is made to report CL_MEM_OBJECT_PIPE, so from_handle
    # must pick Pipe; its CL_MEM_* params then go to clGetMemObjectInfo and CL_PIPE_* ones to
    # clGetPipeInfo (which PoCL, rightly, refuses for a buffer).
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    real = checked.clGetMemObjectInfo
    calls = []

    def fake(memobj, param, size, value, size_ret):
        calls.append(("clGetMemObjectInfo", param))
        if param == raw.CL_MEM_TYPE and value is not None:
            ctypes.memmove(value, ctypes.byref(raw.cl_mem_object_type(raw.CL_MEM_OBJECT_PIPE)), size)
            return None
        return real(memobj, param, size, value, size_ret)

    monkeypatch.setattr(checked, "clGetMemObjectInfo", fake)
    pipe = cl.MemObject.from_handle(buffer.handle)
    assert type(pipe) is cl.Pipe
    assert pipe.size == 64 and ("clGetMemObjectInfo", raw.CL_MEM_SIZE) in calls
    with pytest.raises(errors.CLError) as caught:
        pipe.packet_size
    assert caught.value.function == "clGetPipeInfo"
    with pytest.raises(errors.CLError) as caught:
        pipe.get_pipe_info(raw.CL_PIPE_MAX_PACKETS)
    assert caught.value.function == "clGetPipeInfo"
    with pytest.raises(TypeError, match="Pipe"):
        buffer.get_pipe_info(raw.CL_PIPE_PACKET_SIZE)
    pipe.release()
    buffer.release()


def test_from_handle_picks_the_class_of_every_mem_type():
    from opencl_raw.memory import _class_of_type
    assert _class_of_type(raw.CL_MEM_OBJECT_BUFFER) is cl.Buffer
    assert _class_of_type(raw.CL_MEM_OBJECT_PIPE) is cl.Pipe
    for name in ("IMAGE1D", "IMAGE1D_BUFFER", "IMAGE1D_ARRAY", "IMAGE2D", "IMAGE2D_ARRAY", "IMAGE3D"):
        assert _class_of_type(getattr(raw, f"CL_MEM_OBJECT_{name}")) is cl.Image
    assert _class_of_type(0x1234) is cl.MemObject
    assert set(_info.INFO["Pipe"]) == {"CL_PIPE_PACKET_SIZE", "CL_PIPE_MAX_PACKETS", "CL_PIPE_PROPERTIES"}


OCLGRIND_SCRIPT = textwrap.dedent("""
    import json
    import opencl_raw as cl
    from opencl_raw import raw
    platform = next(p for p in cl.get_platform_ids() if "Oclgrind" in p.name)
    device = platform.get_device_ids()[0]
    context = cl.create_context([device])
    result = {"version": list(device.version_tuple)}
    try:
        context.create_pipe(raw.CL_MEM_READ_WRITE, 4, 16)
    except cl.FunctionUnavailableError as exc:
        result["gated"] = str(exc)
    with cl.version_gate(False):            # Oclgrind does have the entry point
        try:
            context.create_pipe(raw.CL_MEM_READ_WRITE, 4, 16)
        except cl.CLError as exc:
            result["driver"] = [exc.code, exc.function]
    print("RESULT " + json.dumps(result))
""")


def test_pipes_on_oclgrind_are_refused_by_the_version_gate(tmp_path):
    if not os.path.exists(OCLGRIND):
        pytest.skip("Oclgrind is not installed")
    (tmp_path / "oclgrind.icd").write_text(OCLGRIND + "\n")
    (tmp_path / "pocl.icd").write_text("libpocl.so.2\n")
    env = dict(os.environ, OCL_ICD_VENDORS=str(tmp_path), PYTHONPATH=REPO)
    for name in ("OPENCL_RAW_PLATFORM", "OPENCL_RAW_DEVICE", "OPENCL_RAW_VERSION_GATE"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", OCLGRIND_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=100, cwd=str(tmp_path))
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    result = json.loads(lines[-1][len("RESULT "):])
    assert tuple(result["version"]) == (1, 2)
    assert "clCreatePipe" in result["gated"] and "OpenCL 2.0" in result["gated"] and "1.2" in result["gated"]
    assert result["driver"] == [raw.CL_INVALID_OPERATION, "clCreatePipe"]      # observed with the gate off
