"""The A2C network: one shared trunk, a value head ``V(s)`` and a policy-logits head.

Acting is compiled: :meth:`ActorCritic.action_value` and :meth:`ActorCritic.greedy_actions`
cast observations to float32 in Python, then run a ``tf.function`` whose input signature is
fixed to ``[None, None] float32``: one trace per method whatever the batch size or dtype (see
:meth:`ActorCritic.tracing_counts`). They call that one graph (its ``ConcreteFunction``)
directly, which skips ``tf.function``'s argument matching: a third or more of the cost of an
acting call on CPU, paid once per env step (``scripts/bench_a2c.py``). Sampling happens inside
the graph: with a global seed set, every *eager* call of a seeded random op builds a new
kernel that is never freed.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfcourse.errors import ConfigError, ShapeError

_OBS_SPEC = (tf.TensorSpec([None, None], tf.float32, name="obs"),)
_KERNEL_INIT = {  # trunk kernels per activation
    "relu": lambda: "he_normal",
    "tanh": lambda: keras.initializers.Orthogonal(2**0.5),
}


@keras.saving.register_keras_serializable(package="tfcourse")
class ActorCritic(keras.Model):
    """Shared Dense trunk with a state-value head ``V(s)`` and a policy-logits head.

    Args:
        n_actions: number of discrete actions (2 for CartPole).
        hidden: widths of the shared Dense layers.
        activation: ``"relu"`` (He-normal kernels) or ``"tanh"`` (Orthogonal(sqrt 2) kernels,
            as in the Baselines/SB3 A2C networks).
        policy_init_scale: gain of an Orthogonal initialiser of the policy head's kernel
            (0.01: a near-uniform initial policy); 0 = Keras's Glorot-uniform default.
        **kwargs: passed to ``keras.Model`` (``name``, ``dtype``, ...). ``dtype="mixed_float16"``
            gives every Dense layer that policy: float16 matmuls, float32 weights; the outputs
            are cast back to float32, so the losses and sampling are float32 either way.

    Attributes:
        obs_dim: observation width, set when the model is built (None before).
    """

    def __init__(
        self,
        n_actions: int,
        hidden: Sequence[int] = (64, 64),
        activation: str = "relu",
        policy_init_scale: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        hidden = tuple(int(h) for h in hidden)
        if int(n_actions) < 1 or any(h < 1 for h in hidden) or activation not in _KERNEL_INIT:
            raise ConfigError(
                f"ActorCritic needs n_actions >= 1, positive hidden widths and activation relu "
                f"or tanh, got n_actions={n_actions}, hidden={list(hidden)}, {activation=}"
            )
        self.n_actions, self.hidden, self.obs_dim = int(n_actions), hidden, None
        self.activation, self.policy_init_scale = activation, float(policy_init_scale)
        policy = self.dtype_policy  # the model's (default: the global policy, float32)
        self.trunk = [
            keras.layers.Dense(
                h,
                activation=activation,
                kernel_initializer=_KERNEL_INIT[activation](),
                name=f"dense{i}",
                dtype=policy,
            )
            for i, h in enumerate(hidden, 1)
        ]
        self.value_head = keras.layers.Dense(1, name="value", dtype=policy)
        policy_init = (
            keras.initializers.Orthogonal(self.policy_init_scale)
            if self.policy_init_scale > 0
            else "glorot_uniform"
        )
        self.policy_head = keras.layers.Dense(
            self.n_actions, name="policy_logits", dtype=policy, kernel_initializer=policy_init
        )
        self._action_value_fn = tf.function(self._sample, input_signature=_OBS_SPEC)
        self._greedy_fn = tf.function(self._greedy, input_signature=_OBS_SPEC)
        self._graphs: dict[str, tf.types.experimental.ConcreteFunction] = {}

    def build(self, input_shape) -> None:
        """Create every weight for observations of shape ``[batch, obs_dim]``."""
        obs_dim = tuple(input_shape)[-1]
        if obs_dim is None:
            raise ShapeError("ActorCritic needs a known observation width to build its weights")
        shape = (None, int(obs_dim))
        for layer in self.trunk:
            layer.build(shape)
            shape = (None, layer.units)
        self.value_head.build(shape)
        self.policy_head.build(shape)
        self.obs_dim = int(obs_dim)
        self.built = True

    def call(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Forward pass: obs [batch, obs_dim] (cast to float32) to
        ``(values [batch], logits [batch, n_actions])``, both float32 (also under a mixed
        policy, whose layers compute in float16: the casts are no-ops in float32)."""
        x = tf.cast(obs, tf.float32)
        for layer in self.trunk:
            x = layer(x)
        values = tf.cast(tf.squeeze(self.value_head(x), axis=-1), tf.float32)
        return values, tf.cast(self.policy_head(x), tf.float32)

    def get_config(self) -> dict:
        mine = {
            "n_actions": self.n_actions,
            "hidden": list(self.hidden),
            "activation": self.activation,
            "policy_init_scale": self.policy_init_scale,
        }
        return {**super().get_config(), **mine}

    def _sample(self, obs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        values, logits = self(obs)
        return tf.random.categorical(logits, 1, dtype=tf.int32)[:, 0], values

    def _greedy(self, obs: tf.Tensor) -> tf.Tensor:
        return tf.argmax(self(obs)[1], axis=-1, output_type=tf.int32)

    def _prepare(self, obs) -> tf.Tensor:
        """Cast to float32 and check the shape once, in Python, before the compiled call."""
        if isinstance(obs, tf.Tensor):
            obs = obs if obs.dtype == tf.float32 else tf.cast(obs, tf.float32)
        else:
            obs = tf.constant(np.asarray(obs, dtype=np.float32))
        if len(obs.shape) != 2:
            raise ShapeError(
                f"observations must be [batch, obs_dim], got shape {list(obs.shape)}; "
                "add a batch axis with obs[None] for a single observation"
            )
        if not self.built:
            self.build(obs.shape)
        if obs.shape[-1] not in (None, self.obs_dim):
            raise ShapeError(
                f"this model was built for observations of width {self.obs_dim}, "
                f"got shape {list(obs.shape)}"
            )
        return obs

    def action_value(self, obs) -> tuple[tf.Tensor, tf.Tensor]:
        """Sample one action per row from ``softmax(logits)``; return ``V(s)`` too.

        obs [batch, obs_dim] (any real dtype) to ``(actions [batch] int32, values [batch])``.
        """
        return self._graph("action_value", self._action_value_fn)(self._prepare(obs))

    def greedy_actions(self, obs) -> tf.Tensor:
        """The most probable action per row (``argmax`` of the logits): [batch] int32."""
        return self._graph("greedy_actions", self._greedy_fn)(self._prepare(obs))

    def _graph(self, name: str, fn) -> tf.types.experimental.ConcreteFunction:
        """The one graph of the ``tf.function`` ``fn`` (traced on first use, then kept)."""
        if name not in self._graphs:
            self._graphs[name] = fn.get_concrete_function()
        return self._graphs[name]

    def tracing_counts(self) -> dict[str, int]:
        """How many graphs each compiled method has traced (1 each after first use)."""
        return {
            "action_value": self._action_value_fn.experimental_get_tracing_count(),
            "greedy_actions": self._greedy_fn.experimental_get_tracing_count(),
        }


def build_model(
    obs_dim: int,
    n_actions: int,
    hidden: Sequence[int] = (64, 64),
    dtype: str | None = None,
    activation: str = "relu",
    policy_init_scale: float = 0.0,
) -> ActorCritic:
    """An :class:`ActorCritic` whose weights exist (built by one call on zeros [1, obs_dim]).

    ``dtype``: a Keras dtype policy name, e.g. ``"mixed_float16"`` (default: the global one);
    ``activation`` and ``policy_init_scale`` as for :class:`ActorCritic`.
    """
    if int(obs_dim) < 1:
        raise ConfigError(f"obs_dim must be a positive integer, got {obs_dim}")
    model = ActorCritic(n_actions, hidden, activation, policy_init_scale, dtype=dtype)
    model(np.zeros((1, int(obs_dim)), np.float32))
    return model
