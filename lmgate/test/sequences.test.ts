import { describe, expect, it } from 'vitest';
import { ProducerSequences } from '../src/sequences.js';

/** The drops observe() counts for each record number of one producer, in order. */
function dropsOf(sequences: ProducerSequences, producer: string, seqs: number[]): number[] {
  return seqs.map((seq) => sequences.observe(producer, seq));
}

describe('ProducerSequences', () => {
  it('counts nothing for a worker numbering 1, 2, 3 …', () => {
    expect(dropsOf(new ProducerSequences(), 'h/1', [1, 2, 3, 4])).toEqual([0, 0, 0, 0]);
  });

  it('counts the numbers skipped as records missing', () => {
    const sequences = new ProducerSequences();
    expect(dropsOf(sequences, 'h/1', [1, 2, 5, 6, 8])).toEqual([0, 0, 2, 0, 1]);
  });

  it('counts the numbers before the first one seen of a worker as missing', () => {
    expect(new ProducerSequences().observe('h/1', 5)).toBe(4);
  });

  it('keeps each worker to its own numbers', () => {
    const sequences = new ProducerSequences();
    expect([sequences.observe('h/1', 1), sequences.observe('h/2', 1), sequences.observe('h/1', 2), sequences.observe('h/2', 3), sequences.observe('other/1', 1)]).toEqual([0, 0, 0, 1, 0]);
  });

  it('ignores a seq of 0 (njs had no number): it proves nothing and changes nothing', () => {
    const sequences = new ProducerSequences();
    expect(dropsOf(sequences, 'h/1', [1, 0, 0, 2])).toEqual([0, 0, 0, 0]);
    expect(sequences.observe('new/1', 0)).toBe(0);
    expect(sequences.snapshot()).toEqual({ 'h/1': 2 });
  });

  it('starts a new count when the numbers go back (a new worker under an old name), counting what came before its number', () => {
    const sequences = new ProducerSequences();
    expect(dropsOf(sequences, 'h/1', [1, 2, 3, 10])).toEqual([0, 0, 0, 6]);
    expect(dropsOf(sequences, 'h/1', [1, 2])).toEqual([0, 0]);
    expect(dropsOf(sequences, 'h/1', [1])).toEqual([0]);
    expect(dropsOf(sequences, 'h/1', [3, 4])).toEqual([1, 0]);
  });

  it('never counts a negative number: a number seen again is a new worker that reached it', () => {
    const sequences = new ProducerSequences();
    expect(dropsOf(sequences, 'h/1', [5, 5])).toEqual([4, 4]);
  });

  it('goes on from the numbers it is given (the checkpoint)', () => {
    const sequences = new ProducerSequences({ 'h/1': 7, 'h/2': 3 });
    expect([sequences.observe('h/1', 8), sequences.observe('h/2', 6), sequences.observe('h/1', 10)]).toEqual([0, 2, 1]);
  });

  it('snapshots the last number of each worker, for the checkpoint', () => {
    const sequences = new ProducerSequences({ 'h/9': 4 });
    sequences.observe('h/1', 3);
    sequences.observe('h/2', 1);
    sequences.observe('h/1', 4);
    expect(sequences.snapshot()).toEqual({ 'h/9': 4, 'h/1': 4, 'h/2': 1 });
    // A copy: later numbers do not change what was snapshot.
    const snapshot = sequences.snapshot();
    sequences.observe('h/1', 5);
    expect(snapshot['h/1']).toBe(4);
  });

  it('forgets the worker seen longest ago beyond its limit, so memory stays bounded', () => {
    const sequences = new ProducerSequences({}, 2);
    sequences.observe('a/1', 3);
    sequences.observe('b/1', 3);
    sequences.observe('c/1', 3);
    expect(sequences.snapshot()).toEqual({ 'b/1': 3, 'c/1': 3 });
    // Forgotten: its next number counts as a first one.
    expect(sequences.observe('a/1', 4)).toBe(3);
  });

  it('keeps a worker seen again over one seen longer ago (longest ago, not first seen, is forgotten)', () => {
    const sequences = new ProducerSequences({}, 2);
    sequences.observe('a/1', 1);
    sequences.observe('b/1', 1);
    sequences.observe('a/1', 2);
    sequences.observe('c/1', 1);
    expect(sequences.snapshot()).toEqual({ 'a/1': 2, 'c/1': 1 });
    expect(sequences.observe('a/1', 3)).toBe(0);
  });

  it('remembers 1024 workers by default', () => {
    const sequences = new ProducerSequences();
    for (let n = 0; n < 1025; n++) sequences.observe(`h/${n}`, 1);
    expect(Object.keys(sequences.snapshot())).toHaveLength(1024);
    expect(sequences.snapshot()['h/0']).toBeUndefined();
    expect(sequences.snapshot()['h/1']).toBe(1);
  });
});
