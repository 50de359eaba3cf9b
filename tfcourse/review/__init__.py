"""Tutorial 3: the TensorFlow review — TF1 beside TF2, shapes, sine regression, saving models.

Taught by notebook ``04_tf_review``; graded by ``assignments/tutorial3_review``; trained by
``tfcourse train sine``.

* :mod:`.compat_v1`: the review's graph-and-session examples and the same computations in TF2.
* :mod:`.shapes`: shape guards against silent broadcasting (``assert_shape``).
* :mod:`.sine`: the sine data, :class:`~.sine.SineMLP`, its losses and ``train_step``.
* :mod:`.sine_v1`: the same regression written the TF1 way (one graph, one session).
* :mod:`.config`: :class:`~.config.SineConfig`, the settings behind ``tfcourse train sine``.
* :mod:`.trainer`: :class:`~.trainer.SineTrainer` and ``train_sine``.
* :mod:`.savedmodel`: checkpoints for training, SavedModel for serving.

Import names from their module (``from tfcourse.review.sine import SineMLP``): this face
imports nothing, so that ``tfcourse train sine --help`` reads :mod:`.config` without
TensorFlow.
"""
