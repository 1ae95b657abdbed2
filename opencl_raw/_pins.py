"""Host objects the driver still uses stay alive until the driver says it is done.

One registry for both cases: a non-blocking command's host memory is released by
its event's CL_COMPLETE callback, and a CL_MEM_USE_HOST_PTR buffer's host memory
by the memory object's destructor callback. Callbacks may run on a driver thread;
they only drop a dictionary entry, so nothing blocks in a destructor. A command's
pin also goes when its queue's ``finish()`` returns (:func:`drop_finished`): PoCL 3.1
never calls back for a command that failed.
"""
from __future__ import annotations

import _thread

from . import raw
from .errors import FunctionUnavailableError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict


#: key -> (the queue handle value of the command, or 0 for a memory object's pin; the objects)
_pins: Dict[int, Any] = {}
_lock = _thread.allocate_lock()
_next_key = [1]                  # the key _pin gives next (keys grow: see drop_finished)


def _drop(key) -> None:
    with _lock:
        _pins.pop(key, None)


_on_complete = raw.clSetEventCallback_pfn_notify(lambda event, status, key: _drop(key))
_on_destroyed = raw.clSetMemObjectDestructorCallback_pfn_notify(lambda memobj, key: _drop(key))


def _pin(objects, queue: int = 0) -> int:
    with _lock:
        key = _next_key[0]
        _next_key[0] = key + 1
        _pins[key] = (queue, objects)
    return key


def until_complete(event_handle, *objects: Any, queue: int = 0) -> None:
    """Keep ``objects`` alive until the event reaches CL_COMPLETE or fails (clSetEventCallback, 1.1),
    or until ``queue`` (the command's queue handle value) has finished (:func:`drop_finished`).

    Where the callback cannot be set, the objects stay pinned until then (safe).
    """
    key = _pin(objects, queue)
    try:
        raw.function("clSetEventCallback")(event_handle, raw.CL_COMPLETE, _on_complete, key)
    except FunctionUnavailableError:
        pass


def until_destroyed(mem_handle, *objects: Any) -> None:
    """Keep ``objects`` alive until the memory object is destroyed (clSetMemObjectDestructorCallback, 1.1).

    Where the callback cannot be set, the objects stay pinned for the process lifetime (safe).
    """
    key = _pin(objects)
    try:
        raw.function("clSetMemObjectDestructorCallback")(mem_handle, _on_destroyed, key)
    except FunctionUnavailableError:
        pass


def mark() -> int:
    """The key the next pin gets: every pin below it was made before this call."""
    with _lock:
        return _next_key[0]


def drop_finished(queue: int, before: int) -> None:
    """Drop the pins of commands of ``queue`` (a handle value) pinned before ``before`` (a
    :func:`mark` taken before clFinish was called on that queue, which has returned): those
    commands were enqueued before the finish, so the driver is done with their host memory,
    whether they completed or failed (PoCL 3.1 calls no CL_COMPLETE callback for a failed one)."""
    with _lock:
        for key in [k for k, (owner, _) in _pins.items() if owner == queue and k < before]:
            del _pins[key]


def count() -> int:
    """How many pins are held (for tests and diagnostics)."""
    with _lock:
        return len(_pins)
