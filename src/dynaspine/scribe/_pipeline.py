"""The medspaCy pipeline of the scribe: sentences, concepts, ConText assertions, sections.

Built once per process from the rule tables under ``data/`` (never medspaCy's default
clinical rules, which are written for discharge summaries, not spine radiology).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from dynaspine.scribe._rules import concepts, load_table

__all__ = ["get_pipeline"]


def _silence_pyrush() -> None:
    """Disable PyRuSH's loguru messages (it logs every sentence at DEBUG).

    Only the ``PyRuSH`` namespace is disabled; loguru's sinks and the standard logging
    configuration of the application are left untouched.
    """
    try:
        from loguru import logger
    except ImportError:  # pragma: no cover - loguru is a dependency of PyRuSH
        return
    logger.disable("PyRuSH")


def _header_patterns(literal: str) -> list[list[dict[str, Any]]]:
    words: list[dict[str, Any]] = [{"LOWER": w} for w in literal.lower().split()]
    dictated: list[dict[str, Any]] = [{**words[0], "IS_SENT_START": True}, *words[1:]]
    # "Findings: ..." anywhere; "Findings. ..." (as speech recognition writes it) only
    # when the header starts a sentence.
    return [[*words, {"ORTH": {"IN": [":", "-", "—"]}}], [*dictated, {"ORTH": "."}]]


def _context_patterns(
    literal: str, direction: str, table: dict[str, Any]
) -> list[tuple[str, list[dict[str, Any]] | None]]:
    """Token patterns of one ConText trigger.

    A backward trigger that starts with a copula ("is possible", "is negative") must end
    the clause (punctuation or a preposition follows); otherwise it would swallow the
    forward trigger inside it ("there is possible instability").
    """
    words = literal.split()
    if direction != "BACKWARD" or words[0] not in table["copulas"]:
        return [(literal, None)]
    base = [{"LOWER": w} for w in words]
    return [
        (literal, [*base, {"IS_PUNCT": True}]),
        (f"{literal} +prep", [*base, {"LOWER": {"IN": table["clause_end_words"]}}]),
    ]


@cache
def get_pipeline() -> Any:
    """Return the scribe's spaCy ``Language`` (built on first use, then cached).

    Raises
    ------
    dynaspine.errors.ScribeError
        When medspaCy is not installed (``pip install dynaspine[scribe]``).
    """
    _silence_pyrush()
    try:
        import medspacy
        from medspacy.context import ConTextRule
        from medspacy.ner import TargetRule
        from medspacy.section_detection import SectionRule
    except ImportError as exc:  # pragma: no cover - depends on the install
        from dynaspine.errors import ScribeError

        raise ScribeError(
            f"the scribe needs medSpaCy, which is not installed ({exc})",
            hint="pip install 'dynaspine[scribe]'",
        ) from exc

    nlp = medspacy.load(medspacy_enable=["medspacy_pyrush"])
    matcher = nlp.add_pipe("medspacy_target_matcher")
    matcher.add([TargetRule(lit, c.id) for c in concepts() for lit in c.literals])

    ctx_table = load_table("context_rules.json")
    context = nlp.add_pipe("medspacy_context", config={"rules": None, "span_attrs": None})
    context.add(
        [
            ConTextRule(name, rule["category"], direction=rule["direction"], pattern=pattern)
            for rule in ctx_table["rules"]
            for lit in rule["literals"]
            for name, pattern in _context_patterns(lit, rule["direction"], ctx_table)
        ]
    )

    sec_table = load_table("sections.json")
    sectionizer = nlp.add_pipe("medspacy_sectionizer", config={"rules": None, "span_attrs": None})
    rules = []
    for sec in sec_table["sections"]:
        for lit in sec["literals"]:
            for pattern in _header_patterns(lit):
                rules.append(SectionRule(lit, sec["category"], pattern=pattern))
    sectionizer.add(rules)
    return nlp
