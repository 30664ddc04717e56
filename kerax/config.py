"""Keras's `keras.config`: the global settings kerax has, under Keras's names.

kerax keeps one global setting, the dtype policy; `floatx` is its variable
dtype, as in Keras. Keras settings with no kerax counterpart raise an error
that says what to do instead.

Example:
    >>> kerax.config.backend(), kerax.config.floatx()
    ('jax', 'float32')
    >>> kerax.config.set_floatx("bfloat16")
    >>> kerax.layers.Dense(2).policy.compute_dtype
    dtype(bfloat16)
    >>> kerax.config.set_floatx("float32")
"""

from __future__ import annotations

import warnings

import jax

from kerax.core.policy import DTypePolicy, dtype_policy, set_dtype_policy

__all__ = [
    "backend",
    "disable_flash_attention",
    "disable_interactive_logging",
    "disable_traceback_filtering",
    "enable_flash_attention",
    "enable_traceback_filtering",
    "is_flash_attention_enabled",
    "is_nnx_enabled",
    "is_traceback_filtering_enabled",
    "max_epochs",
    "max_steps_per_epoch",
    "set_backend",
    "set_epsilon",
    "set_max_epochs",
    "set_max_steps_per_epoch",
    "dtype_policy",
    "enable_interactive_logging",
    "enable_unsafe_deserialization",
    "epsilon",
    "floatx",
    "image_data_format",
    "is_interactive_logging_enabled",
    "set_dtype_policy",
    "set_floatx",
    "set_image_data_format",
]

_FLOATS = ("float16", "bfloat16", "float32", "float64")


def backend() -> str:
    """The backend: always `"jax"`."""
    return "jax"


def floatx() -> str:
    """The default float type: the global dtype policy's variable dtype."""
    return dtype_policy().variable_dtype.name


def set_floatx(value: str) -> None:
    """Keras's `set_floatx`: layers that set no `dtype` compute and keep weights in `value`.

    The same as `set_dtype_policy(value)`; set it before building models.
    """
    name = getattr(value, "name", value)
    if name not in _FLOATS:
        raise ValueError(
            f"kerax.config.set_floatx: expected one of {list(_FLOATS)}, got {value!r}. "
            "For mixed precision use kerax.config.set_dtype_policy('mixed_bfloat16')."
        )
    if name == "float64" and not jax.config.jax_enable_x64:
        raise ValueError(
            "kerax.config.set_floatx('float64') needs 64-bit JAX: call "
            "jax.config.update('jax_enable_x64', True) first."
        )
    set_dtype_policy(DTypePolicy(name))


_KERAS_EPSILON = 1e-7
_epsilon = _KERAS_EPSILON


def epsilon() -> float:
    """Keras's fuzz factor: 1e-7 unless `set_epsilon` changed it."""
    return _epsilon


def set_epsilon(value: float) -> None:
    """Keras's `set_epsilon`: the value `epsilon()` returns.

    kerax's built-in losses, metrics, constraints, regularizers and
    normalization layers keep Keras's default 1e-7 as a compile-time constant
    (so jitted steps never depend on a global); a value other than 1e-7
    warns that only code calling `epsilon()` sees it.
    """
    global _epsilon
    value = float(value)
    if not value > 0:
        raise ValueError(
            f"kerax.config.set_epsilon: expected a positive float, got {value!r}."
        )
    if value != _KERAS_EPSILON:
        warnings.warn(
            f"kerax.config.set_epsilon({value}): epsilon() now returns {value}, but kerax's "
            "built-in losses, metrics, constraints, regularizers and normalization layers "
            "keep Keras's default 1e-7. Pass epsilon to your own code explicitly "
            "where it matters.",
            stacklevel=2,
        )
    _epsilon = value


_max_epochs = None
_max_steps_per_epoch = None


def max_epochs() -> int | None:
    """The cap on `Trainer.fit`'s epochs set by `set_max_epochs`, or None."""
    return _max_epochs


def set_max_epochs(max_epochs: int | None) -> None:
    """Keras's `set_max_epochs`: `Trainer.fit` runs at most this many epochs
    whatever its `epochs` says (None: no cap). For quick test runs."""
    global _max_epochs
    _max_epochs = _check_cap("set_max_epochs", max_epochs)


