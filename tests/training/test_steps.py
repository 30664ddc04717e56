"""The pure steps: make_train_step / make_eval_step / make_predict_step."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from training_helpers import mlp

import kerax
from kerax import layers, losses, optimizers
from kerax.training import (
    TrainState,
    make_eval_step,
    make_predict_step,
    make_train_step,
    reset_metrics,
)
from kerax.training.train_state import step_key


def _leaves_close(a, b, **kw):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), **kw)


def test_train_step_learns_and_logs(regression_data):
    x, y = regression_data
    step = make_train_step(mlp(outputs=2), "mse", optimizers.SGD(0.05))
    ts = step.init(jax.random.key(0))
    assert isinstance(ts, TrainState) and int(ts.step) == 0
    first = None
    for _ in range(30):
        ts = reset_metrics(ts)  # Each step's logs then show that batch alone.
        ts, logs = step(ts, (x, y))
        first = float(logs["loss"]) if first is None else first
    assert set(logs) == {"loss", "learning_rate"}
    assert float(logs["loss"]) < 0.5 * first
    assert int(ts.step) == 30
    np.testing.assert_allclose(float(logs["learning_rate"]), 0.05, rtol=1e-6)


def test_params_equal_model_init():
    model = mlp()
    step = make_train_step(model, "mse", "sgd")
    ts = step.init(jax.random.key(3))
    params, _ = model.init(jax.random.key(3))
    _leaves_close(ts.params, params, rtol=0, atol=0)


def test_train_state_is_donated(regression_data):
    x, y = regression_data
    step = make_train_step(mlp(outputs=2), "mse", "sgd")
    ts = step.init(jax.random.key(0))
    ts = step.prepare(ts, (x, y))
    old = ts.params
    new, _ = step(ts, (x, y))
    assert all(leaf.is_deleted() for leaf in jax.tree.leaves(old))
    assert not any(leaf.is_deleted() for leaf in jax.tree.leaves(new.params))


def test_step_keys_make_runs_resumable(regression_data):
    x, y = regression_data
    model = kerax.Sequential(
        [
            kerax.Input((8,)),
            layers.Dense(32, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(2),
        ]
    )
    step = make_train_step(model, "mse", "adam")
    keys = [step_key(step.init(jax.random.key(0)).base_key, i) for i in range(2)]
    assert not np.array_equal(
        jax.random.key_data(keys[0]), jax.random.key_data(keys[1])
    )

    def run(ts, n):
        for _ in range(n):
            ts, _ = step(ts, (x, y))
        return ts

    straight = run(step.init(jax.random.key(0)), 4)
    half = run(step.init(jax.random.key(0)), 2)
    saved = jax.tree.map(np.asarray, half)  # What a checkpoint keeps.
    resumed = run(jax.tree.map(jnp.asarray, saved), 2)
    _leaves_close(straight.params, resumed.params, rtol=0, atol=0)


def test_regularization_and_activity_losses_reach_the_loss(regression_data):
    x, y = regression_data
    model = kerax.Sequential(
        [
            kerax.Input((8,)),
            layers.Dense(4, kernel_regularizer=kerax.regularizers.L2(0.1), name="d1"),
            layers.ActivityRegularization(l1=0.01),
            layers.Dense(2, name="d2"),
        ]
    )
    step = make_train_step(model, "mse", optimizers.SGD(0.0))
    ts = step.init(jax.random.key(0))
    params = jax.tree.map(np.asarray, ts.params)
    ts, logs = step(ts, (x, y))
    h = x @ params["d1"]["kernel"] + params["d1"]["bias"]
    pred = h @ params["d2"]["kernel"] + params["d2"]["bias"]
    expected = (
        np.mean((pred - y) ** 2)
        + 0.1 * np.sum(params["d1"]["kernel"] ** 2)
        + 0.01 * np.sum(np.abs(h)) / len(x)
    )  # Keras divides activity losses by the batch size.
    np.testing.assert_allclose(float(logs["loss"]), expected, rtol=1e-5)


def test_constraints_are_applied_after_each_update(regression_data):
    x, y = regression_data
    model = kerax.Sequential(
        [
            kerax.Input((8,)),
            layers.Dense(4, kernel_constraint="non_neg", name="d"),
            layers.Dense(2),
        ]
    )
    step = make_train_step(model, "mse", optimizers.SGD(0.5))
    ts = step.init(jax.random.key(0))
    assert float(jnp.min(ts.params["d"]["kernel"])) < 0  # glorot init has negatives
    ts, _ = step(ts, (x, y))
    assert float(jnp.min(ts.params["d"]["kernel"])) >= 0


def test_frozen_layers_do_not_change(regression_data):
    x, y = regression_data
    model = kerax.Sequential(
        [
            kerax.Input((8,)),
            layers.Dense(4, trainable=False, name="frozen"),
            layers.Dense(2, name="head"),
        ]
    )
    step = make_train_step(model, "mse", "adam")
    ts = step.init(jax.random.key(0))
    before = jax.tree.map(np.asarray, ts.params)
    for _ in range(3):
        ts, _ = step(ts, (x, y))
    _leaves_close(ts.params["frozen"], before["frozen"], rtol=0, atol=0)
    assert not np.allclose(ts.params["head"]["kernel"], before["head"]["kernel"])


def _two_headed():
    inp = kerax.Input((8,), name="features")
    h = layers.Dense(16, activation="relu", name="trunk")(inp)
    return kerax.Model(
        inp,
        {
            "cls": layers.Dense(3, name="cls_head")(h),
            "reg": layers.Dense(1, name="reg_head")(h),
        },
    )


def test_multi_output_losses_weights_and_log_names(classification_data):
    x, y = classification_data
    target = {"cls": y, "reg": x[:, :1]}
    step = make_train_step(
        _two_headed(),
        {"cls": losses.SparseCategoricalCrossentropy(from_logits=True), "reg": "mse"},
        optimizers.SGD(0.0),
        metrics={"cls": ["accuracy"], "reg": ["mae"]},
        loss_weights={"cls": 1.0, "reg": 0.5},
    )
    ts = step.init(jax.random.key(0))
    ts, logs = step(ts, (x, target))
    assert set(logs) == {
        "loss",
        "cls_loss",
        "reg_loss",
        "cls_accuracy",
        "reg_mae",
        "learning_rate",
    }
    np.testing.assert_allclose(
        float(logs["loss"]),
        float(logs["cls_loss"]) + 0.5 * float(logs["reg_loss"]),
        rtol=1e-6,
    )


def test_list_outputs_are_named_after_their_layers(regression_data):
    x, y = regression_data
    inp = kerax.Input((8,))
    h = layers.Dense(8, name="trunk")(inp)
    model = kerax.Model(
        inp, [layers.Dense(2, name="first")(h), layers.Dense(2, name="second")(h)]
    )
    step = make_train_step(model, ["mse", "mae"], "sgd", loss_weights=[1.0, 2.0])
    ts, logs = step(step.init(jax.random.key(0)), (x, [y, y]))
    assert {"first_loss", "second_loss"} <= set(logs)
    np.testing.assert_allclose(
        float(logs["loss"]),
        float(logs["first_loss"]) + 2 * float(logs["second_loss"]),
        rtol=1e-6,
    )


def test_loss_none_for_one_output_skips_it(classification_data):
    x, y = classification_data
    step = make_train_step(
        _two_headed(),
        {"cls": losses.SparseCategoricalCrossentropy(from_logits=True)},
        "sgd",
    )
    ts, logs = step(step.init(jax.random.key(0)), (x, {"cls": y}))
    assert set(logs) == {"loss", "learning_rate"}


def test_sample_weight_weighs_the_loss(regression_data):
    x, y = regression_data
    model = mlp(outputs=2)
    step = make_train_step(model, "mse", optimizers.SGD(0.0))
    ts = step.init(jax.random.key(0))
    params, state = jax.tree.map(np.asarray, (ts.params, ts.state))
    sw = np.linspace(0.0, 2.0, len(x)).astype(np.float32)
    _, logs = step(ts, (x, y, sw))
    pred, _ = model.apply(params, state, x)
    per_sample = np.mean((np.asarray(pred) - y) ** 2, axis=-1)
    np.testing.assert_allclose(
        float(logs["loss"]), np.sum(per_sample * sw) / len(x), rtol=1e-5
    )


def test_eval_and_predict_steps(classification_data):
    x, y = classification_data
    model = mlp()
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    step = make_train_step(model, loss, "adam", metrics=["accuracy"])
    ts, _ = step(step.init(jax.random.key(0)), (x, y))
    params = jax.tree.map(np.asarray, ts.params)
    evaluate = make_eval_step(model, loss, metrics=["accuracy"])
    out, logs = evaluate(reset_metrics(ts), (x, y))
    _leaves_close(out.params, params, rtol=0, atol=0)  # Eval changes no weights...
    assert not any(
        leaf.is_deleted() for leaf in jax.tree.leaves(ts.params)
    )  # ...and donates nothing.
    pred = make_predict_step(model)(ts, x)
    acc = np.mean(np.argmax(np.asarray(pred), -1) == y)
    np.testing.assert_allclose(float(logs["accuracy"]), acc, rtol=1e-6)
    np.testing.assert_allclose(float(logs["loss"]), float(loss(y, pred)), rtol=1e-5)


def test_fused_steps_equal_single_steps(regression_data):
    x, y = regression_data
    step = make_train_step(mlp(outputs=2), "mse", "adam")
    batches = [(x[i : i + 32], y[i : i + 32]) for i in range(0, 96, 32)]
    single = step.init(jax.random.key(0))
    for b in batches:
        single, single_logs = step(single, b)
    stacked = jax.tree.map(lambda *a: np.stack(a), *batches)
    fused_step = make_train_step(mlp(outputs=2), "mse", "adam", steps=3)
    fused, fused_logs = fused_step(fused_step.init(jax.random.key(0)), stacked)
    _leaves_close(fused.params, single.params, rtol=1e-5, atol=1e-6)
    assert int(fused.step) == 3
    np.testing.assert_allclose(
        float(fused_logs["loss"]), float(single_logs["loss"]), rtol=1e-5
    )


def test_optax_transformations_work_as_is(regression_data):
    x, y = regression_data
    step = make_train_step(
        mlp(outputs=2),
        "mse",
        optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-2)),
    )
    ts = step.init(jax.random.key(0))
    ts, logs = step(ts, (x, y))
    assert "learning_rate" not in logs  # Plain optax keeps no readable rate.
    ts, logs = step(ts, (x, y))
    assert np.isfinite(float(logs["loss"]))


def test_mixed_bfloat16_trains(regression_data, policy):
    policy("mixed_bfloat16")
    x, y = regression_data
    model = mlp(outputs=2)
    step = make_train_step(model, "mse", optimizers.Adam(0.02))
    ts = step.init(jax.random.key(0))
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(ts.params))
    assert step.loss_scale is None
    losses_seen = []
    for _ in range(60):
        ts, logs = step(reset_metrics(ts), (x, y))
        losses_seen.append(float(logs["loss"]))
    assert make_predict_step(model)(ts, x).dtype == jnp.bfloat16
    assert losses_seen[-1] < 0.3 * losses_seen[0]


def test_mixed_float16_uses_dynamic_loss_scaling(regression_data, policy):
    policy("mixed_float16")
    x, y = regression_data
    step = make_train_step(
        mlp(outputs=2),
        "mse",
        optimizers.Adam(0.02),
        loss_scale=optimizers.DynamicLossScale(initial_scale=2.0**40),
    )
    ts = step.init(jax.random.key(0))
    assert ts.loss_scale is not None
    before = jax.tree.map(np.asarray, ts.params)
    ts, _ = step(ts, (x, y))  # 2**40 overflows float16 gradients: the step is skipped.
    _leaves_close(ts.params, before, rtol=0, atol=0)
    assert float(ts.loss_scale.scale) == 2.0**39
    seen = []
    for _ in range(80):
        ts, logs = step(reset_metrics(ts), (x, y))
        seen.append(float(logs["loss"]))
    assert float(ts.loss_scale.scale) < 2.0**20
    assert np.isfinite(seen[-1]) and seen[-1] < 0.5 * seen[-40]


def test_auto_loss_scale_follows_the_policy(policy):
    assert make_train_step(mlp(), "mse", "sgd").loss_scale is None
    policy("mixed_float16")
    assert isinstance(
        make_train_step(mlp(), "mse", "sgd").loss_scale, optimizers.DynamicLossScale
    )


def test_bad_batches_and_structures_raise(regression_data):
    x, y = regression_data
    step = make_train_step(_two_headed(), {"cls": "mse", "reg": "mse"}, "sgd")
    with pytest.raises(ValueError, match="no target"):
        step(
            step.init(jax.random.key(0)),
            (x, {"cls": np.zeros((len(x), 3), np.float32)}),
        )
    with pytest.raises(ValueError, match="batch"):
        kerax.training.unpack_batch((x, y, y, y))


def test_output_masks_reach_losses_and_metrics():
    """Keras semantics: padded timesteps (Embedding mask_zero) do not count."""
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, size=(16, 7))
    x[:, 5:] = 0
    y = rng.integers(0, 3, size=(16, 7))
    inp = kerax.Input((7,), dtype="int32")
    model = kerax.Model(
        inp, layers.Identity()(layers.Embedding(20, 3, mask_zero=True)(inp))
    )
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    step = make_eval_step(model, loss, metrics=["accuracy"])
    ts = make_train_step(model, loss, "sgd").init(jax.random.key(0))
    _, logs = step(reset_metrics(ts), (x, y))
    pred = np.asarray(make_predict_step(model)(ts, x))
    valid = x != 0
    nll = -np.take_along_axis(np.asarray(jax.nn.log_softmax(pred)), y[..., None], -1)[
        ..., 0
    ]
    np.testing.assert_allclose(float(logs["loss"]), nll[valid].mean(), rtol=1e-5)
    np.testing.assert_allclose(
        float(logs["accuracy"]), (pred.argmax(-1) == y)[valid].mean(), rtol=1e-6
    )


def test_resolved_once_and_complete_after_init(regression_data):
    x, y = regression_data
    model = mlp(outputs=2)
    objectives = kerax.training.Objectives.resolve(
        model, "mse", metrics=["mae"], y_spec=kerax.spec((None, 2))
    )
    with pytest.raises(AttributeError, match="immutable"):
        objectives.loss = "mae"
    step = make_train_step(model, objectives, optax.sgd(0.1))
    ts = step.init(jax.random.key(0))
    # Complete: a first call needs nothing filled in.
    assert set(ts.metric_states) == {"loss", "mae"}
    ts, logs = step(ts, (x, y))
    assert set(logs) == {"loss", "mae"}  # optax.sgd declares no learning rate.
    with pytest.raises(ValueError, match="Objectives.resolve"):
        make_train_step(model, objectives, "sgd", metrics=["mse"])


def test_names_chosen_from_the_target_shape_need_y_spec():
    model = mlp(outputs=2)
    with pytest.raises(ValueError, match="y_true_shape"):
        make_train_step(model, "mse", "sgd", metrics=["accuracy"])
    step = make_train_step(
        model, "mse", "sgd", metrics=["accuracy"], y_spec=kerax.spec((None,), "int32")
    )
    (entry,) = step.objectives.metric_entries
    assert type(entry.metric).__name__ == "SparseCategoricalAccuracy"


def test_the_compiled_step_carries_only_what_changes(regression_data):
    x, y = regression_data
    model = mlp(outputs=2)
    step = make_train_step(model, "mse", optax.adam(1e-3))
    ts = step.init(jax.random.key(0))
    weights = len(jax.tree.leaves((ts.params, ts.state, ts.opt_state)))
    # In: the weights, the step counter, the loss tracker, the base key, x, y.
    # Out: the same TrainState; no logs.
    assert step.leaf_counts(ts, (x, y)) == (weights + 5, weights + 3)


def test_optimizer_capabilities_drive_the_step(regression_data):
    x, y = regression_data
    model = mlp(outputs=2)
    scaled = make_train_step(model, "mse", optimizers.SGD(0.1, loss_scale_factor=4.0))
    plain = make_train_step(model, "mse", optimizers.SGD(0.1))
    a, logs = scaled(scaled.init(jax.random.key(0)), (x, y))
    b, _ = plain(plain.init(jax.random.key(0)), (x, y))
    # Keras divides the gradients by the factor again: the same update.
    _leaves_close(a.params, b.params, rtol=1e-6)
    assert "learning_rate" in logs


def _xla_compiles(caplog, fn):
    """What `fn()` compiles, from JAX's compile log (global: any thread).

    The persistent cache (which the test command turns on) is off meanwhile:
    a program read from it is not compiled, and not logged as compiled."""
    cache = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    jax.config.update("jax_log_compiles", True)
    try:
        with caplog.at_level("WARNING"):
            fn()
    finally:
        jax.config.update("jax_log_compiles", False)
        jax.config.update("jax_enable_compilation_cache", cache)
    return [
        r.getMessage().split(" in ")[0]
        for r in caplog.records
        if r.getMessage().startswith("Finished XLA compilation")
    ]


def test_fresh_metric_states_need_no_compile_and_equal_the_traced_init(caplog):
    """Built-in metrics' initial states come from NumPy (no XLA program
    before the first step); anything else is jitted, with the same values."""
    from kerax.training.objectives import _fresh_states_program

    model = mlp(outputs=3)
    step = make_train_step(
        model,
        "sparse_categorical_crossentropy",
        "sgd",
        metrics=["accuracy", "sparse_top_k_categorical_accuracy", "auc"],
        y_spec=kerax.spec((None,), "int32"),
    )
    objectives = step.objectives
    made = []
    assert _xla_compiles(caplog, lambda: made.append(objectives.init_metrics())) == []
    (fresh,) = made
    expected = jax.jit(objectives._metric_states)()
    assert jax.tree.structure(fresh) == jax.tree.structure(expected)
    for got, want in zip(jax.tree.leaves(fresh), jax.tree.leaves(expected)):
        assert isinstance(got, jax.Array) and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    # Each call gives new buffers: the step donates them.
    again = objectives.init_metrics()
    assert all(
        a is not b for a, b in zip(jax.tree.leaves(fresh), jax.tree.leaves(again))
    )

    def computed():  # Not only constants: jitted, still right.
        return {"ramp": jnp.arange(3.0) * 2, "zero": jnp.zeros((2,), jnp.int32)}

    program = _fresh_states_program(computed)
    np.testing.assert_array_equal(program()["ramp"], [0.0, 2.0, 4.0])
    assert program()["zero"].dtype == jnp.int32


def test_the_logs_program_is_compiled_once_ahead_and_shared_by_fused_steps(
    regression_data, caplog
):
    x, y = regression_data
    step = make_train_step(mlp(outputs=2), "mse", optax.adam(1e-3))
    fused = step.with_steps(4)
    assert fused._results is step._results  # One logs program for both.
    ts = step.init(jax.random.key(0))
    stacked = jax.tree.map(lambda a: np.stack([a] * 4), (x, y))

    def run():
        nonlocal ts
        step.compile_logs_ahead(ts)  # The logs program compiles on another thread.
        step.compile_logs_ahead(ts)  # A second start is a no-op.
        ts, logs = step(ts, (x, y))
        assert np.isfinite(float(logs["loss"]))
        ts, logs = fused(ts, stacked)
        assert int(ts.step) == 5 and np.isfinite(float(logs["loss"]))

    compiled = _xla_compiles(caplog, run)
    # The single step, the fused step, and the logs program once.
    assert sorted(compiled) == [
        "Finished XLA compilation of jit(_lean)",
        "Finished XLA compilation of jit(_lean)",
        "Finished XLA compilation of jit(_logs)",
    ]
