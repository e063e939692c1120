"""NumPy helpers shared by the array operations: gradients back to a shape, stable softmax.

NumPy is imported inside the functions, so that importing this module stays free of it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from backprop_cli.shapes import Shape


def numpy_module() -> Any:
    """NumPy, imported on first use."""
    import numpy

    return numpy


@cache
def settle_allocator() -> None:
    """Free one 16 MiB block before sweeping arrays, once per process.

    glibc maps every block of 128 KiB or more afresh, and hands a freed heap top back to the
    OS above 128 KiB, until a larger mmapped block is freed; until then every temporary of a
    sweep over 16,384-row columns (128 KiB), or of an 8 MB matrix, page-faults anew: three
    times and 1.6 times slower, measured. Freeing one block of 16 MiB raises glibc's mmap
    threshold to it and its trim threshold to twice that (32 MiB is the most it adjusts to),
    as importing a big module would by chance. Elsewhere it costs one allocation.
    """
    bytearray(16 << 20)


def unbroadcast(gradient: Any, shape: Shape) -> Any:
    """Sum a gradient over the axes that broadcasting added or stretched to reach `shape`."""
    np = numpy_module()
    if type(gradient) is not np.ndarray or gradient.dtype != np.float64:
        gradient = np.asarray(gradient, dtype=float)  # an array as it is needs no conversion
    if gradient.shape == shape:
        return gradient
    extra = gradient.ndim - len(shape)
    if extra > 0:
        gradient = gradient.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and gradient.shape[i] != 1)
    if stretched:
        gradient = gradient.sum(axis=stretched, keepdims=True)
    return np.broadcast_to(gradient, shape).copy() if gradient.shape != shape else gradient


def logsumexp_of(a: Any, axis: int | None, keepdims: bool = False) -> Any:
    """log Σ exp(a) over an axis (all for None), shifted by the maximum: exp cannot overflow."""
    np = numpy_module()
    a = np.asarray(a, dtype=float)
    top = np.max(a, axis=axis, keepdims=True)
    total = top + np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True))
    return total if keepdims else np.squeeze(total, axis=axis)


def softmax_of(a: Any, axis: int | None) -> Any:
    """exp(a) / Σ exp(a) over an axis, computed stably."""
    np = numpy_module()
    a = np.asarray(a, dtype=float)
    return np.exp(a - logsumexp_of(a, axis, keepdims=True))
