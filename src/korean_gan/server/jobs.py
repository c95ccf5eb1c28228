"""Background jobs (fonts and datasets): a bounded queue on one worker thread, with per-job
folders.

Each job gets a folder under the manager's temporary root; its files stay there until every
one was downloaded or the job has been finished for ``ttl`` seconds, whichever comes first.
A client (by IP address) may have one job queued or running, and at most
``max_jobs`` jobs are queued or running in all.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from korean_gan._io import process_alive

__all__ = ["DOWNLOADS", "Job", "JobCancelledError", "JobLimitError", "JobManager"]

log = logging.getLogger(__name__)

#: What a finished job may offer for download: file name -> media type.
DOWNLOADS = {"font.woff2": "font/woff2", "font.ttf": "font/ttf", "data.zip": "application/zip"}
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class JobLimitError(Exception):
    """A job refused because the client or the server has too many (HTTP 429)."""


class JobCancelledError(Exception):
    """Raised inside a running job (from its progress reports) when the server stops."""


@dataclass
class Job:
    """One job and what the client may know of it."""

    id: str
    client: str
    kind: str  # "style" or "photo" (fonts), "glyphs" or "lines" (datasets)
    folder: Path
    state: str = QUEUED
    stage: str | None = None
    progress: float = 0.0
    error: str | None = None
    ingested: list[str] = field(default_factory=list)  # syllables read from the photo
    ingest_counts: dict[str, int] = field(default_factory=dict)
    family: str | None = None
    syllables: int = 0
    written: int = 0  # syllables kept as the client wrote them
    files: dict[str, Path] = field(default_factory=dict)  # download name -> file, when done
    download_name: str | None = None  # what a browser saves data.zip as
    downloaded: set[str] = field(default_factory=set)
    created: float = field(default_factory=time.monotonic)
    finished: float | None = None
    seconds: float | None = None

    def to_json(self) -> dict:
        """The job's status as the API shows it (no server paths)."""
        done = self.state == DONE
        return {
            "job": self.id, "kind": self.kind, "state": self.state, "stage": self.stage,
            "progress": 1.0 if done else self.progress, "error": self.error,
            "ingested": list(self.ingested), "ingest_counts": dict(self.ingest_counts),
            "ingested_preview": (f"/api/jobs/{self.id}/ingested.png"
                                 if (self.folder / "glyphs.preview.png").is_file() else None),
            "family": self.family, "syllables": self.syllables, "written": self.written,
            "seconds": self.seconds,
            # By format: {"woff2": URL, "ttf": URL} of a font, {"zip": URL} of a dataset.
            "files": {name.rsplit(".", 1)[1]: f"/api/jobs/{self.id}/{name}"
                      for name in self.files} if done else {},
        }


_ROOT_PREFIX = "korean-gan-jobs-"


def _remove_dead_servers_folders() -> None:
    """Removes the job folders of servers that were killed outright (SIGKILL, a power cut):
    ``korean-gan-jobs-PID-…`` in the temporary folder, of a process that no longer runs."""
    pattern = re.compile(rf"^{_ROOT_PREFIX}(\d+)-")
    for folder in Path(tempfile.gettempdir()).glob(f"{_ROOT_PREFIX}*"):
        found = pattern.match(folder.name)
        if found and folder.is_dir() and not folder.is_symlink() \
                and not process_alive(int(found.group(1))):
            shutil.rmtree(folder, ignore_errors=True)


