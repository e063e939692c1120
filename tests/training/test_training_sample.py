"""samples/training: the XOR network trains as the README says, and its loss plot is redrawn."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from command import invoke, strict_json

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "training"
# As the README runs it, from the project's folder: the plot's title is the program's path.
COMMAND = (
    "train", "@samples/training/xor_network.bp", "--wrt", "W1,W2", "W1=randn(8,2)", "W2=randn(1,8)",
    "--data", "samples/training/xor.jsonl", "--batch-size", "4", "--seed", "0",
    "--optimizer", "adam", "--lr", "0.05", "--epochs", "300",
)  # fmt: skip


def test_the_sample_network_learns_xor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(ROOT)
    plot = tmp_path / "xor_loss.svg"
    result = invoke(*COMMAND, "--format", "json", "--plot", str(plot))
    assert result.exit_code == 0, result.stderr
    record = strict_json(result.stdout)
    W1, W2 = np.array(record["parameters"]["W1"]), np.array(record["parameters"]["W2"])
    for a in (0, 1):
        for b in (0, 1):
            assert (W2 @ np.maximum(W1 @ [a, b], 0))[0] == pytest.approx(a ^ b, abs=0.1)
    check_loss_plot(plot, steps=300)


def test_the_committed_plot_is_the_samples_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    monkeypatch.chdir(ROOT)
    committed = SAMPLES / "xor_loss.svg"
    check_loss_plot(committed, steps=300)
    made_with = re.search(rb"Matplotlib v([\w.]+),", committed.read_bytes())
    assert made_with is not None
    if made_with.group(1).decode() != matplotlib.__version__:
        pytest.skip(f"the sample was drawn by matplotlib {made_with.group(1).decode()}")
    redrawn = tmp_path / "xor_loss.svg"
    assert invoke(*COMMAND, "--plot", str(redrawn)).exit_code == 0
    assert redrawn.read_bytes() == committed.read_bytes()


def check_loss_plot(path: Path, steps: int) -> None:
    """An SVG with the title, a log-scale loss axis and one falling curve over the steps."""
    svg = ET.parse(path).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    text = path.read_text(encoding="utf-8")
    assert "<!-- samples/training/xor_network.bp -->" in text
    assert "<!-- step -->" in text and "<!-- loss -->" in text
    assert r"$\mathdefault{10^{-1}}$" in text  # log scale: 1.12 down to 0.00057
    curve = next(g for g in svg.iter() if g.get("id", "").startswith("line2d") and _is_curve(g))
    d = curve[0].get("d", "")
    ys = [float(y) for y in re.findall(r"[ML] [\d.]+ ([\d.]+)", d)]
    assert len(ys) > 20
    assert ys[-1] > ys[0]  # SVG y grows downwards: the loss fell
    xs = [float(x) for x in re.findall(r"[ML] ([\d.]+) [\d.]+", d)]
    assert xs == sorted(xs) and steps > 0


def _is_curve(group: ET.Element) -> bool:
    return len(group) == 1 and "#1f77b4" in group[0].get("style", "")
