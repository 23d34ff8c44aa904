import { describe, expect, it } from 'vitest';
import { parseSyncOptions } from '../../../src/cli/sync.command.js';

describe('stsync sync options', () => {
  it('when nothing is given, then the sync is incremental over every stream', () => {
    expect(parseSyncOptions({})).toEqual({ mode: 'incremental' });
  });

  it('when a window and streams are given, then they become a date-window mode and a stream list', () => {
    expect(
      parseSyncOptions({ from: '2024-01-01', to: '2024-02-01', streams: 'invoices, customers' }),
    ).toEqual({
      mode: { from: '2024-01-01T00:00:00.000Z', to: '2024-02-01T00:00:00.000Z' },
      streams: ['invoices', 'customers'],
    });
  });

  it.each([
    [{ mode: 'weekly' }, /--mode must be incremental or full/],
    [{ from: '2024-02-01', to: '2024-01-01' }, /--from before --to/],
    [{ from: '2024-01-01' }, /--from and --to must both be dates/],
    [{ streams: 'customers,jobs' }, /unknown stream\(s\) jobs/],
    [{ streams: ' , ' }, /--streams names none/],
    [{ mode: 'full', from: '2024-01-01', to: '2024-02-01' }, /either --mode or --from\/--to/],
  ])('when the options are %o, then the error says what is wrong', (values, message) => {
    expect(() => parseSyncOptions(values)).toThrow(message);
  });
});
