"""Contexts: clCreateContext, clCreateContextFromType, clGetContextInfo.

What a context creates is mixed in from its API area: buffers and pipes from
:mod:`opencl_raw.memory`, images from :mod:`opencl_raw.image`, samplers from
:mod:`opencl_raw.sampler`, programs from :mod:`opencl_raw.program`, user events
from :mod:`opencl_raw.event`, SVM from :mod:`opencl_raw.svm`.
"""
from __future__ import annotations

import ctypes

from . import _callbacks, checked, raw
from ._handle import Handle, handle_array, properties_array
from .errors import CLError, FunctionUnavailableError
from .event import _ContextEvents
from .image import _ContextImages
from .memory import _ContextMemory
from .platform import Device
from .program import _ContextPrograms
from .sampler import _ContextSamplers
from .svm import _ContextSVM

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence, Union

    from ._handle import Properties


# -- context notify and destructor callbacks, through _callbacks (user_data is the key) --------------
#: keys of the context notify callables now registered (see _notify_args)
_notify_keys = set()


def _notify_args(errinfo, private_info, cb, user_data):
    if user_data is None and not cb and private_info in _notify_keys:
        # Oclgrind 21.10 passes user_data where private_info belongs, and NULL as user_data.
        user_data, private_info = private_info, None
    text = errinfo.decode("utf-8", "replace") if errinfo else ""
    return user_data, (text, ctypes.string_at(private_info, cb) if private_info and cb else b"")


def _value_of(handle) -> int:
    return (handle.value if isinstance(handle, ctypes.c_void_p) else handle) or 0


# The driver's entry points; they live as long as the module (the process).
_on_notify = _callbacks.trampoline(raw.clCreateContext_pfn_notify, _notify_args)
_on_destroyed = _callbacks.trampoline(raw.clSetContextDestructorCallback_pfn_notify,
                                      lambda context, user_data: (user_data, (_value_of(context),)))


def _forget_notify(key: int) -> None:
    _notify_keys.discard(key)
    _callbacks.forget(key)


def _register_notify(callback) -> Optional[int]:
    if callback is None:
        return None
    key = _callbacks.register(callback, once=False)
    _notify_keys.add(key)
    return key


def _forget_notify_when_destroyed(context: "Context", key: Optional[int]) -> None:
    """Drop the notify callable when the cl_context is destroyed (clSetContextDestructorCallback,
    OpenCL 3.0; the first destructor callback set, so the last called); before 3.0 it stays."""
    if key is None:
        return
    if any(device.version_tuple < (3, 0) for device in context.get_info(raw.CL_CONTEXT_DEVICES)):
        return
    done = _callbacks.register(lambda context_value: _forget_notify(key), once=True)
    try:
        checked.clSetContextDestructorCallback(context.handle, _on_destroyed, done)
    except (CLError, FunctionUnavailableError):
        _callbacks.forget(done)


