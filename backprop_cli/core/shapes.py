"""Shape rules, checked over the whole graph before any arithmetic, without NumPy."""

from __future__ import annotations

from collections.abc import Callable

Shape = tuple[int, ...]


class ShapeError(ValueError):
    """Operands whose shapes do not fit the operation; the message names the shapes."""


def shape_text(shape: Shape) -> str:
    """`(4, 3)`, `(2,)`, `()`: Python's and NumPy's spelling, as in error messages."""
    return str(tuple(shape))


def shape_label(shape: Shape) -> str:
    """`4×3`, as the seeds write ℝ^{4×3}; `scalar` for ()."""
    return "×".join(map(str, shape)) if shape else "scalar"


def broadcast(*shapes: Shape) -> Shape:
    """NumPy's broadcasting rule: align on the right; a size 1 stretches."""
    ndim = max(map(len, shapes))
    result = []
    for axis in range(ndim):
        sizes = {s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            raise ShapeError(" and ".join(map(shape_text, shapes)) + " do not broadcast")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def matmul_shape(a: Shape, b: Shape) -> Shape:
    """np.matmul's rule: vectors are promoted to matrices and the promotion removed again."""
    problem = f"{shape_text(a)} @ {shape_text(b)}"
    if not a or not b:
        raise ShapeError(f"{problem}: @ needs arrays; use * to scale by a number")
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        raise ShapeError(f"{problem}: inner sizes {inner_a} and {inner_b} differ")
    rows = a[-2:-1] if len(a) >= 2 else ()
    columns = b[-1:] if len(b) >= 2 else ()
    try:
        batch = broadcast(a[:-2], b[:-2]) if len(a) > 2 or len(b) > 2 else ()
    except ShapeError:
        raise ShapeError(f"{problem}: the batch sizes do not broadcast") from None
    return batch + rows + columns


def dot_shape(a: Shape, b: Shape) -> Shape:
    """dot of two vectors of one length, as torch.dot."""
    if len(a) != 1 or len(b) != 1 or a != b:
        raise ShapeError(
            f"dot({shape_text(a)}, {shape_text(b)}): dot takes two vectors of one length"
            + ("; use @ for matrices" if len(a) > 1 or len(b) > 1 else "")
        )
    return ()


def stack_shape(*items: Shape) -> Shape:
    """np.stack's rule: items of one shape, stacked along a new first axis."""
    first = items[0]
    for item in items[1:]:
        if item != first:
            raise ShapeError(
                f"the items have shapes {shape_text(first)} and {shape_text(item)};"
                " the items of an array must all have one shape"
            )
    return (len(items), *first)


def _axis(shape: Shape, axis: int, what: str) -> int:
    if not -len(shape) <= axis < len(shape):
        raise ShapeError(f"axis {axis} is out of range for {what} of shape {shape_text(shape)}")
    return axis % len(shape)


def reduced_shape(axis: int | None) -> Callable[[Shape], Shape]:
    """Reducing over one axis removes it; over none given, over all."""

    def rule(a: Shape) -> Shape:
        if axis is None:
            return ()
        kept = _axis(a, axis, "an array")
        return a[:kept] + a[kept + 1 :]

    return rule


def same_axis_shape(axis: int) -> Callable[[Shape], Shape]:
    """softmax over one axis keeps the shape; a number has no axis to normalise over."""

    def rule(a: Shape) -> Shape:
        if not a:
            raise ShapeError("softmax of a number: it needs a vector (a number's softmax is 1)")
        _axis(a, axis, "an array")
        return a

    return rule


def cross_entropy_shape(logits: Shape, target: Shape) -> Shape:
    """logits (C,) or (N, C); the target: probabilities (same shape) or classes (one rank less)."""
    problem = f"cross_entropy({shape_text(logits)}, {shape_text(target)})"
    if len(logits) not in (1, 2):
        raise ShapeError(f"{problem}: the logits must be of shape (C,) or (N, C)")
    if target != logits and target != logits[:-1]:
        raise ShapeError(
            f"{problem}: the target must be class indices of shape {shape_text(logits[:-1])}"
            f" or probabilities of shape {shape_text(logits)}"
        )
    return ()


class IndexRangeError(ShapeError):
    """An index that does not fit the array: `item` says which of v[i, j] it is."""

    def __init__(self, message: str, item: int) -> None:
        super().__init__(message)
        self.item = item


def index_shape(indices: tuple[int, ...]) -> Callable[[Shape], Shape]:
    """v[i] drops the first axis, A[i, j] the first two; an index counts from the end if < 0."""

    def rule(a: Shape) -> Shape:
        if not a:
            raise IndexRangeError("a number has no items to index", 0)
        if len(indices) > len(a):
            axes = f"{len(a)} axis" + ("" if len(a) == 1 else "es")
            raise IndexRangeError(
                f"{len(indices)} indices for an array of {axes} (shape {shape_text(a)})", len(a)
            )
        for item, (index, size) in enumerate(zip(indices, a)):
            if not -size <= index < size:
                raise IndexRangeError(
                    f"index {index} is out of range for axis {item} of size {size}"
                    f" (shape {shape_text(a)})",
                    item,
                )
        return a[len(indices) :]

    return rule
