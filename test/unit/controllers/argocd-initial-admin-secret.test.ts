/** Today's `argocd/argocd-initial-admin-secret` (key `password`), written by the ArgoCDProvider's install Job. */
import { describe, expect, it } from 'vitest';
import { argoCDProviderHooks as hooks } from '../../../src/controllers/argocdprovider.js';
import { parent, syncRequest, testEnv } from '../../support/requests.js';
import { byKind } from '../../support/world.js';
import { cmData } from '../../support/providers.js';

const argocd = (spec: Record<string, unknown> = {}) => parent('ArgoCDProvider', 'argocd', spec);

describe('ArgoCDProvider: argocd-initial-admin-secret', () => {
  it('the install Job writes it into the release namespace from the admin child Secret, before helm upgrade', () => {
    const res = hooks.sync(syncRequest(argocd()), testEnv());
    const run = cmData(byKind(res, 'ConfigMap')[0])['run.sh'];
    const write = run.indexOf("kubectl create secret generic argocd-initial-admin-secret --namespace argocd --from-file=password=/secrets/argocd-argocd-admin/password --dry-run=client -o yaml");
    expect(write).toBeGreaterThan(0);
    expect(write).toBeLessThan(run.indexOf('helm upgrade --install argocd'));
    // only the password key: the bcrypt hash and username stay in the child Secret
    expect(run).not.toContain('--from-file=bcrypt=');
    // labelled like the other credential Secrets, so `get secrets` finds it
    expect(run).toContain('kubectl label --local -f - app.kubernetes.io/managed-by=idpbuilder idpbuilder.cnoe.io/argocdprovider=argocd idpbuilder.cnoe.io/role=credentials -o yaml');
  });

  it('in spec.namespace', () => {
    const res = hooks.sync(syncRequest(argocd({ namespace: 'gitops' })), testEnv());
    expect(cmData(byKind(res, 'ConfigMap')[0])['run.sh']).toContain(
      'kubectl create secret generic argocd-initial-admin-secret --namespace gitops --from-file=password=/secrets/argocd-argocd-admin/password',
    );
  });
});
