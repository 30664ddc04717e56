# ruff: noqa: B018, E402, I001, UP008, UP031 - the guide's own expressions, imports and formatting.
"""Port of the keras-io guide "Working with RNNs" (Scott Zhu, Francois
Chollet; Apache 2.0).

Source: keras-team/keras-io, guides/working_with_rnns.py at commit
ad4fc805f5e1a4a4c0bcdd416aa9feac6608fb6c (the tf.keras version, "Last
modified: 2020/04/14"; keras-io has no Keras 3 version of this guide). The
guide's code runs here with `keras` replaced by `kerax` (`# kerax: import`
marks `from tensorflow import keras`). Its custom cell is the guide's, a
Keras-style layer with `call(inputs, states)` that `kerax.layers.RNN` runs
over nested inputs and states (which Keras 3's `RNN` no longer does),
changed only where it calls TensorFlow. Lines marked `# kerax: state` make
the state explicit (params, state, TrainState, keys): a `stateful=True`
RNN is the same computation with its states returned (`return_state=True`)
and passed back as `initial_state=`, and `model.compile`/`fit` are a
`kerax.Trainer`. `# kerax: data` replaces the MNIST download with random
digits of the same shapes (256 and 64 of them) and cuts the nested-input
data to 128 samples of 5 steps (the guide: 640 of 50). `model.add(layer)`
runs as the guide wrote it. `# kerax: no TensorFlow` marks `tf.*` calls, which are `kerax.ops` or JAX
ones here. `# kerax: <reason>` marks any other change. The prose is left
out; section titles are kept as comments.
"""

# The guide's own line breaks are kept: reformatting the lines that gained
# explicit state would count as changed lines.
# fmt: off

import jax  # kerax: state

# Setup

import numpy as np
from kerax import ops  # kerax: no TensorFlow
import kerax  # kerax: import
from kerax import layers  # kerax: import

key = jax.random.key(0)  # kerax: state

# Built-in RNN layers: a simple example

model = kerax.Sequential()
# Add an Embedding layer expecting input vocab of size 1000, and
# output embedding dimension of size 64.
model.add(layers.Embedding(input_dim=1000, output_dim=64))

# Add a LSTM layer with 128 internal units.
model.add(layers.LSTM(128))

# Add a Dense layer with 10 units.
model.add(layers.Dense(10))

model.summary()

# Outputs and states

model = kerax.Sequential()
model.add(layers.Embedding(input_dim=1000, output_dim=64))

# The output of GRU will be a 3D tensor of shape (batch_size, timesteps, 256)
model.add(layers.GRU(256, return_sequences=True))

# The output of SimpleRNN will be a 2D tensor of shape (batch_size, 128)
model.add(layers.SimpleRNN(128))

model.add(layers.Dense(10))

model.summary()

encoder_vocab = 1000
decoder_vocab = 2000

encoder_input = layers.Input(shape=(None,))
encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=64)(
    encoder_input
)

# Return states in addition to output
output, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(
    encoder_embedded
)
encoder_state = [state_h, state_c]

decoder_input = layers.Input(shape=(None,))
decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=64)(
    decoder_input
)

# Pass the 2 states to a new LSTM layer, as initial state
decoder_output = layers.LSTM(64, name="decoder")(
    decoder_embedded, initial_state=encoder_state
)
output = layers.Dense(10)(decoder_output)

model = kerax.Model([encoder_input, decoder_input], output)
model.summary()

# RNN layers and RNN cells

# Cross-batch statefulness

paragraph1 = np.random.random((20, 10, 50)).astype(np.float32)
paragraph2 = np.random.random((20, 10, 50)).astype(np.float32)
paragraph3 = np.random.random((20, 10, 50)).astype(np.float32)

lstm_layer = layers.LSTM(64, return_state=True)  # kerax: state (stateful=True)
params, state = lstm_layer.init(key, paragraph1)  # kerax: state
(output, *states), state = lstm_layer.apply(params, state, paragraph1)  # kerax: state
(output, *states), state = lstm_layer.apply(params, state, paragraph2, initial_state=states)  # kerax: state
(output, *states), state = lstm_layer.apply(params, state, paragraph3, initial_state=states)  # kerax: state

