"""The scale wing: devices, ``tf.distribute`` strategies, mixed precision and XLA around a step.

Taught by notebook ``05_scaling`` (devices also in ``04_tf_review``); every trainer runs its
plain step through :class:`~.scale_out.ScaleOut` (``--strategy``, ``--precision``, ``--jit``).

* :mod:`.scale_out`: :class:`~.scale_out.ScaleOut`, a plain step made distributed and compiled.
* :mod:`.distribute`: choosing a strategy and splitting global batches across replicas.
* :mod:`.precision`: float16 compute, float32 variables, loss scaling.
* :mod:`.devices`: what TensorFlow can run on here (``tfcourse info``), and how to configure it.

Import names from their module (``from tfcourse.scale.scale_out import ScaleOut``); this face
imports nothing.
"""
