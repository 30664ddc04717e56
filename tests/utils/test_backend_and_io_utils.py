"""Keras's small helpers: dtype names, graph inputs, batch packing, the
interactive-logging switch and the global image data format."""

import io

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest
from absl import logging as absl_logging

import kerax


@pytest.mark.parametrize(
    "dtype",
    [
        None,
        float,
        int,
        bool,
        str,
        "float16",
        "bfloat16",
        np.int8,
        np.dtype("uint16"),
        jnp.float32,
        "complex64",
    ],
)
def test_standardize_dtype_matches_keras(dtype):
    assert kerax.utils.standardize_dtype(dtype) == keras.utils.standardize_dtype(dtype)
    name = kerax.backend.standardize_dtype(dtype)
    if name != "string":
        assert kerax.backend.is_float_dtype(dtype) == keras.backend.is_float_dtype(
            dtype
        )
        assert kerax.backend.is_int_dtype(dtype) == keras.backend.is_int_dtype(dtype)


def test_standardize_dtype_rejects_unknown_names():
    with pytest.raises(ValueError, match="Invalid dtype: 'float128'"):
        kerax.backend.standardize_dtype("float128")


def test_get_source_inputs_in_keras_order():
    def graph(lib):
        a, b, c = (lib.Input((3,), name=n) for n in "abc")
        left = lib.layers.Add(name="add")([b, lib.layers.Dense(3, name="d")(a)])
        out = lib.layers.Concatenate(name="cat")([left, c, a])
        return out, left

    for tensor_k, tensor_x in zip(*(graph(lib) for lib in (keras, kerax))):
        want = [t.name.split(":")[0] for t in keras.utils.get_source_inputs(tensor_k)]
        got = [n.op.name for n in kerax.utils.get_source_inputs(tensor_x)]
        assert got == want
    assert kerax.utils.is_keras_tensor(kerax.Input((2,)))
    assert not kerax.utils.is_keras_tensor(np.zeros(2))
    assert kerax.utils.get_source_inputs(3) == 3


@pytest.mark.parametrize(
    "args",
    [(1,), ((1, 2),), (1, 2), (1, 2, 3), ([1, 2], None, None), (1, None, 3)],
)
def test_pack_and_unpack_match_keras(args):
    packed = kerax.utils.pack_x_y_sample_weight(*args)
    assert packed == keras.utils.pack_x_y_sample_weight(*args)
    assert kerax.utils.unpack_x_y_sample_weight(
        packed
    ) == keras.utils.unpack_x_y_sample_weight(packed)


def _fit_output(capsys, **fit_kwargs):
    model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    trainer = kerax.Trainer(model, optax.sgd(0.1), "mse")
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    early = kerax.callbacks.EarlyStopping(
        monitor="loss", patience=0, min_delta=1e9, verbose=1
    )
    trainer.fit(
        trainer.init(jax.random.key(0)),
        x,
        y,
        epochs=3,
        batch_size=4,
        callbacks=[early],
        **fit_kwargs,
    )
    return capsys.readouterr().out


def test_disabled_interactive_logging_sends_messages_to_absl(capsys, monkeypatch):
    records = []
    monkeypatch.setattr(
        absl_logging, "info", lambda msg, *a: records.append(msg % a if a else msg)
    )
    assert kerax.config.is_interactive_logging_enabled()
    on = _fit_output(capsys, verbose=1)
    assert "Epoch 1/3" in on and "early stopping" in on and not records
    kerax.config.disable_interactive_logging()
    try:
        assert not kerax.utils.is_interactive_logging_enabled()
        off = _fit_output(capsys, verbose=1)
    finally:
        kerax.config.enable_interactive_logging()
    assert off == ""
    # One record per message: no bar redraws, no carriage returns.
    assert records[0] == "Epoch 1/3"
    assert any(r.startswith("2/2 ") and "loss:" in r for r in records)
    assert any("early stopping" in r for r in records)
    assert not any("\r" in r for r in records)


def test_an_explicit_stream_ignores_the_switch():
    out = io.StringIO()
    kerax.config.disable_interactive_logging()
    try:
        bar = kerax.utils.Progbar(2, verbose=2, stream=out)
        bar.update(2, [("loss", 1.0)])
    finally:
        kerax.config.enable_interactive_logging()
    assert out.getvalue().startswith("2/2")


def test_set_image_data_format_sets_the_default_of_new_layers():
    assert kerax.config.image_data_format() == "channels_last"
    kerax.config.set_image_data_format("channels_first")
    try:
        conv = kerax.layers.Conv2D(4, 3)
        pool = kerax.layers.MaxPooling2D()
        explicit = kerax.layers.Conv2D(4, 3, data_format="channels_last")
        array = kerax.utils.img_to_array(np.zeros((5, 6, 3), "uint8"))
    finally:
        kerax.config.set_image_data_format("channels_last")
    assert conv.data_format == pool.data_format == "channels_first"
    assert explicit.data_format == "channels_last"
    assert array.shape == (3, 5, 6)
    assert conv.get_config()["data_format"] == "channels_first"  # Stored resolved.
    assert kerax.layers.Conv2D(4, 3).data_format == "channels_last"
    with pytest.raises(ValueError, match="set_image_data_format: expected"):
        kerax.config.set_image_data_format("NHWC")
