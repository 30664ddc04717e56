# ruff: noqa: B018, F811, I001, UP032 - the guide's own expressions, redefinitions and import order.
"""Port of the keras-io guide "Save, serialize, and export models"
(Neel Kovelamudi, fchollet; Apache 2.0).

Source: keras-team/keras-io, guides/keras_core/serialization_and_saving.py at
commit 855e37d4f5562751e6694cdadf93b2b7a72c935f. The guide's code runs here
with `keras` replaced by `kerax`; lines marked `# kerax: state` make the
state explicit (params, state, TrainState, keys): `model.compile` is a
`kerax.Trainer`, `model.fit` returns the new train state, saving takes the
params and loading returns them. `# kerax: <reason>` marks any other change.
The prose of the guide is left out; section titles are kept as comments.
"""

import jax  # kerax: state

# Setup

import numpy as np
import kerax
from kerax import ops

key = jax.random.key(0)  # kerax: state

# Saving


def get_model():
    # Create a simple model.
    inputs = kerax.Input(shape=(32,))
    outputs = kerax.layers.Dense(1)(inputs)
    model = kerax.Model(inputs, outputs)
    trainer = kerax.Trainer(  # kerax: state
        model, optimizer=kerax.optimizers.Adam(), loss="mean_squared_error"
    )  # kerax: state
    return model, trainer  # kerax: state


model, trainer = get_model()  # kerax: state

# Train the model.
test_input = np.random.random((128, 32))
test_target = np.random.random((128, 1))
ts, history = trainer.fit(trainer.init(key), test_input, test_target)  # kerax: state

# Calling `save('my_model.keras')` creates a zip archive `my_model.keras`.
model.save("my_model.keras", ts.params, ts.state)  # kerax: state

# It can be used to reconstruct the model identically.
reconstructed_model, params, state = kerax.models.load_model(  # kerax: state
    "my_model.keras"
)  # kerax: state

# Let's check:
np.testing.assert_allclose(
    trainer.predict(ts, test_input),  # kerax: state
    reconstructed_model.apply(params, state, test_input)[0],  # kerax: state
    rtol=1e-6,  # kerax: float32 (Keras's float64 inputs are cast to float32 either way)
)

# Custom objects

# Clear all previously registered custom objects
kerax.saving.get_custom_objects().clear()


# Upon registration, you can optionally specify a package or a name.
# If left blank, the package defaults to `Custom` and the name defaults to
# the class name.
@kerax.saving.register_keras_serializable(package="MyLayers")
class CustomLayer(kerax.layers.Layer):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def call(self, params, state, x, *, key, training):  # kerax: state
        return x * self.factor, state  # kerax: state

    def get_config(self):
        return {"factor": self.factor}


@kerax.saving.register_keras_serializable(package="my_package", name="custom_fn")
def custom_fn(x):
    return x**2


# Create the model.
def get_model():
    inputs = kerax.Input(shape=(4,))
    mid = CustomLayer(0.5)(inputs)
    outputs = kerax.layers.Dense(1, activation=custom_fn)(mid)
    model = kerax.Model(inputs, outputs)
    trainer = kerax.Trainer(  # kerax: state
        model, optimizer="rmsprop", loss="mean_squared_error"
    )  # kerax: state
    return model, trainer  # kerax: state


# Train the model.
def train_model(model, trainer):  # kerax: state
    input = np.random.random((4, 4))
    target = np.random.random((4, 1))
    ts, history = trainer.fit(trainer.init(key), input, target)  # kerax: state
    return model, ts  # kerax: state


test_input = np.random.random((4, 4))
test_target = np.random.random((4, 1))

model, trainer = get_model()  # kerax: state
model, ts = train_model(model, trainer)  # kerax: state
model.save("custom_model.keras", ts.params, ts.state)  # kerax: state

# Now, we can simply load without worrying about our custom objects.
reconstructed_model, params, state = kerax.models.load_model(  # kerax: state
    "custom_model.keras"
)  # kerax: state

# Let's check:
np.testing.assert_allclose(
    trainer.predict(ts, test_input),  # kerax: state
    reconstructed_model.apply(params, state, test_input)[0],  # kerax: state
    rtol=1e-6,  # kerax: float32 (Keras's float64 inputs are cast to float32 either way)
)

