// Copy buttons: <button data-copy="value"> puts the value on the clipboard and says so briefly.
// One listener on the document, so buttons swapped in by htmx work too.
(function () {
  if (window.periscopeCopy) return;
  window.periscopeCopy = true;

  function fallbackCopy(text) {
    // navigator.clipboard needs a secure context (https or localhost).
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }

  document.addEventListener("click", async function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const text = button.dataset.copy;
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch (error) {
      copied = fallbackCopy(text);
    }
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = copied ? "Copied" : "Copy failed";
    button.classList.toggle("is-copied", copied);
    clearTimeout(button.copyTimer);
    button.copyTimer = setTimeout(function () {
      button.textContent = label;
      button.classList.remove("is-copied");
    }, 1500);
  });
})();
