"""`Sequential`: a plain stack of layers, each feeding the next."""

from __future__ import annotations

from kerax.core import naming, serialization
from kerax.core.layer import Layer, is_empty
from kerax.core.node import InputLayer, Node


class Sequential(Layer):
    """A linear stack of layers, like `keras.Sequential`.

    A leading `kerax.Input(shape)` (or `InputLayer`) fixes the input spec, so
    `summary()` and `init(key)` need no spec argument.

    Example:
        >>> model = kerax.Sequential([
        ...     kerax.Input((4,)),
        ...     kerax.layers.Dense(8, activation="relu"),
        ...     kerax.layers.Dense(1),
        ... ])
        >>> params, state = model.init(jax.random.key(0))
    """

    layers: tuple = ()

    autocast = False

    def __post_init__(self):
        layers = tuple(self.layers or ())
        # `keras.Sequential([keras.Input(...), ...])` idiom.
        layers = tuple(
            x.op if isinstance(x, Node) and isinstance(x.op, InputLayer) else x
            for x in layers
        )
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential: item {i} is not a kerax layer: {layer!r}."
                )
            if isinstance(layer, InputLayer) and i > 0:
                raise ValueError("Sequential: an Input may only come first.")
        object.__setattr__(self, "layers", layers)
        super().__post_init__()
        names = naming.unique_names(layers, owner=self.describe())
        object.__setattr__(self, "_names", tuple(names))

    @property
    def default_name(self) -> str:
        return "sequential"

    def add(self, layer):
        raise TypeError(
            "kerax models are immutable config objects: build Sequential([...]) with all its layers, "
            "or make a new one: Sequential([*model.layers, layer])."
        )

    @property
    def input_spec(self):
        if self.layers and isinstance(self.layers[0], InputLayer):
            return self.layers[0].input_spec
        return None

    def named_layers(self):
        return [
            (n, layer)
            for n, layer in zip(self._names, self.layers)
            if not isinstance(layer, InputLayer)
        ]

    def children(self):
        return self.named_layers()

    def get_layer(self, name: str) -> Layer:
        for n, layer in zip(self._names, self.layers):
            if n == name:
                return layer
        raise ValueError(
            f"{self.describe()} has no layer named {name!r}; layers: {list(self._names)}."
        )

    def init(self, key, *specs, **kwargs):
        if not specs:
            if self.input_spec is None:
                raise TypeError(
                    f"{self.describe()}.init(key, spec) needs an input spec (e.g. kerax.spec((None, 16))), "
                    "or start the model with kerax.Input(shape)."
                )
            specs = (self.input_spec,)
        return super().init(key, *specs, **kwargs)

    def output_spec(self, *specs, **kwargs):
        if not specs and self.input_spec is not None:
            specs = (self.input_spec,)
        return super().output_spec(*specs, **kwargs)

    def build(self, key, spec):
        params, state = {}, {}
        for name, layer in self.named_layers():
            p, s = layer.init(naming.child_key(key, name), spec)
            if not is_empty(p):
                params[name] = p
            if not is_empty(s):
                state[name] = s
            spec = layer.output_spec(spec)
        return params, state

    def call(self, params, state, x, *, key, training, mask=None):
        y, state, _ = self.apply_masked(
            params, state, x, key=key, training=training, mask=mask
        )
        return y, state

    def apply_masked(
        self, params, state, x, *, key=None, training=False, mask=None, **kwargs
    ):
        del kwargs
        new_state = dict(state)
        for name, layer in self.named_layers():
            x, s, mask = layer.apply_masked(
                params.get(name, {}),
                state.get(name, {}),
                x,
                key=naming.child_key(key, name),
                training=training,
                mask=mask,
            )
            if not is_empty(s) or name in new_state:
                new_state[name] = s
        return x, new_state, mask

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": serialization.serialize_value(self.dtype),
            "layers": [
                dict(
                    serialization.serialize(layer),
                    config=dict(layer.get_config(), name=n),
                )
                for n, layer in zip(self._names, self.layers)
            ],
        }
