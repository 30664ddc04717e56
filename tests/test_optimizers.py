"""kerax.optimizers against Keras 3 itself, step by step.

Keras runs its optimizers on `keras.Variable`s with `apply_gradients`; kerax
runs the same gradients through `jax.jit(tx.update)` under strict rank
promotion. Weights must agree after every step.
"""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest

import kerax.optimizers as ko

KEYS = ("kernel", "bias")
STEPS = 5


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "kernel": rng.normal(size=(4, 3)).astype(np.float32),
        "bias": rng.normal(size=(3,)).astype(np.float32),
    }


def _grads(seed=1, steps=STEPS):
    rng = np.random.default_rng(seed)
    return [
        {k: rng.normal(size=v.shape).astype(np.float32) for k, v in _weights().items()}
        for _ in range(steps)
    ]


def _run_keras(opt, weights, grads_seq, on_step=None):
    variables = [keras.Variable(weights[k]) for k in KEYS]
    history, averages = [], []
    for i, grads in enumerate(grads_seq):
        if on_step is not None:
            on_step(i, opt)
        opt.apply_gradients(zip([jnp.asarray(grads[k]) for k in KEYS], variables))
        history.append({k: np.asarray(v.numpy()) for k, v in zip(KEYS, variables)})
        if opt.use_ema:
            averages.append(
                {
                    k: np.asarray(a.numpy())
                    for k, a in zip(KEYS, opt._model_variables_moving_average)
                }
            )
    return history, averages


def _run_kerax(tx, weights, grads_seq, on_step=None):
    params = {k: jnp.asarray(v) for k, v in weights.items()}
    update = jax.jit(tx.update)
    history, states = [], []
    with jax.numpy_rank_promotion("raise"):
        state = jax.jit(tx.init)(params)
        for i, grads in enumerate(grads_seq):
            if on_step is not None:
                state = on_step(i, state)
            updates, state = update(
                {k: jnp.asarray(g) for k, g in grads.items()}, state, params
            )
            params = jax.jit(optax.apply_updates)(params, updates)
            history.append({k: np.asarray(v) for k, v in params.items()})
            states.append(state)
    return history, states


def _assert_trajectories_close(got, want, atol, what="weights"):
    for step, (g, w) in enumerate(zip(got, want)):
        for k in w:
            np.testing.assert_allclose(
                g[k], w[k], rtol=0, atol=atol, err_msg=f"{what} {k!r}, step {step}"
            )


def _schedule(mod):
    return mod.schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)


