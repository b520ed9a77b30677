"""write_atomically: the file appears whole or not at all, whatever happens while it is written."""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path

import pytest

from autograd.files import for_message, open_regular, os_error_naming, printable, write_atomically

OLD = b"the old content\n"
NEW = bytes(range(256)) * 64  # 16 KiB, every byte value


def test_writes_the_bytes_and_creates_the_folder(tmp_path: Path):
    target = tmp_path / "a" / "b" / "data.bin"
    assert write_atomically(target, NEW) == target
    assert target.read_bytes() == NEW
    assert os.listdir(target.parent) == ["data.bin"]  # no temporary file left
    write_atomically(str(target), OLD)  # a str path, over an existing file
    assert target.read_bytes() == OLD
    assert os.listdir(target.parent) == ["data.bin"]


def test_the_target_changes_in_one_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "data.bin"
    target.write_bytes(OLD)
    real_replace = os.replace
    seen: list[tuple[str, bytes, bytes]] = []

    def watching_replace(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        # Just before the rename: the target is untouched and the new bytes are complete beside it.
        seen.append((Path(source).name, Path(source).read_bytes(), Path(destination).read_bytes()))
        assert Path(source).parent == Path(destination).parent
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", watching_replace)
    write_atomically(target, NEW)
    [(name, staged, before)] = seen
    assert name.startswith(".chainrule-") and name.endswith(".tmp") and len(name) <= 40
    assert staged == NEW and before == OLD
    assert target.read_bytes() == NEW


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_a_failure_mid_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException, where: str
):
    target = tmp_path / "data.bin"
    target.write_bytes(OLD)

    def fail(*arguments: object) -> None:
        raise failure

    monkeypatch.setattr(os, where, fail)
    with pytest.raises(type(failure)):
        write_atomically(target, NEW)
    assert target.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["data.bin"]


def test_a_failure_before_the_first_file_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def fail(*arguments: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="no space left"):
        write_atomically(tmp_path / "new.bin", NEW)
    assert os.listdir(tmp_path) == []


def test_only_bytes_are_written(tmp_path: Path):
    with pytest.raises(TypeError, match="write_atomically: data must be bytes, got str"):
        write_atomically(tmp_path / "x.txt", "text")  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


# -- permissions, symlinks, stale temporaries, long names, a full disk --------------------------------


def test_resaving_keeps_the_permission_bits(tmp_path: Path):
    target = tmp_path / "secret.json"
    target.write_bytes(OLD)
    for mode in (0o600, 0o640, 0o755, 0o444):
        os.chmod(target, mode)
        write_atomically(target, NEW)
        assert stat.S_IMODE(os.stat(target).st_mode) == mode, oct(mode)
        assert target.read_bytes() == NEW


def test_a_new_file_follows_the_umask(tmp_path: Path):
    previous = os.umask(0o027)
    try:
        write_atomically(tmp_path / "new.bin", NEW)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "new.bin").st_mode) == 0o640  # 0o666 less 0o027


