/**
 * CoreDNS: inside the cluster the platform's host names resolve to the ingress controller, so
 * `https://gitea.<host>:<port>` is the same URL in pods as on your machine (today's coredns-conf-default
 * rules). idpbuilder reads the `kube-system/coredns` ConfigMap, puts its rewrite rules (between marker
 * comments, replacing an earlier copy) at the top of the `.:53` server block, and applies the ConfigMap
 * back; CoreDNS's `reload` plugin picks the change up. Nothing else in the Corefile is touched.
 */
import type { KubeObject } from '../../metacontroller/protocol.js';

const BEGIN = '# idpbuilder:begin (managed by idpbuilder create)';
const END = '# idpbuilder:end';

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The rewrite rules for each host (and its subdomains), pointing at `target`. */
function rewriteRules(hosts: string[], target: string, indent = '    '): string {
  const lines = [BEGIN];
  for (const h of [...new Set(hosts)]) {
    lines.push('rewrite stop {', `    name regex (.*)\\.${escapeRegex(h)} ${target}`, '}', `rewrite name exact ${h} ${target}`);
  }
  lines.push(END);
  return lines.map((l) => `${indent}${l}`).join('\n');
}

/** The Corefile with our rules in it; undefined when it has no `.:53 {` server block to put them in. */
export function patchCorefile(corefile: string, hosts: string[], target: string): string | undefined {
  const without = corefile.replace(new RegExp(`[ \\t]*${escapeRegex(BEGIN)}[\\s\\S]*?${escapeRegex(END)}[ \\t]*\\n?`, 'g'), '');
  const m = /^([ \t]*)\.:53\s*\{[ \t]*\n/m.exec(without);
  if (!m) return undefined;
  const at = m.index + m[0].length;
  const indent = `${m[1]}    `;
  return `${without.slice(0, at)}${rewriteRules(hosts, target, indent)}\n${without.slice(at)}`;
}

/** The ConfigMap to apply (only the Corefile key is ours), or undefined when it cannot be patched. */
export function corednsConfigMap(existing: KubeObject | undefined, hosts: string[], target: string): KubeObject | undefined {
  const corefile = (existing?.data as Record<string, string> | undefined)?.Corefile;
  if (!corefile) return undefined;
  const patched = patchCorefile(corefile, hosts, target);
  if (!patched) return undefined;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: patched } } as KubeObject;
}

/** The Corefile without our rules (unchanged when it has none). */
export function unpatchCorefile(corefile: string): string {
  return corefile.replace(new RegExp(`[ \\t]*${escapeRegex(BEGIN)}[\\s\\S]*?${escapeRegex(END)}[ \\t]*\\n?`, 'g'), '');
}
