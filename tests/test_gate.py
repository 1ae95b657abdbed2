"""The version and extension gate (opencl_raw/_gate.py), data-driven from naming.METHODS and raw.FUNCTIONS.

In this process: every gated row is wrapped, and every one raises on a device made to look older
(PoCL's cached version replaced by 1.0). In a subprocess with PoCL and Oclgrind (OpenCL 1.2)
registered together: the 2.x methods raise FunctionUnavailableError naming the version on
Oclgrind and pass the gate on PoCL, and the opt-outs let the calls reach Oclgrind.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import opencl_raw as cl
from opencl_raw import _gate, naming, raw
from opencl_raw._handle import Handle
from opencl_raw.errors import FunctionUnavailableError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OCLGRIND_ICD = "/usr/lib/oclgrind/liboclgrind-rt-icd.so"
SOURCE = "__kernel void twice(__global float *x) { x[get_global_id(0)] *= 2.0f; }"


def _subclasses(cls):
    found, todo = [], [cls]
    while todo:
        klass = todo.pop()
        found.append(klass)
        todo.extend(klass.__subclasses__())
    return found


# --------------------------------------------------------------------------- #
# the table
# --------------------------------------------------------------------------- #

def test_gated_rows_come_from_the_naming_table():
    rows = _gate.gated_rows()
    for c_name, (cls_name, method) in naming.METHODS.items():
        proto = raw.FUNCTIONS[c_name]
        newer = proto.extension is not None or (proto.version is not None and proto.version > (1, 0))
        expected = newer and cls_name != "module" and (cls_name, method) not in _gate.SELF_GATED
        assert ((cls_name, method) in rows) == expected, c_name
        if expected:
            assert rows[cls_name, method] == c_name
    assert rows["Kernel", "clone"] == "clCloneKernel"
    assert rows["CommandQueue", "get_kernel_suggested_local_work_size_khr"] == "clGetKernelSuggestedLocalWorkSizeKHR"
    assert ("Kernel", "set_arg") not in rows                             # OpenCL 1.0: no gate, no cost
    assert _gate.needs("clCloneKernel") == "OpenCL 2.1"
    assert _gate.needs("clCommandNDRangeKernelKHR") == "cl_khr_command_buffer"
    assert _gate.needs("clSetKernelArg") is None
    for row in _gate.SELF_GATED:
        assert row in naming.METHODS.values()


def test_every_gated_row_is_wrapped():
    unimplemented, self_gated = [], []
    for (cls_name, method), c_name in _gate.gated_rows().items():
        cls = getattr(cl, cls_name, None)
        implementers = [k for k in _subclasses(cls) if callable(getattr(k, method, None))] if cls else []
        if not implementers:
            unimplemented.append(f"{cls_name}.{method}")
            continue
        for klass in implementers:
            assert _gate.gate_of(klass, method) == c_name, f"{klass.__name__}.{method} is not gated"
            assert c_name in (getattr(klass, method).__doc__ or "")       # functools.wraps kept the docstring
            if _gate.is_self_gated(klass, method):
                self_gated.append(f"{klass.__name__}.{method}")
    for cls in _subclasses(Handle):
        assert _gate.gate_of(cls, "get_info") is None and _gate.gate_of(cls, "release") is None
    assert _gate.is_self_gated(cl.Context, "create_command_queue_with_properties")
    assert not _gate.is_self_gated(cl.Kernel, "clone")
    print("self-gated (they check and fall back themselves):", ", ".join(self_gated))
    if unimplemented:
        print("rows without an implementation yet (naming tests report them):", ", ".join(unimplemented))


def test_version_parsing():
    assert _gate._parse("OpenCL 1.2 (Oclgrind 21.10)") == (1, 2)
    assert _gate._parse("OpenCL 3.0 PoCL HSTR: pthread") == (3, 0)
    assert _gate._parse("OpenCL 2.1beta") == (2, 1)
    assert _gate._parse("garbage") == (0, 0)


# --------------------------------------------------------------------------- #
# in this process: PoCL made to look like an OpenCL 1.0 device
# --------------------------------------------------------------------------- #

@pytest.fixture
def objects(context, queue, device):
    program = context.create_program_with_source(SOURCE).build()
    kernel = program.create_kernel("twice")
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    kernel.set_arg(0, buffer)
    event = queue.enqueue_nd_range_kernel(kernel, 16)
    event.wait()
    yield {"Platform": device.platform, "Device": device, "Context": context, "CommandQueue": queue,
           "Program": program, "Kernel": kernel, "MemObject": buffer, "Event": event}
    for obj in (event, kernel, program, buffer):
        obj.release()


@pytest.fixture
def looks_old(device, monkeypatch):
    """PoCL's device and platform report OpenCL 1.0 to the gate (its cached versions replaced)."""
    monkeypatch.setitem(_gate._versions, ("device", device._value), (1, 0))
    monkeypatch.setitem(_gate._versions, ("platform", device.platform._value), (1, 0))
    monkeypatch.delenv("OPENCL_RAW_VERSION_GATE", raising=False)


