"""Keras layer configs as kerax layers: one table of converters, owned by interop.

A Keras layer converts by its class name. Most need no converter: the kerax
class of the same name (looked up in the registry, so layers registered
with `kerax.register` convert too) is built from the Keras config's keys
that are its fields (`construct_from_keras`). A Keras class whose config
differs (nested layers, named functions, layers private to
`keras.applications`) has an entry in `CONVERTERS`: Keras class name ->
`fn(config) -> kerax layer`. The converters live here, not in the layer
modules, so that `kerax.layers` never imports `kerax.interop`.

Example:
    >>> layer = layer_from_keras({"class_name": "Dense", "config": {"units": 3}})
    >>> type(layer).__name__, layer.units
    ('Dense', 3)
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

from kerax.core import authoring, registry, serialization
from kerax.core.layer import Layer

# Keras config keys with no kerax counterpart that are safe to drop: they do
# not change what the layer computes.
IGNORED_KEYS = {
    "batch_input_shape",
    "input_shape",
    "batch_shape",
    "sparse",
    "ragged",
    "autocast",
    "seed",
    "module",
    "registered_name",
    "build_config",
    "compile_config",
    "quantization_config",
}

Converter = Callable[[dict[str, Any]], Layer]

# Keras class name -> converter; filled below and by `converter`.
CONVERTERS: dict[str, Converter] = {}


def converter(*class_names: str) -> Callable[[Converter], Converter]:
    """Registers `fn(config) -> kerax layer` for Keras classes named `class_names`.

    Example:
        >>> @converter("MyKerasScale")
        ... def _scale(config):
        ...     return kerax.layers.Rescaling(config["factor"])
        >>> layer_from_keras({"class_name": "MyKerasScale", "config": {"factor": 2.0}}).scale
        2.0
    """

    def do(fn: Converter) -> Converter:
        for name in class_names:
            CONVERTERS[name] = fn
        return fn

    return do


def _plain_config(value):
    """Keras-serialized values as kerax's fields accept them.

    Dtype policies become their names; other serialized objects (initializers,
    regularizers, functions such as a registered activation) stay Keras's
    dicts, which the field's own `get` (through the registry) understands.
    """
    if isinstance(value, dict) and "class_name" in value:
        cfg = value.get("config")
        if value["class_name"] in ("DTypePolicy", "FloatDTypePolicy"):
            return (cfg or {}).get("name")
        return dict(value)
    if isinstance(value, list):
        return tuple(_plain_config(v) for v in value)
    return value


def _to_kerax_value(value):
    if isinstance(value, dict) and "class_name" in value:
        return value  # Resolved by the layer's own field handling (initializers, ...).
    if isinstance(value, (list, dict)):
        return serialization.deserialize_value(value)
    return value


def construct_from_keras(cls: type[Layer], config: dict, **overrides) -> Layer:
    """`cls(**config)` keeping kerax fields, translating Keras values, refusing unknown keys.

    Args:
        cls: The kerax layer class.
        config: The Keras layer's config.
        **overrides: Arguments already converted (e.g. nested layers); their
            Keras config entries are skipped.

    Raises:
        ValueError: a Keras option that kerax's layer does not have.
    """
    if authoring.is_keras_style(cls) and not overrides:
        # A layer written Keras's way (own `__init__`): its `from_config` gets
        # Keras's config as Keras would pass it, less the keys kerax's writer
        # adds (`name`, ...) that this `__init__` does not take, and Keras's
        # keys with no kerax counterpart (a Dense subclass's
        # `quantization_config`) unless the class names them itself.
        named = set(inspect.signature(cls.__init__).parameters)
        if dataclasses.is_dataclass(cls):  # A subclass of a built-in layer.
            named |= {f.name for f in dataclasses.fields(cls)}
        config = {
            k: v
            for k, v in config.items()
            if (k not in IGNORED_KEYS or k in named)
            and (
                k not in {"name", "trainable", "dtype"}
                or authoring.accepts_argument(cls, k)
            )
        }
        if "dtype" in config:
            config["dtype"] = _keras_dtype(config["dtype"])
        return cls.from_config(config)
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for k, v in config.items():
        if k in overrides:
            continue
        if k in fields:
            kwargs[k] = _plain_config(v)
        elif k not in IGNORED_KEYS:
            raise ValueError(
                f"Keras {cls.__name__} option {k}={v!r} is not supported by kerax.layers.{cls.__name__}."
            )
    kwargs = {k: _to_kerax_value(v) for k, v in kwargs.items()}
    kwargs.update(overrides)
    if "dtype" in kwargs:
        kwargs["dtype"] = _keras_dtype(kwargs["dtype"])
    return cls(**kwargs)


def _keras_dtype(value):
    """A Keras `dtype` entry (a DTypePolicy dict or a name) as kerax's field takes it."""
    value = _plain_config(value)
    # Keras's default: follow kerax's global policy.
    return None if value == "float32" else value


def _live_config(keras_layer) -> dict:
    config = dict(keras_layer.get_config())
    # An adapted lookup keeps its vocabulary outside its config (a file
    # asset, for `.keras`); a live layer hands it over. (tf_idf also needs
    # the idf weights: its converter says so.)
    if (
        config.get("vocabulary") is None
        and config.get("output_mode") != "tf_idf"
        and hasattr(keras_layer, "get_vocabulary")
    ):
        config["vocabulary"] = keras_layer.get_vocabulary(include_special_tokens=False)
    return config


