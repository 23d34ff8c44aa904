import { describe, expect, it } from 'vitest';
import { canonicalDecimal } from '../../../../src/ingest/normalise/decimals.js';

describe('canonicalDecimal', () => {
  it.each([
    ['1.0000000000000000000', '1.00'],
    ['125.5000000000', '125.50'],
    ['250.00', '250.00'],
    ['-12.5', '-12.50'],
    ['1e2', '100.00'],
    ['-1.23E+5', '-123000.00'],
    ['1.5e-3', '0.0015'],
    ['0.125', '0.125'],
    ['2.2500000000000000000', '2.25'],
    ['0', '0.00'],
    ['-0', '0.00'],
    ['-0.000', '0.00'],
    ['007.10', '7.10'],
    ['.5', '0.50'],
    ['  99.5  ', '99.50'],
  ])('when given %j, then it gives %j', (input, expected) => {
    expect(canonicalDecimal(input)).toBe(expected);
  });

  it('when a value is beyond float precision, then every digit survives', () => {
    expect(canonicalDecimal('12345678901234567.89')).toBe('12345678901234567.89');
    expect(canonicalDecimal('-98765432109876543210.1234567890123456789')).toBe(
      '-98765432109876543210.1234567890123456789',
    );
    // The float would have rounded it: the string path must not.
    expect(String(Number('12345678901234567.89'))).not.toBe('12345678901234567.89');
  });

  it('when given a number, then its shortest text is used', () => {
    expect(canonicalDecimal(125.5)).toBe('125.50');
    expect(canonicalDecimal(0.1)).toBe('0.10');
    expect(canonicalDecimal(-5000)).toBe('-5000.00');
    expect(canonicalDecimal(1e21)).toBe('1000000000000000000000.00');
  });

  it.each([
    ['twelve dollars'],
    [''],
    ['1.2.3'],
    ['--1'],
    ['.'],
    ['e5'],
    ['1e'],
    ['NaN'],
    ['1,000.00'],
    ['1e1001'],
  ])('when given %j, then it is not a decimal (null)', (input) => {
    expect(canonicalDecimal(input)).toBeNull();
  });

  it('when given a non-finite number, then it is not a decimal', () => {
    expect(canonicalDecimal(Number.NaN)).toBeNull();
    expect(canonicalDecimal(Number.POSITIVE_INFINITY)).toBeNull();
  });

  it('when two texts name the same amount, then their canonical forms are equal', () => {
    expect(canonicalDecimal('1.50')).toBe(canonicalDecimal('1.5000000000000000000'));
    expect(canonicalDecimal('150e-2')).toBe(canonicalDecimal('1.5'));
  });
});
