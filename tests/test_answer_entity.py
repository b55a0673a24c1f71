"""Who / which / where / when: the name a sentence gives in the role the question asks about."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from assistant.answer import entity
from assistant.answer.decide import AnswerBuilder
from assistant.answer.policy import DEFAULT_POLICY
from assistant.core import Assistant
from assistant.ingest.documents import load_corpus
from assistant.records import Answer
from assistant.settings import Settings
from conftest import CORPUS, FakeEmbedder

Make = Callable[..., Assistant]

BLOOMBERG = ("Companies are said to have begun preliminary discussions with Nvidia about "
             "potential orders after Bloomberg first reported in November that the U.S. was "
             "weighing approval, and, according to Reuters, the likes of Alibaba and ByteDance "
             "are said to be “keen” to begin purchasing Nvidia’s chips.")
REUTERS = ("The approval covered more than 400,000 units for ByteDance, Alibaba Group Holding "
           "and Tencent Holdings, while other firms awaited further approvals, according to "
           "Reuters, which first reported the news on Wednesday.")
TAIWAN = ("“I believe the Chinese government is still deciding, we have not received purchase "
          "orders,” he told journalists upon arrival in Taiwan on Thursday.")


def test_what_a_question_asks_for_is_read_at_its_first_wh_word() -> None:
    for question, kind in (("Who wrote the report?", "name"),
                           ("Which outlet first reported it?", "name"),
                           ("Whose chips were approved?", "name"),
                           ("Name the domestic supplier firms were told to favour.", "name"),
                           ("Identify the analyst who spoke of a balanced outcome", "name"),
                           ("Where was Huang when he spoke?", "place"),
                           ("In which city were the meetings held?", "place"),
                           ("When did Bloomberg report it?", "time"),
                           ("On which day was it reported?", "time"),
                           ("On what date were the meetings convened?", "time"),
                           ("In what city did Huang speak?", "place"),
                           ("What company owns the Post?", ""),
                           ("What restrictions are regulators considering?", ""),
                           ("How many units were approved?", ""),
                           ("Why did officials not want a ban?", ""),
                           ("Did Beijing approve the imports?", "")):
        assert entity.asked(question) == kind, question


def test_the_name_in_the_asked_role_beats_a_name_beside_it() -> None:
    question = "Which outlet first reported that the US was weighing approval of H200 exports?"
    found = entity.candidates(question, BLOOMBERG)
    assert found[0].name == "Bloomberg"
    assert found[0].clause == ("Bloomberg first reported in November that the U.S. was "
                               "weighing approval")
    # "according to Reuters" names a source, and attaches to another clause
    assert "Reuters" not in [c.name for c in found]
    assert all(c.matched < found[0].matched for c in found[1:])
    # "Reuters, which first reported the news": the relative clause is Reuters' role
    described = entity.candidates(question, REUTERS)
    assert [c.name for c in described] == ["Reuters"]
    assert described[0].clause == "Reuters, which first reported the news on Wednesday"
    assert described[0].matched < found[0].matched


def test_places_and_times_come_from_the_clause_of_the_questions_verb() -> None:
    where = entity.candidates("Where was Jensen Huang when he told journalists that China had "
                              "not placed purchase orders?", TAIWAN)
    assert [c.name for c in where] == ["Taiwan"] and where[0].clause == TAIWAN
    when = entity.candidates("When did Bloomberg first report that the US was weighing "
                             "approval?", BLOOMBERG)
    assert [c.name for c in when] == ["November"]


def test_a_name_outside_the_asked_role_is_not_offered() -> None:
    sentence = ("Trump’s approval of H200 exports follows a meeting with Nvidia CEO Jensen Huang "
                "and introduces a new mechanism for moving high-end GPUs into China.")
    # a possessive is not the verb's argument; "a new mechanism" is another predicate's
    assert all(c.matched == 0 for c in entity.candidates("Who follows the news service?",
                                                         sentence))
    assert [c.name for c in entity.candidates("Whose approval follows a meeting with "
                                              "Huang?", sentence)] == []
    # a place asked for is an adverbial of the verb, not its subject
    assert entity.candidates("In which city were the emergency meetings held?",
                             "China holds emergency meetings on Nvidia H200 purchases.") == []


def test_no_name_is_offered_without_the_questions_verb_or_of_the_question_itself() -> None:
    # no "manufacture" in the sentence: no name holds the asked role
    assert entity.candidates("Which company manufactures the chips Beijing approved?",
                             REUTERS) == []
    # the question's own names and the conversation's are not answers
    assert all(c.name != "Reuters" for c in entity.candidates(
        "Who did Reuters say first reported the news?", REUTERS))
    assert entity.candidates("Which outlet first reported the news?", REUTERS,
                             exclude=("Reuters",)) == []


def test_a_refused_who_question_gets_the_name_in_its_role(make_assistant: Make) -> None:
    question = "Which outlet first reported that the US was weighing approval of H200 exports?"
    answer = make_assistant(["The reports do not say."], min_relevance=0.0).ask(question)
    assert not answer.refused, answer.trace
    assert answer.text.startswith("Bloomberg first reported in November that the U.S. was "
                                  "weighing approval"), answer.text
    assert answer.citations[0].quote == BLOOMBERG
    assert answer.trace["before:entity"] == "The reports do not say."


def test_the_entity_fallback_switched_off_keeps_the_refusal() -> None:
    docs = {d.doc_id: d for d in load_corpus(CORPUS).documents}
    off = AnswerBuilder(docs, FakeEmbedder(), dataclasses.replace(DEFAULT_POLICY, fallbacks=()))
    refused = Answer("Which outlet first reported it?", "The reports do not say.", True)
    assert off.entity(refused, []) is refused
    assert not off.uses("entity") and AnswerBuilder(docs, FakeEmbedder()).uses("entity")


def test_an_answer_resting_on_a_reports_label_gives_way_to_the_name_in_the_role(
        tmp_path: Path) -> None:
    from conftest import ScriptedGenerator
    from conftest import passage_number as _passage_number

    def reply(messages: list[dict[str, str]]) -> str:
        n = _passage_number(messages, "which first reported the news on Wednesday")
        return f"Passage: {n}\nAnswer: The South China Morning Post [{n}]."

    question = "Which news agency first reported the news on Wednesday?"
    a = Assistant.open(corpus_dir=CORPUS, index_dir=tmp_path / "index",
                       settings=Settings.from_env(context_mode="corpus", min_relevance=0.0),
                       embedder=FakeEmbedder(),  # type: ignore[arg-type]
                       generator=ScriptedGenerator(reply, extract="South China Morning Post"))
    answer = a.ask(question)
    # the outlet that published the report is not who broke the news in its sentence
    assert answer.text.startswith("Reuters, which first reported the news on Wednesday"), \
        answer.text
    assert answer.trace["before:entity"].startswith("The South China Morning Post")
    # without a name in the asked role, the label's answer stays
    kept = a.ask("Which outlet published the report on Beijing weighing H200 imports?")
    assert "before:entity" not in kept.trace


def _answering_from(tmp_path: Path, passage: str, answer: str) -> Assistant:
    """An assistant whose model answers ``answer`` from the passage holding ``passage``."""
    from conftest import ScriptedGenerator
    from conftest import passage_number as _passage_number

    def reply(messages: list[dict[str, str]]) -> str:
        n = _passage_number(messages, passage)
        return f"Passage: {n}\nAnswer: {answer} [{n}]."

    return Assistant.open(corpus_dir=CORPUS, index_dir=tmp_path / "index",
                          settings=Settings.from_env(context_mode="corpus", min_relevance=0.0),
                          embedder=FakeEmbedder(),  # type: ignore[arg-type]
                          generator=ScriptedGenerator(reply, extract=lambda s: s))


def test_a_who_answer_naming_no_one_in_the_asked_role_gives_way_to_the_name_in_it(
        tmp_path: Path) -> None:
    """"Trump's approval ... follows a meeting" names no one who "had cleared exports"."""
    trump = "approval of H200 exports follows a meeting with Nvidia CEO Jensen Huang"
    a = _answering_from(tmp_path, trump, f"Trump’s {trump}")
    answer = a.ask("Which government had cleared H200 exports before Beijing's temporary hold "
                   "on shipments?")
    assert "Washington" in answer.text and "before:entity" in answer.trace, answer.trace
    assert any("after Washington cleared exports" in c.quote for c in answer.citations)


def test_a_byline_answer_to_who_wrote_is_not_displaced_by_who_said_something(
        tmp_path: Path) -> None:
    """"said Randy Abrams" holds another reporting verb, not the question's "wrote"."""
    a = _answering_from(tmp_path, "By Ann Cao in Shanghai", "Ann Cao, Coco Feng, Wency Chen")
    answer = a.ask("Who wrote the report about Beijing weighing imports of the H200?")
    assert "Ann Cao" in answer.text and "Randy Abrams" not in answer.text, answer.trace


