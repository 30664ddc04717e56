# ruff: noqa: E402, F811, I001 - the guide sets KERAS_BACKEND first and redefines its model.
"""Port of the keras-io guide "Customizing what happens in `fit()` with JAX"
(fchollet; Apache 2.0).

Source: keras-team/keras-io, guides/custom_train_step_in_jax.py at commit
f4c6e0b91770bc093f5133462d0dd9b45f42c5c9. Keras's overridden
`train_step(self, state, data)` becomes the model method that
`kerax.Trainer(..., train_step=...)` runs: its `state` is the TrainState
(params, state, opt_state, metric_states) instead of Keras's four variable
lists, the compiled loss and metrics are `trainer.objectives`
(`compute_loss`, `update_metrics`, `results`) and the optimizer is an optax
transformation (`trainer.tx`). Markers as in functional_api.py.
"""

# Setup

import os

# This guide can only be run with the JAX backend.
os.environ["KERAS_BACKEND"] = "jax"

import jax
import kerax
import numpy as np
import optax  # kerax: state

# A first simple example


class CustomModel(kerax.Model):
    def compute_loss_and_updates(
        self,
        trainable_variables,
        non_trainable_variables,
        x,
        y,
        training=False,
    ):
        y_pred, non_trainable_variables = self.apply(  # kerax: state
            trainable_variables,
            non_trainable_variables,
            x,
            training=training,
        )
        loss, _ = trainer.objectives.compute_loss(y, y_pred)  # kerax: state
        return loss, (y_pred, non_trainable_variables)

    def train_step(self, state, data):
        (
            trainable_variables,
            non_trainable_variables,
            optimizer_variables,
            metrics_variables,
        ) = (
            state.params,
            state.state,
            state.opt_state,
            state.metric_states,
        )  # kerax: state
        x, y = data

        # Get the gradient function.
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)

        # Compute the gradients.
        (loss, (y_pred, non_trainable_variables)), grads = grad_fn(
            trainable_variables,
            non_trainable_variables,
            x,
            y,
            training=True,
        )

        # Update trainable variables and optimizer variables.
        updates, optimizer_variables = trainer.tx.update(  # kerax: state
            grads,
            optimizer_variables,
            trainable_variables,  # kerax: state
        )  # kerax: state
        trainable_variables = optax.apply_updates(
            trainable_variables, updates
        )  # kerax: state

        # Update metrics.
        new_metrics_vars = trainer.objectives.update_metrics(  # kerax: state
            metrics_variables,
            loss,
            [loss],
            y,
            y_pred,
            None,
            x.shape[0],  # kerax: state
        )  # kerax: state
        logs = trainer.objectives.results(new_metrics_vars)  # kerax: state

        # Return metric logs and updated state variables.
        state = state._replace(  # kerax: state
            params=trainable_variables,  # kerax: state
            state=non_trainable_variables,  # kerax: state
            opt_state=optimizer_variables,  # kerax: state
            metric_states=new_metrics_vars,  # kerax: state
            step=state.step + 1,  # kerax: state
        )  # kerax: state
        return state, logs  # kerax: state


# Construct and compile an instance of CustomModel
inputs = kerax.Input(shape=(32,))
outputs = kerax.layers.Dense(1)(inputs)
model = CustomModel(inputs, outputs)
trainer = kerax.Trainer(  # kerax: state
    model,
    optimizer="adam",
    loss="mse",
    metrics=["mae"],
    train_step=model.train_step,  # kerax: state
)  # kerax: state

# Just use `fit` as usual
x = np.random.random((1000, 32))
y = np.random.random((1000, 1))
ts, history = trainer.fit(trainer.init(), x, y, epochs=3)  # kerax: state

# Going lower-level


