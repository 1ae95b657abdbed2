"""Shared fixtures and helpers of the opencl_raw test suite.

Every device of every platform
------------------------------
The device fixtures (``raw_platform`` / ``raw_device``: raw handles usable by every
layer; ``device``, and ``context`` / ``queue`` built on it: handle-layer objects) are
parametrized over every device of every platform the ICD loader lists, with ids such as
``pocl-0`` and ``oclgrind-0`` (a short platform name, the device's index on it).  A test
that uses none of them runs once.  ``OPENCL_RAW_PLATFORM`` / ``OPENCL_RAW_DEVICE``
(case-insensitive substrings of the platform and device names; either or both) restrict
the list.  Tests needing a device are skipped when no OpenCL library loads or nothing
matches.

Oclgrind (vendors folder)
-------------------------
When ``OCL_ICD_VENDORS`` (and ``OPENCL_RAW_ICDS``) are unset and Oclgrind is installed
(``/usr/lib/oclgrind/liboclgrind-rt-icd.so``) but not registered, ``pytest_configure``
makes a temporary vendors folder holding one ``.icd`` file per driver library: those of
``/etc/OpenCL/vendors`` (``OPENCL_VENDOR_PATH``), PoCL's first, then Oclgrind's; it sets
``OCL_ICD_VENDORS`` to it and ``OCL_ICD_PLATFORM_SORT=none`` before anything loads
libOpenCL, so that the loader's platform 0 stays PoCL (the default device of the demo
and of ``select_device()``) in this process and in its subprocesses.  The folder is
also in ``OPENCL_RAW_TEST_VENDORS`` (set, empty, when no folder is made); a pytest run
inside a test, which sees that variable, makes none and keeps the vendors it is given.
Set ``OCL_ICD_VENDORS`` yourself (e.g. to ``/etc/OpenCL/vendors``) to opt out.

Oclgrind is a simulator: every work-item is interpreted (long kernels take minutes), its
clFlush blocks on user events, and it departs from the specification in places (the
markers say where). So it runs a subset (``OPENCL_RAW_OCLGRIND``):

- ``basics`` (default): the modules of :data:`OCLGRIND_MODULES` (what matters for an
  OpenCL 1.2 device: the 12 steps of the three layers, queue, memory, program, event
  and handle basics, the version gate's fallbacks), less their tests marked
  ``@pytest.mark.not_on_oclgrind("reason")`` (the heavy ones: hypothesis, leaks, big
  images, benchmarks); the rest is deselected, and the summary says why per module;
- ``all``: every device test; ``off``: none.

Drivers that depart from the specification
------------------------------------------
``@pytest.mark.deviation("NVIDIA CUDA", "what the driver does (what the spec says)")`` on a
test that checks the specified behaviour makes it a strict xfail on platforms whose name
contains the first argument (so the run fails once the driver is fixed); with
``hangs=True`` the test is skipped there instead.

Kernels and buffers whose size does not matter to what a test checks are scaled down
on simulators: fixtures ``on_simulator`` (bool) and ``problem_size(full, small=None)``.

A device test that fails because the version gate refuses a function newer than the
device (FunctionUnavailableError "needs OpenCL X.Y" above its CL_DEVICE_VERSION) is
reported as skipped, with that reason.  A test blocked inside the driver, which
pytest-timeout's signal cannot interrupt, ends the run after its timeout + 60 s
(faulthandler prints the stacks).  The summary lists what was deselected on simulators
and why, and the outcome counts per device.
"""
from __future__ import annotations

import ctypes
import faulthandler
import os
import re
import shutil
import tempfile
from typing import Dict, List, NamedTuple, Optional, Tuple

import pytest

from opencl_raw import _exit, raw
from opencl_raw.errors import FunctionUnavailableError, LibraryNotFoundError

POCL_PLATFORM_NAME = "Portable Computing Language"


# ---------------------------------------------------------------------------
# Raw helpers (plain C-style calls, statuses asserted).
# ---------------------------------------------------------------------------

