"""Keras-parity tests for kerax.metrics.

Every metric class gets the same two batches as the Keras metric
(`update_state`), once unweighted and once with sample weights, with kerax's
`update` under `jax.jit`; `result()` must agree within 1e-5 relative (1e-4
for AUC's interpolated PR curve, whose log terms amplify float32 round-off),
and `merge` of two partial states must equal updating with all batches.
"""

import dataclasses
import inspect
import re

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from keras.src.backend.common.masking import set_keras_mask

from kerax import losses, metrics

B, D, C, T = 8, 4, 5, 3
RTOL, ATOL = 1e-5, 1e-6


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


def make_batch(kind, seed):
    """(y_true, y_pred) float32 numpy arrays of one input family."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    normal = rng.normal
    if kind == "regression":
        return normal(size=(B, D)).astype(f32), normal(size=(B, D)).astype(f32)
    if kind == "regression3d":
        return normal(size=(B, T, D)).astype(f32), normal(size=(B, T, D)).astype(f32)
    if kind == "positive":
        return (
            rng.uniform(0.0, 3.0, size=(B, D)).astype(f32),
            rng.uniform(0.05, 3.0, size=(B, D)).astype(f32),
        )
    if kind in ("binary", "multilabel"):
        y_true = rng.integers(0, 2, size=(B, D)).astype(f32)
        return y_true, rng.uniform(0.0, 1.0, size=(B, D)).astype(f32)
    if kind == "binary_logits":
        y_true = rng.integers(0, 2, size=(B, D)).astype(f32)
        return y_true, normal(scale=2.0, size=(B, D)).astype(f32)
    if kind == "binary_col":
        y_true = rng.integers(0, 2, size=(B, 1)).astype(f32)
        y_pred = rng.uniform(size=(B, 1)).astype(f32)
        y_pred[0, 0] = 0.0  # Exercise Keras's edge buckets.
        y_pred[1, 0] = 1.0
        return y_true, y_pred
    if kind == "binary_vec":
        y_true = rng.integers(0, 2, size=(B,)).astype(f32)
        return y_true, rng.uniform(size=(B,)).astype(f32)
    if kind == "signed":
        y_true = rng.choice([-1.0, 1.0], size=(B, D)).astype(f32)
        return y_true, normal(size=(B, D)).astype(f32)
    if kind == "categorical":
        y_true = np.eye(C, dtype=f32)[rng.integers(0, C, size=B)]
        return y_true, _softmax(normal(size=(B, C)))
    if kind == "categorical_logits":
        y_true = np.eye(C, dtype=f32)[rng.integers(0, C, size=B)]
        return y_true, normal(scale=2.0, size=(B, C)).astype(f32)
    if kind == "categorical3d":
        y_true = np.eye(C, dtype=f32)[rng.integers(0, C, size=(B, T))]
        return y_true, _softmax(normal(size=(B, T, C)))
    if kind == "soft":
        return _softmax(normal(size=(B, C))), _softmax(normal(size=(B, C)))
    if kind == "sparse":
        return rng.integers(0, C, size=(B,)).astype(f32), _softmax(normal(size=(B, C)))
    if kind == "sparse_col":
        y_true = rng.integers(0, C, size=(B, 1)).astype(f32)
        return y_true, _softmax(normal(size=(B, C)))
    if kind == "sparse3d":
        y_true = rng.integers(0, C, size=(B, T)).astype(f32)
        return y_true, normal(size=(B, T, C)).astype(f32)
    if kind == "equal":
        y_true = rng.integers(0, 3, size=(B, 1)).astype(f32)
        return y_true, rng.integers(0, 3, size=(B, 1)).astype(f32)
    if kind == "sorted_ids":
        y_true = rng.integers(0, C, size=(B,)).astype(f32)
        ids = np.argsort(-normal(size=(B, C)), axis=-1).astype(f32)
        return y_true, ids
    if kind == "segmentation":
        y_true = rng.integers(0, C, size=(B, T)).astype(f32)
        return y_true, rng.integers(0, C, size=(B, T)).astype(f32)
    if kind == "binary_segmentation":
        y_true = rng.integers(0, 2, size=(B, T)).astype(f32)
        return y_true, rng.uniform(size=(B, T)).astype(f32)
    if kind == "values":
        return None, normal(size=(B, D)).astype(f32)
    raise ValueError(kind)


def make_weights(kind, seed):
    rng = np.random.default_rng(100 + seed)
    # Keras's IoU flattens labels but not weights: weigh every pixel there.
    per_step = ("segmentation", "binary_segmentation", "sparse3d", "categorical3d")
    shape = (B, T) if kind in per_step else (B,)
    return rng.uniform(0.1, 2.0, size=shape).astype(np.float32)


# (class name, constructor options, input family[, rtol])
CASES = [
    ("AUC", {}, "binary_col"),
    ("AUC", {"num_thresholds": 7, "summation_method": "minoring"}, "binary"),
    ("AUC", {"summation_method": "majoring"}, "binary_vec"),
    ("AUC", {"curve": "PR"}, "binary", 1e-4),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, "binary"),
    ("AUC", {"curve": "PRGAIN"}, "binary"),
    ("AUC", {"thresholds": [0.1, 0.35, 0.5, 0.9]}, "binary"),
    ("AUC", {"thresholds": [0.25, 0.5, 0.75], "curve": "PR"}, "binary", 1e-4),
    ("AUC", {"multi_label": True}, "multilabel"),
    ("AUC", {"multi_label": True, "num_labels": D, "curve": "PR"}, "multilabel", 1e-4),
    (
        "AUC",
        {"multi_label": True, "label_weights": [0.1, 0.5, 1.0, 2.0]},
        "multilabel",
    ),
    (
        "AUC",
        {"multi_label": True, "thresholds": [0.3, 0.6], "num_labels": D},
        "multilabel",
    ),
    ("AUC", {"label_weights": [0.1, 0.5, 1.0, 2.0]}, "binary"),
    ("AUC", {"from_logits": True}, "binary_logits"),
    ("Accuracy", {}, "equal"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.3}, "binary_col"),
    ("CategoricalAccuracy", {}, "categorical"),
    ("CategoricalAccuracy", {}, "categorical3d"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_col"),
    ("SparseCategoricalAccuracy", {}, "sparse3d"),
    ("TopKCategoricalAccuracy", {"k": 2}, "categorical"),
    ("TopKCategoricalAccuracy", {"k": 3}, "categorical3d"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse3d"),
    ("SparseTopKCategoricalAccuracy", {"k": 2, "from_sorted_ids": True}, "sorted_ids"),
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.2, 0.5, 0.7]}, "binary"),
    ("Precision", {"thresholds": [0.0, 0.5, 1.0]}, "binary_col"),
    ("Precision", {"top_k": 2}, "categorical"),
    ("Precision", {"class_id": 1}, "categorical"),
    ("Precision", {"top_k": 2, "class_id": 3, "thresholds": 0.1}, "multilabel"),
    ("Recall", {}, "binary"),
    ("Recall", {"thresholds": [0.3, 0.6]}, "binary_vec"),
    ("Recall", {"top_k": 1}, "categorical"),
    ("Recall", {"class_id": 2}, "multilabel"),
    ("PrecisionAtRecall", {"recall": 0.6}, "binary"),
    ("PrecisionAtRecall", {"recall": 0.3, "num_thresholds": 1}, "binary"),
    ("RecallAtPrecision", {"precision": 0.5}, "binary"),
    ("RecallAtPrecision", {"precision": 0.5, "class_id": 1}, "multilabel"),
    ("SensitivityAtSpecificity", {"specificity": 0.5}, "binary"),
    ("SensitivityAtSpecificity", {"specificity": 0.4, "num_thresholds": 11}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7, "class_id": 0}, "multilabel"),
    ("TruePositives", {}, "binary"),
    ("TruePositives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "binary"),
    ("TrueNegatives", {}, "binary_col"),
    ("TrueNegatives", {"thresholds": [0.3, 0.8]}, "binary"),
    ("FalsePositives", {}, "binary"),
    ("FalsePositives", {"thresholds": [0.3, 0.8]}, "binary_vec"),
    ("FalseNegatives", {}, "binary"),
    ("FalseNegatives", {"thresholds": 0.7}, "binary"),
    ("F1Score", {}, "multilabel"),
    ("F1Score", {"average": "micro"}, "categorical"),
    ("F1Score", {"average": "macro", "threshold": 0.5}, "multilabel"),
    ("F1Score", {"average": "weighted", "threshold": 0.4}, "multilabel"),
    ("FBetaScore", {"beta": 2.0}, "categorical"),
    ("FBetaScore", {"beta": 0.5, "average": "weighted"}, "multilabel"),
    ("FBetaScore", {"beta": 1.5, "average": "micro", "threshold": 0.6}, "multilabel"),
    ("IoU", {"num_classes": C, "target_class_ids": [0, 2]}, "segmentation"),
    (
        "IoU",
        {"num_classes": C, "target_class_ids": [1], "ignore_class": 0},
        "segmentation",
    ),
    (
        "IoU",
        {"num_classes": C, "target_class_ids": [1, 3], "sparse_y_pred": False},
        "sparse",
    ),
    ("BinaryIoU", {}, "binary_segmentation"),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, "binary_segmentation"),
    ("MeanIoU", {"num_classes": C}, "segmentation"),
    ("MeanIoU", {"num_classes": C, "ignore_class": 2}, "segmentation"),
    ("OneHotIoU", {"num_classes": C, "target_class_ids": [0, 1, 4]}, "categorical"),
    ("OneHotMeanIoU", {"num_classes": C}, "categorical"),
    ("OneHotMeanIoU", {"num_classes": C, "sparse_y_pred": True}, "sparse_swap"),
    ("BinaryCrossentropy", {}, "binary"),
    (
        "BinaryCrossentropy",
        {"from_logits": True, "label_smoothing": 0.1},
        "binary_logits",
    ),
    ("CategoricalCrossentropy", {}, "categorical"),
    (
        "CategoricalCrossentropy",
        {"from_logits": True, "label_smoothing": 0.2},
        "categorical_logits",
    ),
    ("CategoricalCrossentropy", {}, "categorical3d"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse3d"),
    (
        "SparseCategoricalCrossentropy",
        {"from_logits": True, "ignore_class": 1},
        "sparse3d",
    ),
    ("Hinge", {}, "binary_logits"),
    ("Hinge", {}, "signed"),
    ("SquaredHinge", {}, "signed"),
    ("CategoricalHinge", {}, "categorical_logits"),
    ("KLDivergence", {}, "soft"),
    ("Poisson", {}, "positive"),
    ("LogCoshError", {}, "regression"),
    ("CosineSimilarity", {}, "regression"),
    ("CosineSimilarity", {"axis": 1}, "regression3d"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression3d"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanSquaredError", {}, "regression3d"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("RootMeanSquaredError", {}, "regression"),
    ("RootMeanSquaredError", {}, "regression3d"),
    ("R2Score", {}, "regression"),
    ("R2Score", {"class_aggregation": None}, "regression"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "regression"),
    ("R2Score", {"num_regressors": 2}, "regression"),
    ("R2Score", {"num_regressors": 30}, "regression"),
    ("PearsonCorrelation", {}, "regression"),
    ("PearsonCorrelation", {"axis": 0}, "regression"),
    ("ConcordanceCorrelation", {}, "regression"),
    ("ConcordanceCorrelation", {"axis": 1}, "regression3d"),
    ("Mean", {}, "values"),
    ("Sum", {}, "values"),
    ("MeanMetricWrapper", {"fn": "mean_squared_error"}, "regression"),
    ("MeanMetricWrapper", {"fn": "huber", "delta": 0.5}, "regression3d"),
    ("MeanMetricWrapper", {"fn": "binary_accuracy", "threshold": 0.7}, "binary"),
]


def _case_id(case):
    name, options, kind = case[:3]
    opts = ",".join(f"{k}={v}" for k, v in options.items())
    return f"{name}[{opts}]-{kind}"


def _build(name, options):
    """The kerax and the Keras metric for one case."""
    options = dict(options)
    if name == "MeanMetricWrapper":
        fn = options.pop("fn")
        ours_fn = getattr(losses, fn, None) or getattr(metrics, fn)
        theirs_fn = getattr(keras.losses, fn, None) or getattr(keras.metrics, fn)
        return (
            metrics.MeanMetricWrapper(ours_fn, **options),
            keras.metrics.MeanMetricWrapper(theirs_fn, **options),
        )
    return getattr(metrics, name)(**options), getattr(keras.metrics, name)(**options)


def _batches(kind):
    if kind == "sparse_swap":  # One-hot labels, integer predictions.
        out = []
        for seed in range(2):
            rng = np.random.default_rng(seed)
            y_true = np.eye(C, dtype=np.float32)[rng.integers(0, C, size=B)]
            out.append((y_true, rng.integers(0, C, size=B).astype(np.float32)))
        return out
    return [make_batch(kind, seed) for seed in range(2)]


def keras_name(metric):
    """Keras's name without the global-counter suffix (`auc_3` -> `auc`)."""
    return re.sub(r"_\d+$", "", metric.name)


