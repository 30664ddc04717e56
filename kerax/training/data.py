"""Data for `Trainer.fit` / `evaluate` / `predict`: adapters, batching, prefetch.

Accepted, as in Keras: NumPy or JAX arrays (and dicts, lists or tuples of
them for multi-input and multi-output models); Python iterables and
generators of batches `x`, `(x, y)` or `(x, y, sample_weight)` (lists of
batches, `keras.utils.PyDataset`-like sequences, `torch` data loaders);
`tf.data.Dataset` (TensorFlow is imported by the caller, never here); grain
datasets and loaders.

Arrays are batched here, shuffled with a permutation drawn from
`(seed, epoch)`, so a run resumed at `initial_epoch` sees the same order as
the uninterrupted one. Every adapter yields `Chunk`s: one batch, or K batches
of equal shapes stacked on a leading axis for `steps_per_execution=K`.

Transfer: on accelerators, array batches are put on the device one ahead of
the step that uses them (`jax.device_put` is asynchronous, so the copy of
batch i+1 overlaps step i); on CPU that only adds Python work (measured), so
NumPy batches go straight to the jitted step. Batches from Python iterables
are produced by a background thread a few ahead, so the iterable's own work
(decoding, augmentation, tf.data's conversion) overlaps the steps.
"""

from __future__ import annotations

import collections
import collections.abc
import math
import queue
import threading
import warnings
from collections.abc import Iterator
from typing import Any, NamedTuple

import jax
import numpy as np

from kerax.training.objectives import unpack_batch
from kerax.utils.py_dataset import PyDataset

__all__ = [
    "Chunk",
    "ArrayAdapter",
    "IterableAdapter",
    "get_adapter",
    "is_array_data",
    "train_validation_split",
    "class_weight_to_sample_weight",
    "prefetch_to_device",
    "ThreadPrefetcher",
]


class Chunk(NamedTuple):
    """What the training loop runs in one dispatch (adapters may yield plain
    `(batch, steps)` tuples too).

    `batch` is `(x, y, sample_weight)`; when `steps > 1` every leaf has a
    leading axis of size `steps` (K batches stacked for a fused execution).
    """

    batch: Any
    steps: int


def _is_array(x) -> bool:
    return isinstance(x, (np.ndarray, jax.Array)) or (
        hasattr(x, "__array__")
        and hasattr(x, "shape")
        and hasattr(x, "dtype")
        and not _is_dataset(x)
    )


def _is_dataset(x) -> bool:
    module = type(x).__module__ or ""
    return module.startswith(("tensorflow", "grain", "torch.utils.data"))


def is_array_data(x) -> bool:
    """True for an array or a (nested) dict/list/tuple of arrays."""
    if x is None:
        return False
    leaves = jax.tree.leaves(x)
    if not leaves:
        return False
    # A list holds one array per model input (Keras); a list of tuples is a
    # list of (x, y) batches, i.e. an iterable.
    if isinstance(x, (list, tuple)) and not all(
        _is_array(v) or isinstance(v, dict) for v in x
    ):
        return False
    return all(_is_array(v) for v in leaves)


def _to_numpy(tree):
    """Host NumPy leaves; float64 becomes float32 (Keras's floatx) once, up front."""

    def one(a):
        if a is None:
            return None
        a = np.asarray(a)
        if a.dtype == np.float64:
            a = a.astype(np.float32)
        return a

    return jax.tree.map(one, tree, is_leaf=lambda v: v is None)


def _num_samples(tree) -> int:
    sizes = {int(np.shape(a)[0]) for a in jax.tree.leaves(tree)}
    if len(sizes) != 1:
        raise ValueError(
            f"All arrays must have the same number of samples (first dimension); got sizes {sorted(sizes)}."
        )
    return sizes.pop()


