"""TensorBoard reads with several trainers in one ``runs/`` folder.

Each trainer writes under its own prefix (``mlp/``, ``sine/``, ``a2c/``) with the x unit in every
description and chart heading, names its HParams trial after its run folder and puts its
figures in the Images tab. The fast test reads the event files; the browser test serves an
MLP, a sine and an A2C run with ``tfcourse tensorboard`` and looks at the Images, HParams and
Scalars tabs in headless Chromium (driven over the DevTools protocol on a pipe), saving a
screenshot of each tab next to the runs.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import numpy as np
import pytest
from conftest import free_port, stop_server, subprocess_env
from PIL import Image

from tfcourse.mlp.config import MLPConfig
from tfcourse.mlp.trainer import train_mlp
from tfcourse.review.config import SineConfig
from tfcourse.review.trainer import train_sine
from tfcourse.rl.config import A2CConfig
from tfcourse.rl.trainer import train_a2c
from tfcourse.run import summaries

# written once per run by TensorBoard's own plugins or as the run's settings table, the same
# kind of thing in every run: comparing them across runs is what the HParams and Text tabs do
RUN_WIDE = {summaries.HPARAMS_TAG, "hparams", "graph"}
FIGURES = {
    "mlp": {"mlp/figures/learning_curves", "mlp/figures/misclassified"},
    "sine": {"sine/figures/learning_curves", "sine/figures/predictions"},
    "a2c": {"a2c/figures/episode_returns", "a2c/figures/episode"},
}
UNITS = {"mlp": "epoch", "sine": "Adam step", "a2c": "env step, all envs"}


def _mlp(small_mnist, logdir: Path) -> Path:
    cfg = MLPConfig(epochs=1, logdir=str(logdir), progress=False, jit=False)
    return Path(train_mlp(cfg, data=small_mnist)["run_dir"])


def _sine(logdir: Path) -> Path:
    cfg = SineConfig(steps=200, chunk=100, n_points=200, logdir=str(logdir), progress=False)
    return Path(train_sine(cfg, jit=False)["run_dir"])


def _a2c(logdir: Path) -> Path:
    cfg = A2CConfig(total_steps=512, eval_episodes=2, logdir=str(logdir), progress=False)
    return Path(train_a2c(cfg)["run_dir"])


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def test_mlp_and_sine_runs_share_no_tag_and_show_their_figures(small_mnist, tmp_path):
    logdir = tmp_path / "runs"
    runs = {"mlp": _mlp(small_mnist, logdir), "sine": _sine(logdir)}
    tags = {name: set(summaries.read_tags(run)["tensors"]) for name, run in runs.items()}
    own = {name: found - RUN_WIDE for name, found in tags.items()}
    assert not own["mlp"] & own["sine"], own["mlp"] & own["sine"]
    for name, found in own.items():
        assert found and all(tag.startswith(f"{name}/") for tag in found), (name, found)
    assert {"mlp/losses/train", "mlp/charts/test_accuracy"} <= own["mlp"]
    assert {"sine/losses/train", "sine/charts/mse"} <= own["sine"]

    for name, run in runs.items():
        # every chart and picture says what its x axis counts
        descriptions = summaries.read_descriptions(run)
        assert set(descriptions) == own[name]
        for tag, text in descriptions.items():
            assert text.startswith(f"x axis: {UNITS[name]}. "), (tag, text)
        # the figures are in the Images tab, pixel for pixel the PNGs saved in the run folder
        images = summaries.read_images(run)
        assert set(images) == FIGURES[name]
        for tag, events in images.items():
            ((step, (png,)),) = events  # one picture, at the run's last step
            assert step == {"mlp": 1, "sine": 200}[name], tag
            saved = (run / tag.rsplit("/", 1)[-1]).with_suffix(".png")
            np.testing.assert_array_equal(_pixels(png), _pixels(saved.read_bytes()), tag)
        # the HParams row is named after the run folder, not a hash of the values
        assert summaries.read_trial_id(run) == run.name


# -- the browser check ---------------------------------------------------------------------


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (its fds 3 and 4).

    Messages are JSON objects ending in a NUL byte; replies carry the request's ``id``.
    """

    def __init__(self, exe: str, profile: Path) -> None:
        commands_r, self._commands = os.pipe()
        self._replies, replies_w = os.pipe()

        def place_pipes() -> None:  # in the child, before exec: fds 3 and 4, inheritable
            a, b = os.dup(commands_r), os.dup(replies_w)  # above 4 whatever they were
            os.dup2(a, 3)
            os.dup2(b, 4)

        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        flags += [
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "--window-size=1400,1000",
        ]
        self.proc = subprocess.Popen(
            [exe, *flags, "about:blank"],
            preexec_fn=place_pipes,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_r)
        os.close(replies_w)
        self._buffer, self._id = b"", 0

    def call(self, method: str, session: str | None = None, **params):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._replies, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed its DevTools pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url: str) -> str:
        """A new tab on ``url``; returns its session id."""
        target = self.call("Target.createTarget", url=url)["targetId"]
        return self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def evaluate(self, session: str, expression: str):
        reply = self.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
        return reply["result"].get("value")

    def screenshot(self, session: str, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", session)["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close")
            self.proc.wait(timeout=20)
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(timeout=20)
        finally:
            os.close(self._commands)
            os.close(self._replies)


# the page's text, shadow roots included (TensorBoard's dashboards are Polymer elements), and
# the TensorBoard images it shows with their loaded width (0: not loaded)
PAGE = """(() => {
  const texts = [document.body ? document.body.innerText : ""], images = [];
  const walk = (root) => { for (const el of root.querySelectorAll("*")) {
    if (el.shadowRoot) { texts.push(el.shadowRoot.textContent); walk(el.shadowRoot); }
    if (el.tagName === "IMG" && el.src.includes("/data/plugin/images/"))
      images.push([decodeURIComponent(el.src), el.complete ? el.naturalWidth : 0]);
  } };
  walk(document);
  return {text: texts.join(" ").replace(/\\s+/g, " "), images: images};
})()"""


def _wait_for(check, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, f"gave up waiting for {what}"
            return result
        time.sleep(0.5)


def _run_and_tag(src: str) -> str:
    """``"run tag"`` of an Images-tab picture, from its URL's ``blob_key`` (base64 of a JSON
    list ``[experiment, run, tag, step, index]`` in TensorBoard 2.21)."""
    key = parse_qs(urlparse(src).query)["blob_key"][0]
    _, run, tag, *_ = json.loads(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
    return f"{run} {tag}"


def _runs(base: str) -> list[str]:
    try:
        with urllib.request.urlopen(f"{base}/data/runs", timeout=5) as response:
            return json.loads(response.read().decode())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return []


@pytest.mark.network_local
def test_tensorboard_in_a_browser_shows_three_trainers_apart(small_mnist, tmp_path):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install -y chromium)")
    logdir = tmp_path / "runs"
    runs = {"mlp": _mlp(small_mnist, logdir), "sine": _sine(logdir), "a2c": _a2c(logdir)}
    names = {trainer: run.name for trainer, run in runs.items()}

    port = free_port()
    board = "from tfcourse.cli import main; raise SystemExit(main())"
    serve = ["tensorboard", "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [sys.executable, "-c", board, *serve],
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    browser = None
    try:

        def listed() -> bool:  # or the server stopped: said below
            return server.poll() is not None or set(_runs(base)) >= set(names.values())

        _wait_for(listed, "TensorBoard to list the three runs", timeout=120)
        assert server.poll() is None, server.stderr.read().decode()[-2000:]
        browser = Chromium(exe, tmp_path / "chromium")

        def page(tab: str, ready) -> dict:
            session = browser.open(f"{base}/#{tab}")
            seen = _wait_for(lambda: ready(browser.evaluate(session, PAGE)), f"the {tab} tab")
            browser.screenshot(session, logdir / f"{tab.split('&')[0]}.png")
            return seen

        def loaded(seen: dict) -> set[str]:  # "run tag" of every image shown and loaded
            return {_run_and_tag(src) for src, width in seen["images"] if width > 0}

        wanted = {f"{names[t]} {tag}" for t, tags in FIGURES.items() for tag in tags}
        images = page("images&tagFilter=figures", lambda seen: loaded(seen) >= wanted and seen)
        assert "No image data was found" not in images["text"]

        def hparams_ready(seen: dict) -> dict | None:
            table = seen["text"].partition("Trial ID")[2]
            return seen if all(name in table for name in names.values()) else None

        page("hparams", hparams_ready)

        # one chart per trainer, headed by its display name: "mlp/losses/train (x: epoch)"
        charts = {"mlp": "losses/train", "sine": "charts/mse", "a2c": "charts/episodic_return"}
        tags = [f"{trainer}/{short}" for trainer, short in charts.items()]
        headings = {f"{tag} (x: {UNITS[tag.split('/')[0]]}) tag: {tag}" for tag in tags}

        def scalars_ready(seen: dict) -> dict | None:
            return seen if all(h in seen["text"] for h in headings) else None

        page(f"scalars&tagFilter={quote('|'.join(tags))}", scalars_ready)
    finally:
        if browser is not None:
            browser.close()
        stop_server(server)
    for tab in ("images", "hparams", "scalars"):
        assert (logdir / f"{tab}.png").read_bytes()[:4] == b"\x89PNG"
