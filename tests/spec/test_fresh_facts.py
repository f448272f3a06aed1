"""Every trigger decides on the facts as they were committed last, whoever wrote them:
another engine on the database (another process), this engine through another call,
or a raw statement. (On SQLite an engine skips reading a contact it wrote last when
nothing else was written since: dialstate.store.rowcache; these are the writes that
must be seen all the same.)"""

from __future__ import annotations

import pytest

from dialstate import ContactState, DialMode, Engine, InvalidTransition, NotCallable
from tests.support.walk import new_campaign, new_contacts

S = ContactState
PHONE = "+1 212 555 0101"


def accepted(engine: Engine) -> tuple[int, int]:
    """A preview campaign's contact, assigned and accepted through `engine` (the last
    write on its connection); returns (campaign, contact)."""
    campaign = new_campaign(engine, DialMode.PREVIEW, default_region="US")
    (contact_id,) = new_contacts(engine, campaign, PHONE)
    contact = engine.assign_next(campaign, "op1")
    assert contact is not None and contact.id == contact_id
    engine.accept(contact_id)
    return campaign, contact_id


def dials(engine: Engine, contact_id: int) -> list[str]:
    return [e.trigger for e in engine.history(contact_id) if e.trigger == "dial"]


@pytest.mark.parametrize("who", ["other engine", "same engine"])
def test_a_pause_stops_the_next_dial_of_a_contact_just_written(engine: Engine, other: Engine, who: str) -> None:
    campaign, contact_id = accepted(engine)
    (other if who == "other engine" else engine).pause_campaign(campaign)
    with pytest.raises(NotCallable) as refused:
        engine.dial(contact_id)
    assert "paused" in str(refused.value)
    assert dials(engine, contact_id) == []
    assert engine.get_contact(contact_id).state == S.BEFORE_CALL_WORK


@pytest.mark.parametrize("who", ["other engine", "same engine"])
def test_a_number_blacklisted_meanwhile_is_never_dialed(engine: Engine, other: Engine, who: str) -> None:
    _, contact_id = accepted(engine)
    (other if who == "other engine" else engine).blacklist_phone(PHONE, region="US")
    with pytest.raises((NotCallable, InvalidTransition)):
        engine.dial(contact_id)
    assert dials(engine, contact_id) == []
    assert engine.get_contact(contact_id).state == S.BLACKLISTED


def test_a_change_by_another_engine_is_in_the_next_snapshot_and_not_a_conflict(engine: Engine,
                                                                                 other: Engine) -> None:
    _, contact_id = accepted(engine)
    other.update_contact(contact_id, priority=5, data={"note": "vip"})
    dialed = engine.dial(contact_id)
    assert dialed.state == S.DIALING
    assert dialed.priority == 5 and dialed.data == {"note": "vip"}
    assert dialed.version == engine.get_contact(contact_id).version


def test_a_trigger_by_another_engine_is_seen_by_the_next_one_here(engine: Engine, other: Engine) -> None:
    _, contact_id = accepted(engine)
    other.dial(contact_id)
    with pytest.raises(InvalidTransition):
        engine.dial(contact_id)  # dialing already: the state read, not the one written here last
    assert engine.answered(contact_id).state == S.CALL_IN_PROGRESS
    assert len(dials(engine, contact_id)) == 1


def test_a_raw_write_on_the_engine_s_own_connection_is_seen(engine: Engine) -> None:
    _, contact_id = accepted(engine)
    with engine.database.transaction() as conn:  # as a repair script would, version untouched
        engine.database.execute(conn, "UPDATE ds_contact SET priority = 7 WHERE id = ?", (contact_id,))
    assert engine.dial(contact_id).priority == 7


def test_a_rolled_back_trigger_leaves_nothing_behind_for_the_next(engine: Engine) -> None:
    _, contact_id = accepted(engine)

    def fail() -> None:
        raise RuntimeError("injected")

    engine.database.before_commit.append(fail)
    with pytest.raises(RuntimeError):
        engine.dial(contact_id)
    engine.database.before_commit.clear()
    assert engine.get_contact(contact_id).state == S.BEFORE_CALL_WORK
    dialed = engine.dial(contact_id)
    assert dialed.state == S.DIALING and dialed.attempts == 1
    assert len(dials(engine, contact_id)) == 1


@pytest.mark.parametrize("who", ["other engine", "same engine"])
def test_a_number_blacklisted_right_after_its_claim_is_never_dialed(engine: Engine, other: Engine,
                                                                     who: str) -> None:
    campaign = new_campaign(engine, DialMode.PREVIEW, default_region="US")
    (contact_id,) = new_contacts(engine, campaign, PHONE)
    assert engine.assign_next(campaign, "op1") is not None  # the last write on its connection
    (other if who == "other engine" else engine).blacklist_phone(PHONE, region="US")
    with pytest.raises((NotCallable, InvalidTransition)):
        engine.accept(contact_id)
        engine.dial(contact_id)
    assert dials(engine, contact_id) == []
    assert engine.get_contact(contact_id).state == S.BLACKLISTED


def test_the_triggers_after_a_claim_decide_on_the_row_as_stored(engine: Engine, other: Engine) -> None:
    """What a trigger returns right after a claim (assign_next, or dial_next of many)
    is what a fresh read of the contact gives once it committed, field for field."""
    preview = new_campaign(engine, DialMode.PREVIEW, default_region="US")
    new_contacts(engine, preview, {"phone": PHONE, "priority": 3, "data": {"crm": 1}, "external_id": "a-1"})
    claimed = engine.assign_next(preview, "op1")
    assert claimed is not None
    assert claimed == other.get_contact(claimed.id)
    for step in (engine.accept, engine.dial, engine.answered):
        assert step(claimed.id) == other.get_contact(claimed.id)

    predictive = new_campaign(engine, DialMode.PREDICTIVE, default_region="US")
    ids = new_contacts(engine, predictive, *(f"+1 212 555 {200 + i:04d}" for i in range(5)))
    dialed = engine.dial_next(predictive, 5)
    assert sorted(c.id for c in dialed) == ids
    assert dialed == [other.get_contact(c.id) for c in dialed]
    for contact in dialed:
        assert engine.answered(contact.id) == other.get_contact(contact.id)
        ended = engine.call_ended(contact.id, "busy")
        assert ended.state == S.RETRY_SCHEDULED and ended == other.get_contact(contact.id)
