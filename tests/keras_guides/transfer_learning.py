# ruff: noqa: E712, F841, I001 - the guide's own comparisons, names and import order.
"""Port of the keras-io guide "Transfer learning & fine-tuning" (fchollet; Apache 2.0).

Source: keras-team/keras-io, guides/keras_core/transfer_learning.py at commit
aef7bae234634cb9131ac104ff5953be28000fb2 (the Keras 3 version, "Last
modified: 2023/06/25"; the index's guides/transfer_learning.py is the older
tf.keras one). The guide's code runs here with `keras` replaced by `kerax`;
lines marked `# kerax: state` make the state explicit (params, state,
TrainState, keys): Keras's `layer.weights` are the `params` and `state`
trees, its `trainable_weights` the params the layer's `trainable_mask`
keeps, `compile` is a `kerax.Trainer` and `fit` returns the new TrainState.
`layer.trainable = ...` runs as written: it sets the flag in place, on the
layer and its sublayers, and takes effect at the next `kerax.Trainer`
(Keras's next `compile`).
`# kerax: data` marks the small random images of different sizes that stand
in for TFDS's cats_vs_dogs (24/8/8 images, 32x32 after resizing instead of
150x150, batches of 8 instead of 64), Python lists in place of `tf.data`
pipelines, and the small stand-in for `keras.applications.Xception` (no
download: a few Conv2D/BatchNormalization blocks, its random init playing
the pre-trained weights); `# kerax: <reason>` marks any other change. The
prose is left out; section titles are kept as comments.
"""

import jax  # kerax: state

# Setup

import numpy as np
import kerax
from kerax import layers
import matplotlib.pyplot as plt

key = jax.random.key(0)  # kerax: state


def trainable_weights(layer, params):  # kerax: state: Keras's `layer.trainable_weights`
    masks = jax.tree.leaves(layer.trainable_mask(params))  # kerax: state
    return [w for w, m in zip(jax.tree.leaves(params), masks) if m]  # kerax: state


def non_trainable_weights(
    layer, params, state
):  # kerax: state: Keras's `layer.non_trainable_weights`
    masks = jax.tree.leaves(layer.trainable_mask(params))  # kerax: state
    frozen = [
        w for w, m in zip(jax.tree.leaves(params), masks) if not m
    ]  # kerax: state
    return frozen + jax.tree.leaves(state)  # kerax: state


# Freezing layers: understanding the `trainable` attribute

layer = kerax.layers.Dense(3)
params, state = layer.init(
    key, kerax.spec((None, 4))
)  # kerax: state (Create the weights)

print("weights:", len(jax.tree.leaves((params, state))))  # kerax: state
print("trainable_weights:", len(trainable_weights(layer, params)))  # kerax: state
print(
    "non_trainable_weights:", len(non_trainable_weights(layer, params, state))
)  # kerax: state

layer = kerax.layers.BatchNormalization()
params, state = layer.init(
    key, kerax.spec((None, 4))
)  # kerax: state (Create the weights)

print("weights:", len(jax.tree.leaves((params, state))))  # kerax: state
print("trainable_weights:", len(trainable_weights(layer, params)))  # kerax: state
print(
    "non_trainable_weights:", len(non_trainable_weights(layer, params, state))
)  # kerax: state

layer = kerax.layers.Dense(3)
params, state = layer.init(
    key, kerax.spec((None, 4))
)  # kerax: state (Create the weights)
layer.trainable = False  # Freeze the layer

print("weights:", len(jax.tree.leaves((params, state))))  # kerax: state
print("trainable_weights:", len(trainable_weights(layer, params)))  # kerax: state
print(
    "non_trainable_weights:", len(non_trainable_weights(layer, params, state))
)  # kerax: state

# Make a model with 2 layers
layer1 = kerax.layers.Dense(3, activation="relu")
layer2 = kerax.layers.Dense(3, activation="sigmoid")
model = kerax.Sequential([kerax.Input(shape=(3,)), layer1, layer2])
params, state = model.init(key)  # kerax: state

# Freeze the first layer
layer1.trainable = False

# Keep a copy of the weights of layer1 for later reference
initial_layer1_weights_values = model.get_weights(params)[:2]  # kerax: state

