"""The grader's side of the worker: start it, send calls, check every reply, replace it.

A :class:`WorkerSession` owns one contained worker process (see :mod:`.sandbox`). Every request
carries a random id; the reply must be one JSON line, below a size cap, with that id, before the
deadline. Anything else (silence, a crash, garbage, a forged or oversized reply, too much
memory) kills the worker and its whole process tree and raises :class:`WorkerLost` with a
sentence for the student; the next call starts a fresh worker and loads the submission again.

The worker's first line says it is ready, before it runs the submission. A first worker that
fails to start (dies or stays silent before that line) is the grader's problem, not the
student's: :class:`~.errors.GraderFailure`, quoting the end of the worker's stderr.
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tfcourse.grading import processes, sandbox
from tfcourse.grading.codec import MAX_ITEMS
from tfcourse.grading.errors import GraderFailure
from tfcourse.grading.limits import Limits, pids_cgroup, preexec, remove_cgroup
from tfcourse.grading.worker import READY

MAX_REPLY_BYTES = 96 * 2**20
READY_TIMEOUT = 30.0  # seconds a worker may take to start, at least (or the load timeout)
STDERR_LINES, STDERR_CHARS = 12, 1500  # what a message quotes of the worker's stderr


class StudentError(Exception):
    """A test failed because of the submission; ``str()`` is the sentence the student reads.

    ``types`` names the class of what the submission raised and its bases (plain text from the
    worker), so a test can check ``"FileNotFoundError" in exc.types``.
    """

    def __init__(self, message: str, types: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.types = types


class WorkerLost(StudentError):
    """The worker died, overran its time or memory, or broke the protocol."""


class OutOfTime(StudentError):
    """The submission's total time budget is spent."""


class OutputTail:
    """Drains a pipe in a thread, keeping only the last ``limit`` bytes."""

    def __init__(self, stream: Any, limit: int) -> None:
        self.data, self.total, self.limit = b"", 0, limit
        self.thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self.thread.start()

    def _drain(self, stream: Any) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            self.total += len(chunk)
            self.data = (self.data + chunk)[-self.limit :]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def tail(self, wait: float = 2.0) -> str:
        """The last lines written (:func:`last_lines`), once the stream has ended (or after
        ``wait`` seconds)."""
        self.thread.join(wait)
        return last_lines(self.text())


def last_lines(text: str) -> str:
    """The non-blank lines of ``text``: its first and last ones when there are too many."""
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    if len(lines) > STDERR_LINES:
        lines = [lines[0], "...", *lines[2 - STDERR_LINES :]]
    text = "\n".join(lines)
    return text if len(text) <= STDERR_CHARS else "..." + text[-STDERR_CHARS:]