WINDOW = ("If adopted, these measures would be communicated through informal “window "
          "guidance”, the same method authorities used earlier this year when they urged "
          "companies to avoid Nvidia hardware and prioritize suppliers such as Huawei.")


def test_the_noun_a_name_question_asks_for() -> None:
    for question, kind in (("Which domestic chip supplier were firms told to favour?", "suppli"),
                           ("Earlier this year, which domestic supplier were Chinese companies "
                            "told to favour over Nvidia?", "suppli"),  # a garbled parse
                           ("Name the chip supplier that firms were told to favour.", "suppli"),
                           ("Who led the meetings?", ""),
                           ("What restrictions are weighed?", "")):
        assert entity.asked_kind(question) == kind, question


def test_a_name_given_as_an_example_of_the_asked_noun_is_a_candidate() -> None:
    question = "Which domestic supplier were Chinese companies told to favour over Nvidia?"
    found = entity.members(question, WINDOW)
    assert [c.name for c in found] == ["Huawei"]
    assert found[0].clause == "prioritize suppliers such as Huawei"
    # another noun asked, or the example named by the question itself: none
    assert entity.members("Which outlet reported the meetings?", WINDOW) == []
    assert entity.members("Which supplier besides Huawei was named?", WINDOW) == []
    assert entity.members(question, REUTERS) == []


