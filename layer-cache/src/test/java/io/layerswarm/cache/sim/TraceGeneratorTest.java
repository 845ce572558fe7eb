package io.layerswarm.cache.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.policy.ImageRequest;
import io.layerswarm.cache.policy.LayerRef;
import io.layerswarm.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TraceGeneratorTest {

    /** 16 base images over one shared Debian base layer, like the corpus. */
    static ImageCatalog base() {
        Map<String, ImageRequest> m = new LinkedHashMap<>();
        LayerRef debian = new LayerRef(d("debian"), 50_000_000L);
        for (int i = 0; i < 16; i++) {
            List<LayerRef> layers = new ArrayList<>(List.of(debian));
            layers.add(new LayerRef(d("pkg" + i), 20_000_000L + i * 5_000_000L));
            m.put("deb" + i + ":1", new ImageRequest("deb" + i + ":1", layers));
        }
        return new ImageCatalog(m);
    }

    private static String d(String s) {
        return Digest.sha256(s.getBytes(StandardCharsets.UTF_8)).toString();
    }

    @Test
    void sameSeedSameOutputOtherSeedOtherOutput() {
        var p = TraceGenerator.Params.defaults().with(1, 8, 5000);
        TraceGenerator.Generated a = TraceGenerator.generate(base(), p);
        TraceGenerator.Generated b = TraceGenerator.generate(base(), p);
        assertEquals(a.events(), b.events());
        assertEquals(a.images().names(), b.images().names());
        for (String n : a.images().names()) {
            assertEquals(a.images().get(n), b.images().get(n));
        }
        TraceGenerator.Generated c = TraceGenerator.generate(base(), p.with(2, 8, 5000));
        assertNotEquals(a.events(), c.events());
    }

    @Test
    void workloadHasTheStudiedShape() {
        TraceGenerator.Generated g = TraceGenerator.generate(base(), TraceGenerator.Params.defaults().with(42, 8, 20_000));
        assertEquals(20_000, g.events().size());
        assertTrue(g.topOnePercentShare() > 0.5, "heavy skew: top 1% of images get " + g.topOnePercentShare());
        // Recomputed independently from the events.
        int top = (int) Math.ceil(g.images().size() * 0.01);
        assertEquals(g.topOnePercentShare(), TraceGenerator.topShare(g.events(), top), 1e-12);
        Set<String> nodes = new HashSet<>();
        long last = Long.MIN_VALUE;
        for (TraceEvent e : g.events()) {
            nodes.add(e.node());
            assertTrue(e.ts() >= last, "time ordered");
            last = e.ts();
            assertTrue(g.images().get(e.image()) != null, e.image());
        }
        assertEquals(8, nodes.size());
        // Per-node locality: an image's pulls concentrate on few nodes.
        Map<String, Map<String, Integer>> perImage = new HashMap<>();
        for (TraceEvent e : g.events()) {
            perImage.computeIfAbsent(e.image(), k -> new HashMap<>()).merge(e.node(), 1, Integer::sum);
        }
        long onTopTwo = 0;
        for (Map<String, Integer> byNode : perImage.values()) {
            onTopTwo += byNode.values().stream().sorted((x, y) -> y - x).limit(2).mapToLong(Integer::longValue).sum();
        }
        assertTrue(onTopTwo > 0.75 * g.events().size(), "locality: " + onTopTwo);
        // Derived versions share the real base layers.
        String debian = d("debian");
        long withDebian = g.images().names().stream()
                .filter(n -> g.images().get(n).layers().stream().anyMatch(l -> l.key().equals(debian))).count();
        assertEquals(g.images().size(), withDebian);
        assertTrue(g.images().size() > 16 * 3);
    }
}
