"""A pause of Python's cyclic garbage collector around one large request's work.

Allocating many container objects (a 5,000-item bulk write builds a few hundred thousand dicts,
tuples and model-free records) triggers the collector again and again, and its full passes walk
every object the process holds, although nothing of the request is garbage yet: they cost about
0.2 s of such a write and find nothing. Pausing it is safe for a bounded piece of work:

- the request's objects are freed by reference counting as they go out of use (the collector
  only finds reference cycles, which it collects once it is enabled again);
- a sync worker serves one request at a time, so no other request runs with the collector off;
- the pause is bounded by the work itself (the bulk write takes at most 5,000 items).
"""
from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def gc_paused():
    """Disable the cyclic collector for the block, and enable it again afterwards (also when the
    block raises) if it was enabled before: a collector already disabled stays disabled."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
