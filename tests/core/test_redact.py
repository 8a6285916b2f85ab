import logging
from pathlib import Path

import pytest

from micboard_desktop.core.logsetup import configure_logging
from micboard_desktop.core.redact import REDACTED, redact, register_secret


@pytest.mark.parametrize(
    "line",
    [
        "GET /api/v1/devices headers={'x-api-key': 'k3y-VALUE-123'}",
        "Authorization: Basic YXBpOnNlY3JldA==",
        "authorization: Bearer tok-abc.def",
        'sent {"password": "hunter22"} to device',
        "token=abc123xyz&x=1",
        "connecting to https://api:pa55word@192.168.1.60/api",
        "SHURE api_key = 'k3y-VALUE-123'",
    ],
)
def test_credential_shapes_are_redacted(line: str):
    out = redact(line)
    for secret in ("k3y-VALUE-123", "YXBpOnNlY3JldA==", "tok-abc.def", "hunter22", "abc123xyz",
                   "pa55word"):
        assert secret not in out
    assert REDACTED in out


def test_addresses_stay_readable():
    line = "cannot connect to 192.168.1.50:2202: connection refused"
    assert redact(line) == line


def test_registered_secret_is_hidden_anywhere():
    register_secret("plain-looking-secret-42")
    assert redact("weird place plain-looking-secret-42 here") == f"weird place {REDACTED} here"


def test_log_file_never_contains_a_secret(tmp_path: Path):
    log_file = tmp_path / "logs" / "app.log"
    configure_logging(log_file, level="DEBUG", console=False)
    register_secret("S3CR3T-token-value")
    log = logging.getLogger("micboard_desktop.test")
    log.info("token is %s", "S3CR3T-token-value")
    log.warning("headers: %r", {"Authorization": "Basic dXNlcjpwYXNz"})
    try:
        raise RuntimeError("failed with x-api-key: another-key-999")
    except RuntimeError:
        log.exception("request failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "S3CR3T-token-value" not in text
    assert "dXNlcjpwYXNz" not in text
    assert "another-key-999" not in text
    assert text.count(REDACTED) >= 3
    assert "request failed" in text
    configure_logging(None)
