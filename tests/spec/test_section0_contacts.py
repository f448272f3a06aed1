"""Spec section 0: campaigns and contacts — `create_campaign`, `add_contacts` (phones in
E.164, invalid and blacklisted records, duplicates, the report, dict rows, streaming,
rejects told as they happen, adapters, preparation in worker processes),
`create_campaign_with_contacts` and `pause_campaign` / `resume_campaign` /
`cancel_campaign`."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from dialstate import (
    CallingWindow,
    CampaignNotFound,
    ConfigurationError,
    ContactState,
    DialMode,
    DialstateError,
    Engine,
    InvalidArgument,
    Outcome,
    RetryPolicy,
    SkipRow,
)
from dialstate.engine import importer
from dialstate.testing import VirtualClock
from tests.support import assert_history_continuous, new_campaign, new_contact, walk_to

S = ContactState


#: The settings of a campaign that reads national numbers as German ones.
GERMAN: dict[str, Any] = {"timezone": "Europe/Berlin", "default_region": "DE"}


def first_note(engine: Engine, contact_id: int) -> str:
    entry = engine.history(contact_id)[0]
    assert entry.from_state is None and entry.trigger == "add"
    return entry.note or ""


# -- phones ---------------------------------------------------------------------------

VALID = [
    pytest.param("+49 30 1234567", "+49301234567", id="international"),
    pytest.param("030 1234567", "+49301234567", id="national-with-default-region"),
    pytest.param("(030) 123-4567", "+49301234567", id="punctuated"),
    pytest.param("0049 30 1234567", "+49301234567", id="idd-prefix"),
    pytest.param("030/1234567", "+49301234567", id="slash"),
    pytest.param("  030 1234567\t", "+49301234567", id="surrounding-blanks"),
    pytest.param("+1 212 555 0100", "+12125550100", id="foreign-international"),
    pytest.param("0151 23456789", "+4915123456789", id="mobile"),
]


@pytest.mark.parametrize(("raw", "e164"), VALID)
def test_a_valid_number_is_stored_in_e164_read_with_the_campaigns_default_region(
    sqlite_engine: Engine, raw: str, e164: str
) -> None:
    engine = sqlite_engine
    campaign = new_campaign(engine, **GERMAN)
    report = engine.add_contacts(campaign, [raw])
    contact = engine.get_contact(report.contact_ids[0])
    assert (contact.phone, contact.state) == (e164, S.READY)
    assert (report.added, report.invalid, report.blacklisted, report.duplicates) == (1, 0, 0, 0)
    assert engine.history(contact.id)[0].note is None


def test_the_same_national_number_means_another_e164_in_a_campaign_of_another_region(engine: Engine) -> None:
    german = new_campaign(engine, **GERMAN)
    austrian = engine.create_campaign("Wien", timezone="Europe/Vienna", default_region="AT").id
    de = engine.get_contact(engine.add_contacts(german, ["0151 23456789"]).contact_ids[0])
    at = engine.get_contact(engine.add_contacts(austrian, ["0151 23456789"]).contact_ids[0])
    assert (de.phone, de.state) == ("+4915123456789", S.READY)
    assert (at.phone, at.state) == ("+4315123456789", S.READY)


BLANK = ("blank", "empty")
LETTERS = ("letter",)
OTHER = ("character",)
NOT_VALID = ("not a valid", "invalid", "too short", "cannot be parsed", "no digits", "not a number")
INVALID = [
    # (raw, words of which the reason in the first history note must contain one)
    pytest.param("", BLANK, id="empty"),
    pytest.param("   ", BLANK, id="only-spaces"),
    pytest.param(None, BLANK, id="none"),
    pytest.param("1-800-FLOWERS", LETTERS, id="vanity-letters"),
    pytest.param("030 12a4567", LETTERS, id="one-letter"),
    pytest.param("+49 30 1234567 ext", LETTERS, id="trailing-word"),
    pytest.param("030#1234567", OTHER, id="hash"),
    pytest.param("030*1234567", OTHER, id="star"),
    pytest.param("030 1234567!", OTHER, id="exclamation"),
    pytest.param("---", NOT_VALID, id="punctuation-only"),
    pytest.param("123", NOT_VALID, id="too-short-national"),
    pytest.param("+49 1", NOT_VALID, id="too-short-international"),
    pytest.param("+999 1234567", NOT_VALID, id="unknown-country-code"),
    pytest.param("0000 0000000", NOT_VALID, id="impossible-digits"),
]


@pytest.mark.parametrize(("raw", "reason"), INVALID)
def test_a_blank_lettered_odd_or_invalid_number_is_added_as_invalid_record_with_the_reason(
    sqlite_engine: Engine, raw: str | None, reason: tuple[str, ...]
) -> None:
    engine = sqlite_engine
    campaign = new_campaign(engine, **GERMAN)
    report = engine.add_contacts(campaign, [raw])
    assert (report.added, report.invalid, report.blacklisted, report.duplicates) == (1, 1, 0, 0)
    contact = engine.get_contact(report.contact_ids[0])
    assert contact.state is S.INVALID_RECORD
    note = first_note(engine, contact.id)
    assert any(word in note.lower() for word in reason), note
    # the phone is kept as given (E.164 only exists for valid numbers)
    assert contact.phone == ("" if raw is None else raw)
    assert_history_continuous(engine, contact.id)


def test_a_number_with_letters_is_invalid_even_where_a_keypad_would_read_them_as_digits(engine: Engine) -> None:
    us = engine.create_campaign("US", default_region="US").id
    report = engine.add_contacts(us, ["1-800-FLOWERS", "1-800-356-9377"])
    flowers, digits = (engine.get_contact(c) for c in report.contact_ids)
    assert flowers.state is S.INVALID_RECORD
    assert digits.state is S.READY and digits.phone == "+18003569377"
    assert report.duplicates == 0, "the lettered record must not be read as 1-800-356-9377"


def test_a_blacklisted_number_is_added_as_blacklisted_however_it_is_written(engine: Engine) -> None:
    campaign = new_campaign(engine, **GERMAN)
    engine.blacklist_phone("+49 30 1234567")
    report = engine.add_contacts(campaign, ["(030) 123-4567", "030 7654321"])
    banned, free = (engine.get_contact(c) for c in report.contact_ids)
    assert (report.added, report.invalid, report.blacklisted, report.duplicates) == (2, 0, 1, 0)
    assert banned.state is S.BLACKLISTED and banned.phone == "+49301234567"
    assert "blacklist" in first_note(engine, banned.id)
    assert free.state is S.READY


# -- duplicates -----------------------------------------------------------------------


def test_a_number_twice_in_one_call_is_counted_as_a_duplicate_and_added_once(engine: Engine) -> None:
    campaign = new_campaign(engine, **GERMAN)
    report = engine.add_contacts(campaign, ["030 1234567", "030 7654321", "030 1234567"])
    assert (report.added, report.duplicates) == (2, 1)
    assert [engine.get_contact(c).phone for c in report.contact_ids] == ["+49301234567", "+49307654321"]
    assert engine.campaign_stats(campaign).total == 2


def test_differently_written_forms_of_one_number_are_duplicates(engine: Engine) -> None:
    campaign = new_campaign(engine, **GERMAN)
    forms = ["+49 30 1234567", "030 1234567", "(030) 123-4567", "0049 30 1234567", "+49-30-123.4567"]
    report = engine.add_contacts(campaign, forms)
    assert (report.added, report.duplicates) == (1, 4)
    assert engine.get_contact(report.contact_ids[0]).phone == "+49301234567"


def test_a_number_already_added_by_an_earlier_call_is_a_duplicate(engine: Engine) -> None:
    campaign = new_campaign(engine, **GERMAN)
    first = engine.add_contacts(campaign, ["030 1234567"])
    second = engine.add_contacts(campaign, ["+49 30 1234567", "030 7654321"])
    assert (second.added, second.duplicates) == (1, 1)
    assert set(first.contact_ids).isdisjoint(second.contact_ids)
    assert engine.campaign_stats(campaign).total == 2


def test_a_duplicate_far_down_a_long_input_is_still_caught(engine: Engine) -> None:
    campaign = new_campaign(engine, **GERMAN)
    rows = [f"030 {1000000 + i}" for i in range(4500)]
    rows[4321] = "+49 30 1000005"  # the sixth row again, thousands of rows later
    report = engine.add_contacts(campaign, rows)
    assert (report.added, report.duplicates) == (4499, 1)
    assert engine.campaign_stats(campaign).total == 4499


def test_a_number_is_still_a_duplicate_after_its_contact_moved_on(engine: Engine) -> None:
    campaign = new_campaign(engine, **GERMAN)
    cid = engine.add_contacts(campaign, ["030 1234567"]).contact_ids[0]
    engine.cancel(cid)
    report = engine.add_contacts(campaign, ["030 1234567"])
    assert (report.added, report.duplicates, list(report.contact_ids)) == (0, 1, [])


def test_a_blacklisted_duplicate_is_a_duplicate_not_a_second_blacklisted_contact(engine: Engine) -> None:
    campaign = new_campaign(engine, **GERMAN)
    engine.blacklist_phone("+49301234567")
    report = engine.add_contacts(campaign, ["030 1234567", "+49 30 1234567"])
    assert (report.added, report.blacklisted, report.duplicates) == (1, 1, 1)


def test_the_same_number_in_two_campaigns_is_two_contacts(engine: Engine) -> None:
    one, two = new_campaign(engine, name="one", **GERMAN), new_campaign(engine, name="two", **GERMAN)
    a = engine.add_contacts(one, ["030 1234567"])
    b = engine.add_contacts(two, ["030 1234567"])
    assert (a.added, a.duplicates, b.added, b.duplicates) == (1, 0, 1, 0)
    assert a.contact_ids[0] != b.contact_ids[0]
    assert engine.get_contact(b.contact_ids[0]).campaign_id == two


# -- the report -----------------------------------------------------------------------


def test_the_report_counts_every_created_contact_and_lists_their_ids_in_input_order(engine: Engine) -> None:
    campaign = new_campaign(engine, **GERMAN)
    engine.blacklist_phone("+49 30 5555555")
    rows: list[object] = [
        "030 1111111",  # ready
        "not a number",  # invalid
        "030 5555555",  # blacklisted
        "+49 30 1111111",  # duplicate of the first
        {"phone": "030 2222222", "external_id": "crm-2"},  # ready
        "",  # invalid
        "030 3333333",  # ready
    ]
    report = engine.add_contacts(campaign, rows)
    assert (report.added, report.invalid, report.blacklisted, report.duplicates) == (6, 2, 1, 1)
    assert len(report.contact_ids) == report.added == len(set(report.contact_ids))
    phones = [engine.get_contact(c).phone for c in report.contact_ids]
    assert phones == ["+49301111111", "not a number", "+49305555555", "+49302222222", "", "+49303333333"]
    states = [engine.get_contact(c).state for c in report.contact_ids]
    assert states == [S.READY, S.INVALID_RECORD, S.BLACKLISTED, S.READY, S.INVALID_RECORD, S.READY]
    stats = engine.campaign_stats(campaign)
    assert (stats["ready"], stats["invalid_record"], stats["blacklisted"], stats.total) == (3, 2, 1, 6)
    for cid in report.contact_ids:
        assert_history_continuous(engine, cid)


def test_an_empty_input_adds_nothing(engine: Engine) -> None:
    campaign = new_campaign(engine, **GERMAN)
    report = engine.add_contacts(campaign, [])
    assert (report.added, report.invalid, report.blacklisted, report.duplicates) == (0, 0, 0, 0)
    assert list(report.contact_ids) == []


def test_every_first_history_entry_is_an_add_from_nothing_with_attempt_zero(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign = new_campaign(engine, **GERMAN)
    report = engine.add_contacts(campaign, ["030 1234567", "junk"], actor="importer")
    for cid in report.contact_ids:
        (entry,) = engine.history(cid)
        assert (entry.seq, entry.from_state, entry.trigger, entry.attempt) == (1, None, "add", 0)
        assert (entry.at, entry.actor, entry.policy_version) == (clock.now, "importer", 1)
        contact = engine.get_contact(cid)
        assert (contact.attempts, contact.version, contact.created_at) == (0, 1, clock.now)


def test_campaign_stats_count_contacts_by_state_and_finished_attempts_by_outcome_group(engine: Engine) -> None:
    campaign = new_campaign(engine, DialMode.AGENTLESS, **GERMAN)
    ids = engine.add_contacts(campaign, [f"030 {1111111 * n}" for n in range(1, 6)] + ["junk"]).contact_ids
    ends = [Outcome.COMPLETED, Outcome.BUSY, Outcome.NO_ANSWER, Outcome.CONGESTION, Outcome.FAILED]
    for cid, outcome in zip(ids, ends, strict=False):
        engine.dial(cid)
        engine.call_ended(cid, outcome)
    engine.retry_due(ids[1])
    engine.dial(ids[1])
    engine.dial_failed(ids[1], "trunk down")
    stats = engine.campaign_stats(campaign)
    assert dict(stats.by_state) == {"success": 1, "retry_scheduled": 4, "invalid_record": 1}
    assert stats.total == 6
    assert dict(stats.attempts_by_outcome) == {"completed": 1, "busy": 1, "no_answer": 1, "congestion": 1,
                                               "failed": 2}
    assert dict(stats.attempts_by_group) == {"completed": 1, "no_response": 2, "failed": 3}


# -- dict rows and bad field values ----------------------------------------------------


def test_a_dict_row_sets_external_id_priority_timezone_and_data(engine: Engine) -> None:
    campaign = new_campaign(engine, **GERMAN)
    report = engine.add_contacts(campaign, [
        "+49 30 1234567",
        {"phone": "030 7654321", "external_id": "crm-42", "priority": 5, "timezone": None,
         "data": {"name": "Ada", "tags": ["vip"], "score": 3.5}},
        {"phone": "030 2222222", "timezone": "America/New_York", "priority": -1},
    ])
    plain, ada, nyc = (engine.get_contact(c) for c in report.contact_ids)
    assert (plain.priority, plain.timezone, plain.external_id, dict(plain.data)) == (0, None, None, {})
    assert (ada.phone, ada.external_id, ada.priority, ada.timezone) == ("+49307654321", "crm-42", 5, None)
    assert ada.data["name"] == "Ada" and list(ada.data["tags"]) == ["vip"] and ada.data["score"] == 3.5
    assert (nyc.timezone, nyc.priority) == ("America/New_York", -1)


BAD_ROWS = [
    pytest.param({"phone": "030 9999999", "priority": "high"}, "priority", id="priority-text"),
    pytest.param({"phone": "030 9999999", "priority": 1.5}, "priority", id="priority-float"),
    pytest.param({"phone": "030 9999999", "timezone": "Mars/Olympus_Mons"}, "Mars/Olympus_Mons", id="bad-timezone"),
    pytest.param({"phone": "030 9999999", "data": ["not", "a", "mapping"]}, "data", id="data-not-mapping"),
    pytest.param({"phone": "030 9999999", "data": {"when": object()}}, "data", id="data-not-json"),
    pytest.param({"phone": "030 9999999", "nickname": "Bob"}, "nickname", id="unknown-field"),
]


@pytest.mark.parametrize(("bad", "named"), BAD_ROWS)
def test_a_bad_field_value_raises_a_clear_error_and_adds_nothing_of_the_whole_call(
    engine: Engine, bad: dict[str, Any], named: str
) -> None:
    campaign = new_campaign(engine, **GERMAN)
    # 2500 good rows first, so at least one batch was already written when the bad one comes
    good = [f"030 {1000000 + i}" for i in range(2500)]
    with pytest.raises(DialstateError) as info:
        engine.add_contacts(campaign, [*good, bad, "030 8888888"])
    message = str(info.value)
    assert named in message
    assert "2500" in message or "2501" in message, "the error should say which row is wrong"
    assert engine.campaign_stats(campaign).total == 0
    # the numbers were not taken either: adding them now works
    assert engine.add_contacts(campaign, good[:3]).added == 3


def test_adding_to_an_unknown_campaign_raises_campaign_not_found(engine: Engine) -> None:
    with pytest.raises(CampaignNotFound) as info:
        engine.add_contacts(424242, ["030 1234567"])
    assert info.value.campaign_id == 424242 and "424242" in str(info.value)


def test_a_single_phone_string_instead_of_a_list_is_refused(engine: Engine) -> None:
    campaign = new_campaign(engine, **GERMAN)
    with pytest.raises(DialstateError):
        engine.add_contacts(campaign, "030 1234567")  # type: ignore[arg-type]
    assert engine.campaign_stats(campaign).total == 0


# -- streaming ------------------------------------------------------------------------


class CountedRow(Mapping[str, Any]):
    """An input row that counts how many rows are alive at once."""

    alive = 0
    most_alive = 0

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values
        CountedRow.alive += 1
        CountedRow.most_alive = max(CountedRow.most_alive, CountedRow.alive)

    def __del__(self) -> None:
        CountedRow.alive -= 1

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def us_rows(n: int, valid_every: int) -> Iterator[CountedRow]:
    """`n` rows: every `valid_every`-th a distinct valid US number, the rest junk
    (parsing a valid number is what costs time; memory does not depend on it)."""
    for i in range(n):
        phone = f"+1 212 {200 + i // 10000:03d} {i % 10000:04d}" if i % valid_every == 0 else f"junk {i}"
        yield CountedRow({"phone": phone, "external_id": f"row-{i}", "priority": i % 3})


@pytest.mark.slow
def test_a_generator_of_300k_rows_goes_through_without_holding_its_rows(sqlite_engine: Engine) -> None:
    campaign = sqlite_engine.create_campaign("Big list", default_region="US").id
    CountedRow.alive = CountedRow.most_alive = 0
    n = 300_000
    report = sqlite_engine.add_contacts(campaign, us_rows(n, valid_every=20))
    assert report.added == n and len(report.contact_ids) == n
    assert report.invalid == n - n // 20
    # bounded: a few batches at a time (more with more worker processes), never the list
    assert 1 < CountedRow.most_alive <= n // 6, CountedRow.most_alive
    gc.collect()
    assert CountedRow.alive == 0
    ids = report.contact_ids
    assert sqlite_engine.get_contact(ids[0]).phone == "+12122000000"
    assert sqlite_engine.get_contact(ids[-1]).external_id == f"row-{n - 1}"
    assert sqlite_engine.campaign_stats(campaign).total == n


def heavy_rows(n: int) -> Iterator[dict[str, Any]]:
    """Rows with a kilobyte of data each, so that holding them would show."""
    for i in range(n):
        yield {"phone": f"junk {i}", "data": {"notes": f"{i:08d}" + "x" * 1000}}


def import_peak(engine: Engine, n: int) -> int:
    """The peak of memory allocated (tracemalloc) while `n` heavy rows are imported."""
    campaign = engine.create_campaign(f"{n} heavy rows").id
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        assert engine.add_contacts(campaign, heavy_rows(n)).added == n
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def held_size(n: int) -> int:
    """What holding `n` heavy rows in a list takes."""
    gc.collect()
    tracemalloc.start()
    try:
        rows = list(heavy_rows(n))
        size = tracemalloc.get_traced_memory()[0]
        del rows
        return size
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_the_peak_memory_of_an_import_does_not_grow_with_its_rows_like_holding_them_would(
    sqlite_engine: Engine
) -> None:
    # Both sizes are large enough for a steady state (a bounded number of batches in
    # flight, whatever the machine); the difference is what each extra row costs.
    small, large = 28_000, 48_000
    growth = import_peak(sqlite_engine, large) - import_peak(sqlite_engine, small)
    holding = held_size(2_000) * (large - small) // 2_000
    assert holding > 25_000_000  # the measure itself is meaningful
    assert growth < holding / 4, (
        f"{large - small} more rows raised the import's peak by {growth / 1e6:.1f} MB; "
        f"holding them takes {holding / 1e6:.1f} MB"
    )


# -- rejects, adapters and parallel preparation ---------------------------------------


def test_add_contacts_tells_on_reject_of_each_row_that_is_not_ready(sqlite_engine: Engine) -> None:
    cid = new_campaign(sqlite_engine, default_region="DE")
    sqlite_engine.blacklist_phone("+49 30 9999999")
    heard: list[tuple[int, object, str]] = []
    report = sqlite_engine.add_contacts(
        cid, ["+49 30 1234567", "", "+49 30 9999999", "030 1234567"],
        on_reject=lambda index, item, result, reason: heard.append((index, item, result)))
    assert (report.added, report.invalid, report.blacklisted, report.duplicates) == (3, 1, 1, 1)
    assert heard == [(1, "", "invalid_record"), (2, "+49 30 9999999", "blacklisted"),
                     (3, "030 1234567", "duplicate")]


def test_add_contacts_on_a_large_input_keeps_its_report(sqlite_engine: Engine,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "PARALLEL_AFTER", 2000)
    cid = new_campaign(sqlite_engine, default_region="DE")
    rows = [f"+49 30 {1000000 + i}" for i in range(7000)] + ["x"] + [f"+49 30 {1000000 + i}" for i in range(5)]
    report = sqlite_engine.add_contacts(cid, rows)
    assert (report.added, report.invalid, report.duplicates) == (7001, 1, 5)
    assert list(report.contact_ids) == list(range(1, 7002))


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "workers"])
def test_add_contacts_sets_apart_known_blacklisted_and_repeated_numbers_in_one_batch(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, parallel: bool) -> None:
    if parallel:
        monkeypatch.setattr(importer, "PARALLEL_AFTER", 2000)
    cid = new_campaign(engine, default_region="DE", calling_window=CallingWindow("09:00", "20:00"))
    first = engine.add_contacts(cid, ["+49 30 1000000", "+49 30 1000001"])
    engine.blacklist_phone("+49 30 1000005")
    filler: list[object] = [f"+49 30 {2000000 + i}" for i in range(4000)]
    batch: list[object] = ["030 1000000", "+49 30 1000002", "x", "+49 30 1000005", "+49 30 1000002",
             {"phone": "+1 212 555 0123", "timezone": "America/New_York"}, "+49 30 1000001"]
    heard: list[tuple[int, str]] = []
    report = engine.add_contacts(cid, filler + batch,
                                 on_reject=lambda index, item, result, reason: heard.append((index, result)))
    base = len(filler)
    assert heard == [(base + 0, "duplicate"), (base + 2, "invalid_record"), (base + 3, "blacklisted"),
                     (base + 4, "duplicate"), (base + 6, "duplicate")]
    assert (report.added, report.invalid, report.blacklisted, report.duplicates) == (4004, 1, 1, 3)
    ids = report.contact_ids
    assert len(ids) == len(set(ids)) == 4004 and ids == sorted(ids) and ids[0] > max(first.contact_ids)
    # Ids follow the input order of the rows that were kept.
    kept = [engine.get_contact(i) for i in ids[-4:]]
    assert [(c.phone, c.state.value) for c in kept] == [
        ("+49301000002", "ready"), ("x", "invalid_record"), ("+49301000005", "blacklisted"),
        ("+12125550123", "ready")]
    assert [(h.to_state.value, h.note) for h in engine.history(ids[-2])] == [
        ("blacklisted", "the number is on the blacklist")]
    assert engine.history(ids[-1])[0].to_state.value == "ready"
    assert engine.get_contact(ids[-1]).timezone == "America/New_York"
    stats = engine.campaign_stats(cid)
    assert stats.by_state["ready"] == 2 + 4000 + 2


class _Record:
    """An adapter for records of the caller's own shape: (number, customer, score)."""

    def __call__(self, record: tuple[str, str, str]) -> dict[str, object]:
        number, customer, score = record
        if not score.isdigit():
            raise SkipRow(f"score {score!r} is not a number")
        return {"phone": number, "external_id": customer, "priority": int(score)}


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "workers"])
def test_add_contacts_adapts_items_and_skips_the_ones_the_adapter_refuses(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, parallel: bool) -> None:
    if parallel:
        monkeypatch.setattr(importer, "PARALLEL_AFTER", 2000)
    cid = new_campaign(engine, default_region="DE")
    records = [(f"030 {3000000 + i}", f"c{i}", str(i % 10)) for i in range(4500)]
    records[4001] = ("030 7777777", "c-bad", "high")
    records[4002] = ("030 3000000", "c-again", "1")
    heard: list[tuple[int, str, str]] = []
    report = engine.add_contacts(cid, records, adapt=_Record(),
                                 on_reject=lambda index, item, result, reason: heard.append((index, result, reason)))
    assert heard == [(4001, "skipped", "score 'high' is not a number"),
                     (4002, "duplicate", "+49303000000 is already in the campaign")]
    assert (report.added, report.skipped, report.duplicates, report.invalid) == (4498, 1, 1, 0)
    last = engine.get_contact(report.contact_ids[-1])
    assert (last.phone, last.external_id, last.priority) == ("+49303004499", "c4499", 9)
    with pytest.raises(InvalidArgument, match="priority must be an integer"):
        engine.add_contacts(cid, [("030 1", "c", "1")], adapt=lambda record: {"phone": record[0], "priority": "1"})
    assert engine.campaign_stats(cid).by_state["ready"] == 4498


