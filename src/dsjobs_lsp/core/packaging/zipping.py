"""Deterministic zip archives of files and folders, cached by a signature of the tree.

Rules (documented for users in the README of packaging):
- entries are the files under ``src`` (recursively), named relative to ``root`` (default ``src.parent``, like
  the reference CLI's ``_zip_path``), POSIX separators, sorted by name; folders get no entries of their own;
- an input folder ships whole (``whole=True``: every file, as the reference CLI ships it); in local code
  (``whole=False``) folders named ``__pycache__``, ``.git``, ``.venv``, ``node_modules`` and files named
  ``.DS_Store`` are skipped;
  symlinked folders are not followed (as ``os.walk`` does), symlinked files are stored by content;
- every entry has the timestamp 1980-01-01 00:00:00 and permissions 0644, or 0755 when the file is executable
  by its owner (so `./run.sh` runs in the job), so an unchanged tree gives a byte-identical archive (same
  sha256), which makes a re-run upload nothing;
- an archive for a store reached over a network (``deflate=True``): files that do not compress (known
  compressed formats, or a sample that deflates by less than 10 %) are stored, the rest are deflated at
  level 1 (on source code twice as fast as level 6, for about 13 % more bytes: the faster choice unless the
  upload runs under about 4 MB/s); an archive whose bytes never cross a network (``deflate=False``: the local
  backend on this machine) stores every file, as the reference CLI does (deflating costs more than it saves
  on loopback); the choice is part of the archive's signature.

Small files (up to ``SAMPLE_SIZE``, most entries of a many-file folder) are read once. To deflate, worker
threads read and compress them a batch at a time (zlib runs without the GIL, so both cores work), and the
archive takes the deflated bytes as they are, or the original bytes when deflating saved less than 10 %; to
store, each file is read on the writing thread straight into the archive's buffer, behind the room left for
its header; a stored archive of small files only is written whole here, central directory included (the
bytes ``zipfile`` writes, without its objects per entry). Bigger files are streamed through ``zipfile`` after
a sample decided how to store them.
Everything goes out through that one buffer in 1 MiB writes, hashed (sha256) as it is written, so the
archive is never read back to be hashed; ``tell`` is a counter, so an entry costs no system call of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import os
import stat
import struct
import threading
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import BinaryIO, NamedTuple

from dsjobs_lsp.backends.private_files import private_dir

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
_FORMAT_VERSION = 4  # 2: archives deflated at level 1; 3: executable entries 0755; 4: stored for loopback
_COPY_CHUNK = 1 << 20
_WRITE_SIZE = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
_LOCAL_HEADER_MAGIC = b"PK\x03\x04"
_EXTRACT_VERSION = 20  # zipfile's DEFAULT_VERSION: what a stored entry needs
_UTF8_NAME_FLAG = 0x800
_FIXED_DOS_TIME_DATE = (
    FIXED_DATE_TIME[3] << 11 | FIXED_DATE_TIME[4] << 5 | FIXED_DATE_TIME[5] // 2,
    (FIXED_DATE_TIME[0] - 1980) << 9 | FIXED_DATE_TIME[1] << 5 | FIXED_DATE_TIME[2],
)
_CENTRAL_RECORD = struct.Struct("<4s4B4HL2L5H2L")  # zipfile's structCentralDir
_CENTRAL_MAGIC = b"PK\x01\x02"
_END_RECORD = struct.Struct("<4s4H2LH")  # zipfile's structEndArchive
_END_MAGIC = b"PK\x05\x06"
_ZIP_COUNT_LIMIT = 0xFFFF  # zipfile's ZIP_FILECOUNT_LIMIT: more entries need zip64 records
_ZIP_OFFSET_LIMIT = (1 << 31) - 1  # zipfile's ZIP64_LIMIT: bigger offsets need zip64 records
_SMALL_FILE_WORKERS = 2
_BATCH_FILES = 64
_BATCH_BYTES = 1 << 20
_BATCHES_AHEAD = 4


class TreeEntry(NamedTuple):
    """One file going into an archive (``path``: where it is read from; a tuple: thousands are made)."""

    path: str
    arcname: str
    size: int
    mtime_ns: int
    executable: bool = False

    @property
    def mode(self) -> int:
        """The entry's Unix mode (file type and permissions) as stored in ``external_attr``."""
        return EXECUTABLE_FILE_MODE if self.executable else FILE_MODE


