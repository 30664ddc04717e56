"""Core layers: Dense, EinsumDense, Embedding, Identity, Lambda, Masking."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from typing import Any

import jax
import jax.numpy as jnp

from kerax import activations, initializers
from kerax.core.aux_losses import add_activity_loss
from kerax.core.layer import Layer
from kerax.core.spec import keras_shape, shape_str


# ----------------------------------------------------------------- LoRA
def _check_lora(layer, constraint, constraint_name: str) -> None:
    rank = layer.lora_rank
    if rank is None:
        return
    if isinstance(rank, bool) or not isinstance(rank, int) or rank <= 0:
        raise ValueError(
            f"{layer.describe()}: `lora_rank` must be a positive int or None, got {rank!r}."
        )
    if constraint is not None:
        # Keras's own rule: the frozen kernel cannot be constrained.
        raise ValueError(
            f"{layer.describe()}: Lora is incompatible with kernel constraints. In order to enable lora on "
            f"this layer, remove the `{constraint_name}` argument."
        )


def _lora_init(key, shape, rank):
    """Keras's `enable_lora` defaults: A he_uniform, B zeros."""
    a = initializers.get("he_uniform")(key, (*shape[:-1], rank), jnp.float32)
    b = jnp.zeros((rank, shape[-1]), jnp.float32)
    return a, b


def _lora_merged(layer, params, state, name: str, dtype):
    """The frozen weight (in `state`, non-trainable as in Keras) plus the scaled low-rank delta."""
    a, b = params[f"lora_{name}_a"], params[f"lora_{name}_b"]
    alpha = layer.lora_alpha if layer.lora_alpha is not None else layer.lora_rank
    merged = state[name].astype(jnp.float32) + (alpha / layer.lora_rank) * jnp.matmul(
        a.astype(jnp.float32), b.astype(jnp.float32)
    )
    return merged.astype(dtype)


def _weight_and_lora(layer, key, name: str, weight):
    """`(params, state)` holding `weight` as `name`: a trainable param, or, with
    `layer.lora_rank`, frozen in the state (Keras's `enable_lora`) beside the
    trainable low-rank factors `lora_<name>_a` and `lora_<name>_b`."""
    if not layer.lora_rank:
        return {name: weight}, {}
    a, b = _lora_init(key, weight.shape, layer.lora_rank)
    return {f"lora_{name}_a": a, f"lora_{name}_b": b}, {name: weight}


def _weight(layer, params, state, name: str, dtype):
    """The weight `name` as the layer computes with it (LoRA factors merged)."""
    if layer.lora_rank:
        return _lora_merged(layer, params, state, name, dtype)
    return params[name]


def _lora_regularization(layer, params, name: str, regularizer) -> jnp.ndarray:
    # Keras regularizes only trainable weights: with LoRA the frozen weight
    # drops out and the two factors carry the weight's regularizer.
    total = jnp.zeros((), jnp.float32)
    if layer.lora_rank and regularizer is not None:
        for part in ("a", "b"):
            total = total + jnp.asarray(
                regularizer(params[f"lora_{name}_{part}"]), jnp.float32
            )
    return total


