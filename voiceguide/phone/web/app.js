// voiceguide's phone page: the library, and a session's glanceable view driven by audio.currentTime.
// Everything it shows is precomputed by voiceguide (site.py): a session's JSON holds "frames", the
// player's status at every change, so this script only finds the frame for the time and counts down.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { session: null, stem: null, frame: -1, chapter: -1, wake: null };

function clock(seconds, round = Math.ceil) { // a countdown rounds up, to reach 0:00 at its end
  const whole = Math.max(round(seconds - 1e-9), 0);
  return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
}
const length = (seconds) => clock(seconds, Math.round);
const elapsed = (seconds) => clock(seconds, Math.floor); // as the audio element counts

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

async function showLibrary() {
  const audio = $("audio");
  audio.pause();
  const library = await getJSON("library.json");
  const list = $("sessions");
  list.replaceChildren(...library.sessions.map((s) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = "#" + encodeURIComponent(s.stem);
    const title = document.createElement("strong");
    title.textContent = s.title;
    const about = document.createElement("span");
    about.className = "about";
    about.textContent = length(s.duration) + " \u00b7 " + s.chapters + " chapter" + (s.chapters === 1 ? "" : "s");
    link.append(title, about);
    if (s.summary) {
      const summary = document.createElement("p");
      summary.textContent = s.summary;
      link.append(summary);
    }
    item.append(link);
    return item;
  }));
  showToday(library);
  const feed = new URL(library.feed, location.href);
  feed.hash = "";
  $("feed-url").textContent = feed.href;
  // itpc: opens the podcast app on an iPhone (Apple Podcasts) and on Android (AntennaPod) alike
  $("feed-app").href = feed.href.replace(/^https?:/, "itpc:");
  document.title = "voiceguide";
  show("library");
}

// ------------------------------------------------------------------ one session

// A programme's day (library.today) above the list, and its calendar (library.calendar).
function showToday(library) {
  const today = library.today;
  $("today").hidden = !today;
  if (!today) return;
  $("today-heading").textContent = today.heading;
  $("today-sessions").replaceChildren(...today.sessions.map((s) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = "#" + encodeURIComponent(s.stem);
    const title = document.createElement("strong");
    title.textContent = s.title;
    const about = document.createElement("span");
    about.className = "about";
    about.textContent = [length(s.duration), ...s.values].join(" \u00b7 ");
    link.append(title, about);
    item.append(link);
    return item;
  }));
  $("calendar").hidden = !library.calendar;
  if (library.calendar) $("calendar").href = new URL(library.calendar, location.href).href;
}

async function showSession(stem) {
  const session = await getJSON(encodeURIComponent(stem) + ".json");
  state.session = session;
  state.stem = stem;
  state.frame = state.chapter = -1;
  document.title = session.title + " \u00b7 voiceguide";
  $("title").textContent = session.title;
  const audio = $("audio");
  audio.src = encodeURIComponent(stem) + ".mp3";
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
    button.addEventListener("click", () => jump(c.startTime, true));
    item.append(button);
    return item;
  }));
  show("session");
  update();
}

function jump(seconds, play) {
  const audio = $("audio");
  audio.currentTime = Math.max(0, Math.min(seconds, (audio.duration || state.session.duration) - 0.05));
  if (play) audio.play().catch(() => {});
  update();
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

function update() {
  const session = state.session;
  if (!session) return;
  const audio = $("audio");
  const t = audio.currentTime || 0;
  const total = Number.isFinite(audio.duration) ? audio.duration : session.duration;
  const i = search(session.frames, "t", t);
  const f = session.frames[Math.max(i, 0)] || {};
  if (i !== state.frame) {
    state.frame = i;
    $("stepno").textContent = f.n ? "Step " + f.n + " of " + session.steps : "";
    $("side").textContent = f.side ? f.side + " side" : "";
    $("step").textContent = f.step || session.title;
    $("label").textContent = f.label || "";
    $("rep").textContent = f.count || "";
    $("say").textContent = f.say ? "\u201c" + f.say + "\u201d" : "";
    $("next").textContent = "Next: " + (f.next || "the end");
  }
  $("countdown").textContent = f.end != null && t < f.end ? clock(f.end - t) : "";
  $("bar").style.width = (total ? Math.min(t / total, 1) * 100 : 0).toFixed(2) + "%";
  $("elapsed").textContent = elapsed(t);
  $("left").textContent = clock(total - t) + " left";
  $("play").textContent = audio.paused ? "Play" : "Pause";
  const c = chapterAt(t);
  if (c !== state.chapter) {
    state.chapter = c;
    for (const button of $("chapters").querySelectorAll("button")) {
      button.classList.toggle("current", Number(button.dataset.index) === c);
    }
    mediaMetadata(c >= 0 ? session.chapters[c].title : session.title);
  }
  if ("mediaSession" in navigator && Number.isFinite(audio.duration) && navigator.mediaSession.setPositionState) {
    try {
      navigator.mediaSession.setPositionState({ duration: audio.duration, position: Math.min(t, audio.duration),
        playbackRate: audio.playbackRate || 1 });
    } catch (e) { /* a position the browser refuses: the lock screen keeps its last one */ }
  }
}

// ------------------------------------------------------------------ lock screen and screen wake

function mediaMetadata(chapter) {
  if (!("mediaSession" in navigator) || typeof MediaMetadata === "undefined") return;
  navigator.mediaSession.metadata = new MediaMetadata({ title: chapter, artist: state.session.title, album: "voiceguide" });
}

function mediaActions() {
  if (!("mediaSession" in navigator)) return;
  const audio = $("audio");
  const actions = {
    play: () => audio.play(),
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

async function keepAwake() {
  const audio = $("audio");
  const wanted = $("wake").checked && !audio.paused && document.visibilityState === "visible";
  if (wanted && !state.wake && "wakeLock" in navigator) {
    try {
      state.wake = await navigator.wakeLock.request("screen");
      state.wake.addEventListener("release", () => { state.wake = null; });
    } catch (e) { $("wake-note").textContent = "(not allowed here: " + e.message + ")"; }
  } else if (!wanted && state.wake) {
    state.wake.release();
    state.wake = null;
  }
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

function start() {
  const audio = $("audio");
  for (const event of ["timeupdate", "seeked", "loadedmetadata", "play", "pause", "ended"]) {
    audio.addEventListener(event, update);
  }
  for (const event of ["play", "pause", "ended"]) audio.addEventListener(event, keepAwake);
  let ticking = null;
  audio.addEventListener("play", () => { ticking = ticking || setInterval(update, 250); });
  audio.addEventListener("pause", () => { clearInterval(ticking); ticking = null; });
  document.addEventListener("visibilitychange", () => { update(); keepAwake(); });
  $("wake").addEventListener("change", keepAwake);
  if (!("wakeLock" in navigator)) {
    $("wake").disabled = true;
    $("wake").checked = false;
    $("wake-note").textContent = window.isSecureContext ? "(this browser cannot)"
      : "(browsers allow this only over HTTPS; turn off auto-lock instead)";
  }
  $("play").addEventListener("click", () => (audio.paused ? audio.play().catch(() => {}) : audio.pause()));
  $("prev").addEventListener("click", () => stepChapter(-1));
  $("nextch").addEventListener("click", () => stepChapter(1));
  mediaActions();
  window.addEventListener("hashchange", route);
  route();
}

start();
