"""The built-in dialects: one module of data per platform's vocabulary (the module
names the platform; the dialect name is what `normalize` takes).

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
    click_to_call,
    cloud_dialer,
    conversational_ai,
    freeswitch,
    q850,
    sip,
    voice_campaigns,
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
        cloud_dialer.TABLE,
        separators=cloud_dialer.SEPARATORS,
        operator_leg_codes=cloud_dialer.OPERATOR_LEG_CODES,
    ),
    DialectData("call_status", voice_campaigns.TABLE, separators=voice_campaigns.SEPARATORS),
    DialectData("leg_status", click_to_call.TABLE, separators=click_to_call.SEPARATORS),
    DialectData("session_status", conversational_ai.TABLE, separators=conversational_ai.SEPARATORS),
)

__all__ = ["BUILTIN", "CodeTable", "DialectData"]
