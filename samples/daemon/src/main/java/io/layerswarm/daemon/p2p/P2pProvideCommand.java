package io.layerswarm.daemon.p2p;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.KeyFiles;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.kad.KadConfig;
import io.layerswarm.libp2p.kad.KadHostBinding;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.ping.Ping;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code layerswarm p2p provide CID}: joins the Kademlia DHT, announces this node as a provider of
 * the content and keeps serving (and re-announcing) until killed.
 */
@Command(name = "provide", mixinStandardHelpOptions = true,
        description = "Announce this node as provider of a CID (or OCI digest sha256:...) in the DHT and keep serving.")
public final class P2pProvideCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ContentIdParameter content;

    @Option(names = "--listen", paramLabel = "MULTIADDR", defaultValue = "/ip4/0.0.0.0/tcp/0",
            description = "TCP multiaddr to listen on (default: ${DEFAULT-VALUE})")
    String listen;

    @Option(names = "--bootstrap", paramLabel = "MULTIADDR",
            description = "peer to join through, with /p2p/<id>; repeatable. Without it this node starts a new DHT")
    List<String> bootstrap = new ArrayList<>();

    @Option(names = "--key", paramLabel = "FILE", description = "identity key file (created if missing); default: ephemeral")
    Path keyFile;

    @Mixin
    P2pCommand.Common common = new P2pCommand.Common();

    private final CountDownLatch stop = new CountDownLatch(1);

    /** Ends {@link #call()} (for embedding and tests; the CLI runs until killed). */
    void stop() {
        stop.countDown();
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Multiaddr> seeds = new ArrayList<>();
        for (String b : bootstrap) {
            seeds.add(Multiaddr.parse(b));
        }
        PrivateKey key = keyFile == null ? Ed25519PrivateKey.generate() : KeyFiles.loadOrGenerate(keyFile);
        ScheduledExecutorService maintenance = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kad-maintenance");
            t.setDaemon(true);
            return t;
        });
        try (Host host = common.builder(key).listen(Multiaddr.parse(listen)).build().start();
             KadHostBinding kad = KadHostBinding.attach(host, KadConfig.defaults(),
                     Duration.ofSeconds(common.timeoutSeconds))) {
            // Other implementations route a peer only after identify lists kad and a ping answers.
            Identify.attach(host);
            Ping.attach(host);
            Thread hook = new Thread(this::stop, "provide-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            for (Multiaddr a : host.listenAddrs()) {
                out.println("listening " + a.encapsulate(Multiaddr.parse("/p2p/" + host.peerId().toBase58())));
            }
            out.flush();
            if (!seeds.isEmpty()) {
                int size = kad.bootstrap(seeds).get(60, TimeUnit.SECONDS);
                if (size == 0) {
                    err.println("error: no bootstrap peer answered");
                    return 1;
                }
            }
            int delivered = kad.dht().provide(content.cid).get(120, TimeUnit.SECONDS);
            if (!seeds.isEmpty() && delivered == 0) {
                err.println("error: no DHT peer accepted the provider record");
                return 1;
            }
            out.println("provided " + content.cid);
            out.flush();
            kad.dht().startMaintenance(maintenance, 1, TimeUnit.MINUTES);
            stop.await();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // JVM exit in progress: the hook is what stopped us
            }
            return 0;
        } finally {
            maintenance.shutdownNow();
        }
    }
}
