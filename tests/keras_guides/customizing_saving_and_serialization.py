# ruff: noqa: I001 - the guide's import order.
"""Port of the keras-io guide "Customizing Saving and Serialization"
(Neel Kovelamudi; Apache 2.0).

Source: keras-team/keras-io, guides/customizing_saving_and_serialization.py
at commit f87f77b18ffe6299c474d91b37bd530f1390d39f (the Keras 3 version).
The guide's code runs here with `keras` replaced by `kerax`; lines marked
`# kerax: state` make the state explicit (params, state, TrainState, keys):
`model.compile` is a `kerax.Trainer`, `fit` takes and returns the train
state, saving takes the params and loading returns them. `# kerax: data`
marks generated data; `# kerax: <reason>` marks any other change. The prose
is left out; section titles are kept as comments.

The guide is about four pairs of hooks that mutate a live Keras layer or
model while it is saved and loaded: `save_own_variables`/
`load_own_variables`, `save_assets`/`load_assets`, `get_build_config`/
`build_from_config` and `get_compile_config`/`compile_from_config`. A kerax
layer is a frozen config whose arrays live in `params` and `state`, so
kerax calls none of these hooks. Each section keeps the guide's classes and
checks, and gets the guide's outcome the kerax way:

- custom variables: `self.add_weight(...)` in `__init__` (no
  `kerax.Variable`); kerax saves every variable of a layer, so no
  `save_own_variables` is needed; a `Dense` subclass with an extra variable
  has no Keras weights layout kerax knows (Keras's comes from the guide's
  override), so it is saved as a model directory;
- assets: the vocabulary is an `__init__` argument, hence config; the file
  stores it and loading gives it back, with no `assets/` file and no
  `load_assets` rewrite (`<unk>` stays `<unk>`);
- build config: `layer_init` is an `__init__` argument (kerax reruns
  `build(input_shape)` at trace time, so `build` cannot take other
  arguments, and there is no `built` flag: `init` builds);
- compile config: the `Trainer` is Keras's compiled model; its optimizer,
  loss and metrics are saved as Keras's `compile_config` and
  `kerax.load_trainer` restores them (Keras's own `compile_from_config`).
"""

import os  # noqa: F401 - the guide's import (its `save_assets` writes a file).
import numpy as np
import jax  # kerax: state
import kerax

key = jax.random.key(0)  # kerax: state

# State saving customization

# `save_own_variables()` and `load_own_variables()`


@kerax.utils.register_keras_serializable(package="my_custom_package")
class LayerWithCustomVariable(kerax.layers.Dense):
    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.my_variable = self.add_weight(  # kerax: no kerax.Variable: a weight
            shape=(units,), initializer="random_uniform", name="my_variable"
        )

    # kerax: `save_own_variables`/`load_own_variables` left out: kerax calls no
    # such hook (a layer holds no arrays); every variable is saved and loaded.

    def call(self, params, state, inputs, *, key, training):  # kerax: state
        dense_out, state = super().call(  # kerax: state (Dense's call is kerax's)
            params, state, inputs, key=key, training=training
        )
        return dense_out + params["my_variable"], state  # kerax: state


model = kerax.Sequential([LayerWithCustomVariable(1)])

ref_input = np.random.random((8, 10))
ref_output = np.random.random((8, 10))
trainer = kerax.Trainer(
    model, optimizer="adam", loss="mean_squared_error"
)  # kerax: state
ts, history = trainer.fit(
    trainer.init(key, kerax.spec((None, 10))), ref_input, ref_output
)  # kerax: state

model.save(
    "custom_vars_model", ts.params, ts.state, input_spec=kerax.spec((None, 10))
)  # kerax: a model directory: Keras's layout for the extra variable is the guide's override
restored_model, params, state = kerax.models.load_model(
    "custom_vars_model"
)  # kerax: state (and the directory)

np.testing.assert_allclose(
    ts.params["layer_with_custom_variable"]["my_variable"],  # kerax: state
    params["layer_with_custom_variable"]["my_variable"],  # kerax: state
)

# `save_assets()` and `load_assets()`


