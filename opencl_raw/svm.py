"""Shared virtual memory: allocations, the command-queue SVM commands, and kernel SVM arguments."""
from __future__ import annotations


class _ContextSVM:
    """Context methods that allocate shared virtual memory."""


class _QueueSVM:
    """CommandQueue methods on shared virtual memory."""


__all__ = []
