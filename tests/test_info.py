"""The info param table (opencl_raw/_info_table.py) and its decoders (opencl_raw/_info.py).

1. Coverage: every ``#define CL_...`` the headers list under an info-group comment
   (``/* cl_device_info */``, ``/* cl_semaphore_info_khr */``, ...) has a row in the
   matching group of INFO, or is in LEFT_OUT with a reason.
2. Every row's C type decodes (``kind_of``), with the C size of raw's type.
3. Cross-check with the Khronos C++ bindings (/usr/include/CL/opencl.hpp, Debian's
   opencl-clhpp-headers): the C++ param traits name the same type as the table,
   except where HPP_DIFFERENCES says why not.
4. Real queries on PoCL return the declared Python type; size mismatches, params
   the table does not know and enum values an enum does not know.
5. Info attributes of the handle classes.
"""
from __future__ import annotations

import ctypes
import enum
import importlib
import inspect
import pathlib
import re
import sys
import warnings
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from opencl_raw import _info, checked, errors, raw
from opencl_raw._info_table import FUNCTION_OF_GROUP, INFO, LEFT_OUT
from opencl_raw.errors import CLError, InvalidValue

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEADERS = ROOT / "headers" / "CL"
HEADER_FILES = ("cl.h", "cl_ext.h", "cl_gl.h", "cl_egl.h")
OPENCL_HPP = pathlib.Path("/usr/include/CL/opencl.hpp")

#: the groups the issue asks for, and the clGet*Info function of each
CORE_GROUPS = {
    "Platform": "clGetPlatformInfo", "Device": "clGetDeviceInfo", "Context": "clGetContextInfo",
    "CommandQueue": "clGetCommandQueueInfo", "MemObject": "clGetMemObjectInfo", "Image": "clGetImageInfo",
    "Pipe": "clGetPipeInfo", "Sampler": "clGetSamplerInfo", "Program": "clGetProgramInfo",
    "ProgramBuild": "clGetProgramBuildInfo", "Kernel": "clGetKernelInfo",
    "KernelWorkGroup": "clGetKernelWorkGroupInfo", "KernelArg": "clGetKernelArgInfo",
    "KernelSubGroup": "clGetKernelSubGroupInfo", "Event": "clGetEventInfo",
    "EventProfiling": "clGetEventProfilingInfo",
}

#: groups whose query needs a second object (a device, an argument index): never attributes
SECOND_OBJECT_GROUPS = ("ProgramBuild", "KernelWorkGroup", "KernelArg", "KernelSubGroup", "EventProfiling")


# --------------------------------------------------------------------------- #
# 1. Coverage of the headers
# --------------------------------------------------------------------------- #

#: the info enum a header comment names -> INFO group (None: not a query; its names must be in LEFT_OUT)
GROUP_OF_ENUM = {
    "cl_platform_info": "Platform", "cl_device_info": "Device", "cl_context_info": "Context",
    "cl_command_queue_info": "CommandQueue", "cl_mem_info": "MemObject", "cl_image_info": "Image",
    "cl_pipe_info": "Pipe", "cl_sampler_info": "Sampler", "cl_program_info": "Program",
    "cl_program_build_info": "ProgramBuild", "cl_kernel_info": "Kernel",
    "cl_kernel_work_group_info": "KernelWorkGroup", "cl_kernel_arg_info": "KernelArg",
    "cl_kernel_sub_group_info": "KernelSubGroup", "cl_event_info": "Event", "cl_profiling_info": "EventProfiling",
    "cl_command_buffer_info_khr": "CommandBufferKHR", "cl_mutable_command_info_khr": "MutableCommandKHR",
    "cl_semaphore_info_khr": "SemaphoreKHR", "cl_accelerator_info_intel": "AcceleratorINTEL",
    "cl_mem_alloc_info_intel": "MemAllocINTEL", "cl_image_requirements_info_ext": "ImageRequirementsEXT",
    "cl_image_pitch_info_qcom": "DeviceImageQCOM",
    "cl_gl_texture_info": "GLTexture", "cl_gl_context_info": "GLContextKHR",
    "cl_kernel_exec_info": None,   # clSetKernelExecInfo: set, never queried
}

#: a comment that is only an info enum name: "cl_device_info", "cl_device_info - ...",
#: "cl_semaphore_info_khr or cl_semaphore_properties_khr"
INFO_COMMENT = re.compile(r"^(cl_\w*info\w*)(?:\s+(?:-|or)\s.*)?$")
#: prose comments of cl_ext.h that name the query of the defines below them
PROSE_COMMENTS = (
    (re.compile(r"^(?:Used by|New property to) clGetDeviceInfo\b"), "Device"),
    (re.compile(r"^(?:Used by|New property to) clGetMemObjectInfo\b"), "MemObject"),
    (re.compile(r"^New property to clGetProgramInfo\b"), "Program"),
    (re.compile(r"^clDeviceGetInfo selectors$"), "Device"),
    (re.compile(r"^Device info property\b"), "Device"),
)

