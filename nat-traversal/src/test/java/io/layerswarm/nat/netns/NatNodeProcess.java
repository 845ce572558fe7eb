package io.layerswarm.nat.netns;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.ping.Ping;
import io.layerswarm.nat.HostContext;
import io.layerswarm.nat.NatTraversalService;
import io.layerswarm.nat.autonat.AutoNatService;
import io.layerswarm.nat.autonat.Reachability;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.nat.dcutr.Dcutr;
import io.layerswarm.nat.ice.HolePuncher;
import io.layerswarm.nat.ice.IceCandidate;
import io.layerswarm.nat.ice.IceCodec;
import io.layerswarm.nat.ice.IceMessage;
import io.layerswarm.nat.ice.IceProtocolException;
import io.layerswarm.nat.ice.TurnServer;
import io.layerswarm.nat.path.ConnectionPaths;
import io.layerswarm.nat.relay.RelayClient;
import io.layerswarm.nat.relay.RelayConfig;
import io.layerswarm.nat.relay.RelayService;
import io.layerswarm.node.Node;
import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.NodeListener;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionPathStats;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One LayerSwarm libp2p node of the NAT test topology, run as its own JVM inside a network namespace
 * ({@code ip netns exec NS java ... NatNodeProcess ROLE LISTEN-IP}) and driven over stdin.
 * Role {@code relay}: relay service + AutoNAT server. Role {@code node}: relay client, reachability,
 * serves {@link #BLOB} (a deterministic byte stream of the asked length). Role {@code service}: as
 * {@code node}, with {@link NatTraversalService} started (it punches after each relayed connection it dials).
 * Role {@code turn} ({@code turn IP STUN-IP:PORT TURN-IP:PORT USER PASSWORD-FILE}): as {@code node}, its ICE
 * sessions also gathering relayed candidates from that TURN server.
 * Role {@code mirror} ({@code mirror IP STUN-IP:PORT UPSTREAM-URL STORE-DIR [RELAY-ADDR]}): a whole {@link Node}
 * with that service (keeping a reservation on RELAY-ADDR by itself, if given), a pull-through mirror on
 * {@code IP:5000} for the upstream registry and its store (and identity) in STORE-DIR, so a restarted process is
 * the same peer. Answers one line per command:
 * <pre>
 * reserve RELAY-ADDR                  -> reserved CIRCUIT-ADDR
 * reachability RELAY-ID [STUN-IP:PORT] -> reachability STATUS ADVERTISED-ADDRS
 * fetch PEER-ID BYTES ADDR...         -> fetched PATH TRANSPORT BYTES SHA256 CONNECT-MS TRANSFER-MS
 * punch PEER-ID                       -> punched PATH TRANSPORT MS | punch_failed REASON
 * dcutr PEER-ID                       -> dcutr PATH TRANSPORT MS | dcutr_failed REASON (DCUtR, this side starting)
 * connections PEER-ID                 -> connections PATH:TRANSPORT... (open connections to the peer)
 * disconnect PEER-ID                  -> disconnected N (closes every connection to the peer)
 * quicstats PEER-ID                   -> quicstats KEY=VALUE... (quiche's figures of the open QUIC connection's
 *                                        path: packets sent / lost / retransmitted, cwnd, rtt) | quicstats none
 * offer PEER-ID IP PORT               -> answered CANDIDATES (an OFFER naming a third party's ports 8x)
 * sink PORT                           -> sinking  (counts what arrives on PORT.. PORT+7: {@link StunSink})
 * sunk                                -> sunk DATAGRAMS SIGNED-CHECKS
 * circuit                             -> circuit ADDR|none (the first relayed address reserved now)
 * connect ADDR                        -> connected PATH TRANSPORT (the node's own dial, e.g. to a circuit)
 * blobs                               -> blobs FETCHED PEER-BYTES REGISTRY-BYTES (role mirror: blobs fetched so far)
 * relayed                             -> relayed BYTES (role relay: bytes forwarded over circuits so far)
 * </pre>
 * An optional third argument {@code STUN-IP:PORT} is the STUN server of the node's ICE candidates.
 */
public final class NatNodeProcess {
    static final String BLOB = "/layerswarm/test/blob/1.0.0";
    /** How long {@code fetch} waits for an address before it tries the next one. */
    static final Duration NEXT_ADDRESS_AFTER = Duration.ofSeconds(5);
    /**
     * The relay's AutoNAT dial-back timeout: every node of the test network is behind a NAT that drops unsolicited
     * connections, so each dial-back waits this out; the verdict (private) is the same as after the default 10 s.
     */
    private static final Duration DIAL_BACK_TIMEOUT = Duration.ofSeconds(3);

    private NatNodeProcess() {
    }

    public static void main(String[] args) throws Exception {
        String role = args[0];
        String ip = args[1];
        List<InetSocketAddress> iceStun = args.length > 2 ? List.of(socketAddress(args[2])) : List.of();
        if (role.equals("mirror")) {
            NatTraversalService service = new NatTraversalService(new NatTraversalService.Config(false, iceStun,
                    args.length > 5 ? List.of(Multiaddr.parse(args[5])) : List.of()));
            FetchTotals totals = new FetchTotals();
            // claim wait and origin stall as long as NetnsFanOutIT's: fresh JVMs on a loaded machine answer slowly
            Node node = Node.builder().storeDir(Path.of(args[4])).upstream(URI.create(args[3]))
                    .claimWait(Duration.ofSeconds(30)).originStall(Duration.ofSeconds(60))
                    .listen(Multiaddr.parse("/ip4/" + ip + "/tcp/4001"))
                    .mirrorListen(new InetSocketAddress(ip, 5000)).host(b -> b.handshakeTimeout(Duration.ofSeconds(20)))
                    .service(service).listener(totals).start();
            serve(node.host(), ip, service.relayClient(), service.holePuncher(), service.dcutr(), null, node, totals);
            return;
        }
        Host host = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/" + ip + "/tcp/4001"))
                .handshakeTimeout(Duration.ofSeconds(20)).build().start();
        Identify.attach(host);
        Ping.attach(host);
        RelayClient relays;
        HolePuncher puncher;
        Dcutr dcutr;
        if (role.equals("service")) {
            // the embeddable service (path log, relay client, punching after each relayed connection it dials)
            NatTraversalService service = new NatTraversalService(new NatTraversalService.Config(false, iceStun,
                    List.of()));
            service.start(HostContext.of(host, Executors.newSingleThreadScheduledExecutor(),
                    Executors.newCachedThreadPool(), new NioEventLoopGroup(1)));
            relays = service.relayClient();
            puncher = service.holePuncher();
            dcutr = service.dcutr();
        } else {
            ConnectionPaths.attach(host);
            relays = RelayClient.attach(host);
            // role turn: TURN-IP:PORT USER PASSWORD-FILE after the STUN server
            List<TurnServer> turn = role.equals("turn")
                    ? List.of(TurnServer.withPasswordFile(socketAddress(args[3]), args[4], Path.of(args[5])))
                    : List.of();
            puncher = HolePuncher.attach(host, iceStun, turn, Executors.newCachedThreadPool());
            // DCUtR's CONNECT: the address the relay observed (the router's public IP), then the listen address
            dcutr = Dcutr.attach(host, () -> {
                List<Multiaddr> own = new ArrayList<>(host.observedAddrs());
                own.addAll(host.listenAddrs());
                return own;
            }, Executors.newCachedThreadPool());
        }
        RelayService relayService = null;
        if (role.equals("relay")) {
            relayService = RelayService.attach(host, RelayConfig.defaults().withCircuitLimit(
                    new io.layerswarm.nat.relay.RelayLimit(600, 1L << 30)));
            AutoNatService.attach(host, new NioEventLoopGroup(1), DIAL_BACK_TIMEOUT, 8);
        }
        serve(host, ip, relays, puncher, dcutr, relayService, null, null);
    }

    /** Answers commands from stdin until it closes (the parts the role lacks are null). */
    private static void serve(Host host, String ip, RelayClient relays, HolePuncher puncher, Dcutr dcutr,
            RelayService relayService, Node node, FetchTotals totals) throws Exception {
        host.setBlockingHandler(BLOB, NatNodeProcess::serveBlob);
        System.out.println("addr " + host.listenAddrs().get(0) + "/p2p/" + host.peerId().toBase58());
        List<AutoCloseable> held = new ArrayList<>();
        StunSink[] sink = new StunSink[1];
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String[] w = line.trim().split("\\s+");
            try {
                switch (w[0]) {
                    case "reserve" -> {
                        relays.keepReservation(Multiaddr.parse(w[1])).get(60, TimeUnit.SECONDS);
                        System.out.println("reserved " + relays.relayedAddrs().get(0));
                    }
                    case "reachability" -> {
                        List<InetSocketAddress> stun = new ArrayList<>();
                        if (w.length > 2) {
                                stun.add(socketAddress(w[2]));
                        }
                        Reachability r = new Reachability(host, relays, stun, Executors.newCachedThreadPool()).install();
                        Reachability.Status s = r.check(List.of(PeerId.parse(w[1]))).get(60, TimeUnit.SECONDS);
                        System.out.println("reachability " + s + " " + host.advertisedAddrs());
                    }
                    case "dcutr" -> upgrade("dcutr", "dcutr_failed", dcutr.upgrade(PeerId.parse(w[1])));
                    case "punch" -> upgrade("punched", "punch_failed", puncher.punch(PeerId.parse(w[1])));
                    case "connections" -> {
                        PeerId p = PeerId.parse(w[1]);
                        List<String> open = new ArrayList<>();
                        for (Connection c : host.connections()) {
                            if (c.remotePeer().equals(p) && c.isOpen()) {
                                open.add(ConnectionPaths.path(c) + ":" + ConnectionPaths.transport(c));
                            }
                        }
                        System.out.println("connections " + String.join(" ", open));
                    }
                    case "quicstats" -> System.out.println("quicstats " + quicStats(host, PeerId.parse(w[1])));
                    case "disconnect" -> {
                        PeerId p = PeerId.parse(w[1]);
                        int n = 0;
                        for (Connection c : host.connections()) {
                            if (c.remotePeer().equals(p)) {
                                c.close().get(30, TimeUnit.SECONDS);
                                n++;
                            }
                        }
                        System.out.println("disconnected " + n);
                    }
                    case "offer" -> held.add(offerThirdParty(host, PeerId.parse(w[1]), w[2], Integer.parseInt(w[3])));
                    case "sink" -> {
                        if (sink[0] != null) {
                            sink[0].close(); // a test run again on the same relay counts afresh
                        }
                        sink[0] = new StunSink(ip, Integer.parseInt(w[1]), IceMessage.MAX_CANDIDATES);
                        System.out.println("sinking");
                    }
                    case "sunk" -> System.out.println("sunk " + sink[0].counts());
                    case "circuit" -> System.out.println("circuit " + relays.relayedAddrs().stream().findFirst()
                            .map(Multiaddr::toString).orElse("none"));
                    case "connect" -> {
                        node.connect(Multiaddr.parse(w[1]), Duration.ofSeconds(60));
                        Connection c = host.connection(PeerId.parse(w[1].substring(w[1].lastIndexOf('/') + 1)))
                                .orElseThrow();
                        System.out.println("connected " + ConnectionPaths.path(c) + " " + ConnectionPaths.transport(c));
                    }
                    case "blobs" -> System.out.println("blobs " + totals);
                    case "relayed" -> System.out.println("relayed " + relayService.relayedBytes());
                    case "fetch" -> fetch(host, PeerId.parse(w[1]), Long.parseLong(w[2]), List.of(w).subList(3, w.length));
                    default -> System.out.println("error unknown command " + w[0]);
                }
            } catch (Exception e) {
                System.out.println("error " + w[0] + " " + e.toString().replace('\n', ' '));
            }
            System.out.flush();
        }
        if (node != null) {
            node.close();
        }
        host.close();
        System.exit(0);
    }

    /**
     * Plays a hostile peer: sends {@code peer} an OFFER whose candidates are a third party's ports, answers
     * nothing else, and keeps the stream open (returned, to close at exit).
     */
    private static AutoCloseable offerThirdParty(Host host, PeerId peer, String ip, int port) throws Exception {
        List<IceCandidate> victims = new ArrayList<>();
        for (int i = 0; i < IceMessage.MAX_CANDIDATES; i++) {
            victims.add(new IceCandidate(IceCandidate.Kind.SERVER_REFLEXIVE, "v" + i,
                    new InetSocketAddress(java.net.InetAddress.getByName(ip), port + i), 1_000_000L + i));
        }
        P2pStream s = host.connection(peer).orElseThrow().newStream(List.of(HolePuncher.PROTOCOL))
                .get(30, TimeUnit.SECONDS);
        LengthPrefixed.write(s.outputStream(), IceCodec.encode(IceMessage.offer(IceMessage.Type.OFFER, "evil",
                "0123456789abcdefghijkl", victims)));
        s.outputStream().flush();
        byte[] answer = LengthPrefixed.read(s.inputStream(), IceCodec.MAX_MESSAGE_SIZE, IceProtocolException::new);
        System.out.println("answered " + IceCodec.decode(answer).candidates().size());
        return s::close;
    }

    private static InetSocketAddress socketAddress(String hostPort) {
        String[] hp = hostPort.split(":");
        return new InetSocketAddress(hp[0], Integer.parseInt(hp[1]));
    }

    private static void fetch(Host host, PeerId peer, long bytes, List<String> addrs) throws Exception {
        long t0 = System.nanoTime();
        Connection c = null;
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < addrs.size(); i++) {
            String a = addrs.get(i);
            // an address that has not answered in NEXT_ADDRESS_AFTER is given up for the next one (a NAT that drops
            // the SYN would hold the dial for the host's whole connect timeout); the last one gets the full wait, which
            // leaves room for a relayed dial's retry after a first attempt that ran into a 20 s handshake deadline
            long wait = i < addrs.size() - 1 ? NEXT_ADDRESS_AFTER.toSeconds() : 60;
            try {
                c = host.connect(Multiaddr.parse(a)).get(wait, TimeUnit.SECONDS);
                break;
            } catch (Exception e) {
                Object reason = e.getCause() != null ? e.getCause() : e;
                failures.add(a + " -> " + reason);
                System.err.println("event=dial_failed addr=" + a + " reason=\"" + reason + "\"");
            }
        }
        if (c == null) {
            throw new IllegalStateException("no address of " + peer + " worked: " + failures);
        }
        long connectMs = (System.nanoTime() - t0) / 1_000_000;
        long t1 = System.nanoTime();
        P2pStream s = c.newStream(List.of(BLOB)).get(10, TimeUnit.SECONDS);
        new DataOutputStream(s.outputStream()).writeLong(bytes);
        s.outputStream().close();
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        InputStream in = s.inputStream();
        byte[] buf = new byte[1 << 16];
        long got = 0;
        for (int n; (n = in.read(buf)) >= 0; ) {
            md.update(buf, 0, n);
            got += n;
        }
        long transferMs = (System.nanoTime() - t1) / 1_000_000;
        System.out.println("fetched " + ConnectionPaths.path(c) + " " + ConnectionPaths.transport(c) + " " + got + " "
                + HexFormat.of().formatHex(md.digest()) + " " + connectMs + " " + transferMs);
    }

    /**
     * quiche's path statistics of the open QUIC connection to {@code peer} (benchmarks: whether a slow transfer lost
     * packets or left the congestion window unused), or "none".
     */
    private static String quicStats(Host host, PeerId peer) throws Exception {
        for (Connection c : host.connections()) {
            if (c.remotePeer().equals(peer) && c.isOpen() && c.channel() instanceof QuicChannel q) {
                QuicConnectionPathStats p = q.collectPathStats(0).get(10, TimeUnit.SECONDS);
                return "sent=" + p.sent() + " lost=" + p.lost() + " retrans=" + p.retrans() + " sent_bytes="
                        + p.sentBytes() + " lost_bytes=" + p.lostBytes() + " cwnd=" + p.cwnd() + " rtt_us="
                        + p.rtt() / 1000 + " pmtu=" + p.pmtu() + " delivery_rate=" + p.deliveryRate();
            }
        }
        return "none";
    }

    /** Totals over the blobs a node fetched: "COUNT PEER-BYTES REGISTRY-BYTES". */
    private static final class FetchTotals implements NodeListener {
        private final AtomicLong count = new AtomicLong();
        private final AtomicLong peerBytes = new AtomicLong();
        private final AtomicLong registryBytes = new AtomicLong();

        @Override
        public void blobFetched(NodeEvent.BlobFetched e) {
            peerBytes.addAndGet(e.peerBytes());
            registryBytes.addAndGet(e.registryBytes());
            count.incrementAndGet();
        }

        @Override
        public String toString() {
            return count.get() + " " + peerBytes.get() + " " + registryBytes.get();
        }
    }

    /** The blob every node serves: {@code n} bytes from a fixed seed, so the fetcher can check them. */
    static byte[] expectedSha(long n) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Random rnd = new Random(42);
        byte[] buf = new byte[1 << 16];
        for (long left = n; left > 0; left -= buf.length) {
            rnd.nextBytes(buf);
            md.update(buf, 0, (int) Math.min(buf.length, left));
        }
        return md.digest();
    }

    /**
     * Prints {@code WORD PATH TRANSPORT MS} once {@code direct} (an ICE or DCUtR upgrade started just now) gives
     * its connection, or {@code FAILED REASON}.
     */
    private static void upgrade(String word, String failed, CompletableFuture<Connection> direct) throws Exception {
        long t0 = System.nanoTime();
        try {
            Connection c = direct.get(60, TimeUnit.SECONDS);
            System.out.println(word + " " + ConnectionPaths.path(c) + " " + ConnectionPaths.transport(c) + " "
                    + (System.nanoTime() - t0) / 1_000_000);
        } catch (java.util.concurrent.ExecutionException e) {
            System.out.println(failed + " " + e.getCause().toString().replace('\n', ' '));
        }
    }

    private static void serveBlob(P2pStream s) throws Exception {
        long n = new DataInputStream(s.inputStream()).readLong();
        if (n < 0 || n > (1L << 32)) {
            throw new IllegalArgumentException("bad blob length " + n);
        }
        Random rnd = new Random(42);
        byte[] buf = new byte[1 << 16];
        OutputStream out = s.outputStream();
        for (long left = n; left > 0; left -= buf.length) {
            rnd.nextBytes(buf);
            out.write(buf, 0, (int) Math.min(buf.length, left));
        }
    }
}
