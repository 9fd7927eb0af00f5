// Herald chat: the tutorial's demo on /ws.
//
// Sends {"message": "<name>: <text>"}; every /ws client (the sender included)
// receives {"message": "..."}. Messages are shown with textContent only, so
// nothing a peer sends is ever parsed as HTML. When the connection drops
// (server restart, network change) it reconnects with exponential backoff:
// 0.5 s, 1 s, 2 s, ... up to 10 s, with a little jitter.
"use strict";

(() => {
  const MIN_DELAY_MS = 500;
  const MAX_DELAY_MS = 10000;
  const MAX_MESSAGES = 500; // keep the page light on long sessions
  const NAME_KEY = "herald.chat.name";

  const $ = (id) => document.getElementById(id);
  const list = $("messages");
  const empty = $("empty");
  const form = $("composer");
  const nameInput = $("name");
  const textInput = $("text");
  const sendButton = $("send");
  const status = $("status");
  const statusText = $("status-text");

  // ws:// or wss:// to "ws" next to this page (so a reverse proxy prefix works).
  const wsUrl = (() => {
    const url = new URL("ws", window.location.href);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    url.search = "";
    url.hash = "";
    return url.href;
  })();

  let socket = null;
  let attempt = 0;
  let retryTimer = 0;
  let countdownTimer = 0;

  // --- name -------------------------------------------------------------------
  const storage = (() => {
    try {
      const probe = "herald.chat.probe";
      window.localStorage.setItem(probe, probe);
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch {
      return null; // private mode or storage disabled: the name just isn't kept
    }
  })();

  nameInput.value = (storage && storage.getItem(NAME_KEY)) || "";
  nameInput.addEventListener("change", () => {
    const name = nameInput.value.trim();
    nameInput.value = name;
    if (!storage) return;
    if (name) storage.setItem(NAME_KEY, name);
    else storage.removeItem(NAME_KEY);
  });

  const currentName = () => nameInput.value.trim() || "anonymous";

  // --- status -----------------------------------------------------------------
  function setStatus(state, text) {
    status.dataset.state = state;
    statusText.textContent = text;
    sendButton.disabled = state !== "online";
  }

  // --- messages ---------------------------------------------------------------
  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

  function addEntry({ author, text, kind }) {
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 48;
    if (empty.isConnected) empty.remove();

    const item = document.createElement("li");
    item.className = `message message--${kind}`;

    const time = document.createElement("time");
    const now = new Date();
    time.dateTime = now.toISOString();
    time.textContent = timeFormat.format(now);
    time.className = "message__time";
    item.append(time);

    if (author) {
      const who = document.createElement("span");
      who.className = "message__author";
      who.textContent = author;
      item.append(who);
    }

    const body = document.createElement("span");
    body.className = "message__text";
    body.textContent = text;
    item.append(body);

    list.append(item);
    while (list.children.length > MAX_MESSAGES) list.firstElementChild.remove();
    if (nearBottom) list.scrollTop = list.scrollHeight;
  }

  function note(text) {
    addEntry({ author: "", text, kind: "note" });
  }

  // A frame is {"message": "..."} from a /ws client; publications from other
  // sources (HTTP API, client protocol) arrive as whatever JSON they carried.
  function showFrame(raw) {
    let value;
    try {
      value = JSON.parse(raw);
    } catch {
      addEntry({ author: "", text: String(raw), kind: "other" });
      return;
    }
    if (value && typeof value === "object" && typeof value.message === "string") {
      const message = value.message;
      const colon = message.indexOf(": ");
      if (colon > 0 && colon <= 32) {
        const author = message.slice(0, colon);
        addEntry({
          author,
          text: message.slice(colon + 2),
          kind: author === currentName() ? "own" : "peer",
        });
      } else {
        addEntry({ author: "", text: message, kind: "peer" });
      }
      return;
    }
    addEntry({ author: "", text: JSON.stringify(value), kind: "other" });
  }

  // --- connection ---------------------------------------------------------------
  function clearTimers() {
    window.clearTimeout(retryTimer);
    window.clearInterval(countdownTimer);
    retryTimer = 0;
    countdownTimer = 0;
  }

  function connect() {
    clearTimers();
    if (socket) return;
    setStatus("connecting", attempt ? `Reconnecting… (try ${attempt + 1})` : "Connecting…");

    let ws;
    try {
      ws = new WebSocket(wsUrl);
    } catch (error) {
      setStatus("offline", "Cannot connect");
      note(`Cannot open ${wsUrl}: ${error.message}`);
      return;
    }
    socket = ws;

    ws.addEventListener("open", () => {
      if (attempt > 0) note("Reconnected.");
      attempt = 0;
      setStatus("online", "Connected");
    });

    ws.addEventListener("message", (event) => {
      if (typeof event.data === "string") showFrame(event.data);
    });

    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      const reason = event.reason ? ` (${event.reason})` : "";
      // One note per outage, not one per failed retry.
      if (event.code === 1001) note(`Server is going away${reason}; reconnecting.`);
      else if (attempt === 0 && event.code === 1006) note("Connection lost; reconnecting.");
      else if (attempt === 0) note(`Disconnected (code ${event.code}${reason}); reconnecting.`);
      scheduleReconnect();
    });
    // "error" is always followed by "close"; nothing to do here.
  }

  function scheduleReconnect() {
    clearTimers();
    const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempt);
    const delay = Math.round(base * (0.9 + Math.random() * 0.2));
    attempt += 1;
    const due = Date.now() + delay;
    const tick = () => {
      const left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      setStatus("offline", `Offline — retrying in ${left} s`);
    };
    tick();
    countdownTimer = window.setInterval(tick, 250);
    retryTimer = window.setTimeout(connect, delay);
  }

  // Clicking the status (or the browser coming back online) retries at once.
  status.addEventListener("click", () => {
    if (!socket) connect();
  });
  window.addEventListener("online", () => {
    if (!socket) connect();
  });

  // --- sending --------------------------------------------------------------------
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = textInput.value.trim();
    if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ message: `${currentName()}: ${text}` }));
    textInput.value = "";
    textInput.focus();
  });

  connect();
})();
