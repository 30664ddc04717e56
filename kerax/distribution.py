"""Keras's `keras.distribution` names, over `kerax.distribute`.

A thin layer for code written against Keras's distribution API: the same
names, arguments and semantics, backed by `kerax.distribute`'s strategies.

    mesh = kerax.distribution.DeviceMesh((2, 4), ["data", "model"])
    layout_map = kerax.distribution.LayoutMap(mesh)
    layout_map["d1/kernel"] = (None, "model")
    kerax.distribution.set_distribution(
        kerax.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="data"))
    trainer = kerax.Trainer(model, "adam", "mse")  # uses the global distribution

`DataParallel` and `ModelParallel` here are `kerax.distribute` strategies
(subclasses of `kerax.distribute.DataParallel` / `ModelParallel`): pass them
to `Trainer(..., distribution=...)`, or set one globally with
`set_distribution` (a `Trainer` made without `distribution=` takes the
global one, as Keras's `fit` does).

Keras's semantics, where they differ from `kerax.distribute`'s stricter
ones: `LayoutMap(device_mesh)` looks a path up exactly, else by the one key
whose regex `re.fullmatch`es it (two matches are a ValueError), else None;
a key that matches no param is allowed (Keras also uses keys such as
`"d2/output"` for layer outputs); `list_devices()` returns strings such as
`"cpu:0"`. Layer-output layouts (`get_tensor_layout`) are accepted and
returned but not applied: kerax leaves activations to XLA's propagation.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections import OrderedDict
from collections.abc import MutableMapping

import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from kerax import distribute as _kd
from kerax.core import registry

__all__ = [
    "DataParallel",
    "DeviceMesh",
    "Distribution",
    "LayoutMap",
    "ModelParallel",
    "TensorLayout",
    "distribute_tensor",
    "distribution",
    "get_device_count",
    "initialize",
    "list_devices",
    "set_distribution",
]

DEFAULT_BATCH_DIM_NAME = "batch"  # Keras's name for DataParallel's mesh axis.

_GLOBAL = {"distribution": None}


def list_devices(device_type=None):
    """The job's devices as strings `"cpu:0"`, `"gpu:1"`, ... (Keras's format).

    `DeviceMesh(devices=...)` takes these strings or `jax.Device`s.
    """
    return [f"{d.platform}:{d.id}" for d in _kd.list_devices(device_type)]


def get_device_count(device_type=None):
    """The number of devices of the job (of `device_type`, default: JAX's default)."""
    return _kd.get_device_count(device_type)


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Joins a multi-process job, like `keras.distribution.initialize`.

    Arguments default to `KERAS_DISTRIBUTION_JOB_ADDRESSES` (comma separated;
    the first is the coordinator), `KERAS_DISTRIBUTION_NUM_PROCESSES` and
    `KERAS_DISTRIBUTION_PROCESS_ID` (then kerax's `KERAX_*` variables); with
    none of them it does nothing (one process). See `kerax.distribute.initialize`.
    """
    if job_addresses is None:
        job_addresses = os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    coordinator = job_addresses.split(",")[0].strip() if job_addresses else None
    return _kd.initialize(coordinator, num_processes, process_id)


def _resolve_devices(devices):
    by_name = {f"{d.platform}:{d.id}": d for d in jax.devices()}
    by_name.update({f"{d.platform}:{d.id}": d for d in jax.devices("cpu")})
    flat = np.asarray(devices, dtype=object)
    out = [by_name[d.lower()] if isinstance(d, str) else d for d in flat.ravel()]
    return np.asarray(out, dtype=object).reshape(flat.shape)


class DeviceMesh:
    """Devices arranged on named axes, like `keras.distribution.DeviceMesh`.

    Args:
        shape: devices per axis, e.g. `(8,)` or `(2, 4)`.
        axis_names: one name per axis, e.g. `["data", "model"]`.
        devices: the devices (`jax.Device`s or strings such as `"cpu:0"`);
            default: `list_devices()`.

    `backend_mesh` is the `jax.sharding.Mesh` (Auto axes, as everywhere in
    kerax).
    """

    def __init__(self, shape, axis_names, devices=None):
        if not shape or not axis_names:
            raise ValueError(
                "Shape and axis_names cannot be empty. Received: "
                f"shape={shape}, axis_names={axis_names}"
            )
        if len(shape) != len(axis_names):
            raise ValueError(
                "Shape and axis_names should have same size. "
                f"Received: shape={shape}, axis_names={axis_names}"
            )
        if devices is None:
            devices = list_devices()
        devices = np.array(devices)
        if math.prod(shape) != math.prod(devices.shape):
            raise ValueError(
                "Shape does not match the number of devices. "
                f"Received: shape={shape}; devices.shape={devices.shape}"
            )
        self._shape = shape
        self._axis_names = axis_names
        self._devices = np.reshape(devices, shape)

    @property
    def shape(self):
        return self._shape

    @property
    def axis_names(self):
        return self._axis_names

    @property
    def devices(self):
        return self._devices

    @property
    def backend_mesh(self):
        if not hasattr(self, "_backend_mesh"):
            devs = _resolve_devices(self._devices).ravel().tolist()
            self._backend_mesh = _kd.make_mesh(
                tuple(self._shape), tuple(self._axis_names), devices=devs
            )
        return self._backend_mesh

    def __repr__(self):
        return (
            f"<{self.__class__.__name__} "
            f"shape={self.shape}, axis_names={self.axis_names}>"
        )

    __str__ = __repr__


class TensorLayout:
    """Mesh axes per tensor dimension (None: that dimension replicated).

    Like `keras.distribution.TensorLayout`; `backend_layout` is the
    `jax.sharding.NamedSharding` (it needs the `device_mesh`).
    """

    def __init__(self, axes, device_mesh=None):
        self._axes = tuple(axes)
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def axes(self):
        return self._axes

    @property
    def device_mesh(self):
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh):
        if self._device_mesh is not None:
            raise ValueError(
                "Cannot override device mesh value. Existing "
                f"value is {self._device_mesh}"
            )
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def backend_layout(self):
        if self._device_mesh is None:
            raise ValueError(
                f"{self!r} has no device_mesh: set one before using it as a sharding."
            )
        return NamedSharding(self._device_mesh.backend_mesh, P(*self._axes))

    def _validate_axes(self):
        if self._device_mesh:
            valid_axis_names = set(self._device_mesh.axis_names)
            axis_names = set(self._axes) - {None}
            if axis_names - valid_axis_names:
                raise ValueError(
                    "Invalid axis names for Layout. Valid axis "
                    f"names: {valid_axis_names}, Got {axis_names}"
                )

    def __repr__(self):
        return (
            f"<{self.__class__.__name__} "
            f"axes={self.axes}, device_mesh={self.device_mesh}>"
        )

    __str__ = __repr__


class LayoutMap(MutableMapping):
    """Regex keys -> `TensorLayout`s, like `keras.distribution.LayoutMap`.

    `layout_map[path]` returns the layout stored under `path` exactly, else
    the one whose key `re.fullmatch`es `path` (ValueError when several do),
    else None. Setting a key twice is an error; a tuple value becomes a
    `TensorLayout` on this map's mesh.
    """

    def __init__(self, device_mesh):
        self._layout_map = OrderedDict()
        self._device_mesh = device_mesh

    def __getitem__(self, key):
        if key in self._layout_map:
            return self._layout_map[key]
        matching_keys = [p for p in self._layout_map if re.fullmatch(p, key)]
        if len(matching_keys) > 1:
            raise ValueError(
                f"Path '{key}' matches multiple layout "
                f"specification keys: {matching_keys}. Please make "
                "sure each tensor/variable path only matches at most "
                "one layout specification key in the LayoutMap."
            )
        if matching_keys:
            return self._layout_map[matching_keys[0]]
        return None

    def __setitem__(self, key, layout):
        if key in self._layout_map:
            raise ValueError(
                f"{key} already exist in the LayoutMap with "
                f"value {self._layout_map[key]}. Please make sure to "
                "not use duplicated keys."
            )
        if isinstance(layout, tuple):
            layout = TensorLayout(axes=layout, device_mesh=None)
        if not isinstance(layout, TensorLayout):
            raise ValueError(
                f"{layout} should be a TensorLayout type, got {type(layout)}"
            )
        if layout.device_mesh is None and self._device_mesh is not None:
            layout.device_mesh = self._device_mesh
        self._layout_map[key] = layout

    def __delitem__(self, key):
        return self._layout_map.pop(key)

    def __len__(self):
        return len(self._layout_map)

    def __iter__(self):
        return iter(self._layout_map)

    @property
    def device_mesh(self):
        return self._device_mesh


class Distribution:
    """The Keras-facing part shared by `DataParallel` and `ModelParallel`."""

    auto_shard_dataset = True

    @property
    def device_mesh(self):
        return self._device_mesh

    @property
    def batch_dim_name(self):
        return self._batch_dim_name

    @property
    def num_processes(self):
        return jax.process_count()

    def get_data_layout(self, data_shape):
        """The batch split on its first dimension along `batch_dim_name`."""
        spec = [None] * len(data_shape)
        spec[0] = self.batch_dim_name
        return TensorLayout(spec, self.device_mesh)

    def get_variable_layout(self, variable):
        """The layout of a variable-like object with `.path` and `.shape`."""
        layout = self.get_tensor_layout(variable.path)
        return layout or TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path):
        return None

    @contextlib.contextmanager
    def scope(self):
        """Makes this the global distribution inside the `with` block."""
        original = distribution()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(original)

    def __repr__(self):
        return f"<{self.__class__.__name__} device_mesh={self.device_mesh}>"

    __str__ = __repr__


def _as_device_mesh(device_mesh):
    if not isinstance(device_mesh, DeviceMesh):
        raise ValueError(
            "Expect `mesh` to be an instance of `DeviceMesh`. "
            f"Received: mesh={device_mesh} (of type {type(device_mesh)})"
        )
    return device_mesh


class DataParallel(Distribution, _kd.DataParallel):
    """Replicated variables, the batch split along the mesh's first axis.

    Like `keras.distribution.DataParallel(device_mesh=None, devices=None)`:
    without a mesh, a 1-D mesh named "batch" over `devices` (default: all).
    A `kerax.distribute.DataParallel` strategy.
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh:
            device_mesh = _as_device_mesh(device_mesh)
        else:
            devs = np.array(devices if devices else list_devices())
            device_mesh = DeviceMesh(devs.shape, [DEFAULT_BATCH_DIM_NAME], devs)
        self._device_mesh = device_mesh
        self._batch_dim_name = device_mesh.axis_names[0]
        self.auto_shard_dataset = auto_shard_dataset
        _kd.DataParallel.__init__(
            self, device_mesh.backend_mesh, data_axis=self._batch_dim_name
        )

    @property
    def num_model_replicas(self):
        return self.device_mesh.devices.size


class ModelParallel(Distribution, _kd.ModelParallel):
    """Variables placed by a `LayoutMap`; the batch split along `batch_dim_name`.

    Like `keras.distribution.ModelParallel(layout_map=..., batch_dim_name=None)`
    (default: the mesh's first axis). Variables no key matches are
    replicated. A `kerax.distribute.ModelParallel` strategy; the map is read
    when the variables are placed, so later additions to it count.
    """

    def __init__(
        self, *, layout_map=None, batch_dim_name=None, auto_shard_dataset=True, **kwargs
    ):
        kwargs.pop("device_mesh", None)
        if layout_map is None:
            raise ValueError("You must specify a layout_map argument.")
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(
                "Argument `layout_map` must be a `LayoutMap` instance. "
                f"Received: layout_map={layout_map}"
            )
        device_mesh = layout_map.device_mesh
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name or device_mesh.axis_names[0]
        self._keras_layout_map = layout_map
        self.auto_shard_dataset = auto_shard_dataset
        _kd.ModelParallel.__init__(
            self,
            device_mesh.backend_mesh,
            layout_map=_kd.LayoutMap(),
            data_axis=self._batch_dim_name,
        )

    @property
    def num_model_replicas(self):
        index = list(self.device_mesh.axis_names).index(self.batch_dim_name)
        return self.device_mesh.shape[index]

    def get_tensor_layout(self, path):
        return self._keras_layout_map[path]

    def _place(self, path, shape, axes, where):
        del axes
        layout = self._keras_layout_map[path]
        if layout is None:
            return ()
        if len(layout.axes) != len(shape):
            raise ValueError(
                f"{where} has shape {tuple(shape)} (rank {len(shape)}), but its "
                f"LayoutMap layout gives {len(layout.axes)} axes {layout.axes}."
            )
        return layout.axes

    def _finish(self):
        # Skips kd.ModelParallel's unused-key and unused-rule errors: in
        # Keras a key may match no variable (e.g. a layer-output key).
        return None


def distribute_tensor(tensor, layout):
    """`tensor` laid out as `layout` (a `TensorLayout` or a `jax.sharding.Sharding`).

    Inside `jax.jit`, a sharding constraint; outside, `jax.device_put`.
    """
    sharding = layout.backend_layout if isinstance(layout, TensorLayout) else layout
    if isinstance(tensor, jax.core.Tracer):
        return jax.lax.with_sharding_constraint(tensor, sharding)
    return jax.device_put(tensor, sharding)


def distribution():
    """The global distribution (`set_distribution`), or None."""
    return _GLOBAL["distribution"]


def set_distribution(value):
    """Sets the global distribution: a `Trainer` made without `distribution=` uses it."""
    _GLOBAL["distribution"] = value


# The Trainer (a lower floor) reads the global distribution through the registry.
registry.provide("global_distribution", distribution)
