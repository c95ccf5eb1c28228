"""Fault injection over the long-running commands, in real subprocesses: Ctrl-C and SIGKILL in
the middle of writing, SIGKILL as each rename starts, two processes writing the same output,
and a full disk.

After Ctrl-C a command prints one line and no traceback, exits 130, leaves no output and no
hidden temporary file, and no worker process outlives it. After SIGKILL no output is left
half-written; the next run of the same command removes the dead run's temporary file and
writes the same bytes as a run that was never interrupted. Killed as it renames (strace stops
it as each rename starts, in turn), a command leaves the earlier output whole or the new one
whole, never neither. Two runs writing the same output at
once both succeed and the output is whole. (Training's kills and full disks are in
tests/test_reliability.py.)
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Not in scripts/test.sh (they take several minutes): .ci/run runs them after it, and
# `.venv/bin/python -m pytest -m faults tests/test_faults.py` runs them by hand.
pytestmark = pytest.mark.faults

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "SOURCE_DATE_EPOCH": "1767225600",
       "PYTHONUNBUFFERED": "1"}
ENV.pop("KOREAN_GAN_DEBUG", None)
INTERRUPTED = "korean-gan: interrupted; nothing half-written was kept"

# (command id, the arguments before --out, the output's name, a file that shows the command
# is in the middle of writing: a glob beside the output)
COMMANDS = {
    "synth": (["synth", "--charset", "ks2350", "--per-class", "1", "--size", "64",
               "--precision", "float32", "--quiet"], "glyphs.npz", ".glyphs.npz.*"),
    "lines": (["lines", "--random", "300", "--height", "32", "--workers", "2", "--quiet"],
              "lines", "workers"),
    "font": (["font", "--style", "Gaegu-Regular", "--charset", "ks2350", "--quiet",
              "--precision", "float32"], "hand.ttf", ".hand.ttf.*"),
    # Rendering runs in worker processes; interrupted while they start up and work.
    "data build": (["data", "build", "--charset", "ks2350", "--augment", "none", "--quiet"],
                   "fonts.npz", "workers"),
}


def _as_in_a_terminal() -> None:
    """Ctrl-C's default action in the child, as in a terminal's foreground job (a suite run
    in the background by a script inherits an ignored SIGINT, which Python keeps ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(argv: list[str], out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "korean_gan.cli", *argv, "--out", str(out)],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True,  # its own group: Ctrl-C reaches all of it
                            preexec_fn=_as_in_a_terminal)


def _wait_for_writing(proc: subprocess.Popen, folder: Path, pattern: str,
                      timeout: float = 240) -> None:
    """Waits until a file matching ``pattern`` is beside the output (or, for ``workers``,
    until the command runs worker processes)."""
    def started() -> bool:
        if pattern == "workers":
            if len(_descendants(proc.pid)) < 2:
                return False
            time.sleep(1.0)  # the pool has started (its start ignores Ctrl-C for a moment)
            return True
        return any(folder.glob(pattern))

    deadline = time.monotonic() + timeout
    while not started():
        if proc.poll() is not None:
            raise AssertionError(f"the command ended ({proc.returncode}) before writing: "
                                 + proc.stderr.read().decode(errors="replace")[-2000:])
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"nothing matching {pattern} appeared in {timeout} s")
        time.sleep(0.05)


