"""--format latex: a standalone article whose environments balance and whose names are escaped."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from installed import backprop

ROOT = Path(__file__).resolve().parents[2]
SOFTMAX = "L = sum(log_softmax(x_in) * t)"


def document(*args: str) -> str:
    result = backprop(*args, "--format", "latex", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_environments_balance_and_the_document_is_whole() -> None:
    text = document("@samples/seed_003_network.bp")
    assert text.index(r"\documentclass{article}") < text.index(r"\begin{document}")
    assert text.rstrip().endswith(r"\end{document}")
    assert r"\usepackage{amsmath}" in text
    opened = re.findall(r"\\begin\{(\w+\*?)\}", text)
    closed = re.findall(r"\\end\{(\w+\*?)\}", text)
    assert sorted(opened) == sorted(closed) and "aligned" in opened and "tabular" in opened
    displays = re.findall(r"^\\\[$", text, re.M), re.findall(r"^\\\]$", text, re.M)
    assert len(displays[0]) == len(displays[1]) == 11 + 22  # 11 forward, 22 backward
    assert r"\cr" not in text  # LaTeX's own row end, \\, in matrices and aligned rows
    assert "‖" not in text  # the comments of the program are left out: pdflatex cannot set ‖


def test_names_are_escaped_and_typeset() -> None:
    text = document(SOFTMAX, "x_in=[1, 2]", "t=[0, 1]")
    assert r"\operatorname{log\_softmax}" in text
    assert r"x_{\mathrm{in}}" in text
    assert re.search(r"^\$x_\{\\mathrm\{in\}\}\$ & ", text, re.M)  # a row of the table


def test_pdflatex_compiles_it(tmp_path: Path) -> None:
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex not found: the structure tests above stand in for it")
    (tmp_path / "f.tex").write_text(document("@samples/seed_003_network.bp"), encoding="utf-8")
    result = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "f.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
