"""The port of the keras-io guide "The Sequential model" runs, its summaries
and features match Keras's, and its transfer-learning blueprints train only
what they leave trainable (see sequential_model.py)."""

import re

import jax
import keras
import numpy as np
import pytest

import kerax
from tests.keras_guides.test_guides import run_port

if keras.backend.backend() != "jax":  # pragma: no cover - CI sets KERAS_BACKEND.
    pytest.skip("the Keras comparison needs KERAS_BACKEND=jax", allow_module_level=True)


def _keras_debugging_model(stage):
    layers = keras.layers
    stack = [
        keras.Input(shape=(250, 250, 3)),
        layers.Conv2D(32, 5, strides=2, activation="relu"),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(3),
    ]
    if stage == 2:
        stack += [
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(3),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
        ]
    return keras.Sequential(stack)


def _copy(tree):
    return jax.tree.map(np.array, tree)


def test_sequential_model(tmp_path, monkeypatch, capsys):
    # Each `fit` of the port, recorded with its weights before and after
    # (the TrainState passed in is donated).
    fits = []
    fit = kerax.Trainer.fit

    def recording_fit(self, ts, *args, **kwargs):
        before = _copy((ts.params, ts.state))
        ts, history = fit(self, ts, *args, **kwargs)
        fits.append((self.model, before, _copy((ts.params, ts.state))))
        return ts, history

    monkeypatch.setattr(kerax.Trainer, "fit", recording_fit)
    scope = run_port("sequential_model", tmp_path, monkeypatch)
    out = capsys.readouterr().out

    # The printed counts are the guide's: 2 layers after pop(), 6 weights.
    assert "2" in out.splitlines()
    assert "Number of weights after calling the model: 6" in out
    # The debugging workflow's summaries: the guide's (40, 40, 32) and
    # (4, 4, 32), and Keras's parameter counts at both stages.
    assert "(None, 40, 40, 32)" in out and "(None, 4, 4, 32)" in out
    totals = [
        int(t.replace(",", "")) for t in re.findall(r"Total params: ([\d,]+)", out)
    ]
    for stage in (1, 2):
        assert _keras_debugging_model(stage).count_params() in totals

    # Feature extraction: the intermediate layer's output is Keras's on the
    # same weights.
    extractor = scope["feature_extractor"]
    params, _ = extractor.init(scope["key"])  # The port's params (same key).
    keras_initial = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            keras.layers.Conv2D(32, 5, strides=2, activation="relu"),
            keras.layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
            keras.layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    keras_extractor = keras.Model(
        inputs=keras_initial.inputs,
        outputs=keras_initial.get_layer(name="my_intermediate_layer").output,
    )
    keras_extractor.set_weights(extractor.get_weights(params))
    x = np.ones((1, 250, 250, 3), np.float32)
    assert scope["features"].shape == (1, 121, 121, 32)
    np.testing.assert_allclose(
        scope["features"], keras_extractor([x]), rtol=1e-4, atol=1e-5
    )

    # Transfer learning, first blueprint: the loaded (pre-trained) weights
    # of every layer but the last are unchanged by training; the last trained.
    assert len(fits) == 2
    model, (params_in, _), (params_out, _) = fits[0]
    names = [name for name, _ in model.named_layers()]
    assert len(names) == 4
    for name in names[:-1]:
        np.testing.assert_array_equal(
            params_out[name]["kernel"], params_in[name]["kernel"]
        )
    assert not np.allclose(
        params_out[names[-1]]["kernel"], params_in[names[-1]]["kernel"]
    )
    saved, _ = kerax.load_weights(tmp_path / "pretrained.weights.h5", model)
    np.testing.assert_array_equal(
        params_in[names[0]]["kernel"], saved[names[0]]["kernel"]
    )

    # Second blueprint: the frozen base (weights and BatchNormalization
    # statistics) is unchanged; the new classifier trained.
    model, (params_in, state_in), (params_out, state_out) = fits[1]
    assert [name for name, _ in model.named_layers()] == ["xception", "dense"]
    jax.tree.map(
        np.testing.assert_array_equal, params_out["xception"], params_in["xception"]
    )
    jax.tree.map(
        np.testing.assert_array_equal, state_out["xception"], state_in["xception"]
    )
    assert not np.allclose(params_out["dense"]["kernel"], params_in["dense"]["kernel"])
    assert params_out["dense"]["kernel"].shape == (8, 1000)
