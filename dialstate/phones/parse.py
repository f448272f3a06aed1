"""Reading a written phone number: validated, in E.164, or the reason it is not valid."""

from __future__ import annotations

import re

import phonenumbers

#: What a written phone number may contain besides digits. Letters are refused even
#: where a parser would read them as keypad digits (1-800-FLOWERS): a dialer must not
#: guess which number a record meant.
_ALLOWED = re.compile(r"^\+?[0-9 \-().\/\t]+$")


def parse_phone(raw: object, region: str | None) -> tuple[str | None, str | None]:
    """Return (E.164, None) for a valid number, else (None, the reason it is invalid)."""
    if raw is None:
        return None, "the number is blank"
    if not isinstance(raw, str):
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        else:
            return None, f"the number is a {type(raw).__name__}, not text"
    text = raw.strip()
    if not text:
        return None, "the number is blank"
    if not _ALLOWED.match(text):
        bad = sorted({c for c in text if not (c.isdigit() or c in "+ -()./\t")})
        what = "letters" if any(c.isalpha() for c in bad) else "other characters"
        return None, f"the number contains {what} ({''.join(bad)!r}); only digits, spaces, + - ( ) . / are allowed"
    if not any(c.isdigit() for c in text):
        return None, "the number has no digits"
    try:
        number = phonenumbers.parse(text, region if not text.startswith("+") else None)
    except phonenumbers.NumberParseException as exc:
        return None, f"the number cannot be parsed ({_reason(exc)})"
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or region or "no region"
        return None, f"the number is not a valid number ({where})"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def _reason(exc: phonenumbers.NumberParseException) -> str:
    return {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: (
            "no country code and no default region to read it with"
        ),
        phonenumbers.NumberParseException.NOT_A_NUMBER: "not a number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }.get(exc.error_type, str(exc))


def normalize_blacklist_phone(raw: str, region: str | None = None) -> str:
    """The key a blacklist entry is stored under: E.164 when the number is valid."""
    e164, _ = parse_phone(raw, region)
    return e164 if e164 is not None else str(raw).strip()
