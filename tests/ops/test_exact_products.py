"""exact_products.matmul: np.matmul's shapes, with every entry rounded once from the exact sum."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_cli.ops.exact_products import EXACT_LIMIT, matmul


def exact(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The correctly rounded product of two matrices, by rational arithmetic."""
    rows, inner = a.shape
    columns = b.shape[1]
    return np.array(
        [
            [
                float(sum(Fraction(a[i, k]) * Fraction(b[k, j]) for k in range(inner)))
                for j in range(columns)
            ]
            for i in range(rows)
        ]
    )


def test_a_product_that_blas_rounds_two_ways_is_correctly_rounded() -> None:
    # 0.1·0.5 + 0.3·1.7 is 0.55999999999999994… exactly: with or without FMA, BLAS may say 0.56.
    assert matmul(np.array([0.1, -0.2, 0.3]), np.array([0.5, 0.0, 1.7])) == 0.5599999999999999


finite = st.floats(-1e6, 1e6, allow_nan=False).filter(lambda x: x == 0 or abs(x) > 1e-100)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 9), st.integers(1, 3), st.data())
def test_entries_are_the_correctly_rounded_sums(
    rows: int, inner: int, columns: int, data: st.DataObject
) -> None:
    a = np.array(data.draw(st.lists(finite, min_size=rows * inner, max_size=rows * inner))).reshape(
        rows, inner
    )
    b = np.array(
        data.draw(st.lists(finite, min_size=inner * columns, max_size=inner * columns))
    ).reshape(inner, columns)
    expected = exact(a, b)
    got = matmul(a, b)
    # Dot2 is correctly rounded unless the sum all but cancels; then it is within an ulp.
    assert np.all(
        (got == expected) | (np.abs(got - expected) <= np.spacing(np.abs(expected)) + 1e-300)
    )


@pytest.mark.parametrize(
    ("left", "right"),
    [((3, 4), (4,)), ((4,), (4, 5)), ((4,), (4,)), ((2, 3, 4), (4, 5)), ((6, 1, 3, 4), (5, 4, 2)),
     ((0, 3), (3, 2)), ((3, 0), (0, 2)), ((1, 1), (1, 1))],
)  # fmt: skip
def test_shapes_and_values_are_numpys(left: tuple[int, ...], right: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(left), rng.standard_normal(right)
    got, expected = matmul(a, b), np.matmul(a, b)
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14)


def test_the_exact_path_agrees_with_rational_arithmetic_on_a_batch() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 5, 7)), rng.standard_normal((7, 2))
    got = matmul(a, b)
    for index in range(3):
        assert np.array_equal(got[index], exact(a[index], b))


@pytest.mark.parametrize(
    ("a", "b"),
    [([[np.nan, 1.0]], [1.0, 2.0]), ([[np.inf, 1.0]], [1.0, 2.0]), ([[1e300, 1.0]], [1e300, 1.0])],
)
def test_values_the_split_cannot_take_go_to_numpy(a: list[list[float]], b: list[float]) -> None:
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(matmul(np.array(a), np.array(b)), np.matmul(a, b))


def test_large_products_go_to_blas() -> None:
    side = int(EXACT_LIMIT**0.5) + 1
    a = np.ones((side, side))
    assert np.array_equal(matmul(a, np.ones(side)), np.full(side, float(side)))


def test_mismatched_shapes_raise_numpys_error() -> None:
    with pytest.raises(ValueError):
        matmul(np.ones((2, 3)), np.ones(2))
