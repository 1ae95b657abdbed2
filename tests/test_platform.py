"""Platforms and devices (opencl_raw/platform.py), and typed info values, compared with clinfo."""
from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
from typing import Dict, List, Tuple

import pytest

import opencl_raw as cl
from opencl_raw import errors, raw
from conftest import same_drivers_env
from opencl_raw._info import (AtomicCapabilities, ExecCapabilities, FPConfig, LocalMemType, MemCacheType,
                              NameVersionTuple, SVMCapabilities)

CLINFO = shutil.which("clinfo")
needs_clinfo = pytest.mark.skipif(CLINFO is None, reason="clinfo is not installed")


def _clinfo(env: Dict[str, str], *args: str) -> str:
    return subprocess.run([CLINFO, *args], check=True, capture_output=True, text=True, timeout=60,
                          env=env).stdout


@pytest.fixture(scope="module")
def clinfo_env(tmp_path_factory) -> Dict[str, str]:
    """The environment clinfo runs in: its loader sees the drivers this process's platforms come from.

    On the NVIDIA H200 machine clinfo, run with this process's environment as it was
    (OCL_ICD_FILENAMES and OCL_ICD_VENDORS both set), listed PoCL only while opencl_raw listed
    PoCL and NVIDIA: loaders read those variables differently (see conftest.same_drivers_env)."""
    return same_drivers_env(str(tmp_path_factory.mktemp("clinfo_vendors")))


def clinfo_list(env: Dict[str, str]) -> List[Tuple[str, List[str]]]:
    """``clinfo -l``: [(platform name, [device names])] in the order of clinfo's loader."""
    platforms: List[Tuple[str, List[str]]] = []
    for line in _clinfo(env, "-l").splitlines():
        m = re.match(r"^Platform #(\d+): (.*)$", line)
        if m:
            assert int(m.group(1)) == len(platforms)
            platforms.append((m.group(2).strip(), []))
            continue
        m = re.match(r"^ [`+|]-- Device #(\d+): (.*)$", line)
        if m:
            assert int(m.group(1)) == len(platforms[-1][1])
            platforms[-1][1].append(m.group(2).strip())
    return platforms


def clinfo_raw(env: Dict[str, str]) -> Dict[Tuple[int, object], Dict[str, str]]:
    """``clinfo --raw``: {(platform index, device index or '*'): {CL name: printed value}}, in the
    order of clinfo's loader.

    Only the per-platform sections (lines tagged ``[SUFFIX/n]``) are read; a new
    ``CL_PLATFORM_NAME`` line starts the next platform.
    """
    table: Dict[Tuple[int, object], Dict[str, str]] = {}
    platform = -1
    for line in _clinfo(env, "--raw").splitlines():
        m = re.match(r"^\[[^/\]]*/(\*|\d+)\]\s+(CL_\w+)(?:\s+(.*))?$", line)
        if not m:
            continue
        which, name, value = m.group(1), m.group(2), (m.group(3) or "").strip()
        if which == "*" and name == "CL_PLATFORM_NAME":
            platform += 1
        key = (platform, "*" if which == "*" else int(which))
        table.setdefault(key, {})[name] = value
    return table


def _position(device):
    """(platform index, device index) of ``device`` in opencl_raw's enumeration."""
    platforms = cl.get_platform_ids()
    for pi, platform in enumerate(platforms):
        for di, d in enumerate(platform.get_device_ids()):
            if d == device:
                return pi, di
    raise AssertionError("the selected device is not enumerated")


