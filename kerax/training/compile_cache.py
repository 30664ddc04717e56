"""JAX's persistent compilation cache, turned on when asked.

The library never changes JAX's global configuration on its own: call
`kerax.training.enable_compilation_cache()` (this module's `enable`), or
let the `kerax` command do it for its runs.

A compiled step is written to disk and reused by the next process that
compiles the same program (same model, shapes, JAX version and flags), so a
re-run of a script or a resumed job skips XLA compilation.

Where: `$KERAX_COMPILATION_CACHE_DIR` if set, else
`$XDG_CACHE_HOME/kerax/jax` (default `~/.cache/kerax/jax`); setting
`KERAX_COMPILATION_CACHE_DIR` to `0`, `off` or `false` makes `enable()` do
nothing. A cache directory the user set for JAX itself
(`jax_compilation_cache_dir`) is left alone.

Programs that compile faster than `$KERAX_COMPILATION_CACHE_MIN_SECS`
(default 0.1 s; JAX's own default, 1 s, would skip most small models) are not
written. The cache is trusted code: the directory is created private (0700).
"""

from __future__ import annotations

import os

import jax

__all__ = ["enable", "disable", "default_dir", "cache_dir"]

_OFF = {"0", "off", "false", "no", "none", ""}
_enabled_by_kerax: str | None = None


def default_dir() -> str | None:
    """The cache directory kerax uses, or None when switched off by the env var."""
    env = os.environ.get("KERAX_COMPILATION_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in _OFF else os.path.expanduser(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return os.path.join(base, "kerax", "jax")


def cache_dir() -> str | None:
    """The directory JAX currently caches compilations in (None: no cache)."""
    return jax.config.jax_compilation_cache_dir


def _reset_jax_cache() -> None:
    # JAX decides once per process whether the cache is used, at the first
    # compilation: reset so a directory set after that still takes effect.
    try:
        from jax.experimental.compilation_cache import compilation_cache

        compilation_cache.reset_cache()
    except Exception:  # noqa: BLE001 - best effort; the cache is an optimization.
        pass


def enable(path: str | bool | None = True) -> str | None:
    """Turns the persistent compilation cache on; returns the directory used.

    Args:
        path: a directory; True or None for `default_dir()`; False does
            nothing. If JAX already has a cache directory that kerax did not
            set, it is kept.
    """
    global _enabled_by_kerax
    if path is False:
        return cache_dir()
    current = cache_dir()
    if current and current != _enabled_by_kerax:
        return current  # The user configured JAX's cache: theirs wins.
    target = (
        default_dir() if path in (True, None) else os.path.expanduser(os.fspath(path))
    )
    if target is None:
        return current
    if target == current:
        return current
    try:
        os.makedirs(target, mode=0o700, exist_ok=True)
    except OSError:
        return current  # Read-only home, etc.: run without a cache.
    jax.config.update("jax_compilation_cache_dir", target)
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        min_secs = float(os.environ.get("KERAX_COMPILATION_CACHE_MIN_SECS", "0.1"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", min_secs)
    _reset_jax_cache()
    _enabled_by_kerax = target
    return target


def disable() -> None:
    """Turns off a cache that kerax turned on (a user-set one is left alone)."""
    global _enabled_by_kerax
    if _enabled_by_kerax is not None and cache_dir() == _enabled_by_kerax:
        jax.config.update("jax_compilation_cache_dir", None)
        _reset_jax_cache()
    _enabled_by_kerax = None
