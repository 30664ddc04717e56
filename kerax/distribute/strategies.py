"""Distribution strategies: where params, optimizer state and batches live.

A strategy is a mesh plus a rule for placing each param; everything else
(optimizer moments like their params, batches along the data axis, scalars
replicated, init straight into shardings, jitted steps with pinned output
shardings) is shared by the base class `Strategy`.

- `DataParallel`: params replicated, batch split along the data axis.
- `FSDP`: params (hence optimizer moments) split along the data axis too,
  each along its largest divisible dimension; params smaller than
  `min_size` elements stay replicated.
- `ModelParallel`: params placed by logical-axis rules and/or a `LayoutMap`
  on a (data x model) mesh; the batch split along the data axis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from kerax.distribute import data as _data
from kerax.distribute.layout import (
    LayoutMap,
    axes_at,
    check_spec,
    logical_to_spec,
    named_leaves,
    path_str,
)
from kerax.distribute.mesh import make_mesh

__all__ = [
    "Strategy",
    "DataParallel",
    "FSDP",
    "ModelParallel",
    "ShardedStep",
    "from_config",
]

_TRAIN_STATE_FIELDS = ("params", "state", "opt_state")


def _data_axes(data_axis) -> tuple:
    return (data_axis,) if isinstance(data_axis, str) else tuple(data_axis)


def _shape(x) -> tuple:
    return tuple(np.shape(x)) if not hasattr(x, "shape") else tuple(x.shape)


def _is_train_state(ts) -> bool:
    return hasattr(ts, "_fields") and all(f in ts._fields for f in _TRAIN_STATE_FIELDS)


def _specs_of(model, specs):
    if specs:
        return specs
    spec = getattr(model, "input_spec", None)
    if spec is None:
        raise ValueError(
            f"{model.describe()} has no kerax.Input: pass the input spec, e.g. strategy.init(model, key, kerax.spec((None, 16)))."
        )
    return (spec,)


def _as_key(key):
    if isinstance(key, int):
        return jax.random.key(key)
    if not jax.dtypes.issubdtype(getattr(key, "dtype", np.uint32), jax.dtypes.prng_key):
        return jax.random.wrap_key_data(key)
    return key


class Strategy:
    """The shared machinery of every strategy; subclasses only place params.

    Args:
        mesh: a `jax.sharding.Mesh` (see `kerax.distribute.make_mesh`).
        data_axis: the mesh axis (or tuple of axes) the batch is split along
            (Keras's `batch_dim_name`).

    Subclasses implement `_place(path, shape, axes, where)` returning the
    spec entries of one param (and may override `_place_state`).
    """

    def __init__(self, mesh, data_axis="data"):
        self.mesh = mesh
        self.data_axis = data_axis if isinstance(data_axis, str) else tuple(data_axis)
        for a in _data_axes(self.data_axis):
            if a not in mesh.axis_names:
                raise ValueError(
                    f"{type(self).__name__}: data_axis {a!r} is not an axis of the mesh {tuple(mesh.axis_names)}."
                )

    # ------------------------------------------------------------- basics
    def __repr__(self) -> str:
        return f"{type(self).__name__}(mesh={dict(self.mesh.shape)}, data_axis={self.data_axis!r})"

    @property
    def data_size(self) -> int:
        """Devices along the data axis: the global batch must be a multiple."""
        sizes = dict(self.mesh.shape)
        return math.prod(sizes[a] for a in _data_axes(self.data_axis))

    @property
    def num_devices(self) -> int:
        return int(self.mesh.devices.size)

    def sharding(self, spec=None) -> NamedSharding:
        """`NamedSharding(self.mesh, spec)` (default: replicated)."""
        return NamedSharding(self.mesh, P() if spec is None else spec)

    def replicated(self) -> NamedSharding:
        return NamedSharding(self.mesh, P())

    def local_batch_size(self, global_batch_size: int) -> int:
        """This process's share of a global batch (checked to divide evenly)."""
        if global_batch_size % self.data_size:
            raise ValueError(
                f"global_batch_size {global_batch_size} is not divisible by the data axis size {self.data_size}."
            )
        n = jax.process_count()
        if global_batch_size % n:
            raise ValueError(
                f"global_batch_size {global_batch_size} is not divisible by the {n} processes."
            )
        return global_batch_size // n

    # ---------------------------------------------------------- placement
    def _place(self, path: str, shape: tuple, axes, where: str) -> tuple:
        raise NotImplementedError

    def _place_state(self, path: str, shape: tuple, axes, where: str) -> tuple:
        return self._place(path, shape, axes, where)

    def _begin(self) -> None:
        """Called before placing one model's variables (resets match tracking)."""

    def _finish(self) -> None:
        """Called after placing params (and state): unused-rule checks."""

    def _axes(self, model, tree):
        del model, tree
        return None

    def _tree_shardings(self, model, tree, kind: str):
        axes_tree = self._axes(model, tree) if tree is not None else None
        place = self._place if kind == "param" else self._place_state

        def one(path, x):
            name = path_str(path)
            where = f"{kind} {name!r}"
            shape = _shape(x)
            axes = axes_at(axes_tree, path) if axes_tree is not None else None
            entries = place(name, shape, axes, where)
            return NamedSharding(
                self.mesh, check_spec(entries, shape, self.mesh, where)
            )

        return jax.tree_util.tree_map_with_path(one, tree)

    def variable_shardings(self, model, abstract_params, abstract_state=None):
        """`(param_shardings, state_shardings)`, with rules checked against both."""
        self._begin()
        p = self._tree_shardings(model, abstract_params, "param")
        s = (
            self._tree_shardings(model, abstract_state, "state")
            if abstract_state is not None
            else None
        )
        self._finish()
        return p, s

    def param_shardings(self, model, abstract_params):
        """A pytree of `NamedSharding` like `abstract_params` (arrays or `ShapeDtypeStruct`s).

        `model` supplies logical axes (`model.param_axes`) to `ModelParallel`;
        the other strategies ignore it (None is fine).
        """
        return self.variable_shardings(model, abstract_params)[0]

    def state_shardings(self, model, abstract_state):
        """Shardings of the layer state (BatchNorm moving statistics, ...)."""
        self._begin()
        return self._tree_shardings(model, abstract_state, "state")

    def opt_state_shardings(
        self, tx, param_shardings, abstract_opt_state=None, *, abstract_params=None
    ):
        """Optimizer state shardings: each moment like its param, the rest replicated.

        In Auto mode `jax.jit(tx.init)` does not carry the params' shardings
        over to `mu`/`nu` (they come out replicated, the step count on one
        device), so they are mirrored here explicitly. A leaf of the
        optimizer state takes a param's sharding when its key path ends with
        that param's path (`.../mu/dense/kernel`) and, if `abstract_params`
        is given, its shape equals the param's (factored statistics such as
        Adafactor's row/column vectors are replicated); anything else
        (counts, learning rates, ...) is replicated.

        Args:
            tx: the optax transformation (only used to make the abstract
                state when `abstract_opt_state` is None).
            param_shardings: from `param_shardings`.
            abstract_opt_state: `jax.eval_shape(tx.init, params)` or a real
                optimizer state.
            abstract_params: the params (arrays or `ShapeDtypeStruct`s).
        """
        if abstract_opt_state is None:
            if tx is None or abstract_params is None:
                raise ValueError(
                    "opt_state_shardings needs abstract_opt_state, or tx and abstract_params to build it."
                )
            abstract_opt_state = jax.eval_shape(tx.init, abstract_params)
        index = {}
        for path, _, sh in named_leaves(param_shardings):
            index[tuple(path)] = sh
        shapes = (
            {tuple(p): _shape(x) for p, _, x in named_leaves(abstract_params)}
            if abstract_params is not None
            else None
        )
        depths = sorted({len(p) for p in index}, reverse=True)
        rep = self.replicated()

        def one(path, x):
            shape = _shape(x)
            path = tuple(path)
            for d in depths:
                if d > len(path):
                    continue
                sh = index.get(path[len(path) - d :])
                if sh is None:
                    continue
                if shapes is not None:
                    if shapes[path[len(path) - d :]] == shape:
                        return sh
                elif _spec_fits(sh.spec, shape, self.mesh):
                    return sh
            return rep

        return jax.tree_util.tree_map_with_path(one, abstract_opt_state)

    def batch_sharding(self, batch, *, batch_axis: int = 0):
        """A `NamedSharding` per leaf of a (global) batch: dimension `batch_axis` along the data axis.

        Checks that each leaf's batch dimension divides the data axis.
        """

        def one(path, x):
            shape = _shape(x)
            if not shape:
                return self.replicated()
            where = f"batch leaf {path_str(path)!r}" if path else "batch"
            _data._check_batch_dim(
                where, shape, batch_axis, self.data_size, "the data axis size"
            )
            return NamedSharding(
                self.mesh, _data.batch_spec(len(shape), self.data_axis, batch_axis)
            )

        return jax.tree_util.tree_map_with_path(one, batch)

    # ---------------------------------------------------------- train state
    def train_state_shardings(self, model, ts):
        """Shardings of a whole `TrainState` (arrays or `ShapeDtypeStruct`s): for jit in/out shardings.

        params and state by the strategy, opt_state like the params (see
        `opt_state_shardings`), every other field (step, metric states, base
        key, loss scale) replicated.
        """
        if not _is_train_state(ts):
            raise TypeError(
                f"train_state_shardings expects a TrainState (a NamedTuple with params, state, opt_state), got {type(ts).__name__}."
            )
        p_sh, s_sh = self.variable_shardings(model, ts.params, ts.state)
        o_sh = self.opt_state_shardings(
            None, p_sh, ts.opt_state, abstract_params=ts.params
        )
        rep = self.replicated()
        rest = {
            f: jax.tree.map(lambda _: rep, getattr(ts, f))
            for f in ts._fields
            if f not in _TRAIN_STATE_FIELDS
        }
        return ts._replace(params=p_sh, state=s_sh, opt_state=o_sh, **rest)

    def shard_train_state(self, model, ts):
        """`ts` moved onto this strategy's shardings (e.g. a host or single-device TrainState)."""
        return jax.device_put(ts, self.train_state_shardings(model, ts))

    def abstract_train_state(self, model, ts):
        """`ShapeDtypeStruct`s with this strategy's shardings: a restore target.

        Example:
            >>> import optax, tempfile
            >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
            >>> ts_like = kerax.training.init_train_state(model, optax.sgd(0.1), jax.random.key(0))
            >>> ckpt = kerax.checkpoint.CheckpointManager(tempfile.mkdtemp())
            >>> ckpt.save(0, ts_like)
            True
            >>> strategy = kerax.distribute.DataParallel()
            >>> target = strategy.abstract_train_state(model, ts_like)
            >>> ts, position = ckpt.restore(target=target)
            >>> ts.params["dense"]["kernel"].sharding == strategy.replicated()
            True
            >>> ckpt.close()
        """
        shardings = self.train_state_shardings(model, ts)
        return jax.tree.map(
            lambda x, s: jax.ShapeDtypeStruct(_shape(x), x.dtype, sharding=s),
            ts,
            shardings,
        )

    # ---------------------------------------------------------------- init
    def init(self, model, key, *specs):
        """`(params, state)` initialized straight into their shardings.

        Runs `jax.jit(model.init, out_shardings=...)`: no device ever holds
        a full copy of a sharded param, and the values equal
        `model.init(key, *specs)`.
        """
        key = _as_key(key)
        specs = _specs_of(model, specs)

        def init(k):
            return model.init(k, *specs)

        abstract = jax.eval_shape(init, key)
        shardings = self.variable_shardings(model, *abstract)
        return jax.jit(init, out_shardings=shardings)(key)

    def init_train_state(self, model, tx, key, spec=None, *, loss_scale=None):
        """`kerax.training.init_train_state`, jitted straight into `train_state_shardings`."""
        # Function-local: kerax.training imports the strategies (a module-level
        # import here would be a cycle).
        from kerax.training.train_state import init_train_state

        key = _as_key(key)
        if spec is None:
            spec = _specs_of(model, ())[0]

        def init(k):
            return init_train_state(model, tx, k, spec, loss_scale=loss_scale)

        abstract = jax.eval_shape(init, key)
        return jax.jit(init, out_shardings=self.train_state_shardings(model, abstract))(
            key
        )

    # --------------------------------------------------------------- batches
    def shard_batch(self, local_batch, *, batch_axis: int = 0):
        """Process-local rows -> a global batch split along the data axis.

        With one process, `local_batch` is the whole batch. With several,
        each process passes its own rows (batch size = global / processes)
        and gets the global array (`jax.make_array_from_process_local_data`).
        Scalars are replicated; `batch_axis=1` for stacked `(steps, batch,
        ...)` batches (`steps_per_execution`).

        Raises:
            ValueError: a batch dimension not divisible by the data axis
                (naming the leaf and the sizes).
        """
        return _data.make_global_batch(
            self.mesh, self.data_axis, local_batch, batch_axis=batch_axis
        )

    def shard_global_batch(self, batch, *, batch_axis: int = 0):
        """The same full batch on every process -> a global batch (each device copies its rows)."""
        return _data.make_global_batch_from_global(
            self.mesh, self.data_axis, batch, batch_axis=batch_axis
        )

    # ----------------------------------------------------------------- steps
    def jit_step(self, fn, model, *, donate: bool = True):
        """`fn(ts, batch) -> (ts, logs)` jitted with the TrainState's shardings pinned.

        The output TrainState gets exactly `train_state_shardings` (so step
        after step the layout never drifts and nothing recompiles), logs are
        replicated; inputs keep the shardings they come with. Shard batches
        with `shard_batch` first.
        """
        return ShardedStep(self, fn, model, donate=donate)

    def explain(self, model, abstract_params) -> str:
        """A table: param path, shape, PartitionSpec and bytes per device."""
        shardings = self.param_shardings(model, abstract_params)
        rows = []
        for (_, name, x), (_, _, sh) in zip(
            named_leaves(abstract_params), named_leaves(shardings)
        ):
            shape = _shape(x)
            local = sh.shard_shape(shape)
            nbytes = math.prod(local) * np.dtype(x.dtype).itemsize
            rows.append((name, str(shape), str(sh.spec), str(nbytes)))
        head = ("param", "shape", "sharding", "bytes/device")
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
        return "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in [head, *rows]
        )


