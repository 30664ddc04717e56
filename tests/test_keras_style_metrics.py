"""Keras-style metric subclasses (`add_variable` + `update_state` + `result`).

Each metric below is one class body, written once and built against Keras
(`keras.metrics.Metric`, `keras.ops`) and against kerax
(`kerax.metrics.Metric`, `kerax.ops`): the kerax class must give Keras's
numbers eagerly, through the pure `init/update/result/merge`, and inside
`Trainer.fit`/`evaluate`.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax.metrics.keras_style import MetricVariable


def guide_metric(base, ops):
    """keras-io "Training & evaluation with the built-in methods", verbatim."""

    class CategoricalTruePositives(base):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(
                shape=(), name="ctp", initializer="zeros"
            )

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
            values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
            values = ops.cast(values, "float32")
            if sample_weight is not None:
                sample_weight = ops.cast(sample_weight, "float32")
                values = ops.multiply(values, sample_weight)
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives.value

        def reset_state(self):
            # The state of the metric will be reset at the start of each epoch.
            self.true_positives.assign(0.0)

    return CategoricalTruePositives


def docs_metric(base, ops):
    """The example subclass of Keras's `keras.metrics.Metric` docstring, verbatim."""

    class BinaryTruePositives(base):
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(
                shape=(), initializer="zeros", name="true_positives"
            )

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = ops.cast(y_true, "bool")
            y_pred = ops.cast(y_pred, "bool")

            values = ops.logical_and(ops.equal(y_true, True), ops.equal(y_pred, True))
            values = ops.cast(values, self.dtype)
            if sample_weight is not None:
                sample_weight = ops.cast(sample_weight, self.dtype)
                sample_weight = ops.broadcast_to(sample_weight, ops.shape(values))
                values = ops.multiply(values, sample_weight)
            self.true_positives.assign(self.true_positives + ops.sum(values))

        def result(self):
            return self.true_positives

    return BinaryTruePositives


