"""scikit-learn estimators over kerax models: Keras's `keras.wrappers`.

`SKLearnClassifier`, `SKLearnRegressor` and `SKLearnTransformer` are
scikit-learn estimators (`fit`, `predict`, `score`, `get_params` /
`set_params`, `sklearn.base.clone`, `Pipeline`, `cross_val_score`) built
from a kerax model and its training configuration.

The one difference from Keras: a Keras model carries its optimizer and loss
(`model.compile(...)`), a kerax model does not. What Keras calls "a compiled
model" is, in kerax, a `kerax.Trainer` (the model plus optimizer, loss and
metrics). So `model=` is a `kerax.Trainer`, or a callable
`model(X=X, y=y, **model_kwargs)` that returns one, where Keras takes a
compiled `keras.Model` or a callable returning one.

A fitted estimator holds everything it learned explicitly, as attributes:

- `trainer_`: the `kerax.Trainer` that was fitted;
- `model_`: its kerax model (`trainer_.model`), a config without arrays;
- `train_state_`: the fitted `kerax.TrainState` (`params`, `state`,
  optimizer state, ...), what Keras keeps inside `model_`;
- `history_`: the `History` of `fit` (`history_.history["loss"]`);
- `n_features_in_` (and `feature_names_in_` for DataFrames), and
  `classes_` for classifiers, as in Keras.
"""

from __future__ import annotations

import numpy as np

try:
    import sklearn
    import sklearn.pipeline
    import sklearn.preprocessing
    from sklearn.base import (
        BaseEstimator,
        ClassifierMixin,
        RegressorMixin,
        TransformerMixin,
    )
except ImportError:  # pragma: no cover - scikit-learn is a dependency.
    sklearn = None

    class BaseEstimator:  # type: ignore[no-redef]
        pass

    class ClassifierMixin:  # type: ignore[no-redef]
        pass

    class RegressorMixin:  # type: ignore[no-redef]
        pass

    class TransformerMixin:  # type: ignore[no-redef]
        pass


__all__ = [
    "SKLearnClassifier",
    "SKLearnRegressor",
    "SKLearnTransformer",
    "TargetReshaper",
]


def _assert_sklearn_installed(symbol_name):
    if sklearn is None:
        raise ImportError(
            f"{symbol_name} requires `scikit-learn` to be installed. "
            "Run `pip install scikit-learn` to install it."
        )


def _validate_data(estimator, *args, **kwargs):
    """`sklearn.utils.validation.validate_data` (scikit-learn >= 1.6) or the
    estimator's `_validate_data` before it."""
    try:
        from sklearn.utils.validation import validate_data
    except ImportError:  # pragma: no cover - scikit-learn < 1.6.
        return estimator._validate_data(*args, **kwargs)
    return validate_data(estimator, *args, **kwargs)


def _type_of_target(y):
    from sklearn.utils.multiclass import type_of_target

    target_type = type_of_target(y)
    if target_type == "unknown":
        raise ValueError(f"Unknown label type for data: {y!r}")
    return target_type


def _check_trainer(trainer, where):
    from kerax.training.trainer import Trainer

    if not isinstance(trainer, Trainer):
        hint = ""
        if hasattr(trainer, "init") and hasattr(trainer, "apply"):
            hint = (
                " It is a kerax model: a kerax model carries no optimizer or "
                "loss, so wrap it as Keras's `model.compile(...)` would: "
                "`kerax.Trainer(model, optimizer=..., loss=...)`."
            )
        raise RuntimeError(
            f"{where} must be a `kerax.Trainer` (kerax's compiled model: the "
            f"model with an optimizer and a loss), got {trainer!r}.{hint}"
        )
    if trainer._compile_args[0] is None and trainer._custom[0] is None:
        raise RuntimeError(
            f"{where} needs a loss: `kerax.Trainer(model, optimizer=..., "
            "loss=...)`, as Keras's wrappers need a model compiled with a loss "
            "and an optimizer."
        )


class TargetReshaper(TransformerMixin, BaseEstimator):
    """Makes 1-D targets 2-D and back (Keras's `TargetReshaper`).

    Attributes:
        ndim_: the number of dimensions of the `y` it was fitted on.
    """

    def fit(self, y):
        self.ndim_ = y.ndim
        return self

    def transform(self, y):
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def inverse_transform(self, y):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        if self.ndim_ == 1 and y.ndim == 2:
            return np.squeeze(y, axis=1)
        return y


