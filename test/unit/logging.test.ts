import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/logging.ts';

describe('createLogger', () => {
  it('writes JSON lines at and above its level, with the fields of each child, and nothing below it', () => {
    const stream = new PassThrough();
    const log = createLogger('warn', 'json', stream).child({ controller: 'oaatgroup' }).child({ name: 'g1' });
    log.debug('not this');
    log.info('nor this', { a: 1 });
    log.warn('this', { item: 'a' });
    log.error('and this');
    const lines = String(stream.read()).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({ level: 'warn', message: 'this', item: 'a', controller: 'oaatgroup', name: 'g1' }),
      expect.objectContaining({ level: 'error', message: 'and this', controller: 'oaatgroup', name: 'g1' }),
    ]);
  });

  it('writes readable lines in text format', () => {
    const stream = new PassThrough();
    createLogger('info', 'text', stream).child({ name: 'g1' }).info('claimed a run', { item: 'a' });
    expect(String(stream.read())).toMatch(/^\S+ INFO {2}claimed a run name=g1 item=a\n$/);
  });
});
