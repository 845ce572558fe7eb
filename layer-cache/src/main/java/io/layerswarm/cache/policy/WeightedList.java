package io.layerswarm.cache.policy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** An LRU-ordered list of weighted keys (eldest first) that keeps its byte total. */
final class WeightedList {
    private final LinkedHashMap<String, Long> entries = new LinkedHashMap<>();
    private long bytes;

    boolean contains(String key) {
        return entries.containsKey(key);
    }

    long bytes() {
        return bytes;
    }

    int size() {
        return entries.size();
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    Long weight(String key) {
        return entries.get(key);
    }

    /** Adds or moves {@code key} to the most-recent end. */
    void addMostRecent(String key, long weight) {
        Long old = entries.remove(key);
        if (old != null) {
            bytes -= old;
        }
        entries.put(key, weight);
        bytes += weight;
    }

    /** Removes {@code key}; returns its weight or {@code null}. */
    Long remove(String key) {
        Long w = entries.remove(key);
        if (w != null) {
            bytes -= w;
        }
        return w;
    }

    /** The eldest key accepted by {@code ok}, or {@code null}. */
    String eldest(Predicate<String> ok) {
        for (String k : entries.keySet()) {
            if (ok.test(k)) {
                return k;
            }
        }
        return null;
    }

    /** Up to {@code max} eldest keys accepted by {@code ok}, eldest first. */
    List<String> eldest(Predicate<String> ok, int max) {
        List<String> out = new ArrayList<>(Math.min(max, entries.size()));
        for (Iterator<String> it = entries.keySet().iterator(); it.hasNext() && out.size() < max; ) {
            String k = it.next();
            if (ok.test(k)) {
                out.add(k);
            }
        }
        return out;
    }

    /** Removes and returns the eldest key, or {@code null} when empty. */
    String removeEldest() {
        Iterator<Map.Entry<String, Long>> it = entries.entrySet().iterator();
        if (!it.hasNext()) {
            return null;
        }
        Map.Entry<String, Long> e = it.next();
        it.remove();
        bytes -= e.getValue();
        return e.getKey();
    }

    /** Entries eldest first, as persisted state. */
    List<PolicyState.Entry> export() {
        List<PolicyState.Entry> out = new ArrayList<>(entries.size());
        entries.forEach((k, w) -> out.add(PolicyState.Entry.layer(k, w)));
        return out;
    }

    Iterable<String> keys() {
        return entries.keySet();
    }

    /** Sum of the weights, recomputed (for invariant checks). */
    long recount() {
        long s = 0;
        for (long w : entries.values()) {
            s += w;
        }
        return s;
    }

    void clear() {
        entries.clear();
        bytes = 0;
    }
}
