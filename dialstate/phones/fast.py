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

from dialstate.phones.parse import parse_phone
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
# path. A number in national form is read the same way when the campaign's region has
# a plain national prefix to strip. tests/test_cli.py checks both give the same results.

_INTERNATIONAL = re.compile(r"\+[1-9][0-9]{6,16}")
_DIGITS = re.compile(r"[0-9]+")
_rules: dict[str, tuple[str, str | None, re.Pattern[str] | None] | None] = {}
_zone_filter: dict[tuple[str, ...], tuple[str, ...]] = {}


def phone_and_zones(raw: object, region: str | None, window: CallingWindow | None, tz: str | None,
                    campaign_tz: str, at: datetime) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(E.164 or None, why it is invalid or None, the zones its window is checked in):
    what `parse_phone` and `resolve_zones` give, computed faster."""
    fast = None
    if isinstance(raw, str):
        fast = _read_international(raw) if raw.lstrip().startswith("+") else _read_national(raw, region)
    if fast is None:
        e164, reason = parse_phone(raw, region)
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


def _read_international(text: str) -> tuple[str, int, int] | None:
    """(E.164, country code, number type) for a valid number in international form
    that `phonenumbers.parse` would read the same way; None to take the reference path."""
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
    if ntype == PhoneNumberType.UNKNOWN:  # invalid: the reference path words the reason
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


def _read_national(text: str, region: str | None) -> tuple[str, int, int] | None:
    """`_read_international` for a number in the national form of `region` (`030 1234567`
    in DE), when `parse` could only read it one way: the region's national prefix is a
    plain digit string, and the number starts neither with the international dialling
    prefix nor with the country code (parse would try those readings)."""
    rules = _national_rules(region) if region else None
    if rules is None:
        return None
    country, prefix, idd = rules
    compact = text.strip().replace(" ", "").replace("-", "")
    if not _DIGITS.fullmatch(compact) or compact.startswith(country) or (idd is not None and idd.match(compact)):
        return None
    if prefix and compact.startswith(prefix):
        compact = compact[len(prefix):]
    return _read_international(f"+{country}{compact}")


def _national_rules(region: str) -> tuple[str, str | None, re.Pattern[str] | None] | None:
    """(country code, national prefix, international prefix pattern) of a region whose
    national prefix is a plain digit string without a transform rule; else None."""
    if region in _rules:
        return _rules[region]
    metadata = PhoneMetadata.metadata_for_region(region)
    rules = None
    if metadata is not None and metadata.country_code is not None:
        prefix = metadata.national_prefix_for_parsing
        if (prefix is None or _DIGITS.fullmatch(prefix)) and not metadata.national_prefix_transform_rule:
            idd = re.compile(metadata.international_prefix) if metadata.international_prefix else None
            rules = (str(metadata.country_code), prefix, idd)
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
