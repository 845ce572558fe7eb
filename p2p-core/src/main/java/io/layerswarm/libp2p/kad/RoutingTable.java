package io.layerswarm.libp2p.kad;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Kademlia routing table: one bucket of at most {@code k} peers per common-prefix length with the
 * local id, least recently seen first, plus a small replacement cache per bucket. It only holds
 * state; deciding whether to ping a bucket's oldest peer is the DHT's policy.
 */
final class RoutingTable {

    /** Outcome of {@link #offer}. */
    sealed interface Offer {
        /** Newly added. */
        record Added() implements Offer { }
        /** Already present; moved to most recently seen and addresses updated. */
        record Updated() implements Offer { }
        /** The local peer itself; ignored. */
        record Self() implements Offer { }
        /**
         * Bucket full: the new peer went to the replacement cache and {@code oldest} should be
         * checked; if it is dead, {@link #remove} promotes the newest replacement.
         */
        record Full(KadPeer oldest) implements Offer { }
    }

    private static final class Entry {
        KadPeer peer;
        final KadId id;

        Entry(KadPeer peer, KadId id) {
            this.peer = peer;
            this.id = id;
        }
    }

    private final KadId local;
    private final int k;
    @SuppressWarnings("unchecked")
    private final LinkedHashMap<KadId, Entry>[] buckets = new LinkedHashMap[KadId.BITS];
    @SuppressWarnings("unchecked")
    private final LinkedHashMap<KadId, Entry>[] replacements = new LinkedHashMap[KadId.BITS];
    private final Instant[] lastRefreshed = new Instant[KadId.BITS];

    RoutingTable(KadId local, int k, Instant now) {
        this.local = local;
        this.k = k;
        for (int i = 0; i < KadId.BITS; i++) {
            buckets[i] = new LinkedHashMap<>();
            replacements[i] = new LinkedHashMap<>();
            lastRefreshed[i] = now;
        }
    }

    KadId local() {
        return local;
    }

    /** Offers a peer known to speak kad in server mode. */
    synchronized Offer offer(KadPeer peer) {
        KadId id = peer.kadId();
        int cpl = local.commonPrefixLength(id);
        if (cpl == KadId.BITS) {
            return new Offer.Self();
        }
        LinkedHashMap<KadId, Entry> bucket = buckets[cpl];
        Entry e = bucket.remove(id);
        if (e != null) {
            if (!peer.addrs().isEmpty()) {
                e.peer = peer;
            }
            bucket.put(id, e);
            return new Offer.Updated();
        }
        if (bucket.size() < k) {
            bucket.put(id, new Entry(peer, id));
            replacements[cpl].remove(id);
            return new Offer.Added();
        }
        LinkedHashMap<KadId, Entry> repl = replacements[cpl];
        repl.remove(id);
        repl.put(id, new Entry(peer, id));
        if (repl.size() > k) {
            Iterator<KadId> it = repl.keySet().iterator();
            it.next();
            it.remove();
        }
        return new Offer.Full(bucket.values().iterator().next().peer);
    }

    /** Marks a present peer as just seen (it answered a liveness check). */
    synchronized void touch(KadPeer peer) {
        KadId id = peer.kadId();
        LinkedHashMap<KadId, Entry> bucket = buckets[local.commonPrefixLength(id)];
        Entry e = bucket.remove(id);
        if (e != null) {
            bucket.put(id, e);
        }
    }

    /**
     * Removes an unresponsive peer and promotes the most recently offered replacement, if any.
     *
     * @return the promoted peer, if one was promoted
     */
    synchronized Optional<KadPeer> remove(byte[] peerId) {
        KadId id = KadId.of(peerId);
        int cpl = local.commonPrefixLength(id);
        if (cpl == KadId.BITS || buckets[cpl].remove(id) == null) {
            replacementsFor(cpl).ifPresent(r -> r.remove(id));
            return Optional.empty();
        }
        LinkedHashMap<KadId, Entry> repl = replacements[cpl];
        Entry newest = null;
        for (Entry e : repl.values()) {
            newest = e;
        }
        if (newest == null) {
            return Optional.empty();
        }
        repl.remove(newest.id);
        buckets[cpl].put(newest.id, newest);
        return Optional.of(newest.peer);
    }

    private Optional<Map<KadId, Entry>> replacementsFor(int cpl) {
        return cpl < KadId.BITS ? Optional.of(replacements[cpl]) : Optional.empty();
    }

    /** Whether the peer is in a bucket (not just a replacement). */
    synchronized boolean contains(byte[] peerId) {
        KadId id = KadId.of(peerId);
        int cpl = local.commonPrefixLength(id);
        return cpl < KadId.BITS && buckets[cpl].containsKey(id);
    }

    /** The address-carrying entry for a peer, if present. */
    synchronized Optional<KadPeer> get(byte[] peerId) {
        KadId id = KadId.of(peerId);
        int cpl = local.commonPrefixLength(id);
        if (cpl == KadId.BITS) {
            return Optional.empty();
        }
        Entry e = buckets[cpl].get(id);
        return e == null ? Optional.empty() : Optional.of(e.peer);
    }

    /** Up to {@code count} peers closest to {@code target}, closest first. */
    synchronized List<KadPeer> closest(KadId target, int count) {
        List<Entry> all = new ArrayList<>();
        for (LinkedHashMap<KadId, Entry> b : buckets) {
            all.addAll(b.values());
        }
        all.sort(Comparator.comparing((Entry e) -> e.id, target::compareDistance));
        List<KadPeer> out = new ArrayList<>(Math.min(count, all.size()));
        for (int i = 0; i < all.size() && i < count; i++) {
            out.add(all.get(i).peer);
        }
        return out;
    }

    /** Number of peers in buckets. */
    synchronized int size() {
        int n = 0;
        for (LinkedHashMap<KadId, Entry> b : buckets) {
            n += b.size();
        }
        return n;
    }

    /** Peers in the bucket at a prefix length, least recently seen first. */
    synchronized List<KadPeer> bucket(int cpl) {
        List<KadPeer> out = new ArrayList<>();
        for (Entry e : buckets[cpl].values()) {
            out.add(e.peer);
        }
        return out;
    }

    /**
     * Prefix lengths whose buckets were not refreshed since {@code cutoff}, up to one past the
     * deepest non-empty bucket and at most {@code maxCpl} (deeper buckets are nearly always empty
     * and costly to target).
     */
    synchronized List<Integer> staleBuckets(Instant cutoff, int maxCpl) {
        int deepest = -1;
        for (int i = 0; i < KadId.BITS; i++) {
            if (!buckets[i].isEmpty()) {
                deepest = i;
            }
        }
        List<Integer> out = new ArrayList<>();
        for (int cpl = 0; cpl <= Math.min(deepest + 1, maxCpl); cpl++) {
            if (lastRefreshed[cpl].isBefore(cutoff)) {
                out.add(cpl);
            }
        }
        return out;
    }

    /** Records that a lookup into the bucket at {@code cpl} was done. */
    synchronized void markRefreshed(int cpl, Instant when) {
        if (cpl >= 0 && cpl < KadId.BITS) {
            lastRefreshed[cpl] = when;
        }
    }
}
