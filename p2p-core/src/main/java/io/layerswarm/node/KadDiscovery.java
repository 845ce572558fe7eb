package io.layerswarm.node;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.kad.KadDht;
import io.layerswarm.libp2p.kad.KadHostBinding;
import io.layerswarm.libp2p.kad.KadPeer;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.OciCids;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a node finds the rest of the cluster: it joins the Kademlia DHT through the bootstrap peers,
 * keeps a connection to every peer it learns of (so in-cluster announcements reach everyone),
 * provides each blob it commits, and before fetching a blob no connected peer holds, looks up its
 * providers and connects to them.
 */
final class KadDiscovery implements ProviderLookup {
    private static final Logger log = LoggerFactory.getLogger(KadDiscovery.class);
    private static final int MAX_PEERS = 64;

    private final Host host;
    private final KadHostBinding kad;
    private final List<Multiaddr> seeds;
    private final boolean connectAll;
    private final CompletableFuture<Void> joined = new CompletableFuture<>();

    /** @param connectAll keep a connection to every routing-table peer; if false, only seeds and found providers */
    KadDiscovery(Host host, KadHostBinding kad, List<Multiaddr> seeds, boolean connectAll) {
        this.host = host;
        this.connectAll = connectAll;
        this.kad = kad;
        this.seeds = List.copyOf(seeds);
        host.addConnectionListener(new ConnectionListener() {
            @Override
            public void connected(Connection c) {
                log.info("event=peer_connected peer={}", c.remotePeer());
            }

            @Override
            public void disconnected(Connection c) {
                if (host.connection(c.remotePeer()).isEmpty()) { // not a closing duplicate
                    log.info("event=peer_disconnected peer={}", c.remotePeer());
                }
            }
        });
    }

    /** Joins through the seeds now and re-checks every {@code period}: rejoin when alone, connect to new peers. */
    void start(ScheduledExecutorService scheduler, Duration period) {
        scheduler.execute(() -> {
            try {
                join();
            } finally {
                joined.complete(null);
            }
        });
        scheduler.scheduleWithFixedDelay(() -> {
            if (kad.dht().routingTableSize() == 0 && !seeds.isEmpty()) {
                join();
            } else {
                refreshAndConnect();
            }
        }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
        kad.dht().startMaintenance(scheduler, 1, TimeUnit.MINUTES);
    }

    /**
     * Waits, at most {@code timeout}, until the first join through the seeds has finished (succeeded
     * or failed), so a pull right after start already sees the cluster.
     */
    void awaitJoined(Duration timeout) {
        try {
            joined.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.debug("event=join_wait_ended error={}", e.toString());
        }
    }

    private void join() {
        if (seeds.isEmpty()) {
            return;
        }
        try {
            int size = kad.bootstrap(seeds).get(30, TimeUnit.SECONDS);
            log.info("event=kad_bootstrapped routing_table={}", size);
        } catch (Exception e) {
            log.warn("event=kad_bootstrap_failed error=\"{}\"", String.valueOf(e.getCause() == null ? e : e.getCause()));
        }
        connectKnown();
    }

    /** Connects to every peer in the routing table this node is not yet connected to. */
    /**
     * A self-lookup, then {@link #connectKnown()}: a node that joined before others did knows only
     * what its seeds knew at that moment, so without it a cluster started at once may stay partly
     * unmeshed until the DHT next refreshes its buckets.
     */
    private void refreshAndConnect() {
        if (!connectAll) {
            return;
        }
        try {
            kad.dht().findClosestPeers(kad.dht().selfId()).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            log.debug("event=kad_self_lookup_failed error={}", e.toString());
        }
        connectKnown();
    }

    void connectKnown() {
        if (!connectAll) {
            return;
        }
        connect(kad.dht().closestKnownPeers(kad.dht().selfId(), MAX_PEERS));
    }

    /** Announces in the DHT that this node holds {@code digest}. */
    void provide(Digest digest) {
        kad.dht().provide(KadDht.providerKey(OciCids.toCid(digest))).whenComplete((n, e) -> {
            if (e != null) {
                log.debug("event=kad_provide_failed blob={} error={}", digest, e.toString());
            } else {
                log.debug("event=kad_provided blob={} peers={}", digest, n);
            }
        });
    }

    /** Stops announcing {@code digest} (evicted). */
    void stopProviding(Digest digest) {
        kad.dht().stopProviding(KadDht.providerKey(OciCids.toCid(digest)));
    }

    /**
     * Looks up providers of {@code digest} and connects to them, waiting at most {@code timeout} and only
     * until one provider is connected: one that was frozen or left (its dial hangs until the handshake
     * timeout) must not hold up a fetch another provider can already serve. The other dials go on in
     * the background; the swarm uses each provider as it connects.
     *
     * @return how many providers were newly connected by the time it returned
     */
    @Override
    public int connectProviders(Digest digest, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            List<KadPeer> found = kad.dht().findProviders(KadDht.providerKey(OciCids.toCid(digest)), 8)
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            // the lookup itself may already have dialled a provider (it is also a DHT peer): then no wait
            long reachable = found.stream().filter(this::connected).count();
            List<CompletableFuture<?>> dials = connect(found);
            if (reachable == 0) {
                awaitFirst(dials, deadline);
            }
            long n = dials.stream().filter(f -> f.isDone() && !f.isCompletedExceptionally()).count();
            long pending = dials.stream().filter(f -> !f.isDone()).count();
            log.info("event=kad_providers blob={} found={} connected={} reachable={} dials_pending={}", digest,
                    found.size(), n, reachable, pending);
            return (int) n;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        } catch (Exception e) {
            log.debug("event=kad_find_providers_failed blob={} error={}", digest, e.toString());
            return 0;
        }
    }

    private boolean connected(KadPeer p) {
        try {
            return host.connection(PeerId.fromBytes(p.id())).isPresent();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Waits until one of {@code dials} succeeds, all of them failed, or the deadline ({@link System#nanoTime()}
     * scale) passed; the dials themselves are left running.
     *
     * @return whether one succeeded
     */
    static boolean awaitFirst(List<? extends CompletableFuture<?>> dials, long deadlineNanos) throws InterruptedException {
        if (dials.isEmpty()) {
            return false;
        }
        CompletableFuture<Boolean> first = new CompletableFuture<>();
        AtomicInteger failed = new AtomicInteger();
        for (CompletableFuture<?> f : dials) {
            f.whenComplete((v, e) -> {
                if (e == null) {
                    first.complete(true);
                } else {
                    log.debug("event=provider_dial_failed error={}", e.toString());
                    if (failed.incrementAndGet() == dials.size()) {
                        first.complete(false);
                    }
                }
            });
        }
        try {
            return first.get(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    private List<CompletableFuture<?>> connect(List<KadPeer> peers) {
        List<CompletableFuture<?>> dials = new ArrayList<>();
        for (KadPeer p : peers) {
            PeerId id;
            try {
                id = PeerId.fromBytes(p.id());
            } catch (IllegalArgumentException e) {
                continue;
            }
            if (id.equals(host.peerId()) || host.connection(id).isPresent()) {
                continue;
            }
            List<Multiaddr> addrs = new ArrayList<>();
            for (byte[] a : p.addrs()) {
                try {
                    addrs.add(Multiaddr.decode(a));
                } catch (IllegalArgumentException e) {
                    log.debug("event=bad_peer_addr peer={} error={}", id, e.getMessage());
                }
            }
            if (!addrs.isEmpty()) {
                host.peerStore().addAddrs(id, addrs);
            }
            dials.add(host.connect(id));
        }
        return dials;
    }
}
