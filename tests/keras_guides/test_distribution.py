"""The port of the keras-io guide "Distributed training with Keras" runs on 8
devices (tests/conftest.py), places params as its distributions say, and
trains sharded to the single-device params (see distribution.py); and each
name of `kerax.distribution` behaves as `keras.distribution`'s does."""

import jax
import keras
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

import kerax
import kerax.distribution as kdist
from tests.keras_guides.test_guides import run_port

if keras.backend.backend() != "jax":  # pragma: no cover - CI sets KERAS_BACKEND.
    pytest.skip("the Keras comparison needs KERAS_BACKEND=jax", allow_module_level=True)


@pytest.fixture(autouse=True)
def no_global_distribution(monkeypatch):
    """The guide sets a global distribution: it must not leak into other tests."""
    monkeypatch.setitem(kdist._GLOBAL, "distribution", None)
    yield


def test_distribution_guide(tmp_path, monkeypatch, capsys):
    scope = run_port("distribution", tmp_path, monkeypatch)
    out = capsys.readouterr().out
    assert "Keras distribution initialized." in out
    assert scope["devices"] == keras.distribution.list_devices()
    assert scope["mesh"].backend_mesh.shape == {"data": 2, "model": 4}
    assert scope["layout_2d"].backend_layout.spec == P("model", "data")

    # Under the global DataParallel, the Trainer's params are replicated.
    assert scope["trainer"].distribution is scope["data_parallel"]
    for leaf in jax.tree.leaves(scope["ts"].params):
        assert leaf.sharding.is_fully_replicated and len(leaf.sharding.device_set) == 8

    # Under ModelParallel, "d1/*" is split over the "model" axis (4 ways),
    # "d2/*" (matched only by the "d2/output" key) replicated.
    params = scope["params"]
    assert params["d1"]["kernel"].sharding.spec == P(None, "model")
    assert params["d1"]["bias"].sharding.spec == P("model")
    assert {s.data.shape for s in params["d1"]["kernel"].addressable_shards} == {
        (784, 50)
    }
    for leaf in jax.tree.leaves(params["d2"]):
        assert leaf.sharding.is_fully_replicated

    # Training under the global ModelParallel gives the single-device params.
    model = scope["model"]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 784)).astype("float32")
    y = rng.integers(0, 10, size=(32,))
    results = []
    for dist in (scope["model_parallel"], None):
        kerax.distribution.set_distribution(dist)
        trainer = kerax.Trainer(model, "adam", "sparse_categorical_crossentropy")
        assert trainer.distribution is dist
        ts, _ = trainer.fit(
            trainer.init(jax.random.key(0)), x, y, batch_size=16, epochs=1, verbose=0
        )
        results.append(ts.params)
    sharded, single = results
    assert sharded["d1"]["kernel"].sharding.spec == P(None, "model")
    assert len(single["d1"]["kernel"].sharding.device_set) == 1
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5),
        sharded,
        single,
    )


# ------------------------------------------------- the names, against Keras


def test_list_devices_and_count_match_keras():
    assert kdist.list_devices() == keras.distribution.list_devices()
    assert kdist.list_devices("cpu") == keras.distribution.list_devices("cpu")
    assert kdist.get_device_count() == keras.distribution.get_device_count() == 8


def test_initialize_single_process_is_a_no_op(monkeypatch):
    for name in ("JOB_ADDRESSES", "NUM_PROCESSES", "PROCESS_ID"):
        monkeypatch.delenv(f"KERAS_DISTRIBUTION_{name}", raising=False)
    kdist.initialize()
    assert jax.process_count() == 1


def test_device_mesh_matches_keras():
    ours = kdist.DeviceMesh((2, 4), ["data", "model"])
    theirs = keras.distribution.DeviceMesh((2, 4), ["data", "model"])
    assert ours.shape == theirs.shape == (2, 4)
    assert ours.axis_names == theirs.axis_names == ["data", "model"]
    np.testing.assert_array_equal(ours.devices, theirs.devices)
    assert repr(ours) == repr(theirs)
    ours_mesh, theirs_mesh = ours.backend_mesh, theirs.backend_mesh
    assert ours_mesh.shape == theirs_mesh.shape
    np.testing.assert_array_equal(ours_mesh.device_ids, theirs_mesh.device_ids)
    for make in (kdist.DeviceMesh, keras.distribution.DeviceMesh):
        with pytest.raises(ValueError, match="same size"):
            make((2, 4), ["data"])
        with pytest.raises(ValueError, match="number of devices"):
            make((2, 2), ["data", "model"])
        with pytest.raises(ValueError, match="cannot be empty"):
            make((), [])


