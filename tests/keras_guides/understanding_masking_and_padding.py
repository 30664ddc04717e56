# ruff: noqa: B018, E402, I001 - the guide's own expressions and import order, kept as written.
"""Port of the keras-io guide "Understanding masking & padding" (Scott Zhu,
Francois Chollet; Apache 2.0).

Source: keras-team/keras-io, guides/keras_core/understanding_masking_and_padding.py
at commit 855e37d4f5562751e6694cdadf93b2b7a72c935f (the Keras 3 version,
"Last modified: 2023/06/25"; guides/understanding_masking_and_padding.py is
the older tf.keras one). The guide's code runs here with `keras` replaced
by `kerax`; its layers are the guide's, unchanged: `compute_mask(inputs,
mask=None)`, `self.supports_masking = True` in `__init__`, `call(inputs,
mask=None)`, and a sublayer called with `mask=`. In a functional model the
masks travel on the nodes (`x._keras_mask` is the mask's spec) and reach
`call` when the graph is built and when it runs. Lines marked
`# kerax: state` make the state explicit: a layer called on arrays becomes
`params, state = layer.init(key, x)` then `layer.apply(params, state, x)`,
or `apply_masked`, which also returns the output mask (a JAX array carries
no `_keras_mask`: `# kerax: mask` marks where the guide reads it from
one). `# kerax: <reason>` marks any other change. The prose is left out;
section titles are kept as comments.
"""

import jax  # kerax: state

# Setup

import numpy as np
import kerax
from kerax import ops
from kerax import layers

key = jax.random.key(0)  # kerax: state

# Padding sequence data

raw_inputs = [
    [711, 632, 71],
    [73, 8, 3215, 55, 927],
    [83, 91, 1, 645, 1253, 927],
]

# By default, this will pad using 0s; it is configurable via the
# "value" parameter.
# Note that you could use "pre" padding (at the beginning) or
# "post" padding (at the end).
# We recommend using "post" padding when working with RNN layers
# (in order to be able to use the
# CuDNN implementation of the layers).
padded_inputs = kerax.utils.pad_sequences(raw_inputs, padding="post")
print(padded_inputs)

# Masking

# Mask-generating layers: `Embedding` and `Masking`

embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
params, state = embedding.init(key, padded_inputs)  # kerax: state
result = embedding.apply_masked(params, state, padded_inputs)  # kerax: state
masked_output, state, masked_output_mask = result  # kerax: state

print(masked_output_mask)  # kerax: mask

masking_layer = layers.Masking()
# Simulate the embedding lookup by expanding the 2D input to 3D,
# with embedding dimension of 10.
unmasked_embedding = ops.cast(
    ops.tile(ops.expand_dims(padded_inputs, axis=-1), [1, 1, 10]),
    dtype="float32",
)

params, state = masking_layer.init(key, unmasked_embedding)  # kerax: state
result = masking_layer.apply_masked(params, state, unmasked_embedding)  # kerax: state
masked_embedding, state, masked_embedding_mask = result  # kerax: state
print(masked_embedding_mask)  # kerax: mask

# Mask propagation in the Functional API and Sequential API

model = kerax.Sequential(
    [
        layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True),
        layers.LSTM(32),
    ]
)

inputs = kerax.Input(shape=(None,), dtype="int32")
x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
outputs = layers.LSTM(32)(x)

model = kerax.Model(inputs, outputs)

# Passing mask tensors directly to layers


class MyLayer(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
        self.lstm = layers.LSTM(32)

    def call(self, inputs):
        x = self.embedding(inputs)
        # Note that you could also prepare a `mask` tensor manually.
        # It only needs to be a boolean tensor
        # with the right shape, i.e. (batch_size, timesteps).
        mask = self.embedding.compute_mask(inputs)
        output = self.lstm(x, mask=mask)  # The layer will ignore the masked values
        return output


layer = MyLayer()
x = np.random.random((32, 10)) * 100
x = x.astype("int32")
params, state = layer.init(key, x)  # kerax: state
y, state = layer.apply(params, state, x)  # kerax: state

# Supporting masking in your custom layers


class TemporalSplit(kerax.layers.Layer):
    """Split the input tensor into 2 tensors along the time dimension."""

    def call(self, inputs):
        # Expect the input to be 3D and mask to be 2D, split the input tensor into 2
        # subtensors along the time axis (axis 1).
        return ops.split(inputs, 2, axis=1)

    def compute_mask(self, inputs, mask=None):
        # Also split the mask into 2 if it presents.
        if mask is None:
            return None
        return ops.split(mask, 2, axis=1)


split = TemporalSplit()  # kerax: state
params, state = split.init(key, masked_embedding)  # kerax: state
result = split.apply_masked(  # kerax: state
    params, state, masked_embedding, mask=masked_embedding_mask
)
(first_half, second_half), state, (first_mask, second_mask) = result  # kerax: state
print(first_mask)  # kerax: mask
print(second_mask)  # kerax: mask


class CustomEmbedding(kerax.layers.Layer):
    def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.mask_zero = mask_zero

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            initializer="random_normal",
            dtype="float32",
        )

    def call(self, inputs):
        inputs = ops.cast(inputs, "int32")
        return ops.take(self.embeddings, inputs)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)


layer = CustomEmbedding(10, 32, mask_zero=True)
x = np.random.random((3, 10)) * 9
x = x.astype("int32")

params, state = layer.init(key, x)  # kerax: state
y, state = layer.apply(params, state, x)  # kerax: state
mask = layer.compute_mask(x)

print(mask)

# Opting-in to mask propagation on compatible layers


class MyActivation(kerax.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Signal that the layer is safe for mask propagation
        self.supports_masking = True

    def call(self, inputs):
        return ops.relu(inputs)


inputs = kerax.Input(shape=(None,), dtype="int32")
x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
x = MyActivation()(x)  # Will pass the mask along
print("Mask found:", x._keras_mask)
outputs = layers.LSTM(32)(x)  # Will receive the mask

model = kerax.Model(inputs, outputs)
params, state = model.init(key)  # kerax: state
y, state = model.apply(
    params, state, np.random.randint(0, 5000, size=(32, 100))
)  # kerax: state

# Writing layers that need mask information


class TemporalSoftmax(kerax.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        assert mask is not None
        broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
        inputs_exp = ops.exp(inputs) * broadcast_float_mask
        inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
        return inputs_exp / inputs_sum


inputs = kerax.Input(shape=(None,), dtype="int32")
x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
x = layers.Dense(1)(x)
outputs = TemporalSoftmax()(x)

model = kerax.Model(inputs, outputs)
params, state = model.init(key)  # kerax: state
y, state = model.apply(
    params, state, np.random.randint(0, 10, size=(32, 100))
)  # kerax: state

# Summary
