package io.layerswarm.daemon.k8s;

import io.layerswarm.registry.RegistryClient;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Registry clients keyed by the host[:port] image references name them with. */
final class RegistryClients {
    private RegistryClients() {
    }

    /** One client per upstream URL, found by its authority. */
    static Function<String, RegistryClient> byHost(List<String> upstreams) {
        Map<String, RegistryClient> clients = new HashMap<>();
        for (String u : upstreams) {
            URI uri = URI.create(u);
            if (uri.getScheme() == null || uri.getAuthority() == null) {
                throw new IllegalArgumentException("upstream must be an http(s) URL, got " + u);
            }
            clients.put(uri.getAuthority(), RegistryClient.builder(uri).build());
            if ("registry-1.docker.io".equals(uri.getHost())) {
                clients.put("docker.io", clients.get(uri.getAuthority()));
            }
        }
        return clients::get;
    }
}
