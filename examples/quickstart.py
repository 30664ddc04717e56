"""Quick start: build a model, init, jit-apply, summary.

Run: python examples/quickstart.py
"""

import jax
import jax.numpy as jnp

import kerax
from kerax import layers


def main():
    model = kerax.Sequential(
        [
            kerax.Input((28, 28, 1)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.1),
            layers.Dense(10, activation="softmax", name="classifier"),
        ]
    )
    params, state = model.init(jax.random.key(0))
    apply = jax.jit(model.apply, static_argnames="training")
    x = jnp.ones((32, 28, 28, 1))
    y, state = apply(params, state, x)
    y_train, _ = apply(params, state, x, key=jax.random.key(1), training=True)
    model.summary()
    print("inference:", y.shape, "training:", y_train.shape)


if __name__ == "__main__":
    main()
