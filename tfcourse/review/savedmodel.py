"""Save, restore and serve a trained model: checkpoints for training, SavedModel for serving.

Two formats, two jobs:

* a **checkpoint** (``tf.train.Checkpoint``) stores variable *values*. Restoring needs the
  Python code that builds the model: make a fresh model, then load the values into it. That
  is what training uses to resume, and what :func:`load_trained_model` does. (TF1's
  ``tf.train.Saver`` played this role; see :mod:`tfcourse.review.compat_v1`.)
* a **SavedModel** (``tf.saved_model.save``) stores the values *and* the traced graph of each
  exported function. :func:`load_savedmodel` gives back something you can call for
  predictions without any of this package's code, and TensorFlow Serving can load it too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfcourse import safe_write
from tfcourse.errors import TfcourseError
from tfcourse.review.shapes import assert_shape
from tfcourse.review.sine import SineMLP
from tfcourse.run import checkpoints, folder

SIGNATURE = "serving_default"
INPUT_NAME, OUTPUT_NAME = "x", "y"


def load_trained_model(run_dir: str | os.PathLike) -> SineMLP:
    """Rebuild the model of a ``train sine`` run and load its newest checkpoint into it.

    The fresh model starts from different random values (seed + 1000); every one of them is
    replaced by the checkpoint's. Only the model is restored: the optimizer state is skipped.

    Raises:
        TfcourseError: if ``run_dir`` has no config.json or no matching checkpoint.
    """
    config_file = Path(run_dir) / folder.CONFIG_FILE
    if not config_file.is_file():
        raise TfcourseError(f"{config_file} not found; pass the run directory of a sine run")
    cfg = safe_write.load_json(config_file)
    model = SineMLP((1, *[cfg["hidden"]] * cfg["depth"], 1), seed=cfg["seed"] + 1000)
    ckpt, manager = checkpoints.make_manager(run_dir, model=model)
    path = manager.latest_checkpoint
    if path is None:
        raise TfcourseError(f"no checkpoint in {manager.directory}; train the run first")
    try:  # like checkpoints.restore_latest, but the optimizer's values are skipped on purpose
        ckpt.restore(path).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as exc:
        raise TfcourseError(
            f"checkpoint {path} does not match the model in {config_file} "
            f"({str(exc).splitlines()[0]}); was the run directory modified?"
        ) from None
    return model


def export_savedmodel(model: SineMLP, directory: str | os.PathLike) -> Path:
    """Export ``model`` with a ``serving_default`` signature ``x: [None, in] float32 -> y``.

    Args:
        model: a (trained) :class:`~tfcourse.review.sine.SineMLP`.
        directory: where to write (created; an existing export is overwritten).

    Returns:
        The export directory.
    """
    spec = tf.TensorSpec([None, model.sizes[0]], tf.float32, name=INPUT_NAME)
    serve = tf.function(lambda x: {OUTPUT_NAME: model(x)}, input_signature=[spec])
    tf.saved_model.save(model, os.fspath(directory), signatures={SIGNATURE: serve})
    return Path(directory)


def load_savedmodel(directory: str | os.PathLike) -> Any:
    """Load an export of :func:`export_savedmodel` (no tfcourse code is needed to use it).

    Raises:
        TfcourseError: if ``directory`` holds no SavedModel or lacks the serving signature.
    """
    if not tf.saved_model.contains_saved_model(os.fspath(directory)):
        raise TfcourseError(
            f"no SavedModel in {os.fspath(directory)!r}; export one first with "
            "tfcourse.review.savedmodel.export_savedmodel(model, directory)"
        )
    loaded = tf.saved_model.load(os.fspath(directory))
    if SIGNATURE not in loaded.signatures:
        raise TfcourseError(
            f"the SavedModel in {os.fspath(directory)!r} has no {SIGNATURE!r} signature "
            f"(it has {sorted(loaded.signatures)}); re-export it with export_savedmodel"
        )
    return loaded


def serve(loaded: Any, x: Any) -> np.ndarray:
    """Predict through the serving signature, as a server would.

    Args:
        loaded: the result of :func:`load_savedmodel`.
        x: [n, 1] inputs (cast to float32).

    Returns:
        [n, 1] float32 predictions.

    Raises:
        ShapeError: if ``x`` is not [n, 1] (e.g. a flat [n] array: use ``x[:, None]``).
    """
    signature = loaded.signatures[SIGNATURE]
    width = signature.structured_input_signature[1][INPUT_NAME].shape[-1]
    x = assert_shape(tf.cast(x, tf.float32), [None, width], name="serving input")
    return signature(**{INPUT_NAME: x})[OUTPUT_NAME].numpy()
