"""Shared fixtures. Each fixture below is independent: add new ones at the end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"

Golden = Callable[[str, str], None]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="Rewrite tests/golden/* with the current output instead of comparing.",
    )


# --- golden files -----------------------------------------------------------


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """`golden("seed_000.txt", output)`: compare with tests/golden/seed_000.txt.

    With `pytest --update-goldens` the file is (re)written instead; review the diff.
    """
    update = bool(request.config.getoption("--update-goldens"))

    def check(filename: str, actual: str) -> None:
        path = GOLDEN_DIR / filename
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8", newline="")
            return
        if not path.is_file():
            pytest.fail(f"no golden file {filename}: run pytest --update-goldens and review it")
        expected = path.read_bytes().decode("utf-8")  # no newline translation
        assert actual == expected, f"output differs from tests/golden/{filename}"

    return check
