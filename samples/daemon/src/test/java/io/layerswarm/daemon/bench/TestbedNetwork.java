package io.layerswarm.daemon.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The testbed's shaped network, built with network namespaces, veth pairs, bridges and {@code tc tbf}:
 *
 * <pre>
 *  worker netns TAG-wC-I (10.Y.C.(10+I)) ──veth, tbf LAN rate both ways──▶ bridge br0 in TAG-cC (10.Y.C.1, router)
 *  TAG-cA ──TUN TAGdAB ⇄ delay line ⇄ TUN TAGdBA, tbf inter-cluster rate both ways──▶ TAG-cB   (every pair)
 *         (without added round trip: a veth pair xB / xA, tbf both ways)
 *  TAG-cC ──veth TAGuC, not shaped──▶ root netns: 10.Y.255.1, where the registry's UplinkEmulator listens
 * </pre>
 *
 * This kernel has no netem, so the round trip between two clusters is added by a process on the path:
 * {@code scripts/bench/delay-line.py} holds every IP packet between the two routers' TUN devices for half
 * the round trip (the NAT benchmarks' line); its devices are created in the root namespace and moved into
 * the routers, which route the other cluster's subnet over them.
 *
 * A worker's node and containerd run in its namespace ({@link #exec}); peers reach each other only over
 * the shaped links, the registry only through the uplink emulator (which does its rate and round trip).
 * The root namespace gets one veth end per cluster (named {@code TAGuC}), the registry address and the routes to the cluster
 * subnets over them; nothing else outside the run's namespaces changes. {@link #close()} deletes it all.
 */
final class TestbedNetwork implements AutoCloseable {
    /** The address the registry's uplink listens on, in the root namespace, reachable from every worker. */
    private static final int REGISTRY_HOST = 255;
    private static final Pattern TAG = Pattern.compile("[a-z][a-z0-9]{0,8}");

    private final String tag;
    private final int octet;
    private final int clusters;
    private final int workers;
    private final List<String> namespaces = new ArrayList<>();
    /** The delay lines between clusters (their TUN devices go away with them). */
    private final List<Process> lines = new ArrayList<>();
    /** Veths made in the root namespace (their other ends in a cluster's). */
    private final List<String> rootLinks = new ArrayList<>();

    private TestbedNetwork(String tag, int octet, int clusters, int workers) {
        this.tag = tag;
        this.octet = octet;
        this.clusters = clusters;
        this.workers = workers;
    }

    /**
     * Builds the network; on failure deletes what it made.
     *
     * @param tag names every namespace ({@code TAG-...}) and interface ({@code TAG...}): 1-9 lower-case
     *            letters and digits, unique per run
     * @param lanMbps rate of each worker's link to its cluster's bridge, each way
     * @param interMbps rate of the link between two clusters, each way
     * @param interRttMs round trip added between two clusters (0: none, a plain veth)
     * @param delayLine {@code scripts/bench/delay-line.py}, needed when {@code interRttMs > 0}
     */
    static TestbedNetwork create(String tag, int clusters, int workers, double lanMbps, double interMbps,
                                 int interRttMs, Path delayLine) throws IOException, InterruptedException {
        int octet = freeOctet(run(List.of("ip", "-4", "route", "show", "table", "all")), defaultOctet(tag));
        TestbedNetwork net = plan(tag, octet, clusters, workers);
        boolean ok = false;
        try {
            if (interRttMs > 0) {
                for (int a = 0; a < clusters; a++) {
                    for (int b = a + 1; b < clusters; b++) {
                        net.lines.add(startLine(delayLine, net.lineDevice(a, b), net.lineDevice(b, a), interRttMs));
                    }
                }
            }
            for (List<String> cmd : net.setupCommands(lanMbps, interMbps, interRttMs)) {
                if (cmd.size() == 4 && cmd.get(1).equals("netns") && cmd.get(2).equals("add")) {
                    net.namespaces.add(cmd.get(3)); // ip netns add NAME: deleted by close()
                }
                run(cmd);
                if (cmd.size() > 4 && cmd.subList(0, 4).equals(List.of("ip", "link", "add", "name"))
                        && !cmd.contains("netns")) {
                    net.rootLinks.add(cmd.get(4));
                }
            }
            ok = true;
            return net;
        } finally {
            if (!ok) {
                net.close();
            }
        }
    }

    /** The network in 10.{@code octet}.0.0/16, not built: names, addresses and {@link #setupCommands}. */
    static TestbedNetwork plan(String tag, int octet, int clusters, int workers) {
        if (!validTag(tag) || octet < 1 || octet > 254 || clusters < 1 || workers < 1 || clusters > 16
                || workers > 16) {
            throw new IllegalArgumentException("tag " + tag + ", 10." + octet + ", " + clusters + " clusters x "
                    + workers + " workers");
        }
        return new TestbedNetwork(tag, octet, clusters, workers);
    }

    /** Whether {@code tag} can name a run's namespaces and interfaces (interface names have 15 bytes). */
    static boolean validTag(String tag) {
        return tag != null && TAG.matcher(tag).matches();
    }

    /** The second octet of the run's 10.Y.0.0/16 by default, from the tag (100..199). */
    static int defaultOctet(String tag) {
        return 100 + Math.floorMod(tag.hashCode(), 100);
    }

    /**
     * The first second octet from {@code start} on (100..199, wrapping) with no route in {@code ipRoutes}
     * ({@code ip -4 route} output) inside its 10.Y.0.0/16.
     */
    static int freeOctet(String ipRoutes, int start) {
        java.util.Set<Integer> used = new java.util.HashSet<>();
        Matcher m = Pattern.compile("(?m)(?:^|\\s)10\\.(\\d{1,3})\\.").matcher(ipRoutes);
        while (m.find()) {
            used.add(Integer.parseInt(m.group(1)));
        }
        for (int k = 0; k < 100; k++) {
            int y = 100 + Math.floorMod(start - 100 + k, 100);
            if (!used.contains(y)) {
                return y;
            }
        }
        throw new IllegalStateException("no free 10.Y.0.0/16 for the testbed network (Y in 100..199)");
    }

    /** Worker {@code i} of cluster {@code c}'s network namespace. */
    String namespace(int c, int i) {
        return tag + "-w" + c + "-" + i;
    }

    /** Worker {@code i} of cluster {@code c}'s address. */
    String address(int c, int i) {
        return "10." + octet + "." + c + "." + (10 + i);
    }

    /** Where the registry's uplink listens (root namespace). */
    String registryAddress() {
        return "10." + octet + "." + REGISTRY_HOST + ".1";
    }

    /** The command prefix that runs a program in worker {@code i} of cluster {@code c}'s namespace. */
    List<String> exec(int c, int i) {
        return List.of("nsenter", "--net=/run/netns/" + namespace(c, i), "--");
    }

    /**
     * Starts {@code scripts/bench/delay-line.py} with its two TUN devices in this (the root) namespace; returns
     * once it has made them.
     */
    private static Process startLine(Path script, String tunA, String tunB, int rttMs) throws IOException {
        if (script == null || !Files.isRegularFile(script)) {
            throw new IOException("delay line script not found: " + script);
        }
        Process line = new ProcessBuilder("python3", script.toString(), tunA, tunB, Integer.toString(rttMs))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String ready = new BufferedReader(new InputStreamReader(line.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
        if (!"ready".equals(ready)) {
            line.destroyForcibly();
            throw new IOException("delay line " + tunA + "/" + tunB + " did not start: " + ready);
        }
        return line;
    }

    /** The TUN device of the delay line from cluster {@code from} to cluster {@code to}, in {@code from}'s router. */
    String lineDevice(int from, int to) {
        return tag + "d" + from + to;
    }

    /**
     * The {@code ip} / {@code tc} / {@code sysctl} commands that build the network, in order; with an added
     * round trip between clusters they expect the delay lines' TUN devices ({@link #lineDevice}) in the root
     * namespace.
     */
    List<List<String>> setupCommands(double lanMbps, double interMbps, int interRttMs) {
        List<List<String>> cmds = new ArrayList<>();
        String net = "10." + octet + ".";
        for (int c = 0; c < clusters; c++) {
            String cn = cluster(c);
            cmds.add(List.of("ip", "netns", "add", cn));
            cmds.add(in(cn, "ip", "link", "set", "lo", "up"));
            cmds.add(in(cn, "sysctl", "-qw", "net.ipv4.ip_forward=1"));
            cmds.add(in(cn, "ip", "link", "add", "br0", "type", "bridge"));
            cmds.add(in(cn, "ip", "addr", "add", net + c + ".1/24", "dev", "br0"));
            cmds.add(in(cn, "ip", "link", "set", "br0", "up"));
            // the registry path: a veth to the root namespace, not shaped (UplinkEmulator does rate and delay)
            String up = tag + "u" + c;
            String upNet = net + (200 + c) + ".";
            cmds.add(List.of("ip", "link", "add", "name", up, "type", "veth", "peer", "name", "uplink", "netns", cn));
            cmds.add(List.of("ip", "addr", "add", upNet + "1/30", "dev", up));
            cmds.add(List.of("ip", "link", "set", up, "up"));
            cmds.add(in(cn, "ip", "addr", "add", upNet + "2/30", "dev", "uplink"));
            cmds.add(in(cn, "ip", "link", "set", "uplink", "up"));
            cmds.add(in(cn, "ip", "route", "add", registryAddress() + "/32", "via", upNet + "1"));
            cmds.add(List.of("ip", "route", "add", net + c + ".0/24", "via", upNet + "2"));
            if (c == 0) {
                cmds.add(List.of("ip", "addr", "add", registryAddress() + "/32", "dev", up));
            }
            for (int i = 0; i < workers; i++) {
                String wn = namespace(c, i);
                String dev = tag + "w" + c + "x" + i;
                String port = "w" + i;
                cmds.add(List.of("ip", "netns", "add", wn));
                cmds.add(in(wn, "ip", "link", "set", "lo", "up"));
                cmds.add(List.of("ip", "link", "add", "name", dev, "netns", wn, "type", "veth", "peer", "name", port,
                        "netns", cn));
                cmds.add(in(wn, "ip", "addr", "add", address(c, i) + "/24", "dev", dev));
                cmds.add(in(wn, "ip", "link", "set", dev, "up"));
                cmds.add(in(wn, "ip", "route", "add", "default", "via", net + c + ".1"));
                cmds.add(in(cn, "ip", "link", "set", port, "master", "br0"));
                cmds.add(in(cn, "ip", "link", "set", port, "up"));
                cmds.add(tbf(wn, dev, lanMbps));
                cmds.add(tbf(cn, port, lanMbps));
            }
        }
        int pair = 0;
        for (int a = 0; a < clusters; a++) {
            for (int b = a + 1; b < clusters; b++, pair++) {
                if (interRttMs > 0) {
                    // a TUN device keeps the line's file descriptor when moved into the router
                    for (int[] end : new int[][] {{a, b}, {b, a}}) {
                        String r = cluster(end[0]);
                        String tun = lineDevice(end[0], end[1]);
                        cmds.add(List.of("ip", "link", "set", tun, "netns", r));
                        // the ring toward the line holds 500 packets by default, less than a loaded machine may
                        // leave the line unscheduled: it would drop where a link would not
                        cmds.add(in(r, "ip", "link", "set", tun, "txqueuelen", "20000", "up"));
                        cmds.add(in(r, "ip", "route", "add", net + end[1] + ".0/24", "dev", tun));
                        cmds.add(tbf(r, tun, interMbps));
                    }
                } else {
                    veth(cmds, pair, a, b, interMbps);
                }
            }
        }
        return cmds;
    }

    /** Clusters {@code a} and {@code b}'s routers joined by a veth pair shaped both ways, no added delay. */
    private void veth(List<List<String>> cmds, int pair, int a, int b, double interMbps) {
        String an = cluster(a);
        String bn = cluster(b);
        String net = "10." + octet + ".";
        String pairNet = net + "254.";
        String aIp = pairNet + (4 * pair + 1);
        String bIp = pairNet + (4 * pair + 2);
        cmds.add(List.of("ip", "link", "add", "name", "x" + b, "netns", an, "type", "veth", "peer", "name",
                "x" + a, "netns", bn));
        cmds.add(in(an, "ip", "addr", "add", aIp + "/30", "dev", "x" + b));
        cmds.add(in(an, "ip", "link", "set", "x" + b, "up"));
        cmds.add(in(bn, "ip", "addr", "add", bIp + "/30", "dev", "x" + a));
        cmds.add(in(bn, "ip", "link", "set", "x" + a, "up"));
        cmds.add(in(an, "ip", "route", "add", net + b + ".0/24", "via", bIp));
        cmds.add(in(bn, "ip", "route", "add", net + a + ".0/24", "via", aIp));
        cmds.add(tbf(an, "x" + b, interMbps));
        cmds.add(tbf(bn, "x" + a, interMbps));
    }

    private String cluster(int c) {
        return tag + "-c" + c;
    }

    private static List<String> in(String ns, String... cmd) {
        List<String> l = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        l.addAll(List.of(cmd));
        return l;
    }

    /**
     * A token bucket on {@code dev}'s egress: the rate, a burst of 256 KB (at least rate/HZ at 400 Mbit/s and
     * HZ 250) and at most 50 ms of queue.
     */
    static List<String> tbf(String ns, String dev, double mbps) {
        return in(ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate",
                String.format(Locale.ROOT, "%.0fkbit", mbps * 1000), "burst", "256kb", "latency", "50ms");
    }

    /** Deletes the namespaces (with them their veths and bridges), the root ends of the uplinks, the delay lines. */
    @Override
    public void close() {
        for (Process line : lines) {
            try {
                line.getOutputStream().close(); // the line exits when its stdin closes
                if (!line.waitFor(10, TimeUnit.SECONDS)) {
                    line.destroyForcibly();
                }
            } catch (IOException e) {
                line.destroyForcibly();
            } catch (InterruptedException e) {
                line.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        lines.clear();
        for (String l : rootLinks) {
            quietly(List.of("ip", "link", "del", l));
        }
        rootLinks.clear();
        for (int k = namespaces.size() - 1; k >= 0; k--) {
            quietly(List.of("ip", "netns", "del", namespaces.get(k)));
        }
        namespaces.clear();
    }

    private static void quietly(List<String> cmd) {
        try {
            run(cmd);
        } catch (IOException e) {
            System.err.println("cleanup: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs {@code cmd} (30 s at most); its output, or an IOException with it if it fails. */
    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": timed out");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + text.trim());
        }
        return text;
    }
}
