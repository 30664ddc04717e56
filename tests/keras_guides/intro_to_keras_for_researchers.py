# ruff: noqa: E402, F811, I001, UP008, UP031 - the guide redefines its layers as it goes; its own super() and % format.
"""Port of the keras-io guide "Introduction to Keras for Researchers"
(fchollet; Apache 2.0).

Source: keras-team/keras-io, guides/intro_to_keras_for_researchers.py at
commit 4cc9354bd60f4ed0d7cdc87eb2f4920992623a7e ("Last modified:
2020/10/02"). The guide is written for TensorFlow (`tf.GradientTape`,
`tf.Variable`, `tf.function`, `tf.data`); no backend-agnostic Keras 3
version of it is published. Its Keras parts are kept as written (`keras`
read as `kerax`); its TensorFlow lines are replaced by their JAX form, each
marked `# kerax: tf -> ...`: `GradientTape` is `jax.grad` /
`jax.value_and_grad` of a function of the params, `optimizer.apply_gradients`
is the optax `update` + `optax.apply_updates`, `tf.function` is `jax.jit`,
`tf.*` math is `kerax.ops`, and a `tf.Variable`'s `assign` is a new array.
Layer calls on arrays become `init` + `apply` and `layer.losses` is what
`apply_with_losses` returns (`# kerax: state`); built-in metrics are pure
(`init`/`update`/`result`), while the guide's `F1Score` subclass runs as
written (`add_weight`, `update_state`, `result`, `reset_state`). `# kerax: data`: random arrays of MNIST's
shapes stand in for the download (256 samples, 64 for the hypernetwork),
batched with NumPy instead of `tf.data`. Markers as in functional_api.py;
the prose is left out.
"""

# The guide's own line breaks are kept.
# fmt: off

# Setup

import jax  # kerax: tf -> jax
import numpy as np  # kerax: tf -> numpy and kerax.ops
import optax  # kerax: state
import kerax  # kerax: tf.keras -> kerax
from kerax import ops  # kerax: tf -> kerax.ops

key = jax.random.key(0)  # kerax: state

# Tensors

x = ops.convert_to_tensor([[5, 2], [1, 3]])  # kerax: tf -> kerax.ops
print(x)

np.asarray(x)  # kerax: tf -> numpy (x.numpy())

print("dtype:", x.dtype)
print("shape:", x.shape)

print(ops.ones(shape=(2, 1)))  # kerax: tf -> kerax.ops
print(ops.zeros(shape=(2, 1)))  # kerax: tf -> kerax.ops

x = kerax.random.normal(shape=(2, 2), mean=0.0, stddev=1.0, seed=1)  # kerax: state (seed)

x = kerax.random.randint(shape=(2, 2), minval=0, maxval=10, dtype="int32", seed=2)  # kerax: state (seed)


# Variables

initial_value = kerax.random.normal(shape=(2, 2), seed=3)  # kerax: state (seed)
a = initial_value  # kerax: state (a JAX array is the variable's value)
print(a)


new_value = kerax.random.normal(shape=(2, 2), seed=4)  # kerax: state (seed)
a = new_value  # kerax: state (assign is a new array)
for i in range(2):
    for j in range(2):
        assert a[i, j] == new_value[i, j]

added_value = kerax.random.normal(shape=(2, 2), seed=5)  # kerax: state (seed)
a = a + added_value  # kerax: state (assign_add is a new array)
for i in range(2):
    for j in range(2):
        assert a[i, j] == new_value[i, j] + added_value[i, j]

# Doing math in TensorFlow

a = kerax.random.normal(shape=(2, 2), seed=6)  # kerax: state (seed)
b = kerax.random.normal(shape=(2, 2), seed=7)  # kerax: state (seed)

c = a + b
d = ops.square(c)  # kerax: tf -> kerax.ops
e = ops.exp(d)  # kerax: tf -> kerax.ops

# Gradients

a = kerax.random.normal(shape=(2, 2), seed=8)  # kerax: state (seed)
b = kerax.random.normal(shape=(2, 2), seed=9)  # kerax: state (seed)


def f(a):  # kerax: tf.GradientTape -> jax.grad of a function of `a`
    c = ops.sqrt(ops.square(a) + ops.square(b))  # kerax: tf -> kerax.ops
    return ops.sum(c)  # kerax: tape.gradient sums a non-scalar target


# What's the gradient of `c` with respect to `a`?
dc_da = jax.grad(f)(a)  # kerax: tf.GradientTape -> jax.grad
print(dc_da)


