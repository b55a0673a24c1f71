"""Whether a report mentions something: searched in its whole text, without the model."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.answer import comparison, presence
from assistant.core import Assistant
from assistant.ingest.documents import load_corpus
from conftest import CORPUS, SCMP, TOMS

Make = Callable[..., Assistant]
DOCS = {d.doc_id: d for d in load_corpus(CORPUS).documents}
NAMES = comparison.outlet_names(DOCS.values())


@pytest.mark.parametrize(("question", "reports", "rare"), [
    ("Does the SCMP mention the 25% US levy that Tom's Hardware describes?", (SCMP,),
     ("US", "25%")),
    ("Do both reports mention Nvidia's H20 chip, or only one of them?", None, ("Nvidia", "H20")),
    ("Does the South China Morning Post quote Jensen Huang directly?", (SCMP,),
     ("Jensen Huang",)),
    ("Did Tom's Hardware discuss the window guidance?", (TOMS,), ()),
])
def test_a_presence_question_is_read(question: str, reports: tuple[str, ...] | None,
                                     rare: tuple[str, ...]) -> None:
    want = presence.asked(question, NAMES, sorted(DOCS))
    assert want is not None
    assert want.reports == (reports or tuple(sorted(DOCS)))
    assert set(want.rare) == set(rare)


@pytest.mark.parametrize("question", [
    "Does Huang mention purchase orders?",  # what a person said, not a report's text
    "Do the two reports name the same Chinese tech companies?",  # a comparison
    "Did Beijing approve the imports?",
    "Does the SCMP say that imports were approved?",
])
def test_other_questions_are_not_presence_questions(question: str) -> None:
    assert presence.asked(question, NAMES, sorted(DOCS)) is None


def test_found_is_the_first_sentence_naming_it_and_quote_needs_a_quotation() -> None:
    want = presence.asked("Does the SCMP mention Jensen Huang?", NAMES, sorted(DOCS))
    assert want is not None
    start, end = presence.found(want, DOCS[SCMP]) or (0, 0)
    assert "Huang" in DOCS[SCMP].text[start:end]
    quoted = presence.asked("Does the SCMP quote Jensen Huang?", NAMES, sorted(DOCS))
    assert quoted is not None
    start, end = presence.found(quoted, DOCS[SCMP]) or (0, 0)
    assert "“" in DOCS[SCMP].text[start:end]  # his words, "..., he told journalists"
    absent = presence.asked("Does the SCMP mention Bloomberg?", NAMES, sorted(DOCS))
    assert absent is not None and presence.found(absent, DOCS[SCMP]) is None
    assert presence.absent(absent, DOCS[SCMP]) == ("Bloomberg",)


def test_a_report_that_names_it_is_quoted_and_one_that_does_not_gets_a_no(
        make_assistant: Make) -> None:
    a = make_assistant(["Passage: 1\nAnswer: not used [1]."])
    yes = a.ask("Does Tom's Hardware mention Huawei?")
    assert yes.text.startswith("Yes — ") and "Huawei" in yes.text
    assert a.generator.prompts == []  # type: ignore[attr-defined]
    assert [c.doc_id for c in yes.citations] == [TOMS]
    no = a.ask("Does the SCMP mention the 25% US levy that Tom's Hardware describes?")
    assert no.text.startswith("No — the South China Morning Post report does not mention "
                              "the 25% US levy: it nowhere writes 25%.")
    # the report that does name it is quoted after the no
    assert "Tom's Hardware does: " in no.text and [c.doc_id for c in no.citations] == [TOMS]
    both = a.ask("Do both reports mention Nvidia's H20 chip, or only one of them?")
    assert both.text.startswith("Only Tom's Hardware mentions Nvidia's H20 chip; ")
    for answer in (yes, no, both):
        for c in answer.citations:
            assert a.document(c.doc_id).text[c.start:c.end] == c.quote == a.lookup(c.id).text


def test_a_common_noun_alone_gets_no_no(make_assistant: Make) -> None:
    """"Levy" may be written "tax": only a name or a figure can be searched for a no."""
    a = make_assistant(["The reports do not say."])
    answer = a.ask("Does the SCMP discuss the window guidance?")
    assert "presence" not in answer.trace


def test_asking_about_chosen_reports_searches_only_them(make_assistant: Make) -> None:
    a = make_assistant(["Passage: 1\nAnswer: not used [1]."])
    answer = a.ask("Does the report mention Huawei?", reports=[SCMP])
    assert answer.text.startswith("No — the South China Morning Post report")
    assert answer.citations == ()  # Tom's Hardware was not asked about, nor quoted
