"""The callback contract: `Callback`, `CallbackList`, `History`, `LambdaCallback`."""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np

from kerax.optimizers import get_learning_rate, set_learning_rate

__all__ = ["HOOKS", "Callback", "CallbackList", "History", "LambdaCallback"]

HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


def _copy(tree):
    return jax.tree.map(jnp.copy, tree)


# Keras's hooks, with the positional arguments a Keras-style override takes
# (after `self`); a kerax-style override takes the TrainState first as well.
_KERAS_ARITY = {
    hook: 2 if ("epoch" in hook or "batch" in hook) else 1 for hook in HOOKS
}
# Keras's aliases: `on_batch_begin/end` are `on_train_batch_begin/end`.
_ALIASES = {
    "on_batch_begin": "on_train_batch_begin",
    "on_batch_end": "on_train_batch_end",
}


class Callback:
    """Base class of kerax callbacks: Keras's hooks, in either of two styles.

    Keras style, as in Keras (told apart by the hook's signature):
    `on_epoch_end(self, epoch, logs=None)`, `on_train_batch_end(self, batch,
    logs=None)`, `on_batch_begin/end` (aliases of the train batch hooks);
    `self.model.stop_training = True` (or `self.stop_training = True`) ends
    `fit`; `self.model.get_weights()` / `self.model.set_weights(weights)`
    read and replace the current weights, `self.model.optimizer.learning_rate`
    reads and sets the current learning rate; `self.train_state` is the
    current `TrainState` (read-only).

    kerax style: the `TrainState` first, `on_epoch_end(self, ts, epoch,
    logs=None)`, and the hook MAY return a new `TrainState` (None keeps it).

    Attributes:
        trainer: the `kerax.Trainer` running (set before `on_train_begin`).
        model: `trainer.model`; for a Keras-style callback, a handle on it
            that also has `stop_training`, `get_weights`, `set_weights` and
            `optimizer` (`trainer.tx` with a settable `learning_rate`).
        params: `{"verbose", "epochs", "steps"}` of the current run (Keras's
            `Callback.params`).
        train_state: the `TrainState` the current hook was called with.
        batch_hooks_per_execution: class attribute; True when the callback's
            batch hooks may be called once per fused execution (with the
            last batch's index and logs) instead of once per batch, as the
            progress bar is. Other callbacks with batch hooks make
            `steps_per_execution="auto"` run one step per dispatch.
    """

    batch_hooks_per_execution = False

    def __init__(self):
        self.trainer = None
        self.params = {}
        self.train_state = None
        self._pending_weights = None
        self._pending_opt_state = None

    @property
    def model(self):
        if self.trainer is None:
            return None
        if is_keras_style(self):
            return _ModelHandle(self)
        return self.trainer.model

    @property
    def stop_training(self) -> bool:
        """`trainer.stop_training`: set it to True to end `fit` (Keras's flag)."""
        return bool(self.trainer is not None and self.trainer.stop_training)

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        if self.trainer is None:
            raise ValueError(
                "stop_training is set on the Trainer running this callback; it is not running one yet."
            )
        self.trainer.stop_training = bool(value)

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, ts, logs=None):
        """Called at the start of `fit`."""

    def on_train_end(self, ts, logs=None):
        """Called at the end of `fit`."""

    def on_epoch_begin(self, ts, epoch, logs=None):
        """Called at the start of each epoch (metrics just reset)."""

    def on_epoch_end(self, ts, epoch, logs=None):
        """Called at the end of each epoch; `logs` hold the epoch's metrics and `val_` ones."""

    def on_train_batch_begin(self, ts, batch, logs=None):
        """Called before a training batch."""

    def on_train_batch_end(self, ts, batch, logs=None):
        """Called after a training batch; `batch` is its index in the epoch."""

    def on_test_begin(self, ts, logs=None):
        """Called at the start of `evaluate` (and of validation in `fit`)."""

    def on_test_end(self, ts, logs=None):
        """Called at the end of `evaluate` (and of validation)."""

    def on_test_batch_begin(self, ts, batch, logs=None):
        """Called before an evaluation batch."""

    def on_test_batch_end(self, ts, batch, logs=None):
        """Called after an evaluation batch."""

    def on_predict_begin(self, ts, logs=None):
        """Called at the start of `predict`."""

    def on_predict_end(self, ts, logs=None):
        """Called at the end of `predict`."""

    def on_predict_batch_begin(self, ts, batch, logs=None):
        """Called before a prediction batch."""

    def on_predict_batch_end(self, ts, batch, logs=None):
        """Called after a prediction batch."""


