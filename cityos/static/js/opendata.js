// Dataset page: the chart (ECharts) and the map (MapLibre, no external tiles) of an open dataset.
// The page works without this script: the preview table, downloads and API examples are HTML.
(function () {
  "use strict";
  var RECORDS_LIMIT = 1000;

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }

  function fetchRecords(url, params) {
    var query = new URLSearchParams(params);
    query.set("include_total", "false");
    return fetch(url + "?" + query.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (body) { return body.records || []; });
  }

  function numberOr(value) {
    var n = typeof value === "number" ? value : parseFloat(value);
    return isFinite(n) ? n : null;
  }

  // -------------------------------------------------------------------------- chart

  function aggregate(records, xField, yField, kind) {
    // mean of yField per x value; time in ascending order, labels by their first appearance
    var sums = {}, counts = {}, order = [];
    records.forEach(function (rec) {
      var x = rec[xField], y = numberOr(rec[yField]);
      if (x === null || x === undefined || y === null) { return; }
      var key = String(x);
      if (!(key in sums)) { sums[key] = 0; counts[key] = 0; order.push(key); }
      sums[key] += y; counts[key] += 1;
    });
    if (kind === "line") { order.sort(); }
    return order.map(function (key) {
      return [key, Math.round((sums[key] / counts[key]) * 100) / 100];
    });
  }

  function shortLabel(key, kind) {
    if (kind !== "line") { return key; }
    // "2025-05-01T08:00:00+08:00" → "05-01 08:00"
    var m = /^\d{4}-(\d{2}-\d{2})(?:[T ](\d{2}:\d{2}))?/.exec(key);
    return m ? (m[2] ? m[1] + " " + m[2] : m[1]) : key;
  }

  function fillTable(points, kind) {
    var body = document.querySelector("#chart-table tbody");
    if (!body) { return; }
    body.textContent = "";
    points.forEach(function (p) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = shortLabel(p[0], kind);
      var td = document.createElement("td");
      td.textContent = String(p[1]);
      tr.appendChild(th);
      tr.appendChild(td);
      body.appendChild(tr);
    });
  }

  function summarise(points, series) {
    if (!points.length) { return ""; }
    var values = points.map(function (p) { return p[1]; });
    var min = Math.min.apply(null, values), max = Math.max.apply(null, values);
    var last = points[points.length - 1];
    return series.name + ": " + points.length + " · min " + min + " · max " + max +
      " · " + shortLabel(last[0], "line") + " = " + last[1] + (series.unit ? " " + series.unit : "");
  }

  function initChart() {
    var el = document.getElementById("dataset-chart");
    if (!el || typeof echarts === "undefined") { return; }
    var spec = JSON.parse(el.dataset.chart);
    var select = document.getElementById("chart-column");
    var chart = echarts.init(el, null, { renderer: "canvas" });
    el.cityosChart = chart;
    var records = [];

    function draw() {
      var field = select.value;
      var series = spec.series.filter(function (s) { return s.field === field; })[0] || spec.series[0];
      var points = aggregate(records, spec.x.field, series.field, spec.kind);
      chart.setOption({
        animation: false,
        grid: { left: 56, right: 16, top: 24, bottom: 56 },
        tooltip: { trigger: "axis" },
        xAxis: {
          type: "category",
          data: points.map(function (p) { return shortLabel(p[0], spec.kind); }),
          axisLabel: { color: "#1a2330" }
        },
        yAxis: { type: "value", name: series.unit || "", axisLabel: { color: "#1a2330" } },
        series: [{
          type: spec.kind, name: series.name, data: points.map(function (p) { return p[1]; }),
          showSymbol: false, itemStyle: { color: "#0b5cad" }, lineStyle: { width: 2 }
        }]
      }, true);
      var header = document.getElementById("chart-table-value");
      if (header) { header.textContent = series.name + (series.unit ? " (" + series.unit + ")" : ""); }
      fillTable(points, spec.kind);
      text("chart-summary", summarise(points, series));
      el.dataset.rendered = points.length ? "1" : "0";
    }

    var params = { limit: String(RECORDS_LIMIT) };
    params.fields = [spec.x.field].concat(spec.series.map(function (s) { return s.field; })).join(",");
    if (spec.kind === "line") { params.sort = "-" + spec.x.field; }
    fetchRecords(el.dataset.records, params).then(function (rows) {
      records = rows;
      draw();
      select.addEventListener("change", draw);
    }).catch(function () {
      text("chart-status", el.dataset.error || "");
      el.dataset.rendered = "0";
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  // -------------------------------------------------------------------------- map

  function bounds(geo) {
    var b = [180, 90, -180, -90];
    function walk(c) {
      if (typeof c[0] === "number") {
        b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
        b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
      } else { c.forEach(walk); }
    }
    geo.features.forEach(function (f) { walk(f.geometry.coordinates); });
    return [[b[0], b[1]], [b[2], b[3]]];
  }

  function pointFeatures(records, spec) {
    var seen = {}, features = [];
    records.forEach(function (rec) {
      var lon = numberOr(rec[spec.longitude]), lat = numberOr(rec[spec.latitude]);
      if (lon === null || lat === null) { return; }
      var key = lon.toFixed(5) + "," + lat.toFixed(5);
      if (seen[key]) { return; }
      seen[key] = true;
      features.push({
        type: "Feature",
        geometry: { type: "Point", coordinates: [lon, lat] },
        properties: { label: spec.label_field ? String(rec[spec.label_field] || "") : "" }
      });
    });
    return { type: "FeatureCollection", features: features };
  }

  function districtCounts(records, spec, geo) {
    var counts = {};
    geo.features.forEach(function (f) { counts[String(f.properties.adcode)] = 0; });
    var byName = {};
    geo.features.forEach(function (f) { byName[f.properties.name] = String(f.properties.adcode); });
    records.forEach(function (rec) {
      var v = String(rec[spec.district_field] || "");
      var code = v in counts ? v : byName[v];
      if (code) { counts[code] += 1; }
    });
    if (!spec.district_field) {
      spec.districts.forEach(function (code) { if (code in counts) { counts[code] = 1; } });
    }
    return counts;
  }

  function labelMarkers(map, geo) {
    geo.features.forEach(function (f) {
      var el = document.createElement("span");
      el.className = "map-label";
      el.setAttribute("aria-hidden", "true");
      el.textContent = f.properties.name;
      new maplibregl.Marker({ element: el }).setLngLat(f.properties.centroid || f.properties.center).addTo(map);
    });
  }

  function initMap() {
    var el = document.getElementById("dataset-map");
    if (!el || typeof maplibregl === "undefined") { return; }
    var spec = JSON.parse(el.dataset.map);
    var style = {
      version: 8,
      sources: {},
      layers: [{ id: "background", type: "background", paint: { "background-color": "#dbe9f6" } }]
    };
    var geoRequest = fetch(el.dataset.geo).then(function (r) { return r.json(); });
    var params = { limit: String(RECORDS_LIMIT) };
    var wanted = spec.kind === "points"
      ? [spec.longitude, spec.latitude, spec.label_field]
      : [spec.district_field];
    wanted = wanted.filter(function (f) { return f; });
    if (wanted.length) { params.fields = wanted.join(","); }
    var recordsRequest = spec.kind === "points" || spec.district_field
      ? fetchRecords(el.dataset.records, params) : Promise.resolve([]);
    Promise.all([geoRequest, recordsRequest]).then(function (loaded) {
      var geo = loaded[0], records = loaded[1];
      var map = new maplibregl.Map({
        container: el, style: style, bounds: bounds(geo), fitBoundsOptions: { padding: 16 },
        attributionControl: false, cooperativeGestures: true
      });
      el.cityosMap = map;
      map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
      map.on("load", function () {
        var counts = spec.kind === "districts" ? districtCounts(records, spec, geo) : {};
        var max = Math.max.apply(null, [1].concat(Object.keys(counts).map(function (k) { return counts[k]; })));
        geo.features.forEach(function (f) { f.properties.value = counts[String(f.properties.adcode)] || 0; });
        map.addSource("districts", { type: "geojson", data: geo });
        map.addLayer({
          id: "district-fill", type: "fill", source: "districts",
          paint: {
            "fill-color": spec.kind === "districts"
              ? ["interpolate", ["linear"], ["get", "value"], 0, "#f3f6fa", max, "#0b5cad"]
              : "#f7f9fc",
            "fill-opacity": 0.85
          }
        });
        map.addLayer({
          id: "district-line", type: "line", source: "districts",
          paint: { "line-color": "#08427d", "line-width": 1.5 }
        });
        if (spec.kind === "points") {
          var points = pointFeatures(records, spec);
          map.addSource("points", { type: "geojson", data: points });
          map.addLayer({
            id: "points", type: "circle", source: "points",
            paint: {
              "circle-radius": 6, "circle-color": "#c0392b",
              "circle-stroke-color": "#ffffff", "circle-stroke-width": 2
            }
          });
          text("map-status", (el.dataset.pointsLabel || "{n}").replace("{n}", String(points.features.length)));
        }
        labelMarkers(map, geo);
        el.dataset.loaded = "1";
      });
    }).catch(function () {
      text("map-status", el.dataset.error || "");
      el.dataset.loaded = "0";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initChart();
    initMap();
  });
})();
