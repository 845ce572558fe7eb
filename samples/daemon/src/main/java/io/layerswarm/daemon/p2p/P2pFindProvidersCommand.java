package io.layerswarm.daemon.p2p;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.kad.KadConfig;
import io.layerswarm.libp2p.kad.KadHostBinding;
import io.layerswarm.libp2p.kad.KadPeer;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.ping.Ping;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code layerswarm p2p find-providers CID}: joins the DHT as a client and prints the peer ids of
 * the content's providers, one per line; exits 1 if none is found within the timeout.
 */
@Command(name = "find-providers", mixinStandardHelpOptions = true,
        description = "Print the peer ids providing a CID (or OCI digest sha256:...), one per line.")
public final class P2pFindProvidersCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ContentIdParameter content;

    @Option(names = "--bootstrap", paramLabel = "MULTIADDR", required = true,
            description = "peer to join through, with /p2p/<id>; repeatable")
    List<String> bootstrap = new ArrayList<>();

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "30",
            description = "give up if no provider is found within this many seconds (default: ${DEFAULT-VALUE})")
    int waitSeconds;

    @Mixin
    P2pCommand.Common common = new P2pCommand.Common();

    @Option(names = "--max", paramLabel = "N", defaultValue = "20",
            description = "stop after N providers (default: ${DEFAULT-VALUE})")
    int max;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Multiaddr> seeds = new ArrayList<>();
        for (String b : bootstrap) {
            seeds.add(Multiaddr.parse(b));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
        Set<String> printed = new LinkedHashSet<>();
        // A client: it asks but does not serve the DHT or enter others' routing tables.
        try (Host host = common.builder(Ed25519PrivateKey.generate()).build().start();
             KadHostBinding kad = KadHostBinding.attach(host, KadConfig.defaults().withClientMode(true),
                     Duration.ofSeconds(common.timeoutSeconds))) {
            Identify.attach(host);
            Ping.attach(host);
            while (printed.isEmpty() && System.nanoTime() < deadline) {
                try {
                    if (kad.dht().routingTableSize() == 0) {
                        kad.bootstrap(seeds).get(remainingMs(deadline), TimeUnit.MILLISECONDS);
                    }
                    for (KadPeer p : kad.dht().findProviders(content.cid, max).get(remainingMs(deadline), TimeUnit.MILLISECONDS)) {
                        String id = PeerId.fromBytes(p.id()).toBase58();
                        if (printed.add(id)) {
                            out.println(id);
                        }
                    }
                } catch (ExecutionException | TimeoutException e) {
                    err.println("retrying: " + (e.getCause() == null ? e : e.getCause()));
                }
                out.flush();
                if (printed.isEmpty()) {
                    Thread.sleep(Math.min(500, remainingMs(deadline)));
                }
            }
        }
        if (printed.isEmpty()) {
            err.println("no providers of " + content.cid + " found within " + waitSeconds + "s");
            return 1;
        }
        return 0;
    }

    private static long remainingMs(long deadline) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }
}
