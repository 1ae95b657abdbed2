"""The generator and its output, checked against the headers themselves.

- ``tools/generate.py`` reproduces the committed ``opencl_raw/_generated.py`` byte for byte;
- a C program compiled by gcc against ``headers/`` prints every constant, the size,
  type class and signedness of every type, and the size and offset of every struct
  field; each must equal the Python value, ``ctypes.sizeof`` and ``Class.field.offset``;
- every recorded prototype (C text) is assigned to the header's own function (or
  compared with its ``*_fn`` typedef) under ``-Werror=incompatible-pointer-types``,
  and the ctypes argument / result types are checked against the C types;
- version, extension and deprecation facts of sample functions match the spec.
"""
from __future__ import annotations

import ctypes
import difflib
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from opencl_raw import _generated as G  # noqa: E402

HEADERS = ROOT / "headers"
GCC = shutil.which("gcc")
needs_gcc = pytest.mark.skipif(GCC is None, reason="gcc is not installed")

C_PRELUDE = r"""
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_0_APIS
#define CL_USE_DEPRECATED_OPENCL_1_1_APIS
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#define CL_USE_DEPRECATED_OPENCL_2_0_APIS
#define CL_USE_DEPRECATED_OPENCL_2_1_APIS
#define CL_USE_DEPRECATED_OPENCL_2_2_APIS
#include <stdio.h>
#include <stddef.h>
#include <CL/cl.h>
#include <CL/cl_ext.h>
#include <CL/cl_gl.h>
#include <CL/cl_egl.h>
/* T_(type text) is the type itself, V_(type text) an lvalue of it (never evaluated). */
#define T_(T) __typeof__(T)
#define V_(T) (*(T_(T) *)0)
#define KIND_(x) _Generic((x), float: 'f', double: 'f', long double: 'f', \
                               char *: 's', const char *: 's', default: 'i')
#define STR_(x) _Generic((x), char *: (x), const char *: (x), default: "<not a string>")
"""

# GCC's __builtin_classify_type values.
CLASS_VOID, CLASS_INT, CLASS_POINTER, CLASS_REAL, CLASS_RECORD, CLASS_UNION = 0, 1, 5, 8, 12, 13
INT_CODES = "bBhHiIlLqQ"
CFuncPtr = ctypes.CFUNCTYPE(None).__mro__[1]   # _ctypes.CFuncPtr
PyCPointer = type(ctypes.POINTER(ctypes.c_int))


