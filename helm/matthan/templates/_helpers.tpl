{{/* Names, labels and the config file, shared by the templates. */}}

{{- define "matthan.fullname" -}}
{{- if contains "matthan" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-matthan" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "matthan.labels" -}}
app.kubernetes.io/name: matthan
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "matthan.frontDoorSelector" -}}
app.kubernetes.io/name: matthan
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: frontdoor
{{- end -}}

{{- define "matthan.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "matthan.frontDoorName" -}}{{ include "matthan.fullname" . }}-frontdoor{{- end -}}
{{- define "matthan.headService" -}}{{ include "matthan.fullname" . }}-head-svc{{- end -}}
{{- define "matthan.stateClaim" -}}{{ .Values.state.existingClaim | default (printf "%s-state" (include "matthan.fullname" .)) }}{{- end -}}
{{- define "matthan.recordingsClaim" -}}{{ .Values.recordings.existingClaim | default (printf "%s-recordings" (include "matthan.fullname" .)) }}{{- end -}}

{{/* The Ray cluster the front door and the deploy step join (Ray Client through the head Service). */}}
{{- define "matthan.rayAddress" -}}
{{- .Values.frontDoor.rayAddress | default (printf "ray://%s:%v" (include "matthan.headService" .) .Values.ray.ports.client) -}}
{{- end -}}

{{/* Where pods find the config, the token Secret and the TLS Secret. */}}
{{- define "matthan.paths" -}}
{{- dict "configMap" "/etc/matthan/config" "tokens" "/etc/matthan/tokens" "tls" "/etc/matthan/tls" "run" "/run/matthan" | toJson -}}
{{- end -}}

{{/* Sizes of the recordings volume: the retention budget plus headroom, whole GiB. */}}
{{- define "matthan.recordingsSize" -}}
{{- $gib := mulf (float64 .Values.recordings.budgetGiB) (addf 1.0 (divf (float64 .Values.recordings.headroomPercent) 100.0)) | ceil | int -}}
{{- printf "%dGi" $gib -}}
{{- end -}}

{{/* Checks the schema cannot express. */}}
{{- define "matthan.checks" -}}
{{- $w := .Values.ray.workers -}}
{{- if gt (int $w.minReplicas) (int $w.maxReplicas) -}}
{{- fail (printf "ray.workers.minReplicas (%v) must not exceed ray.workers.maxReplicas (%v)" $w.minReplicas $w.maxReplicas) -}}
{{- end -}}
{{- if or (lt (int $w.replicas) (int $w.minReplicas)) (gt (int $w.replicas) (int $w.maxReplicas)) -}}
{{- fail (printf "ray.workers.replicas (%v) must be between minReplicas (%v) and maxReplicas (%v)" $w.replicas $w.minReplicas $w.maxReplicas) -}}
{{- end -}}
{{- if and (not .Values.frontDoor.tls.enabled) (not .Values.frontDoor.allowPlaintext) -}}
{{- fail "frontDoor.tls.enabled is false: set frontDoor.allowPlaintext: true (TLS terminated by a mesh or an ingress), or enable TLS" -}}
{{- end -}}
{{- if and .Values.frontDoor.tls.clientCA (not .Values.frontDoor.tls.enabled) -}}
{{- fail "frontDoor.tls.clientCA needs frontDoor.tls.enabled" -}}
{{- end -}}
{{- end -}}

{{/*
The config file (cameras.yaml) of the front door and the deploy step, without tokens:
values.config, plus what the chart owns. As a YAML mapping.
*/}}
{{- define "matthan.appConfig" -}}
{{- $paths := include "matthan.paths" . | fromJson -}}
{{- $c := deepCopy (.Values.config | default dict) -}}
{{- $fd := .Values.frontDoor -}}
{{- $plaintext := not $fd.tls.enabled -}}
{{- $_ := set $c "cameras" (.Values.cameras | default list) -}}
{{- /* Scheduler settings that follow from the RayCluster, unless config.scheduler sets them. */ -}}
{{- $sched := deepCopy (get $c "scheduler" | default dict) -}}
{{- if not (hasKey $sched "use_head_node") -}}
{{- $_ := set $sched "use_head_node" (gt (int .Values.ray.head.numCpus) 0) -}}
{{- end -}}
{{- $as := .Values.ray.autoscaling -}}
{{- if $as.enabled -}}
{{- if not (hasKey $sched "autoscaling") -}}
{{- $_ := set $sched "autoscaling" true -}}
{{- end -}}
{{- if not (hasKey $sched "max_node_cpus") -}}
{{- $_ := set $sched "max_node_cpus" (int .Values.ray.workers.cpus) -}}
{{- end -}}
{{- if not (hasKey $sched "release_grace_s") -}}
{{- $_ := set $sched "release_grace_s" (add (int $as.idleTimeoutSeconds) 120) -}}
{{- end -}}
{{- if and (get $sched "autoscaling") (le (float64 (get $sched "release_grace_s")) (float64 $as.idleTimeoutSeconds)) -}}
{{- fail (printf "config.scheduler.release_grace_s (%v) must exceed ray.autoscaling.idleTimeoutSeconds (%v): an emptied worker would take cameras again before the autoscaler removes it" (get $sched "release_grace_s") $as.idleTimeoutSeconds) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $c "scheduler" $sched -}}
{{- $_ := set $c "runtime" (dict "ray" (dict "namespace" .Values.ray.namespace) "state_dir" .Values.state.mountPath) -}}
{{- $server := deepCopy (get $c "server" | default dict) -}}
{{- $_ := set $server "host" "0.0.0.0" -}}
{{- $_ := set $server "port" (int $fd.grpc.port) -}}
{{- $_ := set $server "allow_plaintext" $plaintext -}}
{{- if $fd.tls.enabled -}}
{{- $tls := dict "cert_file" (printf "%s/tls.crt" $paths.tls) "key_file" (printf "%s/tls.key" $paths.tls) -}}
{{- if $fd.tls.clientCA -}}
{{- $_ := set $tls "client_ca_file" (printf "%s/ca.crt" $paths.tls) -}}
{{- end -}}
{{- $_ := set $server "tls" $tls -}}
{{- end -}}
{{- if $fd.web.enabled -}}
{{- $web := deepCopy (get $server "web" | default dict) -}}
{{- $_ := set $web "host" "0.0.0.0" -}}
{{- $_ := set $web "port" (int $fd.web.port) -}}
{{- $_ := set $web "allow_plaintext" $plaintext -}}
{{- $_ := set $server "web" $web -}}
{{- else -}}
{{- $_ := unset $server "web" -}}
{{- end -}}
{{- $_ := set $c "server" $server -}}
{{- $metrics := deepCopy (get $c "metrics" | default dict) -}}
{{- $_ := set $metrics "enabled" true -}}
{{- $_ := set $metrics "host" "0.0.0.0" -}}
{{- $_ := set $metrics "port" (int $fd.metrics.port) -}}
{{- $_ := set $c "metrics" $metrics -}}
{{- /* Recordings: the camera workers write, and the front door reads, the recordings volume. */ -}}
{{- $rec := .Values.recordings -}}
{{- $storage := deepCopy (get $c "recordings" | default dict) -}}
{{- $budget := 0 -}}
{{- range .Values.cameras -}}
{{- $r := .recording | default dict -}}
{{- if and $r.mode (ne (toString $r.mode) "off") -}}
{{- if not $rec.enabled -}}
{{- fail (printf "camera %s records (recording.mode %s) but recordings.enabled is false: the camera workers would have no volume to write to" .id $r.mode) -}}
{{- end -}}
{{- $budget = add $budget (int64 (($r.retention | default dict).max_bytes | default 0)) -}}
{{- end -}}
{{- end -}}
{{- if $rec.enabled -}}
{{- $_ := set $storage "directory" $rec.mountPath -}}
{{- range $group, $dir := (get $storage "group_directories" | default dict) -}}
{{- if not (hasPrefix (printf "%s/" $rec.mountPath) (toString $dir)) -}}
{{- fail (printf "config.recordings.group_directories.%s (%s) must be under recordings.mountPath (%s): only that volume is on every camera worker" $group $dir $rec.mountPath) -}}
{{- end -}}
{{- end -}}
{{- $volume := mul (int64 $rec.budgetGiB) 1073741824 -}}
{{- if gt (int64 $budget) (int64 $volume) -}}
{{- fail (printf "the cameras' recording.retention.max_bytes add up to %d bytes, over recordings.budgetGiB (%v GiB): raise the budget (the volume is sized from it) or lower the cameras'" $budget $rec.budgetGiB) -}}
{{- end -}}
{{- $_ := set $c "recordings" $storage -}}
{{- end -}}
{{- toYaml $c -}}
{{- end -}}

{{/* The init container that composes the config a pod runs with (cluster/deploy/compose.py). */}}
{{- define "matthan.composeContainer" -}}
{{- $paths := include "matthan.paths" . | fromJson -}}
- name: compose-config
  image: {{ include "matthan.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command:
    - python
    - -m
    - cluster.deploy.compose
    - --config
    - {{ $paths.configMap }}/config.yaml
    - --tokens
    - {{ $paths.tokens }}/{{ .Values.frontDoor.tokens.key }}
    - --out
    - {{ $paths.run }}/config.yaml
  securityContext: {{- include "matthan.containerSecurity" . | nindent 4 }}
  resources:
    requests: {cpu: 50m, memory: 128Mi}
    limits: {cpu: 500m, memory: 256Mi}
  volumeMounts:
    - {name: config, mountPath: {{ $paths.configMap }}, readOnly: true}
    - {name: tokens, mountPath: {{ $paths.tokens }}, readOnly: true}
    - {name: run, mountPath: {{ $paths.run }}}
{{- end -}}

{{/* Volumes of the config, the token Secret and the composed config. */}}
{{- define "matthan.configVolumes" -}}
- name: config
  configMap:
    name: {{ include "matthan.fullname" . }}-config
- name: tokens
  secret:
    secretName: {{ .Values.frontDoor.tokens.secretName }}
    items:
      - {key: {{ .Values.frontDoor.tokens.key }}, path: {{ .Values.frontDoor.tokens.key }}}
- name: run
  emptyDir: {medium: Memory, sizeLimit: 16Mi}
{{- end -}}

{{- define "matthan.podSecurity" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile: {type: RuntimeDefault}
{{- end -}}

{{- define "matthan.containerSecurity" -}}
allowPrivilegeEscalation: false
capabilities: {drop: [ALL]}
{{- end -}}

{{/*
A grpc.health.v1 probe of `service`: Kubernetes' gRPC probe in plaintext; with TLS an
exec probe (Kubernetes' gRPC probes speak no TLS, cluster/deploy/probe.py); with
mTLS a TCP probe (the probe has no client certificate).
*/}}
{{- define "matthan.healthProbe" -}}
{{- $root := .root -}}
{{- $fd := $root.Values.frontDoor -}}
{{- $paths := include "matthan.paths" $root | fromJson -}}
{{- if not $fd.tls.enabled }}
grpc:
  port: {{ $fd.grpc.port }}
  service: {{ .service | quote }}
{{- else if $fd.tls.clientCA }}
tcpSocket:
  port: grpc
{{- else }}
exec:
  command:
    - python
    - -m
    - cluster.deploy.probe
    - --address
    - {{ printf "127.0.0.1:%v" $fd.grpc.port }}
    - --service
    - {{ .service | quote }}
    - --ca
    - {{ $paths.tls }}/ca.crt
    - --server-name
    - {{ $fd.tls.serverName | default (include "matthan.frontDoorName" $root) }}
    - --timeout
    {{- /* answer before Kubernetes gives up on the probe */}}
    - {{ max 1 (sub (int $fd.probes.timeoutSeconds) 1) | quote }}
{{- end }}
{{ toYaml .extra }}
{{- end -}}

{{/* What a pod that joins the Ray cluster needs of Ray's token authentication. */}}
{{- define "matthan.rayAuthEnv" -}}
{{- if .Values.ray.auth.enabled }}
- name: RAY_AUTH_MODE
  value: token
- name: RAY_AUTH_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.ray.auth.secretName }}
      key: auth_token
{{- end }}
{{- end -}}
