package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code layerswarm node} as a process: YAML with flag overrides, SIGTERM, and bad config. */
class NodeConfigIT {
    @TempDir
    Path tmp;

    private record Started(Process process, String listen, String mirror) { }

    private static Started start(Path err, String... args) throws Exception {
        Process p = new ProcessBuilder(NodeProcess.command(args)).redirectError(err.toFile()).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String l1 = r.readLine();
        String l2 = r.readLine();
        assertTrue(l1 != null && l1.startsWith("listening ") && l2 != null && l2.startsWith("mirror "),
                l1 + " / " + l2 + " / " + Files.readString(err));
        return new Started(p, l1.substring(10), l2.substring(7));
    }

    private static int terminate(Process p) throws Exception {
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "node exits on SIGTERM");
        return p.exitValue();
    }

    @Test
    void yamlWithFlagOverridesAndCleanShutdown() throws Exception {
        Path config = tmp.resolve("node.yaml");
        Files.writeString(config, """
                listen: [/ip4/127.0.0.1/tcp/0]
                mirrorListen: 127.0.0.1:0
                cacheDir: %s
                key: %s
                upstreams: [{url: "http://127.0.0.1:1"}]
                cacheCapacity: 500MB
                maxUploads: 2
                """.formatted(tmp.resolve("cache"), tmp.resolve("keys/node.key")));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path err = tmp.resolve("err1");
        Started first = start(err, "node", "--config", config.toString(), "--mirror-listen", "127.0.0.1:" + port,
                "--cache-capacity", "1GiB");
        assertEquals("http://127.0.0.1:" + port, first.mirror(), "the flag overrides the file's mirrorListen");
        assertTrue(first.listen().matches("/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/12D3Koo\\w+"), first.listen());
        assertTrue(Files.isRegularFile(tmp.resolve("keys/node.key")), "key file created");
        assertTrue(Files.isDirectory(tmp.resolve("cache")), "cache dir from the file");
        assertEquals(143, terminate(first.process()), "terminated by SIGTERM after its shutdown hook");

        // same key file, same identity; a flag replaces the file's listen list
        Started second = start(tmp.resolve("err2"), "node", "--config", config.toString(), "--listen",
                "/ip4/127.0.0.1/tcp/0", "--mirror-listen", "127.0.0.1:0");
        String id = first.listen().substring(first.listen().lastIndexOf('/'));
        assertTrue(second.listen().endsWith(id), second.listen() + " keeps " + id);
        terminate(second.process());
    }

    /**
     * The per-IP handshake cap of the config file, overridden by the flag, reaches the node's host: with
     * 1 allowed, the second of two connections that never speak is closed at once and logged.
     */
    @Test
    void handshakeCapFromFileAndFlagReachesTheHost() throws Exception {
        Path config = tmp.resolve("caps.yaml");
        Files.writeString(config, "maxHandshakesPerIp: 5\nmaxConnectionsPerIp: 8\n");
        try (NodeProcess node = NodeProcess.startWith("caps", tmp.resolve("caps"), List.of("--config",
                config.toString(), "--upstream", "http://127.0.0.1:1", "--cache-dir", tmp.resolve("caps-cache").toString(),
                "--max-handshakes-per-ip", "1"), "INFO");
             java.net.Socket first = new java.net.Socket("127.0.0.1", Integer.parseInt(node.listen.split("/")[4]));
             java.net.Socket second = new java.net.Socket("127.0.0.1", first.getPort())) {
            io.layerswarm.testing.Await.until(java.time.Duration.ofSeconds(30), "the node refuses the second",
                    () -> readOrEmpty(node.stderr).contains("event=handshake_refused ip=127.0.0.1"
                            + " reason=address_limit limit=1"));
            second.setSoTimeout(30_000);
            try {
                while (second.getInputStream().read() >= 0) {
                    // its multistream header, if any, then the close
                }
            } catch (java.net.SocketException reset) {
                // closed with unread data
            }
        }
    }

    private static String readOrEmpty(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void cacheCapacityEvictsWhatDoesNotFit() throws Exception {
        Path cacheDir = tmp.resolve("cache");
        try (io.layerswarm.cache.store.ContentStore cs = io.layerswarm.cache.store.ContentStore.open(cacheDir)) {
            for (int i = 0; i < 3; i++) {
                byte[] blob = new byte[600];
                new java.util.Random(i).nextBytes(blob);
                cs.ingest(io.layerswarm.oci.Digest.sha256(blob), new java.io.ByteArrayInputStream(blob));
            }
        }
        Started node = start(tmp.resolve("err"), "node", "--upstream", "http://127.0.0.1:1", "--listen",
                "/ip4/127.0.0.1/tcp/0", "--mirror-listen", "127.0.0.1:0", "--cache-dir", cacheDir.toString(),
                "--key", tmp.resolve("node.key").toString(), "--cache-capacity", "1000");
        try {
            // the cache opens before the node reports its addresses: 1800 bytes held, 1000 allowed
            terminate(node.process());
        } finally {
            node.process().destroyForcibly();
        }
        try (io.layerswarm.cache.store.ContentStore cs = io.layerswarm.cache.store.ContentStore.open(cacheDir)) {
            assertEquals(1, cs.list().size(), "two of three 600-byte blobs evicted under a 1000-byte capacity");
        }
    }

    @Test
    void badConfigIsOneClearLineAndExitTwo() throws Exception {
        Path garbage = tmp.resolve("garbage.yaml");
        Files.writeString(garbage, "listen: [/ip4/127.0.0.1/tcp/0\nupstreams: {{{{");
        Path random = tmp.resolve("random.yaml");
        byte[] noise = new byte[4096];
        new java.util.Random(5).nextBytes(noise);
        Files.write(random, noise);
        Path typo = tmp.resolve("typo.yaml");
        Files.writeString(typo, "upstreams: [{url: https://r.example}]\nmirrorListn: 127.0.0.1:5000\n");
        List<List<String>> cases = List.of(
                List.of("node", "--config", garbage.toString()),
                List.of("node", "--config", random.toString()),
                List.of("node", "--config", typo.toString()),
                List.of("node", "--config", tmp.resolve("missing.yaml").toString()),
                List.of("node", "--upstream", "http://192.0.2.1:5000", "--cache-dir", tmp.resolve("c").toString()),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--cache-capacity", "lots"),
                // bad flags: one line too, not the usage text
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--no-such-flag"),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--max-uploads", "many"),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--connect-all", "maybe"),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--metrics-listen"),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--max-upload-rate", "fast"),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--max-download-rate", "0"),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--metrics-listen", "nohost"),
                List.of("node", "--insecure-upstream", "ftp://10.0.0.1"),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--node-name", "Edge_A"),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--publish-status", "maybe"),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--link-probe-interval", "5"),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--link-probe-bytes", "1KiB"),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--max-handshakes-per-ip", "0"),
                List.of("node", "--upstream", "http://127.0.0.1:5000", "--max-connections-per-ip", "many"),
                List.of("node", "unexpected-argument"),
                List.of("no-such-command"));
        // each case is a JVM start-up, mostly idle waits on a loaded machine: four at a time, checked in order
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Exit>> runs = new ArrayList<>();
            for (List<String> args : cases) {
                runs.add(pool.submit(() -> exit(args)));
            }
            for (int i = 0; i < cases.size(); i++) {
                List<String> args = cases.get(i);
                Exit e = runs.get(i).get(2, TimeUnit.MINUTES);
                assertTrue(e.exited(), args + " exits");
                assertEquals(2, e.status(), args + ": " + e.err());
                assertEquals("", e.out(), args.toString());
                List<String> lines = e.err().lines().toList();
                assertEquals(1, lines.size(), args + " prints one line: " + e.err());
                assertTrue(lines.get(0).startsWith("error: "), lines.get(0));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private record Exit(boolean exited, int status, String out, String err) { }

    /** Runs {@code layerswarm args} to its end (30 s at most). */
    private static Exit exit(List<String> args) throws Exception {
        Process p = new ProcessBuilder(NodeProcess.command(args.toArray(String[]::new))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean exited = p.waitFor(30, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly();
            return new Exit(false, -1, out, err);
        }
        return new Exit(true, p.exitValue(), out, err);
    }
}