def clinfo_sections(device, env: Dict[str, str]) -> Tuple[Dict[str, str], Dict[str, str]]:
    """(platform section, device section) of ``clinfo --raw`` for ``device``, found by names, not by
    index: clinfo's loader may order platforms otherwise (ocl-icd sorts them by device counts, the
    Khronos loader keeps the load order). The k-th platform of a name here is the k-th of that name
    there; a driver lists its own devices in one order, checked by CL_DEVICE_NAME."""
    pi, di = _position(device)
    platforms = cl.get_platform_ids()
    name = platforms[pi].name
    rank = [p.name for p in platforms[:pi]].count(name)
    table = clinfo_raw(env)
    theirs = sorted(index for (index, which), section in table.items()
                    if which == "*" and section.get("CL_PLATFORM_NAME") == name)
    listed = [section.get("CL_PLATFORM_NAME") for (_, which), section in table.items() if which == "*"]
    assert rank < len(theirs), f"clinfo does not list platform {name!r} (#{rank + 1} of that name); it lists {listed}"
    index = theirs[rank]
    assert (index, di) in table, f"clinfo lists no device #{di} on {name!r}"
    device_section = table[(index, di)]
    assert device_section.get("CL_DEVICE_NAME", device.name) == device.name, (device_section.get("CL_DEVICE_NAME"),
                                                                             device.name)
    return table[(index, "*")], device_section


# --------------------------------------------------------------------------- #
# enumeration, compared with clinfo
# --------------------------------------------------------------------------- #

@needs_clinfo
def test_platforms_and_devices_match_clinfo_list(clinfo_env):
    expected = clinfo_list(clinfo_env)
    platforms = cl.get_platform_ids()
    ours = [(p.name, [d.name for d in p.get_device_ids()]) for p in platforms]
    # the same platforms, each with its devices in the driver's order; the platform order is the
    # loader's (clinfo may link another loader than opencl_raw: see clinfo_sections)
    assert sorted(ours) == sorted(expected), (ours, expected)
    assert [p.name for p in cl.get_platforms()] == [name for name, _ in ours]
    assert cl.get_platforms() == platforms
    for platform in platforms:
        assert platform.get_devices() == platform.get_device_ids()


def test_clinfo_env_names_this_process_drivers(tmp_path):
    from opencl_raw import raw
    try:
        origins = raw.backend().platforms
    except errors.LibraryNotFoundError:
        pytest.skip("no OpenCL library")
    env = same_drivers_env(str(tmp_path), {"OCL_ICD_FILENAMES": "libnothing.so", "OPENCL_RAW_ICDS": "/x.icd",
                                           "OPENCL_VENDOR_PATH": "/nowhere", "KEEP": "1"})
    if not origins:
        assert env == {"OCL_ICD_FILENAMES": "libnothing.so", "OPENCL_RAW_ICDS": "/x.icd",
                       "OPENCL_VENDOR_PATH": "/nowhere", "KEEP": "1"}
        return
    folder = env["OCL_ICD_VENDORS"]
    assert folder.startswith(str(tmp_path)) and env["KEEP"] == "1" and env["OCL_ICD_PLATFORM_SORT"] == "none"
    assert not {"OCL_ICD_FILENAMES", "OPENCL_RAW_ICDS", "OPENCL_VENDOR_PATH"} & set(env)
    named = []
    for name in os.listdir(folder):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            named.append(f.read().strip())
    assert named == list(dict.fromkeys(p.library for p in origins))      # directory order = platform order
    assert all(os.path.isabs(name) for name in named)


def test_platforms_are_platform_objects_with_devices():
    platforms = cl.get_platform_ids()
    assert platforms, "the test machine has at least one platform"
    for platform in platforms:
        assert isinstance(platform, cl.Platform)
        devices = platform.get_device_ids()
        assert devices and all(isinstance(d, cl.Device) for d in devices)
        for d in devices:
            assert d.platform == platform


def test_get_device_ids_by_type(device):
    platform = device.platform
    kinds = {"CPU": raw.CL_DEVICE_TYPE_CPU, "GPU": raw.CL_DEVICE_TYPE_GPU,
             "ACCELERATOR": raw.CL_DEVICE_TYPE_ACCELERATOR}
    everything = platform.get_device_ids()
    assert platform.get_device_ids(raw.CL_DEVICE_TYPE_ALL) == everything
    total = 0
    for name, bits in kinds.items():
        found = platform.get_device_ids(bits)
        assert all(d.type & bits for d in found), name
        assert found == [d for d in everything if d.type & bits]   # [] where the driver says DeviceNotFound
        total += len(found)
    assert total >= 1
    if "Portable Computing Language" in platform.name:
        assert platform.get_device_ids(raw.CL_DEVICE_TYPE_GPU) == []
        assert device in platform.get_device_ids(raw.CL_DEVICE_TYPE_CPU)


