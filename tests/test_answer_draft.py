"""The draft step: reading the model's reply (its passage choice and its answer)."""

from __future__ import annotations

import pytest

from assistant.answer.draft import parse_reply


@pytest.mark.parametrize(("raw", "choice", "reply"), [
    ("The passage number is 4.", 4, ""),
    ("The answer is in passage 2.\nAnswer: It was Monday [2].", 2, "It was Monday [2]."),
    ("Passage: 3\nAnswer: It.", 3, "It."),
    ("The passage says 400,000 units.", None, "The passage says 400,000 units."),
    ("The passage is 3 pages long.", None, "The passage is 3 pages long."),
])
def test_the_passage_line_may_be_written_as_a_sentence(raw: str, choice: int | None,
                                                         reply: str) -> None:
    assert parse_reply(raw) == (choice, reply)
