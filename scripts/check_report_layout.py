"""Look at a report the way a reader does: headless Chromium at a given width.

Usage: python scripts/check_report_layout.py REPORT_DIR [--width 1400] [--screenshot shot.png]

Loads REPORT_DIR/index.html, measures whether the page is wider than the window (a
reader would have to scroll sideways), optionally saves a screenshot, and exits 1 if
it is too wide, 0 if not, 2 if Chromium is missing (Debian: apt-get install chromium).
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
    "<script>window.addEventListener('load', () => document.body.setAttribute('data-overflow',"
    " document.documentElement.scrollWidth - window.innerWidth));</script>"
)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def overflow_px(index: Path, width: int, screenshot: Path | None = None) -> int:
    """How many pixels the page at ``index`` is wider than a ``width``-pixel window."""
    browser = chromium()
    if browser is None:
        raise FileNotFoundError("no Chromium on PATH (Debian: apt-get install chromium)")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={width},1200"]
    with tempfile.TemporaryDirectory() as scratch:
        probe = Path(scratch) / "index.html"
        probe.write_text(index.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
        dom = subprocess.run(
            [*flags, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    if screenshot is not None:
        subprocess.run(
            [*flags, f"--screenshot={screenshot.resolve()}", index.resolve().as_uri()],
            capture_output=True,
            timeout=120,
            check=True,
        )
    match = re.search(r'data-overflow="(-?\d+)"', dom)
    if match is None:
        raise RuntimeError("the page did not report its width; is it a mnist-models report?")
    return int(match[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args()
    try:
        extra = overflow_px(args.report_dir / "index.html", args.width, args.screenshot)
    except FileNotFoundError as exc:
        print(f"check_report_layout: {exc}", file=sys.stderr)
        return 2
    if extra > 0:
        print(
            f"{args.report_dir}/index.html is {extra} px wider than a {args.width} px window: readers scroll sideways"
        )
        return 1
    print(f"{args.report_dir}/index.html fits a {args.width} px window")
    return 0


if __name__ == "__main__":
    sys.exit(main())
