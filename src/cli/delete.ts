/**
 * `idpbuilder delete`: deletes the kind cluster (`kind delete cluster --name N`), as today. With
 * --kubeconfig/--context (a cluster idpbuilder did not create) it deletes what `create` applied there
 * instead, in order, waiting for each step: the local Packages and GitRepositories, the Platform, the
 * providers (whose finalizers uninstall Argo CD, Gitea and ingress-nginx unless their deletionPolicy is
 * Retain), then the settings, certificate and ingress Service, and the CoreDNS rules. Metacontroller and the
 * idpbuilder chart stay installed (`helm uninstall` removes them).
 */
import { rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { missingTools } from './exec.js';
import { unpatchCorefile } from './create/coredns.js';
import { Kube, SYSTEM_NAMESPACE } from './create/kube.js';
import { CLI_PLATFORM_LABEL } from './create/platform.js';
import { defaultDeps, timeoutMs, type CliDeps } from './deps.js';
import { Kind } from './kind.js';

/**
 * The flags of `idpbuilder delete`: cluster/Platform name, kubeconfig and context (then only the platform is deleted,
 * the cluster stays) and `--timeout`.
 */
export interface DeleteOptions {
  name: string;
  kubeconfig?: string;
  context?: string;
  timeout: string;
}

const STEPS: { what: string; resources: string; allNamespaces?: boolean }[] = [
  { what: 'local packages', resources: 'packages.idpbuilder.cnoe.io' },
  { what: 'repositories', resources: 'gitrepositories.idpbuilder.cnoe.io' },
  { what: 'the Platform', resources: 'platforms.idpbuilder.cnoe.io' },
  {
    what: 'the providers (uninstalling Argo CD or Flux, Gitea and the gateway)',
    // Every kind `create --gateway/--gitops` can apply; kubectl deletes what exists of them (by label).
    resources: 'argocdproviders.idpbuilder.cnoe.io,giteaproviders.idpbuilder.cnoe.io,nginxgateways.idpbuilder.cnoe.io,envoygateways.idpbuilder.cnoe.io,istiogateways.idpbuilder.cnoe.io,fluxproviders.idpbuilder.cnoe.io',
  },
  { what: 'the settings, certificate and ingress Service', resources: 'secrets,configmaps,services', allNamespaces: true },
];

async function runDelete(o: DeleteOptions, deps: CliDeps): Promise<number> {
  const say = (s: string) => deps.out(`${s}\n`);
  const existing = Boolean(o.kubeconfig || o.context);
  const runtime = deps.runner.env.KIND_EXPERIMENTAL_PROVIDER || 'docker';
  const missing = missingTools(deps.runner, existing ? ['kubectl'] : ['kind', runtime], 'delete');
  if (missing) {
    deps.err(`error: ${missing}\n`);
    return 1;
  }
  try {
    if (!existing) {
      say(`Deleting kind cluster "${o.name}"`);
      await new Kind(deps.runner, o.name).delete();
      const cache = deps.runner.env.XDG_CACHE_HOME || join(deps.runner.env.HOME || homedir(), '.cache');
      rmSync(join(cache, 'idpbuilder', o.name), { recursive: true, force: true });
      say(`Deleted kind cluster "${o.name}"`);
      return 0;
    }
    const ms = timeoutMs(o.timeout);
    const kube = new Kube(deps.runner, { kubeconfig: o.kubeconfig, context: o.context });
    const selector = `${CLI_PLATFORM_LABEL}=${o.name}`;
    for (const step of STEPS) {
      say(`Deleting ${step.what}`);
      const r = await kube.kubectl([
        'delete',
        step.resources,
        ...(step.allNamespaces ? ['-A'] : ['-n', SYSTEM_NAMESPACE]),
        '-l',
        selector,
        '--ignore-not-found',
        '--wait=true',
        `--timeout=${Math.ceil(ms / 1000)}s`,
      ]);
      if (r.code !== 0) {
        const why = r.stderr.trim().split('\n').pop() ?? '';
        deps.err(
          `error: deleting ${step.what} did not finish within ${o.timeout}: ${why}\n` +
            `Their finalizers may still be running uninstall Jobs: look at \`kubectl -n ${SYSTEM_NAMESPACE} get idpbuilder,jobs\` and run delete again.\n`,
        );
        return 1;
      }
    }
    const coredns = await kube.get('configmap', 'coredns', 'kube-system');
    const corefile = (coredns?.data as Record<string, string> | undefined)?.Corefile;
    if (corefile && unpatchCorefile(corefile) !== corefile) {
      await kube.apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: unpatchCorefile(corefile) } }], 'removing the CoreDNS rules');
    }
    say(`Deleted platform "${o.name}". Metacontroller and the idpbuilder chart are still installed: \`helm uninstall idpbuilder -n ${SYSTEM_NAMESPACE}\` and \`helm uninstall metacontroller -n metacontroller\` remove them.`);
    return 0;
  } catch (e) {
    deps.err(`error: ${(e as Error).message}\n`);
    return 1;
  }
}

/**
 * Adds the `delete` command to `parent`: deletes the kind cluster, or with --kubeconfig/--context the local packages,
 * repositories, Platform and providers `create` applied there, in order. Output goes through `io`; `overrides`
 * replace CliDeps (tests).
 */
export function deleteCommand(parent: Command, io: { out: (s: string) => void; err: (s: string) => void }, overrides: Partial<CliDeps> = {}): Command {
  return parent
    .command('delete')
    .description('Delete the kind cluster (or, with --kubeconfig/--context, the Platform and providers create applied there)')
    .option('--name <name>', 'name of the kind cluster / Platform', 'localdev')
    .option('--kubeconfig <path>', 'delete the platform from the cluster of this kubeconfig (the cluster stays)')
    .option('--context <name>', 'kubeconfig context of that cluster')
    .option('--timeout <duration>', 'with --kubeconfig: how long to wait for each deletion step', '10m')
    .action(async (opts: DeleteOptions) => {
      process.exitCode = await runDelete(opts, { ...defaultDeps(io), ...overrides });
    });
}
