"""Every exchange with the worker is bounded, and so is what the worker can hold or point at.

* A worker that stops reading its requests (its pipe shrunk with ``F_SETPIPE_SZ``) costs one
  call timeout, not a hung grader.
* A reply of millions of tiny values is refused while it arrives, before ``json.loads``.
* Files the worker writes to tmpfs (named, deleted but open, ``memfd``) count towards its
  memory cap, and in ``uid`` mode nothing of uid nobody is left in ``/dev/shm`` or ``/tmp``.
* An upload that is a link (symbolic or hard) is never graded: it may be the solution.

The gradings use the numpy-only toy exercises with tests of their own (``_assignment``) and
small limits; each takes seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import uid_mode_setup

from tfcourse.grading import processes
from tfcourse.grading.assignment import load
from tfcourse.grading.autograder import link_problem, pick_submission
from tfcourse.grading.batch import Item, collect, grade_item
from tfcourse.grading.codec import MAX_ITEMS, Handle, encode
from tfcourse.grading.errors import SubmissionError
from tfcourse.grading.limits import NOBODY, Limits
from tfcourse.grading.runner import check_submission, grade
from tfcourse.grading.session import (
    MAX_REPLY_VALUES,
    WorkerLost,
    WorkerSession,
    json_values_bound,
)

TOY = Path(__file__).parent / "grading_fixtures" / "toy"
IS_ROOT = os.geteuid() == 0
MODES = ["bwrap", pytest.param("uid", marks=pytest.mark.skipif(not IS_ROOT, reason="root only"))]
MARK = "tfcourse-bounds-fill"  # the names of the files the memory tests write

TESTS = """
import numpy as np

from tfcourse.grading.points import points


@points(1, exercise="add")
def test_add_then_a_request_larger_than_the_pipe(sub):
    assert sub.add(2, 3) == 5
    x = np.arange(3000.0)
    np.testing.assert_allclose(sub.scale(x, 2.0), 2 * x)


@points(1, exercise="scale")
def test_a_weight_matrix_request(sub):
    assert sub.add(1, 1) == 2
    w = np.ones((784, 300), np.float32)
    np.testing.assert_allclose(sub.scale(w, 2.0), 2 * w)


@points(2, exercise="mean_square")
def test_mean_square(sub):
    assert abs(sub.mean_square(np.array([1.0, 2.0, 3.0])) - 14 / 3) < 1e-12
"""

HONEST = """
import numpy as np


def add(a, b):
    return a + b


def scale(x, factor):
    return np.asarray(x) * factor


def mean_square(x):
    return float(np.mean(np.asarray(x) ** 2))
"""

# answers add() itself on the reply channel, then sleeps without reading another request;
# its request pipe is shrunk to one page at import, so a 24 KB request fills it
STALLS = """
import fcntl
import json
import os
import stat
import sys
import time

import numpy as np


def _pipes():
    readers, writers, err = [], [], os.fstat(2).st_ino
    for name in os.listdir("/proc/self/fd"):
        try:
            st = os.fstat(int(name))
        except OSError:
            continue
        if stat.S_ISFIFO(st.st_mode) and st.st_ino != err:
            mode = fcntl.fcntl(int(name), fcntl.F_GETFL) & os.O_ACCMODE
            (readers if mode == os.O_RDONLY else writers).append(int(name))
    return readers, writers


READERS, WRITERS = _pipes()
SHRUNK = [fcntl.fcntl(fd, 1031, 4096) for fd in READERS]  # F_SETPIPE_SZ


def _request_id():
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, dict) and value.get("op") == "call" and "id" in value:
                return value["id"]
        frame = frame.f_back


def add(a, b):
    reply = json.dumps({"id": _request_id(), "ok": True, "value": a + b, "printed": ""})
    for fd in WRITERS:
        os.write(fd, (reply + "\\n").encode())
    time.sleep(3600)


def scale(x, factor):
    return np.asarray(x) * factor


def mean_square(x):
    return float(np.mean(np.asarray(x) ** 2))
"""

FLOODS = HONEST.replace(
    "def scale(x, factor):\n    return np.asarray(x) * factor",
    'def scale(x, factor):\n    return ["a"] * 3_000_000',
)

FLOOD_TESTS = """
import numpy as np

from tfcourse.grading.points import points


@points(1, exercise="add")
def test_a_large_reply_arrives_whole(sub):
    w = np.random.default_rng().normal(size=(784, 300)).astype(np.float32)
    np.testing.assert_array_equal(sub.add(w, np.float32(1)), w + np.float32(1))


@points(1, exercise="scale")
def test_scale(sub):
    np.testing.assert_allclose(sub.scale(np.array([1.0, -2.0]), 3.0), [3.0, -6.0])