def raw_platform_ids() -> List[raw.cl_platform_id]:
    """All platforms (clGetPlatformIDs, count then fill); [] when the loader finds none."""
    count = raw.cl_uint()
    status = raw.clGetPlatformIDs(0, None, raw.byref(count))
    if status == raw.CL_PLATFORM_NOT_FOUND_KHR or count.value == 0:
        return []
    assert status == raw.CL_SUCCESS, status
    platforms = (raw.cl_platform_id * count.value)()
    assert raw.clGetPlatformIDs(count.value, platforms, None) == raw.CL_SUCCESS
    return list(platforms)


def raw_device_ids(platform, device_type=raw.CL_DEVICE_TYPE_ALL) -> List[raw.cl_device_id]:
    """Devices of ``platform`` (clGetDeviceIDs, count then fill); [] for CL_DEVICE_NOT_FOUND."""
    count = raw.cl_uint()
    status = raw.clGetDeviceIDs(platform, device_type, 0, None, raw.byref(count))
    if status == raw.CL_DEVICE_NOT_FOUND:
        return []
    assert status == raw.CL_SUCCESS, status
    devices = (raw.cl_device_id * count.value)()
    assert raw.clGetDeviceIDs(platform, device_type, count.value, devices, None) == raw.CL_SUCCESS
    return list(devices)


def raw_info_string(get_info, handle, param) -> str:
    """A ``char[]`` info value (e.g. clGetPlatformInfo, CL_PLATFORM_NAME), size queried first."""
    size = ctypes.c_size_t()
    assert get_info(handle, param, 0, None, raw.byref(size)) == raw.CL_SUCCESS
    text = ctypes.create_string_buffer(size.value + 1)
    assert get_info(handle, param, size.value, text, None) == raw.CL_SUCCESS
    return text.value.decode("utf-8", "replace")


def raw_platform_name(platform) -> str:
    return raw_info_string(raw.clGetPlatformInfo, platform, raw.CL_PLATFORM_NAME)


def raw_device_name(device) -> str:
    return raw_info_string(raw.clGetDeviceInfo, device, raw.CL_DEVICE_NAME)


def raw_build_log(program, device) -> str:
    """CL_PROGRAM_BUILD_LOG of ``program`` for ``device``."""
    size = ctypes.c_size_t()
    assert raw.clGetProgramBuildInfo(program, device, raw.CL_PROGRAM_BUILD_LOG, 0, None,
                                     raw.byref(size)) == raw.CL_SUCCESS
    log = ctypes.create_string_buffer(size.value + 1)
    assert raw.clGetProgramBuildInfo(program, device, raw.CL_PROGRAM_BUILD_LOG, size.value, log,
                                     None) == raw.CL_SUCCESS
    return log.value.decode("utf-8", "replace")


def raw_build_program(context, device, source: bytes, options: Optional[bytes] = None) -> raw.cl_program:
    """A program built from OpenCL C ``source`` for ``device`` (clCreateProgramWithSource, clBuildProgram).

    The caller releases it.  A failed build fails the test with the build log.
    """
    err = raw.cl_int()
    strings = (ctypes.c_char_p * 1)(source)
    lengths = (ctypes.c_size_t * 1)(len(source))
    program = raw.clCreateProgramWithSource(context, 1, strings, lengths, raw.byref(err))
    assert err.value == raw.CL_SUCCESS, err.value
    status = raw.clBuildProgram(program, 1, raw.byref(device), options, None, None)
    if status != raw.CL_SUCCESS:
        log = raw_build_log(program, device)
        raw.clReleaseProgram(program)
        pytest.fail(f"clBuildProgram returned {status}; build log:\n{log}")
    return program


def raw_is_pocl(platform) -> bool:
    return POCL_PLATFORM_NAME in raw_platform_name(platform)


# ---------------------------------------------------------------------------
# Vendors folder with Oclgrind (see the module docstring).
# ---------------------------------------------------------------------------

OCLGRIND_ICD = "/usr/lib/oclgrind/liboclgrind-rt-icd.so"
SYSTEM_VENDORS = "/etc/OpenCL/vendors"


def _icd_libraries(folder: str) -> List[str]:
    """The library line of each ``.icd`` file of ``folder`` (sorted by file name, duplicates dropped)."""
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".icd") and not n.startswith("."))
    except OSError:
        return []
    libraries = []
    for name in names:
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                line = f.readline().strip()
        except OSError:
            continue
        if line and line not in libraries:
            libraries.append(line)
    return libraries


