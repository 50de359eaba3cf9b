"""Notebooks are graded cell by cell: a failing cell is reported once and loading goes on.

The loader tests run :func:`tfcourse.grading.loader.load_submission` in this process on small
notebooks; the grading tests build tutorial 1's notebook from its solution (one cell per
top-level statement) and grade it through the real grader, sandboxed worker included.
"""

from __future__ import annotations

import ast
import sys
from concurrent.futures import Future, wait
from pathlib import Path

import nbformat
import pytest

from tfcourse.grading.assignment import load
from tfcourse.grading.loader import MAX_LISTED, load_submission, report
from tfcourse.grading.markers import strip_mistakes
from tfcourse.grading.remote import _explain
from tfcourse.grading.runner import grade

ASSIGNMENTS = Path(__file__).resolve().parents[1] / "assignments"
TUTORIAL1 = ASSIGNMENTS / "tutorial1_mlp"
MISSING_FILE = "/home/student/Downloads/my_mnist.npz"
EXPLORING = [  # what a student tries out on their laptop, left in the submitted notebook
    f'data = np.load("{MISSING_FILE}")\nprint(data["x_train"].shape)',
    "print(W1.shape, logits[:3])",
]


@pytest.fixture(autouse=True)
def _no_submission_module():
    """The loader registers ``sys.modules["submission"]``; leave no trace of it."""
    yield
    sys.modules.pop("submission", None)


def _write(path: Path, cells: list[str]) -> Path:
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# my work")])
    nb.cells += [v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)
    return path


def _load(tmp_path: Path, cells: list[str]) -> tuple[dict, list]:
    module, failures = load_submission(_write(tmp_path / "work.ipynb", cells))
    return vars(module), failures


def test_failing_cells_are_reported_once_and_the_next_cells_run(tmp_path):
    space, failures = _load(
        tmp_path,
        [
            "import numpy as np",
            EXPLORING[0],
            "def add(a, b):\n    return a + b",
            "x = 1\nprint(undefined_name)\ny = 2",
            "def broken(:\n    pass",
            "import sys\nsys.exit(3)",
            "raise KeyboardInterrupt",
            "def scale(x, factor):\n    return np.asarray(x) * factor",
        ],
    )
    assert space["add"](2, 3) == 5 and list(space["scale"]([1, 2], 3)) == [3, 6]
    assert space["x"] == 1 and "y" not in space  # a failing cell stops at its failing line
    assert [f.message for f in failures] == [
        'code cell 2 of 8 (the one starting `data = np.load("/home/student/Downloa...`) raised '
        f"FileNotFoundError: [Errno 2] No such file or directory: '{MISSING_FILE}' on line 1",
        "code cell 4 of 8 (the one starting `x = 1`) raised NameError: name 'undefined_name' "
        "is not defined on line 2 (`print(undefined_name)`)",
        "code cell 5 of 8 (the one starting `def broken(:`) has a syntax error on line 1: "
        "invalid syntax",
        "code cell 6 of 8 (the one starting `import sys`) raised SystemExit(3) on line 2 "
        "(`sys.exit(3)`)",
        "code cell 7 of 8 (the one starting `raise KeyboardInterrupt`) raised KeyboardInterrupt "
        "on line 1",
    ]


def test_future_imports_carry_over_to_later_cells(tmp_path):
    space, failures = _load(
        tmp_path,
        [
            "from __future__ import annotations",
            "1 / 0",  # a failing cell in between changes nothing
            "def f(x: NotDefinedAnywhere) -> int:\n    return 1",
        ],
    )
    assert space["f"].__annotations__ == {"x": "NotDefinedAnywhere", "return": "int"}
    assert [f.cell for f in failures] == [2]


def test_a_failed_cell_names_what_it_was_meant_to_define(tmp_path):
    _, failures = _load(
        tmp_path,
        [
            "import numpy as np\nW = np.ones(2)",  # runs: defines nothing missing
            "import missing_package as mp\n@mp.jit\ndef forward(x):\n    return x\n"
            "class Net:\n    pass\nSCALE: float = 2.0\nif True:\n    from os import sep as SEP",
            "def loss_fn(:\n    pass\nRATE = 3",  # does not parse: names found by pattern
            "def forward(x):\n    return x * W\nforward(undefined)",  # forward ran: not missing
        ],
    )
    assert [f.defines for f in failures] == [
        ["mp", "forward", "Net", "SCALE", "SEP"],
        ["loss_fn", "RATE"],
        [],  # the failing statement is a call: it defines nothing
    ]
    defined_by = report(failures)["defined_by"]
    assert defined_by["forward"].startswith("code cell 2 of 4 (the one starting `import missing")
    assert defined_by["RATE"].startswith("code cell 3 of 4 (the one starting `def loss_fn(:`)")


def test_the_last_failed_cell_defining_a_name_is_the_one_named(tmp_path):
    _, failures = _load(
        tmp_path, ["def f():\n    pass\nprint(nope)", "1 / 0\ndef g(): pass", "g = h()"]
    )
    assert report(failures)["defined_by"] == {
        "g": "code cell 3 of 3 (the one starting `g = h()`) raised NameError: name 'h' is not "
        "defined on line 1",
    }


def test_many_failing_cells_are_capped_with_a_count(tmp_path):
    _, failures = _load(tmp_path, [f"x{i} = 1 / 0" for i in range(30)])
    errors = report(failures)["errors"]
    assert len(errors) == MAX_LISTED
    assert errors[0].startswith("code cell 1 of 30 (the one starting `x0 = 1 / 0`) raised ")
    cells = ", ".join(str(i) for i in range(MAX_LISTED, MAX_LISTED + 20))
    assert errors[-1] == f"{31 - MAX_LISTED} more code cells failed: cells {cells}, ..."


