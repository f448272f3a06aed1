"""Spec section 14: every public method of `Engine` exists on `AsyncEngine` as a
coroutine with the same parameters (names, kinds, defaults) and the same result.
When a method is added to `Engine`, this test names it until `AsyncEngine` has its
one-line twin."""

from __future__ import annotations

import inspect

import pytest

from dialstate import Engine
from dialstate.aio import AsyncEngine, AsyncScheduler
from dialstate.scheduler import Scheduler

#: Plain on both faces: they do no I/O and return at once (`AsyncScheduler.start`
#: calls `subscribe` on the running loop).
PLAIN = {"now", "subscribe"}
#: Parameters the async face widens: `contacts` may be an async iterable too.
WIDENED = {("add_contacts", "contacts"), ("create_campaign_with_contacts", "contacts")}


def public(cls: type) -> dict[str, object]:
    return {name: member for name, member in inspect.getmembers(cls) if not name.startswith("_")}


def test_every_public_method_of_the_engine_is_on_the_async_engine() -> None:
    missing = sorted(set(public(Engine)) - set(public(AsyncEngine)))
    assert not missing, f"AsyncEngine lacks {missing}: add a one-line coroutine for each"


@pytest.mark.parametrize("name", sorted(n for n, m in public(Engine).items() if callable(m)))
def test_each_async_method_takes_the_same_parameters_and_returns_the_same(name: str) -> None:
    sync, aio = getattr(Engine, name), getattr(AsyncEngine, name, None)
    assert aio is not None, f"AsyncEngine.{name} is missing"
    assert inspect.iscoroutinefunction(aio) is (name not in PLAIN), \
        f"AsyncEngine.{name} must be {'plain' if name in PLAIN else 'a coroutine function'}"
    ours, theirs = inspect.signature(sync), inspect.signature(aio)
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == \
        [(p.name, p.kind, p.default) for p in theirs.parameters.values()]
    for parameter in ours.parameters.values():
        if (name, parameter.name) not in WIDENED:
            assert theirs.parameters[parameter.name].annotation == parameter.annotation, (name, parameter.name)
    assert theirs.return_annotation == ours.return_annotation
    assert aio.__doc__ == sync.__doc__ or name in PLAIN, f"{name} lost its docstring"


def test_the_async_scheduler_has_the_sync_schedulers_public_api() -> None:
    plain = {"start", "fired_total", "running"}
    for name in set(public(Scheduler)) - {"engine", "batch_size", "sweep_seconds", "busy_backoff_seconds"}:
        member = getattr(AsyncScheduler, name, None)
        assert member is not None, f"AsyncScheduler lacks {name}"
        if name not in plain:
            assert inspect.iscoroutinefunction(member), name
