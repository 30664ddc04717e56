"""Keras callbacks for `kerax.Trainer` (see `kerax.training.callbacks`).

Hooks receive the `TrainState` first and may return a new one. The
checkpointing callbacks (`ModelCheckpoint`, `BackupAndRestore`) live with the
saving code in `kerax.saving.callbacks`.
"""

from kerax.saving.callbacks import BackupAndRestore, ModelCheckpoint
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

__all__ = [
    "BackupAndRestore",
    "ModelCheckpoint",
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
