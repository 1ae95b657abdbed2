"""The built-in ICD dispatch (``OPENCL_RAW_BACKEND=icd``, :mod:`opencl_raw._icd`).

- dispatch itself, on fake ICD objects whose tables hold recording callbacks or NULL:
  every slot index, NULL entries, NULL handles, wrong argument types;
- driver discovery: ocl-icd's rules (``OCL_ICD_VENDORS``, ``OPENCL_VENDOR_PATH``, directory
  order, the 'devices' platform sort) checked against the system loader with PoCL and
  Oclgrind, plus ``OPENCL_RAW_ICDS``, ``OCL_ICD_FILENAMES``, :func:`opencl_raw.load_icd` and
  ``python -m opencl_raw --icd``;
- the loader's behaviour for calls whose first argument is not a handle, compared call by
  call with the system loader;
- the twelve-step tests and the clinfo comparison, rerun on the icd backend;
- pip alone: a fresh virtual environment with ``opencl_raw[pocl]`` runs the demo.
"""
from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from opencl_raw import _icd, raw  # noqa: E402
from opencl_raw.errors import FunctionUnavailableError  # noqa: E402

OCLGRIND = "/usr/lib/oclgrind/liboclgrind-rt-icd.so"
POCL_NAME = "Portable Computing Language"
TIMEOUT = 50

# Variables that steer discovery or the backend: removed from every child environment first.
STEERING = ("OPENCL_RAW_BACKEND", "OPENCL_RAW_LIBRARY", "OPENCL_RAW_ICDS", "OCL_ICD_VENDORS", "OPENCL_VENDOR_PATH",
            "OCL_ICD_FILENAMES", "OCL_ICD_PLATFORM_SORT", "OCL_ICD_DEFAULT_PLATFORM", "OPENCL_RAW_PYPI_ICDS",
            "OPENCL_RAW_PLATFORM", "OPENCL_RAW_DEVICE")


def child_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in STEERING}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OPENCL_RAW_PYPI_ICDS"] = "0"   # the system loader cannot see PyPI drivers
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def run_python(code: str, timeout: int = TIMEOUT, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=child_env(**env), cwd=str(ROOT))


