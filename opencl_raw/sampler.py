"""Samplers: clCreateSamplerWithProperties, clCreateSampler, clGetSamplerInfo."""
from __future__ import annotations


class _ContextSamplers:
    """Context methods that create samplers."""


__all__ = []
