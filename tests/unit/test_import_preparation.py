"""The preparation behind `add_contacts` (spec section 0), without a database: the
fast phone path agrees with `parse_phone` and `resolve_zones` on every region's
numbers, and batches prepared in worker processes equal the serial ones."""

from __future__ import annotations

from datetime import UTC, datetime

import phonenumbers
import pytest

from dialstate import CallingWindow
from dialstate.engine import prepare
from dialstate.phones import parse_phone, phone_and_zones, resolve_zones

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)
WINDOW = CallingWindow("09:00", "21:00")


def _corpus() -> list[tuple[str, str]]:
    """Every region's example numbers, written three ways, and some near misses."""
    inputs = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
                     phonenumbers.PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for style in (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                          phonenumbers.PhoneNumberFormat.NATIONAL):
                text = phonenumbers.format_number(example, style)
                inputs += [(text, region), (text[:-1], region), (text + "7", region)]
    return inputs


@pytest.mark.parametrize("window", [None, WINDOW], ids=["no-window", "window"])
def test_the_fast_phone_path_agrees_with_parse_phone_and_resolve_zones(window: CallingWindow | None) -> None:
    for raw, region in _corpus():
        e164, reason = parse_phone(raw, region)
        expected = (e164, reason, resolve_zones(window, None, e164, "Europe/Berlin", at=AT))
        assert phone_and_zones(raw, region, window, None, "Europe/Berlin", AT) == expected, raw


def test_preparing_in_worker_processes_gives_the_serial_result() -> None:
    settings = prepare.ImportSettings("DE", WINDOW, "Europe/Berlin", AT)
    items: list[object] = [f"+49 30 {2000000 + i}" if i % 7 else f"030 {3000000 + i}" for i in range(9000)]
    parallel = list(prepare.prepared_batches(items, settings, workers=2, parallel_after=2000))
    assert [start for start, _, _ in parallel] == list(range(0, 9000, prepare.BATCH))
    serial = [prepare.prepare_batch(items[start:start + prepare.BATCH], settings, start)
              for start in range(0, 9000, prepare.BATCH)]
    assert [batch for _, _, batch in parallel] == serial
    assert sum(len(batch.rows) for batch in serial) == 9000
