// Step screenshots on the session page. A thumbnail (any [data-enlarge] element) opens the
// screenshot at full size in the page's <dialog>; after the session ends, a range input walks
// through the step screenshots. The server renders each step's caption; this file only chooses
// which one shows. Listeners sit on the document, so fragments swapped in by htmx work too.
(function () {
  "use strict";
  if (window.periscopeSteps) return;
  window.periscopeSteps = true;

  function enlarge(opener) {
    const dialog = document.getElementById("shot-dialog");
    if (!dialog) return;
    const image = dialog.querySelector("img");
    image.src = opener.dataset.enlarge;
    image.alt = opener.dataset.enlargeAlt || "";
    dialog.querySelector("[data-shot-title]").textContent = opener.dataset.enlargeTitle || "Screenshot";
    dialog.showModal();
  }

  function showStep(scrubber, position) {
    const steps = scrubber.querySelectorAll("[data-scrubber-step]");
    const step = steps[position];
    if (!step) return;
    steps.forEach((caption, index) => { caption.hidden = index !== position; });
    const image = scrubber.querySelector("[data-scrubber-image]");
    image.src = step.dataset.src;
    image.alt = step.dataset.alt;
    const opener = scrubber.querySelector("[data-scrubber-open]");
    opener.dataset.enlarge = step.dataset.src;
    opener.dataset.enlargeTitle = step.dataset.title;
    opener.dataset.enlargeAlt = step.dataset.alt;
    const range = scrubber.querySelector("[data-scrubber-range]");
    range.setAttribute("aria-valuetext", step.dataset.title);
    scrubber.querySelector("[data-scrubber-position]").textContent = String(position + 1);
  }

  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-enlarge]");
    if (opener) {
      event.preventDefault();
      enlarge(opener);
      return;
    }
    // A click on the backdrop (the dialog element itself, outside its content) closes it.
    if (event.target.id === "shot-dialog") event.target.close();
  });

  document.addEventListener("input", (event) => {
    const range = event.target.closest("[data-scrubber-range]");
    if (range) showStep(range.closest("[data-scrubber]"), Number(range.value));
  });
})();
