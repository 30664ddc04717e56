"""`kerax.export.ExportArchive`: Keras's multi-endpoint SavedModel archive."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import kerax
from kerax import layers
from kerax.export import ExportArchive, ExportError

pytestmark = [pytest.mark.slow, pytest.mark.export]
tf = pytest.importorskip("tensorflow", reason="needs the export extra")
keras = pytest.importorskip("keras")


def mlp():
    return kerax.Sequential(
        [
            kerax.Input((3,)),
            layers.Dense(4, activation="relu", name="d1"),
            layers.Dense(2, name="d2"),
        ]
    )


@pytest.fixture(scope="module")
def trained():
    model = mlp()
    params, state = model.init(jax.random.key(0))
    return model, params, state


def keras_twin(params):
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="relu", name="d1"),
            keras.layers.Dense(2, name="d2"),
        ]
    )
    for name in ("d1", "d2"):
        model.get_layer(name).set_weights(
            [np.asarray(params[name]["kernel"]), np.asarray(params[name]["bias"])]
        )
    return model


def test_two_endpoints_match_apply_and_keras_archive(tmp_path, trained, capsys):
    model, params, state = trained
    sig = [keras.InputSpec(shape=(None, 3), dtype="float32")]
    archive = ExportArchive()
    archive.track(model, params, state)
    archive.add_endpoint("serve", model, input_signature=sig)
    archive.add_endpoint(
        "scores",
        lambda x: jax.nn.softmax(model.apply(params, state, x)[0]),
        input_signature=sig,
    )
    archive.write_out(tmp_path / "kerax")
    assert "Endpoint 'serve'" in capsys.readouterr().out

    kmodel = keras_twin(params)
    karchive = keras.export.ExportArchive()
    karchive.track(kmodel)
    karchive.add_endpoint("serve", kmodel.call, input_signature=sig)
    karchive.add_endpoint(
        "scores",
        lambda x: keras.ops.softmax(kmodel.call(x, training=False)),
        input_signature=sig,
    )
    karchive.write_out(str(tmp_path / "keras"), verbose=False)

    ours = tf.saved_model.load(str(tmp_path / "kerax"))
    theirs = tf.saved_model.load(str(tmp_path / "keras"))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    want = np.asarray(model.apply(params, state, x)[0])
    for name in ("serve", "scores"):
        got = getattr(ours, name)(tf.constant(x)).numpy()
        keras_got = getattr(theirs, name)(tf.constant(x)).numpy()
        np.testing.assert_allclose(got, keras_got, atol=1e-5)
    np.testing.assert_allclose(ours.serve(tf.constant(x)).numpy(), want, atol=1e-6)
    # Symbolic batch: another batch size runs; the first endpoint is the default.
    assert ours.serve(tf.constant(x[:2])).shape == (2, 2)
    assert set(ours.signatures) == {"serve", "scores", "serving_default"}
    assert len(ours.variables) == len(theirs.variables) == 4
    assert len(ours.trainable_variables) == 4


def test_dict_inputs_and_several_positional_arguments(tmp_path):
    a, b = kerax.Input((3,), name="a"), kerax.Input((2,), name="b")
    h = layers.Dense(4, activation="tanh")(a)
    model = kerax.Model(
        {"a": a, "b": b}, {"y": layers.Dense(2)(h), "z": layers.Dense(1)(b)}
    )
    params, state = model.init(jax.random.key(1))
    archive = ExportArchive()
    archive.track(model, params, state)
    specs = {"a": kerax.spec((None, 3)), "b": tf.TensorSpec((None, 2), tf.float32)}
    archive.add_endpoint("serve", model.apply, input_signature=[specs])
    archive.add_endpoint(
        "two_args",
        lambda xa, xb: model.apply(params, state, {"a": xa, "b": xb})[0]["y"],
        input_signature=[kerax.spec((None, 3)), kerax.spec((None, 2))],
    )
    archive.write_out(tmp_path / "m", verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "m"))
    rng = np.random.default_rng(1)
    x = {
        "a": rng.standard_normal((4, 3)).astype("float32"),
        "b": rng.standard_normal((4, 2)).astype("float32"),
    }
    want = model.apply(params, state, x)[0]
    got = reloaded.serve({k: tf.constant(v) for k, v in x.items()})
    for k in ("y", "z"):
        np.testing.assert_allclose(got[k].numpy(), want[k], atol=1e-6)
    got2 = reloaded.two_args(tf.constant(x["a"]), tf.constant(x["b"]))
    np.testing.assert_allclose(got2.numpy(), want["y"], atol=1e-6)


def test_train_state_and_variable_collection(tmp_path):
    model = mlp()
    trainer = kerax.Trainer(model, optimizer=optax.adam(1e-3), loss="mse")
    ts = trainer.init(jax.random.key(2))
    archive = ExportArchive()
    archive.track(model, ts)
    archive.add_endpoint("serve", model)  # the model's kerax.Input spec
    archive.add_variable_collection("optimizer_variables", ts.opt_state)
    archive.write_out(tmp_path / "m", verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "m"))
    leaves = jax.tree.leaves(ts.opt_state)
    assert len(reloaded.optimizer_variables) == len(leaves)
    for v, w in zip(reloaded.optimizer_variables, leaves):
        np.testing.assert_array_equal(v.numpy(), np.asarray(w))
    x = jnp.ones((2, 3))
    np.testing.assert_allclose(
        reloaded.serve(tf.constant(np.asarray(x))).numpy(),
        model.apply(ts.params, ts.state, x)[0],
        atol=1e-6,
    )


def test_errors_name_the_endpoint_and_argument(tmp_path, trained):
    model, params, state = trained
    archive = ExportArchive()
    with pytest.raises(ValueError, match="not tracked; call archive.track"):
        archive.add_endpoint("serve", model, [kerax.spec((None, 3))])
    with pytest.raises(ValueError, match="weights are explicit"):
        archive.track(model)
    with pytest.raises(ValueError, match="no endpoints"):
        archive.write_out(tmp_path / "empty")
    archive.track(model, params, state)
    archive.add_endpoint("serve", model, [kerax.spec((None, 3))])
    with pytest.raises(ValueError, match="'serve' is already taken"):
        archive.add_endpoint("serve", model, [kerax.spec((None, 3))])
    with pytest.raises(ValueError, match=r"'f'\): input_signature\[1\] is 'x'"):
        archive.add_endpoint("f", lambda a, b: a, [kerax.spec((None, 3)), "x"])
    with pytest.raises(ValueError, match=r"'g'\): input_signature must be a"):
        archive.add_endpoint("g", model, kerax.spec((None, 3)))
    with pytest.raises(ValueError, match=r"'h'\): pass input_signature"):
        archive.add_endpoint("h", lambda x: x)
    with pytest.raises(ValueError, match=r"'k'\): fn does not run on input_signature"):
        archive.add_endpoint("k", model, [kerax.spec((None, 5))])
    with pytest.raises(ValueError, match=r"input_signature\[0\] is InputSpec"):
        archive.add_endpoint("m", model, [keras.InputSpec(ndim=2)])
    assert not (tmp_path / "empty").exists()


def test_failed_write_out_leaves_nothing(tmp_path, trained):
    model, params, state = trained
    archive = ExportArchive()
    archive.track(model, params, state)
    archive.add_endpoint("serve", model, [kerax.spec((None, 3))])
    with pytest.raises(ExportError, match="endpoint 'serve'"):
        archive.write_out(tmp_path / "m", verbose=False, tolerance=-1.0)
    assert list(tmp_path.iterdir()) == []
    # A failed write over an existing SavedModel leaves the old one whole.
    archive.write_out(tmp_path / "m", verbose=False)
    before = sorted(p.name for p in (tmp_path / "m").rglob("*"))
    with pytest.raises(ExportError):
        archive.write_out(tmp_path / "m", verbose=False, tolerance=-1.0)
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    assert sorted(p.name for p in (tmp_path / "m").rglob("*")) == before
    reloaded = tf.saved_model.load(str(tmp_path / "m"))  # kept: owns the variables
    np.testing.assert_allclose(
        reloaded.serve(tf.ones((2, 3))).numpy(),
        model.apply(params, state, np.ones((2, 3), "float32"))[0],
        atol=1e-6,
    )
