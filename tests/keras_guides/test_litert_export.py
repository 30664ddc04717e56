"""The port of the keras-io guide "Exporting Keras models to LiteRT" runs,
and every `.tflite` it writes gives, in the LiteRT interpreter, the kerax
model's outputs (and Keras's, on the same weights; see litert_export.py)."""

import jax
import keras
import numpy as np
import pytest

import kerax
from tests.keras_guides.test_guides import run_port

pytestmark = [pytest.mark.slow, pytest.mark.export]
pytest.importorskip("tensorflow", reason="needs the export extra")
pytest.importorskip("ai_edge_litert", reason="needs the export extra")

if keras.backend.backend() != "jax":  # pragma: no cover - CI sets KERAS_BACKEND.
    pytest.skip("the Keras comparison needs KERAS_BACKEND=jax", allow_module_level=True)


def _litert(path, inputs):
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(path)).get_signature_runner("serving_default")
    return runner(**inputs)


def test_litert_export(tmp_path, monkeypatch, capsys):
    # Each export of the port, recorded with the model and weights it got.
    exports = {}
    tflite = kerax.export.tflite

    def recording_tflite(model, params, state, path, **kwargs):
        report = tflite(model, params, state, path, **kwargs)
        exports[str(path)] = (model, params, state, kwargs, report)
        return report

    monkeypatch.setattr(kerax.export, "tflite", recording_tflite)
    scope = run_port("litert_export", tmp_path, monkeypatch)
    out = capsys.readouterr().out
    assert sorted(exports) == sorted(
        [
            "model.tflite",
            "subclass_model.tflite",
            "multi_input_model.tflite",
            "dict_model.tflite",
            "custom_sig_model.tflite",
            "model_dynamic_quant.tflite",
        ]
    )
    # The guide's printed shapes: batch 1, resized to 4 at run time.
    assert "Input shape : [ 1 10]" in out and "Output shape: [ 1 10]" in out
    assert "Inference output shape: (1, 10)" in out
    assert "Resized output shape: (4, 10)" in out
    assert "'inputs': ['inputs']" in out  # The signature list.

    # The interpreter's outputs are the kerax model's, resized to batch 4,
    # and at batch 1 through the signature runner.
    model, params, state, _, _ = exports["model.tflite"]

    def predict(x):
        return np.asarray(model.apply(params, state, x)[0])

    np.testing.assert_allclose(
        scope["resized_output"], predict(scope["batch_input"]), atol=1e-6
    )
    np.testing.assert_allclose(
        scope["sig_output"]["output_0"], predict(scope["sample_input"]), atol=1e-6
    )
    # ... and Keras's on the same weights.
    keras_model = keras.Sequential(
        [
            keras.Input((10,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    keras_model.set_weights(model.get_weights(params))
    np.testing.assert_allclose(
        scope["resized_output"], keras_model(scope["batch_input"]), atol=1e-6
    )

    # Every other artifact runs in LiteRT and gives its model's outputs.
    rng = np.random.default_rng(0)
    x = rng.random((1, 10)).astype("float32")
    y = rng.random((1, 10)).astype("float32")
    inputs = {
        "subclass_model.tflite": ({"inputs": x}, x),
        "multi_input_model.tflite": ({"input_a": x, "input_b": y}, [x, y]),
        "dict_model.tflite": ({"x": x, "y": y}, {"x": x, "y": y}),
        "custom_sig_model.tflite": ({"inputs": x}, x),
        "model_dynamic_quant.tflite": ({"inputs": x}, x),
    }
    for path, (named, model_input) in inputs.items():
        model, params, state, kwargs, report = exports[path]
        want = np.asarray(model.apply(params, state, model_input)[0])
        got = _litert(tmp_path / path, named)["output_0"]
        atol = 5e-2 if "quant" in path else 1e-5
        np.testing.assert_allclose(got, want, atol=atol, err_msg=path)

    # The multi-input model is Keras's on the same weights.
    model, params, state, _, _ = exports["multi_input_model.tflite"]
    a = keras.Input((10,), name="input_a")
    b = keras.Input((10,), name="input_b")
    keras_multi = keras.Model(
        [a, b], keras.layers.Dense(1)(keras.layers.Concatenate()([a, b]))
    )
    keras_multi.set_weights(model.get_weights(params))
    got = _litert(
        tmp_path / "multi_input_model.tflite", inputs["multi_input_model.tflite"][0]
    )
    np.testing.assert_allclose(got["output_0"], keras_multi([x, y]), atol=1e-5)

    # The guide's options: `input_signature` gives the custom-signature model
    # a symbolic batch (a fixed batch of 1 in the file), and
    # `optimizations=[tf.lite.Optimize.DEFAULT]` quantizes the weights to int8
    # (the converter leaves kernels under 1024 values in float32: the two
    # 640-value kernels here, so the file is about half the float32 one).
    assert exports["custom_sig_model.tflite"][4].notes.startswith("batch 1")
    quant = exports["model_dynamic_quant.tflite"][4]
    assert quant.notes.endswith("quantization dynamic_range")
    size = (tmp_path / "model.tflite").stat().st_size
    assert (tmp_path / "model_dynamic_quant.tflite").stat().st_size < 0.6 * size
    assert jax.tree.leaves(exports["model_dynamic_quant.tflite"][1])  # Weights.
