"""Events and synchronisation: waiting (with time-outs), user events, event callbacks,
markers and barriers, profiling, and host-object pins.

C functions: clWaitForEvents, clGetEventInfo, clGetEventProfilingInfo, clCreateUserEvent,
clSetUserEventStatus, clSetEventCallback, clEnqueueMarkerWithWaitList,
clEnqueueBarrierWithWaitList (and, on devices older than OpenCL 1.2, the deprecated
clEnqueueMarker, clEnqueueBarrier and clEnqueueWaitForEvents).

Event callbacks go through :mod:`opencl_raw._callbacks`: the driver gets one module-level
trampoline, the Python callable is kept until its callback has run (they are one-shot),
it may run on a driver thread, and an exception inside it goes to ``sys.unraisablehook``.
"""
from __future__ import annotations

import _thread
import ctypes
import time

from . import _callbacks, _exit, _gate, _info, _pins, checked, raw
from ._handle import Handle, handle_array
from .errors import CLError, FunctionUnavailableError, InvalidEvent, ReleasedHandleError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Optional, Sequence, Tuple


#: the command execution statuses clSetEventCallback accepts
CALLBACK_TYPES = (raw.CL_SUBMITTED, raw.CL_RUNNING, raw.CL_COMPLETE)
#: seconds between status checks while a timed wait waits for its completion callback
_POLL_WHILE_CALLBACK = 0.05
#: the info params an event answers from its parent links (see Event.get_info)
_PARENT_PARAMS = frozenset((raw.CL_EVENT_COMMAND_QUEUE, raw.CL_EVENT_CONTEXT,
                            "CL_EVENT_COMMAND_QUEUE", "CL_EVENT_CONTEXT"))
_ASK_DRIVER = object()


def _from_parent(event: "Event", param: int) -> Any:
    """CL_EVENT_COMMAND_QUEUE or CL_EVENT_CONTEXT of ``event`` from its parent links, or
    _ASK_DRIVER for an event without them (adopted with from_handle)."""
    queue = getattr(event, "_queue", None)
    if queue is not None:
        if param == raw.CL_EVENT_COMMAND_QUEUE:
            if queue.released:
                raise ReleasedHandleError(f"the CommandQueue of {event!r} was released: the driver may have "
                                          "deleted it (CL_EVENT_COMMAND_QUEUE is not asked for)")
            return queue
        context = queue._context_object()
        if context is not None:
            return type(context).from_handle(context.handle, retain=True)
        if queue.released:
            raise ReleasedHandleError(f"the CommandQueue of {event!r} was released (and the Context it was made "
                                      "with is gone): the driver may have deleted both, so the event's context "
                                      "is not asked for")
        return queue.get_info(raw.CL_QUEUE_CONTEXT)
    context = getattr(event, "_context", None)
    if context is not None:
        if param == raw.CL_EVENT_COMMAND_QUEUE:
            return None           # a user event belongs to no queue
        if context.released:
            raise ReleasedHandleError(f"the Context of {event!r} was released: the driver may have deleted it "
                                      "(CL_EVENT_CONTEXT is not asked for)")
        return type(context).from_handle(context.handle, retain=True)
    return _ASK_DRIVER


def enqueued(queue, handle) -> "Event":
    """The Event of a command just enqueued on ``queue`` (``handle`` a filled cl_event): it
    takes over that reference and links to ``queue`` (see Event)."""
    value = handle.value
    if not value:
        raise ValueError("the driver returned no cl_event for an enqueued command")
    event = Event.__new__(Event)          # what from_handle(handle, retain=False) does, for a filled cl_event
    event._handle, event._value, event._owned, event._queue = handle, value, True, queue
    return event