# kerax: tf -> jax: no tf.Variable to watch; jax.grad differentiates arguments.
dc_da = jax.grad(f)(a)  # kerax: tf.GradientTape -> jax.grad
print(dc_da)

# kerax: nested tapes -> nested jax.grad (of the summed first derivative).
d2c_da2 = jax.grad(lambda a: ops.sum(jax.grad(f)(a)))(a)  # kerax: tf.GradientTape -> jax.grad
print(d2c_da2)


# Keras layers


class Linear(kerax.layers.Layer):
    """y = w.x + b"""

    def __init__(self, units=32, input_dim=32):
        super(Linear, self).__init__()
        # kerax: tf.Variable -> add_weight (a tf.Variable holds TF state)
        self.w = self.add_weight(  # kerax: tf.Variable -> add_weight
            shape=(input_dim, units),  # kerax: tf.Variable -> add_weight
            initializer=kerax.initializers.RandomNormal(stddev=0.05),  # kerax: tf.random_normal_initializer
            trainable=True,
        )
        self.b = self.add_weight(  # kerax: tf.Variable -> add_weight
            shape=(units,), initializer="zeros", trainable=True  # kerax: tf.Variable -> add_weight
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b  # kerax: tf -> kerax.ops


# Instantiate our layer.
linear_layer = Linear(units=4, input_dim=2)

# The layer can be treated as a function.
# Here we call it on some data.
params, state = linear_layer.init(key, ops.ones((2, 2)))  # kerax: state
y, state = linear_layer.apply(params, state, ops.ones((2, 2)))  # kerax: state
assert y.shape == (2, 4)

assert list(params) == [linear_layer.w.name, linear_layer.b.name]  # kerax: state

# Layer weight creation


class Linear(kerax.layers.Layer):
    """y = w.x + b"""

    def __init__(self, units=32):
        super(Linear, self).__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b  # kerax: tf -> kerax.ops


# Instantiate our lazy layer.
linear_layer = Linear(4)

# This will also call `build(input_shape)` and create the weights.
params, state = linear_layer.init(key, ops.ones((2, 2)))  # kerax: state
y, state = linear_layer.apply(params, state, ops.ones((2, 2)))  # kerax: state

# Layer gradients

# Prepare a dataset.
rng = np.random.default_rng(0)  # kerax: data
x_train = rng.integers(0, 256, (256, 28, 28)).astype("uint8")  # kerax: data
y_train = rng.integers(0, 10, (256,)).astype("uint8")  # kerax: data
x_train = x_train.reshape(256, 784).astype("float32") / 255  # kerax: data
dataset = [  # kerax: data (NumPy batches instead of tf.data)
    (x_train[i : i + 64], y_train[i : i + 64]) for i in range(0, 256, 64)  # kerax: data
]  # kerax: data
digits = x_train, y_train  # kerax: data (the guide's `dataset`, as arrays for fit)

# Instantiate our linear layer (defined above) with 10 units.
linear_layer = Linear(10)
params, state = linear_layer.init(key, x_train[:1])  # kerax: state

# Instantiate a logistic loss function that expects integer targets.
loss_fn = kerax.losses.SparseCategoricalCrossentropy(from_logits=True)

# Instantiate an optimizer.
optimizer = kerax.optimizers.SGD(learning_rate=1e-3)
opt_state = optimizer.init(params)  # kerax: state


def compute_loss(params, x, y):  # kerax: tf.GradientTape -> jax.grad of a function of the params
    # Forward pass.
    logits, _ = linear_layer.apply(params, state, x)  # kerax: state

    # Loss value for this batch.
    loss = loss_fn(y, logits)
    return loss  # kerax: tf.GradientTape -> jax.grad


grad_fn = jax.jit(jax.value_and_grad(compute_loss))  # kerax: tf.GradientTape -> jax.grad (jitted: eager JAX compiles op by op)

# Iterate over the batches of the dataset.
for step, (x, y) in enumerate(dataset):

    # Get gradients of the loss wrt the weights.
    loss, gradients = grad_fn(params, x, y)  # kerax: tf.GradientTape -> jax.grad

    # Update the weights of our linear layer.
    updates, opt_state = optimizer.update(gradients, opt_state, params)  # kerax: state
    params = optax.apply_updates(params, updates)  # kerax: state

    # Logging.
    if step % 100 == 0:
        print("Step:", step, "Loss:", float(loss))

# Trainable and non-trainable weights


class ComputeSum(kerax.layers.Layer):
    """Returns the sum of the inputs."""

    def __init__(self, input_dim):
        super(ComputeSum, self).__init__()
        # Create a non-trainable weight.
        self.total = self.add_weight(shape=(input_dim,), initializer="zeros", trainable=False)  # kerax: tf.Variable -> add_weight

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))  # kerax: tf -> kerax.ops
        return self.total


