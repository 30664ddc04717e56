# ruff: noqa: E402, F401, I001 - the guide sets KERAS_BACKEND first, keeps its imports and their order.
"""Port of the keras-io guide "Distributed training with Keras"
(Qianli Zhu, Suhana; Apache 2.0).

Source: keras-team/keras-io, guides/distribution.py at commit
279c0aa17253af6d44e27e2a262f1f41bb725fdc. `kerax.distribution` has Keras's
`keras.distribution` names and semantics over `kerax.distribute`:
`DataParallel` and `ModelParallel` are kerax strategies, and the global
distribution (`set_distribution`) is what a `kerax.Trainer` made without
`distribution=` uses, as Keras's `compile`/`fit` do. It runs on every
device JAX sees (8 simulated CPU devices under the tests: the guide's
(2, 4) mesh). Markers as in functional_api.py: `# kerax: state` makes state
explicit (`compile` is a `Trainer`; building the model is `init`, which
places the params where the distribution says); the prose is left out.
"""

import jax  # kerax: state

# Setup

import os

# Set backend to "jax" or "torch". Default to "jax" for this guide.
os.environ["KERAS_BACKEND"] = "jax"

import kerax
from kerax import layers
import numpy as np

# Initialize the distribution system.
# We wrap this in a try-except to handle environments where distributed
# initialization might not be configured (like single-process CPU).
try:
    kerax.distribution.initialize()
    print("Keras distribution initialized.")
except Exception as e:
    print(f"Keras distribution initialization skipped or failed: {e}")

# `DeviceMesh` and `TensorLayout`

# Retrieve global devices
devices = kerax.distribution.list_devices()
print(f"Global devices: {devices}")

# Define a device mesh.
# For demonstration, we use a shape that fits the available devices.
# In a real 8-GPU setup, you would use shape=(2, 4) or similar.
if len(devices) >= 8:
    mesh_shape = (2, 4)
else:
    mesh_shape = (len(devices), 1)

mesh = kerax.distribution.DeviceMesh(
    shape=mesh_shape, axis_names=["data", "model"], devices=devices
)
print(f"DeviceMesh created with shape: {mesh_shape}")

# A 2D layout specifying sharding along "model" and "data" axes.
# Axes not mentioned are replicated.
layout_2d = kerax.distribution.TensorLayout(axes=("model", "data"), device_mesh=mesh)
print(f"TensorLayout created: {layout_2d}")

# DataParallel

# Simple setup: detects all available local devices automatically
data_parallel = kerax.distribution.DataParallel()

# Set the global distribution
kerax.distribution.set_distribution(data_parallel)
print(f"Active distribution: {kerax.distribution.distribution()}")

# Build your model normally. Under DataParallel, Keras ensures variables
# are replicated.
inputs = layers.Input(shape=(28, 28, 1))
y = layers.Flatten()(inputs)
y = layers.Dense(units=200, activation="relu")(y)
y = layers.Dropout(0.4)(y)
outputs = layers.Dense(units=10, activation="softmax")(y)
model = kerax.Model(inputs=inputs, outputs=outputs)

trainer = kerax.Trainer(model, loss="mse", optimizer="adam")  # kerax: state
ts = trainer.init(jax.random.key(0))  # kerax: state
model.summary()

# ModelParallel and `LayoutMap`

layout_map = kerax.distribution.LayoutMap(mesh)

# Shard weights matching "d1/kernel" along the "model" axis.
layout_map["d1/kernel"] = (None, "model")
layout_map["d1/bias"] = ("model",)

# You can also shard layer outputs
layout_map["d2/output"] = ("data", None)

model_parallel = kerax.distribution.ModelParallel(
    layout_map=layout_map, batch_dim_name="data"
)

kerax.distribution.set_distribution(model_parallel)
print(f"Active distribution: {kerax.distribution.distribution()}")

# When the model is built, variables check the active distribution.
# If ModelParallel is active, variables are initialized as sharded entities
# (DTensors on PyTorch, sharded arrays on JAX).
model = kerax.Sequential(
    [
        layers.Input(shape=(784,)),
        layers.Dense(200, activation="relu", name="d1"),
        layers.Dense(10, activation="softmax", name="d2"),
    ]
)
params, state = kerax.distribution.distribution().init(  # kerax: state
    model, jax.random.key(0)
)
model.summary()