# Passing custom objects to `load_model()`

model, trainer = get_model()  # kerax: state
model, ts = train_model(model, trainer)  # kerax: state

# Calling `save('my_model.keras')` creates a zip archive `my_model.keras`.
model.save("custom_model.keras", ts.params, ts.state)  # kerax: state

# Upon loading, pass a dict containing the custom objects used in the
# `custom_objects` argument of `kerax.models.load_model()`.
reconstructed_model, params, state = kerax.models.load_model(  # kerax: state
    "custom_model.keras",
    custom_objects={"CustomLayer": CustomLayer, "custom_fn": custom_fn},
)

# Let's check:
np.testing.assert_allclose(
    trainer.predict(ts, test_input),  # kerax: state
    reconstructed_model.apply(params, state, test_input)[0],  # kerax: state
    rtol=1e-6,  # kerax: float32 (Keras's float64 inputs are cast to float32 either way)
)

# Using a custom object scope

model, trainer = get_model()  # kerax: state
model, ts = train_model(model, trainer)  # kerax: state
model.save("custom_model.keras", ts.params, ts.state)  # kerax: state

# Pass the custom objects dictionary to a custom object scope and place
# the `kerax.models.load_model()` call within the scope.
custom_objects = {"CustomLayer": CustomLayer, "custom_fn": custom_fn}

with kerax.saving.custom_object_scope(custom_objects):
    reconstructed_model, params, state = kerax.models.load_model(  # kerax: state
        "custom_model.keras"
    )  # kerax: state

# Let's check:
np.testing.assert_allclose(
    trainer.predict(ts, test_input),  # kerax: state
    reconstructed_model.apply(params, state, test_input)[0],  # kerax: state
    rtol=1e-6,  # kerax: float32 (Keras's float64 inputs are cast to float32 either way)
)

# Model serialization

new_model = kerax.models.clone_model(model)

layer = kerax.layers.Dense(3, activation="relu")
layer_config = layer.get_config()
print(layer_config)

new_layer = kerax.layers.Dense.from_config(layer_config)

model = kerax.Sequential([kerax.Input((32,)), kerax.layers.Dense(1)])
config = model.get_config()
new_model = kerax.Sequential.from_config(config)

inputs = kerax.Input((32,))
outputs = kerax.layers.Dense(1)(inputs)
model = kerax.Model(inputs, outputs)
config = model.get_config()
new_model = kerax.Model.from_config(config)

model = kerax.Sequential([kerax.Input((32,)), kerax.layers.Dense(1)])
json_config = model.to_json()
new_model = kerax.models.model_from_json(json_config)

# Arbitrary object serialization and deserialization

my_reg = kerax.regularizers.L1(0.005)
config = kerax.saving.serialize_keras_object(my_reg)
print(config)

new_reg = kerax.saving.deserialize_keras_object(config)

# Model weights saving


def create_layer():
    layer = kerax.layers.Dense(64, activation="relu", name="dense_2")
    params, state = layer.init(key, kerax.spec((None, 784)))  # kerax: state
    return layer, params  # kerax: state


layer_1, params_1 = create_layer()  # kerax: state
layer_2, params_2 = create_layer()  # kerax: state

# Copy weights from layer 1 to layer 2
params_2 = jax.tree.map(
    np.asarray, params_1
)  # kerax: state (weights are values: copy them)

# Create a simple functional model
inputs = kerax.Input(shape=(784,), name="digits")
x = kerax.layers.Dense(64, activation="relu", name="dense_1")(inputs)
x = kerax.layers.Dense(64, activation="relu", name="dense_2")(x)
outputs = kerax.layers.Dense(10, name="predictions")(x)
functional_model = kerax.Model(inputs=inputs, outputs=outputs, name="3_layer_mlp")
functional_params, _ = functional_model.init(key)  # kerax: state


# Define a subclassed model with the same architecture
class SubclassedModel(kerax.Model):
    def __init__(self, output_dim, name=None):
        super().__init__(name=name)
        self.output_dim = output_dim
        self.dense_1 = kerax.layers.Dense(64, activation="relu", name="dense_1")
        self.dense_2 = kerax.layers.Dense(64, activation="relu", name="dense_2")
        self.dense_3 = kerax.layers.Dense(output_dim, name="predictions")

    def call(self, inputs):
        x = self.dense_1(inputs)
        x = self.dense_2(x)
        x = self.dense_3(x)
        return x

    def get_config(self):
        return {"output_dim": self.output_dim, "name": self.name}


