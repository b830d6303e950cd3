/* The dashboard's charts (ECharts) and map (Leaflet), drawn from the page's JSON data.
   window.gongzhiDashboard keeps the instances (the browser tests read them). */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source) { return; }
  var data = JSON.parse(source.textContent);
  var drawn = { charts: {}, map: null, markers: 0, boundaries: 0 };
  window.gongzhiDashboard = drawn;
  var percent = function (v) { return v === null || v === undefined ? null : Math.round(v * 1000) / 10; };
  var font = { fontFamily: "Noto Sans CJK SC, Noto Sans SC, sans-serif" };

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    var instance = window.echarts.init(el, null, { renderer: "canvas" });
    option.textStyle = font;
    option.animation = false;
    instance.setOption(option);
    drawn.charts[id] = instance;
    return instance;
  }

  var months = data.series.map(function (m) { return m.label; });
  chart("trend-chart", {
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
    legend: { top: 0 },
    grid: { left: 48, right: 24, top: 40, bottom: 40 },
    xAxis: { type: "category", data: months, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [
      { name: "响应率", type: "line", connectNulls: true, data: data.series.map(function (m) { return percent(m.response_rate); }) },
      { name: "解决率", type: "line", connectNulls: true, data: data.series.map(function (m) { return percent(m.resolution_rate); }) },
      { name: "满意率", type: "line", connectNulls: true, data: data.series.map(function (m) { return percent(m.satisfaction_rate); }) }
    ]
  });

  if (data.ranking.length) {
    chart("ranking-chart", {
      tooltip: { trigger: "axis" },
      grid: { left: 96, right: 24, top: 10, bottom: 24 },
      xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}" } },
      yAxis: { type: "category", inverse: true, data: data.ranking.map(function (r) { return r.name; }) },
      series: [{ name: "综合得分", type: "bar", data: data.ranking.map(function (r) { return percent(r.score); }) }]
    });
  }

  if (data.categories.length) {
    chart("category-chart", {
      tooltip: { trigger: "item" },
      series: [{ name: "受理量", type: "pie", radius: ["35%", "70%"],
                 data: data.categories.map(function (c) { return { name: c.name, value: c.received }; }) }]
    });
  }

  window.addEventListener("resize", function () {
    Object.keys(drawn.charts).forEach(function (k) { drawn.charts[k].resize(); });
  });

  var mapEl = document.getElementById("ticket-map");
  if (mapEl && window.L) {
    var L = window.L;
    var map = L.map(mapEl, { attributionControl: Boolean(data.map.tiles), zoomSnap: 0.25 });
    drawn.map = map;
    if (data.map.tiles) {
      L.tileLayer(data.map.tiles, { attribution: data.map.attribution, maxZoom: 19 }).addTo(map);
    }
    var shapes = L.geoJSON(data.map.boundaries, {
      style: function (f) {
        var level = f.properties.level;
        return { color: level === 0 ? "#b3261e" : "#0b5cad", weight: level === 0 ? 3 : 1.5,
                 fillOpacity: level === 0 ? 0.03 : 0.06, dashArray: level > 1 ? "4 3" : null };
      },
      onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name); }
    });
    var points = data.map.tickets.map(function (t) { return [t.lat, t.lng]; });
    // The view first: a layer added to a map without one has no pixel origin to draw from.
    var bounds = shapes.getLayers().length ? shapes.getBounds() : (points.length ? L.latLngBounds(points) : null);
    if (bounds && bounds.isValid()) { map.fitBounds(bounds, { padding: [12, 12] }); } else { map.setView([30.59, 114.3], 12); }
    shapes.addTo(map);
    drawn.boundaries = shapes.getLayers().length;
    data.map.tickets.forEach(function (t) {
      var marker = L.circleMarker([t.lat, t.lng], {
        radius: 7, weight: 2, color: t.overdue ? "#c62828" : "#0b5cad",
        fillColor: t.overdue ? "#ef5350" : "#64b5f6", fillOpacity: 0.9, className: "ticket-marker"
      });
      var link = document.createElement("a");
      link.href = "/tickets/" + t.id;
      link.textContent = "#" + t.id + " " + t.category + " · " + t.status_label + (t.overdue ? " · 超期" : "");
      marker.bindPopup(link);
      marker.addTo(map);
      drawn.markers += 1;
    });
  }
}());
