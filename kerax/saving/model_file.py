"""Model files: a `.keras` archive (Keras's own format) or a directory.

`save_model(path, ...)` with a path ending in `.keras` writes Keras 3's
archive (see `kerax.saving.keras_archive`): Keras loads it, and so does
`load_model`, without Keras. Any other path is a directory, for weights
that orbax writes (sharded, large):

```
path/
  config.json     # {"class_name", "config"}: the architecture, no code
  metadata.json   # kerax version, dtype policy, input spec, file checksums
  weights/        # params and state, written by orbax
```

Saving writes a sibling temporary directory and swaps it into place in one
atomic step, so there is no moment without a loadable model at `path`;
temporary folders of killed saves are removed by the next save. Loading
never unpickles and never runs code from the file: classes come from
kerax's allowlist or `kerax.register`; `metadata.json` must list exactly the
files in `weights/` with their SHA-256, symlinks are refused, and stored
array shapes are compared with the architecture before any array is read.
"""

from __future__ import annotations

import ctypes
import datetime
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

import jax
import numpy as np

from kerax._version import __version__
from kerax.core import registry, serialization
from kerax.core.layer import Layer
from kerax.core.policy import dtype_policy
from kerax.core.spec import keras_shape
from kerax.core.spec import spec as make_spec
from kerax.saving import keras_archive, training_state
from kerax.saving.errors import ModelFileError

