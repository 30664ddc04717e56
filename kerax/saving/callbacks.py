"""Checkpointing callbacks: `ModelCheckpoint`, `BackupAndRestore`, `OrbaxCheckpoint` (Keras names).

`BackupAndRestore` makes `fit` crash-proof: it saves the whole TrainState
and the position in the data (epoch, batches done in it) with
`kerax.checkpoint.CheckpointManager`; a `fit` started again with the same
arguments restores them and skips exactly the batches already trained, so
the result is bit-identical to an uninterrupted run (same batches in the same
order; dropout keys come from `fold_in(base_key, step)`). SIGTERM (a
preemption notice) makes it write a checkpoint at the next batch boundary and
exit with status 143.
"""

from __future__ import annotations

import shutil
import signal
import threading
import warnings
from pathlib import Path

import jax
import numpy as np

from kerax.checkpoint import CheckpointManager
from kerax.saving import model_file
from kerax.training.callbacks.base import Callback
from kerax.training.callbacks.monitoring import _MonitorCallback
from kerax.utils.io_utils import print_msg

# Managers of runs that ended with an exception in this process: their last
# asynchronous save may still be writing. A new run on the same directory
# waits for it instead of racing it.
_LIVE: dict[Path, object] = {}


class BackupAndRestore(Callback):
    """Backs up training so that an interrupted `fit` resumes where it stopped.

    Args:
      backup_dir: where checkpoints go (one run per directory).
      save_freq: "epoch" (at each epoch end) or an int N (every N batches;
        the position within the epoch is saved too).
      delete_checkpoint: remove `backup_dir` when `fit` completes (Keras's
        default). The CLI keeps it so `kerax train` can be rerun.
      max_to_keep: checkpoints kept (the newest).
      handle_sigterm: on SIGTERM, checkpoint at the next batch end and exit.
    """

    def __init__(
        self,
        backup_dir,
        save_freq="epoch",
        delete_checkpoint=True,
        max_to_keep: int = 2,
        handle_sigterm: bool = True,
    ):
        super().__init__()
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(
                f"BackupAndRestore: save_freq must be 'epoch' or a positive int, got {save_freq!r}."
            )
        self.backup_dir = Path(backup_dir)
        self.save_freq = save_freq
        # Backing up per epoch, the batch hook only tracks the position (the
        # batch it is called with is the last one run) and a pending SIGTERM:
        # once per fused execution is enough, so `steps_per_execution="auto"`
        # may still fuse. Saving every N batches needs every batch.
        self.batch_hooks_per_execution = save_freq == "epoch"
        self.delete_checkpoint = delete_checkpoint
        self.max_to_keep = max_to_keep
        self.handle_sigterm = handle_sigterm
        self.manager = None
        self._epoch = 0
        self._preempted = False
        self._previous_handler = None
        self._batches_since_save = 0
        self._done = 0

    # ----------------------------------------------------------- lifecycle
    def on_train_begin(self, ts, logs=None):
        previous = _LIVE.pop(self.backup_dir.absolute(), None)
        if previous is not None:
            previous.close()
        self.manager = CheckpointManager(self.backup_dir, max_to_keep=self.max_to_keep)
        _LIVE[self.backup_dir.absolute()] = self.manager
        self._preempted = False
        self._batches_since_save = 0
        if (
            self.handle_sigterm
            and threading.current_thread() is threading.main_thread()
        ):
            self._previous_handler = signal.signal(signal.SIGTERM, self._on_sigterm)
        if self.manager.latest_step() is None:
            return None
        ts, position, _ = self.manager.restore_latest(target=ts)
        self.trainer.initial_epoch = position.get("epoch", 0)
        self.trainer.initial_batch = position.get("batch", 0)
        return ts

    def _on_sigterm(self, signum, frame):
        del signum, frame
        self._preempted = True
        self.trainer.stop_training = True

    def on_epoch_begin(self, ts, epoch, logs=None):
        self._epoch = epoch
        self._done = (
            self.trainer.initial_batch if epoch == self.trainer.initial_epoch else 0
        )

    def on_train_batch_end(self, ts, batch, logs=None):
        self._done = batch + 1
        self._batches_since_save += 1
        if self._preempted:
            self._exit(ts)
        if (
            isinstance(self.save_freq, int)
            and self._batches_since_save >= self.save_freq
        ):
            self._save(ts, self._epoch, self._done)
            self._batches_since_save = 0

    def on_epoch_end(self, ts, epoch, logs=None):
        if self._preempted:  # `fit` stopped mid-epoch: the epoch is not done.
            self._exit(ts)
        if self.save_freq == "epoch":
            self._save(ts, epoch + 1, 0)

    def _exit(self, ts):
        """Preempted: checkpoint where we are, wait for the write, exit 143."""
        self._save(ts, self._epoch, self._done)
        self.manager.wait_until_finished()
        self._restore_handler()
        raise SystemExit(128 + signal.SIGTERM)

    def on_train_end(self, ts, logs=None):
        self._restore_handler()
        if self.manager is not None:
            self.manager.close()
            _LIVE.pop(self.backup_dir.absolute(), None)
        if (
            self.delete_checkpoint
            and not self._preempted
            and not self.trainer.stop_training
        ):
            shutil.rmtree(self.backup_dir, ignore_errors=True)

    # -------------------------------------------------------------- helpers
    def _save(self, ts, epoch, batch):
        steps = self.params.get("steps")
        if steps and batch >= steps:  # The epoch is complete: resume at the next.
            epoch, batch = epoch + 1, 0
        self.manager.save(
            int(ts.step), ts, position={"epoch": epoch, "batch": batch}, force=True
        )

    def _restore_handler(self):
        if (
            self._previous_handler is not None
            and threading.current_thread() is threading.main_thread()
        ):
            signal.signal(signal.SIGTERM, self._previous_handler)
            self._previous_handler = None


