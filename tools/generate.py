#!/usr/bin/env python3
"""Generate ``opencl_raw/_generated.py`` from the Khronos headers in ``headers/``.

The Khronos headers are regular enough that a small preprocessor (object-like
macros and ``#if`` evaluation) plus a declaration parser covers them.  The
preprocessor is configured as a GCC build on Linux targeting OpenCL 3.0 with
every deprecated API enabled, so all of OpenCL 1.0 to 3.0 is seen.

For every function the output records the C name, return type, parameter names
and types, the OpenCL version that introduced it (from its
``CL_API_SUFFIX__VERSION_x_y`` or the enclosing ``CL_VERSION_x_y`` block) or the
extension it belongs to (the ``#define cl_khr_xxx 1`` that opens its block), and
whether it is deprecated (``deprecated_after``: the last version in which it was
not deprecated, from ``CL_API_SUFFIX__VERSION_x_y_DEPRECATED``).

From ``cl_icd.h`` it records the ICD dispatch table, ``struct _cl_icd_dispatch``: the
function of every slot in order (``DISPATCH_TABLE``; None where the slot's
``cl_api_<name>`` typedef is ``void *`` in this build), each slot's typedef checked
against the function's prototype.

Usage: ``python3 tools/generate.py [--output PATH]``.  The output is
deterministic: the same headers always give the same bytes.
"""
from __future__ import annotations

import argparse
import os
import re
import struct
import sys
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER_DIR = os.path.join(ROOT, "headers")
DEFAULT_OUTPUT = os.path.join(ROOT, "opencl_raw", "_generated.py")

# Headers read, in include order.  cl_version.h only feeds the preprocessor.
HEADERS = ["cl_version.h", "cl_platform.h", "cl.h", "cl_gl.h", "cl_egl.h", "cl_ext.h"]
# Headers whose functions and constants make up the API surface.
API_HEADERS = {"cl.h", "cl_gl.h", "cl_egl.h", "cl_ext.h"}
# Read after HEADERS (with their macros) for the ICD dispatch table layout only.
ICD_HEADER = "cl_icd.h"

# The build we emulate: GCC on 64-bit Linux, OpenCL 3.0 target.
PREDEFINED = {
    "__GNUC__": "12",
    "__linux__": "1",
    "__x86_64__": "1",
    "__STDC__": "1",
    "CL_TARGET_OPENCL_VERSION": "300",
    # Keep deprecated entry points visible without deprecation attributes.
    "CL_USE_DEPRECATED_OPENCL_1_0_APIS": "",
    "CL_USE_DEPRECATED_OPENCL_1_1_APIS": "",
    "CL_USE_DEPRECATED_OPENCL_1_2_APIS": "",
    "CL_USE_DEPRECATED_OPENCL_2_0_APIS": "",
    "CL_USE_DEPRECATED_OPENCL_2_1_APIS": "",
    "CL_USE_DEPRECATED_OPENCL_2_2_APIS": "",
}

# C scalar spellings -> ctypes expressions (the LP64 data model).
C_SCALARS = {
    "void": "None",
    "char": "_c.c_char",
    "signed char": "_c.c_byte",
    "unsigned char": "_c.c_ubyte",
    "short": "_c.c_short",
    "unsigned short": "_c.c_ushort",
    "int": "_c.c_int",
    "unsigned int": "_c.c_uint",
    "long": "_c.c_long",
    "unsigned long": "_c.c_ulong",
    "float": "_c.c_float",
    "double": "_c.c_double",
    "size_t": "_c.c_size_t",
    "intptr_t": "_c.c_ssize_t",
    "uintptr_t": "_c.c_size_t",
    "int8_t": "_c.c_int8",
    "uint8_t": "_c.c_uint8",
    "int16_t": "_c.c_int16",
    "uint16_t": "_c.c_uint16",
    "int32_t": "_c.c_int32",
    "uint32_t": "_c.c_uint32",
    "int64_t": "_c.c_int64",
    "uint64_t": "_c.c_uint64",
}

# Negative constants that are build states, not error codes.
NOT_ERROR_CODES = {"CL_BUILD_NONE", "CL_BUILD_ERROR", "CL_BUILD_IN_PROGRESS"}

VERSION_RE = re.compile(r"CL_API_(?:SUFFIX|PREFIX)__VERSION_(\d)_(\d)(_DEPRECATED)?")
BLOCK_VERSION_RE = re.compile(r"CL_VERSION_(\d)_(\d)")
IDENT_RE = re.compile(r"[A-Za-z_]\w*")
DROP_TOKENS = {"extern", "CL_API_ENTRY", "CL_API_CALL", "CL_CALLBACK", "CL_API_SUFFIX__EXPERIMENTAL",
               "CL_EXT_PREFIX__VERSION_1_1_DEPRECATED", "CL_EXT_SUFFIX__VERSION_1_1_DEPRECATED",
               "CL_EXT_PREFIX__VERSION_1_2_DEPRECATED", "CL_EXT_SUFFIX__VERSION_1_2_DEPRECATED",
               "__extension__"}


# --------------------------------------------------------------------------- #
# Preprocessing
# --------------------------------------------------------------------------- #

def strip_comments(text: str) -> str:
    """Remove C comments, keeping string literals and line structure."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.index("*/", i + 2)
            out.append("\n" * text.count("\n", i, j) or " ")
            i = j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


EXTENSION_PRAGMA = "opencl_raw_extension"
_COMMENT_RE = re.compile(r"/\*(.*?)\*/", re.S)
_EXTENSION_LINE_RE = re.compile(r"(?:(Extension:)\s*)?(cl_[A-Za-z0-9]+_[A-Za-z0-9_]+)(\s+extension\b.*)?")


def mark_extension_comments(text: str) -> str:
    """Put a ``#pragma opencl_raw_extension NAME`` line after each comment that opens an
    extension's section (``/* cl_khr_fp16 extension ... */``, ``Extension: cl_khr_spir`` or a
    ``****`` banner naming it),
    so that constants of extensions without a ``#define cl_xxx 1`` get the right extension."""
    def mark(match):
        body = match.group(1)
        for line in body.splitlines():
            found = _EXTENSION_LINE_RE.fullmatch(line.strip(" */\t"))
            if found and (found.group(1) or found.group(3) or "****" in body):
                return f"{match.group(0)}\n#pragma {EXTENSION_PRAGMA} {found.group(2)}\n"
        return match.group(0)
    return _COMMENT_RE.sub(mark, text)


