"""Yes or no settled in code: the question's statement against the cited sentences."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.answer.decide import AnswerBuilder
from assistant.answer.polar import settle, statement
from assistant.answer.policy import DEFAULT_POLICY
from assistant.core import Assistant
from assistant.ingest.documents import load_corpus
from assistant.records import Answer
from assistant.settings import Settings
from conftest import CORPUS, FakeEmbedder, ScriptedGenerator
from conftest import passage_number as _passage_number

Make = Callable[..., Assistant]

BAN = ("U.S. officials told The Information that a complete ban on H200 shipments was viewed "
       "as likely to accelerate China's domestic chip development.")


def test_the_opposite_of_what_is_asked_settles_no() -> None:
    question = ("Did US officials tell The Information a total ban on H200 shipments would hold "
                "back China's domestic chip development?")
    assert settle(question, [BAN], lambda a, b: 0.95) == "no"
    # asked the same way round in the passage's own words, it settles yes
    same = question.replace("hold back", "accelerate").replace("total", "complete")
    assert settle(same, [BAN], lambda a, b: 0.95) == "yes"
    # a reworded statement ("total" for "complete") does not: a yes needs the words
    # (on the earlier splits, every yes that rewording alone gave was wrong: 2 of 2)
    reworded = question.replace("hold back", "accelerate")
    assert settle(reworded, [BAN], lambda a, b: 0.95) == ""


def test_a_relative_clause_is_not_what_is_asked() -> None:
    capable = ("The H200 remains vastly more capable than the export-compliant H20 that was "
               "built specifically for the Chinese market.")
    # the passage does not say who built the H20; the question's point it does settle
    assert settle("Is the H200 more capable than the H20 that Nvidia built for China?",
                  [capable]) == "yes"
    assert settle("Is the H20 that Nvidia built for China more capable than the H200?",
                  [capable]) != "yes"
    # the point itself still has to be there
    assert settle("Is the H200 cheaper than the H20 that Nvidia built for China?",
                  [capable]) == ""


@pytest.mark.parametrize(("reply_text", "shown", "dropped"), [
    # the passage says "vastly more capable": a bare "No." is dropped, a "Yes," kept
    ("No [{n}].", None, "No — the cited passages do not settle it"),
    ("Yes, the H200 remains vastly more capable than the H20 [{n}].", "Yes, the H200", None),
    # the wrong "No" is dropped, and the settled yes leads the rest
    ("No, the H200 remains vastly more capable than the H20 [{n}].", "Yes — the H200 remains",
     "No — the cited passages do not settle it"),
])
def test_a_yes_or_no_stays_only_when_the_passages_settle_it(
        make_assistant: Make, reply_text: str, shown: str | None, dropped: str | None) -> None:
    def reply(messages: list[dict[str, str]]) -> str:
        n = _passage_number(messages, "vastly more capable")
        return f"Answer: {reply_text.format(n=n)}"

    answer = make_assistant(reply, confirm_answers=False).ask(
        "Is the H200 more capable than the H20?")
    if shown is None:  # the bare "No" is not shown (a fallback may quote a sentence instead)
        assert not answer.text.startswith("No")
    else:
        assert answer.text.startswith(shown), answer.text
    if dropped is not None:
        assert dropped in answer.unsupported


def test_a_yes_no_question_becomes_its_statement() -> None:
    from assistant.answer.polar import settle, statement

    assert statement("Is the H200 more capable than the H20?") == \
        "The H200 is more capable than the H20."
    assert statement("Were the meetings led by the Ministry of Commerce?") == \
        "The meetings were led by the Ministry of Commerce."
    assert statement("Who led the meetings?") == ""
    # a framing phrase before the auxiliary: still a yes/no question, and it stays in front
    assert statement("According to Jensen Huang, has Nvidia received purchase orders?") == \
        "According to Jensen Huang, Nvidia has received purchase orders."
    assert statement("Under the new rules, is the H200 allowed?") == \
        "Under the new rules, the H200 is allowed."
    assert statement("In 2022, who led the meetings?") == ""
    assert settle("Under the plan, did Beijing approve the imports?",
                  ["Under the plan, Beijing did not approve the imports."]) == "no"
    # "according to" the report's own outlet: its sentence settles the bare statement
    sentence = "The H200 remains vastly more capable than the H20."
    framed = "According to Tom's Hardware, is the H200 more capable than the H20?"
    assert settle(framed, [sentence], labels=["Tom's Hardware — \"China holds ...\""]) == "yes"
    assert settle(framed, [sentence], labels=["South China Morning Post"]) == ""
    assert settle("Did Beijing approve the imports?", ["Beijing did not approve the imports."]) \
        == "no"
    assert settle("Did Beijing approve the imports?", ["Beijing approved the imports."]) == "yes"
    assert settle("Did Beijing approve the imports?", ["Washington met on Monday."]) == ""


def test_a_no_inside_a_noun_phrase_does_not_settle_no() -> None:
    share = "Nvidia CEO Jensen Huang has since said that Nvidia has virtually no market share."
    assert settle("Did Jensen Huang say anything about Nvidia's market share?", [share],
                  lambda a, b: 0.95) == ""
    # a negated verb does
    orders = "Nvidia has not received purchase orders for the H200."
    assert settle("Has Nvidia received purchase orders for the H200?", [orders]) == "no"


def test_an_unsettled_yes_no_question_gets_a_sentence_that_settles_it(
        make_assistant: Make) -> None:
    question = "Is the H200 more capable than the H20?"
    answer = make_assistant(["Passage: none"], context_mode="corpus").ask(question)
    assert answer.text.startswith("Yes — the H200 sits one generation below"), answer.trace
    assert "vastly more capable" in answer.citations[0].quote
    assert answer.trace["before:settle"] == "The reports do not say."
    # a question the passages do not settle stays refused
    assert make_assistant(["Passage: none"], context_mode="corpus").ask(
        "Is the H200 cheaper than the H20?").refused


def test_a_yes_the_code_cannot_settle_is_the_sentence_the_model_likely_reads_as_yes(
        tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    """The model scores the reports' sentences; the one likely enough is quoted after "Yes"."""
    question = ("Does the SCMP piece say access for state-backed firms such as telecom "
                "operators is expected to stay under tight control?")

    def ask(yes: dict[str, float], **policy: object) -> tuple[Answer, ScriptedGenerator]:
        generator = ScriptedGenerator(["Passage: none"], yes=yes)
        file = tmp_path / "policy.json"
        file.write_text(json.dumps(policy))
        cfg = Settings.from_env(context_mode="corpus", answer_policy_file=file)
        a = Assistant.open(corpus_dir=CORPUS, index_dir=tmp_path / "index", settings=cfg,
                           embedder=fake_embedder, generator=generator)  # type: ignore[arg-type]
        return a.ask(question), generator

    answer, generator = ask({"remain under tight control": 0.9})
    assert answer.text.startswith("Yes — However, access for state-backed"), answer.trace
    assert "remain under tight control" in answer.citations[0].quote
    assert answer.trace["before:likely_yes"] == "The reports do not say."
    assert 0 < len(generator.yes_asked) <= DEFAULT_POLICY.yes_sentences
    # below min_yes_probability, or with the fallback off, the refusal stays
    assert ask({"remain under tight control": DEFAULT_POLICY.min_yes_probability - 0.05})[0].refused
    off = [f for f in DEFAULT_POLICY.fallbacks if f != "likely_yes"]
    answer, generator = ask({"remain under tight control": 0.9}, fallbacks=off)
    assert answer.refused and generator.yes_asked == []