def run_json(code: str, **env):
    proc = run_python(code, **env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def loadable(name: str) -> bool:
    try:
        ctypes.CDLL(name)
        return True
    except OSError:
        return False


def pocl_library() -> str:
    for name in ("libpocl.so.2", "libpocl.so"):
        if loadable(name):
            return name
    pytest.skip("PoCL (libpocl.so.2) is not installed")


def oclgrind_library() -> str:
    if not os.path.exists(OCLGRIND):
        pytest.skip(f"Oclgrind is not installed ({OCLGRIND})")
    return OCLGRIND


def write_icd(folder: Path, name: str, library: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(library + "\n")
    return path


@pytest.fixture
def both(tmp_path) -> Path:
    """A vendors folder with PoCL and Oclgrind."""
    folder = tmp_path / "vendors"
    write_icd(folder, "pocl.icd", pocl_library())
    write_icd(folder, "oclgrind.icd", oclgrind_library())
    return folder


# Lists platforms, devices and driver files through whichever backend the environment selects.
LISTING = """
    import ctypes, json
    from opencl_raw import raw
    def text(get, handle, param):
        size = ctypes.c_size_t()
        assert get(handle, param, 0, None, ctypes.byref(size)) == 0
        buf = ctypes.create_string_buffer(size.value + 1)
        assert get(handle, param, size.value, buf, None) == 0
        return buf.value.decode()
    n = raw.cl_uint()
    status = raw.clGetPlatformIDs(0, None, ctypes.byref(n))
    rows = []
    if status == 0:
        platforms = (raw.cl_platform_id * n.value)()
        assert raw.clGetPlatformIDs(n.value, platforms, None) == 0
        for p in platforms:
            m = raw.cl_uint()
            assert raw.clGetDeviceIDs(p, raw.CL_DEVICE_TYPE_ALL, 0, None, ctypes.byref(m)) == 0
            devices = (raw.cl_device_id * m.value)()
            assert raw.clGetDeviceIDs(p, raw.CL_DEVICE_TYPE_ALL, m.value, devices, None) == 0
            rows.append([text(raw.clGetPlatformInfo, p, raw.CL_PLATFORM_NAME),
                         [text(raw.clGetDeviceInfo, d, raw.CL_DEVICE_NAME) for d in devices]])
    info = raw.backend()
    maps = open("/proc/self/maps").read()
    print(json.dumps({"status": status, "rows": rows, "backend": info.name,
                      "files": [p.library for p in info.platforms], "loader_mapped": "libOpenCL" in maps}))
"""


def listing(backend: str, **env):
    return run_json(LISTING, OPENCL_RAW_BACKEND=backend, **env)


# --------------------------------------------------------------------------- #
# Dispatch on fake ICD objects
# --------------------------------------------------------------------------- #

class FakeDriver:
    """ICD objects in Python memory: each is one pointer to a table of len(DISPATCH_TABLE) slots."""

    def __init__(self):
        self.table = (ctypes.c_void_p * len(raw.DISPATCH_TABLE))()
        self.keep = []

    def handle(self, handle_type):
        obj = ctypes.c_void_p(ctypes.addressof(self.table))
        self.keep.append(obj)
        return handle_type(ctypes.addressof(obj))

    def install(self, index, fn):
        self.keep.append(fn)
        self.table[index] = ctypes.cast(fn, ctypes.c_void_p).value


@pytest.fixture
def fake():
    """A FakeDriver; its table leaves the dispatch caches with it (its memory may be reused)."""
    driver = FakeDriver()
    yield driver
    # (The dispatchers made here by _icd.resolve, and their own caches, go with the test.)
    _icd._tables.pop(ctypes.addressof(driver.table), None)


def dispatched():
    """(name, slot index, prototype) of every function dispatched through its first handle."""
    out = []
    for name, index in _icd.SLOTS.items():
        proto = raw.FUNCTIONS[name]
        if name in ("clCreateContext", "clCreateContextFromType", "clGetGLContextInfoKHR", "clWaitForEvents",
                    "clGetPlatformIDs", "clUnloadCompiler", "clGetExtensionFunctionAddress"):
            continue
        out.append((name, index, proto))
    return out


def dummy_args(proto, first):
    args = [first]
    for _, argtype, c_type in proto.params[1:]:
        args.append(None if ("*" in c_type or c_type.startswith("cl_") and argtype.__name__ == c_type
                             and issubclass(argtype, raw._Handle)) else 0)
    return args


def recorder(proto, calls, name):
    """A C callback of the slot's ABI (every argument and the result as an integer register)."""
    restype = None if proto.restype is None else ctypes.c_ssize_t
    ftype = ctypes.CFUNCTYPE(restype, *([ctypes.c_ssize_t] * len(proto.params)))

    def record(*args):
        calls.append((name, args[0]))
        return None if restype is None else 0

    return ftype(record)


def test_every_slot_is_called_through_its_index(fake):
    driver = fake
    calls = []
    names = dispatched()
    assert len(names) > 120
    for name, index, proto in names:
        driver.install(index, recorder(proto, calls, name))
    for name, index, proto in names:
        handle = driver.handle(proto.argtypes[0])
        fn = _icd.resolve(name, raw.UnavailableFunction)
        assert fn.__name__ == name and fn.argtypes == proto.argtypes and fn.restype is proto.restype
        del calls[:]
        fn(*dummy_args(proto, handle))
        assert calls == [(name, handle.value)], name


def test_null_slots_raise_function_unavailable(fake):
    driver = fake   # every slot NULL
    for name, index, proto in dispatched():
        fn = _icd.resolve(name, raw.UnavailableFunction)
        with pytest.raises(FunctionUnavailableError) as info:
            fn(*dummy_args(proto, driver.handle(proto.argtypes[0])))
        assert info.value.function == name and "no entry" in str(info.value), name
        assert info.value.requirement == proto.requirement
        # The same again, from the cached slot.
        with pytest.raises(FunctionUnavailableError):
            fn(*dummy_args(proto, driver.handle(proto.argtypes[0])))


def test_functions_outside_the_table_are_unavailable_stand_ins():
    fn = _icd.resolve("clCreateCommandBufferKHR", raw.UnavailableFunction)
    assert not fn and isinstance(fn, raw.UnavailableFunction)
    assert "dispatch table" in fn.reason and "get_extension_function" in fn.reason
    # The reserved slots (void * here) have no name to call them by.
    reserved = [i for i, n in enumerate(raw.DISPATCH_TABLE) if n is None]
    assert len(reserved) == 16 and all("D3D" in raw.DISPATCH_MEMBERS[i] or "DX9" in raw.DISPATCH_MEMBERS[i]
                                       for i in reserved)


def test_handle_arguments_are_checked_before_memory_is_read(fake):
    driver = fake
    calls = []
    proto = raw.FUNCTIONS["clGetContextInfo"]
    driver.install(_icd.SLOTS["clGetContextInfo"], recorder(proto, calls, "clGetContextInfo"))
    fn = _icd.resolve("clGetContextInfo", raw.UnavailableFunction)
    context = driver.handle(raw.cl_context)
    for wrong in (driver.handle(raw.cl_device_id), ctypes.c_void_p(context.value), b"bytes", "text", 1.5,
                  (raw.cl_context * 1)(context)):
        with pytest.raises(ctypes.ArgumentError):
            fn(wrong, 0, 0, None, None)
    assert calls == []

    class Holder:
        _as_parameter_ = context

    class Released:
        @property
        def _as_parameter_(self):
            raise ValueError("released")

    for ok in (context, context.value, Holder()):
        assert fn(ok, 0, 0, None, None) == 0
    assert len(calls) == 3
    with pytest.raises(ctypes.ArgumentError, match="argument 1: ValueError: released"):
        fn(Released(), 0, 0, None, None)
    # Other arguments are converted by ctypes as for the loader.
    with pytest.raises(ctypes.ArgumentError):
        fn(context, "name", 0, None, None)
    with pytest.raises(TypeError):
        fn()


def test_null_first_handles_return_the_invalid_handle_code():
    cases = {
        "clGetContextInfo": raw.CL_INVALID_CONTEXT, "clReleaseCommandQueue": raw.CL_INVALID_COMMAND_QUEUE,
        "clGetMemObjectInfo": raw.CL_INVALID_MEM_OBJECT, "clRetainSampler": raw.CL_INVALID_SAMPLER,
        "clBuildProgram": raw.CL_INVALID_PROGRAM, "clSetKernelArg": raw.CL_INVALID_KERNEL,
        "clReleaseEvent": raw.CL_INVALID_EVENT, "clGetDeviceInfo": raw.CL_INVALID_DEVICE,
    }
    for name, code in cases.items():
        proto = raw.FUNCTIONS[name]
        fn = _icd.resolve(name, raw.UnavailableFunction)
        for null in (None, 0, proto.argtypes[0]()):
            assert fn(*dummy_args(proto, null)) == code, name
    err = raw.cl_int(1)
    mem = _icd.resolve("clCreateBuffer", raw.UnavailableFunction)(None, 0, 16, None, ctypes.byref(err))
    assert isinstance(mem, raw.cl_mem) and not mem and err.value == raw.CL_INVALID_CONTEXT
    mapped = _icd.resolve("clEnqueueMapBuffer", raw.UnavailableFunction)(
        None, 0, 0, 0, 0, 16, 0, None, None, ctypes.byref(err))
    assert mapped is None and err.value == raw.CL_INVALID_COMMAND_QUEUE
    assert _icd.resolve("clSVMAlloc", raw.UnavailableFunction)(None, 0, 16, 0) is None
    assert _icd.resolve("clSVMFree", raw.UnavailableFunction)(None, None) is None


def test_get_extension_function_address_for_platform_falls_back_to_the_exported_function():
    """An OpenCL 1.1 driver's table has no clGetExtensionFunctionAddressForPlatform slot: the
    driver's exported clGetExtensionFunctionAddress answers instead."""
    library = pocl_library()
    driver = _icd._load_driver(library, "test")
    handle, _ = driver.platforms[0]
    fake = (ctypes.c_void_p * len(raw.DISPATCH_TABLE))()     # an empty table of that driver
    obj = ctypes.c_void_p(ctypes.addressof(fake))
    driver.tables.add(ctypes.addressof(fake))
    _icd._drivers.append(driver)
    try:
        fn = _icd.resolve("clGetExtensionFunctionAddressForPlatform", raw.UnavailableFunction)
        platform = raw.cl_platform_id(ctypes.addressof(obj))
        assert fn(platform, b"clIcdGetPlatformIDsKHR") == driver.get_address(b"clIcdGetPlatformIDsKHR") != None  # noqa
        assert fn(platform, b"clNoSuchFunctionKHR") is None
    finally:
        _icd._drivers.remove(driver)
        _icd._tables.pop(ctypes.addressof(fake), None)


# --------------------------------------------------------------------------- #
# Discovery rules
# --------------------------------------------------------------------------- #

def sources(**env):
    return _icd.driver_sources({k: v for k, v in env.items() if v is not None})


def test_discovery_follows_ocl_icd_variables(tmp_path):
    etc = tmp_path / "etc"
    write_icd(etc, "b.icd", "libB.so")
    write_icd(etc, "a.icd", "libA.so")
    (etc / "not-an-icd.txt").write_text("libX.so\n")
    (etc / ".icd").write_text("libHidden.so\n")
    other = tmp_path / "other"
    single = write_icd(other, "single.icd", "/opt/libS.so")
    named = write_icd(etc, "named.icd", "libNamed.so")
    order = [n for n in os.listdir(etc) if n.endswith(".icd") and n != ".icd"]   # directory order
    expect_etc = [((etc / n).read_text().strip(), str(etc / n)) for n in order]
    off = "0"
    # OPENCL_VENDOR_PATH replaces /etc/OpenCL/vendors; OCL_ICD_VENDORS (a folder) replaces both.
    assert sources(OPENCL_VENDOR_PATH=str(etc), OPENCL_RAW_PYPI_ICDS=off) == expect_etc
    assert sources(OCL_ICD_VENDORS=str(etc), OPENCL_VENDOR_PATH=str(other), OPENCL_RAW_PYPI_ICDS=off) == expect_etc
    # An .icd file: alone; a bare name is looked up in the vendors folder first.
    assert sources(OCL_ICD_VENDORS=str(single), OPENCL_RAW_PYPI_ICDS=off) == [("/opt/libS.so", str(single))]
    assert sources(OCL_ICD_VENDORS="named.icd", OPENCL_VENDOR_PATH=str(etc), OPENCL_RAW_PYPI_ICDS=off) == [
        ("libNamed.so", str(named))]
    # Anything else is the library itself.
    assert sources(OCL_ICD_VENDORS="/opt/libDirect.so", OPENCL_RAW_PYPI_ICDS=off) == [
        ("/opt/libDirect.so", "OCL_ICD_VENDORS")]
    # OCL_ICD_FILENAMES (Khronos loader) come first; OPENCL_RAW_ICDS replaces everything.
    assert sources(OCL_ICD_FILENAMES=f"/x/libF1.so{os.pathsep}/x/libF2.so", OCL_ICD_VENDORS=str(single),
                   OPENCL_RAW_PYPI_ICDS=off) == [
        ("/x/libF1.so", "OCL_ICD_FILENAMES"), ("/x/libF2.so", "OCL_ICD_FILENAMES"), ("/opt/libS.so", str(single))]
    assert sources(OPENCL_RAW_ICDS=f"{etc}{os.pathsep}/opt/libR.so", OCL_ICD_VENDORS=str(single)) == sorted(
        expect_etc, key=lambda e: os.path.basename(e[1])) + [("/opt/libR.so", "OPENCL_RAW_ICDS")]


def test_pypi_driver_folder_is_found(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "pocl_binary_distribution").mkdir(parents=True)
    (site / "pocl_binary_distribution" / "__init__.py").write_text("")
    libs = site / "pyopencl" / ".libs"
    write_icd(libs, "pocl.icd", "libpocl-1234.so")
    (libs / "libpocl-1234.so").write_bytes(b"")
    monkeypatch.syspath_prepend(str(site))
    assert _icd.pypi_icd_folders() == [str(libs)]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert sources(OCL_ICD_VENDORS=str(empty)) == [(str(libs / "libpocl-1234.so"), str(libs / "pocl.icd"))]
    assert sources(OCL_ICD_VENDORS=str(empty), OPENCL_RAW_PYPI_ICDS="0") == []


@pytest.mark.parametrize("names", [("a_pocl.icd", "b_oclgrind.icd"), ("z_pocl.icd", "a_oclgrind.icd"),
                                   ("p1.icd", "o7.icd"), ("o14.icd", "p22.icd")])
@pytest.mark.parametrize("sort", [None, "none"])
def test_both_backends_list_the_same_platforms_and_devices(tmp_path, names, sort):
    folder = tmp_path / "vendors"
    write_icd(folder, names[0], pocl_library())
    write_icd(folder, names[1], oclgrind_library())
    env = dict(OCL_ICD_VENDORS=str(folder), OCL_ICD_PLATFORM_SORT=sort)
    loader, icd = listing("loader", **env), listing("icd", **env)
    assert icd["backend"] == "icd" and loader["backend"] == "loader"
    assert loader["status"] == icd["status"] == 0
    assert len(icd["rows"]) == 2 and {r[0] for r in icd["rows"]} == {POCL_NAME, "Oclgrind"}
    assert icd["rows"] == loader["rows"]
    assert icd["files"] == loader["files"] and all(os.path.isabs(f) for f in icd["files"])
    assert icd["loader_mapped"] is False
    if sort is None:   # ocl-icd's 'devices' order: Oclgrind reports a GPU (and CPU and accelerator)
        assert icd["rows"][0][0] == "Oclgrind"


def test_ocl_icd_filenames_keep_the_khronos_loader_order(tmp_path):
    # The Khronos loader (the NVIDIA H200 machine's libOpenCL.so.1 listed PoCL, then NVIDIA, from
    # OCL_ICD_FILENAMES=libpocl.so.2:libnvidia-opencl.so.1) loads OCL_ICD_FILENAMES first, then the
    # vendors folder, skips a library loaded already, and sorts nothing; ocl-icd ignores the variable.
    # The icd backend lists what the Khronos loader lists, in its order: PoCL before Oclgrind, though
    # ocl-icd's 'devices' sort would put Oclgrind (which reports a GPU) first.
    folder = tmp_path / "vendors"
    write_icd(folder, "oclgrind.icd", oclgrind_library())
    icd = listing("icd", OCL_ICD_FILENAMES=os.pathsep.join([pocl_library(), oclgrind_library()]),
                  OCL_ICD_VENDORS=str(folder))
    assert [row[0] for row in icd["rows"]] == [POCL_NAME, "Oclgrind"]
    # the same two drivers named by a vendors folder alone: ocl-icd's rules, 'devices' sort
    both_folder = tmp_path / "both"
    write_icd(both_folder, "a_pocl.icd", pocl_library())
    write_icd(both_folder, "b_oclgrind.icd", oclgrind_library())
    assert [row[0] for row in listing("icd", OCL_ICD_VENDORS=str(both_folder))["rows"]] == ["Oclgrind", POCL_NAME]


@pytest.mark.parametrize("form", ["icd file", "library", "bare icd name"])
def test_single_driver_forms_of_ocl_icd_vendors_match_the_loader(tmp_path, form):
    oclgrind = oclgrind_library()
    folder = tmp_path / "vendors"
    icd = write_icd(folder, "grind.icd", oclgrind)
    env = {"icd file": dict(OCL_ICD_VENDORS=str(icd)), "library": dict(OCL_ICD_VENDORS=oclgrind),
           "bare icd name": dict(OCL_ICD_VENDORS="grind.icd", OPENCL_VENDOR_PATH=str(folder))}[form]
    loader, icd_listing = listing("loader", **env), listing("icd", **env)
    assert icd_listing["rows"] == loader["rows"] == [["Oclgrind", ["Oclgrind Simulator"]]]


def test_no_driver_is_platform_not_found_like_the_loader(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    loader, icd = listing("loader", OCL_ICD_VENDORS=str(empty)), listing("icd", OCL_ICD_VENDORS=str(empty))
    assert loader["status"] == icd["status"] == raw.CL_PLATFORM_NOT_FOUND_KHR
    assert loader["rows"] == icd["rows"] == []


def test_default_backend_falls_back_to_built_in_dispatch(both, tmp_path):
    code = """
        import json
        from opencl_raw import raw
        raw.library_candidates = lambda: ["/nonexistent/libOpenCL.so.1"]   # as if no loader were installed
        try:
            out = {"backend": raw.backend_name(), "platforms": [p.name for p in raw.backend().platforms]}
        except Exception as exc:
            out = {"error": type(exc).__name__, "message": str(exc)}
        out["mapped"] = "libOpenCL" in open("/proc/self/maps").read()
        print(json.dumps(out))
    """
    found = run_json(code, OCL_ICD_VENDORS=str(both))
    assert found["backend"] == "icd" and sorted(found["platforms"]) == ["Oclgrind", POCL_NAME]
    assert found["mapped"] is False
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run_json(code, OCL_ICD_VENDORS=str(empty))
    assert nothing["error"] == "LibraryNotFoundError"
    assert "/nonexistent/libOpenCL.so.1" in nothing["message"] and "no OpenCL driver found" in nothing["message"]
    assert "pocl-opencl-icd" in nothing["message"]
    # With a loader, the default is the loader.
    assert listing("", OCL_ICD_VENDORS=str(both))["backend"] == "loader"


def test_bad_backend_name_is_a_clear_error():
    proc = run_python("from opencl_raw import raw; raw.clGetPlatformIDs", OPENCL_RAW_BACKEND="ldr")
    assert proc.returncode == 1 and "OPENCL_RAW_BACKEND='ldr'" in proc.stderr and "loader, icd" in proc.stderr


# --------------------------------------------------------------------------- #
# load_icd, OPENCL_RAW_ICDS and --icd
# --------------------------------------------------------------------------- #

LOAD = """
    import json, ctypes, os
    import opencl_raw
    from opencl_raw import raw
    out = {}
    for path in json.loads(os.environ["PATHS"]):
        try:
            platforms = opencl_raw.load_icd(path)
            out[path] = ["ok", [p.value for p in platforms]]
        except Exception as exc:
            out[path] = [type(exc).__name__, isinstance(exc, OSError), str(exc)]
    n = raw.cl_uint()
    raw.clGetPlatformIDs(0, None, ctypes.byref(n))
    out["count"] = n.value
    out["names"] = [p.name for p in raw.backend().platforms]
    print(json.dumps(out))
"""


def test_load_icd_bad_paths_give_clear_errors(tmp_path):
    empty_icd = tmp_path / "empty.icd"
    empty_icd.write_text("")
    bad = {
        "/nonexistent/libnothing.so": "cannot be loaded",
        "/etc/hostname": "cannot be loaded",
        "libm.so.6": "not an OpenCL ICD driver",
        str(empty_icd): "cannot read a library name",
        str(tmp_path): "no .icd file",
    }
    empty = tmp_path / "vendors"
    empty.mkdir()
    out = run_json(LOAD, PATHS=json.dumps(list(bad)), OCL_ICD_VENDORS=str(empty))
    for path, words in bad.items():
        kind, is_oserror, message = out[path]
        assert kind == "LibraryNotFoundError" and is_oserror, (path, out[path])
        assert path in message and words in message, (path, message)
    assert out["count"] == 0


def test_load_icd_adds_a_driver_after_those_found(tmp_path):
    pocl = pocl_library()
    folder = tmp_path / "vendors"
    write_icd(folder, "pocl.icd", pocl)
    icd_file = write_icd(tmp_path / "more", "grind.icd", oclgrind_library())
    out = run_json(LOAD, PATHS=json.dumps([str(icd_file), OCLGRIND]), OCL_ICD_VENDORS=str(folder))
    assert out[str(icd_file)][0] == "ok" and len(out[str(icd_file)][1]) == 1
    assert out[OCLGRIND] == out[str(icd_file)]      # the same library again: the same platform
    assert out["count"] == 2 and out["names"] == [POCL_NAME, "Oclgrind"]


def test_load_icd_with_the_loader_backend_is_refused():
    proc = run_python("""
        import opencl_raw
        opencl_raw.load_icd("/usr/lib/oclgrind/liboclgrind-rt-icd.so")
    """, OPENCL_RAW_BACKEND="loader")
    assert proc.returncode == 1 and "RuntimeError" in proc.stderr and "OPENCL_RAW_BACKEND=icd" in proc.stderr


def test_opencl_raw_icds_names_the_drivers(both):
    pocl = pocl_library()
    only = listing("icd", OCL_ICD_VENDORS=str(both), OPENCL_RAW_ICDS=pocl)
    assert [r[0] for r in only["rows"]] == [POCL_NAME]
    two = listing("icd", OPENCL_RAW_ICDS=f"{OCLGRIND}{os.pathsep}{pocl}")
    assert sorted(r[0] for r in two["rows"]) == ["Oclgrind", POCL_NAME]
    folder = listing("icd", OPENCL_RAW_ICDS=str(both))
    assert folder["rows"] == two["rows"]


def run_cli(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "opencl_raw", *args], capture_output=True, text=True,
                          timeout=TIMEOUT, env=child_env(**env), cwd=str(ROOT))


def test_cli_icd_option_lists_only_that_driver(both):
    full = run_cli("list", OCL_ICD_VENDORS=str(both))
    assert full.returncode == 0 and "Oclgrind" in full.stdout and POCL_NAME in full.stdout
    for path, name, other in ((OCLGRIND, "Oclgrind", POCL_NAME), (pocl_library(), POCL_NAME, "Oclgrind"),
                              (str(both / "oclgrind.icd"), "Oclgrind", POCL_NAME)):
        proc = run_cli("--icd", path, "list", OCL_ICD_VENDORS=str(both))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(f"Platform #0: {name}") and other not in proc.stdout
        assert "Platform #1" not in proc.stdout
    default = run_cli("--icd", OCLGRIND, OCL_ICD_VENDORS=str(both))   # no subcommand: list
    assert default.returncode == 0 and "Oclgrind" in default.stdout and POCL_NAME not in default.stdout
    bad = run_cli("--icd", "/nonexistent/libx.so", "list")
    assert bad.returncode == 2 and "/nonexistent/libx.so" in bad.stderr and "cannot be loaded" in bad.stderr


# --------------------------------------------------------------------------- #
# Calls without a first handle, and NULL handles: as the system loader does
# --------------------------------------------------------------------------- #

LOADER_BEHAVIOUR = """
    import ctypes, json
    from opencl_raw import raw, _icd
    out = {}
    err = raw.cl_int(1)
    def record(label, value, with_err=False):
        if isinstance(value, ctypes.c_void_p):
            value = bool(value.value)
        out[label] = [value, err.value] if with_err else value
        err.value = 1
    # NULL first handle of every dispatched function, every other argument NULL / 0.
    for name, index in _icd.SLOTS.items():
        proto = raw.FUNCTIONS[name]
        if not proto.params or not issubclass(proto.argtypes[0], raw._Handle):
            continue
        if name in ("clGetExtensionFunctionAddressForPlatform",):
            continue
        args = [None]
        for pname, argtype, c_type in proto.params[1:]:
            args.append(ctypes.byref(err) if pname == "errcode_ret" else None if "*" in c_type
                        or isinstance(argtype, type) and issubclass(argtype, raw._Handle) else 0)
        record(name, getattr(raw, name)(*args), True)
    platform = raw.cl_platform_id()
    n = raw.cl_uint()
    record("platforms", raw.clGetPlatformIDs(0, None, ctypes.byref(n)))
    platforms = (raw.cl_platform_id * n.value)()
    record("ids both NULL", raw.clGetPlatformIDs(0, None, None))
    record("ids zero entries", raw.clGetPlatformIDs(0, platforms, None))
    record("ids one", raw.clGetPlatformIDs(1, platforms, None))
    record("ids all", raw.clGetPlatformIDs(n.value, platforms, None))
    record("ids order", [p.value for p in platforms] == [p.handle for p in raw.backend().platforms])
    size = ctypes.c_size_t()
    record("info NULL platform (default)", [raw.clGetPlatformInfo(None, raw.CL_PLATFORM_NAME, 0, None,
                                                                  ctypes.byref(size)), size.value])
    record("unload compiler", raw.clUnloadCompiler())
    record("wait none", raw.clWaitForEvents(0, None))
    record("wait NULL event", raw.clWaitForEvents(1, ctypes.byref(raw.cl_event())))
    record("context no devices", raw.clCreateContext(None, 0, None, None, None, ctypes.byref(err)), True)
    record("context NULL device", raw.clCreateContext(None, 1, ctypes.byref(raw.cl_device_id()), None, None,
                                                      ctypes.byref(err)), True)
    bogus = (raw.cl_context_properties * 3)(raw.CL_CONTEXT_PLATFORM, 0x1234, 0)
    null_platform = (raw.cl_context_properties * 3)(raw.CL_CONTEXT_PLATFORM, 0, 0)
    no_platform = (raw.cl_context_properties * 3)(raw.CL_CONTEXT_INTEROP_USER_SYNC, 1, 0)
    for label, props in (("bogus", bogus), ("NULL", null_platform), ("none", no_platform)):
        record("context platform " + label, raw.clCreateContext(props, 0, None, None, None, ctypes.byref(err)), True)
        record("from type platform " + label, raw.clCreateContextFromType(props, raw.CL_DEVICE_TYPE_ALL, None, None,
                                                                          ctypes.byref(err)), True)
        record("gl context info " + label, raw.clGetGLContextInfoKHR(props, 0, 0, None, None))
    record("gl context info NULL", raw.clGetGLContextInfoKHR(None, 0, 0, None, None))
    for index, p in enumerate(platforms):
        props = (raw.cl_context_properties * 3)(raw.CL_CONTEXT_PLATFORM, p.value, 0)
        ctx = raw.clCreateContextFromType(props, raw.CL_DEVICE_TYPE_ALL, None, None, ctypes.byref(err))
        record(f"from type platform {index}", [bool(ctx), err.value])
        if ctx:
            devices = ctypes.c_size_t()
            raw.clGetContextInfo(ctx, raw.CL_CONTEXT_NUM_DEVICES, 8, ctypes.byref(devices), None)
            record(f"from type platform {index} devices", devices.value)
            raw.clReleaseContext(ctx)
        dev = raw.cl_device_id()
        raw.clGetDeviceIDs(p, raw.CL_DEVICE_TYPE_ALL, 1, ctypes.byref(dev), None)
        ctx = raw.clCreateContext(None, 1, ctypes.byref(dev), None, None, ctypes.byref(err))
        record(f"context device {index}", [bool(ctx), err.value])
        event = raw.clCreateUserEvent(ctx, ctypes.byref(err))
        raw.clSetUserEventStatus(event, raw.CL_COMPLETE)
        record(f"wait event {index}", raw.clWaitForEvents(1, ctypes.byref(event)))
        raw.clReleaseEvent(event)
        raw.clReleaseContext(ctx)
        for name in (b"clIcdGetPlatformIDsKHR", b"clGetPlatformInfo", b"clNoSuchFunctionKHR"):
            record(f"for platform {index} {name.decode()}",
                   bool(raw.clGetExtensionFunctionAddressForPlatform(p, name)))
    ctx = raw.clCreateContextFromType(None, raw.CL_DEVICE_TYPE_ALL, None, None, ctypes.byref(err))
    record("from type default", [bool(ctx), err.value])
    if ctx:
        raw.clReleaseContext(ctx)
    for name in (b"clGetPlatformInfo", b"clNoSuchFunction", b"clSetContentSizeBufferPoCL"):
        record("address " + name.decode(), bool(raw.clGetExtensionFunctionAddress(name)))
    print(json.dumps(out))
"""


def test_calls_without_a_first_handle_and_null_handles_behave_as_the_loader(both):
    loader = run_json(LOADER_BEHAVIOUR, OPENCL_RAW_BACKEND="loader", OCL_ICD_VENDORS=str(both))
    icd = run_json(LOADER_BEHAVIOUR, OPENCL_RAW_BACKEND="icd", OCL_ICD_VENDORS=str(both))
    assert len(loader) > 150 and loader["platforms"] == 0 and loader["from type default"] == [True, 0]
    differ = {k: (loader[k], icd.get(k)) for k in loader if loader[k] != icd.get(k)}
    assert not differ, differ


# --------------------------------------------------------------------------- #
# Other test files on the icd backend
# --------------------------------------------------------------------------- #

#: a skip the nested runs may report: what the machine lacks, not a test that reached the loader
MISSING_OCLGRIND = "Oclgrind is not installed"


def skip_reasons(stdout: str) -> List[str]:
    """The reasons of the ``SKIPPED [n] path:line: reason`` lines of a ``pytest -rs`` summary."""
    return [m.group(1) for m in re.finditer(r"^SKIPPED \[\d+\] [^:]+:\d+: (.*)$", stdout, re.M)]


def run_pytest(files, timeout, allowed_skips=(), **env):
    """Run pytest on ``files`` in a child (the environment of :func:`child_env` plus ``env``).

    It must pass, and skip nothing except for a reason that contains one of ``allowed_skips``
    (a skip for another reason, e.g. a test that reached the system loader, fails)."""
    missing = [f for f in files if not (ROOT / "tests" / f).exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not in this checkout")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                           *[str(ROOT / "tests" / f) for f in files]], capture_output=True, text=True,
                          timeout=timeout, env=child_env(**env), cwd=str(ROOT))
    tail = proc.stdout[-4000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, tail
    summary = proc.stdout.splitlines()[-1]
    assert " passed" in summary, tail
    reasons = skip_reasons(proc.stdout)
    assert (" skipped" in summary) == bool(reasons), tail
    unexpected = [r for r in reasons if not any(allowed in r for allowed in allowed_skips)]
    assert not unexpected, tail
    return proc


def test_skip_reasons_are_read_from_the_summary():
    out = ("..s\n=== short test summary info ===\n"
           "SKIPPED [4] tests/test_info_tool.py:407: Oclgrind is not installed (/usr/lib/oclgrind/x.so)\n"
           "SKIPPED [1] tests/test_x.py:3: no OpenCL library: nothing\n3 passed, 5 skipped in 1.0s\n")
    assert skip_reasons(out) == ["Oclgrind is not installed (/usr/lib/oclgrind/x.so)", "no OpenCL library: nothing"]


def test_twelve_steps_on_the_icd_backend():
    # OPENCL_RAW_LIBRARY names nothing: a test that reached the loader would skip, and that fails here.
    run_pytest(["test_twelve_steps_raw.py", "test_twelve_steps_checked.py", "test_twelve_steps_handles.py"], 110,
               OPENCL_RAW_BACKEND="icd", OPENCL_RAW_LIBRARY="/nonexistent/libOpenCL.so.1")


def test_info_comparison_with_clinfo_on_the_icd_backend():
    if shutil.which("clinfo") is None:
        pytest.skip("clinfo is not installed")
    # Without Oclgrind (the NVIDIA H200 machine) its two-platform comparisons skip; the rest must run.
    run_pytest(["test_info_tool.py"], 110, allowed_skips=(MISSING_OCLGRIND,), OPENCL_RAW_BACKEND="icd")


# --------------------------------------------------------------------------- #
# Cost per call
# --------------------------------------------------------------------------- #

ONE_DRIVER = """
    import ctypes, json, os
    import opencl_raw as cl
    from opencl_raw import raw, _icd
    out = {"before": _icd.direct_driver() is not None}
    device = cl.select_device()
    fn = raw.clGetDeviceInfo
    value = raw.cl_uint()
    out["status"] = fn(device.handle, raw.CL_DEVICE_MAX_COMPUTE_UNITS, 4, ctypes.byref(value), None)
    out["units"] = value.value
    table = _icd._read_pointer(device.handle.value).value
    slot = _icd._read_pointer(table + _icd.SLOTS["clGetDeviceInfo"] * ctypes.sizeof(ctypes.c_void_p)).value
    out["is_entry_point"] = isinstance(fn, ctypes._CFuncPtr) and ctypes.cast(fn, ctypes.c_void_p).value == slot
    out["driver"] = _icd.direct_driver().file
    out["platform_first_is_python"] = not isinstance(raw.clGetDeviceIDs, ctypes._CFuncPtr)
    n = raw.cl_uint()
    out["null_platform"] = raw.clGetDeviceIDs(None, raw.CL_DEVICE_TYPE_ALL, 0, None, ctypes.byref(n))
    out["units_via_handle"] = device.max_compute_units
    if os.environ.get("SECOND_DRIVER"):
        try:
            raw.load_icd(os.environ["SECOND_DRIVER"])
            out["second"] = "loaded"
        except RuntimeError as exc:
            out["second"] = str(exc)
    print(json.dumps(out))
"""


def test_one_driver_functions_are_its_own_entry_points(tmp_path):
    """With one driver, raw functions of device/context/... handles are that driver's dispatch-table
    entry points (no Python step per call, so a call costs what it costs through the loader);
    platform functions keep the loader's NULL-platform rule; a second driver is refused clearly."""
    folder = tmp_path / "vendors"
    write_icd(folder, "pocl.icd", pocl_library())
    out = run_json(ONE_DRIVER, OPENCL_RAW_BACKEND="icd", OCL_ICD_VENDORS=str(folder),
                   SECOND_DRIVER=OCLGRIND if os.path.exists(OCLGRIND) else "")
    assert out["before"] is False and out["status"] == 0 and out["units"] >= 1
    assert out["is_entry_point"] is True and "pocl" in out["driver"]
    assert out["platform_first_is_python"] is True and out["null_platform"] == 0
    assert out["units_via_handle"] == out["units"]
    if os.path.exists(OCLGRIND):
        assert "already the entry points of the only driver" in out["second"], out["second"]
        assert "Load every driver before the first OpenCL call" in out["second"]


SEVERAL_DRIVERS = """
    import ctypes, json
    from opencl_raw import raw, _icd
    resolved = []
    original = _icd._slot
    def counting(table, index):
        resolved.append(index)
        return original(table, index)
    _icd._slot = counting
    n = raw.cl_uint()
    assert raw.clGetPlatformIDs(0, None, ctypes.byref(n)) == 0
    platforms = (raw.cl_platform_id * n.value)()
    assert raw.clGetPlatformIDs(n.value, platforms, None) == 0
    index = _icd.SLOTS["clGetDeviceInfo"]
    value = raw.cl_uint()
    units = []
    for p in platforms:
        d = raw.cl_device_id()
        assert raw.clGetDeviceIDs(p, raw.CL_DEVICE_TYPE_ALL, 1, ctypes.byref(d), None) == 0
        for _ in range(500):
            assert raw.clGetDeviceInfo(d, raw.CL_DEVICE_MAX_COMPUTE_UNITS, 4, ctypes.byref(value), None) == 0
        units.append(value.value)
    print(json.dumps({"platforms": n.value, "units": units, "resolved": resolved.count(index),
                      "python": not isinstance(raw.clGetDeviceInfo, ctypes._CFuncPtr),
                      "direct": _icd.direct_driver() is not None}))
"""


def test_several_drivers_resolve_each_entry_point_once_per_table(both):
    """With two drivers every call goes through its first handle's table, and the function
    pointer of a slot is made once per table (cached), not per call."""
    out = run_json(SEVERAL_DRIVERS, OPENCL_RAW_BACKEND="icd", OCL_ICD_VENDORS=str(both))
    assert out["platforms"] == 2 and all(u >= 1 for u in out["units"])
    assert out["python"] is True and out["direct"] is False
    assert out["resolved"] == 2, out      # 1000 calls, two tables


# --------------------------------------------------------------------------- #
# pip alone
# --------------------------------------------------------------------------- #

def index_url() -> str:
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        proc = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                              capture_output=True, text=True, timeout=30)
        url = proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else "https://pypi.org/simple"
    return url.rstrip("/") + "/pocl-binary-distribution/"


@pytest.mark.timeout(600)
def test_pip_install_with_the_pocl_extra_runs_the_demo_without_a_system_opencl(tmp_path):
    """A fresh venv, `pip install '<repo>[pocl]'`, no loader and no vendors folder: the demo runs
    on the PoCL of the pocl-binary-distribution wheel through built-in dispatch."""
    url = index_url()
    try:
        urllib.request.urlopen(url, timeout=20).close()
    except Exception as exc:  # no network / no index: nothing to test
        pytest.skip(f"the package index is unreachable ({url}: {exc})")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    python = str(venv / "bin" / "python")
    install = subprocess.run([python, "-m", "pip", "install", "-q", f"{ROOT}[pocl]"], capture_output=True,
                             text=True, timeout=420, cwd=str(tmp_path))
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-3000:]
    empty = tmp_path / "no-vendors"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in STEERING and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(OPENCL_RAW_BACKEND="icd", OPENCL_RAW_LIBRARY=str(tmp_path / "no-libOpenCL.so"),
               OCL_ICD_VENDORS=str(empty), OPENCL_VENDOR_PATH=str(empty))
    image = tmp_path / "small.npy"
    make = f"import numpy as np; np.save({str(image)!r}, (np.arange(40 * 56, dtype=np.float32).reshape(40, 56) % 13) / 13)"
    subprocess.run([python, "-c", make], check=True, timeout=60, env=env, cwd=str(tmp_path))
    demo = subprocess.run([python, "-m", "opencl_raw", "demo", "--image", str(image)], capture_output=True,
                          text=True, timeout=90, env=env, cwd=str(tmp_path))
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "All 3 results match the numpy reference." in demo.stdout
    where = subprocess.run([python, "-c", textwrap.dedent("""
        import json, opencl_raw
        from opencl_raw import raw
        info = raw.backend()
        print(json.dumps({"module": opencl_raw.__file__, "backend": info.name,
                          "files": [p.library for p in info.platforms],
                          "mapped": "libOpenCL" in open("/proc/self/maps").read()}))
    """)], capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path))
    assert where.returncode == 0, where.stderr[-3000:]
    found = json.loads(where.stdout.strip().splitlines()[-1])
    assert found["module"].startswith(str(venv)) and found["backend"] == "icd" and found["mapped"] is False
    assert len(found["files"]) == 1 and found["files"][0].startswith(str(venv)) and "pocl" in found["files"][0]


