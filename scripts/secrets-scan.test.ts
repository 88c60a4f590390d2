import { describe, expect, it } from 'vitest';
import { ALL_SECRETS } from '../tests/support/keys';
import { LEAKED_RUN, maskSecrets, secretsIn } from '../tests/support/secrets';

// The e2e suite's leak check (spec §10) reads every stack's logs and stats file with
// secretsIn: one pass over the text, not one search per piece of a secret. These pin it to
// the definition it must keep: a text leaks a secret when it shows LEAKED_RUN or more of
// its characters in a row.

/** The definition, searched for naively. */
function naive(text: string): string[] {
  return ALL_SECRETS.filter((secret) => {
    for (let at = 0; at + LEAKED_RUN <= secret.length; at++) if (text.includes(secret.slice(at, at + LEAKED_RUN))) return true;
    return false;
  }).map((secret) => `${secret.slice(0, 12)}…`);
}

const [first, second] = ALL_SECRETS as [string, string];
const named = (secret: string) => `${secret.slice(0, 12)}…`;

describe('secretsIn', () => {
  it('finds a whole secret, also glued to characters of its alphabet or quoted in JSON', () => {
    // (The made-up keys share pieces, so a whole key shows pieces of others too.)
    for (const text of [`Bearer ${first}`, `xx-${first}.yy`, JSON.stringify({ key: second })]) {
      expect(secretsIn(text), text).toEqual(naive(text));
      expect(secretsIn(text), text).toContain(named(text.includes(first) ? first : second));
    }
  });

  it(`finds ${LEAKED_RUN} characters of a secret in a row anywhere in it, not ${LEAKED_RUN - 1}`, () => {
    for (let at = 0; at + LEAKED_RUN <= first.length; at++) {
      const shown = `a ${first.slice(at, at + LEAKED_RUN)} b`;
      expect(secretsIn(shown), `from ${at}`).toContain(named(first));
      expect(secretsIn(shown), `from ${at}`).toEqual(naive(shown));
      expect(secretsIn(`a ${first.slice(at, at + LEAKED_RUN - 1)} b`), `from ${at}`).toEqual([]);
    }
  });

  it('passes what the report and the logs show instead: masked keys', () => {
    expect(secretsIn(maskSecrets(ALL_SECRETS.map((s) => `Bearer ${s} ?key=${s}`).join('\n')))).toEqual([]);
  });

  it('names each secret once, in the order of the list, several in one text', () => {
    const [gamma, unknown] = [ALL_SECRETS[2]!, ALL_SECRETS[4]!];
    expect(secretsIn(`${unknown} ${gamma} ${unknown}`)).toEqual([named(gamma), named(unknown)]);
  });

  it('agrees with the naive search on texts made of pieces of the secrets and noise', () => {
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 2_000; round++) {
      let text = '';
      for (let part = 0; part < 6; part++) {
        const secret = ALL_SECRETS[random(ALL_SECRETS.length)]!;
        const at = random(secret.length);
        text += random(3) === 0 ? ' "\n:'[random(4)] : secret.slice(at, at + random(LEAKED_RUN + 4));
      }
      expect(secretsIn(text), JSON.stringify(text)).toEqual(naive(text));
    }
  });
});
