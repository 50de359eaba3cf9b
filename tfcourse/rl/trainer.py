"""A2C training: n-step rollouts from vector envs, one compiled update per rollout.

The loop (Spinning Up's "algo" half; the maths lives in ``returns.py`` and ``a2c.py``)::

    repeat until total_steps:
        rollout = collect(envs, n_steps x n_envs)   # actions sampled inside a tf.function
        update(rollout)                             # one compiled graph: scaled rewards,
                                                    # truncation bootstrap, GAE, losses, step

``--strategy mirrored`` splits every rollout along its ENV axis over the replicas (returns and
advantages are computed per env, so each replica owns whole env columns); the losses are
weighted so that the replicas' gradients add up to the single-device gradient, and the
gradient norm that clipping uses is the norm of that SUM (see :meth:`A2CTrainer._clip`).
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
from tfcourse.precision import scale_loss, wrap_optimizer
from tfcourse.rl import returns as R
from tfcourse.rl.a2c import build_model, total_loss
from tfcourse.rl.config import A2CConfig
from tfcourse.rl.evaluate import evaluate_greedy, record_gif
from tfcourse.rl.rollout import EpisodeStats, Rollout, collect, make_envs

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
        if cfg.strategy == "default":  # the whole update in one XLA graph, as before
            self._update = tf.function(self._update_fn, jit_compile=cfg.jit)
        elif cfg.normalize_advantages and self.replicas > 1:
            # the z-score needs an all-reduce between the forward pass and the losses, and a
            # nested tf.function may not hold one: inline it, without XLA
            self._grads = self._replica_grads
            self._update = tf.function(self._distributed_update_fn)
        else:  # XLA compiles each replica's forward/backward; the all-reduces stay outside it
            self._grads = tf.function(self._replica_grads, jit_compile=cfg.jit)
            self._update = tf.function(self._distributed_update_fn)
        self._values = tf.function(lambda obs: self.model(obs)[0], reduce_retracing=True)

    def _replica_grads(self, obs, actions, rewards, dones, truncations, final_values, last_obs):
        """Losses and gradients of one replica's env columns (shapes as in :class:`Rollout`,
        with ``n = n_envs / replicas``).

        Returns:
            ``(losses, grads)``. Each loss is this replica's share: its mean terms are divided
            by the replica count (all shares are equally large), a summed actor term is not, so
            the shares and their gradients add up to the whole rollout's. The gradients are
            those of the loss-scaled total under mixed precision.
        """
        cfg = self.config
        steps, n = actions.shape
        rewards = R.bootstrap_truncated(
            rewards * cfg.reward_scale, truncations, final_values, cfg.gamma
        )
        with tf.GradientTape() as tape:
            values, logits = self.model(tf.reshape(obs, [steps * n, -1]))
            bootstrap = tf.stop_gradient(self.model(last_obs)[0])
            advantages, returns = R.gae_advantages(
                rewards, tf.reshape(tf.stop_gradient(values), [steps, n]), dones, bootstrap,
                cfg.gamma, cfg.lam,
            )  # fmt: skip
            if cfg.normalize_advantages:
                advantages = self._normalize(advantages)
            losses = total_loss(
                logits, values, tf.reshape(actions, [-1]), tf.reshape(returns, [-1]),
                tf.reshape(advantages, [-1]), entropy_coef=cfg.entropy_coef,
                reduction=cfg.actor_reduction,
            )  # fmt: skip
            if self.replicas > 1:
                share = 1.0 / self.replicas
                actor = losses["actor"] * (1.0 if cfg.actor_reduction == "sum" else share)
                critic, mean_entropy = losses["critic"] * share, losses["entropy"] * share
                total = actor + critic - cfg.entropy_coef * mean_entropy
                losses = {"total": total, "actor": actor, "critic": critic,
                          "entropy": mean_entropy}  # fmt: skip
            scaled = scale_loss(self.optimizer, losses["total"])
        return losses, tape.gradient(scaled, self.model.trainable_variables)

    def _normalize(self, advantages: tf.Tensor) -> tf.Tensor:
        """z-score the advantages over the WHOLE rollout (all replicas' columns)."""
        if self.replicas == 1:
            return R.normalize(advantages)
        ctx, sum_ = tf.distribute.get_replica_context(), tf.distribute.ReduceOp.SUM
        count = float(self.config.n_envs * self.config.n_steps)
        mean = ctx.all_reduce(sum_, tf.reduce_sum(advantages)) / count
        var = ctx.all_reduce(sum_, tf.reduce_sum(tf.square(advantages - mean))) / count
        return (advantages - mean) / (tf.sqrt(var) + 1e-8)

    def _clip(self, grads: list[tf.Tensor], summed: list[tf.Tensor]) -> tuple[list, tf.Tensor]:
        """Clip ``grads`` by the global norm of ``summed``, the gradients of the whole rollout.

        Clipping by global norm multiplies every gradient by ONE factor,
        ``max_grad_norm / max(norm, max_grad_norm)``. On one device ``grads is summed``. Under
        ``mirrored``, ``grads`` are this replica's and ``summed`` their all-reduced sum: scaling
        each replica's share by the factor of the SUM's norm and letting the optimizer add the
        shares up gives exactly the clipped single-device gradient (clipping per replica would
        not). A loss scale is divided out of the norm first.

        Returns:
            ``(clipped grads, norm)``; under a loss scale the gradients stay scaled and a
            non-finite norm turns them all into NaN, so that every replica's
            ``LossScaleOptimizer`` skips the step (it checks only the first replica's).
        """
        cfg = self.config
        norm = tf.linalg.global_norm(summed)
        loss_scaled = isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer)
        if loss_scaled:
            norm = norm / tf.cast(self.optimizer.dynamic_scale, norm.dtype)
        if cfg.max_grad_norm > 0:  # NaN factor when the norm is not finite
            grads, _ = tf.clip_by_global_norm(grads, cfg.max_grad_norm, use_norm=norm)
        elif loss_scaled and self.replicas > 1:
            grads = [tf.where(tf.math.is_finite(norm), g, np.nan) for g in grads]
        return grads, norm

    def _update_fn(self, obs, actions, rewards, dones, truncations, final_values, last_obs):
        """One A2C step on a rollout (shapes in :class:`~tfcourse.rl.rollout.Rollout`)."""
        losses, grads = self._replica_grads(
            obs, actions, rewards, dones, truncations, final_values, last_obs
        )
        grads, grad_norm = self._clip(grads, grads)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables, strict=True))
        steps, n = actions.shape
        self.global_step.assign_add(steps * n)
        return {**losses, "grad_norm": grad_norm}

    def _replica_update(self, *rollout: tf.Tensor) -> dict[str, tf.Tensor]:
        """One replica's part of a distributed step: its gradients, clipped by the global norm."""
        losses, grads = self._grads(*rollout)
        # one all-reduce for the norm of the summed gradients; apply_gradients then all-reduces
        # (sums) the clipped shares itself. Applying pre-summed gradients in cross-replica
        # context instead is refused by LossScaleOptimizer ("must be called in a replica
        # context"); a ~5k-parameter all-reduce costs far less than one env step.
        summed = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, grads)
        grads, grad_norm = self._clip(grads, summed)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables, strict=True))
        return {**losses, "grad_norm": grad_norm}

    def _distributed_update_fn(self, *rollout: tf.Tensor) -> dict[str, tf.Tensor]:
        """Split the rollout's env columns over the replicas, run, and sum the loss shares."""
        per_replica = self.strategy.run(self._replica_update, args=self._split_envs(*rollout))
        sum_, mean = tf.distribute.ReduceOp.SUM, tf.distribute.ReduceOp.MEAN
        out = {
            k: self.strategy.reduce(mean if k == "grad_norm" else sum_, v, axis=None)
            for k, v in per_replica.items()
        }  # grad_norm is the same on every replica
        steps, n = rollout[1].shape  # actions [T, n_envs]
        self.global_step.assign_add(steps * n)
        return out

    def _split_envs(self, *rollout: tf.Tensor) -> tuple[Any, ...]:
        """Per-replica values: replica ``i`` gets env columns ``[i*n/r, (i+1)*n/r)`` of each
        rollout tensor (axis 1 of the ``[T, n, ...]`` ones, axis 0 of ``last_obs [n, d]``)."""
        size = self.config.n_envs // self.replicas

        def column(ctx: tf.distribute.InputReplicaContext, t: tf.Tensor, axis: int) -> tf.Tensor:
            start = ctx.replica_id_in_sync_group * size
            return t[start : start + size] if axis == 0 else t[:, start : start + size]

        axes = [1] * (len(rollout) - 1) + [0]  # last_obs has no time axis
        return tuple(
            self.strategy.experimental_distribute_values_from_function(
                lambda ctx, t=t, axis=axis: column(ctx, t, axis)
            )
            for t, axis in zip(rollout, axes, strict=True)
        )

    def update(self, rollout: Rollout) -> dict[str, tf.Tensor]:
        """One compiled A2C update on ``rollout``: ``{"total", "actor", "critic", "entropy",
        "grad_norm"}`` scalars (losses of the whole rollout, norm before clipping)."""
        return self._update(*(tf.constant(v) for v in dataclasses.astuple(rollout)))

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
