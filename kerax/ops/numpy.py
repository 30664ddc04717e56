"""Keras's NumPy-like ops (`keras.ops.numpy`) over `jax.numpy`.

Keras's ops are already pure on its JAX backend, and most are `jax.numpy`
functions under another argument name. So this module is thin on purpose: an
op whose Keras signature and behaviour equal `jax.numpy`'s is the `jax.numpy`
function itself; the others are small wrappers that take Keras's argument
names (`x1`/`x2`, `x_min`/`x_max`, `newshape`, ...) and keep Keras's dtype
rules where they differ (float32 by default for creation ops, float results
for integer means and variances, int32 counts).

Example:
    >>> from kerax import ops
    >>> ops.clip(ops.arange(5), x_min=1, x_max=3)
    Array([1, 1, 2, 3, 3], dtype=int32)
    >>> ops.mean(ops.array([1, 2]))
    Array(1.5, dtype=float32)
"""

from __future__ import annotations

import jax.numpy as jnp

from kerax.ops._variables import accept_variables as _accept_variables

# The float type Keras uses when none is given (Keras's `floatx()`).
FLOATX = jnp.float32


def _float_of(dtype) -> jnp.dtype:
    """Keras's result dtype for float-valued reductions of `dtype` inputs."""
    return jnp.result_type(dtype, jnp.float32)


# Ops whose Keras signature and semantics are exactly jax.numpy's.
# Keras's `abs` and `conj` are its `absolute` and `conjugate` (one op each).
abs = jnp.absolute  # noqa: A001 - Keras's name.
absolute = jnp.absolute
angle = jnp.angle
arccos = jnp.arccos
arccosh = jnp.arccosh
arcsin = jnp.arcsin
arcsinh = jnp.arcsinh
arctan = jnp.arctan
arctan2 = jnp.arctan2
arctanh = jnp.arctanh
array_split = jnp.array_split
bartlett = jnp.bartlett
bitwise_invert = jnp.bitwise_invert
bitwise_left_shift = jnp.bitwise_left_shift
bitwise_not = jnp.bitwise_not
blackman = jnp.blackman
broadcast_to = jnp.broadcast_to
cbrt = jnp.cbrt
ceil = jnp.ceil
conj = jnp.conjugate
conjugate = jnp.conjugate
copy = jnp.copy
corrcoef = jnp.corrcoef
cos = jnp.cos
cosh = jnp.cosh
cumprod = jnp.cumprod
cumsum = jnp.cumsum
deg2rad = jnp.deg2rad
diag = jnp.diag
diagflat = jnp.diagflat
diagonal = jnp.diagonal
diff = jnp.diff
digitize = jnp.digitize
divide = jnp.divide
dsplit = jnp.dsplit
dstack = jnp.dstack
exp = jnp.exp
exp2 = jnp.exp2
expand_dims = jnp.expand_dims
expm1 = jnp.expm1
fabs = jnp.fabs
flip = jnp.flip
fliplr = jnp.fliplr
flipud = jnp.flipud
floor = jnp.floor
floor_divide = jnp.floor_divide
fmax = jnp.fmax
fmin = jnp.fmin
fmod = jnp.fmod
gcd = jnp.gcd
geomspace = jnp.geomspace
hamming = jnp.hamming
hanning = jnp.hanning
heaviside = jnp.heaviside
histogram = jnp.histogram
hsplit = jnp.hsplit
hstack = jnp.hstack
hypot = jnp.hypot
i0 = jnp.i0
imag = jnp.imag
isfinite = jnp.isfinite
isinf = jnp.isinf
isnan = jnp.isnan
isneginf = jnp.isneginf
isposinf = jnp.isposinf
isreal = jnp.isreal
kaiser = jnp.kaiser
lcm = jnp.lcm
ldexp = jnp.ldexp
left_shift = jnp.left_shift
linspace = jnp.linspace
log = jnp.log
log10 = jnp.log10
log1p = jnp.log1p
log2 = jnp.log2
logical_not = jnp.logical_not
logspace = jnp.logspace
mod = jnp.mod
moveaxis = jnp.moveaxis
nancumprod = jnp.nancumprod
nancumsum = jnp.nancumsum
ndim = jnp.ndim
nonzero = jnp.nonzero
ones_like = jnp.ones_like
power = jnp.power
rad2deg = jnp.rad2deg
ravel = jnp.ravel
real = jnp.real
reciprocal = jnp.reciprocal
repeat = jnp.repeat
roll = jnp.roll
rot90 = jnp.rot90
select = jnp.select
sign = jnp.sign
signbit = jnp.signbit
sin = jnp.sin
sinc = jnp.sinc
sinh = jnp.sinh
size = jnp.size
sort = jnp.sort
split = jnp.split
sqrt = jnp.sqrt
square = jnp.square
squeeze = jnp.squeeze
stack = jnp.stack
swapaxes = jnp.swapaxes
take = jnp.take
take_along_axis = jnp.take_along_axis
tan = jnp.tan
tanh = jnp.tanh
trace = jnp.trace
transpose = jnp.transpose
trapezoid = jnp.trapezoid
tril = jnp.tril
triu = jnp.triu
true_divide = jnp.true_divide
trunc = jnp.trunc
unravel_index = jnp.unravel_index
vander = jnp.vander
vectorize = jnp.vectorize
vsplit = jnp.vsplit
vstack = jnp.vstack
zeros_like = jnp.zeros_like
full_like = jnp.full_like
empty_like = jnp.empty_like
concatenate = jnp.concatenate
meshgrid = jnp.meshgrid
nan_to_num = jnp.nan_to_num


