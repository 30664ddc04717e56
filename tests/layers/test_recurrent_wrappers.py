"""RNN with user cells, StackedRNNCells, Bidirectional, TimeDistributed, ConvLSTM."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.interop.keras import layer_from_keras
from kerax.testing import check_layer, keras_parity

B, T, F, U = 2, 4, 3, 4
MASK = np.array([[True, True, False, False], [True, False, True, True]])


@pytest.fixture
def X(rng):
    """A `(B, T, F)` input sequence, drawn from the test's own generator."""
    return rng.standard_normal((B, T, F)).astype("float32")


# ------------------------------------------------------------------ user cells
@kerax.register
class MinimalRNNCell(kerax.Layer):
    """The user cell of Keras's RNN docstring, written for kerax."""

    units: int = 4

    @property
    def state_size(self):
        return self.units

    def build(self, key, spec):
        k1, k2 = jax.random.split(key)
        return {
            "kernel": jax.random.uniform(
                k1, (spec.shape[-1], self.units), minval=-0.05, maxval=0.05
            ),
            "recurrent_kernel": jax.random.uniform(
                k2, (self.units, self.units), minval=-0.05, maxval=0.05
            ),
        }, {}

    def call(self, params, state, inputs, *, states, key, training):
        del key, training
        (prev,) = states
        h = inputs @ params["kernel"] + prev @ params["recurrent_kernel"]
        return (h, (h,)), state


class KerasMinimalRNNCell(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="uniform", name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units),
            initializer="uniform",
            name="recurrent_kernel",
        )

    def call(self, inputs, states):
        h = inputs @ self.kernel + states[0] @ self.recurrent_kernel
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


KerasMinimalRNNCell.__name__ = "MinimalRNNCell"  # The name kerax looks up.


@kerax.register
class NoisyPeepholeCell(kerax.Layer):
    """Two states, a non-trainable counter in `state`, and dropout drawn from `key`."""

    units: int = 3
    rate: float = 0.5

    @property
    def state_size(self):
        return (self.units, self.units)

    def build(self, key, spec):
        return {"kernel": jax.random.normal(key, (spec.shape[-1], self.units))}, {
            "steps": jnp.zeros((), jnp.int32)
        }

    def call(self, params, state, inputs, *, states, key, training):
        h, c = states
        if training:
            self.require_key(key)
            inputs = (
                inputs
                * jax.random.bernoulli(key, 1 - self.rate, inputs.shape)
                / (1 - self.rate)
            )
            state = {"steps": state["steps"] + 1}
        c = c + inputs @ params["kernel"]
        h = jnp.tanh(c) + h
        return (h, (h, c)), state


def test_user_cell_contract_and_parity(X):
    check_layer(
        layers.RNN(MinimalRNNCell(U), return_sequences=True), kerax.spec((None, T, F))
    )
    layer = keras_parity(
        keras.layers.RNN(
            KerasMinimalRNNCell(U), return_sequences=True, return_state=True
        ),
        X,
        mask=MASK,
    )[0]
    assert isinstance(layer.cell, MinimalRNNCell)
    keras_parity(
        keras.layers.RNN(KerasMinimalRNNCell(U), go_backwards=True, unroll=True), X
    )


def test_user_cell_state_and_per_sequence_key():
    layer = layers.RNN(NoisyPeepholeCell(), return_sequences=True, return_state=True)
    check_layer(layer, kerax.spec((None, T, F)))
    params, state = layer.init(jax.random.key(0), kerax.spec((None, T, F)))
    x = jnp.ones((B, T, F))
    with pytest.raises(
        ValueError,
        match="NoisyPeepholeCell 'noisy_peephole_cell' is random in training",
    ):
        layer.apply(params, state, x, training=True)
    (seq, h, c), new_state = layer.apply(
        params, state, x, training=True, key=jax.random.key(0)
    )
    assert (
        int(new_state["noisy_peephole_cell"]["steps"]) == T
    )  # Cell state is carried by the scan.
    # One key per sequence: with constant inputs every step adds the same dropped
    # input v to c, so c_t = t * v and h_t = sum_{s <= t} tanh(s * v).
    steps = jnp.arange(1, T + 1, dtype=jnp.float32)[None, :, None]
    c_per_step = c[:, None] * steps / T
    np.testing.assert_allclose(
        jnp.cumsum(jnp.tanh(c_per_step), axis=1), seq, rtol=1e-5, atol=1e-5
    )


