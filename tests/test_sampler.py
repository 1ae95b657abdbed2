"""Samplers (opencl_raw/sampler.py): creation with and without properties, info, validation,
the choice between clCreateSamplerWithProperties and the deprecated clCreateSampler, samplers as
kernel arguments, and the same on Oclgrind (OpenCL 1.2) in a child process."""
from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import _gate, checked, errors, raw
from opencl_raw.program import kernel_arg

OCLGRIND = "/usr/lib/oclgrind/liboclgrind-rt-icd.so"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _spy(monkeypatch, *names):
    calls = []
    for name in names:
        real = getattr(checked, name)
        monkeypatch.setattr(checked, name, lambda *a, _real=real, _name=name: (calls.append(_name), _real(*a))[1])
    return calls


def test_create_sampler_and_info(context, monkeypatch):
    calls = _spy(monkeypatch, "clCreateSampler", "clCreateSamplerWithProperties")
    sampler = context.create_sampler(True, raw.CL_ADDRESS_REPEAT, raw.CL_FILTER_LINEAR)
    assert calls == ["clCreateSamplerWithProperties"]           # PoCL reports OpenCL 3.0
    assert isinstance(sampler, cl.Sampler)
    assert sampler.normalized_coords is True
    assert sampler.addressing_mode == raw.CL_ADDRESS_REPEAT and isinstance(sampler.addressing_mode, cl.AddressingMode)
    assert sampler.filter_mode == cl.FilterMode.LINEAR
    assert sampler.context == context and sampler.reference_count == 1
    assert dict(sampler.properties) == {raw.CL_SAMPLER_NORMALIZED_COORDS: 1,
                                        raw.CL_SAMPLER_ADDRESSING_MODE: raw.CL_ADDRESS_REPEAT,
                                        raw.CL_SAMPLER_FILTER_MODE: raw.CL_FILTER_LINEAR}
    assert sampler.get_info("CL_SAMPLER_FILTER_MODE") == raw.CL_FILTER_LINEAR
    default = cl.Sampler(context)                               # pixel coordinates, clamp to edge, nearest
    assert (default.normalized_coords, default.addressing_mode, default.filter_mode) == \
        (False, raw.CL_ADDRESS_CLAMP_TO_EDGE, raw.CL_FILTER_NEAREST)
    again = cl.Sampler.from_handle(sampler.handle)
    assert again == sampler and sampler.reference_count == 2
    again.release()
    sampler.release()
    assert sampler.released
    with pytest.raises(cl.ReleasedHandleError):
        sampler.filter_mode
    default.release()
    assert context.reference_count == 1


def test_create_sampler_with_properties(context):
    sampler = context.create_sampler_with_properties({raw.CL_SAMPLER_FILTER_MODE: raw.CL_FILTER_LINEAR})
    # the properties not given take the specification's defaults
    assert (sampler.normalized_coords, sampler.addressing_mode, sampler.filter_mode) == \
        (True, raw.CL_ADDRESS_CLAMP, raw.CL_FILTER_LINEAR)
    assert sampler.properties == ((raw.CL_SAMPLER_FILTER_MODE, raw.CL_FILTER_LINEAR),)
    plain = context.create_sampler_with_properties()            # None: an empty list, all defaults
    assert (plain.normalized_coords, plain.addressing_mode, plain.filter_mode) == \
        (True, raw.CL_ADDRESS_CLAMP, raw.CL_FILTER_NEAREST)
    assert plain.properties == ()
    pairs = context.create_sampler_with_properties([(raw.CL_SAMPLER_NORMALIZED_COORDS, False),
                                                    (raw.CL_SAMPLER_ADDRESSING_MODE, raw.CL_ADDRESS_NONE)])
    assert pairs.normalized_coords is False and pairs.addressing_mode == cl.AddressingMode.NONE
    with pytest.raises(errors.InvalidValue) as caught:
        context.create_sampler_with_properties({0x1234: 1})
    assert caught.value.function == "clCreateSamplerWithProperties"
    with pytest.raises(TypeError):
        context.create_sampler_with_properties({raw.CL_SAMPLER_FILTER_MODE: "linear"})
    for obj in (sampler, plain, pairs):
        obj.release()


def test_pocl_refuses_a_null_property_list(context, device):
    # Recorded driver behaviour: the specification allows NULL (all defaults), PoCL 3.1 returns
    # CL_INVALID_VALUE; that is why create_sampler_with_properties(None) sends an empty list.
    if "Portable Computing Language" not in device.platform.name:
        pytest.skip("records PoCL's behaviour")
    with pytest.raises(errors.InvalidValue):
        checked.clCreateSamplerWithProperties(context, None)