def train_validation_split(arrays, validation_split: float):
    """Keras's `validation_split`: the LAST fraction of the samples, before shuffling."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(
            f"`validation_split` must be between 0 and 1, got {validation_split}."
        )
    n = _num_samples(arrays)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a validation and training "
            f"set as specified by `validation_split={validation_split}`. Either provide more data, or a different value "
            "for the `validation_split` argument."
        )
    train = jax.tree.map(
        lambda a: None if a is None else a[:split_at],
        arrays,
        is_leaf=lambda v: v is None,
    )
    val = jax.tree.map(
        lambda a: None if a is None else a[split_at:],
        arrays,
        is_leaf=lambda v: v is None,
    )
    return train, val


def class_weight_to_sample_weight(y, class_weight: dict, sample_weight=None):
    """Per-sample weights from Keras's `class_weight` (`{class: weight}`).

    `y` holds class indices (`(n,)` or `(n, 1)`) or one-hot rows (`(n, classes)`);
    the result multiplies any given `sample_weight`.
    """
    if isinstance(y, (dict, list, tuple)):
        raise ValueError(
            "`class_weight` is only supported for models with a single output (a single target array y)."
        )
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        classes = np.argmax(y, axis=1)
    elif (
        y.ndim == 2
        and y.shape[1] == 1
        and np.issubdtype(y.dtype, np.floating)
        and set(np.unique(y)) <= {0.0, 1.0}
    ):
        classes = y[:, 0].astype(np.int64)
    else:
        classes = y.reshape(y.shape[0], -1)[:, 0].astype(np.int64)
    max_class = max(int(k) for k in class_weight)
    table = np.ones((max(max_class, int(classes.max(initial=0))) + 1,), np.float32)
    for k, w in class_weight.items():
        table[int(k)] = float(w)
    weights = table[classes]
    if sample_weight is not None:
        sw = np.asarray(sample_weight, np.float32)
        weights = weights.reshape(sw.shape[:1] + (1,) * (sw.ndim - 1)) * sw
    return weights


def _slice(tree, start, stop):
    return jax.tree.map(
        lambda a: None if a is None else a[start:stop],
        tree,
        is_leaf=lambda v: v is None,
    )


class ArrayAdapter:
    """Batches of in-memory arrays, shuffled per epoch from `(seed, epoch)`.

    Args:
        x, y, sample_weight: arrays or pytrees of arrays with equal lengths.
        batch_size: samples per batch; the last batch of an epoch may be
            smaller (it is run at its own shape, compiled once and cached, so
            results match Keras exactly and BatchNormalization never sees
            padding rows).
        shuffle: True (a new permutation every epoch), "batch" (as Keras:
            batches in order, samples shuffled within each) or False.
        seed: the shuffling seed; epoch `e` uses `default_rng([seed, e])`.
        class_weight: Keras's `{class: weight}`, turned into sample weights.
    """

    def __init__(
        self,
        x,
        y=None,
        sample_weight=None,
        *,
        batch_size=32,
        shuffle=True,
        seed=0,
        class_weight=None,
    ):
        self.x = _to_numpy(x)
        self.y = _to_numpy(y)
        if class_weight is not None:
            if y is None:
                raise ValueError("`class_weight` needs targets y.")
            sample_weight = class_weight_to_sample_weight(
                self.y, class_weight, sample_weight
            )
        self.sample_weight = _to_numpy(sample_weight)
        self.n = _num_samples((self.x, self.y, self.sample_weight))
        if batch_size is None:
            batch_size = 32
        if int(batch_size) <= 0:
            raise ValueError(
                f"`batch_size` must be a positive integer, got {batch_size}."
            )
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.num_batches = max(1, math.ceil(self.n / self.batch_size)) if self.n else 0
        # Flattened once: batching is then a list comprehension of NumPy
        # indexing plus one C++ unflatten per batch (no per-batch tree walk).
        self._leaves, self._treedef = jax.tree.flatten(self.data)

    @property
    def data(self):
        return (self.x, self.y, self.sample_weight)

    def peek(self):
        return _slice(self.data, 0, min(self.n, self.batch_size))

    def _batch_indices(self, epoch: int, steps: int | None) -> list:
        """Per-batch `slice`s (no shuffle) or index arrays, for this epoch."""
        b, n = self.batch_size, self.n
        out: list = []
        passes = 0
        while True:
            rng = np.random.default_rng([self.seed & 0xFFFFFFFF, int(epoch), passes])
            order = rng.permutation(n) if self.shuffle is True else None
            for s in range(0, n, b):
                stop = min(s + b, n)
                if self.shuffle == "batch":  # Keras: shuffle within each batch.
                    out.append(rng.permutation(stop - s) + s)
                else:
                    out.append(slice(s, stop) if order is None else order[s:stop])
                if steps is not None and len(out) == steps:
                    return out
            passes += 1
            if steps is None:
                return out

    # Rows gathered per block when shuffling: one NumPy fancy-index per block
    # instead of per batch. A per-batch gather (x[idx], y[idx]) costs about
    # as much Python time as the jitted step's dispatch on a small model;
    # slicing a gathered block is free (figures in docs/performance.md).
    block_bytes = 4 << 20
    max_block_batches = 64

    def _gathered_blocks(self, indices: list):
        """`(leaves, [(start, stop), ...])` per block of consecutive batches.

        Slices of unshuffled data are views of the arrays themselves; index
        arrays are concatenated over a block of batches and gathered once.
        """
        leaves = self._leaves
        row_bytes = sum(a[:1].nbytes for a in leaves) or 1
        per_block = max(
            1,
            min(
                self.max_block_batches,
                self.block_bytes // (row_bytes * self.batch_size),
            ),
        )
        i = 0
        while i < len(indices):
            if isinstance(indices[i], slice):
                yield leaves, [(indices[i].start, indices[i].stop)]
                i += 1
                continue
            group = []
            while (
                i < len(indices)
                and len(group) < per_block
                and not isinstance(indices[i], slice)
            ):
                group.append(indices[i])
                i += 1
            flat = np.concatenate(group) if len(group) > 1 else group[0]
            ends = np.cumsum([len(g) for g in group]).tolist()
            yield [a[flat] for a in leaves], list(zip([0] + ends[:-1], ends))

    def chunks(
        self, epoch: int, steps: int | None = None, fuse: int = 1, skip: int = 0
    ) -> Iterator[Chunk]:
        """The epoch's batches after the first `skip`; runs of `fuse` full batches come stacked."""
        b = self.batch_size
        indices = self._batch_indices(epoch, steps)[skip:]
        if fuse == 1:  # The common case, kept bare: it runs once per step.
            unflatten = self._treedef.unflatten
            for leaves, bounds in self._gathered_blocks(indices):
                for start, stop in bounds:
                    yield unflatten([a[start:stop] for a in leaves]), 1
            return
        i = 0
        while i < len(indices):
            if (
                fuse > 1
                and i + fuse <= len(indices)
                and all(_size(ix, b) == b for ix in indices[i : i + fuse])
            ):
                group = indices[i : i + fuse]
                if (
                    all(isinstance(ix, slice) for ix in group)
                    and group[-1].stop - group[0].start == fuse * b
                ):
                    flat = slice(group[0].start, group[-1].stop)
                else:
                    flat = np.concatenate(
                        [
                            np.arange(ix.start, ix.stop)
                            if isinstance(ix, slice)
                            else ix
                            for ix in group
                        ]
                    )
                leaves = [a[flat] for a in self._leaves]
                leaves = [a.reshape((fuse, b) + a.shape[1:]) for a in leaves]
                yield Chunk(self._treedef.unflatten(leaves), fuse)
                i += fuse
            else:
                ix = indices[i]
                yield Chunk(self._treedef.unflatten([a[ix] for a in self._leaves]), 1)
                i += 1


