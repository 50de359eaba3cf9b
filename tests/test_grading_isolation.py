"""Nothing of the instructor's is reachable from the worker, in bubblewrap and in uid mode.

A probe submission reports what it can see from inside the worker, through a function's return
value: its uid and uid map, ``sys.path``, its runtime folder, the checkout's solutions by
absolute path, ``/proc/1/cmdline``, its mount table, the processes it sees, and what importing
a finished tfcourse function gives. The runtime holds only the worker's modules and what the
assignment's released student file imports (:mod:`tfcourse.grading.runtime`), and uid mode
refuses to start while uid nobody could read the solutions, the tests or the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, uid_mode_setup

from tfcourse.grading import privileges, runtime, sandbox
from tfcourse.grading.assignment import load
from tfcourse.grading.autograder_zip import build
from tfcourse.grading.errors import GraderFailure
from tfcourse.grading.limits import NOBODY, Limits
from tfcourse.grading.release import release
from tfcourse.grading.remote import Remote, Submission
from tfcourse.grading.runner import grade
from tfcourse.grading.session import WorkerSession

FIXTURES = Path(__file__).parent / "grading_fixtures"
TOY = FIXTURES / "toy"
SOLUTION = REPO / "assignments" / "tutorial1_mlp" / "exercises.py"
IS_ROOT = os.geteuid() == 0
MODES = [
    pytest.param("bwrap", marks=pytest.mark.skipif(not sandbox.bwrap_works(), reason="bwrap")),
    pytest.param("uid", marks=pytest.mark.skipif(not IS_ROOT, reason="uid mode needs root")),
]

PROBE = f"""
import os
import sys


def _read(path, limit=20000):
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode(errors="replace")
    except OSError as exc:
        return f"unreadable: {{type(exc).__name__}}"


def _listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        return [f"unreadable: {{type(exc).__name__}}"]


def _owner(pid):
    try:
        return os.stat(f"/proc/{{pid}}").st_uid
    except OSError:
        return -1


