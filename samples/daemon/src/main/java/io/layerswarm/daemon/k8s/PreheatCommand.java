package io.layerswarm.daemon.k8s;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.layerswarm.k8s.orchestrator.TransferPlan;
import io.layerswarm.k8s.orchestrator.TransferPlanner;
import io.layerswarm.k8s.preheat.BlobOutcome;
import io.layerswarm.k8s.preheat.PeerDirectory;
import io.layerswarm.k8s.preheat.PlanRequests;
import io.layerswarm.k8s.preheat.PreheatClient;
import io.layerswarm.k8s.preheat.PreheatReply;
import io.layerswarm.k8s.preheat.PreheatRequest;
import io.layerswarm.k8s.scoring.ImageLayers;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.scoring.RegistryLayerResolver;
import io.layerswarm.k8s.status.NodeStatusProtocol;
import io.layerswarm.k8s.status.StatusRecordCodec;
import io.layerswarm.k8s.status.StatusRecordVerifier;
import io.layerswarm.k8s.status.SwarmClusterView;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.oci.ImageReference;
import io.layerswarm.oci.Platform;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code layerswarm preheat}: the orchestrator without Kubernetes. Joins the swarm as a light peer,
 * builds the cluster view from the status records the nodes push to it, plans which peer sends the
 * target node which layer ({@link TransferPlanner}), sends the node its preheat request and prints the
 * node's reply once the image is in its store.
 */
@Command(name = "preheat", mixinStandardHelpOptions = true,
        description = "Have a node fetch an image now, each layer from the best peer that holds it (registry otherwise).")
public final class PreheatCommand implements Callable<Integer> {
    /** Exit status for bad flags. */
    static final int BAD_ARGUMENTS = 2;

    @Spec
    private CommandSpec spec;

    @Option(names = "--image", required = true, description = "Image reference, e.g. registry.local:5000/team/app:1.0.")
    private String image;

    @Option(names = "--node", required = true, paramLabel = "NAME|MULTIADDR",
            description = "Target node: its Kubernetes node name, or a multiaddr ending in /p2p/<peer id>.")
    private String node;

    @Option(names = "--bootstrap", paramLabel = "MULTIADDR", description = "Swarm node to connect to, with /p2p/<id>;"
            + " repeatable. The view is made of the records of the nodes connected this way (and the target's).")
    private List<String> bootstrap = new ArrayList<>();

    @Option(names = "--upstream", paramLabel = "URL", description = "Registry base URL to resolve the image from;"
            + " repeatable (default: https://<the image's registry>).")
    private List<String> upstreams = new ArrayList<>();

    @Option(names = "--platform", defaultValue = "linux/amd64", description = "Platform (default: ${DEFAULT-VALUE}).")
    private String platform;

    @Option(names = "--max-uploads", defaultValue = "3", description = "Concurrent uploads per source node in the plan (default: ${DEFAULT-VALUE}).")
    private int maxUploads;

    @Option(names = "--view-wait-ms", defaultValue = "30000",
            description = "Longest wait for the nodes' status records; they push every 10 s (default: ${DEFAULT-VALUE}).")
    private long viewWaitMs;

    @Option(names = "--timeout-ms", defaultValue = "1800000", description = "Longest wait for the node's reply (default: ${DEFAULT-VALUE}).")
    private long timeoutMs;

    @Option(names = "--json", description = "Print the replies as JSON.")
    private boolean json;

    /** The flags, checked before anything starts. */
    private record Args(ImageReference ref, Platform platform, List<Multiaddr> peers, Optional<PeerId> targetPeer,
                        List<String> upstreams) {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Args args;
        try {
            args = parse();
        } catch (IllegalArgumentException e) {
            err.println("error: " + oneLine(e.getMessage()));
            err.flush();
            return BAD_ARGUMENTS;
        }
        ExecutorService io = Executors.newCachedThreadPool();
        Clock clock = Clock.systemUTC();
        SwarmClusterView view = new SwarmClusterView(new StatusRecordCodec(),
                new StatusRecordVerifier(clock, Duration.ofMinutes(5), Duration.ofSeconds(30)), clock, Map.of());
        try (Host host = Host.builder(Ed25519PrivateKey.generate()).ioThreads(1).build().start()) {
            Identify.attach(host);
            NodeStatusProtocol.attach(host, view);
            for (Multiaddr a : args.peers()) {
                host.connect(a).get(30, TimeUnit.SECONDS);
            }
            Optional<String> target = awaitView(host, view, args.targetPeer());
            if (target.isEmpty()) {
                err.println("error: no status record for node " + node + " within " + viewWaitMs + " ms (is it among"
                        + " the --bootstrap peers, or connected to them?)");
                return 1;
            }
            RegistryLayerResolver resolver = new RegistryLayerResolver(RegistryClients.byHost(args.upstreams()),
                    args.platform(), io, Duration.ofMinutes(5), clock);
            ImageLayers layers = resolver.resolve(image).get(5, TimeUnit.MINUTES);
            PodLayers pod = PodLayers.of(List.of(layers));
            TransferPlan plan = new TransferPlanner(maxUploads, LinkEstimate.mbps(100, 2), LinkEstimate.mbps(20, 50))
                    .plan(pod, List.of(target.get()), view);
            PeerDirectory peers = name -> view.peerIdOf(name).map(PeerId::parse);
            PlanRequests requests = new PlanRequests(peers, host.peerStore()::addrs, args.platform());
            PeerId targetPeer = peers.peerOf(target.get()).orElseThrow();
            PreheatClient client = new PreheatClient(host, io);
            Map<String, PreheatReply> replies = new LinkedHashMap<>();
            for (PreheatRequest r : requests.forTarget(plan, target.get(), pod)) {
                replies.put(r.namespace() + "/" + r.repository() + "@" + r.reference(),
                        client.send(targetPeer, r).get(timeoutMs, TimeUnit.MILLISECONDS));
            }
            print(out, target.get(), plan, replies);
            return replies.values().stream().allMatch(r -> r.status() == PreheatReply.Status.OK) ? 0 : 1;
        } catch (java.util.concurrent.ExecutionException e) {
            err.println("error: " + oneLine(String.valueOf(e.getCause() == null ? e : e.getCause().getMessage())));
            return 1;
        } catch (java.util.concurrent.TimeoutException e) {
            err.println("error: timed out");
            return 1;
        } finally {
            out.flush();
            err.flush();
            io.shutdownNow();
        }
    }

