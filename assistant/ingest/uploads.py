"""Add an uploaded report to the corpus folder, safely; remove one.

The file name is reduced to a safe document id, the content is checked by
loading it exactly as the corpus loader would, and only then is the file moved
into place atomically. A refused upload leaves the corpus folder as it was.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from assistant.errors import DocumentError
from assistant.ingest.documents import (
    DOC_ID_RE,
    MAX_DOCUMENT_BYTES,
    SUPPORTED_SUFFIXES,
    SUPPORTED_TYPES,
    corpus_entries,
    corpus_files,
    load_document,
    sidecar_path,
    text_sha256,
)

MAX_STEM_CHARS = 100
_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._-]+")
_TEMP_PREFIX = ".upload-"


def clean_filename(filename: str) -> str:
    """Return a safe file name for ``filename``: no folders, only ``[A-Za-z0-9._-]``, short.

    The suffix is lower-cased and must be a supported document type; the stem
    must be a valid document id. Raises :class:`DocumentError` otherwise.
    """
    name = str(filename or "").replace("\x00", "").replace("\\", "/")
    name = name.rsplit("/", 1)[-1].strip()
    if not name:
        raise DocumentError("the upload has no file name")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        raise DocumentError(f"{_shown(name)}: unsupported file type (use {SUPPORTED_TYPES})")
    suffix = "." + suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"{_shown(name)}: unsupported file type (use {SUPPORTED_TYPES})")
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    safe = _UNSAFE_RE.sub("-", ascii_stem)
    safe = re.sub(r"-{2,}", "-", safe)
    safe = safe.lstrip("._-")[:MAX_STEM_CHARS].rstrip("._-")
    if not safe or not DOC_ID_RE.match(safe):
        raise DocumentError(
            f"{_shown(name)}: the file name needs letters or digits (a-z, 0-9, '.', '_', '-')")
    return safe + suffix


def _shown(name: str) -> str:
    """Shorten a file name and drop control characters, for messages."""
    printable = "".join(ch for ch in name if ch.isprintable())
    return printable if len(printable) <= 60 else printable[:57] + "..."


def _same_id_files(corpus_dir: Path, stem: str) -> list[Path]:
    """Existing corpus files whose document id would be ``stem``."""
    return [p for p in corpus_dir.iterdir()
            if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and p.stem == stem]


def _same_text_file(corpus_dir: Path, digest: str, exclude: str) -> str | None:
    """The name of a corpus report whose clean text has SHA-256 ``digest``, if any."""
    for path in corpus_files(corpus_dir):
        if path.name == exclude or path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        try:
            if text_sha256(load_document(path).text) == digest:
                return path.name
        except DocumentError:
            continue
    return None


def store_upload(corpus_dir: Path, filename: str, data: bytes, *,
                 overwrite: bool = False) -> Path:
    """Validate an uploaded report and write it into ``corpus_dir``; return its path.

    Refuses (with :class:`DocumentError`) unsupported types, files larger than
    ``MAX_DOCUMENT_BYTES``, content the corpus loader cannot read, and a name
    that is already taken unless ``overwrite`` is true. A report with the same id
    but another suffix is always refused, since both could not be loaded; so is a
    report whose text is already in the corpus under another name (a duplicate).
    """
    corpus = Path(corpus_dir)
    if not corpus.is_dir():
        raise DocumentError("the corpus folder does not exist")
    name = clean_filename(filename)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"{name} is larger than {MAX_DOCUMENT_BYTES // 2**20} MB")
    if not data.strip():
        raise DocumentError(f"{name} is empty")
    target = corpus / name
    stem = target.stem
    for existing in _same_id_files(corpus, stem):
        if existing.name != name:
            raise DocumentError(
                f"a report with the id {stem!r} already exists ({existing.name})")
        if not overwrite:
            raise DocumentError(f"a report named {name} already exists")
    workdir = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=corpus))
    try:
        staged = workdir / name
        with staged.open("xb") as handle:
            handle.write(data)
        doc = load_document(staged)  # raises DocumentError with a message naming the file
        original = _same_text_file(corpus, text_sha256(doc.text), exclude=name)
        if original is not None:
            raise DocumentError(f"{name} has the same text as the report {original}")
        if overwrite:
            os.replace(staged, target)
        else:
            _place_new(staged, target)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return target


def _place_new(staged: Path, target: Path) -> None:
    """Move ``staged`` to ``target`` atomically, failing if ``target`` appeared meanwhile."""
    try:
        os.link(staged, target)
    except FileExistsError:
        raise DocumentError(f"a report named {target.name} already exists") from None
    except OSError:
        # Hard links unsupported here: fall back to check-then-replace.
        if target.exists():
            raise DocumentError(f"a report named {target.name} already exists") from None
        os.replace(staged, target)
        return
    with contextlib.suppress(OSError):
        staged.unlink()


def remove_report(corpus_dir: Path, name: str) -> tuple[str, ...]:
    """Delete a report from ``corpus_dir``: its file (and sidecar); return the names deleted.

    ``name`` is a document id (the file's stem) or the exact name of a file the folder
    lists (a skipped one too). Only entries of the folder itself are ever deleted.
    Raises :class:`DocumentError` when nothing is named so.
    """
    corpus = Path(corpus_dir)
    wanted = str(name or "").strip()
    if not wanted or "/" in wanted or "\\" in wanted or wanted.startswith("."):
        raise DocumentError(f"there is no report {_shown(wanted)!r} in the corpus")
    targets = [path for path, _ in corpus_entries(corpus)
               if path.is_file() and (path.name == wanted or (
                   path.stem == wanted and path.suffix.lower() in SUPPORTED_SUFFIXES))]
    if not targets:
        raise DocumentError(f"there is no report {_shown(wanted)!r} in the corpus")
    for report in list(targets):
        sidecar = sidecar_path(report)
        if sidecar is not None and sidecar not in targets:
            targets.append(sidecar)
    removed: list[str] = []
    for path in targets:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DocumentError(f"{path.name} could not be removed ({exc.strerror})") from None
        removed.append(path.name)
    return tuple(removed)
