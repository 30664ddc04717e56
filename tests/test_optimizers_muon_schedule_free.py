"""kerax's Muon and ScheduleFreeAdamW against Keras 3 itself, step by step.

Muon decides per variable from its path and rank, so the weights here are a
small model's: an embedding table, a tall and a wide matrix, a bias and a
3-D kernel, named by Keras variable paths (`keras.name_scope`) on the Keras
side and nested params dicts on the kerax side.
"""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest
from test_optimizers import _assert_trajectories_close, _resolve, _schedule

import kerax
import kerax.optimizers as ko
from kerax import layers as L

SHAPES = {
    "embedding/embeddings": (7, 4),
    "dense/kernel": (5, 3),  # Tall: Newton-Schulz on the transpose.
    "dense/bias": (3,),
    "output_dense/kernel": (3, 6),  # Wide.
    "conv/kernel": (2, 3, 4),  # Not 2-D: always AdamW.
}
STEPS = 5


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}


def _grads(seed=1, steps=STEPS):
    rng = np.random.default_rng(seed)
    return [
        {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}
        for _ in range(steps)
    ]


def _nest(flat):
    out = {}
    for path, value in flat.items():
        layer, name = path.split("/")
        out.setdefault(layer, {})[name] = jnp.asarray(value)
    return out


def _flat(nested):
    return {
        f"{layer}/{name}": np.asarray(v)
        for layer, d in nested.items()
        for name, v in d.items()
    }


def _run_keras(opt, weights, grads_seq, keys=None):
    keys = list(weights) if keys is None else keys
    variables = {}
    for path in keys:
        layer, name = path.split("/")
        with keras.name_scope(layer):
            variables[path] = keras.Variable(weights[path], name=name)
    history = []
    for grads in grads_seq:
        opt.apply_gradients([(jnp.asarray(grads[k]), variables[k]) for k in keys])
        history.append({k: np.asarray(v.numpy()) for k, v in variables.items()})
    return history


def _run_kerax(tx, weights, grads_seq):
    params = _nest(weights)
    update = jax.jit(tx.update)
    history, states = [], []
    with jax.numpy_rank_promotion("raise"):
        state = jax.jit(tx.init)(params)
        for grads in grads_seq:
            updates, state = update(_nest(grads), state, params)
            params = jax.jit(optax.apply_updates)(params, updates)
            history.append(_flat(params))
            states.append(state)
    return history, states


def _assert_moved(history, weights, atol):
    # The comparison means something only if the weights moved far more than
    # the tolerance.
    for k, w in weights.items():
        assert np.max(np.abs(history[-1][k] - w)) > 1000 * atol, k


# (optimizer, kwargs); every argument that changes the update rule.
CASES = [
    ("Muon", {"learning_rate": 0.05}),
    ("Muon", {"learning_rate": 0.05, "exclude_layers": ["output"]}),
    ("Muon", {"learning_rate": 0.05, "exclude_layers": ["^dense/", "nope"]}),
    ("Muon", {"learning_rate": 0.05, "exclude_embeddings": False}),
    ("Muon", {"learning_rate": 0.05, "nesterov": False}),
    ("Muon", {"learning_rate": 0.05, "rms_rate": None}),
    ("Muon", {"learning_rate": 0.05, "rms_rate": 0.5}),
    ("Muon", {"learning_rate": 0.05, "ns_steps": 1}),
    ("Muon", {"learning_rate": 0.05, "ns_steps": 0}),
    ("Muon", {"learning_rate": 0.05, "muon_a": 2.0, "muon_b": -1.5, "muon_c": 0.5}),
    ("Muon", {"learning_rate": 0.05, "momentum": 0.5}),
    ("Muon", {"learning_rate": 0.05, "adam_lr_ratio": 0.1}),
    (
        "Muon",
        {
            "learning_rate": 0.05,
            "adam_beta_1": 0.5,
            "adam_beta_2": 0.9,
            "epsilon": 0.1,
        },
    ),
    ("Muon", {"learning_rate": 0.1, "weight_decay": None, "adam_weight_decay": 0.5}),
    ("Muon", {"learning_rate": 0.1, "weight_decay": 0.5, "adam_weight_decay": None}),
    ("Muon", {"learning_rate": _schedule}),
    (
        "Muon",
        {
            "learning_rate": 0.05,
            "gradient_accumulation_steps": 2,
            "global_clipnorm": 1.0,
            "use_ema": True,
            "ema_overwrite_frequency": 2,
        },
    ),
    ("Muon", {"learning_rate": 0.05, "clipnorm": 0.5, "loss_scale_factor": 4.0}),
    ("ScheduleFreeAdamW", {"learning_rate": 0.05}),
    ("ScheduleFreeAdamW", {"learning_rate": 0.05, "warmup_steps": 3}),
    ("ScheduleFreeAdamW", {"learning_rate": 0.05, "warmup_steps": 100}),
    (
        "ScheduleFreeAdamW",
        {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 0.1},
    ),
    ("ScheduleFreeAdamW", {"learning_rate": 0.05, "beta_1": 1.0}),
    ("ScheduleFreeAdamW", {"learning_rate": 0.1, "weight_decay": 0.5}),
    ("ScheduleFreeAdamW", {"learning_rate": _schedule}),
    (
        "ScheduleFreeAdamW",
        {
            "learning_rate": 0.05,
            "gradient_accumulation_steps": 2,
            "clipvalue": 0.5,
            "use_ema": True,
        },
    ),
]


