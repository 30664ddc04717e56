"""A minimal TensorBoard event-file writer: scalars and histograms, pure Python.

TensorBoard reads `events.out.tfevents.*` files: TFRecord framing (length,
masked CRC32C, payload, masked CRC32C) around `Event` protocol buffers. The
few messages needed here are encoded by hand, so writing logs needs neither
TensorFlow nor TensorBoard installed. (TensorBoard's own writer imports
TensorFlow when it is installed: ~2.5 s and ~670 MB just to write scalars.)

Messages (field numbers from tensorboard/compat/proto):
`Event{wall_time=1: double, step=2: int64, file_version=3: string,
summary=5: Summary}`, `Summary{value=1: repeated Value}`,
`Value{tag=1: string, simple_value=2: float, histo=5: HistogramProto}`,
`HistogramProto{min=1, max=2, num=3, sum=4, sum_squares=5: double,
bucket_limit=6, bucket=7: packed repeated double}`.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import threading
import time

import numpy as np

__all__ = ["EventFileWriter", "crc32c"]


def _make_crc_table():
    poly = 0x82F63B78  # CRC-32C (Castagnoli), reflected.
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _make_crc_table()


def crc32c(data: bytes) -> int:
    """CRC-32C of `data` (the checksum TFRecord files use)."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# ------------------------------------------------------ protobuf encoding


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _double(field: int, value: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", float(value))


def _float(field: int, value: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", float(value))


def _bytes(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def _packed_doubles(field: int, values) -> bytes:
    payload = struct.pack(f"<{len(values)}d", *map(float, values))
    return _bytes(field, payload)


def _event(
    wall_time: float,
    step: int,
    *,
    file_version: str | None = None,
    summary: bytes | None = None,
) -> bytes:
    out = _double(1, wall_time) + _key(2, 0) + _varint(int(step))
    if file_version is not None:
        out += _bytes(3, file_version.encode())
    if summary is not None:
        out += _bytes(5, summary)
    return out


def _scalar_value(tag: str, value: float) -> bytes:
    return _bytes(1, tag.encode()) + _float(2, value)


def _histogram_proto(values: np.ndarray, bins: int = 30) -> bytes:
    values = np.asarray(values, np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        values = np.zeros((1,), np.float64)
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return (
        _double(1, float(values.min()))
        + _double(2, float(values.max()))
        + _double(3, float(values.size))
        + _double(4, float(values.sum()))
        + _double(5, float(np.square(values).sum()))
        + _packed_doubles(6, edges[1:])
        + _packed_doubles(7, counts)
    )


def _histogram_value(tag: str, values) -> bytes:
    return _bytes(1, tag.encode()) + _bytes(5, _histogram_proto(values))


# ---------------------------------------------------------------- writer

_counter = itertools.count()


class EventFileWriter:
    """Appends events to one `events.out.tfevents.*` file in `log_dir`.

    Example:
        >>> import tempfile
        >>> w = EventFileWriter(tempfile.mkdtemp())
        >>> w.scalar("epoch_loss", 0.25, step=0)
        >>> w.close()
    """

    def __init__(self, log_dir: str):
        os.makedirs(log_dir, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{next(_counter)}.v2"
        self.path = os.path.join(log_dir, name)
        self._file = open(self.path, "ab")  # noqa: SIM115 - closed in close().
        self._lock = threading.Lock()
        self._write(_event(time.time(), 0, file_version="brain.Event:2"))
        self.flush()

    def _write(self, event: bytes) -> None:
        header = struct.pack("<Q", len(event))
        record = (
            header
            + struct.pack("<I", _masked_crc(header))
            + event
            + struct.pack("<I", _masked_crc(event))
        )
        with self._lock:
            self._file.write(record)

    def scalar(self, tag: str, value, step: int) -> None:
        """Writes one scalar (TensorBoard's Scalars tab)."""
        self._write(
            _event(
                time.time(), step, summary=_bytes(1, _scalar_value(tag, float(value)))
            )
        )

    def scalars(self, values: dict, step: int) -> None:
        """Writes several scalars as one event."""
        summary = b"".join(
            _bytes(1, _scalar_value(k, float(v))) for k, v in values.items()
        )
        self._write(_event(time.time(), step, summary=summary))

    def histogram(self, tag: str, values, step: int) -> None:
        """Writes a histogram of `values` (TensorBoard's Histograms tab)."""
        self._write(
            _event(
                time.time(),
                step,
                summary=_bytes(1, _histogram_value(tag, np.asarray(values))),
            )
        )

    def flush(self) -> None:
        with self._lock:
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                self._file.close()


def read_records(path: str):
    """Yields the payloads of a TFRecord file, checking both CRCs (for tests)."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        (crc,) = struct.unpack("<I", data[pos + 8 : pos + 12])
        if crc != _masked_crc(header):
            raise ValueError(f"{path}: bad length CRC at offset {pos}.")
        payload = data[pos + 12 : pos + 12 + length]
        (crc,) = struct.unpack("<I", data[pos + 12 + length : pos + 16 + length])
        if crc != _masked_crc(payload):
            raise ValueError(f"{path}: bad data CRC at offset {pos}.")
        yield payload
        pos += 16 + length