my_sum = ComputeSum(2)
x = ops.ones((2, 2))  # kerax: tf -> kerax.ops
params, state = my_sum.init(key, x)  # kerax: state

y, state = my_sum.apply(params, state, x)  # kerax: state
print(np.asarray(y))  # [2. 2.]  # kerax: call's result is an array (Keras returns the variable)
sums = [np.asarray(y)]  # kerax: state (kept for the test)

y, state = my_sum.apply(params, state, x)  # kerax: state
print(np.asarray(y))  # [4. 4.]  # kerax: call's result is an array (Keras returns the variable)
sums.append(np.asarray(y))  # kerax: state (kept for the test)

assert list(state) == [my_sum.total.name]  # kerax: state (weights = params + state)
assert list(state) == [my_sum.total.name]  # kerax: state (non-trainable weights are the state)
assert jax.tree.leaves(params) == []  # kerax: state

# Layers that own layers

# Let's reuse the Linear class
# with a `build` method that we defined above.


class MLP(kerax.layers.Layer):
    """Simple stack of Linear layers."""

    def __init__(self):
        super(MLP, self).__init__()
        self.linear_1 = Linear(32)
        self.linear_2 = Linear(32)
        self.linear_3 = Linear(10)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = kerax.activations.relu(x)  # kerax: tf.nn -> kerax.activations
        x = self.linear_2(x)
        x = kerax.activations.relu(x)  # kerax: tf.nn -> kerax.activations
        return self.linear_3(x)


mlp = MLP()

# The first call to the `mlp` object will create the weights.
params, state = mlp.init(key, ops.ones(shape=(3, 64)))  # kerax: state
y, state = mlp.apply(params, state, ops.ones(shape=(3, 64)))  # kerax: state

# Weights are recursively tracked.
assert len(jax.tree.leaves((params, state))) == 6  # kerax: state

mlp = kerax.Sequential(
    [
        kerax.layers.Dense(32, activation=kerax.activations.relu),  # kerax: tf.nn -> kerax.activations
        kerax.layers.Dense(32, activation=kerax.activations.relu),  # kerax: tf.nn -> kerax.activations
        kerax.layers.Dense(10),
    ]
)

# Tracking losses created by layers


class ActivityRegularization(kerax.layers.Layer):
    """Layer that creates an activity sparsity regularization loss."""

    def __init__(self, rate=1e-2):
        super(ActivityRegularization, self).__init__()
        self.rate = rate

    def call(self, inputs):
        # We use `add_loss` to create a regularization loss
        # that depends on the inputs.
        self.add_loss(self.rate * ops.sum(inputs))  # kerax: tf -> kerax.ops
        return inputs


# Let's use the loss layer in a MLP block.


class SparseMLP(kerax.layers.Layer):
    """Stack of Linear layers with a sparsity regularization loss."""

    def __init__(self):
        super(SparseMLP, self).__init__()
        self.linear_1 = Linear(32)
        self.regularization = ActivityRegularization(1e-2)
        self.linear_3 = Linear(10)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = kerax.activations.relu(x)  # kerax: tf.nn -> kerax.activations
        x = self.regularization(x)
        return self.linear_3(x)


mlp = SparseMLP()
params, state = mlp.init(key, ops.ones((10, 10)))  # kerax: state
y, state, losses = mlp.apply_with_losses(params, state, ops.ones((10, 10)))  # kerax: state

print(losses)  # kerax: state (the call's losses, summed: one float32 scalar)

# Losses correspond to the *last* forward pass.
mlp = SparseMLP()
params, state = mlp.init(key, ops.ones((10, 10)))  # kerax: state
_, _, losses = mlp.apply_with_losses(params, state, ops.ones((10, 10)))  # kerax: state
assert losses.shape == ()  # kerax: state (returned per call, never kept)
_, _, losses_again = mlp.apply_with_losses(params, state, ops.ones((10, 10)))  # kerax: state
assert losses_again == losses  # No accumulation.  # kerax: state

# Let's demonstrate how to use these losses in a training loop.

# A new MLP.
mlp = SparseMLP()
params, state = mlp.init(key, x_train[:1])  # kerax: state
sparse_mlp_params = params  # kerax: state (kept for the test)

# Loss and optimizer.
loss_fn = kerax.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = kerax.optimizers.SGD(learning_rate=1e-3)
opt_state = optimizer.init(params)  # kerax: state


