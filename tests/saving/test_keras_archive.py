"""`.keras` archives both ways, with Keras as the oracle, and the reader's defences."""

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import h5py
import jax
import numpy as np
import pytest

import kerax
from kerax import layers as L
from kerax.saving import ModelFileError

keras = pytest.importorskip("keras")


def _zoo():
    x = kerax.Input((4,), name="inp")
    shared = L.Dense(4, name="shared")
    h = shared(x)
    h2 = shared(L.Dense(4)(h))
    functional = kerax.Model(x, [L.Add()([h, h2]), L.Dense(1, activation="sigmoid")(h)])
    a, b = kerax.Input((3,), name="a"), kerax.Input((3,), name="b")
    return {
        "mlp": kerax.Sequential(
            [
                kerax.Input((6,)),
                L.Dense(4, activation="relu"),
                L.Dropout(0.1),
                L.BatchNormalization(),
                L.LayerNormalization(),
                L.Dense(2),
            ]
        ),
        "conv": kerax.Sequential(
            [
                kerax.Input((8, 8, 3)),
                L.Conv2D(4, 3, padding="same"),
                L.DepthwiseConv2D(3),
                L.SeparableConv2D(4, 3),
                L.MaxPooling2D(),
                L.GlobalAveragePooling2D(),
                L.Dense(2),
            ]
        ),
        "rnn": kerax.Sequential(
            [
                kerax.Input((5, 3)),
                L.LSTM(4, return_sequences=True),
                L.GRU(3, return_sequences=True),
                L.SimpleRNN(2),
                L.Dense(1),
            ]
        ),
        "embedding": kerax.Sequential(
            [
                kerax.Input((5,), dtype="int32"),
                L.Embedding(10, 4),
                L.Conv1D(3, 2),
                L.GlobalMaxPooling1D(),
                L.PReLU(),
                L.Dense(2),
            ]
        ),
        "wrappers": kerax.Sequential(
            [
                kerax.Input((5, 3)),
                L.TimeDistributed(L.Dense(2)),
                L.Bidirectional(L.LSTM(2)),
                L.Dense(1),
            ]
        ),
        "functional_shared": functional,
        "dict_io": kerax.Model(
            {"a": a, "b": b}, {"out": L.Dense(2)(L.Concatenate()([a, b]))}
        ),
        "nested": kerax.Sequential(
            [
                kerax.Input((3,)),
                kerax.Sequential([L.Dense(3), L.BatchNormalization()], name="inner"),
                L.Dense(1),
            ]
        ),
    }


def _random_weights(model, rng):
    params, state = model.init(jax.random.key(0))
    params = jax.tree.map(
        lambda a: a + rng.normal(size=a.shape).astype(a.dtype), params
    )
    state = jax.tree.map(
        lambda a: np.abs(a + rng.normal(size=a.shape)).astype(a.dtype), state
    )
    return params, state


def _inputs(model, rng):
    def one(spec):
        shape = (2, *spec.shape[1:])
        if np.issubdtype(spec.dtype, np.integer):
            return rng.integers(0, 10, size=shape).astype(spec.dtype)
        return rng.normal(size=shape).astype(spec.dtype)

    return jax.tree.map(one, model.input_spec)