class ModelCheckpoint(_MonitorCallback):
    """Saves the model (or its weights) during training, like Keras's.

    Args:
      filepath: a directory path, may hold `{epoch}` and log keys
        (`"ckpt/{epoch:02d}-{val_loss:.2f}"`).
      monitor, mode, save_best_only, initial_value_threshold, verbose: as Keras.
      save_weights_only: write only params and state (orbax) rather than a
        full `kerax.save_model` directory.
      save_freq: "epoch" or an int N (every N batches).

    Each save is atomic (written aside, then renamed), so an interrupted save
    never leaves a broken model where a good one was.
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(
                f"ModelCheckpoint: save_freq must be 'epoch' or a positive int, got {save_freq!r}."
            )
        self.filepath = str(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        # Saving per epoch leaves the batch hook idle: it need not see every
        # batch, so `steps_per_execution="auto"` may still fuse steps.
        self.batch_hooks_per_execution = save_freq == "epoch"
        self._epoch = 0
        self._batches = 0
        self.saved: list[Path] = []

    def on_train_begin(self, ts, logs=None):
        self._set_monitor_op()

    def on_epoch_begin(self, ts, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, ts, batch, logs=None):
        if isinstance(self.save_freq, int):
            self._batches += 1
            if self._batches % self.save_freq == 0:
                self._maybe_save(
                    ts,
                    self._epoch,
                    {k: float(np.asarray(v)) for k, v in (logs or {}).items()},
                    batch=batch,
                )

    def on_epoch_end(self, ts, epoch, logs=None):
        if self.save_freq == "epoch":
            self._maybe_save(ts, epoch, logs or {})

    def _maybe_save(self, ts, epoch, logs, batch=None):
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(
                    f"ModelCheckpoint: can save best model only with {self.monitor} available; skipping.",
                    stacklevel=2,
                )
                return
            if not self._is_improvement(float(value), self.best):
                return
            self.best = float(value)
        path = Path(self.filepath.format(epoch=epoch + 1, batch=batch, **logs))
        self._write(path, ts)
        self.saved.append(path)
        if self.verbose:
            print_msg(f"\nEpoch {epoch + 1}: saving model to {path}")

    def _write(self, path: Path, ts):
        if self.save_weights_only:
            tree = {
                "params": jax.tree.map(np.asarray, ts.params),
                "state": jax.tree.map(np.asarray, ts.state),
            }
            model_file.atomic_directory_write(
                path, lambda tmp: model_file.write_weights(tmp / "weights", tree)
            )
        else:
            model_file.save_model(path, self.model, ts.params, ts.state)


class OrbaxCheckpoint(_MonitorCallback):
    """Saves the TrainState with orbax during training, like Keras's `OrbaxCheckpoint`.

    Checkpoints go to `directory/<step>/` through
    `kerax.checkpoint.CheckpointManager` (asynchronous, atomic, checksummed).
    The step is the epoch index (0-based, as Keras) with `save_freq="epoch"`,
    else the number of batches trained so far (counted from `ts.step` at the
    start of `fit`, as Keras counts from `optimizer.iterations`).

    Args:
      directory: where the checkpoints go.
      monitor, mode, save_best_only, initial_value_threshold, verbose: as
        Keras: with `save_best_only`, a checkpoint is written only when
        `monitor` improves on the best seen (or on `initial_value_threshold`).
      save_freq: "epoch" or an int N (every N batches).
      max_to_keep: how many of the newest checkpoints to keep (None: all).
      save_on_background: write asynchronously while training continues.
      save_weights_only: save `{"params": ..., "state": ...}` (params and
        layer state) rather than the whole TrainState.

    Restore with the manager; the position is where training would resume
    (`{"epoch": next epoch, "batch": batches done in it}`, as `BackupAndRestore`)::

        ckpt = kerax.checkpoint.CheckpointManager(directory)
        ts, position = ckpt.restore(target=ts)  # latest; or restore(step, target=ts)
        # save_weights_only=True:
        tree, _ = ckpt.restore(target={"params": ts.params, "state": ts.state})

    Example:
        >>> import tempfile, numpy as np
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(1)])
        >>> trainer = kerax.Trainer(model, optimizer="sgd", loss="mse")
        >>> x, y = np.ones((8, 3), "float32"), np.ones((8, 1), "float32")
        >>> d = tempfile.mkdtemp()
        >>> cb = kerax.callbacks.OrbaxCheckpoint(d, monitor="loss", max_to_keep=2)
        >>> ts, _ = trainer.fit(trainer.init(), x, y, epochs=3, verbose=0, callbacks=[cb])
        >>> ckpt = kerax.checkpoint.CheckpointManager(d)
        >>> ckpt.all_steps()
        [1, 2]
        >>> restored, position = ckpt.restore(target=ts)
        >>> position  # where to resume: `fit(..., initial_epoch=position["epoch"])`
        {'epoch': 3, 'batch': 0}
    """

    def __init__(
        self,
        directory,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
        max_to_keep=1,
        save_on_background=True,
        save_weights_only=False,
    ):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        if save_freq != "epoch" and not (
            isinstance(save_freq, int)
            and not isinstance(save_freq, bool)
            and save_freq > 0
        ):
            raise ValueError(
                f"OrbaxCheckpoint: Unrecognized save_freq: {save_freq!r}. "
                "Expected save_freq are 'epoch' or a positive integer (save every N batches)."
            )
        if max_to_keep is not None and not (
            isinstance(max_to_keep, int)
            and not isinstance(max_to_keep, bool)
            and max_to_keep > 0
        ):
            raise ValueError(
                f"OrbaxCheckpoint: max_to_keep must be a positive integer or None (keep all), "
                f"got {max_to_keep!r}."
            )
        self.directory = directory
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_freq = save_freq
        self.max_to_keep = max_to_keep
        self.save_on_background = save_on_background
        self.save_weights_only = save_weights_only
        # Saving per epoch leaves the batch hook idle, so steps may fuse.
        self.batch_hooks_per_execution = save_freq == "epoch"
        self.manager = None
        self._epoch = 0
        self._batches_seen_since_last_saving = 0
        self._total_batches_seen = 0

    def on_train_begin(self, ts, logs=None):
        self._set_monitor_op()
        if self.manager is None:
            # A run that ended with an exception left its manager open (and
            # maybe saving): close it before writing to the same directory.
            previous = _LIVE.pop(Path(self.directory).absolute(), None)
            if previous is not None:
                previous.close()
            self.manager = CheckpointManager(
                self.directory,
                max_to_keep=self.max_to_keep,
                async_save=self.save_on_background,
            )
            _LIVE[Path(self.directory).absolute()] = self.manager
        self._batches_seen_since_last_saving = 0
        self._total_batches_seen = int(ts.step)

    def on_epoch_begin(self, ts, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, ts, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen_since_last_saving += 1
        self._total_batches_seen += 1
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._maybe_save(
                ts,
                self._total_batches_seen,
                logs,
                {"epoch": self._epoch, "batch": batch + 1},
                f"batch {batch}",
            )

    def on_epoch_end(self, ts, epoch, logs=None):
        if self.save_freq == "epoch":
            self._maybe_save(
                ts, epoch, logs, {"epoch": epoch + 1, "batch": 0}, f"epoch {epoch}"
            )

    def _maybe_save(self, ts, step, logs, position, where):
        if self.save_best_only:
            value = (logs or {}).get(self.monitor)
            if value is None:
                warnings.warn(
                    f"Can save best model only with {self.monitor} available, "
                    f"skipping save at {where}.",
                    stacklevel=3,
                )
                return
            value = float(np.asarray(value))
            if not self._is_improvement(value, self.best):
                return
            self.best = value
        tree = (
            {"params": ts.params, "state": ts.state} if self.save_weights_only else ts
        )
        self.manager.save(step, tree, position=position, force=True)
        if self.verbose:
            print_msg(
                f"\n{where.capitalize()}: saving checkpoint to {self.directory}/{step}"
            )

    def wait_until_finished(self):
        """Blocks until the asynchronous saves have been written."""
        if self.manager is not None:
            self.manager.wait_until_finished()

    def on_train_end(self, ts, logs=None):
        if self.manager is not None:
            self.manager.close()
            _LIVE.pop(Path(self.directory).absolute(), None)
            self.manager = None
