// A new API key arrives in the URL fragment of the redirect after "Create API key": fragments
// never reach the server, so the key is kept nowhere on it. Show it once, then drop it from the
// address bar and the history entry, so a reload or "back" cannot show it again.
(function () {
  const match = location.hash.match(/^#new-key=(nk_[A-Za-z0-9_.\-]+)$/);
  if (!match) return;
  history.replaceState(null, "", location.pathname + location.search);
  const template = document.getElementById("new-key-reveal");
  const slot = document.getElementById("new-key-slot");
  if (!template || !slot) return;
  const reveal = template.content.cloneNode(true);
  reveal.querySelector("#new-key").textContent = match[1];
  slot.replaceWith(reveal);
})();
