"""`Pipeline`: applies a series of layers, a plain layer rather than a model."""

from __future__ import annotations

from kerax.core.chain import apply_chain, build_chain
from kerax.core.fields import field
from kerax.core.layer import Layer


def _layers(value) -> tuple[Layer, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError(
            f"expected a list of kerax layers, got {value!r}. Pass e.g. "
            "[kerax.layers.Rescaling(1 / 255), kerax.layers.RandomFlip()]."
        )
    for i, layer in enumerate(value):
        if not isinstance(layer, Layer):
            raise ValueError(f"item {i} is not a kerax layer: {layer!r}.")
    return tuple(value)


class Pipeline(Layer):
    """Applies `layers` in sequence, like `keras.layers.Pipeline`.

    Meant for preprocessing and augmentation pipelines. Unlike `Sequential`
    it is a plain layer, not a model (no leading `Input`, `get_layer` or
    model handles). Each sub-layer's params and state nest under its name, named
    per pipeline as in a `Sequential` (`rescaling`, `random_flip`,
    `random_flip_1`, ...), and gets its own key, `fold_in(key, crc32(name))`,
    so two random layers draw independently and adding a layer changes no
    other layer's draws. `training` and the mask are passed along the chain.

    Keras's `Pipeline` defaults to `training=True` when called directly
    (augmenting outside `fit`); in kerax `training` is always explicit:
    `apply(..., key=key, training=True)` augments, the default `False` is
    inference.

    Args:
        layers: A list of layers, applied in order.

    Example:
        >>> pipeline = kerax.layers.Pipeline([
        ...     kerax.layers.Rescaling(1 / 255),
        ...     kerax.layers.RandomFlip("horizontal"),
        ... ])
        >>> images = jnp.full((2, 4, 4, 3), 255.0)
        >>> params, state = pipeline.init(jax.random.key(0), images)
        >>> y, _ = pipeline.apply(params, state, images, key=jax.random.key(1), training=True)
        >>> float(y.max())
        1.0
    """

    layers: tuple[Layer, ...] = field(converter=_layers)

    autocast = False  # Each layer casts for itself.

    def build(self, key, spec):
        return build_chain(self.children(), key, spec)

    def call(self, params, state, x, *, key, training, mask=None):
        y, state, _ = self.apply_masked(
            params, state, x, key=key, training=training, mask=mask
        )
        return y, state

    def apply_masked(self, params, state, x, *, key=None, training=False, mask=None):
        return apply_chain(
            self.children(), params, state, x, key=key, training=training, mask=mask
        )