class CustomModel(kerax.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = kerax.metrics.Mean(name="loss")
        self.mae_metric = kerax.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = kerax.losses.MeanSquaredError()

    def compute_loss_and_updates(
        self,
        trainable_variables,
        non_trainable_variables,
        x,
        y,
        training=False,
    ):
        y_pred, non_trainable_variables = self.apply(  # kerax: state
            trainable_variables,
            non_trainable_variables,
            x,
            training=training,
        )
        loss = self.loss_fn(y, y_pred)
        return loss, (y_pred, non_trainable_variables)

    def train_step(self, state, data):
        (
            trainable_variables,
            non_trainable_variables,
            optimizer_variables,
            metrics_variables,
        ) = (
            state.params,
            state.state,
            state.opt_state,
            state.metric_states,
        )  # kerax: state
        x, y = data

        # Get the gradient function.
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)

        # Compute the gradients.
        (loss, (y_pred, non_trainable_variables)), grads = grad_fn(
            trainable_variables,
            non_trainable_variables,
            x,
            y,
            training=True,
        )

        # Update trainable variables and optimizer variables.
        updates, optimizer_variables = trainer.tx.update(  # kerax: state
            grads,
            optimizer_variables,
            trainable_variables,  # kerax: state
        )  # kerax: state
        trainable_variables = optax.apply_updates(
            trainable_variables, updates
        )  # kerax: state

        # Update metrics.
        loss_tracker_vars = metrics_variables["loss"]  # kerax: state
        mae_metric_vars = metrics_variables["mae"]  # kerax: state

        loss_tracker_vars = self.loss_tracker.stateless_update_state(
            loss_tracker_vars, loss
        )
        mae_metric_vars = self.mae_metric.stateless_update_state(
            mae_metric_vars, y, y_pred
        )

        logs = {}
        logs[self.loss_tracker.name] = self.loss_tracker.stateless_result(
            loss_tracker_vars
        )
        logs[self.mae_metric.name] = self.mae_metric.stateless_result(mae_metric_vars)

        new_metrics_vars = {
            "loss": loss_tracker_vars,
            "mae": mae_metric_vars,
        }  # kerax: state

        # Return metric logs and updated state variables.
        state = state._replace(  # kerax: state
            params=trainable_variables,  # kerax: state
            state=non_trainable_variables,  # kerax: state
            opt_state=optimizer_variables,  # kerax: state
            metric_states=new_metrics_vars,  # kerax: state
            step=state.step + 1,  # kerax: state
        )  # kerax: state
        return state, logs  # kerax: state

    @property
    def metrics(self):
        # We list our `Metric` objects here so that `reset_states()` can be
        # called automatically at the start of each epoch
        # or at the start of `evaluate()`.
        return [self.loss_tracker, self.mae_metric]


# Construct an instance of CustomModel
inputs = kerax.Input(shape=(32,))
outputs = kerax.layers.Dense(1)(inputs)
model = CustomModel(inputs, outputs)

# We don't pass a loss or metrics here.
trainer = kerax.Trainer(  # kerax: state
    model,
    optimizer="adam",
    metrics=model.metrics,
    train_step=model.train_step,  # kerax: state
)  # kerax: state

# Just use `fit` as usual -- you can use callbacks, etc.
x = np.random.random((1000, 32))
y = np.random.random((1000, 1))
ts, history = trainer.fit(trainer.init(), x, y, epochs=5)  # kerax: state

# Providing your own evaluation step


class CustomModel(kerax.Model):
    def test_step(self, state, data):
        # Unpack the data.
        x, y = data
        (
            trainable_variables,
            non_trainable_variables,
            metrics_variables,
        ) = state.params, state.state, state.metric_states  # kerax: state

        # Compute predictions and loss.
        y_pred, non_trainable_variables = self.apply(  # kerax: state
            trainable_variables,
            non_trainable_variables,
            x,
            training=False,
        )
        loss, _ = trainer.objectives.compute_loss(y, y_pred)  # kerax: state

        # Update metrics.
        new_metrics_vars = trainer.objectives.update_metrics(  # kerax: state
            metrics_variables,
            loss,
            [loss],
            y,
            y_pred,
            None,
            x.shape[0],  # kerax: state
        )  # kerax: state
        logs = trainer.objectives.results(new_metrics_vars)  # kerax: state

        # Return metric logs and updated state variables.
        state = state._replace(metric_states=new_metrics_vars)  # kerax: state
        return state, logs  # kerax: state


# Construct an instance of CustomModel
inputs = kerax.Input(shape=(32,))
outputs = kerax.layers.Dense(1)(inputs)
model = CustomModel(inputs, outputs)
trainer = kerax.Trainer(
    model, loss="mse", metrics=["mae"], test_step=model.test_step
)  # kerax: state

# Evaluate with our custom test_step
x = np.random.random((1000, 32))
y = np.random.random((1000, 1))
test_logs = trainer.evaluate(trainer.init(), x, y)  # kerax: state
