// Micboard Desktop phone page: a read-only live board fed by GET /api/events/.
//
// Plain browser JavaScript: no build step, nothing loaded from another host.
// The stream is read with fetch(), not EventSource, because EventSource cannot send an
// Authorization header: this way the page follows the API's access rules exactly and the
// token never travels in a URL (docs/contract.md §3, "Phone page"). The token comes from the
// address's fragment (#token=..., which browsers never send to the server) or from a prompt,
// and is kept in sessionStorage: this tab only, gone when it closes.
"use strict";

// The words, glyphs and colours of micboard_desktop/ui/theme.py, so the phone and the window
// say the same thing in the same colour. tests/lan/test_phone_page.py compares this table
// with the theme; keep it valid JSON between the markers.
// LOOKS-BEGIN
const LOOKS = {
  "rx_offline": {"text": "RX OFFLINE", "glyph": "\u2298", "colour": "#6e6e6e"},
  "tx_off": {"text": "TX OFF", "glyph": "\u25cb", "colour": "#6e6e6e"},
  "critical_battery": {"text": "BATTERY CRITICAL", "glyph": "\u2716", "colour": "#d55e00"},
  "low_battery": {"text": "LOW BATTERY", "glyph": "\u26a0", "colour": "#e69f00"},
  "rf_loss": {"text": "RF LOSS", "glyph": "\u2716", "colour": "#d55e00"},
  "interference": {"text": "INTERFERENCE", "glyph": "\u26a0", "colour": "#cc79a7"},
  "audio_peak": {"text": "CLIPPING", "glyph": "\u25b2", "colour": "#f0e442"},
  "muted": {"text": "MUTED", "glyph": "\u2298", "colour": "#56b4e9"},
  "ok": {"text": "OK", "glyph": "\u2714", "colour": "#009e73"},
  "not_monitored": {"text": "NOT MONITORED", "glyph": "\u25a0", "colour": "#6e6e6e"},
  "iem_ok": {"text": "OK", "glyph": "\u2714", "colour": "#56b4e9"},
  "iem_rf_muted": {"text": "RF MUTED", "glyph": "\u2716", "colour": "#d55e00"},
  "iem_clipping": {"text": "CLIPPING", "glyph": "\u25b2", "colour": "#f0e442"}
};
// LOOKS-END

const GREY = "#6e6e6e";
const TOKEN_KEY = "micboard.lan.token";
const EVENTS_PATH = "/api/events/";
const SILENCE_MS = 40000;  // the server sends a keep-alive every 15 s; longer means dead
// core/status.py NEEDS_ATTENTION: what must never go unsaid (checked by the test too).
const NEEDS_ATTENTION = new Set(["critical_battery", "rf_loss", "rx_offline"]);

const state = {
  token: null,
  receivers: new Map(),   // receiver id -> Receiver object of the contract
  cards: new Map(),       // channel id -> its card element on the board
  places: new Map(),      // receiver id -> what decided its cards' places at the last render
  health: null,
  retryMs: 3000,
  live: false,
  everLive: false,
  lastData: null,         // Date of the last device_update
  lastChunk: 0,           // Date.now() of the last bytes of the stream
  fresh: true,            // no device_update yet on this connection
  controller: null,
  timer: null,
};

const $ = (id) => document.getElementById(id);

// -- token ---------------------------------------------------------------------------------