# reset_states() will reset the cached state to the original initial_state.
# If no initial_state was provided, zero-states will be used by default.
states = None  # kerax: state (the next call starts from zero states)

# RNN State Reuse

paragraph1 = np.random.random((20, 10, 50)).astype(np.float32)
paragraph2 = np.random.random((20, 10, 50)).astype(np.float32)
paragraph3 = np.random.random((20, 10, 50)).astype(np.float32)

lstm_layer = layers.LSTM(64, return_state=True)  # kerax: state (stateful=True)
params, state = lstm_layer.init(key, paragraph1)  # kerax: state
(output, *states), state = lstm_layer.apply(params, state, paragraph1)  # kerax: state
(output, *states), state = lstm_layer.apply(params, state, paragraph2, initial_state=states)  # kerax: state

existing_state = states  # kerax: state

new_lstm_layer = layers.LSTM(64)
new_params, new_state = new_lstm_layer.init(key, paragraph3)  # kerax: state
new_output, new_state = new_lstm_layer.apply(new_params, new_state, paragraph3, initial_state=existing_state)  # kerax: state

# Bidirectional RNNs

model = kerax.Sequential()

model.add(
    layers.Bidirectional(layers.LSTM(64, return_sequences=True), input_shape=(5, 10))
)
model.add(layers.Bidirectional(layers.LSTM(32)))
model.add(layers.Dense(10))

model.summary()

# Performance optimization and CuDNN kernels

# Using CuDNN kernels when available

batch_size = 64
# Each MNIST image batch is a tensor of shape (batch_size, 28, 28).
# Each input sequence will be of size (28, 28) (height is treated like time).
input_dim = 28

units = 64
output_size = 10  # labels are from 0 to 9


# Build the RNN model
def build_model(allow_cudnn_kernel=True):
    # CuDNN is only available at the layer level, and not at the cell level.
    # This means `LSTM(units)` will use the CuDNN kernel,
    # while RNN(LSTMCell(units)) will run on non-CuDNN kernel.
    if allow_cudnn_kernel:
        # The LSTM layer with default options uses CuDNN.
        lstm_layer = kerax.layers.LSTM(units)  # kerax: input_shape
    else:
        # Wrapping a LSTMCell in a RNN layer will not use CuDNN.
        lstm_layer = kerax.layers.RNN(
            kerax.layers.LSTMCell(units)  # kerax: input_shape
        )
    model = kerax.models.Sequential(
        [
            kerax.Input((None, input_dim)),  # kerax: input_shape
            lstm_layer,
            kerax.layers.BatchNormalization(),
            kerax.layers.Dense(output_size),
        ]
    )
    return model


rng = np.random.default_rng(0)  # kerax: data
x_train = rng.integers(0, 256, (256, 28, 28)).astype("uint8")  # kerax: data
y_train = rng.integers(0, 10, (256,)).astype("uint8")  # kerax: data
x_test = rng.integers(0, 256, (64, 28, 28)).astype("uint8")  # kerax: data
y_test = rng.integers(0, 10, (64,)).astype("uint8")  # kerax: data
x_train, x_test = x_train / 255.0, x_test / 255.0
sample, sample_label = x_train[0], y_train[0]

model = build_model(allow_cudnn_kernel=True)

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer="sgd",
    metrics=["accuracy"],
)
ts = trainer.init(key)  # kerax: state


ts, history = trainer.fit(  # kerax: state
    ts, x_train, y_train, validation_data=(x_test, y_test), batch_size=batch_size, epochs=1
)  # kerax: state

noncudnn_model = build_model(allow_cudnn_kernel=False)
noncudnn_trainer = kerax.Trainer(  # kerax: state
    noncudnn_model,  # kerax: state
    loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer="sgd",
    metrics=["accuracy"],
)
noncudnn_ts = noncudnn_trainer.init(key)  # kerax: state
noncudnn_params, noncudnn_state = noncudnn_model.set_weights(  # kerax: state
    noncudnn_ts.params, model.get_weights(ts.params, ts.state), noncudnn_ts.state
)  # kerax: state
noncudnn_ts = noncudnn_ts._replace(params=noncudnn_params, state=noncudnn_state)  # kerax: state
noncudnn_ts, noncudnn_history = noncudnn_trainer.fit(  # kerax: state
    noncudnn_ts, x_train, y_train, validation_data=(x_test, y_test), batch_size=batch_size, epochs=1
)  # kerax: state

