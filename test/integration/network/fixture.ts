/**
 * A throwaway network world for one test: its own state root and project name, processes
 * started inside namespaces with nsenter + busybox, and a cleanup that removes all of it
 * (processes, links, netns files, allocations) even when the test failed.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { cleanupProject, createNetns, netnsPathFor } from '../../../src/network/index.js';

export interface World {
  root: string;
  project: string;
  netns(id: string): string;
  /** runs a busybox shell command in a namespace; resolves with stdout or rejects */
  sh(netnsFile: string, cmd: string, timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** starts a long-running busybox command in a namespace (killed at cleanup) */
  bg(netnsFile: string, cmd: string): ChildProcess & { out: () => string };
  /** starts `node -e script` in a namespace (busybox nc has no UDP mode) */
  node(netnsFile: string, script: string, args?: string[]): ChildProcess & { out: () => string };
  cleanup(): Promise<void>;
}

export function makeWorld(): World {
  const root = mkdtempSync(path.join(tmpdir(), 'tsc-net-'));
  const project = 'tsct' + randomBytes(3).toString('hex');
  const procs: ChildProcess[] = [];
  return {
    root,
    project,
    netns(id: string) {
      const f = netnsPathFor(root, project, id);
      createNetns(f);
      return f;
    },
    sh(netnsFile, cmd, timeoutMs = 10_000) {
      return new Promise((resolve) => {
        execFile('nsenter', [`--net=${netnsFile}`, 'busybox', 'sh', '-c', cmd], { timeout: timeoutMs }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout, stderr });
        });
      });
    },
    bg(netnsFile, cmd) {
      const p = spawn('nsenter', [`--net=${netnsFile}`, 'busybox', 'sh', '-c', `exec ${cmd}`], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      p.stdout!.on('data', (d) => (out += d));
      p.stderr!.on('data', (d) => (out += d));
      procs.push(p);
      return Object.assign(p, { out: () => out });
    },
    node(netnsFile, script, args = []) {
      const p = spawn('nsenter', [`--net=${netnsFile}`, process.execPath, '-e', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      p.stdout!.on('data', (d) => (out += d));
      p.stderr!.on('data', (d) => (out += d));
      procs.push(p);
      return Object.assign(p, { out: () => out });
    },
    async cleanup() {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await Promise.all(procs.map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
      cleanupProject(root, project);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, (err, stdout) => (err ? reject(err) : resolve(stdout))));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `fn` returns true (polling), or throws after `ms`. */
export async function until(fn: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** node -e script: a UDP server printing "ready" then every datagram, echoing it back upper-cased. */
export const UDP_ECHO = `
const s = require('dgram').createSocket('udp4');
s.on('message', (m, r) => { process.stdout.write('got:' + m + '\\n'); s.send(Buffer.from(String(m).toUpperCase()), r.port, r.address); });
s.bind(Number(process.argv[1]), process.argv[2] || '0.0.0.0', () => process.stdout.write('ready\\n'));
`;

/** node -e script: sends argv[3] to argv[1]:argv[2] over UDP, prints the reply, exits. */
export const UDP_SEND = `
const s = require('dgram').createSocket('udp4');
const t = setTimeout(() => { process.stdout.write('no-reply\\n'); process.exit(3); }, 3000);
s.on('message', (m) => { process.stdout.write('reply:' + m + '\\n'); clearTimeout(t); s.close(); });
s.send(Buffer.from(process.argv[3]), Number(process.argv[2]), process.argv[1]);
`;
