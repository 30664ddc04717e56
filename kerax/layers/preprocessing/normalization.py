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
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str

# Keras's `backend.epsilon()`: the floor on the standard deviation.
_EPSILON = 1e-7


def _to_config_value(value):
    """Arrays and lists in a config become (nested) tuples / floats: hashable and JSON-safe."""
    if value is None:
        return None
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        value = value["config"]["value"]  # Keras's serialized numpy array.
    out = np.asarray(value).tolist()

    def freeze(v):
        return tuple(freeze(x) for x in v) if isinstance(v, list) else v

    return freeze(out)


def _extract_batch(batch):
    """Keras's rule: an `(x, y[, sample_weight])` tuple contributes its `x`."""
    return batch[0] if isinstance(batch, tuple) else batch


def _is_array(data) -> bool:
    return isinstance(data, np.ndarray | jax.Array)


def _batches(layer, data, batch_size):
    """The batches of `data` (an array, split by `batch_size`, or an iterable of batches)."""
    if _is_array(data):
        if batch_size is None:
            return [data]
        return [data[i : i + batch_size] for i in range(0, data.shape[0], batch_size)]
    if isinstance(data, str | bytes) or not hasattr(data, "__iter__"):
        raise TypeError(
            f"{layer.describe()}.adapt: unsupported data type {type(data).__name__}. Pass a NumPy or JAX array, or an "
            "iterable of batches (a list of arrays, a generator, a tf.data.Dataset)."
        )
    return data


# ----------------------------------------------------------------- Rescaling
class Rescaling(Layer):
    """Multiplies inputs by `scale` and adds `offset`, like `keras.layers.Rescaling`.

    `scale` and `offset` may be numbers or per-channel sequences (broadcast
    against the last axis). Integer inputs become floats of the compute dtype.

    Example:
        >>> layer = kerax.layers.Rescaling(1 / 127.5, offset=-1)
        >>> y, _ = layer.apply({}, {}, jnp.array([[0.0, 255.0]]))
        >>> y
        Array([[-1.,  1.]], dtype=float32)
    """

    scale: Any = None
    offset: Any = 0.0

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        if self.scale is None:
            raise ValueError(
                f"{self.describe()}: `scale` is required, e.g. Rescaling(1 / 255)."
            )
        for name in ("scale", "offset"):
            value = _to_config_value(getattr(self, name))
            try:
                np.asarray(value, np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{self.describe()}: `{name}` must be a number or a sequence of numbers, got {value!r}."
                ) from None
            object.__setattr__(self, name, value)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        dtype = self.policy.compute_dtype
        x = x.astype(dtype)

        def aligned(v):  # Explicit broadcasting against the trailing axes.
            v = jnp.asarray(v, dtype)
            return jnp.reshape(v, (1,) * (x.ndim - v.ndim) + v.shape) if v.ndim else v

        return x * aligned(self.scale) + aligned(self.offset), state


# ------------------------------------------------------------- Normalization
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

    axis: Any = -1
    mean: Any = None
    variance: Any = None
    invert: bool = False

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        axis = self.axis
        if axis is None:
            axis = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axis = (axis,)
        if not isinstance(axis, tuple) or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in axis
        ):
            raise ValueError(
                f"{self.describe()}: `axis` must be an int, a tuple of ints or None, got {self.axis!r}."
            )
        object.__setattr__(self, "axis", axis)
        mean, variance = _to_config_value(self.mean), _to_config_value(self.variance)
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
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "variance", variance)

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


# --------------------------------------------------- categorical encodings
_ENCODE_MODES = ("one_hot", "multi_hot", "count")


def encode_categorical(
    indices, output_mode: str, depth: int, dtype, count_weights=None
):
    """Keras's `numerical_utils.encode_categorical_inputs` on the JAX backend (dense).

    `multi_hot` and `count` reduce axis 1 (axis 0 for rank-1 inputs), as
    Keras does; `one_hot` encodes each element, replacing a last axis of size 1.
    """
    if output_mode == "int":
        return indices.astype(dtype)
    if indices.ndim == 0:
        indices = indices[None]
    reduction_axis = 1 if indices.ndim > 1 else 0
    if output_mode == "multi_hot":
        return jnp.max(
            jax.nn.one_hot(indices.astype(jnp.int32), depth, dtype=dtype),
            axis=reduction_axis,
        )
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = jnp.squeeze(indices, -1)
        return jax.nn.one_hot(indices, depth, dtype=dtype)
    if count_weights is not None:
        dtype = count_weights.dtype
    encoded = jax.nn.one_hot(indices, depth, dtype=dtype)
    if count_weights is not None:
        encoded = encoded * count_weights[..., None]
    return jnp.sum(encoded, axis=reduction_axis)


