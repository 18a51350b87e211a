#!/bin/sh
# Prepares the upstream charts at the pinned versions (src/controllers/defaults.ts) from git snapshots of
# their source repositories, as their release packaging publishes them, for `scripts/airgap-images.ts`.
#
#   scripts/airgap-charts.sh MIRRORS OUT
#
# MIRRORS holds one git directory per repository, named <owner>+<name> (argoproj+argo-helm,
# kubernetes+ingress-nginx, envoyproxy+gateway, istio+istio, fluxcd-community+helm-charts,
# project-mirrors+gitea-helm-chart, metacontroller+metacontroller, controlplaneio-fluxcd+charts); each may be a bare repository in <dir>/repo or a clone in <dir>/repo/.git.
# OUT receives one chart directory per chart: argo-cd, ingress-nginx, gateway-helm, base, istiod, gateway,
# cni, ztunnel, flux2, gitea, metacontroller-helm, flux-operator.
#
# What the release packaging does and this script repeats on the copy (never on the source):
# - gateway-helm: values.yaml from values.tmpl.yaml with the release image, chart and app version = tag;
# - Istio: hub `docker.io/istio` and tag = chart version instead of the development hub/tag;
# - gitea: chart version set (the source carries 0.0.0);
# - subchart dependencies that need the network (Bitnami's for gitea, redis-ha for argo-cd) are dropped from
#   Chart.yaml: our values disable all of them (the images table then lists none of their images).
set -eu
MIRRORS=$1 OUT=$2
ARGO=argo-cd-10.1.1 NGINX=helm-chart-4.15.1 ENVOY=v1.9.0 ISTIO=1.30.3 FLUX=flux2-2.18.3
# the Gitea chart's GitHub mirror has no tags: the commit of chart 12.1.2 (docs/providers/giteaprovider.md)
GITEA=9206b34 GITEA_VERSION=12.1.2
gitdir() { if [ -d "$MIRRORS/$1/repo/.git" ]; then echo "$MIRRORS/$1/repo/.git"; else echo "$MIRRORS/$1/repo"; fi; }
extract() { # repo ref path → OUT/name
  tmp=$(mktemp -d)
  git --git-dir="$(gitdir "$1")" archive "$2" "$3" | tar -x -C "$tmp"
  rm -rf "${OUT:?}/$4"; mv "$tmp/$3" "$OUT/$4"; rm -rf "$tmp"
}
drop_dependencies() { # Chart.yaml without its dependencies block
  awk '/^dependencies:/{skip=1; next} skip && /^[^ -]/{skip=0} !skip' "$1" > "$1.new" && mv "$1.new" "$1"
  rm -f "$(dirname "$1")/Chart.lock"
}
mkdir -p "$OUT"
extract argoproj+argo-helm "$ARGO" charts/argo-cd argo-cd
drop_dependencies "$OUT/argo-cd/Chart.yaml"
extract kubernetes+ingress-nginx "$NGINX" charts/ingress-nginx ingress-nginx
extract envoyproxy+gateway "$ENVOY" charts/gateway-helm gateway-helm
sed -e "s|\${GatewayImage}|docker.io/envoyproxy/gateway:$ENVOY|" -e 's|\${GatewayImagePullPolicy}|IfNotPresent|' \
  "$OUT/gateway-helm/values.tmpl.yaml" > "$OUT/gateway-helm/values.yaml"
sed -i -e "s|^version:.*|version: $ENVOY|" -e "s|^appVersion:.*|appVersion: \"$ENVOY\"|" "$OUT/gateway-helm/Chart.yaml"
for c in base:base istio-control/istio-discovery:istiod gateway:gateway istio-cni:cni ztunnel:ztunnel; do
  extract istio+istio "$ISTIO" "manifests/charts/${c%%:*}" "${c#*:}"
  sed -i -e 's|registry.istio.io/testing|docker.io/istio|' -e "s|^\( *\)tag: latest|\1tag: $ISTIO|" "$OUT/${c#*:}/values.yaml"
  sed -i -e "s|^version:.*|version: $ISTIO|" -e "s|^appVersion:.*|appVersion: $ISTIO|" "$OUT/${c#*:}/Chart.yaml"
done
extract fluxcd-community+helm-charts "$FLUX" charts/flux2 flux2
tmp=$(mktemp -d)
git --git-dir="$(gitdir project-mirrors+gitea-helm-chart)" archive "$GITEA" | tar -x -C "$tmp"
rm -rf "$OUT/gitea"; mv "$tmp" "$OUT/gitea"
drop_dependencies "$OUT/gitea/Chart.yaml"
sed -i -e "s|^version:.*|version: $GITEA_VERSION|" "$OUT/gitea/Chart.yaml"
extract metacontroller+metacontroller v4.17.2 deploy/helm/metacontroller metacontroller-helm
# controlplaneio-fluxcd/charts has no tag for the chart: the commit that published flux-operator 0.49.0
extract controlplaneio-fluxcd+charts cf746d9 charts/flux-operator flux-operator
echo "charts in $OUT: $(ls "$OUT" | tr '\n' ' ')"
