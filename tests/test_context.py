"""Contexts (opencl_raw/context.py): creation, info, and what a context creates."""
from __future__ import annotations

import numpy as np
import pytest

import opencl_raw as cl
from opencl_raw import errors, raw

POCL = "Portable Computing Language"

HELPER_USER = """
#include "scale.h"
float helper(float x);
__kernel void apply(__global float *a) { a[get_global_id(0)] = helper(a[get_global_id(0)]) * SCALE; }
"""
HELPER_LIB = "float helper(float x) { return x + 1.0f; }\n"
HEADER = "#define SCALE 3.0f\n"


# --------------------------------------------------------------------------- #
# creation
# --------------------------------------------------------------------------- #

def test_create_context_spellings(device):
    for make in (lambda: cl.create_context([device]), lambda: cl.create_context((device,)),
                 lambda: cl.create_context(device), lambda: cl.Context([device])):
        context = make()
        assert isinstance(context, cl.Context)
        assert context.reference_count == 1
        assert context.num_devices == 1
        assert context.devices == (device,)
        assert context.get_info(raw.CL_CONTEXT_DEVICES) == (device,)
        context.release()


def test_create_context_with_properties(device):
    platform = device.platform
    expected = ((raw.CL_CONTEXT_PLATFORM, platform.handle.value),)
    for properties in ({raw.CL_CONTEXT_PLATFORM: platform}, [(raw.CL_CONTEXT_PLATFORM, platform)],
                       {raw.CL_CONTEXT_PLATFORM: platform.handle.value}):
        with cl.create_context([device], properties) as context:
            assert context.properties == expected
    with cl.create_context([device]) as context:
        assert context.properties == ()


def test_create_context_refusals(device):
    with pytest.raises(ValueError, match="at least one device"):
        cl.create_context([])
    with pytest.raises(TypeError, match="Device"):
        cl.create_context(["not a device"])
    with pytest.raises(TypeError, match="Device"):
        cl.create_context([device.platform])
    with pytest.raises(TypeError):
        cl.create_context([device], {raw.CL_CONTEXT_PLATFORM: "platform name"})
    with pytest.raises(TypeError):
        cl.create_context([device], [raw.CL_CONTEXT_PLATFORM])          # not pairs
    # A property the driver does not know is its CL_INVALID_PROPERTY (PoCL checks; Oclgrind, for one, does not).
    if POCL in device.platform.name:
        with pytest.raises(errors.InvalidProperty) as caught:
            cl.create_context([device], {0x7F7F: 1})
        assert caught.value.function == "clCreateContext"


def test_create_context_from_type(device):
    platform = device.platform
    kind = raw.CL_DEVICE_TYPE_CPU if device.type & raw.CL_DEVICE_TYPE_CPU else int(device.type)
    context = cl.create_context_from_type(kind, {raw.CL_CONTEXT_PLATFORM: platform})
    assert isinstance(context, cl.Context) and context.reference_count == 1
    assert device in context.devices
    assert list(context.devices) == platform.get_device_ids(kind)
    context.release()
    if POCL in platform.name:
        with pytest.raises(errors.DeviceNotFound):
            cl.create_context_from_type(raw.CL_DEVICE_TYPE_GPU, {raw.CL_CONTEXT_PLATFORM: platform})


# --------------------------------------------------------------------------- #
# what a context creates
# --------------------------------------------------------------------------- #

def test_creators_hold_a_context_reference(context, device):
    assert context.reference_count == 1
    queue = context.create_command_queue_with_properties()         # default: the context's first device
    assert queue.device == device and queue.context == context
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 32)
    program = context.create_program_with_source("__kernel void k(__global int *x) { x[0] = 1; }")
    if POCL in device.platform.name:
        assert context.reference_count == 4
    for obj in (queue, buffer, program):
        assert obj.context == context
        obj.release()


def test_create_command_queue_properties_forms(context, device):
    for properties, expected in ((None, 0), (0, 0), (raw.CL_QUEUE_PROFILING_ENABLE, raw.CL_QUEUE_PROFILING_ENABLE),
                                 ({raw.CL_QUEUE_PROPERTIES: raw.CL_QUEUE_PROFILING_ENABLE},
                                  raw.CL_QUEUE_PROFILING_ENABLE),
                                 ([(raw.CL_QUEUE_PROPERTIES, raw.CL_QUEUE_PROFILING_ENABLE)],
                                  raw.CL_QUEUE_PROFILING_ENABLE)):
        queue = context.create_command_queue_with_properties(device, properties)
        assert queue.properties == expected
        assert isinstance(queue.properties, cl.CommandQueueProperties)
        queue.release()
    with pytest.raises(TypeError, match="Device"):
        context.create_command_queue_with_properties("device 0")


