"""SimpleRNN, LSTM, GRU and their cells: contract, Keras parity, masks, dropout, errors."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.interop.keras import layer_from_keras, layer_weights
from kerax.layers._docs import undocumented_args
from kerax.testing import check_layer, check_strict_promotion, keras_parity

B, T, F, U = 2, 4, 3, 4
MASK = np.array([[True, True, True, False], [False, True, True, True]])


@pytest.fixture
def X(rng):
    """A `(B, T, F)` input sequence, drawn from the test's own generator."""
    return rng.standard_normal((B, T, F)).astype("float32")


CONFIGS = [
    {},
    {"return_sequences": True},
    {"return_sequences": True, "return_state": True, "go_backwards": True},
    {"return_sequences": True, "unroll": True},
    {"return_state": True, "go_backwards": True, "unroll": True},
]


# ------------------------------------------------------------------ contract
@pytest.mark.parametrize(
    "layer",
    [
        layers.SimpleRNN(U, return_sequences=True, go_backwards=True),
        layers.LSTM(U, return_state=True, unroll=True),
        layers.LSTM(U, return_sequences=True, go_backwards=True),
        layers.GRU(U, reset_after=False, return_sequences=True, unroll=True),
    ],
    ids=["simple", "lstm_state_unroll", "lstm_seq_backwards", "gru_reset_before"],
)
def test_contract(layer):
    # Without unroll, the time dimension may be symbolic too (variable length).
    time = T if layer.unroll else None
    check_layer(layer, kerax.spec((None, time, F)))


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_strict_rank_promotion(cls, X):
    # Init outside: kerax.initializers.Orthogonal itself broadcasts implicitly.
    layer = cls(
        U, return_sequences=True, return_state=True, dropout=0.1, recurrent_dropout=0.1
    )
    params, state = layer.init(jax.random.key(0), kerax.spec((None, T, F)))
    x, key = jnp.asarray(X), jax.random.key(1)
    check_strict_promotion(
        layer, params, state, x, mask=jnp.asarray(MASK), training=True, key=key
    )
    if cls is layers.LSTM:  # The backward pass once (JAX's transpose of the same ops).
        with jax.numpy_rank_promotion("raise"):
            grads = jax.grad(
                lambda p: layer.apply(p, state, x, training=True, key=key)[0][0].sum()
            )(params)
        assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))


def test_contract_masked_with_dropout():
    mask = jnp.array(np.r_[MASK, MASK[:1]])  # check_layer's batch is 3.
    layer = layers.GRU(
        U, return_sequences=True, return_state=True, dropout=0.2, recurrent_dropout=0.3
    )
    check_layer(layer, kerax.spec((3, T, F)), mask=mask)


@pytest.mark.parametrize(
    "cell",
    [
        layers.SimpleRNNCell(U),
        layers.LSTMCell(U),
        layers.GRUCell(U, reset_after=False),
    ],
    ids=["simple", "lstm", "gru_reset_before"],
)
def test_cell_contract(cell):
    _, _, _, (y, states) = check_layer(cell, kerax.spec((None, F)))
    assert y.shape == (3, U)
    assert len(states) == (2 if isinstance(cell, layers.LSTMCell) else 1)


# ------------------------------------------------------------------ Keras parity
@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(c) or "default")
@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_keras_parity(name, config, masked, X):
    keras_parity(
        getattr(keras.layers, name)(U, **config), X, mask=MASK if masked else None
    )


@pytest.mark.parametrize(
    "keras_layer",
    [
        lambda: keras.layers.GRU(U, reset_after=False, return_sequences=True),
        lambda: keras.layers.GRU(
            U, reset_after=False, use_bias=False, go_backwards=True
        ),
        lambda: keras.layers.GRU(U, use_bias=False, return_state=True),
        lambda: keras.layers.LSTM(
            U, use_bias=False, activation="relu", recurrent_activation="hard_sigmoid"
        ),
        lambda: keras.layers.LSTM(U, unit_forget_bias=False, return_sequences=True),
        lambda: keras.layers.SimpleRNN(
            U, activation="relu", use_bias=False, return_sequences=True
        ),
    ],
    ids=[
        "gru_reset_before",
        "gru_reset_before_nobias",
        "gru_nobias",
        "lstm_nobias_relu",
        "lstm_no_forget_bias",
        "simple_relu",
    ],
)
def test_keras_parity_options(keras_layer, X):
    keras_parity(keras_layer(), X, mask=MASK)
    keras_parity(keras_layer(), X)


