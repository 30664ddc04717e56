"""`check_layer`: the per-layer contract check every layer test runs.

It verifies what the layer contract promises: the declared output spec
equals what `apply` really returns (with a symbolic batch too), `init`
returns arrays only (under jit too), state is unchanged in inference,
`apply` gives the same result with and without jit (`chex.variants`), a
repeated jitted call does not retrace, gradients are finite, `vmap` over
stacked params works, and the config round-trips.
"""

from __future__ import annotations

import dataclasses
import re
import unittest

import chex
import jax
import jax.numpy as jnp
import numpy as np

from kerax.core import serialization
from kerax.core.spec import _SYMBOL_NAMES, is_symbolic, to_spec

__all__ = [
    "assert_trees_close",
    "check_layer",
    "check_random_layer",
    "check_strict_promotion",
    "random_inputs",
]


def assert_trees_close(a, b, atol=1e-5, rtol=1e-5, what: str = "values") -> None:
    """Same tree structure and leaves equal within `atol`/`rtol` (exactly, when both are 0).

    Example:
        >>> assert_trees_close({"y": jnp.ones(2)}, {"y": np.ones(2)}, what="y")
    """
    if atol == 0 and rtol == 0:
        chex.assert_trees_all_equal(a, b, custom_message=what)
    else:
        chex.assert_trees_all_close(a, b, atol=atol, rtol=rtol, custom_message=what)


def _concrete(spec, batch: int):
    """`spec` with every kerax symbol (`batch`, `d1`, ...) set to `batch`."""
    env = dict.fromkeys(_SYMBOL_NAMES, batch)
    shape = tuple(int(d._evaluate(env)) if is_symbolic(d) else d for d in spec.shape)
    return jax.ShapeDtypeStruct(shape, spec.dtype)


def random_inputs(specs, key, batch: int = 2, int_high: int = 5):
    """Random arrays for a pytree of specs (symbolic dimensions become `batch`).

    Example:
        >>> x = random_inputs(kerax.spec((None, 3)), jax.random.key(0), batch=4)
        >>> x.shape
        (4, 3)
    """
    leaves, treedef = jax.tree.flatten(specs)
    keys = jax.random.split(key, max(len(leaves), 1))
    out = []
    for k, s in zip(keys, leaves):
        s = _concrete(s, batch)
        if jnp.issubdtype(s.dtype, jnp.integer):
            out.append(jax.random.randint(k, s.shape, 0, int_high, s.dtype))
        elif s.dtype == jnp.bool_:
            out.append(jax.random.bernoulli(k, 0.7, s.shape))
        else:
            out.append(jax.random.normal(k, s.shape, s.dtype))
    return jax.tree.unflatten(treedef, out)


def _apply_variants(layer, params, state, inputs, call_kwargs) -> dict:
    """`layer.apply` under chex's with-jit and without-jit variants, by variant name."""
    outputs = {}

    class ApplyVariants(chex.TestCase):
        @chex.variants(with_jit=True, without_jit=True)
        def test_apply(self):
            apply = self.variant(lambda p, s, *x: layer.apply(p, s, *x, **call_kwargs))
            outputs[str(self.variant.type)] = apply(params, state, *inputs)

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(ApplyVariants).run(result)
    for test, trace in result.errors + result.failures:
        raise AssertionError(f"{layer.describe()}: apply failed in {test}:\n{trace}")
    return outputs