def test_create_sampler_validation(context, monkeypatch):
    # nothing may reach the driver
    for name in ("clCreateSampler", "clCreateSamplerWithProperties"):
        monkeypatch.setattr(checked, name, lambda *a: (_ for _ in ()).throw(AssertionError("reached the driver")))
    with pytest.raises(ValueError, match="CL_ADDRESS_CLAMP_TO_EDGE"):
        context.create_sampler(False, 0x1234, raw.CL_FILTER_NEAREST)
    with pytest.raises(ValueError, match="CL_FILTER_LINEAR"):
        context.create_sampler(False, raw.CL_ADDRESS_CLAMP, raw.CL_ADDRESS_CLAMP)
    with pytest.raises(TypeError, match="addressing_mode"):
        context.create_sampler(False, "clamp", raw.CL_FILTER_NEAREST)
    with pytest.raises(TypeError, match="normalized_coords"):
        context.create_sampler("yes")
    with pytest.raises(TypeError, match="normalized_coords"):
        context.create_sampler(2)
    assert context.reference_count == 1


def test_repeat_needs_normalized_coordinates(context, device):
    # The specification leaves it to the driver: CL_ADDRESS_REPEAT "can only be used with
    # normalized coordinates", else it "may generate image coordinates that are undefined" (the
    # sampler properties table), and clCreateSampler's CL_INVALID_VALUE covers "a combination of
    # these arguments" that is not valid. PoCL refuses the sampler (CL_INVALID_VALUE); NVIDIA 580
    # creates it. Either way nothing else may happen: refused with InvalidValue, or a sampler
    # that reports exactly what was asked.
    try:
        sampler = context.create_sampler(False, raw.CL_ADDRESS_REPEAT, raw.CL_FILTER_NEAREST)
    except errors.InvalidValue as exc:
        assert exc.function in ("clCreateSampler", "clCreateSamplerWithProperties")
        return
    assert "Portable Computing Language" not in device.platform.name, "PoCL refuses it"
    assert (sampler.normalized_coords, sampler.addressing_mode, sampler.filter_mode) == \
        (False, raw.CL_ADDRESS_REPEAT, raw.CL_FILTER_NEAREST)
    sampler.release()


def test_create_sampler_uses_the_deprecated_function_below_2_0(context, device, monkeypatch):
    monkeypatch.setitem(_gate._versions, ("device", device._value), (1, 2))
    calls = _spy(monkeypatch, "clCreateSampler", "clCreateSamplerWithProperties")
    sampler = context.create_sampler(True, raw.CL_ADDRESS_MIRRORED_REPEAT, raw.CL_FILTER_NEAREST)
    assert calls == ["clCreateSampler"]
    assert sampler.addressing_mode == raw.CL_ADDRESS_MIRRORED_REPEAT and sampler.normalized_coords is True
    with pytest.raises(cl.FunctionUnavailableError, match="OpenCL 2.0"):
        context.create_sampler_with_properties({})              # the version gate
    with _gate.version_gate(False):
        extra = context.create_sampler_with_properties({})      # PoCL implements it anyway
    assert calls == ["clCreateSampler", "clCreateSamplerWithProperties"]
    sampler.release()
    extra.release()


def test_sampler_is_a_kernel_argument(context, queue):
    sampler = context.create_sampler()
    size, pointer = kernel_arg(sampler, 0)
    assert size == ctypes.sizeof(raw.cl_sampler)                # the cl_sampler, passed by reference
    assert ctypes.cast(pointer, ctypes.POINTER(ctypes.c_void_p)).contents.value == sampler.handle.value
    source = """
    __kernel void probe(sampler_t s, __read_only image2d_t img, __global int *out) {
        out[0] = read_imagei(img, s, (int2)(1, 0)).x;
    }"""
    program = context.create_program_with_source(source).build()
    kernel = program.create_kernel("probe")
    image = context.create_image(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, (raw.CL_R, raw.CL_SIGNED_INT32),
                                 (2, 1), host_buffer=np.array([-5, 42], dtype=np.int32))
    out = context.create_buffer(raw.CL_MEM_READ_WRITE, 4)
    kernel.set_args(sampler, image, out)
    queue.enqueue_nd_range_kernel(kernel, 1).wait()
    assert queue.enqueue_read_buffer(out).view(np.int32)[0] == 42
    # (observed: PoCL 3.1 also accepts a cl_mem for the sampler_t argument, without
    # CL_INVALID_SAMPLER, so that mix-up is not a driver error one can test for)
    for obj in (kernel, program, image, out, sampler):
        obj.release()


