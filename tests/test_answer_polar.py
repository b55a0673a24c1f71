"""Yes or no settled in code: the question's statement against the cited sentences."""

from __future__ import annotations

from assistant.answer.polar import settle

BAN = ("U.S. officials told The Information that a complete ban on H200 shipments was viewed "
       "as likely to accelerate China's domestic chip development.")


def test_the_opposite_of_what_is_asked_settles_no() -> None:
    question = ("Did US officials tell The Information a total ban on H200 shipments would hold "
                "back China's domestic chip development?")
    assert settle(question, [BAN], lambda a, b: 0.95) == "no"
    # asked the same way round, it settles yes
    same = question.replace("hold back", "accelerate")
    assert settle(same, [BAN], lambda a, b: 0.95) == "yes"
