"""Storing uploaded reports: hostile names, wrong types, bad content, duplicates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.errors import DocumentError
from assistant.ingest.documents import DOC_ID_RE, MAX_DOCUMENT_BYTES, load_corpus
from assistant.ingest.uploads import MAX_STEM_CHARS, clean_filename, store_upload
from conftest import CORPUS, TOMS

GOOD = (b"Chip makers face new rules\n\n"
        b"The government announced on Monday that chip exports will need a licence from "
        b"next year, according to officials familiar with the plan.\n")
GOOD_MD = b"---\ntitle: A title\noutlet: The Outlet\n---\nSome reporting text here.\n"
GOOD_HTML = (b"<html><head><title>Chip rules</title></head><body><article><h1>Chip rules</h1>"
             b"<p>The government announced on Monday that chip exports will need a licence "
             b"from next year, according to officials familiar with the plan. Companies "
             b"said they were studying the details.</p></article></body></html>")


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A corpus folder inside a sandbox folder, to see anything written next to it."""
    sandbox = tmp_path / "sandbox"
    corpus = sandbox / "corpus"
    corpus.mkdir(parents=True)
    return sandbox, corpus


def _all_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize(("name", "expected"), [
    ("../../x.txt", "x.txt"),
    ("/etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\me\\report.md", "report.md"),
    ("..\\..\\evil.html", "evil.html"),
    ("my report (final).TXT", "my-report-final.txt"),
    ("nul\x00byte.txt", "nulbyte.txt"),
    (".hidden.txt", "hidden.txt"),
    ("Überblick \u2013 Chips.md", "Uberblick-Chips.md"),
    ("report.htm", "report.htm"),
])
def test_clean_filename(name: str, expected: str) -> None:
    assert clean_filename(name) == expected


def test_clean_filename_limits_length() -> None:
    cleaned = clean_filename("a" * 5000 + ".txt")
    stem = cleaned[: -len(".txt")]
    assert len(stem) == MAX_STEM_CHARS and DOC_ID_RE.match(stem)


@pytest.mark.parametrize("name", ["", "..", "../", "/", "....txt", "中文.txt", "x.rtf",
                                  "report", "report.exe", "archive.txt.gz", "\x00.txt"])
def test_clean_filename_refuses(name: str) -> None:
    with pytest.raises(DocumentError):
        clean_filename(name)


@pytest.mark.parametrize("name", ["../../x.txt", "/tmp/abs.txt", "..\\..\\win.txt",
                                  "a" * 5000 + ".txt", "nul\x00.txt", "sub/dir/y.md"])
def test_hostile_names_stay_inside_corpus(layout: tuple[Path, Path], name: str) -> None:
    sandbox, corpus = layout
    stored = store_upload(corpus, name, GOOD)
    assert stored.parent == corpus and stored.is_file()
    assert _all_files(sandbox) == {"corpus", f"corpus/{stored.name}"}
    docs = load_corpus(corpus)
    assert [d.doc_id for d in docs.documents] == [stored.stem] and not docs.skipped


@pytest.mark.parametrize(("name", "data"), [("a.md", GOOD_MD), ("b.html", GOOD_HTML),
                                            ("c.txt", GOOD)])
def test_supported_types_are_stored(layout: tuple[Path, Path], name: str, data: bytes) -> None:
    _, corpus = layout
    stored = store_upload(corpus, name, data)
    assert stored == corpus / name and stored.read_bytes() == data


@pytest.mark.parametrize(("name", "data", "message"), [
    ("x.rtf", b"{\\rtf1 Some text.}", "unsupported file type"),
    ("x.pdf", b"%PDF-1.4 ...", "not a readable PDF"),
    ("x.docx", GOOD, "not a Word"),
    ("x.txt", b"", "empty"),
    ("x.txt", b"  \n\t ", "empty"),
    ("x.txt", b"\x00\x01\x02\x03" * 5000, "binary"),
    ("x.html", b"<html><head><title>t</title></head><body><script>1</script></body></html>",
     "no article text"),
    ("x.md", b"---\ntitle: [unclosed\n---\nBody text.\n", "front matter"),
    ("x.txt", b"Advertisement\n-\n12\n", "no text left"),
])
def test_invalid_uploads_leave_nothing(layout: tuple[Path, Path], name: str, data: bytes,
                                       message: str) -> None:
    sandbox, corpus = layout
    with pytest.raises(DocumentError, match=message):
        store_upload(corpus, name, data)
    assert _all_files(sandbox) == {"corpus"}


def test_too_large_is_refused(layout: tuple[Path, Path]) -> None:
    sandbox, corpus = layout
    with pytest.raises(DocumentError, match="larger than"):
        store_upload(corpus, "big.txt", b"word " * (MAX_DOCUMENT_BYTES // 5 + 1))
    assert _all_files(sandbox) == {"corpus"}


def test_error_messages_show_no_paths(layout: tuple[Path, Path]) -> None:
    _, corpus = layout
    with pytest.raises(DocumentError) as caught:
        store_upload(corpus, "/very/secret/place/x.txt", b"")
    assert "secret" not in str(caught.value) and str(corpus) not in str(caught.value)


def test_duplicate_is_refused_unless_overwrite(layout: tuple[Path, Path]) -> None:
    sandbox, corpus = layout
    first = store_upload(corpus, "report.txt", GOOD)
    with pytest.raises(DocumentError, match="already exists"):
        store_upload(corpus, "report.txt", GOOD + b"\nMore reporting text in a new line here.\n")
    assert first.read_bytes() == GOOD
    newer = GOOD + b"\nA correction was published later that week by the same paper.\n"
    assert store_upload(corpus, "report.txt", newer, overwrite=True) == first
    assert first.read_bytes() == newer
    assert _all_files(sandbox) == {"corpus", "corpus/report.txt"}


def test_same_id_with_other_suffix_is_refused(layout: tuple[Path, Path]) -> None:
    _, corpus = layout
    store_upload(corpus, "report.txt", GOOD)
    for overwrite in (False, True):
        with pytest.raises(DocumentError, match="already exists"):
            store_upload(corpus, "report.md", GOOD_MD, overwrite=overwrite)
    assert sorted(p.name for p in corpus.iterdir()) == ["report.txt"]


def test_invalid_overwrite_keeps_the_old_report(layout: tuple[Path, Path]) -> None:
    sandbox, corpus = layout
    stored = store_upload(corpus, "report.txt", GOOD)
    with pytest.raises(DocumentError):
        store_upload(corpus, "report.txt", b"\x00\x01" * 100, overwrite=True)
    assert stored.read_bytes() == GOOD
    assert _all_files(sandbox) == {"corpus", "corpus/report.txt"}


def test_missing_corpus_folder(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="does not exist"):
        store_upload(tmp_path / "nope", "x.txt", GOOD)
    assert not (tmp_path / "nope").exists()


def test_duplicate_upload_is_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    data = (CORPUS / f"{TOMS}.txt").read_bytes()
    with pytest.raises(DocumentError, match=f"same text as the report {TOMS}.txt"):
        store_upload(corpus, "again.txt", data)
    assert not (corpus / "again.txt").exists()
    # Replacing a report by itself is not a duplicate.
    assert store_upload(corpus, f"{TOMS}.txt", data, overwrite=True).read_bytes() == data
