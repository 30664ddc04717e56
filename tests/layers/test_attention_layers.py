"""Attention layers: MultiHeadAttention, GroupedQueryAttention, Attention, AdditiveAttention."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from keras.src import backend as keras_backend

import kerax
from kerax import layers
from kerax.interop import layer_from_keras, layer_weights
from kerax.layers._docs import undocumented_args
from kerax.testing import assert_trees_close, check_layer, check_strict_promotion

KEY = jax.random.key(0)

# Shapes of the shared inputs; the `arrays` fixture draws them from the test's
# own generator, and parametrized cases name them ("Q", "V", ...).
SHAPES = {
    "Q": (2, 4, 6),
    "V": (2, 5, 7),
    "K": (2, 5, 3),
    "QG": (2, 4, 7),
    "QA": (2, 4, 3),
    "VA": (2, 5, 6),
    "KA": (2, 5, 3),
}


@pytest.fixture
def arrays(rng):
    return {n: rng.standard_normal(s).astype(np.float32) for n, s in SHAPES.items()}


def resolve(arrays, value):
    """`value` with every input name ("Q", ...) replaced by its array."""
    if isinstance(value, str) and value in SHAPES:
        return arrays[value]
    if isinstance(value, tuple | list):
        return type(value)(resolve(arrays, v) for v in value)
    return value


def randn(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def spec_of(x):
    return kerax.spec((None, *x.shape[1:]))


def imported(rng, keras_layer, *inputs, **kwargs):
    """Builds the Keras layer, gives it random weights (biases too), imports it."""
    keras_layer(*inputs, **kwargs)
    for v in keras_layer.weights:
        if "seed_generator" not in v.path:
            v.assign(0.5 * rng.standard_normal(v.shape).astype(np.float32))
    kx = layer_from_keras(keras_layer)
    return kx, layer_weights(keras_layer, kx)


def masked(x, mask):
    """A JAX array carrying a Keras mask (Keras clears it in MHA: make one per call)."""
    x = jnp.array(x)
    if mask is not None:
        keras_backend.set_keras_mask(x, jnp.asarray(mask))
    return x


def compare(
    kx,
    params,
    state,
    keras_layer,
    inputs,
    keras_kwargs=None,
    kerax_kwargs=None,
    masks=None,
):
    """Keras output (inputs carrying `masks`) vs kerax output (masks passed as `mask=`)."""
    keras_kwargs, kerax_kwargs = dict(keras_kwargs or {}), dict(kerax_kwargs or {})
    k_inputs = (
        inputs if masks is None else tuple(masked(x, m) for x, m in zip(inputs, masks))
    )
    want = keras_layer(*k_inputs, **keras_kwargs)
    if masks is not None:
        kerax_kwargs["mask"] = tuple(
            jnp.asarray(m) if m is not None else None for m in masks
        )
    got, _ = kx.apply(params, state, *[jnp.asarray(x) for x in inputs], **kerax_kwargs)
    assert_trees_close(
        got, jax.tree.map(np.asarray, want), what=f"{kx.describe()} vs Keras"
    )
    return got


Q_MASK = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
V_MASK = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], bool)
K_MASK = np.array([[1, 0, 1, 1, 1], [1, 1, 1, 1, 1]], bool)


# ------------------------------------------------------- MultiHeadAttention
@pytest.mark.parametrize(
    "kwargs,shapes,call_kwargs",
    [
        # The fused jax.nn.dot_product_attention path.
        (
            {"num_heads": 2, "key_dim": 3, "use_gate": True},
            [(4, 6), (5, 7)],
            {"use_causal_mask": True},
        ),
        # Keras's einsum path: several attention axes, a key input, scores, dropout.
        (
            {
                "num_heads": 2,
                "key_dim": 2,
                "value_dim": 3,
                "output_shape": (2, 3),
                "use_bias": False,
                "attention_axes": (1, 2),
                "dropout": 0.2,
            },
            [(3, 2, 4), (3, 2, 5), (3, 2, 2)],
            {"return_attention_scores": True},
        ),
    ],
)
def test_mha_contract(kwargs, shapes, call_kwargs):
    check_layer(
        layers.MultiHeadAttention(**kwargs),
        *[kerax.spec((None, *s)) for s in shapes],
        batch=2,  # The parity tests' batch: eager ops compiled once serve both.
        **call_kwargs,
    )


@pytest.mark.parametrize(
    "kwargs,inputs,call_kwargs",
    [
        ({"num_heads": 2, "key_dim": 3}, ("Q", "V"), {}),
        (
            {"num_heads": 2, "key_dim": 3},
            ("Q", "V", "K"),
            {"return_attention_scores": True},
        ),
        (
            {"num_heads": 3, "key_dim": 2, "value_dim": 4, "output_shape": (2, 3)},
            ("Q", "V"),
            {"return_attention_scores": True},
        ),
        (
            {"num_heads": 2, "key_dim": 3, "output_shape": 5, "use_bias": False},
            ("Q", "Q"),
            {"use_causal_mask": True},
        ),
        (
            {"num_heads": 2, "key_dim": 3},
            ("Q", "V"),
            {"use_causal_mask": True, "return_attention_scores": True},
        ),
        (
            {"num_heads": 2, "key_dim": 3, "use_gate": True, "sliding_window": 2},
            ("Q", "Q"),
            {"use_causal_mask": True},
        ),
        # Dropout > 0 takes Keras's einsum path even in inference.
        ({"num_heads": 2, "key_dim": 3, "dropout": 0.5}, ("Q", "V"), {}),
    ],
)
def test_mha_keras_parity(kwargs, inputs, call_kwargs, arrays, rng):
    kwargs = resolve(arrays, kwargs)
    inputs = resolve(arrays, inputs)
    call_kwargs = resolve(arrays, call_kwargs)
    kl = keras.layers.MultiHeadAttention(**kwargs)
    kx, (params, state) = imported(rng, kl, *inputs, **call_kwargs)
    compare(kx, params, state, kl, inputs, call_kwargs, call_kwargs)


@pytest.mark.parametrize("axes", [(2,), (1, 2), -2])
def test_mha_attention_axes_keras_parity(axes, rng):
    x, y = randn(rng, 2, 3, 4, 5), randn(rng, 2, 3, 4, 6)
    kl = keras.layers.MultiHeadAttention(2, 3, attention_axes=axes)
    kx, (params, state) = imported(rng, kl, x, y)
    compare(kx, params, state, kl, (x, y))
    got = compare(
        kx,
        params,
        state,
        kl,
        (x, y),
        {"return_attention_scores": True},
        {"return_attention_scores": True},
    )
    if axes == (1, 2):
        assert got[1].shape == (2, 2, 3, 4, 3, 4)
    mask = rng.random((2, 3, 4, 3, 4) if axes == (1, 2) else (2, 3, 4, 4)) > 0.3
    compare(
        kx,
        params,
        state,
        kl,
        (x, y),
        {"attention_mask": mask},
        {"attention_mask": jnp.asarray(mask)},
    )


@pytest.mark.parametrize(
    "call_kwargs",
    [
        {},
        {"return_attention_scores": True},
        {"use_causal_mask": True},
        {"use_causal_mask": True, "return_attention_scores": True},
    ],
)
def test_mha_input_masks_keras_parity(call_kwargs, arrays, rng):
    # Masks attached to the inputs (as from Embedding(mask_zero=True)) become
    # query/value/key masks; the kerax container passes them as a tuple.
    kl = keras.layers.MultiHeadAttention(2, 3)
    kx, (params, state) = imported(rng, kl, arrays["Q"], arrays["V"], arrays["K"])
    compare(
        kx,
        params,
        state,
        kl,
        (arrays["Q"], arrays["V"], arrays["K"]),
        call_kwargs,
        call_kwargs,
        masks=(Q_MASK, V_MASK, K_MASK),
    )
    compare(
        kx,
        params,
        state,
        kl,
        (arrays["Q"], arrays["V"], arrays["K"]),
        call_kwargs,
        call_kwargs,
        masks=(None, None, K_MASK),
    )
    kl = keras.layers.MultiHeadAttention(2, 3)
    kx, (params, state) = imported(rng, kl, arrays["Q"], arrays["Q"])
    compare(
        kx,
        params,
        state,
        kl,
        (arrays["Q"], arrays["Q"]),
        call_kwargs,
        call_kwargs,
        masks=(Q_MASK, Q_MASK),
    )


def test_mha_explicit_masks_keras_parity(arrays, rng):
    kl = keras.layers.MultiHeadAttention(2, 3)
    kx, (params, state) = imported(rng, kl, arrays["Q"], arrays["V"], arrays["K"])
    attention_mask = rng.random((2, 4, 5)) > 0.3
    for kw in (
        {"attention_mask": attention_mask},
        {
            "attention_mask": attention_mask,
            "value_mask": V_MASK,
            "use_causal_mask": True,
        },
        {"value_mask": V_MASK, "key_mask": K_MASK},
        {"attention_mask": attention_mask, "return_attention_scores": True},
    ):
        ours = {
            k: jnp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()
        }
        compare(
            kx, params, state, kl, (arrays["Q"], arrays["V"], arrays["K"]), kw, ours
        )
    # Keras takes the query mask from the query tensor only; kerax also honours the argument.
    want = kl(masked(arrays["Q"], Q_MASK), arrays["V"], arrays["K"])
    got, _ = kx.apply(
        params,
        state,
        arrays["Q"],
        arrays["V"],
        arrays["K"],
        query_mask=jnp.asarray(Q_MASK),
    )
    assert_trees_close(got, np.asarray(want))


def test_mha_unequal_value_dim_fused_path(arrays, rng):
    # Keras 3.15 on JAX fails here without return_attention_scores; kerax's
    # fused path must equal its einsum path (and Keras's einsum path).
    kl = keras.layers.MultiHeadAttention(2, 3, value_dim=5)
    kx, (params, state) = imported(
        rng, kl, arrays["Q"], arrays["V"], return_attention_scores=True
    )
    explicit = compare(
        kx,
        params,
        state,
        kl,
        (arrays["Q"], arrays["V"]),
        {"return_attention_scores": True},
        {"return_attention_scores": True},
    )
    fused, _ = kx.apply(params, state, arrays["Q"], arrays["V"])
    assert_trees_close(fused, explicit[0])
    causal_fused, _ = kx.apply(
        params, state, arrays["Q"], arrays["V"], use_causal_mask=True
    )
    causal_explicit, _ = kx.apply(
        params,
        state,
        arrays["Q"],
        arrays["V"],
        use_causal_mask=True,
        return_attention_scores=True,
    )
    assert_trees_close(causal_fused, causal_explicit[0])


def test_mha_in_functional_model_masks_and_key_input(arrays):
    q, v, k = kerax.Input((4, 6)), kerax.Input((5, 7)), kerax.Input((5, 3))
    mha = layers.MultiHeadAttention(2, 3, name="mha")
    out, scores = mha(q, v, k, return_attention_scores=True)
    model = kerax.Model([q, v, k], [out, scores])
    params, state = model.init(
        KEY, [spec_of(arrays["Q"]), spec_of(arrays["V"]), spec_of(arrays["K"])]
    )
    assert params["mha"]["key"]["kernel"].shape == (3, 2, 3)
    masks = [jnp.asarray(Q_MASK), jnp.asarray(V_MASK), jnp.asarray(K_MASK)]
    (y, s), _, out_masks = model.apply_masked(
        params, state, [arrays["Q"], arrays["V"], arrays["K"]], mask=masks
    )
    np.testing.assert_array_equal(out_masks[0], Q_MASK)
    assert out_masks[1] is None
    want, _ = mha.apply(
        params["mha"],
        {},
        arrays["Q"],
        arrays["V"],
        arrays["K"],
        query_mask=masks[0],
        value_mask=masks[1],
        key_mask=masks[2],
        return_attention_scores=True,
    )
    assert_trees_close((y, s), want)


def test_mha_embedding_mask_flows_like_keras():
    tokens = np.array([[3, 1, 4, 0, 0], [2, 7, 0, 0, 0]], np.int32)
    inp = keras.Input((5,), dtype="int32")
    emb = keras.layers.Embedding(10, 6, mask_zero=True, name="emb")
    mha = keras.layers.MultiHeadAttention(2, 3, name="mha")
    e = emb(inp)
    keras_model = keras.Model(inp, mha(e, e, use_causal_mask=True))
    x = kerax.Input((5,), dtype="int32")
    ke, km = layer_from_keras(emb), layer_from_keras(mha)
    xe = ke(x)
    model = kerax.Model(x, km(xe, xe, use_causal_mask=True))
    params = {"emb": layer_weights(emb, ke)[0], "mha": layer_weights(mha, km)[0]}
    y, _, out_mask = model.apply_masked(params, {}, jnp.asarray(tokens))
    assert_trees_close(y, np.asarray(keras_model(tokens)))
    np.testing.assert_array_equal(out_mask, tokens != 0)


def test_mha_dropout_needs_key_and_is_random_only_in_training(arrays):
    mha = layers.MultiHeadAttention(2, 3, dropout=0.5)
    params, state = mha.init(KEY, spec_of(arrays["Q"]), spec_of(arrays["V"]))
    with pytest.raises(ValueError, match="needs a PRNG key"):
        mha.apply(params, state, arrays["Q"], arrays["V"], training=True)
    y_inf, _ = mha.apply(params, state, arrays["Q"], arrays["V"])
    no_dropout = layers.MultiHeadAttention(2, 3)
    assert_trees_close(
        y_inf, no_dropout.apply(params, state, arrays["Q"], arrays["V"])[0]
    )  # Inference ignores dropout.
    a, _ = mha.apply(
        params, state, arrays["Q"], arrays["V"], training=True, key=jax.random.key(1)
    )
    b, _ = mha.apply(
        params, state, arrays["Q"], arrays["V"], training=True, key=jax.random.key(1)
    )
    c, _ = mha.apply(
        params, state, arrays["Q"], arrays["V"], training=True, key=jax.random.key(2)
    )
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, y_inf)
    (_, scores), _ = mha.apply(
        params,
        state,
        arrays["Q"],
        arrays["V"],
        training=True,
        key=jax.random.key(1),
        return_attention_scores=True,
    )
    np.testing.assert_allclose(
        jnp.sum(scores, -1), 1.0, rtol=1e-5
    )  # Scores are returned before dropout.


def test_mha_regularizers_constraints_axes_match_keras(arrays, rng):
    kw = {
        "kernel_regularizer": "l2",
        "bias_regularizer": "l1",
        "activity_regularizer": keras.regularizers.L1(0.01),
    }
    kl = keras.layers.MultiHeadAttention(2, 3, use_gate=True, **kw)
    kx, (params, state) = imported(rng, kl, arrays["Q"], arrays["V"])
    kl(arrays["Q"], arrays["V"])
    _, _, aux = kx.apply_with_losses(
        params, state, jnp.asarray(arrays["Q"]), jnp.asarray(arrays["V"])
    )
    np.testing.assert_allclose(aux, sum(float(x) for x in kl.losses), rtol=1e-5)
    constrained = layers.MultiHeadAttention(
        2, 3, kernel_constraint="non_neg"
    ).constrain(params)
    assert all(bool(jnp.all(p["kernel"] >= 0)) for p in constrained.values())
    axes = kx.param_axes(params)
    assert jax.tree.structure(
        axes, is_leaf=lambda a: isinstance(a, tuple)
    ) == jax.tree.structure(params)
    assert axes["query"]["kernel"] == ("embed", "heads", "kv")
    for name, p in params.items():
        assert len(axes[name]["kernel"]) == p["kernel"].ndim


def test_mha_config_and_keras_config():
    mha = layers.MultiHeadAttention(
        2, 3, output_shape=4, attention_axes=-2, dropout=0.1, seed=3
    )
    assert mha.output_shape == (4,) and mha.attention_axes == (-2,)
    assert kerax.from_config(kerax.to_json(mha)) == mha
    kl = keras.layers.MultiHeadAttention(
        2,
        3,
        value_dim=4,
        output_shape=(2, 2),
        attention_axes=(1,),
        sliding_window=3,
        seed=1,
    )
    kx = layer_from_keras(kl)
    assert (
        kx.num_heads,
        kx.key_dim,
        kx.value_dim,
        kx.output_shape,
        kx.attention_axes,
        kx.sliding_window,
        kx.seed,
    ) == (2, 3, 4, (2, 2), (1,), 3, 1)


def test_mha_errors(arrays, rng):
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(0, 3)
    with pytest.raises(ValueError, match="key_dim"):
        layers.MultiHeadAttention(2, None)
    with pytest.raises(ValueError, match="output_shape"):
        layers.MultiHeadAttention(2, 3, output_shape="big")
    with pytest.raises(ValueError, match="flash_attention"):
        layers.MultiHeadAttention(2, 3, flash_attention=True)
    with pytest.raises(ValueError, match="sliding_window"):
        layers.MultiHeadAttention(2, 3, sliding_window=0)
    mha = layers.MultiHeadAttention(2, 3)
    with pytest.raises(TypeError, match="query` and `value"):
        mha.init(KEY, spec_of(arrays["Q"]))
    with pytest.raises(ValueError, match="except the last one"):
        mha.init(
            KEY, spec_of(arrays["Q"]), spec_of(arrays["V"]), kerax.spec((None, 6, 3))
        )
    with pytest.raises(ValueError, match="rank >= 3"):
        mha.init(KEY, kerax.spec((None, 6)), kerax.spec((None, 6)))
    with pytest.raises(ValueError, match="attention_axes"):
        layers.MultiHeadAttention(2, 3, attention_axes=-1).init(
            KEY, spec_of(arrays["Q"]), spec_of(arrays["V"])
        )
    with pytest.raises(ValueError, match="attention_axes"):
        layers.MultiHeadAttention(2, 3, attention_axes=0).init(
            KEY, spec_of(arrays["Q"]), spec_of(arrays["V"])
        )
    params, state = mha.init(KEY, spec_of(arrays["Q"]), spec_of(arrays["V"]))
    with pytest.raises(ValueError, match="positionally"):
        mha.apply(params, state, arrays["Q"], arrays["V"], key_input=arrays["K"])
    x = randn(rng, 2, 3, 4, 5)
    multi = layers.MultiHeadAttention(2, 3, attention_axes=(1, 2))
    params, state = multi.init(KEY, spec_of(x), spec_of(x))
    with pytest.raises(ValueError, match="use_causal_mask need"):
        multi.apply(params, state, x, x, use_causal_mask=True)
    with pytest.raises(ValueError, match="query mask, value mask need"):
        multi.apply(params, state, x, x, mask=(jnp.ones((2, 3, 4), bool),) * 2)


# --------------------------------------------------- GroupedQueryAttention


def test_gqa_contract(arrays):
    gqa = layers.GroupQueryAttention(2, 4, 2, use_gate=True, dropout=0.3)
    check_layer(
        gqa,
        spec_of(arrays["QG"]),
        spec_of(arrays["V"]),
        spec_of(arrays["K"]),
        batch=2,
        return_attention_scores=True,
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2},
        {
            "head_dim": 2,
            "num_query_heads": 3,
            "num_key_value_heads": 1,
            "use_gate": True,
            "use_bias": False,
        },
        {
            "head_dim": 2,
            "num_query_heads": 2,
            "num_key_value_heads": 2,
            "sliding_window": 2,
            "dropout": 0.5,
        },
    ],
)
def test_gqa_keras_parity(kwargs, arrays, rng):
    kl = keras.layers.GroupQueryAttention(**kwargs)
    assert type(layer_from_keras(kl)) is layers.GroupedQueryAttention
    kx, (params, state) = imported(rng, kl, arrays["QG"], arrays["V"], arrays["K"])
    for kw in (
        {},
        {"return_attention_scores": True},
        {"use_causal_mask": True},
        {"use_causal_mask": True, "return_attention_scores": True},
        {"value_mask": V_MASK, "key_mask": K_MASK},
        {
            "query_mask": Q_MASK,
            "attention_mask": rng.random((2, 4, 5)) > 0.3,
            "return_attention_scores": True,
        },
    ):
        ours = {
            k: jnp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()
        }
        compare(
            kx, params, state, kl, (arrays["QG"], arrays["V"], arrays["K"]), kw, ours
        )
    # Self-attention: key defaults to value.
    kl = keras.layers.GroupQueryAttention(**kwargs)
    kx, (params, state) = imported(rng, kl, arrays["QG"], arrays["QG"])
    compare(
        kx,
        params,
        state,
        kl,
        (arrays["QG"], arrays["QG"]),
        {"use_causal_mask": True},
        {"use_causal_mask": True},
    )
    compare(
        kx,
        params,
        state,
        kl,
        (arrays["QG"], arrays["QG"]),
        {"value_mask": Q_MASK},
        {"value_mask": jnp.asarray(Q_MASK)},
    )


def test_gqa_activity_regularizer_and_container_masks(arrays, rng):
    kl = keras.layers.GroupQueryAttention(
        2, 2, 1, activity_regularizer="l2", kernel_regularizer="l1"
    )
    kx, (params, state) = imported(rng, kl, arrays["QG"], arrays["V"])
    kl(arrays["QG"], arrays["V"])
    _, _, aux = kx.apply_with_losses(
        params, state, jnp.asarray(arrays["QG"]), jnp.asarray(arrays["V"])
    )
    np.testing.assert_allclose(aux, sum(float(x) for x in kl.losses), rtol=1e-5)
    y, _, out_mask = kx.apply_masked(
        params,
        state,
        arrays["QG"],
        arrays["V"],
        mask=(jnp.asarray(Q_MASK), jnp.asarray(V_MASK)),
    )
    want, _ = kx.apply(
        params,
        state,
        arrays["QG"],
        arrays["V"],
        query_mask=jnp.asarray(Q_MASK),
        value_mask=jnp.asarray(V_MASK),
    )
    assert_trees_close(y, want)
    np.testing.assert_array_equal(out_mask, Q_MASK)


def test_gqa_errors_and_config(arrays):
    with pytest.raises(ValueError, match="divisible"):
        layers.GroupQueryAttention(2, 3, 2)
    with pytest.raises(ValueError, match="head_dim"):
        layers.GroupQueryAttention(0, 2, 2)
    gqa = layers.GroupQueryAttention(2, 4, 2)
    with pytest.raises(ValueError, match="must be equal"):
        gqa.init(KEY, spec_of(arrays["Q"]), kerax.spec((None, 5, 5)))
    with pytest.raises(ValueError, match="rank 3"):
        gqa.init(KEY, kerax.spec((None, 2, 3, 4)), kerax.spec((None, 2, 3, 4)))
    params, state = gqa.init(KEY, spec_of(arrays["QG"]), spec_of(arrays["V"]))
    with pytest.raises(ValueError, match="needs a PRNG key"):
        layers.GroupQueryAttention(2, 4, 2, dropout=0.1).apply(
            params, state, arrays["QG"], arrays["V"], training=True
        )
    assert kerax.from_config(kerax.to_json(gqa)) == gqa


# --------------------------------------------- Attention, AdditiveAttention


def score_parity(rng, kl, inputs, kwargs_list):
    kx, (params, state) = imported(rng, kl, inputs)
    for kw in kwargs_list:
        want = kl(inputs, **kw)
        ours = dict(kw)
        if "mask" in kw:
            ours["mask"] = [None if m is None else jnp.asarray(m) for m in kw["mask"]]
        got, _ = kx.apply(params, state, [jnp.asarray(x) for x in inputs], **ours)
        assert_trees_close(
            got, jax.tree.map(np.asarray, want), what=f"{kx.describe()} {kw}"
        )
    return kx, params, state


ATTENTION_CALLS = [
    {},
    {"return_attention_scores": True},
    {"use_causal_mask": True},
    {"mask": [Q_MASK, V_MASK]},
    {"mask": [None, V_MASK], "use_causal_mask": True, "return_attention_scores": True},
    {"mask": [Q_MASK, None]},
]


@pytest.mark.parametrize(
    "keras_layer,three",
    [
        (lambda: keras.layers.Attention(), False),
        (lambda: keras.layers.Attention(use_scale=True), False),
        (lambda: keras.layers.Attention(score_mode="concat"), False),
        (
            lambda: keras.layers.Attention(
                use_scale=True, score_mode="concat", dropout=0.3
            ),
            True,
        ),
        (lambda: keras.layers.AdditiveAttention(), False),
        (lambda: keras.layers.AdditiveAttention(use_scale=False, dropout=0.3), True),
    ],
)
def test_score_attention_keras_parity_and_contract(keras_layer, three, arrays, rng):
    inputs = (
        [arrays["QA"], arrays["VA"], arrays["KA"]]
        if three
        else [arrays["QA"], arrays["VA"][..., :3]]
    )
    kx, params, _ = score_parity(rng, keras_layer(), inputs, ATTENTION_CALLS)
    assert set(params) == ({"scale"} if kx.use_scale else set()) | (
        {"concat_score_weight"} if getattr(kx, "score_mode", "") == "concat" else set()
    )
    if three:
        check_layer(kx, [spec_of(x) for x in inputs], batch=2)


def test_score_attention_masks_in_models(arrays):
    q, v = kerax.Input((4, 3)), kerax.Input((5, 3))
    att = layers.Attention(name="att")
    out, scores = att([q, v], return_attention_scores=True)
    model = kerax.Model([q, v], [out, scores])
    params, state = model.init(KEY, [spec_of(arrays["QA"]), spec_of(arrays["KA"])])
    (y, s), _, masks = model.apply_masked(
        params,
        state,
        [arrays["QA"], arrays["KA"]],
        mask=[jnp.asarray(Q_MASK), jnp.asarray(V_MASK)],
    )
    np.testing.assert_array_equal(masks[0], Q_MASK)
    assert masks[1] is None
    assert float(jnp.abs(y[~Q_MASK]).max()) == 0.0  # Masked queries output zeros.
    assert float(jnp.abs(s[0, :, 2:]).max()) < 1e-6  # Masked values get no weight.


def test_score_attention_dropout_statistics():
    att = layers.Attention(dropout=0.25)
    q, v = jnp.zeros((64, 16, 4)), jnp.ones((64, 32, 4))  # Uniform weights 1/32.
    params, state = att.init(KEY, [spec_of(q), spec_of(v)])
    with pytest.raises(ValueError, match="needs a PRNG key"):
        att.apply(params, state, [q, v], training=True)
    np.testing.assert_allclose(
        att.apply(params, state, [q, v])[0], 1.0, rtol=1e-6
    )  # Inference: no dropout.
    (y, w), _ = att.apply(
        params, state, [q, v], training=True, key=KEY, return_attention_scores=True
    )
    assert abs(float(jnp.mean(w == 0)) - 0.25) < 0.01
    assert (
        abs(float(jnp.mean(y)) - 1.0) < 0.01
    )  # Kept weights are scaled by 1 / (1 - rate).


def test_score_attention_errors_and_config(arrays):
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="general")
    with pytest.raises(ValueError, match="dropout"):
        layers.AdditiveAttention(dropout=1.5)
    att = layers.Attention()
    with pytest.raises(ValueError, match="list of inputs"):
        att.init(KEY, spec_of(arrays["QA"]))
    with pytest.raises(ValueError, match="2 or 3"):
        att.init(KEY, [spec_of(arrays["QA"])])
    with pytest.raises(ValueError, match="same last dimension"):
        att.init(KEY, [spec_of(arrays["QA"]), spec_of(arrays["VA"])])
    params, state = att.init(KEY, [spec_of(arrays["QA"]), spec_of(arrays["KA"])])
    with pytest.raises(ValueError, match="mask"):
        att.apply(params, state, [arrays["QA"], arrays["KA"]], mask=jnp.asarray(Q_MASK))
    add = layers.AdditiveAttention(use_scale=False, dropout=0.1, seed=2)
    assert kerax.from_config(kerax.to_json(add)) == add
    assert "score_mode" not in add.get_config()


def test_strict_rank_promotion(arrays, rng):
    masks = (jnp.asarray(Q_MASK), jnp.asarray(V_MASK), jnp.asarray(K_MASK))
    for layer, inputs, kw in (
        (
            layers.MultiHeadAttention(2, 3, value_dim=2),
            (arrays["Q"], arrays["V"], arrays["K"]),
            {"use_causal_mask": True},
        ),
        (
            layers.MultiHeadAttention(2, 3, attention_axes=(1, 2)),
            (randn(rng, 2, 3, 2, 4),) * 2,
            {"return_attention_scores": True},
        ),
        (
            layers.GroupQueryAttention(2, 2, 1, sliding_window=2),
            (arrays["QG"], arrays["V"]),
            {"return_attention_scores": True},
        ),
    ):
        params, state = layer.init(KEY, *[spec_of(x) for x in inputs])
        mask = masks[: len(inputs)] if inputs[0].ndim == 3 else None
        check_strict_promotion(layer, params, state, *inputs, mask=mask, **kw)
    for layer in (
        layers.Attention(use_scale=True, score_mode="concat"),
        layers.AdditiveAttention(),
    ):
        params, state = layer.init(KEY, [spec_of(arrays["QA"]), spec_of(arrays["KA"])])
        check_strict_promotion(
            layer,
            params,
            state,
            [arrays["QA"], arrays["KA"]],
            mask=[jnp.asarray(Q_MASK), jnp.asarray(V_MASK)],
            use_causal_mask=True,
        )


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in kerax.layers.attention.__all__
        if isinstance(getattr(kerax.layers, n), type)
    ],
)
def test_every_argument_is_documented(name):
    cls = getattr(kerax.layers, name)
    assert "Example:" in cls.__doc__, f"{name} has no Example section"
    assert undocumented_args(cls) == [], f"{name}'s Args section misses these fields"
