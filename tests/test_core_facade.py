"""What the web UI reads from the Assistant and the records, with the fake models.

The UI imports only the facade, the records and the errors (the import contracts in
pyproject.toml); these are the members it relies on, on the real Assistant.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.errors import DocumentError
from assistant.records import (
    MARKER_RE,
    Answer,
    BuildReport,
    Chunk,
    Citation,
    Hit,
    Segment,
    make_id,
    strip_markers,
)
from conftest import REPORT, TOMS

Make = Callable[..., Assistant]


def test_add_report_stores_then_reindex_indexes_it(corpus_copy: Path, make_assistant: Make
                                                   ) -> None:
    a = make_assistant(corpus=corpus_copy)
    stored = a.add_report("Export Rules (2025).txt", REPORT.encode())
    assert stored == corpus_copy / "Export-Rules-2025.txt" and stored.read_text() == REPORT
    assert "Export-Rules-2025" not in {d["doc_id"] for d in a.documents()}  # not yet indexed
    report = a.reindex()
    assert isinstance(report, BuildReport) and report.embedded_documents == ("Export-Rules-2025",)
    assert a.build_report is report
    with pytest.raises(DocumentError, match="already exists"):
        a.add_report("Export Rules (2025).txt", REPORT.encode())
    with pytest.raises(DocumentError, match="unsupported file type"):
        a.add_report("notes.rtf", b"{\\rtf1 Notes.}")
    with pytest.raises(DocumentError, match="larger than 20 MB"):
        a.add_report("big.txt", b"a" * (a.upload_limits.max_bytes + 1))
    assert a.add_report("Export Rules (2025).txt", REPORT.encode() + b"\nMore.\n",
                        overwrite=True) == stored


def test_upload_limits_data_folders_and_model_status(make_assistant: Make, tmp_path: Path
                                                     ) -> None:
    a = make_assistant()
    limits = a.upload_limits
    assert limits.max_bytes == 20 * 2**20
    assert {".txt", ".md", ".html", ".pdf", ".docx"} <= set(limits.suffixes)
    assert a.data_folders == (a.settings.corpus_dir, tmp_path / "index", a.settings.cache_dir)
    assert a.model_status == "the model loads on the first question"
    a.warm_in_background().join(10)
    assert a.model_status.startswith("ready: model loaded")


def test_answer_segments_pair_each_marker_with_its_citations() -> None:
    one = Citation(1, "d:0-5:0123abcd", "d", None, 0, 5, "Taxed")
    two = Citation(2, "d:6-9:0123abcd", "d", None, 6, 9, "25%")
    answer = Answer("q?", "Taxed [1] at 25% [1, 2]; maybe [3] or [2,9].", False, (one, two))
    assert answer.segments() == (
        Segment("Taxed "), Segment("[1]", (one,)), Segment(" at 25% "),
        Segment("[1, 2]", (one, two)), Segment("; maybe "), Segment("[3]"), Segment(" or "),
        Segment("[2,9]"), Segment("."))
    assert "".join(s.text for s in answer.segments()) == answer.text
    assert Answer("q?", "", True).segments() == ()
    assert strip_markers(answer.text) == "Taxed  at 25% ; maybe  or ."
    assert MARKER_RE.fullmatch("[1; 2]")


def test_a_hit_names_its_whole_passage(make_assistant: Make) -> None:
    a = make_assistant()
    hit = a.search("window guidance", k=1)[0]
    chunk = hit.chunk
    assert hit.citation_id == make_id(chunk.doc_id, chunk.start, chunk.end, chunk.text)
    assert chunk.doc_id == TOMS and a.lookup(hit.citation_id).text == chunk.text
    assert Hit(Chunk("d", 3, 8, "hello", 1), 0.5, 1).citation_id.startswith("d:3-8:")


def test_settings_from_the_flags_named_after_them() -> None:
    args = argparse.Namespace(top_k=9, model=None, host="0.0.0.0", json=True)
    settings = Settings.from_args(args, {"ASSISTANT_MODEL": "fast", "ASSISTANT_TOP_K": "3"})
    assert (settings.top_k, settings.model) == (9, "fast")  # a flag not given keeps the env's
