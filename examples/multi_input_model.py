"""A functional model with two inputs, two outputs and a shared layer.

Two feature vectors, `left` and `right`, go through the SAME encoder (one
layer object called twice: one set of weights). Two heads read both
encodings:

- `category` (4 classes): which of 4 fixed directions `left - right` points
  to most, trained with sparse categorical cross-entropy;
- `similarity` (a number): the scaled dot product of `left` and `right`,
  predicted as the dot product of the two encodings, trained with mean
  squared error.

The losses and metrics are given per output (dicts keyed by output name),
and `loss_weights` sets how much each output's loss counts in the total, as
in Keras `compile()`. The data is generated, so the example needs nothing
but kerax.

Run:
    python examples/multi_input_model.py            # 20 epochs
    python examples/multi_input_model.py --small    # 2 epochs (CI)

`KERAX_EXAMPLE_SMALL=1` in the environment does the same as `--small`.
"""

import argparse
import os

import jax
import numpy as np

import kerax
from kerax import layers

FEATURES = 16


def make_data(n, seed=0):
    """Inputs `{"left", "right"}` and targets `{"category", "similarity"}`."""
    rng = np.random.default_rng(seed)
    directions = np.random.default_rng(1234).normal(size=(FEATURES, 4))
    left = rng.normal(size=(n, FEATURES)).astype("float32")
    right = rng.normal(size=(n, FEATURES)).astype("float32")
    category = np.argmax((left - right) @ directions, axis=1).astype("int32")
    similarity = np.sum(left * right, axis=1, keepdims=True) / np.sqrt(FEATURES)
    inputs = {"left": left, "right": right}
    targets = {"category": category, "similarity": similarity.astype("float32")}
    return inputs, targets


def build_model():
    left = kerax.Input((FEATURES,), name="left")
    right = kerax.Input((FEATURES,), name="right")
    encoder = layers.Dense(32, name="encoder")  # A learned linear projection.
    a, b = encoder(left), encoder(right)  # Shared: one kernel, two calls.
    hidden = layers.Dense(64, activation="relu")(layers.Concatenate()([a, b]))
    category = layers.Dense(4, activation="softmax", name="category")(hidden)
    similarity = layers.Dot(axes=1, name="similarity")([a, b])
    return kerax.Model(
        inputs={"left": left, "right": right},
        outputs={"category": category, "similarity": similarity},
        name="pair_model",
    )


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=20)
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
    x, y = make_data(4096)
    x_test, y_test = make_data(1024, seed=1)

    model = build_model()
    model.summary()
    trainer = kerax.Trainer(
        model,
        optimizer="adam",
        loss={"category": "sparse_categorical_crossentropy", "similarity": "mse"},
        loss_weights={"category": 1.0, "similarity": 0.5},
        metrics={"category": ["accuracy"], "similarity": ["mae"]},
    )
    ts = trainer.init(jax.random.key(0))
    # One set of weights for the encoder, however many times it is called.
    print("encoder kernel:", ts.params["encoder"]["kernel"].shape)

    ts, history = trainer.fit(
        ts, x, y, epochs=epochs, batch_size=64, validation_split=0.1, verbose=2
    )
    logs = trainer.evaluate(ts, x_test, y_test, return_dict=True, verbose=0)
    for name in sorted(logs):
        print(f"test {name}: {logs[name]:.4f}")

    pred = trainer.predict(ts, {k: v[:5] for k, v in x_test.items()}, verbose=0)
    print("predicted category:", np.argmax(pred["category"], axis=-1).tolist())
    print("true category:     ", y_test["category"][:5].tolist())
    print(
        "predicted similarity:", " ".join(f"{v:6.2f}" for v in pred["similarity"][:, 0])
    )
    print(
        "true similarity:     ",
        " ".join(f"{v:6.2f}" for v in y_test["similarity"][:5, 0]),
    )


if __name__ == "__main__":
    main()
