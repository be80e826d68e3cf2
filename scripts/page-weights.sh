#!/usr/bin/env bash
# Bytes a first visit of each page loads (its HTML, the stylesheets it links, every ES
# module it imports, transitively), plain and gzipped at level 9 as the server sends them
# (src/http/pages.rs). Usage: scripts/page-weights.sh  (prints a Markdown table)
set -euo pipefail
cd "$(dirname "$0")/../static"
python3 - <<'PY'
import gzip, os, re

def deps(path, seen):
    if path in seen or not os.path.exists(path):
        return
    seen.add(path)
    text = open(path, encoding="utf-8").read()
    if path.endswith(".html"):
        refs = re.findall(r'(?:src|href)="/static/([^"]+\.(?:js|css))"', text)
    else:
        base = os.path.dirname(path)
        refs = [os.path.normpath(os.path.join(base, r))
                for r in re.findall(r'(?:from|import)\s*["\'](\.[^"\']+)["\']', text)]
    for r in refs:
        deps(r, seen)

print("| page | files | plain | gzipped | saved |")
print("|---|---|---|---|---|")
for name, page in [("event list (`/`)", "index.html"), ("waiting room (`/events/{id}`)", "queue.html"),
                   ("seat map (`/events/{id}/seats`)", "seats.html"), ("operator (`/operator`)", "operator.html")]:
    files = set()
    deps(page, files)
    plain = sum(os.path.getsize(f) for f in files)
    packed = sum(len(gzip.compress(open(f, "rb").read(), 9)) for f in files)
    js = sum(1 for f in files if f.endswith(".js"))
    print(f"| {name} | html, css, {js} JS modules | {plain:,} B | {packed:,} B | {100 - round(100 * packed / plain)}% |")
PY
