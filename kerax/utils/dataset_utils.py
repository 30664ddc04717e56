"""Shared machinery of the `*_dataset_from_*` functions: indexing folders,
splitting, labels, and `FileDataset`, the grain pipeline they all return.

A `FileDataset` is what Keras's functions return as a `tf.data.Dataset`:
iterate it for `(x, y)` batches of NumPy arrays (`x` alone without labels),
read `class_names` and `file_paths` from it, pass it straight to
`Trainer.fit` / `evaluate` / `predict`. `len(ds)` is the number of batches
in an epoch; each pass is one epoch, reshuffled from `(seed, epoch)` when
`shuffle=True`.

Underneath is one grain `MapDataset` whose element `g` is batch
`g % len(ds)` of epoch `g // len(ds)`: batches are built whole (decoded,
resized, stacked) by grain, in `num_workers` worker processes
(`mp_prefetch`) or in grain's prefetch threads. One grain iterator lives
across epochs, so worker processes start once per dataset, not per epoch.
In a multi-process run every process reads only its own slice of the files
(`kerax.distribute.process_slice`), so each sees equally many batches.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from kerax.distribute.data import process_slice

__all__ = [
    "FileDataset",
    "check_validation_split_arg",
    "get_training_or_validation_split",
    "index_directory",
    "split_dataset",
]


# ---------------------------------------------------------------- indexing


def _iter_valid_files(directory, follow_links, formats):
    walk = os.walk(directory, followlinks=follow_links)
    for root, _, files in sorted(walk, key=lambda x: x[0]):
        for fname in sorted(files):
            if fname.lower().endswith(formats):
                yield root, fname


def index_directory(
    directory,
    labels,
    formats,
    class_names=None,
    shuffle=True,
    seed=None,
    follow_links=False,
    verbose=True,
):
    """Lists the files in `directory` with their labels, as Keras does.

    Same walk, same sort, same shuffle (`np.random.RandomState(seed)`) as
    `keras.utils`'s `index_directory`, so a seed selects the same files in
    the same order, and a validation split holds the same files.

    Args:
        directory: the folder.
        labels: `"inferred"` (one subfolder per class), None, or a list of
            integer labels in the sorted order of the files.
        formats: allowed file extensions (lower case, with the dot).
        class_names: with `"inferred"`: the subfolders to use, in order.
        shuffle: shuffle globally (else sorted order).
        seed: the shuffling seed.
        follow_links: descend into symlinked folders.
        verbose: print how many files and classes were found.

    Returns:
        `(file_paths, labels, class_names)`; labels is an int32 array, the
        given list, or None.

    Example:
        >>> import os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for c in ("cat", "dog"):
        ...     os.makedirs(os.path.join(root, c))
        ...     open(os.path.join(root, c, "1.txt"), "w").close()
        >>> paths, labels, names = kerax.utils.dataset_utils.index_directory(
        ...     root, "inferred", (".txt",), shuffle=False, verbose=False)
        >>> names, labels.tolist()
        (['cat', 'dog'], [0, 1])
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(
            f"`directory` {directory!r} is not a folder (or does not exist)."
        )
    if labels == "inferred":
        subdirs = [
            d
            for d in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")
        ]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError(
                    "The `class_names` passed did not match the names of the "
                    f"subdirectories of the target directory. Expected: {subdirs} "
                    f"(or a subset of it), but received: class_names={class_names}"
                )
            subdirs = list(class_names)
    else:
        if class_names is not None:
            if labels is None:
                raise ValueError(
                    "When `labels=None` (no labels), argument `class_names` "
                    "cannot be specified."
                )
            raise ValueError(
                "When argument `labels` is specified, argument `class_names` "
                "cannot be specified (the `class_names` will be the sorted list "
                "of labels)."
            )
        subdirs = [""]
    class_names = list(subdirs)
    filenames, per_class = [], []
    for index, subdir in enumerate(subdirs):
        dirpath = os.path.join(directory, subdir)
        dirname = os.path.basename(dirpath)
        found = [
            os.path.join(dirname, os.path.relpath(os.path.join(root, f), dirpath))
            for root, f in _iter_valid_files(dirpath, follow_links, formats)
        ]
        filenames += found
        per_class.append(np.full(len(found), index, np.int32))
    if labels == "inferred":
        labels = np.concatenate(per_class) if per_class else np.zeros(0, np.int32)
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in "
                f"the target directory. len(labels) is {len(labels)} while we "
                f"found {len(filenames)} files in directory {directory}."
            )
        class_names = [str(label) for label in sorted(set(labels))]
    if verbose:
        if labels is None:
            print(f"Found {len(filenames)} files.")
        else:
            print(
                f"Found {len(filenames)} files belonging to {len(class_names)} classes."
            )
    file_paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            labels = np.array(labels) if not isinstance(labels, np.ndarray) else labels
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    """Keras's checks of `validation_split` / `subset` / `seed`."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be between 0 and 1, received: {validation_split}"
        )
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError(
            "If `subset` is set, `validation_split` must be set, and inversely."
        )
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            f'`subset` must be either "training", "validation" or "both", received: {subset}'
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide "
            "a `seed` argument, to make sure that there is no overlap between the "
            "training and validation subset."
        )


def get_training_or_validation_split(samples, labels, validation_split, subset):
    """The LAST `validation_split` of the (shuffled) samples is validation (Keras)."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if subset == "training":
        print(f"Using {len(samples) - num_val} files for training.")
        samples = samples[: len(samples) - num_val]
        labels = None if labels is None else labels[: len(labels) - num_val]
    elif subset == "validation":
        print(f"Using {num_val} files for validation.")
        samples = samples[len(samples) - num_val :]
        labels = None if labels is None else labels[len(labels) - num_val :]
    else:
        raise ValueError(
            f'`subset` must be either "training" or "validation", received: {subset}'
        )
    return samples, labels


