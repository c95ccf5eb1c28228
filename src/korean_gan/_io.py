"""Small file helpers shared by the package: atomic writes and a reproducible npz writer.

Everything the package writes for a user goes through :func:`atomic_path`, so an interrupted or
failed write never leaves a half-written file at the destination: it writes a temporary file in
the same folder and renames it over the target only when the write completed.

A run killed outright (SIGKILL, power loss) cannot remove its temporary file; it is named
``.NAME.PID-…`` and the next write to the same output removes it once that process is gone.

Only regular files are ever renamed over. A symbolic link keeps being a link (its target gets
the new content); a character device or a FIFO (``/dev/null``, ``/dev/stdout``, a named pipe)
is written through, once the content is complete; anything else that is not a regular file (a
socket, a block device) is refused.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import io
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

# A fixed timestamp for npz members: numpy's own savez stamps the current time, which would make
# two identical builds differ byte for byte.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class OutputError(OSError):
    """An output path that cannot be written, with what to do about it."""


def temp_prefix(path: str | os.PathLike) -> str:
    """The name prefix of the hidden temporary files and folders made beside ``path`` while
    it is written: ``.NAME.PID-`` (the process id lets a later run tell a dead run's leftovers
    from a live one's)."""
    return f".{Path(path).name}.{os.getpid()}-"


def process_alive(pid: int) -> bool:
    """True if a process with this id runs (or may: one of another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def sweep_stale_temps(path: str | os.PathLike) -> None:
    """Removes the temporary files and folders that a killed run (SIGKILL, power loss) left
    beside ``path``: those named by :func:`temp_prefix` of a process that no longer runs.

    One is put back instead: an earlier output that a run killed in the middle of replacing a
    folder (where the system cannot swap two folders in one step) had moved aside, when
    nothing has taken its place.
    """
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)-")
    try:
        siblings = sorted(path.parent.iterdir())
    except OSError:
        return
    for sibling in siblings:
        found = pattern.match(sibling.name)
        if not found or process_alive(int(found.group(1))):
            continue
        if sibling.name.endswith(_ASIDE) and not os.path.lexists(path):
            with contextlib.suppress(OSError):  # if it cannot go back, it stays where it is
                os.rename(sibling, path)
            continue
        if sibling.is_dir() and not sibling.is_symlink():
            shutil.rmtree(sibling, ignore_errors=True)
        else:
            try:
                sibling.unlink()
            except OSError:
                pass


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISSOCK, "socket"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISFIFO, "named pipe")):
        if test(mode):
            return name
    return "special file"


def stream_target(path: str | os.PathLike) -> bool:
    """True if ``path`` is a character device or a FIFO: written through, never replaced."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def check_output_path(path: str | os.PathLike) -> Path:
    """Checks that a file can be written at ``path`` before any long work starts.

    Creates the parent folder if needed. A symbolic link is followed (the link stays; its
    target is written); a character device or FIFO is accepted if it is writable.

    Returns:
        The path to write: ``path``, or a link's final target.

    Raises:
        OutputError: the path is a folder, a socket or another special file, its parent is a
            file, or the folder is not writable.
    """
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.is_dir():
        raise OutputError(f"output {path} is a folder; give a file name")
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            raise OutputError(f"output {path} is a {_kind(mode)}, not a file; give a file name")
        if not os.access(path, os.W_OK):
            raise OutputError(f"cannot write {path}: permission denied")
        return path
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(f"cannot write {path}: {parent} is a file, not a folder") from None
    except PermissionError:
        raise OutputError(f"cannot create folder {parent}: permission denied") from None
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {path}: folder {parent} is not writable")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yields a temporary path beside ``path``; renames it to ``path`` if the block succeeds.

    On any error (or KeyboardInterrupt) the temporary file is removed and ``path`` keeps its
    previous content, if it had any. A symbolic link's target is written (the link stays); a
    character device or FIFO gets the finished content written through (the temporary file is
    then in the system's temporary folder).
    """
    path = check_output_path(path)
    through = stream_target(path)
    if not through:
        sweep_stale_temps(path)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=suffix or ".tmp",
                                    dir=None if through else path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    if through:
        try:
            yield tmp
            with open(tmp, "rb") as source, open(path, "wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
        finally:
            tmp.unlink(missing_ok=True)
        return
    try:
        yield tmp
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# The name an earlier output folder gets while it is moved aside (see _swap_in).
_ASIDE = "-aside"
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def _exchange(a: Path, b: Path) -> bool:
    """Swaps two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where the
    system or the file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(error, os.strerror(error), str(b))


def _swap_in(tmp: Path, path: Path) -> None:
    """Puts the finished folder ``tmp`` at ``path``, whose earlier folder is then removed.

    There is no moment without a whole folder at ``path``: the two are swapped in one step,
    after which ``tmp`` holds the earlier folder. Where that cannot be done, the earlier folder
    is renamed aside first; a run killed between the two renames leaves it aside under a name
    that the next run's :func:`sweep_stale_temps` puts back.
    """
    if not _exchange(tmp, path):
        aside = path.with_name(temp_prefix(path) + _ASIDE)
        os.replace(path, aside)
        os.replace(tmp, path)
        tmp = aside
    shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary folder beside ``path``; if the block succeeds, it replaces ``path``
    as a whole (an earlier folder there is swapped out and removed).

    On any error (or KeyboardInterrupt, or SIGKILL at any moment) ``path`` keeps its previous
    content, if it had any; the temporary folder is removed then or by the next run.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        kind = "file" if path.is_file() else _kind(os.stat(path).st_mode)
        raise OutputError(f"output {path} is a {kind}, not a folder; give a folder name")
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(path)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(path), dir=path.parent))
    try:
        yield tmp
        tmp.chmod(0o755)  # mkdtemp makes it private; a model folder is for everyone to read
        if path.exists():
            _swap_in(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


#: The file in a folder that :func:`folder_lock` locks.
LOCK_NAME = ".korean-gan.lock"


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, hint: str) -> Iterator[None]:
    """Holds an exclusive lock on ``folder`` for the block, so that two processes never write
    one folder (a training run) at once.

    The lock is ``flock`` on the folder's ``.korean-gan.lock`` file, which holds the owner's
    process id; it ends with the process, however it ends (SIGKILL included), and the file
    stays. A folder made here is removed again if the block fails before writing anything
    else into it.

    Args:
        folder: The folder (made if missing).
        hint: What to do when it is in use, e.g. ``"choose another --run-dir"``.

    Raises:
        OutputError: another process holds the lock.
    """
    import fcntl

    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 20, 0).decode("ascii", "replace").strip()
            owner = f" (process {owner})" if owner.isdigit() else ""
            raise OutputError(f"{folder} is in use by another korean-gan process{owner}: wait "
                              f"for it to finish, or {hint}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        try:
            yield
        except BaseException:
            with contextlib.suppress(OSError):  # the folder may be gone: nothing to tidy
                if created and set(os.listdir(folder)) <= {LOCK_NAME}:
                    shutil.rmtree(folder, ignore_errors=True)
            raise
    finally:
        os.close(fd)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Writes ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json_atomic(path: str | os.PathLike, obj: object) -> None:
    """Writes ``obj`` as pretty UTF-8 JSON (Hangul kept readable) atomically."""
    text = json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"))


def _stream_memmap(zf: zipfile.ZipFile, name: str, array: np.memmap,
                   chunk: int = 16 << 20) -> None:
    """Writes a C-ordered memmap as an ``.npy`` member, reading its file chunk by chunk."""
    if not array.flags.c_contiguous or array.dtype.hasobject:
        raise TypeError(f"array {name!r} must be a C-ordered memmap of plain numbers")
    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    header = {"descr": np.lib.format.dtype_to_descr(array.dtype), "fortran_order": False,
              "shape": array.shape}
    with zf.open(info, "w", force_zip64=True) as member, open(array.filename, "rb") as source:
        np.lib.format.write_array_header_1_0(member, header)
        source.seek(array.offset)
        left = array.nbytes
        while left:
            data = source.read(min(chunk, left))
            if not data:
                raise OSError(f"{array.filename} ended {left} bytes early")
            member.write(data)
            left -= len(data)


def save_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray],
             compresslevel: int = 1) -> None:
    """Saves arrays as a ``.npz`` that :func:`numpy.load` reads, byte-identical for equal input.

    Members are deflated at ``compresslevel`` (1 is fast and already shrinks glyph images,
    which are mostly white, several-fold) and carry a fixed timestamp. Written atomically.
    A :class:`numpy.memmap` member is streamed from its file in chunks, so a large array on
    disk is written without ever being held in memory.
    """
    with atomic_path(path, suffix=".npz") as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED,
                             compresslevel=compresslevel) as zf:
            for key, value in arrays.items():
                if isinstance(value, np.memmap):
                    _stream_memmap(zf, f"{key}.npy", value)
                    continue
                array = np.asarray(value)
                if array.dtype == object:
                    raise TypeError(f"array {key!r} has dtype object; npz members must not need "
                                    "pickle")
                info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, array, allow_pickle=False)
                zf.writestr(info, buffer.getvalue(), compresslevel=compresslevel)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def npz_problem(err: BaseException) -> str:
    """Why an ``.npz`` could not be read, in words for a user (never numpy's advice to load
    pickles, which korean-gan does not do)."""
    text = str(err)
    if isinstance(err, ValueError) and "pickle" in text:
        return "it holds pickled Python objects, which korean-gan never loads"
    if isinstance(err, zipfile.BadZipFile) or "zip" in text.lower():
        return "it is not an .npz (zip) archive, or it is damaged"
    if isinstance(err, EOFError):
        return "it ends early (a damaged or half-written file)"
    return f"{type(err).__name__}: {(text.splitlines() or [''])[0][:120]}"