def compile_and_run(tmp_path: Path, source: str, run: bool = True, extra=()) -> str:
    src = tmp_path / "probe.c"
    src.write_text(source)
    exe = tmp_path / "probe"
    cmd = [GCC, "-std=gnu11", "-I", str(HEADERS), "-Wno-deprecated-declarations",
           "-Werror=incompatible-pointer-types", "-Werror=implicit-function-declaration", *extra]
    cmd += ["-o", str(exe), str(src)] if run else ["-fsyntax-only", str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode:
        errors = [line for line in proc.stderr.splitlines() if "error" in line]
        pytest.fail(f"gcc failed ({len(errors)} errors):\n" + "\n".join(errors[:40]) +
                    ("\n..." if len(errors) > 40 else ""))
    if not run:
        return ""
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- #
# Python metadata walked from the generated module
# --------------------------------------------------------------------------- #

def public_items():
    return [(n, v) for n, v in vars(G).items() if not n.startswith("_")]


def is_vector(t) -> bool:
    return isinstance(t, type) and issubclass(t, G._Vector)


def is_record(t) -> bool:
    return isinstance(t, type) and issubclass(t, (ctypes.Structure, ctypes.Union)) and not is_vector(t)


def type_names():
    """(C name, ctypes type) for every scalar typedef, alias, handle and *_fn pointer type."""
    out = []
    for name, value in public_items():
        if not isinstance(value, type):
            continue
        if issubclass(value, ctypes._SimpleCData):
            out.append((name, value))
        elif issubclass(value, CFuncPtr) and name.endswith("_fn"):
            out.append((name, value))
    return out


def vector_names():
    return [(n, v) for n, v in public_items() if is_vector(v)]


def record_names():
    return [(n, v) for n, v in public_items() if is_record(v)]


def expected_class(t):
    """(GCC type class, size, signed or None) for a ctypes type; None for 'do not check'."""
    if t is None:
        return (CLASS_VOID, None, None)
    if isinstance(t, type) and issubclass(t, ctypes._SimpleCData):
        code = t._type_
        if code in INT_CODES:
            return (CLASS_INT, ctypes.sizeof(t), code.islower())
        if code == "c":
            return (CLASS_INT, 1, None)
        if code in "fdg":
            return (CLASS_REAL, ctypes.sizeof(t), None)
        if code in "Pz":
            return (CLASS_POINTER, ctypes.sizeof(t), None)
        raise AssertionError(f"unexpected ctypes code {code!r} in {t}")
    if isinstance(t, PyCPointer) or (isinstance(t, type) and issubclass(t, CFuncPtr)):
        return (CLASS_POINTER, ctypes.sizeof(t), None)
    if isinstance(t, type) and issubclass(t, ctypes.Structure):
        return (CLASS_RECORD, ctypes.sizeof(t), None)
    if isinstance(t, type) and issubclass(t, ctypes.Union):
        return (CLASS_UNION, ctypes.sizeof(t), None)
    if isinstance(t, type) and issubclass(t, ctypes.Array):
        return (None, ctypes.sizeof(t), None)
    raise AssertionError(f"unexpected ctypes type {t!r}")


def pointee(t):
    """The ctypes type a pointer type points to, or None when opaque (void *, handles, functions)."""
    if isinstance(t, PyCPointer):
        return t._type_
    if t is ctypes.c_char_p:
        return ctypes.c_char
    return None


class Probes:
    """Pairs a C type (as text) with the ctypes type the binding uses for it."""

    def __init__(self):
        self.c_lines: list[str] = []
        self.expected: dict[str, tuple] = {}

    def type(self, label: str, c_type: str, py_type, depth: int = 0):
        cls, size, signed = expected_class(py_type)
        if cls == CLASS_VOID:
            return
        sign_expr = f"((T_({c_type}))-1 < (T_({c_type}))0)" if cls == CLASS_INT else "0"
        class_expr = f"__builtin_classify_type(V_({c_type}))" if cls is not None else "-1"
        self.c_lines.append(
            f'printf("T\\t%s\\t%zu\\t%d\\t%d\\n", {c_string(label)}, sizeof(T_({c_type})), '
            f"{class_expr}, {sign_expr});")
        self.expected[label] = (size, cls if cls is not None else -1,
                                int(signed) if signed is not None else None)
        target = pointee(py_type)
        if target is not None and depth < 4:
            self.type(label + "*", f"__typeof__(*V_({c_type}))", target, depth + 1)

    def check(self, output: str) -> list[str]:
        seen, problems = set(), []
        for line in output.splitlines():
            if not line.startswith("T\t"):
                continue
            _, label, size, cls, signed = line.split("\t")
            seen.add(label)
            exp_size, exp_cls, exp_signed = self.expected[label]
            got = (int(size), int(cls), int(signed) if exp_signed is not None else None)
            if got != (exp_size, exp_cls, exp_signed):
                problems.append(f"{label}: C (size, class, signed) {got} != Python {(exp_size, exp_cls, exp_signed)}")
        missing = set(self.expected) - seen
        if missing:
            problems.append(f"no C output for {sorted(missing)[:10]}")
        return problems


# --------------------------------------------------------------------------- #
# Regeneration
# --------------------------------------------------------------------------- #

def test_regenerating_reproduces_the_committed_module(tmp_path):
    out = tmp_path / "_generated.py"
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "generate.py"), "--output", str(out)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    fresh = out.read_text(encoding="utf-8")
    committed = (ROOT / "opencl_raw" / "_generated.py").read_text(encoding="utf-8")
    if fresh != committed:
        diff = list(difflib.unified_diff(committed.splitlines(), fresh.splitlines(),
                                         "committed _generated.py", "regenerated", lineterm="", n=1))
        pytest.fail("opencl_raw/_generated.py is stale; run python3 tools/generate.py\n" +
                    "\n".join(diff[:60]) + ("\n..." if len(diff) > 60 else ""))


