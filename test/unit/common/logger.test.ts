import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  it('writes JSON with the component of each child logger', () => {
    const { lines, destination } = capture();
    createLogger({ name: 'gateway', destination })
      .child({ component: 'serial', link: 'radar' })
      .info('port open');
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({
      name: 'gateway',
      component: 'serial',
      link: 'radar',
      msg: 'port open',
      level: 30,
    });
  });

  it('never writes secrets, passwords, tokens or residents’ personal data', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ destination });
    logger.info(
      { secret: 's3cret-1', password: 'pw-2', cloud: { secret: 's3cret-3', token: 'tok-4' } },
      'config',
    );
    logger.info({ contact: { phone: '13800138000' }, residentName: '王奶奶' }, 'bed');
    const text = lines.join('');
    for (const leaked of ['s3cret-1', 'pw-2', 's3cret-3', 'tok-4', '13800138000', '王奶奶']) {
      expect(text).not.toContain(leaked);
    }
    expect(text).toContain('[redacted]');
  });
});
