"""--format html in the real headless Chromium: loads offline, no console error, diagram and maths.

Chromium is found through BACKPROP_CHROMIUM or as `chromium` on PATH; without it these tests
skip with the reason, and fail when BACKPROP_REQUIRE_RENDERERS=1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from installed import backprop
from renderers import unavailable

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = {
    "neuron": ("sigmoid(w0*x0 + w1*x1 + w2)", "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3"),
    "network": ("@samples/seed_003_network.bp",),
    "fan_out": ("b = a + a; c = b + b", "a=1"),
}
# Added to a copy of the page: measures what Chromium laid out, and writes it into the DOM.
PROBE = """<script>
const box = (element) => element ? element.getBoundingClientRect() : {width: 0, height: 0};
const fraction = box(document.querySelector("mfrac"));
const line = parseFloat(getComputedStyle(document.body).fontSize);
document.body.dataset.probe = JSON.stringify({
  svg: box(document.querySelector("svg.graph")).width,
  circles: document.querySelectorAll("svg.graph circle").length,
  maths: document.querySelectorAll("math").length,
  fraction: fraction.height / line,
  tables: document.querySelectorAll("table.gradients tr").length,
});
</script>"""


def page(name: str, tmp_path: Path) -> str:
    result = backprop(*PROGRAMS[name], "--format", "html", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def chromium() -> str:
    named = os.environ.get("BACKPROP_CHROMIUM")
    found = named or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        unavailable("Chromium not found: install chromium or set BACKPROP_CHROMIUM")
    return str(found)


def load(html: str, tmp_path: Path) -> tuple[dict[str, float], list[str]]:
    """The probe's measures and the console lines of the page opened from disk."""
    file = tmp_path / "page.html"
    file.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"]
    command += ["--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp_path / 'profile'}"]
    result = subprocess.run(
        [*command, file.as_uri()], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    probe = re.search(r'data-probe="([^"]*)"', result.stdout)
    assert probe is not None, "the page ran no script: " + result.stdout[:200]
    return json.loads(probe[1].replace("&quot;", '"')), console


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_the_page_needs_nothing_from_the_network(name: str, tmp_path: Path) -> None:
    html = page(name, tmp_path)
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>\n")
    # url(#arrow) names the page's own marker; any other url( would fetch.
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\((?!#)", html)
    # The SVG namespace is a name, not a download.
    assert set(re.findall(r"https?://[^\s\"'<>]*", html)) <= {"http://www.w3.org/2000/svg"}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_chromium_draws_the_diagram_and_typesets_the_maths(name: str, tmp_path: Path) -> None:
    measures, console = load(page(name, tmp_path), tmp_path)
    assert console == []
    assert measures["svg"] > 50 and measures["circles"] >= 2
    assert measures["maths"] >= 4
    # A fraction stacks ∂g over ∂x: taller than a line of text, as only typeset maths is.
    assert measures["fraction"] > 1.5
    assert measures["tables"] >= 2


def test_the_probe_sees_a_console_error(tmp_path: Path) -> None:
    html = "<!DOCTYPE html><html><body><script>console.error('broken')</script></body></html>"
    _, console = load(html, tmp_path)
    assert any("broken" in line for line in console)


def test_each_box_shows_its_value_and_its_total_gradient(tmp_path: Path) -> None:
    # b = a + a; c = b + b at a = 1: dc/da = 4, summed over both paths of both sums.
    svg = re.search(r"<svg.*</svg>", page("fan_out", tmp_path), re.S)
    assert svg is not None
    boxes = dict(re.findall(r'<g class="\w+" id="(v\d+)">(.*?)</g>', svg[0]))
    texts = {key: re.findall(r">([^<>]+)</text>", box) for key, box in boxes.items()}
    assert texts["v0"] == ["a", "= 1", "∂c/∂a = 4"]
    assert texts["v1"] == ["b", "= 2", "∂c/∂b = 2"]
    assert texts["v2"] == ["c", "= 4", "∂c/∂c = 1"]
    assert svg[0].count('marker-end="url(#arrow)"') == 6  # a→+ twice, + → b, b→+ twice, + → c


def test_a_wide_line_is_a_table_of_rows_and_arrays_are_tables(tmp_path: Path) -> None:
    html = page("network", tmp_path)
    assert '<mtable class="rows">' in html and '<mtable class="array">' in html
    maths = "".join(re.findall(r"<math.*?</math>", html, re.S))
    assert "@" not in maths and "\u2062" in maths  # W x, with an invisible times
    assert "<mi>lam</mi>" in html and "<msub><mi>W</mi><mn>1</mn></msub>" in html
