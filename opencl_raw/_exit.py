"""What the binding does when the interpreter exits.

Handle objects still alive at exit (module globals, reference cycles) are not released:
``Handle.__del__`` does nothing once the interpreter finalizes, because the driver and
the binding's own modules are being torn down in no particular order; the end of the
process frees them. What must not happen is a driver still working for the process
while the interpreter tears down: PoCL crashes at exit when a command is still being
built or run (a C program that returns from ``main`` right after ``clFlush`` crashes
now and then too), and a command still writing into a host array or calling back into
Python after the interpreter freed them would corrupt memory. So :func:`at_exit`,
registered with :mod:`atexit` (it runs before the interpreter finalizes, after
non-daemon threads were joined):

1. fails every user event made by ``Context.create_user_event`` that has no status yet
   (clSetUserEventStatus with :data:`EXIT_STATUS`), including those released without a
   status (the binding keeps their reference for this): the commands waiting on them
   can never run, and are terminated instead of holding the exit forever;
2. flushes every CommandQueue object still alive (events returned by enqueue methods
   keep theirs alive), enqueues a marker on each and waits for the markers, at most
   ``OPENCL_RAW_EXIT_TIMEOUT`` seconds in all (default 10; ``0`` does not wait; a second
   Ctrl-C stops the wait). The commands of a queue released before are not waited for:
   ``finish()`` a queue before releasing it if the process may end meanwhile;
3. makes what the driver may still use live for good: the host objects of commands that
   did not complete (``_pins``), the registered Python callbacks and the C trampolines
   the driver calls, so nothing it touches is freed while the interpreter finalizes.
   A pending event callback keeps the ``cl_event`` reference that ``Event.set_callback``
   took for it (the driver may still call back, with that event): it is not given back,
   and the end of the process frees it.

All of it is best effort and never raises: a queue or event the driver refuses is
skipped. Queues and user events made through :mod:`opencl_raw.raw` or
:mod:`opencl_raw.checked` are the caller's, as in C.
"""
from __future__ import annotations

import _thread
import atexit
import ctypes
import os
import time
import weakref

from . import raw

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List


#: the status user events without one get at exit (commands waiting on them are terminated)
EXIT_STATUS = raw.CL_INVALID_OPERATION
#: seconds at_exit waits for the queues' commands, unless OPENCL_RAW_EXIT_TIMEOUT says otherwise
DEFAULT_TIMEOUT = 10.0

_lock = _thread.allocate_lock()
_queues: "weakref.WeakValueDictionary[int, Any]" = weakref.WeakValueDictionary()  # id -> CommandQueue
_user_events: "weakref.WeakValueDictionary[int, Any]" = weakref.WeakValueDictionary()  # id -> UserEvent
_abandoned: List[int] = []       # cl_event values of user events released without a status (ours now)
_done = False


# --------------------------------------------------------------------------- #
# Registries (called by queue.py and event.py)
# --------------------------------------------------------------------------- #

def queue_created(queue) -> None:
    """Remember a CommandQueue object: at exit its commands are waited for."""
    with _lock:
        _queues[id(queue)] = queue


def _marker(queue, marker) -> int:
    """Enqueue a marker after all of ``queue``'s commands (clEnqueueMarkerWithWaitList, or
    clEnqueueMarker on a device older than 1.2: an old driver's dispatch table may lack the
    newer entry). Returns the status."""
    if queue._known_device().version_tuple >= (1, 2):
        status = raw.clEnqueueMarkerWithWaitList(queue._value, 0, None, ctypes.byref(marker))
    else:
        status = raw.clEnqueueMarker(queue._value, ctypes.byref(marker))
    return status or (0 if marker.value else raw.CL_INVALID_EVENT)


def _status(event_value: int) -> int:
    """CL_EVENT_COMMAND_EXECUTION_STATUS, or a negative code when the query fails."""
    status = raw.cl_int()
    code = raw.clGetEventInfo(event_value, raw.CL_EVENT_COMMAND_EXECUTION_STATUS, ctypes.sizeof(status),
                              ctypes.byref(status), None)
    return code if code else status.value