#: info params the headers define under no comment that names their query (read from the
#: extension specifications); each must still have its row
PARAMS_WITHOUT_GROUP_COMMENT = {
    "Device": (
        "CL_DEVICE_DOUBLE_FP_CONFIG", "CL_DEVICE_HALF_FP_CONFIG", "CL_DEVICE_IMAGE_PITCH_ALIGNMENT_KHR",
        "CL_DEVICE_IMAGE_BASE_ADDRESS_ALIGNMENT_KHR", "CL_DEVICE_TERMINATE_CAPABILITY_KHR",
        "CL_DEVICE_SPIR_VERSIONS",
        "CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV", "CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV",
        "CL_DEVICE_REGISTERS_PER_BLOCK_NV", "CL_DEVICE_WARP_SIZE_NV", "CL_DEVICE_GPU_OVERLAP_NV",
        "CL_DEVICE_KERNEL_EXEC_TIMEOUT_NV", "CL_DEVICE_INTEGRATED_MEMORY_NV",
        "CL_DEVICE_PROFILING_TIMER_OFFSET_AMD", "CL_DEVICE_TOPOLOGY_AMD", "CL_DEVICE_BOARD_NAME_AMD",
        "CL_DEVICE_GLOBAL_FREE_MEMORY_AMD", "CL_DEVICE_SIMD_PER_COMPUTE_UNIT_AMD", "CL_DEVICE_SIMD_WIDTH_AMD",
        "CL_DEVICE_SIMD_INSTRUCTION_WIDTH_AMD", "CL_DEVICE_WAVEFRONT_WIDTH_AMD",
        "CL_DEVICE_GLOBAL_MEM_CHANNELS_AMD", "CL_DEVICE_GLOBAL_MEM_CHANNEL_BANKS_AMD",
        "CL_DEVICE_GLOBAL_MEM_CHANNEL_BANK_WIDTH_AMD", "CL_DEVICE_LOCAL_MEM_SIZE_PER_COMPUTE_UNIT_AMD",
        "CL_DEVICE_LOCAL_MEM_BANKS_AMD", "CL_DEVICE_THREAD_TRACE_SUPPORTED_AMD", "CL_DEVICE_GFXIP_MAJOR_AMD",
        "CL_DEVICE_GFXIP_MINOR_AMD", "CL_DEVICE_AVAILABLE_ASYNC_QUEUES_AMD",
        "CL_DEVICE_PREFERRED_WORK_GROUP_SIZE_AMD", "CL_DEVICE_MAX_WORK_GROUP_SIZE_AMD",
        "CL_DEVICE_PREFERRED_CONSTANT_BUFFER_SIZE_AMD", "CL_DEVICE_PCIE_ID_AMD",
        "CL_DEVICE_CXX_FOR_OPENCL_NUMERIC_VERSION_EXT",
        "CL_DEVICE_EXT_MEM_PADDING_IN_BYTES_QCOM", "CL_DEVICE_PAGE_SIZE_QCOM",
        "CL_DEVICE_UUID_KHR", "CL_DRIVER_UUID_KHR", "CL_DEVICE_LUID_VALID_KHR", "CL_DEVICE_LUID_KHR",
        "CL_DEVICE_NODE_MASK_KHR",
        "CL_DEVICE_SIMULTANEOUS_INTEROPS_INTEL", "CL_DEVICE_NUM_SIMULTANEOUS_INTEROPS_INTEL",
        "CL_DEVICE_SUB_GROUP_SIZES_INTEL", "CL_DEVICE_PLANAR_YUV_MAX_WIDTH_INTEL",
        "CL_DEVICE_PLANAR_YUV_MAX_HEIGHT_INTEL", "CL_DEVICE_AVC_ME_VERSION_INTEL",
        "CL_DEVICE_AVC_ME_SUPPORTS_TEXTURE_SAMPLER_USE_INTEL", "CL_DEVICE_AVC_ME_SUPPORTS_PREEMPTION_INTEL",
    ),
    "CommandQueue": ("CL_QUEUE_FAMILY_INTEL", "CL_QUEUE_INDEX_INTEL"),   # under /* cl_queue_properties */
    "Sampler": ("CL_SAMPLER_MIP_FILTER_MODE_KHR", "CL_SAMPLER_LOD_MIN_KHR", "CL_SAMPLER_LOD_MAX_KHR"),
    "KernelWorkGroup": ("CL_KERNEL_SPILL_MEM_SIZE_INTEL",),
    "KernelSubGroup": ("CL_KERNEL_COMPILE_SUB_GROUP_SIZE_INTEL",),
    "SemaphoreKHR": ("CL_SEMAPHORE_EXPORT_HANDLE_TYPES_KHR",),           # under /* cl_semaphore_properties_khr */
    "MemAllocINTEL": ("CL_MEM_ALLOC_FLAGS_INTEL",),                        # under /* cl_mem_properties_intel */
    "ImageRequirementsEXT": (
        "CL_IMAGE_REQUIREMENTS_ROW_PITCH_ALIGNMENT_EXT", "CL_IMAGE_REQUIREMENTS_BASE_ADDRESS_ALIGNMENT_EXT",
        "CL_IMAGE_REQUIREMENTS_SIZE_EXT", "CL_IMAGE_REQUIREMENTS_MAX_WIDTH_EXT",
        "CL_IMAGE_REQUIREMENTS_MAX_HEIGHT_EXT", "CL_IMAGE_REQUIREMENTS_MAX_DEPTH_EXT",
        "CL_IMAGE_REQUIREMENTS_MAX_ARRAY_SIZE_EXT", "CL_IMAGE_REQUIREMENTS_SLICE_PITCH_ALIGNMENT_EXT",
    ),
    "DeviceImageQCOM": ("CL_IMAGE_ROW_ALIGNMENT_QCOM", "CL_IMAGE_SLICE_ALIGNMENT_QCOM"),
}


def _comments_and_lines(text: str) -> Iterator[Tuple[str, Optional[str], bool]]:
    """(kind, payload, after_blank) per logical line: ("comment", text), ("define", name),
    ("blank", None) or ("other", None); a comment spanning lines comes as one."""
    lines = text.splitlines()
    after_blank = True
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("/*"):
            body = [line]
            while "*/" not in lines[i] and i + 1 < len(lines):
                i += 1
                body.append(lines[i].strip().lstrip("*").strip())
            joined = " ".join(body)
            inner = joined[2:joined.find("*/")] if "*/" in joined else joined[2:]
            yield "comment", re.sub(r"\s+", " ", inner.strip(" *")), after_blank
            after_blank = False
        elif not line:
            yield "blank", None, after_blank
            after_blank = True
        else:
            define = re.match(r"#define\s+(CL_\w+)\b", line)
            yield ("define", define.group(1), after_blank) if define else ("other", None, after_blank)
            after_blank = False
        i += 1


def header_params(text: str) -> List[Tuple[str, Optional[str], str]]:
    """(comment naming the query, INFO group or None, CL name) for every define that sits
    under an info-group comment, until the next comment after a blank line.

    ``/* enum CL_X */`` inside such a section counts as a define of CL_X (cl_ext.h names
    params defined elsewhere that way).
    """
    found = []
    section: Optional[Tuple[str, Optional[str]]] = None
    for kind, payload, after_blank in _comments_and_lines(text):
        if kind == "comment":
            info = INFO_COMMENT.match(payload)
            prose = next((group for pattern, group in PROSE_COMMENTS if pattern.search(payload)), None)
            reference = re.fullmatch(r"enum (CL_\w+)", payload)
            if info:
                section = (info.group(1), GROUP_OF_ENUM.get(info.group(1), "?"))
            elif prose:
                section = (payload, prose)
            elif reference and section:
                found.append((section[0], section[1], reference.group(1)))
            elif after_blank:
                section = None
        elif kind == "define" and section:
            found.append((section[0], section[1], payload))
    return found


@pytest.fixture(scope="module")
def params_of_headers() -> List[Tuple[str, str, Optional[str], str]]:
    """(header, comment, group, CL name) for every info param the headers list under a comment."""
    out = []
    for header in HEADER_FILES:
        for comment, group, name in header_params((HEADERS / header).read_text(encoding="utf-8")):
            out.append((header, comment, group, name))
    return out


