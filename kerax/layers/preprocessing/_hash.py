"""TensorFlow's string hashes in NumPy, bit for bit, for Hashing and HashedCrossing.

Keras hashes through TensorFlow: `tf.strings.to_hash_bucket_fast` is
FarmHash's `Fingerprint64` (farmhashna `Hash64`), `to_hash_bucket_strong`
is SipHash-2-4 keyed by two 64-bit words (TF calls highwayhash's `SipHash`),
and `tf.sparse.cross_hashed` chains per-feature hashes with
`FingerprintCat64`. kerax computes the same 64-bit values without TF, so a
model trained with Keras's hashed features keeps its bins.

Each function hashes a whole batch at once: strings are grouped by FarmHash's
length class (0-16, 17-32, 33-64, longer) and every group runs as uint64
array arithmetic, which wraps modulo 2**64 exactly like C's `uint64_t`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_U64 = np.uint64

# FarmHash's primes (farmhash.cc, namespace farmhashna).
_K0 = _U64(0xC3A5C85C97CB3127)
_K1 = _U64(0xB492B66FBE98F273)
_K2 = _U64(0x9AE16A3B2F90404F)
# tensorflow/core/platform/fingerprint.h's FingerprintCat64 multiplier.
_K_MUL = _U64(0xC6A4A7935BD1E995)
# tf.sparse.cross_hashed's default `hash_key` (sparse_ops.py, _DEFAULT_HASH_KEY).
CROSS_HASH_KEY = 0xDECAFCAFFE


def _u64(x) -> np.ndarray:
    return np.asarray(x).astype(_U64)


def _rotate(v: np.ndarray, shift: int) -> np.ndarray:
    """FarmHash's `Rotate`: a right rotation."""
    return (v >> _U64(shift)) | (v << _U64(64 - shift))


def _shift_mix(v: np.ndarray) -> np.ndarray:
    return v ^ (v >> _U64(47))


def _hash_len16(u, v, mul):
    a = _shift_mix((u ^ v) * mul)
    b = _shift_mix((v ^ a) * mul)
    return b * mul


def _padded(data: Sequence[bytes], width: int) -> np.ndarray:
    """The strings as rows of a zero-padded `(n, width)` uint8 matrix."""
    lens = np.fromiter(map(len, data), np.int64, len(data))
    flat = np.frombuffer(b"".join(data), np.uint8)
    rows = np.repeat(np.arange(len(data)), lens)
    starts = np.cumsum(lens) - lens
    cols = np.arange(flat.size) - np.repeat(starts, lens)
    buf = np.zeros((len(data), width), np.uint8)
    buf[rows, cols] = flat
    return buf


def _fetch(buf: np.ndarray, offset: np.ndarray, nbytes: int = 8) -> np.ndarray:
    """Little-endian `uint{8 * nbytes}` words of each row at its own byte offset."""
    idx = np.asarray(offset, np.int64)[:, None] + np.arange(nbytes)
    word = np.take_along_axis(buf, idx, axis=1)
    return word.view(f"<u{nbytes}")[:, 0].astype(_U64)


def _len_0_to_16(buf, lens):
    n = lens.astype(_U64)
    out = np.full(lens.shape, _K2, _U64)  # The empty string hashes to k2.
    long8 = lens >= 8
    if long8.any():
        b, ln = buf[long8], lens[long8]
        mul = _K2 + n[long8] * _U64(2)
        a = _fetch(b, np.zeros_like(ln)) + _K2
        bb = _fetch(b, ln - 8)
        c = _rotate(bb, 37) * mul + a
        d = (_rotate(a, 25) + bb) * mul
        out[long8] = _hash_len16(c, d, mul)
    long4 = (lens >= 4) & ~long8
    if long4.any():
        b, ln = buf[long4], lens[long4]
        mul = _K2 + n[long4] * _U64(2)
        a = _fetch(b, np.zeros_like(ln), 4)
        out[long4] = _hash_len16(n[long4] + (a << _U64(3)), _fetch(b, ln - 4, 4), mul)
    short = (lens > 0) & (lens < 4)
    if short.any():
        b, ln = buf[short], lens[short]
        rows = np.arange(ln.size)
        a = b[rows, 0].astype(_U64)
        bb = b[rows, ln >> 1].astype(_U64)
        c = b[rows, ln - 1].astype(_U64)
        y = a + (bb << _U64(8))
        z = n[short] + (c << _U64(2))
        out[short] = _shift_mix(y * _K2 ^ z * _K0) * _K2
    return out