def test_cell_protocol_errors(X):
    with pytest.raises(TypeError, match="a cell must be a kerax Layer"):
        layers.RNN(keras.layers.LSTMCell(3))
    with pytest.raises(ValueError, match="needs a `state_size`"):
        layers.RNN(layers.Dense(3))
    layer = layers.RNN(MinimalRNNCell(U))
    params, state = layer.init(jax.random.key(0), kerax.spec((None, T, F)))
    with pytest.raises(ValueError, match="1 state"):
        layer.apply(
            params, state, jnp.asarray(X), initial_state=[jnp.zeros((B, U))] * 2
        )


# ------------------------------------------------------------------ stacked cells
def test_stacked_cells_contract_and_parity(X, rng):
    layer = layers.RNN([layers.LSTMCell(U), layers.GRUCell(U)], return_state=True)
    check_layer(layer, kerax.spec((None, T, F)))
    params, _ = layer.init(jax.random.key(0), kerax.spec((None, T, F)))
    assert sorted(params["stacked_rnn_cells"]) == ["gru_cell", "lstm_cell"]
    cells = [
        keras.layers.LSTMCell(U),
        keras.layers.SimpleRNNCell(U),
        keras.layers.GRUCell(U, reset_after=False),
    ]
    keras_parity(
        keras.layers.RNN(cells, return_sequences=True, return_state=True),
        X,
        mask=MASK,
    )
    h = [
        [rng.standard_normal((B, U)).astype("float32")] * 2,
        [rng.standard_normal((B, U)).astype("float32")],
        [rng.standard_normal((B, U)).astype("float32")],
    ]
    cells = [
        keras.layers.LSTMCell(U),
        keras.layers.SimpleRNNCell(U),
        keras.layers.GRUCell(U),
    ]
    keras_parity(
        keras.layers.RNN(cells, go_backwards=True), X, call_kwargs={"initial_state": h}
    )


def test_stacked_cells_dropout_and_names(X):
    cells = layers.StackedRNNCells(
        [layers.GRUCell(U, dropout=0.3), layers.GRUCell(U, recurrent_dropout=0.3)]
    )
    assert [n for n, _ in cells.named_cells()] == ["gru_cell", "gru_cell_1"]
    layer = layers.RNN(cells)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, T, F)))
    a, _ = layer.apply(
        params, state, jnp.asarray(X), training=True, key=jax.random.key(1)
    )
    b, _ = layer.apply(
        params, state, jnp.asarray(X), training=True, key=jax.random.key(1)
    )
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="GRUCell 'gru_cell' is random in training"):
        layer.apply(params, state, jnp.asarray(X), training=True)


# ------------------------------------------------------------------ Bidirectional
def test_bidirectional_contract():
    layer = layers.LSTM(U, return_sequences=True, return_state=True)
    check_layer(layers.Bidirectional(layer), kerax.spec((None, T, F)))


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_parity_merge_modes(merge_mode, X):
    keras_parity(
        keras.layers.Bidirectional(
            keras.layers.LSTM(U, return_sequences=True), merge_mode=merge_mode
        ),
        X,
        mask=MASK,
    )


def test_bidirectional_parity_options(X, rng):
    h = [rng.standard_normal((B, U)).astype("float32") for _ in range(4)]
    keras_parity(
        keras.layers.Bidirectional(
            keras.layers.LSTM(U, return_sequences=True, return_state=True)
        ),
        X,
        call_kwargs={"initial_state": h, "mask": MASK},
    )
    fwd, bwd = (
        keras.layers.SimpleRNN(U, return_sequences=True),
        keras.layers.SimpleRNN(3, return_sequences=True, go_backwards=True),
    )
    layer = keras_parity(
        keras.layers.Bidirectional(fwd, backward_layer=bwd),
        X,
        mask=MASK,
    )[0]
    assert layer.backward_layer.units == 3
    gru = keras.layers.GRU(U, return_state=True)
    keras_parity(keras.layers.Bidirectional(gru, merge_mode=None), X)
    keras_parity(
        keras.layers.Bidirectional(
            keras.layers.LSTM(U, return_sequences=True, unroll=True), merge_mode="sum"
        ),
        X,
        mask=MASK,
    )


def test_bidirectional_names_and_masks(X):
    bi = layers.Bidirectional(layers.LSTM(U, return_sequences=True, name="enc"))
    params, _ = bi.init(jax.random.key(0), kerax.spec((None, T, F)))
    assert sorted(params) == ["backward_enc", "forward_enc"]
    assert sorted(params["forward_enc"]["lstm_cell"]) == [
        "bias",
        "kernel",
        "recurrent_kernel",
    ]
    mask = jnp.asarray(MASK)
    assert bi.compute_mask(X, mask=mask) is mask
    bi = layers.Bidirectional(
        layers.GRU(U, return_sequences=True, return_state=True), merge_mode=None
    )
    assert bi.compute_mask(X, mask=mask) == (mask, mask, None, None)
    # Masked steps are zeros in both directions when returning sequences (as in Keras).
    params, state = bi.init(jax.random.key(0), kerax.spec((None, T, F)))
    (y, y_rev, _, _), _ = bi.apply(params, state, jnp.asarray(X), mask=mask)
    assert np.all(np.asarray(y)[~MASK] == 0) and np.all(np.asarray(y_rev)[~MASK] == 0)


