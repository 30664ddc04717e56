"""AdditiveAttention: Bahdanau-style additive attention."""

from __future__ import annotations

import jax.numpy as jnp

from kerax import initializers
from kerax.core.fields import field
from kerax.layers._args import optional_int
from kerax.layers._docs import document_args
from kerax.layers.attention._fields import ARG_DOCS
from kerax.layers.attention._ops import (
    _lead_ones,
)
from kerax.layers.attention.attention import _ScoreAttention


@document_args(ARG_DOCS)
class AdditiveAttention(_ScoreAttention):
    """Additive (Bahdanau-style) attention, as `keras.layers.AdditiveAttention`.

    Scores are `sum(scale * tanh(query + key), axis=-1)` with a learned
    `scale` of shape `(dim,)` when `use_scale` (the default). Inputs and
    masks as in `Attention`.

    Example:
        >>> att = kerax.layers.AdditiveAttention()
        >>> specs = [kerax.spec((None, 4, 8)), kerax.spec((None, 6, 8))]
        >>> params, state = att.init(jax.random.key(0), specs)
    """

    use_scale: bool = True
    dropout: float = 0.0
    # Keras's AdditiveAttention takes `seed` through `**kwargs` only.
    seed: int | None = field(None, converter=optional_int, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        self._check_dropout()

    def build(self, key, inputs):
        q = inputs[0]
        params = {}
        if self.use_scale:
            params["scale"] = initializers.get("glorot_uniform")(
                key, (q.shape[-1],), jnp.float32
            )
        return params, {}

    def _scores(self, params, q, k):
        t = jnp.tanh(jnp.expand_dims(q, -2) + jnp.expand_dims(k, -3))
        scale = _lead_ones(params["scale"], t.ndim) if self.use_scale else 1.0
        return jnp.sum(scale * t, axis=-1)
