"""Training checkpoints on orbax's `CheckpointManager`.

`CheckpointManager(directory, ...)` saves a whole `TrainState` (any pytree of
arrays, PRNG keys included) plus a small JSON "position" (epoch, step within
the epoch, data-order seed, ...) under `directory/<step>/`. Saves are
asynchronous (training continues while orbax writes), atomic (orbax writes a
temporary directory and renames it when complete, so a crash mid-save leaves
the previous checkpoint intact), and pruned to `max_to_keep`, optionally
keeping the best by a monitored metric. `restore` puts arrays onto the
shardings of a target, so a run saved on 8 devices restores onto 4 or 1.

Example:
    >>> import optax, tempfile
    >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    >>> ts = kerax.training.init_train_state(model, optax.sgd(0.1), jax.random.key(0))
    >>> ckpt = kerax.checkpoint.CheckpointManager(tempfile.mkdtemp(), max_to_keep=3)
    >>> ckpt.save(ts.step, ts, position={"epoch": 2})
    True
    >>> ts, position = ckpt.restore(target=ts)
    >>> position
    {'epoch': 2}
    >>> ckpt.close()
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

import jax
import numpy as np

_KEY_IMPLS = "__prng_key_impls__"


_MANIFEST = "kerax_sha256.json"


def _step_checksums(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            raise CheckpointCorruptedError(
                f"Checkpoint {folder}: {p} is a symbolic link; checkpoints hold their own files."
            )
        if p.is_file() and p.name not in (_MANIFEST, f".{_MANIFEST}.tmp"):
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            out[p.relative_to(folder).as_posix()] = h.hexdigest()
    return out


class CheckpointCorruptedError(ValueError):
    """A checkpoint whose files cannot be read back (damaged, truncated, empty)."""


def _check_position(position: dict, where: str) -> dict:
    """`epoch`/`batch` must be non-negative ints: anything else is a damaged file."""
    for key in ("epoch", "batch"):
        value = position.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CheckpointCorruptedError(
                f"{where}: position.{key} must be a non-negative int, got {value!r}; "
                "the checkpoint is corrupted."
            )
    return position


def _rank_metric(monitor: str, mode: str, metrics: dict) -> float:
    """The monitored value for keep-best; NaN ranks worst (orbax would keep it)."""
    value = float(metrics[monitor])
    if math.isnan(value):
        return math.inf if mode == "min" else -math.inf
    return value


def _is_key(x) -> bool:
    return isinstance(x, jax.Array) and jax.dtypes.issubdtype(
        x.dtype, jax.dtypes.prng_key
    )


def _encode_keys(tree):
    """Typed PRNG keys become their uint32 data (orbax stores plain arrays)."""
    impls = []

    def one(x):
        if _is_key(x):
            impls.append(str(jax.random.key_impl(x)))
            return jax.random.key_data(x)
        impls.append(None)
        return x

    return jax.tree.map(one, tree), impls


def _abstract(tree):
    """Abstract arrays (shape, dtype, sharding) for orbax's restore target."""

    def one(x):
        if _is_key(x):
            data = jax.eval_shape(jax.random.key_data, x)
            sharding = getattr(x, "sharding", None)
            return jax.ShapeDtypeStruct(
                data.shape,
                data.dtype,
                sharding=sharding if isinstance(x, jax.Array) else None,
            )
        if isinstance(x, jax.ShapeDtypeStruct):
            return x
        sharding = x.sharding if isinstance(x, jax.Array) else None
        return jax.ShapeDtypeStruct(np.shape(x), x.dtype, sharding=sharding)

    return jax.tree.map(one, tree)


def _path_str(path) -> str:
    """A tree path as `a/b/0`, whatever the containers (orbax metadata uses dicts)."""
    parts = []
    for k in path:
        for attr in ("key", "name", "idx"):
            if hasattr(k, attr):
                parts.append(str(getattr(k, attr)))
                break
    return "/".join(parts)


def _decode_keys(tree, impls):
    leaves, treedef = jax.tree.flatten(tree)
    if len(leaves) != len(impls):
        raise ValueError(
            "Checkpoint does not match the target's structure (PRNG key layout differs)."
        )
    out = [
        jax.random.wrap_key_data(x, impl=impl) if impl else x
        for x, impl in zip(leaves, impls)
    ]
    return jax.tree.unflatten(treedef, out)


