"""Host objects the driver still uses stay alive until the driver says it is done.

One registry for both cases: a non-blocking command's host memory is released by
its event's CL_COMPLETE callback, and a CL_MEM_USE_HOST_PTR buffer's host memory
by the memory object's destructor callback. Callbacks may run on a driver thread;
they only drop a dictionary entry, so nothing blocks in a destructor.
"""
from __future__ import annotations

import _thread
import itertools

from . import raw
from .errors import FunctionUnavailableError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict


_pins: Dict[int, Any] = {}
_lock = _thread.allocate_lock()
_keys = itertools.count(1)


def _drop(key) -> None:
    with _lock:
        _pins.pop(key, None)


_on_complete = raw.clSetEventCallback_pfn_notify(lambda event, status, key: _drop(key))
_on_destroyed = raw.clSetMemObjectDestructorCallback_pfn_notify(lambda memobj, key: _drop(key))


def _pin(objects) -> int:
    with _lock:
        key = next(_keys)
        _pins[key] = objects
    return key


def until_complete(event_handle, *objects: Any) -> None:
    """Keep ``objects`` alive until the event reaches CL_COMPLETE or fails (clSetEventCallback, 1.1).

    Where the callback cannot be set, the objects stay pinned for the process lifetime (safe).
    """
    key = _pin(objects)
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


def count() -> int:
    """How many pins are held (for tests and diagnostics)."""
    with _lock:
        return len(_pins)
