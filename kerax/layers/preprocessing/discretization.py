"""Discretization: buckets numbers by bin boundaries, given or learned with `adapt`."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._data_ops import (
    _batches,
    _extract_batch,
    _is_array,
)
from kerax.layers.preprocessing._fields import (
    ARG_DOCS,
    boundaries,
)
from kerax.layers.preprocessing.category_encoding import (
    _ENCODE_MODES,
    _check_choice,
    _check_sparse,
    encode_categorical,
)


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


DOCS = {
    **ARG_DOCS,
    "bin_boundaries": "A list of bin boundaries. The leftmost and rightmost bins will "
    "always extend to `-inf` and `inf`, so `bin_boundaries=[0., 1., 2.]` generates "
    "bins `(-inf, 0.)`, `[0., 1.)`, `[1., 2.)`, and `[2., +inf)`. If this option is "
    "set, `adapt()` should not be called.",
    "num_bins": "The integer number of bins to compute. If this option is set, "
    "`bin_boundaries` should not be set and `adapt()` should be called to learn the "
    "bin boundaries.",
    "epsilon": "Error tolerance, typically a small fraction close to zero (e.g. "
    "0.01). Higher values of epsilon increase the quantile approximation, and hence "
    "result in more unequal buckets, but could improve performance and resource "
    "consumption.",
    "output_mode": 'Specification for the output of the layer. Values can be `"int"`, '
    '`"one_hot"`, `"multi_hot"`, or `"count"`: `"int"` returns the discretized bin '
    "indices directly; the others encode them as `CategoryEncoding` does. Defaults "
    'to `"int"`.',
}


@document_args(DOCS)
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

    bin_boundaries: tuple[float, ...] | None = field(None, converter=boundaries)
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
