/**
 * `build:` through the CLI, on the real builder and kernel: `up` builds a missing image and the
 * built service serves a client by name; a changed COPY input is rebuilt by `up --build` and only
 * its service is recreated; `build -q` prints nothing and the plan says "image changed";
 * `up --no-build` refuses a missing image naming the service; a failing build stops `up` before
 * any container changes.
 */
import { describe, expect, it } from 'vitest';
import { CliProject, waitFor } from '../../support/cli.js';

// each test's projects are brought down and checked for leftovers by test/integration/setup-file.ts
const COMPOSE = `
services:
  app:
    build: ./app
  client:
    image: busybox:latest
    command: sleep 3600
    depends_on: [app]
`;

const DOCKERFILE = `FROM busybox:latest
RUN mkdir -p /www && echo built-by-run > /www/run.txt
COPY index.html /www/index.html
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
`;

/** What the client gets from http://app/ (the COPY'd page, then the RUN-made file), once app serves it. */
async function fetchFromClient(p: CliProject, want: string): Promise<string> {
  return waitFor(
    async () => {
      const r = await p.run(['exec', '-T', 'client', 'sh', '-c', 'wget -qO- http://app/ && wget -qO- http://app/run.txt'], { timeoutMs: 10_000 });
      return r.code === 0 && r.stdout.includes(want) ? r.stdout : undefined;
    },
    20_000,
    'client fetching http://app/',
  );
}

const pids = async (p: CliProject): Promise<Record<string, number>> => Object.fromEntries((await p.ps()).map((c) => [c.Service as string, c.Pid as number]));

describe('build: wired into up, build and plan', () => {
  it('builds, serves by name, rebuilds a changed COPY input and recreates only that service; --no-build and a failing build change nothing', async () => {
    const p = await CliProject.create(COMPOSE, { 'app/Dockerfile': DOCKERFILE, 'app/index.html': 'version one\n' });

    // up builds the missing image <project>-app on its own
    const up = await p.ok(['up', '-d']);
    expect(up.stderr).toContain(`app  Building ${p.name}-app`);
    expect(up.stderr).toMatch(/app\s+#2 \[2\/4\] RUN mkdir/);
    expect(await fetchFromClient(p, 'version one')).toBe('version one\nbuilt-by-run\n');
    const first = await pids(p);

    // a changed copied file: up --build rebuilds (RUN from the cache, COPY again), recreates app only
    p.write('app/index.html', 'version two\n');
    const again = await p.ok(['up', '--build', '-d', '-t', '0']);
    expect(again.stderr).toMatch(/app\s+#2 CACHED/);
    expect(again.stderr).toMatch(/app\s+#3 DONE/);
    expect(await fetchFromClient(p, 'version two')).toContain('version two');
    const second = await pids(p);
    expect(second.client).toBe(first.client);
    expect(second.app).not.toBe(first.app);

    // build -q: nothing but errors; the plan then says why app is recreated, and nothing else changes
    p.write('app/index.html', 'version three\n');
    const quiet = await p.ok(['build', '-q']);
    expect(quiet.stdout + quiet.stderr).toBe('');
    const plan = (await p.ok(['plan'])).stdout;
    expect(plan).toMatch(/recreate\s+\S+-app-1 \(app\): image changed from sha256:[0-9a-f]{12} to sha256:[0-9a-f]{12}/);
    expect(plan).not.toMatch(/recreate\s+\S+-client-1/);

    // up --no-build: a missing image is an error naming the service
    await p.ok(['image', 'rm', `${p.name}-app`]);
    const noBuild = await p.run(['up', '--no-build', '-d']);
    expect(noBuild.code).toBe(1);
    expect(noBuild.stderr).toMatch(new RegExp(`--no-build was given and the image of service "app" \\(${p.name}-app\\) is not in the local store`));

    // a failing build stops up with the builder's message (its Dockerfile line) before any container changes
    p.write('app/Dockerfile', 'FROM busybox:latest\nRUN echo about to fail && false\n');
    const failed = await p.run(['up', '--build', '-d', '-t', '0']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/error: .*Dockerfile:2/);
    expect(failed.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(await pids(p)).toEqual(second);
  });
});
