"""Deterministic zip archives of files and folders, cached by a signature of the tree.

Rules (documented for users in the README of packaging):
- entries are the files under ``src`` (recursively), named relative to ``root`` (default ``src.parent``, like
  the reference CLI's ``_zip_path``), POSIX separators, sorted by name; folders get no entries of their own;
- folders named ``__pycache__``, ``.git``, ``.venv``, ``node_modules`` and files named ``.DS_Store`` are
  skipped;
  symlinked folders are not followed (as ``os.walk`` does), symlinked files are stored by content;
- every entry has the timestamp 1980-01-01 00:00:00 and permissions 0644, or 0755 when the file is executable
  by its owner (so `./run.sh` runs in the job), so an unchanged tree gives a byte-identical archive (same
  sha256), which makes a re-run upload nothing;
- files that do not compress (known compressed formats, or a sample that deflates by less than 10 %) are
  stored; the rest are deflated at level 1 (on source code twice as fast as level 6, for about 13 % more
  bytes: the faster choice unless the upload runs under about 4 MB/s).

Small files (up to ``SAMPLE_SIZE``, most entries of a many-file folder) are compressed once: worker threads
read and deflate them (zlib runs without the GIL, so both cores work), and the archive takes the deflated
bytes as they are, or the original bytes when deflating saved less than 10 %. Bigger files are streamed
through ``zipfile`` after a sample decided how to store them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dsjobs_lsp.core.privacy import private_dir

SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".venv", "node_modules"})
SKIPPED_FILES = frozenset({".DS_Store"})
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
EXECUTABLE_FILE_MODE = 0o100755
DEFLATE_LEVEL = 1
SAMPLE_SIZE = 256 * 1024
MIN_SAVING = 0.10
STORED_SUFFIXES = frozenset(
    {
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".zst",
        ".7z",
        ".rar",
        ".whl",
        ".jar",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".mp3",
        ".mp4",
        ".avi",
        ".mkv",
        ".mov",
        ".ogg",
        ".flac",
        ".pdf",
        ".npz",
        ".pt",
        ".pth",
        ".safetensors",
        ".ckpt",
        ".h5",
        ".parquet",
        ".onnx",
        ".tflite",
        ".pkl.gz",
        ".docx",
        ".xlsx",
        ".pptx",
    }
)
_STORED_SUFFIX_TUPLE = tuple(STORED_SUFFIXES)
_FORMAT_VERSION = 3  # 2: archives deflated at level 1; 3: executable entries 0755
_COPY_CHUNK = 1 << 20
_SMALL_FILE_WORKERS = 2
_SMALL_FILES_AHEAD = 64


@dataclass(frozen=True)
class TreeEntry:
    """One file going into an archive."""

    path: Path
    arcname: str
    size: int
    mtime_ns: int
    executable: bool = False

    @property
    def mode(self) -> int:
        """The entry's Unix mode (file type and permissions) as stored in ``external_attr``."""
        return EXECUTABLE_FILE_MODE if self.executable else FILE_MODE


def collect_entries(src: Path, root: Path) -> list[TreeEntry]:
    """The files an archive of ``src`` holds, sorted by entry name (blocking)."""
    if src.is_file():
        files = [src]
    else:
        files = []
        for folder, dirnames, filenames in os.walk(src):
            dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
            files.extend(Path(folder) / f for f in filenames if f not in SKIPPED_FILES)
    entries = []
    for file in files:
        stat = file.stat()
        arcname = file.relative_to(root).as_posix()
        executable = bool(stat.st_mode & 0o100)
        entries.append(TreeEntry(file, arcname, stat.st_size, stat.st_mtime_ns, executable))
    return sorted(entries, key=lambda e: e.arcname)


def tree_signature(entries: list[TreeEntry]) -> str:
    """A sha256 over entry names, sizes, mtimes and modes: equal signatures mean the same archive."""
    payload = [_FORMAT_VERSION, *[(e.arcname, e.size, e.mtime_ns, e.mode) for e in entries]]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def should_store(path: Path) -> bool:
    """True when deflating ``path`` is not worth it (compressed format, or a sample saves < 10 %)."""
    if _has_stored_suffix(path):
        return True
    with path.open("rb") as stream:
        sample = stream.read(SAMPLE_SIZE)
    if len(sample) < 64:
        return False
    return len(zlib.compress(sample, 1)) > len(sample) * (1 - MIN_SAVING)


@dataclass(frozen=True)
class _Packed:
    """A small file's entry ready to be written: its bytes as stored in the archive and how."""

    data: bytes
    crc: int
    size: int
    compress_type: int


