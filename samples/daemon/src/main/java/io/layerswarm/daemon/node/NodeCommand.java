package io.layerswarm.daemon.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import io.layerswarm.handoff.HandoffControlServer;
import io.layerswarm.handoff.HandoffService;
import io.layerswarm.handoff.containerd.CtrRuntime;
import io.layerswarm.k8s.preheat.PreheatService;
import io.layerswarm.k8s.status.StatusPublisherService;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.pnet.SwarmKey;
import io.layerswarm.libp2p.bandwidth.BandwidthLimiter;
import io.layerswarm.metrics.MetricsService;
import io.layerswarm.metrics.NodeMetrics;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.nat.NatTraversalService;
import io.layerswarm.mirror.Upstream;
import io.layerswarm.node.Node;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code layerswarm node [--config FILE] [flags]}: runs a swarm node with its pull-through registry
 * mirror until killed. The first output lines are {@code listening <multiaddr>/p2p/<peerId>} (one per
 * listen address) and {@code mirror http://HOST:PORT}; then one line per blob served or fetched, and one
 * per peer connection ({@code event=peer_connected peer=ID path=direct|relayed transport=tcp|quic rtt_ms=N}).
 * The node serves {@code /layerswarm/preheat/1.0.0}, so an orchestrator can have it fetch an image
 * before the kubelet asks the mirror for it.
 */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Run a swarm node with a pull-through registry mirror until killed.")
public final class NodeCommand implements Callable<Integer> {
    /** Exit status for a bad configuration. */
    public static final int BAD_CONFIG = 2;

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML config file; flags override it.")
    Path config;

    @Option(names = "--listen", paramLabel = "MULTIADDR", description = "libp2p listen address, TCP"
            + " (/ip4/0.0.0.0/tcp/4001) or QUIC (/ip4/0.0.0.0/udp/4001/quic-v1); repeatable"
            + " (default /ip4/0.0.0.0/tcp/4001).")
    List<String> listen = new ArrayList<>();

    @Option(names = "--bootstrap", paramLabel = "MULTIADDR", description = "peer to join through, with /p2p/<id>;"
            + " repeatable.")
    List<String> bootstrap = new ArrayList<>();

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "the node's state directory: content store,"
            + " key and cache journal; one node at a time (default ~/.cache/layerswarm/node).")
    Path cacheDir;

    @Option(names = "--cache-capacity", paramLabel = "SIZE", description = "cache size, e.g. 500MB, 1GiB or bytes;"
            + " least useful layers (ARC) are evicted beyond it. Default: unbounded.")
    String cacheCapacity;

    @Option(names = "--upstream", paramLabel = "URL", description = "upstream registry (https; http only on loopback);"
            + " repeatable, the first is the default for requests without ?ns=host[:port].")
    List<String> upstream = new ArrayList<>();

    @Option(names = "--insecure-upstream", paramLabel = "URL", description = "upstream registry that may use plain"
            + " http on any host and unverified TLS (a registry on the LAN); added to the upstreams if not among"
            + " them; repeatable.")
    List<String> insecureUpstream = new ArrayList<>();

    @Option(names = "--max-upload-rate", paramLabel = "RATE", description = "upload limit for all peers together,"
            + " bytes per second, e.g. 10MiB (default: unlimited).")
    String maxUploadRate;

    @Option(names = "--max-download-rate", paramLabel = "RATE", description = "download limit for all peers"
            + " together, bytes per second (default: unlimited).")
    String maxDownloadRate;

    @Option(names = "--metrics-listen", paramLabel = "HOST:PORT", description = "serve Prometheus /metrics and"
            + " /healthz here (default: off).")
    String metricsListen;

    @Option(names = "--connect-all", paramLabel = "BOOL", arity = "1", description = "keep a connection to every"
            + " peer in the DHT routing table (default true); false finds holders through provider records only.")
    Boolean connectAll;

    @Option(names = "--node-name", paramLabel = "NAME", description = "Kubernetes node name in the published status"
            + " record (default: this host's name, lower-cased).")
    String nodeName;

    @Option(names = "--publish-status", paramLabel = "BOOL", arity = "1", description = "push a signed status record"
            + " every 10 s to connected peers serving the status protocol, i.e. the scheduler (default true).")
    Boolean publishStatus;

    @Option(names = "--link-probe-interval", paramLabel = "SECONDS", description = "least seconds between two rounds"
            + " of bandwidth probes of links no transfer has measured yet (one bounded read per upstream and peer,"
            + " for the status record); 0 turns them off (default 600).")
    Long linkProbeInterval;

    @Option(names = "--link-probe-bytes", paramLabel = "SIZE", description = "bytes one bandwidth probe reads per"
            + " link, 64KiB..16MiB (default 1MiB).")
    String linkProbeBytes;

    @Option(names = "--dht-client", description = "DHT client mode: query the DHT without serving it.")
    boolean dhtClient;

    @Option(names = "--relay-service", description = "relay circuits for NATed peers and answer their AutoNAT"
            + " probes (a public node).")
    boolean relayService;

    @Option(names = "--stun", paramLabel = "HOST:PORT", description = "STUN server to learn the public IP from;"
            + " repeatable.")
    List<String> stun = new ArrayList<>();

    @picocli.CommandLine.Mixin
    TurnOptions turn = new TurnOptions();

    @Option(names = "--mirror-listen", paramLabel = "HOST:PORT", description = "mirror address"
            + " (default 127.0.0.1:5000).")
    String mirrorListen;

    @Option(names = "--swarm-key", paramLabel = "FILE", description = "private network key file.")
    Path swarmKey;

    @Option(names = "--key", paramLabel = "FILE", description = "identity key file (created if missing;"
            + " default: node.key inside the cache directory, so every node directory has its own identity).")
    Path key;

    @Option(names = "--max-uploads", paramLabel = "N", description = "piece uploads served at once (default 3).")
    Integer maxUploads;

    @Option(names = "--piece-size", paramLabel = "SIZE", description = "piece size (default 4MiB).")
    String pieceSize;

    @Option(names = "--claim-wait-ms", paramLabel = "MS", description = "longest a new download waits for connected"
            + " peers to answer its claim before it may ask the registry (default 3000; answered claims do not wait).")
    Long claimWaitMs;

    @Option(names = "--origin-stall-ms", paramLabel = "MS", description = "a piece another fetcher took on may come"
            + " from the registry once that fetcher announced no progress for this long (default 10000).")
    Long originStallMs;

    @Option(names = "--max-connections-per-ip", paramLabel = "N", description = "inbound connections kept from one"
            + " remote IP address, whatever peer ids they show (default 32; nodes behind one NAT share it).")
    Integer maxConnectionsPerIp;

    @Option(names = "--max-handshakes-per-ip", paramLabel = "N", description = "inbound connections from one remote"
            + " IP address still in their security handshake (default 16); more are closed at once.")
    Integer maxHandshakesPerIp;

    @Option(names = "--containerd-socket", paramLabel = "PATH", description = "containerd's gRPC socket: enables"
            + " service handoff (this node moves its containers to peers and receives theirs).")
    Path containerdSocket;

    @Option(names = "--containerd-hosts-dir", paramLabel = "DIR", description = "hosts.toml directory naming this"
            + " node's mirror, for the handoff's image pulls (ctr --hosts-dir).")
    Path containerdHostsDir;

    @Option(names = "--containerd-snapshotter", paramLabel = "NAME", description = "snapshotter of containers"
            + " received by handoff: overlayfs (default) or native.")
    String containerdSnapshotter = "overlayfs";

    @Option(names = "--handoff-control", paramLabel = "HOST:PORT", description = "loopback address of the local"
            + " handoff control API (default 127.0.0.1:5081, printed as 'handoff-control URL').")
    String handoffControl = "127.0.0.1:5081";

    @Option(names = "--handoff-allow", paramLabel = "PEER", description = "peer id that may hand off to this node;"
            + " repeatable (default: every peer of the swarm).")
    List<String> handoffAllow = new ArrayList<>();

    @Option(names = "--handoff-max-rounds", paramLabel = "N", description = "writable-layer rounds while the"
            + " container runs, at most (default 5).")
    int handoffMaxRounds = 5;

    @Option(names = "--handoff-small-diff", paramLabel = "SIZE", description = "a round carrying at most this much"
            + " ends the running rounds (default 64KiB).")
    String handoffSmallDiff = "64KiB";

    @Option(names = "--handoff-round-interval-ms", paramLabel = "MS", description = "least time between running"
            + " rounds (default 0).")
    long handoffRoundIntervalMs;

    @Option(names = "--handoff-session-idle-ms", paramLabel = "MS", description = "as a handoff target: abort a"
            + " session (removing its created container) after this long without a request (default: ${DEFAULT-VALUE})",
            defaultValue = "600000")
    long handoffSessionIdleMs;

    @Option(names = "--handoff-resolve-wait-ms", paramLabel = "MS", description = "as a source recovering from a crash"
            + " inside a handoff's downtime: how long a frozen container waits for an unreachable target to say"
            + " whether it started the container, before it is thawed anyway (default: ${DEFAULT-VALUE})",
            defaultValue = "120000")
    long handoffResolveWaitMs;

    private final CountDownLatch stopped = new CountDownLatch(1);

    /** Reads the config file and applies the flags over it. */
    NodeConfig.Settings settings() {
        NodeConfig c = config == null ? new NodeConfig() : NodeConfig.load(config);
        if (!listen.isEmpty()) {
            c.listen = new ArrayList<>(listen);
        }
        if (!bootstrap.isEmpty()) {
            c.bootstrap = new ArrayList<>(bootstrap);
        }
        if (cacheDir != null) {
            c.cacheDir = cacheDir;
        }
        if (cacheCapacity != null) {
            c.cacheCapacity = cacheCapacity;
        }
        if (!upstream.isEmpty()) {
            List<NodeConfig.Upstream> ups = new ArrayList<>();
            for (String url : upstream) {
                // credentials of the file's upstreams stay valid when the flags name the same registries
                NodeConfig.Upstream u = c.upstreams.stream().filter(f -> f != null && url.equals(f.url)).findFirst()
                        .orElseGet(NodeConfig.Upstream::new);
                u.url = url;
                ups.add(u);
            }
            c.upstreams = ups;
        }
        for (String url : insecureUpstream) {
            NodeConfig.Upstream u = c.upstreams.stream().filter(f -> f != null && url.equals(f.url)).findFirst()
                    .orElse(null);
            if (u == null) {
                u = new NodeConfig.Upstream();
                u.url = url;
                c.upstreams.add(u);
            }
            u.insecure = true;
        }
        if (maxUploadRate != null) {
            c.maxUploadRate = maxUploadRate;
        }
        if (maxDownloadRate != null) {
            c.maxDownloadRate = maxDownloadRate;
        }
        if (metricsListen != null) {
            c.metricsListen = metricsListen;
        }
        if (connectAll != null) {
            if (c.discovery == null) {
                c.discovery = new NodeConfig.Discovery();
            }
            c.discovery.connectAll = connectAll;
        }
        if (dhtClient) {
            if (c.discovery == null) {
                c.discovery = new NodeConfig.Discovery();
            }
            c.discovery.dhtClient = true;
        }
        if (relayService) {
            c.relayService = true;
        }
        if (!stun.isEmpty()) {
            c.stun = new ArrayList<>(stun);
        }
        turn.applyTo(c);
        if (nodeName != null) {
            c.nodeName = nodeName;
        }
        if (publishStatus != null) {
            c.publishStatus = publishStatus;
        }
        if (linkProbeInterval != null) {
            c.linkProbeIntervalSeconds = linkProbeInterval;
        }
        if (linkProbeBytes != null) {
            c.linkProbeBytes = linkProbeBytes;
        }
        if (mirrorListen != null) {
            c.mirrorListen = mirrorListen;
        }
        if (swarmKey != null) {
            c.swarmKey = swarmKey;
        }
        if (key != null) {
            c.key = key;
        }
        if (maxUploads != null) {
            c.maxUploads = maxUploads;
        }
        if (pieceSize != null) {
            c.pieceSize = pieceSize;
        }
        if (claimWaitMs != null) {
            c.claimWaitMs = claimWaitMs;
        }
        if (originStallMs != null) {
            c.originStallMs = originStallMs;
        }
        if (maxConnectionsPerIp != null) {
            c.maxConnectionsPerIp = maxConnectionsPerIp;
        }
        if (maxHandshakesPerIp != null) {
            c.maxHandshakesPerIp = maxHandshakesPerIp;
        }
        return c.validate();
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Node.Builder b;
        java.util.Optional<MetricsService> metrics;
        java.util.Optional<HandoffService> handoff;
        try {
            NodeConfig.Settings s = settings();
            b = builder(s);
            metrics = java.util.Optional.ofNullable(s.metricsListen()).map(a -> metricsService(b, a));
            handoff = java.util.Optional.ofNullable(handoffService(s.cacheDir().resolve("handoff")));
            handoff.ifPresent(b::service);
        } catch (Exception e) {
            err.println("error: " + oneLine(e));
            err.flush();
            return BAD_CONFIG;
        }
        Node node;
        try {
            node = b.start();
        } catch (Exception e) {
            err.println("error: " + oneLine(e));
            err.flush();
            return 1;
        }
        java.util.concurrent.atomic.AtomicReference<HandoffControlServer> controlApi =
                new java.util.concurrent.atomic.AtomicReference<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            java.util.Optional.ofNullable(controlApi.get()).ifPresent(HandoffControlServer::close);
            node.close();
            stopped.countDown();
        }, "node-shutdown"));
        for (Multiaddr a : node.listenAddrs()) {
            out.println("listening " + a);
        }
        out.println("mirror " + node.mirrorUrl().orElseThrow());
        if (handoff.isPresent()) {
            try {
                HandoffControlServer control = HandoffControlServer.start(
                        NodeConfig.hostPort("--handoff-control", handoffControl), handoff.get());
                controlApi.set(control);
                out.println("handoff-control " + control.url());
            } catch (Exception e) {
                err.println("error: " + oneLine(e));
                err.flush();
                node.close();
                return BAD_CONFIG;
            }
        }
        metrics.ifPresent(m -> out.println("metrics " + m.url() + "/metrics"));
        out.flush();
        logEventsToStdout();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            node.close();
        }
        return 0;
    }

    /** The node the settings describe (the swarm key file is read here, so its errors are config errors). */
    static Node.Builder builder(NodeConfig.Settings s) throws java.io.IOException {
        Node.Builder b = Node.builder().storeDir(s.cacheDir()).keyFile(s.key()).cacheCapacity(s.cacheCapacity())
                .mirrorListen(s.mirrorListen()).connectAll(s.connectAll()).dhtClient(s.dhtClient())
                .pieceSize(s.pieceSize()).maxUploads(s.maxUploads()).claimWait(s.claimWait())
                .originStall(s.originStall());
        s.listen().forEach(b::listen);
        s.bootstrap().forEach(b::bootstrap);
        if (s.publishStatus()) {
            b.service(new StatusPublisherService(s.nodeName(), StatusPublisherService.DEFAULT_PERIOD,
                    java.time.Clock.systemUTC(), s.linkProbe()));
        }
        // the orchestrator (scheduler extender on bind, or layerswarm preheat) asks over libp2p to fetch an image now
        b.service(new PreheatService());
        if (s.swarmKey() != null) {
            b.swarmKey(SwarmKey.read(s.swarmKey()));
        }
        for (Upstream u : s.upstreams()) {
            b.upstream(u.clientBuilder().build());
        }
        BandwidthLimiter up = s.maxUploadRate() > 0 ? BandwidthLimiter.of(s.maxUploadRate()) : null;
        BandwidthLimiter down = s.maxDownloadRate() > 0 ? BandwidthLimiter.of(s.maxDownloadRate()) : null;
        if (up != null || down != null) {
            b.host(h -> h.bandwidth(up, down));
        }
        if (s.maxConnectionsPerIp() != null) {
            b.host(h -> h.maxInboundConnectionsPerAddress(s.maxConnectionsPerIp()));
        }
        if (s.maxHandshakesPerIp() != null) {
            b.host(h -> h.maxInboundHandshakesPerAddress(s.maxHandshakesPerIp()));
        }
        // a relay node needs no reservation; others keep one on each bootstrap peer (a public relay)
        b.service(new NatTraversalService(new NatTraversalService.Config(s.relayService(), s.stun(),
                s.relayService() ? List.of() : s.bootstrap(), s.turn())));
        return b;
    }

    /** The handoff service the flags describe, or null without a containerd socket. */
    private HandoffService handoffService(Path workDir) {
        if (containerdSocket == null) {
            return null;
        }
        java.util.Set<io.layerswarm.libp2p.crypto.PeerId> allow = new java.util.HashSet<>();
        handoffAllow.forEach(p -> allow.add(io.layerswarm.libp2p.crypto.PeerId.parse(p)));
        CtrRuntime runtime = new CtrRuntime(containerdSocket, containerdHostsDir, containerdSnapshotter,
                java.time.Duration.ofMinutes(5));
        // memory is not moved: CRIU's checkpoint is not usable on the machines this runs on (criu check fails)
        return new HandoffService(HandoffService.Config.defaults(runtime, workDir).withAllowList(allow)
                .withRounds(handoffMaxRounds, NodeConfig.parseSize("--handoff-small-diff", handoffSmallDiff),
                        java.time.Duration.ofMillis(handoffRoundIntervalMs))
                .withRecovery(java.time.Duration.ofMillis(handoffSessionIdleMs),
                        java.time.Duration.ofMillis(handoffResolveWaitMs)));
    }

    /** Adds the metrics endpoint to the node: a service, a listener of its events and of its mirror. */
    private static MetricsService metricsService(Node.Builder b, java.net.InetSocketAddress listen) {
        NodeMetrics m = new NodeMetrics();
        MetricsService service = new MetricsService(listen, m);
        b.listener(m).mirrorListener(m).service(service);
        return service;
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        return m.replaceAll("\\s+", " ");
    }

    /** Blob served/fetched events (and discovery) go to stdout, after the address lines. */
    private static void logEventsToStdout() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
            return;
        }
        PatternLayoutEncoder enc = new PatternLayoutEncoder();
        enc.setContext(ctx);
        enc.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{0} %msg%n");
        enc.start();
        ConsoleAppender<ILoggingEvent> app = new ConsoleAppender<>();
        app.setContext(ctx);
        app.setName("node-events");
        app.setTarget("System.out");
        app.setEncoder(enc);
        app.start();
        for (String name : List.of(PullThroughProvider.class.getName(), "io.layerswarm.node.NodeContentProvider",
                "io.layerswarm.node.KadDiscovery", "io.layerswarm.node.ManifestExchange",
                "io.layerswarm.nat.path.ConnectionPaths")) {
            ch.qos.logback.classic.Logger l = ctx.getLogger(name);
            if (!l.isInfoEnabled()) {
                l.setLevel(Level.INFO);
            }
            l.addAppender(app);
            l.setAdditive(false);
        }
    }
}
