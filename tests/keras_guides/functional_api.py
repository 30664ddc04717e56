# ruff: noqa: B018, I001 - the guide's own expressions and import order, kept as written.
"""Port of the keras-io guide "The Functional API" (fchollet; Apache 2.0).

Source: keras-team/keras-io, guides/keras_core/functional_api.py at commit
855e37d4f5562751e6694cdadf93b2b7a72c935f. The guide's code runs here with
`keras` replaced by `kerax`; lines marked `# kerax: state` make the state
explicit (params, state, TrainState, keys); lines marked `# kerax: data`
replace downloads with small random arrays of the same shapes (and fewer
samples, to run in seconds); `# kerax: <reason>` marks any other change.
The prose of the guide is left out; section titles are kept as comments.
"""

import jax  # kerax: state

# Setup

import numpy as np
import kerax
from kerax import layers
from kerax import ops

key = jax.random.key(0)  # kerax: state

# Introduction

inputs = kerax.Input(shape=(784,))

# Just for demonstration purposes.
img_inputs = kerax.Input(shape=(32, 32, 3))

inputs.shape

inputs.dtype

dense = layers.Dense(64, activation="relu")
x = dense(inputs)

x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10)(x)

model = kerax.Model(inputs=inputs, outputs=outputs, name="mnist_model")

model.summary()

kerax.utils.plot_model(model, "my_first_model.png")

kerax.utils.plot_model(model, "my_first_model_with_shape_info.png", show_shapes=True)

# Training, evaluation, and inference

rng = np.random.default_rng(0)  # kerax: data
x_train = rng.integers(0, 256, (600, 28, 28)).astype("uint8")  # kerax: data
y_train = rng.integers(0, 10, (600,)).astype("uint8")  # kerax: data
x_test = rng.integers(0, 256, (100, 28, 28)).astype("uint8")  # kerax: data
y_test = rng.integers(0, 10, (100,)).astype("uint8")  # kerax: data

x_train = x_train.reshape(600, 784).astype("float32") / 255  # kerax: data
x_test = x_test.reshape(100, 784).astype("float32") / 255  # kerax: data

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=kerax.optimizers.RMSprop(),
    metrics=["accuracy"],
)
ts = trainer.init(key)  # kerax: state

ts, history = trainer.fit(
    ts, x_train, y_train, batch_size=64, epochs=2, validation_split=0.2
)  # kerax: state

test_scores = trainer.evaluate(ts, x_test, y_test, verbose=2)  # kerax: state
print("Test loss:", test_scores[0])
print("Test accuracy:", test_scores[1])

# Save and serialize

model.save("my_model.keras", ts.params, ts.state)  # kerax: state
del model
# Recreate the exact same model purely from the file:
model, params, state = kerax.load_model("my_model.keras")  # kerax: state

# Use the same graph of layers to define multiple models

encoder_input = kerax.Input(shape=(28, 28, 1), name="img")
x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.MaxPooling2D(3)(x)
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.Conv2D(16, 3, activation="relu")(x)
encoder_output = layers.GlobalMaxPooling2D()(x)

encoder = kerax.Model(encoder_input, encoder_output, name="encoder")
encoder.summary()

x = layers.Reshape((4, 4, 1))(encoder_output)
x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
x = layers.UpSampling2D(3)(x)
x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)

autoencoder = kerax.Model(encoder_input, decoder_output, name="autoencoder")
autoencoder.summary()

# All models are callable, just like layers

encoder_input = kerax.Input(shape=(28, 28, 1), name="original_img")
x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.MaxPooling2D(3)(x)
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.Conv2D(16, 3, activation="relu")(x)
encoder_output = layers.GlobalMaxPooling2D()(x)

encoder = kerax.Model(encoder_input, encoder_output, name="encoder")
encoder.summary()

decoder_input = kerax.Input(shape=(16,), name="encoded_img")
x = layers.Reshape((4, 4, 1))(decoder_input)
x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
x = layers.UpSampling2D(3)(x)
x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)

