import { type CpuSample, nginxOf, totalOf } from './cpu';
import type { BenchResults } from './types';

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

/** One self-contained page: a bar per configuration (median req/s) and the figures. */
export function renderHtml(results: BenchResults): string {
  const max = Math.max(...results.configs.map((c) => c.median.requestsPerSecond), 1);
  const barHeight = 34;
  const width = 640;
  const labelWidth = 230;
  const bars = results.configs
    .map((c, i) => {
      const w = Math.round(((width - labelWidth - 90) * c.median.requestsPerSecond) / max);
      const y = i * (barHeight + 10);
      return `<text x="0" y="${y + 22}">${escape(c.label)}</text>` +
        `<rect x="${labelWidth}" y="${y}" width="${w}" height="${barHeight}" fill="${c.id.startsWith('gateway') ? '#2f6fdf' : '#8a8a8a'}"/>` +
        `<text x="${labelWidth + w + 6}" y="${y + 22}">${c.median.requestsPerSecond.toFixed(0)}/s</text>`;
    })
    .join('\n');
  const rows = results.configs
    .map((c) => `<tr><td>${escape(c.label)}</td><td>${c.median.requestsPerSecond.toFixed(0)}</td><td>${c.median.p50.toFixed(2)}</td><td>${c.median.p99.toFixed(2)}</td>` +
      `<td>${c.runs.reduce((n, r) => n + r.errors, 0)}</td><td>${c.statsLines === null ? '—' : `${c.statsLines} / ${c.runs.reduce((n, r) => n + r.ok, 0)}`}</td></tr>`)
    .join('\n');
  const height = results.configs.length * (barHeight + 10);
  const cpuRow = (label: string, c: CpuSample) =>
    `<tr><td>${label}</td><td>${nginxOf(c).toFixed(0)}</td><td>${c.lmgate.toFixed(0)}</td><td>${c['mock-upstream'].toFixed(0)}</td>` +
    `<td>${totalOf(c).toFixed(0)}</td></tr>`;
  const cpu = results.cpuPerCall
    ? `<h2>CPU per call by container (µs; cgroup figures, idle use taken out)</h2>
<table><thead><tr><th>configuration</th><th>nginx</th><th>service</th><th>mock</th><th>total</th></tr></thead>
<tbody>${cpuRow('(2) plain nginx proxy', results.cpuPerCall.plain)}${cpuRow('(3) gateway', results.cpuPerCall.gateway)}</tbody></table>`
    : '';
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>LMGate benchmark ${escape(results.startedAt)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:52rem}td,th{padding:.25rem .75rem;text-align:right}td:first-child,th:first-child{text-align:left}svg text{font-size:13px}</style>
</head><body>
<h1>LMGate benchmark</h1>
<p>${escape(results.startedAt)} · ${results.machine.cpus} CPUs · Node ${escape(results.machine.node)} · ${results.settings.runs} runs × ${results.settings.requests} requests, ${results.settings.connections} connections; medians shown.</p>
<h2>Throughput (requests/s, higher is better)</h2>
<svg width="${width}" height="${height}" role="img" aria-label="requests per second by configuration">${bars}</svg>
<p><strong>Gateway / plain proxy: ${results.ratios.gatewayOverPlain.toFixed(2)}×</strong> (SSE: ${results.ratios.sseOverPlain.toFixed(2)}× of the plain proxy, ${results.ratios.sseOverPlainSse.toFixed(2)}× of the plain proxy streaming the same replies).
Unloaded p50 (one connection): plain proxy ${results.unloaded.plain.toFixed(3)} ms, gateway ${results.unloaded.gateway.toFixed(3)} ms —
<strong>added ${results.ratios.addedUnloadedP50Ms.toFixed(3)} ms</strong>.</p>
<table><thead><tr><th>configuration</th><th>req/s</th><th>p50 ms</th><th>p99 ms</th><th>errors</th><th>stats lines / 2xx</th></tr></thead>
<tbody>${rows}</tbody></table>
${cpu}
</body></html>
`;
}
