"""Array values of bindings: JSON arrays, .npy/.csv/.json files, and randn/zeros/ones/... .

Only a binding that needs an array comes here, so a scalar one-liner never imports NumPy.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backprop_cli.core.errors import UsageError
from backprop_cli.core.limits import (
    MAX_BINDING_ELEMENTS,
    MAX_ELEMENTS,
    MAX_TEXT_FILE_BYTES,
    bytes_text,
)

__all__ = ["MAX_ELEMENTS", "ArrayReader"]
_CALL = re.compile(r"^\s*(\w+)\s*\((.*)\)\s*$", re.DOTALL)
_SIZE = re.compile(r"^\s*\d+\s*$")
_NOT_FINITE = "an array of finite numbers is expected"


class ArrayReader:
    """Turns binding values into float64 arrays; one random generator for all of them.

    It also counts the numbers it has made, so that all the bindings of a run together stay
    within MAX_BINDING_ELEMENTS; each size is checked before the array is allocated.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._generator: Any = None
        self.held = 0  # numbers in the arrays read so far

    def read(self, item: str, text: str) -> Any:
        """The array that `text` stands for; UsageError naming `item` when it stands for none."""
        try:
            if text.startswith("["):
                array = _checked(_from_json(text), text)
                self.reserve(array.size, "the array")
                return array
            if text.startswith("@"):
                return _checked(_from_file(text[1:], self.reserve), text)
            return self._initialise(text)
        except (UsageError, OSError, ValueError, MemoryError) as error:
            reason = error.message if isinstance(error, UsageError) else _reason(error)
            shown = item if len(item) <= 60 else item[:59] + "…"
            raise UsageError(f"bad binding {shown!r}: {reason}") from None

    def reserve(self, count: int, what: str) -> None:
        """Count `count` more numbers, or refuse them with the limit they would pass."""
        if count > MAX_ELEMENTS:
            raise UsageError(
                f"{what} would hold {count:,} numbers, more than the {MAX_ELEMENTS:,}"
                " an array may hold"
            )
        if self.held + count > MAX_BINDING_ELEMENTS:
            raise UsageError(
                f"{what} would bring the array bindings to {self.held + count:,} numbers,"
                f" more than the {MAX_BINDING_ELEMENTS:,} they may hold together"
            )
        self.held += count

    def _initialise(self, text: str) -> Any:
        import numpy as np

        name, shape = _initialiser(text)
        written = f"{name}({', '.join(map(str, shape))})"
        if 0 in shape:
            raise UsageError(f"{written} would be empty: sizes start at 1")
        if name == "eye" and len(shape) != 1:
            raise UsageError("eye(n) takes one size: the n×n identity")
        self.reserve(shape[0] ** 2 if name == "eye" else math.prod(shape), written)
        if name == "eye":
            return np.eye(shape[0])
        if name in ("zeros", "ones"):
            return np.full(shape, 0.0 if name == "zeros" else 1.0)
        generator = self._random()
        return generator.standard_normal(shape) if name == "randn" else generator.random(shape)

    def _random(self) -> Any:
        if self._generator is None:
            import numpy as np

            self._generator = np.random.default_rng(self.seed)
        return self._generator


def _initialiser(text: str) -> tuple[str, tuple[int, ...]]:
    """randn(3, 4) -> ('randn', (3, 4)), or a UsageError showing how it is written."""
    match = _CALL.match(text)
    name = text.partition("(")[0].strip()
    if match is None:
        raise UsageError(f"{text!r} is not a call such as {name}(3, 4)")
    sizes = [part for part in match.group(2).split(",") if part.strip()]
    if not sizes or not all(_SIZE.match(part) for part in sizes):
        raise UsageError(f"{name}() takes sizes as whole numbers, e.g. {name}(3, 4)")
    return name, tuple(int(part) for part in sizes)


def _from_json(text: str) -> Any:
    import numpy as np

    try:
        data = json.loads(text.replace("−", "-"))
    except RecursionError:
        raise UsageError("the array is nested too deeply") from None
    except json.JSONDecodeError as error:
        where = f"{error.msg} at column {error.colno}"
        raise UsageError(f"{text!r} is not a JSON array ({where})") from None
    if not _numbers_only(data):
        raise UsageError("an array holds numbers only (no strings, true/false, null or {})")
    try:
        return np.array(data, dtype=float)
    except OverflowError:  # an integer of hundreds of digits
        raise UsageError(_NOT_FINITE) from None


def _numbers_only(data: Any) -> bool:
    # Iterative: a deeply nested list must not exhaust the stack here either.
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, bool) or not isinstance(item, int | float):
            return False
    return True


def _from_file(name: str, reserve: Callable[[int, str], None]) -> Any:
    import numpy as np

    if not name.strip():
        raise UsageError("@ needs a file name after it, e.g. W=@w.npy")
    path = Path(name)
    if not path.is_file():
        raise UsageError(
            f"{name} is not a regular file" if path.exists() else f"no such file: {name}"
        )
    suffix = path.suffix.lower()
    if suffix == ".npy":
        reserve(_npy_count(path), name)  # from the header, before the data is read
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError:
            raise UsageError(f"{name} is not a .npy file of numbers") from None
        if array.dtype.kind not in "biuf":
            raise UsageError(f"{name} holds {array.dtype} values, not real numbers")
        return np.asarray(array, dtype=float)
    if suffix not in (".json", ".csv", ".txt"):
        raise UsageError(f"{name}: expected a .npy, .csv, .txt or .json file")
    if path.stat().st_size > MAX_TEXT_FILE_BYTES:
        limit = bytes_text(MAX_TEXT_FILE_BYTES)
        raise UsageError(f"{name} is larger than {limit}, the most a .{suffix[1:]} binding may be")
    array = _from_text(path, suffix)
    reserve(array.size, name)
    return array


def _from_text(path: Path, suffix: str) -> Any:
    import numpy as np

    if suffix == ".json":
        return _from_json(path.read_text(encoding="utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an empty file: reported below, in one line
        delimiter = "," if suffix == ".csv" else None
        return np.loadtxt(path, delimiter=delimiter, dtype=float, ndmin=1)


def _npy_count(path: Path) -> int:
    """The number of values a .npy file's header announces (0 if it has no header we read)."""
    from numpy.lib import format as npy

    with path.open("rb") as file:
        try:
            version = npy.read_magic(file)
            read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
            shape = read(file)[0]
        except (ValueError, OSError, SyntaxError):
            return 0  # np.load says what is wrong with it
    return math.prod(shape)


def _checked(array: Any, text: str) -> Any:
    import numpy as np

    if array.dtype == object:
        raise UsageError("the rows of an array must all have the same length")
    if array.size == 0:
        raise UsageError("the array is empty")
    if not np.all(np.isfinite(array)):
        raise UsageError(_NOT_FINITE)
    return array


def _reason(error: Exception) -> str:
    if isinstance(error, MemoryError):
        return "not enough memory for it"
    if isinstance(error, FileNotFoundError):
        return f"no such file: {error.filename}"
    if isinstance(error, OSError):
        return f"cannot read {error.filename}: {error.strerror}"
    text = str(error).split("\n")[0]
    if "maximum" in text and "dimension" in text:
        return "an array has at most 64 dimensions"
    if "inhomogeneous" in text or "sequence" in text:
        return "the rows of an array must all have the same length"
    return text
