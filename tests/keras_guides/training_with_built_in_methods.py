# ruff: noqa: B018, F811, I001 - the guide's own expressions, redefinitions and import order.
"""Port of the keras-io guide "Training & evaluation with the built-in methods"
(fchollet; Apache 2.0).

Source: keras-team/keras-io, guides/keras_core/training_with_built_in_methods.py
at commit 855e37d4f5562751e6694cdadf93b2b7a72c935f. The guide's code runs
here with `keras` replaced by `kerax`; lines marked `# kerax: state` make the
state explicit: `model.compile(...)` is `kerax.Trainer(model, ...)` and
`fit` takes and returns the train state. `# kerax: data` replaces the MNIST
download with small random arrays of the same shapes (fewer samples and
steps, to run in seconds); `# kerax: <reason>` marks any other change. The
PyTorch `DataLoader` section is left out: PyTorch is not a kerax
dependency (kerax's `Trainer` reads `torch.utils.data` loaders where torch
is installed). The custom metric `CategoricalTruePositives` is the guide's
own Keras-style class (`add_variable`, `update_state`, `result`,
`reset_state`), unchanged: kerax adapts it to its pure metric contract. The
prose is left out; section titles are kept as comments.
"""

# Setup

# We import torch & TF so as to use torch Dataloaders & tf.data.Datasets.
import tensorflow as tf

import os
import numpy as np
import kerax
from kerax import layers
from kerax import ops

# API overview: a first end-to-end example

inputs = kerax.Input(shape=(784,), name="digits")
x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
x = layers.Dense(64, activation="relu", name="dense_2")(x)
outputs = layers.Dense(10, activation="softmax", name="predictions")(x)

model = kerax.Model(inputs=inputs, outputs=outputs)

rng = np.random.default_rng(0)  # kerax: data
x_train = rng.integers(0, 256, (1200, 28, 28)).astype("uint8")  # kerax: data
y_train = rng.integers(0, 10, (1200,)).astype("uint8")  # kerax: data
x_test = rng.integers(0, 256, (200, 28, 28)).astype("uint8")  # kerax: data
y_test = rng.integers(0, 10, (200,)).astype("uint8")  # kerax: data

# Preprocess the data (these are NumPy arrays)
x_train = x_train.reshape(1200, 784).astype("float32") / 255  # kerax: data
x_test = x_test.reshape(200, 784).astype("float32") / 255  # kerax: data

y_train = y_train.astype("float32")
y_test = y_test.astype("float32")

# Reserve 10,000 samples for validation
x_val = x_train[-200:]  # kerax: data
y_val = y_train[-200:]  # kerax: data
x_train = x_train[:-200]  # kerax: data
y_train = y_train[:-200]  # kerax: data

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(),  # Optimizer
    # Loss function to minimize
    loss=kerax.losses.SparseCategoricalCrossentropy(),
    # List of metrics to monitor
    metrics=[kerax.metrics.SparseCategoricalAccuracy()],
)
ts = trainer.init()  # kerax: state

print("Fit model on training data")
ts, history = trainer.fit(  # kerax: state
    ts,  # kerax: state
    x_train,
    y_train,
    batch_size=64,
    epochs=2,
    # We pass some validation for
    # monitoring validation loss and metrics
    # at the end of each epoch
    validation_data=(x_val, y_val),
)

history.history

# Evaluate the model on the test data using `evaluate`
print("Evaluate on test data")
results = trainer.evaluate(ts, x_test, y_test, batch_size=128)  # kerax: state
print("test loss, test acc:", results)

# Generate predictions (probabilities -- the output of the last layer)
# on new data using `predict`
print("Generate predictions for 3 samples")
predictions = trainer.predict(ts, x_test[:3])  # kerax: state
print("predictions shape:", predictions.shape)

# The `compile()` method: specifying a loss, metrics, and an optimizer

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(learning_rate=1e-3),
    loss=kerax.losses.SparseCategoricalCrossentropy(),
    metrics=[kerax.metrics.SparseCategoricalAccuracy()],
)

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer="rmsprop",
    loss="sparse_categorical_crossentropy",
    metrics=["sparse_categorical_accuracy"],
)


def get_uncompiled_model():
    inputs = kerax.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = kerax.Model(inputs=inputs, outputs=outputs)
    return model


