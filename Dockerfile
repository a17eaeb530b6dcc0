# statefun-bootstrap, built from source on Debian bookworm: the image docker-compose.yml's `bootstrap`
# service runs (docker build -t statefun-bootstrap .). The runtime stage gets exactly the Debian
# packages that provide the libraries the binary links (found with ldd + dpkg -S in the build stage).
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config ca-certificates \
      librocksdb-dev libprotobuf-dev libprotoc-dev protobuf-compiler libboost-dev libgtest-dev \
      libyaml-cpp-dev nlohmann-json3-dev libsnappy-dev librdkafka-dev libpqxx-dev libpq-dev libavro-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build --target statefun-bootstrap \
 && for lib in $(ldd /build/statefun-bootstrap | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do \
      dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "/usr$lib"; \
    done | cut -d: -f1 | sort -u > /build/runtime-packages.txt \
 && cat /build/runtime-packages.txt

FROM debian:bookworm-slim
COPY --from=build /build/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive xargs -a /tmp/runtime-packages.txt apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt
COPY --from=build /build/statefun-bootstrap /usr/local/bin/statefun-bootstrap
ENTRYPOINT ["statefun-bootstrap"]
CMD ["help"]
