"""The command line: ``python -m opencl_raw [list | demo ...]``.

The CLI runs in subprocesses (``sys.executable -m opencl_raw``, cwd = repo root);
the image helpers and the numpy reference of ``opencl_raw.__main__`` are also
tested in-process.  The default demo runs on the loader's platform 0 (PoCL
here); ``OPENCL_RAW_PLATFORM`` / ``OPENCL_RAW_DEVICE`` are removed from the
subprocess environment unless a test sets them.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import pytest

from opencl_raw import __main__ as cli

REPO = Path(__file__).resolve().parents[1]
POCL = "Portable Computing Language"
OCLGRIND_ICD = "/usr/lib/oclgrind/liboclgrind-rt-icd.so"
TIMEOUT = 300

# pyproject's default timeout is 120 s; a subprocess may take up to TIMEOUT.
pytestmark = pytest.mark.timeout(TIMEOUT + 60)

STEP_RE = re.compile(r"^\s*Step (\d+):", re.M)
ERROR_RE = re.compile(r"max abs error vs numpy: (\S+) \(allowed (\S+)\): (OK|FAILED)")


def run_cli(*args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """Run ``python -m opencl_raw *args`` from the repo root; ``env`` entries are added (None removes)."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("OPENCL_RAW_PLATFORM", "OPENCL_RAW_DEVICE")}
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    return subprocess.run([sys.executable, "-m", "opencl_raw", *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=TIMEOUT)


def parse_listing(text: str) -> List[Tuple[str, int, str]]:
    """(kind, index, name) rows from a ``clinfo -l``-style listing."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"^Platform #(\d+): (.*)$", line)
        if m:
            rows.append(("platform", int(m.group(1)), m.group(2).strip()))
            continue
        m = re.match(r"^ [`+]-- Device #(\d+): (.*)$", line)
        if m:
            rows.append(("device", int(m.group(1)), m.group(2).strip()))
    return rows


def check_demo_output(proc: subprocess.CompletedProcess, platform: str, device: str, shape: Tuple[int, int]):
    """Exit 0, the platform/device/image lines, steps 1-12 in order and three small errors."""
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    out = proc.stdout
    assert "Traceback" not in proc.stderr
    assert re.search(rf"^  Platform: {re.escape(platform)} \(", out, re.M), out
    assert re.search(rf"^  Device: {re.escape(device)} \(", out, re.M), out
    height, width = shape
    assert re.search(rf"^  Image: .*, {width}x{height} float32", out, re.M), out
    steps = [int(s) for s in STEP_RE.findall(out)]
    first_seen = list(dict.fromkeys(steps))
    assert first_seen == list(range(1, 13)), steps
    assert steps.count(11) == 2 and steps.count(7) == 3 and steps.count(9) == 3, steps
    assert re.search(r"build time: [\d.]+ ms \(clCompileProgram [\d.]+ ms \+ clLinkProgram [\d.]+ ms\)", out), out
    assert len(re.findall(r"Step 9: run the NDRange kernel, global size "
                          rf"{width}x{height}: [\d.]+ ms profiled", out)) == 3, out
    assert len(re.findall(r"Step 8: write buffers .*: [\d.]+ ms host, [\d.]+ ms profiled", out)) == 3, out
    assert len(re.findall(r"Step 10: read buffers .*: [\d.]+ ms host, [\d.]+ ms profiled", out)) == 3, out
    errors = ERROR_RE.findall(out)
    assert len(errors) == 3, out
    for error, allowed, verdict in errors:
        assert verdict == "OK"
        assert 0.0 <= float(error) <= float(allowed)
        # float32 sums of at most 25 terms: far below the default 1e-3 x range
        assert float(error) < 1e-2 * float(allowed)
    assert "All 3 results match the numpy reference." in out
    return out


@pytest.fixture(scope="module")
def default_names() -> Tuple[str, str]:
    """Names of platform 0 / device 0 in the loader's order (what the demo picks by default)."""
    from opencl_raw import get_platform_ids
    try:
        platforms = get_platform_ids()
    except Exception as exc:  # a missing library or driver: nothing to run on
        pytest.skip(f"no OpenCL: {exc}")
    if not platforms or not platforms[0].get_device_ids():
        pytest.skip("no OpenCL platform with a device")
    return platforms[0].name, platforms[0].get_device_ids()[0].name


@pytest.fixture(scope="module")
def pocl_names() -> Tuple[str, str]:
    """(platform, device) names of the first PoCL device; skip without PoCL."""
    from opencl_raw import get_platform_ids
    for platform in get_platform_ids():
        if platform.name == POCL and platform.get_device_ids():
            return platform.name, platform.get_device_ids()[0].name
    pytest.skip("PoCL is not installed")


@pytest.fixture(scope="module")
def small_npy(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("images") / "small.npy"
    np.save(path, cli.make_test_image(64, 64, seed=7))
    return path


@pytest.fixture(scope="module")
def two_platform_vendors(tmp_path_factory) -> Path:
    """An OCL_ICD_VENDORS folder registering PoCL and Oclgrind."""
    if not os.path.exists(OCLGRIND_ICD):
        pytest.skip(f"Oclgrind is not installed ({OCLGRIND_ICD})")
    folder = tmp_path_factory.mktemp("vendors")
    (folder / "pocl.icd").write_text("libpocl.so.2\n")
    (folder / "oclgrind.icd").write_text(OCLGRIND_ICD + "\n")
    return folder


def write_pgm(path: Path, pixels: np.ndarray, maxval: int, comment: bool = False) -> None:
    """A binary P5 PGM: 1 byte per pixel for maxval < 256, else 2 bytes big-endian."""
    height, width = pixels.shape
    header = b"P5\n" + (b"# written by test_main\n" if comment else b"") + f"{width} {height}\n{maxval}\n".encode()
    dtype = np.uint8 if maxval < 256 else np.dtype(">u2")
    path.write_bytes(header + pixels.astype(dtype).tobytes())


# --------------------------------------------------------------------------- #
# list
# --------------------------------------------------------------------------- #

def _clinfo_listing(env: Optional[Dict[str, str]] = None) -> str:
    clinfo = shutil.which("clinfo")
    if clinfo is None:
        pytest.skip("clinfo is not installed")
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([clinfo, "-l"], capture_output=True, text=True, timeout=TIMEOUT, env=full_env,
                          check=True).stdout


@pytest.mark.parametrize("args", [(), ("list",)], ids=["no-argument", "list"])
def test_list_matches_clinfo(args, default_names):
    expected = parse_listing(_clinfo_listing())
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert expected and parse_listing(proc.stdout) == expected, (proc.stdout, expected)
    # every line is part of the listing, in the clinfo layout
    assert len(proc.stdout.splitlines()) == len(expected)
    assert proc.stdout.splitlines()[0] == f"Platform #0: {default_names[0]}"


def test_list_two_platforms_matches_clinfo(two_platform_vendors):
    env = {"OCL_ICD_VENDORS": str(two_platform_vendors)}
    expected = parse_listing(_clinfo_listing(env))
    assert {name for kind, _, name in expected if kind == "platform"} == {POCL, "Oclgrind"}
    proc = run_cli("list", env=env)
    assert proc.returncode == 0, proc.stderr
    assert parse_listing(proc.stdout) == expected


# --------------------------------------------------------------------------- #
# demo
# --------------------------------------------------------------------------- #

def test_demo_default_device(default_names, pocl_names):
    if default_names != pocl_names:
        pytest.skip(f"platform 0 is {default_names[0]!r}, not PoCL: the 1024x1024 default demo runs on PoCL only")
    proc = run_cli("demo")
    out = check_demo_output(proc, *default_names, shape=(1024, 1024))
    assert "Image: generated test picture" in out
    print(out)


def test_demo_platform_and_device_by_name(pocl_names, small_npy):
    proc = run_cli("demo", "--platform", "portable COMPUTING", "--device", pocl_names[1][:5].upper(),
                   "--image", str(small_npy))
    check_demo_output(proc, *pocl_names, shape=(64, 64))


def test_demo_selection_from_environment(pocl_names, small_npy):
    proc = run_cli("demo", "--image", str(small_npy),
                   env={"OPENCL_RAW_PLATFORM": "portable", "OPENCL_RAW_DEVICE": "0"})
    check_demo_output(proc, *pocl_names, shape=(64, 64))


def test_demo_npy_image(pocl_names, tmp_path):
    image = cli.make_test_image(96, 130, seed=3).astype(np.float64) * 1000.0 - 200.0   # cast to float32
    path = tmp_path / "odd.npy"
    np.save(path, image)
    proc = run_cli("demo", "--platform", "portable", "--image", str(path))
    out = check_demo_output(proc, *pocl_names, shape=(96, 130))
    assert str(path) in out


@pytest.mark.parametrize("maxval", [255, 65535, 1023])
def test_demo_pgm_image(pocl_names, tmp_path, maxval):
    rng = np.random.default_rng(maxval)
    pixels = rng.integers(0, maxval + 1, size=(50, 77))
    path = tmp_path / f"img{maxval}.pgm"
    write_pgm(path, pixels, maxval, comment=True)
    proc = run_cli("demo", "--platform", "portable", "--image", str(path))
    check_demo_output(proc, *pocl_names, shape=(50, 77))


def test_demo_png_image(pocl_names, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    pixels = (cli.make_test_image(40, 56) * 255).round().astype(np.uint8)
    path = tmp_path / "img.png"
    Image.fromarray(pixels).save(path)
    assert np.array_equal(cli.load_image(str(path)), pixels.astype(np.float32) / np.float32(255))
    check_demo_output(run_cli("demo", "--platform", "portable", "--image", str(path)), *pocl_names, shape=(40, 56))


def test_demo_on_oclgrind(two_platform_vendors, small_npy):
    proc = run_cli("demo", "--platform", "oclgrind", "--image", str(small_npy),
                   env={"OCL_ICD_VENDORS": str(two_platform_vendors)})
    check_demo_output(proc, "Oclgrind", "Oclgrind Simulator", shape=(64, 64))


# --------------------------------------------------------------------------- #
# failures: exit codes and one-line messages
# --------------------------------------------------------------------------- #

def assert_one_line_error(proc: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    assert proc.returncode == code, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_demo_fails_beyond_tolerance(pocl_names, small_npy):
    proc = run_cli("demo", "--platform", "portable", "--image", str(small_npy), "--tolerance", "-1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(re.findall(r"FAILED: filter .*: max abs error \S+ exceeds", proc.stderr)) == 3, proc.stderr
    assert len(ERROR_RE.findall(proc.stdout)) == 3
    assert all(verdict == "FAILED" for *_, verdict in ERROR_RE.findall(proc.stdout))
    # everything was still released
    assert "Step 12: release everything" in proc.stdout


def test_demo_nan_tolerance_fails(pocl_names, small_npy):
    proc = run_cli("demo", "--platform", "portable", "--image", str(small_npy), "--tolerance", "nan")
    assert proc.returncode == 1, proc.stdout + proc.stderr


def test_demo_unknown_device(default_names):
    proc = run_cli("demo", "--device", "nonexistent")
    # the message names what exists on the selected (default) platform
    assert_one_line_error(proc, 2, "error:", "no device name contains 'nonexistent'", default_names[1])
    assert proc.stdout == ""


def test_demo_unknown_device_from_environment(pocl_names):
    proc = run_cli("demo", env={"OPENCL_RAW_DEVICE": "nonexistent"})
    assert_one_line_error(proc, 2, "'nonexistent'")


def test_demo_platform_index_out_of_range(pocl_names):
    assert_one_line_error(run_cli("demo", "--platform", "99"), 2, "no platform #99")


def test_demo_missing_image(pocl_names, tmp_path):
    missing = tmp_path / "missing.npy"
    assert_one_line_error(run_cli("demo", "--image", str(missing)), 2, str(missing))


@pytest.mark.parametrize("name, content, fragment", [
    ("bad.txt", b"hello", "unknown image type"),
    ("ascii.pgm", b"P2\n2 2\n255\n0 1 2 3\n", "only binary PGM"),
    ("short.pgm", b"P5\n4 4\n255\n\x00\x01", "bytes of pixels"),
    ("header.pgm", b"P5\n4 x\n255\n" + bytes(16), "malformed PGM header"),
    ("junk.npy", b"not an npy file", "junk.npy"),
])
def test_demo_bad_image(pocl_names, tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(content)
    assert_one_line_error(run_cli("demo", "--image", str(path)), 2, fragment)


def test_demo_bad_image_shape_and_values(pocl_names, tmp_path):
    np.save(tmp_path / "cube.npy", np.zeros((2, 3, 5), np.float32))
    assert_one_line_error(run_cli("demo", "--image", str(tmp_path / "cube.npy")), 2, "shape (2, 3, 5)")
    bad = np.ones((8, 8), np.float32)
    bad[3, 3] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    assert_one_line_error(run_cli("demo", "--image", str(tmp_path / "nan.npy")), 2, "NaN")


def test_demo_png_without_pillow(pocl_names, tmp_path):
    """A fake ``PIL`` package that fails to import stands in for a missing Pillow."""
    fake = tmp_path / "nopil" / "PIL"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('Pillow is hidden by test_main')\n")
    (tmp_path / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    pythonpath = os.pathsep.join([str(fake.parent), os.environ.get("PYTHONPATH", "")])
    proc = run_cli("demo", "--image", str(tmp_path / "img.png"), env={"PYTHONPATH": pythonpath})
    assert_one_line_error(proc, 2, "Pillow", "pip install")


def test_no_opencl_library():
    proc = run_cli("list", env={"OPENCL_RAW_LIBRARY": "/nonexistent/libOpenCL.so", "OPENCL_RAW_BACKEND": None})
    assert_one_line_error(proc, 2, "no OpenCL library could be loaded")


def test_usage_errors():
    proc = run_cli("frobnicate")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("demo", "--tolerance", "lots")
    assert proc.returncode == 2 and "--tolerance" in proc.stderr
    proc = run_cli("demo", "--help")
    assert proc.returncode == 0 and "--platform" in proc.stdout and "--image" in proc.stdout


# --------------------------------------------------------------------------- #
# helpers of opencl_raw.__main__, in-process
# --------------------------------------------------------------------------- #

def _convolve_loops(image: np.ndarray, filt: np.ndarray) -> np.ndarray:
    """The definition, with explicit loops and clamped indices (tiny inputs only)."""
    height, width = image.shape
    fh, fw = filt.shape
    out = np.zeros((height, width))
    for y in range(height):
        for x in range(width):
            for i in range(fh):
                for j in range(fw):
                    yy = min(max(y + fh // 2 - i, 0), height - 1)
                    xx = min(max(x + fw // 2 - j, 0), width - 1)
                    out[y, x] += filt[i, j] * image[yy, xx]
    return out


@pytest.mark.parametrize("shape, fshape", [((7, 9), (3, 3)), ((5, 4), (5, 5)), ((1, 6), (3, 1)), ((2, 2), (5, 3))])
def test_reference_convolution_matches_definition(shape, fshape):
    rng = np.random.default_rng(sum(shape) + sum(fshape))
    image = rng.normal(size=shape).astype(np.float32)
    filt = rng.normal(size=fshape).astype(np.float32)
    got = cli.convolve2d_reference(image, filt)
    assert got.dtype == np.float64 and got.shape == shape
    np.testing.assert_allclose(got, _convolve_loops(image.astype(np.float64), filt.astype(np.float64)),
                               rtol=1e-12, atol=1e-12)


def test_reference_convolution_is_a_true_convolution():
    image = np.zeros((5, 5))
    image[2, 2] = 1.0
    filt = np.arange(9, dtype=np.float32).reshape(3, 3)
    np.testing.assert_array_equal(cli.convolve2d_reference(image, filt)[1:4, 1:4], filt)   # impulse response
    with pytest.raises(ValueError):
        cli.convolve2d_reference(image, np.ones((2, 3)))
    with pytest.raises(ValueError):
        cli.convolve2d_reference(np.ones(5), np.ones((3, 3)))


def test_filters_and_test_picture():
    g = cli.gaussian_filter(5, 1.0)
    assert g.shape == (5, 5) and g.dtype == np.float32 and abs(float(g.sum()) - 1.0) < 1e-6
    assert np.array_equal(g, g.T) and np.array_equal(g, g[::-1])
    names = [name for name, _ in cli.demo_filters()]
    assert len(names) >= 2 and all(f.dtype == np.float32 for _, f in cli.demo_filters())
    with pytest.raises(ValueError):
        cli.gaussian_filter(4)
    a = cli.make_test_image()
    assert a.shape == (1024, 1024) and a.dtype == np.float32 and a.flags.c_contiguous
    assert 0.0 <= a.min() < 0.1 and 0.9 < a.max() <= 1.0
    assert np.array_equal(a, cli.make_test_image())
    assert not np.array_equal(a, cli.make_test_image(seed=1))


@pytest.mark.parametrize("maxval", [1, 255, 256, 65535])
def test_read_pgm(tmp_path, maxval):
    rng = np.random.default_rng(maxval)
    pixels = rng.integers(0, maxval + 1, size=(3, 5))
    path = tmp_path / "x.pgm"
    write_pgm(path, pixels, maxval, comment=True)
    got = cli.load_image(str(path))
    assert got.dtype == np.float32 and got.shape == (3, 5)
    np.testing.assert_allclose(got, pixels / maxval, rtol=1e-6)


def test_load_npy_colour_and_ints(tmp_path):
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[..., 1] = 100
    np.save(tmp_path / "rgb.npy", rgb)
    got = cli.load_image(str(tmp_path / "rgb.npy"))
    assert got.shape == (4, 6) and got.dtype == np.float32
    np.testing.assert_allclose(got, 58.7, rtol=1e-5)
    np.save(tmp_path / "ints.npy", np.arange(12, dtype=np.int16).reshape(3, 4))
    np.testing.assert_array_equal(cli.load_image(str(tmp_path / "ints.npy")), np.arange(12).reshape(3, 4))
