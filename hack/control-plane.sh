#!/usr/bin/env bash
# A real, local Kubernetes control plane on loopback, without containers.
#
# Usage: hack/control-plane.sh start [--tier T0|T1|T2]
#        hack/control-plane.sh stop | status
#        hack/control-plane.sh restart-apiserver   (SIGKILL, then start again on the same port)
#        hack/control-plane.sh run [--tier T] -- CMD [ARGS...]   (start, run CMD, always stop)
#
# Tiers: T0 = etcd + kube-apiserver; T1 = T0 + KWOK with one fake node (kwok-node-0);
#        T2 = T1 + kube-scheduler + kube-controller-manager (the default).
# With CP_ATTACH_KUBECONFIG, `start` starts none of those: it attaches to the cluster of that
# kubeconfig (e.g. kind, which has them all; tier T2) and starts only KWOK and its node there.
#
# Secrets are served without kube-apiserver's watch cache, so that compacting etcd makes a watch
# from an old resourceVersion fail with 410 Gone, as it does on a busy cluster: tests of relisting
# use Secrets. Every component listens on 127.0.0.1 on a random free port; authorization is RBAC; the admin
# user authenticates with a client certificate (group system:masters). After `start`, the state
# directory holds `kubeconfig`, `env` (to source: KUBECONFIG, PATH, KWOK_NODE, CP_TIER) and
# `info.json` (tier, URLs, versions, paths, for test harnesses), and `logs/` per component.
# `stop` stops only the processes this script started (pid and start time recorded) and
# returns when none of them runs and none of their ports is bound.
#
# Settings (environment):
#   CP_STATE_DIR   state directory (default ${TMPDIR:-/tmp}/oaat-control-plane)
#   CP_TIER        default tier (T2)
#   CP_NODE_PODS   pod capacity of the fake node (110)
#   CP_KWOK_DEMO=1 pods without an outcome annotation end by themselves (hack/kwok/demo-stages.yaml;
#                  `make run` only: tests rely on such pods staying Running)
#   CP_KWOK_POD_PARALLELISM pods KWOK moves through their stages at once (KWOK's default, 4,
#                  ends about 100 pods a second here; benchmarks of simultaneous bursts raise it)
#   CP_AUDIT=1     write a kube-apiserver audit log to logs/audit.log: request bodies for pod
#                  creates and deletes and OaatGroup status writes, metadata for the rest
#   CP_OWNER_PID   stop the control plane by itself once this process has gone (test runners
#                  that may be interrupted or killed)
#   CP_REQUEST_TIMEOUT kube-apiserver's --request-timeout (default 1m0s, the server's own)
#   CP_ADMISSION_PLUGINS admission plugins to enable beyond kube-apiserver's defaults, comma-
#                  separated (e2e: OwnerReferencesPermissionEnforcement, as OpenShift has it)
#   CP_START_TIMEOUT seconds each component may take to become ready (120)
#   CP_ATTACH_KUBECONFIG a kubeconfig (copied to the state directory) of a running cluster to
#                  attach to instead of starting one: only KWOK runs (`stop` stops it); info.json
#                  then has an empty "etcd" and "pki" (this script holds neither)
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${CP_STATE_DIR:-${TMPDIR:-/tmp}/oaat-control-plane}
PKI=$STATE/pki LOGS=$STATE/logs KC=$STATE/kubeconfig
TIER=${CP_TIER:-T2}
NODE_PODS=${CP_NODE_PODS:-110}
START_TIMEOUT=${CP_START_TIMEOUT:-120}
NODE_NAME=kwok-node-0
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

die() { echo "control-plane: $*" >&2; exit 1; }
say() { echo "control-plane: $*" >&2; }

tier_level() {
  case $1 in T0) echo 0 ;; T1) echo 1 ;; T2) echo 2 ;; *) die "unknown tier '$1' (use T0, T1 or T2)" ;; esac
}

# free_port: a port that was free a moment ago (the kernel picks it; bind-then-release can race,
# which a failed component start reports with its log).
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start_time_of() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }

# launch NAME CMD...: runs CMD in a session of its own (so its process group can be signalled
# as one), appends to logs/NAME.log, records "pid starttime" in NAME.pid.
launch() {
  local name=$1; shift
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid $(start_time_of "$pid")" >"$STATE/$name.pid"
}

# alive NAME: the recorded process still runs (a zombie does not count) and is the one we
# started (same start time: a reused pid is never signalled).
alive() {
  local f=$STATE/$1.pid pid st stat
  [[ -f $f ]] || return 1
  read -r pid st <"$f"
  [[ -n $pid ]] || return 1
  { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }   # fields after "pid (comm) "
  local fields; read -ra fields <<<"$stat"
  [[ ${fields[0]} != Z && ${fields[19]} == "$st" ]]
}