decoder = kerax.Model(decoder_input, decoder_output, name="decoder")
decoder.summary()

autoencoder_input = kerax.Input(shape=(28, 28, 1), name="img")
encoded_img = encoder(autoencoder_input)
decoded_img = decoder(encoded_img)
autoencoder = kerax.Model(autoencoder_input, decoded_img, name="autoencoder")
autoencoder.summary()


def get_model():
    inputs = kerax.Input(shape=(128,))
    outputs = layers.Dense(1)(inputs)
    return kerax.Model(inputs, outputs)


model1 = get_model()
model2 = get_model()
model3 = get_model()

inputs = kerax.Input(shape=(128,))
y1 = model1(inputs)
y2 = model2(inputs)
y3 = model3(inputs)
outputs = layers.average([y1, y2, y3])
ensemble_model = kerax.Model(inputs=inputs, outputs=outputs)

# Manipulate complex graph topologies
# Models with multiple inputs and outputs

num_tags = 12  # Number of unique issue tags
num_words = 10000  # Size of vocabulary obtained when preprocessing text data
num_departments = 4  # Number of departments for predictions

title_input = kerax.Input(
    shape=(None,), name="title"
)  # Variable-length sequence of ints
body_input = kerax.Input(shape=(None,), name="body")  # Variable-length sequence of ints
tags_input = kerax.Input(
    shape=(num_tags,), name="tags"
)  # Binary vectors of size `num_tags`

# Embed each word in the title into a 64-dimensional vector
title_features = layers.Embedding(num_words, 64)(title_input)
# Embed each word in the text into a 64-dimensional vector
body_features = layers.Embedding(num_words, 64)(body_input)

# Reduce sequence of embedded words in the title into a single 128-dimensional vector
title_features = layers.LSTM(128)(title_features)
# Reduce sequence of embedded words in the body into a single 32-dimensional vector
body_features = layers.LSTM(32)(body_features)

# Merge all available features into a single large vector via concatenation
x = layers.concatenate([title_features, body_features, tags_input])

# Stick a logistic regression for priority prediction on top of the features
priority_pred = layers.Dense(1, name="priority")(x)
# Stick a department classifier on top of the features
department_pred = layers.Dense(num_departments, name="department")(x)

# Instantiate an end-to-end model predicting both priority and department
model = kerax.Model(
    inputs=[title_input, body_input, tags_input],
    outputs={"priority": priority_pred, "department": department_pred},
)

kerax.utils.plot_model(model, "multi_input_and_output_model.png", show_shapes=True)

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(1e-3),
    loss=[
        kerax.losses.BinaryCrossentropy(from_logits=True),
        kerax.losses.CategoricalCrossentropy(from_logits=True),
    ],
    loss_weights=[1.0, 0.2],
)

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(1e-3),
    loss={
        "priority": kerax.losses.BinaryCrossentropy(from_logits=True),
        "department": kerax.losses.CategoricalCrossentropy(from_logits=True),
    },
    loss_weights={"priority": 1.0, "department": 0.2},
)
ts = trainer.init(key)  # kerax: state

# Dummy input data
title_data = np.random.randint(num_words, size=(128, 10))  # kerax: data
body_data = np.random.randint(num_words, size=(128, 20))  # kerax: data
tags_data = np.random.randint(2, size=(128, num_tags)).astype("float32")  # kerax: data

# Dummy target data
priority_targets = np.random.random(size=(128, 1))  # kerax: data
dept_targets = np.random.randint(2, size=(128, num_departments))  # kerax: data

ts, history = trainer.fit(  # kerax: state
    ts,  # kerax: state
    {"title": title_data, "body": body_data, "tags": tags_data},
    {"priority": priority_targets, "department": dept_targets},
    epochs=2,
    batch_size=32,
)

# A toy ResNet model

