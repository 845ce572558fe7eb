package io.layerswarm.cache.policy;

import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Adaptive Replacement Cache (Megiddo and Modha, FAST'03) for objects of different sizes. Every
 * quantity is in bytes: T1 (seen once recently) and T2 (seen at least twice) hold resident layers;
 * the ghost lists B1 and B2 remember keys recently evicted from T1 and T2; the target {@code p}
 * for the bytes of T1 moves up on a B1 ghost hit and down on a B2 ghost hit by the ghost's size
 * times the ratio of the ghost lists' sizes (at least one).
 *
 * <p>Invariants (checked by {@link #checkInvariants()}): {@code 0 <= p <= c};
 * {@code |T1|+|T2| <= c} unless pinned layers block eviction; {@code |T1|+|B1| <= c} and
 * {@code |T1|+|T2|+|B1|+|B2| <= 2c} when T1 and T2 fit; the four lists are disjoint.
 *
 * <p>Cluster-aware mode ({@link #clusterAware}): when a victim is due from one list, the policy
 * looks at the {@code window} least recent evictable layers of that list and evicts the one most
 * replicated elsewhere in the cluster; if none of them has a replica it looks at the same window of
 * the other list; only when no replicated candidate exists does it evict the cluster's last copy,
 * in plain ARC order.
 */
public final class ArcPolicy extends AbstractCachePolicy {
    private final WeightedList t1 = new WeightedList();
    private final WeightedList t2 = new WeightedList();
    private final WeightedList b1 = new WeightedList();
    private final WeightedList b2 = new WeightedList();
    private final ReplicaView replicas;
    private final int window;
    private double p;

    private ArcPolicy(long capacity, ReplicaView replicas, int window) {
        super(capacity);
        this.replicas = replicas;
        this.window = window;
    }

    /** Plain ARC with {@code capacity} bytes. */
    public static ArcPolicy plain(long capacity) {
        return new ArcPolicy(capacity, null, 0);
    }

    /**
     * Cluster-aware ARC.
     *
     * @param capacity bytes
     * @param replicas replica counts from the swarm
     * @param window how many least recent candidates of a list are compared (at least 1)
     */
    public static ArcPolicy clusterAware(long capacity, ReplicaView replicas, int window) {
        if (window < 1) {
            throw new IllegalArgumentException("cluster window must be >= 1, got " + window);
        }
        return new ArcPolicy(capacity, java.util.Objects.requireNonNull(replicas, "replicas"), window);
    }

    @Override
    public String name() {
        return replicas == null ? "arc" : "cluster-arc";
    }

    /** The adaptation target for T1, in bytes. */
    public double target() {
        return p;
    }

    /** Bytes in T1, T2, B1, B2 (for tests and diagnostics). */
    public long[] listBytes() {
        return new long[] {t1.bytes(), t2.bytes(), b1.bytes(), b2.bytes()};
    }

    @Override
    public long weightedSize() {
        return t1.bytes() + t2.bytes();
    }

    @Override
    public boolean contains(String key) {
        return t1.contains(key) || t2.contains(key);
    }

    /** Whether {@code key} is remembered in a ghost list. */
    public boolean isGhost(String key) {
        return b1.contains(key) || b2.contains(key);
    }

    @Override
    public Set<String> residentKeys() {
        Set<String> out = new LinkedHashSet<>();
        t1.keys().forEach(out::add);
        t2.keys().forEach(out::add);
        return out;
    }

    @Override
    protected void onRequest(ImageRequest request) {
        for (LayerRef l : request.layers()) {
            access(l.key(), l.size());
        }
    }

    private void access(String key, long size) {
        Long w = t1.remove(key);
        if (w != null) {
            t2.addMostRecent(key, w);
            return;
        }
        w = t2.weight(key);
        if (w != null) {
            t2.addMostRecent(key, w);
            return;
        }
        double c = capacity;
        if (b1.contains(key)) {
            double ratio = b1.bytes() == 0 ? 1 : Math.max(1.0, (double) b2.bytes() / b1.bytes());
            p = Math.min(c, p + ratio * size);
            b1.remove(key);
            t2.addMostRecent(key, size);
            replace(false);
        } else if (b2.contains(key)) {
            double ratio = b2.bytes() == 0 ? 1 : Math.max(1.0, (double) b1.bytes() / b2.bytes());
            p = Math.max(0, p - ratio * size);
            b2.remove(key);
            t2.addMostRecent(key, size);
            replace(true);
        } else {
            t1.addMostRecent(key, size);
            replace(false);
        }
        trimGhosts();
    }

    @Override
    protected void fit() {
        replace(false);
        trimGhosts();
    }

    /** ARC's REPLACE, repeated until T1 and T2 fit or nothing is evictable. */
    private void replace(boolean ghostHitInB2) {
        while (t1.bytes() + t2.bytes() > capacity) {
            boolean t1Evictable = t1.eldest(k -> !isPinned(k)) != null;
            boolean t2Evictable = t2.eldest(k -> !isPinned(k)) != null;
            if (!t1Evictable && !t2Evictable) {
                return; // deferred until an unpin
            }
            boolean fromT1 = t1Evictable
                    && (!t2Evictable || t1.bytes() > p || (ghostHitInB2 && t1.bytes() >= p));
            String victim = chooseVictim(fromT1 ? t1 : t2, fromT1 ? t2 : t1);
            if (t1.contains(victim)) {
                b1.addMostRecent(victim, t1.remove(victim));
            } else {
                b2.addMostRecent(victim, t2.remove(victim));
            }
            evicted(victim);
        }
    }

    private String chooseVictim(WeightedList primary, WeightedList other) {
        String lru = primary.eldest(k -> !isPinned(k));
        if (replicas == null) {
            return lru;
        }
        String best = mostReplicated(primary);
        if (best == null) {
            best = mostReplicated(other);
        }
        return best != null ? best : lru;
    }

    private String mostReplicated(WeightedList list) {
        String best = null;
        int bestCount = 0;
        for (String k : list.eldest(k -> !isPinned(k), window)) {
            int n = replicas.replicasElsewhere(k);
            if (n > bestCount) {
                best = k;
                bestCount = n;
            }
        }
        return best;
    }

    /** Keeps the ghost lists within their byte bounds: |T1|+|B1| <= c and the directory <= 2c. */
    private void trimGhosts() {
        while (!b1.isEmpty() && t1.bytes() + b1.bytes() > capacity) {
            b1.removeEldest();
        }
        while (t1.bytes() + t2.bytes() + b1.bytes() + b2.bytes() > 2 * capacity
                && !(b1.isEmpty() && b2.isEmpty())) {
            if (!b2.isEmpty()) {
                b2.removeEldest();
            } else {
                b1.removeEldest();
            }
        }
    }

    @Override
    protected void onCapacityChanged() {
        p = Math.min(p, capacity);
    }

    @Override
    public void remove(String key) {
        // Only residency is forgotten: the ghost lists are history, and the mechanism's own
        // deletions of evicted blobs arrive here too.
        t1.remove(key);
        t2.remove(key);
    }

    /**
     * Checks ARC's invariants and throws {@link IllegalStateException} naming the first broken one.
     * Pinned layers may hold T1 and T2 above the capacity; the bounds are then checked on the
     * unpinned part.
     */
    public void checkInvariants() {
        long c = capacity;
        require(p >= 0 && p <= c, "0 <= p <= c violated: p=" + p + " c=" + c);
        for (WeightedList l : List.of(t1, t2, b1, b2)) {
            require(l.bytes() == l.recount(), "byte counter out of sync");
        }
        Set<String> seen = new HashSet<>();
        for (WeightedList l : List.of(t1, t2, b1, b2)) {
            for (String k : l.keys()) {
                require(seen.add(k), "lists not disjoint at " + k);
            }
        }
        long resident = t1.bytes() + t2.bytes();
        long pinned = 0;
        for (WeightedList l : List.of(t1, t2)) {
            for (String k : l.keys()) {
                if (isPinned(k)) {
                    pinned += l.weight(k);
                }
            }
        }
        if (pinned == 0) {
            require(resident <= c, "|T1|+|T2| <= c violated: " + resident + " > " + c);
            require(t1.bytes() + b1.bytes() <= c, "|T1|+|B1| <= c violated");
            require(resident + b1.bytes() + b2.bytes() <= 2 * c, "directory <= 2c violated");
        } else {
            require(resident - pinned <= c, "unpinned resident bytes exceed c");
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalStateException("ARC invariant: " + message);
        }
    }

    @Override
    public PolicyState exportState() {
        return new PolicyState(name(), capacity, Map.of("p", p),
                Map.of("t1", t1.export(), "t2", t2.export(), "b1", b1.export(), "b2", b2.export()));
    }

    @Override
    protected void onRestore(PolicyState state, Map<String, Long> onDisk) {
        for (WeightedList l : List.of(t1, t2, b1, b2)) {
            l.clear();
        }
        p = 0;
        if (state != null) {
            Double saved = state.scalars().get("p");
            p = saved == null || saved.isNaN() ? 0 : Math.max(0, Math.min(capacity, saved));
            restoreResident(state.segment("t1"), t1, onDisk);
            restoreResident(state.segment("t2"), t2, onDisk);
            restoreGhosts(state.segment("b1"), b1, onDisk);
            restoreGhosts(state.segment("b2"), b2, onDisk);
        }
        // Blobs the journal never saw (committed after the last checkpoint) are the newest.
        onDisk.forEach((k, size) -> {
            if (!contains(k)) {
                t1.addMostRecent(k, size);
            }
        });
    }

    private void restoreResident(List<PolicyState.Entry> entries, WeightedList into, Map<String, Long> onDisk) {
        for (PolicyState.Entry e : entries) {
            Long size = onDisk.get(e.key());
            if (size != null && !contains(e.key())) {
                into.addMostRecent(e.key(), size);
            }
        }
    }

    private void restoreGhosts(List<PolicyState.Entry> entries, WeightedList into, Map<String, Long> onDisk) {
        for (PolicyState.Entry e : entries) {
            if (!onDisk.containsKey(e.key()) && !isGhost(e.key()) && e.size() >= 0) {
                into.addMostRecent(e.key(), e.size());
            }
        }
    }
}