def make_vendors_folder(libraries: List[str], parent: Optional[str] = None) -> str:
    """A new folder with one ``.icd`` file per library, listed by ``readdir`` (and so by
    the loader with ``OCL_ICD_PLATFORM_SORT=none``) in the order of ``libraries``.

    Directory order depends on the file system (name hashes on ext4, creation order on
    tmpfs), so names are tried until the order comes out right. The path returned ends
    with a separator: the ICD loader of CUDA 13 (``libOpenCL.so.1`` on the NVIDIA H200
    machine) joins the folder and the file names without one, and reads nothing otherwise.
    """
    folder = tempfile.mkdtemp(prefix="opencl_raw_vendors_", dir=parent)
    stems = [os.path.basename(lib).split(".")[0].replace("lib", "", 1) or "driver" for lib in libraries]
    for attempt in range(64):
        names = [f"{i}{attempt}-{stem}.icd" for i, stem in enumerate(stems)]
        order = list(range(len(names))) if attempt % 2 == 0 else list(reversed(range(len(names))))
        for i in order:
            with open(os.path.join(folder, names[i]), "w", encoding="utf-8") as f:
                f.write(libraries[i] + "\n")
        if [n for n in os.listdir(folder)] == names:
            break
        for name in names:
            os.remove(os.path.join(folder, name))
    else:   # never seen; the loader's order is then the folder's
        for name, library in zip(names, libraries):
            with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
                f.write(library + "\n")
    return os.path.join(folder, "")


def _set_up_vendors(config) -> None:
    steering = ("OCL_ICD_VENDORS", "OPENCL_RAW_ICDS", "OPENCL_RAW_TEST_VENDORS")
    if any(os.environ.get(name) is not None for name in steering) or not os.path.exists(OCLGRIND_ICD):
        os.environ.setdefault("OPENCL_RAW_TEST_VENDORS", "")     # a pytest run inside a test makes none either
        return
    libraries = _icd_libraries(os.environ.get("OPENCL_VENDOR_PATH") or SYSTEM_VENDORS)
    if not libraries or any("oclgrind" in lib.lower() for lib in libraries):
        os.environ["OPENCL_RAW_TEST_VENDORS"] = ""
        return                                   # no system driver, or Oclgrind registered already
    libraries.sort(key=lambda lib: "pocl" not in lib.lower())      # PoCL first: platform 0
    folder = make_vendors_folder(libraries + [OCLGRIND_ICD])
    os.environ["OCL_ICD_VENDORS"] = folder
    os.environ["OPENCL_RAW_TEST_VENDORS"] = folder
    os.environ.setdefault("OCL_ICD_PLATFORM_SORT", "none")
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


#: Why user-event tests do not run on Oclgrind.
OCLGRIND_FLUSH_BLOCKS = ("Oclgrind 21.10 runs the queue inside clFlush (and timed waits flush): a command held "
                         "by a pending user event blocks it for ever")

_watchdog_file = None


def pytest_configure(config):
    global _watchdog_file
    config.addinivalue_line(
        "markers", "not_on_oclgrind(reason): too heavy for a simulator, or blocks there; deselected on Oclgrind "
                   "unless OPENCL_RAW_OCLGRIND=all")
    config.addinivalue_line(
        "markers", "deviation(platform, reason, hangs=False): on a platform whose name contains `platform`, the "
                   "driver departs from the specification as `reason` says: strict xfail there (skip if it hangs)")
    _set_up_vendors(config)
    # pytest-timeout's signal method cannot interrupt a call blocked inside the driver; the
    # watchdog below then ends the run (exit 1, tracebacks on the terminal's stderr, which
    # pytest does not capture at configure time) instead of letting it hang.
    _watchdog_file = os.fdopen(os.dup(2), "w")
    config.add_cleanup(_watchdog_file.close)


def _timeout_of(item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0] or 0)
    try:
        return float(item.config.getini("timeout") or 0)
    except (ValueError, TypeError):
        return 0.0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """A hard limit per test: its pytest-timeout limit + 60 s, then faulthandler exits the process."""
    limit = _timeout_of(item)
    if limit > 0 and _watchdog_file is not None:
        faulthandler.dump_traceback_later(limit + 60, exit=True, file=_watchdog_file)
    try:
        yield
    finally:
        if limit > 0:
            faulthandler.cancel_dump_traceback_later()