def test_parser_reads_the_sections_it_should(params_of_headers):
    by_name = {name: (comment, group) for _, comment, group, name in params_of_headers}
    # cl.h, one per group, including the ones inside #ifdef blocks and after a blank line
    assert by_name["CL_DEVICE_TYPE"] == ("cl_device_info", "Device")
    assert by_name["CL_DEVICE_LATEST_CONFORMANCE_VERSION_PASSED"][1] == "Device"
    assert by_name["CL_PIPE_PROPERTIES"][1] == "Pipe"
    assert by_name["CL_KERNEL_ARG_NAME"][1] == "KernelArg"
    assert by_name["CL_PROFILING_COMMAND_COMPLETE"][1] == "EventProfiling"
    # a section ends at the next comment after a blank line: bitfield values are not params
    assert "CL_DEVICE_TYPE_GPU" not in by_name and "CL_FP_DENORM" not in by_name
    assert "CL_QUEUE_PROFILING_ENABLE" not in by_name and "CL_CONTEXT_PLATFORM" not in by_name
    # cl_ext.h forms: "_khr"/"_intel" enums, "x or y", "enum CL_X" references, prose
    assert by_name["CL_COMMAND_BUFFER_STATE_KHR"][1] == "CommandBufferKHR"
    assert by_name["CL_SEMAPHORE_TYPE_KHR"][1] == "SemaphoreKHR"
    assert by_name["CL_MEM_ALLOC_BUFFER_LOCATION_INTEL"][1] == "MemAllocINTEL"
    assert by_name["CL_DEVICE_IL_VERSION_KHR"][1] == "Device"
    assert by_name["CL_PROGRAM_IL_KHR"][1] == "Program"
    assert by_name["CL_MEM_USES_SVM_POINTER_ARM"][1] == "MemObject"
    assert by_name["CL_DEVICE_PARTITION_STYLE_EXT"][1] == "Device"
    assert by_name["CL_GL_NUM_SAMPLES"][1] == "GLTexture"
    assert by_name["CL_DEVICES_FOR_GL_CONTEXT_KHR"][1] == "GLContextKHR"
    assert len(params_of_headers) > 300


def test_every_header_param_has_a_row_or_a_reason(params_of_headers):
    unknown_enum = sorted({(header, comment) for header, comment, group, _ in params_of_headers if group == "?"})
    assert not unknown_enum, f"info enums this test cannot map to a group: {unknown_enum}"
    missing = []
    for header, comment, group, name in params_of_headers:
        if group is not None and name in INFO[group]:
            continue
        if name in LEFT_OUT:
            continue
        missing.append(f"{name} ({header}, /* {comment} */ -> {group})")
    assert not missing, "no row in INFO and not in LEFT_OUT:\n  " + "\n  ".join(missing)


def test_params_without_a_group_comment_have_their_rows():
    text = "\n".join((HEADERS / h).read_text(encoding="utf-8") for h in HEADER_FILES)
    missing = []
    for group, names in PARAMS_WITHOUT_GROUP_COMMENT.items():
        for name in names:
            assert re.search(rf"#define\s+{name}\b", text), f"{name} is not defined in {HEADER_FILES}"
            if name not in INFO[group]:
                missing.append(f"{group}: {name}")
    assert not missing, "\n".join(missing)


def test_groups_and_functions():
    for group, function in CORE_GROUPS.items():
        assert INFO.get(group), f"INFO has no rows for {group}"
        assert FUNCTION_OF_GROUP[group] == function
    assert set(FUNCTION_OF_GROUP) == set(INFO)
    for group, function in FUNCTION_OF_GROUP.items():
        assert function in raw.FUNCTIONS, f"{group}: {function} is not a function of the headers"
        proto = raw.FUNCTIONS[function]
        assert "param_name" in [p[0] for p in proto.params], f"{function} takes no param_name"


def test_rows_and_left_out_name_header_constants():
    for group, rows in INFO.items():
        values = {}
        for name in rows:
            assert isinstance(getattr(raw, name, None), int), f"{group}: {name} is not a constant of raw"
            assert raw.CONSTANT_HEADERS.get(name) in HEADER_FILES, name
            values.setdefault(getattr(raw, name), []).append(name)
        # names sharing one value in a group are aliases with the same decoding (an extension
        # name and its core twin, or the deprecated CL_DEVICE_QUEUE_PROPERTIES)
        for value, names in values.items():
            kinds = {_kind_signature(_info.kind_of(rows[n], n)) for n in names}
            assert len(kinds) == 1, f"{group}: {names} share {value:#x} but decode differently"
    for name, reason in LEFT_OUT.items():
        assert isinstance(getattr(raw, name, None), int), f"LEFT_OUT: {name} is not a constant of raw"
        assert isinstance(reason, str) and len(reason) > 15, f"LEFT_OUT: {name} needs a reason"
        assert not any(name in rows for rows in INFO.values()), f"{name} is both a row and LEFT_OUT"


def _kind_signature(kind):
    return type(kind).__name__, kind.size, getattr(kind, "ctype", None) and ctypes.sizeof(kind.ctype)


# --------------------------------------------------------------------------- #
# 2. Decoders for every C type of the table
# --------------------------------------------------------------------------- #

def _c_size(c_type: str) -> int:
    if c_type == "size_t":
        return ctypes.sizeof(ctypes.c_size_t)
    if c_type == "void *":
        return ctypes.sizeof(ctypes.c_void_p)
    return ctypes.sizeof(getattr(raw, c_type))


@pytest.mark.parametrize("group,param,c_type", [(g, p, c) for g, rows in INFO.items() for p, c in rows.items()])
def test_kind_of_decodes_every_row(group, param, c_type):
    kind = _info.kind_of(c_type, param)
    array = re.fullmatch(r"(\w[\w ]*?)(?: \*)?\[(\d*)\](?: properties)?", c_type)
    if isinstance(kind, (_info.Scalar, _info.Struct)):
        assert kind.size == _c_size(c_type), f"{param}: {c_type} decodes as {kind.size} bytes"
    elif isinstance(kind, _info.Handle) and not isinstance(kind, _info.HandleArray):
        assert kind.size == ctypes.sizeof(ctypes.c_void_p)
        assert issubclass(getattr(raw, c_type), raw._Handle)
    elif array and array.group(2):
        assert kind.size == int(array.group(2)) * _c_size(array.group(1)), param
    else:
        assert kind.size is None, f"{param}: {c_type} is variable-sized"
    if isinstance(kind, _info.Array):   # element type of T[] and T[] properties
        assert ctypes.sizeof(kind.ctype) == _c_size(array.group(1)), param
    assert kind.c_type == c_type or kind.c_type.rstrip("[]") in c_type, (kind.c_type, c_type)


def test_cl_name_version_khr_decodes_like_cl_name_version():
    assert ctypes.sizeof(raw.cl_name_version_khr) == ctypes.sizeof(raw.cl_name_version)
    assert _info.kind_of("cl_name_version_khr[]") is _info.kind_of("cl_name_version[]")


# --------------------------------------------------------------------------- #
# 3. Cross-check with the Khronos C++ bindings
# --------------------------------------------------------------------------- #

#: the C++ info enum of a param trait -> INFO group (None: not queried, the names must be in LEFT_OUT)
GROUP_OF_HPP_TOKEN = dict(GROUP_OF_ENUM)
#: C++ tokens that are not info queries at all (newer opencl.hpp: payload types of handle types)
HPP_NOT_QUERIES = {"cl_external_semaphore_handle_type_khr", "cl_external_memory_handle_type_khr"}

#: C++ wrapper classes -> the C handle they hold
HPP_WRAPPERS = {
    "Platform": "cl_platform_id", "Device": "cl_device_id", "Context": "cl_context",
    "CommandQueue": "cl_command_queue", "DeviceCommandQueue": "cl_command_queue", "Memory": "cl_mem",
    "Buffer": "cl_mem", "Image": "cl_mem", "Pipe": "cl_mem", "Program": "cl_program", "Kernel": "cl_kernel",
    "Event": "cl_event", "Sampler": "cl_sampler", "CommandBufferKhr": "cl_command_buffer_khr",
    "ExternalMemoryType": "cl_external_memory_handle_type_khr",
}

