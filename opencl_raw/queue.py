"""Command queues: creation, transfers, mapping, NDRange kernels, flush and finish."""
from __future__ import annotations

import ctypes
from typing import Any, Optional, Sequence, Tuple, Union

from . import _host, checked, raw
from ._handle import Handle, Properties, properties_array
from .event import Event, pin_until_complete, wait_list
from .memory import Buffer, MemObject
from .platform import Device
from .program import Kernel


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


def _work_sizes(values, name: str, dims: Optional[int] = None):
    if values is None:
        return None
    if isinstance(values, int):
        values = (values,)
    values = tuple(values)
    if not 1 <= len(values) <= 3:
        raise ValueError(f"{name} must have 1 to 3 dimensions, got {len(values)}")
    if dims is not None and len(values) != dims:
        raise ValueError(f"{name} has {len(values)} dimensions but global_size has {dims}")
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"{name} must hold ints (work-items), got {type(v).__name__}")
        if v < 0:
            raise ValueError(f"{name} must not be negative: {values}")
    return (ctypes.c_size_t * len(values))(*values)


class CommandQueue(Handle):
    """A command queue (``cl_command_queue``) on one device of a context.

    ``CommandQueue(context, device=None, properties=None)`` is
    ``context.create_command_queue_with_properties(device, properties)``.
    Every ``enqueue_*`` method takes ``wait_for=`` (a sequence of Events) and
    returns an Event; where C has a blocking flag the keyword is ``blocking=True``.
    Info: ``get_info(param)`` (clGetCommandQueueInfo) and attributes such as
    ``.context``, ``.device``, ``.properties``.
    """

    __slots__ = ()
    _ctype = raw.cl_command_queue
    _retain_name, _release_name = "clRetainCommandQueue", "clReleaseCommandQueue"
    _info_group, _info_function = "CommandQueue", "clGetCommandQueueInfo"
    _attr_prefixes = ("CL_QUEUE_",)

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

    # -- synchronisation ------------------------------------------------------
    def flush(self) -> None:
        """Submit all queued commands to the device (clFlush)."""
        checked.clFlush(self.handle)

    def finish(self) -> None:
        """Block until all queued commands complete (clFinish)."""
        checked.clFinish(self.handle)

    # -- buffers --------------------------------------------------------------
    def enqueue_write_buffer(self, buffer: Buffer, host: Any, blocking: bool = True, offset: int = 0,
                             wait_for: Sequence[Event] = ()) -> Event:
        """Write all of ``host`` (``host.nbytes`` bytes) into ``buffer`` at byte ``offset``
        (clEnqueueWriteBuffer).

        ``host``: any buffer-protocol object; a non-contiguous array is copied first.
        Non-blocking writes keep ``host`` alive until the command completes.
        Raises ValueError if the bytes do not fit the buffer, TypeError for bad types,
        CLError from the driver.
        """
        keep, address, nbytes = _host.source(host, "host")
        _host.check_range(offset, nbytes, _size_of(buffer, "buffer"), "enqueue_write_buffer")
        return self._transfer(checked.clEnqueueWriteBuffer, buffer, blocking, offset, keep, address, nbytes, wait_for)

    def enqueue_read_buffer(self, buffer: Buffer, host: Any = None, blocking: bool = True, offset: int = 0,
                            wait_for: Sequence[Event] = ()):
        """Read ``host.nbytes`` bytes of ``buffer`` at byte ``offset`` into ``host``
        (clEnqueueReadBuffer). Returns the Event.

        ``host`` must be writable and C-contiguous (numpy array, bytearray, ...).
        With ``host=None`` a new uint8 numpy array of the bytes from ``offset`` to the
        end is read (blocking) and returned instead of the Event; view it with
        ``.view(dtype)``. Non-blocking reads keep ``host`` alive until the command completes.
        Raises ValueError for a read past the buffer's end, a read-only or
        non-contiguous destination, or ``host=None`` with ``blocking=False``;
        TypeError for bad types; CLError from the driver.
        """
        size = _size_of(buffer, "buffer")
        if host is None:
            if not blocking:
                raise ValueError("enqueue_read_buffer with host=None must be blocking; pass a host array instead")
            import numpy as np
            _host.check_range(offset, 0, size, "enqueue_read_buffer")
            out = np.empty(size - offset, dtype=np.uint8)
            self.enqueue_read_buffer(buffer, out, True, offset, wait_for).release()
            return out
        keep, address, nbytes = _host.destination(host, "host")
        _host.check_range(offset, nbytes, size, "enqueue_read_buffer")
        return self._transfer(checked.clEnqueueReadBuffer, buffer, blocking, offset, keep, address, nbytes, wait_for)

    def _transfer(self, c_function, buffer, blocking, offset, keep, address, nbytes, wait_for) -> Event:
        # clEnqueueReadBuffer and clEnqueueWriteBuffer share one signature; a non-blocking
        # command pins its host object until it completes.
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        c_function(self.handle, buffer.handle, bool(blocking), offset, nbytes, address, n, events, ctypes.byref(event))
        result = Event.from_handle(event, retain=False)
        if not blocking:
            pin_until_complete(result, keep)
        return result

    def enqueue_map_buffer(self, buffer: Buffer, flags: int = raw.CL_MAP_READ | raw.CL_MAP_WRITE, offset: int = 0,
                           size: Optional[int] = None, blocking: bool = True, wait_for: Sequence[Event] = (),
                           dtype: Any = "uint8", shape: Any = None) -> Tuple[Any, Event]:
        """Map ``size`` bytes of ``buffer`` at ``offset`` into host memory (clEnqueueMapBuffer).

        ``flags``: CL_MAP_READ, CL_MAP_WRITE or CL_MAP_WRITE_INVALIDATE_REGION bits.
        ``size`` defaults to the rest of the buffer. Returns ``(array, event)``: a numpy
        array of ``dtype`` (and ``shape``, default 1-D) over the mapped bytes; with
        ``blocking=False`` it is valid once the event completes. Give it back with
        :meth:`enqueue_unmap_mem_object`; the array must not be used after that.
        Raises ValueError for a range outside the buffer or a size that ``dtype`` does
        not divide, CLError from the driver (MapFailure, InvalidValue, ...).
        """
        import numpy as np
        total = _size_of(buffer, "buffer")
        if size is None:
            _host.check_range(offset, 0, total, "enqueue_map_buffer")
            size = total - offset
        _host.check_range(offset, size, total, "enqueue_map_buffer")
        dtype = np.dtype(dtype)
        if size % dtype.itemsize:
            raise ValueError(f"enqueue_map_buffer: {size} bytes is not a whole number of {dtype} items")
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        pointer = checked.clEnqueueMapBuffer(self.handle, buffer.handle, bool(blocking), flags, offset, size,
                                             n, events, ctypes.byref(event))
        result = Event.from_handle(event, retain=False)
        if size == 0:
            array = np.empty(0, dtype=dtype)
        else:
            array = np.frombuffer((ctypes.c_char * size).from_address(pointer), dtype=dtype)
        if shape is not None:
            array = array.reshape(shape)
        return array, result

    def enqueue_unmap_mem_object(self, memobj: MemObject, mapped: Any, wait_for: Sequence[Event] = ()) -> Event:
        """Unmap a region mapped by :meth:`enqueue_map_buffer` (clEnqueueUnmapMemObject).

        ``mapped``: the array that enqueue_map_buffer returned (or its int address).
        Raises TypeError for other objects, CLError (InvalidValue for a pointer that
        was not mapped from ``memobj``).
        """
        if isinstance(mapped, int):
            address = mapped
        else:
            interface = getattr(mapped, "__array_interface__", None)
            if interface is None:
                raise TypeError(f"mapped must be the mapped array or its address, got {type(mapped).__name__}")
            address = interface["data"][0]
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueUnmapMemObject(self.handle, memobj.handle, address, n, events, ctypes.byref(event))
        return Event.from_handle(event, retain=False)

    # -- kernels --------------------------------------------------------------
    def enqueue_nd_range_kernel(self, kernel: Kernel, global_size, local_size=None, global_offset=None,
                                wait_for: Sequence[Event] = ()) -> Event:
        """Run ``kernel`` over an NDRange (clEnqueueNDRangeKernel).

        ``global_size``: work-items per dimension (int or 1 to 3 ints);
        ``local_size``: work-group size per dimension, or None to let the driver choose;
        ``global_offset``: per-dimension offset of the global IDs, or None for zeros.
        Raises TypeError/ValueError for malformed sizes, CLError from the driver
        (InvalidWorkGroupSize, InvalidWorkItemSize, InvalidKernelArgs, ...).
        """
        if not isinstance(kernel, Kernel):
            raise TypeError(f"kernel must be a Kernel, got {type(kernel).__name__}")
        gsize = _work_sizes(global_size, "global_size")
        dims = len(gsize)
        lsize = _work_sizes(local_size, "local_size", dims)
        offset = _work_sizes(global_offset, "global_offset", dims)
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        checked.clEnqueueNDRangeKernel(self.handle, kernel.handle, dims, offset, gsize, lsize, n, events,
                                       ctypes.byref(event))
        return Event.from_handle(event, retain=False)


def _size_of(memobj: MemObject, what: str) -> int:
    if not isinstance(memobj, MemObject):
        raise TypeError(f"{what} must be a memory object (Buffer), got {type(memobj).__name__}")
    return memobj.size


__all__ = ["CommandQueue"]
