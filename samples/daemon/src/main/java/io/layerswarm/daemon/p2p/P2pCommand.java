package io.layerswarm.daemon.p2p;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.KeyFiles;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.identify.IdentifyInfo;
import io.layerswarm.libp2p.kad.KadConfig;
import io.layerswarm.libp2p.kad.KadHostBinding;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.ping.Ping;
import io.layerswarm.libp2p.pnet.SwarmKey;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code layerswarm p2p ...}: libp2p diagnostics (listen, ping, identify). */
@Command(name = "p2p", description = "libp2p diagnostics: run a peer, ping or identify a peer.",
        mixinStandardHelpOptions = true,
        subcommands = {P2pCommand.Listen.class, P2pCommand.PingCmd.class, P2pCommand.IdentifyCmd.class,
            P2pProvideCommand.class, P2pFindProvidersCommand.class, P2pConnectCommand.class})
public final class P2pCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Options shared by the subcommands. */
    static class Common {
        @Option(names = "--swarm-key", description = "private network key file (/key/swarm/psk/1.0.0/)")
        Path swarmKey;

        @Option(names = "--timeout", description = "dial and request timeout in seconds (default ${DEFAULT-VALUE})",
                defaultValue = "15")
        int timeoutSeconds;

        Host.Builder builder(PrivateKey key) throws Exception {
            Host.Builder b = Host.builder(key).handshakeTimeout(Duration.ofSeconds(timeoutSeconds)).ioThreads(1);
            if (swarmKey != null) {
                b.swarmKey(SwarmKey.read(swarmKey));
            }
            return b;
        }
    }

    static int failure(CommandSpec spec, Throwable e) {
        Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        spec.commandLine().getErr().println("error: " + c.getMessage());
        return 1;
    }

    /** Runs a peer serving identify, ping and the Kademlia DHT until killed. */
    @Command(name = "listen", description = "Run a libp2p peer; first line: listening <multiaddr>/p2p/<peerId>.")
    static final class Listen implements java.util.concurrent.Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--listen", description = "TCP multiaddr to listen on (default ${DEFAULT-VALUE})",
                defaultValue = "/ip4/127.0.0.1/tcp/0")
        String listen;

        @Option(names = "--key", description = "identity key file (created if missing); random identity if omitted")
        Path key;

        @picocli.CommandLine.Mixin
        Common common = new Common();

        @Override
        public Integer call() {
            try {
                PrivateKey k = key == null ? Ed25519PrivateKey.generate() : KeyFiles.loadOrGenerate(key);
                Host host = common.builder(k).listen(Multiaddr.parse(listen)).build();
                Identify.attach(host);
                Ping.attach(host);
                KadHostBinding kad = KadHostBinding.attach(host, KadConfig.defaults(),
                        Duration.ofSeconds(common.timeoutSeconds));
                host.start();
                PrintWriter out = spec.commandLine().getOut();
                for (Multiaddr a : host.listenAddrs()) {
                    out.println("listening " + a + "/p2p/" + host.peerId().toBase58());
                }
                out.flush();
                CountDownLatch forever = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    kad.close();
                    host.close();
                }));
                forever.await();
                return 0;
            } catch (Exception e) {
                return failure(spec, e);
            }
        }
    }

    /** Pings a peer. */
    @Command(name = "ping", description = "Ping a peer; prints rtt_ms=<number> per ping.")
    static final class PingCmd implements java.util.concurrent.Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", description = "peer multiaddr, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3...")
        String target;

        @Option(names = "--count", description = "number of pings (default ${DEFAULT-VALUE})", defaultValue = "1")
        int count;

        @picocli.CommandLine.Mixin
        Common common = new Common();

        @Override
        public Integer call() {
            if (count < 1) {
                spec.commandLine().getErr().println("error: --count must be at least 1");
                return 2;
            }
            try (Host host = common.builder(Ed25519PrivateKey.generate()).build().start()) {
                Connection c = host.connect(Multiaddr.parse(target)).get(common.timeoutSeconds, TimeUnit.SECONDS);
                PrintWriter out = spec.commandLine().getOut();
                for (int i = 0; i < count; i++) {
                    Duration rtt = Ping.ping(c).get(common.timeoutSeconds, TimeUnit.SECONDS);
                    out.println(String.format(Locale.ROOT, "rtt_ms=%.3f", rtt.toNanos() / 1e6));
                    out.flush();
                }
                return 0;
            } catch (Exception e) {
                return failure(spec, e);
            }
        }
    }

    /** Identifies a peer. */
    @Command(name = "identify", description = "Identify a peer; prints JSON {peerId, agentVersion, protocolVersion,"
            + " protocols, listenAddrs, observedAddr}.")
    static final class IdentifyCmd implements java.util.concurrent.Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", description = "peer multiaddr")
        String target;

        @picocli.CommandLine.Mixin
        Common common = new Common();

        @Override
        public Integer call() {
            try (Host host = common.builder(Ed25519PrivateKey.generate()).build().start()) {
                Identify identify = Identify.attach(host);
                Connection c = host.connect(Multiaddr.parse(target)).get(common.timeoutSeconds, TimeUnit.SECONDS);
                IdentifyInfo info = identify.identify(c).get(common.timeoutSeconds, TimeUnit.SECONDS);
                ObjectMapper json = new ObjectMapper();
                ObjectNode n = json.createObjectNode();
                n.put("peerId", info.peerId().toBase58());
                n.put("agentVersion", info.agentVersion());
                n.put("protocolVersion", info.protocolVersion());
                n.putPOJO("protocols", info.protocols());
                n.putPOJO("listenAddrs", info.listenAddrs().stream().map(Multiaddr::toString).toList());
                n.put("observedAddr", info.observedAddr().map(Multiaddr::toString).orElse(null));
                spec.commandLine().getOut().println(json.writeValueAsString(n));
                spec.commandLine().getOut().flush();
                return 0;
            } catch (Exception e) {
                return failure(spec, e);
            }
        }
    }
}