def test_generator_is_deterministic(tmp_path):
    texts = []
    for i in range(2):
        out = tmp_path / f"g{i}.py"
        subprocess.run([sys.executable, str(ROOT / "tools" / "generate.py"), "--output", str(out)],
                       check=True, capture_output=True, timeout=60)
        texts.append(out.read_bytes())
    assert texts[0] == texts[1]


# --------------------------------------------------------------------------- #
# Constants, types and layouts against gcc
# --------------------------------------------------------------------------- #

def constant_lines():
    lines = []
    for name in G.CONSTANT_HEADERS:
        value = getattr(G, name)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise AssertionError(f"{name} = {value!r} has an unexpected type")
        if isinstance(value, str):
            lines.append(f'printf("C\\t{name}\\t%c\\ts\\t%s\\n", KIND_({name}), STR_({name}));')
        elif isinstance(value, float):
            lines.append(f'printf("C\\t{name}\\t%c\\tf\\t%.17g\\n", KIND_({name}), (double)({name}));')
        else:
            lines.append(f'printf("C\\t{name}\\t%c\\ti\\t%d\\t%lld\\t%llu\\n", KIND_({name}), ({name}) < 0, '
                         f"(long long)({name}), (unsigned long long)({name}));")
    return lines


def check_constants(output: str) -> list[str]:
    problems, seen = [], set()
    for line in output.splitlines():
        if not line.startswith("C\t"):
            continue
        parts = line.split("\t")
        name, c_kind, py_kind = parts[1], parts[2], parts[3]
        seen.add(name)
        value = getattr(G, name)
        if c_kind != py_kind:
            problems.append(f"{name}: C kind {c_kind!r}, Python {value!r}")
            continue
        if py_kind == "s":
            c_value = parts[4]
        elif py_kind == "f":
            c_value = float(parts[4])
        else:
            c_value = int(parts[5]) if parts[4] == "1" else int(parts[6])
        if c_value != value or type(c_value) is not type(value):
            problems.append(f"{name}: C {c_value!r} != Python {value!r}")
    missing = set(G.CONSTANT_HEADERS) - seen
    if missing:
        problems.append(f"no C output for {sorted(missing)[:10]}")
    return problems


def walk_fields(cls, c_prefix="", base=0):
    """(C access path, absolute offset, size, ctypes type, descriptor) of every field.

    Anonymous members are entered without adding to the C path; named struct and
    union members are entered with ``name.``.
    """
    anonymous = set(getattr(cls, "_anonymous_", ()))
    for entry in cls._fields_:
        fname, ftype = entry[0], entry[1]
        desc = getattr(cls, fname)
        offset = base + desc.offset
        if fname in anonymous:
            yield from walk_fields(ftype, c_prefix, offset)
            continue
        path = c_prefix + fname
        yield path, offset, desc.size, ftype
        if is_record(ftype):
            yield from walk_fields(ftype, path + ".", offset)


def macro_calls():
    """(name, arguments) calls of every function-like macro the generator translated."""
    calls = []
    for name, fn in public_items():
        if inspect.isfunction(fn) and fn.__module__ == G.__name__ and name.startswith("CL_"):
            arity = len(inspect.signature(fn).parameters)
            samples = [(0x00C01003,), (0x00402005,)] if arity == 1 else [(3, 0, 7), (1, 2, 1023)]
            calls += [(name, args[:arity]) for args in samples]
    return calls


