// Live views of browser sessions: the session page, the viewer link's page and the sessions
// list's thumbnails. Every element with a data-live-socket attribute gets one websocket.
//
// On the wire (sessions_app/consumers.py): a binary message is a frame, a 28-byte big-endian
// header (uint32 sequence number, float64 capture time in epoch milliseconds, the session's
// 16-byte UUID) followed by a JPEG; a text message is a JSON event with a `type`. The person who
// holds the control lease sends {"type": "input", "event": {...}} back; the server drops input
// from anyone else, so what this file hides is a courtesy, not the guard.
//
// The page learns about changes through two DOM events on <body>, which htmx listens to
// ("live-changed from:body"): `live-changed` when a step, a status, the control lease or an
// agent working on the session changed (coalesced, at most about twice a second), `live-ended`
// when the session ended.
(function () {
  "use strict";
  if (window.periscopeLive) return;
  window.periscopeLive = true;

  const HEADER_BYTES = 28;
  const BACKOFF_SECONDS = [1, 2, 4, 8, 15, 30];
  const ENDED_STATUSES = new Set(["closed", "error", "timed_out"]);
  const CLOSE_REFUSED = 4404; // no (longer any) right to watch
  const CLOSE_ENDED = 4000; // the viewer link's session ended
  const INPUT_INTERVAL_MS = 33; // mouse moves and wheel turns: at most ~30 a second
  const REFRESH_GAP_MS = 500;
  const FALLBACK_POLL_MS = 10000; // the sessions list, while its socket is down
  const DOUBLE_ESCAPE_MS = 800;
  const NOTE_SHOWN_MS = 6000;

  // ---- small helpers ---------------------------------------------------------------------

  function socketUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  function uuidFromBytes(bytes) {
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function parseFrame(buffer) {
    const header = new DataView(buffer, 0, HEADER_BYTES);
    return {
      seq: header.getUint32(0),
      capturedAt: header.getFloat64(4),
      sessionId: uuidFromBytes(new Uint8Array(buffer, 12, 16)),
      jpeg: new Blob([new Uint8Array(buffer, HEADER_BYTES)], { type: "image/jpeg" }),
    };
  }

  function clockTime(iso) {
    const date = iso ? new Date(iso) : null;
    return date && !isNaN(date) ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "";
  }

  // A tab without a title yet (the socket's first message has none): the end of its address.
  function urlLabel(url) {
    let parsed;
    try { parsed = new URL(url); } catch (error) { return url || "New tab"; }
    if (parsed.protocol === "about:") return "New tab";
    const last = parsed.pathname.split("/").filter(Boolean).pop();
    if (!last) return parsed.host;
    try { return decodeURIComponent(last); } catch (error) { return last; }
  }

  function show(element, visible) {
    if (element) element.hidden = !visible;
  }

  function setText(element, text) {
    if (element && element.textContent !== text) element.textContent = text;
  }

  // Coalesced page refreshes: a burst of steps costs one or two fragment requests, not one each.
  const refresher = {
    timer: null,
    last: 0,
    request() {
      if (this.timer) return;
      const wait = Math.max(0, REFRESH_GAP_MS - (Date.now() - this.last));
      this.timer = setTimeout(() => {
        this.timer = null;
        this.last = Date.now();
        document.body.dispatchEvent(new CustomEvent("live-changed"));
      }, wait);
    },
  };

  // ---- the socket: connect, reconnect with back-off, report the state -----------------------

  class Connection {
    constructor(path, handlers) {
      this.path = path;
      this.handlers = handlers; // onOpen, onEvent, onFrame, onState, isAttached
      this.attempt = 0;
      this.ws = null;
      this.timer = null;
      this.stopped = false;
      this.everOpened = false;
    }

    start() {
      if (this.stopped || !this.handlers.isAttached()) return this.stop();
      clearTimeout(this.timer);
      this.handlers.onState({ kind: "connecting" });
      const ws = new WebSocket(socketUrl(this.path));
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      ws.onopen = () => {
        this.attempt = 0;
        const again = this.everOpened;
        this.everOpened = true;
        this.handlers.onState({ kind: "live" });
        this.handlers.onOpen(again);
      };
      ws.onmessage = (message) => {
        if (!this.handlers.isAttached()) return this.stop();
        if (typeof message.data === "string") {
          let event;
          try { event = JSON.parse(message.data); } catch (error) { return; }
          this.handlers.onEvent(event);
        } else if (message.data.byteLength > HEADER_BYTES) {
          this.handlers.onFrame(parseFrame(message.data));
        }
      };
      ws.onclose = (close) => {
        if (this.ws !== ws || this.stopped) return;
        this.ws = null;
        if (close.code === CLOSE_ENDED) return this.end("ended");
        if (close.code === CLOSE_REFUSED) return this.end("refused");
        this.retry();
      };
    }

    retry() {
      const seconds = BACKOFF_SECONDS[Math.min(this.attempt, BACKOFF_SECONDS.length - 1)];
      this.attempt += 1;
      let left = seconds;
      const tick = () => {
        if (this.stopped || !this.handlers.isAttached()) return this.stop();
        if (left <= 0) return this.start();
        this.handlers.onState({ kind: "reconnecting", seconds: left });
        left -= 1;
        this.timer = setTimeout(tick, 1000);
      };
      tick();
    }

    // Connect again at once (e.g. the session became active and now has frames to send).
    restart() {
      if (this.stopped) return;
      const ws = this.ws;
      this.ws = null;
      if (ws) ws.close();
      this.start();
    }

    end(kind) {
      this.stop();
      this.handlers.onState({ kind });
    }

    stop() {
      this.stopped = true;
      clearTimeout(this.timer);
      const ws = this.ws;
      this.ws = null;
      if (ws && ws.readyState <= WebSocket.OPEN) ws.close();
    }

    send(message) {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify(message));
        return true;
      }
      return false;
    }

    get open() {
      return Boolean(this.ws && this.ws.readyState === WebSocket.OPEN);
    }
  }

  // ---- frames onto a canvas: decode off the main thread, keep only the newest waiting -------

  class Painter {
    constructor(canvas, onPainted) {
      this.canvas = canvas;
      this.context = canvas.getContext("2d");
      this.onPainted = onPainted;
      this.pending = null;
      this.busy = false;
      this.painted = 0;
    }

    push(frame) {
      this.pending = frame; // a frame that was still waiting is skipped: only the newest matters
      if (!this.busy) this.drain();
    }

    async drain() {
      this.busy = true;
      while (this.pending) {
        const frame = this.pending;
        this.pending = null;
        let bitmap;
        try {
          bitmap = await createImageBitmap(frame.jpeg);
        } catch (error) {
          continue; // a damaged frame: the next one will do
        }
        if (this.canvas.width !== bitmap.width || this.canvas.height !== bitmap.height) {
          this.canvas.width = bitmap.width;
          this.canvas.height = bitmap.height;
        }
        this.context.drawImage(bitmap, 0, 0);
        bitmap.close();
        this.painted += 1;
        if (this.onPainted) this.onPainted(frame);
      }
      this.busy = false;
    }
  }

  // Frame age (capture to arrival) and frames per second over the last second.
  class FrameStats {
    constructor() {
      this.arrivals = [];
      this.age = null;
    }

    record(frame) {
      const now = Date.now();
      this.age = Math.max(0, Math.round(now - frame.capturedAt));
      this.arrivals.push(now);
    }

    get fps() {
      const since = Date.now() - 1000;
      while (this.arrivals.length && this.arrivals[0] < since) this.arrivals.shift();
      return this.arrivals.length;
    }
  }

  // ---- input: what the person holding control does on the canvas ----------------------------

  function modifierBits(event) {
    return (event.altKey ? 1 : 0) | (event.ctrlKey ? 2 : 0) | (event.metaKey ? 4 : 0) | (event.shiftKey ? 8 : 0);
  }

  const BUTTON_NAMES = ["left", "middle", "right"]; // by MouseEvent.button
  const BUTTON_BITS = [1, 4, 2]; // MouseEvent.buttons' bit for each of those
  const IGNORED_KEYS = new Set(["Dead", "Unidentified", "Process"]);

  class InputRelay {
    constructor(canvas, send, canSend, onRefused, onLeave) {
      this.canvas = canvas;
      this.send = send; // (event) => bool
      this.canSend = canSend; // () => bool: this person holds control
      this.onRefused = onRefused; // input while not holding control
      this.onLeave = onLeave; // keys no longer go to the page
      this.move = null;
      this.moveTimer = null;
      this.lastMove = 0;
      this.wheel = null;
      this.wheelTimer = null;
      this.keysDown = new Map(); // KeyboardEvent.code -> the key sent on down, so up matches
      this.lastEscape = 0;
      this.lastDown = null; // for counting double and triple clicks
      this.bind();
    }

    point(event) {
      const rect = this.canvas.getBoundingClientRect();
      const x = (event.clientX - rect.left) / rect.width;
      const y = (event.clientY - rect.top) / rect.height;
      return { x: Math.min(Math.max(x, 0), 1), y: Math.min(Math.max(y, 0), 1) };
    }

    relay(event) {
      return this.send(event);
    }

    bind() {
      const canvas = this.canvas;
      canvas.addEventListener("pointerdown", (event) => this.pointerDown(event));
      canvas.addEventListener("pointermove", (event) => this.pointerMove(event));
      canvas.addEventListener("pointerup", (event) => this.pointerUp(event));
      canvas.addEventListener("pointercancel", (event) => this.pointerUp(event));
      canvas.addEventListener("wheel", (event) => this.wheelTurn(event), { passive: false });
      canvas.addEventListener("contextmenu", (event) => { if (this.canSend()) event.preventDefault(); });
      canvas.addEventListener("keydown", (event) => this.keyDown(event));
      canvas.addEventListener("keyup", (event) => this.keyUp(event));
      canvas.addEventListener("paste", (event) => this.paste(event));
      canvas.addEventListener("blur", () => this.releaseKeys());
    }

    pointerDown(event) {
      this.canvas.focus({ preventScroll: true });
      if (!this.canSend()) return this.onRefused();
      event.preventDefault();
      this.canvas.setPointerCapture(event.pointerId);
      const at = this.point(event);
      const button = BUTTON_NAMES[event.button] || "left";
      const now = Date.now();
      const last = this.lastDown;
      const near = last && last.button === button && now - last.time < 500 &&
        Math.abs(event.clientX - last.clientX) < 6 && Math.abs(event.clientY - last.clientY) < 6;
      const clicks = near ? Math.min(last.clicks + 1, 3) : 1;
      this.lastDown = { button, time: now, clientX: event.clientX, clientY: event.clientY, clicks };
      this.queueMove(event);
      this.move.buttons &= ~BUTTON_BITS[event.button]; // the pointer gets there before the press
      this.flushMove();
      this.relay({ kind: "mouse", action: "down", ...at, button, buttons: event.buttons, clicks,
                   modifiers: modifierBits(event) });
    }

    pointerUp(event) {
      if (!this.canSend() || !this.lastDown) return;
      if (this.canvas.hasPointerCapture(event.pointerId)) this.canvas.releasePointerCapture(event.pointerId);
      this.flushMove();
      const button = BUTTON_NAMES[event.button] || this.lastDown.button;
      this.relay({ kind: "mouse", action: "up", ...this.point(event), button, buttons: event.buttons,
                   clicks: this.lastDown.clicks, modifiers: modifierBits(event) });
    }

    pointerMove(event) {
      if (!this.canSend()) return;
      this.queueMove(event);
      if (!this.moveTimer) {
        const wait = Math.max(0, INPUT_INTERVAL_MS - (Date.now() - this.lastMove));
        this.moveTimer = setTimeout(() => this.flushMove(), wait);
      }
    }

    queueMove(event) {
      this.move = { ...this.point(event), buttons: event.buttons, modifiers: modifierBits(event) };
    }

    flushMove() {
      clearTimeout(this.moveTimer);
      this.moveTimer = null;
      if (!this.move) return;
      this.relay({ kind: "mouse", action: "move", ...this.move });
      this.move = null;
      this.lastMove = Date.now();
    }

    wheelTurn(event) {
      if (!this.canSend()) return;
      event.preventDefault();
      const scale = event.deltaMode === 1 ? 40 : event.deltaMode === 2 ? this.canvas.height : 1;
      const pending = this.wheel || { dx: 0, dy: 0 };
      this.wheel = { ...this.point(event), dx: pending.dx + event.deltaX * scale, dy: pending.dy + event.deltaY * scale,
                     modifiers: modifierBits(event) };
      if (!this.wheelTimer) {
        this.wheelTimer = setTimeout(() => {
          this.wheelTimer = null;
          const wheel = this.wheel;
          this.wheel = null;
          if (wheel) this.relay({ kind: "mouse", action: "wheel", ...wheel });
        }, INPUT_INTERVAL_MS);
      }
    }

    keyDown(event) {
      if (!this.canSend()) {
        if (event.key.length === 1 && !event.ctrlKey && !event.metaKey) this.onRefused();
        return; // Tab and the browser's shortcuts work as usual while the page is only watched
      }
      if (event.key === "Escape") {
        const now = Date.now();
        if (now - this.lastEscape < DOUBLE_ESCAPE_MS) {
          event.preventDefault();
          this.lastEscape = 0;
          this.canvas.blur();
          this.onLeave();
          return;
        }
        this.lastEscape = now;
      }
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "v") return; // the paste event follows
      event.preventDefault(); // Tab, Backspace, Ctrl+L, F5...: for the remote page, not this one
      if (event.isComposing || IGNORED_KEYS.has(event.key)) return;
      this.keysDown.set(event.code || event.key, event.key);
      this.relay({ kind: "key", action: "down", key: event.key });
    }

    keyUp(event) {
      if (!this.canSend()) return;
      const id = event.code || event.key;
      if (!this.keysDown.has(id)) return;
      event.preventDefault();
      const key = this.keysDown.get(id);
      this.keysDown.delete(id);
      this.relay({ kind: "key", action: "up", key });
    }

    // Keys held when the canvas loses focus would stay down on the page: lift them.
    releaseKeys() {
      if (this.canSend()) {
        for (const key of this.keysDown.values()) this.relay({ kind: "key", action: "up", key });
      }
      this.keysDown.clear();
    }

    paste(event) {
      if (!this.canSend()) return;
      const text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
      event.preventDefault();
      if (text) this.relay({ kind: "text", text });
    }
  }

  // ---- one session, live: the session page and the viewer link's page ------------------------

  class LiveView {
    constructor(root) {
      this.root = root;
      this.part = (name) => root.querySelector(`[data-live="${name}"]`);
      this.canvas = this.part("canvas");
      this.viewerLink = root.dataset.liveMode === "viewer";
      this.userId = root.dataset.userId ? Number(root.dataset.userId) : null;
      this.leaseSeconds = Number(root.dataset.leaseSeconds || 60);
      this.state = {
        connection: { kind: "connecting" },
        status: root.dataset.status || "active",
        canControl: false,
        canTakeOver: false,
        holder: root.dataset.holder || null,
        since: root.dataset.holderSince || null,
        youHold: false,
        url: "",
        title: "",
        tabs: [],
        note: "",
      };
      this.noteTimer = null;
      this.greeted = false;
      this.hasFeed = false;
      this.stats = new FrameStats();
      this.painter = new Painter(this.canvas, () => this.painted());
      this.input = new InputRelay(
        this.canvas,
        (event) => this.sendInput(event),
        () => this.state.youHold && this.state.connection.kind === "live",
        () => this.flash(this.whyNot()),
        () => this.flash("Keys no longer go to the page. Click it to type again."),
      );
      this.bindControls();
      this.connection = new Connection(root.dataset.liveSocket, {
        isAttached: () => root.isConnected,
        onOpen: (again) => { if (again) refresher.request(); },
        onState: (state) => this.setConnection(state),
        onEvent: (event) => this.onEvent(event),
        onFrame: (frame) => this.onFrame(frame),
      });
      this.metricsTimer = setInterval(() => this.renderMetrics(), 500);
      this.render();
      this.connection.start();
    }

    // -- wiring the buttons and forms --

    bindControls() {
      for (const button of this.root.querySelectorAll("[data-control]")) {
        button.addEventListener("click", () => this.control(button));
      }
      for (const button of this.root.querySelectorAll("[data-nav]")) {
        button.addEventListener("click", () => this.navigate(button.dataset.nav));
      }
      const urlForm = this.part("url-form");
      if (urlForm) {
        urlForm.addEventListener("submit", (event) => {
          event.preventDefault();
          this.goTo(this.part("url").value);
        });
      }
      const textForm = this.part("text-form");
      if (textForm) {
        textForm.addEventListener("submit", (event) => {
          event.preventDefault();
          const field = this.part("text");
          if (field.value && this.sendInput({ kind: "text", text: field.value })) field.value = "";
        });
      }
    }

    sendInput(event) {
      if (!this.state.youHold) return false;
      return this.connection.send({ type: "input", event });
    }

    navigate(action) {
      if (!this.sendInput({ kind: "nav", action })) this.flash(this.whyNot());
    }

    goTo(raw) {
      let url = raw.trim();
      if (!url) return;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) url = "https://" + url;
      if (!/^(https?:\/\/|about:blank$)/i.test(url)) {
        this.flash("Only http:// and https:// addresses (or about:blank) can be opened.");
        return;
      }
      if (this.sendInput({ kind: "nav", action: "goto", url })) {
        this.part("url").blur();
        this.canvas.focus({ preventScroll: true });
      } else {
        this.flash(this.whyNot());
      }
    }

    async control(button) {
      if (!button.dataset.url) return;
      const headers = { Accept: "application/json" };
      if (this.root.dataset.csrf) headers["X-CSRFToken"] = this.root.dataset.csrf;
      button.disabled = true;
      try {
        const response = await fetch(button.dataset.url, { method: "POST", headers, credentials: "same-origin" });
        const body = await response.json().catch(() => ({}));
        if (!response.ok) {
          this.flash(body.message || `That did not work (HTTP ${response.status}); reload the page and try again.`);
          return;
        }
        const holds = Boolean(body.you_hold_control);
        // The control.changed event that follows brings the server's own time.
        if (holds && !this.state.youHold) this.state.since = new Date().toISOString();
        if (!body.holder) this.state.since = null;
        this.state.youHold = holds;
        this.state.holder = body.holder || null;
        this.state.note = "";
        this.render();
        if (holds) this.canvas.focus({ preventScroll: true });
      } catch (error) {
        this.flash("The server could not be reached; try again in a moment.");
      } finally {
        button.disabled = false;
        this.render();
      }
    }

    // -- what arrives on the socket --

    onEvent(event) {
      const state = this.state;
      switch (event.type) {
        case "hello":
          this.greeted = true;
          state.status = event.status;
          state.canControl = Boolean(event.can_control);
          state.canTakeOver = Boolean(event.can_take_over);
          if (event.holder !== state.holder) state.since = null;
          state.holder = event.holder || null;
          state.youHold = Boolean(event.you_hold_control);
          this.hasFeed = Boolean(event.viewport);
          if (event.url) state.url = event.url;
          if (event.tabs) state.tabs = event.tabs;
          if (event.viewport && !this.painter.painted) {
            this.canvas.width = event.viewport.width;
            this.canvas.height = event.viewport.height;
          }
          if (ENDED_STATUSES.has(event.status)) {
            this.ended(); // it ended while this page was reconnecting
            document.body.dispatchEvent(new CustomEvent("live-ended"));
          }
          break;
        case "page.navigated":
          state.url = event.url;
          state.title = event.title || "";
          for (const tab of state.tabs) if (tab.active) { tab.url = event.url; tab.title = event.title; }
          break;
        case "tabs.changed":
          state.tabs = event.tabs || [];
          for (const tab of state.tabs) if (tab.active) { state.url = tab.url; state.title = tab.title || ""; }
          break;
        case "step.finished":
          refresher.request();
          break;
        case "agent.step":
        case "agent.status":
          // An agent working on this session: its page refreshes the steps and the run's state;
          // `live-agent` carries the event itself for anything that wants it as it arrives.
          document.body.dispatchEvent(new CustomEvent("live-agent", { detail: event }));
          refresher.request();
          break;
        case "status.changed":
          state.status = event.status;
          refresher.request();
          if (ENDED_STATUSES.has(event.status)) {
            this.ended();
            document.body.dispatchEvent(new CustomEvent("live-ended"));
          } else if (!this.hasFeed) {
            this.connection.restart(); // it was still starting: now there are frames to watch
          }
          break;
        case "control.changed":
          this.controlChanged(event);
          refresher.request();
          break;
        case "error":
          this.flash(event.message);
          break;
        default:
          return;
      }
      this.render();
    }

    controlChanged(event) {
      const state = this.state;
      const held = state.youHold;
      state.holder = event.holder || null;
      state.since = event.since || null;
      state.youHold = this.viewerLink
        ? Boolean(event.holder) && event.holder_user_id == null
        : event.holder_user_id != null && event.holder_user_id === this.userId;
      if (held && !state.youHold && event.reason) {
        this.flash(event.reason.charAt(0).toUpperCase() + event.reason.slice(1) + ".");
      }
    }

    onFrame(frame) {
      this.stats.record(frame);
      this.painter.push(frame);
    }

    painted() {
      this.root.dataset.frames = String(this.painter.painted);
      if (this.painter.painted === 1) this.render();
    }

    ended() {
      this.state.youHold = false;
      this.connection.end("ended");
    }

    setConnection(connection) {
      this.state.connection = connection;
      if (connection.kind === "ended" || connection.kind === "refused") {
        clearInterval(this.metricsTimer);
        this.input.releaseKeys();
      }
      this.render();
    }

    // -- drawing the state --

    whyNot() {
      const state = this.state;
      if (ENDED_STATUSES.has(state.status) || state.connection.kind === "ended") return "The session has ended.";
      if (state.connection.kind !== "live") return "Not connected: your input would go nowhere. Reconnecting…";
      if (!this.greeted) return ""; // a frame may come before the socket's first message
      if (!state.canControl) {
        return this.viewerLink ? "This link is view only." : "You can watch this session; viewers cannot take control.";
      }
      if (state.youHold) return "";
      if (state.holder) {
        return `${state.holder} has control.` + (state.canTakeOver ? " You can take it over." : " They can release it.");
      }
      return "Take control first to click and type in the page.";
    }

    flash(text) {
      if (!text) return;
      this.state.note = text;
      clearTimeout(this.noteTimer);
      this.noteTimer = setTimeout(() => { this.state.note = ""; this.render(); }, NOTE_SHOWN_MS);
      this.render();
    }

    guidance() {
      const state = this.state;
      if (state.note) return state.note;
      if (state.youHold) {
        return "Your clicks and keys go to the page (Esc twice to stop typing into it). API actions wait " +
          `until you release control; it ends by itself after ${this.leaseSeconds} s without input.`;
      }
      return this.whyNot();
    }

    holderText() {
      const state = this.state;
      const since = clockTime(state.since);
      if (state.youHold) return since ? `You have control since ${since}` : "You have control";
      if (state.holder) return since ? `${state.holder} has control since ${since}` : `${state.holder} has control`;
      return "Nobody has control";
    }

    render() {
      const state = this.state;
      const kind = state.connection.kind;
      const live = kind === "live";
      const over = kind === "ended" || kind === "refused";
      this.root.dataset.state = kind;
      this.root.classList.toggle("is-driving", state.youHold && live);

      const labels = {
        connecting: "Connecting…",
        live: "Live",
        reconnecting: "Reconnecting",
        ended: "Session ended",
        refused: "Not available",
      };
      setText(this.part("state"), labels[kind]);
      setText(this.part("countdown"), kind === "reconnecting" ? `in ${state.connection.seconds} s` : "");

      const overlay = this.part("overlay");
      let overlayText = "";
      if (over) overlayText = kind === "ended" ? "The session has ended." : "This live view is no longer available.";
      else if (!this.painter.painted) overlayText = live ? "Waiting for the first frame…" : "Connecting…";
      else if (!live) overlayText = "Connection lost. Reconnecting…";
      setText(overlay, overlayText);
      show(overlay, Boolean(overlayText));

      setText(this.part("holder"), this.holderText());
      setText(this.part("note"), over ? "" : this.guidance());

      const buttons = {
        take: state.canControl && !state.holder && !over,
        release: state.youHold && !over,
        takeover: state.canTakeOver && Boolean(state.holder) && !state.youHold && !over,
      };
      for (const button of this.root.querySelectorAll("[data-control]")) {
        show(button, buttons[button.dataset.control]);
      }
      const driving = state.youHold && live;
      for (const element of this.root.querySelectorAll("[data-nav], [data-live=url], [data-live=url-go], " +
                                                        "[data-live=text], [data-live=text-go]")) {
        element.disabled = !driving;
      }
      show(this.part("text-form"), driving);
      this.canvas.setAttribute("aria-label", driving
        ? "The session's page, live. You have control: clicks and keys go to the page."
        : "The session's page, live, view only.");

      const urlField = this.part("url");
      if (urlField && document.activeElement !== urlField) urlField.value = state.url;
      const active = state.tabs.find((tab) => tab.active);
      setText(this.part("title"), (active && active.title) || state.title || "");
      this.renderTabs();
      this.renderMetrics();
    }

    renderTabs() {
      const list = this.part("tabs");
      if (!list) return;
      const key = JSON.stringify(this.state.tabs);
      if (list.dataset.key === key) return;
      list.dataset.key = key;
      list.replaceChildren(...this.state.tabs.map((tab) => {
        const item = document.createElement("li");
        item.className = "live-tab" + (tab.active ? " is-active" : "");
        if (tab.active) item.setAttribute("aria-current", "true");
        item.title = tab.url || "";
        item.textContent = tab.title || urlLabel(tab.url);
        return item;
      }));
      show(list.closest("[data-live-tabs]") || list, this.state.tabs.length > 0);
    }

    renderMetrics() {
      if (!this.root.isConnected) {
        clearInterval(this.metricsTimer);
        return this.connection.stop();
      }
      const metrics = this.part("metrics");
      if (!metrics) return;
      const live = this.state.connection.kind === "live";
      if (!live || this.stats.age === null) {
        setText(metrics, live ? "no frame yet" : "");
        return;
      }
      setText(metrics, `frame age ${this.stats.age} ms · ${this.stats.fps} fps`);
    }
  }

  // ---- the sessions list: a thumbnail per live session, from one socket ----------------------

  class LiveGrid {
    constructor(root) {
      this.root = root;
      this.list = root.querySelector("[data-live=thumbs]");
      this.template = root.querySelector("template[data-live=thumb]");
      this.detailUrl = root.dataset.detailUrl; // ends with "/", the session id follows
      this.tiles = new Map();
      this.ended = new Set(); // a frame still on its way must not bring an ended session back
      for (const item of this.list.querySelectorAll("[data-session-id]")) this.adopt(item);
      this.pollTimer = null;
      this.connection = new Connection(root.dataset.liveSocket, {
        isAttached: () => root.isConnected,
        onOpen: (again) => { this.stopPolling(); if (again) refresher.request(); },
        onState: (state) => this.setConnection(state),
        onEvent: (event) => this.onEvent(event),
        onFrame: (frame) => this.onFrame(frame),
      });
      this.render();
      this.connection.start();
    }

    adopt(item) {
      const canvas = item.querySelector("canvas");
      const tile = { item, painter: new Painter(canvas, () => { item.dataset.frames = String(tile.painter.painted); }) };
      this.tiles.set(item.dataset.sessionId, tile);
      return tile;
    }

    add(sessionId) {
      const item = this.template.content.firstElementChild.cloneNode(true);
      item.dataset.sessionId = sessionId;
      const link = item.querySelector("a");
      link.href = this.detailUrl + sessionId + "/";
      setText(item.querySelector("[data-live=thumb-id]"), sessionId.slice(0, 8));
      link.setAttribute("aria-label", `Session ${sessionId.slice(0, 8)}, live`);
      this.list.prepend(item);
      const tile = this.adopt(item);
      this.render();
      return tile;
    }

    remove(sessionId) {
      const tile = this.tiles.get(sessionId);
      if (!tile) return;
      tile.item.remove();
      this.tiles.delete(sessionId);
      this.render();
    }

    onEvent(event) {
      if (event.type !== "status.changed") return;
      if (ENDED_STATUSES.has(event.status)) {
        this.ended.add(event.session_id);
        this.remove(event.session_id);
      } else if (!this.tiles.has(event.session_id)) {
        this.add(event.session_id);
      }
      refresher.request();
    }

    onFrame(frame) {
      if (this.ended.has(frame.sessionId)) return;
      const tile = this.tiles.get(frame.sessionId) || this.add(frame.sessionId);
      tile.painter.push(frame);
    }

    // While the socket is down the table still moves, slowly: a refresh every few seconds.
    setConnection(state) {
      this.root.dataset.state = state.kind;
      const down = state.kind === "reconnecting" || state.kind === "refused";
      if (down && !this.pollTimer) {
        this.pollTimer = setInterval(() => {
          if (!this.root.isConnected) return this.stopPolling();
          refresher.request();
        }, FALLBACK_POLL_MS);
      }
      if (state.kind === "live") this.stopPolling();
      setText(this.root.querySelector("[data-live=state]"), {
        connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting", ended: "Offline",
        refused: "Offline",
      }[state.kind]);
    }

    stopPolling() {
      clearInterval(this.pollTimer);
      this.pollTimer = null;
    }

    render() {
      setText(this.root.querySelector("[data-live=count]"), String(this.tiles.size));
      show(this.root.querySelector("[data-live=empty]"), this.tiles.size === 0);
    }
  }

  function start() {
    for (const root of document.querySelectorAll("[data-live-socket]")) {
      if (root.periscopeLive) continue;
      root.periscopeLive = root.dataset.liveMode === "grid" ? new LiveGrid(root) : new LiveView(root);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  // A live view swapped in by htmx (e.g. after a reload of a fragment) starts too.
  document.addEventListener("htmx:load", start);
})();
