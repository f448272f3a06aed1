"""Phone numbers: reading what people write (E.164 out, or the reason it is not a
valid number; spec section 13), the zones a number belongs to, and the fast reading
imports use."""

from __future__ import annotations

from dialstate.phones.fast import phone_and_zones
from dialstate.phones.parse import BARE_NUMBERS, blacklist_key, check_bare_numbers, parse_phone
from dialstate.phones.zones import resolve_zones, zones_for_number

__all__ = [
    "BARE_NUMBERS",
    "blacklist_key",
    "check_bare_numbers",
    "parse_phone",
    "phone_and_zones",
    "resolve_zones",
    "zones_for_number",
]
