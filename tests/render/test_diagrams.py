"""--format mermaid, dot and markdown: goldens, limits, -o, and the real renderers.

The `drawn` fixture writes every diagram of this module (cases, hostile labels, the 500-edge
limit, samples/, README.md) to one directory, and each renderer runs once over all of them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from diagram_expectations import (
    drawn_labels,
    expected_dot_texts,
    expected_mermaid_labels,
    maths_flowchart,
)
from installed import backprop
from renderers import ROOT, Drawn, mermaid_labels, svg_texts

from backprop_cli import evaluate, parse
from backprop_cli.cli.main import main
from backprop_cli.render import dot, mermaid
from backprop_cli.render.diagram import (
    CONSTANT_SHAPE,
    INPUT_SHAPE,
    OPERATION_SHAPE,
    VALUE_SHAPE,
    Diagram,
    Shape,
    Wire,
    build,
)
from backprop_cli.render.options import RenderOptions

Golden = Callable[[str, str], None]
EXTENSIONS = {"mermaid": "mmd", "dot": "dot", "markdown": "md"}
SAMPLES = ROOT / "samples"
README = ROOT / "README.md"

# Names Mermaid or DOT would take for syntax if they were not quoted, and non-ASCII ones.
HOSTILE_PROGRAM = (
    "λ = 2; w_1 = -3; end = 0; graph = 4; style = 0.5; class = 1; subgraph = 3; click = 2\n"
    "θ_2 = 1; 变量 = 4; strict = 1; node = 2\n"
    "sigmoid(λ * w_1 + end) - graph / style + max(class, subgraph) ^ click"
    " - sqrt(end) * θ_2 + 变量 * strict − node"
)
# name -> command-line arguments; each is drawn in every format that can draw it.
CASES: dict[str, tuple[str, ...]] = {
    "seed_000": ("(x+y)*z", "x=1", "y=3", "z=-3"),
    "seed_000_structure": ("(x+y)*z",),
    "seed_000_no_gradients": ("(x+y)*z", "x=1", "y=3", "z=-3", "--no-gradients"),
    "seed_000_lr": ("(x+y)*z", "x=1", "y=3", "z=-3", "--direction", "LR"),
    "seed_001_program": ("x = -2; y = 5; z = -4; q = x + y; f = q * z",),
    "a_plus_a": ("b = a + a; c = b + b", "a=1"),
    "neuron": ("sigmoid(w0*x0 + w1*x1 + w2)", "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3"),
    "x_times_x": ("x*x", "x=3"),
    "kinks_relu_max": ("relu(x - 1) + max(x, y)", "x=1", "y=1", "--precision", "3"),
    "hostile_names": (HOSTILE_PROGRAM,),
}
NEEDS_VALUES = {"seed_000_structure"}  # markdown shows values: not drawn for these


def run(*arguments: str) -> Result:
    """The CLI with plain output."""
    env = {"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": None}
    return CliRunner().invoke(main, list(arguments), env=env, catch_exceptions=False)


def drawing(name: str, fmt: str) -> str:
    """One case in one format; it must succeed quietly."""
    result = run(*CASES[name], "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def all_drawings() -> list[tuple[str, str]]:
    """(case, format) for every drawing of CASES."""
    return [
        (name, fmt)
        for name in CASES
        for fmt in EXTENSIONS
        if not (fmt == "markdown" and name in NEEDS_VALUES)
    ]


# --- the files: samples/ and the README ----------------------------------------------


def sample_outputs(program: Path) -> dict[Path, str]:
    """What the tool writes next to a sample program, per format."""
    outputs = {}
    for fmt, extension in EXTENSIONS.items():
        result = run(f"@{program.relative_to(ROOT)}", "--format", fmt)
        assert result.exit_code == 0, result.stderr
        outputs[program.with_suffix(f".{extension}")] = result.stdout
    return outputs


PROGRAMS = sorted(SAMPLES.glob("*.bp"))


def readme_diagram() -> tuple[list[str], str]:
    """The command that README's Diagrams section shows, and its ```mermaid block."""
    section = README.read_text(encoding="utf-8").partition("\n## Diagrams\n")[2]
    command = re.search(r"`backprop ([^`]+)` draws", section)
    block = re.search(r"```mermaid\n(.*?)```", section, re.DOTALL)
    assert command and block, "README.md needs a ## Diagrams section with a ```mermaid block"
    return shlex.split(command.group(1)), block.group(1)


# --- hostile labels, drawn from a Diagram made by hand ---------------------------------