class Preprocessor:
    """Object-like macros and conditional inclusion, enough for the Khronos headers."""

    def __init__(self, predefined: dict[str, str]):
        self.macros = dict(predefined)

    def expand(self, expr: str, depth: int = 0) -> str:
        def repl(m):
            name = m.group(0)
            if name in self.macros and depth < 20:
                return "(" + self.expand(self.macros[name], depth + 1) + ")" if self.macros[name] else ""
            return name
        return IDENT_RE.sub(repl, expr)

    def evaluate(self, expr: str) -> bool:
        expr = re.sub(r"defined\s*\(\s*(\w+)\s*\)|defined\s+(\w+)",
                      lambda m: " 1 " if (m.group(1) or m.group(2)) in self.macros else " 0 ", expr)
        expr = self.expand(expr)
        expr = re.sub(r"(\d+)[uUlL]+\b", r"\1", expr)
        expr = expr.replace("&&", " and ").replace("||", " or ")
        expr = re.sub(r"!(?!=)", " not ", expr)
        expr = IDENT_RE.sub(lambda m: m.group(0) if m.group(0) in ("and", "or", "not") else "0", expr)
        return bool(eval(expr, {"__builtins__": {}}))  # noqa: S307 - header text only

    def run(self, text: str):
        """Yield (kind, payload, conditions) for active lines.

        kind is "define" (name, value, params) or "code" (a text line).
        conditions is the tuple of #if texts enclosing the line.
        """
        text = strip_comments(mark_extension_comments(text.replace("\\\n", " ")))
        stack: list[tuple[bool, bool, str]] = []  # (active, taken, condition text)
        for line in text.split("\n"):
            stripped = line.strip()
            active = all(s[0] for s in stack)
            if stripped.startswith("#"):
                m = re.match(r"#\s*(\w+)\s*(.*)", stripped)
                if not m:
                    continue
                directive, rest = m.group(1), m.group(2).strip()
                if directive in ("if", "ifdef", "ifndef"):
                    if directive == "ifdef":
                        cond = f"defined({rest})"
                    elif directive == "ifndef":
                        cond = f"!defined({rest})"
                    else:
                        cond = rest
                    ok = active and self.evaluate(cond)
                    stack.append((ok, ok, cond))
                elif directive == "elif":
                    _, taken, cond = stack.pop()
                    outer = all(s[0] for s in stack)
                    ok = outer and not taken and self.evaluate(rest)
                    stack.append((ok, taken or ok, rest))
                elif directive == "else":
                    _, taken, cond = stack.pop()
                    outer = all(s[0] for s in stack)
                    stack.append((outer and not taken, True, f"!({cond})"))
                elif directive == "endif":
                    stack.pop()
                elif not active:
                    continue
                elif directive == "define":
                    dm = re.match(r"(\w+)(\(([^)]*)\))?\s*(.*)", rest)
                    name, params, value = dm.group(1), dm.group(3), dm.group(4).strip()
                    if params is None:
                        self.macros[name] = value
                    yield "define", (name, value, params), tuple(s[2] for s in stack)
                elif directive == "undef":
                    self.macros.pop(rest, None)
                elif directive == "pragma" and rest.startswith(EXTENSION_PRAGMA):
                    yield "extension", rest[len(EXTENSION_PRAGMA):].strip(), tuple(s[2] for s in stack)
                continue
            if active and stripped:
                yield "code", stripped, tuple(s[2] for s in stack)


# --------------------------------------------------------------------------- #
# Model
# --------------------------------------------------------------------------- #

@dataclass
class CType:
    base: str                      # e.g. "cl_int", "void", "unsigned char"
    pointers: int = 0
    const: bool = False            # const applies to the pointee of the outermost pointer
    array: str | None = None       # array extent text for struct fields
    callback: "FuncSig | None" = None

    def c(self) -> str:
        if self.callback:
            return self.callback.c_pointer()
        return ("const " if self.const else "") + self.base + " " + "*" * self.pointers


@dataclass
class Param:
    name: str
    type: CType


@dataclass
class FuncSig:
    name: str
    restype: CType
    params: list[Param]

    def c_pointer(self) -> str:
        args = ", ".join(p.type.c().strip() for p in self.params)
        return f"{self.restype.c().strip()} (*)({args})"


@dataclass
class Function:
    sig: FuncSig
    header: str
    version: tuple[int, int] | None
    extension: str | None
    deprecated: tuple[int, int] | None   # deprecated in the version after this one


@dataclass
class Struct:
    name: str
    kind: str                      # "struct" or "union"
    fields: list = field(default_factory=list)  # (name, CType) or (name, Struct) for nested struct/union types
    named: bool = False            # a nested type of a named member (not an anonymous member)


@dataclass
class Model:
    scalars: list = field(default_factory=list)      # (name, ctypes expression)
    typedefs: list = field(default_factory=list)     # (name, target name)
    handles: list = field(default_factory=list)      # names
    vectors: list = field(default_factory=list)      # (name, element, count, alignment) or (name, alias)
    structs: list = field(default_factory=list)
    callbacks: list = field(default_factory=list)    # FuncSig, named
    constants: list = field(default_factory=list)    # (name, python literal, header)
    macros: list = field(default_factory=list)       # (name, params, python expression)
    functions: dict = field(default_factory=dict)    # name -> Function
    skipped: list = field(default_factory=list)      # (name, reason)
    since: dict = field(default_factory=dict)        # constant name -> 'OpenCL 1.2' or extension name
    negative_literals: set = field(default_factory=set)  # constants written as a negative literal (-30)
    dispatch: list = field(default_factory=list)     # (member, is a function pointer) of struct _cl_icd_dispatch


