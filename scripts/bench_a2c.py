"""Benchmark: the tutorial's one-env eager A2C loop vs tfcourse's A2C trainer on CartPole-v1.

Everything runs in ONE process, one part after the other. Side by side matters: this machine is
shared and noisy, so absolute steps/s drift from run to run, but a ratio measured minutes apart
in one process is far more stable than figures from separate runs.

(a) tutorial  -- the loop of tutorial 2: ONE ``gymnasium`` CartPole-v1 env, one EAGER call of the
    tfcourse ``ActorCritic`` network per step and one eager ``tf.random.categorical`` per step,
    transitions kept in Python lists, and every 64 steps an update: the tutorial's backward
    returns loop (``discounted_returns_loop``, gamma 0.95, bootstrapped from an eager ``V(s_T)``),
    ``A = R - V``, then an eager ``GradientTape`` over tfcourse's ``total_loss`` with the
    tutorial's weights (critic 0.5, entropy 0.05, summed actor term) and ``Adam(1e-3)``.
    Like the tutorial, it sets no TensorFlow seed (a global seed would make every eager sampling
    call build a new kernel). The first 64 steps and their update are a warm-up; env steps/s
    are timed over the next ``--tutorial-steps`` steps, updates included.
(b) tfcourse  -- ``A2CTrainer`` with preset ``fast`` (16 envs x 16 steps per compiled XLA update)
    for ``--warmup-steps + --bench-steps`` env steps. The trainer's own ``steps_per_s`` includes
    tracing and XLA compilation, so the script times the trainer's updates itself (it wraps the
    trainer's compiled update; the trainer has no callback hook) and reports env steps/s over
    the last ``--bench-steps`` steps only. speedup = (b) / (a).
(c) convergence -- for each of ``--seeds``: preset ``fast``, at most ``--max-steps`` env steps,
    ``stop_when_solved``: env steps and wall seconds (from the start of training, compilation
    included) until the mean return of the last 100 episodes reaches 475; ``null`` if never.
    ``median_solve_steps`` is the median over ALL seeds with an unsolved seed counted as +inf;
    it is ``null`` when that median is itself unsolved (i.e. half the seeds or more failed).
(d) memory -- ``rss_growth_mb``: growth of VmRSS (``/proc/self/status``) during run (b), from the
    end of its warm-up (after ``--warmup-steps`` steps) to its last update.

Targets: speedup >= 30; at least 80% of the seeds (4 of 5) solve within ``--max-steps``;
median_solve_steps <= 200,000; every solved seed within 60 s (``max_solve_seconds``, the slowest
solve; not met if no seed solves); rss_growth_mb < 50.

Prints progress lines and a table, then as the last stdout line one JSON object. Exit code 0
whether or not the targets are met: this is a report. Run: ``python scripts/bench_a2c.py``
(about 3-5 minutes), or ``--quick`` for a smoke run with tiny budgets (not expected to solve).
Runs are written under a temporary directory unless ``--logdir`` is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf
from benchkit import rss_mb, run_and_report

from tfcourse.rl.a2c import build_model, total_loss
from tfcourse.rl.config import A2CConfig
from tfcourse.rl.returns import advantages_from_returns, discounted_returns_loop
from tfcourse.rl.trainer import A2CTrainer

ENV_ID = "CartPole-v1"
TARGET_RETURN = 475.0
# the tutorial's constants
TUTORIAL_BATCH = 64
TUTORIAL_GAMMA = 0.95
TUTORIAL_LR = 1e-3
TUTORIAL_CRITIC, TUTORIAL_ENTROPY = 0.5, 0.05
TARGETS = {
    "speedup_min": 30.0,
    "solved_fraction_min": 0.8,  # 4 of 5 seeds
    "median_solve_steps_max": 200_000,
    "solve_seconds_max": 60.0,
    "rss_growth_mb_max": 50.0,
}


@dataclass
class Args:
    tutorial_steps: int = 3000  # timed env steps of the tutorial loop (after a 64-step warm-up)
    warmup_steps: int = 20_000  # (b): untimed steps first (tracing, XLA); also the RSS baseline
    bench_steps: int = 60_000  # (b): timed env steps after the warm-up
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])  # (c)
    max_steps: int = 300_000  # (c): env-step budget per seed
    seed: int = 1  # seed of (a) (env only) and (b)
    logdir: str = ""  # parent dir of the run dirs ("" = a temporary dir, removed at the end)
    quick: bool = False  # tiny budgets for a smoke test


QUICK = {"tutorial_steps": 300, "warmup_steps": 512, "bench_steps": 1536, "seeds": [1],
         "max_steps": 3000}  # fmt: skip


def parse_args(argv: list[str] | None = None) -> Args:
    """Flags from :class:`Args`; ``--quick`` changes the defaults of the flags not given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for f in dataclasses.fields(Args):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "quick":
            parser.add_argument(flag, action="store_true", default=argparse.SUPPRESS,
                                help="tiny budgets: " + json.dumps(QUICK))  # fmt: skip
        elif f.name == "seeds":
            parser.add_argument(flag, type=int, nargs="+", default=argparse.SUPPRESS)
        else:
            parser.add_argument(flag, type=type(f.default), default=argparse.SUPPRESS)
    given = vars(parser.parse_args(argv))
    base = {**QUICK, "quick": True} if given.get("quick") else {}
    args = Args(**{**base, **given})
    if args.tutorial_steps < 1 or args.bench_steps < 256 or args.max_steps < 256:
        parser.error("need --tutorial-steps >= 1, --bench-steps >= 256 and --max-steps >= 256")
    if args.warmup_steps < 256:
        parser.error("--warmup-steps must be >= 256 (one update of the fast preset)")
    return args