class JobManager:
    """Runs jobs one at a time and keeps their files for a while.

    Args:
        max_jobs: Jobs queued or running at once, over all clients.
        ttl: Seconds a job's files are kept after it ends (and the longest a job is kept).
        root: Folder for the job folders (default: a new temporary folder, removed at
            :meth:`close`; the ones that servers killed outright left are removed first).
    """

    def __init__(self, max_jobs: int = 4, ttl: float = 3600.0, root: Path | None = None):
        self.max_jobs = max_jobs
        self.ttl = ttl
        self._own_root = root is None
        if root is None:
            _remove_dead_servers_folders()
        self.root = Path(tempfile.mkdtemp(prefix=f"{_ROOT_PREFIX}{os.getpid()}-")) \
            if root is None else Path(root)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        #: Set when the server stops: a running job ends at its next progress report.
        self.closing = threading.Event()
        # One worker: a font job uses both cores already, and the model is shared.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="korean-gan-job")

    # --- submitting ---------------------------------------------------------------------------

    def check_room(self, client: str) -> None:
        """Raises :class:`JobLimitError` if ``client`` may not start a job now."""
        self.sweep()
        with self._lock:
            self._check_room(client)

    def _check_room(self, client: str) -> None:
        active = [job for job in self._jobs.values() if job.state in (QUEUED, RUNNING)]
        if any(job.client == client for job in active):
            raise JobLimitError("you already have a job queued or running; wait for it to "
                                "finish before starting another")
        if len(active) >= self.max_jobs:
            raise JobLimitError(f"the server is busy with {len(active)} jobs; try again "
                                "in a few minutes")

    def new_folder(self) -> Path:
        """A fresh folder for a job's files (its name is not the job id)."""
        return Path(tempfile.mkdtemp(prefix="job-", dir=self.root))

    def submit(self, client: str, kind: str, folder: Path,
               work: Callable[[Job], None], **fields) -> Job:
        """Queues ``work(job)`` on the worker thread.

        Args:
            client: Who asked (an IP address).
            kind: ``style``, ``photo``, ``glyphs`` or ``lines``.
            folder: The job's folder (from :meth:`new_folder`); removed with the job.
            work: Makes the job's files, sets ``job.files`` and may update stage and progress;
                a ``ValueError`` or ``OSError`` fails the job with its message.
            **fields: Initial :class:`Job` fields (``ingested``, ``family``, ...).

        Raises:
            JobLimitError: the client has a job already, or the queue is full.
        """
        with self._lock:
            try:
                self._check_room(client)
            except JobLimitError:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            job = Job(str(uuid.uuid4()), client, kind, folder, **fields)
            self._jobs[job.id] = job
        self._executor.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], None]) -> None:
        started = time.perf_counter()
        job.state = RUNNING
        try:
            work(job)
            job.state = DONE
            job.progress = 1.0
        except JobCancelledError:
            job.error = "the server stopped before the job was done"
            job.state = FAILED
        except (ValueError, OSError) as err:
            job.error = self._one_line(err, job.folder)
            job.state = FAILED
        except Exception:  # a bug: keep the worker alive, tell the client little
            log.exception("%s job %s failed", job.kind, job.id)
            job.error = "the job failed (an internal error; see the server's log)"
            job.state = FAILED
        finally:
            job.seconds = round(time.perf_counter() - started, 2)
            job.finished = time.monotonic()

    @staticmethod
    def _one_line(err: BaseException, folder: Path) -> str:
        """An error's first line, without the job folder's path."""
        text = (str(err).splitlines() or [type(err).__name__])[0]
        return text.replace(f"{folder}/", "").replace(str(folder), "the job folder")

    # --- reading ------------------------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        """The job, or None if unknown or already removed."""
        self.sweep()
        with self._lock:
            return self._jobs.get(job_id)

    def mark_downloaded(self, job: Job, name: str) -> bool:
        """Notes a download; returns True when every file was downloaded (the job's files
        may then go, once the response is sent: :meth:`remove`)."""
        with self._lock:
            job.downloaded.add(name)
            return set(job.files) <= job.downloaded

    def remove(self, job_id: str) -> None:
        """Forgets a job and deletes its folder."""
        with self._lock:
            job = self._jobs.pop(job_id, None)
        if job is not None:
            shutil.rmtree(job.folder, ignore_errors=True)

    def sweep(self) -> None:
        """Removes jobs that ended more than ``ttl`` seconds ago."""
        now = time.monotonic()
        with self._lock:
            old = [job.id for job in self._jobs.values()
                   if job.finished is not None and now - job.finished > self.ttl]
        for job_id in old:
            self.remove(job_id)

    def check_cancelled(self) -> None:
        """Raises :class:`JobCancelledError` if the server is stopping (jobs call it as they go)."""
        if self.closing.is_set():
            raise JobCancelledError

    def close(self) -> None:
        """Cancels queued jobs, stops the running one at its next progress report and deletes
        every job folder."""
        self.closing.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            jobs, self._jobs = list(self._jobs.values()), {}
        for job in jobs:
            shutil.rmtree(job.folder, ignore_errors=True)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)
