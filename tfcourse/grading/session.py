"""The grader's side of the worker: start it, send calls, check every reply, replace it.

A :class:`WorkerSession` owns one contained worker process (see :mod:`.sandbox`). Every request
carries a random id; the reply must be one JSON line, below a size cap, with that id, before the
deadline. Anything else (silence, a crash, garbage, a forged or oversized reply, too much
memory) kills the worker and its whole process tree and raises :class:`WorkerLost` with a
sentence for the student; the next call starts a fresh worker and loads the submission again.
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
from tfcourse.grading.limits import Limits, pids_cgroup, preexec, remove_cgroup

MAX_REPLY_BYTES = 96 * 2**20


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


class WorkerSession:
    """One submission's worker, restarted on demand, within the limits."""

    def __init__(self, submission: Path, limits: Limits, mode: str, hidden: list[Path]) -> None:
        self.submission, self.limits, self.mode = submission, limits, mode
        self.hidden = hidden
        self.proc: subprocess.Popen | None = None
        self.fatal = ""  # set when loading itself kills the worker: every test gets it
        self.load_errors: list[str] = []
        self.started = time.monotonic()
        self.memory_exceeded = False
        self.workdir: Path | None = None
        self._loaded_id = ""

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
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.workdir,
            env=sandbox.scrubbed_env(home),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=preexec(self.mode, self.limits, self.cgroup),
        )
        self.output = OutputTail(self.proc.stderr, self.limits.output_kb * 1024)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.buffer = b""
        self.memory_exceeded = self.too_many = False
        threading.Thread(target=self._watch_memory, args=(self.proc,), daemon=True).start()
        self._loaded_id = self._send({"op": "load", "file": f"{inside}/{target.name}"})

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
        if code is not None and code < 0:
            return f"your code crashed the Python process (signal {-code})"
        return f"your code ended the Python process (exit code {code}, e.g. os._exit or exit)"

    def ensure_loaded(self, deadline: float) -> None:
        """Start a worker if none runs and wait for it to have loaded the submission."""
        if self.fatal:
            raise WorkerLost(self.fatal)
        if self.proc is None:
            self.start()
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
            errors = reply.get("errors")
            if isinstance(errors, list):
                self.load_errors = [str(e)[:500] for e in errors[:5]]

    def request(self, message: dict[str, Any], seconds: float, why: str) -> dict[str, Any]:
        """Send ``message``; return the checked reply, which must come within ``seconds``."""
        self.ensure_loaded(time.monotonic() + seconds)
        request_id = self._send(message)
        return self._receive(request_id, seconds, why)


def _no_constants(name: str) -> float:
    raise ValueError(f"bare {name} is not JSON")  # the codec tags non-finite floats