def check_layer(
    layer,
    *specs,
    batch: int = 3,
    training_changes_state: bool | None = None,
    grad: bool = True,
    key=None,
    **call_kwargs,
):
    """Runs the layer contract checks; returns `(params, state, inputs, y)`.

    Args:
        layer: The layer under test.
        *specs: Input specs (a `None`/symbolic batch is encouraged).
        batch: The concrete batch size used for real inputs.
        training_changes_state: If given, asserts whether a training call
            changes `state` (True for BatchNormalization, False for most layers).
        grad: Also check finite gradients w.r.t. params and float inputs.
        key: The PRNG key for init, inputs and training calls (default `key(0)`).
        **call_kwargs: Extra keyword arguments for `apply`.

    Example:
        >>> params, state, x, y = check_layer(kerax.layers.Dense(2), kerax.spec((None, 3)))
        >>> y.shape
        (3, 2)
    """
    key = jax.random.key(0) if key is None else key
    k_init, k_x, k_call = jax.random.split(key, 3)
    specs = to_spec(specs)

    # init returns arrays only, under jit too.
    params, state = layer.init(k_init, *specs)
    for leaf in jax.tree.leaves((params, state)):
        assert isinstance(leaf, jax.Array), (
            f"{layer.describe()}.init returned a non-array leaf: {type(leaf)}"
        )
    jit_params, jit_state = jax.jit(lambda k: layer.init(k, *specs))(k_init)
    chex.assert_trees_all_equal_structs((jit_params, jit_state), (params, state))

    inputs = random_inputs(specs, k_x, batch)
    variants = _apply_variants(layer, params, state, inputs, call_kwargs)
    y, new_state = variants["_without_jit"]
    y_jit, state_jit = variants["_with_jit"]
    assert_trees_close(y_jit, y, what=f"{layer.describe()}: apply with jit vs without")
    assert_trees_close(
        state_jit, new_state, what=f"{layer.describe()}: state with jit vs without"
    )

    # Declared spec == real output, for the symbolic spec and the concrete one.
    declared = layer.output_spec(*specs, **call_kwargs)
    concrete = jax.tree.map(lambda s: _concrete(s, batch), declared)
    got = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), y)
    concrete_specs = jax.tree.map(lambda s: _concrete(s, batch), specs)
    for want in (concrete, layer.output_spec(*concrete_specs, **call_kwargs)):
        assert jax.tree.structure(want) == jax.tree.structure(got), (
            f"{layer.describe()}: output structure {got} != declared {want}"
        )
        for d, g in zip(jax.tree.leaves(want), jax.tree.leaves(got)):
            assert d.shape == g.shape and d.dtype == g.dtype, (
                f"{layer.describe()}: declared {d}, apply returned {g}"
            )

    # Inference leaves state unchanged.
    assert_trees_close(
        new_state, state, atol=0, rtol=0, what="state after an inference call"
    )

    # Training mode runs (with a key), and state structure is kept.
    _, train_state = layer.apply(
        params, state, *inputs, key=k_call, training=True, **call_kwargs
    )
    chex.assert_trees_all_equal_structs(train_state, state)
    if training_changes_state is not None:
        changed = any(
            not np.array_equal(a, b)
            for a, b in zip(jax.tree.leaves(train_state), jax.tree.leaves(state))
        )
        assert changed == training_changes_state, (
            f"{layer.describe()}: a training call changed state: {changed}, expected {training_changes_state}"
        )

    # A repeated jitted call does not retrace.
    traces = []

    def forward(p, s, *x):
        traces.append(1)
        return layer.apply(p, s, *x, **call_kwargs)

    jitted = jax.jit(forward)
    jitted(params, state, *inputs)
    jitted(params, state, *inputs)
    assert len(traces) == 1, f"{layer.describe()} retraced on a repeated call"

    # grad: finite gradients w.r.t. params (and float inputs).
    if grad and jax.tree.leaves(params):

        def loss(p, x):
            out, _ = layer.apply(p, state, *x, key=k_call, training=True, **call_kwargs)
            return sum(
                jnp.sum(jnp.asarray(o, jnp.float32) ** 2)
                for o in jax.tree.leaves(out)
                if jnp.issubdtype(o.dtype, jnp.floating)
            )

        chex.assert_tree_all_finite(jax.grad(loss)(params, inputs))

    # vmap over stacked params (an ensemble of 2).
    if jax.tree.leaves(params):
        keys = jax.random.split(k_init, 2)
        stacked_p, stacked_s = jax.vmap(lambda k: layer.init(k, *specs))(keys)
        ys, _ = jax.vmap(lambda p, s: layer.apply(p, s, *inputs, **call_kwargs))(
            stacked_p, stacked_s
        )
        for leaf, ref in zip(jax.tree.leaves(ys), jax.tree.leaves(y)):
            assert leaf.shape == (2, *ref.shape), (
                f"{layer.describe()}: vmap over 2 stacked params gave {leaf.shape}, expected {(2, *ref.shape)}"
            )

    # Config round trip: the rebuilt layer computes the same function.
    rebuilt = serialization.from_config(serialization.to_json(layer))
    y_rebuilt, _ = rebuilt.apply(params, state, *inputs, **call_kwargs)
    assert_trees_close(y_rebuilt, y, atol=0, rtol=0, what="config round trip")
    return params, state, inputs, y


def check_strict_promotion(layer, params, state, *inputs, **call_kwargs):
    """`apply` under strict rank promotion, eager and jitted, equals `apply` without it.

    kerax code spells out its broadcasts, so it runs under
    `jax.numpy_rank_promotion("raise")` (where Keras and optax do not). A layer
    that relies on implicit rank promotion raises here; the check also makes
    sure the strict mode is really in force, and that it changes no value.

    Returns:
        The output of the strict call.

    Example:
        >>> layer = kerax.layers.Dense(2)
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> check_strict_promotion(layer, params, state, jnp.ones((4, 3))).shape
        (4, 2)
    """
    want, _ = layer.apply(params, state, *inputs, **call_kwargs)
    with jax.numpy_rank_promotion("raise"):
        try:
            jnp.add(jnp.zeros((1, 2)), jnp.zeros((2,)))
        except ValueError:
            pass
        else:
            raise AssertionError("jax.numpy_rank_promotion('raise') is not in force")
        got, _ = layer.apply(params, state, *inputs, **call_kwargs)
        got_jit, _ = jax.jit(lambda p, s, *x: layer.apply(p, s, *x, **call_kwargs))(
            params, state, *inputs
        )
    what = f"{layer.describe()} under strict rank promotion"
    assert_trees_close(got, want, atol=0, rtol=0, what=what)
    assert_trees_close(got_jit, want, what=what + " (jit)")
    return got


def check_random_layer(layer, x, params=None, state=None) -> None:
    """A random layer's key contract, in training (each case jitted).

    The same key gives the same output and another key another one; a
    different `seed` (folded into the key) changes the draw; training
    without a key raises the standard error naming the layer; inference
    needs no key.
    """
    params = {} if params is None else params
    state = {} if state is None else state

    def run(layer, key):
        fn = jax.jit(
            lambda x, key: layer.apply(params, state, x, key=key, training=True)[0]
        )
        return np.asarray(fn(x, key))

    a = run(layer, jax.random.key(1))
    np.testing.assert_array_equal(run(layer, jax.random.key(1)), a)
    assert not np.array_equal(run(layer, jax.random.key(2)), a), (
        f"{layer.describe()}: two keys gave the same output"
    )
    seeded = dataclasses.replace(layer, seed=8 if layer.seed == 7 else 7)
    assert not np.array_equal(run(seeded, jax.random.key(1)), a), (
        f"{layer.describe()}: its seed does not change the draw"
    )
    error = f"{layer.describe()} is random in training and needs a PRNG key"
    try:
        layer.apply(params, state, x, training=True)
    except ValueError as e:
        assert re.search(re.escape(error), str(e)), str(e)
    else:
        raise AssertionError(
            f"{layer.describe()}: training without a key raised nothing"
        )
    layer.apply(params, state, x)  # Inference needs no key.