# ----------------------------------------------------------------- Dense
class Dense(Layer):
    """`activation(x @ kernel + bias)`, like `keras.layers.Dense`.

    With `lora_rank`, the kernel is frozen (kept in `state`, as Keras marks it
    non-trainable) and `lora_kernel_a @ lora_kernel_b * lora_alpha / lora_rank`
    is added to it; only the LoRA factors (and the bias) train.

    Example:
        >>> dense = kerax.layers.Dense(4, activation="relu")
        >>> params, state = dense.init(jax.random.key(0), kerax.spec((None, 3)))
        >>> y, _ = dense.apply(params, state, jnp.ones((2, 3)))
        >>> y.shape
        (2, 4)
    """

    units: int = None
    activation: Any = None
    use_bias: bool = True
    kernel_initializer: Any = "glorot_uniform"
    bias_initializer: Any = "zeros"
    kernel_regularizer: Any = None
    bias_regularizer: Any = None
    activity_regularizer: Any = None
    kernel_constraint: Any = None
    bias_constraint: Any = None
    lora_rank: int | None = None
    lora_alpha: float | None = None

    supports_masking = True  # As in Keras: a timestep mask passes through.

    def __post_init__(self):
        super().__post_init__()
        if (
            isinstance(self.units, bool)
            or not isinstance(self.units, int)
            or self.units <= 0
        ):
            raise ValueError(
                f"{self.describe()}: `units` must be a positive int, got {self.units!r}."
            )
        _check_lora(self, self.kernel_constraint, "kernel_constraint")

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=2)

    def build(self, key, spec):
        k_kernel, k_bias, k_lora = jax.random.split(key, 3)
        shape = (spec.shape[-1], self.units)
        kernel = self.kernel_initializer(k_kernel, shape, jnp.float32)
        params, state = _weight_and_lora(self, k_lora, "kernel", kernel)
        if self.use_bias:
            params["bias"] = self.bias_initializer(k_bias, (self.units,), jnp.float32)
        return params, state

    def call(self, params, state, x, *, key, training):
        del key, training
        kernel = _weight(self, params, state, "kernel", x.dtype)
        if x.shape[-1] != kernel.shape[0]:
            raise ValueError(
                f"{self.describe()} expected inputs with last dimension {kernel.shape[0]}, got {shape_str(x.shape)}."
            )
        y = jnp.matmul(x, kernel)
        if self.use_bias:
            # Explicit broadcast: kerax code runs under strict rank promotion.
            y = y + jnp.reshape(
                params["bias"], (1,) * (y.ndim - 1) + params["bias"].shape
            )
        y = activations.get(self.activation)(y)
        add_activity_loss(self.activity_regularizer, y)
        return y, state

    def regularization_loss(self, params):
        return super().regularization_loss(params) + _lora_regularization(
            self, params, "kernel", self.kernel_regularizer
        )

    def axes(self):
        return {
            "kernel": ("embed", "mlp"),
            "bias": ("mlp",),
            "lora_kernel_a": ("embed", None),
            "lora_kernel_b": (None, "mlp"),
        }


# ----------------------------------------------------------- EinsumDense
_EINSUM_FORMS = (
    ("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", False),
    ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
    ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False),
)