def _spec_fits(spec, shape, mesh) -> bool:
    try:
        check_spec(tuple(spec), shape, mesh, "x")
    except ValueError:
        return False
    return True


class ShardedStep:
    """A step jitted with `out_shardings=(train_state_shardings, replicated)`.

    One `jax.jit` per TrainState structure (a TrainState without metric
    states and one with them differ), built on first use.
    """

    def __init__(self, strategy: Strategy, fn, model, *, donate: bool = True):
        self.strategy, self.fn, self.model, self.donate = strategy, fn, model, donate
        self._jitted: dict = {}

    def shardings(self, ts):
        return self.strategy.train_state_shardings(self.model, ts)

    def __call__(self, ts, batch):
        treedef = jax.tree.structure(ts)
        jitted = self._jitted.get(treedef)
        if jitted is None:
            out = (self.shardings(ts), self.strategy.replicated())
            jitted = jax.jit(
                self.fn, out_shardings=out, donate_argnums=(0,) if self.donate else ()
            )
            self._jitted[treedef] = jitted
        return jitted(ts, batch)


# ------------------------------------------------------------------ strategies


def _default_mesh(mesh, devices, data_axis):
    if mesh is not None:
        if devices is not None:
            raise ValueError("Pass either mesh or devices, not both.")
        return mesh
    if not isinstance(data_axis, str):
        raise ValueError("Without a mesh, data_axis must be a single axis name.")
    devs = list(devices) if devices is not None else None
    n = len(devs) if devs is not None else jax.device_count()
    return make_mesh((n,), (data_axis,), devices=devs)


