"""kerax.checkpoint: keep-N, keep-best, PRNG keys, resharding, atomicity, errors."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from kerax.checkpoint import CheckpointManager


class TS(NamedTuple):
    params: dict
    opt_state: object
    step: jax.Array
    base_key: jax.Array


def make_ts(rows=8):
    params = {"w": jnp.arange(rows * 2.0).reshape(rows, 2), "b": jnp.zeros(2)}
    return TS(params, optax.adam(1e-3).init(params), jnp.array(0), jax.random.key(7))


def test_round_trip_with_keys_and_position(tmp_path):
    ts = make_ts()
    with CheckpointManager(tmp_path) as m:
        m.save(
            10,
            ts._replace(step=jnp.array(10)),
            position={"epoch": 3, "step_in_epoch": 4, "seed": 1},
        )
        m.wait_until_finished()
        restored, pos = m.restore(target=ts)
    assert pos == {"epoch": 3, "step_in_epoch": 4, "seed": 1}
    assert int(restored.step) == 10 and isinstance(restored, TS)
    np.testing.assert_array_equal(
        jax.random.key_data(restored.base_key), jax.random.key_data(ts.base_key)
    )
    jax.tree.map(np.testing.assert_array_equal, restored.params, ts.params)


def test_max_to_keep_and_interval(tmp_path):
    ts = make_ts()
    with CheckpointManager(tmp_path, max_to_keep=2, save_interval_steps=2) as m:
        for step in range(1, 8):
            m.save(step, ts)
        m.wait_until_finished()
        assert m.all_steps() == [4, 6]
        assert m.latest_step() == 6


def test_keep_best_by_metric(tmp_path):
    ts = make_ts()
    losses = {1: 0.9, 2: 0.3, 3: 0.5, 4: 0.7}
    with CheckpointManager(
        tmp_path, max_to_keep=2, monitor="val_loss", mode="min"
    ) as m:
        for step, loss in losses.items():
            m.save(step, ts, metrics={"val_loss": loss})
        m.wait_until_finished()
        assert m.all_steps() == [2, 3]
        assert m.best_step() == 2
        with pytest.raises(ValueError, match="monitors 'val_loss'"):
            m.save(5, ts, metrics={"loss": 1.0})


def test_restore_onto_other_device_counts(tmp_path):
    devices = jax.devices()
    assert len(devices) >= 8
    ts = make_ts(rows=8)
    mesh8 = Mesh(np.array(devices[:8]), ("data",))
    sharded = jax.tree.map(
        lambda a: jax.device_put(
            a, NamedSharding(mesh8, P("data") if a.ndim and a.shape[0] == 8 else P())
        ),
        ts.params,
    )
    ts8 = ts._replace(params=sharded)
    with CheckpointManager(tmp_path) as m:
        m.save(1, ts8)
        m.wait_until_finished()
        mesh4 = Mesh(np.array(devices[:4]), ("data",))
        target4 = ts._replace(
            params=jax.tree.map(
                lambda a: jax.device_put(
                    a,
                    NamedSharding(
                        mesh4, P("data") if a.ndim and a.shape[0] == 8 else P()
                    ),
                ),
                ts.params,
            )
        )
        r4, _ = m.restore(target=target4)
        assert r4.params["w"].sharding.mesh.devices.size == 4
        assert len(r4.params["w"].addressable_shards) == 4
        r1, _ = m.restore(target=ts)
        assert len(r1.params["w"].devices()) == 1
        np.testing.assert_array_equal(r4.params["w"], ts.params["w"])
        np.testing.assert_array_equal(r1.params["w"], ts.params["w"])


def test_interrupted_save_leaves_previous_checkpoint(tmp_path):
    ts = make_ts()
    with CheckpointManager(tmp_path) as m:
        m.save(1, ts)
        m.wait_until_finished()
    # What a crash mid-save leaves behind: an unfinished temporary step folder.
    junk = tmp_path / "2.orbax-checkpoint-tmp-123"
    (junk / "state").mkdir(parents=True)
    (junk / "state" / "half_written").write_bytes(b"\0" * 10)
    with CheckpointManager(tmp_path) as m:
        assert m.latest_step() == 1
        restored, _ = m.restore(target=ts)
    jax.tree.map(np.testing.assert_array_equal, restored.params, ts.params)


def test_checkpoint_from_another_model_is_an_error(tmp_path):
    with CheckpointManager(tmp_path) as m:
        m.save(1, make_ts(rows=8))
        m.wait_until_finished()
        with pytest.raises(
            ValueError,
            match=r"params/w has shape \(8, 2\), the target expects \(4, 2\)",
        ):
            m.restore(target=make_ts(rows=4))
        other = TS({"w": jnp.ones((8, 2))}, (), jnp.array(0), jax.random.key(0))
        with pytest.raises(ValueError, match="from another model"):
            m.restore(target=other)
        with pytest.raises(FileNotFoundError, match="step 9"):
            m.restore(9, target=make_ts())


def test_empty_directory(tmp_path):
    with CheckpointManager(tmp_path / "new") as m:
        assert m.latest_step() is None
        with pytest.raises(FileNotFoundError, match="No checkpoint"):
            m.restore(target=make_ts())


def test_keep_best_ranks_nan_worst(tmp_path):
    from kerax.checkpoint import CheckpointManager

    tree = {"w": np.zeros(2, "float32")}
    mgr = CheckpointManager(
        tmp_path, max_to_keep=2, monitor="val_loss", async_save=False
    )
    for step, value in enumerate([1.0, 0.5, float("nan"), float("nan"), float("nan")]):
        mgr.save(step, tree, metrics={"val_loss": value})
    mgr.wait_until_finished()
    assert mgr.best_step() == 1
    assert 1 in mgr.all_steps() and 0 in mgr.all_steps()
    mgr.close()


def _tree():
    return {"w": np.arange(3, dtype="float32")}


def _damage(step_dir):
    """Truncates every file of a step to nothing, as a crash mid-write can."""
    for p in step_dir.rglob("*"):
        if p.is_file():
            p.write_bytes(b"")


def test_damaged_newest_checkpoint_falls_back_with_a_warning(tmp_path):
    from kerax.checkpoint import CheckpointManager

    mgr = CheckpointManager(tmp_path, async_save=False)
    mgr.save(1, _tree(), position={"epoch": 1})
    mgr.save(2, {"w": np.ones(3, "float32")}, position={"epoch": 2})
    mgr.close()
    _damage(tmp_path / "2")
    mgr = CheckpointManager(tmp_path, async_save=False)
    with pytest.warns(UserWarning, match=r"/2 is corrupted"):
        ts, position, step = mgr.restore_latest(target=_tree())
    assert step == 1 and position == {"epoch": 1}
    np.testing.assert_array_equal(ts["w"], _tree()["w"])
    with pytest.raises(ValueError, match="corrupted"):
        mgr.restore(2, target=_tree())
    mgr.close()


def test_malformed_position_is_a_clear_error(tmp_path):
    from kerax.checkpoint import CheckpointCorruptedError, CheckpointManager

    mgr = CheckpointManager(tmp_path, async_save=False)
    mgr.save(1, _tree(), position={"epoch": "abc"})
    with pytest.raises(CheckpointCorruptedError, match=r"position.epoch.*'abc'"):
        with pytest.warns(UserWarning):
            mgr.restore_latest(target=_tree())
    mgr.close()


def test_second_writer_gets_a_clear_error(tmp_path):
    from kerax.checkpoint import CheckpointManager

    first = CheckpointManager(tmp_path, async_save=False)
    first.save(1, _tree())
    second = CheckpointManager(tmp_path, async_save=False)
    with pytest.raises(RuntimeError, match="another writer"):
        second.save(2, _tree())
    assert second.all_steps() == [1]  # Readers need no lock.
    first.close()
    assert second.save(2, _tree())  # The lock is free once the first closes.
    second.close()


def test_checkpoint_checksums_catch_changed_bytes(tmp_path):
    from kerax.checkpoint import CheckpointCorruptedError, CheckpointManager

    mgr = CheckpointManager(tmp_path, async_save=False)
    mgr.save(1, _tree(), position={"epoch": 1})
    mgr.save(2, _tree(), position={"epoch": 2})
    mgr.close()
    assert (tmp_path / "2" / "kerax_sha256.json").exists()
    position = tmp_path / "2" / "position" / "metadata"
    text = position.read_text()
    assert '"epoch": 2' in text
    position.write_text(text.replace('"epoch": 2', '"epoch": 7'))
    mgr = CheckpointManager(tmp_path, async_save=False)
    with pytest.raises(CheckpointCorruptedError, match="changed"):
        mgr.restore(2, target=_tree())
    with pytest.warns(UserWarning, match="/2 is corrupted"):
        _, position, step = mgr.restore_latest(target=_tree())
    assert (step, position) == (1, {"epoch": 1})
    mgr.close()
