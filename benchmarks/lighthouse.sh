#!/usr/bin/env bash
# Lighthouse scores of every page of _toc.yml, served gzip-compressed from 127.0.0.1.
#
# Usage: benchmarks/lighthouse.sh [SITE_DIR]        (default: _build/html; run `make book` first)
#
# Lighthouse (npm, pinned below) is installed on demand into benchmarks/_work/lighthouse-npm
# (git-ignored), not into the repository's package.json. It drives the system Chromium
# (CHROME_PATH, default /usr/bin/chromium) with the desktop preset and the offline flags
# of the GUIDE; the site is served by benchmarks/page_weight.py --serve, which compresses
# like GitHub Pages. Writes one JSON report per page to benchmarks/_work/lighthouse/ and
# prints a Markdown table of the four category scores. Exits 1 if a chapter page misses
# the bars: performance >= 0.95, accessibility 1.00, best practices 1.00, SEO >= 0.95.
set -euo pipefail
cd "$(dirname "$0")/.."

SITE=${1:-_build/html}
PYTHON=${PYTHON:-.venv/bin/python}
LIGHTHOUSE_VERSION=12.8.2 # 13.x needs Node >= 22; Debian 12 ships Node 18/20
WORK=benchmarks/_work
PREFIX=$WORK/lighthouse-npm
OUT=$WORK/lighthouse
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
PORT=${PORT:-8765}

[ -f "$SITE/index.html" ] || { echo "error: no site in $SITE: run 'make book' first" >&2; exit 2; }
[ -x "$CHROME_PATH" ] || { echo "error: no Chromium at $CHROME_PATH (apt-get install chromium)" >&2; exit 2; }
LH=$PREFIX/node_modules/.bin/lighthouse
if ! { [ -x "$LH" ] && [ "$("$LH" --version)" = "$LIGHTHOUSE_VERSION" ]; }; then
  echo "[lighthouse] installing lighthouse@$LIGHTHOUSE_VERSION into $PREFIX" >&2
  mkdir -p "$PREFIX"
  npm install --prefix "$PREFIX" --no-audit --no-fund --no-save --loglevel=error \
    "lighthouse@$LIGHTHOUSE_VERSION" >&2
fi
mkdir -p "$OUT"

"$PYTHON" benchmarks/page_weight.py --site "$SITE" --serve "$PORT" >&2 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
"$PYTHON" -c "
import time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen('http://127.0.0.1:$PORT/index.html'); break
    except OSError:
        time.sleep(0.1)"

mapfile -t PAGES < <("$PYTHON" -c "
import sys; sys.path.insert(0, 'benchmarks')
from page_weight import toc_files
print('\n'.join(toc_files()))")
FLAGS="--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run \
--disable-background-networking --disable-component-update --disable-sync"

for page in "${PAGES[@]}"; do
  name=${page//\//_}
  echo "[lighthouse] $page" >&2
  rm -f "$OUT/$name.json"
  "$LH" "http://127.0.0.1:$PORT/$page.html" --quiet --preset=desktop \
    --only-categories=performance,accessibility,best-practices,seo \
    --chrome-flags="$FLAGS" --output=json --output-path="$OUT/$name.json" >&2 ||
    echo "[lighthouse] $page: no report (see the message above)" >&2
done

# The table, and the bars (chapter pages: every page but the intro, notation and references).
node - "$OUT" "${PAGES[@]}" <<'EOF'
const fs = require("fs");
const [out, ...pages] = process.argv.slice(2);
const cats = ["performance", "accessibility", "best-practices", "seo"];
const bars = {performance: 0.95, accessibility: 1, "best-practices": 1, seo: 0.95};
const reference = new Set(["book/intro", "book/notation", "book/references"]);
let failed = [];
const report = (page) => `${out}/${page.replace(/\//g, "_")}.json`;
const done = pages.filter((page) => fs.existsSync(report(page)));
const version = done.length ? JSON.parse(fs.readFileSync(report(done[0]))).lighthouseVersion : "?";
console.log(`Lighthouse ${version}, desktop preset, served gzip-compressed from 127.0.0.1\n`);
console.log("| page | performance | accessibility | best practices | SEO | below the bar |");
console.log("|---|---:|---:|---:|---:|---|");
for (const page of pages) {
  if (!fs.existsSync(report(page))) {
    console.log(`| ${page} | – | – | – | – | no report: the page did not load |`);
    failed.push(`${page} (no report)`);
    continue;
  }
  const lhr = JSON.parse(fs.readFileSync(report(page), "utf8"));
  const scores = cats.map((c) => lhr.categories[c].score);
  const below = [];
  for (const c of cats) {
    const cat = lhr.categories[c];
    if (cat.score < bars[c]) {
      const lost = cat.auditRefs
        .filter((r) => r.weight > 0 && lhr.audits[r.id].score !== null && lhr.audits[r.id].score < 1)
        .map((r) => `${r.id} ${lhr.audits[r.id].displayValue || lhr.audits[r.id].score}`);
      below.push(`${c}: ${lost.join(", ")}`);
      if (!reference.has(page)) failed.push(`${page} ${c}`);
    }
  }
  console.log(`| ${page} | ${scores.map((s) => s.toFixed(2)).join(" | ")} | ${below.join("; ")} |`);
}
if (failed.length) {
  console.error(`\nchapter pages below the bars: ${failed.join(", ")}`);
  process.exit(1);
}
EOF
