"""Coverage of the core API (issue 5 section 1): every function of cl.h (OpenCL 1.0 to 3.0) has a
handle-layer counterpart in naming.METHODS, or is a deprecated alias (DEPRECATED_SUCCESSORS),
or is listed in NOT_METHODS with the reason it has no method."""
from __future__ import annotations

import opencl_raw as cl
from opencl_raw import naming, raw
from opencl_raw.naming import DEPRECATED_SUCCESSORS, METHODS, NOT_METHODS


def test_core_functions_are_the_whole_of_cl_h():
    core = naming.core_functions()
    assert len(core) == len(set(core)) >= 100
    assert all(raw.FUNCTIONS[name].header == "cl.h" and raw.FUNCTIONS[name].extension is None for name in core)
    versions = {raw.FUNCTIONS[name].version for name in core}
    assert (1, 0) in versions and (3, 0) in versions            # 1.0 to 3.0
    for name in ("clCreateBufferWithProperties", "clSetContextDestructorCallback", "clEnqueueSVMMigrateMem",
                 "clCloneKernel", "clGetExtensionFunctionAddress"):
        assert name in core


def test_every_core_function_has_a_handle_layer_counterpart():
    missing = naming.missing()
    if missing:
        by_version = {}
        for name in missing:
            by_version.setdefault(raw.FUNCTIONS[name].requirement, []).append(name)
        print(f"\n{len(missing)} of {len(naming.core_functions())} core functions have no handle-layer "
              "counterpart yet:")
        for requirement, names in sorted(by_version.items()):
            print(f"  {requirement}: {', '.join(names)}")
    assert missing == [], f"no METHODS row, DEPRECATED_SUCCESSORS or NOT_METHODS entry for: {', '.join(missing)}"


def test_the_exceptions_are_justified():
    for name, reason in NOT_METHODS.items():
        assert raw.FUNCTIONS[name].header == "cl.h", name
        assert reason.strip(), name
    for name, successor in DEPRECATED_SUCCESSORS.items():
        assert raw.FUNCTIONS[name].deprecated_after is not None, f"{name} is not deprecated"
        assert successor in METHODS, f"{name}: its successor {successor} has no method"
    # the extension-address functions point at the method that replaces them
    assert callable(cl.Platform.get_extension_function)
    assert "clGetExtensionFunctionAddressForPlatform" in cl.Platform.get_extension_function.__doc__
