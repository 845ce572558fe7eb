package io.layerswarm.k8s.scoring;

import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

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

    /**
     * A random pod for the equivalence tests: 1..3 images, each with about two thirds of {@code layers}
     * (in their order, or shuffled), from a random one of {@code registries}.
     */
    static PodLayers randomPod(Random r, List<LayerInfo> layers, List<String> registries, boolean shuffle) {
        List<ImageLayers> images = new ArrayList<>();
        int n = 1 + r.nextInt(3);
        for (int i = 0; i < n; i++) {
            List<LayerInfo> mine = new ArrayList<>();
            for (LayerInfo l : layers) {
                if (r.nextInt(3) > 0) {
                    mine.add(l);
                }
            }
            if (shuffle) {
                Collections.shuffle(mine, r);
            }
            images.add(new ImageLayers("img" + i, registries.get(r.nextInt(registries.size())), "sha256:m" + i, mine));
        }
        return PodLayers.of(images);
    }

    /** About four fifths of the view's nodes in random order, now and then with a node the view does not know. */
    static List<String> randomCandidates(Random r, MutableClusterView view) {
        List<String> out = new ArrayList<>();
        for (NodeStatus s : view.nodes()) {
            if (r.nextInt(5) > 0) {
                out.add(s.nodeName());
            }
        }
        if (r.nextInt(4) == 0) {
            out.add("not-in-view");
        }
        Collections.shuffle(out, r);
        return out;
    }
}