# --------------------------------------------------------------------------- #
# Oclgrind (OpenCL 1.2), in a child process: the ICD loader reads OCL_ICD_VENDORS once
# --------------------------------------------------------------------------- #

OCLGRIND_SCRIPT = textwrap.dedent("""
    import json, math
    import numpy as np
    import opencl_raw as cl
    from opencl_raw import _gate, checked, errors, raw

    calls = []
    for name in ("clCreateSampler", "clCreateSamplerWithProperties", "clCreateImage"):
        real = getattr(checked, name)
        setattr(checked, name, lambda *a, _real=real, _name=name: (calls.append(_name), _real(*a))[1])
    platform = next(p for p in cl.get_platform_ids() if "Oclgrind" in p.name)
    device = platform.get_device_ids()[0]
    context = cl.create_context([device])
    queue = context.create_command_queue_with_properties(device)
    result = {"version": list(device.version_tuple)}
    sampler = context.create_sampler(False, raw.CL_ADDRESS_CLAMP_TO_EDGE, raw.CL_FILTER_NEAREST)
    result["sampler"] = [sampler.normalized_coords, int(sampler.addressing_mode), int(sampler.filter_mode)]
    try:
        context.create_sampler_with_properties({})
    except cl.FunctionUnavailableError as exc:
        result["gate"] = str(exc)
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    image = context.create_image(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, (raw.CL_R, raw.CL_FLOAT), (4, 3),
                                 host_buffer=data)
    source = '''
    __kernel void sample(__read_only image2d_t img, sampler_t s, __global const float2 *c, __global float *out) {
        int i = get_global_id(0);
        out[i] = read_imagef(img, s, c[i]).x;
    }'''
    kernel = context.create_program_with_source(source).build().create_kernel("sample")
    coords = np.array([[0.5, 0.5], [3.7, 2.2], [-4, 1.5], [9, 9]], dtype=np.float32)
    coord_buffer = context.create_buffer(raw.CL_MEM_READ_ONLY | raw.CL_MEM_COPY_HOST_PTR, host_buffer=coords)
    out = context.create_buffer(raw.CL_MEM_READ_WRITE, 16)
    kernel.set_args(image, sampler, coord_buffer, out)
    queue.enqueue_nd_range_kernel(kernel, 4).wait()
    result["sampled"] = queue.enqueue_read_buffer(out).view(np.float32).tolist()
    result["read_back"] = queue.enqueue_read_image(image).tolist()
    result["calls"] = calls
    print("RESULT " + json.dumps(result))
""")


def run_on_oclgrind(tmp_path, script: str) -> dict:
    """Run ``script`` in a child process that sees PoCL and Oclgrind; its ``RESULT {json}`` line."""
    if not os.path.exists(OCLGRIND):
        pytest.skip("Oclgrind is not installed")
    (tmp_path / "oclgrind.icd").write_text(OCLGRIND + "\n")
    (tmp_path / "pocl.icd").write_text("libpocl.so.2\n")
    env = dict(os.environ, OCL_ICD_VENDORS=str(tmp_path), PYTHONPATH=REPO)
    for name in ("OPENCL_RAW_PLATFORM", "OPENCL_RAW_DEVICE", "OPENCL_RAW_VERSION_GATE"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=100,
                          cwd=str(tmp_path))
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    return json.loads(lines[-1][len("RESULT "):])


def test_samplers_and_images_on_oclgrind(tmp_path):
    result = run_on_oclgrind(tmp_path, OCLGRIND_SCRIPT)
    assert tuple(result["version"]) == (1, 2)
    assert result["sampler"] == [False, raw.CL_ADDRESS_CLAMP_TO_EDGE, raw.CL_FILTER_NEAREST]
    assert "OpenCL 2.0" in result["gate"] and "clCreateSamplerWithProperties" in result["gate"]
    assert result["calls"] == ["clCreateSampler", "clCreateImage"]   # 1.2: clCreateImage, no fallback needed
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert result["sampled"] == [data[0, 0], data[2, 3], data[1, 0], data[2, 3]]   # nearest, clamped to the edge
    assert result["read_back"] == data.tolist()
