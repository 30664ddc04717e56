"""Transfer learning in `kerax train`: a `keras.applications` backbone under
the config's layers, frozen, then optionally fine-tuned.

```yaml
model:
  input_shape: [160, 160, 3]
  backbone:
    application: MobileNetV2      # any keras.applications model
    weights: imagenet             # null: random weights (offline)
    options: {alpha: 0.35}        # more arguments of the application
    rescaling: {scale: 0.00784313725490196, offset: -1}   # its preprocessing
  layers: [...]                   # the new head, after the backbone
fit:
  fine_tune: {epochs: 3, learning_rate: 1.0e-5}
```

The backbone is built by Keras (`include_top=False, pooling="avg"`),
brought over with `kerax.interop.from_keras` and frozen
(`kerax.models.set_trainable`); `fit.fine_tune` then unfreezes it and trains
the whole model again with Adam at a low learning rate.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import kerax
from kerax.cli.config import ConfigError, build_model, check_section
from kerax.core.node import InputLayer

BACKBONE_KEYS = {
    "application": ((str,), None),
    "weights": ((str,), "imagenet"),
    "options": ((dict,), {}),
    "rescaling": ((dict,), None),
    "pooling": ((str,), "avg"),
}
FINE_TUNE_KEYS = {"epochs": ((int,), 1), "learning_rate": ((float, int), 1e-5)}


def check_backbone(section) -> dict:
    out = check_section(section, BACKBONE_KEYS, "model.backbone")
    if not out["application"]:
        raise ConfigError(
            "model.backbone.application: required (a keras.applications name, "
            "e.g. MobileNetV2)."
        )
    return out


def check_fine_tune(section) -> dict:
    out = check_section(section, FINE_TUNE_KEYS, "fit.fine_tune")
    if out["epochs"] < 1:
        raise ConfigError("fit.fine_tune.epochs: must be a positive integer.")
    return out


class Backbone(NamedTuple):
    name: str
    params: Any
    state: Any


def build(model_config: dict, *, load_weights: bool = True):
    """`(model with the backbone frozen, Backbone)` for a `model` section with a backbone.

    `load_weights=False` builds the architecture only (config checks, no
    download).
    """
    # Function-local: Keras is an optional extra, needed only for backbones.
    try:
        import keras
    except ImportError:
        raise ConfigError(
            "model.backbone: needs Keras 3 (pip install keras) to build "
            "keras.applications models."
        ) from None
    spec = check_backbone(model_config["backbone"])
    factory = getattr(keras.applications, spec["application"], None)
    if factory is None or not callable(factory):
        raise ConfigError(
            f"model.backbone.application: keras.applications has no "
            f"{spec['application']!r} (e.g. MobileNetV2, EfficientNetB0, ResNet50)."
        )
    if model_config["input_shape"] is None or len(model_config["input_shape"]) != 3:
        raise ConfigError(
            "model.input_shape: a backbone needs [height, width, channels]."
        )
    weights = spec["weights"] if load_weights else None
    try:
        keras_backbone = factory(
            input_shape=tuple(model_config["input_shape"]),
            include_top=False,
            weights=weights,
            pooling=spec["pooling"],
            **spec["options"],
        )
    except (TypeError, ValueError) as e:
        raise ConfigError(f"model.backbone ({spec['application']}): {e}") from None
    backbone, params, state = kerax.interop.from_keras(keras_backbone)

    inputs = kerax.Input(
        tuple(model_config["input_shape"]), dtype=model_config["input_dtype"]
    )
    x = inputs
    if spec["rescaling"] is not None:
        try:
            x = kerax.layers.Rescaling(**spec["rescaling"])(x)
        except TypeError as e:
            raise ConfigError(f"model.backbone.rescaling: {e}") from None
    x = backbone(x)
    head = _head_layers(model_config)
    for layer in head:
        x = layer(x)
    model = kerax.Model(inputs, x, name=model_config["name"] or "transfer")
    frozen = kerax.models.set_trainable(model, backbone.name, False)
    return frozen, Backbone(backbone.name, params, state)


def _head_layers(model_config):
    head_config = dict(model_config, backbone=None, config_file=None)
    if not head_config["layers"]:
        return []
    # The head as a Sequential on the backbone's output; its layers are
    # taken out and called on the graph.
    head_config["input_shape"] = [1]
    sequential = build_model(head_config)
    return [x for x in sequential.layers if not isinstance(x, InputLayer)]


def with_backbone(ts, backbone: Backbone):
    """A fresh TrainState with the imported backbone weights in place."""
    params = {**ts.params, backbone.name: backbone.params}
    state = {**ts.state, backbone.name: backbone.state}
    return ts._replace(params=params, state=state)


def unfreeze(model, backbone: Backbone):
    return kerax.models.set_trainable(model, backbone.name, True)


def fine_tune_optimizer(spec: dict):
    return kerax.optimizers.Adam(learning_rate=float(spec["learning_rate"]))
