"""ReversibleEmbedding, the Wrapper base class and Pipeline, against Keras."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from keras.src.backend.common.masking import get_keras_mask

import kerax
from kerax import layers
from kerax.core import naming
from kerax.interop import layer_from_keras, layer_weights
from kerax.testing import check_layer, keras_parity

KEY = jax.random.key(0)
IDS = kerax.spec((None, 4), "int32")


def _randomize(keras_layer, rng):
    """Random values for every float variable, so that tying and LoRA show."""
    for v in keras_layer.weights:
        v.assign(rng.normal(size=v.shape).astype("float32"))


# --------------------------------------------------------- ReversibleEmbedding
def test_reversible_embedding_contract():
    # The forward call is Embedding's (checked with it); this checks reverse.
    check_layer(
        layers.ReversibleEmbedding(7, 3, tie_weights=False, logit_soft_cap=5.0),
        kerax.spec((None, 3)),
        reverse=True,
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mask_zero": True},
        {"tie_weights": False, "logit_soft_cap": 2.0},
        # Keras 3.15 cannot build an untied layer with LoRA (its Embedding.build
        # enables LoRA, which locks the layer before `reverse_embeddings` exists).
        {"lora_rank": 2, "lora_alpha": 4.0, "logit_soft_cap": 3.0},
    ],
    ids=["tied_mask", "untied_cap", "tied_lora_cap"],
)
def test_reversible_embedding_matches_keras(kwargs, rng):
    kl = keras.layers.ReversibleEmbedding(9, 4, **kwargs)
    ids = np.array([[0, 3, 8, 1], [2, 0, 0, 5]], np.int32)
    kl(ids)
    _randomize(kl, rng)  # LoRA's `b` starts at zero in both libraries.
    kx = layer_from_keras(kl)
    params, state = layer_weights(kl, kx, spec=(IDS,))
    assert kx.tie_weights == kwargs.get("tie_weights", True)
    assert ("reverse_embeddings" in params) != kx.tie_weights
    if kx.lora_rank:
        assert "embeddings" in state and "lora_embeddings_a" in params
    keras_parity(kl, ids, layer=kx, params=params, state=state, training_modes=(False,))
    hidden = rng.normal(size=(2, 4, 4)).astype(np.float32)
    keras_parity(
        kl,
        hidden,
        layer=kx,
        params=params,
        state=state,
        training_modes=(False,),
        call_kwargs={"reverse": True},
    )
    # The padding mask rides on forward outputs only, as in Keras.
    want_mask = get_keras_mask(kl(ids))
    _, _, got_mask = kx.apply_masked(params, state, jnp.asarray(ids))
    if want_mask is None:
        assert got_mask is None and not kx.mask_zero
    else:
        np.testing.assert_array_equal(got_mask, np.asarray(want_mask))
    assert kx.compute_mask(jnp.asarray(hidden), reverse=True) is None


def test_reversible_embedding_reverse_dtype_matches_keras(rng):
    kl = keras.layers.ReversibleEmbedding(9, 4, reverse_dtype="bfloat16")
    kl.build()
    kx = layer_from_keras(kl)
    assert kx.reverse_dtype == "bfloat16"
    params, state = layer_weights(kl, kx, spec=(IDS,))
    hidden = rng.normal(size=(3, 4)).astype(np.float32)
    want = np.asarray(kl(hidden, reverse=True))
    got, _ = kx.apply(params, state, jnp.asarray(hidden), reverse=True)
    assert got.dtype == jnp.bfloat16 and want.dtype == got.dtype
    np.testing.assert_allclose(np.float32(got), np.float32(want), atol=1e-2)


def test_reversible_embedding_activity_loss_on_logits_matches_keras(rng):
    kl = keras.layers.ReversibleEmbedding(9, 4, activity_regularizer="l2")
    kl.build()
    hidden = rng.normal(size=(2, 4)).astype(np.float32)
    kl(hidden, reverse=True)  # Keras regularizes every call's outputs.
    kx = layer_from_keras(kl)
    params, state = layer_weights(kl, kx)
    _, _, loss = kx.apply_with_losses(params, state, jnp.asarray(hidden), reverse=True)
    np.testing.assert_allclose(loss, float(sum(kl.losses)), rtol=1e-5)


@pytest.mark.parametrize("tie_weights", [True, False])
def test_reversible_embedding_language_model_through_keras_files(
    tie_weights, tmp_path, rng
):
    # One layer called forward and in reverse: one set of weights, in a
    # functional model imported live and through `.keras` both ways.
    def lm(lib):
        emb = lib.layers.ReversibleEmbedding(6, 3, tie_weights=tie_weights)
        x = lib.Input((4,), dtype="int32")
        return lib.Model(x, emb(lib.layers.Dense(3)(emb(x)), reverse=True))

    km = lm(keras)
    _randomize(km, rng)
    ids = rng.integers(0, 6, (2, 4)).astype(np.int32)
    want = np.asarray(km(ids))
    model, params, state = kerax.interop.from_keras(km)
    np.testing.assert_allclose(model.apply(params, state, ids)[0], want, atol=1e-6)
    km.save(tmp_path / "keras.keras")
    model, params, state = kerax.load_model(tmp_path / "keras.keras")
    np.testing.assert_allclose(model.apply(params, state, ids)[0], want, atol=1e-6)
    ours = lm(kerax)
    p, s = ours.init(KEY)
    got = ours.apply(p, s, ids)[0]
    kerax.save_model(tmp_path / "kerax.keras", ours, p, s)
    reread = keras.saving.load_model(tmp_path / "kerax.keras")
    np.testing.assert_allclose(np.asarray(reread(ids)), got, atol=1e-6)


def test_reversible_embedding_params_and_config():
    tied = layers.ReversibleEmbedding(5, 2)
    untied = layers.ReversibleEmbedding(5, 2, tie_weights=False)
    p_tied, _ = tied.init(KEY, IDS)
    p_untied, _ = untied.init(KEY, IDS)
    # The reverse table has its own key: the embeddings match the tied layer's.
    np.testing.assert_array_equal(p_tied["embeddings"], p_untied["embeddings"])
    assert p_untied["reverse_embeddings"].shape == (2, 5)
    assert not np.allclose(p_untied["reverse_embeddings"], p_untied["embeddings"].T)
    assert untied.param_axes(p_untied)["reverse_embeddings"] == ("embed", "vocab")
    # With LoRA the table is frozen (state); the untied projection still trains.
    lora = layers.ReversibleEmbedding(5, 2, tie_weights=False, lora_rank=1)
    p_lora, s_lora = lora.init(KEY, IDS)
    assert set(p_lora) == {
        "lora_embeddings_a",
        "lora_embeddings_b",
        "reverse_embeddings",
    }
    assert set(s_lora) == {"embeddings"}
    # The reverse projection trains the tied table, or only the untied one.
    hidden = jnp.ones((1, 2))
    g_tied = jax.grad(lambda p: tied.apply(p, {}, hidden, reverse=True)[0].sum())(
        p_tied
    )
    g_untied = jax.grad(lambda p: untied.apply(p, {}, hidden, reverse=True)[0].sum())(
        p_untied
    )
    assert np.all(g_tied["embeddings"] != 0)
    assert not np.any(g_untied["embeddings"]) and np.all(g_untied["reverse_embeddings"])
    for layer in (
        tied,
        untied,
        layers.ReversibleEmbedding(5, 2, reverse_dtype="float16"),
    ):
        assert kerax.from_config(kerax.serialize(layer)) == layer
    assert (
        layers.ReversibleEmbedding(5, 2, reverse_dtype=jnp.float16).reverse_dtype
        == "float16"
    )
    assert isinstance(tied, layers.Embedding)
    assert tied.output_spec(kerax.spec((None, 4, 2)), reverse=True).shape[-1] == 5


def test_reversible_embedding_errors():
    with pytest.raises(TypeError, match="pass `tie_weights=False` by keyword"):
        layers.ReversibleEmbedding(5, 2, False)
    with pytest.raises(
        ValueError,
        match="ReversibleEmbedding 'reversible_embedding': argument `logit_soft_cap`: "
        "expected None or a positive number, got 0",
    ):
        layers.ReversibleEmbedding(5, 2, logit_soft_cap=0)
    with pytest.raises(TypeError, match="`tie_weights` must be a bool"):
        layers.ReversibleEmbedding(5, 2, tie_weights="yes")
    with pytest.raises(TypeError, match="argument `reverse_dtype`"):
        layers.ReversibleEmbedding(5, 2, reverse_dtype="float99")
    emb = layers.ReversibleEmbedding(5, 2, name="tokens")
    p, s = emb.init(KEY, IDS)
    with pytest.raises(
        ValueError,
        match=r"ReversibleEmbedding 'tokens': reverse=True projects hidden states of size "
        r"output_dim=2 to logits; got inputs \(1, 3\)",
    ):
        emb.apply(p, s, jnp.ones((1, 3)), reverse=True)


# ------------------------------------------------------------------- Wrapper
@kerax.register(package="kerax_wrapper_test")
class Residual(layers.Wrapper):
    """The docstring's custom wrapper: `x + layer(x)` (Keras's twin is in a test below)."""

    def call(self, params, state, x, *, key, training):
        return x + self.layer(x), state


class ScaledBatchNorm(layers.Wrapper):
    """Threads the wrapped layer's params and state by hand, TimeDistributed-style."""

    scale: float = 2.0

    def call(self, params, state, x, *, key, training):
        name = self.sublayer_name(self.layer)
        y, inner = self.layer.apply(
            params[name], state[name], x, key=key, training=training
        )
        return self.scale * y, {**state, name: inner}


