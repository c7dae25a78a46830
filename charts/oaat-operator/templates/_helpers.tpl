{{/* Name of the chart, or nameOverride. */}}
{{- define "oaat-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of every resource: fullnameOverride, the release name when it contains the chart name, else <release>-<name>. */}}
{{- define "oaat-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "oaat-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of the operator's pods, used as selectors. Never app=oaat-operator: that label marks item pods. */}}
{{- define "oaat-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "oaat-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "oaat-operator.labels" -}}
helm.sh/chart: {{ include "oaat-operator.chart" . }}
{{ include "oaat-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "oaat-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "oaat-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "oaat-operator.leaseName" -}}
{{- default (include "oaat-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/*
What the operator does in a watched namespace, and nothing more: list/watch its kinds and its
item pods; read, create and delete pods; read groups and patch their status; write Events.
`patch` of groups and pods: removing the Python original's kopf finalizer, and the stop-reason
annotation a pod gets before the operator deletes it.
*/}}
{{- define "oaat-operator.rules" -}}
- apiGroups: ["kawaja.net"]
  resources: ["oaatgroups"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["kawaja.net"]
  resources: ["oaatgroups/status"]
  verbs: ["patch"]
# Item pods are owned by their group with blockOwnerDeletion; where the
# OwnerReferencesPermissionEnforcement admission plugin runs (OpenShift), that takes this.
- apiGroups: ["kawaja.net"]
  resources: ["oaatgroups/finalizers"]
  verbs: ["update"]
- apiGroups: ["kawaja.net"]
  resources: ["oaattypes"]
  verbs: ["list", "watch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "create", "delete", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- if .Values.itemsFromConfigMaps.enabled }}
# Items from ConfigMaps (spec.oaatItemsFrom): list and watch of the labelled ones (a label
# selector; RBAC cannot narrow by label), get to tell a ConfigMap without the label from none.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch"]
{{- end }}
{{- end }}
