"""Distribution: meshes, DataParallel, FSDP, ModelParallel/LayoutMap, multi-host.

Everything is `jax.jit` with `NamedSharding`s on a `jax.sharding.Mesh` in
Auto (propagating) mode: a strategy says where each array lives, XLA inserts
the collectives. The same model and training step run on one CPU or many
devices and hosts by changing the strategy.

    strategy = kerax.distribute.DataParallel()          # or FSDP(), or:
    mesh = kerax.distribute.make_mesh((4, 2), ("data", "model"))
    strategy = kerax.distribute.ModelParallel(mesh, rules={"embed": None, "mlp": "model"})

The functional workflow:

    step = kerax.training.make_train_step(model, loss, optimizer)
    ts = strategy.init_train_state(model, step.tx, key)      # born sharded
    ts = step.prepare(ts, first_batch)                       # metric states
    sharded_step = strategy.jit_step(step.fn, model)         # out shardings pinned
    for local_batch in batches:                              # this process's rows
        ts, logs = sharded_step(ts, strategy.shard_batch(local_batch))

The interface a trainer calls (`Trainer(..., distribution=strategy)`):

- `strategy.mesh`, `strategy.data_axis`, `strategy.data_size`.
- `strategy.init_train_state(model, tx, key, spec, loss_scale=...)`: the
  `TrainState`, initialized by `jax.jit(..., out_shardings=...)` straight
  into `train_state_shardings` (replaces `kerax.training.init_train_state`).
- `strategy.jit_step(fn, model, donate=True)`: replaces `jax.jit(fn,
  donate_argnums=0)` for `(ts, batch) -> (ts, logs)` steps (train, fused
  train, eval): pins the output TrainState to `train_state_shardings(model,
  ts)` and replicates logs, one compilation per TrainState structure.
  Predict steps need no change: `jax.jit` propagates from sharded inputs.
- `strategy.shard_batch(local_batch, batch_axis=0)` on every batch before the
  step (`batch_axis=1` for `steps_per_execution` stacks `(K, batch, ...)`):
  numpy rows of this process -> a global `jax.Array` split along the data
  axis. `strategy.shard_global_batch(batch)` when every process holds the
  same full batch (the Trainer's shuffled arrays, same seed everywhere).
  Batch sizes must divide `strategy.data_size` (a clear ValueError
  otherwise); pad short last batches with `kerax.distribute.pad_batch` and
  zero sample weights (or slice predictions back).
- `kerax.distribute.to_host(tree)` instead of `jax.device_get` for outputs
  that span processes (predictions under several processes).
- `strategy.shard_train_state(model, ts)` to place a TrainState made
  elsewhere; `strategy.abstract_train_state(model, ts)` as the restore
  target of `kerax.checkpoint.CheckpointManager.restore(target=...)` (a run
  saved on 8 devices restores onto any strategy's mesh).
- Lower-level pieces: `param_shardings(model, abstract_params)`,
  `state_shardings(model, abstract_state)`, `opt_state_shardings(tx,
  param_shardings, abstract_opt_state, abstract_params=...)`,
  `batch_sharding(batch)`, `train_state_shardings(model, ts)`,
  `init(model, key, spec) -> (params, state)`, `explain(model, params)`.

A run config's `distribution:` section (strategy, mesh_shape, axis_names,
rules, ...) becomes a strategy with `kerax.distribute.from_config(section)`.

BatchNormalization statistics need nothing special: under `jit` the mean
over a batch split across devices is a global mean.

Many processes: call `kerax.distribute.initialize()` first in every process
(arguments or `KERAX_*` / `KERAS_DISTRIBUTION_*` environment variables);
`kerax launch --nproc N -- python train.py` (`kerax.distribute.launch`)
starts N local processes wired together on 127.0.0.1; the CLI calls
`kerax.distribute.launch_main(argv)` (= `kerax.distribute.launch.main`; note
that the package attribute `launch` is the function, not the module).
"""

from kerax.distribute.data import (
    global_batches,
    pad_batch,
    process_slice,
    shard_arrays,
    to_host,
)
from kerax.distribute.launch import launch
from kerax.distribute.launch import main as launch_main
from kerax.distribute.layout import LayoutMap
from kerax.distribute.mesh import (
    bytes_per_device,
    get_device_count,
    list_devices,
    make_mesh,
)
from kerax.distribute.multihost import (
    initialize,
    is_initialized,
    process_count,
    process_index,
    shutdown,
)
from kerax.distribute.strategies import (
    FSDP,
    DataParallel,
    ModelParallel,
    ShardedStep,
    Strategy,
    from_config,
)

__all__ = [
    "DataParallel",
    "FSDP",
    "LayoutMap",
    "ModelParallel",
    "ShardedStep",
    "Strategy",
    "bytes_per_device",
    "from_config",
    "get_device_count",
    "global_batches",
    "initialize",
    "is_initialized",
    "launch",
    "launch_main",
    "list_devices",
    "make_mesh",
    "pad_batch",
    "process_count",
    "process_index",
    "process_slice",
    "shard_arrays",
    "shutdown",
    "to_host",
]