@needs_clinfo
def test_max_compute_units_three_ways(device, clinfo_env):
    printed = clinfo_sections(device, clinfo_env)[1]["CL_DEVICE_MAX_COMPUTE_UNITS"]
    assert device.max_compute_units == device.get_info(raw.CL_DEVICE_MAX_COMPUTE_UNITS) == int(printed)
    assert device.get_info("CL_DEVICE_MAX_COMPUTE_UNITS") == int(printed)


def _flag_names(value, prefix: str):
    return {prefix + member.name for member in type(value) if member.value and member in value}


@needs_clinfo
def test_device_info_matches_clinfo_raw(device, clinfo_env):
    printed = clinfo_sections(device, clinfo_env)[1]
    checked_names = []

    def same(param, expected):
        if param in printed:
            assert expected == printed[param], param
            checked_names.append(param)

    for param in ("CL_DEVICE_NAME", "CL_DEVICE_VENDOR", "CL_DEVICE_VERSION", "CL_DRIVER_VERSION",
                  "CL_DEVICE_OPENCL_C_VERSION", "CL_DEVICE_PROFILE", "CL_DEVICE_IL_VERSION"):
        same(param, device.get_info(param).strip())
    for param in ("CL_DEVICE_MAX_COMPUTE_UNITS", "CL_DEVICE_MAX_CLOCK_FREQUENCY", "CL_DEVICE_ADDRESS_BITS",
                  "CL_DEVICE_GLOBAL_MEM_SIZE", "CL_DEVICE_MAX_MEM_ALLOC_SIZE", "CL_DEVICE_MAX_WORK_GROUP_SIZE",
                  "CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS", "CL_DEVICE_LOCAL_MEM_SIZE",
                  "CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE", "CL_DEVICE_MAX_PARAMETER_SIZE",
                  "CL_DEVICE_MEM_BASE_ADDR_ALIGN", "CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE",
                  "CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT", "CL_DEVICE_NATIVE_VECTOR_WIDTH_DOUBLE",
                  "CL_DEVICE_PRINTF_BUFFER_SIZE", "CL_DEVICE_PROFILING_TIMER_RESOLUTION"):
        same(param, str(device.get_info(param)))
    for param in ("CL_DEVICE_VENDOR_ID", "CL_DEVICE_NUMERIC_VERSION"):
        same(param, hex(device.get_info(param)))
    for param in ("CL_DEVICE_AVAILABLE", "CL_DEVICE_COMPILER_AVAILABLE", "CL_DEVICE_LINKER_AVAILABLE",
                  "CL_DEVICE_IMAGE_SUPPORT", "CL_DEVICE_ENDIAN_LITTLE", "CL_DEVICE_ERROR_CORRECTION_SUPPORT",
                  "CL_DEVICE_HOST_UNIFIED_MEMORY", "CL_DEVICE_PIPE_SUPPORT"):
        value = device.get_info(param)
        assert type(value) is bool, param
        same(param, "CL_TRUE" if value else "CL_FALSE")
    same("CL_DEVICE_MAX_WORK_ITEM_SIZES", " ".join(map(str, device.max_work_item_sizes)))
    if "CL_DEVICE_TYPE" in printed:
        assert _flag_names(device.type, "CL_DEVICE_TYPE_") == set(printed["CL_DEVICE_TYPE"].split(" | "))
        checked_names.append("CL_DEVICE_TYPE")
    same("CL_DEVICE_LOCAL_MEM_TYPE", "CL_" + device.local_mem_type.name)
    same("CL_DEVICE_GLOBAL_MEM_CACHE_TYPE", "CL_" + device.global_mem_cache_type.name)
    # (not CL_DEVICE_DOUBLE_FP_CONFIG: clinfo leaves out CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT there, a
    # bit the specification defines for single precision only, though PoCL sets it)
    for param, prefix in (("CL_DEVICE_SINGLE_FP_CONFIG", "CL_FP_"),
                          ("CL_DEVICE_EXECUTION_CAPABILITIES", "CL_EXEC_"),
                          ("CL_DEVICE_SVM_CAPABILITIES", "CL_DEVICE_SVM_"),
                          ("CL_DEVICE_QUEUE_ON_HOST_PROPERTIES", "CL_QUEUE_"),
                          ("CL_DEVICE_ATOMIC_MEMORY_CAPABILITIES", "CL_DEVICE_")):
        if param in printed:
            assert _flag_names(device.get_info(param), prefix) == set(filter(None, printed[param].split(" | "))), param
            checked_names.append(param)
    if "CL_DEVICE_EXTENSIONS" in printed:
        assert device.extensions.split() == printed["CL_DEVICE_EXTENSIONS"].split()
        checked_names.append("CL_DEVICE_EXTENSIONS")
    assert len(checked_names) >= 25, checked_names


