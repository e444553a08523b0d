"""FileHasher: correct digests, cached across instances and processes, re-read only when a file changes."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from dsjobs_lsp.core.packaging import FileDigest, FileHasher


async def test_digest_matches_hashlib_and_size(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # crosses chunk boundaries
    file = tmp_path / "data.bin"
    file.write_bytes(data)
    hasher = FileHasher(tmp_path / "cache.db")
    assert await hasher.hash(file) == FileDigest(hashlib.sha256(data).hexdigest(), len(data))


async def test_unchanged_file_is_not_read_again_even_by_a_new_hasher(tmp_path: Path) -> None:
    file = tmp_path / "data.bin"
    file.write_bytes(b"x" * 100_000)
    first = FileHasher(tmp_path / "cache.db")
    digest = await first.hash(file)
    again = await first.hash(file)
    assert again == digest
    assert (first.stats.misses, first.stats.hits, first.stats.bytes_read) == (1, 1, 100_000)
    first.close()
    second = FileHasher(tmp_path / "cache.db")
    assert await second.hash(file) == digest
    assert (second.stats.misses, second.stats.bytes_read) == (0, 0)


async def test_modified_file_is_rehashed(tmp_path: Path) -> None:
    file = tmp_path / "data.txt"
    file.write_text("one")
    hasher = FileHasher(tmp_path / "cache.db")
    before = await hasher.hash(file)
    file.write_text("two!")
    after = await hasher.hash(file)
    assert after == FileDigest(hashlib.sha256(b"two!").hexdigest(), 4)
    assert before != after
    assert hasher.stats.misses == 2


async def test_many_files_hash_concurrently_in_order(tmp_path: Path) -> None:
    files = []
    for index in range(12):
        file = tmp_path / f"f{index}.txt"
        file.write_text(f"content {index}")
        files.append(file)
    digests = await FileHasher(tmp_path / "cache.db", concurrency=3).hash_many(files)
    assert [d.sha256 for d in digests] == [
        hashlib.sha256(f"content {i}".encode()).hexdigest() for i in range(12)
    ]


_CHILD = """
import asyncio, sys
from pathlib import Path
from dsjobs_lsp.core.packaging import FileHasher
async def main():
    hasher = FileHasher(Path(sys.argv[1]))
    await hasher.hash_many([Path(p) for p in sys.argv[2:]])
asyncio.run(main())
"""


async def test_two_processes_share_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache.db"
    groups: list[list[str]] = [[], []]
    for index in range(40):
        file = tmp_path / f"f{index}.txt"
        file.write_text(str(index) * 1000)
        groups[index % 2].append(str(file))
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD, str(cache), *group, stderr=subprocess.PIPE
        )
        for group in groups
    ]
    results = [await child.communicate() for child in children]
    assert [child.returncode for child in children] == [0, 0], results
    hasher = FileHasher(cache)
    await hasher.hash_many([tmp_path / f"f{i}.txt" for i in range(40)])
    assert (hasher.stats.hits, hasher.stats.misses) == (40, 0)


async def test_hash_many_reads_only_what_changed_and_keeps_the_order(tmp_path: Path) -> None:
    files = [tmp_path / f"f{i}.txt" for i in range(6)]
    for i, file in enumerate(files):
        file.write_text(f"content {i}")
    hasher = FileHasher(tmp_path / "cache.db")
    await hasher.hash_many(files)
    files[2].write_text("changed, and longer")
    digests = await hasher.hash_many(files)
    assert [d.sha256 for d in digests] == [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    assert (hasher.stats.misses, hasher.stats.hits) == (7, 5)


async def test_many_files_hashed_in_order_and_all_remembered(tmp_path: Path) -> None:
    contents = [os.urandom(size) for size in [0, 1, 4096, (1 << 20) + 3, *range(100, 4100, 100)]]
    paths = []
    for index, data in enumerate(contents):
        paths.append(tmp_path / f"f{index}.bin")
        paths[-1].write_bytes(data)
    hasher = FileHasher(tmp_path / "cache.db")
    found = await hasher.hash_many(paths)
    assert found == [FileDigest(hashlib.sha256(data).hexdigest(), len(data)) for data in contents]
    assert (hasher.stats.misses, hasher.stats.bytes_read) == (len(paths), sum(map(len, contents)))
    hasher.close()
    again = FileHasher(tmp_path / "cache.db")
    assert await again.hash_many(paths) == found
    assert (again.stats.hits, again.stats.misses) == (len(paths), 0)