def _max_diff(a, b):
    return max(
        float(np.abs(np.asarray(x) - np.asarray(y)).max())
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


@pytest.mark.parametrize("name", sorted(_zoo()))
def test_kerax_archive_loads_in_keras_and_kerax(name, tmp_path, rng):
    model = _zoo()[name]
    params, state = _random_weights(model, rng)
    x = _inputs(model, rng)
    y, _ = model.apply(params, state, x)
    path = kerax.save_model(tmp_path / "m.keras", model, params, state)

    assert sorted(zipfile.ZipFile(path).namelist()) == [
        "config.json",
        "metadata.json",
        "model.weights.h5",
    ]
    keras_model = keras.saving.load_model(path)
    assert _max_diff(y, keras_model(x)) < 1e-5
    model2, params2, state2 = kerax.load_model(path)
    assert _max_diff(y, model2.apply(params2, state2, x)[0]) == 0.0


_BLOCK_KERAS = textwrap.dedent(
    """
    import sys

    class _NoKeras:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("keras", "keras_hub", "keras_nlp", "tensorflow"):
                raise ImportError(f"test: importing {name} is forbidden here")
            return None

    sys.meta_path.insert(0, _NoKeras())
    """
)


def _keras_models():
    kl = keras.layers
    x = keras.Input((4,), name="inp")
    shared = kl.Dense(4, name="shared")
    h = shared(x)
    functional = keras.Model(x, [kl.Add()([h, shared(kl.Dense(4)(h))]), h])
    return {
        "mlp_bn": keras.Sequential(
            [
                keras.Input((6,)),
                kl.Dense(4, activation="relu"),
                kl.BatchNormalization(),
                kl.Dense(2),
            ]
        ),
        "conv": keras.Sequential(
            [
                keras.Input((8, 8, 3)),
                kl.Conv2D(4, 3),
                kl.MaxPooling2D(),
                kl.Flatten(),
                kl.Dense(2),
            ]
        ),
        "lstm": keras.Sequential([keras.Input((5, 3)), kl.LSTM(4), kl.Dense(1)]),
        "functional_shared": functional,
    }


def test_keras_archives_load_without_keras(tmp_path, rng):
    cases = {}
    for name, km in _keras_models().items():
        for v in km.weights:
            value = rng.normal(size=v.shape).astype("float32")
            v.assign(value if v.trainable else np.abs(value) + 0.1)
        x = rng.normal(size=(2, *km.inputs[0].shape[1:])).astype("float32")
        km.save(tmp_path / f"{name}.keras")
        np.save(tmp_path / f"{name}.x.npy", x)
        cases[name] = [np.asarray(t) for t in jax.tree.leaves(km(x))]
    script = _BLOCK_KERAS + textwrap.dedent(
        f"""
        import numpy as np, jax, kerax
        out = {{}}
        for name in {sorted(cases)!r}:
            path = {str(tmp_path)!r} + "/" + name + ".keras"
            x = np.load(path[:-6] + ".x.npy")
            model, params, state = kerax.load_model(path)
            y = jax.tree.leaves(model.apply(params, state, x)[0])
            m2, p2, s2 = kerax.interop.from_keras(path)
            y2 = jax.tree.leaves(m2.apply(p2, s2, x)[0])
            for i, (a, b) in enumerate(zip(y, y2)):
                out[f"{{name}}.{{i}}"] = np.asarray(a)
                assert np.array_equal(np.asarray(a), np.asarray(b)), name
        assert "keras" not in sys.modules
        np.savez({str(tmp_path / "out.npz")!r}, **out)
        """
    )
    env = dict(os.environ, KERAS_BACKEND="jax")
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = np.load(tmp_path / "out.npz")
    for name, ys in cases.items():
        for i, want in enumerate(ys):
            np.testing.assert_allclose(got[f"{name}.{i}"], want, atol=1e-5)


def test_weights_h5_both_ways(tmp_path, rng):
    model = _zoo()["mlp"]
    params, state = _random_weights(model, rng)
    path = kerax.save_weights(tmp_path / "m.weights.h5", model, params, state)
    km = keras.saving.load_model(
        kerax.save_model(tmp_path / "m.keras", model, *model.init(jax.random.key(3)))
    )
    km.load_weights(path)
    x = _inputs(model, rng)
    assert _max_diff(model.apply(params, state, x)[0], km(x)) < 1e-5
    km.save_weights(tmp_path / "k.weights.h5")
    p2, s2 = kerax.load_weights(tmp_path / "k.weights.h5", model)
    assert _max_diff((params, state), (p2, s2)) < 1e-6
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        kerax.save_weights(tmp_path / "m.h5", model, params, state)


# ------------------------------------------------------------------ defences
def _saved(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), L.Dense(2)])
    return kerax.save_model(tmp_path / "m.keras", model, *model.init(jax.random.key(0)))


def _rewrite(path, **members):
    z = zipfile.ZipFile(path)
    contents = {n: z.read(n) for n in z.namelist()}
    z.close()
    contents.update(members)
    with zipfile.ZipFile(path, "w") as out:
        for n, data in contents.items():
            out.writestr(n, data)


def test_module_outside_keras_is_refused_before_import(tmp_path):
    pkg = tmp_path / "pkgs" / "keras_hub"
    pkg.mkdir(parents=True)
    marker = tmp_path / "imported"
    (pkg / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    path = _saved(tmp_path)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    config["config"]["layers"][1]["module"] = "keras_hub.layers"
    _rewrite(path, **{"config.json": json.dumps(config)})
    sys.path.insert(0, str(tmp_path / "pkgs"))
    try:
        with pytest.raises(ModelFileError, match="keras_hub.layers"):
            kerax.load_model(path)
        with pytest.raises(ModelFileError, match="keras_hub.layers"):
            kerax.interop.from_keras(path)
    finally:
        sys.path.remove(str(tmp_path / "pkgs"))
    assert not marker.exists()


@pytest.mark.parametrize("member", ["../evil.txt", "/abs.txt", "assets/../../x"])
def test_zip_member_paths_are_refused(tmp_path, member):
    path = _saved(tmp_path)
    _rewrite(path, **{member: b"x"})
    with pytest.raises(ModelFileError, match="refusing archive member"):
        kerax.load_model(path)


def test_zip_symlink_member_is_refused(tmp_path):
    path = _saved(tmp_path)
    with zipfile.ZipFile(path, "a") as z:
        info = zipfile.ZipInfo("assets/link")
        info.external_attr = 0o120777 << 16
        z.writestr(info, "/etc/passwd")
    with pytest.raises(ModelFileError, match="a link"):
        kerax.load_model(path)


def _edit_h5(path, edit):
    data = zipfile.ZipFile(path).read("model.weights.h5")
    buf = io.BytesIO(data)
    with h5py.File(buf, "a") as h5:
        edit(h5)
    _rewrite(path, **{"model.weights.h5": buf.getvalue()})


def test_h5_external_link_is_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as h5:
        h5["k"] = np.zeros((3, 2), "float32")
    path = _saved(tmp_path)

    def edit(h5):
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars/0"] = h5py.ExternalLink(str(other), "k")

    _edit_h5(path, edit)
    with pytest.raises(ModelFileError, match="ExternalLink"):
        kerax.load_model(path)


def test_h5_external_storage_and_virtual_datasets_are_refused(tmp_path):
    raw = tmp_path / "raw.bin"
    np.zeros((3, 2), "float32").tofile(raw)
    path = _saved(tmp_path)

    def external(h5):
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars"].create_dataset(
            "0", shape=(3, 2), dtype="float32", external=[(str(raw), 0, 24)]
        )

    _edit_h5(path, external)
    with pytest.raises(ModelFileError, match="external storage"):
        kerax.load_model(path)

    path = _saved(tmp_path)

    def virtual(h5):
        src = h5["layers/dense/vars/0"]
        layout = h5py.VirtualLayout(shape=(3, 2), dtype="float32")
        layout[:] = h5py.VirtualSource(src)
        del h5["layers/dense/vars/1"]
        h5["layers/dense/vars"].create_virtual_dataset("1", layout)

    _edit_h5(path, virtual)
    with pytest.raises(ModelFileError):
        kerax.load_model(path)