# (optimizer, kwargs, tolerance); a callable value gets the module (keras or
# kerax optimizers) and builds the same object on each side. Large epsilons
# check where Keras puts epsilon (it differs from optax for most of them).
CASES = [
    ("SGD", {}, 1e-6),
    ("SGD", {"momentum": 0.9}, 1e-6),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}, 1e-6),
    ("SGD", {"momentum": 0.9, "gradient_accumulation_steps": 2}, 1e-6),
    ("SGD", {"learning_rate": _schedule, "momentum": 0.5}, 1e-6),
    ("RMSprop", {}, 1e-6),
    ("RMSprop", {"epsilon": 0.1}, 1e-6),
    ("RMSprop", {"momentum": 0.9}, 1e-6),
    ("RMSprop", {"centered": True}, 1e-6),
    ("RMSprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.1}, 1e-6),
    ("Adam", {}, 1e-6),
    ("Adam", {"learning_rate": 0.1, "epsilon": 0.1}, 1e-6),
    ("Adam", {"learning_rate": 0.1, "amsgrad": True}, 1e-6),
    ("Adam", {"weight_decay": 0.1}, 1e-6),
    ("Adam", {"clipnorm": 0.5}, 1e-6),
    ("Adam", {"clipvalue": 0.1}, 1e-6),
    ("Adam", {"global_clipnorm": 0.5}, 1e-6),
    ("Adam", {"gradient_accumulation_steps": 2}, 1e-6),
    ("Adam", {"use_ema": True}, 1e-6),
    ("Adam", {"use_ema": True, "ema_overwrite_frequency": 2}, 1e-6),
    (
        "Adam",
        {
            "learning_rate": 0.1,
            "use_ema": True,
            "ema_momentum": 0.5,
            "ema_overwrite_frequency": 1,
            "gradient_accumulation_steps": 2,
            "weight_decay": 0.05,
            "global_clipnorm": 1.0,
        },
        1e-6,
    ),
    ("Adam", {"loss_scale_factor": 8.0}, 1e-6),
    ("Adam", {"learning_rate": _schedule, "weight_decay": 0.5}, 1e-6),
    ("AdamW", {}, 1e-6),
    ("AdamW", {"learning_rate": 0.05, "amsgrad": True, "clipnorm": 1.0}, 1e-6),
    ("Adamax", {}, 1e-6),
    ("Adamax", {"epsilon": 0.1}, 1e-6),
    ("Adamax", {"learning_rate": 0.1, "weight_decay": 0.1}, 1e-6),
    ("Nadam", {}, 1e-6),
    ("Nadam", {"epsilon": 0.1}, 1e-6),
    ("Nadam", {"learning_rate": 0.05, "gradient_accumulation_steps": 2}, 1e-6),
    ("Adagrad", {}, 1e-6),
    ("Adagrad", {"epsilon": 0.5}, 1e-6),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5}, 1e-6),
    ("Adadelta", {"learning_rate": 1.0}, 1e-6),
    ("Adadelta", {"learning_rate": 1.0, "epsilon": 0.01}, 1e-6),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.5, "clipvalue": 0.5}, 1e-6),
    # Adafactor divides by tiny factored second moments: float32 rounding in
    # a different (fused) order moves results by a few 1e-7.
    ("Adafactor", {}, 1e-5),
    ("Adafactor", {"learning_rate": 0.1, "weight_decay": 0.1}, 1e-5),
    ("Lamb", {}, 1e-6),
    ("Lamb", {"epsilon": 0.1}, 1e-6),
    ("Lamb", {"learning_rate": 0.05, "use_ema": True}, 1e-6),
    ("Lion", {}, 1e-6),
    ("Lion", {"learning_rate": 0.01, "gradient_accumulation_steps": 2}, 1e-6),
    ("Ftrl", {}, 1e-6),
    (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "l1_regularization_strength": 0.01,
            "l2_regularization_strength": 0.01,
            "l2_shrinkage_regularization_strength": 0.01,
            "beta": 0.1,
        },
        1e-6,
    ),
]


def _resolve(kwargs, mod):
    return {k: (v(mod) if callable(v) else v) for k, v in kwargs.items()}


def _case_id(case):
    name, kwargs, _ = case
    return name + "-" + ",".join(kwargs) if kwargs else name


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_keras_step_by_step(case):
    name, kwargs, tol = case
    weights, grads = _weights(), _grads()
    keras_opt = getattr(keras.optimizers, name)(**_resolve(kwargs, keras.optimizers))
    tx = getattr(ko, name)(**_resolve(kwargs, ko))
    want, want_avg = _run_keras(keras_opt, weights, grads)
    got, states = _run_kerax(tx, weights, grads)
    _assert_trajectories_close(got, want, tol)
    if kwargs.get("use_ema"):
        got_avg = [ko.ema_params(s) for s in states]
        _assert_trajectories_close(got_avg, want_avg, tol, what="EMA")


def test_set_learning_rate_matches_keras_assignment():
    weights, grads = _weights(), _grads(steps=6)

    def keras_hook(i, opt):
        if i == 3:
            opt.learning_rate = 0.002

    def kerax_hook(i, state):
        return ko.set_learning_rate(state, 0.002) if i == 3 else state

    want, _ = _run_keras(keras.optimizers.Adam(0.01), weights, grads, keras_hook)
    got, _ = _run_kerax(ko.Adam(0.01), weights, grads, kerax_hook)
    _assert_trajectories_close(got, want, 1e-6)


# --------------------------------------------------------------- schedules --