def _split_equation(equation: str):
    dot_replaced = re.sub(r"\.\.\.", "0", equation)
    for pattern, left_elided in _EINSUM_FORMS:
        match = re.match(pattern, dot_replaced)
        if match:
            return match.group(1), match.group(2), match.group(3), left_elided
    raise ValueError(
        f"Invalid einsum equation '{equation}'. Equations must be in the form "
        "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    )


@functools.lru_cache(maxsize=1024)
def _analyze_einsum(equation: str, bias_axes, input_shape: tuple, output_shape: tuple):
    """Keras's `_analyze_einsum_string`, line for line: weight and bias shapes.

    `input_shape` uses None for unknown (symbolic) dimensions, as Keras does.
    Returns `(kernel_shape, bias_shape, full_output_shape, input_axes, output_axes)`.
    """
    input_spec, weight_spec, output_spec, left_elided = _split_equation(equation)
    elided = len(input_shape) - len(input_spec)
    output_shape = list(output_shape)
    output_shape.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])
    elif elided > 0 and not left_elided:
        for i in range(len(input_shape) - elided, len(input_shape)):
            output_shape.append(input_shape[i])

    if left_elided:
        input_dim_map = {
            dim: (i + elided) - len(input_shape) for i, dim in enumerate(input_spec)
        }
        output_dim_map = {dim: (i + elided) for i, dim in enumerate(output_spec)}
    else:
        input_dim_map = {dim: i for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i for i, dim in enumerate(output_spec)}

    for dim in input_spec:
        input_shape_at_dim = input_shape[input_dim_map[dim]]
        if dim in output_dim_map:
            output_shape_at_dim = output_shape[output_dim_map[dim]]
            if (
                output_shape_at_dim is not None
                and output_shape_at_dim != input_shape_at_dim
            ):
                raise ValueError(
                    f"Input shape and output shape do not match at shared dimension '{dim}'. Input shape is "
                    f"{input_shape_at_dim}, and output shape is {output_shape[output_dim_map[dim]]}."
                )

    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(
                f"Dimension '{dim}' was specified in the output '{output_spec}' but has no corresponding dim "
                f"in the input spec '{input_spec}' or weight spec '{output_spec}'"
            )

    weight_shape, input_axes, output_axes = [], [], []
    for i, dim in enumerate(weight_spec):
        if dim in output_dim_map:
            weight_shape.append(output_shape[output_dim_map[dim]])
            output_axes.append(i)
        elif dim in input_dim_map:
            weight_shape.append(input_shape[input_dim_map[dim]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{dim}' did not have a match in either the input spec '{input_spec}' or "
                f"the output spec '{output_spec}'. For this layer, the weight must be fully specified."
            )

    if bias_axes is not None:
        num_left_elided = elided if left_elided else 0
        idx_map = {
            char: output_shape[i + num_left_elided]
            for i, char in enumerate(output_spec)
        }
        for char in bias_axes:
            if char not in output_spec:
                raise ValueError(
                    f"Bias dimension '{char}' was requested, but is not part of the output spec '{output_spec}'"
                )
        first_bias_location = min(output_spec.find(char) for char in bias_axes)
        bias_output_spec = output_spec[first_bias_location:]
        bias_shape = [
            idx_map[char] if char in bias_axes else 1 for char in bias_output_spec
        ]
        if not left_elided:
            bias_shape.extend([1] * max(elided, 0))
    else:
        bias_shape = None
    return (
        tuple(weight_shape),
        None if bias_shape is None else tuple(bias_shape),
        tuple(output_shape),
        tuple(input_axes),
        tuple(output_axes),
    )


class EinsumDense(Layer):
    """A dense layer of any rank: `activation(einsum(equation, x, kernel) + bias)`.

    Kernel and bias shapes follow Keras's analysis of `equation`,
    `output_shape` (excluding the batch and ellipsis dimensions; None means
    "from the input") and `bias_axes`. A VarianceScaling kernel initializer
    gets the equation's input/output axes for its fans, as in Keras.

    Example:
        >>> layer = kerax.layers.EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 32, 128)))
        >>> params["kernel"].shape, params["bias"].shape
        ((128, 64), (64,))
    """

    equation: str = None
    output_shape: Any = None
    activation: Any = None
    bias_axes: str | None = None
    kernel_initializer: Any = "glorot_uniform"
    bias_initializer: Any = "zeros"
    kernel_regularizer: Any = None
    bias_regularizer: Any = None
    kernel_constraint: Any = None
    bias_constraint: Any = None
    lora_rank: int | None = None
    lora_alpha: float | None = None
    activity_regularizer: Any = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.equation, str):
            raise ValueError(
                f"{self.describe()}: `equation` must be an einsum string like 'ab,bc->ac', got {self.equation!r}."
            )
        _split_equation(self.equation)
        shape = self.output_shape
        if isinstance(shape, int) and not isinstance(shape, bool):
            shape = (shape,)
        if not isinstance(shape, tuple) or not all(
            d is None or (isinstance(d, int) and d > 0) for d in shape
        ):
            raise ValueError(
                f"{self.describe()}: `output_shape` must be an int or a tuple of positive ints / None, got {self.output_shape!r}."
            )
        object.__setattr__(self, "output_shape", shape)
        if self.bias_axes is not None and not isinstance(self.bias_axes, str):
            raise ValueError(
                f"{self.describe()}: `bias_axes` must be a string of output axes or None, got {self.bias_axes!r}."
            )
        _check_lora(self, self.kernel_constraint, "kernel_constraint")

    def _analysis(self, shape):
        try:
            return _analyze_einsum(
                self.equation, self.bias_axes, keras_shape(shape), self.output_shape
            )
        except ValueError as e:
            raise ValueError(
                f"{self.describe()} cannot take inputs of shape {shape_str(shape)}: {e}"
            ) from None

    def check_input(self, spec):
        input_spec, _, _, _ = _split_equation(self.equation)
        if "..." in self.equation:
            self.expect_ndim(spec, min_ndim=len(input_spec))
        else:
            self.expect_ndim(spec, ndim=len(input_spec))
        kernel_shape, bias_shape, _, _, _ = self._analysis(spec.shape)
        if any(d is None for d in kernel_shape + (bias_shape or ())):
            raise ValueError(
                f"{self.describe()}: the kernel shape {kernel_shape} or bias shape {bias_shape} has an unknown "
                f"dimension (inputs {shape_str(spec.shape)}, output_shape {self.output_shape}); give its size in "
                "`output_shape` or in the input shape."
            )

    def build(self, key, spec):
        kernel_shape, bias_shape, _, input_axes, output_axes = self._analysis(
            spec.shape
        )
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (
            init.input_axes is None or init.output_axes is None
        ):
            init = dataclasses.replace(
                init, input_axes=input_axes, output_axes=output_axes
            )
        k_kernel, k_bias, k_lora = jax.random.split(key, 3)
        kernel = init(k_kernel, kernel_shape, jnp.float32)
        params, state = _weight_and_lora(self, k_lora, "kernel", kernel)
        if bias_shape is not None:
            params["bias"] = self.bias_initializer(k_bias, bias_shape, jnp.float32)
        return params, state

    def call(self, params, state, x, *, key, training):
        del key, training
        kernel = _weight(self, params, state, "kernel", x.dtype)
        want, _, _, _, _ = self._analysis(x.shape)
        if tuple(kernel.shape) != tuple(want):
            raise ValueError(
                f"{self.describe()} expected inputs giving a kernel of shape {want}, got inputs {shape_str(x.shape)}."
            )
        y = jnp.einsum(self.equation, x, kernel)
        if "bias" in params:
            bias = params["bias"]
            y = y + jnp.reshape(bias, (1,) * (y.ndim - bias.ndim) + bias.shape)
        y = activations.get(self.activation)(y)
        add_activity_loss(self.activity_regularizer, y)
        return y, state

    def regularization_loss(self, params):
        return super().regularization_loss(params) + _lora_regularization(
            self, params, "kernel", self.kernel_regularizer
        )


