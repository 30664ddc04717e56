"""CIFAR-10 from the Keras cache folder `cifar-10-batches-py/` (no download).

The batches are Python pickles. They are read with a restricted unpickler
that only builds dicts, lists, bytes and NumPy arrays: a tampered file cannot
make it import or call anything else.
"""

from __future__ import annotations

import pickle

import numpy as np

from kerax.datasets._cache import keras_datasets_dir, require

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"cifar10: refusing to load {module}.{name} from a data file."
        )


def _load_batch(path):
    with open(path, "rb") as f:
        d = _SafeUnpickler(f, encoding="bytes").load()
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    x = np.asarray(d["data"], np.uint8).reshape(-1, 3, 32, 32)
    return x, np.asarray(d["labels"], np.uint8)


def load_data():
    """`(x_train, y_train), (x_test, y_test)`: uint8 (N, 32, 32, 3), labels (N, 1), like Keras."""
    folder = keras_datasets_dir() / "cifar-10-batches-py"
    origin = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (extracted)"
    xs, ys = [], []
    for i in range(1, 6):
        x, y = _load_batch(require(folder / f"data_batch_{i}", "cifar10", origin))
        xs.append(x)
        ys.append(y)
    x_test, y_test = _load_batch(require(folder / "test_batch", "cifar10", origin))
    x_train = np.concatenate(xs).transpose(0, 2, 3, 1)
    return (x_train, np.concatenate(ys)[:, None]), (
        x_test.transpose(0, 2, 3, 1),
        y_test[:, None],
    )
