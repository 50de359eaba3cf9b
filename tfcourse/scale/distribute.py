"""Choosing a ``tf.distribute`` strategy and feeding it global batches (issue: scale out).

Three strategies, one training loop:

* ``default`` — no distribution: TensorFlow's default strategy, one device.
* ``mirrored`` — ``MirroredStrategy``: one replica per GPU (or per logical CPU device when there
  is no GPU, see :func:`tfcourse.scale.devices.split_cpu`); every replica holds a copy of the
  variables, computes gradients on its slice of the batch, and the gradients are summed
  (all-reduce) before one identical update on every copy.
* ``multiworker`` — ``MultiWorkerMirroredStrategy``: the same across processes or machines,
  which find each other through the ``TF_CONFIG`` environment variable.

:class:`tfcourse.scale.scale_out.ScaleOut` calls :func:`make_strategy` once per trainer, creates the
variables under ``strategy.scope()`` and splits each *global* batch with
:func:`distribute_batch`; the steps divide summed per-example losses by the global batch size,
so that summing the replicas' gradients gives the gradient of the mean.
Every worker draws the same shuffled batches from the same seed and takes its own slice, so no
data has to be sent between them.
"""

from __future__ import annotations

import json
import os
from typing import Any

import tensorflow as tf

from tfcourse.errors import ConfigError
from tfcourse.presets import STRATEGIES

# One strategy object per kind and devices for the whole process: every new MirroredStrategy
# starts its collective keys from the same numbers, and TensorFlow caches collectives by key,
# so a second one whose all-reduces have other shapes would fail; a cluster joins only once.
_STRATEGIES: dict[tuple, tf.distribute.Strategy] = {}


def tf_config() -> dict[str, Any] | None:
    """The parsed ``TF_CONFIG`` environment variable, or ``None`` when unset.

    Raises:
        ConfigError: if it is set but is not JSON with a ``cluster`` and a ``task``.
    """
    raw = os.environ.get("TF_CONFIG", "").strip()
    if not raw:
        return None
    try:
        config = json.loads(raw)
        config["cluster"]["worker"], config["task"]["index"]
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            'TF_CONFIG must be JSON like {"cluster": {"worker": ["host:port", ...]}, '
            f'"task": {{"type": "worker", "index": 0}}}}; got {raw[:80]!r}'
        ) from None
    return config


def mirrored_devices() -> list[str]:
    """Devices a ``mirrored`` run uses: every GPU, else every logical CPU device."""
    gpus = tf.config.list_logical_devices("GPU")
    devices = gpus or tf.config.list_logical_devices("CPU")
    return [d.name for d in devices]


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The strategy called ``name`` (one of :data:`STRATEGIES`), created once per process.

    Raises:
        ConfigError: unknown name, or ``multiworker`` without a valid ``TF_CONFIG``.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = tuple(mirrored_devices())
        if ("mirrored", devices) not in _STRATEGIES:
            _STRATEGIES["mirrored", devices] = tf.distribute.MirroredStrategy(list(devices))
        return _STRATEGIES["mirrored", devices]
    if ("multiworker",) in _STRATEGIES:
        return _STRATEGIES["multiworker",]
    if tf_config() is None:
        raise ConfigError(
            "--strategy multiworker needs TF_CONFIG: set it in every process to "
            '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", '
            '"index": I}} with I = 0, 1, ... (see README "Running on GPUs and clusters")'
        )
    _STRATEGIES["multiworker",] = tf.distribute.MultiWorkerMirroredStrategy()
    return _STRATEGIES["multiworker",]


def describe(name: str) -> dict[str, Any]:
    """What a run with ``--strategy name`` would use, without creating the strategy."""
    if name not in STRATEGIES:
        raise ConfigError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    if name == "default":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return {"strategy": "default", "replicas": 1, "devices": [devices[0].name]}
    if name == "mirrored":
        devices = mirrored_devices()
        return {"strategy": "MirroredStrategy", "replicas": len(devices), "devices": devices}
    config = tf_config()
    if config is None:
        return {
            "strategy": "MultiWorkerMirroredStrategy",
            "replicas": None,
            "devices": [],
            "note": "TF_CONFIG is not set",
        }
    workers = config["cluster"]["worker"]
    return {
        "strategy": "MultiWorkerMirroredStrategy",
        "workers": workers,
        "task_index": config["task"]["index"],
        "replicas": len(workers),
        "devices": mirrored_devices(),
    }


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True for the process that writes logs and checkpoints (worker 0, or a lone process)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    return resolver.task_type in (None, "chief") or (
        resolver.task_type == "worker" and resolver.task_id == 0
    )


def check_divisible(global_batch: int, strategy: tf.distribute.Strategy, what: str) -> None:
    """Raise :class:`ConfigError` unless ``global_batch`` splits evenly over the replicas."""
    n = strategy.num_replicas_in_sync
    if global_batch % n:
        raise ConfigError(
            f"{what} {global_batch} does not split evenly over {n} replicas; use a multiple of {n}"
        )


def distribute_batch(
    strategy: tf.distribute.Strategy, *tensors: tf.Tensor, axis: int = 0
) -> tuple[Any, ...]:
    """Give replica ``i`` (of all workers) the ``i``-th equal slice of each global tensor.

    Args:
        strategy: the run's strategy.
        *tensors: global batches, split along ``axis`` (e.g. ``x: [batch, 784]``, ``y: [batch]``
            with ``axis=0``; a rollout's ``[T, n_envs]`` tensors by env with ``axis=1``); that
            axis must be divisible by ``strategy.num_replicas_in_sync``.
        axis: the axis to split.

    Returns:
        One per-replica value per tensor, ready for ``strategy.run``. With one replica the
        tensors are returned unchanged.
    """
    n = strategy.num_replicas_in_sync
    if n == 1:
        return tensors

    def slice_for(ctx: tf.distribute.InputReplicaContext, t: tf.Tensor) -> tf.Tensor:
        size = tf.shape(t)[axis] // n
        start = ctx.replica_id_in_sync_group * size
        return t[(slice(None),) * axis + (slice(start, start + size),)]

    return tuple(
        strategy.experimental_distribute_values_from_function(lambda ctx, t=t: slice_for(ctx, t))
        for t in tensors
    )


def replicas_in_sync() -> int:
    """How many replicas run the current step together (1 outside ``strategy.run``)."""
    ctx = tf.distribute.get_replica_context()
    return 1 if ctx is None else ctx.num_replicas_in_sync


def sum_over_replicas(x: Any) -> Any:
    """``x`` summed over the replicas running this step (``x`` itself on one); nests allowed.

    Call it inside ``strategy.run``: every replica gets the same sum (an all-reduce).
    """
    if replicas_in_sync() == 1:
        return x
    return tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, x)
