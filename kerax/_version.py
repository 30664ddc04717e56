"""The kerax version, importable by any floor (it imports nothing)."""

__version__ = "0.1.0"
