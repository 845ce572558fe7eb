package io.layerswarm.daemon.node;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Settings of {@code layerswarm node}, as read from YAML (keys as in the field names below) and
 * overridden by flags. {@link #validate()} turns it into a checked {@link Settings}.
 */
public final class NodeConfig {
    /** Largest config file read; a config is a few hundred bytes. */
    static final long MAX_FILE_BYTES = 1024 * 1024;
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGT]?i?B?)?", Pattern.CASE_INSENSITIVE);

    /** One upstream registry. */
    public static final class Upstream {
        /** Base URL, https (plain http only for loopback). */
        @JsonProperty public String url;
        /** Optional user name. */
        @JsonProperty public String username;
        /** Optional password (or passwordFile). */
        @JsonProperty public String password;
        /** Optional file holding the password on its first line. */
        @JsonProperty public Path passwordFile;
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
    @JsonProperty public Discovery discovery;

    /** Checked settings, ready to start a node. */
    public record Settings(List<Multiaddr> listen, List<Multiaddr> bootstrap, Path key, Path swarmKey, Path cacheDir,
                           long cacheCapacity, List<UpstreamSettings> upstreams,
                           InetSocketAddress mirrorListen, int maxUploads, int pieceSize, boolean connectAll,
                           boolean dhtClient) {
        /** The default upstream (the first). */
        public UpstreamSettings upstream() {
            return upstreams.get(0);
        }
    }

    /**
     * One checked upstream registry.
     *
     * @param namespace the {@code ?ns=} value that selects it: host[:port] of the URL
     */
    public record UpstreamSettings(URI url, String username, String password, String namespace) {
    }

    /** Upstreams per node: each gets its own manifest cache and registry client. */
    static final int MAX_UPSTREAMS = 32;

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
        List<UpstreamSettings> ups = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Upstream up : upstreams) {
            UpstreamSettings u = upstream(up);
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
        long capacity = cacheCapacity == null ? 0 : parseSize("cacheCapacity", cacheCapacity);
        Path dir = cacheDir != null ? cacheDir
                : Path.of(System.getProperty("user.home"), ".cache", "layerswarm", "node");
        Path keyFile = key != null ? key : dir.resolveSibling("node.key");
        boolean connectAll = discovery == null || discovery.connectAll == null || discovery.connectAll;
        boolean dhtClient = discovery != null && Boolean.TRUE.equals(discovery.dhtClient);
        return new Settings(List.copyOf(ls), List.copyOf(bs), keyFile, swarmKey, dir, capacity, List.copyOf(ups),
                hostPort("mirrorListen", mirrorListen == null ? "127.0.0.1:5000" : mirrorListen),
                uploads, (int) piece, connectAll, dhtClient);
    }

    private static UpstreamSettings upstream(Upstream up) {
        if (up == null) {
            throw new IllegalArgumentException("upstream: empty entry");
        }
        URI url = upstreamUrl(up.url);
        String password = up.password;
        if (up.passwordFile != null) {
            try {
                password = Files.readAllLines(up.passwordFile).stream().findFirst().orElse("");
            } catch (IOException e) {
                throw new IllegalArgumentException("upstream passwordFile " + up.passwordFile + ": " + e.getMessage(), e);
            }
        }
        if ((up.username == null) != (password == null)) {
            throw new IllegalArgumentException("upstream " + url + ": username and password go together");
        }
        return new UpstreamSettings(url, up.username, password, io.layerswarm.mirror.UpstreamRouter.namespaceOf(url));
    }

    private static Multiaddr multiaddr(String what, String text) {
        try {
            return Multiaddr.parse(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(what + " " + text + ": not a multiaddr (" + e.getMessage() + ")", e);
        }
    }

    private static URI upstreamUrl(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("upstream: url missing");
        }
        URI u;
        try {
            u = new URI(text);
        } catch (Exception e) {
            throw new IllegalArgumentException("upstream " + text + ": not a URL", e);
        }
        if (u.getHost() == null || u.getScheme() == null) {
            throw new IllegalArgumentException("upstream " + text + ": expected http(s)://host[:port]");
        }
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("http")) {
            if (!isLoopback(u.getHost())) {
                throw new IllegalArgumentException("upstream " + text + ": plain http is allowed only for loopback;"
                        + " use https");
            }
        } else if (!scheme.equals("https")) {
            throw new IllegalArgumentException("upstream " + text + ": scheme must be https (or http on loopback)");
        }
        return u;
    }

    private static boolean isLoopback(String host) {
        String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        if (h.equalsIgnoreCase("localhost")) {
            return true;
        }
        // only literal addresses: no name lookups while validating config
        if (!h.matches("[0-9.]+") && !h.contains(":")) {
            return false;
        }
        try {
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Parses {@code HOST:PORT} (port 0 picks a free one). */
    static InetSocketAddress hostPort(String what, String text) {
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

    /** Parses {@code 500MB}, {@code 1GiB}, {@code 4096} (bytes); decimal and binary units. */
    public static long parseSize(String what, String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(what + " " + text + ": expected a size like 4096, 500MB or 1GiB");
        }
        String unit = m.group(2) == null ? "" : m.group(2).toUpperCase(Locale.ROOT);
        boolean binary = unit.contains("I");
        if (binary && !unit.endsWith("B") || unit.equals("I")) {
            throw new IllegalArgumentException(what + " " + text + ": expected a size like 4096, 500MB or 1GiB");
        }
        int power = unit.isEmpty() || unit.equals("B") ? 0 : "KMGT".indexOf(unit.charAt(0)) + 1;
        long base = binary ? 1024 : 1000;
        try {
            long v = Long.parseLong(m.group(1));
            for (int i = 0; i < power; i++) {
                v = Math.multiplyExact(v, base);
            }
            return v;
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException(what + " " + text + ": too large", e);
        }
    }
}
