// voiceguide's phone page: the library, and a session's focus view driven by audio.currentTime.
// Everything it shows is precomputed by voiceguide (site.py): a session's JSON holds "frames", the
// player's status at every change, and "breaths", the paced breaths of the plan, so this script only
// finds the frame and the breath for the time, counts down, and grows or shrinks the breathing guide.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { session: null, stem: null, frame: -1, chapter: -1, wake: null, said: null, seeking: false,
  savedAt: -1, offered: -1, ratingKey: null, poll: 0 };
const ARTWORK = [ // written by site.py beside the page
  { src: "icon-192.png", sizes: "192x192", type: "image/png" },
  { src: "icon-512.png", sizes: "512x512", type: "image/png" },
  { src: "artwork.jpg", sizes: "1400x1400", type: "image/jpeg" },
];
const BREATH_SMALL = 0.42, BREATH_LARGE = 1; // the guide's scale at the end of an exhale and of an inhale

function clock(seconds, round = Math.ceil) { // a countdown rounds up, to reach 0:00 at its end
  const whole = Math.max(round(seconds - 1e-9), 0);
  return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
}
const length = (seconds) => clock(seconds, Math.round);
const elapsed = (seconds) => clock(seconds, Math.floor); // as a media player counts

function setText(id, text) { // only a real change touches the page (and so the accessibility tree)
  const element = $(id);
  if (element.textContent !== text) element.textContent = text;
}

async function getJSON(url) {
  const answer = await fetch(url, { cache: "no-store" });
  if (!answer.ok) throw new Error(url + ": " + answer.status);
  return answer.json();
}

function show(id) {
  for (const section of ["library", "session"]) $(section).hidden = section !== id;
  $("error").hidden = true;
}

function fail(error) {
  $("error").textContent = "Could not load: " + error.message;
  $("error").hidden = false;
}

// ------------------------------------------------------------------ library

const POLL_MS = 2000; // while sessions are being made, the list asks again this often

function beingMade(s) { // a session voiceguide serve is still making: listed, not playable yet
  const item = document.createElement("li");
  const card = document.createElement("div");
  card.className = "making";
  const title = document.createElement("strong");
  title.textContent = s.title;
  const about = document.createElement("span");
  about.className = "about";
  const percent = Math.round(100 * s.progress);
  about.textContent = "Being made" + (percent > 0 ? " \u00b7 " + percent + "%" : "\u2026");
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = percent;
  bar.setAttribute("aria-label", s.title + ": being made");
  card.append(title, about, bar);
  item.append(card);
  return item;
}

async function showLibrary() {
  const audio = $("audio");
  audio.pause();
  state.session = null;
  clearTimeout(state.poll);
  const library = await getJSON("library.json");
  if (state.session) return; // a session was opened meanwhile
  const list = $("sessions");
  list.replaceChildren(...library.sessions.map((s) => {
    if (s.making) return beingMade(s);
    const chapters = s.chapters + " chapter" + (s.chapters === 1 ? "" : "s");
    return sessionItem(s, [length(s.duration), chapters], s.summary);
  }));
  showToday(library);
  const feed = new URL(library.feed, location.href);
  feed.hash = "";
  $("feed-url").textContent = feed.href;
  // itpc: opens the podcast app on an iPhone (Apple Podcasts) and on Android (AntennaPod) alike
  $("feed-app").href = feed.href.replace(/^https?:/, "itpc:");
  document.title = "voiceguide";
  show("library");
  if (library.sessions.some((s) => s.making)) { // each becomes a link when it is ready
    state.poll = setTimeout(() => { if (!$("library").hidden) showLibrary().catch(fail); }, POLL_MS);
  }
}

// A session in a list: a link to it, its title, what to know about it (joined by dots), a summary.
function sessionItem(s, about, summary) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = "#" + encodeURIComponent(s.stem);
  const title = document.createElement("strong");
  title.textContent = s.title;
  const line = document.createElement("span");
  line.className = "about";
  line.textContent = about.join(" \u00b7 ");
  link.append(title, line);
  if (summary) {
    const text = document.createElement("p");
    text.textContent = summary;
    link.append(text);
  }
  item.append(link);
  return item;
}

// ------------------------------------------------------------------ one session

// A programme's day (library.today) above the list, and its calendar (library.calendar).
function showToday(library) {
  const today = library.today;
  $("today").hidden = !today;
  if (!today) return;
  $("today-heading").textContent = today.heading;
  $("today-sessions").replaceChildren(...today.sessions.map((s) => sessionItem(s, [length(s.duration), ...s.values])));
  $("calendar").hidden = !library.calendar;
  if (library.calendar) $("calendar").href = new URL(library.calendar, location.href).href;
}

