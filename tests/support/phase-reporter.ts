import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

/**
 * Prints where the run's time went, so that a slower phase shows: from the runner's start
 * to the first test (global setup: build, stacks up), then each phase's span — a folder of
 * tests/: isolated, shared-stack, audit — from its first test's start to its last test's
 * end (file-own stacks included), and the total.
 * Global teardown prints its own time after this.
 */
function fileOf(test: TestCase): string {
  return test.location.file.replace(/^.*\/tests\//, 'tests/');
}

function phaseOf(test: TestCase): string {
  return fileOf(test).split('/')[1] ?? '?';
}

export default class PhaseReporter implements Reporter {
  private readonly started = Date.now();
  private firstTest: number | undefined;
  private readonly spans = new Map<string, { from: number; to: number; tests: number }>();
  /** Per file of the projects whose files bring up their own stacks: the slowest sets the pace. */
  private readonly fileSpans = new Map<string, { from: number; to: number; tests: number }>();

  onTestBegin(test: TestCase, result: TestResult): void {
    const at = result.startTime.getTime();
    this.firstTest ??= at;
    const phase = phaseOf(test);
    const span = this.spans.get(phase) ?? { from: at, to: at, tests: 0 };
    span.from = Math.min(span.from, at);
    this.spans.set(phase, span);
    const file = fileOf(test);
    const fileSpan = this.fileSpans.get(file) ?? { from: at, to: at, tests: 0 };
    this.fileSpans.set(file, fileSpan);
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const span = this.spans.get(phaseOf(test));
    if (!span) return;
    span.to = Math.max(span.to, result.startTime.getTime() + result.duration);
    span.tests++;
    const fileSpan = this.fileSpans.get(fileOf(test));
    if (fileSpan) {
      fileSpan.to = Math.max(fileSpan.to, result.startTime.getTime() + result.duration);
      fileSpan.tests++;
    }
  }

  onEnd(_result: FullResult): void {
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const ended = Date.now();
    const lines = [`[e2e] phases: setup ${s((this.firstTest ?? ended) - this.started)}`];
    for (const [phase, span] of [...this.spans.entries()].sort((a, b) => a[1].from - b[1].from)) {
      lines.push(`${phase} ${s(span.to - span.from)} (${span.tests} tests, from +${s(span.from - this.started)})`);
    }
    lines.push(`total ${s(ended - this.started)} (global teardown included)`);
    console.log(lines.join(' · '));
    const slowest = [...this.fileSpans.entries()].sort((a, b) => b[1].to - b[1].from - (a[1].to - a[1].from)).slice(0, 5);
    console.log(`[e2e] slowest files (first test start to last test end): ${slowest.map(([file, span]) => `${file} ${s(span.to - span.from)}`).join(' · ')}`);
  }

  printsToStdio(): boolean {
    return false;
  }
}
