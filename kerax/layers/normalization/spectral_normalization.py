"""`SpectralNormalization`: divides a wrapped layer's kernel by its spectral norm in training."""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp

from kerax import initializers
from kerax.core import naming
from kerax.core.fields import field
from kerax.core.layer import cast_floating, is_empty
from kerax.layers._args import positive_int
from kerax.layers.core.wrapper import Wrapper
from kerax.layers.normalization._stats import KERAS_EPSILON


def _l2_normalize_all(x):
    """`keras.utils.normalize(x, axis=None)` on tensors (epsilon 1e-7)."""
    inv = jnp.minimum(jax.lax.rsqrt(jnp.sum(jnp.square(x))), 1.0 / KERAS_EPSILON)
    return x * inv


class SpectralNormalization(Wrapper):
    """Wraps a layer and divides its kernel by its spectral norm in training.

    `layer` must have a `kernel` (Dense, Conv*, ...) or `embeddings` param.
    Its params nest under its name (`params["dense"]["kernel"]`) and the
    power-iteration vector is `state["vector_u"]`, mirroring the Keras
    variable paths (`spectral_normalization/dense/kernel`,
    `spectral_normalization/vector_u`), so Keras weights import as is.

    In training, `power_iterations` steps of power iteration refine
    `vector_u` (returned in the new `state`) and the wrapped layer runs with
    `kernel / sigma`; gradients flow through `kernel` and `sigma` with the
    power-iteration vectors held constant, as in Keras. `params` are never
    changed by `apply` (they are inputs, not variables): Keras's eager call
    also writes `kernel / sigma` back into the kernel variable, but under
    `fit` on the JAX backend that write is dropped, as here. Inference runs
    the wrapped layer with the kernel as given, like Keras.

    Args:
        layer: A kerax layer instance that has either a `kernel` (e.g.
            `Conv2D`, `Dense`...) or an `embeddings` param (`Embedding`).
        power_iterations: int, the number of iterations during
            normalization.

    Example:
        >>> sn = kerax.layers.SpectralNormalization(kerax.layers.Dense(4))
        >>> params, state = sn.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> y, state = sn.apply(params, state, jnp.ones((2, 3)), training=True)
    """

    power_iterations: int = field(1, converter=positive_int)

    autocast = False  # The wrapped layer casts for itself.
    _KERNEL_NAMES: ClassVar[tuple] = ("kernel", "embeddings")

    @property
    def _inner_name(self) -> str:
        return self.sublayer_name(self.layer)

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=1)

    def _kernel_name(self, inner_params) -> str:
        for name in self._KERNEL_NAMES:
            if name in inner_params:
                return name
        raise ValueError(
            f"{self.describe()}: the wrapped {self.layer.describe()} has no `kernel` nor "
            f"`embeddings` param (it has {sorted(inner_params)})."
        )

    def build(self, key, spec):
        name = self._inner_name
        inner_params, inner_state = self.layer.init(naming.child_key(key, name), spec)
        kernel = inner_params[self._kernel_name(inner_params)]
        k_u = jax.random.fold_in(key, 0)
        vector_u = initializers.TruncatedNormal(stddev=0.02)(
            k_u, (1, kernel.shape[-1]), kernel.dtype
        )
        state = {"vector_u": vector_u}
        if not is_empty(inner_state):
            state[name] = inner_state
        return {name: inner_params}, state

    def _normalized(self, kernel, vector_u):
        weights = jnp.reshape(kernel, (-1, kernel.shape[-1]))
        u = vector_u
        v = None
        for _ in range(self.power_iterations):
            v = _l2_normalize_all(u @ weights.T)
            u = _l2_normalize_all(v @ weights)
        u, v = jax.lax.stop_gradient(u), jax.lax.stop_gradient(v)
        sigma = (v @ weights) @ u.T
        new_kernel = jnp.reshape(kernel / sigma, kernel.shape)
        # Keras leaves an all-zero kernel (and `vector_u`) untouched.
        all_zero = jnp.all(kernel == 0)
        u = jnp.where(all_zero, vector_u, u.astype(vector_u.dtype))
        return u, jnp.where(all_zero, kernel, new_kernel.astype(kernel.dtype))

    def call(self, params, state, x, *, key, training, mask=None):
        name = self._inner_name
        if jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(self.policy.compute_dtype)
        inner_params = params[name]
        if training:
            kname = self._kernel_name(inner_params)
            vector_u, kernel = self._normalized(inner_params[kname], state["vector_u"])
            inner_params = dict(inner_params, **{kname: kernel})
        kwargs = {} if mask is None else {"mask": mask}
        y, inner_state = self.layer.apply(
            inner_params,
            state.get(name, {}),
            x,
            key=naming.child_key(key, name),
            training=training,
            **kwargs,
        )
        if training:
            state = dict(state, vector_u=vector_u)
            if name in state:
                state[name] = inner_state
        if jnp.issubdtype(x.dtype, jnp.floating):
            y = cast_floating(y, x.dtype)
        # Keras casts to the input dtype even for integer inputs, turning an
        # Embedding's vectors into integers; kerax keeps them float.
        return y, state

    def compute_mask(self, x, mask=None):
        return self.layer.compute_mask(x, mask=mask)
