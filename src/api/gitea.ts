import { Type, type Static } from '@sinclair/typebox';
import { DNS1123Label, DNS1123Subdomain, Desc, Enum, Obj } from './schema.js';
import { GitProviderStatusFields, InstalledStatusFields, Routing, SecretKeyRef, installedProviderSpec } from './common.js';

/**
 * Schema of GiteaProvider `spec`: install namespace (default gitea), version, chart override, Helm values, deletion
 * policy and `config`, `routing`, `adminUser` and `organizations`, of the Gitea chart pinned in
 * src/controllers/defaults.ts.
 */
export const GiteaProviderSpec = Obj({
    ...installedProviderSpec('gitea'),
    config: Type.Optional(
      Obj(
        {
          ingress: Type.Optional(
            Obj(
              {
                enabled: Type.Optional(
                  Type.Boolean({ default: true, description: 'Route to Gitea at all: chart ingress.enabled (Ingress gateway) or an HTTPRoute (HTTPRoute gateway).' }),
                ),
                className: Type.Optional(
                  Type.String({ maxLength: 253, description: "IngressClass: chart ingress.className; default the gateway's status.ingressClassName, else nginx." }),
                ),
                host: Type.Optional(
                  Desc(DNS1123Subdomain, 'Host name: chart ingress.hosts[0].host and gitea.config.server.DOMAIN; default gitea.<routing.domain> (path routing: <routing.domain>).'),
                ),
              },
              { description: 'The route to Gitea.' },
            ),
          ),
          persistence: Type.Optional(
            Obj(
              {
                enabled: Type.Optional(Type.Boolean({ description: 'Keep repositories on a PersistentVolumeClaim: chart persistence.enabled (default true).' })),
                size: Type.Optional(Type.String({ pattern: '^[0-9]+(Ki|Mi|Gi|Ti)$', description: 'Volume size in bytes with a binary suffix, e.g. 5Gi: chart persistence.size (default 5Gi).' })),
                storageClass: Type.Optional(Type.String({ maxLength: 253, description: "StorageClass of the claim: chart persistence.storageClass; default the cluster's default class." })),
              },
              { description: 'Gitea\'s data volume (chart persistence.*).' },
            ),
          ),
          database: Type.Optional(
            Obj(
              {
                type: Enum(['sqlite', 'postgres', 'mysql'] as const, {
                    default: 'sqlite',
                    description: 'sqlite, postgres (also enables the chart\'s PostgreSQL) or mysql (needs values.gitea.config.database.HOST): chart gitea.config.database.DB_TYPE.',
                }),
              },
              { description: 'Gitea\'s database.' },
            ),
          ),
        },
        { description: 'Typed Gitea chart settings; anything else goes through values.' },
      ),
    ),
    routing: Type.Optional(Routing),
    adminUser: Type.Optional(
      Obj(
        {
          username: Type.Optional(
            Type.String({
                minLength: 1,
                maxLength: 40,
                pattern: '^[A-Za-z0-9][-._A-Za-z0-9]*$',
                default: 'giteaAdmin',
                description: 'Admin user name, passed through the gitea-credential Secret (chart gitea.admin.existingSecret).',
            }),
          ),
          email: Type.Optional(Type.String({ maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$', description: 'Admin e-mail: chart gitea.admin.email; default admin@<host>.' })),
          passwordSecretRef: Type.Optional(
            Desc(SecretKeyRef, "Secret (in this object's namespace) holding the admin password, key default password; read when it exists, else a password is generated."),
          ),
          autoGenerate: Type.Optional(
            Type.Boolean({ default: true, description: 'Generate a password (40 alphanumerics, kept) when passwordSecretRef is absent or missing; false requires passwordSecretRef.' }),
          ),
        },
        {
          description: 'The Gitea admin account; its credential Secret is <name>-gitea-admin.',
          'x-kubernetes-validations': [
            {
              rule: "has(self.passwordSecretRef) || !has(self.autoGenerate) || self.autoGenerate",
              message: 'adminUser needs passwordSecretRef when autoGenerate is false',
              fieldPath: '.passwordSecretRef',
            },
          ],
        },
      ),
    ),
    organizations: Type.Optional(
      Type.Array(
        Obj({
          name: Desc(DNS1123Label, 'Organization name.'),
          description: Type.Optional(Type.String({ maxLength: 255, description: 'Organization description.' })),
        }),
        {
          description: 'Organizations the bootstrap Job creates; the first is where repositories go by default. Default: idpbuilder.',
          maxItems: 64,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
      ),
    ),
  }, { description: 'A Gitea installed with the gitea chart (default 12.1.2); docs/providers/giteaprovider.md maps each field to its chart value.' });
export type GiteaProviderSpec = Static<typeof GiteaProviderSpec>;

/**
 * Schema of GiteaProvider `status`: the git provider duck contract (endpoint, internalEndpoint, credentialsSecretRef
 * = the API token), the installed-provider fields, the admin user name and the default organization.
 */
export const GiteaProviderStatus = Obj({
  ...GitProviderStatusFields,
  ...InstalledStatusFields,
  adminUser: Type.Optional(Obj({ username: Type.String({ description: 'The admin user name.' }) }, { description: 'The admin account.' })),
  organization: Type.Optional(
    Type.String({ description: 'The organization repositories go to when a GitRepository names none: the first of spec.organizations, else `idpbuilder`.' }),
  ),
}, { description: 'Observed state; endpoint, internalEndpoint and credentialsSecretRef (the API token) form the git provider contract.' });
export type GiteaProviderStatus = Static<typeof GiteaProviderStatus>;
