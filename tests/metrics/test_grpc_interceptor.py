"""MetricsInterceptor on a real grpc.aio server: codes, durations, streams, unknown methods."""

from __future__ import annotations

import asyncio

import grpc
import grpc.aio
import pytest
from prometheus_client import CollectorRegistry

from cluster.metrics.gateway import GatewayMetrics

SERVICE = "test.v1.Echo"


async def echo(request: bytes, context) -> bytes:
    return request


async def missing(request: bytes, context) -> bytes:
    await context.abort(grpc.StatusCode.NOT_FOUND, "no such camera")


async def broken(request: bytes, context) -> bytes:
    raise RuntimeError("a bug in a handler")


async def quietly_denied(request: bytes, context) -> bytes:
    context.set_code(grpc.StatusCode.PERMISSION_DENIED)
    return b""


async def count(request: bytes, context):
    for i in range(int(request.decode())):
        yield str(i).encode()


async def forever(request: bytes, context):
    while True:
        yield b"tick"
        await asyncio.sleep(0.01)


async def written(request: bytes, context) -> None:  # a stream handler that writes instead of yielding
    await context.write(b"one")
    await context.write(b"two")


def handlers():
    unary = {
        name: grpc.unary_unary_rpc_method_handler(fn)
        for name, fn in [("Echo", echo), ("Missing", missing), ("Broken", broken), ("Denied", quietly_denied)]
    }
    streams = {
        name: grpc.unary_stream_rpc_method_handler(fn)
        for name, fn in [("Count", count), ("Forever", forever), ("Written", written)]
    }
    return grpc.method_handlers_generic_handler(SERVICE, {**unary, **streams})


def run_scenario(scenario):
    registry = CollectorRegistry()
    metrics = GatewayMetrics(registry)

    async def main():
        server = grpc.aio.server(interceptors=[metrics.interceptor()])
        server.add_generic_rpc_handlers((handlers(),))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                await scenario(channel, registry)
        finally:
            await server.stop(None)

    asyncio.run(main())
    return registry


def handled(registry, method: str, code: str) -> float | None:
    return registry.get_sample_value(
        "matthan_gateway_rpcs_handled_total", {"method": f"{SERVICE}/{method}", "code": code}
    )


def test_unary_calls_are_counted_by_code_and_timed():
    async def scenario(channel, registry):
        assert await channel.unary_unary(f"/{SERVICE}/Echo")(b"hi") == b"hi"
        for method, code in [
            ("Missing", grpc.StatusCode.NOT_FOUND),
            ("Broken", grpc.StatusCode.UNKNOWN),
            ("Denied", grpc.StatusCode.PERMISSION_DENIED),
        ]:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await channel.unary_unary(f"/{SERVICE}/{method}")(b"x")
            assert err.value.code() == code, "the interceptor must not change what the client sees"

    registry = run_scenario(scenario)
    assert handled(registry, "Echo", "OK") == 1
    assert handled(registry, "Missing", "NOT_FOUND") == 1
    assert handled(registry, "Broken", "UNKNOWN") == 1
    assert handled(registry, "Denied", "PERMISSION_DENIED") == 1
    assert registry.get_sample_value("matthan_gateway_rpc_duration_seconds_count", {"method": f"{SERVICE}/Echo"}) == 1
    assert registry.get_sample_value("matthan_gateway_rpcs_in_flight", {"method": f"{SERVICE}/Echo"}) == 0


def test_streams_are_counted_but_not_timed():
    async def scenario(channel, registry):
        replies = [r async for r in channel.unary_stream(f"/{SERVICE}/Count")(b"3")]
        assert replies == [b"0", b"1", b"2"]
        assert [r async for r in channel.unary_stream(f"/{SERVICE}/Written")(b"")] == [b"one", b"two"]

    registry = run_scenario(scenario)
    assert handled(registry, "Count", "OK") == 1
    assert handled(registry, "Written", "OK") == 1
    assert (
        registry.get_sample_value("matthan_gateway_rpc_duration_seconds_count", {"method": f"{SERVICE}/Count"}) is None
    ), "a stream's length is no latency"


def test_a_stream_the_client_cancels_is_counted_as_cancelled_and_leaves_no_call_in_flight():
    async def scenario(channel, registry):
        call = channel.unary_stream(f"/{SERVICE}/Forever")(b"")
        assert await call.read() == b"tick"
        call.cancel()
        for _ in range(500):  # until the server has noticed the cancellation (at most 5 s)
            if handled(registry, "Forever", "CANCELLED"):
                break
            await asyncio.sleep(0.01)

    registry = run_scenario(scenario)
    assert handled(registry, "Forever", "CANCELLED") == 1
    assert registry.get_sample_value("matthan_gateway_rpcs_in_flight", {"method": f"{SERVICE}/Forever"}) == 0


def test_unknown_methods_share_one_label():
    async def scenario(channel, registry):
        for name in ("Nope1", "Nope2"):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await channel.unary_unary(f"/{SERVICE}/{name}")(b"")
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED

    registry = run_scenario(scenario)
    assert (
        registry.get_sample_value("matthan_gateway_rpcs_handled_total", {"method": "unknown", "code": "UNIMPLEMENTED"})
        == 2
    )
    assert handled(registry, "Nope1", "UNIMPLEMENTED") is None
