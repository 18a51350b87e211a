/**
 * The platform's TLS certificate, as today's idpbuilder makes it (pkg/build/tls.go): one self-signed ECDSA
 * P-256 certificate that is its own CA (basicConstraints CA:TRUE, keyUsage digitalSignature + keyCertSign,
 * organization `cnoe.io`, valid 8766 h), for `<host>` and `*.<host>` (plus the ingress host and its
 * wildcard when they differ). It is created once and reused while it still covers the names and is not
 * about to expire. It lives in the TLS Secret `idpbuilder-system/platform-tls` (keys tls.crt, tls.key and
 * ca.crt), which the NginxGateway serves as its default certificate.
 */
import { webcrypto, X509Certificate } from 'node:crypto';
import type { KubeObject } from '../metacontroller/protocol.js';

/** Name of the Secret holding the platform's self-signed certificate (`kubernetes.io/tls`). */
export const TLS_SECRET = 'platform-tls';
const CERT_ORGANIZATION = 'cnoe.io';
const CERT_VALIDITY_HOURS = 8766;
/** A stored certificate closer than this to its expiry is replaced. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

/** @peculiar/x509, loaded on first use (it needs the Reflect metadata shim, and only `create` needs it). */
async function x509lib(): Promise<typeof import('@peculiar/x509')> {
  await import('./create/reflect-shim.js');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  return x509;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A certificate and its key as PEM text; the certificate is self-signed, so it is its own CA. */
export interface Certificate {
  /** PEM of the certificate (also the CA: it is self-signed). */
  cert: string;
  /** PEM (PKCS#8) of the private key. */
  key: string;
}

/** The DNS names the certificate must cover. */
export function certificateNames(host: string, ingressHost?: string): string[] {
  const names = [host, `*.${host}`];
  if (ingressHost && ingressHost !== host) names.push(ingressHost, `*.${ingressHost}`);
  return names;
}

/**
 * A new self-signed ECDSA P-256 / SHA-256 certificate for `names` (subject alternative names; CN the first),
 * organization cnoe.io, valid from one minute before `now` for 8766 hours (about a year), CA and server-auth usages,
 * random 128-bit serial.
 */
export async function generateCertificate(names: string[], now: Date = new Date()): Promise<Certificate> {
  const x509 = await x509lib();
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] &= 0x7f; // a positive integer
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ O: [CERT_ORGANIZATION] }, { CN: [names[0] ?? 'idpbuilder'] }],
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + CERT_VALIDITY_HOURS * 3600 * 1000),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem') + '\n', key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n' };
}

/** The DNS names and expiry of a PEM certificate; undefined when it cannot be parsed. */
function inspectCertificate(pem: string): { names: string[]; notAfter: Date } | undefined {
  try {
    const cert = new X509Certificate(pem);
    const names = (cert.subjectAltName ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.startsWith('DNS:'))
      .map((s) => s.slice(4));
    return { names, notAfter: new Date(cert.validTo) };
  } catch {
    return undefined;
  }
}

/** Why a stored certificate cannot be reused, or undefined when it can. */
export function reuseProblem(existing: Certificate | undefined, names: string[], now: Date = new Date()): string | undefined {
  if (!existing?.cert || !existing.key) return 'no certificate stored yet';
  const info = inspectCertificate(existing.cert);
  if (!info) return 'the stored certificate cannot be parsed';
  const missing = names.filter((n) => !info.names.includes(n));
  if (missing.length) return `the stored certificate does not cover ${missing.join(', ')}`;
  if (info.notAfter.getTime() - now.getTime() < RENEW_BEFORE_MS) return `the stored certificate expires on ${info.notAfter.toISOString()}`;
  return undefined;
}

/** The certificate stored in a TLS Secret, if it has one. */
export function certificateFromSecret(secret: KubeObject | undefined): Certificate | undefined {
  const data = (secret?.data ?? {}) as Record<string, string>;
  if (!data['tls.crt'] || !data['tls.key']) return undefined;
  return { cert: Buffer.from(data['tls.crt'], 'base64').toString('utf8'), key: Buffer.from(data['tls.key'], 'base64').toString('utf8') };
}

/** A `kubernetes.io/tls` Secret with `tls.crt`, `tls.key` and `ca.crt` (the same self-signed certificate) from `c`. */
export function tlsSecret(name: string, namespace: string, c: Certificate, labels: Record<string, string> = {}): KubeObject {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels },
    type: 'kubernetes.io/tls',
    data: { 'ca.crt': b64(c.cert), 'tls.crt': b64(c.cert), 'tls.key': b64(c.key) },
  } as KubeObject;
}