def test_wrapper_subclasses(rng):
    x = jnp.asarray(rng.normal(size=(2, 3)).astype(np.float32))
    res = Residual(layers.Dense(3, name="proj"))
    params, state = res.init(KEY, kerax.spec((None, 3)))
    assert list(params) == ["proj"] and state == {}
    want, _ = layers.Dense(3).apply(params["proj"], {}, x)
    y, _ = jax.jit(res.apply)(params, state, x)
    np.testing.assert_allclose(y, x + want, atol=1e-6)
    assert res.output_spec(kerax.spec((None, 3))).shape == kerax.spec((None, 3)).shape
    restored = kerax.from_config(kerax.to_json(res))
    assert (
        restored == res and restored.get_config()["layer"]["config"]["name"] == "proj"
    )

    bn = ScaledBatchNorm(layers.BatchNormalization(), scale=3.0)
    params, state = bn.init(KEY, kerax.spec((None, 3)))
    assert set(state) == {"batch_normalization"}
    y, new_state = bn.apply(params, state, x, training=True)
    ref, ref_state = layers.BatchNormalization().apply(
        params["batch_normalization"], state["batch_normalization"], x, training=True
    )
    np.testing.assert_allclose(y, 3.0 * ref, atol=1e-6)
    jax.tree.map(
        np.testing.assert_allclose, new_state["batch_normalization"], ref_state
    )
    assert isinstance(layers.TimeDistributed(layers.Dense(2)), layers.Wrapper)
    assert isinstance(layers.Bidirectional(layers.GRU(2)), layers.Wrapper)
    assert isinstance(layers.SpectralNormalization(layers.Dense(2)), layers.Wrapper)


