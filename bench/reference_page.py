# ruff: noqa: T201  (run alone, it reports the page it generates)
"""A large API-reference page, generated here rather than copied from anywhere: the size and
shape of a generated library reference (about 950 KB, some 2,000 links), with a long sidebar of
links before the page's own search box and settings button in document order, then hundreds of
method signatures whose every type is a link. Deterministic: the same bytes every run."""

from pathlib import Path

TYPES = (
    "Vec",
    "Option",
    "Result",
    "usize",
    "Range",
    "Iterator",
    "Allocator",
    "Clone",
    "Ord",
    "Hash",
    "Drain",
    "Splice",
    "IntoIter",
    "Slice",
    "String",
    "Box",
    "Cow",
    "Borrow",
)
VERBS = (
    "push",
    "pop",
    "insert",
    "remove",
    "retain",
    "dedup",
    "extend",
    "truncate",
    "resize",
    "split",
    "drain",
    "append",
    "clear",
    "sort",
    "reverse",
    "swap",
    "fill",
    "chunk",
    "find",
    "map",
)
METHODS = [
    f"{verb}_{kind}"
    for kind in (
        "at",
        "by",
        "from",
        "into",
        "with",
        "unchecked",
        "mut",
        "all",
        "back",
        "front",
        "range",
        "key",
        "each",
        "raw",
        "in_place",
    )
    for verb in VERBS
]  # 300 names


def _signature(name: str, n: int) -> str:
    arg = TYPES[n % len(TYPES)]
    ret = TYPES[(n * 7) % len(TYPES)]
    return (
        f'<h4 class="code-header">pub fn <a href="#method.{name}" class="fn">{name}</a>'
        f'(&amp;mut self, value: <a class="struct" href="../{arg.lower()}/struct.{arg}.html">{arg}</a>'
        f'&lt;T&gt;) -&gt; <a class="enum" href="../{ret.lower()}/enum.{ret}.html">{ret}</a>&lt;T&gt;</h4>'
    )


def _docs(name: str, n: int) -> str:
    paragraph = (
        f'<p>Applies <code>{name}</code> to the vector. Like <a href="#method.{METHODS[(n + 1) % 300]}">'
        f"<code>{METHODS[(n + 1) % 300]}</code></a>, it keeps the order of the remaining elements and "
        "never reallocates when the capacity suffices. See the "
        f'<a href="../collections/index.html#{name}">collections overview</a> for the complexity of each '
        'operation, and the notes on <a href="../mem/fn.swap.html">swapping</a> and '
        '<a href="../ptr/index.html">raw pointers</a> for the unsafe variants.</p>'
    )
    example = (
        '<div class="example-wrap"><pre class="rust"><code>'
        f"let mut v = vec![1, 2, 3];\nv.{name}(4);\nassert_eq!(v.len(), 4);\n"
        'for (index, item) in v.iter().enumerate() {\n    println!("{index}: {item}");\n}'
        "</code></pre></div>"
    )
    return f'<div class="docblock">{paragraph}{paragraph}<h5>Examples</h5>{example}</div>'


def reference_html() -> str:
    sidebar = "\n".join(f'<li><a href="#method.{name}">{name}</a></li>' for name in METHODS)
    impls = "\n".join(f'<li><a href="#impl-{t}-for-Vec">{t}</a></li>' for t in TYPES * 3)
    sections = []
    for block in range(2):  # the methods appear in two impl blocks, as they do in real references
        sections.append(
            f'<h3 id="impl-{block}" class="impl">impl&lt;T, A: <a href="../alloc/trait.Allocator.html">'
            f"Allocator</a>&gt; Vec&lt;T, A&gt; (block {block + 1})</h3>"
        )
        for n, name in enumerate(METHODS):
            sections.append(
                f'<section id="method.{name}.{block}" class="method">{_signature(name, n)}'
                f"{_docs(name, n)}</section>"
            )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Vec in std::vec - Reference</title>
<style>
 body {{ margin: 0; font: 15px/1.5 system-ui, sans-serif; }}
 nav.sidebar {{ position: fixed; top: 0; bottom: 0; left: 0; width: 250px; overflow-y: auto; background: #f5f5f5; }}
 .main {{ margin-left: 270px; max-width: 960px; }}
 pre {{ background: #f5f5f5; padding: 8px; }}
</style>
</head>
<body>
<nav class="sidebar" aria-label="Items">
 <h2><a href="#">Vec</a></h2>
 <h3>Methods</h3><ul class="block">{sidebar}</ul>
 <h3>Trait Implementations</h3><ul class="block">{impls}</ul>
</nav>
<div class="main">
 <div class="search-bar">
  <input class="search-input" name="search" type="search" placeholder="Type to search the reference"
         aria-label="Run search in the documentation">
  <button id="settings-menu" type="button" aria-label="Change settings">Settings</button>
  <button id="help-button" type="button" aria-label="Help">?</button>
 </div>
 <h1>Struct <a href="#">Vec</a></h1>
 <p>A contiguous growable array type, written as <code>Vec&lt;T&gt;</code>, short for vector.</p>
 {"".join(sections)}
</div>
</body>
</html>
"""


def write_reference_page(path: Path) -> int:
    html = reference_html()
    path.write_text(html, encoding="utf-8")
    return len(html.encode())


if __name__ == "__main__":
    import sys

    html = reference_html()
    print(f"{len(html.encode()):,} bytes, {html.count('<a '):,} links", file=sys.stderr)
