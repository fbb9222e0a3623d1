// Media throughput and memory: one 100 MB file uploaded to a Stoa node and downloaded back
// through the authenticated route, streamed on both sides (the client never holds the file
// either), with the node's resident memory sampled from /proc every 50 ms. Target: the
// node's RSS stays within 50 MB of its idle RSS. Options: `--mb 100 --encrypted`. Prints JSON.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fetch } from 'undici';
import { startNodes } from '../../spec-tests/rig/nodes.ts';
import { registerUser } from '../../spec-tests/rig/users.ts';

const args = process.argv.slice(2);
const mb = Number(args[args.indexOf('--mb') + 1] ?? 100) || 100;
const encrypted = args.includes('--encrypted');
const totalBytes = mb * 1_000_000;
const CHUNK = 256 * 1024;

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** Samples RSS until stopped; returns the peak. */
function sampler(pid: number): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssBytes(pid));
    },
  };
}

const block = randomBytes(CHUNK);
async function* body(hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < totalBytes; sent += CHUNK) {
    // Each chunk differs (a counter in its head) so the file is not trivially compressible.
    const chunk = Buffer.from(block.subarray(0, Math.min(CHUNK, totalBytes - sent)));
    chunk.writeUInt32BE(sent / CHUNK, 0);
    hash.update(chunk);
    yield chunk;
  }
}

const [node] = await startNodes(1, {
  configOverrides: {
    media: { max_upload_bytes: totalBytes + 1, ...(encrypted ? { encryption: { key: randomBytes(32).toString('base64') } } : {}) },
  },
});
if (node === undefined) throw new Error('no node');
try {
  const user = await registerUser(node, 'bench');
  const authorization = `Bearer ${user.accessToken}`;
  // Settle, then take idle RSS after a small warm-up upload and download.
  const warm = await fetch(`${node.clientUrl}/_matrix/media/v3/upload`, { method: 'POST', headers: { authorization }, body: randomBytes(1000) });
  const warmUri = ((await warm.json()) as { content_uri: string }).content_uri;
  await (await fetch(`${node.clientUrl}/_matrix/client/v1/media/download/${warmUri.slice(6)}`, { headers: { authorization } })).arrayBuffer();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idle = rssBytes(node.pid);

  const upHash = createHash('sha256');
  const upSampler = sampler(node.pid);
  let started = process.hrtime.bigint();
  const uploaded = await fetch(`${node.clientUrl}/_matrix/media/v3/upload?filename=big.bin`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/octet-stream', 'content-length': String(totalBytes) },
    body: body(upHash),
    duplex: 'half',
  });
  const uploadSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const uploadPeak = upSampler.stop();
  if (uploaded.status !== 200) throw new Error(`upload answered ${uploaded.status}: ${await uploaded.text()}`);
  const uri = ((await uploaded.json()) as { content_uri: string }).content_uri;

  const downHash = createHash('sha256');
  const downSampler = sampler(node.pid);
  started = process.hrtime.bigint();
  const downloaded = await fetch(`${node.clientUrl}/_matrix/client/v1/media/download/${uri.slice(6)}`, { headers: { authorization } });
  let received = 0;
  for await (const chunk of downloaded.body ?? []) {
    received += (chunk as Uint8Array).byteLength;
    downHash.update(chunk as Uint8Array);
  }
  const downloadSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const downloadPeak = downSampler.stop();
  if (received !== totalBytes || downHash.digest('hex') !== upHash.digest('hex')) throw new Error('download differs from upload');

  const MB = 1024 * 1024;
  const result = {
    benchmark: 'media',
    file_mb: mb,
    encrypted,
    upload_mb_per_s: Math.round((totalBytes / MB / uploadSeconds) * 10) / 10,
    download_mb_per_s: Math.round((totalBytes / MB / downloadSeconds) * 10) / 10,
    idle_rss_mb: Math.round(idle / MB),
    upload_peak_rss_mb: Math.round(uploadPeak / MB),
    download_peak_rss_mb: Math.round(downloadPeak / MB),
    peak_over_idle_mb: Math.round((Math.max(uploadPeak, downloadPeak) - idle) / MB),
    target_over_idle_mb: 50,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (result.peak_over_idle_mb > result.target_over_idle_mb) process.exitCode = 1;
} finally {
  await node.stop();
}