def assert_close(actual, expected, rtol=RTOL, atol=ATOL, err_msg=""):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape, err_msg)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=err_msg)


def test_all_keras_metrics_covered():
    keras_classes = {
        n
        for n in dir(keras.metrics)
        if isinstance(getattr(keras.metrics, n), type) and n != "Metric"
    }
    assert len(keras_classes) == 45
    assert keras_classes == {cls.__name__ for cls in metrics.METRIC_CLASSES}
    assert {case[0] for case in CASES} == keras_classes
    keras_functions = {
        n
        for n in dir(keras.metrics)
        if callable(getattr(keras.metrics, n))
        and not isinstance(getattr(keras.metrics, n), type)
        and n not in ("get", "serialize", "deserialize")
    }
    assert keras_functions <= set(dir(metrics))


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_keras(case):
    """Two batches, unweighted (eager) then weighted (jitted), against Keras."""
    name, options, kind = case[:3]
    rtol = case[3] if len(case) > 3 else RTOL
    ours, theirs = _build(name, options)
    batches = _batches(kind)
    for weighted in (False, True):
        # The unweighted pass runs eagerly, the weighted one under jit: both
        # code paths are checked and each case compiles only once.
        update = jax.jit(ours.update) if weighted else ours.update
        theirs.reset_state()
        states = []
        try:
            for seed, (y_true, y_pred) in enumerate(batches):
                sw = make_weights(kind, seed) if weighted else None
                if y_true is None:  # Mean and Sum take values.
                    theirs.update_state(y_pred, sample_weight=sw)
                    args = (y_pred,)
                else:
                    theirs.update_state(y_true, y_pred, sample_weight=sw)
                    args = (y_true, y_pred)
                # One state per batch; merging them must equal Keras's total.
                states.append(update(ours.init(np.shape(y_pred)), *args, sw))
        except (ValueError, TypeError):
            # Keras does not broadcast these weights; neither do we.
            assert weighted
            with pytest.raises((ValueError, TypeError)):
                update(ours.init(np.shape(y_pred)), *args, sw)
            continue
        merged = ours.merge(*states)
        assert jax.tree.structure(merged) == jax.tree.structure(ours.init())
        assert_close(ours.result(merged), theirs.result(), rtol, err_msg=f"{weighted=}")


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c[0] in ("R2Score", "F1Score", "AUC") and c[2] != "binary"],
    ids=_case_id,
)
def test_init_with_shape_keeps_state_shape(case):
    """Shape-dependent metrics keep one state shape when given y_pred_shape."""
    name, options, kind = case[:3]
    ours, _ = _build(name, options)
    (y_true, y_pred), _ = _batches(kind)
    state = ours.init(y_pred.shape)
    new_state = ours.update(state, y_true, y_pred)
    assert jax.tree.map(jnp.shape, new_state) == jax.tree.map(jnp.shape, state)
    assert_close(
        ours.result(new_state),
        ours.result(ours.update(ours.init(), y_true, y_pred)),
    )
    # Also as a lax.scan carry, which needs a fixed shape.
    stacked = jax.tree.map(lambda x: jnp.stack([x, x]), (y_true, y_pred))
    final, _ = jax.lax.scan(lambda s, b: (ours.update(s, *b), None), state, stacked)
    assert_close(
        ours.result(final), ours.result(ours.update(new_state, y_true, y_pred))
    )


