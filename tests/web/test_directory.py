"""One camera listing serves every page; visibility is the gateway's."""

from __future__ import annotations

import asyncio

import pytest

from cluster.config.server import Role
from cluster.control import CameraNotFound
from cluster.gateway.auth import AuthError, Principal
from cluster.web.directory import CameraDirectory
from tests.gateway.fakes import FakeControl, camera_config

from .harness import ManualClock

ADMIN = Principal("admin", Role.ADMIN)
WARD_1 = Principal("w1", Role.VIEWER, groups=frozenset({"ward-1"}), scoped=True)
BY_ID = Principal("a", Role.VIEWER, cameras=frozenset({"cam-a", "cam-gone"}), scoped=True)


class CountingControl(FakeControl):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.listings = 0

    async def list_cameras(self):
        self.listings += 1
        await asyncio.sleep(0.01)
        return await super().list_cameras()


def cameras() -> list:
    return [camera_config("cam-a", ("ward-1",)), camera_config("cam-b", ("ward-2",))]


def test_concurrent_readers_share_one_listing() -> None:
    async def run() -> int:
        control = CountingControl(cameras())
        directory = CameraDirectory(control, 2.0, ManualClock(0.0))
        await asyncio.gather(*(directory.views() for _ in range(50)))
        return control.listings

    assert asyncio.run(run()) == 1, "fifty pages asking at once must cost one listing"


def test_a_listing_is_reused_until_it_is_max_age_old() -> None:
    async def run() -> list[int]:
        clock = ManualClock(0.0)
        control = CountingControl(cameras())
        directory = CameraDirectory(control, 2.0, clock)
        counts = []
        for step in (0.0, 1.9, 0.2):
            clock.advance(step)
            await directory.views()
            counts.append(control.listings)
        return counts

    assert asyncio.run(run()) == [1, 1, 2], "reused while fresh, listed again once older than max_age_s"


def test_visible_cameras_follow_the_principals_scope_and_groups() -> None:
    async def run() -> tuple[list, list, list]:
        directory = CameraDirectory(FakeControl(cameras()), 2.0, ManualClock(0.0))
        everything = [v.config.id for v in await directory.visible(ADMIN)]
        ward = [v.config.id for v in await directory.visible(WARD_1)]
        filtered = [v.config.id for v in await directory.visible(ADMIN, frozenset({"ward-2"}))]
        return everything, ward, filtered

    everything, ward, filtered = asyncio.run(run())
    assert everything == ["cam-a", "cam-b"], "an admin sees every camera"
    assert ward == ["cam-a"], "a ward-1 viewer sees its group only"
    assert filtered == ["cam-b"], "a group filter narrows the list"


def test_camera_lookup_answers_like_the_gateway() -> None:
    async def outcome(principal: Principal, camera_id: str) -> str:
        directory = CameraDirectory(FakeControl(cameras()), 2.0, ManualClock(0.0))
        try:
            await directory.camera(principal, camera_id)
        except AuthError:
            return "denied"
        except CameraNotFound:
            return "not found"
        return "ok"

    cases = {
        (ADMIN, "cam-b"): "ok",
        (ADMIN, "cam-x"): "not found",
        (WARD_1, "cam-a"): "ok",
        (WARD_1, "cam-b"): "denied",
        (WARD_1, "cam-x"): "denied",  # the same answer as for cam-b: no probing of ids
        (BY_ID, "cam-gone"): "not found",  # in its scope by id: it may know it is gone
    }
    got = {(p.name, c): asyncio.run(outcome(p, c)) for (p, c) in cases}
    assert got == {(p.name, c): want for (p, c), want in cases.items()}, f"lookups: {got}"


def test_a_camera_added_after_the_listing_is_found() -> None:
    async def run() -> str:
        clock = ManualClock(0.0)
        control = FakeControl(cameras())
        directory = CameraDirectory(control, 60.0, clock)
        await directory.views()
        await control.add_camera(camera_config("cam-new"))
        clock.advance(1.0)  # older than FRESH_LOOKUP_S, far younger than the directory's 60 s
        return (await directory.camera(ADMIN, "cam-new")).config.id

    assert asyncio.run(run()) == "cam-new", "a camera missing from the cached listing must be looked up afresh"


def test_a_failed_listing_is_not_kept() -> None:
    class Flaky(FakeControl):
        calls = 0

        async def list_cameras(self):
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("scheduler busy")
            return await super().list_cameras()

    async def run() -> list:
        directory = CameraDirectory(Flaky(cameras()), 2.0, ManualClock(0.0))
        with pytest.raises(RuntimeError):
            await directory.views()
        return sorted(await directory.views())

    assert asyncio.run(run()) == ["cam-a", "cam-b"], "after a failure the next reader must list again"
