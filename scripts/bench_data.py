"""Images per second of `kerax.utils.image_dataset_from_directory`, against
what `Trainer.fit` consumes and against Keras's tf.data pipeline.

A folder of generated JPEGs (two classes, sizes around the target) is read
at `--image-size`:

- `kerax (workers=N)`: one epoch of the grain pipeline, decoded and resized
  in N worker processes (0: grain's threads in-process); the first epoch
  (worker start-up) and a second one are timed separately.
- `keras tf.data`: one epoch of `keras.utils.image_dataset_from_directory`
  (TensorFlow decoding, AUTOTUNE parallelism), batches turned into NumPy.
- `fit, arrays in memory`: a small CNN's training throughput on the same
  images already decoded: what the model can consume.
- `fit on the folder`: `Trainer.fit` fed the directory dataset.

The ratio pipeline / consumption above 1 means input does not starve the
model. Run:
    python scripts/bench_data.py                      # 1024 images, 96x96
    python scripts/bench_data.py --images 256 --epochs 1 --workers 0   # quick
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def make_folder(root: Path, n: int, size: int) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in range(2):
        (root / f"class_{c}").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        h, w = (int(s) for s in rng.integers(size, size * 2, 2))
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(image).save(root / f"class_{i % 2}" / f"{i}.jpg", quality=90)
    return root


def rate(label: str, images: int, seconds: float) -> float:
    per_second = images / seconds
    print(f"{label:<34} {per_second:9.0f} images/s  ({seconds:.2f} s)")
    return per_second


def epoch(ds) -> tuple[int, float]:
    start, count = time.perf_counter(), 0
    for x, _ in ds:
        count += len(x)
    return count, time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=1024)
    p.add_argument("--image-size", type=int, default=96)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, nargs="*", default=None)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument(
        "--folder", help="an existing image folder instead of generated JPEGs"
    )
    args = p.parse_args()

    import jax

    import kerax

    size = (args.image_size, args.image_size)
    with tempfile.TemporaryDirectory() as tmp:
        folder = (
            Path(args.folder)
            if args.folder
            else make_folder(Path(tmp), args.images, args.image_size)
        )
        print(
            f"{args.images} images -> {size}, batch {args.batch_size}, "
            f"{os.cpu_count()} CPUs, JAX on {jax.devices()[0].platform}"
        )
        workers = args.workers
        if workers is None:
            workers = sorted({0, kerax.utils.dataset_utils.default_num_workers()})
        results = {}
        for n in workers:
            ds = kerax.utils.image_dataset_from_directory(
                folder,
                image_size=size,
                batch_size=args.batch_size,
                seed=0,
                verbose=False,
                num_workers=n,
            )
            for e in range(args.epochs):
                count, seconds = epoch(ds)
                tag = "first epoch" if e == 0 else "next epoch"
                results[(n, e)] = rate(f"kerax (workers={n}), {tag}", count, seconds)
            ds.close()

        try:
            import keras

            ds = keras.utils.image_dataset_from_directory(
                folder,
                image_size=size,
                batch_size=args.batch_size,
                seed=0,
                verbose=False,
            )
            for e in range(args.epochs):
                start, count = time.perf_counter(), 0
                for x, _ in ds.as_numpy_iterator():
                    count += len(x)
                keras_rate = rate(
                    f"keras tf.data, {'first' if e == 0 else 'next'} epoch",
                    count,
                    time.perf_counter() - start,
                )
        except ImportError:
            keras_rate = None
            print("keras tf.data: skipped (needs keras and tensorflow)")

        model = kerax.Sequential(
            [
                kerax.Input(size + (3,)),
                kerax.layers.Rescaling(1 / 255),
                kerax.layers.Conv2D(16, 3, strides=2, activation="relu"),
                kerax.layers.Conv2D(32, 3, strides=2, activation="relu"),
                kerax.layers.GlobalAveragePooling2D(),
                kerax.layers.Dense(2),
            ]
        )
        trainer = kerax.Trainer(
            model,
            optimizer="adam",
            loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        rng = np.random.default_rng(0)
        n = (args.images // args.batch_size) * args.batch_size
        x = rng.uniform(0, 255, (n,) + size + (3,)).astype(np.float32)
        y = rng.integers(0, 2, n).astype(np.int32)
        ts = trainer.init()
        ts, _ = trainer.fit(ts, x, y, batch_size=args.batch_size, epochs=1, verbose=0)
        start = time.perf_counter()
        ts, _ = trainer.fit(ts, x, y, batch_size=args.batch_size, epochs=1, verbose=0)
        jax.block_until_ready(ts.params)
        consume = rate("fit, arrays in memory", n, time.perf_counter() - start)

        best = max(workers, key=lambda w: results[(w, args.epochs - 1)])
        ds = kerax.utils.image_dataset_from_directory(
            folder,
            image_size=size,
            batch_size=args.batch_size,
            seed=0,
            verbose=False,
            num_workers=best,
        )
        ts, _ = trainer.fit(ts, ds, epochs=1, verbose=0)  # Starts workers, compiles.
        start = time.perf_counter()
        ts, _ = trainer.fit(ts, ds, epochs=1, verbose=0)
        jax.block_until_ready(ts.params)
        rate(
            f"fit on the folder (workers={best})",
            ds.num_samples,
            time.perf_counter() - start,
        )
        ds.close()

        pipeline = results[(best, args.epochs - 1)]
        print(f"pipeline / fit consumption: {pipeline / consume:.2f}")
        if keras_rate:
            print(f"kerax / keras tf.data: {pipeline / keras_rate:.2f}")


if __name__ == "__main__":
    main()
