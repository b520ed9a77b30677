"""write_atomically: the file appears whole or not at all, whatever happens while it is written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograd.files import write_atomically

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