def test_the_settle_fallback_switched_off_keeps_the_refusal() -> None:
    docs = {d.doc_id: d for d in load_corpus(CORPUS).documents}
    off = AnswerBuilder(docs, FakeEmbedder(), dataclasses.replace(DEFAULT_POLICY, fallbacks=()))
    refused = Answer("Is the H200 more capable than the H20?", "The reports do not say.", True)
    assert off.settled(refused, []) is refused
    assert not off.uses("settle") and AnswerBuilder(docs, FakeEmbedder()).uses("settle")


ORDERS = ("“I believe the Chinese government is still deciding, we have not received purchase "
          "orders,” he told journalists upon arrival in Taiwan on Thursday.")
GUIDANCE = ("Officials requested estimates of each company's H200 requirements earlier in the "
            "week and told attendees they would issue guidance once responses are reviewed.")
OFF_LIMITS = ("U.S. officials said the arrangement was a middle ground whereby Blackwell "
              "remains off-limits, but a complete ban on H200 shipments was viewed as likely "
              "to accelerate China's domestic chip development.")
H20 = ("The H20 contributed just $50 million in revenue during Nvidia's October quarter, "
       "compared to $4.6 billion in the period earlier this year.")
UNITS = "The approval covered more than 400,000 units for ByteDance, Alibaba and Tencent."


