"""Operators and `kerax.ops` on graph nodes, checked against Keras's KerasTensors."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest

import kerax
from kerax import ops
from kerax.ops._symbolic import OpLayer

X = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
Z = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")


def _graphs(lib, dense):
    """The same graphs in Keras and kerax: `{name: (inputs, outputs)}`."""
    o = keras.ops if lib is keras else ops
    a = lib.Input((3,), name="a")
    b = lib.Input((3,), name="b")
    h = dense(a)
    return {
        "residual": ([a, b], h + b),
        "concatenate": ([a, b], o.concatenate([h, b], axis=-1)),
        "get_item": ([a, b], h[:, 0] - b[:, 1:3][:, 1]),
        "mean": ([a, b], o.mean(h * b, axis=1)),
        "scalar": ([a, b], 2 * h - 1.5 / (abs(b) + 1)),
        "negative": ([a, b], -h + o.expand_dims(o.sum(b, axis=-1), -1) ** 2),
        "compare": ([a, b], o.where(h > b, h, b)),
    }


def _keras_dense():
    dense = keras.layers.Dense(3, name="dense")
    dense.build((None, 3))
    dense.set_weights(
        [np.arange(9, dtype="float32").reshape(3, 3) / 10, np.ones(3, "float32")]
    )
    return dense


def _params(dense):
    kernel, bias = dense.get_weights()
    return {"dense": {"kernel": jnp.asarray(kernel), "bias": jnp.asarray(bias)}}


@pytest.mark.parametrize("which", list(_graphs(kerax, kerax.layers.Dense(3))))
def test_outputs_and_shapes_match_keras(which):
    kd = _keras_dense()
    k_in, k_out = _graphs(keras, kd)[which]
    x_in, x_out = _graphs(kerax, kerax.layers.Dense(3, name="dense"))[which]
    assert x_out.shape == tuple(k_out.shape)
    assert x_out.dtype == k_out.dtype
    want = np.asarray(keras.Model(k_in, k_out)([X, Z]))
    model = kerax.Model(x_in, x_out)
    y, _ = jax.jit(model.apply)(_params(kd), {}, [X, Z])
    np.testing.assert_allclose(np.asarray(y), want, rtol=1e-6, atol=1e-6)


def test_names_follow_keras_and_layers_skip_ops():
    def build(lib):
        o = keras.ops if lib is keras else ops
        a = lib.Input((3,), name="a")
        h = lib.layers.Dense(3, name="dense")(a)
        y = o.concatenate([h + a, -h, (h + 1)[:, :2]], axis=-1)
        return lib.Model(a, o.mean(y, axis=1))

    keras.backend.clear_session()  # Keras's op names count per session.
    k_model, x_model = build(keras), build(kerax)
    assert [x_model.layer_name(op) for op in x_model.operations] == [
        op.name for op in k_model.operations
    ]
    kinds = {type(op) for op in x_model.operations}
    assert kinds == {kerax.layers.InputLayer, kerax.layers.Dense, OpLayer}
    assert [layer.name for layer in x_model.layers] == [
        layer.name for layer in k_model.layers
    ]
    # An op node carries no mask, as Keras's ops propagate none.
    e = kerax.layers.Embedding(5, 2, mask_zero=True)(kerax.Input((3,), dtype="int32"))
    assert e.mask is not None and (e * 2).mask is None


def test_trains_with_trainer():
    a = kerax.Input((3,))
    h = kerax.layers.Dense(3)(a)
    y = ops.mean(h + a, axis=-1, keepdims=True) * 2.0
    trainer = kerax.Trainer(kerax.Model(a, y), optimizer=optax.sgd(0.1), loss="mse")
    ts = trainer.init(jax.random.key(0))
    target = X.sum(axis=-1, keepdims=True)
    before = trainer.evaluate(ts, X, target, verbose=0)
    ts, _ = trainer.fit(ts, X, target, epochs=5, batch_size=4, verbose=0)
    after = trainer.evaluate(ts, X, target, verbose=0)
    loss = lambda r: r["loss"] if isinstance(r, dict) else r  # noqa: E731
    assert loss(after) < loss(before)


def test_config_round_trip():
    x_in, x_out = _graphs(kerax, kerax.layers.Dense(3, name="dense"))["get_item"]
    model = kerax.Model(x_in, [x_out, ops.concatenate((x_in[0], x_in[1]), axis=0)])
    config = json.loads(json.dumps(model.get_config()))
    again = kerax.Model.from_config(config)
    params = _params(_keras_dense())
    y1, _ = model.apply(params, {}, [X, Z])
    y2, _ = again.apply(params, {}, [X, Z])
    for u, v in zip(y1, y2):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    assert [again.layer_name(op) for op in again.operations] == [
        model.layer_name(op) for op in model.operations
    ]


def test_keras_file_loads_in_kerax(tmp_path):
    graphs = _graphs(keras, _keras_dense())
    k_in = graphs["residual"][0]
    outs = [graphs[k][1] for k in ("residual", "concatenate", "get_item", "mean")]
    k_model = keras.Model(k_in, outs)
    path = str(tmp_path / "k.keras")
    k_model.save(path)
    model, params, state = kerax.load_model(path)
    got, _ = model.apply(params, state, [X, Z])
    for g, w in zip(got, k_model([X, Z])):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6, atol=1e-6)


def test_kerax_file_loads_in_keras(tmp_path):
    graphs = _graphs(kerax, kerax.layers.Dense(3, name="dense"))
    x_in = graphs["residual"][0]
    outs = [graphs[k][1] for k in ("residual", "concatenate", "get_item", "scalar")]
    model = kerax.Model(x_in, outs)
    params = _params(_keras_dense())
    path = str(tmp_path / "x.keras")
    kerax.save_model(path, model, params)
    k_model = keras.saving.load_model(path)
    want, _ = model.apply(params, {}, [X, Z])
    for g, w in zip(k_model([X, Z]), want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6, atol=1e-6)


def test_clear_errors():
    x = kerax.Input((3,))
    with pytest.raises(TypeError, match="ops.where"):
        if x > 0:
            pass
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)
    with pytest.raises(TypeError, match=r"kerax.ops.matmul .*\(None, 3\)"):
        ops.matmul(x, kerax.Input((4, 2)))
    # Identity, not values: nodes stay usable as dict keys.
    assert {x: 1}[x] == 1 and x == x
