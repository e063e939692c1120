"""Matrix products that give the same last digit on every machine, for arrays up to a size.

BLAS kernels round differently from one processor to the next (with or without fused
multiply-adds, in another order), so the last digit of `W @ x` would depend on the machine:
[0.1, -0.2, 0.3] @ [0.5, 0, 1.7] is 0.5599999999999999 on one and 0.56 on another. Up to
EXACT_LIMIT multiply-adds, each entry is instead summed in twice the working precision and
rounded once: the same everywhere, and the correctly rounded result unless the sum all but
cancels. Larger products go to BLAS, where speed matters more than the last bit.
"""

from __future__ import annotations

import math
from typing import Any

from backprop_cli.ops.array_math import numpy_module

EXACT_LIMIT = 1 << 16  # multiply-adds: a 256 × 256 matrix times a vector
_SPLIT = 134217729.0  # 2^27 + 1: Veltkamp's split of a double into two halves of 26 bits
_HUGE = 2.0**995  # above this, splitting overflows
_TINY = 2.0**-969  # below this, a product's rounding error may itself be rounded


def matmul(a: Any, b: Any) -> Any:
    """a @ b as np.matmul computes it, each entry correctly rounded while the product is small."""
    np = numpy_module()
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim == 0 or b.ndim == 0 or a.shape[-1] != b.shape[0 if b.ndim == 1 else -2]:
        return np.matmul(a, b)  # NumPy's own error for shapes that do not fit
    left, right = a.ndim == 1, b.ndim == 1
    a2, b2 = (a[np.newaxis, :] if left else a), (b[:, np.newaxis] if right else b)
    try:
        rows = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        return np.matmul(a, b)
    shape = (*rows, a2.shape[-2], b2.shape[-1])
    work = math.prod(shape) * a2.shape[-1]  # 0 when empty: BLAS's zeros are exact
    if not 0 < work <= EXACT_LIMIT or not _splittable(np, a2, b2):
        return np.matmul(a, b)
    product = _exact_sums(np, a2, b2).reshape(shape)
    if right:
        product = product[..., 0]
    if left:
        product = product[..., 0] if right else product[..., 0, :]
    return product[()] if product.ndim == 0 else product


def _exact_sums(np: Any, a: Any, b: Any) -> Any:
    """Each entry's sum of products in twice the working precision, rounded once.

    Dekker's TwoProduct gives every product with its rounding error; the products are then
    summed pairwise with Knuth's TwoSum, the errors carried beside them (Ogita, Rump and
    Oishi's Dot2, in a tree so that NumPy does each level at once). Only IEEE additions and
    multiplications, each its own NumPy call: no fused multiply-add, the same on every machine.
    """
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    # Axes (..., i, k, j): every product of a row of a with a column of b.
    a, a_hi, a_lo = (x[..., :, :, np.newaxis] for x in (a, a_hi, a_lo))
    b, b_hi, b_lo = (x[..., np.newaxis, :, :] for x in (b, b_hi, b_lo))
    total = a * b
    carry = a_lo * b_lo - (((total - a_hi * b_hi) - a_lo * b_hi) - a_hi * b_lo)
    while total.shape[-2] > 1:
        if total.shape[-2] % 2:
            total, carry = (_append_zero(np, x) for x in (total, carry))
        left, right = total[..., 0::2, :], total[..., 1::2, :]
        total = left + right
        back = total - left
        rounding = (left - (total - back)) + (right - back)
        carry = carry[..., 0::2, :] + carry[..., 1::2, :] + rounding
    return (total + carry)[..., 0, :]


def _append_zero(np: Any, x: Any) -> Any:
    return np.concatenate([x, np.zeros_like(x[..., :1, :])], axis=-2)


def _split(x: Any) -> tuple[Any, Any]:
    """x = hi + lo exactly, each half with at most 26 significant bits, so hi·hi is exact."""
    scaled = _SPLIT * x
    hi = scaled - (scaled - x)
    return hi, x - hi


def _splittable(np: Any, a: Any, b: Any) -> bool:
    # The error-free product needs factors that do not overflow when split (NaN and infinity
    # fail the test too), and products far enough from underflow; the rest go to BLAS.
    smallest = 1.0
    for x in (a, b):
        magnitudes = np.abs(x)
        if not magnitudes.max() <= _HUGE:
            return False
        smallest *= float(np.min(magnitudes, where=magnitudes > 0, initial=math.inf))
    return smallest >= _TINY
