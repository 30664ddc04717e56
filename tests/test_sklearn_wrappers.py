"""kerax.wrappers: scikit-learn estimators, compared with keras.wrappers."""

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import kerax
from kerax import layers
from kerax.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

FIT = {"epochs": 1, "batch_size": 8, "verbose": 0, "shuffle": False}


def kerax_classifier(X, y, hidden=4):
    model = kerax.Sequential(
        [
            kerax.Input((X.shape[1],)),
            layers.Dense(hidden, activation="relu"),
            layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    return kerax.Trainer(model, "adam", "categorical_crossentropy", seed=0)


def keras_classifier(X, y, hidden=4):
    model = keras.Sequential(
        [
            keras.Input((X.shape[1],)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def regressor(X, y):
    model = kerax.Sequential([kerax.Input((X.shape[1],)), layers.Dense(y.shape[1])])
    return kerax.Trainer(model, "sgd", "mse")


def data(n=24, labels=("b", "a", "c")):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3)).astype("float32")
    y = np.asarray(labels)[np.arange(n) % len(labels)]
    return X, y


def test_classifier_matches_keras(labels=("b", "a", "c")):
    """classes_, n_features_in_, the label encoding and, on the same weights,
    predict and decision_function equal Keras's wrapper's."""
    from keras.wrappers import SKLearnClassifier as KerasClassifier

    X, y = data(labels=labels)
    ours = SKLearnClassifier(kerax_classifier, model_kwargs={"hidden": 4}).fit(
        X, y, **FIT
    )
    theirs = KerasClassifier(keras_classifier, model_kwargs={"hidden": 4}).fit(
        X, y, **FIT
    )
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.classes_.dtype == theirs.classes_.dtype
    assert ours.n_features_in_ == theirs.n_features_in_ == 3
    np.testing.assert_array_equal(
        ours._target_encoder.transform(y), theirs._target_encoder.transform(y)
    )
    assert "loss" in ours.history_.history and "loss" in theirs.history_.history
    # The same weights: the same outputs and the same decoded labels.
    kernel0, bias0, kernel1, bias1 = theirs.model_.get_weights()
    params = {
        "dense": {"kernel": kernel0, "bias": bias0},
        "dense_1": {"kernel": kernel1, "bias": bias1},
    }
    assert sorted(ours.train_state_.params) == sorted(params)
    ours.train_state_ = ours.train_state_._replace(params=params)
    np.testing.assert_allclose(
        ours.decision_function(X), theirs.decision_function(X), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        ours.predict_proba(X), theirs.decision_function(X), rtol=1e-5, atol=1e-6
    )
    ours_pred, theirs_pred = ours.predict(X), theirs.predict(X)
    assert ours_pred.shape == theirs_pred.shape == (len(X),)
    assert ours_pred.dtype == theirs_pred.dtype
    np.testing.assert_array_equal(ours_pred, theirs_pred)
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y))
    assert ours.model_ is ours.trainer_.model


def test_one_class_and_bad_target_errors_like_keras():
    X, _ = data()
    clf = SKLearnClassifier(kerax_classifier, fit_kwargs=FIT)
    with pytest.raises(ValueError, match="only one class"):
        clf.fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="Only binary and multiclass"):
        clf.fit(X, np.linspace(0, 1, len(X)))


def test_get_params_set_params_clone():
    est = SKLearnClassifier(
        kerax_classifier, model_kwargs={"hidden": 4}, fit_kwargs={"epochs": 2}
    )
    assert est.get_params() == {
        "model": kerax_classifier,
        "warm_start": False,
        "model_kwargs": {"hidden": 4},
        "fit_kwargs": {"epochs": 2},
    }
    est.set_params(model_kwargs={"hidden": 2})
    assert est.model_kwargs == {"hidden": 2}
    X, y = data()
    est.set_params(fit_kwargs=FIT).fit(X, y)
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    assert not hasattr(twin, "train_state_") and not hasattr(twin, "classes_")


def test_pipeline_and_cross_val_score():
    X, y = data(n=16, labels=(0, 1))
    X = X * 100 + 5
    # One Trainer for every fit (it holds configuration and compiled steps
    # only; each fit starts from fresh params): compiled once.
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2, activation="softmax")])
    trainer = kerax.Trainer(model, "adam", "categorical_crossentropy")
    pipe = make_pipeline(StandardScaler(), SKLearnClassifier(trainer, fit_kwargs=FIT))
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (16,)
    assert set(pipe.predict(X)) <= {0, 1}
    assert pipe[-1].classes_.tolist() == [0, 1]
    scores = cross_val_score(pipe, X, y, cv=2)
    assert scores.shape == (2,)
    assert np.all((scores >= 0) & (scores <= 1))


def test_regressor_fit_reduces_loss_and_warm_start():
    X, _ = data()
    y = X @ np.asarray([1.0, -2.0, 0.5], "float32")
    reg = SKLearnRegressor(regressor, fit_kwargs={**FIT, "epochs": 5})
    reg.fit(X, y)
    losses = reg.history_.history["loss"]
    assert losses[-1] < losses[0]
    assert reg.predict(X).shape == (len(X),)
    assert reg.epoch_ == 5
    params = reg.train_state_.params
    reg.set_params(warm_start=True).fit(X, y, epochs=1)
    assert reg.history_.history["loss"][0] < losses[0]
    assert reg.train_state_.params is not params
    with pytest.raises(ValueError, match="1d array"):  # As Keras's wrapper.
        SKLearnRegressor(regressor, fit_kwargs=FIT).fit(X, np.stack([y, -y], 1))


def test_transformer_and_trainer_instance():
    X, y = data(labels=(0, 1))
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(1, name="embed")])
    trainer = kerax.Trainer(model, "sgd", "mse")
    tr = SKLearnTransformer(trainer, fit_kwargs=FIT)
    Xt = tr.fit(X, y.astype("float32")).transform(X)
    assert Xt.shape == (len(X), 1)
    assert tr.trainer_ is trainer and tr.model_ is model


def test_model_must_be_a_trainer():
    X, y = data()
    bare = kerax.Sequential([kerax.Input((3,)), layers.Dense(3)])
    with pytest.raises(RuntimeError, match="kerax.Trainer\\(model, optimizer"):
        SKLearnClassifier(lambda X, y: bare).fit(X, y)
    with pytest.raises(RuntimeError, match="needs a loss"):
        SKLearnClassifier(kerax.Trainer(bare, "sgd")).fit(X, y)
