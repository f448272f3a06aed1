"""The fast reading of a number and its zones that imports use (same answers as
`parse_phone` and `resolve_zones`, several times faster)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberType, region_code_for_country_code
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, is_number_type_geographical
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from dialstate.phones.parse import BARE_NUMBERS, check_bare_numbers, parse_phone
from dialstate.phones.zones import resolve_zones
from dialstate.policy.window import CallingWindow, is_known_zone, validate_timezone

# -- phone numbers, fast ---------------------------------------------------------------
#
# `parse_phone` and `resolve_zones` are the reference; together they parse each number
# twice (once to validate, once more for its zones) and phonenumbers' `parse` is most
# of an import's time. A number written in international form (`+49 30 1234567`) is
# read here without `parse`: its country code is looked up and the rest taken as the
# national number whenever `parse` could do nothing else with it (no leading zero, no
# national prefix to strip), then typed once for validity and zones together. Anything
# else, and every invalid number (for the reference's reason text), takes the reference
# path. A number in national form, or bare digits, is read the same way when the
# campaign's region has a plain trunk prefix to strip (or none), per `bare_numbers`:
# in "check" mode bare digits in a region with a trunk prefix are typed both ways
# (national, and as if + were written) with the same tables. tests/test_cli.py and
# tests/unit/test_phone_reading.py check both paths give the same results.

_INTERNATIONAL = re.compile(r"\+[1-9][0-9]{6,16}")
_DIGITS = re.compile(r"[0-9]+")
_UNKNOWN = PhoneNumberType.UNKNOWN
#: Per region: (country code, trunk prefix or None, international prefix pattern or
#: None, whether the country code is this region's alone); None where numbers not
#: written with + take the reference path.
_rules: dict[str | None, tuple[str, str | None, re.Pattern[str] | None, bool] | None] = {}
_zone_filter: dict[tuple[str, ...], tuple[str, ...]] = {}


def phone_and_zones(raw: object, region: str | None, window: CallingWindow | None, tz: str | None,
                    campaign_tz: str, at: datetime,
                    bare_numbers: str = "check") -> tuple[str | None, str | None, tuple[str, ...]]:
    """(E.164 or None, why it is invalid or None, the zones its window is checked in):
    what `parse_phone(raw, region, bare_numbers)` and `resolve_zones` give, computed faster."""
    if bare_numbers != "check" and bare_numbers not in BARE_NUMBERS:
        check_bare_numbers(bare_numbers)
    fast: tuple[str, int, int] | None = None
    if isinstance(raw, str) and raw.lstrip().startswith("+"):
        fast = _read_international(raw)
    elif isinstance(raw, str) or type(raw) is int:  # an int: a CRM export that lost the +, bare digits
        written = _read_written(raw if isinstance(raw, str) else str(raw), region, bare_numbers)
        if isinstance(written, str):  # bare digits valid both ways: refused, the reason says which
            return None, written, resolve_zones(window, tz, None, campaign_tz, at=at)
        fast = written
    if fast is None:
        e164, reason = parse_phone(raw, region, bare_numbers)
        if e164 is None:
            return None, reason, resolve_zones(window, tz, None, campaign_tz, at=at)
        fast = _read_international(e164)
        if fast is None:  # pragma: no cover - a canonical number the fast path declines
            return e164, None, resolve_zones(window, tz, e164, campaign_tz, at=at)
    e164, country, ntype = fast
    if tz is not None and tz.strip():
        return e164, None, (validate_timezone(tz),)
    zones = _number_zones(e164, country, ntype)
    if not zones:
        return e164, None, (validate_timezone(campaign_tz),)
    if window is None or len(zones) == 1:
        return e164, None, zones
    # Several zones under a window: whether they share open time is resolve_zones' call.
    return e164, None, resolve_zones(window, None, e164, campaign_tz, at=at)


def _read_international(text: str, invalid_too: bool = False) -> tuple[str, int, int] | None:
    """(E.164, country code, number type) for a valid number in international form
    that `phonenumbers.parse` would read the same way; None to take the reference path.
    With `invalid_too`, a number parse reads that way but finds invalid comes back
    too, typed UNKNOWN."""
    compact = text.strip().replace(" ", "").replace("-", "")
    if not _INTERNATIONAL.fullmatch(compact):
        return None
    for length in (1, 2, 3):
        country = _COUNTRY_CODES.get(compact[1:1 + length])
        if country is not None:
            break
    else:
        return None
    national = compact[1 + length:]
    if national.startswith("0"):  # a leading zero is kept (Italy) or stripped: parse decides
        return None
    prefix = _national_prefix(country)
    if prefix is not None and prefix.match(national):  # parse would try to strip it: let it
        return None
    ntype = _number_type(country, national)
    if ntype == _UNKNOWN and not invalid_too:  # invalid: the reference path words the reason
        return None
    return compact, country, ntype


#: Country calling codes by their digits ("49" -> 49).
_COUNTRY_CODES = {str(code): code for code in COUNTRY_CODE_TO_REGION_CODE}
_national_prefixes: dict[int, re.Pattern[str] | None] = {}


def _national_prefix(country: int) -> re.Pattern[str] | None:
    """The national prefix `parse` strips from numbers of `country` (as a pattern);
    None when it has none."""
    if country not in _national_prefixes:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country, region_code_for_country_code(country))
        prefix = metadata.national_prefix_for_parsing if metadata is not None else None
        _national_prefixes[country] = re.compile(prefix) if prefix else None
    return _national_prefixes[country]


# -- phonenumbers' number_type, with its patterns compiled once ---------------------------
# `phonenumbers.number_type` walks up to a dozen number descriptions per number through
# several calls each (a regex-cache lookup per pattern): most of an import's CPU. The
# same walk, in the same order, over precompiled patterns gives the same answers
# (tests/test_cli.py compares the fast reading with `parse_phone` for every region).
# Each description's possible lengths are checked once per length, when its table for
# numbers of that length is built: a number then meets only the patterns it can match.

_TYPED_DESCS = (
    (PhoneNumberType.PREMIUM_RATE, "premium_rate"), (PhoneNumberType.TOLL_FREE, "toll_free"),
    (PhoneNumberType.SHARED_COST, "shared_cost"), (PhoneNumberType.VOIP, "voip"),
    (PhoneNumberType.PERSONAL_NUMBER, "personal_number"), (PhoneNumberType.PAGER, "pager"),
    (PhoneNumberType.UAN, "uan"), (PhoneNumberType.VOICEMAIL, "voicemail"),
)
_type_tables: dict[tuple[int, int], tuple[Any, ...]] = {}
_leading: dict[str, re.Pattern[str]] = {}
_compiled: dict[str, re.Pattern[str]] = {}


def _pattern_for(desc: Any, length: int) -> re.Pattern[str] | None:
    """The pattern of `desc` when a number of `length` digits can match it, else None
    (phonenumbers' `_is_number_matching_desc`, its length test done up front)."""
    if desc is None or not desc.national_number_pattern:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    text = desc.national_number_pattern
    pattern = _compiled.get(text)
    if pattern is None:
        pattern = _compiled[text] = re.compile(text)
    return pattern


def _type_table(metadata: Any, length: int) -> tuple[Any, ...]:
    key = (id(metadata), length)
    table = _type_tables.get(key)
    if table is None:
        table = _type_tables[key] = (
            _pattern_for(metadata.general_desc, length),
            tuple((ntype, pattern) for ntype, name in _TYPED_DESCS
                  if (pattern := _pattern_for(getattr(metadata, name), length)) is not None),
            _pattern_for(metadata.fixed_line, length), _pattern_for(metadata.mobile, length),
            bool(metadata.same_mobile_and_fixed_line_pattern),
            metadata,  # kept alive: its id is this table's key
        )
    return table


def _type_in(national: str, metadata: Any) -> int:
    """`phonenumbers`' `_number_type_helper`, over the compiled tables of `metadata`."""
    general, typed, fixed, mobile, same, _ = _type_table(metadata, len(national))
    if general is None or general.fullmatch(national) is None:
        return PhoneNumberType.UNKNOWN
    for ntype, pattern in typed:
        if pattern.fullmatch(national) is not None:
            return ntype
    if fixed is not None and fixed.fullmatch(national) is not None:
        both = same or (mobile is not None and mobile.fullmatch(national) is not None)
        return PhoneNumberType.FIXED_LINE_OR_MOBILE if both else PhoneNumberType.FIXED_LINE
    if not same and mobile is not None and mobile.fullmatch(national) is not None:
        return PhoneNumberType.MOBILE
    return PhoneNumberType.UNKNOWN


_single_region: dict[int, Any] = {}


def _number_type(country: int, national: str) -> int:
    """`phonenumbers.number_type` for a number without an Italian leading zero."""
    metadata = _single_region.get(country)
    if metadata is not None:
        return _type_in(national, metadata)
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country)
    if not regions:
        return PhoneNumberType.UNKNOWN
    region = regions[0] if len(regions) == 1 else None
    if region is None:  # several regions share the code (+1, +7 ...): the first that fits
        for candidate in regions:
            metadata = PhoneMetadata.metadata_for_region(candidate.upper(), None)
            if metadata is None:
                continue
            if metadata.leading_digits is not None:
                lead = _leading.get(metadata.leading_digits)
                if lead is None:
                    lead = _leading[metadata.leading_digits] = re.compile(metadata.leading_digits)
                if lead.match(national):
                    region = candidate
                    break
            elif _type_in(national, metadata) != PhoneNumberType.UNKNOWN:
                region = candidate
                break
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country, region)  # type: ignore[arg-type]  # None is fine, as in number_type
    if metadata is None:
        return PhoneNumberType.UNKNOWN
    if len(regions) == 1:
        _single_region[country] = metadata
    return _type_in(national, metadata)


