"""A data-parallel training run, one process of a `kerax launch` job.

`python _multiprocess_train.py OUT.json` under `kerax.distribute.launch`:
every process joins the job, feeds its own rows of each global batch, and
process 0 writes the losses and final params to OUT.json. The test imports
`make_model`, `make_data` and `train` to compute the single-process
reference with the same code.
"""

import json
import sys

STEPS = 8
GLOBAL_BATCH = 8


def make_model():
    import kerax
    from kerax import layers

    return kerax.Sequential(
        [
            kerax.Input((4,)),
            layers.Dense(8, activation="tanh"),
            layers.Dense(3, activation="softmax"),
        ]
    )


def make_data():
    import numpy as np

    rng = np.random.default_rng(42)
    x = rng.normal(size=(STEPS * GLOBAL_BATCH, 4)).astype("float32")
    y = rng.integers(0, 3, size=(STEPS * GLOBAL_BATCH,)).astype("int32")
    return x, y


def train(strategy=None, *, rows=None):
    """Trains STEPS steps; `rows(batch_index) -> slice` picks this process's rows."""
    import jax
    import numpy as np
    import optax

    from kerax.training import make_train_step, reset_metrics

    model = make_model()
    x, y = make_data()
    step = make_train_step(model, "sparse_categorical_crossentropy", optax.adam(0.02))
    if strategy is None:
        ts, run = step.init(jax.random.key(0)), step
    else:
        ts, run = (
            strategy.init_train_state(model, step.tx, jax.random.key(0)),
            strategy.jit_step(step.fn, model),
        )
    losses = []
    for i in range(STEPS):
        sl = (
            slice(i * GLOBAL_BATCH, (i + 1) * GLOBAL_BATCH) if rows is None else rows(i)
        )
        batch = (x[sl], y[sl])
        ts = step.prepare(reset_metrics(ts), batch)
        if strategy is not None:
            batch = strategy.shard_batch(batch)
        ts, logs = run(ts, batch)
        losses.append(float(logs["loss"]))
    if strategy is not None:
        from kerax.distribute import to_host

        params = to_host(ts.params)
    else:
        params = jax.device_get(ts.params)
    return losses, jax.tree.map(lambda a: np.asarray(a).tolist(), params)


def main(out_path):
    import kerax.distribute as kd

    assert kd.initialize(
        initialization_timeout=60,
        heartbeat_timeout_seconds=30,
        shutdown_timeout_seconds=15,
    )
    import jax

    n, me = jax.process_count(), jax.process_index()
    strategy = kd.DataParallel()
    per = GLOBAL_BATCH // n
    losses, params = train(
        strategy,
        rows=lambda i: slice(
            i * GLOBAL_BATCH + me * per, i * GLOBAL_BATCH + (me + 1) * per
        ),
    )
    print(
        f"process {me}/{n}: {jax.local_device_count()} local of {jax.device_count()} devices, losses {losses[0]:.4f} .. {losses[-1]:.4f}"
    )
    if me == 0:
        with open(out_path, "w") as f:
            json.dump(
                {
                    "losses": losses,
                    "params": params,
                    "process_count": n,
                    "device_count": jax.device_count(),
                },
                f,
            )
    kd.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])
