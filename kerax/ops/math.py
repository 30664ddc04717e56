"""Keras's math ops (`keras.ops.math`): segments, top-k, FFTs, special functions.

Example:
    >>> import jax.numpy as jnp
    >>> from kerax import ops
    >>> ops.segment_sum(jnp.array([1.0, 2.0, 3.0]), jnp.array([0, 0, 1]), num_segments=2)
    Array([3., 3.], dtype=float32)
    >>> values, indices = ops.top_k(jnp.array([1.0, 3.0, 2.0]), k=2)
    >>> indices
    Array([1, 2], dtype=int32)
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from kerax.ops._variables import accept_variables as _accept_variables


def _num_segments(num_segments, op: str) -> int:
    if num_segments is None:
        raise ValueError(
            f"{op}: pass `num_segments` (the output length must be static "
            "under jit), e.g. num_segments=int(segment_ids.max()) + 1."
        )
    return num_segments


def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    n = _num_segments(num_segments, "segment_sum")
    return jax.ops.segment_sum(data, segment_ids, n, indices_are_sorted=sorted)


def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    n = _num_segments(num_segments, "segment_max")
    return jax.ops.segment_max(data, segment_ids, n, indices_are_sorted=sorted)


def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    n = _num_segments(num_segments, "segment_min")
    return jax.ops.segment_min(data, segment_ids, n, indices_are_sorted=sorted)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    n = _num_segments(num_segments, "segment_prod")
    return jax.ops.segment_prod(data, segment_ids, n, indices_are_sorted=sorted)


def top_k(x, k, sorted=True):  # noqa: A002 - Keras's name.
    """The `k` largest values along the last axis and their indices (always
    sorted: Keras allows that for sorted=False too)."""
    del sorted  # jax.lax.top_k always sorts, which sorted=False permits.
    return jax.lax.top_k(x, k)


def in_top_k(targets, predictions, k):
    """Whether each target's prediction is among the `k` largest (NaN: never)."""
    at_label = jnp.take_along_axis(predictions, jnp.expand_dims(targets, -1), axis=-1)
    at_label = jnp.where(jnp.isnan(at_label), -jnp.inf, at_label)
    return 1 + jnp.sum(predictions > at_label, axis=-1) <= k


def logsumexp(x, axis=None, keepdims=False):
    return jax.scipy.special.logsumexp(x, axis=axis, keepdims=keepdims)


def rsqrt(x):
    return jax.lax.rsqrt(x)


def erf(x):
    return jax.lax.erf(jnp.asarray(x, jnp.result_type(x, float)))


def erfc(x):
    return jax.lax.erfc(jnp.asarray(x, jnp.result_type(x, float)))


def jvp(fun, primals, tangents, has_aux=False):
    """Forward-mode derivative: `(fun(*primals), J @ tangents)` (and aux)."""
    return jax.jvp(fun, primals, tangents, has_aux=has_aux)


def erfinv(x):
    return jax.scipy.special.erfinv(x)


def logdet(x):
    """`log(det(x))` through `slogdet` (stable for large determinants)."""
    return jnp.linalg.slogdet(x)[1]


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of `sequence_length` every `sequence_stride` along the last axis."""
    *batch, length = x.shape
    flat = jnp.reshape(x, (math.prod(batch), length, 1))
    frames = jax.lax.conv_general_dilated_patches(
        flat,
        (sequence_length,),
        (sequence_stride,),
        "VALID",
        dimension_numbers=("NTC", "OIT", "NTC"),
    )
    return jnp.reshape(frames, (*batch, *frames.shape[-2:]))


def _complex(x):
    if not isinstance(x, tuple | list) or len(x) != 2:
        raise ValueError(
            "FFT ops take a tuple (real, imag) of two arrays, as Keras; "
            f"got {type(x).__name__}."
        )
    real, imag = jnp.asarray(x[0]), jnp.asarray(x[1])
    if real.shape != imag.shape:
        raise ValueError(
            f"FFT: real and imaginary parts differ in shape: {real.shape} vs {imag.shape}."
        )
    return jax.lax.complex(real, imag)


def fft(x):
    out = jnp.fft.fft(_complex(x))
    return jnp.real(out), jnp.imag(out)


def fft2(x):
    out = jnp.fft.fft2(_complex(x))
    return jnp.real(out), jnp.imag(out)


def ifft2(x):
    out = jnp.fft.ifft2(_complex(x))
    return jnp.real(out), jnp.imag(out)


def rfft(x, fft_length=None):
    out = jnp.fft.rfft(x, n=fft_length, axis=-1, norm="backward")
    return jnp.real(out), jnp.imag(out)


def irfft(x, fft_length=None):
    return jnp.fft.irfft(_complex(x), n=fft_length, axis=-1, norm="backward")


def view_as_complex(x):
    """A `(..., 2)` real array as complex numbers."""
    x = jnp.asarray(x)
    if x.shape[-1] != 2:
        raise ValueError(f"view_as_complex: the last axis must be 2; got {x.shape}.")
    return jax.lax.complex(x[..., 0], x[..., 1])


def view_as_real(x):
    """Complex numbers as a `(..., 2)` real array."""
    return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)


def _stft_window(window, sequence_length: int, fft_length: int, dtype, op: str):
    """Keras's window, zero-padded to `fft_length` (centred, as Keras)."""
    if fft_length < sequence_length:
        raise ValueError(
            f"{op}: `fft_length` must be >= `sequence_length`; got "
            f"fft_length={fft_length}, sequence_length={sequence_length}."
        )
    if window is None:
        # Keras: no window is ones over the whole `fft_length` (not padded).
        return jnp.ones((fft_length,), dtype)
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(
                f"{op}: a `window` name must be 'hann' or 'hamming'; got {window!r}."
            )
        import scipy.signal  # Lazily, as only named windows need SciPy (Keras too).

        win = jnp.asarray(scipy.signal.get_window(window, sequence_length), dtype)
    else:
        win = jnp.asarray(window, dtype)
        if win.shape != (sequence_length,):
            raise ValueError(
                f"{op}: `window` must have shape (sequence_length,) = "
                f"({sequence_length},); got {win.shape}."
            )
    left = (fft_length - sequence_length) // 2
    return jnp.pad(win, (left, fft_length - sequence_length - left))


