"""The one place that turns Python host objects into pointers and byte sizes.

Host memory is any object with the buffer protocol (numpy arrays, bytearray,
bytes, memoryview, array.array, ctypes arrays). numpy arrays are read through
numpy; other objects through ``memoryview`` and ctypes, so a program that uses no
numpy does not import it (it is imported only for read-only buffers other than
``bytes``, whose address ctypes cannot read).
"""
from __future__ import annotations

import ctypes
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Tuple


def _numpy_array(obj: Any) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(obj, np.ndarray)


def _plain_array(obj: Any):
    """(obj, address, nbytes) of a non-empty, writable, C-contiguous numpy.ndarray without Python
    objects (the common case of every transfer, fit to read from and to write into), else None."""
    np = sys.modules.get("numpy")
    if np is None or obj.__class__ is not np.ndarray:
        return None
    try:   # ctypes takes only a writable, C-contiguous, non-empty buffer (as _array_address)
        address = ctypes.addressof(ctypes.c_char.from_buffer(obj))
    except (TypeError, ValueError):
        return None
    if obj.dtype.hasobject:
        return None
    return obj, address, obj.nbytes


def _pointer_codes(fmt: str) -> str:
    """The codes of a buffer's struct ``fmt`` that make its bytes addresses Python follows, '' if
    none: 'O' (Python objects: numpy's dtype object), '&' (ctypes pointers), 'z' and a 'Z' not
    followed by a type letter (ctypes' c_char_p and c_wchar_p; 'Zd' is a complex double). Field
    names (between colons in a struct format) are left out."""
    codes = "".join(fmt.split(":")[0::2])
    found = "".join(c for c in "O&z" if c in codes)
    i = codes.find("Z")
    while i >= 0:
        if not codes[i + 1:i + 2].isalpha():
            return found + "Z"
        i = codes.find("Z", i + 1)
    return found


def _view(obj: Any, what: str) -> memoryview:
    try:
        view = memoryview(obj)
    except TypeError:
        raise TypeError(f"{what} must support the buffer protocol (a numpy array, bytearray, bytes, ...), "
                        f"got {type(obj).__name__}") from None
    if _pointer_codes(view.format):
        raise TypeError(f"{what} holds Python objects or pointers (format {view.format!r}), which device bytes "
                        "must not overwrite; OpenCL moves plain bytes only")
    return view


def _writable(view: memoryview) -> Tuple[Any, int, int]:
    """(keep-alive object, address, nbytes) of a writable C-contiguous view: a ctypes array over
    its bytes, which holds the buffer export (so a bytearray cannot be resized under it)."""
    flat = view.cast("B") if view.format != "B" or view.ndim != 1 else view
    if not flat.nbytes:
        return flat, 0, 0
    keep = (ctypes.c_char * flat.nbytes).from_buffer(flat)
    return keep, ctypes.addressof(keep), flat.nbytes


def _bytes(data: bytes) -> Tuple[Any, int, int]:
    return data, ctypes.cast(data, ctypes.c_void_p).value if data else 0, len(data)


def _as_array(obj: Any, what: str):
    import numpy as np
    if not isinstance(obj, np.ndarray):
        view = _view(obj, what)
        try:
            obj = np.asarray(view)
        except (TypeError, ValueError, NotImplementedError):
            # Formats numpy does not read (e.g. some ctypes structs): look at the raw bytes.
            return np.frombuffer(view.cast("B") if view.c_contiguous else view.tobytes(), dtype=np.uint8)
    if obj.dtype.hasobject:              # its bytes are pointers to Python objects
        raise TypeError(f"{what} holds Python objects (dtype {obj.dtype}); OpenCL moves plain bytes only")
    return obj


def source(obj: Any, what: str = "host") -> Tuple[Any, int, int]:
    """(keep-alive object, address, nbytes) of a host object to read from.

    Non-contiguous arrays are copied into a contiguous one first (the copy is
    what the keep-alive object holds). Raises TypeError for non-buffer objects.
    """
    fast = _plain_array(obj)
    if fast is not None:
        return fast
    if not _numpy_array(obj):
        view = _view(obj, what)
        if not view.c_contiguous:
            return _bytes(view.tobytes())          # the documented copy, in C order
        if not view.readonly:
            return _writable(view)
        if type(obj) is bytes:
            return _bytes(obj)
        # another read-only exporter: numpy reads its address without a copy
    arr = _as_array(obj, what)
    if not arr.flags.c_contiguous:
        import numpy as np
        arr = np.ascontiguousarray(arr)
    return arr, _array_address(arr), arr.nbytes


def destination(obj: Any, what: str = "host") -> Tuple[Any, int, int]:
    """(keep-alive object, address, nbytes) of a host object to write into.

    Raises TypeError for non-buffer objects, ValueError for read-only or
    non-C-contiguous ones (a copy would silently drop the data).
    """
    fast = _plain_array(obj)
    if fast is not None:
        return fast
    if not _numpy_array(obj):
        view = _view(obj, what)
        if view.readonly:
            raise ValueError(f"{what} is read-only; pass a writable object (e.g. a numpy array or bytearray)")
        if not view.c_contiguous:
            raise ValueError(f"{what} must be C-contiguous to be written into; use numpy.ascontiguousarray first")
        return _writable(view)
    arr = _as_array(obj, what)
    if not arr.flags.writeable:
        raise ValueError(f"{what} is read-only; pass a writable object (e.g. a numpy array or bytearray)")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{what} must be C-contiguous to be written into; use numpy.ascontiguousarray first")
    return arr, _array_address(arr), arr.nbytes


def _array_address(arr) -> int:
    """The data address of a C-contiguous numpy array (0 when empty). A writable one through
    ctypes' buffer protocol (a quarter of what ``arr.ctypes.data`` costs, which matters for
    small transfers); a read-only one through numpy."""
    if not arr.nbytes:
        return 0
    if arr.flags.writeable:
        try:
            return ctypes.addressof(ctypes.c_char.from_buffer(arr))
        except ValueError:      # dtypes numpy exports no buffer of (datetime64, timedelta64)
            pass
    return arr.ctypes.data


def check_range(offset: int, nbytes: int, limit: int, what: str) -> None:
    """Raise unless ``0 <= offset`` and ``offset + nbytes <= limit`` (all in bytes)."""
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise TypeError(f"{what}: offset must be an int (bytes), got {type(offset).__name__}")
    if offset < 0 or nbytes < 0:
        raise ValueError(f"{what}: offset {offset} and size {nbytes} must not be negative")
    if offset + nbytes > limit:
        raise ValueError(f"{what}: {nbytes} bytes at offset {offset} exceed the {limit} bytes available")