def negative(x):  # jnp.negative is a ufunc object: no signature to read.
    return jnp.negative(x)


# Binary ops: Keras names the operands x1, x2.
def add(x1, x2):
    return jnp.add(x1, x2)


def subtract(x1, x2):
    return jnp.subtract(x1, x2)


def multiply(x1, x2):
    return jnp.multiply(x1, x2)


def maximum(x1, x2):
    return jnp.maximum(x1, x2)


def minimum(x1, x2):
    return jnp.minimum(x1, x2)


def equal(x1, x2):
    return jnp.equal(x1, x2)


def not_equal(x1, x2):
    return jnp.not_equal(x1, x2)


def greater(x1, x2):
    return jnp.greater(x1, x2)


def greater_equal(x1, x2):
    return jnp.greater_equal(x1, x2)


def less(x1, x2):
    return jnp.less(x1, x2)


def less_equal(x1, x2):
    return jnp.less_equal(x1, x2)


def logical_and(x1, x2):
    return jnp.logical_and(x1, x2)


def logical_or(x1, x2):
    return jnp.logical_or(x1, x2)


def logical_xor(x1, x2):
    return jnp.logical_xor(x1, x2)


def logaddexp(x1, x2):
    return jnp.logaddexp(x1, x2)


def logaddexp2(x1, x2):
    return jnp.logaddexp2(x1, x2)


def nextafter(x1, x2):
    return jnp.nextafter(x1, x2)


def kron(x1, x2):
    return jnp.kron(x1, x2)


def outer(x1, x2):
    return jnp.outer(x1, x2)


def inner(x1, x2):
    return jnp.inner(x1, x2)


def vdot(x1, x2):
    return jnp.vdot(x1, x2)


def dot(x1, x2):
    return jnp.dot(x1, x2)


def matmul(x1, x2):
    return jnp.matmul(x1, x2)


def tensordot(x1, x2, axes=2):
    return jnp.tensordot(x1, x2, axes=axes)


def einsum(subscripts, *operands, **kwargs):
    return jnp.einsum(subscripts, *operands, **kwargs)


def append(x1, x2, axis=None):
    return jnp.append(x1, x2, axis=axis)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    return jnp.cross(x1, x2, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)


def correlate(x1, x2, mode="valid"):
    return jnp.correlate(x1, x2, mode)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return jnp.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return jnp.allclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def isin(x1, x2, assume_unique=False, invert=False):
    return jnp.isin(x1, x2, assume_unique=assume_unique, invert=invert)


def bitwise_and(x, y):
    return jnp.bitwise_and(x, y)


def bitwise_or(x, y):
    return jnp.bitwise_or(x, y)


def bitwise_xor(x, y):
    return jnp.bitwise_xor(x, y)


def bitwise_right_shift(x, y):
    return jnp.right_shift(x, y)


def right_shift(x, y):
    return jnp.right_shift(x, y)


# Creation: float32 unless a dtype is given (Keras's floatx).
def zeros(shape, dtype=None):
    return jnp.zeros(shape, dtype or FLOATX)


def ones(shape, dtype=None):
    return jnp.ones(shape, dtype or FLOATX)


def empty(shape, dtype=None):
    return jnp.empty(shape, dtype or FLOATX)


def full(shape, fill_value, dtype=None):
    return jnp.full(shape, fill_value, dtype or FLOATX)


