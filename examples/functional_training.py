"""Functional training: a plain Python loop over a pure, jitted train step.

No `fit`, no callbacks, no hidden state: `make_train_step` returns a function
`(TrainState, batch) -> (TrainState, logs)` and the loop below is all there
is. Evaluation is a hand-written `jax.jit` over `model.apply`, to show that
the model is nothing but a pure function of `(params, state, x)`.

Trains a small CNN on scikit-learn's bundled 8x8 digits and prints the test
accuracy (about 96% after 10 epochs).

Run:
    python examples/functional_training.py            # 10 epochs
    python examples/functional_training.py --small    # 1 epoch (CI)

`KERAX_EXAMPLE_SMALL=1` in the environment does the same as `--small`.
"""

import argparse
import os

import jax
import jax.numpy as jnp
import numpy as np

import kerax
from kerax import layers
from kerax.training import make_train_step, reset_metrics


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument(
        "--small",
        action="store_true",
        default=os.environ.get("KERAX_EXAMPLE_SMALL") == "1",
        help="a few seconds' run for CI",
    )
    return p.parse_args()


def main():
    args = parse_args()
    epochs = 1 if args.small else args.epochs
    (x, y), (x_test, y_test) = kerax.datasets.digits.load_data()

    model = kerax.Sequential(
        [
            kerax.Input((8, 8, 1)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )
    step = make_train_step(
        model, "sparse_categorical_crossentropy", "adam", metrics=["accuracy"]
    )
    ts = step.init(jax.random.key(0))  # params, state, opt_state, step, ...

    @jax.jit
    def accuracy(params, state, x, y):
        probs, _ = model.apply(params, state, x)  # Inference: no key needed.
        return jnp.mean(jnp.argmax(probs, axis=-1) == y)

    rng = np.random.default_rng(0)
    for epoch in range(epochs):
        ts = reset_metrics(ts)  # Logs are running means: start each epoch afresh.
        order = rng.permutation(len(x))
        for i in range(0, len(x), args.batch_size):
            rows = order[i : i + args.batch_size]
            # The step is donated its TrainState: always keep the one it returns.
            ts, logs = step(ts, (x[rows], y[rows]))
        print(
            f"epoch {epoch + 1}/{epochs}  loss {float(logs['loss']):.4f}  "
            f"accuracy {float(logs['accuracy']):.4f}"
        )

    test_acc = float(accuracy(ts.params, ts.state, x_test, y_test))
    print(f"steps taken: {int(ts.step)}")
    print(f"test accuracy: {test_acc:.4f}")


if __name__ == "__main__":
    main()