def collect_entries(src: Path, root: Path, *, whole: bool = False) -> list[TreeEntry]:
    """The files an archive of ``src`` holds, sorted by entry name (blocking); ``whole``: skip nothing.

    Folders are listed with ``os.scandir`` (what ``os.walk`` does, without its per-folder lists): symlinked
    folders are not followed, unreadable folders are passed over, symlinked files count by their target."""
    status = src.stat()
    if stat.S_ISREG(status.st_mode):
        return [_entry(str(src), src.relative_to(root).as_posix(), status)]
    skipped = (frozenset(), frozenset()) if whole else (SKIPPED_DIRS, SKIPPED_FILES)
    relative = src.relative_to(root).as_posix()
    entries: list[TreeEntry] = []
    _scan(str(src), "" if relative == "." else f"{relative}/", skipped, entries)
    return sorted(entries, key=attrgetter("arcname"))


def _scan(
    folder: str, prefix: str, skipped: tuple[frozenset[str], frozenset[str]], entries: list[TreeEntry]
) -> None:
    """Add the files under ``folder`` to ``entries``, their names starting with ``prefix``."""
    skipped_dirs, skipped_files = skipped
    try:
        listing = list(os.scandir(folder))
    except OSError:  # as os.walk: a folder that cannot be listed is passed over
        return
    for item in listing:
        if item.is_dir():
            if item.name not in skipped_dirs and not item.is_symlink():
                _scan(item.path, f"{prefix}{item.name}/", skipped, entries)
        elif item.name not in skipped_files:
            entries.append(_entry(item.path, prefix + item.name, item.stat()))


def _entry(path: str, arcname: str, status: os.stat_result) -> TreeEntry:
    return TreeEntry(path, arcname, status.st_size, status.st_mtime_ns, bool(status.st_mode & 0o100))


def tree_signature(entries: list[TreeEntry], *, deflate: bool = True) -> str:
    """A sha256 over entry names, sizes, mtimes and modes and whether files are deflated: equal signatures
    mean the same archive."""
    payload = [_FORMAT_VERSION, deflate, *[(e.arcname, e.size, e.mtime_ns, e.mode) for e in entries]]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def should_store(path: str) -> bool:
    """True when deflating ``path`` is not worth it (compressed format, or a sample saves < 10 %)."""
    if _has_stored_suffix(path):
        return True
    with open(path, "rb") as stream:
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
    with open(entry.path, "rb") as source:
        data = source.read()
    crc = zlib.crc32(data)
    if not _has_stored_suffix(entry.path):
        compressor = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
        deflated = compressor.compress(data) + compressor.flush()
        if len(data) < 64 or len(deflated) <= len(data) * (1 - MIN_SAVING):
            return _Packed(deflated, crc, len(data), zipfile.ZIP_DEFLATED)
    return _Packed(data, crc, len(data), zipfile.ZIP_STORED)


def _has_stored_suffix(path: str) -> bool:
    return path.lower().endswith(_STORED_SUFFIX_TUPLE)


def _entry_info(entry: TreeEntry) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(entry.arcname, date_time=FIXED_DATE_TIME)
    info.create_system = 3
    info.external_attr = entry.mode << 16
    return info