def eye(N, M=None, k=0, dtype=None):  # noqa: N803 - Keras's names.
    return jnp.eye(N, M=M, k=k, dtype=dtype or FLOATX)


def identity(n, dtype=None):
    return jnp.identity(n, dtype or FLOATX)


def tri(N, M=None, k=0, dtype=None):  # noqa: N803 - Keras's names.
    return jnp.tri(N, M=M, k=k, dtype=dtype or FLOATX)


def arange(start, stop=None, step=None, dtype=None):
    return jnp.arange(start, stop, step, dtype=dtype)


def array(x, dtype=None):
    return jnp.array(x, dtype=dtype)


# Reductions: Keras drops NumPy's out/where/initial arguments.
def sum(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name.
    return jnp.sum(x, axis=axis, keepdims=keepdims)


def prod(x, axis=None, keepdims=False, dtype=None):
    return jnp.prod(x, axis=axis, keepdims=keepdims, dtype=dtype)


def mean(x, axis=None, keepdims=False):
    x = jnp.asarray(x)
    # Low-precision floats are averaged in float32 (overflow), integers
    # give float32, as in Keras.
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.inexact) else FLOATX
    out = jnp.mean(x, axis=axis, keepdims=keepdims, dtype=_float_of(x.dtype))
    return out.astype(dtype)


def var(x, axis=None, keepdims=False):
    x = jnp.asarray(x)
    out = jnp.var(x, axis=axis, keepdims=keepdims, dtype=_float_of(x.dtype))
    return out.astype(jnp.result_type(x.dtype, float))


