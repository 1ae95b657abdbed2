"""The one lifetime mechanism of the handle layer, and shared argument helpers.

Every handle class derives from :class:`Handle`. An object owns one reference
to its ``cl_*`` handle and gives it back exactly once: by ``release()`` (which
is idempotent), on leaving a ``with`` block, or when it is collected.
"""
from __future__ import annotations

import collections.abc
import ctypes
import sys
import types
import warnings

from . import _info, checked, raw
from ._info import CLASS_BY_HANDLE_TYPE, pairs_from_array
from .errors import CLError, OpenCLRawWarning, ReleasedHandleError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple, Type, Union

    Properties = Union[Mapping[int, Any], Sequence[Tuple[int, Any]], None]


#: ``RELEASES[0]``: how many handle objects release() has let go, counted after each one's
#: ``_handle`` is None; a holder of many objects (a Kernel's arguments) re-checks them only
#: when it has changed. (A list item, not a class attribute: writing one of those would
#: invalidate the attribute caches of every handle class.)
RELEASES = [0]


def bare(fn):
    """The raw function ``fn`` as a ctypes function of the same entry point without argtypes,
    for hot paths whose arguments are already exactly the C types (handles, size_t arrays,
    byref pointers, None, small ints for cl_uint): ctypes then converts nothing, which saves
    about 0.4 µs per call of clEnqueueNDRangeKernel. Python ints go as C ints, so wider
    integer parameters (size_t, cl_bitfield) need ctypes values. ``fn`` itself where it is
    no C function (the icd backend's dispatcher with several drivers, a test's stand-in).
    Kept as ``fn._bare``, so it lives as long as ``fn`` (and ``fn`` as long as it)."""
    try:
        return fn._bare
    except AttributeError:
        pass
    if isinstance(fn, ctypes._CFuncPtr):
        entry = ctypes.CFUNCTYPE(fn.restype)(ctypes.cast(fn, ctypes.c_void_p).value)
        entry._source = fn
    else:
        entry = fn
    try:
        fn._bare = entry
    except AttributeError:   # a callable without attributes: no cache
        pass
    return entry


#: ctype -> {value: ctypes value}: the wide integers passed to bare entry points (size_t sizes,
#: cl_bitfield flags); read-only to the driver, so shared (at most 256 per ctype)
_SHARED: dict = {}
#: the shared size_t values, for hot paths to look up before calling shared()
SIZE_T: dict = _SHARED.setdefault(ctypes.c_size_t, {})


def shared(ctype, value: int):
    """A shared ``ctype(value)`` for a bare entry point, e.g. ``shared(ctypes.c_size_t, offset)``
    (``value`` in range: checked by the caller)."""
    cache = _SHARED.get(ctype)
    if cache is None:
        cache = _SHARED[ctype] = {}
    made = cache.get(value)
    if made is None:
        made = ctype(value)
        if len(cache) < 256:
            cache[value] = made
    return made


# Bound now: at interpreter shutdown the module's globals (sys among them) may already be None.
_is_finalizing = sys.is_finalizing