class _HashingSink:
    """The archive's file as ``zipfile`` writes it, through one reused buffer: bytes are hashed (sha256) and
    written about ``_WRITE_SIZE`` at a time, and ``tell`` is a counter, so an entry costs no system call
    (and no wait for the GIL that worker threads hold). A small stored file is read straight into the
    buffer (``room``/``advance``). ``zipfile`` seeks back only to finish a streamed big file's header: the
    running digest is void from then on (``hexdigest`` gives None)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._buffer = memoryview(bytearray(_WRITE_SIZE + 2 * SAMPLE_SIZE))
        self._used = 0
        self._flushed = 0  # the stream's position: where the buffer's bytes go
        self._digest: hashlib._Hash | None = hashlib.sha256()

    def write(self, data: bytes) -> int:
        """Append ``data`` at the current position."""
        size = len(data)
        if self._used + size > len(self._buffer):
            self.flush()
            if size > len(self._buffer):
                self._out(data)
                return size
        self._buffer[self._used : self._used + size] = data
        self.advance(size)
        return size

    def room(self, size: int) -> memoryview:
        """The next ``size`` bytes of the buffer (at most ``2 * SAMPLE_SIZE``), to be filled in place and
        then taken with ``advance``."""
        if self._used + size > len(self._buffer):
            self.flush()
        return self._buffer[self._used : self._used + size]

    def advance(self, size: int) -> None:
        """Take ``size`` bytes filled in at the current position."""
        self._used += size
        if self._used >= _WRITE_SIZE:
            self.flush()

    def tell(self) -> int:
        """The current position."""
        return self._flushed + self._used

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move to ``offset`` (from the start; the only kind ``zipfile`` asks for when writing)."""
        if whence != os.SEEK_SET:
            raise OSError("the archive sink seeks from the start only")
        if offset != self.tell():
            self.flush()
            self._stream.seek(offset)
            self._flushed = offset
            self._digest = None
        return offset

    def flush(self) -> None:
        """Write (and hash) what the buffer holds."""
        if self._used:
            used, self._used = self._used, 0
            self._out(self._buffer[:used])

    def close(self) -> None:
        """Write what is pending (part of the file-like ``zipfile`` writes to; the stream is the caller's)."""
        self.flush()

    def hexdigest(self) -> str | None:
        """The sha256 of everything written, if it was written front to back."""
        return None if self._digest is None else self._digest.hexdigest()

    def _out(self, data: bytes | memoryview) -> None:
        if self._digest is not None:
            self._digest.update(data)
        self._stream.write(data)
        self._flushed += len(data)


def _add_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, position: int) -> None:
    """Register an entry written at ``position`` by hand; the central directory goes after it."""
    info.header_offset = position
    archive.filelist.append(info)
    archive.NameToInfo[info.filename] = info
    assert archive.fp is not None
    archive.start_dir = archive.fp.tell()  # type: ignore[attr-defined]


def _write_packed(archive: zipfile.ZipFile, info: zipfile.ZipInfo, packed: _Packed) -> None:
    """Append an entry whose bytes are already compressed, the way ``ZipFile.writestr`` lays one out."""
    assert archive.fp is not None
    info.compress_type = packed.compress_type
    info.file_size = packed.size
    info.compress_size = len(packed.data)
    info.CRC = packed.crc
    position = archive.fp.tell()
    archive.fp.write(info.FileHeader(False))
    archive.fp.write(packed.data)
    _add_entry(archive, info, position)


def _read_into(path: str, room: memoryview) -> int:
    """Read the file at ``path`` into ``room`` with one read (a short one only makes the caller stream the
    file instead); the number of bytes read. Without a file object where ``os.readv`` exists (POSIX)."""
    if not hasattr(os, "readv"):
        with open(path, "rb", buffering=0) as source:
            return source.readinto(room) or 0
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        return os.readv(descriptor, [room])
    finally:
        os.close(descriptor)


def _encoded_name(filename: str) -> tuple[bytes, int]:
    """An entry name as a ZIP header holds it, and its flag bits (UTF-8 names are flagged), as ``zipfile``
    encodes it."""
    try:
        return filename.encode("ascii"), 0
    except UnicodeEncodeError:
        return filename.encode("utf-8"), _UTF8_NAME_FLAG


def _stored_header(name: bytes, flags: int, crc: int, size: int) -> bytes:
    """The local header ``ZipInfo.FileHeader`` writes for a small stored entry of ``_entry_info`` (the same
    bytes, without its per-call work: thousands are made)."""
    fields = (_LOCAL_HEADER_MAGIC, _EXTRACT_VERSION, 0, flags, zipfile.ZIP_STORED, *_FIXED_DOS_TIME_DATE)
    return _LOCAL_HEADER.pack(*fields, crc, size, size, len(name), 0) + name


def _append_stored(sink: _HashingSink, entry: TreeEntry) -> tuple[bytes, int, int] | None:
    """Append a small file's local header and bytes, stored as they are: the file is read straight into the
    sink's buffer behind the room for its header (no copy on the way). Its name as encoded, flag bits and
    CRC; None, with nothing written, when its size changed since it was listed."""
    name, flags = _encoded_name(entry.arcname)
    head = _LOCAL_HEADER.size + len(name)
    room = sink.room(head + entry.size + 1)
    count = _read_into(entry.path, room[head:])
    if count != entry.size:
        return None
    crc = zlib.crc32(room[head : head + count])
    room[:head] = _stored_header(name, flags, crc, count)
    sink.advance(head + count)
    return name, flags, crc


