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
(:func:`rule_method`). Core rows come from ``cl.h``; extension functions that the
handle layer exposes as methods (fetched per platform) are rows too. The exceptions
are listed apart: :data:`NOT_METHODS` (functions with no method, and why) and
:data:`DEPRECATED_SUCCESSORS` (deprecated functions that stay in raw and checked
only). Every function of ``cl.h`` is in one of the three (tests/test_coverage.py;
:func:`missing` lists the gaps). The version gate (:mod:`opencl_raw._gate`) reads
METHODS to know what each method needs.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Tuple


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
    "clSetDefaultDeviceCommandQueue": ("Context", "set_default_device_command_queue"),
    "clCreateBuffer": ("Context", "create_buffer"),
    "clCreateProgramWithSource": ("Context", "create_program_with_source"),
    "clCreateProgramWithBinary": ("Context", "create_program_with_binary"),
    "clCreateProgramWithIL": ("Context", "create_program_with_il"),
    "clCreateProgramWithBuiltInKernels": ("Context", "create_program_with_built_in_kernels"),
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
    "clEnqueueNativeKernel": ("CommandQueue", "enqueue_native_kernel"),
    "clGetMemObjectInfo": ("MemObject", "get_info"),
    "clReleaseMemObject": ("MemObject", "release"),
    # buffers, sub-buffers, pipes, images, samplers (memory.py, image.py, sampler.py)
    "clCreateSubBuffer": ("MemObject", "create_sub_buffer"),
    "clSetMemObjectDestructorCallback": ("MemObject", "set_destructor_callback"),
    "clGetImageInfo": ("MemObject", "get_image_info"),
    "clGetPipeInfo": ("MemObject", "get_pipe_info"),
    "clCreateBufferWithProperties": ("Context", "create_buffer_with_properties"),
    "clCreatePipe": ("Context", "create_pipe"),
    "clGetSupportedImageFormats": ("Context", "get_supported_image_formats"),
    "clCreateImage": ("Context", "create_image"),
    "clCreateImageWithProperties": ("Context", "create_image_with_properties"),
    "clCreateSamplerWithProperties": ("Context", "create_sampler_with_properties"),
    "clGetSamplerInfo": ("Sampler", "get_info"),
    "clReleaseSampler": ("Sampler", "release"),
    "clEnqueueFillBuffer": ("CommandQueue", "enqueue_fill_buffer"),
    "clEnqueueCopyBuffer": ("CommandQueue", "enqueue_copy_buffer"),
    "clEnqueueReadBufferRect": ("CommandQueue", "enqueue_read_buffer_rect"),
    "clEnqueueWriteBufferRect": ("CommandQueue", "enqueue_write_buffer_rect"),
    "clEnqueueCopyBufferRect": ("CommandQueue", "enqueue_copy_buffer_rect"),
    "clEnqueueMigrateMemObjects": ("CommandQueue", "enqueue_migrate_mem_objects"),
    "clEnqueueReadImage": ("CommandQueue", "enqueue_read_image"),
    "clEnqueueWriteImage": ("CommandQueue", "enqueue_write_image"),
    "clEnqueueCopyImage": ("CommandQueue", "enqueue_copy_image"),
    "clEnqueueFillImage": ("CommandQueue", "enqueue_fill_image"),
    "clEnqueueCopyImageToBuffer": ("CommandQueue", "enqueue_copy_image_to_buffer"),
    "clEnqueueCopyBufferToImage": ("CommandQueue", "enqueue_copy_buffer_to_image"),
    "clEnqueueMapImage": ("CommandQueue", "enqueue_map_image"),
    "clBuildProgram": ("Program", "build"),
    "clCompileProgram": ("Program", "compile"),
    "clGetProgramInfo": ("Program", "get_info"),
    "clGetProgramBuildInfo": ("Program", "get_build_info"),
    "clCreateKernel": ("Program", "create_kernel"),
    "clCreateKernelsInProgram": ("Program", "create_kernels_in_program"),
    "clReleaseProgram": ("Program", "release"),
    "clSetProgramSpecializationConstant": ("Program", "set_specialization_constant"),
    "clSetProgramReleaseCallback": ("Program", "set_release_callback"),
    "clSetKernelArg": ("Kernel", "set_arg"),
    "clGetKernelInfo": ("Kernel", "get_info"),
    "clGetKernelWorkGroupInfo": ("Kernel", "get_work_group_info"),
    "clGetKernelArgInfo": ("Kernel", "get_arg_info"),
    "clGetKernelSubGroupInfo": ("Kernel", "get_sub_group_info"),
    "clCloneKernel": ("Kernel", "clone"),
    "clReleaseKernel": ("Kernel", "release"),
    "clWaitForEvents": ("module", "wait_for_events"),
    "clGetEventInfo": ("Event", "get_info"),
    "clGetEventProfilingInfo": ("Event", "get_profiling_info"),
    "clReleaseEvent": ("Event", "release"),
    "clReleaseDevice": ("Device", "release"),
    # events, callbacks, timers, sub-devices, SVM (event.py, context.py, platform.py, svm.py)
    "clCreateUserEvent": ("Context", "create_user_event"),
    "clSetUserEventStatus": ("Event", "set_user_event_status"),
    "clSetEventCallback": ("Event", "set_callback"),
    "clEnqueueMarkerWithWaitList": ("CommandQueue", "enqueue_marker_with_wait_list"),
    "clEnqueueBarrierWithWaitList": ("CommandQueue", "enqueue_barrier_with_wait_list"),
    "clGetHostTimer": ("Device", "get_host_timer"),
    "clGetDeviceAndHostTimer": ("Device", "get_device_and_host_timer"),
    "clCreateSubDevices": ("Device", "create_sub_devices"),
    "clSetContextDestructorCallback": ("Context", "set_destructor_callback"),
    "clSVMAlloc": ("Context", "svm_alloc"),
    "clSVMFree": ("Context", "svm_free"),
    "clEnqueueSVMFree": ("CommandQueue", "enqueue_svm_free"),
    "clEnqueueSVMMemcpy": ("CommandQueue", "enqueue_svm_memcpy"),
    "clEnqueueSVMMemFill": ("CommandQueue", "enqueue_svm_mem_fill"),
    "clEnqueueSVMMap": ("CommandQueue", "enqueue_svm_map"),
    "clEnqueueSVMUnmap": ("CommandQueue", "enqueue_svm_unmap"),
    "clEnqueueSVMMigrateMem": ("CommandQueue", "enqueue_svm_migrate_mem"),
    "clSetKernelArgSVMPointer": ("Kernel", "set_arg_svm_pointer"),
    "clSetKernelExecInfo": ("Kernel", "set_exec_info"),
    # extension functions exposed as methods (fetched per platform, gated on the extension list)
    "clGetKernelSuggestedLocalWorkSizeKHR": ("CommandQueue", "get_kernel_suggested_local_work_size_khr"),
}

