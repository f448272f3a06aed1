"""``normalize``: any vendor's call code to an ``Outcome``, and the dialect registry.

A dialect is compiled once, when it is registered, into one dict that holds every
spelling it accepts (lower-cased; words re-joined by spaces; numbers both as int and
as text). ``normalize`` on the hot path is a strip, a lower and one dict lookup;
only a miss pays for separator folding or leading-zero parsing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from dialstate.errors import InvalidDialect, OperatorLegCode, UnknownOutcome
from dialstate.outcomes._outcome import Outcome
from dialstate.outcomes.dialects import BUILTIN, DialectData


@dataclass(frozen=True, slots=True)
class _Dialect:
    """A dialect compiled for lookup."""

    name: str
    # Every accepted spelling: stripped lower-case text, its word form, ints and
    # their decimal text.
    lookup: dict[str | int, Outcome]
    # Spellings of operator-leg codes, with the reason normalize gives for refusing.
    leg_codes: dict[str, str]
    # str.translate table turning the dialect's word separators into spaces.
    words: dict[int, str] | None


_OUTCOMES_BY_TEXT: dict[str, Outcome] = {
    **{outcome.value: outcome for outcome in Outcome},
    **{outcome.name.lower(): outcome for outcome in Outcome},
}
_OUTCOME_VALUES = ", ".join(outcome.value for outcome in Outcome)

_REGISTRY: dict[str, _Dialect] = {}


def normalize(code: str | int | Outcome, dialect: str | None = None) -> Outcome:
    """Read ``code`` in ``dialect`` as an Outcome; ``unknown`` if the dialect lacks it.

    Without a dialect, ``code`` must already be an outcome (value or name, any case).
    Raises ``UnknownOutcome`` for an unknown dialect or a non-outcome without one, and
    ``OperatorLegCode`` for a code that describes an operator's leg.
    """
    if dialect is None:
        return _as_outcome(code)
    spec = _REGISTRY.get(dialect) or _find_dialect(code, dialect)
    if type(code) is str:
        key = code.strip().lower()
        hit = spec.lookup.get(key)
        return hit if hit is not None else _on_miss(spec, code, key)
    if type(code) is int:
        return spec.lookup.get(code, Outcome.UNKNOWN)
    return _normalize_other(spec, code)


def register_dialect(
    name: str, mapping: Mapping[str | int, Outcome | str], *, replace: bool = False
) -> None:
    """Teach ``normalize`` a dialer's own codes: ``{code: Outcome or outcome value}``.

    Text codes match case-insensitively; integer codes also match as decimal text.
    A name already known (built-in or not) needs ``replace=True``.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidDialect(name, "a dialect name must be non-empty text")
    key = name.strip().lower()
    if key in _REGISTRY and not replace:
        raise InvalidDialect(
            key,
            f"the name is taken (known dialects: {', '.join(dialects())}); "
            "pass replace=True to replace it",
        )
    if not isinstance(mapping, Mapping) or not mapping:
        raise InvalidDialect(key, "the mapping must be a non-empty {code: outcome} mapping")
    table = {code: _outcome_value(key, code, value) for code, value in mapping.items()}
    # Compile before storing, so a failed registration leaves the registry untouched.
    _REGISTRY[key] = _compile(DialectData(key, table))


def dialects() -> tuple[str, ...]:
    """The names of the known dialects, sorted."""
    return tuple(sorted(_REGISTRY))


# --- lookup helpers -----------------------------------------------------------------


def _as_outcome(code: object) -> Outcome:
    if isinstance(code, Outcome):
        return code
    if isinstance(code, str):
        key = code.strip().lower()
        hit = _OUTCOMES_BY_TEXT.get(key)
        if hit is not None:
            return hit
        # A leg code given without its dialect (say "Lose-race") gets the same clear
        # refusal as with it, not a generic "not an outcome".
        words = key.replace("-", " ").replace("_", " ")
        for spelling in (key, words):  # the exact spelling first: it names the dialect best
            for spec in _REGISTRY.values():
                reason = spec.leg_codes.get(spelling)
                if reason is not None:
                    raise OperatorLegCode(code, spec.name, reason)
    raise UnknownOutcome(
        code,
        None,
        f"{code!r} is not an outcome; outcomes are: {_OUTCOME_VALUES}. A vendor's code "
        f"needs its dialect, normalize(code, dialect), with one of: {', '.join(dialects())}",
    )


