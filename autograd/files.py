"""Writing files so that they appear whole or not at all, for every package that saves something."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path``: readers see the old file or the whole new one, never a part.

    The bytes go to a new temporary file in the same folder (opened with "x", so nothing is clobbered,
    and its permissions follow the umask), are flushed to disk, and the file is then renamed over
    ``path`` in one step. On any failure, an interrupt included, the temporary file is removed and
    ``path`` keeps its old content. Missing parent folders are created. Returns ``path`` as a Path.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"write_atomically: data must be bytes, got {type(data).__name__}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