function readToken() {
  const fragment = location.hash.startsWith("#") ? location.hash.slice(1) : "";
  const fromUrl = new URLSearchParams(fragment).get("token");
  if (fromUrl) {
    keepToken(fromUrl);
    // Out of the address bar and the history entry: nobody reads it over a shoulder later.
    history.replaceState(null, "", location.pathname + location.search);
    return fromUrl;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch (err) {
    return null;  // storage disabled (private mode): the prompt still works for this load
  }
}

function keepToken(token) {
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch (err) {
    // Storage refused: the token lives in memory until the tab reloads.
  }
}

function forgetToken() {
  state.token = null;
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch (err) {
    // Nothing kept, nothing to remove.
  }
}

function showLogin(message) {
  setLink("TOKEN NEEDED", "link-off");
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

function onLogin(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  if (!token) return;
  $("token").value = "";
  $("login").hidden = true;
  state.token = token;
  keepToken(token);
  connect();
}

// -- stream --------------------------------------------------------------------------------

function setLink(text, cls) {
  const link = $("link");
  link.textContent = text;
  link.className = cls;
}

function setLive(live) {
  state.live = live;
  document.body.classList.toggle("stale", !live && state.everLive);
  const banner = $("banner");
  if (live || !state.everLive) {
    banner.hidden = true;
    return;
  }
  const when = state.lastData ? state.lastData.toLocaleTimeString() : "earlier";
  banner.textContent = "Connection to the laptop lost. Values are from " + when + ".";
  banner.hidden = false;
}

function scheduleReconnect(delay) {
  clearTimeout(state.timer);
  state.timer = setTimeout(connect, delay === undefined ? state.retryMs : delay);
}

async function errorOf(response) {
  try {
    const body = await response.json();
    return body && body.error ? body.error : {};
  } catch (err) {
    return {};
  }
}

async function connect() {
  clearTimeout(state.timer);
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  state.fresh = true;
  if (!state.live) setLink(state.everLive ? "RECONNECTING" : "CONNECTING",
                           state.everLive ? "link-lost" : "link-wait");
  const headers = {"Accept": "text/event-stream"};
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  let response;
  try {
    response = await fetch(EVENTS_PATH, {
      headers, cache: "no-store", credentials: "omit", signal: controller.signal,
    });
  } catch (err) {
    if (controller.signal.aborted && state.controller !== controller) return;
    setLive(false);
    scheduleReconnect();
    return;
  }
  if (response.status === 401) {
    const hadToken = Boolean(state.token);
    forgetToken();
    setLive(false);
    showLogin(hadToken ? "That token was not accepted." : "");
    return;
  }
  if (!response.ok || !response.body) {
    const error = await errorOf(response);
    setLive(false);
    if (error.code === "events_disabled") {
      setLink("NO LIVE DATA", "link-off");
      $("banner").textContent = "Live updates are switched off on the laptop.";
      $("banner").hidden = false;
      scheduleReconnect(30000);
    } else {
      setLink("ERROR " + response.status, "link-off");
      scheduleReconnect();
    }
    return;
  }
  try {
    await readStream(response.body, controller);
  } catch (err) {
    // Dropped connection or our own watchdog: reconnect below either way.
  }
  if (state.controller !== controller) return;  // a newer connection took over
  setLive(false);
  setLink("RECONNECTING", "link-lost");
  scheduleReconnect();
}

async function readStream(body, controller) {
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  let event = {type: "message", data: []};
  let watchdog = setTimeout(() => controller.abort(), SILENCE_MS);
  try {
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      state.lastChunk = Date.now();
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller.abort(), SILENCE_MS);
      buffer += decoder.decode(value, {stream: true});
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === "") {
          if (event.data.length) dispatch(event.type, event.data.join("\n"));
          event = {type: "message", data: []};
          continue;
        }
        if (line.startsWith(":")) continue;  // keep-alive comment
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event.type = value;
        else if (field === "data") event.data.push(value);
        else if (field === "retry" && /^\d+$/.test(value)) state.retryMs = Number(value);
      }
    }
  } finally {
    clearTimeout(watchdog);
  }
}

function dispatch(type, text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return;  // a broken frame must not stop the board
  }
  if (!data || typeof data !== "object") return;
  if (type === "device_update") {
    const whole = state.fresh;
    if (whole) {
      // The first event of every connection carries the whole picture: it replaces the
      // board, so a receiver removed while we were away does not linger.
      state.fresh = false;
      state.receivers.clear();
      state.everLive = true;
      setLive(true);
      setLink("LIVE", "link-live");
    }
    const changed = [];
    for (const receiver of Array.isArray(data.receivers) ? data.receivers : []) {
      if (receiver && typeof receiver.id === "string") {
        state.receivers.set(receiver.id, receiver);
        changed.push(receiver);
      }
    }
    const removed = Array.isArray(data.removed) ? data.removed : [];
    for (const id of removed) state.receivers.delete(id);
    state.lastData = new Date();
    // Most events carry one receiver whose values moved: swap its cards in place. Anything
    // that changes the board's order or size rebuilds it.
    if (whole || removed.length || !patch(changed)) render();
    else renderSummary();
  } else if (type === "status_update") {
    state.health = data;
    renderSummary();
  }
}

// -- board ---------------------------------------------------------------------------------

function lookOf(receiver, channel) {
  const connection = receiver.connection || {};
  if (connection.status === "stopped") return LOOKS.not_monitored;
  if (channel.kind === "iem" && channel.status !== "rx_offline") {
    // An in-ear channel speaks its own words, as on its tile (ui/theme.py IEM_LOOK).
    if (channel.iem && channel.iem.rf_muted) return LOOKS.iem_rf_muted;
    return channel.status === "audio_peak" ? LOOKS.iem_clipping : LOOKS.iem_ok;
  }
  return LOOKS[channel.status] || LOOKS.rx_offline;
}

function duration(minutes) {
  if (typeof minutes !== "number" || !isFinite(minutes) || minutes < 0) return null;
  const whole = Math.round(minutes);
  if (whole < 60) return whole + " min";
  return Math.floor(whole / 60) + "h" + String(whole % 60).padStart(2, "0");
}

function batteryText(channel) {
  const tx = channel.transmitter;
  if (!tx || !tx.battery) return "\u2014";
  const b = tx.battery;
  const parts = [];
  if (typeof b.percent === "number") parts.push(b.percent + "\u202f%");
  else if (typeof b.bars === "number") parts.push(b.bars + "/5");
  const left = duration(b.minutes);
  if (left) parts.push(left);
  else if (b.estimate && duration(b.estimate.minutes)) parts.push("~" + duration(b.estimate.minutes));
  if (b.charging) parts.push("chg");
  return parts.length ? parts.join(" \u00b7 ") : "\u2014";
}

