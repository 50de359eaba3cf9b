"""A2C training: n-step rollouts from vector envs, one compiled update per rollout.

The loop (Spinning Up's "algo" half; the maths lives in ``returns.py`` and ``a2c.py``)::

    repeat until total_steps:
        rollout = collect(envs, n_steps x n_envs)   # actions sampled inside a tf.function
        a2c_step(model, optimizer, rollout, hp)     # scaled rewards, truncation bootstrap,
                                                    # GAE, losses, clipped step

The step is :func:`tfcourse.rl.a2c.a2c_step`; :class:`tfcourse.scale.scale_out.ScaleOut` compiles it
(one XLA graph), and with ``--strategy mirrored`` runs it once per replica on its share of the
envs. ``--precision mixed_float16`` gives the model's Dense layers a float16 compute policy and
wraps the optimizer in a ``LossScaleOptimizer`` (:mod:`tfcourse.scale.precision`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from tfcourse.errors import RunError
from tfcourse.rl import normalize
from tfcourse.rl.a2c import a2c_step
from tfcourse.rl.config import A2CConfig
from tfcourse.rl.evaluate import evaluate_greedy, record_gif
from tfcourse.rl.lr import LearningRate
from tfcourse.rl.model import build_model
from tfcourse.rl.progress import Progress
from tfcourse.rl.rollout import EpisodeStats, Rollout, collect, make_envs
from tfcourse.run import plots, summaries
from tfcourse.run.lifecycle import Run, check_loss, prepare
from tfcourse.scale.scale_out import ScaleOut

# a rollout's tensors are split over the replicas by env: axis 1 of the [T, n_envs, ...]
# fields, axis 0 of last_obs [n_envs, obs_dim] (order of the Rollout fields)
ENV_AXES = (1, 1, 1, 1, 1, 1, 0)
MODEL_FILE = "model.keras"
LOG_EVERY = 10  # updates between TensorBoard writes


class A2CTrainer:
    """Owns the envs, the model, the optimizer, the run directory and the checkpoints."""

    def __init__(self, config: A2CConfig) -> None:
        cfg = self.config = config.resolved()
        self.scale = ScaleOut(cfg.strategy, cfg.precision, cfg.jit)  # before any variable
        self.scale.check_divisible(cfg.n_envs, "n-envs")
        prepare(cfg)
        self.envs = normalize.wrap(make_envs(cfg.env, cfg.n_envs, cfg.seed), cfg.normalize_obs,
                                   cfg.normalize_reward, cfg.gamma)  # fmt: skip
        obs_dim = self.envs.single_observation_space.shape[0]
        self.n_updates = cfg.total_steps // (cfg.n_envs * cfg.n_steps)
        with self.scale.scope():  # variables mirrored on every replica
            n_actions = self._n = int(self.envs.single_action_space.n)
            self.model = build_model(obs_dim, n_actions, dtype=cfg.precision,
                                     activation=cfg.activation,
                                     policy_init_scale=cfg.policy_init_scale)  # fmt: skip
            self.lr = LearningRate(cfg, self.n_updates)  # annealing, x solved_lr_factor
            self.optimizer = self.scale.optimizer(self.lr.optimizer, self.model.trainable_variables)
            self.global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        done_at = self.n_updates * cfg.n_envs * cfg.n_steps  # steps_completed of a full run
        self.norm_stats = normalize.CheckpointedStats(self.envs)
        self.run = Run(cfg, must_match=("env",), model=self.model, optimizer=self.optimizer,
                       global_step=self.global_step, lr_factor=self.lr.factor,
                       progress=("steps_completed", done_at, "--total-steps"),
                       **self.norm_stats.trackables)  # fmt: skip
        self.run_dir, self.restored_from = self.run.dir, self.run.restored_from
        if self.restored_from is not None:
            self.norm_stats.after_restore()  # the statistics of the restored checkpoint
        self.stats = EpisodeStats(cfg.n_envs)
        self.history: tuple[list[int], list[float]] = ([], [])  # (end step, return) per episode
        self._update = self.scale.step(
            lambda *fields: a2c_step(self.model, self.optimizer, Rollout(*fields), cfg),
            axes=ENV_AXES,
            mean=("grad_norm",),  # the same on every replica; the losses are shares
        )
        self._values = tf.function(lambda obs: self.model(obs)[0], reduce_retracing=True)
        self._hint = f"lower --lr (it is {cfg.lr:g}) or set --max-grad-norm 0.5"

    def update(self, rollout: Rollout) -> dict[str, tf.Tensor]:
        """One compiled :func:`~tfcourse.rl.a2c.a2c_step` on ``rollout``: ``{"total", "actor",
        "critic", "entropy", "grad_norm"}`` (losses of the whole rollout, norm before clipping)."""
        losses = self._update(*(tf.constant(v) for v in dataclasses.astuple(rollout)))
        self.global_step.assign_add(rollout.actions.size)
        return losses

    def _act(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        actions, values = self.model.action_value(obs.astype(np.float32))
        actions, values = actions.numpy(), values.numpy()
        if not np.isfinite(values).all() or not (0 <= actions.min() <= actions.max() < self._n):
            self._diverged()  # NaN weights: the env would fail on an invalid action
        return actions, values

    def _diverged(self) -> None:
        """Stop: the model's outputs are NaN/inf (raises RunError naming the last checkpoint)."""
        kept = self.run.latest_checkpoint
        raise RunError(
            f"the policy and value outputs became NaN or infinite by env step "
            f"{int(self.global_step.numpy())}, so training stopped"
            + (f"; the last good checkpoint is {kept}" if kept else "")
            + f"; {self._hint}"
        )

    def _value(self, obs: np.ndarray) -> np.ndarray:
        return self._values(obs).numpy()

    def train(
        self, on_update: Callable[[int, dict[str, Any]], None] | None = None
    ) -> dict[str, Any]:
        """Train until ``total_steps`` env steps (or the target, with ``stop_when_solved``).

        Args:
            on_update: called after every update with the env step count and the losses
                (e.g. to time steady-state speed or sample memory, as scripts/bench_a2c.py does).

        Raises:
            RunError: the loss or the policy became NaN or infinite (no ``metrics.json`` is
                written; the message names the last good checkpoint).
        """
        try:
            return self._train(on_update)
        finally:
            self.run.release()  # also when training stops with an error

    def _train(self, on_update: Callable[[int, dict[str, Any]], None] | None) -> dict[str, Any]:
        cfg = self.config
        obs, _ = self.envs.reset(seed=cfg.seed + int(self.global_step.numpy()))
        obs = obs.astype(np.float32)
        if self.restored_from is None:
            # hyper-parameters only: the fields not marked hparam=False (no paths, switches)
            summaries.log_hparams(self.run.writer, cfg)
        batch = cfg.n_envs * cfg.n_steps
        start_update = int(self.global_step.numpy()) // batch
        self.run.say_resumed("env step", int(self.global_step.numpy()), self.n_updates * batch)
        solved_step = solved_seconds = None
        t0, steps0 = time.perf_counter(), int(self.global_step.numpy())
        bar = Progress(self.n_updates * batch, start_update * batch, f"{cfg.name} {cfg.env}",
                       disable=not cfg.progress)  # fmt: skip
        for update in range(start_update, self.n_updates):
            rollout: Rollout = collect(
                self.envs, obs, cfg.n_steps, self._act, self._value, self.stats
            )
            obs = rollout.last_obs
            losses = self.update(rollout)
            step = int(self.global_step.numpy())
            total = float(losses["total"]) + float(losses["grad_norm"])  # NaN/inf if either is
            check_loss(total, step, "env step", self.run.latest_checkpoint, self._hint)
            if on_update is not None:
                on_update(step, losses)
            episode_returns, episode_lengths = self.stats.drain()
            self.history[0].extend([step] * len(episode_returns))
            self.history[1].extend(episode_returns)
            mean100 = self.stats.mean_return()
            if (
                solved_step is None
                and len(self.stats.finished_episode_returns) == 100
                and mean100 >= cfg.target_return
            ):
                solved_step, solved_seconds = step, time.perf_counter() - t0
                self.lr.solved()  # lr x solved_lr_factor from the next update on
            if update % LOG_EVERY == 0 or update == self.n_updates - 1 or solved_step == step:
                sps = (step - steps0) / (time.perf_counter() - t0)
                scalars = {f"losses/{k}": float(v) for k, v in losses.items() if k != "grad_norm"}
                scalars |= {"charts/sps": sps, "charts/grad_norm": float(losses["grad_norm"]),
                            "charts/lr": self.lr.current(self.optimizer.iterations)}  # fmt: skip
                if episode_returns:
                    scalars |= {"charts/episodic_return": float(np.mean(episode_returns)),
                                "charts/episodic_length": float(np.mean(episode_lengths)),
                                "charts/mean_return_100": mean100}  # fmt: skip
                self.run.log(step, scalars)
            bar.update(step, batch, mean100)
            if (update + 1) % max(1, self.n_updates // 10) == 0:
                self._save(obs, step)
            if cfg.stop_when_solved and solved_step is not None:
                break
        bar.close()
        seconds = time.perf_counter() - t0
        self._save(obs, int(self.global_step.numpy()))
        return self._finish(solved_step, solved_seconds, seconds, steps0)

    def _save(self, obs: np.ndarray, step: int) -> None:
        """A checkpoint and the normalisation statistics (never of NaN weights)."""
        if not np.isfinite(self._value(obs)).all():
            self._diverged()
        self.norm_stats.before_save()
        self.run.save(step)

    def _finish(self, solved_step, solved_seconds, seconds: float, steps0: int) -> dict[str, Any]:
        cfg = self.config
        step = int(self.global_step.numpy())
        norm_state = normalize.get_state(self.envs)  # evaluation: obs statistics, frozen
        normalize.save(self.envs, self.run_dir)  # next to model.keras, for eval a2c
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
        }
        earlier = self.run.earlier or {}
        if isinstance(earlier.get("episodes"), int):  # a continued finished run: all episodes
            metrics["episodes"] += earlier["episodes"]
        if not self.stats.finished_episode_returns and "train_mean_return_100" in earlier:
            metrics["train_mean_return_100"] = earlier["train_mean_return_100"]
        if cfg.eval_episodes:
            eval_episode_returns = evaluate_greedy(
                self.model, cfg.env, cfg.eval_episodes, cfg.seed + 10**6, norm_state
            )
            metrics |= {
                "mean_return": float(eval_episode_returns.mean()),
                "std_return": float(eval_episode_returns.std()),
            }
            self.run.log(step, {"charts/eval_mean_return": metrics["mean_return"]})
        plots.plot_episode_returns(*self.history, target=cfg.target_return,
                                   path=self.run_dir / "episode_returns.png")  # fmt: skip
        if cfg.gif:
            gif = record_gif(self.model, cfg.env, self.run_dir / "episode.gif", norm=norm_state)
            metrics["gif_return"] = gif[1]
        return self.run.finish(metrics)


def train_a2c(config: A2CConfig | None = None, **overrides: Any) -> dict[str, Any]:
    """Build an :class:`A2CTrainer` and run it: ``train_a2c(total_steps=50_000, seed=2)``."""
    return A2CTrainer(dataclasses.replace(config or A2CConfig(), **overrides)).train()
