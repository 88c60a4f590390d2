import { type CpuSample, nginxOf } from './cpu';
import type { BenchResults, RowResult, StackRatios } from './types';

/** The recording line, printed and on the page. */
export function recordingCost(q: StackRatios): string {
  const r = q.recording;
  return `recording costs ${(r.nginx + r.service).toFixed(1)} µs per call (nginx ${r.nginx.toFixed(1)}, service ${r.service.toFixed(1)}): (3) against (3u); ` +
    `of it, nginx's own work ${r.nginxOwn.toFixed(1)} µs ((3n) against (3u)) and the service's share ${r.serviceShare.toFixed(1)} µs ((3) against (3n): its own CPU and what it adds to nginx's)`;
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

const PARTS: Array<{ name: string; colour: string; of: (c: CpuSample) => number }> = [
  { name: 'nginx', colour: '#2f6fdf', of: nginxOf },
  { name: 'service', colour: '#e08a1e', of: (c) => c.lmgate },
  { name: 'Portkey', colour: '#7b3fbf', of: (c) => c.portkey },
  { name: 'upstream', colour: '#9a9a9a', of: (c) => c['mock-upstream'] },
];

/** A bar per row: throughput, or CPU per call stacked by container. */
function chart(rows: RowResult[], value: (r: RowResult) => Array<{ width: number; colour: string }>, caption: (r: RowResult) => string, scale: number): string {
  const barHeight = 26;
  const labelWidth = 300;
  const width = 760;
  const bars = rows
    .map((r, i) => {
      const y = i * (barHeight + 8);
      let x = labelWidth;
      const parts = value(r)
        .map((p) => {
          const w = Math.max(0, Math.round(((width - labelWidth - 110) * p.width) / scale));
          const rect = `<rect x="${x}" y="${y}" width="${w}" height="${barHeight}" fill="${p.colour}"/>`;
          x += w;
          return rect;
        })
        .join('');
      return `<text x="0" y="${y + 18}">${escape(`${r.stack}: ${r.label}`)}</text>${parts}<text x="${x + 6}" y="${y + 18}">${escape(caption(r))}</text>`;
    })
    .join('\n');
  return `<svg width="${width}" height="${rows.length * (barHeight + 8)}" role="img">${bars}</svg>`;
}

/** One self-contained page: throughput and CPU per call (stacked by container) for every row. */
export function renderHtml(results: BenchResults): string {
  const rows = results.rows;
  const maxRate = Math.max(...rows.map((r) => r.median.requestsPerSecond), 1);
  const total = (r: RowResult) => PARTS.reduce((n, p) => n + p.of(r.median.cpu), 0);
  const maxCpu = Math.max(...rows.map(total), 1);
  const throughput = chart(rows, (r) => [{ width: r.median.requestsPerSecond, colour: r.id.startsWith('gateway') ? '#2f6fdf' : '#8a8a8a' }], (r) => `${r.median.requestsPerSecond.toFixed(0)}/s`, maxRate);
  const cpu = chart(rows, (r) => PARTS.map((p) => ({ width: p.of(r.median.cpu), colour: p.colour })), (r) => `${total(r).toFixed(0)} µs`, maxCpu);
  const legend = PARTS.map((p) => `<span style="display:inline-block;width:.8rem;height:.8rem;background:${p.colour}"></span> ${p.name}`).join(' &nbsp; ');
  const ratios = Object.entries(results.ratios)
    .map(([kind, q]) => `<li><strong>${escape(kind)}</strong>: gateway / plain proxy — throughput <strong>${q.throughput.toFixed(2)}×</strong>, CPU per call <strong>${q.cpu.toFixed(2)}×</strong>; SSE: throughput ${q.sseThroughput.toFixed(2)}×, CPU per call ${q.sseCpu.toFixed(2)}×; ${escape(recordingCost(q))}; Portkey AI gateway (5): throughput ${q.portkey.throughputOverPlain.toFixed(2)}× the plain proxy's and ${q.portkey.throughputOverGateway.toFixed(2)}× LMGate's, CPU per call ${q.portkey.cpuOverPlain.toFixed(2)}× the plain proxy's and ${q.portkey.cpuOverGateway.toFixed(2)}× LMGate's</li>`)
    .join('\n');
  const table = rows
    .map((r) => `<tr><td>${escape(r.stack)}</td><td>${escape(r.label)}</td><td>${r.median.requestsPerSecond.toFixed(0)}</td><td>${r.median.p50.toFixed(2)}</td><td>${r.median.p99.toFixed(2)}</td>` +
      PARTS.map((p) => `<td>${p.of(r.median.cpu).toFixed(0)}</td>`).join('') +
      `<td>${r.stats ? `${r.stats.lines} / ${r.stats.answered}${r.stats.ok ? '' : ' ✗'}` : '—'}</td></tr>`)
    .join('\n');
  const memory = results.memory.length === 0 ? '' : `<h2>Memory with streaming calls in flight (resident, MiB)</h2>
<table><thead><tr><th>through</th><th>container</th><th>idle</th><th>in flight</th></tr></thead><tbody>${results.memory
    .flatMap((m) => m.containers.map((c) => `<tr><td>${escape(m.target)} (${m.started} of ${m.streams} streaming)</td><td>${escape(c.name)}</td><td>${c.idleMiB.toFixed(1)}</td><td>${c.inFlightMiB.toFixed(1)}</td></tr>`))
    .join('')}</tbody></table>`;
  const s = results.settings;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>LMGate benchmark ${escape(results.startedAt)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:56rem}td,th{padding:.25rem .6rem;text-align:right}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}svg text{font-size:13px}</style>
</head><body>
<h1>LMGate benchmark</h1>
<p>${escape(results.startedAt)} · ${results.machine.cpus} CPUs · load average at the end ${results.machine.loadAverage.map((l) => l.toFixed(2)).join(' ')} · wrk ${s.threads} threads, ${s.connections} connections, ${s.rounds} interleaved rounds of ${s.seconds} s per row; medians shown.</p>
<ul>${ratios}</ul>
<p>Unloaded p50 (proxy-bound, one connection each): plain proxy ${results.unloaded.plain.toFixed(3)} ms, gateway ${results.unloaded.gateway.toFixed(3)} ms — added <strong>${(results.unloaded.addedMs * 1000).toFixed(0)} µs</strong>; Portkey ${results.unloaded.portkey.toFixed(3)} ms — added ${(results.unloaded.portkeyAddedMs * 1000).toFixed(0)} µs.</p>
${memory}
<h2>CPU per call by container (µs; cgroups, idle use taken out)</h2>
<p>${legend}</p>
${cpu}
<h2>Throughput (requests/s)</h2>
${throughput}
<table><thead><tr><th>stack</th><th>row</th><th>req/s</th><th>p50 ms</th><th>p99 ms</th>${PARTS.map((p) => `<th>${p.name} µs</th>`).join('')}<th>stats lines / answered</th></tr></thead>
<tbody>${table}</tbody></table>
</body></html>
`;
}