class _EventCallback:
    """The registered callable of Event.set_callback. It owns one reference to the ``cl_event``
    (``value``), taken by set_callback (clRetainEvent) while the caller's event object was
    alive, and hands it over to the object it passes to the callable: a new object of the
    class the callback was set on, with the same parent links (the callable may keep it).

    Nothing is retained inside the driver's callback: once every other reference is gone
    the driver still calls back ("all enqueued callbacks shall be called before the event
    object is destroyed"), but may refuse clRetainEvent then (NVIDIA: CL_INVALID_EVENT).
    The object passed is released when the callable returns, unless it keeps it; the
    driver still holds the event then (PoCL, Oclgrind: crashes if the caller released its
    own last reference inside the callback, see Event.set_callback)."""

    __slots__ = ("function", "cls", "queue", "context", "value")

    def __init__(self, function: Callable, cls: type, value: int, queue=None, context=None):
        self.function, self.cls, self.value, self.queue, self.context = function, cls, value, queue, context

    def __call__(self, event_value: int, status: int) -> None:
        event = self.cls.from_handle(self.value, retain=False)    # takes over this entry's reference
        event._queue, event._context = self.queue, self.context
        self.function(event, status)

    def __repr__(self) -> str:
        return repr(self.function)


def _value_of(handle) -> int:
    return (handle.value if isinstance(handle, ctypes.c_void_p) else handle) or 0


# The driver's entry points; they live as long as the module (the process).
_on_event = _callbacks.trampoline(raw.clSetEventCallback_pfn_notify,
                                  lambda event_handle, status, user_data: (user_data, (_value_of(event_handle),
                                                                                       int(status))))
_on_event_status = _callbacks.trampoline(raw.clSetEventCallback_pfn_notify,
                                         lambda event_handle, status, user_data: (user_data, (int(status),)))


def _check_timeout(timeout) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, got {type(timeout).__name__}")
    if timeout != timeout or timeout < 0:
        raise ValueError(f"timeout must be >= 0 seconds, got {timeout!r}")
    return float(timeout)


def _execution_status(handle) -> int:
    status = raw.cl_int()
    checked.clGetEventInfo(handle, raw.CL_EVENT_COMMAND_EXECUTION_STATUS, ctypes.sizeof(status),
                           ctypes.byref(status), None)
    return status.value


def _flush_queue_of(event: "Event") -> None:
    # clWaitForEvents flushes implicitly; a timed wait must too, or a queued command may never be
    # submitted. (Oclgrind 21.10 runs the queue inside clFlush and blocks there while a command
    # waits on an incomplete user event; it is not thread-safe either, so no helper thread.)
    parent = getattr(event, "_queue", None)
    if parent is not None:
        if not parent.released:
            checked.clFlush(parent.handle)
        return                     # clReleaseCommandQueue flushed a released one
    if getattr(event, "_context", None) is not None:
        return                     # a user event has no queue
    # An event adopted with from_handle: a CL_QUEUED command keeps its queue (clReleaseCommandQueue).
    queue = raw.cl_command_queue()
    checked.clGetEventInfo(event.handle, raw.CL_EVENT_COMMAND_QUEUE, ctypes.sizeof(queue), ctypes.byref(queue),
                           None)
    if queue.value:
        checked.clFlush(queue)


def _callbacks_allowed(event: "Event") -> bool:
    try:
        _gate.check(event, "clSetEventCallback")
    except FunctionUnavailableError:
        return False
    return True


def _done_within(event: "Event", deadline: float) -> bool:
    """True once ``event`` reached CL_COMPLETE or an error status before ``deadline`` (time.monotonic())."""
    handle = event.handle
    status = _execution_status(handle)
    if status <= raw.CL_COMPLETE:
        return True
    if status == raw.CL_QUEUED:
        _flush_queue_of(event)
    if _callbacks_allowed(event):
        done = _thread.allocate_lock()  # held until the driver calls back (not threading: its first
        done.acquire()                  # import names the thread it runs on the main thread)
        key = _callbacks.register(lambda status: done.release(), once=True)
        try:
            checked.clSetEventCallback(handle, raw.CL_COMPLETE, _on_event_status, key)
        except (CLError, FunctionUnavailableError):
            _callbacks.forget(key)
        else:
            if _execution_status(handle) <= raw.CL_COMPLETE:
                # Done meanwhile (e.g. by the flush): some drivers (Oclgrind 21.10) never call back
                # for a status already reached, so do not wait for it; a late call finds no entry.
                _callbacks.forget(key)
                return True
            # Else the entry stays until the driver calls back (it may, later): that is its lifetime.
            # Look at the status now and then too: PoCL 3.1 never calls back when a command fails.
            # Only the status says the command is done: after a call back whose status is not
            # final yet (a driver calling back early), poll until the deadline, so that the
            # clWaitForEvents that follows never blocks.
            while True:
                if _execution_status(handle) <= raw.CL_COMPLETE:
                    _callbacks.forget(key)              # a call still on its way finds no entry
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                if not done.locked():                   # called back
                    time.sleep(min(0.001, remaining))
                elif done.acquire(timeout=min(_POLL_WHILE_CALLBACK, remaining)):
                    done.release()                      # (called back: it stays released)
    delay = 0.0005
    while _execution_status(handle) > raw.CL_COMPLETE:          # OpenCL 1.0: poll
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.01)
    return True