def _case_id(case):
    name, kwargs = case

    def show(v):
        return "schedule" if callable(v) else v

    return name + "-" + ",".join(f"{k}={show(v)}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_keras_step_by_step(case):
    name, kwargs = case
    weights, grads = _weights(), _grads()
    want = _run_keras(
        getattr(keras.optimizers, name)(**_resolve(kwargs, keras.optimizers)),
        weights,
        grads,
    )
    got, _ = _run_kerax(getattr(ko, name)(**_resolve(kwargs, ko)), weights, grads)
    _assert_trajectories_close(got, want, 1e-6)
    if not kwargs.get("gradient_accumulation_steps"):
        _assert_moved(want, weights, 1e-6)


@pytest.mark.parametrize("name", ["Muon", "ScheduleFreeAdamW"])
def test_bfloat16_params_follow_float32(name):
    # Keras casts the betas to the variable's dtype: in bfloat16 0.999 is 1.0,
    # so its ScheduleFreeAdamW turns the params NaN and its Muon's AdamW step
    # never moves them. kerax keeps those scalars in float32 (as its Adam).
    weights, grads = _weights(), _grads()
    tx = getattr(ko, name)(learning_rate=0.05)
    want, _ = _run_kerax(tx, weights, grads)
    low = {k: v.astype(jnp.bfloat16) for k, v in weights.items()}
    low_grads = [{k: v.astype(jnp.bfloat16) for k, v in g.items()} for g in grads]
    got, _ = _run_kerax(tx, low, low_grads)
    for k in SHAPES:
        assert got[-1][k].dtype == jnp.bfloat16
        moved = np.max(np.abs(want[-1][k] - weights[k]))
        diff = np.max(np.abs(got[-1][k].astype(np.float32) - want[-1][k]))
        assert moved > 0.05 and diff < 0.03, k


def test_muon_rules_read_the_params_tree_paths():
    params = _nest(_weights())
    assert ko.muon_labels(params) == {
        "conv": {"kernel": "adamw"},
        "dense": {"bias": "adamw", "kernel": "muon"},
        "embedding": {"embeddings": "adamw"},
        "output_dense": {"kernel": "muon"},
    }
    labels = ko.muon_labels(
        {"block": {"dense": {"kernel": jnp.zeros((2, 2))}}, "head": params["dense"]},
        exclude_layers=["block/dense"],
        exclude_embeddings=False,
    )
    assert labels == {
        "block": {"dense": {"kernel": "adamw"}},
        "head": {"bias": "adamw", "kernel": "muon"},
    }
    # Embedding detection is case-insensitive, as Keras's.
    assert ko.muon_labels({"Token_Embedding": {"w": jnp.zeros((3, 3))}}) == {
        "Token_Embedding": {"w": "adamw"}
    }
    # Only the AdamW variables get a velocity, as in Keras's `build`.
    state = ko.Muon().init(params)
    velocity = state.slots["velocity"]
    assert velocity["dense"]["kernel"] is None
    assert velocity["dense"]["bias"].shape == (3,)
    assert velocity["embedding"]["embeddings"].shape == (7, 4)


def test_muon_under_freeze_keeps_the_paths():
    # `freeze` hands the optimizer a tree with masked leaves: the kept ones
    # must keep their paths (embedding -> AdamW, output_dense -> Muon).
    weights, grads = _weights(), _grads()
    trainable = ["embedding/embeddings", "output_dense/kernel", "dense/bias"]
    want = _run_keras(keras.optimizers.Muon(0.05), weights, grads, keys=trainable)
    mask = {
        layer: {name: f"{layer}/{name}" in trainable for name in d}
        for layer, d in _nest(weights).items()
    }
    got, states = _run_kerax(ko.freeze(ko.Muon(0.05), mask), weights, grads)
    _assert_trajectories_close(got, want, 1e-6)
    for k in set(SHAPES) - set(trainable):
        np.testing.assert_array_equal(got[-1][k], weights[k])


def test_schedule_free_eval_params():
    weights, grads = _weights(), _grads()
    tx = ko.ScheduleFreeAdamW(learning_rate=0.05, beta_1=0.8)
    params = _nest(weights)
    # Before any step, x = y = z = the params.
    x0 = ko.schedule_free_eval_params(tx.init(params), params)
    for k, w in weights.items():
        np.testing.assert_allclose(_flat(x0)[k], w, rtol=1e-6)
    history, states = _run_kerax(tx, weights, grads)
    y = _nest(history[-1])
    x = jax.jit(ko.schedule_free_eval_params)(states[-1], y)
    z = states[-1].slots.momentum
    # y = (1 - beta_1) z + beta_1 x, and x differs from y.
    for k in SHAPES:
        layer, name = k.split("/")
        np.testing.assert_allclose(
            0.2 * z[layer][name] + 0.8 * x[layer][name], y[layer][name], atol=1e-6
        )
    assert not np.allclose(_flat(x)["dense/kernel"], history[-1]["dense/kernel"])
    # x is the 1/t-weighted average of the z's: recompute it from z itself.
    zs = [s.slots.momentum for s in states]
    avg = jax.tree.map(lambda *z: sum(z) / len(z), *zs)
    for k in SHAPES:
        layer, name = k.split("/")
        np.testing.assert_allclose(
            x[layer][name], avg[layer][name], atol=1e-5, err_msg=k
        )
    # Through `freeze`: frozen leaves come back as they are.
    mask = {layer: {name: layer != "conv" for name in d} for layer, d in params.items()}
    ftx = ko.freeze(ko.ScheduleFreeAdamW(0.05), mask)
    state = ftx.init(params)
    updates, state = ftx.update(_nest(grads[0]), state, params)
    stepped = optax.apply_updates(params, updates)
    x = ko.schedule_free_eval_params(state, stepped)
    np.testing.assert_array_equal(x["conv"]["kernel"], params["conv"]["kernel"])
    with pytest.raises(ValueError, match="ScheduleFreeAdamW"):
        ko.schedule_free_eval_params(ko.Adam().init(params), params)
    with pytest.raises(ValueError, match="ScheduleFreeAdamW"):
        ko.schedule_free_eval_params(optax.adam(1e-3).init(params), params)


# ------------------------------------------------------------ get, config --


@pytest.mark.parametrize(
    "identifier,class_name",
    [
        ("muon", "Muon"),
        ("MUON", "Muon"),
        ("Muon", "Muon"),
        ("schedulefreeadamw", "ScheduleFreeAdamW"),
        ("ScheduleFreeAdamW", "ScheduleFreeAdamW"),
    ],
)
def test_get_by_name_as_keras(identifier, class_name):
    assert ko.get(identifier).class_name == class_name
    assert type(keras.optimizers.get(identifier)).__name__ == class_name


@pytest.mark.parametrize(
    "name,config",
    [
        (
            "Muon",
            {
                "learning_rate": 0.02,
                "exclude_layers": ["output_dense"],
                "exclude_embeddings": False,
                "ns_steps": 3,
                "nesterov": False,
                "rms_rate": None,
                "adam_weight_decay": None,
                "weight_decay": 0.1,
                "adam_lr_ratio": 0.5,
            },
        ),
        (
            "ScheduleFreeAdamW",
            {"learning_rate": 0.01, "warmup_steps": 10, "beta_1": 0.95},
        ),
    ],
)
def test_config_round_trips_both_ways(name, config):
    tx = ko.get({"class_name": name, "config": config})
    got = tx.get_config()
    for key, value in config.items():
        assert got[key] == value, key
    # kerax -> Keras -> kerax: the same configuration on all three.
    keras_opt = keras.optimizers.deserialize(ko.serialize(tx))
    assert type(keras_opt).__name__ == name
    keras_config = keras_opt.get_config()
    assert set(keras_config) == set(got)
    for key, value in got.items():
        if key not in ("name", "learning_rate"):
            assert keras_config[key] == value, key
    again = ko.deserialize(keras.optimizers.serialize(keras_opt))
    skip = ("name", "learning_rate")
    assert {k: v for k, v in again.get_config().items() if k not in skip} == {
        k: v for k, v in got.items() if k not in skip
    }
    np.testing.assert_allclose(
        again.get_config()["learning_rate"], got["learning_rate"]
    )


def test_argument_errors():
    cases = [
        (ko.Muon, {"exclude_layers": "output_dense"}, "exclude_layers"),
        (ko.Muon, {"exclude_layers": ["("]}, "exclude_layers"),
        (ko.Muon, {"exclude_layers": [3]}, "exclude_layers"),
        (ko.Muon, {"ns_steps": -1}, "ns_steps"),
        (ko.Muon, {"ns_steps": 2.5}, "ns_steps"),
        (ko.Muon, {"momentum": 1.5}, "momentum"),
        (ko.Muon, {"rms_rate": 0.0}, "rms_rate"),
        (ko.Muon, {"adam_beta_1": 1.0}, "adam_beta_1"),
        (ko.Muon, {"adam_beta_2": -0.1}, "adam_beta_2"),
        (ko.Muon, {"weight_decay": "0.1"}, "weight_decay"),
        (ko.Muon, {"adam_weight_decay": "0.1"}, "adam_weight_decay"),
        (ko.Muon, {"clipnorm": 1.0, "clipvalue": 1.0}, "Only one of"),
        (ko.ScheduleFreeAdamW, {"beta_1": 0.0}, "beta_1"),
        (ko.ScheduleFreeAdamW, {"beta_2": 1.0}, "beta_2"),
        (ko.ScheduleFreeAdamW, {"warmup_steps": -1}, "warmup_steps"),
        (ko.ScheduleFreeAdamW, {"warmup_steps": 1.5}, "warmup_steps"),
        (ko.ScheduleFreeAdamW, {"epsilon": None}, "epsilon"),
        (ko.ScheduleFreeAdamW, {"gradient_accumulation_steps": 1}, "gradient_acc"),
    ]
    for factory, kwargs, match in cases:
        with pytest.raises(ValueError, match=match):
            factory(**kwargs)
    params = _nest(_weights())
    for tx in (ko.ScheduleFreeAdamW(), ko.Muon()):
        with pytest.raises(ValueError, match="needs `params`"):
            tx.update(params, tx.init(params))
    # Without any weight decay Muon reads no params (like optax's).
    tx = ko.Muon(weight_decay=None, adam_weight_decay=None)
    tx.update(params, tx.init(params))


# --------------------------------------------------------------- Trainer --


def _model():
    return kerax.Sequential(
        [
            kerax.Input((4,), dtype="int32"),
            L.Embedding(10, 8),
            L.Flatten(),
            L.Dense(16, activation="relu"),
            L.Dense(1, name="output_dense"),
        ]
    )


def _data(rng):
    x = rng.integers(0, 10, size=(64, 4)).astype("int32")
    y = ((x[:, :1] - x[:, 1:2]) / 3.0).astype("float32")
    return x, y


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: ko.Muon(learning_rate=0.02, exclude_layers=["output_dense"]),
        lambda: ko.ScheduleFreeAdamW(learning_rate=0.02),
    ],
    ids=["Muon", "ScheduleFreeAdamW"],
)
def test_fit_lowers_the_loss(rng, optimizer):
    x, y = _data(rng)
    trainer = kerax.Trainer(_model(), optimizer=optimizer(), loss="mse")
    ts = trainer.init()
    before = trainer.evaluate(ts, x, y, verbose=0)
    ts, history = trainer.fit(ts, x, y, epochs=5, batch_size=16, verbose=0)
    after = trainer.evaluate(ts, x, y, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert after < 0.5 * before


def test_fit_matches_keras_fit_muon(rng):
    # Keras's paths carry the Sequential model's name ("sequential/dense/
    # kernel"), kerax's params tree does not: layer-name patterns pick the
    # same variables either way.
    x, y = _data(rng)
    keras_model = keras.Sequential(
        [
            keras.Input((4,), dtype="int32"),
            keras.layers.Embedding(10, 8),
            keras.layers.Flatten(),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, name="output_dense"),
        ]
    )
    model, params, state = kerax.interop.from_keras(keras_model)
    config = {"learning_rate": 0.02, "exclude_layers": ["output_dense"]}
    keras_model.compile(keras.optimizers.Muon(**config), loss="mse")
    keras_model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    trainer = kerax.Trainer(model, optimizer=ko.Muon(**config), loss="mse")
    ts = trainer.init()
    ts = ts._replace(params=params, state=state, opt_state=trainer.tx.init(params))
    ts, _ = trainer.fit(ts, x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    _, want, _ = kerax.interop.from_keras(keras_model)
    for path, a in jax.tree_util.tree_leaves_with_path(ts.params):
        b = want
        for key in path:
            b = b[key.key]
        np.testing.assert_allclose(a, b, atol=1e-5, err_msg=jax.tree_util.keystr(path))


def test_trainer_evaluates_schedule_free_on_the_training_params_as_keras(rng):
    x, y = _data(rng)
    trainer = kerax.Trainer(
        _model(), optimizer=ko.ScheduleFreeAdamW(0.01), loss="mse", metrics=["mae"]
    )
    ts, _ = trainer.fit(trainer.init(), x, y, epochs=2, batch_size=16, verbose=0)
    # Keras evaluates on the variables as trained (y): so does the Trainer.
    logs = trainer.evaluate(ts, x, y, verbose=0, return_dict=True)
    pred, _ = trainer.model.apply(ts.params, ts.state, x)
    np.testing.assert_allclose(
        logs["loss"], float(jnp.mean((pred - y) ** 2)), rtol=1e-5
    )
    # The averaged params, passed explicitly, give another evaluation.
    eval_ts = ts._replace(params=ko.schedule_free_eval_params(ts.opt_state, ts.params))
    eval_logs = trainer.evaluate(eval_ts, x, y, verbose=0, return_dict=True)
    assert eval_logs["loss"] != logs["loss"]
    np.testing.assert_allclose(
        trainer.predict(eval_ts, x, verbose=0),
        trainer.model.apply(eval_ts.params, ts.state, x)[0],
        atol=1e-6,
    )


# Keras finds no optimizer variables in its own layout (kerax keeps the
# TrainState in its own group) and says so.
@pytest.mark.filterwarnings("ignore:Skipping variable loading")
@pytest.mark.parametrize("name", ["Muon", "ScheduleFreeAdamW"])
def test_model_file_keeps_the_optimizer(tmp_path, rng, name):
    x, y = _data(rng)
    model = _model()
    tx = ko.get(name, learning_rate=0.01)
    trainer = kerax.Trainer(model, optimizer=tx, loss="mse")
    ts, _ = trainer.fit(trainer.init(), x, y, epochs=1, batch_size=16, verbose=0)
    path = kerax.save_model(
        tmp_path / "run.keras",
        model,
        ts.params,
        ts.state,
        train_state=ts,
        trainer=trainer,
    )
    trainer2, ts2 = kerax.load_trainer(path)
    assert trainer2.tx.class_name == name
    assert trainer2.tx.get_config() == tx.get_config()
    for a, b in zip(jax.tree.leaves(ts.opt_state), jax.tree.leaves(ts2.opt_state)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert type(keras.saving.load_model(path).optimizer).__name__ == name
