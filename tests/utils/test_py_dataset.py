"""Keras-style PyDataset subclasses feed Trainer.fit/evaluate/predict."""

import threading
import warnings

import jax
import numpy as np
import pytest

import kerax
from kerax import layers, utils


class Batches(utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.events = []
        self.threads = set()

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, idx):
        self.threads.add(threading.get_ident())
        s = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        return self.x[s], self.y[s]

    def on_epoch_begin(self):
        self.events.append("begin")

    def on_epoch_end(self):
        self.events.append("end")


@pytest.mark.parametrize("workers", [1, 3])
def test_epoch_iterable_reads_in_order_with_hooks(workers):
    ds = Batches(np.arange(10.0), np.arange(10.0), 3, workers=workers, max_queue_size=2)
    for _ in range(2):
        got = [x.tolist() for x, _ in ds.epoch_iterable()]
        assert got == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert ds.events == ["begin", "end"] * 2
    assert len(ds.epoch_iterable()) == 4
    assert [len(x) for x, _ in ds] == [3, 3, 3, 1]  # Plain iteration: no hooks.
    assert ds.events == ["begin", "end"] * 2


def test_missing_super_init_and_multiprocessing_warn():
    class NoSuper(utils.PyDataset):
        def __init__(self):
            self.size = 1  # Forgets super().__init__(**kwargs).

        def __len__(self):
            return 1

        def __getitem__(self, i):
            return np.zeros(1), np.zeros(1)

    with pytest.warns(UserWarning, match="super"):
        assert NoSuper().workers == 1
    ds = Batches(np.zeros(2), np.zeros(2), 1, use_multiprocessing=True)
    with pytest.warns(UserWarning, match="threads"):
        list(ds.epoch_iterable())


def test_trainer_fits_evaluates_and_predicts_a_py_dataset(rng):
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x @ np.ones((4, 1), "float32")).astype("float32")
    model = kerax.Sequential([kerax.Input((4,)), layers.Dense(1)])
    trainer = kerax.Trainer(model, optimizer="sgd", loss="mse")
    ts = trainer.init(jax.random.key(0))
    ds = Batches(x, y, 8, workers=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # super().__init__ was called: no warning.
        ts, history = trainer.fit(ts, ds, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert ds.events == ["begin", "end"] * 3
    logs = trainer.evaluate(ts, ds, verbose=0, return_dict=True)
    np.testing.assert_allclose(
        logs["loss"],
        trainer.evaluate(ts, x, y, batch_size=8, verbose=0, return_dict=True)["loss"],
        rtol=1e-5,
    )
    pred = trainer.predict(ts, Batches(x, y, 8), verbose=0)
    assert pred.shape == (32, 1)
