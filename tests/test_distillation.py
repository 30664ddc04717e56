"""kerax.distillation against keras.distillation on the same weights."""

import jax
import keras
import numpy as np
import pytest
from keras import distillation as kd

import kerax
from kerax import distillation as xd
from kerax.interop import from_keras

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 4)).astype("float32")
Y = (X[:, 0] > 0).astype("int32")


def keras_mlp(hidden, seed):
    init = keras.initializers.GlorotUniform(seed=seed)
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hidden, "relu", kernel_initializer=init, name="h"),
            keras.layers.Dense(3, kernel_initializer=init, name="logits"),
        ]
    )


@pytest.mark.parametrize(
    "keras_loss, kerax_loss",
    [
        ("kl_divergence", "kl_divergence"),
        (keras.losses.KLDivergence(), kerax.losses.KLDivergence()),
        (["mse", None], ["mse", None]),
    ],
    ids=["kl_name", "kl_instance", "list"],
)
def test_logits_distillation_matches_keras(keras_loss, kerax_loss):
    t, s = RNG.normal(size=(2, 5, 3)).astype("float32")
    if isinstance(keras_loss, list):
        t, s = [t, t * 2], [s, s - 1]
    want = kd.LogitsDistillation(2.5, keras_loss).compute_loss(t, s)
    got = xd.LogitsDistillation(2.5, kerax_loss).compute_loss(t, s)
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["mse", "cosine_similarity"])
def test_feature_distillation_matches_keras(loss):
    t, s = RNG.normal(size=(2, 5, 6)).astype("float32")
    want = kd.FeatureDistillation(loss).compute_loss(t, s)
    got = xd.FeatureDistillation(loss).compute_loss(t, s)
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-6)


def _pair():
    """The same teacher and student in Keras and kerax (weights imported)."""
    k_teacher, k_student = keras_mlp(8, 1), keras_mlp(5, 2)
    teacher, tp, ts_ = from_keras(k_teacher)
    student, sp, ss = from_keras(k_student)
    return (k_teacher, k_student), (teacher, tp, ts_), (student, sp, ss)