def weighted_mean_metric(base, ops):
    """Two variables, a ratio result, `add_weight` and Keras's default reset."""

    class WeightedAbsError(base):
        def __init__(self, scale=1.0, name="weighted_abs_error", **kwargs):
            super().__init__(name=name, **kwargs)
            self.scale = scale
            self.total = self.add_weight(name="total", initializer="zeros")
            self.count = self.add_weight(name="count", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            err = ops.mean(ops.abs(ops.subtract(y_true, y_pred)), axis=-1) * self.scale
            if sample_weight is None:
                sample_weight = ops.ones_like(err)
            self.total.assign_add(ops.sum(err * sample_weight))
            self.count.assign_add(ops.sum(sample_weight))

        def result(self):
            return ops.divide(self.total, ops.maximum(self.count, 1e-7))

    return WeightedAbsError


def pair(factory, *args, **kwargs):
    """(kerax metric, Keras metric) from the same class body."""
    ours = factory(kerax.metrics.Metric, kerax.ops)(*args, **kwargs)
    theirs = factory(keras.metrics.Metric, keras.ops)(*args, **kwargs)
    return ours, theirs


def batches(kind, n=3, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        w = rng.random((4,)).astype("float32")
        if kind == "guide":
            yt = rng.integers(0, 3, (4, 1)).astype("float32")
            yp = rng.random((4, 3)).astype("float32")
        elif kind == "docs":
            yt = rng.integers(0, 2, (4,)).astype("float32")
            yp = rng.integers(0, 2, (4,)).astype("float32")
        else:
            yt = rng.random((4, 2)).astype("float32")
            yp = rng.random((4, 2)).astype("float32")
        out.append((yt, yp, w))
    return out


CASES = [(guide_metric, "guide"), (docs_metric, "docs"), (weighted_mean_metric, "mean")]


@pytest.mark.parametrize("factory,kind", CASES)
def test_eager_and_pure_match_keras(factory, kind):
    ours, theirs = pair(factory)
    update = jax.jit(ours.update)
    state = ours.init()
    for i, (yt, yp, w) in enumerate(batches(kind)):
        sw = w if i % 2 == 0 else None  # With and without sample weights.
        ours.update_state(yt, yp, sample_weight=sw)
        theirs.update_state(yt, yp, sample_weight=sw)
        state = update(state, yt, yp, sample_weight=sw)
        expected = np.asarray(theirs.result())
        np.testing.assert_allclose(np.asarray(ours.result()), expected, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(ours.result(state)), expected, rtol=1e-6)
    # Keras's stateless API gives the same state as kerax's pure one.
    keras_state = theirs.stateless_update_state(
        [v.value for v in theirs.variables], *batches(kind, 1, seed=9)[0][:2]
    )
    ours_state = ours.stateless_update_state(state, *batches(kind, 1, seed=9)[0][:2])
    np.testing.assert_allclose(
        [np.asarray(ours_state[v.name]) for v in ours.variables],
        [np.asarray(v) for v in keras_state],
        rtol=1e-6,
    )
    ours.reset_state()
    theirs.reset_state()
    np.testing.assert_allclose(ours.result(), theirs.result())
    # The object was only changed by the eager calls: `ours.update` kept it pure.
    assert float(ours.result()) == 0.0 and ours.variables[0].shape == ()
    # Keras's config, plus the other `__init__` arguments (kerax records them).
    assert theirs.get_config().items() <= ours.get_config().items()
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config() and again.variables[0].name == (
        ours.variables[0].name
    )


def test_variables_read_like_keras_variables():
    ours, theirs = pair(guide_metric)
    yt, yp, _ = batches("guide")[0]
    ours(yt, yp)  # Keras's __call__: update_state then result.
    theirs(yt, yp)
    ov, kv = ours.true_positives, theirs.true_positives
    assert isinstance(ov, MetricVariable)
    assert (ov.shape, ov.dtype, ov.name, ov.path) == (
        kv.shape,
        kv.dtype,
        kv.name,
        kv.path,
    )
    assert ov.numpy() == kv.numpy() and float(ov + 1) == float(kv + 1)
    assert float(jnp.sum(ov)) == float(kerax.ops.sum(ov)) == float(kv.numpy())
    assert [v.name for v in ours.variables] == [v.name for v in theirs.variables]
    assert ours.dtype == theirs.dtype == "float32"


def test_init_is_keras_reset_state_and_eager_starts_from_initializer():
    def factory(base, ops):
        class Ones(base):
            def __init__(self, name="ones", **kwargs):
                super().__init__(name=name, **kwargs)
                self.v = self.add_variable(shape=(2,), initializer="ones", name="v")

            def update_state(self, y_true, y_pred, sample_weight=None):
                self.v.assign_add(ops.sum(y_pred, axis=0))

            def result(self):
                return ops.sum(self.v)

        return Ones

    ours, theirs = pair(factory)
    # Before any update, the object holds the initializer's values (Keras eager) ...
    assert float(ours.result()) == float(theirs.result()) == 2.0
    # ... and a fresh state is what Keras's fit starts every epoch with.
    np.testing.assert_array_equal(ours.init()["v"], theirs.stateless_reset_state()[0])


def test_merge():
    ours, theirs = pair(weighted_mean_metric)
    data = batches("mean", 4)
    a, b = ours.init(), ours.init()
    for i, (yt, yp, w) in enumerate(data):
        theirs.update_state(yt, yp, sample_weight=w)
        if i % 2:
            a = ours.update(a, yt, yp, sample_weight=w)
        else:
            b = ours.update(b, yt, yp, sample_weight=w)
    merged = ours.merge(a, b)
    np.testing.assert_allclose(ours.result(merged), theirs.result(), rtol=1e-6)

    class Mixed(kerax.metrics.Metric):
        def __init__(self, aggregation="mean", name="mixed"):
            super().__init__(name=name)
            self.v = self.add_variable((), "zeros", aggregation=aggregation, name="v")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.v.assign(kerax.ops.mean(y_pred))

        def result(self):
            return self.v

    m = Mixed()
    s1, s2 = m.update(m.init(), 0.0, jnp.ones(3)), m.update(m.init(), 0.0, jnp.zeros(3))
    assert float(m.result(m.merge(s1, s2))) == 0.5
    with pytest.raises(ValueError, match="aggregation='none'.*'sum' and 'mean'"):
        Mixed(aggregation="none").merge(s1, s2)


def _model_and_data():
    rng = np.random.default_rng(1)
    x = rng.random((12, 4)).astype("float32")
    y = rng.integers(0, 3, (12, 1)).astype("float32")
    w = rng.random((12,)).astype("float32")
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(3)])
    return model, x, y, w


