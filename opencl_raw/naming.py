"""The reviewed table that maps C functions onto the handle layer, and the naming rule.

The rule: a C function whose first argument is a handle becomes a method of
that handle's class, named in snake_case without the ``cl`` prefix; the class's
own noun is dropped where it names the object acted on (right after the verb:
``clGetDeviceInfo`` -> ``Device.get_info``, ``clReleaseKernel`` ->
``Kernel.release``) and kept where it is part of another noun
(``create_sub_buffer``, ``create_kernels_in_program``,
``get_device_and_host_timer``). Acronyms stay whole (``get_device_ids``,
``enqueue_nd_range_kernel``, ``svm_alloc``). Functions without a handle first
argument are module functions.

:data:`METHODS` is the table the README and the tests use: C name ->
(class name, or ``"module"``, and the method name); every row follows the rule
(:func:`rule_method`). The exceptions are listed apart: :data:`NOT_METHODS`
(functions with no method, and why) and :data:`DEPRECATED_SUCCESSORS`
(deprecated functions that stay in raw and checked only).
"""
from __future__ import annotations

import re
from typing import Dict, Optional, Tuple

#: handle type of a first argument -> class of the handle layer
CLASS_OF_HANDLE = {
    "cl_platform_id": "Platform", "cl_device_id": "Device", "cl_context": "Context",
    "cl_command_queue": "CommandQueue", "cl_mem": "MemObject", "cl_program": "Program",
    "cl_kernel": "Kernel", "cl_event": "Event", "cl_sampler": "Sampler",
}

#: the noun each class drops from its method names
NOUN_OF_CLASS = {
    "Platform": "platform", "Device": "device", "Context": "context", "CommandQueue": "command_queue",
    "MemObject": "mem_object", "Program": "program", "Kernel": "kernel", "Event": "event",
    "Sampler": "sampler",
}

# C name -> (class or "module", method name). Each row is implemented and tested.
METHODS: Dict[str, Tuple[str, str]] = {
    "clGetPlatformIDs": ("module", "get_platform_ids"),
    "clGetPlatformInfo": ("Platform", "get_info"),
    "clGetDeviceIDs": ("Platform", "get_device_ids"),
    "clUnloadPlatformCompiler": ("Platform", "unload_compiler"),
    "clGetDeviceInfo": ("Device", "get_info"),
    "clCreateContext": ("module", "create_context"),
    "clCreateContextFromType": ("module", "create_context_from_type"),
    "clGetContextInfo": ("Context", "get_info"),
    "clReleaseContext": ("Context", "release"),
    "clCreateCommandQueueWithProperties": ("Context", "create_command_queue_with_properties"),
    "clCreateBuffer": ("Context", "create_buffer"),
    "clCreateProgramWithSource": ("Context", "create_program_with_source"),
    "clCreateProgramWithBinary": ("Context", "create_program_with_binary"),
    "clCreateProgramWithIL": ("Context", "create_program_with_il"),
    "clLinkProgram": ("Context", "link_program"),
    "clGetCommandQueueInfo": ("CommandQueue", "get_info"),
    "clReleaseCommandQueue": ("CommandQueue", "release"),
    "clFlush": ("CommandQueue", "flush"),
    "clFinish": ("CommandQueue", "finish"),
    "clEnqueueWriteBuffer": ("CommandQueue", "enqueue_write_buffer"),
    "clEnqueueReadBuffer": ("CommandQueue", "enqueue_read_buffer"),
    "clEnqueueMapBuffer": ("CommandQueue", "enqueue_map_buffer"),
    "clEnqueueUnmapMemObject": ("CommandQueue", "enqueue_unmap_mem_object"),
    "clEnqueueNDRangeKernel": ("CommandQueue", "enqueue_nd_range_kernel"),
    "clGetMemObjectInfo": ("MemObject", "get_info"),
    "clReleaseMemObject": ("MemObject", "release"),
    "clBuildProgram": ("Program", "build"),
    "clCompileProgram": ("Program", "compile"),
    "clGetProgramInfo": ("Program", "get_info"),
    "clGetProgramBuildInfo": ("Program", "get_build_info"),
    "clCreateKernel": ("Program", "create_kernel"),
    "clCreateKernelsInProgram": ("Program", "create_kernels_in_program"),
    "clReleaseProgram": ("Program", "release"),
    "clSetKernelArg": ("Kernel", "set_arg"),
    "clGetKernelInfo": ("Kernel", "get_info"),
    "clGetKernelWorkGroupInfo": ("Kernel", "get_work_group_info"),
    "clReleaseKernel": ("Kernel", "release"),
    "clWaitForEvents": ("module", "wait_for_events"),
    "clGetEventInfo": ("Event", "get_info"),
    "clGetEventProfilingInfo": ("Event", "get_profiling_info"),
    "clReleaseEvent": ("Event", "release"),
    "clReleaseDevice": ("Device", "release"),
}

#: C functions with no method of their own, and why
NOT_METHODS: Dict[str, str] = {
    name: "reference counts are owned by the handle objects: use from_handle(h, retain=True)"
    for name in ("clRetainContext", "clRetainCommandQueue", "clRetainMemObject", "clRetainProgram",
                 "clRetainKernel", "clRetainEvent", "clRetainDevice", "clRetainSampler")
}

#: deprecated functions whose successor the handle layer uses (and falls back to them on old devices)
DEPRECATED_SUCCESSORS: Dict[str, str] = {
    "clCreateCommandQueue": "clCreateCommandQueueWithProperties",
}


def snake_case(c_name: str) -> str:
    """snake_case of a C function name without ``cl``: ``clEnqueueNDRangeKernel`` -> ``enqueue_nd_range_kernel``."""
    name = c_name[2:] if c_name.startswith("cl") else c_name
    name = name.replace("IDs", "Ids")
    name = re.sub(r"(\d)D", r"\1d", name)
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return name.lower()


def rule_method(c_name: str, first_handle_type: Optional[str]) -> Tuple[str, str]:
    """(class or "module", method) that the naming rule gives for a C function."""
    words = snake_case(c_name)
    cls = CLASS_OF_HANDLE.get(first_handle_type or "")
    if cls is None:
        return "module", words
    noun = NOUN_OF_CLASS[cls]
    verb, _, rest = words.partition("_")
    if rest == noun:
        return cls, verb
    if rest.startswith(noun + "_") and not rest[len(noun) + 1:].startswith("and_"):
        return cls, verb + "_" + rest[len(noun) + 1:]
    return cls, words


def markdown_table() -> str:
    """The README's table of C functions and handle methods, as Markdown."""
    lines = ["| C function | handle layer |", "| --- | --- |"]
    for c_name, (cls, method) in METHODS.items():
        target = f"`{method}()` (module function)" if cls == "module" else f"`{cls}.{method}`"
        lines.append(f"| `{c_name}` | {target} |")
    return "\n".join(lines)


__all__ = ["METHODS", "NOT_METHODS", "DEPRECATED_SUCCESSORS", "CLASS_OF_HANDLE",
           "snake_case", "rule_method", "markdown_table"]