def _write_stored_small(
    archive: zipfile.ZipFile, sink: _HashingSink, info: zipfile.ZipInfo, entry: TreeEntry
) -> bool:
    """``_append_stored`` in an archive ``zipfile`` finishes; False when the file's size changed."""
    position = sink.tell()
    appended = _append_stored(sink, entry)
    if appended is None:
        return False
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = info.compress_size = entry.size
    info.CRC = appended[2]
    _add_entry(archive, info, position)
    return True


def _plain_zip_fits(entries: list[TreeEntry]) -> bool:
    """Whether ``entries`` make a zip without zip64 records, every file small enough to be read whole."""
    if len(entries) >= _ZIP_COUNT_LIMIT or any(entry.size > SAMPLE_SIZE for entry in entries):
        return False
    names = sum(len(entry.arcname.encode("utf-8")) for entry in entries)
    total = sum(entry.size for entry in entries) + len(entries) * (_LOCAL_HEADER.size + _CENTRAL_RECORD.size)
    return total + 2 * names < _ZIP_OFFSET_LIMIT


def _write_plain_zip(entries: list[TreeEntry], sink: _HashingSink) -> bool:
    """A stored archive of small files written whole here, central directory included, byte for byte what
    ``zipfile`` writes for them, without its per-entry objects. False (stop: rewrite it the general way)
    when a file's size changed since it was listed."""
    records = []
    for entry in entries:
        position = sink.tell()
        appended = _append_stored(sink, entry)
        if appended is None:
            return False
        name, flags, crc = appended
        fields = (_CENTRAL_MAGIC, _EXTRACT_VERSION, 3, _EXTRACT_VERSION, 0, flags, zipfile.ZIP_STORED)
        size = entry.size
        record = _CENTRAL_RECORD.pack(
            *fields, *_FIXED_DOS_TIME_DATE, crc, size, size, len(name), 0, 0, 0, 0, entry.mode << 16, position
        )
        records.append(record + name)
    start = sink.tell()
    for record in records:
        sink.write(record)
    count = len(entries)
    sink.write(_END_RECORD.pack(_END_MAGIC, 0, 0, count, count, sink.tell() - start, start, 0))
    return True


def _write_streamed(archive: zipfile.ZipFile, info: zipfile.ZipInfo, entry: TreeEntry, deflate: bool) -> None:
    stored = not deflate or should_store(entry.path)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    large = entry.size >= zipfile.ZIP64_LIMIT
    with open(entry.path, "rb") as source, archive.open(info, "w", force_zip64=large) as sink:
        while chunk := source.read(_COPY_CHUNK):
            sink.write(chunk)


def _batches(entries: list[TreeEntry]) -> Iterator[list[TreeEntry]]:
    """Consecutive entries, up to ``_BATCH_FILES`` files or about ``_BATCH_BYTES`` bytes at a time."""
    batch: list[TreeEntry] = []
    size = 0
    for entry in entries:
        batch.append(entry)
        size += entry.size
        if len(batch) >= _BATCH_FILES or size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _pack_batch(entries: list[TreeEntry]) -> list[_Packed | None]:
    """Each small entry read and compressed; None for a big one."""
    return [_pack_small(entry) if entry.size <= SAMPLE_SIZE else None for entry in entries]


def _packed_in_order(entries: list[TreeEntry], pool: ThreadPoolExecutor) -> Iterator[_Packed | None]:
    """Each entry's deflated bytes (None for a big file), in order, prepared a few batches ahead on ``pool``
    (a batch per task: a task per small file would cost more in thread hand-overs than it reads)."""
    pending: deque[Future[list[_Packed | None]]] = deque()
    for batch in _batches(entries):
        pending.append(pool.submit(_pack_batch, batch))
        if len(pending) > _BATCHES_AHEAD:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


