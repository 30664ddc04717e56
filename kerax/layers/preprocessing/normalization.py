"""Keras's numerical preprocessing layers: Rescaling, Normalization, Discretization, CategoryEncoding.

Statistics learned from data live in `state`, never in the layer: `adapt(data)`
is a plain function of the data that returns the layer's state dict, which the
user puts where `init` put the untrained one:

    params, state = norm.init(key, spec)
    state = norm.adapt(data)

Inside a model, `kerax.layers.adapt(model, state, "normalization", data)`
returns the model's state with that layer's entry replaced.
"""

from __future__ import annotations

import itertools
import math

import jax.numpy as jnp
import numpy as np

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._data_ops import (
    _batches,
    _extract_batch,
    _is_array,
)
from kerax.layers.preprocessing._fields import (
    Values,
    axis_or_none,
    optional_numbers,
)

# Keras's `backend.epsilon()`: the floor on the standard deviation.
_EPSILON = 1e-7


DOCS = {
    "axis": "Integer, tuple of integers, or None. The axis or axes that should have "
    "a separate mean and variance for each index in the shape. For example, if shape "
    "is `(None, 5)` and `axis=1`, the layer will track 5 separate mean and variance "
    "values for the last axis. If `axis` is set to `None`, the layer will normalize "
    "all elements in the input by a scalar mean and variance. Defaults to `-1`.",
    "mean": "The mean value(s) to use during normalization. The passed value(s) will "
    "be broadcast to the shape of the kept axes above. `mean` and `variance` must be "
    "specified together.",
    "variance": "The variance value(s) to use during normalization. The passed "
    "value(s) will be broadcast to the shape of the kept axes above. `mean` and "
    "`variance` must be specified together.",
    "invert": "If `True`, this layer will apply the inverse transformation to its "
    "inputs: it would turn a normalized input back into its original form.",
}