def get_compiled_model():
    model = get_uncompiled_model()
    trainer = kerax.Trainer(  # kerax: state
        model,  # kerax: state
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return trainer  # kerax: state


# Custom losses


def custom_mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


model = get_uncompiled_model()
trainer = kerax.Trainer(  # kerax: state
    model, optimizer=kerax.optimizers.Adam(), loss=custom_mean_squared_error
)  # kerax: state

# We need to one-hot encode the labels to use MSE
y_train_one_hot = ops.one_hot(y_train, num_classes=10)
ts, _ = trainer.fit(  # kerax: state
    None, x_train, y_train_one_hot, batch_size=64, epochs=1
)  # kerax: state


class CustomMSE(kerax.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor


model = get_uncompiled_model()
trainer = kerax.Trainer(  # kerax: state
    model, optimizer=kerax.optimizers.Adam(), loss=CustomMSE()
)  # kerax: state

y_train_one_hot = ops.one_hot(y_train, num_classes=10)
ts, _ = trainer.fit(  # kerax: state
    None, x_train, y_train_one_hot, batch_size=64, epochs=1
)  # kerax: state


# Custom metrics


class CategoricalTruePositives(kerax.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(
            shape=(), name="ctp", initializer="zeros"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        # The state of the metric will be reset at the start of each epoch.
        self.true_positives.assign(0.0)


model = get_uncompiled_model()
trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(learning_rate=1e-3),
    loss=kerax.losses.SparseCategoricalCrossentropy(),
    metrics=[CategoricalTruePositives()],
)
ts, _ = trainer.fit(None, x_train, y_train, batch_size=64, epochs=3)  # kerax: state

# Handling losses and metrics that don't fit the standard signature


class ActivityRegularizationLayer(layers.Layer):
    def call(self, inputs):
        self.add_loss(ops.sum(inputs) * 0.1)
        return inputs  # Pass-through layer.


inputs = kerax.Input(shape=(784,), name="digits")
x = layers.Dense(64, activation="relu", name="dense_1")(inputs)

# Insert activity regularization as a layer
x = ActivityRegularizationLayer()(x)

x = layers.Dense(64, activation="relu", name="dense_2")(x)
outputs = layers.Dense(10, name="predictions")(x)

model = kerax.Model(inputs=inputs, outputs=outputs)
trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(learning_rate=1e-3),
    loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
)

# The displayed loss will be much higher than before
# due to the regularization component.
ts, _ = trainer.fit(None, x_train, y_train, batch_size=64, epochs=1)  # kerax: state


class LogisticEndpoint(kerax.layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = kerax.losses.BinaryCrossentropy(from_logits=True)

    def call(self, targets, logits, sample_weights=None):
        # Compute the training-time loss value and add it
        # to the layer using `self.add_loss()`.
        loss = self.loss_fn(targets, logits, sample_weights)
        self.add_loss(loss)

        # Return the inference-time prediction tensor (for `.predict()`).
        return ops.softmax(logits)


inputs = kerax.Input(shape=(3,), name="inputs")
targets = kerax.Input(shape=(10,), name="targets")
logits = kerax.layers.Dense(10)(inputs)
predictions = LogisticEndpoint(name="predictions")(targets, logits)

model = kerax.Model(inputs=[inputs, targets], outputs=predictions)
trainer = kerax.Trainer(model, optimizer="adam")  # kerax: state

data = {
    "inputs": np.random.random((3, 3)),
    "targets": np.random.random((3, 10)),
}
ts, _ = trainer.fit(None, data)  # kerax: state

trainer = get_compiled_model()  # kerax: state
ts, _ = trainer.fit(  # kerax: state
    None, x_train, y_train, batch_size=64, validation_split=0.2, epochs=1
)  # kerax: state

# Training & evaluation using `tf.data` Datasets

trainer = get_compiled_model()  # kerax: state

# First, let's create a training Dataset instance.
# For the sake of our example, we'll use the same MNIST data as before.
train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
# Shuffle and slice the dataset.
train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

# Now we get a test dataset.
test_dataset = tf.data.Dataset.from_tensor_slices((x_test, y_test))
test_dataset = test_dataset.batch(64)

# Since the dataset already takes care of batching,
# we don't pass a `batch_size` argument.
ts, _ = trainer.fit(None, train_dataset, epochs=3)  # kerax: state

# You can also evaluate or predict on a dataset.
print("Evaluate")
result = trainer.evaluate(ts, test_dataset)  # kerax: state
dict(zip(trainer.metrics_names, result))  # kerax: state

trainer = get_compiled_model()  # kerax: state

# Prepare the training dataset
train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

# Only use the 100 batches per epoch (that's 64 * 100 samples)
ts, _ = trainer.fit(None, train_dataset, epochs=3, steps_per_epoch=10)  # kerax: state

trainer = get_compiled_model()  # kerax: state

# Prepare the training dataset
train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

# Prepare the validation dataset
val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val))
val_dataset = val_dataset.batch(64)

ts, _ = trainer.fit(  # kerax: state
    None, train_dataset, epochs=1, validation_data=val_dataset
)  # kerax: state

trainer = get_compiled_model()  # kerax: state

# Prepare the training dataset
train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

# Prepare the validation dataset
val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val))
val_dataset = val_dataset.batch(64)