@pytest.mark.sync_only("the async face always has threads (SQLite's workers, the loop's executor), so it never "
                       "forks worker processes and has no pool to warn about")
def test_an_adapter_that_cannot_go_to_the_workers_runs_here(
        sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(importer, "PARALLEL_AFTER", 2000)
    cid = new_campaign(sqlite_engine, default_region="DE")
    suffix = "x"
    report = sqlite_engine.add_contacts(cid, [f"030 {3000000 + i}" for i in range(5000)],
                                        adapt=lambda raw: {"phone": raw, "external_id": raw + suffix})
    assert report.added == 5000
    assert sqlite_engine.get_contact(report.contact_ids[-1]).external_id == "030 3004999x"
    assert "cannot be sent to worker processes" in caplog.text


def test_create_campaign_with_contacts_keeps_both_or_neither(engine: Engine) -> None:
    campaign, report = engine.create_campaign_with_contacts(
        "Spring", ["030 1234567", "x"], mode=DialMode.PROGRESSIVE, default_region="DE",
        timezone="Europe/Berlin", before_call_work_seconds=5)
    assert (campaign.name, campaign.mode, campaign.default_region) == ("Spring", DialMode.PROGRESSIVE, "DE")
    assert (report.added, report.invalid) == (2, 1)
    assert engine.get_contact(report.contact_ids[0]).campaign_id == campaign.id
    with pytest.raises(InvalidArgument, match="contact #1: priority must be an integer"):
        engine.create_campaign_with_contacts("Broken", ["030 7654321", {"phone": "030 7654322", "priority": "1"}],
                                             default_region="DE")
    assert [c.name for c in engine.campaigns()] == ["Spring"]
    with pytest.raises(ConfigurationError, match="unknown time zone"):
        engine.create_campaign_with_contacts("Bad zone", ["030 7654321"], timezone="Mars/Base")
    # The rolled-back campaign's settings are forgotten: on SQLite its id is given out again.
    other = engine.create_campaign("Summer", default_region="US", timezone="America/New_York")
    added = engine.add_contacts(other.id, ["212 555 0123"])
    assert engine.get_contact(added.contact_ids[0]).phone == "+12125550123"
    assert [c.name for c in engine.campaigns()] == ["Spring", "Summer"]


# -- campaigns ----------------------------------------------------------------------------

BAD_CAMPAIGNS = [
    pytest.param({"mode": "robocall"}, ["robocall", "preview", "predictive"], id="bad-mode"),
    pytest.param({"timezone": "Europe/Atlantis"}, ["Europe/Atlantis"], id="bad-timezone"),
    pytest.param({"before_call_seconds": 30}, ["before_call_seconds", "before_call_work_seconds"],
                 id="unknown-setting"),
    pytest.param({"after_call_work_seconds": -5}, ["after_call_work_seconds"], id="negative-timer"),
    pytest.param({"default_region": "XX"}, ["XX"], id="bad-region"),
    pytest.param({"retry_policy": {"max_attempts": 3}}, ["retry_policy"], id="policy-not-a-policy"),
]


@pytest.mark.parametrize(("kwargs", "named"), BAD_CAMPAIGNS)
def test_a_campaign_with_a_bad_setting_is_refused_with_a_message_that_names_it(
    sqlite_engine: Engine, kwargs: dict[str, Any], named: list[str]
) -> None:
    engine = sqlite_engine
    with pytest.raises(ConfigurationError) as info:
        engine.create_campaign("Broken", **kwargs)
    for word in named:
        assert word in str(info.value)
    assert engine.campaigns() == []


def test_a_new_campaign_is_running_with_its_settings(engine: Engine) -> None:
    campaign = engine.create_campaign(
        "Winter renewals", mode=DialMode.PROGRESSIVE, retry_policy=RetryPolicy(max_attempts=3),
        timezone="Europe/Berlin", default_region="de", before_call_work_seconds=10,
        after_call_work_seconds=60,
    )
    assert (campaign.name, campaign.mode, campaign.status) == ("Winter renewals", DialMode.PROGRESSIVE, "running")
    assert (campaign.timezone, campaign.default_region, campaign.policy_version) == ("Europe/Berlin", "DE", 1)
    assert campaign.settings["before_call_work_seconds"] == 10
    assert campaign.settings["after_call_work_seconds"] == 60
    assert engine.retry_policy(campaign.id).max_attempts == 3
    assert engine.get_campaign(campaign.id) == campaign


@pytest.mark.parametrize("mode", [DialMode.PREVIEW, DialMode.PREDICTIVE])
def test_nothing_is_claimed_from_a_paused_campaign_and_resume_restarts_claiming(
    engine: Engine, mode: DialMode
) -> None:
    campaign = new_campaign(engine, mode, **GERMAN)
    ids = engine.add_contacts(campaign, ["030 1111111", "030 2222222"]).contact_ids

    def claim() -> list[int]:
        if mode is DialMode.PREVIEW:
            got = engine.assign_next(campaign, "op1")
            return [] if got is None else [got.id]
        return [c.id for c in engine.dial_next(campaign, 5)]

    assert engine.pause_campaign(campaign).status == "paused"
    assert claim() == []
    assert [engine.get_contact(c).state for c in ids] == [S.READY, S.READY]
    assert [len(engine.history(c)) for c in ids] == [1, 1]
    assert engine.resume_campaign(campaign).status == "running"
    assert claim() != []


def test_a_call_in_progress_goes_on_while_its_campaign_is_paused(engine: Engine) -> None:
    campaign = new_campaign(engine, DialMode.AGENTLESS, **GERMAN)
    engine.add_contacts(campaign, ["030 1111111"])
    (contact,) = engine.dial_next(campaign, 1)
    engine.pause_campaign(campaign)
    engine.answered(contact.id, call_id=contact.call_id)
    assert engine.call_ended(contact.id, Outcome.COMPLETED, call_id=contact.call_id).state is S.SUCCESS


def test_pausing_resuming_and_canceling_an_unknown_campaign_raise_campaign_not_found(engine: Engine) -> None:
    for call in (engine.pause_campaign, engine.resume_campaign, engine.cancel_campaign):
        with pytest.raises(CampaignNotFound):
            call(999)


def test_cancel_campaign_moves_every_open_or_parked_contact_to_canceled_by_admin_with_one_entry_each(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign = new_campaign(engine, DialMode.PREVIEW, **GERMAN)
    other = new_campaign(engine, name="other campaign", **GERMAN)
    open_or_parked = [S.READY, S.OPERATOR_ASSIGNED, S.AWAITING_OPERATOR, S.BEFORE_CALL_WORK, S.DIALING,
                      S.CALL_IN_PROGRESS, S.AFTER_CALL_WORK, S.RETRY_SCHEDULED, S.INVALID_RECORD, S.BLACKLISTED]
    contacts = {state: walk_to(engine, campaign, state) for state in [*open_or_parked, S.SUCCESS]}
    bystander = new_contact(engine, other, engine.get_contact(contacts[S.READY]).phone)
    before = {state: len(engine.history(cid)) for state, cid in contacts.items()}
    for state, cid in contacts.items():
        assert engine.get_contact(cid).state is state

    clock.advance(60)
    canceled = engine.cancel_campaign(campaign, actor="admin")

    assert canceled == len(contacts) - 1  # all but the successful one
    for state, cid in contacts.items():
        entries = engine.history(cid)
        if state is S.SUCCESS:
            assert len(entries) == before[state]
            assert engine.get_contact(cid).state is S.SUCCESS
            continue
        assert engine.get_contact(cid).state is S.CANCELED_BY_ADMIN
        assert len(entries) == before[state] + 1
        assert engine.get_contact(cid).next_attempt_at is None
        last = entries[-1]
        assert (last.from_state, last.to_state, last.at, last.actor) == (
            state, S.CANCELED_BY_ADMIN, clock.now, "admin")
        assert_history_continuous(engine, cid)
    assert engine.get_contact(bystander).state is S.READY
    assert engine.get_campaign(campaign).status == "canceled"
    assert engine.assign_next(campaign, "op1") is None


def test_a_canceled_campaign_cannot_be_resumed(engine: Engine) -> None:
    campaign = new_campaign(engine, **GERMAN)
    engine.add_contacts(campaign, ["030 1111111"])
    engine.cancel_campaign(campaign)
    with pytest.raises(DialstateError):
        engine.resume_campaign(campaign)
    assert engine.assign_next(campaign, "op1") is None


def _recount(engine: Engine, campaign_id: int) -> tuple[dict[str, int], dict[str, int]]:
    """Contacts by state and finished attempts by outcome, counted from the rows."""
    by_state: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    for contact in engine.contacts(campaign_id, limit=10_000):
        by_state[contact.state.value] = by_state.get(contact.state.value, 0) + 1
        for entry in engine.history(contact.id):
            if entry.trigger in ("call_ended", "dial_failed") and entry.outcome is not None:
                by_outcome[entry.outcome.value] = by_outcome.get(entry.outcome.value, 0) + 1
    return by_state, by_outcome


def test_campaign_stats_match_a_recount_through_thousands_of_transitions_imports_and_bulk_moves(
        engine: Engine) -> None:
    # SQLite folds the feed into its counters once 1024 entries wait, PostgreSQL its delta
    # rows every few hundred: the counts must agree with the rows before, across and
    # after each fold, for every campaign.
    first = new_campaign(engine, DialMode.AGENTLESS, name="first", **GERMAN)
    second = new_campaign(engine, DialMode.PREVIEW, name="second", **GERMAN)
    ids = list(engine.add_contacts(first, [f"030 {2000000 + n}" for n in range(400)] + ["junk"]).contact_ids)
    others = list(engine.add_contacts(second, [f"030 {3000000 + n}" for n in range(300)]).contact_ids)
    ends = [Outcome.COMPLETED, Outcome.BUSY, Outcome.NO_ANSWER, Outcome.FAILED]
    checked = 0
    for round_ in range(3):
        for n, cid in enumerate(ids[:-1]):
            contact = engine.get_contact(cid)
            if contact.state is ContactState.RETRY_SCHEDULED:
                engine.retry_due(cid)
            elif contact.state is not ContactState.READY:
                continue
            engine.dial(cid)
            engine.call_ended(cid, ends[(n + round_) % len(ends)])
            if n % 97 == 0:
                for campaign in (first, second):
                    stats = engine.campaign_stats(campaign)
                    by_state, by_outcome = _recount(engine, campaign)
                    assert dict(stats.by_state) == by_state and dict(stats.attempts_by_outcome) == by_outcome
                    checked += 1
        for cid in others[round_ * 50:(round_ + 1) * 50]:
            engine.assign_operator(cid, "op1")
    engine.cancel_campaign(second)
    for campaign in (first, second):
        stats = engine.campaign_stats(campaign)
        by_state, by_outcome = _recount(engine, campaign)
        assert dict(stats.by_state) == by_state and dict(stats.attempts_by_outcome) == by_outcome
        assert stats.total == sum(by_state.values())
    assert checked >= 10 and len(engine.events(limit=10_000)) > 2048


def test_campaign_stats_match_a_recount_when_imports_come_between_transitions(engine: Engine) -> None:
    # An import counts its own first entries; the transitions' entries that wait to be
    # folded before it (SQLite) must be counted all the same, once.
    first = new_campaign(engine, DialMode.AGENTLESS, name="first", **GERMAN)
    second = new_campaign(engine, DialMode.PREVIEW, name="second", **GERMAN)
    ids = list(engine.add_contacts(first, [f"030 {2000000 + n}" for n in range(120)]).contact_ids)
    for round_ in range(3):
        for cid in ids[round_ * 40:(round_ + 1) * 40]:
            engine.dial(cid)
            engine.call_ended(cid, Outcome.BUSY if cid % 2 else Outcome.COMPLETED)
        engine.add_contacts(first, [f"030 {3000000 + 100 * round_ + n}" for n in range(30)] + ["junk"])
        engine.add_contacts(second, [f"030 {4000000 + 100 * round_ + n}" for n in range(20)])
        for campaign in (first, second):
            stats = engine.campaign_stats(campaign)
            by_state, by_outcome = _recount(engine, campaign)
            assert dict(stats.by_state) == by_state and dict(stats.attempts_by_outcome) == by_outcome
    assert engine.campaign_stats(first).total == 120 + 3 * 31
    assert engine.campaign_stats(second).by_state == {"ready": 60}


def test_short_lived_engines_that_each_write_a_little_still_fold_the_counters(
        sqlite_url: str, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # A CLI command or a webhook handler per process: each engine writes a transition
    # or two and is gone. The feed's entries must still be folded into the counters
    # (else every campaign_stats adds up all of them): each engine counts the waiting
    # entries when it first writes. Smaller thresholds make it quick to see.
    from dialstate.store import sqlite as sqlite_backend

    monkeypatch.setattr(sqlite_backend, "FOLD_EVERY", 8)
    monkeypatch.setattr(sqlite_backend, "COUNT_EVERY", 4)
    setup = Engine(sqlite_url, clock=clock)
    campaign = new_campaign(setup, DialMode.AGENTLESS, **GERMAN)
    ids = list(setup.add_contacts(campaign, [f"030 {2000000 + n}" for n in range(5)]).contact_ids)
    setup.close()

    def waiting(engine: Engine) -> int:
        with engine.database.reading() as conn:
            return int(engine.database.execute(conn, sqlite_backend.Q["unfolded_count"]).fetchone()[0])

    most = 0
    for round_ in range(6):
        for cid in ids:
            engine = Engine(sqlite_url, clock=clock)  # a process of its own
            try:
                if round_ % 2 == 0:
                    engine.dial(cid)
                else:
                    engine.call_ended(cid, Outcome.BUSY)
                    engine.retry_due(cid)
                most = max(most, waiting(engine))
            finally:
                engine.close()
    assert most <= 8 + 2, "each engine folded what waited when it first wrote"
    check = Engine(sqlite_url, clock=clock)
    try:
        stats = check.campaign_stats(campaign)
        by_state, by_outcome = _recount(check, campaign)
        assert dict(stats.by_state) == by_state and dict(stats.attempts_by_outcome) == by_outcome
        assert sum(by_outcome.values()) == 3 * len(ids)
    finally:
        check.close()