def test_the_old_bits_hold_while_the_new_bytes_are_staged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # A mode-600 file's new content is never readable by others, not even in the temporary file.
    target = tmp_path / "secret.json"
    target.write_bytes(OLD)
    os.chmod(target, 0o600)
    real_replace = os.replace
    staged: list[int] = []

    def watching_replace(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        staged.append(stat.S_IMODE(os.stat(source).st_mode))
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", watching_replace)
    write_atomically(target, NEW)
    assert staged == [0o600]


def test_a_symlink_is_written_through_to_its_target(tmp_path: Path):
    real = tmp_path / "store" / "model.json"
    real.parent.mkdir()
    real.write_bytes(OLD)
    os.chmod(real, 0o600)
    link = tmp_path / "current.json"
    link.symlink_to(Path("store") / "model.json")  # relative, as dotfile managers make them
    assert write_atomically(link, NEW) == link
    assert link.is_symlink() and os.readlink(link) == os.path.join("store", "model.json")
    assert real.read_bytes() == NEW
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["current.json", "store"]
    assert os.listdir(real.parent) == ["model.json"]  # the temporary file sat beside the real file


def test_a_dangling_symlink_creates_its_target(tmp_path: Path):
    link = tmp_path / "link.bin"
    link.symlink_to(tmp_path / "later.bin")
    write_atomically(link, NEW)
    assert link.is_symlink() and (tmp_path / "later.bin").read_bytes() == NEW


def test_a_symlink_loop_and_a_directory_are_refused_before_writing(tmp_path: Path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(OSError, match="symlink loop") as caught:
        write_atomically(tmp_path / "a", NEW)
    assert caught.value.errno == errno.ELOOP
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "inside.txt").write_bytes(OLD)
    with pytest.raises(IsADirectoryError, match="folder is a directory"):
        write_atomically(tmp_path / "folder", NEW)
    assert (tmp_path / "folder" / "inside.txt").read_bytes() == OLD
    assert sorted(os.listdir(tmp_path)) == ["a", "b", "folder"]


def test_names_up_to_the_file_system_limit_work(tmp_path: Path):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    for name in ("x" * limit, "é" * (limit // 2)):  # 255 bytes of ASCII, 254 bytes of UTF-8
        assert len(os.fsencode(name)) > limit - 2
        write_atomically(tmp_path / name, NEW)
        write_atomically(tmp_path / name, OLD)
        assert (tmp_path / name).read_bytes() == OLD
    assert len(os.listdir(tmp_path)) == 2


def age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past), follow_symlinks=False)


def test_stale_temporaries_of_the_same_target_are_removed_and_nothing_else(tmp_path: Path):
    target = tmp_path / "model.json"
    target.write_bytes(OLD)
    # What a killed writer leaves: one of ours, one of the earlier naming (.name.<uuid4 hex>.tmp).
    real_replace = os.replace
    left: list[str] = []

    def crash(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        left.append(Path(source).name)
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "replace", crash)
        patch.setattr(os, "unlink", lambda *a, **k: None)  # as if killed before its cleanup ran
        with pytest.raises(KeyboardInterrupt):
            write_atomically(target, NEW)
    assert os.replace is real_replace
    [ours] = left
    legacy = f".model.json.{'ab' * 16}.tmp"
    keep = {
        "young": ours.replace(ours[-20:-4], "0" * 16),  # ours, but too recent: maybe a live writer
        "other target": f".chainrule-{'0' * 8}-{'1' * 16}.tmp",
        "not ours": ".model.json.backup.tmp",
        "user file": "model.json.tmp",
        "almost": legacy.replace(".tmp", ".tmpx"),
    }
    for name in [ours, legacy, *keep.values()]:
        (tmp_path / name).write_bytes(b"left over")
    for name in [ours, legacy, keep["other target"], keep["not ours"], keep["user file"], keep["almost"]]:
        age(tmp_path / name, 3600)
    decoy = tmp_path / ours.replace(ours[-20:-4], "f" * 16)  # our pattern, but a symlink: never followed
    decoy.symlink_to(tmp_path / "precious.txt")
    (tmp_path / "precious.txt").write_bytes(OLD)
    age(decoy, 3600)
    write_atomically(target, NEW)
    assert target.read_bytes() == NEW
    assert sorted(os.listdir(tmp_path)) == sorted(["model.json", "precious.txt", decoy.name, *keep.values()])
    assert (tmp_path / "precious.txt").read_bytes() == OLD


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_a_full_disk_during_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
):
    target = tmp_path / "data.bin"
    target.write_bytes(OLD)
    os.chmod(target, 0o600)
    real_write = os.write
    calls = []

    def write_some_then_fail(descriptor: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(descriptor, bytes(data)[:1000])  # a short write: the rest must follow
        raise failure

    monkeypatch.setattr(os, "write", write_some_then_fail)
    with pytest.raises(type(failure)):
        write_atomically(target, NEW)
    assert calls == [len(NEW), len(NEW) - 1000]
    assert target.read_bytes() == OLD
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["data.bin"]


def test_short_writes_are_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda descriptor, data: real_write(descriptor, bytes(data)[:777]))
    write_atomically(tmp_path / "data.bin", NEW)
    assert (tmp_path / "data.bin").read_bytes() == NEW