@pytest.fixture(scope="module")
def layout_run(tmp_path_factory):
    if GCC is None:
        pytest.skip("gcc is not installed")
    tmp = tmp_path_factory.mktemp("layout")
    probes = Probes()
    lines = constant_lines()
    fields = {}
    for name, args in macro_calls():
        call = f"{name}({', '.join(map(str, args))})"
        lines.append(f'printf("M\\t{call}\\t%lld\\n", (long long)({call}));')
    for name, t in type_names():
        probes.type(f"type {name}", name, t)
    for name, t in vector_names():
        lines.append(f'printf("V\\t{name}\\t%zu\\t%zu\\t%zu\\t%zu\\n", sizeof({name}), _Alignof({name}), '
                     f"offsetof({name}, s), sizeof((({name} *)0)->s));")
        probes.type(f"vector {name}", name, t)
    for name, t in record_names():
        lines.append(f'printf("R\\t{name}\\t%zu\\t%zu\\n", sizeof({name}), _Alignof({name}));')
        for path, offset, size, ftype in walk_fields(t):
            fields[(name, path)] = (offset, size)
            lines.append(f'printf("F\\t{name}\\t{path}\\t%zu\\t%zu\\n", offsetof({name}, {path}), '
                         f"sizeof((({name} *)0)->{path}));")
            probes.type(f"field {name}.{path}", f"(({name} *)0)->{path}", ftype)
    source = C_PRELUDE + "int main(void) {\n    " + "\n    ".join(lines + probes.c_lines) + "\n    return 0;\n}\n"
    output = compile_and_run(tmp, source)
    return output, probes, fields


def test_every_constant_matches_c(layout_run):
    output, _, _ = layout_run
    assert len(G.CONSTANT_HEADERS) > 1000
    problems = check_constants(output)
    assert not problems, "\n".join(problems[:40])


def test_function_like_macros_match_c(layout_run):
    output, _, _ = layout_run
    calls = macro_calls()
    assert len(calls) >= 8 and G.CL_MAKE_VERSION(3, 0, 0) == 0xC00000 and G.CL_VERSION_MAJOR(0xC00000) == 3
    results = dict(line.split("\t")[1:] for line in output.splitlines() if line.startswith("M\t"))
    assert len(results) == len(calls)
    for name, args in calls:
        call = f"{name}({', '.join(map(str, args))})"
        assert getattr(G, name)(*args) == int(results[call]), call


def test_constants_sample_values():
    # Spot checks that do not depend on gcc.
    assert G.CL_SUCCESS == 0 and G.CL_INVALID_VALUE == -30 and G.CL_BUILD_PROGRAM_FAILURE == -11
    assert G.CL_DEVICE_TYPE_ALL == 0xFFFFFFFF
    assert G.CL_LONG_MIN == -(2 ** 63) and G.CL_ULONG_MAX == 2 ** 64 - 1
    assert G.CL_FLT_MAX == 3.4028234663852886e+38 and G.CL_M_PI_F == 3.1415927410125732
    assert G.CL_KHR_COMMAND_BUFFER_EXTENSION_NAME == "cl_khr_command_buffer"


def test_type_sizes_classes_and_signedness_match_c(layout_run):
    _, probes, _ = layout_run
    names = {n for n, _ in type_names()}
    # The probe set covers the kinds of types the brief names.
    for must in ("cl_int", "cl_ulong", "cl_half", "cl_bool", "cl_context_properties", "cl_platform_id",
                 "cl_mem", "cl_command_buffer_khr", "clCreateCommandBufferKHR_fn"):
        assert must in names, must
    problems = [p for p in probes.check(layout_run[0]) if p.startswith(("type ", "vector ", "no C"))]
    assert not problems, "\n".join(problems[:40])


def test_vector_sizes_and_alignment_match_c(layout_run):
    output, _, _ = layout_run
    vectors = dict(vector_names())
    assert len(vectors) == 11 * 5   # char uchar short ushort half int uint long ulong float double x 2 3 4 8 16
    seen = set()
    problems = []
    for line in output.splitlines():
        if not line.startswith("V\t"):
            continue
        _, name, size, align, s_off, s_size = line.split("\t")
        seen.add(name)
        t = vectors[name]
        if ctypes.sizeof(t) != int(size) or t.s.offset != int(s_off) or t.s.size != int(s_size):
            problems.append(f"{name}: C size {size} (s at {s_off}, {s_size} bytes), "
                            f"ctypes {ctypes.sizeof(t)} (s at {t.s.offset}, {t.s.size})")
        py_align = ctypes.alignment(t) if sys.version_info >= (3, 13) else t._align_
        if py_align != int(align):
            problems.append(f"{name}: C _Alignof {align}, Python {py_align}")
    assert seen == set(vectors)
    assert not problems, "\n".join(problems)
    assert ctypes.sizeof(G.cl_float3) == 16 and G.cl_float3._align_ == 16


