"""Saving: model files (architecture + weights) and training checkpoints."""

from kerax.saving.model_file import ModelFileError, load_model, save_model

__all__ = ["ModelFileError", "load_model", "save_model"]