def test_init_and_update_jit_and_strict_promotion(strict_promotion):
    y_true, y_pred = make_batch("binary", 0)
    for cls in (metrics.AUC, metrics.Precision, metrics.BinaryAccuracy):
        m = cls()
        state = jax.jit(m.init)()
        state = jax.jit(m.update)(state, y_true, y_pred, make_weights("binary", 0))
        assert np.isfinite(float(jax.jit(m.result)(state)))
    m = metrics.F1Score()
    y_true, y_pred = make_batch("multilabel", 0)
    state = jax.jit(m.update)(m.init(), y_true, y_pred)
    assert m.result(state).shape == (D,)


def test_metric_is_a_static_argument():
    m = metrics.Precision(thresholds=[0.3, 0.6])
    assert hash(m) == hash(metrics.Precision(thresholds=(0.3, 0.6)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.top_k = 2

    @jax.jit
    def run(y_true, y_pred):
        return m.result(m.update(m.init(), y_true, y_pred))

    y_true, y_pred = make_batch("binary", 0)
    step = jax.jit(lambda metric, *a: metric.compute(*a), static_argnums=0)
    assert_close(step(m, y_true, y_pred), run(y_true, y_pred))


@pytest.mark.parametrize("weighted", [False, True])
def test_mask_matches_keras(weighted):
    y_true, y_pred = make_batch("regression3d", 0)
    mask = np.random.default_rng(5).uniform(size=(B, T)) > 0.4
    sw = make_weights("regression3d", 0)[:, None] if weighted else None
    keras_pred = jnp.asarray(y_pred)
    set_keras_mask(keras_pred, jnp.asarray(mask))
    theirs = keras.metrics.MeanSquaredError()
    theirs.update_state(y_true, keras_pred, sample_weight=sw)
    ours = metrics.MeanSquaredError()
    state = jax.jit(ours.update)(ours.init(), y_true, y_pred, sw, mask=mask)
    assert_close(ours.result(state), theirs.result())


def test_signatures_defaults_and_names_match_keras():
    required = {
        "IoU": {"num_classes": 3, "target_class_ids": [0]},
        "MeanIoU": {"num_classes": 3},
        "OneHotIoU": {"num_classes": 3, "target_class_ids": [0]},
        "OneHotMeanIoU": {"num_classes": 3},
        "PrecisionAtRecall": {"recall": 0.5},
        "RecallAtPrecision": {"precision": 0.5},
        "SensitivityAtSpecificity": {"specificity": 0.5},
        "SpecificityAtSensitivity": {"sensitivity": 0.5},
        "MeanMetricWrapper": {"fn": losses.mean_squared_error},
    }
    for cls in metrics.METRIC_CLASSES:
        ours = inspect.signature(cls).parameters
        theirs = inspect.signature(getattr(keras.metrics, cls.__name__)).parameters
        assert list(ours) == list(theirs), cls.__name__
        for p in theirs.values():
            default = ours[p.name].default
            if isinstance(default, tuple):
                default = list(default)
            assert default == p.default or p.name == "target_class_ids", (cls, p.name)
        kwargs = required.get(cls.__name__, {})
        keras_kwargs = dict(kwargs)
        if cls is metrics.MeanMetricWrapper:
            keras_kwargs["fn"] = keras.losses.mean_squared_error
        theirs = getattr(keras.metrics, cls.__name__)(**keras_kwargs)
        assert cls(**kwargs).name == keras_name(theirs), cls.__name__


def test_invalid_arguments():
    with pytest.raises(ValueError, match="specificity"):
        metrics.SensitivityAtSpecificity(1.5)
    with pytest.raises(ValueError, match="beta"):
        metrics.FBetaScore(beta=2)
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="XYZ")
    with pytest.raises(ValueError, match="out of range"):
        metrics.IoU(num_classes=2, target_class_ids=[2])
    with pytest.raises(ValueError, match="class_aggregation"):
        metrics.R2Score(class_aggregation="median")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 2.0])


