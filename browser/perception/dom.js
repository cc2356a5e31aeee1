// Runs once per frame (one evaluate) and returns ONE JSON string: returning objects makes
// Playwright serialise value by value, which costs about 5x more (measured).
// Elements found are kept in window.__periscopeNodes so an id resolves to the very element
// observed, and an element that has since left the DOM shows up as stale.
(maxNodes) => {
  const ROLE_BY_TYPE = {
    checkbox: "checkbox", radio: "radio", range: "slider", number: "spinbutton", search: "searchbox",
    submit: "button", button: "button", reset: "button", image: "button", file: "button",
  };
  const INTERACTIVE_ROLES = new Set([
    "button", "link", "tab", "menuitem", "menuitemcheckbox", "menuitemradio", "switch", "checkbox",
    "radio", "option", "combobox", "textbox", "searchbox", "listbox", "slider", "spinbutton", "treeitem",
  ]);
  const KEPT_ATTRIBUTES = [
    "title", "type", "name", "role", "tabindex", "aria-label", "placeholder", "alt", "href",
    "aria-expanded", "autocomplete",
  ];
  const nodes = [];
  const out = [];
  const texts = [];
  let cut = false; // the walk stopped at maxNodes: the rest of the frame was not read
  const clean = (s, n) => (s || "").replace(/\s+/g, " ").trim().slice(0, n);

  function implicitRole(el, tag) {
    switch (tag) {
      case "a": return el.hasAttribute("href") ? "link" : "";
      case "button": case "summary": return "button";
      case "select": return el.multiple ? "listbox" : "combobox";
      case "textarea": return "textbox";
      case "option": return "option";
      case "img": return "img";
      case "input": return ROLE_BY_TYPE[el.type] || (el.type === "hidden" ? "" : "textbox");
    }
    return el.isContentEditable ? "textbox" : "";
  }

  function isInteractive(el, tag, role) {
    if (tag === "input") return el.type !== "hidden";
    if (tag === "a") return el.hasAttribute("href");
    if (tag === "button" || tag === "select" || tag === "textarea" || tag === "summary") return true;
    if (role && INTERACTIVE_ROLES.has(role)) return true;
    if (el.isContentEditable && !(el.parentElement && el.parentElement.isContentEditable)) return true;
    if (el.hasAttribute("onclick")) return true;
    const tabindex = el.getAttribute("tabindex");
    return tabindex !== null && Number(tabindex) >= 0;
  }

  function nameOf(el, tag) {
    const aria = el.getAttribute("aria-label");
    if (aria) return clean(aria, 100);
    const labelledBy = el.getAttribute("aria-labelledby");
    if (labelledBy) {
      const root = el.getRootNode();
      const text = labelledBy.split(/\s+/).map((id) => root.getElementById ? root.getElementById(id) : document.getElementById(id))
        .filter(Boolean).map((n) => n.textContent).join(" ");
      if (text.trim()) return clean(text, 100);
    }
    if (el.labels && el.labels.length) return clean(el.labels[0].textContent, 100);
    if (tag === "input" && (el.type === "submit" || el.type === "button" || el.type === "reset")) return clean(el.value, 100);
    if (tag === "img") return clean(el.alt, 100);
    if (tag === "select" || tag === "textarea" || tag === "input") {
      return clean(el.getAttribute("placeholder") || el.getAttribute("title") || el.getAttribute("name"), 100);
    }
    return clean(el.textContent, 100) || clean(el.getAttribute("title") || el.getAttribute("placeholder"), 100);
  }

  function cssPath(el) {
    const parts = [];
    while (el && el.nodeType === 1) {
      if (el.id && /^[A-Za-z][\w-]*$/.test(el.id)) { parts.unshift("#" + el.id); break; }
      let index = 1;
      for (let s = el.previousElementSibling; s; s = s.previousElementSibling) if (s.tagName === el.tagName) index++;
      parts.unshift(el.tagName.toLowerCase() + ":nth-of-type(" + index + ")");
      el = el.parentElement;
    }
    return parts.join(" > ");
  }

  function dialogOf(el) {
    const dialog = el.closest('[role="dialog"], [role="alertdialog"], dialog[open]');
    if (!dialog) return null;
    const role = dialog.getAttribute("role") || "dialog";
    return role + ":" + (nameOf(dialog, dialog.localName) || "").slice(0, 60);
  }

  function record(el, tag, role, hosts, parent) {
    const rect = el.getBoundingClientRect();
    const attrs = {};
    for (const name of KEPT_ATTRIBUTES) {
      const value = el.getAttribute(name);
      if (value !== null && value !== "") attrs[name] = value.slice(0, 120);
    }
    const item = {
      i: nodes.length, tag, role, name: nameOf(el, tag), attrs,
      x: rect.x, y: rect.y, w: rect.width, h: rect.height,
      css: cssPath(el), hosts, parent, dialog: dialogOf(el),
      // Inside navigation (a sidebar, a header menu): listed after the page's own controls.
      nav: el.closest('nav, aside, header, footer, [role="navigation"], [role="banner"], [role="contentinfo"]') ? 1 : 0,
    };
    if (tag === "input" && (el.type === "checkbox" || el.type === "radio")) item.checked = el.checked;
    if (el.getAttribute("aria-checked")) item.checked = el.getAttribute("aria-checked") === "true";
    if (el.disabled) item.disabled = true;
    if (tag === "input" && el.type === "password") item.password = true;
    nodes.push(el);
    out.push(item);
    return item.i;
  }

  function walk(root, hosts) {
    for (let el = root.firstElementChild; el; el = el.nextElementSibling) visit(el, hosts);
  }

  function visit(el, hosts) {
    if (out.length >= maxNodes) { cut = true; return; }
    const tag = el.localName;
    if (tag === "script" || tag === "style" || tag === "template" || tag === "noscript" || tag === "head") return;
    if (!el.checkVisibility({ checkVisibilityCSS: true })) {
      // A hidden <details> or collapsed menu hides its subtree; nothing below is actionable.
      if (getComputedStyle(el).display === "none") return;
    } else {
      const role = el.getAttribute("role") || implicitRole(el, tag);
      if (isInteractive(el, tag, role)) {
        const rect = el.getBoundingClientRect();
        const tiny = rect.width * rect.height === 0 && !(tag === "input" && (el.type === "checkbox" || el.type === "radio"));
        if (!tiny) {
          const index = record(el, tag, role, hosts, null);
          if (tag === "select") {
            for (const option of el.options) {
              const oi = nodes.length;
              nodes.push(option);
              out.push({ i: oi, tag: "option", role: "option", name: clean(option.textContent, 100),
                         attrs: { value: option.value.slice(0, 120) }, selected: option.selected,
                         x: 0, y: 0, w: 0, h: 0, css: "", hosts, parent: index });
            }
            return;
          }
        }
      } else if (/^h[1-3]$/.test(tag)) {
        texts.push({ before: out.length, text: clean(el.textContent, 120) });
      }
    }
    if (el.shadowRoot) walk(el.shadowRoot, hosts.concat([cssPath(el)]));
    walk(el, hosts);
  }

  walk(document.documentElement, []);
  window.__periscopeNodes = nodes;
  const doc = document.documentElement;
  return JSON.stringify({
    url: location.href, title: document.title, nodes: out, texts, cut,
    viewport: {
      scroll_x: Math.round(window.scrollX), scroll_y: Math.round(window.scrollY),
      viewport_width: window.innerWidth, viewport_height: window.innerHeight,
      total_width: Math.max(doc.scrollWidth, window.innerWidth), total_height: Math.max(doc.scrollHeight, window.innerHeight),
    },
  });
}
