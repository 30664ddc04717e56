"""Keras code ported to kerax: keras-io guides' callbacks and a custom `train_step`.

The callbacks are copied from the keras-io guide "Writing your own callbacks"
with `keras` -> `kerax` as the only change; the custom step is the core
example of "Customizing what happens in `fit()` (JAX)", with Keras's
stateless calls spelled as kerax's pure functions, and compared with Keras.
"""

import jax
import numpy as np
import optax
import pytest

import kerax
from kerax.training import Trainer

keras = pytest.importorskip("keras")
if keras.backend.backend() != "jax":  # pragma: no cover - CI sets KERAS_BACKEND.
    pytest.skip("Keras parity needs KERAS_BACKEND=jax", allow_module_level=True)


# ---------------------------------------- copied from the keras-io guide


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
        self.best = np.inf

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


# ------------------------------------------------------------------ tests


def _regression(rng, n=320):
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = (x @ rng.normal(size=(8, 1))).astype(np.float32)
    return x, y


def _get_model():
    return kerax.Sequential([kerax.Input((8,)), kerax.layers.Dense(1)])


def test_keras_style_callbacks_from_the_guide(rng, capsys):
    x, y = _regression(rng)
    # A learning rate this large makes the loss rise again within a few epochs.
    trainer = Trainer(
        _get_model(),
        optimizer=kerax.optimizers.RMSprop(learning_rate=1.0),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    stopper = EarlyStoppingAtMinLoss()
    ts, history = trainer.fit(
        trainer.init(),
        x,
        y,
        batch_size=64,
        steps_per_epoch=5,
        epochs=30,
        verbose=0,
        callbacks=[LossAndErrorPrintingCallback(), stopper],
    )
    out = capsys.readouterr().out
    epochs = len(history.epoch)
    assert 0 < stopper.stopped_epoch == epochs - 1 < 29
    assert out.count("Up to batch") == 5 * epochs
    assert out.count("The average loss for epoch") == epochs
    assert f"Epoch {stopper.stopped_epoch + 1}: early stopping" in out
    # set_weights replaced the returned TrainState's weights with the best ones
    # (Keras's order: the kernel, then the bias).
    kernel, bias = stopper.best_weights
    np.testing.assert_array_equal(np.asarray(ts.params["dense"]["kernel"]), kernel)
    np.testing.assert_array_equal(np.asarray(ts.params["dense"]["bias"]), bias)
    assert stopper.best == min(history.history["loss"])


def test_keras_and_kerax_style_hooks_together(rng):
    x, y = _regression(rng, 64)
    calls = []

    class KerasStyle(kerax.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):  # Keras's alias.
            calls.append(("batch", batch, int(self.train_state.step)))

        def on_epoch_end(self, epoch, logs=None):
            self.stop_training = epoch == 1

    class KeraxStyle(kerax.callbacks.Callback):
        def on_epoch_end(self, ts, epoch, logs=None):
            calls.append(("epoch", epoch, int(ts.step)))
            return ts._replace(step=ts.step + 100)

    trainer = Trainer(_get_model(), "sgd", "mse")
    ts, history = trainer.fit(
        trainer.init(),
        x,
        y,
        batch_size=32,
        epochs=5,
        verbose=0,
        callbacks=[KerasStyle(), KeraxStyle()],
    )
    assert history.epoch == [0, 1] and int(ts.step) == 204
    assert calls == [
        ("batch", 0, 1),
        ("batch", 1, 2),
        ("epoch", 0, 2),
        ("batch", 0, 103),
        ("batch", 1, 104),
        ("epoch", 1, 104),
    ]
    assert KerasStyle().model is None  # Not running: no handle.


def test_custom_train_step_from_the_guide_matches_keras(rng):
    # x, y as in the guide (float32, and a batch size dividing 1000, so that
    # Keras's unweighted loss mean and kerax's batch-size-weighted one agree).
    x = rng.random((1000, 32)).astype(np.float32)
    y = rng.random((1000, 1)).astype(np.float32)

    # -- Keras: the guide's CustomModel, as written there.
    class CustomModel(keras.Model):
        def compute_loss_and_updates(
            self, trainable_variables, non_trainable_variables, x, y, training=False
        ):
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x, training=training
            )
            loss = self.compute_loss(x, y, y_pred)
            return loss, (y_pred, non_trainable_variables)

        def train_step(self, state, data):
            (
                trainable_variables,
                non_trainable_variables,
                optimizer_variables,
                metrics_variables,
            ) = state
            x, y = data
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable_variables)), grads = grad_fn(
                trainable_variables, non_trainable_variables, x, y, training=True
            )
            trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable_variables
            )
            new_metrics_vars = []
            logs = {}
            for metric in self.metrics:
                this_metric_vars = metrics_variables[
                    len(new_metrics_vars) : len(new_metrics_vars)
                    + len(metric.variables)
                ]
                if metric.name == "loss":
                    this_metric_vars = metric.stateless_update_state(
                        this_metric_vars, loss
                    )
                else:
                    this_metric_vars = metric.stateless_update_state(
                        this_metric_vars, y, y_pred
                    )
                logs[metric.name] = metric.stateless_result(this_metric_vars)
                new_metrics_vars += this_metric_vars
            state = (
                trainable_variables,
                non_trainable_variables,
                optimizer_variables,
                new_metrics_vars,
            )
            return logs, state

    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    keras_model = CustomModel(inputs, outputs)
    keras_model.compile(optimizer="adam", loss="mse", metrics=["mae"])

    # -- kerax: the same step as a pure function of the TrainState.
    inputs = kerax.Input(shape=(32,))
    outputs = kerax.layers.Dense(1)(inputs)
    model = kerax.Model(inputs, outputs)

    def compute_loss_and_updates(params, state, x, y, training=False):
        y_pred, state = model.apply(params, state, x, training=training)
        loss, _ = trainer.objectives.compute_loss(y, y_pred)
        return loss, (y_pred, state)

    def train_step(ts, data):
        x, y = data
        grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)
        (loss, (y_pred, state)), grads = grad_fn(
            ts.params, ts.state, x, y, training=True
        )
        updates, opt_state = trainer.tx.update(grads, ts.opt_state, ts.params)
        params = optax.apply_updates(ts.params, updates)
        metric_states = trainer.objectives.update_metrics(
            ts.metric_states, loss, [loss], y, y_pred, None, x.shape[0]
        )
        logs = trainer.objectives.results(metric_states)
        ts = ts._replace(
            params=params,
            state=state,
            opt_state=opt_state,
            step=ts.step + 1,
            metric_states=metric_states,
        )
        return ts, logs

    trainer = Trainer(
        model, optimizer="adam", loss="mse", metrics=["mae"], train_step=train_step
    )
    assert trainer.metrics_names == []
    ts = trainer.init()
    kernel, bias = (np.asarray(w) for w in keras_model.get_weights())
    ts = ts._replace(params={"dense": {"kernel": kernel, "bias": bias}})

    keras_history = keras_model.fit(
        x, y, epochs=3, batch_size=25, shuffle=False, verbose=0
    )
    ts, history = trainer.fit(
        ts, x, y, epochs=3, batch_size=25, shuffle=False, verbose=0
    )
    assert trainer.metrics_names == ["loss", "mae"]
    for name in ("loss", "mae"):
        np.testing.assert_allclose(
            history.history[name], keras_history.history[name], rtol=2e-5
        )
    got = [ts.params["dense"]["kernel"], ts.params["dense"]["bias"]]
    for a, b in zip(got, keras_model.get_weights()):
        np.testing.assert_allclose(np.asarray(a), b, rtol=2e-5, atol=2e-6)
    assert int(ts.step) == 120


