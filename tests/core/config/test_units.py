"""Human sizes and durations read as the reference reads them, and durations written back losslessly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dsjobs_lsp.core.config.units import format_duration, parse_human_duration, parse_human_size


@pytest.mark.parametrize(
    ("text", "size"),
    [("150Gb", 150 << 30), (" 2 tb ", 2 << 40), ("512MB", 512 << 20), ("1024", 1024), ("1_0KB", 10 << 10)],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_human_size(text) == size


@pytest.mark.parametrize("text", ["150G", "1.5GB", "GB", "-"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError):
        parse_human_size(text)


@pytest.mark.parametrize("text", ["30s", "1m30s", "2h", "1d2h3m4s5ms", "250ms"])
def test_durations_round_trip(text: str) -> None:
    value = parse_human_duration(text)
    assert value is not None and format_duration(value) == text


def test_duration_needs_a_unit() -> None:
    assert parse_human_duration("30") is None
    assert parse_human_duration("") == timedelta(0)
