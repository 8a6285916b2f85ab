"""What goes into the frozen app: names, hidden imports, data files, exclusions.

Used by ``micboard_desktop.spec`` at build time and by ``tests/packaging`` (standard
library only, and nothing of the app is imported, so the tests run without PyInstaller).

Why hidden imports are needed: the built-in plugins are listed as ``"module:Class"``
strings in ``micboard_desktop/plugins/_builtin.py`` and imported on first use, and the
simulators, the migrations' ``alembic.op``/``alembic.context`` and other commands are
imported lazily inside functions. PyInstaller's static analysis cannot follow strings, so
every module of the package is listed explicitly (the package is small; the cost is a
few hundred kilobytes of bytecode).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
PACKAGE: Final = "micboard_desktop"
PACKAGE_DIR: Final = ROOT / PACKAGE
DIST_NAME: Final = "micboard-desktop"
APP_NAME: Final = "Micboard Desktop"
"""The folder, the GUI executable (``Micboard Desktop.exe``) and the macOS ``.app`` name."""
CLI_NAME: Final = "micboard-desktop"
"""The console executable for ``headless``, ``status``, ``simulate`` (same name as pip's)."""
BUNDLE_ID: Final = "org.micboard.desktop"
ENTRY_SCRIPT: Final = ROOT / "packaging" / "entry.py"
ASSETS: Final = ROOT / "packaging" / "assets"
RESOURCES_DIR: Final = ROOT / "resources"
RESOURCES_DEST: Final = "resources"
"""Where ``resources/`` lands inside the bundle (``Path(sys._MEIPASS) / "resources"``)."""
BUILTIN_FILE: Final = PACKAGE_DIR / "plugins" / "_builtin.py"
MIGRATIONS_DIR: Final = PACKAGE_DIR / "data" / "migrations"

EXTRA_HIDDEN_IMPORTS: Final = (
    # Used by the migration scripts, which Alembic loads from disk (their own imports are
    # added by migration_imports()).
    "alembic.op",
    "alembic.context",
    "alembic.runtime.environment",
    "alembic.runtime.migration",
    "alembic.ddl.sqlite",
    "sqlalchemy.dialects.sqlite",
    # pyqtgraph imports these with importlib.import_module (PlotCurveItem needs them).
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    # miniaudio (the alert sounds, ui/sound.py) is a cffi module: its compiled part imports
    # _cffi_backend from C, which PyInstaller cannot see (without it: ModuleNotFoundError).
    "_cffi_backend",
)

EXCLUDES: Final = (
    # Never in a user build.
    "tests",
    "pytest",
    "_pytest",
    "pytestqt",
    "hypothesis",
    "mypy",
    "ruff",
    "trustme",
    "importlinter",
    "PyInstaller",
    "setuptools",
    "pip",
    # Not used by the app; pulled in by optional imports of pyqtgraph/numpy/stdlib.
    "tkinter",
    "_tkinter",
    "IPython",
    "matplotlib",
    "scipy",
    "pandas",
    "h5py",
    "cupy",
    "OpenGL",
    "pyqtgraph.opengl",
    "pyqtgraph.jupyter",
    "pyqtgraph.examples",
    "pyqtgraph.canvas",
    "pyqtgraph.flowchart",
    "PyQt5",
    "PyQt6",
    "PySide2",
    # Qt modules the app does not use (the Qt hooks then skip their libraries and plugins).
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.QtNetwork",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtXml",
    "PySide6.QtDBus",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtConcurrent",
    "PySide6.QtStateMachine",
    "PySide6.Qt3DCore",
)


def builtin_plugin_modules(builtin_file: Path = BUILTIN_FILE) -> list[str]:
    """Return the module of every ``"module:Class"`` in ``BUILTIN_PLUGINS``.

    The file is parsed, not imported, so this works without the app's dependencies.
    """
    tree = ast.parse(builtin_file.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names, value = [node.target.id], node.value
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            value = node.value
        else:
            continue
        if "BUILTIN_PLUGINS" not in names:
            continue
        if not isinstance(value, ast.Dict):
            raise ValueError(f"{builtin_file}: BUILTIN_PLUGINS is not a dict literal")
        modules: list[str] = []
        for item in value.values:
            if not (isinstance(item, ast.Constant) and isinstance(item.value, str)):
                raise ValueError(f"{builtin_file}: BUILTIN_PLUGINS values must be strings")
            modules.append(item.value.partition(":")[0])
        return modules
    raise ValueError(f"{builtin_file}: no BUILTIN_PLUGINS found")


def package_modules(package_dir: Path = PACKAGE_DIR, package: str = PACKAGE) -> list[str]:
    """Return every module and package below ``package_dir`` (found on disk, not imported).

    The migration scripts are excluded: Alembic loads them as files, so they ship as data.
    """
    names: list[str] = []
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir)
        if "__pycache__" in relative.parts or _is_migration(path):
            continue
        parts = [package, *relative.with_suffix("").parts]
        if parts[-1] == "__main__":
            continue  # ``python -m`` only; the bundle has its own entry script
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def migration_imports(migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Return every module the migration scripts import (``env.py``, ``versions/*.py``).

    Alembic executes these files from disk, so PyInstaller never sees their imports
    (``logging.config`` in ``env.py`` is not otherwise part of the app, for example).
    """
    names: set[str] = set()
    for path in sorted(migrations_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.level == 0
                and node.module != "__future__"
            ):
                names.add(node.module)
    return sorted(names)


def hidden_imports() -> list[str]:
    """Return the ``hiddenimports`` of the Analysis: the whole package, plugins, extras."""
    return sorted(
        {
            *package_modules(),
            *builtin_plugin_modules(),
            *migration_imports(),
            *EXTRA_HIDDEN_IMPORTS,
        }
    )


def _is_migration(path: Path) -> bool:
    return path.resolve().is_relative_to(MIGRATIONS_DIR.resolve())


def data_files() -> list[tuple[str, str]]:
    """Return ``(source file, destination folder)`` pairs for the Analysis ``datas``.

    * every non-Python file of the package (``py.typed``, JSON schemas, the migrations'
      ``alembic.ini`` and ``script.py.mako``, the phone page's ``lan/phone/`` html, js and css),
    * the migration scripts themselves (``env.py``, ``versions/*.py``): Alembic reads them
      from disk, at ``micboard_desktop/data/migrations`` inside the bundle, which is where
      ``importlib.resources.files("micboard_desktop.data")`` points in a frozen app,
    * the top-level ``resources/`` folder, as ``resources/``.
    """
    pairs: list[tuple[str, str]] = []
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
            continue
        if path.suffix == ".py" and not _is_migration(path):
            continue
        dest = path.parent.relative_to(ROOT).as_posix()
        pairs.append((str(path), dest))
    for path in sorted(RESOURCES_DIR.rglob("*")):
        if path.is_file():
            dest = Path(RESOURCES_DEST, path.parent.relative_to(RESOURCES_DIR)).as_posix()
            pairs.append((str(path), dest))
    return pairs


def icon_for(platform: str) -> str | None:
    """Return the icon file PyInstaller wants on ``platform`` (``sys.platform``).

    Linux executables carry no icon (desktop files name one); ``None`` there.
    """
    if platform == "win32":
        return str(ASSETS / "icon.ico")
    if platform == "darwin":
        return str(ASSETS / "icon.icns")
    return None