ts, _ = trainer.fit(  # kerax: state
    None,  # kerax: state
    train_dataset,
    epochs=1,
    # Only run validation using the first 10 batches of the dataset
    # using the `validation_steps` argument
    validation_data=val_dataset,
    validation_steps=2,  # kerax: data
)

# Training & evaluation using `PyDataset` instances


class ExamplePyDataset(kerax.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x = x
        self.y = y
        self.batch_size = batch_size

    def __len__(self):
        return int(np.ceil(len(self.x) / float(self.batch_size)))

    def __getitem__(self, idx):
        batch_x = self.x[idx * self.batch_size : (idx + 1) * self.batch_size]
        batch_y = self.y[idx * self.batch_size : (idx + 1) * self.batch_size]
        return batch_x, batch_y


train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32)
val_py_dataset = ExamplePyDataset(x_val, y_val, batch_size=32)

trainer = get_compiled_model()  # kerax: state
ts, _ = trainer.fit(  # kerax: state
    None, train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=1
)  # kerax: state

trainer.evaluate(ts, val_py_dataset)  # kerax: state

train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32, workers=4)
val_py_dataset = ExamplePyDataset(x_val, y_val, batch_size=32, workers=4)

trainer = get_compiled_model()  # kerax: state
ts, _ = trainer.fit(  # kerax: state
    None, train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=1
)  # kerax: state

# Using sample weighting and class weighting

class_weight = {
    0: 1.0,
    1: 1.0,
    2: 1.0,
    3: 1.0,
    4: 1.0,
    # Set weight "2" for class "5",
    # making this class 2x more important
    5: 2.0,
    6: 1.0,
    7: 1.0,
    8: 1.0,
    9: 1.0,
}

print("Fit with class weight")
trainer = get_compiled_model()  # kerax: state
ts, _ = trainer.fit(  # kerax: state
    None, x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1
)  # kerax: state

sample_weight = np.ones(shape=(len(y_train),))
sample_weight[y_train == 5] = 2.0

print("Fit with sample weight")
trainer = get_compiled_model()  # kerax: state
ts, _ = trainer.fit(  # kerax: state
    None, x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1
)  # kerax: state

sample_weight = np.ones(shape=(len(y_train),))
sample_weight[y_train == 5] = 2.0

# Create a Dataset that includes sample weights
# (3rd element in the return tuple).
train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train, sample_weight))

# Shuffle and slice the dataset.
train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

trainer = get_compiled_model()  # kerax: state
ts, _ = trainer.fit(None, train_dataset, epochs=1)  # kerax: state

# Passing data to multi-input, multi-output models

image_input = kerax.Input(shape=(32, 32, 3), name="img_input")
timeseries_input = kerax.Input(shape=(None, 10), name="ts_input")

x1 = layers.Conv2D(3, 3)(image_input)
x1 = layers.GlobalMaxPooling2D()(x1)

x2 = layers.Conv1D(3, 3)(timeseries_input)
x2 = layers.GlobalMaxPooling1D()(x2)

x = layers.concatenate([x1, x2])

score_output = layers.Dense(1, name="score_output")(x)
class_output = layers.Dense(5, name="class_output")(x)

model = kerax.Model(
    inputs=[image_input, timeseries_input], outputs=[score_output, class_output]
)

kerax.utils.plot_model(model, "multi_input_and_output_model.png", show_shapes=True)

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(1e-3),
    loss=[
        kerax.losses.MeanSquaredError(),
        kerax.losses.CategoricalCrossentropy(),
    ],
)

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(1e-3),
    loss=[
        kerax.losses.MeanSquaredError(),
        kerax.losses.CategoricalCrossentropy(),
    ],
    metrics=[
        [
            kerax.metrics.MeanAbsolutePercentageError(),
            kerax.metrics.MeanAbsoluteError(),
        ],
        [kerax.metrics.CategoricalAccuracy()],
    ],
)

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(1e-3),
    loss={
        "score_output": kerax.losses.MeanSquaredError(),
        "class_output": kerax.losses.CategoricalCrossentropy(),
    },
    metrics={
        "score_output": [
            kerax.metrics.MeanAbsolutePercentageError(),
            kerax.metrics.MeanAbsoluteError(),
        ],
        "class_output": [kerax.metrics.CategoricalAccuracy()],
    },
)

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(1e-3),
    loss={
        "score_output": kerax.losses.MeanSquaredError(),
        "class_output": kerax.losses.CategoricalCrossentropy(),
    },
    metrics={
        "score_output": [
            kerax.metrics.MeanAbsolutePercentageError(),
            kerax.metrics.MeanAbsoluteError(),
        ],
        "class_output": [kerax.metrics.CategoricalAccuracy()],
    },
    loss_weights={"score_output": 2.0, "class_output": 1.0},
)