@needs_clinfo
def test_platform_info_matches_clinfo_raw(device, clinfo_env):
    printed = clinfo_sections(device, clinfo_env)[0]
    platform = device.platform
    assert platform.name == printed["CL_PLATFORM_NAME"]
    for param in ("CL_PLATFORM_VENDOR", "CL_PLATFORM_VERSION", "CL_PLATFORM_PROFILE", "CL_PLATFORM_ICD_SUFFIX_KHR"):
        if param in printed:
            assert platform.get_info(param).strip() == printed[param], param
    if "CL_PLATFORM_EXTENSIONS" in printed:
        assert platform.extensions.split() == printed["CL_PLATFORM_EXTENSIONS"].split()
    if "CL_PLATFORM_NUMERIC_VERSION" in printed:
        assert hex(platform.numeric_version) == printed["CL_PLATFORM_NUMERIC_VERSION"]
    if "CL_PLATFORM_EXTENSIONS_WITH_VERSION" in printed:
        expected = [item.rsplit(":", 1) for item in printed["CL_PLATFORM_EXTENSIONS_WITH_VERSION"].split()]
        assert [(nv.name, hex(nv.version)) for nv in platform.extensions_with_version] == \
            [(name, version) for name, version in expected]


# --------------------------------------------------------------------------- #
# typed values
# --------------------------------------------------------------------------- #

def _raw_device_uint(device, param) -> int:
    value = raw.cl_uint()
    assert raw.clGetDeviceInfo(device.handle, param, ctypes.sizeof(value), ctypes.byref(value), None) == 0
    return value.value


def test_typed_device_values(device):
    assert isinstance(device.name, str) and device.name and "\0" not in device.name
    assert type(device.max_compute_units) is int
    assert device.max_compute_units == _raw_device_uint(device, raw.CL_DEVICE_MAX_COMPUTE_UNITS) >= 1
    assert type(device.available) is bool and device.available is True
    assert type(device.image_support) is bool

    device_type = device.type
    assert isinstance(device_type, cl.DeviceType)
    assert device_type == device.get_info(raw.CL_DEVICE_TYPE)
    assert int(device_type) & (raw.CL_DEVICE_TYPE_CPU | raw.CL_DEVICE_TYPE_GPU | raw.CL_DEVICE_TYPE_ACCELERATOR
                               | raw.CL_DEVICE_TYPE_CUSTOM)

    sizes = device.max_work_item_sizes
    assert isinstance(sizes, tuple) and len(sizes) == device.max_work_item_dimensions >= 3
    assert all(type(s) is int and s >= 1 for s in sizes)
    assert max(sizes) <= device.max_mem_alloc_size

    platform = device.platform
    assert isinstance(platform, cl.Platform)
    assert platform in cl.get_platform_ids()

    assert isinstance(device.local_mem_type, LocalMemType)
    assert isinstance(device.global_mem_cache_type, MemCacheType)
    assert isinstance(device.single_fp_config, FPConfig)
    assert device.single_fp_config & FPConfig.ROUND_TO_NEAREST          # required for full profile
    assert isinstance(device.execution_capabilities, ExecCapabilities)
    assert device.execution_capabilities & ExecCapabilities.KERNEL
    assert isinstance(device.queue_properties, cl.CommandQueueProperties)
    assert device.parent_device is None                                  # a root device: NULL -> None
    assert device.reference_count == 1
    if device.version_tuple >= (2, 0):
        assert isinstance(device.svm_capabilities, SVMCapabilities)
    if device.version_tuple >= (3, 0):
        assert isinstance(device.atomic_memory_capabilities, AtomicCapabilities)
        versions = device.opencl_c_all_versions
        assert versions and all(isinstance(v, NameVersionTuple) for v in versions)
        assert all(v.name == "OpenCL C" for v in versions)
        assert (1, 2, 0) in [cl.split_version(v.version) for v in versions]
        extensions = device.extensions_with_version
        assert [e.name for e in extensions] == device.extensions.split()
        assert cl.split_version(device.numeric_version)[:2] == device.version_tuple