SCHEDULES = [
    ("ExponentialDecay", (0.1, 100, 0.96), {}),
    ("ExponentialDecay", (0.1, 7, 0.5), {"staircase": True}),
    ("PiecewiseConstantDecay", ([10, 100], [1.0, 0.5, 0.1]), {}),
    ("PolynomialDecay", (0.1, 100), {}),
    ("PolynomialDecay", (0.1, 30, 0.01, 2.0, True), {}),
    ("InverseTimeDecay", (0.1, 10, 0.5), {}),
    ("InverseTimeDecay", (0.1, 10, 0.5), {"staircase": True}),
    ("CosineDecay", (0.1, 100), {}),
    ("CosineDecay", (0.1, 100), {"alpha": 0.1}),
    ("CosineDecay", (0.0, 500), {"warmup_target": 0.1, "warmup_steps": 20}),
    ("CosineDecayRestarts", (0.1, 20), {}),
    ("CosineDecayRestarts", (0.1, 20), {"t_mul": 1.0, "m_mul": 0.5, "alpha": 0.1}),
]


@pytest.mark.parametrize(
    "name,args,kwargs", SCHEDULES, ids=[f"{s[0]}-{i}" for i, s in enumerate(SCHEDULES)]
)
def test_schedule_matches_keras(name, args, kwargs):
    want_s = getattr(keras.optimizers.schedules, name)(*args, **kwargs)
    got_s = getattr(ko.schedules, name)(*args, **kwargs)
    steps = [0, 1, 5, 50, 999]
    want = [float(want_s(s)) for s in steps]
    np.testing.assert_allclose([float(got_s(s)) for s in steps], want, rtol=1e-7)
    # Jitted and with an int32 step array, as the optimizer calls it. XLA may
    # turn `x / c` into `x * (1/c)` fused into an FMA: `1 - step/decay_steps`
    # then leaves ~2e-8 instead of 0 (Keras under jit does the same).
    jitted = jax.jit(got_s)
    got_jit = [float(jitted(jnp.asarray(s, jnp.int32))) for s in steps]
    np.testing.assert_allclose(got_jit, want, rtol=1e-6, atol=1e-8)
    assert got_s.get_config() == want_s.get_config()
    assert ko.schedules.deserialize(ko.schedules.serialize(got_s)) == got_s
    assert hash(got_s) == hash(getattr(ko.schedules, name)(*args, **kwargs))


def test_schedule_errors():
    with pytest.raises(ValueError, match="decay_steps"):
        ko.schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="boundaries"):
        ko.schedules.PiecewiseConstantDecay([1, 2], [1.0])
    with pytest.raises(ValueError, match="Valid names"):
        ko.schedules.deserialize({"class_name": "Nope", "config": {}})


# ------------------------------------------------ learning rate in the state --


def _params():
    return {k: jnp.asarray(v) for k, v in _weights().items()}


def test_get_set_learning_rate_constant():
    params = _params()
    tx = ko.SGD(learning_rate=0.1)
    state = tx.init(params)
    assert float(ko.get_learning_rate(state)) == pytest.approx(0.1)
    state = jax.jit(ko.set_learning_rate)(state, 0.01)
    assert float(ko.get_learning_rate(state)) == pytest.approx(0.01)
    grads = jax.tree.map(jnp.ones_like, params)
    updates, state = jax.jit(tx.update)(grads, state, params)
    np.testing.assert_allclose(updates["bias"], -0.01, rtol=1e-6)


def test_get_set_learning_rate_schedule():
    params = _params()
    schedule = ko.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    tx = ko.SGD(learning_rate=schedule)
    state = tx.init(params)
    grads = jax.tree.map(jnp.ones_like, params)
    update = jax.jit(tx.update)
    for _ in range(3):
        updates, state = update(grads, state, params)
    np.testing.assert_allclose(updates["bias"], -0.025, rtol=1e-6)
    np.testing.assert_allclose(ko.get_learning_rate(state), 0.0125, rtol=1e-6)
    np.testing.assert_allclose(ko.get_learning_rate(state, step=1), 0.05, rtol=1e-6)
    # With a schedule, set_learning_rate scales the schedule.
    state = ko.set_learning_rate(state, 0.00125)
    np.testing.assert_allclose(ko.get_learning_rate(state), 0.00125, rtol=1e-6)
    updates, state = update(grads, state, params)
    np.testing.assert_allclose(updates["bias"], -0.00125, rtol=1e-6)
    np.testing.assert_allclose(ko.get_learning_rate(state), 0.000625, rtol=1e-6)


