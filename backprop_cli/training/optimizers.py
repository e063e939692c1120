"""SGD, SGD with momentum and Adam, with PyTorch's parameters, defaults and order of arithmetic.

A parameter is a float or a NumPy array; every update returns new values and never writes into
an array it was given, so a caller may keep the previous parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

Value = Any  # a float or a float64 NumPy array

OPTIMIZERS = ("sgd", "momentum", "adam")


@dataclass(frozen=True, slots=True)
class Settings:
    """Hyperparameters; the defaults are those of torch.optim.SGD and torch.optim.Adam."""

    name: str = "sgd"
    lr: float = 1e-3
    momentum: float | None = None  # None: 0 for sgd, 0.9 for momentum
    dampening: float = 0.0
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0

    @property
    def momentum_factor(self) -> float:
        """The momentum actually used."""
        if self.momentum is not None:
            return self.momentum
        return 0.9 if self.name == "momentum" else 0.0

    def describe(self) -> str:
        """The optimiser and its non-default settings, e.g. 'adam (lr 0.1)'."""
        parts = [f"lr {self.lr:g}"]
        if self.name == "momentum" or self.momentum_factor:
            parts.append(f"momentum {self.momentum_factor:g}")
        if self.nesterov:
            parts.append("nesterov")
        if self.name == "adam" and self.betas != (0.9, 0.999):
            parts.append(f"betas {self.betas[0]:g}, {self.betas[1]:g}")
        if self.weight_decay:
            parts.append(f"weight decay {self.weight_decay:g}")
        return f"{self.name} ({', '.join(parts)})"


class SGD:
    """θ ← θ − lr·g, with PyTorch's momentum buffer b ← μ·b + (1 − dampening)·g when μ > 0."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.buffers: dict[str, Value] = {}

    def step(self, params: dict[str, Value], grads: dict[str, Value]) -> dict[str, Value]:
        """The parameters after one update."""
        s = self.settings
        mu = s.momentum_factor
        updated: dict[str, Value] = {}
        for name, param in params.items():
            d_p = _decayed(grads[name], param, s.weight_decay)
            if mu:
                buffer = self.buffers.get(name)
                # PyTorch starts the buffer at the first gradient, undamped.
                buffer = d_p if buffer is None else buffer * mu + (1 - s.dampening) * d_p
                self.buffers[name] = buffer
                d_p = d_p + mu * buffer if s.nesterov else buffer
            updated[name] = param + (-s.lr) * d_p
        return updated


class Adam:
    """Adam as torch.optim.Adam computes it, bias corrections included."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.steps = 0
        self.first: dict[str, Value] = {}  # exp_avg
        self.second: dict[str, Value] = {}  # exp_avg_sq

    def step(self, params: dict[str, Value], grads: dict[str, Value]) -> dict[str, Value]:
        """The parameters after one update."""
        s = self.settings
        beta1, beta2 = s.betas
        self.steps += 1
        step_size = s.lr / (1 - beta1**self.steps)
        correction2_sqrt = math.sqrt(1 - beta2**self.steps)
        updated: dict[str, Value] = {}
        for name, param in params.items():
            grad = _decayed(grads[name], param, s.weight_decay)
            m = self.first.get(name, 0.0 * grad)
            v = self.second.get(name, 0.0 * grad)
            m = m + (1 - beta1) * (grad - m)  # torch's lerp(m, grad, 1 - beta1)
            v = v * beta2 + (1 - beta2) * (grad * grad)
            self.first[name], self.second[name] = m, v
            denominator = _sqrt(v) / correction2_sqrt + s.eps
            updated[name] = param + (-step_size) * (m / denominator)
        return updated


def make_optimizer(settings: Settings) -> SGD | Adam:
    """The optimiser that `settings.name` names."""
    return Adam(settings) if settings.name == "adam" else SGD(settings)


def _decayed(grad: Value, param: Value, weight_decay: float) -> Value:
    # L2 weight decay as PyTorch adds it: to the gradient, before momentum or moments.
    return grad + weight_decay * param if weight_decay else grad


def _sqrt(value: Value) -> Value:
    if isinstance(value, float):
        return math.sqrt(value)
    import numpy as np  # only arrays reach here

    return np.sqrt(value)
