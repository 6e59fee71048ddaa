"""matthan.v1.Cluster: cluster status and node administration."""

from __future__ import annotations

import grpc

from ..config.server import Role
from ..contract import RequestError
from ..contract.convert import cluster_status_to_proto
from ..proto.matthan.v1 import cluster_pb2, cluster_pb2_grpc
from .auth import Principal
from .rpc import GatewayState, StatusError, unary

MAX_NODE_ID_LENGTH = 256  # Ray node ids are 56 hex characters


class ClusterService(cluster_pb2_grpc.ClusterServicer):
    def __init__(self, state: GatewayState):
        self.state = state

    @unary(Role.OPERATOR)
    async def GetClusterStatus(self, request, context, principal: Principal):
        return cluster_status_to_proto(await self.state.control.cluster_status())

    @unary(Role.ADMIN)
    async def DrainNode(self, request, context, principal: Principal):
        node_id = request.node_id.strip()
        if not node_id:
            raise RequestError("node_id", "must not be empty")
        if len(node_id) > MAX_NODE_ID_LENGTH:
            raise RequestError("node_id", f"longer than {MAX_NODE_ID_LENGTH} characters")
        try:
            result = await self.state.control.drain_node(node_id)
        except NotImplementedError:  # a control plane without placement (an in-memory one)
            raise StatusError(
                grpc.StatusCode.UNIMPLEMENTED, "DrainNode needs the scheduler; this control plane cannot drain nodes"
            ) from None
        return cluster_pb2.DrainNodeResponse(
            node_id=result.node_id,
            moved_camera_ids=list(result.moved_camera_ids),
            stranded_camera_ids=list(result.stranded_camera_ids),
        )
