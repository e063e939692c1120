"""Array programs against NumPy code written in the tests: central differences and checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from backprop_cli import evaluate, parse

Reference = Callable[[Mapping[str, Any]], Any]


def run(source: str, bindings: Mapping[str, Any]) -> Any:
    """The tool's Evaluation of `source` through the Python API."""
    return evaluate(parse(source, bound=bindings.keys()), dict(bindings))


def central_differences(f: Reference, bindings: Mapping[str, Any], name: str) -> Any:
    """d f / d bindings[name], element by element, by central differences of a NumPy f."""
    h = 1e-6
    point = {key: np.array(value, dtype=float) for key, value in bindings.items()}
    base = point[name]
    gradient = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        saved = base[index]
        base[index] = saved + h
        up = float(f(point))
        base[index] = saved - h
        down = float(f(point))
        base[index] = saved
        gradient[index] = (up - down) / (2 * h)
    return gradient


def relative_error(actual: Any, expected: Any) -> float:
    """‖actual - expected‖ / ‖expected‖ (absolute when the expected value is 0)."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"shape {actual.shape}, expected {expected.shape}"
    scale = float(np.linalg.norm(expected))
    return float(np.linalg.norm(actual - expected)) / (scale if scale else 1.0)


def check_against_numpy(
    source: str,
    bindings: Mapping[str, Any],
    reference: Reference,
    constants: tuple[str, ...] = (),
    tolerance: float = 1e-6,
) -> None:
    """Value as the NumPy reference; every gradient as its central differences.

    Inputs in `constants` (class indices) are not differentiated: their gradient must be 0.
    """
    evaluation = run(source, bindings)
    assert np.isclose(evaluation.value, float(reference(bindings)), rtol=1e-12, atol=1e-12)
    assert set(evaluation.gradients) == set(bindings)
    for name, value in bindings.items():
        gradient = evaluation.gradients[name]
        assert np.shape(gradient) == np.shape(value), name
        if name in constants:
            assert not np.any(gradient), name
            continue
        expected = central_differences(reference, bindings, name)
        error = relative_error(gradient, expected)
        assert error < tolerance, f"d/d{name}: relative error {error:.2e}"


def random_bindings(seed: int, **specs: Any) -> dict[str, Any]:
    """Inputs from a seeded generator: a shape, or (shape, low, high) for a range."""
    rng = np.random.default_rng(seed)
    bindings: dict[str, Any] = {}
    for name, spec in specs.items():
        shape, low, high = spec if isinstance(spec, list) else (spec, -1.0, 1.0)
        value = rng.uniform(low, high, shape)
        bindings[name] = float(value) if shape == () else value
    return bindings
