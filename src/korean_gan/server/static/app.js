// The page of `korean-gan serve`: preview as you type, fonts as background jobs.
// Everything talks to this server only (its Content-Security-Policy allows nothing else).
"use strict";

const $ = (id) => document.getElementById(id);
const DEBOUNCE_MS = 300;
const POLL_MS = 500;

const state = {
  style: null,      // the picked style's name
  previewUrl: null, // blob: URL of the preview image
  writeSeq: 0,      // only the newest write request's answer is shown
  timer: null,
  job: null,        // the running job's id
  fontUrl: null,    // blob: URL of the finished font
  fontCount: 0,
  dataJob: null,    // the running data job's id
};

// The one-line message of an error response ({"detail": ...}), or its status.
async function errorText(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
  } catch (err) { /* not JSON */ }
  return `the server answered ${response.status} ${response.statusText}`;
}

function setError(id, text) { $(id).textContent = text || ""; }

// --- styles ---------------------------------------------------------------------------------

async function loadStyles() {
  const response = await fetch("/api/styles");
  if (!response.ok) { setError("write-error", await errorText(response)); return; }
  const data = await response.json();
  const box = $("styles");
  box.replaceChildren();
  for (const style of data.styles) {
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("role", "radio");
    button.dataset.style = style.name;
    button.title = style.name;
    const img = document.createElement("img");
    img.src = style.thumbnail;
    img.alt = "";
    img.loading = "lazy";
    const label = document.createElement("span");
    label.textContent = style.label;
    button.append(img, label);
    button.addEventListener("click", () => pickStyle(style.name));
    box.append(button);
  }
  pickStyle(data.default);
}

function pickStyle(name) {
  state.style = name;
  for (const button of $("styles").querySelectorAll("button")) {
    button.setAttribute("aria-checked", String(button.dataset.style === name));
  }
  schedulePreview(0);
}

// --- preview --------------------------------------------------------------------------------

function schedulePreview(delay = DEBOUNCE_MS) {
  clearTimeout(state.timer);
  state.timer = setTimeout(preview, delay);
}

function seed() {
  const value = Number.parseInt($("seed").value, 10);
  return Number.isFinite(value) && value >= 0 ? value : 0;
}

async function preview() {
  const text = $("text").value;
  if (!state.style) return;
  if (!text.trim()) {
    $("preview").hidden = true;
    setError("write-error", "");
    return;
  }
  const seq = ++state.writeSeq;
  $("write-status").textContent = "writing… 쓰는 중";
  let response;
  try {
    response = await fetch("/api/write", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text, style: state.style, seed: seed(),
                             size: Number($("size").value) }),
    });
  } catch (err) {
    if (seq === state.writeSeq) setError("write-error", "the server cannot be reached");
    return;
  }
  if (seq !== state.writeSeq) return; // a newer request is on its way
  $("write-status").textContent = "";
  if (!response.ok) {
    setError("write-error", await errorText(response));
    return;
  }
  const blob = await response.blob();
  if (seq !== state.writeSeq) return;
  setError("write-error", "");
  if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
  state.previewUrl = URL.createObjectURL(blob);
  const img = $("preview");
  img.src = state.previewUrl;
  img.hidden = false;
  const link = $("download-png");
  link.href = state.previewUrl;
  link.classList.remove("disabled");
  link.removeAttribute("aria-disabled");
  $("download-svg").disabled = false;
}

// The same text traced into outlines, saved as handwriting.svg.
async function downloadSvg() {
  const button = $("download-svg");
  button.disabled = true;
  try {
    const response = await fetch("/api/write", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: $("text").value, style: state.style, seed: seed(),
                             size: Number($("size").value), format: "svg" }),
    });
    if (!response.ok) { setError("write-error", await errorText(response)); return; }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = "handwriting.svg";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    setError("write-error", "the server cannot be reached");
  } finally {
    button.disabled = false;
  }
}

// --- font jobs ------------------------------------------------------------------------------

function hangulOf(text) {
  return [...new Set([...text].filter((c) => c >= "가" && c <= "힣"))].join("");
}