def test_learning_rate_optax_schedule_and_inject_hyperparams():
    params = _params()
    tx = ko.Adam(learning_rate=optax.linear_schedule(1.0, 0.0, 10))
    state = tx.init(params)
    np.testing.assert_allclose(ko.get_learning_rate(state, step=5), 0.5)
    injected = optax.inject_hyperparams(optax.adam)(learning_rate=0.1)
    state = optax.chain(optax.clip(1.0), injected).init(params)
    np.testing.assert_allclose(ko.get_learning_rate(state), 0.1, rtol=1e-6)
    state = ko.set_learning_rate(state, 0.2)
    np.testing.assert_allclose(ko.get_learning_rate(state), 0.2, rtol=1e-6)
    with pytest.raises(ValueError, match="inject_hyperparams"):
        ko.get_learning_rate(optax.adam(0.1).init(params))


def test_ema_params_errors_without_ema():
    state = ko.Adam().init(_params())
    with pytest.raises(ValueError, match="use_ema=True"):
        ko.ema_params(state)


def test_scale_loss():
    state = ko.SGD(loss_scale_factor=4.0).init(_params())
    assert float(ko.scale_loss(state, jnp.float32(2.0))) == 8.0
    assert float(ko.scale_loss(ko.SGD().init(_params()), jnp.float32(2.0))) == 2.0


# ------------------------------------------------------------------ freeze --


def test_freeze_matches_keras_on_trainable_subset():
    weights, grads = _weights(), _grads()
    # Keras only ever sees the kernel: the bias is not trainable.
    keras_opt = keras.optimizers.Adam(0.1, global_clipnorm=1.0, use_ema=True)
    kernel = keras.Variable(weights["kernel"])
    for g in grads:
        keras_opt.apply_gradients([(jnp.asarray(g["kernel"]), kernel)])

    tx = ko.freeze(
        ko.Adam(0.1, global_clipnorm=1.0, use_ema=True),
        {"kernel": True, "bias": False},
    )
    got, states = _run_kerax(tx, weights, grads)
    np.testing.assert_allclose(got[-1]["kernel"], kernel.numpy(), atol=1e-6)
    np.testing.assert_array_equal(got[-1]["bias"], weights["bias"])
    # No optimizer state for the frozen bias: moments, EMA only for the kernel.
    n_state = sum(x.size for x in jax.tree.leaves(states[-1]))
    assert n_state == 3 * 12 + 2  # m, v, EMA for (4, 3); step and lr.
    # Learning rate and EMA are still reachable through the wrapper.
    np.testing.assert_allclose(ko.get_learning_rate(states[-1]), 0.1, rtol=1e-6)
    ema = ko.ema_params(states[-1], params=_params())
    np.testing.assert_array_equal(ema["bias"], weights["bias"])
    np.testing.assert_allclose(
        ema["kernel"], keras_opt._model_variables_moving_average[0].numpy(), atol=1e-6
    )


def test_freeze_callable_mask():
    params = _params()
    tx = ko.freeze(ko.SGD(0.1), lambda p: jax.tree.map(lambda x: x.ndim > 1, p))
    state = tx.init(params)
    updates, _ = jax.jit(tx.update)(params, state, params)
    np.testing.assert_array_equal(updates["bias"], 0.0)
    np.testing.assert_allclose(updates["kernel"], -0.1 * params["kernel"], rtol=1e-6)


# ------------------------------------------------------- DynamicLossScale --


