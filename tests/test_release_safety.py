"""Release never deletes what it did not write (issue 13 item 1) and respects the umask."""

import errno
import os
import shutil
import stat
from pathlib import Path

import pytest

from tfcourse.cli import main
from tfcourse.grading.release import MARKER, ReleaseError, project_root, release

FIXTURES = Path(__file__).parent / "grading_fixtures"


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for folders)."""
    return {
        str(p.relative_to(root)): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def project(tmp_path, monkeypatch):
    """tmp/proj: pyproject.toml, README.md, assignments/toy, work/ (the current folder)."""
    proj = tmp_path / "proj"
    shutil.copytree(FIXTURES / "toy", proj / "assignments" / "toy")
    (proj / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (proj / "README.md").write_text("keep me")
    (proj / "work").mkdir()
    (proj / "work" / "notes.txt").write_text("mine")
    (proj / "foreign").mkdir()
    (proj / "foreign" / "thesis.tex").write_text("years of work")
    (proj / "a_file").write_text("not a folder")
    monkeypatch.chdir(proj / "work")
    return proj


@pytest.mark.parametrize(
    ("out_dir", "force", "message"),
    [
        (".", True, r"OUT_DIR '\.' is or contains the current folder"),
        ("..", True, r"OUT_DIR '\.\.' contains the assignment's source folder"),
        ("../..", True, r"contains the assignment's source folder"),
        ("../assignments/toy", True, r"is the assignment's source folder"),
        ("../assignments/toy/student", False, r"lies inside the assignment's source folder"),
        ("../assignments", True, r"contains the assignment's source folder"),
        ("../foreign", True, r"--force replaces only a folder an earlier release wrote"),
        ("../foreign", False, r"exists and is not empty; choose a new folder or pass force=True"),
        ("../a_file", True, r"is a file, not a folder"),
    ],
)
def test_unsafe_out_dirs_are_refused_and_nothing_changes(project, out_dir, force, message):
    before = snapshot(project.parent)
    with pytest.raises(ReleaseError, match=message):
        release("toy", out_dir, source=project / "assignments", force=force)
    assert snapshot(project.parent) == before


@pytest.mark.parametrize(
    ("cwd", "out_dir", "message"),
    [
        ("proj/src", "..", r"OUT_DIR '\.\.' is or contains the project .*proj;"),
        ("proj/src/deep", "../..", r"OUT_DIR '\.\./\.\.' is or contains the project"),
        ("plain/sub", "..", r"OUT_DIR '\.\.' is or contains the current folder .*plain/sub;"),
        ("plain", ".", r"OUT_DIR '\.' is or contains the current folder"),
    ],
)
def test_the_project_and_the_current_folder_are_refused(
    tmp_path, monkeypatch, cwd, out_dir, message
):
    (tmp_path / "proj" / "src" / "deep").mkdir(parents=True)
    (tmp_path / "proj" / ".git").mkdir()
    (tmp_path / "plain" / "sub").mkdir(parents=True)
    (tmp_path / "plain" / "sub" / "data.csv").write_text("1,2")
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(FIXTURES / "toy", elsewhere / "toy")
    monkeypatch.chdir(tmp_path / cwd)
    assert project_root() == ((tmp_path / "proj").resolve() if "proj" in cwd else None)
    before = snapshot(tmp_path)
    with pytest.raises(ReleaseError, match=message):
        release("toy", out_dir, source=elsewhere, force=True)
    assert snapshot(tmp_path) == before


def test_a_release_inside_the_project_is_fine_and_force_replaces_only_it(project):
    out = release("toy", "../handout", source=project / "assignments")
    assert (out / MARKER).is_file() and (out / "toy.py").is_file()
    assert (
        (out / MARKER)
        .read_text()
        .endswith("files:\n- assignment.json\n- tests_public.py\n- toy.ipynb\n- toy.py\n")
    )
    (out / "toy.py").write_text("instructor's typo fix")
    with pytest.raises(ReleaseError, match="pass force=True") as refused:
        release("toy", "../handout", source=project / "assignments")
    assert refused.value.cli_message.endswith("choose a new folder or pass --force")
    assert (out / "toy.py").read_text() == "instructor's typo fix"
    (out / "my_solution.py").write_text("a student's work")
    (out / "notes").mkdir()
    with pytest.raises(
        ReleaseError,
        match=(
            r"--force would delete my_solution\.py, notes in '\.\./handout', which release did not "
            r"write; move them away first"
        ),
    ):
        release("toy", "../handout", source=project / "assignments", force=True)
    assert (out / "my_solution.py").read_text() == "a student's work"
    (out / "my_solution.py").unlink()
    (out / "notes").rmdir()
    release("toy", "../handout", source=project / "assignments", force=True)
    assert "NotImplementedError" in (out / "toy.py").read_text()  # its own files are replaced
    assert sorted(p.name for p in project.iterdir()) == [
        "README.md",
        "a_file",
        "assignments",
        "foreign",
        "handout",
        "pyproject.toml",
        "work",
    ]  # no staging or .old folder left behind
    # the instructor's sources are untouched
    assert (project / "assignments/toy/exercises.py").read_bytes() == (
        FIXTURES / "toy/exercises.py"
    ).read_bytes()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_a_read_only_parent_gives_a_release_error(tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(ReleaseError, match=r"cannot write into .*ro'.*Permission denied"):
            release("toy", parent / "student", source=FIXTURES)
        with pytest.raises(ReleaseError, match=r"cannot write into"):
            release("toy", parent / "sub" / "student", source=FIXTURES)
    finally:
        parent.chmod(0o755)
    assert list(parent.iterdir()) == []


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        ("tempfile.mkdtemp", errno.EROFS, r"cannot write into .*Read-only file system"),
        ("nbformat.write", errno.ENOSPC, r"cannot write the release .*No space left on device"),
    ],
)
def test_write_failures_give_a_release_error_and_keep_the_earlier_release(
    tmp_path, monkeypatch, target, error, message
):
    out = release("toy", tmp_path / "student", source=FIXTURES)
    (out / "toy.py").write_text("the earlier release, edited")

    def fail(*args, **kwargs):
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(target, fail)
    with pytest.raises(ReleaseError, match=message):
        release("toy", out, source=FIXTURES, force=True)
    assert (out / "toy.py").read_text() == "the earlier release, edited"
    assert [p.name for p in tmp_path.iterdir()] == ["student"]  # no staging left


@pytest.mark.parametrize(
    ("umask", "dir_mode", "file_mode"),
    [(0o022, 0o755, 0o644), (0o002, 0o775, 0o664), (0o077, 0o700, 0o600)],
)
def test_released_files_respect_the_umask(tmp_path, umask, dir_mode, file_mode):
    old = os.umask(umask)
    try:
        out = release("toy", tmp_path / "student", source=FIXTURES)
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == dir_mode
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes == dict.fromkeys(modes, file_mode) and len(modes) == 5


def test_cli_prints_one_line_and_exits_2(project, capsys):
    before = snapshot(project)
    assert main(["release", "toy", ".", "--force", "--source", str(project / "assignments")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tfcourse: error: OUT_DIR '.' is or contains the current folder")
    assert err.count("\n") == 1
    assert snapshot(project) == before
