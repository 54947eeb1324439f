"""`crm-appservice generate-registration`: what Synapse loads, and tokens saved in the config."""

from __future__ import annotations

import os
import re
import stat

import pytest
from ruamel.yaml import YAML
from synapse.config.appservice import load_appservices

from crm_appservice.__main__ import main
from crm_appservice.config import load

from .conftest import REPO, ConfigFactory


def _generate(config_path: str, directory: str) -> tuple[dict[str, object], str]:
    reg_path = os.path.join(directory, "registration.yaml")
    assert main(["generate-registration", "-c", config_path, "-r", reg_path]) == 0
    with open(reg_path) as f:
        return YAML(typ="safe").load(f), reg_path


def test_registration_fields(make_config: ConfigFactory, workdir: str) -> None:
    reg, _ = _generate(make_config(), workdir)
    assert reg["id"] == "crm"
    assert reg["url"] == "http://127.0.0.1:29340"
    assert reg["sender_localpart"] == "crm_bot"
    assert reg["rate_limited"] is False
    assert reg["receive_ephemeral"] is True
    assert reg["de.sorunome.msc2409.push_ephemeral"] is True
    assert reg["namespaces"] == {
        "users": [
            {"exclusive": True, "regex": r"@crm_.*:crm\.localhost"},
            {"exclusive": False, "regex": r"@whatsapp_.*:crm\.localhost"},
        ],
        "aliases": [],
        "rooms": [],
    }
    as_token, hs_token = reg["as_token"], reg["hs_token"]
    assert isinstance(as_token, str) and isinstance(hs_token, str)
    assert as_token != hs_token
    assert len(as_token) >= 64 and len(hs_token) >= 64


def test_tokens_are_new_each_time_and_saved_with_comments(
    make_config: ConfigFactory, workdir: str
) -> None:
    config_path = make_config()
    first, _ = _generate(config_path, workdir)
    second, _ = _generate(config_path, workdir)
    assert {first["as_token"], first["hs_token"]}.isdisjoint(
        {second["as_token"], second["hs_token"]}
    )
    _, settings = load(config_path)
    assert settings.appservice.as_token == second["as_token"]
    assert settings.appservice.hs_token == second["hs_token"]
    with open(config_path) as f:
        text = f.read()
    assert "# Tokens shared with the homeserver." in text
    assert "# The URL the homeserver uses to reach the CRM." in text


def test_synapse_accepts_the_registration(make_config: ConfigFactory, workdir: str) -> None:
    reg, path = _generate(
        make_config(
            {
                "homeserver.domain": "chat.example.org",
                "appservice.bridge_ghosts": ["whatsapp_.*", "telegram_.*"],
            }
        ),
        workdir,
    )
    [service] = load_appservices("chat.example.org", [path])
    assert service.id == "crm"
    assert service.token == reg["as_token"]
    assert service.hs_token == reg["hs_token"]
    assert service.sender.to_string() == "@crm_bot:chat.example.org"
    assert service.supports_ephemeral is True
    assert service.is_rate_limited() is False
    assert service.is_exclusive_user("@crm_manager_7:chat.example.org")
    assert service.is_user_in_namespace("@whatsapp_15551234567:chat.example.org")
    assert not service.is_exclusive_user("@whatsapp_15551234567:chat.example.org")
    assert service.is_user_in_namespace("@telegram_42:chat.example.org")
    # The domain is escaped: its dots match only dots.
    assert not service.is_user_in_namespace("@whatsapp_1:chatXexampleXorg")
    assert not service.is_user_in_namespace("@alice:chat.example.org")


def test_bot_outside_the_prefix_gets_its_own_namespace(
    make_config: ConfigFactory, workdir: str
) -> None:
    reg, _ = _generate(make_config({"appservice.bot_username": "inbox.bot"}), workdir)
    users = reg["namespaces"]["users"]  # type: ignore[index]
    assert {"exclusive": True, "regex": "@inbox\\.bot:crm\\.localhost"} in users
    assert re.fullmatch(users[1]["regex"], "@inbox.bot:crm.localhost")


