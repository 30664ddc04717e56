"""Helpers shared by the training tests (imported as a top-level module)."""

import kerax
from kerax import layers


def mlp(inputs=8, hidden=16, outputs=3, activation=None, name=None, **dense_kwargs):
    """A small Sequential MLP with a kerax.Input."""
    return kerax.Sequential(
        [
            kerax.Input((inputs,)),
            layers.Dense(hidden, activation="relu", **dense_kwargs),
            layers.Dense(outputs, activation=activation),
        ],
        name=name,
    )