def test_create_program_with_source_forms(context):
    one = "__kernel void one(__global int *x) { x[0] = 1; }\n"
    two = "__kernel void two(__global int *x) { x[0] = 2; }\n"
    for source, names in ((one, ["one"]), (one.encode(), ["one"]), ([one, two], ["one", "two"]),
                          ((one.encode(), two), ["one", "two"])):
        with context.create_program_with_source(source) as program:
            joined = source if isinstance(source, str) else source.decode() if isinstance(source, bytes) else \
                "".join(s if isinstance(s, str) else s.decode() for s in source)
            assert program.source == joined
            program.build()
            assert sorted(program.kernel_names.split(";")) == names
    with pytest.raises(TypeError, match="source"):
        context.create_program_with_source([one, 42])
    # Non-ASCII text goes through as UTF-8.
    with context.create_program_with_source("// é\n" + one) as program:
        assert program.source == "// é\n" + one


def test_create_program_with_binary(context, device):
    built = context.create_program_with_source("__kernel void k(__global int *x) { x[get_global_id(0)] = 5; }")
    binaries = built.build().binaries
    built.release()
    program = context.create_program_with_binary([device], binaries).build()
    assert program.kernel_names == "k"
    assert program.binaries == binaries
    # bytearray is accepted too
    with context.create_program_with_binary([device], [bytearray(binaries[0])]) as again:
        assert again.build().kernel_names == "k"
    program.release()

    with pytest.raises(ValueError, match="one binary per device"):
        context.create_program_with_binary([device], binaries * 2)
    with pytest.raises(ValueError, match="one binary per device"):
        context.create_program_with_binary([], [])
    with pytest.raises(TypeError, match="bytes"):
        context.create_program_with_binary([device], ["text"])
    with pytest.raises(TypeError, match="Device"):
        context.create_program_with_binary(["device"], binaries)
    # OpenCL 3.0 gives CL_INVALID_BINARY at either step: clCreateProgramWithBinary "if an invalid program
    # binary was encountered for any device", clBuildProgram "if program is created with
    # clCreateProgramWithBinary and devices listed in device_list do not have a valid program binary
    # loaded". PoCL 3.1 refuses the bytes at create; NVIDIA 580 takes them there.
    garbage = [b"this is not a device binary" * 4]
    try:
        accepted = context.create_program_with_binary([device], garbage)
    except errors.InvalidBinary as exc:
        assert exc.function == "clCreateProgramWithBinary"
        assert device.name in str(exc) and "CL_INVALID_BINARY" in exc.detail
    else:
        with pytest.raises(errors.InvalidBinary) as caught:
            accepted.build()
        assert caught.value.function == "clBuildProgram"
        accepted.release()
    assert context.reference_count == 1                     # nothing left behind


def test_link_several_programs_with_a_header(context, device, queue):
    header = context.create_program_with_source(HEADER)
    user = context.create_program_with_source(HELPER_USER).compile(headers={"scale.h": header})
    lib = context.create_program_with_source(HELPER_LIB).compile()
    linked = context.link_program([user, lib])
    assert isinstance(linked, cl.Program) and linked not in (user, lib)
    assert linked.get_build_info(device, raw.CL_PROGRAM_BINARY_TYPE) == raw.CL_PROGRAM_BINARY_TYPE_EXECUTABLE
    kernel = linked.create_kernel("apply")
    data = np.arange(8, dtype=np.float32)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE | raw.CL_MEM_COPY_HOST_PTR, host_buffer=data)
    kernel.set_arg(0, buffer)
    queue.enqueue_nd_range_kernel(kernel, 8)
    np.testing.assert_array_equal(queue.enqueue_read_buffer(buffer).view(np.float32), (data + 1) * 3)
    # Linking for an explicit device list, with options, works the same.
    again = context.link_program([user, lib], options="", devices=[device])
    assert again.kernel_names == "apply"
    for obj in (kernel, buffer, linked, again, user, lib, header):
        obj.release()


def test_link_failure(context, device):
    if POCL not in device.platform.name:
        pytest.skip("PoCL resolves symbols at link time; other drivers may defer it")
    header = context.create_program_with_source(HEADER)
    user = context.create_program_with_source(HELPER_USER).compile(headers={"scale.h": header})
    before = context.reference_count
    with pytest.raises(errors.LinkProgramFailure) as caught:
        context.link_program([user])                        # helper() is defined nowhere
    assert caught.value.function == "clLinkProgram"
    for key, log in caught.value.build_logs.items():        # PoCL gives no program, hence no log
        assert key == device and isinstance(key, cl.Device) and isinstance(log, str)
    with pytest.raises(errors.InvalidLinkerOptions):
        context.link_program([user], options="-no-such-linker-option")
    with pytest.raises(TypeError, match="Program"):
        context.link_program(["program"])
    assert context.reference_count == before                # a failed link leaves nothing behind
    user.release()
    header.release()


