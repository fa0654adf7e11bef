"""Infrastructure: the CDK stacks and the constructs they compose.

A fact that crosses into the function has one home, in the function's pure modules (the use-case catalog, the client
limits, the environment's variable names): the stacks import them. So the function's folder is put on the import
path here, once, first, as the Lambda runtime sees it (``tools``, ``bench`` and ``tests`` import this package for it). Only modules that need nothing but the standard library may be
imported from it: never one that imports boto3 or Powertools (tests/test_app.py checks that synthesizing the app
imports neither).
"""

from __future__ import annotations

import sys
from pathlib import Path

FUNCTION_DIR = Path(__file__).resolve().parent.parent / "lambda" / "genai_api"
if str(FUNCTION_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTION_DIR))
