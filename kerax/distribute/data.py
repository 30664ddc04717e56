"""Global batches from process-local data, and back to the host.

In a multi-process job every process feeds only its own rows; a global
`jax.Array` (sharded along the mesh's data axis) is assembled with
`jax.make_array_from_process_local_data`, so no process ever holds the whole
batch. On one process this is just a sharded `device_put`.

Two ways to feed a process:

- Process-local data: each process reads its own files or its own slice
  (`process_slice(n)`, `shard_arrays(tree)`), batches it with the LOCAL batch
  size (`global_batch_size // jax.process_count()`), and calls
  `strategy.shard_batch(local_batch)` (or iterates
  `global_batches(iterable, strategy)`).
- The same global batch on every process (e.g. all processes shuffle the
  same array with the same seed): `strategy.shard_global_batch(batch)`, which
  copies to each device only the rows it holds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from kerax.distribute.layout import path_str

__all__ = [
    "process_slice",
    "shard_arrays",
    "global_batches",
    "pad_batch",
    "to_host",
    "batch_spec",
    "local_data_shards",
]


def _data_axes(data_axis) -> tuple:
    return (data_axis,) if isinstance(data_axis, str) else tuple(data_axis)


def batch_spec(ndim: int, data_axis, batch_axis: int = 0) -> P:
    """`P(None, ..., data_axis)`: dimension `batch_axis` along the data axis."""
    if ndim == 0:
        return P()
    axes = _data_axes(data_axis)
    entry = axes[0] if len(axes) == 1 else axes
    return P(*([None] * batch_axis), entry)


def local_data_shards(mesh, data_axis) -> int:
    """How many distinct slices of the data axis this process's devices hold."""
    names = list(mesh.axis_names)
    idx = [names.index(a) for a in _data_axes(data_axis)]
    me = jax.process_index()
    seen = set()
    for coords in np.ndindex(*mesh.devices.shape):
        if mesh.devices[coords].process_index == me:
            seen.add(tuple(coords[i] for i in idx))
    return max(len(seen), 1)


def _data_size(mesh, data_axis) -> int:
    sizes = dict(mesh.shape)
    return math.prod(sizes[a] for a in _data_axes(data_axis))


def _check_batch_dim(
    where: str, shape, batch_axis: int, divisor: int, what: str
) -> None:
    if len(shape) <= batch_axis:
        raise ValueError(
            f"{where} has shape {tuple(shape)}: no batch dimension {batch_axis} to shard."
        )
    if shape[batch_axis] % divisor:
        raise ValueError(
            f"{where} has batch dimension {shape[batch_axis]} (shape {tuple(shape)}), not divisible by {what} {divisor}. "
            "Use a batch size that is a multiple of it (pad the last batch: kerax.distribute.pad_batch)."
        )


def make_global_batch(
    mesh, data_axis, local_batch, *, batch_axis: int = 0, what: str = "batch"
):
    """Process-local rows -> global arrays sharded along the data axis (see `Strategy.shard_batch`)."""
    data_size = _data_size(mesh, data_axis)
    n_local = local_data_shards(mesh, data_axis)
    multi = jax.process_count() > 1

    def one(path, x):
        where = f"{what} leaf {path_str(path)!r}" if path else what
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            return x  # Already a global array.
        x = np.asarray(x) if not isinstance(x, jax.Array) else x
        if x.ndim == 0:
            return (
                jax.device_put(x, NamedSharding(mesh, P()))
                if not multi
                else jax.make_array_from_process_local_data(
                    NamedSharding(mesh, P()), np.asarray(x)
                )
            )
        sharding = NamedSharding(mesh, batch_spec(x.ndim, data_axis, batch_axis))
        if multi:
            _check_batch_dim(
                where + " (process-local)",
                x.shape,
                batch_axis,
                n_local,
                f"this process's {n_local} slices of the data axis of size",
            )
        else:
            _check_batch_dim(
                where, x.shape, batch_axis, data_size, "the data axis size"
            )
        if isinstance(x, jax.Array) and x.sharding == sharding:
            return x
        if not multi:
            return jax.device_put(x, sharding)
        global_shape = list(x.shape)
        global_shape[batch_axis] = x.shape[batch_axis] * data_size // n_local
        return jax.make_array_from_process_local_data(
            sharding, np.asarray(x), tuple(global_shape)
        )

    return jax.tree_util.tree_map_with_path(one, local_batch)


