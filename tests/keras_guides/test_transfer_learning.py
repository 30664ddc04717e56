"""The port of the keras-io guide "Transfer learning & fine-tuning" runs, its
weight counts and summaries are Keras's, and freezing does what the guide
says (see transfer_learning.py)."""

import re

import jax
import keras
import numpy as np
import pytest

import kerax
from tests.keras_guides.test_guides import run_port

if keras.backend.backend() != "jax":  # pragma: no cover - CI sets KERAS_BACKEND.
    pytest.skip("the Keras comparison needs KERAS_BACKEND=jax", allow_module_level=True)


def _keras_weight_counts():
    """The guide's three `print` blocks, run by Keras."""
    lines = []
    for make, freeze in (
        (lambda: keras.layers.Dense(3), False),
        (keras.layers.BatchNormalization, False),
        (lambda: keras.layers.Dense(3), True),
    ):
        layer = make()
        layer.build((None, 4))
        layer.trainable = not freeze
        lines += [
            f"weights: {len(layer.weights)}",
            f"trainable_weights: {len(layer.trainable_weights)}",
            f"non_trainable_weights: {len(layer.non_trainable_weights)}",
        ]
    return lines


def _keras_model():
    """The port's model (its Xception stand-in) in Keras."""
    layers = keras.layers
    base_inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(8, 3, strides=2, use_bias=False)(base_inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(16, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    base_model = keras.Model(base_inputs, x, name="xception")
    inputs = keras.Input((32, 32, 3))
    x = layers.Rescaling(scale=1 / 127.5, offset=-1)(inputs)
    x = base_model(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    return keras.Model(inputs, layers.Dense(1)(x)), base_model


def _totals(text):
    return re.findall(r"(Total|Trainable|Non-trainable) params: ([\d,]+)", text)


def _copy(tree):
    return jax.tree.map(np.array, tree)


def _trainable(layer, path=()):
    """`{path: trainable}` of `layer` and its sublayers: the flags a `fit`
    ran with (the port sets them in place, `base_model.trainable = ...`)."""
    out = {path: layer.trainable}
    for name, child in layer.children():
        out.update(_trainable(child, (*path, name)))
    return out


def test_transfer_learning(tmp_path, monkeypatch, capsys):
    # Each `fit` of the port, with its trainable flags and its weights
    # before and after (the TrainState passed in is donated).
    fits = []
    fit = kerax.Trainer.fit

    def recording_fit(self, ts, *args, **kwargs):
        before = _copy((ts.params, ts.state))
        ts, history = fit(self, ts, *args, **kwargs)
        fits.append((_trainable(self.model), before, _copy((ts.params, ts.state))))
        return ts, history

    monkeypatch.setattr(kerax.Trainer, "fit", recording_fit)
    run_port("transfer_learning", tmp_path, monkeypatch)
    out = capsys.readouterr().out

    # The guide's weight counts (Dense, BatchNormalization, frozen Dense)
    # are Keras's.
    counts = [line for line in out.splitlines() if "weights: " in line]
    assert counts == _keras_weight_counts()

    # The two summaries, base frozen then unfrozen: Keras's totals on the
    # same architecture, and its "Trainable" column for the base.
    keras_model, keras_base = _keras_model()
    keras_texts = []
    for trainable in (False, True):
        keras_base.trainable = trainable
        lines = []
        keras_model.summary(show_trainable=True, print_fn=lines.append)
        keras_texts.append("\n".join(lines))
    summaries = out.split('Model: "functional"')[1:]
    assert len(summaries) == 2
    for text, keras_text, mark in zip(summaries, keras_texts, "NY"):
        assert _totals(text) == _totals(keras_text)
        assert re.search(rf"│xception \(Model\) .*│{mark} +│", text)
        assert re.search(rf"xception \(Functional\).*{mark}", keras_text)

    assert len(fits) == 3
    # First fit: the frozen first layer is unchanged (the port checks it),
    # the second trained.
    _, (params_in, _), (params_out, _) = fits[0]
    assert not np.allclose(
        params_out["dense_1"]["kernel"], params_in["dense_1"]["kernel"]
    )

    # Training the top layer: the frozen base's weights and its
    # BatchNormalization statistics are unchanged; the classifier trained.
    flags, (params_in, state_in), (params_out, state_out) = fits[1]
    assert not flags[("xception",)]
    assert not any(v for k, v in flags.items() if k[:1] == ("xception",))
    jax.tree.map(
        np.testing.assert_array_equal, params_out["xception"], params_in["xception"]
    )
    jax.tree.map(
        np.testing.assert_array_equal, state_out["xception"], state_in["xception"]
    )
    assert not np.allclose(params_out["dense"]["kernel"], params_in["dense"]["kernel"])

    # Fine-tuning: the base trains. Its BatchNormalization statistics move
    # too, as in Keras 3 (the guide's prose says they do not): there, as
    # here, `fit`'s training=True overrides the `training=False` recorded
    # when the base was called, and an unfrozen BatchNormalization uses
    # batch statistics.
    flags, (params_in, state_in), (params_out, state_out) = fits[2]
    assert all(flags.values())
    kernel = params_out["xception"]["conv2d"]["kernel"]
    assert not np.array_equal(kernel, params_in["xception"]["conv2d"]["kernel"])
    means = [s["moving_mean"] for s in state_out["xception"].values()]
    means_in = [s["moving_mean"] for s in state_in["xception"].values()]
    assert not any(np.array_equal(a, b) for a, b in zip(means, means_in))
