"""Human sizes (`150Gb`) and durations (`1m30s`), read exactly as the reference CLI reads them."""

from __future__ import annotations

import re
from datetime import timedelta

_SIZE_UNITS = (("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30), ("TB", 1 << 40), ("PB", 1 << 50))
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
GIB = 1 << 30


def parse_human_size(text: str) -> int:
    """Bytes in `text`: a plain number of bytes or a number with KB/MB/GB/TB/PB (any case).

    Raises ValueError like the reference's `parse_human_size` (which uses `int()` on the number part).
    """
    size = text.strip().upper()
    if size.isdigit():
        return int(size)
    for unit, multiplier in _SIZE_UNITS:
        if size.endswith(unit):
            return int(size[: -len(unit)].strip()) * multiplier
    raise ValueError(f"invalid size `{text}`: use a number with KB, MB, GB, TB or PB, e.g. `150Gb`")


def parse_human_duration(text: str) -> timedelta | None:
    """`1d2h3m4s5ms`-style duration (every part optional); None when `text` does not fit."""
    match = _DURATION.fullmatch(text)
    if match is None:
        return None
    days, hours, minutes, seconds, millis = (int(part) if part else 0 for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds, milliseconds=millis)


def format_duration(value: timedelta) -> str:
    """The shortest `1h2m3s`-style text that `parse_human_duration` reads back as `value`."""
    total_ms = round(value.total_seconds() * 1000)
    parts: list[str] = []
    for unit, length in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, total_ms = divmod(total_ms, length)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
