#!/usr/bin/env bash
# The office console's browser libraries (htmx, ECharts, Leaflet) from the npm registry
# (console/package-lock.json), copied into server/console/static/vendor/, which the service
# serves itself: no CDN. Run by `make install`; the copies are not committed (.gitignore).
set -euo pipefail
cd "$(dirname "$0")/.."
(cd console && npm ci --no-audit --no-fund --loglevel=error)
out=server/console/static/vendor
rm -rf "$out"
mkdir -p "$out/leaflet/images"
cp console/node_modules/htmx.org/dist/htmx.min.js "$out/htmx.min.js"
cp console/node_modules/echarts/dist/echarts.min.js "$out/echarts.min.js"
cp console/node_modules/leaflet/dist/leaflet.js console/node_modules/leaflet/dist/leaflet.css "$out/leaflet/"
cp console/node_modules/leaflet/dist/images/*.png "$out/leaflet/images/"
for licence in htmx.org echarts leaflet; do
  cp "console/node_modules/$licence/LICENSE" "$out/LICENSE.$licence" 2>/dev/null || true
done
echo "console assets: $(ls "$out" | tr '\n' ' ')"
