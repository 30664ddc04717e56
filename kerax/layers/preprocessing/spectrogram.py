"""STFTSpectrogram and MelSpectrogram: audio signals to spectrograms, in JAX.

`STFTSpectrogram` computes the short-time Fourier transform as Keras does,
with a strided 1-D convolution whose kernels (`real_kernel`, `imag_kernel`)
are the windowed DFT basis: weights that can be trained. `MelSpectrogram`
has no weights: a framed FFT, a mel filter bank and a decibel scale, as
Keras's (TensorFlow-free) implementation on its JAX backend.
"""

from __future__ import annotations

import math
import warnings

import jax.numpy as jnp
import numpy as np
from jax import lax

from kerax import initializers
from kerax.config import epsilon
from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.layers._args import data_format_field, is_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._data_ops import _to_config_value
from kerax.layers.preprocessing._fields import ARG_DOCS
from kerax.ops.math import stft  # Keras's `ops.stft`, which the layer calls.

_STFT_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")

# Keras's (HTK's) mel scale: mel(f) = 1127 * ln(1 + f / 700).
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _window(value):
    """A window name (checked now), a sequence of values (a tuple), or None."""
    if value is None or isinstance(value, str):
        if isinstance(value, str):
            _scipy_window(value, 1)  # Fails early on an unknown name, as Keras does.
        return value
    window = _to_config_value(value)
    if not isinstance(window, tuple) or not all(
        isinstance(v, int | float) for v in window
    ):
        raise ValueError(
            f"expected a window name or a 1-D sequence of numbers, got {value!r}."
        )
    return tuple(float(v) for v in window)


def _scipy_window(name: str, length: int, periodic: bool = True) -> np.ndarray:
    # SciPy is imported lazily: only named windows need it (Keras uses it too).
    import scipy.signal

    return scipy.signal.get_window(name, length, fftbins=periodic)


def _check_positive_int(layer, name: str, value) -> None:
    if not is_int(value) or value < 1:
        raise ValueError(
            f"{layer.describe()}: `{name}` must be a positive integer. Received: {name}={value!r}"
        )


# ------------------------------------------------------------ STFTSpectrogram
STFT_DOCS = {
    **ARG_DOCS,
    "mode": 'String, the output type of the spectrogram. Can be one of `"log"`, '
    '`"magnitude"`, `"psd"`, `"real"`, `"imag"`, `"angle"`, `"stft"`. Defaults to '
    '`"log"`.',
    "frame_length": "Integer, the length of each frame (window) for STFT in samples. "
    "Defaults to 256.",
    "frame_step": "Integer, the step size (hop length) between consecutive frames. If "
    "not provided, defaults to half the frame_length (`frame_length // 2`).",
    "fft_length": "Integer, the size of frequency bins used in the Fast-Fourier "
    "Transform (FFT) to apply to each frame. Should be greater than or equal to "
    "`frame_length`. Recommended to be a power of two. Defaults to the smallest power "
    "of two that is greater than or equal to `frame_length`.",
    "window": "(String or array_like), the windowing function to apply to each frame. "
    'Can be `"hann"` (default), `"hamming"`, or a custom window provided as an '
    "array_like (any `scipy.signal.get_window` name works).",
    "periodic": "Boolean, if True, the window function will be treated as periodic. "
    "Defaults to `False`.",
    "scaling": 'String, type of scaling applied to the window. Can be `"density"`, '
    '`"spectrum"`, or None. Default is `"density"`.',
    "padding": 'String, padding strategy. Can be `"valid"` or `"same"`. Defaults to '
    '`"valid"`.',
    "expand_dims": "Boolean, if True, will expand the output into spectrograms into "
    "two dimensions to be compatible with image models. Defaults to `False`.",
    "data_format": 'String, either `"channels_last"` (inputs `(batch, time, '
    'channels)`) or `"channels_first"` (inputs `(batch, channels, time)`). `None` '
    '(kerax has no global setting) means `"channels_last"`.',
}