# ------------------------------------------------------------- Embedding
class Embedding(Layer):
    """Turns integer indices into dense vectors: `embeddings[x]`.

    Inputs of any rank; non-integer inputs are cast to int32 as in Keras.
    With `mask_zero=True` index 0 is padding: `compute_mask` returns
    `x != 0` for downstream layers (RNNs, attention, pooling).

    Example:
        >>> emb = kerax.layers.Embedding(1000, 64, mask_zero=True)
        >>> params, state = emb.init(jax.random.key(0), kerax.spec((None, 10), "int32"))
        >>> y, _ = emb.apply(params, state, jnp.ones((2, 10), jnp.int32))
        >>> y.shape
        (2, 10, 64)
    """

    input_dim: int = None
    output_dim: int = None
    embeddings_initializer: Any = "uniform"
    embeddings_regularizer: Any = None
    embeddings_constraint: Any = None
    mask_zero: bool = False
    lora_rank: int | None = None
    lora_alpha: float | None = None
    activity_regularizer: Any = dataclasses.field(default=None, kw_only=True)
    # Deprecated in Keras ("Just remove it") and ignored; accepted for old code.
    input_length: int | None = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        for field in ("input_dim", "output_dim"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(
                    f"{self.describe()}: `{field}` must be a positive integer. Received: {field}={value!r} "
                    f"(of type {type(value).__name__})."
                )
        _check_lora(self, self.embeddings_constraint, "embeddings_constraint")

    @property
    def supports_masking(self) -> bool:  # Keras: `supports_masking = mask_zero`.
        return bool(self.mask_zero)

    def build(self, key, spec):
        del spec  # The table's shape comes from the config alone.
        k_emb, k_lora = jax.random.split(key)
        shape = (self.input_dim, self.output_dim)
        table = self.embeddings_initializer(k_emb, shape, jnp.float32)
        return _weight_and_lora(self, k_lora, "embeddings", table)

    def call(self, params, state, x, *, key, training):
        del key, training
        dtype = params["lora_embeddings_a" if self.lora_rank else "embeddings"].dtype
        table = _weight(self, params, state, "embeddings", dtype)
        if x.dtype not in (jnp.int32, jnp.int64):
            x = x.astype(jnp.int32)
        y = jnp.take(table, x, axis=0)
        add_activity_loss(self.activity_regularizer, y)
        return y, state

    def compute_mask(self, x, mask=None):
        del mask  # Keras ignores an incoming mask here.
        if not self.mask_zero:
            return None
        return jnp.not_equal(x, 0)

    def regularization_loss(self, params):
        return super().regularization_loss(params) + _lora_regularization(
            self, params, "embeddings", self.embeddings_regularizer
        )

    def axes(self):
        return {"embeddings": ("vocab", "embed")}


# -------------------------------------------------------------- Identity
class Identity(Layer):
    """Returns its input unchanged (`keras.layers.Identity`)."""

    supports_masking = True

    def call(self, params, state, x, *, key, training):
        del params, key, training
        return x, state


# ---------------------------------------------------------------- Lambda
def _resolve_function(value, what: str):
    """A callable, or a name: a registered function or a kerax activation."""
    if value is None or callable(value):
        return value
    if isinstance(value, str):
        registered = _registered_function(value)
        if registered is not None:
            return registered
        try:
            return activations.get(value)
        except ValueError:
            raise ValueError(
                f"{what}: {value!r} is neither a registered function nor a kerax activation. Register it first: "
                f"`kerax.register(fn, name={value!r})`."
            ) from None
    raise ValueError(f"{what} must be a callable, got {value!r}.")


def _registered_function(name: str):
    """The function registered under `name` with `kerax.register`, or None."""
    from kerax.core import serialization

    try:
        return serialization.lookup_function(name)
    except ValueError:
        return None


def _parameter_names(fn) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


def _shape_matches(want, got) -> bool:
    return len(want) == len(got) and all(
        w is None or g is None or w == g for w, g in zip(want, got)
    )


class Lambda(Layer):
    """Wraps a pure function of arrays as a layer: `y = function(x, **arguments)`.

    `function` may also take `mask`, `training` and `key` keyword arguments,
    which are passed when present in its signature (`key` is kerax's
    per-call PRNG key). `output_shape` (without the batch dimension), if
    given, is checked against what the function returns; `mask` is an
    optional callable `(inputs, mask) -> output_mask`.

    A Lambda can be saved only if its functions are registered:
    `kerax.register(fn, name="my_fn")`; the config stores that name, and
    loading looks it up (never running code from the file).

    Example:
        >>> layer = kerax.layers.Lambda(jnp.clip, arguments={"max": 1.0})
        >>> layer.apply({}, {}, jnp.array([[0.5, 2.0]]))[0]
        Array([[0.5, 1. ]], dtype=float32)
    """

    function: Any = None
    output_shape: Any = None
    mask: Any = None
    arguments: Any = None

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(
            self,
            "function",
            _resolve_function(self.function, f"{self.describe()}: `function`"),
        )
        if self.function is None:
            raise ValueError(
                f"{self.describe()}: `function` is required, e.g. Lambda(my_fn)."
            )
        if self.output_shape is not None and not isinstance(self.output_shape, tuple):
            object.__setattr__(
                self,
                "output_shape",
                _resolve_function(
                    self.output_shape, f"{self.describe()}: `output_shape`"
                ),
            )
        if self.mask is not None:
            if not (callable(self.mask) or isinstance(self.mask, str)):
                raise ValueError(
                    f"{self.describe()}: `mask` must be None or a callable (inputs, mask) -> mask; a constant mask "
                    "tensor is not supported (configs hold no arrays)."
                )
            object.__setattr__(
                self, "mask", _resolve_function(self.mask, f"{self.describe()}: `mask`")
            )
        arguments = self.arguments
        if arguments is None:
            arguments = ()
        elif isinstance(arguments, dict):
            arguments = tuple((k, _freeze_value(v)) for k, v in arguments.items())
        elif isinstance(arguments, tuple) and all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
            for p in arguments
        ):
            arguments = tuple((k, _freeze_value(v)) for k, v in arguments)
        else:
            raise ValueError(
                f"{self.describe()}: `arguments` must be a dict or a tuple of (name, value) pairs, got {self.arguments!r}."
            )
        object.__setattr__(self, "arguments", arguments)

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

    @classmethod
    def from_keras_config(cls, config: dict):
        """Keras's Lambda config names its functions; kerax looks them up in its registry."""
        from kerax.interop.keras import construct_from_keras

        config = dict(config)
        name = config.get("name", "lambda")
        overrides = {
            "function": _keras_function(config.get("function"), name, "function")
        }
        if "output_shape" in config:
            spec = config["output_shape"]
            overrides["output_shape"] = (
                _keras_function(spec, name, "output_shape")
                if isinstance(spec, dict)
                else _freeze_value(spec)
            )
        if config.get("mask") is not None:
            overrides["mask"] = _keras_function(config["mask"], name, "mask")
        return construct_from_keras(cls, config, **overrides)