def test_bidirectional_errors(X):
    with pytest.raises(ValueError, match="invalid merge_mode 'max'"):
        layers.Bidirectional(layers.LSTM(U), merge_mode="max")
    with pytest.raises(ValueError, match="different `go_backwards`"):
        layers.Bidirectional(layers.LSTM(U), backward_layer=layers.LSTM(U))
    with pytest.raises(ValueError, match="same `return_sequences`"):
        layers.Bidirectional(
            layers.LSTM(U),
            backward_layer=layers.LSTM(U, go_backwards=True, return_sequences=True),
        )
    with pytest.raises(ValueError, match="`weights` is not supported"):
        layers.Bidirectional(layers.LSTM(U), weights=[np.zeros(3)])
    with pytest.raises(TypeError, match="recurrent layer with `go_backwards`"):
        layers.Bidirectional(layers.Dense(U))
    bi = layers.Bidirectional(layers.LSTM(U))
    params, state = bi.init(jax.random.key(0), kerax.spec((None, T, F)))
    with pytest.raises(ValueError, match="even number"):
        bi.apply(params, state, jnp.asarray(X), initial_state=[jnp.zeros((B, U))] * 3)
    with pytest.raises(
        ValueError, match="LSTM 'forward_lstm' expected inputs of rank 3"
    ):
        bi.init(jax.random.key(0), kerax.spec((None, F)))


# ------------------------------------------------------------------ TimeDistributed
def test_time_distributed_contract_and_parity(X, rng):
    check_layer(layers.TimeDistributed(layers.Dense(5)), kerax.spec((None, T, F)))
    layer = keras_parity(
        keras.layers.TimeDistributed(keras.layers.Dense(5, activation="relu")), X
    )[0]
    assert isinstance(layer.layer, layers.Dense)
    x4 = rng.standard_normal((B, T, 2, F)).astype("float32")
    keras_parity(keras.layers.TimeDistributed(keras.layers.Dense(5)), x4)


def test_time_distributed_batch_norm_training_runs_per_step(rng):
    x = (
        rng.standard_normal((3, T, F)).astype("float32")
        * np.arange(1, T + 1, dtype="float32")[:, None]
    )
    k_layer = keras.layers.TimeDistributed(keras.layers.BatchNormalization())
    k_layer(x)
    layer = layer_from_keras(k_layer)
    params, state = kerax.interop.keras.layer_weights(k_layer, layer)
    want = np.asarray(k_layer(x, training=True))
    got, new_state = layer.apply(params, state, jnp.asarray(x), training=True)
    np.testing.assert_allclose(got, want, atol=1e-5)
    # The moving statistics were updated once per step, in order, as in Keras.
    for v in k_layer.layer.non_trainable_weights:
        np.testing.assert_allclose(
            new_state[k_layer.layer.name][v.name], v.numpy(), atol=1e-6
        )


def test_time_distributed_mask_and_errors(X):
    td = layers.TimeDistributed(layers.Dense(2))
    mask = jnp.asarray(MASK)
    assert td.compute_mask(X, mask=mask) is mask
    params, state = td.init(jax.random.key(0), kerax.spec((None, T, F)))
    with pytest.raises(
        ValueError, match="TimeDistributed 'time_distributed': the mask"
    ):
        td.apply(params, state, jnp.asarray(X), mask=jnp.ones((B, T + 1), bool))
    with pytest.raises(
        ValueError,
        match="TimeDistributed 'time_distributed' expected inputs .* rank >= 3",
    ):
        td.init(jax.random.key(0), kerax.spec((None, F)))
    with pytest.raises(TypeError, match="argument `layer`: expected a kerax layer"):
        layers.TimeDistributed("dense")


# ------------------------------------------------------------------ ConvLSTM
# Deterministic initializers for 1D/3D: on CPU, compiling jax.random for each
# new kernel shape dominates these checks; 2D runs the defaults and gradients.
_CHEAP_INIT = {"kernel_initializer": "ones", "recurrent_initializer": "zeros"}


