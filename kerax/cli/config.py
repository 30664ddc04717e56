"""Run configs: YAML files checked against a schema, with `--set` overrides.

Every key is known: an unknown key, a wrong type or a missing file is an
error that names the key (`fit.epochs: expected int, got 'ten'`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from kerax.core import serialization
from kerax.core.node import Input
from kerax.models import Sequential


class ConfigError(ValueError):
    """A config that cannot be run as written."""


ANY = object()


class _StrictLoader(yaml.SafeLoader):
    """`yaml.safe_load` without aliases and with duplicate keys refused."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ConfigError(
                f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not "
                "allowed in run configs (one alias can expand to gigabytes); write the value out."
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConfigError(
                    f"line {key_node.start_mark.line + 1}: duplicate key {key!r}; "
                    "YAML would silently keep the last value. Keep one."
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def safe_yaml(text: str):
    """Parses YAML safely: no tags, no aliases, no duplicate keys."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)


# key -> (type or tuple of types, default). Nested dicts are sections.
SCHEMA: dict[str, Any] = {
    "name": ((str,), "run"),
    "seed": ((int,), 0),
    "output_dir": ((str,), "runs/{name}"),
    "data": {
        "name": ((str,), "digits"),
        "options": ((dict,), {}),
        "validation_split": ((float, int), 0.1),
        "test": ((bool,), True),
        # The user's own files; each is checked by kerax.cli.data.
        "image_folder": ((dict,), None),
        "text_folder": ((dict,), None),
        "csv": ((dict,), None),
        "npz": ((dict,), None),
        "timeseries": ((dict,), None),
    },
    "model": {
        "input_shape": ((list,), None),
        "input_dtype": ((str,), "float32"),
        "layers": ((list,), None),
        "config_file": ((str,), None),
        "name": ((str,), None),
        "backbone": ((dict,), None),  # kerax.cli.transfer
    },
    "trainer": {
        "optimizer": ((str, dict), "adam"),
        "loss": ((str, dict), "sparse_categorical_crossentropy"),
        "metrics": ((list,), ["accuracy"]),
        "steps_per_execution": ((int, str), 1),
        "dtype_policy": ((str,), "float32"),
    },
    "fit": {
        "epochs": ((int,), 10),
        "batch_size": ((int,), 32),
        "shuffle": ((bool,), True),
        "verbose": ((int, str), "auto"),
        "steps_per_epoch": ((int,), None),
        "fine_tune": ((dict,), None),  # kerax.cli.transfer
    },
    "callbacks": {
        "early_stopping": ((dict,), None),
        "reduce_lr_on_plateau": ((dict,), None),
        "tensorboard": ((bool, dict), True),
        "csv_logger": ((bool,), True),
    },
    "checkpoint": {
        "enabled": ((bool,), True),
        "max_to_keep": ((int,), 3),
        "save_freq": ((str, int), "epoch"),
        "monitor": ((str,), None),
        "resume": ((bool,), True),
    },
    "distribution": {
        "strategy": ((str,), None),
        "mesh_shape": ((list,), None),
        "axis_names": ((list,), None),
        "rules": ((dict,), None),
    },
    "export": {
        "formats": ((list,), []),
        "tflite": ((dict,), {}),
        "saved_model": ((dict,), {}),
        "stablehlo": ((dict,), {}),
        "onnx": ((dict,), {}),
    },
}


def _defaults(schema) -> dict:
    out = {}
    for k, v in schema.items():
        out[k] = _defaults(v) if isinstance(v, dict) else copy.deepcopy(v[1])
    return out


# A `check_section` default meaning "this key must be given".
REQUIRED = object()


def check_section(section, keys: dict, where: str) -> dict:
    """`section` checked against `keys` (`key -> (types, default)`), defaults filled.

    An unknown key, a value of the wrong type (a bool is not an int) or a
    missing `REQUIRED` key is a `ConfigError` naming `where.key`.
    """
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: expected a mapping, got {section!r}.")
    out = {}
    for key, value in section.items():
        if key not in keys:
            raise ConfigError(
                f"{where}.{key}: unknown key. Valid keys in {where}: {sorted(keys)}."
            )
        types, _ = keys[key]
        if value is not None and (
            not isinstance(value, types)
            or (isinstance(value, bool) and bool not in types)
        ):
            raise ConfigError(
                f"{where}.{key}: expected {'/'.join(t.__name__ for t in types)}, got {value!r}."
            )
        out[key] = value
    for key, (_, default) in keys.items():
        if key not in out:
            if default is REQUIRED:
                raise ConfigError(f"{where}.{key}: required.")
            out[key] = default
    return out


def _check(tree: dict, schema: dict, where: str = "") -> dict:
    if not isinstance(tree, dict):
        raise ConfigError(
            f"{where or 'config'}: expected a mapping, got {type(tree).__name__}."
        )
    out = {}
    for k, v in tree.items():
        key = f"{where}.{k}" if where else str(k)
        if k not in schema:
            raise ConfigError(
                f"{key}: unknown key. Valid keys{' in ' + where if where else ''}: {sorted(schema)}."
            )
        rule = schema[k]
        if isinstance(rule, dict):
            out[k] = _check(v if v is not None else {}, rule, key)
            continue
        types, default = rule
        if v is None:
            out[k] = v
            continue
        if isinstance(v, bool) and bool not in types:
            raise ConfigError(
                f"{key}: expected {'/'.join(t.__name__ for t in types)}, got {v!r}."
            )
        if not isinstance(v, types):
            raise ConfigError(
                f"{key}: expected {'/'.join(t.__name__ for t in types)}, got {v!r}."
            )
        out[k] = v
    return out


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = (
            _merge(base[k], v)
            if isinstance(v, dict)
            and isinstance(base.get(k), dict)
            and k in SCHEMA_SECTIONS
            else v
        )
    return out


SCHEMA_SECTIONS = {k for k, v in SCHEMA.items() if isinstance(v, dict)}


def parse_override(text: str) -> tuple[list[str], Any]:
    if "=" not in text:
        raise ConfigError(
            f"--set {text!r}: expected key=value, e.g. --set fit.epochs=3."
        )
    key, raw = text.split("=", 1)
    try:
        value = safe_yaml(raw)
    except yaml.YAMLError as e:
        raise ConfigError(f"--set {key}: cannot parse value {raw!r}: {e}") from None
    return key.strip().split("."), value


def load(path: str | Path | None, overrides: list[str] = ()) -> dict:
    """Reads a YAML config (or only defaults), applies `key=value` overrides, checks it."""
    raw: dict = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"Config file {path} not found.")
        try:
            raw = safe_yaml(path.read_text()) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from None
    raw = copy.deepcopy(raw)
    for text in overrides:
        keys, value = parse_override(text)
        node = raw
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {'.'.join(keys)}: {k} is not a section.")
        node[keys[-1]] = value
    checked = _check(raw, SCHEMA)
    config = _merge(_defaults(SCHEMA), checked)
    # A plain substitution, not str.format: a path is data, and format fields
    # ("{0}", "{name.__class__}") would index or look up attributes.
    config["output_dir"] = config["output_dir"].replace("{name}", config["name"])
    # Function-local: kerax.cli.data imports ConfigError from this module.
    from kerax.cli import data as data_sources

    config["data"] = data_sources.resolve(
        config["data"], checked.get("data") or {}, path
    )
    from kerax.cli import transfer

    if config["model"]["backbone"] is not None:
        config["model"]["backbone"] = transfer.check_backbone(
            config["model"]["backbone"]
        )
    if config["fit"]["fine_tune"] is not None:
        if config["model"]["backbone"] is None:
            raise ConfigError(
                "fit.fine_tune: only with model.backbone (it unfreezes the backbone)."
            )
        config["fit"]["fine_tune"] = transfer.check_fine_tune(
            config["fit"]["fine_tune"]
        )
    model = config["model"]
    if model["config_file"] is None and not model["layers"]:
        raise ConfigError(
            "model: give `layers` (a list of {LayerName: {args}}) with `input_shape`, or a `config_file`."
        )
    if model["layers"] and model["input_shape"] is None:
        raise ConfigError(
            "model.input_shape: required with model.layers (the shape of one example, no batch)."
        )
    if model["config_file"] is not None:
        file = Path(model["config_file"])
        if not file.is_absolute() and path is not None:
            file = Path(path).parent / file
        if not file.is_file():
            raise ConfigError(f"model.config_file: {file} not found.")
        model["config_file"] = str(file)
    if not 0 <= float(config["data"]["validation_split"]) < 1:
        raise ConfigError(
            f"data.validation_split: expected a fraction in [0, 1), got {config['data']['validation_split']}."
        )
    if config["fit"]["epochs"] < 1 or config["fit"]["batch_size"] < 1:
        raise ConfigError("fit.epochs and fit.batch_size must be positive.")
    return config


def build_model(model_config: dict):
    """A kerax model from the `model` section (layer classes from kerax's allowlist)."""
    import json

    if model_config.get("backbone"):
        from kerax.cli import transfer

        return transfer.build(model_config, load_weights=False)[0]
    if model_config["config_file"]:
        return serialization.from_config(
            json.loads(Path(model_config["config_file"]).read_text())
        )
    layers = [
        Input(tuple(model_config["input_shape"]), dtype=model_config["input_dtype"])
    ]
    for i, entry in enumerate(model_config["layers"]):
        if isinstance(entry, str):
            entry = {entry: {}}
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ConfigError(
                f"model.layers[{i}]: expected {{LayerName: {{args}}}}, got {entry!r}."
            )
        ((class_name, args),) = entry.items()
        args = args or {}
        try:
            cls = serialization.lookup_class(class_name)
        except ValueError as e:
            raise ConfigError(f"model.layers[{i}]: {e}") from None
        try:
            layers.append(serialization.construct(cls, args))
        except (TypeError, ValueError) as e:
            raise ConfigError(f"model.layers[{i}] ({class_name}): {e}") from None
    return Sequential(layers, name=model_config["name"])