"""

# each exercise holds memory in files in its own way, 16 MB at a time, until it is stopped
FILLS = f'''
import os
import time

BLOCK = b"x" * (16 << 20)
KEPT = []


def _fill(open_file):
    for i in range(64):  # 1 GB at most
        f = open_file(i)
        f.write(BLOCK)
        f.flush()
        KEPT.append(f)
        time.sleep(0.05)
    return 0


def _named(i):
    for folder in ("/dev/shm", "/tmp")[i % 2 :]:
        try:
            return open(f"{{folder}}/{MARK}-{{i}}", "wb")
        except OSError:
            continue


def _unlinked(i):
    f = _named(i)
    os.unlink(f.name)
    return f


def add(a, b):
    return _fill(_named)


def scale(x, factor):
    return _fill(_unlinked)


def mean_square(x):
    return _fill(lambda i: os.fdopen(os.memfd_create(f"{MARK}-{{i}}"), "wb"))
'''

FILL_TESTS = """
import numpy as np

from tfcourse.grading.points import points


@points(1, exercise="add")
def test_named_files(sub):
    sub.add(1, 2)


@points(1, exercise="scale")
def test_deleted_open_files(sub):
    sub.scale(np.zeros(1), 1.0)


@points(2, exercise="mean_square")
def test_memfd(sub):
    sub.mean_square(np.zeros(1))