def _size(ix, b) -> int:
    return (ix.stop - ix.start) if isinstance(ix, slice) else len(ix)


def _standardize_batch(batch):
    """A batch from an iterable as `(x, y, sample_weight)` of NumPy arrays."""
    x, y, sw = unpack_batch(batch)
    return (_to_numpy(x), _to_numpy(y), _to_numpy(sw))


class IterableAdapter:
    """Batches from a Python iterable, generator, tf.data or grain dataset.

    A re-iterable source (a list, a sequence, a dataset) starts a fresh pass
    every epoch; a one-shot iterator (a generator) is consumed across epochs,
    so `steps_per_epoch` must be given for more than one epoch (as in Keras,
    training stops with a warning when it runs out of data).
    """

    def __init__(self, data, *, class_weight=None, prefetch: int = 2):
        self.source = data
        self.class_weight = class_weight
        self.prefetch = prefetch
        # A generator or iterator is consumed once; anything else (a list, a
        # dataset, a loader) starts a fresh pass when iterated again. (Never
        # call iter() to find out: a torch DataLoader would start workers.)
        self.one_shot = isinstance(data, collections.abc.Iterator)
        self.num_batches = None
        if not self.one_shot:
            try:
                self.num_batches = len(data)
            except TypeError:
                self.num_batches = None
        self._iterator = None
        self._pushed_back: collections.deque = collections.deque()
        self.exhausted = False

    def _new_iterator(self):
        src = self.source
        module = type(src).__module__ or ""
        if module.startswith("tensorflow") and hasattr(src, "as_numpy_iterator"):
            it = src.as_numpy_iterator()
        elif (
            hasattr(src, "__getitem__")
            and hasattr(src, "__len__")
            and not isinstance(src, (list, tuple))
            and not hasattr(src, "__iter__")
        ):
            it = (src[i] for i in range(len(src)))
        else:
            it = iter(src)
        it = map(self._convert, it)
        if self.prefetch:
            it = ThreadPrefetcher(it, self.prefetch)
        return it

    def _convert(self, batch):
        x, y, sw = _standardize_batch(batch)
        if self.class_weight is not None and y is not None:
            sw = class_weight_to_sample_weight(y, self.class_weight, sw)
        return (x, y, sw)

    def peek(self):
        if not self._pushed_back:
            if self._iterator is None:
                self._iterator = self._new_iterator()
            try:
                self._pushed_back.append(next(self._iterator))
            except StopIteration:
                raise ValueError("The data iterable is empty.") from None
        return self._pushed_back[0]

    def _next(self):
        if self._pushed_back:
            return self._pushed_back.popleft()
        return next(self._iterator)

    def chunks(
        self, epoch: int, steps: int | None = None, fuse: int = 1, skip: int = 0
    ) -> Iterator[Chunk]:
        """The epoch's batches: one pass, or `steps` batches when given.

        The first `skip` batches are drawn and dropped (a resumed epoch).
        """
        del epoch  # The source decides its own order.
        if self._iterator is None or (
            not self.one_shot and steps is None and not self._pushed_back
        ):
            self._close()
            self._iterator = self._new_iterator()
        taken, pass_taken = 0, 0
        pending: list = []
        while steps is None or taken < steps:
            try:
                batch = self._next()
            except StopIteration:
                if steps is not None and not self.one_shot and pass_taken > 0:
                    self._iterator, pass_taken = (
                        self._new_iterator(),
                        0,
                    )  # Another pass.
                    continue
                break
            taken += 1
            pass_taken += 1
            if taken <= skip:
                continue
            if fuse > 1:
                pending.append(batch)
                if len(pending) == fuse:
                    yield from _stack_or_single(pending)
                    pending = []
            else:
                yield Chunk(batch, 1)
        yield from (Chunk(b, 1) for b in pending)
        if taken == 0 or (steps is not None and taken < steps):
            self.exhausted = True
        if steps is None and not self.one_shot:
            self._close()
            self._iterator = None

    def _close(self):
        if isinstance(self._iterator, ThreadPrefetcher):
            self._iterator.close()

    def close(self):
        """Stops the background prefetch thread, if any."""
        self._close()
        self._iterator = None


