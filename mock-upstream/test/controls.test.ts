import { describe, expect, it } from 'vitest';
import { ControlError, parseControls } from '../src/controls.js';

function controls(headers: Record<string, string>) {
  return parseControls(headers, Object.entries(headers).flat());
}

describe('x-mock-usage', () => {
  it('defaults to input=11,output=7 with no breakdown', () => {
    expect(controls({}).usage).toEqual({ input: 11, output: 7 });
  });

  it('has one syntax: the old "<input>,<output>" form is a 400 that shows the keyed one', () => {
    expect(() => controls({ 'x-mock-usage': ' 12 , 5 ' })).toThrow('x-mock-usage: expected key=value, got "12" in " 12 , 5 "; syntax: "input=<n>,output=<n>');
  });

  it('reads the keyed form, with numbers, null and none', () => {
    expect(controls({ 'x-mock-usage': 'input=100, output=40,cached=30,cache_write=20,reasoning=12,tool_prompt=5' }).usage).toEqual({
      input: 100,
      output: 40,
      cached: 30,
      cacheWrite: 20,
      reasoning: 12,
      toolPrompt: 5,
    });
    expect(controls({ 'x-mock-usage': 'output=2,input=1,cached=null,reasoning=none' }).usage).toEqual({ input: 1, output: 2, cached: null, reasoning: 'omit' });
  });

  it.each([
    ['an unknown key, naming the known ones', 'input=1,output=2,cache_read=3', 'unknown key "cache_read" (known: input, output, cached, cache_write, reasoning, tool_prompt)'],
    ['a missing output', 'input=1,cached=2', 'input and output are required'],
    ['a missing input', 'output=1', 'input and output are required'],
    ['null for a required count', 'input=null,output=2', 'x-mock-usage input: expected a non-negative integer'],
    ['a repeated key', 'input=1,output=2,input=3', '"input" given twice'],
    ['a part without "="', 'input=1,output=2,7', 'expected key=value, got "7"'],
    ['a trailing comma', 'input=1,output=2,', 'expected key=value, got ""'],
    ['a negative count', 'input=1,output=2,cached=-1', 'x-mock-usage cached: expected a non-negative integer'],
    ['a fraction', 'input=1.5,output=2', 'x-mock-usage input: expected a non-negative integer'],
    ['three plain numbers', '1,2,3', 'expected key=value, got "1" in "1,2,3"; syntax: "input=<n>,output=<n>'],
    ['one plain number', '12', 'expected key=value, got "12"'],
    ['an empty value', '', 'expected key=value, got ""'],
  ])('rejects %s', (_label, value, message) => {
    expect(() => controls({ 'x-mock-usage': value })).toThrow(ControlError);
    expect(() => controls({ 'x-mock-usage': value })).toThrow(message);
  });
});

describe('x-mock-anthropic-deltas', () => {
  it('defaults to one delta that restates the input counts', () => {
    expect(controls({}).anthropicDeltas).toEqual({ count: 1, style: 'repeat-input' });
  });

  it('reads a count and an optional style', () => {
    expect(controls({ 'x-mock-anthropic-deltas': '4' }).anthropicDeltas).toEqual({ count: 4, style: 'repeat-input' });
    expect(controls({ 'x-mock-anthropic-deltas': '3, output-only' }).anthropicDeltas).toEqual({ count: 3, style: 'output-only' });
    expect(controls({ 'x-mock-anthropic-deltas': '2,growing-input' }).anthropicDeltas).toEqual({ count: 2, style: 'growing-input' });
  });

  it.each([
    ['0', 'n from 1 to 1000'],
    ['1001', 'up to 1000'],
    ['two', 'expected a non-negative integer'],
    ['2,sideways', 'unknown style "sideways" (known: repeat-input, output-only, growing-input)'],
    ['2,output-only,extra', 'expected "<n>[,<style>]"'],
  ])('rejects "%s"', (value, message) => {
    expect(() => controls({ 'x-mock-anthropic-deltas': value })).toThrow(message);
  });
});
