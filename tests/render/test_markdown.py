"""--format markdown as a docs author pastes it: headings, names as names, rows that fit."""

from __future__ import annotations

import re

import pytest
from command import invoke

from backprop_cli.render import latex
from backprop_cli.render.derivation import Line
from backprop_cli.render.equations import WIDTH, rows, width

NETWORK = "@samples/seed_003_network.bp"


@pytest.mark.parametrize(
    ("name", "typeset"),
    [
        ("x", "x"),
        ("W1", "W_{1}"),
        ("w_2", "w_{2}"),
        ("loss", r"\mathrm{loss}"),
        ("lam", r"\mathrm{lam}"),  # not λ: only a Greek letter's own name is one
        ("lambda", r"{\lambda}"),
        ("theta", r"{\theta}"),
        ("θ_2", r"{\theta}_{2}"),
        ("loss_total", r"\mathrm{loss}_{\mathrm{total}}"),
        ("变量", r"\text{变量}"),
    ],
)
def test_names_are_typeset_as_names(name: str, typeset: str) -> None:
    assert latex.name(name) == typeset


def markdown(*args: str) -> str:
    result = invoke(*args, "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_each_part_has_a_heading() -> None:
    text = markdown("(x+y)*z", "x=1", "y=3", "z=-3")
    headings = re.findall(r"^## (.*)$", text, re.M)
    assert headings == [
        "Program",
        "Computation graph",
        "Forward pass",
        "Backward pass",
        "Gradients",
    ]


def test_a_matrix_product_is_written_as_a_product() -> None:
    maths = re.findall(r"^\$\$(.*)\$\$$", markdown(NETWORK), re.M)
    assert maths and not any("@" in line for line in maths)
    assert r"z = W_{1} x = \begin{bmatrix}" in maths[0]
    assert r"\frac{\partial J}{\partial \mathrm{lam}}" in "".join(maths)


def test_a_wide_line_breaks_into_aligned_rows_at_its_equals_signs() -> None:
    maths = re.findall(r"^\$\$(.*)\$\$$", markdown(NETWORK), re.M)
    aligned = [line for line in maths if line.startswith(r"\begin{aligned}")]
    assert aligned, "the network's wide lines are aligned blocks"
    for line in aligned:
        assert r"\\" not in line  # GitHub would make \\ a \
        first, *others = re.split(r" \\cr (?=& = )", line.removeprefix(r"\begin{aligned}"))
        assert " & = " in first.split(r"\begin{bmatrix}")[0] and others


def test_rows_keep_within_the_width_unless_one_part_is_wider() -> None:
    parts = ("a + b", "[[1.25, 2.5], [3.75, 5]]", "x" * 30, "y" * 30, "z" * 70)
    line = Line("∂J/∂W1", parts[:2], parts[2:4], parts[4], "path 1 of 2")
    split = rows(line)
    assert split == [
        ["∂J/∂W1", "a + b", "[[1.25, 2.5], [3.75, 5]]", "x" * 30],
        ["y" * 30],
        ["z" * 70],
    ]
    assert all(sum(width(part) + 2 for part in row) <= WIDTH for row in split[:-1])
    assert width("[[1.25, 2.5], [3.75, 5]]") == 4 + 3 + 1.5 + 2  # two columns, stacked
    assert width("∂J/∂W1") == 3  # a fraction: as wide as its longer line


def test_a_short_line_stays_on_one_line() -> None:
    line = Line("p", ("x + y",), ("1 + 3",), "4")
    assert rows(line) == [["p", "x + y", "1 + 3", "4"]]
    assert latex.line(line, newline=r"\cr") == "p = x + y = 1 + 3 = 4"
