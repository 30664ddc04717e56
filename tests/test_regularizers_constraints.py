"""kerax.regularizers and kerax.constraints against their Keras counterparts."""

import dataclasses
import inspect
import json

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from kerax import constraints, regularizers

# One non-default config per class, and arrays of the ranks each accepts.
REGULARIZER_CONFIGS = {
    "L1": [{}, {"l1": 0.3}],
    "L2": [{}, {"l2": 0.3}],
    "L1L2": [{}, {"l1": 0.1}, {"l2": 0.2}, {"l1": 0.1, "l2": 0.2}],
    "OrthogonalRegularizer": [{}, {"factor": 0.5}, {"factor": 0.5, "mode": "columns"}],
}
CONSTRAINT_CONFIGS = {
    "MaxNorm": [{}, {"max_value": 0.5, "axis": 1}, {"max_value": 3, "axis": [0, 1, 2]}],
    "MinMaxNorm": [
        {},
        {"min_value": 0.5, "max_value": 2.0, "rate": 0.5, "axis": 1},
        {"min_value": 1.0, "max_value": 1.5, "axis": [0, 1, 2]},
    ],
    "NonNeg": [{}],
    "UnitNorm": [{}, {"axis": 1}, {"axis": [0, 1, 2]}],
}


def _cases(configs):
    return [(name, kw) for name, kws in configs.items() for kw in kws]


def _ids(cases):
    return [f"{name}-{kw}" for name, kw in cases]


def _public_classes(module):
    return sorted(
        n
        for n in dir(module)
        if n[0].isupper() and n not in ("Regularizer", "Constraint")
    )


def _snake_names(module):
    return sorted(
        n
        for n in dir(module)
        if n[0].islower() and n not in ("get", "serialize", "deserialize")
    )


def _array(shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)