#: C functions with no method of their own, and why
NOT_METHODS: Dict[str, str] = {
    name: "reference counts are owned by the handle objects: use from_handle(h, retain=True)"
    for name in ("clRetainContext", "clRetainCommandQueue", "clRetainMemObject", "clRetainProgram",
                 "clRetainKernel", "clRetainEvent", "clRetainDevice", "clRetainSampler")
}
NOT_METHODS.update({
    "clGetExtensionFunctionAddressForPlatform":
        "Platform.get_extension_function(name) returns the typed (checked or raw) extension function",
    "clGetExtensionFunctionAddress":
        "deprecated in OpenCL 1.1; Platform.get_extension_function(name) returns the typed extension function",
})

#: deprecated functions whose successor the handle layer uses (and falls back to them on old devices)
DEPRECATED_SUCCESSORS: Dict[str, str] = {
    "clCreateCommandQueue": "clCreateCommandQueueWithProperties",
    "clSetCommandQueueProperty": "clCreateCommandQueueWithProperties",
    "clUnloadCompiler": "clUnloadPlatformCompiler",
    "clEnqueueTask": "clEnqueueNDRangeKernel",
    "clEnqueueMarker": "clEnqueueMarkerWithWaitList",
    "clEnqueueBarrier": "clEnqueueBarrierWithWaitList",
    "clEnqueueWaitForEvents": "clEnqueueBarrierWithWaitList",
    "clCreateImage2D": "clCreateImage",
    "clCreateImage3D": "clCreateImage",
    "clCreateSampler": "clCreateSamplerWithProperties",
}


def snake_case(c_name: str) -> str:
    """snake_case of a C function name without ``cl``: ``clEnqueueNDRangeKernel`` -> ``enqueue_nd_range_kernel``."""
    import re                     # (here: not every process needs it)
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


def core_functions() -> List[str]:
    """Every function of ``cl.h`` (the core API, OpenCL 1.0 to 3.0), in header order."""
    from . import raw
    return [name for name, proto in raw.FUNCTIONS.items() if proto.header == "cl.h"]


def missing() -> List[str]:
    """Core functions with neither a METHODS row nor a listed exception (what coverage still lacks)."""
    return [name for name in core_functions()
            if name not in METHODS and name not in NOT_METHODS and name not in DEPRECATED_SUCCESSORS]


def _target(c_name: str) -> str:
    cls, method = METHODS[c_name]
    return f"`{method}()` (module function)" if cls == "module" else f"`{cls}.{method}`"


def markdown_table() -> str:
    """The README's full table, as Markdown: every function of ``cl.h`` in header order, then
    the extension functions that have methods. Each row names the OpenCL version (or
    extension) that introduced the function and its handle-layer counterpart: a method or
    module function (METHODS), the method of its successor (DEPRECATED_SUCCESSORS), why
    there is none (NOT_METHODS), or that it is still only in raw and checked."""
    from . import raw
    lines = ["| C function | needs | handle layer |", "| --- | --- | --- |"]
    extension_rows = [name for name in METHODS if raw.FUNCTIONS[name].extension is not None]
    for c_name in core_functions() + extension_rows:
        proto = raw.FUNCTIONS[c_name]
        needs = proto.requirement + (f", deprecated after {proto.deprecated_after[0]}.{proto.deprecated_after[1]}"
                                     if proto.deprecated_after else "")
        if c_name in METHODS:
            target = _target(c_name)
        elif c_name in DEPRECATED_SUCCESSORS:
            successor = DEPRECATED_SUCCESSORS[c_name]
            target = f"deprecated: use `{successor}`" + (f" ({_target(successor)})" if successor in METHODS else "")
        elif c_name in NOT_METHODS:
            target = "no method: " + NOT_METHODS[c_name]
        else:
            target = "not yet (raw and checked only)"
        lines.append(f"| `{c_name}` | {needs} | {target} |")
    return "\n".join(lines)


__all__ = ["METHODS", "NOT_METHODS", "DEPRECATED_SUCCESSORS", "CLASS_OF_HANDLE",
           "snake_case", "rule_method", "markdown_table", "core_functions", "missing"]
