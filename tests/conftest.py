"""Shared fixtures and helpers of the opencl_raw test suite.

Device selection (fixtures ``raw_platform`` and ``raw_device``, raw handles usable
by every layer):

- ``OPENCL_RAW_PLATFORM`` / ``OPENCL_RAW_DEVICE``: case-insensitive substrings of
  the platform name and device name; either or both may be set;
- otherwise the first device of the platform named "Portable Computing Language"
  (PoCL), the CPU driver the suite is written against.

Tests needing a device are skipped when no OpenCL library loads or nothing matches.
"""
from __future__ import annotations

import ctypes
import os
from typing import List, Optional, Tuple

import pytest

from opencl_raw import raw
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
# Device selection.
# ---------------------------------------------------------------------------

def _select_raw_device() -> Tuple[raw.cl_platform_id, raw.cl_device_id]:
    try:
        platforms = raw_platform_ids()
    except (LibraryNotFoundError, FunctionUnavailableError) as exc:
        pytest.skip(f"no OpenCL library: {exc}")
    want_platform = os.environ.get("OPENCL_RAW_PLATFORM", "").lower()
    want_device = os.environ.get("OPENCL_RAW_DEVICE", "").lower()
    if not want_platform and not want_device:
        want_platform = POCL_PLATFORM_NAME.lower()
    seen = []
    for platform in platforms:
        platform_name = raw_platform_name(platform)
        for device in raw_device_ids(platform):
            device_name = raw_device_name(device)
            seen.append(f"{platform_name!r}/{device_name!r}")
            if want_platform in platform_name.lower() and want_device in device_name.lower():
                return platform, device
    pytest.skip(f"no OpenCL device matches platform~{want_platform!r} device~{want_device!r}; "
                f"available: {', '.join(seen) or 'none'}")


@pytest.fixture(scope="session")
def raw_platform_and_device() -> Tuple[raw.cl_platform_id, raw.cl_device_id]:
    """The selected (cl_platform_id, cl_device_id); see the module docstring."""
    return _select_raw_device()


@pytest.fixture(scope="session")
def raw_platform(raw_platform_and_device) -> raw.cl_platform_id:
    """The selected platform, a raw ``cl_platform_id``."""
    return raw_platform_and_device[0]


@pytest.fixture(scope="session")
def raw_device(raw_platform_and_device) -> raw.cl_device_id:
    """The selected device, a raw ``cl_device_id`` of :func:`raw_platform`."""
    return raw_platform_and_device[1]


# ---------------------------------------------------------------------------
# Handle-layer fixtures (the top level of opencl_raw), same selection rule as above:
# OPENCL_RAW_PLATFORM / OPENCL_RAW_DEVICE substrings, else the PoCL platform.
# ---------------------------------------------------------------------------

def select_handle_device():
    """The selected device as an ``opencl_raw.Device``, enumerated with the handle layer."""
    import opencl_raw

    try:
        platforms = opencl_raw.get_platform_ids()
    except (LibraryNotFoundError, FunctionUnavailableError) as exc:
        pytest.skip(f"no OpenCL library: {exc}")
    want_platform = os.environ.get("OPENCL_RAW_PLATFORM", "").lower()
    want_device = os.environ.get("OPENCL_RAW_DEVICE", "").lower()
    if not want_platform and not want_device:
        want_platform = POCL_PLATFORM_NAME.lower()
    seen = []
    for platform in platforms:
        for dev in platform.get_device_ids():
            seen.append(f"{platform.name!r}/{dev.name!r}")
            if want_platform in platform.name.lower() and want_device in dev.name.lower():
                return dev
    pytest.skip(f"no OpenCL device matches platform~{want_platform!r} device~{want_device!r}; "
                f"available: {', '.join(seen) or 'none'}")


@pytest.fixture(scope="session")
def device():
    """The selected device, an ``opencl_raw.Device`` (the same device as :func:`raw_device`)."""
    return select_handle_device()


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
        q.finish()
        q.release()


# ---------------------------------------------------------------------------
# Oclgrind (OpenCL 1.2) in a subprocess: old-device paths and the version gate.
# ---------------------------------------------------------------------------

OCLGRIND_ICD = "/usr/lib/oclgrind/liboclgrind-rt-icd.so"


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