def std(x, axis=None, keepdims=False):
    return jnp.std(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    return jnp.max(x, axis=axis, keepdims=keepdims, initial=initial)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    return jnp.min(x, axis=axis, keepdims=keepdims, initial=initial)


amax = max
amin = min


def all(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name.
    return jnp.all(x, axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name.
    return jnp.any(x, axis=axis, keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    return jnp.argmax(x, axis=axis, keepdims=keepdims)


def argmin(x, axis=None, keepdims=False):
    return jnp.argmin(x, axis=axis, keepdims=keepdims)


def argsort(x, axis=-1):
    return jnp.argsort(x, axis=None if jnp.ndim(x) == 0 else axis)


def argpartition(x, kth, axis=-1):
    if axis is None:
        return jnp.argpartition(jnp.reshape(x, (-1,)), kth, axis=0)
    return jnp.argpartition(x, kth, axis=axis)


def ptp(x, axis=None, keepdims=False):
    return jnp.ptp(x, axis=axis, keepdims=keepdims)


def count_nonzero(x, axis=None):
    return jnp.count_nonzero(x, axis=axis).astype(jnp.int32)


def average(x, axis=None, weights=None):
    dtype = jnp.result_type(x, float, *([] if weights is None else [weights]))
    weights = None if weights is None else jnp.asarray(weights, dtype)
    return jnp.average(jnp.asarray(x, dtype), axis=axis, weights=weights)


def median(x, axis=None, keepdims=False):
    axis = tuple(axis) if isinstance(axis, list) else axis
    return jnp.median(x, axis=axis, keepdims=keepdims)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    return jnp.quantile(x, jnp.asarray(q), axis=axis, method=method, keepdims=keepdims)


def percentile(x, q, axis=None, method="linear", keepdims=False):
    return jnp.percentile(
        x, jnp.asarray(q), axis=axis, method=method, keepdims=keepdims
    )


def nanmax(x, axis=None, keepdims=False):
    return jnp.nanmax(x, axis=axis, keepdims=keepdims)


def nanmin(x, axis=None, keepdims=False):
    return jnp.nanmin(x, axis=axis, keepdims=keepdims)


def nansum(x, axis=None, keepdims=False):
    return jnp.nansum(x, axis=axis, keepdims=keepdims)


def nanprod(x, axis=None, keepdims=False):
    return jnp.nanprod(x, axis=axis, keepdims=keepdims)


def nanmean(x, axis=None, keepdims=False):
    return jnp.nanmean(x, axis=axis, keepdims=keepdims)


def nanvar(x, axis=None, keepdims=False):
    return jnp.nanvar(x, axis=axis, keepdims=keepdims)


def nanstd(x, axis=None, keepdims=False):
    return jnp.nanstd(x, axis=axis, keepdims=keepdims)


def nanmedian(x, axis=None, keepdims=False):
    return jnp.nanmedian(x, axis=axis, keepdims=keepdims)


def nanargmax(x, axis=None, keepdims=False):
    return jnp.nanargmax(x, axis=axis, keepdims=keepdims)


def nanargmin(x, axis=None, keepdims=False):
    return jnp.nanargmin(x, axis=axis, keepdims=keepdims)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    return jnp.nanquantile(x, q, axis=axis, method=method, keepdims=keepdims)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    return jnp.nanpercentile(x, q, axis=axis, method=method, keepdims=keepdims)


# Shape and indexing ops with Keras argument names.
def reshape(x, newshape):
    return jnp.reshape(x, newshape)


def tile(x, repeats):
    return jnp.tile(x, repeats)


def clip(x, x_min, x_max):
    x = jnp.asarray(x)
    # Keras clips booleans as int32.
    return jnp.clip(x.astype(jnp.int32) if x.dtype == bool else x, x_min, x_max)


def where(condition, x1=None, x2=None):
    return jnp.where(condition, x1, x2)


def pad(x, pad_width, mode="constant", constant_values=None):
    if constant_values is None:
        return jnp.pad(x, pad_width, mode=mode)
    if mode != "constant":
        raise ValueError(
            "pad: `constant_values` can only be given with mode='constant'; "
            f"got mode={mode!r}."
        )
    return jnp.pad(x, pad_width, mode=mode, constant_values=constant_values)


def round(x, decimals=0):  # noqa: A001 - Keras's name.
    return jnp.round(x, decimals=decimals)


def searchsorted(sorted_sequence, values, side="left"):
    if jnp.ndim(sorted_sequence) != 1:
        raise ValueError(
            "searchsorted: `sorted_sequence` must be 1-D; got shape "
            f"{jnp.shape(sorted_sequence)}. Use `ops.vectorized_map` for N-D."
        )
    return jnp.searchsorted(sorted_sequence, values, side=side)


def unstack(x, num=None, axis=0):
    x = jnp.asarray(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(
            f"unstack: `num`={num} does not match the size {x.shape[axis]} "
            f"of axis {axis}; pass num=None to take it from the shape."
        )
    return [jnp.squeeze(t, axis) for t in jnp.split(x, x.shape[axis], axis=axis)]


def unique(
    x,
    sorted=True,  # noqa: A002 - Keras's name.
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    size=None,
    fill_value=None,
):
    return jnp.unique(
        x,
        return_index=return_index,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=axis,
        size=size,
        sorted=sorted,
        fill_value=fill_value,
    )


def bincount(x, weights=None, minlength=0, sparse=False):
    if sparse:
        raise ValueError("bincount: sparse=True is not supported by kerax.")
    x = jnp.asarray(x)
    if x.ndim == 2:
        w = [None] * x.shape[0] if weights is None else list(weights)
        return jnp.stack(
            [jnp.bincount(r, wr, minlength=minlength) for r, wr in zip(x, w)]
        )
    return jnp.bincount(x, weights=weights, minlength=minlength)


def dtype(x) -> str:
    """The dtype of `x` as Keras's standardized string (`"float32"`)."""
    return jnp.asarray(x).dtype.name if not hasattr(x, "dtype") else str(x.dtype)


def cdist(x, y):
    """Euclidean distances between the rows of `x` and of `y`."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError(
            "cdist: inputs must have rank >= 2 and the same last dimension; "
            f"got {x.shape} and {y.shape}."
        )
    diff = jnp.expand_dims(x, -2) - jnp.expand_dims(y, -3)
    return jnp.sqrt(jnp.sum(diff * diff, axis=-1))


def get_item(x, key):
    return x[key]


def divide_no_nan(x1, x2):
    """`x1 / x2`, with 0 where `x2` is 0 (Keras's `ops.divide_no_nan`)."""
    safe = jnp.where(x2 == 0, 1, x2)
    return jnp.where(x2 == 0, 0, jnp.divide(x1, safe))


def view(x, dtype=None):
    """The same bytes as another dtype (`x.view(dtype)`); a smaller or larger
    item size changes the last axis, as NumPy's `view`."""
    x = jnp.asarray(x)
    return x if dtype is None else x.view(jnp.dtype(dtype))


def slogdet(x):
    """`(sign, log|det|)` of square matrices, as a tuple (Keras's `ops.slogdet`)."""
    return tuple(jnp.linalg.slogdet(x))


def _public() -> list[str]:
    return sorted(
        name
        for name, value in globals().items()
        if not name.startswith("_")
        and callable(value)
        and name not in ("annotations", "jnp")
    )


__all__ = _public()

# Inside a Keras-style `call`, variables are accepted where arrays are.
_accept_variables(globals(), __all__)
