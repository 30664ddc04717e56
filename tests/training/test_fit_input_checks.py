"""fit's input checks: containers of non-arrays and out-of-range sparse labels."""

import numpy as np
import pytest

import kerax
from kerax import layers as L


def _trainer():
    model = kerax.Sequential([kerax.Input((3,)), L.Dense(4)])
    return kerax.Trainer(model, optimizer="sgd", loss="sparse_categorical_crossentropy")


@pytest.mark.parametrize(
    "x, match",
    [
        ({"a": [1.0, 2.0, 3.0]}, r"`x\['a'\]` is a list"),
        ([[1.0, 2.0, 3.0], [1.0, 2.0]], "ragged Python list"),
        ([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], "nested Python list"),
    ],
)
def test_non_array_x_is_a_clear_error(x, match):
    trainer = _trainer()
    with pytest.raises(ValueError, match=match):
        trainer.fit(None, x, np.zeros(2, "int32"), epochs=1, verbose=0)


@pytest.mark.parametrize("bad", [4, -1])
def test_sparse_labels_out_of_range_are_an_error(rng, bad):
    trainer = _trainer()
    x = rng.normal(size=(8, 3)).astype("float32")
    y = np.zeros(8, "int32")
    y[5] = bad
    with pytest.raises(ValueError, match=r"4 classes.*\[0, 4\)"):
        trainer.fit(None, x, y, epochs=1, batch_size=4, verbose=0)


def test_valid_sparse_labels_train(rng):
    trainer = _trainer()
    x = rng.normal(size=(8, 3)).astype("float32")
    ts, _ = trainer.fit(None, x, np.arange(8) % 4, epochs=1, batch_size=4, verbose=0)
    assert int(ts.step) == 2
