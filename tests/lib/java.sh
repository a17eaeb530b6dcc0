# Sourced by the test launchers that start a JVM (flink-harness/harness.sh, restore/restore.sh,
# kafka/broker.sh). Sets:
#   JAVA             the java to run: $JAVA_HOME's, else Debian's OpenJDK 17, else the one on PATH
#   FLINK_JVM_FLAGS  what Flink 1.16 needs on Java 17 (the JDK internals Kryo, Flink and RocksDB reflect
#                    on), a small serial GC and a deeper thread stack; launchers add heap and JIT flags
# and FLINK_COMMON_SOURCES, the Java sources both Flink harnesses compile in (see flink-common/README.md),
# for their "is the build older than its sources" checks.

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
elif [[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]]; then
  JAVA=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
else
  JAVA=java
fi

FLINK_JVM_FLAGS=(
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.math=ALL-UNNAMED
  --add-opens=java.sql/java.sql=ALL-UNNAMED
  --add-exports=java.base/sun.net.util=ALL-UNNAMED
  --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  -XX:+UseSerialGC
  -Xss2m
)

FLINK_COMMON_SOURCES="$(cd "$(dirname "${BASH_SOURCE[0]}")/../flink-common" && pwd)/src"