@pytest.mark.parametrize(
    "layer, shape",
    [
        (
            layers.ConvLSTM1D(
                2, 3, padding="same", return_sequences=True, **_CHEAP_INIT
            ),
            (None, 3, 5, 2),
        ),
        (
            layers.ConvLSTM2D(2, 3, return_state=True, go_backwards=True),
            (None, 3, 5, 5, 2),
        ),
        (
            layers.ConvLSTM3D(2, 2, data_format="channels_first", **_CHEAP_INIT),
            (None, 2, 1, 3, 3, 3),
        ),
    ],
    ids=["1d", "2d", "3d"],
)
def test_conv_lstm_contract(layer, shape):
    grad = isinstance(layer, layers.ConvLSTM2D)  # Conv gradients compile slowly.
    check_layer(layer, kerax.spec(shape), batch=2, grad=grad)


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"padding": "same", "return_sequences": True},
        {"strides": 2, "return_state": True},
        {
            "dilation_rate": 2,
            "padding": "same",
            "go_backwards": True,
            "return_sequences": True,
        },
        {"use_bias": False, "unit_forget_bias": False, "activation": "relu"},
    ],
    ids=["default", "same_seq", "strides_state", "dilation_backwards", "nobias_relu"],
)
def test_conv_lstm2d_parity(config, rng):
    keras_parity(
        keras.layers.ConvLSTM2D(2, 3, **config),
        rng.standard_normal((B, 3, 5, 5, 2)).astype("float32"),
    )


def test_conv_lstm_parity_other_ranks_and_channels_first(rng):
    keras_parity(
        keras.layers.ConvLSTM2D(
            2, 3, data_format="channels_first", return_sequences=True
        ),
        rng.standard_normal((B, 3, 2, 5, 5)).astype("float32"),
    )
    keras_parity(
        keras.layers.ConvLSTM1D(2, 3, padding="same", return_state=True),
        rng.standard_normal((B, 3, 5, 2)).astype("float32"),
    )
    keras_parity(
        keras.layers.ConvLSTM3D(2, 2, data_format="channels_first", unroll=True),
        rng.standard_normal((B, 2, 1, 3, 3, 3)).astype("float32"),
    )


def test_conv_lstm_params_mask_and_dropout(rng):
    layer = layers.ConvLSTM2D(
        2, 3, padding="same", return_sequences=True, dropout=0.3, recurrent_dropout=0.3
    )
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 3, 5, 5, 2)))
    cell = params["conv_lstm_cell"]
    assert {k: v.shape for k, v in cell.items()} == {
        "kernel": (3, 3, 2, 8),
        "recurrent_kernel": (3, 3, 2, 8),
        "bias": (8,),
    }
    np.testing.assert_array_equal(
        cell["bias"], np.r_[np.zeros(2), np.ones(2), np.zeros(4)]
    )
    x = jnp.asarray(rng.standard_normal((B, 3, 5, 5, 2)).astype("float32"))
    # Keras's JAX backend cannot mask ConvLSTM (it broadcasts the mask wrongly);
    # kerax keeps the state through masked steps like for the other RNNs.
    mask = jnp.array([[True, False, True], [True, True, True]])
    y, _ = layer.apply(params, state, x, mask=mask)
    y_skip, _ = layer.apply(params, state, x[:1, ::2])
    np.testing.assert_allclose(y[:1, ::2], y_skip, atol=1e-6)
    a, _ = layer.apply(params, state, x, training=True, key=jax.random.key(0))
    b, _ = layer.apply(params, state, x, training=True, key=jax.random.key(0))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, layer.apply(params, state, x)[0])
    with pytest.raises(
        ValueError, match="ConvLSTM2D 'conv_lstm2d' is random in training"
    ):
        layer.apply(params, state, x, training=True)


def test_conv_lstm_errors():
    with pytest.raises(
        ValueError,
        match="ConvLSTM2D 'conv_lstm2d'.*strides > 1 is not compatible with dilation_rate > 1",
    ):
        layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(
        ValueError,
        match="ConvLSTM1D 'conv_lstm1d': argument `padding`: must be one of \\['valid', 'same'\\]",
    ):
        layers.ConvLSTM1D(2, 3, padding="causal")
    with pytest.raises(
        ValueError,
        match="argument `kernel_size`: expected an integer or a tuple of 3 integers",
    ):
        layers.ConvLSTM3D(2, (3, 3))
    with pytest.raises(ValueError, match="expected inputs of rank 5"):
        layers.ConvLSTM2D(2, 3).init(jax.random.key(0), kerax.spec((None, 3, 5, 2)))
    with pytest.raises(ValueError, match="spatial dimensions must be static"):
        layers.ConvLSTM1D(2, 3).init(jax.random.key(0), kerax.spec((None, 3, None, 2)))
    assert layers.ConvLSTM2D(2, 3).get_config()["kernel_size"] == [3, 3]
