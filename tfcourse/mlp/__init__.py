"""Tutorial 1: TensorFlow basics and a multi-layer perceptron on MNIST, from raw variables.

Taught by notebooks ``01_tensorflow_basics`` (:mod:`.basics`) and ``02_mnist_mlp`` (the rest);
graded by ``assignments/tutorial1_mlp``; trained by ``tfcourse train mlp``.

* :mod:`.basics`: the graph of ``a = (b + c) * (c + 2)``, eager, compiled and logged.
* :mod:`.model`: :class:`~.model.MLP` of ``tf.Variable`` objects, ``loss_fn``, ``accuracy``
  and the plain ``train_step`` the trainer compiles.
* :mod:`.config`: :class:`~.config.MLPConfig`, the settings behind ``tfcourse train mlp``.
* :mod:`.data`: the images as model inputs, checked once.
* :mod:`.trainer`: :class:`~.trainer.MLPTrainer` and ``train_mlp``.

Import names from their module (``from tfcourse.mlp.model import MLP``): this face imports
nothing, so that ``tfcourse train mlp --help`` reads :mod:`.config` without TensorFlow.
"""
