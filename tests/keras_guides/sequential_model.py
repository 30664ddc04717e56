# ruff: noqa: B018, I001 - the guide's own expressions and import order, kept as written.
"""Port of the keras-io guide "The Sequential model" (fchollet; Apache 2.0).

Source: keras-team/keras-io, guides/keras_core/sequential_model.py at commit
855e37d4f5562751e6694cdadf93b2b7a72c935f (the Keras 3 version, "Last
modified: 2023/06/25"; the index's guides/sequential_model.py is the older
tf.keras one). The guide's code runs here with `keras` replaced by `kerax`;
lines marked `# kerax: state` make the state explicit (params, state,
TrainState, keys): calling a model on arrays is `params, state =
model.init(key, x)` then `y, state = model.apply(params, state, x)`, and
Keras's `model.weights` are the `params`; `model.add(layer)`,
`model.pop()` and `layer.trainable = False` run as the guide wrote them
(a Trainer is made after them, as Keras compiles after them); `# kerax: data` marks the
small stand-in for `keras.applications.Xception` (no download) and the
random data the transfer-learning blueprints train on; `# kerax: <reason>`
marks any other change. The two transfer-learning blueprints, code blocks
in the guide's prose, run here with their `...` filled in. The prose is
left out; section titles are kept as comments.
"""

import jax  # kerax: state
import numpy as np  # kerax: data

# Setup

import kerax
from kerax import layers
from kerax import ops

key = jax.random.key(0)  # kerax: state


# When to use a Sequential model

# Define Sequential model with 3 layers
model = kerax.Sequential(
    [
        layers.Dense(2, activation="relu", name="layer1"),
        layers.Dense(3, activation="relu", name="layer2"),
        layers.Dense(4, name="layer3"),
    ]
)
# Call model on a test input
x = ops.ones((3, 3))
params, state = model.init(key, x)  # kerax: state
y, state = model.apply(params, state, x)  # kerax: state

# Create 3 layers
layer1 = layers.Dense(2, activation="relu", name="layer1")
layer2 = layers.Dense(3, activation="relu", name="layer2")
layer3 = layers.Dense(4, name="layer3")

# Call layers on a test input
x = ops.ones((3, 3))
h1, _ = layer1.apply(params["layer1"], {}, x)  # kerax: state (the model's weights)
h2, _ = layer2.apply(params["layer2"], {}, h1)  # kerax: state
y, _ = layer3.apply(params["layer3"], {}, h2)  # kerax: state

# Creating a Sequential model

model = kerax.Sequential(
    [
        layers.Dense(2, activation="relu"),
        layers.Dense(3, activation="relu"),
        layers.Dense(4),
    ]
)

model.layers

model = kerax.Sequential()
model.add(layers.Dense(2, activation="relu"))
model.add(layers.Dense(3, activation="relu"))
model.add(layers.Dense(4))

model.pop()
print(len(model.layers))  # 2

model = kerax.Sequential(name="my_sequential")
model.add(layers.Dense(2, activation="relu", name="layer1"))
model.add(layers.Dense(3, activation="relu", name="layer2"))
model.add(layers.Dense(4, name="layer3"))

# Specifying the input shape in advance

layer = layers.Dense(3)
# kerax: a layer holds no weights (Keras's `layer.weights`): `init` makes them.

# Call layer on a test input
x = ops.ones((1, 4))
params, state = layer.init(key, x)  # kerax: state
y, state = layer.apply(params, state, x)  # kerax: state
params  # Now it has weights, of shape (4, 3) and (3,)  # kerax: state

model = kerax.Sequential(
    [
        layers.Dense(2, activation="relu"),
        layers.Dense(3, activation="relu"),
        layers.Dense(4),
    ]
)  # No weights at this stage!

# At this point, you can't do this:
# model.weights

# You also can't do this:
# model.summary()

# Call the model on a test input
x = ops.ones((1, 4))
params, state = model.init(key, x)  # kerax: state
y, state = model.apply(params, state, x)  # kerax: state
print(
    "Number of weights after calling the model:", len(jax.tree.leaves(params))
)  # 6  # kerax: state

model.summary(x)  # kerax: state (the input it was called on)

model = kerax.Sequential()
model.add(kerax.Input(shape=(4,)))
model.add(layers.Dense(2, activation="relu"))

model.summary()

model.layers

model = kerax.Sequential()
model.add(layers.Dense(2, activation="relu", input_shape=(4,)))

model.summary()

# A common debugging workflow: `add()` + `summary()`

model = kerax.Sequential()
model.add(kerax.Input(shape=(250, 250, 3)))  # 250x250 RGB images
model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(3))

