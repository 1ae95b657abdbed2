"""Property tests of an OpenCL implementation, through the handle layer (needs hypothesis).

``pip install 'opencl_raw[testing]'`` adds hypothesis.  Run every check against a device::

    python -m opencl_raw.testing --list                      # platforms, devices, checks
    python -m opencl_raw.testing --platform portable         # every check, first PoCL device
    python -m opencl_raw.testing --platform 1 --device 0 --check work_sizes --examples 50 --seed 7

It prints one line per check (PASS, FAIL with the falsifying example, or SKIP when the
device lacks the feature) and exits 1 when a check failed.  From Python (or pytest)::

    import opencl_raw as cl
    from opencl_raw import testing
    device = cl.select_device("portable")
    testing.check_buffer_round_trips(device, max_examples=30)   # AssertionError on a failure

A check draws cases from the strategies below and runs each through the handle layer; a
case must give the right result or raise one of the exceptions its case allows:
``TypeError`` / ``ValueError`` (refused by this binding before the driver is called) or
:class:`~opencl_raw.errors.CLError` with a listed CL name.  Anything else fails the
check.  Checks:

- ``buffers``, :func:`check_buffer_round_trips`: buffers of any size and ``CL_MEM_*``
  flags (access, host pointer, host access; a tenth with two exclusive flags: then
  ``CL_INVALID_VALUE``), written and read back (or mapped) with every numpy dtype at any
  byte offset; out-of-range transfers are ``ValueError``, transfers the host-access flags
  forbid ``CL_INVALID_OPERATION``; the bytes around the transfer must not change;
- ``fill_copy``, :func:`check_fill_and_copy`: ``enqueue_fill_buffer`` with patterns of
  1 to 128 bytes (other sizes, misaligned ranges: ``ValueError``) and
  ``enqueue_copy_buffer`` (or the C call, so that the driver answers) between two buffers
  or within one (overlap: ``CL_MEM_COPY_OVERLAP``), against numpy;
- ``work_sizes``, :func:`check_work_sizes`: 1 to 3 dimensional NDRanges with or without
  a local size and a global offset, built as OpenCL C 1.2 and (where the device has it)
  as OpenCL C 2.0/3.0, enqueued through the handle layer (which may refuse bad sizes with
  ``ValueError``) or the C call (so that the driver answers): every work-item must run
  exactly once with consistent ids; local
  sizes that do not divide the global size are ``CL_INVALID_WORK_GROUP_SIZE`` unless the
  program is OpenCL C 2.0+ and the device supports non-uniform work-groups; too large
  ones ``CL_INVALID_WORK_GROUP_SIZE`` / ``CL_INVALID_WORK_ITEM_SIZE``; a global size of 0
  ``CL_INVALID_GLOBAL_WORK_SIZE`` (or nothing run, from OpenCL 2.1);
- ``wait_lists``, :func:`check_wait_lists`: writes waiting on completed commands, user
  events completed before or after the enqueue (the write must not complete first),
  markers and commands of another queue, events of another context
  (``CL_INVALID_CONTEXT``), non-events (``TypeError``) and user events failed with a
  negative status (the write must not run; waiting may raise
  ``CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST``);
- ``images``, :func:`check_images`: images of every type the device has and every
  supported format (unsupported ones: ``CL_IMAGE_FORMAT_NOT_SUPPORTED``), regions written
  and read back bit for bit, the pixels around them unchanged; regions outside the image
  are ``ValueError``.

Departures from the specification that the checks find in PoCL 3.1, Oclgrind 21.10 and
NVIDIA's driver 580 are listed in :data:`KNOWN_DEVIATIONS`; ``--accept NAME`` /
``--accept-known`` (or ``accept=[...]`` / ``accept="known"``) let those cases pass, and the
report counts them.

The strategies (:func:`mem_flags`, :func:`buffer_cases`, :func:`fill_cases`,
:func:`copy_cases`, :func:`work_sizes`, :func:`wait_list_recipes`, :func:`image_cases`,
and :data:`DTYPES` / :func:`dtypes`) can be used on their own with ``@given``.
"""
from __future__ import annotations

import argparse
import ctypes
import sys
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

try:
    import hypothesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("opencl_raw.testing needs hypothesis: pip install 'opencl_raw[testing]'") from exc

import numpy as np

from . import checked, raw
from .errors import CLError, FunctionUnavailableError

__all__ = ["DTYPES", "dtypes", "mem_flags", "flags_conflict", "buffer_cases", "fill_cases", "copy_cases",
           "work_sizes", "wait_list_recipes", "image_cases", "Expect", "attempt", "NotApplicable",
           "check_buffer_round_trips", "check_fill_and_copy", "check_work_sizes", "check_wait_lists",
           "check_images", "CHECKS", "run_checks", "main"]

#: The numpy types of host data.
DTYPES = (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
          np.float16, np.float32, np.float64, np.complex64)


class NotApplicable(Exception):
    """The device lacks what a check needs (e.g. image support); the check is skipped."""


class Deviation(NamedTuple):
    platform: str           # a substring of the platform name it was seen on
    description: str


#: Departures from the specification seen in implementations that the checks find. A check
#: given ``accept=[name, ...]`` (``--accept NAME``; ``accept="known"`` / ``--accept-known``:
#: those of the device's platform) lets the case pass, and reports that it did.
KNOWN_DEVIATIONS: Dict[str, Deviation] = {
    "pocl-image-format-invalid-operation": Deviation(
        "Portable Computing Language", "clCreateImage answers CL_INVALID_OPERATION for an image format the "
        "context does not list (CL_IMAGE_FORMAT_NOT_SUPPORTED expected) (PoCL 3.1)"),
    "oclgrind-exclusive-mem-flags": Deviation(
        "Oclgrind", "clCreateBuffer accepts two exclusive CL_MEM_* flags (CL_INVALID_VALUE expected) (Oclgrind 21.10)"),
    "oclgrind-empty-ndrange": Deviation(
        "Oclgrind", "clEnqueueNDRangeKernel accepts a global size of 0 on an OpenCL 1.2 device "
        "(CL_INVALID_GLOBAL_WORK_SIZE expected) (Oclgrind 21.10)"),
    "oclgrind-foreign-wait-event": Deviation(
        "Oclgrind", "enqueues accept an event of another context in the wait list (CL_INVALID_CONTEXT expected) "
        "(Oclgrind 21.10)"),
    "oclgrind-unlisted-image-format": Deviation(
        "Oclgrind", "clCreateImage accepts image formats clGetSupportedImageFormats does not list "
        "(CL_IMAGE_FORMAT_NOT_SUPPORTED or CL_INVALID_IMAGE_FORMAT_DESCRIPTOR expected) (Oclgrind 21.10)"),
    "nvidia-unlisted-image-format": Deviation(
        "NVIDIA CUDA", "clCreateImage accepts image formats clGetSupportedImageFormats does not list, e.g. "
        "(CL_R, CL_SNORM_INT8) for a 2D image (CL_IMAGE_FORMAT_NOT_SUPPORTED or "
        "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR expected) (NVIDIA 580)"),
    "nvidia-copy-overlap": Deviation(
        "NVIDIA CUDA", "clEnqueueCopyBuffer accepts a copy within one buffer whose source and destination "
        "ranges overlap, e.g. both at offset 0 (CL_MEM_COPY_OVERLAP expected; the handle layer checks it "
        "before the driver) (NVIDIA 580)"),
    "nvidia-kernel-work-group-size": Deviation(
        "NVIDIA CUDA", "clEnqueueNDRangeKernel accepts a work-group larger than the kernel's "
        "CL_KERNEL_WORK_GROUP_SIZE (within CL_DEVICE_MAX_WORK_GROUP_SIZE), e.g. local size (6, 59) "
        "(CL_INVALID_WORK_GROUP_SIZE expected) (NVIDIA 580)"),
}