def test_custom_test_step_runs_in_evaluate(rng):
    x, y = _regression(rng, 64)

    def test_step(ts, data):
        x, y = data
        y_pred, _ = model.apply(ts.params, ts.state, x)
        return ts, {"max_error": jax.numpy.max(jax.numpy.abs(y_pred - y))}

    model = _get_model()
    trainer = Trainer(model, "sgd", "mse", test_step=test_step)
    ts = trainer.init()
    logs = trainer.evaluate(ts, x, y, batch_size=64, verbose=0, return_dict=True)
    y_pred = trainer.predict(ts, x, verbose=0)
    np.testing.assert_allclose(logs["max_error"], np.abs(y_pred - y).max(), rtol=1e-6)


def test_custom_step_without_a_loss_keeps_its_own_trackers(rng):
    # The guide's second section: no compiled loss, the step's own
    # `Mean(name="loss")` and MAE, reset by fit every epoch.
    x, y = _regression(rng, 64)
    loss_tracker = kerax.metrics.Mean(name="loss")
    mae_metric = kerax.metrics.MeanAbsoluteError(name="mae")
    model = _get_model()

    def train_step(ts, data):
        x, y = data

        def loss_fn(params):
            y_pred, state = model.apply(params, ts.state, x, training=True)
            return kerax.losses.mean_squared_error(y, y_pred).mean(), (y_pred, state)

        (loss, (y_pred, state)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            ts.params
        )
        updates, opt_state = trainer.tx.update(grads, ts.opt_state, ts.params)
        metric_states = {
            "loss": loss_tracker.update(ts.metric_states["loss"], loss),
            "mae": mae_metric.update(ts.metric_states["mae"], y, y_pred),
        }
        ts = ts._replace(
            params=optax.apply_updates(ts.params, updates),
            state=state,
            opt_state=opt_state,
            step=ts.step + 1,
            metric_states=metric_states,
        )
        return ts, {
            "loss": loss_tracker.result(metric_states["loss"]),
            "mae": mae_metric.result(metric_states["mae"]),
        }

    trainer = Trainer(
        model, "sgd", metrics=[loss_tracker, mae_metric], train_step=train_step
    )
    ts, history = trainer.fit(trainer.init(), x, y, batch_size=16, epochs=2, verbose=0)
    assert trainer.metrics_names == ["loss", "mae"]
    assert history.history["loss"][1] < history.history["loss"][0]
    # Reset every epoch: the count is one epoch's batches.
    assert float(ts.metric_states["loss"]["count"]) == 4
