package io.layerswarm.libp2p.kad;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Provider records received via ADD_PROVIDER (and our own), each valid for a configurable time
 * (48h per the spec). Bounded in keys and providers per key so that a flood of announcements
 * cannot exhaust memory; the oldest entry makes room.
 */
final class ProviderStore {

    private record Entry(KadPeer provider, Instant expires) { }

    /** Addresses kept per provider record; a record only needs a few to be dialable. */
    static final int MAX_ADDRS = 8;

    private final Clock clock;
    private final Duration validity;
    private final int maxKeys;
    private final int maxPerKey;
    private final LinkedHashMap<ByteBuffer, LinkedHashMap<ByteBuffer, Entry>> byKey = new LinkedHashMap<>();

    ProviderStore(Clock clock, Duration validity, int maxKeys, int maxPerKey) {
        this.clock = clock;
        this.validity = validity;
        this.maxKeys = maxKeys;
        this.maxPerKey = maxPerKey;
    }

    /** Adds or renews a provider for a key. */
    synchronized void add(byte[] key, KadPeer provider) {
        ByteBuffer k = ByteBuffer.wrap(key.clone());
        LinkedHashMap<ByteBuffer, Entry> providers = byKey.remove(k);
        if (providers == null) {
            if (byKey.size() >= maxKeys) {
                Iterator<ByteBuffer> it = byKey.keySet().iterator();
                it.next();
                it.remove();
            }
            providers = new LinkedHashMap<>();
        }
        byKey.put(k, providers);
        ByteBuffer pid = ByteBuffer.wrap(provider.id().clone());
        providers.remove(pid);
        if (providers.size() >= maxPerKey) {
            Iterator<ByteBuffer> it = providers.keySet().iterator();
            it.next();
            it.remove();
        }
        KadPeer kept = provider.addrs().size() <= MAX_ADDRS ? provider
                : new KadPeer(provider.id(), provider.addrs().subList(0, MAX_ADDRS), provider.connection());
        providers.put(pid, new Entry(kept, clock.instant().plus(validity)));
    }

    /** Unexpired providers of a key, most recently announced last. */
    synchronized List<KadPeer> get(byte[] key) {
        ByteBuffer k = ByteBuffer.wrap(key);
        Map<ByteBuffer, Entry> providers = byKey.get(k);
        if (providers == null) {
            return List.of();
        }
        Instant now = clock.instant();
        providers.values().removeIf(e -> !e.expires.isAfter(now));
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
            int before = providers.size();
            providers.values().removeIf(e -> !e.expires.isAfter(now));
            dropped += before - providers.size();
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
