"""Keras's `set_random_seed`, returning the JAX key to use from then on."""

from __future__ import annotations

import random

import jax
import numpy as np

__all__ = ["set_random_seed"]


def set_random_seed(seed: int) -> jax.Array:
    """Seeds Python's `random` and NumPy's global generator, as Keras does,
    and returns `jax.random.key(seed)`.

    Keras also reseeds its hidden global seed generator; kerax has none, so
    the returned key is what to pass on (`Trainer.init(key)`, `seed=` of
    `kerax.random`, layer `key=`): the same seed gives the same run.

    Args:
        seed: An int.

    Returns:
        The JAX key for `seed`.

    Example:
        >>> import numpy as np
        >>> key = set_random_seed(42)
        >>> a = np.random.rand()
        >>> key = set_random_seed(42)
        >>> a == np.random.rand()
        True
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(
            f"set_random_seed: `seed` must be an int; got {seed!r} "
            f"({type(seed).__name__})."
        )
    random.seed(seed)
    np.random.seed(seed)
    return jax.random.key(seed)