def test_get_resolves_every_keras_name():
    from keras.src.metrics import ALL_OBJECTS_DICT

    for name, cls in ALL_OBJECTS_DICT.items():
        try:
            cls()
        except TypeError:  # Required arguments (`fn`, `num_classes`, ...).
            with pytest.raises(TypeError):
                metrics.get(name)
            continue
        assert type(metrics.get(name)).__name__ == cls.__name__, name
    assert isinstance(metrics.get("acc"), metrics.Accuracy)
    assert isinstance(metrics.get("rmse"), metrics.RootMeanSquaredError)
    huber = metrics.get("huber")
    assert isinstance(huber, metrics.MeanMetricWrapper) and huber.name == "huber"
    assert metrics.get(None) is None
    assert isinstance(metrics.get(metrics.AUC), metrics.AUC)
    auc = metrics.AUC(curve="PR")
    assert metrics.get(auc) is auc
    wrapped = metrics.get(losses.mean_squared_error)
    assert wrapped.name == "mean_squared_error" and wrapped._direction == "down"
    with pytest.raises(ValueError, match=r"'accuracyy'.*'?binary_accuracy"):
        metrics.get("accuracyy")


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_serialize_round_trips_with_keras(case):
    name, options, kind = case[:3]
    ours, theirs = _build(name, options)
    assert metrics.get(metrics.serialize(ours)) == ours

    def plain(value):
        if isinstance(value, dict) and value.get("class_name") == "__tensor__":
            value = value["config"]["value"]
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, float | np.floating):  # Keras stores float32.
            return round(float(value), 6)
        return value

    # We read Keras's format (compared on the keys Keras writes) ...
    keras_config = keras.metrics.serialize(theirs)
    from_keras = metrics.get(keras_config).get_config()
    expected = ours.get_config()
    for key, value in keras_config["config"].items():
        if key == "name":
            assert re.sub(r"_\d+$", "", from_keras[key]) == expected[key]
        elif key not in ("dtype", "fn"):
            assert plain(from_keras[key]) == plain(expected[key]) == plain(value), key
    # ... and Keras reads ours.
    back = keras.metrics.deserialize(metrics.serialize(ours))
    assert type(back).__name__ == type(theirs).__name__
    assert back.name == ours.name
    back_config, their_config = back.get_config(), theirs.get_config()
    assert set(back_config) == set(their_config)
    for key in set(their_config) - {"name", "fn"}:
        assert plain(np.asarray(back_config[key]).tolist()) == plain(
            np.asarray(their_config[key]).tolist()
        ), key


