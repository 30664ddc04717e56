"""Keras's `keras.random` with the seed made explicit: `seed=` takes a JAX key.

Keras's random functions draw from a hidden global seed generator when no
seed is given. kerax has no hidden state, so every function needs `seed`:

* a JAX key (`jax.random.key(0)`, or a raw `uint32[2]` key): the usual case,
  split or `fold_in` it per call as in any JAX program;
* an int: the same as `jax.random.key(seed)`. (Keras turns an int seed
  into a different key, `[seed, 0]`, so the numbers differ from Keras's for the
  same int; the distributions are the same.)

`seed=None` is an error that says to pass a key, except inside a layer's
`call`: there (and with `seed=self.seed_generator`, Keras's way in a layer)
the draw comes from the key passed to the layer's `apply`, a new one per
draw, so a Keras layer's `keras.random.normal(shape, seed=self.seed_generator)`
works unchanged. Elsewhere a `SeedGenerator` is a pure key splitter:
`seed, state = gen.next(state)` where Keras writes `seed = gen.next()`.

Example:
    >>> import jax
    >>> from kerax import random
    >>> x = random.normal((2, 3), seed=jax.random.key(0))
    >>> x.shape, x.dtype
    ((2, 3), dtype('float32'))
    >>> bool((random.uniform((4,), minval=1.0, maxval=2.0, seed=1) >= 1.0).all())
    True
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from kerax.core import authoring

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]


def draw_seed(seed, op: str = "random") -> jax.Array:
    """The JAX key for a Keras-style `seed` argument (a key or an int)."""
    if seed is None or isinstance(seed, SeedGenerator):
        # Inside a layer's `call`: the layer's apply key (None outside).
        key = authoring.draw_key(op)
        if key is not None:
            return key
    if seed is None:
        raise ValueError(
            f"{op}: `seed` is required in kerax (there is no hidden global "
            "seed). Pass a JAX key, e.g. seed=jax.random.key(0), and split it "
            "for the next call (jax.random.split), or pass an int."
        )
    if isinstance(seed, SeedGenerator):
        raise ValueError(
            f"{op}: a SeedGenerator holds no state in kerax; draw a key with "
            "`seed, state = generator.next(state)` and pass seed=seed."
        )
    if isinstance(seed, int):
        return jax.random.key(seed)
    if isinstance(seed, jax.Array) and (
        jnp.issubdtype(seed.dtype, jax.dtypes.prng_key)
        or (seed.dtype == jnp.uint32 and seed.shape[-1:] == (2,))
    ):
        return seed
    raise ValueError(
        f"{op}: `seed` must be a JAX key (jax.random.key(...)) or an int; got "
        f"{type(seed).__name__} {getattr(seed, 'dtype', '')}."
    )


def _float(dtype):
    return dtype or jnp.float32


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from a normal distribution with `mean` and `stddev`."""
    key = draw_seed(seed, "normal")
    return jax.random.normal(key, shape, _float(dtype)) * stddev + mean


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples uniformly from `[minval, maxval)`."""
    key = draw_seed(seed, "uniform")
    return jax.random.uniform(key, shape, _float(dtype), minval, maxval)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers uniformly from `[minval, maxval)`."""
    key = draw_seed(seed, "randint")
    return jax.random.randint(key, shape, minval, maxval, dtype=dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples redrawn beyond two standard deviations (as Keras)."""
    key = draw_seed(seed, "truncated_normal")
    sample = jax.random.truncated_normal(key, -2.0, 2.0, shape, _float(dtype))
    return sample * stddev + mean


def categorical(logits, num_samples, dtype="int32", seed=None):
    """`num_samples` class indices per row of `(batch, classes)` logits."""
    key = draw_seed(seed, "categorical")
    logits = jnp.asarray(logits)
    shape = (logits.shape[0], num_samples, *logits.shape[2:])
    return jax.random.categorical(key, logits[..., None], axis=1, shape=shape).astype(
        dtype
    )


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeros entries with probability `rate` and scales the rest by
    `1 / (1 - rate)`; `noise_shape` (None entries: the input's size) shares
    the mask along its size-1 axes."""
    inputs = jnp.asarray(inputs)
    if rate == 1.0:
        return jnp.zeros_like(inputs)
    if rate == 0.0:
        return inputs
    key = draw_seed(seed, "dropout")
    if noise_shape is None:
        noise_shape = inputs.shape
    else:
        noise_shape = tuple(
            d if n is None else n for n, d in zip(noise_shape, inputs.shape)
        )
    keep = jax.random.bernoulli(key, 1.0 - rate, noise_shape)
    keep = jnp.broadcast_to(keep, inputs.shape)
    return jnp.where(keep, inputs / (1.0 - rate), jnp.zeros_like(inputs))


def shuffle(x, axis=0, seed=None):
    """A random permutation of `x` along `axis`."""
    key = draw_seed(seed, "shuffle")
    return jax.random.permutation(key, x, axis, independent=True)


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples from a gamma distribution with concentration `alpha`."""
    key = draw_seed(seed, "gamma")
    return jax.random.gamma(key, alpha, shape, _float(dtype))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples from a binomial distribution (`counts` trials, `probabilities`)."""
    key = draw_seed(seed, "binomial")
    return jax.random.binomial(
        key, jnp.asarray(counts), jnp.asarray(probabilities), shape, _float(dtype)
    )


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples from a beta distribution with parameters `alpha` and `beta`."""
    key = draw_seed(seed, "beta")
    return jax.random.beta(
        key, jnp.asarray(alpha), jnp.asarray(beta), shape, _float(dtype)
    )


@dataclasses.dataclass(frozen=True)
class SeedGenerator:
    """Keras's `SeedGenerator` as a pure key splitter.

    Keras's generator keeps its state in a variable and `next()` advances it.
    Here the state is a JAX key that the caller keeps: `initial_state()`
    makes it from `seed`, and `next(state)` returns a fresh key and the state
    to use next time, so the same state always gives the same key (under
    `jax.jit` too).

    Args:
        seed: An int or a JAX key: the start of the stream.
        name: Kept for Keras compatibility (not used).

    Example:
        >>> from kerax import random
        >>> gen = random.SeedGenerator(1337)
        >>> state = gen.initial_state()
        >>> seed, state = gen.next(state)
        >>> random.normal((2,), seed=seed).shape
        (2,)
    """

    seed: int | jax.Array = 0
    name: str | None = None

    def initial_state(self) -> jax.Array:
        """The key the stream starts from."""
        return draw_seed(self.seed, "SeedGenerator")

    @property
    def state(self) -> jax.Array:
        """The initial state (Keras exposes its generator's state variable)."""
        return self.initial_state()

    def next(self, state: jax.Array) -> tuple[jax.Array, jax.Array]:
        """A fresh key and the state for the following call."""
        state, seed = jax.random.split(draw_seed(state, "SeedGenerator.next"))
        return seed, state

    def __hash__(self) -> int:
        return hash(
            (self.seed if isinstance(self.seed, int) else id(self.seed), self.name)
        )
