"""The code in README.md and docs/getting_started.md runs as written.

Blocks are read from the Markdown files themselves, so an edit to the docs
that breaks an example fails here.
"""

import contextlib
import io
import pathlib
import re

import jax
import jax.numpy as jnp
import pytest

import kerax
from kerax.testing import check_layer

ROOT = pathlib.Path(__file__).resolve().parents[1]


def python_blocks(name):
    text = (ROOT / name).read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def run(source, cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    out = io.StringIO()
    namespace = {"__name__": "__docs__"}
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<docs>", "exec"), namespace)
    return namespace, out.getvalue()


def test_readme_in_20_lines(tmp_path, monkeypatch):
    source = next(b for b in python_blocks("README.md") if "kerax.Model(" in b)
    ns, printed = run(source, tmp_path, monkeypatch)
    assert ns["y"]["logits"].shape == (8, 10)
    assert printed.strip().splitlines()[-1] == "(32, 64)"
    # The encoder is shared: one set of weights for both inputs.
    assert sorted(ns["params"]) == ["classifier", "encoder"]


def test_readme_custom_layer(tmp_path, monkeypatch):
    source = next(b for b in python_blocks("README.md") if "class Scale" in b)
    ns, _ = run(
        "import jax.numpy as jnp\nimport kerax\n" + source, tmp_path, monkeypatch
    )
    # check_layer round-trips the config: register (as Keras), under a name
    # of its own (tests elsewhere register another `Scale`).
    kerax.register(ns["Scale"], name="readme>Scale")
    layer = ns["Scale"](init_value=2.0)
    params, state = layer.init(jax.random.key(0), kerax.spec((None, 3)))
    y, _ = layer.apply(params, state, jnp.ones((2, 3)))
    assert y.tolist() == [[2.0] * 3] * 2
    check_layer(layer, kerax.spec((None, 3)))


def test_readme_keras_style_layer(tmp_path, monkeypatch):
    source = next(b for b in python_blocks("README.md") if "class MLPBlock" in b)
    ns, printed = run("import jax\nimport kerax\n" + source, tmp_path, monkeypatch)
    assert printed.strip().splitlines()[-1] == "['dense', 'dense_1', 'scale']"
    assert ns["params"]["scale"].shape == (16,)
    y, _ = ns["block"].apply(ns["params"], ns["state"], jnp.ones((2, 16)))
    assert y.shape == (2, 1)
    assert ns["block"].get_config()["units"] == 64


@pytest.mark.slow
def test_getting_started_trains_saves_and_exports(tmp_path, monkeypatch):
    pytest.importorskip("ai_edge_litert")
    first, functional = python_blocks("docs/getting_started.md")[:2]
    source = first.replace("validation_split=0.1)", "validation_split=0.1, verbose=0)")
    ns, printed = run(source + functional, tmp_path, monkeypatch)
    assert eval(printed.strip().splitlines()[-1])["accuracy"] > 0.9
    assert (tmp_path / "digits.tflite").stat().st_size > 0
    # The saved model is the trained one: same config, and it classifies the
    # test digits (the functional block after it trains a fresh `ts`).
    loaded, params, state = kerax.load_model(tmp_path / "models" / "digits")
    assert loaded.get_config() == ns["model"].get_config()
    x_test = ns["x_test"][:64]
    want, _ = loaded.apply(params, state, x_test)
    assert float(jnp.mean(jnp.argmax(want, -1) == ns["y_test"][:64])) > 0.9
    assert int(ns["ts"].step) > 0