def test_h5_shape_bomb_is_refused_before_reading(tmp_path):
    path = _saved(tmp_path)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    config["config"]["layers"][1]["config"]["units"] = 2**31

    def edit(h5):
        del h5["layers/dense/vars/0"], h5["layers/dense/vars/1"]
        g = h5["layers/dense/vars"]
        g.create_dataset("0", shape=(3, 2**31), dtype="float32")  # No data stored.
        g.create_dataset("1", shape=(2**31,), dtype="float32")

    _edit_h5(path, edit)
    _rewrite(path, **{"config.json": json.dumps(config)})
    assert os.path.getsize(path) < 64 << 10
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        kerax.load_model(path)


@pytest.mark.parametrize(
    "text, match",
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b"[" * 100000 + b"]" * 100000, "nested"),
        (json.dumps({"class_name": "Sequential"}).encode(), "'config'"),
        (
            json.dumps({"class_name": "Sequential", "config": {"layers": 3}}).encode(),
            "architecture",
        ),
    ],
)
def test_malformed_config_is_one_clear_error(tmp_path, text, match):
    path = _saved(tmp_path)
    _rewrite(path, **{"config.json": text})
    with pytest.raises(ModelFileError, match=match):
        kerax.load_model(path)


def test_not_an_archive_and_truncated_archive(tmp_path):
    bad = tmp_path / "x.keras"
    bad.write_bytes(b"hello")
    with pytest.raises(ModelFileError, match="corrupted"):
        kerax.load_model(bad)
    path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupted"):
        kerax.load_model(path)


def test_custom_objects_name_a_user_layer(tmp_path):
    class Halve(kerax.Layer):
        def call(self, params, state, x, *, key, training):
            del key, training
            return x / 2, state

    model = kerax.Sequential([kerax.Input((3,)), Halve(), L.Dense(2)])
    params, state = model.init(jax.random.key(0))
    path = kerax.save_model(tmp_path / "h.keras", model, params, state)
    with pytest.raises(ModelFileError, match="Halve"):
        kerax.load_model(path)
    model2, params2, _ = kerax.load_model(path, custom_objects={"Halve": Halve})
    x = np.ones((1, 3), "float32")
    assert (
        _max_diff(model.apply(params, state, x)[0], model2.apply(params2, {}, x)[0])
        == 0
    )


def _application(fn, shape, rng):
    keras.utils.set_random_seed(0)
    km = fn(weights=None, input_shape=shape, classes=10, classifier_activation=None)
    for v in km.weights:  # Non-trivial weights and BatchNorm statistics.
        name = v.path.split("/")[-1]
        if name in ("moving_variance", "gamma"):
            v.assign(rng.uniform(0.5, 1.5, tuple(v.shape)).astype("float32"))
        elif name in ("moving_mean", "beta"):
            v.assign(rng.normal(0, 0.1, tuple(v.shape)).astype("float32"))
    return km


@pytest.mark.slow
@pytest.mark.parametrize("app", ["MobileNetV2"])
def test_keras_applications_both_ways(tmp_path, rng, app, keras_numpy_init):
    with keras_numpy_init():
        km = _application(getattr(keras.applications, app), (32, 32, 3), rng)
    x = rng.uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
    want = np.asarray(km.predict_on_batch(x))  # One compiled program, not op by op.
    km.save(tmp_path / "k.keras")
    model, params, state = kerax.load_model(tmp_path / "k.keras")
    y = np.asarray(model.apply(params, state, x)[0])
    scale = max(1.0, float(np.abs(want).max()))
    assert np.abs(y - want).max() / scale < 1e-4
    path = kerax.save_model(tmp_path / "x.keras", model, params, state)
    with keras_numpy_init():  # Keras builds the model before loading the weights.
        back = keras.saving.load_model(path)
    assert np.abs(np.asarray(back.predict_on_batch(x)) - y).max() / scale < 1e-4
