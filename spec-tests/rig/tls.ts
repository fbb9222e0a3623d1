// TLS material for test nodes: one throwaway certificate authority per test process, and a
// leaf certificate per node for its IP address. Nodes trust the CA (federation
// extra_ca_paths) and so do test clients, so TLS is verified end to end as in production,
// with no verification switched off.

import { generate } from 'selfsigned';

export interface IssuedCertificate {
  /** PEM certificate. */
  readonly certificate: string;
  /** PEM private key. */
  readonly privateKey: string;
}

export interface TestCertificateAuthority {
  /** PEM of the CA certificate: what clients trust. */
  readonly certificate: string;
  /** A server certificate for `ip` (an IPv4 or IPv6 literal), signed by this CA. */
  issue(ip: string): Promise<IssuedCertificate>;
}

let shared: Promise<TestCertificateAuthority> | undefined;

/** The test run's CA, created on first use. */
export function testCertificateAuthority(): Promise<TestCertificateAuthority> {
  shared ??= createCertificateAuthority();
  return shared;
}

const DAY_MS = 24 * 60 * 60 * 1000;

async function createCertificateAuthority(): Promise<TestCertificateAuthority> {
  // A day either side of now, so a test machine's clock skew does not matter.
  const notBeforeDate = new Date(Date.now() - DAY_MS);
  const notAfterDate = new Date(Date.now() + 30 * DAY_MS);
  const ca = await generate([{ name: 'commonName', value: 'Stoa test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return {
    certificate: ca.cert,
    async issue(ip) {
      const leaf = await generate([{ name: 'commonName', value: ip }], {
        keyType: 'ec',
        algorithm: 'sha256',
        notBeforeDate,
        notAfterDate,
        ca: { key: ca.private, cert: ca.cert },
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames: [{ type: 7, ip }] },
        ],
      });
      return { certificate: leaf.cert, privateKey: leaf.private };
    },
  };
}