# --------------------------------------------------------------------------- #
# Declarations
# --------------------------------------------------------------------------- #

def tokenize(text: str) -> list[str]:
    return re.findall(r"[A-Za-z_]\w*|\d+|\.\.\.|\S", text)


def split_top(text: str, sep: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def matching_paren(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced parentheses in {text!r}")


def parse_type(tokens: list[str]) -> CType:
    """Parse type tokens (no declarator name) into a CType."""
    const = False
    pointers = 0
    base_words = []
    seen_pointer = False
    for tok in tokens:
        if tok == "const":
            if not seen_pointer:
                const = True
        elif tok == "*":
            pointers += 1
            seen_pointer = True
        elif tok in ("struct", "enum", "union"):
            base_words.append(tok)
        elif tok in DROP_TOKENS:
            continue
        else:
            base_words.append(tok)
    base = " ".join(base_words) or "int"
    if base in ("unsigned", "signed"):
        base += " int"
    return CType(base=base, pointers=pointers, const=const)


def parse_param(text: str, index: int, owner: str) -> Param:
    text = text.strip()
    if "(" in text and re.search(r"\(\s*(CL_CALLBACK|CL_API_CALL)?\s*\*", text):
        # Function pointer parameter: RET (CL_CALLBACK * name)(args)
        i = text.index("(")
        ret = parse_type(tokenize(text[:i]))
        close = matching_paren(text, i)
        inner = [t for t in tokenize(text[i + 1:close]) if t not in DROP_TOKENS and t != "*"]
        name = inner[0] if inner else f"arg{index}"
        args_start = text.index("(", close)
        args_text = text[args_start + 1:matching_paren(text, args_start)]
        sig = FuncSig(f"{owner}_{name}", ret, parse_params(args_text, f"{owner}_{name}"))
        return Param(name, CType(base=sig.name, callback=sig))
    array = text.endswith("]")
    if array:
        text = text[:text.rindex("[")].strip()
    tokens = tokenize(text)
    name = None
    if len(tokens) > 1 and IDENT_RE.fullmatch(tokens[-1]) and tokens[-1] not in (
            "const", "int", "char", "long", "short", "float", "double") and not (
            len(tokens) == 2 and tokens[0] in ("unsigned", "signed")):
        name = tokens.pop()
    ctype = parse_type(tokens)
    if array:
        ctype.pointers += 1
    return Param(name or f"arg{index}", ctype)


def parse_params(text: str, owner: str) -> list[Param]:
    text = text.strip()
    if text in ("", "void"):
        return []
    return [parse_param(p, i, owner) for i, p in enumerate(split_top(text, ","))]


def parse_struct_body(body: str, owner: str, counter: list[int]) -> list:
    fields = []
    for decl in split_top(body, ";"):
        decl = decl.strip()
        if not decl:
            continue
        tokens = [t for t in tokenize(decl) if t not in DROP_TOKENS]
        if tokens and tokens[0] in ("union", "struct") and "{" in decl:
            inner = decl[decl.index("{") + 1:decl.rindex("}")]
            member = decl[decl.rindex("}") + 1:].strip()
            if IDENT_RE.fullmatch(member):
                # A named member of an unnamed struct/union type: struct { ... } raw;
                sub = Struct(f"_{owner}_{member}", tokens[0], parse_struct_body(inner, owner, counter), named=True)
                fields.append((member, sub))
                continue
            counter[0] += 1
            sub = Struct(f"_{owner}_anon{counter[0]}", tokens[0], parse_struct_body(inner, owner, counter))
            fields.append((f"_anon{counter[0]}", sub))
            continue
        aligned = re.search(r"CL_ALIGNED\(\s*(\d+)\s*\)", decl)
        decl = re.sub(r"CL_ALIGNED\(\s*\d+\s*\)", "", decl)
        first, *more = split_top(decl, ",")
        tokens = tokenize(first)
        # Type words end where the first declarator begins.
        m = re.match(r"(.*?)(\**\s*\w+\s*(\[[^\]]*\])?)\s*$", first.strip(), re.S)
        type_tokens = tokenize(m.group(1))
        for declarator in [m.group(2)] + more:
            dm = re.match(r"\s*(\**)\s*(\w+)\s*(?:\[([^\]]*)\])?\s*$", declarator)
            ctype = parse_type(type_tokens + ["*"] * len(dm.group(1)))
            ctype.array = dm.group(3)
            fields.append((dm.group(2), ctype))
        del tokens, aligned
    return fields


# ctypes expressions of C_SCALARS -> (bits, signed), for C integer arithmetic on constants.
CTYPES_INT = {
    "_c.c_char": (8, True), "_c.c_byte": (8, True), "_c.c_ubyte": (8, False), "_c.c_int8": (8, True),
    "_c.c_uint8": (8, False), "_c.c_short": (16, True), "_c.c_ushort": (16, False), "_c.c_int16": (16, True),
    "_c.c_uint16": (16, False), "_c.c_int": (32, True), "_c.c_uint": (32, False), "_c.c_int32": (32, True),
    "_c.c_uint32": (32, False), "_c.c_long": (64, True), "_c.c_ulong": (64, False), "_c.c_int64": (64, True),
    "_c.c_uint64": (64, False), "_c.c_size_t": (64, False), "_c.c_ssize_t": (64, True),
}


class CInt:
    """An integer constant with its C type (LP64), so that ``0xAA << 24`` is an int and
    ``(cl_ulong)0 - 1`` a cl_ulong, as in C (GCC wraps signed overflow)."""

    __slots__ = ("value", "bits", "signed")

    def __init__(self, value: int, bits: int = 32, signed: bool = True):
        value &= (1 << bits) - 1
        if signed and value >> (bits - 1):
            value -= 1 << bits
        self.value, self.bits, self.signed = value, bits, signed

    @staticmethod
    def literal(text: str) -> "CInt":
        m = re.fullmatch(r"(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)([uUlL]*)", text)
        digits, suffix = m.group(1), m.group(2).lower()
        decimal = not digits.startswith("0")
        value = int(digits, 16 if digits[:2].lower() == "0x" else 8 if not decimal else 10)
        for bits, signed in ((32, True), (32, False), (64, True), (64, False)):
            if ("u" in suffix and signed) or ("l" in suffix and bits < 64) or (decimal and "u" not in suffix
                                                                                and not signed):
                continue
            if value < 1 << (bits - signed):
                return CInt(value, bits, signed)
        raise ValueError(f"integer literal {text} is too large")

    def promoted(self) -> "CInt":
        return self if self.bits >= 32 else CInt(self.value, 32, True)

    def _arith(self, other, op):
        if not isinstance(other, CInt):
            return NotImplemented
        a, b = self.promoted(), other.promoted()
        if a.bits != b.bits:
            bits, signed = max((a.bits, a.signed), (b.bits, b.signed))
        else:
            bits, signed = a.bits, a.signed and b.signed
        x, y = CInt(a.value, bits, signed).value, CInt(b.value, bits, signed).value
        return CInt(op(x, y), bits, signed)

    def __add__(self, o): return self._arith(o, lambda x, y: x + y)
    def __sub__(self, o): return self._arith(o, lambda x, y: x - y)
    def __mul__(self, o): return self._arith(o, lambda x, y: x * y)
    def __truediv__(self, o): return self._arith(o, _c_div)
    def __mod__(self, o): return self._arith(o, lambda x, y: x - y * _c_div(x, y))
    def __and__(self, o): return self._arith(o, lambda x, y: x & y)
    def __or__(self, o): return self._arith(o, lambda x, y: x | y)
    def __xor__(self, o): return self._arith(o, lambda x, y: x ^ y)
    def __lshift__(self, o): return CInt(self.promoted().value << o.value, *self.promoted()._type())
    def __rshift__(self, o): return CInt(self.promoted().value >> o.value, *self.promoted()._type())
    def __lt__(self, o): return CInt(int(self._arith(o, lambda x, y: x < y).value), 32, True)
    def __gt__(self, o): return CInt(int(self._arith(o, lambda x, y: x > y).value), 32, True)
    def __neg__(self): return CInt(-self.promoted().value, *self.promoted()._type())
    def __pos__(self): return self.promoted()
    def __invert__(self): return CInt(~self.promoted().value, *self.promoted()._type())

    def _type(self):
        return self.bits, self.signed


def _c_div(x: int, y: int) -> int:
    """C integer division: the quotient truncated toward zero."""
    q = abs(x) // abs(y)
    return q if (x < 0) == (y < 0) else -q


class CCast:
    """``(type) x`` written as ``CCast(bits, signed) @ x`` (``@`` binds like a cast here)."""

    def __init__(self, bits: int, signed: bool):
        self.bits, self.signed = bits, signed

    def __matmul__(self, other: CInt) -> CInt:
        return CInt(other.value, self.bits, self.signed)


def format_int(value: int) -> str:
    return str(value) if abs(value) < 4096 else hex(value) if value >= 0 else str(value)


class Parser:
    def __init__(self):
        self.model = Model()
        self.known_types = set(C_SCALARS)
        self.ext_function_types: dict[str, FuncSig] = {}
        self.constant_types: dict[str, tuple] = {}   # integer constant -> (value, bits, signed)

    # -- constants ---------------------------------------------------------- #
    def c_expr_to_python(self, value: str, params=()) -> str | None:
        v = value.strip()
        if not v:
            return None
        if re.fullmatch(r'"[^"]*"', v):
            return repr(v[1:-1])
        # Casts to known types, e.g. (cl_bitfield), (cl_float).
        float_cast = bool(re.search(r"\(\s*cl_float\s*\)", v))
        v = re.sub(r"\(\s*(cl_\w+|int|unsigned int|size_t|unsigned long long|long long)\s*\)", " ", v)
        v = re.sub(r"\bCL_LONG\(", "(", v)
        floats = re.findall(r"\d+\.\d*(?:[eE][+-]?\d+)?[fF]?|\d+[eE][+-]?\d+[fF]?", v)
        is_f32 = float_cast or any(f[-1] in "fF" for f in floats)
        v = re.sub(r"(\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)[fF]\b", r"\1", v)
        v = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", v)
        if re.search(r"[^\w\s()+\-*/%<>|&^~.]", v):
            return None
        names = set(IDENT_RE.findall(re.sub(r"\b0[xX][0-9a-fA-F]+\b|\d+\.?\d*(?:[eE][+-]?\d+)?", " ", v)))
        known = {c[0] for c in self.model.constants}
        if not names <= known | set(params):
            return None
        py = re.sub(r"\s+", " ", v).strip()
        py = re.sub(r"(?<![\w.])/(?!/)", "/", py)
        if not params:
            ns = {c[0]: eval(c[1], {"__builtins__": {}}) for c in self.model.constants if c[0] in names}
            try:
                result = eval(py, {"__builtins__": {}}, ns)
            except Exception:
                return None
            if isinstance(result, float):
                if is_f32:
                    result = struct.unpack("f", struct.pack("f", result))[0]
                return repr(result)
            if isinstance(result, int):
                return format_int(result)
            return None
        return py

    def c_int_type(self, name: str):
        """(bits, signed) of an integer type name (typedefs followed), or None."""
        for _ in range(10):
            scalar = dict(self.model.scalars).get(name) or C_SCALARS.get(name)
            if scalar:
                return CTYPES_INT.get(scalar)
            if name in ("long long", "unsigned long long"):
                return 64, not name.startswith("unsigned")
            name = dict(self.model.typedefs).get(name)
            if name is None:
                return None
        return None

    def c_int_constant(self, value: str) -> CInt | None:
        """Evaluate an integer constant expression with C types and arithmetic, or None."""
        tokens = re.findall(r"0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|[A-Za-z_]\w*|<<|>>|\S", value)
        out, i = [], 0
        while i < len(tokens):
            tok = tokens[i]
            if tok == "(" and ")" in tokens[i:]:
                close = tokens.index(")", i)
                words = tokens[i + 1:close]
                cast = self.c_int_type(" ".join(words)) if words and all(IDENT_RE.fullmatch(w) for w in words) \
                    and not any(w in self.constant_types for w in words) else None
                if cast:
                    out.append(f"CCast{cast} @")
                    i = close + 1
                    continue
            if re.fullmatch(r"\d\w*", tok):
                out.append(f"CInt.literal({tok!r})")
            elif IDENT_RE.fullmatch(tok):
                if tok not in self.constant_types:
                    return None
                out.append(f"CInt{self.constant_types[tok]}")
            elif tok in ("<<", ">>") or tok in "+-*/%&|^~()<>":
                out.append(tok)
            else:
                return None
            i += 1
        try:
            result = eval(" ".join(out), {"__builtins__": {}, "CInt": CInt, "CCast": CCast})  # noqa: S307
        except Exception:
            return None
        return result if isinstance(result, CInt) else None

    def on_define(self, name, value, params, header):
        if header not in API_HEADERS | {"cl_platform.h"}:
            return
        if not name.startswith("CL_") or name.startswith(("CL_API_", "CL_EXT_")) or name in (
                "CL_CALLBACK", "CL_ALIGNED", "CL_API_ENTRY", "CL_API_CALL", "CL_PROGRAM_STRING_DEBUG_INFO",
                "CL_HAS_NAMED_VECTOR_FIELDS", "CL_HAS_HI_LO_VECTOR_FIELDS", "CL_DEPRECATED"):
            return
        if params is not None:
            plist = [p.strip() for p in params.split(",") if p.strip()]
            py = self.c_expr_to_python(value, plist)
            if py is None:
                self.model.skipped.append((name, "function-like macro not translated"))
            else:
                self.model.macros.append((name, plist, py))
            return
        py = self.c_expr_to_python(value)
        if py is None:
            self.model.skipped.append((name, f"value {value!r} is not a constant expression"))
            return
        self.constant_types.pop(name, None)
        if re.fullmatch(r"-?(0x[0-9a-f]+|\d+)", py):
            # Integers take their C type: (cl_ulong)0 - 1 is 2**64 - 1, 0xAA << 24 a negative int.
            typed = self.c_int_constant(value)
            if typed is not None:
                self.constant_types[name] = (typed.value, typed.bits, typed.signed)
                py = format_int(typed.value)
            if re.fullmatch(r"\(*\s*-\s*\d+\s*\)*", value):
                self.model.negative_literals.add(name)
        self.model.constants = [c for c in self.model.constants if c[0] != name]
        self.model.constants.append((name, py, header))

    def note_since(self, name: str, header: str, conditions, extension) -> None:
        """Record the OpenCL version (cl.h) or extension that introduced a constant."""
        if name not in {c[0] for c in self.model.constants[-1:]} or header == "cl_platform.h":
            return
        if header == "cl.h":
            block = [tuple(map(int, m.groups())) for c in conditions for m in BLOCK_VERSION_RE.finditer(c)
                     if not c.startswith("!")]
            major, minor = max(block) if block else (1, 0)
            self.model.since[name] = f"OpenCL {major}.{minor}"
        elif extension:
            self.model.since[name] = extension

    # -- declarations ------------------------------------------------------- #
    def on_statement(self, stmt: str, header: str, conditions, extension):
        stmt = re.sub(r"\s+", " ", stmt).strip()
        if not stmt or stmt.startswith(("#", 'extern "C"')):
            return
        if stmt.startswith("typedef"):
            self.on_typedef(stmt[len("typedef"):].strip(), header, conditions, extension)
        elif stmt.startswith("extern") or "CL_API_CALL" in stmt:
            self.on_function(stmt, header, conditions, extension)

    def on_typedef(self, body: str, header, conditions, extension):
        body = VERSION_RE.sub(" ", body).strip()
        m = re.match(r"(struct|union)\s*(\w+)?\s*\{(.*)\}\s*(\w+)$", body, re.S)
        if m:
            kind, _, inner, name = m.groups()
            if header == "cl_platform.h" and kind == "union":
                vm = re.search(r"(cl_\w+)\s+CL_ALIGNED\(\s*(\d+)\s*\)\s+s\s*\[\s*(\d+)\s*\]", inner)
                self.model.vectors.append((name, vm.group(1), int(vm.group(3)), int(vm.group(2))))
            else:
                counter = [0]
                self.model.structs.append(Struct(name, kind, parse_struct_body(inner, name, counter)))
            self.known_types.add(name)
            return
        if "(" in body:
            # Function pointer or function type typedef.
            m = re.match(r"(.*?)\(\s*(?:CL_API_CALL|CL_CALLBACK)?\s*\*\s*(\w+)\s*\)\s*\((.*)\)$", body, re.S)
            if not m:
                m2 = re.match(r"(.*?)\bCL_API_CALL\s+(\w+)\s*\((.*)\)$", body, re.S)
                if not m2:
                    self.model.skipped.append((body[:40], "typedef not understood"))
                    return
                m = m2
            ret = parse_type(tokenize(m.group(1)))
            name = m.group(2)
            sig = FuncSig(name, ret, parse_params(m.group(3), name))
            self.model.callbacks.append(sig)
            if name.endswith("_fn"):
                self.ext_function_types[name[:-3]] = (sig, header, extension)
            self.known_types.add(name)
            return
        m = re.match(r"struct\s+(\w+)\s*\*\s*(\w+)$", body)
        if m:
            self.model.handles.append(m.group(2))
            self.known_types.add(m.group(2))
            return
        tokens = tokenize(body)
        name = tokens.pop()
        target = parse_type(tokens)
        if header == "cl_platform.h" and target.base in C_SCALARS and not target.pointers:
            self.model.scalars.append((name, C_SCALARS[target.base]))
        elif header == "cl_platform.h" and target.base.startswith("__"):
            return  # compiler vector types (__cl_float4 ...) are not part of the API
        elif target.pointers == 0 and target.base in C_SCALARS:
            self.model.scalars.append((name, C_SCALARS[target.base]))
        elif target.pointers == 0 and target.base in self.known_types:
            if target.base in {v[0] for v in self.model.vectors}:
                self.model.vectors.append((name, target.base))
            else:
                self.model.typedefs.append((name, target.base))
        elif target.pointers == 1 and target.base == "void":
            self.model.typedefs.append((name, "void *"))
        else:
            self.model.skipped.append((name, f"typedef of {target.c()} not understood"))
            return
        self.known_types.add(name)

    def on_function(self, stmt: str, header, conditions, extension):
        version = deprecated = None
        for vm in VERSION_RE.finditer(stmt):
            ver = (int(vm.group(1)), int(vm.group(2)))
            if vm.group(3):
                deprecated = ver
            else:
                version = ver
        cleaned = VERSION_RE.sub(" ", stmt)
        cleaned = " ".join(t for t in cleaned.split() if t not in DROP_TOKENS)
        i = cleaned.index("(")
        head = tokenize(cleaned[:i])
        name = head.pop()
        close = matching_paren(cleaned, i)
        sig = FuncSig(name, parse_type(head), parse_params(cleaned[i + 1:close], name))
        block = [tuple(map(int, m.groups())) for c in conditions for m in BLOCK_VERSION_RE.finditer(c)
                 if not c.startswith("!")]
        if header == "cl.h":
            if block:
                version = max(block)
            elif version is None:
                version = (1, 0)
            extension = None
        elif extension:
            version = None
        elif version is None:
            version = (1, 0)  # core, with only a deprecation suffix (clCreateFromGLTexture2D in cl_gl.h)
        self.add_function(Function(sig, header, version, extension, deprecated))

    def add_function(self, fn: Function):
        if fn.sig.name not in self.model.functions:
            self.model.functions[fn.sig.name] = fn

    def finish(self):
        # Extension functions that only have a *_fn typedef (no prototype).
        for name, (sig, header, extension) in self.ext_function_types.items():
            if name not in self.model.functions and header in API_HEADERS:
                self.add_function(Function(FuncSig(name, sig.restype, sig.params), header, None, extension, None))


def parse_headers(header_dir: str) -> Model:
    pp = Preprocessor(PREDEFINED)
    parser = Parser()
    for header in HEADERS:
        with open(os.path.join(header_dir, "CL", header), encoding="utf-8") as f:
            text = f.read()
        extension = None
        buf: list[str] = []
        for kind, payload, conditions in pp.run(text):
            if kind == "extension":
                extension = payload
                continue
            if kind == "define":
                name, value, params = payload
                if re.fullmatch(r"cl_[A-Za-z0-9_]+", name) and value == "1":
                    extension = name
                    continue
                parser.on_define(name, value, params, header)
                parser.note_since(name, header, conditions, extension)
                continue
            buf.append(payload)
            joined = " ".join(buf)
            if joined.count("{") == joined.count("}") and joined.rstrip().endswith((";", "}")):
                for stmt in split_top(joined, ";"):
                    parser.on_statement(stmt, header, conditions, extension)
                buf = []
    parser.finish()
    parser.model.dispatch = parse_dispatch_table(header_dir, pp, parser.model)
    return parser.model


def parse_dispatch_table(header_dir: str, pp: Preprocessor, model: Model) -> list:
    """The slots of ``struct _cl_icd_dispatch`` (cl_icd.h), in order: (member, is a function pointer).

    Every member is declared ``cl_api_<name> <name>;``.  Its ``cl_api_<name>`` typedef is a
    function pointer type, or ``void *`` where the build lacks the function (the Direct3D and
    DX9 sharing entries outside Windows; any entry of a newer OpenCL version than targeted).
    A function pointer typedef must have the parameters of the prototype in ``model.functions``.
    """
    with open(os.path.join(header_dir, "CL", ICD_HEADER), encoding="utf-8") as f:
        text = f.read()
    typedefs: dict[str, FuncSig | None] = {}   # cl_api_X -> signature, or None for void *
    members: list[tuple[str, str]] = []         # (type name, member name)
    buf: list[str] = []
    for kind, payload, _ in pp.run(text):
        if kind != "code":
            continue
        buf.append(payload)
        joined = " ".join(buf)
        if joined.count("{") != joined.count("}") or not joined.rstrip().endswith((";", "}")):
            continue
        buf = []
        for stmt in split_top(joined, ";"):
            stmt = re.sub(r"\s+", " ", VERSION_RE.sub(" ", stmt)).strip()
            m = re.fullmatch(r"typedef struct _cl_icd_dispatch \{(.*)\} (\w+)", stmt)
            if m:
                for decl in split_top(m.group(1), ";"):
                    words = decl.split()
                    if words:
                        if len(words) != 2:
                            raise SystemExit(f"{ICD_HEADER}: dispatch member {decl!r} not understood")
                        members.append((words[0], words[1]))
                continue
            m = re.fullmatch(r"typedef void \*\s*(cl_api_\w+)", stmt)
            if m:
                typedefs[m.group(1)] = None
                continue
            m = re.fullmatch(r"typedef (.*?)\(\s*CL_API_CALL\s*\*\s*(cl_api_\w+)\s*\)\s*\((.*)\)", stmt)
            if m:
                name = m.group(2)
                typedefs[name] = FuncSig(name, parse_type(tokenize(m.group(1))), parse_params(m.group(3), name))
    slots = []
    for type_name, member in members:
        if type_name != "cl_api_" + member or type_name not in typedefs:
            raise SystemExit(f"{ICD_HEADER}: dispatch member {member} has type {type_name}")
        sig = typedefs[type_name]
        if sig is not None:
            fn = model.functions.get(member)
            if fn is None:
                raise SystemExit(f"{ICD_HEADER}: dispatch member {member} is not a function of the headers")
            scalars = dict(model.scalars)

            def same(t: CType) -> str:
                # int and cl_int are one C type (cl_api_clCreateFromGLBuffer says int *errcode_ret).
                if t.callback:
                    return t.c()
                expr = scalars.get(t.base, C_SCALARS.get(t.base, t.base))
                return f"{CTYPES_INT.get(expr, expr)}{'*' * t.pointers}"

            c_types = [same(p.type) for p in sig.params] + [same(sig.restype)]
            want = [same(p.type) for p in fn.sig.params] + [same(fn.sig.restype)]
            if c_types != want:
                raise SystemExit(f"{ICD_HEADER}: {type_name} {c_types} differs from the prototype {want}")
        slots.append((member, sig is not None))
    if not slots:
        raise SystemExit(f"{ICD_HEADER}: struct _cl_icd_dispatch not found")
    return slots


# --------------------------------------------------------------------------- #
# Output
# --------------------------------------------------------------------------- #

class Emitter:
    def __init__(self, model: Model):
        self.m = model
        self.names: set[str] = set()
        self.lines: list[str] = []
        self.vector_names = {v[0] for v in model.vectors}

    def ctype(self, t: CType) -> str:
        if t.callback:
            return t.callback.name
        base = t.base
        if base in ("char",) and t.pointers >= 1:
            expr = "_c.c_char_p"
            depth = t.pointers - 1
        elif base == "void" and t.pointers >= 1:
            expr = "_c.c_void_p"
            depth = t.pointers - 1
        else:
            expr = C_SCALARS.get(base, base)
            depth = t.pointers
        for _ in range(depth):
            expr = f"_c.POINTER({expr})"
        return expr

    def field_type(self, t: CType) -> str:
        expr = self.ctype(t)
        if t.array:
            expr = f"{expr} * {t.array}"
        return expr

    def w(self, line: str = ""):
        self.lines.append(line)

    def emit(self) -> str:
        m = self.m
        self.w(BANNER)
        self.w("# Scalar types (cl_platform.h, LP64).")
        for name, expr in m.scalars:
            self.w(f"{name} = {expr}")
        self.w()
        self.w("# Handle types: distinct pointer-sized types, one per opaque struct.")
        for name in m.handles:
            self.w(f"class {name}(_Handle):")
            self.w("    __slots__ = ()")
        self.w()
        self.w("# Type aliases.")
        for name, target in m.typedefs:
            self.w(f"{name} = {'_c.c_void_p' if target == 'void *' else target}")
        self.w()
        self.w("# Vector types: C size and alignment (cl_float3 is cl_float4).")
        for v in m.vectors:
            if len(v) == 2:
                self.w(f"{v[0]} = {v[1]}")
            else:
                name, elem, count, align = v
                self.w(f"class {name}(_Vector):")
                self.w(f"    _fields_ = [('s', {elem} * {count})]")
                self.w(f"    _align_ = {align}")
        self.w()
        self.w("# Constants (#define CL_*).")
        for name, value, header in m.constants:
            self.w(f"{name} = {value}")
        self.w()
        self.w("# Function-like macros.")
        for name, params, expr in m.macros:
            self.w(f"def {name}({', '.join(params)}):")
            self.w(f"    return {expr}")
        self.w()
        self.w("# Structs and unions.")
        for s in m.structs:
            self.emit_struct(s)
        self.w("# Callback and function pointer types (CFUNCTYPE).")
        cb_names = []
        for sig in m.callbacks:
            self.emit_callbacks(sig, cb_names)
        for fn in m.functions.values():
            for p in fn.sig.params:
                if p.type.callback:
                    self.emit_callbacks(p.type.callback, cb_names)
        self.w()
        self.w("CALLBACK_TYPES = (")
        for n in cb_names:
            self.w(f"    {n!r},")
        self.w(")")
        self.w()
        self.w("# Error codes: code -> names, in header order (the first name is canonical).")
        codes: dict[int, list[str]] = {}
        for name, value, header in m.constants:
            if header in API_HEADERS and name in m.negative_literals and name not in NOT_ERROR_CODES \
                    and "_LIST_END_" not in name:
                codes.setdefault(int(value), []).append(name)
        self.w("ERROR_CODES = {")
        for code in sorted(codes, reverse=True):
            self.w(f"    {code}: {tuple(codes[code])!r},")
        self.w("}")
        self.w()
        self.w("# Functions: C name -> prototype, OpenCL version or extension, deprecation.")
        self.w("FUNCTIONS = {")
        for fn in m.functions.values():
            self.emit_function(fn)
        self.w("}")
        self.w()
        self.w("# The ICD dispatch table (struct _cl_icd_dispatch in cl_icd.h): the function of each")
        self.w("# pointer-sized slot, in order; None where the slot is not a function pointer in this")
        self.w("# build (typedef void *: the Direct3D and DX9 sharing entries outside Windows).")
        self.w("DISPATCH_TABLE = (")
        for index, (member, is_function) in enumerate(m.dispatch):
            if is_function:
                self.w(f"    {member!r},  # {index}")
            else:
                self.w(f"    None,  # {index} {member} (void *)")
        self.w(")")
        self.w()
        self.w("# The struct member of every slot of DISPATCH_TABLE.")
        self.w("DISPATCH_MEMBERS = (")
        for member, _ in m.dispatch:
            self.w(f"    {member!r},")
        self.w(")")
        self.w()
        self.w("CONSTANT_HEADERS = {")
        for name, value, header in m.constants:
            self.w(f"    {name!r}: {header!r},")
        self.w("}")
        self.w()
        self.w("# Constant name -> the OpenCL version (cl.h) or extension that introduced it.")
        self.w("CONSTANT_SINCE = {")
        for name, _, _ in m.constants:
            if name in m.since:
                self.w(f"    {name!r}: {m.since[name]!r},")
        self.w("}")
        self.w()
        self.w("# Header items the generator did not translate, and why.")
        self.w("SKIPPED = (")
        for name, why in m.skipped:
            self.w(f"    ({name!r}, {why!r}),")
        self.w(")")
        return "\n".join(self.lines) + "\n"

    def emit_struct(self, s: Struct, public: bool = True):
        anon = []
        for fname, ftype in s.fields:
            if isinstance(ftype, Struct):
                self.emit_struct(ftype, public=False)
                if not ftype.named:
                    anon.append(fname)
        base = "_c.Structure" if s.kind == "struct" else "_c.Union"
        self.w(f"class {s.name}({base}):")
        if anon:
            self.w(f"    _anonymous_ = {tuple(anon)!r}")
        self.w("    _fields_ = [")
        for fname, ftype in s.fields:
            expr = ftype.name if isinstance(ftype, Struct) else self.field_type(ftype)
            self.w(f"        ({fname!r}, {expr}),")
        self.w("    ]")
        self.w()

    def emit_callbacks(self, sig: FuncSig, names: list):
        for p in sig.params:
            if p.type.callback:
                self.emit_callbacks(p.type.callback, names)
        if sig.name in names:
            return
        names.append(sig.name)
        args = ", ".join(self.ctype(p.type) for p in sig.params)
        res = self.ctype(sig.restype) if not (sig.restype.base == "void" and not sig.restype.pointers) else "None"
        self.w(f"{sig.name} = _callback_type({sig.name!r}, {res}{', ' if args else ''}{args})")

    def emit_function(self, fn: Function):
        sig = fn.sig
        res = "None" if (sig.restype.base == "void" and not sig.restype.pointers) else self.ctype(sig.restype)
        self.w(f"    {sig.name!r}: _Proto(")
        self.w(f"        {sig.name!r}, {res}, (")
        for p in sig.params:
            self.w(f"            ({p.name!r}, {self.ctype(p.type)}, {p.type.c().strip()!r}),")
        self.w("        ),")
        self.w(f"        c_return={sig.restype.c().strip()!r}, header={fn.header!r}, "
               f"version={fn.version!r}, extension={fn.extension!r}, deprecated_after={fn.deprecated!r}),")


BANNER = '''\
# GENERATED FILE - DO NOT EDIT.
# Written by tools/generate.py from the Khronos headers in headers/CL/.
# Change the generator and run `python3 tools/generate.py` instead.
"""Types, constants, structs, callback types and function prototypes of the
OpenCL C API, generated from the Khronos headers.  Use ``opencl_raw.raw``."""
# fmt: off
# flake8: noqa
import collections as _collections
import ctypes as _c


class _Handle(_c.c_void_p):
    """Base of the opaque handle types: a pointer-sized value, NULL is None."""
    __slots__ = ()

    def __repr__(self):
        v = self.value
        return f"{type(self).__name__}({'NULL' if v is None else hex(v)})"


class _Vector(_c.Union):
    """Base of the vector types: ``cl_float4(1, 2, 3, 4)``; ``.s`` holds the elements.

    ``_align_`` is the C alignment; ctypes honours it from Python 3.13 on.
    """

    def __init__(self, *values):
        super().__init__()
        if len(values) > len(self.s):
            raise ValueError(f"{type(self).__name__} takes at most {len(self.s)} values, got {len(values)}")
        for i, v in enumerate(values):
            self.s[i] = v

    def __iter__(self):
        return iter(self.s)

    def __len__(self):
        return len(self.s)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(map(repr, self.s))})"

    def __eq__(self, other):
        try:
            return list(self) == list(other)
        except TypeError:
            return NotImplemented

    __hash__ = None


def _callback_type(name, restype, *argtypes):
    """A CFUNCTYPE that, as a parameter type, also accepts None (a NULL function pointer)."""
    base = _c.CFUNCTYPE(restype, *argtypes)

    def from_param(cls, obj):
        return None if obj is None else base.from_param(obj)

    return type(name, (base,), {
        "_argtypes_": base._argtypes_, "_restype_": base._restype_, "_flags_": base._flags_,
        "from_param": classmethod(from_param), "__module__": __name__,
        "__doc__": f"C callback type {name}; wrap a Python callable: {name}(func).",
    })


class _Proto(_collections.namedtuple("_Proto", "name restype params c_return header version extension "
                                                "deprecated_after")):
    """A C function prototype as written in the headers: ``name``, ``restype`` (ctypes),
    ``params`` ((name, ctypes type, C type text) per parameter), ``c_return`` and ``header``
    (texts), ``version`` (the (major, minor) OpenCL version that introduced a core function,
    else None), ``extension`` (the extension of an extension function, else None) and
    ``deprecated_after`` (the version after which it is deprecated, or None)."""
    __slots__ = ()

    @property
    def argtypes(self):
        return tuple(p[1] for p in self.params)

    @property
    def param_names(self):
        return tuple(p[0] for p in self.params)

    @property
    def requirement(self):
        """'OpenCL 1.2' or the extension name."""
        if self.version:
            return f"OpenCL {self.version[0]}.{self.version[1]}"
        return self.extension or "an extension"

    def c_prototype(self):
        args = ", ".join(f"{c} {n}" for n, _, c in self.params) or "void"
        return f"{self.c_return} {self.name}({args})"

'''


def generate(header_dir: str = HEADER_DIR) -> str:
    return Emitter(parse_headers(header_dir)).emit()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", default=DEFAULT_OUTPUT, help="where to write (default: %(default)s)")
    ap.add_argument("--headers", default=HEADER_DIR, help="folder holding CL/*.h (default: %(default)s)")
    args = ap.parse_args(argv)
    text = generate(args.headers)
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