FORMAT_VERSION = 1


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder`; symbolic links are refused."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root) / name
            if p.is_symlink():
                raise ModelFileError(
                    f"kerax.load_model: {p} is a symbolic link; model files must hold their "
                    "own weights (copy the files instead of linking them)."
                )
        for name in files:
            p = Path(root) / name
            out[p.relative_to(folder).as_posix()] = _sha256(p)
    return dict(sorted(out.items()))


def _spec_to_json(spec):
    return jax.tree.map(
        lambda s: {
            "shape": list(keras_shape(s.shape)),
            "dtype": np.dtype(s.dtype).name,
        },
        spec,
    )


def _spec_from_json(tree):
    def is_leaf(x):
        return isinstance(x, dict) and set(x) == {"shape", "dtype"}

    return jax.tree.map(
        lambda d: make_spec(tuple(d["shape"]), d["dtype"]), tree, is_leaf=is_leaf
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


_RENAME_EXCHANGE = 2  # Linux renameat2 flag: swap two paths atomically.
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swaps directories `a` and `b` (Linux); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the file system cannot swap.
        return False
    raise OSError(err, os.strerror(err), str(b))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temporaries(path: Path) -> list[Path]:
    """Removes `.<name>.tmp-<pid>-*` folders of saves whose process is gone."""
    removed = []
    for p in path.parent.glob(f".{path.name}.tmp-*"):
        try:
            pid = int(p.name.rsplit(".tmp-", 1)[1].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def atomic_directory_write(path: Path, write) -> None:
    """Calls `write(tmp_dir)` then swaps `tmp_dir` into `path` in one atomic step.

    There is no moment without a complete directory at `path` (on Linux the
    swap is `renameat2(RENAME_EXCHANGE)`; elsewhere two renames close
    together). Temporary folders of saves killed earlier are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not path.exists():
        os.rename(tmp, path)
        return
    if _exchange(tmp, path):
        shutil.rmtree(tmp, ignore_errors=True)  # Now the previous model.
        return
    old = path.parent / f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.rename(path, old)
    try:
        os.rename(tmp, path)
    except BaseException:
        os.rename(old, path)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _is_keras_path(path) -> bool:
    return str(path).endswith(".keras")


def save_model(
    path,
    model,
    params,
    state=None,
    *,
    input_spec=None,
    train_state=None,
    trainer=None,
) -> Path:
    """Saves `model` with `params` and `state` to `path` (`.keras` archive or directory).

    A path ending in `.keras` gets Keras 3's own archive, which
    `keras.saving.load_model` loads on any backend; any other path gets a
    directory with orbax-written weights.

    Args:
      path: `"model.keras"` for Keras's archive, anything else for a directory.
      model: the kerax model (or layer).
      params, state: its weights, as `model.init` returns them.
      input_spec: the input spec, if the model does not start with `kerax.Input`.
      train_state: a `TrainState` to continue training from (optimizer state,
        step, metric state); needs `trainer`. `kerax.load_trainer` gives both back.
      trainer: the `Trainer` whose optimizer, loss and metrics to save (as
        Keras's `compile_config`).

    Example:
        >>> import os, tempfile
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
        >>> params, state = model.init(jax.random.key(0))
        >>> path = os.path.join(tempfile.mkdtemp(), "mlp.keras")
        >>> saved = kerax.save_model(path, model, params, state)  # Keras's format
        >>> model, params, state = kerax.load_model(saved)
        >>> params["dense"]["kernel"].shape
        (3, 2)
    """
    path, model = _path_and_model(path, model, "save_model")
    state = {} if state is None else state
    if (train_state is None) != (trainer is None):
        raise ValueError(
            "kerax.save_model: pass train_state= and trainer= together (the optimizer "
            "state needs the trainer's optimizer to mean anything), or neither."
        )
    spec = input_spec if input_spec is not None else _default_spec(model)
    expected = jax.eval_shape(lambda: model.init(jax.random.key(0), spec))
    _check_tree("params", params, expected[0])
    _check_tree("state", state, expected[1])
    host = jax.tree.map(np.asarray, {"params": params, "state": state})
    training = None
    if train_state is not None:
        training = training_state.describe(trainer, train_state)

    if _is_keras_path(path):
        extra = {}
        if training is not None:
            extra = {"compile_config": training["compile_config"]}
        return keras_archive.save_keras(
            path,
            model,
            host["params"],
            host["state"],
            input_spec=spec,
            extra_config=extra,
            training=training,
        )

    config = serialization.serialize(model)  # Fails before anything is written.

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
        if training is not None:
            write_weights(tmp / "training", training["arrays"])
            metadata["training"] = training["json"]
            metadata["training_sha256"] = _checksums(tmp / "training")
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


def _read_json(path: Path, where: str) -> dict:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{where}: missing {path.name}.") from None
    return keras_archive.read_json_member(text, path.name, where)


def _verify_manifest(folder: Path, want, field: str, where: str) -> None:
    """The manifest must be non-empty and list exactly the files present, unchanged."""
    if (
        not isinstance(want, dict)
        or not want
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in want.items())
    ):
        raise ModelFileError(
            f"{where}: metadata.json field {field!r} is missing or empty, so the weights "
            "cannot be verified; the file is corrupted or was altered. Save the model again."
        )
    if folder.is_symlink():
        raise ModelFileError(
            f"{where}: {folder.name}/ is a symbolic link; model files must hold their own weights."
        )
    have = _checksums(folder) if folder.is_dir() else {}
    missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
    if missing or extra:
        raise ModelFileError(
            f"{where}: files in {folder.name}/ do not match metadata.json ({field}): "
            f"missing {missing}, not listed {extra}; the model directory is corrupted or was altered."
        )
    changed = sorted(k for k in want if have[k] != want[k])
    if changed:
        raise ModelFileError(
            f"{where}: files in {folder.name}/ are corrupted or were modified: {changed}."
        )


def check_stored_shapes(folder: Path, abstract, where: str) -> None:
    """Compares orbax's stored shapes and sizes with the architecture before reading."""
    import orbax.checkpoint as ocp

    try:
        with ocp.StandardCheckpointer() as ckptr:
            meta = ckptr.metadata(folder.absolute()).item_metadata.tree
    except Exception as e:  # orbax raises many types for unreadable metadata.
        raise ModelFileError(
            f"{where}: the array metadata in {folder.name}/ is corrupted: {e}"
        ) from None
    want = {
        jax.tree_util.keystr(p): tuple(x.shape)
        for p, x in jax.tree_util.tree_flatten_with_path(abstract)[0]
    }
    have = {
        jax.tree_util.keystr(p): tuple(getattr(x, "shape", None) or ())
        for p, x in jax.tree_util.tree_flatten_with_path(meta)[0]
    }
    if set(want) != set(have):
        raise ModelFileError(
            f"{where}: the stored arrays do not match the architecture: missing "
            f"{sorted(set(want) - set(have))[:5]}, unexpected {sorted(set(have) - set(want))[:5]}."
        )
    for k, shape in want.items():
        if have[k] != shape:
            raise ModelFileError(
                f"{where}: stored array {k} declares shape {have[k]}, the architecture expects "
                f"{shape}; the file is corrupted or from another model."
            )
    declared = sum(
        int(np.prod(x.shape)) * np.dtype(x.dtype).itemsize
        for x in jax.tree.leaves(abstract)
    )
    stored = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    # Real weights compress little; a few KiB declaring gigabytes is a
    # corrupted or hostile file, refused before anything is allocated.
    if declared > 64 * stored + (16 << 20):
        raise ModelFileError(
            f"{where}: the architecture declares {declared} bytes of weights but {folder.name}/ "
            f"stores only {stored}; the file is truncated or corrupted."
        )


def load_model(path, *, custom_objects=None):
    """Loads `(model, params, state)` from a `.keras` archive or a model directory.

    `.keras` archives (written by kerax or by Keras) are read with kerax's
    allowlisted deserializer and h5py: Keras is not imported and nothing
    named in the file is imported or run. `custom_objects` maps names in the
    file to your classes and functions, as in Keras (`kerax.register` does
    the same for every load).

    Example:
        >>> import os, tempfile
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
        >>> params, state = model.init(jax.random.key(0))
        >>> path = kerax.save_model(os.path.join(tempfile.mkdtemp(), "m"), model, params)
        >>> kerax.load_model(path)[1]["dense"]["bias"].shape
        (2,)
    """
    model, params, state, _ = load_model_file(path, custom_objects=custom_objects)
    return model, params, state


def load_model_file(path, *, custom_objects=None):
    """`(model, params, state, training)`; `training` is None without saved training state."""
    path = Path(path)
    where = f"kerax.load_model({str(path)!r})"
    if _is_keras_path(path) and path.is_file():
        return keras_archive.load_keras(path, custom_objects)
    if not path.is_dir():
        raise ModelFileError(
            f"{where}: {path} is not a model directory (nor a .keras file)."
        )
    config = _read_json(path / "config.json", where)
    metadata = _read_json(path / "metadata.json", where)
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{where}: unsupported metadata.json format_version {metadata.get('format_version')!r} "
            f"(this kerax reads {FORMAT_VERSION})."
        )
    weights = path / "weights"
    _verify_manifest(weights, metadata.get("weights_sha256"), "weights_sha256", where)
    try:
        with registry.custom_object_scope(custom_objects):
            model = serialization.from_config(config)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as e:
        raise ModelFileError(
            f"{where}: cannot build the architecture in config.json: {e}"
        ) from None
    except RecursionError:
        raise ModelFileError(f"{where}: config.json is nested too deeply.") from None
    try:
        spec = _spec_from_json(metadata["input_spec"])
        params, state = jax.eval_shape(lambda: model.init(jax.random.key(0), spec))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(
            f"{where}: metadata.json field 'input_spec' is missing or malformed ({e!r})."
        ) from None
    abstract = {"params": params, "state": state}
    check_stored_shapes(weights, abstract, where)
    try:
        restored = read_weights(weights, abstract)
    except Exception as e:  # orbax/tensorstore errors: say which file and why.
        raise ModelFileError(
            f"{where}: cannot read the weights in {weights} for this architecture (corrupted?): {e}"
        ) from e
    _check_tree("params", restored["params"], params)
    _check_tree("state", restored["state"], state)
    training = None
    if "training" in metadata:
        folder = path / "training"
        _verify_manifest(
            folder, metadata.get("training_sha256"), "training_sha256", where
        )
        training = training_state.read_directory(folder, metadata["training"], where)
        training["spec"] = spec
    return model, restored["params"], restored["state"], training


def save_weights(path, model, params, state=None) -> Path:
    """Writes Keras's `.weights.h5` file (Keras's `model.save_weights` layout).

    Example:
        >>> import os, tempfile
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
        >>> params, state = model.init(jax.random.key(0))
        >>> path = os.path.join(tempfile.mkdtemp(), "m.weights.h5")
        >>> _ = kerax.save_weights(path, model, params, state)
        >>> params2, state2 = kerax.load_weights(path, model)
        >>> bool((params2["dense"]["kernel"] == params["dense"]["kernel"]).all())
        True
    """
    path, model = _path_and_model(path, model, "save_weights")
    state = {} if state is None else state
    spec = _default_spec(model)
    expected = jax.eval_shape(lambda: model.init(jax.random.key(0), spec))
    _check_tree("params", params, expected[0])
    _check_tree("state", state, expected[1])
    host = jax.tree.map(np.asarray, (params, state))
    return keras_archive.save_weights_h5(path, model, *host)


def _path_and_model(path, model, what: str):
    """`(path, model)`, taking Keras's order too (`save_model(model, filepath)`)."""
    if isinstance(path, Layer) and isinstance(model, (str, os.PathLike)):
        return model, path
    if not isinstance(model, Layer):
        raise TypeError(
            f"kerax.{what}: expected a path and a kerax model (`kerax.{what}(path, model, "
            f"params, state)`, or Keras's order `(model, path, params, state)`); got "
            f"{type(path).__name__} and {type(model).__name__}."
        )
    return path, model


def load_weights(path, model, *, input_spec=None):
    """Reads `(params, state)` for `model` from a Keras `.weights.h5` file."""
    return keras_archive.load_weights_h5(path, model, input_spec=input_spec)