@pytest.mark.parametrize(
    ("identifier", "y_true_shape", "y_pred_shape"),
    [
        ("accuracy", (8, 1), (8, 1)),
        ("acc", (8,), (8, 10)),
        ("accuracy", (8, 1), (8, 10)),
        ("Accuracy", (8, 10), (8, 10)),
        ("accuracy", (8, 5, 1), (8, 5, 10)),
        ("mse", (8, 3), (8, 3)),
        ("auc", (8, 1), (8, 1)),
        ("precision", (8, 1), (8, 1)),
        ("binary_accuracy", (8, 1), (8, 1)),
    ],
)
def test_resolve_matches_keras_compile(identifier, y_true_shape, y_pred_shape):
    from keras.src.trainers.compile_utils import get_metric

    expected = get_metric(
        identifier, np.zeros(y_true_shape, "f4"), np.zeros(y_pred_shape, "f4")
    )
    actual = metrics.resolve(identifier, y_true_shape, y_pred_shape)
    assert type(actual).__name__ == type(expected).__name__
    assert actual.name == expected.name


def test_resolve_crossentropy_and_loss_hints():
    ce = metrics.resolve("ce", (8,), (8, 10))
    assert isinstance(ce, metrics.SparseCategoricalCrossentropy) and ce.name == "ce"
    assert isinstance(
        metrics.resolve("crossentropy", (8, 1), (8, 1)), metrics.BinaryCrossentropy
    )
    # Without shapes, the loss decides (Keras 3 always has the shapes).
    hints = {
        "binary_crossentropy": metrics.BinaryAccuracy,
        losses.BinaryFocalCrossentropy(): metrics.BinaryAccuracy,
        losses.sparse_categorical_crossentropy: metrics.SparseCategoricalAccuracy,
        "CategoricalCrossentropy": metrics.CategoricalAccuracy,
    }
    for loss, cls in hints.items():
        assert isinstance(metrics.resolve("accuracy", loss=loss), cls), loss
    with pytest.raises(ValueError, match="shapes"):
        metrics.resolve("accuracy", loss="mse")
    with pytest.raises(ValueError, match="None"):
        metrics.resolve(None)
    fn = metrics.resolve(losses.huber)
    assert isinstance(fn, metrics.MeanMetricWrapper) and fn.name == "huber"


