// Where the time of one `tscompose run --rm svc true` goes, in two views:
//  1. CPU: V8 profiles (--cpu-prof through NODE_OPTIONS, so the CLI, the supervisor and any Node
//     init stage each write one), self time summed per module family (Node's module loader,
//     tscompose's src folders, koffi, commander, ...).
//  2. Wall clock: one strace of the whole command tree (-f -ttt -T -y): the timeline of process
//     starts (CLI, supervisor, init stage, the container's `true`), and the time spent inside
//     mount/pivot_root, netlink, cgroup file writes and supervisor socket round trips.
// strace slows every traced syscall down, so its shares are indicative; the un-traced wall time
// is the one in the main table.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

function runCmd(cmd, args, env, cwd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, cwd, encoding: 'utf8', timeout: 300_000 });
  return { ok: r.status === 0, secs: Number(process.hrtime.bigint() - t0) / 1e9, stderr: r.stderr ?? '', stdout: r.stdout ?? '' };
}

function category(url, fn) {
  if (!url) {
    if (fn === '(program)') return 'V8/native (program: parse, compile, startup)';
    if (fn === '(garbage collector)') return 'garbage collector';
    if (fn === '(idle)') return 'idle (waiting)';
    return `native: ${fn || '(anonymous)'}`;
  }
  if (url.startsWith('node:internal/modules') || url.startsWith('node:internal/process/') || url.includes('esm/')) return 'Node module loading / bootstrap';
  if (url.startsWith('node:')) return `Node built-ins (${url.replace(/^node:(internal\/)?/, '').split('/')[0]})`;
  const m = /\/dist\/([^/]+)\//.exec(url);
  if (m && !url.includes('node_modules')) return `tscompose src/${m[1]}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `npm: ${nm[1]}`;
  return url;
}

function summarizeProfile(p) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // time per sample: timeDeltas[i] belongs to samples[i]
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const dt = (p.timeDeltas[i] ?? 0) / 1000; // ms
    const c = category(n.callFrame.url, n.callFrame.functionName);
    self.set(c, (self.get(c) ?? 0) + dt);
  }
  const total = (p.endTime - p.startTime) / 1000;
  return { total, self: [...self.entries()].sort((a, b) => b[1] - a[1]) };
}

function processKind(cmdline) {
  if (/supervisor(\/main\.js|\.mjs)/.test(cmdline)) return 'supervisor';
  if (cmdline.includes('bin/tscompose.js')) return 'CLI';
  if (/init\/main\.js/.test(cmdline)) return 'init stage';
  return cmdline.slice(0, 80);
}

function parseStrace(file, tscRoot) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const execs = [];
  const cats = {
    'mount/umount/pivot_root': [0, 0],
    'netlink send/recv': [0, 0],
    'cgroup fs (open/write/mkdir/rmdir)': [0, 0],
    'unix socket to supervisor (connect/send/recv)': [0, 0],
    'clone/clone3 (process creation)': [0, 0],
    'unshare/setns': [0, 0],
  };
  let first = null;
  let last = null;
  const exits = [];
  const spans = {};
  const markers = new Map();
  for (const l of lines) {
    const m = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/.exec(l);
    if (!m) continue;
    const pid = Number(m[1]);
    const ts = Number(m[2]);
    const rest = m[3];
    first ??= ts;
    last = ts;
    const dur = Number(/<(\d+\.\d+)>\s*$/.exec(rest)?.[1] ?? 0);
    const mark = (label, last = false) => {
      const key = `${pid}\t${label}`;
      if (last || !markers.has(key)) markers.set(key, ts);
    };
    if (rest.includes('koffi.node') && rest.startsWith('openat(')) mark('koffi native module opened');
    if (/^mount\(/.test(rest)) {
      mark('first mount');
      mark('last mount', true);
    }
    if (/NETLINK/.test(rest) && /^(sendto|sendmsg|write)\(/.test(rest)) {
      mark('first netlink request');
      mark('last netlink request', true);
    }
    if (/^openat\(.*cgroup\.procs/.test(rest)) mark('cgroup.procs opened');
    if (/^(connect)\(.*supervisor/.test(rest)) mark('connect to supervisor socket');
    if (rest.startsWith('+++ exited')) mark('exit');
    const add = (k) => {
      cats[k][0] += dur;
      cats[k][1] += 1;
      spans[k] ??= [ts, ts];
      spans[k][1] = ts;
    };
    if (rest.startsWith('execve(')) {
      const argv = /execve\("([^"]+)", \[(.*?)\]/.exec(rest);
      if (argv && !/= -1/.test(rest)) execs.push({ pid, ts, cmd: argv[1], args: argv[2].replace(/"/g, '') });
    } else if (/^(mount|umount2|pivot_root)\(/.test(rest)) add('mount/umount/pivot_root');
    else if (/^(sendto|sendmsg|recvfrom|recvmsg|write|read)\(\d+<NETLINK/.test(rest)) add('netlink send/recv');
    else if (/^(openat|mkdir|mkdirat|rmdir|unlinkat)\(.*\/sys\/fs\/cgroup/.test(rest) || /^write\(\d+<\/sys\/fs\/cgroup/.test(rest))
      add('cgroup fs (open/write/mkdir/rmdir)');
    else if (/^(connect|sendto|sendmsg|recvfrom|recvmsg|write|read)\(\d+<(UNIX|socket)/.test(rest) && (rest.includes(tscRoot) || rest.includes('UNIX')))
      add('unix socket to supervisor (connect/send/recv)');
    else if (/^(clone|clone3|vfork)\(/.test(rest)) add('clone/clone3 (process creation)');
    else if (/^(unshare|setns)\(/.test(rest)) add('unshare/setns');
    else if (rest.startsWith('+++ exited') || rest.startsWith('exit_group(')) exits.push({ pid, ts });
  }
  return { first, last, execs, cats, exits, spans, markers };
}

export async function profileRun({ repo, tmp, env, dir, log }) {
  const tscBin = path.join(repo, 'bin/tscompose.js');
  const base = ['-p', 'tscbprof', '-f', path.join(dir, 'compose.yaml')];
  let md = '## Where `tscompose run --rm svc true` spends its time\n\n';

  // 1. CPU profiles
  const profDir = path.join(tmp, 'cpuprof');
  mkdirSync(profDir, { recursive: true });
  const hook = path.join(repo, 'bench/cpu-prof-hook.cjs');
  const penv = { ...env, NODE_OPTIONS: `--require=${hook}`, TSC_BENCH_PROF_DIR: profDir };
  log('profile: run --rm with a V8 CPU profile of every Node process');
  const r = runCmd(process.execPath, [tscBin, ...base, 'run', '--rm', 'svc', 'true'], penv, dir);
  runCmd(process.execPath, [tscBin, ...base, 'down', '-t', '0'], env, dir);
  md += `CPU profiles (\`NODE_OPTIONS=--require=bench/cpu-prof-hook.cjs tscompose run --rm svc true\`, wall ${r.secs.toFixed(3)} s with profiling${r.ok ? '' : ', FAILED: ' + r.stderr.slice(0, 200)}); the supervisor's profile is written when \`down\` stops it:\n\n`;
  const files = readdirSync(profDir).filter((f) => f.endsWith('.json'));
  for (const f of files) {
    const data = JSON.parse(readFileSync(path.join(profDir, f), 'utf8'));
    const kind = processKind(data.argv.join(' '));
    const s = summarizeProfile(data.profile);
    const busy = s.self.filter(([c]) => !c.startsWith('idle')).reduce((a, [, v]) => a + v, 0);
    md += `- ${kind} (pid ${f.replace('.json', '')}): Node bootstrap before the profiler started ${data.preloadAtMs.toFixed(0)} ms; then profiled ${s.total.toFixed(0)} ms, of which on CPU ${busy.toFixed(0)} ms. Biggest self-time shares: `;
    md += s.self
      .filter(([c]) => !c.startsWith('idle'))
      .slice(0, 8)
      .map(([c, v]) => `${c} ${v.toFixed(0)} ms (${((100 * v) / busy).toFixed(0)}%)`)
      .join(', ');
    md += '\n';
  }

  // 2. strace timeline
  const haveStrace = spawnSync('sh', ['-c', 'command -v strace']).status === 0;
  if (!haveStrace) return md + '\nstrace is not installed: no wall-clock breakdown.\n';
  log('profile: run --rm under strace');
  const trace = path.join(tmp, 'run.strace');
  const sr = runCmd(
    'strace',
    [
      '-f',
      '-ttt',
      '-T',
      '-yy',
      '-s',
      '200',
      '-o',
      trace,
      '-e',
      'trace=execve,clone,clone3,vfork,mount,umount2,pivot_root,unshare,setns,openat,mkdir,mkdirat,rmdir,write,read,sendto,sendmsg,recvfrom,recvmsg,connect,exit_group',
      process.execPath,
      tscBin,
      ...base,
      'run',
      '--rm',
      'svc',
      'true',
    ],
    env,
    dir,
  );
  runCmd(process.execPath, [tscBin, ...base, 'down', '-t', '0'], env, dir);
  const tscRoot = env.TSCOMPOSE_ROOT;
  const s = parseStrace(trace, tscRoot);
  md += `\nWall-clock timeline under \`strace -f -ttt -T -yy\` (wall ${sr.secs.toFixed(3)} s traced${sr.ok ? '' : ', FAILED'}), offsets from the CLI's execve:\n\n`;
  const events = s.execs.map((e) => ({ ts: e.ts, text: `pid ${e.pid} execve ${processKind(e.args)}` }));
  const execPids = new Set(s.execs.map((e) => String(e.pid)));
  for (const [key, ts] of s.markers) {
    const [pid, label] = key.split('\t');
    if (!execPids.has(pid)) continue; // threads (libuv pool) and helper forks
    events.push({ ts, text: `pid ${pid} ${label}` });
  }
  events.sort((a, b) => a.ts - b.ts);
  for (const e of events) {
    md += `- +${((e.ts - s.first) * 1000).toFixed(0)} ms  ${e.text}\n`;
  }
  md += `- +${((s.last - s.first) * 1000).toFixed(0)} ms  last traced event\n`;
  md += '\nTime inside syscall families (sum of strace -T durations, all processes; under strace):\n\n';
  for (const [k, [t, n]] of Object.entries(s.cats).sort((a, b) => b[1][0] - a[1][0])) {
    const sp = s.spans[k];
    const span = sp ? `, first at +${((sp[0] - s.first) * 1000).toFixed(0)} ms, last at +${((sp[1] - s.first) * 1000).toFixed(0)} ms` : '';
    md += `- ${k}: ${(t * 1000).toFixed(1)} ms in ${n} calls${span}\n`;
  }
  return md;
}

/**
 * `up -d` of N sleep services: CPU profiles of the CLI and the supervisor (the supervisor's is
 * written when `down` stops it, so it covers up + down), and a light strace (execve only) of
 * the whole tree for the per-container init stage time: from the init stage's execve of node
 * to its execve of the service's command.
 */
export async function profileUp({ repo, tmp, env, dir, log, n }) {
  const tscBin = path.join(repo, 'bin/tscompose.js');
  const base = ['-p', 'tscbprofup', '-f', path.join(dir, 'compose.yaml')];
  let md = `\n## Where \`tscompose up -d\` of ${n} services spends its time\n\n`;
  const profDir = path.join(tmp, `cpuprof-up${n}`);
  mkdirSync(profDir, { recursive: true });
  const hook = path.join(repo, 'bench/cpu-prof-hook.cjs');
  const penv = { ...env, NODE_OPTIONS: `--require=${hook}`, TSC_BENCH_PROF_DIR: profDir };
  log(`profile: up -d N=${n} with V8 CPU profiles`);
  const r = runCmd(process.execPath, [tscBin, ...base, 'up', '-d'], penv, dir);
  const d = runCmd(process.execPath, [tscBin, ...base, 'down', '-t', '0'], env, dir);
  md += `CPU profiles (same preload hook; \`up -d\` wall ${r.secs.toFixed(3)} s${r.ok ? '' : ' FAILED: ' + r.stderr.slice(0, 200)}, \`down -t 0\` ${d.secs.toFixed(3)} s (its CLI not profiled; the supervisor writes its profile when down stops it)):\n\n`;
  for (const f of readdirSync(profDir).filter((x) => x.endsWith('.json'))) {
    const data = JSON.parse(readFileSync(path.join(profDir, f), 'utf8'));
    const s = summarizeProfile(data.profile);
    const busy = s.self.filter(([c]) => !c.startsWith('idle')).reduce((a, [, v]) => a + v, 0);
    const cmd = data.argv.slice(2).join(' ');
    const exit =
      data.exitCode === 3 ? ' exited 3 (another supervisor held the lock: a redundant start)' : data.exitCode !== undefined ? ` exited ${data.exitCode}` : '';
    md += `- ${processKind(data.argv.join(' '))}${cmd.includes(' down') ? ' (down)' : cmd.includes(' up') ? ' (up)' : ''}${exit}: on CPU ${busy.toFixed(0)} ms of ${s.total.toFixed(0)} ms profiled (+${data.preloadAtMs.toFixed(0)} ms Node bootstrap before it). Top: `;
    md += s.self
      .filter(([c]) => !c.startsWith('idle'))
      .slice(0, 6)
      .map(([c, v]) => `${c} ${v.toFixed(0)} ms (${((100 * v) / busy).toFixed(0)}%)`)
      .join(', ');
    md += '\n';
  }

  if (spawnSync('sh', ['-c', 'command -v strace']).status !== 0) return md;
  log(`profile: up -d N=${n} under strace -e execve`);
  const trace = path.join(tmp, `up${n}.strace`);
  // strace follows the detached supervisor too, so it only ends after `down`: run it in the
  // background and wait for the CLI's own exit in the trace.
  const { spawn } = await import('node:child_process');
  const t0 = Date.now();
  const st = spawn(
    'strace',
    ['-f', '-ttt', '-e', 'trace=execve', '-e', 'signal=none', '-s', '120', '-o', trace, process.execPath, tscBin, ...base, 'up', '-d'],
    {
      env: { ...process.env, ...env },
      cwd: dir,
      stdio: 'ignore',
    },
  );
  const stExit = new Promise((res) => st.on('exit', res));
  let cliPid = null;
  for (;;) {
    await new Promise((res) => setTimeout(res, 100));
    let text;
    try {
      text = readFileSync(trace, 'utf8');
    } catch {
      continue;
    }
    cliPid ??= /^(\d+) /.exec(text)?.[1] ?? null;
    if (cliPid && new RegExp(`^${cliPid} .*\\+\\+\\+ exited`, 'm').test(text)) break;
    if (st.exitCode !== null || Date.now() - t0 > 300_000) break;
  }
  runCmd(process.execPath, [tscBin, ...base, 'down', '-t', '0'], env, dir);
  await Promise.race([stExit, new Promise((res) => setTimeout(res, 30_000))]);
  if (st.exitCode === null) st.kill('SIGKILL');
  const lines = readFileSync(trace, 'utf8').split('\n');
  let first = null;
  let cliExit = null;
  const initStart = new Map();
  const durations = [];
  let lastCmd = null;
  let firstInit = null;
  let supStart = null;
  for (const l of lines) {
    const m = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/.exec(l);
    if (!m) continue;
    const [, pid, tsS, rest] = m;
    const ts = Number(tsS);
    first ??= ts;
    if (pid === cliPid && rest.startsWith('+++ exited')) cliExit = ts;
    if (!rest.startsWith('execve(') || /= -1/.test(rest)) continue;
    if (/supervisor(\/main\.js|\.mjs)/.test(rest)) supStart ??= ts;
    else if (rest.includes('init/main.js')) {
      initStart.set(pid, ts);
      firstInit ??= ts;
    } else if (initStart.has(pid)) {
      durations.push(ts - initStart.get(pid));
      initStart.delete(pid);
      lastCmd = ts;
    }
  }
  const ms = (x) => (x === null ? '–' : `${((x - first) * 1000).toFixed(0)} ms`);
  const sorted = durations.sort((a, b) => a - b);
  const med = sorted.length ? sorted[Math.floor(sorted.length / 2)] * 1000 : 0;
  md += `\nUnder \`strace -f -e trace=execve\`: supervisor started at +${ms(supStart)}, first init stage at +${ms(firstInit)}, last service command exec'd at +${ms(lastCmd)}, CLI exit at +${ms(cliExit)}. `;
  md += `${sorted.length} init stages (Node processes, one per container: execve of node → execve of the service command): median ${med.toFixed(0)} ms, min ${(sorted[0] * 1000 || 0).toFixed(0)} ms, max ${((sorted[sorted.length - 1] ?? 0) * 1000).toFixed(0)} ms, sum ${(sorted.reduce((a, b) => a + b, 0) * 1000).toFixed(0)} ms.\n`;
  return md;
}