import matplotlib.pyplot as plt

with jax.default_device(jax.devices("cpu")[0]):  # kerax: no TensorFlow (JAX's placement)
    cpu_model = build_model(allow_cudnn_kernel=True)
    cpu_params, cpu_state = cpu_model.set_weights(  # kerax: state (ts: a template of the same shapes)
        ts.params, model.get_weights(ts.params, ts.state), ts.state
    )  # kerax: state
    logits, _ = cpu_model.apply(cpu_params, cpu_state, ops.expand_dims(sample, 0))  # kerax: state
    result = ops.argmax(logits, axis=1)  # kerax: state
    print(
        "Predicted result is: %s, target result is: %s" % (np.asarray(result), sample_label)
    )  # kerax: a JAX array has no .numpy()
    plt.imshow(sample, cmap=plt.get_cmap("gray"))

# RNNs with list/dict inputs, or nested inputs

# Define a custom cell that supports nested input/output


class NestedCell(kerax.layers.Layer):
    def __init__(self, unit_1, unit_2, unit_3, **kwargs):
        self.unit_1 = unit_1
        self.unit_2 = unit_2
        self.unit_3 = unit_3
        self.state_size = [(unit_1,), (unit_2, unit_3)]  # kerax: no TensorFlow (tf.TensorShape)
        self.output_size = [(unit_1,), (unit_2, unit_3)]  # kerax: no TensorFlow (tf.TensorShape)
        super(NestedCell, self).__init__(**kwargs)

    def build(self, input_shapes):
        # expect input_shape to contain 2 items, [(batch, i1), (batch, i2, i3)]
        i1 = input_shapes[0][1]
        i2 = input_shapes[1][1]
        i3 = input_shapes[1][2]

        self.kernel_1 = self.add_weight(
            shape=(i1, self.unit_1), initializer="uniform", name="kernel_1"
        )
        self.kernel_2_3 = self.add_weight(
            shape=(i2, i3, self.unit_2, self.unit_3),
            initializer="uniform",
            name="kernel_2_3",
        )

    def call(self, inputs, states):
        # inputs should be in [(batch, input_1), (batch, input_2, input_3)]
        # state should be in shape [(batch, unit_1), (batch, unit_2, unit_3)]
        input_1, input_2 = jax.tree.leaves(inputs)  # kerax: no TensorFlow (tf.nest.flatten)
        s1, s2 = states

        output_1 = ops.matmul(input_1, self.kernel_1)  # kerax: no TensorFlow
        output_2_3 = ops.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)  # kerax: no TensorFlow
        state_1 = s1 + output_1
        state_2_3 = s2 + output_2_3

        output = (output_1, output_2_3)
        new_states = (state_1, state_2_3)

        return output, new_states

    def get_config(self):
        return {"unit_1": self.unit_1, "unit_2": unit_2, "unit_3": self.unit_3}


# Build a RNN model with nested input/output

unit_1 = 10
unit_2 = 20
unit_3 = 30

i1 = 32
i2 = 64
i3 = 32
batch_size = 64
num_batches = 2  # kerax: data (10 in the guide)
timestep = 5  # kerax: data (50 in the guide)

cell = NestedCell(unit_1, unit_2, unit_3)
rnn = kerax.layers.RNN(cell)

input_1 = kerax.Input((None, i1))
input_2 = kerax.Input((None, i2, i3))

outputs = rnn((input_1, input_2))

model = kerax.models.Model([input_1, input_2], outputs)

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer="adam",
    loss="mse",
    metrics=["accuracy", "accuracy"],  # kerax: Keras 3 wants one entry per output
)
ts = trainer.init(key)  # kerax: state

# Train the model with randomly generated data

input_1_data = np.random.random((batch_size * num_batches, timestep, i1))
input_2_data = np.random.random((batch_size * num_batches, timestep, i2, i3))
target_1_data = np.random.random((batch_size * num_batches, unit_1))
target_2_data = np.random.random((batch_size * num_batches, unit_2, unit_3))
input_data = [input_1_data, input_2_data]
target_data = [target_1_data, target_2_data]

ts, history = trainer.fit(ts, input_data, target_data, batch_size=batch_size)  # kerax: state
# fmt: on
