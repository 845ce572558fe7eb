package io.layerswarm.daemon.node;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.layerswarm.cache.ByteSize;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.nat.ice.TurnServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Settings of {@code layerswarm node}, as read from YAML (keys as in the field names below) and
 * overridden by flags. {@link #validate()} turns it into a checked {@link Settings}.
 */
public final class NodeConfig {
    /** Largest config file read; a config is a few hundred bytes. */
    static final long MAX_FILE_BYTES = 1024 * 1024;

    /** One upstream registry. */
    public static final class Upstream {
        /** Base URL, https (plain http only for loopback, or with insecure). */
        @JsonProperty public String url;
        /** Optional user name. */
        @JsonProperty public String username;
        /** Optional password (or passwordFile). */
        @JsonProperty public String password;
        /** Optional file holding the password on its first line. */
        @JsonProperty public Path passwordFile;
        /** Allow plain http to a non-loopback host and skip TLS verification (a registry on the LAN). */
        @JsonProperty public Boolean insecure;
    }

    /** How the node finds peers. */
    public static final class Discovery {
        /**
         * Keep a connection to every peer in the routing table (default true), so swarm announcements
         * reach everyone; when false, holders no connected peer knows of are found only through DHT
         * provider records.
         */
        @JsonProperty public Boolean connectAll;
        /**
         * DHT client mode (default false): query the DHT without answering, so other nodes neither
         * route through nor learn of this node from the DHT.
         */
        @JsonProperty public Boolean dhtClient;
    }

    @JsonProperty public List<String> listen = new ArrayList<>();
    @JsonProperty public List<String> bootstrap = new ArrayList<>();
    @JsonProperty public Path key;
    @JsonProperty public Path swarmKey;
    @JsonProperty public Path cacheDir;
    @JsonProperty public String cacheCapacity;
    @JsonProperty public List<Upstream> upstreams = new ArrayList<>();
    @JsonProperty public String mirrorListen;
    @JsonProperty public Integer maxUploads;
    @JsonProperty public String pieceSize;
    /** Longest a new download waits for its connected peers to answer its claim, ms (default 3000). */
    @JsonProperty public Long claimWaitMs;
    /** A piece another fetcher took on may come from the registry after that fetcher was silent this long, ms (default 10000). */
    @JsonProperty public Long originStallMs;
    @JsonProperty public Discovery discovery;
    /** Upload limit for all peer traffic together, bytes per second (e.g. 10MiB); unlimited if unset. */
    @JsonProperty public String maxUploadRate;
    /** Download limit for all peer traffic together, bytes per second; unlimited if unset. */
    @JsonProperty public String maxDownloadRate;
    /** HOST:PORT of the /metrics and /healthz endpoint; off if unset. */
    @JsonProperty public String metricsListen;
    /** Relay circuits for other peers and answer their AutoNAT probes (default false). */
    @JsonProperty public Boolean relayService;
    /** STUN servers, HOST:PORT, to learn the public IP from (e.g. coturn on 3478). */
    @JsonProperty public List<String> stun = new ArrayList<>();
    /** TURN server, HOST:PORT, for relayed ICE candidates where hole punching fails (needs turnUser and turnPasswordFile). */
    @JsonProperty public String turn;
    /** User name on the TURN server. */
    @JsonProperty public String turnUser;
    /** File holding the TURN user's password (one line), so it stays out of the config and the command line. */
    @JsonProperty public Path turnPasswordFile;
    /** Kubernetes node name in the published status record; default: this host's name, lower-cased (as kubelet does). */
    @JsonProperty public String nodeName;
    /** Push a signed status record to peers serving the status protocol (the scheduler); default true. */
    @JsonProperty public Boolean publishStatus;
    /**
     * Least seconds between two rounds of bandwidth probes of links no transfer has measured yet (one
     * bounded read per such upstream and peer, for the published status record); 0 turns them off;
     * default 600.
     */
    @JsonProperty public Long linkProbeIntervalSeconds;
    /** Bytes one bandwidth probe reads per link, 64KiB..16MiB (default 1MiB). */
    @JsonProperty public String linkProbeBytes;
    /** Inbound connections kept from one remote IP address, whatever peer ids they show (unset: the host's 32). */
    @JsonProperty public Integer maxConnectionsPerIp;
    /** Inbound connections from one remote IP address still in their handshake (unset: the host's 16); more are closed at once. */
    @JsonProperty public Integer maxHandshakesPerIp;

    /**
     * Checked settings, ready to start a node; {@code maxConnectionsPerIp} and {@code maxHandshakesPerIp}
     * are null where the host's defaults apply.
     */
    public record Settings(List<Multiaddr> listen, List<Multiaddr> bootstrap, Path key, Path swarmKey, Path cacheDir,
                           long cacheCapacity, List<io.layerswarm.mirror.Upstream> upstreams,
                           InetSocketAddress mirrorListen, int maxUploads, int pieceSize, boolean connectAll,
                           boolean dhtClient, long maxUploadRate, long maxDownloadRate,
                           InetSocketAddress metricsListen, boolean relayService, List<InetSocketAddress> stun,
                           List<TurnServer> turn, boolean publishStatus, String nodeName,
                           java.time.Duration claimWait, java.time.Duration originStall,
                           Integer maxConnectionsPerIp, Integer maxHandshakesPerIp,
                           io.layerswarm.k8s.status.BandwidthProbe linkProbe) {
        /** The default upstream (the first). */
        public io.layerswarm.mirror.Upstream upstream() {
            return upstreams.get(0);
        }
    }

    /** Upstreams per node: each gets its own manifest cache and registry client. */
    static final int MAX_UPSTREAMS = 32;

    /** STUN servers per node: each is queried at every reachability check. */
    static final int MAX_STUN_SERVERS = 16;

    /** Reads a YAML config file; any problem is an {@link IllegalArgumentException} naming the file. */
    public static NodeConfig load(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("config " + file + ": not a readable file");
            }
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IllegalArgumentException("config " + file + ": larger than " + MAX_FILE_BYTES + " bytes");
            }
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("config " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses YAML text; {@code source} names it in errors. */
    public static NodeConfig parse(String yaml, String source) {
        if (yaml.length() > MAX_FILE_BYTES) {
            throw new IllegalArgumentException("config " + source + ": larger than " + MAX_FILE_BYTES + " bytes");
        }
        YAMLFactory f = YAMLFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(32).build()).build();
        ObjectMapper m = new ObjectMapper(f).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        try {
            NodeConfig c = m.readValue(yaml, NodeConfig.class);
            if (c == null) {
                return new NodeConfig(); // empty file: all defaults
            }
            if (c.listen == null) {
                c.listen = new ArrayList<>();
            }
            if (c.bootstrap == null) {
                c.bootstrap = new ArrayList<>();
            }
            if (c.upstreams == null) {
                c.upstreams = new ArrayList<>();
            }
            if (c.stun == null) {
                c.stun = new ArrayList<>();
            }
            return c;
        } catch (com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException e) {
            throw new IllegalArgumentException("config " + source + " (line " + e.getLocation().getLineNr()
                    + "): unknown key '" + e.getPropertyName() + "'; known keys: " + e.getKnownPropertyIds(), e);
        } catch (JsonProcessingException e) {
            String msg = e.getOriginalMessage() == null ? e.toString() : e.getOriginalMessage();
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
            throw new IllegalArgumentException("config " + source + where + ": " + firstLine(msg), e);
        }
    }

    /** Parser messages span lines (with an excerpt); one bounded line is enough to act on. */
    private static String firstLine(String s) {
        String one = s.replaceAll("\\s+", " ").trim();
        return one.length() > 300 ? one.substring(0, 300) + "..." : one;
    }

    /** Checks every setting and fills in defaults. */
    public Settings validate() {
        List<Multiaddr> ls = new ArrayList<>();
        for (String a : listen.isEmpty() ? List.of("/ip4/0.0.0.0/tcp/4001") : listen) {
            ls.add(multiaddr("listen", a));
        }
        List<Multiaddr> bs = new ArrayList<>();
        for (String a : bootstrap) {
            Multiaddr m = multiaddr("bootstrap", a);
            if (m.valueOf(MultiaddrProtocol.P2P).isEmpty()) {
                throw new IllegalArgumentException("bootstrap " + a + ": needs a trailing /p2p/<peer id>");
            }
            bs.add(m);
        }
        if (upstreams.isEmpty()) {
            throw new IllegalArgumentException("no upstream registry: set upstreams in the config or pass --upstream URL");
        }
        if (upstreams.size() > MAX_UPSTREAMS) {
            throw new IllegalArgumentException("at most " + MAX_UPSTREAMS + " upstreams, got " + upstreams.size());
        }
        List<io.layerswarm.mirror.Upstream> ups = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Upstream up : upstreams) {
            io.layerswarm.mirror.Upstream u = upstream(up);
            if (!names.add(u.namespace())) {
                throw new IllegalArgumentException("upstream " + u.url() + ": a second upstream for " + u.namespace()
                        + " (requests pick an upstream by host[:port])");
            }
            ups.add(u);
        }
        int uploads = maxUploads == null ? 3 : maxUploads;
        if (uploads < 1 || uploads > 256) {
            throw new IllegalArgumentException("maxUploads must be in 1..256, got " + uploads);
        }
        long piece = pieceSize == null ? 4L << 20 : parseSize("pieceSize", pieceSize);
        if (piece < 16 * 1024 || piece > 16L << 20) {
            throw new IllegalArgumentException("pieceSize must be between 16KiB and 16MiB, got " + pieceSize);
        }
        java.time.Duration claim = millis("claimWaitMs", claimWaitMs, io.layerswarm.node.SwarmConfig.defaults().claimWait());
        java.time.Duration stall = millis("originStallMs", originStallMs,
                io.layerswarm.node.SwarmConfig.defaults().originStall());
        long capacity = cacheCapacity == null ? 0 : parseSize("cacheCapacity", cacheCapacity);
        Path dir = cacheDir != null ? cacheDir : io.layerswarm.node.Node.DEFAULT_STORE_DIR;
        // inside the node's own directory: nodes on sibling directories get distinct identities
        Path keyFile = key != null ? key : dir.resolve(io.layerswarm.node.Node.KEY_FILE);
        boolean connectAll = discovery == null || discovery.connectAll == null || discovery.connectAll;
        boolean dhtClient = discovery != null && Boolean.TRUE.equals(discovery.dhtClient);
        if (stun.size() > MAX_STUN_SERVERS) {
            throw new IllegalArgumentException("at most " + MAX_STUN_SERVERS + " stun servers, got " + stun.size());
        }
        List<InetSocketAddress> stunServers = new ArrayList<>();
        for (String server : stun) {
            InetSocketAddress a = hostPort("stun", String.valueOf(server));
            if (a.getPort() == 0) {
                throw new IllegalArgumentException("stun " + server + ": needs a port (3478 is STUN's)");
            }
            stunServers.add(a);
        }
        List<TurnServer> turnServers = turnServer();
        perIpCap("maxConnectionsPerIp", maxConnectionsPerIp);
        perIpCap("maxHandshakesPerIp", maxHandshakesPerIp);
        return new Settings(List.copyOf(ls), List.copyOf(bs), keyFile, swarmKey, dir, capacity, List.copyOf(ups),
                hostPort("mirrorListen", mirrorListen == null ? "127.0.0.1:5000" : mirrorListen),
                uploads, (int) piece, connectAll, dhtClient, rate("maxUploadRate", maxUploadRate),
                rate("maxDownloadRate", maxDownloadRate),
                metricsListen == null ? null : hostPort("metricsListen", metricsListen),
                Boolean.TRUE.equals(relayService), List.copyOf(stunServers), turnServers,
                !Boolean.FALSE.equals(publishStatus),
                // the host name is looked up (and checked) only when something will carry it
                Boolean.FALSE.equals(publishStatus) ? nodeName : nodeName(nodeName), claim, stall,
                maxConnectionsPerIp, maxHandshakesPerIp, linkProbe());
    }

    /** The bandwidth probe settings: {@code linkProbeIntervalSeconds} (0 = off) and {@code linkProbeBytes}. */
    private io.layerswarm.k8s.status.BandwidthProbe linkProbe() {
        io.layerswarm.k8s.status.BandwidthProbe d = io.layerswarm.k8s.status.BandwidthProbe.DEFAULT;
        long seconds = linkProbeIntervalSeconds == null ? d.interval().toSeconds() : linkProbeIntervalSeconds;
        long min = io.layerswarm.k8s.status.BandwidthProbe.MIN_INTERVAL.toSeconds();
        long max = io.layerswarm.k8s.status.BandwidthProbe.MAX_INTERVAL.toSeconds();
        if (seconds != 0 && (seconds < min || seconds > max)) {
            throw new IllegalArgumentException("linkProbeIntervalSeconds must be 0 (off) or in " + min + ".." + max
                    + ", got " + seconds);
        }
        long bytes = linkProbeBytes == null ? d.bytes() : parseSize("linkProbeBytes", linkProbeBytes);
        if (bytes < io.layerswarm.k8s.status.BandwidthProbe.MIN_BYTES || bytes > io.layerswarm.k8s.status.BandwidthProbe.MAX_BYTES) {
            throw new IllegalArgumentException("linkProbeBytes " + linkProbeBytes + ": must be between 64KiB and 16MiB");
        }
        return new io.layerswarm.k8s.status.BandwidthProbe(java.time.Duration.ofSeconds(seconds), (int) bytes);
    }

    /** Above the host's 512 connections a per-IP cap binds nothing. */
    static final int MAX_PER_IP = 512;

    /** Checks a per-remote-IP cap: unset (the host's default) or 1..512. */
    private static void perIpCap(String what, Integer value) {
        if (value != null && (value < 1 || value > MAX_PER_IP)) {
            throw new IllegalArgumentException(what + " must be in 1.." + MAX_PER_IP + ", got " + value);
        }
    }

    /** The TURN server of {@code turn}, {@code turnUser} and {@code turnPasswordFile} (all or none), as a list. */
    private List<TurnServer> turnServer() {
        return turnServer(turn, turnUser, turnPasswordFile);
    }

    /**
     * The TURN server of a {@code HOST:PORT}, a user and a password file, all three or none (an empty list).
     *
     * @throws IllegalArgumentException if one is missing or bad, or the file cannot be used (the file named)
     */
    public static List<TurnServer> turnServer(String turn, String turnUser, Path turnPasswordFile) {
        if (turn == null) {
            if (turnUser != null || turnPasswordFile != null) {
                throw new IllegalArgumentException("turnUser and turnPasswordFile need a TURN server: set turn"
                        + " (--turn HOST:PORT)");
            }
            return List.of();
        }
        InetSocketAddress a = hostPort("turn", turn);
        if (a.getPort() == 0) {
            throw new IllegalArgumentException("turn " + turn + ": needs a port (3478 is TURN's)");
        }
        if (turnUser == null) {
            throw new IllegalArgumentException("turn " + turn + ": needs turnUser (--turn-user)");
        }
        if (turnPasswordFile == null) {
            throw new IllegalArgumentException("turn " + turn + ": needs turnPasswordFile (--turn-password-file)");
        }
        return List.of(TurnServer.withPasswordFile(a, turnUser, turnPasswordFile));
    }

    /** A bound in milliseconds, 0..1 hour. */
    private static java.time.Duration millis(String what, Long value, java.time.Duration dflt) {
        if (value == null) {
            return dflt;
        }
        if (value < 0 || value > 3_600_000L) {
            throw new IllegalArgumentException(what + " must be in 0..3600000 (milliseconds), got " + value);
        }
        return java.time.Duration.ofMillis(value);
    }

    /** Kubernetes node names are DNS subdomains (RFC 1123): lower-case alphanumerics, '-' and '.'. */
    private static final java.util.regex.Pattern NODE_NAME =
            java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    private static String nodeName(String configured) {
        String name = configured;
        if (name == null) {
            try {
                name = java.net.InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException("nodeName: this host's name is unknown (" + e.getMessage()
                        + "); set nodeName or pass --node-name NAME", e);
            }
        }
        if (name.length() > 253 || !NODE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("nodeName " + name + ": not a Kubernetes node name (lower-case letters,"
                    + " digits, '-' and '.', at most 253 characters)");
        }
        return name;
    }

    /** Bytes per second from a size like {@code 10MiB} (a trailing {@code /s} is allowed); 0 if unset. */
    private static long rate(String what, String text) {
        if (text == null) {
            return 0;
        }
        String t = text.trim();
        long r = parseSize(what, t.endsWith("/s") ? t.substring(0, t.length() - 2) : t);
        if (r < 1024) {
            throw new IllegalArgumentException(what + " " + text + ": at least 1KiB (bytes per second), or leave it unset"
                    + " for no limit");
        }
        return r;
    }

    private static io.layerswarm.mirror.Upstream upstream(Upstream up) {
        if (up == null) {
            throw new IllegalArgumentException("upstream: empty entry");
        }
        String password = up.password;
        if (up.passwordFile != null) {
            try {
                password = Files.readAllLines(up.passwordFile).stream().findFirst().orElse("");
            } catch (IOException e) {
                throw new IllegalArgumentException("upstream passwordFile " + up.passwordFile + ": " + e.getMessage(), e);
            }
        }
        return io.layerswarm.mirror.Upstream.parse(up.url, up.username, password, Boolean.TRUE.equals(up.insecure));
    }

    private static Multiaddr multiaddr(String what, String text) {
        try {
            return Multiaddr.parse(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(what + " " + text + ": not a multiaddr (" + e.getMessage() + ")", e);
        }
    }

    /** Parses {@code HOST:PORT} (port 0 picks a free one). */
    public static InetSocketAddress hostPort(String what, String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(what + " " + text + ": expected HOST:PORT");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " " + text + ": port is not a number", e);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(what + " " + text + ": port out of range");
        }
        return new InetSocketAddress(host, port);
    }

    /** Parses a size the way every command does ({@link ByteSize}: {@code 4096}, {@code 500MB}, {@code 1.5GB}, {@code 1GiB}). */
    public static long parseSize(String what, String text) {
        try {
            return ByteSize.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " " + text + ": " + e.getMessage(), e);
        }
    }
}