def compute_loss(params, x, y):  # kerax: tf.GradientTape -> jax.grad of a function of the params
    # Forward pass.
    logits, _, layer_losses = mlp.apply_with_losses(params, state, x)  # kerax: state

    # External loss value for this batch.
    loss = loss_fn(y, logits)

    # Add the losses created during the forward pass.
    loss += layer_losses  # kerax: state
    return loss  # kerax: tf.GradientTape -> jax.grad


grad_fn = jax.jit(jax.value_and_grad(compute_loss))  # kerax: tf.GradientTape -> jax.grad (jitted: eager JAX compiles op by op)

for step, (x, y) in enumerate(dataset):
    # Get gradients of the loss wrt the weights.
    loss, gradients = grad_fn(params, x, y)  # kerax: tf.GradientTape -> jax.grad

    # Update the weights of our linear layer.
    updates, opt_state = optimizer.update(gradients, opt_state, params)  # kerax: state
    params = optax.apply_updates(params, updates)  # kerax: state

    # Logging.
    if step % 100 == 0:
        print("Step:", step, "Loss:", float(loss))

# Keeping track of training metrics

# Instantiate a metric object
accuracy = kerax.metrics.SparseCategoricalAccuracy()
accuracy_state = accuracy.init()  # kerax: state

# Prepare our layer, loss, and optimizer.
model = kerax.Sequential(
    [
        kerax.layers.Dense(32, activation="relu"),
        kerax.layers.Dense(32, activation="relu"),
        kerax.layers.Dense(10),
    ]
)
loss_fn = kerax.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = kerax.optimizers.Adam(learning_rate=1e-3)
params, state = model.init(key, x_train[:1])  # kerax: state
opt_state = optimizer.init(params)  # kerax: state


def compute_loss(params, x, y):  # kerax: tf.GradientTape -> jax.grad of a function of the params
    logits, _ = model.apply(params, state, x)  # kerax: state
    # Compute the loss value for this batch.
    loss_value = loss_fn(y, logits)
    return loss_value, logits  # kerax: tf.GradientTape -> jax.grad


grad_fn = jax.jit(jax.value_and_grad(compute_loss, has_aux=True))  # kerax: tf.GradientTape -> jax.grad (jitted: eager JAX compiles op by op)

for epoch in range(2):
    # Iterate over the batches of a dataset.
    for step, (x, y) in enumerate(dataset):
        (loss_value, logits), gradients = grad_fn(params, x, y)  # kerax: tf.GradientTape -> jax.grad

        # Update the state of the `accuracy` metric.
        accuracy_state = accuracy.update(accuracy_state, y, logits)  # kerax: state

        # Update the weights of the model to minimize the loss value.
        updates, opt_state = optimizer.update(gradients, opt_state, params)  # kerax: state
        params = optax.apply_updates(params, updates)  # kerax: state

        # Logging the current accuracy value so far.
        if step % 200 == 0:
            print("Epoch:", epoch, "Step:", step)
            print("Total running accuracy so far: %.3f" % accuracy.result(accuracy_state))  # kerax: state

    # Reset the metric's state at the end of an epoch
    accuracy_state = accuracy.init()  # kerax: state