def log(message: str) -> None:
    print(message, flush=True)


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
        returns = discounted_returns_loop(np.array(rewards, np.float32), np.array(dones),
                                          TUTORIAL_GAMMA, float(next_value[0]))  # fmt: skip
        advantages = advantages_from_returns(returns, np.array(values, np.float32))
        with tf.GradientTape() as tape:
            v, logits = model(np.stack(states))
            losses = total_loss(logits, v, np.array(actions), returns, advantages,
                                critic_coef=TUTORIAL_CRITIC, entropy_coef=TUTORIAL_ENTROPY,
                                reduction="sum")  # fmt: skip
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
# (b)-(d) tfcourse's trainer


class UpdateProbe:
    """An ``on_update`` callback of ``A2CTrainer.train``: notes env steps, time and RSS.

    Called after every update, it marks the first update past the warm-up (tracing and XLA
    compilation happen in the first update) and the last one, so speed and memory growth are
    measured on the steady part of the run.
    """

    def __init__(self, warmup_steps: int) -> None:
        self.warmup_steps = warmup_steps
        self.mark: tuple[int, float, float] | None = None  # (steps, time, rss) after warm-up
        self.last: tuple[int, float, float] | None = None

    def __call__(self, step: int, losses: dict[str, Any]) -> None:
        # synchronous on CPU: the update is done when the trainer calls back
        self.last = (step, time.perf_counter(), rss_mb())
        if self.mark is None and step >= self.warmup_steps:
            self.mark = self.last


def a2c_config(logdir: str, **overrides: Any) -> A2CConfig:
    return A2CConfig(preset="fast", logdir=logdir, progress=False, eval_episodes=0, gif=False,
                     **overrides)  # fmt: skip


def bench_tfcourse(args: Args, logdir: str) -> dict[str, float]:
    """(b) and (d): one run of warm-up + bench steps; steady steps/s and RSS growth."""
    trainer = A2CTrainer(
        a2c_config(
            logdir, name="speed", seed=args.seed, total_steps=args.warmup_steps + args.bench_steps
        )
    )
    probe = UpdateProbe(args.warmup_steps)
    metrics = trainer.train(on_update=probe)
    (s0, t0, rss0), (s1, t1, rss1) = probe.mark, probe.last
    return {"steps_per_s": (s1 - s0) / (t1 - t0), "timed_steps": s1 - s0,
            "warmup_steps": s0, "steps_per_s_incl_compile": metrics["steps_per_s"],
            "rss_growth_mb": rss1 - rss0, "rss_mb_end": rss1,
            "mean_return_100": metrics["train_mean_return_100"]}  # fmt: skip


