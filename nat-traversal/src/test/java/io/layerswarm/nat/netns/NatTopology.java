package io.layerswarm.nat.netns;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The NAT test network, made of namespaces this test creates and deletes: a "wan" namespace whose
 * bridge {@code 10.214.0.1/24} hosts the public services, and per edge cloud a router namespace
 * (WAN leg on the bridge, iptables MASQUERADE — port-preserving, or {@code --random-fully} for a
 * symmetric NAT — and the INPUT rule that drops unsolicited inbound connections, as real gateways do)
 * with one node namespace behind it on {@code 10.214.N.0/24}. Links are shaped with {@code tc tbf}.
 */
final class NatTopology implements AutoCloseable {
    static final String WAN_IP = "10.214.0.1";

    private final String prefix;
    private final List<String> namespaces = new ArrayList<>();
    final String wan;

    /** Result of a command. */
    record Result(int code, String out) {
        boolean ok() {
            return code == 0;
        }
    }

    private NatTopology(String prefix) throws IOException {
        this.prefix = prefix;
        wan = ns("wan");
        sh("ip", "netns", "exec", wan, "ip", "link", "add", "br0", "type", "bridge");
        sh("ip", "netns", "exec", wan, "ip", "addr", "add", WAN_IP + "/24", "dev", "br0");
        sh("ip", "netns", "exec", wan, "ip", "link", "set", "br0", "up");
    }

    /**
     * Creates the wan namespace, or, where namespaces cannot be made, skips the test — except under
     * CI (env CI=true), where a missing prerequisite fails it.
     */
    static NatTopology create() throws IOException {
        return create("lsn");
    }