subclassed_model = SubclassedModel(10)
# Call the subclassed model once to create the weights.
subclassed_params, _ = subclassed_model.init(key, kerax.spec((1, 784)))  # kerax: state

# Copy weights from functional_model to subclassed_model.
subclassed_params, _ = subclassed_model.set_weights(  # kerax: state
    subclassed_params,  # kerax: state
    functional_model.get_weights(functional_params),  # kerax: state
    spec=kerax.spec((1, 784)),  # kerax: state
)  # kerax: state

assert len(jax.tree.leaves(functional_params)) == len(  # kerax: state
    jax.tree.leaves(subclassed_params)  # kerax: state
)  # kerax: state
for a, b in zip(  # kerax: state
    jax.tree.leaves(functional_params),
    jax.tree.leaves(subclassed_params),  # kerax: state
):  # kerax: state
    np.testing.assert_allclose(a, b)  # kerax: state

inputs = kerax.Input(shape=(784,), name="digits")
x = kerax.layers.Dense(64, activation="relu", name="dense_1")(inputs)
x = kerax.layers.Dense(64, activation="relu", name="dense_2")(x)
outputs = kerax.layers.Dense(10, name="predictions")(x)
functional_model = kerax.Model(inputs=inputs, outputs=outputs, name="3_layer_mlp")
functional_params, functional_state = functional_model.init(key)  # kerax: state

inputs = kerax.Input(shape=(784,), name="digits")
x = kerax.layers.Dense(64, activation="relu", name="dense_1")(inputs)
x = kerax.layers.Dense(64, activation="relu", name="dense_2")(x)

# Add a dropout layer, which does not contain any weights.
x = kerax.layers.Dropout(0.5)(x)
outputs = kerax.layers.Dense(10, name="predictions")(x)
functional_model_with_dropout = kerax.Model(
    inputs=inputs, outputs=outputs, name="3_layer_mlp"
)
dropout_params, dropout_state = functional_model_with_dropout.init(key)  # kerax: state

dropout_params, dropout_state = (
    functional_model_with_dropout.set_weights(  # kerax: state
        dropout_params,
        functional_model.get_weights(functional_params),  # kerax: state
    )
)  # kerax: state

# Runnable example
sequential_model = kerax.Sequential(
    [
        kerax.Input(shape=(784,), name="digits"),
        kerax.layers.Dense(64, activation="relu", name="dense_1"),
        kerax.layers.Dense(64, activation="relu", name="dense_2"),
        kerax.layers.Dense(10, name="predictions"),
    ]
)
params, state = sequential_model.init(key)  # kerax: state
sequential_model.save_weights("my_model.weights.h5", params, state)  # kerax: state
params, state = sequential_model.load_weights("my_model.weights.h5")  # kerax: state


class NestedDenseLayer(kerax.layers.Layer):
    def __init__(self, units, name=None):
        super().__init__(name=name)
        self.dense_1 = kerax.layers.Dense(units, name="dense_1")
        self.dense_2 = kerax.layers.Dense(units, name="dense_2")

    def call(self, params, state, inputs, *, key, training):  # kerax: state
        return self.dense_2(self.dense_1(inputs)), state  # kerax: state


nested_model = kerax.Sequential([kerax.Input((784,)), NestedDenseLayer(10, "nested")])
params, state = nested_model.init(key)  # kerax: state
variable_names = [  # kerax: state (a weight's name is its path in params)
    "/".join(k.key for k in path)  # kerax: state
    for path, _ in jax.tree_util.tree_leaves_with_path(params)  # kerax: state
]  # kerax: state
print("variables: {}".format(variable_names))

print("\nChanging trainable status of one of the nested layers...")
nested_model.get_layer("nested").dense_1.trainable = False

