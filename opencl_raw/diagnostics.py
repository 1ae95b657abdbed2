"""Oclgrind's kernel checks, shown as Python results: out-of-bounds accesses, data races,
barrier divergence, uninitialized values and API errors, tagged with the kernel name.

Oclgrind (an OpenCL 1.2 simulator, ``apt-get install oclgrind``) checks every memory
access of every work-item and writes what it finds to the process's stderr (fd 2), as
blocks such as::

    Invalid write of size 4 at global memory address 0x1000000000010
            Kernel: oob
            Entity: Global(0,0,0) Local(0,0,0) Group(0,0,0)
            ...

The kernel keeps running, the enqueue returns ``CL_SUCCESS``, and in a test run the text
ends up in captured output nobody reads.  :func:`oclgrind_diagnostics` captures fd 2
around a block (an enqueue and its wait) and turns the blocks into
:class:`OclgrindMessage` records; by default a block that produced any raises
:class:`OclgrindDiagnosticsError`, whose message names the kernels::

    import opencl_raw as cl
    with cl.oclgrind_diagnostics(queue):
        queue.enqueue_nd_range_kernel(kernel, n).wait()
    # OclgrindDiagnosticsError: Oclgrind reported 4 problems: kernel 'oob': 4 x Invalid write of size 4 ...

    with cl.oclgrind_diagnostics(queue, raise_errors=False) as found:
        ...
    for message in found.messages:
        print(message.kernel, message.kind)

Which checks run is read by Oclgrind when a context is created, from environment
variables (the same as the ``oclgrind`` command's options): out-of-bounds accesses and
barrier divergence are always checked; data races (``OCLGRIND_DATA_RACES=1``),
uninitialized values (``OCLGRIND_UNINITIALIZED=1``) and API errors
(``OCLGRIND_CHECK_API=1``) are opt-in.  :func:`enable_oclgrind_checks` sets them: call
it before creating the context.  ``OCLGRIND_LOG`` (a file) redirects the messages; when
it is set, the new part of that file is read instead of fd 2.

Notes: the capture redirects the whole process's fd 2 for the duration of the block, so
keep the block short (what else is written there is put back on stderr afterwards);
a capture is a no-op (nothing captured, nothing raised) when the object given is not on
an Oclgrind device; enqueues that do not wait may report after the block ends.
"""
from __future__ import annotations

import _thread
import contextlib
import os
import re
import sys
import tempfile
from typing import Any, Dict, Iterator, List, NamedTuple, Optional

from . import raw

__all__ = ["OclgrindMessage", "OclgrindDiagnostics", "OclgrindDiagnosticsError", "oclgrind_diagnostics",
           "enable_oclgrind_checks", "is_oclgrind", "parse_oclgrind_output"]

OCLGRIND_PLATFORM_NAME = "Oclgrind"

#: Environment variables of Oclgrind's optional checks (read at context creation).
CHECK_VARIABLES = {
    "data_races": "OCLGRIND_DATA_RACES",
    "uninitialized": "OCLGRIND_UNINITIALIZED",
    "check_api": "OCLGRIND_CHECK_API",
    "uniform_writes": "OCLGRIND_UNIFORM_WRITES",
}

_lock = _thread.RLock()
_FIELD = re.compile(r"^\t(Kernel|Function|Error):\s*(.*?)\s*$", re.M)


class OclgrindMessage(NamedTuple):
    """One Oclgrind diagnostic."""
    kind: str                 # its first line, e.g. 'Invalid write of size 4 at global memory address 0x...'
    kernel: Optional[str]     # the kernel it happened in; None for an API error
    function: Optional[str]   # the API function, for 'OpenCL runtime error detected' messages
    text: str                 # the whole message, as Oclgrind wrote it

    @property
    def summary(self) -> str:
        """The first line without addresses: the same kind of fault in other work-items compares equal."""
        text = re.sub(r"0x[0-9a-fA-F]+", "0x...", self.kind)
        if self.function and "runtime error" in self.kind:
            error = _FIELD.findall(self.text)
            errors = [value for key, value in error if key == "Error"]
            text = f"{self.function}: {errors[0] if errors else self.kind}"
        return text


