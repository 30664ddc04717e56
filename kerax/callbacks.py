"""Keras callbacks for `kerax.Trainer` (see `kerax.training.callbacks`).

Hooks receive the `TrainState` first and may return a new one. The
checkpointing callbacks (`ModelCheckpoint`, `BackupAndRestore`,
`OrbaxCheckpoint`) live with the
saving code in `kerax.saving.callbacks`.
"""

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from kerax.saving.callbacks import BackupAndRestore, ModelCheckpoint, OrbaxCheckpoint
from kerax.training.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ProgbarLogger,
    ReduceLROnPlateau,
    SwapEMAWeights,
    TensorBoard,
    TerminateOnNaN,
)

__all__ = [
    "BackupAndRestore",
    "ModelCheckpoint",
    "OrbaxCheckpoint",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
]


class RemoteMonitor(Callback):
    """Keras's `RemoteMonitor`: POSTs each epoch's logs to a server.

    At each epoch end it sends `{"epoch": epoch, **logs}` to `root + path`:
    as a form field `field` holding the JSON text, or, with
    `send_as_json=True`, as an `application/json` body. An unreachable
    server gives a warning, not an error, as in Keras. (Keras uses the
    `requests` library; kerax uses the standard library's `urllib`.)

    Args:
        root: the server's root URL.
        path: the path the logs are POSTed to.
        field: the form field that holds the JSON logs.
        headers: optional dict of HTTP headers.
        send_as_json: send the logs as a JSON body.
    """

    def __init__(
        self,
        root="http://localhost:9000",
        path="/publish/epoch/end/",
        field="data",
        headers=None,
        send_as_json=False,
        timeout=10.0,
    ):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json
        self.timeout = timeout

    def on_epoch_end(self, ts, epoch, logs=None):
        send = {"epoch": epoch}
        for k, v in (logs or {}).items():
            send[k] = (
                v.item()
                if isinstance(v, (np.ndarray, np.generic)) or hasattr(v, "item")
                else v
            )
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(
            self.root + self.path, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout):
                pass
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(
                f"Could not reach RemoteMonitor root server at {self.root}",
                stacklevel=2,
            )
