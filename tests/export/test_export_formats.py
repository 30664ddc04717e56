"""Exporters: every artifact runs without kerax and matches the JAX model."""

import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.export import ExportError

pytestmark = [pytest.mark.slow, pytest.mark.export]
tf = pytest.importorskip("tensorflow", reason="needs the export extra")


def mlp():
    return kerax.Sequential(
        [
            kerax.Input((6,)),
            layers.Dense(8, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ]
    )


def two_in_two_out():
    a, b = kerax.Input((6,), name="features"), kerax.Input((4,), name="extra")
    h = layers.Dense(8, activation="tanh")(a)
    return kerax.Model(
        {"features": a, "extra": b},
        {
            "probs": layers.Dense(3, activation="softmax")(h),
            "value": layers.Dense(1)(b),
        },
    )


@pytest.fixture(scope="module")
def multi():
    model = two_in_two_out()
    params, state = model.init(jax.random.key(0), model.input_spec)
    return model, params, state


def test_saved_model_variable_batch_multi_io(tmp_path, multi):
    model, params, state = multi
    report = kerax.export.saved_model(model, params, state, tmp_path / "sm")
    assert (
        report.max_abs_diff <= 1e-5
        and (tmp_path / "sm" / "1" / "saved_model.pb").exists()
    )
    assert report.input_names == ("extra", "features") and set(report.output_names) == {
        "probs",
        "value",
    }
    sig = tf.saved_model.load(str(tmp_path / "sm" / "1")).signatures["serving_default"]
    x = {"features": np.ones((5, 6), np.float32), "extra": np.ones((5, 4), np.float32)}
    got = sig(**{k: tf.constant(v) for k, v in x.items()})
    want, _ = model.apply(params, state, x)
    np.testing.assert_allclose(got["probs"].numpy(), want["probs"], atol=1e-5)


def test_saved_model_reloads_without_jax(tmp_path):
    model = mlp()
    params, state = model.init(jax.random.key(1))
    kerax.export.saved_model(model, params, state, tmp_path / "sm", version=None)
    x = np.random.default_rng(0).standard_normal((7, 6)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    script = textwrap.dedent(
        f"""
        import sys, importlib.abc
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in ("jax", "jaxlib", "kerax"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        import numpy as np, tensorflow as tf
        sig = tf.saved_model.load({str(tmp_path / "sm")!r}).signatures["serving_default"]
        y = sig(inputs=tf.constant(np.load({str(tmp_path / "x.npy")!r})))["output_0"].numpy()
        np.save({str(tmp_path / "y.npy")!r}, y)
        assert "jax" not in sys.modules
        """
    )
    subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, timeout=300
    )
    want, _ = model.apply(params, state, x)
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), want, atol=1e-6)


@pytest.mark.parametrize("quantization", [None, "float16", "dynamic_range"])
def test_tflite(tmp_path, multi, quantization):
    model, params, state = multi
    report = kerax.export.tflite(
        model,
        params,
        state,
        tmp_path / "m.tflite",
        quantization=quantization,
        batch_size=2,
    )
    assert report.max_abs_diff <= report.tolerance
    if quantization is None:
        assert report.max_abs_diff <= 1e-5
    assert (
        "FULLY_CONNECTED" in report.ops
        and (tmp_path / "m.tflite").stat().st_size == report.size_bytes
    )
    x = {"features": np.ones((2, 6), np.float32), "extra": np.zeros((2, 4), np.float32)}
    got = kerax.export.run_tflite((tmp_path / "m.tflite").read_bytes(), x)
    want, _ = model.apply(params, state, x)
    np.testing.assert_allclose(
        got["value"],
        want["value"],
        atol=report.tolerance * max(1, float(np.abs(want["value"]).max())),
    )


def test_tflite_full_int8(tmp_path):
    model = mlp()
    params, state = model.init(jax.random.key(2))
    data = np.random.default_rng(0).standard_normal((64, 6)).astype(np.float32)
    report = kerax.export.tflite(
        model,
        params,
        state,
        tmp_path / "q.tflite",
        quantization="int8",
        representative_data=data,
    )
    assert report.max_abs_diff <= 0.15