def parse_oclgrind_output(text: str):
    """(messages, other text): Oclgrind's message blocks in ``text``, and what is not one.

    A message starts at a line without indentation and goes on over the tab-indented
    and blank lines after it; it is Oclgrind's when it has a ``Kernel:`` or
    ``Function:`` line, or its first line starts with 'Oclgrind'.
    """
    blocks: List[List[str]] = []
    for line in text.splitlines():
        if line and not line[0].isspace():
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
        else:
            blocks.append([line])
    messages, other = [], []
    for block in blocks:
        body = "\n".join(block).rstrip()
        if not body.strip():
            continue
        fields = dict(_FIELD.findall(body))
        if "Kernel" in fields or "Function" in fields or block[0].startswith("Oclgrind"):
            messages.append(OclgrindMessage(block[0].strip(), fields.get("Kernel"), fields.get("Function"), body))
        else:
            other.append(body)
    return messages, "\n".join(other)


class OclgrindDiagnosticsError(RuntimeError):
    """Oclgrind reported problems in the block of :func:`oclgrind_diagnostics`.

    ``messages``: the :class:`OclgrindMessage` records; ``kernels``: the kernel names
    they name, in order. ``str()`` counts them per kernel and kind, then shows the first.
    """

    def __init__(self, messages: List[OclgrindMessage]):
        self.messages = list(messages)
        self.kernels = list(dict.fromkeys(m.kernel for m in self.messages if m.kernel))
        super().__init__(describe(self.messages))


def describe(messages: List[OclgrindMessage]) -> str:
    """A few lines: how many of each kind per kernel, then the first message in full."""
    counts: Dict[tuple, int] = {}
    for message in messages:
        key = (message.kernel, message.summary)
        counts[key] = counts.get(key, 0) + 1
    lines = [f"Oclgrind reported {len(messages)} problem{'s' if len(messages) != 1 else ''}:"]
    for (kernel, summary), count in counts.items():
        where = f"kernel {kernel!r}" if kernel else "API"
        lines.append(f"  {where}: {count} x {summary}")
    if messages:
        lines.append("first one:")
        lines.append(messages[0].text.replace("\t", "    "))
    return "\n".join(lines)


class OclgrindDiagnostics:
    """What :func:`oclgrind_diagnostics` captured (filled when its block ends)."""

    def __init__(self, active: bool):
        self.active = active                        # False: not an Oclgrind device, nothing captured
        self.messages: List[OclgrindMessage] = []
        self.other = ""                             # captured text that is not Oclgrind's (echoed back)

    @property
    def kernels(self) -> List[str]:
        """The kernel names the messages name, in order of first appearance."""
        return list(dict.fromkeys(m.kernel for m in self.messages if m.kernel))

    def for_kernel(self, name: str) -> List[OclgrindMessage]:
        return [m for m in self.messages if m.kernel == name]

    def __bool__(self) -> bool:
        return bool(self.messages)

    def __repr__(self) -> str:
        return f"<OclgrindDiagnostics {len(self.messages)} messages, kernels {self.kernels}>"


def _platform_name_of_device(device_value: int) -> str:
    import ctypes
    platform = raw.cl_platform_id()
    if raw.clGetDeviceInfo(raw.cl_device_id(device_value), raw.CL_DEVICE_PLATFORM, ctypes.sizeof(platform),
                           ctypes.byref(platform), None) != raw.CL_SUCCESS or not platform.value:
        return ""
    size = ctypes.c_size_t()
    if raw.clGetPlatformInfo(platform, raw.CL_PLATFORM_NAME, 0, None, ctypes.byref(size)) != raw.CL_SUCCESS:
        return ""
    text = ctypes.create_string_buffer(size.value + 1)
    raw.clGetPlatformInfo(platform, raw.CL_PLATFORM_NAME, size.value, text, None)
    return text.value.decode("utf-8", "replace")


