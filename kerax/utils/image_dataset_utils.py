"""`image_dataset_from_directory`: a folder of images as a grain dataset."""

from __future__ import annotations

import numpy as np

from kerax import config
from kerax.utils import dataset_utils
from kerax.utils.image_utils import (
    INTERPOLATIONS,
    load_image,
    resize_image,
    resize_with_pad,
    smart_resize,
)

__all__ = ["image_dataset_from_directory"]

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


class _ImageSample:
    """Sample `i`: the decoded, resized image (and its label). Picklable."""

    def __init__(
        self, paths, labels, image_size, num_channels, interpolation, crop, pad
    ):
        self.paths, self.labels = list(paths), labels
        self.image_size, self.num_channels = tuple(image_size), num_channels
        self.interpolation, self.crop, self.pad = interpolation, crop, pad

    def __call__(self, i):
        image = load_image(self.paths[i], self.num_channels)
        if self.crop:
            image = smart_resize(image, self.image_size, self.interpolation)
        elif self.pad:
            image = resize_with_pad(image, self.image_size, self.interpolation)
        else:
            image = resize_image(image, self.image_size, self.interpolation)
        if self.labels is None:
            return image
        return image, self.labels[i]


def image_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    color_mode="rgb",
    batch_size=32,
    image_size=(256, 256),
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    interpolation="bilinear",
    follow_links=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    data_format=None,
    verbose=True,
    *,
    num_workers=None,
):
    """Generates a dataset from image files in a directory (Keras's function, on grain).

    With `main_directory/class_a/*.jpg` and `main_directory/class_b/*.jpg`,
    `labels="inferred"` gives label 0 to `class_a` and 1 to `class_b`.
    Supported formats: `.jpeg`, `.jpg`, `.png`, `.bmp`, `.gif` (first frame
    of an animation); other files are skipped. Subfolders of a class folder
    are searched too.

    Images are decoded and resized as Keras (TensorFlow) does: with
    `shuffle=False` the files come in Keras's order with the same pixels
    (PNG/BMP/GIF exactly at the file's size; bilinear resizing within
    float32 rounding). Batches are made by grain in `num_workers` worker
    processes, prefetched ahead of training.

    Args:
        directory: the folder.
        labels: `"inferred"` (from subfolder names), None (no labels), or a
            list of integer labels, one per file in sorted path order.
        label_mode: `"int"` (int32 `(batch,)`), `"categorical"` (float32
            one-hot), `"binary"` (float32 `(batch, 1)`, 2 classes), or None.
        class_names: with `"inferred"`: the subfolders to use, in label order.
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"` (1, 3 or 4 channels).
        batch_size: images per batch; None yields single images.
        image_size: `(height, width)` (or one int) every image is resized to.
        shuffle: shuffle the files (reshuffled every epoch); False: sorted.
        seed: the shuffling seed (needed with `validation_split` and shuffle).
        validation_split: fraction of the files held out for validation.
        subset: `"training"`, `"validation"` or `"both"` (a tuple of two
            datasets); only with `validation_split`.
        interpolation: `"bilinear"`, `"nearest"`, `"bicubic"`, `"area"`,
            `"lanczos3"`, `"lanczos5"`, `"gaussian"` or `"mitchellcubic"`.
        follow_links: descend into symlinked folders.
        crop_to_aspect_ratio: resize without distortion by cropping the
            largest centred window of the target aspect ratio.
        pad_to_aspect_ratio: resize without distortion by padding with zeros.
        data_format: `"channels_last"` or `"channels_first"`; None: the
            global `kerax.config.image_data_format()`.
        verbose: print how many files and classes were found.
        num_workers: kerax only: grain worker processes decoding batches
            (default: half the CPUs, none on a 2-CPU machine; 0: in-process
            threads).

    Returns:
        A `FileDataset` (iterable of `(images, labels)` batches of NumPy
        arrays, float32 images `(batch, height, width, channels)`; images
        alone without labels) with `class_names` and `file_paths`; with
        `subset="both"`, a tuple `(train_ds, val_ds)`.

    Example:
        >>> import os, tempfile
        >>> from PIL import Image
        >>> root = tempfile.mkdtemp()
        >>> for c in ("cat", "dog"):
        ...     os.makedirs(os.path.join(root, c))
        ...     for i in range(3):
        ...         Image.new("RGB", (20, 10), (i, 0, 0)).save(os.path.join(root, c, f"{i}.png"))
        >>> ds = kerax.utils.image_dataset_from_directory(
        ...     root, image_size=(8, 8), batch_size=4, seed=0, verbose=False, num_workers=0)
        >>> ds.class_names, len(ds)
        (['cat', 'dog'], 2)
        >>> x, y = next(iter(ds))
        >>> x.shape, x.dtype, y.dtype
        ((4, 8, 8, 3), dtype('float32'), dtype('int32'))
    """
    labels, label_mode = dataset_utils.check_labels_args(
        labels, label_mode, class_names, "image"
    )
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
    if channels is None:
        raise ValueError(
            '`color_mode` must be one of {"rgb", "rgba", "grayscale"}. Received: '
            f"color_mode={color_mode}"
        )
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(
            "Invalid `image_size` value. Expected a tuple of 2 integers. Received: "
            f"image_size={image_size}"
        )
    interpolation = interpolation.lower()
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"Argument `interpolation` should be one of {INTERPOLATIONS}. "
            f"Received: interpolation={interpolation}"
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            "Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set "
            "to `True`."
        )
    if data_format is None:
        data_format = config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            '`data_format` must be "channels_last", "channels_first" or None; '
            f"received: data_format={data_format!r}"
        )

    def make_sample(paths, encoded):
        return _ImageSample(
            paths,
            encoded,
            image_size,
            channels,
            interpolation,
            crop_to_aspect_ratio,
            pad_to_aspect_ratio,
        )

    return dataset_utils.directory_dataset(
        directory,
        labels=labels,
        label_mode=label_mode,
        class_names=class_names,
        formats=ALLOWLIST_FORMATS,
        what="image",
        make_sample=make_sample,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        validation_split=validation_split,
        subset=subset,
        follow_links=follow_links,
        verbose=verbose,
        num_workers=num_workers,
        transforms=(_channels_first,) if data_format == "channels_first" else (),
    )


def _channels_first(x, y=None):
    x = np.moveaxis(x, -1, -3)
    return x if y is None else (x, y)
