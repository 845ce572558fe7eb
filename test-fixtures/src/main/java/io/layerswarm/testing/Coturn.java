package io.layerswarm.testing;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real coturn {@code turnserver} (Debian package {@code coturn}) for integration tests: STUN (and,
 * with a user, TURN with long-term credentials) on one UDP/TCP port, no TLS, no config file, log to a
 * temporary file. Optionally started through a command prefix (e.g. {@code ip netns exec wan}).
 * Readiness is the caller's to check (send a STUN binding until it answers), because only a STUN
 * client knows what "answers" means.
 */
public final class Coturn implements AutoCloseable {
    /** Path of the binary the Debian package installs. */
    public static final Path BINARY = Path.of("/usr/bin/turnserver");

    private final Process process;
    private final InetSocketAddress address;
    private final Path log;
    private final Path pid;

    private Coturn(Process process, InetSocketAddress address, Path log, Path pid) {
        this.process = process;
        this.address = address;
        this.log = log;
        this.pid = pid;
    }

    /**
     * Starts coturn on {@code ip:port} (port 0: a free one, picked on this host's loopback, so only
     * for the default namespace), STUN only unless {@code user} ("name:password") is given, in which
     * case TURN allocations need those credentials in realm {@code layerswarm}.
     */
    public static Coturn start(List<String> prefix, String ip, int port, String user) throws IOException {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " missing: install coturn (scripts/install-system-packages.sh)");
        }
        int p = port;
        if (p == 0) {
            try (DatagramSocket probe = new DatagramSocket(0, InetAddress.getByName(ip))) {
                p = probe.getLocalPort();
            }
        }
        Path log = Files.createTempFile("coturn-", ".log");
        // its own pid file: the default (/var/run/turnserver.pid) is shared by every coturn on the machine
        Path pid = Files.createTempFile("coturn-", ".pid");
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(BINARY.toString(), "-n", "--no-cli", "--no-tls", "--no-dtls", "--listening-ip", ip,
                "--listening-port", Integer.toString(p), "--relay-ip", ip, "--min-port", "49152", "--max-port", "49400",
                "--log-file", log.toString(), "--pidfile", pid.toString(), "--simple-log", "--allow-loopback-peers",
                "--no-software-attribute"));
        if (user == null) {
            cmd.add("--stun-only");
        } else {
            cmd.addAll(List.of("--lt-cred-mech", "--user", user, "--realm", "layerswarm"));
        }
        Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        return new Coturn(proc, new InetSocketAddress(ip, p), log, pid);
    }

    /** The STUN/TURN address. */
    public InetSocketAddress address() {
        return address;
    }

    /** Whether the process still runs. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** The server's log so far (for failure messages). */
    public String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        Files.deleteIfExists(log);
        Files.deleteIfExists(pid);
    }
}
