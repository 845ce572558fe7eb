package io.layerswarm.libp2p.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.KeyFiles;
import io.layerswarm.libp2p.crypto.Keys;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.multistream.MultistreamNegotiator.Role;
import io.layerswarm.libp2p.multistream.MultistreamSelect;
import io.layerswarm.libp2p.multistream.ProtocolInstaller;
import io.layerswarm.libp2p.pnet.SwarmKey;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.Future;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Noise (and pnet) against a real js-libp2p 3.x node ({@code src/test/js/noise-peer.mjs}, with
 * {@code @chainsafe/libp2p-noise} and {@code @libp2p/pnet}) over loopback TCP, in both directions.
 * Success is proven beyond the handshake: the muxer negotiation (multistream-select over the Noise
 * transport) must complete, which needs encryption and decryption to agree both ways.
 */
class NoiseJsInteropIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String YAMUX = "/yamux/1.0.0";
    private static EventLoopGroup group;
    private static Path jsDir;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() throws Exception {
        jsDir = Path.of(System.getProperty("layerswarm.js.dir", "src/test/js")).toAbsolutePath();
        if (!Files.isRegularFile(jsDir.resolve("noise-peer.mjs")) || !Files.isRegularFile(jsDir.resolve("package.json"))) {
            fail("js interop peer not found in " + jsDir + " (need noise-peer.mjs and package.json)");
        }
        if (!Files.isDirectory(jsDir.resolve("node_modules"))) {
            Process npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund").directory(jsDir.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!npm.waitFor(300, TimeUnit.SECONDS) || npm.exitValue() != 0) {
                fail("npm install failed in " + jsDir + "; node and npm are required (scripts/install-system-packages.sh)");
            }
        }
        group = new NioEventLoopGroup(1);
    }

    @AfterAll
    static void tearDown() {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** A running js-libp2p node. */
    private static final class JsPeer implements AutoCloseable {
        final Process process;
        final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
        final List<String> stderr = new ArrayList<>();

        JsPeer(String... args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of("node", "noise-peer.mjs"));
            cmd.addAll(List.of(args));
            process = new ProcessBuilder(cmd).directory(jsDir.toFile()).start();
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        try {
                            events.add(JSON.readTree(line));
                        } catch (IOException e) {
                            stderr.add("stdout: " + line);
                        }
                    }
                } catch (IOException ignored) {
                    // process ended
                }
            }, "js-peer-stdout");
            t.setDaemon(true);
            t.start();
            Thread e = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        synchronized (stderr) {
                            stderr.add(line);
                        }
                    }
                } catch (IOException ignored) {
                    // process ended
                }
            }, "js-peer-stderr");
            e.setDaemon(true);
            e.start();
        }

        JsonNode await(String event) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < deadline) {
                JsonNode n = events.poll(200, TimeUnit.MILLISECONDS);
                if (n != null && event.equals(n.path("event").asText())) {
                    return n;
                }
                if (n == null && !process.isAlive() && events.isEmpty()) {
                    break;
                }
            }
            synchronized (stderr) {
                fail("js peer never reported '" + event + "'; stderr: " + String.join("\n", stderr));
            }
            return null;
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private record Upgrade(Future<SecureSession> session, CompletableFuture<Future<String>> muxer) {
    }

    private static Upgrade upgrade(SocketChannel c, SecurityUpgrader upgrader, Role role, PeerId expected) {
        CompletableFuture<Future<String>> muxer = new CompletableFuture<>();
        Future<SecureSession> session = upgrader.secure(c, role, expected, s -> muxer.complete(role == Role.INITIATOR
                ? MultistreamSelect.initiate(c.pipeline(), List.of(YAMUX), ProtocolInstaller.NONE)
                : MultistreamSelect.respond(c.pipeline(), List.of(YAMUX), ProtocolInstaller.NONE)));
        return new Upgrade(session, muxer);
    }

    private Upgrade dialJs(JsonNode started, SecurityUpgrader upgrader) throws Exception {
        Multiaddr addr = Multiaddr.parse(started.path("addrs").get(0).asText());
        int port = Integer.parseInt(addr.valueOf(MultiaddrProtocol.TCP).orElseThrow());
        PeerId jsId = PeerId.parse(started.path("peerId").asText());
        CompletableFuture<Upgrade> up = new CompletableFuture<>();
        new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel c) {
                up.complete(upgrade(c, upgrader, Role.INITIATOR, jsId));
            }
        }).connect("127.0.0.1", port).sync();
        return up.get(5, TimeUnit.SECONDS);
    }

    @Test
    void javaDialsJsOverNoise() throws Exception {
        Ed25519PrivateKey me = Ed25519PrivateKey.generate();
        try (JsPeer js = new JsPeer("listen")) {
            JsonNode started = js.await("started");
            Upgrade up = dialJs(started, new SecurityUpgrader(me));
            SecureSession session = up.session().get(15, TimeUnit.SECONDS);
            assertEquals(started.path("peerId").asText(), session.remotePeerId().toString());
            // js-libp2p always advertises its muxers (early muxer negotiation); we advertise none, so
            // it falls back to multistream-select for the muxer, which the next line proves
            assertEquals(List.of(YAMUX), session.remoteStreamMuxers());
            assertEquals(YAMUX, up.muxer().get(5, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS));
            JsonNode conn = js.await("connection");
            assertEquals(me.peerId().toString(), conn.path("remotePeer").asText());
            assertEquals("/noise", conn.path("encryption").asText());
        }
    }

    @Test
    void jsDialsJavaOverNoise() throws Exception {
        Ed25519PrivateKey me = Ed25519PrivateKey.generate();
        CompletableFuture<Upgrade> inbound = new CompletableFuture<>();
        SecurityUpgrader upgrader = new SecurityUpgrader(me);
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        inbound.complete(upgrade(c, upgrader, Role.RESPONDER, null));
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        try (JsPeer js = new JsPeer("dial", "/ip4/127.0.0.1/tcp/" + port + "/p2p/" + me.peerId())) {
            JsonNode started = js.await("started");
            Upgrade up = inbound.get(20, TimeUnit.SECONDS);
            SecureSession session = up.session().get(15, TimeUnit.SECONDS);
            assertEquals(started.path("peerId").asText(), session.remotePeerId().toString());
            assertEquals(YAMUX, up.muxer().get(5, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS));
            JsonNode dialled = js.await("dialled");
            assertEquals(me.peerId().toString(), dialled.path("remotePeer").asText());
        } finally {
            server.close().sync();
        }
    }

    @Test
    void keyFilesAreInterchangeableWithJs() throws Exception {
        // js -> Java: the key js-libp2p marshals loads here and names the same peer
        try (JsPeer js = new JsPeer("listen")) {
            JsonNode started = js.await("started");
            PrivateKey jsKey = Keys.unmarshalPrivateKey(HexFormat.of().parseHex(started.path("privateKeyProtobufHex").asText()));
            assertEquals(started.path("peerId").asText(), jsKey.peerId().toString());
        }
        // Java -> js: a LayerSwarm key file runs a js node with the same peer id, and that node proves it
        Path keyFile = tmp.resolve("identity.key");
        PrivateKey mine = KeyFiles.loadOrGenerate(keyFile);
        try (JsPeer js = new JsPeer("listen", "--key", keyFile.toString())) {
            JsonNode started = js.await("started");
            assertEquals(mine.peerId().toString(), started.path("peerId").asText());
            assertEquals(HexFormat.of().formatHex(mine.marshal()), started.path("privateKeyProtobufHex").asText());
            Upgrade up = dialJs(started, new SecurityUpgrader(Ed25519PrivateKey.generate()));
            assertEquals(mine.peerId(), up.session().get(15, TimeUnit.SECONDS).remotePeerId());
        }
    }

    @Test
    void privateNetworkWithJs() throws Exception {
        SwarmKey psk = SwarmKey.generate();
        Path keyFile = tmp.resolve("swarm.key");
        Files.writeString(keyFile, psk.toFileText());
        Ed25519PrivateKey me = Ed25519PrivateKey.generate();
        try (JsPeer js = new JsPeer("listen", "--psk", keyFile.toString())) {
            JsonNode started = js.await("started");
            Upgrade ok = dialJs(started, new SecurityUpgrader(me).withPrivateNetwork(psk));
            assertNotNull(ok.session().get(15, TimeUnit.SECONDS));
            assertEquals(YAMUX, ok.muxer().get(5, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS));
            assertEquals(me.peerId().toString(), js.await("connection").path("remotePeer").asText());

            Upgrade bad = dialJs(started, new SecurityUpgrader(Ed25519PrivateKey.generate())
                    .withPrivateNetwork(SwarmKey.generate()).withTimeout(Duration.ofSeconds(4)));
            assertTrue(bad.session().await(15, TimeUnit.SECONDS));
            assertFalse(bad.session().isSuccess(), "a wrong swarm key must not connect");
        }
    }
}
