// /demands/stats: requests proposed and answered per month (the table next to it has the figures)
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("demand-months-chart");
    if (!el || !window.echarts) return;
    var months = JSON.parse(el.getAttribute("data-months") || "[]");
    if (!months.length) { el.hidden = true; return; }
    var chart = window.echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 30 },
      xAxis: { type: "category", data: months.map(function (m) { return m.month; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: el.getAttribute("data-label-submitted"), type: "bar", data: months.map(function (m) { return m.submitted; }) },
        { name: el.getAttribute("data-label-answered"), type: "bar", data: months.map(function (m) { return m.answered; }) }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
