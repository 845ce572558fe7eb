package io.layerswarm.daemon.bench;

import io.layerswarm.cache.sim.TraceEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scales a {@code trace-gen} trace to the testbed: its first {@code count} requests, request times
 * stretched or squeezed linearly onto {@code spanMillis}, the trace's images mapped onto the testbed's
 * real images by popularity rank (the most requested trace image becomes the first testbed image, and
 * so on, wrapping around; the popularity skew survives, the synthetic layer sets do not), and node
 * {@code node-K} mapped to {@code cluster-(K mod clusters)}. The result is again a trace
 * ({@link io.layerswarm.cache.sim.TraceFile} format) whose node field names the cluster.
 */
final class TestbedTrace {
    private TestbedTrace() {
    }

    /** The cluster index of a scaled event's node field {@code cluster-N}. */
    static int cluster(TraceEvent e) {
        String n = e.node();
        if (!n.startsWith("cluster-")) {
            throw new IllegalArgumentException("not a testbed trace event (node '" + n + "', expected cluster-N)");
        }
        try {
            return Integer.parseInt(n.substring("cluster-".length()));
        } catch (NumberFormatException ex) {
            throw new IllegalArgumentException("not a testbed trace event (node '" + n + "', expected cluster-N)");
        }
    }

    static List<TraceEvent> scale(List<TraceEvent> raw, int count, long spanMillis, List<String> images, int clusters) {
        if (count < 1 || spanMillis < 0 || images.isEmpty() || clusters < 1) {
            throw new IllegalArgumentException("need count >= 1, span >= 0, images, clusters >= 1");
        }
        if (raw.size() < count) {
            throw new IllegalArgumentException("trace has " + raw.size() + " requests, " + count + " wanted");
        }
        List<TraceEvent> head = raw.subList(0, count);
        Map<String, Integer> uses = new LinkedHashMap<>();
        head.forEach(e -> uses.merge(e.image(), 1, Integer::sum));
        List<String> byRank = new ArrayList<>(uses.keySet());
        byRank.sort(Comparator.comparing((String i) -> -uses.get(i))); // stable: first requested wins a tie
        Map<String, String> image = new HashMap<>();
        for (int r = 0; r < byRank.size(); r++) {
            image.put(byRank.get(r), images.get(r % images.size()));
        }
        long t0 = head.get(0).ts();
        long width = Math.max(1, head.get(count - 1).ts() - t0);
        List<TraceEvent> out = new ArrayList<>(count);
        for (TraceEvent e : head) {
            long ts = count == 1 ? 0 : Math.round((double) (e.ts() - t0) * spanMillis / width);
            out.add(new TraceEvent(ts, "cluster-" + Math.floorMod(nodeIndex(e.node()), clusters), image.get(e.image())));
        }
        return out;
    }

    /** K of {@code node-K}; other names hash. */
    private static int nodeIndex(String node) {
        int i = node.length();
        while (i > 0 && Character.isDigit(node.charAt(i - 1))) {
            i--;
        }
        if (i < node.length() && node.length() - i < 9) {
            return Integer.parseInt(node.substring(i));
        }
        return node.hashCode();
    }
}
