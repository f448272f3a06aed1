"""Spec section 13, "Reading numbers the way people write them": `parse_phone`, the
import's fast path `phone_and_zones`, and `blacklist_key`.

Every expected number here is phonenumbers' own reading of the number written with
`+` (the reading the rule picks), never a literal E.164 typed by hand: a table row
names the `+` forms of the national and the international reading, and the test
checks which of them phonenumbers finds valid before checking what dialstate made of
the written number.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata

from dialstate import CallingWindow, ConfigurationError, InvalidPhone
from dialstate.phones import (
    BARE_NUMBERS,
    blacklist_key,
    check_bare_numbers,
    parse_phone,
    phone_and_zones,
    resolve_zones,
)
from dialstate.phones import fast as fast_module
from dialstate.phones.parse import NEEDS_REGION

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)
WINDOW = CallingWindow("09:00", "21:00")

NATIONAL, INTERNATIONAL, AMBIGUOUS, INVALID = "national", "international", "ambiguous", "invalid"


def e164(plus_form: str) -> str | None:
    """phonenumbers' reading of a number written with +: its E.164 when valid, else None."""
    try:
        number = phonenumbers.parse(plus_form, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def digits(written: object) -> str:
    return re.sub(r"[^0-9]", "", str(written))


def country_code(region: str) -> str:
    return str(PhoneMetadata.metadata_for_region(region).country_code)


def reference(raw: object, region: str | None, mode: str, window: CallingWindow | None = WINDOW,
              ) -> tuple[str | None, str | None, tuple[str, ...]]:
    e164_, reason = parse_phone(raw, region, mode)
    return e164_, reason, resolve_zones(window, None, e164_, "Europe/Berlin", at=AT)


def fast_reading(raw: object, region: str | None, mode: str, window: CallingWindow | None = WINDOW,
                 ) -> tuple[str | None, str | None, tuple[str, ...]]:
    return phone_and_zones(raw, region, window, None, "Europe/Berlin", AT, mode)


# -- numbers written with +, the international prefix or the trunk prefix -------------------------------------

#: (region, as written, the + form it means): read as written in every bare_numbers mode.
WRITTEN = [
    ("DE", "+44 7400 123456", "+44 7400 123456"),
    ("DE", "030 1234567", "+49 30 1234567"),
    ("DE", "0447400123456", "+49 447400123456"),  # the trunk prefix says national, so it is
    ("DE", "0049 30 1234567", "+49 30 1234567"),
    ("DE", "0044 7400 123456", "+44 7400 123456"),
    ("FR", "01 23 45 67 89", "+33 1 23 45 67 89"),
    ("FR", "0033 6 12 34 56 78", "+33 6 12 34 56 78"),
    ("GB", "020 7946 0958", "+44 20 7946 0958"),
    ("GB", "0049 30 1234567", "+49 30 1234567"),
    ("RU", "8 495 123-45-67", "+7 495 123 45 67"),
    ("RU", "8 912 345 67 89", "+7 912 345 67 89"),
    ("RU", "810 49 30 1234567", "+49 30 1234567"),
    ("US", "011 44 20 7946 0958", "+44 20 7946 0958"),
    ("CA", "011 49 30 1234567", "+49 30 1234567"),
    ("ES", "0044 20 7946 0958", "+44 20 7946 0958"),
    ("IT", "0033 6 12 34 56 78", "+33 6 12 34 56 78"),
    ("NL", "010 123 4567", "+31 10 123 4567"),
    ("NL", "0032 450 00 12 34", "+32 450 00 12 34"),
    ("BE", "012 34 56 78", "+32 12 34 56 78"),
    ("AT", "01 234567890", "+43 1 234567890"),
    ("CH", "021 234 56 78", "+41 21 234 56 78"),
    ("CH", "0049 151 23456789", "+49 151 23456789"),
    ("PL", "00 49 30 1234567", "+49 30 1234567"),
    ("BR", "011 96123 4567", "+55 11 96123 4567"),
    ("BR", "0021 44 20 7946 0958", "+44 20 7946 0958"),  # the international prefix with a carrier code
    ("AU", "02 1234 5678", "+61 2 1234 5678"),
    ("AU", "0011 44 20 7946 0958", "+44 20 7946 0958"),
    ("IN", "07410 410123", "+91 7410 410123"),
    ("JP", "03-1234-5678", "+81 3 1234 5678"),
    ("JP", "010 44 20 7946 0958", "+44 20 7946 0958"),
    ("MX", "00 44 20 7946 0958", "+44 20 7946 0958"),
    (None, "+49 30 1234567", "+49 30 1234567"),
]


@pytest.mark.parametrize("mode", BARE_NUMBERS)
@pytest.mark.parametrize(("region", "written", "plus_form"), WRITTEN)
def test_a_number_written_with_a_plus_or_a_prefix_is_read_as_written_in_every_mode(
        region: str | None, written: str, plus_form: str, mode: str) -> None:
    expected = e164(plus_form)
    assert expected is not None, f"the table's {plus_form} is not a valid number"
    assert parse_phone(written, region, mode) == (expected, None)
    assert fast_reading(written, region, mode) == reference(written, region, mode)


# -- bare digits where national numbers are written with a trunk prefix ----------------------------------------

#: (region, bare digits as written, + form of the national reading, + form of the
#: international reading, which one "check" picks).
BARE_WITH_TRUNK_PREFIX = [
    ("DE", "30 1234567", "+49 30 1234567", "+30 1234567", NATIONAL),
    ("DE", "447400123456", "+49 447400123456", "+44 7400 123456", AMBIGUOUS),  # never silently German
    ("DE", 447400123456, "+49 447400123456", "+44 7400 123456", AMBIGUOUS),  # an int that lost its +
    ("DE", "15123456789", "+49 1512 3456789", "+1 512 345 6789", AMBIGUOUS),
    ("DE", "12015550123", "+49 12015550123", "+1 201 555 0123", INTERNATIONAL),
    ("DE", 12015550123, "+49 12015550123", "+1 201 555 0123", INTERNATIONAL),
    ("DE", "31612345678", "+49 31612345678", "+31 6 12345678", INTERNATIONAL),
    ("DE", "4930 1234567", "+49 4930 1234567", "+49 30 1234567", INTERNATIONAL),  # the own country code
    ("DE", "523", "+49 523", "+523", INVALID),
    ("FR", "6 12 34 56 78", "+33 6 12 34 56 78", "+6 12 34 56 78", NATIONAL),
    ("FR", "447400123456", "+33 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("FR", "376 712 345", "+33 376 712 345", "+376 712 345", AMBIGUOUS),
    ("GB", "20 7946 0958", "+44 20 7946 0958", "+20 7946 0958", NATIONAL),
    ("GB", "4915123456789", "+44 4915123456789", "+49 1512 3456789", INTERNATIONAL),
    ("GB", "44 20 7946 0958", "+44 44 20 7946 0958", "+44 20 7946 0958", INTERNATIONAL),
    ("GB", "372 321 2345", "+44 372 321 2345", "+372 321 2345", AMBIGUOUS),
    ("RU", "9123456789", "+7 912 345 67 89", "+91 23456789", NATIONAL),
    ("RU", "4951234567", "+7 495 123 45 67", "+49 51234567", AMBIGUOUS),
    ("RU", "495 123-45-67", "+7 495 123 45 67", "+49 51234567", AMBIGUOUS),
    ("RU", "447400123456", "+7 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("RU", "7 495 123 45 67", "+7 7 495 123 45 67", "+7 495 123 45 67", INTERNATIONAL),
    ("NL", "6 12345678", "+31 6 12345678", "+6 12345678", NATIONAL),
    ("NL", "447400123456", "+31 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("NL", "299 321000", "+31 299 321000", "+299 321000", AMBIGUOUS),
    ("BE", "450 00 12 34", "+32 450 00 12 34", "+450 00 12 34", NATIONAL),
    ("BE", "447400123456", "+32 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("BE", "682 21234", "+32 682 21234", "+682 21234", AMBIGUOUS),
    ("AT", "664 123456", "+43 664 123456", "+664 123456", NATIONAL),
    ("AT", "447400123456", "+43 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("AT", "12015550123", "+43 12015550123", "+1 201 555 0123", AMBIGUOUS),
    ("CH", "78 123 45 67", "+41 78 123 45 67", "+78 123 45 67", NATIONAL),
    ("CH", "4915123456789", "+41 4915123456789", "+49 1512 3456789", INTERNATIONAL),
    ("CH", "687 201234", "+41 687 201234", "+687 201234", AMBIGUOUS),
    ("BR", "(11) 96123-4567", "+55 11 96123 4567", "+11 96123 4567", NATIONAL),
    ("BR", "447400123456", "+55 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("BR", "359 4301 2345", "+55 359 4301 2345", "+359 4301 2345", AMBIGUOUS),
    ("AU", "412 345 678", "+61 412 345 678", "+412 345 678", NATIONAL),
    ("AU", "447400123456", "+61 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("AU", "298 201234", "+61 298 201234", "+298 201234", AMBIGUOUS),
    ("IN", "81234 56789", "+91 81234 56789", "+81 234 56789", NATIONAL),
    ("IN", "447400123456", "+91 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("IN", "32 1234 5678", "+91 32 1234 5678", "+32 1234 5678", AMBIGUOUS),
    ("JP", "90 1234 5678", "+81 90 1234 5678", "+90 1234 5678", NATIONAL),
    ("JP", "447400123456", "+81 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("JP", "501 222 1234", "+81 501 222 1234", "+501 222 1234", AMBIGUOUS),
    ("KZ", "7123456789", "+7 712 345 6789", "+71 23456789", NATIONAL),
    ("KZ", "447400123456", "+7 447400123456", "+44 7400 123456", INTERNATIONAL),
]

#: Which of (national, international) phonenumbers finds valid, for each outcome of "check".
VALID_READINGS = {NATIONAL: (True, False), INTERNATIONAL: (False, True), AMBIGUOUS: (True, True),
                  INVALID: (False, False)}


@pytest.mark.parametrize(("region", "written", "national", "international", "outcome"), BARE_WITH_TRUNK_PREFIX)
def test_bare_digits_where_national_numbers_have_a_trunk_prefix_are_read_the_one_way_that_is_valid(
        region: str, written: object, national: str, international: str, outcome: str) -> None:
    assert digits(national) == country_code(region) + digits(written), "the table's national reading"
    assert digits(international) == digits(written), "the table's international reading"
    national_e164, international_e164 = e164(national), e164(international)
    assert (national_e164 is not None, international_e164 is not None) == VALID_READINGS[outcome]
    got = parse_phone(written, region)
    if outcome == NATIONAL:
        assert got == (national_e164, None)
    elif outcome == INTERNATIONAL:
        assert got == (international_e164, None)
    elif outcome == AMBIGUOUS:
        assert got == (None, f"ambiguous: {national_e164} or {international_e164}")
    else:
        assert got[0] is None and got[1] is not None and "ambiguous" not in got[1]
    assert parse_phone(written, region, "check") == got  # "check" is the default


def test_447400123456_in_a_german_campaign_is_ambiguous_and_never_silently_german() -> None:
    e164_, reason = parse_phone("447400123456", "DE")
    assert e164_ is None
    assert reason == "ambiguous: +49447400123456 or +447400123456"


def test_a_russian_number_without_its_trunk_prefix_that_is_also_a_german_one_names_both() -> None:
    assert parse_phone("4951234567", "RU") == (None, "ambiguous: +74951234567 or +4951234567")
    assert parse_phone("8 495 123 45 67", "RU") == ("+74951234567", None)  # the trunk prefix settles it
    assert parse_phone("+49 5123 4567", "RU") == ("+4951234567", None)


# -- bare digits elsewhere: NANP, and regions without a trunk prefix ---------------------------------------------

#: (region, bare digits as written, + form of the national reading, + form of the
#: international reading, which one "check" picks).
BARE_ELSEWHERE = [
    ("US", "3235550123", "+1 323 555 0123", "+32 35550123", NATIONAL),  # LA, though Belgium has it too
    ("US", "(323) 555-0123", "+1 323 555 0123", "+32 35550123", NATIONAL),
    ("US", 3235550123, "+1 323 555 0123", "+32 35550123", NATIONAL),
    ("US", "1 323 555 0123", "+1 323 555 0123", "+1 323 555 0123", NATIONAL),  # NANP's trunk prefix is its code
    ("US", "447400123456", "+1 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("US", 4930123456, "+1 4930123456", "+49 30 123456", INTERNATIONAL),
    ("US", "523", "+1 523", "+523", INVALID),
    ("CA", "506 234 5678", "+1 506 234 5678", "+506 234 5678", NATIONAL),
    ("CA", "447400123456", "+1 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("ES", "612 34 56 78", "+34 612 34 56 78", "+612 34 56 78", NATIONAL),
    ("ES", "447400123456", "+34 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("IT", "06 1234 5678", "+39 06 1234 5678", "+06 1234 5678", NATIONAL),  # Italy keeps its leading 0
    ("IT", "312 345 6789", "+39 312 345 6789", "+31 23456789", NATIONAL),
    ("IT", "33612345678", "+39 336 12345678", "+33 6 12 34 56 78", NATIONAL),  # valid both ways: national first
    ("IT", "447400123456", "+39 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("PL", "512 345 678", "+48 512 345 678", "+512 345 678", NATIONAL),
    ("PL", "447400123456", "+48 447400123456", "+44 7400 123456", INTERNATIONAL),
    ("MX", "222 123 4567", "+52 222 123 4567", "+222 123 4567", NATIONAL),
    ("MX", "447400123456", "+52 447400123456", "+44 7400 123456", INTERNATIONAL),
]


@pytest.mark.parametrize(("region", "written", "national", "international", "outcome"), BARE_ELSEWHERE)
def test_bare_digits_without_a_trunk_prefix_rule_are_national_when_valid_and_else_international(
        region: str, written: object, national: str, international: str, outcome: str) -> None:
    code = country_code(region)
    assert digits(national) in (code + digits(written), digits(written)), "the table's national reading"
    assert digits(international) == digits(written), "the table's international reading"
    national_e164, international_e164 = e164(national), e164(international)
    got = parse_phone(written, region)
    if outcome == NATIONAL:
        assert national_e164 is not None
        assert got == (national_e164, None)
    elif outcome == INTERNATIONAL:
        assert (national_e164, international_e164 is not None) == (None, True)
        assert got == (international_e164, None)
    else:
        assert (national_e164, international_e164) == (None, None)
        assert got[0] is None and got[1] is not None


def test_3235550123_in_a_us_campaign_stays_a_los_angeles_number() -> None:
    assert parse_phone("3235550123", "US") == ("+13235550123", None)
    assert e164("+3235550123") is not None  # a Belgian number too: the national reading wins in NANP
    assert zones_of("3235550123", "US") == ("America/Los_Angeles",)


def test_an_italian_number_keeps_its_leading_zero_in_every_mode_but_international() -> None:
    assert parse_phone("06 1234 5678", "IT") == ("+390612345678", None)
    assert parse_phone("06 1234 5678", "IT", "national") == ("+390612345678", None)
    e164_, reason = parse_phone("06 1234 5678", "IT", "international")
    assert e164_ is None and reason is not None and "+0612345678" in reason and "international" in reason


def zones_of(raw: object, region: str) -> tuple[str, ...]:
    e164_, _, zones = fast_reading(raw, region, "check", window=None)
    return zones if e164_ is not None else ()


# -- the three modes on the same inputs ---------------------------------------------------------------------------

BARE = [row[:4] for row in BARE_WITH_TRUNK_PREFIX + BARE_ELSEWHERE]


def phonenumbers_national_reading(written: object, region: str) -> str | None:
    """What phonenumbers makes of the digits with the region (dialstate's reading of
    every number before section 13)."""
    try:
        number = phonenumbers.parse(str(written), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize(("region", "written", "national", "international"), BARE)
def test_bare_numbers_national_always_takes_the_national_reading(
        region: str, written: object, national: str, international: str) -> None:
    expected = phonenumbers_national_reading(written, region)
    e164_, reason = parse_phone(written, region, "national")
    assert e164_ == expected
    assert (reason is None) == (expected is not None)
    if expected is not None and digits(national) == country_code(region) + digits(written):
        # The national reading is the national + form unless phonenumbers took the
        # region's own country code off the front (`4930 1234567` in DE).
        assert expected in (e164(national), e164(international))


@pytest.mark.parametrize(("region", "written", "national", "international"), BARE)
def test_bare_numbers_international_always_reads_the_digits_as_if_a_plus_were_written(
        region: str, written: object, national: str, international: str) -> None:
    expected = e164(international)
    e164_, reason = parse_phone(written, region, "international")
    assert e164_ == expected
    if expected is None:
        assert reason == (f"the number is not a valid number read as international (+{digits(written)}, "
                          "bare_numbers='international')")


@pytest.mark.parametrize(("region", "written", "national", "international"), BARE)
def test_check_gives_the_national_or_the_international_reading_or_refuses_the_number(
        region: str, written: object, national: str, international: str) -> None:
    e164_, reason = parse_phone(written, region, "check")
    if e164_ is not None:
        assert e164_ in (parse_phone(written, region, "national")[0], parse_phone(written, region, "international")[0])
    else:
        assert reason is not None


@pytest.mark.parametrize(("region", "written", "national", "international"), BARE)
@pytest.mark.parametrize("mode", BARE_NUMBERS)
def test_the_fast_path_reads_every_table_row_as_parse_phone_does(
        region: str, written: object, national: str, international: str, mode: str) -> None:
    for window in (None, WINDOW):
        assert fast_reading(written, region, mode, window) == reference(written, region, mode, window)


def test_a_german_campaign_in_each_mode() -> None:
    assert [parse_phone("447400123456", "DE", mode) for mode in BARE_NUMBERS] == [
        (None, "ambiguous: +49447400123456 or +447400123456"),
        ("+49447400123456", None),
        ("+447400123456", None),
    ]
    assert [parse_phone("030 1234567", "DE", mode)[0] for mode in BARE_NUMBERS] == ["+49301234567"] * 3


def test_without_a_region_only_the_international_mode_reads_bare_digits() -> None:
    assert parse_phone("447400123456", None, "international") == ("+447400123456", None)
    for mode in ("check", "national"):
        e164_, reason = parse_phone("447400123456", None, mode)
        assert e164_ is None and reason is not None and "no default region" in reason
    assert parse_phone("+44 7400 123456", None) == ("+447400123456", None)


# -- what is not a number -----------------------------------------------------------------------------------------

#: (as written, words the reason must contain).
NOT_A_NUMBER: list[tuple[object, tuple[str, ...]]] = [
    ("-4930123456", ("minus sign",)),
    ("-49 30 1234567", ("minus sign",)),
    (" -030 1234567", ("minus sign",)),
    (-4930123456, ("minus sign",)),
    ("\u22124930123456", ("minus sign",)),
    ("030 1234567 ext. 42", ("extension", "'ext. 42'")),
    ("030 1234567 extension 42", ("extension", "'extension 42'")),
    ("+1 212 555 0123 x99", ("extension", "'x99'")),
    ("+12125550123;ext=5", ("extension", "';ext=5'")),
    ("030 1234567#123", ("extension", "'#123'")),
    ("030 1234567 EXT 7", ("extension", "'EXT 7'")),
    ("-030 1234567 ext. 42", ("extension", "'ext. 42'")),
    ("030#1234567", ("other characters", "'#'")),  # too few digits before the # for a number
    ("+49 30 1234567 ext", ("letters", "'etx'")),  # no extension without its digits
    ("030 CALL NOW", ("letters", "'ACLNOW'")),
    ("1-800-FLOWERS", ("letters",)),
    ("Fax 99", ("letters",)),
    ("ext. 42", ("letters",)),
    ("030_1234567", ("other characters", "'_'")),
    ("030*1234567", ("other characters", "'*'")),
    ("(+49) 30 1234567", ("+", "not at its start")),
    ("", ("blank",)),
    ("   ", ("blank",)),
    (None, ("blank",)),
    ("()", ("no digits",)),
    ("---", ("no digits",)),
    ("+", ("no digits",)),
    (4930123456.0, ("float", "not text")),
    (True, ("bool", "not text")),
    ("0", ("cannot be parsed", "not a number")),
    ("00", ("cannot be parsed", "too short")),
    ("+49 30", ("not a valid number",)),
]


@pytest.mark.parametrize("mode", BARE_NUMBERS)
@pytest.mark.parametrize(("raw", "words"), NOT_A_NUMBER)
def test_a_minus_sign_letters_an_extension_or_other_characters_make_the_number_invalid_with_the_reason_in_words(
        raw: object, words: tuple[str, ...], mode: str) -> None:
    e164_, reason = parse_phone(raw, "DE", mode)
    assert e164_ is None and reason is not None
    for word in words:
        assert word in reason, reason
    assert fast_reading(raw, "DE", mode) == reference(raw, "DE", mode)


def test_the_reasons_of_today_are_kept_word_for_word() -> None:
    assert parse_phone("", "DE") == (None, "the number is blank")
    assert parse_phone("12", "DE") == (None, "the number is not a valid number (DE)")
    assert parse_phone("030 12O4567", "DE") == (
        None, "the number contains letters ('O'); only digits, spaces, + - ( ) . / are allowed")
    assert parse_phone("030 1234567", None) == (
        None, "the number cannot be parsed (no country code and no default region to read it with)")


# -- the setting --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", BARE_NUMBERS)
def test_check_bare_numbers_gives_back_each_allowed_value(value: str) -> None:
    assert check_bare_numbers(value) == value


@pytest.mark.parametrize("value", ["Check", "", "nationally", None, 1, ("check",)])
def test_check_bare_numbers_refuses_anything_else_naming_it_and_the_allowed_values(value: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_bare_numbers(value)
    message = str(caught.value)
    assert repr(value) in message
    for allowed in BARE_NUMBERS:
        assert repr(allowed) in message


def test_a_reading_with_an_unknown_bare_numbers_setting_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="'guess'"):
        parse_phone("030 1234567", "DE", "guess")
    with pytest.raises(ConfigurationError, match="'guess'"):
        phone_and_zones("030 1234567", "DE", None, None, "Europe/Berlin", AT, "guess")
    with pytest.raises(ConfigurationError, match="'guess'"):
        blacklist_key("+49 30 1234567", None, "guess")


# -- the blacklist ------------------------------------------------------------------------------------------------


def test_blacklist_key_reads_a_number_with_a_plus_without_a_region() -> None:
    assert blacklist_key("+49 30 1234567", None) == "+49301234567"
    assert blacklist_key(" +1 (212) 555-0123 ", None) == "+12125550123"


def test_blacklist_key_reads_a_national_number_with_its_region_and_mode() -> None:
    assert blacklist_key("030 1234567", "DE") == "+49301234567"
    assert blacklist_key("030 1234567", "de") == "+49301234567"
    assert blacklist_key("212-555-9999", "US") == "+12125559999"
    assert blacklist_key("447400123456", "DE", "international") == "+447400123456"
    assert blacklist_key("447400123456", "DE", "national") == "+49447400123456"


@pytest.mark.parametrize("raw", ["030 1234567", "447400123456", 447400123456, "0044 7400 123456"])
def test_blacklist_key_of_a_number_without_a_plus_and_no_region_asks_for_a_region(raw: object) -> None:
    with pytest.raises(InvalidPhone) as caught:
        blacklist_key(raw, None)
    assert caught.value.reason == NEEDS_REGION
    assert caught.value.phone == raw
    assert "region='DE'" in str(caught.value) and "campaign_id=" in str(caught.value)


@pytest.mark.parametrize(("raw", "region", "words"), [
    ("447400123456", "DE", "ambiguous: +49447400123456 or +447400123456"),
    ("not a number", "DE", "letters"),
    ("not a number", None, "letters"),  # what is wrong with it comes before the missing region
    ("", None, "blank"),
    ("-4930123456", "DE", "minus sign"),
    ("030 1234567 x99", "DE", "extension"),
    ("+49 30", None, "not a valid number"),
    ("030 1234567", "XX", "region 'XX'"),
])
def test_blacklist_key_of_an_invalid_number_raises_invalid_phone_with_parse_phones_reason(
        raw: object, region: str | None, words: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        blacklist_key(raw, region)
    assert words in caught.value.reason
    if region == "DE":
        assert caught.value.reason == parse_phone(raw, region)[1]


# -- the fast path gives the reference's answers ------------------------------------------------------------------

READ_IN = ("DE", "FR", "GB", "RU", "KZ", "US", "CA", "IT", "ES", "NL", "AT", "BR", "JP", "MX", "GG")


def _examples() -> list[tuple[str, str, str, str]]:
    """(region, E.164 digits, national significant digits, national form) of every
    region's example fixed-line and mobile numbers."""
    examples = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                examples.append((region, phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[1:],
                                 phonenumbers.national_significant_number(example),
                                 phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)))
    return examples


EXAMPLES = _examples()


def _corpus() -> list[tuple[object, str]]:
    """Every region's example numbers, written as a CRM export may have them (without
    their +, as an int, their national digits bare, in national form, with the
    international prefix of a region that dials 00, and some near misses), each with
    the region it comes from."""
    inputs: list[tuple[object, str]] = []
    for region, full, national, national_form in EXAMPLES:
        for raw in (full, int(full), national, full[:-1], full + "7", "00" + full, national_form):
            inputs.append((raw, region))
    return inputs


CORPUS = _corpus()


@pytest.mark.parametrize("mode", BARE_NUMBERS)
def test_the_fast_path_agrees_with_parse_phone_and_resolve_zones_on_bare_digits_in_every_mode(mode: str) -> None:
    for index, (raw, own) in enumerate(CORPUS):
        window = WINDOW if index % 2 else None
        for region in (own, READ_IN[index % len(READ_IN)], READ_IN[(index + 7) % len(READ_IN)]):
            assert fast_reading(raw, region, mode, window) == reference(raw, region, mode, window), (raw, region)


@settings(max_examples=1000, deadline=None)
@given(
    body=st.one_of(st.text(alphabet="0123456789", min_size=1, max_size=17),
                   st.sampled_from([full for _, full, _, _ in EXAMPLES]),
                   st.sampled_from([national for _, _, national, _ in EXAMPLES])),
    start=st.sampled_from(["", "", "", "+", "0", "00", "011", "8", "810", "1", "49", "44", "7", "-", " "]),
    spaced=st.booleans(),
    as_int=st.booleans(),
    region=st.sampled_from([*READ_IN, "CH", "BE", "PL", "IN", "AU", "AG", "JE", "IM", None]),
    mode=st.sampled_from(BARE_NUMBERS),
    window=st.sampled_from([None, WINDOW]),
)
def test_the_fast_path_and_the_reference_agree_on_any_digits_in_any_region(
        body: str, start: str, spaced: bool, as_int: bool, region: str | None, mode: str,
        window: CallingWindow | None) -> None:
    text = start + (" ".join(body[i:i + 3] for i in range(0, len(body), 3)) if spaced else body)
    raw: object = int(text) if as_int and text.strip().lstrip("-").isdigit() else text
    assert fast_reading(raw, region, mode, window) == reference(raw, region, mode, window)


@pytest.mark.parametrize(("raw", "mode", "expected"), [
    ("+49 30 1234567", "check", ("+49301234567", None)),
    ("030 1234567", "check", ("+49301234567", None)),
    ("30 1234567", "check", ("+49301234567", None)),
    ("12015550123", "check", ("+12015550123", None)),
    (12015550123, "check", ("+12015550123", None)),
    ("447400123456", "check", (None, "ambiguous: +49447400123456 or +447400123456")),
    ("447400123456", "national", ("+49447400123456", None)),
    ("447400123456", "international", ("+447400123456", None)),
])
def test_the_fast_path_reads_bare_digits_in_a_trunk_prefix_region_without_phonenumbers_parse(
        monkeypatch: pytest.MonkeyPatch, raw: object, mode: str, expected: tuple[str | None, str | None]) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the reference path was taken")

    monkeypatch.setattr(fast_module, "parse_phone", refuse)
    monkeypatch.setattr(phonenumbers, "parse", refuse)
    e164_, reason, _ = fast_reading(raw, "DE", mode)
    assert (e164_, reason) == expected
