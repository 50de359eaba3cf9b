"""Authoring tools: solution markers, release, in-notebook checks, the Gradescope zip."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from tfcourse.grading.assignment import load
from tfcourse.grading.check import make_check, run_checks
from tfcourse.grading.errors import AssignmentError, GradingError, MarkerError
from tfcourse.grading.handout import _CHECK_SETUP, python_literal
from tfcourse.grading.markers import solution_blocks, strip_solutions
from tfcourse.grading.release import release
from tfcourse.grading.runner import grade
from tfcourse.notebook_setup import REPOSITORY_INSTALL, install_cell

FIXTURES = Path(__file__).parent / "grading_fixtures"
SOLUTION = FIXTURES / "toy" / "exercises.py"


def test_markers_are_found_and_replaced_by_stubs():
    text = SOLUTION.read_text()
    assert solution_blocks(text) == [(17, 19), (25, 27), (32, 34)]
    stub = strip_solutions(text)
    assert "SOLUTION" not in stub and "return a + b" not in stub
    assert '    raise NotImplementedError("add: write your solution here")\n' in stub
    assert "    x = helper_given(x)\n" in stub  # scaffolding before the markers stays
    assert "def helper_given(x):" in stub


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("def f():\n    # END SOLUTION\n", r"<f>:2: '# END SOLUTION' without a '# BEGIN SOLUTION'"),
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", r"<f>:2: .* is never closed"),
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n", r"<f>:3: .* inside the block"),
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", r"<f>:1: .* inside the body of a top-level"),
    ],
)
def test_bad_markers_name_the_file_and_line(text, message):
    with pytest.raises(MarkerError, match=message):
        strip_solutions(text, "<f>")


def test_marker_words_inside_strings_are_not_markers():
    text = 'def f():\n    """# BEGIN SOLUTION"""\n    return "# END SOLUTION"\n'
    assert solution_blocks(text) == []


def test_release_writes_the_student_folder_without_solutions_or_hidden_tests(tmp_path, monkeypatch):
    out = release("toy", tmp_path / "student", source=FIXTURES)
    assert sorted(p.name for p in out.iterdir()) == [
        ".tfcourse-release",
        "assignment.json",
        "tests_public.py",
        "toy.ipynb",
        "toy.py",
    ]
    everything = "".join(p.read_text() for p in out.iterdir())
    for secret in ("return a + b", "np.mean(x**2)", "test_add_negative", "tests_hidden"):
        assert secret not in everything
    meta = json.loads((out / "assignment.json").read_text())
    assert meta["exercises"] == ["add", "mean_square", "scale"]
    assert meta["title"] == "Toy assignment for testing the grader"
    nb = nbformat.read(out / "toy.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[0] == install_cell(REPOSITORY_INSTALL, then=_CHECK_SETUP)
    assert 'check = handout_check(globals(), tests="tests_public.py")' in code[0]
    embedded = {}
    exec(code[1], embedded)  # the collapsed cell: the public tests, word for word
    assert embedded["PUBLIC_TESTS"] == (out / "tests_public.py").read_text()
    assert [c for c in code if c.startswith("check(")] == [
        'check("add")',
        'check("mean_square")',
        'check("scale")',
    ]
    # the released versions score 0, as .py and as a notebook
    assignment = load("toy", FIXTURES)
    assert grade(out / "toy.py", assignment)["score"] == 0
    assert grade(out / "toy.ipynb", assignment)["score"] == 0
    # and the released folder itself works as an assignment (public tests only)
    public = load(str(out), "unused")
    assert public.name == "toy" and public.max_score == 4
    monkeypatch.chdir(out)
    assert load(".", "unused").max_score == 4  # students run: tfcourse grade toy.py --assignment .


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("a\nb\n", "r'''a\nb"),  # readable: the lines as they are
        ("has ''' in it\n", 'r"""'),
        ("\\''", 'r"""'),  # in r'''...''' the quote after the backslash would not count
        ("both ''' and \"\"\"\n", "'both"),  # no raw literal fits: repr()
        ("ends in \\", "'ends"),
        ("x = '\\n'\n", "r'''x"),
    ],
)
def test_embedded_tests_literal_round_trips(text, starts):
    literal = python_literal(text)
    assert ast.literal_eval(literal) == text
    assert literal.startswith(starts)


