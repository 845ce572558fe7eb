package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigTest {
    @TempDir
    Path tmp;

    private static final String FULL = """
            listen: [/ip4/127.0.0.1/tcp/4001, /ip4/0.0.0.0/udp/4001/quic-v1]
            bootstrap: [/ip4/127.0.0.1/tcp/4002/p2p/12D3KooWDq8uwKRsWUVqinBqJBCCu7snWLC96UShSZNG63eRbKbu]
            key: /var/lib/layerswarm/node.key
            cacheDir: /var/lib/layerswarm/cache
            cacheCapacity: 1GiB
            upstreams:
              - url: https://registry.example.com
                username: ci
                password: secret
              - url: http://127.0.0.1:5002
            discovery: {connectAll: false, dhtClient: true}
            mirrorListen: 127.0.0.1:5001
            maxUploads: 5
            pieceSize: 1MiB
            claimWaitMs: 30000
            originStallMs: 0
            """;

    @Test
    void readsEverySetting() {
        NodeConfig.Settings s = NodeConfig.parse(FULL, "t").validate();
        assertEquals("/ip4/127.0.0.1/tcp/4001", s.listen().get(0).toString());
        assertEquals("/ip4/0.0.0.0/udp/4001/quic-v1", s.listen().get(1).toString());
        assertEquals(1, s.bootstrap().size());
        assertEquals(Path.of("/var/lib/layerswarm/cache"), s.cacheDir());
        assertEquals(1L << 30, s.cacheCapacity());
        assertEquals("https://registry.example.com", s.upstream().url().toString());
        assertEquals("registry.example.com", s.upstream().namespace());
        assertEquals("ci", s.upstream().username());
        assertEquals("secret", s.upstream().password());
        assertEquals(2, s.upstreams().size());
        assertEquals("127.0.0.1:5002", s.upstreams().get(1).namespace());
        assertNull(s.upstreams().get(1).username());
        assertFalse(s.connectAll());
        assertTrue(s.dhtClient());
        assertTrue(NodeConfig.parse("upstreams: [{url: https://a}]", "t").validate().connectAll());
        assertEquals(5001, s.mirrorListen().getPort());
        assertEquals(5, s.maxUploads());
        assertEquals(1 << 20, s.pieceSize());
        assertEquals(java.time.Duration.ofSeconds(30), s.claimWait());
        assertEquals(java.time.Duration.ZERO, s.originStall());
        NodeConfig.Settings defaults = NodeConfig.parse("upstreams: [{url: https://a}]", "t").validate();
        assertEquals(io.layerswarm.node.SwarmConfig.defaults().claimWait(), defaults.claimWait());
        assertEquals(io.layerswarm.node.SwarmConfig.defaults().originStall(), defaults.originStall());
    }

    @Test
    void sizesInDecimalAndBinaryUnits() {
        assertEquals(500_000_000L, NodeConfig.parseSize("x", "500MB"));
        assertEquals(1L << 30, NodeConfig.parseSize("x", "1GiB"));
        assertEquals(4096, NodeConfig.parseSize("x", "4096"));
        assertEquals(2048, NodeConfig.parseSize("x", "2KiB"));
        // the one size parser of every command: cache-sim --capacity 1.5GB and node --cache-capacity 1.5GB agree
        assertEquals(io.layerswarm.cache.ByteSize.parse("1.5GB"), NodeConfig.parseSize("x", "1.5GB"));
        assertEquals(1_500_000_000L, NodeConfig.parseSize("x", "1.5GB"));
        for (String bad : new String[] {"", "MB", "-1MB", "5XB", "1.2.3GB", "99999999999999999999", "9999999999TiB"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NodeConfig.parseSize("x", bad));
            assertTrue(e.getMessage().startsWith("x "), e.getMessage());
        }
    }

    @Test
    void plainHttpUpstreamOnlyOnLoopback() {
        String base = "upstreams: [{url: \"%s\"}]\n";
        NodeConfig.parse(base.formatted("http://127.0.0.1:5000"), "t").validate();
        NodeConfig.parse(base.formatted("http://[::1]:5000"), "t").validate();
        NodeConfig.parse(base.formatted("http://localhost:5000"), "t").validate();
        for (String url : new String[] {"http://10.0.0.1:5000", "http://registry.example.com", "ftp://127.0.0.1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> NodeConfig.parse(base.formatted(url), "t").validate());
            assertTrue(e.getMessage().contains(url), e.getMessage());
        }
    }

    @Test
    void insecureUpstreamsRatesAndMetricsAddress() {
        NodeConfig.Settings s = NodeConfig.parse("""
                upstreams:
                  - {url: "http://10.0.0.7:5000", insecure: true}
                  - {url: "https://r.lan", insecure: true}
                  - {url: "https://r.example.com"}
                maxUploadRate: 10MiB
                maxDownloadRate: 80MB/s
                metricsListen: 0.0.0.0:9402
                """, "t").validate();
        assertTrue(s.upstreams().get(0).insecure(), "plain http on the LAN, marked insecure");
        assertTrue(s.upstreams().get(1).insecure());
        assertFalse(s.upstreams().get(2).insecure());
        assertEquals(10L << 20, s.maxUploadRate());
        assertEquals(80_000_000L, s.maxDownloadRate());
        assertEquals(9402, s.metricsListen().getPort());
        NodeConfig.Settings defaults = NodeConfig.parse("upstreams: [{url: https://a}]", "t").validate();
        assertEquals(0, defaults.maxUploadRate(), "unlimited");
        assertEquals(0, defaults.maxDownloadRate(), "unlimited");
        assertNull(defaults.metricsListen(), "off");
    }

    @Test
    void linkProbeSettings() {
        NodeConfig.Settings d = NodeConfig.parse("upstreams: [{url: https://a}]", "t").validate();
        assertEquals(io.layerswarm.k8s.status.BandwidthProbe.DEFAULT, d.linkProbe(), "ten minutes, 1 MiB");
        NodeConfig.Settings s = NodeConfig.parse("upstreams: [{url: https://a}]\nlinkProbeIntervalSeconds: 60\n"
                + "linkProbeBytes: 256KiB", "t").validate();
        assertEquals(java.time.Duration.ofMinutes(1), s.linkProbe().interval());
        assertEquals(256 * 1024, s.linkProbe().bytes());
        NodeConfig.Settings off = NodeConfig.parse("upstreams: [{url: https://a}]\nlinkProbeIntervalSeconds: 0", "t").validate();
        assertFalse(off.linkProbe().enabled(), "0 turns the probes off");
    }

    @Test
    void badValuesNameTheSetting() {
        assertMessage("upstreams: []", "no upstream");
        assertMessage("upstreams: [{url: https://a}]\nlisten: [not-an-addr]", "listen not-an-addr");
        assertMessage("upstreams: [{url: https://a}]\nbootstrap: [/ip4/127.0.0.1/tcp/1]", "/p2p/");
        assertMessage("upstreams: [{url: https://a}]\nmaxUploads: 0", "maxUploads");
        assertMessage("upstreams: [{url: https://a}]\nclaimWaitMs: -1", "claimWaitMs must be in 0..3600000");
        assertMessage("upstreams: [{url: https://a}]\noriginStallMs: 3600001", "originStallMs");
        assertMessage("upstreams: [{url: https://a}]\npieceSize: 1KiB", "pieceSize");
        assertMessage("upstreams: [{url: https://a}]\nmirrorListen: nohost", "mirrorListen");
        assertMessage("upstreams: [{url: https://a, username: u}]", "username and password");
        assertMessage("upstreams: [{url: https://a}, {url: https://A/v2}]", "a second upstream for a");
        assertMessage("upstreams: [{url: https://a}, {url: http://10.0.0.1}]", "plain http");
        assertMessage("upstreams: [{url: https://a}]\ndiscovery: {connectAll: maybe}", "t");
        assertMessage("upstreams: [{url: http://10.0.0.1, insecure: false}]", "insecure: true");
        assertMessage("upstreams: [{url: http://10.0.0.1, insecure: maybe}]", "config t");
        assertMessage("upstreams: [{url: https://a}]\nmaxUploadRate: fast", "maxUploadRate fast");
        assertMessage("upstreams: [{url: https://a}]\nlinkProbeIntervalSeconds: 5", "linkProbeIntervalSeconds must be 0 (off) or in 10..86400");
        assertMessage("upstreams: [{url: https://a}]\nlinkProbeIntervalSeconds: -1", "linkProbeIntervalSeconds");
        assertMessage("upstreams: [{url: https://a}]\nlinkProbeIntervalSeconds: 86401", "linkProbeIntervalSeconds");
        assertMessage("upstreams: [{url: https://a}]\nlinkProbeBytes: 1KiB", "linkProbeBytes 1KiB: must be between 64KiB and 16MiB");
        assertMessage("upstreams: [{url: https://a}]\nlinkProbeBytes: 17MiB", "linkProbeBytes 17MiB");
        assertMessage("upstreams: [{url: https://a}]\nlinkProbeBytes: lots", "linkProbeBytes lots");
        assertMessage("upstreams: [{url: https://a}]\nmaxDownloadRate: 10", "maxDownloadRate 10: at least 1KiB");
        assertMessage("upstreams: [{url: https://a}]\nmaxDownloadRate: -5MB", "maxDownloadRate");
        assertMessage("upstreams: [{url: https://a}]\nmetricsListen: 9402", "metricsListen 9402");
        assertMessage("upstreams: [{url: https://a}]\nmetricsListen: 127.0.0.1:http", "metricsListen");
        assertMessage("upstreams: [{url: https://a}]\nstun: [coturn]", "stun coturn: expected HOST:PORT");
        assertMessage("upstreams: [{url: https://a}]\nstun: [\"127.0.0.1:99999\"]", "stun 127.0.0.1:99999: port out");
        assertMessage("upstreams: [{url: https://a}]\nstun: [\"127.0.0.1:0\"]", "stun 127.0.0.1:0: needs a port");
        assertMessage("upstreams: [{url: https://a}]\nstun: [" + "\"127.0.0.1:3478\", ".repeat(17) + "]",
                "at most 16 stun servers");
        assertMessage("upstreams: [{url: https://a}]\nrelayService: maybe", "config t");
    }

    @Test
    void turnSettingsComeTogetherAndThePasswordFromItsFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path pw = java.nio.file.Files.writeString(dir.resolve("turn.pw"), "s3cret\n");
        NodeConfig.Settings s = NodeConfig.parse("upstreams: [{url: https://a}]\nturn: \"127.0.0.1:3478\"\n"
                + "turnUser: edge\nturnPasswordFile: " + pw + "\n", "t").validate();
        assertEquals(List.of(new io.layerswarm.nat.ice.TurnServer(new java.net.InetSocketAddress("127.0.0.1", 3478),
                "edge", "s3cret")), s.turn());
        assertEquals(List.of(), NodeConfig.parse("upstreams: [{url: https://a}]", "t").validate().turn());
        String base = "upstreams: [{url: https://a}]\n";
        assertMessage(base + "turn: coturn", "turn coturn: expected HOST:PORT");
        assertMessage(base + "turn: \"127.0.0.1:0\"\nturnUser: u\nturnPasswordFile: " + pw, "needs a port");
        assertMessage(base + "turn: \"127.0.0.1:3478\"\nturnPasswordFile: " + pw, "needs turnUser (--turn-user)");
        assertMessage(base + "turn: \"127.0.0.1:3478\"\nturnUser: u", "needs turnPasswordFile (--turn-password-file)");
        assertMessage(base + "turnUser: u", "need a TURN server");
        assertMessage(base + "turn: \"127.0.0.1:3478\"\nturnUser: u\nturnPasswordFile: " + dir.resolve("nope"),
                "turn password file " + dir.resolve("nope") + ": not found");
        java.nio.file.Path empty = java.nio.file.Files.writeString(dir.resolve("empty"), "");
        assertMessage(base + "turn: \"127.0.0.1:3478\"\nturnUser: u\nturnPasswordFile: " + empty, ": is empty");
    }

    @Test
    void natTraversalSettings() {
        NodeConfig.Settings s = NodeConfig.parse("""
                upstreams: [{url: https://a}]
                relayService: true
                stun: ["127.0.0.1:3478", "[::1]:3479"]
                """, "t").validate();
        assertTrue(s.relayService());
        assertEquals(List.of(new java.net.InetSocketAddress("127.0.0.1", 3478),
                new java.net.InetSocketAddress("::1", 3479)), s.stun());
        NodeConfig.Settings defaults = NodeConfig.parse("upstreams: [{url: https://a}]\nstun: []", "t").validate();
        assertFalse(defaults.relayService());
        assertEquals(List.of(), defaults.stun());
    }

    @Test
    void statusPublishingAndNodeName() {
        NodeConfig.Settings s = NodeConfig.parse("upstreams: [{url: https://a}]\nnodeName: edge-a.zone-1", "t").validate();
        assertTrue(s.publishStatus(), "on by default");
        assertEquals("edge-a.zone-1", s.nodeName());
        NodeConfig.Settings d = NodeConfig.parse("upstreams: [{url: https://a}]", "t").validate();
        assertFalse(d.nodeName().isEmpty(), "the host name");
        assertEquals(d.nodeName().toLowerCase(java.util.Locale.ROOT), d.nodeName(), "lower-cased as kubelet does");
        assertFalse(NodeConfig.parse("upstreams: [{url: https://a}]\npublishStatus: false", "t").validate().publishStatus());
        assertMessage("upstreams: [{url: https://a}]\nnodeName: Edge_A", "nodeName Edge_A: not a Kubernetes node name");
        assertMessage("upstreams: [{url: https://a}]\nnodeName: edge-", "nodeName edge-");
        assertMessage("upstreams: [{url: https://a}]\nnodeName: '" + "a".repeat(254) + "'", "at most 253");
        assertMessage("upstreams: [{url: https://a}]\npublishStatus: maybe", "config t");
    }

    @Test
    void perIpCapsFromTheFileOrTheFlags() {
        NodeConfig.Settings s = NodeConfig.parse("upstreams: [{url: https://a}]\nmaxConnectionsPerIp: 8\n"
                + "maxHandshakesPerIp: 4", "t").validate();
        assertEquals(8, s.maxConnectionsPerIp());
        assertEquals(4, s.maxHandshakesPerIp());
        NodeConfig.Settings defaults = NodeConfig.parse("upstreams: [{url: https://a}]", "t").validate();
        assertNull(defaults.maxConnectionsPerIp(), "unset: the host's default");
        assertNull(defaults.maxHandshakesPerIp(), "unset: the host's default");
        assertMessage("upstreams: [{url: https://a}]\nmaxConnectionsPerIp: 0", "maxConnectionsPerIp must be in 1..512, got 0");
        assertMessage("upstreams: [{url: https://a}]\nmaxHandshakesPerIp: 513", "maxHandshakesPerIp must be in 1..512, got 513");
        assertMessage("upstreams: [{url: https://a}]\nmaxHandshakesPerIp: -1", "maxHandshakesPerIp");
        assertMessage("upstreams: [{url: https://a}]\nmaxHandshakesPerIp: many", "config t");

        NodeCommand cmd = new NodeCommand();
        new picocli.CommandLine(cmd).parseArgs("--upstream", "https://a", "--max-connections-per-ip", "3",
                "--max-handshakes-per-ip", "2");
        NodeConfig.Settings flags = cmd.settings();
        assertEquals(3, flags.maxConnectionsPerIp());
        assertEquals(2, flags.maxHandshakesPerIp());
        NodeCommand zero = new NodeCommand();
        new picocli.CommandLine(zero).parseArgs("--upstream", "https://a", "--max-handshakes-per-ip", "0");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, zero::settings);
        assertTrue(e.getMessage().contains("maxHandshakesPerIp must be in 1..512, got 0"), e.getMessage());
    }

    private static void assertMessage(String yaml, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NodeConfig.parse(yaml, "t").validate());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void garbageYamlIsAOneLineError() throws Exception {
        String[] garbage = {"listen: [oops", "lisen: x", "maxUploads: lots", "- a\n- b", "{", ": : :",
                "a: &x [*x]", "[".repeat(10_000), FULL.substring(0, FULL.length() / 2) + "\"unterminated"};
        for (String g : garbage) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> NodeConfig.parse(g, "t").validate(), g);
            assertTrue(e.getMessage().startsWith("config t") || e.getMessage().contains("upstream"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n") && e.getMessage().length() < 600, e.getMessage());
        }
        Random r = new Random(7);
        for (int i = 0; i < 200; i++) {
            byte[] b = new byte[r.nextInt(512)];
            r.nextBytes(b);
            String text = new String(b, StandardCharsets.ISO_8859_1);
            try {
                NodeConfig.parse(text, "t").validate();
            } catch (IllegalArgumentException expected) {
                assertTrue(!expected.getMessage().contains("\n"), expected.getMessage());
            }
        }
    }

    @Test
    void oversizedFileIsRefusedBeforeReading() throws Exception {
        Path big = tmp.resolve("big.yaml");
        try (var ch = Files.newByteChannel(big, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.SPARSE)) {
            ch.position(NodeConfig.MAX_FILE_BYTES + 10);
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NodeConfig.load(big));
        assertTrue(e.getMessage().contains("larger than"), e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NodeConfig.load(tmp.resolve("missing.yaml")))
                .getMessage().contains("not a readable file"));
    }
}
