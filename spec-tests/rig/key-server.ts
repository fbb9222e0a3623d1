// A fake remote homeserver's key server: HTTPS on a free loopback port, certificate from
// the run's test CA, publishing one signing key at /_matrix/key/v2/server (server-server
// § "Publishing Keys"). Tests that act as another server sign with the key; the node
// under test fetches it from here.

import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { signedKeyDocument } from '../../src/crypto/server-key-testing.ts';
import { generateSigningKey, type SigningKey } from '../../src/crypto/signing-key.ts';
import { signRequest } from '../../src/crypto/x-matrix.ts';
import { canonicalJson } from '../../src/rooms/canonical-json.ts';
import type { JsonObject } from '../../src/rooms/json.ts';
import { request, type HttpResponse } from './http.ts';
import type { TestNode } from './nodes.ts';
import { testCertificateAuthority } from './tls.ts';

export interface RunningKeyServer {
  /** `127.0.0.1:<port>`: the server name peers resolve straight to this listener. */
  readonly serverName: string;
  close(): Promise<void>;
}

export async function startKeyServer(key: SigningKey): Promise<RunningKeyServer> {
  const leaf = await (await testCertificateAuthority()).issue('127.0.0.1');
  let serverName = '';
  const server = createServer({ cert: leaf.certificate, key: leaf.privateKey }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/_matrix/key/v2/server') {
      res.end(JSON.stringify(signedKeyDocument({ serverName, key, validUntilTs: Date.now() + 86_400_000 })));
      return;
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ errcode: 'M_NOT_FOUND', error: 'Not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverName = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    serverName,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A homeserver that exists only to sign federation requests (its key server on the rig's CA). */
export class SigningPeer {
  readonly #keyServer: RunningKeyServer;
  readonly #key: SigningKey;
  readonly serverName: string;

  private constructor(keyServer: RunningKeyServer, key: SigningKey) {
    this.#keyServer = keyServer;
    this.#key = key;
    this.serverName = keyServer.serverName;
  }

  static async start(): Promise<SigningPeer> {
    const key = generateSigningKey('peer1');
    return new SigningPeer(await startKeyServer(key), key);
  }

  request(node: TestNode, method: string, uri: string, content?: JsonObject): Promise<HttpResponse> {
    const authorization = signRequest({ method, uri, origin: this.serverName, destination: node.serverName, content }, this.#key);
    return request(`${node.federationUrl}${uri}`, {
      method,
      headers: { authorization, ...(content === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(content === undefined ? {} : { body: canonicalJson(content) }),
      ca: node.caCertificate,
    });
  }

  close(): Promise<void> {
    return this.#keyServer.close();
  }
}
