"""Data sources of `kerax train`: a dataset by name, or the user's own files.

The `data` section of a config names ONE source:

- `name: digits` (with `options:`): a dataset of `kerax.datasets`, built in
  or one of Keras's (downloaded once, verified).
- `image_folder:` a folder with one subfolder of images per class
  (`kerax.utils.image_dataset_from_directory`).
- `text_folder:` a folder with one subfolder of `.txt` files per class;
  texts are turned into token ids with a vocabulary built on the training
  split (Keras's `TextVectorization` defaults), saved as `vocabulary.json`.
- `csv:` a CSV file with a header: feature columns and label column(s);
  features are normalized with mean/std of the training rows (saved as
  `normalization.json`).
- `npz:` a NumPy `.npz` with `x_train`, `y_train` (and `x_test`, `y_test`),
  read without pickles.
- `timeseries:` a CSV (or `.npy`) of timesteps; windows of
  `sequence_length` steps predict `target` `horizon` steps after the window.

Relative paths are relative to the config file's folder. Each source's keys
are checked like the rest of the config: an unknown key is an error naming
it. `data.validation_split` holds out the LAST fraction of the training
data (Keras's rule), with the config's `seed` where files are shuffled.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

import kerax
from kerax.cli.config import REQUIRED, ConfigError, check_section
from kerax.layers.preprocessing.text_vectorization import PUNCTUATION
from kerax.utils import (
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)

# source -> key -> (types, default); `REQUIRED` marks keys without a default.
SOURCES: dict[str, dict[str, tuple]] = {
    "image_folder": {
        "directory": ((str,), REQUIRED),
        "test_directory": ((str,), None),
        "image_size": ((list,), [256, 256]),
        "color_mode": ((str,), "rgb"),
        "label_mode": ((str,), "int"),
        "class_names": ((list,), None),
        "interpolation": ((str,), "bilinear"),
        "crop_to_aspect_ratio": ((bool,), False),
        "pad_to_aspect_ratio": ((bool,), False),
        "follow_links": ((bool,), False),
        "num_workers": ((int,), None),
    },
    "text_folder": {
        "directory": ((str,), REQUIRED),
        "test_directory": ((str,), None),
        "label_mode": ((str,), "int"),
        "class_names": ((list,), None),
        "max_tokens": ((int,), 20000),
        "output_sequence_length": ((int,), 200),
        "follow_links": ((bool,), False),
    },
    "csv": {
        "path": ((str,), REQUIRED),
        "test_path": ((str,), None),
        "label": ((str, list), REQUIRED),
        "features": ((list,), None),
        "task": ((str,), "regression"),
        "normalize": ((bool,), True),
        "delimiter": ((str,), ","),
    },
    "npz": {
        "path": ((str,), REQUIRED),
        "x": ((str,), "x_train"),
        "y": ((str,), "y_train"),
        "x_test": ((str,), "x_test"),
        "y_test": ((str,), "y_test"),
    },
    "timeseries": {
        "path": ((str,), REQUIRED),
        "columns": ((list,), None),
        "target": ((str, list), REQUIRED),
        "sequence_length": ((int,), REQUIRED),
        "horizon": ((int,), 1),
        "sequence_stride": ((int,), 1),
        "sampling_rate": ((int,), 1),
        "test_split": ((float, int), 0.2),
        "normalize": ((bool,), True),
        "delimiter": ((str,), ","),
    },
}

_PATH_KEYS = ("directory", "test_directory", "path", "test_path")


def resolve(data: dict, explicit: dict, config_path) -> dict:
    """Checks the `data` section's source (one at most), fills its defaults, resolves paths.

    `explicit` is the section as written (before defaults), to tell a
    `name` the user wrote from the default one.
    """
    given = [s for s in SOURCES if data.get(s) is not None]
    if len(given) > 1:
        raise ConfigError(
            f"data: give one data source, got {given}; remove all but one."
        )
    if given and "name" in explicit:
        raise ConfigError(
            f"data: `name` ({explicit['name']!r}) and `{given[0]}` both name the "
            "data; keep one."
        )
    if given and explicit.get("options"):
        raise ConfigError(
            f"data.options: only for `data.name`; the options of `{given[0]}` go "
            f"inside data.{given[0]}."
        )
    base = Path(config_path).parent if config_path is not None else Path.cwd()
    out = dict(data)
    for source in SOURCES:
        if out.get(source) is None:
            continue
        out[source] = _check_source(source, out[source], base)
    return out


def _check_source(source: str, options: Any, base: Path) -> dict:
    where = f"data.{source}"
    out = check_section(options, SOURCES[source], where)
    for key in _PATH_KEYS:
        if out.get(key) is not None:
            path = Path(out[key]).expanduser()
            out[key] = str(path if path.is_absolute() else base / path)
    if source == "csv" and out["task"] not in ("regression", "classification"):
        raise ConfigError(
            f'{where}.task: expected "regression" or "classification", got {out["task"]!r}.'
        )
    if source == "timeseries":
        if out["sequence_length"] < 1 or out["horizon"] < 1:
            raise ConfigError(
                f"{where}: sequence_length and horizon must be positive integers."
            )
        if not 0 <= float(out["test_split"]) < 1:
            raise ConfigError(
                f"{where}.test_split: expected a fraction in [0, 1), got {out['test_split']}."
            )
    if source == "image_folder" and len(out["image_size"]) != 2:
        raise ConfigError(
            f"{where}.image_size: expected [height, width], got {out['image_size']}."
        )
    return out


class Data(NamedTuple):
    """What `kerax train` feeds `fit`: arrays `(x, y)` or datasets.

    `validation` is None when `fit`'s own `validation_split` applies (arrays
    from `data.name`); `test` is None without a test set; `notes` are
    printed and reported.
    """

    train: Any
    validation: Any
    test: Any
    num_train: int
    num_test: int
    notes: list


def load(cfg: dict, out_dir: Path) -> Data:
    """The data of a checked config (`cfg["data"]`), with files it writes in `out_dir`."""
    data = cfg["data"]
    for source in SOURCES:
        if data.get(source) is not None:
            loader = globals()[f"_load_{source}"]
            return loader(data[source], cfg, out_dir)
    return _load_named(cfg)


def representative_inputs(data: Data, count: int = 256):
    """Up to `count` training inputs (for int8 calibration of TFLite exports)."""
    if isinstance(data.train, tuple):
        return data.train[0][:count]
    batches, total = [], 0
    for batch in data.train:
        x = batch[0] if isinstance(batch, tuple) else batch
        batches.append(x)
        total += len(x)
        if total >= count:
            break
    return np.concatenate(batches)[:count]


def _load_named(cfg):
    data = cfg["data"]
    try:
        (x, y), (x_test, y_test) = kerax.datasets.get(data["name"], **data["options"])
    except TypeError as e:
        raise ConfigError(f"data.options: {e}") from None
    test = (x_test, y_test) if data["test"] else None
    return Data((x, y), None, test, len(x), len(x_test) if test else 0, [])


def _split_last(n: int, fraction: float) -> int:
    """Rows before the validation part (Keras: the LAST fraction is validation)."""
    if not fraction:
        return n
    cut = int(np.floor(n * (1.0 - fraction)))
    if cut in (0, n):
        raise ConfigError(
            f"data.validation_split={fraction} leaves no training or no validation "
            f"data out of {n} examples; change it or add data."
        )
    return cut


# ---------------------------------------------------------------- folders


def _folder_datasets(make, options, cfg, what):
    data, fit = cfg["data"], cfg["fit"]
    split = float(data["validation_split"])
    common = dict(
        batch_size=fit["batch_size"],
        seed=cfg["seed"],
        verbose=True,
    )
    try:
        if split:
            train, val = make(
                options["directory"],
                shuffle=fit["shuffle"],
                validation_split=split,
                subset="both",
                **common,
            )
        else:
            train, val = (
                make(options["directory"], shuffle=fit["shuffle"], **common),
                None,
            )
        test = None
        notes = []
        if options["test_directory"] is not None and data["test"]:
            test = make(options["test_directory"], shuffle=False, **common)
            if test.class_names != train.class_names:
                raise ConfigError(
                    f"data.{what}.test_directory has classes {test.class_names}, "
                    f"the training folder {train.class_names}; they must match."
                )
        elif data["test"]:
            notes.append(
                f"no test set: give data.{what}.test_directory to evaluate on "
                "held-out files."
            )
    except ValueError as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(f"data.{what}: {e}") from None
    return train, val, test, notes


def _load_image_folder(options, cfg, out_dir):
    def make(directory, **kwargs):
        return image_dataset_from_directory(
            directory,
            label_mode=options["label_mode"],
            class_names=options["class_names"],
            color_mode=options["color_mode"],
            image_size=tuple(options["image_size"]),
            interpolation=options["interpolation"],
            crop_to_aspect_ratio=options["crop_to_aspect_ratio"],
            pad_to_aspect_ratio=options["pad_to_aspect_ratio"],
            follow_links=options["follow_links"],
            num_workers=options["num_workers"],
            **kwargs,
        )

    train, val, test, notes = _folder_datasets(make, options, cfg, "image_folder")
    (out_dir / "class_names.json").write_text(json.dumps(train.class_names))
    return Data(
        train, val, test, train.num_samples, test.num_samples if test else 0, notes
    )


def _standardize(text: str) -> list[str]:
    """Keras TextVectorization's default: lower case, strip punctuation, split on whitespace.

    Python's `lower`/`split` (Unicode-wide), where `kerax.layers.TextVectorization`
    follows TensorFlow's ASCII-only ones: they differ only on non-ASCII capitals
    and spaces.
    """
    return PUNCTUATION.sub("", text.lower()).split()


class Vectorizer:
    """Texts to int32 token ids `(batch, output_sequence_length)`; 0 pads, 1 is OOV.

    Keras's `TextVectorization(max_tokens, output_sequence_length=...)` with
    its default standardization, as a picklable batch function.

    Example:
        >>> v = Vectorizer.adapt(["the cat sat", "the dog"], 10, 4)
        >>> v(["The cat, the bird!"]).tolist()
        [[2, 3, 2, 1]]
    """

    def __init__(self, vocabulary: list[str], output_sequence_length: int):
        self.vocabulary = list(vocabulary)
        self.index = {w: i + 2 for i, w in enumerate(self.vocabulary)}
        self.length = output_sequence_length

    @classmethod
    def adapt(cls, texts, max_tokens: int, output_sequence_length: int):
        counts = Counter(w for t in texts for w in _standardize(t))
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return cls(
            [w for w, _ in ranked[: max(0, max_tokens - 2)]], output_sequence_length
        )

    def __call__(self, texts, labels=None):
        out = np.zeros((len(texts), self.length), np.int32)
        for i, text in enumerate(texts):
            ids = [self.index.get(w, 1) for w in _standardize(text)][: self.length]
            out[i, : len(ids)] = ids
        return out if labels is None else (out, labels)


def _load_text_folder(options, cfg, out_dir):
    def make(directory, **kwargs):
        return text_dataset_from_directory(
            directory,
            label_mode=options["label_mode"],
            class_names=options["class_names"],
            follow_links=options["follow_links"],
            **kwargs,
        )

    train, val, test, notes = _folder_datasets(make, options, cfg, "text_folder")
    texts = [t for batch, _ in train for t in batch]  # The training split only.
    vectorize = Vectorizer.adapt(
        texts, options["max_tokens"], options["output_sequence_length"]
    )
    (out_dir / "vocabulary.json").write_text(
        json.dumps(["", "[UNK]"] + vectorize.vocabulary)
    )
    (out_dir / "class_names.json").write_text(json.dumps(train.class_names))
    train, val, test = (
        None if ds is None else ds.map(vectorize) for ds in (train, val, test)
    )
    return Data(
        train, val, test, train.num_samples, test.num_samples if test else 0, notes
    )


# ------------------------------------------------------------ tables


def _read_csv(
    path: str, delimiter: str, where: str
) -> tuple[list[str], list[list[str]]]:
    if not Path(path).is_file():
        raise ConfigError(f"{where}: {path} not found.")
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f, delimiter=delimiter) if r]
    if len(rows) < 2:
        raise ConfigError(
            f"{where}: {path} needs a header row and at least one data row."
        )
    return [h.strip() for h in rows[0]], rows[1:]


def _columns(header, rows, names, where, path) -> np.ndarray:
    missing = [n for n in names if n not in header]
    if missing:
        raise ConfigError(f"{where}: columns {missing} not in {path}; it has {header}.")
    index = [header.index(n) for n in names]
    out = np.empty((len(rows), len(names)), np.float32)
    for r, row in enumerate(rows):
        for c, i in enumerate(index):
            try:
                out[r, c] = float(row[i])
            except (ValueError, IndexError):
                raise ConfigError(
                    f"{where}: {path} line {r + 2}, column {names[c]!r}: "
                    f"{row[i] if i < len(row) else '(missing)'!r} is not a number."
                ) from None
    return out


def _normalization(
    x: np.ndarray, out_dir: Path, names
) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(0)
    std = x.std(0)
    std = np.where(std > 0, std, 1.0).astype(np.float32)
    (out_dir / "normalization.json").write_text(
        json.dumps({"columns": list(names), "mean": mean.tolist(), "std": std.tolist()})
    )
    return mean.astype(np.float32), std


def _load_csv(options, cfg, out_dir):
    where = "data.csv"
    header, rows = _read_csv(options["path"], options["delimiter"], where)
    labels = (
        [options["label"]] if isinstance(options["label"], str) else options["label"]
    )
    features = options["features"] or [h for h in header if h not in labels]
    classification = options["task"] == "classification"

    def table(hdr, rws, path, class_names=None):
        x = _columns(hdr, rws, features, where, path)
        if classification:
            if len(labels) != 1:
                raise ConfigError(
                    f"{where}.label: classification takes one label column."
                )
            missing = [n for n in labels if n not in hdr]
            if missing:
                raise ConfigError(f"{where}: column {missing[0]!r} not in {path}.")
            raw = [r[hdr.index(labels[0])].strip() for r in rws]
            if class_names is None:
                class_names = sorted(set(raw), key=_natural)
            unknown = sorted(set(raw) - set(class_names))
            if unknown:
                raise ConfigError(
                    f"{where}: {path} has labels {unknown} not seen in training ({class_names})."
                )
            lookup = {c: i for i, c in enumerate(class_names)}
            y = np.array([lookup[v] for v in raw], np.int32)
        else:
            y = _columns(hdr, rws, labels, where, path)
        return x, y, class_names

    x, y, class_names = table(header, rows, options["path"])
    cut = _split_last(len(x), float(cfg["data"]["validation_split"]))
    test = None
    if options["test_path"] is not None and cfg["data"]["test"]:
        t_header, t_rows = _read_csv(options["test_path"], options["delimiter"], where)
        xt, yt, _ = table(t_header, t_rows, options["test_path"], class_names)
        test = [xt, yt]
    notes = []
    if options["normalize"]:
        mean, std = _normalization(x[:cut], out_dir, features)
        x = (x - mean) / std
        if test is not None:
            test[0] = (test[0] - mean) / std
        notes.append(
            f"features normalized with the training rows' mean/std ({out_dir / 'normalization.json'})"
        )
    if class_names is not None:
        (out_dir / "class_names.json").write_text(json.dumps(class_names))
    if cfg["data"]["test"] and test is None:
        notes.append(
            "no test set: give data.csv.test_path to evaluate on held-out rows."
        )
    val = (x[cut:], y[cut:]) if cut < len(x) else None
    return Data(
        (x[:cut], y[:cut]),
        val,
        None if test is None else tuple(test),
        cut,
        len(test[0]) if test is not None else 0,
        notes,
    )


def _natural(value: str):
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def _load_npz(options, cfg, out_dir):
    del out_dir  # Writes nothing.
    where = "data.npz"
    path = options["path"]
    if not Path(path).is_file():
        raise ConfigError(f"{where}.path: {path} not found.")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except ValueError as e:
        raise ConfigError(
            f"{where}: {path} holds object arrays (pickles), which are never loaded; "
            f"save plain numeric arrays ({e})."
        ) from None
    for key in ("x", "y"):
        if options[key] not in arrays:
            raise ConfigError(
                f"{where}.{key}: no array {options[key]!r} in {path}; it has {sorted(arrays)}."
            )
    x, y = arrays[options["x"]], arrays[options["y"]]
    if x.dtype == np.float64:
        x = x.astype(np.float32)
    test, notes = None, []
    if cfg["data"]["test"]:
        if options["x_test"] in arrays and options["y_test"] in arrays:
            test = (arrays[options["x_test"]], arrays[options["y_test"]])
            if test[0].dtype == np.float64:
                test = (test[0].astype(np.float32), test[1])
        else:
            notes.append(
                f"no test set: {path} has no {options['x_test']!r}/{options['y_test']!r}."
            )
    return Data((x, y), None, test, len(x), len(test[0]) if test else 0, notes)


def _load_timeseries(options, cfg, out_dir):
    where = "data.timeseries"
    path = options["path"]
    targets = (
        [options["target"]] if isinstance(options["target"], str) else options["target"]
    )
    if path.endswith(".npy"):
        if not Path(path).is_file():
            raise ConfigError(f"{where}.path: {path} not found.")
        series = np.load(path, allow_pickle=False).astype(np.float32)
        series = series.reshape(len(series), -1)
        header = [str(i) for i in range(series.shape[1])]
        columns = options["columns"] or header
        values = series[:, [header.index(str(c)) for c in columns]]
        target = series[:, [header.index(str(t)) for t in targets]]
    else:
        header, rows = _read_csv(path, options["delimiter"], where)
        columns = options["columns"] or [
            h for h in header if _is_numeric(rows, header.index(h))
        ]
        values = _columns(header, rows, columns, where, path)
        target = _columns(header, rows, targets, where, path)
    length, horizon = options["sequence_length"], options["horizon"]
    n = len(values)
    n_test = int(n * float(options["test_split"])) if cfg["data"]["test"] else 0
    n_trainval = n - n_test
    n_train = _split_last(n_trainval, float(cfg["data"]["validation_split"]))
    notes = []
    if options["normalize"]:
        mean, std = _normalization(values[:n_train], out_dir, columns)
        values = (values - mean) / std
        notes.append("inputs normalized with the training part's mean/std")
    offset = (length - 1) * options["sampling_rate"] + horizon

    def windows(start, stop, shuffle):
        # Window [t, t + length) predicts target[t + offset]; both inside
        # [start, stop), so no part reads another part's targets.
        if stop - start <= offset:
            return None
        return timeseries_dataset_from_array(
            values[start : stop - horizon],
            target[start + offset : stop],
            sequence_length=length,
            sequence_stride=options["sequence_stride"],
            sampling_rate=options["sampling_rate"],
            batch_size=cfg["fit"]["batch_size"],
            shuffle=shuffle,
            seed=cfg["seed"],
        )

    train = windows(0, n_train, cfg["fit"]["shuffle"])
    if train is None:
        raise ConfigError(
            f"{where}: the training part ({n_train} steps) is shorter than one window "
            f"plus the horizon ({offset + 1} steps); lower sequence_length or the splits."
        )
    val = windows(n_train, n_trainval, False) if n_train < n_trainval else None
    test = windows(n_trainval, n, False) if n_test else None
    if n_test and test is None:
        notes.append(f"no test set: the last {n_test} steps hold no whole window.")
    return Data(
        train, val, test, train.num_samples, test.num_samples if test else 0, notes
    )


def _is_numeric(rows, i) -> bool:
    try:
        float(rows[0][i])
    except (ValueError, IndexError):
        return False
    return True
