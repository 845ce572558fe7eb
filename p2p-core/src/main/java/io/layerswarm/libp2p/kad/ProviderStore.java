package io.layerswarm.libp2p.kad;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Provider records received via ADD_PROVIDER (and our own), each valid for a configurable time
 * (48h per the spec). Bounded in keys and providers per key so that a flood of announcements
 * cannot exhaust memory; the oldest entry makes room. Bounded in records per provider too, so that
 * one peer flooding ADD_PROVIDER cannot push every other provider's records out: a provider at its
 * limit gets no new keys (renewals still count).
 */
final class ProviderStore {

    private record Entry(KadPeer provider, Instant expires) { }

    /** Addresses kept per provider record; a record only needs a few to be dialable. */
    static final int MAX_ADDRS = 8;

    private final Clock clock;
    private final Duration validity;
    private final int maxKeys;
    private final int maxPerKey;
    private final int maxPerProvider;
    private final LinkedHashMap<ByteBuffer, LinkedHashMap<ByteBuffer, Entry>> byKey = new LinkedHashMap<>();
    /** Records held per provider id. */
    private final Map<ByteBuffer, Integer> perProvider = new HashMap<>();

    ProviderStore(Clock clock, Duration validity, int maxKeys, int maxPerKey) {
        this(clock, validity, maxKeys, maxPerKey, Integer.MAX_VALUE);
    }

    ProviderStore(Clock clock, Duration validity, int maxKeys, int maxPerKey, int maxPerProvider) {
        this.clock = clock;
        this.validity = validity;
        this.maxKeys = maxKeys;
        this.maxPerKey = maxPerKey;
        this.maxPerProvider = maxPerProvider;
    }

    /**
     * Adds or renews a provider for a key.
     *
     * @return false if the provider is at its record limit and the key is new for it (nothing stored)
     */
    synchronized boolean add(byte[] key, KadPeer provider) {
        return add(key, provider, true);
    }

    /** Adds or renews this node's own record for a key: not subject to the per-provider limit. */
    synchronized void addOwn(byte[] key, KadPeer self) {
        add(key, self, false);
    }

    private boolean add(byte[] key, KadPeer provider, boolean limited) {
        ByteBuffer k = ByteBuffer.wrap(key.clone());
        ByteBuffer pid = ByteBuffer.wrap(provider.id().clone());
        LinkedHashMap<ByteBuffer, Entry> providers = byKey.get(k);
        boolean renewal = providers != null && providers.containsKey(pid);
        if (limited && !renewal && perProvider.getOrDefault(pid, 0) >= maxPerProvider) {
            return false;
        }
        byKey.remove(k);
        if (providers == null) {
            if (byKey.size() >= maxKeys) {
                Iterator<LinkedHashMap<ByteBuffer, Entry>> it = byKey.values().iterator();
                it.next().keySet().forEach(this::uncount);
                it.remove();
            }
            providers = new LinkedHashMap<>();
        }
        byKey.put(k, providers);
        if (providers.remove(pid) != null) {
            uncount(pid);
        }
        if (providers.size() >= maxPerKey) {
            Iterator<ByteBuffer> it = providers.keySet().iterator();
            uncount(it.next());
            it.remove();
        }
        perProvider.merge(pid, 1, Integer::sum);
        KadPeer kept = provider.addrs().size() <= MAX_ADDRS ? provider
                : new KadPeer(provider.id(), provider.addrs().subList(0, MAX_ADDRS), provider.connection());
        providers.put(pid, new Entry(kept, clock.instant().plus(validity)));
        return true;
    }

    private void uncount(ByteBuffer pid) {
        perProvider.computeIfPresent(pid, (p, n) -> n <= 1 ? null : n - 1);
    }

    /** Drops the expired entries of one key's providers. */
    private int dropExpired(LinkedHashMap<ByteBuffer, Entry> providers, Instant now) {
        int before = providers.size();
        for (Iterator<Map.Entry<ByteBuffer, Entry>> it = providers.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<ByteBuffer, Entry> e = it.next();
            if (!e.getValue().expires.isAfter(now)) {
                uncount(e.getKey());
                it.remove();
            }
        }
        return before - providers.size();
    }

    /** Records held for one provider. */
    synchronized int recordsOf(byte[] providerId) {
        return perProvider.getOrDefault(ByteBuffer.wrap(providerId), 0);
    }

    /** Records held in all. */
    synchronized int recordCount() {
        return perProvider.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Unexpired providers of a key, most recently announced last. */
    synchronized List<KadPeer> get(byte[] key) {
        ByteBuffer k = ByteBuffer.wrap(key);
        LinkedHashMap<ByteBuffer, Entry> providers = byKey.get(k);
        if (providers == null) {
            return List.of();
        }
        Instant now = clock.instant();
        dropExpired(providers, now);
        if (providers.isEmpty()) {
            byKey.remove(k);
            return List.of();
        }
        List<KadPeer> out = new ArrayList<>(providers.size());
        providers.values().forEach(e -> out.add(e.provider));
        return out;
    }

    /** Drops expired records; returns how many were dropped. */
    synchronized int expire() {
        Instant now = clock.instant();
        int dropped = 0;
        for (Iterator<LinkedHashMap<ByteBuffer, Entry>> it = byKey.values().iterator(); it.hasNext(); ) {
            LinkedHashMap<ByteBuffer, Entry> providers = it.next();
            dropped += dropExpired(providers, now);
            if (providers.isEmpty()) {
                it.remove();
            }
        }
        return dropped;
    }

    /** Number of keys with at least one record (expired ones may linger until read or expired). */
    synchronized int keyCount() {
        return byKey.size();
    }
}