# wait_ready NAME SECONDS CMD...: polls CMD until it succeeds; fails with the log path when the
# component dies or the time runs out. A component that died while CMD succeeded fails too:
# CMD then reached another process on the same port (another control plane took it first).
# NAME without a pid file (the kwok node, an attached cluster) is only polled.
wait_ready() {
  local name=$1 t=$2; shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    if [[ -e $STATE/$name.pid ]] && ! alive "$name"; then
      fail_start "$name exited during start-up (log: $LOGS/$name.log)" "$LOGS/$name.log"
    fi
    ((SECONDS < end)) || fail_start "$name not ready after ${t}s (log: $LOGS/${name%-node}.log)" "$LOGS/${name%-node}.log"
    sleep 0.2
  done
  if [[ -e $STATE/$name.pid ]] && ! alive "$name"; then
    fail_start "$name exited during start-up; its port answered from another process (log: $LOGS/$name.log)" "$LOGS/$name.log"
  fi
}

fail_start() {
  echo "control-plane: $1" >&2
  [[ -f $2 ]] && tail -n 12 "$2" | sed 's/^/  | /' >&2
  CP_KEEP_LOGS=1 stop
  exit 1
}

certs() {
  mkdir -p "$PKI"
  (
    cd "$PKI"
    printf '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=oaat-test-ca\n[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n' >ca.cnf
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 30 \
      -config ca.cnf -extensions v3_ca -keyout ca.key -out ca.crt
    sign() {
      openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj "$2" -keyout "$1.key" -out "$1.csr"
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile "$1.ext" -out "$1.crt"
    }
    sign apiserver /CN=kube-apiserver $'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc'
    sign admin '/O=system:masters/CN=admin' $'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth'
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
  ) >"$LOGS/openssl.log" 2>&1 || die "creating certificates with openssl failed (log: $LOGS/openssl.log)"
}

