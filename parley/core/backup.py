"""`parley backup` / `parley restore`: one file with everything a site needs to come back.

The file is a gzipped tar holding `manifest.json`, the database — SQLite copied with its
online backup API (a consistent snapshot while Parley keeps serving), PostgreSQL as
`pg_dump --format=custom` — the uploaded files (`media/`) and the secret key (readers'
tokens, sign-in links and every keyed hash of an address were made with it: a restore with
another key would lose readers their identities). Keep backups as safe as the database.
"""

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

FORMAT = "parley-backup"
VERSION = 1
DATABASE_FILE = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(Exception):
    pass


@dataclass
class Manifest:
    database: str
    created_at: str
    media_files: int


def _vendor() -> str:
    if connection.vendor not in DATABASE_FILE:
        raise BackupError(f"Parley backs up SQLite and PostgreSQL, not {connection.vendor}.")
    return connection.vendor


def _pg_env() -> dict[str, str]:
    """libpq's own variables, so no password appears on a command line."""
    conf = connection.settings_dict
    env = dict(os.environ)
    for key, value in (("PGHOST", conf.get("HOST")), ("PGPORT", conf.get("PORT")),
                       ("PGUSER", conf.get("USER")), ("PGPASSWORD", conf.get("PASSWORD")),
                       ("PGDATABASE", conf.get("NAME"))):  # fmt: skip
        if value:
            env[key] = str(value)
    return env


def _run(command: list[str]) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - our own pg_dump/pg_restore arguments
            command, env=_pg_env(), capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} is not installed: PostgreSQL's client tools do the dump and restore "
            "(Debian: apt-get install postgresql-client)."
        ) from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _sqlite_copy(source_path: str | Path, target_path: str | Path) -> None:
    """SQLite's online backup API, on connections of their own: it copies a consistent
    snapshot while Parley's writers carry on (WAL), and replaces the target's pages whole."""
    source = sqlite3.connect(source_path, timeout=60)
    target = sqlite3.connect(target_path, timeout=60)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _dump_database(vendor: str, path: Path) -> None:
    if vendor == "sqlite":
        _sqlite_copy(connection.settings_dict["NAME"], path)
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(path)])


def write_backup(out: Path) -> Manifest:
    """Write the backup to `out` (a new file; written beside it, then renamed)."""
    vendor = _vendor()
    media = Path(settings.MEDIA_ROOT)
    partial = out.with_name(out.name + ".partial")
    with tempfile.TemporaryDirectory(dir=settings.DATA_DIR) as scratch:
        database = Path(scratch) / DATABASE_FILE[vendor]
        _dump_database(vendor, database)
        files = [p for p in media.rglob("*") if p.is_file()] if media.is_dir() else []
        manifest = Manifest(vendor, datetime.now(UTC).isoformat(), len(files))
        with tarfile.open(partial, "w:gz") as archive:
            _add_bytes(archive, "manifest.json", json.dumps(
                {"format": FORMAT, "version": VERSION, **manifest.__dict__}, indent=2
            ).encode())  # fmt: skip
            archive.add(database, arcname=database.name)
            _add_bytes(archive, "secret_key", settings.SECRET_KEY.encode())
            for path in files:
                archive.add(path, arcname=f"media/{path.relative_to(media)}")
    os.chmod(partial, 0o600)
    partial.replace(out)
    return manifest


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        with tarfile.open(path, "r:gz") as archive:
            member = archive.extractfile("manifest.json")
            manifest: dict[str, Any] = json.load(member) if member else {}
    except (OSError, KeyError, tarfile.TarError, json.JSONDecodeError) as error:
        raise BackupError(f"{path} is not a Parley backup ({error}).") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a Parley backup.")
    if manifest.get("version") != VERSION:
        raise BackupError(f"{path} is a version {manifest.get('version')} backup; this Parley "
                          f"restores version {VERSION}.")  # fmt: skip
    return manifest


def restore_backup(path: Path) -> dict[str, Any]:
    """Replace this install's database and uploaded files with the backup's. The secret key
    is written back too when the data dir holds one (Parley's default)."""
    manifest = read_manifest(path)
    vendor = _vendor()
    if manifest["database"] != vendor:
        raise BackupError(
            f"This backup holds a {manifest['database']} database and this Parley runs on "
            f"{vendor}: restore it into a {manifest['database']} install, then move the site "
            "with `parley export` and `parley import parley`."
        )
    with (
        tempfile.TemporaryDirectory(dir=settings.DATA_DIR) as scratch,
        tarfile.open(path, "r:gz") as archive,
    ):
        archive.extractall(scratch, filter="data")
        unpacked = Path(scratch)
        database = unpacked / DATABASE_FILE[vendor]
        if vendor == "sqlite":
            connection.close()
            _sqlite_copy(database, connection.settings_dict["NAME"])
        else:
            connection.close()  # pg_restore drops tables this connection may hold open
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                  "--dbname", str(connection.settings_dict["NAME"]), str(database)])  # fmt: skip
        media = Path(settings.MEDIA_ROOT)
        if (unpacked / "media").is_dir():
            shutil.rmtree(media, ignore_errors=True)
            shutil.copytree(unpacked / "media", media)
        key_file = Path(settings.DATA_DIR) / "secret_key"
        if key_file.exists() and (unpacked / "secret_key").exists():
            key_file.write_bytes((unpacked / "secret_key").read_bytes())
    return manifest
