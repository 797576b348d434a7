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
    """scikit-learn's per-class report (precision, recall, F1, support; 3 digits) from a
    (C, C) confusion matrix whose rows are the true classes."""
    from sklearn.metrics import classification_report as sklearn_report

    matrix = np.asarray(matrix, dtype=np.int64)
    truth, predicted = np.nonzero(matrix)
    counts = matrix[truth, predicted]
    return sklearn_report(
        np.repeat(truth, counts),
        np.repeat(predicted, counts),
        labels=list(range(len(label_names))),
        target_names=label_names,
        digits=3,
        zero_division=0,
    )


def plot_confusion_matrix(metric: MulticlassConfusionMatrix, label_names: list[str], title: str):
    """A matplotlib figure of the metric's confusion matrix (torchmetrics' plot), counts in
    the cells."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    size = max(4, 0.6 * len(label_names) + 2)
    figure, axes = metric.plot(labels=label_names)
    figure.set_size_inches(size, size)
    axes.set_title(title)
    figure.tight_layout()
    return figure
