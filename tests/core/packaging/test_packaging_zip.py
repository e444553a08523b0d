"""Deterministic archives: same tree → same bytes; skip rules; cache by tree signature."""

from __future__ import annotations

import gc
import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from dsjobs_lsp.core.packaging import zip_path
from dsjobs_lsp.core.packaging.zipping import collect_entries, write_archive


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


async def test_small_and_big_files_mixed_each_stored_or_deflated_as_it_compresses(tmp_path: Path) -> None:
    """Small files are deflated once by worker threads and written as they are; big ones are streamed; the
    archive is valid whatever the order (a big file between small ones, many small files)."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    contents = {
        "a-text.txt": b"line of text\n" * 300,
        "b-random.bin": os.urandom(5000),
        "c-big-text.txt": b"0123456789abcdef" * 40_000,  # over the small-file size
        "d-tiny.txt": b"x",
        "e-empty.txt": b"",
        "f-packed.zip": b"PK" * 2000,  # compressible, but a compressed format: stored
        **{f"g-many/{i:04d}.txt": f"row {i}\n".encode() * 50 for i in range(300)},
        "h-big-random.bin": os.urandom(300_000),
        "\u00e9t\u00e9.txt": "caf\u00e9\n".encode() * 100,
    }
    for name, data in contents.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    archive = await zip_path(folder, cache_dir=tmp_path / "cache")
    with zipfile.ZipFile(archive) as bundle:
        assert bundle.testzip() is None
        infos = {info.filename.removeprefix("mixed/"): info for info in bundle.infolist()}
        assert {name: bundle.read(f"mixed/{name}") for name in contents} == contents
    deflated = {name for name, info in infos.items() if info.compress_type == zipfile.ZIP_DEFLATED}
    assert {"b-random.bin", "f-packed.zip", "h-big-random.bin"}.isdisjoint(deflated)
    assert {"a-text.txt", "c-big-text.txt", "d-tiny.txt", "g-many/0007.txt", "\u00e9t\u00e9.txt"} <= deflated
    again = await zip_path(folder, cache_dir=tmp_path / "cache-again")
    assert _sha(again) == _sha(archive)


async def test_an_archive_for_a_loopback_store_stores_every_file_and_keeps_the_modes(tmp_path: Path) -> None:
    """`deflate=False` (the local backend on this machine): every entry stored as it is, contents and modes
    kept, deterministic; the choice is part of the cache key (the deflated archive is another file)."""
    project = _make_tree(tmp_path)
    (project / "run.sh").write_text("echo hi\n")
    (project / "run.sh").chmod(0o755)
    (project / "big.txt").write_bytes(b"0123456789abcdef" * 40_000)  # streamed, not read whole
    stored = await zip_path(project, cache_dir=tmp_path / "cache", deflate=False)
    deflated = await zip_path(project, cache_dir=tmp_path / "cache")
    assert stored != deflated
    with zipfile.ZipFile(stored) as plain, zipfile.ZipFile(deflated) as packed:
        assert plain.testzip() is None
        assert {i.compress_type for i in plain.infolist()} == {zipfile.ZIP_STORED}
        assert zipfile.ZIP_DEFLATED in {i.compress_type for i in packed.infolist()}
        assert plain.namelist() == packed.namelist()
        assert all(plain.read(name) == packed.read(name) for name in plain.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in plain.infolist()}
    assert modes["proj/run.sh"] == 0o100755 and modes["proj/a.txt"] == 0o100644
    again = await zip_path(project, cache_dir=tmp_path / "cache-again", deflate=False)
    assert _sha(again) == _sha(stored)


async def test_no_garbage_collection_runs_while_a_many_file_archive_is_made(tmp_path: Path) -> None:
    """Thousands of entries, all alive until the archive is written: the cyclic collector waits (a full
    collection would walk the whole process for nothing), and runs again afterwards."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(3000):
        (folder / f"{i:04d}.txt").write_text(f"row {i}\n")
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    gc.callbacks.append(count)
    try:
        archive = await zip_path(folder, cache_dir=tmp_path / "cache", deflate=False)
    finally:
        gc.callbacks.remove(count)
    assert len(collections) <= 1  # at most the one put off, right after
    assert gc.isenabled()
    with zipfile.ZipFile(archive) as bundle:
        assert len(bundle.namelist()) == 3000
    gc.disable()  # off before: it stays off
    try:
        await zip_path(folder, cache_dir=tmp_path / "cache2")
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("deflate", [True, False])
def test_a_file_that_changed_since_it_was_listed_is_archived_as_it_is_now(
    tmp_path: Path, deflate: bool
) -> None:
    """Small files are read once, at their listed size; one that grew or shrank meanwhile is streamed
    instead, so the archive holds its bytes of the moment, whole."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(f"{name}\n" * 100)
    entries = collect_entries(folder, tmp_path)
    (folder / "a.txt").write_text("grown\n" * 500)
    (folder / "c.txt").write_text("shrunk\n")
    digest = write_archive(entries, tmp_path / "out.zip", deflate=deflate)
    with zipfile.ZipFile(tmp_path / "out.zip") as bundle:
        assert bundle.testzip() is None
        assert bundle.read("data/a.txt") == b"grown\n" * 500
        assert bundle.read("data/b.txt") == b"b.txt\n" * 100
        assert bundle.read("data/c.txt") == b"shrunk\n"
    assert digest in (None, _sha(tmp_path / "out.zip"))


def test_a_stored_archive_has_the_bytes_zipfile_itself_writes(tmp_path: Path) -> None:
    """Small files stored in place get the very headers (local and central) that ``zipfile`` writes for the
    same entries: UTF-8 names flagged, modes and the fixed timestamp kept."""
    folder = tmp_path / "data"
    contents = {
        "a.txt": b"alpha\n" * 100,
        "caf\u00e9/menu.txt": "cr\u00e8me\n".encode(),
        "e.txt": b"",
        "x.sh": b"ls\n",
    }
    for name, data in contents.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    (folder / "x.sh").chmod(0o755)
    entries = collect_entries(folder, tmp_path)
    digest = write_archive(entries, tmp_path / "ours.zip", deflate=False)
    with zipfile.ZipFile(tmp_path / "theirs.zip", "w") as theirs:
        for entry in entries:
            info = zipfile.ZipInfo(entry.arcname, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = entry.mode << 16
            theirs.writestr(info, contents[entry.arcname.removeprefix("data/")])
    assert (tmp_path / "ours.zip").read_bytes() == (tmp_path / "theirs.zip").read_bytes()
    assert digest == _sha(tmp_path / "ours.zip")
