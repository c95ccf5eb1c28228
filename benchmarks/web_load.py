"""The web app (``korean-gan serve``) as users meet it: how long until the page and the first
preview, and how it holds up under concurrent previews while a font job runs.

The server is the real one: ``korean-gan serve --port 0`` in a subprocess (``python -c`` calling
the CLI's ``main``, as ``tests/test_browser.py`` starts it; that process is the server, so its
``/proc/PID/status`` is the server's memory). Clients run in this process, on the same machine
(they take a little of its CPU too).

1. **Cold start**: seconds from launching the subprocess to the "serving on" line (imports and
   model loaded), to the first ``GET /`` answered 200 (polled; the app warms the model up in
   its lifespan before it answers anything), and to the first preview: right after the page,
   ``GET /api/styles`` then ``POST /api/write`` of "안녕하세요" at 128 px in the default style,
   as the page does (a browser also asks for the style thumbnails at that moment; they are
   fetched after the first preview here, six at a time, and timed apart).
2. **Load** (``--clients`` threads, each with its own keep-alive ``httpx.Client``, sharing
   ``--requests`` ``POST /api/write`` requests): texts of 4-20 Hangul syllables with spaces and
   punctuation, every style of ``/api/styles`` (training fonts and the new styles), seeds
   0-999 and sizes mostly 128 px (``--size-mix``); the plan is drawn once (``--seed``) and
   the same requests are sent in both runs:

   - **baseline**: no font job;
   - **with a font job**: ``POST /api/fonts`` of ``--charset`` (ks2350: 2,350 syllables) is
     started first and the load begins once the job is ``running``; its state is polled every
     second through the load (as the page polls it: those polls' latency is recorded too) and
     afterwards until it ends; its own ``seconds``, the wall time from its POST, and its WOFF2
     are recorded. If the job ends before the load does (on 2 cores a ks2350 job takes about
     as long as the 200 writes), the requests answered while it ran and those answered after
     are also summarised apart (``split_by_job``).

   Per run: errors (non-200 answers, bodies that are not PNG, exceptions; the goal is 0), status
   counts, latency p50/p95/max/mean in ms (send to last byte), throughput (requests / wall
   seconds), latency by size, and the server's RSS (VmRSS, sampled every 0.5 s in a thread):
   before the load, peak during it, after it, and (job run) after the job ended; its VmHWM and
   CPU seconds (utime + stime) per run.
3. ``--job-alone``: the same font job once more with no load, for its time undisturbed.

The machine's load average is recorded at the start and the end: figures taken while something
else runs are not comparable with a quiet machine's.

Usage (about 5-10 min on 2 cores, most of it the font job)::

    python benchmarks/web_load.py [--clients 20] [--requests 200] [--charset ks2350] \\
        [--port 0] [--job-alone] [--json benchmarks/results/web_load.json]
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import REPO, write_result  # noqa: E402

#: ``korean-gan serve``, as a user starts it (and as tests/test_browser.py does).
BOOT = "import sys\nfrom korean_gan.cli import main\nsys.exit(main(sys.argv[1:]))\n"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
FIRST_TEXT = "안녕하세요"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: What users type: 4-20 Hangul syllables with spaces and punctuation.
TEXTS = [
    "안녕하세요, 반갑습니다!", "오늘 날씨가 참 좋네요.", "다람쥐 헌 쳇바퀴에 타고파",
    "동해 물과 백두산이 마르고 닳도록", "내일 아침에 같이 커피 마실래요?", "생일 축하해요!",
    "손으로 쓴 글씨는 따뜻합니다.", "한글은 세종대왕이 만들었어요.", "조금만 더 힘내세요!",
    "감사합니다. 좋은 하루 되세요.", "우리 집 강아지는 산책을 좋아해요.",
    "서울에서 부산까지 기차로 갑니다.", "사랑해요, 고마워요", "보고 싶어요, 빨리 와요.",
    "이 편지를 받으면 답장 주세요.", "봄바람이 살랑살랑 불어와요.", "점심 메뉴는 김치찌개로 할까?",
    "늦어서 미안해요.", "주말에 도서관에서 만나요.", "새해 복 많이 받으세요!",
    "시험 잘 보세요, 응원할게요.", "밤하늘의 별이 반짝입니다.", "어서 오세요",
    "하느님이 보우하사 우리나라 만세, 무궁화 삼천리", "잘 자요, 내 꿈 꿔",
]
SAMPLE_EVERY = 0.5  # seconds between RSS samples
JOB_POLL_EVERY = 1.0  # seconds between job polls during the load


# --- the server -----------------------------------------------------------------------------

class Server:
    """``korean-gan serve`` in a subprocess, its output collected, its memory readable."""

    def __init__(self, host: str, port: int) -> None:
        self.launched = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-c", BOOT, "serve", "--host", host, "--port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV, cwd=REPO)
        self.lines: list[tuple[float, str]] = []
        self.serving = threading.Event()
        self.url: str | None = None
        self.serving_at: float | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            now = self.since_launch()
            self.lines.append((round(now, 3), line.rstrip("\n")))
            found = re.search(r"serving on (http://\S+)", line)
            if found and self.url is None:
                self.url, self.serving_at = found.group(1), now
                self.serving.set()
        self.serving.set()  # the process ended: let a waiter see it

    def since_launch(self) -> float:
        return time.perf_counter() - self.launched

    def status(self) -> dict[str, float]:
        """VmRSS and VmHWM in MB (empty once the process is gone)."""
        out = {}
        try:
            text = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return out
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
        return out

    def rss(self) -> float | None:
        return self.status().get("VmRSS")

    def cpu_seconds(self) -> float | None:
        """User + system CPU seconds of the server so far (all its threads)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, n: int = 30) -> list[str]:
        return [line for _, line in self.lines[-n:]]

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return self.process.returncode


