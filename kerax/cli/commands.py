"""`kerax evaluate / predict / export / summary` on saved models and configs."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

import kerax
from kerax.cli import config


def evaluate(model_dir, data, loss, metrics, batch_size):
    model, params, state = kerax.load_model(model_dir)
    _, (x, y) = kerax.datasets.get(data)
    trainer = kerax.Trainer(model, optimizer="sgd", loss=loss, metrics=metrics)
    ts = trainer.init(
        spec=model.input_spec
        if getattr(model, "input_spec", None) is not None
        else x[:1]
    )
    ts = ts._replace(params=params, state=state)
    logs = trainer.evaluate(
        ts, x, y, batch_size=batch_size, return_dict=True, verbose=0
    )
    print("  ".join(f"{k}: {float(v):.4f}" for k, v in logs.items()))
    return logs


def predict(model_dir, input_path, output_path, batch_size):

    model, params, state = kerax.load_model(model_dir)
    x = np.load(input_path, allow_pickle=False)
    apply = jax.jit(lambda p, s, b: model.apply(p, s, b)[0])
    outs = [
        np.asarray(apply(params, state, x[i : i + batch_size]))
        for i in range(0, len(x), batch_size)
    ]
    y = np.concatenate(outs)
    np.save(output_path, y)
    print(f"wrote {output_path}: {y.shape} {y.dtype}")
    return y


def export(model_dir, out_dir, formats, quantization, batch_size):
    options = {"tflite": {"quantization": quantization, "batch_size": batch_size}}
    reports = kerax.export.export(
        Path(model_dir), Path(out_dir), formats=tuple(formats), **options
    )
    for r in reports:
        print(r)
    return reports


def summary(source, overrides):

    source = Path(source)
    if source.is_dir():
        model, params, state = kerax.load_model(source)
        model.summary(params=params, state=state)
    else:
        cfg = config.load(source, overrides)
        config.build_model(cfg["model"]).summary()
