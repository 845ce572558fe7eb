package io.layerswarm.daemon.p2p;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.daemon.node.NodeConfig;
import io.layerswarm.daemon.node.TurnOptions;
import io.layerswarm.nat.ice.HolePuncher;
import io.layerswarm.nat.ice.TurnServer;
import io.layerswarm.nat.path.ConnectionPaths;
import io.layerswarm.nat.relay.RelayClient;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code layerswarm p2p connect PEER}: dials a peer, directly or through a relay circuit, and says how. */
@Command(name = "connect", mixinStandardHelpOptions = true,
        description = "Connect to a peer (direct, or /p2p/RELAY/p2p-circuit/p2p/ID through a relay; with --stun a"
                + " relayed connection is followed by ICE hole punching to a direct QUIC path, with --turn by a QUIC"
                + " path through the TURN relay where punching fails); prints JSON"
                + " {peer, path, transport, [relay,] rttMs, connectMs[, holePunch]}.")
public final class P2pConnectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PEER-MULTIADDR", description = "peer multiaddr ending in /p2p/<peer id>")
    String target;

    @Option(names = "--bootstrap", paramLabel = "MULTIADDR", description = "peer to connect to first (e.g. the"
            + " relay), with /p2p/<id>; repeatable.")
    List<String> bootstrap = new ArrayList<>();

    @Option(names = "--stun", paramLabel = "HOST:PORT", description = "STUN server for ICE candidates; with one,"
            + " a relayed connection is followed by hole punching; repeatable.")
    List<String> stun = new ArrayList<>();

    @Mixin
    TurnOptions turn = new TurnOptions();

    @Mixin
    P2pCommand.Common common = new P2pCommand.Common();

    @Override
    public Integer call() {
        Multiaddr peer;
        List<Multiaddr> first = new ArrayList<>();
        List<InetSocketAddress> stunServers = new ArrayList<>();
        List<TurnServer> turnServers;
        try {
            for (String st : stun) {
                stunServers.add(NodeConfig.hostPort("stun", st));
            }
            turnServers = turn.servers();
            peer = peerAddr("peer", target);
            for (String b : bootstrap) {
                first.add(peerAddr("bootstrap", b));
            }
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("error: " + e.getMessage());
            return 2;
        }
        ExecutorService punching = Executors.newSingleThreadExecutor();
        try (Host host = common.builder(Ed25519PrivateKey.generate()).build().start();
             RelayClient relays = RelayClient.attach(host)) {
            HolePuncher puncher = HolePuncher.attach(host, stunServers, turnServers, punching);
            for (Multiaddr b : first) {
                host.connect(b).get(common.timeoutSeconds, TimeUnit.SECONDS);
            }
            long start = System.nanoTime();
            Connection c = host.connect(peer).get(common.timeoutSeconds, TimeUnit.SECONDS);
            String punch = null;
            if (c.isRelayed() && (!stunServers.isEmpty() || !turnServers.isEmpty())) {
                try {
                    c = puncher.punch(c.remotePeer()).get(common.timeoutSeconds, TimeUnit.SECONDS);
                    punch = ConnectionPaths.relay(c) == null ? "direct" : ConnectionPaths.relay(c);
                } catch (ExecutionException e) {
                    punch = "failed: " + e.getCause().getMessage();
                }
            }
            long connectNanos = System.nanoTime() - start;
            Duration rtt = c.ping().get(common.timeoutSeconds, TimeUnit.SECONDS);
            ObjectMapper json = new ObjectMapper();
            ObjectNode n = json.createObjectNode();
            n.put("peer", c.remotePeer().toBase58());
            n.put("path", ConnectionPaths.path(c));
            n.put("transport", ConnectionPaths.transport(c));
            if (ConnectionPaths.relay(c) != null) {
                n.put("relay", ConnectionPaths.relay(c));
            }
            n.put("rttMs", rtt.toNanos() / 1e6);
            n.put("connectMs", connectNanos / 1e6);
            if (punch != null) {
                n.put("holePunch", punch);
            }
            spec.commandLine().getOut().println(json.writeValueAsString(n));
            spec.commandLine().getOut().flush();
            return 0;
        } catch (Exception e) {
            return P2pCommand.failure(spec, e);
        } finally {
            punching.shutdownNow();
        }
    }

    private static Multiaddr peerAddr(String what, String text) {
        Multiaddr m;
        try {
            m = Multiaddr.parse(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(what + " " + text + ": not a multiaddr (" + e.getMessage() + ")", e);
        }
        if (m.valueOf(MultiaddrProtocol.P2P).isEmpty()) {
            throw new IllegalArgumentException(what + " " + text + ": needs a trailing /p2p/<peer id>");
        }
        return m;
    }
}
