import { describe, expect, it } from 'vitest';
import { isPracticalEmail, normaliseEmail } from '../../../../src/ingest/normalise/emails.js';
import { normalisePhone } from '../../../../src/ingest/normalise/phones.js';

describe('normalisePhone', () => {
  it.each([
    ['(555) 123-4567', '5551234567'],
    ['+1 555.123.4567', '5551234567'],
    ['1-555-123-4567', '5551234567'],
    ['5551234567', '5551234567'],
    ['6025550143', '6025550143'],
    [' 602 555 0143 ', '6025550143'],
    ['555\u2013123\u20134567', '5551234567'],
    ['5551234567 x12', '5551234567 x12'],
    ['5551234567x12', '5551234567 x12'],
    ['(555) 123-4567 ext. 89', '5551234567 x89'],
    ['555-123-4567 Extension 7', '5551234567 x7'],
    ['+44 20 7946 0958', '+442079460958'],
    ['011 44 20 7946 0958', '+442079460958'],
    ['0049 30 901820', '+4930901820'],
    ['+52 55 1234 5678 x3', '+525512345678 x3'],
  ])('when the number is %j, then it is %j', (input, expected) => {
    expect(normalisePhone(input)).toBe(expected);
  });

  it.each([
    ['555-1234'],
    ['(055) 123-4567'],
    ['155-123-4567'],
    ['+1 555 1234'],
    ['1-800-FLOWERS'],
    ['call me'],
    ['123'],
    ['+1234567890123456789'],
    [''],
    ['   '],
    [null],
  ])('when the number is %j, then it is not valid (null)', (input) => {
    expect(normalisePhone(input)).toBeNull();
  });
});

describe('normaliseEmail', () => {
  it.each([
    ['olivia.martinez@example.com', 'olivia.martinez@example.com'],
    ['  John.Smith@Example.COM ', 'john.smith@example.com'],
    ['mailto:Billing@Acme-Heating.co.uk', 'billing@acme-heating.co.uk'],
    ["o'brien+hvac@example.org", "o'brien+hvac@example.org"],
    ['josé@exämple.de', 'josé@exämple.de'],
    ['user@xn--80ak6aa92e.xn--p1ai', 'user@xn--80ak6aa92e.xn--p1ai'],
  ])('when the address is %j, then it is %j', (input, expected) => {
    expect(normaliseEmail(input)).toBe(expected);
  });

  it.each([
    ['no-at-sign.example.com'],
    ['a@b'],
    ['a@@b.com'],
    ['a@b@c.com'],
    ['@example.com'],
    ['john..smith@example.com'],
    ['.john@example.com'],
    ['john@-example.com'],
    ['john@example.c'],
    ['john@example.123'],
    ['john smith@example.com'],
    ['a@b.com; c@d.com'],
    [''],
    [null],
    [42],
  ])('when the address is %j, then it is not valid (null)', (input) => {
    expect(normaliseEmail(input)).toBeNull();
  });

  it('when the local part is longer than 64 characters, then it is refused', () => {
    expect(isPracticalEmail(`${'a'.repeat(65)}@example.com`)).toBe(false);
    expect(isPracticalEmail(`${'a'.repeat(64)}@example.com`)).toBe(true);
  });
});
