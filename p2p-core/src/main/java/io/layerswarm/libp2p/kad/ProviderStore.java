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
 * (48h per the spec). Bounded so that a flood of announcements can neither exhaust memory nor push
 * out the records already held: a new record from a peer is refused (renewals of a record held are
 * always taken) when its provider holds {@code maxPerProvider} records, when the IP address it came
 * from holds {@code maxPerAddress} (many identities on one machine), or when the store holds
 * {@code maxRecords} records or {@code maxKeys} keys. Only this node's own records make room by
 * evicting the oldest key; within one key the oldest of {@code maxPerKey} providers makes room.
 */
final class ProviderStore {

    /** What {@link #add} did with a record. */
    enum Outcome {
        /** Stored, or renewed. */
        STORED,
        /** Refused: its provider is at its record limit. */
        PROVIDER_LIMIT,
        /** Refused: the address it came from is at its record limit. */
        ADDRESS_LIMIT,
        /** Refused: the store is at its record or key limit. */
        STORE_FULL
    }

    /** @param source the remote IP address the record came from; null for our own or where unknown */
    private record Entry(KadPeer provider, Instant expires, String source) { }

    /** Addresses kept per provider record; a record only needs a few to be dialable. */
    static final int MAX_ADDRS = 8;

    private final Clock clock;
    private final Duration validity;
    private final int maxKeys;
    private final int maxPerKey;
    private final int maxPerProvider;
    private final int maxPerAddress;
    private final int maxRecords;
    private final LinkedHashMap<ByteBuffer, LinkedHashMap<ByteBuffer, Entry>> byKey = new LinkedHashMap<>();
    /** Records held per provider id. */
    private final Map<ByteBuffer, Integer> perProvider = new HashMap<>();
    /** Records held per source address. */
    private final Map<String, Integer> perAddress = new HashMap<>();
    private int records;

    ProviderStore(Clock clock, Duration validity, int maxKeys, int maxPerKey) {
        this(clock, validity, maxKeys, maxPerKey, Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE);
    }

    ProviderStore(Clock clock, Duration validity, int maxKeys, int maxPerKey, int maxPerProvider, int maxPerAddress,
                  int maxRecords) {
        this.clock = clock;
        this.validity = validity;
        this.maxKeys = maxKeys;
        this.maxPerKey = maxPerKey;
        this.maxPerProvider = maxPerProvider;
        this.maxPerAddress = maxPerAddress;
        this.maxRecords = maxRecords;
    }

    /** Adds or renews a peer's record for a key, from an unknown address. */
    synchronized Outcome add(byte[] key, KadPeer provider) {
        return add(key, provider, null, true);
    }

    /**
     * Adds or renews a peer's record for a key.
     *
     * @param source the remote IP address the record came from (null: unknown, not capped per address)
     */
    synchronized Outcome add(byte[] key, KadPeer provider, String source) {
        return add(key, provider, source, true);
    }

    /** Adds or renews this node's own record for a key: not subject to the limits on peers' records. */
    synchronized void addOwn(byte[] key, KadPeer self) {
        add(key, self, null, false);
    }

    private Outcome add(byte[] key, KadPeer provider, String source, boolean limited) {
        ByteBuffer k = ByteBuffer.wrap(key.clone());
        ByteBuffer pid = ByteBuffer.wrap(provider.id().clone());
        LinkedHashMap<ByteBuffer, Entry> providers = byKey.get(k);
        Entry held = providers == null ? null : providers.get(pid);
        if (limited && held == null) {
            if (perProvider.getOrDefault(pid, 0) >= maxPerProvider) {
                return Outcome.PROVIDER_LIMIT;
            }
            if (source != null && perAddress.getOrDefault(source, 0) >= maxPerAddress) {
                return Outcome.ADDRESS_LIMIT;
            }
            if (records >= maxRecords || (providers == null && byKey.size() >= maxKeys)) {
                return Outcome.STORE_FULL;
            }
        }
        // a renewal keeps the address that first brought the record: its share stays where it was counted
        String counted = held == null ? source : held.source();
        byKey.remove(k);
        if (providers == null) {
            if (byKey.size() >= maxKeys) {
                Iterator<LinkedHashMap<ByteBuffer, Entry>> it = byKey.values().iterator();
                it.next().forEach(this::uncount);
                it.remove();
            }
            providers = new LinkedHashMap<>();
        }
        byKey.put(k, providers);
        Entry previous = providers.remove(pid);
        if (previous != null) {
            uncount(pid, previous);
        }
        if (providers.size() >= maxPerKey) {
            Iterator<Map.Entry<ByteBuffer, Entry>> it = providers.entrySet().iterator();
            Map.Entry<ByteBuffer, Entry> oldest = it.next();
            uncount(oldest.getKey(), oldest.getValue());
            it.remove();
        }
        perProvider.merge(pid, 1, Integer::sum);
        if (counted != null) {
            perAddress.merge(counted, 1, Integer::sum);
        }
        records++;
        KadPeer kept = provider.addrs().size() <= MAX_ADDRS ? provider
                : new KadPeer(provider.id(), provider.addrs().subList(0, MAX_ADDRS), provider.connection());
        providers.put(pid, new Entry(kept, clock.instant().plus(validity), counted));
        return Outcome.STORED;
    }

    private void uncount(ByteBuffer pid, Entry e) {
        perProvider.computeIfPresent(pid, (p, n) -> n <= 1 ? null : n - 1);
        if (e.source() != null) {
            perAddress.computeIfPresent(e.source(), (a, n) -> n <= 1 ? null : n - 1);
        }
        records--;
    }

    /** Drops the expired entries of one key's providers. */
    private int dropExpired(LinkedHashMap<ByteBuffer, Entry> providers, Instant now) {
        int before = providers.size();
        for (Iterator<Map.Entry<ByteBuffer, Entry>> it = providers.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<ByteBuffer, Entry> e = it.next();
            if (!e.getValue().expires.isAfter(now)) {
                uncount(e.getKey(), e.getValue());
                it.remove();
            }
        }
        return before - providers.size();
    }

    /** Records held for one provider. */
    synchronized int recordsOf(byte[] providerId) {
        return perProvider.getOrDefault(ByteBuffer.wrap(providerId), 0);
    }

    /** Records held that came from one address. */
    synchronized int recordsFrom(String address) {
        return perAddress.getOrDefault(address, 0);
    }

    /** Records held in all. */
    synchronized int recordCount() {
        return records;
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
