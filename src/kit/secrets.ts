/**
 * Generated credentials: created once from injected randomness, then reused from the observed child
 * (DESIGN.md decision 4). Values never leave the Secret: status only ever names the Secret.
 */
import { encodeBase64, hashSync } from 'bcryptjs';
import type { KubeObject } from '../metacontroller/protocol.js';
import type { HookEnv } from '../controllers/types.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random password of `length` alphanumeric characters (unbiased: rejection sampling). */
export function generatePassword(env: HookEnv, length = 40): string {
  let out = '';
  while (out.length < length) {
    for (const b of env.random(length * 2)) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

/** bcrypt hash (cost 10, `$2a$`) with a salt from the injected randomness. */
export function bcrypt(env: HookEnv, password: string): string {
  const salt = `$2a$10$${encodeBase64(Array.from(env.random(16)), 16)}`;
  return hashSync(password, salt);
}

export function decodeSecretData(secret: KubeObject | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((secret?.data as Record<string, string> | undefined) ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries((secret?.stringData as Record<string, string> | undefined) ?? {})) out[k] = v;
  return out;
}

export function secret(name: string, namespace: string, labels: Record<string, string>, data: Record<string, string>): KubeObject {
  const encoded: Record<string, string> = {};
  for (const k of Object.keys(data).sort()) encoded[k] = Buffer.from(data[k], 'utf8').toString('base64');
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels }, type: 'Opaque', data: encoded } as KubeObject;
}
