#!/bin/sh
# Waits until the Temporal frontend answers health checks, then registers the worker's namespace if it
# does not exist yet. Reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_NAMESPACE_RETENTION.
set -eu

namespace=${TEMPORAL_NAMESPACE:?TEMPORAL_NAMESPACE is required}
retention=${TEMPORAL_NAMESPACE_RETENTION:-168h}
host=${TEMPORAL_ADDRESS%:*}
port=${TEMPORAL_ADDRESS##*:}

# Connect by IPv4 address, as temporalio/samples-server compose/scripts/create-namespace.sh does.
ip=$(getent ahosts "$host" | awk '/STREAM/ { print $1; exit }')
address=${ip:-$host}:$port

attempt=1
until temporal operator cluster health --address "$address"; do
  if [ "$attempt" -ge 30 ]; then
    echo "Temporal at $address is not healthy after $attempt attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1; then
  echo "Namespace $namespace already exists"
else
  temporal operator namespace create --address "$address" --namespace "$namespace" --retention "$retention"
  echo "Created namespace $namespace (retention $retention)"
fi