@document_args(STFT_DOCS)
class STFTSpectrogram(Layer):
    """Short-time Fourier transform of 1-D signals, like `keras.layers.STFTSpectrogram`.

    Each channel of `(batch, time, channels)` inputs is convolved, with
    stride `frame_step`, by the windowed DFT kernels `real_kernel` and
    `imag_kernel` (shape `(frame_length, 1, fft_length // 2 + 1)`, made by
    `kerax.initializers.STFT`; `"real"` mode has only the first, `"imag"`
    only the second). They are params: trainable, or frozen with
    `trainable=False` as for any kerax layer. Outputs are
    `(batch, frames, channels * freq)` (`(batch, frames, freq, channels)`
    with `expand_dims`), where `freq = fft_length // 2 + 1` (twice that in
    `"stft"` mode: real parts, then imaginary parts).

    Example:
        >>> layer = kerax.layers.STFTSpectrogram(frame_length=8, fft_length=8)
        >>> params, state = layer.init(jax.random.key(0), kerax.spec((None, 32, 1)))
        >>> layer.apply(params, state, jnp.ones((2, 32, 1)))[0].shape
        (2, 7, 5)
    """

    mode: str = "log"
    frame_length: int = 256
    frame_step: int | None = None
    fft_length: int | None = None
    window: str | tuple[float, ...] | None = field("hann", converter=_window)
    periodic: bool = False
    scaling: str | None = "density"
    padding: str = "valid"
    expand_dims: bool = False
    data_format: str = data_format_field()

    def __post_init__(self):
        super().__post_init__()
        _check_positive_int(self, "frame_length", self.frame_length)
        if self.frame_step is not None and (
            not is_int(self.frame_step)
            or self.frame_step > self.frame_length
            or self.frame_step < 1
        ):
            raise ValueError(
                f"{self.describe()}: `frame_step` should be a positive integer not greater than "
                f"`frame_length`. Received frame_step={self.frame_step!r}, "
                f"frame_length={self.frame_length}"
            )
        if self.fft_length is not None:
            if not is_int(self.fft_length) or self.fft_length < self.frame_length:
                raise ValueError(
                    f"{self.describe()}: `fft_length` should be an integer not less than "
                    f"`frame_length`. Received fft_length={self.fft_length!r}, "
                    f"frame_length={self.frame_length}"
                )
            if self.fft_length & (self.fft_length - 1):
                warnings.warn(
                    f"{self.describe()}: `fft_length` is recommended to be a power of two. "
                    f"Received fft_length={self.fft_length}",
                    stacklevel=2,
                )
        if self.mode not in _STFT_MODES:
            raise ValueError(
                f"{self.describe()}: Output mode is invalid, it must be one of "
                f"{', '.join(_STFT_MODES)}. Received: mode={self.mode!r}"
            )
        if self.scaling not in (None, "density", "spectrum"):
            raise ValueError(
                f"{self.describe()}: Scaling is invalid, it must be `None`, 'density' or "
                f"'spectrum'. Received scaling={self.scaling!r}"
            )
        if self.padding not in ("valid", "same"):
            raise ValueError(
                f"{self.describe()}: Padding is invalid, it should be 'valid', 'same'. "
                f"Received: padding={self.padding!r}"
            )
        if self._frame_step < 1:
            raise ValueError(
                f"{self.describe()}: the default `frame_step` (frame_length // 2) is 0 for "
                f"frame_length={self.frame_length}; pass frame_step=1."
            )
        if isinstance(self.window, tuple) and len(self.window) != self.frame_length:
            raise ValueError(
                f"{self.describe()}: The shape of `window` must be equal to [frame_length]. "
                f"Received: window of length {len(self.window)}, frame_length={self.frame_length}"
            )

    @property
    def _frame_step(self) -> int:
        return self.frame_step or self.frame_length // 2

    @property
    def _fft_length(self) -> int:
        return self.fft_length or 2 ** math.ceil(math.log2(self.frame_length))

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=3)

    def build(self, key, spec):
        del spec
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        params = {}
        for side in ("real", "imag"):
            if self.mode != ("imag" if side == "real" else "real"):
                init = initializers.STFT(side, self.window, self.scaling, self.periodic)
                params[f"{side}_kernel"] = init(key, shape, jnp.float32)
        return params, {}

    def call(self, params, state, x, *, key, training):
        del key, training
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise TypeError(
                f"{self.describe()}: Invalid input type. Expected `float16`, `float32` or "
                f"`float64`. Received: input type={x.dtype}"
            )
        if self.data_format == "channels_last":
            x = jnp.swapaxes(x, 1, 2)
        channels, time = x.shape[1], x.shape[2]
        signal = jnp.reshape(x, (-1, time, 1))

        def transform(kernel):  # -> (batch, channels, frames, freq)
            y = lax.conv_general_dilated(
                signal,
                kernel.astype(x.dtype),
                window_strides=(self._frame_step,),
                padding=self.padding.upper(),
                dimension_numbers=("NWC", "WIO", "NWC"),
            )
            return jnp.reshape(y, (-1, channels, *y.shape[1:]))

        real = transform(params["real_kernel"]) if "real_kernel" in params else None
        imag = transform(params["imag_kernel"]) if "imag_kernel" in params else None
        if self.mode == "real":
            y = real
        elif self.mode == "imag":
            y = imag
        elif self.mode == "angle":
            y = jnp.arctan2(imag, real)
        elif self.mode == "stft":
            y = jnp.concatenate([real, imag], axis=-1)
        else:
            power = jnp.square(real) + jnp.square(imag)
            if self.mode == "psd":
                # One-sided density: every bin but DC and Nyquist counts twice.
                freq = power.shape[-1]
                twice = np.asarray([1.0] + [2.0] * (freq - 2) + [1.0][: freq - 1])
                y = power * jnp.asarray(twice.reshape(1, 1, 1, freq), power.dtype)
            else:
                y = jnp.sqrt(jnp.maximum(power, epsilon()))
                if self.mode == "log":
                    y = jnp.log(jnp.maximum(y, epsilon()))
        return self._layout(y), state

    def _layout(self, y):
        """`(batch, channels, frames, freq)` as Keras lays out its outputs."""
        channels, frames, freq = y.shape[1:]
        if self.data_format == "channels_last":
            if self.expand_dims:
                return jnp.transpose(y, (0, 2, 3, 1))
            y = jnp.transpose(y, (0, 2, 1, 3))  # Channel-major features, as Keras.
            return jnp.reshape(y, (-1, frames, channels * freq))
        if self.expand_dims:
            return y
        y = jnp.transpose(y, (0, 1, 3, 2))
        return jnp.reshape(y, (-1, channels * freq, frames))