def known_deviations(device) -> List[str]:
    """The names of :data:`KNOWN_DEVIATIONS` seen on ``device``'s platform."""
    name = device.platform.name
    return [key for key, deviation in KNOWN_DEVIATIONS.items() if deviation.platform in name]


def _accepted(device, accept) -> frozenset:
    if accept == "known":
        return frozenset(known_deviations(device))
    names = frozenset(accept or ())
    unknown = names - set(KNOWN_DEVIATIONS)
    if unknown:
        raise ValueError(f"unknown deviations {sorted(unknown)}; known: {sorted(KNOWN_DEVIATIONS)}")
    return names


# --------------------------------------------------------------------------- #
# Expected outcomes
# --------------------------------------------------------------------------- #

class Expect(NamedTuple):
    """What one call may do: succeed (``ok``) and/or raise one of ``errors`` (exception
    classes, or CL error names such as ``"CL_INVALID_VALUE"`` for a CLError of that code)."""
    ok: bool = True
    errors: Tuple[Any, ...] = ()

    def allows(self, exc: BaseException) -> bool:
        for allowed in self.errors:
            if isinstance(allowed, str):
                if isinstance(exc, CLError) and exc.name == allowed:
                    return True
            elif isinstance(exc, allowed):
                return True
        return False

    def describe(self) -> str:
        names = [a if isinstance(a, str) else a.__name__ for a in self.errors]
        return " or ".join((["success"] if self.ok else []) + names) or "nothing"

    def __or__(self, other: "Expect") -> "Expect":
        return Expect(self.ok or other.ok, tuple(dict.fromkeys(self.errors + other.errors)))


OK = Expect(True, ())


def refused(*errors: Any) -> Expect:
    """An Expect that must raise one of ``errors``."""
    return Expect(False, tuple(errors))


def attempt(what: str, expect: Expect, action: Callable[[], Any]) -> Tuple[bool, Any]:
    """Run ``action()``: ``(True, value)`` on an allowed success, ``(False, exception)`` on
    an allowed exception; AssertionError naming ``what`` and the allowed outcomes otherwise."""
    try:
        value = action()
    except Exception as exc:
        if expect.allows(exc):
            return False, exc
        raise AssertionError(f"{what}: raised {type(exc).__name__}: {exc}; expected {expect.describe()}") from exc
    if not expect.ok:
        raise AssertionError(f"{what}: succeeded; expected {expect.describe()}")
    return True, value


def _random_bytes(seed: int, nbytes: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, nbytes, dtype=np.uint8)


def _settings(max_examples: int, seed: Optional[int]):
    def apply(test):
        phases = [p for p in hypothesis.Phase if p.name != "explain"]   # no line-coverage explanation
        test = settings(max_examples=max_examples, deadline=None, database=None, print_blob=False, phases=phases,
                        report_multiple_bugs=False, suppress_health_check=list(HealthCheck))(test)
        if seed is not None:
            test = hypothesis.seed(seed)(test)
        return test
    return apply


class _Device:
    """Context, queue and limits of the device under test."""

    def __init__(self, device, accept=()):
        import opencl_raw as cl
        self.cl = cl
        self.device = device
        self.accept = _accepted(device, accept)
        self.hits: Dict[str, int] = {}
        self.version = device.version_tuple
        self.context = cl.create_context([device])
        self.queue = self.context.create_command_queue_with_properties(device)

    def deviation(self, name: str, expect: Expect, tolerated: Expect) -> Expect:
        """``expect``, widened by ``tolerated`` when deviation ``name`` is accepted."""
        return expect | tolerated if name in self.accept else expect

    def seen(self, name: str, happened: bool) -> bool:
        """Count an accepted deviation that happened; returns ``happened``."""
        if happened:
            self.hits[name] = self.hits.get(name, 0) + 1
        return happened

    def release(self) -> None:
        try:
            self.queue.finish()
        finally:
            self.queue.release()
            self.context.release()
        _report_hits(self.hits)


_hits_sink: Optional[Dict[str, int]] = None


def _report_hits(hits: Dict[str, int]) -> None:
    if _hits_sink is not None:
        for name, count in hits.items():
            _hits_sink[name] = _hits_sink.get(name, 0) + count


def _run(device, max_examples: int, seed: Optional[int], strategy, body, accept=()) -> None:
    env = _Device(device, accept)
    try:
        drawn = strategy(env) if callable(strategy) and not isinstance(strategy, st.SearchStrategy) else strategy

        @_settings(max_examples, seed)
        @given(drawn)
        def prop(case):
            body(env, case)

        prop()
    finally:
        env.release()


# --------------------------------------------------------------------------- #
# Buffers: flags, sizes, offsets, dtypes
# --------------------------------------------------------------------------- #

ACCESS = (0, raw.CL_MEM_READ_WRITE, raw.CL_MEM_READ_ONLY, raw.CL_MEM_WRITE_ONLY)
HOST_POINTER = (0, raw.CL_MEM_ALLOC_HOST_PTR, raw.CL_MEM_COPY_HOST_PTR, raw.CL_MEM_USE_HOST_PTR,
                raw.CL_MEM_ALLOC_HOST_PTR | raw.CL_MEM_COPY_HOST_PTR)
HOST_ACCESS = (0, raw.CL_MEM_HOST_WRITE_ONLY, raw.CL_MEM_HOST_READ_ONLY, raw.CL_MEM_HOST_NO_ACCESS)
#: Groups of CL_MEM_* bits of which at most one may be set.
EXCLUSIVE = (
    (raw.CL_MEM_READ_WRITE, raw.CL_MEM_READ_ONLY, raw.CL_MEM_WRITE_ONLY),
    (raw.CL_MEM_USE_HOST_PTR, raw.CL_MEM_ALLOC_HOST_PTR),
    (raw.CL_MEM_USE_HOST_PTR, raw.CL_MEM_COPY_HOST_PTR),
    (raw.CL_MEM_HOST_WRITE_ONLY, raw.CL_MEM_HOST_READ_ONLY, raw.CL_MEM_HOST_NO_ACCESS),
)
_CONFLICTS = (raw.CL_MEM_READ_ONLY | raw.CL_MEM_WRITE_ONLY, raw.CL_MEM_READ_WRITE | raw.CL_MEM_READ_ONLY,
              raw.CL_MEM_USE_HOST_PTR | raw.CL_MEM_ALLOC_HOST_PTR, raw.CL_MEM_USE_HOST_PTR | raw.CL_MEM_COPY_HOST_PTR,
              raw.CL_MEM_HOST_WRITE_ONLY | raw.CL_MEM_HOST_READ_ONLY,
              raw.CL_MEM_HOST_NO_ACCESS | raw.CL_MEM_HOST_WRITE_ONLY)


