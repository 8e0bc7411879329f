"""The emulator's login page (``GET /``) and the page shown after a plain form post.

Self-contained HTML: no external resources. After a login the page stores, as
the real site does, ``localStorage._token`` (the JWT), ``USER_HARD_WARE_INFO``
(an 18-digit device id) and ``UNIQUE_USER_ID`` (a UUID v4), and shows
"Logged in". The inline script runs while the page is parsed, so with
``auto_login`` the token is in localStorage before ``document.readyState`` is
``complete``.
"""

from __future__ import annotations

import json
from typing import Any

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hailuo AI - emulator login</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f4f5f7; color: #1d1d1f; margin: 0; }
  main { max-width: 24rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 12px;
         box-shadow: 0 2px 12px rgba(0,0,0,.08); }
  h1 { margin: 0 0 .25rem; font-size: 1.5rem; }
  .sub { color: #666; margin: 0 0 1.5rem; }
  label { display: block; margin-bottom: .75rem; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; margin-top: .25rem; }
  button { padding: .5rem 1rem; font-size: 1rem; cursor: pointer; }
  #status { margin: 1rem 0; font-weight: 600; }
  #error { color: #b00020; }
</style>
</head>
<body>
<main>
  <h1>Hailuo AI</h1>
  <p class="sub">Local emulator (no real account involved)</p>
  <div id="status">Not logged in</div>
  <div id="error"></div>
  <form id="login-form" method="post" action="/login">
    <label>Username <input id="username" name="username" autocomplete="username" value="__USERNAME__"></label>
    <button id="login" type="submit">Log in</button>
  </form>
  <button id="logout" type="button" hidden>Log out</button>
</main>
<script>
(function () {
  var CONFIG = __CONFIG__;
  var statusEl = document.getElementById("status");
  var errorEl = document.getElementById("error");
  var form = document.getElementById("login-form");
  var logoutBtn = document.getElementById("logout");

  function uuid4() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function nameOf(token) {
    try {
      var p = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      while (p.length % 4) { p += "="; }
      var bytes = Uint8Array.from(atob(p), function (c) { return c.charCodeAt(0); });
      return JSON.parse(new TextDecoder().decode(bytes)).user.name;
    } catch (e) { return ""; }
  }
  function show() {
    var token = localStorage.getItem("_token");
    if (token) {
      var name = nameOf(token);
      statusEl.textContent = "Logged in" + (name ? " as " + name : "");
      form.hidden = true; logoutBtn.hidden = false;
    } else {
      statusEl.textContent = "Not logged in";
      form.hidden = false; logoutBtn.hidden = true;
    }
  }
  function store(login) {
    localStorage.setItem("USER_HARD_WARE_INFO", login.deviceID);
    localStorage.setItem("UNIQUE_USER_ID", login.uuid || uuid4());
    localStorage.setItem("_token", login.token);
    document.cookie = "hailuo_user=" + encodeURIComponent(login.userID) + "; path=/; SameSite=Lax";
    show();
  }
  window.__hailuoEmulatorStore = store;

  if (CONFIG.sessionValid === false) {
    localStorage.removeItem("_token");
  }
  if (CONFIG.login) {
    store(CONFIG.login);
  }
  show();

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    errorEl.textContent = "";
    var username = document.getElementById("username").value.trim();
    fetch("/login", {
      method: "POST",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify({username: username}),
      credentials: "same-origin"
    }).then(function (r) { return r.json(); }).then(function (body) {
      if (body.statusInfo && body.statusInfo.code === 0) { store(body.data); }
      else { errorEl.textContent = (body.statusInfo && body.statusInfo.message) || "Login failed"; }
    }).catch(function () { errorEl.textContent = "Login failed"; });
  });
  logoutBtn.addEventListener("click", function () {
    localStorage.removeItem("_token");
    show();
  });
})();
</script>
</body>
</html>
"""


def _script_json(value: Any) -> str:
    """JSON that is safe inside an inline <script>."""
    return (json.dumps(value, ensure_ascii=True)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;"))


def render(*, login: dict[str, Any] | None = None, session_valid: bool | None = None, username: str = "") -> str:
    """The page. ``login`` (token, deviceID, uuid, userID, name) is stored right away (auto-login or a plain form
    post); ``session_valid=False`` clears a stale ``_token`` first."""
    config = {"login": login, "sessionValid": session_valid}
    return _TEMPLATE.replace("__CONFIG__", _script_json(config)).replace("__USERNAME__", _attr(username))
