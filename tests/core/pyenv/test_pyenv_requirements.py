"""Requirements files (what the reference accepts and more), version pins, `generate_requirements`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from dsjobs_lsp.core.pyenv import (
    PipOptions,
    PythonEnvError,
    RequirementsError,
    generate_requirements,
    parse_requirements_file,
    pin,
)
from tests.core.pyenv.pyenv_samples import SAMPLE_REQUIREMENTS, main_line, pinned, write_files


def test_reference_style_file_with_comments_options_and_includes(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "requirements.txt": (
                "# training deps\n"
                "PyYAML==6.0.3\n"
                "\n"
                "scikit-learn[alldeps]>=1.3,<2  # comment after a requirement\n"
                "torch==2.1.0 \\\n"
                "    # continued\n"
                "--extra-index-url https://download.example/whl/cpu\n"
                "--trusted-host=download.example\n"
                "-i https://mirror.example/simple\n"
                "--no-deps\n"
                "-r more/extra.txt\n"
            ),
            "more/extra.txt": "attrs==25.1.0\n--extra-index-url https://second.example/simple?token=a=b\n",
        },
    )
    parsed = parse_requirements_file(tmp_path / "requirements.txt")
    assert parsed.requirements == [
        "PyYAML==6.0.3",
        "scikit-learn[alldeps]>=1.3,<2",
        "torch==2.1.0",
        "attrs==25.1.0",
    ]
    assert parsed.pip_options == PipOptions(
        index_url="https://mirror.example/simple",
        extra_index_urls=("https://download.example/whl/cpu", "https://second.example/simple?token=a=b"),
        trusted_hosts=("download.example",),
        no_deps=True,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "pyyaml\nnumpy; python_version < '3.10'\n",
            r"requirements\.txt:2: requirement markers are not supported",
        ),
        ("pkg @ https://example.com/pkg.whl\n", r"requirements\.txt:1: requirement URLs are not supported"),
        ("# header\n\n-e ./local\n", r"requirements\.txt:3: option -e is not supported"),
        ("numpy==1.26\nNumPy>=1\n", r"requirements\.txt:2: NumPy is already required at requirements\.txt:1"),
        ("numpy=>1\n", r"requirements\.txt:1: invalid requirement 'numpy=>1'"),
        ("--extra-index-url\n", r"requirements\.txt:1: option --extra-index-url needs a value"),
        ("-r requirements.txt\n", r"requirements\.txt:1: `-r requirements\.txt` includes itself"),
        ("-r missing.txt\n", r"requirements\.txt:1: cannot read requirements file .*missing\.txt"),
    ],
)
def test_bad_lines_are_rejected_with_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    write_files(tmp_path, {"requirements.txt": text})
    with pytest.raises(RequirementsError, match=message):
        parse_requirements_file(tmp_path / "requirements.txt")


def test_pin_strips_local_version_labels_with_a_warning() -> None:
    assert pin("PyYAML", "6.0.3") == ("PyYAML==6.0.3", None)
    line, warning = pin("torch", "2.1.0+cpu")
    assert line == "torch==2.1.0"
    assert warning is not None and "'+cpu'" in warning and "extra-index-urls" in warning


async def test_generate_requirements_pins_what_the_code_imports(
    sample_project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="dsjobs_lsp.core.pyenv.requirements"):
        lines = await generate_requirements(
            [Path("main.py"), Path("worker.py")], working_dir=sample_project, interpreter=Path(sys.executable)
        )
    assert lines == pinned(*SAMPLE_REQUIREMENTS, "Deprecated")
    missing_line = main_line("import definitely_missing")
    assert f"main.py:{missing_line}: module 'definitely_missing_mod_xyz'" in caplog.text
    assert not (sample_project / "SIDE_EFFECT").exists()


async def test_generate_requirements_rejects_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PythonEnvError, match=r"root module nope\.py not found"):
        await generate_requirements([Path("nope.py")], working_dir=tmp_path, interpreter=Path(sys.executable))
