"""The stacks' output names: written by the stacks, read by the tools that call a deployment (``tools/smoke.py``,
``tools/client.py``). Pure: the tools import it without the CDK."""

from __future__ import annotations

API_URL = "ApiUrl"  # the API's base URL, stage included
API_KEY_ID = "ApiKeyId"  # authMode=api-key: the id of the stack's API key (never its value)
FUNCTION_NAME = "FunctionName"
STREAM_FUNCTION_NAME = "StreamFunctionName"
UPLOADS_BUCKET_NAME = "UploadsBucketName"  # the uploads bucket: make local uses a deployed one when given its name
GUARDRAIL_IDS = {"full": "GuardrailId", "prompt-attack": "PromptAttackGuardrailId"}  # by guardrail profile
DASHBOARD_URL = "DashboardUrl"
ALARM_TOPIC_ARN = "AlarmTopicArn"
# The knowledge base (unless -c knowledgeBase=false): what make ingest and make local read.
KNOWLEDGE_BASE_ID = "KnowledgeBaseId"
KNOWLEDGE_BASE_DATA_SOURCE_ID = "KnowledgeBaseDataSourceId"
CORPUS_BUCKET_NAME = "CorpusBucketName"
# The conversation table (unless -c conversations=false): what make smoke checks for and make local may use.
CONVERSATIONS_TABLE_NAME = "ConversationsTableName"
