"""`Trainer.fit` against Keras 3 `fit` (JAX backend): same model, weights, data.

The kerax model gets the Keras model's initial weights (by layer name,
`kerax.interop.layer_weights`); both train without shuffling, so every epoch's
loss, metric and validation values must agree, partial last batches included.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax import layers, optimizers
from kerax.interop import layer_weights
from kerax.training import Trainer

keras = pytest.importorskip("keras")

CASES = {
    "mlp": lambda L: [
        L.Dense(16, activation="relu", name="hidden"),
        L.Dense(3, activation="softmax", name="out"),
    ],
    "batchnorm": lambda L: [
        L.Dense(16, name="hidden"),
        L.BatchNormalization(name="bn"),
        L.Activation("relu", name="act"),
        L.Dense(3, activation="softmax", name="out"),
    ],
}


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(260, 8)).astype(np.float32)
    y = ((x[:, 0] > 0).astype(np.int32) + (x[:, 1] > 0.5)).astype(np.int32)
    sw = rng.uniform(0.5, 1.5, size=(200,)).astype(np.float32)
    return (x[:200], y[:200], sw), (x[200:], y[200:])


@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_matches_keras(case):
    (x, y, sw), (xv, yv) = _data()
    k_model = keras.Sequential([keras.Input((8,)), *CASES[case](keras.layers)])
    k_model.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.5),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model = kerax.Sequential([kerax.Input((8,)), *CASES[case](layers)])

    params, state = {}, {}
    for name, layer in model.named_layers():
        p, s = layer_weights(k_model.get_layer(name), layer)
        if p:
            params[name] = p
        if s:
            state[name] = s
    trainer = Trainer(
        model,
        optimizers.SGD(0.1, momentum=0.5),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    ts = trainer.init()
    params, state = jax.tree.map(jnp.asarray, (params, state))
    ts = ts._replace(params=params, state=state, opt_state=trainer.tx.init(params))

    kwargs = dict(
        batch_size=32,
        epochs=3,
        shuffle=False,
        validation_data=(xv, yv),
        verbose=0,
        sample_weight=sw,
    )
    k_hist = k_model.fit(
        x, y, **kwargs
    ).history  # 200 = 6 * 32 + 8: a partial last batch.
    ts, hist = trainer.fit(ts, x, y, **kwargs)

    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(
            hist.history[key], k_hist[key], atol=1e-4, err_msg=key
        )
    for name, layer in model.named_layers():
        want, want_state = layer_weights(k_model.get_layer(name), layer)
        for got, ref in zip(
            jax.tree.leaves((ts.params.get(name, {}), ts.state.get(name, {}))),
            jax.tree.leaves((want, want_state)),
        ):
            np.testing.assert_allclose(np.asarray(got), ref, atol=1e-4, err_msg=name)
    k_eval = k_model.evaluate(xv, yv, verbose=0, return_dict=True)
    ours = trainer.evaluate(ts, xv, yv, verbose=0, return_dict=True)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(ours[key], k_eval[key], atol=1e-4)
    np.testing.assert_allclose(
        trainer.predict(ts, xv, verbose=0), k_model.predict(xv, verbose=0), atol=1e-5
    )