async function showSession(stem) {
  clearTimeout(state.poll);
  const session = await getJSON(encodeURIComponent(stem) + ".json");
  state.session = session;
  state.stem = stem;
  state.frame = state.chapter = -1;
  state.said = null;
  document.title = session.title + " \u00b7 voiceguide";
  $("title").textContent = session.title;
  const audio = $("audio");
  audio.src = encodeURIComponent(stem) + ".mp3";
  $("seek").max = String(Math.round(session.duration));
  $("chapters").replaceChildren(...session.chapters.map((c, i) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.index = i;
    const name = document.createElement("span");
    name.textContent = c.title;
    const at = document.createElement("span");
    at.className = "at";
    at.textContent = elapsed(c.startTime);
    button.append(name, at);
    button.addEventListener("click", () => { hideResume(); jump(c.startTime, true); });
    item.append(button);
    return item;
  }));
  finished(false);
  offerResume();
  show("session");
  update();
}

function jump(seconds, play) {
  const audio = $("audio");
  audio.currentTime = Math.max(0, Math.min(seconds, (audio.duration || state.session.duration) - 0.05));
  if (play) start();
  update();
}

function start() { // a tap on Play (or Go on, or a chapter): the sound and, over plain http, the screen-keeper
  const audio = $("audio");
  if (!$("finished").hidden) jump(0, false);
  audio.play().catch(() => {});
  if ($("wake").checked && !("wakeLock" in navigator)) $("awake").play().catch(() => {});
}

function search(list, key, t) { // the last item whose key is at or before t (to the ms: times are in ms,
  let lo = 0, hi = list.length - 1, found = -1; // and a seek to 267.65 reads back as 267.649998)
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid][key] <= t + 1e-3) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

function chapterAt(t) { return search(state.session.chapters, "startTime", t); }

function stepChapter(direction) {
  const chapters = state.session.chapters;
  const t = $("audio").currentTime;
  let i = chapterAt(t);
  if (direction < 0 && i >= 0 && t - chapters[i].startTime > 3) direction = 0; // back: this chapter's start first
  i = Math.max(0, Math.min(i + direction, chapters.length - 1));
  if (chapters.length) jump(chapters[i].startTime, !$("audio").paused);
}

// What a frame says, in words: "Exercise 2 of 4 · Round 2 of 3 · Left side", the step, the phase as it
// is said, the big number (a countdown, or the rep during reps) and what goes under it.
function words(f, session) {
  const rest = f.label === "Rest";
  const where = [];
  if (!rest) {
    if (f.ex) where.push("Exercise " + f.ex[0] + " of " + f.ex[1]);
    if (f.round) where.push("Round " + f.round[0] + " of " + f.round[1]);
    if (f.side) where.push(f.side.charAt(0).toUpperCase() + f.side.slice(1) + " side");
  }
  const rep = f.count && f.count.startsWith("Rep ") ? f.count.slice(4).split(" of ") : null;
  return {
    where: where.join(" \u00b7 "),
    step: rest ? "Rest" : (f.step || session.title),
    label: rest ? "" : (f.label || ""),
    rep,
    under: rest ? (f.next ? "Next: " + f.next : "") : rep ? "of " + rep[1] : (f.count || ""),
    say: f.say ? "\u201c" + f.say + "\u201d" : "",
    next: f.next && !rest ? "Next: " + f.next : "", // in a rest it stands under the countdown
  };
}

function update() {
  const session = state.session;
  if (!session) return;
  const audio = $("audio");
  const t = audio.currentTime || 0;
  const total = Number.isFinite(audio.duration) ? audio.duration : session.duration;
  const i = search(session.frames, "t", t);
  const f = session.frames[Math.max(i, 0)] || {};
  const ready = t < 0.05 && audio.paused; // before the start: what the session is, and how long
  const w = ready ? { where: "", step: session.title, label: "", rep: null, under: "Tap Play to start",
    say: session.summary || "", next: f.next ? "First: " + f.next : "" } : words(f, session);
  const key = ready ? "ready" : i;
  if (key !== state.frame) {
    state.frame = key;
    setText("where", w.where);
    setText("step", w.step);
    setText("label", w.label);
    setText("rep", w.under);
    setText("say", w.say);
    setText("next", w.next);
    const said = [w.step, w.where].filter(Boolean).join(", ");
    if (state.said !== null && said !== state.said) setText("announce", said); // step changes only
    state.said = said;
  }
  setText("big", ready ? length(session.duration) : w.rep ? w.rep[0] : (f.end != null && t < f.end ? clock(f.end - t) : ""));
  breathe(t);
  if (!state.seeking) $("seek").value = String(Math.round(t));
  const left = clock(total - t) + " left";
  setText("clock", left);
  const where = elapsed(t) + " of " + length(total);
  if ($("seek").getAttribute("aria-valuetext") !== where) $("seek").setAttribute("aria-valuetext", where);
  setText("play", audio.paused ? "Play" : "Pause");
  const c = chapterAt(t);
  if (c !== state.chapter) {
    state.chapter = c;
    for (const button of $("chapters").querySelectorAll("button")) {
      const current = Number(button.dataset.index) === c;
      button.classList.toggle("current", current);
      if (current) button.setAttribute("aria-current", "step"); else button.removeAttribute("aria-current");
    }
    mediaMetadata(c >= 0 ? session.chapters[c].title : session.title);
  }
  remember(t);
  if ("mediaSession" in navigator && Number.isFinite(audio.duration) && navigator.mediaSession.setPositionState) {
    try {
      navigator.mediaSession.setPositionState({ duration: audio.duration, position: Math.min(t, audio.duration),
        playbackRate: audio.playbackRate || 1 });
    } catch (e) { /* a position the browser refuses: the lock screen keeps its last one */ }
  }
}

