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

import jax

from kerax.core.policy import DTypePolicy, dtype_policy, set_dtype_policy

__all__ = [
    "backend",
    "disable_interactive_logging",
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


def epsilon() -> float:
    """Keras's fuzz factor, 1e-7: what kerax's losses and metrics use."""
    return 1e-7


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
