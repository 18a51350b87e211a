/**
 * `-c name:path` (and a Localbuild's packageCustomization): customizations of the core components, which
 * become the provider's Helm `values`. A file is either
 *  - Helm values (a YAML mapping without apiVersion/kind): taken as they are; or
 *  - Kubernetes manifests, as today's idpbuilder takes them (objects replacing the embedded ones). The
 *    ConfigMaps the charts build from values are translated: Argo CD's argocd-cm, argocd-cmd-params-cm,
 *    argocd-rbac-cm, argocd-tls-certs-cm, argocd-ssh-known-hosts-cm, argocd-gpg-keys-cm (→ `configs.*`) and
 *    ingress-nginx's ingress-nginx-controller ConfigMap (→ `controller.config`). Anything else cannot be
 *    expressed as chart values and is reported.
 * Like today, the file may use `{{ .Host }}`, `{{ .Port }}`, `{{ .Protocol }}`, `{{ .IngressHost }}`,
 * `{{ .UsePathRouting }}` and `{{ .StaticPassword }}`.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { mergeValues } from '../../kit/helm.js';
import { substitute } from '../kind.js';
import { CORE_COMPONENTS, type CoreComponent } from './platform.js';

/** One `-c name:path` flag: the core component it customizes (gitea, nginx, argocd) and the file. */
export interface Customization {
  component: CoreComponent;
  file: string;
}

/**
 * What a customization file turns into: Helm values for the component, and the objects that have no chart-values
 * equivalent (`Kind namespace/name`), reported to the user.
 */
export interface CustomizationResult {
  values: Record<string, unknown>;
  /** Objects in the file that have no chart-values equivalent (`Kind namespace/name`). */
  untranslated: string[];
}

/**
 * Parses `name:path` (today's `-c` syntax).
 * @throws Error when `spec` is not `name:path` or the name is not one of CORE_COMPONENTS.
 */
export function parseCustomization(spec: string): Customization {
  const i = spec.indexOf(':');
  const name = i < 0 ? '' : spec.slice(0, i);
  const file = i < 0 ? '' : spec.slice(i + 1);
  if (!name || !file) throw new Error(`-c ${spec}: expected name:path (name one of ${CORE_COMPONENTS.join(', ')})`);
  if (!(CORE_COMPONENTS as string[]).includes(name)) throw new Error(`-c ${spec}: unknown package ${JSON.stringify(name)} (one of ${CORE_COMPONENTS.join(', ')})`);
  return { component: name as CoreComponent, file };
}

/**
 * The values a customization file (or kind config) may use as Go-template placeholders (`{{ .Host }}`, `{{
 * .IngressHost }}`, `{{ .Port }}`, `{{ .Protocol }}`, `{{ .UsePathRouting }}`, `{{ .DevPassword }}`), as idpbuilder's
 * templates do.
 */
export interface TemplateData {
  host: string;
  ingressHost: string;
  port: number;
  protocol: string;
  usePathRouting: boolean;
  devPassword: boolean;
}

function templateValues(d: TemplateData): Record<string, string> {
  return {
    Host: d.host,
    IngressHost: d.ingressHost,
    Port: String(d.port),
    Protocol: d.protocol,
    UsePathRouting: String(d.usePathRouting),
    StaticPassword: String(d.devPassword),
  };
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** ConfigMap name → where its data goes in the chart's values. */
const ARGO_CONFIGMAPS: Record<string, (data: Record<string, string>) => Obj> = {
  'argocd-cm': (data) => ({ configs: { cm: data } }),
  'argocd-cmd-params-cm': (data) => ({ configs: { params: data } }),
  'argocd-rbac-cm': (data) => ({ configs: { rbac: data } }),
  'argocd-tls-certs-cm': (data) => ({ configs: { tls: { certificates: data } } }),
  'argocd-ssh-known-hosts-cm': (data) => ({ configs: { ssh: { knownHosts: data.ssh_known_hosts ?? '' } } }),
  'argocd-gpg-keys-cm': (data) => ({ configs: { gpg: { keys: data } } }),
};
const NGINX_CONFIGMAPS: Record<string, (data: Record<string, string>) => Obj> = {
  'ingress-nginx-controller': (data) => ({ controller: { config: data } }),
};

function translate(component: CoreComponent, o: Obj): Obj | undefined {
  if (o.apiVersion !== 'v1' || o.kind !== 'ConfigMap') return undefined;
  const name = String((o.metadata as Obj | undefined)?.name ?? '');
  const data = Object.fromEntries(Object.entries((o.data as Obj | undefined) ?? {}).map(([k, v]) => [k, String(v)]));
  const table = component === 'argocd' ? ARGO_CONFIGMAPS : component === 'nginx' ? NGINX_CONFIGMAPS : {};
  return table[name]?.(data);
}

/**
 * Turns the text of a customization file into Helm values for `component`.
 * @throws Error naming `source` when the text is not YAML, a document is neither a mapping of Helm values nor a
 *   Kubernetes object, or uses a template action other than the supported placeholders.
 */
export function customizationValues(component: CoreComponent, text: string, data: TemplateData, source: string): CustomizationResult {
  const rendered = substitute(text, templateValues(data), source);
  const docs = parseAllDocuments(rendered);
  const values: Obj[] = [];
  const untranslated: string[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${source}: not YAML: ${doc.errors[0].message.split('\n')[0]}`);
    const v = doc.toJS() as unknown;
    if (v === null || v === undefined) continue;
    if (!isObj(v)) throw new Error(`${source}: expected Helm values (a mapping) or Kubernetes objects`);
    if (typeof v.apiVersion === 'string' && typeof v.kind === 'string') {
      const t = translate(component, v);
      const md = (v.metadata as Obj | undefined) ?? {};
      if (t) values.push(t);
      else untranslated.push(`${v.kind} ${md.namespace ? `${String(md.namespace)}/` : ''}${String(md.name ?? '?')}`);
    } else values.push(v);
  }
  return { values: mergeValues(...values), untranslated };
}

/**
 * Reads `c.file` and turns it into Helm values (customizationValues). Throws Error naming the flag when the file
 * cannot be read or is not valid.
 */
export function readCustomization(c: Customization, data: TemplateData): CustomizationResult {
  let text: string;
  try {
    text = readFileSync(c.file, 'utf8');
  } catch (e) {
    throw new Error(`-c ${c.component}:${c.file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return customizationValues(c.component, text, data, `-c ${c.component}:${c.file}`);
}
