"""The train command's options, checked against each other before anything runs."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from backprop_cli.core.errors import UsageError
from backprop_cli.training.loop import Plan
from backprop_cli.training.optimizers import Settings

DEFAULT_EPOCHS = 100
_ADAM_ONLY = ("betas", "eps")
_SGD_ONLY = ("momentum", "dampening", "nesterov")


@dataclass(frozen=True, slots=True)
class TrainOptions:
    """The command line's choices, checked against each other."""

    wrt: tuple[str, ...]
    settings: Settings
    plan: Plan
    data: str | None = None
    data_format: str | None = None
    fmt: str = "text"
    plot: str | None = None
    chart: bool = True
    progress: bool | None = None
    precision: int | None = None

    @classmethod
    def from_command_line(cls, options: dict[str, Any]) -> TrainOptions:
        """From the train command's keyword arguments; a UsageError for a bad combination."""
        options = dict(options)
        if options["data"] is None:
            for name in ("batch_size", "data_format"):
                if options[name] is not None:
                    flag = "--" + name.replace("_", "-")
                    raise UsageError(f"{flag} is about the rows of --data FILE")
        if options["plot"] is not None:
            from backprop_cli.training.plot import check_plot_path

            check_plot_path(options["plot"])
        settings = _settings(options)
        _check_number("--tol", options["tol"])
        steps, epochs = options.pop("steps"), options.pop("epochs")
        plan = Plan(
            steps,
            DEFAULT_EPOCHS if steps is None and epochs is None else epochs,
            options.pop("tol"),
            options.pop("batch_size"),
            options.pop("shuffle"),
            options.pop("seed"),
        )
        return cls(settings=settings, plan=plan, **options)


def _betas(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        first, second = (float(part) for part in parts)
    except ValueError:
        raise UsageError(f"--betas {text}: expected two numbers, e.g. 0.9,0.999") from None
    if not (0 <= first < 1 and 0 <= second < 1):
        raise UsageError(f"--betas {text}: each must be at least 0 and less than 1")
    return first, second


def _settings(options: dict[str, Any]) -> Settings:
    """The optimiser's settings, refused where PyTorch would refuse them."""
    name = options.pop("optimizer")
    given = {key: options.pop(key) for key in ("lr", *_SGD_ONLY, *_ADAM_ONLY, "weight_decay")}
    for key in _SGD_ONLY if name == "adam" else _ADAM_ONLY:
        if given[key] not in (None, False):
            flag = "--" + key.replace("_", "-")
            raise UsageError(f"{flag} is not a setting of --optimizer {name}")
    for key in ("lr", "weight_decay", "momentum", "eps"):
        _check_number("--" + key.replace("_", "-"), given[key])
    if given["dampening"] is not None and not math.isfinite(given["dampening"]):
        raise UsageError(f"--dampening {given['dampening']:g}: expected a finite number")
    if given["nesterov"] and (given["momentum"] == 0 or (name == "sgd" and not given["momentum"])):
        raise UsageError("--nesterov needs a momentum: --optimizer momentum, or --momentum μ > 0")
    if given["nesterov"] and given["dampening"]:
        raise UsageError("--nesterov needs zero --dampening, as in PyTorch")
    betas = given.pop("betas")
    changes: dict[str, Any] = {key: value for key, value in given.items() if value is not None}
    if betas is not None:
        changes["betas"] = _betas(betas)
    return replace(Settings(name), **changes)


def _check_number(flag: str, value: float | None) -> None:
    # NaN and infinity pass click's FloatRange(0) and would only fail after a step.
    if value is not None and (not math.isfinite(value) or value < 0):
        raise UsageError(f"{flag} {value:g}: expected a finite number, at least 0")
