"""The core of the function: use-case catalog, prompts, Bedrock Converse and the error taxonomy.

Entry points (``handler.py`` for API Gateway; later a local server and a streaming adapter) are thin adapters over
``service.UseCaseService``. Nothing in this package imports API Gateway or Lambda types.
"""