"""


@pytest.fixture
def mode(request):
    """The sandbox mode; ``uid`` with this machine prepared for it (``uid_mode_setup``)."""
    if request.param == "uid":
        with uid_mode_setup():
            yield "uid"
    else:
        yield request.param


def _assignment(folder: Path, tests: str = TESTS):
    """The toy exercises with ``tests`` as public tests (no hidden ones, no self-check)."""
    assignment = folder / "bounds"
    assignment.mkdir()
    (assignment / "exercises.py").write_text((TOY / "exercises.py").read_text())
    (assignment / "tests_public.py").write_text(textwrap.dedent(tests))
    return load("bounds", folder)


def _grade(tmp_path: Path, source: str, tests: str = TESTS, **options) -> tuple[dict, float]:
    submission = tmp_path / "submission.py"
    submission.write_text(textwrap.dedent(source))
    limits = {"budget": 60, "memory_mb": 300, "max_procs": 64, "self_check": "off", **options}
    start = time.monotonic()
    results = grade(submission, _assignment(tmp_path, tests), timeout=3, **limits)
    return results, time.monotonic() - start


def _outputs(results: dict) -> dict[str, str]:
    return {t["name"].split(":")[1].split("(")[0].strip(): t["output"] for t in results["tests"]}


# ---------------------------------------------------------------- stalled pipes
def test_a_worker_that_stops_reading_costs_one_call_timeout(tmp_path):
    results, seconds = _grade(tmp_path, STALLS)
    assert seconds < 45  # 3 workers: two stalls of 3 s each, and the honest test
    assert results["score"] == 2 and results["max_score"] == 4
    outputs = _outputs(results)
    for name in ("test_add_then_a_request_larger_than_the_pipe", "test_a_weight_matrix_request"):
        assert outputs[name].startswith("your code stopped reading the grader's requests"), outputs
    json.dumps(results)  # plain data, as written to results.json


# ---------------------------------------------------------------- replies
def _json_values(value) -> int:
    """How many values json.loads builds for ``value`` (keys included)."""
    if isinstance(value, list):
        return 1 + sum(_json_values(v) for v in value)
    if isinstance(value, dict):
        return 1 + len(value) + sum(_json_values(v) for v in value.values())
    return 1


@pytest.mark.parametrize(
    "value",
    [
        [1, 2.5, "a, b: [c]", None, True],
        (np.arange(3.0), {"k": [float("nan"), (1, "x")], 2: np.float32(1)}),
        {"nested": [[{"a": 1}], [], {}]},
        [Handle(1, "Model"), np.array(["s", "t"])],
    ],
)
def test_the_values_bound_is_never_below_what_json_builds(value):
    line = json.dumps({"id": "x", "ok": True, "value": encode(value), "printed": "p: [1, 2]"})
    assert json_values_bound(line.encode()) >= _json_values(json.loads(line))


def test_the_largest_legitimate_reply_passes_and_a_flood_of_strings_does_not():
    # an array (even a scalar) is the codec value that takes most JSON values: 7 each
    thousand = json.dumps(encode([np.float32(1.5)] * 1000)).encode()
    assert json_values_bound(thousand) <= 7 * 1000 + 1
    envelope = json.dumps({"id": "0" * 16, "ok": True, "value": None, "printed": ",:" * 1000})
    assert 7 * MAX_ITEMS + json_values_bound(envelope.encode()) <= MAX_REPLY_VALUES
    flood = b'{"id": "x", "ok": true, "printed": "", "value": [' + b'"a", ' * 2_000_000 + b'"a"]}'
    assert json_values_bound(flood) > MAX_REPLY_VALUES


def test_a_flood_is_refused_while_it_arrives(tmp_path):
    """The reply of a process that writes 92 MB of tiny strings is refused within the first
    megabytes: no 92 MB buffer, no json.loads, no timeout."""
    script = (
        "import os, time\n"
        'os.write(1, b\'{"id": "x", "ok": true, "printed": "", "value": [\')\n'
        "chunk = b'\"a\", ' * 250_000\n"
        "for _ in range(400):\n"
        "    os.write(1, chunk)\n"
        "    time.sleep(0.01)\n"
    )
    session = WorkerSession(tmp_path / "none.py", Limits(), "none", [])
    session.proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    import selectors

    session.selector = selectors.DefaultSelector()
    session.selector.register(session.proc.stdout, selectors.EVENT_READ)
    session.buffer = b""
    start = time.monotonic()
    with pytest.raises(WorkerLost, match="returned more values than the grader accepts"):
        session._receive("x", 30.0, "timed out")
    assert time.monotonic() - start < 2  # the whole flood takes more than 4 s to write
    assert session.proc is None  # the worker was stopped


def test_a_reply_of_millions_of_strings_is_refused_not_timed_out(tmp_path):
    results, seconds = _grade(tmp_path, FLOODS, tests=FLOOD_TESTS)
    assert seconds < 30
    outputs = _outputs(results)
    assert outputs["test_a_large_reply_arrives_whole"] == "passed"  # 1.2 MB, many reads
    assert outputs["test_scale"].startswith(
        "your code returned more values than the grader accepts"
    ), outputs


# ---------------------------------------------------------------- memory in files
def _left_behind() -> list[str]:
    found = []
    for folder in ("/dev/shm", "/tmp"):
        found += [f"{folder}/{n}" for n in os.listdir(folder) if n.startswith(MARK)]
    return found


@pytest.mark.parametrize("mode", MODES, indirect=True)
def test_memory_held_in_files_counts_and_is_removed(mode, tmp_path):
    assert not _left_behind()
    results, seconds = _grade(tmp_path, FILLS, tests=FILL_TESTS, sandbox=mode)
    assert seconds < 45
    assert results["score"] == 0
    for name, output in _outputs(results).items():
        stopped = output.startswith("your code used more than 300 MB of memory (")
        full = mode == "bwrap" and "No space left on device" in output  # a sized tmpfs
        assert stopped or full, (name, output)
    assert not _left_behind()  # uid mode: removed from the host's /dev/shm and /tmp


def test_files_of_uid_nobody_are_counted_once_and_removed(tmp_path):
    if not IS_ROOT:
        pytest.skip("root only: files owned by uid nobody")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o1777)
    os.chmod(shared, 0o1777)
    mine = shared / "mine"
    mine.mkdir()
    (mine / "big").write_bytes(b"x" * 2**20)
    os.link(mine / "big", mine / "same")  # one file, two names
    deep = mine
    for i in range(5):
        deep = deep / f"d{i}"
        deep.mkdir()
    (deep / "small").write_bytes(b"y" * 8192)
    os.symlink("/etc", mine / "etc")  # never followed
    theirs = shared / "theirs"
    theirs.write_bytes(b"z" * 2**20)
    for path in [mine, *mine.rglob("*")]:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    counted = processes.files_bytes([shared], NOBODY, set())
    assert 2**20 + 8192 <= counted < 2**20 + 8192 + 64 * 1024  # plus the folders' own blocks
    processes.remove_owned([shared], NOBODY)
    assert sorted(p.name for p in shared.iterdir()) == ["theirs"]
    assert os.path.isdir("/etc")


# ---------------------------------------------------------------- links
@pytest.fixture
def instructor_file(tmp_path) -> Path:
    path = tmp_path / "instructor" / "exercises.py"
    path.parent.mkdir()
    path.write_text((TOY / "exercises.py").read_text())
    return path


def test_check_submission_refuses_links(tmp_path, instructor_file):
    link = tmp_path / "toy.py"
    link.symlink_to(instructor_file)
    with pytest.raises(SubmissionError, match=r"'.*toy.py' was not graded: toy.py is a symbolic"):
        check_submission(link)
    hard = tmp_path / "hard.py"
    os.link(instructor_file, hard)
    with pytest.raises(SubmissionError, match=r"hard\.py is a hard link"):
        check_submission(hard)
    copy = tmp_path / "copy.py"
    copy.write_text(instructor_file.read_text())
    assert check_submission(copy) == copy.resolve()


def test_grade_refuses_a_link_before_grading(tmp_path, instructor_file):
    link = tmp_path / "toy.py"
    link.symlink_to(instructor_file)
    with pytest.raises(SubmissionError, match="symbolic link"):
        grade(link, load("toy", TOY.parent))


def test_pick_submission_never_picks_a_link(tmp_path, instructor_file):
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "toy.py").symlink_to(instructor_file)
    chosen, note = pick_submission(upload, "toy")
    assert chosen is None
    assert note.startswith("toy.py is a symbolic link, and links are not graded: upload the file")
    assert str(instructor_file) not in note  # the student never learns where it points
    (upload / "mine.py").write_text("def add(a, b):\n    return a + b\n")
    chosen, note = pick_submission(upload, "toy")
    assert chosen == upload / "mine.py"
    assert "toy.py is a symbolic link" in note and "Graded mine.py" in note
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "work").symlink_to(instructor_file.parent, target_is_directory=True)
    chosen, note = pick_submission(linked, "exercises")
    assert chosen is None and "work is a symbolic link" in note
    hard = tmp_path / "hard"
    hard.mkdir()
    os.link(instructor_file, hard / "toy.py")
    chosen, note = pick_submission(hard, "toy")
    assert chosen is None and "toy.py is a hard link" in note


def test_link_problem_names_a_linked_folder_inside_the_upload(tmp_path, instructor_file):
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "work").symlink_to(instructor_file.parent, target_is_directory=True)
    problem = link_problem(upload / "work" / "exercises.py", upload)
    assert problem.startswith("work/exercises.py lies in work/, which is a symbolic link")
    assert link_problem(instructor_file, instructor_file.parent) == ""


def test_batch_rows_of_links_say_they_were_not_graded(tmp_path, instructor_file):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "alice.py").write_text(HONEST)
    (uploads / "bob.py").symlink_to(instructor_file)
    (uploads / "carol").symlink_to(instructor_file.parent, target_is_directory=True)
    (uploads / "dave").mkdir()
    (uploads / "dave" / "toy.py").symlink_to(instructor_file)
    os.link(instructor_file, uploads / "erin.py")
    items, ignored = collect([uploads], "toy")
    assert ignored == []
    by_label = {item.label: item for item in items}
    assert by_label["alice.py"].path == uploads / "alice.py"
    for label, what in [("bob.py", "symbolic"), ("carol", "symbolic"), ("erin.py", "hard")]:
        item = by_label[label]
        assert item.path is None
        assert item.error.startswith(f"not graded: {label} is a {what} link"), item.error
    assert by_label["dave"].path is None and "toy.py is a symbolic link" in by_label["dave"].error
    toy = load("toy", TOY.parent)
    row = grade_item(Item("bob.py", uploads / "bob.py"), toy)  # a file named on the command line
    assert row.total == 0 and "symbolic link" in row.error and not row.grader_failed


def test_bwrap_tmpfs_are_sized_and_dev_is_read_only(tmp_path):
    """In bwrap, /tmp and /dev/shm are tmpfs of half the memory cap each; /dev takes no file."""
    from tfcourse.grading import sandbox

    cmd = sandbox.bwrap_command(tmp_path / "sub", [], tmpfs_bytes=2**30)
    text = " ".join(cmd)
    assert "--size 1073741824 --tmpfs /tmp" in text
    assert "--size 1073741824 --tmpfs /dev/shm" in text
    assert "--remount-ro /dev" in text
    if not sandbox.bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    probe = tmp_path / "probe.py"
    probe.write_text(
        textwrap.dedent(
            """
            import os

            def add(a, b):
                seen = {}
                for folder in ("/tmp", "/dev/shm", "/dev"):
                    try:
                        with open(os.path.join(folder, "x.bin"), "wb") as f:
                            f.write(b"1")
                        seen[folder] = "written"
                    except OSError:
                        seen[folder] = "refused"
                st = os.statvfs("/dev/shm")
                seen["shm_mb"] = st.f_blocks * st.f_frsize // 2**20
                raise ValueError(repr(sorted(seen.items())))

            def mean_square(x):
                return 0.0

            def scale(x, factor):
                return x
            """
        )
    )
    toy = load("toy", Path(__file__).parent / "grading_fixtures")
    results = grade(probe, toy, timeout=20, sandbox="bwrap", memory_mb=512)
    shown = next(t["output"] for t in results["tests"] if t["name"].startswith("add:"))
    assert "('/dev', 'refused')" in shown and "('/dev/shm', 'written')" in shown
    assert "('/tmp', 'written')" in shown and "('shm_mb', 256)" in shown