class CheckpointManager:
    """Saves and restores training state; see the module docstring.

    Args:
      directory: where step folders go (created if missing).
      max_to_keep: how many checkpoints to keep (None: all).
      save_interval_steps: `save` is a no-op unless `step` is a multiple.
      monitor: a metric name; with it, the kept checkpoints are the best by
        that metric (`mode` "min" or "max") rather than the newest.
      async_save: write in the background (call `wait_until_finished`
        before reading the files yourself; `close` waits too).
    """

    def __init__(
        self,
        directory,
        *,
        max_to_keep: int | None = None,
        save_interval_steps: int = 1,
        monitor: str | None = None,
        mode: str = "min",
        async_save: bool = True,
    ):
        import orbax.checkpoint as ocp

        if mode not in ("min", "max"):
            raise ValueError(
                f"CheckpointManager: mode must be 'min' or 'max', got {mode!r}."
            )
        self.directory = Path(directory).absolute()
        self.monitor, self.mode = monitor, mode
        options = ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep,
            save_interval_steps=save_interval_steps,
            best_fn=functools.partial(_rank_metric, monitor, mode) if monitor else None,
            best_mode=mode,
            keep_checkpoints_without_metrics=False if monitor else True,
            enable_async_checkpointing=async_save,
            cleanup_tmp_directories=True,
            create=True,
        )
        self._ocp = ocp
        self._lock = None
        self._manager = ocp.CheckpointManager(
            self.directory, options=options, item_names=("state", "position")
        )

    # ------------------------------------------------------------------ save
    def save(
        self,
        step: int,
        train_state,
        *,
        position: dict | None = None,
        metrics: dict | None = None,
        force: bool = False,
    ) -> bool:
        """Saves `train_state` at `step`; returns whether a save started."""
        ocp = self._ocp
        step = int(step)
        self._acquire_lock()
        self._write_manifests()
        if self.monitor and (metrics is None or self.monitor not in metrics):
            raise ValueError(
                f"CheckpointManager monitors {self.monitor!r}, but save(metrics=...) has {sorted(metrics or {})}. "
                "Pass the metric, or build the manager without `monitor`."
            )
        encoded, impls = _encode_keys(train_state)
        pos = dict(position or {})
        pos[_KEY_IMPLS] = impls
        return self._manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(encoded), position=ocp.args.JsonSave(pos)
            ),
            metrics={k: float(v) for k, v in (metrics or {}).items()},
            force=force,
        )

    def _acquire_lock(self) -> None:
        """One writer per directory: a second one would lose saves and break max_to_keep."""
        if self._lock is not None:
            return
        import fcntl

        f = open(self.directory / ".kerax-writer.lock", "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            f.close()
            raise RuntimeError(
                f"CheckpointManager: another writer (pid {holder}) is saving checkpoints to "
                f"{self.directory}; two writers would lose saves. Give each run its own "
                "directory, or close() the other manager first."
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        self._lock = f

    def _release_lock(self) -> None:
        if self._lock is not None:
            import fcntl

            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def restore_latest(self, *, target: Any) -> tuple[Any, dict, int]:
        """Restores the newest checkpoint that reads; `(train_state, position, step)`.

        A damaged newest step (truncated or empty files after a crash) is
        skipped with a warning naming it, and the previous good step is
        used, so a resume is never blocked by the save that was interrupted.
        """
        steps = sorted(self.all_steps(), reverse=True)
        if not steps:
            raise FileNotFoundError(f"No checkpoint in {self.directory}.")
        errors = []
        for step in steps:
            try:
                ts, position = self.restore(step, target=target)
                position = _check_position(position, f"{self.directory}/{step}")
            except CheckpointCorruptedError as e:
                errors.append(str(e))
                warnings.warn(
                    f"Checkpoint {self.directory}/{step} is corrupted and was skipped: {e}",
                    stacklevel=2,
                )
                continue
            return ts, position, step
        raise CheckpointCorruptedError(
            f"Every checkpoint in {self.directory} is corrupted: {errors[0]}"
        )

    # --------------------------------------------------------------- restore
    def restore(
        self, step: int | None = None, *, target: Any = None
    ) -> tuple[Any, dict]:
        """Restores `(train_state, position)` at `step` (default: the latest).

        `target` (a TrainState of arrays or `ShapeDtypeStruct`s) fixes the
        structure, dtypes and shardings; without it arrays come back as
        saved, on the default device, with PRNG keys as raw data.
        """
        ocp = self._ocp
        if step is None:
            step = self.latest_step()
            if step is None:
                raise FileNotFoundError(f"No checkpoint in {self.directory}.")
        if step not in self.all_steps():
            raise FileNotFoundError(
                f"No checkpoint for step {step} in {self.directory}; have {self.all_steps()}."
            )
        self._verify_manifest(step)
        if target is None:
            out = self._manager.restore(
                step,
                args=ocp.args.Composite(
                    state=ocp.args.StandardRestore(), position=ocp.args.JsonRestore()
                ),
            )
            position = dict(out["position"])
            position.pop(_KEY_IMPLS, None)
            return out["state"], position
        abstract = _abstract(target)
        self._check_matches(step, abstract)
        try:
            out = self._manager.restore(
                step,
                args=ocp.args.Composite(
                    state=ocp.args.StandardRestore(abstract),
                    position=ocp.args.JsonRestore(),
                ),
            )
        except Exception as e:  # orbax/tensorstore/JSON errors of damaged files.
            raise CheckpointCorruptedError(
                f"Checkpoint {self.directory}/{step} is corrupted or does not fit the "
                f"target train state: {e}"
            ) from e
        position = dict(out["position"])
        impls = position.pop(_KEY_IMPLS, None)
        expected_impls = [
            str(jax.random.key_impl(x)) if _is_key(x) else None
            for x in jax.tree.leaves(target)
        ]
        return _decode_keys(
            out["state"], impls if impls is not None else expected_impls
        ), position

    def _check_matches(self, step, abstract) -> None:
        """A checkpoint from another model is a clear error, not a half-load."""
        try:
            meta = self._manager.item_metadata(step)["state"]
        except Exception:
            return  # Orbax will report unreadable checkpoints itself.
        if meta is None:
            return
        want = {
            _path_str(p): tuple(x.shape)
            for p, x in jax.tree_util.tree_flatten_with_path(abstract)[0]
        }
        have = {}
        for p, x in jax.tree_util.tree_flatten_with_path(meta)[0]:
            shape = getattr(x, "shape", None)
            have[_path_str(p)] = tuple(shape) if shape is not None else None
        missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
        if missing or extra:
            raise ValueError(
                f"Checkpoint {self.directory}/{step} is from another model or optimizer: "
                f"missing {missing[:5]}{'...' if len(missing) > 5 else ''}, unexpected {extra[:5]}{'...' if len(extra) > 5 else ''}."
            )
        bad = [k for k in want if have[k] is not None and have[k] != want[k]]
        if bad:
            raise ValueError(
                f"Checkpoint {self.directory}/{step}: {bad[0]} has shape {have[bad[0]]}, the target expects {want[bad[0]]}."
            )

    # ------------------------------------------------------------- queries
    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def best_step(self) -> int | None:
        return self._manager.best_step()

    def all_steps(self) -> list[int]:
        return sorted(self._manager.all_steps())

    def wait_until_finished(self) -> None:
        self._manager.wait_until_finished()
        self._write_manifests()

    def close(self) -> None:
        try:
            self._manager.wait_until_finished()
            self._write_manifests()
            self._manager.close()
        finally:
            self._release_lock()

    # ------------------------------------------------------------ checksums
    def _write_manifests(self) -> None:
        """SHA-256 of every file of each finished step, as model files have.

        Written by the writer once orbax has finished a step (at the next
        save, `wait_until_finished` or `close`), atomically.
        """
        if self._lock is None:
            return  # Only the writer writes manifests.
        for step in self._manager.all_steps():
            folder = self.directory / str(step)
            manifest = folder / _MANIFEST
            if manifest.exists() or not folder.is_dir():
                continue
            tmp = folder / f".{_MANIFEST}.tmp"
            tmp.write_text(json.dumps(_step_checksums(folder)))
            os.replace(tmp, manifest)

    def _verify_manifest(self, step: int) -> None:
        folder = self.directory / str(step)
        manifest = folder / _MANIFEST
        if not manifest.exists():
            return  # Saved by a process that ended before writing it.
        try:
            want = json.loads(manifest.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CheckpointCorruptedError(
                f"Checkpoint {folder} is corrupted: its {_MANIFEST} is not JSON ({e})."
            ) from None
        have = _step_checksums(folder)
        if not isinstance(want, dict) or want != have:
            bad = (
                sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
                if isinstance(want, dict)
                else [_MANIFEST]
            )
            raise CheckpointCorruptedError(
                f"Checkpoint {folder} is corrupted: files missing, added or changed since "
                f"it was saved: {bad[:5]}."
            )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
