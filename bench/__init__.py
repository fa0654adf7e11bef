"""``make bench``: the speed, memory and size budgets (``python -m bench``).

Importing ``stacks`` puts the function's folder on the import path (``stacks/__init__.py``).
"""

import stacks  # noqa: F401