def _len_17_to_32(buf, lens):
    mul = _K2 + lens.astype(_U64) * _U64(2)
    zero = np.zeros_like(lens)
    a = _fetch(buf, zero) * _K1
    b = _fetch(buf, zero + 8)
    c = _fetch(buf, lens - 8) * mul
    d = _fetch(buf, lens - 16) * _K2
    return _hash_len16(
        _rotate(a + b, 43) + _rotate(c, 30) + d, a + _rotate(b + _K2, 18) + c, mul
    )


def _len_33_to_64(buf, lens):
    mul = _K2 + lens.astype(_U64) * _U64(2)
    zero = np.zeros_like(lens)
    a = _fetch(buf, zero) * _K2
    b = _fetch(buf, zero + 8)
    c = _fetch(buf, lens - 8) * mul
    d = _fetch(buf, lens - 16) * _K2
    y = _rotate(a + b, 43) + _rotate(c, 30) + d
    z = _hash_len16(y, a + _rotate(b + _K2, 18) + c, mul)
    e = _fetch(buf, zero + 16) * mul
    f = _fetch(buf, zero + 24)
    g = (y + _fetch(buf, lens - 32)) * mul
    h = (z + _fetch(buf, lens - 24)) * mul
    return _hash_len16(
        _rotate(e + f, 43) + _rotate(g, 30) + h, e + _rotate(f + a, 18) + g, mul
    )


def _weak_hash_len32_with_seeds(buf, offset, a, b):
    w, x, y, z = (_fetch(buf, offset + 8 * i) for i in range(4))
    a = a + w
    b = _rotate(b + a + z, 21)
    c = a
    a = a + x + y
    b = b + _rotate(a, 44)
    return a + z, b + c


def _len_over_64(buf, lens):
    """farmhashna's loop over 64-byte blocks, all rows in step.

    Rows have different block counts: a row whose blocks are done keeps its
    state (`np.where`) while longer rows go on.
    """
    seed = _U64(81)
    zero = np.zeros_like(lens)
    x = np.full(lens.shape, seed, _U64)
    y = np.full(lens.shape, seed * _K1 + _U64(113), _U64)
    z = _shift_mix(y * _K2 + _U64(113)) * _K2
    v0, v1, w0, w1 = (np.zeros(lens.shape, _U64) for _ in range(4))
    x = x * _K2 + _fetch(buf, zero)
    blocks = (lens - 1) // 64  # Full blocks before the last 1..64 bytes.
    for k in range(int(blocks.max())):
        s = zero + 64 * k
        nx = _rotate(x + y + v0 + _fetch(buf, s + 8), 37) * _K1
        ny = _rotate(y + v1 + _fetch(buf, s + 48), 42) * _K1
        nx = nx ^ w1
        ny = ny + v0 + _fetch(buf, s + 40)
        nz = _rotate(z + w0, 33) * _K1
        nv0, nv1 = _weak_hash_len32_with_seeds(buf, s, v1 * _K1, nx + w0)
        nw0, nw1 = _weak_hash_len32_with_seeds(
            buf, s + 32, nz + w1, ny + _fetch(buf, s + 16)
        )
        nx, nz = nz, nx  # std::swap(z, x)
        live = k < blocks
        x, y, z = np.where(live, nx, x), np.where(live, ny, y), np.where(live, nz, z)
        v0, v1 = np.where(live, nv0, v0), np.where(live, nv1, v1)
        w0, w1 = np.where(live, nw0, w0), np.where(live, nw1, w1)
    mul = _K1 + ((z & _U64(0xFF)) << _U64(1))
    s = lens - 64  # The last 64 bytes.
    w0 = w0 + ((lens - 1) & 63).astype(_U64)
    v0 = v0 + w0
    w0 = w0 + v0
    x = _rotate(x + y + v0 + _fetch(buf, s + 8), 37) * mul
    y = _rotate(y + v1 + _fetch(buf, s + 48), 42) * mul
    x = x ^ (w1 * _U64(9))
    y = y + v0 * _U64(9) + _fetch(buf, s + 40)
    z = _rotate(z + w0, 33) * mul
    v0, v1 = _weak_hash_len32_with_seeds(buf, s, v1 * mul, x + w0)
    w0, w1 = _weak_hash_len32_with_seeds(buf, s + 32, z + w1, y + _fetch(buf, s + 16))
    x, z = z, x
    return _hash_len16(
        _hash_len16(v0, w0, mul) + _shift_mix(y) * _K0 + z,
        _hash_len16(v1, w1, mul) + x,
        mul,
    )


