"""The per-layer contract check used by every layer test.

`check_layer(layer, spec)` verifies what DESIGN.md section 1 promises:
the declared output spec equals what `apply` really returns (with a symbolic
batch too), init returns arrays only, state is unchanged in inference,
`jit`, `grad` and `vmap` over stacked params work, and repeated calls do not
retrace. `keras_parity` compares a kerax layer with a Keras layer given the
same weights.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core.spec import is_symbolic, to_spec


def _concrete(spec, batch: int):
    """Every kerax symbol (`batch`, `d1`, ...) set to `batch`; expressions evaluated."""
    from kerax.core.spec import _SYMBOL_NAMES

    env = dict.fromkeys(_SYMBOL_NAMES, batch)
    shape = tuple(int(d._evaluate(env)) if is_symbolic(d) else d for d in spec.shape)
    return jax.ShapeDtypeStruct(shape, spec.dtype)


def random_inputs(specs, key, batch: int = 2, int_high: int = 5):
    """Random arrays for a pytree of specs (symbolic dims become `batch`)."""
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


def assert_trees_close(a, b, atol=1e-5, rtol=1e-5, what="values"):
    ta, tb = jax.tree.structure(a), jax.tree.structure(b)
    assert ta == tb, f"{what}: structures differ: {ta} vs {tb}"
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(
            np.asarray(x, np.float64),
            np.asarray(y, np.float64),
            atol=atol,
            rtol=rtol,
            err_msg=what,
        )


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
      layer: the layer under test.
      *specs: input specs (a `None`/symbolic batch is encouraged).
      batch: the concrete batch size used for real inputs.
      training_changes_state: if given, asserts whether a training call
        changes `state` (True for BatchNormalization, False for most layers).
      grad: also check finite gradients w.r.t. params and float inputs.
      **call_kwargs: extra keyword arguments for `apply`.
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
    jit_params, _ = jax.jit(lambda k: layer.init(k, *specs))(k_init)
    assert jax.tree.structure(jit_params) == jax.tree.structure(params)

    inputs = random_inputs(specs, k_x, batch)
    y, new_state = layer.apply(params, state, *inputs, **call_kwargs)

    # Declared spec == real output, for the symbolic spec and the concrete one.
    declared = layer.output_spec(*specs, **call_kwargs)
    concrete = jax.tree.map(lambda s: _concrete(s, batch), declared)
    got = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), y)
    assert jax.tree.structure(concrete) == jax.tree.structure(got), (
        f"output structure {got} != declared {declared}"
    )
    for d, g in zip(jax.tree.leaves(concrete), jax.tree.leaves(got)):
        assert d.shape == g.shape and d.dtype == g.dtype, (
            f"{layer.describe()}: declared {d}, apply returned {g}"
        )
    concrete_specs = jax.tree.map(lambda s: _concrete(s, batch), specs)
    for d, g in zip(
        jax.tree.leaves(layer.output_spec(*concrete_specs, **call_kwargs)),
        jax.tree.leaves(got),
    ):
        assert d.shape == g.shape and d.dtype == g.dtype

    # Inference leaves state unchanged.
    assert_trees_close(
        new_state, state, atol=0, rtol=0, what="state after an inference call"
    )

    # Training mode runs (with a key), and state structure is kept.
    y_train, train_state = layer.apply(
        params, state, *inputs, key=k_call, training=True, **call_kwargs
    )
    assert jax.tree.structure(train_state) == jax.tree.structure(state)
    if training_changes_state is not None:
        changed = any(
            not np.array_equal(a, b)
            for a, b in zip(jax.tree.leaves(train_state), jax.tree.leaves(state))
        )
        assert changed == training_changes_state, f"training changed state: {changed}"

    # jit gives the same result, and does not retrace on a repeated call.
    traces = []

    def fwd(p, s, *x):
        traces.append(1)
        return layer.apply(p, s, *x, **call_kwargs)

    jitted = jax.jit(fwd)
    y_jit, _ = jitted(params, state, *inputs)
    jitted(params, state, *inputs)
    assert len(traces) == 1, f"{layer.describe()} retraced on a repeated call"
    assert_trees_close(y_jit, y, atol=1e-5, rtol=1e-5, what="jit vs eager")

    # grad: finite gradients w.r.t. params (and float inputs).
    if grad and jax.tree.leaves(params):

        def loss(p, x):
            out, _ = layer.apply(p, state, *x, key=k_call, training=True, **call_kwargs)
            return sum(
                jnp.sum(jnp.asarray(o, jnp.float32) ** 2)
                for o in jax.tree.leaves(out)
                if jnp.issubdtype(o.dtype, jnp.floating)
            )

        g = jax.grad(loss)(params, inputs)
        for leaf in jax.tree.leaves(g):
            assert bool(jnp.all(jnp.isfinite(leaf))), (
                f"{layer.describe()}: non-finite gradient"
            )

    # vmap over stacked params (an ensemble of 2).
    if jax.tree.leaves(params):
        keys = jax.random.split(k_init, 2)
        stacked_p, stacked_s = jax.vmap(lambda k: layer.init(k, *specs))(keys)
        ys, _ = jax.vmap(lambda p, s: layer.apply(p, s, *inputs, **call_kwargs))(
            stacked_p, stacked_s
        )
        for leaf, ref in zip(jax.tree.leaves(ys), jax.tree.leaves(y)):
            assert leaf.shape == (2, *ref.shape)

    # Config round trip.
    from kerax.core import serialization

    rebuilt = serialization.from_config(serialization.to_json(layer))
    y_rebuilt, _ = rebuilt.apply(params, state, *inputs, **call_kwargs)
    assert_trees_close(y_rebuilt, y, atol=0, rtol=0, what="config round trip")
    return params, state, inputs, y


def keras_parity(
    kerax_layer,
    keras_layer,
    inputs,
    *,
    params=None,
    state=None,
    atol=1e-5,
    rtol=1e-5,
    training_modes=(False,),
    keras_kwargs=None,
    kerax_kwargs=None,
):
    """Imports the Keras layer's weights into kerax and compares outputs.

    The Keras layer must be built (call it once on `inputs`). Weights are
    matched by variable name through `kerax.interop.keras_weights_to_kerax`
    unless `params`/`state` are given.
    """
    from kerax.interop.keras import layer_weights

    keras_kwargs = keras_kwargs or {}
    kerax_kwargs = kerax_kwargs or {}
    if params is None:
        params, state = layer_weights(keras_layer, kerax_layer)
    xs = inputs if isinstance(inputs, tuple) else (inputs,)
    results = []
    for training in training_modes:
        want = keras_layer(*xs, training=training, **keras_kwargs)
        got, _ = kerax_layer.apply(
            params,
            state,
            *[jax.tree.map(jnp.asarray, x) for x in xs],
            training=training,
            **kerax_kwargs,
        )
        want = jax.tree.map(np.asarray, want)
        assert_trees_close(
            got,
            want,
            atol=atol,
            rtol=rtol,
            what=f"{kerax_layer.describe()} vs Keras (training={training})",
        )
        results.append(got)
    return params, state
