"""Deterministic archives: same tree → same bytes; skip rules; cache by tree signature."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from dsjobs_lsp.core.packaging import zip_path


def _make_tree(root: Path) -> Path:
    project = root / "proj"
    (project / "sub").mkdir(parents=True)
    (project / "a.txt").write_text("hello\n" * 1000)
    (project / "sub" / "b.py").write_text("print('b')\n")
    (project / "noise.bin").write_bytes(os.urandom(200_000))
    for skipped in ("__pycache__", ".git", ".venv", "node_modules"):
        (project / skipped).mkdir()
        (project / skipped / "junk.txt").write_text("junk")
    (project / ".DS_Store").write_bytes(b"\0\1")
    return project


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_same_tree_gives_identical_archive_even_after_touching(tmp_path: Path) -> None:
    project = _make_tree(tmp_path)
    first = await zip_path(project, cache_dir=tmp_path / "cache1")
    for file in project.rglob("*"):
        if file.is_file():
            os.utime(file, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    second = await zip_path(project, cache_dir=tmp_path / "cache2")
    assert first != second
    assert _sha(first) == _sha(second)


async def test_archive_entries_are_sorted_relative_fixed_and_skip_junk(tmp_path: Path) -> None:
    project = _make_tree(tmp_path)
    archive = await zip_path(project, cache_dir=tmp_path / "cache")
    with zipfile.ZipFile(archive) as bundle:
        infos = bundle.infolist()
        names = [i.filename for i in infos]
        assert names == ["proj/a.txt", "proj/noise.bin", "proj/sub/b.py"]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
        kinds = {i.filename: i.compress_type for i in infos}
        assert kinds["proj/a.txt"] == zipfile.ZIP_DEFLATED
        assert kinds["proj/noise.bin"] == zipfile.ZIP_STORED
        assert bundle.read("proj/sub/b.py") == b"print('b')\n"


async def test_unchanged_tree_is_not_rezipped_and_a_change_is_seen(tmp_path: Path) -> None:
    project = _make_tree(tmp_path)
    cache = tmp_path / "cache"
    first = await zip_path(project, cache_dir=cache)
    stamp = first.stat().st_mtime_ns
    again = await zip_path(project, cache_dir=cache)
    assert again == first
    assert again.stat().st_mtime_ns == stamp
    (project / "sub" / "b.py").write_text("print('changed')\n")
    changed = await zip_path(project, cache_dir=cache)
    assert changed != first
    with zipfile.ZipFile(changed) as bundle:
        assert bundle.read("proj/sub/b.py") == b"print('changed')\n"


async def test_single_file_and_explicit_root(tmp_path: Path) -> None:
    module = tmp_path / "pkg" / "mod.py"
    module.parent.mkdir()
    module.write_text("X = 1\n")
    archive = await zip_path(module, cache_dir=tmp_path / "cache")
    with zipfile.ZipFile(archive) as bundle:
        assert bundle.namelist() == ["mod.py"]
    rooted = await zip_path(module, cache_dir=tmp_path / "cache", root=tmp_path)
    with zipfile.ZipFile(rooted) as bundle:
        assert bundle.namelist() == ["pkg/mod.py"]


async def test_missing_source_and_foreign_root_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        await zip_path(tmp_path / "nope", cache_dir=tmp_path / "cache")
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="not inside the archive root"):
        await zip_path(tmp_path / "a", cache_dir=tmp_path / "cache", root=tmp_path / "b")


async def test_executable_files_keep_their_bit_and_a_chmod_makes_a_new_archive(tmp_path: Path) -> None:
    project = _make_tree(tmp_path)
    script = project / "run.sh"
    script.write_text("echo hi\n")
    before = await zip_path(project, cache_dir=tmp_path / "cache")
    script.chmod(0o755)
    after = await zip_path(project, cache_dir=tmp_path / "cache")
    with zipfile.ZipFile(before) as old, zipfile.ZipFile(after) as new:
        assert old.getinfo("proj/run.sh").external_attr >> 16 == 0o100644
        modes = {i.filename: i.external_attr >> 16 for i in new.infolist()}
    assert modes["proj/run.sh"] == 0o100755
    assert {mode for name, mode in modes.items() if name != "proj/run.sh"} == {0o100644}
    assert _sha(before) != _sha(after)