class DataParallel(Strategy):
    """Replicated params, the batch split along the data axis (Keras `DataParallel`).

    Gradients are averaged across devices by XLA (the loss's mean over the
    global batch is a cross-device reduction under `jit`).

    Args:
        mesh: a mesh; default: a 1-D mesh over `devices` (default: all).
        devices: the devices for the default mesh.
        data_axis: the batch axis's name.

    Example:
        >>> import optax
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(1)])
        >>> step = kerax.training.make_train_step(model, "mse", optax.adam(1e-3))
        >>> strategy = kerax.distribute.DataParallel()
        >>> ts = strategy.init_train_state(model, step.tx, jax.random.key(0))
        >>> x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
        >>> ts, logs = step(ts, strategy.shard_batch((x, y)))
        >>> int(ts.step)
        1
    """

    def __init__(self, mesh=None, *, devices=None, data_axis: str = "data"):
        super().__init__(_default_mesh(mesh, devices, data_axis), data_axis)

    def _place(self, path, shape, axes, where):
        del path, shape, axes, where
        return ()


class FSDP(Strategy):
    """Fully sharded data parallel: params and optimizer state split along the data axis.

    Each param of at least `min_size` elements is split along its largest
    dimension that the data axis divides (ties: the first such dimension);
    its optimizer moments follow. Smaller params (biases, norms) stay
    replicated: splitting a few hundred numbers costs more in collectives
    than it saves. Per-device param memory is then about total / data-axis
    size. Under `jit`, XLA all-gathers each param where it is used and
    reduce-scatters its gradient.

    Args:
        mesh, devices, data_axis: as `DataParallel`. A mesh with more axes
            works too: params are replicated over the other axes.
        min_size: params with fewer elements are replicated (default 1024;
            0 shards everything that divides).
        on_indivisible: "error" (default): a param of at least `min_size`
            elements with no dimension divisible by the data axis is a
            `ValueError` naming it; "replicate": keep it replicated.
    """

    def __init__(
        self,
        mesh=None,
        *,
        devices=None,
        data_axis: str = "data",
        min_size: int = 1024,
        on_indivisible: str = "error",
    ):
        super().__init__(_default_mesh(mesh, devices, data_axis), data_axis)
        if on_indivisible not in ("error", "replicate"):
            raise ValueError(
                f"FSDP: on_indivisible must be 'error' or 'replicate', got {on_indivisible!r}."
            )
        self.min_size = int(min_size)
        self.on_indivisible = on_indivisible

    def _place(self, path, shape, axes, where):
        del path, axes
        n = self.data_size
        size = math.prod(shape)
        if n == 1 or not shape or size < self.min_size:
            return ()
        order = sorted(range(len(shape)), key=lambda d: (-shape[d], d))
        entry = (
            self.data_axis if isinstance(self.data_axis, str) else tuple(self.data_axis)
        )
        for d in order:
            if shape[d] % n == 0:
                return (None,) * d + (entry,)
        if self.on_indivisible == "replicate":
            return ()
        raise ValueError(
            f"FSDP: {where} has shape {shape}: no dimension is divisible by the data axis size {n}. "
            f"Use a layer size that is a multiple of {n}, raise min_size above {size} to replicate it, "
            "or FSDP(on_indivisible='replicate')."
        )


