"""``assistant add FILE...``: the checks of the UI's uploads, then one index refresh.

Fake embedder and scripted model; the files are built in code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant import cli, core
from assistant.ingest.documents import MAX_DOCUMENT_BYTES
from conftest import REPORT, FakeEmbedder, ScriptedGenerator
from report_files import PAGE_1, PAGE_2, make_docx, make_pdf, write_file


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty-but-one corpus folder and fake models for the CLI."""
    monkeypatch.setattr(core, "_default_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setattr(core, "_default_generator",
                        lambda settings: ScriptedGenerator(["The reports do not say."]))
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_file(folder, "rules.txt", REPORT.encode())
    return folder


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
            and "index" not in p.relative_to(root).parts}


def test_add_stores_pdf_and_docx_under_clean_names_and_indexes_them(
        corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    pdf = write_file(inbox, "H200 brief (v2).pdf", make_pdf([[PAGE_1], [PAGE_2]]))
    memo = write_file(inbox, "Mémo final.docx",
                      make_docx([("p", "Officials declined to comment on the timing.")]))
    code = cli.main(["add", "--corpus-dir", str(corpus), str(pdf), str(memo)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "added H200 brief (v2).pdf as H200-brief-v2.pdf" in out.out
    assert "added Mémo final.docx as Memo-final.docx" in out.out
    assert "index updated: 3 documents" in out.out
    assert sorted(p.name for p in corpus.iterdir()) == [
        "H200-brief-v2.pdf", "Memo-final.docx", "rules.txt"]
    assert cli.main(["search", "--corpus-dir", str(corpus), "400,000 units licences"]) == 0
    assert "H200-brief-v2:" in capsys.readouterr().out


def test_add_refuses_what_an_upload_refuses_and_writes_nothing(
        corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    copy = write_file(inbox, "copy.txt", REPORT.encode())  # the text of rules.txt
    taken = write_file(inbox, "rules.txt", (REPORT + "\nA new last line.\n").encode())
    locked = write_file(inbox, "locked.pdf", make_pdf([[PAGE_1]], user_password="secret"))
    binary = write_file(inbox, "image.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    big = inbox / "huge.txt"
    with big.open("wb") as handle:  # sparse: over the limit without writing 20 MB
        handle.truncate(MAX_DOCUMENT_BYTES + 1)
    missing = inbox / "missing.pdf"
    before = _files(tmp_path)
    code = cli.main(["add", "--corpus-dir", str(corpus), str(copy), str(taken), str(locked),
                     str(binary), str(big), str(missing)])
    err = capsys.readouterr().err
    assert code == 2
    assert "copy.txt has the same text as the report rules.txt" in err
    assert "a report named rules.txt already exists" in err
    assert "encrypted" in err
    assert "unsupported file type" in err
    assert f"huge.txt is larger than {MAX_DOCUMENT_BYTES // 2**20} MB" in err
    assert "missing.pdf: no such file" in err
    assert "6 of 6 files not added" in err
    assert "Traceback" not in err
    assert _files(tmp_path) == before
    assert not any(p.name.startswith(".upload-") for p in corpus.iterdir())


def test_add_replace_takes_the_new_version(corpus: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    newer = write_file(tmp_path, "rules.txt", (REPORT + "\nA new last line.\n").encode())
    assert cli.main(["add", "--corpus-dir", str(corpus), "--replace", str(newer)]) == 0
    assert "A new last line." in (corpus / "rules.txt").read_text()
    assert "index updated" in capsys.readouterr().out


def test_add_with_a_hostile_name_stays_in_the_corpus(corpus: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "in box"
    odd.mkdir()
    hostile = write_file(odd, "..%2F..%2Fescape ;rm -rf.txt",
                         b"A report on export licences for chips, agreed on Monday.\n")
    before = _files(tmp_path)
    assert cli.main(["add", "--corpus-dir", str(corpus), str(hostile)]) == 0
    added = _files(tmp_path) - before
    assert len(added) == 1
    (name,) = added
    assert Path(name).parent == Path("corpus") and os.sep not in Path(name).name
    assert Path(name).name == "2F..-2Fescape-rm-rf.txt"
    capsys.readouterr()
