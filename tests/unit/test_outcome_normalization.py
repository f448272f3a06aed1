"""Spec section 4, call outcomes: every vendor code the seeds name, read as an Outcome.

The expected tables below restate the decisions on purpose (they are the spec); they
do not read the dialect modules, so a changed mapping fails here until both agree.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialstate.errors import ConfigurationError, DialstateError, UnknownOutcome
from dialstate.outcomes import (
    OperatorLegCode,
    Outcome,
    OutcomeGroup,
    dialects,
    normalize,
    register_dialect,
)
from dialstate.outcomes.dialects import freeswitch, q850, sip
from tests.support import OUTCOME_TABLE

O = Outcome
BUILTIN_DIALECTS = (
    "asterisk", "call_result", "call_status", "freeswitch", "leg_status", "q850", "session_status", "sip",
)


def cases(dialect: str, table: dict[str, Outcome] | dict[int, Outcome]) -> list[tuple[str, str | int, Outcome]]:
    return [(dialect, code, outcome) for code, outcome in table.items()]


def ids(case: object) -> str:
    return repr(case) if not isinstance(case, Outcome) else case.value


@pytest.mark.parametrize(("outcome", "group"), [(o, row.group) for o, row in OUTCOME_TABLE.items()],
                         ids=[o.value for o in OUTCOME_TABLE])
def test_each_outcome_belongs_to_the_group_of_spec_section_4(outcome: Outcome, group: OutcomeGroup) -> None:
    assert outcome.group is group


def test_the_outcome_table_of_spec_section_4_covers_every_outcome() -> None:
    assert set(OUTCOME_TABLE) == set(Outcome)


# --- seed 000: session statuses ---------------------------------------------------------

SESSION_STATUS = {
    "Busy": O.BUSY,
    "Canceled": O.CANCELED,
    "Completed": O.COMPLETED,
    "Declined": O.REJECTED,
    "Escalated by operator": O.ESCALATED,
    "Failed": O.FAILED,
    "Network Error": O.CONGESTION,
    "Not answered": O.NO_ANSWER,
    "Not found": O.UNALLOCATED,
    "Resolved by operator": O.COMPLETED,
    "Timeout": O.NO_ANSWER,
    "Transferred": O.TRANSFERRED,
    "Unknown": O.UNKNOWN,
    "User timeout": O.NO_ANSWER,
}

# Seed 000, "Campaign outcomes": the group each status counts in.
SEED_000_GROUPS = {
    **dict.fromkeys(
        ["Completed", "Resolved by operator", "Escalated by operator", "Transferred"], OutcomeGroup.COMPLETED
    ),
    **dict.fromkeys(
        ["Not answered", "Declined", "Busy", "User timeout", "Timeout", "Not found"], OutcomeGroup.NO_RESPONSE
    ),
    **dict.fromkeys(["Failed", "Network Error", "Canceled", "Unknown"], OutcomeGroup.FAILED),
}


@pytest.mark.parametrize(("status", "outcome"), SESSION_STATUS.items(), ids=ids)
def test_each_session_status_of_seed_000_reads_as_its_outcome(status: str, outcome: Outcome) -> None:
    assert normalize(status, "session_status") is outcome


def test_the_grouping_table_covers_every_session_status_of_seed_000() -> None:
    assert set(SEED_000_GROUPS) == set(SESSION_STATUS)


@pytest.mark.parametrize(("status", "group"), SEED_000_GROUPS.items(), ids=ids)
def test_each_session_status_lands_in_the_group_seed_000_puts_it_in(status: str, group: OutcomeGroup) -> None:
    assert normalize(status, "session_status").group is group


@pytest.mark.parametrize(
    "spelling",
    ["Not answered", "not_answered", "NOT-ANSWERED", "  not   answered ", "Not_Answered", "not-answered"],
)
def test_a_session_status_may_join_its_words_with_spaces_underscores_or_hyphens(spelling: str) -> None:
    assert normalize(spelling, "session_status") is O.NO_ANSWER


# --- seed 001: call results and FreeSWITCH hangup causes ----------------------------------

CALL_RESULT = {
    "Busy": O.BUSY,
    "Cancel": O.CANCELED,
    "Failed": O.FAILED,
    "Timeout": O.NO_ANSWER,
    "Answered": O.COMPLETED,
}


@pytest.mark.parametrize(("result", "outcome"), CALL_RESULT.items(), ids=ids)
def test_each_call_result_of_seed_001_reads_as_its_outcome(result: str, outcome: Outcome) -> None:
    assert normalize(result, "call_result") is outcome
    assert normalize(result.upper(), "call_result") is outcome


@pytest.mark.parametrize("spelling", ["Lose-race", "lose-race", "LOSE-RACE", "lose_race", "Lose race", " lose-race "])
def test_lose_race_is_refused_as_an_operator_leg_code_in_any_spelling(spelling: str) -> None:
    with pytest.raises(OperatorLegCode) as raised:
        normalize(spelling, "call_result")
    assert raised.value.code == spelling
    assert raised.value.dialect == "call_result"
    assert "operator's leg" in str(raised.value)
    assert "contact's call" in str(raised.value)


@pytest.mark.parametrize(("dialect", "code"), [("freeswitch", "LOSE_RACE"), ("freeswitch", "lose-race"),
                                               ("freeswitch", "PICKED_OFF")])
def test_freeswitch_leg_race_causes_are_refused_as_operator_leg_codes(dialect: str, code: str) -> None:
    with pytest.raises(OperatorLegCode, match="operator's leg"):
        normalize(code, dialect)


def test_an_operator_leg_code_is_an_unknown_outcome_error_and_a_dialstate_error() -> None:
    assert issubclass(OperatorLegCode, UnknownOutcome)
    assert issubclass(OperatorLegCode, DialstateError)


SEED_001_HANGUP_CAUSES = {
    "ORIGINATOR_CANCEL": O.CANCELED,
    "NO_USER_RESPONSE": O.NO_ANSWER,
    "CALL_REJECTED": O.REJECTED,
    "NORMAL_CLEARING": O.COMPLETED,
    "USER_BUSY": O.BUSY,
    "RECOVERY_ON_TIMER_EXPIRE": O.CONGESTION,  # "often related to network issues"
    "UNALLOCATED_NUMBER": O.UNALLOCATED,
    "NORMAL_TEMPORARY_FAILURE": O.CONGESTION,  # "a temporary network issue"
}


@pytest.mark.parametrize(("cause", "outcome"), SEED_001_HANGUP_CAUSES.items(), ids=ids)
def test_each_hangup_cause_of_seed_001_reads_as_its_outcome(cause: str, outcome: Outcome) -> None:
    assert normalize(cause, "freeswitch") is outcome


# --- seed 002: call statuses and result codes ---------------------------------------------

CALL_STATUS = {
    "ANSWERED/COMPLETE": O.COMPLETED,
    "ANSWERED/INCOMPLETE": O.INCOMPLETE,
    "ABSENT/BUSY": O.BUSY,
    "ABSENT/NO_ANSWER": O.NO_ANSWER,
    "ABSENT/VOICEMAIL_DETECTED": O.VOICEMAIL,
    "ERROR/BLACKLISTED": O.BLOCKED,
    "ERROR/REJECTED": O.REJECTED,
    "ERROR/UNALLOCATED_NUMBER": O.UNALLOCATED,
    "ERROR/OTHER": O.FAILED,
    "ANSWERED_COMPLETE": O.COMPLETED,
    "ANSWERED_INCOMPLETE": O.INCOMPLETE,
    "ANSWERED": O.COMPLETED,
    "ABSENT": O.NO_ANSWER,
    "ERROR": O.FAILED,
    "HANGUP": O.INCOMPLETE,
    "VOICEMAIL_COMPLETE": O.VOICEMAIL,
    "VOICEMAIL_INCOMPLETE": O.VOICEMAIL,
}


@pytest.mark.parametrize(("status", "outcome"), CALL_STATUS.items(), ids=ids)
def test_each_call_status_of_seed_002_reads_as_its_outcome(status: str, outcome: Outcome) -> None:
    assert normalize(status, "call_status") is outcome


@pytest.mark.parametrize(
    ("spelling", "outcome"),
    [
        ("absent/no_answer", O.NO_ANSWER),
        ("ABSENT_NO_ANSWER", O.NO_ANSWER),
        ("Absent No Answer", O.NO_ANSWER),
        ("error / unallocated number", O.UNALLOCATED),
        ("answered complete", O.COMPLETED),
        ("Answered-Incomplete", O.INCOMPLETE),
        ("VOICEMAIL_DETECTED", O.VOICEMAIL),  # a bare sub-status names its status
        ("blacklisted", O.BLOCKED),
    ],
)
def test_a_call_status_may_use_slash_underscore_or_space_as_separator(spelling: str, outcome: Outcome) -> None:
    assert normalize(spelling, "call_status") is outcome


# --- seed 003: leg call statuses ------------------------------------------------------

LEG_STATUS = {
    "IVR": O.FAILED,
    "IVR-ANSWER": O.COMPLETED,
    "MISWIG": O.NO_ANSWER,
    "ANSWER": O.COMPLETED,
    "NOANSWER": O.CANCELED,
    "BUSY": O.CANCELED,
    "FAILED": O.FAILED,
    "CANCEL": O.CANCELED,
    "BLOCKED": O.BLOCKED,
    "MAX-USE": O.CONGESTION,
    "DND": O.BLOCKED,
    "OFF-HOUR": O.CANCELED,
    "NOTALLOWED": O.NOT_ALLOWED,
    "NOANSWER_LEG2": O.NO_ANSWER,
    "NOANSWER_LEG1": O.CANCELED,
    "FAILED_LEG1": O.FAILED,
    "FAILED_LEG2": O.FAILED,
    "BUSY_LEG1": O.CANCELED,
    "BUSY_LEG2": O.BUSY,
}


@pytest.mark.parametrize(("status", "outcome"), LEG_STATUS.items(), ids=ids)
def test_each_leg_status_of_seed_003_reads_as_its_outcome_for_the_contact(status: str, outcome: Outcome) -> None:
    assert normalize(status, "leg_status") is outcome


@pytest.mark.parametrize("status", ["NOANSWER_LEG1", "BUSY_LEG1", "FAILED_LEG1"])
def test_a_failure_on_the_agents_leg_is_never_counted_as_the_contacts_busy_or_no_answer(status: str) -> None:
    assert normalize(status, "leg_status").group is OutcomeGroup.FAILED


@pytest.mark.parametrize(("spelling", "outcome"), [("ivr_answer", O.COMPLETED), ("max use", O.CONGESTION),
                                                   ("busy-leg2", O.BUSY), ("Off_Hour", O.CANCELED)])
def test_a_leg_status_may_use_hyphen_underscore_or_space(spelling: str, outcome: Outcome) -> None:
    assert normalize(spelling, "leg_status") is outcome


# --- q850 -------------------------------------------------------------------------------

Q850 = {
    1: O.UNALLOCATED, 2: O.FAILED, 3: O.UNALLOCATED, 4: O.UNALLOCATED, 5: O.UNALLOCATED, 6: O.FAILED,
    7: O.UNKNOWN, 8: O.CONGESTION, 9: O.CONGESTION, 14: O.FAILED, 16: O.COMPLETED, 17: O.BUSY,
    18: O.NO_ANSWER, 19: O.NO_ANSWER, 20: O.NO_ANSWER, 21: O.REJECTED, 22: O.UNALLOCATED, 23: O.FAILED,
    24: O.REJECTED, 25: O.FAILED, 26: O.UNKNOWN, 27: O.FAILED, 28: O.UNALLOCATED, 29: O.FAILED,
    30: O.UNKNOWN, 31: O.NO_ANSWER, 34: O.CONGESTION, 38: O.CONGESTION, 39: O.FAILED, 40: O.UNKNOWN,
    41: O.CONGESTION, 42: O.CONGESTION, 43: O.FAILED, 44: O.CONGESTION, 45: O.CONGESTION, 46: O.CONGESTION,
    47: O.CONGESTION, 49: O.FAILED, 50: O.FAILED, 52: O.NOT_ALLOWED, 53: O.NOT_ALLOWED, 54: O.BLOCKED,
    55: O.BLOCKED, 57: O.FAILED, 58: O.CONGESTION, 62: O.FAILED, 63: O.FAILED, 65: O.FAILED, 66: O.FAILED,
    69: O.FAILED, 70: O.FAILED, 79: O.FAILED, 81: O.FAILED, 82: O.FAILED, 83: O.FAILED, 84: O.FAILED,
    85: O.FAILED, 86: O.FAILED, 87: O.NOT_ALLOWED, 88: O.FAILED, 90: O.FAILED, 91: O.FAILED, 95: O.FAILED,
    96: O.FAILED, 97: O.FAILED, 98: O.FAILED, 99: O.FAILED, 100: O.FAILED, 101: O.FAILED,
    102: O.CONGESTION, 103: O.FAILED, 110: O.FAILED, 111: O.FAILED, 127: O.FAILED,
}


@pytest.mark.parametrize(("cause", "outcome"), Q850.items(), ids=ids)
def test_each_q850_cause_reads_as_its_outcome(cause: int, outcome: Outcome) -> None:
    assert normalize(cause, "q850") is outcome
    assert normalize(str(cause), "q850") is outcome


def test_the_q850_table_lists_exactly_the_causes_the_spec_names() -> None:
    assert set(q850.TABLE) == set(Q850)


@pytest.mark.parametrize("cause", [0, 10, 11, 12, 13, 15, 32, 33, 48, 126, 128, 255, -1])
def test_a_q850_value_that_q850_does_not_define_is_unknown(cause: int) -> None:
    assert normalize(cause, "q850") is O.UNKNOWN


@pytest.mark.parametrize(
    ("code", "outcome"), [(" 17 ", O.BUSY), ("17", O.BUSY), ("017", O.BUSY), ("16\n", O.COMPLETED)]
)
def test_a_numeric_dialect_accepts_numbers_written_as_text(code: str, outcome: Outcome) -> None:
    assert normalize(code, "q850") is outcome


# --- sip --------------------------------------------------------------------------------

SIP = {
    200: O.COMPLETED, 202: O.COMPLETED, 299: O.COMPLETED,
    300: O.FAILED, 301: O.UNALLOCATED, 302: O.FAILED, 305: O.FAILED, 380: O.FAILED,
    400: O.FAILED, 401: O.FAILED, 402: O.FAILED, 403: O.NOT_ALLOWED, 404: O.UNALLOCATED, 405: O.FAILED,
    406: O.FAILED, 407: O.FAILED, 408: O.NO_ANSWER, 410: O.UNALLOCATED, 413: O.FAILED, 414: O.FAILED,
    415: O.FAILED, 416: O.FAILED, 420: O.FAILED, 421: O.FAILED, 423: O.FAILED, 433: O.REJECTED,
    480: O.NO_ANSWER, 481: O.FAILED, 482: O.FAILED, 483: O.FAILED, 484: O.UNALLOCATED, 485: O.FAILED,
    486: O.BUSY, 487: O.CANCELED, 488: O.FAILED, 489: O.FAILED, 491: O.FAILED, 493: O.FAILED, 494: O.FAILED,
    500: O.CONGESTION, 501: O.FAILED, 502: O.CONGESTION, 503: O.CONGESTION, 504: O.CONGESTION,
    505: O.FAILED, 513: O.FAILED, 580: O.FAILED,
    600: O.BUSY, 603: O.REJECTED, 604: O.UNALLOCATED, 606: O.FAILED, 607: O.BLOCKED, 608: O.REJECTED,
}


@pytest.mark.parametrize(("code", "outcome"), SIP.items(), ids=ids)
def test_each_sip_final_response_reads_as_its_outcome(code: int, outcome: Outcome) -> None:
    assert normalize(code, "sip") is outcome
    assert normalize(f" {code} ", "sip") is outcome


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(250, O.COMPLETED), (399, O.FAILED), (409, O.FAILED), (499, O.FAILED), (599, O.CONGESTION),
     (550, O.CONGESTION), (699, O.REJECTED), (650, O.REJECTED)],
)
def test_a_sip_code_not_listed_falls_back_to_its_class(code: int, outcome: Outcome) -> None:
    assert code not in sip.EXPLICIT
    assert normalize(code, "sip") is outcome


@pytest.mark.parametrize("code", [100, 180, 183, 199, 700, 999, 0, "abc", ""])
def test_a_provisional_or_out_of_range_sip_code_is_unknown(code: int | str) -> None:
    assert normalize(code, "sip") is O.UNKNOWN


# --- freeswitch ----------------------------------------------------------------------------

FREESWITCH = {
    "UNALLOCATED_NUMBER": O.UNALLOCATED, "NO_ROUTE_TRANSIT_NET": O.FAILED, "NO_ROUTE_DESTINATION": O.UNALLOCATED,
    "CHANNEL_UNACCEPTABLE": O.FAILED, "CALL_AWARDED_DELIVERED": O.UNKNOWN, "NORMAL_CLEARING": O.COMPLETED,
    "USER_BUSY": O.BUSY, "NO_USER_RESPONSE": O.NO_ANSWER, "NO_ANSWER": O.NO_ANSWER,
    "SUBSCRIBER_ABSENT": O.NO_ANSWER, "CALL_REJECTED": O.REJECTED, "NUMBER_CHANGED": O.UNALLOCATED,
    "REDIRECTION_TO_NEW_DESTINATION": O.FAILED, "EXCHANGE_ROUTING_ERROR": O.FAILED,
    "DESTINATION_OUT_OF_ORDER": O.FAILED, "INVALID_NUMBER_FORMAT": O.UNALLOCATED, "FACILITY_REJECTED": O.FAILED,
    "RESPONSE_TO_STATUS_ENQUIRY": O.UNKNOWN, "NORMAL_UNSPECIFIED": O.NO_ANSWER,
    "NORMAL_CIRCUIT_CONGESTION": O.CONGESTION, "NETWORK_OUT_OF_ORDER": O.CONGESTION,
    "NORMAL_TEMPORARY_FAILURE": O.CONGESTION, "SWITCH_CONGESTION": O.CONGESTION, "ACCESS_INFO_DISCARDED": O.FAILED,
    "REQUESTED_CHAN_UNAVAIL": O.CONGESTION, "PRE_EMPTED": O.CONGESTION, "FACILITY_NOT_SUBSCRIBED": O.FAILED,
    "OUTGOING_CALL_BARRED": O.NOT_ALLOWED, "INCOMING_CALL_BARRED": O.BLOCKED,
    "BEARERCAPABILITY_NOTAUTH": O.FAILED, "BEARERCAPABILITY_NOTAVAIL": O.CONGESTION,
    "SERVICE_UNAVAILABLE": O.FAILED, "BEARERCAPABILITY_NOTIMPL": O.FAILED, "CHAN_NOT_IMPLEMENTED": O.FAILED,
    "FACILITY_NOT_IMPLEMENTED": O.FAILED, "SERVICE_NOT_IMPLEMENTED": O.FAILED, "INVALID_CALL_REFERENCE": O.FAILED,
    "INCOMPATIBLE_DESTINATION": O.FAILED, "INVALID_MSG_UNSPECIFIED": O.FAILED, "MANDATORY_IE_MISSING": O.FAILED,
    "MESSAGE_TYPE_NONEXIST": O.FAILED, "WRONG_MESSAGE": O.FAILED, "IE_NONEXIST": O.FAILED,
    "INVALID_IE_CONTENTS": O.FAILED, "WRONG_CALL_STATE": O.FAILED, "RECOVERY_ON_TIMER_EXPIRE": O.CONGESTION,
    "MANDATORY_IE_LENGTH_ERROR": O.FAILED, "PROTOCOL_ERROR": O.FAILED, "INTERWORKING": O.FAILED,
    # FreeSWITCH's own causes
    "SUCCESS": O.COMPLETED, "ORIGINATOR_CANCEL": O.CANCELED, "CRASH": O.FAILED, "SYSTEM_SHUTDOWN": O.CANCELED,
    "MANAGER_REQUEST": O.CANCELED, "BLIND_TRANSFER": O.TRANSFERRED, "ATTENDED_TRANSFER": O.TRANSFERRED,
    "ALLOTTED_TIMEOUT": O.NO_ANSWER, "USER_CHALLENGE": O.FAILED, "MEDIA_TIMEOUT": O.FAILED,
    "USER_NOT_REGISTERED": O.NO_ANSWER, "PROGRESS_TIMEOUT": O.FAILED, "INVALID_GATEWAY": O.FAILED,
    "GATEWAY_DOWN": O.CONGESTION, "INVALID_URL": O.FAILED, "INVALID_PROFILE": O.FAILED, "NO_PICKUP": O.NO_ANSWER,
    "SRTP_READ_ERROR": O.FAILED, "BOWOUT": O.UNKNOWN, "STALE_DATE": O.FAILED, "UNSPECIFIED": O.UNKNOWN,
    "NONE": O.UNKNOWN, "UNKNOWN": O.UNKNOWN,
    # FreeSWITCH 1.10 names of SIP responses
    "BUSY_EVERYWHERE": O.BUSY, "DECLINE": O.REJECTED, "DOES_NOT_EXIST_ANYWHERE": O.UNALLOCATED,
    "NOT_ACCEPTABLE": O.FAILED, "UNWANTED": O.BLOCKED, "NO_IDENTITY": O.FAILED, "BAD_IDENTITY_INFO": O.FAILED,
    "UNSUPPORTED_CERTIFICATE": O.FAILED, "INVALID_IDENTITY": O.FAILED,
}


@pytest.mark.parametrize(("cause", "outcome"), FREESWITCH.items(), ids=ids)
def test_each_freeswitch_hangup_cause_reads_as_its_outcome(cause: str, outcome: Outcome) -> None:
    assert normalize(cause, "freeswitch") is outcome
    assert normalize(cause.lower(), "freeswitch") is outcome


def test_the_freeswitch_table_lists_exactly_the_causes_the_spec_names() -> None:
    assert set(freeswitch.TABLE) == set(FREESWITCH)


@pytest.mark.parametrize(("name", "cause"), freeswitch.Q850_CAUSES.items(), ids=ids)
def test_a_freeswitch_cause_that_mirrors_q850_reads_as_that_q850_cause(name: str, cause: int) -> None:
    assert normalize(name, "freeswitch") is normalize(cause, "q850")


@pytest.mark.parametrize("code", [17, "17", "USER BUSY NOW", ""])
def test_freeswitch_knows_names_only_so_numbers_are_unknown(code: int | str) -> None:
    assert normalize(code, "freeswitch") is O.UNKNOWN


# --- asterisk --------------------------------------------------------------------------------

ASTERISK = {
    "ANSWER": O.COMPLETED, "BUSY": O.BUSY, "NOANSWER": O.NO_ANSWER, "CANCEL": O.CANCELED,
    "CONGESTION": O.CONGESTION, "CHANUNAVAIL": O.FAILED, "DONTCALL": O.BLOCKED, "TORTURE": O.BLOCKED,
    "INVALIDARGS": O.FAILED,
}


@pytest.mark.parametrize(("status", "outcome"), ASTERISK.items(), ids=ids)
def test_each_asterisk_dialstatus_reads_as_its_outcome(status: str, outcome: Outcome) -> None:
    assert normalize(status, "asterisk") is outcome
    assert normalize(f" {status.lower()}\t", "asterisk") is outcome


# --- across dialects ---------------------------------------------------------------------

TEXT_CASES = (
    cases("session_status", SESSION_STATUS) + cases("call_result", CALL_RESULT) + cases("call_status", CALL_STATUS)
    + cases("leg_status", LEG_STATUS) + cases("freeswitch", FREESWITCH) + cases("asterisk", ASTERISK)
)


@pytest.mark.parametrize(("dialect", "code", "outcome"), TEXT_CASES, ids=ids)
def test_a_text_code_matches_in_any_case_with_surrounding_whitespace(dialect: str, code: str, outcome: Outcome) -> None:
    for spelling in (code.upper(), code.lower(), code.swapcase(), f"  {code}\n"):
        assert normalize(spelling, dialect) is outcome


def test_the_built_in_dialects_are_listed_sorted() -> None:
    assert dialects() == BUILTIN_DIALECTS


@pytest.mark.parametrize("dialect", BUILTIN_DIALECTS)
def test_a_code_the_dialect_does_not_know_is_unknown(dialect: str) -> None:
    assert normalize("NO_SUCH_CODE_ANYWHERE", dialect) is O.UNKNOWN
    assert normalize(987654, dialect) is O.UNKNOWN


@pytest.mark.parametrize("dialect", BUILTIN_DIALECTS)
def test_an_outcome_passes_through_any_dialect_unchanged(dialect: str) -> None:
    assert normalize(O.VOICEMAIL, dialect) is O.VOICEMAIL


def test_a_dialect_name_matches_in_any_case() -> None:
    assert normalize(486, " SIP ") is O.BUSY


def test_an_unknown_dialect_is_refused_with_the_known_dialects_listed() -> None:
    with pytest.raises(UnknownOutcome) as raised:
        normalize("BUSY", "kamailio")
    assert raised.value.dialect == "kamailio"
    assert raised.value.code == "BUSY"
    assert "'kamailio'" in str(raised.value)
    for name in BUILTIN_DIALECTS:
        assert name in str(raised.value)


@pytest.mark.parametrize("code", [None, 4.86, b"486", True, ["486"]])
def test_a_code_that_is_neither_text_nor_an_integer_is_refused(code: object) -> None:
    with pytest.raises(UnknownOutcome, match="text or an integer"):
        normalize(code, "sip")  # type: ignore[arg-type]


@pytest.mark.parametrize("dialect", BUILTIN_DIALECTS)
@given(code=st.one_of(st.text(max_size=40), st.integers()))
def test_any_text_or_integer_normalizes_to_an_outcome_unless_it_is_an_operator_leg(
    dialect: str, code: str | int
) -> None:
    try:
        assert isinstance(normalize(code, dialect), Outcome)
    except OperatorLegCode:
        assert dialect in ("call_result", "freeswitch")


# --- no dialect: the canonical vocabulary ---------------------------------------------------

@pytest.mark.parametrize("outcome", list(Outcome), ids=ids)
def test_without_a_dialect_an_outcome_its_value_or_its_name_is_accepted(outcome: Outcome) -> None:
    assert normalize(outcome) is outcome
    assert normalize(outcome.value) is outcome
    assert normalize(outcome.name) is outcome
    assert normalize(f" {outcome.value.upper()} ") is outcome


@pytest.mark.parametrize("code", ["486", 486, "USER_BUSY", "answered", "", "no answer"])
def test_without_a_dialect_a_vendor_code_is_refused_with_outcomes_and_dialects_listed(code: str | int) -> None:
    with pytest.raises(UnknownOutcome) as raised:
        normalize(code)
    message = str(raised.value)
    assert repr(code) in message
    assert raised.value.code == code
    assert raised.value.dialect is None
    for outcome in Outcome:
        assert outcome.value in message
    for name in BUILTIN_DIALECTS:
        assert name in message


# --- register_dialect --------------------------------------------------------------------------

@pytest.mark.usefixtures("isolated_dialects")
def test_a_registered_dialect_is_listed_and_normalizes_its_codes() -> None:
    register_dialect("acme", {"Hung-Up Early": O.INCOMPLETE, "vm": "voicemail", 42: "BUSY"})
    assert "acme" in dialects()
    assert dialects() == tuple(sorted(dialects()))
    assert normalize("hung-up early", "acme") is O.INCOMPLETE
    assert normalize(" VM ", "acme") is O.VOICEMAIL
    assert normalize(42, "acme") is O.BUSY
    assert normalize("42", "acme") is O.BUSY
    assert normalize("something else", "acme") is O.UNKNOWN


@pytest.mark.usefixtures("isolated_dialects")
def test_a_registered_dialect_refuses_a_value_that_is_not_an_outcome_and_names_it() -> None:
    with pytest.raises(UnknownOutcome, match="'answered_ok'"):
        register_dialect("acme", {"OK": O.COMPLETED, "DONE": "answered_ok"})
    assert "acme" not in dialects()


@pytest.mark.usefixtures("isolated_dialects")
@pytest.mark.parametrize("name", ["sip", "Q850", "session_status"])
def test_registering_a_built_in_name_without_replace_is_refused(name: str) -> None:
    with pytest.raises(ConfigurationError, match="replace=True") as raised:
        register_dialect(name, {"X": O.FAILED})
    assert isinstance(raised.value, UnknownOutcome)
    assert normalize(486, "sip") is O.BUSY


@pytest.mark.usefixtures("isolated_dialects")
def test_registering_a_taken_name_again_is_refused_until_replace_is_passed() -> None:
    register_dialect("acme", {"X": O.FAILED})
    with pytest.raises(ConfigurationError, match="taken"):
        register_dialect("ACME", {"X": O.BUSY})
    assert normalize("x", "acme") is O.FAILED
    register_dialect("acme", {"X": O.BUSY}, replace=True)
    assert normalize("x", "acme") is O.BUSY


@pytest.mark.usefixtures("isolated_dialects")
def test_a_built_in_dialect_can_be_replaced_explicitly() -> None:
    register_dialect("asterisk", {"CHANUNAVAIL": O.CONGESTION}, replace=True)
    assert normalize("CHANUNAVAIL", "asterisk") is O.CONGESTION


@pytest.mark.usefixtures("isolated_dialects")
@pytest.mark.parametrize(
    ("name", "mapping", "complaint"),
    [
        ("acme", {"busy": O.BUSY, "BUSY ": O.FAILED}, "both read as 'busy'"),
        ("acme", {7: O.BUSY, "7": O.FAILED}, "both read as"),
        ("acme", {}, "non-empty"),
        ("acme", {"  ": O.BUSY}, "empty"),
        ("acme", {1.5: O.BUSY}, "text or integers"),
        ("acme", {True: O.BUSY}, "text or integers"),
        ("acme", {"x": 3}, "not an outcome"),
        ("", {"x": O.BUSY}, "name"),
    ],
)
def test_a_dialect_whose_codes_cannot_be_read_unambiguously_is_refused(
    name: str, mapping: dict[object, object], complaint: str
) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        register_dialect(name, mapping)  # type: ignore[arg-type]
    assert dialects() == BUILTIN_DIALECTS
