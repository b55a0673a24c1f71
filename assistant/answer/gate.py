"""Step 2 of answering: refuse before the model runs only when nothing retrieved is on topic.

Two kinds of evidence decide together. Dense: the best cosine between the
question and a retrieved sentence (:meth:`assistant.retrieval.Retriever.relevance`).
Lexical: a name, a figure or a code name of the question written verbatim in a
retrieved passage. A question about a person the reports quote by name may embed
far from every sentence ("Who is Wency Chen?"), yet its name stands in a byline;
such a question always reaches the model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant import verify
from assistant.answer.policy import AnswerPolicy


def rare_words(question: str) -> list[str]:
    """The question's names, figures and code names (what few passages contain)."""
    words = list(verify.names(question))
    words += [question[n.start:n.end] for n in verify.numbers(question)]
    return list(dict.fromkeys(w.strip() for w in words if w.strip()))


def verbatim(word: str, passages: Sequence[str]) -> bool:
    """True when ``word`` is written, as a whole word, in one of ``passages``."""
    pattern = re.compile(rf"(?<!\w){re.escape(verify.flat(word))}(?!\w)")
    return any(pattern.search(verify.flat(p)) for p in passages)


def on_topic(question: str, passages: Sequence[str], relevance: float,
             policy: AnswerPolicy) -> tuple[bool, str]:
    """Whether the model should see the question, and why (for the answer's trace)."""
    if relevance >= policy.min_relevance:
        return True, f"relevance {relevance:.2f}"
    found = [w for w in rare_words(question) if verbatim(w, passages)]
    if found:
        return True, f"relevance {relevance:.2f}; written in a passage: {', '.join(found)}"
    return False, f"relevance {relevance:.2f} < {policy.min_relevance}; no name or figure " \
                  "of the question in a passage"
