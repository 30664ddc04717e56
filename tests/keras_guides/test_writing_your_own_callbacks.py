"""The port of the keras-io guide "Writing your own callbacks" runs, its
hooks fire as Keras fires them, and its callbacks do what the guide says
(see writing_your_own_callbacks.py)."""

import re

import keras
import numpy as np
import pytest

from kerax.optimizers import get_learning_rate
from tests.keras_guides.test_guides import run_port

if keras.backend.backend() != "jax":  # pragma: no cover - CI sets KERAS_BACKEND.
    pytest.skip("the Keras comparison needs KERAS_BACKEND=jax", allow_module_level=True)

HOOKS = [
    f"on_{what}"
    for what in (
        "train_begin",
        "train_end",
        "epoch_begin",
        "epoch_end",
        "test_begin",
        "test_end",
        "predict_begin",
        "predict_end",
        "train_batch_begin",
        "train_batch_end",
        "test_batch_begin",
        "test_batch_end",
        "predict_batch_begin",
        "predict_batch_end",
    )
]


def _hook_lines(out):
    # kerax also logs the learning rate in the training logs (Keras does not).
    return [
        line.replace("'learning_rate', ", "")
        for line in out.splitlines()
        if "got log keys" in line
    ]


def _keras_run_of_the_basic_example(scope):
    """The guide's first example in Keras: the same model and data, and the
    port's own `CustomCallback` hooks on a Keras callback."""
    custom = scope["CustomCallback"]
    KerasCallback = type(
        "CustomCallback",
        (keras.callbacks.Callback,),
        {hook: vars(custom)[hook] for hook in HOOKS},
    )
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    x_train, y_train = scope["x_train"], scope["y_train"]
    x_test, y_test = scope["x_test"], scope["y_test"]
    model.fit(
        x_train,
        y_train,
        batch_size=128,
        epochs=1,
        verbose=0,
        validation_split=0.5,
        callbacks=[KerasCallback()],
    )
    model.evaluate(
        x_test, y_test, batch_size=128, verbose=0, callbacks=[KerasCallback()]
    )
    model.predict(x_test, batch_size=128, verbose=0, callbacks=[KerasCallback()])


def test_writing_your_own_callbacks(tmp_path, monkeypatch, capsys):
    scope = run_port("writing_your_own_callbacks", tmp_path, monkeypatch)
    out = capsys.readouterr().out

    # The basic example: every hook of fit (with validation), evaluate and
    # predict fired in Keras's order, with Keras's batch indices and log keys.
    _keras_run_of_the_basic_example(scope)
    keras_lines = _hook_lines(capsys.readouterr().out)
    # fit: 4 + 2 batches x 2 (train) + 2 + 2 batches x 2 (validation);
    # evaluate and predict: 2 + 4 batches x 2 each.
    assert len(keras_lines) == 14 + 10 + 10
    assert _hook_lines(out) == keras_lines

    # Early stopping at minimum loss: the guide's run stopped early...
    match = re.search(r"Epoch (\d+): early stopping", out)
    assert match and int(match.group(1)) < 30
    assert "Restoring model weights from the end of the best epoch." in out
    # ... and, rerun here (the same seeds), it stops where the loss first
    # rises and hands back the best epoch's weights in the returned state.
    trainer = scope["get_model"]()
    stopper = scope["EarlyStoppingAtMinLoss"]()
    x_train, y_train = scope["x_train"], scope["y_train"]
    ts, history = trainer.fit(
        trainer.init(scope["key"], x_train),
        x_train,
        y_train,
        batch_size=64,
        epochs=30,
        verbose=0,
        callbacks=[stopper],
    )
    losses = history.history["loss"]
    assert 0 < stopper.stopped_epoch == len(losses) - 1 == int(match.group(1)) - 1
    assert losses[-1] >= losses[-2] and stopper.best == min(losses) == losses[-2]
    kernel, bias = stopper.best_weights  # Keras's order: the kernel, then the bias.
    assert kernel.shape == (784, 1) and bias.shape == (1,)
    np.testing.assert_array_equal(np.asarray(ts.params["dense"]["kernel"]), kernel)
    np.testing.assert_array_equal(np.asarray(ts.params["dense"]["bias"]), bias)

    # Learning rate scheduling: the printed rates are Keras's (a float32
    # variable read back, a Python float when the schedule sets one) ...
    expected, lr = [], np.float32(0.1)
    for epoch in range(15):
        scheduled = scope["lr_schedule"](epoch, lr)
        expected.append(
            f"Epoch {epoch}: Learning rate is {float(np.array(scheduled))}."
        )
        lr = np.float32(scheduled)
    assert [line for line in out.splitlines() if "Learning rate is" in line] == expected
    # ... and the optimizer trained each epoch at the scheduled rate.
    rates = [0.1] * 3 + [0.05] * 3 + [0.01] * 3 + [0.005] * 3 + [0.001] * 3
    logged = scope["history"].history["learning_rate"]
    np.testing.assert_allclose(logged, np.float32(rates), rtol=1e-7)
    assert float(get_learning_rate(scope["ts"].opt_state)) == np.float32(0.001)
