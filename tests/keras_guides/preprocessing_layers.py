# ruff: noqa: E402, I001, UP031 - the guide's own import order and % formatting.
"""Port of the keras-io guide "Working with preprocessing layers"
(Francois Chollet, Mark Omernick; Apache 2.0).

Source: keras-team/keras-io, guides/preprocessing_layers.py at commit
04bfdf8adc4ea39646c3d09f3cd397f32f1a0923, the `tf.keras` version of the
guide: `tensorflow.keras` reads `kerax`, and TensorFlow stays for
`tf.constant` and `tf.data`. The guide's code runs here with `keras`
replaced by `kerax`; lines marked `# kerax: state` make the state explicit:
`adapt` returns the adapted layer (lookups and TextVectorization: the
vocabulary is config) or the learned statistics (Normalization: its state),
JAX layers compute with `apply`, `model.compile(...)` is
`kerax.Trainer(model, ...)`, `fit` takes and returns the train state, and
the random augmentation takes a key (it runs jitted on the batches of the
tf.data pipeline, not inside its graph). The string layers run in the
tf.data maps as written. `# kerax: data` replaces the CIFAR-10 download
with small random arrays of the same shapes (80 images to augment, 64 to
normalize: whole batches, one compiled step). `# kerax: array` marks
`.numpy()` dropped or `np.asarray(...)` instead (JAX and NumPy arrays have
no `.numpy()`, as in Keras on JAX); `# kerax: <reason>` marks any other
change: a small stand-in for `keras.applications.ResNet50`, and the
end-to-end models, which take strings and so are functions (the
vectorizer on the host, then the model) rather than models with a string
`Input` (JAX has no strings). The prose is left out; section titles are
kept as comments.
"""

import jax  # kerax: state

key = jax.random.key(0)  # kerax: state

# The `adapt()` method

import numpy as np
import tensorflow as tf
from kerax import layers

data = np.array(
    [
        [0.1, 0.2, 0.3],
        [0.8, 0.9, 1.0],
        [1.5, 1.6, 1.7],
    ]
)
layer = layers.Normalization()
state = layer.adapt(data)  # kerax: state
normalized_data, state = layer.apply({}, state, data)  # kerax: state

print("Features mean: %.2f" % (np.asarray(normalized_data).mean()))  # kerax: array
print("Features std: %.2f" % (np.asarray(normalized_data).std()))  # kerax: array

data = [
    "ξεῖν᾽, ἦ τοι μὲν ὄνειροι ἀμήχανοι ἀκριτόμυθοι",
    "γίγνοντ᾽, οὐδέ τι πάντα τελείεται ἀνθρώποισι.",
    "δοιαὶ γάρ τε πύλαι ἀμενηνῶν εἰσὶν ὀνείρων:",
    "αἱ μὲν γὰρ κεράεσσι τετεύχαται, αἱ δ᾽ ἐλέφαντι:",
    "τῶν οἳ μέν κ᾽ ἔλθωσι διὰ πριστοῦ ἐλέφαντος,",
    "οἵ ῥ᾽ ἐλεφαίρονται, ἔπε᾽ ἀκράαντα φέροντες:",
    "οἱ δὲ διὰ ξεστῶν κεράων ἔλθωσι θύραζε,",
    "οἵ ῥ᾽ ἔτυμα κραίνουσι, βροτῶν ὅτε κέν τις ἴδηται.",
]
layer = layers.TextVectorization()
layer = layer.adapt(data)  # kerax: state
vectorized_text = layer(data)
print(vectorized_text)

vocab = ["a", "b", "c", "d"]
data = tf.constant([["a", "c", "d"], ["d", "z", "b"]])
layer = layers.StringLookup(vocabulary=vocab)
vectorized_data = layer(data)
print(vectorized_data)

# Quick recipes

# Image data augmentation

import kerax
from kerax import layers

# Create a data augmentation stage with horizontal flipping, rotations, zooms
data_augmentation = kerax.Sequential(
    [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.1),
    ]
)

