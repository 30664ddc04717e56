# ruff: noqa: E402, I001 - the guide sets KERAS_BACKEND first and imports where it uses.
"""Port of the keras-io guide "Introduction to Keras for engineers"
(fchollet; Apache 2.0).

Source: keras-team/keras-io, guides/intro_to_keras_for_engineers.py at
commit 1806537c4333fbff1f9fd038b78179beeda480fb (the Keras 3 version). The
guide's code runs here with `keras` replaced by `kerax`; lines marked
`# kerax: state` make the state explicit: `model.compile(...)` is
`kerax.Trainer(model, ...)`, `fit` takes and returns the train state,
`model.save` takes it (with the trainer: Keras's file holds the compiled
model) and loading returns `(trainer, train_state)`. `# kerax: data`
replaces the MNIST download with random arrays of the same shapes and
dtypes (96 training and 32 test samples, one epoch instead of 20, to run in
seconds); `# kerax: <reason>` marks any other change: the guide's
`MyDropout` drops at inference too (Keras draws from its seed variable in
`evaluate` and `predict`), while kerax's inference takes no PRNG key, so it
drops in training only. The PyTorch `DataLoader` section is left out:
torch is not installed here (kerax's `Trainer` reads `torch.utils.data`
loaders where it is). The prose is left out; section titles are kept as
comments.
"""

# Setup

import numpy as np
import os

os.environ["KERAS_BACKEND"] = "jax"

# Note that Keras should only be imported after the backend
# has been configured. The backend cannot be changed once the
# package is imported.
import kerax

# A first example: A MNIST convnet

# Load the data and split it between train and test sets
rng = np.random.default_rng(0)  # kerax: data
x_train = rng.integers(0, 256, (96, 28, 28)).astype("uint8")  # kerax: data
y_train = rng.integers(0, 10, (96,)).astype("uint8")  # kerax: data
x_test = rng.integers(0, 256, (32, 28, 28)).astype("uint8")  # kerax: data
y_test = rng.integers(0, 10, (32,)).astype("uint8")  # kerax: data

# Scale images to the [0, 1] range
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
# Make sure images have shape (28, 28, 1)
x_train = np.expand_dims(x_train, -1)
x_test = np.expand_dims(x_test, -1)
print("x_train shape:", x_train.shape)
print("y_train shape:", y_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")

# Model parameters
num_classes = 10
input_shape = (28, 28, 1)

model = kerax.Sequential(
    [
        kerax.layers.Input(shape=input_shape),
        kerax.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        kerax.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        kerax.layers.MaxPooling2D(pool_size=(2, 2)),
        kerax.layers.Conv2D(128, kernel_size=(3, 3), activation="relu"),
        kerax.layers.Conv2D(128, kernel_size=(3, 3), activation="relu"),
        kerax.layers.GlobalAveragePooling2D(),
        kerax.layers.Dropout(0.5),
        kerax.layers.Dense(num_classes, activation="softmax"),
    ]
)

model.summary()

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    loss=kerax.losses.SparseCategoricalCrossentropy(),
    optimizer=kerax.optimizers.Adam(learning_rate=1e-3),
    metrics=[
        kerax.metrics.SparseCategoricalAccuracy(name="acc"),
    ],
)

batch_size = 128
epochs = 1  # kerax: data

callbacks = [
    kerax.callbacks.ModelCheckpoint(filepath="model_at_epoch_{epoch}.keras"),
    kerax.callbacks.EarlyStopping(monitor="val_loss", patience=2),
]

ts, history = trainer.fit(  # kerax: state
    trainer.init(),  # kerax: state
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    validation_split=0.15,
    callbacks=callbacks,
)
score = trainer.evaluate(ts, x_test, y_test, verbose=0)  # kerax: state

model.save(  # kerax: state
    "final_model.keras", ts.params, ts.state, train_state=ts, trainer=trainer
)  # kerax: state

trainer, ts = kerax.saving.load_trainer("final_model.keras")  # kerax: state

predictions = trainer.predict(ts, x_test)  # kerax: state

# Writing cross-framework custom components


class MyDense(kerax.layers.Layer):
    def __init__(self, units, activation=None, name=None):
        super().__init__(name=name)
        self.units = units
        self.activation = kerax.activations.get(activation)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.w = self.add_weight(
            shape=(input_dim, self.units),
            initializer=kerax.initializers.GlorotNormal(),
            name="kernel",
            trainable=True,
        )

        self.b = self.add_weight(
            shape=(self.units,),
            initializer=kerax.initializers.Zeros(),
            name="bias",
            trainable=True,
        )

    def call(self, inputs):
        # Use Keras ops to create backend-agnostic layers/metrics/etc.
        x = kerax.ops.matmul(inputs, self.w) + self.b
        return self.activation(x)


class MyDropout(kerax.layers.Layer):
    def __init__(self, rate, name=None):
        super().__init__(name=name)
        self.rate = rate
        # Use seed_generator for managing RNG state.
        # It is a state element and its seed variable is
        # tracked as part of `layer.variables`.
        self.seed_generator = kerax.random.SeedGenerator(1337)

    def call(self, inputs, training=False):  # kerax: inference has no key
        if not training:  # kerax: inference has no key (Keras drops here too)
            return inputs  # kerax: inference has no key
        # Use `keras.random` for random ops.
        return kerax.random.dropout(inputs, self.rate, seed=self.seed_generator)


class MyModel(kerax.Model):
    def __init__(self, num_classes):
        super().__init__()
        self.conv_base = kerax.Sequential(
            [
                kerax.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
                kerax.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
                kerax.layers.MaxPooling2D(pool_size=(2, 2)),
                kerax.layers.Conv2D(128, kernel_size=(3, 3), activation="relu"),
                kerax.layers.Conv2D(128, kernel_size=(3, 3), activation="relu"),
                kerax.layers.GlobalAveragePooling2D(),
            ]
        )
        self.dp = MyDropout(0.5)
        self.dense = MyDense(num_classes, activation="softmax")

    def call(self, x):
        x = self.conv_base(x)
        x = self.dp(x)
        return self.dense(x)


model = MyModel(num_classes=10)
trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    loss=kerax.losses.SparseCategoricalCrossentropy(),
    optimizer=kerax.optimizers.Adam(learning_rate=1e-3),
    metrics=[
        kerax.metrics.SparseCategoricalAccuracy(name="acc"),
    ],
)

ts, history = trainer.fit(  # kerax: state
    None,  # kerax: state (built from the first batch)
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=1,  # For speed
    validation_split=0.15,
)

# Training models on arbitrary data sources

# kerax: torch is not installed here: the PyTorch DataLoader section is left out.

import tensorflow as tf

train_dataset = (
    tf.data.Dataset.from_tensor_slices((x_train, y_train))
    .batch(batch_size)
    .prefetch(tf.data.AUTOTUNE)
)
test_dataset = (
    tf.data.Dataset.from_tensor_slices((x_test, y_test))
    .batch(batch_size)
    .prefetch(tf.data.AUTOTUNE)
)

model = MyModel(num_classes=10)
trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    loss=kerax.losses.SparseCategoricalCrossentropy(),
    optimizer=kerax.optimizers.Adam(learning_rate=1e-3),
    metrics=[
        kerax.metrics.SparseCategoricalAccuracy(name="acc"),
    ],
)
ts, history = trainer.fit(  # kerax: state
    None, train_dataset, epochs=1, validation_data=test_dataset
)  # kerax: state
