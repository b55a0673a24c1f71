"""Questions typed in lower case get the reports' names as the reports write them."""

from __future__ import annotations

from assistant.text import name_casing, truecase

TEXTS = ["Nvidia said the H200 ships. Beijing weighs imports; the chips are taxed.",
         "The Chinese government met Nvidia in Beijing."]


def test_names_the_texts_always_capitalise_are_restored() -> None:
    casing = name_casing(TEXTS)
    assert casing["nvidia"] == "Nvidia" and casing["h200"] == "H200"
    assert "the" not in casing and "chips" not in casing  # written in lower case too
    assert truecase("did nvidia ship the h200 to beijing?", casing) == \
        "did Nvidia ship the H200 to Beijing?"


def test_a_question_with_its_own_capitals_is_left_alone() -> None:
    casing = name_casing(TEXTS)
    assert truecase("Did nvidia ship the H200?", casing) == "Did nvidia ship the H200?"
    assert truecase("Did nvidia ship it?", casing) == "Did Nvidia ship it?"  # only the first
    assert truecase("Did NVIDIA ship it?", casing) == "Did NVIDIA ship it?"


def test_names_of_several_words_are_written_whole() -> None:
    assert truecase("what does the south china morning post say?", {},
                    ["South China Morning Post"]) == "what does the South China Morning Post say?"
