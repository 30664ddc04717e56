"""Sharded training: the same model and step on one device, many, or many processes.

Run on 8 simulated CPU devices (any machine):

    python examples/sharded_training.py --strategy fsdp
    python examples/sharded_training.py --strategy model_parallel --mesh 4 2

As 2 processes x 2 devices, wired together on 127.0.0.1:

    kerax launch --nproc 2 --devices-per-process 2 -- \
        python examples/sharded_training.py --strategy data_parallel

On a multi-GPU machine or a cluster, leave out `--cpu-devices` (real devices
are used) and start one process per host with the cluster's tools, setting
KERAX_COORDINATOR_ADDRESS / KERAX_NUM_PROCESSES / KERAX_PROCESS_ID (see
docs/distribution.md).
"""

import argparse
import os


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--strategy",
        default="fsdp",
        choices=["data_parallel", "fsdp", "model_parallel"],
    )
    p.add_argument(
        "--mesh",
        type=int,
        nargs="+",
        default=None,
        help="mesh shape, e.g. 4 2 (data x model)",
    )
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64, help="global batch size")
    p.add_argument(
        "--cpu-devices",
        type=int,
        default=8,
        help="simulated CPU devices in a single-process run (0: leave as is)",
    )
    return p.parse_args()


def main():
    args = parse_args()
    # The device count and `initialize` must both come before JAX touches a
    # device. Simulated CPU devices only affect the CPU platform; under
    # `kerax launch` the launcher sets them through XLA_FLAGS instead.
    launched = "KERAX_NUM_PROCESSES" in os.environ
    flags = os.environ.get("XLA_FLAGS", "")
    import jax

    if args.cpu_devices and not launched and "device_count" not in flags:
        jax.config.update("jax_num_cpu_devices", args.cpu_devices)
    import kerax.distribute as kd

    kd.initialize()  # Reads the KERAX_* variables `kerax launch` sets; a no-op otherwise.

    import numpy as np
    import optax

    import kerax
    from kerax import layers
    from kerax.training import make_train_step, reset_metrics

    section = {"strategy": args.strategy}
    if args.mesh:
        section["mesh_shape"] = args.mesh
    if args.strategy == "model_parallel":
        section.setdefault("mesh_shape", [-1, 2])
        section["rules"] = {"embed": None, "mlp": "model"}
    strategy = kd.from_config(section)  # The `distribution:` section of a run config.
    me = jax.process_index()

    def log(*a):
        if me == 0:
            print(*a, flush=True)

    log(f"{jax.process_count()} process(es), {jax.device_count()} devices; {strategy}")

    model = kerax.Sequential(
        [
            kerax.Input((32,)),
            layers.Dense(256, activation="relu"),
            layers.Dense(256, activation="relu"),
            layers.Dense(8, activation="softmax"),
        ]
    )
    step = make_train_step(
        model, "sparse_categorical_crossentropy", optax.adam(1e-3), metrics=["accuracy"]
    )
    ts = strategy.init_train_state(model, step.tx, jax.random.key(0))  # Born sharded.
    log(strategy.explain(model, ts.params))
    total = sum(a.nbytes for a in jax.tree.leaves(ts.params))
    log(
        f"param bytes: {total} total, {max(kd.bytes_per_device(ts.params).values())} on the fullest device"
    )

    # Synthetic data, identical on every process; each feeds only its own rows.
    rng = np.random.default_rng(0)
    w = rng.normal(size=(32, 8))
    x = rng.normal(size=(args.steps * args.batch_size, 32)).astype("float32")
    y = np.argmax(x @ w, axis=1).astype("int32")
    sharded_step = strategy.jit_step(step.fn, model)
    local = kd.process_slice(args.batch_size)  # This process's rows of a global batch.
    for i in range(args.steps):
        rows = slice(i * args.batch_size, (i + 1) * args.batch_size)
        batch = (x[rows][local], y[rows][local])
        ts = step.prepare(reset_metrics(ts), batch)
        ts, logs = sharded_step(ts, strategy.shard_batch(batch))
        if i % 10 == 0 or i == args.steps - 1:
            log(
                f"step {i:3d}  loss {float(logs['loss']):.4f}  accuracy {float(logs['accuracy']):.3f}"
            )
    kd.shutdown()


if __name__ == "__main__":
    main()
