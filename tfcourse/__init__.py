"""tfcourse: a thin, correct, fast teaching framework over TensorFlow 2 / Keras 3.

One folder per tutorial, one per wing that the tutorials share; each folder's ``__init__``
says what it holds and which notebook teaches it:

* :mod:`tfcourse.mlp`: tutorial 1, TensorFlow basics and an MLP on MNIST (notebooks 01, 02).
* :mod:`tfcourse.rl`: tutorial 2, A2C on CartPole (notebook 03).
* :mod:`tfcourse.review`: tutorial 3, the TF1-to-TF2 review and sine regression (notebook 04).
* :mod:`tfcourse.data`: loading, checking, preparing and batching the image data sets.
* :mod:`tfcourse.run`: one training run on disk (folder, lock, checkpoints, TensorBoard, plots).
* :mod:`tfcourse.scale`: devices, strategies, mixed precision and XLA (notebook 05).
* :mod:`tfcourse.grading`: graded exercises (release, the pytest plugin, Gradescope).

At the root, what every wing shares: :mod:`.errors`, :mod:`.settings`, :mod:`.presets`,
:mod:`.value_checks`, :mod:`.safe_write`, :mod:`.notebook_setup` and the command line
(:mod:`.cli`). A tutorial is a folder with ``model.py``, ``config.py`` (no TensorFlow: the CLI
builds ``tfcourse train <what> --help`` from it) and ``trainer.py``, registered in
:data:`tfcourse.cli.TRAINERS`.

Import every name from the module that defines it (``from tfcourse.mlp.model import MLP``).
No ``__init__`` imports anything, so ``import tfcourse`` and ``tfcourse --help`` never import
TensorFlow.
"""

__version__ = "0.2.0"
