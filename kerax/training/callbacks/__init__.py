"""Keras callbacks over a `TrainState`: same names, arguments and behaviour.

A hook is written in either of two styles, told apart by its signature.
Keras's, unchanged from Keras code (`self.model.stop_training = True`,
`self.model.get_weights()`/`set_weights()`, `self.train_state` for the
current TrainState):

    class Report(kerax.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(f"epoch {epoch}: loss {logs['loss']:.3f}")

Or kerax's: the `TrainState` first, then Keras's arguments, and the hook MAY
return a new `TrainState` (None keeps it):

    class HalveLR(kerax.callbacks.Callback):
        def on_epoch_end(self, ts, epoch, logs=None):
            lr = kerax.optimizers.get_learning_rate(ts.opt_state)
            return ts._replace(opt_state=kerax.optimizers.set_learning_rate(ts.opt_state, lr / 2))

Rules that follow from purity:
- Batch logs hold JAX scalars (reading one waits for the step; callbacks that
  never read them cost nothing). Epoch logs hold Python floats.
- The TrainState a hook sees is donated to the next training step: copy
  arrays you keep (`jax.tree.map(jnp.copy, ts.params)`).
- A TrainState returned from a test or predict hook applies to that
  evaluation or prediction only (e.g. `SwapEMAWeights` evaluating with the
  moving average); training continues from its own state.
- Checkpointing callbacks (ModelCheckpoint, BackupAndRestore: the checkpoint
  module) save `ts` in `on_epoch_end`; to resume, a callback restores `ts` in
  `on_train_begin` and sets `self.trainer.initial_epoch` to the epoch to
  continue from.
"""

from kerax.core import registry
from kerax.training.callbacks.base import (
    HOOKS,
    Callback,
    CallbackList,
    History,
    LambdaCallback,
)
from kerax.training.callbacks.loggers import CSVLogger, ProgbarLogger, TensorBoard
from kerax.training.callbacks.monitoring import (
    EarlyStopping,
    LearningRateScheduler,
    ReduceLROnPlateau,
    SwapEMAWeights,
    TerminateOnNaN,
)

__all__ = [
    "HOOKS",
    "Callback",
    "CallbackList",
    "History",
    "ProgbarLogger",
    "EarlyStopping",
    "ReduceLROnPlateau",
    "LearningRateScheduler",
    "CSVLogger",
    "TensorBoard",
    "TerminateOnNaN",
    "LambdaCallback",
    "SwapEMAWeights",
]

registry.add_all(
    "callbacks",
    {name: globals()[name] for name in __all__ if isinstance(globals()[name], type)},
)