# Can you guess what the current output shape is at this point? Probably not.
# Let's just print it:
model.summary()

# The answer was: (40, 40, 32), so we can keep downsampling...

model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(3))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(2))

# And now?
model.summary()

# Now that we have 4x4 feature maps, time to apply global max pooling.
model.add(layers.GlobalMaxPooling2D())

# Finally, we add a classification layer.
model.add(layers.Dense(10))

# What to do once you have a model

# Feature extraction with a Sequential model

initial_model = kerax.Sequential(
    [
        kerax.Input(shape=(250, 250, 3)),
        layers.Conv2D(32, 5, strides=2, activation="relu"),
        layers.Conv2D(32, 3, activation="relu"),
        layers.Conv2D(32, 3, activation="relu"),
    ]
)
feature_extractor = kerax.Model(
    inputs=initial_model.inputs,
    outputs=[layer.output for layer in initial_model.layers],
)

# Call feature extractor on test input.
x = ops.ones((1, 250, 250, 3))
params, state = feature_extractor.init(key)  # kerax: state
features, state = feature_extractor.apply(params, state, x)  # kerax: state

initial_model = kerax.Sequential(
    [
        kerax.Input(shape=(250, 250, 3)),
        layers.Conv2D(32, 5, strides=2, activation="relu"),
        layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
        layers.Conv2D(32, 3, activation="relu"),
    ]
)
feature_extractor = kerax.Model(
    inputs=initial_model.inputs,
    outputs=initial_model.get_layer(name="my_intermediate_layer").output,
)
# Call feature extractor on test input.
x = ops.ones((1, 250, 250, 3))
params, state = feature_extractor.init(key)  # kerax: state
features, state = feature_extractor.apply(params, state, x)  # kerax: state

# Transfer learning with a Sequential model

# The first blueprint (a code block in the guide's prose):
rng = np.random.default_rng(0)  # kerax: data
x_train = rng.normal(size=(64, 784)).astype("float32")  # kerax: data
y_train = rng.integers(0, 10, (64,))  # kerax: data

model = kerax.Sequential(
    [
        kerax.Input(shape=(784)),
        layers.Dense(32, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(10),
    ]
)

model.save_weights("pretrained.weights.h5", *model.init(key))  # kerax: data

# Presumably you would want to first load pre-trained weights.
params, state = model.load_weights("pretrained.weights.h5")  # kerax: state

# Freeze all layers except the last one.
for layer in model.layers[:-1]:
    layer.trainable = False

# Recompile and train (this will only update the weights of the last layer).
trainer = kerax.Trainer(  # kerax: state (the guide's `compile(...)`)
    model, "adam", kerax.losses.SparseCategoricalCrossentropy(from_logits=True)
)  # kerax: state
ts = trainer.init(key)._replace(params=params, state=state)  # kerax: state
ts, history = trainer.fit(ts, x_train, y_train, epochs=2, verbose=0)  # kerax: state

# The second blueprint:


# kerax: data: a small stand-in for keras.applications.Xception (no download).
def Xception(weights, include_top, pooling):  # kerax: data
    inputs = kerax.Input((32, 32, 3))  # kerax: data
    x = layers.Conv2D(8, 3, strides=2, use_bias=False)(inputs)  # kerax: data
    x = layers.BatchNormalization()(x)  # kerax: data
    x = layers.Activation("relu")(x)  # kerax: data
    x = layers.GlobalAveragePooling2D()(x)  # kerax: data (pooling="avg")
    return kerax.Model(inputs, x, name="xception")  # kerax: data


x_train = rng.normal(size=(32, 32, 32, 3)).astype("float32")  # kerax: data
y_train = rng.integers(0, 1000, (32,))  # kerax: data

# Load a convolutional base with pre-trained weights
base_model = Xception(weights="imagenet", include_top=False, pooling="avg")
base_params, base_state = base_model.init(key)  # kerax: state ("pre-trained")

# Freeze the base model
base_model.trainable = False

# Use a Sequential model to add a trainable classifier on top
model = kerax.Sequential(
    [
        base_model,
        layers.Dense(1000),
    ]
)

# Compile & train
trainer = kerax.Trainer(  # kerax: state (the guide's `compile(...)`)
    model, "adam", kerax.losses.SparseCategoricalCrossentropy(from_logits=True)
)  # kerax: state
ts = trainer.init(key, x_train)  # kerax: state
ts = ts._replace(  # kerax: state (the pre-trained base)
    params={**ts.params, "xception": base_params},  # kerax: state
    state={**ts.state, "xception": base_state},  # kerax: state
)  # kerax: state
ts, history = trainer.fit(ts, x_train, y_train, epochs=2, verbose=0)  # kerax: state