#: params whose C++ trait differs from the table on purpose: {param: spec reference / reason}
HPP_DIFFERENCES = {
    "CL_DEVICE_SCHEDULING_CONTROLS_CAPABILITIES_ARM": (
        "opencl.hpp says cl_bitfield; the cl_arm_scheduling_controls specification's device query "
        "table gives cl_device_scheduling_controls_capabilities_arm, which cl_ext.h declares as "
        "typedef cl_bitfield: the same 8 bytes, the table keeps the spec's name (and its flag enum)"),
    "CL_DEVICE_COMMAND_BUFFER_REQUIRED_QUEUE_PROPERTIES_KHR": (
        "opencl.hpp releases before mid-2024 (the one on the NVIDIA H200 machine) say "
        "cl_command_buffer_properties_khr; the query returns command-queue properties "
        "(cl_khr_command_buffer's device query table: cl_command_queue_properties), as later releases say"),
}


def _hpp_traits(text: str) -> List[Tuple[str, str, str]]:
    """(info enum, CL name, C++ type) of every param trait: the F(...) lines inside the
    CL_HPP_PARAM_NAME_* macros (core, versioned, deprecated and extension ones) and the
    stand-alone CL_HPP_DECLARE_PARAM_TRAITS_(...) lines."""
    traits = []
    in_macro = False
    pattern = re.compile(r"\b(F|CL_HPP_DECLARE_PARAM_TRAITS_)\(\s*(cl_\w+)\s*,\s*(CL_\w+)\s*,\s*(.+?)\s*\)\s*;?\s*$")
    for raw_line in text.splitlines():
        line = raw_line.rstrip()
        continued = line.endswith("\\")
        body = line[:-1].rstrip() if continued else line
        if body.startswith("#define CL_HPP_PARAM_NAME_"):
            in_macro = continued
            continue
        m = pattern.search(body)
        if m and (m.group(1) == "CL_HPP_DECLARE_PARAM_TRAITS_" and not body.startswith("#define")
                  or m.group(1) == "F" and in_macro):
            traits.append((m.group(2), m.group(3), m.group(4)))
        if in_macro and not continued:
            in_macro = False
    return traits


def _hpp_aliases(text: str) -> Dict[str, str]:
    """``using uuid_array = array<cl_uchar, CL_UUID_SIZE_KHR>;`` -> {"uuid_array": "cl_uchar[16]"}."""
    aliases = {}
    for name, element, count in re.findall(r"using\s+(\w+)\s*=\s*(?:cl::)?array<\s*(\w+)\s*,\s*(\w+)\s*>\s*;", text):
        aliases[name] = f"{cpp_to_c(element, {})}[{getattr(raw, count) if count.startswith('CL_') else int(count)}]"
    return aliases


def cpp_to_c(cpp: str, aliases: Dict[str, str]) -> str:
    """The table's C notation for a C++ param type of opencl.hpp."""
    t = re.sub(r"\s+", " ", cpp.strip())
    if t in ("cl::detail::size_t_array", "detail::size_t_array", "size_t_array"):
        return "size_t[]"     # array<size_type, 3>: CL_KERNEL_COMPILE_WORK_GROUP_SIZE and the like
    if t in aliases:
        return aliases[t]
    vector = re.fullmatch(r"(?:cl::)?vector<(.+)>", t)
    if vector:
        inner = vector.group(1).strip()
        if re.fullmatch(r"(?:cl::)?vector<\s*unsigned char\s*>", inner):
            return "unsigned char *[]"          # CL_PROGRAM_BINARIES: one buffer per device
        return cpp_to_c(inner, aliases) + "[]"
    array = re.fullmatch(r"(?:cl::)?array<\s*(\w+)\s*,\s*(\w+)\s*>", t) or re.fullmatch(r"(\w+)\s*\[(\w+)\]", t)
    if array:
        count = array.group(2)
        return f"{array.group(1)}[{getattr(raw, count) if count.startswith('CL_') else int(count)}]"
    if t == "string":
        return "char[]"
    if t == "size_type":
        return "size_t"
    if t in ("void*", "void *"):
        return "void *"
    wrapper = t[4:] if t.startswith("cl::") else t
    if wrapper in HPP_WRAPPERS:
        return HPP_WRAPPERS[wrapper]
    return t


def _ours(c_type: str) -> str:
    """The table's type as an array/scalar C type: ``T[] properties`` is a (zero-terminated) T[]."""
    return c_type[:-len(" properties")] if c_type.endswith(" properties") else c_type


@pytest.fixture(scope="module")
def hpp_text() -> str:
    if not OPENCL_HPP.exists():
        pytest.skip(f"{OPENCL_HPP} is missing (Debian: apt-get install opencl-clhpp-headers)")
    return OPENCL_HPP.read_text(encoding="utf-8", errors="replace")


def test_hpp_parser_finds_the_traits(hpp_text):
    traits = _hpp_traits(hpp_text)
    names = {name for _, name, _ in traits}
    for expected in ("CL_DEVICE_TYPE", "CL_PLATFORM_NUMERIC_VERSION",  # 1.0 and 3.0 macros
                     "CL_DEVICE_QUEUE_PROPERTIES",  # the deprecated-in-2.0 macro
                     "CL_KERNEL_MAX_SUB_GROUP_SIZE_FOR_NDRANGE_KHR", "CL_DEVICE_PARENT_DEVICE_EXT",  # extensions
                     "CL_DEVICE_UUID_KHR", "CL_DEVICE_BOARD_NAME_AMD"):  # stand-alone traits
        assert expected in names, expected
    assert len(traits) > 150
    aliases = _hpp_aliases(hpp_text)
    assert cpp_to_c("uuid_array", aliases) == "cl_uchar[16]" and cpp_to_c("luid_array", aliases) == "cl_uchar[8]"
    assert cpp_to_c("cl::vector<cl::vector<unsigned char>>", aliases) == "unsigned char *[]"
    assert cpp_to_c("cl::vector<unsigned char>", aliases) == "unsigned char[]"
    assert cpp_to_c("cl::vector<Device>", aliases) == "cl_device_id[]"
    assert cpp_to_c("cl::Platform", aliases) == "cl_platform_id"
    assert cpp_to_c("cl::vector<size_type>", aliases) == cpp_to_c("cl::detail::size_t_array", aliases) == "size_t[]"
    assert cpp_to_c("cl::vector<cl_context_properties>", aliases) == _ours("cl_context_properties[] properties")
    assert cpp_to_c("array<cl_uchar, CL_UUID_SIZE_KHR>", aliases) == cpp_to_c("cl_uchar[CL_UUID_SIZE_KHR]", aliases) \
        == "cl_uchar[16]"


def _newer_than_our_headers(name: str) -> bool:
    """True for a CL name that headers/CL (and so raw) does not define: an opencl.hpp newer than
    our headers (the NVIDIA H200 machine's has CL_SEMAPHORE_DEVICE_HANDLE_LIST_KHR) declares
    params the table cannot have a row for until tools/update_headers.sh brings them in."""
    return not isinstance(getattr(raw, name, None), int)


