"""Training: `TrainState`, pure steps, and the Keras-style `Trainer`.

The functional way: `make_train_step` / `make_eval_step` /
`make_predict_step` return jitted steps over a `TrainState`. The Keras way:
`Trainer(model, optimizer, loss, metrics).fit(ts, x, y, ...)` with
`kerax.callbacks`. Both run the same steps.
"""

from kerax.training import callbacks, compile_cache, data
from kerax.training.compile_cache import enable as enable_compilation_cache
from kerax.training.objectives import Objectives, unpack_batch
from kerax.training.steps import (
    EvalStep,
    Logs,
    PredictStep,
    TrainStep,
    compile_step,
    make_eval_step,
    make_predict_step,
    make_train_step,
    reset_metrics,
)
from kerax.training.train_state import TrainState, init_train_state
from kerax.training.trainer import Trainer

__all__ = [
    "EvalStep",
    "Logs",
    "Objectives",
    "PredictStep",
    "TrainState",
    "TrainStep",
    "Trainer",
    "callbacks",
    "compile_cache",
    "compile_step",
    "data",
    "enable_compilation_cache",
    "init_train_state",
    "make_eval_step",
    "make_predict_step",
    "make_train_step",
    "reset_metrics",
    "unpack_batch",
]
