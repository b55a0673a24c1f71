"""A summary request ("Summarise the SCMP report") answered by the report's own lead.

News reports put their gist first: headline, standfirst, first paragraph. Quoting
the first few sentences that say something (the lead-k summary, a standard and
strong baseline for news) gives a summary in which every sentence is the
report's own, cited where it stands. The language model is not asked: a small
model's summary would have to be checked sentence by sentence, and would
mostly restate the lead anyway.

A sentence "says something" when it has at least ``AnswerPolicy.summary_min_words``
words and a verb (spaCy's parse); navigation, bylines, "Advertisement" and
reading times are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant import verify
from assistant.ingest.chunking import sentence_spans
from assistant.records import Chunk, Document
from assistant.text import terms

_SUMMARY_RE = re.compile(
    r"\b(?:summari[sz]e|summari[sz]ing|summary|sum up|main points|key points|gist|overview|"
    r"tl;?dr|run-?down|recap|in a nutshell|(?:key )?takeaways|highlights|brief me|"
    r"big picture|overall (?:story|picture)|in a few sentences)\b|"
    # "what is the article about?", "what's the SCMP piece about?": a report named by up
    # to three words, and nothing after "about" but how briefly ("..., in brief?", v-24)
    r"\bwhat(?:'s|’s|\s+is|\s+was)\s+(?:the|this|that)\s+(?:[\w'’.-]+\s+){0,3}?"
    r"(?:report|article|story|piece|coverage)\s+(?:all\s+)?about\s*"
    r"(?:,?\s*(?:in\s+brief|in\s+short|briefly|in\s+a\s+(?:sentence|few\s+words)))?"
    r"\s*[?.!]*\s*$",
    re.IGNORECASE)


def asks_for_summary(question: str) -> bool:
    """True when ``question`` asks for a summary of a report."""
    return bool(_SUMMARY_RE.search(question))


# "What does Tom's Hardware say about the restrictions ...?": what one report says on a
# topic, a summary of that report on it when the speaker is a report (the caller decides)
_SAYS_ABOUT_RE = re.compile(
    r"^\W*(?:(?:briefly|so|and|now),?\s+)?what\s+(?:does|do|did)\s+(?P<who>.*?)\s*"
    r"\b(?:say|report|write|tell us)\s+(?:about|on|regarding|concerning)\s+\S",
    re.IGNORECASE)


def says_about(question: str) -> str:
    """Who ``question`` asks to have said something on a topic ("Tom's Hardware"), or ""."""
    match = _SAYS_ABOUT_RE.match(question)
    return match.group("who") if match else ""


# the words that frame a summary request rather than say what it is about (English:
# report nouns, saying verbs, the question's scaffolding, articles and prepositions)
_FRAME_RE = re.compile(
    r"(?:'s\b|’s\b|\b(?:reports?|reported|reporting|article|story|piece|coverage|account|"
    r"says?|said|writes?|wrote|describes?|described|tells?|told|what|how|give|me|us|please|"
    r"briefly|quick|short|overall|whole|entire|general|as|the|a|an|from|of|in|on|about|regarding|concerning|over|across|between|among|this|that|its|"
    r"their|it|they|is|was|do|does|did)\b)", re.IGNORECASE)


def topic(question: str) -> str:
    """What a summary request is about, beyond the report ("" for the whole report).

    A request may also ask what a report says about something (:func:`says_about`).

    The request without its framing: "Summarise what Randy Abrams says in the report
    about H200 imports" is about "Randy Abrams H200 imports"; "Summarise the report"
    about nothing narrower. Callers take the report's own names out first.
    """
    if not asks_for_summary(question) and not _SAYS_ABOUT_RE.match(question):
        return ""
    text = _FRAME_RE.sub(" ", _SUMMARY_RE.sub(" ", question))
    text = " ".join(re.sub(r"[^\w'’%$.,:-]+", " ", text).split()).strip(" .,:;-")
    return text if terms(text) else ""


def _says_something(sentence: str, min_words: int) -> bool:
    words = re.findall(r"[A-Za-z][\w'’-]*", sentence)
    if len(words) < min_words:
        return False
    return any(t.pos_ in ("VERB", "AUX") for t in verify.parse(sentence))


def sentences_of(doc: Document, chunks: Sequence[Chunk], min_words: int
                 ) -> list[tuple[Chunk, str]]:
    """Every sentence of ``doc`` that says something, in order, with the chunk it lies in.

    Only sentences that lie whole inside one of ``chunks`` (the report's indexed
    passages) are taken, so each can be cited and looked up.
    """
    return [(chunk, text) for chunk, text, _ in paragraphed(doc, chunks, min_words)]


def paragraphed(doc: Document, chunks: Sequence[Chunk], min_words: int
                ) -> list[tuple[Chunk, str, int]]:
    """:func:`sentences_of`, each with the number of the paragraph (line) it stands in."""
    return [(chunk, text, len(_LINE_BREAKS_RE.findall(doc.text, 0, start)))
            for chunk, text, start in cited_sentences(doc, chunks)
            if _says_something(text, min_words)]


def cited_sentences(doc: Document, chunks: Sequence[Chunk]) -> list[tuple[Chunk, str, int]]:
    """Every sentence of ``doc`` lying whole in one of ``chunks``: its chunk, text and start."""
    ordered = sorted((c for c in chunks if c.doc_id == doc.doc_id), key=lambda c: c.start)
    out: list[tuple[Chunk, str, int]] = []
    for start, end in sentence_spans(doc.text, 0, len(doc.text)):
        chunk = next((c for c in ordered if c.start <= start and end <= c.end), None)
        if chunk is not None:
            out.append((chunk, doc.text[start:end], start))
    return out


_LINE_BREAKS_RE = re.compile(r"\n+")


def on_topic(ranked: Sequence[int], paragraphs: Sequence[int], sentences: int) -> list[int]:
    """The sentences (indices) a summary on a topic quotes, in the report's order.

    The best-ranked sentence comes with the rest of its paragraph after it, which
    goes on about what it introduces ("Chinese regulators are considering
    restrictions of their own. One proposal would cap ... Another would bar ...");
    then the next best-ranked sentence not yet taken, and so on, up to ``sentences``.
    """
    chosen: list[int] = []
    for best in ranked:
        for i in range(best, len(paragraphs)):
            if len(chosen) >= sentences or paragraphs[i] != paragraphs[best]:
                break
            if i not in chosen:
                chosen.append(i)
        if len(chosen) >= sentences:
            break
    return sorted(chosen)


def lead(doc: Document, chunks: Sequence[Chunk], sentences: int, min_words: int
         ) -> list[tuple[Chunk, str]]:
    """The first ``sentences`` sentences of ``doc`` that say something, with their chunk."""
    return sentences_of(doc, chunks, min_words)[:sentences]
