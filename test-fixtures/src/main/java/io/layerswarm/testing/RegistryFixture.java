package io.layerswarm.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Debian {@code docker-registry} (distribution 2.8) on a random 127.0.0.1 port with temporary
 * storage, for integration tests. Three authentication modes: none, htpasswd (bcrypt) and token
 * (JWTs from a token server the fixture runs on loopback). The registry's access log is captured and
 * parsed, so tests can count the bytes it served per blob.
 *
 * <pre>{@code
 * try (RegistryFixture reg = RegistryFixture.start(RegistryFixture.Mode.TOKEN)) {
 *     URI base = reg.baseUri();   // http://127.0.0.1:PORT
 *     ... reg.username(), reg.password(), reg.blobBytesServed() ...
 * }
 * }</pre>
 */
public final class RegistryFixture implements AutoCloseable {

    /** In TOKEN mode, repositories under this prefix are private: anonymous callers may not pull them. */
    public static final String PRIVATE_PREFIX = "private/";

    /** Authentication mode of the registry. */
    public enum Mode {
        /** No authentication. */
        PLAIN,
        /** HTTP Basic against a bcrypt htpasswd file. */
        HTPASSWD,
        /** Bearer tokens from the fixture's own token server. */
        TOKEN
    }

    /** Path of the registry binary the Debian package installs. */
    public static final Path REGISTRY_BINARY = Path.of("/usr/bin/docker-registry");

    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    private final Mode mode;
    private final Path workDir;
    private final Path storageDir;
    private final Path stdoutLog;
    private final Path stderrLog;
    private final int port;
    private final String username;
    private final String password;
    private final TokenServer tokenServer;
    /** The running registry; replaced by {@link #restart()}, null while {@link #stop() stopped}. */
    private volatile Process process;

    private final boolean tls;
    /** Command prefix the registry runs under (e.g. {@code ip netns exec NS}); empty: this namespace. */
    private final List<String> prefix;
    /** The address the registry listens on. */
    private final String ip;

