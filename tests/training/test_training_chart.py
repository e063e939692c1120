"""The loss curve: a block chart for the terminal, and a PNG or SVG file from matplotlib."""

from __future__ import annotations

import math
import struct
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from backprop_cli.core.errors import UsageError
from backprop_cli.training.chart import loss_chart, wants_log_scale
from backprop_cli.training.plot import check_plot_path, save_plot

BLOCKS = " ▁▂▃▄▅▆▇█"
DESCENT = [10 * 0.9**step for step in range(40)]


def body(chart: str) -> list[str]:
    """The rows between the header and the x-axis, each cut to its cells after the axis."""
    lines = chart.split("\n")[1:-2]
    start = max(line.index("┤") if "┤" in line else line.index("│") for line in lines) + 1
    return [line[start:] for line in lines]


def heights(chart: str) -> list[int]:
    """Each column's fill in eighths of a cell, read back from the blocks."""
    rows = body(chart)
    columns = max(len(row) for row in rows)
    padded = [row.ljust(columns) for row in rows]
    return [sum(BLOCKS.index(row[column]) for row in padded) for column in range(columns)]


def y_labels(chart: str) -> list[str]:
    """The labels on ticked rows, top first."""
    return [line.split("┤")[0].strip() for line in chart.split("\n") if "┤" in line]


# --- the chart: shape ---------------------------------------------------------

SHAPES = [
    DESCENT,
    [5.0],
    [1.0, 2.0],
    [0.3] * 7,
    [0.0] * 5,
    [-1.0, -2.0, -3.5, -4.0],
    [math.nan, 3.0, math.inf, 2.0, -math.inf, 1.0],
    [1e308, -1e308, 5.0],
    [float(step % 7) for step in range(5000)],
]


@pytest.mark.parametrize("losses", SHAPES)
@pytest.mark.parametrize(("width", "height"), [(60, 10), (30, 4), (80, 3)])
def test_chart_has_height_rows_and_fits_width(losses: list[float], width: int, height: int) -> None:
    lines = loss_chart(losses, width, height).split("\n")
    assert len(lines) == 1 + height + 2  # header, rows, axis line, step labels
    assert max(len(line) for line in lines) <= width
    assert all(line == line.rstrip() for line in lines)
    assert all(line.strip() for line in lines)


@pytest.mark.parametrize(("width", "height"), [(1, 1), (0, -5)])
def test_too_small_a_chart_is_widened_and_heightened(width: int, height: int) -> None:
    lines = loss_chart(DESCENT, width, height).split("\n")
    assert len(lines) == 1 + 3 + 2
    assert len(body("\n".join(lines))[-1]) == 8


def test_small_chart_is_pinned() -> None:
    # 13 columns for 4 steps: 4, 3, 3 and 3 columns each. 3 is 2/3 of the way up 40 eighths,
    # so it ends 3 eighths (▃) into the second row; the midpoint 2.5 labels the row it ends in.
    expected = [
        "loss",
        "  4 ┤████",
        "    │████▃▃▃",
        "2.5 ┤███████",
        "    │███████▆▆▆",
        "  1 ┤██████████▁▁▁",
        "    └─────────────",
        "     1    step   4",
    ]
    assert loss_chart([4.0, 3.0, 2.0, 1.0], width=18, height=5) == "\n".join(expected)


def test_chart_is_plain_text() -> None:
    chart = loss_chart([math.nan, *DESCENT], width=50, height=8)
    assert set(chart) <= set(BLOCKS + "┤│└─\n0123456789.e-") | set("loss (log scale) step")
    assert chart == loss_chart([math.nan, *DESCENT], width=50, height=8)


# --- the chart: what it shows -------------------------------------------------


@pytest.mark.parametrize("losses", [DESCENT, [3.0, 2.0, 1.0], [-1.0, -2.0, -3.0]])
def test_descending_losses_descend(losses: list[float]) -> None:
    column_heights = heights(loss_chart(losses, width=40, height=6))
    assert column_heights[0] > column_heights[-1]
    assert column_heights == sorted(column_heights, reverse=True)


