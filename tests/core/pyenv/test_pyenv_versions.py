"""The job's Python version (service supports 3.8 to 3.12) and stdlib modules by version."""

from __future__ import annotations

import pytest

from dsjobs_lsp.core.pyenv.versions import in_stdlib_of, parse_version, stdlib_availability, target_version


@pytest.mark.parametrize(
    ("local", "target"),
    [
        ((3, 8), (3, 8)),
        ((3, 11), (3, 11)),
        ((3, 12), (3, 12)),
        ((3, 13), (3, 12)),
        ((3, 14), (3, 12)),
        ((3, 7), (3, 8)),
    ],
)
def test_target_version_is_the_nearest_supported(local: tuple[int, int], target: tuple[int, int]) -> None:
    chosen, warning = target_version(local)
    assert chosen == target
    assert (warning is None) == (local == target)
    if warning:
        assert f"local Python {local[0]}.{local[1]} is not supported" in warning
        assert f"uses Python {target[0]}.{target[1]}" in warning


def test_stdlib_availability_by_version() -> None:
    assert stdlib_availability("distutils", (3, 11)) is None
    assert stdlib_availability("distutils", (3, 12)) == "removed from the standard library in Python 3.12"
    assert stdlib_availability("tomllib", (3, 10)) == "added to the standard library only in Python 3.11"
    assert stdlib_availability("json", (3, 8)) is None
    # imghdr is gone from a local 3.13, yet the job's 3.12 still has it: not a missing module.
    assert in_stdlib_of("imghdr", (3, 12)) and not in_stdlib_of("imghdr", (3, 13))


def test_parse_version() -> None:
    assert parse_version("3.10") == (3, 10)
    assert parse_version("3.10.4") == (3, 10)
    with pytest.raises(ValueError, match="unsupported python version"):
        parse_version("2.7")
