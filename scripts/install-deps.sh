#!/usr/bin/env bash
# Installs what statefun-bootstrap needs to build and test, from Debian's packages (and pytest from
# PyPI when no python3 pytest is present). Installs only what is missing; safe to run repeatedly.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config
  librocksdb-dev libprotobuf-dev libprotoc-dev protobuf-compiler libboost-dev libgtest-dev
  libyaml-cpp-dev nlohmann-json3-dev
  python3
)
# Base savepoints taken with snapshot compression on hold snappy-framed key groups (savepoint/snappy_framed.h).
PACKAGES+=(libsnappy-dev)
# The real-Flink harness (tests/flink-harness) is a Maven project run on a JDK.
if [[ "${SFB_SKIP_JAVA:-0}" != 1 ]]; then
  command -v java >/dev/null 2>&1 || PACKAGES+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || PACKAGES+=(maven)
fi

# Packaging, not building: cpack computes the .deb's dependencies with dpkg-shlibdeps (tests/integration/
# test_containers.py builds the packages).
PACKAGES+=(dpkg-dev)

# The Kafka connector links librdkafka; its tests run a real Kafka broker from Maven Central jars on the
# JDK above (tests/kafka/broker.sh); kcat is the benchmark's second baseline (bench/kafka).
PACKAGES+=(librdkafka-dev kcat)
# Avro keys and values: Avro C decodes them, libcurl fetches their schemas from a schema registry.
PACKAGES+=(libavro-dev libcurl4-openssl-dev)

# The PostgreSQL connector links libpqxx (which brings libpq); its tests start a throwaway PostgreSQL 15
# server (tests/postgres/cluster.sh).
PACKAGES+=(libpqxx-dev)
if [[ "${SFB_SKIP_POSTGRES_SERVER:-0}" != 1 ]]; then PACKAGES+=(postgresql-15); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

if (( ${#missing[@]} > 0 )); then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! python3 -c 'import pytest' >/dev/null 2>&1; then
  echo "install-deps: installing pytest"
  python3 -m pip install -q pytest 2>/dev/null || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pytest >/dev/null
fi

# The schema registry tests (tests/integration/test_kafka_registry.py) produce with confluent-kafka's
# Producer and its AvroSerializer, JSONSerializer and ProtobufSerializer (the [avro,json,protobuf] extras:
# fastavro, jsonschema, protobuf).
SERIALIZERS='import fastavro, confluent_kafka.schema_registry.avro, confluent_kafka.schema_registry.json_schema'
SERIALIZERS+=', confluent_kafka.schema_registry.protobuf'
if [[ "${SFB_SKIP_JAVA:-0}" != 1 ]] && ! python3 -c "$SERIALIZERS" >/dev/null 2>&1; then
  echo "install-deps: installing confluent-kafka[avro,json,protobuf]"
  python3 -m pip install -q 'confluent-kafka[avro,json,protobuf]' 2>/dev/null ||
    python3 -m pip install -q --break-system-packages 'confluent-kafka[avro,json,protobuf]'
fi