class F1Score(kerax.metrics.Metric):
    def __init__(self, name="f1_score", dtype="float32", threshold=0.5, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.threshold = 0.5
        self.true_positives = self.add_weight(
            name="tp", dtype=dtype, initializer="zeros"
        )
        self.false_positives = self.add_weight(
            name="fp", dtype=dtype, initializer="zeros"
        )
        self.false_negatives = self.add_weight(
            name="fn", dtype=dtype, initializer="zeros"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.greater_equal(y_pred, self.threshold)  # kerax: tf -> kerax.ops
        y_true = ops.cast(y_true, "bool")  # kerax: tf -> kerax.ops
        y_pred = ops.cast(y_pred, "bool")  # kerax: tf -> kerax.ops

        true_positives = ops.cast(y_true & y_pred, self.dtype)  # kerax: tf -> kerax.ops
        false_positives = ops.cast(~y_true & y_pred, self.dtype)  # kerax: tf -> kerax.ops
        false_negatives = ops.cast(y_true & ~y_pred, self.dtype)  # kerax: tf -> kerax.ops

        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, self.dtype)  # kerax: tf -> kerax.ops
            true_positives *= sample_weight
            false_positives *= sample_weight
            false_negatives *= sample_weight

        self.true_positives.assign_add(ops.sum(true_positives))  # kerax: tf -> kerax.ops
        self.false_positives.assign_add(ops.sum(false_positives))  # kerax: tf -> kerax.ops
        self.false_negatives.assign_add(ops.sum(false_negatives))  # kerax: tf -> kerax.ops

    def result(self):
        precision = self.true_positives / (self.true_positives + self.false_positives)
        recall = self.true_positives / (self.true_positives + self.false_negatives)
        return precision * recall * 2.0 / (precision + recall)

    def reset_state(self):
        self.true_positives.assign(0)
        self.false_positives.assign(0)
        self.false_negatives.assign(0)


m = F1Score()
m.update_state([0, 1, 0, 0], [0.3, 0.5, 0.8, 0.9])
print("Intermediate result:", float(m.result()))
f1_results = [float(m.result())]  # kerax: kept for the test

m.update_state([1, 1, 1, 1], [0.1, 0.7, 0.6, 0.0])
print("Final result:", float(m.result()))
f1_results.append(float(m.result()))  # kerax: kept for the test


# Compiled functions

# Prepare our layer, loss, and optimizer.
model = kerax.Sequential(
    [
        kerax.layers.Dense(32, activation="relu"),
        kerax.layers.Dense(32, activation="relu"),
        kerax.layers.Dense(10),
    ]
)
loss_fn = kerax.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = kerax.optimizers.Adam(learning_rate=1e-3)
params, state = model.init(key, x_train[:1])  # kerax: state
opt_state = optimizer.init(params)  # kerax: state

# Create a training step function.


@jax.jit  # Make it fast.  # kerax: tf.function -> jax.jit
def train_on_batch(params, opt_state, x, y):  # kerax: state
    def compute_loss(params):  # kerax: tf.GradientTape -> jax.grad
        logits, _ = model.apply(params, state, x)  # kerax: state
        loss = loss_fn(y, logits)
        return loss  # kerax: tf.GradientTape -> jax.grad
    loss, gradients = jax.value_and_grad(compute_loss)(params)  # kerax: tf.GradientTape -> jax.grad
    updates, opt_state = optimizer.update(gradients, opt_state, params)  # kerax: state
    params = optax.apply_updates(params, updates)  # kerax: state
    return loss, params, opt_state  # kerax: state


for step, (x, y) in enumerate(dataset):
    loss, params, opt_state = train_on_batch(params, opt_state, x, y)  # kerax: state
    if step % 100 == 0:
        print("Step:", step, "Loss:", float(loss))

# Training mode & inference mode


class Dropout(kerax.layers.Layer):
    def __init__(self, rate):
        super(Dropout, self).__init__()
        self.rate = rate

    def call(self, inputs, training=None):
        if training:
            return kerax.random.dropout(inputs, rate=self.rate)  # kerax: tf.nn -> kerax.random
        return inputs


class MLPWithDropout(kerax.layers.Layer):
    def __init__(self):
        super(MLPWithDropout, self).__init__()
        self.linear_1 = Linear(32)
        self.dropout = Dropout(0.5)
        self.linear_3 = Linear(10)

    def call(self, inputs, training=None):
        x = self.linear_1(inputs)
        x = kerax.activations.relu(x)  # kerax: tf.nn -> kerax.activations
        x = self.dropout(x, training=training)
        return self.linear_3(x)


mlp = MLPWithDropout()
params, state = mlp.init(key, ops.ones((2, 2)))  # kerax: state
y_train, _ = mlp.apply(params, state, ops.ones((2, 2)), key=key, training=True)  # kerax: state
y_test, _ = mlp.apply(params, state, ops.ones((2, 2)), training=False)  # kerax: state

# The Functional API for model-building

# We use an `Input` object to describe the shape and dtype of the inputs.
# This is the deep learning equivalent of *declaring a type*.
# The shape argument is per-sample; it does not include the batch size.
# The functional API focused on defining per-sample transformations.
# The model we create will automatically batch the per-sample transformations,
# so that it can be called on batches of data.
inputs = kerax.Input(shape=(16,), dtype="float32")

# We call layers on these "type" objects
# and they return updated types (new shapes/dtypes).
x = Linear(32)(inputs)  # We are reusing the Linear layer we defined earlier.
x = Dropout(0.5)(x)  # We are reusing the Dropout layer we defined earlier.
outputs = Linear(10)(x)

# A functional `Model` can be defined by specifying inputs and outputs.
# A model is itself a layer like any other.
model = kerax.Model(inputs, outputs)

# A functional model already has weights, before being called on any data.
# That's because we defined its input shape in advance (in `Input`).
params, state = model.init(key)  # kerax: state
assert len(jax.tree.leaves((params, state))) == 4  # kerax: state

# Let's call our model on some data, for fun.
y, _ = model.apply(params, state, ops.ones((2, 16)))  # kerax: state
assert y.shape == (2, 10)

# You can pass a `training` argument in `__call__`
# (it will get passed down to the Dropout layer).
y, _ = model.apply(params, state, ops.ones((2, 16)), key=key, training=True)  # kerax: state

inputs = kerax.Input(shape=(784,), dtype="float32")
x = kerax.layers.Dense(32, activation="relu")(inputs)
x = kerax.layers.Dense(32, activation="relu")(x)
outputs = kerax.layers.Dense(10)(x)
model = kerax.Model(inputs, outputs)

# Specify the loss, optimizer, and metrics with `compile()`.
trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=kerax.optimizers.Adam(learning_rate=1e-3),
    metrics=[kerax.metrics.SparseCategoricalAccuracy()],
)

