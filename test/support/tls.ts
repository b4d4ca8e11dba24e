import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files of a throw-away PKI made with the `openssl` CLI (see {@link makeTestPki}). */
export interface TestPki {
  /** The CA that signed the server certificate: what a gateway's `cloud.caFile` names. */
  caFile: string;
  /** The relay's certificate, for 127.0.0.1 and localhost (subjectAltName), signed by `caFile`. */
  certFile: string;
  keyFile: string;
  /** The same name and key as `certFile`, signed by the same CA, but valid only on 1 January 2020. */
  expiredCertFile: string;
  /** A second CA that signed nothing here: trusting only it must fail. */
  otherCaFile: string;
}

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A self-signed CA (P-256, valid two days) as `<name>.pem` + `<name>.key` in `dir`. */
function makeCa(dir: string, name: string, cn: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/**
 * A CA, a server key and certificate it signed for `IP:127.0.0.1, DNS:localhost` (and an expired
 * twin), and a second, unrelated CA, written to `dir` with the `openssl` CLI (elliptic-curve keys:
 * fast to make).
 */
export function makeTestPki(dir: string): TestPki {
  makeCa(dir, 'ca', 'homebed test CA');
  makeCa(dir, 'other-ca', 'some other CA');
  openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'relay.key',
    '-out',
    'relay.csr',
    '-subj',
    '/CN=localhost',
  ]);
  writeFileSync(
    join(dir, 'relay.ext'),
    [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'relay.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'relay.ext',
    '-out',
    'relay.pem',
  ]);
  // `openssl x509` cannot back-date a certificate; `openssl ca` can, with a minimal CA database.
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      'database = index.txt',
      'new_certs_dir = .',
      'serial = serial',
      'default_md = sha256',
      'policy = any_name',
      '[any_name]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  openssl(dir, [
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-cert',
    'ca.pem',
    '-keyfile',
    'ca.key',
    '-in',
    'relay.csr',
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
    '-extfile',
    'relay.ext',
    '-notext',
    '-out',
    'relay-expired.pem',
  ]);
  return {
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'relay.pem'),
    keyFile: join(dir, 'relay.key'),
    expiredCertFile: join(dir, 'relay-expired.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
  };
}