def test_every_gated_method_raises_on_an_older_device(objects, looks_old):
    called = []
    for (cls_name, method), c_name in sorted(_gate.gated_rows().items()):
        obj = objects.get(cls_name)
        if obj is None or not hasattr(obj, method) or _gate.is_self_gated(type(obj), method):
            continue                                    # e.g. Image methods: no image here
        with pytest.raises(FunctionUnavailableError) as caught:
            getattr(obj, method)()                      # the gate comes before argument checks
        assert caught.value.function == c_name
        assert caught.value.requirement == _gate.needs(c_name)
        called.append(c_name)
    for c_name in ("clCloneKernel", "clGetKernelArgInfo", "clGetKernelSubGroupInfo", "clCompileProgram",
                   "clSetProgramSpecializationConstant", "clSetProgramReleaseCallback", "clLinkProgram",
                   "clCreateProgramWithIL", "clCreateProgramWithBuiltInKernels", "clUnloadPlatformCompiler",
                   "clGetKernelSuggestedLocalWorkSizeKHR"):
        assert c_name in called


def test_the_message_names_version_device_and_opt_out(objects, looks_old, device):
    with pytest.raises(FunctionUnavailableError) as caught:
        objects["Kernel"].clone()
    text = str(caught.value)
    assert "clCloneKernel" in text and "OpenCL 2.1" in text and device.name in text
    assert "reports OpenCL 1.0" in text and "OPENCL_RAW_VERSION_GATE=0" in text


def test_opt_outs_reach_the_driver(objects, looks_old, monkeypatch, queue):
    kernel = objects["Kernel"]
    with cl.version_gate(False):
        clone = kernel.clone()                           # PoCL implements it: the call works
    assert clone.function_name == "twice"
    clone.release()
    monkeypatch.setenv("OPENCL_RAW_VERSION_GATE", "0")
    clone = kernel.clone()
    clone.release()
    with cl.version_gate(True):                          # version_gate() wins over the environment
        with pytest.raises(FunctionUnavailableError):
            kernel.clone()


def test_explicit_device_arguments_are_the_devices_involved(objects, device, monkeypatch):
    # A context is new enough, but the device named in the call decides.
    kernel = objects["Kernel"]
    _gate.check(kernel, "clGetKernelSubGroupInfo", device)
    monkeypatch.setitem(_gate._versions, ("device", device._value), (2, 0))
    with pytest.raises(FunctionUnavailableError, match="OpenCL 2.1"):
        kernel.get_sub_group_info(device, raw.CL_KERNEL_MAX_NUM_SUB_GROUPS)
    with pytest.raises(FunctionUnavailableError, match="OpenCL 2.1"):
        kernel.get_sub_group_info(device=device, param=raw.CL_KERNEL_MAX_NUM_SUB_GROUPS)
    monkeypatch.setitem(_gate._versions, ("device", device._value), (1, 1))
    with pytest.raises(FunctionUnavailableError, match="OpenCL 1.2"):
        objects["Program"].compile(devices=[device])


def test_lowest_version_of_the_devices_involved(device, monkeypatch):
    try:
        subs = device.create_sub_devices([raw.CL_DEVICE_PARTITION_EQUALLY, 1])
    except Exception as exc:                             # sub-devices are another area; PoCL has them
        pytest.skip(f"no sub-devices: {exc}")
    sub = subs[0]
    monkeypatch.setitem(_gate._versions, ("device", sub._value), (1, 2))
    _gate.require("clCompileProgram", [device, sub])
    with pytest.raises(FunctionUnavailableError, match="OpenCL 2.1"):
        _gate.require("clCloneKernel", [device, sub])
    # (PoCL 3.1 lists the root device as CL_CONTEXT_DEVICES of a context made from a sub-device,
    # so the sub-device is named in the call instead)
    context = cl.create_context([device])
    kernel = context.create_program_with_source(SOURCE).build().create_kernel("twice")
    kernel.get_work_group_info(sub, raw.CL_KERNEL_WORK_GROUP_SIZE)
    with pytest.raises(FunctionUnavailableError, match="OpenCL 2.1"):
        kernel.get_sub_group_info(sub, raw.CL_KERNEL_MAX_NUM_SUB_GROUPS)
    kernel.release()
    context.release()
    for s in subs:
        s.release()


def test_released_objects_are_reported_not_gated(context):
    program = context.create_program_with_source(SOURCE)
    program.release()
    with pytest.raises(cl.ReleasedHandleError):
        program.compile()


