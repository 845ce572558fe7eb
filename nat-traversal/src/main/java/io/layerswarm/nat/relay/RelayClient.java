package io.layerswarm.nat.relay;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.host.Transport;
import io.layerswarm.libp2p.host.UpgradeClosedException;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.multistream.ProtocolNotSupportedException;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Circuit relay v2 client side: keeps reservations on relays so this host is dialable at
 * {@code RELAY-ADDR/p2p/RELAY/p2p-circuit/p2p/SELF} (serving {@code /libp2p/circuit/relay/0.2.0/stop}
 * for relays it holds a reservation with), and, as a {@link Transport} of the host, dials such
 * addresses through the relay's hop protocol. Relayed connections are upgraded by the host like TCP
 * ones and report {@link Connection#isRelayed()}.
 *
 * <pre>{@code
 * RelayClient relays = RelayClient.attach(host);
 * relays.keepReservation(Multiaddr.parse("/ip4/203.0.113.1/tcp/4001/p2p/12D3KooWRelay"));
 * host.connect(Multiaddr.parse("/ip4/203.0.113.1/tcp/4001/p2p/12D3KooWRelay/p2p-circuit/p2p/12D3KooWPeer"));
 * }</pre>
 */
public final class RelayClient implements Transport, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RelayClient.class);
    /** Deadline of each relay message exchange. */
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(30);

    private final Host host;
    private final Clock clock;
    private final ScheduledExecutorService timer;
    private final Map<PeerId, Reservation> reservations = new ConcurrentHashMap<>();
    private final Map<PeerId, Multiaddr> kept = new ConcurrentHashMap<>();
    private final Duration refreshInterval;
    private volatile boolean closed;

    private RelayClient(Host host, Duration refreshInterval, Clock clock) {
        this.host = host;
        this.refreshInterval = refreshInterval;
        this.clock = clock;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "relay-client-" + host.peerId().toBase58().substring(0, 10));
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Serves the stop protocol on {@code host} and registers as its transport for {@code /p2p-circuit}
     * addresses. Kept reservations are refreshed every minute (which also keeps the relay connection
     * from being closed as idle) and before they expire.
     */
    public static RelayClient attach(Host host) {
        return attach(host, Duration.ofMinutes(1), Clock.systemUTC());
    }

    /** As {@link #attach(Host)} with another refresh interval and clock. */
    public static RelayClient attach(Host host, Duration refreshInterval, Clock clock) {
        RelayClient c = new RelayClient(Objects.requireNonNull(host), refreshInterval, clock);
        host.setStreamHandler(RelayService.STOP, c::initStop);
        host.addTransport(c);
        return c;
    }

    /** The host this client serves. */
    public Host host() {
        return host;
    }

    @Override
    public void close() {
        closed = true;
        host.removeHandler(RelayService.STOP);
        timer.shutdownNow();
    }

    // ---- reservations -----------------------------------------------------------------------------

    /**
     * Asks the relay at {@code relayAddr} (ending in {@code /p2p/RELAY}) for a reservation, once.
     * Fails with {@link RelayRefusedException} when the relay answers anything but OK.
     */
    public CompletableFuture<Reservation> reserve(Multiaddr relayAddr) {
        PeerId relay = relayPeer(relayAddr);
        return host.connect(relayAddr).thenCompose(c -> exchange(c, HopMessage.reserve())).thenApply(answer -> {
            if (answer.type() != HopMessage.Type.STATUS || answer.status() != RelayStatus.OK
                    || answer.reservation() == null) {
                throw new RelayRefusedException(answer.status() == null ? RelayStatus.UNEXPECTED_MESSAGE : answer.status(),
                        "relay " + relay + " refused the reservation");
            }
            reservations.put(relay, answer.reservation());
            LOG.info("event=relay_reserved relay={} expire={} addrs={}", relay, answer.reservation().expireEpochSeconds(),
                    answer.reservation().addrs().size());
            return answer.reservation();
        });
    }

    /**
     * Keeps a reservation on the relay: reserves now, refreshes periodically and re-reserves (with
     * back-off) after the relay connection dropped. The returned future completes with the first
     * reservation (or its failure; retrying goes on, except when the peer declines the hop protocol: it
     * runs no relay service and is dropped).
     */
    public CompletableFuture<Reservation> keepReservation(Multiaddr relayAddr) {
        kept.put(relayPeer(relayAddr), relayAddr);
        return refresh(relayAddr, Duration.ofSeconds(1));
    }

    private CompletableFuture<Reservation> refresh(Multiaddr relayAddr, Duration backoff) {
        PeerId relay = relayPeer(relayAddr);
        return reserve(relayAddr).whenComplete((r, e) -> {
            if (closed || !relayAddr.equals(kept.get(relay))) {
                return;
            }
            if (e != null) {
                reservations.remove(relay);
                if (notARelay(e)) {
                    // the peer answered but speaks no hop protocol: asking again cannot succeed
                    kept.remove(relay, relayAddr);
                    LOG.info("event=relay_reservation_dropped relay={} reason=\"peer runs no relay service\"", relay);
                    return;
                }
                Duration next = backoff.multipliedBy(2).compareTo(refreshInterval) > 0 ? refreshInterval : backoff.multipliedBy(2);
                LOG.info("event=relay_reservation_retry relay={} in_ms={} reason=\"{}\"", relay, backoff.toMillis(),
                        e.toString());
                timer.schedule(() -> refresh(relayAddr, next), backoff.toMillis(), TimeUnit.MILLISECONDS);
            } else {
                long untilExpiry = r.expireEpochSeconds() - clock.instant().getEpochSecond();
                long inSeconds = Math.max(1, Math.min(refreshInterval.toSeconds(), untilExpiry / 2));
                timer.schedule(() -> refresh(relayAddr, Duration.ofSeconds(1)), inSeconds, TimeUnit.SECONDS);
            }
        });
    }

    /** Whether {@code e} says the peer refused the hop protocol itself (it is no relay), not a passing failure. */
    private static boolean notARelay(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ProtocolNotSupportedException) {
                return true;
            }
        }
        return false;
    }

    /** Whether a reservation on {@code relay} is still being kept (reserved, or retried after a failure). */
    boolean keeps(PeerId relay) {
        return kept.containsKey(relay);
    }

    /** Stops keeping the reservation on {@code relay} (it lapses at the relay). */
    public void dropReservation(PeerId relay) {
        kept.remove(relay);
        reservations.remove(relay);
    }

    /** Relays holding an unexpired reservation for this host. */
    public List<PeerId> reservedRelays() {
        long now = clock.instant().getEpochSecond();
        return reservations.entrySet().stream().filter(e -> e.getValue().expireEpochSeconds() > now)
                .map(Map.Entry::getKey).toList();
    }

    /** Addresses through which this host is dialable now: {@code RELAY-ADDR/p2p-circuit} per reservation. */
    public List<Multiaddr> relayedAddrs() {
        List<Multiaddr> out = new ArrayList<>();
        long now = clock.instant().getEpochSecond();
        Multiaddr circuit = Multiaddr.parse("/p2p-circuit");
        for (Reservation r : reservations.values()) {
            if (r.expireEpochSeconds() > now) {
                r.addrs().forEach(a -> out.add(a.encapsulate(circuit)));
            }
        }
        return out;
    }

    // ---- dialling (Transport) ---------------------------------------------------------------------

    @Override
    public boolean canDial(Multiaddr addr) {
        return addr.valueOf(MultiaddrProtocol.P2P_CIRCUIT).isPresent();
    }

    /**
     * Dials {@code RELAY-ADDR/p2p/RELAY/p2p-circuit/p2p/TARGET} through the relay's hop protocol. A dial whose
     * connection to the relay, or whose circuit, closed during its upgrade ({@link UpgradeClosedException}: the
     * relay's handshake deadline passed under load, the relay or the target dropped the circuit's stream) is
     * tried once more, as one would redial by hand; a refusal by the relay or the target is not retried.
     */
    @Override
    public CompletableFuture<Connection> dial(Multiaddr addr) {
        Multiaddr relayAddr;
        PeerId target;
        try {
            relayAddr = relayPart(addr);
            target = targetPeer(addr);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Connection> result = new CompletableFuture<>();
        dialOnce(addr, relayAddr, target).whenComplete((c, e) -> {
            if (e == null) {
                result.complete(c);
            } else if (unwrap(e) instanceof UpgradeClosedException && !closed) {
                LOG.info("event=relay_dial_retry dst={} relay={} reason=\"{}\"", target, relayAddr,
                        unwrap(e).toString());
                forward(dialOnce(addr, relayAddr, target), result);
            } else {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    private CompletableFuture<Connection> dialOnce(Multiaddr addr, Multiaddr relayAddr, PeerId target) {
        CompletableFuture<Connection> result = new CompletableFuture<>();
        host.connect(relayAddr).thenCompose(c -> c.newStream(List.of(RelayService.HOP), s ->
                s.channel().pipeline().addLast("relay-hop", new SingleFrameReader(CircuitCodec.MAX_MESSAGE_SIZE,
                        HANDSHAKE_TIMEOUT, new SingleFrameReader.Listener() {
                            @Override
                            public void onFrame(ChannelHandlerContext ctx, byte[] body) throws Exception {
                                HopMessage answer = CircuitCodec.decodeHop(body);
                                if (answer.type() != HopMessage.Type.STATUS || answer.status() != RelayStatus.OK) {
                                    throw new RelayRefusedException(answer.status() == null
                                            ? RelayStatus.UNEXPECTED_MESSAGE : answer.status(),
                                            "relay refused the circuit to " + target);
                                }
                                Multiaddr local = relayAddr.encapsulate(Multiaddr.parse("/p2p-circuit/p2p/"
                                        + host.peerId().toBase58()));
                                LOG.info("event=relay_circuit_dialled dst={} relay={} limit={}", target, relayAddr,
                                        answer.limit());
                                ctx.pipeline().addLast("circuit-eof", new CircuitEndHandler());
                                forward(host.upgrade(ctx.channel(), true, target, local, addr), result);
                            }

                            @Override
                            public void onFailure(Throwable cause) {
                                result.completeExceptionally(cause);
                            }
                        })))).whenComplete((s, e) -> {
                            if (e != null) {
                                result.completeExceptionally(e);
                            } else {
                                CircuitFrames.write(s.channel(), HopMessage.connect(new RelayPeer(target, List.of())));
                            }
                        });
        return result;
    }

    // ---- incoming circuits (stop) -----------------------------------------------------------------

    private void initStop(P2pStream s) {
        s.channel().pipeline().addLast("relay-stop", new SingleFrameReader(CircuitCodec.MAX_MESSAGE_SIZE,
                HANDSHAKE_TIMEOUT, new SingleFrameReader.Listener() {
                    @Override
                    public void onFrame(ChannelHandlerContext ctx, byte[] body) {
                        onStop(s, ctx.channel(), body);
                    }

                    @Override
                    public void onFailure(Throwable cause) {
                        LOG.debug("event=relay_stop_failed relay={} reason=\"{}\"", s.remotePeer(), cause.toString());
                    }
                }));
    }

    private void onStop(P2pStream s, Channel ch, byte[] body) {
        PeerId relay = s.remotePeer();
        StopMessage m;
        try {
            m = CircuitCodec.decodeStop(body);
        } catch (CircuitProtocolException e) {
            LOG.info("event=relay_malformed_message relay={} reason=\"{}\"", relay, e.getMessage());
            CircuitFrames.write(ch, StopMessage.status(RelayStatus.MALFORMED_MESSAGE)).addListener(f -> ch.close());
            return;
        }
        if (m.type() != StopMessage.Type.CONNECT) {
            CircuitFrames.write(ch, StopMessage.status(RelayStatus.UNEXPECTED_MESSAGE)).addListener(f -> ch.close());
            return;
        }
        if (!reservations.containsKey(relay) || s.connection().isRelayed()) {
            // Only relays we chose may bring us connections; anyone else could use us to probe peers.
            LOG.info("event=relay_circuit_refused relay={} src={} reason=no_reservation", relay, m.peer().id());
            CircuitFrames.write(ch, StopMessage.status(RelayStatus.PERMISSION_DENIED)).addListener(f -> ch.close());
            return;
        }
        PeerId source = m.peer().id();
        Multiaddr relayAddr = s.connection().remoteAddr().encapsulate(Multiaddr.parse("/p2p/" + relay.toBase58()));
        Multiaddr remote = relayAddr.encapsulate(Multiaddr.parse("/p2p-circuit/p2p/" + source.toBase58()));
        Multiaddr local = relayAddr.encapsulate(Multiaddr.parse("/p2p-circuit/p2p/" + host.peerId().toBase58()));
        CircuitFrames.write(ch, StopMessage.status(RelayStatus.OK));
        LOG.info("event=relay_circuit_accepted src={} relay={} limit={}", source, relay, m.limit());
        ch.pipeline().addLast("circuit-eof", new CircuitEndHandler());
        host.upgrade(ch, false, source, local, remote).whenComplete((c, e) -> {
            if (e != null) {
                LOG.info("event=relay_upgrade_failed src={} relay={} reason=\"{}\"", source, relay, e.toString());
            }
        });
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private CompletableFuture<HopMessage> exchange(Connection c, HopMessage request) {
        CompletableFuture<HopMessage> answer = new CompletableFuture<>();
        c.newStream(List.of(RelayService.HOP), s -> s.channel().pipeline().addLast("relay-hop",
                new SingleFrameReader(CircuitCodec.MAX_MESSAGE_SIZE, HANDSHAKE_TIMEOUT, new SingleFrameReader.Listener() {
                    @Override
                    public void onFrame(ChannelHandlerContext ctx, byte[] body) throws Exception {
                        answer.complete(CircuitCodec.decodeHop(body));
                        ctx.close();
                    }

                    @Override
                    public void onFailure(Throwable cause) {
                        answer.completeExceptionally(cause);
                    }
                }))).whenComplete((s, e) -> {
                    if (e != null) {
                        answer.completeExceptionally(e);
                    } else {
                        CircuitFrames.write(s.channel(), request);
                    }
                });
        return answer;
    }

    private static <T> void forward(CompletableFuture<T> from, CompletableFuture<T> to) {
        from.whenComplete((v, e) -> {
            if (e != null) {
                to.completeExceptionally(e);
            } else {
                to.complete(v);
            }
        });
    }

    private static PeerId relayPeer(Multiaddr relayAddr) {
        return relayAddr.valueOf(MultiaddrProtocol.P2P).map(PeerId::parse)
                .orElseThrow(() -> new IllegalArgumentException("relay address needs /p2p/RELAY-ID: " + relayAddr));
    }

    /** The part of a circuit address before {@code /p2p-circuit}; must name the relay with /p2p. */
    static Multiaddr relayPart(Multiaddr circuit) {
        List<Multiaddr.Component> before = new ArrayList<>();
        for (Multiaddr.Component c : circuit.components()) {
            if (c.protocol() == MultiaddrProtocol.P2P_CIRCUIT) {
                Multiaddr relay = Multiaddr.of(before);
                relayPeer(relay);
                return relay;
            }
            before.add(c);
        }
        throw new IllegalArgumentException("not a circuit address: " + circuit);
    }

    /** The {@code /p2p/TARGET} after {@code /p2p-circuit}. */
    static PeerId targetPeer(Multiaddr circuit) {
        boolean after = false;
        PeerId target = null;
        for (Multiaddr.Component c : circuit.components()) {
            if (c.protocol() == MultiaddrProtocol.P2P_CIRCUIT) {
                if (after) {
                    throw new IllegalArgumentException("nested circuits are not supported: " + circuit);
                }
                after = true;
            } else if (after && c.protocol() == MultiaddrProtocol.P2P) {
                target = PeerId.parse(c.valueText());
            }
        }
        if (target == null) {
            throw new IllegalArgumentException("circuit address without /p2p/TARGET after /p2p-circuit: " + circuit);
        }
        return target;
    }

    /** A relay answered a request with a status other than OK. */
    public static final class RelayRefusedException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final RelayStatus status;

        RelayRefusedException(RelayStatus status, String message) {
            super(message + ": " + status);
            this.status = status;
        }

        /** The relay's status. */
        public RelayStatus status() {
            return status;
        }
    }
}
