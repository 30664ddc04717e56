"""Shared checks for layer tests: the contract every kerax layer must keep."""

from kerax.testing.contract import assert_trees_close, check_layer, keras_parity

__all__ = ["assert_trees_close", "check_layer", "keras_parity"]
