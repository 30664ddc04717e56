"""Many processes: JAX's distributed runtime, configured by arguments or environment.

Every process of a job calls `kerax.distribute.initialize()` first, before
any other JAX call; then `jax.devices()` lists the devices of all processes,
meshes span them, and jitted computations run on all of them together (on
CPU, cross-process collectives go through gloo, JAX's default there).

Configuration, first found wins:

1. the arguments;
2. `KERAX_COORDINATOR_ADDRESS` (`host:port`), `KERAX_NUM_PROCESSES`,
   `KERAX_PROCESS_ID` (what `kerax launch` sets);
3. Keras's `KERAS_DISTRIBUTION_JOB_ADDRESSES` (comma-separated; the first is
   the coordinator), `KERAS_DISTRIBUTION_NUM_PROCESSES`,
   `KERAS_DISTRIBUTION_PROCESS_ID`;
4. nothing: a single-process run (`initialize` does nothing), or, with
   `cluster_detection=True`, JAX's own detection (SLURM, Open MPI, Cloud TPU,
   ...).
"""

from __future__ import annotations

import os

import jax

__all__ = ["initialize", "shutdown", "is_initialized", "process_index", "process_count"]

_ENV = {
    "coordinator_address": (
        "KERAX_COORDINATOR_ADDRESS",
        "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    ),
    "num_processes": ("KERAX_NUM_PROCESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES"),
    "process_id": ("KERAX_PROCESS_ID", "KERAS_DISTRIBUTION_PROCESS_ID"),
}


def _from_env(name: str, environ) -> tuple[str | None, str | None]:
    for var in _ENV[name]:
        value = environ.get(var)
        if value not in (None, ""):
            if var == "KERAS_DISTRIBUTION_JOB_ADDRESSES":
                value = value.split(",")[0].strip()
            return value, var
    return None, None


def _as_int(value, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"kerax.distribute.initialize: {what} must be an integer, got {value!r}."
        ) from None


def is_initialized() -> bool:
    """Whether JAX's distributed runtime is up in this process."""
    return bool(jax.distributed.is_initialized())


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    local_device_ids=None,
    initialization_timeout: int = 300,
    heartbeat_timeout_seconds: int = 100,
    shutdown_timeout_seconds: int = 300,
    cluster_detection: bool = False,
    environ=None,
) -> bool:
    """Joins this process to a multi-process job (`jax.distributed.initialize`).

    Call it once per process, before anything else touches JAX devices.

    Args:
        coordinator_address: `host:port` of process 0's coordinator service.
        num_processes: how many processes the job has.
        process_id: this process's index in `[0, num_processes)`.
        local_device_ids: restrict this process to these local devices.
        initialization_timeout: seconds to wait for every process to join.
        heartbeat_timeout_seconds: a process silent this long is presumed
            dead and the job fails (instead of hanging).
        shutdown_timeout_seconds: how long shutdown waits for the others.
        cluster_detection: with nothing configured, let JAX detect the
            cluster (SLURM, MPI, TPU pods) instead of running single-process.
        environ: the environment to read (default `os.environ`).

    Returns:
        True when the distributed runtime is up, False for a single-process
        run with nothing configured.

    Raises:
        ValueError: a partial or inconsistent configuration, naming what is
            missing and where it was looked for.

    Example:
        >>> kerax.distribute.initialize(environ={})  # nothing configured
        False
        >>> kerax.distribute.initialize()  # under `kerax launch`: from the env  # doctest: +SKIP
        True
        >>> jax.process_count()  # doctest: +SKIP
        2
    """
    environ = os.environ if environ is None else environ
    sources = {}
    values = {
        "coordinator_address": coordinator_address,
        "num_processes": num_processes,
        "process_id": process_id,
    }
    for name in values:
        if values[name] is None:
            values[name], sources[name] = _from_env(name, environ)
        else:
            sources[name] = "argument"
    if all(v is None for v in values.values()):
        if is_initialized():
            return True
        if cluster_detection:
            jax.distributed.initialize(
                initialization_timeout=initialization_timeout,
                heartbeat_timeout_seconds=heartbeat_timeout_seconds,
                shutdown_timeout_seconds=shutdown_timeout_seconds,
            )
            return True
        return False
    missing = [n for n, v in values.items() if v is None]
    if missing:
        where = "; ".join(f"{n}: argument or {' / '.join(_ENV[n])}" for n in missing)
        raise ValueError(
            f"kerax.distribute.initialize: {', '.join(missing)} not given ({where})."
        )
    address = str(values["coordinator_address"])
    if ":" not in address:
        raise ValueError(
            f"kerax.distribute.initialize: coordinator_address must be 'host:port', got {address!r} (from {sources['coordinator_address']})."
        )
    n = _as_int(values["num_processes"], "num_processes")
    i = _as_int(values["process_id"], "process_id")
    if n < 1 or not 0 <= i < n:
        raise ValueError(
            f"kerax.distribute.initialize: process_id {i} is not in [0, num_processes={n})."
        )
    if is_initialized():
        if jax.process_count() != n or jax.process_index() != i:
            raise ValueError(
                f"kerax.distribute.initialize: already initialized as process {jax.process_index()} of "
                f"{jax.process_count()}, asked for {i} of {n}."
            )
        return True
    try:
        jax.distributed.initialize(
            coordinator_address=address,
            num_processes=n,
            process_id=i,
            local_device_ids=local_device_ids,
            initialization_timeout=initialization_timeout,
            heartbeat_timeout_seconds=heartbeat_timeout_seconds,
            shutdown_timeout_seconds=shutdown_timeout_seconds,
        )
    except RuntimeError as e:
        if "before" in str(e) or "backend" in str(e).lower():
            raise RuntimeError(
                f"kerax.distribute.initialize must run before any JAX computation or device query in this process: {e}"
            ) from e
        raise
    return True


def shutdown() -> None:
    """Leaves the distributed job (also done automatically at exit)."""
    if is_initialized():
        jax.distributed.shutdown()


def process_index() -> int:
    return jax.process_index()


def process_count() -> int:
    return jax.process_count()
