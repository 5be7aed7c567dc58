"""Who holds a piece of outbound work, and whether that worker is still alive.

Every holder writes a lease (its name and an expiry) on the row. On PostgreSQL it also
takes a session advisory lock, which the server drops the moment the worker's
connection dies, so others can take over at once instead of waiting out the lease.
"""

import os
import socket
import uuid
import zlib

from django.db import connection


def new_worker_name() -> str:
    """Name one worker for leases: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def advisory_key(kind: str, pk: int) -> tuple[int, int]:
    """The two numbers of the advisory lock on a row of this kind."""
    return zlib.crc32(kind.encode()) & 0x7FFFFFFF, pk


def _advisory() -> bool:
    return connection.vendor == "postgresql"


def take(kind: str, pk: int) -> bool:
    """Take the advisory lock on a row; always granted where there are none."""
    if not _advisory():
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", advisory_key(kind, pk))
        return cursor.fetchone()[0]


def drop(kind: str, pk: int) -> None:
    """Release the advisory lock on a row."""
    if _advisory():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", advisory_key(kind, pk))


def holder_is_gone(kind: str, pk: int) -> bool:
    """Tell whether the database knows the row's holder has died."""
    if not _advisory() or not take(kind, pk):
        return False
    drop(kind, pk)
    return True
