"""One database connection per thread (and per process), for the stores in this package.

A store is shared by the threads of a service; each thread gets its own connection (SQLite and
psycopg connections are not for concurrent use), made on first use. A connection never crosses a
fork: a child process makes its own. A thread's connection is closed when the thread is gone, so
a service that starts a thread per request does not keep one open per request; ``close_all``
closes every thread's.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Generic, Protocol, TypeVar

from claimedit.history.store import HistoryError


class _Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


class PerThreadConnections(Generic[C]):
    """The connections of one store, one per thread that used it."""

    def __init__(self) -> None:
        self._local = threading.local()
        self.connections: list[C] = []
        self._guard = threading.Lock()
        self._closed = False

    def current(self) -> C | None:
        """This thread's connection, or None when it has none yet (or it was made before a
        fork). Raises :class:`HistoryError` once the store is closed."""
        if self._closed:
            raise HistoryError("the history store is closed")
        db: C | None = getattr(self._local, "db", None)
        if db is not None and self._local.pid == os.getpid():
            return db
        return None

    def register(self, db: C) -> C:
        """Keep ``db`` as this thread's connection until the thread ends or ``close_all``."""
        with self._guard:
            self.connections.append(db)
        weakref.finalize(threading.current_thread(), self._release, db)
        self._local.db = db
        self._local.pid = os.getpid()
        return db

    def _release(self, db: C) -> None:
        with self._guard:
            if db not in self.connections:
                return  # closed by close_all() already
            self.connections.remove(db)
        db.close()

    def close_all(self) -> None:
        with self._guard:
            self._closed = True
            connections, self.connections = self.connections, []
        for db in connections:
            db.close()