def _is_shape(value) -> bool:
    return isinstance(value, tuple | list) and all(
        d is None or isinstance(d, int) for d in value
    )


def _freeze_value(value):
    if isinstance(value, list | tuple):
        return tuple(_freeze_value(v) for v in value)
    return value


def _keras_function(spec, layer_name: str, what: str):
    """The kerax-registered function a Keras Lambda config names."""
    if isinstance(spec, dict) and spec.get("class_name") == "__lambda__":
        raise ValueError(
            f"Keras Lambda '{layer_name}': its `{what}` is a Python lambda saved as bytecode, which kerax never "
            "loads. Rewrite it as a named function and register it in kerax: `kerax.register(fn, name=...)`."
        )
    if callable(spec):
        return spec
    name = spec.get("config") if isinstance(spec, dict) else spec
    if not isinstance(name, str):
        raise ValueError(
            f"Keras Lambda '{layer_name}': cannot read the `{what}` entry {spec!r}."
        )
    candidates = [name, name.split(">")[-1]]
    for candidate in candidates:
        registered = _registered_function(candidate)
        if registered is not None:
            return registered
    raise ValueError(
        f"Keras Lambda '{layer_name}' calls the function {name!r}, which is not registered in kerax. Register "
        f"the function first: `kerax.register(fn, name={candidates[-1]!r})`."
    )


