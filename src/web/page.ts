/** The site's static text files: the page itself, and the header file Netlify and Cloudflare Pages read. */

export function indexHtml(title: string): string {
  const t = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t} · vitopt in the browser</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 52rem; padding: 1rem 1.25rem; color: #1d1d1f; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  #model, #engine, #timing { color: #555; font-size: .9rem; }
  #drop { border: 2px dashed #aab; border-radius: 10px; padding: 1.5rem; text-align: center; margin: 1rem 0; }
  #drop.over { background: #eef3ff; border-color: #4a6cf7; }
  #error { background: #fde8e8; border: 1px solid #e0a0a0; padding: .6rem .8rem; border-radius: 6px; }
  #notes li { color: #7a5a00; }
  #samples img { width: 56px; height: 56px; image-rendering: pixelated; margin: 2px; cursor: pointer; border: 1px solid #ddd; }
  #result { display: flex; gap: 1rem; align-items: flex-start; }
  #preview { width: 112px; height: 112px; object-fit: contain; image-rendering: pixelated; border: 1px solid #ddd; }
  table { border-collapse: collapse; width: 100%; }
  td { padding: .15rem .4rem; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; width: 5rem; }
  td.barcell { width: 45%; }
  .bar { background: #4a6cf7; height: .8rem; border-radius: 3px; }
</style>
</head>
<body>
<h1>${t}</h1>
<div id="model"></div>
<div id="engine">starting…</div>
<ul id="notes"></ul>
<div id="error" role="alert" hidden></div>
<noscript><div id="noscript">This page needs JavaScript (it runs the model with onnxruntime-web).</div></noscript>
<div id="drop">
  <p>Drop an image here, or <input type="file" id="file" accept="image/*"></p>
  <div id="samples"></div>
</div>
<p id="status">loading…</p>
<div id="result">
  <img id="preview" alt="">
  <div style="flex:1">
    <strong id="result-title"></strong>
    <table><tbody id="scores"></tbody></table>
    <div id="timing"></div>
  </div>
</div>
<script type="module" src="app/main.js"></script>
</body>
</html>
`;
}

/** Netlify and Cloudflare Pages read `_headers` from the site root: cross-origin isolation for wasm threads. */
export const HEADERS_FILE = `/*
  Cross-Origin-Opener-Policy: same-origin
  Cross-Origin-Embedder-Policy: require-corp
  Cross-Origin-Resource-Policy: same-origin
`;
