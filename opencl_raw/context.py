"""Contexts: clCreateContext, clCreateContextFromType, clGetContextInfo.

What a context creates is mixed in from its API area: buffers and pipes from
:mod:`opencl_raw.memory`, images from :mod:`opencl_raw.image`, samplers from
:mod:`opencl_raw.sampler`, programs from :mod:`opencl_raw.program`, user events
from :mod:`opencl_raw.event`, SVM from :mod:`opencl_raw.svm`.
"""
from __future__ import annotations


from typing import Optional, Sequence, Union

from . import checked, raw
from ._handle import Handle, Properties, handle_array, properties_array
from .event import _ContextEvents
from .image import _ContextImages
from .memory import _ContextMemory
from .platform import Device
from .program import _ContextPrograms
from .sampler import _ContextSamplers
from .svm import _ContextSVM


class Context(_ContextMemory, _ContextImages, _ContextSamplers, _ContextPrograms, _ContextEvents, _ContextSVM,
              Handle):
    """An OpenCL context (``cl_context``).

    ``Context(devices, properties=None)`` is :func:`create_context`.
    Info: ``get_info(param)`` (clGetContextInfo) and attributes such as
    ``.devices``, ``.num_devices``, ``.reference_count``.
    """

    __slots__ = ()
    _ctype = raw.cl_context
    _retain_name, _release_name = "clRetainContext", "clReleaseContext"
    _info_group, _info_function = "Context", "clGetContextInfo"
    _attr_prefixes = ("CL_CONTEXT_",)

    def __init__(self, devices: Sequence[Device], properties: Properties = None):
        self._handle = None
        self._adopt(_create_context_handle(devices, properties), retain=False)

    def create_command_queue_with_properties(self, device: Optional[Device] = None,
                                             properties: Union[Properties, int] = None):
        """A command queue on ``device`` (clCreateCommandQueueWithProperties, OpenCL 2.0).

        ``device`` defaults to the context's first device. ``properties``: a mapping
        or (name, value) pairs of cl_queue_properties, or an int taken as the
        CL_QUEUE_PROPERTIES bits (e.g. CL_QUEUE_PROFILING_ENABLE). On a device older
        than OpenCL 2.0 this uses clCreateCommandQueue with the CL_QUEUE_PROPERTIES
        bits, and raises ValueError for other properties (they need 2.0).
        Raises CLError (InvalidDevice, InvalidQueueProperties, InvalidValue, ...).
        """
        from .queue import CommandQueue
        return CommandQueue(self, device, properties)



def _create_context_handle(devices: Sequence[Device], properties: Properties):
    if isinstance(devices, Device):
        devices = [devices]
    n, array = handle_array(devices, Device, "devices")
    if not n:
        raise ValueError("create_context needs at least one device")
    props = properties_array(properties, raw.cl_context_properties)
    return checked.clCreateContext(props, n, array, None, None)


def create_context(devices: Sequence[Device], properties: Properties = None) -> Context:
    """A context for ``devices`` (clCreateContext).

    ``properties``: a mapping or (name, value) pairs of cl_context_properties, e.g.
    ``{CL_CONTEXT_PLATFORM: platform}``; the terminating 0 is added.
    Raises ValueError for no devices, TypeError for non-Device items, CLError
    (InvalidDevice, InvalidProperty, DeviceNotAvailable, ...).
    """
    return Context(devices, properties)


def create_context_from_type(device_type: int = raw.CL_DEVICE_TYPE_DEFAULT,
                             properties: Properties = None) -> Context:
    """A context for all devices of ``device_type`` (clCreateContextFromType).

    Raises CLError (DeviceNotFound, InvalidPlatform, ...).
    """
    props = properties_array(properties, raw.cl_context_properties)
    handle = checked.clCreateContextFromType(props, device_type, None, None)
    return Context.from_handle(handle, retain=False)


__all__ = ["Context", "create_context", "create_context_from_type"]