function resetJob() {
  $("job").hidden = false;
  $("job-progress").value = 0;
  $("job-stage").textContent = "starting… 시작";
  setError("job-error", "");
  $("ingested-box").hidden = true;
  $("result").hidden = true;
}

function busy(flag) {
  $("make-font").disabled = flag;
  $("upload").disabled = flag;
}

async function startJob(request) {
  resetJob();
  busy(true);
  let response;
  try {
    response = await fetch("/api/fonts", request);
  } catch (err) {
    setError("job-error", "the upload failed: the server cannot be reached");
    $("job-stage").textContent = "";
    busy(false);
    return;
  }
  if (!response.ok) {
    setError("job-error", await errorText(response));
    $("job-stage").textContent = "";
    busy(false);
    return;
  }
  state.job = (await response.json()).job;
  poll(state.job);
}

function makeFont() {
  let charset = $("charset").value;
  if (charset === "text") {
    charset = hangulOf($("text").value);
    if (!charset) {
      $("job").hidden = false;
      setError("job-error", "the text has no Hangul syllables; type some or pick a charset");
      return;
    }
  }
  const body = { style: state.style, charset, seed: seed() };
  if ($("family").value.trim()) body.family = $("family").value.trim();
  startJob({ method: "POST", headers: { "Content-Type": "application/json" },
             body: JSON.stringify(body) });
}

function uploadPhoto() {
  const file = $("photo").files[0];
  if (!file) {
    $("job").hidden = false;
    setError("job-error", "choose a photo of the filled-in sheet first 사진을 고르세요");
    return;
  }
  const form = new FormData();
  form.append("photo", file, file.name);
  let charset = $("charset").value;
  if (charset === "text") charset = hangulOf($("text").value) || "ks2350";
  form.append("charset", charset);
  form.append("seed", String(seed()));
  if ($("family").value.trim()) form.append("family", $("family").value.trim());
  startJob({ method: "POST", body: form });
}

// A job's status ({state, stage, progress, ...}); throws with the server's message.
async function jobStatus(id) {
  const response = await fetch(`/api/jobs/${id}`);
  if (!response.ok) throw new Error(await errorText(response));
  return response.json();
}

async function poll(id) {
  if (id !== state.job) return;
  let job;
  try {
    job = await jobStatus(id);
  } catch (err) {
    setError("job-error", String(err.message || err));
    busy(false);
    return;
  }
  $("job-progress").value = job.progress;
  const percent = Math.round(job.progress * 100);
  $("job-stage").textContent = `${job.state}${job.stage ? `: ${job.stage}` : ""} ${percent}%`;
  if (job.ingested_preview && $("ingested-box").hidden) {
    $("ingested").src = job.ingested_preview;
    const counts = job.ingest_counts || {};
    $("ingested-caption").textContent =
      `read ${job.ingested.length} syllables from the photo (${counts.blank || 0} blank boxes; `
      + `grey cells were not read): ${job.ingested.join("")}`;
    $("ingested-box").hidden = false;
  }
  if (job.state === "failed") {
    setError("job-error", job.error);
    busy(false);
  } else if (job.state === "done") {
    await showFont(job);
    busy(false);
  } else {
    setTimeout(() => poll(id), POLL_MS);
  }
}

async function showFont(job) {
  const response = await fetch(job.files.woff2);
  if (!response.ok) { setError("job-error", await errorText(response)); return; }
  const blob = await response.blob();
  if (state.fontUrl) URL.revokeObjectURL(state.fontUrl);
  state.fontUrl = URL.createObjectURL(blob);
  // The specimen's @font-face, from the blob (the CSP allows blob: fonts).
  const family = `KoreanGANJob${++state.fontCount}`;
  const face = new FontFace(family, `url(${state.fontUrl}) format("woff2")`);
  await face.load();
  document.fonts.add(face);
  const specimen = $("specimen");
  specimen.style.fontFamily = `"${family}", system-ui, sans-serif`;
  specimen.textContent = $("text").value.trim() || "가나다 Hello 123";
  const stem = (job.family || "font").replace(/[^\w가-힣-]+/g, "-");
  const woff2 = $("download-woff2");
  woff2.href = state.fontUrl;
  woff2.download = `${stem}.woff2`;
  const ttf = $("download-ttf");
  ttf.href = job.files.ttf;
  ttf.download = `${stem}.ttf`;
  $("font-info").textContent = `${job.family}: ${job.syllables} syllables`
    + (job.written ? `, ${job.written} as you wrote them` : "") + `, ${job.seconds} s`;
  $("job-stage").textContent = "done 완성 100%";
  $("result").hidden = false;
}

