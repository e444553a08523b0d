"""The JSONC-preserving launch.json editor: comments, trailing commas, other entries and user keys survive."""

from __future__ import annotations

import textwrap

import pytest

from dsjobs_lsp.server.jsonc import JsoncError, parse_jsonc
from dsjobs_lsp.server.launch_json import LaunchJsonError, datasphere_entries, upsert_entry

MANAGED = {"program", "instanceType", "inputs", "args", "envVars"}

TABS = (
    "{\n"
    "\t// comment at the top\n"
    '\t"version": "0.2.0",\n'
    '\t"configurations": [\n'
    "\t\t{\n"
    '\t\t\t"type": "datasphere", "request": "launch",\n'
    '\t\t\t"name": "run", // keep\n'
    '\t\t\t"program": "old.py",\n'
    '\t\t\t"instanceType": "g1.1", /* gpu */\n'
    '\t\t\t"custom": 1,\n'
    "\t\t},\n"
    "\t],\n"
    "}\n"
)


def entry(**fields: object) -> dict[str, object]:
    return {"type": "datasphere", "request": "launch", "name": "run", **fields}


def test_update_replaces_values_removes_cleared_fields_and_keeps_everything_else() -> None:
    result = upsert_entry(TABS, entry(program="main.py", args=["a", "b"]), managed_keys=MANAGED)

    assert not result.created
    text = result.text
    assert "// comment at the top" in text and "// keep" in text and '"custom": 1,' in text
    assert '"program": "main.py",' in text
    assert "instanceType" not in text  # cleared on the form, so removed
    assert '\t\t\t"args": ["a", "b"],' in text  # appended with the file's tabs and trailing-comma style
    (saved,) = datasphere_entries(text)
    assert saved == {**entry(program="main.py", args=["a", "b"]), "custom": 1}


def test_new_entries_follow_the_file_indentation() -> None:
    text = '{\n  "configurations": []\n}'

    result = upsert_entry(text, entry(program="main.py", args=["x"]), managed_keys=MANAGED)

    assert result.text.startswith('{\n  "configurations": [\n    {\n      "type": "datasphere",')


def test_add_appends_a_new_entry_after_the_others() -> None:
    result = upsert_entry(TABS, entry(name="second", program="x.py"), managed_keys=MANAGED)

    assert result.created
    names = [e["name"] for e in parse_jsonc(result.text).value()["configurations"]]
    assert names == ["run", "second"]
    assert '\t\t{\n\t\t\t"type": "datasphere"' in result.text


def test_unchanged_entry_leaves_the_text_byte_for_byte() -> None:
    current = entry(program="old.py", instanceType="g1.1")

    result = upsert_entry(TABS, current, managed_keys=MANAGED)

    assert result.text == TABS


@pytest.mark.parametrize(
    "text",
    [
        "",
        '{"version": "0.2.0"}',
        '{\n  "configurations": [ // nothing yet\n  ]\n}',
        '{\n  "configurations": []\n}',
    ],
)
def test_missing_file_missing_array_and_empty_array_all_work(text: str) -> None:
    result = upsert_entry(text, entry(program="main.py"), managed_keys=MANAGED)

    assert result.created
    assert parse_jsonc(result.text).value()["configurations"] == [entry(program="main.py")]
    if "nothing yet" in text:
        assert "// nothing yet" in result.text


def test_a_non_datasphere_entry_with_the_same_name_is_not_touched() -> None:
    text = '{"configurations": [{"type": "debugpy", "name": "run", "program": "a.py"}]}'

    result = upsert_entry(text, entry(program="b.py"), managed_keys=MANAGED)

    assert result.created
    assert [e["type"] for e in parse_jsonc(result.text).value()["configurations"]] == [
        "debugpy",
        "datasphere",
    ]


def test_broken_files_raise_with_the_position() -> None:
    with pytest.raises(LaunchJsonError, match="line 2, column 24: expected a value"):
        upsert_entry('{\n    "configurations": [,]\n}', entry(), managed_keys=MANAGED)
    with pytest.raises(JsoncError, match="unterminated /\\* comment"):
        parse_jsonc("{/* open")


def test_jsonc_values_and_strings_with_comment_markers() -> None:
    text = textwrap.dedent(
        """\
        // lead
        {"url": "http://x//y", "n": -1.5e3, "ok": true, "none": null, "list": [1, 2,],}
        """
    )

    assert parse_jsonc(text).value() == {
        "url": "http://x//y",
        "n": -1500.0,
        "ok": True,
        "none": None,
        "list": [1, 2],
    }
