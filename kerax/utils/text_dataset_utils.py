"""`text_dataset_from_directory`: a folder of `.txt` files as a grain dataset."""

from __future__ import annotations

from kerax.utils import dataset_utils

__all__ = ["text_dataset_from_directory"]


class _TextSample:
    """Sample `i`: the file's text (UTF-8), cut to `max_length` (and its label)."""

    def __init__(self, paths, labels, max_length):
        self.paths, self.labels, self.max_length = list(paths), labels, max_length

    def __call__(self, i):
        with open(self.paths[i], encoding="utf-8") as f:
            text = f.read()
        if self.max_length is not None:
            text = text[: self.max_length]
        return text if self.labels is None else (text, self.labels[i])


def text_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    max_length=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
    *,
    num_workers=0,
):
    """Generates a dataset from `.txt` files in a directory (Keras's function, on grain).

    Arguments, file order and splits are Keras's (see
    `image_dataset_from_directory`); texts are Python `str`s, batched in a
    NumPy object array, like Keras's `format="grain"` (its TensorFlow dataset
    gives bytes).

    Args:
        directory: the folder (one subfolder per class with
            `labels="inferred"`).
        labels: `"inferred"`, None or a list of integer labels.
        label_mode: `"int"`, `"categorical"`, `"binary"` or None.
        class_names: with `"inferred"`: the subfolders to use, in order.
        batch_size: texts per batch; None yields single texts.
        max_length: keep at most this many characters of each text.
        shuffle: shuffle the files (reshuffled every epoch).
        seed: the shuffling seed.
        validation_split: fraction of the files held out for validation.
        subset: `"training"`, `"validation"` or `"both"`.
        follow_links: descend into symlinked folders.
        verbose: print how many files and classes were found.
        num_workers: kerax only: grain worker processes (reading text is
            cheap: 0, threads, by default).

    Returns:
        A `FileDataset` of `(texts, labels)` batches with `class_names` and
        `file_paths`, or `(train_ds, val_ds)` for `subset="both"`.

    Example:
        >>> import os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for c, words in (("neg", "awful"), ("pos", "great")):
        ...     os.makedirs(os.path.join(root, c))
        ...     with open(os.path.join(root, c, "1.txt"), "w") as f:
        ...         _ = f.write(f"simply {words}")
        >>> ds = kerax.utils.text_dataset_from_directory(root, shuffle=False, verbose=False)
        >>> texts, labels = next(iter(ds))
        >>> list(texts), labels.tolist()
        (['simply awful', 'simply great'], [0, 1])
    """
    labels, label_mode = dataset_utils.check_labels_args(
        labels, label_mode, class_names, "text"
    )
    return dataset_utils.directory_dataset(
        directory,
        labels=labels,
        label_mode=label_mode,
        class_names=class_names,
        formats=(".txt",),
        what="text",
        make_sample=lambda paths, encoded: _TextSample(paths, encoded, max_length),
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        validation_split=validation_split,
        subset=subset,
        follow_links=follow_links,
        verbose=verbose,
        num_workers=num_workers,
    )
