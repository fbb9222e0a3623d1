// Two servers federating on loopback: two Stoa nodes from the spec-test rig (federation over
// HTTPS with the rig's test CA), or two Synapse peers (`../shared/peers/synapse.sh`, each
// with its self-signed certificate; the peers' config turns certificate checks off and lets
// loopback addresses through).

import { startNodes } from '../../spec-tests/rig/nodes.ts';
import { benchAppservice, writeRegistration, type BenchAppservice } from '../lib/appservice.ts';
import { startSynapse, stoaDatabaseName } from '../send-sync/servers.ts';

export interface Side {
  /** `127.0.0.1:<federation port>`. */
  readonly serverName: string;
  readonly clientUrl: string;
  readonly registrationSharedSecret: string;
  readonly pid: number;
  readonly databaseName?: string;
}

export interface Pair {
  /** `stoa-pglite`, `synapse-sqlite`, ... */
  readonly label: string;
  readonly product: 'stoa' | 'synapse';
  readonly engine: string;
  readonly a: Side;
  readonly b: Side;
  /** Registered on A (and B): makes the members of large rooms cheaply (bench/lib/appservice.ts). */
  readonly appservice: BenchAppservice;
  stop(): Promise<void>;
}

export async function startStoaPair(engine: 'pglite' | 'postgres', postgresUrl: string | undefined): Promise<Pair> {
  if (engine === 'postgres') {
    if (postgresUrl === undefined) throw new Error('stoa-postgres needs --postgres-url or STOA_TEST_POSTGRES_URL');
    process.env['STOA_TEST_POSTGRES_URL'] = postgresUrl;
  }
  const appservice = benchAppservice();
  const registration = await writeRegistration(appservice);
  // Rate limits off on both sides (the Synapse peers run without them too).
  const nodes = await startNodes(2, { tls: true, engine, configOverrides: { rate_limits: { enabled: false }, app_service_config_files: [registration.path] } }).catch(async (error: unknown) => {
    await registration.remove();
    throw error;
  });
  const side = (i: number): Side => {
    const node = nodes[i];
    if (node === undefined) throw new Error('the rig started fewer nodes than asked');
    const databaseName = stoaDatabaseName(node.config);
    return {
      serverName: node.serverName,
      clientUrl: node.clientUrl,
      registrationSharedSecret: node.registrationSharedSecret,
      get pid() {
        return node.pid;
      },
      ...(databaseName === undefined ? {} : { databaseName }),
    };
  };
  return {
    label: `stoa-${engine}`,
    product: 'stoa',
    engine,
    a: side(0),
    b: side(1),
    appservice,
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
      await registration.remove();
    },
  };
}

/**
 * Extra Synapse config for the benchmark: the members' appservice, and cheap password
 * hashes for the few ordinary users (set-up, not what is measured). Synapse's joins always ask for a partial
 * state ("faster joins", no switch to turn them off): the join workload therefore times
 * until B reports every member, not only until the join returned.
 */
export function synapseBenchOptions(name: string, appservice: BenchAppservice): { name: string; extraYaml: string; files: Record<string, string> } {
  return {
    name,
    // The peer's data folder is /data/<name>/ inside its chroot.
    extraYaml: `bcrypt_rounds: 4\napp_service_config_files: ["/data/${name}/bench-appservice.yaml"]\n`,
    files: { 'bench-appservice.yaml': appservice.yaml },
  };
}

export async function startSynapsePair(engine: 'sqlite' | 'postgres', postgresUrl: string | undefined): Promise<Pair> {
  const appservice = benchAppservice();
  const a = await startSynapse(engine, postgresUrl, synapseBenchOptions('bench-federation-a', appservice));
  let b: Awaited<ReturnType<typeof startSynapse>>;
  try {
    b = await startSynapse(engine, postgresUrl, synapseBenchOptions('bench-federation-b', appservice));
  } catch (error) {
    await a.stop();
    throw error;
  }
  const side = (s: typeof a): Side => ({
    serverName: s.serverName,
    clientUrl: s.clientUrl,
    registrationSharedSecret: s.registrationSharedSecret,
    pid: s.pid,
    ...(s.databaseName === undefined ? {} : { databaseName: s.databaseName }),
  });
  return {
    label: `synapse-${engine}`,
    product: 'synapse',
    engine,
    a: side(a),
    b: side(b),
    appservice,
    async stop() {
      await Promise.all([a.stop(), b.stop()]);
    },
  };
}
