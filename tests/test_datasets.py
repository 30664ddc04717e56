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


def _sha(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local mirror folder (file:// base URL) and empty kerax/Keras caches."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    monkeypatch.setenv("KERAX_HOME", str(tmp_path / "kerax_home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("KERAX_DATASETS_BASE_URL", folder.as_uri())
    return folder


def test_mnist_and_fashion_download(mirror, monkeypatch, rng, tmp_path):
    arrays = {
        k: rng.integers(0, 255, (n, 28, 28), dtype=np.uint8)
        for k, n in [("x_train", 6), ("x_test", 2)]
    }
    arrays.update(
        y_train=np.arange(6, dtype=np.uint8), y_test=np.arange(2, dtype=np.uint8)
    )
    np.savez(mirror / "mnist.npz", **arrays)
    with pytest.raises(ValueError, match="not the expected"):
        datasets.mnist.load_data()  # Keras's real hash: the fake file is refused.
    monkeypatch.setattr(datasets.mnist, "SHA256", _sha(mirror / "mnist.npz"))
    (x, y), (xt, yt) = datasets.mnist.load_data()
    np.testing.assert_array_equal(x, arrays["x_train"])
    assert x.dtype == np.uint8 and y.shape == (6,) and xt.shape == (2, 28, 28)
    assert (tmp_path / "kerax_home" / "datasets" / "mnist.npz").exists()
    for name, header, data in [
        ("train-labels-idx1-ubyte.gz", 8, arrays["y_train"]),
        ("train-images-idx3-ubyte.gz", 16, arrays["x_train"]),
        ("t10k-labels-idx1-ubyte.gz", 8, arrays["y_test"]),
        ("t10k-images-idx3-ubyte.gz", 16, arrays["x_test"]),
    ]:
        with gzip.open(mirror / name, "wb") as out:
            out.write(b"\0" * header + data.tobytes())
    (x, y), (xt, yt) = datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(xt, arrays["x_test"])
    assert (tmp_path / "kerax_home" / "datasets" / "fashion-mnist").is_dir()
    (x, y), _ = datasets.get("mnist")
    assert x.shape == (6, 28, 28, 1) and x.dtype == np.float32


def test_verified_keras_cache_is_reused(mirror, monkeypatch, rng, tmp_path):
    keras_dir = tmp_path / "keras_home" / "datasets"
    keras_dir.mkdir(parents=True)
    x = rng.integers(0, 255, (3, 28, 28), dtype=np.uint8)
    np.savez(
        keras_dir / "mnist.npz",
        x_train=x,
        y_train=x[:, 0, 0],
        x_test=x,
        y_test=x[:, 0, 0],
    )
    monkeypatch.setattr(datasets.mnist, "SHA256", _sha(keras_dir / "mnist.npz"))
    (xl, _), _ = datasets.mnist.load_data()  # The mirror is empty: no download.
    np.testing.assert_array_equal(xl, x)


def _cifar_archive(mirror, name, folder, batches):
    import io
    import tarfile

    with tarfile.open(mirror / name, "w:gz") as tar:
        for fname, payload in batches.items():
            data = pickle.dumps(payload)
            info = tarfile.TarInfo(f"{folder}/{fname}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return _sha(mirror / name)


def test_cifar10_and_100_download_and_refuse_code(mirror, monkeypatch, rng):
    data = rng.integers(0, 255, (2, 3072), dtype=np.uint8)
    good = {b"data": data, b"labels": [1, 2]}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    digest = _cifar_archive(
        mirror,
        "cifar-10-python.tar.gz",
        "cifar-10-batches-py",
        dict.fromkeys(names, good),
    )
    monkeypatch.setattr(datasets.cifar10, "SHA256", digest)
    (x, y), (xt, yt) = datasets.cifar10.load_data()
    assert x.shape == (10, 32, 32, 3) and y.shape == (10, 1) and y.dtype == np.uint8
    np.testing.assert_array_equal(xt[0], data[0].reshape(3, 32, 32).transpose(1, 2, 0))

    fine = {b"data": data, b"fine_labels": [5, 7], b"coarse_labels": [1, 0]}
    digest = _cifar_archive(
        mirror,
        "cifar-100-python.tar.gz",
        "cifar-100-python",
        {"train": fine, "test": fine},
    )
    monkeypatch.setattr(datasets.cifar100, "SHA256", digest)
    (_, y), _ = datasets.cifar100.load_data("coarse")
    assert y.tolist() == [[1], [0]]
    with pytest.raises(ValueError, match="label_mode"):
        datasets.cifar100.load_data("medium")

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = {b"data": Evil(), b"labels": []}
    digest = _cifar_archive(
        mirror,
        "cifar-10-python.tar.gz",
        "cifar-10-batches-py",
        dict.fromkeys(names, evil),
    )
    monkeypatch.setattr(datasets.cifar10, "SHA256", digest)
    monkeypatch.setenv("KERAX_HOME", str(mirror.parent / "fresh_home"))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        datasets.cifar10.load_data()


def _ragged(lists):
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


def test_imdb_matches_keras(mirror, monkeypatch, rng, tmp_path):
    keras_datasets = pytest.importorskip("keras.datasets")
    # Python ints, as in Keras's files (NumPy scalars would need more globals).
    lists = [rng.integers(1, 40, rng.integers(3, 12)).tolist() for _ in range(20)]
    np.savez(
        mirror / "imdb.npz",
        x_train=_ragged(lists[:12]),
        y_train=rng.integers(0, 2, 12),
        x_test=_ragged(lists[12:]),
        y_test=rng.integers(0, 2, 8),
    )
    monkeypatch.setattr(datasets.imdb, "SHA256", _sha(mirror / "imdb.npz"))
    from keras.src.datasets import imdb as keras_imdb
    from keras.src.datasets import reuters as keras_reuters

    # Keras reads the same file (its loader would fetch its own origin).
    monkeypatch.setattr(
        keras_imdb, "get_file", lambda *a, **k: str(mirror / "imdb.npz")
    )
    kwargs = dict(num_words=30, skip_top=2, maxlen=10)
    (x, y), (xt, yt) = datasets.imdb.load_data(**kwargs)
    (kx, ky), (kxt, kyt) = keras_datasets.imdb.load_data(**kwargs)
    assert [list(s) for s in x] == [list(s) for s in kx]
    assert [list(s) for s in xt] == [list(s) for s in kxt]
    np.testing.assert_array_equal(y, ky)
    assert x.dtype == object and y.dtype == ky.dtype

    np.savez(mirror / "reuters.npz", x=_ragged(lists), y=rng.integers(0, 46, 20))
    monkeypatch.setattr(datasets.reuters, "SHA256", _sha(mirror / "reuters.npz"))
    monkeypatch.setattr(
        keras_reuters, "get_file", lambda *a, **k: str(mirror / "reuters.npz")
    )
    (x, y), (xt, yt) = datasets.reuters.load_data(num_words=25)
    (kx, ky), (kxt, kyt) = keras_datasets.reuters.load_data(num_words=25)
    assert [list(s) for s in xt] == [list(s) for s in kxt]
    np.testing.assert_array_equal(y, ky)
    (xp, yp), _ = datasets.get("reuters", maxlen=8)
    assert xp.shape == (16, 8) and xp.dtype == np.int32
    assert datasets.reuters.get_label_names()[3] == "earn"


def test_word_index(mirror, monkeypatch):
    import hashlib

    (mirror / "imdb_word_index.json").write_text('{"the": 1, "a": 2}')
    with pytest.raises(ValueError, match="md5"):
        datasets.imdb.get_word_index()
    digest = hashlib.md5((mirror / "imdb_word_index.json").read_bytes()).hexdigest()
    monkeypatch.setattr(datasets.imdb, "WORD_INDEX_MD5", digest)
    assert datasets.imdb.get_word_index() == {"the": 1, "a": 2}


def test_housing_matches_keras_split(mirror, monkeypatch, rng, tmp_path):
    keras_datasets = pytest.importorskip("keras.datasets")
    x, y = rng.normal(size=(700, 8)), rng.normal(size=(700,))
    np.savez(mirror / "california_housing.npz", x=x, y=y)
    monkeypatch.setattr(
        datasets.california_housing, "SHA256", _sha(mirror / "california_housing.npz")
    )
    (a, b), (c, d) = datasets.california_housing.load_data("small", test_split=0.25)
    from keras.src.datasets import california_housing as keras_housing

    monkeypatch.setattr(
        keras_housing,
        "get_file",
        lambda *a, **k: str(mirror / "california_housing.npz"),
    )
    (ka, kb), (kc, kd) = keras_datasets.california_housing.load_data(
        "small", test_split=0.25
    )
    for mine, theirs in [(a, ka), (b, kb), (c, kc), (d, kd)]:
        np.testing.assert_array_equal(mine, theirs)
    np.savez(mirror / "boston_housing.npz", x=x[:50, : 13 - 5], y=y[:50])
    monkeypatch.setattr(
        datasets.boston_housing, "SHA256", _sha(mirror / "boston_housing.npz")
    )
    (a, b), (c, d) = datasets.boston_housing.load_data()
    assert a.shape == (40, 8) and c.shape == (10, 8)
    (a, b), _ = datasets.get("boston_housing")
    assert a.dtype == np.float32 and b.shape == (40, 1)
    with pytest.raises(ValueError, match="test_split"):
        datasets.boston_housing.load_data(test_split=1.0)


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