def test_ascending_losses_ascend() -> None:
    column_heights = heights(loss_chart(DESCENT[::-1], width=40, height=6))
    assert column_heights[0] < column_heights[-1]


def test_a_column_shows_the_mean_of_its_steps() -> None:
    # 0 and 10 fix the range; between them 4 and 6 alternate, so every bucket's mean is ~5.
    losses = [0.0] + [4.0, 6.0] * 1000 + [10.0]
    column_heights = heights(loss_chart(losses, width=60, height=10))
    # Full height is 80 eighths: the mean is near 40, the minimum 32 and the maximum 48.
    assert all(38 <= height <= 43 for height in column_heights[1:-1])


def test_the_lowest_loss_still_shows() -> None:
    column_heights = heights(loss_chart([2.0, 1.0], width=30, height=4))
    assert min(column_heights) == 1


@pytest.mark.parametrize(
    ("losses", "log"),
    [
        ([10.0**-power for power in range(6)], True),
        ([1.0, 0.5, 0.2], False),
        ([100.0, 1.0], False),  # exactly two orders of magnitude
        ([100.5, 1.0], True),
        ([1000.0, 0.0], False),  # zero has no logarithm
        ([1000.0, -1.0, 1e-3], False),
        ([1000.0, math.nan, 1e-3, math.inf], True),
    ],
)
def test_log_scale_only_for_positive_losses_over_two_decades(
    losses: list[float], log: bool
) -> None:
    assert wants_log_scale(losses) is log
    assert ("log scale" in loss_chart(losses)) is log


def test_log_scale_labels_are_compact() -> None:
    labels = y_labels(loss_chart([3.41, 1.2e-05], width=40, height=6))
    assert labels[0] == "3.41" and labels[-1] == "1.2e-05"
    assert labels[1] == "0.0064"  # the geometric mean, sqrt(3.41 · 1.2e-05)


def test_linear_labels_are_maximum_midpoint_minimum() -> None:
    assert y_labels(loss_chart([-3.0, 0.5, 1.0], width=40, height=6)) == ["1", "-1", "-3"]


def test_close_losses_get_enough_digits_to_differ() -> None:
    labels = y_labels(loss_chart([1.0001, 1.0002], width=40, height=6))
    assert labels[0] != labels[-1]


@pytest.mark.parametrize(("steps", "last_line"), [(1, "1"), (2, "2"), (40, "40"), (5000, "5000")])
def test_x_axis_shows_the_step_range(steps: int, last_line: str) -> None:
    axis = loss_chart([1.0] * steps).split("\n")[-1].split()
    assert axis[0] == "1" and axis[-1] == last_line
    assert len(axis) == (1 if steps == 1 else 3)  # 1, "step", N


def test_constant_losses_are_a_flat_line() -> None:
    column_heights = heights(loss_chart([0.25] * 9, width=30, height=4))
    assert len(set(column_heights)) == 1 and 0 < column_heights[0] < 32


def test_non_finite_steps_leave_blank_columns() -> None:
    losses = [math.nan, 3.0, math.inf, 2.0]
    column_heights = heights(loss_chart(losses, width=30, height=4))
    quarter = len(column_heights) // 4
    assert column_heights[0] == 0 and column_heights[2 * quarter + 1] == 0
    assert column_heights[quarter + 1] > column_heights[-1] > 0


@pytest.mark.parametrize("losses", [[], [math.nan], [math.inf, -math.inf]])
def test_nothing_finite_to_chart_says_so(losses: list[float]) -> None:
    assert loss_chart(losses) == "loss: no finite values to chart"


