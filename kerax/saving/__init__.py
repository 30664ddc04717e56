"""Saving: model files (`.keras` archives or directories), weights files and checkpoints."""

from kerax.core import registry
from kerax.saving.errors import ModelFileError
from kerax.saving.model_file import load_model, load_weights, save_model, save_weights
from kerax.saving.serialization_lib import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
from kerax.saving.training_state import (
    get_compile_config,
    load_trainer,
    trainer_from_compile_config,
)

# `kerax.models.load_model`/`save_model` (Keras's names there) and the
# model's `save`/`save_weights`/`load_weights` methods are these.
registry.provide("load_model", load_model)
registry.provide("save_model", save_model)
registry.provide("save_weights", save_weights)
registry.provide("load_weights", load_weights)
registry.provide("get_compile_config", get_compile_config)
registry.provide("trainer_from_compile_config", trainer_from_compile_config)

__all__ = [
    "get_compile_config",
    "trainer_from_compile_config",
    "CustomObjectScope",
    "ModelFileError",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_trainer",
    "load_weights",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
]
