"""`Wrapper`: the base class of layers that wrap another layer."""

from __future__ import annotations

from kerax.core import naming, registry
from kerax.core.fields import field
from kerax.core.layer import Layer, is_empty


def _wrapped_layer(value) -> Layer:
    """The `layer` field's converter: a kerax layer, or a Keras config of one.

    A `{"class_name", "config"}` dict reaches here only from a Keras model
    being imported (kerax's own `from_config` deserializes nested layers
    first); it goes through `kerax.interop`'s Keras converters, so a user's
    registered wrapper loads from Keras files with no converter of its own.
    """
    if isinstance(value, dict) and "class_name" in value:
        value = registry.provided("keras_config")(value)
    if not isinstance(value, Layer):
        raise TypeError(
            f"expected a kerax layer instance to wrap, got {value!r}. Pass a layer "
            "such as kerax.layers.Dense(4)."
        )
    return value


class Wrapper(Layer):
    """Base class of layers that wrap another layer, as `keras.layers.Wrapper`.

    The wrapped layer is the `layer` field (so `get_config()["layer"]` is its
    `{"class_name", "config"}` and `from_config` rebuilds it, as in Keras).
    Its params and state nest under its name (`params["dense"]["kernel"]`,
    Keras's `wrapper/dense/kernel`). `build` builds it on the wrapper's own
    input specs, as Keras's `Wrapper.build` does; override `build` when it
    sees other inputs (`TimeDistributed`). In `call`, `self.layer(x)` runs it
    with its params, state and key. `Wrapper` itself has no `call`: subclass
    it (`TimeDistributed`, `Bidirectional` and `SpectralNormalization` do).

    Args:
        layer: The layer to be wrapped.

    Example:
        >>> class Residual(kerax.layers.Wrapper):
        ...     def call(self, params, state, x, *, key, training):
        ...         return x + self.layer(x), state
        >>> res = Residual(kerax.layers.Dense(3))
        >>> params, state = res.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> y, state = res.apply(params, state, jnp.ones((2, 3)))
        >>> sorted(params), res.get_config()["layer"]["class_name"]
        (['dense'], 'Dense')
    """

    layer: Layer = field(converter=_wrapped_layer)

    autocast = False  # The wrapped layer casts for itself.

    def build(self, key, *specs, **kwargs):
        name = self.sublayer_name(self.layer)
        p, s = self.layer.init(naming.child_key(key, name), *specs, **kwargs)
        return ({} if is_empty(p) else {name: p}), ({} if is_empty(s) else {name: s})