// ------------------------------------------------------------------ the breathing guide

function breathe(t) { // grows over each inhale and shrinks over each exhale, at the plan's own times
  const breaths = state.session.breaths || [];
  let lo = 0, hi = breaths.length - 1, k = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (breaths[mid][0] <= t + 1e-3) { k = mid; lo = mid + 1; } else hi = mid - 1;
  }
  const guide = $("breath");
  let scale = BREATH_SMALL, phase = "";
  if (k >= 0 && t < breaths[k][1]) {
    const [from, to, way] = breaths[k];
    const p = Math.min(Math.max((t - from) / (to - from), 0), 1);
    const eased = 0.5 - 0.5 * Math.cos(Math.PI * p); // slow at both ends, as a breath is
    scale = way === "in" ? BREATH_SMALL + (BREATH_LARGE - BREATH_SMALL) * eased
      : BREATH_LARGE - (BREATH_LARGE - BREATH_SMALL) * eased;
    phase = way;
  } else if (k >= 0 && t - breaths[k][1] < 2 && breaths[k][2] === "in") {
    scale = BREATH_LARGE; // held after an inhale until the next cue
    phase = "held";
  }
  if (guide.dataset.phase !== phase) guide.dataset.phase = phase;
  guide.style.transform = "scale(" + scale.toFixed(4) + ")";
}

function animate() {
  update();
  if (!$("audio").paused) requestAnimationFrame(animate);
}

// ------------------------------------------------------------------ resume and the finished view

const positionKey = () => "voiceguide.position." + state.stem;

function remember(t) {
  if (Math.abs(t - state.savedAt) < 2 && !$("audio").paused) return;
  state.savedAt = t;
  try {
    if (t > 5 && t < state.session.duration - 5) localStorage.setItem(positionKey(), t.toFixed(1));
  } catch (e) { /* private mode: no resume, nothing else lost */ }
}

function forget() {
  try { localStorage.removeItem(positionKey()); } catch (e) { /* as above */ }
}

function offerResume() {
  let at = NaN;
  try { at = Number(localStorage.getItem(positionKey())); } catch (e) { /* as above */ }
  const offer = Number.isFinite(at) && at > 5 && at < state.session.duration - 5;
  $("resume").hidden = !offer;
  if (offer) {
    $("resume-go").textContent = "Go on from " + elapsed(at);
    $("resume-go").dataset.at = String(at);
  }
  state.savedAt = state.offered = offer ? at : -1;
}

function hideResume() { $("resume").hidden = true; }

async function finished(done) {
  $("focus").hidden = done;
  $("finished").hidden = !done;
  if (!done) return;
  forget();
  setText("announce", "Finished. Well done.");
  state.said = ""; // a new start announces its first step again
  setText("done-title", state.session.title);
  setText("done-length", length(state.session.duration));
  $("rate-note").textContent = "";
  for (const button of $("ratings").querySelectorAll("button")) button.setAttribute("aria-pressed", "false");
  $("rating").hidden = true;
  try { // the server keeps ratings (serve); a static folder or an older server has no key: no buttons
    const answer = await fetch("rating-key", { cache: "no-store" });
    const key = answer.ok ? (await answer.json()).key : null;
    state.ratingKey = typeof key === "string" && key ? key : null;
  } catch (e) { state.ratingKey = null; }
  $("rating").hidden = state.ratingKey === null;
}

async function rate(n, button) {
  for (const other of $("ratings").querySelectorAll("button")) other.setAttribute("aria-pressed", String(other === button));
  $("rate-note").textContent = "";
  let saved = false;
  try {
    const answer = await fetch("rating", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session: state.stem, rating: n, key: state.ratingKey }) });
    saved = answer.status === 204;
  } catch (e) { /* not saved: said below */ }
  $("rate-note").textContent = saved ? "Saved" : "Could not save the rating; try again later.";
}