NULL_SWEEP = """
    import json
    from opencl_raw import checked, errors, raw, _icd
    import opencl_raw as cl
    cl.select_device().max_compute_units          # binds the raw functions to the only driver
    codes = {}
    for name, proto in raw.FUNCTIONS.items():
        first = proto.params[0][1].__name__ if proto.params else None
        if first not in _icd._INVALID_HANDLE or first == "cl_platform_id" or not raw.function(name):
            continue
        try:
            getattr(checked, name)(*[None] * len(proto.params))
            codes[name] = "returned"
        except errors.CLError as exc:
            codes[name] = exc.code
    print(json.dumps({"direct": _icd.direct_driver() is not None, "codes": codes}))
"""


def test_checked_null_first_handles_raise_the_loader_code_without_reaching_the_driver(tmp_path):
    """With one driver the raw functions are its own entry points, and drivers crash on some NULL
    handles (PoCL: clEnqueueNDRangeKernel; Oclgrind: clCreateKernel, ...). The checked layer
    raises the code ICD loaders return, CL_INVALID_<TYPE>, for every such function."""
    folder = tmp_path / "vendors"
    write_icd(folder, "pocl.icd", pocl_library())
    out = run_json(NULL_SWEEP, OPENCL_RAW_BACKEND="icd", OCL_ICD_VENDORS=str(folder))
    assert out["direct"] is True and len(out["codes"]) > 80
    expected = {name: _icd._INVALID_HANDLE[raw.FUNCTIONS[name].params[0][1].__name__] for name in out["codes"]}
    assert out["codes"] == expected