def test_a_which_question_answered_with_no_example_of_its_noun_gets_one(
        make_assistant: Make) -> None:
    """The model answers with the companies keen to buy; the reports call Huawei a supplier."""
    from conftest import passage_number

    def reply(messages: list[dict[str, str]]) -> str:
        n = passage_number(messages, "Bloomberg first reported")
        return f"Passage: {n}\nAnswer: Alibaba and ByteDance [{n}]."

    question = "Which domestic supplier were Chinese companies told to favour over Nvidia?"
    answer = make_assistant(reply, context_mode="corpus").ask(question)
    assert answer.text.startswith("Huawei — prioritize suppliers such as Huawei ["), answer.text
    assert "Alibaba" not in answer.text
    assert "suppliers such as Huawei" in answer.citations[0].quote
    assert answer.trace["entity"].startswith("Huawei (one of the suppli")


def test_who_called_something_a_thing_is_who_said_it_was_one() -> None:
    """"Which analyst called the imports a balanced outcome?" is answered by the speaker
    of "..., said Randy Abrams"; a passive "is described as" asks what is described."""
    said = ("Imports of the H200 reflected a \u201cbalanced outcome\u201d, said Randy Abrams, "
            "head of Taiwan research at UBS Group.")
    for question in ("Which UBS analyst called China's H200 imports a balanced outcome?",
                     "Which UBS analyst described the H200 imports as a balanced outcome?"):
        assert [c.name for c in entity.candidates(question, said)] == ["Randy Abrams"]
    # "called" without a second object is another verb ("called the meetings")
    assert entity.candidates("Who called the emergency meetings?", said) == []
    assert entity.candidates("Which analyst is described as cautious?", said) == []


def test_who_makes_a_product_is_who_manufactures_it() -> None:
    """"Who makes the chips?" is answered by "Chips manufactured by TSMC ..."; the words
    of the clause the chips stand in ("would be imported ..., taxed at 25%") count."""
    tsmc = ("Chips manufactured by TSMC in Taiwan would be imported into the United States "
            "for security reviews, taxed at 25% and then re-exported to approved Chinese "
            "buyers.")
    found = entity.candidates("Which company makes the chips that are taxed at 25%?", tsmc)
    assert found[0].name == "TSMC" and found[0].matched >= 2  # chip, taxed, 25
    assert entity.candidates("What did he make of that?", tsmc) == []  # "make of": no product


def test_a_name_whose_verb_is_negated_does_not_hold_the_role() -> None:
    """"China does not currently produce a domestic equivalent" names no one who makes it."""
    sentence = "China does not currently produce a domestic equivalent to the H200."
    assert entity.candidates("Which company makes an equivalent to the H200?", sentence) == []
    assert [c.name for c in entity.candidates(
        "Which company makes an equivalent to the H200?",
        "Huawei produces a domestic equivalent to the H200.")] == ["Huawei"]


def test_who_is_the_owner_is_who_owns_it_even_untagged() -> None:
    """"Who is the owner of the Post?" asks who owns it; "Alibaba owns the Post." names
    Alibaba as its subject though the small model tags no entity there."""
    question = "Who is the owner of the South China Morning Post?"
    assert [c.name for c in entity.candidates(question, "Alibaba owns the Post.")] == \
        ["Alibaba"]
    assert entity.candidates("Who is the analyst?", "Alibaba owns the Post.") == []
