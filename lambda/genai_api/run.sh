#!/bin/sh
# The streaming function's "handler": the Lambda Web Adapter (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap) runs this
# command and forwards each invocation to the server it starts. Keep the runtime's path and add the function's code
# and the layers (/opt/python: Powertools).
export PYTHONPATH="${LAMBDA_TASK_ROOT}:/opt/python${PYTHONPATH:+:$PYTHONPATH}"
exec python3 "${LAMBDA_TASK_ROOT}/stream_server.py"
