"""The `kerax` command: config checking, train/evaluate/predict/export/summary."""

import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from kerax.cli import config
from kerax.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


MLP = """
name: t
data: {name: digits}
model:
  input_shape: [8, 8, 1]
  layers: [Flatten, {Dense: {units: 16, activation: relu}}, {Dense: {units: 10, activation: softmax}}]
fit: {epochs: 2, batch_size: 64, verbose: 0}
export: {formats: [stablehlo]}
"""


def test_every_shipped_config_is_valid():
    paths = sorted((ROOT / "configs").glob("*.yaml"))
    assert len(paths) >= 5, paths
    for path in paths:
        cfg = config.load(path)
        model = config.build_model(cfg["model"])
        # Each config builds a model that has weights and a batched output.
        assert model.count_params(model.input_spec) > 0, path
        out = jax.tree.leaves(model.output_spec(model.input_spec))
        assert out and all(len(o.shape) >= 2 for o in out), (path, out)


@pytest.mark.parametrize(
    "text,message",
    [
        ("fit: {epochs: ten}", r"fit.epochs: expected int, got 'ten'"),
        ("fitt: {}", r"fitt: unknown key"),
        ("fit: {epoch: 3}", r"fit.epoch: unknown key.*epochs"),
        (
            "model: {input_shape: [4], layers: [{Dense: {units: 2, unit: 3}}]}",
            r"model.layers\[0\] \(Dense\).*unknown keys \['unit'\]",
        ),
        (
            "model: {input_shape: [4], layers: [{NoSuchLayer: {}}]}",
            r"model.layers\[0\]: Unknown layer class 'NoSuchLayer'",
        ),
        (
            "model: {config_file: missing.json}",
            r"model.config_file: .*missing.json not found",
        ),
        (
            "data: {validation_split: 2.0}\nmodel: {input_shape: [4], layers: [Flatten]}",
            r"validation_split",
        ),
    ],
)
def test_bad_configs_name_the_key(tmp_path, text, message):
    with pytest.raises(config.ConfigError, match=message):
        cfg = config.load(write(tmp_path, text))
        config.build_model(cfg["model"])


def test_missing_config_file_and_bad_override(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nope.yaml")]) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(config.ConfigError, match="key=value"):
        config.load(None, ["fit.epochs"])


def test_train_then_evaluate_predict_export_summary(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cfg = write(tmp_path, MLP)
    assert main(["train", str(cfg), "--set", "fit.epochs=3"]) == 0
    out = tmp_path / "runs" / "t"
    for name in (
        "model",
        "report.txt",
        "training.png",
        "history.csv",
        "export/stablehlo",
        "tensorboard",
    ):
        assert (out / name).exists(), name
    report = (out / "report.txt").read_text()
    assert "Test: accuracy=" in report and "stablehlo" in report
    assert (
        len((out / "history.csv").read_text().strip().splitlines()) == 4
    )  # Header + 3 epochs.

    # Rerun with more epochs: resumes from its checkpoints, history continues.
    assert main(["train", str(cfg), "--set", "fit.epochs=4"]) == 0
    assert len((out / "history.csv").read_text().strip().splitlines()) == 5

    capsys.readouterr()
    assert main(["evaluate", str(out / "model"), "--data", "digits"]) == 0
    assert "accuracy" in capsys.readouterr().out
    np.save(tmp_path / "x.npy", np.zeros((5, 8, 8, 1), np.float32))
    assert (
        main(
            [
                "predict",
                str(out / "model"),
                "--input",
                str(tmp_path / "x.npy"),
                "--output",
                str(tmp_path / "y.npy"),
            ]
        )
        == 0
    )
    assert np.load(tmp_path / "y.npy").shape == (5, 10)
    assert (
        main(
            [
                "export",
                str(out / "model"),
                str(tmp_path / "exp"),
                "--formats",
                "stablehlo",
            ]
        )
        == 0
    )
    assert (tmp_path / "exp" / "stablehlo" / "model.jaxexport").exists()
    assert main(["summary", str(out / "model")]) == 0
    assert main(["summary", str(cfg)]) == 0
    assert "Total params" in capsys.readouterr().out


def test_help_runs_as_a_command():
    proc = subprocess.run(
        [sys.executable, "-m", "kerax.cli.main", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "train" in proc.stdout and "launch" in proc.stdout


def test_yaml_alias_bomb_is_refused(tmp_path):
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for i in range(1, 9):
        bomb += (
            f"a{i}: &a{i} [*a{'' if i == 1 else i - 1}, *a{'' if i == 1 else i - 1}]\n"
        )
    with pytest.raises(config.ConfigError, match="aliases"):
        config.load(write(tmp_path, bomb))


def test_duplicate_yaml_keys_are_refused(tmp_path):
    with pytest.raises(config.ConfigError, match="duplicate key 'fit'"):
        config.load(write(tmp_path, MLP + "fit: {epochs: 3}\n"))


@pytest.mark.parametrize("output_dir", ["runs/{0}", "runs/{name.__class__}", "x/{}"])
def test_output_dir_is_not_a_format_string(tmp_path, output_dir):
    cfg = config.load(write(tmp_path, MLP + f"output_dir: '{output_dir}'\n"))
    assert cfg["output_dir"] == output_dir


def test_output_dir_substitutes_the_name(tmp_path):
    cfg = config.load(write(tmp_path, MLP + "output_dir: 'runs/{name}/a'\n"))
    assert cfg["output_dir"] == "runs/t/a"


def test_bad_model_file_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "model"
    bad.mkdir()
    (bad / "config.json").write_text("{")
    (bad / "metadata.json").write_text("{}")
    assert main(["evaluate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "corrupted" in err
    assert main(["summary", str(tmp_path / "missing.keras")]) == 2
    assert "Traceback" not in capsys.readouterr().err
