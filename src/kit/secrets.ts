/**
 * Generated credentials: created once from injected randomness, then reused from the observed child
 * (DESIGN.md decision 4). Values never leave the Secret: status only ever names the Secret.
 */
import { encodeBase64, hashSync } from 'bcryptjs';
import type { KubeObject } from '../metacontroller/protocol.js';
import type { HookEnv } from './hooks.js';
import { secretRefRefusal } from './refs.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random password of `length` alphanumeric characters (unbiased: rejection sampling). */
function generatePassword(env: HookEnv, length = 40): string {
  let out = '';
  while (out.length < length) {
    for (const b of env.random(length * 2)) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

/** bcrypt hash (cost 10, `$2a$`) with a salt from the injected randomness. */
function bcrypt(env: HookEnv, password: string): string {
  const salt = `$2a$10$${encodeBase64(Array.from(env.random(16)), 16)}`;
  return hashSync(password, salt);
}

/**
 * Every key and decoded value of a Secret: `data` base64-decoded (UTF-8), then `stringData` as is, so a key
 * in both comes twice. Values that are not strings are skipped; never throws. `undefined`: no entries.
 */
export function secretEntries(secret: KubeObject | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries((secret?.data as Record<string, unknown> | undefined) ?? {})) {
    if (typeof v === 'string') out.push([k, Buffer.from(v, 'base64').toString('utf8')]);
  }
  for (const [k, v] of Object.entries((secret?.stringData as Record<string, unknown> | undefined) ?? {})) {
    if (typeof v === 'string') out.push([k, v]);
  }
  return out;
}

/**
 * A Secret's decoded data by key ({@link secretEntries}; `stringData` wins over `data`, as the API server merges them).
 * An object without a prototype: a key the Secret lacks is `undefined` even when it is named like an Object member
 * (`constructor`, `toString`, `__proto__`: a user's `key` in a Secret reference is looked up here).
 */
export function decodeSecretData(secret: KubeObject | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of secretEntries(secret)) out[k] = v;
  return out;
}

/**
 * An `Opaque` v1 Secret with the given name, namespace, labels and plain-text values (base64-encoded into `data`,
 * keys sorted).
 */
export function secret(name: string, namespace: string, labels: Record<string, string>, data: Record<string, string>): KubeObject {
  const encoded: Record<string, string> = {};
  for (const k of Object.keys(data).sort()) encoded[k] = Buffer.from(data[k], 'utf8').toString('base64');
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels }, type: 'Opaque', data: encoded } as KubeObject;
}

/**
 * A reference to a user's credential Secret: name, namespace (only the referrer's is allowed) and key (default
 * `password`).
 */
export interface CredentialRef {
  name: string;
  namespace?: string;
  key?: string;
}

/** An admin credential as adminCredential answers it: the Secret child to return and its decoded values. */
export interface AdminCredential {
  secret: KubeObject;
  data: Record<string, string>;
}

/**
 * The admin credential Secret of a component, a child in the parent's namespace. Its password comes from
 * the user's Secret (`ref`, read as a related object, in the parent's namespace only) when it exists,
 * else from the observed child (generated earlier), else it is generated now. With `bcrypt`, a bcrypt
 * hash is kept beside it and reused while the password is unchanged. A `ref` naming another namespace
 * blocks with `SecretRefNotPermitted` (`opts.field` names it in the message) and nothing is read.
 */
export function adminCredential(
  req: { parent: KubeObject; children?: Record<string, Record<string, KubeObject>>; related?: Record<string, Record<string, KubeObject>> },
  env: HookEnv,
  opts: { name: string; username: string; ref?: CredentialRef; field?: string; autoGenerate: boolean; labels: Record<string, string>; bcrypt?: boolean },
): AdminCredential | { blocked: { reason: string; message: string } } {
  const ns = req.parent.metadata.namespace ?? 'default';
  const observed = decodeSecretData(req.children?.['Secret.v1']?.[`${ns}/${opts.name}`]);
  let password: string | undefined;
  if (opts.ref) {
    // A Secret the user named is used or the object waits: never a silently generated password instead.
    const refused = secretRefRefusal(opts.ref, req.parent, opts.field ?? 'the credentials Secret reference');
    if (refused) return { blocked: refused };
    const refNs = ns;
    const key = opts.ref.key ?? 'password';
    const found = req.related?.['Secret.v1']?.[`${refNs}/${opts.ref.name}`];
    if (!found) return { blocked: { reason: 'SecretNotFound', message: `secret ${refNs}/${opts.ref.name} (key ${key}) not found` } };
    const user = decodeSecretData(found);
    password = Object.hasOwn(user, key) ? user[key] : undefined;
    if (!password) {
      return { blocked: { reason: 'SecretKeyMissing', message: `secret ${refNs}/${opts.ref.name} has ${Object.hasOwn(user, key) ? 'an empty' : 'no'} key ${key}` } };
    }
  }
  password ??= observed.password || generatePassword(env);
  const data: Record<string, string> = { username: opts.username, password };
  if (opts.bcrypt) data.bcrypt = observed.bcrypt && observed.password === password ? observed.bcrypt : bcrypt(env, password);
  return { secret: secret(opts.name, ns, opts.labels, data), data };
}

/** customize: the user's credential Secret, in the parent's namespace; none for a ref naming another namespace (never read). */
export function credentialRule(ref: CredentialRef | undefined, parent: KubeObject) {
  if (!ref || secretRefRefusal(ref, parent, '')) return [];
  return [{ apiVersion: 'v1', resource: 'secrets', namespace: parent.metadata.namespace, names: [ref.name] }];
}
