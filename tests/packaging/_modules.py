"""Load the stdlib-only helpers of ``packaging/`` by path.

``packaging`` is also the name of a PyPI library (installed with pip), so the folder is
not importable as a package; the modules are loaded from their files instead.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def load(name: str) -> ModuleType:
    """Import ``packaging/<name>.py`` once and return the module."""
    key = f"_micboard_packaging_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, PACKAGING / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module