def is_oclgrind(obj: Any) -> bool:
    """Whether a handle object (Device, Context, CommandQueue, Program, Kernel, memory
    object, Event, Sampler) or a Platform is on Oclgrind."""
    from . import _gate
    from .platform import Platform
    if isinstance(obj, Platform):
        return OCLGRIND_PLATFORM_NAME in obj.name
    try:
        devices = _gate.devices_of(obj)
    except AttributeError:
        raise TypeError(f"expected an opencl_raw handle object, got {type(obj).__name__}") from None
    return any(OCLGRIND_PLATFORM_NAME in _platform_name_of_device(d) for d in devices)


def enable_oclgrind_checks(data_races: bool = True, uninitialized: bool = False, check_api: bool = True,
                           uniform_writes: bool = False) -> Dict[str, Optional[str]]:
    """Turn Oclgrind's optional checks on (``True``) or off (``False``) for contexts created
    from now on, through the environment variables of :data:`CHECK_VARIABLES`.

    Out-of-bounds accesses and barrier divergence are always checked. Returns the
    previous values (None: unset), so that a caller can put them back.
    """
    wanted = {"data_races": data_races, "uninitialized": uninitialized, "check_api": check_api,
              "uniform_writes": uniform_writes}
    previous = {}
    for key, on in wanted.items():
        name = CHECK_VARIABLES[key]
        previous[name] = os.environ.get(name)
        if on:
            os.environ[name] = "1"
        else:
            os.environ.pop(name, None)
    return previous


@contextlib.contextmanager
def _capture_fd2() -> Iterator[list]:
    """Redirect fd 2 to a temporary file; the list receives the text when the block ends."""
    out: list = []
    for stream in (sys.stderr, sys.__stderr__):
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield out
            finally:
                try:
                    sys.stderr.flush()
                except (AttributeError, ValueError, OSError):
                    pass
                os.dup2(saved, 2)
                sink.seek(0)
                out.append(sink.read().decode("utf-8", "replace"))
    finally:
        os.close(saved)


@contextlib.contextmanager
def _capture_log(path: str) -> Iterator[list]:
    out: list = []
    try:
        start = os.path.getsize(path)
    except OSError:
        start = 0
    try:
        yield out
    finally:
        try:
            with open(path, "rb") as f:
                f.seek(start)
                out.append(f.read().decode("utf-8", "replace"))
        except OSError:
            out.append("")


@contextlib.contextmanager
def oclgrind_diagnostics(target: Any = None, raise_errors: bool = True) -> Iterator[OclgrindDiagnostics]:
    """Capture Oclgrind's diagnostics of the work done in the ``with`` block.

    ``target``: the queue (or device, context, kernel...) the block uses; when it is not
    on Oclgrind nothing is captured. ``None`` captures regardless.
    Yields an :class:`OclgrindDiagnostics`, filled when the block ends. With
    ``raise_errors`` (the default), messages raise :class:`OclgrindDiagnosticsError`
    after the block (unless the block raised: then they are written to stderr and the
    block's exception propagates). Text on fd 2 that is not Oclgrind's is written back
    to stderr. Wait for the commands inside the block: Oclgrind reports while it runs them.
    """
    active = target is None or is_oclgrind(target)
    found = OclgrindDiagnostics(active)
    if not active:
        yield found
        return
    log = os.environ.get("OCLGRIND_LOG")
    with _lock:
        capture = _capture_log(log) if log else _capture_fd2()
        failed, text = False, []
        try:
            with capture as text:
                yield found
        except BaseException:
            failed = True
            raise
        finally:
            found.messages, found.other = parse_oclgrind_output("".join(text))
            if found.other and not log:
                sys.stderr.write(found.other + "\n")
            if failed and found.messages:
                sys.stderr.write(describe(found.messages) + "\n")
    if raise_errors and found.messages:
        raise OclgrindDiagnosticsError(found.messages)