# ---------------------------------------------------------------------------
# Targets: every device of every platform (parametrization of the device fixtures).
# ---------------------------------------------------------------------------

#: Test modules that run on Oclgrind (``OPENCL_RAW_OCLGRIND=basics``, the default): what
#: matters for an OpenCL 1.2 device. The others run on the other devices only.
OCLGRIND_MODULES = {
    "test_twelve_steps_raw", "test_twelve_steps_checked", "test_twelve_steps_handles",
    "test_queue", "test_memory", "test_program", "test_event", "test_handle", "test_gate",
    "test_context", "test_platform", "test_extensions",
    "test_diagnostics", "test_strategies",
}
#: Why some other modules with device tests do not run on Oclgrind by default.
NOT_ON_OCLGRIND = {
    "test_properties": "hypothesis: hundreds of transfers and kernel runs (opencl_raw.testing runs on it instead)",
    "test_bench": "benchmarks",
    "test_leaks": "leak checks: thousands of create/release cycles",
    "test_image": "images: every format and size; Oclgrind 21.10 reports CL_IMAGE_ROW_PITCH 0, which most fail on",
    "test_info_tool": "clinfo comparisons run once, in subprocesses",
}
SIMULATORS = ("oclgrind",)
_SHORT_NAMES = {"portable computing language": "pocl", "oclgrind": "oclgrind"}


class Target(NamedTuple):
    """One device to run the device tests on."""
    id: str                 # e.g. "pocl-0": short platform name, device index on that platform
    platform_index: int     # in the loader's order
    device_index: int
    platform_name: str
    device_name: str
    version: Tuple[int, int] = (0, 0)    # CL_DEVICE_VERSION

    @property
    def simulator(self) -> bool:
        return any(name in self.platform_name.lower() for name in SIMULATORS)


def _short_name(platform_name: str) -> str:
    name = _SHORT_NAMES.get(platform_name.strip().lower())
    if name is None:
        words = "".join(c if c.isalnum() else " " for c in platform_name.lower()).split()
        name = words[0] if words else "platform"
    return name


_targets_cache: Optional[Tuple[List[Target], str]] = None


def device_targets() -> Tuple[List[Target], str]:
    """(the targets, why there are none): every device of every platform, restricted by
    OPENCL_RAW_PLATFORM / OPENCL_RAW_DEVICE. Enumerated once, with the raw layer."""
    global _targets_cache
    if _targets_cache is not None:
        return _targets_cache
    try:
        platforms = raw_platform_ids()
    except (LibraryNotFoundError, FunctionUnavailableError) as exc:
        _targets_cache = [], f"no OpenCL library: {exc}"
        return _targets_cache
    want_platform = os.environ.get("OPENCL_RAW_PLATFORM", "").lower()
    want_device = os.environ.get("OPENCL_RAW_DEVICE", "").lower()
    targets, seen, used = [], [], {}
    for p_index, platform in enumerate(platforms):
        platform_name = raw_platform_name(platform)
        short = _short_name(platform_name)
        used[short] = used.get(short, 0) + 1
        if used[short] > 1:                       # a second platform of the same name
            short = f"{short}{used[short] - 1}"
        for d_index, device in enumerate(raw_device_ids(platform)):
            device_name = raw_device_name(device)
            seen.append(f"{platform_name!r}/{device_name!r}")
            if want_platform in platform_name.lower() and want_device in device_name.lower():
                version = re.match(r"OpenCL (\d+)\.(\d+)",
                                   raw_info_string(raw.clGetDeviceInfo, device, raw.CL_DEVICE_VERSION))
                targets.append(Target(f"{short}-{d_index}", p_index, d_index, platform_name, device_name,
                                      (int(version.group(1)), int(version.group(2))) if version else (0, 0)))
    why = "" if targets else (f"no OpenCL device matches platform~{want_platform!r} device~{want_device!r}; "
                              f"available: {', '.join(seen) or 'none'}")
    _targets_cache = targets, why
    return _targets_cache


def pytest_generate_tests(metafunc):
    if "cl_target" in metafunc.fixturenames:
        targets, _ = device_targets()
        metafunc.parametrize("cl_target", targets or [None], ids=[t.id for t in targets] or ["no-device"],
                             indirect=True, scope="session")