def _check_choice(layer, name, value, choices, error=ValueError):
    if value not in choices:
        raise error(
            f"{layer.describe()}: Invalid value for argument `{name}`. Expected one of {choices}. Received: {name}={value!r}"
        )


def _check_sparse(layer):
    if layer.sparse:
        raise ValueError(
            f"{layer.describe()}: `sparse=True` is not supported: kerax (like Keras's JAX backend for these layers) "
            "returns dense arrays. Use sparse=False."
        )


class CategoryEncoding(Layer):
    """Encodes integer tokens as one-hot, multi-hot or count vectors, like `keras.layers.CategoryEncoding`.

    `"multi_hot"`/`"count"` reduce axis 1 of `(batch, tokens)` inputs to
    `(batch, num_tokens)`; `"one_hot"` encodes each element. Tokens outside
    `[0, num_tokens)` encode as zeros (Keras's JAX backend does the same).
    In `"count"` mode, `apply(..., count_weights=w)` weights each token.

    Example:
        >>> layer = kerax.layers.CategoryEncoding(num_tokens=4, output_mode="multi_hot")
        >>> layer.apply({}, {}, jnp.array([[0, 1], [3, 3]]))[0]
        Array([[1., 1., 0., 0.],
               [0., 0., 0., 1.]], dtype=float32)
    """

    num_tokens: int | None = None
    output_mode: str = "multi_hot"
    sparse: bool = False

    autocast = False  # Token ids must not be cast to a low-precision float.

    def __post_init__(self):
        super().__post_init__()
        if self.output_mode == "binary":  # Keras's deprecated alias.
            object.__setattr__(self, "output_mode", "multi_hot")
        _check_choice(self, "output_mode", self.output_mode, _ENCODE_MODES)
        if self.num_tokens is None:
            raise ValueError(
                f"{self.describe()}: num_tokens must be set to use this layer. If the number of tokens is not known "
                "beforehand, use the IntegerLookup layer instead."
            )
        if (
            isinstance(self.num_tokens, bool)
            or not isinstance(self.num_tokens, int)
            or self.num_tokens < 1
        ):
            raise ValueError(
                f"{self.describe()}: `num_tokens` must be >= 1. Received: num_tokens={self.num_tokens!r}."
            )
        _check_sparse(self)

    def check_input(self, spec, count_weights=None):
        del count_weights
        self.expect_ndim(spec, min_ndim=1)

    def call(self, params, state, x, *, key, training, count_weights=None):
        del params, key, training
        dtype = self.policy.compute_dtype
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    f"{self.describe()}: `count_weights` is not used when `output_mode` is not `'count'`."
                )
            count_weights = jnp.asarray(count_weights, dtype)
            if count_weights.shape != x.shape:
                raise ValueError(
                    f"{self.describe()}: `count_weights` {shape_str(count_weights.shape)} must have the shape of the inputs {shape_str(x.shape)}."
                )
        return encode_categorical(
            x, self.output_mode, self.num_tokens, dtype, count_weights
        ), state


