"""The built-in dialects: one module of data per vendor vocabulary.

Each module holds a ``TABLE`` from the vendor's code to an ``Outcome`` and, where the
source is text, the ``SEPARATORS`` its words may be joined by. ``BUILTIN`` lists them
for the registry in ``dialstate.outcomes.normalize``, which validates and compiles them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, TypeAlias

from dialstate.outcomes._outcome import Outcome
from dialstate.outcomes.dialects import (
    asterisk,
    call_result,
    call_status,
    freeswitch,
    leg_status,
    q850,
    session_status,
    sip,
)

CodeTable: TypeAlias = (
    Mapping[str, Outcome] | Mapping[int, Outcome] | Mapping[str | int, Outcome]
)


@dataclass(frozen=True)
class DialectData:
    """One dialect as data: its codes and how its text codes may be spelled."""

    name: str
    table: CodeTable
    # Characters that may join the words of a text code; each reads as a space.
    separators: str = ""
    # Codes that describe an operator's leg rather than a contact's call, with why.
    operator_leg_codes: Mapping[str, str] = field(default_factory=dict)


BUILTIN: Final[tuple[DialectData, ...]] = (
    DialectData("q850", q850.TABLE),
    DialectData("sip", sip.TABLE),
    DialectData(
        "freeswitch",
        freeswitch.TABLE,
        separators=freeswitch.SEPARATORS,
        operator_leg_codes=freeswitch.OPERATOR_LEG_CODES,
    ),
    DialectData("asterisk", asterisk.TABLE),
    DialectData(
        "call_result",
        call_result.TABLE,
        separators=call_result.SEPARATORS,
        operator_leg_codes=call_result.OPERATOR_LEG_CODES,
    ),
    DialectData("call_status", call_status.TABLE, separators=call_status.SEPARATORS),
    DialectData("leg_status", leg_status.TABLE, separators=leg_status.SEPARATORS),
    DialectData("session_status", session_status.TABLE, separators=session_status.SEPARATORS),
)

__all__ = ["BUILTIN", "CodeTable", "DialectData"]
