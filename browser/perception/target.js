// Describes one element so that a later, fresh load of the page finds it again without observe
// ids: its role and accessible name, and selectors to try, most stable first. Each selector is
// pre-checked here to match exactly this element within its own root (document or shadow root);
// the caller then checks the survivors with Playwright's own engine, which is what a replay uses.
//
// Only attributes an author writes are read (test ids, id, name, aria-label, placeholder, title,
// alt, href): never `value`, and never the text of a field, so what was typed into a field
// (a vault secret included) cannot end up in a selector.
(el) => {
  const TEST_ATTRIBUTES = ["data-testid", "data-test-id", "data-test", "data-qa", "data-cy"];
  const DESCRIBING_ATTRIBUTES = ["aria-label", "placeholder", "title", "alt"];
  const ROLE_BY_TYPE = {
    checkbox: "checkbox", radio: "radio", range: "slider", number: "spinbutton", search: "searchbox",
    submit: "button", button: "button", reset: "button", image: "button",
  };
  // Roles whose name comes from their content; every other element is named only by labels and
  // attributes (a text field's content is what was typed).
  const NAMED_BY_CONTENT = new Set([
    "button", "link", "tab", "menuitem", "menuitemcheckbox", "menuitemradio", "option", "treeitem",
    "heading", "cell", "columnheader", "rowheader", "switch", "tooltip",
  ]);
  const MAX_NAME = 80;
  const clean = (s) => (s || "").replace(/\s+/g, " ").trim();
  const quoted = (v) => '"' + CSS.escape(v) + '"';

  // Ids and test ids that a framework generates change from one load to the next.
  function generated(v) {
    return !v || v.length > 64 || /\d{3,}/.test(v) || /:/.test(v) || /^\d/.test(v)
      || (/[0-9a-f]{8,}/i.test(v) && /\d/.test(v))
      || /^(ember|ext-gen|yui_|react-|radix-|headlessui-|mui-|rc-|cdk-|mat-|ng-|__)/i.test(v);
  }

  function isEntry(e) {
    const t = e.localName;
    return t === "input" || t === "textarea" || t === "select" || e.isContentEditable;
  }

  // The text under `node`, leaving out fields (their content is what was typed) and `skip`.
  function textOf(node, skip) {
    let text = "";
    for (const child of node.childNodes) {
      if (child.nodeType === 3) text += child.data;
      else if (child.nodeType === 1 && child !== skip && !isEntry(child)) text += " " + textOf(child, skip) + " ";
    }
    return text;
  }

  function roleOf(e) {
    const explicit = clean(e.getAttribute("role")).split(" ")[0];
    if (explicit) return explicit;
    const t = e.localName;
    switch (t) {
      case "a": case "area": return e.hasAttribute("href") ? "link" : "";
      case "button": return "button";
      case "select": return e.multiple || e.size > 1 ? "listbox" : "combobox";
      case "textarea": return "textbox";
      case "option": return "option";
      case "img": return e.getAttribute("alt") === "" ? "" : "img";
      case "h1": case "h2": case "h3": case "h4": case "h5": case "h6": return "heading";
      case "input": {
        const type = (e.getAttribute("type") || "text").toLowerCase();
        if (type === "hidden" || type === "file" || type === "color" || type === "date") return "";
        if (ROLE_BY_TYPE[type]) return ROLE_BY_TYPE[type];
        return e.hasAttribute("list") ? "combobox" : "textbox";
      }
    }
    return e.isContentEditable ? "textbox" : "";
  }

  function nameOf(e, role) {
    const root = e.getRootNode();
    const labelledBy = clean(e.getAttribute("aria-labelledby")).split(" ").filter(Boolean);
    if (labelledBy.length) {
      const text = clean(labelledBy.map((id) => {
        const n = root.getElementById ? root.getElementById(id) : null;
        return n && !isEntry(n) ? textOf(n, e) : "";
      }).join(" "));
      if (text) return text;
    }
    const aria = clean(e.getAttribute("aria-label"));
    if (aria) return aria;
    if (e.labels && e.labels.length) {
      const text = clean(Array.from(e.labels).map((l) => textOf(l, e)).join(" "));
      if (text) return text;
    }
    if (e.localName === "img") return clean(e.getAttribute("alt"));
    if (!isEntry(e) && NAMED_BY_CONTENT.has(role)) {
      const text = clean(textOf(e, null));
      if (text) return text;
    }
    return clean(e.getAttribute("title") || (isEntry(e) ? e.getAttribute("placeholder") : ""));
  }

  // Does `selector` match exactly `e` in `root` (a document or a shadow root)?
  function only(root, selector, e) {
    try {
      const found = root.querySelectorAll(selector);
      return found.length === 1 && found[0] === e;
    } catch (error) {
      return false;
    }
  }

  function stableId(e, root) {
    return e.id && !generated(e.id) && only(root, "#" + CSS.escape(e.id), e) ? "#" + CSS.escape(e.id) : "";
  }

  // A path of child steps from the nearest ancestor with a stable id (or from the root).
  function cssPath(e, root) {
    const parts = [];
    for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
      if (n !== e) {
        const anchor = stableId(n, root);
        if (anchor) { parts.unshift(anchor); break; }
      }
      let index = 1, more = false;
      for (let s = n.previousElementSibling; s; s = s.previousElementSibling) if (s.localName === n.localName) index++;
      for (let s = n.nextElementSibling; s; s = s.nextElementSibling) if (s.localName === n.localName) { more = true; break; }
      parts.unshift(CSS.escape(n.localName) + (index > 1 || more ? ":nth-of-type(" + index + ")" : ""));
    }
    return parts.join(" > ");
  }

  // CSS selectors for `e` within its own root, most stable first, each matching only `e` there.
  function cssCandidates(e) {
    const root = e.getRootNode();
    const tag = CSS.escape(e.localName);
    const own = [];
    for (const name of TEST_ATTRIBUTES) {
      const v = e.getAttribute(name);
      if (v && !generated(v)) own.push("[" + name + "=" + quoted(v) + "]");
    }
    const id = e.id && !generated(e.id) ? "#" + CSS.escape(e.id) : "";
    if (id) own.push(id);
    const name = e.getAttribute("name");
    if (name && !generated(name)) own.push(tag + "[name=" + quoted(name) + "]");
    const describing = [];
    for (const attribute of DESCRIBING_ATTRIBUTES) {
      const v = clean(e.getAttribute(attribute));
      if (v && v.length <= MAX_NAME) describing.push(tag + "[" + attribute + "=" + quoted(e.getAttribute(attribute)) + "]");
    }
    const href = e.localName === "a" ? e.getAttribute("href") : null;
    if (href && href.length <= 200 && !href.startsWith("javascript:")) describing.push("a[href=" + quoted(href) + "]");
    const unique = [...own, ...describing].filter((s) => only(root, s, e));
    // Scoped by the nearest ancestor with a stable id: a form's own "email" field.
    let anchor = "";
    for (let n = e.parentElement; n && !anchor; n = n.parentElement) anchor = stableId(n, root);
    const scoped = anchor ? [...own, ...describing].map((s) => anchor + " " + s).filter((s) => only(root, s, e)) : [];
    return { early: unique.filter((s) => own.includes(s)), late: [...unique.filter((s) => !own.includes(s)), ...scoped],
             path: cssPath(e, root) };
  }

  // Inside shadow roots: each host's selector, outermost first, chained with Playwright's ">>".
  function hostPrefix(e) {
    const hosts = [];
    for (let root = e.getRootNode(); root instanceof ShadowRoot; root = root.host.getRootNode()) hosts.unshift(root.host);
    return hosts.map((host) => {
      const c = cssCandidates(host);
      return c.early[0] || c.late[0] || c.path;
    }).map((s) => s + " >> ").join("");
  }

  const role = roleOf(el);
  const name = nameOf(el, role).slice(0, 200);
  const css = cssCandidates(el);
  const prefix = hostPrefix(el);
  // Without shadow roots, Playwright's CSS engine finds what querySelectorAll finds: a plain
  // CSS candidate already checked here needs no second check.
  const plain = el.getRootNode() === document && !Array.from(document.querySelectorAll("*")).some((n) => n.shadowRoot);
  return {
    role, name, settled: plain && css.early.length ? css.early[0] : null,
    early: css.early.map((s) => prefix + s),
    late: css.late.map((s) => prefix + s),
    path: prefix + css.path,
    tag: el.localName,
  };
}
