"""Callbacks that report: `ProgbarLogger`, `CSVLogger`, `TensorBoard`."""

from __future__ import annotations

import csv
import os
import time

import jax
import numpy as np

from kerax.training.callbacks.base import Callback
from kerax.training.callbacks.monitoring import _get_lr
from kerax.training.event_writer import EventFileWriter
from kerax.training.progbar import Progbar
from kerax.utils.io_utils import print_msg

__all__ = ["ProgbarLogger", "CSVLogger", "TensorBoard"]


class ProgbarLogger(Callback):
    """Prints the Keras progress bar (`verbose=1`) or one line per epoch (`verbose=2`).

    With fused steps it advances once per execution, as Keras's does.
    """

    batch_hooks_per_execution = True

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream
        self.progbar = None
        self.seen = 0
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self._in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _new_bar(self):
        self.seen = 0
        self.progbar = Progbar(self.target, verbose=self.verbose, stream=self.stream)

    def on_train_begin(self, ts, logs=None):
        self._in_fit = True

    def on_train_end(self, ts, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, ts, epoch, logs=None):
        self._new_bar()
        if self.verbose and self.epochs > 1:
            message = f"Epoch {epoch + 1}/{self.epochs}"
            if self.stream is None:
                print_msg(message)  # Standard output, or absl.logging.
            else:
                self.stream.write(message + "\n")

    def _batch_end(self, batch, logs):
        self.seen = batch + 1
        if self.progbar is None:
            self._new_bar()
        if self.verbose == 1 and self.progbar.due():
            self.progbar.update(self.seen, logs, finalize=False)

    def on_train_batch_end(self, ts, batch, logs=None):
        self._batch_end(batch, logs)

    def on_epoch_end(self, ts, epoch, logs=None):
        self._finalize(logs)

    def _finalize(self, logs):
        if self.progbar is None:
            self._new_bar()
        if self.progbar.target is None:
            self.progbar.target = self.seen
        self.progbar.update(self.progbar.target, logs, finalize=True)

    def on_test_begin(self, ts, logs=None):
        if not self._in_fit:
            self._new_bar()

    def on_test_batch_end(self, ts, batch, logs=None):
        if not self._in_fit:
            self._batch_end(batch, logs)

    def on_test_end(self, ts, logs=None):
        if not self._in_fit:
            self._finalize(logs)

    def on_predict_begin(self, ts, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, ts, batch, logs=None):
        self._batch_end(batch, None)

    def on_predict_end(self, ts, logs=None):
        self._finalize(None)


class CSVLogger(Callback):
    """Streams epoch logs to a CSV file: `epoch` then the log keys, sorted (Keras's format)."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, ts, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="")  # noqa: SIM115 - closed in on_train_end.
        self.writer = None
        self.keys = None

    def on_epoch_end(self, ts, epoch, logs=None):
        logs = logs or {}

        def handle_value(k):
            if isinstance(k, str):
                return k
            if hasattr(k, "shape") and np.ndim(k) > 0:
                return f'"[{", ".join(map(str, np.ravel(k)))}]"'
            return k

        if self.keys is None:
            self.keys = sorted(logs.keys())
            # Validation keys may be missing on epochs without validation.
            if not any(k.startswith("val_") for k in self.keys) and self.params.get(
                "do_validation"
            ):
                self.keys.extend(["val_" + k for k in self.keys])
        if not self.writer:

            class CustomDialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch"] + self.keys, dialect=CustomDialect
            )
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, ts, logs=None):
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


class TensorBoard(Callback):
    """Writes TensorBoard event files: scalars per epoch (and per batch), histograms.

    Layout as Keras: `log_dir/train` and `log_dir/validation`, tags
    `epoch_<metric>` (validation metrics without their `val_` prefix),
    `batch_<metric>` every `update_freq` batches when it is an int,
    `<param path>/histogram` every `histogram_freq` epochs. Events are written
    by kerax's own small writer (`kerax.training.event_writer`), readable by
    TensorBoard, with no TensorFlow import. `write_graph`, `write_images`,
    `profile_batch` and `embeddings_*` are accepted for compatibility and
    ignored (use `jax.profiler` for traces).
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        del (
            write_graph,
            write_images,
            profile_batch,
            embeddings_freq,
            embeddings_metadata,
        )
        self._writers = {}
        self._global_train_batch = 0
        self._epoch_start = None
        self._epoch_start_step = 0

    def _writer(self, which: str):
        if which not in self._writers:
            self._writers[which] = EventFileWriter(os.path.join(self.log_dir, which))
        return self._writers[which]

    def on_train_begin(self, ts, logs=None):
        self._global_train_batch = 0

    def on_train_end(self, ts, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}

    def on_epoch_begin(self, ts, epoch, logs=None):

        self._epoch_start = time.monotonic()
        self._epoch_start_step = int(ts.step)

    def on_train_batch_end(self, ts, batch, logs=None):
        self._global_train_batch += 1
        if (
            self.update_freq != "epoch"
            and self._global_train_batch % int(self.update_freq) == 0
            and logs
        ):
            self._writer("train").scalars(
                {f"batch_{k}": float(v) for k, v in logs.items() if np.ndim(v) == 0},
                step=self._global_train_batch,
            )

    def on_epoch_end(self, ts, epoch, logs=None):

        logs = logs or {}
        train = {
            f"epoch_{k}": v
            for k, v in logs.items()
            if not k.startswith("val_") and np.ndim(v) == 0
        }
        val = {
            f"epoch_{k[4:]}": v
            for k, v in logs.items()
            if k.startswith("val_") and np.ndim(v) == 0
        }
        if "epoch_learning_rate" not in train:
            try:
                train["epoch_learning_rate"] = _get_lr(ts)
            except ValueError:
                pass
        if self.write_steps_per_second and self._epoch_start is not None:
            elapsed = time.monotonic() - self._epoch_start
            train["epoch_steps_per_second"] = (
                int(ts.step) - self._epoch_start_step
            ) / max(elapsed, 1e-9)
        if train:
            self._writer("train").scalars(train, step=epoch)
        if val:
            self._writer("validation").scalars(val, step=epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            w = self._writer("train")
            for path, value in jax.tree_util.tree_flatten_with_path(ts.params)[0]:
                name = "/".join(
                    str(getattr(k, "key", getattr(k, "idx", k))) for k in path
                )
                w.histogram(f"{name}/histogram", np.asarray(value), step=epoch)
        for w in self._writers.values():
            w.flush()
