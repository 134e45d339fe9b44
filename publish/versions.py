"""The publish root: version names, the ``versions.json`` index, SemVer, and atomic file moves.

Why a module of its own: every rule that keeps the root consistent lives here, so that a crash at any
point leaves the previous version and the ``latest`` pointer intact. The root looks like::

    <root>/versions.json        index; "latest" names the last version that passed every error check
    <root>/CHANGELOG.md         regenerated from the index after each publish (newest first)
    <root>/<version>/           passing builds (immutable)
    <root>/failed/<version>/    builds whose error-level checks failed (kept for debugging, never latest)
    <root>/.staging-<random>/   a build in progress; never listed, removed at the next start
    <root>/.publish.lock        serialises publishers (fcntl lock)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

INDEX_NAME = "versions.json"
CHANGELOG_NAME = "CHANGELOG.md"
FAILED_DIR = "failed"
STAGING_PREFIX = ".staging-"
LOCK_NAME = ".publish.lock"

SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$"
)


# --- hashing and durable writes ---------------------------------------------------------------


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks (files can be gigabytes)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable (POSIX)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            fsync_file(Path(dirpath) / name)
        fsync_dir(Path(dirpath))


def write_json(path: Path, obj: Any) -> None:
    """Deterministic JSON (sorted keys, 2-space indent, UTF-8, trailing newline)."""
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never a half one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --- version names and SemVer -----------------------------------------------------------------


def content_hash(files: Iterable[tuple[str, str]]) -> str:
    """Hash over the sorted ``(relative path, sha256)`` list of the data files of a version."""
    h = hashlib.sha256()
    for path, digest in sorted(files):
        h.update(f"{path}\t{digest}\n".encode())
    return h.hexdigest()


def version_name(build_date: dt.date, digest: str) -> str:
    """``<YYYY-MM-DD>-<first 8 hex of the content hash>``."""
    return f"{build_date.isoformat()}-{digest[:8]}"


def parse_semver(v: str) -> tuple[int, int, int]:
    m = SEMVER_RE.match(v)
    if not m:
        raise ValueError(f"not a SemVer version (MAJOR.MINOR.PATCH): {v!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def bump(previous: str | None, level: str) -> str:
    """Next version after ``previous`` for a change of ``level`` (major, minor, patch)."""
    if previous is None:
        return "1.0.0"
    major, minor, patch = parse_semver(previous)
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    if level == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise ValueError(f"unknown bump level {level!r}")


# --- the index --------------------------------------------------------------------------------


def load_index(root: Path) -> dict[str, Any]:
    path = root / INDEX_NAME
    if not path.exists():
        return {"latest": None, "versions": []}
    data = json.loads(path.read_text(encoding="utf-8"))
    data.setdefault("latest", None)
    data.setdefault("versions", [])
    return data


def save_index(root: Path, index: dict[str, Any]) -> None:
    atomic_write_text(
        root / INDEX_NAME, json.dumps(index, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


def find_entry(
    index: dict[str, Any], version: str, *, checks_passed: bool | None = None
) -> dict[str, Any] | None:
    for entry in index["versions"]:
        if entry["version"] == version and (checks_passed is None or entry["checks_passed"] == checks_passed):
            return entry
    return None


def latest_entry(index: dict[str, Any]) -> dict[str, Any] | None:
    """The entry ``latest`` points to (always a passing build)."""
    if not index.get("latest"):
        return None
    return find_entry(index, index["latest"], checks_passed=True)


def add_entry(index: dict[str, Any], entry: dict[str, Any]) -> bool:
    """Append ``entry`` (or replace one with the same path); move ``latest`` only for a passing build.

    Returns True when ``latest`` moved.
    """
    index["versions"] = [e for e in index["versions"] if e["path"] != entry["path"]] + [entry]
    if entry["checks_passed"] and index.get("latest") != entry["version"]:
        index["latest"] = entry["version"]
        return True
    return False


def relative_version_path(version: str, checks_passed: bool) -> str:
    return version if checks_passed else f"{FAILED_DIR}/{version}"


# --- locking and staging ----------------------------------------------------------------------


@contextlib.contextmanager
def publish_lock(root: Path) -> Iterator[None]:
    """One publisher per root at a time (an exclusive fcntl lock, released on exit or crash)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_NAME, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def clean_staging(root: Path) -> list[Path]:
    """Remove ``.staging-*`` folders left by a crashed build (call while holding the lock)."""
    removed = []
    for p in sorted(root.glob(f"{STAGING_PREFIX}*")):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def new_staging(root: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