def test_distiller_total_loss_matches_keras():
    (k_teacher, k_student), (teacher, tp, tstate), (student, sp, sstate) = _pair()
    k_losses = [
        kd.LogitsDistillation(3.0, keras.losses.KLDivergence()),
        kd.FeatureDistillation("mse", "logits", "logits"),
    ]
    x_losses = [
        xd.LogitsDistillation(3.0, kerax.losses.KLDivergence()),
        xd.FeatureDistillation("mse", "logits", "logits"),
    ]
    k_dist = kd.Distiller(k_teacher, k_student, k_losses, [1.0, 0.5], 0.3)
    k_dist.compile("adam", loss=keras.losses.SparseCategoricalCrossentropy(True))
    want = k_dist.compute_loss(x=X, y=Y, y_pred=k_student(X), training=True)

    dist = xd.Distiller(teacher, student, x_losses, [1.0, 0.5], 0.3)
    params, state = dist.with_teacher(
        ({"student": sp, "teacher": None}, {"student": sstate, "teacher": {}}),
        tp,
        tstate,
    )
    y_pred, _, aux = dist.apply_with_losses(params, state, X, training=True)
    student_loss = kerax.losses.SparseCategoricalCrossentropy(from_logits=True)(
        Y, y_pred
    )
    got = dist.student_loss_weight * student_loss + aux
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-6)
    # The distillation part alone, and the student's outputs.
    np.testing.assert_allclose(
        dist.distillation_loss(params, state, X),
        np.asarray(k_dist.distillation_loss_tracker.result()),
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_allclose(y_pred, np.asarray(k_student(X)), rtol=1e-5, atol=1e-6)


def test_feature_distillation_on_intermediate_layers_matches_keras():
    (k_teacher, k_student), (teacher, tp, tstate), (student, sp, sstate) = _pair()
    # The features each side extracts for intermediate layer names equal
    # Keras's (the loss on them is tested above).
    k_loss = kd.FeatureDistillation("mse", "logits", "h")
    k_dist = kd.Distiller(k_teacher, k_student, k_loss, student_loss_weight=0.0)
    k_dist.compile("adam", loss="mse")
    keras_features = k_dist._student_feature_extractor(X)["h"]
    dist = xd.Distiller(
        teacher, student, xd.FeatureDistillation("mse", "logits", "h"), None, 0.0
    )
    params, state = dist.with_teacher(
        ({"student": sp}, {"student": sstate}), tp, tstate
    )
    features, _ = dist._features("student", sp, sstate, X, None, False)
    np.testing.assert_allclose(features["h"], np.asarray(keras_features), atol=1e-6)
    keras_teacher = k_dist._teacher_feature_extractor(X)["logits"]
    teacher_features = dist._teacher_features(params, state, X)
    np.testing.assert_allclose(
        teacher_features["logits"], np.asarray(keras_teacher), rtol=1e-5, atol=1e-6
    )


def test_fit_reduces_distillation_loss_and_keeps_teacher():
    _, (teacher, tp, tstate), (student, _, _) = _pair()
    # A KLDivergence instance: softmax probabilities (Keras's default, the
    # name "kl_divergence", compares the scaled logits themselves).
    kl = xd.LogitsDistillation(2.0, kerax.losses.KLDivergence())
    dist = xd.Distiller(teacher, student, kl, None, 0.1)
    trainer = kerax.Trainer(
        dist,
        kerax.optimizers.Adam(0.05),
        loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
        loss_weights=dist.student_loss_weight,
    )
    ts = dist.with_teacher(trainer.init(jax.random.key(0)), tp, tstate)
    before = dist.distillation_loss(ts.params, ts.state, X)
    teacher_before = jax.tree.map(np.asarray, ts.params["teacher"])
    ts, history = trainer.fit(ts, X, Y, epochs=5, batch_size=8, verbose=0)
    after = dist.distillation_loss(ts.params, ts.state, X)
    assert 0 <= float(after) < 0.5 * float(before)
    assert history.history["loss"][-1] < history.history["loss"][0]
    jax.tree.map(np.testing.assert_array_equal, ts.params["teacher"], teacher_before)
    jax.tree.map(np.asarray, tp)  # The caller's teacher arrays were not donated.
    # evaluate's loss is Keras's total: w * student loss + (1 - w) * distillation.
    y_pred = trainer.predict(ts, X, verbose=0)
    assert y_pred.shape == (16, 3)
    student_loss = kerax.losses.SparseCategoricalCrossentropy(from_logits=True)(
        Y, y_pred
    )
    np.testing.assert_allclose(
        trainer.evaluate(ts, X, Y, batch_size=16, verbose=0),
        0.1 * student_loss + 0.9 * after,
        rtol=1e-5,
    )


def test_errors_name_the_argument():
    _, (teacher, _, _), (student, _, _) = _pair()
    with pytest.raises(ValueError, match="student_loss_weight must be between"):
        xd.Distiller(teacher, student, xd.LogitsDistillation(), None, 1.5)
    with pytest.raises(ValueError, match="distillation_loss_weights"):
        xd.Distiller(teacher, student, [xd.LogitsDistillation()], [1.0, 2.0])
    with pytest.raises(ValueError, match="cannot be `None`"):
        xd.Distiller(teacher, student, None)
    with pytest.raises(ValueError, match="In teacher model"):
        xd.Distiller(teacher, student, xd.FeatureDistillation("mse", "nope", "h"))
    with pytest.raises(ValueError, match="temperature must be positive"):
        xd.LogitsDistillation(0.0)
    with pytest.raises(ValueError, match="at least one non-`None`"):
        xd.FeatureDistillation(None)