def seen():
    found = {{"uid": os.getuid(), "gid": os.getgid(), "path": list(sys.path)}}
    for name in ("uid_map", "mountinfo", "status", "environ"):
        found[name] = _read(f"/proc/self/{{name}}")
    found["cmdline_1"] = _read("/proc/1/cmdline")
    found["solution"] = _read({str(SOLUTION)!r})
    found["checkout"] = _listing({str(REPO)!r})
    found["runtime"] = _listing(os.path.join(sys.path[0], "tfcourse"))
    found["opt"] = _listing("/opt/tfcourse/tfcourse")
    found["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    found["owners"] = sorted({{_owner(p) for p in found["pids"]}})
    try:
        import tfcourse.mlp

        found["mlp"] = "imported " + tfcourse.mlp.__file__
    except ImportError as exc:
        found["mlp"] = str(exc)
    try:
        from tfcourse import loss_fn

        found["loss_fn"] = "imported " + repr(loss_fn)
    except ImportError as exc:
        found["loss_fn"] = str(exc)
    return found


def add(a, b):
    return a + b
"""


def _host_uid(uid_map: str, uid: int) -> int:
    """The host uid that ``uid`` inside maps to, from ``/proc/self/uid_map``."""
    for line in uid_map.splitlines():
        inside, outside, count = map(int, line.split())
        if inside <= uid < inside + count:
            return outside + uid - inside
    raise AssertionError(f"uid {uid} is not mapped: {uid_map!r}")


def _what_the_worker_sees(mode: str, folder: Path) -> dict:
    submission = folder / "probe.py"
    submission.write_text(PROBE, encoding="utf-8")
    worker = WorkerSession(submission, Limits(), mode, [folder], runtime.released_imports(TOY))
    try:
        worker.start()
        remote = Remote(worker)
        probe = Submission(remote, remote.begin())
        assert probe.add(2, 3) == 5
        return probe.seen()
    finally:
        worker.close()


@pytest.mark.parametrize("mode", MODES)
def test_nothing_of_the_instructor_is_reachable_from_the_worker(mode, tmp_path):
    if mode == "uid":
        with uid_mode_setup():
            seen = _what_the_worker_sees(mode, tmp_path)
    else:
        seen = _what_the_worker_sees(mode, tmp_path)
    checkout = str(REPO)
    # an unprivileged host uid, not root (as root, bwrap's is this grading's own), and no way
    # to gain privileges
    uid = sandbox.worker_uid(mode) or NOBODY  # None: bwrap's user namespace maps nobody
    if mode == "bwrap" and IS_ROOT:
        assert uid == sandbox.WORKER_UIDS + os.getpid()
    assert (seen["uid"], seen["gid"]) == (uid, uid)
    assert _host_uid(seen["uid_map"], uid) != 0
    assert "NoNewPrivs:\t1" in seen["status"]
    # no checkout, no solutions: not on the path, not readable, not named anywhere
    assert seen["solution"].startswith("unreadable: ")
    assert seen["checkout"][0].startswith("unreadable: ")
    assert not any(p == checkout or p.startswith(checkout + "/") for p in seen["path"])
    for shown in ("mountinfo", "cmdline_1", "environ"):
        assert checkout not in seen[shown], shown
    # the runtime holds the worker's modules and what the toy's student file imports: nothing
    assert seen["runtime"] == ["__init__.py", "errors.py", "grading", "notebook_setup.py"]
    assert seen["mlp"].startswith(
        "tfcourse.mlp is not available to submissions: write this exercise yourself"
    )
    assert seen["loss_fn"].startswith("tfcourse.loss_fn is not available to submissions")
    if mode == "bwrap":
        assert seen["path"][0] == sandbox.PACKAGE_ROOT
        assert seen["opt"] == seen["runtime"]
        assert seen["cmdline_1"].startswith("bwrap\0--args\0")  # its options came from a fd
        assert seen["pids"] == [1, 2]  # bubblewrap's init and the worker, alone
    else:
        assert seen["opt"][0].startswith("unreadable: ")
        # a private /proc shows only uid nobody's processes: no grader, no pid 1
        assert 0 not in seen["owners"] and os.getpid() not in seen["pids"]
        assert seen["cmdline_1"].startswith("unreadable: ")


def _toy_importing_errors(folder: Path) -> Path:
    """The toy assignment whose student file imports tfcourse.errors (kept by release)."""
    toy = folder / "toy"
    shutil.copytree(TOY, toy)
    source = (toy / "exercises.py").read_text(encoding="utf-8")
    marker = "import numpy as np\n"
    (toy / "exercises.py").write_text(
        source.replace(marker, marker + "\nfrom tfcourse.errors import ShapeError  # noqa\n")
    )
    return toy


def test_the_runtime_is_the_workers_modules_and_the_released_imports(tmp_path):
    tutorial3 = REPO / "assignments" / "tutorial3_review"
    assert runtime.released_imports(REPO / "assignments" / "tutorial1_mlp") == frozenset()
    assert runtime.released_imports(tutorial3) == {"tfcourse.errors", "tfcourse.review.shapes"}
    # tutorial 3's probes build their own models: no finished course model enters the worker
    assert runtime.probe_imports(tutorial3) == {"tfcourse.errors"}
    assert runtime.probe_imports(TOY) == frozenset()
    assert runtime.build(tmp_path / "toy") == [
        "tfcourse.errors",
        "tfcourse.grading.codec",
        "tfcourse.grading.errors",
        "tfcourse.grading.loader",
        "tfcourse.grading.mistakes",  # a stand-in: @mistake changes nothing
        "tfcourse.grading.worker",
        "tfcourse.notebook_setup",  # a stand-in: the handout's check() does nothing
    ]
    held = runtime.build(tmp_path / "t3", runtime.released_imports(tutorial3))
    assert "tfcourse.review.shapes" in held and "tfcourse.review.sine" not in held
    root = tmp_path / "t3" / "tfcourse"
    assert not (root / "mlp").exists() and not (root / "grading" / "session.py").exists()
    assert (root / "review" / "__init__.py").read_text() == runtime._SUBPACKAGE_INIT
    init = (root / "__init__.py").read_text()
    assert "_LAZY" not in init and "importlib" not in init
    assert (root / "grading" / "mistakes.py").read_text() == (
        runtime.STAND_INS["tfcourse.grading.mistakes"]
    )


def test_the_worker_path_has_no_checkout_and_no_pth_additions(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "path", [*sys.path, str(REPO), str(tmp_path), ""])
    path = runtime.python_path()
    assert str(REPO) not in path and str(tmp_path) not in path and "" not in path
    assert any(p.endswith(("site-packages", "dist-packages")) for p in path)
    assert os.path.realpath(os.path.dirname(os.__file__)) in path


def test_handouts_and_the_gradescope_zip_record_the_student_imports(tmp_path):
    toy = _toy_importing_errors(tmp_path / "src")
    assert runtime.released_imports(toy) == {"tfcourse.errors"}
    handout = release(str(toy), tmp_path / "handout")
    assert json.loads((handout / "assignment.json").read_text())["imports"] == ["tfcourse.errors"]
    assert runtime.released_imports(handout) == {"tfcourse.errors"}
    with zipfile.ZipFile(build(str(toy), tmp_path / "toy.zip")) as zf:
        zf.extractall(tmp_path / "autograder")
    assert runtime.released_imports(tmp_path / "autograder" / "assignment") == {"tfcourse.errors"}
    # an older handout without the record: the released student file says it
    meta = json.loads((handout / "assignment.json").read_text())
    del meta["imports"]
    (handout / "assignment.json").write_text(json.dumps(meta))
    assert runtime.released_imports(handout) == {"tfcourse.errors"}


@pytest.mark.skipif(not sandbox.bwrap_works(), reason="needs bubblewrap")
def test_a_forbidden_shortcut_fails_with_a_message_and_allowed_imports_work(tmp_path):
    toy = _toy_importing_errors(tmp_path / "src")
    submission = tmp_path / "toy.py"
    submission.write_text(
        "import numpy as np\n"
        "from tfcourse.errors import ShapeError  # given: the student file imports it\n\n\n"
        "def add(a, b):\n    return a + b\n\n\n"
        "def mean_square(x):\n"
        "    from tfcourse.mlp.basics import compute_a\n\n"
        "    return compute_a(x)\n\n\n"
        "def scale(x, factor):\n    return np.asarray(x) * factor\n",
        encoding="utf-8",
    )
    start = time.monotonic()
    results = grade(submission, load(str(toy)), timeout=20, sandbox="bwrap", self_check="off")
    assert time.monotonic() - start < 60
    scores = {t["name"].split(":")[1].split("(")[0].strip(): t for t in results["tests"]}
    assert scores["test_add_small"]["score"] == 1
    assert scores["test_mean_square"]["score"] == 0
    assert scores["test_mean_square"]["output"] == (  # the static check (grading/forbidden.py)
        "mean_square may not use tfcourse.mlp.basics.compute_a: of tfcourse, a submission may "
        "use only what the handout file imports; line 12: `return compute_a(x)`"
    )
    assert results["score"] == 4  # add 1+1, scale 1+1


@pytest.mark.skipif(not IS_ROOT, reason="uid mode needs root")
def test_tfcourse_grade_refuses_uid_mode_naming_the_readable_tests(tmp_path):
    course = Path(tempfile.mkdtemp(prefix="tfcourse-course-"))
    try:
        course.chmod(0o755)  # as `mkdir` leaves it: others may read the copy of the tests
        toy = shutil.copytree(TOY, course / "toy")
        submission = tmp_path / "toy.py"
        shutil.copy(TOY / "exercises.py", submission)
        with uid_mode_setup(), pytest.raises(GraderFailure) as info:
            grade(submission, load(str(toy)), timeout=20, sandbox="uid", self_check="off")
        assert f"  {toy}: chmod -R o-rwx {toy}" in str(info.value)
        assert f"  {toy / 'tests_hidden.py'}: chmod -R o-rwx {toy}" in str(info.value)
    finally:
        shutil.rmtree(course)


@pytest.mark.skipif(not IS_ROOT, reason="uid mode needs root")
def test_uid_mode_refuses_while_nobody_could_read_the_instructors_files():
    course = Path(tempfile.mkdtemp(prefix="tfcourse-course-"))
    try:
        course.chmod(0o755)  # as `mkdir` leaves it: others may read it
        (course / "exercises.py").write_text("SOLUTION = 1\n")
        original = REPO.stat().st_mode & 0o7777
        with uid_mode_setup():
            with pytest.raises(GraderFailure) as info:
                sandbox.check_uid_mode([course / "exercises.py", course])
            message = str(info.value)
            assert message.startswith(f"--sandbox uid: the submission would run as uid {NOBODY}")
            assert f"  {course}: chmod -R o-rwx {course}\n" in message + "\n"
            assert str(REPO) not in message  # private meanwhile
            course.chmod(0o700)
            assert sandbox.check_uid_mode([course / "exercises.py", course]) == []
            os.chmod(REPO, original)  # as it was (uid_mode_setup restores it too)
            if sandbox.nobody_can([REPO], os.X_OK)[0]:
                with pytest.raises(GraderFailure, match="the tfcourse checkout: it holds"):
                    sandbox.check_uid_mode([course])
    finally:
        shutil.rmtree(course)


def test_bwrap_as_root_drops_to_a_uid_of_its_own_else_maps_nobody(monkeypatch, tmp_path):
    cmd = sandbox.bwrap_command(tmp_path / "sub", [], runtime_dir=tmp_path / "runtime")
    options, launcher = cmd[: cmd.index("--")], cmd[cmd.index("--") + 1 :]
    at = options.index(str(tmp_path / "runtime"))
    assert options[at - 1 : at + 2] == ["--ro-bind", str(tmp_path / "runtime"), "/opt/tfcourse"]
    if IS_ROOT and sandbox.bwrap_works():
        assert "--unshare-all" not in options and "--uid" not in options
        uid = sandbox.WORKER_UIDS + os.getpid()
        setpriv = launcher[0].endswith("setpriv")
        assert (f"--reuid={uid}" if setpriv else str(uid)) in launcher
        assert ("--no-new-privs" if setpriv else "prctl(38, 1") in " ".join(launcher)
    # where root may not create namespaces without a user namespace: the old way, and a warning
    monkeypatch.setattr(sandbox, "_in_user_namespace", lambda: True)
    cmd = sandbox.bwrap_command(tmp_path / "sub", [])
    assert cmd[-1] == "--" and "--unshare-all" in cmd and "--cap-drop" in cmd
    assert sandbox.worker_uid("bwrap") is None
    if IS_ROOT:
        assert "WARNING: bubblewrap needs a user namespace here" in sandbox.describe_mode("bwrap")


@pytest.mark.skipif(not IS_ROOT, reason="dropping privileges needs root")
def test_without_setpriv_a_python_stub_drops_the_same_way(monkeypatch):
    monkeypatch.setattr(privileges.shutil, "which", lambda *args, **kwargs: None)
    uid = sandbox.WORKER_UIDS + 1
    launcher = privileges.drop_command(uid, sys.executable)
    assert launcher[:4] == [sys.executable, "-I", "-S", "-c"]
    show = "id -u; id -g; id -G; grep -E '^(NoNewPrivs|CapEff)' /proc/self/status"
    done = subprocess.run([*launcher, "/bin/sh", "-c", show], capture_output=True, text=True)
    assert done.stdout.split("\n") == [
        str(uid),
        str(uid),
        str(uid),
        "CapEff:\t0000000000000000",
        "NoNewPrivs:\t1",
        "",
    ], done.stderr
