"""The performance harness (tools/bench.py) runs end to end in --quick mode and writes
well-formed JSON. No timed assertions: only shape, units, positivity and null peers."""
from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys

import pytest

from conftest import same_drivers_env
from opencl_raw import raw
from opencl_raw.errors import FunctionUnavailableError, LibraryNotFoundError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "tools", "bench.py")
REQUIRED_KEYS = ("name", "unit", "ours", "c", "pyopencl", "pyopencl_fast", "clpeak")
PEERS = ("c", "pyopencl", "pyopencl_fast", "clpeak")


def _load_bench():
    spec = importlib.util.spec_from_file_location("opencl_raw_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def _have_device() -> bool:
    try:
        count = raw.cl_uint()
        return raw.clGetPlatformIDs(0, None, raw.byref(count)) == raw.CL_SUCCESS and count.value > 0
    except (LibraryNotFoundError, FunctionUnavailableError):
        return False


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    if not _have_device():
        pytest.skip("no OpenCL platform")
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    # The bench's loader must see the drivers this process sees: on the NVIDIA H200 machine, with this
    # environment as it was (OCL_ICD_FILENAMES and OCL_ICD_VENDORS set), the child found PoCL only and
    # OPENCL_RAW_PLATFORM=nvidia matched nothing (see conftest.same_drivers_env).
    env = same_drivers_env(str(tmp_path_factory.mktemp("bench_vendors")))
    proc = subprocess.run([sys.executable, BENCH, "--quick", "--json", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


@pytest.mark.timeout(330)
def test_quick_run_has_every_operation_with_the_required_keys(quick_run):
    document, _ = quick_run
    rows = document["operations"]
    names = [row["name"] for row in rows]
    assert names == bench.OPERATIONS
    for row in rows:
        for key in REQUIRED_KEYS:
            assert key in row, (row["name"], key)
        assert row["unit"] in ("us", "ms", "GB/s", "MiB"), row


@pytest.mark.timeout(330)
def test_quick_run_numbers_are_positive_and_ours_is_measured(quick_run):
    document, _ = quick_run
    for row in document["operations"]:
        if row["name"].endswith("beside_pyopencl]") and document["meta"]["pyopencl"] is None:
            assert row["ours"] is None, row        # ours measured in pyopencl's process: none without it
            continue
        assert isinstance(row["ours"], float) and math.isfinite(row["ours"]) and row["ours"] > 0, row
        for peer in PEERS:
            value = row[peer]
            assert value is None or (isinstance(value, float) and math.isfinite(value) and value > 0), (row, peer)
            ratio = row[f"ours/{peer}"]
            assert (ratio is None) == (value is None), (row, peer)


@pytest.mark.timeout(330)
def test_quick_run_missing_peers_are_null(quick_run):
    document, _ = quick_run
    peers = document["meta"]["peers"]
    for peer in PEERS:
        values = [row[peer] for row in document["operations"]]
        if not peers[peer]:
            assert all(v is None for v in values), peer
    # clpeak does not run in --quick mode unless asked for
    assert all(row["clpeak"] is None for row in document["operations"])
    if document["meta"]["pyopencl"] is None:
        assert all(row["pyopencl"] is None and row["pyopencl_fast"] is None for row in document["operations"])
    if peers["c"]:
        assert document["operations"][0]["c"] is not None


@pytest.mark.timeout(330)
def test_quick_run_prints_the_table_and_the_targets(quick_run):
    document, stdout = quick_run
    assert "operation" in stdout and "targets (issue 7):" in stdout
    assert len(document["targets"]) == len(bench.TARGETS)
    for target in document["targets"]:
        assert target["status"] in ("PASS", "MISS", "N/A")
        assert (target["ratio"] is None) == (target["status"] == "N/A")
        assert target["method"] in ("paired", "medians")
    # the call-overhead layers are measured in turn in one process: judged round by round
    by_text = {t["target"]: t for t in document["targets"]}
    assert by_text["raw call <= 1.2x bare ctypes"]["method"] == "paired"


def test_clpeak_output_is_parsed():
    text = """
Platform: Portable Computing Language
  Device: pthread-skylake-avx512-AMD EPYC
    Transfer bandwidth (GBPS)
      enqueueWriteBuffer              : 10.47
      enqueueReadBuffer               : 8.75
      enqueueWriteBuffer non-blocking : 8.96
      enqueueReadBuffer non-blocking  : 7.65
      enqueueMapBuffer(for read)      : 20145.25
        memcpy from mapped ptr        : 8.61
      enqueueUnmap(after write)       : 18417.53
        memcpy to mapped ptr          : 9.64

    Kernel launch latency : 12.62 us
"""
    assert bench.parse_clpeak(text) == {
        "clpeak_write_blocking": 10.47, "clpeak_read_blocking": 8.75, "clpeak_write_nonblocking": 8.96,
        "clpeak_read_nonblocking": 7.65, "clpeak_memcpy_from_mapped": 8.61, "clpeak_memcpy_to_mapped": 9.64,
        "clpeak_kernel_latency": 12.62}


def test_clpeak_transfer_size_follows_its_rule():
    # PoCL here: 8 GiB max allocation, CPU: capped at 2**27 floats
    assert bench.clpeak_transfer_bytes(8 << 30, 4096, True) == (1 << 27) * 4
    # a GPU with a large allocation: capped at 2**29 floats
    assert bench.clpeak_transfer_bytes(35 << 30, 1024, False) == (1 << 29) * 4
    # a small allocation: half of it, in whole work-groups of at most 256
    assert bench.clpeak_transfer_bytes(100 * 1000 * 1000, 1024, False) == (12_500_000 // 256) * 256 * 4


def test_targets_refer_to_existing_rows_and_columns():
    names = set(bench.OPERATIONS)
    for text, num_op, num_col, den_op, den_col, op, bound in bench.TARGETS:
        assert num_op in names and den_op in names, text
        assert num_col in ("ours",) + PEERS and den_col in ("ours",) + PEERS, text
        assert op in ("<=", ">=") and bound > 0, text


def test_pyopencl_detection_goes_by_distribution_metadata():
    import importlib.metadata
    try:
        expected = importlib.metadata.distribution("pyopencl").version
    except importlib.metadata.PackageNotFoundError:
        expected = None
    assert bench.pyopencl_version() == expected


def test_paired_ratio_takes_rounds_of_one_group_only():
    a, b = ["1.0", [1.0, 2.0, 3.0]], ["1.0", [1.0, 1.0, 1.0]]
    assert bench.paired_ratio(a, b) == 2.0
    assert bench.paired_ratio(a, ["1.1", [1.0, 1.0, 1.0]]) is None   # another group
    assert bench.paired_ratio(a, ["1.0", [1.0, 1.0]]) is None        # rounds lost on one side
    assert bench.paired_ratio(None, b) is None


def test_targets_judge_the_per_round_ratio_where_both_sides_were_paired():
    # one slow spell over rounds 1-2 of 5: the medians' ratio tips to 2.2, the per-round ratio stays 1.1
    fast_slow_num = [1.1, 1.1, 2.2, 2.2, 2.2]
    fast_slow_den = [1.0, 1.0, 1.0, 2.0, 2.0]
    rows = []
    for name in bench.OPERATIONS:
        row = {"name": name, **{k: 1.0 for k in ("ours",) + PEERS}}
        rows.append(row)
    by_name = {r["name"]: r for r in rows}
    by_name["device_info[raw]"].update(ours=2.2, rounds={"ours": ["7.1", fast_slow_num]})
    by_name["device_info[bare_ctypes]"].update(ours=1.0, rounds={"ours": ["7.1", fast_slow_den]})
    by_name["device_info[checked]"].update(ours=2.2, rounds={"ours": ["7.2", fast_slow_num]})
    targets = {t["target"]: t for t in bench.evaluate_targets(rows)}
    raw_target = targets["raw call <= 1.2x bare ctypes"]
    assert raw_target["method"] == "paired" and raw_target["status"] == "PASS"
    assert math.isclose(raw_target["ratio"], 1.1) and math.isclose(raw_target["ratio_of_medians"], 2.2)
    checked_target = targets["checked call <= 1.5x bare ctypes"]   # another group: no pairing
    assert checked_target["method"] == "medians" and checked_target["status"] == "MISS"
