import { lstat, mkdtemp, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPtyPair, PtyError, type PtyPair } from '../../../firmware-sim/links/pty.js';
import { SerialPortLink } from '../../../firmware-sim/links/serial-port-link.js';
import { HostPort, processAlive } from './host-port.js';

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

describe('createPtyPair (real socat)', () => {
  let dir: string;
  const cleanup: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'homebed-sim-pty-'));
  });

  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    await rm(dir, { recursive: true, force: true });
  });

  async function pair(): Promise<PtyPair> {
    const p = await createPtyPair({ devicePath: join(dir, 'dev', 'sim-x'), hostPath: join(dir, 'dev', 'x') });
    cleanup.push(() => p.close());
    return p;
  }

  it('links two PTYs through stable symlinks, moving bytes both ways', async () => {
    const p = await pair();
    expect(await readlink(p.devicePath)).toMatch(/^\/dev\/pts\/\d+$/);
    expect(await readlink(p.hostPath)).toMatch(/^\/dev\/pts\/\d+$/);

    const host = await HostPort.open(p.hostPath, 115200);
    cleanup.push(() => host.close());
    const device = new SerialPortLink({ path: p.devicePath, baudRate: 115200 });
    await device.open();
    cleanup.push(() => device.close());
    const fromHost: Buffer[] = [];
    device.onData((b) => fromHost.push(Buffer.from(b)));

    device.write(Uint8Array.of(0x53, 0x59, 0x00, 0xff, 0x0d, 0x0a));
    // raw mode: no CR/LF translation, no echo.
    expect(await host.waitFor((b) => (b.length >= 6 ? b.toString('hex') : undefined))).toBe(
      '5359' + '00ff0d0a',
    );
    host.write('10;PING;\r\n');
    await host.waitFor(() => (Buffer.concat(fromHost).toString() === '10;PING;\r\n' ? true : undefined));
  });

  it('close() stops socat, removes the links, and can be called twice', async () => {
    const p = await pair();
    expect(processAlive(p.pid)).toBe(true);
    await p.close();
    await p.close();
    expect(processAlive(p.pid)).toBe(false);
    expect(await exists(p.devicePath)).toBe(false);
    expect(await exists(p.hostPath)).toBe(false);
  });

  it('replaces a stale symlink left by a killed socat', async () => {
    const hostPath = join(dir, 'stale-host');
    await symlink('/dev/pts/9999', hostPath);
    const p = await createPtyPair({ devicePath: join(dir, 'stale-dev'), hostPath });
    cleanup.push(() => p.close());
    expect(await readlink(hostPath)).not.toBe('/dev/pts/9999');
  });

  it('refuses to replace something that is not a symlink', async () => {
    const hostPath = join(dir, 'a-file');
    await writeFile(hostPath, 'keep me');
    await expect(createPtyPair({ devicePath: join(dir, 'd'), hostPath })).rejects.toThrow(/not a symlink/);
  });

  it('says so clearly when socat cannot be started', async () => {
    const attempt = createPtyPair({
      devicePath: join(dir, 'd'),
      hostPath: join(dir, 'h'),
      socatPath: join(dir, 'no-such-socat'),
    });
    await expect(attempt).rejects.toBeInstanceOf(PtyError);
    await expect(attempt).rejects.toThrow(/cannot start .*no-such-socat.*is socat installed/);
  });

  it('reports how socat exited when it fails before the PTYs exist', async () => {
    const attempt = createPtyPair({
      devicePath: join(dir, 'd'),
      hostPath: join(dir, 'h'),
      socatPath: '/bin/false',
    });
    await expect(attempt).rejects.toThrow(/socat exited \(code 1, signal none\) before the PTYs were ready/);
  });

  it('wraps a path whose parent cannot be created', async () => {
    await writeFile(join(dir, 'file'), '');
    const attempt = createPtyPair({ devicePath: join(dir, 'file', 'd'), hostPath: join(dir, 'h') });
    await expect(attempt).rejects.toBeInstanceOf(PtyError);
  });
});
