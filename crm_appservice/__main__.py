"""The `crm-appservice` command line (also `python -m crm_appservice`).

Every failure an admin can cause (a bad config value, an unreachable database, a duplicate
manager) ends in one line on stderr; config errors exit with status 2, other failures with 1.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import getpass
import logging
import logging.config
import os
import re
import sys

import asyncpg
import psycopg

from . import __version__, passwords
from .config import Config, ConfigError, Settings, load
from .doctor import Doctor
from .program import Program
from .registration import generate_registration, write_registration
from .store import managers
from .store.database import database_dsn
from .store.embedded import EmbeddedDatabaseError
from .store.migrate import MigrationLockTimeout, apply_migrations

log = logging.getLogger("crm")

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CommandError(Exception):
    """A failure to report in one line, exit status 1."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm-appservice", description="Shared WhatsApp inbox as a Matrix application service"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-c", "--config", default="config.yaml", help="config file (config.yaml)")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", default=argparse.SUPPRESS, help="config file")
    registration = argparse.ArgumentParser(add_help=False)
    registration.add_argument(
        "-r",
        "--registration",
        default="registration.yaml",
        help="registration file to write (registration.yaml)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", parents=[common, registration], help="start the service (the default)")
    generate = sub.add_parser(
        "generate-registration",
        parents=[common, registration],
        help="write the homeserver registration and put new tokens in the config",
    )
    generate.add_argument(
        "--keep-tokens",
        action="store_true",
        help="use the tokens the config has (a set-up that gave the as_token to the bridge too)",
    )
    sub.add_parser("migrate", parents=[common], help="apply pending database migrations")
    sub.add_parser(
        "doctor",
        parents=[common, registration],
        help="check the deployment piece by piece (the CRM should be running)",
    )
    schema = sub.add_parser("openapi", help="write the inbox API's OpenAPI document")
    schema.add_argument("file", nargs="?", help="where (standard output when left out)")
    add = sub.add_parser(
        "add-manager", parents=[common], help="create a manager (password read from stdin)"
    )
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=managers.ROLES, default="manager")
    add.add_argument(
        "--update-existing",
        action="store_true",
        help="if the e-mail exists, set its name, role and password instead of failing",
    )
    return parser


def _setup_logging(settings: Settings) -> None:
    try:
        logging.config.dictConfig(settings.logging)
    except (ValueError, TypeError, AttributeError, ImportError) as e:
        raise ConfigError("logging", f"invalid logging configuration ({e})") from None


def _read_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise CommandError("the passwords do not match")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < passwords.MIN_LENGTH:
        raise CommandError(f"the password must have at least {passwords.MIN_LENGTH} characters")
    return password


async def _migrate(settings: Settings) -> None:
    db = settings.database
    async with database_dsn(db) as dsn:
        applied = await asyncio.to_thread(apply_migrations, dsn, db.migration_lock_timeout)
    if applied:
        print(f"Applied {len(applied)} migration(s): {', '.join(applied)}")
    else:
        print("The database is up to date.")


async def _add_manager(settings: Settings, args: argparse.Namespace) -> None:
    email = args.email.strip().lower()
    if not EMAIL.match(email):
        raise CommandError("--email: not an e-mail address")
    name = args.name.strip()
    if not name:
        raise CommandError("--name: must not be empty")
    password_hash = await asyncio.to_thread(passwords.hash_password, _read_password())
    db = settings.database
    async with database_dsn(db) as dsn:
        await asyncio.to_thread(apply_migrations, dsn, db.migration_lock_timeout)
        conn = await asyncpg.connect(dsn)
        try:
            manager, created = await managers.create(
                conn, email, name, args.role, password_hash, args.update_existing
            )
        except managers.ManagerExists:
            raise CommandError(
                f"a manager with the e-mail {email} already exists (use --update-existing)"
            ) from None
        finally:
            await conn.close()
    print(
        f"{'Created' if created else 'Updated'} {manager.role} {manager.email} (id {manager.id})"
    )


def _run(config: Config, settings: Settings, args: argparse.Namespace) -> None:
    if not settings.appservice.has_tokens:
        registration_path = getattr(args, "registration", "registration.yaml")
        generate_registration(config, settings, registration_path)
        log.warning(
            "No appservice tokens were configured: generated them and wrote %s; add it to the "
            "homeserver's app_service_config_files and restart the homeserver",
            os.path.abspath(registration_path),
        )
        settings = load(config.path, update=False)[1]
    asyncio.run(Program(settings).run())


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command == "openapi":  # needs no config
        from .api.openapi import write

        write(args.file)
        return 0
    try:
        config, settings = load(args.config)
        _setup_logging(settings)
        if command == "run":
            _run(config, settings, args)
        elif command == "generate-registration":
            if args.keep_tokens:
                write_registration(settings, args.registration)
                print(f"Wrote {args.registration} with the tokens of {args.config}")
            else:
                generate_registration(config, settings, args.registration)
                print(f"Wrote {args.registration}; the tokens are saved in {args.config}")
        elif command == "migrate":
            asyncio.run(_migrate(settings))
        elif command == "add-manager":
            asyncio.run(_add_manager(settings, args))
        elif command == "doctor":
            healthy = asyncio.run(Doctor(settings, args.registration).run())
            return 0 if healthy else 1
    except ConfigError as e:
        print(f"crm-appservice: config error: {e}", file=sys.stderr)
        return 2
    except (CommandError, EmbeddedDatabaseError, MigrationLockTimeout) as e:
        print(f"crm-appservice: {e}", file=sys.stderr)
        return 1
    except (asyncpg.PostgresError, asyncpg.InterfaceError, psycopg.Error) as e:
        print(f"crm-appservice: database error: {_first_line(e)}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"crm-appservice: {_first_line(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