class Event(Handle):
    """An OpenCL event (``cl_event``), returned by every enqueue method.

    Info: ``get_info(param)`` (clGetEventInfo) and attributes such as
    ``.command_execution_status`` and ``.command_type``; profiling through
    :meth:`get_profiling_info`; waiting through :meth:`wait`; callbacks through
    :meth:`set_callback`. User events (:class:`UserEvent`) come from
    ``Context.create_user_event()``.

    An event returned by an enqueue method keeps its CommandQueue object alive (the parent
    link): ``event.command_queue`` is that object, answered without asking the driver, and
    raises ReleasedHandleError once the queue object was released (see :meth:`get_info`).
    """

    # Parent links: ``_queue`` is the CommandQueue object whose enqueue method made the event,
    # ``_context`` the Context object of a user event. A driver may delete a released queue (or
    # context) while its events live on (only commands keep a queue alive, and Oclgrind 21.10
    # does delete them), so CL_EVENT_COMMAND_QUEUE and CL_EVENT_CONTEXT are answered from
    # these links, never by asking the driver. Events adopted with from_handle have no links
    # (the attributes are unset) and ask the driver.
    __slots__ = ("_queue", "_context")
    _ctype = raw.cl_event
    _retain_name, _release_name = "clRetainEvent", "clReleaseEvent"
    _info_group, _info_function = "Event", "clGetEventInfo"
    _attr_prefixes = ("CL_EVENT_",)

    def get_info(self, param):
        """Typed value of one info param (``clGetEventInfo``).

        ``param`` is the CL constant (int) or its name (``'CL_EVENT_COMMAND_TYPE'``).
        For an event returned by an enqueue method, CL_EVENT_COMMAND_QUEUE (attribute
        ``command_queue``) is that CommandQueue object itself and CL_EVENT_CONTEXT
        (``context``) a new wrapper of its context, answered without asking the driver
        about the event, which may name a queue the driver deleted already; once the
        CommandQueue object is released they raise ReleasedHandleError (the context is
        still answered while the Context object the queue was made with lives). A user
        event answers None and a new wrapper of its Context. Events adopted with
        ``from_handle`` ask the driver: keep their queue and context alive meanwhile.
        Returns str, int, bool, enum members, wrapper objects, or None for a NULL handle.
        Raises CLError from the driver (e.g. InvalidValue for an unsupported param),
        ValueError for an unknown param name, ReleasedHandleError after release().
        """
        handle = self.handle
        if isinstance(param, (int, str)) and param in _PARENT_PARAMS:
            linked = _from_parent(self, _info.param_value(param))
            if linked is not _ASK_DRIVER:
                return linked
        return _info.query("Event", checked.clGetEventInfo, (handle,), param)

    def wait(self, timeout: Optional[float] = None) -> None:
        """Block until the command completes (clWaitForEvents with this one event).

        ``timeout``: None waits as long as it takes; a number of seconds (int or float,
        >= 0) waits at most that long and then raises TimeoutError, leaving the command
        as it is. A timed wait flushes the event's queue if the command is still
        CL_QUEUED (clFlush), then waits for a CL_COMPLETE callback (clSetEventCallback,
        OpenCL 1.1), looking at CL_EVENT_COMMAND_EXECUTION_STATUS every 50 ms too (on 1.0 it
        only polls); only once that status is CL_COMPLETE or an error (a callback alone does not
        count) it calls clWaitForEvents, which then returns at once. Oclgrind runs commands
        inside clFlush and blocks there while one waits on an incomplete user event: there a
        timed wait cannot time out.
        A user event that is never completed makes an untimed wait block forever; use a timeout.

        Raises TimeoutError when the time runs out; CLError, e.g.
        ExecStatusErrorForEventsInWaitList if the command failed (its status is negative);
        TypeError / ValueError for a timeout that is not a number >= 0;
        ReleasedHandleError after release().
        """
        handle = self.handle
        if timeout is not None:
            seconds = _check_timeout(timeout)
            if not _done_within(self, time.monotonic() + seconds):
                raise TimeoutError(f"{self!r} did not complete within {seconds} s "
                                   f"(status {_execution_status(handle)})")
        checked.clWaitForEvents(1, ctypes.byref(handle))

    def get_profiling_info(self, param) -> int:
        """A profiling time stamp in nanoseconds (clGetEventProfilingInfo).

        ``param``: CL_PROFILING_COMMAND_QUEUED, _SUBMIT, _START, _END or _COMPLETE.
        Raises CLError: ProfilingInfoNotAvailable if the queue was created without
        CL_QUEUE_PROFILING_ENABLE or the command has not completed.
        """
        return _info.query("EventProfiling", checked.clGetEventProfilingInfo, (self.handle,), param)

    @property
    def duration_ns(self) -> int:
        """CL_PROFILING_COMMAND_END - CL_PROFILING_COMMAND_START, in nanoseconds."""
        return (self.get_profiling_info(raw.CL_PROFILING_COMMAND_END)
                - self.get_profiling_info(raw.CL_PROFILING_COMMAND_START))

    def set_callback(self, callback: Callable[["Event", int], Any],
                     command_exec_callback_type: int = raw.CL_COMPLETE) -> None:
        """Call ``callback(event, status)`` when the command reaches a status (clSetEventCallback, OpenCL 1.1).

        ``command_exec_callback_type``: CL_SUBMITTED, CL_RUNNING or CL_COMPLETE. The
        callback runs once, when the command reaches that status or a later one, or fails
        (then ``status`` is the negative error code, e.g. for CL_COMPLETE callbacks);
        ``event`` is a new wrapper of the same ``cl_event`` and class (``==`` this one), owning a reference,
        ``status`` an int. It may run on a driver thread, or at once on this thread if the
        status is already reached; it must not block or call blocking OpenCL functions.
        The registration holds a reference to the ``cl_event`` (clRetainEvent, here) which the
        object passed to the callback takes over: this object may be released or dropped at
        once, and the event passed is still valid. Inside the callback, do not release() the
        event it is about (this object or the one passed) while the driver is still calling
        back: PoCL 3.1 and Oclgrind free it too early and crash (also in C); dropping the
        passed object is fine. Drivers differ: PoCL 3.1 calls no callback
        of a command that fails (negative status), and none for CL_RUNNING of a user event;
        such callables stay registered, and keep their event (and its queue and context) alive
        in the driver until the process ends.
        The callable is kept alive until it has run. An exception raised inside it goes to
        ``sys.unraisablehook``. Several callbacks per status may be set.

        Raises TypeError if ``callback`` is not callable, ValueError for another
        callback type, FunctionUnavailableError on an OpenCL 1.0 device (the version gate),
        CLError from the driver (InvalidEvent, InvalidValue), ReleasedHandleError after release();
        then nothing stays registered or retained.
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        if command_exec_callback_type not in CALLBACK_TYPES:
            raise ValueError("command_exec_callback_type must be CL_SUBMITTED, CL_RUNNING or CL_COMPLETE, "
                             f"got {command_exec_callback_type!r}")
        handle = self.handle
        checked.clRetainEvent(handle)                     # the registration's reference (see _EventCallback)
        wrapped = _EventCallback(callback, type(self), handle.value, getattr(self, "_queue", None),
                                 getattr(self, "_context", None))
        try:
            _callbacks.hand_over(wrapped, checked.clSetEventCallback, handle, int(command_exec_callback_type),
                                 _on_event)
        except BaseException:
            raw.clReleaseEvent(handle)      # refused, so never called back: give the reference back
            raise

    def set_user_event_status(self, execution_status: int) -> None:
        """Complete a user event, or fail it (clSetUserEventStatus, OpenCL 1.1).

        ``execution_status``: CL_COMPLETE (0), or a negative int (an error code of the
        caller's choice): commands waiting on the event then fail and clWaitForEvents on
        them raises ExecStatusErrorForEventsInWaitList. The status can be set once.
        :meth:`UserEvent.set_status` is the same call.

        Raises TypeError for a non-int, ValueError for a positive status,
        FunctionUnavailableError on an OpenCL 1.0 device (the version gate),
        CLError: InvalidEvent if this is not a user event (refused before the driver when
        CL_EVENT_COMMAND_TYPE is not CL_COMMAND_USER: NVIDIA 580 accepts a status for any
        event), InvalidOperation if the status was already set; ReleasedHandleError after release().
        """
        if isinstance(execution_status, bool) or not isinstance(execution_status, int):
            raise TypeError(f"execution_status must be an int, got {type(execution_status).__name__}")
        if not -0x80000000 <= execution_status <= raw.CL_COMPLETE:
            raise ValueError(f"execution_status must be CL_COMPLETE (0) or a negative error code (a cl_int), "
                             f"got {execution_status}")
        handle = self.handle
        if type(self) is not UserEvent and self.get_info(raw.CL_EVENT_COMMAND_TYPE) != raw.CL_COMMAND_USER:
            raise InvalidEvent(None, "clSetUserEventStatus", "not a user event (its CL_EVENT_COMMAND_TYPE is "
                               f"{self.command_type!r}); refused before the driver")
        checked.clSetUserEventStatus(handle, execution_status)
        _exit.user_event_set(self)


class UserEvent(Event):
    """A user event (``cl_event`` of command type CL_COMMAND_USER), made by
    ``Context.create_user_event()`` (clCreateUserEvent).

    It starts CL_SUBMITTED; the host completes it with :meth:`set_status` (CL_COMPLETE) or
    fails it with a negative status. Commands with it in their ``wait_for`` wait until then.
    Release a user event only after setting its status: commands waiting on an event
    that never completes never run.
    """

    __slots__ = ()

    def release(self) -> None:
        """Give back this object's reference (``clReleaseEvent``). Idempotent.

        A user event released without a status never completes, and the commands waiting
        on it never run (the OpenCL specification's warning): the binding then keeps the
        reference itself and fails the event when the interpreter exits, so that the exit
        does not wait for them (see :mod:`opencl_raw._exit`).
        Raises CLError if the driver refuses the release.
        """
        if getattr(self, "_handle", None) is not None and self._owned and _exit.user_event_releasing(self):
            self._handle = None           # the reference now belongs to the exit handler
            return
        Handle.release(self)

    def set_status(self, execution_status: int) -> None:
        """Alias of :meth:`Event.set_user_event_status` (clSetUserEventStatus)."""
        self.set_user_event_status(execution_status)


def wait_for_events(events: Iterable[Event], timeout: Optional[float] = None) -> None:
    """Block until all ``events`` complete (clWaitForEvents). An empty sequence returns at once.

    ``timeout``: None, or at most this many seconds for all of them together (see
    :meth:`Event.wait`); TimeoutError when it runs out.
    Raises TypeError for non-Event items, CLError from the driver (InvalidEvent,
    InvalidContext when events belong to different contexts, ExecStatusErrorForEventsInWaitList).
    """
    events = list(events)
    n, array = handle_array(events, Event, "events")
    if not n:
        return
    if timeout is not None:
        seconds = _check_timeout(timeout)
        deadline = time.monotonic() + seconds
        for event in events:
            if not _done_within(event, deadline):
                raise TimeoutError(f"{event!r} did not complete within {seconds} s")
    checked.clWaitForEvents(n, array)


def wait_list(wait_for: Sequence[Event]) -> Tuple[int, Any]:
    """(count, cl_event array or None) for an enqueue's ``wait_for`` sequence of Events."""
    if not wait_for:
        return 0, None
    return handle_array(wait_for, Event, "wait_for")


class _ContextEvents:
    """Context methods that create events (user events)."""

    def create_user_event(self) -> UserEvent:
        """A new user event of this context, status CL_SUBMITTED (clCreateUserEvent, OpenCL 1.1).

        Complete it with ``set_status(CL_COMPLETE)`` (clSetUserEventStatus).
        Raises FunctionUnavailableError on an OpenCL 1.0 device (the version gate),
        CLError (InvalidContext, OutOfHostMemory), ReleasedHandleError after release().
        """
        event = UserEvent.from_handle(checked.clCreateUserEvent(self.handle), retain=False)
        event._gate_devices = getattr(self, "_gate_devices", None)  # a user event has its context's devices
        event._context = self            # the parent link (see Event); it keeps this object alive
        _exit.user_event_created(event)
        return event


def _uses_1_1_commands(queue) -> bool:
    return queue.device.version_tuple < (1, 2)


class _QueueEvents:
    """CommandQueue methods for markers, barriers and waiting on events."""

    def enqueue_marker_with_wait_list(self, wait_for: Sequence[Event] = ()) -> Event:
        """A marker command: its event completes when the ``wait_for`` events have, or, with an
        empty ``wait_for``, when all commands enqueued before it have
        (clEnqueueMarkerWithWaitList, OpenCL 1.2). Later commands do not wait for it.

        On a device older than 1.2: clEnqueueWaitForEvents(``wait_for``) if any, then
        clEnqueueMarker. There the wait also holds back later commands of the queue, and
        the marker follows all earlier commands (as an in-order queue does anyway).
        Returns the marker's Event (command type CL_COMMAND_MARKER).
        Raises TypeError for non-Event items, CLError (InvalidCommandQueue,
        InvalidEventWaitList, InvalidContext for events of another context).
        """
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        if _uses_1_1_commands(self):
            if n:
                checked.clEnqueueWaitForEvents(self.handle, n, events)
            checked.clEnqueueMarker(self.handle, ctypes.byref(event))
        else:
            checked.clEnqueueMarkerWithWaitList(self.handle, n, events, ctypes.byref(event))
        return enqueued(self, event)

    def enqueue_barrier_with_wait_list(self, wait_for: Sequence[Event] = ()) -> Event:
        """A barrier: commands enqueued after it wait until the ``wait_for`` events, or, with an
        empty ``wait_for``, all commands enqueued before it, complete
        (clEnqueueBarrierWithWaitList, OpenCL 1.2). Use it to order an out-of-order queue.

        On a device older than 1.2: clEnqueueWaitForEvents(``wait_for``), or clEnqueueBarrier
        when ``wait_for`` is empty, then clEnqueueMarker for the returned event (which then
        completes when all earlier commands have).
        Returns the barrier's Event (CL_COMMAND_BARRIER; CL_COMMAND_MARKER on the 1.1 path).
        Raises TypeError for non-Event items, CLError (InvalidCommandQueue,
        InvalidEventWaitList, InvalidContext for events of another context).
        """
        n, events = wait_list(wait_for)
        event = raw.cl_event()
        if _uses_1_1_commands(self):
            if n:
                checked.clEnqueueWaitForEvents(self.handle, n, events)
            else:
                checked.clEnqueueBarrier(self.handle)
            checked.clEnqueueMarker(self.handle, ctypes.byref(event))
        else:
            checked.clEnqueueBarrierWithWaitList(self.handle, n, events, ctypes.byref(event))
        return enqueued(self, event)


def pin_until_complete(event: Event, *objects: Any) -> None:
    """Keep ``objects`` (host memory of a non-blocking command) alive until ``event`` completes or
    fails, or its queue's ``finish()`` returns."""
    queue = getattr(event, "_queue", None)
    _pins.until_complete(event.handle, *objects, queue=queue._value if queue is not None else 0)


def pinned_count() -> int:
    """How many host-object pins are held (for tests and diagnostics)."""
    return _pins.count()


__all__ = ["Event", "UserEvent", "wait_for_events", "pin_until_complete", "pinned_count", "CALLBACK_TYPES"]
