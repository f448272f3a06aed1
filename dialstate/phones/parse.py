"""Reading a written phone number: validated, in E.164, or the reason it is not valid
(spec section 13, "Reading numbers the way people write them").

A number is written in one of three forms, told apart by its first digits and the
region's metadata in phonenumbers (never a hand-written table):

* international: with `+`, or with the region's international dialling prefix
  (`international_prefix`: `00` in DE, `011` in NANP, `810` in RU);
* national: with the region's trunk prefix (`national_prefix`: `0` in DE, FR, GB,
  `8` in RU), in a region whose trunk prefix is not its country code (NANP's trunk
  prefix is `1`, its country code);
* bare: neither (`447400123456`, `3235550123`, an `int` from a CRM export that lost its `+`).

The first two are read as written. Bare digits are read per `bare_numbers`:

* `"check"` (the default): in a region with a trunk prefix, both readings are tried:
  the national one (as phonenumbers reads the digits with the region) and the
  international one (as if `+` were written); the one that is a valid number wins, and
  when both are, the number is refused as ambiguous, both readings named. Elsewhere (NANP,
  where ten bare digits are the usual national form; regions without a trunk prefix
  such as ES and IT) the national reading wins when it is valid, else the
  international reading is tried.
* `"national"`: always the national reading (what phonenumbers makes of the digits
  with the region; dialstate's reading before section 13).
* `"international"`: always as if `+` were written.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata

from dialstate.errors import ConfigurationError, InvalidPhone

#: The ways bare digits (neither `+`, nor the international nor the trunk prefix) are read.
BARE_NUMBERS = ("check", "national", "international")

#: What a written phone number may contain besides digits. Letters are refused even
#: where a parser would read them as keypad digits (1-800-FLOWERS): a dialer must not
#: guess which number a record meant.
_ALLOWED = re.compile(r"^\+?[0-9 \-().\/\t]+$")
_SEPARATORS = " -()./\t"
_ASCII_DIGITS = "0123456789"

#: An extension at the end of a number: `ext. 42`, `extension 42`, `x99`, `;ext=5`
#: (RFC 3966), `#123`.
_EXTENSION = re.compile(
    r"(?P<ext>;\s*ext\s*=\s*[0-9]+|(?:ext(?:ension)?|x)\s*[.:=]?\s*[0-9]+|\#\s*[0-9]+)\s*\#?\s*$",
    re.IGNORECASE,
)

#: The digits a number needs before what follows it to be taken for an extension
#: (`030#1234567` is a number with a stray character, `030 1234567#123` one with an extension).
_LEAST_DIGITS_BEFORE_EXTENSION = 6

#: The reason `blacklist_key` gives for a number not written with `+` and no region.
NEEDS_REGION = "a number in national form needs a region: pass region='DE' (ISO 3166) or campaign_id=..."


def check_bare_numbers(value: object) -> str:
    """`value` when it is one of BARE_NUMBERS, else ConfigurationError naming it and them."""
    if isinstance(value, str) and value in BARE_NUMBERS:
        return value
    allowed = ", ".join(repr(v) for v in BARE_NUMBERS)
    raise ConfigurationError(f"bare_numbers must be one of {allowed}, got {value!r}")


def parse_phone(raw: object, region: str | None,
                bare_numbers: str = "check") -> tuple[str | None, str | None]:
    """Return (E.164, None) for a valid number, else (None, the reason it is invalid).

    `region` is the ISO 3166 code numbers not written with `+` are read in (the
    campaign's `default_region`); `bare_numbers` how digits written with neither `+`
    nor a prefix are read (see the module's docstring).
    """
    if bare_numbers not in BARE_NUMBERS:
        check_bare_numbers(bare_numbers)
    text, reason = _clean(raw)
    if text is None:
        return None, reason
    return _read_text(text, region, bare_numbers)


def blacklist_key(raw: object, region: str | None, bare_numbers: str = "check") -> str:
    """The E.164 key a number is blacklisted under, read as `parse_phone` reads it.

    Raises InvalidPhone for a number that is not valid (the reason as `parse_phone`
    words it), and for a number not written in international form (`+`) when
    `region` is None: a blacklist entry read in the wrong country would block a
    stranger and let the number meant through.
    """
    if bare_numbers not in BARE_NUMBERS:
        check_bare_numbers(bare_numbers)
    text, reason = _clean(raw)
    if text is None:
        raise InvalidPhone(raw, reason or "the number is not valid")
    if region is None:
        if not text.startswith("+"):
            raise InvalidPhone(raw, NEEDS_REGION)
    else:
        region = region.strip().upper()
        if _region_rules(region) is None:
            raise InvalidPhone(raw, f"region {region!r} is not a region phonenumbers knows "
                                    "(use ISO 3166 codes like DE, US, GB)")
    e164, reason = _read_text(text, region, bare_numbers)
    if e164 is None:
        raise InvalidPhone(raw, reason or "the number is not valid")
    return e164


# -- what the text may contain ----------------------------------------------------------


def _clean(raw: object) -> tuple[str, None] | tuple[None, str]:
    """(the stripped text, None) when `raw` is text a number can be read from, else
    (None, the reason it cannot)."""
    if raw is None:
        return None, "the number is blank"
    if not isinstance(raw, str):
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)  # a CRM export that lost the +: bare digits
        else:
            return None, f"the number is a {type(raw).__name__}, not text"
    text = raw.strip()
    if not text:
        return None, "the number is blank"
    if text[0] == "\u2212":  # a typographic minus sign: the same as "-" for what follows
        text = "-" + text[1:]
    if not _ALLOWED.match(text):
        extension = _EXTENSION.search(text)
        if extension is not None:
            before = text[:extension.start()].rstrip(" ,;")
            if _ALLOWED.match(before) and sum(c in _ASCII_DIGITS for c in before) >= _LEAST_DIGITS_BEFORE_EXTENSION:
                return None, (f"the number has an extension ({extension.group('ext').strip()!r}), "
                              "which a dialer cannot dial; give the number without it")
        body = text[1:] if text[0] == "+" else text
        bad = sorted({c for c in body if c not in _ASCII_DIGITS and c not in _SEPARATORS})
        if not bad:  # a + alone
            return None, "the number has no digits"
        if bad == ["+"]:
            return None, "the number has a + that is not at its start; only the first character may be +"
        what = "letters" if any(c.isalpha() for c in bad) else "other characters"
        return None, f"the number contains {what} ({''.join(bad)!r}); only digits, spaces, + - ( ) . / are allowed"
    if not any(c in _ASCII_DIGITS for c in text):
        return None, "the number has no digits"
    if text[0] == "-":
        return None, ("the number starts with a minus sign (as a spreadsheet writes a negative number); "
                      "a phone number has none")
    return text, None


# -- the readings ---------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _region_rules(region: str | None) -> tuple[str, str | None, re.Pattern[str] | None] | None:
    """(country code, trunk prefix, international prefix pattern) of `region` from
    phonenumbers' metadata; the trunk prefix is None where national numbers are not
    written with one other than the country code (NANP, ES, IT). None for no region
    or one phonenumbers does not know."""
    metadata = PhoneMetadata.metadata_for_region(region) if region else None
    if metadata is None or metadata.country_code is None:
        return None
    country = str(metadata.country_code)
    trunk = metadata.national_prefix or None
    idd = re.compile(metadata.international_prefix) if metadata.international_prefix else None
    return country, (trunk if trunk != country else None), idd


def _written_with_idd(digits: str, idd: re.Pattern[str]) -> bool:
    """Whether phonenumbers takes `digits` as starting with the international prefix
    (`_parse_prefix_as_idd`: no country code starts with 0, so `00 0...` is not one)."""
    match = idd.match(digits)
    return match is not None and not digits[match.end():].startswith("0")


def _read_text(text: str, region: str | None, bare_numbers: str) -> tuple[str | None, str | None]:
    """`parse_phone` for text that passed `_clean`."""
    if text.startswith("+"):
        return _read(text, None)
    digits = "".join(c for c in text if c in _ASCII_DIGITS)
    rules = _region_rules(region)
    if rules is None:  # no region to read it with: only "as if + were written" can
        return _read_as_international(digits) if bare_numbers == "international" else _read(text, region)
    _, trunk, idd = rules
    if (idd is not None and _written_with_idd(digits, idd)) or (trunk is not None and digits.startswith(trunk)):
        return _read(text, region)  # written international or national: read as written
    if bare_numbers == "national":
        return _read(text, region)
    if bare_numbers == "international":
        return _read_as_international(digits)
    national = _read(text, region)
    if trunk is None:  # NANP, ES, IT...: the usual national form first
        if national[0] is not None:
            return national
        international = _read("+" + digits, None)
        return international if international[0] is not None else national
    international = _read("+" + digits, None)
    if national[0] is not None and international[0] is not None and national[0] != international[0]:
        return None, f"ambiguous: {national[0]} or {international[0]}"
    if national[0] is not None:
        return national
    if international[0] is not None:
        return international
    return national


def _read_as_international(digits: str) -> tuple[str | None, str | None]:
    e164, _ = _read("+" + digits, None)
    if e164 is None:
        return None, f"the number is not a valid number read as international (+{digits}, bare_numbers='international')"
    return e164, None


def _read(text: str, region: str | None) -> tuple[str | None, str | None]:
    """phonenumbers' reading of `text` in `region`: (E.164, None) or (None, reason)."""
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
