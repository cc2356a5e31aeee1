// Scrape one frame: the rendered content of the chosen root as cleaned HTML, in a JSON string.
//
// Run by browser/scrape/page.py with frame.evaluate(source, opts), once per frame. It returns
// JSON.stringify({url, html}) or JSON.stringify({error, message}), because one string crosses
// the protocol about 5x faster than an object tree.
//
// What the HTML keeps: only nodes that are rendered (el.checkVisibility with the CSS checks, on
// the live nodes), with open shadow roots flattened into it; no script, style, noscript,
// template or frame elements; a few attributes (href and src made absolute, alt, role,
// aria-hidden, aria-label, class on images, ol start, colspan). Every <img> and <svg> carries
// width/height = its rendered size (or, for an image not laid out yet, its natural size), so
// the Python stage can sort images into categories. The favicons (<link rel~=icon>) come in
// <head>. The Python stage (browser/scrape/pipeline.py) then makes the markdown and the image list.
(opts) => {
  const o = opts || {};
  const doc = document;
  const VOID = new Set(['AREA', 'BASE', 'BR', 'COL', 'EMBED', 'HR', 'IMG', 'INPUT', 'LINK', 'META',
    'SOURCE', 'TRACK', 'WBR']);
  const DROP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'HEAD', 'TITLE', 'META', 'LINK',
    'BASE', 'IFRAME', 'FRAME', 'FRAMESET', 'OBJECT', 'EMBED', 'CANVAS', 'SOURCE', 'TRACK', 'PARAM']);
  const CSS = { checkVisibilityCSS: true };
  const PRE = new Set(['PRE', 'TEXTAREA', 'LISTING', 'XMP', 'PLAINTEXT']);
  const BLANKS = /[ \t\n\r\f]{2,}|[\t\n\r\f]/g;
  let preDepth = 0;
  const SKIP_IN_LINKS = /^(?:javascript|vbscript|data):/i;

  if (window.innerWidth === 0 || window.innerHeight === 0) {
    // The frame's <iframe> is display:none (or 0x0): nothing of it is on screen.
    return JSON.stringify({ url: location.href, html: '', hidden: true });
  }

  const escText = (s) => (/[&<>\u00a0]/.test(s) ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\u00a0/g, ' ') : s);
  const escAttr = (s) => (/[&"<]/.test(s) ? s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;') : s);
  const absolute = (value) => {
    try { return new URL(value, doc.baseURI).href; } catch (e) { return value; }
  };
  const size = (el) => {
    const r = el.getBoundingClientRect();
    return [Math.round(r.width), Math.round(r.height)];
  };

  const out = [];
  const attr = (name, value) => {
    if (value !== null && value !== undefined && value !== '') out.push(' ', name, '="', escAttr(String(value)), '"');
  };
  const commonAttrs = (el) => {
    attr('role', el.getAttribute('role'));
    attr('aria-hidden', el.getAttribute('aria-hidden'));
  };

  const imgSrc = (el) => {
    let src = el.currentSrc || el.src || '';
    if (!src || src.startsWith('data:')) {
      const lazy = el.getAttribute('data-src') || el.getAttribute('data-lazy-src') || el.getAttribute('data-original');
      if (lazy) src = absolute(lazy);
    }
    return src;
  };

  const emitImg = (el) => {
    out.push('<img');
    attr('src', imgSrc(el));
    const alt = el.getAttribute('alt');
    if (alt !== null) out.push(' alt="', escAttr(alt), '"');
    // A broken image is laid out as its alt text: its width/height attributes say more.
    const aw = el.getAttribute('width');
    const ah = el.getAttribute('height');
    let w = aw;
    let h = ah;
    if (!(el.complete && el.naturalWidth === 0 && (aw || ah))) {
      [w, h] = size(el);
      if (!(w > 0 && h > 0)) {
        w = el.naturalWidth; h = el.naturalHeight;
        if (!(w > 0 && h > 0)) { w = aw; h = ah; }
      }
    }
    attr('width', w); attr('height', h);
    attr('class', el.getAttribute('class'));
    attr('name', el.getAttribute('name'));
    attr('title', el.getAttribute('title'));
    attr('aria-label', el.getAttribute('aria-label'));
    commonAttrs(el);
    out.push('>');
  };

  const emitSvg = (el) => {
    // Only what the Python stage needs to list it: its size and its label.
    out.push('<svg');
    const [w, h] = size(el);
    attr('width', w); attr('height', h);
    let label = el.getAttribute('aria-label');
    if (!label) {
      const title = el.querySelector('title');
      if (title) label = title.textContent.trim();
    }
    attr('aria-label', label);
    attr('class', el.getAttribute('class'));
    commonAttrs(el);
    out.push('></svg>');
  };

  // mode: 1 = rendered, 2 = has a box but visibility:hidden (own text dropped, children checked),
  // 3 = display:contents (no box of its own; its text and children are rendered).
  const visibility = (el) => {
    if (el.checkVisibility(CSS)) return 1;
    if (el.checkVisibility()) return 2;
    const cs = getComputedStyle(el);
    if (cs.display === 'contents') return cs.visibility === 'visible' ? 3 : 2;
    return 0;
  };

  const walkChildren = (parent, showText) => {
    for (let n = parent.firstChild; n; n = n.nextSibling) walk(n, showText);
  };

  const walk = (node, showText) => {
    const type = node.nodeType;
    if (type === 3) {
      // Outside <pre>, a run of blanks is one space, as the browser renders it.
      if (showText) out.push(escText(preDepth ? node.data : node.data.replace(BLANKS, ' ')));
      return;
    }
    if (type !== 1) return;
    const el = node;
    const tag = el.tagName.toUpperCase();
    if (DROP.has(tag)) return;
    if (tag === 'SLOT') {
      const assigned = el.assignedNodes({ flatten: true });
      if (assigned.length) { for (const n of assigned) walk(n, showText); return; }
      walkChildren(el, showText);
      return;
    }
    const mode = visibility(el);
    if (mode === 0) return;
    if (tag === 'IMG') { if (mode === 1 || mode === 3) emitImg(el); return; }
    if (tag === 'SVG') { if (mode === 1) emitSvg(el); return; }
    if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml') {
      // MathML and friends: keep the text only.
      walkChildren(el, mode !== 2);
      return;
    }
    const name = tag.toLowerCase();
    out.push('<', name);
    if (tag === 'A') {
      const raw = el.getAttribute('href');
      if (raw !== null) {
        const href = raw.trim();
        if (href.startsWith('#')) attr('href', href);
        else if (href && !SKIP_IN_LINKS.test(href)) attr('href', el.href || absolute(href));
      }
      attr('aria-label', el.getAttribute('aria-label'));
      attr('title', el.getAttribute('title'));
    } else if (tag === 'OL') {
      attr('start', el.getAttribute('start'));
    } else if (tag === 'TD' || tag === 'TH') {
      attr('colspan', el.getAttribute('colspan'));
    }
    commonAttrs(el);
    out.push('>');
    if (VOID.has(tag)) return;
    if (tag === 'DETAILS' && !el.open) {
      // Closed: only the summary is rendered (the rest sits in a content-visibility:hidden slot).
      const summary = el.querySelector(':scope > summary');
      if (summary) walk(summary, mode !== 2);
      out.push('</', name, '>');
      return;
    }
    const root = el.shadowRoot;
    const pre = PRE.has(tag);
    if (pre) preDepth++;
    walkChildren(root || el, mode !== 2);
    if (pre) preDepth--;
    out.push('</', name, '>');
  };

  let root = doc.body || doc.documentElement;
  if (o.selector) {
    let found;
    try {
      found = doc.querySelector(o.selector);
    } catch (e) {
      return JSON.stringify({ error: 'invalid', message: String(e && e.message || e) });
    }
    if (!found) return JSON.stringify({ error: 'nomatch' });
    root = found;
  } else if (o.onlyMainContent && root) {
    const visible = (el) => el.checkVisibility(CSS);
    const pick = (selector) => {
      for (const el of doc.querySelectorAll(selector)) if (visible(el)) return el;
      return null;
    };
    let main = pick('main') || pick('[role=main]');
    if (!main) {
      const articles = [...doc.querySelectorAll('article')].filter(visible);
      if (articles.length === 1) main = articles[0];
    }
    if (main) root = main;
  }

  if (o.favicons) {
    out.push('<head>');
    for (const link of doc.querySelectorAll('link[rel][href]')) {
      if (!/icon/i.test(link.getAttribute('rel'))) continue;
      out.push('<link');
      attr('rel', link.getAttribute('rel'));
      attr('href', link.href);
      attr('sizes', link.getAttribute('sizes'));
      attr('title', link.getAttribute('title'));
      out.push('>');
    }
    out.push('</head>');
  }
  out.push('<body>');
  if (root) {
    if (root === doc.body || root === doc.documentElement) {
      walkChildren(root.shadowRoot || root, true);
    } else if (/^(?:TR|THEAD|TBODY|TFOOT)$/.test(root.tagName)) {
      // Rows alone would not parse as a table again.
      out.push('<table>');
      walk(root, true);
      out.push('</table>');
    } else {
      walk(root, true);
    }
  }
  out.push('</body>');
  return JSON.stringify({ url: location.href, html: out.join('') });
}
