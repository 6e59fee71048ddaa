"""The gRPC front door: server, auth, fan-out of camera streams to clients."""
