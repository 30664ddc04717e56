"""The port of the keras-io guide "Multi-GPU distributed training with JAX"
runs on 8 devices (tests/conftest.py), and its sharded training ends with
the params of the same steps on one device (see
distributed_training_with_jax.py)."""

import jax
import numpy as np

from tests.keras_guides.test_guides import run_port


def test_distributed_training_with_jax(tmp_path, monkeypatch):
    scope = run_port("distributed_training_with_jax", tmp_path, monkeypatch)
    assert scope["num_devices"] == 8

    # The batch was split along its first axis, 8 rows per device.
    sharded_x = scope["sharded_x"]
    assert len(sharded_x.sharding.device_set) == 8
    assert {s.data.shape for s in sharded_x.addressable_shards} == {(8, 28, 28, 1)}
    # The trained variables stayed replicated on all 8 devices.
    params, state = scope["params"], scope["state"]
    for leaf in jax.tree.leaves((params, state, scope["optimizer_variables"])):
        assert leaf.sharding.is_fully_replicated
        assert len(leaf.sharding.device_set) == 8

    # The same steps on one device, from the same initial variables.
    model, optimizer = scope["model"], scope["optimizer"]
    p, s = model.init(jax.random.key(0), scope["one_batch"].numpy())
    train_state = (p, s, optimizer.init(p))
    for _ in range(scope["num_epochs"]):
        for x, y in scope["train_data"]:
            loss_value, train_state = scope["train_step"](
                train_state, x.numpy(), y.numpy()
            )
    one_device = jax.tree.leaves(train_state[0])
    assert all(len(leaf.sharding.device_set) == 1 for leaf in one_device)
    # Training moved the params, and both runs moved them alike.
    moved = jax.tree.leaves(jax.tree.map(lambda a, b: np.abs(a - b).max(), p, params))
    assert max(moved) > 1e-4
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5),
        train_state[0],
        params,
    )
    np.testing.assert_allclose(loss_value, scope["loss_value"], rtol=1e-5)
