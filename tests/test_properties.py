"""Property-based tests (hypothesis) of the handle layer on the selected device (PoCL by default).

- write/read round trips of random lengths, dtypes and byte offsets, compared with numpy;
- an element-wise kernel ``out = a * x + y`` over several types, against numpy;
- invalid offsets and sizes always raise ValueError (before the driver) and change nothing.

Programs, the context, the queue and the buffers are made once per module.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import opencl_raw as cl
from opencl_raw import raw

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BUFFER_BYTES = 96 * 1024          # room for 64 KiB at any offset up to 32 KiB
SENTINEL = 0x5A
DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
          np.float32, np.float64]

AXPY_SOURCE = """
#ifdef NEEDS_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
__kernel void axpy(const TYPE a, __global const TYPE *x, __global const TYPE *y, __global TYPE *out,
                   const int n)
{
    const int i = (int)get_global_id(0);
    if (i < n)
        out[i] = a * x[i] + y[i];
}
"""
C_TYPES = {np.float32: "float", np.float64: "double", np.int32: "int", np.int16: "short", np.uint8: "uchar"}
MAX_N = 4096


@pytest.fixture(scope="module")
def cl_env(device):
    """(context, queue, buffer of BUFFER_BYTES) for the module."""
    context = cl.create_context([device])
    queue = context.create_command_queue_with_properties(device)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, BUFFER_BYTES)
    yield context, queue, buffer
    queue.finish()
    buffer.release()
    queue.release()
    context.release()


@pytest.fixture(scope="module")
def axpy(cl_env, device):
    """{numpy type: (kernel, x buffer, y buffer, out buffer)}, built once."""
    context, _, _ = cl_env
    made = {}
    for np_type, c_type in C_TYPES.items():
        if np_type is np.float64 and "cl_khr_fp64" not in device.extensions:
            continue
        options = f"-DTYPE={c_type}" + (" -DNEEDS_FP64" if np_type is np.float64 else "")
        program = context.create_program_with_source(AXPY_SOURCE).build(options)
        kernel = program.create_kernel("axpy")
        program.release()                       # the kernel keeps the program
        nbytes = MAX_N * np.dtype(np_type).itemsize
        buffers = [context.create_buffer(flags, nbytes)
                   for flags in (raw.CL_MEM_READ_ONLY, raw.CL_MEM_READ_ONLY, raw.CL_MEM_WRITE_ONLY)]
        made[np_type] = (kernel, *buffers)
    yield made
    for objects in made.values():
        for obj in objects:
            obj.release()


def _reset(queue, buffer):
    queue.enqueue_write_buffer(buffer, np.full(BUFFER_BYTES, SENTINEL, dtype=np.uint8))


def _random_array(seed: int, dtype, n: int) -> np.ndarray:
    """``n`` items of ``dtype`` from random bytes: every bit pattern (NaNs, infinities) can occur."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, n * np.dtype(dtype).itemsize, dtype=np.uint8).view(dtype)


# --------------------------------------------------------------------------- #
# round trips
# --------------------------------------------------------------------------- #

