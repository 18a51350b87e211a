{{/* Chart name, shortened to 63 characters. */}}
{{- define "idpbuilder.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Base name of the release's objects: the release name, or <release>-<chart> when the release name does not
contain the chart name. Shortened to 50 characters so suffixes such as "-webhook-token" fit in 63.
*/}}
{{- define "idpbuilder.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "idpbuilder.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object of the release. */}}
{{- define "idpbuilder.labels" -}}
helm.sh/chart: {{ include "idpbuilder.chart" . }}
app.kubernetes.io/name: {{ include "idpbuilder.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: idpbuilder
{{- end }}

{{/* Labels that select the hook pods (Deployment, Service, PDB, NetworkPolicy). */}}
{{- define "idpbuilder.hooks.selectorLabels" -}}
app.kubernetes.io/name: {{ include "idpbuilder.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: hooks
{{- end }}

{{/* Name of the hook Deployment and of the Service Metacontroller calls. */}}
{{- define "idpbuilder.hooks.name" -}}
{{- printf "%s-hooks" (include "idpbuilder.fullname" .) }}
{{- end }}

{{- define "idpbuilder.hooks.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "idpbuilder.hooks.name" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The hook service's image reference: repository:tag, or repository@digest. */}}
{{- define "idpbuilder.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/* The image the Jobs run: jobImage, else the hook service's image. */}}
{{- define "idpbuilder.jobImage" -}}
{{- default (include "idpbuilder.image" .) .Values.jobImage }}
{{- end }}

{{/* The Secret holding the webhook token, and its key. */}}
{{- define "idpbuilder.webhookToken.secretName" -}}
{{- default (printf "%s-webhook-token" (include "idpbuilder.fullname" .)) .Values.webhookToken.existingSecret }}
{{- end }}

{{- define "idpbuilder.webhookToken.key" -}}
{{- if .Values.webhookToken.existingSecret }}
{{- default "token" .Values.webhookToken.existingSecretKey }}
{{- else }}
{{- "token" }}
{{- end }}
{{- end }}

{{/* Namespaces the installer ServiceAccount lives in: the release namespace first, then installer.namespaces. */}}
{{- define "idpbuilder.installer.namespaces" -}}
{{- $all := list .Release.Namespace }}
{{- range .Values.installer.namespaces }}
{{- if not (has . $all) }}
{{- $all = append $all . }}
{{- end }}
{{- end }}
{{- toJson $all }}
{{- end }}

{{/* Labels of the `helm test` Pod; the NetworkPolicy admits pods with these to the hook port. */}}
{{- define "idpbuilder.test.selectorLabels" -}}
app.kubernetes.io/name: {{ include "idpbuilder.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: test
{{- end }}

{{/* Names of the CRDs the chart carries (files/crds/), as a JSON list. */}}
{{- define "idpbuilder.crdNames" -}}
{{- $names := list }}
{{- range $path, $_ := .Files.Glob "files/crds/*.yaml" }}
{{- $names = append $names ($.Files.Get $path | fromYaml).metadata.name }}
{{- end }}
{{- toJson $names }}
{{- end }}
