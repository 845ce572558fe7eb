package io.layerswarm.nat.ice;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.quic.QuicTransport;
import io.layerswarm.nat.path.ConnectionPaths;
import io.layerswarm.nat.punch.Deadlines;
import io.layerswarm.nat.punch.SessionGate;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hole punching with ICE over an existing (typically relayed) connection: the dialler of
 * {@value #PROTOCOL} sends an OFFER (ICE credentials and candidates gathered by ice4j: host and
 * server-reflexive from STUN, relayed from TURN), the peer answers, both run the connectivity checks and the
 * dialler (controlling) nominates a pair and says READY. For a direct pair both then release ice4j's socket and
 * reuse its port for QUIC: the listener accepts on its nominated port and says READY, the dialler dials the
 * peer's nominated address from its own (the NAT mappings the checks opened stay for tens of seconds). For a
 * pair through a TURN relay (no direct pair works, e.g. symmetric NATs) ice4j keeps the allocation and QUIC
 * runs through a {@link TurnBridge} over it, the connection marked {@link ConnectionPaths#markTurn as TURN}.
 * The new connection joins the host, which prefers it to the relayed circuit and drops that when idle.
 *
 * <p>Bounds: candidates per side ({@link IceMessage#MAX_CANDIDATES}), so checks go only to that many
 * addresses, each received from an authenticated peer in the session that ice4j authenticates with the
 * session's credentials; check pacing ({@link IceAgent#CHECK_INTERVAL_MS}); sessions per node and per peer
 * ({@link SessionGate}); every step has a deadline.
 */
public final class HolePuncher {
    private static final Logger LOG = LoggerFactory.getLogger(HolePuncher.class);

    /** The candidate exchange protocol. */
    public static final String PROTOCOL = "/layerswarm/ice/1.0.0";
    /** Most ICE sessions running at once on a node. */
    public static final int MAX_SESSIONS = 4;
    /** Least time between two sessions with one peer. */
    public static final Duration MIN_INTERVAL = Duration.ofSeconds(2);
    /** Deadline of a whole session, from the first message to the direct connection. */
    public static final Duration DEADLINE = Duration.ofSeconds(20);

    private final Host host;
    private final List<InetSocketAddress> stunServers;
    private final List<TurnServer> turnServers;
    private final Executor executor;
    private final SessionGate gate = new SessionGate("ICE", MAX_SESSIONS, MIN_INTERVAL.toNanos());

    private HolePuncher(Host host, List<InetSocketAddress> stunServers, List<TurnServer> turnServers,
            Executor executor) {
        this.host = host;
        this.stunServers = List.copyOf(stunServers);
        this.turnServers = List.copyOf(turnServers);
        this.executor = executor;
    }

    /**
     * Serves {@value #PROTOCOL} on {@code host}, without TURN.
     *
     * @param stunServers where server-reflexive candidates come from
     * @param executor runs the dialling side's sessions (they block on gathering and checks)
     */
    public static HolePuncher attach(Host host, List<InetSocketAddress> stunServers, Executor executor) {
        return attach(host, stunServers, List.of(), executor);
    }

    /**
     * Serves {@value #PROTOCOL} on {@code host}; with TURN servers, relayed candidates join the exchange and a
     * pair through a TURN relay carries the QUIC connection where no direct pair works.
     *
     * @param stunServers where server-reflexive candidates come from
     * @param turnServers where relayed (and server-reflexive) candidates come from
     * @param executor runs the dialling side's sessions (they block on gathering and checks)
     */
    public static HolePuncher attach(Host host, List<InetSocketAddress> stunServers, List<TurnServer> turnServers,
            Executor executor) {
        HolePuncher p = new HolePuncher(host, stunServers, turnServers, executor);
        host.setBlockingHandler(PROTOCOL, p::serve);
        return p;
    }

    /**
     * Punches a direct QUIC path to {@code peer}, over the existing connection to it (controlling side).
     *
     * @return the direct connection; fails if no candidate pair works (e.g. a symmetric NAT) or a bound refuses
     */
    public CompletableFuture<Connection> punch(PeerId peer) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return punchBlocking(peer);
            } catch (IOException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, executor);
    }

    private Connection punchBlocking(PeerId peer) throws IOException {
        Connection via = host.connection(peer).orElseThrow(() -> new IOException("no connection to " + peer
                + " to exchange ICE candidates over"));
        String refused = gate.admit(peer, System.nanoTime());
        if (refused != null) {
            throw new IOException("ICE session with " + peer + " refused: " + refused);
        }
        long t0 = System.nanoTime();
        P2pStream s;
        try {
            // the stream first: a peer that does not speak the protocol costs no candidate gathering
            s = await(via.newStream(List.of(PROTOCOL)), "the ICE stream");
        } catch (IOException e) {
            gate.done(peer);
            throw e;
        }
        IceAgent agent = null;
        TurnBridge bridge = null;
        try {
            agent = new IceAgent(true, stunServers, turnServers);
            deadline(s);
            send(s, agent.offer(IceMessage.Type.OFFER));
            IceMessage answer = receive(s, IceMessage.Type.ANSWER);
            IceAgent.Nominated n = await(agent.connect(answer), "the ICE checks");
            // The peer must not release its ICE socket before the nominating check's response reached us.
            send(s, IceMessage.ready());
            receive(s, IceMessage.Type.READY);
            Multiaddr remote = QuicTransport.toMultiaddr(n.remote())
                    .encapsulate(Multiaddr.parse("/p2p/" + peer.toBase58()));
            Connection c;
            if (n.relayed()) {
                bridge = new TurnBridge(agent.dataSocket(), n.remote()).start();
                c = await(host.quicTransport().dial(remote, bridge.quicSide(), bridge.forwarder())
                        .thenApply(ConnectionPaths::markTurn), "the QUIC dial through TURN");
                closeWith(c, bridge, agent);
            } else {
                agent.close();
                c = await(host.quicTransport().dial(remote, n.local()), "the QUIC dial");
            }
            agent = null;
            bridge = null;
            LOG.info("event=ice_{} peer={} role=controlling local={} remote={} ms={}", n.relayed() ? "turn" : "direct",
                    peer, n.local(), n.remote(), (System.nanoTime() - t0) / 1_000_000);
            return c;
        } catch (IOException e) {
            LOG.info("event=ice_failed peer={} role=controlling reason=\"{}\"", peer, e.getMessage());
            trySend(s, IceMessage.fail(e.getMessage()));
            throw e;
        } finally {
            closeQuietly(bridge, agent);
            gate.done(peer);
            s.close();
        }
    }

    /** The TURN path's bridge and ICE agent live as long as the connection over them. */
    private static void closeWith(Connection c, TurnBridge bridge, IceAgent agent) {
        c.channel().closeFuture().addListener(x -> closeQuietly(bridge, agent));
    }

    private static void closeQuietly(TurnBridge bridge, IceAgent agent) {
        if (bridge != null) {
            bridge.close();
        }
        if (agent != null) {
            agent.close();
        }
    }

    /** The controlled side: answers an OFFER, takes part in the checks, accepts QUIC on the nominated port. */
    private void serve(P2pStream s) throws IOException {
        PeerId peer = s.remotePeer();
        deadline(s);
        String refused = gate.admit(peer, System.nanoTime());
        if (refused != null) {
            try {
                // take the offer off the wire first, so the answer is not lost to a reset of a half-read stream
                LengthPrefixed.read(s.inputStream(), IceCodec.MAX_MESSAGE_SIZE, IceProtocolException::new);
            } catch (IOException e) {
                LOG.debug("event=ice_refused_offer_unread peer={} reason=\"{}\"", peer, e.getMessage());
            }
            trySend(s, IceMessage.fail(refused));
            return;
        }
        long t0 = System.nanoTime();
        try {
            IceMessage offer = receive(s, IceMessage.Type.OFFER);
            IceAgent agent = new IceAgent(false, stunServers, turnServers);
            TurnBridge bridge = null;
            try {
                send(s, agent.offer(IceMessage.Type.ANSWER));
                IceAgent.Nominated n = await(agent.connect(offer), "the ICE checks");
                receive(s, IceMessage.Type.READY);
                CompletableFuture<Connection> accepted;
                if (n.relayed()) {
                    bridge = new TurnBridge(agent.dataSocket(), n.remote()).start();
                    accepted = host.quicTransport().accept(bridge.quicSide(), peer,
                            QuicTransport.toMultiaddr(n.remote())).thenApply(ConnectionPaths::markTurn);
                } else {
                    agent.close();
                    accepted = host.quicTransport().accept(n.local(), peer);
                }
                send(s, IceMessage.ready());
                Connection c = await(accepted, "the QUIC connection on the nominated path");
                if (n.relayed()) {
                    closeWith(c, bridge, agent);
                }
                agent = null;
                bridge = null;
                LOG.info("event=ice_{} peer={} role=controlled local={} remote={} ms={}",
                        n.relayed() ? "turn" : "direct", peer, n.local(), n.remote(), (System.nanoTime() - t0) / 1_000_000);
            } finally {
                closeQuietly(bridge, agent);
            }
        } catch (IOException | RuntimeException e) {
            LOG.info("event=ice_failed peer={} role=controlled reason=\"{}\"", peer, e.toString());
            trySend(s, IceMessage.fail(e.getMessage()));
        } finally {
            gate.done(peer);
        }
    }

    /** Resets the stream when the session's deadline passes, which ends any blocked read. */
    private static void deadline(P2pStream s) {
        Deadlines.resetAfter(s, DEADLINE);
    }

    private static <T> T await(CompletableFuture<T> f, String what) throws IOException {
        return Deadlines.await(f, what, DEADLINE);
    }

    private static void send(P2pStream s, IceMessage m) throws IOException {
        OutputStream out = s.outputStream();
        LengthPrefixed.write(out, IceCodec.encode(m));
        out.flush();
    }

    private static void trySend(P2pStream s, IceMessage m) {
        try {
            send(s, m);
            s.closeWrite();
        } catch (IOException | RuntimeException e) {
            LOG.debug("event=ice_fail_not_sent peer={} reason=\"{}\"", s.remotePeer(), e.toString());
        }
    }

    /** The next message, which must be {@code expected} (a FAIL from the peer becomes an exception). */
    private static IceMessage receive(P2pStream s, IceMessage.Type expected) throws IOException {
        byte[] body = LengthPrefixed.read(s.inputStream(), IceCodec.MAX_MESSAGE_SIZE, IceProtocolException::new);
        if (body == null) {
            throw new IceProtocolException("stream ended before the " + expected);
        }
        IceMessage m = IceCodec.decode(body);
        if (m.type() == IceMessage.Type.FAIL) {
            throw new IOException("peer gave up: " + m.reason());
        }
        if (m.type() != expected) {
            throw new IceProtocolException("expected " + expected + ", got " + m.type());
        }
        return m;
    }
}