// --- data jobs ------------------------------------------------------------------------------

const CHARSET_SIZES = { seed16: 16, ks2350: 2350, all11172: 11172 };

function dataKindChanged() {
  const lines = $("data-kind").value === "lines";
  $("data-glyphs").hidden = lines;
  $("data-lines").hidden = !lines;
  dataEstimate();
}

function dataEstimate() {
  let text;
  if ($("data-kind").value === "lines") {
    text = `${Number($("data-count").value || 0).toLocaleString("en")} line images`;
  } else {
    const n = CHARSET_SIZES[$("data-charset").value] * Number($("data-per-class").value || 0);
    text = `${n.toLocaleString("en")} glyph images`;
  }
  $("data-estimate").textContent = text;
}

function dataBody() {
  const kind = $("data-kind").value;
  const styles = $("data-styles").value === "picked" ? state.style : $("data-styles").value;
  const body = { kind, styles, size: Number($("data-size").value), seed: seed() };
  if (kind === "glyphs") {
    body.charset = $("data-charset").value;
    body.per_class = Number($("data-per-class").value);
    body.format = $("data-glyph-format").value;
  } else {
    body.count = Number($("data-count").value);
    body.format = $("data-line-format").value;
    if ($("data-text").value.trim()) body.text = $("data-text").value;
  }
  return body;
}

async function makeData() {
  $("data-job").hidden = false;
  $("data-progress").value = 0;
  $("data-stage").textContent = "starting… 시작";
  setError("data-error", "");
  $("data-result").hidden = true;
  $("make-data").disabled = true;
  let response;
  try {
    response = await fetch("/api/data", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(dataBody()),
    });
  } catch (err) {
    response = null;
  }
  if (!response || !response.ok) {
    setError("data-error", response ? await errorText(response)
                                    : "the server cannot be reached");
    $("data-stage").textContent = "";
    $("make-data").disabled = false;
    return;
  }
  state.dataJob = (await response.json()).job;
  pollData(state.dataJob);
}

async function pollData(id) {
  if (id !== state.dataJob) return;
  let job;
  try {
    job = await jobStatus(id);
  } catch (err) {
    setError("data-error", String(err.message || err));
    $("make-data").disabled = false;
    return;
  }
  $("data-progress").value = job.progress;
  const percent = Math.round(job.progress * 100);
  $("data-stage").textContent = `${job.state}${job.stage ? `: ${job.stage}` : ""} ${percent}%`;
  if (job.state === "failed") {
    setError("data-error", job.error);
    $("make-data").disabled = false;
  } else if (job.state === "done") {
    // A direct link: the zip may be large, and the job's files go once it is downloaded.
    $("download-data").href = job.files.zip;
    $("data-info").textContent = `made in ${job.seconds} s; the server keeps it for an hour`;
    $("data-stage").textContent = "done 완성 100%";
    $("data-result").hidden = false;
    $("make-data").disabled = false;
  } else {
    setTimeout(() => pollData(id), POLL_MS);
  }
}

// --- wiring ---------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("text").addEventListener("input", () => schedulePreview());
  $("seed").addEventListener("input", () => schedulePreview());
  $("size").addEventListener("change", () => schedulePreview(0));
  $("reseed").addEventListener("click", () => {
    $("seed").value = String(Math.floor(Math.random() * 100000));
    schedulePreview(0);
  });
  $("download-svg").addEventListener("click", downloadSvg);
  $("make-font").addEventListener("click", makeFont);
  $("upload").addEventListener("click", uploadPhoto);
  $("data-kind").addEventListener("change", dataKindChanged);
  for (const id of ["data-charset", "data-per-class", "data-count"]) {
    $(id).addEventListener("input", dataEstimate);
  }
  $("make-data").addEventListener("click", makeData);
  dataKindChanged();
  loadStyles();
});
