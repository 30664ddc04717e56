"""`Lambda`: wraps a pure function of arrays as a layer."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import jax

from kerax import activations
from kerax.core import serialization
from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import keras_shape


def _registered_function(name: str):
    """The function registered under `name` with `kerax.register`, or None."""
    try:
        return serialization.lookup_function(name)
    except ValueError:
        return None


def _resolve_function(value):
    """A callable, or a name: a registered function or a kerax activation."""
    if callable(value):
        return value
    if isinstance(value, str):
        registered = _registered_function(value)
        if registered is not None:
            return registered
        try:
            return activations.get(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is neither a registered function nor a kerax activation. Register it first: "
                f"`kerax.register(fn, name={value!r})`."
            ) from None
    raise ValueError(
        f"expected a callable or the name of a registered function, got {value!r}."
    )


def _freeze_value(value):
    if isinstance(value, list | tuple):
        return tuple(_freeze_value(v) for v in value)
    return value


def _output_shape(value):
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return _freeze_value(value)
    return _resolve_function(value)


def _mask(value):
    if value is None:
        return None
    if not (callable(value) or isinstance(value, str)):
        raise ValueError(
            "expected None or a callable (inputs, mask) -> mask; a constant mask tensor is not supported "
            "(configs hold no arrays)."
        )
    return _resolve_function(value)


def _arguments(value) -> tuple[tuple[str, object], ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple((k, _freeze_value(v)) for k, v in value.items())
    if isinstance(value, tuple | list) and all(
        isinstance(p, tuple | list) and len(p) == 2 and isinstance(p[0], str)
        for p in value
    ):
        return tuple((k, _freeze_value(v)) for k, v in value)
    raise ValueError(
        f"expected a dict or a tuple of (name, value) pairs, got {value!r}."
    )


def _parameter_names(fn) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


def _is_shape(value) -> bool:
    return isinstance(value, tuple | list) and all(
        d is None or isinstance(d, int) for d in value
    )


def _shape_matches(want, got) -> bool:
    return len(want) == len(got) and all(
        w is None or g is None or w == g for w, g in zip(want, got)
    )


class Lambda(Layer):
    """Wraps a pure function of arrays as a layer: `y = function(x, **arguments)`.

    `function` may also take `mask`, `training` and `key` keyword arguments,
    which are passed when present in its signature (`key` is kerax's
    per-call PRNG key). A given `output_shape` is checked against what the
    function returns.

    A Lambda can be saved only if its functions are registered:
    `kerax.register(fn, name="my_fn")`; the config stores that name, and
    loading looks it up (never running code from the file).

    Args:
        function: The function to be evaluated. Takes input tensor as first
            argument. A name is looked up among registered functions, then
            kerax activations.
        output_shape: Expected output shape from function. Can be a tuple
            or function. If a tuple, it only specifies the first dimension
            onward (the sample dimension is the input's). If a function, it
            specifies the entire shape as a function of the input shape:
            `output_shape = f(input_shape)`.
        mask: Either None (indicating no masking) or a callable with the
            same signature as the `compute_mask` layer method. (Keras also
            takes a constant mask tensor; kerax configs hold no arrays.)
        arguments: Optional dictionary of keyword arguments to be passed to
            the function (stored as a tuple of `(name, value)` pairs, which
            is hashable).

    Example:
        >>> layer = kerax.layers.Lambda(jnp.clip, arguments={"max": 1.0})
        >>> layer.apply({}, {}, jnp.array([[0.5, 2.0]]))[0]
        Array([[0.5, 1. ]], dtype=float32)
    """

    function: Callable = field(converter=_resolve_function)
    output_shape: tuple | Callable | None = field(None, converter=_output_shape)
    mask: Callable | None = field(None, converter=_mask)
    arguments: tuple[tuple[str, object], ...] = field(None, converter=_arguments)

    @property
    def supports_masking(self) -> bool:
        return self.mask is not None

    def call(self, params, state, x, *, key, training, mask=None):
        del params
        kwargs = dict(self.arguments)
        names = _parameter_names(self.function)
        if "mask" in names:
            kwargs["mask"] = mask
        if "training" in names:
            kwargs["training"] = training
        if "key" in names:
            kwargs["key"] = key
        y = self.function(x, **kwargs)
        self._check_output_shape(x, y)
        return y, state

    def _check_output_shape(self, x, y):
        if self.output_shape is None:
            return
        got = jax.tree.map(lambda a: keras_shape(a.shape), y)
        if callable(self.output_shape):
            want = self.output_shape(jax.tree.map(lambda a: keras_shape(a.shape), x))
            flat_want = [want] if _is_shape(want) else list(want)
            flat_got = (
                [got] if _is_shape(got) else jax.tree.leaves(got, is_leaf=_is_shape)
            )
        else:
            flat_want = (
                [self.output_shape]
                if _is_shape(self.output_shape)
                else list(self.output_shape)
            )
            flat_got = [g[1:] for g in jax.tree.leaves(got, is_leaf=_is_shape)]
        if len(flat_want) != len(flat_got) or not all(
            _shape_matches(tuple(w), tuple(g)) for w, g in zip(flat_want, flat_got)
        ):
            raise ValueError(
                f"{self.describe()}: `output_shape` declares {self.output_shape}, but the function returned shapes {got}."
            )

    def compute_mask(self, x, mask=None):
        if self.mask is None:
            return None
        return self.mask(x, mask)


def _is_shape(value) -> bool:
    return isinstance(value, tuple | list) and all(
        d is None or isinstance(d, int) for d in value
    )


def _freeze_value(value):
    if isinstance(value, list | tuple):
        return tuple(_freeze_value(v) for v in value)
    return value
