"""Training state in a model file: what `load_trainer` needs to continue training.

Keras's `.keras` file carries the model's `compile_config` (optimizer, loss,
metrics) and the optimizer's variables, so `keras.saving.load_model` gives a
model that continues training. kerax saves the same in both of its formats:

- `compile_config` in Keras's shape (`{"optimizer": {...}, "loss": ...,
  "metrics": ...}`), so Keras compiles the model from a kerax `.keras` file;
- the `TrainState` beyond the weights (optimizer state, step, base key, loss
  scale) as arrays, in the `.keras` file's HDF5 under `kerax_training/vars`
  (Keras ignores the group) or in the directory's `training/` folder.

Metric states are not saved: `fit` resets them at the start of every epoch,
as Keras does, so a run saved at the end of an epoch and continued with
`fit(..., initial_epoch=...)` equals the uninterrupted run bit for bit.
"""

from __future__ import annotations

import jax
import numpy as np

from kerax import losses, optimizers
from kerax import metrics as metrics_module
from kerax.saving import model_file
from kerax.saving.errors import ModelFileError
from kerax.training import Trainer

# Trainer arguments that round-trip through the file (JSON values only).
_TRAINER_FIELDS = ("seed", "steps_per_execution")


def _json_argument(name, value, family):
    """A loss/metrics argument as JSON, as Keras's `compile_config` holds it.

    Keras names (strings), `Loss`/`Metric` objects and named functions in
    Keras's serialized form (`{"module", "class_name", "config", ...}`, what
    `keras.losses.serialize` writes), and lists/dicts of them, or None.
    """
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_argument(name, v, family) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_argument(name, v, family) for k, v in value.items()}
    if family is not None:
        try:
            config = family.serialize(value)
            family.deserialize(config)  # Only what `load_trainer` can rebuild.
            return config
        except (ValueError, TypeError, AttributeError):
            pass
    raise ModelFileError(
        f"kerax.save_model: the Trainer's `{name}` holds {value!r}, which a model file "
        "cannot name; use Keras names (strings such as 'mse', 'accuracy'), built-in "
        "or registered (`kerax.register`) losses and metrics to save training state."
    )


def _from_json(value, family, where):
    """`_json_argument` undone: Keras's serialized objects become objects again."""
    if isinstance(value, list):
        return [_from_json(v, family, where) for v in value]
    if isinstance(value, dict):
        if "class_name" in value and "config" in value:  # One serialized object.
            try:
                if value["class_name"] == "function" and family is metrics_module:
                    # The function itself, as Keras's `compile_from_config`
                    # gives it back (`metrics.deserialize` would wrap it).
                    return family.deserialize_function(value)
                return family.deserialize(value)
            except (ValueError, TypeError) as e:
                raise ModelFileError(
                    f"{where}: compile_config names {value.get('class_name')!r}, which "
                    f"cannot be rebuilt: {e}"
                ) from None
        return {k: _from_json(v, family, where) for k, v in value.items()}
    return value


def _leaves(train_state):
    """The TrainState's arrays besides params, state and metric states, in a fixed order."""
    rest = train_state._replace(params=None, state=None, metric_states=None)
    return jax.tree.leaves(rest)


def compile_config(trainer) -> dict:
    """Keras's `compile_config` (`model.get_compile_config()`) of `trainer`."""
    opt = getattr(trainer, "optimizer", None) or getattr(trainer, "tx", None)
    if not isinstance(opt, optimizers.KerasOptimizer):
        raise ModelFileError(
            "kerax.save_model: the Trainer's optimizer is a plain optax transformation, "
            "which a model file cannot name. Build the Trainer with a Keras optimizer "
            "(optimizer='adam' or kerax.optimizers.Adam(...)) to save training state."
        )
    loss, loss_weights, metrics, weighted_metrics = trainer._compile_args
    return {
        "optimizer": optimizers.serialize(opt),
        "loss": _json_argument("loss", loss, losses),
        "loss_weights": _json_argument("loss_weights", loss_weights, None),
        "metrics": _json_argument("metrics", metrics, metrics_module),
        "weighted_metrics": _json_argument(
            "weighted_metrics", weighted_metrics, metrics_module
        ),
        "run_eagerly": False,
        "steps_per_execution": 1
        if trainer.steps_per_execution == "auto"
        else trainer.steps_per_execution,
        "jit_compile": True,
    }


def get_compile_config(trainer) -> dict:
    """Keras's `model.get_compile_config()` for a kerax `Trainer` (the
    compiled model): its optimizer, loss, metrics, ... as a `.keras` file's
    `compile_config` holds them (Keras's keys).

    Example:
        >>> trainer = kerax.Trainer(kerax.Sequential([kerax.layers.Dense(1)]), "adam", "mse")
        >>> kerax.saving.get_compile_config(trainer)["loss"]
        'mse'
    """
    return compile_config(trainer)


def trainer_from_compile_config(model, config: dict) -> Trainer:
    """Keras's `model.compile_from_config(config)`: a `Trainer` for `model`
    from a `compile_config` (`get_compile_config`'s output, or Keras's own;
    registered objects only)."""
    return make_trainer(
        model, {"compile_config": config}, "kerax.saving.trainer_from_compile_config"
    )