def test_newer_hpp_params_are_told_apart_from_missing_rows():
    assert _newer_than_our_headers("CL_SEMAPHORE_DEVICE_HANDLE_LIST_KHR_NOT_IN_ANY_HEADER")
    assert not _newer_than_our_headers("CL_DEVICE_NAME")           # a row
    assert not _newer_than_our_headers(next(iter(LEFT_OUT)))       # defined, left out with a reason


def test_types_agree_with_opencl_hpp(hpp_text):
    aliases = _hpp_aliases(hpp_text)
    differences, missing, unknown_tokens = {}, [], set()
    compared = 0
    for token, name, cpp in _hpp_traits(hpp_text):
        if token in HPP_NOT_QUERIES:
            continue
        if token not in GROUP_OF_HPP_TOKEN:
            unknown_tokens.add(token)
            continue
        group = GROUP_OF_HPP_TOKEN[token]
        if group is None or name not in INFO[group]:
            # a param our headers define needs a row or a LEFT_OUT reason; one they don't is newer
            if name not in LEFT_OUT and not _newer_than_our_headers(name):
                missing.append(f"{token} {name} ({cpp}) -> {group}")
            continue
        compared += 1
        theirs, ours = cpp_to_c(cpp, aliases), _ours(INFO[group][name])
        if theirs != ours:
            differences[name] = f"opencl.hpp {cpp} -> {theirs}; table {INFO[group][name]}"
    assert not unknown_tokens, f"opencl.hpp info enums this test cannot map: {sorted(unknown_tokens)}"
    assert not missing, "opencl.hpp params with no row and not in LEFT_OUT:\n  " + "\n  ".join(missing)
    unexplained = {k: v for k, v in differences.items() if k not in HPP_DIFFERENCES}
    assert not unexplained, "types differ from opencl.hpp:\n  " + "\n  ".join(f"{k}: {v}" for k, v in
                                                                            unexplained.items())
    stale = set(HPP_DIFFERENCES) - set(differences)
    hpp_names = {name for _, name, _ in _hpp_traits(hpp_text)}
    assert not (stale & hpp_names), f"HPP_DIFFERENCES entries that agree now: {sorted(stale & hpp_names)}"
    assert compared > 150


# --------------------------------------------------------------------------- #
# 4. Real queries on PoCL
# --------------------------------------------------------------------------- #

#: Known driver answers whose size differs from the param's C type, per platform:
#: {(platform name substring, param): (size the driver gives, outcome, spec reference and driver)}.
#: outcome "short": 1, 2 or 4 bytes for a wider integer type, read as an integer of that width with an
#: OpenCLRawWarning (the policy of opencl_raw._info); "error": get_info raises ValueError naming both
#: sizes. A size mismatch not listed here fails the tests below, so a new quirk is noticed; a listed
#: one that a newer driver fixed is checked as an ordinary row.
KNOWN_SIZE_QUIRKS = {
    ("Portable Computing Language", "CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES"): (
        4, "short", "OpenCL 3.0, Device Queries table: cl_device_device_enqueue_capabilities, a cl_bitfield "
                    "(8 bytes); PoCL 3.1 answers 4 bytes"),
    ("NVIDIA CUDA", "CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES"): (
        4, "short", "OpenCL 3.0, Device Queries table: cl_device_device_enqueue_capabilities, a cl_bitfield "
                    "(8 bytes); NVIDIA 580 answers 4 bytes"),
    ("NVIDIA CUDA", "CL_PROGRAM_BUILD_GLOBAL_VARIABLE_TOTAL_SIZE"): (
        4, "short", "OpenCL 3.0, clGetProgramBuildInfo table: size_t (8 bytes here); NVIDIA 580 answers 4"),
    ("NVIDIA CUDA", "CL_QUEUE_DEVICE_DEFAULT"): (
        4, "error", "OpenCL 3.0, clGetCommandQueueInfo table: cl_command_queue (a pointer, 8 bytes); "
                    "NVIDIA 580 answers 4 bytes, which no handle can be read from"),
    ("NVIDIA CUDA", "CL_DEVICE_OPENCL_C_NUMERIC_VERSION_KHR"): (
        14, "error", "cl_khr_extended_versioning: cl_version_khr (4 bytes); NVIDIA 580 answers 14 bytes, "
                     "no integer of any width"),
}


def known_size_quirk(platform_name: str, param: str) -> Optional[Tuple[int, str, str]]:
    """The KNOWN_SIZE_QUIRKS entry of ``param`` for a platform of that name, or None."""
    for (platform, name), quirk in KNOWN_SIZE_QUIRKS.items():
        if name == param and platform.lower() in platform_name.lower():
            return quirk
    return None


def expected_types(kind: _info.Kind, c_type: str, param: str) -> tuple:
    """The Python types get_info may return for a row."""
    if isinstance(kind, _info.String):
        return (str,)
    if isinstance(kind, _info.Binaries):
        return (list,)
    if isinstance(kind, (_info.Array, _info.NameVersion, _info.HandleArray)):
        return (tuple,)
    if isinstance(kind, _info.Handle):
        return (_info.CLASS_BY_HANDLE_TYPE[kind.handle_type], type(None))
    if isinstance(kind, _info.Struct):
        return (kind.ctype,)
    if isinstance(kind, _info.Scalar):
        if c_type == "cl_bool":
            return (bool,)
        enum_name = _info.ENUM_OF_PARAM.get(param) or _info.ENUM_OF_C_TYPE.get(c_type)
        if enum_name is not None:
            enum_cls = _info.enum_class(enum_name)
            return (enum_cls,) if issubclass(enum_cls, enum.IntFlag) else (enum_cls, int)
        if issubclass(kind.ctype, (ctypes.c_float, ctypes.c_double)):
            return (float,)
        return (int,)
    return (bytes,)


def _check_value(value, kind, c_type, param):
    types = expected_types(kind, c_type, param)
    assert isinstance(value, types), f"{param} ({c_type}): {type(value).__name__} {value!r}, expected {types}"
    if int in types and not isinstance(value, enum.Enum):
        assert type(value) is int, f"{param}: {type(value).__name__}"    # not a bool
    if isinstance(value, tuple) and isinstance(kind, _info.Properties):
        assert all(isinstance(p, tuple) and len(p) == 2 for p in value), param
    if isinstance(value, tuple) and isinstance(kind, _info.NameVersion):
        assert all(isinstance(nv, _info.NameVersionTuple) for nv in value), param


def _answered_size(raw_function, args, value: int) -> Optional[int]:
    """The size the driver gives for a param, or None if it refuses the param."""
    size = ctypes.c_size_t()
    if raw_function(*args, value, 0, None, ctypes.byref(size)) != raw.CL_SUCCESS:
        return None
    return size.value