def _oclgrind_mode() -> str:
    mode = os.environ.get("OPENCL_RAW_OCLGRIND", "basics").strip().lower() or "basics"
    if mode not in ("basics", "all", "off"):
        raise pytest.UsageError(f"OPENCL_RAW_OCLGRIND={mode!r}: use basics, all or off")
    return mode


def _target_of(item) -> Optional[Target]:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("cl_target") if callspec is not None else None


def _why_not_on_simulator(item) -> Optional[str]:
    """None when ``item`` runs on a simulator in the ``basics`` mode, else the reason."""
    module = item.module.__name__.rpartition(".")[2] if item.module else ""
    marker = item.get_closest_marker("not_on_oclgrind")
    if marker is not None:
        return f"{module}: {marker.args[0] if marker.args else marker.kwargs.get('reason', 'marked')}"
    if module in OCLGRIND_MODULES:
        return None
    return f"{module}: {NOT_ON_OCLGRIND.get(module, 'not one of the Oclgrind basics (OCLGRIND_MODULES)')}"


_deselected: Dict[str, int] = {}
_outcomes: Dict[str, Dict[str, int]] = {}


def _mark_deviations(item, target: Target) -> None:
    """Apply ``@pytest.mark.deviation(platform, reason, hangs=False)`` markers whose ``platform``
    (a substring of the platform name) matches ``target``: the test is expected to fail there
    (strict xfail: it fails the run once the driver follows the specification), or, with
    ``hangs=True``, skipped (a driver that blocks forever cannot be run)."""
    for marker in item.iter_markers("deviation"):
        platform, reason = marker.args
        if platform.lower() in target.platform_name.lower():
            why = f"{platform} deviates from the specification: {reason}"
            if marker.kwargs.get("hangs"):
                item.add_marker(pytest.mark.skip(reason=f"{why} (it hangs)"))
            else:
                item.add_marker(pytest.mark.xfail(strict=True, reason=why))


def pytest_collection_modifyitems(config, items):
    mode = _oclgrind_mode()
    keep, drop = [], []
    for item in items:
        target = _target_of(item)
        if target is not None:
            _mark_deviations(item, target)
        why = None
        if target is not None and target.simulator and mode != "all":
            why = "OPENCL_RAW_OCLGRIND=off" if mode == "off" else _why_not_on_simulator(item)
        if why is None:
            keep.append(item)
        else:
            drop.append(item)
            key = f"{target.id}: {why}"
            _deselected[key] = _deselected.get(key, 0) + 1
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        counts = _outcomes.setdefault(getattr(report, "_cl_target", None) or "no device", {})
        outcome = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
        counts[outcome] = counts.get(outcome, 0) + 1


_REQUIREMENT = re.compile(r"^OpenCL (\d+)\.(\d+)$")


