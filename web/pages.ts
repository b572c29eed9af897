/**
 * The HTML shells of the views. Each page is static markup plus one ES module that fetches the JSON API and
 * builds the DOM; nothing from the database or the request is ever written into the markup except through
 * `escapeHtml` (the 404/400 pages' message).
 */
export type View = 'experiments' | 'experiment' | 'run' | 'compare' | 'experiments-compare' | 'dataset' | 'predict';

const TITLES: Record<View, string> = {
  experiments: 'Experiments',
  experiment: 'Experiment',
  run: 'Run',
  compare: 'Compare runs',
  'experiments-compare': 'Compare experiments',
  dataset: 'Dataset',
  predict: 'Predict',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function layout(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · melanoma study</title>
<link rel="stylesheet" href="/static/style.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
${head}</head>
<body>
<header class="top"><a class="brand" href="/">Melanoma study</a><nav><a href="/">Experiments</a><a href="/dataset">Dataset</a><a href="/predict">Predict</a></nav></header>
<main>
${body}
</main>
</body>
</html>
`;
}

export function viewPage(view: View): string {
  const head = `<script src="/vendor/chart.umd.js"></script>\n<script type="module" src="/static/${view}.js"></script>\n`;
  return layout(TITLES[view], '<noscript>This page needs JavaScript; the same numbers are in the JSON API under /api.</noscript>', head);
}

export function errorPage(status: number, message: string): string {
  const title = status === 404 ? 'Not found' : status === 400 ? 'Bad request' : status === 405 ? 'Method not allowed' : 'Error';
  return layout(title, `<h1>${status} ${title}</h1>\n<p class="error">${escapeHtml(message)}</p>\n<p><a href="/">Back to the experiments</a></p>`);
}
