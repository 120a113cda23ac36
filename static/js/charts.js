// Draws each chart from the JSON the server put beside it when its container comes within 200px
// of the viewport, so a long page spends nothing on the charts nobody scrolls to. Where
// IntersectionObserver is missing, and before printing, every chart is drawn at once. The data
// table next to every chart carries the same figures, so nothing is lost without JavaScript.
(function () {
  if (typeof Plotly === "undefined") { return; }
  var figures = {};

  function draw(target) {
    var node = figures[target.id];
    if (!node) { return; }
    delete figures[target.id];
    var figure = JSON.parse(node.textContent);
    var drawn = function () { target.classList.add("kf-chart--drawn"); };
    // One button only, Plotly's own "download as PNG", named after the chart.
    var config = {
      responsive: true, displaylogo: false, displayModeBar: true, modeBarButtons: [["toImage"]],
      toImageButtonOptions: { format: "png", filename: target.id, scale: 2 }
    };
    var done = Plotly.newPlot(target, figure.data, figure.layout, config);
    if (done && typeof done.then === "function") { done.then(drawn); } else { drawn(); }
  }

  var targets = [];
  document.querySelectorAll("script.kf-chart-data").forEach(function (node) {
    var target = document.getElementById(node.dataset.target);
    if (!target) { return; }
    figures[target.id] = node;
    targets.push(target);
  });

  if (!("IntersectionObserver" in window)) {
    targets.forEach(draw);
    return;
  }
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        observer.unobserve(entry.target);
        draw(entry.target);
      }
    });
  }, { rootMargin: "200px 0px" });
  targets.forEach(function (target) { observer.observe(target); });
  // A printed page has every chart, scrolled to or not.
  window.addEventListener("beforeprint", function () {
    targets.forEach(function (target) { observer.unobserve(target); draw(target); });
  });
})();