def dtypes() -> st.SearchStrategy:
    """numpy scalar types of host data (:data:`DTYPES`)."""
    return st.sampled_from(DTYPES)


def flags_conflict(flags: int) -> bool:
    """Whether ``flags`` sets two bits of one :data:`EXCLUSIVE` group."""
    return any(sum(1 for bit in group if flags & bit) > 1 for group in EXCLUSIVE)


@st.composite
def mem_flags(draw, host_access: bool = True, conflicts: bool = True) -> int:
    """``CL_MEM_*`` flags for clCreateBuffer: an access flag (or none), a host-pointer mode,
    a host-access flag (``host_access``: OpenCL 1.2), and with ``conflicts`` about one in
    ten with two exclusive bits."""
    flags = draw(st.sampled_from(ACCESS)) | draw(st.sampled_from(HOST_POINTER))
    if host_access:
        flags |= draw(st.sampled_from(HOST_ACCESS))
    if conflicts and draw(st.integers(0, 9)) == 0:
        flags |= draw(st.sampled_from(_CONFLICTS))
    return flags


class BufferCase(NamedTuple):
    size: int               # bytes
    flags: int
    dtype: Any
    count: int              # items transferred
    offset: int             # bytes
    blocking_write: bool
    read_how: str           # "blocking", "non-blocking" or "map"
    seed: int


