"""The configuration example in README.md is a file the app accepts, every key of it."""

from __future__ import annotations

import re
from pathlib import Path

from micboard_desktop.core.config import load_config

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_configuration_loads(tmp_path: Path):
    text = README.read_text(encoding="utf-8")
    found = re.search(r"## Configuration.*?```toml\n(.*?)```", text, re.S)
    assert found is not None, "README lost its configuration example"
    path = tmp_path / "readme.toml"
    path.write_text(found.group(1), encoding="utf-8")
    config = load_config(path)  # unknown keys or bad values raise ConfigError naming the key
    assert [m.code for m in config.manufacturers] == ["shure", "sennheiser", "micboard"]
    devices = {m.code: m.devices for m in config.manufacturers}
    assert any(d.startswith("mcp://") for d in devices["sennheiser"])
    assert any(d.startswith("uhfr://") for d in devices["shure"])
    assert all(d.startswith("micboard://") for d in devices["micboard"])  # the other laptop
