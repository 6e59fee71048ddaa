"""The duty-room web console: pages, a JSON API and one multiplexed WebSocket per page,
served by the front door beside the gRPC gateway (docs/web-console.md).

It is another subscriber of the gateway's fan-out hubs and uses the gateway's token
authenticator and access log, so a browser costs no extra camera work and is scoped
and logged exactly like a gRPC client.
"""