inputs = kerax.Input(shape=(32, 32, 3), name="img")
x = layers.Conv2D(32, 3, activation="relu")(inputs)
x = layers.Conv2D(64, 3, activation="relu")(x)
block_1_output = layers.MaxPooling2D(3)(x)

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_2_output = layers.add([x, block_1_output])

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_3_output = layers.add([x, block_2_output])

x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(256, activation="relu")(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(10)(x)

model = kerax.Model(inputs, outputs, name="toy_resnet")
model.summary()

kerax.utils.plot_model(model, "mini_resnet.png", show_shapes=True)

x_train = rng.integers(0, 256, (80, 32, 32, 3)).astype("uint8")  # kerax: data
y_train = rng.integers(0, 10, (80, 1)).astype("uint8")  # kerax: data
x_test = rng.integers(0, 256, (20, 32, 32, 3)).astype("uint8")  # kerax: data
y_test = rng.integers(0, 10, (20, 1)).astype("uint8")  # kerax: data

x_train = x_train.astype("float32") / 255.0
x_test = x_test.astype("float32") / 255.0
y_train = kerax.utils.to_categorical(y_train, 10)
y_test = kerax.utils.to_categorical(y_test, 10)

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(1e-3),
    loss=kerax.losses.CategoricalCrossentropy(from_logits=True),
    metrics=["acc"],
)
ts = trainer.init(key)  # kerax: state
# We restrict the data to the first 1000 samples so as to limit execution time
# on Colab. Try to train on the entire dataset until convergence!
ts, history = trainer.fit(  # kerax: state
    ts,  # kerax: state
    x_train[:1000],
    y_train[:1000],
    batch_size=64,
    epochs=1,
    validation_split=0.2,
)

# Shared layers

# Embedding for 1000 unique words mapped to 128-dimensional vectors
shared_embedding = layers.Embedding(1000, 128)

# Variable-length sequence of integers
text_input_a = kerax.Input(shape=(None,), dtype="int32")

# Variable-length sequence of integers
text_input_b = kerax.Input(shape=(None,), dtype="int32")

# Reuse the same layer to encode both inputs
encoded_input_a = shared_embedding(text_input_a)
encoded_input_b = shared_embedding(text_input_b)

# Extract and reuse nodes in the graph of layers


def VGG19():  # kerax: a small functional stand-in for keras.applications.VGG19
    x = img_input = kerax.Input((224, 224, 3))  # kerax: stand-in
    x = layers.Conv2D(4, 3, strides=4, activation="relu")(x)  # kerax: stand-in
    x = layers.Flatten()(layers.MaxPooling2D(4)(x))  # kerax: stand-in
    return kerax.Model(img_input, layers.Dense(10)(x))  # kerax: stand-in


vgg19 = VGG19()  # kerax: stand-in

features_list = [layer.output for layer in vgg19.layers]

feat_extraction_model = kerax.Model(inputs=vgg19.input, outputs=features_list)

img = np.random.random((1, 224, 224, 3)).astype("float32")
params, state = feat_extraction_model.init(key)  # kerax: state
extracted_features, _ = feat_extraction_model.apply(params, state, img)  # kerax: state

# Extend the API using custom layers


class CustomDense(layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, key, spec):  # kerax: state
        w_key, b_key = jax.random.split(key)  # kerax: state
        initializer = kerax.initializers.get("random_normal")  # kerax: state
        w = initializer(w_key, (spec.shape[-1], self.units))  # kerax: state
        b = initializer(b_key, (self.units,))  # kerax: state
        return {"w": w, "b": b}, {}  # kerax: state

    def call(self, params, state, inputs, *, key, training):  # kerax: state
        return ops.matmul(inputs, params["w"]) + params["b"], state  # kerax: state


inputs = kerax.Input((4,))
outputs = CustomDense(10)(inputs)

model = kerax.Model(inputs, outputs)


