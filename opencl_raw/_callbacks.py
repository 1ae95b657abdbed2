"""Python callables given to the driver as callbacks.

One rule for every callback site (context notify, build notify, event callbacks,
memory-object and context destructor callbacks, SVM free): the driver gets a
module-level C trampoline that never dies, and ``user_data`` is a key into a
table of Python callables. An entry lives exactly as long as the driver may
call it: one-shot callbacks drop their entry when they run; others are dropped
by :func:`forget` when their object is destroyed. Callbacks may arrive on a
driver thread. An exception raised inside one goes, through ctypes, to
``sys.unraisablehook``: never lost, never a crash.
"""
from __future__ import annotations

import _thread
import itertools
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Tuple


_entries: Dict[int, Tuple[Callable, bool]] = {}
_lock = _thread.allocate_lock()
_keys = itertools.count(1)
#: every C trampoline made by trampoline(): the driver may call them until the process ends
_trampolines: List[Any] = []


def register(function: Callable, once: bool = True) -> int:
    """Keep ``function`` until its callback runs (``once``) or :func:`forget`; returns the user_data key.

    Raises TypeError if ``function`` is not callable.
    """
    if not callable(function):
        raise TypeError(f"callback must be callable, got {type(function).__name__}")
    with _lock:
        key = next(_keys)
        _entries[key] = (function, once)
    return key


def hand_over(function: Callable, set_callback: Callable, *args: Any) -> int:
    """Register ``function`` (one-shot) and call ``set_callback(*args, key)``, the checked
    clSet*Callback with its trampoline among ``args``; the entry is dropped if that raises.

    Returns the key. Raises TypeError if ``function`` is not callable, and whatever
    ``set_callback`` raises (CLError, FunctionUnavailableError).
    """
    key = register(function, once=True)
    try:
        set_callback(*args, key)
    except BaseException:
        forget(key)
        raise
    return key


def forget(key: int) -> None:
    """Drop a registered callable (its object is gone, or registering with the driver failed)."""
    with _lock:
        _entries.pop(key, None)


def pending() -> int:
    """How many callables are registered (for tests and diagnostics)."""
    with _lock:
        return len(_entries)


def dispatch(key: Any, *args: Any) -> None:
    """Run the callable registered under ``key`` with ``args``.

    An exception it raises propagates, with a note naming the callable (Python >= 3.11), to the
    C trampoline, where ctypes hands it to ``sys.unraisablehook`` ("Exception ignored on
    calling ctypes callback function"); the driver's thread goes on.
    """
    with _lock:
        entry = _entries.get(key)
        if entry is not None and entry[1]:
            del _entries[key]
    if entry is None:
        return
    try:
        entry[0](*args)
    except BaseException as exc:
        if hasattr(exc, "add_note"):
            exc.add_note(f"raised in the OpenCL callback {entry[0]!r}")
        raise


def trampoline(cfunctype, convert: Callable) -> Any:
    """A C callback of ``cfunctype`` that lives forever and dispatches on user_data.

    ``convert(*c_args)`` returns ``(key, python_args)``.
    """
    def call(*c_args, _dispatch=dispatch, _sys=sys):
        try:
            key, args = convert(*c_args)
            _dispatch(key, *args)
        except BaseException:
            if _sys.is_finalizing():
                return     # a driver thread calling back while the interpreter tears down: nothing to run
            raise

    function = cfunctype(call)
    with _lock:
        _trampolines.append(function)
    return function
