// The Markdown summary: each metric per server, Stoa/Synapse ratios (PGlite against Synapse
// on SQLite, PostgreSQL against Synapse on PostgreSQL, falling back to SQLite when Synapse
// did not run on PostgreSQL), and the targets, pass or fail.

export interface ServerSummary {
  readonly label: string;
  readonly product: 'stoa' | 'synapse';
  readonly engine: string;
  readonly error?: string;
  readonly idleRssMb?: number;
  readonly afterLoadRssMb?: number;
  readonly sequential?: Record<string, number>;
  readonly concurrent10?: Record<string, number>;
  readonly concurrent100?: Record<string, number>;
  readonly delivery?: Record<string, number>;
}

interface Metric {
  readonly name: string;
  /** 'lower' when smaller is better. */
  readonly better: 'lower' | 'higher';
  value(s: ServerSummary): number | undefined;
}

const METRICS: readonly Metric[] = [
  { name: 'sequential send median (ms)', better: 'lower', value: (s) => s.sequential?.['medianMs'] },
  { name: 'sequential send p99 (ms)', better: 'lower', value: (s) => s.sequential?.['p99Ms'] },
  { name: 'sequential sends/s', better: 'higher', value: (s) => s.sequential?.['perSecond'] },
  { name: '10 senders: events/s', better: 'higher', value: (s) => s.concurrent10?.['perSecond'] },
  { name: '10 senders: median (ms)', better: 'lower', value: (s) => s.concurrent10?.['medianMs'] },
  { name: '100 senders: events/s', better: 'higher', value: (s) => s.concurrent100?.['perSecond'] },
  { name: '100 senders: median (ms)', better: 'lower', value: (s) => s.concurrent100?.['medianMs'] },
  { name: 'delivery p50 (ms)', better: 'lower', value: (s) => s.delivery?.['p50Ms'] },
  { name: 'delivery p99 (ms)', better: 'lower', value: (s) => s.delivery?.['p99Ms'] },
  { name: 'delivery after the send returned p50 (ms)', better: 'lower', value: (s) => s.delivery?.['afterSendP50Ms'] },
  { name: 'delivery after the send returned p99 (ms)', better: 'lower', value: (s) => s.delivery?.['afterSendP99Ms'] },
  { name: 'delivery: achieved send rate (/s)', better: 'higher', value: (s) => s.delivery?.['achievedRate'] },
  { name: 'delivery: delivered / sent', better: 'higher', value: (s) => (s.delivery === undefined ? undefined : (s.delivery['delivered'] ?? 0) / (s.delivery['sent'] ?? 1)) },
  { name: 'idle RSS (MB)', better: 'lower', value: (s) => s.idleRssMb },
  { name: 'RSS after the load (MB)', better: 'lower', value: (s) => s.afterLoadRssMb },
];

export interface TargetCheck {
  readonly server: string;
  readonly target: string;
  readonly value: number | undefined;
  readonly pass: boolean;
}

/** The targets, checked for every Stoa server that ran. */
export function checkTargets(servers: readonly ServerSummary[], deliveryRate: number): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const s of servers) {
    if (s.product !== 'stoa') continue;
    const add = (target: string, value: number | undefined, pass: (v: number) => boolean): void => {
      checks.push({ server: s.label, target, value, pass: value !== undefined && Number.isFinite(value) && pass(value) });
    };
    add('median send < 3 ms', s.sequential?.['medianMs'], (v) => v < 3);
    if (s.engine === 'postgres') add('>= 1,500 events/s with 100 senders (PostgreSQL)', s.concurrent100?.['perSecond'], (v) => v >= 1500);
    // The rate must really have been offered, and nothing may have been lost on the way.
    const complete = s.delivery !== undefined && s.delivery['delivered'] === s.delivery['sent'] && (s.delivery['achievedRate'] ?? 0) >= 0.95 * deliveryRate;
    add(`delivery p99 < 25 ms at ${deliveryRate} events/s (rate held, all delivered)`, s.delivery?.['p99Ms'], (v) => v < 25 && complete);
    add('idle RSS < 80 MB', s.idleRssMb, (v) => v < 80);
  }
  return checks;
}

function fmt(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function peerOf(stoa: ServerSummary, servers: readonly ServerSummary[]): ServerSummary | undefined {
  const synapses = servers.filter((s) => s.product === 'synapse' && s.error === undefined);
  const wanted = stoa.engine === 'postgres' ? 'postgres' : 'sqlite';
  return synapses.find((s) => s.engine === wanted) ?? synapses[0];
}

export function markdownReport(servers: readonly ServerSummary[], checks: readonly TargetCheck[]): string {
  const stoas = servers.filter((s) => s.product === 'stoa' && s.error === undefined);
  const columns = servers.filter((s) => s.error === undefined);
  const ratioHeaders = stoas.flatMap((s) => {
    const peer = peerOf(s, servers);
    return peer === undefined ? [] : [{ stoa: s, peer, title: `${s.label} / ${peer.label}` }];
  });
  const lines: string[] = [];
  const header = ['metric', ...columns.map((c) => c.label), ...ratioHeaders.map((r) => r.title)];
  lines.push(`| ${header.join(' | ')} |`);
  lines.push(`|---|${header.slice(1).map(() => '---:').join('|')}|`);
  for (const metric of METRICS) {
    const values = columns.map((c) => fmt(metric.value(c)));
    const ratios = ratioHeaders.map(({ stoa, peer }) => {
      const a = metric.value(stoa);
      const b = metric.value(peer);
      if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '—';
      // Shown as "x times better" so that > 1 always favours Stoa.
      const factor = metric.better === 'lower' ? b / a : a / b;
      return `${factor.toFixed(factor >= 10 ? 0 : 1)}×`;
    });
    lines.push(`| ${[metric.name, ...values, ...ratios].join(' | ')} |`);
  }
  lines.push('');
  lines.push('Ratios: how many times better Stoa is (> 1 favours Stoa, < 1 favours Synapse).');
  for (const failed of servers.filter((s) => s.error !== undefined)) lines.push(`\n**${failed.label} did not complete:** ${failed.error}`);
  if (checks.length > 0) {
    lines.push('', '| target | server | value | result |', '|---|---|---:|---|');
    for (const c of checks) lines.push(`| ${c.target} | ${c.server} | ${fmt(c.value)} | ${c.pass ? 'pass' : '**FAIL**'} |`);
  }
  return lines.join('\n');
}
