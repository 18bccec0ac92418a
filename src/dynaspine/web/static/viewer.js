// dynaspine viewer: a plain canvas cine player over the dynaspine REST API (/api/v1).
// Coordinates follow docs/conventions.md: x = column, y = row, the centre of the top-left
// pixel is (0, 0); corners in the order anterior-superior, posterior-superior,
// posterior-inferior, anterior-inferior.
"use strict";

(() => {
  const API = "/api/v1";
  const NAMES = [
    "C2", "C3", "C4", "C5", "C6", "C7",
    "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12",
    "L1", "L2", "L3", "L4", "L5", "L6", "S1",
  ];
  const CORNERS = ["anterior-superior", "posterior-superior", "posterior-inferior", "anterior-inferior"];
  const COLORS = { tracked: "#ff2bd6", marks: "#ffd200" };
  const $ = (id) => document.getElementById(id);

  const state = {
    token: sessionStorage.getItem("dynaspine-token") || "",
    study: null,
    info: null,
    frames: [],
    index: 0,
    playing: false,
    lastTick: 0,
    result: null,
    resultId: null,
    marks: { frame: null, vertebrae: {} },
    current: null,
    scale: 1,
  };

  // ------------------------------------------------------------------ API
  function setStatus(text, error = false) {
    const el = $("status");
    el.textContent = text;
    el.className = error ? "error" : "";
  }

  async function api(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const response = await fetch(API + path, Object.assign({}, options, { headers }));
    if (!response.ok) {
      let detail = response.statusText;
      try {
        const body = await response.json();
        detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
      } catch (_) { /* not JSON */ }
      throw new Error(`${response.status}: ${detail}`);
    }
    return response;
  }

  const getJson = async (path) => (await api(path)).json();

  // ------------------------------------------------------------------ studies
  async function loadStudies() {
    if (!state.token) {
      setStatus("Enter an API token to list the studies.");
      return;
    }
    try {
      const page = await getJson("/studies?limit=100");
      const body = $("studies").querySelector("tbody");
      body.replaceChildren();
      for (const study of page.items) {
        const row = document.createElement("tr");
        row.dataset.studyId = study.id;
        for (const text of [study.study_date || "", study.modality || "", study.description || study.id]) {
          const cell = document.createElement("td");
          cell.textContent = text;
          row.appendChild(cell);
        }
        row.addEventListener("click", () => openStudy(study.id));
        body.appendChild(row);
      }
      setStatus(`${page.items.length} stud${page.items.length === 1 ? "y" : "ies"}`);
    } catch (err) {
      setStatus("Cannot list studies: " + err.message, true);
    }
  }

  async function fetchFrame(studyId, seriesId, n) {
    // The canvas is at most 720 CSS pixels wide: larger frames are shrunk by the server.
    const size = Math.ceil(720 * Math.max(1, window.devicePixelRatio || 1));
    const response = await api(`/studies/${studyId}/frames/${n}.png?series_id=${seriesId}&max_size=${size}`);
    return createImageBitmap(await response.blob());
  }

  async function openStudy(studyId) {
    stop();
    for (const row of $("studies").querySelectorAll("tbody tr")) {
      row.classList.toggle("selected", row.dataset.studyId === studyId);
    }
    setStatus("Loading frames...");
    try {
      const study = await getJson(`/studies/${studyId}`);
      const info = await getJson(`/studies/${studyId}/frames`);
      const frames = new Array(info.n_frames);
      let next = 0;
      const worker = async () => {
        while (next < info.n_frames) {
          const n = next++;
          frames[n] = await fetchFrame(studyId, info.series_id, n);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      Object.assign(state, { study, info, frames, index: 0, result: null, resultId: null });
      clearMarks();
      $("study-title").textContent =
        `${study.description || "Study"} ${study.study_date || ""} - ${info.n_frames} frames`;
      $("scrub").max = String(info.n_frames - 1);
      $("spacing-row").hidden = info.pixel_spacing_mm !== null;
      sizeCanvas();
      draw();
      renderPlots();
      await Promise.all([loadLatestResult(), loadCoding()]);
      setStatus(`Study open: ${info.n_frames} frames`);
    } catch (err) {
      setStatus("Cannot open the study: " + err.message, true);
    }
  }

  // ------------------------------------------------------------------ drawing
  function sizeCanvas() {
    const canvas = $("canvas");
    const { rows, columns } = state.info;
    state.scale = Math.max(1, Math.min(720 / columns, 720 / rows));
    canvas.width = Math.round(columns * state.scale);
    canvas.height = Math.round(rows * state.scale);
  }

  const toCanvas = ([x, y]) => [(x + 0.5) * state.scale, (y + 0.5) * state.scale];

  function polygon(ctx, corners, color) {
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    corners.forEach((c, i) => {
      const [u, v] = toCanvas(c);
      if (i === 0) ctx.moveTo(u, v);
      else ctx.lineTo(u, v);
    });
    ctx.closePath();
    ctx.stroke();
    // Anterior-superior corner marked: it fixes the orientation.
    const [u, v] = toCanvas(corners[0]);
    ctx.fillStyle = color;
    ctx.fillRect(u - 3, v - 3, 6, 6);
  }

  function draw() {
    const canvas = $("canvas");
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!state.info) return;
    ctx.font = "bold 13px sans-serif";
    const bitmap = state.frames[state.index];
    if (bitmap) {
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    }
    if (state.result && state.result.vertebrae) {
      for (const [name, v] of Object.entries(state.result.vertebrae)) {
        const corners = (v.corners_px || [])[state.index];
        if (!corners) continue; // not found on this frame: nothing is guessed
        polygon(ctx, corners, COLORS.tracked);
        const [u, w] = toCanvas(corners[1]);
        ctx.fillText(name, u + 6, w + 4);
      }
    }
    if (state.marks.frame === null || state.marks.frame === state.index) {
      for (const [name, corners] of Object.entries(state.marks.vertebrae)) {
        ctx.fillStyle = COLORS.marks;
        for (const c of corners) {
          const [u, v] = toCanvas(c);
          ctx.beginPath();
          ctx.arc(u, v, 4, 0, 2 * Math.PI);
          ctx.fill();
        }
        if (corners.length === 4) polygon(ctx, corners, COLORS.marks);
        if (corners.length) {
          const [u, v] = toCanvas(corners[0]);
          ctx.fillText(name, u - 24, v - 6);
        }
      }
    }
    $("scrub").value = String(state.index);
    $("frame-label").textContent = `Frame ${state.index + 1} / ${state.info.n_frames}`;
    updateCursors();
  }

  // ------------------------------------------------------------------ playback
  function frameInterval() {
    const times = state.info && state.info.frame_times_s;
    let dt = 1 / 15;
    if (times && times.length > 1) {
      const diffs = times.slice(1).map((t, i) => t - times[i]).filter((d) => d > 0).sort((a, b) => a - b);
      if (diffs.length) dt = diffs[Math.floor(diffs.length / 2)];
    }
    return (dt * 1000) / Number($("speed").value);
  }

  function seek(n) {
    if (!state.info) return;
    const count = state.info.n_frames;
    state.index = ((n % count) + count) % count;
    draw();
  }

  function tick(now) {
    if (!state.playing) return;
    if (now - state.lastTick >= frameInterval()) {
      state.lastTick = now;
      seek(state.index + 1);
    }
    requestAnimationFrame(tick);
  }

  function play() {
    if (!state.info || state.playing) return;
    state.playing = true;
    state.lastTick = performance.now();
    $("play").textContent = "Pause";
    $("play").setAttribute("aria-pressed", "true");
    requestAnimationFrame(tick);
  }

  function stop() {
    state.playing = false;
    $("play").textContent = "Play";
    $("play").setAttribute("aria-pressed", "false");
  }

  // ------------------------------------------------------------------ landmarks
  function clearMarks() {
    state.marks = { frame: null, vertebrae: {} };
    renderMarks();
    draw();
  }

  function renderMarks() {
    const list = $("marks-list");
    list.replaceChildren();
    for (const [name, corners] of Object.entries(state.marks.vertebrae)) {
      const item = document.createElement("li");
      item.textContent = corners.length === 4
        ? `${name}: 4 corners`
        : `${name}: ${corners.length}/4, next ${CORNERS[corners.length]}`;
      item.className = corners.length === 4 ? "done" : "";
      list.appendChild(item);
    }
    const complete = Object.values(state.marks.vertebrae).filter((c) => c.length === 4).length;
    const partial = Object.values(state.marks.vertebrae).some((c) => c.length !== 4);
    $("track").disabled = !state.info || complete < 2 || partial;
  }

  function placeCorner(event) {
    if (!state.info) return;
    stop();
    const canvas = $("canvas");
    const rect = canvas.getBoundingClientRect();
    const u = ((event.clientX - rect.left) * canvas.width) / rect.width;
    const v = ((event.clientY - rect.top) * canvas.height) / rect.height;
    const point = [u / state.scale - 0.5, v / state.scale - 0.5].map((c) => Math.round(c * 100) / 100);
    if (state.marks.frame === null) state.marks.frame = state.index;
    if (state.marks.frame !== state.index) {
      setStatus(`Corners go on the reference frame ${state.marks.frame + 1}; Clear to start over.`, true);
      seek(state.marks.frame);
      return;
    }
    const name = $("vertebra").value;
    const corners = state.marks.vertebrae[name] || (state.marks.vertebrae[name] = []);
    if (corners.length === 4) corners.length = 0; // re-place this vertebra
    corners.push(point);
    if (corners.length === 4) {
      const i = NAMES.indexOf(name);
      if (i >= 0 && i + 1 < NAMES.length) $("vertebra").value = NAMES[i + 1];
    }
    renderMarks();
    draw();
  }

  async function startTracking() {
    const marks = {
      frame: state.marks.frame,
      vertebrae: Object.fromEntries(
        Object.entries(state.marks.vertebrae).filter(([, c]) => c.length === 4),
      ),
    };
    const body = { kind: "motion", series_id: state.info.series_id, landmarks: marks };
    if (state.info.pixel_spacing_mm === null) {
      const spacing = Number($("spacing").value);
      if (!(spacing > 0)) {
        jobStatus("This series has no calibration: enter the pixel spacing in mm.", true);
        return;
      }
      body.pixel_spacing_mm = spacing;
    }
    $("track").disabled = true;
    try {
      const job = await (await api(`/studies/${state.study.id}/analyses`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      })).json();
      await followJob(job.id);
    } catch (err) {
      jobStatus("Tracking failed: " + err.message, true);
    } finally {
      renderMarks();
    }
  }

  function jobStatus(text, error = false) {
    const el = $("job-status");
    el.textContent = text;
    el.className = error ? "error" : "";
  }

  async function followJob(jobId) {
    const bar = $("job-progress");
    bar.hidden = false;
    for (;;) {
      const job = await getJson(`/jobs/${jobId}`);
      bar.value = job.progress || 0;
      jobStatus(`Tracking: ${job.status} ${Math.round(100 * (job.progress || 0))}%`);
      if (job.status === "succeeded") {
        bar.value = 1;
        await loadResult(job.result_id);
        clearMarks(); // the result keeps them; the tracked outlines replace them
        jobStatus("Tracking done");
        return;
      }
      if (job.status === "failed" || job.status === "cancelled") {
        throw new Error(job.error || job.status);
      }
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
  }

  // ------------------------------------------------------------------ results
  async function loadLatestResult() {
    const results = await getJson(`/studies/${state.study.id}/results`);
    const motion = results.find((r) => r.kind === "motion");
    if (motion) await loadResult(motion.id);
  }

  async function loadResult(resultId) {
    state.result = await getJson(`/results/${resultId}`);
    state.resultId = resultId;
    $("show-report").disabled = false;
    $("pdf-report").disabled = false;
    renderPlots();
    draw();
  }

  function renderPlots() {
    const root = $("plots");
    root.replaceChildren();
    const levels = state.result && state.result.levels;
    if (!levels || !Object.keys(levels).length) {
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = "No result yet.";
      root.appendChild(p);
      return;
    }
    const svgNs = "http://www.w3.org/2000/svg";
    const el = (name, attrs) => {
      const node = document.createElementNS(svgNs, name);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
      return node;
    };
    for (const [level, data] of Object.entries(levels)) {
      const values = data.ivr_deg || [];
      const finite = values.filter((v) => v !== null && Number.isFinite(v));
      const W = 340, H = 130, L = 34, R = 8, T = 16, B = 18;
      const lo = Math.min(0, ...finite), hi = Math.max(0, ...finite);
      const span = hi - lo || 1;
      const n = Math.max(values.length - 1, 1);
      const x = (i) => L + ((W - L - R) * i) / n;
      const y = (v) => T + ((H - T - B) * (hi - v)) / span;
      const box = document.createElement("div");
      box.className = "plot";
      box.dataset.level = level;
      const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `IVR of ${level}` });
      svg.appendChild(el("line", { class: "axis", x1: L, x2: W - R, y1: y(0), y2: y(0) }));
      svg.appendChild(el("line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B }));
      let d = "";
      values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) return;
        d += `${d && values[i - 1] !== null ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
      });
      svg.appendChild(el("path", { class: "line", d: d.trim() }));
      svg.appendChild(el("line", { class: "cursor", x1: x(state.index), x2: x(state.index), y1: T, y2: H - B }));
      const title = el("text", { x: L, y: 12 });
      const rom = data.rom_deg !== undefined && data.rom_deg !== null ? `, ROM ${Number(data.rom_deg).toFixed(1)} deg` : "";
      title.textContent = `${level} IVR (deg, flexion +)${rom}`;
      svg.appendChild(title);
      for (const v of [lo, hi]) {
        const t = el("text", { x: 2, y: y(v) + 4 });
        t.textContent = v.toFixed(1);
        svg.appendChild(t);
      }
      svg.addEventListener("click", (event) => {
        const rect = svg.getBoundingClientRect();
        const u = ((event.clientX - rect.left) * W) / rect.width;
        seek(Math.round(((u - L) * n) / (W - L - R)));
      });
      box.appendChild(svg);
      root.appendChild(box);
    }
    updateCursors();
  }

  function updateCursors() {
    if (!state.result || !state.result.levels) return;
    for (const box of document.querySelectorAll(".plot")) {
      const cursor = box.querySelector(".cursor");
      const values = (state.result.levels[box.dataset.level] || {}).ivr_deg || [];
      const n = Math.max(values.length - 1, 1);
      const xx = 34 + ((340 - 34 - 8) * state.index) / n;
      cursor.setAttribute("x1", xx);
      cursor.setAttribute("x2", xx);
    }
  }

  async function showReport() {
    try {
      const blob = await (await api(`/results/${state.resultId}/report?format=html`)).blob();
      $("report-frame").src = URL.createObjectURL(blob);
      $("report-panel").open = true;
    } catch (err) {
      setStatus("Cannot show the report: " + err.message, true);
    }
  }

  async function openPdf() {
    try {
      const blob = await (await api(`/results/${state.resultId}/report?format=pdf`)).blob();
      window.open(URL.createObjectURL(blob), "_blank");
    } catch (err) {
      setStatus("Cannot build the PDF: " + err.message, true);
    }
  }

  async function loadCoding() {
    const root = $("coding");
    root.replaceChildren();
    let results = [];
    try {
      results = await getJson(`/studies/${state.study.id}/coding`);
    } catch (err) {
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = "Coding not available: " + err.message;
      root.appendChild(p);
      return;
    }
    if (!results.length) {
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = "No coding result for this study.";
      root.appendChild(p);
      return;
    }
    const result = results[0].result;
    const head = document.createElement("p");
    head.textContent = `${result.ok ? "Ready to bill" : "Needs attention"}; date of service ${result.date_of_service || "-"}; total ${result.total || "-"}`;
    root.appendChild(head);
    const table = document.createElement("table");
    table.id = "coding-lines";
    for (const line of result.lines || []) {
      const row = table.insertRow();
      row.insertCell().textContent = line.code + (line.modifiers && line.modifiers.length ? "-" + line.modifiers.join("-") : "");
      row.insertCell().textContent = line.descriptor || "";
      row.insertCell().textContent = line.price && line.price.amount ? "$" + line.price.amount : "";
    }
    root.appendChild(table);
    for (const f of result.findings || []) {
      const div = document.createElement("div");
      div.className = "finding " + f.severity;
      div.textContent = `${f.severity}: ${f.message}` + (f.citation ? ` [${f.citation}]` : "");
      root.appendChild(div);
    }
  }

  // ------------------------------------------------------------------ wiring
  function init() {
    for (const name of NAMES) {
      const option = document.createElement("option");
      option.value = option.textContent = name;
      $("vertebra").appendChild(option);
    }
    $("vertebra").value = "L3";
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.get("token")) {
      state.token = hash.get("token");
      sessionStorage.setItem("dynaspine-token", state.token);
      history.replaceState(null, "", location.pathname);
    }
    $("token").value = state.token;
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      state.token = $("token").value.trim();
      sessionStorage.setItem("dynaspine-token", state.token);
      loadStudies();
    });
    $("refresh").addEventListener("click", loadStudies);
    $("play").addEventListener("click", () => (state.playing ? stop() : play()));
    $("step-back").addEventListener("click", () => { stop(); seek(state.index - 1); });
    $("step-fwd").addEventListener("click", () => { stop(); seek(state.index + 1); });
    $("scrub").addEventListener("input", () => { stop(); seek(Number($("scrub").value)); });
    $("canvas").addEventListener("click", placeCorner);
    $("clear-marks").addEventListener("click", clearMarks);
    $("track").addEventListener("click", startTracking);
    $("show-report").addEventListener("click", showReport);
    $("pdf-report").addEventListener("click", openPdf);
    document.addEventListener("keydown", (event) => {
      if (event.target.tagName === "INPUT" || event.target.tagName === "SELECT") return;
      if (event.key === " ") { event.preventDefault(); state.playing ? stop() : play(); }
      if (event.key === "ArrowRight") { stop(); seek(state.index + 1); }
      if (event.key === "ArrowLeft") { stop(); seek(state.index - 1); }
    });
    draw();
    loadStudies();
  }

  window.dynaspineViewer = { state, seek, play, stop };
  init();
})();
