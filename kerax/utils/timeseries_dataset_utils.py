"""`timeseries_dataset_from_array`: sliding windows over an array, batched."""

from __future__ import annotations

import numpy as np

from kerax.utils.dataset_utils import FileDataset

__all__ = ["timeseries_dataset_from_array"]


class _Windows:
    """Sample `i`: the window starting at `positions[i]` (and its target)."""

    def __init__(self, data, targets, positions, sequence_length, sampling_rate):
        self.data, self.targets, self.positions = data, targets, positions
        self.offsets = np.arange(sequence_length) * sampling_rate

    def __call__(self, i):
        start = self.positions[i]
        window = self.data[start + self.offsets]
        if self.targets is None:
            return window
        return window, self.targets[start]


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
):
    """Sliding windows over a timeseries array, as Keras's function.

    Window `i` is `data[start_index + p_i + k * sampling_rate]` for
    `k < sequence_length`, with `p_i = i * sequence_stride`; its target is
    `targets[start_index + p_i]`. With `shuffle=False` the batches equal
    Keras's exactly.

    Args:
        data: array (or array-like) of timesteps, `(steps, ...)`.
        targets: one target per timestep (None: windows only).
        sequence_length: timesteps per window.
        sequence_stride: timesteps between window starts.
        sampling_rate: keep every `sampling_rate`-th timestep in a window.
        batch_size: windows per batch (None: single windows).
        shuffle: shuffle the windows (reshuffled every epoch).
        seed: the shuffling seed.
        start_index: first timestep used (inclusive).
        end_index: last timestep used (exclusive).

    Returns:
        A `FileDataset` of `(windows, targets)` batches (windows alone
        without targets); windows `(batch, sequence_length, ...)`.

    Example:
        >>> ds = kerax.utils.timeseries_dataset_from_array(
        ...     np.arange(10), np.arange(10), sequence_length=3, batch_size=2)
        >>> x, y = next(iter(ds))
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [1, 2, 3]], [0, 1])
    """
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(
                f"`start_index` must be 0 or greater. Received: start_index={start_index}"
            )
        if start_index >= n:
            raise ValueError(
                "`start_index` must be lower than the length of the data. Received: "
                f"start_index={start_index}, for data of length {n}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index} "
            )
        if end_index >= n:
            raise ValueError(
                "`end_index` must be lower than the length of the data. Received: "
                f"end_index={end_index}, for data of length {n}"
            )
        if end_index <= 0:
            raise ValueError(
                f"`end_index` must be higher than 0. Received: end_index={end_index}"
            )
    if sampling_rate <= 0:
        raise ValueError(
            f"`sampling_rate` must be higher than 0. Received: sampling_rate={sampling_rate}"
        )
    if sampling_rate >= n:
        raise ValueError(
            "`sampling_rate` must be lower than the length of the data. Received: "
            f"sampling_rate={sampling_rate}, for data of length {n}"
        )
    if sequence_stride <= 0:
        raise ValueError(
            "`sequence_stride` must be higher than 0. Received: "
            f"sequence_stride={sequence_stride}"
        )
    if sequence_stride >= n:
        raise ValueError(
            "`sequence_stride` must be lower than the length of the data. Received: "
            f"sequence_stride={sequence_stride}, for data of length {n}"
        )
    start = start_index or 0
    stop = n if end_index is None else end_index
    data = np.asarray(data)[start:stop]
    targets = None if targets is None else np.asarray(targets)[start:]
    num_seqs = stop - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, max(num_seqs, 0), sequence_stride)
    if seed is None:
        seed = np.random.randint(1e6)
    return FileDataset(
        _Windows(data, targets, positions, sequence_length, sampling_rate),
        len(positions),
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        num_workers=0,  # Indexing in memory: no decoding to spread out.
    )