# Train the model with the dataset for 2 epochs.
ts, history = trainer.fit(trainer.init(key), *digits, batch_size=64, epochs=2)  # kerax: state (arrays batched by fit)
trainer.predict(ts, digits[0], batch_size=64)  # kerax: state
trainer.evaluate(ts, *digits, batch_size=64)  # kerax: state


class CustomModel(kerax.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # kerax: the metrics and the optimizer are the Trainer's (below): their
        # states travel in the TrainState.
        self.loss_fn = kerax.losses.SparseCategoricalCrossentropy(from_logits=True)

    def train_step(self, state, data):  # kerax: state
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        x, y = data

        def compute_loss(params):  # kerax: tf.GradientTape -> jax.grad
            y_pred, _ = self.apply(params, state.state, x, training=True)  # Forward pass  # kerax: state
            loss = self.loss_fn(y, y_pred)
            return loss, y_pred  # kerax: tf.GradientTape -> jax.grad
        (loss, y_pred), gradients = jax.value_and_grad(compute_loss, has_aux=True)(state.params)  # kerax: tf.GradientTape -> jax.grad
        updates, opt_state = trainer.tx.update(gradients, state.opt_state, state.params)  # kerax: state
        params = optax.apply_updates(state.params, updates)  # kerax: state
        # Update metrics (includes the metric that tracks the loss)
        metric_states = trainer.objectives.update_metrics(  # kerax: state
            state.metric_states, loss, [loss], y, y_pred, None, x.shape[0]  # kerax: state
        )  # kerax: state
        # Return a dict mapping metric names to current value
        logs = trainer.objectives.results(metric_states)  # kerax: state
        state = state._replace(  # kerax: state
            params=params, opt_state=opt_state, metric_states=metric_states, step=state.step + 1  # kerax: state
        )  # kerax: state
        return state, logs  # kerax: state


inputs = kerax.Input(shape=(784,), dtype="float32")
x = kerax.layers.Dense(32, activation="relu")(inputs)
x = kerax.layers.Dense(32, activation="relu")(x)
outputs = kerax.layers.Dense(10)(x)
model = CustomModel(inputs, outputs)
trainer = kerax.Trainer(  # kerax: state (compile: Keras's __init__ made these)
    model,  # kerax: state
    optimizer=kerax.optimizers.Adam(learning_rate=1e-3),  # kerax: state
    loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True),  # kerax: state
    metrics=[kerax.metrics.SparseCategoricalAccuracy(name="accuracy")],  # kerax: state
    train_step=model.train_step,  # kerax: state
)  # kerax: state
ts, history = trainer.fit(trainer.init(key), *digits, batch_size=64, epochs=2)  # kerax: state
custom_history = history.history  # kerax: state (kept for the test)

# End-to-end experiment example 1: variational autoencoders.

from kerax import layers


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]  # kerax: tf -> kerax.ops
        dim = ops.shape(z_mean)[1]  # kerax: tf -> kerax.ops
        epsilon = kerax.random.normal(shape=(batch, dim))  # kerax: tf.keras.backend -> kerax.random
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon  # kerax: tf -> kerax.ops


