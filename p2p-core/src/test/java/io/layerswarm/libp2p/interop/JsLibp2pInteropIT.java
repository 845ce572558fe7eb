package io.layerswarm.libp2p.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.HostTest;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.identify.IdentifyInfo;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.ping.Ping;
import io.layerswarm.libp2p.pnet.SwarmKey;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LayerSwarm's libp2p stack (TCP, pnet, Noise, Yamux, identify, ping) against js-libp2p 3, both ways. */
class JsLibp2pInteropIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long BIG = 64L << 20;

    @TempDir
    Path tmp;

    @BeforeAll
    static void install() throws Exception {
        JsPeer.ensureInstalled();
    }

    private Identify identify;

    Host javaHost(SwarmKey key) throws Exception {
        Host.Builder b = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .handshakeTimeout(Duration.ofSeconds(5));
        if (key != null) {
            b.swarmKey(key);
        }
        Host h = b.build().start();
        identify = Identify.attach(h);
        Ping.attach(h);
        h.setBlockingHandler(JsPeer.ECHO, s -> s.inputStream().transferTo(s.outputStream()));
        h.setBlockingHandler(JsPeer.SHA256, HostTest::serveSha);
        return h;
    }

    static String addr(Host h) {
        return h.listenAddrs().get(0) + "/p2p/" + h.peerId().toBase58();
    }

    private Path keyFile(SwarmKey key) throws Exception {
        Path f = Files.createTempFile(tmp, "swarm", ".key");
        Files.writeString(f, key.toFileText());
        return f;
    }

    @Test
    void javaDialsJs() throws Exception {
        try (JsPeer js = JsPeer.listen(); Host h = javaHost(null)) {
            Multiaddr target = Multiaddr.parse(js.multiaddr);
            PeerId jsId = PeerId.parse(target.valueOf(io.layerswarm.libp2p.multiformats.MultiaddrProtocol.P2P).orElseThrow());
            Connection c = h.connect(target).get(15, TimeUnit.SECONDS);
            assertEquals(jsId, c.remotePeer());

            IdentifyInfo info = identify.identify(c).get(15, TimeUnit.SECONDS);
            assertEquals(jsId, info.peerId());
            assertEquals("ipfs/0.1.0", info.protocolVersion());
            assertTrue(info.agentVersion().startsWith("js-libp2p/3."), info.agentVersion());
            assertTrue(info.protocols().containsAll(List.of(Identify.PROTOCOL, Ping.PROTOCOL, JsPeer.SHA256)),
                    info.protocols().toString());
            assertTrue(info.listenAddrs().contains(target.withoutPeerId()), info.listenAddrs().toString());
            assertEquals(c.localAddr(), info.observedAddr().orElseThrow().withoutPeerId());

            List<Duration> rtts = Ping.ping(c, 3).get(15, TimeUnit.SECONDS);
            assertEquals(3, rtts.size());

            P2pStream echo = c.newStream(List.of(JsPeer.ECHO)).get(15, TimeUnit.SECONDS);
            echo.outputStream().write("hello js".getBytes(StandardCharsets.UTF_8));
            echo.outputStream().close();
            assertEquals("hello js", new String(echo.inputStream().readAllBytes(), StandardCharsets.UTF_8));

            P2pStream s = c.newStream(List.of(JsPeer.SHA256)).get(15, TimeUnit.SECONDS);
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            Random rnd = new Random(11);
            byte[] chunk = new byte[1 << 20];
            OutputStream out = s.outputStream();
            for (long sent = 0; sent < BIG; sent += chunk.length) {
                rnd.nextBytes(chunk);
                md.update(chunk);
                out.write(chunk);
            }
            out.close();
            assertEquals(HexFormat.of().formatHex(md.digest()),
                    new String(s.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void jsDialsJava() throws Exception {
        try (Host h = javaHost(null)) {
            List<String> out = JsPeer.dial(addr(h), "--scenario", "identify,ping,echo,hash", "--bytes",
                    Long.toString(BIG));
            assertEquals("DONE", out.get(out.size() - 1), out.toString());
            JsonNode id = JSON.readTree(line(out, "IDENTIFY ").substring("IDENTIFY ".length()));
            assertEquals(h.peerId().toBase58(), id.get("peerId").asText());
            assertEquals("layerswarm/0.1.0", id.get("agentVersion").asText());
            assertEquals("ipfs/0.1.0", id.get("protocolVersion").asText());
            assertTrue(id.get("protocols").toString().contains(JsPeer.SHA256));
            assertTrue(id.get("protocols").toString().contains(Ping.PROTOCOL));
            assertEquals(h.listenAddrs().get(0).toString(), id.get("listenAddrs").get(0).asText());
            assertTrue(id.get("observedAddr").asText().startsWith("/ip4/127.0.0.1/tcp/"), id.toString());
            assertTrue(Double.parseDouble(line(out, "PING ").substring(5)) >= 0);
            assertEquals("ECHO ok", line(out, "ECHO "));
            String[] hash = line(out, "HASH ").split(" ");
            assertEquals(hash[1], hash[2], "sha256 of what js sent vs what Java received");
            // The Java side identified the js peer on its own.
            PeerId js = h.connections().isEmpty() ? null : h.connections().get(0).remotePeer();
            if (js != null) {
                assertFalse(h.peerStore().get(js).orElseThrow().agentVersion().isEmpty());
            }
        }
    }

    @Test
    void privateNetworkBothWays() throws Exception {
        SwarmKey key = SwarmKey.generate();
        Path keyFile = keyFile(key);
        try (JsPeer js = JsPeer.listen("--swarm-key", keyFile.toString());
             Host right = javaHost(key); Host wrong = javaHost(SwarmKey.generate()); Host open = javaHost(null)) {
            Multiaddr target = Multiaddr.parse(js.multiaddr);
            Connection c = right.connect(target).get(15, TimeUnit.SECONDS);
            assertNotNull(Ping.ping(c).get(15, TimeUnit.SECONDS));
            assertThrows(ExecutionException.class, () -> wrong.connect(target).get(15, TimeUnit.SECONDS));
            assertThrows(ExecutionException.class, () -> open.connect(target).get(15, TimeUnit.SECONDS));

            List<String> ok = JsPeer.dial(addr(right), "--swarm-key", keyFile.toString(), "--scenario", "ping,echo");
            assertEquals("DONE", ok.get(ok.size() - 1), ok.toString());
            List<String> bad = JsPeer.dial(addr(wrong), "--swarm-key", keyFile.toString(), "--scenario", "ping");
            assertTrue(bad.get(bad.size() - 1).startsWith("ERROR"), bad.toString());
        }
    }

    private static String line(List<String> out, String prefix) {
        return out.stream().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + prefix.trim() + " line in " + out));
    }
}
