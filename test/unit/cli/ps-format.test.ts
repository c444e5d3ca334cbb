import { describe, expect, it } from 'vitest';
import { ellipsis, goTimeString, humanDuration, portsText } from '../../../src/apply/inspect.js';
import { parseTemplate, renderTemplate } from '../../../src/cli/template.js';

const FIELDS = ['Name', 'State', 'ID', 'Publishers', 'ExitCode'];
const row = { Name: 'demo-web-1', State: 'running', ID: 'abcdef012345', Publishers: null, ExitCode: 0 };

describe('ps --format templates', () => {
  it('renders {{.Field}}, {{json .}}, {{json .Field}} and the \\t escape', () => {
    expect(renderTemplate(parseTemplate('{{.Name}} {{.State}}', FIELDS), [row])).toBe('demo-web-1 running\n');
    expect(renderTemplate(parseTemplate('{{json .}}', FIELDS), [row])).toBe(JSON.stringify(row) + '\n');
    expect(renderTemplate(parseTemplate('{{json .Publishers}}|{{.Publishers}}|{{ .ExitCode }}', FIELDS), [row])).toBe('null|[]|0\n');
    expect(renderTemplate(parseTemplate('{{.Name}}\\t{{.ID}}', FIELDS), [row])).toBe('demo-web-1\tabcdef012345\n');
    const pub = { ...row, Publishers: [{ URL: '0.0.0.0', TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp' }] };
    expect(renderTemplate(parseTemplate('{{.Publishers}}', FIELDS), [pub])).toBe('[{0.0.0.0 80 8080 tcp}]\n');
  });

  it('table templates get a header row and aligned columns', () => {
    expect(renderTemplate(parseTemplate('table {{.Name}}\\t{{.ID}}', FIELDS), [row])).toBe('NAME         CONTAINER ID\ndemo-web-1   abcdef012345\n');
  });

  it('refuses what it cannot evaluate, naming it', () => {
    expect(() => parseTemplate('{{range .}}x{{end}}', FIELDS)).toThrow(/unsupported --format template action "\{\{range \.\}\}"/);
    expect(() => parseTemplate('{{.Nope}}', FIELDS)).toThrow(/there is no field "Nope"/);
    expect(() => parseTemplate('{{.Name | upper}}', FIELDS)).toThrow(/only one field per action/);
    expect(() => parseTemplate('{{.Label "a"}}', FIELDS)).toThrow(/only one field per action/);
    expect(() => parseTemplate('{{.Name', FIELDS)).toThrow(/never closed/);
    try {
      parseTemplate('{{if .Name}}', FIELDS);
    } catch (e) {
      expect((e as { code: string }).code).toBe('FORMAT');
    }
  });
});

describe('Docker value formats', () => {
  it('ellipsis, Go time strings, go-units durations, ports', () => {
    expect(ellipsis('docker-entrypoint.sh postgres', 20)).toBe('docker-entrypoint.s…');
    expect(ellipsis('short', 20)).toBe('short');
    expect(goTimeString(Date.parse('2024-01-02T15:04:05.678Z'))).toBe('2024-01-02 15:04:05 +0000 UTC');
    expect(humanDuration(500)).toBe('Less than a second');
    expect(humanDuration(1000)).toBe('1 second');
    expect(humanDuration(59_000)).toBe('59 seconds');
    expect(humanDuration(61_000)).toBe('About a minute');
    expect(humanDuration(5 * 60_000)).toBe('5 minutes');
    expect(humanDuration(3_600_000)).toBe('About an hour');
    expect(humanDuration(3 * 86_400_000)).toBe('3 days');
    expect(
      portsText([
        { URL: '0.0.0.0', TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp' },
        { URL: '::', TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp' },
      ]),
    ).toBe('0.0.0.0:8080->80/tcp, [::]:8080->80/tcp');
    expect(portsText(null)).toBe('');
  });
});

describe('log prefixes', () => {
  it('drop the project from default names only, as Compose', async () => {
    const { logName } = await import('../../../src/cli/log-printer.js');
    expect(logName('demo', { name: 'demo-web-1', service: 'web', number: 1 })).toBe('web-1');
    expect(logName('demo', { name: 'my-db', service: 'db', number: 1 })).toBe('my-db');
    expect(logName('demo', { name: 'demo-web-run-0123456789ab', service: 'web', number: 1, oneOff: true })).toBe('demo-web-run-0123456789ab');
  });
});
