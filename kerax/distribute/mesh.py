"""Devices and meshes: named device grids in JAX's propagating (Auto) mode.

`jax.make_mesh` defaults to `AxisType.Explicit` axes, under which a matmul
that contracts a sharded dimension fails to trace unless every op names its
output sharding. kerax shards by annotating inputs and outputs of `jax.jit`
and letting XLA propagate, so every mesh made here uses `AxisType.Auto`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import AxisType, Mesh

__all__ = ["list_devices", "get_device_count", "make_mesh", "bytes_per_device"]


def list_devices(device_type: str | None = None) -> list:
    """All devices of the job (every process), like `keras.distribution.list_devices`.

    Unlike Keras, which returns strings such as `"cpu:0"`, this returns the
    `jax.Device` objects themselves; `make_mesh(devices=...)` takes either.

    Args:
        device_type: "cpu", "gpu" or "tpu"; default: JAX's default backend.

    Example:
        >>> len(kerax.distribute.list_devices())  # e.g. 8 (simulated) CPU devices
        8
    """
    return list(jax.devices(device_type.lower() if device_type else None))


def get_device_count(device_type: str | None = None) -> int:
    """The number of devices of the job (every process)."""
    return len(list_devices(device_type))


def _resolve_devices(devices) -> list:
    if devices is None:
        return list_devices()
    by_name = None
    out = []
    for d in devices:
        if isinstance(d, str):
            if by_name is None:
                by_name = {f"{x.platform}:{x.id}": x for x in jax.devices()}
                by_name.update({f"{x.platform}:{x.id}": x for x in jax.devices("cpu")})
            if d.lower() not in by_name:
                raise ValueError(
                    f"make_mesh: unknown device {d!r}; devices are {sorted(by_name)}."
                )
            out.append(by_name[d.lower()])
        else:
            out.append(d)
    if len({id(d) for d in out}) != len(out):
        raise ValueError("make_mesh: `devices` lists a device more than once.")
    return out


def make_mesh(
    shape: Sequence[int] | int, axis_names: Sequence[str] | str, *, devices=None
) -> Mesh:
    """A `jax.sharding.Mesh` with named axes, in Auto (propagating) mode.

    Args:
        shape: devices per axis, e.g. `(4, 2)`; one entry may be -1 (inferred
            from the device count).
        axis_names: a name per axis, e.g. `("data", "model")`.
        devices: the devices to use (`jax.Device`s or strings like "cpu:0");
            default: every device of the job, laid out by `jax.make_mesh` for
            the hardware's topology.

    Raises:
        ValueError: when the shape does not use exactly the given devices, or
            the names are not unique.

    Example:
        >>> mesh = kerax.distribute.make_mesh((4, 2), ("data", "model"))
        >>> dict(mesh.shape)
        {'data': 4, 'model': 2}
    """
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    axis_names = (axis_names,) if isinstance(axis_names, str) else tuple(axis_names)
    if len(shape) != len(axis_names):
        raise ValueError(
            f"make_mesh: shape {shape} has {len(shape)} axes but axis_names {axis_names} has {len(axis_names)}."
        )
    if len(set(axis_names)) != len(axis_names) or not all(
        isinstance(n, str) and n for n in axis_names
    ):
        raise ValueError(
            f"make_mesh: axis_names must be unique non-empty strings, got {axis_names}."
        )
    devs = _resolve_devices(devices)
    n = len(devs)
    if shape.count(-1) > 1:
        raise ValueError(
            f"make_mesh: at most one axis size may be -1, got shape {shape}."
        )
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        if known <= 0 or n % known:
            raise ValueError(
                f"make_mesh: cannot infer the -1 in shape {shape} from {n} devices."
            )
        shape = tuple(n // known if s == -1 else s for s in shape)
    if any(s < 1 for s in shape):
        raise ValueError(f"make_mesh: axis sizes must be positive, got {shape}.")
    if math.prod(shape) != n:
        raise ValueError(
            f"make_mesh: shape {shape} needs {math.prod(shape)} devices, but {n} are given"
            + ("" if devices is not None else " (all devices of the job)")
            + "; pass devices=... or change the shape."
        )
    axis_types = (AxisType.Auto,) * len(shape)
    if devices is None:
        return jax.make_mesh(shape, axis_names, axis_types=axis_types)
    return Mesh(
        np.asarray(devs, dtype=object).reshape(shape), axis_names, axis_types=axis_types
    )


def bytes_per_device(tree) -> dict:
    """Bytes of `tree`'s arrays held by each (addressable) device: `{device: bytes}`.

    Measures real shard buffers, so it shows what a sharding actually costs
    (replicated arrays count in full on every device).

    Example:
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
        >>> params, state = model.init(jax.random.key(0))
        >>> per_device = kerax.distribute.bytes_per_device(params)
        >>> max(per_device.values())  # bytes on the fullest device: 8 float32
        32
    """
    out: dict = {}
    for leaf in jax.tree.leaves(tree):
        if not isinstance(leaf, jax.Array):
            continue
        for shard in leaf.addressable_shards:
            out[shard.device] = out.get(shard.device, 0) + shard.data.nbytes
    return out
