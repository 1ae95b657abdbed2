"""Command queues: creation, flush and finish.

The enqueue methods live with their API area and are mixed in: buffers in
:mod:`opencl_raw.memory`, images in :mod:`opencl_raw.image`, kernels in
:mod:`opencl_raw.program`, markers and barriers in :mod:`opencl_raw.event`,
shared virtual memory in :mod:`opencl_raw.svm`.
"""
from __future__ import annotations

import weakref

from . import _exit, _pins, checked, raw
from ._handle import Handle, properties_array
from .event import _QueueEvents
from .image import _QueueImages
from .memory import _QueueMemory
from .platform import Device
from .program import _QueueKernels
from .svm import _QueueSVM

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Union

    from ._handle import Properties


def _device_of(context, device: Optional[Device]) -> Device:
    if device is None:
        devices = context.get_info(raw.CL_CONTEXT_DEVICES)
        return devices[0]
    if not isinstance(device, Device):
        raise TypeError(f"device must be a Device, got {type(device).__name__}")
    return device


def _queue_properties(properties: Union[Properties, int]) -> Properties:
    if isinstance(properties, int) and not isinstance(properties, bool):
        return {raw.CL_QUEUE_PROPERTIES: properties} if properties else None
    return properties


class CommandQueue(_QueueMemory, _QueueImages, _QueueKernels, _QueueEvents, _QueueSVM, Handle):
    """A command queue (``cl_command_queue``) on one device of a context.

    ``CommandQueue(context, device=None, properties=None)`` is
    ``context.create_command_queue_with_properties(device, properties)``.
    Every ``enqueue_*`` method takes ``wait_for=`` (a sequence of Events) and
    returns an Event; where C has a blocking flag the keyword is ``blocking=True``.
    Info: ``get_info(param)`` (clGetCommandQueueInfo) and attributes such as
    ``.context``, ``.device``, ``.properties``.
    """

    # _device: the Device (known at creation, else asked once); _context_ref: a weak reference to
    # the Context object it was made with; _launch_limits: the device limits enqueue_nd_range_kernel
    # checks, read once (see program._launch_limits)
    __slots__ = ("_device", "_context_ref", "_launch_limits")
    _ctype = raw.cl_command_queue
    _retain_name, _release_name = "clRetainCommandQueue", "clReleaseCommandQueue"
    _info_group, _info_function = "CommandQueue", "clGetCommandQueueInfo"
    _attr_prefixes = ("CL_QUEUE_",)

    def _adopt(self, handle, retain: bool, owned: bool = True) -> None:
        Handle._adopt(self, handle, retain, owned)
        _exit.queue_created(self)          # at exit the binding waits for its commands

    def _known_device(self) -> Device:
        """The queue's Device: the one it was made for, else CL_QUEUE_DEVICE asked once.
        Known even after release() when it was known before."""
        device = getattr(self, "_device", None)
        if device is None:
            device = self._device = self.get_info(raw.CL_QUEUE_DEVICE)
        return device

    def _context_object(self):
        """The Context object the queue was made with while it lives unreleased, else None."""
        ref = getattr(self, "_context_ref", None)
        context = ref() if ref is not None else None
        return context if context is not None and not context.released else None


    def __init__(self, context, device: Optional[Device] = None, properties: Union[Properties, int] = None):
        self._handle = None
        device = _device_of(context, device)
        properties = _queue_properties(properties)
        if device.version_tuple >= (2, 0):
            props = properties_array(properties, raw.cl_queue_properties)
            handle = checked.clCreateCommandQueueWithProperties(context.handle, device.handle, props)
        else:
            bits = 0
            for name, value in (properties.items() if isinstance(properties, dict) else properties or ()):
                if name != raw.CL_QUEUE_PROPERTIES:
                    raise ValueError(f"queue property {name:#x} needs OpenCL 2.0; {device.get_info(raw.CL_DEVICE_NAME)!r}"
                                     f" reports {device.get_info(raw.CL_DEVICE_VERSION)!r}")
                bits |= value
            handle = checked.clCreateCommandQueue(context.handle, device.handle, bits)
        self._adopt(handle, retain=False)
        self._device = device
        self._gate_devices = (device._value,)
        self._context_ref = weakref.ref(context) if isinstance(context, Handle) else None

    # -- synchronisation ------------------------------------------------------
    def flush(self) -> None:
        """Submit all queued commands to the device (clFlush)."""
        checked.clFlush(self.handle)

    def finish(self) -> None:
        """Block until all queued commands complete (clFinish). The host memory the binding kept
        alive for this queue's non-blocking commands enqueued before is let go then, also that of
        commands that failed (PoCL 3.1 calls no completion callback for those). Raises
        ReleasedHandleError after release(), CLError from the driver (InvalidCommandQueue,
        OutOfResources, OutOfHostMemory; NVIDIA 580 answers OutOfResources after a failed command)."""
        mark = _pins.mark()
        checked.clFinish(self.handle)
        _pins.drop_finished(self._value, mark)



__all__ = ["CommandQueue"]
