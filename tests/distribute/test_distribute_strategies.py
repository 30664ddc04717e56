"""Sharded training equals single-device training, and params land where declared.

8 simulated CPU devices (tests/conftest.py). Tiny models: on 2 shared cores
compilation dominates, so each strategy compiles one step and runs 20.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import PartitionSpec as P

import kerax
from kerax import distribute as kd
from kerax import layers
from kerax.training import make_train_step

STEPS = 20


def mlp():
    return kerax.Sequential(
        [
            kerax.Input((8,)),
            layers.Dense(16, activation="relu"),
            layers.Dense(8, activation="softmax"),
        ]
    )


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(STEPS, 16, 8)).astype("float32")
    y = rng.integers(0, 8, size=(STEPS, 16)).astype("int32")
    return x, y


def run(model, data, strategy=None, optimizer=None):
    x, y = data
    step = make_train_step(
        model, "sparse_categorical_crossentropy", optimizer or optax.adam(1e-2)
    )
    if strategy is None:
        ts, fn = step.init(jax.random.key(0)), step
    else:
        ts, fn = (
            strategy.init_train_state(model, step.tx, jax.random.key(0)),
            strategy.jit_step(step.fn, model),
        )
    ts = step.prepare(ts, (x[0], y[0]))
    losses = []
    for i in range(STEPS):
        batch = (x[i], y[i]) if strategy is None else strategy.shard_batch((x[i], y[i]))
        ts, logs = fn(ts, batch)
        losses.append(logs["loss"])
    return ts, np.array([float(v) for v in losses])


@pytest.fixture(scope="module")
def reference(data):
    return run(mlp(), data)


def specs(tree):
    return jax.tree.map(lambda a: a.sharding.spec, tree)


def mesh_4x2():
    return kd.make_mesh((4, 2), ("data", "model"))


layout = kd.LayoutMap()
layout["dense/kernel"] = (None, "model")
layout["dense/bias"] = ("model",)
layout["dense_1/kernel"] = ("model", None)

CASES = {
    "data_parallel": (
        lambda: kd.DataParallel(),
        {
            "dense": {"kernel": P(), "bias": P()},
            "dense_1": {"kernel": P(), "bias": P()},
        },
    ),
    "fsdp": (
        lambda: kd.FSDP(min_size=0),
        {
            "dense": {"kernel": P(None, "data"), "bias": P("data")},
            "dense_1": {"kernel": P("data"), "bias": P("data")},
        },
    ),
    "model_parallel_rules": (
        lambda: kd.ModelParallel(mesh_4x2(), rules={"embed": None, "mlp": "model"}),
        {
            "dense": {"kernel": P(None, "model"), "bias": P("model")},
            "dense_1": {"kernel": P(None, "model"), "bias": P("model")},
        },
    ),
    "model_parallel_layout_map": (
        lambda: kd.ModelParallel(mesh_4x2(), layout_map=layout),
        {
            "dense": {"kernel": P(None, "model"), "bias": P("model")},
            "dense_1": {"kernel": P("model", None), "bias": P()},
        },
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_sharded_training_matches_single_device(name, data, reference):
    make, expected = CASES[name]
    strategy = make()
    ref_ts, ref_losses = reference
    ts, losses = run(mlp(), data, strategy)
    print(
        f"{name}: max |dloss| over {STEPS} steps = {np.abs(losses - ref_losses).max():.2e}"
    )
    np.testing.assert_allclose(losses, ref_losses, atol=1e-5, rtol=0)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(
            np.asarray(a), np.asarray(b), atol=1e-4
        ),
        ts.params,
        ref_ts.params,
    )
    # Params and Adam moments are where the strategy says, on the whole mesh.
    got = specs(ts.params)
    assert jax.tree.map(lambda s: tuple(s), got) == jax.tree.map(
        lambda s: tuple(s), expected
    )
    adam = ts.opt_state[0]
    assert jax.tree.map(tuple, specs(adam.mu)) == jax.tree.map(tuple, expected)
    assert jax.tree.map(tuple, specs(adam.nu)) == jax.tree.map(tuple, expected)
    assert adam.count.sharding.spec == P()
    for leaf in jax.tree.leaves(ts):
        assert leaf.sharding.mesh == strategy.mesh
    assert int(ts.step) == STEPS


def test_init_is_sharded_and_equals_unsharded_init():
    model = mlp()
    strategy = kd.ModelParallel(mesh_4x2(), rules={"embed": None, "mlp": "model"})
    params, state = strategy.init(model, jax.random.key(3))
    ref, _ = model.init(jax.random.key(3))
    assert params["dense"]["kernel"].sharding.spec == P(None, "model")
    # Each device holds only its column block.
    assert params["dense"]["kernel"].addressable_shards[0].data.shape == (8, 8)
    jax.tree.map(
        lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b)),
        params,
        ref,
    )
    assert state == {}


def test_fsdp_per_device_param_bytes():
    model = kerax.Sequential(
        [kerax.Input((64,)), layers.Dense(256), layers.Dense(256), layers.Dense(8)]
    )
    strategy = kd.FSDP()
    ts = strategy.init_train_state(model, optax.adam(1e-3), jax.random.key(0))
    total = sum(a.nbytes for a in jax.tree.leaves(ts.params))
    per_device = kd.bytes_per_device(ts.params)
    assert len(per_device) == 8
    worst = max(per_device.values())
    opt_total = sum(a.nbytes for a in jax.tree.leaves(ts.opt_state))
    opt_worst = max(kd.bytes_per_device(ts.opt_state).values())
    print(
        f"FSDP on 8 devices: params {total} B total, {worst} B on the fullest device "
        f"({worst / total:.4f} of total; total/8 = {total // 8} B); "
        f"Adam state {opt_total} B total, {opt_worst} B per device ({opt_worst / opt_total:.4f})"
    )
    # Kernels are split 8 ways; the biases (< min_size elements) stay whole.
    assert worst <= total / 8 * 1.1
    assert opt_worst <= opt_total / 8 * 1.1
    assert ts.params["dense_1"]["kernel"].sharding.spec == P("data")
    assert ts.params["dense_1"]["bias"].sharding.spec == P()
    print(strategy.explain(model, ts.params))


def test_batchnorm_statistics_are_global():
    """Under jit the batch mean over a batch split across devices is the global mean."""
    model = kerax.Sequential(
        [
            kerax.Input((4,)),
            layers.Dense(8),
            layers.BatchNormalization(momentum=0.5),
            layers.Dense(8, activation="softmax"),
        ]
    )
    strategy = kd.DataParallel()
    params, state = strategy.init(model, jax.random.key(0))
    # Rows of each device's shard have their own offset: per-device statistics would differ.
    x = np.arange(16 * 4, dtype="float32").reshape(16, 4) / 7.0
    xs = strategy.shard_batch(x)
    assert xs.sharding.spec == P("data")
    _, new_state = jax.jit(lambda p, s, x: model.apply(p, s, x, training=True))(
        params, state, xs
    )
    _, ref_state = model.apply(
        *model.init(jax.random.key(0)), jnp.asarray(x), training=True
    )
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(
            np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6
        ),
        new_state,
        ref_state,
    )
    assert new_state["batch_normalization"]["moving_mean"].sharding.is_fully_replicated
    # And through whole training steps.
    rng = np.random.default_rng(1)
    data = (
        rng.normal(size=(3, 16, 4)).astype("float32") + np.arange(16)[None, :, None],
        rng.integers(0, 8, size=(3, 16)),
    )
    ref_ts, ref_losses = _run_steps(model, data, None)
    ts, losses = _run_steps(model, data, strategy)
    np.testing.assert_allclose(losses, ref_losses, atol=1e-5)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(
            np.asarray(a), np.asarray(b), atol=1e-5
        ),
        ts.state,
        ref_ts.state,
    )


def _run_steps(model, data, strategy):
    x, y = data
    step = make_train_step(model, "sparse_categorical_crossentropy", optax.sgd(0.1))
    if strategy is None:
        ts, fn = step.init(jax.random.key(0)), step
    else:
        ts, fn = (
            strategy.init_train_state(model, step.tx, jax.random.key(0)),
            strategy.jit_step(step.fn, model),
        )
    ts = step.prepare(ts, (x[0], y[0]))
    losses = []
    for i in range(len(x)):
        batch = (x[i], y[i]) if strategy is None else strategy.shard_batch((x[i], y[i]))
        ts, logs = fn(ts, batch)
        losses.append(float(logs["loss"]))
    return ts, np.array(losses)


def test_repeat_stacked_params_keep_block_axes():
    block = layers.Dense(16, name="block")
    model = kerax.Sequential([kerax.Input((16,)), layers.Repeat(block, 3)])
    strategy = kd.ModelParallel(mesh_4x2(), rules={"embed": None, "mlp": "model"})
    abstract, _ = jax.eval_shape(lambda k: model.init(k), jax.random.key(0))
    sh = strategy.param_shardings(model, abstract)
    assert sh["repeat"]["block"]["kernel"].spec == P(None, None, "model")
    assert sh["repeat"]["block"]["bias"].spec == P(None, "model")


def test_batch_sharding_and_stacked_batches():
    strategy = kd.ModelParallel(
        mesh_4x2(), rules={"mlp": "model"}, allow_unused_rules=True
    )
    batch = {"x": np.zeros((8, 3), "float32"), "w": np.float32(1.0)}
    sh = strategy.batch_sharding(batch)
    assert sh["x"].spec == P("data") and sh["w"].spec == P()
    stacked = strategy.shard_batch(np.zeros((5, 8, 3), "float32"), batch_axis=1)
    assert stacked.sharding.spec == P(None, "data")
    assert stacked.addressable_shards[0].data.shape == (5, 2, 3)
    same = strategy.shard_global_batch(np.arange(8.0))
    np.testing.assert_array_equal(np.asarray(same), np.arange(8.0))


def test_mesh_helpers():
    assert len(kd.list_devices()) == kd.get_device_count() == 8
    mesh = kd.make_mesh((-1, 2), ("data", "model"))
    assert dict(mesh.shape) == {"data": 4, "model": 2}
    assert all(t == jax.sharding.AxisType.Auto for t in mesh.axis_types)
    small = kd.make_mesh((4,), ("data",), devices=["cpu:0", "cpu:1", "cpu:2", "cpu:3"])
    assert small.devices.size == 4
    assert kd.DataParallel(devices=jax.devices()[:2]).data_size == 2


def test_opt_state_shardings_mirror_params_through_wrappers():
    """Masked, chained and hyperparameter-injected states: moments follow their params."""
    model = mlp()
    strategy = kd.FSDP(min_size=0)
    params, _ = jax.eval_shape(lambda k: model.init(k), jax.random.key(0))
    p_sh = strategy.param_shardings(model, params)
    tx = optax.chain(
        optax.clip_by_global_norm(1.0),
        optax.masked(
            optax.inject_hyperparams(optax.adamw)(learning_rate=1e-3),
            lambda p: jax.tree.map(lambda a: a.ndim > 1, p),
        ),
    )
    o_sh = strategy.opt_state_shardings(tx, p_sh, abstract_params=params)
    flat = {
        kd.layout.path_str(p): s.spec
        for p, s in jax.tree_util.tree_flatten_with_path(o_sh)[0]
    }
    moments = {k: v for k, v in flat.items() if k.endswith("dense/kernel")}
    assert moments and all(v == P(None, "data") for v in moments.values()), flat
    assert all(
        v == P() for k, v in flat.items() if "count" in k or "learning_rate" in k
    )
