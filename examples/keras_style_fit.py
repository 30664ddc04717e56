"""Keras-style training: `Trainer.fit` with validation, callbacks, evaluate, predict.

The Keras workflow you know (`compile`, `fit`, `evaluate`, `predict`) over an
explicit `TrainState`: `trainer.init()` makes one, `fit` takes it and returns
the trained one with the `History`. Nothing is mutated behind your back.

Trains a small CNN on scikit-learn's bundled 8x8 digits with 10% held out for
validation, `EarlyStopping` (best weights restored) and a `CSVLogger`, then
evaluates on the test split and predicts a few digits.

Run:
    python examples/keras_style_fit.py            # up to 30 epochs
    python examples/keras_style_fit.py --small    # 2 epochs (CI)

`KERAX_EXAMPLE_SMALL=1` in the environment does the same as `--small`.
The CSV log goes to `--out-dir` (default `runs/keras_style_fit`).
"""

import argparse
import os
from pathlib import Path

import numpy as np

import kerax
from kerax import callbacks, layers


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--out-dir", default="runs/keras_style_fit")
    p.add_argument(
        "--small",
        action="store_true",
        default=os.environ.get("KERAX_EXAMPLE_SMALL") == "1",
        help="a few seconds' run for CI",
    )
    return p.parse_args()


def main():
    args = parse_args()
    epochs = 2 if args.small else args.epochs
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (x, y), (x_test, y_test) = kerax.datasets.digits.load_data()

    model = kerax.Sequential(
        [
            kerax.Input((8, 8, 1)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ],
        name="digits_cnn",
    )
    model.summary()

    trainer = kerax.Trainer(
        model,
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    ts = trainer.init()
    ts, history = trainer.fit(
        ts,
        x,
        y,
        epochs=epochs,
        batch_size=32,
        validation_split=0.1,
        callbacks=[
            callbacks.EarlyStopping(
                monitor="val_loss", patience=3, restore_best_weights=True
            ),
            callbacks.CSVLogger(out_dir / "training_log.csv"),
        ],
        verbose=2,  # One line per epoch.
    )
    print(f"trained {len(history.history['loss'])} epochs")
    print("history keys:", sorted(history.history))

    logs = trainer.evaluate(
        ts, x_test, y_test, batch_size=128, return_dict=True, verbose=0
    )
    print(f"test loss {logs['loss']:.4f}  test accuracy {logs['accuracy']:.4f}")

    probs = trainer.predict(ts, x_test[:10], verbose=0)
    print("predicted:", np.argmax(probs, axis=-1).tolist())
    print("true:     ", y_test[:10].tolist())
    print(f"CSV log: {out_dir / 'training_log.csv'}")


if __name__ == "__main__":
    main()
