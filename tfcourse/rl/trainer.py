"""A2C training: n-step rollouts from vector envs, one compiled update per rollout.

The loop (Spinning Up's "algo" half; the maths lives in ``returns.py`` and ``a2c.py``), one
update per unit of :meth:`~tfcourse.run.trainer_base.TrainerBase.fit`::

    repeat until total_steps:
        rollout = collect(envs, n_steps x n_envs)   # actions sampled inside a tf.function
        batch = a2c_batch(model, rollout, hp)       # scaled rewards, truncation bootstrap, GAE
        a2c_step(model, optimizer, batch, hp)       # losses, gradient, clipped step

The step is :func:`tfcourse.rl.a2c.a2c_step`; :class:`tfcourse.scale.scale_out.ScaleOut` compiles
it with :func:`~tfcourse.rl.a2c.a2c_batch` (one XLA graph), clips the gradient by
``--max-grad-norm``, and with ``--strategy mirrored`` runs the step once per replica on its share
of the batch. ``--precision mixed_float16`` gives the model's Dense layers a float16 compute
policy and wraps the optimizer in a ``LossScaleOptimizer`` (:mod:`tfcourse.scale.precision`).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import tensorflow as tf

from tfcourse.errors import RunError
from tfcourse.rl import normalize
from tfcourse.rl.a2c import Batch, a2c_batch, a2c_step
from tfcourse.rl.config import A2CConfig
from tfcourse.rl.evaluate import contact_sheet, evaluate_greedy, gif_frames, record_gif
from tfcourse.rl.lr import LearningRate
from tfcourse.rl.model import build_model
from tfcourse.rl.progress import Progress
from tfcourse.rl.rollout import EpisodeStats, Rollout, collect, make_envs
from tfcourse.run import plots, summaries
from tfcourse.run.trainer_base import TrainerBase

MODEL_FILE = "model.keras"
LOG_EVERY = 10  # updates between TensorBoard writes
ROLLOUT = f"of the update's rollout, before the update (logged every {LOG_EVERY} updates)"
BOARD = summaries.Namespace(
    "a2c",
    "env step, all envs",
    {
        "losses/total": f"actor + critic - entropy_coef·entropy, the loss differentiated, "
        f"{ROLLOUT}",
        "losses/actor": f"policy-gradient loss {ROLLOUT}",
        "losses/critic": f"weighted squared error of the values {ROLLOUT}",
        "losses/entropy": f"mean entropy of the policy (nats) {ROLLOUT}",
        "charts/sps": "env steps per second since this run (or resume) started",
        "charts/grad_norm": f"gradient norm before clipping {ROLLOUT}",
        "charts/lr": "learning rate of the next update",
        "charts/episodic_return": "mean return of the episodes that ended in the rollout",
        "charts/episodic_length": "mean length (steps) of the episodes that ended in the rollout",
        "charts/mean_return_100": "mean return of the last 100 finished training episodes",
        "charts/eval_mean_return": "mean return of the greedy evaluation episodes after training",
        "figures/episode_returns": "every training episode's return (episode_returns.png)",
        "figures/episode": "frames of one greedy episode after training (episode.gif), each "
        "labelled with its step and the return so far; the last shows the final return",
    },
)


class A2CTrainer(TrainerBase):
    """Owns the envs, the model, the optimizer, the run directory and the checkpoints."""

    split, unit, must_match = "n_envs", "env step", ("env",)

    def __init__(self, config: A2CConfig) -> None:
        super().__init__(config)
        if self.restored_from is not None:
            self.norm_stats.after_restore()  # the statistics of the restored checkpoint

    def _build(self) -> tuple[tuple[str, int, str], dict[str, Any]]:
        cfg = self.config
        self.hint = f"lower --lr (it is {cfg.lr:g}) or set --max-grad-norm 0.5"
        self.envs = normalize.wrap(
            make_envs(cfg.env, cfg.n_envs, cfg.seed),
            cfg.normalize_obs,
            cfg.normalize_reward,
            cfg.gamma,
        )
        obs_dim = self.envs.single_observation_space.shape[0]
        self.batch = cfg.n_envs * cfg.n_steps  # env steps per update
        self.n_updates = cfg.total_steps // self.batch
        with self.scale.scope():  # variables mirrored on every replica
            n_actions = self._n = int(self.envs.single_action_space.n)
            self.model = build_model(
                obs_dim,
                n_actions,
                dtype=cfg.precision,
                activation=cfg.activation,
                policy_init_scale=cfg.policy_init_scale,
            )
            self.lr = LearningRate(cfg, self.n_updates)  # annealing, x solved_lr_factor
            self.optimizer = self.scale.optimizer(self.lr.optimizer, self.model.trainable_variables)
            self.global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        self.norm_stats = normalize.CheckpointedStats(self.envs)
        self.stats = EpisodeStats(cfg.n_envs)
        self.history: tuple[list[int], list[float]] = ([], [])  # (end step, return) per episode
        self._update = self.scale.step(
            self._step, prepare=self._batch, optimizer=self.optimizer, clip_norm=cfg.max_grad_norm
        )
        self._values = tf.function(lambda obs: self.model(obs)[0], reduce_retracing=True)
        progress = ("steps_completed", self.n_updates * self.batch, "--total-steps")
        trackables = dict(
            model=self.model,
            optimizer=self.optimizer,
            global_step=self.global_step,
            lr_factor=self.lr.factor,
            **self.norm_stats.trackables,
        )
        return progress, trackables

    def _batch(self, *fields: tf.Tensor) -> Batch:
        """:func:`~tfcourse.rl.a2c.a2c_batch` of the rollout whose fields are ``fields``."""
        return a2c_batch(self.model, Rollout(*fields), self.config)

    def _step(self, optimizer: Any, *batch: tf.Tensor) -> dict[str, tf.Tensor]:
        """:func:`~tfcourse.rl.a2c.a2c_step` with the optimizer ``ScaleOut`` hands over."""
        return a2c_step(self.model, optimizer, Batch(*batch), self.config)

    def update(self, rollout: Rollout) -> dict[str, tf.Tensor]:
        """One compiled :func:`~tfcourse.rl.a2c.a2c_step` on ``rollout``: ``{"total", "actor",
        "critic", "entropy", "grad_norm"}`` (losses of the whole rollout, the gradient's global
        norm before clipping)."""
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
            + f"; {self.hint}"
        )

    def _value(self, obs: np.ndarray) -> np.ndarray:
        return self._values(obs).numpy()

    def _position(self) -> tuple[int, int]:
        return int(self.global_step.numpy()), self.n_updates * self.batch

    def _begin(self) -> None:
        cfg = self.config
        done = int(self.global_step.numpy())
        obs, _ = self.envs.reset(seed=cfg.seed + done)
        self._obs = obs.astype(np.float32)
        self._solved_step = self._solved_seconds = None
        self._t0, self._steps0 = time.perf_counter(), done
        self._bar = Progress(
            self.n_updates * self.batch, done, f"{cfg.name} {cfg.env}", disable=not cfg.progress
        )

    def _unit(self) -> tuple[float, dict[str, Any]]:
        cfg = self.config
        rollout = collect(self.envs, self._obs, cfg.n_steps, self._act, self._value, self.stats)
        self._obs = rollout.last_obs
        losses = self.update(rollout)
        return float(losses["total"]) + float(losses["grad_norm"]), losses  # NaN/inf if either

    def _after_unit(self, step: int, losses: dict[str, Any], seconds: float) -> bool:
        cfg, update = self.config, step // self.batch - 1  # the update just made, from 0
        episode_returns, episode_lengths = self.stats.drain()
        self.history[0].extend([step] * len(episode_returns))
        self.history[1].extend(episode_returns)
        mean100 = self.stats.mean_return()
        if (
            self._solved_step is None
            and len(self.stats.finished_episode_returns) == 100
            and mean100 >= cfg.target_return
        ):
            self._solved_step, self._solved_seconds = step, time.perf_counter() - self._t0
            self.lr.solved()  # lr x solved_lr_factor from the next update on
        last = update == self.n_updates - 1
        if update % LOG_EVERY == 0 or last or self._solved_step == step:
            sps = (step - self._steps0) / (time.perf_counter() - self._t0)
            scalars = {
                f"losses/{k}": float(losses[k]) for k in ("total", "actor", "critic", "entropy")
            }
            scalars |= {
                "charts/sps": sps,
                "charts/grad_norm": float(losses["grad_norm"]),
                "charts/lr": self.lr.current(self.optimizer.iterations),
            }
            if episode_returns:
                scalars |= {
                    "charts/episodic_return": float(np.mean(episode_returns)),
                    "charts/episodic_length": float(np.mean(episode_lengths)),
                    "charts/mean_return_100": mean100,
                }
            BOARD.log(self.run.writer, step, scalars)
        self._bar.update(step, self.batch, mean100)
        if (update + 1) % max(1, self.n_updates // 10) == 0:
            self._save(self._obs, step)
        return cfg.stop_when_solved and self._solved_step is not None

    def _save(self, obs: np.ndarray, step: int) -> None:
        """A checkpoint and the normalisation statistics (never of NaN weights)."""
        if not np.isfinite(self._value(obs)).all():
            self._diverged()
        self.norm_stats.before_save()
        self.run.save(step)

    def _finish(self) -> dict[str, Any]:
        cfg = self.config
        self._bar.close()
        seconds = time.perf_counter() - self._t0
        step = int(self.global_step.numpy())
        self._save(self._obs, step)
        solved_step, solved_seconds, steps0 = self._solved_step, self._solved_seconds, self._steps0
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
            BOARD.log(self.run.writer, step, {"charts/eval_mean_return": metrics["mean_return"]})
        fig = plots.plot_episode_returns(*self.history, target=cfg.target_return)
        png = plots.save_figure(fig, self.run_dir / "episode_returns.png")
        BOARD.image(self.run.writer, "figures/episode_returns", png, step)
        if cfg.gif:
            gif = record_gif(self.model, cfg.env, self.run_dir / "episode.gif", norm=norm_state)
            metrics["gif_return"] = gif[1]
            BOARD.image(self.run.writer, "figures/episode", contact_sheet(gif_frames(gif[0])), step)
        return self.run.finish(metrics)


def train_a2c(config: A2CConfig | None = None, **overrides: Any) -> dict[str, Any]:
    """Build an :class:`A2CTrainer` and run it: ``train_a2c(total_steps=50_000, seed=2)``."""
    return A2CTrainer(dataclasses.replace(config or A2CConfig(), **overrides)).fit()