def test_messages_are_clipped(tmp_path):
    _, failures = _load(tmp_path, [f"raise ValueError('{'x' * 5000}')"])
    assert len(failures[0].message) < 300
    assert "\n" not in failures[0].message


def test_a_py_file_stops_at_its_failing_line(tmp_path):
    path = tmp_path / "work.py"
    path.write_text("def add(a, b):\n    return a + b\n\nprint(data)\n\ndef scale(x):\n    pass\n")
    module, failures = load_submission(path)
    assert hasattr(module, "add") and not hasattr(module, "scale")
    message = (
        "work.py raised NameError: name 'data' is not defined on line 4 (`print(data)`); "
        "whatever the file defines after that line is missing"
    )
    assert report(failures) == {"errors": [message], "defined_by": {"scale": message}}
    path.write_text("def add(a, b):\n    return a +\n\ndef scale(x):\n    pass\n")
    module, failures = load_submission(path)
    assert not hasattr(module, "add")
    message = (
        "work.py has a syntax error on line 2: invalid syntax; nothing in the file could be run"
    )
    assert report(failures) == {
        "errors": [message],
        "defined_by": {"add": message, "scale": message},
    }


def test_a_missing_name_is_explained_by_its_failed_cell():
    cause = "code cell 12 of 20 (the one starting `def forward(`) raised NameError: boom on line 3"
    defined_by = {"forward": cause}
    missing = {"kind": "missing", "message": "forward"}
    assert _explain(missing, "forward", defined_by) == f"`forward` is not defined: {cause}"
    assert _explain(missing, "forward") == (
        "your submission does not define `forward` (check the spelling and run its cell)"
    )
    text = "NameError: name 'forward' is not defined (in your code, cell 14, line 2: `forward(x)`)"
    raised = {"kind": "raised", "message": text}
    assert (
        _explain(raised, "train_step", defined_by) == f"{text}\n`forward` is not defined: {cause}"
    )


# ---------------------------------------------------------------- graded through the grader
def _tutorial1_cells() -> list[str]:
    """The solution of tutorial 1, one code cell per top-level statement (docstring dropped)."""
    text = strip_mistakes((TUTORIAL1 / "exercises.py").read_text())
    lines = text.splitlines()
    tree = ast.parse(text)
    body = tree.body[1:] if ast.get_docstring(tree) else tree.body
    cells = []
    for node in body:
        first = min([node.lineno, *[d.lineno for d in getattr(node, "decorator_list", [])]])
        cells.append("\n".join(lines[first - 1 : node.end_lineno]))
    return cells


def _index_of(cells: list[str], start: str) -> int:
    return next(i for i, cell in enumerate(cells) if cell.startswith(start))


@pytest.fixture(scope="module")
def graded(grading_pool, tmp_path_factory) -> dict[str, Future]:
    """``exploring`` (two failing exploratory cells) and ``broken_forward`` (the cell of
    ``forward`` fails before its ``def``), each as a notebook and its results."""
    folder = tmp_path_factory.mktemp("cells")
    assignment = load("tutorial1_mlp", ASSIGNMENTS)
    cells = _tutorial1_cells()
    exploring = list(cells)
    exploring.insert(_index_of(cells, "def forward("), EXPLORING[1])
    exploring.insert(_index_of(cells, "def compute_a("), EXPLORING[0])
    broken = list(cells)
    at = _index_of(cells, "def forward(")
    broken[at] = "hidden = int(config['hidden'])\n" + broken[at]
    notebooks = {
        "exploring": _write(folder / "exploring.ipynb", exploring),
        "broken_forward": _write(folder / "broken_forward.ipynb", broken),
    }
    futures = {
        name: grading_pool.submit(lambda p: (p, grade(p, assignment)), path)
        for name, path in notebooks.items()
    }
    wait(futures.values())  # before any test runs: see grading_pool
    return futures


def test_exploratory_cells_that_fail_cost_no_points(graded):
    path, results = graded["exploring"].result()
    assert results["score"] == results["max_score"] == 40
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    first, second = (cells.index(source) + 1 for source in EXPLORING)
    assert results["output"] == (
        f"Problem while loading your submission: code cell {first} of {len(cells)} (the one "
        'starting `data = np.load("/home/student/Downloa...`) raised FileNotFoundError: '
        f"[Errno 2] No such file or directory: '{MISSING_FILE}' on line 1\n"
        f"Problem while loading your submission: code cell {second} of {len(cells)} (the one "
        "starting `print(W1.shape, logits[:3])`) raised NameError: name 'W1' is not defined "
        "on line 1"
    )


def test_a_missing_function_names_the_cell_meant_to_define_it(graded):
    path, results = graded["broken_forward"].result()
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    number = _index_of(cells, "hidden = int(") + 1
    cause = (
        f"code cell {number} of {len(cells)} (the one starting `hidden = int(config['hidden'])`) "
        "raised NameError: name 'config' is not defined on line 1"
    )
    assert results["output"] == f"Problem while loading your submission: {cause}"
    forward = {t["name"]: t for t in results["tests"] if t["name"].startswith("forward:")}
    assert len(forward) >= 2
    for test in forward.values():
        assert test["score"] == 0
        assert test["output"] == f"`forward` is not defined: {cause}"
    others = [t for t in results["tests"] if t["name"].split(":")[0] in ("compute_a", "one_hot")]
    assert others and all(t["score"] == t["max_score"] for t in others)
