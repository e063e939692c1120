"""An index in LaTeX stays an index, not a one-item column vector."""

from __future__ import annotations

import pytest

from backprop_cli.render.latex import expression


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("v[0]", "v[0]"),
        ("A[1, -1]", "A[1, -1]"),
        ("[1, 2][0]", r"\begin{bmatrix}1 \cr 2\end{bmatrix}[0]"),
        ("(a + b)[2]", "(a + b)[2]"),
        (
            "∂g/∂p at v[0], 0 elsewhere",
            r"\frac{\partial g}{\partial p}\text{ at }v[0]\text{, 0 elsewhere}",
        ),
        ("[z > 0]", r"[z \gt 0]"),  # a bracket after a space opens no index
        ("p · [1, 2]", r"p \cdot \begin{bmatrix}1 \cr 2\end{bmatrix}"),
    ],
)
def test_indices_in_latex(text: str, latex: str) -> None:
    assert expression(text) == latex
