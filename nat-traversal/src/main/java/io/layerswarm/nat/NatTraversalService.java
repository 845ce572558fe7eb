package io.layerswarm.nat;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.nat.autonat.AutoNatService;
import io.layerswarm.nat.autonat.Reachability;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NAT traversal as a {@link NodeService}: the node dials and accepts relayed circuits, logs the path of
 * each connection and of each fetched blob's layer data ({@link BlobPaths}), keeps reservations on the configured relays, learns its reachability (STUN + AutoNAT
 * through the relays) and advertises only addresses that work; optionally it relays for others. With STUN
 * servers configured it also punches holes: each relayed connection this node dials is followed by an ICE
 * session over it ({@link HolePuncher}) whose direct QUIC connection, where the NATs let it through, replaces
 * the relayed one; with TURN servers configured, where they do not (symmetric NATs), a QUIC connection through
 * the TURN relay does.
 */
public final class NatTraversalService implements NodeService {
    private static final Logger LOG = LoggerFactory.getLogger(NatTraversalService.class);

    /** Most relays / STUN servers accepted (each costs a reservation or a query). */
    public static final int MAX_ENTRIES = 16;

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
