"""Keras's progress bar: step counter, bar, ETA, time per step, running metrics.

On a terminal the line is redrawn in place at most every `interval` seconds
(reading the logs then, and only then, waits for the device); elsewhere (a
file, CI logs) one plain line is printed when the epoch ends.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Mapping

import numpy as np

from kerax.utils import io_utils

__all__ = ["Progbar", "format_logs"]


def _is_tty(stream) -> bool:
    return (
        (hasattr(stream, "isatty") and stream.isatty())
        or "ipykernel" in sys.modules
        or "PYCHARM_HOSTED" in os.environ
    )


def _fmt_value(v) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return f" {v}"
    if math.isnan(v) or math.isinf(v):
        return f" {v}"
    return f" {v:.4f}" if abs(v) > 1e-3 else f" {v:.4e}"


def format_logs(logs) -> str:
    return "".join(f" - {k}:{_fmt_value(v)}" for k, v in logs.items())


def _format_time(per_unit: float, unit: str) -> str:
    if per_unit >= 1 or per_unit == 0:
        return f" {per_unit:.0f}s/{unit}"
    if per_unit >= 1e-3:
        return f" {per_unit * 1e3:.0f}ms/{unit}"
    return f" {per_unit * 1e6:.0f}us/{unit}"


def _format_eta(eta: float) -> str:
    eta = int(eta)
    if eta > 3600:
        return f"{eta // 3600}:{(eta % 3600) // 60:02d}:{eta % 60:02d}"
    if eta > 60:
        return f"{eta // 60}:{eta % 60:02d}"
    return f"{eta}s"


class Progbar:
    """Keras's progress bar (`keras.utils.Progbar`), as `fit` draws it.

    `update(current, values)` takes Keras's `values`, a list of
    `(name, value)` pairs, each shown as its average over the steps so far
    (weighted by how many steps each update advanced), except names in
    `stateful_metrics`, shown as given; or a mapping (`fit`'s logs, already
    running values), shown as given. `add(n, values)` advances by `n`.

    Args:
        target: total steps, or None when unknown.
        width: bar width in characters.
        verbose: 1 (bar) or 2 (one line at the end).
        interval: minimum seconds between redraws on a terminal.
        stateful_metrics: names whose values are shown as given, not averaged.
        unit_name: what a step is called ("step").
        stream: where to write (default standard output; with interactive
            logging off, `absl.logging`: see `kerax.utils.io_utils`).
        dynamic: redraw in place; default: when `stream` is a terminal.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = Progbar(3, verbose=2, stream=out)
        >>> bar.update(1, [("loss", 1.0)])
        >>> bar.add(1, [("loss", 3.0)])
        >>> bar.add(1)
        >>> out.getvalue().strip().split(" - ")[-1]
        'loss: 2.0000'
    """

    def __init__(
        self,
        target,
        width=20,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        unit_name="step",
        *,
        stream=None,
        dynamic=None,
    ):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self._seen_so_far = 0
        self._values: dict = {}  # name -> [weighted sum, steps], as Keras keeps it
        self._logs: Mapping = {}
        # Without a stream of its own, the bar follows Keras's interactive
        # logging switch: off, each finished line is one absl record.
        self._to_log = stream is None and not io_utils.is_interactive_logging_enabled()
        self.stream = stream or sys.stdout
        if self._to_log:
            dynamic = False
        self.dynamic = _is_tty(self.stream) if dynamic is None else dynamic
        self._start = time.monotonic()
        self._last_update = 0.0
        self._time_after_first = None
        self._first_seen = None
        self._prev_width = 0

    def add(self, n: int, values=None) -> None:
        """Advances the bar by `n` steps (Keras's `Progbar.add`)."""
        self.update(self._seen_so_far + n, values)

    def _accumulate(self, current: int, values, finalize: bool) -> None:
        for name, value in values:
            value = float(np.mean(value))
            if name in self.stateful_metrics or finalize:
                # Keras: the last update's value stands as given.
                self._values[name] = [value, 1]
                continue
            steps = max(current - self._seen_so_far, 1)
            total, count = self._values.get(name, (0.0, 0))
            self._values[name] = [total + value * steps, count + steps]

    def _shown(self) -> dict:
        averages = {name: t / max(1, n) for name, (t, n) in self._values.items()}
        return {**self._logs, **averages}

    def due(self, finalize: bool = False) -> bool:
        """Whether `update` would draw now (cheap: no device sync)."""
        if finalize:
            return True
        return (
            self.verbose == 1
            and self.dynamic
            and time.monotonic() - self._last_update >= self.interval
        )

    def _step_time(self, current: int, now: float) -> float:
        if not current:
            return 0.0
        if self._time_after_first is not None and current > self._first_seen:
            return (now - self._time_after_first) / (current - self._first_seen)
        if self._time_after_first is None:
            self._time_after_first, self._first_seen = now, current
        return (now - self._start) / current

    def update(self, current: int, values=None, finalize: bool | None = None) -> None:
        """Draws step `current` (when due) with `values`: `(name, value)`
        pairs (Keras) or a mapping of running values (`fit`'s logs)."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if isinstance(values, Mapping):
            self._logs = values  # Read only when drawn: reading waits for the device.
        elif values:
            self._accumulate(current, values, finalize)
        self._seen_so_far = current
        now = time.monotonic()
        per_step = self._step_time(current, now)
        if not self.due(finalize):
            return
        logs = self._shown()
        if self.verbose == 1:
            color = self.dynamic
            if self.target:
                digits = int(math.log10(self.target)) + 1
                count = f"{current:>{digits}d}/{self.target}"
                done = int(self.width * min(current, self.target) / self.target)
                if color:
                    bar = f"\x1b[1m{count}\x1b[0m \x1b[32m{'━' * done}\x1b[0m\x1b[37m{'━' * (self.width - done)}\x1b[0m"
                else:
                    bar = f"{count} {'━' * done}{'─' * (self.width - done)}"
                visible = len(count) + 1 + self.width
            else:
                bar = f"{current:7d}/Unknown"
                visible = len(bar)
            if self.target and not finalize:
                timing = f" {_format_eta(per_step * (self.target - current))}"
            else:
                timing = f" {now - self._start:.0f}s"
            if color:
                timing = f" \x1b[1m{timing.strip()}\x1b[0m"
            info = timing + _format_time(per_step, self.unit_name) + format_logs(logs)
            width = visible + len(info) - (8 if color else 0)
            pad = " " * max(0, self._prev_width - width) if self.dynamic else ""
            prefix = "\r" if self.dynamic else ""
            end = "\n" if finalize else ""
            self._write(prefix + bar + info + pad + end)
            self._prev_width = width
        elif self.verbose == 2 and finalize:
            count = f"{current}/{self.target}" if self.target else f"{current}"
            line = f"{count} - {now - self._start:.0f}s - {_format_time(per_step, self.unit_name).lstrip()}{format_logs(logs)}\n"
            self._write(line)
        self._last_update = now

    def _write(self, text: str) -> None:
        if self._to_log:
            io_utils.print_msg(text.strip("\r\n"))
            return
        self.stream.write(text)
        self.stream.flush()