@st.composite
def buffer_cases(draw, max_size: int = 1 << 16, host_access: bool = True) -> BufferCase:
    """A buffer and one write/read of it: the transfer lies inside the buffer in about
    three cases of four, else it passes the end."""
    size = draw(st.integers(1, max_size))
    dtype = draw(dtypes())
    itemsize = np.dtype(dtype).itemsize
    if size >= itemsize and draw(st.integers(0, 3)):
        count = draw(st.integers(1, size // itemsize))
        offset = draw(st.integers(0, size - count * itemsize))
    else:
        count = draw(st.integers(1, max(1, size // itemsize) + 8))
        offset = draw(st.integers(max(0, size - count * itemsize + 1), size + 64))
    return BufferCase(size, draw(mem_flags(host_access)), dtype, count, offset, draw(st.booleans()),
                      draw(st.sampled_from(("blocking", "non-blocking", "map"))), draw(st.integers(0, 2 ** 32 - 1)))


def _buffer_case(env: _Device, case: BufferCase) -> None:
    size, flags = case.size, case.flags
    host_data = None
    initial = None
    if flags & (raw.CL_MEM_COPY_HOST_PTR | raw.CL_MEM_USE_HOST_PTR):
        host_data = _random_bytes(case.seed + 1, size)
        initial = host_data.copy()
    host_flags = flags & (raw.CL_MEM_HOST_WRITE_ONLY | raw.CL_MEM_HOST_READ_ONLY | raw.CL_MEM_HOST_NO_ACCESS)
    create = OK
    conflict = flags_conflict(flags)
    if conflict or (host_flags and env.version < (1, 2)):
        create = env.deviation("oclgrind-exclusive-mem-flags", refused("CL_INVALID_VALUE"), OK) if conflict \
            else refused("CL_INVALID_VALUE")
    made, buffer = attempt(f"create_buffer(flags={flags:#x}, size={size})", create,
                           lambda: env.context.create_buffer(flags, size, host_data))
    if not made:
        return
    if env.seen("oclgrind-exclusive-mem-flags", conflict):
        buffer.release()                   # accepted: what such a buffer does is anyone's guess
        return
    try:
        can_write = not flags & (raw.CL_MEM_HOST_READ_ONLY | raw.CL_MEM_HOST_NO_ACCESS)
        can_read = not flags & (raw.CL_MEM_HOST_WRITE_ONLY | raw.CL_MEM_HOST_NO_ACCESS)
        if can_write and initial is None:
            initial = _random_bytes(case.seed + 2, size)
            env.queue.enqueue_write_buffer(buffer, initial).wait()
        data = _random_bytes(case.seed, case.count * np.dtype(case.dtype).itemsize).view(case.dtype)
        inside = case.offset + data.nbytes <= size
        expect = OK if inside else refused(ValueError)
        if inside and not can_write:
            expect = refused("CL_INVALID_OPERATION")
        what = f"enqueue_write_buffer({data.nbytes} bytes of {np.dtype(case.dtype)} at {case.offset}, flags {flags:#x})"
        wrote, event = attempt(what, expect, lambda: env.queue.enqueue_write_buffer(
            buffer, data, blocking=case.blocking_write, offset=case.offset))
        if wrote:
            event.wait()
            event.release()
            initial[case.offset:case.offset + data.nbytes] = data.view(np.uint8)
        expect = OK if inside else refused(ValueError)
        if inside and not can_read:
            expect = refused("CL_INVALID_OPERATION")
        got = np.empty(case.count, dtype=case.dtype)
        if case.read_how == "map":
            def read():
                mapping = env.queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ, offset=case.offset, size=data.nbytes,
                                                       dtype=case.dtype)
                mapped, map_event = mapping
                map_event.wait()
                got[...] = mapped
                env.queue.enqueue_unmap_mem_object(buffer, mapped).wait()
        else:
            def read():
                event = env.queue.enqueue_read_buffer(buffer, got, blocking=case.read_how == "blocking",
                                                      offset=case.offset)
                event.wait()
                event.release()
        what = f"{case.read_how} read of {data.nbytes} bytes at {case.offset} (flags {flags:#x})"
        done, _ = attempt(what, expect, read)
        if done and initial is not None:
            expected = initial[case.offset:case.offset + data.nbytes]
            assert np.array_equal(got.view(np.uint8), expected), f"{what}: wrong bytes"
        if can_read and initial is not None:               # the bytes around the transfer
            whole = np.empty(size, dtype=np.uint8)
            env.queue.enqueue_read_buffer(buffer, whole).release()
            assert np.array_equal(whole, initial), "bytes outside the written range changed"
    finally:
        env.queue.finish()
        buffer.release()


def check_buffer_round_trips(device, max_examples: int = 30, seed: Optional[int] = None,
                             max_size: int = 1 << 16, accept=()) -> None:
    """Buffers of random size and flags, written and read (or mapped) at random offsets with
    random dtypes. Raises AssertionError (with hypothesis's falsifying example) on a failure."""
    host_access = device.version_tuple >= (1, 2)
    _run(device, max_examples, seed, buffer_cases(max_size, host_access), _buffer_case, accept)


# --------------------------------------------------------------------------- #
# Fill and copy
# --------------------------------------------------------------------------- #

class FillCase(NamedTuple):
    size: int
    pattern_size: int
    offset: int
    fill_size: int
    seed: int


@st.composite
def fill_cases(draw, max_size: int = 4096) -> FillCase:
    """enqueue_fill_buffer arguments: mostly valid (pattern of 1 to 128 bytes, aligned range
    inside the buffer), sometimes a pattern of another size or a misaligned or too long range."""
    size = draw(st.integers(1, max_size))
    pattern_size = draw(st.sampled_from((1, 2, 4, 8, 16, 32, 64, 128)) | st.sampled_from((3, 6, 12, 256)))
    if pattern_size <= size and draw(st.integers(0, 3)):
        units = size // pattern_size
        first = draw(st.integers(0, units - 1))
        n = draw(st.integers(1, units - first))
        offset, fill_size = first * pattern_size, n * pattern_size
    else:
        offset = draw(st.integers(0, size + 16))
        fill_size = draw(st.integers(1, size + 16))
    return FillCase(size, pattern_size, offset, fill_size, draw(st.integers(0, 2 ** 32 - 1)))


def _fill_case(env: _Device, case: FillCase) -> None:
    initial = _random_bytes(case.seed, case.size)
    pattern = _random_bytes(case.seed + 1, case.pattern_size)
    buffer = env.context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, case.size, initial)
    try:
        valid = (case.pattern_size in (1, 2, 4, 8, 16, 32, 64, 128) and case.offset + case.fill_size <= case.size
                 and case.offset % case.pattern_size == 0 and case.fill_size % case.pattern_size == 0)
        expect = OK if valid else refused(ValueError)
        if env.version < (1, 2):
            expect = expect | refused(FunctionUnavailableError)
        what = f"enqueue_fill_buffer({case.pattern_size}-byte pattern, offset {case.offset}, size {case.fill_size})"
        done, event = attempt(what, expect, lambda: env.queue.enqueue_fill_buffer(buffer, pattern, case.offset,
                                                                                   case.fill_size))
        if done:
            event.wait()
            event.release()
            initial[case.offset:case.offset + case.fill_size] = np.tile(pattern, case.fill_size // case.pattern_size)
        got = np.empty(case.size, dtype=np.uint8)
        env.queue.enqueue_read_buffer(buffer, got).release()
        assert np.array_equal(got, initial), f"{what}: wrong bytes"
    finally:
        env.queue.finish()
        buffer.release()


class CopyCase(NamedTuple):
    src_size: int
    dst_size: int
    same: bool              # copy within one buffer (dst_size ignored)
    src_offset: int
    dst_offset: int
    size: int
    seed: int


@st.composite
def copy_cases(draw, max_size: int = 4096) -> CopyCase:
    """enqueue_copy_buffer arguments: two buffers or one (ranges that may overlap), ranges
    inside the buffers in most cases."""
    same = draw(st.booleans())
    src_size = draw(st.integers(1, max_size))
    dst_size = src_size if same else draw(st.integers(1, max_size))
    limit = min(src_size, dst_size)
    size = draw(st.integers(1, limit))
    if draw(st.integers(0, 3)):
        src_offset = draw(st.integers(0, src_size - size))
        dst_offset = draw(st.integers(0, dst_size - size))
    else:
        src_offset = draw(st.integers(0, src_size + 8))
        dst_offset = draw(st.integers(0, dst_size + 8))
    return CopyCase(src_size, dst_size, same, src_offset, dst_offset, size, draw(st.integers(0, 2 ** 32 - 1)))


def _copy_case(env: _Device, drawn: Tuple[CopyCase, str]) -> None:
    case, layer = drawn
    flags = raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR
    src_data = _random_bytes(case.seed, case.src_size)
    src = env.context.create_buffer(flags, case.src_size, src_data)
    dst_data = src_data if case.same else _random_bytes(case.seed + 1, case.dst_size)
    dst = src if case.same else env.context.create_buffer(flags, case.dst_size, dst_data)
    try:
        inside = case.src_offset + case.size <= case.src_size and case.dst_offset + case.size <= case.dst_size
        overlap = case.same and abs(case.src_offset - case.dst_offset) < case.size
        expect = refused(ValueError) if not inside else refused("CL_MEM_COPY_OVERLAP") if overlap else OK
        if not inside:
            layer = "handle"             # a range past a buffer's end is never sent to the driver
        tolerated = False
        if layer == "checked" and overlap:
            # the driver's own answer (the handle layer checks the overlap before the driver)
            tolerated = "nvidia-copy-overlap" in env.accept
            expect = env.deviation("nvidia-copy-overlap", expect, OK)
        what = (f"{'enqueue_copy_buffer' if layer == 'handle' else 'clEnqueueCopyBuffer'}("
                f"{'one buffer' if case.same else 'two buffers'}, src_offset {case.src_offset}, "
                f"dst_offset {case.dst_offset}, size {case.size})")
        if layer == "handle":
            def copy():
                return env.queue.enqueue_copy_buffer(src, dst, case.src_offset, case.dst_offset, case.size)
        else:
            def copy():                                  # the C call: nothing checked before the driver
                from .event import Event
                handle = raw.cl_event()
                checked.clEnqueueCopyBuffer(env.queue.handle, src.handle, dst.handle, case.src_offset,
                                            case.dst_offset, case.size, 0, None, ctypes.byref(handle))
                return Event.from_handle(handle, retain=False)
        done, event = attempt(what, expect, copy)
        expected = dst_data.copy()
        compared = np.ones(expected.size, dtype=bool)
        if done:
            event.wait()
            event.release()
            source = src_data[case.src_offset:case.src_offset + case.size]
            expected[case.dst_offset:case.dst_offset + case.size] = source
            if env.seen("nvidia-copy-overlap", tolerated and overlap):
                # accepted: an overlapping copy's bytes are undefined; the others must not change
                compared[case.dst_offset:case.dst_offset + case.size] = False
        got = np.empty(case.dst_size if not case.same else case.src_size, dtype=np.uint8)
        env.queue.enqueue_read_buffer(dst, got).release()
        assert np.array_equal(got[compared], expected[compared]), f"{what}: wrong bytes"
    finally:
        env.queue.finish()
        src.release()
        if not case.same:
            dst.release()


def check_fill_and_copy(device, max_examples: int = 30, seed: Optional[int] = None, max_size: int = 4096,
                        accept=()) -> None:
    """enqueue_fill_buffer and enqueue_copy_buffer cases against numpy (two properties,
    ``max_examples`` each); copies inside the buffers go through the handle layer (which
    refuses an overlap within one buffer itself) or the C call (so that the driver answers)."""
    _run(device, max_examples, seed, fill_cases(max_size), _fill_case, accept)
    _run(device, max_examples, seed, st.tuples(copy_cases(max_size), st.sampled_from(("handle", "checked"))),
         _copy_case, accept)


# --------------------------------------------------------------------------- #
# Work sizes
# --------------------------------------------------------------------------- #

IDS_SOURCE = """
#if defined(__OPENCL_C_VERSION__) && __OPENCL_C_VERSION__ >= 200
#define ENQUEUED(d) get_enqueued_local_size(d)
#else
#define ENQUEUED(d) get_local_size(d)
#endif
__kernel void ids(__global uint *runs, __global uint *good, uint g0, uint g1)
{
    size_t x = get_global_id(0) - get_global_offset(0);
    size_t y = get_global_id(1) - get_global_offset(1);
    size_t z = get_global_id(2) - get_global_offset(2);
    size_t i = x + g0 * (y + (size_t)g1 * z);
    uint ok = 1;
    for (uint d = 0; d < 3; ++d) {
        ok &= get_group_id(d) * ENQUEUED(d) + get_local_id(d) + get_global_offset(d) == get_global_id(d);
        ok &= get_local_id(d) < get_local_size(d);
        ok &= get_global_id(d) - get_global_offset(d) < get_global_size(d);
    }
    runs[i] += 1;
    good[i] = ok;
}
"""


class WorkSizes(NamedTuple):
    global_size: Tuple[int, ...]
    local_size: Optional[Tuple[int, ...]]
    global_offset: Optional[Tuple[int, ...]]


def _divisors(n: int) -> List[int]:
    return [d for d in range(1, n + 1) if n % d == 0] if n else [1]


@st.composite
def work_sizes(draw, max_work_item_sizes: Sequence[int] = (1024, 1024, 1024), max_work_group_size: int = 1024,
               max_items: int = 4096, zero: bool = True) -> WorkSizes:
    """(global size, local size or None, global offset or None) of 1 to 3 dimensions with at
    most ``max_items`` work-items: local sizes that divide the global size, that do not, or
    that pass the device's limits; with ``zero``, rarely a global size of 0."""
    dims = draw(st.integers(1, 3))
    global_size = []
    room = max_items
    for _ in range(dims):
        g = draw(st.integers(1, max(1, min(room, 64 if dims > 1 else room))))
        global_size.append(g)
        room = max(1, room // g)
    if zero and draw(st.integers(0, 19)) == 0:
        global_size[draw(st.integers(0, dims - 1))] = 0
    local = None
    how = draw(st.sampled_from(("none", "divides", "divides", "any", "too big")))
    if how == "divides":
        local = [draw(st.sampled_from(_divisors(g))) for g in global_size]
    elif how == "any":
        local = [draw(st.integers(1, max(1, g))) for g in global_size]
    elif how == "too big":
        local = [draw(st.integers(1, max(1, g))) for g in global_size]
        d = draw(st.integers(0, dims - 1))
        local[d] = draw(st.integers(max_work_item_sizes[d] + 1, max_work_item_sizes[d] + 64)
                        | st.integers(max_work_group_size + 1, max_work_group_size + 64))
    offset = None
    if draw(st.booleans()):
        offset = tuple(draw(st.integers(0, 1000)) for _ in range(dims))
    return WorkSizes(tuple(global_size), None if local is None else tuple(local), offset)


def _opencl_c_builds(device) -> List[Tuple[str, bool]]:
    """(build options, non-uniform work-groups allowed) for OpenCL C 1.2 and the newest 2.0+."""
    builds = [("", False)]
    version = device.version_tuple
    c_versions = set()
    text = device.get_info(raw.CL_DEVICE_OPENCL_C_VERSION)       # "OpenCL C 1.2 ..."
    try:
        c_versions.add(tuple(int(x) for x in text.split()[2].split(".")[:2]))
    except (IndexError, ValueError):
        pass
    if version >= (3, 0):
        try:
            for entry in device.get_info(raw.CL_DEVICE_OPENCL_C_ALL_VERSIONS):
                number = entry[0] if isinstance(entry, tuple) else entry.version
                c_versions.add(((number >> 22) & 0x3FF, (number >> 12) & 0x3FF))
        except (CLError, FunctionUnavailableError, AttributeError, TypeError, IndexError):
            pass
    newest = max((v for v in c_versions if v >= (2, 0)), default=None)
    if newest is not None:
        if version >= (3, 0):
            try:
                non_uniform = bool(device.get_info(raw.CL_DEVICE_NON_UNIFORM_WORK_GROUP_SUPPORT))
            except (CLError, FunctionUnavailableError):
                non_uniform = False
        else:
            non_uniform = version >= (2, 0)
        builds.append((f"-cl-std=CL{newest[0]}.{newest[1]}", non_uniform))
    return builds


class _Kernels:
    def __init__(self, env: _Device, max_items: int):
        self.builds = []
        for options, non_uniform in _opencl_c_builds(env.device):
            program = env.context.create_program_with_source(IDS_SOURCE).build(options)
            kernel = program.create_kernel("ids")
            program.release()
            limit = kernel.get_work_group_info(env.device, raw.CL_KERNEL_WORK_GROUP_SIZE)
            self.builds.append((options or "OpenCL C 1.2", non_uniform, kernel, limit))
        self.runs = env.context.create_buffer(raw.CL_MEM_READ_WRITE, 4 * max_items)
        self.good = env.context.create_buffer(raw.CL_MEM_READ_WRITE, 4 * max_items)

    def release(self) -> None:
        for *_, kernel, _ in self.builds:
            kernel.release()
        self.runs.release()
        self.good.release()


def _work_size_expect(case: WorkSizes, non_uniform: bool, kernel_limit: int, item_limits: Sequence[int],
                      version: Tuple[int, int]) -> Expect:
    errors: List[str] = []
    if 0 in case.global_size:
        errors.append("CL_INVALID_GLOBAL_WORK_SIZE")
    if case.local_size is not None:
        if any(l > m for l, m in zip(case.local_size, item_limits)):
            errors.append("CL_INVALID_WORK_ITEM_SIZE")
        if int(np.prod(case.local_size)) > kernel_limit:
            errors.append("CL_INVALID_WORK_GROUP_SIZE")
        if not non_uniform and any(g % l for g, l in zip(case.global_size, case.local_size)):
            errors.append("CL_INVALID_WORK_GROUP_SIZE")
    if errors:
        # Several faults at once: the driver may name any of them.
        if "CL_INVALID_WORK_ITEM_SIZE" in errors:
            errors.append("CL_INVALID_WORK_GROUP_SIZE")
        ok = errors == ["CL_INVALID_GLOBAL_WORK_SIZE"] and version >= (2, 1)   # 2.1+: an empty NDRange
        return Expect(ok, tuple(dict.fromkeys(errors)))
    return OK


def check_work_sizes(device, max_examples: int = 30, seed: Optional[int] = None, max_items: int = 4096,
                     accept=()) -> None:
    """NDRanges of 1 to 3 dimensions, local sizes that divide the global size or not, global
    offsets, on OpenCL C 1.2 and 2.0+ builds: each work-item runs once with consistent ids,
    or the enqueue raises the error the case calls for."""
    item_limits = tuple(device.get_info(raw.CL_DEVICE_MAX_WORK_ITEM_SIZES))[:3]
    group_limit = device.get_info(raw.CL_DEVICE_MAX_WORK_GROUP_SIZE)
    env = _Device(device, accept)
    kernels = _Kernels(env, max_items)
    try:
        @_settings(max_examples, seed)
        @given(case=work_sizes(item_limits, group_limit, max_items), build=st.integers(0, len(kernels.builds) - 1),
               layer=st.sampled_from(("handle", "checked")))
        def prop(case, build, layer):
            options, non_uniform, kernel, kernel_limit = kernels.builds[build]
            expect = _work_size_expect(case, non_uniform, kernel_limit, item_limits, env.version)
            empty = expect.errors == ("CL_INVALID_GLOBAL_WORK_SIZE",) and not expect.ok
            if empty:
                expect = env.deviation("oclgrind-empty-ndrange", expect, OK)
            # a work-group above the kernel's CL_KERNEL_WORK_GROUP_SIZE is the only fault
            over_kernel = (not expect.ok and kernel_limit < group_limit
                           and _work_size_expect(case, non_uniform, group_limit, item_limits, env.version) == OK)
            if over_kernel:
                expect = env.deviation("nvidia-kernel-work-group-size", expect, OK)
            if layer == "handle" and not expect.ok:
                expect = expect | refused(ValueError)        # the handle layer may refuse before the driver
            total = int(np.prod(case.global_size))
            zeros = np.zeros(max(1, total), dtype=np.uint32)
            env.queue.enqueue_write_buffer(kernels.runs, zeros).release()
            env.queue.enqueue_write_buffer(kernels.good, zeros).release()
            g = list(case.global_size) + [1, 1]
            kernel.set_args(kernels.runs, kernels.good, np.uint32(g[0]), np.uint32(g[1]))
            what = (f"{'enqueue_nd_range_kernel' if layer == 'handle' else 'clEnqueueNDRangeKernel'}(global "
                    f"{case.global_size}, local {case.local_size}, offset {case.global_offset}) built with {options}"
                    + (f" (CL_KERNEL_WORK_GROUP_SIZE {kernel_limit})" if over_kernel else ""))
            if layer == "handle":
                def enqueue():
                    return env.queue.enqueue_nd_range_kernel(kernel, case.global_size, case.local_size,
                                                             case.global_offset)
            else:
                def enqueue():                             # the C call: nothing checked before the driver
                    from .event import Event
                    dims = len(case.global_size)
                    sizes = [None if v is None else (ctypes.c_size_t * dims)(*v)
                             for v in (case.global_offset, case.global_size, case.local_size)]
                    handle = raw.cl_event()
                    checked.clEnqueueNDRangeKernel(env.queue.handle, kernel.handle, dims, *sizes, 0, None,
                                                   ctypes.byref(handle))
                    return Event.from_handle(handle, retain=False)
            done, event = attempt(what, expect, enqueue)
            if not done:
                return
            env.seen("oclgrind-empty-ndrange", empty)
            env.seen("nvidia-kernel-work-group-size", over_kernel)     # then every work-item must run once
            event.wait()
            event.release()
            runs = np.empty(max(1, total), dtype=np.uint32)
            good = np.empty(max(1, total), dtype=np.uint32)
            env.queue.enqueue_read_buffer(kernels.runs, runs).release()
            env.queue.enqueue_read_buffer(kernels.good, good).release()
            if total == 0:
                assert not runs.any(), f"{what}: work-items ran in an empty NDRange"
                return
            missed = np.flatnonzero(runs != 1)
            assert missed.size == 0, (f"{what}: {missed.size} of {total} work-items ran {sorted(set(runs[missed]))} "
                                      f"times instead of once (first: linear id {missed[0]})")
            wrong = np.flatnonzero(good != 1)
            assert wrong.size == 0, f"{what}: {wrong.size} work-items saw inconsistent ids (first: {wrong[0]})"

        prop()
    finally:
        kernels.release()
        env.release()


# --------------------------------------------------------------------------- #
# Wait lists
# --------------------------------------------------------------------------- #

#: Kinds of wait-list entries (see :func:`wait_list_recipes`).
WAIT_KINDS = ("completed", "user-before", "user-after", "marker", "other-queue", "other-context", "not-an-event",
              "failed-user")


def wait_list_recipes(max_length: int = 4, kinds: Sequence[str] = WAIT_KINDS) -> st.SearchStrategy:
    """Lists of wait-list entry kinds: ``completed`` (a finished write), ``user-before`` /
    ``user-after`` (a user event completed before / after the enqueue), ``marker`` (a marker
    of a second queue), ``other-queue`` (a write of a second queue of the same context),
    ``other-context`` (a user event of another context), ``not-an-event`` (an int),
    ``failed-user`` (a user event set to a negative status after the enqueue)."""
    return st.lists(st.sampled_from(tuple(kinds)), min_size=0, max_size=max_length)


class _WaitEnv:
    def __init__(self, env: _Device):
        self.queue2 = env.context.create_command_queue_with_properties(env.device)
        self.context2 = env.cl.create_context([env.device])
        self.buffer = env.context.create_buffer(raw.CL_MEM_READ_WRITE, 4096)
        self.scratch = env.context.create_buffer(raw.CL_MEM_READ_WRITE, 4096)

    def release(self) -> None:
        self.queue2.finish()
        for obj in (self.buffer, self.scratch, self.queue2, self.context2):
            obj.release()


def _wait_case(env: _Device, extra: _WaitEnv, recipe: List[str], seed: int) -> None:
    queue = env.queue
    before = _random_bytes(seed, 4096)
    data = _random_bytes(seed + 1, 4096)
    queue.enqueue_write_buffer(extra.buffer, before).release()
    events, pending, failing = [], [], []
    try:
        for kind in recipe:
            if kind == "completed":
                events.append(queue.enqueue_write_buffer(extra.scratch, data[:64]))
            elif kind in ("user-before", "user-after", "failed-user"):
                user = env.context.create_user_event()
                if kind == "user-before":
                    user.set_status(raw.CL_COMPLETE)
                else:
                    (failing if kind == "failed-user" else pending).append(user)
                events.append(user)
            elif kind == "marker":
                events.append(extra.queue2.enqueue_marker_with_wait_list())
            elif kind == "other-queue":
                events.append(extra.queue2.enqueue_write_buffer(extra.scratch, data[64:128], blocking=False, offset=64))
            elif kind == "other-context":
                other = extra.context2.create_user_event()
                other.set_status(raw.CL_COMPLETE)
                events.append(other)
            else:
                events.append(len(events))
        errors = [TypeError] if "not-an-event" in recipe else []
        errors += ["CL_INVALID_CONTEXT"] if "other-context" in recipe else []
        expect = refused(*errors) if errors else OK
        foreign = errors == ["CL_INVALID_CONTEXT"]
        if foreign:
            expect = env.deviation("oclgrind-foreign-wait-event", expect, OK)
        what = f"enqueue_write_buffer(wait_for={recipe})"
        done, write = attempt(what, expect, lambda: queue.enqueue_write_buffer(
            extra.buffer, data, blocking=False, wait_for=events))
        if not done:
            return
        env.seen("oclgrind-foreign-wait-event", foreign)
        # No clFlush here: Oclgrind 21.10 runs the queue inside clFlush and would block on the user events.
        if pending or failing:
            status = write.get_info(raw.CL_EVENT_COMMAND_EXECUTION_STATUS)
            assert status != raw.CL_COMPLETE, f"{what}: the write completed before its user events"
        for user in pending:
            user.set_status(raw.CL_COMPLETE)
        for user in failing:
            user.set_status(-1)
        pending, failing_now = [], bool(failing)
        failing = []
        if failing_now:
            waited, _ = attempt(f"{what}: wait", Expect(True, ("CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",)),
                                lambda: write.wait(timeout=30))
            status = write.get_info(raw.CL_EVENT_COMMAND_EXECUTION_STATUS)
            assert status < 0, f"{what}: the write waiting on a failed user event ended with status {status}"
            queue.finish()
        else:
            write.wait(timeout=30)
            assert write.get_info(raw.CL_EVENT_COMMAND_EXECUTION_STATUS) == raw.CL_COMPLETE
        got = np.empty(4096, dtype=np.uint8)
        queue.enqueue_read_buffer(extra.buffer, got).release()
        expected = before if failing_now else data
        assert np.array_equal(got, expected), (f"{what}: the buffer holds "
                                               f"{'new' if failing_now else 'old or mixed'} bytes")
    finally:
        for user in pending:
            user.set_status(raw.CL_COMPLETE)
        for user in failing:
            user.set_status(-1)
        queue.finish()
        extra.queue2.finish()
        for event in events:
            if not isinstance(event, int):
                event.release()


def check_wait_lists(device, max_examples: int = 30, seed: Optional[int] = None, accept=()) -> None:
    """A non-blocking write with a drawn wait list (see :func:`wait_list_recipes`): it must
    wait for every event, refuse other contexts' events and non-events, and not run after a
    failed user event."""
    if device.version_tuple < (1, 2):
        raise NotApplicable("user events and markers need OpenCL 1.2")
    env = _Device(device, accept)
    extra = _WaitEnv(env)
    try:
        @_settings(max_examples, seed)
        @given(recipe=wait_list_recipes(), seed=st.integers(0, 2 ** 32 - 1))
        def prop(recipe, seed):
            _wait_case(env, extra, recipe, seed)

        prop()
    finally:
        extra.release()
        env.release()


# --------------------------------------------------------------------------- #
# Images: formats and regions
# --------------------------------------------------------------------------- #

_IMAGE_DIMS = {raw.CL_MEM_OBJECT_IMAGE1D: 1, raw.CL_MEM_OBJECT_IMAGE2D: 2, raw.CL_MEM_OBJECT_IMAGE3D: 3,
               raw.CL_MEM_OBJECT_IMAGE1D_ARRAY: 2, raw.CL_MEM_OBJECT_IMAGE2D_ARRAY: 3}


class ImageCase(NamedTuple):
    image_type: int
    format: Tuple[int, int]
    supported: bool
    shape: Tuple[int, ...]              # OpenCL order, width first
    origin: Tuple[int, int, int]        # pixels
    region: Tuple[int, int, int]
    seed: int


@st.composite
def image_cases(draw, formats: Dict[int, Sequence[Tuple[int, int]]],
                unsupported: Sequence[Tuple[int, int]] = (), max_extent: int = 16) -> ImageCase:
    """An image type (a key of ``formats``), a format (one of ``formats[type]``, or rarely one
    of ``unsupported``), a shape, and a region ``(origin, region)`` in pixels: inside the
    image in about three cases of four."""
    image_type = draw(st.sampled_from(sorted(t for t, f in formats.items() if f)))
    supported = not unsupported or draw(st.integers(0, 9)) > 0
    fmt = draw(st.sampled_from(list(formats[image_type]) if supported else list(unsupported)))
    dims = _IMAGE_DIMS[image_type]
    limit = max_extent if dims < 3 else max(1, max_extent // 2)
    shape = tuple(draw(st.integers(1, limit)) for _ in range(dims))
    extent = list(shape) + [1] * (3 - dims)
    if draw(st.integers(0, 3)):
        origin = [draw(st.integers(0, e - 1)) for e in extent]
        region = [draw(st.integers(1, e - o)) for e, o in zip(extent, origin)]
    else:
        origin = [draw(st.integers(0, e + 1)) if i < dims else 0 for i, e in enumerate(extent)]
        region = [draw(st.integers(1, e + 2)) if i < dims else 1 for i, e in enumerate(extent)]
    return ImageCase(image_type, tuple(fmt), supported, shape, tuple(origin), tuple(region),
                     draw(st.integers(0, 2 ** 32 - 1)))


#: the deviations under which a driver may create an image of a format it does not list
_UNLISTED_FORMAT_ACCEPTED = ("oclgrind-unlisted-image-format", "nvidia-unlisted-image-format")


def _image_case(env: _Device, case: ImageCase) -> None:
    flags = raw.CL_MEM_READ_WRITE
    expect = OK
    if not case.supported:
        expect = refused("CL_IMAGE_FORMAT_NOT_SUPPORTED", "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR", ValueError)
        expect = env.deviation("pocl-image-format-invalid-operation", expect, refused("CL_INVALID_OPERATION"))
        for name in _UNLISTED_FORMAT_ACCEPTED:
            expect = env.deviation(name, expect, OK)
    what = f"create_image(type {case.image_type:#x}, format {case.format}, shape {case.shape})"
    made, image = attempt(what, expect, lambda: env.context.create_image(flags, case.format, case.shape,
                                                                          case.image_type))
    if not case.supported:
        if made:
            for name in _UNLISTED_FORMAT_ACCEPTED:
                env.seen(name, name in env.accept)
            image.release()
        else:
            env.seen("pocl-image-format-invalid-operation",
                     isinstance(image, CLError) and image.name == "CL_INVALID_OPERATION")
        return
    if not made:
        return
    try:
        element = image.get_info(raw.CL_IMAGE_ELEMENT_SIZE)
        extent = list(case.shape) + [1] * (3 - len(case.shape))
        pixels = int(np.prod(extent))
        initial = _random_bytes(case.seed, pixels * element)
        env.queue.enqueue_write_image(image, initial).release()
        inside = all(o + r <= e for o, r, e in zip(case.origin, case.region, extent))
        count = int(np.prod(case.region))
        data = _random_bytes(case.seed + 1, count * element)
        what = f"enqueue_write_image({what}, origin {case.origin}, region {case.region})"
        wrote, event = attempt(what, OK if inside else refused(ValueError), lambda: env.queue.enqueue_write_image(
            image, data, case.origin, case.region))
        expected = initial.reshape(extent[2], extent[1], extent[0], element)
        if wrote:
            event.release()
            (x, y, z), (w, h, d) = case.origin, case.region
            expected[z:z + d, y:y + h, x:x + w] = data.reshape(d, h, w, element)
            got = np.empty(count * element, dtype=np.uint8)
            env.queue.enqueue_read_image(image, got, case.origin, case.region).release()
            assert np.array_equal(got, data), f"{what}: the region read back differs"
        whole = np.empty(pixels * element, dtype=np.uint8)
        env.queue.enqueue_read_image(image, whole).release()
        assert np.array_equal(whole, expected.reshape(-1)), f"{what}: pixels outside the region changed"
    finally:
        env.queue.finish()
        image.release()


def _image_formats(env: _Device) -> Tuple[Dict[int, List[Tuple[int, int]]], List[Tuple[int, int]]]:
    types = [raw.CL_MEM_OBJECT_IMAGE2D, raw.CL_MEM_OBJECT_IMAGE3D]
    if env.version >= (1, 2):
        types += [raw.CL_MEM_OBJECT_IMAGE1D, raw.CL_MEM_OBJECT_IMAGE1D_ARRAY, raw.CL_MEM_OBJECT_IMAGE2D_ARRAY]
    formats, known = {}, set()
    for image_type in types:
        listed = [tuple(f) for f in env.context.get_supported_image_formats(raw.CL_MEM_READ_WRITE, image_type)]
        formats[image_type] = listed
        for flags in (raw.CL_MEM_READ_ONLY, raw.CL_MEM_WRITE_ONLY, raw.CL_MEM_READ_WRITE):
            known.update(tuple(f) for f in env.context.get_supported_image_formats(flags, image_type))
    orders = [raw.CL_R, raw.CL_A, raw.CL_RG, raw.CL_RA, raw.CL_RGB, raw.CL_RGBA, raw.CL_BGRA, raw.CL_ARGB,
              raw.CL_INTENSITY, raw.CL_LUMINANCE]
    types_ = [raw.CL_SNORM_INT8, raw.CL_SNORM_INT16, raw.CL_UNORM_INT8, raw.CL_UNORM_INT16, raw.CL_UNORM_SHORT_565,
              raw.CL_UNORM_SHORT_555, raw.CL_UNORM_INT_101010, raw.CL_SIGNED_INT8, raw.CL_SIGNED_INT16,
              raw.CL_SIGNED_INT32, raw.CL_UNSIGNED_INT8, raw.CL_UNSIGNED_INT16, raw.CL_UNSIGNED_INT32,
              raw.CL_HALF_FLOAT, raw.CL_FLOAT]
    unsupported = [(o, t) for o in orders for t in types_ if (o, t) not in known]
    return formats, unsupported


def check_images(device, max_examples: int = 30, seed: Optional[int] = None, max_extent: int = 16,
                 accept=()) -> None:
    """Images of each type and supported format: regions written and read back bit for bit,
    the other pixels unchanged; unsupported formats and regions outside are refused."""
    if not device.get_info(raw.CL_DEVICE_IMAGE_SUPPORT):
        raise NotApplicable("the device has no image support (CL_DEVICE_IMAGE_SUPPORT is false)")
    env = _Device(device, accept)
    try:
        formats, unsupported = _image_formats(env)
        if not any(formats.values()):
            raise NotApplicable("the context lists no CL_MEM_READ_WRITE image format")
        strategy = image_cases(formats, unsupported, max_extent)

        @_settings(max_examples, seed)
        @given(strategy)
        def prop(case):
            _image_case(env, case)

        prop()
    finally:
        env.release()


# --------------------------------------------------------------------------- #
# Runner
# --------------------------------------------------------------------------- #

#: Check name -> function(device, max_examples, seed).
CHECKS: Dict[str, Callable[..., None]] = {
    "buffers": check_buffer_round_trips,
    "fill_copy": check_fill_and_copy,
    "work_sizes": check_work_sizes,
    "wait_lists": check_wait_lists,
    "images": check_images,
}


class CheckResult(NamedTuple):
    name: str
    outcome: str            # "PASS", "FAIL" or "SKIP"
    seconds: float
    detail: str


def describe_failure(exc: BaseException) -> str:
    """The exception's message and notes (hypothesis's falsifying example), and those of the
    exceptions it groups (several failures, a flaky one)."""
    import traceback
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    notes = getattr(exc, "__notes__", None) or []
    if notes and sys.version_info < (3, 11):              # 3.11+ prints the notes already
        text += "\n" + "\n".join(notes)
    for inner in getattr(exc, "exceptions", ()) or ():
        text += "\n--\n" + describe_failure(inner)
    return text


def run_checks(device, names: Optional[Sequence[str]] = None, max_examples: int = 30, seed: Optional[int] = None,
               out=None, **options) -> List[CheckResult]:
    """Run the checks ``names`` (default: all of :data:`CHECKS`) on ``device``, printing one
    line each to ``out`` (default stdout; None-like ``False`` prints nothing). ``options``
    (``max_items``, ``max_size``, ``max_extent``, ``accept``) go to the checks that take them."""
    import inspect
    global _hits_sink
    out = sys.stdout if out is None else out
    results = []
    for name in names or list(CHECKS):
        function = CHECKS[name]
        accepted = inspect.signature(function).parameters
        kwargs = {k: v for k, v in options.items() if k in accepted and v is not None}
        start = time.perf_counter()
        _hits_sink = hits = {}
        try:
            function(device, max_examples=max_examples, seed=seed, **kwargs)
            outcome, detail = "PASS", ""
            if hits:
                detail = "accepted " + ", ".join(f"{key} ({n} cases)" for key, n in sorted(hits.items()))
        except NotApplicable as exc:
            outcome, detail = "SKIP", str(exc)
        except Exception as exc:  # an AssertionError or an unexpected exception: a failure either way
            outcome, detail = "FAIL", describe_failure(exc)
        finally:
            _hits_sink = None
        result = CheckResult(name, outcome, time.perf_counter() - start, detail)
        results.append(result)
        if out:
            print(f"{outcome} {name} ({result.seconds:.1f} s){': ' + detail if detail else ''}", file=out, flush=True)
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    import opencl_raw as cl
    parser = argparse.ArgumentParser(prog="python -m opencl_raw.testing",
                                     description="Property tests (hypothesis) of an OpenCL implementation.")
    parser.add_argument("--platform", help="platform index or name substring (default: OPENCL_RAW_PLATFORM, else 0)")
    parser.add_argument("--device", help="device index or name substring (default: OPENCL_RAW_DEVICE, else 0)")
    parser.add_argument("--check", action="append", choices=sorted(CHECKS),
                        help="a check to run (repeatable; default: all)")
    parser.add_argument("--examples", type=int, default=30, help="examples per property (default 30)")
    parser.add_argument("--seed", type=int, help="hypothesis seed (default: random)")
    parser.add_argument("--max-items", type=int, help="work-items per NDRange at most (work_sizes; default 4096)")
    parser.add_argument("--max-size", type=int, help="bytes per buffer at most (buffers, fill_copy)")
    parser.add_argument("--accept", action="append", choices=sorted(KNOWN_DEVIATIONS), default=[],
                        help="let a known deviation from the specification pass (repeatable)")
    parser.add_argument("--accept-known", action="store_true",
                        help="let the known deviations of the device's platform pass (listed by --list)")
    parser.add_argument("--list", action="store_true", help="list platforms, devices and checks, then exit")
    args = parser.parse_args(argv)
    if args.list:
        for p_index, platform in enumerate(cl.get_platform_ids()):
            print(f"platform {p_index}: {platform.name}")
            for d_index, device in enumerate(platform.get_device_ids()):
                print(f"  device {d_index}: {device.name} ({device.get_info(raw.CL_DEVICE_VERSION)})")
        print("checks: " + ", ".join(CHECKS))
        print("known deviations (--accept NAME):")
        for key, deviation in KNOWN_DEVIATIONS.items():
            print(f"  {key}: {deviation.description}")
        return 0
    try:
        device = cl.select_device(args.platform, args.device)
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"device: {device.name} on {device.platform.name} ({device.get_info(raw.CL_DEVICE_VERSION)})", flush=True)
    accept = sorted(set(args.accept) | (set(known_deviations(device)) if args.accept_known else set()))
    results = run_checks(device, args.check, args.examples, args.seed, max_items=args.max_items,
                         max_size=args.max_size, accept=accept)
    failed = [r.name for r in results if r.outcome == "FAIL"]
    print(f"{len(results) - len(failed)} of {len(results)} checks passed or skipped"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
