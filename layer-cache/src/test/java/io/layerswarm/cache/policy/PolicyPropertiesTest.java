package io.layerswarm.cache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random request/pin/unpin/capacity sequences against every policy: what a policy reports as
 * evicted is exactly what left its resident set, pinned layers never leave, the capacity holds
 * whenever nothing is pinned, and ARC's invariants hold after every step.
 */
class PolicyPropertiesTest {

    static List<String> policies() {
        return Policies.NAMES;
    }

    @ParameterizedTest
    @MethodSource("policies")
    void randomSequencesKeepTheContract(String name) {
        for (long seed = 1; seed <= 5; seed++) {
            run(name, seed);
        }
    }

    private static void run(String name, long seed) {
        Random rnd = new Random(seed);
        Map<String, Long> sizes = new HashMap<>();
        for (int i = 0; i < 60; i++) {
            sizes.put("k" + i, 1024L * (1 + rnd.nextInt(40)));
        }
        Map<String, Integer> replicas = new HashMap<>();
        CachePolicy p = Policies.create(name, 200 * 1024, k -> replicas.getOrDefault(k, 0));
        Map<String, Integer> pins = new HashMap<>();
        for (int step = 0; step < 3000; step++) {
            Set<String> before = new HashSet<>(p.residentKeys());
            int op = rnd.nextInt(100);
            List<String> out;
            Set<String> requested = new HashSet<>();
            if (op < 80) {
                List<LayerRef> layers = new ArrayList<>();
                int n = 1 + rnd.nextInt(4);
                int base = rnd.nextInt(15); // images share low keys, like base layers
                layers.add(new LayerRef("k" + base, sizes.get("k" + base)));
                for (int i = 1; i < n; i++) {
                    String k = "k" + (int) Math.min(59, Math.abs(rnd.nextGaussian() * 20));
                    layers.add(new LayerRef(k, sizes.get(k)));
                }
                ImageRequest req = new ImageRequest("img" + rnd.nextInt(40), layers);
                req.layers().forEach(l -> requested.add(l.key()));
                out = p.request(req);
            } else if (op < 88) {
                String k = "k" + rnd.nextInt(60);
                p.pin(k);
                pins.merge(k, 1, Integer::sum);
                out = List.of();
            } else if (op < 96 && !pins.isEmpty()) {
                String k = pins.keySet().iterator().next();
                if (pins.merge(k, -1, Integer::sum) == 0) {
                    pins.remove(k);
                }
                out = p.unpin(k);
            } else {
                out = p.setCapacity(1024L * rnd.nextInt(400));
            }
            replicas.put("k" + rnd.nextInt(60), rnd.nextInt(4));
            Set<String> after = p.residentKeys();
            String ctx = name + " seed=" + seed + " step=" + step;
            for (String k : out) {
                assertFalse(after.contains(k), ctx + ": evicted " + k + " still resident");
                assertFalse(pins.containsKey(k), ctx + ": evicted pinned " + k);
                assertTrue(before.contains(k) || requested.contains(k), ctx + ": evicted unknown " + k);
            }
            Set<String> expected = new HashSet<>(before);
            expected.addAll(requested);
            out.forEach(expected::remove);
            assertEquals(expected, after, ctx + ": residency differs from before + requested - evicted");
            long bytes = after.stream().mapToLong(sizes::get).sum();
            assertEquals(bytes, p.weightedSize(), ctx + ": weighted size");
            boolean anyPinned = after.stream().anyMatch(pins::containsKey);
            if (!anyPinned) {
                assertTrue(p.weightedSize() <= p.capacity(), ctx + ": over capacity with nothing pinned");
            }
            if (p instanceof ArcPolicy arc) {
                arc.checkInvariants();
            }
        }
    }
}
