"""The CI workflow (.github/workflows/build.yml): parsed and checked for its structure.

actionlint is not available here; this checks what matters for issue 9 instead: the
triggers, the runner matrix, the build → smoke → upload order, the Linux libraries, and
that signing and notarization only run when their secrets exist. Every ``run:`` script
for bash is also syntax-checked with ``bash -n``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import yaml

from tests.packaging._modules import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "build.yml"
RUNNERS = {"windows-latest", "macos-14", "macos-15-intel", "ubuntu-22.04"}
SIGNING_WORDS = ("codesign", "notarytool", "stapler", "security import", "create-keychain")
GUARD = "env.MACOS_CERTIFICATE != ''"


def _workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _job() -> dict[str, Any]:
    jobs = _workflow()["jobs"]
    assert list(jobs) == ["build"]
    job = jobs["build"]
    assert isinstance(job, dict)
    return job


def _steps() -> list[dict[str, Any]]:
    steps = _job()["steps"]
    assert isinstance(steps, list)
    assert steps
    for step in steps:
        assert isinstance(step, dict)
        assert "name" in step, step
        assert ("run" in step) != ("uses" in step), step["name"]
    return steps


def _index(predicate: str) -> int:
    for i, step in enumerate(_steps()):
        if predicate in str(step.get("run", "")) or predicate in str(step.get("uses", "")):
            return i
    raise AssertionError(f"no step with {predicate!r}")


def test_it_runs_on_version_tags_and_by_hand() -> None:
    data = _workflow()
    # PyYAML reads the bare key ``on`` as the boolean True (YAML 1.1).
    triggers = data.get("on", data.get(True))
    assert isinstance(triggers, dict)
    assert triggers["push"] == {"tags": ["v*"]}
    assert "workflow_dispatch" in triggers
    assert data["permissions"] == {"contents": "read"}


def test_the_matrix_covers_every_platform() -> None:
    job = _job()
    assert job["runs-on"] == "${{ matrix.os }}"
    strategy = job["strategy"]
    assert strategy["fail-fast"] is False
    include = strategy["matrix"]["include"]
    assert {entry["os"] for entry in include} == RUNNERS
    labels = [entry["label"] for entry in include]
    assert len(set(labels)) == len(labels), "artifact labels must be unique"


def test_it_sets_up_python_312_and_runs_qt_offscreen() -> None:
    (setup,) = [s for s in _steps() if str(s.get("uses", "")).startswith("actions/setup-python@")]
    assert str(setup["with"]["python-version"]) == "3.12"
    assert _job()["env"]["QT_QPA_PLATFORM"] == "offscreen"


def test_every_action_is_pinned_to_a_version() -> None:
    for step in _steps():
        if "uses" in step:
            assert re.fullmatch(
                r"[\w.-]+/[\w.-]+@v\d+(\.\d+)*|[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]
            ), step["uses"]


def test_linux_installs_the_same_system_libraries_as_scripts_setup() -> None:
    setup = (ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    match = re.search(r"APT_PACKAGES=\(([^)]*)\)", setup)
    assert match
    wanted = set(match.group(1).split())
    (step,) = [s for s in _steps() if "apt-get install" in str(s.get("run", ""))]
    assert step["if"] == "runner.os == 'Linux'"
    installed = {word for word in step["run"].replace("\\", " ").split() if word in wanted}
    assert installed == wanted


def test_it_builds_with_the_spec_then_smoke_tests_then_uploads() -> None:
    build = _index("pyinstaller packaging/micboard_desktop.spec")
    smoke = _index("packaging/smoke.py")
    upload = _index("actions/upload-artifact@")
    assert build < smoke < upload
    assert (ROOT / "packaging" / "micboard_desktop.spec").is_file()
    assert (ROOT / "packaging" / "smoke.py").is_file()
    steps = _steps()
    for i in (build, smoke):
        assert "if" not in steps[i], "build and smoke run on every platform"
    app = steps[upload]
    assert "if" not in app
    assert app["with"]["if-no-files-found"] == "error"
    assert "Micboard-Desktop-*.zip" in app["with"]["path"]
    assert "Micboard-Desktop-*.dmg" in app["with"]["path"]


def test_packages_are_a_dmg_on_macos_and_a_zip_elsewhere() -> None:
    by_os: dict[str, str] = {}
    for step in _steps():
        run = str(step.get("run", ""))
        if "hdiutil create" in run:
            by_os["macOS"] = step["if"]
        elif "zip" in run and ("zip -q" in run or "7z a" in run):
            by_os.setdefault("zip", "")
            by_os["zip"] += step["if"]
    assert by_os["macOS"] == "runner.os == 'macOS'"
    assert "runner.os == 'Linux'" in by_os["zip"]
    assert "runner.os == 'Windows'" in by_os["zip"]
    assert _index("hdiutil create") < _index("actions/upload-artifact@")


def test_signing_steps_run_only_on_macos_and_only_with_the_secret() -> None:
    signing = [
        step
        for step in _steps()
        if "run" in step and any(word in step["run"] for word in SIGNING_WORDS)
    ]
    names = " | ".join(step["name"] for step in signing)
    for word in ("codesign --sign", "notarytool submit", "stapler staple", "security import"):
        assert word in "\n".join(step["run"] for step in signing), f"{word!r} missing"
    for step in signing:
        condition = step.get("if", "")
        assert "runner.os == 'macOS'" in condition, step["name"]
        assert GUARD in condition, step["name"]
    notarize = next(s for s in signing if "notarytool" in s["run"])
    assert "env.APPLE_ID != ''" in notarize["if"]
    # The certificate is imported before the build (PyInstaller signs while building),
    # and the DMG is signed after it is created.
    assert _index("security import") < _index("pyinstaller packaging/") < _index("hdiutil")
    assert (
        _index("hdiutil")
        < _index("codesign --sign")
        < _index("notarytool")
        < _index("actions/upload-artifact@")
    )
    assert names


def test_secrets_reach_the_conditions_through_env_only() -> None:
    env = _job()["env"]
    for name in (
        "MACOS_CERTIFICATE",
        "MACOS_CERTIFICATE_PASSWORD",
        "MACOS_CODESIGN_IDENTITY",
        "APPLE_ID",
        "APPLE_TEAM_ID",
        "APPLE_APP_PASSWORD",
    ):
        assert env[name] == f"${{{{ secrets.{name} }}}}"
    for step in _steps():
        assert "secrets." not in str(step.get("if", "")), step["name"]
        for var in re.findall(r"env\.(\w+)", str(step.get("if", ""))):
            assert var in env, f"{step['name']}: env.{var} is not defined on the job"


def _bash_scripts() -> list[tuple[str, str]]:
    default = _job()["defaults"]["run"]["shell"]
    assert default == "bash"
    return [
        (step["name"], step["run"])
        for step in _steps()
        if "run" in step and step.get("shell", default) == "bash"
    ]


def test_every_bash_step_is_valid_bash() -> None:
    assert shutil.which("bash"), "bash is needed to check the run scripts"
    scripts = _bash_scripts()
    assert len(scripts) >= 10
    for name, script in scripts:
        # ${{ ... }} is replaced by Actions before bash sees the script.
        text = re.sub(r"\$\{\{[^}]*\}\}", "placeholder", script)
        result = subprocess.run(
            ["bash", "-n"], input=text, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{name}: {result.stderr}"


def test_the_workflow_has_no_tabs_and_a_name() -> None:
    assert "\t" not in WORKFLOW.read_text(encoding="utf-8")
    assert _workflow()["name"] == "build"