    /**
     * {@link #create()} with namespace and interface names starting with {@code tag} (3 letters) and this
     * JVM's pid, so a test class using a topology of its own never meets another one's names.
     */
    static NatTopology create(String tag) throws IOException {
        String prefix = tag + ProcessHandle.current().pid() % 100000;
        String probe = prefix + "probe";
        Result r = run(List.of("ip", "netns", "add", probe));
        boolean tools = run(List.of("sh", "-c", "command -v tc && command -v iptables")).ok();
        String why = !r.ok() ? "'ip netns add' failed (needs root/CAP_SYS_ADMIN): " + r.out().trim()
                : !tools ? "tc or iptables missing (scripts/install-system-packages.sh)" : null;
        if (r.ok()) {
            sh("ip", "netns", "del", probe);
        }
        if (why != null) {
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail("NAT topology needs root, netns, tc and iptables under CI: " + why);
            }
            Assumptions.abort("skipped: " + why);
        }
        return new NatTopology(prefix);
    }

    /** The namespaces of edge cloud {@code n}: its router and the node behind it, and its router's NAT kind. */
    record Cloud(int n, String router, String node, boolean symmetric) {
    }

    /** The node address of cloud {@code n}. */
    static String nodeIp(int n) {
        return "10.214." + n + ".10";
    }

    /** Cloud {@code n}'s router address on the wan bridge (its NAT's public address). */
    static String routerIp(int n) {
        return "10.214.0." + (n + 1);
    }

    /**
     * An edge cloud {@code n} (1..99): router namespace with WAN address {@link #routerIp} and LAN
     * {@code 10.214.n.1/24}, node namespace {@link #nodeIp}; both router legs shaped to {@code rate}.
     */
    Cloud cloud(int n, boolean symmetric, String rate) throws IOException {
        if (n < 1 || n > 99) {
            throw new IllegalArgumentException("cloud number 1..99 (interface names, addresses): " + n);
        }
        String router = ns("r" + n);
        String node = ns("n" + n);
        String w = prefix + "w" + n;
        String wb = prefix + "b" + n;
        sh("ip", "link", "add", "name", w, "netns", router, "type", "veth", "peer", "name", wb, "netns", wan);
        sh("ip", "netns", "exec", wan, "ip", "link", "set", wb, "master", "br0");
        sh("ip", "netns", "exec", wan, "ip", "link", "set", wb, "up");
        sh("ip", "netns", "exec", router, "ip", "addr", "add", routerIp(n) + "/24", "dev", w);
        sh("ip", "netns", "exec", router, "ip", "link", "set", w, "up");
        String l = prefix + "l" + n;
        String e = prefix + "e" + n;
        sh("ip", "link", "add", "name", l, "netns", router, "type", "veth", "peer", "name", e, "netns", node);
        sh("ip", "netns", "exec", router, "ip", "addr", "add", "10.214." + n + ".1/24", "dev", l);
        sh("ip", "netns", "exec", router, "ip", "link", "set", l, "up");
        sh("ip", "netns", "exec", node, "ip", "addr", "add", nodeIp(n) + "/24", "dev", e);
        sh("ip", "netns", "exec", node, "ip", "link", "set", e, "up");
        sh("ip", "netns", "exec", node, "ip", "route", "add", "default", "via", "10.214." + n + ".1");
        sh("ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        List<String> nat = new ArrayList<>(List.of("ip", "netns", "exec", router, "iptables", "-t", "nat", "-A",
                "POSTROUTING", "-o", w, "-j", "MASQUERADE"));
        if (symmetric) {
            nat.add("--random-fully");
        }
        sh(nat.toArray(String[]::new));
        sh("ip", "netns", "exec", router, "iptables", "-A", "INPUT", "-i", w, "-m", "conntrack", "--ctstate", "NEW",
                "-j", "DROP");
        for (String[] dev : new String[][] {{router, w}, {wan, wb}}) {
            sh("ip", "netns", "exec", dev[0], "tc", "qdisc", "add", "dev", dev[1], "root", "tbf", "rate", rate, "burst",
                    "256kb", "latency", "200ms");
        }
        return new Cloud(n, router, node, symmetric);
    }

    /**
     * Carries the traffic between the routers of clouds {@code a} and {@code b} (their punched direct paths; the
     * relay and coturn stay on the wan bridge) through a userspace delay line ({@code scripts/bench/delay-line.py}):
     * this kernel has no netem, so added latency needs a process on the path. Each router gets a TUN device routed
     * to the other router's WAN address, with the same NAT as its WAN leg ({@code SNAT} to its WAN address, port
     * preserving or {@code --random-fully}), the same drop of unsolicited inbound connections and a {@code tc tbf}
     * of {@code rate}. Close the result to stop the line (its devices go with it).
     */
    AutoCloseable delayLine(Cloud a, Cloud b, String rate, Duration addedRtt) throws IOException {
        String tunA = prefix + "t" + a.n();
        String tunB = prefix + "t" + b.n();
        Process line = new ProcessBuilder("python3", delayLineScript().toString(), tunA, tunB,
                Long.toString(addedRtt.toMillis())).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            String ready = new BufferedReader(new InputStreamReader(line.getInputStream(),
                    StandardCharsets.UTF_8)).readLine();
            if (!"ready".equals(ready)) {
                throw new IOException("delay line did not start: " + ready);
            }
            for (Cloud[] end : new Cloud[][] {{a, b}, {b, a}}) {
                Cloud self = end[0];
                String tun = self == a ? tunA : tunB;
                String r = self.router();
                // a TUN device keeps its file descriptor when moved, so the line (in this namespace) still feeds it
                sh("ip", "link", "set", tun, "netns", r);
                // the device's ring toward the line holds 500 packets by default: 30 ms at 200 Mbit/s, less than a
                // loaded machine may leave the line unscheduled, so it would drop where the link would not
                sh("ip", "netns", "exec", r, "ip", "link", "set", tun, "txqueuelen", "20000", "up");
                sh("ip", "netns", "exec", r, "ip", "route", "add", routerIp(end[1].n()) + "/32", "dev", tun);
                List<String> nat = new ArrayList<>(List.of("ip", "netns", "exec", r, "iptables", "-t", "nat", "-A",
                        "POSTROUTING", "-o", tun, "-j", "SNAT", "--to-source", routerIp(self.n())));
                if (self.symmetric()) {
                    nat.add("--random-fully");
                }
                sh(nat.toArray(String[]::new));
                sh("ip", "netns", "exec", r, "iptables", "-A", "INPUT", "-i", tun, "-m", "conntrack", "--ctstate",
                        "NEW", "-j", "DROP");
                sh("ip", "netns", "exec", r, "tc", "qdisc", "add", "dev", tun, "root", "tbf", "rate", rate, "burst",
                        "256kb", "latency", "200ms");
            }
        } catch (IOException | RuntimeException e) {
            line.destroyForcibly();
            throw e;
        }
        return () -> {
            for (Cloud c : List.of(a, b)) {
                String tun = c == a ? tunA : tunB;
                // packets the shaping or a full ring dropped on the way into the line, for the benchmark's reading
                System.err.println("delay line " + tun + ": " + run(List.of("ip", "netns", "exec", c.router(), "tc", "-s",
                        "qdisc", "show", "dev", tun)).out().replace('\n', ' ') + " | " + run(List.of("ip", "netns",
                        "exec", c.router(), "ip", "-s", "link", "show", tun)).out().replace('\n', ' '));
            }
            line.getOutputStream().close(); // the line exits when its stdin closes
            if (!line.waitFor(10, TimeUnit.SECONDS)) {
                line.destroyForcibly();
            }
        };
    }

    /** {@code scripts/bench/delay-line.py} of this checkout, from the repository root or a module directory. */
    private static Path delayLineScript() throws IOException {
        for (String base : List.of(".", "..")) {
            Path p = Path.of(base, "scripts", "bench", "delay-line.py");
            if (Files.isRegularFile(p)) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IOException("scripts/bench/delay-line.py not found from " + Path.of("").toAbsolutePath());
    }

    /** Deletes cloud {@code c}'s namespaces (with them its links, NAT state and shaping). */
    void remove(Cloud c) {
        for (String ns : List.of(c.node(), c.router())) {
            delete(ns);
        }
    }

    private void delete(String ns) {
        try {
            sh("ip", "netns", "del", ns);
            namespaces.remove(ns);
        } catch (IOException e) {
            System.err.println("cleanup: " + e.getMessage());
        }
    }

    private String ns(String name) throws IOException {
        String n = prefix + name;
        sh("ip", "netns", "add", n);
        namespaces.add(n);
        sh("ip", "netns", "exec", n, "ip", "link", "set", "lo", "up");
        return n;
    }

    static void sh(String... cmd) throws IOException {
        Result r = run(List.of(cmd));
        if (!r.ok()) {
            throw new IOException(String.join(" ", cmd) + " failed (" + r.code() + "): " + r.out());
        }
    }

    static Result run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, out + " (timed out)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return new Result(p.exitValue(), out);
    }

    @Override
    public void close() {
        for (int i = namespaces.size() - 1; i >= 0; i--) {
            delete(namespaces.get(i));
        }
    }
}