def test_keras_parity_initial_state(X, rng):
    h, c = (
        rng.standard_normal((B, U)).astype("float32"),
        rng.standard_normal((B, U)).astype("float32"),
    )
    keras_parity(
        keras.layers.LSTM(U, return_sequences=True, return_state=True),
        X,
        call_kwargs={"initial_state": [h, c]},
    )
    keras_parity(
        keras.layers.GRU(U, return_sequences=True, go_backwards=True),
        X,
        call_kwargs={"initial_state": [h]},
    )
    keras_parity(
        keras.layers.SimpleRNN(U, return_state=True),
        X,
        call_kwargs={"initial_state": [h], "mask": MASK},
    )
    # A masked first step with a non-zero initial state: Keras's scan and its
    # unrolled loop disagree on the output there; kerax follows each.
    keras_parity(
        keras.layers.LSTM(U, return_sequences=True),
        X,
        call_kwargs={"initial_state": [h, c], "mask": MASK},
    )
    keras_parity(
        keras.layers.LSTM(U, return_sequences=True, unroll=True),
        X,
        call_kwargs={"initial_state": [h, c], "mask": MASK},
    )


def test_keras_parity_cells_in_rnn(X):
    for cell in (
        keras.layers.SimpleRNNCell(U),
        keras.layers.LSTMCell(U),
        keras.layers.GRUCell(U, reset_after=False),
    ):
        layer = keras_parity(
            keras.layers.RNN(cell, return_sequences=True, return_state=True),
            X,
            mask=MASK,
        )[0]
        assert isinstance(layer.cell, getattr(layers, type(cell).__name__))


def test_keras_parity_long_sequence(rng):
    x = rng.standard_normal((B, 40, F)).astype("float32")
    keras_parity(keras.layers.LSTM(U, return_sequences=True), x, atol=1e-4)


def test_cell_step_equals_keras_cell(X, rng):
    x_t, h, c = (
        X[:, 0],
        rng.standard_normal((B, U)).astype("float32"),
        rng.standard_normal((B, U)).astype("float32"),
    )
    k_cell = keras.layers.LSTMCell(U)
    want_y, (want_h, want_c) = k_cell(x_t, [h, c])
    cell = layer_from_keras(k_cell)
    params = {v.name: np.asarray(v.numpy()) for v in k_cell.weights}
    ((y, (h2, c2)), _) = cell.apply(
        params, {}, jnp.asarray(x_t), states=(jnp.asarray(h), jnp.asarray(c))
    )
    for a, b in ((y, want_y), (h2, want_h), (c2, want_c)):
        np.testing.assert_allclose(a, np.asarray(b), atol=1e-6)


# ------------------------------------------------------------------ params, init, masks
def test_param_names_and_layouts():
    spec = kerax.spec((None, T, F))
    p, _ = layers.LSTM(U).init(jax.random.key(0), spec)
    assert {k: v.shape for k, v in p["lstm_cell"].items()} == {
        "kernel": (F, 4 * U),
        "recurrent_kernel": (U, 4 * U),
        "bias": (4 * U,),
    }
    np.testing.assert_array_equal(
        p["lstm_cell"]["bias"], np.r_[np.zeros(U), np.ones(U), np.zeros(2 * U)]
    )
    p, _ = layers.LSTM(U, unit_forget_bias=False).init(jax.random.key(0), spec)
    np.testing.assert_array_equal(p["lstm_cell"]["bias"], np.zeros(4 * U))
    p, _ = layers.GRU(U).init(jax.random.key(0), spec)
    assert p["gru_cell"]["bias"].shape == (2, 3 * U)
    p, _ = layers.GRU(U, reset_after=False, use_bias=False).init(
        jax.random.key(0), spec
    )
    assert sorted(p["gru_cell"]) == ["kernel", "recurrent_kernel"]
    p, _ = layers.SimpleRNN(U).init(jax.random.key(0), spec)
    assert p["simple_rnn_cell"]["recurrent_kernel"].shape == (U, U)


def test_masked_steps_carry_state(X):
    layer = layers.GRU(U, return_sequences=True, return_state=True)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, T, F)))
    x = jnp.asarray(X)
    mask = jnp.array([[True, False, True, False]] * B)
    (seq, h), _ = layer.apply(params, state, x, mask=mask)
    # Dropping the masked steps gives the same final state and unmasked outputs.
    (seq2, h2), _ = layer.apply(params, state, x[:, ::2], mask=None)
    np.testing.assert_allclose(h, h2, atol=1e-6)
    np.testing.assert_allclose(seq[:, ::2], seq2, atol=1e-6)
    np.testing.assert_allclose(
        seq[:, 1], seq[:, 0], atol=0
    )  # Masked: the previous output.


