"""Yes or no, settled in code: the question's statement checked against the cited sentences.

A small model's bare "No [1]." to "Is the H200 more capable than the H20?" is a
claim the verifier cannot check (it has no content words), and it was wrong while
its passage said "vastly more capable". So the yes or no is settled here: the
question is turned into its statement ("The H200 is more capable than the H20.")
and verified against the cited sentences. Supported: yes. Failing on polarity or
direction (the sentence says "not", or the opposite: "accelerate" for "hold
back"): no. Anything else: the reports do not settle it, and
a bare yes or no is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant import verify

# The auxiliary that opens a yes/no question, after at most a short framing phrase set off
# by a comma ("According to Jensen Huang, has Nvidia ...?", "Under the plan, can ...?").
_POLAR_RE = re.compile(r"^\W*(?P<frame>[^,?]{1,80},\s*)?(?P<aux>(?:is|are|was|were|do|does|did|"
                       r"has|have|had|can|could|will|would|should)\b)", re.IGNORECASE)
_LEAD_RE = re.compile(r"^\s*(?P<word>yes|no)\b[\s,.;:!-]*", re.IGNORECASE)


def is_polar(question: str) -> bool:
    """True for a yes/no question ("Is ...?", "Did ...?", "Under the plan, can ...?")."""
    return bool(_POLAR_RE.match(question))


def statement(question: str) -> str:
    """The statement a yes/no question asks about ("" when its parse gives none).

    The auxiliary moves after the subject: "Is the H200 more capable than the
    H20?" → "The H200 is more capable than the H20."; "Did Beijing approve
    imports?" → "Beijing did approve imports."; a framing phrase stays in front:
    "According to Huang, has Nvidia received orders?" → "According to Huang, Nvidia
    has received orders."
    """
    match = _POLAR_RE.match(question)
    if match is None:
        return ""
    if match.group("frame"):  # the framing phrase stays in front of the statement
        core = statement(question[match.start("aux"):])
        first = verify.parse(core)[:1]
        if core and first and first[0].pos_ != "PROPN" and first[0].text != "I":
            core = core[:1].lower() + core[1:]  # "..., the H200 is ..." but "..., Nvidia ..."
        return f"{question[:match.start('aux')].strip()} {core}" if core else ""
    doc = verify.parse(question)
    words = [t for t in doc if not t.is_punct]
    if not words:
        return ""
    aux = words[0]
    subject = next((t for t in doc if t.dep_ in ("nsubj", "nsubjpass", "expl")
                    and t.i > aux.i), None)
    if subject is None:
        return ""
    chunk = next((c for c in doc.noun_chunks if c.start <= subject.i < c.end), None)
    left, right = (chunk.start, chunk.end) if chunk is not None else (subject.i, subject.i + 1)
    rest = [t for t in doc if t.i > aux.i and not left <= t.i < right and not t.is_punct]
    text = " ".join([doc[left:right].text, aux.lower_, *(t.text for t in rest)])
    text = re.sub(r"\s+([,;:'’])", r"\1", text).replace(" 's", "'s")
    return text[:1].upper() + text[1:] + "."


def settle(question: str, sentences: Sequence[str],
           similarity: verify.Similarity | None = None, labels: Sequence[str] = ()) -> str:
    """``"yes"``, ``"no"`` or ``""`` (not settled) for ``question`` by ``sentences``.

    ``similarity`` lets the statement reword a sentence ("did hold meetings" for
    "convened meetings") for a no (the sentence says "not", or the opposite); a yes
    needs the statement's own words in the sentence.
    ``labels`` are the sentences' reports' labels, in order ("According to Tom's
    Hardware, is ...?" is settled by a sentence of Tom's Hardware).
    """
    found = ""
    for claim in _statements(question):
        for sentence, label in zip(sentences, [*labels, *[""] * len(sentences)], strict=False):
            told = _as_told_by(question, claim, label)
            # a yes needs the statement's own words: a reworded match (half the words and a
            # close embedding) let "a meeting with Huang" say yes to "Huang received orders"
            if verify.verify(told, sentence, label=label).supported:
                return "yes"
            verdict = verify.verify(told, sentence, similarity=similarity, label=label)
            if verdict.check == "direction" or (  # the opposite of X, or "not X"
                    verdict.check == "polarity" and _negated(sentence) != _negated(told)):
                found = "no"
    return found


def _negated(text: str) -> bool:
    """True when a verb of ``text`` is negated ("have not received"; not "no market share").

    A "no" inside a noun phrase says what there is none of, not that the statement
    is false: "Huang said Nvidia has virtually no market share" does not answer "Did
    Huang say anything about market share?" with a no.
    """
    return any(t.dep_ == "neg" for t in verify.parse(text))


def _statements(question: str) -> list[str]:
    """The question's statement, then the same without its relative clauses.

    A relative clause describes what the question is about and is not what it asks:
    "Is the H200 more capable than the H20 that Nvidia built for China?" is settled by
    "The H200 ... remains vastly more capable than the export-compliant H20", which
    does not say who built the H20.
    """
    claim = statement(question)
    if not claim:
        return []
    doc = verify.parse(question)
    dropped: set[int] = set()
    for token in doc:
        if token.dep_ == "relcl":
            dropped.update(t.i for t in token.subtree)
    if not dropped:
        return [claim]
    text = "".join(t.text_with_ws for t in doc if t.i not in dropped)
    core = statement(" ".join(text.split()).replace(" ?", "?"))
    return list(dict.fromkeys(c for c in (claim, core) if c))


_ACCORDING_RE = re.compile(r"^\W*according to (?P<source>[^,]+),\s*", re.IGNORECASE)


def _as_told_by(question: str, claim: str, label: str) -> str:
    """``claim`` without an "According to X," frame naming the report's own outlet.

    "According to Tom's Hardware, is the H200 more capable ...?" asks what a sentence
    of Tom's Hardware states, so that sentence settles the bare statement; a frame
    naming someone else ("According to Jensen Huang, ...") stays, for the verifier's
    attribution checks.
    """
    frame = _ACCORDING_RE.match(question)
    if frame is None or not label or not verify.mentions(label, frame.group("source")):
        return claim
    framed = _ACCORDING_RE.match(claim)
    rest = claim[framed.end():] if framed is not None else claim
    return rest[:1].upper() + rest[1:]


def bears_on(question: str, sentences: Sequence[str], label: str = "",
             policy: verify.VerifierPolicy = verify.DEFAULT_POLICY) -> bool:
    """True when one of ``sentences`` speaks to ``question``'s statement, settled or not.

    It holds at least ``min_coverage_reworded`` of the statement's content words, the
    share below which the verifier treats a sentence as about something else ("The
    H200 sits one generation below Blackwell" does not bear on "Had the agencies
    issued their guidance?"; "Beijing has begun approving imports, according to two
    sources" bears on "Has Beijing decided to allow imports?"). ``label`` is their
    reports' labels (what the statement may attribute to them).
    """
    claim = statement(question)
    return bool(claim) and any(
        verify.verify(_as_told_by(question, claim, label), s, label=label,
                      policy=policy).coverage >= policy.min_coverage_reworded
        for s in sentences)


def leading(text: str) -> tuple[str, str]:
    """A sentence's leading yes or no (lower case, "" if none) and the rest of it."""
    match = _LEAD_RE.match(text)
    if match is None:
        return "", text
    rest = text[match.end():]
    return match.group("word").lower(), rest[:1].upper() + rest[1:]
