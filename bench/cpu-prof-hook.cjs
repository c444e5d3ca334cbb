// Preloaded through NODE_OPTIONS=--require (Node 20 refuses --cpu-prof there), so that every Node
// process of a tscompose command, the supervisor it spawns included, records a V8 CPU profile
// from the moment this file loads until it exits. Output: $TSC_BENCH_PROF_DIR/<pid>.json with
// the process's argv next to the profile. Node's own bootstrap before the preload is not in it.
'use strict';
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.TSC_BENCH_PROF_DIR;
if (dir) {
  const started = Date.now();
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  let written = false;
  const write = (code) => {
    if (written) return;
    written = true;
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      const uptimeAtPreload = process.uptime() * 1000 - (Date.now() - started);
      fs.writeFileSync(
        path.join(dir, `${process.pid}.json`),
        JSON.stringify({ argv: process.argv, exitCode: code, preloadAtMs: uptimeAtPreload, profile: res.profile }),
      );
    });
  };
  // Only on a normal exit: a signal listener here would change how the process reacts to signals.
  process.on('exit', write);
}
