"""The YAML config file: loaded, upgraded onto the current example, and read into settings.

The file is handled by mautrix's config classes so that comments survive: at every start the
user's values are copied onto the commented example (``do_update``), which is how a new release
adds keys without the admin editing anything. The rest of the program never reads the YAML: it
gets a :class:`Settings` object, checked once, so a bad value fails at start with one line that
names the key instead of deep inside a request handler.
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

from mautrix.util.config import BaseFileConfig, ConfigUpdateHelper
from mautrix.util.config.file import yaml
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .. import secret_files
from . import settings
from .kinds import ConfigError
from .settings import Settings

EXAMPLE_CONFIG = "pkg://crm_appservice/example-config.yaml"

log = logging.getLogger("crm.config")


class Config(BaseFileConfig):
    """The config file, kept as a ruamel.yaml document so comments survive rewrites."""

    def __init__(self, path: str) -> None:
        super().__init__(path, EXAMPLE_CONFIG)

    def load(self) -> None:
        try:
            super().load()
        except FileNotFoundError:
            raise ConfigError(
                "--config", f"{self.path} does not exist (copy config.example.yaml to it)"
            ) from None
        except MarkedYAMLError as e:
            mark = e.problem_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ConfigError("--config", f"{self.path} is not valid YAML{where}") from None
        except YAMLError:
            raise ConfigError("--config", f"{self.path} is not valid YAML") from None
        except OSError as e:
            raise ConfigError("--config", f"cannot read {self.path}: {e.strerror}") from None
        if not hasattr(self._data, "items"):
            raise ConfigError("--config", f"{self.path} must be a YAML mapping")

    def do_update(self, helper: ConfigUpdateHelper) -> None:
        for key in settings.all_keys():
            helper.copy(key)

    def save(self) -> None:
        """Write the file atomically, for its owner only (it holds the tokens: mkstemp makes it
        0600, whatever mode the old file had); unlike mautrix's, failures raise."""
        fd, tmp = tempfile.mkstemp(suffix=".yaml", dir=os.path.dirname(os.path.abspath(self.path)))
        try:
            with os.fdopen(fd, "w") as stream:
                yaml.dump(self._data, stream)
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def set_tokens(self, as_token: str, hs_token: str) -> None:
        self["appservice.as_token"] = as_token
        self["appservice.hs_token"] = hs_token

    def raw(self, key: str) -> Any:
        return self[key]


def load(path: str, update: bool = True) -> tuple[Config, Settings]:
    """Load the file, upgrade it onto the current example (comments kept), and validate it."""
    config = Config(path)
    config.load()
    exposed = secret_files.exposed_mode(path)
    if update:
        try:
            config.update(save=False)
        except (AttributeError, TypeError):
            raise ConfigError("--config", f"{path} does not have the config's structure") from None
        try:
            config.save()
        except OSError as e:
            log.warning("Could not write the upgraded config to %s: %s", path, e.strerror)
    if exposed is not None:
        if secret_files.exposed_mode(path) is None:
            log.warning("%s held secrets readable by other users (mode %04o): now 0600",
                        path, exposed)  # fmt: skip
        else:
            log.warning(secret_files.describe(path, exposed))
    return config, settings.read(config.raw, config.path)