# ------------------------------------------------------------- Normalization
@document_args(DOCS)
class Normalization(Layer):
    """`(x - mean) / sqrt(variance)` per index of `axis`, like `keras.layers.Normalization`.

    The statistics come either from the config (`mean` and `variance`, fixed
    constants, no state) or from data: `state = layer.adapt(data)` returns the
    state dict `{"mean", "variance", "count"}` (Keras's variable names; Keras
    never updates `count`, kept for weight compatibility, so it stays 0).
    `invert=True` maps normalized values back.

    Example:
        >>> norm = kerax.layers.Normalization()
        >>> params, state = norm.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> state = norm.adapt(np.array([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0]]))
        >>> norm.apply(params, state, jnp.array([[0.0, 7.0, 4.0]]))[0]
        Array([[-1., -1., -1.]], dtype=float32)
    """

    axis: tuple[int, ...] = field(-1, converter=axis_or_none)
    mean: Values | None = field(None, converter=optional_numbers)
    variance: Values | None = field(None, converter=optional_numbers)
    invert: bool = False

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        axis, mean, variance = self.axis, self.mean, self.variance
        if (mean is None) != (variance is None):
            raise ValueError(
                f"{self.describe()}: When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    f"{self.describe()}: When setting values directly, `mean` and `variance` must have the same "
                    f"shape. Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(axis):
                raise ValueError(
                    f"{self.describe()}: The rank of `mean` must be less than or equal to the number of axes "
                    f"({len(axis)}). Received: mean shape {np.shape(mean)} for axis {axis}"
                )

    def _axes(self, shape):
        """`(keep_axes, reduce_axes, broadcast_shape, stats_shape)` for inputs of `shape` (Keras's build)."""
        ndim = len(shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                f"{self.describe()}: All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                f"ndim={ndim}, while axis={self.axis}"
            )
        keep = tuple(sorted(a % ndim for a in self.axis))
        for d in keep:
            if is_symbolic(shape[d]):
                raise ValueError(
                    f"{self.describe()}: All `axis` values to be kept must have a known shape. Received "
                    f"axis={self.axis}, inputs.shape={shape_str(shape)}, with unknown axis at index {d}. "
                    "(For batched scalars, use axis=None.)"
                )
        reduce = tuple(d for d in range(ndim) if d not in keep)
        broadcast = tuple(int(shape[d]) if d in keep else 1 for d in range(ndim))
        stats = tuple(int(shape[d]) for d in keep)
        return keep, reduce, broadcast, stats

    def _config_stats(self, shape):
        """Keras's build for a `mean`/`variance` given in the config: arrays in the broadcast shape."""
        keep, _, broadcast, _ = self._axes(shape)
        out = []
        for value in (self.mean, self.variance):
            v = np.asarray(value, np.float32)
            if v.ndim > 0:
                # Align the given dims with the kept axes, right to left.
                expanded = [1] * len(shape)
                for i in range(1, v.ndim + 1):
                    expanded[keep[-i]] = v.shape[-i]
                try:
                    v = v.reshape(expanded)
                except ValueError:
                    raise ValueError(
                        f"{self.describe()}: `mean`/`variance` of shape {v.shape} do not fit inputs {shape_str(shape)}."
                    ) from None
            try:
                out.append(np.broadcast_to(v, broadcast))
            except ValueError:
                raise ValueError(
                    f"{self.describe()}: `mean`/`variance` of shape {np.shape(value)} cannot be broadcast to the kept "
                    f"axes {broadcast} of inputs {shape_str(shape)}."
                ) from None
        return out

    def check_input(self, spec):
        if self.mean is not None:
            self._config_stats(spec.shape)
        else:
            self._axes(spec.shape)

    def build(self, key, spec):
        del key
        if self.mean is not None:
            return {}, {}
        _, _, _, stats = self._axes(spec.shape)
        state = {
            "mean": jnp.zeros(stats, jnp.float32),
            "variance": jnp.ones(stats, jnp.float32),
            "count": jnp.zeros((), jnp.int32),
        }
        return {}, state

    def call(self, params, state, x, *, key, training):
        del params, key, training
        dtype = self.policy.compute_dtype
        x = x.astype(dtype)
        if self.mean is not None:
            mean, variance = (
                jnp.asarray(v, dtype) for v in self._config_stats(x.shape)
            )
        else:
            _, _, broadcast, _ = self._axes(x.shape)
            mean = jnp.reshape(state["mean"], broadcast).astype(dtype)
            variance = jnp.reshape(state["variance"], broadcast).astype(dtype)
        std = jnp.maximum(jnp.sqrt(variance), jnp.asarray(_EPSILON, dtype))
        y = mean + x * std if self.invert else (x - mean) / std
        return y, state

    def adapt(self, data, batch_size: int | None = None) -> dict:
        """Computes the mean and variance of `data`; returns them as this layer's state.

        Args:
          data: a NumPy/JAX array (first axis = batch), or an iterable of
            batches (a list of arrays, a generator, a `tf.data.Dataset`;
            `(x, y)` tuples contribute `x`).
          batch_size: if given with an array, the statistics are accumulated
            batch by batch (Keras's streaming formula), as for an iterable.

        Returns:
          `{"mean", "variance", "count"}`: pass it as this layer's `state`.
        """
        if self.mean is not None:
            raise ValueError(
                f"{self.describe()}: `mean` and `variance` are fixed in this layer's config; adapt() learns them only "
                "for a Normalization built without them."
            )
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or batch_size <= 0
        ):
            raise ValueError(
                f"{self.describe()}.adapt: `batch_size` must be a positive int or None, got {batch_size!r}."
            )
        if _is_array(data) and batch_size is None:
            # Keras reduces a whole array in one go (NumPy for NumPy data, jnp for tensors).
            _, reduce, _, _ = self._axes(data.shape)
            lib = np if isinstance(data, np.ndarray) else jnp
            mean, var = lib.mean(data, axis=reduce), lib.var(data, axis=reduce)
        else:
            mean, var = self._adapt_batches(_batches(self, data, batch_size))
        return {
            "mean": jnp.asarray(mean, jnp.float32),
            "variance": jnp.asarray(var, jnp.float32),
            "count": jnp.zeros((), jnp.int32),
        }

    def _adapt_batches(self, batches):
        iterator = iter(batches)
        first = next(iterator, None)
        if first is None:
            raise ValueError(
                f"{self.describe()}.adapt received no batches: pass a non-empty array or iterable of batches."
            )
        shape = tuple(np.shape(_extract_batch(first)))
        keep, reduce, _, stats = self._axes(shape)
        total_mean = jnp.zeros(stats, jnp.float32)
        total_var = jnp.zeros(stats, jnp.float32)
        total_count = 0
        for batch in itertools.chain([first], iterator):
            batch = jnp.asarray(_extract_batch(batch), self.policy.compute_dtype)
            if tuple(batch.shape[d] for d in keep) != stats:
                raise ValueError(
                    f"{self.describe()}.adapt: a batch of shape {tuple(batch.shape)} does not match the first batch {shape}."
                )
            batch_mean, batch_var = (
                jnp.mean(batch, axis=reduce),
                jnp.var(batch, axis=reduce),
            )
            batch_count = math.prod(batch.shape[d] for d in reduce) if reduce else 1
            total_count += batch_count
            batch_weight = float(batch_count) / total_count
            existing_weight = 1.0 - batch_weight
            new_mean = total_mean * existing_weight + batch_mean * batch_weight
            # Keras's lack-of-fit sum of squares update.
            total_var = (total_var + (total_mean - new_mean) ** 2) * existing_weight + (
                batch_var + (batch_mean - new_mean) ** 2
            ) * batch_weight
            total_mean = new_mean
        return total_mean, total_var
