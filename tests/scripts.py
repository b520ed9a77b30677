"""The project's scripts as modules for the tests: docs/ and benchmarks/ are folders of scripts, not packages."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_script(relative: str) -> ModuleType:
    """The script at ``relative`` to the checkout's root, imported by path once, under its file's name (a
    dataclass in it looks its own module up in sys.modules while the class is made)."""
    path = ROOT / relative
    name = path.stem
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) == str(path):
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def hiding(folder: Path, *packages: str) -> Path:
    """A folder to put first on a script's PYTHONPATH so that importing each of ``packages`` raises ImportError,
    as on a machine without them."""
    for name in packages:
        (folder / name).mkdir(parents=True)
        (folder / name / "__init__.py").write_text('raise ImportError("hidden by the test")\n', encoding="utf-8")
    return folder