class Encoder(layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

    def __init__(self, latent_dim=32, intermediate_dim=64, **kwargs):
        super(Encoder, self).__init__(**kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation=kerax.activations.relu)  # kerax: tf.nn -> kerax.activations
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    """Converts z, the encoded digit vector, back into a readable digit."""

    def __init__(self, original_dim, intermediate_dim=64, **kwargs):
        super(Decoder, self).__init__(**kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation=kerax.activations.relu)  # kerax: tf.nn -> kerax.activations
        self.dense_output = layers.Dense(original_dim, activation=kerax.activations.sigmoid)  # kerax: tf.nn -> kerax.activations

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


class VariationalAutoEncoder(layers.Layer):
    """Combines the encoder and decoder into an end-to-end model for training."""

    def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, **kwargs):
        super(VariationalAutoEncoder, self).__init__(**kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * ops.mean(  # kerax: tf -> kerax.ops
            z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1  # kerax: tf -> kerax.ops
        )
        self.add_loss(kl_loss)
        return reconstructed


# Our model.
vae = VariationalAutoEncoder(original_dim=784, intermediate_dim=64, latent_dim=32)

# Loss and optimizer.
loss_fn = kerax.losses.MeanSquaredError()
optimizer = kerax.optimizers.Adam(learning_rate=1e-3)

# Prepare a dataset.
dataset = [digits[0][i : i + 32] for i in range(0, 256, 32)]  # kerax: data (NumPy batches instead of tf.data)
params, state = vae.init(key, digits[0][:1])  # kerax: state
opt_state = optimizer.init(params)  # kerax: state


@jax.jit  # kerax: tf.function -> jax.jit
def training_step(params, opt_state, x, step_key):  # kerax: state
    def compute_loss(params):  # kerax: tf.GradientTape -> jax.grad
        reconstructed, _, vae_losses = vae.apply_with_losses(params, state, x, key=step_key)  # Compute input reconstruction.  # kerax: state
        # Compute loss.
        loss = loss_fn(x, reconstructed)
        loss += vae_losses  # Add KLD term.  # kerax: state
        return loss  # kerax: tf.GradientTape -> jax.grad
    # Update the weights of the VAE.
    loss, grads = jax.value_and_grad(compute_loss)(params)  # kerax: tf.GradientTape -> jax.grad
    updates, opt_state = optimizer.update(grads, opt_state, params)  # kerax: state
    params = optax.apply_updates(params, updates)  # kerax: state
    return loss, params, opt_state  # kerax: state


losses = []  # Keep track of the losses over time.
for step, x in enumerate(dataset):
    loss, params, opt_state = training_step(params, opt_state, x, jax.random.fold_in(key, step))  # kerax: state
    # Logging.
    losses.append(float(loss))
    if step % 100 == 0:
        print("Step:", step, "Loss:", sum(losses) / len(losses))

    # Stop after 1000 steps.
    # Training the model to convergence is left
    # as an exercise to the reader.
    if step >= 1000:
        break
vae_params = params  # kerax: state (kept for the test)

original_dim = 784
intermediate_dim = 64
latent_dim = 32


class KLDivergenceLoss(layers.Layer):  # kerax: a layer adds the loss (no model.add_loss of symbolic tensors, as in Keras 3)
    def call(self, inputs):  # kerax: a layer adds the loss
        reconstructed, z_mean, z_log_var = inputs  # kerax: a layer adds the loss
        self.add_loss(-0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1))  # kerax: a layer adds the loss
        return reconstructed  # kerax: a layer adds the loss


# Define encoder model.
original_inputs = kerax.Input(shape=(original_dim,), name="encoder_input")
x = layers.Dense(intermediate_dim, activation="relu")(original_inputs)
z_mean = layers.Dense(latent_dim, name="z_mean")(x)
z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
z = Sampling()((z_mean, z_log_var))
encoder = kerax.Model(inputs=original_inputs, outputs=z, name="encoder")

# Define decoder model.
latent_inputs = kerax.Input(shape=(latent_dim,), name="z_sampling")
x = layers.Dense(intermediate_dim, activation="relu")(latent_inputs)
outputs = layers.Dense(original_dim, activation="sigmoid")(x)
decoder = kerax.Model(inputs=latent_inputs, outputs=outputs, name="decoder")

# Define VAE model.
outputs = decoder(z)
# Add KL divergence regularization loss.
outputs = KLDivergenceLoss()((outputs, z_mean, z_log_var))  # kerax: a layer adds the loss
vae = kerax.Model(inputs=original_inputs, outputs=outputs, name="vae")

# Loss and optimizer.
loss_fn = kerax.losses.MeanSquaredError()
optimizer = kerax.optimizers.Adam(learning_rate=1e-3)

# Configure the model for training.
trainer = kerax.Trainer(vae, optimizer, loss=loss_fn)  # kerax: state

# Actually training the model.
ts, vae_history = trainer.fit(trainer.init(key), digits[0], digits[0], batch_size=32, epochs=1)  # kerax: state (x_train as both inputs & targets)

# End-to-end experiment example 2: hypernetworks.

import numpy as np