class Handle:
    """Base of all handle classes: owns one reference to a ``cl_*`` handle.

    - ``.handle`` is the raw ``cl_*`` value and ``_as_parameter_`` lets the object
      be passed straight to :mod:`opencl_raw.raw` and :mod:`opencl_raw.checked`.
    - ``Cls.from_handle(h, retain=True)`` adopts a raw handle.
    - ``==`` and ``hash`` go by handle value.
    - ``release()`` gives the reference back once; later calls do nothing, and any
      other use raises :class:`~opencl_raw.errors.ReleasedHandleError`.
    - Pickling raises TypeError: a handle is only meaningful in this process.
    """

    # _gate_devices: handle values of the devices involved in this object's calls (see _gate.check)
    __slots__ = ("_handle", "_value", "_owned", "_gate_devices", "__weakref__")
    #: the raw ctypes handle type, e.g. raw.cl_context
    _ctype: Any = None
    #: C names of the retain and release functions (None: the object is not reference counted)
    _retain_name: Optional[str] = None
    _release_name: Optional[str] = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls._ctype is not None and cls.__dict__.get("_ctype") is not None:
            CLASS_BY_HANDLE_TYPE.setdefault(cls._ctype.__name__, cls)
        _name_c_functions(cls)
        _add_info_attributes(cls)

    def _adopt(self, handle, retain: bool, owned: bool = True) -> None:
        if not isinstance(handle, self._ctype):
            handle = self._ctype(handle.value if isinstance(handle, ctypes.c_void_p) else handle)
        if not handle.value:
            raise ValueError(f"{type(self).__name__}: NULL {self._ctype.__name__} handle")
        owned = owned and self._release_name is not None
        if retain and owned:
            getattr(checked, self._retain_name)(handle)    # if refused, this object holds nothing to release
        self._handle = handle
        self._value = handle.value
        self._owned = owned

    @classmethod
    def from_handle(cls, handle, retain: bool = True):
        """Wrap a raw handle (a ``cl_*`` value or an int address).

        ``retain=True`` takes a new reference (the caller keeps its own);
        ``retain=False`` takes over the caller's reference.
        Raises ValueError for NULL, CLError if the retain fails.
        """
        self = cls.__new__(cls)
        self._handle = None
        self._adopt(handle, retain)
        return self

    @property
    def handle(self):
        """The raw ``cl_*`` handle. Raises ReleasedHandleError after release()."""
        h = self._handle
        if h is None:
            raise ReleasedHandleError(f"{type(self).__name__} was released")
        return h

    _as_parameter_ = handle

    @property
    def released(self) -> bool:
        """True once release() was called."""
        return self._handle is None

    def release(self) -> None:
        """Give back this object's reference (``clRelease*``). Idempotent.

        Raises CLError if the driver refuses the release.
        """
        h = getattr(self, "_handle", None)
        if h is None:
            return
        self._handle = None
        RELEASES[0] += 1
        if self._owned:
            # the raw function: h is a live handle of the right type, so the checked layer's
            # guards have nothing to find (this is on every object's way out)
            status = bare(getattr(raw, self._release_name))(h)
            if status:
                raise CLError(status, self._release_name)

    def __enter__(self):
        self.handle  # raises if already released
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def __del__(self):
        if getattr(self, "_handle", None) is None or _is_finalizing is None or _is_finalizing():
            return
        try:
            self.release()
        except Exception as exc:  # a destructor must never raise
            warnings.warn(f"releasing {type(self).__name__} failed: {exc}", OpenCLRawWarning, stacklevel=2)

    # -- info ----------------------------------------------------------------
    #: INFO group and checked clGet*Info name, for get_info and attributes
    _info_group: Optional[str] = None
    _info_function: Optional[str] = None
    #: param prefixes stripped to make attribute names, most specific first
    _attr_prefixes: Tuple[str, ...] = ()
    _attr_groups: Tuple[str, ...] = ()

    def get_info(self, param):
        """Typed value of one info param (``clGet<Object>Info``).

        ``param`` is the CL constant (int) or its name (``'CL_DEVICE_NAME'``).
        Returns str, int, bool, enum.IntFlag / IntEnum, tuples, wrapper objects or
        None for a NULL handle; ``bytes`` for a param the table does not know.
        Raises CLError from the driver (e.g. InvalidValue for an unsupported
        param), ValueError if the returned size disagrees with the param's type,
        ReleasedHandleError after release().
        """
        return _info.query(self._info_group, getattr(checked, self._info_function), (self.handle,), param)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other._value == self._value

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._value))

    def __reduce__(self):
        raise TypeError(f"{type(self).__name__} handles cannot be pickled: they are only valid in this process")

    #: what copy.copy's refusal suggests besides sharing the object (Kernel: clone())
    _copy_hint = ""

    def __copy__(self):
        name = type(self).__name__
        raise TypeError(f"{name} objects cannot be copied: share this one, or take another reference to its "
                        f"handle with {name}.from_handle(obj.handle){self._copy_hint}")

    def __deepcopy__(self, memo):
        return self.__copy__()

    def __repr__(self) -> str:
        state = " released" if self._handle is None else ""
        return f"<{type(self).__name__} {self._value:#x}{state}>"


def _name_c_functions(cls) -> None:
    """Give ``cls`` its own ``get_info`` and ``release`` whose docstrings name its C functions
    (``clGetDeviceInfo``, ``clReleaseContext``, ...) instead of the generic ``clGet<Object>Info``."""
    info_function = cls.__dict__.get("_info_function")
    if info_function and "get_info" not in cls.__dict__:
        cls.get_info = _renamed_copy(Handle.get_info, cls, "``clGet<Object>Info``", f"``{info_function}``")
    release_name = cls.__dict__.get("_release_name")
    if release_name and "release" not in cls.__dict__:
        cls.release = _renamed_copy(Handle.release, cls, "``clRelease*``", f"``{release_name}``")


