"""Where kerax's messages go: Keras's interactive logging switch.

With interactive logging on (the default), progress bars and callback
messages are written to standard output, as Keras writes them. Turned off
(`kerax.config.disable_interactive_logging()`), each message goes to
`absl.logging.info` instead, one record per message, and progress bars draw
no bar: what a batch job's log collector wants. Keras's `io_utils`
behaviour, under Keras's names.

Example:
    >>> from kerax.utils import io_utils
    >>> io_utils.print_msg("hello")
    hello
    >>> io_utils.is_interactive_logging_enabled()
    True
"""

from __future__ import annotations

import sys

from kerax.config import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)

__all__ = [
    "disable_interactive_logging",
    "enable_interactive_logging",
    "is_interactive_logging_enabled",
    "print_msg",
]


def print_msg(message: str, line_break: bool = True) -> None:
    """Writes `message` to standard output, or to `absl.logging.info` when
    interactive logging is off (Keras's `print_msg`)."""
    if is_interactive_logging_enabled():
        sys.stdout.write(message + "\n" if line_break else message)
        sys.stdout.flush()
    else:
        from absl import logging

        logging.info(message)
