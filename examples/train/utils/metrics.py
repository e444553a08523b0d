"""Metrics of the training example: plain Python, so the job needs nothing but PyYAML."""

from __future__ import annotations

from collections.abc import Sequence


def mean_squared_error(predicted: Sequence[float], actual: Sequence[float]) -> float:
    """Mean of the squared differences."""
    if len(predicted) != len(actual) or not actual:
        raise ValueError("predicted and actual must be non-empty and of the same length")
    return sum((p - a) ** 2 for p, a in zip(predicted, actual, strict=True)) / len(actual)


def r2_score(predicted: Sequence[float], actual: Sequence[float]) -> float:
    """Coefficient of determination: 1 is a perfect fit."""
    mean = sum(actual) / len(actual)
    total = sum((a - mean) ** 2 for a in actual)
    return 1.0 - mean_squared_error(predicted, actual) * len(actual) / total if total else 0.0
