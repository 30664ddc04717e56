"""Keras's subclassed `Model`: `class VAE(kerax.Model)` with `__init__` and `call`.

In Keras, a `Model` subclass that writes `call` is a layer with training and
saving methods. In kerax a model holds no training state, so such a class
is a layer (Keras-style `__init__`, sublayers found from attributes) with
the Keras model methods that make sense over explicit params: `layers`,
`get_layer`, `get_weights`/`set_weights`, `to_json`, and errors that show
the kerax line for `compile`/`fit`/`save`. `kerax.Model`'s metaclass puts
this class in place of `kerax.Model` among the bases of any subclass that
defines `call` (a functional model computes from its graph instead).
"""

from __future__ import annotations

from kerax.core.layer import Layer
from kerax.models.handles import KerasModelMethods


class SubclassedModel(KerasModelMethods, Layer):
    """Base of `class MyModel(kerax.Model)` classes that define `call`.

    Example:
        >>> class TwoLayers(kerax.Model):
        ...     def __init__(self, units=4, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.hidden = kerax.layers.Dense(units, activation="relu")
        ...         self.out = kerax.layers.Dense(1)
        ...     def call(self, inputs):
        ...         return self.out(self.hidden(inputs))
        >>> model = TwoLayers(name="two")
        >>> params, state = model.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> [layer.name for layer in model.layers], sorted(params)
        ([None, None], ['dense', 'dense_1'])
        >>> model.apply(params, state, jnp.ones((2, 3)))[0].shape
        (2, 1)
    """

    @property
    def layers(self) -> list[Layer]:
        """The sublayers held by attributes, in order of assignment (Keras's order)."""
        return [layer for _, layer in self.children()]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The sublayer whose params sit under `name` (or at `index` in `layers`)."""
        if (name is None) == (index is None):
            raise ValueError(
                f"{self.describe()}.get_layer: give exactly one of `name` and `index`, got "
                f"name={name!r}, index={index!r}."
            )
        children = self.children()
        if index is not None:
            return children[index][1]
        for child_name, layer in children:
            if name in (child_name, layer.name):
                return layer
        raise ValueError(
            f"{self.describe()}.get_layer: no layer named {name!r}; the layers are "
            f"{[n for n, _ in children]}."
        )
