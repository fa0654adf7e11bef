"""Imported first by ``handler.py``: the cyclic garbage collector is paused while the container initializes.

The init creates a few hundred thousand long-lived objects (botocore's service model and client, Powertools, the
catalog and its compiled schemas) and next to no garbage. With the collector on, those allocations trigger collection
after collection, a full one among them, each walking the objects made so far: a large share of the init's CPU time
(``make bench`` measures the before and after: docs/PERFORMANCE.md). ``done()``, at the end of ``handler.py``, moves
every object alive at that point into the permanent generation (``gc.freeze``), so that the collections made while
serving requests skip them too, and switches the collector back on.

If the init fails, the runtime discards the process: the collector is never left off in a process that serves.
"""

from __future__ import annotations

import gc

gc.disable()


def done() -> None:
    """End of the init: freeze what it created and switch the collector back on."""
    gc.freeze()
    gc.enable()
