"""Model files: round trips, atomic saves, and clear errors for bad files."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax import layers
from kerax.saving import model_file
from kerax.saving.model_file import ModelFileError


class Counter(kerax.Layer):
    """A layer with non-trainable state (like BatchNorm's moving stats)."""

    def build(self, key, spec):
        return {"w": jnp.ones(spec.shape[-1:])}, {"seen": jnp.zeros(())}

    def call(self, params, state, x, *, key, training):
        if training:
            state = {"seen": state["seen"] + x.shape[0]}
        return x * params["w"], state


kerax.register(Counter)


def make():
    return kerax.Sequential(
        [kerax.Input((4,)), layers.Dense(3, name="d"), Counter(name="c")]
    )


def test_round_trip_params_and_state(tmp_path):
    model = make()
    params, state = model.init(jax.random.key(0))
    _, state = model.apply(params, state, jnp.ones((5, 4)), training=True)
    kerax.save_model(tmp_path / "m", model, params, state)
    model2, p2, s2 = kerax.load_model(tmp_path / "m")
    jax.tree.map(np.testing.assert_array_equal, params, p2)
    assert float(s2["c"]["seen"]) == 5.0
    x = jnp.arange(8.0).reshape(2, 4)
    np.testing.assert_array_equal(
        model2.apply(p2, s2, x)[0], model.apply(params, state, x)[0]
    )
    meta = json.loads((tmp_path / "m" / "metadata.json").read_text())
    assert (
        meta["input_spec"] == {"shape": [None, 4], "dtype": "float32"}
        and meta["kerax_version"]
    )


def test_failed_save_keeps_the_good_directory(tmp_path, monkeypatch):
    model = make()
    params, state = model.init(jax.random.key(0))
    kerax.save_model(tmp_path / "m", model, params, state)

    def boom(folder, tree):
        (folder / "partial").mkdir(parents=True)
        raise OSError("disk full")

    monkeypatch.setattr(model_file, "write_weights", boom)
    bigger = jax.tree.map(lambda a: a + 1, params)
    with pytest.raises(OSError, match="disk full"):
        kerax.save_model(tmp_path / "m", model, bigger, state)
    monkeypatch.undo()
    _, p2, _ = kerax.load_model(tmp_path / "m")
    jax.tree.map(np.testing.assert_array_equal, params, p2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "m"
    ]  # No temporary leftovers.


def test_mismatched_params_are_refused_before_writing(tmp_path):
    model = make()
    params, state = model.init(jax.random.key(0))
    params["d"]["kernel"] = jnp.ones((5, 3))
    with pytest.raises(ModelFileError, match=r"\['d'\]\['kernel'\] has shape \(5, 3\)"):
        kerax.save_model(tmp_path / "m", model, params, state)
    assert not (tmp_path / "m").exists()


@pytest.fixture
def saved(tmp_path):
    model = make()
    params, state = model.init(jax.random.key(0))
    return kerax.save_model(tmp_path / "m", model, params, state)


def test_truncated_weights_file(saved):
    victim = max(
        (p for p in (saved / "weights").rglob("*") if p.is_file()),
        key=lambda p: p.stat().st_size,
    )
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="corrupted or were modified"):
        kerax.load_model(saved)


def test_missing_weights_file(saved):
    victim = next(p for p in (saved / "weights").rglob("*") if p.is_file())
    victim.unlink()
    with pytest.raises(ModelFileError, match="missing"):
        kerax.load_model(saved)


def test_config_naming_an_unknown_layer(saved):
    cfg = json.loads((saved / "config.json").read_text())
    cfg["config"]["layers"][1]["class_name"] = "TotallyCustom"
    (saved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="TotallyCustom.*kerax.register"):
        kerax.load_model(saved)


def test_config_shapes_that_do_not_match_weights(saved):
    cfg = json.loads((saved / "config.json").read_text())
    cfg["config"]["layers"][1]["config"]["units"] = 7
    (saved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFileError):
        kerax.load_model(saved)


def test_weights_from_another_model(saved, tmp_path):
    other = kerax.Sequential([kerax.Input((4,)), layers.Dense(3, name="z")])
    p, s = other.init(jax.random.key(0))
    kerax.save_model(tmp_path / "other", other, p, s)
    # Put the other model's (consistent) weights and checksums under our config.
    import shutil

    shutil.rmtree(saved / "weights")
    shutil.copytree(tmp_path / "other" / "weights", saved / "weights")
    meta = json.loads((saved / "metadata.json").read_text())
    meta["weights_sha256"] = json.loads(
        (tmp_path / "other" / "metadata.json").read_text()
    )["weights_sha256"]
    (saved / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="cannot read the weights|do not match"):
        kerax.load_model(saved)


