"""opencl_raw.diagnostics: Oclgrind's kernel checks (out-of-bounds accesses, data races, API
errors) captured from fd 2 and raised with the kernel name.

The kernels with faults run on Oclgrind only, in subprocesses (``run_oclgrind``); the
parser runs without a device; on every device, the capture is a no-op unless it is Oclgrind.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import diagnostics, raw

OOB_WRITE = """
Invalid write of size 4 at global memory address 0x1000000000010
\tKernel: oob
\tEntity: Global(0,0,0) Local(0,0,0) Group(0,0,0)
\t  store i32 1, i32 addrspace(1)* %arrayidx, align 4
\tAt line 1 (column 62) of input.cl:
\t  __kernel void oob(__global int *a) { a[get_global_id(0) + 4] = 1; }
\t

Invalid write of size 4 at global memory address 0x1000000000014
\tKernel: oob
\tEntity: Global(1,0,0) Local(0,0,0) Group(1,0,0)
\t
unrelated line written by someone else

Oclgrind - OpenCL runtime error detected
\tFunction: clEnqueueNDRangeKernel
\tError:    CL_INVALID_WORK_GROUP_SIZE
\tlocal_work_size[0]=4 does not divide global_work_size[0]=7

Work-group divergence detected (barrier)
\tKernel:     div
\tWork-group: (0,0,0)
"""


def test_parse_oclgrind_output():
    messages, other = diagnostics.parse_oclgrind_output(OOB_WRITE)
    assert [m.kernel for m in messages] == ["oob", "oob", None, "div"]
    assert messages[0].kind == "Invalid write of size 4 at global memory address 0x1000000000010"
    assert messages[0].summary == messages[1].summary == "Invalid write of size 4 at global memory address 0x..."
    assert messages[2].function == "clEnqueueNDRangeKernel"
    assert messages[2].summary == "clEnqueueNDRangeKernel: CL_INVALID_WORK_GROUP_SIZE"
    assert "Entity: Global(0,0,0)" in messages[0].text
    assert other == "unrelated line written by someone else"
    error = diagnostics.OclgrindDiagnosticsError(messages)
    assert error.kernels == ["oob", "div"]
    text = str(error)
    assert text.startswith("Oclgrind reported 4 problems:")
    assert "kernel 'oob': 2 x Invalid write of size 4 at global memory address 0x..." in text
    assert "API: 1 x clEnqueueNDRangeKernel: CL_INVALID_WORK_GROUP_SIZE" in text
    assert "kernel 'div': 1 x Work-group divergence detected (barrier)" in text
    assert diagnostics.parse_oclgrind_output("") == ([], "")


def test_exported_from_the_package():
    assert cl.oclgrind_diagnostics is diagnostics.oclgrind_diagnostics
    assert cl.OclgrindDiagnosticsError is diagnostics.OclgrindDiagnosticsError


def test_capture_is_a_no_op_off_oclgrind(cl_target, queue, context, device):
    assert diagnostics.is_oclgrind(queue) is cl_target.simulator
    assert diagnostics.is_oclgrind(device) is diagnostics.is_oclgrind(context) is cl_target.simulator
    assert diagnostics.is_oclgrind(device.platform) is cl_target.simulator
    with pytest.raises(TypeError):
        diagnostics.is_oclgrind(42)
    program = context.create_program_with_source(
        "__kernel void inc(__global int *a) { a[get_global_id(0)] += 1; }").build()
    kernel = program.create_kernel("inc")
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=np.zeros(8, np.int32))
    kernel.set_args(buffer)
    with cl.oclgrind_diagnostics(queue) as found:             # a correct kernel: nothing to report anywhere
        queue.enqueue_nd_range_kernel(kernel, 8).wait()
    assert found.active is cl_target.simulator
    assert found.messages == [] and not found
    assert (queue.enqueue_read_buffer(buffer).view(np.int32) == 1).all()
    for obj in (kernel, program, buffer):
        obj.release()


OCLGRIND_PRELUDE = """
import json, os, sys
import numpy as np
import opencl_raw as cl
from opencl_raw import diagnostics, raw
device = cl.select_device()                      # OPENCL_RAW_PLATFORM=Oclgrind
assert "Oclgrind" in device.platform.name, device.platform.name
SOURCE = '''
__kernel void oob(__global int *a) { a[get_global_id(0) + 4] = 1; }
__kernel void race(__global int *a) { a[0] = (int)get_global_id(0); }
__kernel void fine(__global int *a) { a[get_global_id(0)] = 2; }
'''
MADE = []


def setup():
    context = cl.create_context([device])
    queue = context.create_command_queue_with_properties(device)
    program = context.create_program_with_source(SOURCE).build()
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 16)
    kernels = {name: program.create_kernel(name) for name in ("oob", "race", "fine")}
    for kernel in kernels.values():
        kernel.set_args(buffer)
    kernels["buffer"] = buffer                     # kernel arguments do not keep the buffer alive
    MADE.extend([*kernels.values(), program, queue, context])
    return queue, kernels


