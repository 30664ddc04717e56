"""kerax.remat and kerax.RematScope against keras.remat / keras.RematScope."""

import contextlib

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from jax._src import core as jax_core
from keras.src.backend.common import remat as keras_remat

import kerax
from kerax.core.remat import RematScope, get_current_remat_mode, mode_of, remat
from kerax.training.steps import contains_primitive

# `jax.checkpoint`'s primitive: "remat2" in the installed JAX ("checkpoint" in
# older ones).
REMAT_NAMES = ("remat2", "checkpoint")
BATCH = 8


def has_remat(jaxpr) -> bool:
    return any(contains_primitive(jaxpr, n) for n in REMAT_NAMES)


def rematerialized_names(jaxpr) -> list:
    """The layer of each `jax.checkpoint` in `jaxpr` (nested ones too): the
    named scope its body opens (the whole layer), or the one it sits in
    (an activation checkpointed inside its layer)."""
    found = []

    def walk(j):
        j = getattr(j, "jaxpr", j)
        for eqn in j.eqns:
            if eqn.primitive.name in REMAT_NAMES:
                inner = eqn.params["jaxpr"]
                inner = getattr(inner, "jaxpr", inner)
                scopes = [str(e.source_info.name_stack) for e in inner.eqns]
                if scopes and all(s and s == scopes[0] for s in scopes[:1]):
                    found.append(scopes[0].split("/")[0])
                else:
                    found.append(str(eqn.source_info.name_stack).split("/")[-1])
            for sub in jax_core.jaxprs_in_params(eqn.params):
                walk(sub)

    walk(jaxpr)
    return sorted(found)


# With `scope`, the layers are made in it and the model outside it: a Keras model made
# inside `RematScope("larger_than")` fails when called (Keras 3.15.1 asks its
# Functional for an output spec and hands Dense an input shape of None).


def kerax_model(scope=None):
    with scope or contextlib.nullcontext():
        inp = kerax.Input((6,), name="x")
        h = kerax.layers.Dense(16, activation="relu", name="small")(inp)
        h = kerax.layers.Dense(200, name="big")(h)
        h = kerax.layers.Activation("tanh", name="act")(h)
        out = kerax.layers.Dense(3, name="head")(h)
    return kerax.Model(inp, out, name="m")


def keras_model(scope=None):
    with scope or contextlib.nullcontext():
        inp = keras.Input((6,), name="x")
        h = keras.layers.Dense(16, activation="relu", name="small")(inp)
        h = keras.layers.Dense(200, name="big")(h)
        h = keras.layers.Activation("tanh", name="act")(h)
        out = keras.layers.Dense(3, name="head")(h)
    return keras.Model(inp, out, name="m")


def _x():
    return np.random.default_rng(0).normal(size=(BATCH, 6)).astype("float32")


def kerax_picks(scope):
    model = kerax_model(scope)
    params, state = model.init(jax.random.key(0), kerax.spec((None, 6)))
    jaxpr = jax.make_jaxpr(lambda p: model.apply(p, state, jnp.asarray(_x()))[0])(
        params
    )
    return rematerialized_names(jaxpr)


def keras_picks(scope, monkeypatch):
    """The layers Keras rematerializes in an eager call: it records the
    scope in `layer._remat_mode` at creation and calls `remat.remat` on
    the layer's `call` (or, in "activations" mode, on its activation) when
    the layer runs."""
    model = keras_model(scope)
    picked, current = [], [None]
    original = keras_remat.remat
    decide = keras.layers.Layer.rematerialized_call

    def deciding(self, *args, **kwargs):
        current[0] = self.name  # The layer whose call is about to run.
        return decide(self, *args, **kwargs)

    def spy(f):
        owner = getattr(f, "__self__", None)
        picked.append(owner.name if owner is not None else current[0])
        return original(f)

    monkeypatch.setattr(keras.layers.Layer, "rematerialized_call", deciding)
    monkeypatch.setattr(keras_remat, "remat", spy)
    model(_x())
    return sorted(picked)


@pytest.mark.parametrize(
    "mode, kwargs",
    [
        ("full", {}),
        ("larger_than", {}),  # 1024: "big" (8 x 200), not "small" (8 x 16)
        ("larger_than", {"output_size_threshold": 100}),
        ("list_of_layers", {"layer_names": ["small", "head", "missing"]}),
        ("activations", {}),
        (None, {}),
    ],
)
def test_picks_the_layers_keras_picks(mode, kwargs, monkeypatch):
    ours = kerax_picks(RematScope(mode, **kwargs))
    theirs = keras_picks(keras.RematScope(mode, **kwargs), monkeypatch)
    assert ours == theirs
    if mode is not None:
        assert ours  # Each case rematerializes something.