def test_release_names_what_the_setup_cell_installs(tmp_path, monkeypatch):
    wheel = "https://example.org/course/tfcourse-0.1.0-py3-none-any.whl"
    out = release("toy", tmp_path / "a", source=FIXTURES, install=wheel)
    setup = nbformat.read(out / "toy.ipynb", as_version=4).cells[2].source
    assert f'TFCOURSE_INSTALL = "{wheel}"\n' in setup
    monkeypatch.setenv("TFCOURSE_INSTALL", "/srv/wheels/tfcourse.whl")
    out = release("toy", tmp_path / "b", source=FIXTURES)
    setup = nbformat.read(out / "toy.ipynb", as_version=4).cells[2].source
    assert 'TFCOURSE_INSTALL = "/srv/wheels/tfcourse.whl"\n' in setup


def test_release_install_flag_names_what_the_setup_cell_installs(tmp_path, monkeypatch, capsys):
    from tfcourse.cli import main

    monkeypatch.setenv("TFCOURSE_INSTALL", "/srv/wheels/old.whl")  # the flag wins over it
    wheel = "https://example.org/course/tfcourse-0.2.0-py3-none-any.whl"
    argv = ["release", "toy", str(tmp_path / "h"), "--source", str(FIXTURES), "--install", wheel]
    assert main(argv) == 0
    setup = nbformat.read(tmp_path / "h" / "toy.ipynb", as_version=4).cells[2].source
    assert f'TFCOURSE_INSTALL = "{wheel}"\n' in setup
    assert main([*argv[:3], "--source", str(FIXTURES)]) == 2  # not empty, no --force
    assert "choose a new folder or pass --force" in capsys.readouterr().err


def test_a_lone_handout_notebook_writes_its_embedded_tests_when_checking(
    tmp_path, monkeypatch, capsys
):
    out = release("toy", tmp_path / "student", source=FIXTURES)
    alone = tmp_path / "colab"
    alone.mkdir()
    monkeypatch.chdir(alone)  # the notebook was uploaded without tests_public.py
    nb = nbformat.read(out / "toy.ipynb", as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and not cell.source.startswith("check("):
            exec(cell.source, namespace)
    assert list(alone.iterdir()) == []  # nothing written before check() runs
    embedded = namespace.pop("PUBLIC_TESTS")
    with pytest.raises(GradingError, match=r"the cell that embeds the public tests .* has not run"):
        namespace["check"]("add")
    namespace["PUBLIC_TESTS"] = embedded
    namespace["check"]("add")
    printed = capsys.readouterr().out
    assert printed.startswith("(wrote tests_public.py from the copy embedded in this notebook)")
    assert "add: 0/1 points from the public tests." in printed
    assert (alone / "tests_public.py").read_text() == (out / "tests_public.py").read_text()
    namespace["check"]("scale")  # the file is there now: used as it is, not written again
    assert "wrote" not in capsys.readouterr().out


def test_release_refuses_a_non_empty_folder_and_leaves_no_staging(tmp_path):
    out = tmp_path / "student"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(GradingError, match="exists and is not empty; choose a new folder"):
        release("toy", out, source=FIXTURES)
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    with pytest.raises(GradingError, match="--force replaces only a folder an earlier release"):
        release("toy", out, source=FIXTURES, force=True)  # not ours: never deleted
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    (out / "mine.txt").unlink()
    release("toy", out, source=FIXTURES)  # an empty folder is fine
    (out / "toy.py").write_text("edited")
    release("toy", out, source=FIXTURES, force=True)  # an earlier release may be replaced
    assert "edited" not in (out / "toy.py").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"]


def test_unknown_assignment_lists_the_available_ones(tmp_path):
    with pytest.raises(AssignmentError, match=r"unknown assignment 'nope' .* available: toy"):
        release("nope", tmp_path / "x", source=FIXTURES)


def test_check_reports_per_test_in_the_students_namespace(tmp_path, capsys):
    out = release("toy", tmp_path / "student", source=FIXTURES)
    namespace: dict = {}
    exec(SOLUTION.read_text(), namespace)
    assert run_checks("mean_square", namespace, out / "tests_public.py") == (
        2.0,
        2.0,
        ["  ✓ test_mean_square"],
    )
    stub_ns: dict = {}
    exec((out / "toy.py").read_text(), stub_ns)
    check = make_check(stub_ns, tests=out / "tests_public.py")
    assert check("add") is None  # prints its report; no stray True/False under the cell
    printed = capsys.readouterr().out
    assert "add: 0/1 points from the public tests." in printed
    assert "✗ test_add_small: not implemented yet (add: write your solution here)" in printed
    with pytest.raises(GradingError, match="no public tests for 'nope'; exercises: add"):
        check("nope")
    with pytest.raises(GradingError, match=r"cannot find 'missing\.py'"):
        make_check(namespace, tests="missing.py")("add")


@pytest.mark.notebook
def test_released_notebook_runs_its_check_cells_in_jupyter(tmp_path):
    from nbclient import NotebookClient

    out = release("toy", tmp_path / "student", source=FIXTURES)
    nb = nbformat.read(out / "toy.ipynb", as_version=4)
    for cell in nb.cells:  # a student who solved "add" only
        cell.source = cell.source.replace(
            'raise NotImplementedError("add: write your solution here")', "return a + b"
        )
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(out)}}).execute()
    outputs = {
        c.source: "".join(o.get("text", "") for o in c.outputs)
        for c in nb.cells
        if c.cell_type == "code" and c.source.startswith("check(")
    }
    assert outputs['check("add")'].startswith("add: the test passes (1/1).")
    kinds = {o.output_type for c in nb.cells if c.source.startswith("check(") for o in c.outputs}
    assert kinds == {"stream"}  # printed lines only: no stray True/False result
    assert "scale: 0/1 points" in outputs['check("scale")']
    path = tmp_path / "solved_add.ipynb"
    nbformat.write(nb, path)
    assert grade(path, load("toy", FIXTURES))["score"] == 2  # both add tests


