"""opencl_raw.testing: the property checks (hypothesis) against every device, each in a
subprocess (a crash or a hang of the driver is a failure, not the end of the run), and
the checks themselves: with a bug put into the handle layer, each must fail.

The seed is fixed (``OPENCL_RAW_TEST_SEED``, default 0; ``random`` for none) so that a
CI failure can be replayed; the known deviations of each platform are accepted and
listed in the output (see ``opencl_raw.testing.KNOWN_DEVIATIONS``).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")

from opencl_raw import testing  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 100
EXAMPLES = 40


def _seed_args():
    seed = os.environ.get("OPENCL_RAW_TEST_SEED", "0")
    return [] if seed == "random" else ["--seed", seed]


def run_python(args, timeout=TIMEOUT):
    """(exit status, output) of ``python args`` in the repository root; a crash (a signal)
    and a run past ``timeout`` seconds fail the test with the output so far."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    try:
        proc = subprocess.run([sys.executable, *args], cwd=str(ROOT), env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{args} ran past {timeout} s (a hang?); output so far:\n{exc.stdout}\n{exc.stderr}")
    output = proc.stdout + proc.stderr
    if proc.returncode < 0:
        pytest.fail(f"{args} crashed: {signal.Signals(-proc.returncode).name}\n{output[-4000:]}")
    return proc.returncode, output


def check_args(target, check, examples=EXAMPLES):
    return ["-m", "opencl_raw.testing", "--platform", str(target.platform_index), "--device",
            str(target.device_index), "--check", check, "--examples", str(examples), "--accept-known",
            *_seed_args()]


@pytest.mark.parametrize("check", sorted(testing.CHECKS))
def test_check_passes(cl_target, check):
    status, output = run_python(check_args(cl_target, check))
    print(output)
    assert status == 0, output[-6000:]
    assert f"PASS {check}" in output or f"SKIP {check}" in output, output


# --------------------------------------------------------------------------- #
# The checks can fail: a bug in the handle layer, one per check.
# --------------------------------------------------------------------------- #

BUGS = {
    "buffers": ("""
        original = CommandQueue.enqueue_read_buffer
        def enqueue_read_buffer(self, buffer, host=None, *args, **kwargs):
            result = original(self, buffer, host, *args, **kwargs)
            if host is not None:
                np.asarray(host).reshape(-1).view(np.uint8)[-1:] ^= 0x10      # one bit flipped
            return result
        CommandQueue.enqueue_read_buffer = enqueue_read_buffer
    """, ("wrong bytes", "changed")),
    "fill_copy": ("""
        original = CommandQueue.enqueue_copy_buffer
        def enqueue_copy_buffer(self, src, dst, src_offset=0, dst_offset=0, size=None, wait_for=()):
            return original(self, src, dst, src_offset, dst_offset, max(1, (size or 2) - 1), wait_for)  # one short
        CommandQueue.enqueue_copy_buffer = enqueue_copy_buffer
    """, ("wrong bytes", "succeeded; expected")),
    "work_sizes": ("""
        original = CommandQueue.enqueue_nd_range_kernel
        def enqueue_nd_range_kernel(self, kernel, global_size, local_size=None, global_offset=None, wait_for=()):
            return original(self, kernel, global_size, None, global_offset, wait_for)   # local size dropped
        CommandQueue.enqueue_nd_range_kernel = enqueue_nd_range_kernel
    """, ("succeeded; expected",)),
    "wait_lists": ("""
        original = CommandQueue.enqueue_write_buffer
        def enqueue_write_buffer(self, buffer, host, blocking=True, offset=0, wait_for=()):
            return original(self, buffer, host, blocking, offset)                        # wait list dropped
        CommandQueue.enqueue_write_buffer = enqueue_write_buffer
    """, ("user events", "bytes", "succeeded; expected")),
    "images": ("""
        original = CommandQueue.enqueue_read_image
        def enqueue_read_image(self, image, host=None, *args, **kwargs):
            result = original(self, image, host, *args, **kwargs)
            if host is not None:
                np.asarray(host).reshape(-1).view(np.uint8)[:1] ^= 0x01
            return result
        CommandQueue.enqueue_read_image = enqueue_read_image
    """, ("differs", "changed")),
}

DRIVER = """
import sys
import numpy as np
import opencl_raw as cl
from opencl_raw import raw, testing
from opencl_raw.queue import CommandQueue
from opencl_raw.context import Context
{bug}
device = cl.select_device(sys.argv[1], sys.argv[2])
results = testing.run_checks(device, [sys.argv[3]], int(sys.argv[4]), 0, accept="known")
sys.exit({{"PASS": 0, "SKIP": 3, "FAIL": 1}}[results[0].outcome])
"""


def run_with_bug(tmp_path, target, check, bug, examples=EXAMPLES):
    script = tmp_path / f"bug_{check}.py"
    script.write_text(DRIVER.format(bug=textwrap.dedent(bug)))
    return run_python([str(script), str(target.platform_index), str(target.device_index), check, str(examples)])


@pytest.mark.parametrize("check", sorted(BUGS))
def test_check_finds_a_bug(tmp_path, cl_target, check):
    bug, messages = BUGS[check]
    status, output = run_with_bug(tmp_path, cl_target, check, bug)
    if status == 3:
        pytest.skip(output.strip().splitlines()[-1])
    assert status == 1 and f"FAIL {check}" in output, output[-4000:]
    assert any(m in output for m in messages), output[-4000:]


def test_an_unexpected_exception_is_a_failure(tmp_path, cl_target):
    bug = """
        from opencl_raw import errors
        original = Context.create_buffer
        def create_buffer(self, flags=raw.CL_MEM_READ_WRITE, size=None, host_buffer=None):
            if (size or 0) > 1000:
                raise errors.MemObjectAllocationFailure(None, "clCreateBuffer")
            return original(self, flags, size, host_buffer)
        Context.create_buffer = create_buffer
    """
    status, output = run_with_bug(tmp_path, cl_target, "buffers", bug)
    assert status == 1 and "raised MemObjectAllocationFailure" in output and "; expected " in output, output


def test_a_crash_is_a_failure(tmp_path, cl_target):
    bug = """
        import os
        CommandQueue.enqueue_write_buffer = lambda *args, **kwargs: os.abort()
    """
    with pytest.raises(pytest.fail.Exception, match="crashed: SIGABRT"):
        run_with_bug(tmp_path, cl_target, "buffers", bug, examples=3)


# --------------------------------------------------------------------------- #
# The module without a device
# --------------------------------------------------------------------------- #

def test_the_strategies_draw_what_they_promise():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from opencl_raw import raw

    @settings(max_examples=200, deadline=None, database=None)
    @given(flags=testing.mem_flags(), case=testing.work_sizes((8, 8, 8), 16, 256), recipe=testing.wait_list_recipes(),
           buffer=testing.buffer_cases(1024), fill=testing.fill_cases(512), copy=testing.copy_cases(512),
           dtype=testing.dtypes(), data=st.data())
    def check(flags, case, recipe, buffer, fill, copy, dtype, data):
        assert flags & ~(raw.CL_MEM_READ_WRITE | raw.CL_MEM_READ_ONLY | raw.CL_MEM_WRITE_ONLY | raw.CL_MEM_USE_HOST_PTR
                         | raw.CL_MEM_ALLOC_HOST_PTR | raw.CL_MEM_COPY_HOST_PTR | raw.CL_MEM_HOST_WRITE_ONLY
                         | raw.CL_MEM_HOST_READ_ONLY | raw.CL_MEM_HOST_NO_ACCESS) == 0
        assert 1 <= len(case.global_size) <= 3
        assert case.local_size is None or len(case.local_size) == len(case.global_size)
        assert int(__import__("numpy").prod([g for g in case.global_size if g])) <= 256
        assert set(recipe) <= set(testing.WAIT_KINDS) and len(recipe) <= 4
        assert 1 <= buffer.size <= 1024 and buffer.count >= 1 and buffer.offset >= 0
        assert fill.pattern_size in (1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128, 256)
        assert copy.size >= 1 and (not copy.same or copy.src_size == copy.dst_size)
        assert dtype in testing.DTYPES
        formats = {raw.CL_MEM_OBJECT_IMAGE2D: [(raw.CL_RGBA, raw.CL_FLOAT)],
                   raw.CL_MEM_OBJECT_IMAGE1D_ARRAY: [(raw.CL_R, raw.CL_UNSIGNED_INT8)]}
        image = data.draw(testing.image_cases(formats, [(raw.CL_RA, raw.CL_SNORM_INT16)], 8))
        assert image.format in formats.get(image.image_type, []) or not image.supported
        assert len(image.shape) == 2 and all(1 <= e <= 8 for e in image.shape)

    check()


def test_expect_and_attempt():
    from opencl_raw import errors
    ok, value = testing.attempt("x", testing.OK, lambda: 5)
    assert ok and value == 5
    ok, exc = testing.attempt("x", testing.refused("CL_INVALID_VALUE"),
                              lambda: (_ for _ in ()).throw(errors.InvalidValue(None, "clX")))
    assert not ok and isinstance(exc, errors.InvalidValue)
    with pytest.raises(AssertionError, match="succeeded; expected CL_INVALID_VALUE"):
        testing.attempt("x", testing.refused("CL_INVALID_VALUE"), lambda: None)
    with pytest.raises(AssertionError, match="raised InvalidContext.*expected success or ValueError"):
        testing.attempt("x", testing.OK | testing.refused(ValueError),
                        lambda: (_ for _ in ()).throw(errors.InvalidContext(None, "clX")))
    assert testing.flags_conflict(raw_flags("READ_ONLY", "WRITE_ONLY"))
    assert not testing.flags_conflict(raw_flags("READ_ONLY", "COPY_HOST_PTR", "HOST_NO_ACCESS"))
    with pytest.raises(ValueError, match="unknown deviations"):
        testing._accepted(None, ["no-such-deviation"])


def test_known_deviations_belong_to_their_platform_and_are_used():
    import inspect
    from types import SimpleNamespace
    source = inspect.getsource(testing).split("KNOWN_DEVIATIONS: Dict", 1)[1].split("\n}\n", 1)[1]
    platforms = {"pocl": "Portable Computing Language", "oclgrind": "Oclgrind", "nvidia": "NVIDIA CUDA"}
    for name, deviation in testing.KNOWN_DEVIATIONS.items():
        assert deviation.platform == platforms[name.split("-")[0]], name
        assert f'"{name}"' in source, f"no check accepts {name}"
    nvidia = SimpleNamespace(platform=SimpleNamespace(name="NVIDIA CUDA"))
    assert set(testing.known_deviations(nvidia)) == {"nvidia-unlisted-image-format", "nvidia-copy-overlap",
                                                     "nvidia-kernel-work-group-size"}


def raw_flags(*names):
    from opencl_raw import raw
    value = 0
    for name in names:
        value |= getattr(raw, f"CL_MEM_{name}")
    return value


def test_command_line_lists_and_refuses_unknown_devices():
    status, output = run_python(["-m", "opencl_raw.testing", "--list"])
    assert status == 0 and "checks: buffers, fill_copy, work_sizes, wait_lists, images" in output, output
    assert "oclgrind-empty-ndrange" in output
    status, output = run_python(["-m", "opencl_raw.testing", "--platform", "no such platform"])
    assert status == 2 and "error: no platform name contains 'no such platform'" in output, output
