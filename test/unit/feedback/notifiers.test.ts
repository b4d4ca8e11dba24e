import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { silentLogger } from '../../../common/logger.js';
import { feedbackConfigIssues, feedbackConfigSchema } from '../../../gateway/config/feedback-schema.js';
import { createNotifiers } from '../../../gateway/feedback/create-notifiers.js';
import { LocalSound } from '../../../gateway/feedback/local-sound.js';
import { FeedbackError, LogNotifier } from '../../../gateway/feedback/resident-notifier.js';
import { RflinkChime, rflinkTransmitBytes } from '../../../gateway/feedback/rflink-chime.js';

const ALARM = { alarmId: '0190a0b0-0000-7000-8000-000000000001', type: 'sos_button' };

/** Running, as opposed to gone or a zombie (orphans stay zombies where PID 1 does not reap, as in containers). */
function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('RflinkChime', () => {
  it('writes the command with CR LF to the RFLink port', async () => {
    const written: string[] = [];
    const chime = new RflinkChime({
      command: '10;NewKaku;00c142;1;ON;',
      write: (bytes) => {
        written.push(Buffer.from(bytes).toString('latin1'));
        return true;
      },
    });
    await chime.helpIsComing();
    expect(written).toEqual(['10;NewKaku;00c142;1;ON;\r\n']);
    expect(chime.name).toBe('rflink');
  });

  it('fails when the port is not open, and refuses what is not an RFLink command', async () => {
    const closed = new RflinkChime({ command: '10;Byron;1234;01;', write: () => false });
    await expect(closed.helpIsComing()).rejects.toThrow(FeedbackError);
    expect(() => rflinkTransmitBytes('NewKaku;00c142;1;ON')).toThrow(RangeError);
    expect(() => rflinkTransmitBytes('10;PING;\r\n20;')).toThrow(RangeError);
  });
});

describe('LocalSound', () => {
  it('kills a player that runs past its timeout', async () => {
    const sound = new LocalSound({ command: ['sleep', '10'], timeoutMs: 200, killGraceMs: 500 });
    const started = Date.now();
    const playing = sound.helpIsComing(ALARM);
    const [pid] = sound.runningPids;
    expect(pid).toBeGreaterThan(0);
    await expect(playing).rejects.toThrow(/sleep killed: still playing after 200 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(isAlive(pid ?? 0)).toBe(false);
    expect(sound.runningPids).toEqual([]);
  });

  it('kills what a shell player started too (its whole process group)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'homebed-sound-'));
    try {
      const pidFile = join(dir, 'pid');
      const sound = new LocalSound({
        command: ['sh', '-c', `sleep 10 & echo $! > ${pidFile}; wait`],
        timeoutMs: 300,
      });
      await expect(sound.helpIsComing(ALARM)).rejects.toThrow(/killed/);
      const grandchild = Number((await readFile(pidFile, 'utf8')).trim());
      expect(grandchild).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(isAlive(grandchild)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops the player when the caller abandons it, and reports a failing or missing player', async () => {
    const controller = new AbortController();
    const sound = new LocalSound({ command: ['sleep', '10'], timeoutMs: 5_000 });
    const playing = sound.helpIsComing(ALARM, controller.signal);
    controller.abort();
    await expect(playing).rejects.toThrow(/abandoned/);
    await expect(
      new LocalSound({ command: ['sh', '-c', 'echo oops >&2; exit 3'] }).helpIsComing(),
    ).rejects.toThrow(/code 3: oops/);
    await expect(new LocalSound({ command: ['/nonexistent/player'] }).helpIsComing()).rejects.toThrow(
      /cannot run/,
    );
  });
});

describe('feedback configuration', () => {
  it('defaults to logging only', () => {
    expect(feedbackConfigSchema.parse(undefined)).toEqual({
      notifiers: [{ type: 'log' }],
      timeoutMs: 5_000,
      severities: ['critical', 'warning'],
      maxAckAgeS: 600,
    });
  });

  it('reads each kind of output and names the bad keys', () => {
    const config = feedbackConfigSchema.parse({
      notifiers: [
        { type: 'rflink', link: 'rflink', command: '10;NewKaku;00c142;1;ON;' },
        { type: 'sound', command: ['espeak-ng', '-v', 'zh', '救援马上就到'] },
        { type: 'log', name: 'journal' },
      ],
    });
    expect(config.notifiers[1]).toEqual({
      type: 'sound',
      command: ['espeak-ng', '-v', 'zh', '救援马上就到'],
      timeoutMs: 10_000,
    });
    const bad = feedbackConfigSchema.safeParse({
      notifiers: [
        { type: 'rflink', link: 'rflink', command: 'NewKaku;00c142;1;ON' },
        { type: 'sound', command: [] },
      ],
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual([
      'notifiers.0.command',
      'notifiers.1.command',
    ]);
  });

  it('renders to JSON Schema for docs/configuration.md', () => {
    const json = JSON.stringify(
      z.toJSONSchema(feedbackConfigSchema, { io: 'input', unrepresentable: 'any' }),
    );
    expect(json).toContain('10;NewKaku;00c142;1;ON;');
    expect(json).toContain('"default":[{"type":"log"}]');
  });

  it('checks that an rflink output names an RFLink port', () => {
    const config = feedbackConfigSchema.parse({
      notifiers: [
        { type: 'rflink', link: 'radar', command: '10;Byron;1234;01;' },
        { type: 'rflink', link: 'nowhere', command: '10;Byron;1234;01;' },
        { type: 'rflink', link: 'rf', command: '10;Byron;1234;01;' },
      ],
    });
    const ports = [
      { id: 'radar', protocol: 'seeed' },
      { id: 'rf', protocol: 'rflink' },
    ];
    expect(feedbackConfigIssues(config, ports)).toEqual([
      { path: ['feedback', 'notifiers', 0, 'link'], message: 'a seeed port cannot transmit' },
      { path: ['feedback', 'notifiers', 1, 'link'], message: 'no serial port with this id' },
    ]);
  });

  it('builds the outputs from the configuration', async () => {
    const written: Uint8Array[] = [];
    const config = feedbackConfigSchema.parse({
      notifiers: [
        { type: 'rflink', link: 'rf', command: '10;Byron;1234;01;' },
        { type: 'rflink', link: 'rf', command: '10;NewKaku;00c142;1;ON;' },
        { type: 'sound', command: ['true'], timeoutMs: 2_000 },
        { type: 'log' },
      ],
    });
    const links = new Map([['rf', { write: (b: Uint8Array) => written.push(b) > 0 }]]);
    const notifiers = createNotifiers(config.notifiers, links, silentLogger());
    expect(notifiers.map((n) => n.name)).toEqual(['rflink:rf', 'rflink:rf#2', 'sound:true', 'log']);
    expect(notifiers[3]).toBeInstanceOf(LogNotifier);
    expect(notifiers[2]?.timeoutMs).toBe(2_000);
    for (const n of notifiers) await n.helpIsComing(ALARM);
    expect(written.map((b) => Buffer.from(b).toString())).toEqual([
      '10;Byron;1234;01;\r\n',
      '10;NewKaku;00c142;1;ON;\r\n',
    ]);
    expect(() =>
      createNotifiers(
        [{ type: 'rflink', link: 'gone', command: '10;Byron;1234;01;' }],
        new Map(),
        silentLogger(),
      ),
    ).toThrow(/no serial port "gone"/);
  });
});