# --------------------------------------------------------------------------- #
# Oclgrind (OpenCL 1.2) and PoCL (3.0) in one process
# --------------------------------------------------------------------------- #

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import opencl_raw as cl
    from opencl_raw import _gate, errors, raw
    from opencl_raw.errors import FunctionUnavailableError

    SOURCE = %r

    def objects(device):
        context = cl.create_context([device])
        queue = context.create_command_queue_with_properties(device, raw.CL_QUEUE_PROFILING_ENABLE)
        program = context.create_program_with_source(SOURCE).build()
        kernel = program.create_kernel("twice")
        buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
        kernel.set_arg(0, buffer)
        event = queue.enqueue_nd_range_kernel(kernel, 16)
        event.wait()
        return {"Platform": device.platform, "Device": device, "Context": context, "CommandQueue": queue,
                "Program": program, "Kernel": kernel, "MemObject": buffer, "Event": event}

    def outcome(call):
        try:
            value = call()
        except FunctionUnavailableError as exc:
            return ["gated", exc.requirement, str(exc)]
        except errors.CLError as exc:
            return ["driver", exc.name]
        except Exception as exc:
            return ["python", type(exc).__name__, str(exc)]
        return ["ok", repr(value)]

    def run_clone(objs):
        clone = objs["Kernel"].clone()
        data = np.arange(16, dtype=np.float32)
        buffer = objs["Context"].create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=data)
        clone.set_arg(0, buffer)
        objs["CommandQueue"].enqueue_nd_range_kernel(clone, 16).wait()
        return objs["CommandQueue"].enqueue_read_buffer(buffer).view(np.float32).tolist()

    def specific(objs, device):
        return {
            "clone": outcome(lambda: run_clone(objs)),
            "spec": outcome(lambda: objs["Program"].set_specialization_constant(0, np.int32(1))),
            "sub_group": outcome(lambda: objs["Kernel"].get_sub_group_info(device, raw.CL_KERNEL_MAX_NUM_SUB_GROUPS)),
            "il": outcome(lambda: objs["Context"].create_program_with_il(b"\\x03\\x02\\x23\\x07")),
            "release_callback": outcome(lambda: objs["Program"].set_release_callback(lambda: None)),
            "suggested": outcome(lambda: objs["CommandQueue"].get_kernel_suggested_local_work_size_khr(
                objs["Kernel"], 16)),
        }

    result = {}
    for name, platform in (("oclgrind", "Oclgrind"), ("pocl", "Portable")):
        device = cl.select_device(platform)
        objs = objects(device)
        version = device.version_tuple
        rows = {}
        for (cls_name, method), c_name in sorted(_gate.gated_rows().items()):
            obj = objs.get(cls_name)
            if obj is None or not hasattr(obj, method) or _gate.is_self_gated(type(obj), method):
                rows[c_name] = ["no object"]
                continue
            proto = raw.FUNCTIONS[c_name]
            newer = proto.version is not None and proto.version > version
            unlisted = proto.extension is not None and proto.extension not in _gate.extensions("device", device._value)
            if (newer or unlisted) and sys.argv[1] == "gate":   # must be refused, by the method itself
                rows[c_name] = outcome(lambda: getattr(obj, method)())
            else:                                # must pass the gate (the method is not called)
                                                 # (with the gate off, 2.x calls on Oclgrind could reach
                                                 # empty dispatch entries: only the check is made)
                rows[c_name] = outcome(lambda: _gate.check(obj, c_name))
        entry = {"version": version, "rows": rows}
        if sys.argv[1] == "gate":
            entry["specific"] = specific(objs, device)
            with cl.version_gate(False):
                entry["context_opt_out"] = specific(objs, device)
            if name == "oclgrind":
                queue = objs["Context"].create_command_queue_with_properties(device, raw.CL_QUEUE_PROFILING_ENABLE)
                entry["queue_properties"] = int(queue.properties)
                entry["queue_size"] = outcome(lambda: objs["Context"].create_command_queue_with_properties(
                    device, {raw.CL_QUEUE_SIZE: 1024}))
        else:
            entry["specific"] = specific(objs, device)
        result[name] = entry
    print(json.dumps(result))