def test_tensor_layout_matches_keras():
    ours_mesh = kdist.DeviceMesh((2, 4), ["data", "model"])
    theirs_mesh = keras.distribution.DeviceMesh((2, 4), ["data", "model"])
    ours = kdist.TensorLayout((None, "model"), ours_mesh)
    theirs = keras.distribution.TensorLayout((None, "model"), theirs_mesh)
    assert ours.axes == theirs.axes == (None, "model")
    assert ours.backend_layout.spec == theirs.backend_layout.spec
    assert ours.backend_layout.mesh.shape == theirs.backend_layout.mesh.shape
    for layout, mesh in (
        (kdist.TensorLayout, ours_mesh),
        (keras.distribution.TensorLayout, theirs_mesh),
    ):
        with pytest.raises(ValueError, match="Invalid axis names"):
            layout(("batch",), mesh)
        late = layout(("model",))
        late.device_mesh = mesh
        with pytest.raises(ValueError, match="Cannot override"):
            late.device_mesh = mesh


def _both_layout_maps():
    maps = []
    for lib in (kdist, keras.distribution):
        mesh = lib.DeviceMesh((2, 4), ["data", "model"])
        layout_map = lib.LayoutMap(mesh)
        layout_map[".*dense.*kernel"] = (None, "model")
        layout_map[".*dense.*bias"] = ("model",)
        layout_map["d1/kernel"] = ("data", "model")
        layout_map["conv.*"] = (None, None, None, "model")
        maps.append(layout_map)
    return maps


def test_layout_map_matches_keras():
    ours, theirs = _both_layout_maps()
    paths = [
        "dense_1/kernel",  # regex fullmatch
        "my_model/dense_2/bias",
        "dense_1/kernel/extra",  # fullmatch, not search: nothing
        "d1/kernel",  # an exact key
        "conv2d/kernel",
        "xconv2d/kernel",  # fullmatch from the start: nothing
        "d2/bias",
    ]
    for path in paths:
        a, b = ours[path], theirs[path]
        assert (a is None) == (b is None), path
        if a is not None:
            assert a.axes == b.axes, path
            assert a.device_mesh is ours.device_mesh
    assert list(ours) == list(theirs) and len(ours) == len(theirs) == 4
    # Two keys fully matching one path: the same error in both.
    for layout_map in (ours, theirs):
        layout_map["my_dense.*"] = (None, None)
        with pytest.raises(ValueError, match="matches multiple layout"):
            layout_map["my_dense/kernel"]
        with pytest.raises(ValueError, match="already exist"):
            layout_map["my_dense.*"] = (None, None)
        with pytest.raises(ValueError, match="should be a TensorLayout"):
            layout_map["other"] = [None, "model"]
        del layout_map["my_dense.*"]
        assert "my_dense.*" not in list(layout_map)


def test_data_parallel_matches_keras():
    cases = [
        {},
        {"devices": keras.distribution.list_devices()[:4]},
    ]
    for kwargs in cases:
        ours = kdist.DataParallel(**kwargs)
        theirs = keras.distribution.DataParallel(**kwargs)
        assert ours.batch_dim_name == theirs.batch_dim_name == "batch"
        assert ours.num_model_replicas == theirs.num_model_replicas
        assert ours.device_mesh.shape == theirs.device_mesh.shape
        assert (
            ours.get_data_layout((16, 3)).axes == theirs.get_data_layout((16, 3)).axes
        )
        assert ours.data_size == theirs.num_model_replicas  # The kerax strategy.
    # A 1-D mesh of the user's: its axis is the batch axis.
    ours = kdist.DataParallel(device_mesh=kdist.DeviceMesh((8,), ["data"]))
    theirs = keras.distribution.DataParallel(
        device_mesh=keras.distribution.DeviceMesh((8,), ["data"])
    )
    assert ours.batch_dim_name == theirs.batch_dim_name == "data"
    assert ours.num_model_replicas == theirs.num_model_replicas == 8
    assert ours.data_axis == "data" and ours.data_size == 8
    assert repr(ours) == repr(theirs)
    with pytest.raises(ValueError, match="DeviceMesh"):
        kdist.DataParallel(device_mesh="mesh")


