import asyncio

from dialstate import DialMode, Outcome
from dialstate.aio import AsyncEngine, AsyncScheduler


async def crm_export():  # any async iterable: an HTTP stream, a database cursor, a queue
    for phone in ["+49 30 1234567", "+49 30 7654321", "+49 30 5550000"]:
        yield {"phone": phone, "data": {"source": "crm"}}


async def main() -> None:
    async with AsyncEngine("sqlite:///async-example.db") as engine:  # or postgresql+psycopg://...
        campaign = await engine.create_campaign("Spring survey", mode=DialMode.AGENTLESS,
                                                default_region="DE", timezone="Europe/Berlin")
        report = await engine.add_contacts(campaign.id, crm_export())
        assert report.added == 3

        async def place_call(event):  # a coroutine subscriber: awaited after each commit
            if event.entry.to_state == "dialing":
                ...  # originate through your PBX client (ARI, ESL, a cloud API) here

        await engine.subscribe(place_call)  # awaited or not: both subscribe
        scheduler = AsyncScheduler(engine)
        scheduler.start()  # retries and timers fire on this event loop
        try:
            # 20 concurrent dialer coroutines share the engine's pool
            claims = await asyncio.gather(*(engine.dial_next(campaign.id, 1) for _ in range(20)))
            contacts = [c for claimed in claims for c in claimed]
            assert len(contacts) == 3  # each contact claimed exactly once
            busy = await engine.call_ended(contacts[0].id, "486", dialect="sip", call_id=contacts[0].call_id)
            assert busy.state == "retry_scheduled" and busy.last_outcome == Outcome.BUSY
        finally:
            await scheduler.shutdown()


asyncio.run(main())