def _too_old_for(target: Optional[Target], exc: BaseException) -> Optional[str]:
    """The skip reason when ``exc`` is the version gate refusing a function this device is too old for."""
    if target is None or not isinstance(exc, FunctionUnavailableError):
        return None
    wanted = _REQUIREMENT.match(getattr(exc, "requirement", "") or "")
    if wanted is None or target.version >= (int(wanted.group(1)), int(wanted.group(2))):
        return None
    return (f"{target.id} reports OpenCL {target.version[0]}.{target.version[1]}; "
            f"{exc.function} needs {exc.requirement} (the version gate)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    target = _target_of(item)
    report._cl_target = target.id if target is not None else "no device"
    if report.failed and call.excinfo is not None and report.when in ("setup", "call"):
        reason = _too_old_for(target, call.excinfo.value)
        if reason is not None:
            path, lineno, _ = item.reportinfo()
            report.outcome = "skipped"
            report.longrepr = (str(path), (lineno or 0) + 1, f"Skipped: {reason}")


def pytest_terminal_summary(terminalreporter):
    if _deselected:
        terminalreporter.section("deselected on simulators")
        for key, count in sorted(_deselected.items()):
            terminalreporter.line(f"{count:5d}  {key}")
    if _outcomes:
        terminalreporter.section("outcomes per device")
        for target, counts in sorted(_outcomes.items()):
            text = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            terminalreporter.line(f"{target}: {text}")


@pytest.fixture(scope="session")
def cl_target(request) -> Target:
    """The device this test instance runs on (the parameter of the device fixtures)."""
    target = request.param
    if target is None:
        pytest.skip(device_targets()[1])
    return target


@pytest.fixture(scope="session")
def on_simulator(cl_target) -> bool:
    """True on a simulator (Oclgrind): scale problem sizes down."""
    return cl_target.simulator


@pytest.fixture(scope="session")
def problem_size(cl_target):
    """``problem_size(full, small=None)``: ``full`` on real devices; on simulators ``small``
    (default ``max(1, full // 16)``)."""
    def size(full: int, small: Optional[int] = None) -> int:
        if not cl_target.simulator:
            return full
        return small if small is not None else max(1, full // 16)
    return size


def _raw_handles(target: Target) -> Tuple[raw.cl_platform_id, raw.cl_device_id]:
    platform = raw_platform_ids()[target.platform_index]
    device = raw_device_ids(platform)[target.device_index]
    assert raw_device_name(device) == target.device_name, "the loader's device order changed"
    return platform, device


# The raw selection helpers of earlier versions: the first target.
def _select_raw_device() -> Tuple[raw.cl_platform_id, raw.cl_device_id]:
    targets, why = device_targets()
    if not targets:
        pytest.skip(why)
    return _raw_handles(targets[0])


@pytest.fixture(scope="session")
def raw_platform_and_device(cl_target) -> Tuple[raw.cl_platform_id, raw.cl_device_id]:
    """(cl_platform_id, cl_device_id) of this test instance's device."""
    return _raw_handles(cl_target)


class ImplicitReferences(NamedTuple):
    """How many references creating one child adds to its parent's CL_*_REFERENCE_COUNT, per device.

    A child keeps its parent alive (a queue, buffer or program its context, a kernel its program,
    a sub-buffer or 1D buffer image its buffer), but whether the driver counts that hold is its
    own business: the specification calls reference counts "immediately stale", for leak
    identification only. PoCL counts each hold (1), NVIDIA 580 none (0). Tests add these numbers
    to what the binding itself retains, so a wrong clRetain*/clRelease* of ours shows on both.
    """
    queue_on_context: int
    buffer_on_context: int
    program_on_context: int
    kernel_on_program: int
    sub_buffer_on_buffer: int
    image_on_buffer: Optional[int]      # None: the device has no images, or is older than OpenCL 1.2


_implicit_references: Dict[str, ImplicitReferences] = {}


def measure_implicit_references(device, version: Tuple[int, int]) -> ImplicitReferences:
    """:class:`ImplicitReferences` of raw ``device`` (OpenCL ``version``, (major, minor)), measured with
    raw C calls: the parent's count before and after clCreateCommandQueue(WithProperties),
    clCreateBuffer, clCreateProgramWithSource, clCreateKernel, clCreateSubBuffer, clCreateImage.
    Everything made is released.  AssertionError if a call fails or a count goes down."""
    err = raw.cl_int()
    made: list = []                      # (clRelease*, handle), released last first

    def count(get_info, param, handle) -> int:
        n = raw.cl_uint()
        assert get_info(handle, param, ctypes.sizeof(n), raw.byref(n), None) == raw.CL_SUCCESS
        return n.value

    def added(get_info, param, parent, create, release, optional=False):
        before = count(get_info, param, parent)
        child = create()
        if optional and (err.value != raw.CL_SUCCESS or not child):
            return None
        assert err.value == raw.CL_SUCCESS and child, err.value
        made.append((release, child))
        delta = count(get_info, param, parent) - before
        assert delta >= 0, f"creating a child lowered its parent's reference count by {-delta}"
        return delta

    ctx = (raw.clGetContextInfo, raw.CL_CONTEXT_REFERENCE_COUNT)
    mem = (raw.clGetMemObjectInfo, raw.CL_MEM_REFERENCE_COUNT)
    context = raw.clCreateContext(None, 1, raw.byref(device), None, None, raw.byref(err))
    assert err.value == raw.CL_SUCCESS, err.value
    made.append((raw.clReleaseContext, context))
    try:
        queue = added(*ctx, context, lambda: (
            raw.clCreateCommandQueueWithProperties(context, device, None, raw.byref(err)) if version >= (2, 0)
            else raw.clCreateCommandQueue(context, device, 0, raw.byref(err))), raw.clReleaseCommandQueue)
        buffer = added(*ctx, context, lambda: raw.clCreateBuffer(context, raw.CL_MEM_READ_WRITE, 4096, None,
                                                                 raw.byref(err)), raw.clReleaseMemObject)
        parent = made[-1][1]
        source = (ctypes.c_char_p * 1)(b"__kernel void k(__global int *x) { x[0] = 1; }")
        program = added(*ctx, context, lambda: raw.clCreateProgramWithSource(context, 1, source, None,
                                                                              raw.byref(err)), raw.clReleaseProgram)
        built = made[-1][1]
        assert raw.clBuildProgram(built, 1, raw.byref(device), None, None, None) == raw.CL_SUCCESS
        kernel = added(raw.clGetProgramInfo, raw.CL_PROGRAM_REFERENCE_COUNT, built,
                       lambda: raw.clCreateKernel(built, b"k", raw.byref(err)), raw.clReleaseKernel)
        region = raw.cl_buffer_region(0, 64)
        sub_buffer = added(*mem, parent, lambda: raw.clCreateSubBuffer(
            parent, raw.CL_MEM_READ_WRITE, raw.CL_BUFFER_CREATE_TYPE_REGION, raw.byref(region), raw.byref(err)),
            raw.clReleaseMemObject)
        images = raw.cl_bool()
        assert raw.clGetDeviceInfo(device, raw.CL_DEVICE_IMAGE_SUPPORT, ctypes.sizeof(images), raw.byref(images),
                                   None) == raw.CL_SUCCESS
        image = None
        if images.value and version >= (1, 2):
            fmt = raw.cl_image_format(raw.CL_RGBA, raw.CL_UNSIGNED_INT32)
            desc = raw.cl_image_desc(image_type=raw.CL_MEM_OBJECT_IMAGE1D_BUFFER, image_width=16)
            desc.buffer = parent
            image = added(*mem, parent, lambda: raw.clCreateImage(context, raw.CL_MEM_READ_WRITE, raw.byref(fmt),
                                                                  raw.byref(desc), None, raw.byref(err)),
                          raw.clReleaseMemObject, optional=True)
    finally:
        for release, handle in reversed(made):
            assert release(handle) == raw.CL_SUCCESS
    return ImplicitReferences(queue, buffer, program, kernel, sub_buffer, image)


@pytest.fixture(scope="session")
def implicit_refs(cl_target, raw_device) -> ImplicitReferences:
    """:class:`ImplicitReferences` of this test instance's device (measured once per device)."""
    if cl_target.id not in _implicit_references:
        _implicit_references[cl_target.id] = measure_implicit_references(raw_device, cl_target.version)
    return _implicit_references[cl_target.id]


@pytest.fixture(scope="session")
def raw_platform(raw_platform_and_device) -> raw.cl_platform_id:
    """The platform of this test instance's device, a raw ``cl_platform_id``."""
    return raw_platform_and_device[0]


@pytest.fixture(scope="session")
def raw_device(raw_platform_and_device) -> raw.cl_device_id:
    """This test instance's device, a raw ``cl_device_id`` of :func:`raw_platform`."""
    return raw_platform_and_device[1]


# ---------------------------------------------------------------------------
# Handle-layer fixtures (the top level of opencl_raw), on the same devices.
# ---------------------------------------------------------------------------

def _handle_device(target: Target):
    import opencl_raw

    device = opencl_raw.get_platform_ids()[target.platform_index].get_device_ids()[target.device_index]
    assert device.name == target.device_name, "the loader's device order changed"
    return device


def select_handle_device():
    """The first target as an ``opencl_raw.Device`` (for code outside the fixtures)."""
    targets, why = device_targets()
    if not targets:
        pytest.skip(why)
    return _handle_device(targets[0])


@pytest.fixture(scope="session")
def device(cl_target):
    """This test instance's device, an ``opencl_raw.Device`` (the same device as :func:`raw_device`)."""
    return _handle_device(cl_target)


@pytest.fixture
def context(device):
    """A fresh ``opencl_raw.Context`` on :func:`device`, released after the test."""
    import opencl_raw

    ctx = opencl_raw.create_context([device])
    yield ctx
    ctx.release()


@pytest.fixture
def queue(context, device):
    """A profiling ``opencl_raw.CommandQueue`` on :func:`context`, finished and released after the test."""
    q = context.create_command_queue_with_properties(
        device, {raw.CL_QUEUE_PROPERTIES: raw.CL_QUEUE_PROFILING_ENABLE})
    yield q
    if not q.released:
        # A test that failed before setting a user event it made leaves commands waiting on it, and
        # clFinish would wait for ever (no Python timeout reaches into the driver): fail such user
        # events first, as the binding does at exit, so the failure is reported and the run goes on.
        _exit._fail_user_events()
        q.finish()
        q.release()


# ---------------------------------------------------------------------------
# Oclgrind (OpenCL 1.2) in a subprocess: old-device paths and the version gate.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def run_oclgrind(tmp_path_factory):
    """``run_oclgrind(code, timeout=60) -> value``: run Python ``code`` in a subprocess whose ICD
    loader sees Oclgrind (OCL_ICD_VENDORS: ``oclgrind.icd`` and ``pocl.icd``), with
    ``OPENCL_RAW_PLATFORM=Oclgrind``; returns the JSON value of its last stdout line.

    The code's exit status must be 0 (else the test fails with its stderr); a run past
    ``timeout`` seconds is killed and fails. Skipped when Oclgrind is not installed.
    """
    import json
    import subprocess
    import sys

    if not os.path.exists(OCLGRIND_ICD):
        pytest.skip(f"Oclgrind is not installed ({OCLGRIND_ICD})")
    vendors = tmp_path_factory.mktemp("icd")
    (vendors / "oclgrind.icd").write_text(OCLGRIND_ICD + "\n")
    (vendors / "pocl.icd").write_text("libpocl.so.2\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def run(code: str, timeout: float = 60):
        env = dict(os.environ, OCL_ICD_VENDORS=str(vendors), OPENCL_RAW_PLATFORM="Oclgrind",
                   PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        env.pop("OPENCL_RAW_DEVICE", None)
        try:
            done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the Oclgrind subprocess ran past {timeout} s; output so far: {exc.stdout!r} {exc.stderr!r}")
        assert done.returncode == 0, f"Oclgrind subprocess failed ({done.returncode}):\n{done.stderr}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run


# ---------------------------------------------------------------------------
# Child processes that see this process's drivers (clinfo, tools, nested runs).
# ---------------------------------------------------------------------------

#: variables through which ICD loaders (and the icd backend) find drivers besides OCL_ICD_VENDORS
_OTHER_DRIVER_VARIABLES = ("OCL_ICD_FILENAMES", "OPENCL_VENDOR_PATH", "OPENCL_RAW_ICDS")


def same_drivers_env(folder: str, environ: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """A copy of ``environ`` (default ``os.environ``) in which a child process's ICD loader finds
    exactly the driver libraries this process's platforms come from (``raw.backend()``).

    Loaders read the variables differently: the Khronos loader loads ``OCL_ICD_FILENAMES``
    before the ``OCL_ICD_VENDORS`` folder, ocl-icd ignores it; a child such as clinfo may link
    another libOpenCL than the one opencl_raw loaded (the NVIDIA H200 machine has two). So a new
    folder under ``folder`` gets one ``.icd`` file per driver file (absolute paths, in this
    process's platform order), ``OCL_ICD_VENDORS`` names it, ``OCL_ICD_PLATFORM_SORT=none``
    keeps that order, and ``OCL_ICD_FILENAMES``, ``OPENCL_VENDOR_PATH`` and ``OPENCL_RAW_ICDS``
    are removed. Where no platform or no driver file is known, the copy is unchanged.
    """
    env = dict(os.environ if environ is None else environ)
    try:
        platforms = raw.backend().platforms
    except (LibraryNotFoundError, FunctionUnavailableError):
        return env
    libraries: List[str] = []
    for platform in platforms:
        if not platform.library or not os.path.isabs(platform.library):
            return env
        if platform.library not in libraries:
            libraries.append(platform.library)
    if not libraries:
        return env
    for name in _OTHER_DRIVER_VARIABLES:
        env.pop(name, None)
    env["OCL_ICD_VENDORS"] = make_vendors_folder(libraries, parent=folder)
    env["OCL_ICD_PLATFORM_SORT"] = "none"
    return env