def test_version_tuples(device):
    assert device.version_tuple == tuple(int(x) for x in device.version.split()[1].split(".")[:2])
    platform = device.platform
    assert platform.version_tuple == tuple(int(x) for x in platform.version.split()[1].split(".")[:2])
    if "Portable Computing Language" in platform.name:
        assert platform.version_tuple == (3, 0) and device.version_tuple == (3, 0)


def test_param_by_number_or_name(device):
    assert device.get_info(raw.CL_DEVICE_NAME) == device.get_info("CL_DEVICE_NAME") == device.name
    assert device.platform.get_info("CL_PLATFORM_NAME") == device.platform.name


def test_unknown_param_number_is_the_drivers_invalid_value(device):
    for obj, function in ((device, "clGetDeviceInfo"), (device.platform, "clGetPlatformInfo")):
        with pytest.raises(errors.InvalidValue) as caught:
            obj.get_info(0x7FFF)
        assert caught.value.code == raw.CL_INVALID_VALUE == -30
        assert caught.value.function == function


def test_param_outside_the_table_returns_bytes(device, monkeypatch):
    # Every header param has a row, so take one out of the decoder's table for this test.
    from opencl_raw import _info
    param = raw.CL_DEVICE_COMMAND_BUFFER_CAPABILITIES_KHR
    rows = dict(_info._BY_VALUE["Device"])
    del rows[param]
    monkeypatch.setitem(_info._BY_VALUE, "Device", rows)
    size = ctypes.c_size_t()
    if raw.clGetDeviceInfo(device.handle, param, 0, None, ctypes.byref(size)) != raw.CL_SUCCESS:
        pytest.skip("the device does not know CL_DEVICE_COMMAND_BUFFER_CAPABILITIES_KHR")
    expected = ctypes.create_string_buffer(size.value)
    assert raw.clGetDeviceInfo(device.handle, param, size.value, expected, None) == raw.CL_SUCCESS
    value = device.get_info(param)
    assert type(value) is bytes and value == expected.raw


def test_bad_params_and_attributes(device):
    with pytest.raises(ValueError, match="CL_NOT_A_PARAM"):
        device.get_info("CL_NOT_A_PARAM")
    with pytest.raises(TypeError):
        device.get_info(1.5)
    with pytest.raises(AttributeError, match="no_such_attribute"):
        device.no_such_attribute
    with pytest.raises(AttributeError):
        device._private_thing
    assert "max_compute_units" in dir(device) and "name" in dir(device.platform)


def test_platform_unload_compiler_then_build(device):
    device.platform.unload_compiler()       # a hint: the compiler is loaded again when needed
    with cl.create_context([device]) as context:
        with context.create_program_with_source("__kernel void k(__global int *x) { x[0] = 7; }").build() as p:
            assert p.kernel_names == "k"


# --------------------------------------------------------------------------- #
# select_device
# --------------------------------------------------------------------------- #

