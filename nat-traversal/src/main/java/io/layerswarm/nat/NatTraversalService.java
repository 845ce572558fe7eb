package io.layerswarm.nat;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.nat.autonat.AutoNatService;
import io.layerswarm.nat.autonat.Reachability;
import io.layerswarm.nat.dcutr.Dcutr;
import io.layerswarm.nat.ice.HolePuncher;
import io.layerswarm.nat.ice.TurnServer;
import io.layerswarm.nat.path.BlobPaths;
import io.layerswarm.nat.path.ConnectionPaths;
import io.layerswarm.nat.relay.RelayClient;
import io.layerswarm.nat.relay.RelayConfig;
import io.layerswarm.nat.relay.RelayService;
import io.layerswarm.node.Node;
import io.layerswarm.node.NodeContext;
import io.layerswarm.node.NodeService;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NAT traversal as a {@link NodeService}: the node dials and accepts relayed circuits, logs the path of
 * each connection and of each fetched blob's layer data ({@link BlobPaths}), keeps reservations on the configured relays, learns its reachability (STUN + AutoNAT
 * through the relays) and advertises only addresses that work; optionally it relays for others. With STUN
 * servers configured it also punches holes: each relayed connection this node dials is followed by an ICE
 * session over it ({@link HolePuncher}) whose direct QUIC connection, where the NATs let it through, replaces
 * the relayed one; with TURN servers configured, where they do not (symmetric NATs), a QUIC connection through
 * the TURN relay does. Peers that speak libp2p's DCUtR but not our ICE protocol (js-libp2p, go-libp2p) get a
 * DCUtR upgrade instead ({@link Dcutr}), started by this node when it accepted the relayed connection.
 */
public final class NatTraversalService implements NodeService {
    private static final Logger LOG = LoggerFactory.getLogger(NatTraversalService.class);

    /** Most relays / STUN servers accepted (each costs a reservation or a query). */
    public static final int MAX_ENTRIES = 16;
    /** How long a relayed peer's identify answer is waited for before DCUtR is ruled out for it. */
    static final Duration IDENTIFY_WAIT = Duration.ofSeconds(10);
    private static final long IDENTIFY_POLL_MS = 100;

    /**
     * @param relayService relay circuits for other peers and answer their AutoNAT probes
     * @param stunServers STUN servers to learn the public IP from
     * @param relays relays to keep reservations on, each with a trailing {@code /p2p/<id>}
     * @param turnServers TURN servers for relayed ICE candidates, the path where hole punching fails
     */
    public record Config(boolean relayService, List<InetSocketAddress> stunServers, List<Multiaddr> relays,
                         List<TurnServer> turnServers) {
        /** Checks the lists: bounded, relays name their peer. */
        public Config {
            stunServers = List.copyOf(stunServers);
            relays = List.copyOf(relays);
            turnServers = List.copyOf(turnServers);
            if (stunServers.size() > MAX_ENTRIES || relays.size() > MAX_ENTRIES || turnServers.size() > MAX_ENTRIES) {
                throw new IllegalArgumentException("at most " + MAX_ENTRIES + " STUN servers, " + MAX_ENTRIES
                        + " relays and " + MAX_ENTRIES + " TURN servers");
            }
            for (Multiaddr r : relays) {
                if (r.valueOf(MultiaddrProtocol.P2P).isEmpty()) {
                    throw new IllegalArgumentException("relay " + r + ": needs a trailing /p2p/<peer id>");
                }
            }
        }

        /** Without TURN servers. */
        public Config(boolean relayService, List<InetSocketAddress> stunServers, List<Multiaddr> relays) {
            this(relayService, stunServers, relays, List.of());
        }
    }

    private final Config config;
    private final List<AutoCloseable> open = new ArrayList<>();
    private volatile RelayClient client;
    private volatile Reachability reachability;
    private volatile HolePuncher puncher;
    private volatile Dcutr dcutr;

    /** A service with {@code config}; started by the node. */
    public NatTraversalService(Config config) {
        this.config = config;
    }