def test_config_cannot_run_code(saved):
    cfg = json.loads((saved / "config.json").read_text())
    cfg["config"]["layers"][1]["config"]["activation"] = {
        "module": "registered",
        "name": "os.system",
    }
    (saved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="not registered"):
        kerax.load_model(saved)


def test_not_a_directory(tmp_path):
    with pytest.raises(ModelFileError, match="not a model directory"):
        kerax.load_model(tmp_path / "nope")
    (tmp_path / "half").mkdir()
    with pytest.raises(ModelFileError, match="missing config.json"):
        kerax.load_model(tmp_path / "half")


def _mlp_dir(tmp_path, name="m"):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    params, state = model.init(jax.random.key(0))
    return kerax.save_model(tmp_path / name, model, params, state)


@pytest.mark.parametrize("manifest", [None, {}, ""])
def test_missing_or_empty_manifest_is_refused(tmp_path, manifest):
    path = _mlp_dir(tmp_path)
    meta = json.loads((path / "metadata.json").read_text())
    if manifest is None:
        del meta["weights_sha256"]
    else:
        meta["weights_sha256"] = manifest
    (path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="weights_sha256"):
        kerax.load_model(path)


def test_unlisted_weights_file_is_refused(tmp_path):
    path = _mlp_dir(tmp_path)
    (path / "weights" / "extra").write_bytes(b"x")
    with pytest.raises(ModelFileError, match="not listed"):
        kerax.load_model(path)


def test_symlinked_weights_are_refused(tmp_path):
    path = _mlp_dir(tmp_path, "a")
    other = _mlp_dir(tmp_path, "b")
    import shutil

    shutil.rmtree(path / "weights")
    (path / "weights").symlink_to(other / "weights")
    with pytest.raises(ModelFileError, match="symbolic link"):
        kerax.load_model(path)


def test_stored_shapes_are_checked_before_reading(tmp_path):
    path = _mlp_dir(tmp_path)
    config = json.loads((path / "config.json").read_text())
    config["config"]["layers"][-1]["config"]["units"] = 2**31
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="declares shape"):
        kerax.load_model(path)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda m: m.pop("input_spec"), "input_spec"),
        (lambda m: m.update(input_spec="abc"), "input_spec"),
        (lambda m: m.update(format_version="x"), "format_version"),
    ],
)
def test_malformed_metadata_is_one_clear_error(tmp_path, edit, match):
    path = _mlp_dir(tmp_path)
    meta = json.loads((path / "metadata.json").read_text())
    edit(meta)
    (path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=match):
        kerax.load_model(path)


def test_deeply_nested_config_is_one_clear_error(tmp_path):
    path = _mlp_dir(tmp_path)
    (path / "config.json").write_text("[" * 50000 + "]" * 50000)
    with pytest.raises(ModelFileError, match="nested"):
        kerax.load_model(path)


_KILL_LOOP = """
import os, sys, jax, kerax
from kerax import layers
path = sys.argv[1]
model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
params, state = model.init(jax.random.key(0))
print("ready", flush=True)
while True:
    kerax.save_model(path, model, params, state)
"""


def test_killed_saves_always_leave_a_loadable_model(tmp_path, rng):
    import subprocess
    import sys
    import time

    path = tmp_path / "m"
    _mlp_dir(tmp_path)
    deadline = time.monotonic() + 20
    kills = 0
    while time.monotonic() < deadline and kills < 4:
        proc = subprocess.Popen(
            [sys.executable, "-c", _KILL_LOOP, str(path)], stdout=subprocess.PIPE
        )
        proc.stdout.readline()  # Imports done; saves are running.
        time.sleep(float(rng.uniform(0.05, 0.6)))
        proc.kill()
        proc.wait()
        kills += 1
        model, params, _ = kerax.load_model(path)
        assert params["dense"]["kernel"].shape == (3, 2)
    # The next save removes the temporary folders the killed saves left.
    _mlp_dir(tmp_path)
    assert not list(tmp_path.glob(".m.tmp-*"))