def _read_written(text: str, region: str | None, bare_numbers: str) -> tuple[str, int, int] | str | None:
    """`_read_international` for a number not written with +, read as `parse_phone`
    reads it in `region` (a number in national form, `030 1234567` in DE, or bare
    digits per `bare_numbers`); the reason when bare digits are refused as ambiguous;
    None to take the reference path.

    Only where `parse` could read the digits one way: the region's prefix for parsing
    is its plain trunk prefix (or none), and the number starts neither with the
    international prefix (parse would strip it) nor, read nationally, with the
    country code (parse might strip that)."""
    try:
        rules = _rules[region]
    except KeyError:
        rules = _region_rules(region)
    if rules is None:
        return None
    country, trunk, idd, alone = rules
    text = text.strip()
    compact = text.replace(" ", "").replace("-", "")
    if not _DIGITS.fullmatch(compact) or text[0] == "-" or (idd is not None and idd.match(compact)):
        return None
    if trunk is not None and compact.startswith(trunk):  # national form
        if compact.startswith(country):
            return None
        return _read_international(f"+{country}{compact[len(trunk):]}")
    if bare_numbers == "international":
        return _read_international(f"+{compact}")
    if trunk is None or bare_numbers == "national":  # the national reading alone
        if compact.startswith(country):
            return None
        return _read_international(f"+{country}{compact}")
    # "check" where national numbers have a trunk prefix: valid one way only, or refused.
    # Bare digits that start with the country code: parse, reading them nationally, may
    # strip it, but only when the digits as they are cannot be a number of the region
    # (not its pattern, or too long); a country code of one region then makes the
    # national reading below invalid and parse's the international one: same answer.
    if not alone and compact.startswith(country):
        return None
    national = _read_international(f"+{country}{compact}", invalid_too=True)
    if national is None:
        return None
    international = _read_international(f"+{compact}", invalid_too=True)
    if international is None:
        return None
    if national[2] == _UNKNOWN:
        return international if international[2] != _UNKNOWN else None
    if international[2] == _UNKNOWN:
        return national
    return f"ambiguous: {national[0]} or {international[0]}"


