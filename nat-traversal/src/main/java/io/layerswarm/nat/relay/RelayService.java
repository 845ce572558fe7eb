package io.layerswarm.nat.relay;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.mux.MuxedStream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Circuit relay v2 relay side ({@code /libp2p/circuit/relay/0.2.0/hop}): grants reservations to peers
 * connected directly to this host and splices a source's hop stream to a reserved target's
 * {@code /stop} stream, within {@link RelayConfig}'s limits (reservation count overall and per IP,
 * circuits overall and per peer, per-circuit duration and bytes per direction).
 *
 * <pre>{@code
 * RelayService relay = RelayService.attach(host, RelayConfig.defaults());
 * }</pre>
 */
public final class RelayService implements AutoCloseable {
    /** The hop protocol (clients talk to the relay). */
    public static final String HOP = "/libp2p/circuit/relay/0.2.0/hop";
    /** The stop protocol (the relay talks to the target). */
    public static final String STOP = "/libp2p/circuit/relay/0.2.0/stop";

    private static final Logger LOG = LoggerFactory.getLogger(RelayService.class);

    private final Host host;
    private final RelayConfig config;
    private final Clock clock;
    private final Map<PeerId, Held> reservations = new HashMap<>();
    private final Map<PeerId, Integer> circuitsPerPeer = new HashMap<>();
    private int circuits;
    private final LongAdder relayedBytes = new LongAdder();

    private record Held(long expireEpochSeconds, String ip) {
    }

    private RelayService(Host host, RelayConfig config, Clock clock) {
        this.host = host;
        this.config = config;
        this.clock = clock;
    }

    /** Serves the hop protocol on {@code host} with {@code config}. */
    public static RelayService attach(Host host, RelayConfig config) {
        return attach(host, config, Clock.systemUTC());
    }

    /** As {@link #attach(Host, RelayConfig)}, with the clock that reservations expire by. */
    public static RelayService attach(Host host, RelayConfig config, Clock clock) {
        RelayService s = new RelayService(Objects.requireNonNull(host), Objects.requireNonNull(config), clock);
        host.addConnectionListener(new ConnectionListener() {
            @Override
            public void disconnected(Connection c) {
                // A reservation lasts only as long as the reserving peer stays connected.
                if (host.connection(c.remotePeer()).isEmpty()) {
                    s.drop(c.remotePeer());
                }
            }
        });
        host.setStreamHandler(HOP, s::initHop);
        return s;
    }

    /** Stops serving the hop protocol (open circuits run until their limits). */
    @Override
    public void close() {
        host.removeHandler(HOP);
    }

    /** Peers holding an unexpired reservation. */
    public synchronized List<PeerId> reservedPeers() {
        long now = clock.instant().getEpochSecond();
        return reservations.entrySet().stream().filter(e -> e.getValue().expireEpochSeconds() > now)
                .map(Map.Entry::getKey).toList();
    }

    /** Circuits open now. */
    public synchronized int openCircuits() {
        return circuits;
    }

    /** Bytes forwarded over circuits so far, both directions, since {@link #attach}: what relaying costs. */
    public long relayedBytes() {
        return relayedBytes.sum();
    }

    private synchronized void drop(PeerId peer) {
        if (reservations.remove(peer) != null) {
            LOG.debug("event=relay_reservation_dropped peer={} reason=disconnected", peer);
        }
    }

    private void initHop(P2pStream s) {
        s.channel().pipeline().addLast("relay-hop", new SingleFrameReader(CircuitCodec.MAX_MESSAGE_SIZE,
                config.handshakeTimeout(), new SingleFrameReader.Listener() {
                    @Override
                    public void onFrame(ChannelHandlerContext ctx, byte[] body) {
                        onHop(s, body);
                    }

                    @Override
                    public void onFailure(Throwable cause) {
                        LOG.debug("event=relay_hop_failed peer={} reason=\"{}\"", s.remotePeer(), cause.toString());
                    }
                }));
    }