    @Override
    public void start(NodeContext context) {
        Host host = context.host();
        RelayClient c = RelayClient.attach(host);
        open.add(c);
        client = c;
        ConnectionPaths.attach(host);
        Node node = context.node();
        if (node != null) { // null: a bare host's context (tests), no blobs fetched
            BlobPaths paths = new BlobPaths(host);
            node.addListener(paths);
            open.add(() -> node.removeListener(paths));
        }
        if (config.relayService()) {
            open.add(RelayService.attach(host, RelayConfig.defaults()));
            open.add(AutoNatService.attach(host, context.eventLoopGroup()));
        }
        reachability = new Reachability(host, c, config.stunServers(), context.executor()).install();
        HolePuncher p = HolePuncher.attach(host, config.stunServers(), config.turnServers(), context.executor());
        puncher = p;
        if (!config.stunServers().isEmpty() || !config.turnServers().isEmpty()) {
            // Punching needs server-reflexive (STUN, TURN) or relayed (TURN) candidates; the dialler of the relayed
            // connection controls it.
            host.addConnectionListener(new ConnectionListener() {
                @Override
                public void connected(Connection conn) {
                    if (conn.isRelayed() && conn.isInitiator()) {
                        p.punch(conn.remotePeer()).whenComplete((direct, e) -> {
                            if (e != null) {
                                LOG.info("event=hole_punch_failed peer={} reason=\"{}\" path=relayed",
                                        conn.remotePeer(), e.getCause() == null ? e : e.getCause().getMessage());
                            }
                        });
                    }
                }
            });
        }
        Reachability reach = reachability;
        Dcutr d = Dcutr.attach(host, () -> dcutrAddrs(host, reach), context.executor());
        dcutr = d;
        host.addConnectionListener(new ConnectionListener() {
            @Override
            public void connected(Connection conn) {
                // the spec's starter: the side that accepted the relayed connection
                if (conn.isRelayed() && !conn.isInitiator()) {
                    whenIdentified(host, conn, context.scheduler(), System.nanoTime() + IDENTIFY_WAIT.toNanos(),
                            () -> upgradeIfOnlyDcutr(host, d, conn));
                }
            }
        });
        List<CompletableFuture<?>> reservations = new ArrayList<>();
        List<PeerId> servers = new ArrayList<>();
        for (Multiaddr relay : config.relays()) {
            servers.add(PeerId.parse(relay.valueOf(MultiaddrProtocol.P2P).orElseThrow()));
            reservations.add(c.keepReservation(relay).handle((r, e) -> {
                if (e != null) {
                    LOG.info("event=relay_reservation_failed relay={} reason=\"{}\"", relay, e.getMessage());
                }
                return null;
            }));
        }
        if (!servers.isEmpty()) {
            // the relays are the peers we surely reach: ask them to dial us back once we are connected
            CompletableFuture.allOf(reservations.toArray(CompletableFuture[]::new))
                    .thenRunAsync(() -> reachability.check(servers), context.executor());
        }
    }

    /**
     * Our addresses for DCUtR's CONNECT: those AutoNAT confirmed, those peers observed (behind a NAT, the
     * mapping a dial may find open), then the listen addresses.
     */
    private static List<Multiaddr> dcutrAddrs(Host host, Reachability r) {
        Set<Multiaddr> out = new LinkedHashSet<>(r.confirmedAddrs());
        out.addAll(host.observedAddrs());
        out.addAll(host.listenAddrs());
        return List.copyOf(out);
    }

    /**
     * Runs {@code then} once identify recorded the peer's protocols (our identify asks on every new connection),
     * polling the peer store; also at {@code deadlineNanos} or when the connection closed, {@code then} decides.
     */
    private static void whenIdentified(Host host, Connection conn, ScheduledExecutorService scheduler,
            long deadlineNanos, Runnable then) {
        scheduler.schedule(() -> {
            boolean identified = host.peerStore().get(conn.remotePeer()).map(p -> !p.protocols().isEmpty()).orElse(false);
            if (identified || !conn.isOpen() || System.nanoTime() - deadlineNanos > 0) {
                then.run();
            } else {
                whenIdentified(host, conn, scheduler, deadlineNanos, then);
            }
        }, IDENTIFY_POLL_MS, TimeUnit.MILLISECONDS);
    }

    /** DCUtR for a peer still only relayed that speaks it and not our ICE protocol (ICE is the dialler's part). */
    private static void upgradeIfOnlyDcutr(Host host, Dcutr d, Connection conn) {
        List<String> protocols = host.peerStore().get(conn.remotePeer()).map(p -> p.protocols()).orElse(List.of());
        boolean onlyRelayed = host.connection(conn.remotePeer()).map(Connection::isRelayed).orElse(false);
        if (!onlyRelayed || !protocols.contains(Dcutr.PROTOCOL) || protocols.contains(HolePuncher.PROTOCOL)) {
            return;
        }
        d.upgrade(conn.remotePeer()).whenComplete((direct, e) -> {
            if (e != null) {
                LOG.info("event=hole_punch_failed peer={} method=dcutr reason=\"{}\" path=relayed", conn.remotePeer(),
                        e.getCause() == null ? e : e.getCause().getMessage());
            }
        });
    }

    /** The node's DCUtR service (after {@link #start}). */
    public Dcutr dcutr() {
        return dcutr;
    }

    /** The node's relay client (after {@link #start}). */
    public RelayClient relayClient() {
        return client;
    }

    /** The node's hole puncher (after {@link #start}). */
    public HolePuncher holePuncher() {
        return puncher;
    }

    /** The node's reachability (after {@link #start}). */
    public Reachability reachability() {
        return reachability;
    }

    @Override
    public void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        open.clear();
    }
}