# -- what errors say: the target, bounded and printable; what readers open --------------------------------


@pytest.mark.parametrize("where", ["open", "write", "fsync", "replace"])
def test_an_error_names_the_target_not_the_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str):
    target = tmp_path / "picture.svg"
    target.write_bytes(OLD)
    real = getattr(os, where)

    def fail(*arguments: object, **keywords: object) -> object:
        first = arguments[0]
        if where == "open" and ".chainrule-" not in str(first):
            return real(*arguments, **keywords)
        # As the system words it: the names it was given, the temporary one among them.
        temporary = str(first) if where in ("open", "replace") else None
        raise PermissionError(errno.EACCES, "Permission denied", temporary, None, str(target))

    monkeypatch.setattr(os, where, fail)
    with pytest.raises(PermissionError) as caught:
        write_atomically(target, NEW, who="save_diagram")
    monkeypatch.undo()
    text = str(caught.value)
    assert text == f"[Errno 13] save_diagram: cannot write {target}: Permission denied"
    assert caught.value.errno == errno.EACCES and ".chainrule-" not in text
    assert target.read_bytes() == OLD and os.listdir(tmp_path) == ["picture.svg"]


def test_a_long_or_strange_target_makes_a_short_printable_message(tmp_path: Path):
    with pytest.raises(OSError, match=r"File name too long") as caught:
        write_atomically(tmp_path / ("y" * 5000), NEW)
    assert caught.value.errno == errno.ENAMETOOLONG and len(str(caught.value)) < 300
    (tmp_path / "a\nb\udcff").mkdir()
    with pytest.raises(IsADirectoryError, match=r"a\\nb\\udcff is a directory, not a file$") as refused:
        write_atomically(tmp_path / "a\nb\udcff", NEW)
    assert str(refused.value).isprintable()
    assert os.listdir(tmp_path) == ["a\nb\udcff"]


def test_for_message_escapes_and_keeps_both_ends():
    assert for_message("plain name.json") == "plain name.json"
    assert for_message("a\nb\x1b[0m\udc80") == "a\\nb\\x1b[0m\\udc80"
    cut = for_message("/start/" + "m" * 1000 + "/model.json", limit=60)
    assert cut == "/start/" + "m" * 13 + "..." + "m" * 9 + "/model.json (1018 characters)"
    assert printable("é ü 中") == "é ü 中"  # printable letters of any script stay as they are


def test_os_error_naming_keeps_type_and_errno():
    made = os_error_naming(FileNotFoundError(errno.ENOENT, "No such file or directory", "/very/long"), "load: x")
    assert type(made) is FileNotFoundError and made.errno == errno.ENOENT and made.filename is None
    assert str(made) == "[Errno 2] load: x: No such file or directory"
    bare = os_error_naming(OSError("disk full"), "save: y")
    assert type(bare) is OSError and str(bare) == "save: y: disk full"


def refuse(kind: str) -> ValueError:
    return ValueError(f"refused {kind}")


def test_open_regular_gives_the_file_and_its_size_and_refuses_the_rest_at_once(tmp_path: Path):
    (tmp_path / "data.bin").write_bytes(NEW)
    file, size = open_regular(tmp_path / "data.bin", refuse)
    with file:
        assert size == len(NEW) and file.read() == NEW
    os.mkfifo(tmp_path / "pipe")  # no writer: an open that waited would never return
    for name, kind in (("pipe", "a pipe \\(FIFO\\)"), (".", "a directory")):
        with pytest.raises(ValueError, match=f"^refused {kind}$"):
            open_regular(tmp_path / name, refuse)
    with pytest.raises(ValueError, match=r"^refused a character device$"):
        open_regular("/dev/null", refuse)
    with pytest.raises(FileNotFoundError):
        open_regular(tmp_path / "missing", refuse)