@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("OPENCL_RAW_PLATFORM", raising=False)
    monkeypatch.delenv("OPENCL_RAW_DEVICE", raising=False)
    return monkeypatch


def test_select_device_by_index(no_env):
    platforms = cl.get_platform_ids()
    assert cl.select_device() == platforms[0].get_device_ids()[0]
    for pi, platform in enumerate(platforms):
        devices = platform.get_device_ids()
        for di, d in enumerate(devices):
            assert cl.select_device(pi, di) == d
            assert cl.select_device(str(pi), str(di)) == d
        assert cl.select_device(pi, -1) == devices[-1]


def test_select_device_by_substring(no_env, device):
    platform_name = device.platform.name
    assert cl.select_device(platform_name, device.name) == device
    assert cl.select_device(platform_name.upper(), device.name.lower()) == device      # case-insensitive
    assert cl.select_device(platform_name[1:-1], device.name[2:-2]) == device          # substrings
    if "Portable Computing Language" in platform_name:
        assert cl.select_device("portable computing") == device


def test_select_device_from_environment(no_env, device):
    no_env.setenv("OPENCL_RAW_PLATFORM", device.platform.name.lower())
    no_env.setenv("OPENCL_RAW_DEVICE", device.name.upper())
    assert cl.select_device() == device
    no_env.setenv("OPENCL_RAW_PLATFORM", "no such platform here")
    with pytest.raises(LookupError):
        cl.select_device()
    # explicit arguments win over the environment
    assert cl.select_device(device.platform.name, device.name) == device
    pi, di = _position(device)
    no_env.setenv("OPENCL_RAW_PLATFORM", str(pi))
    no_env.setenv("OPENCL_RAW_DEVICE", str(di))
    assert cl.select_device() == device


def test_select_device_lookup_errors_list_names(no_env, device):
    names = [p.name for p in cl.get_platform_ids()]
    with pytest.raises(LookupError) as caught:
        cl.select_device("no such platform here")
    assert "no such platform here" in str(caught.value)
    for name in names:
        assert repr(name) in str(caught.value)
    with pytest.raises(LookupError) as caught:
        cl.select_device(device.platform.name, "no such device here")
    for d in device.platform.get_device_ids():
        assert repr(d.name) in str(caught.value)
    with pytest.raises(LookupError, match=f"there are {len(names)}"):
        cl.select_device(len(names))
    with pytest.raises(LookupError):
        cl.select_device(0, 1000)


# --------------------------------------------------------------------------- #
# sub-devices (clCreateSubDevices)
# --------------------------------------------------------------------------- #

POCL_NAME = "Portable Computing Language"
SQUARE = "__kernel void square(__global int *x) { size_t i = get_global_id(0); x[i] = x[i] * x[i]; }"


