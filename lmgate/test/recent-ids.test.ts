import { describe, expect, it } from 'vitest';
import { RecentIds } from '../src/recent-ids.js';

describe('RecentIds', () => {
  it('remembers what it was given and says when an id is new', () => {
    const ids = new RecentIds(3);
    expect(ids.add('a')).toBe(true);
    expect(ids.add('a')).toBe(false);
    expect(ids.has('a')).toBe(true);
    expect(ids.has('b')).toBe(false);
    expect(ids.size).toBe(1);
  });

  it('forgets the oldest id first once full', () => {
    const ids = new RecentIds(3);
    ['a', 'b', 'c', 'd'].forEach((id) => ids.add(id));
    expect(ids.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((id) => ids.has(id))).toBe(true);
    expect(ids.size).toBe(3);
  });

  it('does not let a repeated id take a second place', () => {
    const ids = new RecentIds(2);
    ids.add('a');
    ids.add('a');
    ids.add('b');
    expect(ids.has('a')).toBe(true);
    expect(ids.has('b')).toBe(true);
  });

  it('keeps exactly the last `capacity` ids over many rounds of eviction', () => {
    const capacity = 1000;
    const ids = new RecentIds(capacity);
    const total = capacity * 25 + 7;
    for (let i = 0; i < total; i++) ids.add(`id-${i}`);
    expect(ids.size).toBe(capacity);
    expect(ids.has(`id-${total - capacity - 1}`)).toBe(false);
    expect(ids.has(`id-${total - capacity}`)).toBe(true);
    expect(ids.has(`id-${total - 1}`)).toBe(true);
  });

  it('remembers nothing with a capacity of 0', () => {
    const ids = new RecentIds(0);
    expect(ids.add('a')).toBe(true);
    expect(ids.has('a')).toBe(false);
    expect(ids.size).toBe(0);
  });
});