class _ModelHandle:
    """What `self.model` is for a Keras-style callback: the kerax model's
    attributes, plus Keras's `stop_training`, `get_weights`, `set_weights`
    and `optimizer.learning_rate` on the run's current TrainState."""

    __slots__ = ("_callback",)

    def __init__(self, callback):
        object.__setattr__(self, "_callback", callback)

    def __getattr__(self, name):
        return getattr(self._callback.trainer.model, name)

    def __setattr__(self, name, value):
        if name != "stop_training":
            raise AttributeError(
                f"A kerax model is immutable (tried to set {name!r}); a callback may set `stop_training` "
                "or call `set_weights`."
            )
        self._callback.trainer.stop_training = bool(value)

    @property
    def stop_training(self) -> bool:
        return bool(self._callback.trainer.stop_training)

    @property
    def optimizer(self):
        """`trainer.tx` with Keras's `learning_rate` on the current TrainState."""
        return _OptimizerHandle(self._callback)

    def _spec(self):
        """The input spec, for a model without a `kerax.Input` (None otherwise)."""
        model = self._callback.trainer.model
        if getattr(model, "input_spec", None) is not None:
            return None
        return getattr(self._callback.trainer, "input_spec", None)

    def _current(self, what: str):
        return _current_train_state(self._callback, f"{what}()")

    def get_weights(self) -> list:
        """The current weights as NumPy copies, in Keras's order for models
        (`kerax.Model.get_weights`); for a bare layer, the leaves of its
        params then of its state."""
        ts = self._current("get_weights")
        model = self._callback.trainer.model
        if hasattr(model, "get_weights"):  # Models: Keras's variable order.
            weights = model.get_weights(ts.params, ts.state, spec=self._spec())
            return [np.array(w) for w in weights]
        return [np.array(a) for a in jax.tree.leaves((ts.params, ts.state))]

    def set_weights(self, weights) -> None:
        """Replaces the weights (a list as `get_weights` returns it) once the
        hook returns."""
        ts = self._current("set_weights")
        model = self._callback.trainer.model
        weights = list(weights)
        if hasattr(model, "set_weights"):
            self._callback._pending_weights = model.set_weights(
                ts.params, weights, ts.state, spec=self._spec()
            )
            return
        leaves, treedef = jax.tree.flatten((ts.params, ts.state))
        if len(weights) != len(leaves):
            raise ValueError(
                f"set_weights got {len(weights)} arrays; the model has {len(leaves)} (its params, then its state)."
            )
        for i, (new, old) in enumerate(zip(weights, leaves)):
            if np.shape(new) != tuple(old.shape):
                raise ValueError(
                    f"set_weights: array {i} has shape {np.shape(new)}, expected {tuple(old.shape)}."
                )
        self._callback._pending_weights = treedef.unflatten(
            [jnp.asarray(w, old.dtype) for w, old in zip(weights, leaves)]
        )


class _OptimizerHandle:
    """What `self.model.optimizer` is for a Keras-style callback: the
    Trainer's optimizer (`trainer.tx`), whose Keras `learning_rate` reads the
    current TrainState's optimizer state and, set, replaces it once the hook
    returns (`kerax.optimizers.get_learning_rate` / `set_learning_rate`)."""

    __slots__ = ("_callback",)

    def __init__(self, callback):
        object.__setattr__(self, "_callback", callback)

    def __getattr__(self, name):
        return getattr(self._callback.trainer.tx, name)

    def __setattr__(self, name, value):
        if name != "learning_rate":
            raise AttributeError(
                f"A kerax optimizer is immutable (tried to set {name!r}); a callback may set "
                "`learning_rate`."
            )
        object.__setattr__(self, name, value)  # The property's setter.

    @property
    def learning_rate(self):
        ts = _current_train_state(self._callback, "optimizer.learning_rate")
        try:
            return get_learning_rate(ts.opt_state)
        except ValueError as e:  # No learning rate: `hasattr` is False.
            raise AttributeError(str(e)) from e

    @learning_rate.setter
    def learning_rate(self, value):
        ts = _current_train_state(self._callback, "optimizer.learning_rate")
        self._callback._pending_opt_state = set_learning_rate(ts.opt_state, value)


def _current_train_state(cb, what: str):
    """The hook's TrainState with the replacements made so far in the hook."""
    ts = cb.train_state
    if ts is None:
        raise ValueError(
            f"{what} is available inside a callback hook of a running fit."
        )
    return _with_pending(cb, ts)


def _with_pending(cb, ts):
    weights = getattr(cb, "_pending_weights", None)
    if weights is not None:
        ts = ts._replace(params=weights[0], state=weights[1])
    opt_state = getattr(cb, "_pending_opt_state", None)
    if opt_state is not None:
        ts = ts._replace(opt_state=opt_state)
    return ts


def _overrides(cb, hook: str) -> bool:
    if hook in vars(cb):
        return True
    return getattr(type(cb), hook, None) is not getattr(Callback, hook)


def _hook_of(cb, hook: str):
    """The callback's method for `hook` (or its Keras alias), or None if not overridden."""
    if _overrides(cb, hook):
        return getattr(cb, hook)
    for alias, target in _ALIASES.items():
        if target == hook and callable(getattr(cb, alias, None)):
            return getattr(cb, alias)
    return None


