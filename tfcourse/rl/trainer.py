"""A2C training: n-step rollouts from vector envs, one compiled update per rollout.

The loop (Spinning Up's "algo" half; the maths lives in ``returns.py`` and ``a2c.py``)::

    repeat until total_steps:
        rollout = collect(envs, n_steps x n_envs)   # actions sampled inside a tf.function
        update(rollout)                             # one compiled graph: scaled rewards,
                                                    # truncation bootstrap, GAE, losses, step

The update itself, and how ``--strategy mirrored`` splits it over the replicas, live in
:mod:`tfcourse.rl.update` (:class:`~tfcourse.rl.update.A2CUpdate`).
``--precision mixed_float16`` gives the model's Dense layers a float16 compute policy and wraps
the optimizer in a ``LossScaleOptimizer`` (:mod:`tfcourse.precision`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm  # plain text bars: no ipywidgets needed in notebooks

from tfcourse import checkpoints, plots, rundir, summaries
from tfcourse import distribute as dist
from tfcourse.precision import wrap_optimizer
from tfcourse.rl.a2c import build_model
from tfcourse.rl.config import A2CConfig
from tfcourse.rl.evaluate import evaluate_greedy, record_gif
from tfcourse.rl.rollout import EpisodeStats, Rollout, collect, make_envs
from tfcourse.rl.update import A2CUpdate

MODEL_FILE = "model.keras"
LOG_EVERY = 10  # updates between TensorBoard writes


class A2CTrainer:
    """Owns the envs, the model, the optimizer, the run directory and the checkpoints."""

    def __init__(self, config: A2CConfig) -> None:
        cfg = self.config = config.resolved()
        self.strategy = dist.make_strategy(cfg.strategy)  # first, before any variable exists
        dist.check_divisible(cfg.n_envs, self.strategy, "n-envs")
        self.replicas = self.strategy.num_replicas_in_sync
        rundir.ensure_writable_dir(cfg.logdir)
        keras.utils.set_random_seed(cfg.seed)
        self.envs = make_envs(cfg.env, cfg.n_envs, cfg.seed)
        obs_dim = self.envs.single_observation_space.shape[0]
        self.n_updates = cfg.total_steps // (cfg.n_envs * cfg.n_steps)
        with self.strategy.scope():  # variables mirrored on every replica
            self.model = build_model(
                obs_dim, int(self.envs.single_action_space.n), dtype=cfg.precision
            )
            lr = cfg.lr
            if cfg.anneal_lr:  # linear decay to 0 over the run (optimizer.iterations = updates)
                lr = keras.optimizers.schedules.PolynomialDecay(cfg.lr, self.n_updates, 0.0)
            if cfg.optimizer == "rmsprop":
                optimizer = keras.optimizers.RMSprop(lr, rho=0.99, epsilon=1e-5)
            else:
                optimizer = keras.optimizers.Adam(lr)
            self.optimizer = wrap_optimizer(optimizer, cfg.precision)
            self.optimizer.build(self.model.trainable_variables)
            self.global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        self.run_dir = rundir.open_run_dir(cfg, must_match=("env",))
        self.ckpt, self.manager = checkpoints.make_manager(
            self.run_dir, model=self.model, optimizer=self.optimizer, global_step=self.global_step
        )
        self.restored_from = checkpoints.restore_latest(self.ckpt, self.manager, cfg.resume)
        self.writer = summaries.create_writer(self.run_dir)
        self.stats = EpisodeStats(cfg.n_envs)
        self.history: tuple[list[int], list[float]] = ([], [])  # (end step, return) per episode
        self.updater = A2CUpdate(cfg, self.model, self.optimizer, self.strategy, self.global_step)
        self._values = tf.function(lambda obs: self.model(obs)[0], reduce_retracing=True)

    def update(self, rollout: Rollout) -> dict[str, tf.Tensor]:
        """One compiled A2C update on ``rollout``: ``{"total", "actor", "critic", "entropy",
        "grad_norm"}`` scalars (losses of the whole rollout, norm before clipping)."""
        return self.updater(rollout)

    def _act(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        actions, values = self.model.action_value(obs.astype(np.float32))
        return actions.numpy(), values.numpy()

    def _value(self, obs: np.ndarray) -> np.ndarray:
        return self._values(obs).numpy()

    def train(
        self, on_update: Callable[[int, dict[str, Any]], None] | None = None
    ) -> dict[str, Any]:
        """Train until ``total_steps`` env steps (or the target, with ``stop_when_solved``).

        Args:
            on_update: called after every update with the env step count and the losses
                (e.g. to time steady-state speed or sample memory, as scripts/bench_a2c.py does).
        """
        cfg = self.config
        obs, _ = self.envs.reset(seed=cfg.seed + int(self.global_step.numpy()))
        obs = obs.astype(np.float32)
        if self.restored_from is None:
            summaries.log_hparams(self.writer, dataclasses.asdict(cfg))
        batch = cfg.n_envs * cfg.n_steps
        start_update = int(self.global_step.numpy()) // batch
        solved_step = solved_seconds = None
        t0, steps0 = time.perf_counter(), int(self.global_step.numpy())
        bar = tqdm(
            total=self.n_updates * batch,
            initial=start_update * batch,
            unit="step",
            desc=f"{cfg.name} {cfg.env}",
            disable=not cfg.progress,
            mininterval=1.0,
        )
        for update in range(start_update, self.n_updates):
            rollout: Rollout = collect(
                self.envs, obs, cfg.n_steps, self._act, self._value, self.stats
            )
            obs = rollout.last_obs
            losses = self.update(rollout)
            step = int(self.global_step.numpy())
            if on_update is not None:
                on_update(step, losses)
            bar.update(batch)
            returns, lengths = self.stats.drain()
            self.history[0].extend([step] * len(returns))
            self.history[1].extend(returns)
            mean100 = self.stats.mean_return()
            if (
                solved_step is None
                and len(self.stats.finished_returns) == 100
                and mean100 >= cfg.target_return
            ):
                solved_step, solved_seconds = step, time.perf_counter() - t0
            if update % LOG_EVERY == 0 or update == self.n_updates - 1 or solved_step == step:
                sps = (step - steps0) / (time.perf_counter() - t0)
                scalars = {f"losses/{k}": float(v) for k, v in losses.items() if k != "grad_norm"}
                scalars |= {"charts/sps": sps, "charts/grad_norm": float(losses["grad_norm"])}
                if returns:
                    scalars |= {"charts/episodic_return": float(np.mean(returns)),
                                "charts/episodic_length": float(np.mean(lengths)),
                                "charts/mean_return_100": mean100}  # fmt: skip
                summaries.log_scalars(self.writer, step, scalars)
                bar.set_postfix(mean_return=f"{mean100:.1f}", sps=f"{sps:,.0f}")
            if (update + 1) % max(1, self.n_updates // 10) == 0:
                self.manager.save(checkpoint_number=step)
            if cfg.stop_when_solved and solved_step is not None:
                break
        bar.close()
        seconds = time.perf_counter() - t0
        self.manager.save(checkpoint_number=int(self.global_step.numpy()))
        return self._finish(solved_step, solved_seconds, seconds, steps0)

    def _finish(self, solved_step, solved_seconds, seconds: float, steps0: int) -> dict[str, Any]:
        cfg = self.config
        step = int(self.global_step.numpy())
        self.envs.close()
        tmp = self.run_dir / f".{MODEL_FILE}.tmp.keras"
        self.model.save(tmp)
        tmp.replace(self.run_dir / MODEL_FILE)
        metrics: dict[str, Any] = {
            "steps_completed": step,
            "episodes": self.stats.episodes,
            "train_mean_return_100": self.stats.mean_return(),
            "solved_step": solved_step,
            "solved_seconds": solved_seconds,
            "steps_per_s": (step - steps0) / max(seconds, 1e-9),
            "env": cfg.env,
            "run_dir": str(self.run_dir),
        }
        if cfg.eval_episodes:
            eval_returns = evaluate_greedy(
                self.model, cfg.env, cfg.eval_episodes, seed=cfg.seed + 10**6
            )
            metrics |= {
                "mean_return": float(eval_returns.mean()),
                "std_return": float(eval_returns.std()),
            }
            summaries.log_scalars(
                self.writer, step, {"charts/eval_mean_return": metrics["mean_return"]}
            )
        plots.plot_episode_returns(*self.history, target=cfg.target_return,
                                   path=self.run_dir / "episode_returns.png")  # fmt: skip
        if cfg.gif:
            _, metrics["gif_return"] = record_gif(self.model, cfg.env, self.run_dir / "episode.gif")
        rundir.atomic_write_json(self.run_dir / rundir.METRICS_FILE, metrics)
        self.writer.flush()
        return metrics


def train_a2c(config: A2CConfig | None = None, **overrides: Any) -> dict[str, Any]:
    """Build an :class:`A2CTrainer` and run it: ``train_a2c(total_steps=50_000, seed=2)``."""
    return A2CTrainer(dataclasses.replace(config or A2CConfig(), **overrides)).train()
