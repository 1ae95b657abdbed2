"""Samplers: clCreateSamplerWithProperties, clCreateSampler, clGetSamplerInfo.

A sampler is a valid kernel argument (``kernel.set_arg(i, sampler)``) for a
``sampler_t`` parameter.
"""
from __future__ import annotations

from . import _gate, _info, checked, raw
from ._handle import Handle, properties_array

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._handle import Properties


class Sampler(Handle):
    """A sampler (``cl_sampler``): how a kernel reads an image with ``read_image*``.

    ``Sampler(context, normalized_coords=False, addressing_mode=CL_ADDRESS_CLAMP_TO_EDGE,
    filter_mode=CL_FILTER_NEAREST)`` is ``context.create_sampler(...)``.
    Info: ``get_info(param)`` (clGetSamplerInfo) and attributes ``.normalized_coords``
    (bool), ``.addressing_mode`` (AddressingMode), ``.filter_mode`` (FilterMode),
    ``.context``, ``.reference_count``, ``.properties`` (2.0).
    """

    # _context_ref: a Context reference of the sampler's own. The specification does not say that a
    # sampler keeps its context alive, and Oclgrind 21.10 deletes a released context under its
    # samplers (CL_SAMPLER_CONTEXT then names freed memory): while this object holds the sampler,
    # it holds the context too. Samplers adopted with from_handle have none.
    __slots__ = ("_context_ref",)
    _ctype = raw.cl_sampler
    _retain_name, _release_name = "clRetainSampler", "clReleaseSampler"
    _info_group, _info_function = "Sampler", "clGetSamplerInfo"
    _attr_prefixes = ("CL_SAMPLER_",)

    def __init__(self, context, normalized_coords: bool = False,
                 addressing_mode: int = raw.CL_ADDRESS_CLAMP_TO_EDGE, filter_mode: int = raw.CL_FILTER_NEAREST):
        self._handle = None
        self._adopt(_create_sampler_handle(context, normalized_coords, addressing_mode, filter_mode), retain=False)
        self._context_ref = _own_reference(context)

    def release(self) -> None:
        """Give back this object's reference (``clReleaseSampler``), then its context reference.
        Idempotent. Raises CLError if the driver refuses the release."""
        try:
            Handle.release(self)
        finally:
            context, self._context_ref = getattr(self, "_context_ref", None), None
            if context is not None:
                context.release()


def _own_reference(context):
    """A new wrapper holding its own reference to ``context``'s cl_context."""
    return type(context).from_handle(context.handle, retain=True)


def _mode(value: Any, enum_cls, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int ({enum_cls.__name__}), got {type(value).__name__}")
    if value not in {member.value for member in enum_cls}:
        prefix = "CL_ADDRESS_" if enum_cls is _info.AddressingMode else "CL_FILTER_"
        names = ", ".join(prefix + m.name for m in enum_cls)
        raise ValueError(f"{what} {value:#x} is not one of {names}")
    return int(value)


def _create_sampler_handle(context, normalized_coords, addressing_mode, filter_mode):
    if not isinstance(context, Handle) or context._ctype is not raw.cl_context:
        raise TypeError(f"context must be a Context, got {type(context).__name__}")
    if not isinstance(normalized_coords, (bool, int)) or normalized_coords not in (0, 1):
        raise TypeError(f"normalized_coords must be a bool, got {normalized_coords!r}")
    addressing_mode = _mode(addressing_mode, _info.AddressingMode, "addressing_mode")
    filter_mode = _mode(filter_mode, _info.FilterMode, "filter_mode")
    devices = context.get_info(raw.CL_CONTEXT_DEVICES)
    if all(_gate.device_version(d) >= (2, 0) for d in devices):
        props = properties_array([(raw.CL_SAMPLER_NORMALIZED_COORDS, int(bool(normalized_coords))),
                                  (raw.CL_SAMPLER_ADDRESSING_MODE, addressing_mode),
                                  (raw.CL_SAMPLER_FILTER_MODE, filter_mode)], raw.cl_sampler_properties)
        return checked.clCreateSamplerWithProperties(context.handle, props)
    return checked.clCreateSampler(context.handle, bool(normalized_coords), addressing_mode, filter_mode)


class _ContextSamplers:
    """Context methods that create samplers."""

    def create_sampler_with_properties(self, properties: Properties = None) -> Sampler:
        """A sampler from cl_sampler_properties (clCreateSamplerWithProperties, 2.0).

        ``properties``: a mapping or (name, value) pairs of CL_SAMPLER_NORMALIZED_COORDS
        (bool), CL_SAMPLER_ADDRESSING_MODE (CL_ADDRESS_*), CL_SAMPLER_FILTER_MODE
        (CL_FILTER_*); missing ones take the defaults (CL_TRUE, CL_ADDRESS_CLAMP,
        CL_FILTER_NEAREST); the terminating 0 is added (None is sent as an empty list, not
        NULL). Raises TypeError for non-int
        names/values, FunctionUnavailableError on devices older than 2.0 (the version gate),
        CLError (InvalidValue for an unknown property or value, InvalidOperation when no
        device of the context supports images).
        """
        # None is passed as an empty list (just the terminating 0): the same defaults by the
        # specification, and PoCL 3.1 refuses a NULL list with CL_INVALID_VALUE
        props = properties_array(properties if properties is not None else (), raw.cl_sampler_properties)
        sampler = Sampler.from_handle(checked.clCreateSamplerWithProperties(self.handle, props), retain=False)
        sampler._context_ref = _own_reference(self)
        return sampler

    def create_sampler(self, normalized_coords: bool = False, addressing_mode: int = raw.CL_ADDRESS_CLAMP_TO_EDGE,
                       filter_mode: int = raw.CL_FILTER_NEAREST) -> Sampler:
        """A sampler: clCreateSamplerWithProperties when every device of the context is
        OpenCL 2.0 or newer, else the deprecated clCreateSampler.

        ``normalized_coords``: True for coordinates in [0, 1), False for pixel coordinates;
        ``addressing_mode``: CL_ADDRESS_NONE, _CLAMP_TO_EDGE, _CLAMP, _REPEAT or
        _MIRRORED_REPEAT (the last two need normalized coordinates); ``filter_mode``:
        CL_FILTER_NEAREST or CL_FILTER_LINEAR. Raises TypeError / ValueError for values
        outside those, CLError (InvalidValue, e.g. for REPEAT without normalized
        coordinates on some drivers; InvalidOperation when no device supports images).
        """
        return Sampler(self, normalized_coords, addressing_mode, filter_mode)


__all__ = ["Sampler"]