def test_struct_layouts_match_c(layout_run):
    output, probes, fields = layout_run
    records = dict(record_names())
    for must in ("cl_image_format", "cl_image_desc", "cl_buffer_region", "cl_name_version"):
        assert must in records, must
    assert ("cl_image_desc", "buffer") in fields and ("cl_image_desc", "mem_object") in fields
    problems, seen_records, seen_fields = [], set(), set()
    for line in output.splitlines():
        parts = line.split("\t")
        if parts[0] == "R":
            name, size, align = parts[1], int(parts[2]), int(parts[3])
            seen_records.add(name)
            t = records[name]
            if (ctypes.sizeof(t), ctypes.alignment(t)) != (size, align):
                problems.append(f"{name}: C sizeof/_Alignof {size}/{align}, "
                                f"ctypes {ctypes.sizeof(t)}/{ctypes.alignment(t)}")
        elif parts[0] == "F":
            key = (parts[1], parts[2])
            seen_fields.add(key)
            got = (int(parts[3]), int(parts[4]))
            if fields[key] != got:
                problems.append(f"{key[0]}.{key[1]}: C (offset, size) {got}, ctypes {fields[key]}")
            # Top-level names (also those promoted from anonymous members) are class attributes.
            if "." not in key[1]:
                desc = getattr(records[key[0]], key[1])
                if (desc.offset, desc.size) != got:
                    problems.append(f"{key[0]}.{key[1]} descriptor: (offset, size) {(desc.offset, desc.size)} != C {got}")
    assert seen_records == set(records)
    assert seen_fields == set(fields)
    problems += [p for p in probes.check(output) if p.startswith("field ")]
    assert not problems, "\n".join(problems[:40])


def test_image_desc_anonymous_union_is_usable():
    desc = G.cl_image_desc()
    desc.buffer = G.cl_mem(0x1234)
    assert desc.mem_object == 0x1234 or getattr(desc.mem_object, "value", desc.mem_object) == 0x1234
    assert G.cl_image_desc.buffer.offset == G.cl_image_desc.mem_object.offset


# --------------------------------------------------------------------------- #
# Function prototypes against gcc
# --------------------------------------------------------------------------- #

CALLBACK_TEXT = re.compile(r"^(?P<ret>.*?)\(\s*\*\s*\)\s*\((?P<args>.*)\)$")


