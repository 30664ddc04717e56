# ruff: noqa: E402, I001 - the guide sets KERAS_BACKEND first and keeps its import order.
"""Port of the keras-io guide "Multi-GPU distributed training with JAX"
(fchollet; Apache 2.0).

Source: keras-team/keras-io, guides/distributed_training_with_jax.py at
commit 1806537c4333fbff1f9fd038b78179beeda480fb. The guide's own `jax.jit`
train step over Keras's stateless API maps onto kerax's one to one:
`model.stateless_call(trainable, non_trainable, x)` is
`model.apply(params, state, x)`, `optimizer.stateless_apply` is the optax
transformation's `update` + `optax.apply_updates`, and the model and
optimizer variables that the guide replicates with `jax.device_put` are the
`params`, `state` and `opt_state` pytrees. It runs on every device JAX sees
(8 simulated CPU devices under the tests). Markers as in functional_api.py:
`# kerax: state` makes state explicit, `# kerax: data` stands in for MNIST
(128 random images: 2 batches of 64 per epoch); the prose is left out.
"""

# Setup

import os

os.environ["KERAS_BACKEND"] = "jax"

import jax
import numpy as np
import tensorflow as tf
import kerax
import optax  # kerax: state

from jax.experimental import mesh_utils
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P


def get_model():
    # Make a simple convnet with batch normalization and dropout.
    inputs = kerax.Input(shape=(28, 28, 1))
    x = kerax.layers.Rescaling(1.0 / 255.0)(inputs)
    x = kerax.layers.Conv2D(filters=12, kernel_size=3, padding="same", use_bias=False)(
        x
    )
    x = kerax.layers.BatchNormalization(scale=False, center=True)(x)
    x = kerax.layers.ReLU()(x)
    x = kerax.layers.Conv2D(
        filters=24,
        kernel_size=6,
        use_bias=False,
        strides=2,
    )(x)
    x = kerax.layers.BatchNormalization(scale=False, center=True)(x)
    x = kerax.layers.ReLU()(x)
    x = kerax.layers.Conv2D(
        filters=32,
        kernel_size=6,
        padding="same",
        strides=2,
        name="large_k",
    )(x)
    x = kerax.layers.BatchNormalization(scale=False, center=True)(x)
    x = kerax.layers.ReLU()(x)
    x = kerax.layers.GlobalAveragePooling2D()(x)
    x = kerax.layers.Dense(256, activation="relu")(x)
    x = kerax.layers.Dropout(0.5)(x)
    outputs = kerax.layers.Dense(10)(x)
    model = kerax.Model(inputs, outputs)
    return model


def get_datasets():
    # Load the data and split it between train and test sets
    rng = np.random.default_rng(0)  # kerax: data
    x_train = rng.integers(0, 256, (128, 28, 28)).astype("uint8")  # kerax: data
    y_train = rng.integers(0, 10, (128,)).astype("uint8")  # kerax: data
    x_test = rng.integers(0, 256, (64, 28, 28)).astype("uint8")  # kerax: data
    y_test = rng.integers(0, 10, (64,)).astype("uint8")  # kerax: data

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32")
    x_test = x_test.astype("float32")
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    print("x_train shape:", x_train.shape)
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    # Create TF Datasets
    train_data = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    eval_data = tf.data.Dataset.from_tensor_slices((x_test, y_test))
    return train_data, eval_data


# Single-host, multi-device synchronous training

# Config
num_epochs = 2
batch_size = 64

train_data, eval_data = get_datasets()
train_data = train_data.batch(batch_size, drop_remainder=True)

model = get_model()
optimizer = kerax.optimizers.Adam(1e-3)
loss = kerax.losses.SparseCategoricalCrossentropy(from_logits=True)

# Initialize all state with .build()
(one_batch, one_batch_labels) = next(iter(train_data))
params, state = model.init(jax.random.key(0), one_batch.numpy())  # kerax: state
opt_state = optimizer.init(params)  # kerax: state


# This is the loss function that will be differentiated.
# Keras provides a pure functional forward pass: model.stateless_call
def compute_loss(trainable_variables, non_trainable_variables, x, y):
    y_pred, updated_non_trainable_variables = model.apply(  # kerax: state
        trainable_variables, non_trainable_variables, x
    )
    loss_value = loss(y, y_pred)
    return loss_value, updated_non_trainable_variables


# Function to compute gradients
compute_gradients = jax.value_and_grad(compute_loss, has_aux=True)


# Training step, Keras provides a pure functional optimizer.stateless_apply
@jax.jit
def train_step(train_state, x, y):
    trainable_variables, non_trainable_variables, optimizer_variables = train_state
    (loss_value, non_trainable_variables), grads = compute_gradients(
        trainable_variables, non_trainable_variables, x, y
    )

    updates, optimizer_variables = optimizer.update(  # kerax: state
        grads, optimizer_variables, trainable_variables
    )
    trainable_variables = optax.apply_updates(
        trainable_variables, updates
    )  # kerax: state

    return loss_value, (
        trainable_variables,
        non_trainable_variables,
        optimizer_variables,
    )


# Replicate the model and optimizer variable on all devices
def get_replicated_train_state(devices):
    # All variables will be replicated on all devices
    var_mesh = Mesh(devices, axis_names=("_"))
    # In NamedSharding, axes not mentioned are replicated (all axes here)
    var_replication = NamedSharding(var_mesh, P())

    # Apply the distribution settings to the model variables
    trainable_variables = jax.device_put(params, var_replication)  # kerax: state
    non_trainable_variables = jax.device_put(state, var_replication)  # kerax: state
    optimizer_variables = jax.device_put(opt_state, var_replication)  # kerax: state

    # Combine all state in a tuple
    return (trainable_variables, non_trainable_variables, optimizer_variables)


num_devices = len(jax.local_devices())
print(f"Running on {num_devices} devices: {jax.local_devices()}")
devices = mesh_utils.create_device_mesh((num_devices,))

# Data will be split along the batch axis
data_mesh = Mesh(devices, axis_names=("batch",))  # naming axes of the mesh
data_sharding = NamedSharding(
    data_mesh,
    P(
        "batch",
    ),
)  # naming axes of the sharded partition

# Display data sharding
x, y = next(iter(train_data))
sharded_x = jax.device_put(x.numpy(), data_sharding)
print("Data sharding")
jax.debug.visualize_array_sharding(jax.numpy.reshape(sharded_x, [-1, 28 * 28]))

train_state = get_replicated_train_state(devices)

# Custom training loop
for epoch in range(num_epochs):
    data_iter = iter(train_data)
    for data in data_iter:
        x, y = data
        sharded_x = jax.device_put(x.numpy(), data_sharding)
        loss_value, train_state = train_step(train_state, sharded_x, y.numpy())
    print("Epoch", epoch, "loss:", loss_value)

# Post-processing model state update to write them back into the model
trainable_variables, non_trainable_variables, optimizer_variables = train_state
params = trainable_variables  # kerax: state
state = non_trainable_variables  # kerax: state
