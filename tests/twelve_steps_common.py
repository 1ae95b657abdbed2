"""What the three 12-step test files share: kernels, the step-11 rounds, inputs, waits and witnesses."""
from __future__ import annotations

import ctypes
import time

import numpy as np

from opencl_raw import raw

KERNEL_SOURCE = b"""
__kernel void axpb(__global const float *a, __global const float *b,
                   __global float *c, const float k)
{
    const size_t i = get_global_id(0);
    c[i] = a[i] * k + b[i];
}

__kernel void fill(__global float *c, const float value)
{
    c[get_global_id(0)] = value;
}
"""

BAD_IDENTIFIER = "undeclared_twelve_steps_identifier"
BAD_SOURCE = b"__kernel void broken(__global float *c) { c[0] = %s; }\n" % BAD_IDENTIFIER.encode()

# Step 11 repeats steps 7-10 with these (write method, read method, scalar k):
# every method is used for both writing (step 8) and reading (step 10).
ROUNDS = [
    ("map", "map", -3.0),
    ("blocking", "events", 0.25),
    ("events", "blocking", 7.0),
    ("blocking", "map", 0.0),
    ("map", "events", -1024.0),
]


def inputs(n: int, seed: int):
    """Two float32 arrays of ``n`` values in [-10, 10), the same for the same seed."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-10.0, 10.0, n).astype(np.float32)
    b = rng.uniform(-10.0, 10.0, n).astype(np.float32)
    return a, b


def expected(a, b, k):
    """a * k + b in float64, the numpy reference of the axpb kernel."""
    return a.astype(np.float64) * np.float32(k) + b.astype(np.float64)


def mapped_floats(address: int, n: int):
    """A numpy float32 view of ``n`` floats at a mapped host address."""
    return np.ctypeslib.as_array(ctypes.cast(address, ctypes.POINTER(ctypes.c_float)), shape=(n,))


def settled(read, wanted, timeout: float = 5.0):
    """``read()`` once it equals ``wanted``, or its last value after ``timeout`` seconds.

    Drivers drop the references their own threads hold on finished commands (events,
    hence their queue) a moment after the call that made them unnecessary; a real
    leak never settles.
    """
    deadline = time.monotonic() + timeout
    while (value := read()) != wanted and time.monotonic() < deadline:
        time.sleep(0.001)
    return value


#: raw clRetain*, clRelease*, clGet*Info and CL_*_REFERENCE_COUNT of each reference-counted handle type
_COUNTED = {
    raw.cl_context: (raw.clRetainContext, raw.clReleaseContext, raw.clGetContextInfo,
                     raw.CL_CONTEXT_REFERENCE_COUNT),
    raw.cl_command_queue: (raw.clRetainCommandQueue, raw.clReleaseCommandQueue, raw.clGetCommandQueueInfo,
                           raw.CL_QUEUE_REFERENCE_COUNT),
    raw.cl_mem: (raw.clRetainMemObject, raw.clReleaseMemObject, raw.clGetMemObjectInfo, raw.CL_MEM_REFERENCE_COUNT),
    raw.cl_program: (raw.clRetainProgram, raw.clReleaseProgram, raw.clGetProgramInfo, raw.CL_PROGRAM_REFERENCE_COUNT),
    raw.cl_kernel: (raw.clRetainKernel, raw.clReleaseKernel, raw.clGetKernelInfo, raw.CL_KERNEL_REFERENCE_COUNT),
    raw.cl_event: (raw.clRetainEvent, raw.clReleaseEvent, raw.clGetEventInfo, raw.CL_EVENT_REFERENCE_COUNT),
}


class Witness:
    """The test's own reference on a handle-layer object's ``cl_*`` handle, taken with the raw
    ``clRetain*`` (not through the binding).

    It keeps the handle valid once the object is released or collected, so that
    :meth:`count` can show what the binding's own ``clRelease*`` left: 1 (the witness's)
    when the binding gave its reference back exactly once.  Unlike a parent's count, this
    does not depend on whether the driver counts its children's holds.

    ``Witness(obj)``: ``obj`` is a Context, CommandQueue, MemObject, Program, Kernel or Event
    (not released); AssertionError if the raw retain fails, KeyError for another type.
    """

    def __init__(self, obj):
        self.handle = type(obj.handle)(obj.handle.value)
        retain, self._release, self._get_info, self._param = _COUNTED[type(self.handle)]
        assert retain(self.handle) == raw.CL_SUCCESS

    def count(self) -> int:
        """The handle's CL_*_REFERENCE_COUNT, read with the raw clGet*Info."""
        n = raw.cl_uint()
        assert self._get_info(self.handle, self._param, ctypes.sizeof(n), raw.byref(n), None) == raw.CL_SUCCESS
        return n.value

    def release(self) -> None:
        """Give the witness's reference back (raw clRelease*); AssertionError if the call fails."""
        assert self._release(self.handle) == raw.CL_SUCCESS