# Train the model
trainer = kerax.Trainer(model, optimizer="adam", loss="mse")  # kerax: state
ts = trainer.init(key)._replace(params=params, state=state)  # kerax: state
ts, history = trainer.fit(
    ts, np.random.random((2, 3)), np.random.random((2, 3))
)  # kerax: state

# Check that the weights of layer1 have not changed during training
final_layer1_weights_values = model.get_weights(ts.params)[:2]  # kerax: state
np.testing.assert_allclose(
    initial_layer1_weights_values[0], final_layer1_weights_values[0]
)
np.testing.assert_allclose(
    initial_layer1_weights_values[1], final_layer1_weights_values[1]
)

# Recursive setting of the `trainable` attribute

inner_model = kerax.Sequential(
    [
        kerax.Input(shape=(3,)),
        kerax.layers.Dense(3, activation="relu"),
        kerax.layers.Dense(3, activation="relu"),
    ]
)

model = kerax.Sequential(
    [
        kerax.Input(shape=(3,)),
        inner_model,
        kerax.layers.Dense(3, activation="sigmoid"),
    ]
)

model.trainable = False  # Freeze the outer model

assert inner_model.trainable == False  # All layers in `model` are now frozen
assert inner_model.layers[0].trainable == False  # `trainable` is propagated recursively

# The typical transfer-learning workflow

# Fine-tuning

# An end-to-end example: fine-tuning an image classification model on a cats vs. dogs dataset

# Getting the data

rng = np.random.default_rng(0)  # kerax: data


def cats_vs_dogs(n):  # kerax: data: n random images of different sizes, labels 0/1
    return [  # kerax: data
        (
            rng.integers(0, 256, (*rng.integers(24, 48, 2), 3)).astype("uint8"),
            rng.integers(0, 2),
        )  # kerax: data
        for _ in range(n)  # kerax: data
    ]  # kerax: data


train_ds, validation_ds, test_ds = (
    cats_vs_dogs(24),
    cats_vs_dogs(8),
    cats_vs_dogs(8),
)  # kerax: data

print(f"Number of training samples: {len(train_ds)}")  # kerax: data (lists: len)
print(f"Number of validation samples: {len(validation_ds)}")  # kerax: data
print(f"Number of test samples: {len(test_ds)}")  # kerax: data

plt.figure(figsize=(10, 10))
for i, (image, label) in enumerate(train_ds[:9]):  # kerax: data (take(9))
    ax = plt.subplot(3, 3, i + 1)
    plt.imshow(image)
    plt.title(int(label))
    plt.axis("off")

# Standardizing the data

resize_fn = kerax.layers.Resizing(32, 32)  # kerax: data (150x150 in the guide)


def resize(x):  # kerax: state: Keras's `resize_fn(x)` on an image
    return resize_fn.apply({}, {}, x)[0]  # kerax: state


train_ds = [(resize(x), y) for x, y in train_ds]  # kerax: data (a list: `map`)
validation_ds = [(resize(x), y) for x, y in validation_ds]  # kerax: data
test_ds = [(resize(x), y) for x, y in test_ds]  # kerax: data

# Using random data augmentation

augmentation_layers = [
    layers.RandomFlip("horizontal"),
    layers.RandomRotation(0.1),
]


def data_augmentation(x, key):  # kerax: state (the key the random layers draw from)
    for layer in augmentation_layers:
        key, layer_key = jax.random.split(key)  # kerax: state
        x, _ = layer.apply({}, {}, x, key=layer_key, training=True)  # kerax: state
    return x


train_ds = [  # kerax: data (a list: `map`)
    (data_augmentation(x, jax.random.fold_in(key, i)), y)  # kerax: state
    for i, (x, y) in enumerate(train_ds)  # kerax: data
]  # kerax: data

batch_size = 8  # kerax: data (64 in the guide)


def batch(ds):  # kerax: data: Keras's `ds.batch(batch_size)` over a list
    return [  # kerax: data
        (
            np.stack([x for x, _ in ds[i : i + batch_size]]),
            np.array([y for _, y in ds[i : i + batch_size]]),
        )  # kerax: data
        for i in range(0, len(ds), batch_size)  # kerax: data
    ]  # kerax: data


train_ds = batch(train_ds)  # kerax: data
validation_ds = batch(validation_ds)  # kerax: data
test_ds = batch(test_ds)  # kerax: data