@kerax.saving.register_keras_serializable(package="my_custom_package")
class LayerWithCustomAssets(kerax.layers.Dense):
    def __init__(self, vocab=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vocab = vocab

    # kerax: `save_assets`/`load_assets` left out: kerax calls no such hook,
    # and a layer is frozen after `__init__` (`self.vocab = ...` in
    # `load_assets` cannot run); `vocab` is config, saved in the file.


model = kerax.Sequential(
    [LayerWithCustomAssets(vocab="Mary had a <unk> lamb.", units=5)]
)

x = np.random.random((10, 10))
params, state = model.init(key, kerax.spec((None, 10)))  # kerax: state
y, state = model.apply(params, state, x)  # kerax: state

model.save(
    "custom_assets_model.keras", params, state, input_spec=kerax.spec((None, 10))
)  # kerax: state
restored_model, params, state = kerax.models.load_model(
    "custom_assets_model.keras"
)  # kerax: state

np.testing.assert_string_equal(
    restored_model.layers[0].vocab,
    "Mary had a <unk> lamb.",  # kerax: no load_assets
)

# `build` and `compile` saving customization

# `get_build_config()` and `build_from_config()`


@kerax.saving.register_keras_serializable(package="my_custom_package")
class LayerWithCustomBuild(kerax.layers.Layer):
    def __init__(self, units=32, layer_init=None, **kwargs):  # kerax: config
        super().__init__(**kwargs)
        self.units = units
        self.layer_init = layer_init  # kerax: build's argument is config

    def call(self, inputs):
        return kerax.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = dict(units=self.units, **super().get_config())  # kerax: config
        return dict(layer_init=self.layer_init, **config)  # kerax: config

    def build(self, input_shape):  # kerax: runs again at trace time
        super().build(input_shape)
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer=self.layer_init,  # kerax: config
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,),
            initializer=self.layer_init,  # kerax: config
            trainable=True,
        )

    # kerax: `get_build_config`/`build_from_config` left out: a layer is a
    # frozen config (`build` may not take other arguments, nor keep
    # `self._input_shape`/`self.layer_init`): `layer_init` is an `__init__`
    # argument, and the file's build config is Keras's input shape.


custom_layer = LayerWithCustomBuild(
    units=16, layer_init="random_normal"
)  # kerax: config

model = kerax.Sequential(
    [
        kerax.Input((8,)),  # kerax: for `custom_layer.build(input_shape=(8,))`
        custom_layer,
        kerax.layers.Dense(1, activation="sigmoid"),
    ]
)

x = np.random.random((16, 8))
params, state = model.init(key)  # kerax: state
y, state = model.apply(params, state, x)  # kerax: state

model.save("custom_build_model.keras", params, state)  # kerax: state
restored_model, params, state = kerax.models.load_model(
    "custom_build_model.keras"
)  # kerax: state

np.testing.assert_equal(restored_model.layers[0].layer_init, "random_normal")
np.testing.assert_equal(
    params["layer_with_custom_build"]["w"].shape, (8, 16)
)  # kerax: built


# `get_compile_config()` and `compile_from_config()`


@kerax.saving.register_keras_serializable(package="my_custom_package")
def small_square_sum_loss(y_true, y_pred):
    loss = kerax.ops.square(y_pred - y_true)
    loss = loss / 10.0
    loss = kerax.ops.sum(loss, axis=1)
    return loss


@kerax.saving.register_keras_serializable(package="my_custom_package")
def mean_pred(y_true, y_pred):
    return kerax.ops.mean(y_pred)


@kerax.saving.register_keras_serializable(package="my_custom_package")
class ModelWithCustomCompile(kerax.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense1 = kerax.layers.Dense(8, activation="relu")
        self.dense2 = kerax.layers.Dense(4, activation="softmax")

    def call(self, inputs):
        x = self.dense1(inputs)
        return self.dense2(x)

    # kerax: `compile`, `get_compile_config`/`compile_from_config` left out:
    # `kerax.Trainer` is the compiled model (`trainer.get_compile_config()`,
    # `kerax.Trainer.from_compile_config(model, config)`), and the saved file
    # holds its optimizer, loss and metrics as Keras's `compile_config`.


model = ModelWithCustomCompile()
trainer = kerax.Trainer(  # kerax: state
    model, optimizer="SGD", loss=small_square_sum_loss, metrics=["accuracy", mean_pred]
)

x = np.random.random((4, 8))
y = np.random.random((4,))

ts, history = trainer.fit(
    trainer.init(key, kerax.spec((None, 8))), x, y
)  # kerax: state

model.save(  # kerax: state
    "custom_compile_model.keras",
    ts.params,
    ts.state,
    input_spec=kerax.spec((None, 8)),
    train_state=ts,
    trainer=trainer,
)
restored_trainer, restored_ts = kerax.load_trainer(
    "custom_compile_model.keras"
)  # kerax: state

compile_config = trainer.get_compile_config()  # kerax: the Trainer's compile config
restored_config = restored_trainer.get_compile_config()  # kerax: the Trainer's
np.testing.assert_equal(
    compile_config["optimizer"], restored_config["optimizer"]
)  # kerax: the Trainer's
np.testing.assert_equal(
    compile_config["loss"], restored_config["loss"]
)  # kerax: the Trainer's
np.testing.assert_equal(
    compile_config["metrics"], restored_config["metrics"]
)  # kerax: the Trainer's
