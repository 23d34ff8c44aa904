import { describe, expect, it } from 'vitest';
import { normaliseCustomerType, splitPersonName } from '../../../../src/ingest/normalise/names.js';
import { cleanText, plainText } from '../../../../src/ingest/normalise/text.js';

describe('cleanText', () => {
  it('when a name has leading, trailing and double whitespace, then it is trimmed and collapsed', () => {
    expect(cleanText(' Acme Heating  LLC')).toBe('Acme Heating LLC');
    expect(cleanText('Olivia Martinez ')).toBe('Olivia Martinez');
    expect(cleanText('Olivia\t\n Martinez')).toBe('Olivia Martinez');
    expect(cleanText('Olivia\u00a0Martinez')).toBe('Olivia Martinez');
  });

  it('when the text is empty, blank or not text, then it is null', () => {
    expect(cleanText('')).toBeNull();
    expect(cleanText('   ')).toBeNull();
    expect(cleanText(null)).toBeNull();
    expect(cleanText(undefined)).toBeNull();
    expect(cleanText({})).toBeNull();
  });

  it('when a value is a number, then its text is kept', () => {
    expect(cleanText(85004)).toBe('85004');
  });

  it('when unicode arrives decomposed, then it is composed (NFC)', () => {
    const decomposed = 'Jose\u0301 Nun\u0303ez';
    const composed = 'Jos\u00e9 Nu\u00f1ez';
    expect(decomposed).not.toBe(composed);
    expect(cleanText(decomposed)).toBe(composed);
  });

  it('when text carries control characters such as NUL, then they are removed', () => {
    expect(cleanText('Smith\u0000 Plumbing\u0007')).toBe('Smith Plumbing');
  });
});

describe('plainText', () => {
  it('when an item description is HTML, then tags are dropped and entities decoded', () => {
    expect(plainText('<p>Run capacitor 45/5 MFD</p>')).toBe('Run capacitor 45/5 MFD');
    expect(plainText('<p>Filter &amp; coil<br/>cleaning</p>')).toBe('Filter & coil cleaning');
  });

  it('when angle brackets are not tags, then they stay', () => {
    expect(plainText('pressure < 5 psi > normal')).toBe('pressure < 5 psi > normal');
  });
});

describe('splitPersonName', () => {
  it.each([
    ['John  Smith', 'John', 'Smith'],
    [' Olivia Martinez ', 'Olivia', 'Martinez'],
    ['Smith, John', 'John', 'Smith'],
    ['Smith,John', 'John', 'Smith'],
    ['Smith Jr., John', 'John', 'Smith Jr.'],
    ['Mary Ann Smith', 'Mary Ann', 'Smith'],
    ['John & Mary Smith', 'John & Mary', 'Smith'],
    ['John Smith Jr.', 'John', 'Smith Jr.'],
    ['Anna de la Cruz', 'Anna', 'de la Cruz'],
    ['Ludwig van Beethoven', 'Ludwig', 'van Beethoven'],
    ['Van Morrison', 'Van', 'Morrison'],
    ['Dr. Jane Roe', 'Jane', 'Roe'],
    ['José  Núñez', 'José', 'Núñez'],
    ['Zoë Ångström', 'Zoë', 'Ångström'],
    ['李 小龍', '李', '小龍'],
  ])('when the name is %j, then first is %j and last is %j', (name, firstName, lastName) => {
    expect(splitPersonName(name)).toEqual({ firstName, lastName });
  });

  it.each([['Cher'], ['  Cher  '], ['Mr Cher'], ['Cher,'], [', Cher']])(
    'when the name %j is one word, then it is the last name only',
    (name) => {
      expect(splitPersonName(name)).toEqual({ firstName: null, lastName: 'Cher' });
    },
  );

  it('when there is no name, then both parts are null', () => {
    expect(splitPersonName(null)).toEqual({ firstName: null, lastName: null });
    expect(splitPersonName('   ')).toEqual({ firstName: null, lastName: null });
  });
});

describe('normaliseCustomerType', () => {
  it('when the type is a known one in any case or padding, then it is the canonical spelling', () => {
    expect(normaliseCustomerType('Residential')).toBe('Residential');
    expect(normaliseCustomerType(' commercial ')).toBe('Commercial');
  });

  it('when the type is new, then it is kept as sent; when null or blank, then null', () => {
    expect(normaliseCustomerType('Government')).toBe('Government');
    expect(normaliseCustomerType(null)).toBeNull();
    expect(normaliseCustomerType('')).toBeNull();
  });
});