def _check_quirk(quirk, group: str, function_name: str, args: tuple, param: str, c_type: str, kind,
                 size: int) -> None:
    """Check a KNOWN_SIZE_QUIRKS answer of ``size`` bytes: get_info does what the entry says."""
    expected_size, outcome, _ = quirk
    assert size == expected_size, f"{param}: the driver now answers {size} bytes, not the {expected_size} " \
                                  f"KNOWN_SIZE_QUIRKS lists"
    mismatch = rf"{param}: the driver returned {size} bytes, but {re.escape(c_type)} has {kind.size}"
    if outcome == "error":
        with pytest.raises(ValueError, match=mismatch):
            _info.query(group, getattr(checked, function_name), args, param)
        return
    assert outcome == "short", quirk
    buf = ctypes.create_string_buffer(size)
    assert getattr(raw, function_name)(*args, getattr(raw, param), size, buf, None) == raw.CL_SUCCESS
    number = int.from_bytes(buf.raw, sys.byteorder)                  # the listed quirks are unsigned types
    _info._short_warned.discard((group, getattr(raw, param)))       # the warning comes once per param
    with pytest.warns(errors.OpenCLRawWarning, match=mismatch + f"; read as a {size}-byte integer"):
        result = _info.query(group, getattr(checked, function_name), args, param)
    _check_value(result, kind, c_type, param)
    assert int(result) == number, (param, result, number)


def _query_all(group: str, function_name: str, args: tuple, platform_name: str) -> Tuple[List[str], List[str]]:
    """Query every row of ``group`` the driver answers; (answered names, failures).

    A size mismatch listed in KNOWN_SIZE_QUIRKS for this platform is checked against its entry;
    any other fails (as does a value of the wrong Python type)."""
    raw_function = getattr(raw, function_name)
    answered, failures = [], []
    for param, c_type in INFO[group].items():
        size = _answered_size(raw_function, args, getattr(raw, param))
        if size is None:
            continue
        kind = _info.kind_of(c_type, param)
        quirk = known_size_quirk(platform_name, param)
        if quirk is not None and kind.size is not None and size != kind.size:
            _check_quirk(quirk, group, function_name, args, param, c_type, kind, size)
            continue
        try:
            result, note = _info.query_with_note(group, getattr(checked, function_name), args, param)
            assert note is None, f"not in KNOWN_SIZE_QUIRKS: {note}"         # a new short answer fails too
            _check_value(result, kind, c_type, param)
        except (AssertionError, ValueError) as exc:
            failures.append(str(exc))
            continue
        answered.append(param)
    return answered, failures


def test_every_device_row_pocl_answers_has_its_declared_type(device):
    answered, failures = _query_all("Device", "clGetDeviceInfo", (device.handle,), device.platform.name)
    assert not failures, "\n".join(failures)
    # PoCL 3.x answers at least the core 1.0 to 3.0 params and some extension ones; CL_DEVICE_HALF_FP_CONFIG
    # where the device has cl_khr_fp16 (NVIDIA 580 has not, and refuses the param)
    assert len(answered) > 100
    expected = {"CL_DEVICE_NAME", "CL_DEVICE_TYPE", "CL_DEVICE_MAX_WORK_ITEM_SIZES", "CL_DEVICE_PLATFORM",
                "CL_DEVICE_EXTENSIONS_WITH_VERSION_KHR"}
    if "cl_khr_fp16" in device.extensions.split():
        expected.add("CL_DEVICE_HALF_FP_CONFIG")
    assert expected <= set(answered), expected - set(answered)


def test_device_values_through_get_info(device):
    assert isinstance(device.get_info("CL_DEVICE_TYPE"), _info.DeviceType)
    assert isinstance(device.get_info(raw.CL_DEVICE_MAX_WORK_ITEM_SIZES), tuple)
    assert device.get_info("CL_DEVICE_PLATFORM") == device.platform
    assert device.get_info("CL_DEVICE_EXTENSIONS_WITH_VERSION_KHR") == \
        device.get_info("CL_DEVICE_EXTENSIONS_WITH_VERSION")
    if "cl_khr_command_buffer" in device.extensions.split():
        assert isinstance(device.command_buffer_capabilities_khr, _info.CommandBufferCapabilities)


def test_platform_rows(device):
    platform = device.platform
    answered, failures = _query_all("Platform", "clGetPlatformInfo", (platform.handle,), platform.name)
    assert not failures, "\n".join(failures)
    assert {"CL_PLATFORM_NAME", "CL_PLATFORM_NUMERIC_VERSION"} <= set(answered)


def test_context_queue_memory_program_kernel_event_rows(device, context, queue):
    buffer = context.create_buffer(raw.CL_MEM_READ_WRITE, 64)
    program = context.create_program_with_source(
        "__kernel void k(__global float *x, const int n) { x[get_global_id(0)] += n; }").build()
    kernel = program.create_kernel("k")
    event = queue.enqueue_marker_with_wait_list()
    queue.finish()
    cases = [
        ("Context", "clGetContextInfo", (context.handle,)),
        ("CommandQueue", "clGetCommandQueueInfo", (queue.handle,)),
        ("MemObject", "clGetMemObjectInfo", (buffer.handle,)),
        ("Program", "clGetProgramInfo", (program.handle,)),
        ("ProgramBuild", "clGetProgramBuildInfo", (program.handle, device.handle)),
        ("Kernel", "clGetKernelInfo", (kernel.handle,)),
        ("KernelWorkGroup", "clGetKernelWorkGroupInfo", (kernel.handle, device.handle)),
        ("KernelArg", "clGetKernelArgInfo", (kernel.handle, 0)),
        ("Event", "clGetEventInfo", (event.handle,)),
        ("EventProfiling", "clGetEventProfilingInfo", (event.handle,)),
    ]
    failures, answered = [], {}
    try:
        for group, function, args in cases:
            names, failed = _query_all(group, function, args, device.platform.name)
            failures += failed
            answered[group] = names
    finally:
        for obj in (event, kernel, program, buffer):
            obj.release()
    assert not failures, "\n".join(failures)
    for group in ("Context", "CommandQueue", "MemObject", "Program", "ProgramBuild", "Kernel",
                  "KernelWorkGroup", "Event", "EventProfiling"):
        assert answered[group], f"PoCL answered no {group} row"


def test_image_and_sampler_rows(context, device):
    fmt = raw.cl_image_format(raw.CL_RGBA, raw.CL_UNORM_INT8)
    desc = raw.cl_image_desc()
    desc.image_type, desc.image_width, desc.image_height = raw.CL_MEM_OBJECT_IMAGE2D, 8, 4
    try:
        image = checked.clCreateImage(context, raw.CL_MEM_READ_ONLY, ctypes.byref(fmt), ctypes.byref(desc), None)
    except CLError as exc:
        pytest.skip(f"no 2D RGBA image on this device: {exc}")
    try:
        answered, failures = _query_all("Image", "clGetImageInfo", (image,), device.platform.name)
        assert not failures, "\n".join(failures)
        value = _info.query("Image", checked.clGetImageInfo, (image,), "CL_IMAGE_FORMAT")
        assert (value.image_channel_order, value.image_channel_data_type) == (raw.CL_RGBA, raw.CL_UNORM_INT8)
        assert _info.query("Image", checked.clGetImageInfo, (image,), "CL_IMAGE_WIDTH") == 8
    finally:
        checked.clReleaseMemObject(image)
    properties = (raw.cl_sampler_properties * 7)(raw.CL_SAMPLER_NORMALIZED_COORDS, raw.CL_TRUE,
                                                 raw.CL_SAMPLER_ADDRESSING_MODE, raw.CL_ADDRESS_CLAMP,
                                                 raw.CL_SAMPLER_FILTER_MODE, raw.CL_FILTER_LINEAR, 0)
    sampler = checked.clCreateSamplerWithProperties(context, properties)
    try:
        answered, failures = _query_all("Sampler", "clGetSamplerInfo", (sampler,), device.platform.name)
        assert not failures, "\n".join(failures)
        assert "CL_SAMPLER_FILTER_MODE" in answered
    finally:
        checked.clReleaseSampler(sampler)


