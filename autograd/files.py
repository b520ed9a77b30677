"""Reading and writing files safely, for every package that saves or loads something.

The rules of :func:`write_atomically`, which every writer uses (nn model files, viz diagrams, frames, GIFs):

- **Whole or nothing.** The bytes go to a temporary file in the target's own folder, are flushed to
  disk, and the temporary file is renamed over the target in one step. On any failure (a full disk,
  Ctrl-C, any BaseException) the temporary file is removed and the old file keeps its content.
- **Permissions.** Re-saving an existing file keeps its permission bits (a mode-600 file stays 600);
  a new file gets the usual mode for new files (0o666 less the umask).
- **Symlinks.** A symlink at the path is written *through*: its target file gets the new content and
  the link stays a link, as with ``open(path, "wb")``. A symlink loop is refused (OSError, ELOOP).
- **Directories.** A directory at the path is refused (IsADirectoryError) before anything is written.
  Missing parent folders are created; a file where a folder should be is refused (FileExistsError or
  NotADirectoryError, naming that file).
- **Errors name the target.** An OSError keeps its type and errno, and its message names the path
  given (through :func:`for_message`: bounded, unprintable characters escaped), never the temporary file.
- **Temporary names.** ``.chainrule-<8 hex>-<16 hex>.tmp``: short, so a target name up to the file
  system's limit (255 bytes) still works, and recognisable: the first part is a hash of the target's
  name. A process killed mid-write leaves such a file behind; each later write to the same target
  removes those older than :data:`STALE_AFTER` seconds (and the ``.<name>.<32 hex>.tmp`` files of
  earlier versions). Nothing else is ever deleted.

Readers open files with :func:`open_regular`, which refuses a directory, pipe, device or socket at
once (a pipe is never waited on), and word their errors with :func:`for_message` and
:func:`os_error_naming`, so that no path, however long or strange, makes a message huge or unprintable.
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
from collections.abc import Callable, Iterator
from io import BufferedReader
from pathlib import Path

STALE_AFTER = 600.0
"""Seconds after which a temporary file of this module, left beside its target, counts as abandoned."""

_PREFIX = ".chainrule-"
_PERMISSION_BITS = 0o777
# Opening a pipe for reading waits for a writer unless the open is non-blocking (POSIX only).
_NO_WAIT = getattr(os, "O_NONBLOCK", 0)


def printable(text: str) -> str:
    """``text`` with every character that does not print shown as its escape (``\\n``, ``\\x1b``, ``\\udc80``).

    A lone surrogate (from a file name that is not UTF-8, or a JSON key) cannot even be encoded, so a
    message holding one makes ``print`` itself fail; a newline or a terminal escape in a quoted name
    would let the name pass for more of the message.
    """
    if text.isprintable():
        return text
    return "".join(character if character.isprintable() else repr(character)[1:-1] for character in text)


def for_message(text: str, limit: int = 120) -> str:
    """``text`` fit to quote in an error message: :func:`printable`, and if longer than ``limit``, its start
    and its end (where a path keeps its file name) with its length."""
    if len(text) <= limit:
        return printable(text)
    keep = max(limit // 2 - 10, 1)
    return f"{printable(text[:keep])}...{printable(text[-keep:])} ({len(text)} characters)"


def os_error_naming(error: OSError, context: str) -> OSError:
    """An error of ``error``'s type and errno that reads "``context``: the system's reason".

    The system's own message quotes the path whole (any length, any characters) or, from a rename, a
    temporary name the caller never chose; ``context`` names what was being done to which path, already
    passed through :func:`for_message`.
    """
    reason = error.strerror or for_message(str(error))
    message = f"{context}: {reason}"
    try:
        return type(error)(error.errno, message) if error.errno is not None else type(error)(message)
    except TypeError:  # a subclass whose constructor takes other arguments
        return OSError(error.errno, message)


def open_regular(path: str | os.PathLike[str], refuse: Callable[[str], Exception]) -> tuple[BufferedReader, int]:
    """``path`` opened to read bytes, and its size, if it is a regular file (a symlink to one counts).

    Anything else raises ``refuse(kind)``, where ``kind`` says what it is ("a directory", "a pipe
    (FIFO)", "a character device", ...): checked before opening, so a device is never opened, and again
    on the open file, so a file swapped for a pipe in between is refused too, at once (the pipe was
    opened without waiting for a writer). OSErrors (a missing file, no permission, a symlink loop)
    pass through for the caller to word.
    """
    kind = _kind(os.stat(path).st_mode)
    if kind:
        raise refuse(kind)
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | _NO_WAIT)
    try:
        info = os.fstat(descriptor)
        kind = _kind(info.st_mode)
        if kind:
            raise refuse(kind)
        if _NO_WAIT:
            os.set_blocking(descriptor, True)
        return open(descriptor, "rb"), info.st_size  # the file object owns the descriptor from here
    except BaseException:
        os.close(descriptor)
        raise


def _kind(mode: int) -> str:
    """The empty string for a regular file, else what the file is, in words for a message."""
    if stat.S_ISREG(mode):
        return ""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "a special file")


@contextlib.contextmanager
def _naming(context: str) -> Iterator[None]:
    """Re-raise an OSError from the block as :func:`os_error_naming` words it."""
    try:
        yield
    except OSError as error:
        raise os_error_naming(error, context) from None


def write_atomically(path: str | os.PathLike[str], data: bytes, *, who: str = "write_atomically") -> Path:
    """Write ``data`` to ``path``: readers see the old file or the whole new one, never a part.

    See the module's documentation for the rules: permissions are kept, a symlink is written through
    to its target, a directory is refused, stale temporary files of earlier killed writes are removed.
    On any failure, an interrupt included, no temporary file is left and ``path`` keeps its old
    content. Every error message starts with ``who`` (the caller's public name) and names ``path``.
    Returns ``path`` as a Path (the path given, not the symlink's target).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{who}: data must be bytes, got {type(data).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who}: path must be a str or a path, got {type(path).__name__}")
    given = Path(path)
    shown = for_message(str(given))
    context = f"{who}: cannot write {shown}"
    _make_folder(given.parent, context)
    with _naming(context):
        target = _resolve(given)
    if target is None:
        raise OSError(errno.ELOOP, f"{who}: {shown} is a symlink loop")
    with _naming(context):
        is_folder = target.is_dir()
        mode = _existing_mode(target)
    if is_folder:
        raise IsADirectoryError(errno.EISDIR, f"{who}: {shown} is a directory, not a file")
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
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise os_error_naming(error, context) from None
        raise
    _sync_folder(target.parent)
    return given


def _make_folder(folder: Path, context: str) -> None:
    """Create ``folder`` and its missing parents; a file in the way is named as the culprit."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        with _naming(context):
            blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), folder)
        raise type(error)(error.errno, f"{context}: {for_message(str(blocker))} is a file, not a folder") from None
    except OSError as error:
        raise os_error_naming(error, context) from None


def _resolve(given: Path) -> Path | None:
    """The file to replace: ``given`` itself, or the file its symlink (chain) points to; None for a loop."""
    if not given.is_symlink():
        return given
    target = Path(os.path.realpath(given))
    return None if target.is_symlink() else target  # realpath stops inside a loop


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
