"""`kerax train CONFIG`: data, model, training, evaluation, files, export, report."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

import kerax
from kerax import callbacks as cb
from kerax import distribute
from kerax.cli import config as config_lib
from kerax.cli import data as data_sources
from kerax.cli import transfer
from kerax.cli.report import plot_history, write_report


def _callbacks(cfg: dict, out: Path):
    c = cfg["callbacks"]
    result = []
    resuming = (out / "checkpoints").is_dir() and any((out / "checkpoints").iterdir())
    if c["csv_logger"]:
        # A resumed run continues the same history file.
        result.append(
            cb.CSVLogger(
                str(out / "history.csv"),
                append=resuming and cfg["checkpoint"]["resume"],
            )
        )
    if c["tensorboard"]:
        options = c["tensorboard"] if isinstance(c["tensorboard"], dict) else {}
        result.append(cb.TensorBoard(log_dir=str(out / "tensorboard"), **options))
    if c["early_stopping"] is not None:
        result.append(cb.EarlyStopping(**c["early_stopping"]))
    if c["reduce_lr_on_plateau"] is not None:
        result.append(cb.ReduceLROnPlateau(**c["reduce_lr_on_plateau"]))
    ck = cfg["checkpoint"]
    if ck["enabled"]:
        result.append(
            cb.BackupAndRestore(
                str(out / "checkpoints"),
                save_freq=ck["save_freq"],
                delete_checkpoint=False,
            )
            if ck["resume"]
            else None
        )
        if ck["monitor"]:
            result.append(
                cb.ModelCheckpoint(
                    str(out / "best"), monitor=ck["monitor"], save_best_only=True
                )
            )
    return [x for x in result if x is not None]


def _read_csv(path: Path) -> dict:
    import csv

    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    keys = [k for k in (rows[0] if rows else {}) if k != "epoch"]
    return {k: [float(r[k]) for r in rows if r.get(k) not in (None, "")] for k in keys}


def _distribution(cfg: dict):
    d = cfg["distribution"]
    if not d["strategy"]:
        return None
    return distribute.from_config(d)


def train(config_path, overrides=()) -> dict:
    """Runs a config end to end; returns a summary dict (also in report.txt)."""
    cfg = config_lib.load(config_path, list(overrides))
    out = Path(cfg["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.resolved.json").write_text(json.dumps(cfg, indent=1))
    kerax.set_dtype_policy(cfg["trainer"]["dtype_policy"])
    # The command owns its process, so it may turn JAX's persistent cache on
    # (the library never does): a rerun of the same config compiles nothing.
    kerax.training.enable_compilation_cache()

    data = cfg["data"]
    source = data_sources.load(cfg, out)

    backbone = None
    if cfg["model"]["backbone"] is not None:
        model, backbone = transfer.build(cfg["model"])
    else:
        model = config_lib.build_model(cfg["model"])
    t = cfg["trainer"]
    trainer_kwargs = {}
    distribution = _distribution(cfg)
    if distribution is not None:
        trainer_kwargs["distribution"] = distribution
    trainer = kerax.Trainer(
        model,
        optimizer=t["optimizer"],
        loss=t["loss"],
        metrics=t["metrics"],
        steps_per_execution=t["steps_per_execution"],
        seed=cfg["seed"],
        **trainer_kwargs,
    )
    ts = trainer.init()
    if backbone is not None:
        ts = transfer.with_backbone(ts, backbone)
    print(
        f"kerax train {cfg['name']}: {source.num_train} training examples, {source.num_test} test examples, output in {out}"
    )
    for note in source.notes:
        print(f"data: {note}")
    model.summary()
    fit = cfg["fit"]
    started = time.perf_counter()
    # Arrays are split and batched by fit; files come as datasets already
    # batched, with their validation part split off by kerax.cli.data.
    x, y = source.train if isinstance(source.train, tuple) else (source.train, None)
    fit_kwargs = dict(
        batch_size=fit["batch_size"] if y is not None else None,
        shuffle=fit["shuffle"],
        verbose=fit["verbose"],
        steps_per_epoch=fit["steps_per_epoch"],
        validation_split=float(data["validation_split"])
        if source.validation is None and y is not None
        else 0.0,
        validation_data=source.validation,
    )
    ts, history = trainer.fit(
        ts, x, y, epochs=fit["epochs"], callbacks=_callbacks(cfg, out), **fit_kwargs
    )
    fine_history = {}
    if fit["fine_tune"] is not None:
        # Transfer learning's second phase: the backbone unfrozen, the whole
        # model trained on at a low learning rate; the optimizer starts over.
        model = transfer.unfreeze(model, backbone)
        trainer = kerax.Trainer(
            model,
            optimizer=transfer.fine_tune_optimizer(fit["fine_tune"]),
            loss=t["loss"],
            metrics=t["metrics"],
            steps_per_execution=t["steps_per_execution"],
            seed=cfg["seed"],
            **trainer_kwargs,
        )
        ts = trainer.init()._replace(params=ts.params, state=ts.state)
        (out / "fine_tune").mkdir(exist_ok=True)
        ts, tuned = trainer.fit(
            ts,
            x,
            y,
            epochs=fit["fine_tune"]["epochs"],
            callbacks=_callbacks(cfg, out / "fine_tune"),
            **fit_kwargs,
        )
        fine_history = tuned.history
    seconds = time.perf_counter() - started

    test_x, test_y = (
        source.test if isinstance(source.test, tuple) else (source.test, None)
    )
    test_logs = (
        trainer.evaluate(
            ts,
            test_x,
            test_y,
            batch_size=fit["batch_size"] if test_y is not None else None,
            return_dict=True,
            verbose=0,
        )
        if source.test is not None
        else None
    )
    model_dir = kerax.save_model(out / "model", model, ts.params, ts.state)

    reports = []
    formats = cfg["export"]["formats"]
    if formats:
        options = {f: dict(cfg["export"][f]) for f in formats}
        tflite = options.get("tflite", {})
        if tflite.get("quantization") == "int8":
            # Full int8 calibrates on typical inputs: the training data's.
            tflite.setdefault(
                "representative_data", data_sources.representative_inputs(source)
            )
        reports = kerax.export.export(
            model,
            out / "export",
            formats=tuple(formats),
            params=ts.params,
            state=ts.state,
            **options,
        )

    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    if (out / "history.csv").exists():  # All epochs, across resumed runs.
        hist = _read_csv(out / "history.csv") or hist
    for k, vals in fine_history.items():  # Fine-tuning epochs follow.
        hist.setdefault(k, []).extend(float(v) for v in vals)
    if not history.history:
        print(
            f"Nothing left to train: the checkpoints in {out / 'checkpoints'} already cover {fit['epochs']} epochs. "
            "Raise fit.epochs, or delete the directory (or change output_dir) to start over."
        )
    plot = plot_history(hist, out / "training.png") if hist else None
    extra = {
        "training time": f"{seconds:.1f} s",
        "plot": plot,
        "tensorboard": out / "tensorboard" if cfg["callbacks"]["tensorboard"] else None,
    }
    text = write_report(
        out / "report.txt",
        name=cfg["name"],
        history=hist,
        test_metrics=test_logs,
        model_dir=model_dir,
        exports=reports,
        extra={k: v for k, v in extra.items() if v is not None},
    )
    print(text)
    return {
        "history": hist,
        "test": {k: float(np.asarray(v)) for k, v in (test_logs or {}).items()},
        "output_dir": out,
        "exports": reports,
    }
