// Herald dashboard: what every node publishes about itself once a second.
//
// The password buys a short-lived token at POST /dashboard/token; the token
// connects to /connection/websocket with the centrifuge SDK and subscribes
// to the stats channel, the only thing it allows. Each publication is one
// node's figures (docs/protocol.md, "Dashboard"); the charts (uPlot) keep
// the last few minutes, one line per node and figure. The password stays in
// this page's memory only, to fetch a new token when the SDK asks for one
// (a reconnect after the token's ten minutes).
"use strict";

(() => {
  const WINDOW_SECONDS = 300;
  const COLORS = ["#4f46e5", "#16a34a", "#d97706", "#dc2626", "#0891b2", "#9333ea", "#db2777"];

  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const statusText = $("status-text");
  const loginForm = $("login");
  const passwordInput = $("password");
  const loginError = $("login-error");
  const live = $("live");
  const nodeRows = $("nodes");

  const pageUrl = (path, websocket) => {
    const url = new URL(path, window.location.href);
    if (websocket) url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    url.search = "";
    url.hash = "";
    return url.href;
  };

  function setStatus(state, text) {
    status.dataset.state = state;
    statusText.textContent = text;
  }

  function showLoginError(text) {
    loginError.textContent = text;
    loginError.hidden = !text;
  }

  // --- the token ------------------------------------------------------------------
  class LoginRefused extends Error {}

  async function fetchToken(password) {
    let response;
    try {
      response = await fetch(pageUrl("dashboard/token"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ password }),
        cache: "no-store",
      });
    } catch (error) {
      throw new Error(`Cannot reach the server: ${error.message}`);
    }
    if (response.status === 404) {
      throw new LoginRefused("The dashboard is off on this server (dashboard = false).");
    }
    if (response.status === 403) throw new LoginRefused("Wrong password.");
    if (response.status === 429) {
      throw new LoginRefused("Too many wrong passwords: try again in a minute.");
    }
    if (!response.ok) throw new Error(`The server answered ${response.status}.`);
    return response.json(); // {token, channel, expires_in}
  }

  // --- figures ----------------------------------------------------------------------
  // node -> Map(second -> document)
  const nodes = new Map();

  const formatBytes = (value) => {
    const units = ["B", "KiB", "MiB", "GiB"];
    let unit = 0;
    while (Math.abs(value) >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
  };
  const formatRate = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

  function record(doc) {
    if (!doc || typeof doc.node !== "string" || typeof doc.time !== "number") return;
    let samples = nodes.get(doc.node);
    const isNew = !samples;
    if (isNew) {
      samples = new Map();
      nodes.set(doc.node, samples);
    }
    const second = Math.round(doc.time / 1000);
    samples.set(second, doc);
    for (const old of samples.keys()) {
      if (old < second - WINDOW_SECONDS) samples.delete(old);
    }
    if (isNew) buildCharts();
    updateTable();
    updateCharts();
  }

  function latest(samples) {
    let newest = -Infinity;
    for (const second of samples.keys()) newest = Math.max(newest, second);
    return samples.get(newest);
  }

  function updateTable() {
    const rows = [];
    for (const [name, samples] of [...nodes.entries()].sort()) {
      const doc = latest(samples);
      const row = document.createElement("tr");
      row.dataset.node = name;
      const cells = [
        ["node", name],
        ["engine", doc.engine],
        ["ws", String(doc.connections.ws)],
        ["centrifuge", String(doc.connections.centrifuge)],
        ["publications-rate", formatRate(doc.rates.publications)],
        ["deliveries-rate", formatRate(doc.rates.deliveries)],
        ["bytes-in-rate", formatBytes(doc.rates.bytes_in)],
        ["bytes-out-rate", formatBytes(doc.rates.bytes_out)],
        ["slow", String(doc.totals.slow_disconnects)],
        ["cpu", `${(doc.cpu * 100).toFixed(1)} %`],
        ["rss", formatBytes(doc.rss_bytes)],
        ["publications", String(doc.totals.publications)],
      ];
      for (const [field, text] of cells) {
        const cell = document.createElement(field === "node" ? "th" : "td");
        cell.dataset.field = field;
        cell.textContent = text;
        if (field === "engine") cell.className = `engine engine--${doc.engine}`;
        row.append(cell);
      }
      rows.push(row);
    }
    nodeRows.replaceChildren(...rows);
  }

  // --- charts -------------------------------------------------------------------------
  // Each chart: its element and, per node, the figures it draws.
  const CHARTS = [
    { id: "chart-connections", lines: [["ws", (d) => d.connections.ws],
                                       ["centrifuge", (d) => d.connections.centrifuge]] },
    { id: "chart-messages", lines: [["publications", (d) => d.rates.publications],
                                    ["deliveries", (d) => d.rates.deliveries]] },
    { id: "chart-bytes", lines: [["in", (d) => d.rates.bytes_in],
                                 ["out", (d) => d.rates.bytes_out]], bytes: true },
    { id: "chart-slow", lines: [["slow", (d) => d.rates.slow_disconnects]] },
    { id: "chart-cpu", lines: [["cpu", (d) => d.cpu]] },
    { id: "chart-rss", lines: [["rss", (d) => d.rss_bytes / (1024 * 1024)]] },
  ];
  let plots = [];

  function chartWidth(element) {
    return Math.max(280, element.clientWidth || element.parentElement.clientWidth || 600);
  }

  function buildCharts() {
    for (const { plot } of plots) plot.destroy();
    plots = [];
    const names = [...nodes.keys()].sort();
    for (const chart of CHARTS) {
      const element = $(chart.id);
      const series = [{}];
      const readers = [];
      names.forEach((name, index) => {
        chart.lines.forEach(([label, read], lineIndex) => {
          series.push({
            label: names.length > 1 ? `${name} ${label}` : label,
            stroke: COLORS[index % COLORS.length],
            dash: lineIndex === 0 ? undefined : [6, 4],
            width: 2,
            spanGaps: true,
          });
          readers.push({ name, read });
        });
      });
      const axisValues = chart.bytes
        ? (u, values) => values.map((v) => formatBytes(v))
        : undefined;
      const plot = new uPlot(
        {
          width: chartWidth(element),
          height: 180,
          series,
          scales: { y: { range: (u, min, max) => [0, Math.max(max, 1)] } },
          axes: [{}, axisValues ? { values: axisValues, size: 70 } : {}],
          legend: { live: false },
        },
        [[], ...readers.map(() => [])],
        element,
      );
      plots.push({ plot, readers, element });
    }
  }

  function updateCharts() {
    const seconds = new Set();
    for (const samples of nodes.values()) {
      for (const second of samples.keys()) seconds.add(second);
    }
    const times = [...seconds].sort((a, b) => a - b);
    for (const { plot, readers } of plots) {
      const columns = readers.map(({ name, read }) => {
        const samples = nodes.get(name);
        return times.map((second) => {
          const doc = samples.get(second);
          return doc ? read(doc) : null;
        });
      });
      plot.setData([times, ...columns]);
    }
  }

  window.addEventListener("resize", () => {
    for (const { plot, element } of plots) plot.setSize({ width: chartWidth(element), height: 180 });
  });

  // --- connection ---------------------------------------------------------------------
  let client = null;

  function start(password, grant) {
    const getToken = async () => (await fetchToken(password)).token;
    client = new Centrifuge(pageUrl("connection/websocket", true), {
      token: grant.token,
      getToken,
    });
    client.on("connecting", () => setStatus("connecting", "Connecting…"));
    client.on("connected", () => setStatus("online", "Live"));
    client.on("disconnected", (ctx) => setStatus("offline", `Disconnected (${ctx.code})`));
    const subscription = client.newSubscription(grant.channel, { token: grant.token, getToken });
    subscription.on("publication", (ctx) => record(ctx.data));
    subscription.on("unsubscribed", (ctx) => {
      setStatus("offline", `Refused the stats channel (${ctx.code}: ${ctx.reason})`);
    });
    subscription.subscribe();
    client.connect();
  }

  loginForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const password = passwordInput.value;
    showLoginError("");
    setStatus("connecting", "Signing in…");
    let grant;
    try {
      grant = await fetchToken(password);
    } catch (error) {
      setStatus("offline", "Signed out");
      showLoginError(error.message);
      return;
    }
    passwordInput.value = "";
    loginForm.hidden = true;
    live.hidden = false;
    start(password, grant);
  });
})();
