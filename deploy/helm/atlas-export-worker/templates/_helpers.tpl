{{/* Names and labels. */}}
{{- define "aew.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "aew.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "aew.codecName" -}}
{{- printf "%s-codec" (include "aew.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "aew.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "aew.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "aew.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aew.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end -}}

{{- define "aew.codecSelectorLabels" -}}
app.kubernetes.io/name: {{ include "aew.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: codec-server
{{- end -}}

{{- define "aew.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aew.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* repository:tag, or repository@digest when a digest is set (it wins). */}}
{{- define "aew.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- if not (hasPrefix "sha256:" $image.digest) -}}
{{- fail "image.digest must be sha256:<hex>" -}}
{{- end -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- $tag := default .Chart.AppVersion $image.tag -}}
{{- if eq $tag "latest" -}}
{{- fail "image.tag: latest is not allowed; name a version (or set image.digest)" -}}
{{- end -}}
{{- printf "%s:%s" $image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Where Secret volumes are mounted (as the kubelet writes them) and where the copier puts owner-only copies. */}}
{{- define "aew.secretVolumesDir" -}}/var/run/atlas-export/secret-volumes{{- end -}}
{{- define "aew.secretsDir" -}}/var/run/atlas-export/secrets{{- end -}}

{{/*
The worker's Secret volumes, as a YAML list of {name, secret, keys}: each is mounted whole (a directory, never
subPath, so the kubelet publishes a changed Secret) with only the keys listed.
*/}}
{{- define "aew.workerSecrets" -}}
{{- $v := .Values -}}
- name: atlas
  secret: {{ required "atlas.credentialsSecret.name: name the existing Secret with the Atlas client secret or private key" $v.atlas.credentialsSecret.name }}
  keys: [{{ $v.atlas.credentialsSecret.key | quote }}]
{{- if $v.temporal.apiKeySecret.name }}
- name: temporal-api-key
  secret: {{ $v.temporal.apiKeySecret.name }}
  keys: [{{ $v.temporal.apiKeySecret.key | quote }}]
{{- end }}
{{- if $v.temporal.mtlsSecret.name }}
- name: temporal-mtls
  secret: {{ $v.temporal.mtlsSecret.name }}
  keys:
    - {{ $v.temporal.mtlsSecret.certKey | quote }}
    - {{ $v.temporal.mtlsSecret.keyKey | quote }}
    {{- if $v.temporal.mtlsSecret.caKey }}
    - {{ $v.temporal.mtlsSecret.caKey | quote }}
    {{- end }}
{{- end }}
{{- if $v.payloadEncryption.keySecret.name }}
- name: payload-encryption
  secret: {{ $v.payloadEncryption.keySecret.name }}
  keys: [{{ $v.payloadEncryption.keySecret.key | quote }}]
{{- end }}
{{- end -}}

{{- define "aew.codecSecrets" -}}
{{- $v := .Values -}}
- name: payload-encryption
  secret: {{ required "codecServer.enabled needs payloadEncryption.keySecret.name: the codec server decrypts with the workers' keys" $v.payloadEncryption.keySecret.name }}
  keys: [{{ $v.payloadEncryption.keySecret.key | quote }}]
- name: codec-token
  secret: {{ required "codecServer.tokenSecret.name: the codec server listens beyond loopback, so it needs a bearer token (an existing Secret)" $v.codecServer.tokenSecret.name }}
  keys: [{{ $v.codecServer.tokenSecret.key | quote }}]
{{- end -}}

{{/* The path of the owner-only copy of `key` of Secret volume `volume`: dict "volume" "key". */}}
{{- define "aew.secretFile" -}}
{{- printf "%s/%s/%s" (include "aew.secretsDir" .) .volume .key -}}
{{- end -}}

{{/*
Pod parts shared by the worker and the codec server: the native sidecar that copies the Secret volumes, and the
volumes. Called with dict "root" $ "secrets" (list of {name, secret, keys}).
*/}}
{{- define "aew.secretCopier" -}}
{{- $root := .root -}}
- name: secret-files
  image: {{ include "aew.image" $root }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  # A native sidecar: started, and its startup probe passed (first copy done), before the main container starts;
  # then it keeps the copies current until the pod ends.
  restartPolicy: Always
  command: ["node", "/opt/atlas-export/sync-secret-files.mjs"]
  env:
    - name: SYNC_FROM
      value: {{ include "aew.secretVolumesDir" $root }}
    - name: SYNC_TO
      value: {{ include "aew.secretsDir" $root }}
    - name: SYNC_INTERVAL_MS
      value: {{ mul $root.Values.secretFiles.intervalSeconds 1000 | quote }}
    - name: NODE_OPTIONS
      value: --max-old-space-size=32
  startupProbe:
    exec:
      command: ["test", "-e", "{{ include "aew.secretsDir" $root }}/.synced"]
    periodSeconds: 1
    failureThreshold: 60
  resources:
    {{- toYaml $root.Values.secretFiles.resources | nindent 4 }}
  securityContext:
    {{- toYaml $root.Values.containerSecurityContext | nindent 4 }}
  volumeMounts:
    - name: secret-files
      mountPath: {{ include "aew.secretsDir" $root }}
    - name: secret-files-script
      mountPath: /opt/atlas-export
      readOnly: true
    {{- range .secrets }}
    - name: secret-{{ .name }}
      mountPath: {{ include "aew.secretVolumesDir" $root }}/{{ .name }}
      readOnly: true
    {{- end }}
{{- end -}}

{{- define "aew.secretVolumes" -}}
- name: secret-files
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
- name: secret-files-script
  configMap:
    name: {{ include "aew.fullname" .root }}-secret-files
    defaultMode: 0444
{{- range .secrets }}
- name: secret-{{ .name }}
  secret:
    secretName: {{ .secret }}
    # The kubelet makes these 0440 (root, group fsGroup) whatever the mode asks, as the pod has an fsGroup
    # (kubernetes/kubernetes#57923); only the copier reads them. The worker reads the copies (0400, its own).
    defaultMode: 0440
    items:
      {{- range .keys }}
      - key: {{ . }}
        path: {{ . }}
      {{- end }}
{{- end }}
{{- end -}}

{{/*
Variables the chart never takes from values: the secrets (they come from Secret files) and what the chart sets
itself. Called with dict "where" "<values key>" "env" <map>.
*/}}
{{- define "aew.checkEnv" -}}
{{- $secret := list "ATLAS_CLIENT_SECRET" "ATLAS_PRIVATE_KEY" "MONGODB_ATLAS_CLIENT_SECRET" "MONGODB_ATLAS_PRIVATE_API_KEY" "TEMPORAL_API_KEY" "TEMPORAL_TLS_CLIENT_KEY_DATA" "PAYLOAD_ENCRYPTION_KEYS" "CODEC_SERVER_TOKEN" -}}
{{- $managed := list "TEMPORAL_ADDRESS" "TEMPORAL_NAMESPACE" "TEMPORAL_TASK_QUEUE" "WORKER_METRICS_ADDRESS" "WORKER_HEALTH_ADDRESS" "WORKER_WORKFLOW_BUNDLE" "NODE_OPTIONS" "WORKER_ALLOWED_TARGETS" -}}
{{- range $name, $_ := .env -}}
{{- if or (has $name $secret) (hasSuffix "_FILE" $name) -}}
{{- fail (printf "%s.%s: a secret never comes from values; name an existing Secret instead (docs/kubernetes.md)" $.where $name) -}}
{{- end -}}
{{- if has $name $managed -}}
{{- fail (printf "%s.%s: set by the chart from its own values (docs/kubernetes.md)" $.where $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "aew.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}
