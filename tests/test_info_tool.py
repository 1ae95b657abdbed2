"""``python -m opencl_raw info``: the three forms, and agreement with ``clinfo --raw``.

The agreement test runs both tools in subprocesses with ``OCL_ICD_VENDORS``
naming PoCL and Oclgrind, parses both raw listings into
``(platform, device, CL name) -> value`` and compares every param both report,
after the normalisation of :data:`NORMALISATION` (each rule says why). Run with
``-s`` to see the numbers per platform.
"""
from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest

from opencl_raw import _info, _info_tool as tool, raw
from opencl_raw.errors import error_name
from opencl_raw._info_table import INFO

REPO = Path(__file__).resolve().parents[1]
OCLGRIND_ICD = "/usr/lib/oclgrind/liboclgrind-rt-icd.so"
TIMEOUT = 300

pytestmark = pytest.mark.timeout(2 * TIMEOUT + 60)

# --------------------------------------------------------------------------- #
# Running the tools
# --------------------------------------------------------------------------- #

def run(argv: List[str], env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("OPENCL_RAW_PLATFORM", "OPENCL_RAW_DEVICE")}
    full_env.update(env or {})
    return subprocess.run(argv, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=TIMEOUT)


def run_info(*args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "opencl_raw", "info", *args], env)


@pytest.fixture(scope="module")
def vendors(tmp_path_factory) -> Dict[str, str]:
    """The environment that registers exactly PoCL and Oclgrind with the ICD loader."""
    if not os.path.exists(OCLGRIND_ICD):
        pytest.skip(f"Oclgrind is not installed ({OCLGRIND_ICD})")
    folder = tmp_path_factory.mktemp("vendors")
    (folder / "pocl.icd").write_text("libpocl.so.2\n")
    (folder / "oclgrind.icd").write_text(OCLGRIND_ICD + "\n")
    return {"OCL_ICD_VENDORS": str(folder)}


@pytest.fixture(scope="module")
def clinfo_raw(vendors) -> str:
    clinfo = shutil.which("clinfo")
    if clinfo is None:
        pytest.skip("clinfo is not installed")
    proc = run([clinfo, "--raw"], vendors)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def ours_raw(vendors) -> subprocess.CompletedProcess:
    proc = run_info("--raw", env=vendors)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


@pytest.fixture(scope="module")
def ours_json(vendors) -> list:
    proc = run_info("--json", env=vendors)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# --------------------------------------------------------------------------- #
# Parsing raw listings
# --------------------------------------------------------------------------- #

# [<platform>/<device>] (optional), spaces, the name, then the value in a column:
# both tools print the name as "%-46s" followed by two spaces.
LINE_RE = re.compile(r"^(?:\[(?P<plat>[^/\]]+)/(?P<dev>[^\]]+)\])?\s*(?P<name>#?[A-Z][A-Za-z0-9_]*)")

Key = Tuple[str, str, str]       # (platform symbolic name, device index or '*', CL name)


def parse_line(line: str) -> Optional[Tuple[Optional[str], Optional[str], str, str]]:
    m = LINE_RE.match(line)
    if m is None:
        return None
    name = m.group("name")
    if name.startswith("#"):        # clinfo's counts (#PLATFORMS, #DEVICES) use another column
        return m.group("plat"), m.group("dev"), name, line[m.end("name"):].strip()
    value = line[m.start("name") + max(46, len(name)) + 2:]
    return m.group("plat"), m.group("dev"), name, value