def write_archive(entries: list[TreeEntry], target: Path, *, deflate: bool = True) -> str | None:
    """Write a deterministic zip of ``entries`` to ``target`` (blocking): ``deflate`` what compresses, else
    store every file. Returns the archive's sha256 (hex), computed as it was written, or None when a big
    entry was streamed (its header is then rewritten in place: hash the file)."""
    with target.open("wb") as stream:
        if not deflate and _plain_zip_fits(entries):
            sink = _HashingSink(stream)
            if _write_plain_zip(entries, sink):
                sink.flush()
                return sink.hexdigest()
            stream.seek(0)  # a file changed size since it was listed: zipfile's way streams it
            stream.truncate()
        sink = _HashingSink(stream)
        _write_with_zipfile(entries, sink, deflate)  # zipfile flushes the sink as it ends the archive
        return sink.hexdigest()


def _write_with_zipfile(entries: list[TreeEntry], sink: _HashingSink, deflate: bool) -> None:
    # Deflating is worth two threads; storing is not: a small file is read into the archive's buffer.
    compressors = None
    if deflate:
        compressors = ThreadPoolExecutor(_SMALL_FILE_WORKERS, thread_name_prefix="dsjobs-zip")
    with compressors or contextlib.nullcontext():
        packs = repeat(None, len(entries)) if compressors is None else _packed_in_order(entries, compressors)
        with zipfile.ZipFile(sink, "w", allowZip64=True, compresslevel=DEFLATE_LEVEL) as archive:
            for entry, packed in zip(entries, packs, strict=True):
                info = _entry_info(entry)
                if packed is not None and packed.size == entry.size:
                    _write_packed(archive, info, packed)
                    continue
                small_stored = not deflate and entry.size <= SAMPLE_SIZE
                if not (small_stored and _write_stored_small(archive, sink, info, entry)):
                    _write_streamed(archive, info, entry, deflate)  # big, or its size changed since listed


@dataclass(frozen=True)
class Archive:
    """A zip in the archive cache; ``sha256`` (hex) when it was just written front to back, else None (found
    in the cache, where a ``FileHasher`` remembers its digest, or rewritten in place)."""

    path: Path
    sha256: str | None


class _CollectorPause:
    """Python's cyclic garbage collector paused while an archive's thousands of entries are made (they all
    live until it is written, and a full collection meanwhile walks every object of the process: 15-30 ms in
    the CLI, for nothing). Process-wide, so shared by concurrent zips: collections resume when the last one
    ends, unless they were off before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._resume = False

    def __enter__(self) -> None:
        with self._lock:
            if self._holders == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._holders += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0 and self._resume:
                gc.enable()


_COLLECTOR_PAUSE = _CollectorPause()


def _zip_tree(src: Path, root: Path, cache_dir: Path, whole: bool, deflate: bool) -> Archive:
    entries = collect_entries(src, root, whole=whole)
    signature = tree_signature(entries, deflate=deflate)
    target = cache_dir / f"{signature}.zip"
    if target.exists():
        return Archive(target, None)
    private_dir(cache_dir)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        sha256 = write_archive(entries, partial, deflate=deflate)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Archive(target, sha256)


def archive_blocking(
    src: Path, *, cache_dir: Path, root: Path | None = None, whole: bool = False, deflate: bool = True
) -> Archive:
    """``zip_path`` for callers already on a worker thread, with the digest when the archive is new."""
    src = Path(os.path.abspath(src))
    base = Path(os.path.abspath(root or src.parent))
    if not src.exists():
        raise FileNotFoundError(f"cannot zip {src}: it does not exist")
    if not src.is_relative_to(base):
        raise ValueError(f"cannot zip {src}: it is not inside the archive root {base}")
    with _COLLECTOR_PAUSE:
        return _zip_tree(src, base, cache_dir, whole, deflate)


async def zip_path(
    src: Path, *, cache_dir: Path, root: Path | None = None, whole: bool = False, deflate: bool = True
) -> Path:
    """A deterministic zip of ``src`` (file or folder), entries relative to ``root`` (default: its parent);
    ``whole``: every file (an input folder), else without caches and VCS/venv folders (local code);
    ``deflate``: compress what compresses (for a store across a network), else store every file.

    The archive lives in ``cache_dir`` under the tree's signature, so an unchanged tree is neither re-zipped
    nor (the archive's mtime being unchanged) re-hashed by a ``FileHasher``.
    """
    archive = await asyncio.to_thread(
        archive_blocking, src, cache_dir=cache_dir, root=root, whole=whole, deflate=deflate
    )
    return archive.path