def _pack_small(entry: TreeEntry) -> _Packed:
    """Read a small file and deflate it once; keep the original bytes if that saved less than 10 %
    (files under 64 bytes are always deflated, known compressed formats never)."""
    with entry.path.open("rb") as source:
        data = source.read()
    crc = zlib.crc32(data)
    if not _has_stored_suffix(entry.path):
        compressor = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
        deflated = compressor.compress(data) + compressor.flush()
        if len(data) < 64 or len(deflated) <= len(data) * (1 - MIN_SAVING):
            return _Packed(deflated, crc, len(data), zipfile.ZIP_DEFLATED)
    return _Packed(data, crc, len(data), zipfile.ZIP_STORED)


def _has_stored_suffix(path: Path) -> bool:
    return path.name.lower().endswith(_STORED_SUFFIX_TUPLE)


def _entry_info(entry: TreeEntry) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(entry.arcname, date_time=FIXED_DATE_TIME)
    info.create_system = 3
    info.external_attr = entry.mode << 16
    return info


def _write_packed(archive: zipfile.ZipFile, info: zipfile.ZipInfo, packed: _Packed) -> None:
    """Append an entry whose bytes are already compressed, the way ``ZipFile.writestr`` lays one out."""
    assert archive.fp is not None
    info.compress_type = packed.compress_type
    info.file_size = packed.size
    info.compress_size = len(packed.data)
    info.CRC = packed.crc
    info.header_offset = archive.fp.tell()
    archive.fp.write(info.FileHeader(False))
    archive.fp.write(packed.data)
    archive.filelist.append(info)
    archive.NameToInfo[info.filename] = info
    archive.start_dir = archive.fp.tell()  # type: ignore[attr-defined]  # where the central directory goes


def _write_streamed(archive: zipfile.ZipFile, info: zipfile.ZipInfo, entry: TreeEntry) -> None:
    info.compress_type = zipfile.ZIP_STORED if should_store(entry.path) else zipfile.ZIP_DEFLATED
    large = entry.size >= zipfile.ZIP64_LIMIT
    with entry.path.open("rb") as source, archive.open(info, "w", force_zip64=large) as sink:
        while chunk := source.read(_COPY_CHUNK):
            sink.write(chunk)


def _packed_in_order(entries: list[TreeEntry], pool: ThreadPoolExecutor) -> Iterator[_Packed | None]:
    """Each entry's packed bytes (None for a big file), computed a few entries ahead on ``pool``."""
    pending = []
    for entry in entries:
        is_small = entry.size <= SAMPLE_SIZE
        pending.append(pool.submit(_pack_small, entry) if is_small else None)
        if len(pending) > _SMALL_FILES_AHEAD:
            first = pending.pop(0)
            yield None if first is None else first.result()
    for future in pending:
        yield None if future is None else future.result()


def write_archive(entries: list[TreeEntry], target: Path) -> None:
    """Write a deterministic zip of ``entries`` to ``target`` (blocking)."""
    with (
        zipfile.ZipFile(target, "w", allowZip64=True, compresslevel=DEFLATE_LEVEL) as archive,
        ThreadPoolExecutor(_SMALL_FILE_WORKERS, thread_name_prefix="dsjobs-zip") as pool,
    ):
        for entry, packed in zip(entries, _packed_in_order(entries, pool), strict=True):
            info = _entry_info(entry)
            if packed is not None and packed.size == entry.size:
                _write_packed(archive, info, packed)
            else:  # a big file, or a small one that grew since it was listed
                _write_streamed(archive, info, entry)


def _zip_blocking(src: Path, root: Path, cache_dir: Path) -> Path:
    entries = collect_entries(src, root)
    signature = tree_signature(entries)
    target = cache_dir / f"{signature}.zip"
    if target.exists():
        return target
    private_dir(cache_dir)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        write_archive(entries, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def zip_path_blocking(src: Path, *, cache_dir: Path, root: Path | None = None) -> Path:
    """``zip_path`` for callers already on a worker thread."""
    src = Path(os.path.abspath(src))
    base = Path(os.path.abspath(root or src.parent))
    if not src.exists():
        raise FileNotFoundError(f"cannot zip {src}: it does not exist")
    if not src.is_relative_to(base):
        raise ValueError(f"cannot zip {src}: it is not inside the archive root {base}")
    return _zip_blocking(src, base, cache_dir)


async def zip_path(src: Path, *, cache_dir: Path, root: Path | None = None) -> Path:
    """A deterministic zip of ``src`` (file or folder), entries relative to ``root`` (default: its parent).

    The archive lives in ``cache_dir`` under the tree's signature, so an unchanged tree is neither re-zipped
    nor (the archive's mtime being unchanged) re-hashed by a ``FileHasher``.
    """
    return await asyncio.to_thread(zip_path_blocking, src, cache_dir=cache_dir, root=root)
