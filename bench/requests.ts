/**
 * Realistic Metacontroller v2 requests, taken from an offline render: the controllers run to a fixed point
 * (every Job succeeded, every Application synced), and the last sync request each parent got is what
 * Metacontroller would send in a running cluster. Used by the benchmark, the fuzzer and the property tests.
 */
import { parseAllDocuments } from 'yaml';
import type { ControllerDef, DecoratorDef } from '../src/kit/hooks.js';
import { controllers, decorators } from '../src/controllers/registry.js';
import type { DecoratorSyncRequest, KubeObject, SyncRequest } from '../src/metacontroller/protocol.js';
import { DEFAULT_PLATFORM_YAML } from '../src/render/default-platform.js';
import { render, RENDER_EPOCH } from '../src/render/render.js';

export interface RecordedRequest {
  /** e.g. `Platform/idpbuilder-system/localdev` */
  id: string;
  /** the route: /hooks/<plural>/sync */
  url: string;
  body: SyncRequest | DecoratorSyncRequest;
}

export function defaultPlatform(): KubeObject[] {
  return parseAllDocuments(DEFAULT_PLATFORM_YAML).map((d) => d.toJS() as KubeObject);
}

/**
 * `n` Packages deployed from the default platform's bootstrap repository of nginx. Package i depends on the
 * first min(i, `dependencies`) Packages (default 1: each but the first depends on the first).
 */
export function packages(n: number, namespace = 'idpbuilder-system', dependencies = 1): KubeObject[] {
  const out: KubeObject[] = [];
  for (let i = 0; i < n; i++) {
    const name = `app-${String(i).padStart(3, '0')}`;
    out.push({
      apiVersion: 'idpbuilder.cnoe.io/v1alpha1',
      kind: 'Package',
      metadata: { name, namespace },
      spec: {
        source: { gitRepository: { name: 'localdev-nginx', path: `apps/${name}` } },
        gitOpsProviderRef: { kind: 'ArgoCDProvider', name: 'argocd', namespace },
        ...(i > 0 ? { dependencies: Array.from({ length: Math.min(i, dependencies) }, (_, j) => ({ kind: 'Package', name: `app-${String(j).padStart(3, '0')}` })) } : {}),
        argocd: { destination: { namespace: name }, syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'] } },
      },
    } as KubeObject);
  }
  return out;
}

/** A GitRepository on the default platform's Gitea with `n` sources of every type. */
export function manySourcesRepository(n: number, namespace = 'idpbuilder-system'): KubeObject {
  const sources: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const t = i % 4;
    if (t === 0) sources.push({ type: 'Git', url: `https://github.com/cnoe-io/stacks-${i}.git`, ref: 'main', path: `ref-implementation/${i}`, targetPath: `stacks/${i}` });
    else if (t === 1) sources.push({ type: 'Embedded', path: `argocd/${i}`, targetPath: `embedded/${i}` });
    else if (t === 2) sources.push({ type: 'Local', path: `/work/packages/${i}`, targetPath: `local/${i}` });
    else sources.push({ type: 'Inline', targetPath: `inline/${i}`, files: { 'README.md': `# component ${i}\n`, 'values.yaml': `replicaCount: ${i % 3}\nimage:\n  tag: v1.${i}.0\n` } });
  }
  return {
    apiVersion: 'idpbuilder.cnoe.io/v1alpha1',
    kind: 'GitRepository',
    metadata: { name: 'many-sources', namespace },
    spec: { gitServerRef: { kind: 'GiteaProvider', name: 'gitea', namespace }, description: 'a repository assembled from many sources', sources, sync: { autoSync: true, interval: '5m' } },
  } as KubeObject;
}

/** Runs render over `inputs` and returns the last sync request of every parent and decorated object. */
export function recordRequests(inputs: KubeObject[], opts: { now?: Date } = {}): RecordedRequest[] {
  const last = new Map<string, RecordedRequest>();
  const wrapped: ControllerDef[] = controllers().map((c) =>
    c.hooks
      ? {
          ...c,
          hooks: {
            ...c.hooks,
            sync: (req, env) => {
              const p = req.parent;
              last.set(`${p.kind}/${p.metadata.namespace}/${p.metadata.name}`, { id: `${p.kind}/${p.metadata.namespace}/${p.metadata.name}`, url: `/hooks/${c.kind.plural}/sync`, body: req });
              return c.hooks!.sync(req, env);
            },
          },
        }
      : c,
  );
  const decos: DecoratorDef[] = decorators().map((d) => ({
    ...d,
    hooks: {
      ...d.hooks,
      sync: (req, env) => {
        const o = req.object;
        const id = `${d.name}:${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
        last.set(id, { id, url: `/hooks/${d.name}/sync`, body: req });
        return d.hooks.sync(req, env);
      },
    },
  }));
  const result = render(inputs, wrapped, { assumeReady: true, decorators: decos, now: opts.now ?? RENDER_EPOCH });
  if (!result.converged) throw new Error(`render did not converge: ${result.warnings.join('; ')}`);
  // render builds new objects rather than changing them; copies are taken once, at the end
  return [...last.values()].map((r) => ({ ...r, body: structuredClone(r.body) })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The requests the benchmark drives, each a whole Metacontroller request. */
export function benchRequests(): { name: string; request: RecordedRequest }[] {
  const base = recordRequests([...defaultPlatform(), manySourcesRepository(64)]);
  const find = (rs: RecordedRequest[], id: string) => {
    const r = rs.find((x) => x.id === id);
    if (!r) throw new Error(`no request for ${id}`);
    return r;
  };
  const heavy = recordRequests([...defaultPlatform(), ...packages(100)]);
  return [
    { name: 'platform-3-providers', request: find(base, 'Platform/idpbuilder-system/localdev') },
    { name: 'package-in-100-package-namespace', request: find(heavy, 'Package/idpbuilder-system/app-050') },
    { name: 'gitrepository-64-sources', request: find(base, 'GitRepository/idpbuilder-system/many-sources') },
  ];
}