def test_model_parallel_matches_keras():
    ours_map, theirs_map = _both_layout_maps()
    ours = kdist.ModelParallel(layout_map=ours_map)
    theirs = keras.distribution.ModelParallel(layout_map=theirs_map)
    assert ours.batch_dim_name == theirs.batch_dim_name == "data"
    assert ours.num_model_replicas == theirs.num_model_replicas == 2
    assert ours.get_data_layout((16, 3)).axes == theirs.get_data_layout((16, 3)).axes
    # Variable layouts, read from Keras's own variables.
    layer = keras.layers.Dense(8, name="my_dense_1")
    layer.build((None, 4))
    for variable in layer.weights:
        assert (
            ours.get_variable_layout(variable).axes
            == theirs.get_variable_layout(variable).axes
        )
    with pytest.raises(ValueError, match="layout_map"):
        kdist.ModelParallel()
    with pytest.raises(ValueError, match="LayoutMap"):
        kdist.ModelParallel(layout_map={"d1/kernel": (None, "model")})
    by_model = kdist.ModelParallel(layout_map=ours_map, batch_dim_name="model")
    assert by_model.num_model_replicas == 4 and by_model.data_size == 4


def test_model_parallel_places_params_by_its_layout_map():
    mesh = kdist.DeviceMesh((2, 4), ["data", "model"])
    layout_map = kdist.LayoutMap(mesh)
    layout_map["d1/kernel"] = (None, "model")
    strategy = kdist.ModelParallel(layout_map=layout_map)
    layout_map["d1/bias"] = ("model",)  # Read when the params are placed.
    layout_map["unused/.*"] = ("model",)  # Keras: a key may match nothing.
    model = kerax.Sequential(
        [kerax.Input((6,)), kerax.layers.Dense(8, name="d1"), kerax.layers.Dense(3)]
    )
    params, _ = strategy.init(model, jax.random.key(0))
    assert params["d1"]["kernel"].sharding.spec == P(None, "model")
    assert params["d1"]["bias"].sharding.spec == P("model")
    assert params["dense"]["kernel"].sharding.is_fully_replicated
    layout_map["dense/bias"] = (None, "model")  # Rank 2 for a rank-1 param.
    with pytest.raises(ValueError, match="'dense/bias' has shape"):
        strategy.init(model, jax.random.key(0))


def test_distribute_tensor_matches_keras():
    ours = kdist.TensorLayout(
        ("data", None), kdist.DeviceMesh((2, 4), ["data", "model"])
    )
    theirs = keras.distribution.TensorLayout(
        ("data", None), keras.distribution.DeviceMesh((2, 4), ["data", "model"])
    )
    x = np.arange(24.0, dtype="float32").reshape(8, 3)
    a = kdist.distribute_tensor(x, ours)
    b = keras.distribution.distribute_tensor(x, theirs)
    assert a.sharding.spec == b.sharding.spec == P("data", None)
    np.testing.assert_array_equal(a, b)
    inside = jax.jit(lambda t: kdist.distribute_tensor(t * 2, ours))(x)
    assert inside.sharding.is_equivalent_to(a.sharding, 2)
    np.testing.assert_array_equal(inside, 2 * x)


def test_global_distribution_and_scope():
    assert kdist.distribution() is None and keras.distribution.distribution() is None
    strategy = kdist.DataParallel()
    with strategy.scope():
        assert kdist.distribution() is strategy
        model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
        assert kerax.Trainer(model, "sgd", "mse").distribution is strategy
        other = kdist.DataParallel(devices=kdist.list_devices()[:2])
        assert (
            kerax.Trainer(model, "sgd", "mse", distribution=other).distribution is other
        )
    assert kdist.distribution() is None
    kdist.set_distribution(strategy)
    assert kdist.distribution() is strategy


def test_every_keras_distribution_name_exists():
    names = [n for n in dir(keras.distribution) if not n.startswith("_")]
    assert [n for n in names if not hasattr(kdist, n)] == []
    assert set(names) <= set(kdist.__all__)