def test_a_size_mismatch_raises_value_error_naming_param_and_sizes(device, monkeypatch):
    # made-up table entry: CL_DEVICE_GLOBAL_MEM_SIZE (a cl_ulong, 8 bytes) declared as a cl_uint
    monkeypatch.setitem(_info._BY_VALUE["Device"], raw.CL_DEVICE_GLOBAL_MEM_SIZE, _info.kind_of("cl_uint"))
    with pytest.raises(ValueError) as info:
        device.get_info("CL_DEVICE_GLOBAL_MEM_SIZE")
    message = str(info.value)
    assert "CL_DEVICE_GLOBAL_MEM_SIZE" in message and "8 bytes" in message and "has 4" in message
    with pytest.raises(ValueError, match="CL_DEVICE_GLOBAL_MEM_SIZE"):
        device.global_mem_size
    # a handle can't be read from 4 bytes: CL_DEVICE_MAX_COMPUTE_UNITS (a cl_uint) declared a cl_platform_id
    monkeypatch.setitem(_info._BY_VALUE["Device"], raw.CL_DEVICE_MAX_COMPUTE_UNITS, _info.kind_of("cl_platform_id"))
    with pytest.raises(ValueError, match=r"CL_DEVICE_MAX_COMPUTE_UNITS: the driver returned 4 bytes, but "
                                         r"cl_platform_id has 8"):
        device.get_info(raw.CL_DEVICE_MAX_COMPUTE_UNITS)