def _stack_or_single(batches):
    shapes = [jax.tree.map(np.shape, b) for b in batches]
    structures = [jax.tree.structure(b) for b in batches]
    if all(s == structures[0] for s in structures) and all(
        s == shapes[0] for s in shapes
    ):
        yield Chunk(jax.tree.map(lambda *a: np.stack(a), *batches), len(batches))
    else:
        yield from (Chunk(b, 1) for b in batches)


def _non_array_leaf(tree, path="x"):
    """The first `(path, value)` in a dict/list/tuple that is not an array, or None."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            if isinstance(v, (list, tuple)) and not any(_is_array(u) for u in v):
                return f"{path}[{k!r}]", v
            found = _non_array_leaf(v, f"{path}[{k!r}]")
            if found:
                return found
        return None
    if isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            found = _non_array_leaf(v, f"{path}[{i}]")
            if found:
                return found
        return None
    if tree is None or _is_array(tree):
        return None
    return path, tree


def check_array_inputs(x, y=None) -> None:
    """Clear errors for `fit`'s `x`/`y` given as containers of non-arrays.

    A dict of inputs must hold arrays; nested Python lists of numbers
    (possibly ragged) are not batches: both say what to pass instead,
    rather than failing later with an AttributeError.
    """
    for name, value in (("x", x), ("y", y)):
        if isinstance(value, dict) or (
            isinstance(value, (list, tuple))
            and value
            and not any(
                isinstance(v, (list, tuple, dict)) or _is_array(v) for v in value
            )
        ):
            found = _non_array_leaf(value, name)
            if found is not None:
                where, leaf = found
                raise ValueError(
                    f"fit: `{where}` is a {type(leaf).__name__}, not an array. Pass NumPy/JAX "
                    f"arrays (np.asarray(...)) for each input, or a dataset/generator of batches."
                )
        if (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(v, (list, tuple)) for v in value)
        ):
            flat = jax.tree.leaves(value)
            if flat and all(isinstance(v, (int, float, bool)) for v in flat):
                lengths = {len(v) for v in value}
                kind = "a ragged" if len(lengths) > 1 else "a nested"
                raise ValueError(
                    f"fit: `{name}` is {kind} Python list of numbers, not an array. "
                    f"Convert it with np.asarray({name}) (pad ragged rows to one length first)."
                )


def check_sparse_labels(loss, y, y_pred_spec) -> None:
    """Sparse class labels must lie in `[0, num_classes)`: checked once per `fit`.

    Keras lets out-of-range or negative labels through silently (the loss
    reads a clipped or arbitrary entry); on host NumPy labels the check is
    one pass over `y`.
    """
    name = loss if isinstance(loss, str) else type(loss).__name__
    if "sparse" not in str(name).lower() or not isinstance(
        y_pred_spec, jax.ShapeDtypeStruct
    ):
        return
    if not isinstance(y, np.ndarray) or y.size == 0 or y.dtype.kind not in "iuf":
        return
    num_classes = int(y_pred_spec.shape[-1])
    ignore = getattr(loss, "ignore_class", None)
    labels = y if ignore is None else y[y != ignore]
    if labels.size == 0:
        return
    low, high = labels.min(), labels.max()
    if (
        low < 0
        or high >= num_classes
        or (y.dtype.kind == "f" and not np.all(labels == np.round(labels)))
    ):
        bad = int(np.argmax((labels < 0) | (labels >= num_classes)))
        raise ValueError(
            f"fit: `y` holds sparse class labels in [{low}, {high}] (e.g. {labels.flat[bad]!r} "
            f"at flat index {bad}), but the model has {num_classes} classes and `{name}` needs "
            f"integer labels in [0, {num_classes}). Fix the labels or the model's output units."
        )


def get_adapter(
    x,
    y=None,
    sample_weight=None,
    *,
    batch_size=None,
    shuffle=True,
    seed=0,
    class_weight=None,
    prefetch=2,
):
    """The adapter for `fit`'s `x, y, sample_weight`."""
    check_array_inputs(x, y)
    if is_array_data(x):
        return ArrayAdapter(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            class_weight=class_weight,
        )
    if isinstance(x, PyDataset):
        # Keras's PyDataset: epoch hooks and `workers` threads around each pass.
        x = x.epoch_iterable()
    if y is not None or sample_weight is not None:
        raise ValueError(
            "`y` and `sample_weight` can only be given with array inputs x; a dataset or generator yields "
            "(x, y, sample_weight) batches itself."
        )
    if batch_size is not None and not _is_dataset(x):
        pass  # Keras ignores batch_size for datasets and generators too.
    if (
        hasattr(x, "__iter__")
        or hasattr(x, "__next__")
        or (hasattr(x, "__getitem__") and hasattr(x, "__len__"))
    ):
        return IterableAdapter(x, class_weight=class_weight, prefetch=prefetch)
    raise ValueError(
        f"Unrecognized data type: x={type(x).__name__}. Pass NumPy/JAX arrays (or dicts/lists of them), a Python "
        "iterable or generator of (x, y[, sample_weight]) batches, a tf.data.Dataset or a grain dataset."
    )


