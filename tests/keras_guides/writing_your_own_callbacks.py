# ruff: noqa: I001, UP030, UP032 - the guide's own import order and string formatting.
"""Port of the keras-io guide "Writing your own callbacks" (Rick Chao,
Francois Chollet; Apache 2.0).

Source: keras-team/keras-io, guides/keras_core/writing_your_own_callbacks.py
at commit 855e37d4f5562751e6694cdadf93b2b7a72c935f (the Keras 3 version,
"Last modified: 2023/06/25"; the index's guides/writing_your_own_callbacks.py
at ad4fc805f5e1a4a4c0bcdd416aa9feac6608fb6c is the older tf.keras one). The
guide's code runs here with `keras` replaced by `kerax`; the callbacks are
the guide's, unchanged: Keras-style hooks (`on_epoch_end(self, epoch,
logs=None)`), `self.model.stop_training = True`, `self.model.get_weights()`
/ `set_weights(...)` and `self.model.optimizer.learning_rate` read and
replace the running `TrainState` (a replacement takes effect when the hook
returns). Lines marked `# kerax: state` make the state explicit:
`model.compile(...)` is a `kerax.Trainer`, and `fit` takes and returns the
train state. `# kerax: data` replaces the MNIST download with random
arrays of the same shapes (`model.add(layer)` runs as written);
`# kerax: <reason>` marks any other change. The prose is left out; section
titles are kept as comments.
"""

import jax  # kerax: state

# Setup

import numpy as np
import kerax

key = jax.random.key(0)  # kerax: state

# A basic example


# Define the Keras model to add callbacks to
def get_model():
    model = kerax.Sequential()
    model.add(kerax.layers.Dense(1))
    trainer = kerax.Trainer(  # kerax: state
        model,  # kerax: state
        optimizer=kerax.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return trainer  # kerax: state


# Load example MNIST data and pre-process it
rng = np.random.default_rng(0)  # kerax: data
x_train = rng.integers(0, 256, (512, 28, 28)).astype("uint8")  # kerax: data
y_train = rng.integers(0, 10, (512,)).astype("uint8")  # kerax: data
x_test = rng.integers(0, 256, (512, 28, 28)).astype("uint8")  # kerax: data
y_test = rng.integers(0, 10, (512,)).astype("uint8")  # kerax: data
x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
x_test = x_test.reshape(-1, 784).astype("float32") / 255.0

# Limit the data to 1000 samples
x_train = x_train[:1000]
y_train = y_train[:1000]
x_test = x_test[:1000]
y_test = y_test[:1000]


class CustomCallback(kerax.callbacks.Callback):
    def on_train_begin(self, logs=None):
        keys = list(logs.keys())
        print("Starting training; got log keys: {}".format(keys))

    def on_train_end(self, logs=None):
        keys = list(logs.keys())
        print("Stop training; got log keys: {}".format(keys))

    def on_epoch_begin(self, epoch, logs=None):
        keys = list(logs.keys())
        print("Start epoch {} of training; got log keys: {}".format(epoch, keys))

    def on_epoch_end(self, epoch, logs=None):
        keys = list(logs.keys())
        print("End epoch {} of training; got log keys: {}".format(epoch, keys))

    def on_test_begin(self, logs=None):
        keys = list(logs.keys())
        print("Start testing; got log keys: {}".format(keys))

    def on_test_end(self, logs=None):
        keys = list(logs.keys())
        print("Stop testing; got log keys: {}".format(keys))

    def on_predict_begin(self, logs=None):
        keys = list(logs.keys())
        print("Start predicting; got log keys: {}".format(keys))

    def on_predict_end(self, logs=None):
        keys = list(logs.keys())
        print("Stop predicting; got log keys: {}".format(keys))

    def on_train_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Training: start of batch {}; got log keys: {}".format(batch, keys))

    def on_train_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Training: end of batch {}; got log keys: {}".format(batch, keys))

    def on_test_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Evaluating: start of batch {}; got log keys: {}".format(batch, keys))

    def on_test_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Evaluating: end of batch {}; got log keys: {}".format(batch, keys))

    def on_predict_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Predicting: start of batch {}; got log keys: {}".format(batch, keys))

    def on_predict_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Predicting: end of batch {}; got log keys: {}".format(batch, keys))


trainer = get_model()  # kerax: state
ts, history = trainer.fit(  # kerax: state
    trainer.init(key, x_train),  # kerax: state
    x_train,
    y_train,
    batch_size=128,
    epochs=1,
    verbose=0,
    validation_split=0.5,
    callbacks=[CustomCallback()],
)

res = trainer.evaluate(  # kerax: state
    ts, x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()]
)  # kerax: state

