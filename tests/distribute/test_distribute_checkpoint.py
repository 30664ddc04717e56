"""A TrainState saved on 8 devices restores onto 4, then 1, then 8 again."""

import jax
import numpy as np
import optax

import kerax
from kerax import distribute as kd
from kerax import layers
from kerax.checkpoint import CheckpointManager
from kerax.training import make_train_step


def test_save_on_8_restore_on_4_then_1_and_back(tmp_path):
    model = kerax.Sequential(
        [
            kerax.Input((8,)),
            layers.Dense(16, activation="relu"),
            layers.Dense(8, activation="softmax"),
        ]
    )
    step = make_train_step(model, "sparse_categorical_crossentropy", optax.adam(1e-2))
    on8 = kd.FSDP(min_size=0)
    ts = on8.init_train_state(model, step.tx, jax.random.key(0))
    rng = np.random.default_rng(0)
    batch = (rng.normal(size=(16, 8)).astype("float32"), rng.integers(0, 8, size=(16,)))
    ts = step.prepare(ts, batch)
    ts, _ = on8.jit_step(step.fn, model)(ts, on8.shard_batch(batch))
    saved = jax.device_get(ts)

    def check(restored, strategy, n_devices):
        jax.tree.map(
            lambda a, b: np.testing.assert_array_equal(np.asarray(a), b),
            restored,
            saved,
        )
        for leaf in jax.tree.leaves(restored):
            assert (
                leaf.sharding.mesh == strategy.mesh
                and len(leaf.sharding.device_set) == n_devices
            )
        want = strategy.train_state_shardings(model, restored)
        jax.tree.map(
            lambda a, s: np.testing.assert_equal(a.sharding.spec, s.spec),
            restored,
            want,
        )

    with CheckpointManager(tmp_path / "a") as ckpt:
        ckpt.save(int(ts.step), ts, position={"epoch": 0})
        ckpt.wait_until_finished()
        on4 = kd.FSDP(devices=jax.devices()[:4], min_size=0)
        ts4, position = ckpt.restore(target=on4.abstract_train_state(model, ts))
    assert position == {"epoch": 0}
    check(ts4, on4, 4)
    assert ts4.params["dense"]["kernel"].sharding.spec == jax.sharding.PartitionSpec(
        None, "data"
    )
    assert ts4.params["dense"]["kernel"].addressable_shards[0].data.shape == (8, 4)

    with CheckpointManager(tmp_path / "b") as ckpt:
        ckpt.save(1, ts4)
        ckpt.wait_until_finished()
        on1 = kd.DataParallel(devices=jax.devices()[:1])
        ts1, _ = ckpt.restore(target=on1.abstract_train_state(model, ts4))
    check(ts1, on1, 1)

    with CheckpointManager(tmp_path / "c") as ckpt:
        ckpt.save(2, ts1)
        ckpt.wait_until_finished()
        ts8, _ = ckpt.restore(target=on8.abstract_train_state(model, ts1))
    check(ts8, on8, 8)
    # And training goes on from the restored state on 8 devices.
    ts8, logs = on8.jit_step(step.fn, model)(ts8, on8.shard_batch(batch))
    assert np.isfinite(float(logs["loss"])) and int(ts8.step) == 2