# Load some data
rng = np.random.default_rng(0)  # kerax: data
x_train = rng.integers(0, 256, (80, 32, 32, 3)).astype("uint8")  # kerax: data
y_train = rng.integers(0, 10, (80, 1)).astype("uint8")  # kerax: data
input_shape = x_train.shape[1:]
classes = 10

# Create a tf.data pipeline of augmented images (and their labels)
train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
# kerax: the augmentation is a JAX model: it runs jitted on the pipeline's
# batches (not inside tf.data's graph), with a key per batch.
spec = kerax.spec((None,) + input_shape)  # kerax: state
params, state = data_augmentation.init(key, spec)  # kerax: state
augment = jax.jit(data_augmentation.apply, static_argnames="training")  # kerax: state


def augmented(dataset):  # kerax: state
    for i, (x, y) in enumerate(dataset.as_numpy_iterator()):  # kerax: state
        k = jax.random.fold_in(key, i)  # kerax: state
        yield augment(params, state, x, key=k, training=True)[0], y  # kerax: state


train_dataset = augmented(train_dataset.batch(16))  # kerax: state


def ResNet50(weights=None, input_shape=None, classes=1000):  # kerax: stand-in
    # kerax: a two-block residual stand-in for keras.applications.ResNet50.
    x = img_input = kerax.Input(input_shape)  # kerax: stand-in
    x = layers.Conv2D(8, 3, strides=2, activation="relu")(x)  # kerax: stand-in
    y = layers.Conv2D(8, 3, padding="same", activation="relu")(x)  # kerax: stand-in
    x = layers.add([x, layers.Conv2D(8, 3, padding="same")(y)])  # kerax: stand-in
    x = layers.GlobalAveragePooling2D()(x)  # kerax: stand-in
    outputs = layers.Dense(classes, activation="softmax")(x)  # kerax: stand-in
    return kerax.Model(img_input, outputs, name="resnet50")  # kerax: stand-in


# Create a model and train it on the augmented image data
inputs = kerax.Input(shape=input_shape)
x = layers.Rescaling(1.0 / 255)(inputs)  # Rescale inputs
outputs = ResNet50(  # kerax: stand-in
    weights=None, input_shape=input_shape, classes=classes
)(x)
model = kerax.Model(inputs, outputs)
trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer="rmsprop",
    loss="sparse_categorical_crossentropy",
)  # kerax: state
ts = trainer.init(key)  # kerax: state
ts, history = trainer.fit(ts, train_dataset, steps_per_epoch=5)  # kerax: state

# Normalizing numerical features

# Load some data
x_train = rng.integers(0, 256, (64, 32, 32, 3)).astype("uint8")  # kerax: data
y_train = rng.integers(0, 10, (64, 1)).astype("uint8")  # kerax: data
x_train = x_train.reshape((len(x_train), -1))
input_shape = x_train.shape[1:]
classes = 10

# Create a Normalization layer and set its internal state using the training data
normalizer = layers.Normalization()
normalizer_state = normalizer.adapt(x_train)  # kerax: state

# Create a model that include the normalization layer
inputs = kerax.Input(shape=input_shape)
x = normalizer(inputs)
outputs = layers.Dense(classes, activation="softmax")(x)
model = kerax.Model(inputs, outputs)

# Train the model
trainer = kerax.Trainer(  # kerax: state
    model,  # kerax: state
    optimizer="adam",
    loss="sparse_categorical_crossentropy",
)  # kerax: state
ts = trainer.init(key)  # kerax: state
ts.state["normalization"] = normalizer_state  # kerax: state
ts, history = trainer.fit(ts, x_train, y_train)  # kerax: state

# Encoding string categorical features via one-hot encoding

# Define some toy data
data = tf.constant([["a"], ["b"], ["c"], ["b"], ["c"], ["a"]])

# Use StringLookup to build an index of the feature values and encode output.
lookup = layers.StringLookup(output_mode="one_hot")
lookup = lookup.adapt(data)  # kerax: state