def done(result):
    # Released before exit: an Oclgrind command queue left for the exit delays it by ~10 s.
    for obj in MADE:
        obj.release()
    print(json.dumps(result))
"""


def test_out_of_bounds_write_raises_with_the_kernel_name(run_oclgrind):
    out = run_oclgrind(OCLGRIND_PRELUDE + textwrap.dedent("""
        queue, kernels = setup()
        result = {}
        try:
            with cl.oclgrind_diagnostics(queue):
                queue.enqueue_nd_range_kernel(kernels["oob"], 4).wait()
        except cl.OclgrindDiagnosticsError as exc:
            result = {"kernels": exc.kernels, "count": len(exc.messages), "text": str(exc),
                      "kinds": sorted({m.summary for m in exc.messages})}
        with cl.oclgrind_diagnostics(queue, raise_errors=False) as found:     # returned, not raised
            queue.enqueue_nd_range_kernel(kernels["oob"], 2).wait()
        result["returned"] = [(m.kernel, m.summary) for m in found.messages]
        with cl.oclgrind_diagnostics(queue) as clean:
            queue.enqueue_nd_range_kernel(kernels["fine"], 4).wait()
        result["clean"] = len(clean.messages)
        done(result)
    """))
    assert out["kernels"] == ["oob"] and out["count"] == 4, out
    assert out["kinds"] == ["Invalid write of size 4 at global memory address 0x..."], out
    assert "kernel 'oob': 4 x Invalid write of size 4" in out["text"] and "At line 2" in out["text"], out
    assert out["returned"] == [["oob", "Invalid write of size 4 at global memory address 0x..."]] * 2, out
    assert out["clean"] == 0


def test_data_races_and_api_errors_once_enabled(run_oclgrind):
    out = run_oclgrind(OCLGRIND_PRELUDE + textwrap.dedent("""
        previous = diagnostics.enable_oclgrind_checks(data_races=True, check_api=True)   # before the context
        queue, kernels = setup()
        result = {"previous": previous}
        with cl.oclgrind_diagnostics(queue, raise_errors=False) as found:
            queue.enqueue_nd_range_kernel(kernels["race"], 8, 4).wait()
        result["race"] = sorted({(m.kernel, m.summary) for m in found.messages})
        import ctypes
        sizes = (ctypes.c_size_t * 1)(7), (ctypes.c_size_t * 1)(4)       # 4 does not divide 7
        with cl.oclgrind_diagnostics(queue, raise_errors=False) as api:  # the raw call: no check before the driver
            result["status"] = raw.clEnqueueNDRangeKernel(queue.handle, kernels["fine"].handle, 1, None, *sizes,
                                                          0, None, None)
        result["api"] = [(m.function, m.summary) for m in api.messages]
        try:
            with cl.oclgrind_diagnostics(queue) as failed:
                queue.enqueue_nd_range_kernel(kernels["oob"], 1).wait()
                raise KeyError("the block's own error")
        except Exception as exc:                                          # the block's own error wins
            result["raised"] = type(exc).__name__
        result["failed"] = [m.kernel for m in failed.messages]
        done(result)
    """))
    assert out["previous"]["OCLGRIND_DATA_RACES"] is None
    assert out["race"] == [["race", "Write-write data race at global memory address 0x..."]], out
    assert out["status"] == raw.CL_INVALID_WORK_GROUP_SIZE
    assert out["api"] == [["clEnqueueNDRangeKernel", "clEnqueueNDRangeKernel: CL_INVALID_WORK_GROUP_SIZE"]], out
    assert out["raised"] == "KeyError" and out["failed"] == ["oob"], out


def test_other_stderr_text_is_put_back_and_oclgrind_log_is_read(run_oclgrind, tmp_path):
    log = tmp_path / "oclgrind.log"
    out = run_oclgrind(OCLGRIND_PRELUDE + textwrap.dedent(f"""
        import tempfile
        queue, kernels = setup()
        result = {{}}
        # What the block writes to fd 2 that is not Oclgrind's comes back on stderr afterwards.
        with tempfile.TemporaryFile() as sink:
            saved = os.dup(2)
            os.dup2(sink.fileno(), 2)
            try:
                with cl.oclgrind_diagnostics(queue, raise_errors=False) as found:
                    os.write(2, b"a line from elsewhere\\n")
                    queue.enqueue_nd_range_kernel(kernels["oob"], 1).wait()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            sink.seek(0)
            result["stderr"] = sink.read().decode()
        result["found"] = len(found.messages)
        # With OCLGRIND_LOG (read when a context is made), the log file is read instead.
        os.environ["OCLGRIND_LOG"] = {str(log)!r}
        queue, kernels = setup()
        with cl.oclgrind_diagnostics(queue, raise_errors=False) as logged:
            queue.enqueue_nd_range_kernel(kernels["oob"], 3).wait()
        result["logged"] = [m.kernel for m in logged.messages]
        done(result)
    """))
    assert out["stderr"] == "a line from elsewhere\n", out
    assert out["found"] == 1
    assert out["logged"] == ["oob"] * 3, out
    assert "Invalid write" in log.read_text()
