"""Output folders that one run at a time writes into, and that a killed run cannot spoil.

* :class:`FolderLock` holds ``FOLDER/.workbench.lock`` (pid, host, start time and
  command, as JSON) with an OS-level lock (``fcntl.flock``; ``msvcrt.locking`` on
  Windows). The OS drops the lock when its process dies, however it dies, so a lock
  file left by a killed run never blocks; a second run into a folder whose lock is
  held is refused with :class:`FolderBusyError`, naming the running one.
* A report is made in a staging folder inside the output folder
  (``.staging-<pid>-…``), so that every file is complete before it is moved into
  place with ``os.replace`` (atomic within one file system): a reader never sees a
  half-written page. :func:`switch` moves the staged files in, ``run.json`` last,
  after writing a journal (``.workbench-switch.json``) that names the staging folder;
  a run killed between two moves leaves complete files, some new, some old, and the
  journal. :func:`prepare`, run by the next run into the folder once it holds the
  lock, finishes such a switch (the staged files are complete) and removes staging
  folders of runs that are no longer alive.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shlex
import shutil
import socket
import sys
import time
from pathlib import Path

from .errors import WorkbenchError

LOCK_NAME = ".workbench.lock"
STAGING_PREFIX = ".staging-"
SWITCH_NAME = ".workbench-switch.json"
# what an interrupted switch set aside (an earlier report's tables/ folder) in the staging folder
REPLACED_PREFIX = ".replaced-"


class FolderBusyError(WorkbenchError):
    """Another live run is writing into the folder."""


def _lock_fd(fd: int, blocking: bool = False) -> bool:
    """Take the OS lock on ``fd``; False when another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _describe(info: dict) -> tuple[str, str]:
    pid, host = info.get("pid", "?"), info.get("host", "?")
    started, command = info.get("started", "?"), info.get("command", "")
    en = f"pid {pid} on {host}, started {started}" + (f": {command}" if command else "")
    zh = f"进程 {pid}（{host}），开始于 {started}"
    return en, zh


def busy_error(folder: Path, info: dict) -> FolderBusyError:
    en, zh = _describe(info)
    return FolderBusyError(f"{folder}: another run is writing into this folder ({en}). Fix: wait until it ends, "
                           f"or write to another folder with -o / 该目录正被另一次运行写入（{zh}）。"
                           "解决办法：等它结束，或用 -o 写到别的目录")


def _read_info(path: Path) -> dict:
    try:
        info = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def holder(folder: str | Path) -> dict | None:
    """What the live run holding ``folder``'s lock wrote into it; None when nobody holds
    it (no lock file, or one left by a run that is gone). Writes nothing."""
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        if _lock_fd(fd):
            return None  # free: the lock is dropped as fd closes
        return _read_info(path)
    finally:
        os.close(fd)


def check_free(folder: str | Path) -> None:
    """Raise :class:`FolderBusyError` when a live run holds ``folder``'s lock (a cheap look
    before any work; :class:`FolderLock` is what excludes)."""
    info = holder(folder)
    if info is not None:
        raise busy_error(Path(folder).resolve(), info)


class FolderLock:
    """The lock of one output folder, held from :meth:`acquire` to :meth:`release` (or as
    a context manager). The lock file is removed on release; one left by a killed
    process is taken over, since the OS lock died with that process."""

    def __init__(self, folder: str | Path, command: str | None = None) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.command = command if command is not None else shlex.join(sys.argv)
        self.fd: int | None = None

    def acquire(self) -> FolderLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            for attempt in range(5):  # a look by holder() holds the lock for an instant
                if _lock_fd(fd):
                    break
                time.sleep(0.05)
            else:
                os.close(fd)
                raise busy_error(self.folder.resolve(), _read_info(self.path))
            # the file may have been removed (and made again) by the run that held it
            # between our open and our lock: then the lock is on a file nobody else sees
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
                "command": self.command}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info, ensure_ascii=False).encode("utf-8"))
        self.fd = fd
        return self

    def release(self) -> None:
        """Remove the lock file, then drop the lock (in that order, so that nobody takes a
        lock on a file about to disappear); idempotent."""
        fd, self.fd = self.fd, None
        if fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(fd)

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: alive
    # a killed run whose parent has not reaped it yet (in a container, nobody may) is a
    # zombie, which os.kill still finds
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def staging_dir(folder: Path) -> Path:
    """A new staging folder inside ``folder``, named after this process."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=folder))


def _owner(name: str) -> int | None:
    head = name[len(STAGING_PREFIX):].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def prepare(folder: Path) -> None:
    """Call holding ``folder``'s lock, before writing into it: finish a switch a killed
    run left half done, then remove staging folders (and temporary files) of runs no
    longer alive. Staging folders without an owner's pid in their name (made before
    folders were locked) are removed as well: the lock says nobody writes here now."""
    journal = folder / SWITCH_NAME
    if journal.exists():
        staged = _read_info(journal)
        staging = folder / str(staged.get("staging", ""))
        if staged.get("staging") and staging.is_dir():
            _move(staging, folder, list(staged.get("items", [])))
        journal.unlink(missing_ok=True)
    for item in folder.iterdir():
        if item.name.startswith(STAGING_PREFIX) and item.is_dir():
            owner = _owner(item.name)
            if owner is None or not _alive(owner) or owner == os.getpid():
                shutil.rmtree(item, ignore_errors=True)
        elif item.name.startswith(".") and item.name.endswith(".tmp") and item.is_file():
            item.unlink(missing_ok=True)


def tidy(folder: str | Path) -> None:
    """:func:`prepare` ``folder`` under its lock, when nobody holds it (a batch does this to
    a finished report it keeps, which no report run comes to clean)."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    lock = FolderLock(folder)
    try:
        lock.acquire()
    except FolderBusyError:
        return
    try:
        prepare(folder)
    finally:
        lock.release()


def switching(folder: str | Path) -> bool:
    """Whether a switch into ``folder`` was interrupted (the next run finishes it)."""
    return (Path(folder) / SWITCH_NAME).exists()


def switch_order(names: list[str], last: tuple[str, ...]) -> list[str]:
    """``names`` with those in ``last`` moved to the end, in the order of ``last``."""
    return [n for n in names if n not in last] + [n for n in last if n in names]


def switch(staging: Path, folder: Path, items: list[str]) -> None:
    """Move ``items`` (names in ``staging``) into ``folder``, each with ``os.replace``; a
    folder of the same name (``tables/``) is first set aside into ``staging`` whole. A
    journal written first lets :func:`prepare` finish the moves should this process be
    killed between two of them."""
    write_text(folder / SWITCH_NAME, json.dumps({"staging": staging.name, "items": items}))
    _move(staging, folder, items)
    (folder / SWITCH_NAME).unlink()


def _move(staging: Path, folder: Path, items: list[str]) -> None:
    for name in items:
        src, dst = staging / name, folder / name
        if not os.path.lexists(src):
            continue  # moved before the interruption
        if src.is_dir() and dst.is_dir():
            aside = staging / f"{REPLACED_PREFIX}{name}"
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(dst, aside)
        os.replace(src, dst)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it and ``os.replace``:
    readers see the old file or the new one, never part of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