def test_full_scope_same_outputs_and_gradients_and_has_the_primitive():
    outside = kerax_model()
    with RematScope("full"):
        inside = kerax_model()
    assert inside.get_config() == outside.get_config()
    params, state = outside.init(jax.random.key(1), kerax.spec((None, 6)))
    params2, _ = inside.init(jax.random.key(1), kerax.spec((None, 6)))
    assert jax.tree.structure(params) == jax.tree.structure(params2)
    x = jnp.asarray(_x())

    def loss_of(model):
        return lambda p: jnp.sum(model.apply(p, state, x)[0] ** 2)

    a = jax.jit(jax.value_and_grad(loss_of(outside)))(params)
    b = jax.jit(jax.value_and_grad(loss_of(inside)))(params)
    jax.tree.map(lambda u, v: np.testing.assert_allclose(u, v, rtol=1e-6), a, b)
    assert has_remat(jax.make_jaxpr(jax.grad(loss_of(inside)))(params))
    assert not has_remat(jax.make_jaxpr(jax.grad(loss_of(outside)))(params))


def test_layers_outside_any_scope_are_unchanged():
    layer = kerax.layers.Dense(3)
    assert mode_of(layer) is None
    assert "remat" not in str(sorted(vars(layer)))
    with RematScope("full"):
        inner = kerax.layers.Dense(3)
        with RematScope(None):
            off = kerax.layers.Dense(3)
    assert mode_of(inner).mode == "full" and mode_of(off) is None
    assert inner == layer and inner.get_config() == layer.get_config()
    assert get_current_remat_mode() is None


def test_scope_matches_keras_mode_and_errors():
    with RematScope("larger_than", output_size_threshold=7) as s:
        assert s.mode == "larger_than"
        ours = get_current_remat_mode()
    with keras.RematScope("larger_than", output_size_threshold=7):
        theirs = keras_remat.get_current_remat_mode()
    assert ours.mode == theirs.mode
    assert ours.output_size_threshold == theirs.output_size_threshold
    with pytest.raises(ValueError, match="invalid mode 'fast'"):
        RematScope("fast")


def test_remat_function_equals_f_and_has_the_primitive():
    def f(x, w):
        return jnp.sum(jnp.sin(x @ w) ** 2)

    g = remat(f)
    x = jnp.arange(6.0).reshape(2, 3) / 6
    w = jnp.ones((3, 2)) / 3
    ours = jax.jit(jax.value_and_grad(g, argnums=(0, 1)))(x, w)
    plain = jax.jit(jax.value_and_grad(f, argnums=(0, 1)))(x, w)
    theirs = jax.jit(jax.value_and_grad(keras.remat(f), argnums=(0, 1)))(x, w)
    for other in (plain, theirs):
        jax.tree.map(
            lambda u, v: np.testing.assert_allclose(u, v, rtol=1e-6), ours, other
        )
    assert has_remat(jax.make_jaxpr(jax.grad(g))(x, w))
    assert not has_remat(jax.make_jaxpr(jax.grad(f))(x, w))


def test_remat_decorates_a_layer_call_with_static_training_and_losses():
    class Block(kerax.Layer):
        def build(self, key, spec):
            return {"w": jnp.full(spec.shape[-1:], 0.5)}, {}

        @remat
        def call(self, params, state, x, *, key, training):
            y = jnp.tanh(x * params["w"])
            if training:  # A Python bool: static inside remat.
                kerax.add_loss(jnp.sum(y))
            return y, state

    layer = Block()
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 2)))
    x = jnp.ones((2, 2))
    y, _, loss = layer.apply_with_losses(params, state, x, training=True)
    np.testing.assert_allclose(y, np.tanh(0.5), rtol=1e-6)
    np.testing.assert_allclose(loss, 4 * np.tanh(0.5), rtol=1e-6)

    def total(p):
        return layer.apply_with_losses(p, state, x, training=True)[2]

    assert has_remat(jax.make_jaxpr(jax.grad(total))(params))


def test_remat_on_a_keras_style_call_with_stateful_sublayers():
    class Block(kerax.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = kerax.layers.Dense(3)
            self.norm = kerax.layers.BatchNormalization()

        def call(self, inputs, training=False):
            return self.norm(self.dense(inputs), training=training)

    class RematBlock(Block):
        call = remat(Block.call)

    x = jnp.arange(6.0).reshape(2, 3)
    weights = jnp.asarray([[1.0, -2.0, 0.5], [0.3, 1.0, -1.0]])
    results = []
    for layer in (Block(), RematBlock()):
        params, state = layer.init(jax.random.key(0), kerax.spec((None, 3)))

        def loss(p, layer=layer, state=state):
            y, new_state = layer.apply(p, state, x, training=True)
            return jnp.sum(y * weights), new_state

        results.append(jax.jit(jax.value_and_grad(loss, has_aux=True))(params))
        jaxpr = jax.make_jaxpr(jax.grad(lambda p, loss=loss: loss(p)[0]))(params)
        assert has_remat(jaxpr) == isinstance(layer, RematBlock)
    jax.tree.map(
        lambda u, v: np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6), *results
    )


def test_fit_one_epoch_with_a_remat_model():
    with RematScope("full"):
        model = kerax_model()
    trainer = kerax.Trainer(model, optimizer=kerax.optimizers.SGD(0.01), loss="mse")
    ts = trainer.init(jax.random.key(0), kerax.spec((None, 6)))
    x, y = _x(), np.zeros((BATCH, 3), "float32")
    ts, history = trainer.fit(ts, x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
