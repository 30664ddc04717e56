"""Keras `compile()`'s loss and metrics, resolved per model output.

`Objectives(model, loss, loss_weights, metrics, weighted_metrics)` is what
Keras builds as `CompileLoss` + `CompileMetrics`, as pure functions:

- `Objectives.resolve(model, loss, ..., x_spec, y_spec)` (or `build(y_true,
  y_pred)` on specs) resolves names ("crossentropy", "accuracy") from the
  shapes, once, before any step is traced; the result is immutable;
- `compute_loss(y_true, y_pred, sample_weight, mask)` returns the weighted
  total and the unweighted per-output losses;
- `init_metrics()` / `update_metrics(...)` / `results(...)` keep the running
  loss trackers and metrics in a dict of arrays (`TrainState.metric_states`).

Keras's semantics and log names: one output logs `loss` and each metric's
name; several outputs log `loss` (the weighted total), `<output>_loss`
(unweighted) and `<output>_<metric>`. `metrics` ignore sample weights (Keras
3); `weighted_metrics` use them. The `loss` tracker averages batch losses
weighted by batch size, as Keras's does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jax_core

from kerax import losses as losses_module
from kerax import metrics as metrics_module
from kerax.core.node import Node

__all__ = ["Objectives", "pack_batch", "unpack_batch"]


def unpack_batch(batch):
    """Keras's `unpack_x_y_sample_weight`: `(x, y, sample_weight)` from a batch.

    A tuple or list of 1 to 3 items is `(x,)`, `(x, y)` or
    `(x, y, sample_weight)`; anything else is `x` alone.
    """
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return batch, None, None
    if len(batch) == 1:
        return batch[0], None, None
    if len(batch) == 2:
        return batch[0], batch[1], None
    if len(batch) == 3:
        return batch
    raise ValueError(
        "A batch must be x, (x,), (x, y) or (x, y, sample_weight); "
        f"got a tuple of {len(batch)} items."
    )


def pack_batch(x, y=None, sample_weight=None):
    """Keras's `pack_x_y_sample_weight`: the batch `unpack_batch` reads back.

    `x` alone stays `x` (a tuple or list `x` is wrapped as `(x,)`, so that it
    is not read as `(x, y)`); else `(x, y)` or `(x, y, sample_weight)`.
    """
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _fresh_states_program(init):
    """A function returning `init()`'s arrays anew on every call, cheaply.

    `fit` resets the metrics every epoch: one call of this, not an eager op
    per state leaf (~200 us eager, ~20 us jitted). Every built-in metric's
    initial state only broadcasts constants, which NumPy evaluates from the
    traced program without compiling it: an XLA program costs ~35 ms to
    compile, on top of the first step's own compile. Anything else (a
    custom metric's init) is jitted.
    """
    closed, out_shape = jax.make_jaxpr(init, return_shape=True)()
    host = _constants_on_host(closed)
    if host is None:
        return jax.jit(init)
    treedef = jax.tree.structure(out_shape)
    return lambda: jax.device_put(jax.tree.unflatten(treedef, host))


def _constants_on_host(closed) -> list | None:
    """The outputs of a program without inputs, with NumPy, or None when it
    does more than broadcast and convert constants."""
    env = dict(zip(closed.jaxpr.constvars, map(np.asarray, closed.consts)))

    def read(v):
        return np.asarray(v.val) if isinstance(v, jax_core.Literal) else env[v]

    for eqn in closed.jaxpr.eqns:
        name = eqn.primitive.name
        if name not in ("broadcast_in_dim", "convert_element_type"):
            return None
        (x,) = map(read, eqn.invars)
        if name == "broadcast_in_dim":
            shape, dims = eqn.params["shape"], eqn.params["broadcast_dimensions"]
            kept = [
                x.shape[dims.index(i)] if i in dims else 1 for i in range(len(shape))
            ]
            x = np.broadcast_to(x.reshape(kept), shape)
        env[eqn.outvars[0]] = x.astype(eqn.outvars[0].aval.dtype)
    # Fresh, writable copies: the arrays go to the device on every call.
    return [np.array(read(v), dtype=v.aval.dtype) for v in closed.jaxpr.outvars]


def _is_leaf_spec(x) -> bool:
    return x is None or hasattr(x, "shape")


def _is_metric(obj) -> bool:
    return all(callable(getattr(obj, a, None)) for a in ("init", "update", "result"))


def _shape(x):
    return None if x is None else tuple(x.shape)


@dataclasses.dataclass
class _LossEntry:
    index: int  # Position in the flat outputs.
    fn: Any  # (y_true, y_pred, sample_weight[, mask]) -> scalar
    weight: float | None
    name: str  # Log name, "<output>_loss" with several outputs.
    takes_mask: bool


@dataclasses.dataclass
class _MetricEntry:
    index: int
    metric: Any
    weighted: bool
    name: str


class _LossTracker:
    """Keras's `Mean(name="loss")`: `[sum of value * weight, sum of weights]`.

    One array of two, not two scalars: every leaf of the TrainState costs
    dispatch time on each step.
    """

    @staticmethod
    def init():
        return jnp.zeros((2,), jnp.float32)

    @staticmethod
    def update(state, value, weight):
        value = jnp.asarray(value, jnp.float32)
        return state + jnp.stack([value * weight, weight])

    @staticmethod
    def result(state):
        total, count = state[0], state[1]
        return jnp.where(count == 0, 0.0, total / jnp.where(count == 0, 1.0, count))


def output_names(model, y_pred_tree) -> list[str | None]:
    """Names of the model's flat outputs (dict keys, or output layer names).

    A single output has the name None (no prefix in the logs).
    """
    leaves, treedef = jax.tree.flatten(y_pred_tree, is_leaf=_is_leaf_spec)
    if treedef.num_leaves == 1 and not isinstance(y_pred_tree, (dict, list, tuple)):
        return [None]
    paths = [
        p
        for p, _ in jax.tree_util.tree_flatten_with_path(
            y_pred_tree, is_leaf=_is_leaf_spec
        )[0]
    ]
    names: list[str | None] = []
    if isinstance(y_pred_tree, dict):
        for p in paths:
            names.append(
                "_".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in p)
            )
        return names
    # Lists of outputs: Keras names them after the layers that produce them.
    node_names = _output_layer_names(model, len(leaves))
    return [node_names[i] if node_names else f"output_{i}" for i in range(len(paths))]


def _output_layer_names(model, n):
    outputs = getattr(model, "outputs", None)
    if outputs is None or not hasattr(model, "layer_name"):
        return None
    nodes = jax.tree.leaves(outputs, is_leaf=lambda v: isinstance(v, Node))
    if len(nodes) != n:
        return None
    names = []
    for node in nodes:
        root, path = node, []
        while root.parent is not None:
            path = list(root.path) + path
            root = root.parent
        try:
            base = model.layer_name(root.op)
        except KeyError:
            return None
        names.append("_".join([base, *map(str, path)]))
    if len(set(names)) != len(names):
        return None
    return names


class Objectives:
    """Loss and metrics of a compiled model, Keras `compile()` style.

    Args:
        model: the kerax model (for output names of list outputs).
        loss: a loss (name, `kerax.losses` object or function), or a list or
            dict of them, one per output; None entries skip an output.
        loss_weights: a float, or a list or dict matching the outputs.
        metrics: metrics for the outputs: a list for a single output; a list
            (one entry per output, each a metric, a list of them or None) or
            a dict by output name for several outputs.
        weighted_metrics: like `metrics`, but updated with the sample weights.
        track_loss: keep the running `loss` tracker (Keras's compiled
            `Mean(name="loss")`). False only for custom steps without a
            loss, whose own metrics may then use the name `loss`.
    """

    def __init__(
        self,
        model=None,
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        *,
        track_loss: bool = True,
    ):
        if loss_weights is not None and not isinstance(
            loss_weights, (int, float, list, tuple, dict)
        ):
            raise ValueError(
                "Expected `loss_weights` argument to be a float (single output case) or a list, tuple, or dict "
                f"(multiple output case). Received instead: loss_weights={loss_weights!r}"
            )
        self.model = model
        self.loss = loss
        self.loss_weights = loss_weights
        self.metrics = metrics
        self.weighted_metrics = weighted_metrics
        self.track_loss = bool(track_loss)
        self._built_for = None
        self.losses: list[_LossEntry] = []
        self.metric_entries: list[_MetricEntry] = []
        self.names: list[str | None] = []
        self.n_outputs = 0
        self._fresh_metrics = None

    # ---------------------------------------------------------------- build
    @property
    def built(self) -> bool:
        return self._built_for is not None

    @classmethod
    def resolve(
        cls,
        model,
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        *,
        x_spec=None,
        y_spec=None,
        track_loss: bool = True,
    ) -> Objectives:
        """Resolved objectives for a model's outputs and a target spec, in one call.

        Args:
            model: the kerax model; its output spec comes from `x_spec`
                (default: the model's `kerax.Input`).
            loss, loss_weights, metrics, weighted_metrics: as the constructor.
            x_spec: the input spec(s), batch dimension included.
            y_spec: the target spec(s), or None. Without it, names chosen
                from the target shape ("accuracy", "crossentropy") are chosen
                from the loss as Keras does when shapes are unknown, and a
                name that cannot be chosen that way raises a ValueError
                asking for `y_spec`.
            track_loss: as the constructor.

        Example:
            >>> import kerax
            >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(3)])
            >>> obj = Objectives.resolve(
            ...     model, "sparse_categorical_crossentropy", metrics=["accuracy"]
            ... )
            >>> [e.metric.__class__.__name__ for e in obj.metric_entries]
            ['SparseCategoricalAccuracy']
        """
        if x_spec is None:
            x_spec = getattr(model, "input_spec", None)
            if x_spec is None:
                raise ValueError(
                    f"{model.describe()} has no kerax.Input, so its loss and metrics cannot be resolved without "
                    "the input spec: pass x_spec=kerax.spec((None, features))."
                )
        objectives = cls(
            model,
            loss,
            loss_weights,
            metrics,
            weighted_metrics,
            track_loss=track_loss,
        )
        return objectives.build(y_spec, model.output_spec(x_spec))

    def __setattr__(self, name, value):
        # Resolved objectives are shared by the train and eval steps and
        # closed over by their compiled programs: they must not change.
        if getattr(self, "_built_for", None) is not None:
            raise AttributeError(
                f"Objectives are immutable once resolved (tried to set {name!r}); resolve new ones instead."
            )
        object.__setattr__(self, name, value)

    def build(self, y_true, y_pred) -> Objectives:
        """Resolves losses and metrics for these targets and outputs (shapes only).

        Returns the objectives themselves, now immutable. Building again with
        outputs of the same structure does nothing.
        """
        pred_leaves, pred_def = jax.tree.flatten(y_pred, is_leaf=_is_leaf_spec)
        true_flat = self._flat_true(y_true, y_pred, pred_leaves)
        signature = (
            pred_def,
            tuple(_shape(p)[1:] for p in pred_leaves),
            tuple(None if t is None else _shape(t)[1:] for t in true_flat),
        )
        if self._built_for is not None:
            if self._built_for[0] != pred_def:
                raise ValueError(
                    "The model's outputs changed structure since the loss and metrics were resolved: "
                    f"{self._built_for[0]} vs {pred_def}."
                )
            return self
        names = output_names(self.model, y_pred)
        n = len(pred_leaves)
        self._pred_shapes = [_shape(p) for p in pred_leaves]
        self.names, self.n_outputs = names, n
        losses = self._per_output(self.loss, names, "loss", y_pred)
        weights = self._per_output(
            self.loss_weights, names, "loss_weights", y_pred, broadcast=n == 1
        )
        self.losses = []
        for i in range(n):
            if losses[i] is None:
                continue
            yt_shape = None if true_flat[i] is None else _shape(true_flat[i])
            fn = _resolve_loss(
                losses[i], yt_shape, _shape(pred_leaves[i]), losses_module
            )
            name = "loss" if n == 1 else f"{names[i]}_loss"
            takes_mask = isinstance(fn, losses_module.Loss)
            w = weights[i]
            self.losses.append(
                _LossEntry(i, fn, None if w is None else float(w), name, takes_mask)
            )
        if self.loss is not None and not self.losses:
            raise ValueError(
                f"`loss`={self.loss!r} assigns no loss to any of the model's outputs {names}."
            )

        self.metric_entries = []
        used: dict[str, int] = {e.name: 1 for e in self.losses}
        if self.track_loss:
            used["loss"] = 1
        for weighted, spec in ((False, self.metrics), (True, self.weighted_metrics)):
            per_output = self._metrics_per_output(spec, names)
            for i, ids in enumerate(per_output):
                for ident in ids:
                    if ident is None:
                        continue
                    loss_id = losses[i] if i < len(losses) else None
                    m = _resolve_metric(
                        ident,
                        _shape(true_flat[i]) if true_flat[i] is not None else None,
                        _shape(pred_leaves[i]),
                        loss_id,
                    )
                    base = getattr(m, "name", None) or type(m).__name__
                    name = base if n == 1 else f"{names[i]}_{base}"
                    if (
                        weighted and name in used
                    ):  # Keras's rule for a metric given twice.
                        base = f"weighted_{base}"
                        name = base if n == 1 else f"{names[i]}_{base}"
                    if name in used:
                        used[name] += 1
                        name = f"{name}_{used[name] - 1}"
                    used[name] = 1
                    self.metric_entries.append(_MetricEntry(i, m, weighted, name))
        self._fresh_metrics = _fresh_states_program(self._metric_states)
        self._built_for = signature
        return self

    def _flat_true(self, y_true, y_pred, pred_leaves):
        """Targets in the outputs' flat order (None where an output has none)."""
        n = len(pred_leaves)
        if y_true is None:
            return [None] * n
        if n == 1 and not isinstance(y_pred, (dict, list, tuple)):
            if isinstance(y_true, (list, tuple)) and len(y_true) == 1:
                y_true = y_true[0]
            if isinstance(y_true, dict) and len(y_true) == 1:
                (y_true,) = y_true.values()
            return [y_true]
        if isinstance(y_pred, dict):
            keys = sorted(y_pred)
            if isinstance(y_true, dict):
                unknown = set(y_true) - set(keys)
                if unknown:
                    raise ValueError(
                        f"Targets for unknown outputs {sorted(unknown)}; the model's outputs are {keys}."
                    )
                return [y_true.get(k) for k in keys]
            if isinstance(y_true, (list, tuple)) and len(y_true) == n:
                return list(y_true)
        elif isinstance(y_pred, (list, tuple)):
            if isinstance(y_true, (list, tuple)) and len(y_true) == n:
                return list(y_true)
            if isinstance(y_true, dict):
                names = output_names(self.model, y_pred)
                unknown = set(y_true) - set(names)
                if unknown:
                    raise ValueError(
                        f"Targets for unknown outputs {sorted(unknown)}; the model's outputs are {names}."
                    )
                return [y_true.get(k) for k in names]
        true_leaves = jax.tree.leaves(y_true, is_leaf=_is_leaf_spec)
        if len(true_leaves) == n:
            return true_leaves
        raise ValueError(
            f"y and the model's outputs have different structures: the model has {n} outputs "
            f"({jax.tree.structure(y_pred, is_leaf=_is_leaf_spec)}), y is {jax.tree.structure(y_true, is_leaf=_is_leaf_spec)}."
        )

    def _per_output(self, spec, names, what, y_pred, broadcast=True):
        n = len(names)
        if spec is None:
            return [None] * n
        if isinstance(spec, dict):
            keys = [k for k in names]
            unknown = set(spec) - set(keys)
            if unknown or None in keys:
                raise ValueError(
                    f"`{what}` is a dict with keys {sorted(spec)}, but the model's outputs are named {keys}."
                )
            return [spec.get(k) for k in keys]
        if isinstance(spec, (list, tuple)):
            if len(spec) == n:
                return list(spec)
            if n == 1 and what == "loss":
                raise ValueError(
                    f"`loss` is a list of {len(spec)} losses for a model with one output."
                )
            raise ValueError(
                f"`{what}` has {len(spec)} entries but the model has {n} outputs ({names})."
            )
        if not broadcast and what == "loss_weights":
            raise ValueError(
                f"`loss_weights` must be a list or dict for a model with {n} outputs, got {spec!r}."
            )
        return [spec] * n

    def _metrics_per_output(self, spec, names):
        n = len(names)
        if spec is None:
            return [[] for _ in range(n)]
        if isinstance(spec, dict):
            unknown = set(spec) - set(names)
            if unknown:
                raise ValueError(
                    f"`metrics` has keys {sorted(unknown)} that are not outputs of the model ({names})."
                )
            return [_as_list(spec.get(k)) for k in names]
        if not isinstance(spec, (list, tuple)):
            return [[spec] for _ in range(n)]
        if n == 1:
            return [list(spec)]
        if len(spec) != n:
            raise ValueError(
                "For a model with multiple outputs, when providing the `metrics` argument as a list, it should have "
                f"as many entries as the model has outputs. Received:\nmetrics={spec}\nof length {len(spec)} whereas "
                f"the model has {n} outputs."
            )
        return [_as_list(s) for s in spec]

    # ---------------------------------------------------------------- loss
    def flat_outputs(self, y_true, y_pred):
        pred_leaves = jax.tree.leaves(y_pred, is_leaf=_is_leaf_spec)
        return self._flat_true(y_true, y_pred, pred_leaves), pred_leaves

    def _flat_weights(self, sample_weight, y_pred):
        n = self.n_outputs
        if sample_weight is None:
            return [None] * n
        if isinstance(sample_weight, dict):
            if isinstance(y_pred, dict):
                return [sample_weight.get(k) for k in sorted(y_pred)]
            return [sample_weight.get(k) for k in self.names]
        if (
            isinstance(sample_weight, (list, tuple))
            and len(sample_weight) == n
            and n > 1
        ):
            return list(sample_weight)
        return [sample_weight] * n

    def compute_loss(self, y_true, y_pred, sample_weight=None, mask=None):
        """`(total, per_output)`: the weighted sum over outputs, and each output's loss."""
        self._check_built("compute_loss")
        trues, preds = self.flat_outputs(y_true, y_pred)
        weights = self._flat_weights(sample_weight, y_pred)
        masks = self._flat_masks(mask)
        total = jnp.zeros((), jnp.float32)
        per_output = []
        for e in self.losses:
            y_t, y_p = trues[e.index], preds[e.index]
            if y_t is None:
                raise ValueError(
                    f"Output {self.names[e.index] or 0!r} has a loss but no target: pass y for it "
                    "(or set its loss to None)."
                )
            y_p = _to_float32(y_p)
            if e.takes_mask and masks[e.index] is not None:
                value = e.fn(y_t, y_p, weights[e.index], mask=masks[e.index])
            else:
                value = e.fn(y_t, y_p, weights[e.index])
            value = jnp.asarray(value, jnp.float32)
            per_output.append(value)
            total = total + (value if e.weight is None else value * e.weight)
        return total, per_output

    # -------------------------------------------------------------- metrics
    def init_metrics(self) -> dict:
        """Fresh running states: the loss trackers and every compiled metric."""
        self._check_built("init_metrics")
        return self._fresh_metrics()

    def _check_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"Objectives.{what}() needs resolved objectives: use Objectives.resolve(model, loss, ..., "
                "x_spec=..., y_spec=...) or build(y_true_spec, y_pred_spec) first."
            )

    def _metric_states(self) -> dict:
        states = {"loss": _LossTracker.init()} if self.track_loss else {}
        if len(self.losses) > 1:
            for e in self.losses:
                states[e.name] = _LossTracker.init()
        for e in self.metric_entries:
            states[e.name] = _init_metric(e.metric, self._pred_shapes[e.index])
        return states

    def update_metrics(
        self,
        states,
        loss,
        per_output,
        y_true,
        y_pred,
        sample_weight,
        batch_size,
        mask=None,
    ):
        """New running states after one batch (`batch_size` weighs the loss trackers).

        `mask`: the model's output masks (Keras's `_keras_mask`), handed to
        the metrics that take one, as Keras does.
        """
        states = dict(states)
        bs = jnp.asarray(batch_size, jnp.float32)
        if self.track_loss:
            states["loss"] = _LossTracker.update(states["loss"], loss, bs)
        if len(self.losses) > 1:
            for e, value in zip(self.losses, per_output):
                states[e.name] = _LossTracker.update(states[e.name], value, bs)
        if self.metric_entries:
            trues, preds = self.flat_outputs(y_true, y_pred)
            preds = _to_float32(preds)
            weights = self._flat_weights(sample_weight, y_pred)
            masks = self._flat_masks(mask)
            for e in self.metric_entries:
                y_t = trues[e.index]
                if y_t is None:
                    continue
                sw = weights[e.index] if e.weighted else None
                kwargs = {} if masks[e.index] is None else {"mask": masks[e.index]}
                states[e.name] = e.metric.update(
                    states[e.name], y_t, preds[e.index], sample_weight=sw, **kwargs
                )
        return states

    def _flat_masks(self, mask):
        if mask is not None:
            leaves = jax.tree.leaves(
                mask, is_leaf=lambda v: v is None or hasattr(v, "shape")
            )
            if len(leaves) == self.n_outputs:
                return leaves
        return [None] * self.n_outputs

    def results(self, states) -> dict:
        """The logs: `loss`, per-output losses, then metrics, as running values."""
        logs = {"loss": _LossTracker.result(states["loss"])} if self.track_loss else {}
        if len(self.losses) > 1:
            for e in self.losses:
                logs[e.name] = _LossTracker.result(states[e.name])
        for e in self.metric_entries:
            result = e.metric.result(states[e.name])
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[e.name] = result
        return logs

    def merge_metrics(self, a, b) -> dict:
        """Combines two running states (e.g. from two devices or two hosts)."""
        out = {}
        for k in a:
            entry = next((e for e in self.metric_entries if e.name == k), None)
            if entry is None:
                out[k] = jax.tree.map(jnp.add, a[k], b[k])
            else:
                out[k] = entry.metric.merge(a[k], b[k])
        return out


