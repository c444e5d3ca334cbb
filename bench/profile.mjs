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

function summarizeProfile(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
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
  if (cmdline.includes('supervisor/main.js')) return 'supervisor';
  if (cmdline.includes('bin/tscompose.js')) return 'CLI';
  if (/init\/main\.js/.test(cmdline)) return 'init stage';
  return cmdline.slice(0, 60);
}

function parseStrace(file, tscRoot) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const execs = [];
  const cats = { 'mount/umount/pivot_root': [0, 0], 'netlink send/recv': [0, 0], 'cgroup fs (open/write/mkdir/rmdir)': [0, 0], 'unix socket to supervisor (connect/send/recv)': [0, 0], 'clone/clone3 (process creation)': [0, 0], 'unshare/setns': [0, 0] };
  let first = null;
  let last = null;
  const exits = [];
  for (const l of lines) {
    const m = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/.exec(l);
    if (!m) continue;
    const pid = Number(m[1]);
    const ts = Number(m[2]);
    const rest = m[3];
    first ??= ts;
    last = ts;
    const dur = Number(/<(\d+\.\d+)>\s*$/.exec(rest)?.[1] ?? 0);
    const add = (k) => {
      cats[k][0] += dur;
      cats[k][1] += 1;
    };
    if (rest.startsWith('execve(')) {
      const argv = /execve\("([^"]+)", \[(.*?)\]/.exec(rest);
      if (argv && !/= -1/.test(rest)) execs.push({ pid, ts, cmd: argv[1], args: argv[2].replace(/"/g, '') });
    } else if (/^(mount|umount2|pivot_root)\(/.test(rest)) add('mount/umount/pivot_root');
    else if (/^(sendto|sendmsg|recvfrom|recvmsg)\(\d+<NETLINK/.test(rest)) add('netlink send/recv');
    else if (/^(openat|mkdir|mkdirat|rmdir|unlinkat)\(.*\/sys\/fs\/cgroup/.test(rest) || /^write\(\d+<\/sys\/fs\/cgroup/.test(rest)) add('cgroup fs (open/write/mkdir/rmdir)');
    else if (/^(connect|sendto|sendmsg|recvfrom|recvmsg|write|read)\(\d+<(UNIX|socket)/.test(rest) && (rest.includes(tscRoot) || rest.includes('UNIX'))) add('unix socket to supervisor (connect/send/recv)');
    else if (/^(clone|clone3|vfork)\(/.test(rest)) add('clone/clone3 (process creation)');
    else if (/^(unshare|setns)\(/.test(rest)) add('unshare/setns');
    else if (rest.startsWith('+++ exited') || rest.startsWith('exit_group(')) exits.push({ pid, ts });
  }
  return { first, last, execs, cats, exits };
}

export async function profileRun({ repo, tmp, env, dir, log }) {
  const tscBin = path.join(repo, 'bin/tscompose.js');
  const base = ['-p', 'tscbprof', '-f', path.join(dir, 'compose.yaml')];
  let md = '## Where `tscompose run --rm svc true` spends its time\n\n';

  // 1. CPU profiles
  const profDir = path.join(tmp, 'cpuprof');
  mkdirSync(profDir, { recursive: true });
  const penv = { ...env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir}` };
  log('profile: run --rm with --cpu-prof');
  const r = runCmd(process.execPath, [tscBin, ...base, 'run', '--rm', 'svc', 'true'], penv, dir);
  const d = runCmd(process.execPath, [tscBin, ...base, 'down', '-t', '0'], penv, dir);
  md += `CPU profiles (\`NODE_OPTIONS="--cpu-prof --cpu-prof-dir=DIR" tscompose run --rm svc true\`, then \`down\`; wall ${r.secs.toFixed(3)} s with profiling${r.ok ? '' : ', FAILED: ' + r.stderr.slice(0, 200)}):\n\n`;
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  // Profiles are named CPU.<date>.<time>.<pid>.<tid>.<seq>; match pid to the process from its argv
  // is not recorded, so classify each by the modules it ran.
  const summaries = files.map((f) => ({ f, ...summarizeProfile(path.join(profDir, f)) }));
  summaries.sort((a, b) => a.f.localeCompare(b.f));
  for (const s of summaries) {
    const cats = s.self.map(([c]) => c);
    const kind = cats.some((c) => c.includes('src/supervisor')) && !cats.some((c) => c.includes('src/cli'))
      ? 'supervisor process'
      : cats.some((c) => c.includes('src/cli'))
        ? 'CLI process'
        : cats.some((c) => c.includes('src/engine'))
          ? 'init stage process'
          : 'node process';
    const busy = s.self.filter(([c]) => !c.startsWith('idle')).reduce((a, [, v]) => a + v, 0);
    md += `- ${kind} (${s.f}): profiled ${s.total.toFixed(0)} ms, on CPU ${busy.toFixed(0)} ms; biggest self-time shares: `;
    md += s.self
      .filter(([c]) => !c.startsWith('idle'))
      .slice(0, 7)
      .map(([c, v]) => `${c} ${v.toFixed(0)} ms (${((100 * v) / busy).toFixed(0)}%)`)
      .join(', ');
    md += '\n';
  }
  void d;

  // 2. strace timeline
  const haveStrace = spawnSync('sh', ['-c', 'command -v strace']).status === 0;
  if (!haveStrace) return md + '\nstrace is not installed: no wall-clock breakdown.\n';
  log('profile: run --rm under strace');
  const trace = path.join(tmp, 'run.strace');
  const sr = runCmd(
    'strace',
    ['-f', '-ttt', '-T', '-y', '-s', '200', '-o', trace,
      '-e', 'trace=execve,clone,clone3,vfork,mount,umount2,pivot_root,unshare,setns,openat,mkdir,mkdirat,rmdir,write,sendto,sendmsg,recvfrom,recvmsg,connect,exit_group',
      process.execPath, tscBin, ...base, 'run', '--rm', 'svc', 'true'],
    env,
    dir,
  );
  runCmd(process.execPath, [tscBin, ...base, 'down', '-t', '0'], env, dir);
  const tscRoot = env.TSCOMPOSE_ROOT;
  const s = parseStrace(trace, tscRoot);
  md += `\nWall-clock timeline under \`strace -f -ttt -T -y\` (wall ${sr.secs.toFixed(3)} s traced${sr.ok ? '' : ', FAILED'}), offsets from the CLI's execve:\n\n`;
  for (const e of s.execs) {
    md += `- +${((e.ts - s.first) * 1000).toFixed(0)} ms  pid ${e.pid} execve ${processKind(e.args) === e.args.slice(0, 60) ? e.args.slice(0, 80) : processKind(e.args)}\n`;
  }
  md += `- +${((s.last - s.first) * 1000).toFixed(0)} ms  last traced event\n`;
  md += '\nTime inside syscall families (sum of strace -T durations, all processes; under strace):\n\n';
  for (const [k, [t, n]] of Object.entries(s.cats).sort((a, b) => b[1][0] - a[1][0])) {
    md += `- ${k}: ${(t * 1000).toFixed(1)} ms in ${n} calls\n`;
  }
  return md;
}