def test_compile_headers_must_be_programs(context):
    program = context.create_program_with_source(HELPER_USER)
    with pytest.raises(TypeError, match="Program"):
        program.compile(headers={"scale.h": HEADER})
    program.release()


def test_context_attributes(context, device):
    names = dir(context)
    for attribute in ("reference_count", "num_devices", "devices", "properties"):
        assert attribute in names
    assert context.get_info("CL_CONTEXT_NUM_DEVICES") == 1
    with pytest.raises(errors.InvalidValue):
        context.get_info(raw.CL_DEVICE_NAME)                # a device param asked of a context


def test_set_default_device_command_queue(context, device, queue):
    """clSetDefaultDeviceCommandQueue: a host queue is refused by the driver (PoCL has no device queues)."""
    import opencl_raw as cl
    from opencl_raw import errors
    with pytest.raises(TypeError, match="CommandQueue"):
        context.set_default_device_command_queue(device, "queue")
    with pytest.raises(TypeError, match="Device"):
        context.set_default_device_command_queue("device", queue)
    if device.version_tuple < (2, 1):
        with pytest.raises(cl.FunctionUnavailableError, match="2.1"):
            context.set_default_device_command_queue(device, queue)
        return
    with pytest.raises(errors.CLError) as info:
        context.set_default_device_command_queue(device, queue)
    assert info.value.name in ("CL_INVALID_COMMAND_QUEUE", "CL_INVALID_OPERATION")
    assert info.value.function == "clSetDefaultDeviceCommandQueue"


# --------------------------------------------------------------------------- #
# callbacks of a context (more in tests/test_callbacks.py)
# --------------------------------------------------------------------------- #

def test_context_callback_spellings(device):
    from opencl_raw import _callbacks
    baseline = _callbacks.pending()
    per_context = 2 if device.version_tuple >= (3, 0) else 1    # notify (+ the destructor that forgets it)
    contexts = [cl.create_context([device], callback=lambda errinfo, private_info: None),
                cl.create_context([device], None, print),
                cl.Context([device], callback=print),
                cl.Context([device], {raw.CL_CONTEXT_PLATFORM: device.platform}, print)]
    assert all(isinstance(c, cl.Context) and c.reference_count == 1 for c in contexts)
    assert contexts[3].properties == ((raw.CL_CONTEXT_PLATFORM, device.platform.handle.value),)
    assert _callbacks.pending() == baseline + per_context * len(contexts)
    without = cl.create_context([device])
    assert _callbacks.pending() == baseline + per_context * len(contexts)     # no callback: nothing kept
    for c in contexts + [without]:
        c.release()
    if device.version_tuple >= (3, 0):
        assert _callbacks.pending() == baseline


def test_context_destructor_callback(device):
    if device.version_tuple < (3, 0):
        pytest.skip("clSetContextDestructorCallback needs OpenCL 3.0")
    context = cl.create_context([device])
    value = context._value
    calls = []
    context.set_destructor_callback(calls.append)
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 16)
    context.release()
    assert calls == []                                          # the buffer holds the context
    buffer.release()
    assert calls == [value]                                     # once, with the destroyed context's handle value


def test_context_creates_user_events_and_svm(context, device):
    gate = context.create_user_event()
    assert isinstance(gate, cl.UserEvent) and gate.context == context
    gate.set_status(raw.CL_COMPLETE)
    gate.release()
    if device.version_tuple >= (2, 0) and device.svm_capabilities:
        with context.svm_alloc(raw.CL_MEM_READ_WRITE, 64) as svm:
            assert isinstance(svm, cl.SVMAllocation) and svm.context == context


def _devices_of_two_platforms():
    devices = [p.get_device_ids()[0] for p in cl.get_platform_ids()]
    if len(devices) < 2:
        pytest.skip("needs two platforms (e.g. PoCL and Oclgrind)")
    return devices[:2]


def test_devices_of_two_platforms_are_refused_before_the_driver():
    """The ICD loader hands clCreateContext to the first device's driver, which takes the
    other device for its own (PoCL and Oclgrind crash). Expected: ValueError, no crash."""
    with pytest.raises(ValueError, match="2 platforms"):
        cl.create_context(_devices_of_two_platforms())


def test_building_for_a_device_of_another_platform_is_invalid_device():
    """A device that is not the program's gives CL_INVALID_DEVICE (the spec's code), raised
    before the driver, which may crash on a device of another platform."""
    mine, other = _devices_of_two_platforms()
    context = cl.create_context([mine])
    program = context.create_program_with_source("__kernel void k(__global int *o) { o[0] = 1; }")
    with pytest.raises(errors.InvalidDevice, match="refused before the driver"):
        program.build(devices=[other])
    if mine.version_tuple >= (1, 2):
        with pytest.raises(errors.InvalidDevice, match=r"devices\[0\]"):
            program.compile(devices=[other])
    program.build(devices=[mine])
    assert program.kernel_names == "k"
    program.release()
    context.release()
