"""Look at a report the way a reader does: headless Chromium at a given width.

Usage: python tools/check_report_layout.py REPORT_DIR [--width 1400] [--screenshot shot.png]

Loads REPORT_DIR/index.html, measures whether the page is wider than the window (a
reader would have to scroll sideways) and whether every figure on it loaded, optionally
saves a screenshot, and exits 1 if it is too wide or a figure is missing, 0 if not, 2 if
Chromium is missing (Debian: apt-get install chromium).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = (
    "<script>window.addEventListener('load', () => { const images = [...document.images];"
    " document.body.setAttribute('data-overflow', document.documentElement.scrollWidth - window.innerWidth);"
    " document.body.setAttribute('data-images', images.length);"
    " document.body.setAttribute('data-broken', images.filter(i => !(i.complete && i.naturalWidth > 0)).length);"
    " });</script>"
)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def look(index: Path, width: int, screenshot: Path | None = None) -> tuple[int, int, int]:
    """(pixels the page at ``index`` is wider than a ``width``-pixel window, images, images that did not load)."""
    browser = chromium()
    if browser is None:
        raise FileNotFoundError("no Chromium on PATH (Debian: apt-get install chromium)")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={width},1200"]
    # the probed copy sits beside the page, so that the figures it links to resolve as they do for a reader
    with tempfile.NamedTemporaryFile("w", dir=index.parent, prefix=".probe-", suffix=".html", delete=False) as fh:
        probe = Path(fh.name)
    try:
        probe.write_text(index.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
        dom = subprocess.run(
            [*flags, "--virtual-time-budget=5000", "--dump-dom", probe.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    finally:
        probe.unlink()
    if screenshot is not None:
        subprocess.run(
            [*flags, f"--screenshot={screenshot.resolve()}", index.resolve().as_uri()],
            capture_output=True,
            timeout=120,
            check=True,
        )
    found = {key: re.search(rf'data-{key}="(-?\d+)"', dom) for key in ("overflow", "images", "broken")}
    if not all(found.values()):
        raise RuntimeError("the page did not report its width; is it a mnist-models report?")
    return tuple(int(m[1]) for m in found.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args()
    try:
        extra, images, broken = look(args.report_dir / "index.html", args.width, args.screenshot)
    except FileNotFoundError as exc:
        print(f"check_report_layout: {exc}", file=sys.stderr)
        return 2
    page = f"{args.report_dir}/index.html"
    if broken:
        print(f"{page}: {broken} of its {images} figures did not load")
    if extra > 0:
        print(f"{page} is {extra} px wider than a {args.width} px window: readers scroll sideways")
    if broken or extra > 0:
        return 1
    print(f"{page} fits a {args.width} px window; all {images} figures loaded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
