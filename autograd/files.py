"""Writing files so that they appear whole or not at all, for every package that saves something.

The rules of :func:`write_atomically`, which every writer uses (nn model files, viz diagrams, frames, GIFs):

- **Whole or nothing.** The bytes go to a temporary file in the target's own folder, are flushed to
  disk, and the temporary file is renamed over the target in one step. On any failure (a full disk,
  Ctrl-C, any BaseException) the temporary file is removed and the old file keeps its content.
- **Permissions.** Re-saving an existing file keeps its permission bits (a mode-600 file stays 600);
  a new file gets the usual mode for new files (0o666 less the umask).
- **Symlinks.** A symlink at the path is written *through*: its target file gets the new content and
  the link stays a link, as with ``open(path, "wb")``. A symlink loop is refused (OSError, ELOOP).
- **Directories.** A directory at the path is refused (IsADirectoryError) before anything is written.
  Missing parent folders are created.
- **Temporary names.** ``.chainrule-<8 hex>-<16 hex>.tmp``: short, so a target name up to the file
  system's limit (255 bytes) still works, and recognisable: the first part is a hash of the target's
  name. A process killed mid-write leaves such a file behind; each later write to the same target
  removes those older than :data:`STALE_AFTER` seconds (and the ``.<name>.<32 hex>.tmp`` files of
  earlier versions). Nothing else is ever deleted.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
import time
from pathlib import Path

STALE_AFTER = 600.0
"""Seconds after which a temporary file of this module, left beside its target, counts as abandoned."""

_PREFIX = ".chainrule-"
_PERMISSION_BITS = 0o777


def write_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path``: readers see the old file or the whole new one, never a part.

    See the module's documentation for the rules: permissions are kept, a symlink is written through
    to its target, a directory is refused, stale temporary files of earlier killed writes are removed.
    On any failure, an interrupt included, no temporary file is left and ``path`` keeps its old
    content. Returns ``path`` as a Path (the path given, not the symlink's target).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"write_atomically: data must be bytes, got {type(data).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"write_atomically: path must be a str or a path, got {type(path).__name__}")
    given = Path(path)
    given.parent.mkdir(parents=True, exist_ok=True)
    target = _resolve(given)
    mode = _existing_mode(target)
    _remove_stale_temporaries(target)
    temporary = target.with_name(f"{_PREFIX}{_tag(target.name)}-{secrets.token_hex(8)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                             0o666 if mode is None else mode)  # fmt: skip
        try:
            _write_all(descriptor, memoryview(data).cast("B"))
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(descriptor, mode)  # exactly the old bits, whatever the umask took away
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(target.parent)
    return given


def _resolve(given: Path) -> Path:
    """The file to replace: ``given`` itself, or the file its symlink (chain) points to."""
    if not given.is_symlink():
        target = given
    else:
        target = Path(os.path.realpath(given))
        if target.is_symlink():  # realpath stops inside a loop
            raise OSError(errno.ELOOP, f"write_atomically: {given} is a symlink loop", str(given))
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"write_atomically: {given} is a directory, not a file", str(given))
    return target


def _existing_mode(target: Path) -> int | None:
    try:
        found = os.stat(target)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(found.st_mode) & _PERMISSION_BITS


def _write_all(descriptor: int, data: memoryview) -> None:
    written = 0
    while written < len(data):
        written += os.write(descriptor, data[written:])


def _tag(name: str) -> str:
    return hashlib.sha256(os.fsencode(name)).hexdigest()[:8]


def _remove_stale_temporaries(target: Path) -> None:
    """Remove this module's temporary files for ``target`` that a killed process left behind."""
    ours = re.compile(re.escape(_PREFIX + _tag(target.name)) + r"-[0-9a-f]{16}\.tmp")
    earlier = re.compile(re.escape(f".{target.name}.") + r"[0-9a-f]{32}\.tmp")
    cutoff = time.time() - STALE_AFTER
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        if not (ours.fullmatch(name) or earlier.fullmatch(name)):
            continue
        candidate = target.parent / name
        with contextlib.suppress(OSError):
            found = os.lstat(candidate)
            mine = not hasattr(os, "getuid") or found.st_uid == os.getuid()
            if stat.S_ISREG(found.st_mode) and mine and found.st_mtime < cutoff:
                os.unlink(candidate)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; elsewhere folders cannot be opened)."""
    with contextlib.suppress(OSError, AttributeError):
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