def test_wrapper_subclass_imports_from_keras(rng):
    # A user's wrapper registered in both libraries under one name comes
    # across from Keras with no converter: its `layer` converts as any does.
    @keras.saving.register_keras_serializable(package="kerax_wrapper_test")
    class Residual(keras.layers.Wrapper):
        def call(self, x):
            return x + self.layer(x)

    inputs = keras.Input((3,))
    km = keras.Model(inputs, Residual(keras.layers.Dense(3), name="residual")(inputs))
    _randomize(km, rng)
    x = rng.normal(size=(2, 3)).astype(np.float32)
    model, params, state = kerax.interop.from_keras(km)
    assert type(model.get_layer("residual")).__module__ == __name__
    np.testing.assert_allclose(model.apply(params, state, x)[0], km(x), atol=1e-6)


def test_wrapper_errors():
    with pytest.raises(
        TypeError,
        match="Residual 'residual': argument `layer`: expected a kerax layer instance to "
        "wrap, got 'dense'",
    ):
        Residual("dense")
    plain = layers.Wrapper(layers.Dense(2))
    params, state = plain.init(KEY, kerax.spec((None, 3)))
    with pytest.raises(NotImplementedError, match="Wrapper must implement call"):
        plain.apply(params, state, jnp.ones((1, 3)))