@pytest.mark.parametrize(("question", "sentence", "word"), [
    # the statement's verb and object, said the other way
    ("Has Nvidia already received purchase orders for the H200?", ORDERS, "no"),
    ("Has Nvidia received approval for the H200?", ORDERS, ""),  # another object
    # what someone is asked to have said, against what they are quoted saying
    ("Did Jensen Huang say Nvidia had already received purchase orders for the H200?",
     ORDERS, "no"),
    ("Did Reuters say Nvidia had received purchase orders?", ORDERS, ""),  # "he" is a person
    # asked as done by now, left undone ("would issue")
    ("Had the agencies already issued their guidance to the companies?", GUIDANCE, "no"),
    ("Will the agencies issue guidance to the companies?", GUIDANCE, ""),  # not "by now"
    # asked as allowed, said to be forbidden (as the subject of "off-limits")
    ("Under the arrangement, can Nvidia ship its Blackwell chips to China?", OFF_LIMITS, "no"),
    ("Under the arrangement, can Nvidia ship its H200 chips to China?", OFF_LIMITS, ""),
    # asked in the passive: what is allowed is the subject
    ("Under the arrangement, can Nvidia's Blackwell chips be exported to China?", OFF_LIMITS,
     "no"),
    ("Under the arrangement, can Nvidia's H200 chips be exported to China?", OFF_LIMITS, ""),
    # the subject's first word kept as the question writes it after a frame (x-19)
    ("Under the arrangement Trump approved, can Blackwell chips be exported to China?",
     OFF_LIMITS, "no"),
    # a bound compared with the subject's figure (not with the one compared against)
    ("Did the H20 bring in less than $100 million in the October quarter?", H20, "yes"),
    ("Did the H20 bring in more than $100 million in the October quarter?", H20, "no"),
    ("Did the H20 bring in less than $10 million in the October quarter?", H20, "no"),
    ("Did the H200 bring in less than $100 million in the October quarter?", H20, ""),
    # "exactly" against "more than" the same figure; a count of the same thing only
    ("Did the approval cover exactly 400,000 units?", UNITS, "no"),
    ("Did the approval cover more than 300,000 units?", UNITS, "yes"),
    ("Did the approval cover more than 300,000 companies?", UNITS, ""),
])
def test_a_statement_worded_otherwise_is_settled_by_its_parts(question: str, sentence: str,
                                                              word: str) -> None:
    assert settle(question, [sentence]) == word


def test_a_modal_question_the_parser_reads_as_one_noun_still_has_a_statement() -> None:
    """"Can Nvidia ship Blackwell chips?" parsed with "can" as root: "Nvidia ship ..." a noun."""
    from assistant.answer.polar import statement

    assert statement("Can Nvidia ship Blackwell chips to China?") == \
        "Nvidia can ship Blackwell chips to China."
    assert statement("under Trump's deal, can Nvidia ship Blackwell chips to China too?") == \
        "under Trump's deal, Nvidia can ship Blackwell chips to China too."
    assert statement("Will the chips be taxed at 25%?") == "The chips will be taxed at 25%."
    off_limits = ("U.S. officials said the arrangement was a middle ground whereby Blackwell "
                  "remains off-limits.")
    assert settle("Under Trump's deal, can Nvidia ship Blackwell chips to China too?",
                  [off_limits]) == "no"


def test_a_relative_clause_that_carries_the_question_is_not_dropped() -> None:
    """"One is of the restrictions." is no statement of what was asked."""
    question = ("Is one of the restrictions Chinese regulators are weighing a ban on using the "
                "H200 in sensitive sectors such as finance or energy?")
    own = "Chinese regulators, meanwhile, are considering restrictions of their own."
    assert settle(question, [own]) == ""
    assert settle(question, [own], policy=dataclasses.replace(DEFAULT_POLICY,
                                                              core_share=100)) == "yes"
    # a clause that only describes what is asked about is still dropped
    capable = ("The H200 remains vastly more capable than the export-compliant H20 built for "
               "the Chinese market.")
    assert settle("Is the H200 more capable than the H20 that Nvidia built for China?",
                  [capable]) == "yes"


