"""Small Keras-compat fixes, each checked against Keras itself.

`kerax.ops` on Python lists, Keras's op class names in `summary()` and node
names, clear errors for params that lack a layer and for `layer.output` in a
Sequential without Input.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import ops

V = [1.0, -2.0, 3.0]
M = [[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]
I2 = [[1, 2], [3, 4]]

# op: arguments, lists (and tuples) where Keras takes tensors.
LIST_CASES = {
    "sum": ([1.0, 2.0],),
    "mean": (M,),
    "max": (M,),
    "prod": ((1.0, 2.0, 3.0),),
    "abs": (V,),
    "add": (V, V),
    "subtract": (V, [1, 1, 1]),
    "multiply": (V, 2.0),
    "divide": (V, [2.0, 4.0, 8.0]),
    "matmul": (M, [[1.0], [2.0], [3.0]]),
    "maximum": (V, [0.0, 0.0, 0.0]),
    "exp": (V,),
    "sqrt": ([1.0, 4.0],),
    "transpose": (M,),
    "reshape": (M, (3, 2)),
    "expand_dims": (V, 0),
    "argmax": (M,),
    "cumsum": (V,),
    "clip": (V, -1.0, 1.0),
    "take": (V, [0, 2]),
    "equal": (V, V),
    "mod": (I2, 3),
    "negative": (V,),
    "dot": (V, V),
    "std": (V,),
    "tril": (I2,),
    "cast": (V, "int32"),
    "einsum": ("i,i->", V, [1.0, 1.0, 1.0]),
    "stack": ([V, V],),
    "concatenate": ([V, [4.0]],),
    "digitize": (V, [0.0, 2.0]),
    "searchsorted": ([1.0, 2.0, 3.0], [2.5]),
    "tensordot": (M, M, ([0, 1], [0, 1])),
    "pad": (V, [(1, 2)]),
    "broadcast_to": (V, (2, 3)),
    "split": (V, [1]),
    "sort": (V,),
    # Keras's (real, imag) pair is two tensors, not one to convert.
    "fft": ((np.asarray([1.0, 2.0], "float32"), np.asarray([0.0, 1.0], "float32")),),
    "softmax": (jnp.asarray(V), 0),
}


def _np(value):
    if isinstance(value, (list, tuple)):
        return [np.asarray(v) for v in value]
    return [np.asarray(value)]


@pytest.mark.parametrize("name", list(LIST_CASES))
def test_ops_take_lists_as_keras_does(name):
    args = LIST_CASES[name]
    want = _np(getattr(keras.ops, name)(*args))
    got = _np(getattr(ops, name)(*args))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, name
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_list_arguments_on_nodes_and_keywords():
    # A list constant recorded in a graph is converted when the model runs.
    x = kerax.Input((3,))
    y = ops.add(x, [1.0, 2.0, 3.0]) * ops.sum(x=[2.0])
    model = kerax.Model(x, y)
    params, state = model.init(jax.random.key(0))
    got, _ = model.apply(params, state, np.ones((2, 3), "float32"))
    # (Keras's symbolic ops take no lists: its graph holds the same arrays.)
    k_x = keras.Input((3,))
    k_y = keras.ops.add(k_x, np.asarray([1.0, 2.0, 3.0], "float32"))
    k_model = keras.Model(k_x, k_y * keras.ops.sum(x=[2.0]))
    want = k_model(np.ones((2, 3), "float32"))
    np.testing.assert_allclose(np.asarray(got), np.asarray(want))
    # Keyword tensors convert; shapes and axes given as lists stay lists.
    np.testing.assert_allclose(
        ops.max(x=M, axis=[0, 1]), keras.ops.max(x=M, axis=[0, 1])
    )


def test_lists_under_jit():
    f = jax.jit(lambda a: ops.sum(ops.add(a, [1.0, 2.0])))
    want = keras.ops.sum(keras.ops.add([1.0, 1.0], [1.0, 2.0]))
    assert float(f(jnp.ones(2))) == float(want)


def test_summary_shows_keras_op_classes():
    def build(lib):
        o = keras.ops if lib is keras else ops
        a, b = lib.Input((4,)), lib.Input((4,))
        y = o.concatenate([a + b, o.abs(a)], axis=-1)
        return lib.Model([a, b], y)

    keras.backend.clear_session()  # Keras's op names count per session.
    k_lines, x_lines = [], []
    build(keras).summary(print_fn=lambda t, line_break=False: k_lines.append(t))
    build(kerax).summary(print_fn=x_lines.append)
    pattern = r"\(([A-Z]\w*)\)"  # "(Add)": the rows, not the "(type)" header.
    k_types = re.findall(pattern, "\n".join(k_lines))
    x_types = re.findall(pattern, "\n".join(x_lines))
    assert (
        x_types
        == k_types
        == [
            "InputLayer",
            "InputLayer",
            "Add",
            "Absolute",
            "Concatenate",
        ]
    )
    assert "add (Add)" in "\n".join(x_lines)


# op: a call on one (4, 4) node, Keras's function of the same name.
ALIAS_CASES = {
    "abs": lambda o, x: o.abs(x),
    "absolute": lambda o, x: o.absolute(x),
    "conj": lambda o, x: o.conj(x),
    "amax": lambda o, x: o.amax(x),
    "isin": lambda o, x: o.isin(x, x),
    "cdist": lambda o, x: o.cdist(x, x),
    "swish": lambda o, x: o.swish(x),
    "hard_swish": lambda o, x: o.hard_swish(x),
    "layer_normalization": lambda o, x: o.layer_normalization(x),
    "rms_normalization": lambda o, x: o.rms_normalization(x),
    "builtin_abs": lambda o, x: abs(x),
}


@pytest.mark.parametrize("name", list(ALIAS_CASES))
def test_op_node_names_and_classes_follow_keras(name):
    keras.backend.clear_session()
    k_node = ALIAS_CASES[name](keras.ops, keras.Input((4,)))
    x_node = ALIAS_CASES[name](ops, kerax.Input((4,)))
    k_op = k_node._keras_history[0]
    assert x_node.op.scope_name == k_op.name
    assert x_node.op.keras_class_name == type(k_op).__name__
    entry, _ = x_node.op.keras_operation([x_node, x_node])
    assert entry["class_name"] == type(k_op).__name__


def test_keras_file_with_renamed_op_classes_loads(tmp_path):
    a = keras.Input((3,))
    k_model = keras.Model(a, [keras.ops.isin(a, a), keras.ops.abs(a) + 1.0])
    path = str(tmp_path / "k.keras")
    k_model.save(path)
    model, params, state = kerax.load_model(path)
    x = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
    got, _ = model.apply(params, state, x)
    for g, w in zip(got, k_model(x)):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    # And back: kerax writes Keras's class names (`IsIn`, `Absolute`).
    path = str(tmp_path / "x.keras")
    kerax.save_model(path, model, params)
    again = keras.saving.load_model(path)
    assert [type(op).__name__ for op in again.operations[1:]] == [
        type(op).__name__ for op in k_model.operations[1:]
    ]
    for g, w in zip(again(x), k_model(x)):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_ops_namespace_has_no_helpers():
    assert not hasattr(ops, "accept_variables")
    assert not hasattr(keras.ops, "accept_variables")


def _missing_layer_error(model, spec_shape):
    params, state = model.init(jax.random.key(0), kerax.spec(spec_shape))
    params = {k: v for k, v in params.items() if k != "d2"}
    with pytest.raises(ValueError) as info:
        model.apply(params, state, np.ones(spec_shape[1:], "float32")[None])
    return str(info.value)


def test_params_missing_a_layer_name_it_in_both_models():
    x = kerax.Input((3,))
    h = kerax.layers.Dense(2, name="d1")(x)
    functional = kerax.Model(x, kerax.layers.Dense(1, name="d2")(h))
    sequential = kerax.Sequential(
        [kerax.layers.Dense(2, name="d1"), kerax.layers.Dense(1, name="d2")]
    )
    for model in (functional, sequential):
        message = _missing_layer_error(model, (None, 3))
        assert "no entry for layer(s) ['d2']" in message, message
        assert "model.init(key)" in message
    # Params that lack nothing still raise the layer's own error.
    params, state = functional.init(jax.random.key(0))
    with pytest.raises(Exception) as info:
        functional.apply(params, state, np.ones((1, 5), "float32"))
    assert "no entry" not in str(info.value)


def test_output_of_a_layer_in_a_sequential_without_input():
    model = kerax.Sequential([kerax.layers.Dense(2)])
    with pytest.raises(AttributeError, match=r"no Input.*kerax.Input\(shape\)"):
        _ = model.layers[0].output
    with pytest.raises(AttributeError, match=r"no Input"):
        _ = model.layers[0].input
    # Keras raises AttributeError too (no graph: the layer was never called).
    with pytest.raises(AttributeError):
        _ = keras.Sequential([keras.layers.Dense(2)]).layers[0].output
    # With an Input the output is the node, as in Keras.
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    assert model.layers[0].output.shape == (None, 2)


def test_nodes_inside_a_namedtuple_argument():
    import collections

    pair = collections.namedtuple("Pair", "a b")
    i = kerax.Input((3,))
    out = ops.stack(pair(i, 2 * i), axis=1)
    assert out.shape == (None, 2, 3)
    model = kerax.Model(i, out)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    y, _ = model.apply({}, {}, x)
    want = keras.ops.stack(pair(x, 2 * x), axis=1)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(want))
    again = kerax.Model.from_config(model.get_config())  # Saved as a tuple.
    np.testing.assert_array_equal(
        np.asarray(again.apply({}, {}, x)[0]), np.asarray(want)
    )
