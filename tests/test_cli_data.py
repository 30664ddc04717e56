"""`kerax train` on users' files: every data source and its shipped config."""

import json
from pathlib import Path

import numpy as np
import pytest

from kerax.cli import config
from kerax.cli.train import train

ROOT = Path(__file__).resolve().parents[1]

# A few steps are enough to show that the data reaches training: no exports,
# no TensorBoard, no checkpoints.
FAST = [
    "fit.epochs=1",
    "fit.verbose=0",
    "export.formats=[]",
    "callbacks.tensorboard=false",
    "checkpoint.enabled=false",
]


def _run(config_name, tmp_path, *overrides):
    return train(
        ROOT / "configs" / config_name,
        [f"output_dir={tmp_path / 'run'}", *FAST, *overrides],
    )


def test_image_folder_config_trains(tmp_path, rng):
    from PIL import Image

    # Counts that make every batch full (4): fewer shapes to compile.
    for split, count in (("train", 8), ("test", 2)):
        for c in ("cats", "dogs"):
            (tmp_path / split / c).mkdir(parents=True)
            for i in range(count):
                size = tuple(int(s) for s in rng.integers(12, 30, 2))
                Image.fromarray(rng.integers(0, 256, size + (3,), dtype=np.uint8)).save(
                    tmp_path / split / c / f"{i}.png"
                )
    result = _run(
        "image_folder_cnn.yaml",
        tmp_path,
        f"data.image_folder.directory={tmp_path / 'train'}",
        f"data.image_folder.test_directory={tmp_path / 'test'}",
        "data.image_folder.image_size=[16, 16]",
        "data.image_folder.num_workers=0",
        "model.input_shape=[16, 16, 3]",
        "fit.batch_size=4",
        "data.validation_split=0.25",
    )
    assert "val_accuracy" in result["history"] and "accuracy" in result["test"]
    names = json.loads((tmp_path / "run" / "class_names.json").read_text())
    assert names == ["cats", "dogs"]


def test_csv_regression_config_trains(tmp_path, rng):
    x = rng.normal(size=(80, 8)) * 10 + 5
    y = x @ rng.normal(size=8)
    header = ",".join([f"f{i}" for i in range(8)] + ["target"])
    rows = [",".join(f"{v:.5f}" for v in list(a) + [b]) for a, b in zip(x, y)]
    (tmp_path / "table.csv").write_text("\n".join([header, *rows]) + "\n")
    (tmp_path / "test.csv").write_text("\n".join([header, *rows[:10]]) + "\n")
    result = _run(
        "csv_regression.yaml",
        tmp_path,
        f"data.csv.path={tmp_path / 'table.csv'}",
        f"data.csv.test_path={tmp_path / 'test.csv'}",
    )
    assert "val_mean_absolute_error" in result["history"]
    assert "mean_absolute_error" in result["test"]
    stats = json.loads((tmp_path / "run" / "normalization.json").read_text())
    # Normalization comes from the training rows only (the first 90%).
    np.testing.assert_allclose(stats["mean"], x[:72].mean(0), rtol=1e-4)


def test_csv_classification_with_string_labels(tmp_path, rng):
    rows = ["a,b,species"] + [
        f"{v:.3f},{w:.3f},{'setosa' if v > 0 else 'virginica'}"
        for v, w in rng.normal(size=(40, 2))
    ]
    (tmp_path / "iris.csv").write_text("\n".join(rows))
    result = _run(
        "csv_regression.yaml",
        tmp_path,
        f"data.csv.path={tmp_path / 'iris.csv'}",
        "data.csv.label=species",
        "data.csv.task=classification",
        "model.input_shape=[2]",
        "model.layers=[{Dense: {units: 2, activation: softmax}}]",
        "trainer.loss=sparse_categorical_crossentropy",
        "trainer.metrics=[accuracy]",
    )
    assert "val_accuracy" in result["history"]
    names = json.loads((tmp_path / "run" / "class_names.json").read_text())
    assert names == ["setosa", "virginica"]


def test_timeseries_config_trains(tmp_path, rng):
    t = np.arange(300)
    series = np.stack(
        [np.sin(t / 10), np.cos(t / 7), rng.normal(size=300) * 0.1], axis=1
    )
    rows = ["a,b,target"] + [",".join(f"{v:.5f}" for v in r) for r in series]
    (tmp_path / "series.csv").write_text("\n".join(rows))
    result = _run(
        "timeseries_forecaster.yaml",
        tmp_path,
        f"data.timeseries.path={tmp_path / 'series.csv'}",
        "data.timeseries.sequence_length=12",
        "model.input_shape=[12, 3]",
    )
    assert "val_loss" in result["history"] and "loss" in result["test"]


def test_timeseries_windows_never_cross_splits(tmp_path):
    from kerax.cli import data as data_sources

    values = np.arange(100, dtype=np.float32)
    rows = ["step,target"] + [f"{v},{v}" for v in values]
    (tmp_path / "s.csv").write_text("\n".join(rows))
    cfg = config.load(
        ROOT / "configs" / "timeseries_forecaster.yaml",
        [
            f"data.timeseries.path={tmp_path / 's.csv'}",
            "data.timeseries.sequence_length=5",
            "data.timeseries.horizon=2",
            "data.timeseries.normalize=false",
            "data.timeseries.columns=[step]",
            "data.validation_split=0.25",
        ],
    )
    source = data_sources.load(cfg, tmp_path)
    for part, (lo, hi) in [
        (source.train, (0, 60)),
        (source.validation, (60, 80)),
        (source.test, (80, 100)),
    ]:
        for x, y in part:
            assert x.min() >= lo and y.max() < hi
            # The target is `horizon` steps after the window's last step.
            np.testing.assert_array_equal(y[:, 0], x[:, -1, 0] + 2)


