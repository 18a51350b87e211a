/**
 * Measures the numbers of src/server/limits.ts (docs/operations.md, "Memory"):
 *
 * - amplification: for large real requests (a GiteaProvider with megabytes of Helm values, a Package in a
 *   namespace of thousands of Packages, a GitRepository with thousands of inline sources), the live memory
 *   held at the moment the answer is serialised — raw body buffer, parsed body, the hook's answer and its
 *   JSON — after a full GC, divided by the request size. Measured in onSend (the request and the answer are
 *   both still referenced there), through the real app (buildApp, every controller, memo off);
 * - baseline: the RSS of the process after building the app and answering every request of the default
 *   platform once (warm, idle, after a full GC).
 *
 * Run: `node --expose-gc --import tsx bench/memory.ts` (prints one JSON document).
 */
import { buildApp } from '../src/server/app.js';
import { controllers, decorators } from '../src/controllers/registry.js';
import { newMetrics } from '../src/server/metrics.js';
import { defaultPlatform, manySourcesRepository, packages, recordRequests, type RecordedRequest } from './requests.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const live = () => {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

function find(rs: RecordedRequest[], id: string): RecordedRequest {
  const r = rs.find((x) => x.id === id);
  if (!r) throw new Error(`no request for ${id}`);
  return r;
}

/** Helm values of about `bytes` bytes of JSON: a realistic mix of nested objects, lists and strings. */
function bigValues(bytes: number): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const entry = {
      enabled: i % 2 === 0,
      replicas: i % 5,
      image: { repository: `registry.example/team/component-${i}`, tag: `v1.${i}.0`, pullPolicy: 'IfNotPresent' },
      env: [
        { name: `FEATURE_${i}`, value: `value-${i}-${'x'.repeat(40)}` },
        { name: 'LOG_LEVEL', value: 'info' },
      ],
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    };
    extra[`component${i}`] = entry;
    size += JSON.stringify(entry).length + 16;
  }
  return { extra };
}

function shapes(target: number): { name: string; url: string; body: unknown }[] {
  const base = recordRequests([...defaultPlatform(), ...packages(3), manySourcesRepository(4)]);
  const gitea = structuredClone(find(base, 'GiteaProvider/idpbuilder-system/gitea'));
  (gitea.body as { parent: { spec: Record<string, unknown> } }).parent.spec.values = bigValues(target);

  // A Package whose namespace holds thousands of Packages (related objects), copied from a recorded one.
  const pkg = structuredClone(find(base, 'Package/idpbuilder-system/app-001'));
  const related = (pkg.body as { related: Record<string, Record<string, { metadata: { name: string } }>> }).related;
  const group = Object.keys(related).find((g) => g.startsWith('Package.'))!;
  const sample = Object.values(related[group]).find((o) => o.metadata.name === 'app-002')!;
  const one = JSON.stringify(sample).length;
  for (let i = 3; i < Math.ceil(target / one); i++) {
    const name = `app-${String(i).padStart(5, '0')}`;
    const copy = structuredClone(sample) as unknown as { metadata: { name: string; uid?: string }; spec: { argocd?: { destination?: { namespace?: string } } } };
    copy.metadata.name = name;
    copy.metadata.uid = `uid-${name}`;
    if (copy.spec.argocd?.destination) copy.spec.argocd.destination.namespace = name;
    related[group][`idpbuilder-system/${name}`] = copy as unknown as { metadata: { name: string } };
  }

  // A GitRepository with 64 inline sources (the schema's maximum) of large files.
  const repo = structuredClone(find(base, 'GitRepository/idpbuilder-system/many-sources'));
  const spec = (repo.body as { parent: { spec: { sources: Record<string, unknown>[] } } }).parent.spec;
  const sources: Record<string, unknown>[] = [];
  const perSource = Math.ceil(target / 64);
  for (let i = 0; i < 64; i++) {
    const lines: string[] = [];
    for (let j = 0, size = 0; size < perSource; j++) {
      const line = `key${j}: value-${i}-${j}`;
      lines.push(line);
      size += line.length + 1;
    }
    sources.push({ type: 'Inline', targetPath: `inline/${i}`, files: { 'values.yaml': `${lines.join('\n')}\n` } });
  }
  spec.sources = sources;
  return [
    { name: 'giteaprovider-large-values', url: gitea.url, body: gitea.body },
    { name: 'package-in-large-namespace', url: pkg.url, body: pkg.body },
    { name: 'gitrepository-many-sources', url: repo.url, body: repo.body },
  ];
}

async function main() {
  const target = Number(process.env.MEASURE_BYTES ?? 4 * 1024 * 1024);
  const app = buildApp({ controllers: controllers(), decorators: decorators(), metrics: newMetrics({ defaultMetrics: true }), responseMemoSeconds: 0, bodyLimit: 64 * 1024 * 1024 });
  let atSend = 0;
  app.addHook('onSend', async (_req, _reply, payload) => {
    atSend = live();
    return payload;
  });
  await app.ready();
  // baseline: every request of the default platform answered once (warm), then an idle process
  for (const r of recordRequests(defaultPlatform())) {
    const res = await app.inject({ method: 'POST', url: r.url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(r.body) });
    if (res.statusCode !== 200) throw new Error(`${r.id}: ${res.statusCode}`);
  }
  live();
  const baselineRss = process.memoryUsage().rss;
  const results: Record<string, unknown>[] = [];
  for (const s of shapes(target)) {
    const payload = JSON.stringify(s.body);
    const call = () => app.inject({ method: 'POST', url: s.url, headers: { 'content-type': 'application/json' }, payload });
    await call(); // warm up (compiled validators, caches)
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = live();
      const res = await call();
      if (res.statusCode !== 200) throw new Error(`${s.name}: ${res.statusCode} ${res.body.slice(0, 300)}`);
      runs.push(atSend - before);
    }
    const held = Math.max(...runs);
    results.push({ name: s.name, requestBytes: payload.length, liveBytesAtAnswer: held, amplification: Number((held / payload.length).toFixed(2)) });
  }
  gc!();
  await app.close();
  const rss = process.memoryUsage().rss;
  const mib = (n: number) => Number((n / 2 ** 20).toFixed(1));
  process.stdout.write(`${JSON.stringify({ node: process.version, targetBytes: target, baselineRssMiB: mib(baselineRss), results, rssAfterMiB: mib(rss) }, null, 2)}\n`);
}

void main();