# ------------------------------------------------------------- MelSpectrogram
MEL_DOCS = {
    **ARG_DOCS,
    "fft_length": "Integer, size of the FFT window.",
    "sequence_stride": "Integer, number of samples between successive STFT columns.",
    "sequence_length": "Integer, size of the window used for applying `window` to each "
    "audio frame. If `None`, defaults to `fft_length`.",
    "window": 'String, name of the window function to use. Available values are `"hann"` '
    'and `"hamming"`. If `window` is a tensor, it will be used directly as the window '
    "and its length must be `sequence_length`. If `window` is `None`, no windowing is "
    'used. Defaults to `"hann"`.',
    "sampling_rate": "Integer, sample rate of the input signal.",
    "num_mel_bins": "Integer, number of mel bins to generate.",
    "min_freq": "Float, minimum frequency of the mel bins.",
    "max_freq": "Float, maximum frequency of the mel bins. If `None`, defaults to "
    "`sampling_rate / 2`.",
    "power_to_db": "If True, convert the power spectrogram to decibels.",
    "top_db": "Float, minimum negative cut-off `max(10 * log10(S)) - top_db`.",
    "mag_exp": "Float, exponent for the magnitude spectrogram. 1 for magnitude, 2 for "
    "power, etc. Default is 2.",
    "min_power": "Float, minimum value for power and `ref_power`.",
    "ref_power": "Float, the power is scaled relative to it `10 * log10(S / ref_power)`.",
}


