"""Benchmark: tfcourse's A2C against the tutorial's eager loop and (when installed) SB3's A2C.

One run of this script does every part, one after the other, on the same machine: (a)-(c) in
this process, (e) in a child process (``scripts/sb3_a2c.py``) so that torch and TensorFlow never
share a process (with torch builds that bring triton they crash it: exit 139). Side by side
matters: this machine is shared and noisy, so absolute steps/s drift from run to run, but a
ratio measured minutes apart in one run is far more stable than figures from separate runs.
A part that fails (an exception here, a crash or non-zero exit of the child) is named on
stdout and under ``failed_parts`` in the JSON; the other parts still run and report.

(a) tutorial  -- the loop of tutorial 2 on CartPole-v1: ONE ``gymnasium`` env, one EAGER call of
    the tfcourse ``ActorCritic`` per step and one eager ``tf.random.categorical`` per step,
    transitions in Python lists, an update every 64 steps (the tutorial's backward returns
    loop, gamma 0.95, ``A = R - V``, an eager ``GradientTape`` over tfcourse's ``total_loss``
    with critic 0.5, entropy 0.05, summed actor term, ``Adam(1e-3)``). No TensorFlow seed (a
    global seed would make every eager sampling call build a new kernel). env steps/s over
    ``--tutorial-steps`` steps after a 64-step warm-up.
(b) speed and memory -- ``A2CTrainer`` on CartPole-v1 with its default preset for
    ``--warmup-steps + --bench-steps`` env steps (300k by default): env steps/s of the updates
    after the warm-up (tracing and XLA happen in the first update), speedup = (b) / (a), and
    ``rss_growth_mb``: VmRSS growth from the end of the warm-up to the last update.
(c) stability -- for each env, each seed: a full run with the env's preset (``--env`` alone):
    ``solve_steps`` = first env step where the mean of the last 100 finished training
    episodes reaches the env's ``target_return`` (475 CartPole-v1, -100 Acrobot-v1; ``null`` if
    never), ``min_after`` = the lowest such mean after that step, ``greedy`` = mean and std of
    ``--eval-episodes`` greedy episodes at the end. CartPole: ``--cartpole-seeds`` x
    ``--cartpole-steps``; Acrobot: ``--acrobot-seeds`` x ``--acrobot-steps``.
(e) Stable-Baselines3 -- when ``stable_baselines3`` and ``torch`` are installed (``pip install
    -e ".[compare]"``) and not ``--no-sb3``: ``scripts/sb3_a2c.py`` in a child process, per env:
    SB3's A2C with RL-Zoo's settings (CartPole-v1: 8 envs, ent_coef 0; Acrobot-v1: 16 envs,
    VecNormalize of observations and rewards, ent_coef 0), ``torch.set_num_threads(1)``, seed =
    the first seed of (c), the same budget: steps and wall seconds to solve (same rule, from
    SB3's 100-episode buffer), wall seconds, env steps/s, greedy score over the same number of
    episodes; next to the (c) run of the same env and seed (``speed_ratio`` = ours / SB3, both
    over the whole training loop, our compilation included). Without SB3 it prints one line
    saying so and skips this part.

Targets (checked only at the full budgets): speedup >= 30; every CartPole seed solves within
150,000 steps and its 100-episode mean never falls below 450 afterwards, greedy 500 +- 0;
every Acrobot seed solves within 100,000 steps, greedy >= -85; env steps/s >= 1.5x SB3's on
CartPole-v1 (the default preset; issue 15's "stays >= 1.5x"); rss_growth_mb < 50. The Acrobot
ratio (``sb3_speed_ratio_acrobot``) is printed but is not a target: both sides spend about 35 us
of every env step in Acrobot's own Python physics (gymnasium has no vectorised Acrobot), which
leaves the ratio at 1.25-1.55x depending on the machine's load.

Prints progress lines and tables, the machine's facts, then as the last stdout line one JSON
object. Exit code 0 whether or not the targets are met (this is a report), 1 when a part
failed. Run: ``python scripts/bench_a2c.py``
(about 10 minutes on a quiet 2-core machine, 40-60 on a loaded one), or ``--quick`` for a
smoke run with tiny budgets (not expected to solve). Runs go to a temporary directory unless
``--logdir`` is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from tfcourse.settings import import_tensorflow_quietly

import_tensorflow_quietly()  # first: TensorFlow's C++ start-up lines stay off stderr

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf
from benchkit import Target, check_targets, rss_mb, run_and_report, target_lines

from tfcourse.rl.a2c import total_loss
from tfcourse.rl.config import A2CConfig
from tfcourse.rl.model import build_model
from tfcourse.rl.returns import advantages_from_returns, discounted_returns_loop
from tfcourse.rl.trainer import A2CTrainer

ENV_ID = "CartPole-v1"
ACROBOT = "Acrobot-v1"
# the tutorial's constants
TUTORIAL_BATCH = 64
TUTORIAL_GAMMA = 0.95
TUTORIAL_LR = 1e-3
TUTORIAL_CRITIC, TUTORIAL_ENTROPY = 0.5, 0.05
SB3_MISSING = "SB3 not installed: side-by-side skipped (pip install -e '.[compare]')"
SB3_SCRIPT = Path(__file__).resolve().with_name("sb3_a2c.py")  # the child of (e)
SB3_TIMEOUT = 3600.0  # seconds per env; a 500k-step Acrobot run takes 2-10 minutes
T = TypeVar("T")
FULL = (("cartpole_steps", ">=", 300_000), ("eval_episodes", ">=", 100))
FULL_ACRO = (("acrobot_steps", ">=", 500_000), ("eval_episodes", ">=", 100))
LONG = (("bench_steps", ">=", 250_000),)  # RSS growth means something over a long run only
TARGETS = [
    Target("speedup_min", "speedup", 30.0, needs=(("tutorial_steps", ">=", 3000),)),
    Target("cartpole_solved_fraction_min", "cartpole_solved_150k_fraction", 1.0, needs=FULL),
    Target("cartpole_held_fraction_min", "cartpole_held_450_fraction", 1.0, needs=FULL),
    Target("cartpole_greedy_min", "cartpole_greedy_worst", 500.0, needs=FULL),
    Target("cartpole_greedy_std_max", "cartpole_greedy_std_worst", 0.0, at_most=True, needs=FULL),
    Target("acrobot_solved_fraction_min", "acrobot_solved_100k_fraction", 1.0, needs=FULL_ACRO),
    Target("acrobot_greedy_min", "acrobot_greedy_worst", -85.0, needs=FULL_ACRO),
    Target("sb3_speed_ratio_min", "sb3_speed_ratio_cartpole", 1.5, needs=FULL),
    Target("rss_growth_mb_max", "rss_growth_mb", 50.0, at_most=True, needs=LONG),
]


@dataclass
class Args:
    tutorial_steps: int = 3000  # (a): timed env steps of the tutorial loop
    warmup_steps: int = 20_000  # (b): untimed steps first (tracing, XLA); also the RSS baseline
    bench_steps: int = 280_000  # (b): timed env steps after the warm-up
    cartpole_seeds: list[int] = field(default_factory=lambda: list(range(1, 11)))  # (c)
    cartpole_steps: int = 300_000  # (c): env steps per CartPole seed
    acrobot_seeds: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])  # (c)
    acrobot_steps: int = 500_000  # (c): env steps per Acrobot seed
    eval_episodes: int = 100  # (c), (e): greedy episodes at the end of each run
    seed: int = 1  # seed of (a) (env only) and (b)
    no_sb3: bool = False  # skip (e) even when SB3 is installed
    logdir: str = ""  # parent dir of the run dirs ("" = a temporary dir, removed at the end)
    quick: bool = False  # tiny budgets for a smoke test


QUICK = {
    "tutorial_steps": 300,
    "warmup_steps": 512,
    "bench_steps": 1536,
    "cartpole_seeds": [1],
    "cartpole_steps": 3072,
    "acrobot_seeds": [1],
    "acrobot_steps": 2048,
    "eval_episodes": 3,
}


def parse_args(argv: list[str] | None = None) -> Args:
    """Flags from :class:`Args`; ``--quick`` changes the defaults of the flags not given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for f in dataclasses.fields(Args):
        flag = "--" + f.name.replace("_", "-")
        if f.name in ("quick", "no_sb3"):
            quick = f.name == "quick"
            what = f"tiny budgets: {json.dumps(QUICK)}" if quick else "skip the SB3 side-by-side"
            parser.add_argument(flag, action="store_true", default=argparse.SUPPRESS, help=what)
        elif f.name.endswith("seeds"):
            parser.add_argument(flag, type=int, nargs="+", default=argparse.SUPPRESS)
        else:
            parser.add_argument(flag, type=type(f.default), default=argparse.SUPPRESS)
    given = vars(parser.parse_args(argv))
    base = {**QUICK, "quick": True} if given.get("quick") else {}
    args = Args(**{**base, **given})
    if min(args.tutorial_steps, args.eval_episodes) < 1 or args.bench_steps < 256:
        parser.error("need --tutorial-steps >= 1, --eval-episodes >= 1, --bench-steps >= 256")
    if min(args.warmup_steps, args.cartpole_steps, args.acrobot_steps) < 256:
        parser.error("--warmup-steps, --cartpole-steps and --acrobot-steps must be >= 256")
    return args


