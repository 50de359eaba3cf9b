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
import math
import os
import secrets
import select
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from tfcourse.grading import processes, runtime, sandbox
from tfcourse.grading.codec import MAX_ARRAY_BYTES, MAX_ITEMS
from tfcourse.grading.errors import GraderFailure
from tfcourse.grading.limits import Limits, pids_cgroup, preexec, remove_cgroup
from tfcourse.grading.worker import READY

# the largest legitimate reply: one array at the codec's cap (base64: 4/3), plus the envelope
MAX_REPLY_BYTES = MAX_ARRAY_BYTES * 4 // 3 + 2**20
# JSON values one reply may hold: the codec's MAX_ITEMS values, at most 7 JSON values each
# ({"$": "array", "kind": K, "npy": D} is 7), plus room for the envelope's text
MAX_REPLY_VALUES = 8 * MAX_ITEMS
WRITE_CHUNK = 1 << 16  # bytes written to the worker's pipe at once
READY_TIMEOUT = 30.0  # seconds a worker may take to start, at least (or the load timeout)
SCAN_INTERVAL = 1.0  # seconds between two counts of the files the worker holds, at least
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

    def __init__(
        self,
        submission: Path,
        limits: Limits,
        mode: str,
        hidden: list[Path],
        modules: Collection[str] = (),
    ) -> None:
        """``modules``: the tfcourse modules the submission may import besides the worker's
        own (:func:`.runtime.released_imports`); ``hidden``: folders bwrap must not show."""
        self.submission, self.limits, self.mode = submission, limits, mode
        self.hidden, self.modules = hidden, frozenset(modules)
        self.proc: subprocess.Popen | None = None
        self.fatal = ""  # set when loading itself kills the worker: every test gets it
        self.load_errors: list[str] = []
        self.defined_by: dict[str, str] = {}  # name -> the failed cell meant to define it
        self.started = time.monotonic()
        self.memory_exceeded = False
        self.held_mb, self.files_problem = 0, ""  # what the memory watcher saw (files)
        self.workdir: Path | None = None
        self._loaded_id = ""
        self._ready = False  # this worker has said it started
        self.ever_ready = False  # some worker did: the submission may have run since
        self.setup_failure = ""  # the worker could not even be started

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start a worker and send it the load request (the reply is read by the next call).

        Its folder (:attr:`workdir`, removed by :meth:`close`) holds ``sub/``, the worker's
        working folder with a copy of the submission, and ``runtime/``, the only tfcourse it
        can import (:mod:`.runtime`). As root the worker is an unprivileged uid
        (:func:`.sandbox.worker_uid`): ``sub/`` is its own, ``runtime/`` and the folder itself
        stay root's (readable, not writable).
        """
        self.workdir = Path(tempfile.mkdtemp(prefix="tfcourse-sub-"))
        sub, runtime_dir = self.workdir / "sub", self.workdir / "runtime"
        sub.mkdir(mode=0o700)
        target = sub / self.submission.name
        shutil.copyfile(self.submission, target)
        runtime.build(runtime_dir, self.modules)
        bwrap = self.mode == "bwrap"
        uid = sandbox.worker_uid(self.mode)
        if uid is not None:
            self.workdir.chmod(0o711)
            for path in (sub, target):
                os.chown(path, uid, uid)
        inside = sandbox.SANDBOX_ROOT if bwrap else str(sub)
        code = runtime.worker_code(
            sandbox.PACKAGE_ROOT if bwrap else str(runtime_dir), runtime.python_path()
        )
        cmd = [sys.executable, "-I", "-S", "-c", code]
        args_fd = None
        if bwrap:
            half = self.limits.memory_mb * 2**20 // 2  # /tmp and /dev/shm: within the cap
            prefix = sandbox.bwrap_command(
                sub, self.hidden, runtime_dir=runtime_dir, tmpfs_bytes=half
            )
            cmd = prefix + cmd
            cmd, args_fd = sandbox.args_from_fd(cmd)
        home = "/tmp" if bwrap else inside
        self.cgroup = pids_cgroup(self.limits.max_procs)
        self._ready = False
        try:
            self.proc = subprocess.Popen(
                cmd,
                cwd=sub,
                env=sandbox.scrubbed_env(home),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=() if args_fd is None else (args_fd,),
                preexec_fn=preexec(self.mode, self.limits, self.cgroup),
            )
        except (OSError, subprocess.SubprocessError) as exc:  # reported by ensure_loaded
            self.setup_failure = (
                f"the grader could not start its worker ({cmd[0]}: {exc}), so nothing was "
                f"graded; {self._setup_fix()}"
            )
            self.close()
            return
        finally:
            if args_fd is not None:
                os.close(args_fd)
        self.output = OutputTail(self.proc.stderr, self.limits.output_kb * 1024)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.buffer = b""
        self.memory_exceeded = self.too_many = False
        threading.Thread(target=self._watch_memory, args=(self.proc,), daemon=True).start()
        self._inside_name = f"{inside}/{target.name}"
        self._loaded_id = self._send({"op": "load", "file": self._inside_name})

    def _watch_memory(self, proc: subprocess.Popen) -> None:
        """Stop the worker once its processes and the memory it holds in files pass the cap.

        Every 0.2 s: the resident memory of its processes, and what its own tmpfs hold
        (bubblewrap's ``/tmp``; cheap). Every second or so (a scan costs more): the files it
        keeps elsewhere (:meth:`_files_bytes`). Files count beyond those of the first look,
        taken before the submission ran (its own copy, in ``uid`` mode stale files of nobody).
        """
        cap = self.limits.memory_mb * 2**20
        first_mounts = first_files = None
        files, next_scan = 0, 0.0
        self.held_mb, self.files_problem = 0, ""
        while proc.poll() is None:
            pids = [proc.pid, *processes.descendants(proc.pid)]
            self.too_many = len(pids) > self.limits.max_procs
            devices: set[int] = set()
            mounts = processes.private_mounts_bytes(pids[1], devices) if len(pids) > 1 else 0
            first_mounts = mounts if first_mounts is None else first_mounts
            if not self.too_many and time.monotonic() >= next_scan:
                began = time.monotonic()
                try:
                    total = self._files_bytes(pids, devices)
                    first_files = total if first_files is None else first_files
                    files = max(total - first_files, 0)
                except processes.ScanLimit as exc:
                    self.files_problem = str(exc)
                except OSError:
                    pass  # counted at the next scan
                next_scan = time.monotonic() + max(SCAN_INTERVAL, 3 * (time.monotonic() - began))
            held = max(mounts - first_mounts, 0) + files
            if self.too_many or self.files_problem or processes.rss_bytes(pids) + held > cap:
                self.memory_exceeded = not self.too_many
                self.held_mb = held // 2**20
                self._kill(proc)
                return
            time.sleep(0.2)

    def _files_bytes(self, pids: list[int], devices: set[int]) -> int:
        """Bytes the worker keeps in files outside its own tmpfs (on ``devices``): in its
        folder, open with no name (deleted, ``memfd_create``), and in ``uid`` mode the files uid
        nobody owns in the host's shared temporary folders (:data:`.processes.SHARED_TMP`).

        Raises:
            ScanLimit: too many files to count (see :mod:`.processes`).
        """
        seen: set[tuple[int, int]] = set()
        folders = [self.workdir] if self.workdir is not None else []
        total = processes.files_bytes(folders, None, seen)
        if self.mode == "uid":
            total += processes.files_bytes(list(processes.SHARED_TMP), sandbox.NOBODY, seen)
        return total + processes.open_unlinked_bytes(pids, devices, seen)

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
            processes.remove_owned(list(processes.SHARED_TMP), sandbox.NOBODY)
        processes.kill_descendants()
        remove_cgroup(getattr(self, "cgroup", None))
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    # ------------------------------------------------------------------ requests
    def budget_left(self) -> float:
        return self.limits.budget - (time.monotonic() - self.started)

    def _send(self, message: dict[str, Any], deadline: float | None = None) -> str:
        """Write ``message`` (one line) to the worker before ``deadline``; return its id.

        The pipe is written without blocking, a chunk whenever the worker has read enough: a
        worker that stops reading (it may shrink its pipe) costs the time to ``deadline`` (the
        call's; by default :attr:`Limits.call_timeout` from now), no more. A worker that died is
        reported when its reply is awaited.

        Raises:
            WorkerLost: the worker did not take the whole request before ``deadline``.
        """
        message["id"] = secrets.token_hex(8)
        data = memoryview((json.dumps(message) + "\n").encode())
        size, started = len(data), time.monotonic()
        if deadline is None:
            deadline = started + self.limits.call_timeout
        try:
            fd = self.proc.stdin.fileno()
            os.set_blocking(fd, False)
            poller = select.poll()
            poller.register(fd, select.POLLOUT)
            while data:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._lost(
                        f"your code stopped reading the grader's requests (the worker took "
                        f"{size - len(data)} of the {size} bytes of a request within "
                        f"{round(deadline - started, 1):g} s) and was stopped"
                    )
                if not poller.poll(max(1, math.ceil(left * 1000))):
                    continue
                try:
                    data = data[os.write(fd, data[:WRITE_CHUNK]) :]
                except BlockingIOError:
                    continue
        except (OSError, ValueError):  # a closed pipe: the death is reported when awaited
            pass
        return message["id"]

    def _lost(self, reason: str) -> WorkerLost:
        self.close()
        return WorkerLost(reason)

    def _receive(self, request_id: str, seconds: float, why: str) -> dict[str, Any]:
        """The reply to ``request_id`` within ``seconds``; ``why`` explains a timeout.

        The reply is checked while it arrives, before :func:`json.loads` builds anything: at
        most :data:`MAX_REPLY_BYTES`, and at most :data:`MAX_REPLY_VALUES` JSON values
        (:func:`json_values_bound`), so an oversized reply is refused as soon as it shows,
        not after the deadline.
        """
        deadline = time.monotonic() + seconds
        pending = bytearray(self.buffer)
        self.buffer = b""
        values, end = json_values_bound(pending), pending.find(b"\n")
        while end < 0:
            if len(pending) > MAX_REPLY_BYTES:
                raise self._lost(_too_much_data())
            if values > MAX_REPLY_VALUES:
                raise self._lost(_too_many_values())
            left = deadline - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                if len(pending) >= 2**16:
                    why += (
                        f" (while the grader was receiving your code's reply: "
                        f"{len(pending) / 2**20:.1f} MB so far)"
                    )
                raise self._lost(why)
            chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
            if not chunk:
                raise self._lost(self._death())
            newline = chunk.find(b"\n")
            end = len(pending) + newline if newline >= 0 else -1
            pending += chunk
            values += json_values_bound(chunk)
        if end > MAX_REPLY_BYTES:
            raise self._lost(_too_much_data())
        if values > MAX_REPLY_VALUES:
            raise self._lost(_too_many_values())
        try:
            with memoryview(pending) as view:
                text = str(view[:end], "utf-8")
            self.buffer = bytes(pending[end + 1 :])
            del pending  # the line is now text: the bytes need no second copy in memory
            reply = json.loads(text, parse_constant=_no_constants)
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
                "(numpy, tensorflow): make their folders readable and traversable by others "
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
            return self._memory_message()
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

    def _memory_message(self) -> str:
        """Why the memory watcher stopped the worker, for the student."""
        if self.files_problem:
            return (
                f"your code was stopped: it created or opened {self.files_problem}, too many "
                "for the grader to count the memory they hold"
            )
        text = f"your code used more than {self.limits.memory_mb} MB of memory"
        if self.held_mb:
            text += f" ({self.held_mb} MB of it in files it wrote, e.g. in /tmp or /dev/shm)"
        return text + " and was stopped"

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
        """Send ``message``; return the checked reply. Sending it and receiving the reply must
        both be done within ``seconds``."""
        self.ensure_loaded(time.monotonic() + seconds)
        deadline = time.monotonic() + seconds
        request_id = self._send(message, deadline)
        return self._receive(request_id, max(deadline - time.monotonic(), 0.0), why)


def json_values_bound(data: bytes | bytearray) -> int:
    """At least the number of values :func:`json.loads` would build from ``data`` (C speed).

    Every JSON value but the first follows a ``[``, ``{``, ``,`` or ``:``; counting those
    characters inside strings too only makes the bound larger. The codec's base64 array data
    holds none of them, so a legitimate reply stays far below :data:`MAX_REPLY_VALUES`.
    """
    return 1 + sum(data.count(c) for c in (b"[", b"{", b",", b":"))


def _too_much_data() -> str:
    mb = MAX_REPLY_BYTES // 2**20
    return f"your code returned more data than the grader accepts (over {mb} MB in one reply)"


def _too_many_values() -> str:
    return (
        "your code returned more values than the grader accepts (over "
        f"{MAX_ITEMS} numbers, strings, lists... in one reply; return arrays instead of long "
        "lists)"
    )


def _no_constants(name: str) -> float:
    raise ValueError(f"bare {name} is not JSON")  # the codec tags non-finite floats
