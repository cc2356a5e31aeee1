// The agent run page. The server renders every step (htmx refreshes the list when the session's
// socket brings an agent event, see live.js); this file only keeps the newest step in sight: when
// the list was scrolled to its end (or had not been scrolled at all), it stays at its end as new
// steps arrive, and a person reading an earlier step is left where they are. A finished run's
// list opens at its first step.
(function () {
  "use strict";
  if (window.periscopeAgentRun) return;
  window.periscopeAgentRun = true;

  const NEAR_END_PX = 48;
  let follow = true;

  function list() {
    return document.querySelector("[data-run-steps]");
  }

  function atEnd(element) {
    return element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_END_PX;
  }

  function toEnd() {
    const element = list();
    if (element && element.hasAttribute("data-follow")) element.scrollTop = element.scrollHeight;
  }

  document.addEventListener("scroll", (event) => {
    if (event.target === list()) follow = atEnd(event.target);
  }, true);

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target === list() && follow) toEnd();
  });

  // A step recorded after the server rendered this page but before the live view's socket joined
  // the session's group would never be announced: once the socket is live, refresh once.
  function refreshWhenLive() {
    const view = document.querySelector("[data-live-socket]");
    if (!view) return;
    const observer = new MutationObserver(() => {
      if (view.dataset.state !== "live") return;
      observer.disconnect();
      document.body.dispatchEvent(new CustomEvent("live-changed"));
    });
    observer.observe(view, { attributes: true, attributeFilter: ["data-state"] });
  }

  function start() {
    toEnd();
    refreshWhenLive();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