class ModelParallel(Strategy):
    """Params placed by logical-axis rules and/or a `LayoutMap`; batch along the data axis.

    For each param, in order: the `LayoutMap` key matching its path
    (`re.fullmatch` on `"dense_1/kernel"`), else the layer's logical axes
    (`model.param_axes(params)`, e.g. Dense kernel `("embed", "mlp")`)
    mapped by `rules`, else (the layer declares no axes) replicated.
    Layer state follows its logical axes when the layer declares any
    (usually none: replicated) and LayoutMap keys that match it.

    Errors, never a silent fallback: a LayoutMap key or a rule that matches
    no param (or state), a logical axis with no rule, a path matching two
    keys, a dimension not divisible by its mesh axes.

    Args:
        mesh: a mesh with the data axis and model axes, e.g.
            `make_mesh((4, 2), ("data", "model"))`.
        rules: logical name -> mesh axis, tuple of mesh axes, or None
            (replicated), e.g. `{"embed": None, "mlp": "model"}`. Rules
            over the data axis give FSDP + tensor parallelism:
            `{"embed": "data", "mlp": "model"}`.
        layout_map: a `LayoutMap` (or a plain dict regex -> axes).
        data_axis: the batch axis (Keras's `batch_dim_name`).
        allow_unused_rules: don't complain about `rules` entries that no
            param uses (for rule sets shared by many models). LayoutMap keys
            are always checked.

    Example:
        >>> mesh = kerax.distribute.make_mesh((4, 2), ("data", "model"))
        >>> strategy = kerax.distribute.ModelParallel(
        ...     mesh, rules={"embed": None, "mlp": "model"})
    """

    def __init__(
        self,
        mesh,
        *,
        rules: Mapping | None = None,
        layout_map=None,
        data_axis="data",
        allow_unused_rules: bool = False,
    ):
        super().__init__(mesh, data_axis)
        if rules is None and layout_map is None:
            raise ValueError(
                "ModelParallel needs rules (logical axis -> mesh axis) or a layout_map (regex -> axes)."
            )
        self.rules = dict(rules) if rules is not None else None
        if layout_map is not None and not isinstance(layout_map, LayoutMap):
            layout_map = LayoutMap(layout_map)
        self.layout_map = layout_map
        self.allow_unused_rules = allow_unused_rules
        for name, target in (self.rules or {}).items():
            for a in (
                ()
                if target is None
                else ((target,) if isinstance(target, str) else tuple(target))
            ):
                if a not in mesh.axis_names:
                    raise ValueError(
                        f"ModelParallel: rule {name!r} -> {target!r} names mesh axis {a!r}, but the mesh has axes {tuple(mesh.axis_names)}."
                    )
        self._used_keys: set = set()
        self._used_rules: set = set()

    def _begin(self):
        self._used_keys, self._used_rules = set(), set()

    def _finish(self):
        if self.layout_map is not None:
            unused = [k for k in self.layout_map if k not in self._used_keys]
            if unused:
                raise ValueError(
                    f"ModelParallel: LayoutMap keys {unused} match no param path (re.fullmatch on paths like 'dense_1/kernel'). "
                    "Fix or remove them: a key that matches nothing would leave its params replicated."
                )
        if self.rules is not None and not self.allow_unused_rules:
            unused = [k for k in self.rules if k not in self._used_rules]
            if unused:
                raise ValueError(
                    f"ModelParallel: rules for logical axes {unused} match no param of this model. "
                    "Remove them, or pass allow_unused_rules=True for a shared rule set."
                )

    def _axes(self, model, tree):
        if self.rules is None or model is None:
            return None
        return model.param_axes(tree)

    def _place(self, path, shape, axes, where):
        if self.layout_map is not None:
            key = self.layout_map.match(path)
            if key is not None:
                self._used_keys.add(key)
                return self.layout_map.spec_for(key, shape, where)
        if self.rules is not None and axes is not None:
            return logical_to_spec(axes, self.rules, shape, where, self._used_rules)
        return ()

    def variable_shardings(self, model, abstract_params, abstract_state=None):
        if self.rules is not None and model is None:
            raise ValueError(
                "ModelParallel with rules needs the model (its layers declare the logical axes): param_shardings(model, params)."
            )
        return super().variable_shardings(model, abstract_params, abstract_state)