def convergence(args: Args, logdir: str) -> list[dict[str, Any]]:
    """(c): each seed until solved or ``max_steps``."""
    out = []
    for seed in args.seeds:
        trainer = A2CTrainer(a2c_config(logdir, name=f"solve_seed{seed}", seed=seed,
                                        total_steps=args.max_steps, stop_when_solved=True,
                                        target_return=TARGET_RETURN))  # fmt: skip
        m = trainer.train()
        solved_seconds = None if m["solved_seconds"] is None else round(m["solved_seconds"], 1)
        out.append({"seed": seed, "solve_steps": m["solved_step"],
                    "solve_seconds": solved_seconds, "steps": m["steps_completed"],
                    "mean_return_100": m["train_mean_return_100"]})  # fmt: skip
        status = (f"solved at {m['solved_step']:,} steps in {solved_seconds:.1f} s"
                  if m["solved_step"] is not None else
                  f"NOT solved in {m['steps_completed']:,} steps")  # fmt: skip
        log(
            f"(c) seed {seed}: {status} (mean return of last 100: "
            f"{m['train_mean_return_100']:.1f}, {m['steps_per_s']:,.0f} steps/s)"
        )
    return out


def median_solve_steps(steps: list[int | None]) -> float | None:
    """Median with unsolved seeds as +inf; None if the median is unsolved (or no seeds)."""
    if not steps:
        return None
    median = float(np.median([math.inf if s is None else s for s in steps]))
    return None if math.isinf(median) or math.isnan(median) else median


# --------------------------------------------------------------------------------------------


def run(args: Args, logdir: str) -> dict[str, Any]:
    log(
        f"(a) tutorial-style loop: 1 env, eager model call + eager sampling per step, update "
        f"every {TUTORIAL_BATCH} steps; timing {args.tutorial_steps:,} env steps"
    )
    tut = bench_tutorial(args)  # first: before any trainer sets a global TF seed
    log(f"(a) tutorial: {tut['steps_per_s']:,.1f} env steps/s ({tut['seconds']:.1f} s)")

    log(
        f"(b) tfcourse A2CTrainer preset fast: {args.warmup_steps:,} warm-up steps, then "
        f"{args.bench_steps:,} timed steps"
    )
    tfc = bench_tfcourse(args, logdir)
    speedup = tfc["steps_per_s"] / tut["steps_per_s"]
    log(
        f"(b) tfcourse: {tfc['steps_per_s']:,.1f} env steps/s over {tfc['timed_steps']:,} steps "
        f"({tfc['steps_per_s_incl_compile']:,.1f} incl. compile); speedup {speedup:.1f}x"
    )
    log(
        f"(d) RSS growth after warm-up: {tfc['rss_growth_mb']:+.1f} MB "
        f"(RSS {tfc['rss_mb_end']:.0f} MB at the end)"
    )

    log(
        f"(c) convergence: seeds {args.seeds}, up to {args.max_steps:,} steps, "
        f"stop when the mean of the last 100 returns >= {TARGET_RETURN:g}"
    )
    seeds = convergence(args, logdir)
    solve_steps = [s["solve_steps"] for s in seeds]
    solve_seconds = [s["solve_seconds"] for s in seeds]
    solved = sum(s is not None for s in solve_steps)
    done_seconds = [s for s in solve_seconds if s is not None]
    max_seconds = max(done_seconds) if done_seconds else None
    median = median_solve_steps(solve_steps)

    sps_tut, sps_tfc = round(tut["steps_per_s"], 1), round(tfc["steps_per_s"], 1)
    result: dict[str, Any] = {
        "steps_per_s_tutorial": sps_tut,
        "steps_per_s_tfcourse": sps_tfc,
        "speedup": round(sps_tfc / sps_tut, 2),
        "solve_steps": solve_steps,
        "solve_seconds": solve_seconds,
        "median_solve_steps": median,
        "solved": solved,
        "max_solve_seconds": max_seconds,
        "rss_growth_mb": round(tfc["rss_growth_mb"], 1),
        "seeds": list(args.seeds),
        "max_steps": args.max_steps,
        "final_mean_return_100": [round(s["mean_return_100"], 1) for s in seeds],
        "steps_per_s_tfcourse_incl_compile": round(tfc["steps_per_s_incl_compile"], 1),
        "tfcourse_timed_steps": tfc["timed_steps"],
        "tfcourse_warmup_steps": tfc["warmup_steps"],
        "tutorial_steps": args.tutorial_steps,
        "tutorial_rss_growth_mb": round(tut["rss_growth_mb"], 1),
        "rss_mb_end": round(tfc["rss_mb_end"], 1),
        "quick": args.quick,
        "tf_version": tf.__version__, "keras_version": keras.__version__,
        "gymnasium_version": gym.__version__,
    }  # fmt: skip
    n = len(args.seeds)
    met = {
        "speedup_min": result["speedup"] >= TARGETS["speedup_min"],
        "solved_fraction_min": n > 0 and solved >= math.ceil(TARGETS["solved_fraction_min"] * n),
        "median_solve_steps_max": median is not None
        and median <= TARGETS["median_solve_steps_max"],
        "solve_seconds_max": max_seconds is not None
        and max_seconds <= TARGETS["solve_seconds_max"],
        "rss_growth_mb_max": result["rss_growth_mb"] < TARGETS["rss_growth_mb_max"],
    }
    return {**result, "targets": dict(TARGETS), "targets_met": {k: bool(v) for k, v in met.items()}}