# ------------------------------------------------------------ Discretization
def _summarize(values, epsilon):
    """Keras's `discretization.summarize`: a weighted quantile summary of a 1-D sample."""
    values = np.sort(np.reshape(values, [-1]))
    num_buckets = 1.0 / epsilon
    step = max(np.size(values) / num_buckets, 1)
    boundaries = values[int(step - 1) :: int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def _compress_summary(summary, epsilon):
    """Keras's `discretization.compress_summary`, line for line."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


def _merge_summaries(prev_summary, next_summary, epsilon):
    merged = np.concatenate((prev_summary, next_summary), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return _compress_summary(merged, epsilon)


class Discretization(Layer):
    """Buckets values by boundaries, like `keras.layers.Discretization`.

    With `bin_boundaries` the boundaries are config constants (a Keras layer
    adapted in Keras imports this way: its config carries them, `num_bins`
    too). With only `num_bins` they are state: `state = layer.adapt(data)`
    computes Keras's approximate quantiles (its `epsilon` summary algorithm)
    and returns `{"bin_boundaries": ...}`; before that they are zeros.
    `output_mode` `"int"` gives int32 bin indices, `"one_hot"`,
    `"multi_hot"`, `"count"` encode them as `CategoryEncoding` does.

    Example:
        >>> layer = kerax.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
        >>> layer.apply({}, {}, jnp.array([[-1.5, 1.0, 3.4, 0.5]]))[0]
        Array([[0, 2, 3, 1]], dtype=int32)
    """

    bin_boundaries: Any = None
    num_bins: int | None = None
    epsilon: float = 0.01
    output_mode: str = "int"
    sparse: bool = False

    autocast = False  # Keras compares in floatx (float32) whatever the policy.

    def __post_init__(self):
        super().__post_init__()
        _check_sparse(self)
        _check_choice(self, "output_mode", self.output_mode, ("int", *_ENCODE_MODES))
        if self.num_bins is not None and (
            isinstance(self.num_bins, bool)
            or not isinstance(self.num_bins, int)
            or self.num_bins < 0
        ):
            raise ValueError(
                f"{self.describe()}: `num_bins` must be greater than or equal to 0. Received: `num_bins={self.num_bins!r}`"
            )
        if self.num_bins is None and self.bin_boundaries is None:
            raise ValueError(
                f"{self.describe()}: You need to set either `num_bins` or `bin_boundaries`."
            )
        if self.bin_boundaries is not None:
            bounds = _to_config_value(self.bin_boundaries)
            if not isinstance(bounds, tuple) or not all(
                isinstance(b, int | float) for b in bounds
            ):
                raise ValueError(
                    f"{self.describe()}: `bin_boundaries` must be a list of numbers, got {self.bin_boundaries!r}."
                )
            object.__setattr__(self, "bin_boundaries", tuple(float(b) for b in bounds))
        if not isinstance(self.epsilon, int | float) or not 0 < self.epsilon <= 1:
            raise ValueError(
                f"{self.describe()}: `epsilon` must be a float in (0, 1], got {self.epsilon!r}."
            )

    @property
    def _num_boundaries(self) -> int:
        if self.bin_boundaries is not None:
            return len(self.bin_boundaries)
        # What Keras's adapt produces: len(arange(0, 1, 1/num_bins)) - 1, which
        # float rounding makes num_bins (not num_bins - 1) for a few num_bins (49, 98, ...).
        return len(np.arange(0.0, 1.0, 1.0 / self.num_bins)) - 1 if self.num_bins else 0

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=1)

    def build(self, key, spec):
        del key, spec
        if self.bin_boundaries is not None:
            return {}, {}
        return {}, {"bin_boundaries": jnp.zeros((self._num_boundaries,), jnp.float32)}

    def call(self, params, state, x, *, key, training):
        del params, key, training
        bins = (
            jnp.asarray(self.bin_boundaries, jnp.float32)
            if self.bin_boundaries is not None
            else state["bin_boundaries"]
        )
        # `compare_all` is jnp.digitize without a search loop: export-friendly.
        indices = jnp.digitize(
            x.astype(jnp.float32), bins, method="compare_all"
        ).astype(jnp.int32)
        dtype = jnp.int32 if self.output_mode == "int" else self.policy.compute_dtype
        return encode_categorical(
            indices, self.output_mode, self._num_boundaries + 1, dtype
        ), state

    def adapt(self, data, steps: int | None = None) -> dict:
        """Computes Keras's approximate quantile boundaries of `data`; returns them as state.

        Args:
          data: an array, or an iterable of batches (`steps` limits how many).

        Returns:
          `{"bin_boundaries": float32 array of num_bins - 1 boundaries}`.
        """
        if not self.num_bins or self.bin_boundaries is not None:
            raise ValueError(
                f"{self.describe()}: Cannot adapt a Discretization layer that has been initialized with "
                "`bin_boundaries`, use `num_bins` instead."
            )
        summary = np.array([[], []], dtype="float32")
        batches = [data] if _is_array(data) else _batches(self, data, None)
        for i, batch in enumerate(batches):
            if steps is not None and i >= steps:
                break
            batch = np.array(_extract_batch(batch)).astype("float32")
            summary = _merge_summaries(
                _summarize(batch, self.epsilon), summary, self.epsilon
            )
        boundaries = _compress_summary(summary, 1.0 / self.num_bins)[0, :-1]
        if boundaries.shape != (self._num_boundaries,):
            raise ValueError(
                f"{self.describe()}.adapt: the data summary has {summary.shape[1]} points, too few for "
                f"num_bins={self.num_bins} (epsilon={self.epsilon}); adapt on more data or use fewer bins."
            )
        return {"bin_boundaries": jnp.asarray(boundaries, jnp.float32)}