def prefetch_to_device(chunks: Iterator[Chunk], size: int = 1) -> Iterator[Chunk]:
    """Puts the next `size` chunks on the default device ahead of their use."""
    buf: collections.deque = collections.deque()
    for batch, steps in chunks:
        buf.append((jax.device_put(batch), steps))
        if len(buf) > size:
            yield buf.popleft()
    while buf:
        yield buf.popleft()


_END = object()


class ThreadPrefetcher:
    """Runs an iterator in a background thread, `size` items ahead.

    Exceptions in the iterator are raised in the consumer. `close()` (or
    garbage collection) stops the thread.
    """

    def __init__(self, iterator, size: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, size))
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(iterator,), daemon=True, name="kerax-prefetch"
        )
        self._thread.start()
        self._done = False

    def _run(self, iterator):
        try:
            for item in iterator:
                while not self._stop.is_set():
                    try:
                        self._queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._put_final(_END)
        except BaseException as e:  # noqa: BLE001 - re-raised in the consumer.
            self._put_final(e)

    def _put_final(self, item):
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._done = True
            raise item
        return item

    def close(self):
        self._stop.set()
        self._done = True

    def __del__(self):
        self._stop.set()


def warn_out_of_data() -> None:
    warnings.warn(
        "Your input ran out of data; interrupting training. Make sure that your dataset or generator can generate "
        "at least `steps_per_epoch * epochs` batches. You may need to use the `.repeat()` function when building "
        "your dataset.",
        stacklevel=3,
    )