def _positive_int(value, name: str, op: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{op}: `{name}` must be a positive int; got {value!r}.")
    return value


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform along the last axis: `(real, imag)`, each
    `(..., frames, fft_length // 2 + 1)`.

    Each frame of `fft_length` samples, every `sequence_stride`, is
    multiplied by `window` (a name, `"hann"` or `"hamming"` (periodic, as
    SciPy's `get_window`), or an array of `sequence_length`) zero-padded to
    `fft_length` on both sides, and transformed by an FFT. `window=None`
    is Keras's: ones over the whole `fft_length` frame.
    With `center` the signal is first reflect-padded by `fft_length // 2`
    on each side. Keras's numbers: Keras calls `jax.scipy.signal.stft` and
    undoes its `1 / sum(window)` scaling, which leaves this plain windowed
    DFT. Frames are gathered by index (exact on every backend). The
    MelSpectrogram layer uses it.
    """
    op = "stft"
    for name, value in (
        ("sequence_length", sequence_length),
        ("sequence_stride", sequence_stride),
        ("fft_length", fft_length),
    ):
        _positive_int(value, name, op)
    x = jnp.asarray(x)
    if x.dtype not in (jnp.float32, jnp.float64):
        raise TypeError(f"{op}: `x` must be float32 or float64; got {x.dtype}.")
    win = _stft_window(window, sequence_length, fft_length, x.dtype, op)
    if center:
        pad = fft_length // 2
        x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode="reflect")
    if x.shape[-1] < fft_length:
        raise ValueError(
            f"{op}: the signal ({x.shape[-1]} samples"
            f"{' after padding' if center else ''}) is shorter than "
            f"fft_length={fft_length}."
        )
    num_frames = 1 + (x.shape[-1] - fft_length) // sequence_stride
    starts = np.arange(num_frames)[:, None] * sequence_stride
    frames = jnp.take(x, starts + np.arange(fft_length), axis=-1)
    win = jnp.reshape(win, (1,) * (frames.ndim - 1) + (fft_length,))
    spectrum = jnp.fft.rfft(frames * win, n=fft_length, axis=-1)
    return jnp.real(spectrum), jnp.imag(spectrum)


def istft(
    x,
    sequence_length,
    sequence_stride,
    fft_length,
    length=None,
    window="hann",
    center=True,
):
    """The inverse of `stft`: `x` is `(real, imag)` of `(..., frames, freq)`.

    Keras's: `jax.scipy.signal.istft` (windowed overlap-add), rescaled by
    `sum(window)` (by `sequence_stride` with no window), then trimmed to
    `length` samples (after the `fft_length // 2` of `center` padding).
    """
    op = "istft"
    for name, value in (
        ("sequence_length", sequence_length),
        ("sequence_stride", sequence_stride),
        ("fft_length", fft_length),
    ):
        _positive_int(value, name, op)
    x = _complex(x)
    if x.ndim < 2:
        raise ValueError(
            f"{op}: `x` must have at least 2 axes (frames, freq); got shape {x.shape}."
        )
    if x.shape[-1] != fft_length // 2 + 1:
        raise ValueError(
            f"{op}: `x` must have fft_length // 2 + 1 = {fft_length // 2 + 1} "
            f"frequency bins on its last axis; got shape {x.shape}."
        )
    dtype = jnp.real(x).dtype
    win = _stft_window(window, sequence_length, fft_length, dtype, op)
    out = jax.scipy.signal.istft(
        x,
        fs=1.0,
        window=win,
        nperseg=fft_length,
        noverlap=fft_length - sequence_stride,
        nfft=fft_length,
        boundary=False,
        time_axis=-2,
        freq_axis=-1,
    )[-1]
    out = out / (jnp.sum(win) if window is not None else sequence_stride)
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = -(fft_length // 2)
    else:
        end = fft_length + sequence_stride * (x.shape[-2] - 1)
    return out[..., start:end]


__all__ = sorted(
    name
    for name, value in list(globals().items())
    if not name.startswith("_")
    and callable(value)
    and name not in ("annotations", "jax", "jnp", "math", "np")
)

# Inside a Keras-style `call`, variables are accepted where arrays are.
_accept_variables(globals(), __all__)