@st.composite
def transfers(draw):
    dtype = draw(st.sampled_from(DTYPES))
    itemsize = np.dtype(dtype).itemsize
    n = draw(st.integers(1, 65536 // itemsize))
    offset = draw(st.integers(0, BUFFER_BYTES - n * itemsize))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    write_blocking = draw(st.booleans())
    read_how = draw(st.sampled_from(["blocking", "non-blocking", "host=None", "map"]))
    return dtype, n, offset, seed, write_blocking, read_how


@SETTINGS
@given(transfers())
def test_write_read_round_trip(cl_env, case):
    dtype, n, offset, seed, write_blocking, read_how = case
    _, queue, buffer = cl_env
    _reset(queue, buffer)
    data = _random_array(seed, dtype, n)
    nbytes = data.nbytes
    event = queue.enqueue_write_buffer(buffer, data, blocking=write_blocking, offset=offset)
    event.wait()
    event.release()

    if read_how == "host=None":
        got = queue.enqueue_read_buffer(buffer, offset=offset)[:nbytes].view(dtype)
    elif read_how == "map":
        mapped, map_event = queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ, offset=offset, size=nbytes,
                                                     dtype=dtype)
        got = mapped.copy()
        queue.enqueue_unmap_mem_object(buffer, mapped).wait()
        map_event.release()
    else:
        got = np.empty(n, dtype=dtype)
        read = queue.enqueue_read_buffer(buffer, got, blocking=read_how == "blocking", offset=offset)
        read.wait()
        read.release()
    assert got.dtype == np.dtype(dtype) and got.shape == (n,)
    np.testing.assert_array_equal(got.view(np.uint8), data.view(np.uint8))      # bit for bit
    np.testing.assert_array_equal(got, data)                                     # and as values (NaN == NaN)

    # Only the written bytes changed.
    whole = queue.enqueue_read_buffer(buffer)
    assert (whole[:offset] == SENTINEL).all()
    assert (whole[offset + nbytes:] == SENTINEL).all()


@SETTINGS
@given(dtype=st.sampled_from(DTYPES), rows=st.integers(1, 64), cols=st.integers(1, 64), step=st.integers(2, 4),
       seed=st.integers(0, 2 ** 32 - 1))
def test_strided_sources_round_trip(cl_env, dtype, rows, cols, step, seed):
    _, queue, buffer = cl_env
    base = _random_array(seed, dtype, rows * cols * step).reshape(rows, cols * step)
    view = base[:, ::step]                                   # not contiguous: copied before the write
    queue.enqueue_write_buffer(buffer, view, offset=8)
    got = np.empty((rows, cols), dtype=dtype)
    queue.enqueue_read_buffer(buffer, got, offset=8)
    np.testing.assert_array_equal(got.view(np.uint8), np.ascontiguousarray(view).view(np.uint8))


# --------------------------------------------------------------------------- #
# element-wise kernel
# --------------------------------------------------------------------------- #

def _axpy_inputs(np_type, n: int, seed: int):
    rng = np.random.default_rng(seed)
    if np_type in (np.float32, np.float64):
        a = np_type(rng.uniform(-100, 100))
        x = rng.uniform(-1e3, 1e3, n).astype(np_type)
        y = rng.uniform(-1e5, 1e5, n).astype(np_type)
    elif np_type is np.uint8:                                 # unsigned: wraps modulo 256 in both
        a = np_type(rng.integers(0, 256))
        x = rng.integers(0, 256, n, dtype=np.uint8)
        y = rng.integers(0, 256, n, dtype=np.uint8)
    else:                                                     # signed: ranges without overflow
        info = np.iinfo(np_type)
        bound = int(np.sqrt(info.max // 2))
        a = np_type(rng.integers(-bound, bound))
        x = rng.integers(-bound, bound, n).astype(np_type)
        y = rng.integers(-(info.max // 4), info.max // 4, n).astype(np_type)
    return a, x, y


@SETTINGS
@given(type_index=st.integers(0, len(C_TYPES) - 1), n=st.integers(1, MAX_N), seed=st.integers(0, 2 ** 32 - 1),
       local=st.sampled_from([None, 1, 8, 64]))
def test_axpy_matches_numpy(cl_env, axpy, type_index, n, seed, local):
    np_type = list(C_TYPES)[type_index]
    if np_type not in axpy:
        return                                                # no fp64 on this device
    _, queue, _ = cl_env
    kernel, x_buf, y_buf, out_buf = axpy[np_type]
    a, x, y = _axpy_inputs(np_type, n, seed)
    queue.enqueue_write_buffer(x_buf, x)
    queue.enqueue_write_buffer(y_buf, y)
    kernel.set_args(a, x_buf, y_buf, out_buf, np.int32(n))
    global_size = n if local is None else -(-n // local) * local   # rounded up; the kernel checks i < n
    queue.enqueue_nd_range_kernel(kernel, global_size, local).wait()
    got = np.empty(n, dtype=np_type)
    queue.enqueue_read_buffer(out_buf, got)

    if np_type is np.float32:
        exact = float(a) * x.astype(np.float64) + y.astype(np.float64)
        scale = float(np.max(np.abs(float(a) * x.astype(np.float64)) + np.abs(y.astype(np.float64))))
        # float32: a rounding or two (with or without a fused multiply-add) per element
        np.testing.assert_allclose(got, exact, rtol=1e-6, atol=4 * np.finfo(np.float32).eps * scale)
    elif np_type is np.float64:
        exact = a * x + y
        scale = float(np.max(np.abs(a * x) + np.abs(y)))
        np.testing.assert_allclose(got, exact, rtol=1e-14, atol=4 * np.finfo(np.float64).eps * scale)
    else:
        with np.errstate(over="ignore"):
            expected = (a * x + y).astype(np_type)
        np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------- #
# invalid offsets and sizes
# --------------------------------------------------------------------------- #

@st.composite
def bad_ranges(draw):
    nbytes = draw(st.integers(1, 2 * BUFFER_BYTES))
    offset = draw(st.integers(-2 * BUFFER_BYTES, 2 * BUFFER_BYTES))
    if 0 <= offset and offset + nbytes <= BUFFER_BYTES:      # make it invalid one way or the other
        offset = draw(st.sampled_from([-offset - 1, BUFFER_BYTES - nbytes + 1 + offset]))
    return nbytes, offset


@SETTINGS
@given(case=bad_ranges(), operation=st.sampled_from(["write", "read", "read-into", "map"]))
def test_invalid_ranges_raise_value_error_and_change_nothing(cl_env, case, operation):
    nbytes, offset = case
    _, queue, buffer = cl_env
    _reset(queue, buffer)
    host = np.zeros(nbytes, dtype=np.uint8)
    with pytest.raises(ValueError):
        if operation == "write":
            queue.enqueue_write_buffer(buffer, host, offset=offset, blocking=False)
        elif operation == "read":
            queue.enqueue_read_buffer(buffer, None, offset=offset if offset < 0 else BUFFER_BYTES + offset + 1)
        elif operation == "read-into":
            queue.enqueue_read_buffer(buffer, host, offset=offset, blocking=False)
        else:
            queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ, offset=offset, size=nbytes)
    queue.finish()
    assert (queue.enqueue_read_buffer(buffer) == SENTINEL).all()    # nothing was written
    assert buffer.map_count == 0                                     # nothing was mapped


@SETTINGS
@given(host_bytes=st.integers(1, 4096), extra=st.integers(1, 4096), copy=st.booleans())
def test_buffer_larger_than_its_host_object_is_refused(cl_env, host_bytes, extra, copy):
    context, _, _ = cl_env
    before = context.reference_count
    flag = raw.CL_MEM_COPY_HOST_PTR if copy else raw.CL_MEM_USE_HOST_PTR
    with pytest.raises(ValueError, match="exceeds"):
        context.create_buffer(raw.CL_MEM_READ_WRITE | flag, host_bytes + extra, np.zeros(host_bytes, np.uint8))
    assert context.reference_count == before


@SETTINGS
@given(dtype=st.sampled_from([np.int16, np.int32, np.float32, np.float64, np.uint64]), size=st.integers(1, 4096))
def test_map_size_must_hold_whole_items(cl_env, dtype, size):
    _, queue, buffer = cl_env
    itemsize = np.dtype(dtype).itemsize
    if size % itemsize == 0:
        mapped, event = queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ, size=size, dtype=dtype)
        assert mapped.shape == (size // itemsize,)
        queue.enqueue_unmap_mem_object(buffer, mapped).wait()
        event.release()
    else:
        with pytest.raises(ValueError, match="whole number"):
            queue.enqueue_map_buffer(buffer, raw.CL_MAP_READ, size=size, dtype=dtype)
    assert buffer.map_count == 0