    private Args parse() {
        if (maxUploads < 1) {
            throw new IllegalArgumentException("--max-uploads must be at least 1");
        }
        if (viewWaitMs < 0 || timeoutMs < 1) {
            throw new IllegalArgumentException("--view-wait-ms must be >= 0 and --timeout-ms >= 1");
        }
        ImageReference ref = ImageReference.parse(image);
        Platform plat = Platform.parse(platform);
        List<Multiaddr> peers = new ArrayList<>();
        for (String b : bootstrap) {
            peers.add(withPeerId("--bootstrap", b));
        }
        Optional<PeerId> targetPeer = Optional.empty();
        if (node.startsWith("/")) {
            Multiaddr a = withPeerId("--node", node);
            peers.add(a);
            targetPeer = a.valueOf(MultiaddrProtocol.P2P).map(PeerId::parse);
        }
        if (peers.isEmpty()) {
            throw new IllegalArgumentException("give --bootstrap MULTIADDR (or --node as a multiaddr) to reach the swarm");
        }
        List<String> ups = new ArrayList<>(upstreams);
        if (ups.isEmpty()) {
            String registry = RegistryLayerResolver.registryOf(ref);
            ups.add("https://" + (registry.equals(RegistryLayerResolver.DEFAULT_REGISTRY) ? "registry-1.docker.io" : registry));
        }
        RegistryClients.byHost(ups); // checks the URLs now, so a typo is a flag error
        return new Args(ref, plat, peers, targetPeer, ups);
    }

    private static Multiaddr withPeerId(String flag, String text) {
        Multiaddr a;
        try {
            a = Multiaddr.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + " " + text + ": " + e.getMessage());
        }
        if (a.valueOf(MultiaddrProtocol.P2P).isEmpty()) {
            throw new IllegalArgumentException(flag + " " + text + " must end in /p2p/<peer id>");
        }
        return a;
    }

    /**
     * Waits until the target's record is in and every connected peer has published one (so the plan
     * sees every holder), or the wait is over; then names the target if its record came.
     */
    private Optional<String> awaitView(Host host, SwarmClusterView view, Optional<PeerId> targetPeer)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(viewWaitMs);
        while (true) {
            Optional<String> target = targetPeer.isPresent() ? view.nodeNameOf(targetPeer.get().toBase58())
                    : view.node(node).map(s -> node);
            boolean everyone = host.connections().stream().map(Connection::remotePeer)
                    .allMatch(p -> view.nodeNameOf(p.toBase58()).isPresent());
            if ((target.isPresent() && everyone) || System.nanoTime() > deadline) {
                return target;
            }
            // records arrive on the host's threads; polling the view is the simplest way to watch it
            Thread.sleep(200);
        }
    }

    private void print(PrintWriter out, String target, TransferPlan plan, Map<String, PreheatReply> replies)
            throws java.io.IOException {
        if (json) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("image", image);
            result.put("node", target);
            result.put("plan", plan.transfers());
            result.put("replies", replies);
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(result));
            return;
        }
        plan.forTarget(target).forEach(t -> out.printf("plan wave %d  %s <- %s %s  %s (%d bytes)%n", t.wave(), t.target(),
                t.kind(), t.source(), t.layer(), t.size()));
        replies.forEach((img, r) -> {
            out.printf("preheat %s on %s: %s%s peer_bytes=%d registry_bytes=%d elapsed_ms=%d%n", img, target, r.status(),
                    r.message().isEmpty() ? "" : " (" + r.message() + ")", r.peerBytes(), r.registryBytes(), r.elapsedMillis());
            for (BlobOutcome b : r.blobs()) {
                out.printf("  %s %s peer_bytes=%d registry_bytes=%d%s%n", b.digest(), b.local() ? "local" : "fetched",
                        b.peerBytes(), b.registryBytes(), b.error() == null ? "" : " error=" + b.error());
            }
        });
    }

    private static String oneLine(String m) {
        return m == null ? "" : m.replaceAll("\\s+", " ");
    }
}