class Sampler(threading.Thread):
    """The server's RSS every ``SAMPLE_EVERY`` seconds, as (seconds since launch, MB)."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.samples: list[tuple[float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            rss = self.server.rss()
            if rss is not None:
                self.samples.append((self.server.since_launch(), rss))
            self.done.wait(SAMPLE_EVERY)

    def peak(self, start: float, end: float) -> float | None:
        inside = [mb for t, mb in self.samples if start <= t <= end]
        return max(inside) if inside else None

    def timeline(self, every: float = 2.0) -> list[list[float]]:
        """Samples thinned to one per ``every`` seconds (each bucket's maximum)."""
        buckets: dict[int, tuple[float, float]] = {}
        for t, mb in self.samples:
            key = int(t // every)
            if key not in buckets or mb > buckets[key][1]:
                buckets[key] = (t, mb)
        return [[round(t, 1), mb] for t, mb in sorted(buckets.values())]


# --- 1. cold start --------------------------------------------------------------------------

def cold_start(server: Server, timeout: float) -> tuple[dict, dict]:
    """Launch → "serving on", → page, → first preview; then the thumbnails. Returns the
    figures and ``/api/styles``."""
    if not server.serving.wait(timeout) or server.url is None:
        raise RuntimeError("the server did not start:\n" + "\n".join(server.log_tail()))
    base = server.url
    deadline = time.monotonic() + timeout
    attempts = 0
    with httpx.Client(base_url=base, timeout=timeout) as client:
        while True:  # the page: poll until 200 (connections wait in the backlog meanwhile)
            attempts += 1
            try:
                page = client.get("/")
                if page.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("no page:\n" + "\n".join(server.log_tail()))
            time.sleep(0.05)
        page_at = server.since_launch()
        styles = client.get("/api/styles")
        styles.raise_for_status()
        styles_at = server.since_launch()
        catalogue = styles.json()
        sent = time.perf_counter()
        first = client.post("/api/write", json={"text": FIRST_TEXT, "style": catalogue["default"],
                                                "seed": 0, "size": 128})
        preview_ms = (time.perf_counter() - sent) * 1000
        preview_at = server.since_launch()
        if first.status_code != 200 or not first.content.startswith(PNG_MAGIC):
            raise RuntimeError(f"the first preview failed: {first.status_code} {first.text[:300]}")
    thumbnails = fetch_thumbnails(base, catalogue)
    return {
        "launch_to_serving_line_s": round(server.serving_at, 2),
        "launch_to_page_s": round(page_at, 2),
        "launch_to_styles_s": round(styles_at, 2),
        "launch_to_first_preview_s": round(preview_at, 2),
        "first_preview_request_ms": round(preview_ms, 1),
        "first_preview": {"text": FIRST_TEXT, "style": catalogue["default"], "size": 128,
                          "png_bytes": len(first.content)},
        "page_polls": attempts,
        "page_bytes": len(page.content),
        "thumbnails": thumbnails,
        "note": "the serving line is printed once the model is loaded; the page is answered "
                "after the app's lifespan warm-up (64 and 128 px compiled); the first preview "
                "is asked for right after /api/styles, as the page does. A browser would also "
                "ask for the thumbnails then (timed apart, after the first preview).",
    }, catalogue


def fetch_thumbnails(base: str, catalogue: dict, parallel: int = 6) -> dict:
    """Every style's thumbnail, ``parallel`` at a time (as a browser does): wall time."""
    urls = [entry["thumbnail"] for entry in catalogue["styles"]]
    todo: queue.Queue[str] = queue.Queue()
    for url in urls:
        todo.put(url)
    bad: list[str] = []

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=300) as client:
            while True:
                try:
                    url = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    answer = client.get(url)
                    if answer.status_code != 200:
                        bad.append(f"{url}: {answer.status_code}")
                except httpx.HTTPError as err:
                    bad.append(f"{url}: {type(err).__name__}")

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(min(parallel, len(urls)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"count": len(urls), "parallel": parallel,
            "seconds": round(time.perf_counter() - started, 2), "errors": bad}


# --- 2. load ---------------------------------------------------------------------------------

def plan_requests(n: int, styles: list[str], size_mix: dict[int, int], seed: int) -> list[dict]:
    """``n`` write requests: texts, styles, seeds and sizes drawn with ``seed``."""
    rng = random.Random(seed)
    sizes = [size for size, weight in size_mix.items() for _ in range(weight)]
    plan = []
    for i in range(n):
        plan.append({"text": rng.choice(TEXTS), "style": styles[i % len(styles)],
                     "seed": rng.randrange(1000), "size": rng.choice(sizes)})
    rng.shuffle(plan)
    return plan


def run_load(base: str, plan: list[dict], clients: int,
             timeout: float) -> tuple[dict, list[dict], float]:
    """``plan`` sent by ``clients`` threads at once: the summary, the rows (status, latency,
    ``t0``/``t1`` = sent/answered in seconds from the start) and the start
    (``time.perf_counter()``)."""
    todo: queue.Queue[int] = queue.Queue()
    for i in range(len(plan)):
        todo.put(i)
    rows: list[dict | None] = [None] * len(plan)
    ready = threading.Barrier(clients + 1)
    started = 0.0

    def client_loop() -> None:
        with httpx.Client(base_url=base, timeout=timeout) as client:
            ready.wait()
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                sent = time.perf_counter()
                try:
                    answer = client.post("/api/write", json=plan[i])
                    ms = (time.perf_counter() - sent) * 1000
                    ok = (answer.status_code == 200
                          and answer.content.startswith(PNG_MAGIC))
                    rows[i] = {"status": answer.status_code, "ms": ms, "ok": ok,
                               "t0": sent - started, "t1": sent - started + ms / 1000,
                               "bytes": len(answer.content),
                               "error": None if ok else answer.text[:200]}
                except httpx.HTTPError as err:
                    now = time.perf_counter()
                    rows[i] = {"status": None, "ms": (now - sent) * 1000, "ok": False,
                               "t0": sent - started, "t1": now - started, "bytes": 0,
                               "error": f"{type(err).__name__}: {err}"}

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()  # the clients read it once the barrier opens
    ready.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    rows = [r or {"status": None, "ms": 0.0, "ok": False, "t0": 0.0, "t1": 0.0, "bytes": 0,
                  "error": "not sent"} for r in rows]
    return summarise(plan, rows, wall, clients), rows, started


def _latency(ms: list[float]) -> dict:
    if not ms:
        return {}
    a = np.asarray(ms)
    return {"p50": round(float(np.percentile(a, 50)), 1),
            "p95": round(float(np.percentile(a, 95)), 1),
            "max": round(float(a.max()), 1), "mean": round(float(a.mean()), 1),
            "min": round(float(a.min()), 1)}


def summarise(plan: list[dict], rows: list[dict], wall: float, clients: int) -> dict:
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[str(row["status"])] = statuses.get(str(row["status"]), 0) + 1
    errors = [dict(request=plan[i], status=r["status"], error=r["error"])
              for i, r in enumerate(rows) if not r["ok"]]
    by_size = {}
    for size in sorted({p["size"] for p in plan}):
        ms = [r["ms"] for p, r in zip(plan, rows, strict=True) if p["size"] == size and r["ok"]]
        by_size[str(size)] = {"requests": sum(p["size"] == size for p in plan),
                              "latency_ms": _latency(ms)}
    ok_ms = [r["ms"] for r in rows if r["ok"]]
    return {
        "clients": clients, "requests": len(plan), "ok": len(ok_ms), "errors": len(errors),
        "statuses": statuses, "error_samples": errors[:5],
        "latency_ms": _latency(ok_ms),
        "latency_ms_by_size": by_size,
        "throughput_rps": round(len(ok_ms) / wall, 2) if wall > 0 else None,
        "wall_s": round(wall, 2),
        "png_bytes_mean": round(statistics.fmean([r["bytes"] for r in rows if r["ok"]]))
        if ok_ms else None,
    }


def measured_run(server: Server, sampler: Sampler, base: str, plan: list[dict], clients: int,
                 timeout: float) -> tuple[dict, list[dict]]:
    """One load run with the server's memory and CPU around it; and its rows."""
    before, cpu_before = server.rss(), server.cpu_seconds()
    result, rows, started = run_load(base, plan, clients, timeout)
    start = started - server.launched
    end = server.since_launch()
    cpu_after = server.cpu_seconds()
    status = server.status()
    result["server"] = {
        "rss_before_mb": before,
        "rss_peak_during_mb": sampler.peak(start, end),
        "rss_after_mb": status.get("VmRSS"),
        "hwm_after_mb": status.get("VmHWM"),
        "cpu_s": round(cpu_after - cpu_before, 1) if None not in (cpu_before, cpu_after)
        else None,
        "load_started_at_s": round(start, 1), "load_ended_at_s": round(end, 1),
    }
    if result["server"]["cpu_s"] is not None and result["wall_s"]:
        result["server"]["cpu_cores_busy"] = round(result["server"]["cpu_s"] / result["wall_s"],
                                                   2)
    return result, rows


def split_by_job(rows: list[dict], load_start: float, load_end: float,
                 job_end: float | None) -> dict:
    """The load's requests answered while the job still ran, and those after it ended."""
    if job_end is None or job_end >= load_end:
        return {"job_ran_through_the_whole_load": job_end is not None}
    cut = job_end - load_start
    during = [r for r in rows if r["t1"] <= cut]
    after = [r for r in rows if r["t1"] > cut]

    def part(chosen: list[dict], seconds: float) -> dict:
        ok = [r["ms"] for r in chosen if r["ok"]]
        return {"requests": len(chosen), "errors": sum(not r["ok"] for r in chosen),
                "latency_ms": _latency(ok), "seconds": round(seconds, 1),
                "throughput_rps": round(len(ok) / seconds, 2) if seconds > 0 else None}

    return {"job_ran_through_the_whole_load": False,
            "job_ended_s_into_the_load": round(cut, 1),
            "share_of_the_load_with_the_job": round(cut / (load_end - load_start), 3),
            "answered_while_the_job_ran": part(during, cut),
            "answered_after_the_job_ended": part(after, load_end - load_start - cut),
            "note": "the job's end is the first poll that saw it done (polls every "
                    f"{JOB_POLL_EVERY:g} s)"}

# --- font jobs -------------------------------------------------------------------------------

class JobPoller(threading.Thread):
    """Polls a job every ``JOB_POLL_EVERY`` s until it ends: (t, state, stage, progress, ms)."""

    def __init__(self, server: Server, base: str, job: str, timeout: float) -> None:
        super().__init__(daemon=True)
        self.server, self.base, self.job, self.timeout = server, base, job, timeout
        self.polls: list[dict] = []
        self.last: dict = {}
        self.failed_polls: list[str] = []
        self.ended = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout
        with httpx.Client(base_url=self.base, timeout=120) as client:
            while time.monotonic() < deadline and self.server.process.poll() is None:
                sent = time.perf_counter()
                try:
                    answer = client.get(f"/api/jobs/{self.job}")
                    ms = (time.perf_counter() - sent) * 1000
                    if answer.status_code == 200:
                        self.last = answer.json()
                        self.polls.append({"t": round(self.server.since_launch(), 1),
                                           "state": self.last["state"],
                                           "stage": self.last["stage"],
                                           "progress": round(self.last["progress"], 3),
                                           "ms": round(ms, 1)})
                        if self.last["state"] in ("done", "failed"):
                            break
                    else:
                        self.failed_polls.append(f"{answer.status_code} {answer.text[:120]}")
                except httpx.HTTPError as err:
                    self.failed_polls.append(f"{type(err).__name__}: {err}")
                time.sleep(JOB_POLL_EVERY)
        self.ended.set()

    def latency_between(self, start: float, end: float) -> dict:
        return _latency([p["ms"] for p in self.polls if start <= p["t"] <= end])


def start_job(client: httpx.Client, style: str, charset: str) -> tuple[str, float]:
    sent = time.perf_counter()
    answer = client.post("/api/fonts", json={"style": style, "charset": charset, "seed": 0})
    if answer.status_code != 202:
        raise RuntimeError(f"POST /api/fonts: {answer.status_code} {answer.text[:300]}")
    return answer.json()["job"], sent


def wait_running(client: httpx.Client, job: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = client.get(f"/api/jobs/{job}").json()
        if state["state"] != "queued" or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def finish_job(client: httpx.Client, server: Server, poller: JobPoller, job: str,
               posted: float, timeout: float) -> dict:
    """Waits for the poller to see the job end; its time, outcome and WOFF2."""
    poller.ended.wait(timeout)
    observed = time.perf_counter()
    final = client.get(f"/api/jobs/{job}").json()
    out = {"state": final["state"], "error": final["error"], "seconds": final["seconds"],
           "wall_from_post_s": round(observed - posted, 1),
           "syllables": final["syllables"], "family": final["family"],
           "ended_at_s": next((p["t"] for p in poller.polls
                               if p["state"] in ("done", "failed")), None),
           "failed_polls": poller.failed_polls[:5]}
    if final["state"] == "done":
        font = client.get(f"/api/jobs/{job}/font.woff2")
        out["woff2_bytes"] = len(font.content) if font.status_code == 200 else None
        out["woff2_status"] = font.status_code
    return out


# --- main ------------------------------------------------------------------------------------

def _size_mix(text: list[str]) -> dict[int, int]:
    mix = {}
    for item in text:
        size, _, weight = item.partition(":")
        mix[int(size)] = int(weight or 1)
    return mix


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=200, help="POST /api/write per run")
    parser.add_argument("--charset", default="ks2350", help="of the font job")
    parser.add_argument("--job-style", default="Gaegu-Regular", help="of the font job")
    parser.add_argument("--size-mix", nargs="+", default=["128:7", "64:2", "32:1"],
                        help="SIZE:WEIGHT of the write requests (default mostly 128 px)")
    parser.add_argument("--seed", type=int, default=0, help="of the request plan")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free one")
    parser.add_argument("--timeout", type=float, default=600, help="per request, seconds")
    parser.add_argument("--job-timeout", type=float, default=3600, help="seconds")
    parser.add_argument("--job-alone", action="store_true",
                        help="also time the font job with no load")
    parser.add_argument("--json", default="benchmarks/results/web_load.json")
    args = parser.parse_args()

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    print(f"load average at start: {load_at_start}", flush=True)
    result: dict = {"settings": {k: v for k, v in vars(args).items() if k != "json"},
                    "load_average_start": load_at_start}
    server = Server(args.host, args.port)
    sampler = Sampler(server)
    sampler.start()
    try:
        result["cold_start"], catalogue = cold_start(server, args.timeout)
        cold = result["cold_start"]
        print(f"launch -> page {cold['launch_to_page_s']} s, -> first preview "
              f"{cold['launch_to_first_preview_s']} s (the preview itself "
              f"{cold['first_preview_request_ms']:.0f} ms)", flush=True)
        base = server.url
        styles = [entry["name"] for entry in catalogue["styles"]]
        if args.job_style not in styles:
            args.job_style = catalogue["default"]
        plan = plan_requests(args.requests, styles, _size_mix(args.size_mix), args.seed)
        result["plan"] = {"styles": styles, "texts": len(TEXTS),
                          "syllables_per_text": [min(_syllables(t) for t in TEXTS),
                                                 max(_syllables(t) for t in TEXTS)],
                          "sizes": {str(s): sum(p["size"] == s for p in plan)
                                    for s in sorted({p["size"] for p in plan})}}
        result["rss_after_warmup_mb"] = server.rss()

        print(f"baseline: {args.requests} writes, {args.clients} clients, no font job...",
              flush=True)
        result["baseline"], _ = measured_run(server, sampler, base, plan, args.clients,
                                             args.timeout)
        _print_run("baseline", result["baseline"])

        with httpx.Client(base_url=base, timeout=120) as client:
            job, posted = start_job(client, args.job_style, args.charset)
            at_start = wait_running(client, job, 60)
            poller = JobPoller(server, base, job, args.job_timeout)
            poller.start()
            print(f"with a font job ({args.charset}, {at_start['state']}): {args.requests} "
                  f"writes, {args.clients} clients...", flush=True)
            run, rows = measured_run(server, sampler, base, plan, args.clients, args.timeout)
            at_end = client.get(f"/api/jobs/{job}").json()
            _print_run("with job", run)
            job_result = finish_job(client, server, poller, job, posted, args.job_timeout)
            start, end = run["server"]["load_started_at_s"], run["server"]["load_ended_at_s"]
            job_result.update({
                "charset": args.charset, "style": args.job_style,
                "state_at_load_start": {k: at_start[k] for k in ("state", "stage", "progress")},
                "state_at_load_end": {k: at_end[k] for k in ("state", "stage", "progress")},
                "running_at_load_start": at_start["state"] == "running",
                "running_at_load_end": at_end["state"] == "running",
                "poll_latency_ms_during_load": poller.latency_between(start, end),
                "poll_latency_ms_after_load": poller.latency_between(end, 1e9),
                "polls": poller.polls,
            })
            run["server"]["rss_after_job_mb"] = server.rss()
            if at_end["state"] == "running":
                run["server"]["rss_peak_job_after_load_mb"] = sampler.peak(
                    end, server.since_launch())
            run["job"] = job_result
            run["split_by_job"] = split_by_job(rows, start, end, job_result["ended_at_s"])
            result["with_font_job"] = run
            print(f"font job: {job_result['state']} in {job_result['seconds']} s (running at "
                  f"the load's start: {job_result['running_at_load_start']}, at its end: "
                  f"{job_result['running_at_load_end']})", flush=True)
            if args.job_alone:
                print("the same font job alone...", flush=True)
                alone, posted = start_job(client, args.job_style, args.charset)
                start = server.since_launch()
                poller = JobPoller(server, base, alone, args.job_timeout)
                poller.start()
                alone_result = finish_job(client, server, poller, alone, posted,
                                          args.job_timeout)
                alone_result["rss_peak_mb"] = sampler.peak(start, server.since_launch())
                result["font_job_alone"] = alone_result
                print(f"alone: {alone_result['state']} in {alone_result['seconds']} s",
                      flush=True)
        result["rss_end_mb"] = server.rss()
        result["effect_of_the_job"] = _effect(result["baseline"], run)
    finally:
        sampler.done.set()
        code = server.stop()
        result["server_exit_code"] = code
        result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        result["rss_timeline_mb"] = sampler.timeline()
        result["server_log"] = [line for _, line in server.lines
                                if line.strip()][:20] + (["..."] if len(server.lines) > 20
                                                         else [])
        result["server_errors_logged"] = sum("error answering" in line or "Traceback" in line
                                             for _, line in server.lines)
        result["note"] = (
            "Clients run in the benchmark process on the same machine as the server. The app "
            "lets 2 writes use the model at once (ServerState write_slots); the others wait "
            "in its thread pool, so latency grows with the clients while throughput is bounded "
            "by the model. Compare runs only at similar load averages (load_average_start).")
        if "baseline" in result or "cold_start" in result:
            write_result(args.json, result)
            print(f"wrote {args.json}", flush=True)
    _print_summary(result)
    return 0 if _all_ok(result) else 1


def _syllables(text: str) -> int:
    return sum("가" <= c <= "힣" for c in text)


def _effect(baseline: dict, run: dict) -> dict:
    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    return {"p50_ratio": ratio(run["latency_ms"].get("p50"), baseline["latency_ms"].get("p50")),
            "p95_ratio": ratio(run["latency_ms"].get("p95"), baseline["latency_ms"].get("p95")),
            "throughput_ratio": ratio(run["throughput_rps"], baseline["throughput_rps"])}


def _all_ok(result: dict) -> bool:
    runs = [result.get("baseline"), result.get("with_font_job")]
    return (all(r is not None and r["errors"] == 0 for r in runs)
            and result["with_font_job"]["job"]["state"] == "done")


def _print_run(name: str, run: dict) -> None:
    lat, srv = run["latency_ms"], run["server"]
    print(f"  {name}: {run['ok']}/{run['requests']} ok, {run['errors']} errors "
          f"{run['statuses']}; p50 {lat.get('p50')} ms, p95 {lat.get('p95')} ms, max "
          f"{lat.get('max')} ms, mean {lat.get('mean')} ms; {run['throughput_rps']} req/s over "
          f"{run['wall_s']} s; RSS {srv['rss_before_mb']} -> peak {srv['rss_peak_during_mb']}"
          f" -> {srv['rss_after_mb']} MB", flush=True)


def _print_summary(result: dict) -> None:
    print("\n--- web_load summary ---")
    print(f"load average at start {result['load_average_start']}, end "
          f"{result.get('load_average_end')}")
    cold = result.get("cold_start")
    if cold:
        print(f"launch -> serving line {cold['launch_to_serving_line_s']} s, -> page "
              f"{cold['launch_to_page_s']} s, -> first preview "
              f"{cold['launch_to_first_preview_s']} s; {cold['thumbnails']['count']} thumbnails "
              f"in {cold['thumbnails']['seconds']} s")
    for key in ("baseline", "with_font_job"):
        if key in result:
            _print_run(key, result[key])
    job = result.get("with_font_job", {}).get("job")
    if job:
        print(f"font job {job['charset']}: {job['state']}, {job['seconds']} s of work "
              f"({job['wall_from_post_s']} s from its POST); running at the load's start "
              f"{job['running_at_load_start']}, at its end {job['running_at_load_end']}; RSS "
              f"after it {result['with_font_job']['server'].get('rss_after_job_mb')} MB")
        split = result["with_font_job"].get("split_by_job", {})
        if "answered_while_the_job_ran" in split:
            during = split["answered_while_the_job_ran"]
            print(f"  the job ended {split['job_ended_s_into_the_load']} s into the load "
                  f"({split['share_of_the_load_with_the_job']:.0%}); while it ran: "
                  f"{during['requests']} answered, p50 {during['latency_ms'].get('p50')} ms, "
                  f"p95 {during['latency_ms'].get('p95')} ms, {during['throughput_rps']} req/s")
    if "font_job_alone" in result:
        print(f"font job alone: {result['font_job_alone']['state']}, "
              f"{result['font_job_alone']['seconds']} s")
    if "effect_of_the_job" in result:
        print(f"with the job / baseline: {result['effect_of_the_job']}")
    print(f"server errors logged: {result.get('server_errors_logged')}, exit code "
          f"{result.get('server_exit_code')}")


if __name__ == "__main__":
    sys.exit(main())