    private void onHop(P2pStream s, byte[] body) {
        HopMessage m;
        try {
            m = CircuitCodec.decodeHop(body);
        } catch (CircuitProtocolException e) {
            LOG.info("event=relay_malformed_message peer={} reason=\"{}\"", s.remotePeer(), e.getMessage());
            respondAndClose(s.channel(), HopMessage.status(RelayStatus.MALFORMED_MESSAGE, null));
            return;
        }
        switch (m.type()) {
            case RESERVE -> reserve(s);
            case CONNECT -> connect(s, m.peer().id());
            default -> respondAndClose(s.channel(), HopMessage.status(RelayStatus.UNEXPECTED_MESSAGE, null));
        }
    }

    private void reserve(P2pStream s) {
        Connection c = s.connection();
        PeerId peer = c.remotePeer();
        if (c.isRelayed()) {
            respondAndClose(s.channel(), HopMessage.status(RelayStatus.PERMISSION_DENIED, null));
            return;
        }
        String ip = c.remoteAddr().valueOf(MultiaddrProtocol.IP4)
                .or(() -> c.remoteAddr().valueOf(MultiaddrProtocol.IP6)).orElse("?");
        long expire = clock.instant().getEpochSecond() + config.reservationTtl().toSeconds();
        RelayStatus refused = admitReservation(peer, ip, expire);
        if (refused != null) {
            LOG.info("event=relay_reservation_refused peer={} ip={} status={}", peer, ip, refused);
            respondAndClose(s.channel(), HopMessage.status(refused, null));
            return;
        }
        List<Multiaddr> addrs = new ArrayList<>();
        Multiaddr self = Multiaddr.parse("/p2p/" + host.peerId().toBase58());
        for (Multiaddr a : host.listenAddrs()) {
            addrs.add(a.encapsulate(self));
        }
        Reservation r = new Reservation(expire, addrs, CircuitCodec.voucher(host.identity(), peer, expire));
        LOG.info("event=relay_reservation_granted peer={} ip={} expire={}", peer, ip, expire);
        respondAndClose(s.channel(), new HopMessage(HopMessage.Type.STATUS, null, r, config.circuitLimit(),
                RelayStatus.OK));
    }

    private synchronized RelayStatus admitReservation(PeerId peer, String ip, long expire) {
        long now = clock.instant().getEpochSecond();
        reservations.values().removeIf(h -> h.expireEpochSeconds() <= now);
        if (!reservations.containsKey(peer)) {
            if (reservations.size() >= config.maxReservations()) {
                return RelayStatus.RESERVATION_REFUSED;
            }
            long sameIp = reservations.values().stream().filter(h -> h.ip().equals(ip)).count();
            if (sameIp >= config.maxReservationsPerIp()) {
                return RelayStatus.RESOURCE_LIMIT_EXCEEDED;
            }
        }
        reservations.put(peer, new Held(expire, ip));
        return null;
    }

    private void connect(P2pStream src, PeerId target) {
        PeerId source = src.remotePeer();
        if (src.connection().isRelayed()) {
            respondAndClose(src.channel(), HopMessage.status(RelayStatus.PERMISSION_DENIED, null));
            return;
        }
        Optional<Connection> targetConn = host.connection(target);
        RelayStatus refused = admitCircuit(source, target, targetConn.isPresent());
        if (refused != null) {
            LOG.info("event=relay_circuit_refused src={} dst={} status={}", source, target, refused);
            respondAndClose(src.channel(), HopMessage.status(refused, null));
            return;
        }
        Channel in = src.channel();
        in.closeFuture().addListener(f -> releaseCircuit(source, target));
        // Hold the source's bytes until the target accepted: they belong to the relayed connection.
        in.config().setAutoRead(false);
        RelayPipe fromSource = new RelayPipe(config.circuitLimit().dataBytes(), n -> limitHit(in, source, target, n),
                relayedBytes);
        in.pipeline().addLast("relay-pipe", fromSource);
        RelayLimit limit = config.circuitLimit();
        targetConn.get().newStream(List.of(STOP), stop -> {
            Channel out = stop.channel();
            RelayPipe fromTarget = new RelayPipe(limit.dataBytes(), n -> limitHit(out, source, target, n),
                    relayedBytes);
            out.pipeline().addLast("relay-stop", new SingleFrameReader(CircuitCodec.MAX_MESSAGE_SIZE,
                    config.handshakeTimeout(), new SingleFrameReader.Listener() {
                        @Override
                        public void onFrame(ChannelHandlerContext ctx, byte[] body) throws Exception {
                            StopMessage answer = CircuitCodec.decodeStop(body);
                            if (answer.type() != StopMessage.Type.STATUS || answer.status() != RelayStatus.OK) {
                                throw new CircuitProtocolException("target answered " + answer.type() + " "
                                        + answer.status());
                            }
                            splice(in, fromSource, out, fromTarget, source, target);
                        }

                        @Override
                        public void onFailure(Throwable cause) {
                            LOG.info("event=relay_circuit_failed src={} dst={} reason=\"{}\"", source, target,
                                    cause.toString());
                            respondAndClose(in, HopMessage.status(RelayStatus.CONNECTION_FAILED, null));
                        }
                    }));
            out.pipeline().addLast("relay-pipe", fromTarget);
        }).whenComplete((stop, e) -> {
            if (e != null) {
                LOG.info("event=relay_circuit_failed src={} dst={} reason=\"{}\"", source, target, e.toString());
                respondAndClose(in, HopMessage.status(RelayStatus.CONNECTION_FAILED, null));
            } else {
                CircuitFrames.write(stop.channel(), StopMessage.connect(new RelayPeer(source, List.of()), limit));
            }
        });
    }

