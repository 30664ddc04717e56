"""`kerax launch --nproc N -- <command>`: N local processes wired into one JAX job.

Each process gets `KERAX_COORDINATOR_ADDRESS=127.0.0.1:<free port>`,
`KERAX_NUM_PROCESSES=N` and `KERAX_PROCESS_ID=i` (read by
`kerax.distribute.initialize()`), and, with `--devices-per-process K`, an
`XLA_FLAGS` that gives it K simulated CPU devices. Output lines are
prefixed with `[i]`. When one process fails, or the timeout passes, every
process still running is stopped (SIGTERM to its process group, then
SIGKILL), and the launcher returns non-zero: a crashed or hung member never
leaves the others waiting at a collective forever.

For single-machine multi-process runs and tests only: the coordinator is
always on the loopback interface. Multi-host jobs start one process per
host with their cluster's tools and call `initialize` with a reachable
coordinator address (see docs/distribution.md).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

__all__ = ["launch", "main", "free_port"]

LOOPBACK = "127.0.0.1"
_DEVICE_FLAG = "--xla_force_host_platform_device_count"


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _xla_flags(existing: str, devices: int) -> str:
    kept = [f for f in existing.split() if not f.startswith(_DEVICE_FLAG)]
    return " ".join([*kept, f"{_DEVICE_FLAG}={devices}"])


def _pump(stream, prefix: str, out, lock) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace")
        with lock:
            out.write(prefix + line if line.endswith("\n") else prefix + line + "\n")
            out.flush()
    stream.close()


def _signal_group(proc, sig) -> None:
    try:
        os.killpg(proc.pid, sig)  # Its own session: pgid == pid.
    except (ProcessLookupError, PermissionError):
        pass


def _stop(procs, grace: float) -> None:
    alive = [p for p in procs if p.poll() is None]
    for p in alive:
        _signal_group(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in alive:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for p in alive:
        # The whole group, even if its leader exited meanwhile: children of a
        # stopped process must not outlive the job. (Only groups whose leader
        # was still ours when stopping began: a reaped pid may be reused.)
        _signal_group(p, signal.SIGKILL)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def launch(
    nproc: int,
    command: Sequence[str] | str,
    *,
    devices_per_process: int | None = None,
    timeout: float | None = None,
    port: int | None = None,
    env: dict | None = None,
    prefix_output: bool = True,
    output=None,
    grace_period: float = 5.0,
) -> int:
    """Runs `command` as `nproc` local processes of one JAX job; returns an exit code.

    Args:
        nproc: number of processes.
        command: the program and its arguments (a list, or a shell-like
            string split with `shlex`), e.g. `[sys.executable, "train.py"]`.
        devices_per_process: simulated CPU devices per process (sets
            `--xla_force_host_platform_device_count` in `XLA_FLAGS`).
        timeout: seconds for the whole job; on expiry every process is
            stopped and 124 returned. None: no limit.
        port: the coordinator port on 127.0.0.1 (default: a free one).
        env: extra environment variables for every process.
        prefix_output: prefix each output line with `[i] `.
        output: where output goes (default `sys.stdout`).
        grace_period: seconds between SIGTERM and SIGKILL when stopping.

    Returns:
        0 when every process exits 0; otherwise the first failure's exit
        code (128 + signal for a killed process, 124 for a timeout).

    Example:
        >>> import sys
        >>> kerax.distribute.launch(2, [sys.executable, "train.py"], devices_per_process=2, timeout=120)  # doctest: +SKIP
        0
    """
    if not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"launch: nproc must be a positive int, got {nproc!r}.")
    if devices_per_process is not None and (
        not isinstance(devices_per_process, int) or devices_per_process < 1
    ):
        raise ValueError(
            f"launch: devices_per_process must be a positive int, got {devices_per_process!r}."
        )
    argv = (
        shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
    )
    if not argv:
        raise ValueError(
            "launch: no command given (kerax launch --nproc N -- python train.py)."
        )
    out = output if output is not None else sys.stdout
    port = free_port() if port is None else int(port)
    address = f"{LOOPBACK}:{port}"
    lock = threading.Lock()

    def note(msg: str) -> None:
        with lock:
            out.write(f"[launch] {msg}\n")
            out.flush()

    procs: list[subprocess.Popen] = []
    pumps: list[threading.Thread] = []
    start = time.monotonic()
    code = 0
    try:
        for i in range(nproc):
            child_env = dict(os.environ)
            child_env.update({k: str(v) for k, v in (env or {}).items()})
            child_env.update(
                KERAX_COORDINATOR_ADDRESS=address,
                KERAX_NUM_PROCESSES=str(nproc),
                KERAX_PROCESS_ID=str(i),
                PYTHONUNBUFFERED="1",
            )
            if devices_per_process is not None:
                child_env["XLA_FLAGS"] = _xla_flags(
                    child_env.get("XLA_FLAGS", ""), devices_per_process
                )
            try:
                proc = subprocess.Popen(
                    argv,
                    env=child_env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as e:
                note(f"cannot start {argv[0]!r}: {e}")
                code = 127
                return code
            procs.append(proc)
            t = threading.Thread(
                target=_pump,
                args=(proc.stdout, f"[{i}] " if prefix_output else "", out, lock),
                daemon=True,
            )
            t.start()
            pumps.append(t)
        while True:
            codes = [p.poll() for p in procs]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                i, c = failed[0]
                code = 128 - c if c < 0 else c
                if any(c is None for c in codes):
                    note(f"process {i} exited with code {c}; stopping the others.")
                else:
                    note(f"process {i} exited with code {c}.")
                return code
            if all(c == 0 for c in codes):
                return 0
            if timeout is not None and time.monotonic() - start > timeout:
                note(f"timeout after {timeout:g} s; stopping all {nproc} processes.")
                code = 124
                return code
            time.sleep(0.05)
    except KeyboardInterrupt:
        note("interrupted; stopping all processes.")
        code = 130
        return code
    finally:
        _stop(procs, grace_period)
        for t in pumps:
            t.join(timeout=5)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kerax launch",
        description="Run a command as N local processes of one JAX job (coordinator on 127.0.0.1).",
        usage="kerax launch --nproc N [--devices-per-process K] [--timeout S] -- command [args ...]",
    )
    p.add_argument("--nproc", "-n", type=int, required=True, help="number of processes")
    p.add_argument(
        "--devices-per-process",
        type=int,
        default=None,
        help="simulated CPU devices per process (XLA_FLAGS)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds before every process is stopped (exit 124)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help="coordinator port on 127.0.0.1 (default: a free one)",
    )
    p.add_argument(
        "--no-prefix", action="store_true", help="do not prefix output lines with [i]"
    )
    p.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """`kerax launch` entry: parses `argv` (without the `launch` word) and returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" in argv:
        cut = argv.index("--")
        opts, command = argv[:cut], argv[cut + 1 :]
    else:
        opts, command = argv, None
    parser = _parser()
    args = parser.parse_args(opts)
    if command is None:
        command = args.command
    elif args.command:
        parser.error(f"unexpected arguments before '--': {args.command}")
    if not command:
        parser.error(
            "no command given; usage: kerax launch --nproc N -- python train.py"
        )
    if args.nproc < 1:
        parser.error("--nproc must be at least 1")
    return launch(
        args.nproc,
        command,
        devices_per_process=args.devices_per_process,
        timeout=args.timeout,
        port=args.port,
        prefix_output=not args.no_prefix,
    )


if __name__ == "__main__":
    sys.exit(main())
