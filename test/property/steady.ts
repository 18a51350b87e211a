/**
 * Steady states of the examples, for the perturbation and redaction tests: every file of examples/ (and
 * the built-in default platform, and a GitRepository with the GiteaProvider it names) is rendered with
 * `--assume-ready` semantics to a fixed point, and the last sync request render sent for every object
 * is kept. That request is what Metacontroller keeps sending once nothing changes.
 *
 * The Secrets the examples reference but do not define (credentials, TLS, keys) are added as inputs with
 * deterministic token-shaped values, so that controllers that read them reach their steady state too.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { controllers, decorators } from '../../src/controllers/registry.js';
import type { HookEnv, Hooks } from '../../src/kit/hooks.js';
import type { KubeObject, SyncRequest, SyncResponse } from '../../src/metacontroller/protocol.js';
import { render, renderHookEnv, RENDER_EPOCH } from '../../src/render/render.js';
import { DEFAULT_PLATFORM_YAML } from '../../src/render/default-platform.js';
import { EXAMPLES, exampleFiles } from '../support/examples.js';

export interface SteadyRequest {
  /** The example (file name, or `default platform`) the request comes from. */
  world: string;
  kind: string;
  /** `Kind/namespace/name` of the parent. */
  key: string;
  req: SyncRequest;
  /** The answer render got for this request (after the contract). */
  res: SyncResponse;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** A deterministic value shaped like the credential the key suggests, unique per Secret and key. */
function fakeValue(secret: string, key: string): string {
  const h = createHash('sha256').update(`${secret}/${key}`).digest('hex');
  if (key === 'username' || key === 'user') return 'admin';
  if (/github|gh/.test(secret) && key === 'token') return `ghp_${h.slice(0, 36)}`;
  if (/gitlab/.test(secret)) return `glpat-${h.slice(0, 20)}`;
  if (/key|pem|crt/.test(key)) return `-----BEGIN PRIVATE KEY-----\nMII${h}\n-----END PRIVATE KEY-----\n`;
  return `pw-${h.slice(0, 24)}`;
}

/** Secret references (`{name, namespace?, key?}` under a key ending in `SecretRef`) anywhere in a spec. */
function secretRefs(spec: unknown, ns: string): { name: string; namespace: string; keys: string[] }[] {
  const out: { name: string; namespace: string; keys: string[] }[] = [];
  const stack: unknown[] = [spec];
  while (stack.length) {
    const cur = stack.pop();
    if (!cur || typeof cur !== 'object') continue;
    for (const [k, v] of Object.entries(cur as Record<string, unknown>)) {
      if (/SecretRef$/.test(k) && v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string') {
        const r = v as { name: string; namespace?: string; key?: string };
        out.push({ name: r.name, namespace: r.namespace ?? ns, keys: r.key ? [r.key] : ['token', 'password', 'username', 'tls.crt', 'tls.key'] });
      }
      stack.push(v);
    }
  }
  return out;
}

/** The Secrets `inputs` reference and do not define, with deterministic values. */
export function referencedSecrets(inputs: KubeObject[]): KubeObject[] {
  const defined = new Set(inputs.filter((o) => o.kind === 'Secret').map((o) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`));
  const byKey = new Map<string, { name: string; namespace: string; keys: Set<string> }>();
  for (const o of inputs) {
    for (const r of secretRefs(o.spec, o.metadata.namespace ?? 'default')) {
      const k = `${r.namespace}/${r.name}`;
      if (defined.has(k)) continue;
      const e = byKey.get(k) ?? { name: r.name, namespace: r.namespace, keys: new Set<string>() };
      for (const key of r.keys) e.keys.add(key);
      byKey.set(k, e);
    }
  }
  return [...byKey.values()].map((e) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: e.name, namespace: e.namespace, resourceVersion: '1' },
    type: 'Opaque',
    data: Object.fromEntries([...e.keys].sort().map((k) => [k, b64(fakeValue(e.name, k))])),
  })) as KubeObject[];
}

function load(yamlText: string): KubeObject[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => !!o && typeof o === 'object' && !!o.kind);
}

/** The worlds: each example file, the default platform, and a GitRepository with its GiteaProvider. */
export function worlds(): { name: string; inputs: KubeObject[] }[] {
  const out = exampleFiles().map((f) => ({ name: f.slice(EXAMPLES.length + 1), inputs: load(readFileSync(f, 'utf8')) }));
  out.push({ name: 'default platform', inputs: load(DEFAULT_PLATFORM_YAML) });
  out.push({ name: 'gitea-provider.yaml + gitrepository.yaml', inputs: [...load(readFileSync(join(EXAMPLES, 'gitea-provider.yaml'), 'utf8')), ...load(readFileSync(join(EXAMPLES, 'gitrepository.yaml'), 'utf8'))] });
  return out.map((w) => ({ name: w.name, inputs: [...w.inputs, ...referencedSecrets(w.inputs)] }));
}

/** Render options of the steady states (fixed clock and seed: those of `idpbuilder render`). */
export const STEADY_OPTIONS = { assumeReady: true, now: RENDER_EPOCH, seed: 'idpbuilder-render' };

/** The environment render gave hooks about `parent`: a fresh keyed random stream per call. */
export function steadyEnv(parent: KubeObject): HookEnv {
  return renderHookEnv(STEADY_OPTIONS, parent);
}

/** The last sync request of every object of every world, in a stable order. */
export function steadyRequests(): SteadyRequest[] {
  const out: SteadyRequest[] = [];
  for (const w of worlds()) {
    const last = new Map<string, { req: SyncRequest; res: SyncResponse }>();
    const r = render(w.inputs, controllers(), {
      ...STEADY_OPTIONS,
      decorators: decorators(),
      onSync: (req, res) => last.set(`${req.parent.kind}/${req.parent.metadata.namespace}/${req.parent.metadata.name}`, { req: structuredClone(req), res: structuredClone(res) }),
    });
    if (!r.converged) throw new Error(`${w.name}: render did not converge: ${r.warnings.join('; ')}`);
    for (const key of [...last.keys()].sort()) {
      const { req, res } = last.get(key)!;
      out.push({ world: w.name, kind: req.parent.kind, key, req, res });
    }
  }
  return out;
}

/** The wrapped (contract-enforcing) hooks of a kind, as the hook service runs them. */
export function hooksOf(kind: string): Hooks {
  const h = controllers().find((c) => c.kind.kind === kind)?.hooks;
  if (!h) throw new Error(`no hooks for ${kind}`);
  return h;
}