// ------------------------------------------------------------------ lock screen and screen wake

function mediaMetadata(chapter) {
  if (!("mediaSession" in navigator) || typeof MediaMetadata === "undefined") return;
  const artwork = ARTWORK.map((a) => ({ ...a, src: new URL(a.src, location.href).href }));
  navigator.mediaSession.metadata = new MediaMetadata({ title: chapter, artist: state.session.title, album: "voiceguide",
    artwork });
}

function mediaActions() {
  if (!("mediaSession" in navigator)) return;
  const audio = $("audio");
  const actions = {
    play: () => start(),
    pause: () => audio.pause(),
    previoustrack: () => stepChapter(-1),
    nexttrack: () => stepChapter(1),
    seekto: (d) => jump(d.seekTime, !audio.paused),
    seekbackward: (d) => jump(audio.currentTime - (d.seekOffset || 10), !audio.paused),
    seekforward: (d) => jump(audio.currentTime + (d.seekOffset || 10), !audio.paused),
  };
  for (const [action, handler] of Object.entries(actions)) {
    try { navigator.mediaSession.setActionHandler(action, handler); } catch (e) { /* not supported here */ }
  }
}

// A Wake Lock where the browser gives one (https, localhost); else, as on a plain-http LAN address, a
// one-second blank video, muted, inline and looping, played while the session plays: phones keep the
// screen on for a playing video (the nosleep.js technique).
async function keepAwake() {
  const audio = $("audio"), video = $("awake");
  const wanted = $("wake").checked && !audio.paused && !audio.ended && document.visibilityState === "visible";
  let how = "off";
  if (wanted && "wakeLock" in navigator) {
    try {
      if (!state.wake) {
        state.wake = await navigator.wakeLock.request("screen");
        state.wake.addEventListener("release", () => { state.wake = null; });
      }
      how = "wake-lock";
    } catch (e) { how = "video"; }
  } else if (wanted) {
    how = "video";
  }
  if (how !== "wake-lock" && state.wake) {
    state.wake.release().catch(() => {});
    state.wake = null;
  }
  if (how === "video" && video.paused) video.play().catch(() => {});
  if (how !== "video" && !video.paused) video.pause();
  document.documentElement.dataset.awake = how;
}

// ------------------------------------------------------------------ start

function route() {
  const stem = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  if (!stem) return showLibrary().catch(fail);
  showSession(stem).catch(() => showLibrary().then(() => { // an old link: the list, and why
    $("error").textContent = "There is no session \u201c" + stem + "\u201d here now; these are the sessions.";
    $("error").hidden = false;
  }).catch(fail));
}

function init() {
  const audio = $("audio");
  for (const event of ["timeupdate", "seeked", "loadedmetadata", "play", "pause"]) audio.addEventListener(event, update);
  for (const event of ["play", "pause", "ended"]) audio.addEventListener(event, keepAwake);
  audio.addEventListener("play", () => { hideResume(); if (!$("finished").hidden) finished(false); animate(); });
  audio.addEventListener("pause", () => { remember(audio.currentTime); });
  audio.addEventListener("seeked", () => { if (Math.abs(audio.currentTime - state.offered) > 1) hideResume(); });
  window.addEventListener("pagehide", () => { if (state.session) remember($("audio").currentTime); });
  audio.addEventListener("ended", () => { update(); finished(true); });
  document.addEventListener("visibilitychange", () => { update(); keepAwake(); });
  $("wake").addEventListener("change", keepAwake);
  $("wake-note").textContent = "wakeLock" in navigator ? "This browser keeps the screen on while a session plays."
    : "Over this plain-http address the page keeps the screen on with a silent video while a session plays.";
  $("play").addEventListener("click", () => { if (audio.paused) { hideResume(); start(); } else audio.pause(); });
  $("prev").addEventListener("click", () => stepChapter(-1));
  $("nextch").addEventListener("click", () => stepChapter(1));
  $("seek").addEventListener("input", () => { state.seeking = true; jump(Number($("seek").value), !audio.paused); });
  $("seek").addEventListener("change", () => { state.seeking = false; });
  $("resume-go").addEventListener("click", () => { hideResume(); jump(Number($("resume-go").dataset.at), true); });
  $("resume-restart").addEventListener("click", () => { hideResume(); forget(); jump(0, true); });
  $("again").addEventListener("click", () => { finished(false); jump(0, true); });
  $("ratings").replaceChildren(...Array.from({ length: 11 }, (_, n) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = String(n);
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", () => rate(n, button));
    return button;
  }));
  mediaActions();
  window.addEventListener("hashchange", route);
  route();
}

init();