# ---------------------------------------------------------------- configs

_NAMES = {
    "data_parallel": DataParallel,
    "dataparallel": DataParallel,
    "dp": DataParallel,
    "fsdp": FSDP,
    "model_parallel": ModelParallel,
    "modelparallel": ModelParallel,
    "tp": ModelParallel,
}
_CONFIG_KEYS = {
    "strategy",
    "mesh_shape",
    "axis_names",
    "rules",
    "layout_map",
    "data_axis",
    "min_size",
    "on_indivisible",
    "allow_unused_rules",
}


def from_config(config: Mapping | None) -> Strategy | None:
    """A strategy from a run config's `distribution:` section (None: no distribution).

    Keys: `strategy` ("data_parallel", "fsdp", "model_parallel" or None),
    `mesh_shape` (e.g. `[4, 2]`, one entry may be -1), `axis_names`
    (default `["data"]`, or `["data", "model"]` for a 2-D shape),
    `rules` and `layout_map` (ModelParallel), `data_axis`, `min_size` and
    `on_indivisible` (FSDP), `allow_unused_rules`.

    Example:
        >>> kerax.distribute.from_config({"strategy": "model_parallel", "mesh_shape": [4, 2],
        ...     "axis_names": ["data", "model"], "rules": {"embed": None, "mlp": "model"}})
        ModelParallel(mesh={'data': 4, 'model': 2}, data_axis='data')
    """
    if not config:
        return None
    unknown = sorted(set(config) - _CONFIG_KEYS)
    if unknown:
        raise ValueError(
            f"distribution: unknown keys {unknown}; valid keys: {sorted(_CONFIG_KEYS)}."
        )
    name = config.get("strategy")
    if name is None or str(name).lower() == "none":
        return None
    cls = _NAMES.get(str(name).lower())
    if cls is None:
        raise ValueError(
            f"distribution.strategy: unknown strategy {name!r}; use 'data_parallel', 'fsdp' or 'model_parallel'."
        )
    data_axis = config.get("data_axis") or "data"
    shape = config.get("mesh_shape")
    names = config.get("axis_names")
    if names is None:
        names = (
            [data_axis]
            if shape is None or len(shape) == 1
            else [data_axis, "model"][: len(shape)]
        )
        if shape is not None and len(shape) > 2:
            raise ValueError(
                "distribution.axis_names is needed for a mesh with more than 2 axes."
            )
    if shape is None:
        shape = [-1] + [1] * (len(names) - 1)
    mesh = make_mesh(tuple(shape), tuple(names))
    options = {
        k: config[k]
        for k in ("min_size", "on_indivisible")
        if config.get(k) is not None
    }
    if cls is ModelParallel:
        if options:
            raise ValueError(f"distribution: {sorted(options)} apply to fsdp only.")
        return ModelParallel(
            mesh,
            rules=config.get("rules"),
            layout_map={
                k: (tuple(v) if isinstance(v, list) else v)
                for k, v in config["layout_map"].items()
            }
            if config.get("layout_map")
            else None,
            data_axis=data_axis,
            allow_unused_rules=bool(config.get("allow_unused_rules", False)),
        )
    for k in ("rules", "layout_map"):
        if config.get(k):
            raise ValueError(
                f"distribution.{k} applies to model_parallel only, not {name!r}."
            )
    if cls is FSDP:
        return FSDP(mesh, data_axis=data_axis, **options)
    if options:
        raise ValueError(f"distribution: {sorted(options)} apply to fsdp only.")
    return DataParallel(mesh, data_axis=data_axis)
