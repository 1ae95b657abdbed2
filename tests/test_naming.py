"""The naming table (opencl_raw/naming.py): every row is implemented, follows the rule, and is documented."""
from __future__ import annotations

import inspect

import pytest

import opencl_raw as cl
from opencl_raw import naming, raw
from opencl_raw._handle import Handle
from opencl_raw.naming import (CLASS_OF_HANDLE, DEPRECATED_SUCCESSORS, METHODS, NOT_METHODS, markdown_table,
                               rule_method, snake_case)


def _first_param_type(c_name: str):
    params = raw.FUNCTIONS[c_name].params
    return params[0][2] if params else None


def _target(cls_name: str, method: str):
    if cls_name == "module":
        return getattr(cl, method)
    return getattr(getattr(cl, cls_name), method)


@pytest.mark.parametrize("c_name", sorted(METHODS))
def test_row_is_a_c_function(c_name):
    assert c_name in raw.FUNCTIONS
    proto = raw.FUNCTIONS[c_name]
    # core rows come from cl.h with a version; extension rows from cl_ext.h with their extension
    if proto.header == "cl.h":
        assert proto.extension is None and proto.version is not None
    else:
        assert proto.header == "cl_ext.h" and proto.extension, proto


@pytest.mark.parametrize("c_name", sorted(METHODS))
def test_row_exists(c_name):
    cls_name, method = METHODS[c_name]
    if cls_name == "module":
        assert method in cl.__all__, f"{method} is not exported by opencl_raw"
    else:
        cls = getattr(cl, cls_name)
        assert isinstance(cls, type) and issubclass(cls, Handle)
        assert not method.startswith("_")
    assert callable(_target(cls_name, method))


@pytest.mark.parametrize("c_name", sorted(METHODS))
def test_row_follows_the_rule(c_name):
    assert METHODS[c_name] == rule_method(c_name, _first_param_type(c_name))


@pytest.mark.parametrize("c_name", sorted(METHODS))
def test_row_method_names_its_c_function(c_name):
    target = _target(*METHODS[c_name])
    doc = target.__doc__ or ""
    assert c_name in doc, f"{METHODS[c_name]}: the docstring does not name {c_name}:\n{doc}"


@pytest.mark.parametrize("c_name", sorted(METHODS))
def test_module_functions_take_no_handle_first(c_name):
    cls_name, _ = METHODS[c_name]
    first = _first_param_type(c_name)
    if cls_name == "module":
        assert first not in CLASS_OF_HANDLE
    else:
        assert CLASS_OF_HANDLE[first] == cls_name


@pytest.mark.parametrize("c_name, expected", [
    ("clGetDeviceInfo", ("Device", "get_info")),
    ("clEnqueueNDRangeKernel", ("CommandQueue", "enqueue_nd_range_kernel")),
    ("clCreateSubBuffer", ("MemObject", "create_sub_buffer")),
    ("clCreateKernelsInProgram", ("Program", "create_kernels_in_program")),
    ("clGetDeviceAndHostTimer", ("Device", "get_device_and_host_timer")),
    ("clGetDeviceIDs", ("Platform", "get_device_ids")),
    ("clSVMAlloc", ("Context", "svm_alloc")),
    ("clReleaseKernel", ("Kernel", "release")),
    ("clRetainContext", ("Context", "retain")),
    ("clGetPlatformIDs", ("module", "get_platform_ids")),
    ("clWaitForEvents", ("module", "wait_for_events")),
    ("clCreateContext", ("module", "create_context")),
    ("clGetProgramBuildInfo", ("Program", "get_build_info")),
    ("clGetKernelWorkGroupInfo", ("Kernel", "get_work_group_info")),
    ("clEnqueueUnmapMemObject", ("CommandQueue", "enqueue_unmap_mem_object")),
    ("clCreateCommandQueueWithProperties", ("Context", "create_command_queue_with_properties")),
    ("clCreateProgramWithIL", ("Context", "create_program_with_il")),
    ("clSetEventCallback", ("Event", "set_callback")),
    ("clGetHostTimer", ("Device", "get_host_timer")),
    ("clCreateImage2D", ("Context", "create_image2d")),
    ("clEnqueueSVMMemcpy", ("CommandQueue", "enqueue_svm_memcpy")),
    ("clCloneKernel", ("Kernel", "clone")),
    ("clGetKernelArgInfo", ("Kernel", "get_arg_info")),
    ("clSetProgramSpecializationConstant", ("Program", "set_specialization_constant")),
    ("clEnqueueNativeKernel", ("CommandQueue", "enqueue_native_kernel")),
    ("clGetKernelSuggestedLocalWorkSizeKHR", ("CommandQueue", "get_kernel_suggested_local_work_size_khr")),
    ("clCreateProgramWithBuiltInKernels", ("Context", "create_program_with_built_in_kernels")),
])
def test_rule_on_the_specification_examples(c_name, expected):
    assert rule_method(c_name, _first_param_type(c_name)) == expected


@pytest.mark.parametrize("c_name, expected", [
    ("clEnqueueNDRangeKernel", "enqueue_nd_range_kernel"),
    ("clGetDeviceIDs", "get_device_ids"),
    ("clSVMAlloc", "svm_alloc"),
    ("clCreateProgramWithIL", "create_program_with_il"),
    ("clCreateImage3D", "create_image3d"),
    ("clGetGLObjectInfo", "get_gl_object_info"),
    ("clFlush", "flush"),
])
def test_snake_case(c_name, expected):
    assert snake_case(c_name) == expected


