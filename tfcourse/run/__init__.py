"""The run wing: one training run on disk, shared by every trainer.

A run folder (``runs/<name>-seed<seed>-<time>/``) holds ``config.json``, TensorBoard events,
checkpoints, ``metrics.json`` and figures. Notebook ``01_tensorflow_basics`` introduces
TensorBoard (:mod:`.summaries`), ``02_mnist_mlp`` resuming a run, ``04_tf_review`` checkpoints.

* :mod:`.lifecycle`: :class:`~.lifecycle.Run` — open (new or resumed), log, save, finish —
  and ``check_loss``, which stops a run whose loss diverged.
* :mod:`.folder`: run names, new and latest run folders, ``config.json`` and ``metrics.json``.
* :mod:`.lock`: one trainer per run folder (``flock``).
* :mod:`.checkpoints`: save, and restore the newest checkpoint that restores.
* :mod:`.summaries`: TensorBoard scalars, hyper-parameters and graphs, written and read back.
* :mod:`.plots`: learning curves and other figures, saved as PNG.
* :mod:`.trainer_base`: what the compiled trainers share (``fit``).

Import names from their module (``from tfcourse.run.lifecycle import Run``): this face imports
nothing, so that the config modules, which check run names with :mod:`.folder`, stay free of
TensorFlow.
"""
