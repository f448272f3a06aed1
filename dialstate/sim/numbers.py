"""A realistic contact list: numbers in a few countries and time zones, written the
way CRM exports write them, with a few bad rows and duplicates."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import phonenumbers

#: (country, weight, region, international prefix, number ranges): each range is a
#: national prefix (after the country code) and how many subscriber digits follow.
COUNTRIES: tuple[tuple[str, float, str, str, tuple[tuple[str, int], ...]], ...] = (
    ("Germany", 0.50, "DE", "49", (("30", 7), ("30", 8), ("89", 7), ("40", 7), ("221", 7), ("69", 7),
                                   ("151", 8), ("160", 7), ("170", 7), ("176", 8))),
    ("Austria", 0.08, "AT", "43", (("1", 7), ("316", 6), ("664", 7))),
    ("United Kingdom", 0.12, "GB", "44", (("20", 8), ("161", 7), ("7700", 6), ("7911", 6))),
    ("France", 0.10, "FR", "33", (("1", 8), ("4", 8), ("6", 8))),
    ("United States", 0.20, "US", "1", (("212", 7), ("718", 7), ("312", 7), ("303", 7), ("415", 7),
                                        ("206", 7), ("305", 7))),
)
FIRST = ("Ada", "Ben", "Chloé", "Deniz", "Emil", "Fatima", "Gustav", "Hana", "Ivan", "Jule", "Karim", "Lena",
         "Mateo", "Nora", "Oskar", "Pia", "Quentin", "Rosa", "Sven", "Tara")
LAST = ("Albrecht", "Brown", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Huber", "Ivanova", "Jansen",
        "Klein", "Lopez", "Martin", "Nowak", "Okafor", "Petit", "Quinn", "Richter", "Smith", "Wagner")
SEGMENTS = ("renewal", "lapsed", "upsell", "winback")

#: Shares of the rows that are not clean contacts.
INVALID_SHARE = 0.015
DUPLICATE_SHARE = 0.01
VIP_SHARE = 0.08


@dataclass(frozen=True)
class Person:
    """What the simulated world knows of a contact and the dialer cannot: whether
    the number is dead and how likely the person is to pick up."""

    reachability: float
    dead: bool


def generate(rng: random.Random, count: int) -> tuple[list[dict[str, Any]], dict[str, Person]]:
    """`count` rows for `add_contacts`, and the hidden truth per E.164 number."""
    rows: list[dict[str, Any]] = []
    people: dict[str, Person] = {}
    numbers: list[tuple[str, str]] = []  # (as written, E.164) of the rows so far
    weights = [c[1] for c in COUNTRIES]
    for i in range(count):
        roll = rng.random()
        data = {"name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "segment": rng.choice(SEGMENTS)}
        row: dict[str, Any] = {"external_id": f"crm-{i + 1:06d}", "data": data}
        if roll < INVALID_SHARE:
            row["phone"] = _bad_number(rng)
        elif roll < INVALID_SHARE + DUPLICATE_SHARE and numbers:
            written, e164 = rng.choice(numbers)
            row["phone"] = e164 if written != e164 else written  # the same number, maybe written otherwise
        else:
            country = rng.choices(COUNTRIES, weights)[0]
            written, e164 = _number(rng, country)
            numbers.append((written, e164))
            row["phone"] = written
            people[e164] = Person(reachability=rng.choice((0.15, 0.3, 0.45, 0.6, 0.75)), dead=rng.random() < 0.03)
        if rng.random() < VIP_SHARE:
            row["priority"] = 5
        rows.append(row)
    return rows, people


def _number(rng: random.Random, country: tuple[str, float, str, str, tuple[tuple[str, int], ...]]) -> tuple[str, str]:
    """A valid number of `country`: (as a CRM would have written it, E.164)."""
    _, _, region, code, ranges = country
    while True:
        prefix, digits = rng.choice(ranges)
        subscriber = str(rng.randrange(2 * 10 ** (digits - 1), 10 ** digits))
        e164 = f"+{code}{prefix}{subscriber}"
        number = phonenumbers.parse(e164, None)
        if phonenumbers.is_valid_number(number):
            break
    style = rng.random()
    if region == "DE" and style < 0.4:  # German numbers often come in national form
        return f"0{prefix} {subscriber}", e164
    if style < 0.8:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL), e164
    return e164, e164


def _bad_number(rng: random.Random) -> str:
    """A row a CRM export really contains: blank, a typo with a letter, too short."""
    return rng.choice(("", "n/a", f"030 12{rng.randrange(10)}O{rng.randrange(1000, 9999)}",
                       str(rng.randrange(100, 99999)), "+49 (0) 30 --"))