class SKLBase(BaseEstimator):
    """Base class of the scikit-learn wrappers.

    Args:
        model: a `kerax.Trainer` (kerax's compiled model), or a callable
            `model(X=X, y=y, **model_kwargs)` returning one. `X` is the
            validated input array and `y` the processed target (one-hot for
            classifiers, at least 2-D), so the builder can size the input and
            output layers. A `Trainer` given as is is reused by every fit
            (it holds configuration only); each fit starts from fresh params
            from `trainer.init()` unless `warm_start=True`.
        warm_start: reuse the fitted `train_state_` in the next `fit` (and the
            fitted trainer) instead of starting afresh.
        model_kwargs: keyword arguments for `model` when it is a callable.
        fit_kwargs: keyword arguments for `Trainer.fit` (`epochs`,
            `batch_size`, `verbose`, ...); those given to `fit` itself take
            precedence.

    Attributes:
        trainer_: the fitted `kerax.Trainer`.
        model_: the fitted kerax model (`trainer_.model`).
        train_state_: the fitted `kerax.TrainState`: the learned params.
        history_: the `History` returned by `Trainer.fit`.
        n_features_in_: the number of features seen in `fit`.
    """

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
        _assert_sklearn_installed(self.__class__.__name__)
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def _more_tags(self):
        return {"non_deterministic": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def __sklearn_clone__(self):
        """An unfitted copy with the same parameters (`sklearn.base.clone`).

        `model` is shared, not deep-copied: a builder is a function and a
        `kerax.Trainer` holds configuration and compiled steps only (each
        fit starts from fresh params). Unlike Keras's, `fit_kwargs` are kept.
        """

        def copied(kwargs):
            return dict(kwargs) if kwargs is not None else None

        return type(self)(
            model=self.model,
            warm_start=self.warm_start,
            model_kwargs=copied(self.model_kwargs),
            fit_kwargs=copied(self.fit_kwargs),
        )

    @property
    def epoch_(self):
        """The number of epochs trained in the last `fit`."""
        history = getattr(self, "history_", None)
        return len(history.epoch) if history is not None else 0

    def _get_trainer(self, X, y):
        if self.warm_start and hasattr(self, "trainer_"):
            return self.trainer_
        from kerax.training.trainer import Trainer

        if isinstance(self.model, Trainer):
            trainer = self.model
            where = "`model`"
        elif callable(self.model):
            trainer = self.model(X=X, y=y, **(self.model_kwargs or {}))
            where = "What the `model` callable returned"
        else:
            raise TypeError(
                f"`model` must be a `kerax.Trainer` or a callable "
                f"`model(X=X, y=y, **model_kwargs)` returning one, got {self.model!r}."
            )
        _check_trainer(trainer, where)
        return trainer

    def fit(self, X, y, **kwargs):
        """Trains on `(X, y)`; returns `self`.

        Args:
            X: array-like, shape `(n_samples, n_features)`.
            y: array-like, shape `(n_samples,)` or `(n_samples, n_outputs)`.
            **kwargs: `Trainer.fit` arguments (over `fit_kwargs`).
        """
        X, y = _validate_data(self, X, y)
        y = self._process_target(y, reset=True)
        trainer = self._get_trainer(X, y)
        ts = None
        if self.warm_start and hasattr(self, "train_state_"):
            ts = self.train_state_
        fit_kwargs = dict(self.fit_kwargs or {})
        fit_kwargs.update(kwargs)
        if ts is None and getattr(trainer.model, "input_spec", None) is not None:
            ts = trainer.init()  # Else `fit` initializes from the first batch.
        self.train_state_, self.history_ = trainer.fit(ts, X, y, **fit_kwargs)
        self.trainer_ = trainer
        self.model_ = trainer.model
        return self

    def _raw_predict(self, X):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self.trainer_.predict(self.train_state_, X, verbose=0)

    def predict(self, X):
        """Predictions for `X`, in the form of the `y` given to `fit`."""
        return self._reverse_process_target(self._raw_predict(X))

    def _process_target(self, y, reset=False):
        """Regressors keep the target (made at least 2-D); classifiers one-hot
        encode it."""
        _type_of_target(y)
        if reset:
            self._target_encoder = TargetReshaper().fit(y)
        return self._target_encoder.transform(y)

    def _reverse_process_target(self, y):
        return self._target_encoder.inverse_transform(y)


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A scikit-learn classifier over a kerax model (Keras's `SKLearnClassifier`).

    The labels are one-hot encoded (`classes_` are the sorted unique labels,
    as in Keras), so the model ends in `len(classes_)` units, softmax or
    logits matching the loss; `predict` returns the label of the largest
    output, `predict_proba` (and Keras's `decision_function`) the outputs.

    Args:
        model: a `kerax.Trainer` or a callable `model(X=X, y=y,
            **model_kwargs)` returning one (kerax's form of Keras's compiled
            model: see `kerax.wrappers`).
        warm_start, model_kwargs, fit_kwargs: as in Keras (`SKLBase`).

    Attributes:
        trainer_, model_, train_state_, history_, n_features_in_: the
            fitted state (see `kerax.wrappers`).
        classes_: the class labels.

    Example:

    >>> import kerax
    >>> from kerax import layers
    >>> from kerax.wrappers import SKLearnClassifier
    >>> def build(X, y, hidden=8):
    ...     model = kerax.Sequential([
    ...         kerax.Input((X.shape[1],)),
    ...         layers.Dense(hidden, activation="relu"),
    ...         layers.Dense(y.shape[1], activation="softmax"),
    ...     ])
    ...     return kerax.Trainer(model, "adam", "categorical_crossentropy")
    >>> X = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
    >>> y = np.where(X[:, 0] > 0, "pos", "neg")
    >>> clf = SKLearnClassifier(build, model_kwargs={"hidden": 4},
    ...                         fit_kwargs={"epochs": 2, "verbose": 0})
    >>> clf.fit(X, y).classes_.tolist()
    ['neg', 'pos']
    >>> clf.predict(X[:3]).shape, clf.predict_proba(X[:3]).shape
    ((3,), (3, 2))
    >>> sorted(clf.train_state_.params)
    ['dense', 'dense_1']
    """

    def decision_function(self, X):
        """The model's raw outputs for `X`."""
        return self._raw_predict(X)

    def predict_proba(self, X):
        """The model's outputs for `X`: class probabilities for a softmax
        model (a kerax addition; Keras's wrapper has `decision_function`)."""
        return self._raw_predict(X)

    def _process_target(self, y, reset=False):
        target_type = _type_of_target(y)
        if target_type not in ["binary", "multiclass"]:
            raise ValueError(
                "Only binary and multiclass target types are supported."
                f" Target type: {target_type}"
            )
        if reset:
            self._target_encoder = sklearn.pipeline.make_pipeline(
                TargetReshaper(),
                sklearn.preprocessing.OneHotEncoder(sparse_output=False),
            ).fit(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) == 1:
                raise ValueError(
                    "Classifier can't train when only one class is present."
                )
        return self._target_encoder.transform(y)

    def _more_tags(self):
        return {"poor_score": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A scikit-learn regressor over a kerax model (Keras's `SKLearnRegressor`).

    Args:
        model: a `kerax.Trainer` or a callable `model(X=X, y=y,
            **model_kwargs)` returning one (see `kerax.wrappers`); `y` is
            given at least 2-D.
        warm_start, model_kwargs, fit_kwargs: as in Keras (`SKLBase`).

    Attributes:
        trainer_, model_, train_state_, history_, n_features_in_: the
            fitted state (see `kerax.wrappers`).

    Example:

    >>> import kerax
    >>> from kerax.wrappers import SKLearnRegressor
    >>> def build(X, y):
    ...     model = kerax.Sequential(
    ...         [kerax.Input((X.shape[1],)), kerax.layers.Dense(y.shape[1])]
    ...     )
    ...     return kerax.Trainer(model, "sgd", "mse")
    >>> X = np.arange(12, dtype="float32").reshape(6, 2) / 10
    >>> reg = SKLearnRegressor(build, fit_kwargs={"epochs": 1, "verbose": 0})
    >>> reg.fit(X, X.sum(axis=1)).predict(X).shape
    (6,)
    """

    def _more_tags(self):
        return {"poor_score": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, SKLBase):
    """A scikit-learn transformer over a kerax model (Keras's `SKLearnTransformer`).

    `fit` trains the model on `(X, y)`; `transform` returns the fitted
    model's outputs. To transform with an intermediate layer of a trained
    model (an embedding), give a Trainer over
    `kerax.Model(model.inputs, model.get_layer(name).output)`: its params
    are a sub-tree of the full model's.

    Args:
        model: a `kerax.Trainer` or a callable `model(X=X, y=y,
            **model_kwargs)` returning one (see `kerax.wrappers`).
        warm_start, model_kwargs, fit_kwargs: as in Keras (`SKLBase`).

    Attributes:
        trainer_, model_, train_state_, history_, n_features_in_: the
            fitted state (see `kerax.wrappers`).
    """

    def transform(self, X):
        """The fitted model's outputs for `X`, shape `(n_samples, ...)`."""
        return self._raw_predict(X)

    def _more_tags(self):
        return {"preserves_dtype": []}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