def test_mask_from_embedding_flows_to_rnn():
    tokens = np.array([[3, 1, 0, 0], [2, 5, 4, 0]], np.int32)
    k_model = keras.Sequential(
        [
            keras.Input((T,), dtype="int32"),
            keras.layers.Embedding(6, F, mask_zero=True),
            keras.layers.LSTM(U, return_sequences=True),
            keras.layers.GRU(U),
        ]
    )
    want = np.asarray(k_model(tokens))
    model = kerax.Sequential([layer_from_keras(k) for k in k_model.layers])
    params = {
        name: layer_weights(k_layer, layer)[0]
        for k_layer, (name, layer) in zip(k_model.layers, model.named_layers())
    }
    got, _ = model.apply(params, {}, jnp.asarray(tokens))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_seq2seq_with_functional_initial_state(X):
    enc_in, dec_in = kerax.Input((T, F)), kerax.Input((3, 2))
    _, h, c = layers.LSTM(U, return_state=True, name="encoder")(enc_in)
    out = layers.LSTM(U, return_sequences=True, name="decoder")(
        dec_in, initial_state=[h, c]
    )
    model = kerax.Model([enc_in, dec_in], out)
    params, state = model.init(
        jax.random.key(0), [kerax.spec((None, T, F)), kerax.spec((None, 3, 2))]
    )
    x_dec = jnp.ones((B, 3, 2))
    y, _ = model.apply(params, state, [jnp.asarray(X), x_dec])
    assert y.shape == (B, 3, U)
    enc, dec = model.get_layer("encoder"), model.get_layer("decoder")
    (_, h, c), _ = enc.apply(params["encoder"], {}, jnp.asarray(X))
    want, _ = dec.apply(params["decoder"], {}, x_dec, initial_state=[h, c])
    np.testing.assert_allclose(y, want, atol=1e-6)


# ------------------------------------------------------------------ dropout
def test_dropout_needs_key_and_is_deterministic(X):
    layer = layers.LSTM(U, dropout=0.5, recurrent_dropout=0.5, return_sequences=True)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, T, F)))
    x = jnp.asarray(X)
    with pytest.raises(
        ValueError, match="LSTM 'lstm' is random in training and needs a PRNG key"
    ):
        layer.apply(params, state, x, training=True)
    a, _ = layer.apply(params, state, x, training=True, key=jax.random.key(1))
    b, _ = layer.apply(params, state, x, training=True, key=jax.random.key(1))
    c, _ = layer.apply(params, state, x, training=True, key=jax.random.key(2))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    # Inference ignores dropout (and needs no key).
    y, _ = layer.apply(params, state, x)
    ref, _ = layers.LSTM(U, return_sequences=True).apply(params, state, x)
    np.testing.assert_array_equal(y, ref)


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.GRU, layers.LSTM])
@pytest.mark.parametrize("rates", [(0.5, 0.0), (0.5, 0.5)], ids=["dropout", "both"])
def test_dropout_masks_are_per_sequence(cls, rates, X):
    # The RNN draws its masks once per sequence: each step equals the cell
    # called alone with the same key (which draws the same masks).
    layer = cls(U, dropout=rates[0], recurrent_dropout=rates[1], return_sequences=True)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, T, F)))
    key = jax.random.key(3)
    y, _ = layer.apply(params, state, jnp.asarray(X), training=True, key=key)
    cell, name = layer.cell, layer.cell.scope_name
    cell_key = kerax.core.naming.child_key(key, name)
    states, steps = None, []
    for t in range(T):
        (out, states), _ = cell.apply(
            params[name],
            {},
            jnp.asarray(X[:, t]),
            states=states,
            key=cell_key,
            training=True,
        )
        steps.append(out)
    np.testing.assert_allclose(y, jnp.stack(steps, 1), atol=1e-6)
    y_inf, _ = layer.apply(params, state, jnp.asarray(X))
    assert not np.allclose(y, y_inf)


def test_simple_rnn_dropout_mask_constant_over_time():
    layer = layers.SimpleRNN(8, dropout=0.5, return_sequences=True)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 6, 5)))
    params["simple_rnn_cell"]["recurrent_kernel"] = jnp.zeros((8, 8))
    y, _ = layer.apply(
        params, state, jnp.ones((4, 6, 5)), training=True, key=jax.random.key(3)
    )
    np.testing.assert_allclose(y[:, 1:], jnp.repeat(y[:, :1], 5, axis=1), rtol=1e-6)


