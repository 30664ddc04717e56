"""Export to TFLite (LiteRT) for phones and edge devices, and run it without kerax.

Trains a small CNN on scikit-learn's bundled 8x8 digits, then writes two
`.tflite` files with `kerax.export.tflite`: float32, and float16 weights
(half the size). Each export is verified against the JAX model before it is
written. The files are then run with LiteRT's own `Interpreter`, exactly as
an app would (no kerax, no JAX), one image at a time, and compared with the
JAX predictions.

Needs the export extra: `pip install -e ".[export]"` (tensorflow-cpu for the
converter, ai-edge-litert for the interpreter).

Run:
    python examples/export_tflite.py            # 10 epochs, whole test split
    python examples/export_tflite.py --small    # 1 epoch, 20 test images (CI)

`KERAX_EXAMPLE_SMALL=1` in the environment does the same as `--small`.
The files go to `--out-dir` (default `runs/export_tflite`).
"""

import argparse
import os
from pathlib import Path

import numpy as np

import kerax
from kerax import layers


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--out-dir", default="runs/export_tflite")
    p.add_argument(
        "--small",
        action="store_true",
        default=os.environ.get("KERAX_EXAMPLE_SMALL") == "1",
        help="a few seconds' run for CI",
    )
    return p.parse_args()


def run_litert(path, images):
    """Class probabilities from a .tflite file, one image per invocation."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    print(
        f"  {path.name}: input {inp['shape'].tolist()} {inp['dtype'].__name__}, output {out['shape'].tolist()}"
    )
    probs = []
    for image in images:
        interpreter.set_tensor(inp["index"], image[None].astype(inp["dtype"]))
        interpreter.invoke()
        probs.append(interpreter.get_tensor(out["index"])[0])
    return np.stack(probs)


def main():
    args = parse_args()
    epochs = 1 if args.small else args.epochs
    out_dir = Path(args.out_dir)
    (x, y), (x_test, y_test) = kerax.datasets.digits.load_data()
    if args.small:
        x_test, y_test = x_test[:20], y_test[:20]

    model = kerax.Sequential(
        [
            kerax.Input((8, 8, 1), name="image"),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(10, activation="softmax", name="probabilities"),
        ]
    )
    trainer = kerax.Trainer(
        model,
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    ts = trainer.init()
    ts, _ = trainer.fit(ts, x, y, epochs=epochs, batch_size=32, verbose=0)
    jax_probs = trainer.predict(ts, x_test, verbose=0)
    print(f"JAX test accuracy: {np.mean(np.argmax(jax_probs, -1) == y_test):.4f}")

    # batch_size is fixed in a .tflite file: 1 suits an app classifying one image.
    files = {}
    for quantization in (None, "float16"):
        path = out_dir / f"digits_{quantization or 'float32'}.tflite"
        report = kerax.export.tflite(
            model, ts.params, ts.state, path, batch_size=1, quantization=quantization
        )
        print(report)
        files[quantization or "float32"] = path

    print("LiteRT inference:")
    for name, path in files.items():
        probs = run_litert(path, x_test)
        diff = float(np.max(np.abs(probs - jax_probs)))
        agree = float(np.mean(np.argmax(probs, -1) == np.argmax(jax_probs, -1)))
        acc = float(np.mean(np.argmax(probs, -1) == y_test))
        print(
            f"  {name}: {path.stat().st_size / 1024:.1f} KiB, max |LiteRT - JAX| {diff:.2g}, "
            f"same class as JAX {agree:.0%}, test accuracy {acc:.4f}"
        )


if __name__ == "__main__":
    main()