def encode_labels(labels, label_mode, num_classes) -> np.ndarray | None:
    """int32 `(n,)`, float32 one-hot `(n, classes)` or float32 `(n, 1)` (Keras's dtypes)."""
    if label_mode is None or labels is None:
        return None
    labels = np.asarray(labels)
    if label_mode == "int":
        return labels.astype(np.int32)
    if label_mode == "binary":
        return labels.astype(np.float32)[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype=np.float32)[labels.astype(np.int64)]
    raise ValueError(
        '`label_mode` must be one of "int", "categorical", "binary" or None; '
        f"received: label_mode={label_mode!r}"
    )


# ------------------------------------------------------------- FileDataset


def _stack(values):
    if isinstance(values[0], str):
        return np.array(values, dtype=object)
    return np.stack(values)


class _Batches:
    """Element `g` of the pipeline: batch `g % n_batches` of epoch `g // n_batches`.

    A plain picklable object (grain sends it to its worker processes); the
    epoch's permutation is drawn from `(seed, epoch)` and cached per worker.
    """

    def __init__(
        self, sample, n, batch_size, shuffle, seed, transforms=(), collate=None
    ):
        self.sample, self.n = sample, n
        self.collate = collate or _stack
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.transforms = tuple(transforms)
        per = batch_size or 1
        self.n_batches = max(1, math.ceil(n / per)) if n else 0
        self._orders: dict = {}

    def order(self, epoch):
        if not self.shuffle:
            return None
        if epoch not in self._orders:
            if len(self._orders) > 2:
                self._orders.clear()
            rng = np.random.default_rng([self.seed & 0xFFFFFFFF, epoch])
            self._orders[epoch] = rng.permutation(self.n)
        return self._orders[epoch]

    def indices(self, g):
        epoch, b = divmod(int(g), self.n_batches)
        per = self.batch_size or 1
        order = self.order(epoch)
        stop = min((b + 1) * per, self.n)
        idx = range(b * per, stop) if order is None else order[b * per : stop]
        return [int(i) for i in idx]

    def __call__(self, g):
        samples = [self.sample(i) for i in self.indices(g)]
        if self.batch_size is None:
            out = samples[0]
        elif isinstance(samples[0], tuple):
            # `collate` batches the inputs (padding, for audio); labels stack.
            xs, *rest = zip(*samples)
            out = (self.collate(list(xs)), *(_stack(list(r)) for r in rest))
        else:
            out = self.collate(samples)
        for fn in self.transforms:
            out = fn(*out) if isinstance(out, tuple) else fn(out)
        return out