def test_trainer_fit_evaluate_match_keras_and_leave_the_object_untouched():
    model, x, y, w = _model_and_data()
    ours, theirs = pair(guide_metric)
    unweighted, _ = pair(docs_metric)
    trainer = kerax.Trainer(
        model,
        optimizer=kerax.optimizers.SGD(learning_rate=0.0),  # Predictions stay fixed.
        loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[unweighted],
        weighted_metrics=[ours],
    )
    ts = trainer.init(jax.random.key(0))
    ts, history = trainer.fit(
        ts, x, y, sample_weight=w, batch_size=4, epochs=2, shuffle=False, verbose=0
    )
    logs = trainer.evaluate(ts, x, y, sample_weight=w, batch_size=4, return_dict=True)
    preds = np.asarray(trainer.predict(ts, x, batch_size=4))
    for start in range(0, 12, 4):  # Keras's metric on the same batches.
        part = slice(start, start + 4)
        theirs.update_state(y[part], preds[part], sample_weight=w[part])
    expected = float(theirs.result())
    # Every epoch (and evaluate) starts from the reset state, as in Keras.
    np.testing.assert_allclose(history.history["categorical_true_positives"], expected)
    np.testing.assert_allclose(logs["categorical_true_positives"], expected)
    assert "binary_true_positives" in history.history
    # Nothing leaked onto the Python objects from the jitted steps.
    for metric in (ours, unweighted):
        for v in metric.variables:
            assert not isinstance(v._value, jax.core.Tracer)
            assert float(v._value) == 0.0
        assert not any(
            isinstance(a, jax.core.Tracer) for a in jax.tree.leaves(vars(metric))
        )


def test_make_train_step():
    model, x, y, _ = _model_and_data()
    metric = guide_metric(kerax.metrics.Metric, kerax.ops)()
    step = kerax.training.make_train_step(
        model, "sparse_categorical_crossentropy", "sgd", metrics=[metric]
    )
    ts = step.init(jax.random.key(0))
    ts, logs = step(ts, (x, y))
    assert 0.0 <= float(logs["categorical_true_positives"]) <= 12.0
    assert float(metric.result()) == 0.0


def test_errors():
    ops = kerax.ops

    class PythonIf(kerax.metrics.Metric):
        def __init__(self, name="python_if"):
            super().__init__(name=name)
            self.total = self.add_variable((), "zeros", name="total")

        def update_state(self, y_true, y_pred, sample_weight=None):
            if ops.sum(y_pred) > 0:  # A Python `if` on an array.
                self.total.assign_add(1.0)

        def result(self):
            return self.total

    m = PythonIf()
    m.update_state(0.0, jnp.ones(2))  # Eagerly the value is concrete: fine.
    assert float(m.result()) == 1.0
    with pytest.raises(TypeError, match=r"Python `if`.*ops\.where"):
        jax.jit(m.update)(m.init(), 0.0, jnp.ones(2))

    class SetsAttribute(PythonIf):
        def update_state(self, y_true, y_pred, sample_weight=None):
            self.last = y_pred

    with pytest.raises(AttributeError, match=r"sets `self.last`.*add_variable"):
        SetsAttribute().update_state(0.0, jnp.ones(2))

    class LateVariable(PythonIf):
        def update_state(self, y_true, y_pred, sample_weight=None):
            self.add_variable((), "zeros", name="late")

    with pytest.raises(ValueError, match=r"outside `__init__`"):
        LateVariable().update(LateVariable().init(), 0.0, jnp.ones(2))

    with pytest.raises(TypeError, match=r"traced value.*metric\.update\(state"):
        jax.jit(lambda y: PythonIf().update_state(0.0, y))(jnp.ones(2))

    with pytest.raises(ValueError, match=r"one entry per metric variable"):
        m.update({"wrong": jnp.zeros(())}, 0.0, jnp.ones(2))

    class Pure(kerax.metrics.Metric):
        def __init__(self, name="pure"):
            super().__init__(name=name)
            self.total = self.add_variable((), "zeros")

    with pytest.raises(TypeError, match="def init"):
        Pure()

    with pytest.raises(TypeError, match="reset_state"):

        class OnlyReset(kerax.metrics.Metric):  # noqa: F841 - refused when created.
            def reset_state(self):
                pass
