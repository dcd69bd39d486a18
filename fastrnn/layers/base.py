"""One call at a time per layer, and pickling without the lock."""

from __future__ import annotations

import threading
from typing import Any


class Layer:
    """Base of fastrnn's layers.

    A layer holds the state of one sequence (the forward cache, ``h``,
    ``dh``), so two threads calling one layer at once would mix their
    sequences. Such a call raises ``RuntimeError`` instead (``_exclusive``);
    give each thread its own layer. Kernels release the GIL, so layers in
    different threads do run in parallel. Pickling drops the lock and
    unpickling makes a new one, for multiprocessing, Dask or Ray workers.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def _exclusive(self) -> "_Held":
        if not self._lock.acquire(blocking=False):
            raise RuntimeError(
                f"this {type(self).__name__} is already running a call in another "
                "thread; a layer holds one sequence's state, so give each thread "
                "its own layer")
        return _Held(self._lock)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


class _Held:
    """Context manager that releases an already acquired lock on exit."""

    __slots__ = ("_lock",)

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