HOSTILE_TEXTS = [
    'say "hi"',
    "C# #35; &amp; & x",
    "a|b -->|c| d",
    "(x) [y] {z}",
    "<b>bold</b> </text>",
    "`code` **b**",
    "$$x^2$$ $y$",
    "fa:fa-car k:v",
    "%%{init: {}}%% 50%",
    "back\\slash \\n \\l",
    "end",
    "graph",
    "style",
    "−3 ∂g/∂x λ w_1 🙂",
    "subgraph strict node edge digraph",
]
_KINDS = [INPUT_SHAPE, OPERATION_SHAPE, CONSTANT_SHAPE, VALUE_SHAPE]
_BOXES = {INPUT_SHAPE, VALUE_SHAPE}  # the shapes that show a gradient


def hostile_diagram() -> Diagram:
    """Every hostile text as a shape, a box's gradient, a wire value and a gradient."""
    shapes = [
        Shape(f"n{i}", text, kind, HOSTILE_TEXTS[-1 - i] if kind in _BOXES else "")
        for i, text in enumerate(HOSTILE_TEXTS)
        for kind in [_KINDS[i % 4]]
    ]
    wires = [
        Wire(f"n{i}", f"n{i + 1}", HOSTILE_TEXTS[i], HOSTILE_TEXTS[-1 - i])
        for i in range(len(HOSTILE_TEXTS) - 1)
    ]
    return Diagram(shapes, wires, "LR")


def hostile_program_diagram() -> Diagram:
    """The Diagram behind `hostile_names`, to compare with what was drawn."""
    graph = parse(HOSTILE_PROGRAM)
    return build(graph, evaluate(graph, {}), RenderOptions())


def edge_program(edges: int) -> str:
    """sin(sin(…(x)…)): a chain that draws exactly `edges` edges without values."""
    return "sin(" * (edges - 1) + "x" + ")" * (edges - 1)


# --- one run of each renderer over every file ------------------------------------------


@pytest.fixture(scope="session")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> Drawn:
    """Every diagram written, for each renderer to run once over all of them."""
    directory = tmp_path_factory.mktemp("diagrams")
    files: dict[str, str] = {
        f"{name}.{EXTENSIONS[fmt]}": drawing(name, fmt) for name, fmt in all_drawings()
    }
    hostile = hostile_diagram()
    files["hostile_labels.mmd"] = mermaid.flowchart(hostile)
    files["hostile_labels.dot"] = dot.digraph(hostile)
    # Left to right: Mermaid 12 lays a 500-rank column out more slowly than a row (over the
    # checker's 30 s on a busy machine); the limit is the same either way.
    chain = run(edge_program(500), "--format", "mermaid", "--direction", "LR")
    files["edges_500.mmd"] = chain.stdout
    files["markdown_maths.mmd"] = maths_flowchart(
        [text for name, text in files.items() if name.endswith(".md")]
    )
    for filename, text in files.items():
        (directory / filename).write_text(text, encoding="utf-8")
    # The files in the repository as they are: test_sample_outputs_are_current catches drift.
    repository = [path for program in PROGRAMS for path in sample_outputs(program)] + [README]
    repository = [path for path in repository if path.is_file()]
    dots = sorted(directory.glob("*.dot")) + [p for p in repository if p.suffix == ".dot"]
    mermaids = sorted(directory.glob("*.mmd")) + sorted(directory.glob("*.md"))
    mermaids += [path for path in repository if path.suffix in {".mmd", ".md"}]
    return Drawn(directory, dots, mermaids)


def test_every_dot_file_renders(drawn: Drawn) -> None:
    assert drawn.dot.returncode == 0, drawn.dot.stderr


def test_every_mermaid_diagram_renders(drawn: Drawn) -> None:
    assert drawn.mermaid.returncode == 0, drawn.mermaid.stderr
    labels = mermaid_labels(drawn.mermaid)
    files = {re.sub(r":\d+$", "", name) for name in labels}  # Markdown blocks are FILE:LINE
    assert files == {str(path) for path in drawn.mermaid_files}


@pytest.mark.parametrize(
    ("filename", "diagram"),
    [("hostile_labels.mmd", hostile_diagram()), ("hostile_names.mmd", hostile_program_diagram())],
)
def test_mermaid_draws_every_label_as_written(
    drawn: Drawn, filename: str, diagram: Diagram
) -> None:
    records = mermaid_labels(drawn.mermaid)[str(drawn.directory / filename)]
    assert records, "no mermaid version drew it"
    for record in records:
        assert drawn_labels(record) == expected_mermaid_labels(diagram), record["mermaid"]