def _init_metric(metric, y_pred_shape):
    # kerax metrics take the output shape so that per-class states (F1Score,
    # R2Score, AUC multi_label) have their final shape from the start: a state
    # that changed shape after the first step would recompile the step.
    try:
        return metric.init(y_pred_shape)
    except TypeError:
        return metric.init()


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _to_float32(tree):
    def one(x):
        if (
            hasattr(x, "dtype")
            and jnp.issubdtype(x.dtype, jnp.floating)
            and x.dtype != jnp.float32
        ):
            return x.astype(jnp.float32)
        return x

    return jax.tree.map(one, tree)


def _resolve_loss(identifier, y_true_shape, y_pred_shape, losses_module):
    """A callable `(y_true, y_pred, sample_weight)` reducing like Keras's compiled loss."""
    if isinstance(identifier, losses_module.Loss):
        return identifier
    if isinstance(identifier, str) or isinstance(identifier, dict):
        if (
            isinstance(identifier, str)
            and identifier.lower() in ("crossentropy", "ce")
            and y_true_shape is None
        ):
            raise ValueError(
                f"Loss {identifier!r} is chosen from the target shape, but no target was given."
            )
        fn = losses_module.resolve(identifier, y_true_shape, y_pred_shape)
    else:
        fn = losses_module.get(identifier)
    if isinstance(fn, losses_module.Loss):
        return fn
    name = identifier if isinstance(identifier, str) else getattr(fn, "__name__", None)
    # Functions return one value per sample: reduce them as Keras compile does.
    return losses_module.LossFunctionWrapper(fn, name=name)


def _resolve_metric(identifier, y_true_shape, y_pred_shape, loss):
    if _is_metric(identifier):
        return identifier
    resolve = getattr(metrics_module, "resolve", None)
    if resolve is not None:
        return resolve(identifier, y_true_shape, y_pred_shape, loss)
    return metrics_module.get(identifier)
