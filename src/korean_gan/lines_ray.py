"""Line sets made on a Ray cluster: the shards of one ``korean-gan lines`` run as Ray tasks.

:func:`make_lines_on_ray` splits a :class:`~korean_gan.textlines.LinesConfig` into ``N``
shards and runs each as one Ray task: task ``k`` calls :func:`~korean_gan.textlines.make_lines`
with ``shard="k/N"`` (loading the model itself) and writes a complete line set to
``<out>/shard-<k>-of-<N>`` (``shard-003-of-008``). Line ``i`` depends only on ``(seed, i)``, so
the shard folders read in order hold exactly the lines of the single run, whichever machine
made which shard (with the same kind of CPU: the default ``int8`` sums exactly on every CPU
with VNNI; see :meth:`korean_gan.generate.Handwriting.load`). Each shard folder is written
atomically: a failed or interrupted task leaves no half-written shard, and running the same
call again replaces the shard folders of the previous run.

Ray is an optional dependency: ``pip install "korean-gan[ray]"`` (or ``pip install ray``).

On one machine (a local Ray instance is started and stopped again)::

    korean-gan lines --random 100000 --ray 8 --out data/lines-ray

On a cluster, every machine needs the same korean-gan install (and the model, if not the
committed ``default``), and ``--out`` (and ``--text``, style files) must be on a filesystem
that every machine sees at the same path (NFS, a shared volume)::

    ray start --head --num-cpus 8            # on the first machine; prints its address
    ray start --address=HEAD_IP:6379         # on each of the others
    korean-gan lines --random 1000000 --ray 64 --out /shared/lines \\
        --ray-address auto                   # on any machine of the cluster
    ray stop                                 # on every machine, when done

or from Python, ``make_lines_on_ray(LinesConfig(random=10**6, out="/shared/lines"), 64,
address="auto")``. Every task asks Ray for ``num_cpus_per_task`` CPUs (default 1), so a
machine runs as many shards at once as it has CPUs, TensorFlow in each using that many threads;
each task holds TensorFlow and the model, about 0.9 GB of memory. Use more shards than CPUs
in the cluster so that the fast machines take more of them.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict
from pathlib import Path

from korean_gan.textlines import LinesConfig, LinesError

__all__ = ["make_lines_on_ray", "shard_folder"]

_SHARD_DIR = re.compile(r"shard-(\d{3,})-of-(\d{3,})")
_INSTALL = 'Ray is not installed: pip install "korean-gan[ray]" (or pip install ray)'


def shard_folder(out: str | Path, k: int, shards: int) -> Path:
    """The folder of shard ``k`` of ``shards`` under ``out``: ``shard-003-of-008``."""
    return Path(out) / f"shard-{k:03d}-of-{shards:03d}"


def make_lines_on_ray(config: LinesConfig, shards: int, address: str | None = None,
                      num_cpus_per_task: float = 1.0) -> list[Path]:
    """Fans ``shards`` shards of ``config`` out as Ray tasks.

    Shard ``k`` is written to ``<config.out>/shard-<k:03d>-of-<N:03d>``, each a complete line
    set made by :func:`~korean_gan.textlines.make_lines` with ``shard=f"{k}/{N}"`` (progress
    bar off; skipped lines are warnings in the task's log). Read in order, the shard folders
    hold the lines of the single run.

    Args:
        config: What to make; ``shard`` must be unset. Relative paths (``out``, ``text``,
            ``frequency_from``, a ``model`` folder, style files) are made absolute here, as Ray
            workers do not run in this process's working folder.
        shards: How many tasks (and folders); at most the number of lines.
        address: The Ray cluster: ``None`` starts a local Ray instance for this call and stops
            it after, ``"auto"`` connects to the running cluster (``ray start``), or
            ``"HOST:PORT"`` / ``"ray://HOST:10001"``. If this process is already connected
            (``ray.init`` was called), that connection is used and left open.
        num_cpus_per_task: CPUs Ray reserves for each task; TensorFlow in the task uses as
            many threads (``TF_NUM_INTRAOP_THREADS``, unless set in this process's
            environment; the lines came out the same with 1 and 2 threads, and in the
            tasks and a single process, in tests/test_lines_ray.py).

    Returns:
        The shard folders, in shard order.

    Raises:
        LinesError: Ray is not installed, a bad ``shards`` or ``config.shard``, or ``out`` is a
            file or a non-empty folder that holds anything but the shard folders of an earlier
            run with as many shards (all before Ray starts).
        ValueError: what a task raised for bad input (LinesError, HandwritingError, ...: e.g.
            an unknown style); the other tasks are cancelled. Other task failures are raised
            as Ray reports them (``ray.exceptions.RayError``).
    """
    try:
        import ray
    except ImportError:
        raise LinesError(_INSTALL) from None
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise LinesError(f"--ray must be a positive integer, got {shards!r}")
    if config.shard is not None:
        raise LinesError("give --ray for a Ray run, not --shard (each task makes one shard)")
    if not num_cpus_per_task > 0:
        raise LinesError(f"num_cpus_per_task must be positive, got {num_cpus_per_task!r}")
    count = config.count or config.random
    if count is not None and shards > count:
        raise LinesError(f"--ray {shards} is more than the {count} lines to make")
    _check_config(config)
    params = _task_parameters(config)
    # A task draws on the CPUs Ray gave it: one process, that many threads.
    if params["workers"] is None:
        params["workers"] = 1
    if params["threads"] is None:
        params["threads"] = max(1, math.ceil(num_cpus_per_task))
    out = Path(params["out"])
    _check_out(out, shards)

    started = not ray.is_initialized()
    if started:
        # A local instance needs no dashboard; with an address the cluster has its own.
        ray.init(address=address, include_dashboard=False if address is None else None,
                 logging_level="WARNING")
    try:
        task = ray.remote(num_cpus=num_cpus_per_task,
                          runtime_env=_runtime_env(num_cpus_per_task))(_make_shard)
        refs = [task.remote(params, k, shards, str(shard_folder(out, k, shards)))
                for k in range(shards)]
        try:
            folders = ray.get(refs)
        except BaseException as err:
            for ref in refs:  # stop the others (a failed task, Ctrl-C)
                ray.cancel(ref, force=True)
            cause = getattr(err, "cause", None)  # what the task raised, if it raised
            if isinstance(err, ray.exceptions.RayTaskError) and isinstance(cause, ValueError):
                raise cause from None  # bad input (e.g. an unknown style): one line
            raise
    finally:
        if started:
            ray.shutdown()
    return [Path(folder) for folder in folders]


def _runtime_env(num_cpus_per_task: float) -> dict:
    """The tasks' environment: TensorFlow uses the CPUs Ray reserved for the task (not every
    core of the machine, which oversubscribes it with one task per CPU), and its C++ info logs
    are off. Either is left as set here if set."""
    import os

    threads = str(max(1, math.ceil(num_cpus_per_task)))
    return {"env_vars": {
        "TF_NUM_INTRAOP_THREADS": os.environ.get("TF_NUM_INTRAOP_THREADS", threads),
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}}


def _make_shard(params: dict, k: int, shards: int, folder: str) -> str:
    """One Ray task: shard ``k`` of ``shards`` into ``folder`` (loads the model itself)."""
    from korean_gan.textlines import make_lines

    make_lines(LinesConfig(**{**params, "out": folder, "shard": f"{k}/{shards}",
                              "progress": False}))
    return folder


def _check_config(config: LinesConfig) -> None:
    """What make_lines would refuse at once, refused before Ray starts."""
    from korean_gan.data.linesets import FORMATS
    from korean_gan.generate import check_size

    check_size(config.height)
    if config.format not in FORMATS:
        raise LinesError(f"--format {config.format!r}: choose one of {', '.join(FORMATS)}")
    if (config.text is None) == (config.random is None):
        raise LinesError("give either --text CORPUS.txt or --random N")
    if config.text is not None and not Path(config.text).is_file():
        raise LinesError(f"corpus file {config.text} does not exist")


def _task_parameters(config: LinesConfig) -> dict:
    """``config`` as a plain dict for the tasks, with relative paths made absolute."""
    from korean_gan.generate import int8_or_float32

    params = asdict(config)  # `augment` becomes a dict; make_lines accepts it
    if params["precision"] is None:  # decided once, here, for every task
        params["precision"] = int8_or_float32(config.model, config.runtime)
    params["out"] = str(Path(config.out).absolute())
    for name in ("text", "frequency_from"):
        if params[name] is not None:
            params[name] = str(Path(params[name]).absolute())
    if params["model"] != "default" and Path(params["model"]).exists():
        params["model"] = str(Path(params["model"]).absolute())
    entries = []
    for part in str(params["styles"]).split(","):
        name, colon, weight = part.strip().partition(":")
        if name and Path(name).is_file():
            name = str(Path(name).absolute())
        entries.append(name + colon + weight)
    params["styles"] = ",".join(entries)
    return params


def _check_out(out: Path, shards: int) -> None:
    """Refuses an ``out`` that holds anything but shard folders of an earlier N-shard run."""
    if out.exists() and not out.is_dir():
        raise LinesError(f"output {out} is a file; give a folder for the shard folders")
    if not out.is_dir():
        return
    previous = set()
    for entry in out.iterdir():
        if entry.name.startswith(".shard-"):
            continue  # the temporary folder of a shard being written (or killed mid-write)
        match = _SHARD_DIR.fullmatch(entry.name)
        if not (match and entry.is_dir()):
            raise LinesError(f"output folder {out} holds {entry.name}, not only the shard "
                             "folders of an earlier run; choose another or empty it")
        previous.add(int(match[2]))
    if previous - {shards}:
        found = ", ".join(str(n) for n in sorted(previous))
        raise LinesError(f"output folder {out} holds the shard folders of a run with {found} "
                         f"shards, not {shards}; use --ray {found} to replace them, or "
                         "another (or an emptied) folder")
