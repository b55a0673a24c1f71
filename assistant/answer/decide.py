"""From the model's raw reply to a verified :class:`Answer`.

Two steps, each able to turn an answer into a refusal or a refusal into a
quoted sentence:

1. :meth:`AnswerBuilder.finish` checks every sentence of the reply against the
   passages (:mod:`assistant.answer.claims`; a claim about several reports against
   passages of several reports, :mod:`assistant.answer.comparison`) and builds
   sentence-level citations.
2. :meth:`AnswerBuilder.confirm` asks the model which words of the supporting
   sentences answer the question; an answer they do not contain is refused,
   unless those words stand verbatim in another passage sentence.

(Two more were removed for what they measured on held-out questions: the
extractive answer, which quoted the best-ranked sentence when the model found
nothing (on two blind splits it changed 1 answer, for the worse), and the second
opinion, which weighed the answer's sentences against the best-ranked others by
rank plus the model's probability that each, shown alone, answers the question
(on the first runs of blind5–8 it changed 10 answers: 1 better, 3 worse).)

Then :meth:`AnswerBuilder.lead` puts what was asked first: a yes or no settled in code
against the cited quote, or, for a figure question, the figure alone with its quote; and
:meth:`AnswerBuilder.settled` gives a yes/no question that is still unsettled the first
best-ranked sentence that settles it.

For a question about several reports ("What does each report say ...?"),
:meth:`AnswerBuilder.each_report` adds to the answer the account of each report
it does not cite. Then :meth:`AnswerBuilder.other_reports` adds, for each report
the answer does not cite, its sentence that matches the question as strongly as
``extractive_threshold`` requires, so a reader sees each report's account (they may agree or
differ) and can check both in one click.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re
import threading
from collections.abc import Callable, Sequence

from assistant import citations, verify
from assistant.answer import (
    claims,
    comparison,
    draft,
    entity,
    polar,
    presence,
    sourcing,
    speech,
    summary,
    target,
)
from assistant.answer.entity import Candidate
from assistant.answer.evidence import RankedSentence, SentenceRanker, sentence_windows
from assistant.answer.policy import DEFAULT_POLICY, AnswerPolicy
from assistant.ingest.chunking import sentence_spans
from assistant.models.embedding import CachedEmbedder, Embedder
from assistant.models.generation import Generator, Message
from assistant.records import Answer, Chunk, Citation, Document, Hit, definition_term
from assistant.text import name_casing, terms, truecase

# the model's probability that a sentence says yes to a yes/no question (a chat scored)
YesScorer = Callable[[list[Message]], "float | None"]

logger = logging.getLogger(__name__)
# a word as a report writes it, dotted names whole ("os.path", "unittest.mock")
_WORD_RE = re.compile(r"\w+(?:\.\w+)*")



class AnswerBuilder:
    """Verifies replies against the passages of one corpus."""

    def __init__(self, documents: dict[str, Document], embedder: Embedder,
                 policy: AnswerPolicy = DEFAULT_POLICY) -> None:
        self._docs = documents
        self._titles = {doc_id: doc.title for doc_id, doc in documents.items()}
        self._names = comparison.outlet_names(documents.values())
        self._casing = name_casing(doc.text for doc in documents.values())
        self._outlets = [alias for aliases in self._names.values() for alias in aliases
                         if not alias.isupper()]  # written whole when truecasing
        self._embedder = CachedEmbedder(embedder)  # a window's sentences are its passage's
        self._similarity = self._embedder.cosine  # a claim's evidence: the same sentences
        self._policy = policy
        self._kinds: dict[str, tuple[str, ...]] = {}
        self._words: frozenset[str] | None = None  # every word the reports write, lower case
        self._rankers: dict[tuple[tuple[str, int, int], ...], SentenceRanker] = {}
        self._rankers_lock = threading.Lock()

    def finish(self, question: str, raw: str, hits: list[Hit], retrieved: Sequence[Hit],
               timings: dict[str, float]) -> tuple[Answer, list[str]]:
        """Verify the reply sentence by sentence; return the answer and its supporting spans.

        ``hits`` are the numbered passages of the prompt; ``retrieved`` the passages
        retrieval found (shown with a refusal as the closest ones).
        """
        logger.debug("raw answer to %r: %r", question, raw)
        choice, reply = draft.parse_reply(raw)
        if not reply or draft.chose_none(raw) or draft.is_refusal(reply):
            return self.refusal(question, retrieved, timings, trace={"reply": raw}), []
        evidence = [self._evidence(h) for h in hits]
        sentences, unsupported = claims.ground(reply, evidence, preferred=choice,
                                                  question=question, policy=self._policy)
        sentences, unsupported = self._across_reports(sentences, unsupported, evidence, hits,
                                                      question)
        sentences, unsupported = self._settle_polar(question, sentences, unsupported, evidence)
        if not sentences:
            return self.refusal(question, retrieved, timings, tuple(unsupported),
                                {"reply": raw}), []
        supports: dict[int, list[str]] = {}
        for sentence in sentences:
            for n, span in sentence.supports:
                supports.setdefault(n, []).append(span)
        text, cited = citations.build_citations(claims.render(sentences), hits, self._titles,
                                                supports)
        spans = list(dict.fromkeys(s.span for s in sentences))
        return Answer(question, text, False, cited, tuple(retrieved), timings,
                      tuple(unsupported), {"reply": raw}), spans

    @property
    def report_names(self) -> dict[str, tuple[str, ...]]:
        """Each report's names (doc id: its outlet, and the outlet's initials)."""
        return dict(self._names)

    def truecased(self, question: str) -> str:
        """A question typed all in lower case with the reports' names as they write them.

        See :func:`assistant.text.truecase`; the outlets' names are written whole.
        """
        return truecase(question, self._casing, self._outlets)

    def _kinds_of(self, name: str) -> tuple[str, ...]:
        """The nouns the reports give ``name`` as its kind ("H200 chips"), computed once."""
        if name not in self._kinds:
            self._kinds[name] = target.named_kinds(name, (d.text for d in self._docs.values()))
        return self._kinds[name]

    def uses(self, fallback: str) -> bool:
        """True when the policy has the named fallback on."""
        return fallback in self._policy.fallbacks

    def windows(self, question: str, hits: list[Hit]) -> list[Hit]:
        """The retrieved passages cut down to the sentences that bear on ``question``.

        The model then reads a few sentences of each passage instead of whole passages
        (``window_sentences``, ``window_around``; :func:`evidence.sentence_windows`).
        The hits as they are when windows are off or none is found.
        """
        keep = self._policy.window_sentences
        if not keep or not hits:
            return hits
        ranked = self._ranker(hits).rank(question)
        return sentence_windows(hits, ranked, self._docs, keep,
                                self._policy.window_around) or hits

    def chosen(self, refused: Answer, raw: str, hits: list[Hit]) -> tuple[Answer, list[str]]:
        """The passage the model chose, when none of its reply survived: its best sentence.

        The model is better at choosing a passage and copying from it than at
        restating it: when it names a passage (on its Passage line, or as the one
        passage its markers cite) or copies from one (a sentence of it holds
        ``copied_coverage`` of the reply's words, or of the words the reply adds to
        the question's), and writes nothing the verifier keeps, a sentence is
        quoted, cited, and then checked like any answer (the answer check, the
        second opinion, the target). It is the sentence of the
        chosen passages (the named one's number may be off) that best matches the
        question, the reply and the words it adds together (ranking scores and
        the added words' coverage summed; at least
        ``min_matched`` question words, a rank score of at least ``chosen_min_score``;
        verified). A reply that names no passage
        and copies from none, or says the reports do not answer, stays a refusal.
        """
        _, reply = draft.parse_reply(raw)
        if (not self.uses("chosen") or not refused.refused or draft.chose_none(raw)
                or draft.is_refusal(reply)):
            return refused, []
        ranker = self._ranker(hits)
        # the sentence that matches both the question and what the model wrote; the
        # passage its words come from counts as chosen too (the number may be off)
        plain = citations.MARKER_RE.sub("", reply)
        by_reply = ranker.rank(plain) if reply else []
        named = draft.chosen_passage(raw)
        chosen = {named} if named is not None and 1 <= named <= len(hits) else set()
        chosen |= {r.n for r in by_reply[:1] if r.coverage >= self._policy.copied_coverage}
        # the words the reply adds to the question's own say best where it copied from
        added = draft.added_words(plain, refused.question)
        by_added = ranker.rank(added) if added else []
        most = max((r.coverage for r in by_added), default=0.0)
        if most >= self._policy.copied_coverage:  # every passage that holds them as well
            chosen |= {r.n for r in by_added if r.coverage >= most}
        if not chosen:
            return refused, []
        written = {(r.n, r.text): r.score for r in by_reply}
        adds = {(r.n, r.text): r.coverage for r in by_added}

        def weight(r: RankedSentence) -> float:
            return r.score + written.get((r.n, r.text), 0) + adds.get((r.n, r.text), 0)

        asked = [r for r in ranker.rank(refused.question) if r.n in chosen]
        for ranked in sorted(asked, key=lambda r: -weight(r)):
            if (ranked.matched < self._policy.min_matched
                    or ranked.score < self._policy.chosen_min_score):
                continue
            if not self._evidence(hits[ranked.n - 1]).verdict(ranked.text).supported:
                continue
            refused.trace["chosen"] = f"{ranked.score:.2f}: {ranked.text}"
            refused.trace["before:chosen"] = refused.text
            return self.quoted(refused, hits, ranked.n, ranked.text), [ranked.text]
        return refused, []

    def entity(self, refused: Answer, hits: list[Hit], exempt: Sequence[str] = ()) -> Answer:
        """The name a passage gives in the asked role, for a who / where / when refusal.

        For a who / which / where / when question the model left unanswered, or a
        who-question answered with what only a report's label says (its outlet or
        byline names who published the report, not who acted in one of its sentences)
        or with sentences naming no one in the asked role: of the
        ``entity_sentences`` best-ranked sentences (each with at least ``min_matched``
        question words), the name of the asked kind whose clause holds the question's
        verb and most of its other words (:func:`assistant.answer.entity.candidates`;
        at least ``entity_clause_words``) is the answer: its clause, quoted and cited to the
        sentence, then checked against the question's target like any answer
        (:meth:`on_target`).
        ``exempt`` are names the question took from the conversation.
        """
        question = refused.question
        kind = entity.asked(question)
        if not self.uses("entity") or not hits or not kind:
            return refused
        reporter = self._reporter(refused, hits, exempt)
        if reporter is not None:
            return reporter
        example = self._example(refused, hits, exempt)
        if example is not None:
            return example
        # an answer naming no one in the asked role gives way only to the question's own
        # verb: "said Randy Abrams" is no answer to "Who wrote ...?" after a byline
        displacing = False
        if not refused.refused:
            on_label = kind == "name" and self._rests_on_label(refused)
            displacing = kind == "name" and not on_label and self._names_no_one_asked(
                refused, exempt)
            if not on_label and not displacing:
                return refused
        best: tuple[int, float, RankedSentence, Candidate] | None = None
        for ranked in self._ranker(hits).rank(question)[:self._policy.entity_sentences]:
            if ranked.matched < self._policy.min_matched:
                continue
            for found in entity.candidates(question, ranked.text, exempt, same_verb=displacing):
                key = (found.matched, ranked.score)
                if found.matched >= self._policy.entity_clause_words and (
                        best is None or key > best[:2]):
                    best = (found.matched, ranked.score, ranked, found)
        if best is None:
            return refused
        _, _, ranked, found = best
        made = self._entity_answer(refused, hits, ranked, found, exempt,
                                   f"{found.name} ({found.matched}): {ranked.text}")
        return refused if made is None else made  # an answer on a label stays

    def _reporter(self, answer: Answer, hits: list[Hit], exempt: Sequence[str]
                  ) -> Answer | None:
        """For "Which outlet first reported ...?", the outlet a sentence credits with it.

        Of the first ``entity_sentences`` best-ranked sentences that credit a named
        source with reporting (:func:`assistant.answer.sourcing.credited_for`), with
        ``min_matched`` question words and in the report the question names, if it names
        one, the one whose source's words hold most of the question's (the best-ranked
        of those) that the verifier and the target check let stand is the answer,
        unless the answer already names a source credited in them. None when the
        question asks no such thing or no sentence credits anyone. The source's words
        count each question word by its rarity among the sentences (``idf``).
        """
        question = answer.question
        if not sourcing.asks_which_outlet(question):
            return None
        reports = comparison.named_reports(question, self._names)
        ranker = self._ranker(hits)
        crediting = ((ranked, *sourcing.credited_for(question, ranked.text, ranker.idf))
                     for ranked in ranker.rank(question)
                     if ranked.matched >= self._policy.min_matched and (
                         not reports or hits[ranked.n - 1].chunk.doc_id in reports))
        first = list(itertools.islice(((r, s, w) for r, s, w in crediting if s),
                                      self._policy.entity_sentences))
        if not answer.refused and any(verify.mentions(answer.text, s) for _, s, _ in first):
            return None  # the answer names a source credited there
        # the source whose own words hold most of the question's first ("after Bloomberg
        # first reported in November ...", not "officials told The Information ...")
        for ranked, source, _ in sorted(first, key=lambda c: -c[2]):
            # the source's own clause where the parse gives one ("Bloomberg first reported
            # in November that ..."), else the whole sentence
            found = next((c for c in entity.candidates(question, ranked.text, exempt)
                          if c.name == source), Candidate(source, ranked.text, ranked.matched))
            made = self._entity_answer(answer, hits, ranked, found, exempt,
                                       f"{source} (credited): {ranked.text}")
            if made is not None:
                return made
        return None

    def _example(self, answer: Answer, hits: list[Hit], exempt: Sequence[str]) -> Answer | None:
        """For "Which <noun> ...?", the name the reports give as an example of that noun.

        "Which domestic supplier were companies told to favour?" and "... prioritize
        suppliers such as Huawei" (:func:`assistant.answer.entity.members`): of the
        ``entity_sentences`` best-ranked sentences with ``min_matched`` question words,
        the first that gives a name as one of the asked noun is the answer, unless the
        answer already names one given so. None when no sentence gives one.
        """
        question = answer.question
        found: list[tuple[RankedSentence, Candidate]] = []
        for ranked in self._ranker(hits).rank(question)[:self._policy.entity_sentences]:
            if ranked.matched >= self._policy.min_matched:
                found += [(ranked, c) for c in entity.members(question, ranked.text, exempt)]
        if not found or (not answer.refused and any(
                verify.mentions(answer.text, c.name) for _, c in found)):
            return None
        ranked, best = found[0]
        return self._entity_answer(answer, hits, ranked, best, exempt,
                                   f"{best.name} (one of the {entity.asked_kind(question)}s): "
                                   f"{ranked.text}")

    def _entity_answer(self, refused: Answer, hits: list[Hit], ranked: RankedSentence,
                       found: Candidate, exempt: Sequence[str], why: str
                       ) -> Answer | None:
        """The answer ``found`` names, its clause quoted and cited to ``ranked``.

        None when the verifier does not support it or it misses the question's target.
        """
        question = refused.question
        clause = found.clause[:1].upper() + found.clause[1:]
        # the name first: the clause when it starts with it, else the name, then the clause
        text = clause if clause.lower().startswith(found.name.lower()) \
            else f"{found.name} — {found.clause}"
        evidence = self._evidence(hits[ranked.n - 1])
        if not evidence.verdict(text.rstrip(".")).supported:
            return None
        grounded = [claims.GroundedSentence(text, (ranked.n,), 1.0, ranked.text,
                                            ((ranked.n, ranked.text),))]
        rendered, cited = citations.build_citations(claims.render(grounded), hits,
                                                    self._titles, {ranked.n: [ranked.text]})
        trace = {**refused.trace, "entity": why, "before:entity": refused.text}
        answer = Answer(question, rendered, False, cited, refused.hits, refused.timings,
                        refused.unsupported, trace)
        checked = self.on_target(answer, exempt)
        return None if checked.refused else checked

    def _settle_polar(self, question: str, sentences: list[claims.GroundedSentence],
                      unsupported: list[str], evidence: Sequence[claims.Evidence]
                      ) -> tuple[list[claims.GroundedSentence], list[str]]:
        """Keep a sentence's leading yes or no only when the cited passages settle it.

        The verifier cannot check a bare "No." (it has no content words), so the
        question's statement is verified against the passages the sentence cites
        (:func:`assistant.answer.polar.settle`): the model's yes or no stays when it
        agrees; otherwise the word is dropped (and listed), and the rest of the
        sentence, if any, stays.
        """
        if not polar.is_polar(question) or comparison.about_several(question, self._names):
            return sentences, unsupported
        kept: list[claims.GroundedSentence] = []
        dropped = list(unsupported)
        for sentence in sentences:
            word, rest = polar.leading(sentence.text)
            if not word:
                kept.append(sentence)
                continue
            texts = [evidence[n - 1].text for n in sentence.passages if 0 < n <= len(evidence)]
            labels = [evidence[n - 1].label for n in sentence.passages
                      if 0 < n <= len(evidence)]
            if polar.settle(question, texts, labels=labels, policy=self._policy) == word:
                kept.append(sentence)
                continue
            dropped.append(f"{word.capitalize()} — the cited passages do not settle it")
            if rest.strip(" .,;:!?"):
                kept.append(dataclasses.replace(sentence, text=rest))
        return kept, dropped

    def _across_reports(self, sentences: list[claims.GroundedSentence],
                        unsupported: list[str], evidence: Sequence[claims.Evidence],
                        hits: list[Hit], question: str
                        ) -> tuple[list[claims.GroundedSentence], list[str]]:
        """Hold sentences about several reports to evidence from several reports.

        A sentence saying how reports relate ("they agree") is unsupported: no
        passage states it (:mod:`assistant.answer.comparison`). One about several reports
        ("both reports say ...") is kept only when passages of two reports or more
        support it, and then cites the best passage of each.
        """
        kept: list[claims.GroundedSentence] = []
        dropped = list(unsupported)
        for sentence in sentences:
            if not comparison.about_several(sentence.text, self._names):
                kept.append(sentence)
                continue
            if comparison.relates_reports(sentence.text, self._names):
                dropped.append(sentence.text)
                continue
            best: dict[str, tuple[float, int, str]] = {}
            for n, passage in enumerate(evidence, start=1):
                score, span = passage.best(sentence.text, question)
                doc_id = hits[n - 1].chunk.doc_id
                if score > 0 and score > best.get(doc_id, (0.0,))[0]:
                    best[doc_id] = (score, n, span)
            if len(best) < 2:
                dropped.append(sentence.text)
                continue
            chosen = sorted(best.values(), key=lambda item: item[1])
            top = max(chosen)
            kept.append(claims.GroundedSentence(
                sentence.text, tuple(n for _, n, _ in chosen), top[0], top[2],
                tuple((n, span) for _, n, span in chosen)))
        return kept, dropped

    def confirm(self, answer: Answer, spans: list[str], generator: Generator,
                hits: list[Hit], chat: list[Message] | None = None) -> Answer:
        """Ask the model which words of the supporting sentences answer the question.

        An answer whose supporting sentences do not contain what the question asks
        for (the model says none, or names words that are not there) is refused,
        unless a quote refers back ("he told journalists") to the sentence before it,
        which names the person or organisation the words give: that sentence is then
        quoted first. A how-much or how-many question whose answering words name no
        amount is refused, and so is a which-year, which-month or which-place question
        whose answering words name none, and a when-question whose supporting sentences
        place nothing in time. With ``chat`` (corpus mode) the check is the next turn of
        that chat.
        """
        # the headings the quotes sit under come first: a definition's term is its subject
        shown = [*(f"{c}:" for c in self._contexts(answer.citations)), *spans]
        messages = (draft.followup_extraction_messages(answer.question, shown, chat)
                    if chat else draft.extraction_messages(answer.question, shown))
        reply = "".join(generator.stream(messages, self._policy.check_reply_tokens))
        extract = " ".join(citations.MARKER_RE.sub(" ", reply).split())  # "400,000 [1]"
        logger.debug("extract for %r: %r", answer.question, extract)
        answer.trace["check"] = extract
        if not claims.answers_kind(answer.question, extract):
            return self._refuse(answer, "the answer check found nothing of the kind asked "
                                        f"for in it ('{extract}')")
        if not (claims.answers_quantity(answer.question, extract)
                and claims.figure_fits(answer.question, extract, spans)):
            return self._refuse(answer, "the answer check found no amount of the kind asked "
                                        f"for in it ('{extract}')")
        if claims.asks_when(answer.question) and not any(claims.names_time(s) for s in spans):
            return self._refuse(answer, "the supporting sentences place nothing in time")
        labels = set(self._labels(answer.citations))
        if claims.is_bare_polar(extract) and polar.is_polar(answer.question) and not \
                polar.bears_on(answer.question, spans, " ".join(sorted(labels))):
            # a bare yes or no says what the model believes, not that these sentences say it
            return self._refuse(answer, f"the answer check said '{extract}', but the "
                                        "supporting sentences are about something else")
        grounded = (claims.extract_is_grounded(extract, [*spans, *sorted(labels)],
                                                 self._policy, answer.question)
                    or claims.counts_a_list(answer.question, extract, spans))
        if grounded:  # the supporting sentences hold the answer
            return self._shown(answer, extract, hits)
        for c in answer.citations if verify.agents(extract) else ():
            before = self._sentence_before(c)
            if (before and target.refers_back(c.quote, before)
                    and claims.extract_is_grounded(extract, [*spans, before], self._policy,
                                                      answer.question)):
                named = self._with_sentence_before(answer, c, before, hits)
                if named is not None:
                    return named
        rechecked = self._rechecked(answer, extract, hits)
        if rechecked is not None:
            return rechecked
        return self._refuse(answer, "the answer check's words are not in its quotes "
                                    f"('{extract}')")

    def _shown(self, answer: Answer, extract: str, hits: list[Hit]) -> Answer:
        """The answer, or its cited sentence when only that holds what the check found.

        The model may restate its passage around the answer ("Back when Nvidia could
        still ship H100-class chips there, the company could still ship H100-class
        processors") while the answer check names the figure of the cited sentence
        ("$4.6 billion"): a figure or name of the check's words that the answer's own
        words lack but one cited sentence has makes that sentence the answer, quoted.
        A question about several reports is left to their accounts.
        """
        if not self.uses("shown") or comparison.about_several(answer.question, self._names):
            return answer
        facts = [*(_digits(extract[x.start:x.end]) for x in verify.numbers(extract)),
                 *verify.names(extract)]
        missing = [f for f in facts if f and not _holds(answer.text, f)]
        if not missing:
            return answer
        for c in answer.citations:
            if 1 <= c.n <= len(hits) and c.quote not in answer.text and all(
                    _holds(c.quote, f) for f in missing):
                shown = self.quoted(answer, hits, c.n, c.quote)
                trace = {**answer.trace, "shown": ", ".join(missing),
                         "before:shown": answer.text}
                return dataclasses.replace(shown, trace=trace)
        return answer

    def _rechecked(self, answer: Answer, extract: str, hits: list[Hit]) -> Answer | None:
        """The one other sentence of the chosen passages that holds the answer check's words.

        The model chose the passage and named the words that answer; when the sentence
        quoted from that passage lacks them and exactly one other sentence of the cited
        passages, or of the one the reply's Passage line names, holds them (verified, of
        the kind asked: for a place or a time, in the asked role; for a figure, the one
        figure of the asked kind), that sentence is the answer. Every later check (the
        target, the other reports) still applies.
        """
        question = answer.question
        if not self.uses("recheck") or claims.is_bare_polar(extract):
            return None
        quoted = {c.quote for c in answer.citations}
        kind = entity.asked(question)
        figure = bool(claims.asked_quantity(question)) or target.target(question).figure
        found: list[tuple[int, str]] = []
        named = draft.chosen_passage(answer.trace.get("reply", ""))
        chosen = {named} if named is not None and 1 <= named <= len(hits) else set()
        for n in sorted({c.n for c in answer.citations} | chosen):
            text = hits[n - 1].chunk.text
            for start, end in sentence_spans(text, 0, len(text)):
                sentence = text[start:end]
                if sentence in quoted or not claims.extract_is_grounded(
                        extract, [sentence], self._policy, question):
                    continue
                if kind in ("place", "time") and not any(
                        verify.mentions(c.name, extract) or verify.mentions(extract, c.name)
                        for c in entity.candidates(question, sentence)):
                    continue
                if figure and not (target.figure_phrase(question, sentence)
                                   or claims.counts_a_list(question, extract, [sentence])):
                    continue
                if self._evidence(hits[n - 1]).verdict(sentence).supported:
                    found.append((n, sentence))
        if len(found) != 1:
            return None
        n, sentence = found[0]
        switched = self.quoted(answer, hits, n, sentence)
        trace = {**answer.trace, "recheck": sentence, "before:recheck": answer.text}
        return dataclasses.replace(switched, trace=trace)

    def _defined(self, hit: Hit, sentence: str) -> str | None:
        """The definition term ``sentence`` of ``hit``'s passage defines, unless it names it."""
        doc = self._docs.get(hit.chunk.doc_id)
        at = hit.chunk.text.find(sentence)
        if doc is None or at < 0:
            return None
        term = definition_term(doc, hit.chunk.start + at)
        if term is None:
            return None
        name = term.split("(", 1)[0].split()[-1] if term.split("(", 1)[0].split() else ""
        return None if name and name.rsplit(".", 1)[-1] in sentence else term

    def _labels(self, cited: Sequence[Citation]) -> list[str]:
        """The labels of the cited reports, one per citation, in order.

        Each is the report's label and, for a quote under headings below the title,
        those headings (what a definition's sentences do not repeat).
        """
        out = []
        for c in cited:
            doc = self._docs.get(c.doc_id)
            context = draft.quote_context(doc, c.start)
            out.append(" — ".join(p for p in (draft.attribution_label(doc), context) if p))
        return out

    def _contexts(self, cited: Sequence[Citation]) -> list[str]:
        """The headings the quotes sit under (below their reports' titles), each once."""
        found = (draft.quote_context(self._docs.get(c.doc_id), c.start) for c in cited)
        return list(dict.fromkeys(f for f in found if f))

    @staticmethod
    def _names_no_one_asked(answer: Answer, exempt: Sequence[str]) -> bool:
        """True when no cited sentence names anyone in the role a who-question asks about.

        "Trump's approval of H200 exports follows a meeting ..." names no one who
        "had cleared exports"; "... after Washington cleared exports" does.
        """
        return not any(entity.candidates(answer.question, c.quote, exempt)
                       for c in answer.citations)

    def _rests_on_label(self, answer: Answer) -> bool:
        """True when the answer names what only its reports' titles or bylines state."""
        labels = " ".join(self._labels(answer.citations))
        quotes = " ".join(c.quote for c in answer.citations)
        return any(verify.mentions(labels, name) and not verify.mentions(quotes, name)
                   for name in verify.names(answer.text))

    def _refuse(self, answer: Answer, reason: str) -> Answer:
        """Refuse ``answer``: its sentences are listed as unsupported, each with ``reason``."""
        suffix = f" — {reason}"
        return self.refusal(answer.question, answer.hits, answer.timings,
                            (*answer.unsupported,
                             *(s + suffix for s, _ in claims.split_answer(answer.text))),
                            answer.trace)

    def on_target(self, answer: Answer, exempt: Sequence[str] = ()) -> Answer:
        """Refuse an answer whose cited sentences are about something else than asked.

        The question's target (:func:`assistant.answer.target.target`: the names the
        asked-for thing belongs to, the attribute of a figure, the kind a "which"
        question asks for when it is a name the reports write,
        :func:`assistant.answer.target.with_named_qualifiers`) is matched against
        each cited sentence, the sentence before it and its report's label. A
        question about several reports is left to :meth:`each_report`. ``exempt``
        are names the question took from the conversation.
        """
        if answer.refused or not answer.citations \
                or comparison.about_several(answer.question, self._names):
            return answer
        want = target.with_named_qualifiers(
            target.with_kinds(target.target(answer.question), self._kinds_of),
            self._embedder.count_tokens, self._written)
        cited = [target.Cited(c.quote, self._sentence_before(c), self._byline(c.doc_id),
                              self._title(c.doc_id))
                 for c in answer.citations]
        why = target.addresses(want, cited, exempt)
        if not why:
            return answer
        answer.trace["target"] = why
        answer.trace["before:target"] = answer.text
        return self._refuse(answer, why)

    def lead(self, answer: Answer) -> Answer:
        """Yes or no first for a yes/no question; for a figure question, the figure alone.

        Both come from the first cited sentence's quote and are checked in code: the
        yes or no is :func:`assistant.answer.polar.settle` of the question's statement
        against the quote ("Yes — the H200 ... [6]."); the figure is
        :func:`assistant.answer.target.figure_phrase` of the quote, verified as a
        claim (with the attribution the quote gives it, "..., according to
        Reuters"), and then is the whole answer, cited to the same quote ("More than
        400,000 units, according to Reuters [2]."). Anything unsettled stays as it was.
        """
        if answer.refused or not answer.citations \
                or comparison.about_several(answer.question, self._names):
            return answer
        parts = claims.split_answer(answer.text)
        if not parts or not parts[0][1]:
            return answer
        first, markers = parts[0]
        by_n = {c.n: c for c in answer.citations}
        cited = [by_n[n] for n in markers if n in by_n]
        if not cited:
            return answer
        quote = cited[0].quote
        if polar.is_polar(answer.question):
            word = polar.settle(answer.question, [c.quote for c in cited], self._similarity,
                                self._labels(cited), self._policy)
            if not word or polar.leading(first)[0]:
                return answer
            return self._led(answer, _after_word(word, answer.text), answer.citations, word)
        phrase = target.figure_phrase(answer.question, quote)
        if not phrase or target.asks_more(answer.question):  # "How many ..., and for whom?"
            return answer
        claim = phrase[:1].upper() + phrase[1:] + "."
        label = draft.attribution_label(self._docs.get(cited[0].doc_id))
        verdict = verify.verify(claim, quote, label=label)
        if not verdict.supported and verdict.check == "modality" and verdict.source:
            claim = f"{claim[:-1]}, according to {verdict.source}."
            verdict = verify.verify(claim, quote, label=label)
        if not verdict.supported:
            return answer
        return self._led(answer, f"{claim[:-1]} [{cited[0].n}].", (cited[0],), phrase)

    def settled(self, answer: Answer, hits: list[Hit],
                yes_of: YesScorer | None = None) -> Answer:
        """For a yes/no question the answer leaves unsettled, a sentence that settles it.

        Runs when the answer is refused or does not open with a settled yes or no
        (:meth:`lead`). Of the ``settle_sentences`` best-ranked sentences with
        ``min_matched`` question words, the first that settles the question's statement
        (:func:`assistant.answer.polar.settle`: its own words for a yes, its negation or
        its opposite for a no) is the answer, quoted and cited after its yes or no.

        When none does (``likely_yes``): of the first ``yes_sentences`` of them that bear
        on the statement (:func:`assistant.answer.polar.bears_on`), the one ``yes_of``
        (the model's probability that a sentence says yes to the question) scores
        highest, at ``min_yes_probability`` or more, is quoted after "Yes". The
        model chooses among the reports' sentences and never writes the answer: what is
        shown is the sentence as it stands.
        """
        question = answer.question
        if (not self.uses("settle") or not hits or not polar.is_polar(question)
                or comparison.about_several(question, self._names)
                or (not answer.refused and polar.leading(answer.text)[0])):
            return answer
        searched: list[tuple[RankedSentence, str]] = []
        for ranked in self._ranker(hits).rank(question)[:self._policy.settle_sentences]:
            if ranked.matched < self._policy.min_matched:
                continue
            label = draft.attribution_label(self._docs.get(hits[ranked.n - 1].chunk.doc_id))
            searched.append((ranked, label))
            word = polar.settle(question, [ranked.text], self._similarity, [label],
                                 self._policy)
            if word:
                return self._settled_by(answer, hits, ranked, word, "settle")
        likely = self._likely_yes(question, searched, yes_of)
        return answer if likely is None else self._settled_by(answer, hits, likely, "yes",
                                                              "likely_yes")

    def _likely_yes(self, question: str, searched: Sequence[tuple[RankedSentence, str]],
                    yes_of: YesScorer | None) -> RankedSentence | None:
        if yes_of is None or not self.uses("likely_yes"):
            return None
        has_statement = bool(polar.statement(question))
        best: tuple[float, RankedSentence] | None = None
        bearing = [ranked for ranked, label in searched
                   if not has_statement or polar.bears_on(question, [ranked.text], label)]
        for ranked in bearing[:self._policy.yes_sentences]:
            p = yes_of(draft.polar_messages(question, ranked.text))
            if p is None:
                return None  # the model gives no probabilities
            if p >= self._policy.min_yes_probability and (best is None or p > best[0]):
                best = (p, ranked)
        return None if best is None else best[1]

    def _settled_by(self, answer: Answer, hits: list[Hit], ranked: RankedSentence, word: str,
                    step: str) -> Answer:
        quoted = self.quoted(answer, hits, ranked.n, ranked.text)
        trace = {**answer.trace, step: f"{word}: {ranked.text}", f"before:{step}": answer.text}
        left = () if answer.refused else tuple(
            f"{sentence} — it does not settle the yes/no question; another sentence does"
            for sentence, _ in claims.split_answer(answer.text))
        return dataclasses.replace(quoted, text=_after_word(word, quoted.text),
                                   unsupported=(*answer.unsupported, *left), trace=trace)

    @staticmethod
    def _led(answer: Answer, text: str, cited: tuple[Citation, ...], what: str) -> Answer:
        trace = {**answer.trace, "lead": what, "before:lead": answer.text}
        return dataclasses.replace(answer, text=text, citations=cited, trace=trace)

    def said(self, answer: Answer, hits: list[Hit], exempt: Sequence[str] = ()) -> Answer:
        """For "What did <person> say / make of ...?", the person's statement that answers.

        The person's words are a sentence in which the person speaks
        (:func:`assistant.answer.speech.speaks`: named, or "he" after being named, with
        a reporting verb or a quotation), of the one report the question names if it
        names one: the first the answer cites (the model's choice), unless the
        best-ranked one (with ``min_matched`` question words, one of them not the
        person's name, and every figure of the question) holds more of the question's
        other words. The answer is that sentence with the one next to it in which the
        person speaks too (``said_sentences`` in all), quoted as written, unless the
        answer already shows them. It is checked against the question's target
        (:meth:`on_target`); when that fails the answer stays as it was. A question
        about several reports
        is left to each report's account (:meth:`each_report`).
        """
        question = answer.question
        person = speech.asked_speaker(question)
        if (not self.uses("said") or not hits or not person
                or comparison.about_several(question, self._names)):  # each report's account
            return answer
        reports = comparison.named_reports(question, self._names)
        figures = [question[f.start:f.end] for f in verify.numbers(question)]
        topic = terms(question) - terms(person)  # what the question asks them about
        ranked = next(((r.n, r.text) for r in self._ranker(hits).rank(question)
                       if r.matched >= self._policy.min_matched and topic & terms(r.text)
                       and (len(reports) != 1 or hits[r.n - 1].chunk.doc_id in reports)
                       and all(verify.flat(f) in verify.flat(r.text) for f in figures)
                       and speech.speaks(person, hits[r.n - 1].chunk.text, r.text)), None)
        own = None if answer.refused else self._speaking(answer, hits, person, reports)
        # the model's choice among the person's words stands, unless the best-ranked
        # sentence holds more of what the question asks them about
        anchor = own if own is not None and (
            ranked is None or len(topic & terms(ranked[1])) <= len(topic & terms(own[1]))
        ) else ranked
        if anchor is None:
            return answer
        n, sentence = anchor
        statement = speech.statement(person, hits[n - 1].chunk.text, sentence,
                                     self._policy.said_sentences)
        shown = citations.MARKER_RE.sub("", answer.text)
        if not answer.refused and all(s in shown for s in statement):
            return answer
        trace = {**answer.trace, "said": f"{person}: {' '.join(statement)}",
                 "before:said": answer.text}
        left = () if answer.refused else tuple(
            f"{sentence} — {person}'s own words are quoted instead"
            for sentence, _ in claims.split_answer(answer.text))
        made = self._quoting(dataclasses.replace(answer, unsupported=(*answer.unsupported,
                                                                      *left), trace=trace),
                             hits, n, [(s, s) for s in statement])
        checked = self.on_target(made, exempt)
        return answer if checked.refused else checked

    @staticmethod
    def _speaking(answer: Answer, hits: list[Hit], person: str, reports: set[str]
                  ) -> tuple[int, str] | None:
        """The first cited sentence in which ``person`` speaks, as (passage number, sentence).

        Only of the report the question names, when it names one; None if there is none.
        """
        for c in answer.citations:
            if len(reports) == 1 and c.doc_id not in reports:
                continue
            n = next((i for i, h in enumerate(hits, start=1)
                      if h.chunk.doc_id == c.doc_id and c.quote in h.chunk.text), None)
            if n is None:
                continue
            passage = hits[n - 1].chunk.text
            for sentence in claims.Evidence(c.quote).units():
                if speech.speaks(person, passage, sentence):
                    return n, sentence
        return None

    def named(self, answer: Answer, hits: list[Hit]) -> Answer:
        """For a who / which-company question, also the sentence that names them.

        "Both agencies have overseen ..." only refers back to "... were led by the
        National Development and Reform Commission and ...". The sentence before a
        cited one is quoted first when the answer names no person or organisation,
        the cited sentence refers back (:func:`target.refers_back`) and the sentence
        before names one.
        """
        if (not self.uses("named") or answer.refused
                or not verify.asks_for_name(answer.question) or verify.agents(answer.text)):
            return answer
        for c in answer.citations:
            before = self._sentence_before(c)
            if not before or not verify.agents(before) or not target.refers_back(c.quote, before):
                continue
            named = self._with_sentence_before(answer, c, before, hits)
            if named is not None:
                return named
        return answer

    def _with_sentence_before(self, answer: Answer, citation: Citation, before: str,
                              hits: list[Hit]) -> Answer | None:
        """``answer`` with ``before`` (the sentence before a cited one) quoted first.

        ``None`` when no passage of ``hits`` holds it, so that it cannot be cited.
        """
        n = next((i for i, h in enumerate(hits, start=1)
                  if h.chunk.doc_id == citation.doc_id and before in h.chunk.text), 0)
        if not n:
            return None
        lead = claims.render([claims.GroundedSentence(before, (n,), 1.0, before)])
        supports: dict[int, list[str]] = {x.n: [x.quote] for x in answer.citations}
        supports.setdefault(n, []).insert(0, before)
        text, cited = citations.build_citations(f"{lead} {answer.text}", hits, self._titles,
                                                supports)
        trace = {**answer.trace, "before:named": answer.text, "named": before}
        return dataclasses.replace(answer, text=text, citations=cited, trace=trace)

    def _byline(self, doc_id: str) -> str:
        """A report's outlet and authors, not its title.

        A title names the report's topic, which would then stand for every sentence.
        """
        doc = self._docs.get(doc_id)
        if doc is None:
            return ""
        return " — ".join(p for p in (doc.outlet or "", ", ".join(doc.authors or ())) if p)

    def _title(self, doc_id: str) -> str:
        """A report's title: the topic its sentences may leave unnamed."""
        doc = self._docs.get(doc_id)
        return (doc.title or "") if doc is not None else ""

    def _written(self, word: str) -> bool:
        """True when some report writes ``word`` (any case) as a word of its own."""
        if self._words is None:  # read once: the reports do not change under a builder
            self._words = frozenset(
                w.rstrip(".").lower() for doc in self._docs.values()
                for w in _WORD_RE.findall(f"{doc.title or ''} {doc.text}"))
        return word.lower() in self._words

    def _sentence_before(self, citation: Citation) -> str:
        """The sentence of the report just before the cited one ("" at its start)."""
        doc = self._docs.get(citation.doc_id)
        if doc is None or citation.start <= 0:
            return ""
        begin = max(0, citation.start - self._policy.before_chars)
        spans = sentence_spans(doc.text, begin, citation.start)
        return doc.text[spans[-1][0]:spans[-1][1]] if spans else ""

    def summary(self, question: str, retrieved: Sequence[Hit], chunks: Sequence[Chunk],
                timings: dict[str, float], reports: Sequence[str] | None = None
                ) -> Answer | None:
        """For a summary request, the report's lead, quoted and cited (``None`` otherwise).

        A question what one named report says about a topic is a summary request on that
        topic (:meth:`_report_says`).

        The report is the one the question names (each, labelled with its outlet,
        when it names several), else the one of the best retrieved passage. A request
        about several reports it does not name ("the overall story across both
        reports") takes as many as it says (two for "both", every one for "each" or
        "all"), of ``reports`` (all when ``None``): those of the retrieved passages
        first. ``chunks`` are the index's passages, which the quotes cite.
        """
        if not summary.asks_for_summary(question) and not self._report_says(question):
            return None
        named = comparison.named_reports(question, self._names)
        retrieved_ids = list(dict.fromkeys(h.chunk.doc_id for h in retrieved))
        if named:
            doc_ids = sorted(named)
        elif comparison.about_several(question, self._names):
            allowed = sorted(reports if reports is not None else self._docs)
            ranked = list(dict.fromkeys([*(d for d in retrieved_ids if d in allowed), *allowed]))
            doc_ids = ranked[:comparison.how_many(question) or len(ranked)]
        else:
            doc_ids = retrieved_ids[:1]
        hits: list[Hit] = []
        grounded: list[claims.GroundedSentence] = []
        for doc_id in doc_ids:
            doc = self._docs.get(doc_id)
            if doc is None:
                continue
            label = f"{doc.outlet or doc.title or doc_id}: " if len(doc_ids) > 1 else ""
            for chunk, sentence in self._summary_sentences(question, doc, chunks):
                if not self._evidence(Hit(chunk, 0.0, 0)).verdict(sentence).supported:
                    continue
                n = next((i for i, h in enumerate(hits, start=1) if h.chunk == chunk), 0)
                if not n:
                    hits.append(Hit(chunk, 0.0, len(hits) + 1))
                    n = len(hits)
                grounded.append(claims.GroundedSentence(label + sentence, (n,), 1.0, sentence,
                                                        ((n, sentence),)))
                label = ""
        if not grounded:
            return None
        supports: dict[int, list[str]] = {}
        for g in grounded:
            supports.setdefault(g.passages[0], []).append(g.span)
        text, cited = citations.build_citations(claims.render(grounded), hits, self._titles,
                                                supports)
        return Answer(question, text, False, cited, tuple(hits), timings, (),
                      {"summary": ", ".join(doc_ids)})

    def _report_says(self, question: str) -> bool:
        """True for "What does <one report> say about <topic>?": that report on the topic.

        The speaker must name exactly one report ("What does Tom's Hardware say about
        ...?"); a person ("What did Huang say about ...?") or several reports ("both
        reports") are asked otherwise.
        """
        who = summary.says_about(question)
        return bool(who) and len(comparison.named_reports(who, self._names)) == 1 \
            and not comparison.about_several(question, self._names)

    def sourced(self, question: str, chunks: Sequence[Chunk], timings: dict[str, float],
                reports: Sequence[str] | None = None) -> Answer | None:
        """Whom the reports credit, found in their whole text (``None``: not asked, or none).

        For a question about how reports are sourced (:func:`sourcing.asks_for_sources`):
        the reports it names, else every report of ``reports`` (all when ``None``). Each
        report's sentences attributing something to a source (:func:`sourcing.credited`),
        each naming a source not quoted before (named sources first; every unnamed one
        counts as one, :func:`sourcing.source_key`), up to ``source_sentences``, in the
        report's order; labelled with the report's outlet when there are several. A
        question asking for outlets (:func:`sourcing.asks_for_outlets`) gets named
        sources that are not people.
        """
        if not sourcing.asks_for_sources(question):
            return None
        allowed = sorted(reports if reports is not None else self._docs)
        named = [d for d in sorted(comparison.named_reports(question, self._names))
                 if d in allowed]
        outlets = sourcing.asks_for_outlets(question)
        people = not outlets  # "which outlets" asks for no one quoted by name
        hits: list[Hit] = []
        lines: list[claims.GroundedSentence] = []
        supports: dict[int, list[str]] = {}
        for doc_id in named or allowed:
            doc = self._docs.get(doc_id)
            if doc is None:
                continue
            found: list[tuple[Chunk, str, set[str]]] = []
            for chunk, sentence, _ in summary.cited_sentences(doc, chunks):
                keys = {sourcing.source_key(c) for c in sourcing.credited(sentence, people)}
                keys -= {""} if outlets else set()  # an unnamed source is no outlet
                if keys and self._evidence(Hit(chunk, 0.0, 0)).verdict(sentence).supported:
                    found.append((chunk, sentence, keys))
            # named sources first ("Reuters"), each once; unnamed ones ("a source") alike
            seen: set[str] = set()
            taken: list[int] = []
            for i, (_, _, keys) in sorted(enumerate(found), key=lambda f: "" in f[1][2]):
                if len(taken) < self._policy.source_sentences and keys - seen:
                    seen |= keys
                    taken.append(i)
            label = f"{self._outlet(doc_id)}: " if len(named or allowed) > 1 else ""
            for i in sorted(taken):
                chunk, sentence, _ = found[i]
                hits.append(Hit(chunk, 0.0, len(hits) + 1))
                supports.setdefault(len(hits), []).append(sentence)
                lines.append(claims.GroundedSentence(label + sentence, (len(hits),), 1.0,
                                                     sentence, ((len(hits), sentence),)))
                label = ""
        if not lines:
            return None
        text, cited = citations.build_citations(claims.render(lines), hits, self._titles,
                                                supports)
        return Answer(question, text, False, cited, tuple(hits), timings, (),
                      {"sources": ", ".join(named or allowed)})

    def mentioned(self, question: str, chunks: Sequence[Chunk], timings: dict[str, float],
                 reports: Sequence[str] | None = None) -> Answer | None:
        """Whether reports mention something, searched in their whole text (``None``: not asked).

        ``reports`` are the reports the question may be about (all when ``None``).
        The first sentence of each report that names what is asked is quoted and
        cited (:mod:`assistant.answer.presence`). A report that does not name it
        gets a "no" only when a name or a figure was asked; the reports not asked
        about that do name it are quoted after it.
        """
        allowed = sorted(reports if reports is not None else self._docs)
        want = presence.asked(question, self._names, allowed)
        if want is None:
            return None
        asked = [d for d in want.reports if d in self._docs and d in allowed]
        if not asked:
            return None
        quotes: dict[str, tuple[Chunk, str]] = {}
        for doc_id in allowed:
            span = presence.found(want, self._docs[doc_id])
            chunk = next((c for c in chunks if c.doc_id == doc_id and span is not None
                          and c.start <= span[0] and span[1] <= c.end), None)
            if span is not None and chunk is not None:
                quotes[doc_id] = (chunk, self._docs[doc_id].text[span[0]:span[1]])
        having = [d for d in asked if d in quotes]
        if len(having) < len(asked) and not want.rare:
            return None  # a common noun may stand under another word: no "no" from it
        hits: list[Hit] = []
        lines: list[claims.GroundedSentence] = []
        supports: dict[int, list[str]] = {}
        for doc_id in [*having, *(d for d in quotes if d not in asked)]:
            chunk, sentence = quotes[doc_id]
            hits.append(Hit(chunk, 0.0, len(hits) + 1))
            supports[len(hits)] = [sentence]
            lines.append(claims.GroundedSentence(f"{self._outlet(doc_id)}: {sentence}",
                                                 (len(hits),), 1.0, sentence,
                                                 ((len(hits), sentence),)))
        head = self._presence_head(want, asked, having)
        if len(asked) == 1 and having:  # "Yes — <the sentence>"
            lines[0] = dataclasses.replace(lines[0], text=_after_word("yes", lines[0].span))
        elif len(asked) == 1:  # "No — ...", then who does name it
            lines = [claims.GroundedSentence(head, (), 1.0),
                     *(dataclasses.replace(g, text=g.text.replace(": ", " does: ", 1))
                       for g in lines)]
        else:  # how the reports compare first, cited to the quotes that bear it out
            lines.insert(0, claims.GroundedSentence(
                head, tuple(range(1, len(having) + 1)), 1.0))
        text, cited = citations.build_citations(claims.render(lines), hits, self._titles,
                                                supports)
        return Answer(question, text, False, cited, tuple(hits), timings, (),
                      {"presence": f"{want.verb} {want.thing!r}: "
                                   f"{', '.join(having) or 'in none'} of {', '.join(asked)}"})

    def _presence_head(self, want: presence.Asked, asked: Sequence[str],
                       having: Sequence[str]) -> str:
        """The yes or no of a presence question, in words."""
        verb = want.verb
        missing = [d for d in asked if d not in having]
        if len(asked) == 1:
            nowhere = presence.absent(want, self._docs[asked[0]])
            how = (f"it nowhere writes {' or '.join(nowhere)}" if nowhere else
                   f"no sentence of it names {' and '.join(want.rare)} together")
            return f"No — the {self._outlet(asked[0])} report does not {verb} {want.thing}: {how}"
        if not missing:
            return f"Yes — {'both' if len(asked) == 2 else 'all'} reports {verb} {want.thing}"
        if not having:
            return (f"No — {'neither report' if len(asked) == 2 else 'no report'} "
                    f"{_third_person(verb)} {want.thing}")
        return (f"Only {' and '.join(self._outlet(d) for d in having)} "
                f"{_third_person(verb) if len(having) == 1 else verb} {want.thing}; "
                f"{', '.join(self._outlet(d) for d in missing)} does not")

    def _summary_sentences(self, question: str, doc: Document, chunks: Sequence[Chunk]
                           ) -> list[tuple[Chunk, str]]:
        """The report's lead; for a summary about a topic, its sentences on that topic.

        On a topic (:func:`assistant.answer.summary.topic`): the report's
        ``summary_sentences`` sentences that rank best for the topic
        (:class:`~assistant.answer.evidence.SentenceRanker`), each followed by the rest
        of its paragraph (:func:`assistant.answer.summary.on_topic`), in the report's order.
        A topic that names a person or an organisation the report names takes only
        the sentences naming them and those that go on about them ("he added").
        """
        request = comparison.without_reports(question, self._names)
        about = summary.topic(request)
        if not about:
            return summary.lead(doc, chunks, self._policy.summary_sentences,
                                self._policy.summary_min_words)
        lines = summary.paragraphed(doc, chunks, self._policy.summary_min_words)
        if not lines:
            return []
        said = [(chunk, text) for chunk, text, _ in lines]
        texts = [text for _, text in said]
        ranked = SentenceRanker(texts, self._embedder).rank(about)
        people = [a for a in verify.agents(request) if not summary.asks_for_summary(a)]
        # about a person or body ("what Randy Abrams says"): the sentences that name
        # them, and those that go on about them ("..., he added")
        naming = [i for i, text in enumerate(texts)
                  if any(verify.mentions(text, name) for name in people)]
        if naming:
            going_on = {i + 1 for i in naming
                        if i + 1 < len(texts) and target.refers_back(texts[i + 1], texts[i])}
            about_them = set(naming) | going_on
            ranked = [r for r in ranked if r.n - 1 in about_them]
            best = sorted({r.n - 1 for r in ranked[:self._policy.summary_sentences]})
        else:  # about a topic: its best sentences, each with the rest of its paragraph
            best = summary.on_topic([r.n - 1 for r in ranked], [p for *_, p in lines],
                                    self._policy.summary_sentences)
        return [said[i] for i in best]

    def each_report(self, answer: Answer, hits: list[Hit]) -> Answer:
        """For a question about several reports, one cited line per report.

        Runs when the question names two outlets or speaks of "both reports" / "each
        report". Each report's line is the answer's own sentences that cite only
        that report, or else the report's best sentences for the question (ranked
        without the words that name the reports; up to ``account_sentences``, each
        with ``account_matched`` question words, rank score ``account_bar``), labelled
        with its outlet. A refusal becomes the reports' lines when two reports have
        one. When the question asks whether the reports agree or differ, a relation
        is stated only as the verifier finds it (:meth:`_relation`).
        """
        question = answer.question
        if (not self.uses("accounts") or not hits
                or not comparison.about_several(question, self._names)):
            return answer
        own, shared = self._sentences_by_report(answer)
        topic = comparison.without_reports(question, self._names)
        own = self._outranked(own, topic, hits)
        accounts = self._best_per_report(topic, hits, set(own), self._policy.account_bar,
                                         self._policy.account_matched,
                                         self._policy.account_sentences)
        accounts.update({doc_id: [ranked] for doc_id, ranked in self._naming_per_report(
            topic, hits, set(own) | set(accounts)).items()})
        if len(own) + len(accounts) < 2:
            return answer
        order = list(dict.fromkeys([*own, *(h.chunk.doc_id for h in hits)]))
        grounded: list[claims.GroundedSentence] = []
        supports: dict[int, list[str]] = {c.n: [c.quote] for c in answer.citations}
        firsts: list[claims.GroundedSentence] = []  # each report's first line
        for doc_id in order:
            label = self._outlet(doc_id)
            if doc_id in own:
                first, *rest = own[doc_id]
                if not comparison.named_reports(first.text, {doc_id: (label,)}):
                    first = dataclasses.replace(first, text=f"{label}: {first.text}")
                firsts.append(first)
                grounded += [first, *rest]
            elif doc_id in accounts:
                for i, ranked in enumerate(accounts[doc_id]):  # best first
                    line = claims.GroundedSentence(f"{label}: {ranked.text}" if i == 0
                                                   else ranked.text, (ranked.n,), 1.0,
                                                   ranked.text)
                    if i == 0:
                        firsts.append(line)
                    grounded.append(line)
                    supports.setdefault(ranked.n, []).append(ranked.text)
        relation = self._relation(question, firsts) if len(firsts) >= 2 else ""
        if relation:  # cited to both quotes it compares, so it is checked in one click
            pair = (firsts[0].passages[0], firsts[1].passages[0])
            grounded.append(claims.GroundedSentence(relation, tuple(dict.fromkeys(pair)), 1.0))
        grounded = [*shared, *grounded]  # a claim about several reports leads
        text, cited_all = citations.build_citations(claims.render(grounded), hits, self._titles,
                                                    supports)
        trace = {**answer.trace, "before:accounts": answer.text,
                 "accounts": " | ".join(f"{r.score:.2f}: {r.text}"
                                        for lines in accounts.values() for r in lines)}
        if relation:
            trace["relation"] = relation
        return Answer(question, text, False, cited_all, answer.hits, answer.timings,
                      answer.unsupported, trace)

    def _outranked(self, own: dict[str, list[claims.GroundedSentence]], topic: str,
                   hits: list[Hit]) -> dict[str, list[claims.GroundedSentence]]:
        """The answer's lines by report, less those a report's best sentence outranks.

        A report's lines give way when its best-ranked sentence for ``topic`` (one
        question word, verified) ranks ``AnswerPolicy.account_margin`` above the best
        of them; that report then gets its account like a report the answer left out.
        """
        ranked = self._ranker(hits).rank(topic)
        kept: dict[str, list[claims.GroundedSentence]] = {}
        for doc_id, lines in own.items():
            mine = [r for r in ranked if hits[r.n - 1].chunk.doc_id == doc_id]
            written = max((r.score for r in mine for line in lines
                           if r.n in line.passages and (r.text in line.span
                                                        or line.span in r.text)),
                          default=0.0)
            best = next((r for r in mine if r.matched >= 1
                         and self._evidence(hits[r.n - 1]).verdict(r.text).supported), None)
            if best is None or best.score <= written + self._policy.account_margin:
                kept[doc_id] = lines
        return kept

    def _own_outlet(self, doc_id: str) -> str | None:
        """The report's outlet, ``None`` when it states none."""
        doc = self._docs.get(doc_id)
        return doc.outlet if doc is not None else None

    def _outlet(self, doc_id: str) -> str:
        """The report's outlet, else its id (a label to show)."""
        return self._own_outlet(doc_id) or doc_id

    def _sentences_by_report(self, answer: Answer) -> tuple[
            dict[str, list[claims.GroundedSentence]], list[claims.GroundedSentence]]:
        """The answer's sentences citing one report, by report; and those citing several.

        A sentence citing several reports was held to passages of each
        (:meth:`_across_reports`).
        """
        if answer.refused:
            return {}, []
        by_n = {c.n: c for c in answer.citations}
        out: dict[str, list[claims.GroundedSentence]] = {}
        shared: list[claims.GroundedSentence] = []
        for sentence, found in claims.split_answer(answer.text):
            cited = [by_n[n] for n in found if n in by_n]
            if not cited:
                continue
            grounded = claims.GroundedSentence(sentence, tuple(c.n for c in cited), 1.0,
                                               cited[0].quote)
            if len({c.doc_id for c in cited}) > 1:
                shared.append(grounded)
            elif not comparison.about_several(sentence, self._names):
                out.setdefault(cited[0].doc_id, []).append(grounded)
        return out, shared

    def _relation(self, question: str, lines: Sequence[claims.GroundedSentence]) -> str:
        """How the first two reports' lines relate, as far as the verifier can tell ("": no ask).

        Only a question that asks ("Do the reports agree ...?") gets a relation.
        Each report's quote is checked against the other's. They agree when each
        supports the other. They differ when the check fails on polarity or a
        number, or on modality while the other way holds ("may be approved" against
        "approved": the same point, one hedged). Otherwise they do not address the
        same point in the same terms, and no relation is claimed.
        """
        if not comparison.relates_reports(question, self._names):
            return ""
        a, b = lines[0].span, lines[1].span
        there, back = verify.verify(a, b), verify.verify(b, a)
        if there.supported and back.supported:
            return "On this point the reports agree."
        checks = {there.check, back.check}
        if checks & {"polarity", "numbers"} or (
                "modality" in checks and (there.supported or back.supported)):
            return "On this point the reports differ."
        return "The reports do not address this point in the same terms."

    def other_reports(self, answer: Answer, hits: list[Hit]) -> Answer:
        """``answer`` with what the reports it does not cite say on the question.

        For each report among ``hits`` that no citation of the answer points at,
        its best sentence for the question is added (as a citation in
        ``Answer.other_reports``) when it matches strongly: the rank score
        ``extractive_threshold`` and at least two question words.
        Nothing is added to a refusal, and no claim is made that the reports agree
        or differ: the reader compares the quotes.
        """
        if not self.uses("other_reports") or answer.refused or not hits:
            return answer
        cited = {c.doc_id for c in answer.citations}
        chosen = [best for best, *_ in self._best_per_report(
            answer.question, hits, cited, self._policy.extractive_threshold,
            self._policy.min_matched).values()]
        if not chosen:
            return answer
        text = " ".join(f"[{r.n}]" for r in chosen)
        _, others = citations.build_citations(text, hits, self._titles,
                                              {r.n: [r.text] for r in chosen})
        return dataclasses.replace(answer, other_reports=others)

    def _best_per_report(self, question: str, hits: list[Hit], done: set[str], bar: float,
                         matched: int, per: int = 1) -> dict[str, list[RankedSentence]]:
        """Each report's best sentences for ``question``, but the ``done`` reports'.

        Up to ``per`` a report, best first: rank score at least ``bar``, at least
        ``matched`` question words, each passing the verifier against its passage, as
        every sentence shown does.
        """
        chosen: dict[str, list[RankedSentence]] = {}
        for ranked in self._ranker(hits).rank(question):
            if ranked.score < bar:
                break
            hit = hits[ranked.n - 1]
            mine = chosen.get(hit.chunk.doc_id, [])
            if (hit.chunk.doc_id in done or len(mine) >= per or ranked.matched < matched
                    or any(r.text == ranked.text for r in mine)
                    or not self._evidence(hit).verdict(ranked.text).supported):
                continue
            chosen[hit.chunk.doc_id] = [*mine, ranked]
        return chosen

    def _naming_per_report(self, question: str, hits: list[Hit], done: set[str]
                           ) -> dict[str, RankedSentence]:
        """Each other report's best sentence naming the most names of ``question``.

        "What does each report say about ByteDance?": a report's account is its
        best-ranked sentence naming ByteDance, however few other words it shares;
        "Which report mentions Huawei, and which UBS?": the sentence naming either.
        A sentence naming more of the names comes first. Nothing for a question
        without names.
        """
        names = target.question_names(question)
        if not names:
            return {}
        best: dict[str, tuple[int, RankedSentence]] = {}
        for ranked in self._ranker(hits).rank(question):
            hit = hits[ranked.n - 1]
            doc_id = hit.chunk.doc_id
            named = sum(verify.mentions(ranked.text, n) for n in names)
            if (doc_id in done or not named or named <= best.get(doc_id, (0,))[0]
                    or not self._evidence(hit).verdict(ranked.text).supported):
                continue
            best[doc_id] = (named, ranked)
        return {doc_id: ranked for doc_id, (_, ranked) in best.items()}

    def _evidence(self, hit: Hit) -> claims.Evidence:
        """A passage as the verifier sees it: its text, its report's label, its headings.

        Names a claim takes from the label or the heading path (the function a
        passage of documentation describes) count as stated; the quote is still a
        sentence of the passage.
        """
        doc = self._docs.get(hit.chunk.doc_id)
        return claims.Evidence(hit.chunk.text, draft.attribution_label(doc), self._similarity,
                               draft.passage_context(hit, doc))

    def quoted(self, base: Answer, hits: list[Hit], n: int, sentence: str) -> Answer:
        """An answer that is ``sentence`` of passage ``n``, quoted and cited.

        A sentence of a definition (documentation: "Recursively copy an entire
        directory tree ...") is led by the term it defines ("shutil.copytree(src,
        dst, ...): ..."), which it does not repeat; the quote is the sentence alone.
        """
        term = self._defined(hits[n - 1], sentence)
        return self._quoting(base, hits, n, [(f"{term}: {sentence}" if term else sentence,
                                              sentence)])

    def _quoting(self, base: Answer, hits: list[Hit], n: int,
                 shown: Sequence[tuple[str, str]]) -> Answer:
        """An answer of sentences of passage ``n``, each (as shown, as quoted), cited."""
        grounded = [claims.GroundedSentence(text, (n,), 1.0, sentence, ((n, sentence),))
                    for text, sentence in shown]
        text, cited = citations.build_citations(claims.render(grounded), hits, self._titles,
                                                {n: [sentence for _, sentence in shown]})
        return Answer(base.question, text, False, cited, base.hits, base.timings,
                      base.unsupported, base.trace)

    @staticmethod
    def refusal(question: str, closest: Sequence[Hit], timings: dict[str, float],
                unsupported: tuple[str, ...] = (), trace: dict[str, str] | None = None) -> Answer:
        """The reports do not say; ``closest`` are offered as related passages."""
        return Answer(question, draft.REFUSAL, True, (), tuple(closest), timings,
                      unsupported, trace or {})

    def _ranker(self, hits: list[Hit]) -> SentenceRanker:
        """The ranker for these passages; the last two are kept (the UI serves several users)."""
        key = tuple((h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in hits)
        with self._rankers_lock:
            ranker = self._rankers.get(key)
            if ranker is None:
                if len(self._rankers) >= 2:  # corpus mode's one list, or the last question's
                    self._rankers.pop(next(iter(self._rankers)))
                ranker = SentenceRanker([h.chunk.text for h in hits], self._embedder,
                                        [self._own_outlet(h.chunk.doc_id) for h in hits])
                self._rankers[key] = ranker
            return ranker


def _third_person(verb: str) -> str:
    """"mention" → "mentions", "refer to" → "refers to" (the verbs of presence questions)."""
    head, _, rest = verb.partition(" ")
    return f"{head}s {rest}".strip()


def _digits(figure: str) -> str:
    """A figure's digits as written, without its currency or unit ("$4.6" → "4.6")."""
    match = re.search(r"\d[\d,.]*\d|\d", figure)
    return match.group(0) if match else ""


def _holds(text: str, fact: str) -> bool:
    """True when ``text`` has ``fact``: a figure's digits, or a name."""
    if fact[:1].isdigit():
        return re.search(rf"(?<![\d.,]){re.escape(fact)}(?![\d]|[.,]\d)", text) is not None
    return verify.mentions(text, fact)


def _after_word(word: str, text: str) -> str:
    """``text`` after a settled yes or no: "Yes — the H200 ..." (an article lower-cased)."""
    head = text.lstrip()
    if head.split(" ", 1)[0] in ("The", "A", "An"):  # an article, not a name
        head = head[:1].lower() + head[1:]
    return f"{word.capitalize()} — {head}"


def closest_passages(answer: Answer, policy: AnswerPolicy = DEFAULT_POLICY) -> tuple[Hit, ...]:
    """The passages a refusal offers instead of an answer (none for an answer)."""
    return answer.hits[:policy.closest_passages] if answer.refused else ()