def test_exceptions_are_c_functions_without_methods():
    for c_name in list(NOT_METHODS) + list(DEPRECATED_SUCCESSORS):
        assert c_name in raw.FUNCTIONS
        assert c_name not in METHODS
    for old, new in DEPRECATED_SUCCESSORS.items():
        assert raw.FUNCTIONS[old].deprecated_after is not None
        assert new in METHODS


def test_retain_functions_are_used_by_from_handle():
    # NOT_METHODS sends clRetain* to from_handle(h, retain=True): each class names its retain function.
    retains = [c_name for c_name in NOT_METHODS if c_name.startswith("clRetain")]
    assert len(retains) == 8
    for c_name in retains:
        cls_name = CLASS_OF_HANDLE[_first_param_type(c_name)]
        cls = getattr(cl, cls_name, None)
        if cls is None:                                     # e.g. Sampler, not in the handle layer yet
            continue
        assert cls._retain_name == c_name == f"clRetain{cls_name}"


def test_every_handle_class_method_mapping_to_c_is_in_the_table():
    # The reverse direction: a public method whose name the rule gives for a core C function of its class is a row.
    rows = {(cls, method) for cls, method in METHODS.values()}
    for c_name, proto in raw.FUNCTIONS.items():
        if proto.extension is not None or c_name in NOT_METHODS or c_name in DEPRECATED_SUCCESSORS:
            continue
        cls_name, method = rule_method(c_name, _first_param_type(c_name))
        if cls_name == "module":
            present = method in cl.__all__
        else:
            cls = getattr(cl, cls_name, None)
            present = cls is not None and method in cls.__dict__ and method not in ("get_info", "release")
        if present:
            assert (cls_name, method) in rows, f"{c_name} -> {cls_name}.{method} exists but is not in METHODS"


def test_markdown_table_lists_every_core_function_and_every_row():
    table = markdown_table()
    lines = table.splitlines()
    assert lines[0] == "| C function | needs | handle layer |"
    rows = {line.split(" | ")[0][3:-1]: line for line in lines[2:]}
    core = [name for name, proto in raw.FUNCTIONS.items() if proto.header == "cl.h"]
    extension_rows = [name for name in METHODS if raw.FUNCTIONS[name].extension]
    assert len(lines) == 2 + len(core) + len(extension_rows)
    assert list(rows) == core + extension_rows                        # header order, then extensions
    for c_name, (cls_name, method) in METHODS.items():
        expected = f"`{method}()` (module function)" if cls_name == "module" else f"`{cls_name}.{method}`"
        assert rows[c_name] == f"| `{c_name}` | {raw.FUNCTIONS[c_name].requirement}" + (
            f", deprecated after {'.'.join(map(str, raw.FUNCTIONS[c_name].deprecated_after))}"
            if raw.FUNCTIONS[c_name].deprecated_after else "") + f" | {expected} |"
    for c_name, reason in NOT_METHODS.items():
        assert rows[c_name].endswith(f" | no method: {reason} |")
    for c_name, successor in DEPRECATED_SUCCESSORS.items():
        assert f"deprecated: use `{successor}`" in rows[c_name]
        assert "deprecated after" in rows[c_name]
    assert rows["clCloneKernel"] == "| `clCloneKernel` | OpenCL 2.1 | `Kernel.clone` |"
    assert rows["clGetKernelSuggestedLocalWorkSizeKHR"] == (
        "| `clGetKernelSuggestedLocalWorkSizeKHR` | cl_khr_suggested_local_work_size | "
        "`CommandQueue.get_kernel_suggested_local_work_size_khr` |")
    for c_name in naming.missing():
        assert rows[c_name].endswith(" | not yet (raw and checked only) |")


def test_readme_tool_renders_the_table_between_its_markers():
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "update_readme.py")
    spec = importlib.util.spec_from_file_location("update_readme", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    text = f"intro\n{tool.START}\nstale\n{tool.END}\noutro\n"
    assert tool.render(text) == f"intro\n{tool.START}\n{markdown_table()}\n{tool.END}\noutro\n"


def test_exception_rows_have_reasons_and_successors_are_methods():
    for c_name, reason in NOT_METHODS.items():
        assert raw.FUNCTIONS[c_name].header == "cl.h" and isinstance(reason, str) and len(reason) > 20
    assert "get_extension_function" in NOT_METHODS["clGetExtensionFunctionAddressForPlatform"]
    assert "get_extension_function" in NOT_METHODS["clGetExtensionFunctionAddress"]
    assert DEPRECATED_SUCCESSORS["clUnloadCompiler"] == "clUnloadPlatformCompiler"
    assert DEPRECATED_SUCCESSORS["clEnqueueTask"] == "clEnqueueNDRangeKernel"
    for c_name in naming.core_functions():
        assert (c_name in METHODS) + (c_name in NOT_METHODS) + (c_name in DEPRECATED_SUCCESSORS) <= 1, c_name


def test_docstrings_of_inherited_methods_name_the_class_function():
    assert "clGetDeviceInfo" in cl.Device.get_info.__doc__
    assert "clGetMemObjectInfo" in cl.Buffer.get_info.__doc__            # inherited from MemObject
    assert "clReleaseMemObject" in cl.Buffer.release.__doc__
    assert "clGet<Object>Info" not in cl.Context.get_info.__doc__
    assert inspect.signature(cl.Kernel.get_info).parameters.keys() == {"self", "param"}
    assert naming.__all__