""") % SOURCE


def _run(tmp_path, mode, gate_env=None):
    if not os.path.exists(OCLGRIND_ICD):
        pytest.skip(f"Oclgrind is not installed ({OCLGRIND_ICD})")
    vendors = tmp_path / "vendors"
    vendors.mkdir()
    (vendors / "oclgrind.icd").write_text(OCLGRIND_ICD + "\n")
    (vendors / "pocl.icd").write_text("libpocl.so.2\n")
    env = dict(os.environ, OCL_ICD_VENDORS=str(vendors),
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for name in ("OPENCL_RAW_PLATFORM", "OPENCL_RAW_DEVICE", "OPENCL_RAW_VERSION_GATE"):
        env.pop(name, None)
    if gate_env is not None:
        env["OPENCL_RAW_VERSION_GATE"] = gate_env
    script = tmp_path / "gate_script.py"
    script.write_text(SCRIPT)
    proc = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True, timeout=100, env=env,
                          cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


EXPECTED_RESULT = [float(2 * i) for i in range(16)]


def test_oclgrind_is_gated_and_pocl_is_not(tmp_path):
    result = _run(tmp_path, "gate")
    oclgrind, pocl = result["oclgrind"], result["pocl"]
    assert tuple(oclgrind["version"]) == (1, 2) and tuple(pocl["version"]) >= (3, 0)
    gated_on_oclgrind = 0
    for c_name, outcome in oclgrind["rows"].items():
        proto = raw.FUNCTIONS[c_name]
        if outcome == ["no object"]:
            continue
        if proto.extension is None and proto.version > (1, 2):
            assert outcome[:2] == ["gated", proto.requirement], (c_name, outcome)
            assert "Oclgrind" in outcome[2] and "reports OpenCL 1.2" in outcome[2]
            gated_on_oclgrind += 1
        elif proto.extension is None:
            assert outcome == ["ok", "None"], (c_name, outcome)
    assert gated_on_oclgrind >= 8
    for c_name, outcome in pocl["rows"].items():
        proto = raw.FUNCTIONS[c_name]
        if outcome == ["no object"]:
            continue
        if proto.extension is None:
            assert outcome == ["ok", "None"], (c_name, outcome)  # PoCL 3.0: every core row passes the gate
    # the same methods: refused on Oclgrind before the driver, reaching PoCL
    specific = oclgrind["specific"]
    assert specific["clone"][:2] == ["gated", "OpenCL 2.1"]
    assert specific["spec"][:2] == ["gated", "OpenCL 2.2"]
    assert specific["sub_group"][:2] == ["gated", "OpenCL 2.1"]
    assert specific["il"][:2] == ["gated", "OpenCL 2.1"]
    assert specific["release_callback"][:2] == ["gated", "OpenCL 2.2"]
    assert specific["suggested"][:2] == ["gated", "cl_khr_suggested_local_work_size"]
    specific = pocl["specific"]
    assert specific["clone"] == ["ok", repr(EXPECTED_RESULT)]
    assert specific["spec"] == ["driver", "CL_INVALID_PROGRAM"]        # no IL: refused by the binding
    assert specific["sub_group"] == ["driver", "CL_INVALID_OPERATION"]  # PoCL 3.1: no sub-groups
    assert specific["il"][0] == "driver"                                # PoCL 3.1 takes no IL
    assert specific["release_callback"] == ["driver", "CL_INVALID_OPERATION"]
    assert specific["suggested"][:2] == ["gated", "cl_khr_suggested_local_work_size"]
    # create_command_queue_with_properties on 1.2 uses clCreateCommandQueue; 2.0 properties are refused
    assert oclgrind["queue_properties"] == raw.CL_QUEUE_PROFILING_ENABLE
    assert oclgrind["queue_size"][0] == "python" and oclgrind["queue_size"][1] == "ValueError"
    assert "needs OpenCL 2.0" in oclgrind["queue_size"][2]
    # version_gate(False): the calls reach Oclgrind, which runs clCloneKernel and refuses the rest itself
    opt_out = oclgrind["context_opt_out"]
    assert opt_out["clone"] == ["ok", repr(EXPECTED_RESULT)]
    assert opt_out["spec"] == ["driver", "CL_INVALID_PROGRAM"]          # no IL: refused by the binding
    assert opt_out["sub_group"] == ["driver", "CL_INVALID_OPERATION"]
    assert opt_out["il"] == ["driver", "CL_INVALID_OPERATION"]
    assert opt_out["release_callback"] == ["driver", "CL_INVALID_OPERATION"]
    assert opt_out["suggested"][0] == "gated" and "returned NULL" in opt_out["suggested"][2]
    assert pocl["context_opt_out"] == {**pocl["specific"], "suggested": pocl["context_opt_out"]["suggested"]}


def test_environment_opt_out_reaches_oclgrind(tmp_path):
    result = _run(tmp_path, "env", gate_env="0")
    oclgrind = result["oclgrind"]
    for c_name, outcome in oclgrind["rows"].items():
        assert outcome in (["ok", "None"], ["no object"]), (c_name, outcome)
    specific = oclgrind["specific"]
    assert specific["clone"] == ["ok", repr(EXPECTED_RESULT)]
    assert specific["sub_group"] == ["driver", "CL_INVALID_OPERATION"]
    assert specific["release_callback"] == ["driver", "CL_INVALID_OPERATION"]