def max_steps_per_epoch() -> int | None:
    """The cap on steps per epoch set by `set_max_steps_per_epoch`, or None."""
    return _max_steps_per_epoch


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    """Keras's `set_max_steps_per_epoch`: each epoch of `Trainer.fit` runs at
    most this many steps (None: no cap)."""
    global _max_steps_per_epoch
    _max_steps_per_epoch = _check_cap("set_max_steps_per_epoch", max_steps_per_epoch)


def _check_cap(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"kerax.config.{name}: expected a positive int or None, got {value!r}."
        )
    return value


def enable_traceback_filtering() -> None:
    """Keras's traceback filtering is JAX's: `jax_traceback_filtering="auto"`."""
    jax.config.update("jax_traceback_filtering", "auto")


def disable_traceback_filtering() -> None:
    """Full tracebacks, JAX internals included (`jax_traceback_filtering="off"`)."""
    jax.config.update("jax_traceback_filtering", "off")


def is_traceback_filtering_enabled() -> bool:
    """Whether JAX hides its internal frames from tracebacks."""
    return jax.config.jax_traceback_filtering != "off"


_flash_attention = None


def enable_flash_attention() -> None:
    """Keras's flag, recorded for `is_flash_attention_enabled`.

    It changes nothing in kerax: attention layers already call
    `jax.nn.dot_product_attention` where Keras would, and JAX picks the
    fastest kernel (cuDNN flash attention on GPUs that have it)."""
    global _flash_attention
    _flash_attention = True


def disable_flash_attention() -> None:
    """Keras's flag, recorded for `is_flash_attention_enabled`; kerax's
    attention is unchanged (see `enable_flash_attention`)."""
    global _flash_attention
    _flash_attention = False


def is_flash_attention_enabled() -> bool | None:
    """None (the default: the backend decides), or what
    `enable_flash_attention` / `disable_flash_attention` set, as in Keras."""
    return _flash_attention


def is_nnx_enabled() -> bool:
    """False: kerax layers are not Flax NNX modules."""
    return False


def set_backend(backend: str) -> None:
    """Keras's `set_backend`: kerax is JAX only, so only `"jax"` is accepted."""
    if backend != "jax":
        raise ValueError(
            f"kerax.config.set_backend({backend!r}): kerax runs on JAX only. For another "
            "backend use Keras itself; kerax models interoperate through kerax.interop."
        )


_DATA_FORMATS = ("channels_last", "channels_first")
_image_data_format = "channels_last"


def image_data_format() -> str:
    """The default `data_format` of layers and image ops: `"channels_last"`
    unless `set_image_data_format` changed it."""
    return _image_data_format


def set_image_data_format(data_format: str) -> None:
    """Keras's `set_image_data_format`: the `data_format` that layers and
    image ops built afterwards take when theirs is None.

    A layer stores its resolved format when it is made (its config names
    it), so models already built keep theirs.
    """
    global _image_data_format
    value = str(data_format).lower()
    if value not in _DATA_FORMATS:
        raise ValueError(
            f"kerax.config.set_image_data_format: expected 'channels_last' or "
            f"'channels_first', got {data_format!r}."
        )
    _image_data_format = value


_interactive_logging = True


def enable_interactive_logging() -> None:
    """Messages and progress bars go to standard output (the default)."""
    global _interactive_logging
    _interactive_logging = True


def disable_interactive_logging() -> None:
    """Messages go to `absl.logging.info`, one record each, and progress
    bars draw no bar (see `kerax.utils.io_utils.print_msg`)."""
    global _interactive_logging
    _interactive_logging = False


def is_interactive_logging_enabled() -> bool:
    """True while messages go to standard output."""
    return _interactive_logging


def enable_unsafe_deserialization() -> None:
    """Not in kerax: loading never runs code from a file, so there is nothing to enable."""
    raise RuntimeError(
        "kerax never deserializes code (Keras's lambdas) from a file, so there is no unsafe mode "
        "to enable. Write the function in your program and register it, "
        "`kerax.register(fn, name=...)`; a Lambda layer that names it then loads."
    )
