"""Every layer family exports: SavedModel (variable batch), TFLite (float32 and
float16, fixed batch) and StableHLO, each verified against JAX by the exporter."""

import jax
import numpy as np
import pytest

import kerax
from kerax import layers

pytestmark = [pytest.mark.slow, pytest.mark.export]
pytest.importorskip("tensorflow", reason="needs the export extra")


def cnn():  # convolution, normalization, pooling, regularization, reshaping
    return kerax.Sequential(
        [
            kerax.Input((8, 8, 3)),
            layers.Conv2D(4, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.DepthwiseConv2D(3, padding="same"),
            layers.MaxPooling2D(),
            layers.Dropout(0.2),
            layers.ZeroPadding2D(1),
            layers.AveragePooling2D(2),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )


def text_lstm():  # Embedding with a mask, BatchNorm, Dropout, LSTM, GRU (the case Keras fails)
    return kerax.Sequential(
        [
            kerax.Input((6,), dtype="int32"),
            layers.Embedding(10, 4, mask_zero=True),
            layers.BatchNormalization(),
            layers.Dropout(0.3),
            layers.LSTM(5, return_sequences=True),
            layers.GRU(3),
            layers.Dense(2, activation="softmax"),
        ]
    )


def attention():  # attention, layer norm, merging, activations
    x = kerax.Input((5, 8), name="tokens")
    a = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    h = layers.LayerNormalization()(layers.Add()([x, a]))
    h = layers.Activation("gelu")(layers.Dense(8)(h))
    pooled = layers.Concatenate()(
        [layers.GlobalAveragePooling1D()(h), layers.GlobalMaxPooling1D()(h)]
    )
    return kerax.Model(x, layers.Dense(3)(pooled))


def preprocessing():  # preprocessing and reshaping inside the model
    return kerax.Sequential(
        [
            kerax.Input((8, 8, 3)),
            layers.Rescaling(1 / 255.0),
            layers.RandomFlip(),
            layers.Resizing(6, 6),
            layers.Conv2D(2, 3),
            layers.UpSampling2D(),
            layers.Cropping2D(1),
            layers.GlobalAveragePooling2D(),
        ]
    )


@pytest.mark.parametrize(
    "make", [cnn, text_lstm, attention, preprocessing], ids=lambda f: f.__name__
)
def test_family_exports(tmp_path, make):
    model = make()
    params, state = model.init(jax.random.key(0))
    if make is cnn:  # Non-trivial moving statistics.
        x = np.random.default_rng(0).standard_normal((16, 8, 8, 3)).astype(np.float32)
        _, state = model.apply(params, state, x, key=jax.random.key(1), training=True)
    sm = kerax.export.saved_model(model, params, state, tmp_path / "sm")
    assert sm.max_abs_diff <= 1e-5
    f32 = kerax.export.tflite(model, params, state, tmp_path / "m.tflite", batch_size=2)
    assert f32.max_abs_diff <= 1e-5 and not any(
        op.startswith("FLEX") or op == "CUSTOM" for op in f32.ops
    )
    f16 = kerax.export.tflite(
        model,
        params,
        state,
        tmp_path / "m16.tflite",
        batch_size=2,
        quantization="float16",
    )
    assert f16.max_abs_diff <= 1e-2
    shlo = kerax.export.stablehlo(model, params, state, tmp_path / "shlo")
    assert shlo.max_abs_diff <= 1e-6


def test_int8_on_a_recurrent_model_is_a_clear_error_or_works(tmp_path):
    """Full-int8 calibration segfaults on lax.scan models in TF 2.21: kerax reports it, never crashes."""
    model = text_lstm()
    params, state = model.init(jax.random.key(0))
    data = np.random.default_rng(0).integers(0, 10, (8, 6)).astype(np.int32)
    try:
        report = kerax.export.tflite(
            model,
            params,
            state,
            tmp_path / "q.tflite",
            quantization="int8",
            representative_data=data,
        )
    except kerax.export.ExportError as e:
        assert "crashed" in str(e) or "failed" in str(e)
        assert not (tmp_path / "q.tflite").exists()
    else:
        assert report.max_abs_diff <= report.tolerance
