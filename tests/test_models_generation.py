"""The llama.cpp adapter's parts that need no model: saved states, log-probabilities."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def test_old_model_states_are_pruned(tmp_path: Path) -> None:
    import os

    from assistant.models.generation import _prune_states

    for i in range(6):
        state = tmp_path / f"s{i}.state"
        state.write_bytes(b"x")
        state.with_suffix(".json").write_text("{}")
        os.utime(state, (1000 + i, 1000 + i))
    _prune_states(tmp_path, keep=4)
    assert sorted(p.name for p in tmp_path.glob("*.state")) == [f"s{i}.state" for i in (2, 3, 4, 5)]
    assert len(list(tmp_path.glob("*.json"))) == 4


def test_log_sum_exp_adds_probabilities_without_overflow() -> None:
    from assistant.models.generation import _log_sum_exp

    assert math.isclose(_log_sum_exp(np.log(np.array([0.2, 0.3]))), math.log(0.5))
    assert math.isclose(_log_sum_exp(np.array([1000.0, 1000.0])), 1000.0 + math.log(2))
    assert _log_sum_exp(np.array([])) == -math.inf


def test_prompt_lookup_proposes_what_followed_the_last_words_where_they_last_stood() -> None:
    from assistant.models.generation import _lookup

    context = [1, 2, 3, 4, 5, 9, 2, 3, 7, 8, 6, 2, 3]
    # the last two tokens (2, 3) last stood before 7, 8, ...
    assert _lookup(context, most=3, room=10) == [7, 8, 6]
    assert _lookup(context, most=3, room=2) == [7, 8]  # no more than the reply may take
    assert _lookup([5, 1, 4, 4, 1], most=2, room=9) == [4, 4]  # then the last token alone
    assert _lookup([1, 2, 3], most=4, room=9) == []  # nothing to copy
    assert _lookup(context, most=0, room=9) == []  # prompt lookup off