def test_stablehlo_runs_with_jax_only(tmp_path, multi):
    model, params, state = multi
    report = kerax.export.stablehlo(
        model, params, state, tmp_path / "shlo", platforms=("cpu", "cuda")
    )
    assert report.max_abs_diff == 0.0
    run = kerax.export.load_stablehlo(tmp_path / "shlo")
    x = {"features": np.ones((9, 6), np.float32), "extra": np.ones((9, 4), np.float32)}
    # Bit for bit: the loaded program is the jitted apply's StableHLO, compiled
    # by the same XLA (op-by-op eager results may differ in the last bits).
    want, _ = jax.jit(model.apply)(params, state, x)
    np.testing.assert_array_equal(run(**x)["probs"], want["probs"])


def test_onnx(tmp_path, multi):
    pytest.importorskip("jax2onnx", reason="ONNX is an optional extra")
    model, params, state = multi
    functions = {m: dict(vars(m)) for m in (jax.numpy, jax.lax, jax.nn)}
    report = kerax.export.onnx(model, params, state, tmp_path / "m.onnx")
    assert report.max_abs_diff <= 1e-5
    # jax2onnx swaps JAX functions while tracing; the caller's JAX is left as
    # it was (jax2onnx 0.17 alone leaves a `jnp.cumsum` without positional axis).
    for module, attrs in functions.items():
        swapped = [k for k, v in attrs.items() if getattr(module, k) is not v]
        assert not swapped, (module.__name__, swapped)
    np.testing.assert_array_equal(jnp.cumsum(jnp.ones((2, 3)), 1)[:, -1], [3.0, 3.0])


def test_mismatch_is_an_error_and_writes_nothing(tmp_path, monkeypatch):
    from kerax.export import common

    model = mlp()
    params, state = model.init(jax.random.key(0))
    monkeypatch.setattr(common, "max_abs_diff", lambda want, got: 1.0)
    with pytest.raises(ExportError, match="does not match"):
        kerax.export.stablehlo(model, params, state, tmp_path / "shlo")
    assert not (tmp_path / "shlo").exists() and list(tmp_path.iterdir()) == []


def test_export_from_saved_model_directory(tmp_path):
    model = mlp()
    params, state = model.init(jax.random.key(0))
    kerax.save_model(tmp_path / "model", model, params, state)
    reports = kerax.export.export(
        tmp_path / "model", tmp_path / "out", formats=("stablehlo",)
    )
    assert reports[0].path == tmp_path / "out" / "stablehlo"


def test_bad_options():
    model = mlp()
    params, state = model.init(jax.random.key(0))
    with pytest.raises(ValueError, match="quantization"):
        kerax.export.tflite(model, params, state, "x.tflite", quantization="int4")
    with pytest.raises(ValueError, match="representative_data"):
        kerax.export.tflite(model, params, state, "x.tflite", quantization="int8")
    with pytest.raises(ValueError, match="unknown formats"):
        kerax.export.export(
            model, "out", formats=("coreml",), params=params, state=state
        )


def test_verification_is_nan_aware():
    from kerax.export.common import max_abs_diff

    ok = np.array([1.0, np.nan], "float32")
    assert max_abs_diff([ok], [ok]) == 0.0
    assert max_abs_diff([np.ones(2)], [np.array([1.0, np.nan])]) == float("inf")
    assert max_abs_diff([np.array([np.nan])], [np.array([0.0])]) == float("inf")


def test_export_refuses_another_models_params(tmp_path):
    small = kerax.Sequential([kerax.Input((4,)), layers.Dense(3)])
    big = kerax.Sequential([kerax.Input((4,)), layers.Dense(5)])
    params, state = big.init(jax.random.key(0))
    with pytest.raises(ExportError, match="another model"):
        kerax.export.stablehlo(small, params, state, tmp_path / "m.stablehlo")
    assert not (tmp_path / "m.stablehlo").exists()


