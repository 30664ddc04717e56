"""Saving: model files (`.keras` archives or directories), weights files and checkpoints."""

from kerax.saving.errors import ModelFileError
from kerax.saving.model_file import load_model, load_weights, save_model, save_weights
from kerax.saving.training_state import load_trainer

__all__ = [
    "ModelFileError",
    "load_model",
    "load_trainer",
    "load_weights",
    "save_model",
    "save_weights",
]
