/* A unit's boundary, or an import's preview, on a Leaflet map drawn from the page's JSON
   data (#map-data); drawn again when htmx swaps a preview in. window.gongzhiUnitMap keeps
   what was drawn (the browser tests read it). */
(function () {
  "use strict";
  var STYLES = {
    before: { color: "#6b7785", weight: 2, dashArray: "5 4", fillOpacity: 0.02 },
    after: { color: "#0b5cad", weight: 2.5, fillOpacity: 0.12 }
  };

  function style(f) {
    if (f.properties.state) { return STYLES[f.properties.state]; }
    var top = f.properties.level === 0;
    return { color: top ? "#b3261e" : "#0b5cad", weight: top ? 3 : 1.5, fillOpacity: top ? 0.04 : 0.08 };
  }

  function draw() {
    var source = document.getElementById("map-data");
    var el = document.getElementById("unit-map");
    if (!source || !el || !window.L || el.dataset.drawn) { return; }
    el.dataset.drawn = "1";
    var data = JSON.parse(source.textContent);
    var L = window.L;
    var map = L.map(el, { attributionControl: Boolean(data.map.tiles), zoomSnap: 0.25 });
    if (data.map.tiles) {
      L.tileLayer(data.map.tiles, { attribution: data.map.attribution, maxZoom: 19 }).addTo(map);
    }
    var shapes = L.geoJSON(data.map.boundaries, {
      style: style,
      onEachFeature: function (f, layer) {
        var label = f.properties.name + (f.properties.state === "before" ? "（原边界）" : "");
        layer.bindTooltip(label);
      }
    });
    var bounds = shapes.getLayers().length ? shapes.getBounds() : null;
    if (bounds && bounds.isValid()) { map.fitBounds(bounds, { padding: [12, 12] }); } else { map.setView([30.59, 114.3], 12); }
    shapes.addTo(map);
    window.gongzhiUnitMap = { map: map, boundaries: shapes.getLayers().length };
  }

  draw();
  document.body.addEventListener("htmx:afterSettle", draw);
}());