def test_host_callback_is_a_clear_error_naming_the_layer(tmp_path):
    def on_host(x):
        return jax.pure_callback(
            lambda a: np.asarray(a) * 2, jax.ShapeDtypeStruct(x.shape, x.dtype), x
        )

    model = kerax.Sequential(
        [kerax.Input((3,)), layers.Lambda(on_host, name="host_double"), layers.Dense(2)]
    )
    params, state = model.init(jax.random.key(0))
    with pytest.raises(ExportError, match=r"host_double.*pure_callback"):
        kerax.export.stablehlo(model, params, state, tmp_path / "m")


def test_tflite_takes_keras_export_arguments():
    # Keras's `model.export(path, format="litert", input_signature=...,
    # optimizations=..., target_spec=...)` arguments map onto kerax's.
    from kerax.export.tflite import (
        _quantization_from_converter_options,
        _signature_spec,
    )

    spec = _signature_spec([kerax.layers.InputSpec(shape=(None, 10), dtype="float32")])
    assert spec.shape[1:] == (10,) and spec.dtype == jnp.float32
    assert not isinstance(spec.shape[0], int)  # The symbolic batch.
    both = _signature_spec([[tf.TensorSpec((None, 3), tf.int32), tf.TensorSpec((2,))]])
    assert [s.dtype for s in both] == [jnp.int32, jnp.float32]
    assert both[1].shape == (2,)

    default = [tf.lite.Optimize.DEFAULT]
    assert _quantization_from_converter_options(None, default, None) == "dynamic_range"
    f16 = {"supported_types": [tf.float16]}
    assert _quantization_from_converter_options(None, default, f16) == "float16"
    assert _quantization_from_converter_options("int8", None, None) == "int8"
    assert _quantization_from_converter_options(None, [], None) is None
    with pytest.raises(ValueError, match="not both"):
        _quantization_from_converter_options("float16", default, None)
    with pytest.raises(ValueError, match="supported_ops"):
        _quantization_from_converter_options(None, default, {"supported_ops": []})
    with pytest.raises(ValueError, match="float16"):
        _quantization_from_converter_options(
            None, default, {"supported_types": [tf.int8]}
        )
    with pytest.raises(ValueError, match="either input_spec"):
        kerax.export.tflite(
            mlp(),
            {},
            {},
            "m.tflite",
            input_spec=kerax.spec((None, 6)),
            input_signature=[kerax.spec((None, 6))],
        )


def test_tflite_converter_process_is_reused_and_replaced_when_gone(tmp_path):
    # TensorFlow imports once per exporting process; a converter process that
    # died (a crash, a kill) is replaced by the next export.
    import importlib
    import os
    import signal

    # `kerax.export.tflite` is the function; the module holds the converter.
    tflite_module = importlib.import_module("kerax.export.tflite")

    model = mlp()
    params, state = model.init(jax.random.key(0))
    converter = tflite_module._CONVERTER
    kerax.export.tflite(model, params, state, tmp_path / "a.tflite")
    first = converter._proc.pid
    kerax.export.tflite(model, params, state, tmp_path / "b.tflite")
    assert converter._proc.pid == first
    os.kill(first, signal.SIGKILL)
    converter._proc.wait()
    report = kerax.export.tflite(model, params, state, tmp_path / "c.tflite")
    assert converter._proc.pid != first
    assert report.max_abs_diff <= report.tolerance
    assert (tmp_path / "c.tflite").read_bytes() == (tmp_path / "a.tflite").read_bytes()
    # A conversion past its timeout ends the process and writes nothing.
    with pytest.raises(ExportError, match="did not finish within timeout"):
        kerax.export.tflite(model, params, state, tmp_path / "d.tflite", timeout=0.01)
    assert converter._proc is None and not (tmp_path / "d.tflite").exists()
