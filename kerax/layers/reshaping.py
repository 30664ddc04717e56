"""Keras reshaping layers."""

__all__: list[str] = []