for images, labels in train_ds[:1]:  # kerax: data (take(1))
    plt.figure(figsize=(10, 10))
    first_image = images[0]
    for i in range(9):
        ax = plt.subplot(3, 3, i + 1)
        augmented_image = data_augmentation(
            np.expand_dims(first_image, 0), jax.random.fold_in(key, i)
        )  # kerax: state
        plt.imshow(np.array(augmented_image[0]).astype("int32"))
        plt.title(int(labels[0]))
        plt.axis("off")

# Build a model


# kerax: data: a small stand-in for keras.applications.Xception (no download);
# its random init plays the pre-trained weights.
def Xception(weights, input_shape, include_top):  # kerax: data
    inputs = kerax.Input(input_shape)  # kerax: data
    x = layers.Conv2D(8, 3, strides=2, use_bias=False)(inputs)  # kerax: data
    x = layers.BatchNormalization()(x)  # kerax: data
    x = layers.Activation("relu")(x)  # kerax: data
    x = layers.SeparableConv2D(16, 3, padding="same", use_bias=False)(x)  # kerax: data
    x = layers.BatchNormalization()(x)  # kerax: data
    x = layers.Activation("relu")(x)  # kerax: data
    model = kerax.Model(inputs, x, name="xception")  # kerax: data
    return (model, *model.init(jax.random.key(1)))  # kerax: data


base_model, base_params, base_state = Xception(  # kerax: state (model, params, state)
    weights="imagenet",  # Load weights pre-trained on ImageNet.
    input_shape=(32, 32, 3),  # kerax: data (150x150 in the guide)
    include_top=False,
)  # Do not include the ImageNet classifier at the top.

# Freeze the base_model
base_model.trainable = False

# Create new model on top
inputs = kerax.Input(shape=(32, 32, 3))  # kerax: data (150x150 in the guide)

# Pre-trained Xception weights requires that input be scaled
# from (0, 255) to a range of (-1., +1.), the rescaling layer
# outputs: `(inputs * scale) + offset`
scale_layer = kerax.layers.Rescaling(scale=1 / 127.5, offset=-1)
x = scale_layer(inputs)

# The base model contains batchnorm layers. We want to keep them in inference mode
# when we unfreeze the base model for fine-tuning, so we make sure that the
# base_model is running in inference mode here.
x = base_model(x, training=False)
x = kerax.layers.GlobalAveragePooling2D()(x)
x = kerax.layers.Dropout(0.2)(x)  # Regularize with dropout
outputs = kerax.layers.Dense(1)(x)
model = kerax.Model(inputs, outputs)

model.summary(show_trainable=True)

# Train the top layer

trainer = kerax.Trainer(  # kerax: state (the guide's `model.compile(`)
    model,  # kerax: state
    optimizer=kerax.optimizers.Adam(),
    loss=kerax.losses.BinaryCrossentropy(from_logits=True),
    metrics=[kerax.metrics.BinaryAccuracy()],
)
ts = trainer.init(key)  # kerax: state
ts = ts._replace(  # kerax: state (the pre-trained base)
    params={**ts.params, "xception": base_params},  # kerax: state
    state={**ts.state, "xception": base_state},  # kerax: state
)  # kerax: state

epochs = 2
print("Fitting the top layer of the model")
ts, history = trainer.fit(
    ts, train_ds, epochs=epochs, validation_data=validation_ds
)  # kerax: state

# Do a round of fine-tuning of the entire model

# Unfreeze the base_model. Note that it keeps running in inference mode
# since we passed `training=False` when calling it. This means that
# the batchnorm layers will not update their batch statistics.
# This prevents the batchnorm layers from undoing all the training
# we've done so far.
base_model.trainable = True
model.summary(show_trainable=True)

trainer = kerax.Trainer(  # kerax: state (the guide's `model.compile(`)
    model,  # kerax: state
    optimizer=kerax.optimizers.Adam(1e-5),  # Low learning rate
    loss=kerax.losses.BinaryCrossentropy(from_logits=True),
    metrics=[kerax.metrics.BinaryAccuracy()],
)
ts = trainer.init(key)._replace(params=ts.params, state=ts.state)  # kerax: state

epochs = 1
print("Fitting the end-to-end model")
ts, history = trainer.fit(
    ts, train_ds, epochs=epochs, validation_data=validation_ds
)  # kerax: state

print("Test dataset evaluation")
trainer.evaluate(ts, test_ds)  # kerax: state