# ------------------------------------------------------------------ Pipeline
def test_pipeline_matches_keras(tmp_path, rng):
    kp = keras.layers.Pipeline(
        [
            # Named: Keras's automatic names count per process.
            keras.layers.Rescaling(0.5, offset=1.0, name="rescaling"),
            keras.layers.Resizing(3, 3, name="resizing"),
            keras.layers.Normalization(name="normalization"),
        ]
    )
    inputs = keras.Input((5, 5, 2))
    km = keras.Model(inputs, kp(inputs))
    kp.layers[2].adapt(rng.normal(size=(4, 3, 3, 2)).astype(np.float32))
    images = rng.normal(size=(2, 5, 5, 2)).astype(np.float32)
    want = np.asarray(km(images))
    # The layer alone, then in a model imported live and from Keras's file.
    kx, params, state = keras_parity(kp, images, training_modes=(False, True))
    assert [n for n, _ in kx.children()] == ["rescaling", "resizing", "normalization"]
    assert params == {} and set(state["normalization"]) == {"mean", "variance", "count"}
    model, params, state = kerax.interop.from_keras(km)
    np.testing.assert_allclose(model.apply(params, state, images)[0], want, atol=1e-5)
    km.save(tmp_path / "keras.keras")
    model, params, state = kerax.load_model(tmp_path / "keras.keras")
    np.testing.assert_allclose(model.apply(params, state, images)[0], want, atol=1e-5)
    kerax.save_model(tmp_path / "kerax.keras", model, params, state)
    reread = keras.saving.load_model(tmp_path / "kerax.keras")
    np.testing.assert_allclose(np.asarray(reread(images)), want, atol=1e-5)


def test_pipeline_randomness_per_layer_key(rng):
    flip, flip_again = layers.RandomFlip(), layers.RandomFlip()
    brightness = layers.RandomBrightness(0.3, value_range=(0, 1))
    pipeline = layers.Pipeline([flip, brightness, flip_again])
    names = [n for n, _ in pipeline.children()]
    assert names == ["random_flip", "random_brightness", "random_flip_1"]
    x = jnp.asarray(rng.uniform(size=(8, 4, 4, 3)).astype(np.float32))
    params, state = pipeline.init(KEY, kerax.spec((None, 4, 4, 3)))
    run = jax.jit(lambda k: pipeline.apply(params, state, x, key=k, training=True)[0])
    y, y_again, y_other = run(KEY), run(KEY), run(jax.random.key(1))
    np.testing.assert_array_equal(y, y_again)
    assert not np.allclose(y, y_other)
    # Each layer draws with its own key, fold_in(key, crc32(name)).
    want = x
    for name, layer in zip(names, (flip, brightness, flip_again)):
        want, _ = layer.apply(
            {}, {}, want, key=naming.child_key(KEY, name), training=True
        )
    np.testing.assert_array_equal(y, want)
    # Inference: the identity (these layers' Keras behaviour), no key needed.
    np.testing.assert_array_equal(pipeline.apply(params, state, x)[0], x)
    with pytest.raises(ValueError, match="RandomFlip 'random_flip' is random"):
        pipeline.apply(params, state, x, training=True)


def test_pipeline_params_config_and_mask(rng):
    pipeline = layers.Pipeline([layers.Rescaling(2.0), layers.Dense(3)], name="prep")
    params, state = pipeline.init(KEY, kerax.spec((None, 4)))
    x = jnp.asarray(rng.normal(size=(2, 4)).astype(np.float32))
    y, _ = jax.jit(pipeline.apply)(params, state, x)
    want, _ = layers.Dense(3).apply(params["dense"], {}, 2.0 * x)
    np.testing.assert_allclose(y, want, atol=1e-6)
    assert pipeline.output_spec(kerax.spec((None, 4))).shape == (
        kerax.spec((None, 3)).shape
    )
    assert kerax.from_config(kerax.to_json(pipeline)) == pipeline
    assert pipeline.get_config()["layers"][1]["class_name"] == "Dense"
    masked = layers.Pipeline([layers.Embedding(5, 2, mask_zero=True), layers.Dense(3)])
    p, s = masked.init(KEY, IDS)
    _, _, mask = masked.apply_masked(p, s, jnp.array([[1, 0, 2, 0]]))
    np.testing.assert_array_equal(mask, [[True, False, True, False]])
    empty = layers.Pipeline([])
    y, _ = empty.apply(*empty.init(KEY, kerax.spec((None, 2))), jnp.ones((1, 2)))
    assert y.shape == (1, 2)


def test_pipeline_errors():
    with pytest.raises(
        ValueError,
        match="Pipeline 'pipeline': argument `layers`: expected a list of kerax layers",
    ):
        layers.Pipeline(layers.Rescaling(2.0))
    with pytest.raises(ValueError, match="item 1 is not a kerax layer: 'flip'"):
        layers.Pipeline([layers.Rescaling(2.0), "flip"])
