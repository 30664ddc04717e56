"""The guide ports are scripts run by their tests, never imported at collection.

`--doctest-modules` imports every module under tests/ to look for examples;
a port runs its whole guide when imported, so collection leaves every
module here alone but the tests (`test_*.py`) and this file.
"""

import pathlib

collect_ignore = sorted(
    path.name
    for path in pathlib.Path(__file__).parent.glob("*.py")
    if not path.name.startswith("test_")
    and path.name not in ("conftest.py", "__init__.py")
)