function rfText(channel) {
  const rf = channel.rf || {};
  if (typeof rf.quality_percent === "number") return "RF " + Math.round(rf.quality_percent) + "\u202f%";
  const levels = (Array.isArray(rf.rssi_dbm) ? rf.rssi_dbm : []).filter((v) => typeof v === "number");
  if (levels.length) return "RF " + Math.round(Math.max(...levels)) + " dBm";
  if (typeof rf.quality === "number") return "RF " + rf.quality + "/5";
  return "RF \u2014";
}

function channelsInOrder() {
  const rows = [];
  for (const receiver of state.receivers.values()) {
    for (const channel of Array.isArray(receiver.channels) ? receiver.channels : []) {
      rows.push({receiver, channel});
    }
  }
  rows.sort((a, b) => {
    const sa = typeof a.channel.slot === "number" ? a.channel.slot : Infinity;
    const sb = typeof b.channel.slot === "number" ? b.channel.slot : Infinity;
    if (sa !== sb) return sa - sb;
    const ra = (a.receiver.name || a.receiver.id || "");
    const rb = (b.receiver.name || b.receiver.id || "");
    if (ra !== rb) return ra < rb ? -1 : 1;
    return (a.channel.number || 0) - (b.channel.number || 0);
  });
  return rows;
}

function element(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;  // never innerHTML: names are user text
  return node;
}

function card(receiver, channel) {
  const look = lookOf(receiver, channel);
  const node = element("article", "card");
  node.dataset.channel = String(channel.id);
  node.dataset.status = channel.status || "";
  if (channel.spare) node.classList.add("spare");

  // The band holds the status word alone: on a narrow phone it needs the whole width.
  const status = element("div", "status", look.glyph + " " + look.text);
  status.style.backgroundColor = look.colour;
  if (look.colour === GREY) status.classList.add("on-grey");
  node.append(status);

  const body = element("div", "body");
  const name = element("div", "name");
  if (typeof channel.slot === "number") {
    // A real space after the number, so a long name moves to the next line whole.
    name.append(element("span", "slot", String(channel.slot)), document.createTextNode(" "));
  }
  const title = channel.name || ((receiver.name || receiver.id) + " " + channel.number);
  name.append(document.createTextNode(title));
  if (channel.kind === "iem") name.append(element("span", "tag", "IEM"));
  if (channel.spare) name.append(element("span", "tag", "SPARE"));
  body.append(name);
  if (channel.performer) body.append(element("div", "performer", channel.performer));
  const values = element("div", "values");
  values.append(element("span", "battery", batteryText(channel)));
  values.append(element("span", "rf", rfText(channel)));
  body.append(values);
  node.append(body);
  return node;
}

function placeOf(receiver) {
  // Everything channelsInOrder() sorts by, and which channels there are.
  const channels = Array.isArray(receiver.channels) ? receiver.channels : [];
  return JSON.stringify([receiver.name || receiver.id || "",
                         channels.map((c) => [c.id, c.slot, c.number])]);
}

function render() {
  const rows = channelsInOrder();
  const fragment = document.createDocumentFragment();
  state.cards.clear();
  for (const {receiver, channel} of rows) {
    const node = card(receiver, channel);
    state.cards.set(String(channel.id), node);
    fragment.append(node);
  }
  state.places.clear();
  for (const receiver of state.receivers.values()) state.places.set(receiver.id, placeOf(receiver));
  $("board").replaceChildren(fragment);
  $("empty").hidden = rows.length > 0;
  renderSummary(rows);
}

function patch(receivers) {
  // Replace the cards of receivers whose channels keep their places; false: rebuild instead.
  for (const receiver of receivers) {
    if (state.places.get(receiver.id) !== placeOf(receiver)) return false;
  }
  for (const receiver of receivers) {
    for (const channel of receiver.channels) {
      const id = String(channel.id);
      const node = card(receiver, channel);
      state.cards.get(id).replaceWith(node);
      state.cards.set(id, node);
    }
  }
  return true;
}

function renderSummary(rows) {
  const all = rows || channelsInOrder();
  const attention = all.filter(({channel}) => NEEDS_ATTENTION.has(channel.status) && !channel.spare);
  let text = all.length + " ch";
  if (attention.length) text += " \u00b7 " + attention.length + " urgent";
  if (state.health && state.health.status && state.health.status !== "ok") {
    text += " \u00b7 laptop " + state.health.status;
  }
  $("summary").textContent = text;
}

// -- start ---------------------------------------------------------------------------------

function start() {
  $("login").addEventListener("submit", onLogin);
  state.token = readToken();
  window.addEventListener("hashchange", () => {
    const token = readToken();
    if (token && token !== state.token) {
      state.token = token;
      $("login").hidden = true;
      connect();
    }
  });
  document.addEventListener("visibilitychange", () => {
    // A phone that slept froze our timers; a stream silent that long is dead, so do not
    // wait for the watchdog to notice: reconnect at once.
    if (document.visibilityState === "visible" && state.live &&
        Date.now() - state.lastChunk > SILENCE_MS) {
      setLive(false);
      connect();
    }
  });
  connect();
}

document.addEventListener("DOMContentLoaded", start);