def _renamed_copy(function, cls, generic: str, specific: str):
    """A copy of ``function`` (the same code, so no extra call frame) whose docstring says
    ``specific`` where ``function``'s says ``generic``, as a method of ``cls``."""
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__, function.__defaults__,
                              function.__closure__)
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__annotations__ = dict(function.__annotations__)
    copy.__doc__ = (function.__doc__ or "").replace(generic, specific)
    copy.__qualname__ = f"{cls.__qualname__}.{function.__name__}"
    copy.__module__ = cls.__module__
    return copy


def _add_info_attributes(cls) -> None:
    """Give ``cls`` one read-only attribute per info param of its groups (``device.max_compute_units``).

    The name is the param without ``CL_`` and the class's group prefix, in lower case;
    where two groups meet, the first (more specific) one wins. Names the class already
    defines (methods, properties) are left alone.
    """
    if "_info_group" not in cls.__dict__ and "_attr_groups" not in cls.__dict__:
        return
    groups = cls._attr_groups or (cls._info_group,)
    for name, param in _info.attribute_names(cls._attr_prefixes, groups).items():
        if any(name in klass.__dict__ for klass in cls.__mro__):
            continue
        group = next(g for g in groups if param in _info.INFO[g])
        setattr(cls, name, _info.InfoAttribute(group, param))


def wrap(cls_name: str, handle, retain: bool = True):
    """Wrap a raw handle in the class registered for its ``cl_*`` type name (None for NULL)."""
    value = handle.value if isinstance(handle, ctypes.c_void_p) else handle
    if not value:
        return None
    return CLASS_BY_HANDLE_TYPE[cls_name].from_handle(value, retain=retain)


def properties_array(properties: Properties, ctype) -> Optional[ctypes.Array]:
    """A zero-terminated ``ctype`` array from a mapping or (name, value) pairs, or None.

    Values may be ints or handle objects (their handle value is used).
    Raises TypeError for anything else.
    """
    if properties is None:
        return None
    pairs = properties.items() if isinstance(properties, collections.abc.Mapping) else properties
    flat = []
    for pair in pairs:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise TypeError(f"properties must be a mapping or (name, value) pairs, got {pair!r}") from None
        is_address = isinstance(value, (Handle, ctypes.c_void_p))
        if isinstance(value, Handle):
            value = value._value
        elif isinstance(value, ctypes.c_void_p):
            value = value.value or 0
        if not isinstance(name, int) or not isinstance(value, int):
            raise TypeError(f"property {name!r}: names and values must be ints or handles, got {value!r}")
        if is_address and isinstance(value, int):
            value = ctype(value).value              # an address: its bits, as C casts it
        for number in (name, value):
            if ctype(number).value != number:       # ctypes would wrap it into another value
                raise ValueError(f"property {name!r}: {number} does not fit {ctype.__name__}")
        flat += [name, value]
    flat.append(0)
    return (ctype * len(flat))(*flat)


def handle_array(objects: Iterable, cls: Type[Handle], what: str):
    """(count, ctypes array) of the handles of ``objects`` (any iterable), all instances of
    ``cls``; the array keeps the objects alive as long as it lives.

    Raises TypeError naming ``what`` for other objects, ReleasedHandleError for released ones.
    """
    try:
        objects = list(objects)
    except TypeError:
        raise TypeError(f"{what} must be a sequence of {cls.__name__} objects, got {type(objects).__name__}") \
            from None
    for obj in objects:
        if not isinstance(obj, cls):
            raise TypeError(f"{what} must hold {cls.__name__} objects, got {type(obj).__name__}")
    if not objects:
        return 0, None
    array = (cls._ctype * len(objects))(*[obj.handle for obj in objects])
    # The array holds the objects: where they came from a generator, nothing else does, and
    # one collected before the call would release the handle the array passes to the driver.
    array._objects_held = objects
    return len(objects), array


def encode(text: Union[str, bytes], what: str) -> bytes:
    """UTF-8 bytes of a str (or bytes as they are); TypeError naming ``what`` otherwise."""
    if isinstance(text, str):
        return text.encode()
    if isinstance(text, bytes):
        return text
    raise TypeError(f"{what} must be str or bytes, got {type(text).__name__}")


__all__ = ["Handle", "wrap", "properties_array", "pairs_from_array", "handle_array", "encode",
           "raw"]
