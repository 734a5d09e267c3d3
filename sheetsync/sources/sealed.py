"""Sealed state files: a pickle behind a magic line and a SHA-256 of its bytes.

The parse cache and the program snapshot are both kept this way. A file that is missing, from
another version, truncated, or damaged in any way reads as absent and is deleted: it is never
trusted. Writes go to a temporary file beside the target and are moved into place, so a reader
never sees half a file. A state file that cannot be written only costs speed next time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from pathlib import Path
from typing import Any


def read_sealed(path: Path, magic: bytes) -> Any | None:
    """The object stored at ``path``, or None (a damaged file is deleted)."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    try:
        if not blob.startswith(magic):
            raise ValueError("bad magic")
        digest, payload = blob[len(magic):len(magic) + 32], memoryview(blob)[len(magic) + 32:]
        if hashlib.sha256(payload).digest() != digest:
            raise ValueError("checksum mismatch")
        return pickle.loads(payload)  # noqa: S301 - our own file, checksummed
    except Exception:  # noqa: BLE001 - any damage means: discard
        discard(path)
        return None


def write_sealed(path: Path, magic: bytes, value: Any) -> None:
    """Store ``value`` at ``path`` atomically; errors are swallowed (see the module note)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with open(tmp, "wb") as handle:
            handle.write(magic)
            handle.write(hashlib.sha256(payload).digest())
            handle.write(payload)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def discard(path: Path) -> None:
    # a file that cannot be deleted is still never trusted: it fails its checks again
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
