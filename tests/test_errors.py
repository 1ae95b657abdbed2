"""opencl_raw.errors: one exception class per error code, unknown codes, pickling, build logs."""
from __future__ import annotations

import copy
import pickle
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from opencl_raw import errors  # noqa: E402
from opencl_raw._generated import ERROR_CODES  # noqa: E402
from opencl_raw.errors import CLError  # noqa: E402


def camel(cl_name: str) -> str:
    # CL_INVALID_VALUE -> InvalidValue; CL_INVALID_COMMAND_BUFFER_KHR -> InvalidCommandBufferKhr
    return "".join(w[:1].upper() + w[1:].lower() for w in cl_name[len("CL_"):].split("_"))


def test_error_table_covers_the_core_codes():
    assert len(ERROR_CODES) >= 60
    for code in list(range(-1, -20, -1)) + list(range(-30, -73, -1)):
        assert code in ERROR_CODES, code


@pytest.mark.parametrize("code", sorted(ERROR_CODES, reverse=True))
def test_from_code_gives_the_subclass_for_every_code(code):
    names = ERROR_CODES[code]
    exc = CLError.from_code(code, "clSomething")
    cls = type(exc)
    assert cls is not CLError and issubclass(cls, CLError) and issubclass(cls, Exception)
    assert cls.__name__ == camel(names[0])
    assert cls.code == code
    assert (exc.code, exc.name, exc.function) == (code, names[0], "clSomething")
    # The same class through the constructor, class_for and the module attribute(s).
    assert type(CLError(code)) is cls and CLError.class_for(code) is cls
    for name in names:
        assert getattr(errors, camel(name)) is cls
    assert errors.error_name(code) == names[0]
    text = str(exc)
    assert "clSomething" in text and names[0] in text and str(code) in text


def test_well_known_class_names():
    assert type(CLError.from_code(-30)) is errors.InvalidValue
    assert type(CLError.from_code(-11)) is errors.BuildProgramFailure
    assert type(CLError.from_code(-61)) is errors.InvalidBufferSize
    assert type(CLError.from_code(-5)) is errors.OutOfResources
    assert type(CLError.from_code(-1138)) is errors.InvalidCommandBufferKhr
    assert errors.InvalidValue.__name__ == "InvalidValue"
    assert "InvalidValue" in errors.__all__ and "BuildProgramFailure" in errors.__all__


def test_attributes_and_str():
    exc = CLError(-30, "clGetDeviceInfo")
    assert isinstance(exc, errors.InvalidValue)
    assert exc.code == -30 and exc.name == "CL_INVALID_VALUE" and exc.function == "clGetDeviceInfo"
    assert exc.detail is None and exc.build_logs == {}
    assert str(exc) == "clGetDeviceInfo: CL_INVALID_VALUE (-30)"
    assert str(CLError(-30)) == "CL_INVALID_VALUE (-30)"
    assert str(CLError(-30, "f", "param_name 0xFFFF")) == "f: CL_INVALID_VALUE (-30): param_name 0xFFFF"


def test_subclass_constructed_directly_keeps_its_code():
    exc = errors.InvalidValue()
    assert exc.code == -30 and exc.name == "CL_INVALID_VALUE"
    exc = errors.BuildProgramFailure(function="clBuildProgram")
    assert exc.code == -11 and str(exc) == "clBuildProgram: CL_BUILD_PROGRAM_FAILURE (-11)"


def test_except_clauses_are_precise():
    with pytest.raises(errors.InvalidValue):
        raise CLError(-30, "f")
    with pytest.raises(CLError):
        raise CLError(-61, "clCreateBuffer")
    try:
        raise CLError(-61, "clCreateBuffer")
    except errors.InvalidValue:
        pytest.fail("InvalidBufferSize caught as InvalidValue")
    except errors.InvalidBufferSize as exc:
        assert exc.function == "clCreateBuffer"


@pytest.mark.parametrize("code", [-9999, -1234, -73, -6000, 1, 42, -(2 ** 31)])
def test_unknown_and_vendor_codes_give_a_plain_clerror(code):
    exc = CLError.from_code(code, "clVendorThing")
    assert type(exc) is CLError and CLError.class_for(code) is CLError
    assert exc.code == code and exc.function == "clVendorThing"
    assert str(code) in exc.name and exc.name == f"CL_UNKNOWN_ERROR({code})"
    assert str(code) in str(exc) and "clVendorThing" in str(exc)
    assert str(code) in repr(exc)


def test_success_name():
    assert errors.error_name(0) == "CL_SUCCESS"


@settings(max_examples=300, deadline=None)
@given(code=st.integers(min_value=-(2 ** 63), max_value=2 ** 63), function=st.none() | st.text(max_size=20),
       detail=st.none() | st.text(max_size=20))
def test_any_int_code_never_fails(code, function, detail):
    exc = CLError.from_code(code, function, detail)
    assert exc.code == code
    text, name, r = str(exc), exc.name, repr(exc)
    assert isinstance(text, str) and isinstance(r, str)
    if code not in ERROR_CODES and code != 0:
        assert str(code) in name and str(code) in text
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is type(exc) and again.code == code and again.function == function


@pytest.mark.parametrize("code", [-30, -11, -1138, -9999])
@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_pickle_round_trip(code, protocol):
    exc = CLError(code, "clBuildProgram", "some detail", build_logs={0x1234: "line 1: error: boom\n"})
    again = pickle.loads(pickle.dumps(exc, protocol))
    assert type(again) is type(exc)
    assert (again.code, again.name, again.function, again.detail, again.build_logs) == \
        (exc.code, exc.name, exc.function, exc.detail, exc.build_logs)
    assert str(again) == str(exc)
    assert type(copy.deepcopy(exc)) is type(exc) and copy.copy(exc).code == code


def test_build_logs_are_shown_in_str():
    logs = {0xAB: "<source>:1:43: error: use of undeclared identifier 'nope'\n", 0xCD: "second device log"}
    exc = CLError(-11, "clBuildProgram", build_logs=logs)
    text = str(exc)
    assert text.startswith("clBuildProgram: CL_BUILD_PROGRAM_FAILURE (-11)")
    assert "use of undeclared identifier 'nope'" in text and "second device log" in text
    assert str(0xAB) in text and str(0xCD) in text
    assert exc.build_logs == logs and exc.build_logs is not logs


def test_other_exceptions():
    assert issubclass(errors.LibraryNotFoundError, OSError)
    assert issubclass(errors.ReleasedHandleError, ValueError)
    assert issubclass(errors.OpenCLRawWarning, RuntimeWarning)
    exc = errors.FunctionUnavailableError("clCreateCommandBufferKHR", "cl_khr_command_buffer", "not exported")
    assert isinstance(exc, RuntimeError)
    assert exc.function == "clCreateCommandBufferKHR" and exc.requirement == "cl_khr_command_buffer"
    assert "clCreateCommandBufferKHR" in str(exc) and "cl_khr_command_buffer" in str(exc) and "not exported" in str(exc)


def test_other_exceptions_pickle():
    exc = errors.FunctionUnavailableError("clCreateCommandBufferKHR", "cl_khr_command_buffer", "not exported")
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is errors.FunctionUnavailableError
    assert (again.function, again.requirement, str(again)) == (exc.function, exc.requirement, str(exc))
    lnf = pickle.loads(pickle.dumps(errors.LibraryNotFoundError("tried: x")))
    assert type(lnf) is errors.LibraryNotFoundError and str(lnf) == "tried: x"
