"""Every sharding mistake is a ValueError naming the param or argument and the sizes.

Abstract params only (`jax.eval_shape`): nothing compiles, so these are fast.
"""

import jax
import numpy as np
import pytest

import kerax
from kerax import distribute as kd
from kerax import layers


def mesh_4x2():
    return kd.make_mesh((4, 2), ("data", "model"))


def abstract(model):
    return jax.eval_shape(lambda k: model.init(k), jax.random.key(0))


def mlp(out=8):
    return kerax.Sequential([kerax.Input((8,)), layers.Dense(16), layers.Dense(out)])


def test_layout_map_key_that_matches_nothing():
    model = mlp()
    params, _ = abstract(model)
    strategy = kd.ModelParallel(
        mesh_4x2(),
        layout_map={"dense/kernel": (None, "model"), "dense_9/kernel": (None, "model")},
    )
    with pytest.raises(ValueError, match=r"dense_9/kernel.*match no param"):
        strategy.param_shardings(model, params)


def test_layout_map_two_keys_match_one_param():
    model = mlp()
    params, _ = abstract(model)
    strategy = kd.ModelParallel(
        mesh_4x2(), layout_map={"dense.*": None, ".*kernel": (None, "model")}
    )
    with pytest.raises(ValueError, match=r"'dense/kernel' matches several keys"):
        strategy.param_shardings(model, params)


def test_layout_map_wrong_rank():
    model = mlp()
    params, _ = abstract(model)
    strategy = kd.ModelParallel(mesh_4x2(), layout_map={"dense/kernel": ("model",)})
    with pytest.raises(
        ValueError, match=r"param 'dense/kernel' has shape \(8, 16\).*one entry"
    ):
        strategy.param_shardings(model, params)


def test_logical_axis_without_rule():
    model = mlp()
    params, _ = abstract(model)
    strategy = kd.ModelParallel(mesh_4x2(), rules={"mlp": "model"})
    with pytest.raises(
        ValueError, match=r"param 'dense/kernel': logical axis 'embed'.*has no rule"
    ):
        strategy.param_shardings(model, params)


def test_rule_that_matches_nothing():
    model = mlp()
    params, _ = abstract(model)
    strategy = kd.ModelParallel(
        mesh_4x2(), rules={"embed": None, "mlp": "model", "heads": "model"}
    )
    with pytest.raises(ValueError, match=r"\['heads'\] match no param"):
        strategy.param_shardings(model, params)
    relaxed = kd.ModelParallel(
        mesh_4x2(),
        rules={"embed": None, "mlp": "model", "heads": "model"},
        allow_unused_rules=True,
    )
    relaxed.param_shardings(model, params)


def test_dimension_not_divisible_by_mesh_axis():
    model = mlp(out=3)
    params, _ = abstract(model)
    strategy = kd.ModelParallel(mesh_4x2(), rules={"embed": None, "mlp": "model"})
    with pytest.raises(
        ValueError,
        match=r"param 'dense_1/bias' has shape \(3,\): dimension 0 \(size 3\) is not divisible by mesh axis 'model' of size 2",
    ):
        strategy.param_shardings(model, params)


def test_unknown_or_reused_mesh_axis():
    model = mlp()
    params, _ = abstract(model)
    with pytest.raises(ValueError, match=r"names mesh axis 'tensor'"):
        kd.ModelParallel(mesh_4x2(), rules={"embed": None, "mlp": "tensor"})
    strategy = kd.ModelParallel(
        mesh_4x2(),
        layout_map={"dense/kernel": ("model", "model"), "dense_1/kernel": None},
    )
    with pytest.raises(
        ValueError,
        match=r"param 'dense/kernel'.*uses mesh axis 'model' for two dimensions",
    ):
        strategy.param_shardings(model, params)