def _descendants(pid: int) -> set[int]:
    """Processes whose parent chain leads to ``pid`` (read from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _ours(stderr: str) -> list[str]:
    """The lines korean-gan printed: TensorFlow's C++ start-up log lines (absl's notice and
    ``I0000 ...`` lines, which TF_CPP_MIN_LOG_LEVEL does not silence) are not ours."""
    return [line for line in stderr.strip().splitlines()
            if not re.match(r"(WARNING: All log messages before absl|[IWE]\d{4} )", line)]


def _output_files(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, but the manifests' (they hold the run's time and duration)."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".json"}


@dataclasses.dataclass
class WholeRuns:
    files: dict[str, dict[str, bytes]]  # each command's output files
    renames: dict[str, list[tuple[str, int]]]  # the renames onto its output: (call, its count)
    strace: str | None  # why strace cannot be used here, or None


@pytest.fixture(scope="module")
def whole_runs(tmp_path_factory) -> WholeRuns:
    """Each command run once, uninterrupted, over an earlier output of its kind: the bytes
    every other run must reproduce. Traced by strace (where it works) for its renames."""
    runs = WholeRuns({}, {}, _strace_problem())
    for name, (argv, output, _) in COMMANDS.items():
        folder = tmp_path_factory.mktemp(f"whole-{name}")
        _earlier_output(folder / output)
        log = folder.parent / f"{folder.name}-renames.log"
        if runs.strace is None:
            proc = _strace(argv, folder / output, "-f", "--seccomp-bpf", "-o", str(log),
                           "-e", "trace=" + ",".join(RENAMES))
        else:
            proc = _start(argv, folder / output)
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
        runs.files[name] = _output_files(folder)  # replaced whole, nothing left beside it
        if runs.strace is None:
            runs.renames[name] = _renames_onto(log.read_text(), folder / output)
    return runs


@pytest.mark.parametrize("name", list(COMMANDS))
def test_ctrl_c_mid_write_is_one_line_and_leaves_nothing(tmp_path, name):
    argv, output, pattern = COMMANDS[name]
    proc = _start(argv, tmp_path / output)
    _wait_for_writing(proc, tmp_path, pattern)
    children = _descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: to the whole group
    _, err = proc.communicate(timeout=120)
    err = err.decode(errors="replace")
    assert proc.returncode == 130, err[-2000:]
    assert _ours(err) == [INTERRUPTED], err[-2000:]
    assert list(tmp_path.iterdir()) == []  # no output, no hidden temporary file
    time.sleep(0.5)
    alive = {pid for pid in children if Path(f"/proc/{pid}").exists()
             and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]}
    assert not alive, f"worker processes outlived the command: {alive}"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_sigkill_mid_write_then_a_rerun_gives_the_same_bytes(tmp_path, whole_runs, name):
    argv, output, pattern = COMMANDS[name]
    proc = _start(argv, tmp_path / output)
    _wait_for_writing(proc, tmp_path, pattern)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert not (tmp_path / output).exists()  # never half-written
    rerun = _start(argv, tmp_path / output)
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode(errors="replace")[-2000:]
    # The dead run's temporary file is gone, and the output is what an uninterrupted run wrote.
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    assert _output_files(tmp_path) == whole_runs.files[name]


# A file (written by atomic_path, as font and data build write theirs) and a folder.
@pytest.mark.parametrize("name", ["synth", "lines"])
def test_two_runs_writing_the_same_output_both_succeed_and_it_is_whole(tmp_path, whole_runs,
                                                                       name):
    argv, output, _ = COMMANDS[name]
    procs = [_start(argv, tmp_path / output) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    assert _output_files(tmp_path) == whole_runs.files[name]


RENAMES = ("rename", "renameat", "renameat2")


def _strace_problem() -> str | None:
    """Why strace cannot stop this test's commands here, or None if it can."""
    try:
        done = subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "true"],
                              capture_output=True, timeout=60)
    except FileNotFoundError:
        return ("strace is not installed (scripts/setup.sh installs it as root; "
                "or: apt-get install strace)")
    return None if done.returncode == 0 else "strace cannot trace here (ptrace is not allowed)"


