"""Keras's `InputSpec`: the rank, dtype and shape a layer accepts.

A layer that sets `self.input_spec = InputSpec(...)` (in `__init__` or
`build`, as in Keras) has the first input of `init` and `apply` checked
against it, with Keras's error messages. A nested structure of `InputSpec`s
checks one input each.

Example:
    >>> spec = kerax.InputSpec(ndim=2, axes={-1: 3})
    >>> assert_input_compatibility(spec, jnp.ones((4, 3)), "my_layer")
    >>> assert_input_compatibility(spec, jnp.ones((4, 5)), "my_layer")
    Traceback (most recent call last):
    ...
    ValueError: Input 0 with name 'None' of layer 'my_layer' is incompatible with the layer: expected axis -1 of input shape to have value 3, but received input with shape (4, 5)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerax.core.policy import dtype_name

__all__ = ["InputSpec", "assert_input_compatibility"]


def _shape(shape) -> tuple:
    """A shape with symbolic (batch) dimensions as None, as Keras prints them."""
    return tuple(int(d) if isinstance(d, (int, np.integer)) else None for d in shape)


class InputSpec:
    """Keras's `InputSpec`.

    Args:
        dtype: the expected dtype.
        shape: the expected shape, batch included (None: any size).
        ndim: the expected rank (implied by `shape`).
        max_ndim, min_ndim: rank bounds.
        axes: dict of axis → expected size.
        allow_last_axis_squeeze: accept rank N+1 inputs whose last axis is 1,
            and rank N-1 inputs when the spec's last axis is 1.
        name: the key of this input when inputs come as a dict.
        optional: the input may be None.
    """

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        self.dtype = dtype_name(dtype) if dtype is not None else None
        if shape is not None:
            self.shape = tuple(None if d is None else int(d) for d in shape)
            self.ndim = len(self.shape)
        else:
            self.ndim = ndim
            self.shape = None
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            axes = axes or {}
            self.axes = {int(k): axes[k] for k in axes}
        except (ValueError, TypeError):
            raise TypeError(
                f"Argument `axes` must be a dict with integer keys. Received: axes={axes}"
            ) from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim else self.max_ndim) - 1
            max_axis = max(self.axes)
            if max_axis > max_dim:
                raise ValueError(
                    f"Axis {max_axis} is greater than the maximum allowed value: {max_dim}"
                )

    def _key(self):
        return (
            self.dtype,
            self.shape,
            self.ndim,
            self.max_ndim,
            self.min_ndim,
            tuple(sorted(self.axes.items())),
            self.allow_last_axis_squeeze,
            self.name,
            self.optional,
        )

    def __eq__(self, other):
        return isinstance(other, InputSpec) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        spec = [
            f"dtype={self.dtype}" if self.dtype else "",
            f"shape={self.shape}" if self.shape else "",
            f"ndim={self.ndim}" if self.ndim else "",
            f"max_ndim={self.max_ndim}" if self.max_ndim else "",
            f"min_ndim={self.min_ndim}" if self.min_ndim else "",
            f"axes={self.axes}" if self.axes else "",
        ]
        return f"InputSpec({', '.join(x for x in spec if x)})"

    def get_config(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
            "optional": self.optional,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def assert_input_compatibility(input_spec, inputs, layer_name) -> None:
    """Raises Keras's `ValueError` when `inputs` (arrays or specs) do not fit
    `input_spec` (an `InputSpec`, a nested structure of them, or None)."""
    from kerax import tree

    if not input_spec:
        return
    input_spec = tree.flatten(input_spec)
    if isinstance(inputs, dict):
        names = [spec.name for spec in input_spec]
        if all(names):
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(
                    f'Missing data for input "{missing[0]}". You passed a data dictionary '
                    f"with keys {list(inputs.keys())}. Expected the following keys: {names}"
                )
            inputs = [inputs[n] for n in names]
    inputs = tree.flatten(inputs)
    if len(inputs) != len(input_spec):
        spec_names = [spec.name for spec in input_spec if spec is not None]
        if len(spec_names) == len(input_spec) and all(spec_names):
            raise ValueError(
                f'Layer "{layer_name}" expects {len(input_spec)} named input(s) with keys '
                f"{spec_names}, but it received {len(inputs)} input tensors. Pass inputs "
                "as a dict, e.g. `layer({"
                + ", ".join(f"'{n}': ..." for n in spec_names)
                + "})`."
            )
        raise ValueError(
            f'Layer "{layer_name}" expects {len(input_spec)} input(s), but it received '
            f"{len(inputs)} input tensors. Inputs received: {inputs}"
        )
    for i, (x, spec) in enumerate(zip(inputs, input_spec)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise ValueError(
                f"Inputs to a layer should be tensors. Got '{x}' (of type {type(x)}) "
                f"as input for layer '{layer_name}'."
            )
        shape = _shape(x.shape)
        ndim = len(shape)
        head = (
            f"Input {i} with name '{spec.name}' of layer '{layer_name}' is "
            "incompatible with the layer: "
        )
        if spec.ndim is not None and not spec.allow_last_axis_squeeze:
            if ndim != spec.ndim:
                raise ValueError(
                    head + f"expected ndim={spec.ndim}, found ndim={ndim}. "
                    f"Full shape received: {shape}"
                )
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(
                head + f"expected max_ndim={spec.max_ndim}, found ndim={ndim}"
            )
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(
                head + f"expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                f"Full shape received: {shape}"
            )
        if spec.dtype is not None:
            dtype = dtype_name(x.dtype)
            if dtype != spec.dtype:
                raise ValueError(
                    head + f"expected dtype={spec.dtype}, found dtype={dtype}"
                )
        for axis, value in spec.axes.items():
            if value is not None and shape[axis] not in {value, None}:
                raise ValueError(
                    head
                    + f"expected axis {axis} of input shape to have value {value}, "
                    f"but received input with shape {shape}"
                )
        if spec.shape is not None:
            spec_shape = spec.shape
            if spec.allow_last_axis_squeeze:
                if shape and shape[-1] == 1:
                    shape = shape[:-1]
                if spec_shape and spec_shape[-1] == 1:
                    spec_shape = spec_shape[:-1]
            for spec_dim, dim in zip(spec_shape, shape):
                if spec_dim is not None and dim is not None and spec_dim != dim:
                    raise ValueError(
                        head + f"expected shape={spec.shape}, found shape={shape}"
                    )


def check_layer_input(layer, inputs, spec=None) -> None:
    """The check `Layer.init` / `apply` run: the layer's `input_spec`
    attribute set in `__init__` (or `spec`, the one its `build(input_shape)`
    set) against its first input. Only `InputSpec` values are checked.

    kerax reruns `build(input_shape)` on every trace, so a spec that `build`
    derives from `input_shape` follows each new input; Keras keeps the one
    of the first call.
    """
    if spec is None:
        spec = vars(layer).get("input_spec")
    if spec is None or not inputs:
        return
    from kerax import tree

    if not all(isinstance(s, InputSpec) for s in tree.flatten(spec) if s is not None):
        return
    assert_input_compatibility(
        spec, inputs[0], getattr(layer, "name", type(layer).__name__)
    )