# List loss version
trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(1e-3),
    loss=[None, kerax.losses.CategoricalCrossentropy()],
)

# Or dict loss version
trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(1e-3),
    loss={"class_output": kerax.losses.CategoricalCrossentropy()},
)

trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer=kerax.optimizers.RMSprop(1e-3),
    loss=[
        kerax.losses.MeanSquaredError(),
        kerax.losses.CategoricalCrossentropy(),
    ],
)

# Generate dummy NumPy data
img_data = np.random.random_sample(size=(100, 32, 32, 3))
ts_data = np.random.random_sample(size=(100, 20, 10))
score_targets = np.random.random_sample(size=(100, 1))
class_targets = np.random.random_sample(size=(100, 5))

# Fit on lists
ts, _ = trainer.fit(  # kerax: state
    None,  # kerax: state
    [img_data, ts_data],
    [score_targets, class_targets],
    batch_size=32,
    epochs=1,
)  # kerax: state

# Alternatively, fit on dicts
ts, _ = trainer.fit(  # kerax: state
    ts,  # kerax: state
    {"img_input": img_data, "ts_input": ts_data},
    {"score_output": score_targets, "class_output": class_targets},
    batch_size=32,
    epochs=1,
)

train_dataset = tf.data.Dataset.from_tensor_slices(
    (
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets},
    )
)
train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

ts, _ = trainer.fit(ts, train_dataset, epochs=1)  # kerax: state

# Using callbacks

trainer = get_compiled_model()  # kerax: state

callbacks = [
    kerax.callbacks.EarlyStopping(
        # Stop training when `val_loss` is no longer improving
        monitor="val_loss",
        # "no longer improving" being defined as "no better than 1e-2 less"
        min_delta=1e-2,
        # "no longer improving" being further defined as "for at least 2 epochs"
        patience=2,
        verbose=1,
    )
]
ts, history = trainer.fit(  # kerax: state
    None,  # kerax: state
    x_train,
    y_train,
    epochs=5,  # kerax: data
    batch_size=64,
    callbacks=callbacks,
    validation_split=0.2,
)


class LossHistory(kerax.callbacks.Callback):
    def on_train_begin(self, logs):
        self.per_batch_losses = []

    def on_batch_end(self, batch, logs):
        self.per_batch_losses.append(logs.get("loss"))


# Checkpointing models

trainer = get_compiled_model()  # kerax: state

callbacks = [
    kerax.callbacks.ModelCheckpoint(
        # Path where to save the model
        # The two parameters below mean that we will overwrite
        # the current checkpoint if and only if
        # the `val_loss` score has improved.
        # The saved model name will include the current epoch.
        filepath="mymodel_{epoch}.keras",
        save_best_only=True,  # Only save a model if `val_loss` has improved.
        monitor="val_loss",
        verbose=1,
    )
]
ts, _ = trainer.fit(  # kerax: state
    None,  # kerax: state
    x_train,
    y_train,
    epochs=2,
    batch_size=64,
    callbacks=callbacks,
    validation_split=0.2,
)

# Prepare a directory to store all the checkpoints.
checkpoint_dir = "./ckpt"
if not os.path.exists(checkpoint_dir):
    os.makedirs(checkpoint_dir)


def make_or_restore_model():
    # Either restore the latest model, or create a fresh one
    # if there is no checkpoint available.
    checkpoints = [checkpoint_dir + "/" + name for name in os.listdir(checkpoint_dir)]
    if checkpoints:
        latest_checkpoint = max(checkpoints, key=os.path.getctime)
        print("Restoring from", latest_checkpoint)
        return kerax.load_trainer(latest_checkpoint)  # kerax: state
    print("Creating a new model")
    return get_compiled_model(), None  # kerax: state


trainer, ts = make_or_restore_model()  # kerax: state
callbacks = [
    # This callback saves the model every 100 batches.
    # We include the training loss in the saved model name.
    kerax.callbacks.ModelCheckpoint(
        filepath=checkpoint_dir + "/model-loss={loss:.2f}.keras", save_freq=10
    )  # kerax: data
]
ts, _ = trainer.fit(ts, x_train, y_train, epochs=1, callbacks=callbacks)  # kerax: state

# Using learning rate schedules

initial_learning_rate = 0.1
lr_schedule = kerax.optimizers.schedules.ExponentialDecay(
    initial_learning_rate, decay_steps=100000, decay_rate=0.96, staircase=True
)

optimizer = kerax.optimizers.RMSprop(learning_rate=lr_schedule)

# Visualizing loss and metrics during training with TensorBoard

kerax.callbacks.TensorBoard(
    log_dir="/full_path_to_your_logs",
    histogram_freq=0,  # How often to log histogram visualizations
    embeddings_freq=0,  # How often to log embedding visualizations
    update_freq="epoch",
)  # How often to write logs (default: once per epoch)