def _find_dialect(code: object, dialect: str) -> _Dialect:
    spec = _REGISTRY.get(dialect.strip().lower()) if isinstance(dialect, str) else None
    if spec is None:
        raise UnknownOutcome(
            code,
            dialect,
            f"unknown dialect {dialect!r}; known dialects: {', '.join(dialects())} "
            "(a dialer's own codes can be added with register_dialect)",
        )
    return spec


def _on_miss(spec: _Dialect, code: str, key: str) -> Outcome:
    """The slow path: operator-leg codes, other word separators, leading zeros."""
    reason = spec.leg_codes.get(key)
    if reason is None and spec.words is not None:
        words = " ".join(key.translate(spec.words).split())
        hit = spec.lookup.get(words)
        if hit is not None:
            return hit
        reason = spec.leg_codes.get(words)
    if reason is not None:
        raise OperatorLegCode(code, spec.name, reason)
    if key.isascii() and key.isdigit():
        return spec.lookup.get(int(key), Outcome.UNKNOWN)
    return Outcome.UNKNOWN


def _normalize_other(spec: _Dialect, code: object) -> Outcome:
    """Subclasses of str and int; an Outcome is already canonical in any dialect."""
    if isinstance(code, Outcome):
        return code
    if isinstance(code, str):
        key = code.strip().lower()
        hit = spec.lookup.get(key)
        return hit if hit is not None else _on_miss(spec, code, key)
    if isinstance(code, int) and not isinstance(code, bool):
        return spec.lookup.get(int(code), Outcome.UNKNOWN)
    raise UnknownOutcome(
        code,
        spec.name,
        f"{spec.name} code {code!r} is a {type(code).__name__}; a call code is text "
        "or an integer",
    )


# --- compiling a dialect --------------------------------------------------------------


def _outcome_value(dialect: str, code: object, value: object) -> Outcome:
    if isinstance(value, Outcome):
        return value
    hit = _OUTCOMES_BY_TEXT.get(value.strip().lower()) if isinstance(value, str) else None
    if hit is None:
        raise InvalidDialect(
            dialect,
            f"code {code!r} maps to {value!r}, which is not an outcome; "
            f"outcomes are: {_OUTCOME_VALUES}",
            code=value,
        )
    return hit


def _compile(data: DialectData) -> _Dialect:
    """Expand a dialect into its lookup dict; refuse spellings that collide."""
    words = str.maketrans(dict.fromkeys(data.separators, " ")) if data.separators else None
    lookup: dict[str | int, Outcome] = {}
    spelled_by: dict[str | int, object] = {}
    for code, outcome in data.table.items():
        for spelling in _spellings(data.name, code, words):
            earlier = spelled_by.setdefault(spelling, code)
            if lookup.setdefault(spelling, outcome) is not outcome:
                raise InvalidDialect(
                    data.name,
                    f"codes {earlier!r} and {code!r} both read as {spelling!r} but map to "
                    f"{lookup[spelling]} and {outcome}",
                    code=code,
                )
    leg_codes: dict[str, str] = {}
    for code, reason in data.operator_leg_codes.items():
        for spelling in _spellings(data.name, code, words):
            if spelling in lookup:
                raise InvalidDialect(
                    data.name,
                    f"{code!r} is both an operator-leg code and a code that maps to "
                    f"{lookup[spelling]}",
                    code=code,
                )
            leg_codes[str(spelling)] = reason
    return _Dialect(data.name, lookup, leg_codes, words)


def _spellings(dialect: str, code: object, words: dict[int, str] | None) -> Iterator[str | int]:
    """Every key under which ``code`` is found."""
    if isinstance(code, bool) or not isinstance(code, str | int):
        raise InvalidDialect(
            dialect,
            f"code {code!r} is a {type(code).__name__}; codes are text or integers",
            code=code,
        )
    if isinstance(code, int):
        yield code
        yield str(code)
        return
    text = code.strip().lower()
    if not text:
        raise InvalidDialect(dialect, f"code {code!r} is empty", code=code)
    yield text
    if words is not None:
        # The word form, and the word form joined by each separator, so that the
        # usual spellings ("not_answered", "not-answered") hit the fast path too.
        joined = " ".join(text.translate(words).split())
        yield joined
        for separator in words:
            yield joined.replace(" ", chr(separator))
    if text.isascii() and text.isdigit():
        yield int(text)


for _data in BUILTIN:
    _REGISTRY[_data.name] = _compile(_data)
del _data