input_dim = 784
classes = 10

# This is the main network we'll actually use to predict labels.
main_network = kerax.Sequential(
    [kerax.layers.Dense(64, activation=kerax.activations.relu), kerax.layers.Dense(classes),]  # kerax: tf.nn -> kerax.activations
)

# kerax: no `built` flag to set: `apply` takes whatever params it is given.

# This is the number of weight coefficients to generate. Each layer in the
# main network requires output_dim * input_dim + output_dim coefficients.
num_weights_to_generate = (classes * 64 + classes) + (64 * input_dim + 64)

# This is the hypernetwork that generates the weights of the `main_network` above.
hypernetwork = kerax.Sequential(
    [
        kerax.layers.Dense(16, activation=kerax.activations.relu),  # kerax: tf.nn -> kerax.activations
        kerax.layers.Dense(num_weights_to_generate, activation=kerax.activations.sigmoid),  # kerax: tf.nn -> kerax.activations
    ]
)

# Loss and optimizer.
loss_fn = kerax.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = kerax.optimizers.Adam(learning_rate=1e-4)

# We'll use a batch size of 1 for this experiment.
dataset = [(digits[0][i : i + 1], digits[1][i : i + 1]) for i in range(64)]  # kerax: data (64 samples, NumPy batches)
hyper_params, hyper_state = hypernetwork.init(key, digits[0][:1])  # kerax: state
opt_state = optimizer.init(hyper_params)  # kerax: state


@jax.jit  # kerax: tf.function -> jax.jit
def train_step(hyper_params, opt_state, x, y):  # kerax: state
    def compute_loss(hyper_params):  # kerax: tf.GradientTape -> jax.grad
        # Predict weights for the outer model.
        weights_pred, _ = hypernetwork.apply(hyper_params, hyper_state, x)  # kerax: state

        # Reshape them to the expected shapes for w and b for the outer model.
        # Layer 0 kernel.
        start_index = 0
        w0_shape = (input_dim, 64)
        w0_coeffs = weights_pred[:, start_index : start_index + np.prod(w0_shape)]
        w0 = ops.reshape(w0_coeffs, w0_shape)  # kerax: tf -> kerax.ops
        start_index += np.prod(w0_shape)
        # Layer 0 bias.
        b0_shape = (64,)
        b0_coeffs = weights_pred[:, start_index : start_index + np.prod(b0_shape)]
        b0 = ops.reshape(b0_coeffs, b0_shape)  # kerax: tf -> kerax.ops
        start_index += np.prod(b0_shape)
        # Layer 1 kernel.
        w1_shape = (64, classes)
        w1_coeffs = weights_pred[:, start_index : start_index + np.prod(w1_shape)]
        w1 = ops.reshape(w1_coeffs, w1_shape)  # kerax: tf -> kerax.ops
        start_index += np.prod(w1_shape)
        # Layer 1 bias.
        b1_shape = (classes,)
        b1_coeffs = weights_pred[:, start_index : start_index + np.prod(b1_shape)]
        b1 = ops.reshape(b1_coeffs, b1_shape)  # kerax: tf -> kerax.ops
        start_index += np.prod(b1_shape)

        # Set the weight predictions as the weight variables on the outer model.
        main_params = {  # kerax: state (the params passed to apply)
            main_network.layers[0].name: {"kernel": w0, "bias": b0},  # kerax: state
            main_network.layers[1].name: {"kernel": w1, "bias": b1},  # kerax: state
        }  # kerax: state

        # Inference on the outer model.
        preds, _ = main_network.apply(main_params, {}, x)  # kerax: state
        loss = loss_fn(y, preds)
        return loss  # kerax: tf.GradientTape -> jax.grad

    # Train only inner model.
    loss, grads = jax.value_and_grad(compute_loss)(hyper_params)  # kerax: tf.GradientTape -> jax.grad
    updates, opt_state = optimizer.update(grads, opt_state, hyper_params)  # kerax: state
    hyper_params = optax.apply_updates(hyper_params, updates)  # kerax: state
    return loss, hyper_params, opt_state  # kerax: state


losses = []  # Keep track of the losses over time.
for step, (x, y) in enumerate(dataset):
    loss, hyper_params, opt_state = train_step(hyper_params, opt_state, x, y)  # kerax: state

    # Logging.
    losses.append(float(loss))
    if step % 100 == 0:
        print("Step:", step, "Loss:", sum(losses) / len(losses))

    # Stop after 1000 steps.
    # Training the model to convergence is left
    # as an exercise to the reader.
    if step >= 1000:
        break
# fmt: on
