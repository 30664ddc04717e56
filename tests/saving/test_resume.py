"""Crash-proof training: SIGKILL at any step, SIGTERM, then bit-identical resume."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kerax

JOB = Path(__file__).with_name("_resume_job.py")
pytestmark = pytest.mark.slow


def run(out, *args, check=True):
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [sys.executable, str(JOB), str(out), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"job failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}"
        )
    return proc


def final(out):
    with np.load(Path(out) / "final.npz") as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    run(out)
    return final(out)


@pytest.mark.parametrize(
    "kill_at", [5, 8]
)  # 7 batches per epoch: mid-epoch and just after a boundary.
def test_sigkill_then_resume_is_bit_identical(tmp_path, reference, kill_at):
    proc = run(tmp_path, "--kill-at", str(kill_at), check=False)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "final.npz").exists()
    run(tmp_path)  # Same arguments: resumes from the backup.
    got = final(tmp_path)
    assert got.keys() == reference.keys()
    for k in reference:
        np.testing.assert_array_equal(got[k], reference[k], err_msg=k)


def test_sigterm_writes_a_final_checkpoint(tmp_path, reference):
    proc = run(tmp_path, "--term-at", "5", check=False)
    assert proc.returncode == 143, proc.stderr[-2000:]
    with kerax.checkpoint.CheckpointManager(tmp_path / "backup") as m:
        assert m.latest_step() == 5
    run(tmp_path)
    got = final(tmp_path)
    for k in reference:
        np.testing.assert_array_equal(got[k], reference[k], err_msg=k)
