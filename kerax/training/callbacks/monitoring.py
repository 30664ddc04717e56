"""Callbacks that steer training: `EarlyStopping`, `ReduceLROnPlateau`,
`LearningRateScheduler`, `TerminateOnNaN`, `SwapEMAWeights`."""

from __future__ import annotations

import math
import warnings

import numpy as np

from kerax.optimizers import ema_params, get_learning_rate, set_learning_rate
from kerax.training.callbacks.base import Callback, _copy
from kerax.utils.io_utils import print_msg

__all__ = [
    "EarlyStopping",
    "ReduceLROnPlateau",
    "LearningRateScheduler",
    "TerminateOnNaN",
    "SwapEMAWeights",
]

_MAX_HINTS = (
    "acc",
    "auc",
    "precision",
    "recall",
    "f1",
    "fbeta",
    "iou",
    "r2",
    "true_positives",
    "true_negatives",
    "correlation",
)


class _MonitorCallback(Callback):
    """Keras's MonitorCallback: `monitor`, `mode`, `min_delta`, improvement test."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=3,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _direction(self) -> str | None:
        name = self.monitor.removeprefix("val_")
        if name == "loss" or name.endswith("_loss"):
            return "down"
        objectives = getattr(self.trainer, "objectives", None)
        for e in getattr(objectives, "metric_entries", ()):
            if e.name == name:
                d = getattr(
                    e.metric, "direction", getattr(e.metric, "_direction", None)
                )
                if d in ("up", "down"):
                    return d
        if any(h in name for h in _MAX_HINTS):
            return "up"
        if any(
            h in name
            for h in (
                "error",
                "crossentropy",
                "hinge",
                "divergence",
                "poisson",
                "logcosh",
            )
        ):
            return "down"
        return None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = np.less
        elif self.mode == "max":
            self.monitor_op = np.greater
        else:
            d = self._direction()
            if d is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but kerax isn't able to "
                    "automatically determine whether that metric should be maximized or minimized. Pass `mode='max'` "
                    "in order to monitor based on the highest metric value, or pass `mode='min'` in order to use the "
                    "lowest value."
                )
            self.monitor_op = np.greater if d == "up" else np.less
        if self.monitor_op is np.less:
            self.min_delta *= -1

    def _is_improvement(self, value, reference) -> bool:
        if reference is None:
            return True
        return bool(self.monitor_op(value - self.min_delta, reference))


class EarlyStopping(_MonitorCallback):
    """Stops training when `monitor` has stopped improving (Keras semantics).

    Args:
        monitor, min_delta, patience, verbose, mode, baseline,
        restore_best_weights, start_from_epoch: as `keras.callbacks.EarlyStopping`.
            With `restore_best_weights`, `fit` returns the TrainState with the
            params and state of the best epoch.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, ts, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, ts, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list((logs or {}).keys()))}",
                stacklevel=2,
            )
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = _copy((ts.params, ts.state))
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = _copy((ts.params, ts.state))
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, ts, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(
                    f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}."
                )
            params, state = self.best_weights
            return ts._replace(params=params, state=state)
        return None


def _get_lr(ts) -> float:
    return float(get_learning_rate(ts.opt_state))


def _set_lr(ts, value):
    return ts._replace(opt_state=set_learning_rate(ts.opt_state, value))


class ReduceLROnPlateau(_MonitorCallback):
    """Multiplies the learning rate by `factor` when `monitor` stops improving.

    Uses `kerax.optimizers.set_learning_rate` on `ts.opt_state` (a schedule is
    scaled, not replaced). Arguments as `keras.callbacks.ReduceLROnPlateau`.
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        **kwargs,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        if "epsilon" in kwargs:  # Keras's old name.
            self.min_delta = abs(kwargs.pop("epsilon"))
        if kwargs:
            raise TypeError(f"Unexpected arguments: {sorted(kwargs)}")
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, ts, logs=None):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, ts, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        old_lr = _get_lr(ts)
        logs["learning_rate"] = old_lr
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list(logs.keys()))}.",
                stacklevel=2,
            )
            return None
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and old_lr > np.float32(self.min_lr):
                new_lr = max(old_lr * self.factor, self.min_lr)
                if self.verbose > 0:
                    print_msg(
                        f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}."
                    )
                self.cooldown_counter = self.cooldown
                self.wait = 0
                return _set_lr(ts, new_lr)
        return None


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch to `schedule(epoch, lr)`.

    `schedule` may also take the epoch alone. Like Keras, the epoch's logs get
    the rate in `learning_rate`.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, ts, epoch, logs=None):
        lr = _get_lr(ts)
        try:
            new_lr = self.schedule(epoch, lr)
        except TypeError:  # Old API: schedule(epoch).
            new_lr = self.schedule(epoch)
        if not isinstance(new_lr, (float, np.floating, int, np.integer)) and not (
            hasattr(new_lr, "shape") and np.shape(new_lr) == ()
        ):
            raise ValueError(
                f'The output of the "schedule" function should be a float. Got: {new_lr}'
            )
        new_lr = float(new_lr)
        if self.verbose > 0:
            print_msg(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new_lr}."
            )
        return _set_lr(ts, new_lr)

    def on_epoch_end(self, ts, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _get_lr(ts)


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite (reads the loss every batch)."""

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_train_batch_end(self, ts, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isnan(loss) or math.isinf(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. Terminating training immediately."
                )
            print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.trainer.stop_training = True


class SwapEMAWeights(Callback):
    """Evaluates and predicts with the optimizer's moving average of the weights.

    Needs an optimizer built with `use_ema=True`. Test and predict hooks hand
    the evaluation a TrainState whose params are the EMA (training continues
    from its own params). With `swap_on_epoch=True` the EMA params are also
    what the callbacks after this one see at the end of each epoch (e.g. to
    checkpoint them); the training params come back at the next epoch's
    start. As in Keras, after the last epoch the returned TrainState then
    holds the EMA params.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._stashed = None

    @staticmethod
    def _with_ema(ts):
        return ts._replace(params=_copy(ema_params(ts.opt_state, ts.params)))

    def on_train_begin(self, ts, logs=None):
        self._stashed = None

    def on_epoch_begin(self, ts, epoch, logs=None):
        if self._stashed is not None:
            params, self._stashed = self._stashed, None
            return ts._replace(params=params)
        return None

    def on_epoch_end(self, ts, epoch, logs=None):
        if self.swap_on_epoch:
            self._stashed = ts.params
            return self._with_ema(ts)
        return None

    def on_test_begin(self, ts, logs=None):
        if self._stashed is not None:  # EMA params already in place.
            return None
        return self._with_ema(ts)

    def on_predict_begin(self, ts, logs=None):
        return self._with_ema(ts)