def split_args(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return [] if parts == ["void"] else parts


def header_declared_functions() -> set[str]:
    """Names with a prototype (``NAME(``, not a ``NAME_fn`` typedef) in the four API headers."""
    text = "".join((HEADERS / "CL" / h).read_text() for h in ("cl.h", "cl_ext.h", "cl_gl.h", "cl_egl.h"))
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return set(re.findall(r"\b(cl\w+)\s*\(", text)) - {n for n in re.findall(r"\b(cl\w+_fn)\b", text)}


def test_every_prototype_matches_the_headers(tmp_path):
    if GCC is None:
        pytest.skip("gcc is not installed")
    declared = header_declared_functions()
    lines = []
    via_typedef = 0
    for name, proto in G.FUNCTIONS.items():
        args = ", ".join(p[2] for p in proto.params) or "void"
        pointer_type = f"{proto.c_return} (*)({args})"
        if name in declared:
            lines.append(f"static {proto.c_return} (*p_{name})({args}) = &{name};")
        if hasattr(G, name + "_fn"):
            via_typedef += 1
            lines.append(f'_Static_assert(__builtin_types_compatible_p({pointer_type}, {name}_fn), '
                         f'"{name}: recorded prototype differs from {name}_fn");')
        if name not in declared and not hasattr(G, name + "_fn"):
            pytest.fail(f"{name} has neither a prototype nor a {name}_fn typedef in the headers")
    assert via_typedef > 40
    compile_and_run(tmp_path, C_PRELUDE + "\n".join(lines) + "\n", run=False)


def test_a_wrong_prototype_is_caught(tmp_path):
    """The check above can fail: a deliberately wrong parameter type is rejected."""
    if GCC is None:
        pytest.skip("gcc is not installed")
    src = C_PRELUDE + "static cl_int (*p)(cl_uint, cl_platform_id *, cl_int *) = &clGetPlatformIDs;\n"
    (tmp_path / "bad.c").write_text(src)
    proc = subprocess.run([GCC, "-I", str(HEADERS), "-Werror=incompatible-pointer-types", "-fsyntax-only",
                           str(tmp_path / "bad.c")], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "incompatible-pointer-types" in proc.stderr


def test_ctypes_argument_and_result_types_match_c(tmp_path):
    """Each ctypes argtype/restype has the size, type class and signedness of its C type,
    and so do the pointees and the arguments of callback parameters."""
    if GCC is None:
        pytest.skip("gcc is not installed")
    probes = Probes()
    problems = []
    for name, proto in G.FUNCTIONS.items():
        if (proto.restype is None) != (proto.c_return == "void"):
            problems.append(f"{name}: restype {proto.restype} for C {proto.c_return}")
        probes.type(f"{name} return", proto.c_return, proto.restype)
        for pname, ptype, ctext in proto.params:
            probes.type(f"{name}({pname})", ctext, ptype)
            m = CALLBACK_TEXT.match(ctext)
            if m:
                if not (isinstance(ptype, type) and issubclass(ptype, CFuncPtr)):
                    problems.append(f"{name}({pname}): {ctext} is not a CFUNCTYPE but {ptype}")
                    continue
                cargs = split_args(m.group("args"))
                if len(cargs) != len(ptype._argtypes_):
                    problems.append(f"{name}({pname}): {len(ptype._argtypes_)} ctypes args for {ctext}")
                    continue
                ret = m.group("ret").strip()
                if (ptype._restype_ is None) != (ret == "void"):
                    problems.append(f"{name}({pname}): callback restype {ptype._restype_} for {ret}")
                probes.type(f"{name}({pname}) returns", ret, ptype._restype_)
                for i, (ctext_i, ptype_i) in enumerate(zip(cargs, ptype._argtypes_)):
                    probes.type(f"{name}({pname}) arg {i}", ctext_i, ptype_i)
            elif isinstance(ptype, type) and issubclass(ptype, CFuncPtr) and ptype is not ctypes.c_void_p:
                problems.append(f"{name}({pname}): CFUNCTYPE for non-callback C type {ctext}")
        # The *_fn pointer types take the same arguments as the function.
        fn_type = getattr(G, name + "_fn", None)
        if fn_type is not None and (tuple(fn_type._argtypes_) != proto.argtypes or fn_type._restype_ is not proto.restype
                                    and not (fn_type._restype_ is None and proto.restype is None)):
            problems.append(f"{name}_fn argtypes/restype differ from FUNCTIONS[{name!r}]")
    source = C_PRELUDE + "int main(void) {\n    " + "\n    ".join(probes.c_lines) + "\n    return 0;\n}\n"
    problems += probes.check(compile_and_run(tmp_path, source))
    assert not problems, "\n".join(problems[:40])


# --------------------------------------------------------------------------- #
# Versions, extensions, deprecation
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("name, version", [
    ("clGetPlatformIDs", (1, 0)),
    ("clCreateSubBuffer", (1, 1)),
    ("clCreateImage", (1, 2)),
    ("clCreateCommandQueueWithProperties", (2, 0)),
    ("clCreateProgramWithIL", (2, 1)),
    ("clSetProgramSpecializationConstant", (2, 2)),
    ("clCreateBufferWithProperties", (3, 0)),
])
def test_core_function_versions(name, version):
    proto = G.FUNCTIONS[name]
    assert (proto.version, proto.extension, proto.deprecated_after, proto.header) == (version, None, None, "cl.h")
    assert proto.requirement == f"OpenCL {version[0]}.{version[1]}"


@pytest.mark.parametrize("name, version, deprecated_after", [
    ("clCreateImage2D", (1, 0), (1, 1)),
    ("clCreateImage3D", (1, 0), (1, 1)),
    ("clEnqueueMarker", (1, 0), (1, 1)),
    ("clCreateCommandQueue", (1, 0), (1, 2)),
    ("clCreateSampler", (1, 0), (1, 2)),
    ("clSetProgramReleaseCallback", (2, 2), (2, 2)),
    ("clCreateFromGLTexture2D", (1, 0), (1, 1)),
])
def test_deprecated_functions(name, version, deprecated_after):
    proto = G.FUNCTIONS[name]
    assert (proto.version, proto.extension, proto.deprecated_after) == (version, None, deprecated_after)


@pytest.mark.parametrize("name, extension", [
    ("clCreateCommandBufferKHR", "cl_khr_command_buffer"),
    ("clUpdateMutableCommandsKHR", "cl_khr_command_buffer_mutable_dispatch"),
    ("clIcdGetPlatformIDsKHR", "cl_khr_icd"),
    ("clGetGLContextInfoKHR", "cl_khr_gl_sharing"),
    ("clCreateFromEGLImageKHR", "cl_khr_egl_image"),
    ("clSetMemObjectDestructorAPPLE", "cl_APPLE_SetMemObjectDestructor"),
    ("clLogMessagesToStderrAPPLE", "cl_APPLE_ContextLoggingFunctions"),
    ("clHostMemAllocINTEL", "cl_intel_unified_shared_memory"),
])
def test_extension_functions(name, extension):
    proto = G.FUNCTIONS[name]
    assert (proto.version, proto.extension, proto.deprecated_after) == (None, extension, None)
    assert proto.requirement == extension


def test_every_function_has_a_version_or_an_extension():
    bad = [n for n, p in G.FUNCTIONS.items() if (p.version is None) == (p.extension is None)]
    assert not bad


def test_every_core_function_of_cl_h_is_recorded():
    text = (HEADERS / "CL" / "cl.h").read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    names = {re.findall(r"\w+", m)[-1] for m in re.findall(r"extern\s+CL_API_ENTRY\b([^(;]*)\(", text)}
    assert len(names) > 100 and "clGetPlatformIDs" in names and "clCreateImage2D" in names
    missing = sorted(names - set(G.FUNCTIONS))
    assert not missing, missing
    # ... and nothing else is attributed to cl.h.
    assert {n for n, p in G.FUNCTIONS.items() if p.header == "cl.h"} == names


def test_errcode_tables_are_consistent():
    assert G.ERROR_CODES[-30] == ("CL_INVALID_VALUE",)
    for code, names in G.ERROR_CODES.items():
        assert code < 0
        for n in names:
            assert getattr(G, n) == code
    for not_error in ("CL_BUILD_ERROR", "CL_BUILD_IN_PROGRESS", "CL_BUILD_NONE"):
        assert all(not_error not in names for names in G.ERROR_CODES.values())


# --------------------------------------------------------------------------- #
# The ICD dispatch table
# --------------------------------------------------------------------------- #

def test_dispatch_table_lists_every_slot_of_cl_icd_h():
    assert len(G.DISPATCH_TABLE) == len(G.DISPATCH_MEMBERS) == 149
    assert G.DISPATCH_TABLE[:4] == ("clGetPlatformIDs", "clGetPlatformInfo", "clGetDeviceIDs", "clGetDeviceInfo")
    assert G.DISPATCH_TABLE[-1] == "clSetContextDestructorCallback"
    for name, member in zip(G.DISPATCH_TABLE, G.DISPATCH_MEMBERS):
        assert name is None or (name == member and name in G.FUNCTIONS)
    # Outside Windows the Direct3D and DX9 sharing slots are typedef void *.
    assert [m for n, m in zip(G.DISPATCH_TABLE, G.DISPATCH_MEMBERS) if n is None] == [
        m for m in G.DISPATCH_MEMBERS if "D3D" in m or "DX9" in m]
    # Every core function has a slot; no function has two.
    core = {n for n, p in G.FUNCTIONS.items() if p.version is not None}
    named = [n for n in G.DISPATCH_TABLE if n]
    assert core <= set(named) and len(named) == len(set(named))


@needs_gcc
def test_dispatch_table_layout_and_types_match_c(tmp_path):
    """offsetof(struct _cl_icd_dispatch, member) == index * sizeof(void *) for every slot; a slot is
    None exactly where its cl_api_ typedef is void *; every other slot's typedef takes the header's
    own function (so the recorded prototype is the slot's type)."""
    lines = ['printf("S\\t%zu\\t%zu\\n", sizeof(struct _cl_icd_dispatch), sizeof(void *));']
    checks = []
    for index, member in enumerate(G.DISPATCH_MEMBERS):
        lines.append(f'printf("D\\t{index}\\t{member}\\t%zu\\t%d\\n", offsetof(struct _cl_icd_dispatch, {member}), '
                     f"__builtin_types_compatible_p(cl_api_{member}, void *));")
        if G.DISPATCH_TABLE[index] is not None:
            checks.append(f"    {{ cl_api_{member} p = &{member}; (void)p; }}")
    # Assigning the function to its slot type compiles (-Werror=incompatible-pointer-types) ...
    compile_and_run(tmp_path, C_PRELUDE + "#include <CL/cl_icd.h>\nvoid slot_types(void) {\n" +
                    "\n".join(checks) + "\n}\n", run=False)
    # ... and the layout, printed.
    source = (C_PRELUDE + "#include <CL/cl_icd.h>\nint main(void) {\n    " + "\n    ".join(lines) +
              "\n    return 0;\n}\n")
    output = compile_and_run(tmp_path, source)
    rows = [line.split("\t") for line in output.splitlines()]
    size, pointer = next(map(int, r[1:]) for r in rows if r[0] == "S")
    assert size == len(G.DISPATCH_MEMBERS) * pointer == len(G.DISPATCH_TABLE) * ctypes.sizeof(ctypes.c_void_p)
    slots = [r for r in rows if r[0] == "D"]
    assert len(slots) == len(G.DISPATCH_MEMBERS)
    for _, index, member, offset, is_void in slots:
        index = int(index)
        assert int(offset) == index * pointer, f"{member}: offset {offset}, expected {index * pointer}"
        assert (G.DISPATCH_TABLE[index] is None) == (is_void == "1"), member


def test_constants_record_the_version_or_extension_that_introduced_them():
    """CONSTANT_SINCE feeds the info attributes' docstrings; extensions without a
    ``#define cl_xxx 1`` are found from the comment that opens their section."""
    import opencl_raw._generated as G
    facts = {
        "CL_DEVICE_TYPE": "OpenCL 1.0", "CL_DEVICE_IL_VERSION": "OpenCL 2.1",
        "CL_DEVICE_NUMERIC_VERSION": "OpenCL 3.0", "CL_MEM_USES_SVM_POINTER": "OpenCL 2.0",
        "CL_DEVICE_HALF_FP_CONFIG": "cl_khr_fp16", "CL_DEVICE_SPIR_VERSIONS": "cl_khr_spir",
        "CL_DEVICE_UUID_KHR": "cl_khr_device_uuid", "CL_COMMAND_BUFFER_STATE_KHR": "cl_khr_command_buffer",
        "CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV": "cl_nv_device_attribute_query",
        "CL_QUEUE_PRIORITY_KHR": "cl_khr_priority_hints",
    }
    assert {name: G.CONSTANT_SINCE.get(name) for name in facts} == facts
    assert G.FUNCTIONS["clCreateEventFromGLsyncKHR"].extension == "cl_khr_gl_event"
