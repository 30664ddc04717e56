"""kerax.ops against keras.ops on the JAX backend: same names, same numbers."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from kerax import ops

UNARY = (
    "abs absolute arccos arcsin arctan arctanh arcsinh cbrt ceil cos cosh deg2rad "
    "exp exp2 expm1 fabs floor log log10 log1p log2 negative rad2deg reciprocal "
    "sign sin sinc sinh sqrt square tan tanh trunc round isfinite isnan signbit "
    "relu relu6 sigmoid softplus softsign silu swish log_sigmoid hard_sigmoid "
    "hard_silu selu elu celu gelu tanh_shrink soft_shrink hard_shrink hard_tanh "
    "sparse_plus squareplus sparse_sigmoid erf erfc erfinv rsqrt softmax "
    "log_softmax glu leaky_relu logical_not"
).split()
BINARY = (
    "add subtract multiply divide true_divide power maximum minimum equal "
    "not_equal greater greater_equal less less_equal logaddexp arctan2 fmod "
    "mod hypot heaviside fmax fmin nextafter matmul dot inner outer kron vdot "
    "cross logical_and logical_or logical_xor divide_no_nan isclose cdist append"
).split()
REDUCE = (
    "sum mean var std max min amax amin prod argmax argmin all any median "
    "nanmean nansum nanmax nanmin nanvar nanstd ptp logsumexp count_nonzero"
).split()

# name -> (args builder taking an rng, kwargs): the ops with special inputs.
SPECIAL = {
    "arange": (lambda r: (1, 9, 2), {}),
    "zeros": (lambda r: ((2, 3),), {}),
    "ones": (lambda r: ((2,),), {"dtype": "int32"}),
    "full": (lambda r: ((2, 2), 3.5), {}),
    "eye": (lambda r: (3, 4), {"k": 1}),
    "identity": (lambda r: (3,), {}),
    "tri": (lambda r: (3,), {}),
    "linspace": (lambda r: (0.0, 1.0, 5), {}),
    "clip": (lambda r: (r.normal(size=(5,)), -0.5, 0.5), {}),
    "where": (lambda r: (r.normal(size=(4,)) > 0, 1.0, r.normal(size=(4,))), {}),
    "reshape": (lambda r: (r.normal(size=(2, 6)), (3, -1)), {}),
    "transpose": (lambda r: (r.normal(size=(2, 3, 4)), (2, 0, 1)), {}),
    "tile": (lambda r: (r.normal(size=(2, 3)), (2, 1)), {}),
    "repeat": (lambda r: (r.normal(size=(2, 3)), 2), {"axis": 1}),
    "pad": (lambda r: (r.normal(size=(2, 3)), ((1, 0), (0, 2))), {}),
    "concatenate": (lambda r: ([r.normal(size=(2, 3)), r.normal(size=(1, 3))],), {}),
    "stack": (lambda r: ([r.normal(size=(3,)), r.normal(size=(3,))],), {"axis": 1}),
    "split": (lambda r: (r.normal(size=(4, 2)), 2), {}),
    "unstack": (lambda r: (r.normal(size=(3, 2)),), {"axis": 1}),
    "expand_dims": (lambda r: (r.normal(size=(3,)), 0), {}),
    "squeeze": (lambda r: (r.normal(size=(3, 1)),), {}),
    "flip": (lambda r: (r.normal(size=(3, 2)),), {"axis": 0}),
    "roll": (lambda r: (r.normal(size=(5,)), 2), {}),
    "sort": (lambda r: (r.normal(size=(2, 5)),), {}),
    "argsort": (lambda r: (r.normal(size=(2, 5)),), {}),
    "take": (lambda r: (r.normal(size=(4, 3)), np.array([2, 0])), {"axis": 0}),
    "take_along_axis": (
        lambda r: (r.normal(size=(2, 3)), np.array([[0], [2]])),
        {"axis": 1},
    ),
    "cumsum": (lambda r: (r.normal(size=(2, 3)),), {"axis": 1}),
    "cumprod": (lambda r: (r.normal(size=(2, 3)),), {"axis": 0}),
    "diff": (lambda r: (r.normal(size=(5,)),), {}),
    "einsum": (
        lambda r: ("ij,jk->ik", r.normal(size=(2, 3)), r.normal(size=(3, 2))),
        {},
    ),
    "tensordot": (
        lambda r: (r.normal(size=(2, 3)), r.normal(size=(3, 4))),
        {"axes": 1},
    ),
    "trace": (lambda r: (r.normal(size=(3, 3)),), {}),
    "tril": (lambda r: (r.normal(size=(3, 3)),), {"k": -1}),
    "triu": (lambda r: (r.normal(size=(3, 3)),), {}),
    "diag": (lambda r: (r.normal(size=(3,)),), {}),
    "diagonal": (lambda r: (r.normal(size=(3, 3)),), {}),
    "average": (lambda r: (r.normal(size=(2, 3)),), {"axis": 1, "weights": np.ones(3)}),
    "quantile": (lambda r: (r.normal(size=(8,)), 0.3), {}),
    "percentile": (lambda r: (r.normal(size=(8,)), 30.0), {}),
    "bincount": (lambda r: (np.array([0, 2, 2, 3]),), {"minlength": 5}),
    "digitize": (lambda r: (r.normal(size=(5,)), np.array([-1.0, 0.0, 1.0])), {}),
    "searchsorted": (lambda r: (np.array([1.0, 2.0, 3.0]), np.array([2.5, 0.0])), {}),
    "meshgrid": (lambda r: (np.arange(3), np.arange(2)), {"indexing": "ij"}),
    "nan_to_num": (lambda r: (np.array([np.nan, np.inf, 1.0]),), {}),
    "isin": (lambda r: (np.array([1, 2, 3]), np.array([2])), {}),
    "moveaxis": (lambda r: (r.normal(size=(2, 3, 4)), 0, -1), {}),
    "swapaxes": (lambda r: (r.normal(size=(2, 3)), 0, 1), {}),
    "one_hot": (lambda r: (np.array([0, 2, 1]), 3), {}),
    "multi_hot": (lambda r: (np.array([[0, 2], [1, 1]]), 3), {}),
    "top_k": (lambda r: (r.normal(size=(2, 6)), 3), {}),
    "in_top_k": (lambda r: (np.array([1, 0]), r.normal(size=(2, 4)), 2), {}),
    "segment_sum": (
        lambda r: (r.normal(size=(5, 2)), np.array([0, 0, 1, 2, 2])),
        {"num_segments": 3},
    ),
    "segment_max": (
        lambda r: (r.normal(size=(5,)), np.array([0, 1, 1, 2, 2])),
        {"num_segments": 3},
    ),
    "moments": (lambda r: (r.normal(size=(4, 3)), [0]), {}),
    "batch_normalization": (
        lambda r: (r.normal(size=(4, 3)), np.zeros(3), np.ones(3) * 2, -1),
        {"offset": np.ones(3), "scale": np.full(3, 0.5)},
    ),
    "normalize": (lambda r: (r.normal(size=(3, 4)),), {}),
    "rms_normalization": (lambda r: (r.normal(size=(3, 4)),), {}),
    "binary_crossentropy": (
        lambda r: (r.uniform(size=(3, 2)), r.uniform(0.1, 0.9, size=(3, 2))),
        {},
    ),
    "categorical_crossentropy": (
        lambda r: (np.eye(3)[[0, 2]], r.normal(size=(2, 3))),
        {"from_logits": True},
    ),
    "sparse_categorical_crossentropy": (
        lambda r: (np.array([0, 2]), r.uniform(0.1, 1.0, size=(2, 3))),
        {},
    ),
    "conv": (
        lambda r: (r.normal(size=(2, 6, 6, 4)), r.normal(size=(3, 3, 2, 6))),
        {"strides": 2, "padding": "same"},
    ),
    "depthwise_conv": (
        lambda r: (r.normal(size=(2, 8, 3)), r.normal(size=(3, 3, 2))),
        {"dilation_rate": 2},
    ),
    "separable_conv": (
        lambda r: (
            r.normal(size=(1, 5, 5, 2)),
            r.normal(size=(3, 3, 2, 1)),
            r.normal(size=(1, 1, 2, 4)),
        ),
        {"padding": "same"},
    ),
    "max_pool": (
        lambda r: (r.normal(size=(2, 5, 5, 3)), 2),
        {"strides": 2, "padding": "same"},
    ),
    "average_pool": (
        lambda r: (r.normal(size=(2, 5, 5, 3)), 3),
        {"strides": 2, "padding": "same"},
    ),
    "dot_product_attention": (
        lambda r: tuple(
            r.normal(size=(2, 4, 2, 8)).astype("float32") for _ in range(3)
        ),
        {"is_causal": True},
    ),
    "extract_sequences": (lambda r: (r.normal(size=(2, 10)), 4, 3), {}),
    "rfft": (lambda r: (r.normal(size=(2, 8)),), {}),
    "fft": (lambda r: ((r.normal(size=(4,)), r.normal(size=(4,))),), {}),
    "qr": (lambda r: (r.normal(size=(4, 3)),), {}),
    "solve": (
        lambda r: (r.normal(size=(3, 3)) + 3 * np.eye(3), r.normal(size=(3, 2))),
        {},
    ),
    "inv": (lambda r: (r.normal(size=(3, 3)) + 3 * np.eye(3),), {}),
    "det": (lambda r: (r.normal(size=(3, 3)),), {}),
    "norm": (lambda r: (r.normal(size=(3, 3)),), {"axis": -1}),
    "cholesky": (lambda r: (np.eye(3) * 2 + 0.1,), {}),
    "logdet": (lambda r: (np.eye(3) * 2 + 0.1,), {}),
    "scatter": (
        lambda r: (np.array([[0, 1], [2, 0]]), np.array([1.0, 2.0]), (3, 2)),
        {},
    ),
    "scatter_update": (
        lambda r: (np.zeros((3, 2)), np.array([[0, 1], [2, 0]]), np.array([1.0, 2.0])),
        {},
    ),
    "slice": (lambda r: (r.normal(size=(4, 5)), (1, 2), (2, -1)), {}),
    "slice_update": (lambda r: (np.zeros((4, 4)), (1, 1), np.ones((2, 2))), {}),
    "cast": (lambda r: (r.normal(size=(3,)) * 10, "int32"), {}),
    "saturate_cast": (lambda r: (np.array([-300.0, 5.0, 300.0]), "uint8"), {}),
    "unique": (lambda r: (np.array([3, 1, 3, 2]),), {}),
    "unravel_index": (lambda r: (np.array([5, 7]), (3, 4)), {}),
    "correlate": (lambda r: (r.normal(size=(6,)), r.normal(size=(3,))), {}),
    "view_as_real": (lambda r: (np.array([1 + 2j, 3 - 1j], np.complex64),), {}),
    "argpartition": (lambda r: (r.normal(size=(6,)), 2), {}),
}


def _close(a, b):
    a, b = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        x, y = np.asarray(x), np.asarray(keras.ops.convert_to_numpy(y))
        assert x.shape == y.shape
        assert x.dtype == y.dtype, (x.dtype, y.dtype)
        np.testing.assert_allclose(x, y, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", UNARY)
def test_unary_matches_keras(name, rng):
    x = rng.uniform(0.05, 0.95, size=(3, 4)).astype("float32")
    _close(getattr(ops, name)(x), getattr(keras.ops, name)(x))


@pytest.mark.parametrize("name", BINARY)
def test_binary_matches_keras(name, rng):
    x1 = rng.uniform(0.1, 2.0, size=(3, 3)).astype("float32")
    x2 = rng.uniform(0.1, 2.0, size=(3, 3)).astype("float32")
    if name.startswith("logical"):
        x1, x2 = x1 > 1, x2 > 1
    _close(getattr(ops, name)(x1, x2), getattr(keras.ops, name)(x1, x2))


@pytest.mark.parametrize("name", REDUCE)
@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, True)])
def test_reduction_matches_keras(name, axis, keepdims, rng):
    x = rng.normal(size=(3, 4)).astype("float32")
    x = x > 0 if name in ("all", "any") else x
    kw = (
        {"axis": axis}
        if name == "count_nonzero"
        else {"axis": axis, "keepdims": keepdims}
    )
    _close(getattr(ops, name)(x, **kw), getattr(keras.ops, name)(x, **kw))


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_special_op_matches_keras(name, rng):
    make_args, kwargs = SPECIAL[name]
    args = jax.tree.map(
        lambda a: a.astype("float32") if getattr(a, "dtype", None) == np.float64 else a,
        make_args(rng),
    )
    _close(
        getattr(ops, name)(*args, **kwargs), getattr(keras.ops, name)(*args, **kwargs)
    )


def test_integer_dtype_rules_match_keras():
    x = np.array([1, 2, 4], np.int32)
    for name in ("mean", "var", "std", "sqrt", "sum", "arange"):
        _close(
            getattr(ops, name)(x if name != "arange" else 3),
            getattr(keras.ops, name)(x if name != "arange" else 3),
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"interpolation": "bilinear"},
        {"interpolation": "nearest"},
        {"interpolation": "bicubic", "antialias": True},
        {"crop_to_aspect_ratio": True},
        {"pad_to_aspect_ratio": True, "fill_value": 1.0},
    ],
)
def test_image_resize_matches_keras(kwargs, rng):
    images = rng.uniform(size=(2, 6, 9, 3)).astype("float32")
    _close(
        ops.image.resize(images, (4, 4), **kwargs),
        keras.ops.image.resize(images, (4, 4), **kwargs),
    )
    gray = rng.uniform(size=(5, 5, 3)).astype("float32")
    _close(ops.image.rgb_to_grayscale(gray), keras.ops.image.rgb_to_grayscale(gray))


def test_control_flow_matches_keras():
    def body(i, s):
        return i + 1, s * 2.0

    def cond(i, s):
        return i < 5

    _close(
        ops.while_loop(cond, body, (0, 1.0)), keras.ops.while_loop(cond, body, (0, 1.0))
    )
    _close(
        ops.while_loop(cond, body, (0, 1.0), maximum_iterations=2),
        keras.ops.while_loop(cond, body, (0, 1.0), maximum_iterations=2),
    )
    _close(
        ops.fori_loop(0, 4, lambda i, v: v + i, 0),
        keras.ops.fori_loop(0, 4, lambda i, v: v + i, 0),
    )

    def step(carry, x):
        return carry + x, carry * x

    xs = jnp.arange(4.0)
    _close(ops.scan(step, 0.0, xs), keras.ops.scan(step, 0.0, xs))
    _close(ops.associative_scan(jnp.add, xs), keras.ops.associative_scan(jnp.add, xs))
    branches = [lambda x: x + 1, lambda x: x * 10]
    _close(ops.switch(1, branches, 2.0), keras.ops.switch(1, branches, 2.0))
    _close(
        ops.cond(True, lambda: 1.0, lambda: 2.0),
        keras.ops.cond(True, lambda: 1.0, lambda: 2.0),
    )
    _close(ops.map(jnp.sin, xs), keras.ops.map(jnp.sin, xs))
    _close(
        ops.vectorized_map(jnp.sum, xs[:, None]),
        keras.ops.vectorized_map(jnp.sum, xs[:, None]),
    )


def test_pool_strides_default_to_pool_size(rng):
    # Keras 3.15's JAX max_pool fails with strides=None (it expands the pool
    # size twice); Keras documents strides=None as strides=pool_size.
    x = rng.normal(size=(1, 4, 4, 2)).astype("float32")
    np.testing.assert_array_equal(ops.max_pool(x, 2), ops.max_pool(x, 2, strides=2))
    assert ops.average_pool(x, (2, 2)).shape == (1, 2, 2, 2)


def test_sparsemax_projects_onto_the_simplex(rng):
    # Not compared with Keras: Keras 3.15's JAX sparsemax sums the cumulative
    # sums into its threshold (ops.sparsemax([0.5, 0.4]) == [0.3, 0.2]).
    x = rng.normal(size=(4, 6)).astype("float32")
    p = np.asarray(ops.sparsemax(x))
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(ops.sparsemax(jnp.array([0.5, 0.4])), [0.55, 0.45])
    np.testing.assert_allclose(ops.sparsemax(x.T, axis=0), p.T, rtol=1e-6)
    assert (p == 0).any() and (p >= 0).all()


def test_ops_are_pure_jax_functions():
    # They trace under jit and grad like jax.numpy: nothing is held between calls.
    f = jax.jit(jax.grad(lambda x: ops.sum(ops.softmax(x) * ops.arange(3.0))))
    np.testing.assert_allclose(
        f(jnp.zeros(3)),
        jax.grad(lambda x: jnp.sum(jax.nn.softmax(x) * jnp.arange(3.0)))(jnp.zeros(3)),
    )


def test_keras_names_are_covered():
    # Every public name of keras.ops and of its families.
    for family in ("", "nn", "numpy", "image", "linalg"):
        theirs = getattr(keras.ops, family) if family else keras.ops
        mine = getattr(ops, family) if family else ops
        public = {n for n in dir(theirs) if not n.startswith("_")}
        assert sorted(public - set(dir(mine))) == [], family or "ops"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ops.segment_sum(jnp.ones(3), jnp.zeros(3, int)), "num_segments"),
        (
            lambda: ops.pad(jnp.ones(3), 1, mode="reflect", constant_values=1),
            "constant_values",
        ),
        (
            lambda: ops.conv(jnp.ones((1, 4, 3)), jnp.ones((2, 3, 1)), padding="full"),
            "padding",
        ),
        (lambda: ops.one_hot(jnp.ones(3, int), 2, sparse=True), "sparse"),
        (lambda: ops.image.resize(jnp.ones((4, 4, 1)), (2,)), "size"),
        (lambda: ops.unstack(jnp.ones((3, 2)), num=2), "num"),
    ],
)
def test_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
