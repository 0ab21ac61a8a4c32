import { describe, expect, it } from 'vitest';
import { fixed, formatTable, ms, thousands } from '../../src/bench/table.ts';

describe('formatTable', () => {
  it('pads columns, right-aligns numbers, rules the header and trims trailing spaces', () => {
    const text = formatTable(
      [{ header: 'path' }, { header: 'qos', align: 'right' }, { header: 'msg/s', align: 'right' }, { header: 'note' }],
      [
        ['storeedge', '0', '12,345', ''],
        ['mosquitto + sink', '1', '987', 'x'],
      ],
    );
    expect(text.split('\n')).toEqual([
      'path             | qos | msg/s  | note',
      '-----------------|-----|--------|-----',
      'storeedge        |   0 | 12,345 |',
      'mosquitto + sink |   1 |    987 | x',
    ]);
  });

  it('rejects a row with the wrong number of cells', () => {
    expect(() => formatTable([{ header: 'a' }, { header: 'b' }], [['1']])).toThrow(/row 0 has 1 cells/);
  });
});

describe('number formats', () => {
  it('thousands separators, rounding to whole numbers', () => {
    expect(thousands(0)).toBe('0');
    expect(thousands(999.4)).toBe('999');
    expect(thousands(1234567.8)).toBe('1,234,568');
    expect(thousands(-12345)).toBe('-12,345');
    expect(thousands(Number.NaN)).toBe('–');
  });

  it('latency milliseconds keep precision where it matters', () => {
    expect(ms(0.4567)).toBe('0.46');
    expect(ms(12.345)).toBe('12.3');
    expect(ms(1234.5)).toBe('1235');
    expect(ms(Number.POSITIVE_INFINITY)).toBe('–');
  });

  it('fixed decimals', () => {
    expect(fixed(0.6251, 2)).toBe('0.63');
    expect(fixed(Number.NaN, 2)).toBe('–');
  });
});
