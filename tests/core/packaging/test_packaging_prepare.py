"""prepare_files, to_proto_file and check_limits as the run pipeline uses them."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.core.packaging import (
    FileHasher,
    LimitError,
    PackItem,
    PreparedFile,
    check_limits,
    humanize_bytes_size,
    prepare_files,
    to_proto_file,
)


async def test_files_and_folders_are_prepared_in_order(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("a,b\n1,2\n")
    (tmp_path / "main.py").write_text("print(1)\n")
    progress: list[tuple[int, int]] = []
    hasher = FileHasher(tmp_path / "state" / "hashes.db")
    items = [
        PackItem(tmp_path / "main.py", "main.py"),
        PackItem(tmp_path / "data", "data", var="DATA"),
    ]
    prepared = await prepare_files(
        items,
        hasher=hasher,
        cache_dir=tmp_path / "state" / "zips",
        on_progress=lambda done, total: progress.append((done, total)),
    )
    script, folder = prepared
    assert (script.desc_path, script.compression) == ("main.py", "NONE")
    assert script.local_path == tmp_path / "main.py"
    assert (folder.desc_path, folder.var, folder.compression) == ("data", "DATA", "ZIP")
    assert folder.local_path.suffix == ".zip" and folder.size == folder.local_path.stat().st_size
    assert sorted(progress) == [(1, 2), (2, 2)]

    assert folder.sha256 == hashlib.sha256(folder.local_path.read_bytes()).hexdigest()
    # the archive was hashed as it was written: only main.py was read
    assert (hasher.stats.misses, hasher.stats.bytes_read) == (1, len("print(1)\n"))

    again = await prepare_files(items, hasher=hasher, cache_dir=tmp_path / "state" / "zips")
    assert again == prepared
    assert hasher.stats.misses == 1  # the second run read nothing


async def test_bad_desc_path_and_missing_file_are_named(tmp_path: Path) -> None:
    hasher = FileHasher(tmp_path / "h.db")
    with pytest.raises(ValueError, match=r"'\.\./up\.txt'"):
        await prepare_files([PackItem(tmp_path / "up.txt", "../up.txt")], hasher=hasher, cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"'/abs\.txt'"):
        await prepare_files([PackItem(tmp_path / "up.txt", "/abs.txt")], hasher=hasher, cache_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"input gone\.txt"):
        await prepare_files([PackItem(tmp_path / "gone.txt", "gone.txt")], hasher=hasher, cache_dir=tmp_path)


async def test_local_modules_are_zipped_even_as_a_single_file(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("def f():\n    return 1\n")
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "m.py").write_text("x = 1\n")
    (tmp_path / "data.txt").write_text("plain input\n")
    items = [
        PackItem(tmp_path / "data.txt", "data.txt"),
        PackItem(
            tmp_path / "helper.py",
            "helper.py",
            var="_LOCAL_MODULE_0",
            role="local_module",
            archive_root=tmp_path,
        ),
        PackItem(tmp_path / "pkg", "pkg", var="_LOCAL_MODULE_1", role="local_module", archive_root=tmp_path),
    ]
    data, helper, package = await prepare_files(
        items, hasher=FileHasher(tmp_path / "h.db"), cache_dir=tmp_path / "zips"
    )
    assert (data.compression, data.local_path) == ("NONE", tmp_path / "data.txt")
    assert (helper.compression, helper.role, helper.var) == ("ZIP", "local_module", "_LOCAL_MODULE_0")
    with zipfile.ZipFile(helper.local_path) as archive:
        assert archive.namelist() == ["helper.py"]
    with zipfile.ZipFile(package.local_path) as archive:
        assert archive.namelist() == ["pkg/__init__.py", "pkg/sub/m.py"]
    assert package.sha256 == hashlib.sha256(package.local_path.read_bytes()).hexdigest()


async def test_a_missing_local_module_is_named_as_such(tmp_path: Path) -> None:
    item = PackItem(tmp_path / "gone.py", "gone.py", role="local_module", archive_root=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"the local module gone\.py \("):
        await prepare_files([item], hasher=FileHasher(tmp_path / "h.db"), cache_dir=tmp_path)


def test_to_proto_file_carries_everything() -> None:
    proto = to_proto_file(PreparedFile("data", "DATA", Path("/x.zip"), "ab" * 32, 123, "ZIP"))
    assert proto.desc.path == "data" and proto.desc.var == "DATA"
    assert (proto.sha256, proto.size_bytes) == ("ab" * 32, 123)
    assert proto.compression_type == jobs_pb2.FileCompressionType.ZIP
    plain = to_proto_file(PreparedFile("m.py", None, Path("/m.py"), "cd" * 32, 1, "NONE"))
    assert plain.desc.var == "" and plain.compression_type == jobs_pb2.FileCompressionType.NONE


def _sparse(path: Path, size: int) -> PreparedFile:
    with path.open("wb") as stream:
        stream.truncate(size)
    return PreparedFile(path.name, None, path, "0" * 64, os.stat(path).st_size, "NONE")


def test_limits_name_the_file_and_sizes(tmp_path: Path) -> None:
    big = _sparse(tmp_path / "big.bin", 5 * (1 << 30) + 1)
    with pytest.raises(LimitError, match=r"size of file big\.bin .* = 5\.0GB, while limit = 5\.0GB"):
        check_limits([big])
    parts = [_sparse(tmp_path / f"p{i}.bin", 4 * (1 << 30)) for i in range(3)]
    with pytest.raises(LimitError, match=r"total size of input files = 12\.0GB, while limit = 10\.0GB"):
        check_limits(parts)
    check_limits(parts[:2])


def test_list_limits() -> None:
    small = [PreparedFile(f"f{i}", None, Path(f"/f{i}"), "0" * 64, 1, "NONE") for i in range(101)]
    with pytest.raises(LimitError, match=r"number of input files \(101\) must be not greater than 100"):
        check_limits(small)
    check_limits(small[:100], outputs=100, s3_mounts=100, datasets=100)
    with pytest.raises(LimitError, match="number of datasets"):
        check_limits([], datasets=101)


def test_humanize_matches_reference() -> None:
    assert humanize_bytes_size(0) == "0.0B"
    assert humanize_bytes_size(1536) == "1.5KB"
    assert humanize_bytes_size(129.7 * (1 << 20)) == "129.7MB"


async def test_an_input_folder_ships_whole_and_local_code_skips_caches(tmp_path: Path) -> None:
    project = tmp_path / "project"
    inputs = ("data/.git/HEAD", "data/node_modules/m.js", "data/__pycache__/x.pyc", "data/.env", "data/a.csv")
    for name in inputs:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(name)
    for name in ("pkg/__init__.py", "pkg/__pycache__/__init__.cpython-311.pyc"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(name)
    items = [
        PackItem(project / "data", "data", var="DATA"),
        PackItem(project / "pkg", "pkg", role="local_module", archive_root=project),
    ]
    folder, module = await prepare_files(
        items, hasher=FileHasher(tmp_path / "h.db"), cache_dir=tmp_path / "zips"
    )
    with zipfile.ZipFile(folder.local_path) as bundle:
        assert bundle.namelist() == [
            "data/.env",
            "data/.git/HEAD",
            "data/__pycache__/x.pyc",
            "data/a.csv",
            "data/node_modules/m.js",
        ]
    with zipfile.ZipFile(module.local_path) as bundle:
        assert bundle.namelist() == ["pkg/__init__.py"]


async def test_a_path_outside_the_working_dir_is_shipped_with_its_variable(tmp_path: Path) -> None:
    (tmp_path / "params.json").write_text("{}")
    items = [
        PackItem(tmp_path / "params.json", "/usr/share/params.json", var="PARAMS"),
        PackItem(tmp_path / "params.json", "../params.json", var="UP"),
    ]
    prepared = await prepare_files(items, hasher=FileHasher(tmp_path / "h.db"), cache_dir=tmp_path / "c")
    assert [(p.desc_path, p.var, p.compression) for p in prepared] == [
        ("/usr/share/params.json", "PARAMS", "NONE"),
        ("../params.json", "UP", "NONE"),
    ]


@pytest.mark.parametrize("deflate", [True, False])
async def test_a_folder_archive_is_hashed_as_it_is_written_big_files_too(
    tmp_path: Path, deflate: bool
) -> None:
    """The digest of a new archive comes from writing it (only the inputs are read); one with a big entry,
    whose header is rewritten in place, is hashed from the file. Either way it is the archive's sha256, and
    remembered: the next run reads nothing."""
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "a.txt").write_text("a\n" * 100)
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "b.txt").write_text("b\n" * 100)
    (tmp_path / "mixed" / "big.bin").write_bytes(os.urandom(400_000))
    hasher = FileHasher(tmp_path / "hashes.db")
    items = [PackItem(tmp_path / "small", "small"), PackItem(tmp_path / "mixed", "mixed")]
    small, mixed = await prepare_files(items, hasher=hasher, cache_dir=tmp_path / "zips", deflate=deflate)
    for file in (small, mixed):
        assert file.sha256 == hashlib.sha256(file.local_path.read_bytes()).hexdigest()
        assert file.size == file.local_path.stat().st_size
    assert hasher.stats.bytes_read == mixed.size  # only the archive with a big entry was read back
    again = await prepare_files(items, hasher=hasher, cache_dir=tmp_path / "zips", deflate=deflate)
    assert again == [small, mixed] and hasher.stats.bytes_read == mixed.size