    private RegistryFixture(Mode mode, boolean tls, List<String> prefix, String ip, int fixedPort)
            throws IOException {
        requireTool(REGISTRY_BINARY, "docker-registry");
        this.mode = mode;
        this.tls = tls;
        this.prefix = List.copyOf(prefix);
        this.ip = ip;
        this.workDir = Files.createTempDirectory("layerswarm-registry-");
        this.storageDir = Files.createDirectories(workDir.resolve("storage"));
        this.stdoutLog = workDir.resolve("access.log");
        this.stderrLog = workDir.resolve("registry.log");
        this.username = "tester";
        this.password = "pw-" + UUID.randomUUID();
        TokenServer ts = null;
        Process p = null;
        int chosenPort = -1;
        try {
            StringBuilder auth = new StringBuilder();
            String tlsConfig = "";
            switch (mode) {
                case PLAIN -> { }
                case HTPASSWD -> {
                    Path htpasswd = workDir.resolve("htpasswd");
                    Files.writeString(htpasswd, bcryptLine(username, password));
                    auth.append("auth:\n  htpasswd:\n    realm: layerswarm-test\n    path: ")
                            .append(htpasswd).append('\n');
                }
                case TOKEN -> {
                    ts = new TokenServer(username, password);
                    Path bundle = workDir.resolve("token-root.pem");
                    ts.writeRootCertBundle(bundle);
                    auth.append("auth:\n  token:\n    realm: ").append(ts.realm())
                            .append("\n    service: ").append(TokenServer.SERVICE)
                            .append("\n    issuer: ").append(TokenServer.ISSUER)
                            .append("\n    rootcertbundle: ").append(bundle).append('\n');
                }
                default -> throw new IllegalArgumentException("mode " + mode);
            }
            if (tls) {
                SelfSignedCert serverCert = SelfSignedCert.create("127.0.0.1");
                Path certFile = workDir.resolve("tls-cert.pem");
                Path keyFile = workDir.resolve("tls-key.pem");
                serverCert.writeCertPem(certFile);
                serverCert.writeKeyPem(keyFile);
                tlsConfig = "  tls:\n    certificate: " + certFile + "\n    key: " + keyFile + "\n";
            }
            // A free port can be taken between probing and binding; retry a few times.
            IOException last = null;
            for (int attempt = 0; attempt < 3 && p == null; attempt++) {
                chosenPort = fixedPort > 0 ? fixedPort : freePort();
                Path config = workDir.resolve("config.yml");
                Files.writeString(config, config(ip, chosenPort, tlsConfig, auth.toString(), storageDir));
                Process started = new ProcessBuilder(command(config))
                        .redirectOutput(stdoutLog.toFile())
                        .redirectError(stderrLog.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                        .start();
                try {
                    awaitReady(started, chosenPort);
                    p = started;
                } catch (IOException e) {
                    destroyTree(started);
                    last = e;
                }
            }
            if (p == null) {
                throw last;
            }
        } catch (IOException | RuntimeException e) {
            if (ts != null) {
                ts.close();
            }
            deleteTree(workDir);
            throw e;
        }
        this.port = chosenPort;
        this.tokenServer = ts;
        this.process = p;
    }

    /**
     * Starts a registry in the given mode and waits until {@code /v2/} answers.
     *
     * @throws IllegalStateException if docker-registry is not installed
     * @throws UncheckedIOException if it does not come up (the message includes its log)
     */
    public static RegistryFixture start(Mode mode) {
        return start(mode, false);
    }

    /**
     * As {@link #start(Mode)}; with {@code tls} the registry serves HTTPS with a fresh self-signed
     * certificate for 127.0.0.1, so clients must skip verification.
     */
    public static RegistryFixture start(Mode mode, boolean tls) {
        try {
            return new RegistryFixture(mode, tls, List.of(), "127.0.0.1", 0);
        } catch (IOException e) {
            throw new UncheckedIOException("docker-registry did not start: " + e.getMessage(), e);
        }
    }

    /**
     * A plain (no authentication, no TLS) registry started under a command prefix, e.g.
     * {@code ip netns exec NS} for a network namespace, listening on {@code ip:port} there. Readiness is
     * probed with {@code curl} under the same prefix, since this JVM may not reach that address.
     */
    public static RegistryFixture startUnder(List<String> prefix, String ip, int port) {
        try {
            return new RegistryFixture(Mode.PLAIN, false, prefix, ip, port);
        } catch (IOException e) {
            throw new UncheckedIOException("docker-registry did not start: " + e.getMessage(), e);
        }
    }

    private List<String> command(Path config) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(REGISTRY_BINARY.toString(), "serve", config.toString()));
        return cmd;
    }

    private static String config(String ip, int port, String tlsConfig, String auth, Path storage) {
        return "version: 0.1\n"
                + "log:\n  level: info\n  accesslog:\n    disabled: false\n"
                + "storage:\n  filesystem:\n    rootdirectory: " + storage + "\n  delete:\n    enabled: true\n"
                + "  maintenance:\n    uploadpurging:\n      enabled: false\n"
                + "http:\n  addr: " + ip + ":" + port + "\n  secret: " + UUID.randomUUID() + "\n"
                + tlsConfig + auth;
    }

    private void awaitReady(Process started, int p) throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        URI probe = URI.create((tls ? "https" : "http") + "://" + ip + ":" + p + "/v2/");
        while (System.nanoTime() < deadline) {
            if (!started.isAlive()) {
                throw new IOException("docker-registry exited with status " + started.exitValue()
                        + "; log:\n" + tail(stderrLog));
            }
            if (prefix.isEmpty() ? answersHere(probe) : answersUnderPrefix(probe)) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for docker-registry", e);
            }
        }
        throw new IOException("docker-registry did not answer on " + probe + " within " + START_TIMEOUT
                + "; log:\n" + tail(stderrLog));
    }

    private static boolean answersHere(URI probe) {
        try {
            HttpURLConnection c = (HttpURLConnection) probe.toURL().openConnection();
            if (c instanceof javax.net.ssl.HttpsURLConnection https) {
                https.setSSLSocketFactory(trustAll().getSocketFactory());
                https.setHostnameVerifier((h, s) -> true);
            }
            c.setConnectTimeout(500);
            c.setReadTimeout(1000);
            int status = c.getResponseCode();
            c.disconnect();
            return status == 200 || status == 401;
        } catch (IOException notYet) {
            return false; // not listening yet
        }
    }

    /** Whether {@code curl} under the prefix gets any HTTP status from {@code probe}. */
    private boolean answersUnderPrefix(URI probe) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of("curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", probe.toString()));
        Process curl = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            String code = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return curl.waitFor(10, TimeUnit.SECONDS) && (code.equals("200") || code.equals("401"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted probing docker-registry", e);
        }
    }

    /** Fails with an actionable message when a tool the fixture runs is not installed. */
    static void requireTool(Path binary, String debianPackage) {
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " is missing: install the Debian package '" + debianPackage
                    + "' (scripts/install-system-packages.sh)");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String bcryptLine(String user, String password) throws IOException {
        Path htpasswd = Path.of("/usr/bin/htpasswd");
        requireTool(htpasswd, "apache2-utils");
        Process p = new ProcessBuilder(htpasswd.toString(), "-Bbn", user, password).start();
        try {
            byte[] out = p.getInputStream().readAllBytes();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("htpasswd failed: " + err);
            }
            return new String(out, StandardCharsets.UTF_8).trim() + "\n";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running htpasswd", e);
        }
    }

    /** The authentication mode. */
    public Mode mode() {
        return mode;
    }

    /**
     * Base URI, {@code http://127.0.0.1:PORT} ({@code https} with TLS; the {@link #startUnder} address),
     * without a trailing slash.
     */
    public URI baseUri() {
        return URI.create((tls ? "https" : "http") + "://" + ip + ":" + port);
    }

    /** Whether the registry serves HTTPS (self-signed). */
    public boolean tls() {
        return tls;
    }

    /** An SSL context trusting any certificate, for probing the self-signed registry. */
    private static javax.net.ssl.SSLContext trustAll() {
        try {
            javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
            ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
                @Override public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) { }
                @Override public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) { }
                @Override public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                    return new java.security.cert.X509Certificate[0];
                }
            }}, null);
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code 127.0.0.1:PORT}, the registry part of image references. */
    public String hostPort() {
        return ip + ":" + port;
    }

    /** The port the registry listens on. */
    public int port() {
        return port;
    }

    /** The user accepted in HTPASSWD and TOKEN modes. */
    public String username() {
        return username;
    }

    /** That user's password. */
    public String password() {
        return password;
    }

    /** The registry's storage root. */
    public Path storageDir() {
        return storageDir;
    }

    /** The file holding the registry's stdout (its access log). */
    public Path accessLogFile() {
        return stdoutLog;
    }

    /** The file holding the registry's stderr (its application log). */
    public Path registryLogFile() {
        return stderrLog;
    }

    /** The token realm in TOKEN mode. */
    public Optional<URI> tokenRealm() {
        return tokenServer == null ? Optional.empty() : Optional.of(tokenServer.realm());
    }

    /** Token requests answered so far (TOKEN mode; empty otherwise). */
    public List<TokenRequest> tokenRequests() {
        return tokenServer == null ? List.of() : tokenServer.requests();
    }

    /**
     * The parsed access log so far. The registry writes a line just after it finishes a response, so
     * this waits until the log has been quiet for about 300 ms (at most 3 s) before reading.
     */
    public List<AccessLogEntry> accessLog() {
        try {
            // Quiet means three unchanged looks 100 ms apart (robust on a loaded machine), 3 s at most.
            long lastSize = -1;
            int quiet = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (quiet < 3 && System.nanoTime() < deadline) {
                long size = Files.size(stdoutLog);
                quiet = size == lastSize ? quiet + 1 : 0;
                lastSize = size;
                if (quiet < 3) {
                    Thread.sleep(100);
                }
            }
            List<AccessLogEntry> out = new ArrayList<>();
            for (String line : Files.readAllLines(stdoutLog, StandardCharsets.UTF_8)) {
                AccessLogEntry.parse(line).ifPresent(out::add);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read registry access log " + stdoutLog, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * Body bytes the registry sent for successful blob GETs (200 and 206), per digest string, from the
     * access log's response-size field.
     */
    public Map<String, Long> blobBytesServed() {
        Map<String, Long> out = new HashMap<>();
        for (AccessLogEntry e : accessLog()) {
            if (e.method().equals("GET") && (e.status() == 200 || e.status() == 206)) {
                e.blobDigest().ifPresent(d -> out.merge(d, e.bytesSent(), Long::sum));
            }
        }
        return out;
    }

    /** Blob bytes served in all (see {@link #blobBytesServed()}): take it before and after a run. */
    public long totalBlobBytesServed() {
        return blobBytesServed().values().stream().mapToLong(Long::longValue).sum();
    }

    /** Bytes served for one blob (see {@link #blobBytesServed()}). */
    public long blobBytesServed(String digest) {
        return blobBytesServed().getOrDefault(digest, 0L);
    }

    /**
     * Stops the registry process (SIGTERM, then SIGKILL after 5 s) but keeps its storage, port and
     * configuration, so {@link #restart()} brings back the same registry: an outage, as a chaos test
     * needs it. No-op if already stopped.
     */
    public synchronized void stop() {
        Process p = process;
        if (p != null) {
            destroyTree(p);
            process = null;
        }
    }

    /**
     * Starts the registry again on the same port with the same storage and configuration (clients keep
     * their URLs) and waits until {@code /v2/} answers; stops the running one first, if any. The access
     * log keeps growing across restarts.
     *
     * @throws UncheckedIOException if it does not come up (for instance the port was taken meanwhile)
     */
    public synchronized void restart() {
        stop();
        try {
            // Append: byte counts from the access log must cover every run of the process.
            Process started = new ProcessBuilder(command(workDir.resolve("config.yml")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(stdoutLog.toFile()))
                    .redirectError(ProcessBuilder.Redirect.appendTo(stderrLog.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            try {
                awaitReady(started, port);
            } catch (IOException e) {
                destroyTree(started);
                throw e;
            }
            process = started;
        } catch (IOException e) {
            throw new UncheckedIOException("docker-registry did not restart on port " + port + ": " + e.getMessage(), e);
        }
    }

    /** Whether the registry process is running (false after {@link #stop()} or if it died). */
    public boolean running() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** Stops the registry (its whole process tree) and the token server, and deletes the storage. */
    @Override
    public synchronized void close() {
        stop();
        if (tokenServer != null) {
            tokenServer.close();
        }
        deleteTree(workDir);
    }

    private static void destroyTree(Process p) {
        p.descendants().forEach(ProcessHandle::destroy);
        p.destroy();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    private static String tail(Path file) {
        try {
            if (!Files.exists(file)) {
                return "(no log)";
            }
            String s = Files.readString(file, StandardCharsets.UTF_8);
            return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort: temp dirs are cleaned by the OS eventually
        }
    }
}