def test_fsdp_param_with_no_divisible_dimension():
    model = kerax.Sequential([kerax.Input((33,)), layers.Dense(35)])
    params, _ = abstract(model)
    with pytest.raises(
        ValueError,
        match=r"FSDP: param 'dense/kernel' has shape \(33, 35\): no dimension is divisible by the data axis size 8",
    ):
        kd.FSDP(min_size=100).param_shardings(model, params)
    sh = kd.FSDP(min_size=100, on_indivisible="replicate").param_shardings(
        model, params
    )
    assert sh["dense"]["kernel"].spec == jax.sharding.PartitionSpec()


def test_batch_not_divisible_by_data_axis():
    strategy = kd.DataParallel()
    with pytest.raises(
        ValueError,
        match=r"batch leaf '1' has batch dimension 12 .* not divisible by the data axis size 8",
    ):
        strategy.shard_batch((np.zeros((16, 2)), np.zeros((12,))))
    with pytest.raises(ValueError, match=r"batch leaf 'x' has batch dimension 6"):
        strategy.batch_sharding({"x": jax.ShapeDtypeStruct((6, 2), np.float32)})
    with pytest.raises(ValueError, match="not divisible"):
        strategy.local_batch_size(12)
    padded, n = kd.pad_batch((np.ones((12, 2)), np.ones((12,))), 8)
    assert n == 12 and padded[0].shape == (16, 2) and padded[1][12:].sum() == 0


def test_mesh_and_strategy_arguments():
    with pytest.raises(
        ValueError, match=r"shape \(3, 2\) needs 6 devices, but 8 are given"
    ):
        kd.make_mesh((3, 2), ("data", "model"))
    with pytest.raises(ValueError, match="axis_names"):
        kd.make_mesh((4, 2), ("data",))
    with pytest.raises(ValueError, match=r"data_axis 'batch' is not an axis"):
        kd.ModelParallel(mesh_4x2(), rules={}, data_axis="batch")
    with pytest.raises(ValueError, match="needs rules"):
        kd.ModelParallel(mesh_4x2())


def test_initialize_configuration_errors():
    # Nothing configured: a single-process run.
    assert kd.initialize(environ={}) is False
    with pytest.raises(
        ValueError, match=r"num_processes, process_id not given .*KERAX_NUM_PROCESSES"
    ):
        kd.initialize(environ={"KERAX_COORDINATOR_ADDRESS": "127.0.0.1:1234"})
    with pytest.raises(
        ValueError, match=r"process_id 3 is not in \[0, num_processes=2\)"
    ):
        kd.initialize(
            environ={
                "KERAS_DISTRIBUTION_JOB_ADDRESSES": "127.0.0.1:1234,127.0.0.1:1235",
                "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
                "KERAS_DISTRIBUTION_PROCESS_ID": "3",
            }
        )
    with pytest.raises(ValueError, match="host:port"):
        kd.initialize("localhost", 2, 0)


def test_from_config():
    assert kd.from_config(None) is None and kd.from_config({"strategy": None}) is None
    dp = kd.from_config({"strategy": "data_parallel"})
    assert isinstance(dp, kd.DataParallel) and dp.data_size == 8
    fsdp = kd.from_config({"strategy": "fsdp", "min_size": 0})
    assert isinstance(fsdp, kd.FSDP) and fsdp.min_size == 0
    mp = kd.from_config(
        {
            "strategy": "model_parallel",
            "mesh_shape": [4, 2],
            "rules": {"embed": None, "mlp": "model"},
        }
    )
    assert dict(mp.mesh.shape) == {"data": 4, "model": 2}
    mp2 = kd.from_config(
        {
            "strategy": "model_parallel",
            "mesh_shape": [-1, 2],
            "axis_names": ["data", "model"],
            "layout_map": {"dense/kernel": [None, "model"]},
        }
    )
    assert mp2.layout_map["dense/kernel"] == (None, "model")
    with pytest.raises(ValueError, match="unknown keys"):
        kd.from_config({"strategy": "fsdp", "mesh": [8]})
    with pytest.raises(ValueError, match="unknown strategy"):
        kd.from_config({"strategy": "pipeline"})
    with pytest.raises(ValueError, match="model_parallel only"):
        kd.from_config({"strategy": "fsdp", "rules": {"mlp": "model"}})