def test_registration_is_for_its_owner_only(make_config: ConfigFactory, workdir: str) -> None:
    _, path = _generate(make_config(), workdir)  # it holds both tokens
    assert not os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO)


def test_the_documented_copy_of_the_example_ends_up_for_its_owner_only(
    workdir: str, caplog: pytest.LogCaptureFixture
) -> None:
    """`cp config.example.yaml config.yaml` makes a world-readable file (umask 022); it is
    written with its tokens for the owner only, and the log says so. A leftover temporary
    registration that others could read does not make the registration readable either."""
    config = os.path.join(workdir, "config.yaml")
    with open(os.path.join(REPO, "config.example.yaml")) as src, open(config, "w") as dst:
        dst.write(src.read())
    os.chmod(config, 0o644)
    registration = os.path.join(workdir, "registration.yaml")
    with open(f"{registration}.tmp", "w"):
        pass
    os.chmod(f"{registration}.tmp", 0o666)
    with caplog.at_level("WARNING", "crm.config"):
        assert main(["generate-registration", "-c", config, "-r", registration]) == 0
    for path in (config, registration):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert any("readable by other users (mode 0644)" in r.getMessage() for r in caplog.records)


def test_a_readable_config_that_cannot_be_rewritten_is_named(
    workdir: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = os.path.join(workdir, "config.yaml")
    with open(os.path.join(REPO, "config.example.yaml")) as src, open(config, "w") as dst:
        dst.write(src.read())
    os.chmod(config, 0o640)
    with caplog.at_level("WARNING", "crm.config"):
        load(config, update=False)
    assert any(f"`chmod 600 {config}`" in r.getMessage() for r in caplog.records)


def test_keep_tokens_writes_the_configs_own_tokens(
    make_config: ConfigFactory, workdir: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A set-up that made the tokens and gave the as_token to the bridge as well (its double
    puppet) keeps them: the registration carries them, the config still has them."""
    tokens = {"appservice.as_token": "a" * 40, "appservice.hs_token": "h" * 40}
    config = make_config(tokens)
    reg_path = os.path.join(workdir, "registration.yaml")
    assert main(["generate-registration", "--keep-tokens", "-c", config, "-r", reg_path]) == 0
    with open(reg_path) as f:
        reg = YAML(typ="safe").load(f)
    assert (reg["as_token"], reg["hs_token"]) == ("a" * 40, "h" * 40)
    aps = load(config)[1].appservice
    assert (aps.as_token, aps.hs_token) == ("a" * 40, "h" * 40)
    untokened = make_config({"appservice.as_token": None, "appservice.hs_token": None})
    other = os.path.join(workdir, "other.yaml")
    assert main(["generate-registration", "--keep-tokens", "-c", untokened, "-r", other]) == 2
    assert "needs both tokens" in capsys.readouterr().err
    assert not os.path.exists(other)


def test_example_registration_matches_generated_shape(
    make_config: ConfigFactory, workdir: str
) -> None:
    generated, _ = _generate(make_config(), workdir)
    with open(os.path.join(REPO, "registration.yaml.example")) as f:
        example = YAML(typ="safe").load(f)
    assert example.keys() == generated.keys()
    for key in generated:
        if key not in ("as_token", "hs_token"):
            assert example[key] == generated[key], key
    assert "CHANGE" in example["as_token"] and "CHANGE" in example["hs_token"]


def test_unwritable_config_fails_without_half_state(
    make_config: ConfigFactory, workdir: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = make_config()
    missing_dir = os.path.join(workdir, "no", "such", "dir", "registration.yaml")
    assert main(["generate-registration", "-c", config_path, "-r", missing_dir]) == 1
    assert "No such file or directory" in capsys.readouterr().err
    _, settings = load(config_path)
    assert not settings.appservice.has_tokens