def _close(actual, expected):
    np.testing.assert_allclose(
        np.asarray(actual), np.asarray(expected), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize(
    "module,theirs,configs",
    [
        (regularizers, keras.regularizers, REGULARIZER_CONFIGS),
        (constraints, keras.constraints, CONSTRAINT_CONFIGS),
    ],
    ids=["regularizers", "constraints"],
)
def test_every_keras_name_is_present(module, theirs, configs):
    assert sorted(cls.__name__ for cls in module._CLASSES) == _public_classes(theirs)
    assert set(configs) == set(_public_classes(theirs))
    for name in _snake_names(theirs):
        assert getattr(module, name).__name__ == getattr(theirs, name).__name__


@pytest.mark.parametrize(
    "module,theirs,name",
    [(regularizers, keras.regularizers, n) for n in REGULARIZER_CONFIGS]
    + [(constraints, keras.constraints, n) for n in CONSTRAINT_CONFIGS],
)
def test_constructor_matches_keras(module, theirs, name):
    def params(cls):
        return [
            (p.name, p.default)
            for p in inspect.signature(cls).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD
        ]

    assert params(getattr(module, name)) == params(getattr(theirs, name))


# ------------------------------------------------------------- regularizers

REG_CASES = _cases(REGULARIZER_CONFIGS)


REG_SHAPE_CASES = [
    (name, kw, shape)
    for name, kw in REG_CASES
    for shape in [(7, 5), (5, 7), (3, 3, 4)]
    if name != "OrthogonalRegularizer" or len(shape) == 2  # Rank 2 only.
]


@pytest.mark.parametrize(
    "name,kwargs,shape",
    REG_SHAPE_CASES,
    ids=[f"{n}-{kw}-{shape}" for n, kw, shape in REG_SHAPE_CASES],
)
def test_regularizer_matches_keras(name, kwargs, shape, strict_promotion):
    # Keras sees weights as backend arrays; on NumPy input its
    # OrthogonalRegularizer(mode="columns") normalizes along the wrong axis.
    x = jnp.asarray(_array(shape))
    got = getattr(regularizers, name)(**kwargs)(x)
    assert got.shape == () and got.dtype == jnp.float32
    expected = getattr(keras.regularizers, name)(**kwargs)(x)
    _close(got, expected)


@pytest.mark.parametrize("name,kwargs", REG_CASES, ids=_ids(REG_CASES))
def test_regularizer_jit_and_grad(name, kwargs):
    reg = getattr(regularizers, name)(**kwargs)
    x = _array((6, 4))
    _close(jax.jit(reg)(x), reg(x))
    grad = jax.grad(reg)(x)
    assert grad.shape == x.shape and np.all(np.isfinite(grad))


def test_orthogonal_regularizer_zero_rows_stay_finite():
    x = np.zeros((4, 3), np.float32)
    x[0] = 1.0
    x = jnp.asarray(x)
    reg = regularizers.OrthogonalRegularizer()
    _close(reg(x), keras.regularizers.OrthogonalRegularizer()(x))
    assert np.isfinite(reg(x))


def test_orthogonal_regularizer_is_zero_on_orthogonal_rows():
    assert float(regularizers.OrthogonalRegularizer()(jnp.eye(4))) == 0.0


def test_regularizer_none_and_invalid_arguments():
    assert regularizers.L1(None).l1 == 0.01
    assert regularizers.L2(None).l2 == 0.01
    assert regularizers.L1L2(None, None) == regularizers.L1L2(0.0, 0.0)
    assert isinstance(regularizers.L1(1).l1, float)
    for bad in (-0.1, float("nan"), float("inf"), "0.1"):
        with pytest.raises(ValueError, match="non-negative float"):
            regularizers.L2(bad)
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(jnp.ones((2, 2, 2)))


# --------------------------------------------------------------- constraints

CON_CASES = _cases(CONSTRAINT_CONFIGS)


@pytest.mark.parametrize("name,kwargs", CON_CASES, ids=_ids(CON_CASES))
def test_constraint_matches_keras(name, kwargs, strict_promotion):
    # A conv-kernel shape; norms are near the min/max values, so every
    # clipping branch is taken.
    w = _array((3, 3, 4, 5)) * 0.4
    w[..., 0] = 0.0  # An all-zero filter must stay finite.
    got = getattr(constraints, name)(**kwargs)(w)
    assert got.shape == w.shape and got.dtype == jnp.float32
    _close(got, getattr(keras.constraints, name)(**kwargs)(w))


@pytest.mark.parametrize("name,kwargs", CON_CASES, ids=_ids(CON_CASES))
def test_constraint_jit_and_grad(name, kwargs):
    con = getattr(constraints, name)(**kwargs)
    w = _array((3, 3, 4, 5))
    _close(jax.jit(con)(w), con(w))
    grad = jax.grad(lambda v: jnp.sum(con(v)))(w)
    assert np.all(np.isfinite(grad))


def test_constraint_effects():
    w = _array((16, 8)) * 3
    norms = np.linalg.norm(np.asarray(constraints.MaxNorm(1.5)(w)), axis=0)
    assert np.all(norms <= 1.5 + 1e-5)
    unit = np.linalg.norm(np.asarray(constraints.UnitNorm(axis=1)(w)), axis=1)
    _close(unit, np.ones(16))
    mm = constraints.MinMaxNorm(min_value=20.0, max_value=30.0)(w)
    assert np.all(np.linalg.norm(np.asarray(mm), axis=0) >= 20.0 - 1e-3)
    assert np.all(np.asarray(constraints.NonNeg()(w)) >= 0)


def test_constraint_axis_lists_become_tuples():
    con = constraints.MaxNorm(axis=[0, 1, 2])
    assert con.axis == (0, 1, 2)
    assert hash(con) == hash(constraints.MaxNorm(axis=(0, 1, 2)))


# ------------------------------------------------------ get and serialize

SERIAL_CASES = [
    (regularizers, keras.regularizers, name, kw) for name, kw in REG_CASES
] + [(constraints, keras.constraints, name, kw) for name, kw in CON_CASES]
SERIAL_IDS = [f"{m.__name__.split('.')[-1]}-{n}-{kw}" for m, _, n, kw in SERIAL_CASES]


@pytest.mark.parametrize("module,theirs,name,kwargs", SERIAL_CASES, ids=SERIAL_IDS)
def test_serialize_round_trip(module, theirs, name, kwargs):
    obj = getattr(module, name)(**kwargs)
    hash(obj)
    with pytest.raises(dataclasses.FrozenInstanceError):
        obj.axis = 3
    config = json.loads(json.dumps(module.serialize(obj)))
    assert config["class_name"] == name
    assert module.get(config) == obj
    assert module.deserialize(config) == obj


@pytest.mark.parametrize("module,theirs,name,kwargs", SERIAL_CASES, ids=SERIAL_IDS)
def test_serialize_interoperates_with_keras(module, theirs, name, kwargs):
    obj = getattr(module, name)(**kwargs)
    ours = module.serialize(obj)
    keras_obj = getattr(theirs, name)(**kwargs)
    expected = theirs.serialize(keras_obj)
    float32_fields = {"L1": ("l1", 0.01), "OrthogonalRegularizer": ("factor", 0.01)}
    if name in float32_fields:
        # Keras stores this field as a float32 tensor and reports its rounded
        # value (0.01 -> 0.009999999776482582); kerax keeps the exact float.
        field, default = float32_fields[name]
        expected["config"][field] = float(kwargs.get(field, default))
    assert ours == expected
    # Keras reads ours (same numbers out), and we read Keras's.
    x = jnp.asarray(_array((3, 3, 4, 5)) if module is constraints else _array((7, 5)))
    _close(theirs.deserialize(ours)(x), obj(x))
    loaded = module.get(theirs.serialize(keras_obj))
    if name in float32_fields:
        loaded = dataclasses.replace(loaded, **{field: obj.get_config()[field]})
    assert loaded == obj


@pytest.mark.parametrize(
    "module,name",
    [(regularizers, n) for n in sorted(regularizers.ALL)]
    + [(constraints, n) for n in sorted(constraints.ALL)],
)
def test_get_by_name(module, name):
    obj = module.get(name)
    assert obj == module.ALL[name]()


def test_get_accepts_the_brief_names():
    assert regularizers.get("l1") == regularizers.L1()
    assert regularizers.get("l2") == regularizers.L2()
    assert regularizers.get("l1_l2") == regularizers.L1L2()
    assert regularizers.get("orthogonal_regularizer") == (
        regularizers.OrthogonalRegularizer()
    )
    assert constraints.get("max_norm") == constraints.MaxNorm()


@pytest.mark.parametrize("module", [regularizers, constraints])
def test_get_other_identifiers(module):
    assert module.get(None) is None
    cls = module._CLASSES[0]
    assert module.get(cls) == cls()
    obj = cls()
    assert module.get(obj) is obj

    def fn(v):
        return v

    assert module.get(fn) is fn


@pytest.mark.parametrize(
    "module,kind", [(regularizers, "regularizer"), (constraints, "constraint")]
)
def test_errors_are_clear(module, kind):
    with pytest.raises(ValueError, match=f"Unknown {kind} 'nope'") as info:
        module.get("nope")
    assert repr(module._CLASSES[0].__name__) in str(info.value)
    with pytest.raises(ValueError, match="Could not interpret"):
        module.get(3)
    with pytest.raises(ValueError, match=f"Invalid config for {kind}"):
        module.get({"class_name": module._CLASSES[0].__name__, "config": {"bad": 1}})
    with pytest.raises(ValueError, match="cannot be serialized.*register"):
        module.serialize(lambda v: v)
