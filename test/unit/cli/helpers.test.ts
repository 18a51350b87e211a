import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { patchCorefile, unpatchCorefile, corednsConfigMap } from '../../../src/cli/create/coredns.js';
import { customizationValues } from '../../../src/cli/create/customize.js';
import { componentURL } from '../../../src/cli/create/platform.js';
import { incompatibilities, settingsConfigMap, settingsOf } from '../../../src/cli/create/settings.js';
import { stateOf } from '../../../src/cli/create/wait.js';
import { imageSets } from '../../../src/cli/create.js';
import { timeoutMs } from '../../../src/cli/deps.js';
import { CommandError, processRunner, runOk } from '../../../src/cli/exec.js';
import { customKindConfig, parseExtraPorts, registryHosts, resolveRegistryConfig, substitute, type KindConfigInput } from '../../../src/cli/kind.js';
import { certificateFromSecret, certificateNames, generateCertificate, reuseProblem, tlsSecret } from '../../../src/cli/tls.js';
import { KIND_COREFILE } from '../../fixtures/cli/canned.js';

describe('the TLS certificate', () => {
  it('is a self-signed ECDSA P-256 CA for host, *.host and the ingress host, org cnoe.io, valid 8766 h', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const c = await generateCertificate(certificateNames('cnoe.localtest.me', 'internal.example'), now);
    const x = new X509Certificate(c.cert);
    expect(x.ca).toBe(true);
    expect(x.subjectAltName).toBe('DNS:cnoe.localtest.me, DNS:*.cnoe.localtest.me, DNS:internal.example, DNS:*.internal.example');
    expect(x.subject).toContain('O=cnoe.io');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey(createPrivateKey(c.key))).toBe(true);
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new Date(x.validTo).getTime() - now.getTime()).toBe(8766 * 3600 * 1000);
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // node lists the extended key usages: serverAuth
  });

  it('is reused while it covers the names and is not about to expire', async () => {
    const names = certificateNames('cnoe.localtest.me');
    const c = await generateCertificate(names, new Date('2026-01-01T00:00:00Z'));
    const back = certificateFromSecret(tlsSecret('platform-tls', 'idpbuilder-system', c) as never);
    expect(back).toEqual(c);
    expect(reuseProblem(back, names, new Date('2026-06-01T00:00:00Z'))).toBeUndefined();
    expect(reuseProblem(back, [...names, 'other.example'], new Date('2026-06-01T00:00:00Z'))).toBe('the stored certificate does not cover other.example');
    expect(reuseProblem(back, names, new Date('2026-12-30T00:00:00Z'))).toMatch(/^the stored certificate expires on 2027-01-01/);
    expect(reuseProblem(undefined, names)).toBe('no certificate stored yet');
    expect(reuseProblem({ cert: 'junk', key: 'junk' }, names)).toBe('the stored certificate cannot be parsed');
  });
});

describe('CoreDNS', () => {
  const target = 'idpbuilder-ingress.ingress-nginx.svc.cluster.local';
  it('puts the rules at the top of the .:53 block, once, and can take them out again', () => {
    const once = patchCorefile(KIND_COREFILE, ['cnoe.localtest.me', 'internal.example'], target)!;
    expect(once.split('\n').slice(0, 11)).toEqual([
      '.:53 {',
      '    # idpbuilder:begin (managed by idpbuilder create)',
      '    rewrite stop {',
      `        name regex (.*)\\.cnoe\\.localtest\\.me ${target}`,
      '    }',
      `    rewrite name exact cnoe.localtest.me ${target}`,
      '    rewrite stop {',
      `        name regex (.*)\\.internal\\.example ${target}`,
      '    }',
      `    rewrite name exact internal.example ${target}`,
      '    # idpbuilder:end',
    ]);
    expect(patchCorefile(once, ['cnoe.localtest.me', 'internal.example'], target)).toBe(once);
    expect(unpatchCorefile(once)).toBe(KIND_COREFILE);
    expect(patchCorefile('example.org {\n  whoami\n}\n', ['x.y'], target)).toBeUndefined();
    expect(corednsConfigMap(undefined, ['x.y'], target)).toBeUndefined();
  });
});