# Metric authoring: pure init/update/result, Keras-style __init__ for options.


class _BinaryTruePositives(metrics.Metric):
    def __init__(self, threshold=0.5, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold

    def init(self, y_pred_shape=None):
        return {"true_positives": jnp.zeros(())}

    def update(self, state, y_true, y_pred, sample_weight=None):
        values = (y_true == 1) & (y_pred > self.threshold)
        values = values.astype("float32")
        if sample_weight is not None:
            values = values * sample_weight
        return {"true_positives": state["true_positives"] + jnp.sum(values)}

    def result(self, state):
        return state["true_positives"]


def test_pure_metric_matches_keras_stateful_metric(rng):
    import keras

    class KerasBinaryTruePositives(keras.metrics.Metric):
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(
                shape=(), initializer="zeros", name="true_positives"
            )

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = keras.ops.cast(y_true, "bool")
            y_pred = keras.ops.cast(y_pred > 0.5, "bool")
            values = keras.ops.cast(keras.ops.logical_and(y_true, y_pred), self.dtype)
            if sample_weight is not None:
                values = values * keras.ops.cast(sample_weight, self.dtype)
            self.true_positives.assign_add(keras.ops.sum(values))

        def result(self):
            return self.true_positives

    ours, theirs = _BinaryTruePositives(), KerasBinaryTruePositives()
    state = ours.init()
    for _ in range(3):
        y_true = rng.integers(0, 2, size=(8,))
        y_pred = rng.uniform(size=(8,)).astype("float32")
        w = rng.uniform(size=(8,)).astype("float32")
        state = ours.update(state, y_true, y_pred, w)
        theirs.update_state(y_true, y_pred, w)
    np.testing.assert_allclose(ours.result(state), theirs.result(), rtol=1e-6)
    assert ours.name == theirs.name
    assert ours.get_config() == {
        "threshold": 0.5,
        "name": "binary_true_positives",
        "dtype": None,
    }
    again = _BinaryTruePositives.from_config(ours.get_config())
    assert again.get_config() == ours.get_config()


def test_pure_metric_runs_in_trainer():
    import jax

    import kerax
    from kerax import layers

    model = kerax.Sequential([kerax.Input((2,)), layers.Dense(1, activation="sigmoid")])
    trainer = kerax.Trainer(
        model,
        optimizer="sgd",
        loss="binary_crossentropy",
        metrics=[_BinaryTruePositives()],
    )
    ts = trainer.init(jax.random.key(0))
    x = np.ones((8, 2), "float32")
    y = np.ones((8, 1), "float32")
    logs = trainer.evaluate(ts, x, y, batch_size=4, verbose=0, return_dict=True)
    pred = np.asarray(trainer.predict(ts, x, verbose=0))
    assert logs["binary_true_positives"] == float((pred > 0.5).sum())


def test_keras_stateful_metric_is_refused_with_the_pure_form():
    # A class with `update_state` is adapted (tests/test_keras_style_metrics.py);
    # `reset_state` or `add_variable` without it are refused.
    with pytest.raises(TypeError, match=r"def init\(self, y_pred_shape=None\)"):

        class Stateful(metrics.Metric):
            def reset_state(self):
                pass

    class AddsVariables(metrics.Metric):
        def __init__(self, name="adds", **kwargs):
            super().__init__(name=name, **kwargs)
            self.total = self.add_variable(shape=(), initializer="zeros")

    with pytest.raises(TypeError, match=r"(?s)add_variable.*def update"):
        AddsVariables()