@document_args(MEL_DOCS)
class MelSpectrogram(Layer):
    """Mel spectrograms of audio signals, like `keras.layers.MelSpectrogram`.

    Inputs are `(batch, time)` (or `(time,)`) signals; outputs
    `(batch, num_mel_bins, frames)` with `frames = 1 + time // sequence_stride`
    (the signal is reflect-padded by `fft_length // 2` on each side). The
    power spectrum goes through Keras's HTK mel filter bank
    (`linear_to_mel_weight_matrix`) and, with `power_to_db`, to decibels
    clipped at `top_db` below the maximum, a maximum over the whole batch,
    as in Keras. No weights.

    Example:
        >>> layer = kerax.layers.MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=8)
        >>> layer.apply({}, {}, jnp.ones((2, 128)))[0].shape
        (2, 8, 9)
    """

    fft_length: int = 2048
    sequence_stride: int = 512
    sequence_length: int | None = None
    window: str | tuple[float, ...] | None = field("hann", converter=_window)
    sampling_rate: int = 16000
    num_mel_bins: int = 128
    min_freq: float = 20.0
    max_freq: float | None = None
    power_to_db: bool = True
    top_db: float = 80.0
    mag_exp: float = 2.0
    min_power: float = 1e-10
    ref_power: float = 1.0

    autocast = False  # Keras computes in float32 (or float64) whatever the policy.

    def __post_init__(self):
        super().__post_init__()
        for name in ("fft_length", "sequence_stride", "num_mel_bins"):
            _check_positive_int(self, name, getattr(self, name))
        if self.sequence_length is not None:
            _check_positive_int(self, "sequence_length", self.sequence_length)
        if self.fft_length < self._sequence_length:
            raise ValueError(
                f"{self.describe()}: `fft_length` must be greater than or equal to "
                f"`sequence_length`. Received: `sequence_length`={self._sequence_length}, "
                f"`fft_length`={self.fft_length}."
            )
        if isinstance(self.window, str) and self.window not in ("hann", "hamming"):
            raise ValueError(
                f"{self.describe()}: If a string is passed to `window`, it must be one of "
                f'`"hann"`, `"hamming"`. Received: window={self.window!r}'
            )
        if isinstance(self.window, tuple) and len(self.window) != self._sequence_length:
            raise ValueError(
                f"{self.describe()}: The shape of `window` must be equal to [sequence_length]. "
                f"Received: window of length {len(self.window)}, "
                f"sequence_length={self._sequence_length}"
            )

    @property
    def _sequence_length(self) -> int:
        return self.sequence_length or self.fft_length

    @property
    def _max_freq(self) -> float:
        return self.max_freq or int(self.sampling_rate / 2)

    def check_input(self, spec):
        if len(spec.shape) not in (1, 2):
            raise ValueError(
                f"{self.describe()} expected inputs of shape (batch, time) or (time,), got "
                f"rank {len(spec.shape)}."
            )

    def call(self, params, state, x, *, key, training):
        del params, key, training
        out_dtype = self.policy.compute_dtype
        dtype = out_dtype if out_dtype in (jnp.float32, jnp.float64) else jnp.float32
        real, imag = stft(
            x.astype(dtype),
            self._sequence_length,
            self.sequence_stride,
            self.fft_length,
            window=self.window,
            center=True,
        )
        spec = jnp.power(jnp.sqrt(jnp.square(real) + jnp.square(imag)), self.mag_exp)
        matrix = self.linear_to_mel_weight_matrix(
            num_mel_bins=self.num_mel_bins,
            num_spectrogram_bins=spec.shape[-1],
            sampling_rate=self.sampling_rate,
            lower_edge_hertz=self.min_freq,
            upper_edge_hertz=self._max_freq,
            dtype=dtype,
        )
        # A fixed filter bank: full precision (the default may be TF32/bf16 on accelerators).
        mel = jnp.tensordot(
            spec, jnp.asarray(matrix), axes=1, precision=lax.Precision.HIGHEST
        )
        if self.power_to_db:
            mel = self._dbscale(mel)
        return jnp.swapaxes(mel, -1, -2).astype(out_dtype), state

    def _dbscale(self, x):
        log_spec = 10.0 * jnp.log10(jnp.maximum(x, self.min_power))
        ref = jnp.abs(jnp.asarray(self.ref_power, x.dtype))
        log_spec = log_spec - 10.0 * jnp.log10(jnp.maximum(ref, self.min_power))
        return jnp.maximum(log_spec, jnp.max(log_spec) - self.top_db)

    @staticmethod
    def _hertz_to_mel(frequencies_hertz):
        return _MEL_HIGH_FREQUENCY_Q * np.log(
            1.0 + frequencies_hertz / _MEL_BREAK_FREQUENCY_HERTZ
        )

    def linear_to_mel_weight_matrix(
        self,
        num_mel_bins: int = 20,
        num_spectrogram_bins: int = 129,
        sampling_rate: float = 8000,
        lower_edge_hertz: float = 125.0,
        upper_edge_hertz: float = 3800.0,
        dtype="float32",
    ) -> np.ndarray:
        """Keras's matrix warping a linear spectrogram to the mel scale (HTK triangles, peak 1).

        Returns `(num_spectrogram_bins, num_mel_bins)`; the DC bin's row is
        zero. `spectrogram @ matrix` gives the mel spectrogram. Computed in
        NumPy, in `dtype` as Keras does, so that under `jit` it is a constant.
        """
        dtype = np.dtype(dtype)
        sampling_rate = np.asarray(sampling_rate, dtype)
        lower_edge_hertz = np.asarray(lower_edge_hertz, dtype)
        upper_edge_hertz = np.asarray(upper_edge_hertz, dtype)
        # HTK excludes the spectrogram's DC bin.
        linear_frequencies = np.linspace(
            0.0, sampling_rate / 2.0, num_spectrogram_bins, dtype=dtype
        )[1:]
        spectrogram_bins_mel = self._hertz_to_mel(linear_frequencies)[:, None]
        # num_mel_bins triangles (lower edge, center, upper edge): each center is
        # an edge of its neighbours, so num_mel_bins + 2 points split the range.
        edges = np.linspace(
            self._hertz_to_mel(lower_edge_hertz),
            self._hertz_to_mel(upper_edge_hertz),
            num_mel_bins + 2,
            dtype=dtype,
        )
        lower_edge_mel = edges[None, :-2]
        center_mel = edges[None, 1:-1]
        upper_edge_mel = edges[None, 2:]
        # Line segments are linear in the mel domain, not in hertz.
        lower_slopes = (spectrogram_bins_mel - lower_edge_mel) / (
            center_mel - lower_edge_mel
        )
        upper_slopes = (upper_edge_mel - spectrogram_bins_mel) / (
            upper_edge_mel - center_mel
        )
        weights = np.maximum(0.0, np.minimum(lower_slopes, upper_slopes))
        return np.pad(weights, [(1, 0), (0, 0)]).astype(dtype)
