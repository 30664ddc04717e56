"""The `kerax` command: train, evaluate, predict, export, summary, launch."""

from __future__ import annotations

import argparse
import os
import sys

from kerax.cli import commands
from kerax.cli.train import train
from kerax.distribute.launch import main as launch_main
from kerax.export.common import ExportError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kerax",
        description="kerax: the Keras API as pure JAX. Train, evaluate, export from the command line.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser(
        "train", help="train a model from a YAML config (resumes from its checkpoints)"
    )
    t.add_argument("config", help="a YAML run config, e.g. configs/digits_cnn.yaml")
    t.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set fit.epochs=3 (repeatable)",
    )

    e = sub.add_parser("evaluate", help="evaluate a saved model on a dataset")
    e.add_argument("model_dir")
    e.add_argument(
        "--data", default="digits", help="dataset name (kerax.datasets.names())"
    )
    e.add_argument("--loss", default="sparse_categorical_crossentropy")
    e.add_argument("--metrics", nargs="*", default=["accuracy"])
    e.add_argument("--batch-size", type=int, default=64)

    pr = sub.add_parser("predict", help="run a saved model on inputs from a .npy file")
    pr.add_argument("model_dir")
    pr.add_argument("--input", required=True, help=".npy file with a batch of inputs")
    pr.add_argument("--output", required=True, help=".npy file to write")
    pr.add_argument("--batch-size", type=int, default=64)

    x = sub.add_parser(
        "export", help="export a saved model (SavedModel, TFLite, StableHLO, ONNX)"
    )
    x.add_argument("model_dir")
    x.add_argument("out_dir")
    x.add_argument(
        "--formats", nargs="+", default=["saved_model", "tflite", "stablehlo"]
    )
    x.add_argument(
        "--quantization",
        choices=["float16", "dynamic_range"],
        default=None,
        help="TFLite quantization",
    )
    x.add_argument("--batch-size", type=int, default=1, help="TFLite fixed batch size")

    s = sub.add_parser(
        "summary", help="print the summary of a config's model or a saved model"
    )
    s.add_argument("source", help="a YAML config or a saved model directory")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    la = sub.add_parser(
        "launch",
        help="start N local processes wired together (multi-process runs)",
        add_help=False,
    )
    la.add_argument("args", nargs=argparse.REMAINDER)
    return p


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "launch":
        return launch_main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            train(args.config, args.set)
        elif args.command == "evaluate":
            commands.evaluate(
                args.model_dir, args.data, args.loss, args.metrics, args.batch_size
            )
        elif args.command == "predict":
            commands.predict(args.model_dir, args.input, args.output, args.batch_size)
        elif args.command == "export":
            commands.export(
                args.model_dir,
                args.out_dir,
                args.formats,
                args.quantization,
                args.batch_size,
            )
        elif args.command == "summary":
            commands.summary(args.source, args.set)
    except (ValueError, OSError, ExportError) as e:
        # ConfigError and ModelFileError are ValueErrors: a bad config, file or
        # input is the user's to fix, so one line, no traceback.
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"kerax {args.command}: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
