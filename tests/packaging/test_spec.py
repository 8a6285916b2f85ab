"""The PyInstaller spec ships every lazily imported module and the data the app reads."""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import micboard_desktop.simulator
from micboard_desktop.plugins._builtin import BUILTIN_PLUGINS
from tests.packaging._modules import PACKAGING, ROOT, load

fm = load("freeze_manifest")
SPEC = PACKAGING / "micboard_desktop.spec"


def _spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def _calls(name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(_spec_tree())
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def _keyword(call: ast.Call, name: str) -> ast.expr:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    raise AssertionError(f"{ast.unparse(call.func)}() has no {name}=")


def test_the_analysis_takes_its_hidden_imports_and_data_from_the_manifest() -> None:
    (analysis,) = _calls("Analysis")
    assert ast.unparse(_keyword(analysis, "hiddenimports")) == "fm.hidden_imports()"
    assert "fm.data_files()" in SPEC.read_text(encoding="utf-8")
    assert ast.unparse(_keyword(analysis, "excludes")) == "list(fm.EXCLUDES)"


def test_every_builtin_plugin_module_is_a_hidden_import() -> None:
    hidden = set(fm.hidden_imports())
    modules = {target.partition(":")[0] for target in BUILTIN_PLUGINS.values()}
    assert modules, "BUILTIN_PLUGINS is empty"
    assert modules <= hidden, f"missing from hiddenimports: {sorted(modules - hidden)}"
    # The manifest reads _builtin.py without importing it: it must agree with the import.
    assert set(fm.builtin_plugin_modules()) == modules


def test_every_module_of_each_builtin_plugin_package_is_a_hidden_import() -> None:
    hidden = set(fm.hidden_imports())
    for target in BUILTIN_PLUGINS.values():
        package_name = target.partition(":")[0].rpartition(".")[0]
        spec = importlib.util.find_spec(package_name)
        assert spec is not None
        assert spec.submodule_search_locations is not None
        found = {
            f"{package_name}.{info.name}"
            for info in pkgutil.iter_modules(spec.submodule_search_locations)
        }
        assert found <= hidden, f"missing: {sorted(found - hidden)}"


def test_every_simulator_module_is_a_hidden_import() -> None:
    hidden = set(fm.hidden_imports())
    found = {
        info.name
        for info in pkgutil.walk_packages(
            micboard_desktop.simulator.__path__, prefix="micboard_desktop.simulator."
        )
    }
    assert found, "no simulator modules found"
    assert found <= hidden, f"missing: {sorted(found - hidden)}"


def test_the_migration_scripts_imports_are_hidden_imports() -> None:
    hidden = set(fm.hidden_imports())
    assert {"logging.config", "alembic", "sqlalchemy", "alembic.op", "alembic.context"} <= hidden
    assert "micboard_desktop.data.schema" in hidden


def test_every_listed_app_module_exists() -> None:
    for name in fm.hidden_imports():
        if name.startswith("micboard_desktop"):
            assert importlib.util.find_spec(name) is not None, name


def test_no_test_or_migration_module_is_imported_as_code() -> None:
    hidden = fm.hidden_imports()
    assert not [name for name in hidden if name.split(".")[0] in ("tests", "pytest")]
    assert not [name for name in hidden if ".migrations" in name]


def test_the_data_files_hold_the_migrations_and_the_resources() -> None:
    pairs = {(Path(src).relative_to(ROOT).as_posix(), dest) for src, dest in fm.data_files()}
    migrations = "micboard_desktop/data/migrations"
    assert (f"{migrations}/env.py", migrations) in pairs
    assert (f"{migrations}/script.py.mako", migrations) in pairs
    versions = sorted((ROOT / migrations / "versions").glob("*.py"))
    assert versions
    for script in versions:
        assert (script.relative_to(ROOT).as_posix(), f"{migrations}/versions") in pairs
    assert ("resources/README.md", "resources") in pairs
    assert not [src for src, _ in pairs if src.startswith("tests/") or "__pycache__" in src]


def test_the_frozen_app_finds_the_migrations_where_the_spec_puts_them() -> None:
    # migrate.migrations_dir() uses importlib.resources.files("micboard_desktop.data"),
    # which is <bundle>/micboard_desktop/data in a PyInstaller build.
    dests = {dest for _, dest in fm.data_files()}
    assert "micboard_desktop/data/migrations" in dests
    assert "micboard_desktop/data/migrations/versions" in dests


def test_the_gui_has_no_console_and_the_cli_has_one() -> None:
    executables = {ast.unparse(call.args[0]): call for call in _calls("executable")}
    assert ast.unparse(_keyword(executables["fm.APP_NAME"], "console")) == "False"
    assert ast.unparse(_keyword(executables["fm.CLI_NAME"], "console")) == "True"
    assert fm.APP_NAME == "Micboard Desktop"


def test_the_build_is_one_folder_with_a_mac_bundle_and_metadata() -> None:
    (collect,) = _calls("COLLECT")
    assert ast.unparse(_keyword(collect, "name")) == "fm.APP_NAME"
    (exe,) = _calls("EXE")
    assert ast.unparse(_keyword(exe, "exclude_binaries")) == "True"  # one folder, not one file
    assert ast.unparse(_keyword(exe, "upx")) == "False"
    (bundle,) = _calls("BUNDLE")
    assert ast.unparse(_keyword(bundle, "bundle_identifier")) == "fm.BUNDLE_ID"
    metadata = {ast.unparse(call.args[0]) for call in _calls("copy_metadata")}
    assert metadata == {"fm.DIST_NAME", "'keyring'"}


@pytest.mark.parametrize(
    ("platform", "suffix"), [("win32", ".ico"), ("darwin", ".icns"), ("linux", None)]
)
def test_the_icons_exist(platform: str, suffix: str | None) -> None:
    icon = fm.icon_for(platform)
    if suffix is None:
        assert icon is None
        return
    path = Path(icon)
    assert path.suffix == suffix
    assert path.is_file()
    assert path.stat().st_size > 1000
