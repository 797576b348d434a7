"""Classification metrics: accuracy, macro/weighted precision-recall-F1, confusion matrix, report."""

from __future__ import annotations

import numpy as np
from torchmetrics import MetricCollection
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassConfusionMatrix,
    MulticlassF1Score,
    MulticlassPrecision,
    MulticlassRecall,
)


def classification_metrics(num_classes: int) -> MetricCollection:
    """Scalar metrics, logged as `stage/acc`, `stage/f1_macro`, ..."""
    metrics = {"acc": MulticlassAccuracy(num_classes, average="micro")}
    for average in ("macro", "weighted"):
        metrics[f"precision_{average}"] = MulticlassPrecision(num_classes, average=average)
        metrics[f"recall_{average}"] = MulticlassRecall(num_classes, average=average)
        metrics[f"f1_{average}"] = MulticlassF1Score(num_classes, average=average)
    return MetricCollection(metrics)


def confusion_matrix(num_classes: int) -> MulticlassConfusionMatrix:
    return MulticlassConfusionMatrix(num_classes)


def classification_report(matrix: np.ndarray, label_names: list[str]) -> str:
    """Per-class precision, recall, F1 and support from a (C, C) confusion matrix (rows = truth),
    laid out like scikit-learn's classification report."""
    matrix = np.asarray(matrix, dtype=np.float64)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    hits = np.diag(matrix)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall, denominator, out=np.zeros_like(hits), where=denominator > 0
    )
    width = max(12, *(len(name) for name in label_names))
    lines = [f"{'':>{width}} {'precision':>9} {'recall':>9} {'f1-score':>9} {'support':>9}", ""]
    for i, name in enumerate(label_names):
        lines.append(
            f"{name:>{width}} {precision[i]:9.3f} {recall[i]:9.3f} {f1[i]:9.3f} {int(support[i]):9d}"
        )
    total = support.sum()
    lines.append("")
    lines.append(
        f"{'accuracy':>{width}} {'':>9} {'':>9} {hits.sum() / max(total, 1):9.3f} {int(total):9d}"
    )
    for name, weights in (("macro avg", np.ones_like(support)), ("weighted avg", support)):
        norm = max(weights.sum(), 1)
        lines.append(
            f"{name:>{width}} {(precision * weights).sum() / norm:9.3f} "
            f"{(recall * weights).sum() / norm:9.3f} {(f1 * weights).sum() / norm:9.3f} {int(total):9d}"
        )
    return "\n".join(lines)


def plot_confusion_matrix(
    matrix: np.ndarray, label_names: list[str], title: str = "confusion matrix"
):
    """A matplotlib figure of the confusion matrix with counts in the cells."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    size = max(4, 0.6 * len(label_names) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(label_names)), label_names, rotation=45, ha="right")
    axes.set_yticks(range(len(label_names)), label_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), value in np.ndenumerate(matrix):
        axes.text(
            col,
            row,
            int(value),
            ha="center",
            va="center",
            color="white" if value > threshold else "black",
            fontsize=8,
        )
    figure.tight_layout()
    return figure