@pytest.mark.parametrize(("question", "expected"), [
    # the question's parse takes "the H200 Nvidia's most powerful AI chip" as one subject
    ("Is the H200 Nvidia's most powerful AI chip?", "The H200 is Nvidia's most powerful AI chip."),
    # a prepositional phrase belongs to the subject, not after the auxiliary
    ("Would any new limits on chip purchases be set out in formal rules?",
     "Any new limits on chip purchases would be set out in formal rules."),
    # a verb's auxiliary beats a copula ("Big Tech are firms")
    ("Are Big Tech firms expected to get the chips first?",
     "Big Tech firms are expected to get the chips first."),
    # two subjects joined by "and"
    ("Do the SCMP and Tom's Hardware agree on the figure?",
     "The SCMP and Tom's Hardware do agree on the figure."),
    # the subject's "such as" and "of" phrases stay with it
    ("Are state-backed firms such as telecom network operators expected to get unrestricted "
     "access to the H200?", "State-backed firms such as telecom network operators are "
     "expected to get unrestricted access to the H200."),
    ("Is the SCMP's account of Beijing's H200 approvals attributed to named officials?",
     "The SCMP's account of Beijing's H200 approvals is attributed to named officials."),
    # "in Taiwan" may be what is asked: it is not moved with the subject
    ("Was Jensen Huang in Taiwan to attend a TSMC event?",
     "Jensen Huang was in Taiwan to attend a TSMC event."),
    # "might" asks a yes/no question too
    ("Might Chinese banks be barred from using the H200?",
     "Chinese banks might be barred from using the H200."),
])
def test_the_auxiliary_goes_where_the_statement_reads_best(question: str, expected: str) -> None:
    from assistant.answer.polar import statement

    assert statement(question) == expected


def test_a_superlative_the_sentence_ranks_lower_settles_no() -> None:
    sentence = ("Beijing has begun approving imports of the H200, ending uncertainty over the "
                "US tech giant's second most powerful artificial intelligence chip.")
    assert settle("Is the H200 Nvidia's most powerful AI chip?", [sentence]) == "no"
    # about another chip, or ranked the same: not settled that way
    assert settle("Is the H20 Nvidia's most powerful AI chip?", [sentence]) == ""
    assert settle("Is the H200 Nvidia's second most powerful AI chip?", [sentence]) != "no"


@pytest.mark.parametrize(("question", "word"), [
    ("Is the South China Morning Post owned by Alibaba?", "yes"),
    ("Is the South China Morning Post owned by Tencent?", ""),  # another owner
    ("Is Tencent owned by Alibaba?", ""),  # another thing owned
])
def test_a_passive_statement_said_actively_settles_yes(question: str, word: str) -> None:
    assert settle(question, ["Alibaba owns the Post."]) == word


@pytest.mark.parametrize(("question", "expected"), [
    ("Does the SCMP describe the H200 as Nvidia's single most powerful AI chip?",
     "According to the SCMP, the H200 is Nvidia's single most powerful AI chip."),
    ("Does the SCMP piece say that Nvidia had received orders?",
     "According to the SCMP piece, Nvidia had received orders."),
    ("Did Jensen Huang say that Nvidia had received orders?",  # checked against who says it
     "Jensen Huang did say that Nvidia had received orders."),
    ("Did Beijing approve imports?", "Beijing did approve imports."),  # no one's words
])
def test_whether_someone_says_something_is_their_statement(question: str,
                                                           expected: str) -> None:
    assert statement(question) == expected


def test_a_description_the_report_contradicts_is_a_no() -> None:
    question = "Does the SCMP describe the H200 as Nvidia's single most powerful AI chip?"
    sentence = ("Beijing has begun approving imports of Nvidia’s H200 graphics processing "
                "units, ending regulatory uncertainty over the US tech giant’s second most "
                "powerful artificial intelligence chip.")
    label = "South China Morning Post — by Ann Cao, Coco Feng, Wency Chen"
    assert settle(question, [sentence], labels=[label]) == "no"