# --------------------------------------------------------------- Masking
class Masking(Layer):
    """Masks timesteps whose features all equal `mask_value`.

    The output zeroes masked timesteps (as Keras does) and `compute_mask`
    returns `any(x != mask_value, axis=-1)` for downstream layers.

    Example:
        >>> layer = kerax.layers.Masking(mask_value=0.0)
        >>> x = jnp.array([[[1.0], [0.0]]])
        >>> layer.compute_mask(x)
        Array([[ True, False]], dtype=bool)
    """

    mask_value: float = 0.0

    supports_masking = True

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.mask_value, bool) or not isinstance(
            self.mask_value, int | float
        ):
            raise ValueError(
                f"{self.describe()}: `mask_value` must be a number, got {self.mask_value!r}."
            )

    def check_input(self, spec):
        self.expect_ndim(spec, min_ndim=2)

    def call(self, params, state, x, *, key, training):
        del params, key, training
        keep = jnp.any(jnp.not_equal(x, self.mask_value), axis=-1, keepdims=True)
        return jnp.where(keep, x, jnp.zeros((), x.dtype)), state

    def compute_mask(self, x, mask=None):
        del mask  # Keras recomputes the mask from the values.
        return jnp.any(jnp.not_equal(x, self.mask_value), axis=-1)


__all__ = ["Dense", "EinsumDense", "Embedding", "Identity", "Lambda", "Masking"]
