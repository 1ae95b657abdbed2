"""Images: creation, formats, info, and the command-queue methods that read, write, copy, fill and map them."""
from __future__ import annotations

from .memory import MemObject


class Image(MemObject):
    """An image memory object."""

    __slots__ = ()


class _ContextImages:
    """Context methods that create images and list image formats."""


class _QueueImages:
    """CommandQueue methods on images."""


__all__ = ["Image"]