def make_global_batch_from_global(
    mesh, data_axis, batch, *, batch_axis: int = 0, what: str = "batch"
):
    """The same full batch on every process -> global arrays; each device gets its rows only."""
    data_size = _data_size(mesh, data_axis)

    def one(path, x):
        where = f"{what} leaf {path_str(path)!r}" if path else what
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            return x
        host = np.asarray(x)
        spec = batch_spec(host.ndim, data_axis, batch_axis)
        if host.ndim:
            _check_batch_dim(
                where, host.shape, batch_axis, data_size, "the data axis size"
            )
        sharding = NamedSharding(mesh, spec)
        if jax.process_count() == 1:
            return jax.device_put(x, sharding)
        return jax.make_array_from_callback(
            host.shape, sharding, lambda index: host[index]
        )

    return jax.tree_util.tree_map_with_path(one, batch)


def process_slice(
    n: int, process_index: int | None = None, process_count: int | None = None
) -> slice:
    """This process's contiguous block of `n` rows (the remainder `n % count` is dropped).

    Example:
        >>> x = np.arange(10)
        >>> x_local = x[kerax.distribute.process_slice(len(x))]  # one process: all of x
        >>> kerax.distribute.process_slice(10, process_index=1, process_count=4)
        slice(2, 4, None)
    """
    i = jax.process_index() if process_index is None else process_index
    k = jax.process_count() if process_count is None else process_count
    if not 0 <= i < k:
        raise ValueError(f"process_slice: process_index {i} is not in [0, {k}).")
    per = n // k
    return slice(i * per, (i + 1) * per)


def shard_arrays(
    tree, process_index: int | None = None, process_count: int | None = None
):
    """Every leaf's block of rows for this process (leading axis; see `process_slice`)."""
    sizes = {int(np.shape(x)[0]) for x in jax.tree.leaves(tree) if np.ndim(x)}
    if len(sizes) > 1:
        raise ValueError(
            f"shard_arrays: leaves have different numbers of rows {sorted(sizes)}."
        )
    if not sizes:
        return tree
    sl = process_slice(sizes.pop(), process_index, process_count)
    return jax.tree.map(lambda x: x[sl] if np.ndim(x) else x, tree)


def global_batches(batches: Iterable, strategy, *, batch_axis: int = 0) -> Iterator:
    """Process-local batches (any iterable of pytrees) -> global sharded batches.

    Example:
        >>> strategy = kerax.distribute.DataParallel()  # 8 devices
        >>> local_loader = [(np.ones((8, 3)), np.zeros((8, 1)))] * 2
        >>> for x, y in kerax.distribute.global_batches(local_loader, strategy):
        ...     print(x.shape, tuple(x.sharding.spec))  # then: ts, logs = step(ts, (x, y))
        (8, 3) ('data',)
        (8, 3) ('data',)
    """
    for batch in batches:
        yield strategy.shard_batch(batch, batch_axis=batch_axis)


def pad_batch(batch, multiple: int, *, batch_axis: int = 0):
    """Pads every leaf's batch dimension with zeros up to a multiple of `multiple`.

    Returns `(padded, n)`, `n` the original batch size: slice outputs back to
    `n`, or weight the padded rows by zero (e.g. a `sample_weight` of
    `np.arange(len) < n`), so a last, short batch still divides the data axis.
    """
    sizes = {
        int(np.shape(x)[batch_axis])
        for x in jax.tree.leaves(batch)
        if np.ndim(x) > batch_axis
    }
    if len(sizes) != 1:
        raise ValueError(
            f"pad_batch: leaves have different batch sizes {sorted(sizes)}."
        )
    n = sizes.pop()
    target = -(-n // multiple) * multiple
    if target == n:
        return batch, n

    def one(x):
        if np.ndim(x) <= batch_axis:
            return x
        x = np.asarray(x)
        pad = [(0, 0)] * x.ndim
        pad[batch_axis] = (0, target - n)
        return np.pad(x, pad)

    return jax.tree.map(one, batch), n


def to_host(tree):
    """NumPy copies of a tree of (possibly multi-process) arrays, on every process.

    Arrays spread over several processes are all-gathered
    (`multihost_utils.process_allgather`); others are `jax.device_get`.
    """

    def one(x):
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            from jax.experimental import multihost_utils

            return np.asarray(multihost_utils.process_allgather(x, tiled=True))
        return np.asarray(jax.device_get(x))

    return jax.tree.map(one, tree)