class Context(_ContextMemory, _ContextImages, _ContextSamplers, _ContextPrograms, _ContextEvents, _ContextSVM,
              Handle):
    """An OpenCL context (``cl_context``).

    ``Context(devices, properties=None, callback=None)`` is :func:`create_context`.
    Info: ``get_info(param)`` (clGetContextInfo) and attributes such as
    ``.devices``, ``.num_devices``, ``.reference_count``.
    """

    # _max_alloc: the largest CL_DEVICE_MAX_MEM_ALLOC_SIZE of its devices, read once (see memory._max_alloc)
    __slots__ = ("_max_alloc",)
    _ctype = raw.cl_context
    _retain_name, _release_name = "clRetainContext", "clReleaseContext"
    _info_group, _info_function = "Context", "clGetContextInfo"
    _attr_prefixes = ("CL_CONTEXT_",)

    def __init__(self, devices: Sequence[Device], properties: Properties = None, callback=None):
        self._handle = None
        key = _register_notify(callback)
        try:
            self._adopt(_create_context_handle(devices, properties, key), retain=False)
        except BaseException:
            if key is not None:
                _forget_notify(key)
            raise
        _forget_notify_when_destroyed(self, key)

    def set_destructor_callback(self, callback) -> None:
        """Call ``callback(context_value)`` when the ``cl_context`` is destroyed
        (clSetContextDestructorCallback, OpenCL 3.0).

        That is when its last reference goes: this object's release() if nothing else (queue,
        buffer, program, ...) holds one. ``context_value`` is the handle value (int), for
        identification only: the context is being destroyed. Callbacks run in the reverse
        order of registration, once, possibly on a driver thread; the callable is kept
        alive until then. An exception inside goes to ``sys.unraisablehook``.
        Raises TypeError if ``callback`` is not callable, FunctionUnavailableError before
        OpenCL 3.0 (the version gate), CLError (InvalidContext, InvalidValue),
        ReleasedHandleError after release().
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        _callbacks.hand_over(callback, checked.clSetContextDestructorCallback, self.handle, _on_destroyed)

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

    def set_default_device_command_queue(self, device: Device, command_queue) -> None:
        """Make ``command_queue`` (an on-device queue, created with CL_QUEUE_ON_DEVICE) the default
        device queue of ``device`` (clSetDefaultDeviceCommandQueue, OpenCL 2.1).

        Raises TypeError for wrong types, CLError (InvalidCommandQueue for a host queue,
        InvalidOperation where device-side enqueue is unsupported), FunctionUnavailableError
        on devices older than 2.1 (the version gate).
        """
        from .queue import CommandQueue
        if not isinstance(device, Device):
            raise TypeError(f"device must be a Device, got {type(device).__name__}")
        if not isinstance(command_queue, CommandQueue):
            raise TypeError(f"command_queue must be a CommandQueue, got {type(command_queue).__name__}")
        checked.clSetDefaultDeviceCommandQueue(self.handle, device.handle, command_queue.handle)



def _create_context_handle(devices: Sequence[Device], properties: Properties, key: Optional[int] = None):
    if isinstance(devices, Device):
        devices = [devices]
    n, array = handle_array(devices, Device, "devices")
    if not n:
        raise ValueError("create_context needs at least one device")
    platforms = set()
    for i in range(n):
        platform = raw.cl_platform_id()
        checked.clGetDeviceInfo(array[i], raw.CL_DEVICE_PLATFORM, ctypes.sizeof(platform), ctypes.byref(platform), None)
        platforms.add(platform.value)
    if len(platforms) > 1:      # the driver of the first would take the others for its own (crashes)
        raise ValueError(f"create_context: the devices belong to {len(platforms)} platforms; a context holds "
                         "devices of one platform")
    props = properties_array(properties, raw.cl_context_properties)
    return checked.clCreateContext(props, n, array, _on_notify if key is not None else None, key)


def create_context(devices: Sequence[Device], properties: Properties = None, callback=None) -> Context:
    """A context for ``devices`` (clCreateContext).

    ``callback``: None, or ``callback(errinfo, private_info)`` for the driver's error
    reports on this context (the pfn_notify of clCreateContext): ``errinfo`` the driver's
    text (str), ``private_info`` its binary data (bytes, often empty). It may be called many
    times, possibly on a driver thread, and must not block; an exception inside goes to
    ``sys.unraisablehook``. The callable is kept while the driver may call it: on OpenCL 3.0
    devices until the ``cl_context`` is destroyed (clSetContextDestructorCallback), on older
    ones for the rest of the process. Drivers differ in what they report: PoCL 3.1
    never calls it; Oclgrind reports each failed API call on the context.

    ``properties``: a mapping or (name, value) pairs of cl_context_properties, e.g.
    ``{CL_CONTEXT_PLATFORM: platform}``; the terminating 0 is added.
    Raises ValueError for no devices or devices of several platforms (before the driver),
    TypeError for non-Device items, CLError (InvalidDevice, InvalidProperty,
    DeviceNotAvailable, ...).
    """
    return Context(devices, properties, callback)


def create_context_from_type(device_type: int = raw.CL_DEVICE_TYPE_DEFAULT,
                             properties: Properties = None, callback=None) -> Context:
    """A context for all devices of ``device_type`` (clCreateContextFromType).

    ``callback``: the driver's error reports, as for :func:`create_context`.
    Raises CLError (DeviceNotFound, InvalidPlatform, ...).
    """
    props = properties_array(properties, raw.cl_context_properties)
    key = _register_notify(callback)
    try:
        handle = checked.clCreateContextFromType(props, device_type, _on_notify if key is not None else None, key)
    except BaseException:
        if key is not None:
            _forget_notify(key)
        raise
    context = Context.from_handle(handle, retain=False)
    _forget_notify_when_destroyed(context, key)
    return context


__all__ = ["Context", "create_context", "create_context_from_type"]