class CustomDense(layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, key, spec):  # kerax: state
        w_key, b_key = jax.random.split(key)  # kerax: state
        initializer = kerax.initializers.get("random_normal")  # kerax: state
        w = initializer(w_key, (spec.shape[-1], self.units))  # kerax: state
        b = initializer(b_key, (self.units,))  # kerax: state
        return {"w": w, "b": b}, {}  # kerax: state

    def call(self, params, state, inputs, *, key, training):  # kerax: state
        return ops.matmul(inputs, params["w"]) + params["b"], state  # kerax: state

    def get_config(self):
        return {"units": self.units}


inputs = kerax.Input((4,))
outputs = CustomDense(10)(inputs)

model = kerax.Model(inputs, outputs)
config = model.get_config()

new_model = kerax.Model.from_config(config, custom_objects={"CustomDense": CustomDense})

# Mix-and-match API styles

units = 32
timesteps = 10
input_dim = 5

# Define a Functional model
inputs = kerax.Input((None, units))
x = layers.GlobalAveragePooling1D()(inputs)
outputs = layers.Dense(1)(x)
model = kerax.Model(inputs, outputs)


class CustomRNN(layers.Layer):
    def __init__(self):
        super().__init__()
        self.units = units
        self.projection_1 = layers.Dense(units=units, activation="tanh")
        self.projection_2 = layers.Dense(units=units, activation="tanh")
        # Our previously-defined Functional model
        self.classifier = model

    def call(self, params, state, inputs, *, key, training):  # kerax: state
        outputs = []
        state_h = ops.zeros(
            shape=(inputs.shape[0], self.units)
        )  # kerax: `state` is the layer state
        for t in range(inputs.shape[1]):
            x = inputs[:, t, :]
            h = self.projection_1(x)
            y = h + self.projection_2(state_h)  # kerax: `state` is the layer state
            state_h = y  # kerax: `state` is the layer state
            outputs.append(y)
        features = ops.stack(outputs, axis=1)
        print(features.shape)
        return self.classifier(features), state  # kerax: state


rnn_model = CustomRNN()
rnn_params, rnn_state = rnn_model.init(
    key, kerax.spec((1, timesteps, input_dim))
)  # kerax: state
_ = rnn_model.apply(
    rnn_params, rnn_state, ops.zeros((1, timesteps, input_dim))
)  # kerax: state

units = 32
timesteps = 10
input_dim = 5
batch_size = 16


class CustomRNN(layers.Layer):
    def __init__(self):
        super().__init__()
        self.units = units
        self.projection_1 = layers.Dense(units=units, activation="tanh")
        self.projection_2 = layers.Dense(units=units, activation="tanh")
        self.classifier = layers.Dense(1)

    def call(self, params, state, inputs, *, key, training):  # kerax: state
        outputs = []
        state_h = ops.zeros(
            shape=(inputs.shape[0], self.units)
        )  # kerax: `state` is the layer state
        for t in range(inputs.shape[1]):
            x = inputs[:, t, :]
            h = self.projection_1(x)
            y = h + self.projection_2(state_h)  # kerax: `state` is the layer state
            state_h = y  # kerax: `state` is the layer state
            outputs.append(y)
        features = ops.stack(outputs, axis=1)
        return self.classifier(features), state  # kerax: state


# Note that you specify a static batch size for the inputs with the `batch_shape`
# arg, because the inner computation of `CustomRNN` requires a static batch size
# (when you create the `state` zeros tensor).
inputs = kerax.Input(batch_shape=(batch_size, timesteps, input_dim))
x = layers.Conv1D(32, 3)(inputs)
outputs = CustomRNN()(x)

model = kerax.Model(inputs, outputs)

rnn_model = CustomRNN()
rnn_params, rnn_state = rnn_model.init(key, kerax.spec((1, 10, 5)))  # kerax: state
_ = rnn_model.apply(rnn_params, rnn_state, ops.zeros((1, 10, 5)))  # kerax: state
