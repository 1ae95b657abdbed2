"""opencl_raw: a pure-Python (ctypes) binding of the OpenCL C API, in three layers.

- :mod:`opencl_raw.raw`: every type, constant and function of the Khronos
  headers with C names and C semantics (generated from ``headers/``);
- :mod:`opencl_raw.checked`: the same functions raising :class:`CLError`;
- the handle classes here (Platform, Device, Context, CommandQueue, Buffer,
  Program, Kernel, Event) that own their ``cl_*`` handles.

``import opencl_raw`` loads nothing: names are imported on first use, and the
OpenCL library is loaded by the first call.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> submodule that defines it
_EXPORTS = {
    "Platform": "platform", "Device": "platform", "get_platform_ids": "platform",
    "get_platforms": "platform", "select_device": "platform",
    "Context": "context", "create_context": "context", "create_context_from_type": "context",
    "CommandQueue": "queue",
    "MemObject": "memory", "Buffer": "memory",
    "Program": "program", "Kernel": "program", "LocalMemory": "program",
    "ProgramBinaryType": "_info", "KernelArgAddressQualifier": "_info", "KernelArgAccessQualifier": "_info",
    "KernelArgTypeQualifier": "_info",
    "Event": "event", "wait_for_events": "event", "UserEvent": "event",
    "SVMAllocation": "svm",
    "CLError": "errors", "LibraryNotFoundError": "errors", "FunctionUnavailableError": "errors",
    "ReleasedHandleError": "errors", "OpenCLRawWarning": "errors",
    "library_path": "raw", "load_icd": "raw", "version_gate": "_gate",
    "Image": "image", "ImageFormat": "image", "Sampler": "sampler", "Pipe": "memory",
    "MemoryMapping": "memory", "ChannelOrder": "_info", "ChannelType": "_info",
    "AddressingMode": "_info", "FilterMode": "_info",
    "split_version": "_info", "DeviceType": "_info", "MemFlags": "_info",
    "CommandQueueProperties": "_info", "BuildStatus": "_info", "MemObjectType": "_info",
    "CommandType": "_info", "CommandExecutionStatus": "_info",
    "oclgrind_diagnostics": "diagnostics", "OclgrindDiagnosticsError": "diagnostics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'opencl_raw' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
