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


# ----------------------------------------------- op nodes in .keras files
W = np.linspace(-1.0, 1.0, 20).astype("float32").reshape(4, 5)

# Groups of ops (options given positionally where Keras allows it) on an
# input of shape (batch, 3, 4): each group is one model, written by kerax
# and read by Keras, and written by Keras and read by kerax.
KERAS_FILE_GROUPS = {
    "shapes": lambda o, x: [
        o.reshape(x, (-1, 12)),
        o.expand_dims(x, -1),
        o.transpose(x, (0, 2, 1)),
        o.swapaxes(x, 1, 2),
        o.moveaxis(x, 1, 2),
        o.squeeze(o.expand_dims(x, 1), 1),
        o.tile(x, (1, 2, 1)),
        o.repeat(x, 2, 1),
    ],
    "reductions": lambda o, x: [
        o.mean(x, 1),
        o.sum(x, axis=(1, 2)),
        o.cumsum(x, 1),
        o.argmax(x, -1),
        o.sort(x, -1),
        o.cast(x, "int32"),
        o.cast(round(x) != x, "float32"),
    ],
    "combine": lambda o, x: [
        o.concatenate([x, 2 * x], 1),
        o.stack([x, x], 1),
        o.unstack(x, axis=1)[1],
        o.where(x > 0, x, 0.0),
        o.clip(x, -0.5, 0.5),
        o.take(x, [0, 2], axis=1),
        o.einsum("bij->bji", x),
    ],
    "constants_and_families": lambda o, x: [
        x @ W,
        o.matmul(x, W),
        x[:, 1:, ::2],
        x[..., 0],
        o.roll(x, 1, 2),
        o.tril(x, -1),
        o.softmax(x, 1),
        o.relu(x),
        o.image.resize(o.expand_dims(x, -1), (2, 2)),
    ],
}


def _op_entries(path):
    import zipfile

    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    return [
        e for e in config["config"]["layers"] if e["module"].startswith("keras.src.ops")
    ]


@pytest.mark.parametrize("group", list(KERAS_FILE_GROUPS))
def test_op_nodes_in_keras_files_both_directions(group, tmp_path):
    build = KERAS_FILE_GROUPS[group]
    x = np.random.default_rng(2).normal(size=(2, 3, 4)).astype("float32")
    # kerax -> .keras -> Keras (and kerax again).
    i = kerax.Input((3, 4))
    model = kerax.Model(i, build(ops, i))
    params, state = model.init(jax.random.key(0))
    want, _ = model.apply(params, state, x)
    path = str(tmp_path / "x.keras")
    kerax.save_model(path, model, params, state)
    got_keras = keras.saving.load_model(path)(x)
    again, p2, s2 = kerax.load_model(path)
    got_kerax, _ = again.apply(p2, s2, x)
    for w, gk, gx in zip(want, got_keras, got_kerax):
        np.testing.assert_allclose(np.asarray(gk), np.asarray(w), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np.asarray(gx), np.asarray(w), rtol=1e-6, atol=1e-6)
    # Keras -> .keras -> kerax.
    ki = keras.Input((3, 4))
    k_model = keras.Model(ki, build(keras.ops, ki))
    k_path = str(tmp_path / "k.keras")
    k_model.save(k_path)
    model, params, state = kerax.load_model(k_path)
    got, _ = model.apply(params, state, x)
    for g, w in zip(got, k_model(x)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6, atol=1e-6)
    # kerax writes Keras's op classes, modules and options (a subset of
    # Keras's config: Keras also writes its defaults), tensors as call args.
    ours, theirs = _op_entries(path), _op_entries(k_path)

    def same(e, k):
        return (e["module"], e["class_name"]) == (k["module"], k["class_name"]) and all(
            k["config"].get(key) == v for key, v in e["config"].items() if key != "name"
        )  # Names aside: Keras numbers them process-wide.

    assert len(ours) == len(theirs)
    for e in ours:
        k = next((k for k in theirs if same(e, k)), None)
        assert k is not None, e
        theirs.remove(k)
        assert len(e["inbound_nodes"][0]["args"]) == len(k["inbound_nodes"][0]["args"])


def test_keras_file_options_without_keras(monkeypatch):
    """Without Keras, options are written under kerax's parameter names."""
    from kerax.ops import _symbolic

    monkeypatch.setattr(_symbolic, "_keras_modules", lambda: None)
    monkeypatch.setattr(_symbolic, "keras_op_class", lambda op: None)
    i = kerax.Input((4,))
    y = ops.reshape(i, (-1, 2, 2))
    entry, args = y.op.keras_operation([i])
    assert entry["class_name"] == "Reshape"
    assert entry["config"] == {"name": y.op.name, "newshape": [-1, 2, 2]}
    assert args == [i]


def test_ops_keras_cannot_hold_raise_clear_errors(tmp_path):
    i = kerax.Input((3, 4))
    model = kerax.Model(i, ops.adaptive_reduce(i, 1, 2, "average"))
    params, state = model.init(jax.random.key(0))
    with pytest.raises(
        ValueError, match=r"Keras has no op class for kerax.ops.adaptive_reduce"
    ):
        kerax.save_model(str(tmp_path / "a.keras"), model, params, state)
    kerax.save_model(
        str(tmp_path / "a_dir"), model, params, state
    )  # kerax's own format.
    again, p2, s2 = kerax.load_model(str(tmp_path / "a_dir"))
    x = np.ones((2, 3, 4), "float32")
    np.testing.assert_array_equal(
        np.asarray(again.apply(p2, s2, x)[0]),
        np.asarray(model.apply(params, state, x)[0]),
    )
    model = kerax.Model(i, ops.sort(i, descending=True))
    with pytest.raises(ValueError, match=r"Sort has no option \['descending'\]"):
        kerax.save_model(str(tmp_path / "s.keras"), model, {}, {})
