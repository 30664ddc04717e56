"""`kerax launch`: N local processes of one JAX job, failures and timeouts contained."""

import importlib.util
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kerax.distribute import launch, launch_main

HERE = Path(__file__).parent
REPO = HERE.parent.parent


def _env():
    return {
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
        )
    }


def test_env_and_prefixed_output():
    out = io.StringIO()
    code = "import os; print('id', os.environ['KERAX_PROCESS_ID'], os.environ['KERAX_NUM_PROCESSES'], os.environ['KERAX_COORDINATOR_ADDRESS'].split(':')[0], os.environ['XLA_FLAGS'])"
    rc = launch(
        3, [sys.executable, "-c", code], devices_per_process=2, timeout=30, output=out
    )
    assert rc == 0
    lines = sorted(out.getvalue().splitlines())
    # The device count is added to the caller's own XLA_FLAGS, which are kept.
    flags = " ".join(
        filter(
            None,
            [os.environ.get("XLA_FLAGS"), "--xla_force_host_platform_device_count=2"],
        )
    )
    assert lines == [f"[{i}] id {i} 3 127.0.0.1 {flags}" for i in range(3)]


def test_a_failing_process_stops_the_others():
    out = io.StringIO()
    code = "import os, sys, time\nif os.environ['KERAX_PROCESS_ID'] == '1': sys.exit(3)\ntime.sleep(60)"
    start = time.monotonic()
    rc = launch(2, [sys.executable, "-c", code], timeout=50, output=out, grace_period=2)
    assert rc == 3
    assert time.monotonic() - start < 20
    assert "process 1 exited with code 3; stopping the others" in out.getvalue()


def test_timeout_kills_everything():
    out = io.StringIO()
    start = time.monotonic()
    rc = launch(
        2,
        [sys.executable, "-c", "import time; time.sleep(60)"],
        timeout=1,
        output=out,
        grace_period=2,
    )
    assert rc == 124
    assert time.monotonic() - start < 15
    assert "timeout" in out.getvalue()


def test_cli_arguments(capsys):
    assert launch_main(["--nproc", "2", "--", sys.executable, "-c", "print('hi')"]) == 0
    assert capsys.readouterr().out.count("hi") == 2
    with pytest.raises(SystemExit):
        launch_main(["--nproc", "2"])  # No command.


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "_multiprocess_train", HERE / "_multiprocess_train.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_two_processes_two_devices_each_match_one_process(tmp_path):
    out_path = tmp_path / "result.json"
    out = io.StringIO()
    rc = launch(
        2,
        [sys.executable, str(HERE / "_multiprocess_train.py"), str(out_path)],
        devices_per_process=2,
        timeout=120,
        env=_env(),
        output=out,
    )
    print(out.getvalue())
    assert rc == 0, out.getvalue()
    got = json.loads(out_path.read_text())
    assert got["process_count"] == 2 and got["device_count"] == 4
    ref_losses, ref_params = _load_script().train(None)
    np.testing.assert_allclose(got["losses"], ref_losses, atol=1e-5, rtol=0)
    for path in (
        ("dense", "kernel"),
        ("dense", "bias"),
        ("dense_1", "kernel"),
        ("dense_1", "bias"),
    ):
        a, b = got["params"], ref_params
        for k in path:
            a, b = a[k], b[k]
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