@pytest.mark.parametrize(
    ("name", "diagram"),
    [
        ("hostile_labels", hostile_diagram()),
        ("hostile_names", hostile_program_diagram()),
    ],
)
def test_dot_draws_every_label_as_written(drawn: Drawn, name: str, diagram: Diagram) -> None:
    drawn_texts = sorted(svg_texts(drawn.svg(name)))
    assert drawn_texts == expected_dot_texts(diagram)


# --- goldens ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt"), all_drawings())
def test_golden_diagram(name: str, fmt: str, golden: Golden) -> None:
    golden(f"{name}.{EXTENSIONS[fmt]}", drawing(name, fmt))


@pytest.mark.parametrize("fmt", sorted(EXTENSIONS))
def test_output_is_byte_identical_across_processes(fmt: str, tmp_path: Path) -> None:
    # Two processes with different hash seeds: an order that leaned on set or dict iteration
    # of strings, or on id(), would differ between them; in one process it could not.
    outputs = {
        backprop(*CASES["neuron"], "--format", fmt, cwd=tmp_path, PYTHONHASHSEED=seed).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert outputs == {drawing("neuron", fmt)}


def test_x_times_x_keeps_both_edges() -> None:
    text = drawing("x_times_x", "dot")
    assert "strict" not in text
    assert text.count('"n0" -> "n1";') == 2  # the forward wires
    assert text.count('"n0" -> "n1" [label="∂g/∂x += 3"') == 2  # each path's part, x·1 = 3
    assert drawing("x_times_x", "mermaid").count("n0 -->") == 2


# (x+y)*z at x=1, y=3, z=-3: p = x+y = 4, g = p*z = -12; ∂g/∂z = p = 4, and ∂g/∂x = ∂g/∂y
# = ∂g/∂p = z = -3. Each value's box shows it, the circles' results included.
SEED_000_BOXES = {
    "n0": ("x = 1", "∂g/∂x = -3"),
    "n1": ("y = 3", "∂g/∂y = -3"),
    "v2": ("p = 4", "∂g/∂p = -3"),
    "n3": ("z = -3", "∂g/∂z = 4"),
    "v4": ("g = -12", "∂g/∂g = 1"),
}


def test_every_box_shows_its_value_and_gradient() -> None:
    diagram = build(
        parse("(x+y)*z"), evaluate(parse("(x+y)*z"), {"x": 1, "y": 3, "z": -3}), RenderOptions()
    )
    boxes = {s.id: (s.text, s.gradient) for s in diagram.shapes if s.kind != OPERATION_SHAPE}
    assert boxes == SEED_000_BOXES
    assert all(not wire.text and not wire.gradient for wire in diagram.wires)  # no fan-out


def test_without_gradients_boxes_show_values_alone() -> None:
    text = drawing("seed_000_no_gradients", "mermaid")
    assert 'n0["x = 1"]' in text and 'v4["g = -12"]' in text and "∂" not in text


# b = a + a; c = b + b at a = 1: each path from a carries ∂c/∂b · 1 = 2, twice over.
FAN_OUT_BOX = ("a = 1", "∂c/∂a = 4")
FAN_OUT_PARTS = ["∂c/∂a += 2", "∂c/∂a += 2", "∂c/∂b += 1", "∂c/∂b += 1"]


def test_mermaid_and_markdown_draw_the_total_gradient_at_fan_out(drawn: Drawn) -> None:
    labels = mermaid_labels(drawn.mermaid)
    files = [str(drawn.directory / "a_plus_a.mmd")]
    files += [name for name in labels if name.startswith(str(drawn.directory / "a_plus_a.md:"))]
    assert len(files) == 2
    for record in (record for name in files for record in labels[name]):
        drawn = drawn_labels(record)
        assert drawn["nodes"]["n0"] == "".join(FAN_OUT_BOX)  # type: ignore[index]
        assert drawn["edges"] == FAN_OUT_PARTS


def test_dot_draws_the_total_gradient_at_fan_out(drawn: Drawn) -> None:
    texts = svg_texts(drawn.svg("a_plus_a"))
    assert all(line in texts for line in FAN_OUT_BOX)
    assert sorted(text for text in texts if "+=" in text) == FAN_OUT_PARTS


# --- samples/ and README.md ------------------------------------------------------------


@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_sample_outputs_are_current(program: Path, request: pytest.FixtureRequest) -> None:
    """`pytest --update-goldens` rewrites them; review the diff."""
    for path, text in sample_outputs(program).items():
        if request.config.getoption("--update-goldens"):
            path.write_text(text, encoding="utf-8", newline="")
        assert path.is_file(), f"{path.name} is missing: run pytest --update-goldens"
        assert path.read_bytes().decode("utf-8") == text, f"{path.name} drifted"


def test_samples_cover_the_issue() -> None:
    assert {path.stem for path in PROGRAMS} >= {
        "seed_000",
        "seed_001",
        "seed_003_network",
        "neuron",
        "fan_out",
        "max_gate",
    }


def test_readme_diagram_is_current() -> None:
    arguments, block = readme_diagram()
    result = run(*arguments)
    assert result.exit_code == 0, result.stderr
    assert block == result.stdout


# --- Mermaid's limits ------------------------------------------------------------------


def test_500_edges_are_drawn_and_501_refused_with_a_way_out() -> None:
    assert run(edge_program(500), "--format", "mermaid").exit_code == 0
    result = CliRunner().invoke(main, [edge_program(501), "--format", "mermaid"])
    assert result.exit_code == 2
    assert "501 edges" in result.stderr and "--format dot" in result.stderr
    assert result.stdout == ""


def test_more_than_50000_characters_are_refused() -> None:
    # Mermaid would not fail: it silently draws "Maximum text size in diagram exceeded".
    program = " + ".join(f"{'a' * 400}{i}" for i in range(150))  # 299 edges, 60,000 characters
    result = CliRunner().invoke(main, [program, "--format", "mermaid"])
    assert result.exit_code == 2
    assert "longer than the 50000 characters Mermaid accepts" in result.stderr


def test_markdown_says_why_a_large_graph_has_no_diagram() -> None:
    result = run(edge_program(300), "x=1", "--format", "markdown")
    assert result.exit_code == 0
    assert "```mermaid" not in result.stdout
    # x into the first sin, and each of 299 sins into its box and on from the box to the next
    assert "(No diagram: the diagram has 598 edges" in result.stdout


@pytest.mark.slow
def test_dot_draws_10000_nodes(tmp_path: Path) -> None:
    # x_i*w_i summed: 5,000 inputs, 2,500 products and 2,499 sums, each with its value's box
    terms = 2500
    program = "\n".join(f"x{i} = {i % 7 - 3}; w{i} = 0.5" for i in range(terms))
    program += "\n" + " + ".join(f"x{i}*w{i}" for i in range(terms))
    path = tmp_path / "big.dot"
    result = run(program, "--format", "dot", "-o", str(path))
    assert result.exit_code == 0, result.stderr
    assert path.read_text(encoding="utf-8").count("shape=") == 14_998
    checked = Drawn(tmp_path, [path], []).dot
    assert checked.returncode == 0, checked.stderr


# --- structure without values, and the formats that need values ------------------------


def test_diagrams_of_a_partly_bound_program_warn_and_draw_the_structure() -> None:
    result = CliRunner().invoke(main, ["(x+y)*z", "x=1", "--format", "dot"])
    assert result.exit_code == 0
    assert result.stderr == "backprop: warning: no value for y, z: drawing the structure only\n"
    assert result.stdout == drawing("seed_000_structure", "dot")


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_formats_with_values_still_need_them(fmt: str) -> None:
    result = CliRunner().invoke(main, ["(x+y)*z", "--format", fmt])
    assert result.exit_code == 1
    assert "unbound variables: x, y, z" in result.stderr


# --- -o/--output -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "mermaid", "dot", "markdown"])
def test_output_file_holds_what_stdout_would(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "out"
    result = run(*CASES["seed_000"], "--format", fmt, "-o", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert path.read_bytes() == run(*CASES["seed_000"], "--format", fmt).stdout_bytes
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary file left


@pytest.mark.parametrize("arguments", [("(x+y", "x=1"), ("log(x)", "x=-1"), (edge_program(501),)])
def test_a_failed_run_leaves_the_output_file_alone(
    arguments: tuple[str, ...], tmp_path: Path
) -> None:
    path = tmp_path / "graph.mmd"
    path.write_text("before\n", encoding="utf-8")
    result = CliRunner().invoke(main, [*arguments, "--format", "mermaid", "-o", str(path)])
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output
    assert path.read_text(encoding="utf-8") == "before\n"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.mmd"]


def test_an_unwritable_output_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["x", "x=1", "-o", str(tmp_path / "no" / "such" / "f")])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr
