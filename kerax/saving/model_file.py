"""Model files: a directory with the architecture, the weights and metadata.

```
path/
  config.json     # {"class_name", "config"}: the architecture, no code
  metadata.json   # kerax version, dtype policy, input spec, file checksums
  weights/        # params and state, written by orbax
```

Saving writes a sibling temporary directory and renames it into place, so a
failed save never destroys a good model directory. Loading never unpickles
and never runs code from the file: classes come from kerax's allowlist or
`kerax.register`, and every weights file is checked against the SHA-256 in
`metadata.json` before orbax reads it, so a truncated or altered file is a
clear error instead of half-loaded weights.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

import jax
import numpy as np

FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model directory that cannot be loaded as it is."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): _sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _spec_to_json(spec):
    from kerax.core.spec import keras_shape

    return jax.tree.map(
        lambda s: {
            "shape": list(keras_shape(s.shape)),
            "dtype": np.dtype(s.dtype).name,
        },
        spec,
    )


def _spec_from_json(tree):
    from kerax.core.spec import spec

    def is_leaf(x):
        return isinstance(x, dict) and set(x) == {"shape", "dtype"}

    return jax.tree.map(
        lambda d: spec(tuple(d["shape"]), d["dtype"]), tree, is_leaf=is_leaf
    )


def _default_spec(model):
    spec = getattr(model, "input_spec", None)
    if spec is None:
        raise ValueError(
            f"kerax.save_model: {model.describe()} does not know its input spec; pass input_spec=kerax.spec(...) "
            "(or start a Sequential with kerax.Input)."
        )
    return spec


def write_weights(folder: Path, tree) -> None:
    """Writes a pytree of arrays with orbax (synchronously)."""
    import orbax.checkpoint as ocp

    with ocp.StandardCheckpointer() as ckptr:
        ckptr.save(folder.absolute(), tree)
        ckptr.wait_until_finished()


def read_weights(folder: Path, abstract_tree):
    """Reads a pytree written by `write_weights`, shaped like `abstract_tree`."""
    import orbax.checkpoint as ocp

    with ocp.StandardCheckpointer() as ckptr:
        return ckptr.restore(folder.absolute(), abstract_tree)


def atomic_directory_write(path: Path, write) -> None:
    """Calls `write(tmp_dir)` then swaps `tmp_dir` into `path`; the old one survives failures."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(path, old)
    try:
        os.rename(tmp, path)
    except BaseException:
        if old is not None:
            os.rename(old, path)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def save_model(path, model, params, state=None, *, input_spec=None) -> Path:
    """Saves `model` (architecture) with `params` and `state` to directory `path`.

    Example:
        >>> import os, tempfile
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
        >>> params, state = model.init(jax.random.key(0))
        >>> path = os.path.join(tempfile.mkdtemp(), "mlp")
        >>> saved_dir = kerax.save_model(path, model, params, state)  # the directory
        >>> model, params, state = kerax.load_model(saved_dir)
        >>> params["dense"]["kernel"].shape
        (3, 2)
    """
    from kerax import __version__
    from kerax.core import serialization
    from kerax.core.policy import dtype_policy

    state = {} if state is None else state
    spec = input_spec if input_spec is not None else _default_spec(model)
    config = serialization.serialize(model)  # Fails before anything is written.
    expected = jax.eval_shape(lambda: model.init(jax.random.key(0), spec))
    _check_tree("params", params, expected[0])
    _check_tree("state", state, expected[1])
    host = jax.tree.map(np.asarray, {"params": params, "state": state})

    def write(tmp: Path):
        (tmp / "config.json").write_text(json.dumps(config, indent=1))
        write_weights(tmp / "weights", host)
        metadata = {
            "format_version": FORMAT_VERSION,
            "kerax_version": __version__,
            "saved_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "dtype_policy": dtype_policy().name,
            "input_spec": _spec_to_json(spec),
            "weights_sha256": _checksums(tmp / "weights"),
        }
        (tmp / "metadata.json").write_text(json.dumps(metadata, indent=1))

    atomic_directory_write(Path(path), write)
    return Path(path)


def _check_tree(what, got, want) -> None:
    g = {
        jax.tree_util.keystr(p): tuple(np.shape(x))
        for p, x in jax.tree_util.tree_flatten_with_path(got)[0]
    }
    w = {
        jax.tree_util.keystr(p): tuple(x.shape)
        for p, x in jax.tree_util.tree_flatten_with_path(want)[0]
    }
    if set(g) != set(w):
        raise ModelFileError(
            f"{what} do not match the model: missing {sorted(set(w) - set(g))}, unexpected {sorted(set(g) - set(w))}."
        )
    bad = {k: (g[k], w[k]) for k in w if g[k] != w[k]}
    if bad:
        k, (got_shape, want_shape) = next(iter(bad.items()))
        raise ModelFileError(
            f"{what}{k} has shape {got_shape} but the model expects {want_shape}."
        )


def load_model(path):
    """Loads `(model, params, state)` from a directory written by `save_model`."""
    from kerax.core import serialization

    path = Path(path)
    if not path.is_dir():
        raise ModelFileError(f"kerax.load_model: {path} is not a model directory.")
    try:
        config = json.loads((path / "config.json").read_text())
        metadata = json.loads((path / "metadata.json").read_text())
    except FileNotFoundError as e:
        raise ModelFileError(
            f"kerax.load_model: {path} is missing {Path(e.filename).name}."
        ) from None
    except json.JSONDecodeError as e:
        raise ModelFileError(
            f"kerax.load_model: {path} has a corrupted JSON file: {e}."
        ) from None
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"kerax.load_model: unsupported format_version {metadata.get('format_version')!r}."
        )
    weights = path / "weights"
    want = metadata.get("weights_sha256") or {}
    have = _checksums(weights) if weights.is_dir() else {}
    if set(want) - set(have):
        raise ModelFileError(
            f"kerax.load_model: weights files missing in {weights}: {sorted(set(want) - set(have))}."
        )
    changed = sorted(k for k in want if have[k] != want[k])
    if changed:
        raise ModelFileError(
            f"kerax.load_model: weights files in {weights} are corrupted or were modified: {changed}."
        )

    model = serialization.from_config(config)
    spec = _spec_from_json(metadata["input_spec"])
    params, state = jax.eval_shape(lambda: model.init(jax.random.key(0), spec))
    try:
        restored = read_weights(weights, {"params": params, "state": state})
    except Exception as e:  # orbax/tensorstore errors: say which file and why.
        raise ModelFileError(
            f"kerax.load_model: cannot read the weights in {weights} for this architecture: {e}"
        ) from e
    _check_tree("params", restored["params"], params)
    _check_tree("state", restored["state"], state)
    return model, restored["params"], restored["state"]