def _takes_train_state(fn, hook: str) -> bool:
    arity = _positional_arity(fn)
    return arity is None or arity > _KERAS_ARITY[hook]


def is_keras_style(cb) -> bool:
    """True when a callback's hooks take Keras's arguments (no TrainState)."""
    cached = vars(cb).get("_keras_style")
    if cached is None:
        hooks = [(h, _hook_of(cb, h)) for h in HOOKS]
        cached = any(
            fn is not None and not _takes_train_state(fn, h) for h, fn in hooks
        )
        cb.__dict__["_keras_style"] = cached
    return cached


def _keras_hook(cb, fn):
    def hook(ts, *args):
        cb.train_state = ts
        fn(*args)
        ts = _with_pending(cb, ts)
        cb._pending_weights = cb._pending_opt_state = None
        return ts

    return hook


def _kerax_hook(cb, fn):
    def hook(ts, *args):
        cb.train_state = ts
        return fn(ts, *args)

    return hook


class CallbackList:
    """Calls a list of callbacks in order, threading the TrainState through.

    Only callbacks that override a hook are called for it, so the per-batch
    cost of unused hooks is nothing. Keras-style hooks (no TrainState
    argument) are told apart by their signature and called with Keras's
    arguments.
    """

    def __init__(
        self,
        callbacks=None,
        *,
        add_history=False,
        add_progbar=False,
        trainer=None,
        **params,
    ):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"Callbacks must be kerax.callbacks.Callback instances, got {type(cb).__name__}."
                )
        self.history = None
        if add_progbar and not any(
            type(c).__name__ == "ProgbarLogger" for c in self.callbacks
        ):
            self.callbacks.insert(0, _progbar_logger())
        if add_history:
            existing = [c for c in self.callbacks if isinstance(c, History)]
            if existing:
                self.history = existing[0]
            else:
                self.history = History()
                self.callbacks.append(self.history)
        for cb in self.callbacks:
            if trainer is not None:
                cb.set_trainer(trainer)
            cb.set_params(dict(params))
        self._active = {hook: [] for hook in HOOKS}
        self._per_batch = set()  # Hooks some callback needs once per batch.
        for cb in self.callbacks:
            keras_style = is_keras_style(cb)
            for hook in HOOKS:
                fn = _hook_of(cb, hook)
                if fn is None:
                    continue
                wrap = _keras_hook if keras_style else _kerax_hook
                self._active[hook].append(wrap(cb, fn))
                if not cb.batch_hooks_per_execution:
                    self._per_batch.add(hook)

    def active(self, hook: str) -> bool:
        return bool(self._active[hook])

    def per_batch(self, hook: str) -> bool:
        """True when a callback needs `hook` for every batch, not per execution."""
        return hook in self._per_batch

    def call(self, hook: str, ts, *args):
        if args and args[-1] is None:
            # Keras's hooks always get a dict (`{}` when there is nothing to log).
            args = (*args[:-1], {})
        for fn in self._active[hook]:
            new = fn(ts, *args)
            if new is not None:
                ts = new
        return ts

    def __iter__(self):
        return iter(self.callbacks)


def _progbar_logger():
    # Function-local: loggers.py imports this module's Callback base.
    from kerax.training.callbacks.loggers import ProgbarLogger

    return ProgbarLogger()


class History(Callback):
    """Records the epoch logs: `history.history["loss"]`, `history.epoch`."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, ts, logs=None):
        self.epoch = []

    def on_epoch_end(self, ts, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _positional_arity(fn) -> int | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    n = 0
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
    return n


class LambdaCallback(Callback):
    """A callback from functions, like `keras.callbacks.LambdaCallback`.

    Functions take Keras's arguments (`on_epoch_end(epoch, logs)`,
    `on_train_begin(logs)`, ...), or the TrainState first as kerax hooks do
    (`on_epoch_end(ts, epoch, logs)`), in which case they may return a new
    TrainState. Any hook name in `HOOKS` may be given.
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        given = dict(
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
            on_train_batch_begin=on_train_batch_begin,
            on_train_batch_end=on_train_batch_end,
        )
        for k in list(kwargs):
            if k in HOOKS:
                given[k] = kwargs.pop(k)
        self.__dict__.update(kwargs)
        for hook, fn in given.items():
            if fn is None:
                continue
            keras_arity = (
                1
                if hook.endswith(("_begin", "_end"))
                and "batch" not in hook
                and "epoch" not in hook
                else 2
            )
            arity = _positional_arity(fn)
            takes_ts = arity is None or arity > keras_arity
            setattr(self, hook, _lambda_hook(fn, takes_ts))


def _lambda_hook(fn, takes_ts):
    if takes_ts:
        return fn

    def hook(ts, *args):
        fn(*args)

    return hook
