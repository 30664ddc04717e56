"""Keras's `PyDataset`: batches from Python code, read by worker threads.

Subclass it as in Keras (`__len__`, `__getitem__`, optional
`on_epoch_begin`/`on_epoch_end`, and `super().__init__(**kwargs)` for
`workers`, `use_multiprocessing`, `max_queue_size`) and pass it to
`Trainer.fit`/`evaluate`/`predict` as `x`.
"""

from __future__ import annotations

import collections
import concurrent.futures
import itertools
import warnings
from collections.abc import Iterator

__all__ = ["PyDataset"]


class PyDataset:
    """Base class for a dataset of batches written in Python.

    Each `dataset[i]` is a batch: `x`, `(x,)`, `(x, y)` or
    `(x, y, sample_weight)`. Every epoch, `Trainer.fit` calls
    `on_epoch_begin()`, reads batches `0 .. len - 1` in order (with `workers`
    threads reading up to `max_queue_size` batches ahead), then calls
    `on_epoch_end()`, as Keras does.

    Args:
        workers: Threads reading batches in parallel (1: read in the
            training loop's prefetch thread).
        use_multiprocessing: Accepted for Keras code; kerax reads in threads
            (forking a process that runs JAX is unsafe), and says so once.
        max_queue_size: How many batches may be read ahead.

    Example:
        >>> import numpy as np
        >>> class Batches(PyDataset):
        ...     def __init__(self, x, y, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x, self.y, self.batch_size = x, y, batch_size
        ...     def __len__(self):
        ...         return -(-len(self.x) // self.batch_size)
        ...     def __getitem__(self, idx):
        ...         s = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        ...         return self.x[s], self.y[s]
        >>> ds = Batches(np.zeros((10, 2)), np.ones(10), batch_size=4, workers=2)
        >>> [len(x) for x, y in ds.epoch_iterable()]
        [4, 4, 2]
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _option(self, name: str, default):
        if not hasattr(self, "_" + name):
            warnings.warn(
                f"{type(self).__name__} should call `super().__init__(**kwargs)` in "
                "its constructor (kwargs may hold workers, use_multiprocessing, "
                "max_queue_size); using the defaults.",
                stacklevel=3,
            )
            setattr(self, "_" + name, default)
        return getattr(self, "_" + name)

    @property
    def workers(self) -> int:
        return self._option("workers", 1)

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        return self._option("use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        return self._option("max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index):
        """The batch at position `index`."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__getitem__(self, index)`."
        )

    @property
    def num_batches(self) -> int | None:
        """The number of batches (None: infinite); `len(self)` by default."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__len__` or the "
            "`num_batches` property (return None for an infinite dataset)."
        )

    def __iter__(self) -> Iterator:
        """The batches in order, without epoch hooks (as Keras)."""
        n = self.num_batches
        for index in range(n) if n is not None else itertools.count():
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""

    def epoch_iterable(self) -> _Epochs:
        """What the trainer iterates: each `iter()` is one epoch, with the
        hooks around it and `workers` threads reading ahead."""
        return _Epochs(self)


class _Epochs:
    """Re-iterable view of a PyDataset; one `iter()` is one epoch."""

    def __init__(self, dataset: PyDataset):
        self.dataset = dataset

    def __len__(self) -> int:
        n = self.dataset.num_batches
        if n is None:
            raise TypeError("An infinite PyDataset has no length.")
        return n

    def __iter__(self) -> Iterator:
        ds = self.dataset
        workers, ahead = max(1, ds.workers), max(1, ds.max_queue_size)
        if ds.use_multiprocessing:
            warnings.warn(
                f"{type(ds).__name__}: use_multiprocessing=True reads batches in "
                f"{workers} threads in kerax (forking a process running JAX is unsafe).",
                stacklevel=2,
            )
        n = ds.num_batches
        indices = iter(range(n) if n is not None else itertools.count())
        ds.on_epoch_begin()
        if workers == 1:
            yield from (ds[i] for i in indices)
        else:
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                pending = collections.deque(
                    pool.submit(ds.__getitem__, i)
                    for i in itertools.islice(indices, ahead)
                )
                while pending:
                    batch = pending.popleft().result()
                    for i in itertools.islice(indices, 1):
                        pending.append(pool.submit(ds.__getitem__, i))
                    yield batch
        ds.on_epoch_end()
