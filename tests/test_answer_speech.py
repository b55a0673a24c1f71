"""What a named person said: the sentences in which the reports have that person speak."""

from __future__ import annotations

from collections.abc import Callable

from assistant.answer import speech
from assistant.answer.claims import referent
from assistant.answer.evidence import passage_sentences, sentence_terms
from assistant.core import Assistant
from conftest import passage_number

Make = Callable[..., Assistant]

HUANG = ("Nvidia CEO Jensen Huang disputed the information, saying that China has yet to make "
         "a final decision on whether it would allow companies to purchase the chips.")
TAIWAN = ("“I believe the Chinese government is still deciding, we have not received purchase "
          "orders,” he told journalists upon arrival in Taiwan on Thursday.")
MEETING = ("Trump’s approval of H200 exports follows a meeting with Nvidia CEO Jensen Huang and "
           "introduces a new mechanism for moving high-end GPUs into China.")
PASSAGE = f"{HUANG}\n\n{TAIWAN}"


def test_a_he_sentence_refers_to_the_person_named_before_it() -> None:
    assert referent(PASSAGE, TAIWAN) == "Jensen Huang"
    assert referent(PASSAGE, HUANG) == ""  # names him itself
    assert referent(TAIWAN, TAIWAN) == ""  # no one named before it
    assert referent(f"{MEETING} {HUANG}", HUANG) == ""


def test_a_he_sentence_matches_the_name_of_whom_it_speaks() -> None:
    sentences = passage_sentences([PASSAGE])
    words = sentence_terms([PASSAGE], sentences)
    assert "huang" in words[1] and "taiwan" in words[1]


def test_the_person_whose_words_a_question_asks_for() -> None:
    for question, person in (
            ("What did Jensen Huang say when he landed in Taiwan?", "Jensen Huang"),
            ("What did Randy Abrams make of Beijing letting the H200 in?", "Randy Abrams"),
            ("and what does the Tom's Hardware piece quote Jensen Huang saying about China?",
             "Jensen Huang"),
            ("How did Randy Abrams describe the imports?", "Randy Abrams"),
            ("What did Tencent's spokesperson say about the approvals?", ""),  # no person
            ("Who did Jensen Huang meet?", "")):  # not his words
        assert speech.asked_speaker(question) == person, question


def test_a_person_speaks_in_a_sentence_that_reports_their_words() -> None:
    assert speech.speaks("Jensen Huang", PASSAGE, HUANG)
    assert speech.speaks("Jensen Huang", PASSAGE, TAIWAN)  # "he told", after naming him
    assert not speech.speaks("Jensen Huang", MEETING, MEETING)  # named, says nothing
    assert not speech.speaks("Randy Abrams", PASSAGE, TAIWAN)


def test_a_statement_is_the_sentence_and_the_next_one_the_person_speaks_in() -> None:
    passage = f"{MEETING} {HUANG} {TAIWAN}"
    assert speech.statement("Jensen Huang", passage, TAIWAN, 2) == [HUANG, TAIWAN]
    assert speech.statement("Jensen Huang", passage, TAIWAN, 1) == [TAIWAN]
    assert speech.statement("Jensen Huang", passage, HUANG, 3) == [HUANG, TAIWAN]  # not MEETING


def test_what_a_person_said_is_their_sentence_that_answers(make_assistant: Make) -> None:
    """The model quotes his other sentence; the one about Taiwan answers."""
    def reply(messages: list[dict[str, str]]) -> str:
        n = passage_number(messages, "Jensen Huang disputed")
        return f"Passage: {n}\nAnswer: {HUANG} [{n}]"

    history = [{"role": "user", "content": "Who disputed the report of approvals?"},
               {"role": "assistant", "content": "Nvidia CEO Jensen Huang [1]."}]
    answer = make_assistant(reply, context_mode="corpus").ask(
        "What did he say when he landed in Taiwan?", history)
    # his statement: the sentence about Taiwan and the one before it, in which he speaks
    assert answer.text.startswith("Nvidia CEO Jensen Huang disputed the information"), \
        answer.text
    assert "he told journalists upon arrival in Taiwan" in answer.text
    assert answer.trace["said"].startswith("Jensen Huang: Nvidia CEO Jensen Huang disputed")
    # his words on something they do not touch are no answer: the answer stays the model's
    other = make_assistant(reply, context_mode="corpus").ask(
        "What did Randy Abrams say about the emergency meetings?")
    assert "said" not in other.trace
