"""NumPy helpers shared by the array operations: gradients back to a shape, stable softmax.

NumPy is imported inside the functions, so that importing this module stays free of it.
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a one-liner of numbers reads all_finite here, and needs no shapes
    from backprop_cli.core.shapes import Shape
from backprop_cli.ops.op import Op


def numpy_module() -> Any:
    """NumPy, imported on first use."""
    import numpy

    return numpy


@cache
def settle_allocator() -> None:
    """Keep NumPy's temporaries on the heap, once per process, before sweeping arrays.

    glibc maps every block of 128 KiB or more afresh, and hands a freed heap top of more than
    128 KiB back to the OS; then every temporary of a sweep over 16,384-row columns (128 KiB),
    or of an 8 MB matrix, page-faults anew: three times and 1.6 times slower, measured. glibc
    raises both thresholds itself when a large mapped block is freed, but how far depends on
    the heap's state (a benchmark swung between 2.5x and 4.9x NumPy's time on it), so they are
    set here: blocks up to 32 MiB (glibc's own ceiling for the threshold it raises) from the
    heap, and up to 256 MiB of freed heap kept for the next sweep. Where the C library has no
    mallopt, one 16 MiB block is freed, which raises glibc's thresholds its own way.
    """
    mallopt = _mallopt()
    if mallopt is None:
        bytearray(16 << 20)
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    mallopt(_M_TRIM_THRESHOLD, 256 << 20)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


def _mallopt() -> Any:
    import ctypes

    try:
        return ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError, TypeError):  # no mallopt (macOS); no CDLL(None) (Windows)
        return None


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


def masked(op: Op, shares: list[Any], upstream: Any, args: list[Any], out: Any) -> list[Any]:
    """upstream · local products with 0 where the op masks its input (None: not wanted).

    Shares keep their shape: the mask applies before any sum over broadcast axes or rows.
    """
    masks = masks_of(op, upstream, args, out)
    if not masks:
        return shares
    return [None if s is None else zero_where(mask, s) for s, mask in zip(shares, masks)]


def masks_of(op: Op, upstream: Any, args: list[Any], out: Any) -> tuple[Any, ...]:
    """The op's mask of each input, or () where none can matter.

    A mask only covers zero local derivatives, which a finite upstream makes 0 already, so
    only a non-finite upstream costs the comparisons and the `where`s.
    """
    if op.mask is None or all_finite(upstream):
        return ()
    return op.mask(*args, out)


def zero_where(mask: Any, share: Any) -> Any:
    """The share with 0 where the mask is on (None: nowhere)."""
    return share if mask is None else numpy_module().where(mask, 0.0, share)


def masked_any(op: Op, upstream: Any, args: list[Any], out: Any) -> list[bool]:
    """For each input, whether its mask stopped a non-finite upstream somewhere."""
    masks = masks_of(op, upstream, args, out)
    if not masks:
        return [False] * len(args)
    np = numpy_module()
    off = ~np.isfinite(upstream)
    return [mask is not None and bool(np.any(mask & off)) for mask in masks]


def all_finite(value: Any) -> bool:
    """Whether a number, or every element of an array, is finite."""
    if isinstance(value, float | int):
        return math.isfinite(value)
    # One sum says so, and costs one read, unless the sum itself overflows; then each element.
    np = numpy_module()
    value = np.asarray(value)
    return math.isfinite(value.sum()) or bool(np.isfinite(value).all())


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