def _strace(argv: list[str], out: Path, *options: str) -> subprocess.Popen:
    """The command run under strace, which follows its renames (and may act on one)."""
    cli = [sys.executable, "-m", "korean_gan.cli", *argv, "--out", str(out)]
    # No .pyc is written while traced: Python writes those by renaming too.
    return subprocess.Popen(["strace", "-qq", *options, "--", *cli],
                            env={**ENV, "PYTHONDONTWRITEBYTECODE": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _renames_onto(log: str, out: Path) -> list[tuple[str, int]]:
    """The renames (and swaps) onto ``out`` in an strace log, each as (call, how many of
    that call the thread that made it had made by then)."""
    calls = [(tid, call, re.findall(r'"((?:[^"\\]|\\.)*)"', args)[-1])
             for tid, call, args in re.findall(r"^(\d+) +(rename(?:at2?)?)\((.*)\) = 0$", log,
                                               re.MULTILINE)]
    writers = {tid for tid, _, target in calls if target == str(out)}
    assert len(writers) == 1, calls  # one thread renames onto the output: the main one
    made, onto = dict.fromkeys(RENAMES, 0), []
    for tid, call, target in calls:
        if tid in writers:
            made[call] += 1
            if target == str(out):
                onto.append((call, made[call]))
    return onto


def _earlier_output(path: Path) -> dict[str, bytes]:
    """Puts an earlier output of the same kind at ``path``; returns its files."""
    if path.suffix:
        path.write_bytes(b"an earlier output, to be kept whole or replaced whole\n")
    else:  # an earlier line set
        (path / "images").mkdir(parents=True)
        (path / "manifest.json").write_text('{"kind": "lines"}\n')
        (path / "images" / "earlier.png").write_bytes(b"earlier")
    return _at(path)


def _at(path: Path) -> dict[str, bytes]:
    """The files at the output path (relative to its folder) and their bytes."""
    return {str(p.relative_to(path.parent)): p.read_bytes()
            for p in ([path] if path.is_file() else sorted(path.rglob("*"))) if p.is_file()}


# font renames its output with the same atomic_path as synth and data build; tracing its main
# thread while it feeds potrace takes a minute of the suite's time budget.
@pytest.mark.parametrize("name", ["synth", "lines", "data build"])
def test_sigkill_as_the_output_is_renamed_keeps_the_earlier_one_whole(tmp_path, whole_runs,
                                                                        name):
    if whole_runs.strace:
        pytest.skip(whole_runs.strace)
    argv, output, _ = COMMANDS[name]
    calls = whole_runs.renames[name]
    assert calls, "the command made no rename onto its output"
    earlier = _earlier_output(tmp_path / output)
    for call, count in calls:  # SIGKILL as the rename starts
        # Only the command's main thread is traced (outputs are renamed there): workers and
        # potrace run at full speed. (strace cannot send a signal with --seccomp-bpf.)
        proc = _strace(argv, tmp_path / output, "-o", os.devnull, "-e", f"trace={call}",
                       "-e", f"inject={call}:signal=SIGKILL:when={count}")
        proc.communicate(timeout=600)
        with contextlib.suppress(ProcessLookupError):  # workers the dead command left
            os.killpg(proc.pid, signal.SIGKILL)
        assert proc.returncode != 0, f"not killed at {call} #{count}"
        assert _at(tmp_path / output) == earlier, f"killed at {call} #{count}"
    # The next plain run removes what the killed runs left and writes the whole output.
    rerun = _start(argv, tmp_path / output)
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode(errors="replace")[-2000:]
    assert _output_files(tmp_path) == whole_runs.files[name]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MB tmpfs: a disk that really fills up (ENOSPC)."""
    from conftest import tmpfs_disk

    with tmpfs_disk(tmp_path / "disk", "2m") as disk:
        yield disk


@pytest.mark.parametrize(("argv", "output", "message"), [
    # The font is written at the end: the disk (1.5 of its 2 MB taken) fills while it is saved.
    (["font", "--style", "Gaegu-Regular", "--charset", "ks2350", "--quiet"], "hand.ttf",
     "korean-gan: error: the disk is full"),
    # Lines and glyphs at 64 px are estimated first and refused before any work.
    (["lines", "--random", "400", "--height", "64", "--quiet"], "lines",
     "400 lines at height 64 needs about 6 MB of disk at"),
    (["synth", "--charset", "ks2350", "--per-class", "1", "--size", "64", "--quiet"],
     "glyphs.npz", "of disk at"),
])
def test_a_full_disk_is_one_line_and_leaves_nothing(tiny_disk, argv, output, message):
    earlier = tiny_disk / "keep.bin"
    earlier.write_bytes(b"k" * 1_500_000)  # an earlier file on the same disk
    proc = _start(argv, tiny_disk / output)
    _, err = proc.communicate(timeout=600)
    ours = _ours(err.decode(errors="replace"))
    assert proc.returncode == 2, ours
    assert len(ours) == 1 and message in ours[0] and "Traceback" not in ours[0], ours
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["keep.bin"]
    assert earlier.read_bytes() == b"k" * 1_500_000


def test_ctrl_c_at_start_is_one_line_too(tmp_path):
    argv, output, _ = COMMANDS["synth"]
    proc = _start(argv, tmp_path / output)
    time.sleep(1.5)  # importing TensorFlow, loading the model
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and _ours(err.decode(errors="replace")) == [INTERRUPTED]
    assert list(tmp_path.iterdir()) == []


def _serve() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "korean_gan.cli", "serve", "--port", "0"],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True, preexec_fn=_as_in_a_terminal)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"serving on (http://\S+)", line)
        if found:
            return proc, found.group(1)
        assert line or proc.poll() is None, proc.stderr.read()[-2000:]
    proc.kill()
    raise AssertionError("the server did not start")


def _font_job_under_way(url: str, charset: str) -> None:
    """Starts a font job on the server and returns once it is 5% done."""
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{url}/api/fonts", data=json.dumps({"style": "Gaegu", "charset": charset}).encode(),
        headers={"content-type": "application/json"}, method="POST")
    job = json.load(urllib.request.urlopen(request, timeout=60))["job"]
    while json.load(urllib.request.urlopen(f"{url}/api/jobs/{job}"))["progress"] < 0.05:
        time.sleep(0.2)


def test_a_slow_upload_does_not_hold_up_the_others():
    pytest.importorskip("fastapi")
    import json
    import socket
    import urllib.request
    from urllib.parse import urlparse

    proc, url = _serve()

    def write(text: str) -> float:
        started = time.monotonic()
        request = urllib.request.Request(
            f"{url}/api/write", data=json.dumps({"text": text, "size": 32}).encode(),
            headers={"content-type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200 and response.read(8) == b"\x89PNG\r\n\x1a\n"
        return time.monotonic() - started

    try:
        alone = write("가나다")  # the first write at 32 px compiles that size
        alone = write("가나다")
        where = urlparse(url)
        slow = socket.create_connection((where.hostname, where.port), timeout=30)
        body_size = 5 * 2**20
        slow.sendall(b"POST /api/fonts HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                     b"boundary=b\r\nContent-Length: " + str(body_size).encode() + b"\r\n\r\n"
                     b"--b\r\nContent-Disposition: form-data; name=\"photo\"; "
                     b"filename=\"slow.jpg\"\r\n\r\n")
        answered = []
        for i in range(5):  # a trickle of the upload, and a preview asked for meanwhile
            slow.sendall(b"\xff" * 1000)
            answered.append(write(f"가나{i}"))
            time.sleep(0.5)
        assert max(answered) < 2 + 3 * alone, (alone, answered)
        slow.close()  # the upload never finishes: the server drops it
        with urllib.request.urlopen(f"{url}/api/styles", timeout=30) as response:
            assert response.status == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=60)


def test_ctrl_c_on_the_server_during_a_font_job_stops_it_promptly_and_cleans_up(tmp_path):
    pytest.importorskip("fastapi")
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("korean-gan-jobs-*"))
    proc, url = _serve()
    try:
        _font_job_under_way(url, "all11172")
        stopped = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        seconds = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            proc.kill()
    # A 11,172-syllable font takes about a minute; the server stops within seconds, quietly,
    # and its job folders are gone.
    assert seconds < 15, seconds
    assert "Traceback" not in err, err[-2000:]
    assert set(Path(tempfile.gettempdir()).glob("korean-gan-jobs-*")) <= before


def test_a_server_killed_during_a_job_leaves_a_folder_the_next_server_removes():
    pytest.importorskip("fastapi")
    import tempfile

    from korean_gan.server.jobs import JobManager

    proc, url = _serve()
    try:
        _font_job_under_way(url, "ks2350")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = list(Path(tempfile.gettempdir()).glob(f"korean-gan-jobs-{proc.pid}-*"))
    assert len(left) == 1 and any(left[0].rglob("*")), left  # a killed server cannot tidy up
    jobs = JobManager()  # what the next server starts with
    try:
        assert not left[0].exists()
        assert jobs.root.exists() and jobs.root.name.startswith(f"korean-gan-jobs-{os.getpid()}-")
    finally:
        jobs.close()
