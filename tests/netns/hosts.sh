#!/bin/bash
# hosts.sh setup|teardown: two simulated hosts on one machine, hostA (10.10.0.1)
# and hostB (10.10.0.2), each a network namespace, joined by a veth pair.
#
# The names come from SINAPSIS_NETNS_TAG (letters and digits, at most 10), so
# runs of this test never collide with each other or with other namespaces:
# namespaces ${TAG}A and ${TAG}B, veth ends ${TAG}a (in A) and ${TAG}b (in B).
# nsexec runs a command "on" a host; nsrsh is Open MPI's remote-shell agent.
#
# setup exits 77 (ctest's skip) when this machine cannot make namespaces at
# all (not root, no `ip netns`), and 1 when it fails after that.
# teardown kills every process left in either namespace, then deletes them
# (which deletes the veth pair); it is safe to call twice or after a partial setup.
set -u
tag=${SINAPSIS_NETNS_TAG:?hosts.sh: set SINAPSIS_NETNS_TAG}
[[ "$tag" =~ ^[A-Za-z0-9]{1,10}$ ]] || { echo "hosts.sh: bad SINAPSIS_NETNS_TAG '$tag'" >&2; exit 1; }
ns_a=${tag}A ns_b=${tag}B veth_a=${tag}a veth_b=${tag}b

setup() {
  if [[ $(id -u) -ne 0 ]]; then echo "network namespaces need root (uid $(id -u))"; exit 77; fi
  if ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
    echo "no 'ip netns' on this machine (iproute2)"; exit 77
  fi
  if ! command -v unshare >/dev/null; then echo "no 'unshare' on this machine (util-linux)"; exit 77; fi
  local why
  if ! why=$(ip netns add "$ns_a" 2>&1); then
    echo "this machine cannot create a network namespace: $why"; exit 77
  fi
  set -e
  ip netns add "$ns_b"
  ip link add "$veth_a" type veth peer name "$veth_b"
  ip link set "$veth_a" netns "$ns_a"
  ip link set "$veth_b" netns "$ns_b"
  ip -n "$ns_a" addr add 10.10.0.1/24 dev "$veth_a"
  ip -n "$ns_b" addr add 10.10.0.2/24 dev "$veth_b"
  for ns in "$ns_a" "$ns_b"; do ip -n "$ns" link set lo up; done
  ip -n "$ns_a" link set "$veth_a" up
  ip -n "$ns_b" link set "$veth_b" up
}

# Every process in a namespace, killed; waits up to 5 s for them to go.
kill_host() {
  local ns=$1 pids
  for _ in $(seq 50); do
    pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
    [[ -z "$pids" ]] && return 0
    # shellcheck disable=SC2086  # one argument per pid
    kill -9 $pids 2>/dev/null
    sleep 0.1
  done
  echo "hosts.sh: processes still in $ns: $pids" >&2
}

teardown() {
  kill_host "$ns_a"; kill_host "$ns_b"
  ip netns del "$ns_a" 2>/dev/null
  ip netns del "$ns_b" 2>/dev/null
  # A veth made but never moved (setup stopped half way) is still here.
  ip link del "$veth_a" 2>/dev/null
  true
}

case "${1:-}" in
  setup) setup ;;
  teardown) teardown ;;
  kill) kill_host "${tag}${2:?hosts.sh kill A|B}" ;;
  *) echo "usage: SINAPSIS_NETNS_TAG=TAG hosts.sh setup|teardown|kill A|B" >&2; exit 2 ;;
esac
