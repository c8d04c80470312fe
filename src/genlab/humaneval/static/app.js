// The rating page: fetch a pair, show its two images, send the rater's choice.
// The token arrives in the link's fragment (/#token=...), is kept in sessionStorage
// and sent as "Authorization: Bearer"; images are fetched with it into blob URLs.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const KEY = "genlab-rater-token";
  const buttons = ["left", "right", "tie"].map($);
  let token = null;
  let pair = null;
  let busy = false;
  let votes = 0;
  let blobs = [];

  function readToken() {
    const match = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
    if (match) {
      sessionStorage.setItem(KEY, match[1]);
      history.replaceState(null, "", location.pathname);  // keep it out of history
    }
    return sessionStorage.getItem(KEY);
  }

  function status(text, error = false) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  }

  function enable(on) {
    buttons.forEach((b) => { b.disabled = !on; });
  }

  function showLogin(message) {
    sessionStorage.removeItem(KEY);
    token = null;
    $("task").hidden = true;
    $("login").hidden = false;
    document.body.dataset.state = "login";
    status(message, Boolean(message));
  }

  async function api(path, options = {}) {
    const headers = Object.assign({ Authorization: "Bearer " + token }, options.headers);
    const response = await fetch(path, Object.assign({}, options, { headers }));
    if (response.status === 401) {
      showLogin("That token was not accepted; paste the token you were given.");
      throw new Error("unauthorised");
    }
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail; } catch (e) { /* not JSON */ }
      throw new Error(`${response.status}: ${detail}`);
    }
    return response;
  }

  async function loadImage(img, url) {
    const blob = await (await api(url)).blob();
    const src = URL.createObjectURL(blob);
    blobs.push(src);
    img.src = src;
    await img.decode();
  }

  async function nextPair() {
    busy = true;
    enable(false);
    document.body.dataset.state = "loading";
    pair = await (await api("/api/pair")).json();
    const old = blobs;
    blobs = [];
    await Promise.all([loadImage($("left-img"), pair.left.image),
                       loadImage($("right-img"), pair.right.image)]);
    old.forEach((u) => URL.revokeObjectURL(u));
    $("prompt").textContent = pair.prompt;
    $("login").hidden = true;
    $("task").hidden = false;
    document.body.dataset.pair = String(pair.pair);
    document.body.dataset.state = "ready";
    busy = false;
    enable(true);
  }

  async function vote(choice) {
    if (busy || !pair) return;
    busy = true;
    enable(false);
    const body = { pair: pair.pair, left: pair.left.sample, right: pair.right.sample, choice };
    await api("/api/vote", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    votes += 1;
    $("count").textContent = `${votes} vote${votes === 1 ? "" : "s"} recorded`;
    status("");
    await nextPair();
  }

  function guard(promise) {
    promise.catch((e) => {
      if (e.message !== "unauthorised") status(`Something went wrong: ${e.message}`, true);
      busy = false;
      if (pair) enable(true);
    });
  }

  buttons.forEach((b) => b.addEventListener("click", () => guard(vote(b.dataset.choice))));
  document.addEventListener("keydown", (e) => {
    const choice = { ArrowLeft: "left", ArrowRight: "right", ArrowDown: "tie" }[e.key];
    if (choice && !$("task").hidden) { e.preventDefault(); guard(vote(choice)); }
  });
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    token = $("token-input").value.trim();
    sessionStorage.setItem(KEY, token);
    guard(nextPair());
  });

  window.addEventListener("hashchange", () => {  // a rater link opened in this tab
    const fresh = readToken();
    if (fresh && fresh !== token) { token = fresh; status(""); guard(nextPair()); }
  });

  token = readToken();
  if (token) guard(nextPair()); else showLogin("");
})();
