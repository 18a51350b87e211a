import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { program } from '../../../src/cli/main.js';
import { objectsOf, runCli } from '../../fixtures/cli/canned.js';
import { standIns, type StandIns } from '../../fixtures/cli/standins.js';

const DIR = resolve(__dirname, '..', '..', 'fixtures', 'localbuild');
const SAMPLES = ['default', 'path-routing', 'custom-packages', 'static-password'];

let si: StandIns | undefined;
afterEach(() => {
  si?.cleanup();
  si = undefined;
});

async function validate(file: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  process.exitCode = 0;
  await program((s) => (out += s), (s) => (err += s)).parseAsync(['node', 'idpbuilder', 'validate', '-f', file]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, out, err };
}

async function migrated(sample: string): Promise<{ objects: Record<string, any>[]; out: string; err: string }> {
  si = standIns({});
  const r = await runCli(['migrate', '-f', join(DIR, `${sample}.yaml`)], si);
  expect(r.code).toBe(0);
  return { objects: objectsOf(r.out), out: r.out, err: r.err };
}

const find = (objects: Record<string, any>[], kind: string) => objects.find((o) => o.kind === kind)!;

describe('idpbuilder migrate', () => {
  for (const sample of SAMPLES) {
    it(`${sample}: the output passes idpbuilder validate`, async () => {
      const { out } = await migrated(sample);
      const file = join(mkdtempSync(join(tmpdir(), 'migrate-')), `${sample}.yaml`);
      writeFileSync(file, out);
      const v = await validate(file);
      // only lines about skipped non-idpbuilder kinds (the static password's Secret)
      for (const line of v.out.split('\n').filter(Boolean)) expect(line).toMatch(/: Secret\/idpbuilder-dev-password: skipped: v1 Secret is not an idpbuilder kind$/);
      expect(v.code).toBe(0);
      expect(v.err).toMatch(/^4 valid, 0 invalid, \d skipped\n$/);
    });
  }

  it('default: the providers and Platform idpbuilder create makes with the default flags', async () => {
    const { objects, out, err } = await migrated('default');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['NginxGateway/nginx', 'GiteaProvider/gitea', 'ArgoCDProvider/argocd', 'Platform/localdev']);
    expect(find(objects, 'Platform').spec.ingressConfig).toEqual({ provider: 'nginx', usePathRouting: false, protocol: 'https', port: 8443, tlsSecretRef: { name: 'platform-tls' } });
    expect(find(objects, 'ArgoCDProvider').spec.routing).toMatchObject({ domain: 'cnoe.localtest.me', port: 8443, protocol: 'https', usePathRouting: false });
    expect(find(objects, 'NginxGateway').spec.config.controller.hostPort).toEqual({ enabled: true });
    expect(out.split('\n')[0]).toBe('# Migrated from Localbuild localdev by idpbuilder migrate.');
    expect(err).toContain('selfSignedCert holds no private key');
  });

  it('path routing: port, host and routing are kept', async () => {
    const { objects } = await migrated('path-routing');
    expect(find(objects, 'Platform').metadata.name).toBe('pathy');
    expect(find(objects, 'Platform').spec).toMatchObject({ domain: 'idp.example.internal', ingressConfig: { usePathRouting: true, port: 2443 } });
    expect(find(objects, 'GiteaProvider').spec.routing).toMatchObject({ domain: 'idp.example.internal', usePathRouting: true, port: 2443 });
  });

  it('static password: a Secret with "developer" that both admin users reference; http has no default TLS', async () => {
    const { objects } = await migrated('static-password');
    const secret = find(objects, 'Secret');
    expect(secret.metadata.name).toBe('idpbuilder-dev-password');
    expect(Buffer.from(secret.data.password, 'base64').toString()).toBe('developer');
    expect(find(objects, 'GiteaProvider').spec.adminUser.passwordSecretRef).toEqual({ name: 'idpbuilder-dev-password', key: 'password' });
    expect(find(objects, 'ArgoCDProvider').spec.adminCredentials.secretRef).toEqual({ name: 'idpbuilder-dev-password' });
    expect(find(objects, 'Platform').spec.ingressConfig).toEqual({ provider: 'nginx', usePathRouting: false, protocol: 'http', port: 8080 });
    expect(find(objects, 'NginxGateway').spec.defaultTLS).toBeUndefined();
  });

  it('custom packages: customizations become provider values; packages and leftovers are reported', async () => {
    const { objects, out, err } = await migrated('custom-packages');
    expect(find(objects, 'ArgoCDProvider').spec.values).toEqual({
      configs: {
        cm: { 'application.resourceTrackingMethod': 'annotation', 'timeout.reconciliation': '60s', url: 'https://argocd.cnoe.localtest.me:8443', 'accounts.developer': 'apiKey, login' },
        rbac: { 'policy.csv': 'g, developer, role:admin\n' },
      },
    });
    expect(find(objects, 'NginxGateway').spec.values.controller).toMatchObject({ config: { 'proxy-body-size': '0' }, replicaCount: 1 });
    expect(find(objects, 'GiteaProvider').spec.values).toMatchObject({ gitea: { config: { server: { DISABLE_SSH: false } } }, service: { ssh: { nodePort: 32222 } } });
    expect(find(objects, 'GiteaProvider').spec.config).toEqual({ ingress: { host: 'gitea.internal.example' } });
    expect(find(objects, 'ArgoCDProvider').spec.config).toEqual({ server: { ingress: { hosts: ['argocd.internal.example'] } } });
    expect(err).toContain('Secret gitea/gitea-extra');
    expect(err).toContain('idpbuilder create --kubeconfig … -p /home/me/stacks/ref');
    expect(err).toContain('remote packages are not migrated: re-add them with `idpbuilder create --kubeconfig … -p https://github.com/cnoe-io/stacks//basic/package1` (the cluster fetches them)');
    expect(out).toContain('# note: packageCustomization gitea: Secret gitea/gitea-extra');
  });

  it('--no-kind leaves out the kind host-port settings; -o json prints a List', async () => {
    si = standIns({});
    const r = await runCli(['migrate', '-f', join(DIR, 'default.yaml'), '--no-kind', '-o', 'json'], si);
    const doc = JSON.parse(r.out);
    expect(doc.kind).toBe('List');
    expect(doc.items.find((o: { kind: string }) => o.kind === 'NginxGateway').spec.config).toBeUndefined();
  });

  it('reads the Localbuilds of the cluster and applies the result with --apply (copying the old certificate)', async () => {
    const lb = parse(readFileSync(join(DIR, 'path-routing.yaml'), 'utf8'));
    const cert = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'idpbuilder-cert', namespace: 'ingress-nginx' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from('CERT').toString('base64'), 'tls.key': Buffer.from('KEY').toString('base64') } };
    si = standIns({
      kubectl: [
        { match: '--kubeconfig /k get localbuilds.idpbuilder.cnoe.io -A -o json', stdout: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [lb] }) },
        { match: '*get crd platforms.idpbuilder.cnoe.io*', stdout: JSON.stringify({ kind: 'CustomResourceDefinition', metadata: { name: 'platforms.idpbuilder.cnoe.io' } }) },
        { match: '*get secret idpbuilder-cert -n ingress-nginx*', stdout: JSON.stringify(cert) },
        { match: '*get *', stdout: '' },
      ],
    });
    const r = await runCli(['migrate', '--kubeconfig', '/k', '--apply'], si);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(si.calls()).toEqual([
      'kubectl --kubeconfig /k get localbuilds.idpbuilder.cnoe.io -A -o json',
      'kubectl --kubeconfig /k get crd platforms.idpbuilder.cnoe.io -o json --ignore-not-found',
      'kubectl --kubeconfig /k get secret idpbuilder-cert -n ingress-nginx -o json --ignore-not-found',
      'kubectl --kubeconfig /k get secret platform-tls -n idpbuilder-system -o json --ignore-not-found',
      'kubectl --kubeconfig /k apply --server-side --force-conflicts --field-manager=idpbuilder -f -',
    ]);
    const applied = objectsOf(si.inputsOf(/ apply /)[0]);
    expect(applied.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/idpbuilder-system', 'Secret/platform-tls', 'NginxGateway/nginx', 'GiteaProvider/gitea', 'ArgoCDProvider/argocd', 'Platform/pathy']);
    expect(Buffer.from(applied[1].data['tls.key'], 'base64').toString()).toBe('KEY');
    expect(r.out).toContain('Applied NginxGateway/nginx, GiteaProvider/gitea, ArgoCDProvider/argocd, Platform/pathy for Localbuild pathy');
  });

  it('--apply without the idpbuilder CRDs is refused; no Localbuild is an error', async () => {
    si = standIns({ kubectl: [{ match: '*', stdout: '' }] });
    const r = await runCli(['migrate', '-f', join(DIR, 'default.yaml'), '--apply'], si);
    expect(r.code).toBe(1);
    expect(r.err).toContain('the idpbuilder CRDs are not installed in this cluster');
    const none = await runCli(['migrate', '-f', join(DIR, 'default.yaml'), '--name', 'nope'], si);
    expect(none.err).toBe(`error: no Localbuild named nope found in ${join(DIR, 'default.yaml')}\n`);
  });
});
