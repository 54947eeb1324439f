"""Config loading: every bad value stops the program with one line naming the key, exit 2."""

from __future__ import annotations

import filecmp
import os

import pytest

from crm_appservice.__main__ import main
from crm_appservice.config import ConfigError, load, settings as declared
from crm_appservice.config.file import Config

from .conftest import REPO, ConfigFactory

SECRET = "hunter2-very-secret-password"


def test_top_level_example_is_the_packaged_one() -> None:
    assert filecmp.cmp(
        os.path.join(REPO, "config.example.yaml"),
        os.path.join(REPO, "crm_appservice", "example-config.yaml"),
        shallow=False,
    )


def test_example_config_is_valid(make_config: ConfigFactory) -> None:
    _, settings = load(make_config())
    assert settings.database.embedded
    assert settings.database.pool_max_size >= 20
    assert settings.appservice.bridge_ghosts == ("whatsapp_.*",)
    assert not settings.appservice.has_tokens
    assert settings.smtp.enabled is False
    assert settings.web.secure_cookies is False


def _leaves(node: object, prefix: str = "") -> list[str]:
    if prefix == "logging." or not hasattr(node, "items"):
        return [prefix.rstrip(".")]
    return [leaf for k, v in node.items() for leaf in _leaves(v, f"{prefix}{k}.")]


def test_every_key_of_the_example_is_declared_once(make_config: ConfigFactory) -> None:
    """The example file and the settings' declarations name the same keys: a key added to one
    and not the other would be silently dropped at the next upgrade, or never documented."""
    config = Config(make_config())
    config.load()
    assert sorted(_leaves(config._data)) == sorted(declared.all_keys())
    assert len(set(declared.all_keys())) == len(declared.all_keys())


def test_units_are_applied_where_the_key_is_declared(make_config: ConfigFactory) -> None:
    _, settings = load(make_config({"web.session_lifetime": 1.5, "media.max_upload_size": 3}))
    assert settings.web.session_lifetime.total_seconds() == 5400
    assert settings.media.max_upload_size == 3 * 1024 * 1024
    assert settings.smtp.sender == "CRM <crm@example.com>"
    assert os.path.isabs(settings.media.cache_dir)
    assert settings.web.static_dir is None or os.path.isabs(settings.web.static_dir)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("homeserver.address", "not a url", "homeserver.address: invalid (expected a http or"),
        ("homeserver.address", "ftp://example.org", "homeserver.address: invalid"),
        ("homeserver.domain", "", "homeserver.domain: missing"),
        ("homeserver.domain", "bad domain!", "homeserver.domain: invalid"),
        ("homeserver.verify_ssl", "yes please", "homeserver.verify_ssl: invalid"),
        ("appservice.port", "eighty", "appservice.port: invalid (expected an integer from 1"),
        ("appservice.port", 70000, "appservice.port: invalid"),
        ("appservice.bot_username", "Crm Bot", "appservice.bot_username: invalid"),
        ("appservice.bridge_ghosts", ["whatsapp_(["], "appservice.bridge_ghosts: invalid"),
        ("appservice.as_token", "short", "appservice.as_token: invalid"),
        ("database.url", "mysql://x@y/z", "database.url: invalid"),
        ("database.pool_min_size", 0, "database.pool_min_size: invalid"),
        ("database.pool_max_size", True, "database.pool_max_size: invalid"),
        ("database.statement_timeout", -1, "database.statement_timeout: invalid"),
        ("web.public_url", "localhost:8080", "web.public_url: invalid"),
        ("web.cookie_samesite", "None", "web.cookie_samesite: invalid (expected one of Lax"),
        ("smtp.tls", "ssl", "smtp.tls: invalid"),
        ("media.cache_size", 0, "media.cache_size: invalid"),
        ("logging", "loud", "logging: invalid (expected a mapping)"),
        ("smtp.from", 42, "smtp.from: invalid (expected an e-mail address)"),
        ("web.session_lifetime", 0, "web.session_lifetime: invalid (expected a number from 0.1"),
        ("web.trusted_proxies", ["not an address"], "web.trusted_proxies: invalid"),
        ("web.metrics_token", ["a", "list"], "web.metrics_token: invalid (expected text)"),
        ("database.embedded_dir", "", "database.embedded_dir: missing (expected a directory)"),
    ],
)
def test_invalid_value_exits_2_naming_the_key(
    make_config: ConfigFactory,
    capsys: pytest.CaptureFixture[str],
    key: str,
    value: object,
    expected: str,
) -> None:
    path = make_config({key: value})
    assert main(["-c", path, "migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"crm-appservice: config error: {expected}")
    assert err.count("\n") == 1


def test_pool_max_below_min(
    make_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_config({"database.pool_min_size": 30, "database.pool_max_size": 10})
    assert main(["-c", path, "migrate"]) == 2
    assert "database.pool_max_size: must be at least database.pool_min_size" in (
        capsys.readouterr().err
    )


def test_equal_tokens_rejected(make_config: ConfigFactory) -> None:
    token = "x" * 40
    path = make_config({"appservice.as_token": token, "appservice.hs_token": token})
    with pytest.raises(ConfigError, match=r"appservice\.hs_token: must differ"):
        load(path)


@pytest.mark.parametrize(
    "key", ["database.url", "appservice.as_token", "smtp.password", "appservice.hs_token"]
)
def test_secrets_are_never_printed(
    make_config: ConfigFactory, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    bad_url = f"mysql://crm:{SECRET}@db/crm"
    overrides: dict[str, object] = {"database.url": bad_url, key: SECRET}
    if key == "database.url":
        overrides[key] = bad_url
    elif key == "smtp.password":
        overrides["smtp.port"] = "not a port"
    path = make_config(overrides)
    assert main(["-c", path, "migrate"]) == 2
    captured = capsys.readouterr()
    assert SECRET not in captured.err + captured.out


def test_missing_file(workdir: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = os.path.join(workdir, "nope.yaml")
    assert main(["-c", path]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"crm-appservice: config error: --config: {path} does not exist "
        "(copy config.example.yaml to it)\n"
    )


def test_invalid_yaml_names_the_line(workdir: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = os.path.join(workdir, "config.yaml")
    with open(path, "w") as f:
        f.write(f"homeserver:\n    address: [unclosed\n    password: {SECRET}\n")
    assert main(["-c", path, "migrate"]) == 2
    err = capsys.readouterr().err
    assert "is not valid YAML at line" in err
    assert SECRET not in err
    assert err.count("\n") == 1


def test_wrong_structure(workdir: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = os.path.join(workdir, "config.yaml")
    with open(path, "w") as f:
        f.write("- just\n- a list\n")
    assert main(["-c", path, "migrate"]) == 2
    assert "must be a YAML mapping" in capsys.readouterr().err


def test_upgrade_keeps_values_adds_keys_and_comments(
    make_config: ConfigFactory, delete_marker: object
) -> None:
    path = make_config({"appservice.port": 31000, "media.cache_size": delete_marker})
    _, settings = load(path)
    assert settings.appservice.port == 31000
    assert settings.media.cache_size == 2048 * 1024 * 1024
    with open(path) as f:
        text = f.read()
    assert "port: 31000" in text
    assert "cache_size: 2048" in text
    assert "# The URL the homeserver uses to reach the CRM." in text
