"""Weight initializers with the class names, configs and numerics of Keras 3.

An initializer is a frozen, hashable dataclass whose fields are its Keras
config. It is called as `init(key, shape, dtype=jnp.float32)`: the key comes
from the layer (docs/design.md, randomness), so no initializer holds random state.
The Keras `seed` field is kept for config compatibility: when it is not None
it is folded into the key, so different seeds still give different values.

Example:
    >>> import jax
    >>> init = get("glorot_uniform")
    >>> init(jax.random.key(0), (3, 4)).shape
    (3, 4)
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core import registry

Shape = Sequence[int]
InitFn = Callable[..., jax.Array]

# Keras's VarianceScaling divides the stddev by this so that a normal
# truncated at 2 stddevs keeps the requested variance: it is the stddev of
# a standard normal truncated to [-2, 2].
_TRUNCATED_STDDEV_CORRECTION = 0.87962566103423978


def compute_fans(
    shape: Shape,
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Computes `(fan_in, fan_out)` exactly as Keras's `compute_fans`.

    Rank 1: both fans are `shape[0]`. Rank 2: `(shape[0], shape[1])`.
    Rank > 2 is taken as a conv kernel `(*spatial, in, out)`: both fans are
    multiplied by the receptive field size. Explicit `input_axes` and
    `output_axes` (both given) override this, as in Keras.

    Args:
        shape: The weight's shape.
        input_axes: Axes whose sizes multiply into `fan_in`.
        output_axes: Axes whose sizes multiply into `fan_out`.

    Returns:
        `(fan_in, fan_out)` as Python ints.
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        fan_in = math.prod(shape[a] for a in input_axes)
        fan_out = math.prod(shape[a] for a in output_axes)
        return int(fan_in), int(fan_out)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive_field_size = math.prod(shape[:-2])
    return (
        int(shape[-2] * receptive_field_size),
        int(shape[-1] * receptive_field_size),
    )


def _as_dtype(dtype: Any) -> jnp.dtype:
    # `None` means Keras's floatx, which kerax fixes at float32.
    return jnp.dtype(jnp.float32 if dtype is None else dtype)


def _json_safe(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_safe(v) for v in value]
    return value


def _tuple_or_none(value: Any) -> tuple | None:
    return None if value is None else tuple(value)


@dataclasses.dataclass(frozen=True)
class Initializer:
    """Base class: a frozen dataclass called as `init(key, shape, dtype)`.

    Subclasses declare their Keras config as dataclass fields and implement
    `__call__`. `get_config` returns the fields that `__init__` accepts.
    """

    def __call__(self, key: jax.Array, shape: Shape, dtype: Any = jnp.float32):
        raise NotImplementedError(
            f"{type(self).__name__} must implement __call__(key, shape, dtype)."
        )

    def get_config(self) -> dict[str, Any]:
        """Returns the Keras config (constructor arguments) as a JSON-safe dict."""
        return {
            f.name: _json_safe(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.init
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """Builds the initializer from `get_config()` output."""
        return cls(**config)


# ---------------------------------------------------------------- constants


@dataclasses.dataclass(frozen=True)
class Constant(Initializer):
    """Fills the array with a scalar `value`.

    Args:
        value: A Python scalar.
    """

    value: float = 0.0

    def __post_init__(self):
        value = self.value
        if isinstance(value, np.ndarray | np.generic | jax.Array):
            if np.ndim(value) != 0:
                raise ValueError(
                    "Constant initializer only accepts scalar values. "
                    f"Received: value with shape {np.shape(value)}."
                )
            # A Python scalar keeps the dataclass hashable and JSON-safe.
            value = np.asarray(value).item()
        if not isinstance(value, numbers.Number):
            raise ValueError(
                f"Constant initializer expects a scalar value. Received: {value!r}"
            )
        object.__setattr__(self, "value", value)

    def __call__(self, key: jax.Array, shape: Shape, dtype: Any = jnp.float32):
        del key  # Deterministic.
        dtype = _as_dtype(dtype)
        return jnp.asarray(self.value, dtype) * jnp.ones(shape, dtype)


@dataclasses.dataclass(frozen=True)
class Zeros(Initializer):
    """Fills the array with 0."""

    def __call__(self, key: jax.Array, shape: Shape, dtype: Any = jnp.float32):
        del key  # Deterministic.
        return jnp.zeros(shape, _as_dtype(dtype))


@dataclasses.dataclass(frozen=True)
class Ones(Initializer):
    """Fills the array with 1."""

    def __call__(self, key: jax.Array, shape: Shape, dtype: Any = jnp.float32):
        del key  # Deterministic.
        return jnp.ones(shape, _as_dtype(dtype))


@dataclasses.dataclass(frozen=True)
class Identity(Initializer):
    """`gain` times the identity matrix; only for 2D shapes (may be non-square).

    Args:
        gain: Multiplicative factor.
    """

    gain: float = 1.0

    def __call__(self, key: jax.Array, shape: Shape, dtype: Any = jnp.float32):
        del key  # Deterministic.
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={tuple(shape)} of rank {len(shape)}."
            )
        return self.gain * jnp.eye(*shape, dtype=_as_dtype(dtype))


@dataclasses.dataclass(frozen=True)
class STFT(Initializer):
    """Conv kernel computing the real or imaginary part of an STFT.

    The shape is `(frame_length, 1, fft_length // 2 + 1)`. The window comes
    from `scipy.signal.get_window` when given by name, as in Keras; it
    depends only on the static shape, so the result is still jittable.

    Args:
        side: `"real"` or `"imag"`.
        window: Name of a `scipy.signal.windows` window, a sequence of
            window values (stored as a tuple), or None for no window.
        scaling: `"density"` (L2), `"spectrum"` (L1) or None.
        periodic: Whether the named window is periodic.
    """

    side: str = "real"
    window: str | tuple[float, ...] | None = "hann"
    scaling: str | None = "density"
    periodic: bool = False

    def __post_init__(self):
        if self.side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {self.side}")
        if isinstance(self.window, str):
            # Fails early, as Keras does, on an unknown window name.
            _get_window(self.window, 1, self.periodic)
        elif self.window is not None:
            window = tuple(float(v) for v in np.asarray(self.window).ravel())
            object.__setattr__(self, "window", window)
        if self.scaling is not None and self.scaling not in ("density", "spectrum"):
            raise ValueError(
                "Scaling is invalid, it must be `None`, 'density' or "
                f"'spectrum'. Received scaling={self.scaling}"
            )

    def __call__(self, key: jax.Array, shape: Shape, dtype: Any = jnp.float32):
        del key  # Deterministic.
        dtype = _as_dtype(dtype)
        frame_length, _, fft_length = shape
        win, scaling = None, 1
        if self.window is not None:
            if isinstance(self.window, str):
                win = _get_window(self.window, frame_length, self.periodic)
            else:
                win = self.window
            win = jnp.asarray(win, dtype)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError(
                    "The shape of `window` must be equal to [frame_length]."
                    f"Received: window shape={win.shape}"
                )
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scaling = jnp.sqrt(jnp.sum(jnp.square(win)))
            elif self.scaling == "spectrum":
                scaling = jnp.sum(jnp.abs(win))
        full_fft_length = (fft_length - 1) * 2
        freq = jnp.arange(fft_length, dtype=dtype).reshape(1, 1, fft_length)
        freq = freq / full_fft_length
        time = jnp.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
        args = (-2 * time * freq) * jnp.arccos(jnp.asarray(-1, dtype))
        kernel = jnp.cos(args) if self.side == "real" else jnp.sin(args)
        kernel = kernel.astype(dtype)
        if win is not None:
            kernel = kernel * win / scaling
        return kernel

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if isinstance(self.window, tuple):
            config["window"] = list(self.window)
        return config


def _get_window(name: str, length: int, periodic: bool) -> np.ndarray:
    # SciPy is imported lazily: only named STFT windows need it (it ships
    # with scikit-learn, a kerax dependency).
    import scipy.signal

    return scipy.signal.get_window(name, length, periodic)


# ------------------------------------------------------------------- random


@dataclasses.dataclass(frozen=True)
class RandomInitializer(Initializer):
    """Base for random initializers: folds the Keras `seed` into the key."""

    def _key(self, key: jax.Array) -> jax.Array:
        if key is None:
            raise ValueError(
                f"{type(self).__name__} is random and needs a key: call it as "
                "init(jax.random.key(...), shape, dtype)."
            )
        seed = getattr(self, "seed", None)
        return key if seed is None else jax.random.fold_in(key, seed)


def _check_seed(owner: Initializer) -> None:
    seed = owner.seed
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
    ):
        raise ValueError(
            f"{type(owner).__name__}: `seed` must be an int or None (kerax "
            f"derives randomness from the layer's key). Received: seed={seed!r}"
        )
    if seed is not None:
        object.__setattr__(owner, "seed", int(seed))


@dataclasses.dataclass(frozen=True)
class RandomNormal(RandomInitializer):
    """Samples from a normal distribution.

    Args:
        mean: Mean of the distribution.
        stddev: Standard deviation of the distribution.
        seed: Optional int folded into the key.
    """

    mean: float = 0.0
    stddev: float = 0.05
    seed: int | None = None

    def __post_init__(self):
        _check_seed(self)

    def __call__(self, key: jax.Array, shape: Shape, dtype: Any = jnp.float32):
        sample = jax.random.normal(self._key(key), tuple(shape), _as_dtype(dtype))
        return sample * self.stddev + self.mean


@dataclasses.dataclass(frozen=True)
class TruncatedNormal(RandomInitializer):
    """Samples from a normal truncated to 2 standard deviations around `mean`.

    `stddev` is that of the normal before truncation, as in Keras.

    Args:
        mean: Mean of the distribution.
        stddev: Standard deviation before truncation.
        seed: Optional int folded into the key.
    """

    mean: float = 0.0
    stddev: float = 0.05
    seed: int | None = None

    def __post_init__(self):
        _check_seed(self)

    def __call__(self, key: jax.Array, shape: Shape, dtype: Any = jnp.float32):
        sample = jax.random.truncated_normal(
            self._key(key), -2.0, 2.0, tuple(shape), _as_dtype(dtype)
        )
        return sample * self.stddev + self.mean


@dataclasses.dataclass(frozen=True)
class RandomUniform(RandomInitializer):
    """Samples uniformly from `[minval, maxval)`.

    Args:
        minval: Lower bound.
        maxval: Upper bound (exclusive).
        seed: Optional int folded into the key.
    """

    minval: float = -0.05
    maxval: float = 0.05
    seed: int | None = None

    def __post_init__(self):
        _check_seed(self)

    def __call__(self, key: jax.Array, shape: Shape, dtype: Any = jnp.float32):
        return jax.random.uniform(
            self._key(key),
            tuple(shape),
            _as_dtype(dtype),
            minval=self.minval,
            maxval=self.maxval,
        )


@dataclasses.dataclass(frozen=True)
class VarianceScaling(RandomInitializer):
    """Scales the variance to `scale / n`, `n` a fan of the weight shape.

    `n` is `fan_in`, `fan_out` or their mean (`mode`); fans follow
    `compute_fans`. `"truncated_normal"` (alias `"normal"`) samples a normal
    truncated at 2 stddevs whose stddev is corrected so that the variance is
    exactly `scale / n`; `"untruncated_normal"` samples a plain normal;
    `"uniform"` samples `[-limit, limit)` with `limit = sqrt(3 * scale / n)`.

    Args:
        scale: Positive scaling factor.
        mode: `"fan_in"`, `"fan_out"` or `"fan_avg"`.
        distribution: `"truncated_normal"`, `"untruncated_normal"` or
            `"uniform"` (case-insensitive; `"normal"` means truncated).
        seed: Optional int folded into the key.
        input_axes: Optional axes making up `fan_in` (with `output_axes`).
        output_axes: Optional axes making up `fan_out` (with `input_axes`).
    """

    scale: float = 1.0
    mode: str = "fan_in"
    distribution: str = "truncated_normal"
    seed: int | None = None
    input_axes: tuple[int, ...] | None = None
    output_axes: tuple[int, ...] | None = None

    def __post_init__(self):
        if self.scale <= 0.0:
            raise ValueError(
                f"Argument `scale` must be positive float. Received: scale={self.scale}"
            )
        allowed_modes = ("fan_in", "fan_out", "fan_avg")
        if self.mode not in allowed_modes:
            raise ValueError(
                f"Invalid `mode` argument: {self.mode}. "
                f"Please use one of {allowed_modes}"
            )
        distribution = self.distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        allowed = ("uniform", "truncated_normal", "untruncated_normal")
        if distribution not in allowed:
            raise ValueError(
                f"Invalid `distribution` argument: {self.distribution}. "
                f"Please use one of {allowed}"
            )
        object.__setattr__(self, "distribution", distribution)
        object.__setattr__(self, "input_axes", _tuple_or_none(self.input_axes))
        object.__setattr__(self, "output_axes", _tuple_or_none(self.output_axes))
        _check_seed(self)

    def __call__(self, key: jax.Array, shape: Shape, dtype: Any = jnp.float32):
        key, shape, dtype = self._key(key), tuple(shape), _as_dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        scale = self.scale
        if self.mode == "fan_in":
            scale /= max(1.0, fan_in)
        elif self.mode == "fan_out":
            scale /= max(1.0, fan_out)
        else:
            scale /= max(1.0, (fan_in + fan_out) / 2.0)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / _TRUNCATED_STDDEV_CORRECTION
            return jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype) * stddev
        if self.distribution == "untruncated_normal":
            return jax.random.normal(key, shape, dtype) * math.sqrt(scale)
        limit = math.sqrt(3.0 * scale)
        return jax.random.uniform(key, shape, dtype, minval=-limit, maxval=limit)


def _fixed(value: Any) -> Any:
    # A VarianceScaling field that a named preset fixes: not a constructor
    # argument and not in its Keras config.
    return dataclasses.field(default=value, init=False, repr=False)


@dataclasses.dataclass(frozen=True)
class GlorotUniform(VarianceScaling):
    """Glorot (Xavier) uniform: `VarianceScaling(1.0, "fan_avg", "uniform")`.

    Args:
        seed: Optional int folded into the key.
        input_axes: Optional axes making up `fan_in`.
        output_axes: Optional axes making up `fan_out`.

    Reference: [Glorot et al., 2010](https://proceedings.mlr.press/v9/glorot10a.html)
    """

    scale: float = _fixed(1.0)
    mode: str = _fixed("fan_avg")
    distribution: str = _fixed("uniform")


@dataclasses.dataclass(frozen=True)
class GlorotNormal(VarianceScaling):
    """Glorot (Xavier) normal: `VarianceScaling(1.0, "fan_avg", "truncated_normal")`.

    Args:
        seed: Optional int folded into the key.
        input_axes: Optional axes making up `fan_in`.
        output_axes: Optional axes making up `fan_out`.

    Reference: [Glorot et al., 2010](https://proceedings.mlr.press/v9/glorot10a.html)
    """

    scale: float = _fixed(1.0)
    mode: str = _fixed("fan_avg")
    distribution: str = _fixed("truncated_normal")


@dataclasses.dataclass(frozen=True)
class LecunNormal(VarianceScaling):
    """LeCun normal: `VarianceScaling(1.0, "fan_in", "truncated_normal")`.

    Args:
        seed: Optional int folded into the key.
        input_axes: Optional axes making up `fan_in`.
        output_axes: Optional axes making up `fan_out`.

    Reference: [Klambauer et al., 2017](https://arxiv.org/abs/1706.02515)
    """

    scale: float = _fixed(1.0)
    mode: str = _fixed("fan_in")
    distribution: str = _fixed("truncated_normal")


@dataclasses.dataclass(frozen=True)
class LecunUniform(VarianceScaling):
    """LeCun uniform: `VarianceScaling(1.0, "fan_in", "uniform")`.

    Args:
        seed: Optional int folded into the key.
        input_axes: Optional axes making up `fan_in`.
        output_axes: Optional axes making up `fan_out`.
    """

    scale: float = _fixed(1.0)
    mode: str = _fixed("fan_in")
    distribution: str = _fixed("uniform")


@dataclasses.dataclass(frozen=True)
class HeNormal(VarianceScaling):
    """He normal: `VarianceScaling(2.0, "fan_in", "truncated_normal")`.

    Args:
        seed: Optional int folded into the key.
        input_axes: Optional axes making up `fan_in`.
        output_axes: Optional axes making up `fan_out`.

    Reference: [He et al., 2015](https://arxiv.org/abs/1502.01852)
    """

    scale: float = _fixed(2.0)
    mode: str = _fixed("fan_in")
    distribution: str = _fixed("truncated_normal")


@dataclasses.dataclass(frozen=True)
class HeUniform(VarianceScaling):
    """He uniform: `VarianceScaling(2.0, "fan_in", "uniform")`.

    Args:
        seed: Optional int folded into the key.
        input_axes: Optional axes making up `fan_in`.
        output_axes: Optional axes making up `fan_out`.

    Reference: [He et al., 2015](https://arxiv.org/abs/1502.01852)
    """

    scale: float = _fixed(2.0)
    mode: str = _fixed("fan_in")
    distribution: str = _fixed("uniform")


@dataclasses.dataclass(frozen=True)
class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix times `gain`, from the QR of a normal matrix.

    Shapes of rank > 2 are flattened to `(prod(shape[:-1]), shape[-1])`, so
    conv kernels get orthogonal output filters.

    Args:
        gain: Multiplicative factor.
        seed: Optional int folded into the key.

    Reference: [Saxe et al., 2014](https://arxiv.org/abs/1312.6120)
    """

    gain: float = 1.0
    seed: int | None = None

    def __post_init__(self):
        _check_seed(self)

    def __call__(self, key: jax.Array, shape: Shape, dtype: Any = jnp.float32):
        shape, dtype = tuple(shape), _as_dtype(dtype)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        num_rows, num_cols = math.prod(shape[:-1]), shape[-1]
        flat_shape = (max(num_cols, num_rows), min(num_cols, num_rows))
        # QR has no half-precision kernel on CPU: factor in float32 at least.
        work_dtype = jnp.promote_types(dtype, jnp.float32)
        a = jax.random.normal(self._key(key), flat_shape, work_dtype)
        q, r = jnp.linalg.qr(a)
        # Fixing the signs by diag(r) makes Q uniform over orthogonal matrices.
        q = q * jnp.sign(jnp.diag(r))[None, :]
        if num_rows < num_cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(dtype)


# ---------------------------------------------------- Keras aliases, lookup

IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal
STFTInitializer = STFT

# Keras also exports every class under its snake_case name.
constant = Constant
zeros = Zeros
ones = Ones
identity = Identity
stft = STFT
random_normal = RandomNormal
truncated_normal = TruncatedNormal
random_uniform = RandomUniform
variance_scaling = VarianceScaling
glorot_normal = GlorotNormal
glorot_uniform = GlorotUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
he_normal = HeNormal
he_uniform = HeUniform
orthogonal = Orthogonal

_CLASSES: tuple[type[Initializer], ...] = (
    Constant,
    Zeros,
    Ones,
    Identity,
    STFT,
    RandomNormal,
    TruncatedNormal,
    RandomUniform,
    VarianceScaling,
    GlorotNormal,
    GlorotUniform,
    LecunNormal,
    LecunUniform,
    HeNormal,
    HeUniform,
    Orthogonal,
)


def _snake_case(name: str) -> str:
    # Same rule as keras.src.utils.naming.to_snake_case.
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


ALL: dict[str, type[Initializer]] = {cls.__name__: cls for cls in _CLASSES}
ALL.update({_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL.update(
    {
        "IdentityInitializer": Identity,
        "OrthogonalInitializer": Orthogonal,
        "STFTInitializer": STFT,
        "normal": RandomNormal,
        "one": Ones,
        "uniform": RandomUniform,
        "zero": Zeros,
    }
)


registry.set_base("initializers", Initializer)
registry.add_all("initializers", ALL)


def deserialize(config: dict[str, Any]) -> Initializer:
    """Builds an initializer from a Keras-style `{"class_name", "config"}` dict.

    Keras's extra `module` and `registered_name` keys are accepted, so
    Keras-saved configs load directly (classes registered with
    `kerax.register` by their registered name).

    Args:
        config: The serialized initializer.

    Returns:
        The initializer instance.

    Raises:
        ValueError: If the class is unknown or the config is invalid.

    Example:
        >>> deserialize({"class_name": "Constant", "config": {"value": 2.0}})
        Constant(value=2.0)
    """
    if not isinstance(config, dict):
        raise ValueError(
            "An initializer config must be a dict with 'class_name' and "
            f"'config' keys. Received: {config!r}"
        )
    return registry.deserialize("initializers", config)


def serialize(initializer: Initializer) -> dict[str, Any]:
    """Returns the Keras-style, JSON-safe config of a kerax initializer.

    Args:
        initializer: An instance of a class from this module (or of a class
            registered with `kerax.register`).

    Returns:
        `{"module": "keras.initializers", "class_name": ..., "config": {...},
        "registered_name": None}`, the layout Keras writes.

    Raises:
        ValueError: If `initializer` is not a kerax initializer.

    Example:
        >>> serialize(Ones())["class_name"]
        'Ones'
    """
    return registry.serialize("initializers", initializer)


def get(identifier: Any) -> InitFn | None:
    """Returns an initializer for a Keras identifier.

    Args:
        identifier: None (returns None, as Keras does), a name such as
            `"glorot_uniform"` or `"GlorotUniform"`, a `{"class_name",
            "config"}` dict, an initializer class (instantiated with its
            defaults) or instance, a plain callable `(key, shape, dtype)`,
            or an array whose values are used as is (shape must match).

    Returns:
        The initializer.

    Raises:
        ValueError: If the identifier cannot be interpreted.

    Example:
        >>> get("he_normal")
        HeNormal(seed=None, input_axes=None, output_axes=None)
    """
    if isinstance(identifier, np.ndarray | np.generic | jax.Array):
        return _from_array(identifier)
    return registry.get("initializers", identifier)


registry.set_get("initializers", get)


def _from_array(value: Any) -> InitFn:
    value = jnp.asarray(value)

    def initialize_fn(key: jax.Array, shape: Shape, dtype: Any = jnp.float32):
        del key  # The values are given.
        if tuple(shape) != value.shape:
            raise ValueError(
                f"Expected `shape` to be {value.shape} for direct tensor as "
                f"initializer. Received shape={tuple(shape)}"
            )
        return value.astype(_as_dtype(dtype))

    return initialize_fn