def describe(trainer, train_state) -> dict:
    """`{"compile_config", "json", "arrays"}` for `trainer` and `train_state`."""
    compile_config_ = compile_config(trainer)
    leaves = [np.asarray(x) for x in _leaves(train_state)]
    return {
        "compile_config": compile_config_,
        "json": {
            "compile_config": compile_config_,
            "trainer": {k: getattr(trainer, k) for k in _TRAINER_FIELDS},
            "num_arrays": len(leaves),
        },
        "arrays": {str(i): x for i, x in enumerate(leaves)},
    }


def make_trainer(model, info: dict, where: str):
    """A Trainer from a saved `compile_config` (Keras's shape)."""
    cc = info.get("compile_config")
    if not isinstance(cc, dict) or not isinstance(cc.get("optimizer"), dict):
        raise ModelFileError(
            f"{where}: the file has no compile_config with an optimizer, so it holds no training state."
        )
    try:
        optimizer = optimizers.deserialize(cc["optimizer"])
    except (ValueError, TypeError) as e:
        raise ModelFileError(
            f"{where}: compile_config.optimizer is malformed: {e}"
        ) from None
    trainer_args = info.get("trainer") or {}
    spe = trainer_args.get("steps_per_execution", cc.get("steps_per_execution", "auto"))
    return Trainer(
        model,
        optimizer=optimizer,
        loss=_from_json(cc.get("loss"), losses, where),
        metrics=_from_json(cc.get("metrics"), metrics_module, where),
        loss_weights=cc.get("loss_weights"),
        weighted_metrics=_from_json(cc.get("weighted_metrics"), metrics_module, where),
        seed=int(trainer_args.get("seed", 0)),
        steps_per_execution=spe,
    )


def restore(trainer, params, state, arrays: list, where: str, spec=None):
    """A TrainState from `trainer.init`'s structure filled with the saved arrays."""
    ts = trainer.init(spec=spec)
    template = ts._replace(params=None, state=None, metric_states=None)
    want, treedef = jax.tree.flatten(template)
    if len(want) != len(arrays):
        raise ModelFileError(
            f"{where}: the saved training state has {len(arrays)} arrays, but this "
            f"optimizer's state has {len(want)}; the file is corrupted."
        )
    filled = []
    for i, (w, a) in enumerate(zip(want, arrays)):
        if tuple(np.shape(a)) != tuple(np.shape(w)) or np.dtype(a.dtype) != np.dtype(
            w.dtype
        ):
            raise ModelFileError(
                f"{where}: training-state array {i} is {a.dtype}{tuple(np.shape(a))}, the "
                f"optimizer expects {np.dtype(w.dtype)}{tuple(np.shape(w))}; the file is corrupted."
            )
        filled.append(jax.numpy.asarray(a))
    rest = jax.tree.unflatten(treedef, filled)
    return rest._replace(params=params, state=state, metric_states=ts.metric_states)


def read_directory(folder, info: dict, where: str) -> dict:
    """The saved training arrays of a model directory (checksums already verified)."""
    n = info.get("num_arrays") if isinstance(info, dict) else None
    if not isinstance(n, int) or n < 0:
        raise ModelFileError(
            f"{where}: metadata.json training.num_arrays is missing or malformed."
        )
    import orbax.checkpoint as ocp

    with ocp.StandardCheckpointer() as ckptr:
        meta = ckptr.metadata(folder.absolute()).item_metadata.tree
    if sorted(meta, key=int) != [str(i) for i in range(n)]:
        raise ModelFileError(
            f"{where}: training/ does not hold the {n} arrays metadata.json lists."
        )
    abstract = {
        k: jax.ShapeDtypeStruct(tuple(v.shape), v.dtype) for k, v in meta.items()
    }
    arrays = model_file.read_weights(folder, abstract)
    return {**info, "arrays": [np.asarray(arrays[str(i)]) for i in range(n)]}


def load_trainer(path, *, custom_objects=None):
    """Loads `(trainer, train_state)` from a model file saved with `train_state=`.

    The Keras counterpart is `keras.saving.load_model(path)` of a compiled
    model: the architecture, weights, optimizer, loss, metrics and optimizer
    state, ready for `trainer.fit(ts, ..., initial_epoch=...)`.

    Example:
        >>> import os, tempfile
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(1)])
        >>> trainer = kerax.Trainer(model, optimizer="adam", loss="mse")
        >>> x, y = np.ones((8, 3), "float32"), np.ones((8, 1), "float32")
        >>> ts, _ = trainer.fit(trainer.init(), x, y, epochs=1, verbose=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "run.keras")
        >>> _ = kerax.save_model(path, model, ts.params, ts.state, train_state=ts, trainer=trainer)
        >>> trainer2, ts2 = kerax.load_trainer(path)
        >>> int(ts2.step)
        1
    """
    where = f"kerax.load_trainer({str(path)!r})"
    model, params, state, training = model_file.load_model_file(
        path, custom_objects=custom_objects
    )
    if training is None:
        raise ModelFileError(
            f"{where}: the file holds no training state; save it with "
            "kerax.save_model(path, model, params, state, train_state=ts, trainer=trainer)."
        )
    trainer = make_trainer(model, training, where)
    ts = restore(
        trainer, params, state, training["arrays"], where, spec=training.get("spec")
    )
    return trainer, ts
