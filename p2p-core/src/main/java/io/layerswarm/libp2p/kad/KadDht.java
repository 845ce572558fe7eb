package io.layerswarm.libp2p.kad;

import io.layerswarm.libp2p.multiformats.Cid;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kademlia DHT of the libp2p kad-dht spec ({@code /ipfs/kad/1.0.0}), used by LayerSwarm to announce
 * and find providers of layers. Transport-independent: requests go out through a
 * {@link KadTransport} and inbound requests come in through {@link #handleRequest}.
 *
 * <p>Peers enter the routing table only when they are known to speak kad in server mode: they
 * answered one of our queries, or the binding reports them via {@link #peerSpeaksKad} (identify).
 * When a bucket is full its least recently seen peer is pinged and replaced if it does not answer.
 */
public final class KadDht implements AutoCloseable {

    /** The protocol id. */
    public static final String PROTOCOL = "/ipfs/kad/1.0.0";

    private static final Logger log = LoggerFactory.getLogger(KadDht.class);

    private final byte[] selfId;
    private final Supplier<List<byte[]>> selfAddrs;
    private final KadTransport transport;
    private final KadConfig config;
    private final RoutingTable table;
    private final ProviderStore providers;
    private final Random random;
    /** Keys we provide, with when they were last announced to the network. */
    private final Map<ByteBuffer, Instant> provided = new LinkedHashMap<>();
    private final Set<KadId> pendingPings = ConcurrentHashMap.newKeySet();
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    private final java.util.concurrent.atomic.AtomicLong providerRecordsRefused = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Creates a DHT node.
     *
     * @param selfId our peer id bytes
     * @param selfAddrs our current binary multiaddrs, advertised in ADD_PROVIDER
     * @param transport how to reach peers
     * @param config parameters
     */
    public KadDht(byte[] selfId, Supplier<List<byte[]>> selfAddrs, KadTransport transport, KadConfig config) {
        this.selfId = selfId.clone();
        this.selfAddrs = selfAddrs;
        this.transport = transport;
        this.config = config;
        this.table = new RoutingTable(KadId.of(selfId), config.k(), config.clock().instant());
        this.providers = new ProviderStore(config.clock(), config.providerValidity(),
                config.maxProviderKeys(), config.maxProvidersPerKey(), config.maxKeysPerProvider(),
                config.maxRecordsPerAddress(), config.maxProviderRecords());
        this.random = new Random(Arrays.hashCode(selfId));
    }

    /** Our peer id bytes. */
    public byte[] selfId() {
        return selfId.clone();
    }

    /** The configuration. */
    public KadConfig config() {
        return config;
    }

    private KadPeer self() {
        return new KadPeer(selfId, selfAddrs.get(), KadPeer.Connection.CONNECTED);
    }

    // ---------------------------------------------------------------- inbound

    /**
     * Answers one inbound request.
     *
     * @param from the sending peer (id and the addresses the binding knows for it)
     * @param request the decoded request
     * @return the response, or empty for ADD_PROVIDER which has none
     * @throws KadProtocolException for requests this node does not serve (client mode, values)
     */
    public Optional<KadMessage> handleRequest(KadPeer from, KadMessage request) throws KadProtocolException {
        return handleRequest(from, null, request);
    }

    /**
     * Answers one inbound request that came from a known IP address; ADD_PROVIDER records are then
     * capped per address too ({@link KadConfig#maxRecordsPerAddress()}).
     *
     * @param fromAddress the remote IP address of the connection, or null if unknown (relayed)
     */
    public Optional<KadMessage> handleRequest(KadPeer from, String fromAddress, KadMessage request)
            throws KadProtocolException {
        if (config.clientMode()) {
            throw new KadProtocolException("kad node is in client mode and serves no requests");
        }
        byte[] key = request.key();
        switch (request.type()) {
            case FIND_NODE, GET_VALUE -> {
                return Optional.of(KadMessage.response(request.type(), key, closerPeers(key, from), List.of()));
            }
            case GET_PROVIDERS -> {
                if (key.length == 0) {
                    throw new KadProtocolException("GET_PROVIDERS without key");
                }
                List<KadPeer> provs = providers.get(key);
                log.debug("event=kad_get_providers key={} providers={}", shortHex(key), provs.size());
                return Optional.of(KadMessage.response(request.type(), key, closerPeers(key, from), provs));
            }
            case ADD_PROVIDER -> {
                if (key.length == 0) {
                    throw new KadProtocolException("ADD_PROVIDER without key");
                }
                for (KadPeer p : request.providerPeers()) {
                    // The spec only lets a peer announce itself; records for others are dropped.
                    if (!Arrays.equals(p.id(), from.id())) {
                        log.debug("event=kad_add_provider_rejected reason=not_sender");
                        continue;
                    }
                    KadPeer rec = p.addrs().isEmpty() ? from : p;
                    ProviderStore.Outcome o = providers.add(key, rec.withConnection(KadPeer.Connection.NOT_CONNECTED),
                            fromAddress);
                    if (o != ProviderStore.Outcome.STORED) {
                        providerRecordsRefused.incrementAndGet();
                        log.debug("event=kad_add_provider_rejected reason={} address={}",
                                o.name().toLowerCase(java.util.Locale.ROOT), fromAddress);
                        continue;
                    }
                    log.debug("event=kad_add_provider key={} addrs={}", shortHex(key), rec.addrs().size());
                }
                return Optional.empty();
            }
            case PING -> {
                return Optional.of(KadMessage.request(KadMessage.Type.PING, new byte[0]));
            }
            case PUT_VALUE -> throw new KadProtocolException("PUT_VALUE is not supported by this node");
            default -> throw new KadProtocolException("unsupported kad message type " + request.type());
        }
    }

    private List<KadPeer> closerPeers(byte[] key, KadPeer requester) {
        List<KadPeer> out = new ArrayList<>(config.k());
        for (KadPeer p : table.closest(KadId.of(key), config.k() + 1)) {
            if (!p.equals(requester) && out.size() < config.k()) {
                out.add(p.withConnection(KadPeer.Connection.NOT_CONNECTED));
            }
        }
        return out;
    }

    /**
     * Reports a peer that speaks kad in server mode (e.g. identify listed {@link #PROTOCOL}). It is
     * added to the routing table, possibly after a liveness check of a full bucket's oldest peer.
     */
    public void peerSpeaksKad(KadPeer peer) {
        if (Arrays.equals(peer.id(), selfId)) {
            return;
        }
        if (table.offer(peer) instanceof RoutingTable.Offer.Full full) {
            checkOldest(full.oldest());
        }
    }

    private void checkOldest(KadPeer oldest) {
        KadId id = oldest.kadId();
        if (!pendingPings.add(id)) {
            return;
        }
        transport.request(oldest, KadMessage.request(KadMessage.Type.PING, new byte[0]))
                .whenComplete((r, err) -> {
                    pendingPings.remove(id);
                    if (err == null) {
                        table.touch(oldest);
                    } else {
                        evict(oldest, err);
                    }
                });
    }

    private void evict(KadPeer peer, Throwable why) {
        Optional<KadPeer> promoted = table.remove(peer.id());
        log.debug("event=kad_evict peer={} promoted={} cause={}", peer, promoted.isPresent(), why.toString());
    }

    /** Forgets a peer, e.g. because the binding learnt it stopped serving kad. */
    public void removePeer(byte[] peerId) {
        table.remove(peerId);
    }

    /** Provider records held for other peers and ourselves (expired ones may linger until read or expired). */
    public int providerRecordCount() {
        return providers.recordCount();
    }

    /** Provider records held for one provider. */
    public int providerRecordsOf(byte[] providerId) {
        return providers.recordsOf(providerId);
    }

    /** Provider records held that came from one remote IP address. */
    public int providerRecordsFrom(String address) {
        return providers.recordsFrom(address);
    }

    /**
     * ADD_PROVIDER records not stored because their provider, their address or the store was at its
     * limit ({@link KadConfig#maxKeysPerProvider()}, {@link KadConfig#maxRecordsPerAddress()},
     * {@link KadConfig#maxProviderRecords()}, {@link KadConfig#maxProviderKeys()}).
     */
    public long providerRecordsRefused() {
        return providerRecordsRefused.get();
    }

    /** Number of peers in the routing table. */
    public int routingTableSize() {
        return table.size();
    }

    /** Whether the peer is in the routing table. */
    public boolean inRoutingTable(byte[] peerId) {
        return table.contains(peerId);
    }

    /** The routing table's peers closest to a key, closest first. */
    public List<KadPeer> closestKnownPeers(byte[] key, int count) {
        return table.closest(KadId.of(key), count);
    }

    // ---------------------------------------------------------------- lookups

    /**
     * Joins the network: asks the seeds for peers close to our own id, which fills the routing
     * table with the seeds (once they answer) and their neighbours.
     *
     * @return completes with the routing table size
     */
    public CompletableFuture<Integer> bootstrap(List<KadPeer> seeds) {
        return lookup(KadMessage.Type.FIND_NODE, selfId, seeds, null).thenApply(x -> table.size());
    }

    /** Iterative FIND_NODE: the k closest peers to {@code key} that answered. */
    public CompletableFuture<List<KadPeer>> findClosestPeers(byte[] key) {
        return lookup(KadMessage.Type.FIND_NODE, key, table.closest(KadId.of(key), config.k()), null);
    }

    private CompletableFuture<List<KadPeer>> lookup(KadMessage.Type type, byte[] key, List<KadPeer> seeds,
                                                    Lookup.Listener extra) {
        KadId target = KadId.of(key);
        KadMessage req = KadMessage.request(type, key);
        Lookup.Listener listener = new Lookup.Listener() {
            @Override
            public boolean onResponse(KadPeer from, KadMessage response) {
                // Answering on the kad protocol proves the peer is a kad server.
                peerSpeaksKad(from);
                return extra != null && extra.onResponse(from, response);
            }

            @Override
            public void onFailure(KadPeer peer, Throwable error) {
                evict(peer, error);
                if (extra != null) {
                    extra.onFailure(peer, error);
                }
            }
        };
        Lookup l = new Lookup(table.local(), target, config.k(), config.alpha(),
                p -> transport.request(p, req), listener);
        int cpl = table.local().commonPrefixLength(target);
        return l.run(seeds).whenComplete((r, e) -> {
            if (e == null) {
                table.markRefreshed(cpl, config.clock().instant());
            }
            log.debug("event=kad_lookup type={} key={} queried={} closest={}", type, shortHex(key),
                    l.queriedCount(), r == null ? -1 : r.size());
        });
    }

    /**
     * Announces that we provide {@code key} (a multihash): stores it locally, finds the k closest
     * peers and sends each an ADD_PROVIDER. It is re-announced by {@link #republishProviders}.
     *
     * @return completes with the number of peers the announcement was delivered to
     */
    public CompletableFuture<Integer> provide(byte[] key) {
        providers.addOwn(key, self());
        synchronized (provided) {
            provided.put(ByteBuffer.wrap(key.clone()), config.clock().instant());
        }
        return announce(key);
    }

    private CompletableFuture<Integer> announce(byte[] key) {
        return findClosestPeers(key).thenCompose(closest -> {
            KadMessage msg = new KadMessage(KadMessage.Type.ADD_PROVIDER, key, null, List.of(), List.of(self()));
            List<CompletableFuture<Boolean>> sends = new ArrayList<>();
            for (KadPeer p : closest) {
                sends.add(transport.send(p, msg).handle((v, e) -> e == null));
            }
            return CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).thenApply(v -> {
                int ok = (int) sends.stream().filter(CompletableFuture::join).count();
                log.info("event=kad_provide key={} peers={} delivered={}", shortHex(key), closest.size(), ok);
                return ok;
            });
        });
    }

    /**
     * The DHT key under which providers of a CID are stored: its multihash bytes, as js-libp2p and
     * go-libp2p use (so CIDv0/v1 and any codec of the same content meet at one key).
     */
    public static byte[] providerKey(Cid cid) {
        return cid.multihash().bytes();
    }

    /** {@link #provide(byte[])} for a CID. */
    public CompletableFuture<Integer> provide(Cid cid) {
        return provide(providerKey(cid));
    }

    /** {@link #findProviders(byte[], int)} for a CID. */
    public CompletableFuture<List<KadPeer>> findProviders(Cid cid, int max) {
        return findProviders(providerKey(cid), max);
    }

    /**
     * Finds up to {@code max} providers of {@code key} other than ourselves: the local store first,
     * then an iterative GET_PROVIDERS lookup that stops once {@code max} are known.
     */
    public CompletableFuture<List<KadPeer>> findProviders(byte[] key, int max) {
        Set<KadPeer> found = new LinkedHashSet<>();
        for (KadPeer p : providers.get(key)) {
            if (!Arrays.equals(p.id(), selfId)) {
                found.add(p);
            }
        }
        if (found.size() >= max) {
            return CompletableFuture.completedFuture(List.copyOf(found).subList(0, max));
        }
        Lookup.Listener collect = new Lookup.Listener() {
            @Override
            public boolean onResponse(KadPeer from, KadMessage response) {
                synchronized (found) {
                    for (KadPeer p : response.providerPeers()) {
                        if (found.size() >= max) {
                            break;
                        }
                        if (!Arrays.equals(p.id(), selfId)) {
                            found.add(p);
                        }
                    }
                    return found.size() >= max;
                }
            }

            @Override
            public void onFailure(KadPeer peer, Throwable error) {
            }
        };
        return lookup(KadMessage.Type.GET_PROVIDERS, key, table.closest(KadId.of(key), config.k()), collect)
                .thenApply(x -> {
                    synchronized (found) {
                        List<KadPeer> all = List.copyOf(found);
                        return all.size() > max ? all.subList(0, max) : all;
                    }
                });
    }

    // ---------------------------------------------------------------- maintenance

    /**
     * Refreshes every bucket that saw no lookup within the refresh interval by looking up a random
     * key that falls into it.
     *
     * @return completes with the number of buckets refreshed
     */
    public CompletableFuture<Integer> refreshBuckets() {
        Instant cutoff = config.clock().instant().minus(config.refreshInterval());
        List<Integer> stale = table.staleBuckets(cutoff, config.maxRefreshCpl());
        List<CompletableFuture<List<KadPeer>>> all = new ArrayList<>();
        for (int cpl : stale) {
            byte[] key;
            synchronized (random) {
                key = table.local().randomKeyWithPrefixLength(cpl, random);
            }
            all.add(findClosestPeers(key));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> stale.size());
    }

    /**
     * Re-announces our provided keys whose last announcement is older than the republish interval.
     *
     * @return completes with the number of keys re-announced
     */
    public CompletableFuture<Integer> republishProviders() {
        Instant now = config.clock().instant();
        List<byte[]> due = new ArrayList<>();
        synchronized (provided) {
            for (Map.Entry<ByteBuffer, Instant> e : provided.entrySet()) {
                if (!e.getValue().plus(config.republishInterval()).isAfter(now)) {
                    due.add(e.getKey().array());
                    e.setValue(now);
                }
            }
        }
        List<CompletableFuture<Integer>> all = new ArrayList<>();
        for (byte[] key : due) {
            providers.addOwn(key, self());
            all.add(announce(key));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> due.size());
    }

    /** Stops re-announcing {@code key} (the local record expires on its own). */
    public void stopProviding(byte[] key) {
        synchronized (provided) {
            provided.remove(ByteBuffer.wrap(key));
        }
    }

    /** Drops expired provider records; returns how many. */
    public int expireProviders() {
        return providers.expire();
    }

    /** Unexpired providers of {@code key} in the local store (including ourselves). */
    public List<KadPeer> localProviders(byte[] key) {
        return providers.get(key);
    }

    /**
     * Runs refresh, republish and expiry periodically on {@code scheduler} (checked every
     * {@code tick}); the scheduler stays owned by the caller.
     */
    public void startMaintenance(ScheduledExecutorService scheduler, long tick, TimeUnit unit) {
        synchronized (timers) {
            timers.add(scheduler.scheduleWithFixedDelay(() -> {
                try {
                    refreshBuckets();
                    republishProviders();
                    expireProviders();
                } catch (RuntimeException e) {
                    log.warn("event=kad_maintenance_failed cause={}", e.toString());
                }
            }, tick, tick, unit));
        }
    }

    /** Cancels periodic maintenance. */
    @Override
    public void close() {
        synchronized (timers) {
            timers.forEach(t -> t.cancel(false));
            timers.clear();
        }
    }

    static String shortHex(byte[] key) {
        String hex = HexFormat.of().formatHex(key);
        return hex.length() > 16 ? hex.substring(hex.length() - 16) : hex;
    }
}
