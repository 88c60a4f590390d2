import { expect } from '@playwright/test';
import { type Stack } from './stack';

/** nginx's access-log line of a call (log_format gateway in nginx/nginx.conf). */
export interface AccessLogLine {
  request_uri: string;
  status: number;
  lmgate_id: string;
  /** How the call's auth was decided: "kept" (rewrite phase), "subrequest" (auth_request), or "". */
  auth: string;
  request_id: string;
}

/**
 * Waits for exactly `count` access-log lines of the tag's calls, in the order nginx wrote
 * them. The access log is buffered for at most a second (nginx.conf): the lines come by then.
 */
export async function waitForAccessLines(stack: Stack, tag: string, count: number): Promise<AccessLogLine[]> {
  let lines: AccessLogLine[] = [];
  await expect
    .poll(async () => {
      lines = (await stack.logs(['nginx'], 5_000))
        .split('\n')
        .filter((text) => text.includes(`lmgate_tag=${tag}`) && text.includes('"request_id"'))
        .map((text) => JSON.parse(text.slice(text.indexOf('{'))) as AccessLogLine);
      return lines.length;
    }, { timeout: 10_000, intervals: [200], message: `the access log lines of ${tag}` })
    .toBe(count);
  return lines;
}
