# ruff: noqa: E402, F811, I001 - the guide sets KERAS_BACKEND first and redefines its steps.
"""Port of the keras-io guide "Writing a training loop from scratch in JAX"
(fchollet; Apache 2.0).

Source: keras-team/keras-io,
guides/keras_core/writing_a_custom_training_loop_in_jax.py at commit
0a57de48c864d63b80083820e8988368ee5c3149. Keras's stateless API maps onto
kerax's one to one: `model.stateless_call(trainable, non_trainable, x)` is
`model.apply(params, state, x)`, the optimizer is an optax transformation
(`update` + `optax.apply_updates` for `stateless_apply`), metrics keep
Keras's `stateless_update_state`/`stateless_result`. Markers as in
functional_api.py; the prose is left out.
"""

# Setup

import os

# This guide can only be run with the jax backend.
os.environ["KERAS_BACKEND"] = "jax"

import jax

# We import TF so we can use tf.data.
import tensorflow as tf
import kerax
import numpy as np
import optax  # kerax: state

# A first end-to-end example


def get_model():
    inputs = kerax.Input(shape=(784,), name="digits")
    x1 = kerax.layers.Dense(64, activation="relu")(inputs)
    x2 = kerax.layers.Dense(64, activation="relu")(x1)
    outputs = kerax.layers.Dense(10, name="predictions")(x2)
    model = kerax.Model(inputs=inputs, outputs=outputs)
    return model


model = get_model()

# Prepare the training dataset.
batch_size = 32
rng = np.random.default_rng(0)  # kerax: data
x_train = rng.integers(0, 256, (10640, 28, 28)).astype("uint8")  # kerax: data
y_train = rng.integers(0, 10, (10640,)).astype("uint8")  # kerax: data
x_test = rng.integers(0, 256, (100, 28, 28)).astype("uint8")  # kerax: data
y_test = rng.integers(0, 10, (100,)).astype("uint8")  # kerax: data
x_train = np.reshape(x_train, (-1, 784)).astype("float32")
x_test = np.reshape(x_test, (-1, 784)).astype("float32")
y_train = kerax.utils.to_categorical(y_train)
y_test = kerax.utils.to_categorical(y_test)

# Reserve 10,000 samples for validation.
x_val = x_train[-10000:]
y_val = y_train[-10000:]
x_train = x_train[:-10000]
y_train = y_train[:-10000]

# Prepare the training dataset.
train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
train_dataset = train_dataset.shuffle(buffer_size=1024).batch(batch_size)

# Prepare the validation dataset.
val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val))
val_dataset = val_dataset.batch(batch_size)

# Instantiate a loss function.
loss_fn = kerax.losses.CategoricalCrossentropy(from_logits=True)

# Instantiate an optimizer.
optimizer = kerax.optimizers.Adam(learning_rate=1e-3)


def compute_loss_and_updates(trainable_variables, non_trainable_variables, x, y):
    y_pred, non_trainable_variables = model.apply(  # kerax: state
        trainable_variables, non_trainable_variables, x
    )
    loss = loss_fn(y, y_pred)
    return loss, non_trainable_variables


grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)


def train_step(state, data):
    trainable_variables, non_trainable_variables, optimizer_variables = state
    x, y = data
    (loss, non_trainable_variables), grads = grad_fn(
        trainable_variables, non_trainable_variables, x, y
    )
    updates, optimizer_variables = optimizer.update(  # kerax: state
        grads,
        optimizer_variables,
        trainable_variables,  # kerax: state
    )
    trainable_variables = optax.apply_updates(
        trainable_variables, updates
    )  # kerax: state
    # Return updated state
    return loss, (
        trainable_variables,
        non_trainable_variables,
        optimizer_variables,
    )


@jax.jit
def train_step(state, data):
    trainable_variables, non_trainable_variables, optimizer_variables = state
    x, y = data
    (loss, non_trainable_variables), grads = grad_fn(
        trainable_variables, non_trainable_variables, x, y
    )
    updates, optimizer_variables = optimizer.update(  # kerax: state
        grads,
        optimizer_variables,
        trainable_variables,  # kerax: state
    )
    trainable_variables = optax.apply_updates(
        trainable_variables, updates
    )  # kerax: state
    # Return updated state
    return loss, (
        trainable_variables,
        non_trainable_variables,
        optimizer_variables,
    )


# Build optimizer variables.
params, model_state = model.init(jax.random.key(0))  # kerax: state

trainable_variables = params  # kerax: state
non_trainable_variables = model_state  # kerax: state
optimizer_variables = optimizer.init(params)  # kerax: state
state = trainable_variables, non_trainable_variables, optimizer_variables

# Training loop
for step, data in enumerate(train_dataset):
    data = (data[0].numpy(), data[1].numpy())
    loss, state = train_step(state, data)
    # Log every 100 batches.
    if step % 100 == 0:
        print(f"Training loss (for 1 batch) at step {step}: {float(loss):.4f}")
        print(f"Seen so far: {(step + 1) * batch_size} samples")

trainable_variables, non_trainable_variables, optimizer_variables = state
params, model_state = trainable_variables, non_trainable_variables  # kerax: state

