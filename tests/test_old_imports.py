"""Names moved to their own modules stay importable from where students first met them."""

from __future__ import annotations

import tfcourse
from tfcourse import data, preprocess, shapes, value_checks


def test_preprocessing_is_still_importable_from_data():
    from tfcourse.data import flatten_images, one_hot, scale_images

    assert scale_images is preprocess.scale_images is tfcourse.scale_images
    assert flatten_images is preprocess.flatten_images is tfcourse.flatten_images
    assert one_hot is preprocess.one_hot is tfcourse.one_hot
    assert data.one_hot([2], 3).tolist() == [[0.0, 0.0, 1.0]]  # notebook 02's spelling


def test_value_checks_are_still_importable_from_shapes():
    from tfcourse.shapes import check_batch_size, check_binary, check_finite, check_labels

    assert check_finite is value_checks.check_finite
    assert check_labels is value_checks.check_labels
    assert check_binary is value_checks.check_binary
    assert check_batch_size is value_checks.check_batch_size
    assert shapes.assert_shape is tfcourse.assert_shape
