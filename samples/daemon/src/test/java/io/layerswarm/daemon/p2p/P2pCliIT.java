package io.layerswarm.daemon.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.daemon.DaemonJar;
import io.layerswarm.libp2p.pnet.SwarmKey;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code layerswarm p2p listen|ping|identify} as separate processes, and against a js-libp2p peer. */
class P2pCliIT {
    private static final Path JAR = DaemonJar.JAR;
    private static final Path JS = Path.of("../../p2p-core/src/test/js").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    record Result(int exit, List<String> out) { }

    private static List<String> java(String... args) {
        return DaemonJar.command(args);
    }

    private static Result run(List<String> cmd) throws Exception {
        return runAll(List.of(cmd)).get(0);
    }

    /**
     * Runs the commands side by side (each a JVM start-up, which is most of their time) and returns their
     * results in order; their output is small enough to wait in the pipe until read.
     */
    private static List<Result> runAll(List<List<String>> cmds) throws Exception {
        List<Process> started = new ArrayList<>();
        for (List<String> cmd : cmds) {
            started.add(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start());
        }
        List<Result> results = new ArrayList<>();
        for (int i = 0; i < cmds.size(); i++) {
            results.add(collect(started.get(i), cmds.get(i)));
        }
        return results;
    }

    private static Result collect(Process p, List<String> cmd) throws Exception {
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String l;
            while ((l = r.readLine()) != null) {
                lines.add(l);
            }
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + cmd);
        }
        return new Result(p.exitValue(), lines);
    }

    /** Starts a long-running process and returns it with its first stdout line. */
    private static Process start(List<String> cmd, String prefix, String[] firstLine, Path dir) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir == null ? null : dir.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (line == null || !line.startsWith(prefix)) {
            p.destroyForcibly();
            fail("unexpected first line " + line + " from " + cmd);
        }
        firstLine[0] = line.substring(prefix.length()).trim();
        return p;
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    private static void assertPings(Result r, int n) {
        assertEquals(0, r.exit(), r.out().toString());
        assertEquals(n, r.out().size(), r.out().toString());
        for (String l : r.out()) {
            assertTrue(l.matches("rtt_ms=\\d+\\.\\d+"), l);
        }
    }

    @Test
    void listenPingIdentifyAcrossProcesses() throws Exception {
        assertTrue(Files.isRegularFile(JAR), "build the shaded jar first (mvn package): " + JAR);
        Path keyFile = tmp.resolve("id.key");
        String[] addr = new String[1];
        Process listener = start(java("p2p", "listen", "--key", keyFile.toString()), "listening ", addr, null);
        try {
            assertTrue(Files.exists(keyFile), "identity key file created");
            assertTrue(addr[0].matches("/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/12D3Koo\\w+"), addr[0]);
            List<Result> both = runAll(List.of(java("p2p", "ping", addr[0], "--count", "3"),
                    java("p2p", "identify", addr[0])));
            assertPings(both.get(0), 3);
            Result id = both.get(1);
            assertEquals(0, id.exit());
            JsonNode j = new ObjectMapper().readTree(String.join("", id.out()));
            assertEquals(addr[0].substring(addr[0].indexOf("/p2p/") + 5), j.get("peerId").asText());
            assertEquals("layerswarm/0.1.0", j.get("agentVersion").asText());
            assertEquals("ipfs/0.1.0", j.get("protocolVersion").asText());
            assertTrue(j.get("protocols").toString().contains("/ipfs/ping/1.0.0"));
            assertTrue(j.get("protocols").toString().contains("/ipfs/kad/1.0.0"), j.toString());
            assertEquals(addr[0].substring(0, addr[0].indexOf("/p2p/")), j.get("listenAddrs").get(0).asText());
            assertTrue(j.get("observedAddr").asText().startsWith("/ip4/127.0.0.1/tcp/"));
        } finally {
            stop(listener);
        }
        // Same key file, same identity after a restart.
        String[] again = new String[1];
        Process second = start(java("p2p", "listen", "--key", keyFile.toString()), "listening ", again, null);
        stop(second);
        assertEquals(addr[0].substring(addr[0].indexOf("/p2p/")), again[0].substring(again[0].indexOf("/p2p/")));
    }

    @Test
    void privateSwarmKey() throws Exception {
        Path key = tmp.resolve("swarm.key");
        Files.writeString(key, SwarmKey.generate().toFileText());
        Path other = tmp.resolve("other.key");
        Files.writeString(other, SwarmKey.generate().toFileText());
        String[] addr = new String[1];
        Process listener = start(java("p2p", "listen", "--swarm-key", key.toString()), "listening ", addr, null);
        try {
            List<Result> pings = runAll(List.of(java("p2p", "ping", addr[0], "--swarm-key", key.toString()),
                    java("p2p", "ping", addr[0], "--swarm-key", other.toString(), "--timeout", "5"),
                    java("p2p", "ping", addr[0], "--timeout", "5")));
            assertPings(pings.get(0), 1);
            assertNotEquals(0, pings.get(1).exit(), "ping with another swarm key");
            assertNotEquals(0, pings.get(2).exit(), "ping without the swarm key");
        } finally {
            stop(listener);
        }
    }

    @Test
    void againstJsLibp2p() throws Exception {
        if (!Files.isDirectory(JS.resolve("node_modules/libp2p"))) {
            Result npm = run(List.of("npm", "--prefix", JS.toString(), "install", "--no-audit", "--no-fund"));
            assertEquals(0, npm.exit(), "npm install in " + JS + " (node/npm from scripts/install-system-packages.sh)");
        }
        String[] addr = new String[1];
        Process js = start(List.of("node", JS.resolve("peer.mjs").toString(), "listen"), "LISTEN ", addr, JS);
        try {
            List<Result> both = runAll(List.of(java("p2p", "ping", addr[0], "--count", "2"),
                    java("p2p", "identify", addr[0])));
            assertPings(both.get(0), 2);
            Result id = both.get(1);
            assertEquals(0, id.exit());
            JsonNode j = new ObjectMapper().readTree(String.join("", id.out()));
            assertTrue(j.get("agentVersion").asText().startsWith("js-libp2p/"), j.toString());
            assertTrue(addr[0].endsWith(j.get("peerId").asText()));
        } finally {
            stop(js);
        }
        // And the js peer pings our listener.
        String[] ours = new String[1];
        Process listener = start(java("p2p", "listen"), "listening ", ours, null);
        try {
            List<String> cmd = List.of("node", JS.resolve("peer.mjs").toString(), "dial", ours[0], "--scenario",
                    "identify,ping");
            Result r = run(cmd);
            assertEquals(0, r.exit(), r.out().toString());
            assertEquals("DONE", r.out().get(r.out().size() - 1));
        } finally {
            stop(listener);
        }
    }
}