def test_text_folder_config_trains(tmp_path, rng):
    words = {"pos": ["great", "fun", "superb"], "neg": ["dull", "awful", "bad"]}
    for c, vocab in words.items():
        (tmp_path / "texts" / c).mkdir(parents=True)
        for i in range(10):
            text = " ".join(rng.choice(vocab + ["the", "movie"], 8)) + "!"
            (tmp_path / "texts" / c / f"{i}.txt").write_text(text)
    result = _run(
        "text_folder_classifier.yaml",
        tmp_path,
        f"data.text_folder.directory={tmp_path / 'texts'}",
        "data.text_folder.output_sequence_length=16",
        "model.input_shape=[16]",
        "fit.batch_size=8",
    )
    assert "val_accuracy" in result["history"]
    vocabulary = json.loads((tmp_path / "run" / "vocabulary.json").read_text())
    assert vocabulary[:2] == ["", "[UNK]"] and "movie" in vocabulary
    assert "!" not in "".join(vocabulary)  # Punctuation stripped.


def test_npz_config_trains(tmp_path, rng):
    x = rng.normal(size=(64, 16)).astype(np.float32)
    y = rng.integers(0, 4, 64)
    np.savez(tmp_path / "a.npz", x_train=x, y_train=y, x_test=x[:8], y_test=y[:8])
    result = _run(
        "npz_classifier.yaml", tmp_path, f"data.npz.path={tmp_path / 'a.npz'}"
    )
    assert "accuracy" in result["test"]
    np.savez(
        tmp_path / "bad.npz", x_train=np.array([[1], [1, 2]], dtype=object), y_train=y
    )
    with pytest.raises(config.ConfigError, match="never loaded"):
        _run("npz_classifier.yaml", tmp_path, f"data.npz.path={tmp_path / 'bad.npz'}")


@pytest.mark.parametrize(
    "overrides,message",
    [
        (
            ["data.csv={path: a.csv, label: y, colour: red}"],
            r"data.csv.colour: unknown key",
        ),
        (["data.csv={path: a.csv}"], r"data.csv.label: required"),
        (
            ["data.csv={path: a.csv, label: y}", "data.npz={path: b.npz}"],
            "one data source",
        ),
        (["data.csv={path: a.csv, label: y}", "data.name=mnist"], "keep one"),
        (["data.csv={path: a.csv, label: y, task: ranking}"], "task"),
        (["data.image_folder={directory: d, image_size: [3]}"], "image_size"),
        (["data.timeseries={path: s.csv, target: y, sequence_length: 0}"], "positive"),
    ],
)
def test_bad_data_sections_name_the_key(tmp_path, overrides, message):
    with pytest.raises(config.ConfigError, match=message):
        config.load(
            ROOT / "configs" / "npz_classifier.yaml", ["data.npz=null", *overrides]
        )


def test_relative_paths_are_relative_to_the_config(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(
        "data: {csv: {path: table.csv, label: y}}\n"
        "model: {input_shape: [1], layers: [{Dense: {units: 1}}]}\n"
    )
    cfg = config.load(cfg_file)
    assert cfg["data"]["csv"]["path"] == str(tmp_path / "table.csv")


def test_csv_errors_name_the_line_and_column(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,y\n1,2,3\n4,oops,6\n")
    with pytest.raises(config.ConfigError, match=r"line 3, column 'b': 'oops'"):
        _run(
            "csv_regression.yaml",
            tmp_path,
            f"data.csv.path={tmp_path / 't.csv'}",
            "data.csv.label=y",
        )


@pytest.mark.slow  # Compiles MobileNetV2 twice (frozen, then fine-tuned): ~1 CPU-minute.
def test_transfer_learning_config_trains(tmp_path, rng):
    pytest.importorskip("keras")
    from PIL import Image

    for c in ("checks", "stripes"):
        (tmp_path / "images" / c).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(
                tmp_path / "images" / c / f"{i}.png"
            )
    result = _run(
        "transfer_learning.yaml",
        tmp_path,
        f"data.image_folder.directory={tmp_path / 'images'}",
        "data.image_folder.image_size=[32, 32]",
        "model.input_shape=[32, 32, 3]",
        "model.backbone.weights=null",  # Offline: no ImageNet download.
        "fit.batch_size=8",
        "fit.fine_tune.epochs=1",
    )
    # One epoch of the head, then one of fine-tuning.
    assert len(result["history"]["loss"]) == 2
    cfg = json.loads((tmp_path / "run" / "config.resolved.json").read_text())
    assert cfg["fit"]["fine_tune"]["learning_rate"] == 1e-5


def test_representative_inputs_come_from_training_data(tmp_path, rng):
    from kerax.cli import data as data_sources

    x = rng.normal(size=(300, 4)).astype(np.float32)
    arrays = data_sources.Data((x, x[:, 0]), None, None, 300, 0, [])
    np.testing.assert_array_equal(data_sources.representative_inputs(arrays), x[:256])
    import kerax

    windows = kerax.utils.timeseries_dataset_from_array(x, None, 3, batch_size=100)
    data = data_sources.Data(windows, None, None, windows.num_samples, 0, [])
    sample = data_sources.representative_inputs(data, count=150)
    assert sample.shape == (150, 3, 4)


def test_fine_tune_needs_a_backbone():
    with pytest.raises(
        config.ConfigError, match="fit.fine_tune: only with model.backbone"
    ):
        config.load(
            ROOT / "configs" / "npz_classifier.yaml", ["fit.fine_tune={epochs: 1}"]
        )
    with pytest.raises(config.ConfigError, match="model.backbone.colour: unknown key"):
        config.load(
            ROOT / "configs" / "transfer_learning.yaml", ["model.backbone.colour=red"]
        )