def _raw_partition_type(device) -> List[int]:
    """CL_DEVICE_PARTITION_TYPE as the C list (raw query), terminators included."""
    size = ctypes.c_size_t()
    assert raw.clGetDeviceInfo(device.handle, raw.CL_DEVICE_PARTITION_TYPE, 0, None, ctypes.byref(size)) == 0
    values = (raw.cl_device_partition_property * (size.value // ctypes.sizeof(raw.cl_device_partition_property)))()
    assert raw.clGetDeviceInfo(device.handle, raw.CL_DEVICE_PARTITION_TYPE, size, values, None) == 0
    return list(values)


@pytest.fixture
def partitionable(device):
    if device.version_tuple < (1, 2) or device.max_compute_units < 2 or \
            raw.CL_DEVICE_PARTITION_EQUALLY not in device.partition_properties:
        pytest.skip("the device cannot be partitioned equally into 2+ sub-devices")
    return device


def test_partition_equally(partitionable):
    device = partitionable
    units = device.max_compute_units
    subs = device.create_sub_devices([raw.CL_DEVICE_PARTITION_EQUALLY, 1])
    assert len(subs) == min(units, device.partition_max_sub_devices)
    if POCL_NAME in device.platform.name:
        assert units == 2 and len(subs) == 2                     # PoCL here: 2 compute units
    for sub in subs:
        assert isinstance(sub, cl.Device) and sub != device
        assert sub.parent_device == device
        assert sub.max_compute_units == 1
        assert sub.partition_type == ((raw.CL_DEVICE_PARTITION_EQUALLY, 1),)
        assert _raw_partition_type(sub) == [raw.CL_DEVICE_PARTITION_EQUALLY, 1, 0]
        assert sub.reference_count == 1                         # the wrapper owns the one reference
        assert sub._owned
        assert sub.platform == device.platform and sub.type == device.type
    assert len({s.handle.value for s in subs}) == len(subs)
    # the root device is not reference counted, and is no sub-device
    assert device.parent_device is None and device.reference_count == 1 and not device._owned
    for sub in subs:
        sub.release()
        sub.release()                                           # idempotent
        assert sub.released
    with pytest.raises(cl.ReleasedHandleError):
        subs[0].max_compute_units


def test_partition_by_counts(partitionable):
    device = partitionable
    ones = device.create_sub_devices([raw.CL_DEVICE_PARTITION_BY_COUNTS, 1, 1])
    assert [s.max_compute_units for s in ones] == [1, 1]
    end = raw.CL_DEVICE_PARTITION_BY_COUNTS_LIST_END
    for sub in ones:
        listed = _raw_partition_type(sub)
        assert listed[:4] == [raw.CL_DEVICE_PARTITION_BY_COUNTS, 1, 1, end]
        if POCL_NAME in device.platform.name:
            assert len(listed) == 4                             # PoCL 3.1 drops the final 0 of the C list
        sub.release()
    whole = device.create_sub_devices([raw.CL_DEVICE_PARTITION_BY_COUNTS, [2]])     # nested counts
    assert [s.max_compute_units for s in whole] == [2]
    assert _raw_partition_type(whole[0])[:3] == [raw.CL_DEVICE_PARTITION_BY_COUNTS, 2, end]
    whole[0].release()
    again = device.create_sub_devices([raw.CL_DEVICE_PARTITION_BY_COUNTS, 1, end, 0])   # the full C list
    assert [s.max_compute_units for s in again] == [1]
    again[0].release()


def test_partition_refusals(partitionable):
    device = partitionable
    for properties, error in (([], ValueError), ([raw.CL_DEVICE_PARTITION_EQUALLY], ValueError),
                              ([raw.CL_DEVICE_PARTITION_EQUALLY, 0], ValueError),
                              ([raw.CL_DEVICE_PARTITION_EQUALLY, 1, 2], ValueError),
                              ([raw.CL_DEVICE_PARTITION_BY_COUNTS], ValueError),
                              ([raw.CL_DEVICE_PARTITION_BY_COUNTS, 1, 0, 1], ValueError),
                              ([raw.CL_DEVICE_PARTITION_BY_AFFINITY_DOMAIN], ValueError),
                              ([0x7777, 1], ValueError), (["EQUALLY", 1], TypeError),
                              ([raw.CL_DEVICE_PARTITION_EQUALLY, True], TypeError), (7, TypeError)):
        with pytest.raises(error):
            device.create_sub_devices(properties)
    units = device.max_compute_units
    with pytest.raises(errors.InvalidDevicePartitionCount) as caught:
        device.create_sub_devices([raw.CL_DEVICE_PARTITION_BY_COUNTS, units + 1])
    assert caught.value.function == "clCreateSubDevices"
    if POCL_NAME in device.platform.name:
        with pytest.raises(errors.InvalidValue):                # more units per sub-device than exist
            device.create_sub_devices([raw.CL_DEVICE_PARTITION_EQUALLY, units + 1])


def test_partition_by_affinity_domain(partitionable):
    device = partitionable
    domains = device.partition_affinity_domain
    if POCL_NAME in device.platform.name:
        # PoCL 3.1 lists only equally and by counts, no affinity domain, and refuses one.
        assert set(device.partition_properties) == {raw.CL_DEVICE_PARTITION_EQUALLY,
                                                    raw.CL_DEVICE_PARTITION_BY_COUNTS}
        assert domains == 0
        for domain in (raw.CL_DEVICE_AFFINITY_DOMAIN_NUMA, raw.CL_DEVICE_AFFINITY_DOMAIN_NEXT_PARTITIONABLE):
            with pytest.raises(errors.InvalidValue):
                device.create_sub_devices([raw.CL_DEVICE_PARTITION_BY_AFFINITY_DOMAIN, domain])
        return
    if not domains:
        pytest.skip("no affinity domain")
    domain = raw.CL_DEVICE_AFFINITY_DOMAIN_NEXT_PARTITIONABLE
    subs = device.create_sub_devices([raw.CL_DEVICE_PARTITION_BY_AFFINITY_DOMAIN, domain])
    assert subs and all(s.parent_device == device for s in subs)
    for sub in subs:
        sub.release()


def test_sub_device_context_runs_a_kernel(partitionable):
    device = partitionable
    first, second = device.create_sub_devices([raw.CL_DEVICE_PARTITION_EQUALLY, 1])[:2]
    context = cl.create_context([first])
    if POCL_NAME in device.platform.name:
        assert first.reference_count == 1                       # PoCL 3.1 counts no context reference
    if POCL_NAME in device.platform.name:
        # PoCL 3.1 answers CL_CONTEXT_DEVICES with the root device (it keeps the sub-device apart)
        assert context.devices == (device,)
    else:
        assert context.devices == (first,)
    queue = context.create_command_queue_with_properties(first)
    assert queue.device == first
    program = context.create_program_with_source(SQUARE).build()
    kernel = program.create_kernel("square")
    import numpy as np
    data = np.arange(-512, 512, dtype=np.int32)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=data)
    kernel.set_arg(0, buffer)
    queue.enqueue_nd_range_kernel(kernel, data.size).wait(timeout=30)
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.int32), data * data)
    # The other sub-device runs its own context at the same time.
    other = cl.create_context([second])
    other_queue = other.create_command_queue_with_properties(second)
    other_kernel = other.create_program_with_source(SQUARE).build().create_kernel("square")
    other_buffer = other.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=data[:8])
    other_kernel.set_arg(0, other_buffer)
    other_queue.enqueue_nd_range_kernel(other_kernel, 8).wait(timeout=30)
    np.testing.assert_array_equal(other_queue.enqueue_read_buffer(other_buffer).view(np.int32), data[:8] ** 2)
    for obj in (buffer, kernel, program, queue, context, other_buffer, other_kernel, other_queue, other,
                first, second):
        obj.release()
    assert first.released and second.released


