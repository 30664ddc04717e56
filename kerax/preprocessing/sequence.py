"""Keras's `keras.preprocessing.sequence`: `pad_sequences` (`kerax.utils`'s).

Example:
    >>> kerax.preprocessing.sequence.pad_sequences([[1], [2, 3]], padding="post").tolist()
    [[1, 0], [2, 3]]
"""

from kerax.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
