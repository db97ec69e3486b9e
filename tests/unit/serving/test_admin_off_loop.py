"""Admin changes run in threads, a bounded number at once (issue 23): the event loop never waits."""

from __future__ import annotations

import asyncio
import threading

import pytest

from mockserver.serving.admin import AdminError, OffLoop


def test_a_change_runs_off_the_loop_and_a_flood_beyond_the_bound_is_refused() -> None:
    release = threading.Event()
    loop_threads: list[int] = []

    def waits() -> int:
        loop_threads.append(threading.get_ident())
        assert release.wait(10)
        return 7

    async def scenario() -> None:
        off_loop = OffLoop(limit=2)
        loop_thread = threading.get_ident()
        first = asyncio.create_task(off_loop.run(waits))
        second = asyncio.create_task(off_loop.run(waits))
        await asyncio.sleep(0.2)  # the loop goes on while both wait
        assert off_loop.running == 2
        with pytest.raises(AdminError) as refused:
            await off_loop.run(waits)
        assert (refused.value.status, refused.value.code) == (503, "admin_busy")
        release.set()
        assert await first == await second == 7
        assert off_loop.running == 0
        assert loop_thread not in loop_threads, "the changes ran in threads"
        assert await off_loop.run(lambda: 8) == 8, "room again once they are done"

    asyncio.run(scenario())
