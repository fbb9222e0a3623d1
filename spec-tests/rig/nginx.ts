// nginx from Debian as the load balancer in front of several Stoa client processes
// (issue 12: "two client processes behind a load balancer (nginx from Debian, started by
// the test)"). Round robin, one request each, long-polls held as long as Stoa holds them.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from './nodes.ts';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx'];

/** The nginx binary, or undefined when it is not installed (the test then skips). */
export function nginxBinary(): string | undefined {
  return CANDIDATES.find((path) => existsSync(path));
}

export interface LoadBalancer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts nginx on a free loopback port, balancing over `upstreams` (`http://host:port`). */
export async function startLoadBalancer(upstreams: readonly string[]): Promise<LoadBalancer> {
  const binary = nginxBinary();
  if (binary === undefined) throw new Error('nginx is not installed');
  const prefix = await mkdtemp(join(tmpdir(), 'stoa-nginx-'));
  await mkdir(join(prefix, 'logs'));
  await mkdir(join(prefix, 'tmp'));
  const port = await findFreePort();
  const servers = upstreams.map((u) => `    server ${new URL(u).host};`).join('\n');
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const conf = `${user}worker_processes 1;
error_log ${join(prefix, 'logs', 'error.log')} warn;
pid ${join(prefix, 'nginx.pid')};
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'tmp', 'body')};
  proxy_temp_path ${join(prefix, 'tmp', 'proxy')};
  fastcgi_temp_path ${join(prefix, 'tmp', 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'tmp', 'uwsgi')};
  scgi_temp_path ${join(prefix, 'tmp', 'scgi')};
  upstream stoa {
${servers}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 50m;
    location / {
      proxy_pass http://stoa;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_read_timeout 120s;
      proxy_buffering off;
    }
  }
}
`;
  const confPath = join(prefix, 'nginx.conf');
  await writeFile(confPath, conf);
  const proc: ChildProcess = spawn(binary, ['-p', prefix, '-c', confPath, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  // Up once it answers (any status: the upstreams answer 404 on "/").
  for (let i = 0; ; i++) {
    try {
      await fetch(`${url}/health`);
      break;
    } catch {
      if (proc.exitCode !== null || i > 100) {
        await rm(prefix, { recursive: true, force: true });
        throw new Error(`nginx did not start:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  let stopped: Promise<void> | undefined;
  return {
    url,
    stop: () =>
      (stopped ??= (async () => {
        if (proc.exitCode === null) proc.kill('SIGTERM');
        await exited;
        await rm(prefix, { recursive: true, force: true });
      })()),
  };
}
