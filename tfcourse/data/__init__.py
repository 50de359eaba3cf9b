"""The data wing: MNIST-style image data sets, loaded, checked, prepared and cut into batches.

Taught by notebook ``02_mnist_mlp``; used by the MLP trainer (:mod:`tfcourse.mlp.data`).

* :mod:`.loaders`: ``load_mnist``, ``load_fashion_mnist`` and ``load_dataset`` (numpy only).
* :mod:`.files`: reading the data files and checking what is in them.
* :mod:`.preprocess`: ``scale_images``, ``flatten_images``, ``one_hot``.
* :mod:`.batching`: ``get_batch``, ``epoch_batches``, ``shuffled_batches``, ``make_dataset``.

Import names from their module (``from tfcourse.data.loaders import load_mnist``); this face
imports nothing.
"""
