"""A grpc.aio server interceptor that records every RPC into `GatewayMetrics`.

Per call: in-flight gauge while it runs, then a handled counter by method and
status code; unary calls also get their duration in a histogram (a stream's
duration is a session length, not a latency, so streams only count). The code
is what the handler set (`context.abort`, `context.set_code`), CANCELLED when the
client went away, UNKNOWN for an exception gRPC turns into UNKNOWN. Methods the
server does not implement are counted once as method "unknown" so a client
probing random names cannot grow the label set.

Put it first in the interceptor list so it also sees calls that later
interceptors (authentication, malformed requests) refuse.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any, Protocol

import grpc
import grpc.aio


class RpcRecorder(Protocol):
    """What the interceptor records into (`GatewayMetrics` implements it)."""

    clock: Callable[[], float]

    def rpc_started(self, method: str) -> None: ...

    def rpc_finished(self, method: str, code: str, seconds: float | None) -> None: ...

    def rpc_unimplemented(self) -> None: ...


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, metrics: RpcRecorder):
        self._metrics = metrics

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            self._metrics.rpc_unimplemented()
            return None
        method = handler_call_details.method.lstrip("/")
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, handler.unary_unary), handler.request_deserializer, handler.response_serializer
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._unary(method, handler.stream_unary), handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(method, handler.unary_stream), handler.request_deserializer, handler.response_serializer
            )
        return grpc.stream_stream_rpc_method_handler(
            self._stream(method, handler.stream_stream), handler.request_deserializer, handler.response_serializer
        )

    def _unary(self, method: str, behaviour):
        metrics = self._metrics

        async def call(request_or_iterator, context):
            metrics.rpc_started(method)
            started = metrics.clock()
            code = "UNKNOWN"
            try:
                response = await behaviour(request_or_iterator, context)
                code = _code(context, "OK")
                return response
            except BaseException as exc:
                code = _failure_code(context, exc)
                raise
            finally:
                metrics.rpc_finished(method, code, max(0.0, metrics.clock() - started))

        return call

    def _stream(self, method: str, behaviour):
        metrics = self._metrics
        if inspect.isasyncgenfunction(behaviour):

            async def stream(request_or_iterator, context):
                metrics.rpc_started(method)
                code = "UNKNOWN"
                try:
                    async for response in behaviour(request_or_iterator, context):
                        yield response
                    code = _code(context, "OK")
                except BaseException as exc:
                    code = _failure_code(context, exc)
                    raise
                finally:
                    metrics.rpc_finished(method, code, None)

            return stream

        async def written(request_or_iterator, context):  # handlers that use context.write()
            metrics.rpc_started(method)
            code = "UNKNOWN"
            try:
                result = await behaviour(request_or_iterator, context)
                code = _code(context, "OK")
                return result
            except BaseException as exc:
                code = _failure_code(context, exc)
                raise
            finally:
                metrics.rpc_finished(method, code, None)

        return written


def _code(context: Any, default: str) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):
        for status in grpc.StatusCode:
            if status.value[0] == code:
                return status.name
    return default


def _failure_code(context: Any, exc: BaseException) -> str:
    if isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
        return _code(context, "CANCELLED")
    return _code(context, "UNKNOWN")
