#!/usr/bin/env python3
"""How long a report page takes to render in headless Chromium (Debian's package), without Chromium's start-up.

For each page: a copy with a small probe script appended (the report itself has no script) is loaded with
--dump-dom; on the load event the probe forces style and layout of the whole page and writes performance.now()
(milliseconds since navigation start, so the browser's start-up is not in it) and the navigation timing into the
DOM, which the dump returns. The same probe on an empty page is the least possible figure in that browser. The
screenshot wall time (process start, render, paint, PNG) of the page minus that of the empty page is printed too,
as a second view that includes paint.

Usage: scripts/bench/report-render.py [--runs N] [PAGE.html ...]
Default pages: .build/report-artifacts/synthetic-500-report.html (written by `swift test --filter ReportModelTests`)
and .build/report-artifacts/e2e-report.html (written by the end-to-end test). Prints figures; asserts nothing.
"""
import argparse
import html
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PROBE = """<script>addEventListener('load', function () {
  var height = document.documentElement.getBoundingClientRect().height; // forces style and layout of the whole page
  var done = performance.now();
  var nav = performance.getEntriesByType('navigation')[0];
  document.body.setAttribute('data-bench', JSON.stringify({layoutDone: done, responseEnd: nav.responseEnd,
    domContentLoaded: nav.domContentLoadedEventEnd, height: height}));
});</script>"""
EMPTY = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>empty</title></head><body></body></html>'


def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    sys.exit("chromium is not installed: scripts/setup.sh installs Debian's chromium package")


def base(profile):
    return [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--disable-extensions", "--window-size=1280,1800", f"--user-data-dir={profile}"]


def probe(page, profile):
    dom = subprocess.run(base(profile) + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'data-bench="([^"]*)"', dom)
    if not m:
        sys.exit(f"no timing in the DOM dump of {page}")
    return json.loads(html.unescape(m.group(1)))


def screenshot(page, profile, png):
    started = time.monotonic()
    subprocess.run(base(profile) + [f"--screenshot={png}", page.as_uri()], capture_output=True, timeout=120, check=True)
    return time.monotonic() - started


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("pages", nargs="*", type=Path)
    args = ap.parse_args()
    pages = args.pages or [p for p in (ROOT / ".build/report-artifacts/synthetic-500-report.html",
                                       ROOT / ".build/report-artifacts/e2e-report.html") if p.exists()]
    if not pages:
        sys.exit("no page: run `swift test --filter ReportModelTests` (writes the 500-clone report) or pass PAGE.html")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        profile = tmp / "profile"
        empty = tmp / "empty.html"
        empty.write_text(EMPTY.replace("</body>", PROBE + "</body>"))
        screenshot(empty, profile, tmp / "warm.png")  # the profile's first start is slower: not counted
        floor = [probe(empty, profile)["layoutDone"] for _ in range(args.runs)]
        floor_shot = [screenshot(empty, profile, tmp / "e.png") for _ in range(args.runs)]
        f, fs = statistics.median(floor), statistics.median(floor_shot)
        print(f"report render benchmark: chromium {subprocess.run([chromium(), '--version'], capture_output=True, text=True).stdout.strip()}, "
              f"{args.runs} runs each, medians")
        print(f"empty page (the least possible): {f:.0f} ms to layout after navigation start; screenshot process {fs:.2f} s")
        print("| page | size | layout done (ms after navigation start) | over the empty page | page height | screenshot wall over the empty page |")
        print("| --- | --- | --- | --- | --- | --- |")
        for page in pages:
            copy = tmp / page.name
            copy.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
            runs = [probe(copy, profile) for _ in range(args.runs)]
            layout = statistics.median(r["layoutDone"] for r in runs)
            shots = statistics.median(screenshot(page, profile, tmp / "p.png") for _ in range(args.runs))
            print(f"| {page.name} | {page.stat().st_size:,} bytes | {layout:.0f} ms (min {min(r['layoutDone'] for r in runs):.0f}, "
                  f"max {max(r['layoutDone'] for r in runs):.0f}) | {layout - f:+.0f} ms | {runs[0]['height']:.0f} px | "
                  f"{shots - fs:+.2f} s |")


if __name__ == "__main__":
    main()