# --- the plot -----------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which a PNG must start with."""
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("name", ["loss.png", "LOSS.PNG"])
def test_png_is_a_640_by_400_png(tmp_path: Path, name: str) -> None:
    image = pytest.importorskip("matplotlib.image")
    path = tmp_path / name
    save_plot(DESCENT, str(path), "descent")
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert png_size(data) == (640, 400)
    assert image.imread(str(path)).shape[:2] == (400, 640)
    assert [entry.name for entry in tmp_path.iterdir()] == [name]  # no temporary file left


def test_svg_is_xml_with_title_and_axis_labels(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "loss.svg"
    save_plot(DESCENT, str(path), "descent of $w")
    assert ElementTree.parse(path).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    text = path.read_text(encoding="utf-8")
    # matplotlib draws text as paths and keeps each string in a comment beside them.
    for label in ("<!-- descent of $w -->", "<!-- step -->", "<!-- loss -->"):
        assert label in text


def test_svg_is_byte_identical_across_runs(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    save_plot(DESCENT, str(first), "descent")
    save_plot(DESCENT, str(second), "descent")
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(("losses", "log"), [(DESCENT, False), ([1.0, 1e-3, 1e-6], True)])
def test_plot_uses_a_log_axis_for_wide_positive_losses(
    tmp_path: Path, losses: list[float], log: bool
) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "loss.svg"
    save_plot(losses, str(path), "t")
    # A log axis labels its ticks as powers of ten.
    assert ("10^{-3}" in path.read_text(encoding="utf-8")) is log


@pytest.mark.parametrize("losses", [[], [2.0], [math.nan, 1.0, math.inf, 2.0, -3.0], [0.0] * 3])
def test_plot_draws_awkward_losses(tmp_path: Path, losses: list[float]) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "loss.png"
    save_plot(losses, str(path), "awkward")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("name", ["loss.jpg", "loss", "loss.png.txt", "svg"])
def test_plot_refuses_other_extensions(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError) as caught:
        save_plot(DESCENT, str(tmp_path / name), "t")
    assert caught.value.message.startswith("--plot takes a .png or .svg file name, not '")
    assert "\n" not in caught.value.message
    assert list(tmp_path.iterdir()) == []


def test_plot_without_matplotlib_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(UsageError) as caught:
        save_plot(DESCENT, str(tmp_path / "loss.png"), "t")
    assert caught.value.message == "--plot needs matplotlib: pip install 'backprop-cli[plot]'"
    assert list(tmp_path.iterdir()) == []


def test_plot_into_a_missing_folder_names_the_file(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "missing" / "loss.png"
    with pytest.raises(UsageError) as caught:
        save_plot(DESCENT, str(path), "t")
    assert caught.value.message == f"cannot write {path}: no folder {path.parent}"


def test_plot_over_a_folder_fails_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "loss.svg").mkdir()
    with pytest.raises(UsageError) as caught:
        save_plot(DESCENT, str(tmp_path / "loss.svg"), "t")
    assert caught.value.message.startswith(f"cannot write {tmp_path / 'loss.svg'}: ")
    assert [entry.name for entry in tmp_path.iterdir()] == ["loss.svg"]


@pytest.mark.parametrize("name", ["loss.png", "loss.SVG"])
def test_a_good_plot_path_passes_the_early_check(tmp_path: Path, name: str) -> None:
    pytest.importorskip("matplotlib")
    check_plot_path(str(tmp_path / name))
    assert list(tmp_path.iterdir()) == []  # checking writes nothing


def test_the_early_check_refuses_a_bad_extension_or_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"not '.*loss\.jpg'$"):
        check_plot_path(str(tmp_path / "loss.jpg"))
    folder = tmp_path / "missing"
    with pytest.raises(UsageError) as caught:
        check_plot_path(str(folder / "loss.png"))
    assert caught.value.message == f"cannot write {folder / 'loss.png'}: no folder {folder}"


def test_the_early_check_needs_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(UsageError, match="needs matplotlib"):
        check_plot_path("loss.png")