res = trainer.predict(
    ts, x_test, batch_size=128, callbacks=[CustomCallback()]
)  # kerax: state

# Usage of `logs` dict


class LossAndErrorPrintingCallback(kerax.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        print(
            "Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"])
        )

    def on_test_batch_end(self, batch, logs=None):
        print(
            "Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"])
        )

    def on_epoch_end(self, epoch, logs=None):
        print(
            "The average loss for epoch {} is {:7.2f} "
            "and mean absolute error is {:7.2f}.".format(
                epoch, logs["loss"], logs["mean_absolute_error"]
            )
        )


trainer = get_model()  # kerax: state
ts, history = trainer.fit(  # kerax: state
    trainer.init(key, x_train),  # kerax: state
    x_train,
    y_train,
    batch_size=128,
    epochs=2,
    verbose=0,
    callbacks=[LossAndErrorPrintingCallback()],
)

res = trainer.evaluate(  # kerax: state
    ts,  # kerax: state
    x_test,
    y_test,
    batch_size=128,
    verbose=0,
    callbacks=[LossAndErrorPrintingCallback()],
)

# Usage of `self.model` attribute

# Examples of Keras callback applications


class EarlyStoppingAtMinLoss(kerax.callbacks.Callback):
    """Stop training when the loss is at its min, i.e. the loss stops decreasing.

    Arguments:
        patience: Number of epochs to wait after min has been hit. After this
        number of no improvement, training stops.
    """

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        # best_weights to store the weights at which the minimum loss occurs.
        self.best_weights = None

    def on_train_begin(self, logs=None):
        # The number of epoch it has waited when loss is no longer minimum.
        self.wait = 0
        # The epoch the training stops at.
        self.stopped_epoch = 0
        # Initialize the best as infinity.
        self.best = np.inf  # kerax: NumPy 2 removed the alias np.Inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            # Record the best weights if current results is better (less).
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                print("Restoring model weights from the end of the best epoch.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


trainer = get_model()  # kerax: state
ts, history = trainer.fit(  # kerax: state
    trainer.init(key, x_train),  # kerax: state
    x_train,
    y_train,
    batch_size=64,
    epochs=30,
    verbose=0,
    callbacks=[LossAndErrorPrintingCallback(), EarlyStoppingAtMinLoss()],
)

# Learning rate scheduling


class CustomLearningRateScheduler(kerax.callbacks.Callback):
    """Learning rate scheduler which sets the learning rate according to schedule.

    Arguments:
        schedule: a function that takes an epoch index
            (integer, indexed from 0) and current learning rate
            as inputs and returns a new learning rate as output (float).
    """

    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        # Get the current learning rate from model's optimizer.
        lr = self.model.optimizer.learning_rate
        # Call schedule function to get the scheduled learning rate.
        scheduled_lr = self.schedule(epoch, lr)
        # Set the value back to the optimizer before this epoch starts
        self.model.optimizer.learning_rate = scheduled_lr
        print(f"\nEpoch {epoch}: Learning rate is {float(np.array(scheduled_lr))}.")


LR_SCHEDULE = [
    # (epoch to start, learning rate) tuples
    (3, 0.05),
    (6, 0.01),
    (9, 0.005),
    (12, 0.001),
]


def lr_schedule(epoch, lr):
    """Helper function to retrieve the scheduled learning rate based on epoch."""
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


trainer = get_model()  # kerax: state
ts, history = trainer.fit(  # kerax: state
    trainer.init(key, x_train),  # kerax: state
    x_train,
    y_train,
    batch_size=64,
    epochs=15,
    verbose=0,
    callbacks=[
        LossAndErrorPrintingCallback(),
        CustomLearningRateScheduler(lr_schedule),
    ],
)

# Built-in Keras callbacks
