"""The callback contract: `Callback`, `CallbackList`, `History`, `LambdaCallback`."""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp

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


class Callback:
    """Base class of kerax callbacks (Keras's hooks, with the TrainState first).

    Attributes:
        trainer: the `kerax.Trainer` running (set before `on_train_begin`).
        model: `trainer.model`.
        params: `{"verbose", "epochs", "steps"}` of the current run.
    """

    def __init__(self):
        self.trainer = None
        self.params = {}

    @property
    def model(self):
        return None if self.trainer is None else self.trainer.model

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
        """Called before a training batch (once per execution with `steps_per_execution`)."""

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


def _overrides(cb, hook: str) -> bool:
    if hook in vars(cb):
        return True
    return getattr(type(cb), hook, None) is not getattr(Callback, hook)


class CallbackList:
    """Calls a list of callbacks in order, threading the TrainState through.

    Only callbacks that override a hook are called for it, so the per-batch
    cost of unused hooks is nothing.
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
        self._active = {
            hook: [getattr(cb, hook) for cb in self.callbacks if _overrides(cb, hook)]
            for hook in HOOKS
        }

    def active(self, hook: str) -> bool:
        return bool(self._active[hook])

    def call(self, hook: str, ts, *args):
        for fn in self._active[hook]:
            new = fn(ts, *args)
            if new is not None:
                ts = new
        return ts

    def __iter__(self):
        return iter(self.callbacks)


def _progbar_logger():
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