def test_a_shorter_integer_answer_is_read_with_one_warning(device, monkeypatch):
    # made-up table entry: CL_DEVICE_MAX_COMPUTE_UNITS (a cl_uint, 4 bytes) declared as a cl_ulong, as
    # NVIDIA 580 answers 4 bytes for the size_t CL_PROGRAM_BUILD_GLOBAL_VARIABLE_TOTAL_SIZE
    expected = device.get_info(raw.CL_DEVICE_MAX_COMPUTE_UNITS)
    monkeypatch.setitem(_info._BY_VALUE["Device"], raw.CL_DEVICE_MAX_COMPUTE_UNITS, _info.kind_of("cl_ulong"))
    monkeypatch.setattr(_info, "_short_warned", set())
    with pytest.warns(errors.OpenCLRawWarning) as caught:
        value = device.get_info("CL_DEVICE_MAX_COMPUTE_UNITS")
    assert type(value) is int and value == expected
    assert [str(w.message) for w in caught] == [
        "CL_DEVICE_MAX_COMPUTE_UNITS: the driver returned 4 bytes, but cl_ulong has 8; read as a 4-byte integer"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # once per param: the second query is quiet
        assert device.max_compute_units == expected
    # the note without the warning, as the info tool reads it
    value, note = _info.query_with_note("Device", checked.clGetDeviceInfo, (device.handle,),
                                        raw.CL_DEVICE_MAX_COMPUTE_UNITS)
    assert value == expected and note.endswith("read as a 4-byte integer")


def _fake_info(payload: bytes):
    """A checked clGet*Info stand-in that answers ``payload`` (its length is the size it returns)."""
    def function(handle, param, size, buf, size_ret):
        if size_ret is not None:
            size_ret._obj.value = len(payload)
        if buf is not None:
            if size < len(payload):
                raise InvalidValue(None, "clGetFakeInfo")
            ctypes.memmove(buf, payload, len(payload))
        return raw.CL_SUCCESS
    return function


@pytest.mark.parametrize("c_type, payload, expected", [
    ("size_t", (1234).to_bytes(4, sys.byteorder), 1234),                       # NVIDIA 580's answer
    ("cl_ulong", (0xFFFFFFFF).to_bytes(4, sys.byteorder), 0xFFFFFFFF),         # zero-extended
    ("cl_long", (-2).to_bytes(4, sys.byteorder, signed=True), -2),             # sign-extended
    ("cl_uint", (7).to_bytes(2, sys.byteorder), 7),
    ("cl_ulong", (9).to_bytes(1, sys.byteorder), 9),
    ("cl_bool", (1).to_bytes(1, sys.byteorder), True),
    ("cl_device_device_enqueue_capabilities", (1).to_bytes(4, sys.byteorder),  # PoCL 3.1's answer
     _info.EnqueueCapabilities.QUEUE_SUPPORTED),
    ("cl_device_local_mem_type", (1).to_bytes(2, sys.byteorder), _info.LocalMemType.LOCAL),
])
def test_short_integer_policy_reads_the_value(monkeypatch, c_type, payload, expected):
    monkeypatch.setitem(_info._BY_VALUE["Device"], raw.CL_DEVICE_VENDOR_ID, _info.kind_of(c_type))
    value, note = _info.query_with_note("Device", _fake_info(payload), (None,), raw.CL_DEVICE_VENDOR_ID)
    assert value == expected and type(value) is type(expected)
    assert note == (f"CL_DEVICE_VENDOR_ID: the driver returned {len(payload)} bytes, but {c_type} has "
                    f"{_info.kind_of(c_type).size}; read as a {len(payload)}-byte integer")


@pytest.mark.parametrize("c_type, nbytes", [
    ("cl_uint", 8),                 # longer than the type
    ("cl_version_khr", 14),         # NVIDIA 580's CL_DEVICE_OPENCL_C_NUMERIC_VERSION_KHR: no integer width
    ("cl_ulong", 3),                # not a C integer width
    ("cl_command_queue", 4),        # NVIDIA 580's CL_QUEUE_DEVICE_DEFAULT: a handle
    ("void *", 4),                  # a pointer
    ("cl_float", 2),                # not an integer
    ("cl_image_format", 4),         # a struct
])
def test_other_size_mismatches_raise_value_error(monkeypatch, c_type, nbytes):
    monkeypatch.setitem(_info._BY_VALUE["Device"], raw.CL_DEVICE_VENDOR_ID, _info.kind_of(c_type))
    with pytest.raises(ValueError, match=rf"^CL_DEVICE_VENDOR_ID: the driver returned {nbytes} bytes, but "
                                         rf"{re.escape(c_type)} has \d+$"):
        _info.query("Device", _fake_info(bytes(nbytes)), (None,), raw.CL_DEVICE_VENDOR_ID)


def test_known_size_quirks_are_well_formed():
    for (platform, param), (size, outcome, reason) in KNOWN_SIZE_QUIRKS.items():
        group = next(g for g, rows in INFO.items() if param in rows)
        kind = _info.kind_of(INFO[group][param], param)
        assert kind.size is not None and size != kind.size, param
        readable = outcome == "short"
        assert readable == (_info._short_integer(kind, ctypes.create_string_buffer(kind.size), size)[0]), param
        assert outcome in ("short", "error") and len(reason) > 30 and platform, param


def test_a_param_the_table_does_not_know_returns_bytes(device, monkeypatch):
    expected = device.name.encode()
    monkeypatch.delitem(_info._BY_VALUE["Device"], raw.CL_DEVICE_NAME)
    value = device.get_info(raw.CL_DEVICE_NAME)
    assert isinstance(value, bytes) and value.rstrip(b"\0") == expected


def test_an_unknown_param_number_still_calls_the_driver(device):
    unknown = 0x7FFF_FF01
    assert all(unknown not in values for values in _info._BY_VALUE.values())
    with pytest.raises(InvalidValue) as info:
        device.get_info(unknown)
    assert info.value.function == "clGetDeviceInfo"


def test_enum_values_the_enum_does_not_know_stay_ints(device, monkeypatch):
    # decoders: a scalar and an array of an IntEnum type, fed a value outside the enum
    unknown = 0x7777
    buf = ctypes.create_string_buffer(bytes(raw.cl_uint(unknown)) + bytes(raw.cl_uint(raw.CL_GLOBAL)))
    scalar = _info.kind_of("cl_device_local_mem_type").decode(buf, 4)
    assert type(scalar) is int and scalar == unknown
    array = _info.kind_of("cl_device_local_mem_type[]").decode(buf, 8)
    assert type(array[0]) is int and array[1] is _info.LocalMemType.GLOBAL
    # and through a real query: an enum without the device's value (cl_build_status: 0 to -3)
    monkeypatch.setitem(_info._BY_VALUE["Device"], raw.CL_DEVICE_MAX_COMPUTE_UNITS,
                        _info.Scalar(raw.cl_uint, _info._converter("BuildStatus"), c_type="cl_uint"))
    value = device.get_info("CL_DEVICE_MAX_COMPUTE_UNITS")
    assert type(value) is int and value == device.get_info(raw.CL_DEVICE_MAX_COMPUTE_UNITS)


# --------------------------------------------------------------------------- #
# 5. Info attributes of the handle classes
# --------------------------------------------------------------------------- #

def _handle_classes():
    import opencl_raw
    from opencl_raw._handle import Handle
    for module in sorted(set(opencl_raw._EXPORTS.values())):
        try:
            importlib.import_module(f"opencl_raw.{module}")
        except ImportError:   # a module another change has not added yet
            pass
    seen, stack = [], list(Handle.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return [cls for cls in seen if "_info_group" in cls.__dict__ or "_attr_groups" in cls.__dict__]


def _groups_of(cls) -> Tuple[str, ...]:
    return cls._attr_groups or (cls._info_group,)


def test_the_handle_classes_have_info_groups():
    names = {cls.__name__ for cls in _handle_classes()}
    assert {"Platform", "Device", "Context", "CommandQueue", "MemObject", "Program", "Kernel", "Event"} <= names
    for cls in _handle_classes():
        assert not set(_groups_of(cls)) & set(SECOND_OBJECT_GROUPS), cls


@pytest.mark.parametrize("cls", _handle_classes(), ids=lambda c: c.__name__)
def test_every_row_is_a_documented_attribute(cls):
    groups = _groups_of(cls)
    names = _info.attribute_names(cls._attr_prefixes, groups)
    for group in groups:   # within one group, no two params share an attribute name
        assert set(_info.attribute_names(cls._attr_prefixes, (group,)).values()) == set(INFO[group]), group
    # across groups the first (more specific) group wins a shared name: CL_PIPE_PROPERTIES over CL_MEM_PROPERTIES
    group_of = {}
    for group in groups:
        for param in INFO[group]:
            group_of.setdefault(param, group)
    for group in groups:
        for name, param in _info.attribute_names(cls._attr_prefixes, (group,)).items():
            if names[name] != param:
                assert groups.index(group_of[names[name]]) < groups.index(group), (name, param, names[name])
    own_members = []
    for name, param in names.items():
        group = next(g for g in groups if param in INFO[g])
        attr = inspect.getattr_static(cls, name)
        if not isinstance(attr, _info.InfoAttribute):
            own_members.append(name)        # the class defines this name itself (a property or method)
            continue
        assert attr.param == getattr(raw, param)
        doc = attr.__doc__
        assert param in doc and INFO[group][param] in doc and FUNCTION_OF_GROUP[group] in doc, doc
        since = raw.CONSTANT_SINCE.get(param)
        assert since and since in doc, f"{cls.__name__}.{name}: no version or extension in {doc!r}"
        with pytest.raises(AttributeError):
            attr.__set__(object(), 1)
    assert len(own_members) < len(names) // 4, own_members


@pytest.mark.parametrize("cls", _handle_classes(), ids=lambda c: c.__name__)
def test_second_object_queries_are_not_attributes(cls):
    own = {getattr(raw, p) for g in _groups_of(cls) for p in INFO[g]}
    for klass in cls.__mro__:
        for name, attr in vars(klass).items():
            if isinstance(attr, _info.InfoAttribute):
                assert attr.param in own, f"{cls.__name__}.{name} queries a param outside {_groups_of(cls)}"
    # the names a second-object param would get (program.build_log, kernel.work_group_size,
    # kernel.arg_name, event.command_start): not an attribute that queries it
    for group in SECOND_OBJECT_GROUPS:
        for param in INFO[group]:
            value = getattr(raw, param)
            prefix = next((p for p in cls._attr_prefixes + ("CL_PROFILING_", "CL_") if param.startswith(p)))
            attr = inspect.getattr_static(cls, param[len(prefix):].lower(), None)
            assert not (isinstance(attr, _info.InfoAttribute) and attr.param == value), \
                f"{cls.__name__}.{param[len(prefix):].lower()} ({group} {param}) needs a second object"


def test_attribute_names_strip_the_group_prefix_only(device):
    from opencl_raw.platform import Device
    assert isinstance(inspect.getattr_static(Device, "driver_version"), _info.InfoAttribute)
    assert inspect.getattr_static(Device, "driver_version").param == raw.CL_DRIVER_VERSION
    assert device.driver_version == device.get_info("CL_DRIVER_VERSION")
    assert inspect.getattr_static(Device, "driver_uuid_khr").param == raw.CL_DRIVER_UUID_KHR
    assert inspect.getattr_static(Device, "max_compute_units").param == raw.CL_DEVICE_MAX_COMPUTE_UNITS
    assert inspect.getattr_static(Device, "uuid_khr").param == raw.CL_DEVICE_UUID_KHR
    doc = inspect.getattr_static(Device, "uuid_khr").__doc__
    assert "CL_DEVICE_UUID_KHR" in doc and "cl_uchar[16]" in doc and "clGetDeviceInfo" in doc
