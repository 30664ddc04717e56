# ruff: noqa: E402, F811, I001 - the guide redefines its layers as it goes.
"""Port of the keras-io guide "Making new layers and models via subclassing"
(fchollet; Apache 2.0).

Source: keras-team/keras-io, guides/making_new_layers_and_models_via_subclassing.py,
the Keras 3 version ("Last modified: 2023/06/25"). The layers are the
guide's, unchanged: `add_weight` in `__init__` or `build(input_shape)`,
`call(inputs)`, `self.total.assign_add(...)`, `self.add_loss(...)`,
`keras.random` without a seed inside `call`, and a subclassed `Model`. What
changes is the state: calling a layer on arrays becomes
`params, state = layer.init(key, x)` then `y, state = layer.apply(params,
state, x)`, Keras's `layer.weights` are the `params`/`state` trees, and
`layer.losses` is what `apply_with_losses` returns. Markers as in
functional_api.py: `# kerax: state` for explicit state, `# kerax: ...` with
the reason for any other change.
"""

# The guide's own line breaks (black at 80 columns) are kept: formatting
# them to this repository's 88 would count as changed lines.
# fmt: off

# Setup

import jax  # kerax: state
import numpy as np
import kerax
from kerax import ops
from kerax import layers

key = jax.random.key(0)  # kerax: state

# The `Layer` class: the combination of state (weights) and some computation