def parse_raw(text: str) -> Dict[Key, str]:
    """``clinfo --raw`` or ``opencl_raw info --raw`` as (platform, device, name) -> value.

    clinfo prints the platform params first, without a prefix, one blank-line
    separated block per platform in the loader's order; they are keyed by the
    platform's symbolic name as the prefixed lines are (its ICD suffix, else P<index>).
    """
    values: Dict[Key, str] = {}
    blocks: List[Dict[str, str]] = [{}]
    for line in text.splitlines():
        if not line.strip():
            if blocks[-1]:
                blocks.append({})
            continue
        parsed = parse_line(line)
        assert parsed is not None, f"unparsed line: {line!r}"
        plat, dev, name, value = parsed
        if plat is None:
            if name.startswith("#"):            # #PLATFORMS
                values[("*", "*", name)] = value
            else:
                blocks[-1][name] = value
        else:
            values[(plat, dev, name)] = value
    blocks = [b for b in blocks if b]
    suffixes = [b.get("CL_PLATFORM_ICD_SUFFIX_KHR", "") for b in blocks]
    for index, block in enumerate(blocks):
        sname = suffixes[index] if suffixes[index] and suffixes.count(suffixes[index]) == 1 else f"P{index}"
        for name, value in block.items():
            values[(sname, "*", name)] = value
    return values


# --------------------------------------------------------------------------- #
# Normalisation: as small as possible, one rule per known difference of notation
# --------------------------------------------------------------------------- #

def _flag_set(value: str) -> str:
    return " | ".join(sorted(value.split(" | ")))


def _clinfo_error(value: str) -> str:
    found = re.search(r"error (-?\d+)>$", value)
    return f"<error: {error_name(int(found.group(1)))}>" if found else value


def _drop_single_only_fp_bit(value: str) -> str:
    return " | ".join(f for f in value.split(" | ") if f != "CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT")


#: (rule, why, applies to (name, clinfo value, our value), normalise (value) -> value, side)
NORMALISATION: List[Tuple[str, str, Callable[[str, str, str], bool], Callable[[str], str], str]] = [
    ("single-only FP bit",
     "CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT is defined for CL_DEVICE_SINGLE_FP_CONFIG only; clinfo never "
     "prints it for the double and half configs, we print the bits the driver returns (PoCL sets it "
     "for double): it is dropped from our value of those two params",
     lambda name, theirs, ours: name in ("CL_DEVICE_DOUBLE_FP_CONFIG", "CL_DEVICE_HALF_FP_CONFIG"),
     _drop_single_only_fp_bit, "ours"),
    ("clinfo error notation",
     "clinfo writes a failed query as '<function:line: get PARAM : error -30>', we write "
     "'<error: CL_INVALID_VALUE>': the code in clinfo's text is turned into its CL name",
     lambda name, theirs, ours: theirs.startswith("<") and ours.startswith("<error:"),
     _clinfo_error, "theirs"),
    ("device type order",
     "clinfo prints the CL_DEVICE_TYPE bits from the highest down (CL_DEVICE_TYPE_ACCELERATOR | ... | "
     "CL_DEVICE_TYPE_DEFAULT) and every other bitfield from the lowest up; we print every bitfield "
     "lowest bit first, so the CL_DEVICE_TYPE flags compare as a set",
     lambda name, theirs, ours: name == "CL_DEVICE_TYPE",
     _flag_set, "both"),
]


def normalise(name: str, theirs: str, ours: str) -> Tuple[str, str, List[str]]:
    """Both values after the rules that apply, in order, and the names of the rules that were
    needed: those applied while the values still differed."""
    used = []
    for rule, _why, applies, fix, side in NORMALISATION:
        if theirs == ours or not applies(name, theirs, ours):
            continue
        new_theirs = fix(theirs) if side in ("both", "theirs") else theirs
        new_ours = fix(ours) if side in ("both", "ours") else ours
        if (new_theirs, new_ours) != (theirs, ours):
            used.append(rule)
        theirs, ours = new_theirs, new_ours
    return theirs, ours, used


# --------------------------------------------------------------------------- #
# Agreement with clinfo
# --------------------------------------------------------------------------- #

