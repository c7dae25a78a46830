import { pendingRequest } from '../../../src/services/item-requests.ts';

describe('pendingRequest', () => {
  it('reads an item, or an item and the time that makes the request new', () => {
    expect(pendingRequest('backup-db', undefined)).toEqual({ value: 'backup-db', item: 'backup-db' });
    expect(pendingRequest('backup-db@2026-11-30T10:00:00Z', undefined)).toEqual({ value: 'backup-db@2026-11-30T10:00:00Z', item: 'backup-db' });
    expect(pendingRequest(' a@2026-11-30T10:00:00.250+01:00 ', undefined)).toEqual({ value: 'a@2026-11-30T10:00:00.250+01:00', item: 'a' });
  });

  it('keeps an @ that is not followed by a whole RFC 3339 time in the item name', () => {
    for (const name of ['user@example.com', 'a@2026-11-30', 'a@2026-11-30T10:00Z', '@', 'x@2026-11-30T10:00:00']) {
      expect(pendingRequest(name, undefined)?.item).toBe(name);
    }
    expect(pendingRequest('user@example.com@2026-11-30T10:00:00Z', undefined)?.item).toBe('user@example.com');
  });

  it('is nothing when absent, empty, or the value handled already; any other value is a new request', () => {
    expect(pendingRequest(undefined, undefined)).toBeUndefined();
    expect(pendingRequest('  ', undefined)).toBeUndefined();
    expect(pendingRequest('a', 'a')).toBeUndefined();
    expect(pendingRequest('a@2026-11-30T10:00:00Z', 'a@2026-11-30T10:00:00Z')).toBeUndefined();
    expect(pendingRequest('a@2026-11-30T11:00:00Z', 'a@2026-11-30T10:00:00Z')).toEqual({ value: 'a@2026-11-30T11:00:00Z', item: 'a' });
  });
});
