"""A custom layer in ten lines: fields, `build`, `call`; registered, trained, saved.

A kerax layer is a frozen dataclass whose fields are its config. You write
`build(key, spec) -> (params, state)` and `call(params, state, x, *, key,
training) -> (y, state)`; the base class gives it `init`/`apply`, names,
output specs, the dtype policy and a JSON config. `kerax.register` lets
`kerax.load_model` rebuild it from a saved file (nothing else is ever
imported or run by the loader).

The layer below is a gated dense layer (a GLU: `(x W + b) * sigmoid(x V)`).
It is checked with `kerax.testing.check_layer` (the contract tests every
built-in layer passes), used in a model, trained briefly on scikit-learn's
digits, saved with `kerax.save_model`, loaded back, and checked to predict
the same.

Run:
    python examples/custom_layer.py            # 10 epochs
    python examples/custom_layer.py --small    # 1 epoch (CI)

`KERAX_EXAMPLE_SMALL=1` in the environment does the same as `--small`.
The model is saved under `--out-dir` (default `runs/custom_layer`).
"""

import argparse
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import kerax
from kerax import layers
from kerax.testing import check_layer


@kerax.register
class GatedDense(kerax.Layer):
    """`(x @ kernel + bias) * sigmoid(x @ gate_kernel)`."""

    units: int = 32

    def build(self, key, spec):
        init = kerax.initializers.get("glorot_uniform")
        shape, (k1, k2) = (spec.shape[-1], self.units), jax.random.split(key)
        params = {"kernel": init(k1, shape), "gate_kernel": init(k2, shape)}
        return {**params, "bias": jnp.zeros((self.units,))}, {}  # No state.

    def call(self, params, state, x, *, key, training):
        h = x @ params["kernel"] + params["bias"]
        return h * jax.nn.sigmoid(x @ params["gate_kernel"]), state


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--out-dir", default="runs/custom_layer")
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

    # The contract checks every built-in layer passes: spec agreement with a
    # symbolic batch, jit/grad/vmap, no retracing, config round trip.
    check_layer(GatedDense(8), kerax.spec((None, 4)))
    print("GatedDense passes kerax.testing.check_layer")

    model = kerax.Sequential(
        [
            kerax.Input((8, 8, 1)),
            layers.Flatten(),
            GatedDense(64),  # Named "gated_dense", like any Keras layer.
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.summary()

    trainer = kerax.Trainer(
        model,
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    ts = trainer.init()
    print(
        "custom layer params:",
        {k: v.shape for k, v in ts.params["gated_dense"].items()},
    )
    ts, _ = trainer.fit(ts, x, y, epochs=epochs, batch_size=32, verbose=2)
    acc = trainer.evaluate(ts, x_test, y_test, return_dict=True, verbose=0)["accuracy"]
    print(f"test accuracy: {acc:.4f}")

    path = Path(args.out_dir) / "model"
    kerax.save_model(path, model, ts.params, ts.state)
    # load_model finds GatedDense by the name it was registered under.
    loaded, params, state = kerax.load_model(path)
    # The saved and loaded params are bit-identical; outputs are compared
    # with a tolerance, since two separately compiled forward passes may
    # order float sums differently on another CPU.
    same = jax.tree.map(
        lambda a, b: bool(np.array_equal(np.asarray(a), np.asarray(b))),
        (ts.params, ts.state),
        (params, state),
    )
    print("params identical after loading:", all(jax.tree.leaves(same)))
    want, _ = model.apply(ts.params, ts.state, x_test)
    got, _ = loaded.apply(params, state, x_test)
    print(
        "loaded layer:",
        next(lyr for lyr in loaded.layers if isinstance(lyr, GatedDense)),
    )
    print(
        "outputs match after loading:",
        bool(np.allclose(np.asarray(want), np.asarray(got), rtol=1e-5, atol=1e-6)),
    )
    assert loaded.get_config() == model.get_config()


if __name__ == "__main__":
    main()
