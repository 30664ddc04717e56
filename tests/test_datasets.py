import gzip
import pickle

import numpy as np
import pytest

from kerax import datasets


def test_digits_offline():
    (x, y), (xt, yt) = datasets.digits.load_data()
    assert (
        x.shape[1:] == (8, 8, 1)
        and x.dtype == np.float32
        and 0 <= x.min()
        and x.max() <= 1
    )
    assert len(x) + len(xt) == 1797 and set(np.unique(y)) == set(range(10))


def test_missing_cache_file_says_where(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"does not download.*mnist.npz"):
        datasets.mnist.load_data()
    with pytest.raises(FileNotFoundError, match="fashion-mnist"):
        datasets.fashion_mnist.load_data()


def test_mnist_and_fashion_from_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    d = tmp_path / "datasets"
    d.mkdir()
    rng = np.random.default_rng(0)
    arrays = {
        k: rng.integers(0, 255, (n, 28, 28), dtype=np.uint8)
        for k, n in [("x_train", 6), ("x_test", 2)]
    }
    arrays.update(
        y_train=np.arange(6, dtype=np.uint8), y_test=np.arange(2, dtype=np.uint8)
    )
    np.savez(d / "mnist.npz", **arrays)
    (x, y), (xt, yt) = datasets.mnist.load_data()
    np.testing.assert_array_equal(x, arrays["x_train"])
    f = d / "fashion-mnist"
    f.mkdir()
    for name, header, data in [
        ("train-labels-idx1-ubyte.gz", 8, arrays["y_train"]),
        ("train-images-idx3-ubyte.gz", 16, arrays["x_train"]),
        ("t10k-labels-idx1-ubyte.gz", 8, arrays["y_test"]),
        ("t10k-images-idx3-ubyte.gz", 16, arrays["x_test"]),
    ]:
        with gzip.open(f / name, "wb") as out:
            out.write(b"\0" * header + data.tobytes())
    (x, y), (xt, yt) = datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(xt, arrays["x_test"])
    (x, y), _ = datasets.get("mnist")
    assert x.shape == (6, 28, 28, 1) and x.dtype == np.float32


def test_cifar_refuses_code_in_pickles(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    folder = tmp_path / "datasets" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    good = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 2]}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps(good))
    (x, y), (xt, yt) = datasets.cifar10.load_data()
    assert x.shape == (10, 32, 32, 3) and y.shape == (10, 1)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        datasets.cifar10.load_data()


@pytest.mark.parametrize(
    "name",
    [
        "synthetic_classification",
        "synthetic_regression",
        "synthetic_sequences",
        "synthetic_images",
    ],
)
def test_synthetic(name):
    (x, y), (xt, yt) = datasets.get(name)
    assert len(x) > len(xt) > 0 and len(x) == len(y)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="available"):
        datasets.get("imagenet")
