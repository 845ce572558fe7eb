package io.layerswarm.nat.dcutr;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.nat.path.ConnectionPaths;
import io.layerswarm.nat.punch.Deadlines;
import io.layerswarm.nat.punch.SessionGate;
import java.io.IOException;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libp2p's Direct Connection Upgrade through Relay ({@value #PROTOCOL}, libp2p/specs relay/DCUtR.md), both roles.
 * The peer that accepted a relayed connection starts ({@link #upgrade}): over that connection it sends CONNECT
 * with its addresses, times the peer's CONNECT answer (the relayed round trip), sends SYNC, waits half that round
 * trip and dials the peer's addresses; the peer ({@link #serve}) dials the starter's addresses as soon as SYNC
 * arrives, so both dials cross. Up to {@value #MAX_ROUNDS} rounds on one stream. Whichever dial gets through, the
 * direct connection joins the host, which prefers it to the relayed one and drops that when idle (as after ICE).
 *
 * <p>Each side dials every address of the peer twice: the host's ordinary dial (TCP, or QUIC where the host has
 * QUIC), which gets through where there is no NAT in the way or it admits the dial, and a TCP dial from the
 * session's own punch port, which CONNECT names with each of our IPs (a port-preserving NAT keeps it as the public
 * port). Through two NATs that drop unsolicited SYNs, the two punch dials meet in a TCP simultaneous open: one
 * connection that both sides dialled, whose handshake the responder leads (as js-libp2p's starter answers).
 *
 * <p>Bounds: messages ({@link DcutrCodec}), addresses dialled per round ({@value #MAX_DIALS}, IP literals of the
 * peer only, so a CONNECT cannot make this node resolve names), sessions per node and per peer
 * ({@link SessionGate}); every session has a deadline.
 */
public final class Dcutr {
    private static final Logger LOG = LoggerFactory.getLogger(Dcutr.class);

    /** The protocol id. */
    public static final String PROTOCOL = "/libp2p/dcutr";
    /** CONNECT/SYNC rounds on one stream before the starter gives up (the spec's three attempts). */
    public static final int MAX_ROUNDS = 3;
    /** Most addresses of the peer dialled in one round. */
    public static final int MAX_DIALS = 8;
    /** Most DCUtR sessions running at once on a node. */
    public static final int MAX_SESSIONS = 4;
    /** Least time between two sessions with one peer. */
    public static final Duration MIN_INTERVAL = Duration.ofSeconds(2);
    /** How long one round waits for a direct connection after the dials started (js-libp2p's and go's 5 s). */
    public static final Duration ROUND_DEADLINE = Duration.ofSeconds(5);
    /** Default deadline of a whole session, all rounds. */
    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(20);

    private final Host host;
    private final Supplier<List<Multiaddr>> ownAddrs;
    private final Executor executor;
    private final Duration deadline;
    private final SessionGate gate = new SessionGate("DCUtR", MAX_SESSIONS, MIN_INTERVAL.toNanos());
    /** Per peer in a session: completed by the first direct connection to it, whoever dialled. */
    private final Map<PeerId, CompletableFuture<Connection>> awaitingDirect = new ConcurrentHashMap<>();

    private Dcutr(Host host, Supplier<List<Multiaddr>> ownAddrs, Executor executor, Duration deadline) {
        this.host = host;
        this.ownAddrs = ownAddrs;
        this.executor = executor;
        this.deadline = deadline;
    }

    /**
     * Serves {@value #PROTOCOL} on {@code host}, with the {@link #DEFAULT_DEADLINE}.
     *
     * @param ownAddrs the addresses to send in CONNECT (observed by peers, confirmed, listened on; relay circuits
     *     are left out)
     * @param executor runs the starting side's sessions (they block on the exchange and the dials)
     */
    public static Dcutr attach(Host host, Supplier<List<Multiaddr>> ownAddrs, Executor executor) {
        return attach(host, ownAddrs, executor, DEFAULT_DEADLINE);
    }

    /**
     * Serves {@value #PROTOCOL} on {@code host}.
     *
     * @param ownAddrs the addresses to send in CONNECT
     * @param executor runs the starting side's sessions
     * @param deadline of a whole session, from the stream's opening to the direct connection
     */
    public static Dcutr attach(Host host, Supplier<List<Multiaddr>> ownAddrs, Executor executor, Duration deadline) {
        Dcutr d = new Dcutr(host, ownAddrs, executor, deadline);
        host.setBlockingHandler(PROTOCOL, d::serve);
        host.addConnectionListener(new ConnectionListener() {
            @Override
            public void connected(Connection c) {
                if (c.isRelayed() || !d.gate.isRunning(c.remotePeer())) {
                    return;
                }
                // before the path log's ping returns: the line then says how the connection came about
                ConnectionPaths.markMethod(c, "dcutr");
                CompletableFuture<Connection> waiting = d.awaitingDirect.get(c.remotePeer());
                if (waiting != null) {
                    waiting.complete(c);
                }
            }
        });
        return d;
    }

    /**
     * Upgrades the relayed connection to {@code peer} to a direct one (the starting side, which the spec gives to
     * the peer that accepted the relayed connection).
     *
     * @return the direct connection (at once if there already is one); fails after {@value #MAX_ROUNDS} rounds
     *     without one, on a protocol error or at the deadline
     */
    public CompletableFuture<Connection> upgrade(PeerId peer) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return upgradeBlocking(peer);
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, executor);
    }

    private Connection upgradeBlocking(PeerId peer) throws IOException {
        Connection via = host.connection(peer).orElseThrow(() -> new IOException("no connection to " + peer
                + " to run DCUtR over"));
        if (!via.isRelayed()) {
            return via;
        }
        String refused = gate.admit(peer, System.nanoTime());
        if (refused != null) {
            throw new IOException("DCUtR with " + peer + " refused: " + refused);
        }
        Session session = new Session(peer, true, via.channel().eventLoop());
        P2pStream s = null;
        try {
            s = Deadlines.await(via.newStream(List.of(PROTOCOL)), "the DCUtR stream", deadline);
            Deadlines.resetAfter(s, session.left());
            IOException last = null;
            for (int round = 1; round <= MAX_ROUNDS; round++) {
                long sent = System.nanoTime();
                send(s, HolePunch.connect(session.advertised()));
                HolePunch answer = session.receive(s, HolePunch.Type.CONNECT, "the CONNECT answer");
                long rttNanos = System.nanoTime() - sent;
                List<Multiaddr> targets = dialable(answer.addrs(), peer);
                send(s, HolePunch.sync());
                // the peer dials when SYNC arrives, half a round trip from now: dial then too
                sleep(rttNanos / 2);
                try {
                    Connection c = session.dial(targets);
                    LOG.info("event=dcutr_direct peer={} role=initiator round={} relay_rtt_ms={} ms={} remote={}", peer,
                            round, rttNanos / 1_000_000, session.elapsedMillis(), c.remoteAddr());
                    s.closeWrite();
                    return c;
                } catch (IOException e) {
                    last = e;
                    LOG.info("event=dcutr_round_failed peer={} role=initiator round={} reason=\"{}\"", peer, round,
                            e.getMessage());
                }
            }
            throw new IOException("no direct connection to " + peer + " after " + MAX_ROUNDS + " DCUtR rounds: "
                    + last.getMessage(), last);
        } catch (IOException | RuntimeException e) {
            LOG.info("event=dcutr_failed peer={} role=initiator reason=\"{}\"", peer, e.getMessage());
            if (s != null) {
                s.reset();
            }
            throw e;
        } finally {
            session.end();
            if (s != null) {
                s.close();
            }
        }
    }

    /** The answering side: CONNECT for CONNECT, then a dial as soon as SYNC arrives, each round. */
    private void serve(P2pStream s) {
        PeerId peer = s.remotePeer();
        if (!s.connection().isRelayed() || directConnection(peer).isPresent()) {
            LOG.debug("event=dcutr_not_needed peer={} reason=\"already direct\"", peer);
            s.reset();
            return;
        }
        String refused = gate.admit(peer, System.nanoTime());
        if (refused != null) {
            LOG.info("event=dcutr_refused peer={} reason=\"{}\"", peer, refused);
            s.reset();
            return;
        }
        Session session = new Session(peer, false, s.channel().eventLoop());
        Deadlines.resetAfter(s, session.left());
        try {
            for (int round = 1; round <= MAX_ROUNDS; round++) {
                HolePunch connect = session.receiveOrEnd(s, "a CONNECT");
                if (connect == null) {
                    return; // the starter is done (direct, or given up)
                }
                List<Multiaddr> targets = dialable(connect.addrs(), peer);
                send(s, HolePunch.connect(session.advertised()));
                session.receive(s, HolePunch.Type.SYNC, "the SYNC");
                try {
                    Connection c = session.dial(targets);
                    LOG.info("event=dcutr_direct peer={} role=responder round={} ms={} remote={}", peer, round,
                            session.elapsedMillis(), c.remoteAddr());
                    return;
                } catch (IOException e) {
                    LOG.info("event=dcutr_round_failed peer={} role=responder round={} reason=\"{}\"", peer, round,
                            e.getMessage());
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.info("event=dcutr_failed peer={} role=responder reason=\"{}\"", peer, e.getMessage());
            s.reset();
        } finally {
            session.end();
        }
    }

    /** The peer's addresses this node dials, each with the peer's id (so the handshake checks who answers). */
    List<Multiaddr> dialable(List<Multiaddr> addrs, PeerId peer) {
        Set<Multiaddr> out = new LinkedHashSet<>();
        Multiaddr id = Multiaddr.parse("/p2p/" + peer.toBase58());
        for (Multiaddr a : addrs) {
            if (out.size() == MAX_DIALS) {
                break;
            }
            Optional<String> named = a.valueOf(MultiaddrProtocol.P2P);
            if (named.isPresent() && !named.get().equals(peer.toBase58())) {
                continue;
            }
            Multiaddr plain = a.withoutPeerId();
            if (isDirectIpAddr(plain)) {
                out.add(plain.encapsulate(id));
            }
        }
        return List.copyOf(out);
    }

    /** {@code /ip4|ip6/LITERAL/tcp/PORT}, or {@code .../udp/PORT/quic-v1} if the host has QUIC; not unspecified. */
    private boolean isDirectIpAddr(Multiaddr a) {
        List<Multiaddr.Component> cs = a.components();
        if (cs.size() < 2 || (cs.get(0).protocol() != MultiaddrProtocol.IP4 && cs.get(0).protocol() != MultiaddrProtocol.IP6)) {
            return false;
        }
        boolean tcp = cs.size() == 2 && cs.get(1).protocol() == MultiaddrProtocol.TCP;
        boolean quic = cs.size() == 3 && cs.get(1).protocol() == MultiaddrProtocol.UDP
                && cs.get(2).protocol() == MultiaddrProtocol.QUIC_V1;
        if (!tcp && !quic || Integer.parseInt(cs.get(1).valueText()) == 0) {
            return false;
        }
        try {
            InetAddress ip = InetAddress.getByAddress(cs.get(0).value());
            if (ip.isAnyLocalAddress() || ip.isMulticastAddress()) {
                return false;
            }
        } catch (UnknownHostException e) {
            return false;
        }
        return tcp || quicAvailable();
    }

    private boolean quicAvailable() {
        try {
            host.quicTransport();
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private Optional<Connection> directConnection(PeerId peer) {
        return host.connection(peer).filter(c -> !c.isRelayed());
    }

    /** A TCP port free right now (bound and released, never listened on), or 0. */
    private static int freePort() {
        try (java.net.Socket probe = new java.net.Socket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(0));
            return probe.getLocalPort();
        } catch (IOException e) {
            LOG.debug("event=dcutr_no_punch_port reason=\"{}\"", e.toString());
            return 0;
        }
    }

    private static void sleep(long nanos) throws IOException {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted before the DCUtR dial", e);
        }
    }

    private static void send(P2pStream s, HolePunch m) throws IOException {
        OutputStream out = s.outputStream();
        LengthPrefixed.write(out, DcutrCodec.encode(m));
        out.flush();
    }

    /** One session with a peer: its deadline, and the direct connection awaited from either side's dial. */
    private final class Session {
        private final PeerId peer;
        private final boolean starter;
        private final long startNanos = System.nanoTime();
        /** The local TCP port of this session's punch dials, named in our CONNECT (0: none free). */
        private final int punchPort = freePort();

        /** Runs the punch dials: the relayed connection's event loop (a few short-lived channels). */
        private final EventLoop loop;

        Session(PeerId peer, boolean starter, EventLoop loop) {
            this.peer = peer;
            this.starter = starter;
            this.loop = loop;
        }

        /**
         * Our addresses for CONNECT: first each of our IPs with this session's punch port (a port-preserving NAT
         * maps it to the same public port, where the peer's dial meets ours), then the given ones; no relay
         * circuits (the point is to get off them), no peer id, bounded.
         */
        List<Multiaddr> advertised() {
            List<Multiaddr> own = new ArrayList<>();
            for (Multiaddr a : ownAddrs.get()) {
                if (a.valueOf(MultiaddrProtocol.P2P_CIRCUIT).isEmpty()) {
                    own.add(a.withoutPeerId());
                }
            }
            Set<Multiaddr> out = new LinkedHashSet<>();
            if (punchPort > 0) {
                for (Multiaddr a : own) {
                    Multiaddr.Component ip = a.components().get(0);
                    if (ip.protocol() == MultiaddrProtocol.IP4 || ip.protocol() == MultiaddrProtocol.IP6) {
                        out.add(Multiaddr.of(List.of(ip, new Multiaddr.Component(MultiaddrProtocol.TCP,
                                new byte[] {(byte) (punchPort >> 8), (byte) punchPort}))));
                    }
                }
            }
            out.addAll(own);
            return out.stream().limit(DcutrCodec.MAX_ADDRS).toList();
        }

        Duration left() {
            return deadline.minusNanos(System.nanoTime() - startNanos);
        }

        long elapsedMillis() {
            return (System.nanoTime() - startNanos) / 1_000_000;
        }

        boolean expired() {
            return left().isNegative() || left().isZero();
        }

        /** The next message, which must be {@code expected}. */
        HolePunch receive(P2pStream s, HolePunch.Type expected, String what) throws IOException {
            HolePunch m = receiveOrEnd(s, what);
            if (m == null) {
                throw new DcutrProtocolException("stream ended before " + what);
            }
            if (m.type() != expected) {
                throw new DcutrProtocolException("expected " + expected + ", got " + m.type());
            }
            return m;
        }

        /** The next message, or null if the stream ended cleanly before one. */
        HolePunch receiveOrEnd(P2pStream s, String what) throws IOException {
            byte[] body;
            try {
                body = LengthPrefixed.read(s.inputStream(), DcutrCodec.MAX_MESSAGE_SIZE, DcutrProtocolException::new);
            } catch (DcutrProtocolException e) {
                throw e;
            } catch (IOException e) {
                if (expired()) {
                    // the deadline reset the stream: say so rather than "stream reset"
                    throw new IOException(what + " from " + peer + " did not come within the DCUtR deadline of "
                            + deadline, e);
                }
                throw e;
            }
            return body == null ? null : DcutrCodec.decode(body);
        }

        /**
         * Dials {@code targets} at once; the first direct connection to the peer, from these dials or from the
         * peer's dial to us (which may get through where ours do not), ends the round. Without one the round
         * ends after {@link #ROUND_DEADLINE} (or at the session's deadline).
         */
        Connection dial(List<Multiaddr> targets) throws IOException {
            CompletableFuture<Connection> direct = new CompletableFuture<>();
            awaitingDirect.put(peer, direct);
            List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            try {
                directConnection(peer).ifPresent(direct::complete);
                for (Multiaddr t : targets) {
                    punchDial(t, direct, failures);
                    host.connect(t).whenComplete((c, e) -> {
                        if (c != null && !c.isRelayed()) {
                            direct.complete(c);
                        } else if (e != null) {
                            failures.add(t + ": " + (e instanceof CompletionException && e.getCause() != null
                                    ? e.getCause() : e).getMessage());
                        }
                    });
                }
                Duration wait = left().compareTo(ROUND_DEADLINE) < 0 ? left() : ROUND_DEADLINE;
                Connection c;
                try {
                    c = Deadlines.await(direct, "a direct connection", wait);
                } catch (IOException e) {
                    throw new IOException("no direct connection to " + peer + " within " + wait + (targets.isEmpty()
                            ? " (it sent no address we dial: TCP or QUIC at an IP literal)" : "; our dials: "
                            + failures), e);
                }
                return directConnection(peer).orElse(c);
            } finally {
                awaitingDirect.remove(peer, direct);
            }
        }

        /**
         * A TCP dial from this session's punch port: through two NATs it meets the peer's dial from its punch port
         * in a simultaneous open, one connection where both sides dialled, so the roles of its handshake are
         * agreed: the responder's side proposes (initiator), the starter's answers (js-libp2p's choice too). The
         * starter leaves out the peer's advertised (listen) addresses: a listener there answers, as we would.
         */
        private void punchDial(Multiaddr target, CompletableFuture<Connection> direct, List<String> failures) {
            Multiaddr plain = target.withoutPeerId();
            if (punchPort == 0 || plain.valueOf(MultiaddrProtocol.TCP).isEmpty()
                    || starter && host.peerStore().addrs(peer).contains(plain)) {
                return;
            }
            Multiaddr local = Multiaddr.parse("/ip4/0.0.0.0/tcp/" + punchPort);
            new Bootstrap().group(loop).channel(NioSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) ROUND_DEADLINE.toMillis())
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            host.upgrade(ch, !starter, peer, local, plain).whenComplete((c, e) -> {
                                if (c != null && c.remotePeer().equals(peer)) {
                                    direct.complete(c);
                                } else if (c != null) {
                                    c.close();
                                } else {
                                    failures.add("punch " + plain + ": " + e.getMessage());
                                }
                            });
                        }
                    }).connect(plain.socketAddress(MultiaddrProtocol.TCP), new InetSocketAddress(punchPort))
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            failures.add("punch " + plain + ": " + f.cause().getMessage());
                        }
                    });
        }

        void end() {
            gate.done(peer);
        }
    }
}