def test_dynamic_loss_scale_rules():
    ls = ko.DynamicLossScale(initial_scale=8.0, dynamic_growth_steps=3)
    s = ls.init()
    assert float(s.scale) == 8.0 and int(s.step_counter) == 0
    adjust = jax.jit(ls.adjust)
    s = adjust(s, jnp.bool_(False))
    assert float(s.scale) == 4.0 and int(s.step_counter) == 0
    for expected_counter in (1, 2):
        s = adjust(s, jnp.bool_(True))
        assert float(s.scale) == 4.0 and int(s.step_counter) == expected_counter
    s = adjust(s, jnp.bool_(True))
    assert float(s.scale) == 8.0 and int(s.step_counter) == 0
    assert float(ls.scale(jnp.float16(2.0), s)) == 16.0
    assert ls.scale(jnp.float16(2.0), s).dtype == jnp.float16
    grads = ls.unscale({"w": jnp.full((2,), 16.0, jnp.float16)}, s)
    assert grads["w"].dtype == jnp.float16 and float(grads["w"][0]) == 2.0
    assert bool(ls.all_finite({"a": jnp.ones(2), "b": jnp.zeros(3)}))
    assert not bool(ls.all_finite({"a": jnp.ones(2), "b": jnp.array([jnp.inf])}))
    assert not bool(ls.all_finite({"a": jnp.array([jnp.nan])}))


def test_dynamic_loss_scale_matches_keras_loss_scale_optimizer():
    weights, grads = _weights(), _grads(steps=6)
    grads[2]["bias"][1] = np.inf  # A step to skip.
    scale = 4.0

    # Keras's LossScaleOptimizer only runs statelessly on JAX.
    keras_opt = keras.optimizers.LossScaleOptimizer(
        keras.optimizers.Adam(0.05), initial_scale=scale, dynamic_growth_steps=2
    )
    variables = [keras.Variable(weights[k]) for k in KEYS]
    keras_opt.build(variables)
    opt_vars = [v.value for v in keras_opt.variables]
    scale_index = next(
        i for i, v in enumerate(keras_opt.variables) if v is keras_opt.dynamic_scale
    )
    values = [v.value for v in variables]
    scales = [scale]
    for g in grads:
        # The gradients a loss scaled by the current scale would give.
        scaled = [jnp.asarray(g[k]) * opt_vars[scale_index] for k in KEYS]
        values, opt_vars = keras_opt.stateless_apply(opt_vars, scaled, values)
        scales.append(float(opt_vars[scale_index]))

    ls = ko.DynamicLossScale(initial_scale=scale, dynamic_growth_steps=2)
    tx = ko.Adam(0.05)

    @jax.jit
    def step(params, opt_state, ls_state, raw_grads):
        scaled = jax.tree.map(lambda g: ls.scale(g, ls_state), raw_grads)
        grads = ls.unscale(scaled, ls_state)
        finite = ls.all_finite(grads)
        updates, new_opt_state = tx.update(grads, opt_state, params)
        params, opt_state = ls.select(
            finite,
            (optax.apply_updates(params, updates), new_opt_state),
            (params, opt_state),
        )
        return params, opt_state, ls.adjust(ls_state, finite)

    params = _params()
    opt_state, ls_state = tx.init(params), ls.init()
    got_scales = [float(ls_state.scale)]
    with jax.numpy_rank_promotion("raise"):
        for g in grads:
            params, opt_state, ls_state = step(
                params, opt_state, ls_state, jax.tree.map(jnp.asarray, g)
            )
            got_scales.append(float(ls_state.scale))
    assert got_scales == scales == [4.0, 4.0, 8.0, 4.0, 4.0, 8.0, 8.0]
    assert int(opt_state.iterations) == 5  # The inf step was skipped.
    for k, v in zip(KEYS, values):
        np.testing.assert_allclose(params[k], v, atol=1e-6)


# --------------------------------------------------------------------- get --