# Convert new test data (which includes unknown feature values)
test_data = tf.constant([["a"], ["b"], ["c"], ["d"], ["e"], [""]])
encoded_data = lookup(test_data)
print(encoded_data)

# Encoding integer categorical features via one-hot encoding

# Define some toy data
data = tf.constant([[10], [20], [20], [10], [30], [0]])

# Use IntegerLookup to build an index of the feature values and encode output.
lookup = layers.IntegerLookup(output_mode="one_hot")
lookup = lookup.adapt(data)  # kerax: state

# Convert new test data (which includes unknown feature values)
test_data = tf.constant([[10], [10], [20], [50], [60], [0]])
encoded_data, _ = lookup.apply({}, {}, test_data)  # kerax: state
print(encoded_data)

# Applying the hashing trick to an integer categorical feature

# Sample data: 10,000 random integers with values between 0 and 100,000
data = np.random.randint(0, 100000, size=(10000, 1))

# Use the Hashing layer to hash the values to the range [0, 64]
hasher = layers.Hashing(num_bins=64, salt=1337)

# Use the CategoryEncoding layer to multi-hot encode the hashed values
encoder = layers.CategoryEncoding(num_tokens=64, output_mode="multi_hot")
encoded_data, _ = encoder.apply({}, {}, hasher(data))  # kerax: state
print(encoded_data.shape)

# Encoding text as a sequence of token indices

# Define some text data to adapt the layer
adapt_data = tf.constant(
    [
        "The Brain is wider than the Sky",
        "For put them side by side",
        "The one the other will contain",
        "With ease and You beside",
    ]
)

# Create a TextVectorization layer
text_vectorizer = layers.TextVectorization(output_mode="int")
# Index the vocabulary via `adapt()`
text_vectorizer = text_vectorizer.adapt(adapt_data)  # kerax: state

# Try out the layer
print(
    "Encoded text:\n",
    text_vectorizer(["The Brain is deeper than the sea"]),  # kerax: array
)

# Create a simple model
inputs = kerax.Input(shape=(None,), dtype="int64")
x = layers.Embedding(input_dim=text_vectorizer.vocabulary_size(), output_dim=16)(inputs)
x = layers.GRU(8)(x)
outputs = layers.Dense(1)(x)
model = kerax.Model(inputs, outputs)

# Create a labeled dataset (which includes unknown tokens)
train_dataset = tf.data.Dataset.from_tensor_slices(
    (["The Brain is deeper than the sea", "for if they are held Blue to Blue"], [1, 0])
)

# Preprocess the string inputs, turning them into int sequences
train_dataset = train_dataset.batch(2).map(lambda x, y: (text_vectorizer(x), y))
# Train the model on the int sequences
print("\nTraining model...")
trainer = kerax.Trainer(model, optimizer="rmsprop", loss="mse")  # kerax: state
ts = trainer.init(key)  # kerax: state
ts, history = trainer.fit(ts, train_dataset)  # kerax: state


# For inference, you can export a model that accepts strings as input
def end_to_end_model(inputs):  # kerax: strings stay on the host
    x = text_vectorizer(inputs)
    outputs, _ = model.apply(ts.params, ts.state, x)  # kerax: state
    return outputs  # kerax: a function, not a Model


# Call the end-to-end model on test data (which includes unknown tokens)
print("\nCalling end-to-end model on test string...")
test_data = tf.constant(["The one the other will absorb"])
test_output = end_to_end_model(test_data)
print("Model output:", test_output)

# Encoding text as a dense matrix of N-grams with multi-hot encoding

# Define some text data to adapt the layer
adapt_data = tf.constant(
    [
        "The Brain is wider than the Sky",
        "For put them side by side",
        "The one the other will contain",
        "With ease and You beside",
    ]
)
# Instantiate TextVectorization with "multi_hot" output_mode
# and ngrams=2 (index all bigrams)
text_vectorizer = layers.TextVectorization(output_mode="multi_hot", ngrams=2)
# Index the bigrams via `adapt()`
text_vectorizer = text_vectorizer.adapt(adapt_data)  # kerax: state