def log(message: str) -> None:
    print(message, flush=True)


def attempt(part: str, failed: dict[str, str], work: Callable[[], T]) -> T | None:
    """``work()``, or None when it raises: the error is printed and kept as ``failed[part]``."""
    try:
        return work()
    except Exception as exc:  # a report names the failed part and goes on with the others
        failed[part] = f"{type(exc).__name__}: {exc}"
        log(f"{part} FAILED: {failed[part]}")
        traceback.print_exc(file=sys.stderr)
        return None


# --------------------------------------------------------------------------------------------
# (a) the tutorial-style loop


def bench_tutorial(args: Args) -> dict[str, float]:
    """Tutorial 2's loop: returns env steps/s, RSS growth and the mean episode return seen."""
    env = gym.make(ENV_ID)
    model = build_model(env.observation_space.shape[0], int(env.action_space.n))
    optimizer = keras.optimizers.Adam(TUTORIAL_LR)
    obs, _ = env.reset(seed=args.seed)
    states: list[np.ndarray] = []
    actions: list[int] = []
    rewards: list[float] = []
    dones: list[float] = []
    values: list[float] = []
    episode_return, episode_returns = 0.0, []

    def update() -> None:
        next_value, _ = model(obs[None])  # eager bootstrap V(s_T)
        returns = discounted_returns_loop(
            np.array(rewards, np.float32), np.array(dones), TUTORIAL_GAMMA, float(next_value[0])
        )
        advantages = advantages_from_returns(returns, np.array(values, np.float32))
        with tf.GradientTape() as tape:
            v, logits = model(np.stack(states))
            losses = total_loss(
                logits,
                v,
                np.array(actions),
                returns,
                advantages,
                critic_coef=TUTORIAL_CRITIC,
                entropy_coef=TUTORIAL_ENTROPY,
                reduction="sum",
            )
        grads = tape.gradient(losses["total"], model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        for buffer in (states, actions, rewards, dones, values):
            buffer.clear()

    def run(n_steps: int) -> None:
        nonlocal obs, episode_return
        for _ in range(n_steps):
            value, logits = model(obs[None])  # one eager model call per step
            action = int(tf.random.categorical(logits, 1)[0, 0])  # one eager sampling op
            new_obs, reward, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
            states.append(obs)
            actions.append(action)
            rewards.append(float(reward))
            dones.append(float(done))
            values.append(float(value[0]))
            episode_return += float(reward)
            obs = new_obs
            if done:
                episode_returns.append(episode_return)
                episode_return = 0.0
                obs, _ = env.reset()
            if len(rewards) == TUTORIAL_BATCH:
                update()

    run(TUTORIAL_BATCH)  # warm-up: first calls and the first update
    rss0, t0 = rss_mb(), time.perf_counter()
    run(args.tutorial_steps)
    seconds = time.perf_counter() - t0
    env.close()
    return {
        "steps_per_s": args.tutorial_steps / seconds,
        "seconds": seconds,
        "rss_growth_mb": rss_mb() - rss0,
        "mean_return": float(np.mean(episode_returns)) if episode_returns else math.nan,
    }


# --------------------------------------------------------------------------------------------
# (b) speed and memory, (c) stability: tfcourse's trainer


class UpdateProbe:
    """An ``on_update`` callback of ``A2CTrainer.fit``: notes env steps, time, RSS and the
    mean of the last 100 finished episodes after every update.

    It marks the first update past the warm-up (tracing and XLA compilation happen in the
    first update) and the last one, so speed and memory growth are measured on the steady part.
    """

    def __init__(self, warmup_steps: int = 0, trainer: A2CTrainer | None = None) -> None:
        self.warmup_steps, self.trainer = warmup_steps, trainer
        self.mark: tuple[int, float, float] | None = None  # (steps, time, rss) after warm-up
        self.last: tuple[int, float, float] | None = None
        self.mean100: list[tuple[int, float]] = []  # (step, mean of the last 100) once 100

    def __call__(self, step: int, losses: dict[str, Any]) -> None:
        # synchronous on CPU: the update is done when the trainer calls back
        self.last = (step, time.perf_counter(), rss_mb())
        if self.mark is None and step >= self.warmup_steps:
            self.mark = self.last
        stats = self.trainer.stats if self.trainer is not None else None
        if stats is not None and len(stats.finished_episode_returns) == 100:
            self.mean100.append((step, stats.mean_return()))


def a2c_config(logdir: str, **overrides: Any) -> A2CConfig:
    return A2CConfig(logdir=logdir, progress=False, gif=False, **overrides)


def bench_tfcourse(args: Args, logdir: str) -> dict[str, float]:
    """(b): one CartPole run of warm-up + bench steps; steady steps/s and RSS growth."""
    total = args.warmup_steps + args.bench_steps
    trainer = A2CTrainer(
        a2c_config(logdir, name="speed", seed=args.seed, total_steps=total, eval_episodes=0)
    )
    probe = UpdateProbe(args.warmup_steps)
    metrics = trainer.fit(on_update=probe)
    (s0, t0, rss0), (s1, t1, rss1) = probe.mark, probe.last
    return {
        "steps_per_s": (s1 - s0) / (t1 - t0),
        "timed_steps": s1 - s0,
        "warmup_steps": s0,
        "steps_per_s_incl_compile": metrics["steps_per_s"],
        "rss_growth_mb": rss1 - rss0,
        "rss_mb_end": rss1,
    }


def finite(x: float) -> float | None:
    """``x``, or None for NaN/inf (strict JSON)."""
    return x if math.isfinite(x) else None


def stability(env: str, seed: int, steps: int, args: Args, logdir: str) -> dict[str, Any]:
    """(c): one full run of ``env``'s preset; solve step, lowest mean after it, greedy score."""
    cfg = a2c_config(
        logdir,
        env=env,
        name=f"{env}-seed{seed}",
        seed=seed,
        total_steps=steps,
        eval_episodes=args.eval_episodes,
    )
    trainer = A2CTrainer(cfg)
    probe = UpdateProbe(trainer=trainer)
    m = trainer.fit(on_update=probe)
    target = trainer.config.target_return
    solve = next((s for s, mean in probe.mean100 if mean >= target), None)
    after = [mean for s, mean in probe.mean100 if solve is not None and s >= solve]
    out = {
        "seed": seed,
        "solve_steps": solve,
        "solve_seconds": m["solved_seconds"],
        "min_after": min(after) if after else None,
        "greedy": m["mean_return"],
        "greedy_std": m["std_return"],
        "steps_per_s": m["steps_per_s"],
        "final_mean_return_100": finite(m["train_mean_return_100"]),
    }
    log(
        f"(c) {env} seed {seed}: solved at {solve if solve is not None else '-'}, min after "
        f"{out['min_after']}, greedy {out['greedy']:.1f} +- {out['greedy_std']:.1f}, "
        f"{out['steps_per_s']:,.0f} steps/s"
    )
    return out


# --------------------------------------------------------------------------------------------
# (e) Stable-Baselines3's A2C, same env, same budget


def sb3_available() -> bool:
    """SB3 and torch are installed (looked up, not imported: they never load in this process)."""
    return all(
        importlib.util.find_spec(name) is not None for name in ("stable_baselines3", "torch")
    )


def exit_reason(code: int) -> str:
    """``-11`` -> "killed by SIGSEGV (exit 139 in a shell)", ``1`` -> "exit code 1"."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name} (exit {128 - code} in a shell)"
    return f"exit code {code}"


def bench_sb3(
    env: str, seed: int, steps: int, episodes: int, target: float, timeout: float = SB3_TIMEOUT
) -> dict[str, Any]:
    """SB3's A2C on ``env`` in a child process (``scripts/sb3_a2c.py``).

    Returns:
        The child's figures (see its docstring).

    Raises:
        RuntimeError: the child crashed, failed or timed out; the message says how, with the
            end of its stderr.
    """
    cmd = [sys.executable, str(SB3_SCRIPT), "--env", env, "--seed", str(seed)]
    cmd += ["--steps", str(steps), "--episodes", str(episodes), "--target", str(target)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the SB3 process ran over {timeout:.0f} s and was stopped") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:]) or "no stderr"
        raise RuntimeError(f"the SB3 process ended with {exit_reason(done.returncode)}: {tail}")
    return json.loads(lines[-1])


def side_by_side(
    args: Args, ours: dict[str, list[dict[str, Any]]], failed: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """(e) for each env of (c), next to our run of its first seed; None when skipped.

    An env whose SB3 run fails (or whose own (c) run failed) is kept with its ``error`` and
    named in ``failed``; the other env still runs.
    """
    if args.no_sb3:
        log("SB3 side-by-side skipped (--no-sb3)")
        return None
    if not sb3_available():
        log(SB3_MISSING)
        return None
    failed = {} if failed is None else failed
    out: dict[str, Any] = {}
    for env, steps in ((ENV_ID, args.cartpole_steps), (ACROBOT, args.acrobot_steps)):
        mine = ours[env][0]
        part = f"(e) SB3 {env} seed {mine['seed']}"
        out[env] = {"seed": mine["seed"], "steps": steps, "tfcourse": mine}
        target = A2CConfig(env=env).resolved().target_return
        run_sb3 = partial(bench_sb3, env, mine["seed"], steps, args.eval_episodes, target)
        sb3 = attempt(part, failed, run_sb3)
        if sb3 is None:
            out[env]["sb3"] = {"error": failed[part]}
            continue
        ratio = mine["steps_per_s"] / sb3["steps_per_s"] if "error" not in mine else None
        sb3["speed_ratio"] = ratio
        out[env]["sb3"] = sb3
        log(
            f"(e) {env} seed {mine['seed']}: SB3 {sb3['steps_per_s']:,.0f} steps/s, solved at "
            f"{sb3['solve_steps']}, greedy {sb3['greedy']:.1f}; tfcourse "
            + ("failed" if ratio is None else f"{mine['steps_per_s']:,.0f} steps/s: {ratio:.2f}x")
        )
    return out


# --------------------------------------------------------------------------------------------


def fraction(values: list[Any], ok: Callable[[Any], bool]) -> float:
    return sum(v is not None and ok(v) for v in values) / max(1, len(values))


def rounded(x: float | None, digits: int = 1) -> float | None:
    return None if x is None else round(x, digits)


def env_runs(
    env: str, seeds: list[int], steps: int, args: Args, logdir: str, failed: dict[str, str]
) -> list[dict[str, Any]]:
    """(c) for every seed of ``env``; a run that fails is ``{"seed": s, "error": ...}``."""
    runs = []
    for seed in seeds:
        part = f"(c) {env} seed {seed}"
        out = attempt(part, failed, partial(stability, env, seed, steps, args, logdir))
        runs.append(out if out is not None else {"seed": seed, "error": failed[part]})
    return runs


def summary(runs: list[dict[str, Any]], key: str, reduce: Callable[[list[Any]], Any]) -> Any:
    """``reduce`` of ``key`` over ``runs``; None when one of them failed."""
    if any("error" in r for r in runs):
        return None
    return reduce([r[key] for r in runs])


def run(args: Args, logdir: str) -> dict[str, Any]:
    failed: dict[str, str] = {}  # part -> what went wrong
    log(
        f"(a) tutorial-style loop: 1 env, eager model call + eager sampling per step, update "
        f"every {TUTORIAL_BATCH} steps; timing {args.tutorial_steps:,} env steps"
    )
    # first: before any trainer sets a global TF seed
    tut = attempt("(a) tutorial loop", failed, partial(bench_tutorial, args))
    if tut is not None:
        log(f"(a) tutorial: {tut['steps_per_s']:,.1f} env steps/s ({tut['seconds']:.1f} s)")
    log(
        f"(b) tfcourse A2CTrainer on {ENV_ID}: {args.warmup_steps:,} warm-up steps, then "
        f"{args.bench_steps:,} timed steps"
    )
    tfc = attempt("(b) tfcourse speed", failed, partial(bench_tfcourse, args, logdir))
    speedup = None if tut is None or tfc is None else tfc["steps_per_s"] / tut["steps_per_s"]
    if tfc is not None:
        log(
            f"(b) tfcourse: {tfc['steps_per_s']:,.1f} env steps/s over {tfc['timed_steps']:,} "
            f"steps ({tfc['steps_per_s_incl_compile']:,.1f} incl. compile); speedup "
            f"{'-' if speedup is None else f'{speedup:.1f}x'}; "
            f"RSS growth {tfc['rss_growth_mb']:+.1f} MB"
        )
    ours = {
        ENV_ID: env_runs(ENV_ID, args.cartpole_seeds, args.cartpole_steps, args, logdir, failed),
        ACROBOT: env_runs(ACROBOT, args.acrobot_seeds, args.acrobot_steps, args, logdir, failed),
    }
    sb3 = side_by_side(args, ours, failed)
    cart, acro = ours[ENV_ID], ours[ACROBOT]
    tfc = tfc or {}
    ratio = {env: None if sb3 is None else sb3[env]["sb3"].get("speed_ratio") for env in ours}
    result: dict[str, Any] = {
        "steps_per_s_tutorial": rounded(tut and tut["steps_per_s"]),
        "steps_per_s_tfcourse": rounded(tfc.get("steps_per_s")),
        "speedup": rounded(speedup, 2),
        "rss_growth_mb": rounded(tfc.get("rss_growth_mb")),
        "runs": ours,
        "sb3": sb3,
        "cartpole_solved_150k_fraction": summary(
            cart, "solve_steps", lambda v: fraction(v, lambda s: s <= 150_000)
        ),
        "cartpole_held_450_fraction": summary(
            cart, "min_after", lambda v: fraction(v, lambda m: m >= 450)
        ),
        "cartpole_greedy_worst": summary(cart, "greedy", min),
        "cartpole_greedy_std_worst": summary(cart, "greedy_std", max),
        "acrobot_solved_100k_fraction": summary(
            acro, "solve_steps", lambda v: fraction(v, lambda s: s <= 100_000)
        ),
        "acrobot_greedy_worst": summary(acro, "greedy", min),
        # the target is the default preset's (CartPole); Acrobot's ratio is reported only:
        # Acrobot's own Python physics costs both sides ~35 us of every env step
        "sb3_speed_ratio_cartpole": ratio[ENV_ID],
        "sb3_speed_ratio_acrobot": ratio[ACROBOT],
        "steps_per_s_tfcourse_incl_compile": rounded(tfc.get("steps_per_s_incl_compile")),
        "tfcourse_timed_steps": tfc.get("timed_steps"),
        "rss_mb_end": rounded(tfc.get("rss_mb_end")),
        "failed_parts": failed,
        "args": dataclasses.asdict(args),
        "quick": args.quick,
        "tf_version": tf.__version__,
        "keras_version": keras.__version__,
        "gymnasium_version": gym.__version__,
    }
    no_sb3 = "not checked: SB3 skipped" if sb3 is None else "not checked: the side-by-side failed"
    why_missing = {
        "speedup": "not checked: part (a) or (b) failed",
        "rss_growth_mb": "not checked: part (b) failed",
        "sb3_speed_ratio_cartpole": no_sb3,
    }
    for key in result:
        if key.startswith(("cartpole_", "acrobot_")):
            env = ENV_ID if key.startswith("cartpole_") else ACROBOT
            why_missing[key] = f"not checked: a run of (c) on {env} failed"
    return {**result, **check_targets(args, result, TARGETS, why_missing)}


def report(r: dict[str, Any]) -> None:
    fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    print(f"\nA2C speed on {ENV_ID}")
    print(f"{'method':<24}{'env steps/s':>12}{'tfcourse x':>12}")
    ours = r["steps_per_s_tfcourse"]
    for name, key in (
        ("tutorial eager loop", "steps_per_s_tutorial"),
        ("tfcourse A2CTrainer", "steps_per_s_tfcourse"),
    ):
        times = None if ours is None or r[key] is None else ours / r[key]
        print(f"{name:<24}{fmt(r[key], ',.1f'):>12}{fmt(times, '.1f'):>11}x")
    for env, runs in r["runs"].items():
        print(
            f"\n{env}: {'seed':>4}{'solve steps':>12}{'min after':>10}{'greedy':>14}{'steps/s':>9}"
        )
        for x in runs:
            if "error" in x:
                print(f"{'':<{len(env) + 2}}{x['seed']:>4}  FAILED: {x['error']}")
                continue
            greedy = f"{x['greedy']:.1f} +- {x['greedy_std']:.1f}"
            solve, low = fmt(x["solve_steps"], ","), fmt(x["min_after"], ".1f")
            print(
                f"{'':<{len(env) + 2}}{x['seed']:>4}{solve:>12}{low:>10}{greedy:>14}"
                f"{x['steps_per_s']:>9,.0f}"
            )
    if r["sb3"]:
        print(
            f"\n{'side by side':<28}{'solve steps':>12}{'solve s':>9}{'wall s':>8}"
            f"{'steps/s':>9}{'greedy':>9}"
        )
        for env, v in r["sb3"].items():
            mine, theirs = v["tfcourse"], v["sb3"]
            for who, x in (("SB3 A2C", theirs), ("tfcourse", mine)):
                name = f"{who} {env} s{v['seed']}"
                if "error" in x:
                    print(f"{name:<28}FAILED: {x['error']}")
                    continue
                wall = x.get("seconds", v["steps"] / x["steps_per_s"])  # ours: steps / speed
                print(
                    f"{name:<28}{fmt(x['solve_steps'], ','):>12}{fmt(x['solve_seconds'], '.1f'):>9}"
                    f"{wall:>8.1f}{x['steps_per_s']:>9,.0f}{x['greedy']:>9.1f}"
                )
            ratio = fmt(theirs.get("speed_ratio"), ".2f")
            print(f"{'':<28}tfcourse / SB3 env steps/s: {ratio}x")
    print()
    for line in target_lines(r):
        print(line)
    failed = r["failed_parts"]
    print("failed parts: " + ("; ".join(f"{k}: {v}" for k, v in failed.items()) or "none"))


def main(argv: list[str] | None = None) -> int:
    return run_and_report(parse_args(argv), run, report, "bench_a2c_")


if __name__ == "__main__":
    raise SystemExit(main())