_FARMHASH_CLASSES = (
    (0, 16, _len_0_to_16),
    (17, 32, _len_17_to_32),
    (33, 64, _len_33_to_64),
    (65, None, _len_over_64),
)


def fingerprint64(data: Sequence[bytes]) -> np.ndarray:
    """FarmHash `Fingerprint64` of each byte string, as TF's `Fingerprint64`.

    Example:
        >>> hex(int(fingerprint64([b""])[0]))  # farmhashna's k2
        '0x9ae16a3b2f90404f'
    """
    lens = np.fromiter(map(len, data), np.int64, len(data))
    out = np.empty(lens.shape, _U64)
    with np.errstate(over="ignore"):
        for low, high, fn in _FARMHASH_CLASSES:
            rows = np.flatnonzero(
                (lens >= low) & (True if high is None else lens <= high)
            )
            if rows.size:
                group = [data[i] for i in rows]
                width = max(16, int(lens[rows].max()))
                out[rows] = fn(_padded(group, width), lens[rows])
    return out


def _rotl(v: np.ndarray, shift: int) -> np.ndarray:
    return _rotate(v, 64 - shift)


def _sip_round(v0, v1, v2, v3):
    v0 = v0 + v1
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = v2 + v3
    v3 = _rotl(v3, 16) ^ v2
    v0 = v0 + v3
    v3 = _rotl(v3, 21) ^ v0
    v2 = v2 + v1
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash24(data: Sequence[bytes], key: tuple[int, int]) -> np.ndarray:
    """SipHash-2-4 of each byte string under the 128-bit `key` (two uint64 words).

    What `tf.strings.to_hash_bucket_strong(x, n, key)` reduces modulo `n`.

    Example:
        >>> hex(int(siphash24([bytes(range(15))], (0x0706050403020100, 0x0F0E0D0C0B0A0908))[0]))
        '0xa129ca6149be45e5'
    """
    k0, k1 = (_U64(int(k) % 2**64) for k in key)
    lens = np.fromiter(map(len, data), np.int64, len(data))
    words = lens // 8 + 1  # The last word holds the tail and the length byte.
    buf = _padded(data, 8 * int(words.max(initial=1)))
    buf[np.arange(lens.size), 8 * words - 1] = (lens & 0xFF).astype(np.uint8)
    message = buf.view("<u8")
    with np.errstate(over="ignore"):
        v0 = np.full(lens.shape, k0 ^ _U64(0x736F6D6570736575), _U64)
        v1 = np.full(lens.shape, k1 ^ _U64(0x646F72616E646F6D), _U64)
        v2 = np.full(lens.shape, k0 ^ _U64(0x6C7967656E657261), _U64)
        v3 = np.full(lens.shape, k1 ^ _U64(0x7465646279746573), _U64)
        for j in range(message.shape[1]):
            m = message[:, j]
            live = j < words
            n0, n1, n2, n3 = v0, v1, v2, v3 ^ m
            for _ in range(2):
                n0, n1, n2, n3 = _sip_round(n0, n1, n2, n3)
            n0 = n0 ^ m
            v0, v1 = np.where(live, n0, v0), np.where(live, n1, v1)
            v2, v3 = np.where(live, n2, v2), np.where(live, n3, v3)
        v2 = v2 ^ _U64(0xFF)
        for _ in range(4):
            v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def fingerprint_cat64(fp1: np.ndarray, fp2: np.ndarray) -> np.ndarray:
    """TF's `FingerprintCat64`: combines two fingerprints, order-dependent."""
    with np.errstate(over="ignore"):
        result = _u64(fp1) ^ _K_MUL
        result = result ^ (_shift_mix(_u64(fp2) * _K_MUL) * _K_MUL)
        result = result * _K_MUL
        result = _shift_mix(result) * _K_MUL
        return _shift_mix(result)
