"""Keras namespaces kerax mirrors: tree, config, backend, preprocessing,
dtype_policies, mixed_precision, top-level aliases; RemoteMonitor."""

import collections
import json
import threading
import warnings
from http.server import BaseHTTPRequestHandler, HTTPServer

import jax
import keras
import numpy as np
import pytest

import kerax

Foo = collections.namedtuple("Foo", ["a", "b"])
AlsoFoo = collections.namedtuple("Foo", ["a", "b"])

STRUCTURES = [
    1,
    None,
    [],
    (),
    {},
    [1, None, 2],
    {"b": 2, "a": [1, None], "c": {"z": 3, "y": (4, 5)}},
    collections.OrderedDict([("b", 1), ("a", 2)]),
    collections.defaultdict(list, {"y": 1, "x": [2, 3]}),
    Foo(a=[1, 2], b={"k": None}),
    ((1, 2), [3], {"a": 4}),
    [np.ones(2), {"w": np.zeros(1)}],
    {100: "world!", 6: "Hello"},
]


def _same(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


@pytest.mark.parametrize("s", STRUCTURES, ids=range(len(STRUCTURES)))
def test_tree_matches_keras(s):
    kt, xt = keras.tree, kerax.tree
    assert xt.is_nested(s) == kt.is_nested(s)
    _same(xt.flatten(s), kt.flatten(s))
    kp = kt.flatten_with_path(s)
    xp = xt.flatten_with_path(s)
    assert [p for p, _ in xp] == [p for p, _ in kp]
    leaves = [f"v{i}" for i in range(len(kt.flatten(s)))]
    _same(xt.pack_sequence_as(s, leaves), kt.pack_sequence_as(s, leaves))
    f = lambda x: ("mapped", None if isinstance(x, np.ndarray) else x)  # noqa: E731
    _same(xt.map_structure(f, s), kt.map_structure(f, s))
    _same(
        xt.map_structure(f, s, none_is_leaf=False),
        kt.map_structure(f, s, none_is_leaf=False),
    )
    g = lambda x, y: (x is None, y is None)  # noqa: E731
    _same(xt.map_structure(g, s, s), kt.map_structure(g, s, s))
    _same(xt.lists_to_tuples(s), kt.lists_to_tuples(s))
    xt.assert_same_structure(s, s)
    xt.assert_same_paths(s, s)
    for top_down in (True, False):
        kv, xv = [], []
        kt.traverse(lambda x, kv=kv: kv.append(repr(x)), s, top_down=top_down)
        xt.traverse(lambda x, xv=xv: xv.append(repr(x)), s, top_down=top_down)
        assert xv == kv


MISMATCHES = [
    ([0, 1], (2, 3)),
    (Foo(0, 1), AlsoFoo(2, 3)),
    ({"a": 1}, {"b": 1}),
    ([1, 2], [1, 2, 3]),
    ([1, [2]], [1, 2]),
    ([1, None], [1, [2]]),
]


@pytest.mark.parametrize("a,b", MISMATCHES, ids=range(len(MISMATCHES)))
def test_tree_mismatch_errors_match_keras(a, b):
    for t in (keras.tree, kerax.tree):
        for fn in (
            lambda t=t: t.assert_same_structure(a, b),
            lambda t=t: t.map_structure(lambda *x: x, a, b),
        ):
            with pytest.raises(ValueError):
                fn()


def test_tree_dict_kinds_and_paths_match_keras():
    a = {"x": 1, "y": 2}
    b = collections.OrderedDict([("y", 3), ("x", 4)])
    keras.tree.assert_same_structure(a, b)
    kerax.tree.assert_same_structure(a, b)
    for t in (keras.tree, kerax.tree):
        t.assert_same_paths([0, 1], (2, 3))
        with pytest.raises(ValueError, match="same paths"):
            t.assert_same_paths([0, 1], [0, 1, 2])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        kerax.tree.assert_same_structure(a, a, check_types=True)
    assert any(issubclass(x.category, DeprecationWarning) for x in w)


def test_tree_up_to_shapes_traverse_match_keras():
    s = [[1, 1], [2, 2]]
    # Keras 3.15.1 rejects None leaves in `shallow` (its own docstring example
    # fails); kerax takes them as leaves, as the docstring says.
    for shallow in ([0, 0], [0, [0, 0]]):
        assert kerax.tree.map_structure_up_to(
            shallow, str, s
        ) == keras.tree.map_structure_up_to(shallow, str, s)
    shapes = {"x": (None, 3), "y": [(2, 2), [1, None]], "z": 4}
    assert kerax.tree.map_shape_structure(
        repr, shapes
    ) == keras.tree.map_shape_structure(repr, shapes)
    s = [(1, 2), [3], {"a": 4}]

    def cut(x):  # Replace tuples by None, stop below them.
        return keras.tree.MAP_TO_NONE if isinstance(x, tuple) else None

    def cut_x(x):
        return kerax.tree.MAP_TO_NONE if isinstance(x, tuple) else None

    assert kerax.tree.traverse(cut_x, s) == keras.tree.traverse(cut, s)
    for bad in ([1], [1, 2, 3]):
        with pytest.raises(ValueError):
            keras.tree.pack_sequence_as([0, 0], bad)
        with pytest.raises(ValueError, match="leaves"):
            kerax.tree.pack_sequence_as([0, 0], bad)


def test_tree_register_tree_node_class_and_jax_nodes():
    @kerax.tree.register_tree_node_class
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

        def tree_flatten(self):
            return (self.a, self.b), None

        @classmethod
        def tree_unflatten(cls, aux, children):
            return cls(*children)

    p = kerax.tree.map_structure(lambda x: x + 1, Pair(1, [2]))
    assert isinstance(p, Pair) and (p.a, p.b) == (2, [3])
    assert kerax.tree.flatten(Pair(None, 5)) == [None, 5]


DTYPES = ["bool", "uint8", "int8", "int16", "uint32", "int32", "int64"]
DTYPES += ["bfloat16", "float16", "float32", "float64", "complex64", int, float, None]


def test_backend_result_type_matches_keras():
    for a in DTYPES:
        for b in DTYPES:
            try:
                want = keras.backend.result_type(a, b)
            except ValueError:
                with pytest.raises(ValueError):
                    kerax.backend.result_type(a, b)
                continue
            assert kerax.backend.result_type(a, b) == want, (a, b)
    assert kerax.backend.result_type() == keras.backend.result_type()
    assert kerax.backend.result_type(int) == keras.backend.result_type(int)
    assert kerax.backend.result_type("int8", "uint8", float) == (
        keras.backend.result_type("int8", "uint8", float)
    )
    with pytest.raises(ValueError, match="float8"):
        kerax.backend.result_type("float8_e4m3fn", "float32")


def test_backend_get_uid_like_keras():
    keras.backend.clear_session()
    kerax.backend.clear_session()
    for prefix in ("dense", "dense", "conv", "dense"):
        assert kerax.backend.get_uid(prefix) == keras.backend.get_uid(prefix)
    kerax.backend.clear_session()
    assert kerax.backend.get_uid("dense") == 1


def test_config_names():
    c = kerax.config
    assert c.epsilon() == keras.config.epsilon() == kerax.backend.epsilon()
    with pytest.warns(UserWarning, match="keep Keras's default"):
        c.set_epsilon(1e-5)
    try:
        assert c.epsilon() == 1e-5
    finally:
        c.set_epsilon(1e-7)
    assert c.is_nnx_enabled() is False
    c.set_backend("jax")
    with pytest.raises(ValueError, match="JAX only"):
        c.set_backend("torch")
    assert c.is_flash_attention_enabled() is keras.config.is_flash_attention_enabled()
    c.enable_flash_attention()
    assert c.is_flash_attention_enabled() is True
    c.disable_flash_attention()
    assert c.is_flash_attention_enabled() is False
    assert c.is_traceback_filtering_enabled()
    c.disable_traceback_filtering()
    try:
        assert not c.is_traceback_filtering_enabled()
    finally:
        c.enable_traceback_filtering()
    assert c.is_traceback_filtering_enabled()
    with pytest.raises(ValueError, match="positive int"):
        c.set_max_epochs(0)


def _fit(epochs, **kw):
    model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    trainer = kerax.Trainer(model, optimizer="sgd", loss="mse", steps_per_execution=1)
    ts = trainer.init(jax.random.key(0))
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    seen = []
    cb = kerax.callbacks.LambdaCallback(
        on_train_batch_end=lambda ts, batch, logs: seen.append(batch)
    )
    ts, history = trainer.fit(
        ts, x, y, epochs=epochs, batch_size=2, verbose=0, callbacks=[cb], **kw
    )
    return history, seen


def test_config_max_epochs_and_steps_cap_fit():
    kerax.config.set_max_epochs(2)
    kerax.config.set_max_steps_per_epoch(3)
    try:
        history, seen = _fit(5)
    finally:
        kerax.config.set_max_epochs(None)
        kerax.config.set_max_steps_per_epoch(None)
    assert len(history.history["loss"]) == 2
    assert seen == [0, 1, 2, 0, 1, 2]
    history, seen = _fit(1)
    assert seen == [0, 1, 2, 3]


def test_preprocessing_and_dtype_policies_namespaces():
    for name in ("preprocessing", "preprocessing.image", "preprocessing.sequence"):
        mod_k, mod_x = keras, kerax
        for part in name.split("."):
            mod_k, mod_x = getattr(mod_k, part), getattr(mod_x, part)
        missing = [
            n for n in dir(mod_k) if not n.startswith("_") and not hasattr(mod_x, n)
        ]
        assert missing == [], name
    seqs = [[1, 2, 3], [4], [5, 6]]
    np.testing.assert_array_equal(
        kerax.preprocessing.sequence.pad_sequences(seqs, maxlen=2),
        keras.preprocessing.sequence.pad_sequences(seqs, maxlen=2),
    )
    img = np.arange(2 * 3 * 3, dtype="float32").reshape(2, 3, 3)
    np.testing.assert_allclose(
        kerax.preprocessing.image.smart_resize(img, (4, 4)),
        keras.preprocessing.image.smart_resize(img, (4, 4)),
        rtol=1e-5,
    )
    missing = [n for n in dir(keras.dtype_policies) if not n.startswith("_")]
    assert [n for n in missing if not hasattr(kerax.dtype_policies, n)] == []
    for name in ("float32", "mixed_float16", "mixed_bfloat16"):
        kp, xp = keras.dtype_policies.get(name), kerax.dtype_policies.get(name)
        assert kerax.dtype_policies.serialize(xp) == keras.dtype_policies.serialize(kp)
        assert (
            kerax.dtype_policies.deserialize(keras.dtype_policies.serialize(kp)) == xp
        )
        assert xp.compute_dtype.name == kp.compute_dtype
        assert xp.variable_dtype.name == kp.variable_dtype
    with pytest.raises(ValueError, match="Cannot interpret"):
        kerax.dtype_policies.get(3)
    with pytest.raises(NotImplementedError, match="quantized"):
        kerax.dtype_policies.QuantizedDTypePolicy("int8")
    assert kerax.mixed_precision.dtype_policy() == kerax.dtype_policy()


def test_top_level_aliases():
    assert kerax.Loss is kerax.losses.Loss and kerax.Metric is kerax.metrics.Metric
    assert kerax.Initializer is kerax.initializers.Initializer
    assert kerax.Regularizer is kerax.regularizers.Regularizer
    assert kerax.version() == kerax.__version__


def test_remote_monitor_posts_epoch_logs():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{server.server_port}"
    try:
        for as_json in (False, True):
            cb = kerax.callbacks.RemoteMonitor(root=root, send_as_json=as_json)
            cb.on_epoch_end(None, 3, {"loss": np.float32(0.5), "acc": 1.0})
    finally:
        server.shutdown()
        server.server_close()
    from urllib.parse import parse_qs

    (path, ctype, body), (_, jtype, jbody) = received
    assert path == "/publish/epoch/end/"
    assert ctype == "application/x-www-form-urlencoded"
    assert json.loads(parse_qs(body)["data"][0]) == {
        "epoch": 3,
        "loss": 0.5,
        "acc": 1.0,
    }
    assert jtype == "application/json"
    assert json.loads(jbody) == {"epoch": 3, "loss": 0.5, "acc": 1.0}
    with pytest.warns(UserWarning, match="Could not reach"):
        kerax.callbacks.RemoteMonitor(root="http://127.0.0.1:1").on_epoch_end(
            None, 0, {}
        )


def _spec_layer(base, InputSpec, in_build=False):
    class Checked(base):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            if not in_build:
                self.input_spec = InputSpec(ndim=2, axes={-1: 3})

        def build(self, input_shape):
            if in_build:
                self.input_spec = InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

        def call(self, x):
            return x * 2

    return Checked


@pytest.mark.parametrize("in_build", [False, True])
def test_input_spec_on_custom_layer_matches_keras(in_build):
    good, bad = np.ones((4, 3), "float32"), np.ones((4, 5), "float32")
    if in_build:  # kerax reruns `build` per input: only the rank check can fail.
        bad = np.ones((3,), "float32")
    k_layer = _spec_layer(keras.layers.Layer, keras.InputSpec, in_build)(name="checked")
    x_layer = _spec_layer(kerax.layers.Layer, kerax.InputSpec, in_build)(name="checked")
    k_layer(good)
    params, state = x_layer.init(jax.random.key(0), kerax.spec((None, 3)))
    np.testing.assert_array_equal(x_layer.apply(params, state, good)[0], k_layer(good))
    with pytest.raises(ValueError) as k_err:
        k_layer(bad)
    with pytest.raises(ValueError) as x_err:
        x_layer.apply(params, state, bad)
    assert str(x_err.value) == str(k_err.value)
    if not in_build:
        with pytest.raises(ValueError, match="expected axis -1"):
            x_layer.init(jax.random.key(0), kerax.spec((None, 5)))


def test_input_spec_class_matches_keras():
    kw = dict(dtype="float32", shape=(None, 4), axes={1: 4}, name="x")
    k, x = keras.InputSpec(**kw), kerax.layers.InputSpec(**kw)
    assert x.get_config() == k.get_config() and repr(x) == repr(k)
    assert kerax.InputSpec.from_config(x.get_config()).get_config() == x.get_config()
    for case in (dict(ndim=3), dict(max_ndim=1), dict(min_ndim=3), dict(dtype="int32")):
        k_spec, x_spec = keras.InputSpec(**case), kerax.InputSpec(**case)
        from keras.src.layers.input_spec import assert_input_compatibility as k_check

        from kerax.core.input_spec import assert_input_compatibility as x_check

        with pytest.raises(ValueError) as k_err:
            k_check(k_spec, np.ones((2, 2), "float32"), "lay")
        with pytest.raises(ValueError) as x_err:
            x_check(x_spec, np.ones((2, 2), "float32"), "lay")
        assert str(x_err.value) == str(k_err.value)
    with pytest.raises(ValueError, match="maximum allowed"):
        kerax.InputSpec(ndim=2, axes={3: 1})
