"""Claims about several reports: relations are never cited, 'both' needs both."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.answer import comparison
from assistant.core import Assistant
from assistant.ingest.documents import load_corpus
from assistant.records import Answer, Document
from conftest import CORPUS, SCMP, TOMS
from conftest import passage_number as _n

NAMES = comparison.outlet_names([
    Document(SCMP, Path("a.txt"), "", "", "T", "South China Morning Post", (), None, None),
    Document(TOMS, Path("b.txt"), "", "", "T", "Tom's Hardware", (), None, None),
    Document("notes", Path("c.txt"), "", "", "T", None, (), None, None),
])


def test_outlets_are_named_in_full_or_by_their_initials() -> None:
    assert NAMES == {SCMP: ("South China Morning Post", "SCMP"), TOMS: ("Tom's Hardware",)}
    assert comparison.named_reports("The SCMP and Tom’s Hardware report it", NAMES) == {SCMP, TOMS}
    assert comparison.named_reports("scmp is lower case", NAMES) == set()  # initials: exact


@pytest.mark.parametrize(("text", "several", "relation"), [
    ("The SCMP and Tom's Hardware agree that China approved the imports.", True, True),
    ("The two reports differ on the timing.", True, True),
    ("Both reports name ByteDance, Alibaba and Tencent.", True, False),
    ("Each of the two outlets quotes Jensen Huang.", True, False),
    ("Tom's Hardware and the South China Morning Post both cite Reuters.", True, False),
    ("Compare what the two pieces say about Jensen Huang.", True, False),
    ("Do the pieces agree on the timing?", True, True),
    ("Both agencies have overseen AI chip procurement.", False, False),  # not reports
    ("Beijing agreed to the same terms as Washington.", False, False),  # a fact, not a relation
    ("Two sources familiar with the matter were cited.", False, False),  # people, not reports
])
def test_claims_about_several_reports_are_recognised(text: str, several: bool,
                                                     relation: bool) -> None:
    assert comparison.about_several(text, NAMES) is several
    assert comparison.relates_reports(text, NAMES) is relation


def _ask(make_assistant: Callable[..., Assistant], reply: Callable[[list[dict[str, str]]], str],
         question: str) -> Answer:
    """``question`` in corpus mode, with the reply verified but not put to the answer check."""
    return make_assistant(reply, context_mode="corpus", confirm_answers=False).ask(question)


def test_a_claim_that_the_reports_agree_is_never_presented_as_cited(
        make_assistant: Callable[..., Assistant]) -> None:
    def reply(messages: list[dict[str, str]]) -> str:
        n = _n(messages, "Beijing has begun approving")
        return (f"Passage: {n}\nAnswer: The SCMP and Tom's Hardware agree that Beijing has "
                f"begun approving imports of the H200 [{n}].")

    answer = _ask(make_assistant, reply, "Do the SCMP and Tom's Hardware agree on whether "
                                         "Beijing has approved H200 imports?")
    assert not any("agree" in c.quote for c in answer.citations)
    assert "agree" not in answer.text or answer.refused
    assert any("agree" in s for s in answer.unsupported)


def test_a_claim_about_both_reports_cites_a_passage_of_each(
        make_assistant: Callable[..., Assistant]) -> None:
    def reply(messages: list[dict[str, str]]) -> str:
        n = _n(messages, "400,000 units for ByteDance")
        return (f"Passage: {n}\nAnswer: Both reports name ByteDance, Alibaba and Tencent "
                f"[{n}].")

    answer = _ask(make_assistant, reply, "Which companies do both reports name?")
    assert not answer.refused
    # the verified claim about both reports leads the per-report lines
    assert answer.text.startswith("Both reports name ByteDance, Alibaba and Tencent")
    assert sorted({c.doc_id for c in answer.citations}) == sorted([SCMP, TOMS])
    assert len(re.findall(r"\[\d+\]", answer.text)) == 2
    # a claim about both reports that only one report supports is unsupported
    def one_sided(messages: list[dict[str, str]]) -> str:
        n = _n(messages, "400,000 units for ByteDance")
        return (f"Passage: {n}\nAnswer: Both reports say more than 400,000 units were "
                f"approved [{n}].")

    alone = _ask(make_assistant, one_sided, "How many units do both reports say were approved?")
    assert "Both reports" not in alone.text  # its one sentence was dropped, and listed
    assert any("Both reports" in s for s in alone.unsupported)


def test_a_question_about_both_reports_gets_each_reports_account(
        make_assistant: Callable[..., Assistant]) -> None:
    disputed = "Nvidia CEO Jensen Huang disputed the information"
    market = "Nvidia CEO Jensen Huang has since said that Nvidia has virtually no market share"

    def reply(messages: list[dict[str, str]]) -> str:
        return (f"Passage: 2\nAnswer: Jensen Huang disputed the information, saying that China "
                f"has yet to make a final decision [{_n(messages, disputed)}].")

    a = make_assistant(reply, context_mode="corpus", confirm_answers=False)
    answer = a.ask("What does Jensen Huang say in each of the two reports about Nvidia's "
                   "position in China?")
    assert list(dict.fromkeys(c.doc_id for c in answer.citations)) == [SCMP, TOMS]
    # one line per report, each labelled with its outlet
    assert answer.text.startswith("South China Morning Post: Jensen Huang disputed")
    assert "Tom's Hardware: " + market in answer.text
    assert "agree" not in answer.text and "differ" not in answer.text  # nothing was asked
    toms = next(c for c in answer.citations if c.doc_id == TOMS)
    assert toms.quote.startswith(market)
    assert a.lookup(toms.id).text == toms.quote
    assert answer.other_reports == ()  # the answer cites both now
    # the same question about one report gets no account of the other
    single = a.ask("What does Jensen Huang say about Nvidia's position in China?")
    assert [c.doc_id for c in single.citations] == [SCMP]
    # a question about both reports that the model refuses becomes both accounts
    refused = make_assistant(["Passage: none"], context_mode="corpus").ask(
        "What does Jensen Huang say in each of the two reports about Nvidia's position in China?")
    assert not refused.refused
    assert sorted({c.doc_id for c in refused.citations}) == sorted([SCMP, TOMS])
    assert "Tom's Hardware: " + market in refused.text


def test_a_line_about_something_else_gives_way_to_the_reports_best_sentence(
        make_assistant: Callable[..., Assistant]) -> None:
    owns = "Alibaba owns the Post."

    def reply(messages: list[dict[str, str]]) -> str:
        return f"Passage: 1\nAnswer: Alibaba owns the Post [{_n(messages, owns)}]."

    a = make_assistant(reply, context_mode="corpus", confirm_answers=False)
    answer = a.ask("What does each report say about Jensen Huang?")
    quotes = {c.doc_id: c.quote for c in answer.citations}
    # the model's line for the SCMP is true but about something else: its best one replaces it
    assert owns not in answer.text
    assert "Jensen Huang" in quotes[SCMP] and "Jensen Huang" in quotes[TOMS], answer.text


def test_each_reports_account_of_a_name_is_a_sentence_naming_it(
        make_assistant: Callable[..., Assistant]) -> None:
    # one shared word ("ByteDance") is below the ranking bar, but the name settles it
    answer = make_assistant(["Passage: none"], context_mode="corpus").ask(
        "What does each report say about ByteDance?")
    assert not answer.refused, answer.trace
    assert sorted({c.doc_id for c in answer.citations}) == sorted([SCMP, TOMS])
    firsts = {c.doc_id: c.quote for c in reversed(answer.citations)}  # each report's first
    assert all("ByteDance" in quote for quote in firsts.values()), answer.text
    # a name each: each report's sentence naming its own
    which = make_assistant(["Passage: none"], context_mode="corpus").ask(
        "Which report mentions Huawei, and which mentions UBS?")
    quotes = {c.doc_id: c.quote for c in which.citations}
    assert "Huawei" in quotes[TOMS] and "UBS" in quotes[SCMP], which.text
    # without a name, the bar stands: nothing is offered for a question of common words
    vague = make_assistant(["Passage: none"], context_mode="corpus").ask(
        "What does each report say about the weather?")
    assert vague.refused


def test_a_relation_is_stated_only_as_the_verifier_finds_it(
        make_assistant: Callable[..., Assistant]) -> None:
    question = "Do the two reports agree on what Jensen Huang said about China?"
    refused = make_assistant(["Passage: none"], context_mode="corpus").ask(question)
    assert sorted({c.doc_id for c in refused.citations}) == sorted([SCMP, TOMS])
    # Huang's two statements are different points: no agreement or disagreement is claimed
    assert refused.text.endswith("The reports do not address this point in the same terms "
                                 f"[{refused.citations[0].n}][{refused.citations[1].n}].")
    assert refused.trace["relation"].startswith("The reports do not address")


@pytest.mark.parametrize(("first", "second", "relation"), [
    ("Imports of the H200 were approved by Beijing.",
     "Imports of the H200 were approved by Beijing.", "On this point the reports agree."),
    ("Imports of the H200 were approved by Beijing.",
     "Imports of the H200 were not approved by Beijing.", "On this point the reports differ."),
    ("Imports of the H200 were approved by Beijing.",
     "Imports of the H200 may be approved by Beijing.", "On this point the reports differ."),
    ("Alibaba owns the Post.", "Regulators met on Wednesday.",
     "The reports do not address this point in the same terms."),
])
def test_relations_come_from_the_verifier(first: str, second: str, relation: str) -> None:
    from assistant.answer.claims import GroundedSentence
    from assistant.answer.decide import AnswerBuilder
    from conftest import FakeEmbedder

    docs = {d.doc_id: d for d in load_corpus(CORPUS).documents}
    builder = AnswerBuilder(docs, FakeEmbedder())
    lines = [GroundedSentence(first, (1,), 1.0, first), GroundedSentence(second, (2,), 1.0, second)]
    assert builder._relation("Do the two reports agree on the approvals?", lines) == relation
    assert builder._relation("What do the two reports say on the approvals?", lines) == ""


@pytest.mark.parametrize(("text", "count"), [
    ("What is the overall story across both reports?", 2),
    ("Summarise the two articles.", 2),
    ("Summarise each report.", None),  # every one
    ("Give me the gist of all the reports.", None),
    ("Summarise the report.", None),  # not about several
])
def test_how_many_reports_a_question_speaks_of(text: str, count: int | None) -> None:
    assert comparison.how_many(text) == count
