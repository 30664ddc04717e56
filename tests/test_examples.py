"""Every script in `examples/` runs, at its small setting, and says what it should.

Each example runs in its own Python process (as a user would run it), from
an empty temporary directory so that the files it writes land there, with
Keras on its JAX backend. A new example must be added to `EXAMPLES` below:
`test_every_example_is_listed` fails until it is.
"""

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"

# script: (arguments, extra environment, needed modules, output lines that
# must appear, files the run must write relative to its working directory).
EXAMPLES = {
    "quickstart.py": ([], {}, (), ["Total params", "inference: (32, 10)"], []),
    "sharded_training.py": (
        ["--steps", "3"],
        {"XLA_FLAGS": "--xla_force_host_platform_device_count=8"},
        (),
        ["8 devices", "step   0", "step   2"],
        [],
    ),
    "functional_training.py": (
        ["--small"],
        {},
        (),
        ["epoch 1/1", "test accuracy:"],
        [],
    ),
    "keras_style_fit.py": (
        ["--small"],
        {},
        (),
        [
            "Epoch 2/2",
            "val_accuracy",
            "trained 2 epochs",
            "test accuracy",
            "predicted:",
        ],
        ["runs/keras_style_fit/training_log.csv"],
    ),
    "custom_layer.py": (
        ["--small"],
        {},
        (),
        [
            "gated_dense (GatedDense)",
            "test accuracy:",
            "params identical after loading: True",
            "outputs match after loading: True",
        ],
        ["runs/custom_layer/model/config.json"],
    ),
    "multi_input_model.py": (
        ["--small"],
        {},
        (),
        [
            "encoder kernel: (16, 32)",
            "test category_accuracy",
            "test similarity_mae",
            "predicted category:",
        ],
        [],
    ),
    "export_tflite.py": (
        ["--small"],
        {},
        ("tensorflow", "ai_edge_litert"),
        ["LiteRT inference:", "float32:", "float16:", "same class as JAX"],
        [
            "runs/export_tflite/digits_float32.tflite",
            "runs/export_tflite/digits_float16.tflite",
        ],
    ),
    "from_keras.py": (
        ["--small"],
        {},
        ("keras",),
        [
            "from_keras(object): max |kerax - Keras|",
            "from_keras(file)",
            "fine-tune step 2:",
        ],
        ["runs/from_keras/ranker.keras"],
    ),
    "transfer_learning.py": (
        ["--small"],
        {},
        ("keras", "tensorflow", "ai_edge_litert"),
        [
            "classes: ['checks', 'stripes']",
            "head: val_accuracy",
            "fine-tuned: val_accuracy",
            "int8 TFLite:",
        ],
        ["runs/transfer_learning/classifier_int8.tflite"],
    ),
}


def _scripts():
    return sorted(p.name for p in EXAMPLES_DIR.glob("*.py"))


def test_every_example_is_listed():
    missing = sorted(set(_scripts()) - set(EXAMPLES))
    assert not missing, f"add {missing} to EXAMPLES in tests/test_examples.py"
    gone = sorted(set(EXAMPLES) - set(_scripts()))
    assert not gone, f"EXAMPLES lists scripts that do not exist: {gone}"


@pytest.mark.parametrize("script", _scripts())
def test_example_has_a_docstring_saying_how_to_run_it(script):
    doc = ast.get_docstring(ast.parse((EXAMPLES_DIR / script).read_text()))
    assert doc, f"examples/{script} has no module docstring"
    assert f"python examples/{script}" in doc, f"examples/{script}: say how to run it"


def _params():
    # Examples that need the export extra carry its marker too.
    return [
        pytest.param(
            s, marks=[pytest.mark.export] if "tensorflow" in EXAMPLES[s][2] else []
        )
        for s in sorted(EXAMPLES)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("script", _params())
def test_example_runs(script, tmp_path):
    args, extra_env, needs, expected, files = EXAMPLES[script]
    for module in needs:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"examples/{script} needs {module}")
    env = dict(
        os.environ,
        KERAS_BACKEND="jax",
        KERAX_EXAMPLE_SMALL="1",
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    for name, value in extra_env.items():  # XLA_FLAGS: added to the caller's.
        env[name] = f"{env.get(name, '')} {value}".strip()
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / script), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"examples/{script} failed:\n{output[-5000:]}"
    for text in expected:
        assert text in proc.stdout, (
            f"examples/{script}: {text!r} not in its output:\n{proc.stdout[-3000:]}"
        )
    for name in files:
        assert (tmp_path / name).exists(), f"examples/{script} did not write {name}"
