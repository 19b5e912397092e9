#!/usr/bin/env python3
"""Read a ktstr-test --html report the way a browser would and print what
the tests assert on, or fail.

  html-report.py DIR           one line per case row: VERDICT<TAB>NAME<TAB>REASON
  html-report.py --png FILE W H COLOUR
                               check a screenshot: a PNG of W x H pixels, not
                               blank, in which COLOUR (#rrggbb) appears

DIR/index.html must parse with no error under html5lib's strict HTML5
parser (python3-html5lib), and every relative href and src must name a
file inside DIR; the report must load nothing from outside (no http(s)
src, no stylesheet link, no script)."""
import os
import sys


def rows(d):
    import html5lib
    path = os.path.join(d, "index.html")
    with open(path, "rb") as f:
        doc = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(f)
    root = os.path.realpath(d)
    for el in doc.iter():
        if el.tag in ("script", "link", "iframe", "object", "embed"):
            sys.exit(f"{path}: a <{el.tag}> in a self-contained report")
        for attr in ("href", "src"):
            ref = el.get(attr)
            if ref is None or ref.startswith("#"):
                continue
            if el.tag != "a" and "://" in ref:
                sys.exit(f"{path}: <{el.tag} {attr}={ref}> loads from outside")
            target = os.path.realpath(os.path.join(d, ref))
            if not target.startswith(root + os.sep) or not os.path.isfile(target):
                sys.exit(f"{path}: {attr}={ref} does not resolve to a file in {d}")
    table = [t for t in doc.iter("table") if t.get("class") == "cases"]
    if len(table) != 1:
        sys.exit(f"{path}: {len(table)} case tables, expected 1")
    for tr in table[0].iter("tr"):
        cls = (tr.get("class") or "").split()
        if "case" not in cls:
            continue
        cells = [" ".join("".join(td.itertext()).split()) for td in tr.iter("td")]
        verdict, name, _, reason = cells[:4]
        print(f"{verdict}\t{name}\t{reason}")


def png(path, w, h, colour):
    from PIL import Image
    with open(path, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            sys.exit(f"{path}: not a PNG")
    im = Image.open(path).convert("RGB")
    if im.size != (w, h):
        sys.exit(f"{path}: {im.size[0]}x{im.size[1]}, expected {w}x{h}")
    colours = im.getcolors(maxcolors=1 << 20) or []
    # A blank or failed render is one or two flat colours; the page has
    # text, tiles and badges (hundreds, with antialiasing).
    if len(colours) < 50:
        sys.exit(f"{path}: {len(colours)} distinct colours: a blank page?")
    want = tuple(int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    hits = sum(n for n, c in colours if c == want)
    if hits < 100:
        sys.exit(f"{path}: colour {colour} in {hits} pixels; the verdict is not shown")
    print(f"{path}: {w}x{h}, {len(colours)} colours, {colour} in {hits} pixels")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--png":
        png(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) == 2:
        rows(sys.argv[1])
    else:
        sys.exit(__doc__)
