"""Retrieval: BM25 and dense search combined, the off-topic gate, follow-ups searched alone."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from assistant.core import Assistant
from assistant.records import Chunk
from assistant.retrieve.lexical import BM25, searched_texts
from assistant.retrieve.retriever import Retriever
from conftest import TOMS

Make = Callable[..., Assistant]


def test_bm25_ranks_by_rare_shared_words() -> None:
    bm25 = BM25(["the cat sat on the mat", "dogs chase cats in parks", "window guidance was used"])
    assert [pos for pos, _ in bm25.search("cats and dogs", 3)] == [1, 0]
    assert bm25.search("guidance", 3)[0][0] == 2
    assert bm25.search("unrelated words", 3) == []


def test_hybrid_finds_lexical_matches_dense_misses(make_assistant: Make) -> None:
    a = make_assistant()
    index, embedder = a._retriever.index, a._retriever.embedder
    lexical = Retriever(index, embedder, mode="lexical").search("Bloomberg first reported", 1)
    assert "Bloomberg first reported" in lexical[0].chunk.text
    hybrid = Retriever(index, embedder).search("Which outlet first reported it? Bloomberg", 3)
    assert any("Bloomberg" in h.chunk.text for h in hybrid)
    assert [h.rank for h in hybrid] == [1, 2, 3]
    assert all(a.score >= b.score for a, b in itertools.pairwise(hybrid))


def test_off_topic_question_is_refused_without_the_model(make_assistant: Make) -> None:
    a = make_assistant(["Passage: 1\nAnswer: Canberra is the capital [1]."], min_relevance=0.3)
    answer = a.ask("zebra xylophone quokka")
    assert answer.refused and answer.timings["relevance"] < a.settings.min_relevance
    assert a.generator.prompts == []  # type: ignore[attr-defined]
    on_topic = a.ask("How would the restrictions be communicated through window guidance?")
    assert on_topic.timings["relevance"] >= a.settings.min_relevance
    assert a.generator.prompts  # type: ignore[attr-defined]
    assert TOMS in {h.chunk.doc_id for h in on_topic.hits}


def test_a_name_written_in_a_passage_always_reaches_the_model(make_assistant: Make) -> None:
    # A relevance bar no sentence reaches: only the lexical evidence can open the gate.
    a = make_assistant(["Passage: 1\nAnswer: A reporter [1]."], min_relevance=1.5)
    answer = a.ask("Who is Wency Chen?")
    assert a.generator.prompts  # type: ignore[attr-defined]
    assert "written in a passage: Wency Chen" in answer.trace["gate"]
    refused = make_assistant(["Passage: 1\nAnswer: Canberra [1]."], min_relevance=1.5)
    off = refused.ask("Who is Bartholomew Quigley?")
    assert off.refused and refused.generator.prompts == []  # type: ignore[attr-defined]
    assert "no name or figure" in off.trace["gate"]


def test_a_follow_up_is_searched_and_asked_standing_alone(make_assistant: Make) -> None:
    a = make_assistant(["Passage: 1\nAnswer: He said so [1].",
                        "Passage: 1\nAnswer: In Taiwan [1]."])
    first = a.ask("Who is Randy Abrams?")
    history = [{"role": "user", "content": "Who is Randy Abrams?"},
               {"role": "assistant", "content": first.text}]
    answer = a.ask("Where does he work?", history=history)
    assert answer.question == "Where does he work?"
    assert answer.trace["standalone"] == "Where does Randy Abrams work?"
    last_prompt = a.generator.prompts[-1]  # type: ignore[attr-defined]
    assert "Question: Where does Randy Abrams work?" in last_prompt[-1]["content"]


SHUTIL = """---
title: shutil — High-level file operations
---
# shutil — High-level file operations

The module offers a number of high-level operations on files and on collections of files.

## shutil.copytree(src, dst, symlinks=False)

Recursively copy an entire directory tree rooted at src to a directory named dst and return
the destination directory. All intermediate directories needed to contain dst are created
by default.

Permissions and times of directories are copied with copystat(), and individual files are
copied using copy2(). If an exception occurs, an Error is raised with a list of reasons.

## shutil.rmtree(path)

Delete an entire directory tree; path must point to a directory but not to a symbolic link.
"""


def test_bm25_searches_a_passage_with_the_headings_it_sits_under(
        make_assistant: Make, tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "shutil.md").write_text(SHUTIL, encoding="utf-8")
    a = make_assistant(corpus=corpus, chunk_tokens=40, chunk_overlap_tokens=0)
    chunks = a._retriever.index.chunks
    under = [c for c in chunks if c.heading[1:] == ("shutil.copytree(src, dst, symlinks=False)",)]
    # a later passage of the section does not name the function; its heading path does
    unnamed = [c for c in under if "copytree" not in c.text and "shutil" not in c.text]
    assert len(under) >= 2 and unnamed
    hits = a.retriever("lexical").search("What does shutil.copytree do?", 5)
    assert {h.chunk for h in hits} >= set(under)
    text = a.reports["shutil"].text  # the passages and their offsets are unchanged
    assert all(h.chunk.text == text[h.chunk.start:h.chunk.end] for h in hits)
    # the title every passage shares is not searched with each passage
    assert a.retriever("lexical").search("High-level", 5)[0].chunk.start == 0


def test_the_headings_searched_leave_out_what_every_passage_of_a_report_shares() -> None:
    title, section = "Chip rules", "Exports"
    chunks = [Chunk("a", 0, 5, "First", 1, heading=(title,)),
              Chunk("a", 7, 13, "Second", 1, heading=(title, section)),
              Chunk("b", 0, 4, "Only", 1, heading=("Other",))]
    assert searched_texts(chunks) == ["First", "Exports\nSecond", "Only"]
