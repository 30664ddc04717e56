"""MultiOptimizer / OptimizerMap / LossScaleOptimizer against the single
optimizers and against Keras's LossScaleOptimizer."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest

import kerax
import kerax.optimizers as ko


def _params():
    k = jax.random.split(jax.random.key(0), 3)
    return {
        "encoder": {"kernel": jax.random.normal(k[0], (3, 2)), "bias": jnp.zeros(2)},
        "head": {"kernel": jax.random.normal(k[1], (2, 1)), "bias": jnp.ones(1)},
    }


def _run(tx, params, grads_seq):
    state, update = tx.init(params), jax.jit(tx.update)
    for g in grads_seq:
        updates, state = update(g, state, params)
        params = optax.apply_updates(params, updates)
    return params


def _grads(params, n=3):
    return [
        jax.tree.map(lambda p, i=i: jnp.sin(p + i) + 0.1 * i, params) for i in range(n)
    ]


def test_multi_optimizer_matches_single_optimizers():
    params = _params()
    grads = _grads(params)
    adam, sgd = ko.Adam(1e-2), ko.SGD(0.1, momentum=0.9)
    multi = ko.MultiOptimizer(ko.OptimizerMap(sgd, {"encoder/.*": adam}))
    got = _run(multi, params, grads)
    want_adam = _run(adam, params, grads)
    want_sgd = _run(sgd, params, grads)
    for leaf in ("kernel", "bias"):
        np.testing.assert_allclose(got["encoder"][leaf], want_adam["encoder"][leaf])
        np.testing.assert_allclose(got["head"][leaf], want_sgd["head"][leaf])
    assert multi.optimizers == [adam, sgd]
    with pytest.raises(AttributeError, match="sub-optimizers"):
        multi.learning_rate  # noqa: B018


def test_multi_optimizer_callable_selector_gets_variable():
    params = _params()
    seen = []

    def select(variable):
        seen.append((variable.path, variable.name, variable.shape))
        return ko.Adam(1e-2) if len(variable.shape) == 2 else ko.SGD(0.5)

    multi = ko.MultiOptimizer(select)
    grads = _grads(params)
    got = _run(multi, params, grads)
    assert sorted(seen) == [
        ("encoder/bias", "bias", (2,)),
        ("encoder/kernel", "kernel", (3, 2)),
        ("head/bias", "bias", (1,)),
        ("head/kernel", "kernel", (2, 1)),
    ]
    want_adam = _run(ko.Adam(1e-2), params, grads)
    want_sgd = _run(ko.SGD(0.5), params, grads)
    np.testing.assert_allclose(got["head"]["kernel"], want_adam["head"]["kernel"])
    np.testing.assert_allclose(got["encoder"]["bias"], want_sgd["encoder"]["bias"])


def test_optimizer_map_lookup_and_errors_match_keras():
    adam, sgd, rms = ko.Adam(), ko.SGD(), ko.RMSprop()
    m = ko.OptimizerMap(default_optimizer=rms)
    m["encoder/layer_0/dense"] = adam
    m["encoder/.*"] = sgd
    m["decoder"] = adam
    assert m["decoder"] is adam and m["encoder/layer_0/dense"] is adam
    assert m["encoder/layer_0/attention/query"] is sgd
    assert m["decoder/layer_0/dense"] is rms
    with pytest.raises(ValueError, match="already exists"):
        m["decoder"] = sgd
    m2 = ko.OptimizerMap(rms, {"enc.*": adam, ".*oder": sgd})
    with pytest.raises(ValueError, match="Multiple optimizers"):
        m2["encoder"]
    with pytest.raises(ValueError, match="LossScaleOptimizer"):
        m2["x"] = ko.LossScaleOptimizer(adam)
    with pytest.raises(TypeError, match="default_optimizer"):
        ko.OptimizerMap("adam")
    # Keras agrees on the lookup rules.
    k_rms, k_sgd = keras.optimizers.RMSprop(), keras.optimizers.SGD()
    km = keras.optimizers.OptimizerMap(k_rms)
    km["encoder/.*"] = k_sgd
    assert km["encoder/layer_0/attention/query"] is k_sgd
    assert km["decoder/layer_0/dense"] is k_rms


def _model():
    return kerax.Sequential(
        [
            kerax.Input((3,)),
            kerax.layers.Dense(4, name="encoder"),
            kerax.layers.Dense(1, name="head"),
        ]
    )


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 1)).astype(
        "float32"
    )


def test_multi_optimizer_in_trainer_updates_only_as_chosen():
    x, y = _data()
    multi = ko.MultiOptimizer(ko.OptimizerMap(ko.SGD(0.0), {"encoder/.*": ko.SGD(0.1)}))
    trainer = kerax.Trainer(_model(), optimizer=multi, loss="mse")
    ts = trainer.init(jax.random.key(1))
    before = jax.tree.map(np.asarray, ts.params)  # fit donates ts.
    ts, _ = trainer.fit(ts, x, y, epochs=1, batch_size=8, verbose=0)
    np.testing.assert_array_equal(ts.params["head"]["kernel"], before["head"]["kernel"])
    assert not np.allclose(ts.params["encoder"]["kernel"], before["encoder"]["kernel"])


def test_loss_scale_optimizer_in_trainer():
    x, y = _data()
    plain = kerax.Trainer(_model(), optimizer=ko.SGD(0.1), loss="mse")
    lso = ko.LossScaleOptimizer(ko.SGD(0.1), initial_scale=8.0, dynamic_growth_steps=3)
    scaled = kerax.Trainer(_model(), optimizer=lso, loss="mse")
    ts0, ts1 = plain.init(jax.random.key(1)), scaled.init(jax.random.key(1))
    assert ts1.loss_scale is not None
    ts0, _ = plain.fit(ts0, x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    ts1, _ = scaled.fit(ts1, x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), ts0.params, ts1.params
    )
    # 4 finite steps, growth every 3: the scale doubled once.
    assert float(ts1.loss_scale.scale) == 16.0
    assert int(ts1.loss_scale.step_counter) == 1


def test_loss_scale_optimizer_matches_keras_scale_schedule():
    seq = [1.0, 2.0, np.inf, 0.5, 1.0, np.nan, 3.0]
    kopt = keras.optimizers.LossScaleOptimizer(
        keras.optimizers.SGD(0.1), initial_scale=8.0, dynamic_growth_steps=2
    )
    v = keras.Variable(np.ones(2, "float32"))
    kopt.build([v])
    scale_index = [id(x) for x in kopt.variables].index(id(kopt.dynamic_scale))
    k_vars, k_params = [x.value for x in kopt.variables], [v.value]
    tx = ko.LossScaleOptimizer(ko.SGD(0.1), initial_scale=8.0, dynamic_growth_steps=2)
    params = {"v": jnp.ones(2)}
    state = tx.init(params)
    for g in seq:
        grad = np.full(2, g, "float32")
        k_params, k_vars = kopt.stateless_apply(k_vars, [grad], k_params)
        updates, state = tx.update({"v": jnp.asarray(grad)}, state, params)
        params = optax.apply_updates(params, updates)
        np.testing.assert_allclose(params["v"], np.asarray(k_params[0]), rtol=1e-6)
        assert float(state.loss_scale.scale) == float(k_vars[scale_index])


def test_loss_scale_optimizer_argument_errors():
    with pytest.raises(ValueError, match="dynamic=False"):
        ko.LossScaleOptimizer(ko.SGD(), dynamic=False)
    with pytest.raises(ValueError, match="inner_optimizer"):
        ko.LossScaleOptimizer("sgd")
    with pytest.raises(ValueError, match="cannot be a MultiOptimizer|cannot be"):
        ko.OptimizerMap(ko.SGD(), {"a": ko.MultiOptimizer(ko.OptimizerMap(ko.SGD()))})
    assert kerax.mixed_precision.LossScaleOptimizer is ko.LossScaleOptimizer
