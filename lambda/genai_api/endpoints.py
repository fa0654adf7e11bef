"""The function's HTTP paths that are not a use case's, and the streaming server's port: shared by the adapters, the
stack and the tools, so each has one home. (A use case's own paths come from the catalog: ``UseCase.path`` and
``UseCase.stream_path``.) Standard library only: the stack imports it.
"""

from __future__ import annotations

# GET: the catalog's public part (handler.py); an API Gateway resource (stacks/components/rest_api.py).
DISCOVERY_PATH = "/use-cases"
# POST: a presigned PUT for one file, owned by the caller (handler.py, genai_core.uploads); an API Gateway resource.
UPLOADS_PATH = "/uploads"
# GET: the caller's own conversations (handler.py's conversations_router); below it, one conversation's path, whose
# one segment is the path parameter CONVERSATION_PARAMETER (GET, DELETE). API Gateway resources of the same names.
CONVERSATIONS_PATH = "/conversations"
CONVERSATION_PARAMETER = "conversationId"
# The streaming server's readiness check (stream_server.py), which the Lambda Web Adapter polls before the first
# request (AWS_LWA_READINESS_CHECK_PATH, set by stacks/components/streaming.py). API Gateway never routes here.
HEALTH_PATH = "/healthz"
# The header API Gateway reads an API key from (authMode=api-key).
API_KEY_HEADER = "x-api-key"
# The port the Lambda Web Adapter forwards to and the streaming server listens on (AWS_LWA_PORT).
ADAPTER_PORT_VARIABLE = "AWS_LWA_PORT"
ADAPTER_PORT = 8080
