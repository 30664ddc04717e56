"""Keras activation layers."""

__all__: list[str] = []