# Low-level handling of metrics

# Get a fresh model
model = get_model()

# Instantiate an optimizer to train the model.
optimizer = kerax.optimizers.Adam(learning_rate=1e-3)
# Instantiate a loss function.
loss_fn = kerax.losses.CategoricalCrossentropy(from_logits=True)

# Prepare the metrics.
train_acc_metric = kerax.metrics.CategoricalAccuracy()
val_acc_metric = kerax.metrics.CategoricalAccuracy()


def compute_loss_and_updates(
    trainable_variables, non_trainable_variables, metric_variables, x, y
):
    y_pred, non_trainable_variables = model.apply(  # kerax: state
        trainable_variables, non_trainable_variables, x
    )
    loss = loss_fn(y, y_pred)
    metric_variables = train_acc_metric.stateless_update_state(
        metric_variables, y, y_pred
    )
    return loss, (non_trainable_variables, metric_variables)


grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)


@jax.jit
def train_step(state, data):
    (
        trainable_variables,
        non_trainable_variables,
        optimizer_variables,
        metric_variables,
    ) = state
    x, y = data
    (loss, (non_trainable_variables, metric_variables)), grads = grad_fn(
        trainable_variables, non_trainable_variables, metric_variables, x, y
    )
    updates, optimizer_variables = optimizer.update(  # kerax: state
        grads,
        optimizer_variables,
        trainable_variables,  # kerax: state
    )
    trainable_variables = optax.apply_updates(
        trainable_variables, updates
    )  # kerax: state
    # Return updated state
    return loss, (
        trainable_variables,
        non_trainable_variables,
        optimizer_variables,
        metric_variables,
    )


@jax.jit
def eval_step(state, data):
    trainable_variables, non_trainable_variables, metric_variables = state
    x, y = data
    y_pred, non_trainable_variables = model.apply(  # kerax: state
        trainable_variables, non_trainable_variables, x
    )
    loss = loss_fn(y, y_pred)
    metric_variables = val_acc_metric.stateless_update_state(
        metric_variables, y, y_pred
    )
    return loss, (
        trainable_variables,
        non_trainable_variables,
        metric_variables,
    )


# Build optimizer variables.
params, model_state = model.init(jax.random.key(0))  # kerax: state

trainable_variables = params  # kerax: state
non_trainable_variables = model_state  # kerax: state
optimizer_variables = optimizer.init(params)  # kerax: state
metric_variables = train_acc_metric.stateless_reset_state()  # kerax: state
state = (
    trainable_variables,
    non_trainable_variables,
    optimizer_variables,
    metric_variables,
)

# Training loop
for step, data in enumerate(train_dataset):
    data = (data[0].numpy(), data[1].numpy())
    loss, state = train_step(state, data)
    # Log every 100 batches.
    if step % 100 == 0:
        print(f"Training loss (for 1 batch) at step {step}: {float(loss):.4f}")
        _, _, _, metric_variables = state
        print(
            f"Training accuracy: {train_acc_metric.stateless_result(metric_variables)}"
        )  # kerax: state
        print(f"Seen so far: {(step + 1) * batch_size} samples")

metric_variables = val_acc_metric.stateless_reset_state()  # kerax: state
(
    trainable_variables,
    non_trainable_variables,
    optimizer_variables,
    _,  # kerax: state (the training metric's state is not carried over)
) = state
state = trainable_variables, non_trainable_variables, metric_variables

# Eval loop
for step, data in enumerate(val_dataset):
    data = (data[0].numpy(), data[1].numpy())
    loss, state = eval_step(state, data)
    # Log every 100 batches.
    if step % 100 == 0:
        print(f"Validation loss (for 1 batch) at step {step}: {float(loss):.4f}")
        _, _, metric_variables = state
        print(
            f"Validation accuracy: {val_acc_metric.stateless_result(metric_variables)}"
        )  # kerax: state
        print(f"Seen so far: {(step + 1) * batch_size} samples")

# Low-level handling of losses tracked by the model


class ActivityRegularizationLayer(kerax.layers.Layer):
    def call(self, inputs):
        self.add_loss(1e-2 * jax.numpy.sum(inputs))
        return inputs


inputs = kerax.Input(shape=(784,), name="digits")
x = kerax.layers.Dense(64, activation="relu")(inputs)
# Insert activity regularization as a layer
x = ActivityRegularizationLayer()(x)
x = kerax.layers.Dense(64, activation="relu")(x)
outputs = kerax.layers.Dense(10, name="predictions")(x)

model = kerax.Model(inputs=inputs, outputs=outputs)


def compute_loss_and_updates(
    trainable_variables, non_trainable_variables, metric_variables, x, y
):
    y_pred, non_trainable_variables, losses = model.apply_with_losses(  # kerax: state
        trainable_variables,
        non_trainable_variables,
        x,
        training=True,  # kerax: state
    )
    loss = loss_fn(y, y_pred)
    if losses is not None:  # kerax: API (one summed array, not a list)
        loss += jax.numpy.sum(losses)
    metric_variables = train_acc_metric.stateless_update_state(
        metric_variables, y, y_pred
    )
    return loss, non_trainable_variables, metric_variables