def test_cell_dropout_same_key_same_mask():
    cell = layers.SimpleRNNCell(U, dropout=0.5)
    params, state = cell.init(jax.random.key(0), kerax.spec((None, F)))
    x = jnp.ones((B, F))
    k = jax.random.key(7)
    (y1, _), _ = cell.apply(params, state, x, key=k, training=True)
    (y2, _), _ = cell.apply(params, state, x, key=k, training=True)
    np.testing.assert_array_equal(y1, y2)
    with pytest.raises(ValueError, match="needs a PRNG key"):
        cell.apply(params, state, x, training=True)


def test_dropout_rates_are_clamped_like_keras():
    assert (
        layers.LSTM(U, dropout=1.5, recurrent_dropout=-1).get_config()["dropout"] == 1.0
    )
    assert layers.GRUCell(U, recurrent_dropout=-0.5).recurrent_dropout == 0.0


# ------------------------------------------------------------------ regularizers, config
def test_regularizers_and_activity_loss(X):
    layer = layers.LSTM(
        U,
        kernel_regularizer="l2",
        recurrent_regularizer="l1",
        activity_regularizer="l2",
        return_sequences=True,
    )
    params, state = layer.init(jax.random.key(0), kerax.spec((None, T, F)))
    cell = params["lstm_cell"]
    want = 0.01 * jnp.sum(cell["kernel"] ** 2) + 0.01 * jnp.sum(
        jnp.abs(cell["recurrent_kernel"])
    )
    np.testing.assert_allclose(layer.regularization_loss(params), want, rtol=1e-6)
    y, _, total = layer.apply_with_losses(params, state, jnp.asarray(X))
    # Keras divides the activity loss by the batch size.
    np.testing.assert_allclose(total, want + 0.01 * jnp.sum(y**2) / B, rtol=1e-5)
    # A generic RNN takes `activity_regularizer` too (a Keras base-layer argument),
    # applied to every output, states included.
    rnn = layers.RNN(layers.GRUCell(U), activity_regularizer="l2", return_state=True)
    params, state = rnn.init(jax.random.key(0), kerax.spec((None, T, F)))
    (y, h), _, total = rnn.apply_with_losses(params, state, jnp.asarray(X))
    np.testing.assert_allclose(
        total, 0.01 * (jnp.sum(y**2) + jnp.sum(h**2)) / B, rtol=1e-5
    )


def test_config_round_trip_and_keras_config():
    layer = layers.GRU(U, reset_after=False, dropout=0.1, go_backwards=True, name="g")
    rebuilt = kerax.core.serialization.from_config(
        kerax.core.serialization.to_json(layer)
    )
    assert rebuilt == layer and rebuilt.cell == layer.cell
    k = keras.layers.LSTM(U, dropout=0.2, unroll=True, kernel_initializer="he_normal")
    assert layer_from_keras(k).get_config()["unroll"] is True
    assert layers.LSTM(3).use_cudnn == "auto"


# ------------------------------------------------------------------ errors
def test_errors(X):
    with pytest.raises(
        ValueError, match="LSTM 'lstm'.*stateful=True is not supported.*initial_state"
    ):
        layers.LSTM(U, stateful=True)
    with pytest.raises(
        ValueError, match="GRU 'gru': argument `units`: expected a positive integer"
    ):
        layers.GRU(0)
    with pytest.raises(ValueError, match="use_cudnn"):
        layers.LSTM(U, use_cudnn="yes")
    with pytest.raises(
        ValueError, match="SimpleRNN 'simple_rnn' expected inputs of rank 3"
    ):
        layers.SimpleRNN(U).init(jax.random.key(0), kerax.spec((None, F)))
    with pytest.raises(
        ValueError, match="LSTM 'lstm'.*unroll=True needs a fixed number of time steps"
    ):
        layers.LSTM(U, unroll=True).output_spec(kerax.spec((None, None, F)))
    layer = layers.LSTM(U)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, T, F)))
    with pytest.raises(ValueError, match="LSTM 'lstm'.*2 state"):
        layer.apply(params, state, jnp.asarray(X), initial_state=[jnp.zeros((B, U))])
    with pytest.raises(ValueError, match="initial_state .* does not match"):
        layer.apply(
            params,
            state,
            jnp.asarray(X),
            initial_state=[jnp.zeros((B, U + 1)), jnp.zeros((B, U))],
        )


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in kerax.layers.recurrent.__all__
        if isinstance(getattr(kerax.layers, n), type)
    ],
)
def test_every_argument_is_documented(name):
    cls = getattr(kerax.layers, name)
    assert "Example:" in cls.__doc__, f"{name} has no Example section"
    assert undocumented_args(cls) == [], f"{name}'s Args section misses these fields"