def layer_from_keras(keras_layer_or_config) -> Layer:
    """One Keras layer (object or `{"class_name", "config"}`) as a kerax layer."""
    if isinstance(keras_layer_or_config, dict):
        class_name = keras_layer_or_config["class_name"]
        config = dict(keras_layer_or_config["config"])
        registered = keras_layer_or_config.get("registered_name")
    else:
        class_name = type(keras_layer_or_config).__name__
        config = _live_config(keras_layer_or_config)
        registered = None
    if class_name in CONVERTERS:
        return CONVERTERS[class_name](config)
    try:
        cls = serialization.lookup_class(
            registered if registry.lookup_custom(registered) else class_name
        )
    except ValueError:
        raise ValueError(
            f"Keras layer class {class_name!r} has no kerax counterpart yet; kerax cannot import "
            f"this model. If it is your own layer, write the kerax layer and register it: "
            f"`kerax.register({class_name})`."
        ) from None
    return construct_from_keras(cls, config)


def _layer_class(name: str) -> type[Layer]:
    return registry.lookup("layers", name)


# ------------------------------------------------------- wrappers and stacks
@converter("Bidirectional")
def _bidirectional(config: dict) -> Layer:
    backward = config.get("backward_layer")
    return construct_from_keras(
        _layer_class("Bidirectional"),
        config,
        layer=layer_from_keras(config["layer"]),
        backward_layer=None if backward is None else layer_from_keras(backward),
    )


def _single_wrapper(class_name: str) -> Converter:
    """The converter of a wrapper whose one layer sits under Keras's "layer" key."""

    def convert(config: dict) -> Layer:
        return construct_from_keras(
            _layer_class(class_name), config, layer=layer_from_keras(config["layer"])
        )

    return convert


for _name in ("TimeDistributed", "SpectralNormalization"):
    CONVERTERS[_name] = _single_wrapper(_name)
del _name


@converter("RNN")
def _rnn(config: dict) -> Layer:
    return construct_from_keras(
        _layer_class("RNN"), config, cell=layer_from_keras(config["cell"])
    )


@converter("Pipeline")
def _pipeline(config: dict) -> Layer:
    return construct_from_keras(
        _layer_class("Pipeline"),
        config,
        layers=tuple(layer_from_keras(c) for c in config["layers"]),
    )


# ------------------------------------------------------ lookups and text
def _from_layer_config(class_name: str) -> Converter:
    """Layers whose `from_config` reads Keras's config as it is (lookups:
    `vocabulary_size`, `oov_method`, the dtype dict), and says what a config
    without its vocabulary (an adapted layer's `vocabulary.txt` asset) needs."""

    def convert(config: dict) -> Layer:
        return _layer_class(class_name).from_config(config)

    return convert


for _name in ("StringLookup", "IntegerLookup", "TextVectorization"):
    CONVERTERS[_name] = _from_layer_config(_name)
del _name


@converter("StackedRNNCells")
def _stacked_cells(config: dict) -> Layer:
    return construct_from_keras(
        _layer_class("StackedRNNCells"),
        config,
        cells=tuple(layer_from_keras(c) for c in config["cells"]),
    )


# ----------------------------------------------------------------- Lambda
def _keras_function(spec, layer_name: str, what: str):
    """The kerax-registered function a Keras Lambda config names."""
    if isinstance(spec, dict) and spec.get("class_name") == "__lambda__":
        raise ValueError(
            f"Keras Lambda '{layer_name}': its `{what}` is a Python lambda saved as bytecode, which kerax never "
            "loads. Rewrite it as a named function and register it in kerax: `kerax.register(fn, name=...)`."
        )
    if callable(spec):
        return spec
    name = spec.get("config") if isinstance(spec, dict) else spec
    if not isinstance(name, str):
        raise ValueError(
            f"Keras Lambda '{layer_name}': cannot read the `{what}` entry {spec!r}."
        )
    # Keras writes "package>name"; the function may be registered in kerax
    # under either form.
    candidates = [name, name.split(">")[-1]]
    for candidate in candidates:
        registered = registry.lookup_custom(candidate)
        if registered is not None and not isinstance(registered, type):
            return registered
    raise ValueError(
        f"Keras Lambda '{layer_name}' calls the function {name!r}, which is not registered in kerax. Register "
        f"the function first: `kerax.register(fn, name={candidates[-1]!r})`."
    )


def _frozen(value):
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


@converter("Lambda")
def _lambda(config: dict) -> Layer:
    """Keras's Lambda config names its functions; kerax looks them up in its registry."""
    name = config.get("name", "lambda")
    overrides = {"function": _keras_function(config.get("function"), name, "function")}
    if "output_shape" in config:
        spec = config["output_shape"]
        overrides["output_shape"] = (
            _keras_function(spec, name, "output_shape")
            if isinstance(spec, dict)
            else _frozen(spec)
        )
    if config.get("mask") is not None:
        overrides["mask"] = _keras_function(config["mask"], name, "mask")
    return construct_from_keras(_layer_class("Lambda"), config, **overrides)