def report(r: dict[str, Any]) -> None:
    print(f"\nA2C on {ENV_ID}")
    print(f"{'method':<24}{'env steps/s':>12}{'tfcourse x':>12}")
    for name, key in (("tutorial eager loop", "steps_per_s_tutorial"),
                      ("tfcourse A2CTrainer", "steps_per_s_tfcourse")):  # fmt: skip
        print(f"{name:<24}{r[key]:>12,.1f}{r['steps_per_s_tfcourse'] / r[key]:>11.1f}x")
    print(f"{'seed':<6}{'solve steps':>12}{'seconds':>9}")
    for seed, steps, secs in zip(r["seeds"], r["solve_steps"], r["solve_seconds"], strict=True):
        print(
            f"{seed:<6}{'-' if steps is None else f'{steps:,}':>12}"
            f"{'-' if secs is None else f'{secs:.1f}':>9}"
        )
    t, met = r["targets"], r["targets_met"]
    lines = {
        "speedup_min": f"speedup {r['speedup']} >= {t['speedup_min']}",
        "solved_fraction_min": f"solved {r['solved']}/{len(r['seeds'])} seeds "
        f"(>= {t['solved_fraction_min']:.0%}) within {r['max_steps']:,} steps",
        "median_solve_steps_max": f"median solve steps {r['median_solve_steps']} "
        f"<= {t['median_solve_steps_max']:,}",
        "solve_seconds_max": f"slowest solve {r['max_solve_seconds']} s "
        f"<= {t['solve_seconds_max']} s",
        "rss_growth_mb_max": f"RSS growth {r['rss_growth_mb']} MB < {t['rss_growth_mb_max']} MB",
    }
    for key, text in lines.items():
        print(f"target {text}: {'met' if met[key] else 'MISSED'}")
    missed = [k for k, ok in met.items() if not ok]
    print("missed targets: " + (", ".join(missed) or "none"))


def main(argv: list[str] | None = None) -> int:
    return run_and_report(parse_args(argv), run, report, "bench_a2c_")


if __name__ == "__main__":
    raise SystemExit(main())
