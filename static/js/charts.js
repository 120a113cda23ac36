// Draws each chart from the JSON the server put beside it. The data table next to every chart
// carries the same figures, so nothing is lost without JavaScript.
document.querySelectorAll("script.kf-chart-data").forEach(function (node) {
  var target = document.getElementById(node.dataset.target);
  if (!target || typeof Plotly === "undefined") { return; }
  var figure = JSON.parse(node.textContent);
  target.classList.add("kf-chart--drawn");
  Plotly.newPlot(target, figure.data, figure.layout, { displayModeBar: false, responsive: true });
});