variable_names_2 = [  # kerax: state (a weight's name is its path in params)
    "/".join(k.key for k in path)  # kerax: state
    for path, _ in jax.tree_util.tree_leaves_with_path(params)  # kerax: state
]  # kerax: state
print("\nvariables: {}".format(variable_names_2))
print("variable ordering changed:", variable_names != variable_names_2)


def create_functional_model():
    inputs = kerax.Input(shape=(784,), name="digits")
    x = kerax.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = kerax.layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = kerax.layers.Dense(10, name="predictions")(x)
    return kerax.Model(inputs=inputs, outputs=outputs, name="3_layer_mlp")


functional_model = create_functional_model()
params, state = functional_model.init(key)  # kerax: state
functional_model.save_weights("pretrained.weights.h5", params, state)  # kerax: state

# In a separate program:
pretrained_model = create_functional_model()
params, state = pretrained_model.load_weights("pretrained.weights.h5")  # kerax: state

# Create a new model by extracting layers from the original model:
extracted_layers = pretrained_model.layers[:-1]
extracted_layers.append(kerax.layers.Dense(5, name="dense_3"))
model = kerax.Sequential(extracted_layers)
model.summary()
new_params, _ = model.init(key)  # kerax: state
new_params = {
    **new_params,
    "dense_1": params["dense_1"],
    "dense_2": params["dense_2"],
}  # kerax: state

# Appendix: Handling custom objects


@kerax.saving.register_keras_serializable(package="MyLayers", name="KernelMult")
class MyDense(kerax.layers.Layer):
    # fmt: off
    def __init__(
        self,
        units,
        *,
        kernel_regularizer=None,
        kernel_initializer=None,
        nested_model=None,
        **kwargs
    ):
        # fmt: on
        super().__init__(**kwargs)
        self.hidden_units = units
        self.kernel_regularizer = kernel_regularizer
        self.kernel_initializer = kernel_initializer
        self.nested_model = nested_model

    def get_config(self):
        config = super().get_config()
        # Update the config with the custom layer's parameters
        config.update(
            {
                "units": self.hidden_units,
                "kernel_regularizer": self.kernel_regularizer,
                "kernel_initializer": self.kernel_initializer,
                "nested_model": self.nested_model,
            }
        )
        return config

    def build(self, key, spec):  # kerax: state
        input_units = spec.shape[-1]  # kerax: state
        initializer = kerax.initializers.get(self.kernel_initializer)  # kerax: state
        kernel = initializer(key, (input_units, self.hidden_units))  # kerax: state
        return {"kernel": kernel}, {}  # kerax: state

    def call(self, params, state, inputs, *, key, training):  # kerax: state
        return ops.matmul(inputs, params["kernel"]), state  # kerax: state


layer = MyDense(units=16, kernel_regularizer="l1", kernel_initializer="ones")
layer3 = MyDense(units=64, nested_model=layer)

config = kerax.layers.serialize(layer3)

print(config)

new_layer = kerax.layers.deserialize(config)

print(new_layer)


@kerax.saving.register_keras_serializable(package="ComplexModels")
class CustomModel(kerax.layers.Layer):
    def __init__(self, first_layer, second_layer=None, **kwargs):
        super().__init__(**kwargs)
        self.first_layer = first_layer
        if second_layer is not None:
            self.second_layer = second_layer
        else:
            self.second_layer = kerax.layers.Dense(8)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "first_layer": self.first_layer,
                "second_layer": self.second_layer,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Note that you can also use `kerax.saving.deserialize_keras_object` here
        config["first_layer"] = kerax.layers.deserialize(config["first_layer"])
        config["second_layer"] = kerax.layers.deserialize(config["second_layer"])
        return cls(**config)

    def call(self, params, state, inputs, *, key, training):  # kerax: state
        return self.first_layer(self.second_layer(inputs)), state  # kerax: state


# Let's make our first layer the custom layer from the previous example (MyDense)
inputs = kerax.Input((32,))
outputs = CustomModel(first_layer=layer)(inputs)
model = kerax.Model(inputs, outputs)

config = model.get_config()
new_model = kerax.Model.from_config(config)

layer = MyDense(
    units=16,
    kernel_regularizer=kerax.regularizers.L1L2(l1=1e-5, l2=1e-4),
    kernel_initializer="ones",
)
config = kerax.layers.serialize(layer)
print(config)
