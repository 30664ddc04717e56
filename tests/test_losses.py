"""Keras-parity tests for kerax.losses.

Every loss class is compared with `keras.losses.<Class>` on the same random
inputs, for every reduction, with and without sample weights, with its main
options; the function forms are compared with the Keras functions. Tolerance:
1e-5 relative (plus 1e-6 absolute for values near zero), float32.
"""

import dataclasses

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from keras.src.backend.common.masking import set_keras_mask

from kerax import losses

B, D, C, T = 6, 4, 5, 3
RTOL, ATOL = 1e-5, 1e-6
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"]


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def make_inputs(kind, seed=0):
    """(y_true, y_pred) as float32 numpy arrays for one input family."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    if kind == "regression":
        return rng.normal(size=(B, D)).astype(f32), rng.normal(size=(B, D)).astype(f32)
    if kind == "regression3d":
        shape = (B, T, D)
        return rng.normal(size=shape).astype(f32), rng.normal(size=shape).astype(f32)
    if kind == "regression1d":
        return rng.normal(size=(B,)).astype(f32), rng.normal(size=(B, 1)).astype(f32)
    if kind == "positive":
        y_true = rng.uniform(0.0, 3.0, size=(B, D)).astype(f32)
        return y_true, rng.uniform(0.05, 3.0, size=(B, D)).astype(f32)
    if kind == "binary":
        y_true = rng.integers(0, 2, size=(B, D)).astype(f32)
        return y_true, rng.uniform(0.01, 0.99, size=(B, D)).astype(f32)
    if kind == "binary_logits":
        y_true = rng.integers(0, 2, size=(B, D)).astype(f32)
        return y_true, rng.normal(scale=2.0, size=(B, D)).astype(f32)
    if kind == "signed":
        y_true = rng.choice([-1.0, 1.0], size=(B, D)).astype(f32)
        return y_true, rng.normal(size=(B, D)).astype(f32)
    if kind == "categorical":
        y_true = np.eye(C, dtype=f32)[rng.integers(0, C, size=B)]
        return y_true, _softmax(rng.normal(size=(B, C))).astype(f32)
    if kind == "categorical_logits":
        y_true = np.eye(C, dtype=f32)[rng.integers(0, C, size=B)]
        return y_true, rng.normal(scale=2.0, size=(B, C)).astype(f32)
    if kind == "categorical3d":
        y_true = np.eye(C, dtype=f32)[rng.integers(0, C, size=(B, T))]
        return y_true, _softmax(rng.normal(size=(B, T, C))).astype(f32)
    if kind == "soft":
        return (
            _softmax(rng.normal(size=(B, C))).astype(f32),
            _softmax(rng.normal(size=(B, C))).astype(f32),
        )
    if kind == "sparse":
        y_true = rng.integers(0, C, size=(B,)).astype(f32)
        return y_true, _softmax(rng.normal(size=(B, C))).astype(f32)
    if kind == "sparse_col":
        y_true = rng.integers(0, C, size=(B, 1)).astype(f32)
        return y_true, _softmax(rng.normal(size=(B, C))).astype(f32)
    if kind == "sparse_logits":
        y_true = rng.integers(0, C, size=(B,)).astype(f32)
        return y_true, rng.normal(scale=2.0, size=(B, C)).astype(f32)
    if kind == "sparse3d":
        y_true = rng.integers(0, C, size=(B, T)).astype(f32)
        return y_true, rng.normal(size=(B, T, C)).astype(f32)
    if kind == "embeddings":
        y_true = rng.integers(0, 3, size=(B,)).astype(f32)
        e = rng.normal(size=(B, D)).astype(f32)
        return y_true, e / np.linalg.norm(e, axis=-1, keepdims=True)
    if kind == "ctc":
        labels = rng.integers(1, C, size=(B, 4))
        lengths = rng.integers(1, 5, size=(B,))
        labels = np.where(np.arange(4)[None, :] < lengths[:, None], labels, 0)
        return labels.astype(f32), rng.normal(size=(B, 8, C)).astype(f32)
    raise ValueError(kind)


# (class name, constructor options, input family)
CLASS_CASES = [
    ("MeanSquaredError", {}, "regression"),
    ("MeanSquaredError", {}, "regression3d"),
    ("MeanSquaredError", {}, "regression1d"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("CosineSimilarity", {}, "regression"),
    ("CosineSimilarity", {"axis": 1}, "regression3d"),
    ("Huber", {}, "regression"),
    ("Huber", {"delta": 0.5}, "regression3d"),
    ("LogCosh", {}, "regression"),
    ("Hinge", {}, "binary_logits"),
    ("Hinge", {}, "signed"),
    ("SquaredHinge", {}, "binary_logits"),
    ("SquaredHinge", {}, "signed"),
    ("CategoricalHinge", {}, "categorical_logits"),
    ("KLDivergence", {}, "soft"),
    ("Poisson", {}, "positive"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True}, "binary_logits"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "axis": 0}, "binary_logits"),
    ("BinaryFocalCrossentropy", {}, "binary"),
    (
        "BinaryFocalCrossentropy",
        {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.5},
        "binary",
    ),
    (
        "BinaryFocalCrossentropy",
        {"from_logits": True, "label_smoothing": 0.2},
        "binary_logits",
    ),
    ("CategoricalCrossentropy", {}, "categorical"),
    ("CategoricalCrossentropy", {"from_logits": True}, "categorical_logits"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "categorical"),
    ("CategoricalCrossentropy", {"from_logits": True, "axis": 0}, "categorical_logits"),
    ("CategoricalCrossentropy", {}, "categorical3d"),
    ("CategoricalFocalCrossentropy", {}, "categorical"),
    (
        "CategoricalFocalCrossentropy",
        {"alpha": 0.5, "gamma": 1.0, "from_logits": True, "label_smoothing": 0.1},
        "categorical_logits",
    ),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {}, "sparse_col"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse3d"),
    (
        "SparseCategoricalCrossentropy",
        {"from_logits": True, "ignore_class": 1},
        "sparse3d",
    ),
    ("CategoricalGeneralizedCrossEntropy", {}, "sparse"),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.2}, "sparse"),
    ("CTC", {}, "ctc"),
    ("Dice", {}, "binary"),
    ("Dice", {"axis": 1}, "binary"),
    ("Tversky", {}, "binary"),
    ("Tversky", {"alpha": 0.3, "beta": 0.7, "axis": (1,)}, "binary"),
    ("Circle", {}, "embeddings"),
    ("Circle", {"gamma": 10.0, "margin": 0.2, "remove_diagonal": False}, "embeddings"),
]


def _case_id(case):
    name, options, kind = case
    opts = ",".join(f"{k}={v}" for k, v in options.items())
    return f"{name}[{opts}]-{kind}"


def _weights(y_true, variant):
    rng = np.random.default_rng(1)
    if variant is None:
        return None
    if variant == "batch":
        return rng.uniform(0.1, 2.0, size=(y_true.shape[0],)).astype(np.float32)
    if variant == "batch_col":
        return rng.uniform(0.1, 2.0, size=(y_true.shape[0], 1)).astype(np.float32)
    if variant == "full":  # One weight per time step for 3-D inputs.
        return rng.uniform(0.1, 2.0, size=y_true.shape[:2]).astype(np.float32)
    raise ValueError(variant)


def assert_close(actual, expected, rtol=RTOL, atol=ATOL, err_msg=""):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape, err_msg)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=err_msg)


def test_all_keras_losses_covered():
    keras_classes = {
        n
        for n in dir(keras.losses)
        if isinstance(getattr(keras.losses, n), type) and n != "Loss"
    }
    assert keras_classes == {cls.__name__ for cls in losses.LOSS_CLASSES}
    assert {case[0] for case in CLASS_CASES} == keras_classes
    keras_functions = {
        n
        for n in dir(keras.losses)
        if callable(getattr(keras.losses, n))
        and not isinstance(getattr(keras.losses, n), type)
        and n not in ("get", "serialize", "deserialize")
    }
    assert keras_functions == {fn.__name__ for fn in losses.LOSS_FUNCTIONS}


# CTC runs a `lax.scan` that Keras recompiles on every eager call: one
# weighted and one unreduced comparison keep the file fast.
SLOW_CASES = {"CTC"}


@pytest.mark.parametrize("case", CLASS_CASES, ids=_case_id)
def test_class_matches_keras(case):
    """Every reduction, with and without sample weights, against Keras."""
    name, options, kind = case
    y_true, y_pred = make_inputs(kind)
    grid = [(r, w) for r in REDUCTIONS + [None] for w in (None, "batch")]
    # Other weight shapes (a trailing 1, one weight per time step) once.
    grid += [("sum_over_batch_size", "batch_col"), ("sum_over_batch_size", "full")]
    if name in SLOW_CASES:
        grid = [("none", None), ("sum_over_batch_size", "batch")]
    for reduction, variant in grid:
        ours = getattr(losses, name)(reduction=reduction, **options)
        theirs = getattr(keras.losses, name)(reduction=reduction, **options)
        sw = _weights(y_true, variant)
        try:
            expected = theirs(y_true, y_pred, sample_weight=sw)
        except (ValueError, TypeError):
            # Keras does not broadcast these weights; neither do we.
            with pytest.raises((ValueError, TypeError)):
                ours(y_true, y_pred, sample_weight=sw)
            continue
        actual = ours(y_true, y_pred, sample_weight=sw)
        assert_close(actual, expected, err_msg=f"{reduction=}, {variant=}")


@pytest.mark.parametrize(
    "name", [cls.__name__ for cls in losses.LOSS_CLASSES if cls.__name__ != "Circle"]
)
def test_class_jit_and_grad(name, strict_promotion):
    """One jitted value-and-grad per class; the value matches Keras."""
    case = next(c for c in CLASS_CASES if c[0] == name)
    _, options, kind = case
    y_true, y_pred = make_inputs(kind)
    loss = getattr(losses, name)(**options)
    value, grad = jax.jit(jax.value_and_grad(lambda p: loss(y_true, p)))(y_pred)
    with jax.numpy_rank_promotion("allow"):
        expected = getattr(keras.losses, name)(**options)(y_true, y_pred)
    assert_close(value, expected)
    assert grad.shape == y_pred.shape
    assert np.all(np.isfinite(np.asarray(grad)))


def test_circle_jit_and_grad(strict_promotion):
    # Circle's gradient is finite away from ties; one case is enough.
    y_true, y_pred = make_inputs("embeddings")
    loss = losses.Circle(gamma=10.0)
    value, grad = jax.jit(jax.value_and_grad(lambda p: loss(y_true, p)))(y_pred)
    assert_close(value, loss(y_true, y_pred))
    assert np.all(np.isfinite(np.asarray(grad)))


@pytest.mark.parametrize(
    "case",
    [
        ("mean_squared_error", {}, "regression"),
        ("mean_squared_error", {}, "regression1d"),
        ("mean_absolute_error", {}, "regression3d"),
        ("mean_absolute_percentage_error", {}, "regression"),
        ("mean_squared_logarithmic_error", {}, "positive"),
        ("cosine_similarity", {"axis": 0}, "regression"),
        ("huber", {"delta": 0.3}, "regression"),
        ("log_cosh", {}, "regression"),
        ("hinge", {}, "binary_logits"),
        ("squared_hinge", {}, "signed"),
        ("categorical_hinge", {}, "categorical_logits"),
        ("kl_divergence", {}, "soft"),
        ("poisson", {}, "positive"),
        ("binary_crossentropy", {"label_smoothing": 0.2}, "binary"),
        ("binary_crossentropy", {"from_logits": True}, "binary_logits"),
        ("binary_focal_crossentropy", {"apply_class_balancing": True}, "binary"),
        ("categorical_crossentropy", {"label_smoothing": 0.1}, "categorical"),
        ("categorical_crossentropy", {"from_logits": True}, "categorical_logits"),
        ("categorical_focal_crossentropy", {"gamma": 3.0}, "categorical"),
        ("sparse_categorical_crossentropy", {}, "sparse"),
        ("sparse_categorical_crossentropy", {"from_logits": True}, "sparse3d"),
        (
            "sparse_categorical_crossentropy",
            {"from_logits": True, "ignore_class": 2},
            "sparse_logits",
        ),
        ("categorical_generalized_cross_entropy", {"q": 0.7}, "sparse"),
        ("ctc", {}, "ctc"),
        ("dice", {"axis": -1}, "binary"),
        ("dice", {}, "binary"),
        ("tversky", {"alpha": 0.2, "beta": 0.8, "axis": -1}, "binary"),
        ("circle", {"gamma": 5, "margin": 0.1}, "embeddings"),
    ],
    ids=_case_id,
)
def test_function_matches_keras(case):
    name, options, kind = case
    y_true, y_pred = make_inputs(kind)
    if name in ("sparse_categorical_crossentropy", "ctc"):
        y_true = y_true.astype(np.int32)
    expected = getattr(keras.losses, name)(y_true, y_pred, **options)
    actual = getattr(losses, name)(y_true, y_pred, **options)
    assert_close(actual, expected)
    assert_close(
        jax.jit(getattr(losses, name), static_argnames=tuple(options))(
            y_true, y_pred, **options
        ),
        expected,
    )


def test_circle_with_reference_embeddings():
    y_true, y_pred = make_inputs("embeddings")
    ref_labels, ref_emb = make_inputs("embeddings", seed=3)
    kwargs = {"ref_labels": ref_labels, "ref_embeddings": ref_emb}
    expected = keras.losses.circle(y_true, y_pred, remove_diagonal=False, **kwargs)
    actual = losses.circle(y_true, y_pred, remove_diagonal=False, **kwargs)
    assert_close(actual, expected)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_weights", [False, True])
def test_mask_matches_keras(reduction, with_weights):
    y_true, y_pred = make_inputs("regression3d")
    mask = np.random.default_rng(2).uniform(size=(B, T)) > 0.4
    sw = _weights(y_true, "batch_col") if with_weights else None
    keras_pred = jnp.asarray(y_pred)
    set_keras_mask(keras_pred, jnp.asarray(mask))
    expected = keras.losses.MeanSquaredError(reduction=reduction)(
        y_true, keras_pred, sample_weight=sw
    )
    actual = losses.MeanSquaredError(reduction=reduction)(
        y_true, y_pred, sample_weight=sw, mask=mask
    )
    assert_close(actual, expected)


def test_reduce_weighted_values_matches_keras():
    from keras.src.losses.loss import reduce_weighted_values

    rng = np.random.default_rng(0)
    values = rng.normal(size=(B, T)).astype(np.float32)
    mask = rng.uniform(size=(B, T)) > 0.5
    weights = (
        None,
        rng.uniform(size=(B, 1)).astype(np.float32),
        rng.uniform(size=(B, T)).astype(np.float32),
    )
    for sw in weights:
        for reduction in REDUCTIONS:
            expected = reduce_weighted_values(
                values, sample_weight=sw, mask=mask, reduction=reduction
            )
            actual = losses.reduce_weighted_values(
                values, sample_weight=sw, mask=mask, reduction=reduction
            )
            assert_close(actual, expected)


def test_defaults_names_and_signatures_match_keras():
    import inspect

    for cls in losses.LOSS_CLASSES:
        ours = inspect.signature(cls)
        theirs = inspect.signature(getattr(keras.losses, cls.__name__))
        assert list(ours.parameters) == list(theirs.parameters), cls.__name__
        for p in theirs.parameters.values():
            assert ours.parameters[p.name].default == p.default, (cls, p.name)
        assert cls().name == getattr(keras.losses, cls.__name__)().name


def test_frozen_and_hashable():
    loss = losses.CategoricalCrossentropy(from_logits=True)
    assert hash(loss) == hash(losses.CategoricalCrossentropy(from_logits=True))
    assert loss != losses.CategoricalCrossentropy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        loss.from_logits = False
    assert hash(losses.Dice(axis=[1, 2])) == hash(losses.Dice(axis=(1, 2)))
    f = jax.jit(lambda fn, a, b: fn(a, b), static_argnums=0)
    y_true, y_pred = make_inputs("categorical_logits")
    assert_close(f(loss, y_true, y_pred), loss(y_true, y_pred))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="q must be"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)


def test_get_resolves_every_keras_name():
    from keras.src.losses import ALL_OBJECTS_DICT

    for name, obj in ALL_OBJECTS_DICT.items():
        if name == "LossFunctionWrapper":  # Needs `fn`, in Keras too.
            continue
        ours = losses.get(name)
        if isinstance(obj, type):
            assert type(ours).__name__ == obj.__name__, name
        else:
            assert ours.__name__ == obj.__name__, name
    assert losses.get("logcosh") is losses.log_cosh
    assert losses.mse is losses.mean_squared_error
    assert losses.get(None) is None
    assert isinstance(losses.get(losses.Huber), losses.Huber)
    huber = losses.Huber(delta=3.0)
    assert losses.get(huber) is huber
    with pytest.raises(ValueError, match=r"'mean_sq_err'.*mean_squared_error"):
        losses.get("mean_sq_err")
    with pytest.raises(ValueError, match="Could not interpret"):
        losses.get(3)


@pytest.mark.parametrize("cls", losses.LOSS_CLASSES, ids=lambda c: c.__name__)
def test_serialize_round_trips_with_keras(cls):
    ours = cls(reduction="sum", name="my_loss")
    config = losses.serialize(ours)
    assert losses.get(config) == ours
    if cls is losses.CategoricalGeneralizedCrossEntropy:
        return  # Missing from Keras's deserialization table.
    # Keras reads our format, and we read Keras's.
    theirs = keras.losses.deserialize(config)
    assert type(theirs).__name__ == cls.__name__
    assert theirs.reduction == "sum" and theirs.name == "my_loss"
    back = losses.get(keras.losses.serialize(theirs))
    assert back.get_config().items() >= {"reduction": "sum", "name": "my_loss"}.items()


def test_serialize_functions_and_wrapper():
    config = losses.serialize(losses.mean_squared_error)
    assert keras.losses.deserialize(config) is keras.losses.mean_squared_error
    assert losses.get(config) is losses.mean_squared_error
    wrapper = losses.LossFunctionWrapper(losses.huber, reduction="sum", delta=2.0)
    assert losses.get(losses.serialize(wrapper)) == wrapper
    y_true, y_pred = make_inputs("regression")
    expected = keras.losses.Huber(delta=2.0, reduction="sum")(y_true, y_pred)
    assert_close(wrapper(y_true, y_pred), expected)


def test_resolve_crossentropy_like_keras_compile():
    assert losses.resolve("ce", (8, 1), (8, 1)) is losses.binary_crossentropy
    assert (
        losses.resolve("crossentropy", (8,), (8, 10))
        is losses.sparse_categorical_crossentropy
    )
    assert (
        losses.resolve("crossentropy", (8, 1), (8, 10))
        is losses.sparse_categorical_crossentropy
    )
    assert losses.resolve("CE", (8, 10), (8, 10)) is losses.categorical_crossentropy
    assert losses.resolve("mse", (8,), (8,)) is losses.mean_squared_error
    with pytest.raises(ValueError, match="shapes"):
        losses.resolve("ce")


# Keras-style subclassing: __init__ + call, config derived from __init__.


class _RegularizedMSE(losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = jnp.mean(jnp.square(y_true - y_pred), axis=-1)
        reg = jnp.mean(jnp.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor


def test_keras_style_loss_subclass_matches_keras(rng):
    import keras

    class KerasRegularizedMSE(keras.losses.Loss):
        def __init__(self, regularization_factor=0.1, name="custom_mse", **kwargs):
            super().__init__(name=name, **kwargs)
            self.regularization_factor = regularization_factor

        def call(self, y_true, y_pred):
            mse = keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)
            reg = keras.ops.mean(keras.ops.square(0.5 - y_pred), axis=-1)
            return mse + reg * self.regularization_factor

    y_true = rng.normal(size=(6, 3)).astype("float32")
    y_pred = rng.normal(size=(6, 3)).astype("float32")
    weights = rng.uniform(size=(6,)).astype("float32")
    for kwargs in ({}, {"reduction": "sum", "regularization_factor": 0.5}):
        ours = _RegularizedMSE(**kwargs)
        theirs = KerasRegularizedMSE(**kwargs)
        np.testing.assert_allclose(
            ours(y_true, y_pred, weights), theirs(y_true, y_pred, weights), rtol=1e-6
        )
        assert ours.name == theirs.name and ours.reduction == theirs.reduction
    assert _RegularizedMSE().get_config() == {
        "regularization_factor": 0.1,
        "name": "custom_mse",
        "reduction": "sum_over_batch_size",
        "dtype": None,
    }


def test_keras_style_loss_round_trips_when_registered():
    import kerax

    kerax.register(_RegularizedMSE, name="test_losses>RegularizedMSE")
    loss = _RegularizedMSE(regularization_factor=0.3, reduction="sum")
    again = losses.deserialize(losses.serialize(loss))
    assert type(again) is _RegularizedMSE
    assert again.get_config() == loss.get_config()
    x = jnp.ones((2, 3))
    np.testing.assert_allclose(again(x, 0 * x), loss(x, 0 * x))


def test_keras_style_loss_trains_in_trainer():
    import jax

    import kerax
    from kerax import layers

    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    trainer = kerax.Trainer(model, optimizer="sgd", loss=_RegularizedMSE())
    ts = trainer.init(jax.random.key(0))
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 2), "float32")
    ts, history = trainer.fit(ts, x, y, epochs=2, batch_size=4, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_keras_style_loss_without_super_init_or_with_bad_reduction_errors():
    class NoCall(losses.Loss):
        def __init__(self, name="no_call"):
            super().__init__(name=name)

    with pytest.raises(NotImplementedError, match="call"):
        NoCall()(jnp.ones((1, 2)), jnp.ones((1, 2)))
    with pytest.raises(ValueError, match="reduction"):
        _RegularizedMSE(reduction="average")


def test_sparse_crossentropy_gathers_the_target_and_flags_bad_labels():
    # kerax gathers the target's log-probability where Keras multiplies by a
    # one-hot: values and gradients agree, and a label outside [0, classes)
    # gives NaN instead of Keras's silent 0.
    logits = jnp.asarray(np.random.default_rng(0).normal(size=(6, 5)), jnp.float32)
    labels = jnp.asarray([0, 4, 2, 1, 3, 2])

    def one_hot_form(lg):
        log_prob = jax.nn.log_softmax(lg)
        return -jnp.sum(jax.nn.one_hot(labels, 5) * log_prob, -1).mean()

    def kerax_form(lg):
        return losses.sparse_categorical_crossentropy(
            labels, lg, from_logits=True
        ).mean()

    np.testing.assert_allclose(kerax_form(logits), one_hot_form(logits), rtol=1e-6)
    np.testing.assert_allclose(
        jax.grad(kerax_form)(logits), jax.grad(one_hot_form)(logits), atol=1e-7
    )
    bad = losses.sparse_categorical_crossentropy(
        jnp.asarray([1, 5]), logits[:2], from_logits=True
    )
    assert np.isfinite(bad[0]) and np.isnan(bad[1])