class WorkerSession:
    """One submission's worker, restarted on demand, within the limits."""

    def __init__(self, submission: Path, limits: Limits, mode: str, hidden: list[Path]) -> None:
        self.submission, self.limits, self.mode = submission, limits, mode
        self.hidden = hidden
        self.proc: subprocess.Popen | None = None
        self.fatal = ""  # set when loading itself kills the worker: every test gets it
        self.load_errors: list[str] = []
        self.defined_by: dict[str, str] = {}  # name -> the failed cell meant to define it
        self.started = time.monotonic()
        self.memory_exceeded = False
        self.workdir: Path | None = None
        self._loaded_id = ""
        self._ready = False  # this worker has said it started
        self.ever_ready = False  # some worker did: the submission may have run since
        self.setup_failure = ""  # the worker could not even be started

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start a worker and send it the load request (the reply is read by the next call)."""
        self.workdir = Path(tempfile.mkdtemp(prefix="tfcourse-sub-"))
        target = self.workdir / self.submission.name
        shutil.copyfile(self.submission, target)
        if self.mode == "uid":
            for path in (self.workdir, target):
                os.chown(path, sandbox.NOBODY, sandbox.NOBODY)
        inside = sandbox.SANDBOX_ROOT if self.mode == "bwrap" else str(self.workdir)
        package_root = (
            sandbox.PACKAGE_ROOT
            if self.mode == "bwrap"
            else str(Path(sandbox.tfcourse.__file__).resolve().parents[1])
        )
        code = (
            f"import sys; sys.path.insert(0, {package_root!r}); "
            "from tfcourse.grading.worker import main; main()"
        )
        cmd = [sys.executable, "-I", "-c", code]
        if self.mode == "bwrap":
            cmd = sandbox.bwrap_command(self.workdir, self.hidden) + cmd
        home = "/tmp" if self.mode == "bwrap" else inside
        self.cgroup = pids_cgroup(self.limits.max_procs)
        self._ready = False
        try:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.workdir,
                env=sandbox.scrubbed_env(home),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=preexec(self.mode, self.limits, self.cgroup),
            )
        except (OSError, subprocess.SubprocessError) as exc:  # reported by ensure_loaded
            self.setup_failure = (
                f"the grader could not start its worker ({cmd[0]}: {exc}), so nothing was "
                f"graded; {self._setup_fix()}"
            )
            self.close()
            return
        self.output = OutputTail(self.proc.stderr, self.limits.output_kb * 1024)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.buffer = b""
        self.memory_exceeded = self.too_many = False
        threading.Thread(target=self._watch_memory, args=(self.proc,), daemon=True).start()
        self._inside_name = f"{inside}/{target.name}"
        self._loaded_id = self._send({"op": "load", "file": self._inside_name})

    def _watch_memory(self, proc: subprocess.Popen) -> None:
        cap = self.limits.memory_mb * 2**20
        while proc.poll() is None:
            pids = [proc.pid, *processes.descendants(proc.pid)]
            self.too_many = len(pids) > self.limits.max_procs
            if self.too_many or processes.rss_bytes(pids) > cap:
                self.memory_exceeded = not self.too_many
                self._kill(proc)
                return
            time.sleep(0.2)

    def _kill(self, proc: subprocess.Popen) -> None:
        pids = [proc.pid, *processes.descendants(proc.pid)]
        for pid in pids:
            try:
                os.kill(pid, 9)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        """Kill the worker and everything it started; remove its folder."""
        if self.proc is not None:
            self._kill(self.proc)
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.selector.close()
            self.proc = None
        if self.mode == "uid":
            processes.kill_uid()
        processes.kill_descendants()
        remove_cgroup(getattr(self, "cgroup", None))
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    # ------------------------------------------------------------------ requests
    def budget_left(self) -> float:
        return self.limits.budget - (time.monotonic() - self.started)

    def _send(self, message: dict[str, Any]) -> str:
        message["id"] = secrets.token_hex(8)
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the death is reported when the reply is awaited
        return message["id"]

    def _lost(self, reason: str) -> WorkerLost:
        self.close()
        return WorkerLost(reason)

    def _receive(self, request_id: str, seconds: float, why: str) -> dict[str, Any]:
        """The reply to ``request_id`` within ``seconds``; ``why`` explains a timeout."""
        deadline = time.monotonic() + seconds
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                raise self._lost(why)
            chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
            if not chunk:
                raise self._lost(self._death())
            self.buffer += chunk
            if len(self.buffer) > MAX_REPLY_BYTES:
                raise self._lost("your code returned more data than the grader accepts")
        line, _, self.buffer = self.buffer.partition(b"\n")
        if line.count(b"[") + line.count(b"{") > 2 * MAX_ITEMS:  # before json builds it all
            raise self._lost("your code returned more values than the grader accepts")
        try:
            reply = json.loads(line, parse_constant=_no_constants)
        except (ValueError, RecursionError):
            raise self._lost("the grader lost contact with your code (garbled reply)") from None
        if not isinstance(reply, dict) or reply.get("id") != request_id:
            raise self._lost("the grader lost contact with your code (unexpected reply)")
        if not isinstance(reply.get("ok"), bool) or not isinstance(reply.get("printed"), str):
            raise self._lost("the grader lost contact with your code (malformed reply)")
        return reply

    def _await_ready(self) -> None:
        """Read the worker's ready line; a worker that never gets there is not the student's.

        Raises:
            GraderFailure: the first worker died, stayed silent or said something else.
            WorkerLost: a replacement worker did (the submission ran before: it may be why).
        """
        seconds = max(READY_TIMEOUT, self.limits.load_timeout)
        deadline = time.monotonic() + seconds
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                self._kill(self.proc)
                raise self._not_started(f"it did not start within {seconds:g} s")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise self._not_started(self._exit_status())
            self.buffer += chunk
            if len(self.buffer) > 65536:
                raise self._not_started("it wrote something other than its ready line")
        line, _, self.buffer = self.buffer.partition(b"\n")
        try:
            ready = json.loads(line) == READY
        except ValueError:
            ready = False
        if not ready:
            self._kill(self.proc)
            raise self._not_started(f"its first line was {line[:200]!r}, not {READY}")
        self._ready = self.ever_ready = True

    def _exit_status(self) -> str:
        """``"exit code 1"`` / ``"signal 9"`` of the worker that has ended (or is ending)."""
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "it closed its channel"
        if self.memory_exceeded:
            return f"it needed more than {self.limits.memory_mb} MB (--memory-mb) to start"
        if self.too_many:
            return f"it needed more than {self.limits.max_procs} threads (--max-procs) to start"
        return f"signal {-code}" if code < 0 else f"exit code {code}"

    def _not_started(self, how: str) -> WorkerLost | GraderFailure:
        """The error for a worker that ended before it was ready; closes the session."""
        self._kill(self.proc)
        self.proc.wait()
        tail = self.output.tail()
        self.close()
        quoted = f"\nThe worker's last output:\n{tail}" if tail else " The worker printed nothing."
        if self.ever_ready:  # the submission ran in an earlier worker and may have caused it
            return WorkerLost(
                f"the grader could not restart the worker after your code stopped it ({how})."
                + quoted
            )
        return GraderFailure(
            f"the grading worker stopped before loading any submission ({how}), so nothing "
            f"was graded; {self._setup_fix()}." + quoted
        )

    def _setup_fix(self) -> str:
        """How to fix a worker that cannot start, in this sandbox mode."""
        exe = sys.executable
        check = f"`{exe} -c 'import tfcourse.grading.worker'` shows whether this Python works"
        if self.mode == "bwrap":
            return (
                f"the bubblewrap sandbox shows the worker the system folders and those of this "
                f"Python ({exe}) only: {check}, and keep Python and its packages out of the "
                "folders being graded (the submission's, the tests', the results')"
            )
        if self.mode == "uid":
            return (
                f"uid {sandbox.NOBODY} must be able to run {exe} and import its packages "
                "(numpy, tfcourse): make their folders readable and traversable by others "
                f"(chmod o+rx) or install them under /usr or /opt; {check}"
            )
        return check

    def _crash_output(self) -> str:
        """The end of the worker's stderr if it ends with a Python traceback not raised in the
        submission (the grader's own code failed, e.g. after the submission patched a
        built-in); else ``""``."""
        self.output.thread.join(0.5)
        text = self.output.text()
        start = text.rfind("Traceback (most recent call last):")
        if start < 0:
            return ""
        trace = text[start:]
        own = (f'File "{self._inside_name}"', 'File "<cell ')
        return "" if any(mark in trace for mark in own) else last_lines(trace)

    def _death(self) -> str:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        if self.too_many:
            return f"your code started more than {self.limits.max_procs} processes and was stopped"
        if self.memory_exceeded:
            return f"your code used more than {self.limits.memory_mb} MB of memory and was stopped"
        if code is None:
            return "your code closed the grader's channel to the worker"
        crash = self._crash_output()
        if crash:
            return (
                f"the worker stopped with an error in the grader's code (exit code {code}), "
                "likely after your code changed something it relies on (a built-in or a "
                f"standard module); the worker's last output:\n{crash}"
            )
        if code is not None and code < 0:
            return f"your code crashed the Python process (signal {-code})"
        return f"your code ended the Python process (exit code {code}, e.g. os._exit or exit)"

    def ensure_loaded(self, deadline: float) -> None:
        """Start a worker if none runs and wait for it to have loaded the submission.

        Raises:
            GraderFailure: the first worker could not start (see :meth:`_await_ready`).
            WorkerLost: loading failed, or a replacement worker could not start.
        """
        if self.setup_failure:
            raise GraderFailure(self.setup_failure)
        if self.fatal:
            raise WorkerLost(self.fatal)
        if self.proc is None:
            self.start()
            if self.setup_failure:
                raise GraderFailure(self.setup_failure)
        if not self._ready:
            self._await_ready()
        if self._loaded_id:
            left = max(deadline - time.monotonic(), 0.0)
            seconds = min(self.limits.load_timeout, left)
            why = (
                f"running your file took longer than {seconds:g} s"
                if seconds < left
                else "the time left for this test ran out while your file was loading"
            )
            try:
                reply = self._receive(self._loaded_id, seconds, why)
            except WorkerLost as exc:
                self.fatal = f"loading your submission failed: {exc}"
                raise WorkerLost(self.fatal) from None
            self._loaded_id = ""
            errors, defined_by = reply.get("errors"), reply.get("defined_by")
            if isinstance(errors, list):
                self.load_errors = [str(e)[:500] for e in errors[:5]]
            if isinstance(defined_by, dict):
                pairs = list(defined_by.items())[:300]
                self.defined_by = {str(k)[:100]: str(v)[:500] for k, v in pairs}

    def request(self, message: dict[str, Any], seconds: float, why: str) -> dict[str, Any]:
        """Send ``message``; return the checked reply, which must come within ``seconds``."""
        self.ensure_loaded(time.monotonic() + seconds)
        request_id = self._send(message)
        return self._receive(request_id, seconds, why)


def _no_constants(name: str) -> float:
    raise ValueError(f"bare {name} is not JSON")  # the codec tags non-finite floats
