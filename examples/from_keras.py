"""Bring a Keras 3 model over to kerax, check it computes the same, fine-tune it.

A Keras functional model with two inputs and a shared layer is built (and
briefly trained, so its weights are not just initial values), then imported
twice with `kerax.interop.from_keras`: from the live Keras object and from a
`.keras` file (loaded with Keras's safe mode). The architecture comes from
the Keras config and the weights by variable path: every kerax param's
`"/".join(path)` is the Keras `variable.path`. Both imports give Keras's
outputs; the model is then fine-tuned in kerax with a pure train step.

Needs Keras 3 (`pip install keras`); Keras runs on its JAX backend here.

Run:
    python examples/from_keras.py            # 20 fine-tuning steps
    python examples/from_keras.py --small    # 2 steps (CI)

`KERAX_EXAMPLE_SMALL=1` in the environment does the same as `--small`.
The `.keras` file goes to `--out-dir` (default `runs/from_keras`).
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")  # Before Keras is imported.

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import kerax  # noqa: E402
from kerax.training import make_train_step  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--out-dir", default="runs/from_keras")
    p.add_argument(
        "--small",
        action="store_true",
        default=os.environ.get("KERAX_EXAMPLE_SMALL") == "1",
        help="a few seconds' run for CI",
    )
    return p.parse_args()


def keras_model():
    """Two inputs, one shared Dense tower, one softmax output."""
    query = keras.Input((12,), name="query")
    document = keras.Input((12,), name="document")
    tower = keras.layers.Dense(16, activation="relu", name="tower")  # Shared.
    merged = keras.layers.Concatenate()([tower(query), tower(document)])
    hidden = keras.layers.Dense(16, activation="tanh")(merged)
    output = keras.layers.Dense(3, activation="softmax", name="relevance")(hidden)
    return keras.Model([query, document], output, name="ranker")


def main():
    args = parse_args()
    steps = 2 if args.small else args.steps
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(0)
    x = [rng.normal(size=(256, 12)).astype("float32") for _ in range(2)]
    y = (np.sum(x[0] * x[1], axis=1) > 0).astype("int32") + (x[0][:, 0] > 1)

    k_model = keras_model()
    k_model.compile("adam", "sparse_categorical_crossentropy")
    k_model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    keras_file = out_dir / "ranker.keras"
    k_model.save(keras_file)
    want = np.asarray(k_model.predict(x, verbose=0))

    # From the live object, and from the file: same model, same weights.
    model, params, state = kerax.interop.from_keras(k_model)
    model_f, params_f, state_f = kerax.interop.from_keras(keras_file)
    model.summary()
    paths = [
        "/".join(k.key for k in p)
        for p, _ in jax.tree_util.tree_flatten_with_path(params)[0]
    ]
    print("kerax param paths:", paths)
    print("Keras variable paths:", sorted(v.path for v in k_model.trainable_variables))

    for name, (m, p, s) in {
        "object": (model, params, state),
        "file": (model_f, params_f, state_f),
    }.items():
        got, _ = jax.jit(m.apply)(p, s, x)
        print(
            f"from_keras({name}): max |kerax - Keras| = {float(np.max(np.abs(np.asarray(got) - want))):.2g}"
        )

    # Fine-tune in kerax: a pure step over a TrainState that starts from Keras's weights.
    step = make_train_step(
        model, "sparse_categorical_crossentropy", "adam", metrics=["accuracy"]
    )
    ts = step.init(jax.random.key(0))._replace(params=params, state=state)
    for i in range(steps):
        rows = rng.choice(len(y), 64, replace=False)
        ts, logs = step(ts, ([x[0][rows], x[1][rows]], y[rows]))
        print(
            f"fine-tune step {i + 1}: loss {float(logs['loss']):.4f}  accuracy {float(logs['accuracy']):.4f}"
        )


if __name__ == "__main__":
    main()
