"""`--format table`: our layout of plain-text tables is tabulate's, byte for byte, and every other table is
left to tabulate itself (numbers, wide characters, escape codes, line breaks)."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from tabulate import tabulate

from dsjobs_lsp.cli.output import Field, format_table

TITLES = ("ID", "Name", "Data cleared")
FIELDS = tuple(Field(lambda row: row, title.lower(), title) for title in TITLES)
CELLS: tuple[Any, ...] = (
    "lj0123456789abcdefgh", "listed", "", " padded ", "two  words", "2026-11-27T11:43:53.240278", "Never",
    True, False, "True", "False", "42", "-1.5", "1,000", "1e5", "inf", "nan", "Infinity", "1_000", ".", "-",
    " 7 ", "E", "naïve", "日本語", "a\tb", "line\nbreak", "\x1b[31mred\x1b[0m",
)  # fmt: skip
"""Text, bools, number-like strings (tabulate right-aligns a column of them), cells it measures its way."""


def reference(rows: list[list[Any]]) -> str:
    return str(tabulate(rows, headers=list(TITLES)))


@pytest.mark.parametrize("rows", [[], [["lj1", "job", False]], [["lj1", "42", True], ["lj2", "", False]]])
def test_small_tables_are_tabulates(rows: list[list[Any]]) -> None:
    assert format_table(rows, FIELDS) == reference(rows)


def test_every_mix_of_cells_is_laid_out_as_tabulate_lays_it_out() -> None:
    pick = random.Random(11)
    tables = [[list(row)] for row in itertools.product(CELLS, repeat=2) for row in [(*row, True)]]
    tables += [[[pick.choice(CELLS) for _ in TITLES] for _ in range(pick.randint(1, 5))] for _ in range(3000)]
    for rows in tables:
        assert format_table(rows, FIELDS) == reference(rows), rows


def test_a_list_of_thousands_of_jobs_is_tabulates_table() -> None:
    rows = [[f"lj{index:018d}", f"run {index}", index % 3 == 0] for index in range(5000)]
    assert format_table(rows, FIELDS) == reference(rows)