_GRAIN_PROFILING_FLAG = "grain_enable_multiprocess_worker_profiling"


def _allow_grain_workers():
    # grain 0.2.18's mp_prefetch reads this absl flag and fails when the
    # program never parsed absl flags (google/grain#1355, fixed upstream
    # after 0.2.18). Marking this one flag as given, at its default value,
    # leaves every other flag (and a later absl.app.run) untouched.
    from absl import flags

    if flags.FLAGS.is_parsed() or _GRAIN_PROFILING_FLAG not in flags.FLAGS:
        return
    holder = flags.FLAGS[_GRAIN_PROFILING_FLAG]
    if not holder.present:
        holder.present = 1


def default_num_workers() -> int:
    """Worker processes for decoding: half the CPUs (the rest train), at most 8.

    With 2 or fewer CPUs, decoding runs in grain's threads in-process.
    """
    cpus = os.cpu_count() or 1
    return 0 if cpus <= 2 else min(8, cpus // 2)


class FileDataset:
    """Batches of `(x, y)` NumPy arrays from files, epoch after epoch (grain).

    What `image_dataset_from_directory` and its siblings return; Keras
    returns a `tf.data.Dataset` with the same attributes. Iterate it, pass it
    to `Trainer.fit(ts, ds, validation_data=val_ds)`, or take grain's own
    dataset with `as_grain_dataset()`.

    Attributes:
        class_names: the class names, in label order (None without labels).
        file_paths: the files this process reads, in the unshuffled order of
            its samples.
        batch_size: samples per batch (None: unbatched samples).
        num_workers: grain worker processes decoding batches (0: threads).

    Example:
        >>> ds = kerax.utils.timeseries_dataset_from_array(
        ...     np.arange(6), np.arange(6), sequence_length=2, batch_size=2)
        >>> len(ds), [y.tolist() for _, y in ds]
        (3, [[0, 1], [2, 3], [4]])
        >>> grain_ds = ds.as_grain_dataset(epochs=1)
        >>> len(grain_ds), grain_ds[0][1].tolist()
        (3, [0, 1])
    """

    def __init__(
        self,
        sample: Callable[[int], Any],
        num_samples: int,
        *,
        batch_size: int | None,
        shuffle: bool,
        seed: int,
        class_names: Sequence[str] | None = None,
        file_paths: Sequence[str] | None = None,
        num_workers: int = 0,
        transforms: Sequence[Callable] = (),
        collate: Callable | None = None,
    ):
        if batch_size is not None and int(batch_size) <= 0:
            raise ValueError(
                f"`batch_size` must be a positive integer or None; got {batch_size}."
            )
        if num_workers < 0:
            raise ValueError(f"`num_workers` must be >= 0; got {num_workers}.")
        self._batches = _Batches(
            sample, num_samples, batch_size, shuffle, int(seed), transforms, collate
        )
        self.class_names = None if class_names is None else list(class_names)
        self.file_paths = None if file_paths is None else list(file_paths)
        self.batch_size = batch_size
        self.num_workers = int(num_workers)
        self._iterator = None
        self._next_element = 0

    def __len__(self) -> int:
        return self._batches.n_batches

    @property
    def num_samples(self) -> int:
        return self._batches.n

    def __repr__(self) -> str:
        return (
            f"FileDataset(batches={len(self)}, samples={self.num_samples}, "
            f"batch_size={self.batch_size}, class_names={self.class_names}, "
            f"num_workers={self.num_workers})"
        )

    def as_grain_dataset(self, epochs: int | None = None):
        """The grain `MapDataset` of batches (all epochs, or `epochs` of them)."""
        import grain

        stop = sys.maxsize if epochs is None else epochs * len(self)
        return grain.MapDataset.range(stop).map(self._batches)

    def _start(self, first_element: int):
        import grain

        ds = grain.MapDataset.range(first_element, sys.maxsize).map(self._batches)
        ds = ds.to_iter_dataset(
            grain.ReadOptions(
                num_threads=2 if self.num_workers else 4, prefetch_buffer_size=4
            )
        )
        if self.num_workers:
            _allow_grain_workers()
            ds = ds.mp_prefetch(
                grain.MultiprocessingOptions(
                    num_workers=self.num_workers, per_worker_buffer_size=2
                )
            )
        self._iterator = iter(ds)
        self._next_element = first_element

    def __iter__(self):
        n = len(self)
        if n == 0:
            return
        if self._iterator is None or self._next_element % n:
            # A fresh start, or the last pass stopped mid-epoch: begin the
            # next whole epoch.
            self.close()
            self._start(-(-self._next_element // n) * n)
        for _ in range(n):
            batch = next(self._iterator)
            self._next_element += 1
            yield batch

    def take(self, count: int) -> list:
        """The first `count` batches of the next epoch, as a list (Keras's `ds.take`)."""
        out = []
        for batch in self:
            if len(out) == count:
                break
            out.append(batch)
        return out

    def map(self, fn: Callable) -> FileDataset:
        """A dataset whose batches are `fn(x, y)` (or `fn(x)`), computed where batches are made.

        With `num_workers > 0`, `fn` runs in the worker processes and must be
        picklable (a module-level function, not a lambda).

        Example:
            >>> ds = kerax.utils.timeseries_dataset_from_array(
            ...     np.arange(10.0), None, sequence_length=3, batch_size=4)
            >>> [b.shape for b in ds.map(lambda x: x[:, :2])]
            [(4, 2), (4, 2)]
        """
        clone = object.__new__(FileDataset)
        clone.__dict__.update(self.__dict__)
        b = self._batches
        clone._batches = _Batches(
            b.sample,
            b.n,
            b.batch_size,
            b.shuffle,
            b.seed,
            b.transforms + (fn,),
            b.collate,
        )
        clone._iterator, clone._next_element = None, 0
        return clone

    def close(self) -> None:
        """Stops the worker processes (also done when the dataset is collected)."""
        iterator, self._iterator = self._iterator, None
        if iterator is not None and hasattr(iterator, "close"):
            iterator.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown.
            pass


def shard_for_process(items: list, *more: list):
    """This process's slice of `items` (and of parallel lists), for multi-host input."""
    if jax.process_count() == 1:
        return (items, *more)
    sl = process_slice(len(items))
    return (items[sl], *(m[sl] if m is not None else None for m in more))


def check_labels_args(labels, label_mode, class_names, what: str):
    """Keras's checks of `labels` / `label_mode` / `class_names`; returns both, None-normalized."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the "
                f"same size as the number of {what} files in the target directory. "
                "If you wish to infer the labels from the subdirectory names in the "
                'target directory, pass `labels="inferred"`. If you wish to get a '
                f"dataset that only contains {what} samples (no labels), pass "
                f"`labels=None`. Received: labels={labels}"
            )
        if class_names:
            raise ValueError(
                'You can only pass `class_names` if `labels="inferred"`. Received: '
                f"labels={labels}, and class_names={class_names}"
            )
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", '
            f"or None. Received: label_mode={label_mode}"
        )
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def directory_dataset(
    directory,
    *,
    labels,
    label_mode,
    class_names,
    formats,
    what,
    make_sample,
    batch_size,
    shuffle,
    seed,
    validation_split,
    subset,
    follow_links,
    verbose,
    num_workers,
    transforms=(),
    collate=None,
):
    """The common body of the `*_dataset_from_directory` functions.

    `make_sample(paths, encoded_labels)` returns the picklable per-sample
    loader. Returns one `FileDataset`, or `(train, validation)` for
    `subset="both"` (validation unshuffled, as Keras).
    """
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labels, class_names = index_directory(
        directory,
        labels,
        formats=formats,
        class_names=class_names,
        shuffle=shuffle,
        seed=seed,
        follow_links=follow_links,
        verbose=verbose,
    )
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 '
            f"class_names. Received: class_names={class_names}"
        )
    if num_workers is None:
        num_workers = default_num_workers()

    def make(subset_name, shuffle_subset):
        sub_paths, sub_labels = get_training_or_validation_split(
            paths, labels, validation_split, subset_name
        )
        if not len(sub_paths):
            kind = f"{subset_name} " if subset_name else ""
            raise ValueError(
                f"No {kind}{what} files found in directory {directory}. Allowed "
                f"formats: {formats}"
            )
        sub_paths, sub_labels = shard_for_process(list(sub_paths), sub_labels)
        encoded = encode_labels(
            sub_labels, label_mode, len(class_names) if class_names else 0
        )
        return FileDataset(
            make_sample(sub_paths, encoded),
            len(sub_paths),
            batch_size=batch_size,
            shuffle=shuffle_subset,
            seed=seed,
            class_names=class_names,
            file_paths=sub_paths,
            num_workers=num_workers,
            transforms=transforms,
            collate=collate,
        )

    if subset == "both":
        return make("training", shuffle), make("validation", False)
    return make(subset, shuffle)


# ------------------------------------------------------------ split_dataset


class _Rows(Sequence):
    """Samples `i` of a tree of equally long arrays: grain's random-access source."""

    def __init__(self, arrays):
        self.arrays = arrays
        self._length = len(jax.tree.leaves(arrays)[0])

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, i):
        return jax.tree.map(lambda a: a[i], self.arrays)


def _is_tf_dataset(dataset) -> bool:
    return type(dataset).__module__.startswith("tensorflow") and hasattr(
        dataset, "element_spec"
    )


def _is_grain_map_dataset(dataset) -> bool:
    return type(dataset).__module__.startswith("grain") and hasattr(
        dataset, "__getitem__"
    )


def _stack_samples(samples: list):
    """A list of same-structured samples as one tree of NumPy arrays."""
    first_shapes = jax.tree.map(np.shape, samples[0])
    for i, sample in enumerate(samples[1:], start=1):
        if jax.tree.map(np.shape, sample) != first_shapes:
            raise ValueError(
                "split_dataset: all samples must have the same structure and shapes; sample 0 has "
                f"{first_shapes}, sample {i} has {jax.tree.map(np.shape, sample)}."
            )
    return jax.tree.map(lambda *xs: np.stack(xs), *samples)


def _as_arrays(dataset):
    """`(arrays, tf_batch_size)`: the dataset's samples as a tree of
    NumPy arrays with the sample index first."""
    if _is_tf_dataset(dataset):
        batch_size = getattr(dataset, "_batch_size", None)  # Keras's test.
        if batch_size is not None:
            dataset = dataset.unbatch()
            batch_size = int(batch_size)
        samples = list(dataset.as_numpy_iterator())
        if not samples:
            raise ValueError("split_dataset: the dataset is empty.")
        return _stack_samples(samples), batch_size
    if _is_grain_map_dataset(dataset):
        samples = [dataset[i] for i in range(len(dataset))]
        if not samples:
            raise ValueError("split_dataset: the dataset is empty.")
        return _stack_samples(samples), None
    if isinstance(dataset, list):
        dataset = tuple(dataset)  # As Keras: tf.data (and grain) want tuples.
    if not isinstance(dataset, (np.ndarray, jax.Array, tuple, dict)):
        raise TypeError(
            "split_dataset: `dataset` must be a NumPy array, a tuple/list or dict of arrays of the "
            "same length, a tf.data.Dataset or a grain MapDataset; got "
            f"{type(dataset).__name__}."
        )
    arrays = jax.tree.map(np.asarray, dataset)
    leaves = jax.tree.leaves(arrays)
    if not leaves:
        raise ValueError("split_dataset: `dataset` holds no arrays.")
    lengths = {len(a) if a.ndim else None for a in leaves}
    if len(lengths) != 1 or None in lengths:
        raise ValueError(
            "split_dataset: the arrays of `dataset` must have the same length (first dimension); got "
            f"shapes {[a.shape for a in leaves]}."
        )
    if 0 in lengths:
        raise ValueError("split_dataset: the dataset is empty.")
    return arrays, None


def _split_sizes(left_size, right_size, total: int) -> tuple[int, int]:
    """Keras's `_rescale_dataset_split_sizes`: ints are counts, floats fractions."""
    if left_size is None and right_size is None:
        raise ValueError(
            "split_dataset: give `left_size` or `right_size` (or both); both are None."
        )
    sizes = {}
    for side, size in (("left_size", left_size), ("right_size", right_size)):
        if size is None:
            continue
        if type(size) not in (int, float):
            raise TypeError(
                f"split_dataset: `{side}` must be an int, a float or None; got {size!r}."
            )
        if (type(size) is int and not 0 < size < total) or (
            type(size) is float and not 0 < size < 1
        ):
            raise ValueError(
                f"split_dataset: `{side}` must be an int in (0, {total}) (samples) or a float in "
                f"(0, 1) (a fraction); got {size!r}."
            )
        sizes[side] = round(size * total) if type(size) is float else size
    left = sizes.get("left_size", total - sizes.get("right_size", 0))
    right = sizes.get("right_size", total - left)
    if left + right > total:
        raise ValueError(
            f"split_dataset: left_size + right_size is {left + right} samples, more than the "
            f"dataset's {total}."
        )
    for side, n in (("left", left), ("right", right)):
        if n == 0:
            raise ValueError(
                f"split_dataset: with {total} samples, left_size={left_size!r} and "
                f"right_size={right_size!r} leave the {side} split empty."
            )
    return left, right


def split_dataset(
    dataset,
    left_size=None,
    right_size=None,
    shuffle=False,
    seed=None,
    preferred_backend=None,
):
    """Splits a dataset into a left and a right part (Keras's `split_dataset`).

    The same samples in the same order as Keras: with `shuffle`, the sample
    order is Python's `random.Random(seed).shuffle`; the left split is the
    first `left_size` samples, the right split the last `right_size` (so
    samples between the two are left out when both are given and sum to
    less than the whole).

    Args:
        dataset: a NumPy (or JAX) array, a tuple/list or dict of arrays of
            the same length, a `tf.data.Dataset` (a batched one is split by
            sample and each split batched the same) or a grain `MapDataset`.
        left_size: int (samples) or float in (0, 1) (fraction); None: the
            complement of `right_size`.
        right_size: likewise; None: the complement of `left_size`.
        shuffle: shuffle the samples before splitting.
        seed: the shuffle's seed (None: a random one).
        preferred_backend: None (from `dataset`'s type), `"grain"` or
            `"tensorflow"`: the kind of datasets returned.

    Returns:
        Two datasets of samples: grain `MapDataset`s for arrays and grain
        datasets (call `.batch(n)` on them, then pass them to
        `Trainer.fit`), `tf.data.Dataset`s for a tf.data dataset, as Keras.

    Example:
        >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
        >>> left, right = split_dataset((x, y), left_size=0.6)
        >>> len(left), len(right)
        (3, 2)
        >>> right[0]
        (array([6., 7.]), np.int64(3))
    """
    import random

    if preferred_backend not in (None, "grain", "tensorflow"):
        raise ValueError(
            "split_dataset: `preferred_backend` must be None, 'grain' or 'tensorflow'; got "
            f"{preferred_backend!r} (kerax has no PyTorch data path)."
        )
    as_tf = preferred_backend == "tensorflow" or (
        preferred_backend is None and _is_tf_dataset(dataset)
    )
    arrays, batch_size = _as_arrays(dataset)
    total = len(jax.tree.leaves(arrays)[0])
    left, right = _split_sizes(left_size, right_size, total)
    order = list(range(total))
    if shuffle:
        random.Random(seed if seed is not None else random.randint(0, 10**6)).shuffle(
            order
        )
    splits = [
        jax.tree.map(lambda a, ix=ix: a[ix], arrays)
        for ix in (np.asarray(order[:left]), np.asarray(order[total - right :]))
    ]
    if as_tf:
        import tensorflow as tf

        out = []
        for split in splits:
            ds = tf.data.Dataset.from_tensor_slices(split)
            if batch_size is not None:
                ds = ds.batch(batch_size)
            out.append(ds.prefetch(tf.data.AUTOTUNE))
        return tuple(out)
    import grain

    return tuple(grain.MapDataset.source(_Rows(split)) for split in splits)
