"""Transfer learning, Keras's everyday recipe, in kerax: a pretrained
MobileNetV2 backbone, a new head on your image folder, fine-tuning, and an
int8 TFLite model for phones.

1. A folder of images, one subfolder per class, becomes training and
   validation datasets (`kerax.utils.image_dataset_from_directory`). Without
   `--data`, a small folder of two generated classes is written first.
2. `kerax.applications.MobileNetV2(include_top=False, pooling="avg")`, Keras's
   constructor with ImageNet weights (Keras downloads them once; `--weights
   none` offline), gives the backbone as kerax `(model, params, state)`.
3. The backbone is frozen (`kerax.models.set_trainable(model, name, False)`,
   Keras's `base_model.trainable = False`) and a new head is trained.
4. The backbone is unfrozen and the whole model fine-tuned at a low
   learning rate.
5. The model is exported to TFLite with full int8 quantization, calibrated
   on images from the same folder, and checked against JAX.

Run:
    python examples/transfer_learning.py --data path/to/photos
    python examples/transfer_learning.py            # generated images
    python examples/transfer_learning.py --small    # 32x32, alpha 0.35, no download (CI)

`KERAX_EXAMPLE_SMALL=1` in the environment does the same as `--small`.
Files go to `--out-dir` (default `runs/transfer_learning`).
"""

import argparse
import os
from pathlib import Path

import numpy as np

import kerax


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", help="image folder, one subfolder per class")
    p.add_argument("--out-dir", default="runs/transfer_learning")
    p.add_argument("--image-size", type=int, default=96)
    p.add_argument("--alpha", type=float, default=0.35, help="MobileNetV2 width")
    p.add_argument("--weights", default="imagenet", help='"imagenet" or "none"')
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--fine-tune-epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument(
        "--small",
        action="store_true",
        default=os.environ.get("KERAX_EXAMPLE_SMALL") == "1",
        help="a short run for CI: 32x32 images, no download, 1 epoch each",
    )
    args = p.parse_args()
    if args.small:
        args.image_size, args.alpha, args.weights = 32, 0.35, "none"
        args.epochs, args.fine_tune_epochs, args.batch_size = 1, 1, 8
    return args


def write_example_folder(root: Path, per_class: int, rng) -> Path:
    """Two classes of generated photos: horizontal stripes and checkerboards."""
    from PIL import Image

    for name in ("checks", "stripes"):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            size = int(rng.integers(40, 72))
            yy, xx = np.mgrid[:size, :size]
            period = int(rng.integers(4, 10))
            if name == "stripes":
                pattern = (yy // period) % 2
            else:
                pattern = ((yy // period) + (xx // period)) % 2
            colour = rng.integers(0, 256, 3)
            image = pattern[..., None] * colour + rng.normal(0, 20, (size, size, 3))
            Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(
                root / name / f"{i}.png"
            )
    return root


def main():
    args = parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    folder = Path(args.data) if args.data else None
    if folder is None:
        # 20 per class: 32 training and 8 validation images, whole batches of 8
        # (each new batch shape would compile the steps again).
        folder = write_example_folder(out / "images", 20 if args.small else 120, rng)
    size = (args.image_size, args.image_size)

    # 1. The image folder: 20% held out for validation, same seed for both.
    train_ds, val_ds = kerax.utils.image_dataset_from_directory(
        folder,
        image_size=size,
        batch_size=args.batch_size,
        validation_split=0.2,
        subset="both",
        seed=0,
    )
    classes = train_ds.class_names
    print(f"classes: {classes}; {train_ds.num_samples} training images")

    # 2. The backbone, built by Keras with its weights, as a kerax model.
    weights = None if args.weights.lower() == "none" else args.weights
    backbone, backbone_params, backbone_state = kerax.applications.MobileNetV2(
        input_shape=size + (3,),
        alpha=args.alpha,
        include_top=False,
        weights=weights,
        pooling="avg",
    )
    print(f"backbone: {backbone.name}, {len(backbone.layers)} layers from Keras")

    # 3. A new head on the frozen backbone. MobileNetV2 expects [-1, 1]:
    # mobilenet_v2.preprocess_input's scaling, here a layer of the model.
    inputs = kerax.Input(size + (3,))
    x = kerax.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = backbone(x)
    x = kerax.layers.Dropout(0.2)(x)
    outputs = kerax.layers.Dense(len(classes), activation="softmax", name="head")(x)
    model = kerax.Model(inputs, outputs, name="classifier")
    frozen = kerax.models.set_trainable(model, backbone.name, False)

    def train_state(trainer, params, state):
        # Start from the model's fresh state, with the imported backbone's
        # weights in place of its random ones (same tree, same shapes).
        ts = trainer.init()
        params = {**ts.params, backbone.name: params}
        state = {**ts.state, backbone.name: state}
        return ts._replace(params=params, state=state)

    head_trainer = kerax.Trainer(
        frozen,
        optimizer=kerax.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    ts = train_state(head_trainer, backbone_params, backbone_state)
    ts, history = head_trainer.fit(
        ts, train_ds, validation_data=val_ds, epochs=args.epochs, verbose=2
    )
    print(f"head: val_accuracy {history.history['val_accuracy'][-1]:.3f}")

    # 4. Fine-tune everything at a low learning rate.
    tuned = kerax.models.set_trainable(frozen, backbone.name, True)
    tune_trainer = kerax.Trainer(
        tuned,
        optimizer=kerax.optimizers.Adam(learning_rate=1e-5),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    # The trained weights carry over; the optimizer state starts fresh.
    ts = tune_trainer.init()._replace(params=ts.params, state=ts.state)
    ts, history = tune_trainer.fit(
        ts, train_ds, validation_data=val_ds, epochs=args.fine_tune_epochs, verbose=2
    )
    logs = tune_trainer.evaluate(ts, val_ds, return_dict=True, verbose=0)
    print(f"fine-tuned: val_accuracy {float(logs['accuracy']):.3f}")
    kerax.save_model(out / "model", tuned, ts.params, ts.state)

    # 5. int8 TFLite, calibrated on images of the same folder.
    samples = np.concatenate([x for x, _ in train_ds.take(4)])
    try:
        report = kerax.export.tflite(
            tuned,
            ts.params,
            ts.state,
            out / "classifier_int8.tflite",
            quantization="int8",
            representative_data=samples,
        )
    except ImportError:
        print(
            "TFLite export skipped: needs the export extra (tensorflow-cpu, ai-edge-litert)."
        )
        return
    print(f"int8 TFLite: {report.path}, max |LiteRT - JAX| = {report.max_abs_diff:.4f}")


if __name__ == "__main__":
    main()
