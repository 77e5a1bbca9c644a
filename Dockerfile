# The vigil image: vigild, vigilctl, the plugins and the shipped policies on
# Debian's slim base, installed from the .deb that `make package` builds (so
# the image has exactly what a host install has). Run it as the DaemonSet of
# deploy/k8s/ describes; the image alone does nothing useful without the
# node's namespaces and paths.
#
#   docker build -t vigil:0.1.0 .
#   kubectl apply -k deploy/k8s

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/deps.sh scripts/deps.sh
RUN sh scripts/deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN rm -rf build && cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_INSTALL_PREFIX=/usr >/dev/null \
    && cmake --build build -j "$(nproc)" \
    && cd build && cpack -G DEB && mv vigil_*.deb /vigil.deb

FROM debian:bookworm-slim
# The .deb names its libraries; apt resolves them (libcurl4 and librdkafka1
# included, which vigild loads only when a webhook or output needs them).
COPY --from=build /vigil.deb /tmp/vigil.deb
RUN apt-get update \
    && apt-get install -y --no-install-recommends /tmp/vigil.deb ca-certificates \
    && rm -rf /var/lib/apt/lists/* /tmp/vigil.deb \
    && vigild --check --config /etc/vigil/vigil.lua
# /etc/vigil/conf.d and /etc/vigil/policies.d come from ConfigMaps; the
# store and the socket from the node (hostPath).
VOLUME ["/var/lib/vigil", "/run/vigil"]
ENTRYPOINT ["/usr/sbin/vigild"]
CMD ["--config", "/etc/vigil/vigil.lua"]
