/** The dashboard page's HTML: a shell the page script (client.ts) fills from /api/dashboards. */
export function pageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>playloop · dashboards</title>
<link rel="stylesheet" href="/dashboard/assets/uPlot.min.css">
<style>
  :root { color-scheme: dark; --bg: #111217; --panel: #181b1f; --border: #2c3038; --text: #d8d9da; --muted: #8e9196; --accent: #5794f2; }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--text); font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px 20px; padding: 10px 16px; border-bottom: 1px solid var(--border); background: #0b0c0e; position: sticky; top: 0; z-index: 10; }
  header h1 { font-size: 16px; margin: 0; font-weight: 600; }
  nav { display: flex; gap: 4px; flex-wrap: wrap; }
  nav button, select { background: var(--panel); color: var(--text); border: 1px solid var(--border); border-radius: 3px; padding: 4px 10px; font: inherit; cursor: pointer; }
  nav button[aria-selected="true"] { border-color: var(--accent); color: #fff; background: #1f2a3d; }
  .controls { display: flex; gap: 10px; align-items: center; margin-left: auto; color: var(--muted); }
  #variables:empty { display: none; }
  #variables { display: flex; flex-wrap: wrap; gap: 8px 18px; padding: 8px 16px; border-bottom: 1px solid var(--border); }
  #variables label { display: flex; align-items: center; gap: 6px; color: var(--muted); }
  #variables select[multiple] { height: 24px; min-width: 140px; }
  #variables select[multiple]:focus { height: auto; position: relative; z-index: 5; }
  main { padding: 8px 16px 24px; }
  .description { color: var(--muted); margin: 4px 0 8px; }
  h2.row { font-size: 14px; font-weight: 600; margin: 16px 0 8px; color: var(--text); }
  .grid { display: grid; grid-template-columns: repeat(24, minmax(0, 1fr)); gap: 8px; }
  .panel { background: var(--panel); border: 1px solid var(--border); border-radius: 3px; padding: 8px 10px; min-width: 0; display: flex; flex-direction: column; }
  .panel h3 { font-size: 13px; font-weight: 600; margin: 0 0 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .panel .body { flex: 1; min-height: 0; overflow: auto; }
  .panel .error { color: #f2495c; white-space: pre-wrap; }
  .panel .empty { color: var(--muted); }
  .stat { font-size: 30px; font-weight: 600; color: #73bf69; padding: 8px 0; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { padding: 3px 8px; border-bottom: 1px solid var(--border); text-align: right; white-space: nowrap; }
  th { color: var(--muted); font-weight: 500; position: sticky; top: 0; background: var(--panel); }
  th.text, td.text { text-align: left; }
  .annotations { color: var(--muted); font-size: 12px; margin-top: 4px; }
  .uplot { font-family: inherit; }
  .u-legend { font-size: 12px; color: var(--text); }
  .u-legend .u-marker { border-radius: 2px; }
</style>
</head>
<body>
<header>
  <h1>playloop</h1>
  <nav id="tabs" role="tablist"></nav>
  <div class="controls">
    <label>Range <select id="range">
      <option value="now-5m">Last 5 minutes</option>
      <option value="now-15m" selected>Last 15 minutes</option>
      <option value="now-1h">Last 1 hour</option>
      <option value="now-6h">Last 6 hours</option>
      <option value="now-24h">Last 24 hours</option>
    </select></label>
    <label>Refresh <select id="refresh">
      <option value="0">Off</option>
      <option value="2000">2s</option>
      <option value="5000">5s</option>
      <option value="10000">10s</option>
      <option value="30000">30s</option>
    </select></label>
    <span id="status"></span>
  </div>
</header>
<section id="variables"></section>
<main id="dashboard"><p class="description">Loading…</p></main>
<script src="/dashboard/assets/uPlot.iife.min.js"></script>
<script type="module" src="/dashboard/assets/app.js"></script>
</body>
</html>
`;
}
