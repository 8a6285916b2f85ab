"""The layer rule, tested: everything but ui/ and app imports with Qt unavailable."""

import subprocess
import sys
import textwrap

QT_FREE = ["core", "engine", "plugins", "data", "lan", "simulator", "integrations"]

BLOCK_QT_AND_IMPORT_ALL = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    class NoQt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("PySide6", "shiboken6", "qasync", "pyqtgraph"):
                raise ImportError(f"{name} is not installed (blocked by the layer test)")
            return None

    sys.meta_path.insert(0, NoQt())
    import micboard_desktop
    for layer in sys.argv[1:]:
        package = importlib.import_module(f"micboard_desktop.{layer}")
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" in info.name:
                continue  # alembic scripts are loaded by alembic, not imported
            importlib.import_module(info.name)
    leaked = [m for m in sys.modules if m.split(".")[0] in ("PySide6", "qasync", "pyqtgraph")]
    print("leaked:", leaked)
    sys.exit(1 if leaked else 0)
    """
)


def test_qt_free_layers_import_without_pyside6():
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_QT_AND_IMPORT_ALL, *QT_FREE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "leaked: []" in result.stdout


def test_the_blocker_really_blocks():
    # Guard against a test that cannot fail: the same script must fail for ui/.
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_QT_AND_IMPORT_ALL, "ui"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "blocked by the layer test" in result.stderr
