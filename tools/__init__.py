"""Command-line tools of the project (run from the repository root: ``python -m tools.<name>``).

Importing ``stacks`` puts the function's folder on the import path (``stacks/__init__.py``), before any tool imports
``genai_core``.
"""

import stacks  # noqa: F401
