"""A training run for the crash/resume tests (run as a subprocess).

    python _resume_job.py OUT_DIR [--kill-at STEP] [--term-at STEP]

Trains an MLP with Dropout and BatchNorm on generated data with
BackupAndRestore(save_freq=2) and shuffling, then writes the final params to
OUT_DIR/final.npz. `--kill-at` SIGKILLs the process at that step (no chance
to clean up); `--term-at` sends SIGTERM (preemption).
"""

import argparse
import os
import signal
import sys

os.environ.setdefault("KERAX_COMPILATION_CACHE_DIR", "off")

import jax  # noqa: E402
import numpy as np  # noqa: E402

import kerax  # noqa: E402
from kerax import layers  # noqa: E402


class Crash(kerax.callbacks.Callback):
    def __init__(self, kill_at, term_at):
        super().__init__()
        self.kill_at, self.term_at = kill_at, term_at

    def on_train_batch_end(self, ts, batch, logs=None):
        step = int(ts.step)
        if step == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if step == self.term_at:
            os.kill(os.getpid(), signal.SIGTERM)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--kill-at", type=int, default=-1)
    ap.add_argument("--term-at", type=int, default=-1)
    args = ap.parse_args()
    x, y = kerax.datasets.synthetic.classification(n=200, features=8, classes=3, seed=1)
    model = kerax.Sequential(
        [
            kerax.Input((8,)),
            layers.Dense(16, activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.3),
            layers.Dense(3, activation="softmax"),
        ]
    )
    trainer = kerax.Trainer(
        model,
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        seed=3,
    )
    ts = trainer.init()
    callbacks = [
        kerax.callbacks.BackupAndRestore(os.path.join(args.out, "backup"), save_freq=2),
        Crash(args.kill_at, args.term_at),
    ]
    ts, _ = trainer.fit(
        ts, x, y, epochs=3, batch_size=32, shuffle=True, verbose=0, callbacks=callbacks
    )
    leaves = jax.tree_util.tree_flatten_with_path(ts.params)[0]
    np.savez(
        os.path.join(args.out, "final.npz"),
        **{jax.tree_util.keystr(p): np.asarray(v) for p, v in leaves},
    )
    print("done", int(ts.step))
    sys.exit(0)


if __name__ == "__main__":
    main()
