/**
 * The dashboard's HTML and CSS: one static page, no framework. Its script (client.ts, compiled by tsc
 * to client.js beside this file) subscribes to /v2/monitor/stream and draws inline SVG charts.
 * Every value shown has an element id, so a browser test (or a person's script) can read them.
 */

/** A stat tile: label and the element that shows its current value. */
const tile = (id: string, label: string, unit = '') =>
  `<div class="tile"><div class="label">${label}</div><div class="value"><span id="v-${id}">—</span>${unit ? ` <small>${unit}</small>` : ''}</div></div>`;

/** A chart panel: an SVG the script fills, and a legend. */
const chart = (id: string, title: string, legend: [string, string][]) =>
  `<section class="panel"><h2>${title}</h2><svg id="c-${id}" class="chart" viewBox="0 0 480 160" preserveAspectRatio="none" role="img" aria-label="${title}"></svg>` +
  `<div class="legend">${legend.map(([c, l]) => `<span><i style="background:${c}"></i>${l}</span>`).join('')}</div></section>`;

export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vitopt serve — monitor</title>
<style>
  :root { font-family: system-ui, "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; background: #f6f7f9; }
  body { margin: 0; padding: 16px 22px; }
  header { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
  h1 { font-size: 20px; margin: 0 0 8px; }
  h2 { font-size: 13px; margin: 0 0 6px; color: #444; font-weight: 600; }
  #status { font-size: 13px; padding: 2px 8px; border-radius: 10px; background: #ddd; }
  #status.ready { background: #d7f2dd; color: #1b5e20; }
  #status.down { background: #fbd9d9; color: #b71c1c; }
  .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 8px; margin: 10px 0 14px; }
  .tile, .panel, .drop { background: white; border: 1px solid #e1e4e8; border-radius: 6px; }
  .tile { padding: 8px 10px; }
  .tile .label { font-size: 11px; color: #666; text-transform: uppercase; letter-spacing: .03em; }
  .tile .value { font-size: 20px; font-variant-numeric: tabular-nums; }
  .tile small { font-size: 11px; color: #666; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
  .panel { padding: 10px 12px; }
  .chart { width: 100%; height: 160px; display: block; }
  .legend { font-size: 11px; color: #555; display: flex; gap: 12px; margin-top: 4px; }
  .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
  .drop { margin-top: 14px; padding: 14px; display: flex; gap: 16px; align-items: center; border-style: dashed; min-height: 96px; }
  .drop.over { background: #eef5ff; border-color: #1f77b4; }
  .drop img { max-width: 96px; max-height: 96px; image-rendering: pixelated; border: 1px solid #ddd; }
  #result ol { margin: 4px 0; padding-left: 20px; font-size: 13px; }
  #result .error { color: #b71c1c; }
  footer { margin-top: 10px; font-size: 11px; color: #777; }
</style>
</head>
<body>
<header>
  <h1>vitopt serve</h1>
  <span id="status">connecting…</span>
  <span id="window" class="muted"></span>
</header>
<div class="tiles">
  ${tile('p50', 'p50 latency', 'ms')}${tile('p95', 'p95 latency', 'ms')}${tile('p99', 'p99 latency', 'ms')}
  ${tile('rps', 'throughput', 'req/s')}${tile('ips', 'images', '/s')}${tile('batch', 'avg batch')}
  ${tile('queue', 'queue depth')}${tile('inflight', 'in flight')}${tile('rss', 'RSS', 'MiB')}
  ${tile('requests', 'requests (60 s)')}${tile('errors', 'errors (60 s)')}
</div>
<div class="grid">
  ${chart('latency', 'Latency, last 100 requests (ms)', [['#1f77b4', 'p50'], ['#ff7f0e', 'p95'], ['#d62728', 'p99']])}
  ${chart('throughput', 'Throughput (req/s)', [['#2ca02c', 'requests/s'], ['#98df8a', 'images/s']])}
  ${chart('batch', 'Average batch size · queue depth', [['#9467bd', 'avg batch'], ['#8c564b', 'queue depth']])}
  ${chart('memory', 'Memory (MiB)', [['#17becf', 'RSS'], ['#7f7f7f', 'JS heap']])}
</div>
<label class="drop" id="drop">
  <input type="file" id="file" accept="image/png,image/jpeg,image/webp" hidden>
  <img id="preview" alt="" hidden>
  <div>
    <div><b>Classify an image</b>: drop a JPEG, PNG or WebP here, or click to choose one. Model:
      <select id="model"></select></div>
    <div id="result"></div>
  </div>
</label>
<footer>Live from <code>/v2/monitor/stream</code> (one snapshot a second). Prometheus metrics: <a href="/metrics">/metrics</a>.</footer>
<script type="module" src="/dashboard/client.js"></script>
</body>
</html>
`;
}
