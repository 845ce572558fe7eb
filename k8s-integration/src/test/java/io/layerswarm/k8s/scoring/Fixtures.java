package io.layerswarm.k8s.scoring;

import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.NodeStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builders for views and pods in scoring tests. */
final class Fixtures {
    static final long MIB = 1024 * 1024;

    private Fixtures() {
    }

    static LayerInfo layer(String name, long mib) {
        return new LayerInfo("sha256:" + name, mib * MIB);
    }

    static ImageLayers image(String name, LayerInfo... layers) {
        return new ImageLayers(name, "registry.example", "sha256:m-" + name, List.of(layers));
    }

    static NodeStatus node(String name, long capacityMib, long freeMib, long evictableMib, LayerInfo... held) {
        return node(name, capacityMib, freeMib, evictableMib, Map.of("*", LinkEstimate.mbps(20, 50)), Map.of(), held);
    }

    static NodeStatus node(String name, long capacityMib, long freeMib, long evictableMib,
                           Map<String, LinkEstimate> registries, Map<String, LinkEstimate> peers, LayerInfo... held) {
        Map<String, Long> layers = new LinkedHashMap<>();
        for (LayerInfo l : held) {
            layers.put(l.digest(), l.size());
        }
        return new NodeStatus(name, layers, capacityMib * MIB, freeMib * MIB, evictableMib * MIB, registries, peers);
    }
}
