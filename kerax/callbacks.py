"""Keras callbacks for `kerax.Trainer` (see `kerax.training.callbacks`).

Hooks receive the `TrainState` first and may return a new one. The
checkpointing callbacks (`ModelCheckpoint`, `BackupAndRestore`,
`OrbaxCheckpoint`) live with the checkpoint code, `kerax.checkpoint`; they
appear here under their Keras names as soon as that module defines them.
"""

from kerax.training.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ProgbarLogger,
    ReduceLROnPlateau,
    SwapEMAWeights,
    TensorBoard,
    TerminateOnNaN,
)

_FROM_CHECKPOINT = ("ModelCheckpoint", "BackupAndRestore", "OrbaxCheckpoint")


def __getattr__(name):
    if name in _FROM_CHECKPOINT:
        from kerax import checkpoint

        try:
            return getattr(checkpoint, name)
        except AttributeError:
            raise AttributeError(
                f"kerax.callbacks.{name} comes from kerax.checkpoint, which does not define it (yet)."
            ) from None
    raise AttributeError(f"module 'kerax.callbacks' has no attribute {name!r}")


__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
]