write_kubeconfig() {
  cat >"$KC" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: oaat-local
  cluster: {server: "https://127.0.0.1:$1", certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")}
users:
- name: admin
  user: {client-certificate-data: $(base64 -w0 "$PKI/admin.crt"), client-key-data: $(base64 -w0 "$PKI/admin.key")}
contexts:
- name: oaat-local
  context: {cluster: oaat-local, user: admin}
current-context: oaat-local
EOF
}

api() { curl -fsS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://127.0.0.1:$AP$1"; }

# etcd data lives on tmpfs when one is writable: faster and no disk wear.
etcd_data_dir() {
  if [[ -d /dev/shm && -w /dev/shm ]] && [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]]; then
    mktemp -d /dev/shm/oaat-etcd.XXXXXX
  else
    echo "$STATE/etcd"
  fi
}

start_etcd() {
  local data; data=$(etcd_data_dir); echo "$data" >"$STATE/etcd-data-dir"
  local attempt peer
  for attempt in 1 2 3; do
    EP=$(free_port); peer=$(free_port)
    launch etcd "$BIN/etcd" --name=oaat --data-dir="$data" --unsafe-no-fsync=true --log-level=warn \
      --listen-client-urls="http://127.0.0.1:$EP" --advertise-client-urls="http://127.0.0.1:$EP" \
      --listen-peer-urls="http://127.0.0.1:$peer" --initial-advertise-peer-urls="http://127.0.0.1:$peer" \
      --initial-cluster="oaat=http://127.0.0.1:$peer" --quota-backend-bytes=$((2 * 1024 * 1024 * 1024))
    echo "$EP $peer" >"$STATE/etcd.ports"
    # A free port can be taken between free_port and etcd's bind (several control planes
    # starting at once): etcd then exits at once, and is started again on new ports.
    sleep 0.5
    if alive etcd || ! grep -q 'address already in use' "$LOGS/etcd.log"; then break; fi
    say "etcd: a port was taken meanwhile (attempt $attempt); new ports"
    rm -rf "$data"
  done
  wait_ready etcd "$START_TIMEOUT" curl -fsS --max-time 2 "http://127.0.0.1:$EP/health"
}

# start_apiserver [PORT]: a new port unless one is given (a restart keeps its clients' kubeconfig).
start_apiserver() {
  AP=${1:-$(free_port)}
  local extra=()
  # Without a default route kube-apiserver cannot pick an advertise address by itself.
  grep -qE '^\S+\s+00000000\s' /proc/net/route || extra+=(--advertise-address=127.0.0.1)
  if [[ ${CP_AUDIT:-0} == 1 ]]; then
    cat >"$STATE/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Request
  verbs: [create, delete, deletecollection]
  resources: [{group: "", resources: [pods]}]
- level: Request
  verbs: [update, patch]
  resources: [{group: kawaja.net, resources: [oaatgroups/status]}]
- level: Metadata
POLICY
    extra+=(--audit-policy-file="$STATE/audit-policy.yaml" --audit-log-path="$LOGS/audit.log"
      --audit-log-format=json --audit-log-mode=blocking)
  fi
  launch kube-apiserver "$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$EP" \
    --bind-address=127.0.0.1 --secure-port="$AP" --endpoint-reconciler-type=none "${extra[@]}" \
    --cert-dir="$PKI" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 --authorization-mode=RBAC --allow-privileged=true \
    --disable-admission-plugins=ServiceAccount --profiling=false --watch-cache-sizes=secrets#0 \
    --request-timeout="${CP_REQUEST_TIMEOUT:-1m0s}" \
    ${CP_ADMISSION_PLUGINS:+--enable-admission-plugins="$CP_ADMISSION_PLUGINS"}
  echo "$AP" >"$STATE/kube-apiserver.ports"
  echo "${CP_REQUEST_TIMEOUT:-1m0s}" >"$STATE/request-timeout"
  echo "${CP_ADMISSION_PLUGINS:-}" >"$STATE/admission-plugins"
  write_kubeconfig "$AP"
  wait_ready kube-apiserver "$START_TIMEOUT" api /readyz
  wait_ready kube-apiserver "$START_TIMEOUT" api /api/v1/namespaces/default
}

start_controllers() {
  local kp sp; kp=$(free_port); sp=$(free_port)
  launch kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$KC" \
    --authentication-kubeconfig="$KC" --authorization-kubeconfig="$KC" --bind-address=127.0.0.1 \
    --secure-port="$kp" --leader-elect=false --service-account-private-key-file="$PKI/sa.key" \
    --root-ca-file="$PKI/ca.crt" --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --profiling=false
  echo "$kp" >"$STATE/kube-controller-manager.ports"
  launch kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$KC" --authentication-kubeconfig="$KC" \
    --authorization-kubeconfig="$KC" --bind-address=127.0.0.1 --secure-port="$sp" --leader-elect=false \
    --profiling=false
  echo "$sp" >"$STATE/kube-scheduler.ports"
  wait_ready kube-controller-manager "$START_TIMEOUT" curl -fsSk --max-time 2 "https://127.0.0.1:$kp/healthz"
  wait_ready kube-scheduler "$START_TIMEOUT" curl -fsSk --max-time 2 "https://127.0.0.1:$sp/healthz"
}

start_kwok() {
  local kp; kp=$(free_port)
  local configs=(--config="$ROOT/hack/kwok/stages.yaml")
  [[ ${CP_KWOK_DEMO:-0} != 1 ]] || configs+=(--config="$ROOT/hack/kwok/demo-stages.yaml")
  if [[ -n ${CP_KWOK_POD_PARALLELISM:-} ]]; then
    # A KwokConfiguration leaves unset options at zero, not at KWOK's defaults: name them all.
    printf 'apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions:\n  podPlayStageParallelism: %d\n  nodePlayStageParallelism: 4\n  nodeLeaseParallelism: 4\n' \
      "$CP_KWOK_POD_PARALLELISM" >"$STATE/kwok-config.yaml"
    configs+=(--config="$STATE/kwok-config.yaml")
  fi
  launch kwok "$BIN/kwok" --kubeconfig="$KC" "${configs[@]}" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds=40 --cidr=10.244.0.0/16 --node-ip=127.0.0.1 \
    --server-address="127.0.0.1:$kp"
  echo "$kp" >"$STATE/kwok.ports"
  sed "s/__PODS__/$NODE_PODS/g" "$ROOT/hack/kwok/node.yaml" |
    "$BIN/kubectl" --kubeconfig "$KC" apply -f - >>"$LOGS/kwok.log" 2>&1 ||
    fail_start "creating node $NODE_NAME failed (log: $LOGS/kwok.log)" "$LOGS/kwok.log"
  wait_ready kwok-node "$START_TIMEOUT" node_ready
}

node_ready() {
  alive kwok || fail_start "kwok exited during start-up (log: $LOGS/kwok.log)" "$LOGS/kwok.log"
  [[ $("$BIN/kubectl" --kubeconfig "$KC" get node "$NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]]
}

# The reaper stops the control plane once the owner process is gone, however it ended.
start_reaper() {
  local owner=$1
  CP_STATE_DIR=$STATE setsid bash -c '
    while kill -0 "$1" 2>/dev/null; do sleep 1; done
    CP_REAPING=1 exec "$2" stop' reaper "$owner" "$ROOT/hack/control-plane.sh" \
    >"$LOGS/reaper.log" 2>&1 </dev/null &
  echo "$! $(start_time_of $!)" >"$STATE/reaper.pid"
}

write_info() {
  local version; version=$("$BIN/kubectl" --kubeconfig "$KC" get --raw /version | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')
  local server; server=$("$BIN/kubectl" --kubeconfig "$KC" config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  local node=null pki="" etcd=""
  [[ -n ${CP_ATTACH_KUBECONFIG:-} ]] || pki=$PKI etcd=http://127.0.0.1:$EP
  if (($(tier_level "$TIER") >= 1)); then node="\"$NODE_NAME\""; fi
  cat >"$STATE/info.json" <<EOF
{
  "tier": "$TIER",
  "kubeconfig": "$KC",
  "server": "$server",
  "etcd": "$etcd",
  "kubernetesVersion": "$version",
  "node": $node,
  "nodePods": $NODE_PODS,
  "binDir": "$BIN",
  "logDir": "$LOGS",
  "auditLog": $([[ ${CP_AUDIT:-0} == 1 ]] && echo "\"$LOGS/audit.log\"" || echo null),
  "pki": "$pki"
}
EOF
  {
    printf 'export KUBECONFIG=%q\n' "$KC"
    printf 'export PATH=%q:"$PATH"\n' "$BIN"
    printf 'export CP_TIER=%q\n' "$TIER"
    if (($(tier_level "$TIER") >= 1)); then printf 'export KWOK_NODE=%q\n' "$NODE_NAME"; fi
  } >"$STATE/env"
}

start() {
  local level; level=$(tier_level "$TIER")
  if [[ -e $STATE/kube-apiserver.pid ]]; then
    alive kube-apiserver && die "already running in $STATE (hack/control-plane.sh stop first)"
    CP_KEEP_LOGS=0 stop   # leftovers of a run that died
  fi
  command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"
  command -v curl >/dev/null || die "curl not found (apt-get install curl)"
  command -v setsid >/dev/null || die "setsid not found (apt-get install util-linux)"
  local attach=${CP_ATTACH_KUBECONFIG:-}
  if [[ -n $attach ]]; then
    [[ $TIER == T2 ]] || die "CP_ATTACH_KUBECONFIG attaches to a whole cluster: tier T2, not $TIER"
    [[ -r $attach ]] || die "CP_ATTACH_KUBECONFIG=$attach is not a readable file"
  fi
  # Attached, only KWOK and kubectl are needed (set t1).
  BIN=$("$ROOT/hack/tools.sh" bindir "t$([[ -n $attach ]] && echo 1 || echo "$level")") ||
    die "the control-plane binaries are not available (see the tools.sh message above)"
  rm -rf "$STATE"; mkdir -p "$LOGS"
  trap 'fail_start "start-up interrupted" /dev/null' INT TERM
  if [[ -n ${CP_OWNER_PID:-} ]]; then start_reaper "$CP_OWNER_PID"; fi
  local t0=$SECONDS
  if [[ -n $attach ]]; then
    cp "$attach" "$KC"
    wait_ready attached-cluster "$START_TIMEOUT" "$BIN/kubectl" --kubeconfig "$KC" get --raw /readyz
  else
    certs
    start_etcd
    start_apiserver
    if ((level >= 2)); then start_controllers; fi
  fi
  if ((level >= 1)); then start_kwok; fi
  write_info
  trap - INT TERM
  say "$TIER up after $((SECONDS - t0)) s: source $STATE/env (kubeconfig $KC)"
}

# The ports a component was given (all of them are ours).
ports_of() { [[ -f $STATE/$1.ports ]] && cat "$STATE/$1.ports"; }

port_bound() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# signal_group NAME SIGNAL: signals the process group of a component we started and that runs.
signal_group() {
  local pid st
  alive "$1" || return 0
  read -r pid st <"$STATE/$1.pid"
  kill "-$2" -- "-$pid" 2>/dev/null || kill "-$2" "$pid" 2>/dev/null || true
}

# wait_gone SECONDS NAMES...: waits until none of the components runs; returns 1 on timeout.
wait_gone() {
  local end=$((SECONDS + $1)) n; shift
  for n in "$@"; do
    while alive "$n"; do ((SECONDS < end)) || return 1; sleep 0.1; done
  done
}

# stop_components NAMES...: stops them together: SIGTERM, then SIGKILL for whatever still runs
# after 15 s. Returns once their ports are free.
stop_components() {
  local n p i
  for n in "$@"; do signal_group "$n" TERM; done
  if ! wait_gone 15 "$@"; then
    for n in "$@"; do signal_group "$n" KILL; done
    wait_gone 5 "$@" || say "warning: some processes did not exit; see $STATE/*.pid"
  fi
  for n in "$@"; do
    for p in $(ports_of "$n"); do
      for ((i = 0; i < 50; i++)); do port_bound "$p" || break; sleep 0.1; done
      if port_bound "$p"; then say "warning: port $p of $n is still bound"; fi
    done
    rm -f "$STATE/$n.pid"
  done
}

stop() {
  trap - ERR INT TERM
  [[ -d $STATE ]] || return 0
  [[ ${CP_REAPING:-0} == 1 ]] || stop_components reaper
  # kube-apiserver shuts down in ~3 s with etcd up, but takes ~15 s once etcd is gone.
  stop_components kwok kube-scheduler kube-controller-manager kube-apiserver
  stop_components etcd
  if [[ -f $STATE/etcd-data-dir ]]; then
    local d; d=$(<"$STATE/etcd-data-dir")
    [[ $d == /dev/shm/oaat-etcd.* || $d == "$STATE/etcd" ]] && rm -rf "$d"
  fi
  if [[ ${CP_KEEP_LOGS:-0} == 1 ]]; then
    find "$STATE" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
    say "stopped; logs kept in $LOGS"
  else
    rm -rf "$STATE"
  fi
}

# restart_apiserver: kills kube-apiserver (SIGKILL: no graceful shutdown, as a crashed or evicted
# one) and starts it again on the same port with the same etcd, certificates and audit log.
restart_apiserver() {
  [[ -f $STATE/info.json ]] || die "no control plane in $STATE"
  BIN=$(sed -n 's/.*"binDir": *"\([^"]*\)".*/\1/p' "$STATE/info.json")
  CP_REQUEST_TIMEOUT=$(<"$STATE/request-timeout")
  CP_ADMISSION_PLUGINS=$(cat "$STATE/admission-plugins" 2>/dev/null || true)
  CP_AUDIT=$([[ $(sed -n 's/.*"auditLog": *\(.*\),/\1/p' "$STATE/info.json") == null ]] && echo 0 || echo 1)
  EP=$(cut -d' ' -f1 "$STATE/etcd.ports")
  local port; port=$(ports_of kube-apiserver)
  signal_group kube-apiserver KILL
  wait_gone 10 kube-apiserver || die "kube-apiserver did not exit after SIGKILL"
  local i; for ((i = 0; i < 100; i++)); do port_bound "$port" || break; sleep 0.1; done
  start_apiserver "$port"
  say "kube-apiserver restarted on port $port"
}

status() {
  if [[ ! -f $STATE/info.json ]]; then echo "down ($STATE)"; return 3; fi
  local c up=0
  for c in "${COMPONENTS[@]}"; do
    if [[ -f $STATE/$c.pid ]]; then
      if alive "$c"; then echo "$c: running (ports $(ports_of "$c"))"; up=1; else echo "$c: dead"; fi
    fi
  done
  cat "$STATE/info.json"
  ((up))
}

cmd=${1:-}; [[ $# -gt 0 ]] && shift
while [[ $# -gt 0 ]]; do
  case $1 in
    --tier) TIER=${2:-}; shift 2 ;;
    --tier=*) TIER=${1#--tier=}; shift ;;
    --) shift; break ;;
    *) [[ $cmd == run ]] || die "unknown argument '$1'"; break ;;
  esac
done
tier_level "$TIER" >/dev/null

case $cmd in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart-apiserver) restart_apiserver ;;
  run)
    [[ $# -gt 0 ]] || die "run needs a command: hack/control-plane.sh run -- CMD"
    CP_OWNER_PID=${CP_OWNER_PID:-$$}   # even a SIGKILL of this script stops the plane
    start
    trap 'stop' EXIT
    # shellcheck disable=SC1091
    (source "$STATE/env" && exec "$@") &
    child=$!
    trap 'kill -TERM "$child" 2>/dev/null || true; stop' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    rc=0; wait "$child" || rc=$?
    exit "$rc" ;;
  *) echo "usage: $0 start|stop|status|restart-apiserver [--tier T0|T1|T2] | run [--tier T] -- CMD" >&2; exit 2 ;;
esac
