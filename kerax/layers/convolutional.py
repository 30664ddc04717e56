"""Keras convolutional layers."""

__all__: list[str] = []
