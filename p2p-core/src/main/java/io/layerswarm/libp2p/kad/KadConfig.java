package io.layerswarm.libp2p.kad;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * DHT parameters. Defaults follow the libp2p kad-dht spec and go/js implementations.
 *
 * @param k bucket size and replication factor (20)
 * @param alpha concurrent queries per lookup (3)
 * @param clientMode if true the node does not answer kad requests and is not meant to be added
 *                   to others' routing tables
 * @param providerValidity how long a provider record is kept (48h)
 * @param republishInterval how often our own provider records are re-announced (22h)
 * @param refreshInterval how often a bucket without lookups is refreshed (10 min)
 * @param maxRefreshCpl deepest bucket refreshed (15, as go and js)
 * @param maxProviderKeys bound on keys in the provider store (50 000)
 * @param maxProvidersPerKey bound on providers kept per key (20); with at most 8 addresses per
 *                           record this caps the store at a few hundred MB under a flood
 * @param maxKeysPerProvider bound on records kept for one provider (10 000), so one peer flooding
 *                           ADD_PROVIDER cannot evict everyone else's records
 * @param maxRecordsPerAddress bound on records kept that came from one remote IP address (20 000), so
 *                             many identities on one machine cannot fill the store either
 * @param maxProviderRecords bound on records kept in all (100 000, some 50 MB); a peer's new record
 *                           beyond it is refused, the records held are kept
 * @param clock time source, injectable for expiry tests
 */
public record KadConfig(int k, int alpha, boolean clientMode, Duration providerValidity,
                        Duration republishInterval, Duration refreshInterval, int maxRefreshCpl,
                        int maxProviderKeys, int maxProvidersPerKey, int maxKeysPerProvider,
                        int maxRecordsPerAddress, int maxProviderRecords, Clock clock) {

    /** Validates. */
    public KadConfig {
        if (k < 1 || alpha < 1 || maxProviderKeys < 1 || maxProvidersPerKey < 1 || maxKeysPerProvider < 1
                || maxRecordsPerAddress < 1 || maxProviderRecords < 1) {
            throw new IllegalArgumentException("k, alpha and store bounds must be positive");
        }
        if (maxRefreshCpl < 0 || maxRefreshCpl > 20) {
            throw new IllegalArgumentException("maxRefreshCpl must be in 0..20");
        }
        Objects.requireNonNull(providerValidity, "providerValidity");
        Objects.requireNonNull(republishInterval, "republishInterval");
        Objects.requireNonNull(refreshInterval, "refreshInterval");
        Objects.requireNonNull(clock, "clock");
    }

    /** Spec defaults, server mode, system clock. */
    public static KadConfig defaults() {
        return new KadConfig(20, 3, false, Duration.ofHours(48), Duration.ofHours(22),
                Duration.ofMinutes(10), 15, 50_000, 20, 10_000, 20_000, 100_000, Clock.systemUTC());
    }

    /** A copy with another clock. */
    public KadConfig withClock(Clock c) {
        return new KadConfig(k, alpha, clientMode, providerValidity, republishInterval, refreshInterval,
                maxRefreshCpl, maxProviderKeys, maxProvidersPerKey, maxKeysPerProvider, maxRecordsPerAddress, maxProviderRecords, c);
    }

    /** A copy in client or server mode. */
    public KadConfig withClientMode(boolean client) {
        return new KadConfig(k, alpha, client, providerValidity, republishInterval, refreshInterval,
                maxRefreshCpl, maxProviderKeys, maxProvidersPerKey, maxKeysPerProvider, maxRecordsPerAddress, maxProviderRecords, clock);
    }

    /** A copy with other provider validity and republish interval. */
    public KadConfig withProviderTimes(Duration validity, Duration republish) {
        return new KadConfig(k, alpha, clientMode, validity, republish, refreshInterval,
                maxRefreshCpl, maxProviderKeys, maxProvidersPerKey, maxKeysPerProvider, maxRecordsPerAddress, maxProviderRecords, clock);
    }

    /** A copy with another bound on records kept for one provider. */
    public KadConfig withMaxKeysPerProvider(int n) {
        return new KadConfig(k, alpha, clientMode, providerValidity, republishInterval, refreshInterval,
                maxRefreshCpl, maxProviderKeys, maxProvidersPerKey, n, maxRecordsPerAddress, maxProviderRecords, clock);
    }

    /** A copy with other bounds on records kept from one address and in all. */
    public KadConfig withRecordLimits(int perAddress, int total) {
        return new KadConfig(k, alpha, clientMode, providerValidity, republishInterval, refreshInterval,
                maxRefreshCpl, maxProviderKeys, maxProvidersPerKey, maxKeysPerProvider, perAddress, total, clock);
    }

    /** A copy with another bucket size. */
    public KadConfig withK(int newK) {
        return new KadConfig(newK, alpha, clientMode, providerValidity, republishInterval, refreshInterval,
                maxRefreshCpl, maxProviderKeys, maxProvidersPerKey, maxKeysPerProvider, maxRecordsPerAddress, maxProviderRecords, clock);
    }
}