class Linear(kerax.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(
            shape=(input_dim, units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(units,), initializer="zeros", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


x = ops.ones((2, 2))
linear_layer = Linear(4, 2)
params, state = linear_layer.init(key, x)  # kerax: state
y, state = linear_layer.apply(params, state, x)  # kerax: state
print(y)

assert list(params) == [linear_layer.w.name, linear_layer.b.name]  # kerax: state

# Layers can have non-trainable weights


class ComputeSum(kerax.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(
            initializer="zeros", shape=(input_dim,), trainable=False
        )

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


x = ops.ones((2, 2))
my_sum = ComputeSum(2)
params, state = my_sum.init(key, x)  # kerax: state
y, state = my_sum.apply(params, state, x)  # kerax: state
print(np.asarray(y))  # kerax: call's result is an array (Keras returns the variable)
y, state = my_sum.apply(params, state, x)  # kerax: state
print(np.asarray(y))  # kerax: call's result is an array (Keras returns the variable)

print("weights:", len(jax.tree.leaves((params, state))))  # kerax: state
print("non-trainable weights:", len(jax.tree.leaves(state)))  # kerax: state

# It's not included in the trainable weights:
print("trainable_weights:", jax.tree.leaves(params))  # kerax: state

# Best practice: deferring weight creation until the shape of the inputs is known


class Linear(kerax.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(
            shape=(input_dim, units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(units,), initializer="zeros", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class Linear(kerax.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
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
        return ops.matmul(inputs, self.w) + self.b


# At instantiation, we don't know on what inputs this is going to get called
linear_layer = Linear(32)

# The layer's weights are created dynamically the first time the layer is called
params, state = linear_layer.init(key, x)  # kerax: state
y, state = linear_layer.apply(params, state, x)  # kerax: state

# Layers are recursively composable


class MLPBlock(kerax.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = Linear(32)
        self.linear_2 = Linear(32)
        self.linear_3 = Linear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = kerax.activations.relu(x)
        x = self.linear_2(x)
        x = kerax.activations.relu(x)
        return self.linear_3(x)


mlp = MLPBlock()
params, state = mlp.init(  # kerax: state
    key,
    ops.ones(shape=(3, 64)),  # kerax: state
)  # The first call to the `mlp` will create the weights
y, state = mlp.apply(params, state, ops.ones(shape=(3, 64)))  # kerax: state
print("weights:", len(jax.tree.leaves((params, state))))  # kerax: state
print("trainable weights:", len(jax.tree.leaves(params)))  # kerax: state

# The `add_loss()` method


# A layer that creates an activity regularization loss
class ActivityRegularizationLayer(kerax.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class OuterLayer(kerax.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


layer = OuterLayer()
params, state = layer.init(key, ops.zeros((1, 1)))  # kerax: state

# kerax: the losses of a call are returned by apply_with_losses (summed), not kept.
_, _, loss = layer.apply_with_losses(params, state, ops.ones((1, 1)))  # kerax: state
assert abs(float(loss) - 1e-2) < 1e-7  # kerax: state (the call's one loss: 1e-2 * mean(ones))


class OuterLayerWithKernelRegularizer(kerax.layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = kerax.layers.Dense(
            32, kernel_regularizer=kerax.regularizers.l2(1e-3)
        )

    def call(self, inputs):
        return self.dense(inputs)


layer = OuterLayerWithKernelRegularizer()
params, state = layer.init(key, ops.zeros((1, 1)))  # kerax: state
_, _, loss = layer.apply_with_losses(params, state, ops.zeros((1, 1)))  # kerax: state

# This is `1e-3 * sum(layer.dense.kernel ** 2)`,
# created by the `kernel_regularizer` above.
print(loss)  # kerax: state

inputs = kerax.Input(shape=(3,))
outputs = ActivityRegularizationLayer()(inputs)
model = kerax.Model(inputs, outputs)

# If there is a loss passed in `compile`, the regularization
# losses get added to it
trainer = kerax.Trainer(model, optimizer="adam", loss="mse")  # kerax: state
ts, _ = trainer.fit(
    trainer.init(key), np.random.random((2, 3)), np.random.random((2, 3))
)  # kerax: state

# It's also possible not to pass any loss in `compile`,
# since the model already has a loss to minimize, via the `add_loss`
# call during the forward pass!
trainer = kerax.Trainer(model, optimizer="adam")  # kerax: state
ts, _ = trainer.fit(
    trainer.init(key), np.random.random((2, 3)), np.random.random((2, 3))
)  # kerax: state

# You can optionally enable serialization on your layers


class Linear(kerax.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
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
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {"units": self.units}


# Now you can recreate the layer from its config:
layer = Linear(64)
config = layer.get_config()
print(config)
new_layer = Linear.from_config(config)


class Linear(kerax.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
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
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


layer = Linear(64)
config = layer.get_config()
print(config)
new_layer = Linear.from_config(config)

# Privileged `training` argument in the `call()` method


class CustomDropout(kerax.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs, training=None):
        if training:
            return kerax.random.dropout(inputs, rate=self.rate)
        return inputs


# Putting it all together: an end-to-end example


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = kerax.random.normal(shape=(batch, dim))
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

    def __init__(
        self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
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

    def __init__(
        self, original_dim, intermediate_dim=64, name="decoder", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


class VariationalAutoEncoder(kerax.Model):
    """Combines the encoder and decoder into an end-to-end model for training."""

    def __init__(
        self,
        original_dim,
        intermediate_dim=64,
        latent_dim=32,
        name="autoencoder",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(
            latent_dim=latent_dim, intermediate_dim=intermediate_dim
        )
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * ops.mean(
            z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1
        )
        self.add_loss(kl_loss)
        return reconstructed


# kerax: 512 random "digits" instead of downloading MNIST (the test runs offline).
x_train = np.random.RandomState(0).rand(512, 784).astype("float32")  # kerax: data

original_dim = 784
vae = VariationalAutoEncoder(784, 64, 32)

optimizer = kerax.optimizers.Adam(learning_rate=1e-3)
trainer = kerax.Trainer(
    vae, optimizer, loss=kerax.losses.MeanSquaredError()
)  # kerax: state

ts, history = trainer.fit(
    trainer.init(key, x_train), x_train, x_train, epochs=2, batch_size=64
)  # kerax: state
# fmt: on