def _region_rules(region: str | None) -> tuple[str, str | None, re.Pattern[str] | None, bool] | None:
    """(country code, trunk prefix or None, international prefix pattern, whether the
    country code is this region's alone) of a region whose prefix for parsing is its
    plain trunk prefix (or which has neither) and no transform rule; else None (and
    for no region)."""
    if region in _rules:
        return _rules[region]
    metadata = PhoneMetadata.metadata_for_region(region) if region else None
    rules = None
    if metadata is not None and metadata.country_code is not None:
        trunk = metadata.national_prefix or None
        prefix = metadata.national_prefix_for_parsing or None
        if prefix == trunk and (trunk is None or _DIGITS.fullmatch(trunk)) \
                and not metadata.national_prefix_transform_rule:
            country = str(metadata.country_code)
            idd = re.compile(metadata.international_prefix) if metadata.international_prefix else None
            alone = len(COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code, ())) == 1
            rules = (country, trunk if trunk != country else None, idd, alone)
    _rules[region] = rules
    return rules


def _number_zones(e164: str, country: int, ntype: int) -> tuple[str, ...]:
    """`dialstate.policy.zones_for_number` for a number already typed. A geographical
    number's zones are those of the longest prefix of its digits in phonenumbers' time
    zone table (`time_zones_for_geographical_number`, read from the E.164 text we
    already have); the others take the reference path."""
    if is_number_type_geographical(ntype, country):
        found: tuple[str, ...] = _UNKNOWN_ZONES
        for length in range(min(TIMEZONE_LONGEST_PREFIX, len(e164) - 1), 0, -1):
            zones = TIMEZONE_DATA.get(e164[1:1 + length])
            if zones is not None:
                found = tuple(zones)
                break
    else:
        number = PhoneNumber(country_code=country, national_number=int(e164[len(str(country)) + 1:]))
        found = tuple(time_zones_for_number(number))
    zones = _zone_filter.get(found)
    if zones is None:
        zones = _zone_filter[found] = tuple(sorted(z for z in found if z != UNKNOWN_TIMEZONE and is_known_zone(z)))
    return zones


_UNKNOWN_ZONES = (UNKNOWN_TIMEZONE,)