def compare(theirs: Dict[Key, str], ours: Dict[Key, str]):
    """Per platform: counters and lists of what was compared, and how."""
    report: Dict[str, Dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for key in sorted(theirs):
        plat, dev, name = key
        if plat in ("*", "OCLICD"):   # clinfo's #PLATFORMS and the ICD loader's own CL_ICDL_* lines
            report["(loader and clinfo)"]["outside headers" if not name.startswith("#") else "pseudo"].append(key)
            continue
        r = report[plat]
        if name.startswith("#"):
            r["pseudo"].append(key)                         # #DEVICES: clinfo's own count
        elif key in ours:
            a, b, used = normalise(name, theirs[key], ours[key])
            r["compared"].append(key)
            if a == b:
                r["agreed"].append(key)
                for rule in used:
                    r[f"agreed after rule '{rule}'"].append(key)
            else:
                r["differing"].append((key, theirs[key], ours[key]))
        elif hasattr(raw, name):
            r["missing"].append(key)                        # a header param the table lacks: a failure
        else:
            r["outside headers"].append(key)
    for key in ours:
        if key not in theirs:
            report[key[0]]["only ours"].append(key)
    return report


def summary(report) -> str:
    lines = []
    for plat, r in sorted(report.items()):
        main = ("compared", "agreed", "differing")
        counts = ", ".join([f"{k} {len(r.get(k, []))}" for k in main] +
                           [f"{k} {len(v)}" for k, v in r.items() if k not in main])
        lines.append(f"{plat}: {counts}")
        for key, a, b in r.get("differing", []):
            lines.append(f"  DIFFERS {key}: clinfo {a!r} / ours {b!r}")
        for kind in ("missing", "outside headers", "pseudo"):
            if r.get(kind):
                lines.append(f"  {kind}: {', '.join(sorted({k[2] for k in r[kind]}))}")
        for k, v in r.items():
            if k.startswith("agreed after"):
                lines.append(f"  {k}: {', '.join(sorted({key[2] for key in v}))}")
    return "\n".join(lines)


def test_raw_agrees_with_clinfo(clinfo_raw, ours_raw):
    theirs, ours = parse_raw(clinfo_raw), parse_raw(ours_raw.stdout)
    report = compare(theirs, ours)
    text = summary(report)
    print("\nclinfo --raw vs python -m opencl_raw info --raw\n" + text)
    for rule, why, *_ in NORMALISATION:
        print(f"rule '{rule}': {why}")
    platforms = {k[0] for k in ours}
    assert {"POCL", "oclg"} <= platforms, platforms
    for plat in ("POCL", "oclg"):
        r = report[plat]
        assert len(r["compared"]) > 40, text
        # every device param and the kernel-derived value is compared for each device
        assert any(k[2] == "CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE" for k in r["compared"]), text
        assert any(k[2] == "CL_PLATFORM_NAME" for k in r["compared"]), text
    differing = [d for r in report.values() for d in r.get("differing", [])]
    missing = [k for r in report.values() for k in r.get("missing", [])]
    assert not differing, "values differ after normalisation:\n" + text
    assert not missing, "params of the headers that clinfo reports and info does not:\n" + text


def test_every_param_once_per_device(ours_raw):
    ours = parse_raw(ours_raw.stdout)
    devices = {(p, d) for p, d, _ in ours if d != "*"}
    assert devices
    for plat, dev in devices:
        names = [n for p, d, n in ours if (p, d) == (plat, dev)]
        assert names == list(INFO["Device"]) + list(INFO["KernelWorkGroup"])
        assert [n for p, d, n in ours if (p, d) == (plat, "*")] == list(INFO["Platform"])
    # each line of the listing is one param
    assert len(ours_raw.stdout.splitlines()) == len(ours)


def test_unsupported_param_shows_its_error(ours_raw):
    """A failing query shows its CL error name on its own line; the listing goes on and exits 0."""
    lines = ours_raw.stdout.splitlines()
    # CL_KERNEL_GLOBAL_WORK_SIZE is only for custom devices and built-in kernels (CL_INVALID_VALUE)
    errors = [l for l in lines if re.match(r"^\[\w+/0\]\s+CL_KERNEL_GLOBAL_WORK_SIZE\s+<error: CL_INVALID_VALUE>$", l)]
    assert len(errors) == 2, lines
    # Oclgrind has no cl_khr_fp16: CL_DEVICE_HALF_FP_CONFIG is CL_INVALID_VALUE, and the next param follows
    i = next(i for i, l in enumerate(lines) if l.startswith("[oclg/0]") and "CL_DEVICE_HALF_FP_CONFIG" in l)
    assert lines[i].endswith("<error: CL_INVALID_VALUE>"), lines[i]
    assert "CL_DEVICE_GLOBAL_MEM_CACHE_TYPE" in lines[i + 1]


def test_human_form(vendors, clinfo_raw):
    proc = run_info(env=vendors)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    theirs = parse_raw(clinfo_raw)
    names = {v for (p, d, n), v in theirs.items() if n == "CL_DEVICE_NAME"}
    assert len(names) == 2 and "Oclgrind Simulator" in names, names
    for name in names:
        assert re.search(rf"^  Device #\d+\s+{re.escape(name)}$", out, re.M), (name, out)
    assert re.search(r"^Platform #\d+ \[POCL\]\s+Portable Computing Language$", out, re.M), out
    assert re.search(r"^Platform #\d+ \[oclg\]\s+Oclgrind$", out, re.M), out
    # known values of both devices (clinfo's), with units and Yes/No
    def clinfo_values(name):
        return {v for (p, d, n), v in theirs.items() if n == name and d != "*"}
    for cu in clinfo_values("CL_DEVICE_MAX_COMPUTE_UNITS"):
        assert re.search(rf"^    Max compute units\s+{cu}$", out, re.M), cu
    for nbytes in clinfo_values("CL_DEVICE_GLOBAL_MEM_SIZE") | clinfo_values("CL_DEVICE_LOCAL_MEM_SIZE"):
        text = tool.binary_size(int(nbytes))
        assert re.match(r"^\d+ \(\d+(\.\d\d?)?[KMGT]iB\)$", text), text
        assert re.search(rf"^    (Global|Local) mem size\s+{re.escape(text)}$", out, re.M), text
    for multiple in clinfo_values("CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE"):
        assert re.search(rf"^    Preferred work group size multiple \(kernel\)\s+{multiple}$", out, re.M)
    assert re.search(r"^    Max clock frequency\s+\d+ MHz$", out, re.M)
    assert re.search(r"^    Image support\s+Yes$", out, re.M)
    assert re.search(r"^    Error correction support\s+No$", out, re.M)
    assert re.search(r"^    Type\s+CPU$", out, re.M)                                  # PoCL
    assert re.search(r"^    Single FP config\s+DENORM, INF_NAN, ROUND_TO_NEAREST", out, re.M)
    assert re.search(r"^    Half FP config\s+error: CL_INVALID_VALUE$", out, re.M)    # Oclgrind: no cl_khr_fp16
    assert re.search(r"^    Global work size \(kernel\)\s+error: CL_INVALID_VALUE$", out, re.M)
    # every line is "label  value" with the value in one column, or a continuation in that column
    column = out.index("2\n") - 2       # "Number of platforms ...  2"
    assert tool.LABEL_WIDTH <= column <= tool.LABEL_WIDTH_MAX
    for line in out.splitlines():
        if line.strip():
            name = line[:column].strip()
            if len(line[:column].rstrip()) < column:         # the label fits: the value is in the column
                assert line[column:column + 2] == "  " and line[column + 2] != " ", line
            else:                                            # a longer label pushes its value right
                assert re.match(r"^ *\S.*\S  \S", line), (name, line)


def test_json_form_matches_get_info():
    """--json (default environment, in a subprocess) against get_info in this process."""
    import opencl_raw
    try:
        platforms = opencl_raw.get_platform_ids()
    except Exception as exc:
        pytest.skip(f"no OpenCL: {exc}")
    if not platforms:
        pytest.skip("no OpenCL platform")
    proc = run_info("--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [p["name"] for p in doc] == [p.name for p in platforms]
    checked_devices = 0
    for item, platform in zip(doc, platforms):
        assert item["index"] == platforms.index(platform)
        assert item["params"]["CL_PLATFORM_NAME"] == platform.name
        assert item["params"]["CL_PLATFORM_VERSION"] == platform.get_info("CL_PLATFORM_VERSION")
        devices = platform.get_device_ids()
        assert [d["name"] for d in item["devices"]] == [d.name for d in devices]
        for jdev, dev in zip(item["devices"], devices):
            params = jdev["params"]
            # (not CL_DEVICE_GLOBAL_MEM_SIZE: PoCL derives it from the memory free at the time, which
            # differs between the two processes while other tests run)
            for name in ("CL_DEVICE_NAME", "CL_DEVICE_MAX_COMPUTE_UNITS", "CL_DEVICE_MAX_PARAMETER_SIZE",
                         "CL_DEVICE_IMAGE_SUPPORT", "CL_DEVICE_EXTENSIONS"):
                assert params[name] == dev.get_info(name), name
            assert params["CL_DEVICE_MAX_WORK_ITEM_SIZES"] == list(dev.max_work_item_sizes)
            assert params["CL_DEVICE_TYPE"] == [f"CL_DEVICE_TYPE_{m.name}" for m in _info.DeviceType
                                                 if m in dev.get_info("CL_DEVICE_TYPE")]
            assert params["CL_DEVICE_LOCAL_MEM_TYPE"] == f"CL_{dev.get_info('CL_DEVICE_LOCAL_MEM_TYPE').name}"
            version = dev.get_info("CL_DEVICE_OPENCL_C_VERSION")
            assert params["CL_DEVICE_OPENCL_C_VERSION"] == version
            assert isinstance(params["CL_DEVICE_ENDIAN_LITTLE"], bool)
            assert isinstance(params.get("CL_KERNEL_WORK_GROUP_SIZE"), int), jdev["errors"]
            # errors are CL names, one per failing param, never also in params
            assert not set(jdev["errors"]) & set(params)
            assert all(re.match(r"^CL_[A-Z0-9_]+$", e) or "(" in e for e in jdev["errors"].values())
            assert set(params) | set(jdev["errors"]) == set(INFO["Device"]) | set(INFO["KernelWorkGroup"])
            checked_devices += 1
    assert checked_devices


def test_json_two_platforms(ours_json):
    by_prefix = {p["prefix"]: p for p in ours_json}
    assert set(by_prefix) == {"POCL", "oclg"}
    oclg = by_prefix["oclg"]["devices"][0]
    assert oclg["errors"]["CL_DEVICE_HALF_FP_CONFIG"] == "CL_INVALID_VALUE"
    assert oclg["params"]["CL_DEVICE_VENDOR_ID"] == 0x42
    assert oclg["params"]["CL_DEVICE_PARTITION_PROPERTIES"] == []
    assert oclg["params"]["CL_DEVICE_NUMERIC_VERSION"] == "3.0.0"
    pocl = by_prefix["POCL"]["devices"][0]
    assert pocl["params"]["CL_DEVICE_PARTITION_PROPERTIES"] == ["CL_DEVICE_PARTITION_EQUALLY",
                                                                "CL_DEVICE_PARTITION_BY_COUNTS"]
    assert pocl["params"]["CL_DEVICE_GLOBAL_MEM_CACHE_TYPE"] == "CL_READ_WRITE_CACHE"
    assert {"name": "cl_khr_icd", "version": "1.0.0"} in by_prefix["POCL"]["params"][
        "CL_PLATFORM_EXTENSIONS_WITH_VERSION"]


# --------------------------------------------------------------------------- #
# Selection
# --------------------------------------------------------------------------- #

def test_select_platform_and_device(vendors):
    proc = run_info("--raw", "--platform", "oclgrind", env=vendors)
    assert proc.returncode == 0, proc.stderr
    assert {k[0] for k in parse_raw(proc.stdout)} == {"oclg"}
    proc = run_info("--raw", "--platform", "1", "--device", "0", env=vendors)
    assert proc.returncode == 0, proc.stderr
    ours = parse_raw(proc.stdout)
    assert len({k[0] for k in ours}) == 1 and {k[1] for k in ours} == {"*", "0"}
    # --device alone picks the matching device on every platform that has one
    proc = run_info("--json", "--device", "simulator", env=vendors)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [(p["name"], [d["name"] for d in p["devices"]]) for p in doc] == [("Oclgrind", ["Oclgrind Simulator"])]


@pytest.mark.parametrize("args, fragment", [
    (("--platform", "nonexistent"), "no platform name contains 'nonexistent'"),
    (("--platform", "7"), "no platform #7"),
    (("--device", "nonexistent"), "'nonexistent'"),
    (("--platform", "oclgrind", "--device", "3"), "no device #3"),
])
def test_select_nothing_is_a_usage_error(vendors, args, fragment):
    proc = run_info(*args, env=vendors)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], proc.stderr


def test_raw_and_json_exclude_each_other():
    proc = run_info("--raw", "--json")
    assert proc.returncode == 2 and "not allowed" in proc.stderr


# --------------------------------------------------------------------------- #
# In-process: values, notation, errors
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("nbytes, text", [
    (0, "0"), (1023, "1023"), (1024, "1024 (1KiB)"), (4096, "4096 (4KiB)"), (1048576, "1048576 (1MiB)"),
    (2147483648, "2147483648 (2GiB)"), (23129018368, "23129018368 (21.54GiB)"), (1536, "1536 (1.5KiB)"),
    (2 ** 60, f"{2 ** 60} (1EiB)"),
])
def test_binary_size(nbytes, text):
    assert tool.binary_size(nbytes) == text


def test_every_enum_member_has_a_cl_name():
    for c_type, enum_name in _info.ENUM_OF_C_TYPE.items():
        enum_cls = _info.enum_class(enum_name)
        names = tool.cl_names(enum_cls)
        for member in enum_cls.__members__.values():
            name = names.get(int(member))
            assert name is not None, (c_type, member)
            assert getattr(raw, name) == int(member), (c_type, member, name)


@pytest.mark.parametrize("name, value, text", [
    ("CL_DEVICE_AVAILABLE", True, "CL_TRUE"),
    ("CL_DEVICE_ENDIAN_LITTLE", False, "CL_FALSE"),
    ("CL_DEVICE_VENDOR_ID", 0x8086, "0x8086"),
    ("CL_DEVICE_NUMERIC_VERSION", 0xC00000, "0xc00000"),
    ("CL_DEVICE_MAX_COMPUTE_UNITS", 2, "2"),
    ("CL_DEVICE_MAX_WORK_ITEM_SIZES", (4096, 4096, 4096), "4096 4096 4096"),
    ("CL_DEVICE_TYPE", _info.DeviceType(0b1010), "CL_DEVICE_TYPE_CPU | CL_DEVICE_TYPE_ACCELERATOR"),
    ("CL_DEVICE_SVM_CAPABILITIES", _info.SVMCapabilities(0), ""),
    ("CL_DEVICE_SINGLE_FP_CONFIG", _info.FPConfig(0x101), "CL_FP_DENORM | 0x100"),
    ("CL_DEVICE_LOCAL_MEM_TYPE", _info.LocalMemType(1), "CL_LOCAL"),
    ("CL_DEVICE_GLOBAL_MEM_CACHE_TYPE", _info.MemCacheType(0), "CL_NONE"),
    ("CL_DEVICE_PARTITION_PROPERTIES", (0,), "CL_NONE"),
    ("CL_DEVICE_PARTITION_PROPERTIES", (raw.CL_DEVICE_PARTITION_EQUALLY, raw.CL_DEVICE_PARTITION_BY_COUNTS),
     "CL_DEVICE_PARTITION_EQUALLY | CL_DEVICE_PARTITION_BY_COUNTS"),
    ("CL_DEVICE_EXTENSIONS_WITH_VERSION", (_info.NameVersionTuple("cl_khr_fp64", 0x400000),
                                           _info.NameVersionTuple("cl_x", 0)), "cl_khr_fp64:0x400000 cl_x:0"),
    ("CL_DEVICE_ILS_WITH_VERSION", (), ""),
    ("CL_DEVICE_EXTENSIONS", " cl_khr_fp64 ", " cl_khr_fp64 "),
    ("CL_DEVICE_PARENT_DEVICE", None, "NULL"),
])
def test_raw_notation(name, value, text):
    assert tool.raw_value(tool.Row("Device", name, value)) == text


def test_human_and_json_notation():
    row = tool.Row("Device", "CL_DEVICE_TYPE", _info.DeviceType(0b110))
    assert tool.human_value(row) == "CPU, GPU"
    assert tool.json_value(row) == ["CL_DEVICE_TYPE_CPU", "CL_DEVICE_TYPE_GPU"]
    row = tool.Row("Device", "CL_DEVICE_LOCAL_MEM_SIZE", 65536)
    assert tool.human_value(row) == "65536 (64KiB)" and tool.json_value(row) == 65536
    row = tool.Row("Device", "CL_DEVICE_IMAGE_SUPPORT", True)
    assert tool.human_value(row) == "Yes" and tool.json_value(row) is True
    row = tool.Row("Device", "CL_DEVICE_NUMERIC_VERSION", 0x402000)
    assert tool.human_value(row) == "1.2.0 (0x402000)" and tool.json_value(row) == "1.2.0"
    row = tool.Row("Device", "CL_DEVICE_GLOBAL_MEM_CACHE_TYPE", _info.MemCacheType(2))
    assert tool.human_value(row) == "READ_WRITE_CACHE" and tool.json_value(row) == "CL_READ_WRITE_CACHE"
    row = tool.Row("Device", "CL_DEVICE_HALF_FP_CONFIG", error="CL_INVALID_VALUE", code=-30)
    assert tool.raw_value(row) == "<error: CL_INVALID_VALUE>"
    assert tool.human_value(row) == "error: CL_INVALID_VALUE"
    assert tool.label(tool.Row("Device", "CL_DEVICE_MAX_COMPUTE_UNITS")) == "Max compute units"
    assert tool.label(tool.Row("KernelWorkGroup", "CL_KERNEL_WORK_GROUP_SIZE")) == "Work group size (kernel)"
    bits = tool.named_values("cl_device_command_buffer_capabilities_khr")[1]
    assert tool.flag_names(0b1101, bits) == ["CL_COMMAND_BUFFER_CAPABILITY_KERNEL_PRINTF_KHR",
                                             "CL_COMMAND_BUFFER_CAPABILITY_SIMULTANEOUS_USE_KHR",
                                             "CL_COMMAND_BUFFER_CAPABILITY_OUT_OF_ORDER_KHR"]


def test_query_error_is_kept_on_its_row(device):
    """CL_KERNEL_GLOBAL_WORK_SIZE fails on a non-custom device; the other kernel values still come."""
    rows = {r.name: r for r in tool.probe_kernel_rows(device)}
    assert list(rows) == list(INFO["KernelWorkGroup"])
    assert rows["CL_KERNEL_GLOBAL_WORK_SIZE"].error == "CL_INVALID_VALUE"
    assert rows["CL_KERNEL_GLOBAL_WORK_SIZE"].code == raw.CL_INVALID_VALUE
    assert rows["CL_KERNEL_WORK_GROUP_SIZE"].ok and rows["CL_KERNEL_WORK_GROUP_SIZE"].value >= 1
    multiple = rows["CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE"]
    assert multiple.ok and multiple.value >= 1


def test_probe_build_failure_is_reported_on_each_kernel_line(device, monkeypatch):
    monkeypatch.setattr(tool, "PROBE_SOURCE", "__kernel void opencl_raw_probe(__global float *d) { d[0] = ; }\n")
    rows = tool.probe_kernel_rows(device)
    assert [r.name for r in rows] == list(INFO["KernelWorkGroup"])
    for row in rows:
        assert not row.ok and row.error.startswith("CL_BUILD_PROGRAM_FAILURE"), row
        assert "probe kernel" in row.error
        assert tool.raw_value(row).startswith("<error: CL_BUILD_PROGRAM_FAILURE")


def _fake_get_info(nbytes: int, payload: bytes):
    """A clGetDeviceInfo stand-in that always answers ``nbytes`` bytes of ``payload``."""
    def function(handle, param, size, buf, size_ret):
        if size_ret is not None:
            size_ret._obj.value = nbytes
        if buf is not None:
            ctypes.memmove(buf, payload, min(size, nbytes))
        return raw.CL_SUCCESS
    return function


def test_short_answer_is_read_with_a_warning():
    """PoCL 3.1 answers CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES (a cl_bitfield) with 4 bytes."""
    value = raw.CL_DEVICE_QUEUE_SUPPORTED.to_bytes(4, sys.byteorder)
    row = tool.query_row("Device", (None,), "CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES", _fake_get_info(4, value))
    assert row.ok and row.value == _info.EnqueueCapabilities(raw.CL_DEVICE_QUEUE_SUPPORTED)
    assert "4 bytes" in row.warning and "8" in row.warning
    assert tool.raw_value(row) == "CL_DEVICE_QUEUE_SUPPORTED"
    # NVIDIA 580 answers the size_t CL_PROGRAM_BUILD_GLOBAL_VARIABLE_TOTAL_SIZE with 4 bytes
    fake = _fake_get_info(4, (96).to_bytes(4, sys.byteorder))
    row = tool.query_row("ProgramBuild", (None, None), "CL_PROGRAM_BUILD_GLOBAL_VARIABLE_TOTAL_SIZE",
                         lambda program, device, *rest: fake(program, *rest))   # clGetProgramBuildInfo's arguments
    assert row.ok and row.value == 96 and row.warning.endswith("read as a 4-byte integer")
    # a too-long answer, or one no integer fits (NVIDIA 580: 14 bytes for a cl_version_khr), is an error
    # on the row, with the details in parentheses (the JSON form's rule for non-CL errors)
    row = tool.query_row("Device", (None,), "CL_DEVICE_MAX_COMPUTE_UNITS", _fake_get_info(8, bytes(8)))
    assert not row.ok and row.code is None and row.warning is None
    assert row.error == "unexpected size (the driver returned 8 bytes, but cl_uint has 4)"
    row = tool.query_row("Device", (None,), "CL_DEVICE_OPENCL_C_NUMERIC_VERSION_KHR", _fake_get_info(14, b"3.0" * 4))
    assert row.error == "unexpected size (the driver returned 14 bytes, but cl_version_khr has 4)"
    assert tool.raw_value(row) == "<error: unexpected size (the driver returned 14 bytes, but cl_version_khr has 4)>"


def test_warning_goes_to_stderr_in_raw_form():
    import io
    report = tool.PlatformReport(0, "X", "x", rows=[], devices=[tool.DeviceReport(0, "d", rows=[
        tool.Row("Device", "CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES", _info.EnqueueCapabilities(0), warning="short")])])
    out, err = io.StringIO(), io.StringIO()
    tool.render_raw([report], out, err)
    assert out.getvalue().rstrip() == "[X/0]  CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES" and "short" not in out.getvalue()
    assert err.getvalue() == "warning: [X/0] CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES: short\n"


def test_clinfo_notation_of_uuids_luids_and_pci_addresses():
    """Seen on the NVIDIA H200: clinfo writes UUIDs 8-4-4-4-12, LUIDs 4-12 and PCI bus info as an address."""
    uuid = bytes.fromhex("68e7806740bf94a269271b2d520e0103")
    assert tool._scalar_raw(uuid, "CL_DEVICE_UUID_KHR") == "68e78067-40bf-94a2-6927-1b2d520e0103"
    assert tool._scalar_raw(bytes.fromhex("6d69637300000000"), "CL_DEVICE_LUID_KHR") == "6d69-637300000000"
    info = raw.cl_device_pci_bus_info_khr(pci_domain=0, pci_bus=0x1b, pci_device=6, pci_function=0)
    assert tool._scalar_raw(info, "CL_DEVICE_PCI_BUS_INFO_KHR") == "PCI-E, 0000:1b:06.0"
    assert tool._scalar_raw(uuid, "CL_DEVICE_NAME") == uuid.hex()


def test_clinfo_error_notation_rule():
    theirs, ours, used = normalise("CL_DEVICE_SEMAPHORE_TYPES_KHR",
                                   "<printDeviceInfo:105: get number of CL_DEVICE_SEMAPHORE_TYPES_KHR : error -30>",
                                   "<error: CL_INVALID_VALUE>")
    assert theirs == ours and used == ["clinfo error notation"]