    private void splice(Channel in, RelayPipe fromSource, Channel out, RelayPipe fromTarget, PeerId source,
            PeerId target) {
        RelayLimit limit = config.circuitLimit();
        CircuitFrames.write(in, HopMessage.status(RelayStatus.OK, limit));
        in.eventLoop().execute(() -> fromSource.start(out));
        out.eventLoop().execute(() -> fromTarget.start(in));
        out.closeFuture().addListener(f -> MuxedStream.of(in).reset());
        in.closeFuture().addListener(f -> {
            MuxedStream.of(out).reset();
            LOG.info("event=relay_circuit_closed src={} dst={} bytes_from_src={} bytes_from_dst={}", source, target,
                    fromSource.forwarded(), fromTarget.forwarded());
        });
        if (limit.durationSeconds() > 0) {
            in.eventLoop().schedule(() -> {
                if (in.isActive()) {
                    LOG.info("event=relay_circuit_limit src={} dst={} limit=duration seconds={}", source, target,
                            limit.durationSeconds());
                    MuxedStream.of(in).reset();
                    MuxedStream.of(out).reset();
                }
            }, limit.durationSeconds(), TimeUnit.SECONDS);
        }
        LOG.info("event=relay_circuit_opened src={} dst={} limit_seconds={} limit_bytes={}", source, target,
                limit.durationSeconds(), limit.dataBytes());
    }

    private void limitHit(Channel ch, PeerId source, PeerId target, long forwarded) {
        LOG.info("event=relay_circuit_limit src={} dst={} limit=data bytes={}", source, target, forwarded);
        MuxedStream.of(ch).reset();
    }

    private synchronized RelayStatus admitCircuit(PeerId source, PeerId target, boolean targetConnected) {
        long now = clock.instant().getEpochSecond();
        Held h = reservations.get(target);
        if (h == null || h.expireEpochSeconds() <= now) {
            return RelayStatus.NO_RESERVATION;
        }
        if (!targetConnected) {
            return RelayStatus.CONNECTION_FAILED;
        }
        if (circuits >= config.maxCircuits()
                || circuitsPerPeer.getOrDefault(source, 0) >= config.maxCircuitsPerPeer()
                || circuitsPerPeer.getOrDefault(target, 0) >= config.maxCircuitsPerPeer()) {
            return RelayStatus.RESOURCE_LIMIT_EXCEEDED;
        }
        circuits++;
        circuitsPerPeer.merge(source, 1, Integer::sum);
        circuitsPerPeer.merge(target, 1, Integer::sum);
        return null;
    }

    private synchronized void releaseCircuit(PeerId source, PeerId target) {
        circuits--;
        circuitsPerPeer.computeIfPresent(source, (p, n) -> n > 1 ? n - 1 : null);
        circuitsPerPeer.computeIfPresent(target, (p, n) -> n > 1 ? n - 1 : null);
    }

    private static void respondAndClose(Channel ch, HopMessage m) {
        CircuitFrames.write(ch, m).addListener(ChannelFutureListener.CLOSE);
    }
}
