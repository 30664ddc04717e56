"""Keras's `pad_sequences` (`keras.utils.sequence_utils`)."""

from __future__ import annotations

import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(
    sequences,
    maxlen: int | None = None,
    dtype="int32",
    padding: str = "pre",
    truncating: str = "pre",
    value=0.0,
) -> np.ndarray:
    """Pads (and truncates) a list of sequences to one length, as Keras.

    Args:
        sequences: A list of sequences (lists or arrays; items may themselves
            be arrays of one shape).
        maxlen: The output length; the longest sequence's when None.
        dtype: The output dtype (`object` for variable-length strings).
        padding: "pre" or "post": pad before or after each sequence.
        truncating: "pre" or "post": drop values from the start or the end of
            sequences longer than `maxlen`.
        value: The padding value.

    Returns:
        A NumPy array of shape `(len(sequences), maxlen, *item_shape)`.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
        array([[2, 3],
               [0, 4]], dtype=int32)
        >>> pad_sequences([[1, 2, 3], [4]], padding="post", truncating="post")
        array([[1, 2, 3],
               [4, 0, 0]], dtype=int32)
    """
    if padding not in ("pre", "post"):
        raise ValueError(
            f"pad_sequences: `padding` must be 'pre' or 'post'; got {padding!r}."
        )
    if truncating not in ("pre", "post"):
        raise ValueError(
            f"pad_sequences: `truncating` must be 'pre' or 'post'; got {truncating!r}."
        )
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: `sequences` must be a list of sequences.")
    lengths, sample_shape = [], None
    for s in sequences:
        if not hasattr(s, "__len__"):
            raise ValueError(
                f"pad_sequences: `sequences` must be a list of sequences; found {s!r}."
            )
        lengths.append(len(s))
        if sample_shape is None and len(s):
            sample_shape = np.asarray(s).shape[1:]
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(
            f"pad_sequences: `dtype` {dtype} cannot hold the string `value` "
            f"{value!r}; pass dtype=object for variable-length strings."
        )
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s):
            continue
        # As Keras: s[-maxlen:] keeps the last maxlen items (all when 0).
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"pad_sequences: sequence {i} has items of shape {kept.shape[1:]}, "
                f"expected {sample_shape} like the first non-empty sequence."
            )
        if padding == "post":
            out[i, : len(kept)] = kept
        else:
            out[i, -len(kept) :] = kept
    return out