def user_event_created(event) -> None:
    """Remember a UserEvent object that has no status yet."""
    with _lock:
        _user_events[id(event)] = event


def user_event_set(event) -> None:
    """The event got its status through the binding: nothing to do for it at exit."""
    with _lock:
        _user_events.pop(id(event), None)


def user_event_releasing(event) -> bool:
    """Called by UserEvent.release before it releases. True: the event has no status yet, and
    the binding keeps the reference (the caller must not release it) to fail it at exit."""
    with _lock:
        if _user_events.pop(id(event), None) is None:
            return False
    if _status(event._value) <= raw.CL_COMPLETE:   # set through raw / checked meanwhile
        return False
    with _lock:
        _abandoned.append(event._value)
    return True


def counts() -> Dict[str, int]:
    """Sizes of the registries (for tests and diagnostics)."""
    with _lock:
        return {"queues": len(_queues), "user_events": len(_user_events), "abandoned": len(_abandoned)}


# --------------------------------------------------------------------------- #
# At exit
# --------------------------------------------------------------------------- #

def _timeout() -> float:
    try:
        value = float(os.environ.get("OPENCL_RAW_EXIT_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value == value and value >= 0 else DEFAULT_TIMEOUT


def _fail_user_events() -> None:
    with _lock:
        live = [event for event in _user_events.values() if not event.released]
        values = [event._value for event in live] + list(_abandoned)
        _user_events.clear()
    for value in values:
        try:
            if _status(value) > raw.CL_COMPLETE:
                raw.function("clSetUserEventStatus")(value, EXIT_STATUS)
        except Exception:
            pass
    with _lock:
        for value in _abandoned:
            try:
                raw.clReleaseEvent(value)
            except Exception:
                pass
        _abandoned.clear()


def _wait(deadline: float) -> None:
    with _lock:
        queues = [q for q in _queues.values() if not q.released]
    markers: List[int] = []
    seen = set()
    for queue in queues:
        if queue._value in seen:
            continue
        seen.add(queue._value)
        marker = raw.cl_event()
        try:
            raw.clFlush(queue._value)
            if not _marker(queue, marker):
                markers.append(marker.value)
        except Exception:
            continue
    delay = 0.0005
    try:
        while markers:
            markers = [m for m in markers if _status(m) > raw.CL_COMPLETE]
            remaining = deadline - time.monotonic()
            if not markers or remaining <= 0:
                break
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.01)
    except KeyboardInterrupt:        # the user does not want to wait
        pass
    for value in markers:
        # still running (time ran out): the driver holds the marker; ours is not needed any more
        try:
            raw.clReleaseEvent(value)
        except Exception:
            pass


def _keep_forever(*objects: Any) -> None:
    """Make ``objects`` outlive the interpreter's finalization (CPython: one reference never given back)."""
    try:
        incref = ctypes.pythonapi.Py_IncRef
    except AttributeError:           # no C API (PyPy): its collector does not free at exit
        return
    incref.argtypes = [ctypes.py_object]
    incref.restype = None
    for obj in objects:
        incref(obj)


def at_exit() -> None:
    """The exit steps of the module docstring. Runs once; never raises."""
    global _done
    if _done:
        return
    _done = True
    from . import _callbacks, _pins
    try:
        if _queues or _user_events or _abandoned:
            _fail_user_events()
            _wait(time.monotonic() + _timeout())
    except BaseException:            # at exit nothing may escape (not even a second Ctrl-C)
        pass
    _keep_forever(_pins._pins, _pins._on_complete, _pins._on_destroyed, _callbacks._entries,
                  _callbacks._trampolines)


atexit.register(at_exit)


__all__ = ["EXIT_STATUS", "DEFAULT_TIMEOUT", "at_exit", "counts"]
