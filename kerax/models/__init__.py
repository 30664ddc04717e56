"""Models: layers made of layers."""

from kerax.core import registry
from kerax.layers import Repeat
from kerax.models.cloning import clone_model, set_trainable
from kerax.models.functional import Model
from kerax.models.saving_api import load_model, model_from_json, save_model
from kerax.models.sequential import Sequential
from kerax.models.summary import summary

__all__ = [
    "Model",
    "Repeat",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_json",
    "save_model",
    "set_trainable",
    "summary",
]

registry.add_all("layers", {"Model": Model, "Sequential": Sequential})