def test_autograder_zip_runs_like_gradescope(tmp_path):
    zip_path = tmp_path / "toy_autograder.zip"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tfcourse.cli",
            "autograder",
            "build",
            "toy",
            str(zip_path),
            "--source",
            str(FIXTURES),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        zf.extractall(root / "source")
    assert {
        "setup.sh",
        "run_autograder",
        "assignment/assignment.json",
        "assignment/tests_public.py",
        "assignment/tests_hidden.py",
        "tfcourse_src/pyproject.toml",
        "tfcourse_src/tfcourse/grading/runner.py",
    } <= set(names)
    assert not any(n.endswith("exercises.py") for n in names)  # no solutions in the zip
    assert modes["run_autograder"] & stat.S_IXUSR
    subprocess.run(["bash", "-n", str(root / "source" / "setup.sh")], check=True)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root)}
    run = ["bash", str(root / "source" / "run_autograder")]
    (root / "submission").mkdir()
    subprocess.run(run, env=env, check=True, capture_output=True, timeout=240)
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and "No .py or .ipynb file" in results["output"]
    shutil.copy(SOLUTION, root / "submission" / "toy.py")
    subprocess.run(run, env=env, check=True, capture_output=True, timeout=240)
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == results["max_score"] == 6
    assert len(results["tests"]) == 5


def test_autograder_rejects_a_non_zip_name(tmp_path):
    from tfcourse.grading.autograder_zip import build

    with pytest.raises(GradingError, match=r"must be a \.zip file"):
        build("toy", tmp_path / "out.tar", source=FIXTURES)
    assert list(tmp_path.iterdir()) == []


def test_handout_readme_links_point_inside_the_handout(tmp_path):
    assignments = Path(__file__).resolve().parents[1] / "assignments"
    old = os.umask(0o022)
    try:
        out = release("tutorial1_mlp", tmp_path / "handout", source=assignments)
    finally:
        os.umask(old)
    modes = {str(p.relative_to(out)): stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*")}
    assert modes["notebooks"] == 0o755  # the copied notebooks too: readable by group and others
    assert {m for name, m in modes.items() if name != "notebooks"} == {0o644}
    text = (out / "README.md").read_text()
    assert "../../" not in text
    links = re.findall(r"\]\((notebooks/[\w.-]+)\)", text)
    assert links == ["notebooks/01_tensorflow_basics.ipynb", "notebooks/02_mnist_mlp.ipynb"]
    for link in links:
        assert (out / link).read_bytes() == (assignments.parent / link).read_bytes()


def test_notebooks_copied_into_a_handout_install_what_the_handout_names(tmp_path):
    assignments = Path(__file__).resolve().parents[1] / "assignments"
    wheel = "https://example.org/course/tfcourse-0.1.0-py3-none-any.whl"
    out = release("tutorial1_mlp", tmp_path / "handout", source=assignments, install=wheel)
    for name in ("01_tensorflow_basics.ipynb", "02_mnist_mlp.ipynb"):
        copy = nbformat.read(out / "notebooks" / name, as_version=4)
        original = nbformat.read(assignments.parent / "notebooks" / name, as_version=4)
        changed = [
            (a.source, b.source)
            for a, b in zip(original.cells, copy.cells, strict=True)
            if a.source != b.source
        ]
        assert len(changed) == 1  # the setup cell, one line of it
        before, after = changed[0]
        assert after == before.replace(
            f'TFCOURSE_INSTALL = "{REPOSITORY_INSTALL}"', f'TFCOURSE_INSTALL = "{wheel}"'
        )
        assert after != before