# Try out the layer
print(
    "Encoded text:\n",
    text_vectorizer(["The Brain is deeper than the sea"]),  # kerax: array
)

# Create a simple model
inputs = kerax.Input(shape=(text_vectorizer.vocabulary_size(),))
outputs = layers.Dense(1)(inputs)
model = kerax.Model(inputs, outputs)

# Create a labeled dataset (which includes unknown tokens)
train_dataset = tf.data.Dataset.from_tensor_slices(
    (["The Brain is deeper than the sea", "for if they are held Blue to Blue"], [1, 0])
)

# Preprocess the string inputs, turning them into int sequences
train_dataset = train_dataset.batch(2).map(lambda x, y: (text_vectorizer(x), y))
# Train the model on the int sequences
print("\nTraining model...")
trainer = kerax.Trainer(model, optimizer="rmsprop", loss="mse")  # kerax: state
ts = trainer.init(key)  # kerax: state
ts, history = trainer.fit(ts, train_dataset)  # kerax: state


# For inference, you can export a model that accepts strings as input
def end_to_end_model(inputs):  # kerax: strings stay on the host
    x = text_vectorizer(inputs)
    outputs, _ = model.apply(ts.params, ts.state, x)  # kerax: state
    return outputs  # kerax: a function, not a Model


# Call the end-to-end model on test data (which includes unknown tokens)
print("\nCalling end-to-end model on test string...")
test_data = tf.constant(["The one the other will absorb"])
test_output = end_to_end_model(test_data)
print("Model output:", test_output)

# Encoding text as a dense matrix of N-grams with TF-IDF weighting

# Define some text data to adapt the layer
adapt_data = tf.constant(
    [
        "The Brain is wider than the Sky",
        "For put them side by side",
        "The one the other will contain",
        "With ease and You beside",
    ]
)
# Instantiate TextVectorization with "tf-idf" output_mode
# (multi-hot with TF-IDF weighting) and ngrams=2 (index all bigrams)
text_vectorizer = layers.TextVectorization(output_mode="tf-idf", ngrams=2)
# Index the bigrams and learn the TF-IDF weights via `adapt()`
text_vectorizer = text_vectorizer.adapt(adapt_data)  # kerax: state

# Try out the layer
print(
    "Encoded text:\n",
    text_vectorizer(["The Brain is deeper than the sea"]),  # kerax: array
)

# Create a simple model
inputs = kerax.Input(shape=(text_vectorizer.vocabulary_size(),))
outputs = layers.Dense(1)(inputs)
model = kerax.Model(inputs, outputs)

# Create a labeled dataset (which includes unknown tokens)
train_dataset = tf.data.Dataset.from_tensor_slices(
    (["The Brain is deeper than the sea", "for if they are held Blue to Blue"], [1, 0])
)

# Preprocess the string inputs, turning them into int sequences
train_dataset = train_dataset.batch(2).map(lambda x, y: (text_vectorizer(x), y))
# Train the model on the int sequences
print("\nTraining model...")
trainer = kerax.Trainer(model, optimizer="rmsprop", loss="mse")  # kerax: state
ts = trainer.init(key)  # kerax: state
ts, history = trainer.fit(ts, train_dataset)  # kerax: state


# For inference, you can export a model that accepts strings as input
def end_to_end_model(inputs):  # kerax: strings stay on the host
    x = text_vectorizer(inputs)
    outputs, _ = model.apply(ts.params, ts.state, x)  # kerax: state
    return outputs  # kerax: a function, not a Model


# Call the end-to-end model on test data (which includes unknown tokens)
print("\nCalling end-to-end model on test string...")
test_data = tf.constant(["The one the other will absorb"])
test_output = end_to_end_model(test_data)
print("Model output:", test_output)
