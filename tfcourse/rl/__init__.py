"""Tutorial 2: advantage actor-critic (A2C) on CartPole and Acrobot.

Taught by notebook ``03_a2c_cartpole``; graded by ``assignments/tutorial2_a2c``; trained by
``tfcourse train a2c`` and evaluated by ``tfcourse eval a2c``.

* :mod:`.returns`: discounted returns, advantages and GAE(λ), as pure functions.
* :mod:`.model`: :class:`~.model.ActorCritic`, a shared trunk with value and policy heads.
* :mod:`.a2c`: the lesson in one file — the three losses, a rollout's loss, the update step.
* :mod:`.rollout`: vectorised environments and n-step rollouts.
* :mod:`.normalize`, :mod:`.lr`: observation/reward normalisation, the learning rate.
* :mod:`.config`: :class:`~.config.A2CConfig`, the settings behind ``tfcourse train a2c``.
* :mod:`.trainer`: :class:`~.trainer.A2CTrainer` and ``train_a2c``; :mod:`.progress` its bar.
* :mod:`.evaluate`: greedy evaluation and a GIF of one episode.

Import names from their module (``from tfcourse.rl.model import ActorCritic``): this face
imports nothing, so that ``tfcourse train a2c --help`` reads :mod:`.config` without
TensorFlow.
"""