@pytest.mark.parametrize("name", sorted(ko._OPTIMIZERS))
def test_get_every_name(name):
    keras_cls = getattr(keras.optimizers, ko.get(name).class_name)
    for identifier in (name, name.upper(), keras_cls.__name__):
        tx = ko.get(identifier)
        assert isinstance(tx, optax.GradientTransformation)
        assert tx.class_name == keras_cls.__name__
    # Same config keys and hyperparameters as Keras (names are auto-generated
    # by Keras, and its learning rate passed through a float32 variable).
    keras_config = keras_cls().get_config()
    config = ko.get(name).get_config()
    assert set(config) == set(keras_config)
    for key, value in config.items():
        if key not in ("name", "learning_rate"):
            assert value == keras_config[key], key
    np.testing.assert_allclose(config["learning_rate"], keras_config["learning_rate"])
    # A config round trip gives the same optimizer.
    again = ko.get(ko.serialize(tx))
    assert again.get_config() == tx.get_config()
    params = _params()
    updates, _ = jax.jit(again.update)(params, again.init(params), params)
    assert jax.tree.structure(updates) == jax.tree.structure(params)


def test_get_dict_with_schedule_and_kwargs():
    schedule = ko.schedules.CosineDecay(0.1, 100)
    config = ko.serialize(ko.Adam(learning_rate=schedule, weight_decay=0.1))
    tx = ko.get(config, clipnorm=1.0)
    assert tx.get_config()["clipnorm"] == 1.0
    assert tx.get_config()["learning_rate"] == ko.schedules.serialize(schedule)
    np.testing.assert_allclose(
        ko.get_learning_rate(tx.init(_params()), step=50), schedule(50)
    )


def test_get_passes_optax_through_and_rejects_unknown():
    tx = optax.adam(1e-3)
    assert ko.get(tx) is tx
    with pytest.raises(ValueError, match="cannot be applied"):
        ko.get(tx, learning_rate=0.1)
    with pytest.raises(ValueError, match="adamw"):
        ko.get("adamm")
    with pytest.raises(ValueError, match="Valid names"):
        ko.get({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="Could not interpret"):
        ko.get(3)


# ------------------------------------------------------------------ errors --


def test_argument_errors():
    with pytest.raises(ValueError, match="Only one of"):
        ko.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        ko.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        ko.SGD(gradient_accumulation_steps=1)
    with pytest.raises(ValueError, match="ema_momentum"):
        ko.SGD(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="learning_rate"):
        ko.SGD(learning_rate="fast")
    tx = ko.SGD(weight_decay=0.1)
    params = _params()
    with pytest.raises(ValueError, match="needs `params`"):
        tx.update(params, tx.init(params))
    # Without weight decay or EMA, SGD needs no params (like optax.sgd).
    tx = ko.SGD()
    tx.update(params, tx.init(params))


@pytest.mark.parametrize("name", sorted(ko._OPTIMIZERS))
def test_low_precision_state_keeps_its_dtype(name):
    params = jax.tree.map(lambda x: x.astype(jnp.bfloat16), _params())
    tx = ko.get(name, gradient_accumulation_steps=2, use_ema=True)
    state = tx.init(params)
    update = jax.jit(tx.update)
    for _ in range(4):
        updates, new_state = update(params, state, params)
        assert jax.tree.map(lambda x: x.dtype, new_state) == jax.tree.map(
            lambda x: x.dtype, state
        )
        assert all(u.dtype == jnp.bfloat16 for u in jax.tree.leaves(updates))
        state = new_state
        params = optax.apply_updates(params, updates)
    assert all(bool(jnp.all(jnp.isfinite(p))) for p in jax.tree.leaves(params))


def test_set_learning_rate_under_jit_with_schedule():
    params = _params()
    schedule = ko.schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)
    tx = ko.Adam(learning_rate=schedule)
    state = jax.jit(ko.set_learning_rate)(tx.init(params), 0.05)
    np.testing.assert_allclose(ko.get_learning_rate(state), 0.05, rtol=1e-6)
    np.testing.assert_allclose(ko.get_learning_rate(state, step=5), 0.025, rtol=1e-6)


def test_ema_params_before_any_step_are_the_params():
    params = _params()
    state = ko.SGD(use_ema=True).init(params)
    for k in KEYS:
        np.testing.assert_array_equal(ko.ema_params(state)[k], params[k])