describe('kind config', () => {
  const input: KindConfigInput = { name: 'localdev', kubeVersion: 'v1.33.1', protocol: 'https', host: 'cnoe.localtest.me', ingressHost: 'cnoe.localtest.me', port: 8443, usePathRouting: false, devPassword: false, extraPorts: [] };

  it('--extra-ports parses host:container pairs and rejects anything else', () => {
    expect(parseExtraPorts('22:32223, 9090:30090')).toEqual([{ hostPort: 22, containerPort: 32223 }, { hostPort: 9090, containerPort: 30090 }]);
    expect(parseExtraPorts(undefined)).toEqual([]);
    expect(() => parseExtraPorts('22')).toThrow('--extra-ports: "22" is not host:container');
    expect(() => parseExtraPorts('a:1')).toThrow('"a" is not a port number');
  });

  it('a custom config that already maps the port gets the label on that node only', () => {
    const text = 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n  extraPortMappings:\n  - containerPort: 443\n    hostPort: {{ .Port }}\n';
    const cfg = parse(customKindConfig(text, input));
    expect(cfg.nodes[0]).toEqual({ role: 'control-plane' });
    expect(cfg.nodes[1]).toEqual({ role: 'worker', extraPortMappings: [{ containerPort: 443, hostPort: 8443 }], labels: { 'ingress-ready': 'true' } });
    expect(() => customKindConfig('nodes: []\n', input)).toThrow('--kind-config: the kind config has no nodes');
    expect(() => substitute('{{ if .X }}', { Port: '1' }, 'f')).toThrow('f: template action {{ if .X }} is not supported');
  });

  it('registry hosts and --registry-config paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reg-'));
    writeFileSync(join(dir, 'auth.json'), '{}');
    expect(resolveRegistryConfig(`/nope.json,$D/auth.json`, { D: dir })).toBe(join(dir, 'auth.json'));
    expect(resolveRegistryConfig(undefined, {})).toBeUndefined();
    expect(() => resolveRegistryConfig(true, { HOME: dir, XDG_RUNTIME_DIR: dir })).toThrow('--registry-config: none of $XDG_RUNTIME_DIR/containers/auth.json, $HOME/.docker/config.json exists');
    expect(registryHosts({ host: 'cnoe.localtest.me', port: 8443, usePathRouting: false })).toEqual({
      hostAndPort: 'gitea.cnoe.localtest.me:8443',
      caPath: '/etc/containerd/certs.d/gitea.cnoe.localtest.me:8443/ca.crt',
      toml: 'server = "https://gitea.cnoe.localtest.me:8443"\n\n[host."https://gitea.cnoe.localtest.me"]\n  capabilities = ["pull", "resolve"]\n  ca = "/etc/containerd/certs.d/gitea.cnoe.localtest.me:8443/ca.crt"\n',
    });
    expect(registryHosts({ host: 'cnoe.localtest.me', port: 2443, usePathRouting: true })).toEqual({
      hostAndPort: 'cnoe.localtest.me:2443',
      caPath: '/etc/containerd/certs.d/cnoe.localtest.me:2443/ca.crt',
      toml: 'server = "https://cnoe.localtest.me:2443"\n\n[host."https://cnoe.localtest.me"]\n  capabilities = ["pull", "resolve"]\n  ca = "/etc/containerd/certs.d/cnoe.localtest.me:2443/ca.crt"\n',
    });
  });
});

describe('small pieces', () => {
  it('settings compatibility lists what changed', () => {
    const s = settingsOf({ protocol: 'https', host: 'a.b', port: 8443, usePathRouting: false, devPassword: false });
    expect(incompatibilities(undefined, s)).toEqual([]);
    expect(incompatibilities(settingsConfigMap('x', s), s)).toEqual([]);
    expect(incompatibilities(settingsConfigMap('x', { ...s, host: 'c.d', devPassword: 'true' }), s)).toEqual(['host: c.d → a.b', 'devPassword: true → false']);
  });

  it('URLs, timeouts and image flags', () => {
    expect(componentURL({ host: 'h.io', protocol: 'https', port: 443, usePathRouting: false }, 'argocd')).toBe('https://argocd.h.io/');
    expect(componentURL({ host: 'h.io', protocol: 'http', port: 8080, usePathRouting: true }, 'gitea')).toBe('http://h.io:8080/gitea');
    expect(timeoutMs('20s')).toBe(20_000);
    expect(timeoutMs('1h30m')).toBe(5_400_000);
    expect(timeoutMs('90')).toBe(90_000);
    expect(() => timeoutMs('soon')).toThrow('not a duration');
    expect(imageSets('ghcr.io/x/y@sha256:abc')).toEqual(['--set', 'image.repository=ghcr.io/x/y', '--set', 'image.digest=sha256:abc']);
    expect(imageSets('localhost:5000/hooks')).toEqual(['--set', 'image.repository=localhost:5000/hooks']);
    expect(imageSets(undefined)).toEqual([]);
  });

  it('object readiness', () => {
    const o = (status: unknown, generation?: number) => ({ apiVersion: 'v', kind: 'K', metadata: { name: 'n', ...(generation ? { generation } : {}) }, ...(status ? { status } : {}) });
    expect(stateOf(undefined)).toEqual({ ready: false, phase: 'NotFound' });
    expect(stateOf(o(undefined))).toEqual({ ready: false, phase: 'NoStatus' });
    expect(stateOf(o({ phase: 'Ready', conditions: [{ type: 'Ready', status: 'True' }] }))).toEqual({ ready: true, phase: 'Ready' });
    expect(stateOf(o({ phase: 'Ready', observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] }, 2))).toEqual({ ready: false, phase: 'Ready', message: 'status not updated for the latest spec yet' });
  });

  it('customization files: values as they are, translated ConfigMaps, untranslatable objects listed', () => {
    const data = { host: 'h.io', ingressHost: 'h.io', port: 8443, protocol: 'https', usePathRouting: false, devPassword: false };
    expect(customizationValues('argocd', 'server:\n  replicas: 2\n', data, 'f').values).toEqual({ server: { replicas: 2 } });
    const r = customizationValues('argocd', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cmd-params-cm\ndata:\n  server.insecure: "true"\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  namespace: argocd\n', data, 'f');
    expect(r).toEqual({ values: { configs: { params: { 'server.insecure': 'true' } } }, untranslated: ['Service argocd/x'] });
    expect(() => customizationValues('gitea', '- a\n', data, 'f')).toThrow('f: expected Helm values (a mapping) or Kubernetes objects');
  });

  it('a failed command is one line naming it and its last error', async () => {
    const runner = processRunner({ PATH: '/usr/bin:/bin' });
    await expect(runOk(runner, 'sh', ['-c', 'echo progress; echo "Error: boom" >&2; exit 3'], { what: 'sh boom' })).rejects.toThrow(new CommandError('sh', [], { code: 3, stdout: '', stderr: 'Error: boom' }, 'sh boom').message);
    expect((await runner.run('no-such-tool-xyz', [])).code).toBe(127);
  });
});
