"""The tests (``make test``). pytest puts the function's folder on the import path (pyproject.toml); importing
``stacks`` does the same for code that imports ``tests.support`` outside pytest (``bench``)."""

import stacks  # noqa: F401
