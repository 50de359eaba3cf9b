"""Tests for tfcourse.data.loaders: real MNIST / Fashion-MNIST from shared/data, tiny hand-made
files, corrupt files and the offline error message. No test touches the network: the Keras download
step is replaced by a function that fails (or returns tiny arrays) in every test."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from tfcourse.data import loaders
from tfcourse.data.loaders import load_dataset, load_fashion_mnist, load_mnist
from tfcourse.data.preprocess import flatten_images, one_hot, scale_images
from tfcourse.errors import ConfigError, DataError, ShapeError


def _find_shared() -> Path | None:
    here = Path(__file__).resolve().parents[2] / "shared" / "data"
    if (here / "mnist.npz").is_file():
        return here
    env = os.environ.get("TFCOURSE_DATA")
    return Path(env) if env and (Path(env) / "mnist.npz").is_file() else None


SHARED = _find_shared()
needs_shared = pytest.mark.skipif(
    SHARED is None,
    reason="real data not found: neither ../shared/data (next to the repo) nor $TFCOURSE_DATA "
    "holds mnist.npz",
)
REAL_KERAS_DOWNLOAD = loaders._keras_download  # saved before the autouse fixture replaces it
IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No $TFCOURSE_DATA, an empty Keras home, and a download step that never goes online."""
    monkeypatch.delenv("TFCOURSE_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))

    def no_network(name):
        raise RuntimeError("network disabled in tests")

    monkeypatch.setattr(loaders, "_keras_download", no_network)


@pytest.fixture(scope="module")
def mnist():
    if SHARED is None:
        pytest.skip("real data not found (see needs_shared)")
    return load_mnist(path=SHARED / "mnist.npz", download=False)


def tiny(n_train=3, n_test=2, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_idx(file: Path, arr: np.ndarray, magic=None) -> Path:
    magic = magic if magic is not None else (0x803 if arr.ndim == 3 else 0x801)
    raw = struct.pack(f">I{arr.ndim}I", magic, *arr.shape) + arr.tobytes()
    if file.suffix == ".gz":
        raw = gzip.compress(raw)
    file.write_bytes(raw)
    return file


def write_idx_dir(folder: Path, arrays: dict, gz=True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, name in zip(("x_train", "y_train", "x_test", "y_test"), IDX_NAMES, strict=True):
        write_idx(folder / (name + (".gz" if gz else "")), arrays[key])
    return folder


def assert_equal_tiny(result, arrays):
    (xa, ya), (xb, yb) = result
    for got, key in zip((xa, ya, xb, yb), ("x_train", "y_train", "x_test", "y_test"), strict=True):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


# ---------------------------------------------------------------- real data


@needs_shared
def test_real_mnist_from_path(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert x_train.max() == 255 and x_train.min() == 0


@needs_shared
def test_real_mnist_label_counts(mnist):
    (_, y_train), (_, y_test) = mnist
    assert np.bincount(y_train).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@needs_shared
def test_real_mnist_from_env(monkeypatch, mnist):
    monkeypatch.setenv("TFCOURSE_DATA", str(SHARED))
    (x_train, y_train), (_, y_test) = load_dataset("mnist", download=False)
    np.testing.assert_array_equal(x_train, mnist[0][0])
    np.testing.assert_array_equal(y_test, mnist[1][1])
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


@needs_shared
def test_real_mnist_from_keras_cache(tmp_path, mnist):
    # the shared npz has a different file hash than Keras's; we read it ourselves anyway
    cache = tmp_path / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").symlink_to(SHARED / "mnist.npz")
    (_, y_train), _ = load_mnist(download=False)
    np.testing.assert_array_equal(y_train, mnist[0][1])


@needs_shared
def test_real_fashion_mnist_from_env(monkeypatch):
    if not (SHARED / "fashion-mnist").is_dir():
        pytest.skip(f"{SHARED / 'fashion-mnist'} is missing")
    monkeypatch.setenv("TFCOURSE_DATA", str(SHARED))
    (x_train, y_train), (x_test, y_test) = load_dataset("fashion-mnist", download=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


# ---------------------------------------------------------------- tiny files


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_idx_directory_via_path(tmp_path, gz):
    arrays = tiny()
    folder = write_idx_dir(tmp_path / "idx", arrays, gz=gz)
    assert_equal_tiny(load_mnist(path=folder, download=False), arrays)
    assert_equal_tiny(load_fashion_mnist(path=str(folder), download=False), arrays)


def test_fashion_layout_dir_via_path_and_env(tmp_path, monkeypatch):
    arrays = tiny(seed=1)
    write_idx_dir(tmp_path / "root" / "fashion-mnist", arrays)
    assert_equal_tiny(load_fashion_mnist(path=tmp_path / "root"), arrays)
    monkeypatch.setenv("TFCOURSE_DATA", str(tmp_path / "root"))
    assert_equal_tiny(load_dataset("Fashion-MNIST", download=False), arrays)


def test_npz_via_path(tmp_path):
    arrays = tiny(seed=2)
    np.savez(tmp_path / "small.npz", **arrays)
    assert_equal_tiny(load_dataset("mnist", path=tmp_path / "small.npz"), arrays)


def test_env_wins_over_keras_cache(tmp_path, monkeypatch):
    env_arrays, cache_arrays = tiny(seed=3), tiny(seed=4)
    (tmp_path / "env").mkdir()
    np.savez(tmp_path / "env" / "mnist.npz", **env_arrays)
    (tmp_path / "keras_home" / "datasets").mkdir(parents=True)
    np.savez(tmp_path / "keras_home" / "datasets" / "mnist.npz", **cache_arrays)
    monkeypatch.setenv("TFCOURSE_DATA", str(tmp_path / "env"))
    assert_equal_tiny(load_mnist(download=False), env_arrays)


# ---------------------------------------------------------------- missing / offline


def test_missing_everywhere_without_download(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("TFCOURSE_DATA", str(tmp_path / "empty"))
    with pytest.raises(DataError) as err:
        load_mnist(download=False)
    msg = str(err.value)
    assert "TFCOURSE_DATA" in msg and str(tmp_path / "empty" / "mnist.npz") in msg
    assert str(tmp_path / "keras_home" / "datasets" / "mnist.npz") in msg
    assert "not found" in msg and "download disabled" in msg
    assert "pass path=FILE_OR_FOLDER" in msg
    assert msg.endswith("connect to the internet and pass download=True so Keras can download it.")
    assert "--data-path" not in msg  # Python words for the Python API ...
    cli = err.value.cli_message  # ... and the same error in the CLI's words
    assert cli.startswith(msg.split("\nFix:")[0] + "\nFix: pass --data-path FILE")
    assert "set TFCOURSE_DATA=DIR holding mnist.npz (offline" in cli
    assert "path=" not in cli and "download=" not in cli.split("Fix:")[1]


def test_env_not_set_is_reported():
    with pytest.raises(DataError, match=r"\$TFCOURSE_DATA: not set"):
        load_fashion_mnist(download=False)


def test_offline_download_failure_is_reported(monkeypatch):
    def offline(name):
        raise OSError(f"URL fetch failure for {name}: no internet")

    monkeypatch.setattr(loaders, "_keras_download", offline)
    with pytest.raises(DataError) as err:
        load_mnist(download=True)
    msg = str(err.value)
    assert "download failed" in msg and "no internet" in msg and "not found" in msg
    assert msg.endswith("or connect to the internet so Keras can download it.")  # it tried


def test_real_keras_loader_is_wrapped(monkeypatch):
    """The real lazy import of keras is used; its loader is replaced so nothing goes online."""
    keras = pytest.importorskip("keras")
    monkeypatch.setattr(loaders, "_keras_download", REAL_KERAS_DOWNLOAD)
    calls = []

    def fake_load_data():
        calls.append(1)
        raise ConnectionError("simulated offline")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", fake_load_data)
    with pytest.raises(DataError, match="download failed: ConnectionError: simulated offline"):
        load_fashion_mnist()
    assert calls == [1]


def test_download_success_and_bad_download(monkeypatch):
    arrays = tiny(seed=5)
    good = ((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"]))
    monkeypatch.setattr(loaders, "_keras_download", lambda name: good)
    assert_equal_tiny(load_mnist(), arrays)
    bad = ((arrays["x_train"], arrays["y_train"] + 20), good[1])
    monkeypatch.setattr(loaders, "_keras_download", lambda name: bad)
    with pytest.raises(DataError, match=r"download failed.*outside 0\.\.9"):
        load_mnist()


# ---------------------------------------------------------------- corrupt files


@needs_shared
def test_truncated_npz_via_path(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes((SHARED / "mnist.npz").read_bytes()[:1000])
    with pytest.raises(DataError) as err:
        load_mnist(path=bad)
    msg = str(err.value)
    assert str(bad) in msg and "corrupt or truncated" in msg and "re-copy" in msg


def test_truncated_npz_in_env_is_listed(tmp_path, monkeypatch):
    np.savez_compressed(tmp_path / "full.npz", **tiny())
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "mnist.npz").write_bytes((tmp_path / "full.npz").read_bytes()[:1000])
    monkeypatch.setenv("TFCOURSE_DATA", str(tmp_path / "env"))
    with pytest.raises(DataError) as err:
        load_mnist(download=False)
    msg = str(err.value)
    assert f"{tmp_path / 'env' / 'mnist.npz'}: corrupt:" in msg
    assert "Keras cache" in msg and "download disabled" in msg


def test_corrupt_env_file_warns_when_cache_succeeds(tmp_path, monkeypatch):
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "mnist.npz").write_bytes(b"not a zip file at all")
    arrays = tiny(seed=6)
    (tmp_path / "keras_home" / "datasets").mkdir(parents=True)
    np.savez(tmp_path / "keras_home" / "datasets" / "mnist.npz", **arrays)
    monkeypatch.setenv("TFCOURSE_DATA", str(tmp_path / "env"))
    with pytest.warns(UserWarning, match=r"corrupt file.*env.*mnist\.npz"):
        result = load_mnist(download=False)
    assert_equal_tiny(result, arrays)


def _corrupt_idx_case(folder: Path, how: str) -> Path:
    """Write a valid tiny gz IDX set, then damage one file; return the damaged file."""
    write_idx_dir(folder, tiny())
    target = folder / "train-images-idx3-ubyte.gz"
    if how == "garbage":
        target.write_bytes(b"\x1f\x8b garbage, not a gzip stream" * 3)
    elif how == "crc":
        raw = bytearray(target.read_bytes())
        raw[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
        target.write_bytes(bytes(raw))
    elif how == "magic":
        write_idx(target, tiny()["x_train"], magic=0x801)
    elif how == "size":
        target.write_bytes(gzip.compress(gzip.decompress(target.read_bytes())[:-5]))
    elif how == "count":
        write_idx(target, tiny(n_train=4)["x_train"])
    return target


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("garbage", "cannot read it"),
        ("crc", "CRC"),
        ("magic", "magic number"),
        ("size", "bytes, but its header"),
        ("count", "4 train images but 3 train labels"),
    ],
)
def test_corrupt_idx_files(tmp_path, how, expected):
    target = _corrupt_idx_case(tmp_path / "idx", how)
    with pytest.raises(DataError) as err:
        load_fashion_mnist(path=tmp_path / "idx")
    msg = str(err.value)
    assert expected in msg and "corrupt or truncated" in msg and "re-copy" in msg
    assert (target.name in msg) or (how == "count" and str(tmp_path / "idx") in msg)


def test_incomplete_idx_set(tmp_path):
    folder = write_idx_dir(tmp_path / "idx", tiny())
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"missing.*t10k-labels-idx1-ubyte"):
        load_mnist(path=folder)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda a: a.pop("y_test"), "missing array(s) ['y_test']"),
        (lambda a: a.__setitem__("y_train", np.array([1, 12, 3], np.uint8)), "label 12, outside"),
        (lambda a: a.__setitem__("y_train", a["y_train"].astype(np.int64)), "dtype int64"),
        (lambda a: a.__setitem__("x_test", np.zeros((2, 28, 27), np.uint8)), "shape (2, 28, 27)"),
    ],
    ids=["missing-key", "label-range", "dtype", "shape"],
)
def test_bad_npz_contents(tmp_path, change, expected):
    arrays = tiny()
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError) as err:
        load_mnist(path=tmp_path / "bad.npz")
    assert expected in str(err.value) and "bad.npz" in str(err.value)


def test_npy_is_not_npz(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(3))
    with pytest.raises(DataError, match=r"not an \.npz archive"):
        load_mnist(path=tmp_path / "x.npy")


def test_explicit_path_missing_or_empty(tmp_path):
    with pytest.raises(DataError, match="does not exist") as err:
        load_mnist(path=tmp_path / "nowhere.npz")
    where = repr(str(tmp_path / "nowhere.npz"))
    assert str(err.value).startswith(f"path={where} does not exist. Pass an existing .npz")
    assert "leave path=None to search" in str(err.value)
    assert err.value.cli_message.startswith(f"--data-path {where} does not exist. Pass an ")
    assert "leave out --data-path to search" in err.value.cli_message
    with pytest.raises(DataError, match="holds neither"):
        load_mnist(path=tmp_path)


# ---------------------------------------------------------------- helpers


def test_load_dataset_unknown_name():
    with pytest.raises(ConfigError) as err:
        load_dataset("nope")
    assert "'nope'" in str(err.value) and "mnist" in str(err.value)
    assert "fashion_mnist" in str(err.value)
    assert loaders.DATASETS == ("mnist", "fashion_mnist")


def test_scale_images_values():
    x = np.array([[0, 255], [51, 102]], np.uint8)
    out = scale_images(x)
    assert out.dtype == np.float32 and out.shape == (2, 2)
    np.testing.assert_allclose(out, [[0.0, 1.0], [0.2, 0.4]], rtol=1e-6)
    with pytest.raises(ShapeError, match="already scaled"):
        scale_images(out)
    with pytest.raises(ShapeError, match=r"0\.\.255"):
        scale_images(np.array([0, 300]))


def test_flatten_images():
    x = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    flat = flatten_images(x)
    assert flat.shape == (2, 784) and flat.dtype == np.uint8
    np.testing.assert_array_equal(flat[1], np.arange(784, 1568).astype(np.uint8))
    assert flatten_images(flat) is flat
    for bad in (np.zeros(784), np.zeros((2, 28, 28, 1))):
        with pytest.raises(ShapeError, match=r"\[n, 28, 28\] or \[n, 784\]"):
            flatten_images(bad)


def test_one_hot_values_and_errors():
    out = one_hot([2, 0], 3)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0]])
    assert one_hot(np.array([9], np.uint8)).tolist() == [[0] * 9 + [1]]
    assert one_hot([], 4).shape == (0, 4)
    with pytest.raises(ShapeError, match=r"label 3 at index 1 is outside the valid range 0\.\.2"):
        one_hot([0, 3], 3)
    with pytest.raises(ShapeError, match="label -1"):
        one_hot([-1])
    with pytest.raises(ShapeError, match="integer labels"):
        one_hot([0.5, 1.0])
    with pytest.raises(ConfigError):
        one_hot([0], 0)