def test_sub_devices_of_a_sub_device(partitionable):
    device = partitionable
    subs = device.create_sub_devices([raw.CL_DEVICE_PARTITION_EQUALLY, 1])
    if POCL_NAME in device.platform.name:
        # PoCL lists no partition scheme for a sub-device and refuses one.
        assert subs[0].partition_properties == (0,) or subs[0].partition_properties == ()
        with pytest.raises(errors.DevicePartitionFailed):
            subs[0].create_sub_devices([raw.CL_DEVICE_PARTITION_EQUALLY, 1])
    for sub in subs:
        sub.release()


def test_sub_devices_on_oclgrind(run_oclgrind):
    result = run_oclgrind("""
import json
import opencl_raw as cl
from opencl_raw import raw, errors
device = cl.select_device()
out = {"properties": list(device.partition_properties), "errors": []}
for properties in ([raw.CL_DEVICE_PARTITION_EQUALLY, 1], [raw.CL_DEVICE_PARTITION_BY_COUNTS, 1]):
    try:
        device.create_sub_devices(properties)
        out["errors"].append("returned")
    except errors.CLError as exc:
        out["errors"].append(exc.name)
print(json.dumps(out))
""")
    # Oclgrind (1.2) supports no partition scheme: CL_DEVICE_PARTITION_PROPERTIES is [0], and it says CL_INVALID_VALUE.
    assert result["properties"] in ([0], [])
    assert result["errors"] == ["CL_INVALID_VALUE", "CL_INVALID_VALUE"]
