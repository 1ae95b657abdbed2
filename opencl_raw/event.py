"""Events: clWaitForEvents, clGetEventInfo, clGetEventProfilingInfo, and host-object pins."""
from __future__ import annotations

import ctypes
from typing import Any, Iterable, Sequence, Tuple

from . import _pins, checked, raw
from ._handle import Handle, handle_array


class Event(Handle):
    """An OpenCL event (``cl_event``), returned by every enqueue method.

    Info: ``get_info(param)`` (clGetEventInfo) and attributes such as
    ``.command_execution_status`` and ``.command_type``; profiling through
    :meth:`get_profiling_info`.
    """

    __slots__ = ()
    _ctype = raw.cl_event
    _retain_name, _release_name = "clRetainEvent", "clReleaseEvent"
    _info_group, _info_function = "Event", "clGetEventInfo"
    _attr_prefixes = ("CL_EVENT_",)

    def wait(self) -> None:
        """Block until the command completes (clWaitForEvents with this one event).

        Raises CLError, e.g. ExecStatusErrorForEventsInWaitList if the command failed.
        """
        checked.clWaitForEvents(1, ctypes.byref(self.handle))

    def get_profiling_info(self, param) -> int:
        """A profiling time stamp in nanoseconds (clGetEventProfilingInfo).

        ``param``: CL_PROFILING_COMMAND_QUEUED, _SUBMIT, _START, _END or _COMPLETE.
        Raises CLError: ProfilingInfoNotAvailable if the queue was created without
        CL_QUEUE_PROFILING_ENABLE or the command has not completed.
        """
        from . import _info
        return _info.query("EventProfiling", checked.clGetEventProfilingInfo, (self.handle,), param)

    @property
    def duration_ns(self) -> int:
        """CL_PROFILING_COMMAND_END - CL_PROFILING_COMMAND_START, in nanoseconds."""
        return (self.get_profiling_info(raw.CL_PROFILING_COMMAND_END)
                - self.get_profiling_info(raw.CL_PROFILING_COMMAND_START))


def wait_for_events(events: Iterable[Event]) -> None:
    """Block until all ``events`` complete (clWaitForEvents). An empty sequence returns at once.

    Raises TypeError for non-Event items, CLError from the driver (InvalidEvent,
    InvalidContext when events belong to different contexts, ExecStatusErrorForEventsInWaitList).
    """
    n, array = handle_array(events, Event, "events")
    if n:
        checked.clWaitForEvents(n, array)


def wait_list(wait_for: Sequence[Event]) -> Tuple[int, Any]:
    """(count, cl_event array or None) for an enqueue's ``wait_for`` sequence of Events."""
    if not wait_for:
        return 0, None
    return handle_array(wait_for, Event, "wait_for")


class _ContextEvents:
    """Context methods that create events (user events)."""


class _QueueEvents:
    """CommandQueue methods for markers, barriers and waiting on events."""


def pin_until_complete(event: Event, *objects: Any) -> None:
    """Keep ``objects`` (host memory of a non-blocking command) alive until ``event`` completes."""
    _pins.until_complete(event.handle, *objects)


def pinned_count() -> int:
    """How many host-object pins are held (for tests and diagnostics)."""
    return _pins.count()


__all__ = ["Event", "wait_for_events", "pin_until_complete", "pinned_count"]
