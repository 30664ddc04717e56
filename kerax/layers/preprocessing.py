"""Keras preprocessing layers."""

__all__: list[str] = []
