"""What a person wants to look at after `kerax train`: a plot and a report."""

from __future__ import annotations

from pathlib import Path


def plot_history(history: dict, path: Path) -> Path:
    """A PNG with one panel per metric (train and validation curves)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [k for k in history if not k.startswith("val_") and k != "learning_rate"]
    if not names:
        names = list(history)
    fig, axes = plt.subplots(
        1, len(names), figsize=(4.5 * len(names), 3.6), squeeze=False
    )
    for ax, name in zip(axes[0], names):
        values = history[name]
        epochs = range(1, len(values) + 1)
        ax.plot(epochs, values, marker="o", label=f"train {name}")
        if f"val_{name}" in history:
            ax.plot(
                epochs, history[f"val_{name}"], marker="s", label=f"validation {name}"
            )
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(
    path: Path,
    *,
    name: str,
    history: dict,
    test_metrics: dict | None,
    model_dir: Path | None,
    exports: list,
    extra: dict | None = None,
) -> str:
    lines = [f"kerax run: {name}", ""]
    if history:
        epochs = len(next(iter(history.values())))
        last = {k: v[-1] for k, v in history.items()}
        lines.append(
            f"Trained {epochs} epochs. Final: "
            + ", ".join(f"{k}={v:.4f}" for k, v in last.items())
        )
    if test_metrics:
        lines.append(
            "Test: " + ", ".join(f"{k}={float(v):.4f}" for k, v in test_metrics.items())
        )
    if model_dir is not None:
        lines.append(f"Model: {model_dir}  (kerax.load_model)")
    for report in exports:
        lines.append(f"Export {report}")
    for k, v in (extra or {}).items():
        lines.append(f"{k}: {v}")
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return text
